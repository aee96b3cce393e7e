"""p-median on classic-style graphs and LSCP at city scale: coverage.siting against plain HiGHS.

p-median instances are made the way the classic OR-Library set (pmed1-40)
was: ``n`` nodes, ``n^2 / 50`` undirected edges (12,800 for 800 nodes,
16,200 for 900) with integer lengths drawn uniformly from 1-100, a random
spanning tree first so the graph is connected, every node a demand point of
weight 1 and a candidate, costs = all-pairs shortest-path lengths (scipy).
The published files are not used; the generator is seeded. ``p`` is 5, 10
and n/10 as in pmed35-40 (800: 5, 10, 80; 900: 5, 10, 90), and n/5.

LSCP instances: every populated cell of a generated city (as in
``bench_siting_city.py``, about 4,000 and 7,000 cells) is a demand point and
a candidate; the radius reaches a given median number of cells (20-60).

Each instance is solved by ours (``siting.p_median`` / ``siting.lscp`` with
``time_limit_s=L``) and by the textbook MILP handed to HiGHS as is (p-median:
the assignment formulation, one binary per candidate and one assignment
variable per node pair; LSCP: one binary per candidate, one cover row per
cell) with HiGHS's own time limit ``L``, in a child process stopped after
``L + 120`` s of wall time. Per instance the script prints the objective,
the gap each method reports against its own bound (``proven`` when 0), and
the wall time of the whole call including building the model.

Run ``python benchmarks/bench_siting_pmed.py`` (about 20 minutes;
``--quick`` for two instances and a 10 s limit). The last lines are
``ratio <name> <peer seconds / our seconds>``; they compare wall times of
calls stopped by the same limit, not equal work.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_siting import limit_parser, plain_highs, print_ratios, run_bounded  # noqa: E402
from bench_siting_city import generated_city, radius_s, sparse_times  # noqa: E402
from coverage import siting  # noqa: E402


def pmed_costs(n: int, seed: int) -> np.ndarray:
    """All-pairs shortest paths of a connected random graph made like OR-Library's pmed."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    extra = n * n // 50 - (n - 1)
    a = np.concatenate([order[1:], np.zeros(0, int)])
    b = order[rng.integers(0, np.arange(1, n))]            # tree: each node to an earlier one
    u, v = rng.integers(0, n, 2 * extra), rng.integers(0, n, 2 * extra)
    ok = u != v
    a = np.concatenate([a, u[ok][:extra]])
    b = np.concatenate([b, v[ok][:extra]])
    length = rng.integers(1, 101, a.size).astype(float)
    M = np.full((n, n), np.inf)
    np.minimum.at(M, (a, b), length)                        # a repeated edge keeps its shortest
    M = np.minimum(M, M.T)
    r, c = np.nonzero(np.isfinite(M))
    return shortest_path(sp.csr_matrix((M[r, c], (r, c)), shape=(n, n)), directed=False)


def _plain_pmed(C: np.ndarray, p: int, limit: float) -> dict:
    t = time.perf_counter()
    n, m = C.shape
    k = n * m
    rows = np.repeat(np.arange(n), m)
    cols = np.tile(np.arange(m), n)
    assign = sp.csr_matrix((np.ones(k), (rows, m + np.arange(k))), shape=(n, m + k))
    link = sp.csr_matrix((np.concatenate([np.ones(k), -np.ones(k)]),
                          (np.concatenate([np.arange(k), np.arange(k)]),
                           np.concatenate([m + np.arange(k), cols]))), shape=(k, m + k))
    count = sp.csr_matrix(np.concatenate([np.ones(m), np.zeros(k)])[None, :])
    A = sp.vstack([assign, link, count])
    lo = np.concatenate([np.ones(n), np.full(k, -np.inf), [p]])
    hi = np.concatenate([np.ones(n), np.zeros(k), [p]])
    c = np.concatenate([np.zeros(m), C.ravel()])
    x, bound = plain_highs(c, A, lo, hi, np.arange(m + k) < m, limit)
    wall = time.perf_counter() - t
    if x is None:
        return {"value": np.nan, "bound": bound, "wall": wall}
    sites = np.flatnonzero(x[:m] > 0.5)
    return {"value": float(C[:, sites].min(axis=1).sum()), "bound": bound, "wall": wall}


def _plain_lscp(T: sp.csr_matrix, limit: float) -> dict:
    t = time.perf_counter()
    A = T.copy()
    A.data = np.ones_like(A.data)
    n, m = A.shape
    x, bound = plain_highs(np.ones(m), A, np.ones(n), np.full(n, np.inf), np.ones(m, bool), limit)
    wall = time.perf_counter() - t
    if x is None:
        return {"value": np.nan, "bound": bound, "wall": wall}
    sites = np.flatnonzero(x > 0.5)
    assert np.all(np.diff(T[:, sites].indptr) > 0)
    return {"value": float(sites.size), "bound": bound, "wall": wall}


