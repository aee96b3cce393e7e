"""City-scale maximal covering: coverage.siting against spopt + CBC and a plain HiGHS MILP.

Every populated cell is both a demand point and a candidate site; travel
time is the straight-line distance times a 1.3 detour factor at walking
speed (5 km/h), and the service radius is chosen so that a site reaches a
given median number of neighbouring cells.

Instances:

* the embedded central-Chengdu population grid (``data/chengdu/
  population_grid.gpkg``, 200 m cells);
* a generated city of 200 m cells with several centres and log-normal noise
  in the density, 4,000 and 7,000 populated cells.

Per instance and method the script prints the covered share, the gap the
method reports against its own bound (for a method without a bound: "no
bound") and the wall time of the whole call; then how far each answer is
below the best one any method found. All methods get the same time limit:

* ours: ``siting.mclp(..., time_limit_s=L)``;
* a plain HiGHS MILP of the textbook model (one binary per candidate, one
  coverage variable per demand cell, no reductions) with HiGHS's own time
  limit ``L``;
* spopt ``MCLP.from_cost_matrix`` solved by PuLP's CBC with ``timeLimit=L``
  (in a child process, stopped after ``--peer-wall-limit`` seconds).

Targets checked per instance: ours within 0.5 % of the best answer found, in
at most ``L`` seconds, with a reported gap of at most 2 %.

Run ``python benchmarks/bench_siting_city.py`` (``--quick`` for two small
instances and a 10 s limit). The last lines are ``ratio <name> <peer
seconds / our seconds>``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_siting import limit_parser, plain_highs, print_ratios, run_bounded  # noqa: E402
from coverage import siting  # noqa: E402

SPEED_MS = 5000 / 3600
DETOUR = 1.3
CELL_M = 200.0


def chengdu_cells() -> tuple[np.ndarray, np.ndarray]:
    """Centres (metres) and population of the populated embedded Chengdu cells."""
    import geopandas as gpd

    g = gpd.read_file(ROOT / "data" / "chengdu" / "population_grid.gpkg")
    g = g[g["pop"] > 0]
    return g[["x", "y"]].to_numpy(float), g["pop"].to_numpy(float)


def generated_city(n_cells: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """About ``n_cells`` populated 200 m cells around six centres of varying size."""
    rng = np.random.default_rng(seed)
    share = 0.62
    side = CELL_M * np.sqrt(n_cells / share)
    k = int(side // CELL_M)
    gx, gy = np.meshgrid((np.arange(k) + 0.5) * CELL_M, (np.arange(k) + 0.5) * CELL_M)
    xy = np.column_stack([gx.ravel(), gy.ravel()])
    centres = rng.uniform(0.15 * side, 0.85 * side, (6, 2))
    scale = rng.uniform(0.08, 0.22, 6) * side
    mass = rng.uniform(0.4, 1.0, 6)
    dens = sum(mm * np.exp(-((xy - c) ** 2).sum(1) / (2 * s * s))
               for c, s, mm in zip(centres, scale, mass))
    dens = dens * rng.lognormal(0.0, 0.6, dens.size)
    keep = dens > np.quantile(dens, 1 - share)
    pop = np.round(dens[keep] / dens[keep].mean() * 450.0)
    return xy[keep], pop


def radius_s(xy: np.ndarray, neighbours: int) -> float:
    """Walking time reaching the median cell's ``neighbours``-th nearest cell."""
    d, _ = cKDTree(xy).query(xy, k=neighbours)
    return float(np.median(d[:, -1])) * DETOUR / SPEED_MS + 1.0


def sparse_times(xy: np.ndarray, max_s: float) -> sp.csr_matrix:
    """Cell x cell walking times within ``max_s``; zero on the diagonal (stored)."""
    radius = max_s * SPEED_MS / DETOUR
    D = cKDTree(xy).sparse_distance_matrix(cKDTree(xy), radius, output_type="coo_matrix")
    n = len(xy)
    rows = np.concatenate([D.row, np.arange(n)])
    cols = np.concatenate([D.col, np.arange(n)])
    vals = np.concatenate([D.data * DETOUR / SPEED_MS, np.zeros(n)])
    off = rows != cols
    off[-n:] = True
    return sp.csr_matrix((vals[off], (rows[off], cols[off])), shape=(n, n))


def city_parser(description: str) -> argparse.ArgumentParser:
    """Options choosing a generated-city instance; the defaults are the hardest
    one of this script (6,966 cells, p = 100, 36 cells within the radius)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--cells", type=int, default=7000)
    ap.add_argument("--neighbours", type=int, default=40)
    ap.add_argument("-p", type=int, default=100)
    ap.add_argument("--limit", type=float, default=60.0)
    return ap


def city_instance(args) -> tuple[np.ndarray, np.ndarray, float, sp.csr_matrix]:
    """Cell centres, population, radius (s) and times of :func:`city_parser`'s instance."""
    xy, w = generated_city(args.cells)
    thr = radius_s(xy, args.neighbours)
    return xy, w, thr, sparse_times(xy, thr)


def covered(T: sp.csr_matrix, w: np.ndarray, sites: np.ndarray) -> float:
    """Population of the cells some site of ``sites`` reaches (every stored pair)."""
    if len(sites) == 0:
        return 0.0
    sub = T[:, np.asarray(sites, dtype=np.int64)]
    return float(w[np.diff(sub.indptr) > 0].sum())


def run_ours(T, w, thr, p, limit):
    t = time.perf_counter()
    r = siting.mclp(T, w, threshold_s=thr, p=p, time_limit_s=limit)
    wall = time.perf_counter() - t
    return {"value": float(r.objective), "gap": float(r.gap), "wall": wall,
            "sites": r.new_sites, "bound": float(r.bound), "solver": r.solver}