def plain(kind: str, data, p: int | None, limit: float) -> dict:
    """The peer in a child process, stopped after ``limit + 120`` s of wall time."""
    target, args = (_plain_pmed, (data, p, limit)) if kind == "pmed" else \
        (_plain_lscp, (data, limit))
    waited, out = run_bounded(target, args, limit + 120.0)
    return out if out is not None else {"value": np.nan, "bound": np.nan, "wall": waited}


def ours_pmed(C: np.ndarray, p: int, limit: float) -> dict:
    t = time.perf_counter()
    r = siting.p_median(C, np.ones(C.shape[0]), p, time_limit_s=limit)
    wall = time.perf_counter() - t
    assert r.objective == C[:, r.new_sites].min(axis=1).sum()
    return {"value": r.objective, "bound": r.bound, "wall": wall, "solver": r.solver}


def ours_lscp(T: sp.csr_matrix, w: np.ndarray, thr: float, limit: float) -> dict:
    t = time.perf_counter()
    r = siting.lscp(T, w, threshold_s=thr, time_limit_s=limit)
    wall = time.perf_counter() - t
    assert np.all(np.diff(T[:, r.new_sites].indptr) > 0)
    return {"value": r.objective, "bound": r.bound, "wall": wall, "solver": r.solver}


def gap_text(r: dict) -> str:
    if not np.isfinite(r["value"]):
        return "no answer"
    if not np.isfinite(r["bound"]):
        return "no bound"
    gap = abs(r["value"] - r["bound"]) / r["value"]
    return "proven" if gap <= 1e-6 else f"gap {gap:.2%}"


def main(argv: list[str] | None = None) -> int:
    ap = limit_parser(__doc__.splitlines()[0], quick_help="two instances, 10 s limit", peer_help="skip the plain HiGHS MILP")
    args = ap.parse_args(argv)
    limit = args.time_limit or (10.0 if args.quick else 60.0)
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"time limit {limit:g} s")
    if args.quick:
        pmed = [(800, 80)]
        lscp_cases = [(4000, 60)]
    else:
        pmed = [(800, 5), (800, 10), (800, 80), (800, 160),
                (900, 5), (900, 10), (900, 90), (900, 180)]
        lscp_cases = [(4000, 20), (4000, 60), (7000, 40)]
    ratios: list[tuple[str, float]] = []
    rows: list[str] = []
    costs: dict[int, np.ndarray] = {}
    for n, p in pmed:
        if n not in costs:
            costs[n] = pmed_costs(n, seed=n)
        C = costs[n]
        name = f"pmed_n{n}_p{p}"
        o = ours_pmed(C, p, limit)
        h = plain("pmed", C, p, limit) if not args.no_peer else None
        rows.append(_row(name, n, p, o, h))
        print(rows[-1], flush=True)
        if h is not None:
            ratios.append((f"{name}_vs_highs_plain", h["wall"] / o["wall"]))
    for cells, nb in lscp_cases:
        xy, w = generated_city(cells)
        thr = radius_s(xy, nb)
        T = sparse_times(xy, thr)
        name = f"lscp_city{cells}_nb{nb}"
        o = ours_lscp(T, w, thr, limit)
        h = plain("lscp", T, None, limit) if not args.no_peer else None
        rows.append(_row(name, len(xy), None, o, h))
        print(rows[-1], flush=True)
        if h is not None:
            ratios.append((f"{name}_vs_highs_plain", h["wall"] / o["wall"]))
    print("\n| instance | n | p | ours: objective, proven/gap, wall | plain HiGHS: objective, "
          "gap, wall |\n| --- | --- | --- | --- | --- |")
    for r in rows:
        print(r)
    print(f"\nload average at end: {os.getloadavg()[0]:.1f}")
    print_ratios(ratios)
    return 0


def _row(name: str, n: int, p: int | None, o: dict, h: dict | None) -> str:
    ours = f"{o['value']:,.0f}, {gap_text(o)}, {o['wall']:.1f} s"
    peer = "—" if h is None else (
        f"{h['value']:,.0f}, {gap_text(h)}, {h['wall']:.1f} s" if np.isfinite(h["value"])
        else f"no answer, {h['wall']:.1f} s")
    return f"| {name} | {n:,} | {p if p is not None else '—'} | {ours} | {peer} |"


if __name__ == "__main__":
    raise SystemExit(main())