def run_plain_highs(T, w, thr, p, limit):
    """The textbook MCLP, every demand cell its own row, solved by HiGHS as is."""
    t = time.perf_counter()
    A = T.copy()
    A.data = np.ones_like(A.data)
    n, m = A.shape
    M = sp.hstack([-A, sp.identity(n, format="csr")]).tocsr()
    M = sp.vstack([M, sp.csr_matrix(np.concatenate([np.ones(m), np.zeros(n)])[None, :])])
    x, bound = plain_highs(np.concatenate([np.zeros(m), w]), M, np.full(n + 1, -np.inf),
                           np.concatenate([np.zeros(n), [p]]), np.arange(m + n) < m, limit,
                           maximize=True)
    wall = time.perf_counter() - t
    if x is None:
        return {"value": np.nan, "gap": np.inf, "wall": wall, "sites": np.zeros(0, int),
                "bound": np.nan, "solver": "highs"}
    sites = np.flatnonzero(x[:m] > 0.5)
    value = covered(T, w, sites)
    gap = abs(bound - value) / value if np.isfinite(bound) and value > 0 else np.inf
    return {"value": value, "gap": gap, "wall": wall, "sites": sites, "bound": bound,
            "solver": "highs"}


def _spopt(T, w, thr, p, limit) -> tuple[float, np.ndarray]:
    import pulp
    from spopt.locate import MCLP

    t = time.perf_counter()
    dense = np.full(T.shape, np.inf)
    coo = T.tocoo()
    dense[coo.row, coo.col] = coo.data
    model = MCLP.from_cost_matrix(dense, w, service_radius=thr, p_facilities=p)
    # the problem is solved directly: spopt's own solve() raises when CBC stops
    # at its time limit, and the best solution CBC found is what is compared
    model.problem.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=limit))
    sites = np.array([j for j, v in enumerate(model.fac_vars) if (v.value() or 0) > 0.5],
                     dtype=np.int64)
    return time.perf_counter() - t, sites


def run_spopt(T, w, thr, p, limit, wall_limit):
    """spopt + CBC in a child process, stopped after ``wall_limit`` seconds."""
    waited, out = run_bounded(_spopt, (T, w, thr, p, limit), wall_limit)
    if out is None:
        return {"value": np.nan, "gap": np.inf, "wall": waited, "sites": np.zeros(0, int),
                "bound": np.nan, "solver": "cbc"}
    wall, sites = out
    return {"value": covered(T, w, sites), "gap": np.inf, "wall": wall, "sites": sites,
            "bound": np.nan, "solver": "cbc"}


def main(argv: list[str] | None = None) -> int:
    ap = limit_parser(__doc__.splitlines()[0], quick_help="two small instances, 10 s limit", peer_help="skip spopt + CBC")
    ap.add_argument("--peer-wall-limit", type=float, default=600.0, metavar="S",
                    help="stop spopt + CBC after this many seconds of wall time")
    args = ap.parse_args(argv)
    limit = args.time_limit or (10.0 if args.quick else 60.0)
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    cities: dict[str, tuple[np.ndarray, np.ndarray]] = {"chengdu": chengdu_cells()}
    if args.quick:
        cities["city3000"] = generated_city(3000)
        cases = [("chengdu", 50, 20), ("city3000", 50, 30)]
    else:
        cities["city4000"] = generated_city(4000)
        cities["city7000"] = generated_city(7000)
        cases = [("chengdu", 50, 20), ("chengdu", 100, 20), ("city4000", 50, 40),
                 ("city7000", 100, 20), ("city7000", 100, 40), ("city7000", 50, 60)]
    ratios: list[tuple[str, float]] = []
    met = 0
    for city, p, nb in cases:
        xy, w = cities[city]
        thr = radius_s(xy, nb)
        T = sparse_times(xy, thr)
        name = f"{city}_p{p}_nb{nb}"
        print(f"\n{name}: {len(xy):,} cells = candidates, p={p}, radius {thr:.0f} s "
              f"({T.nnz / len(xy):.0f} cells reached on average), total population "
              f"{w.sum():,.0f}")
        res = {"ours": run_ours(T, w, thr, p, limit),
               "highs_plain": run_plain_highs(T, w, thr, p, limit)}
        if not args.no_peer:
            res["spopt_cbc"] = run_spopt(T, w, thr, p, limit, args.peer_wall_limit)
        best = max(r["value"] for r in res.values() if np.isfinite(r["value"]))
        for key, r in res.items():
            below = (best - r["value"]) / best if np.isfinite(r["value"]) else np.inf
            gap = f"gap {r['gap']:.2%}" if np.isfinite(r["gap"]) else "no bound"
            share = r["value"] / w.sum() if np.isfinite(r["value"]) else np.nan
            print(f"  {key:12s} covered {share:7.2%} ({r['value']:,.0f}), {gap}, "
                  f"{below:.3%} below best, wall {r['wall']:.1f} s")
        o = res["ours"]
        below = (best - o["value"]) / best
        ok = below <= 0.005 and o["wall"] <= limit and o["gap"] <= 0.02
        met += ok
        print(f"  targets (<=0.5 % below best, <= {limit:g} s, gap <= 2 %): "
              f"{'met' if ok else 'missed'} ({below:.3%}, {o['wall']:.1f} s, {o['gap']:.2%})")
        for key in ("highs_plain", "spopt_cbc"):
            if key in res:
                ratios.append((f"{name}_vs_{key}", res[key]["wall"] / o["wall"]))
    print(f"\ntargets met on {met} of {len(cases)} instances; load average at end: "
          f"{os.getloadavg()[0]:.1f}")
    print_ratios(ratios)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
