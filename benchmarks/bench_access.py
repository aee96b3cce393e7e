"""Accessibility engine vs. the osmnx + networkx approach, on the same data.

Comparisons (walking network, same graph, same cells, same facilities):

1. ``nearest_chengdu`` -- time from every 200 m cell of the embedded central
   Chengdu extract to its nearest of 15 facilities (graphs prepared
   beforehand on both sides; snapping included).
2. ``nearest_city`` -- the same on a generated city-sized street network
   (perturbed street grid, >= 200,000 nodes) with >= 500,000 population cells;
   ``nearest_city_snapped`` with the cells snapped to the network beforehand
   on both sides (one grid, many facility scenarios).
3. ``reach_city`` -- the sparse cell x candidate matrix of walking times
   within 15 minutes for 5,000 candidate sites on the generated network.
   networkx is timed on a sample of candidates and extrapolated linearly.

The peer is what a planner would otherwise write: an osmnx graph with a
``time_s`` edge attribute, ``osmnx.distance.nearest_nodes`` for snapping and
``networkx.multi_source_dijkstra_path_length`` /
``single_source_dijkstra_path_length(cutoff=...)`` for the searches.

Run ``python benchmarks/bench_access.py`` (full, a few minutes) or with
``--quick`` (smaller generated city).  The last lines are
``ratio <name> <peer seconds / our seconds>``.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from pathlib import Path

import networkx as nx
import numpy as np
import osmnx as ox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coverage import access as A  # noqa: E402
from coverage.geo import to_metric  # noqa: E402
from coverage.network import from_networkx, read_osm  # noqa: E402

CRS = "EPSG:32648"
WALK_MPS = 4.5 / 3.6


def timed(fn, *, repeat: int = 1, number: int = 1):
    """Best mean wall time per call over ``repeat`` rounds of ``number`` calls; last result.

    Garbage is collected before each round; the collector stays on while the
    calls run, as in normal use (for networkx it is part of the cost).
    """
    best, out = np.inf, None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        for _ in range(number):
            out = fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best, out


def timed_cpu(fn, *, repeat: int = 1):
    """Best wall time, best process CPU time (all threads) of ``repeat`` runs, last result."""
    wall, cpu, out = np.inf, np.inf, None
    for _ in range(repeat):
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu, out


def peak_mb(fn) -> float:
    """Peak traced Python/numpy allocation (MB) while running ``fn``."""
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


# ---------------------------------------------------------------------------
# peer: osmnx graph + networkx


def nx_graph_with_times(tg: A.TravelGraph) -> nx.MultiDiGraph:
    """The osmnx-style graph a user would have, with a ``time_s`` edge attribute."""
    return tg.to_networkx()


def peer_nearest(G: nx.MultiDiGraph, cells_xy: np.ndarray, fac_xy: np.ndarray) -> np.ndarray:
    cn, cd = ox.distance.nearest_nodes(G, cells_xy[:, 0], cells_xy[:, 1], return_dist=True)
    fn = ox.distance.nearest_nodes(G, fac_xy[:, 0], fac_xy[:, 1])
    dist = nx.multi_source_dijkstra_path_length(G, set(fn), weight="time_s")
    t = np.array([dist.get(n, np.nan) for n in cn]) + np.asarray(cd) / WALK_MPS
    return t


def peer_reach(G: nx.MultiDiGraph, cand_xy: np.ndarray, cells_xy: np.ndarray,
               threshold_s: float):
    """(cell, candidate, time) triples the way a user would build them with networkx."""
    cn, cd = ox.distance.nearest_nodes(G, cells_xy[:, 0], cells_xy[:, 1], return_dist=True)
    cd = np.asarray(cd) / WALK_MPS
    by_node: dict = {}
    for i, n in enumerate(cn):
        by_node.setdefault(n, []).append(i)
    sn, sd = ox.distance.nearest_nodes(G, cand_xy[:, 0], cand_xy[:, 1], return_dist=True)
    rows, cols, vals = [], [], []
    for j, (n, d0) in enumerate(zip(sn, np.asarray(sd) / WALK_MPS)):
        dist = nx.single_source_dijkstra_path_length(G, n, cutoff=threshold_s - d0,
                                                     weight="time_s")
        for node, d in dist.items():
            for i in by_node.get(node, ()):
                t = d + d0 + cd[i]
                if t <= threshold_s:
                    rows.append(i)
                    cols.append(j)
                    vals.append(t)
    return np.array(rows), np.array(cols), np.array(vals)


# ---------------------------------------------------------------------------
# data


def chengdu_case(rng):
    net = read_osm(ROOT / "data" / "chengdu" / "chengdu_core_2018.osm.pbf")
    (x0, x1), (y0, y1) = to_metric([104.042, 104.130], [30.653, 30.728], CRS)
    xs, ys = np.meshgrid(np.arange(x0 + 100, x1, 200), np.arange(y0 + 100, y1, 200))
    cells = np.c_[xs.ravel(), ys.ravel()]
    fac = cells[rng.choice(len(cells), 15, replace=False)] + rng.uniform(-90, 90, (15, 2))
    return net, cells, fac


def city_case(rng, side: int, n_cells: int, spacing: float = 100.0):
    """Perturbed street grid of side x side nodes, some blocks merged."""
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = 400_000 + jj.ravel() * spacing + rng.uniform(-25, 25, side * side)
    y = 3_380_000 + ii.ravel() * spacing + rng.uniform(-25, 25, side * side)
    idx = (ii * side + jj).ravel()
    right = idx[(jj < side - 1).ravel()]
    up = idx[(ii < side - 1).ravel()]
    u = np.r_[right, up]
    v = np.r_[right + 1, up + side]
    keep = rng.random(u.size) > 0.08  # 8 % of street segments missing
    u, v = u[keep], v[keep]
    length = np.hypot(x[u] - x[v], y[u] - y[v]) * rng.uniform(1.0, 1.15, u.size)
    G = nx.DiGraph(crs=CRS)
    G.add_nodes_from((int(k), {"x": float(x[k]), "y": float(y[k])}) for k in range(x.size))
    G.add_edges_from((int(a), int(b), {"length": float(d)}) for a, b, d in zip(u, v, length))
    G.add_edges_from((int(b), int(a), {"length": float(d)}) for a, b, d in zip(u, v, length))
    W = (side - 1) * spacing
    cells = np.c_[400_000 + rng.uniform(0, W, n_cells), 3_380_000 + rng.uniform(0, W, n_cells)]
    return G, cells


# ---------------------------------------------------------------------------


def peer_prep(G: nx.MultiDiGraph, kmh: float = 4.5) -> None:
    """What a user does to get walking times on an osmnx graph."""
    mps = kmh / 3.6
    nx.set_edge_attributes(G, {(a, b, k): d["length"] / mps
                               for a, b, k, d in G.edges(keys=True, data=True)}, "time_s")


def peer_nearest_snapped(G, cn, cd, fn) -> np.ndarray:
    dist = nx.multi_source_dijkstra_path_length(G, set(fn), weight="time_s")
    return np.array([dist.get(n, np.nan) for n in cn]) + cd / WALK_MPS


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller generated city")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(42)
    ratios: list[tuple[str, float]] = []

    # 1. embedded Chengdu ---------------------------------------------------
    net, cells, fac = chengdu_case(rng)
    t_tg, tg = timed(lambda: A.travel_graph(net, "walk"), repeat=5)
    G = nx_graph_with_times(tg)
    t_pp, _ = timed(lambda: peer_prep(G), repeat=3)
    print(f"[1] Chengdu walk network: {G.number_of_nodes():,} nodes, "
          f"{G.number_of_edges():,} edges; {len(cells):,} cells, {len(fac)} facilities")
    print(f"    graph preparation (not in the ratio): ours travel_graph {t_tg * 1e3:.1f} ms, "
          f"peer travel-time edge attributes {t_pp * 1e3:.1f} ms")

    def ours1():
        return A.nearest_facility(tg, cells, fac)["time_s"].to_numpy()

    # rounds of about 50 ms on both sides, and single calls right after a full
    # garbage collection (every cache cold) for comparison
    t_ours, r_ours = timed(ours1, repeat=5, number=25)
    t_peer, r_peer = timed(lambda: peer_nearest(G, cells, fac), repeat=5, number=2)
    c_ours, _ = timed(ours1, repeat=20)
    c_peer, _ = timed(lambda: peer_nearest(G, cells, fac), repeat=5)
    ok = np.isfinite(r_ours)
    # the peer starts at the facilities' nodes (networkx has no per-source offset),
    # so it is shorter by at most the longest facility off-network leg
    gap = np.nanmax(np.abs(r_peer[ok] - r_ours[ok]))
    m_ours, m_peer = peak_mb(ours1), peak_mb(lambda: peer_nearest(G, cells, fac))
    print(f"    ours {t_ours * 1e3:.1f} ms (peak {m_ours:.1f} MB) | osmnx+networkx "
          f"{t_peer * 1e3:.1f} ms (peak {m_peer:.1f} MB) | max |difference| {gap:.0f} s "
          "(the peer leaves out the facility's off-network leg)")
    print(f"    single calls after a full garbage collection: ours {c_ours * 1e3:.1f} ms | "
          f"osmnx+networkx {c_peer * 1e3:.1f} ms | ratio {c_peer / c_ours:.1f}")
    ratios.append(("nearest_chengdu", t_peer / t_ours))

    # 2. generated city -----------------------------------------------------
    side, n_cells = (160, 120_000) if args.quick else (450, 520_000)
    t0 = time.perf_counter()
    Gc, cells_c = city_case(rng, side, n_cells)
    t_gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    net_c = from_networkx(Gc, modes=("walk",), source="generated city")
    t_load = time.perf_counter() - t0
    del Gc
    gc.collect()
    tgc = A.travel_graph(net_c, "walk")
    Gw = nx_graph_with_times(tgc)
    fac_c = cells_c[rng.choice(len(cells_c), 300, replace=False)]
    print(f"[2] generated city: {net_c.n_nodes:,} nodes, {int(net_c.walk.sum()):,} directed "
          f"edges, {len(cells_c):,} cells, {len(fac_c)} facilities "
          f"(generated in {t_gen:.1f} s, converted to RoadNetwork in {t_load:.1f} s)")

    def ours2():
        return A.nearest_facility(tgc, cells_c, fac_c)["time_s"].to_numpy()

    # both sides best of the same number of runs (other jobs may share the machine)
    t_ours, c_ours, r_ours = timed_cpu(ours2, repeat=3)
    t_peer, c_peer, r_peer = timed_cpu(lambda: peer_nearest(Gw, cells_c, fac_c), repeat=3)
    m_ours = peak_mb(ours2)
    m_peer = peak_mb(lambda: peer_nearest(Gw, cells_c, fac_c))
    print(f"    from coordinates: ours {t_ours:.3f} s (peak {m_ours:.0f} MB) | osmnx+networkx "
          f"{t_peer:.2f} s (peak {m_peer:.0f} MB) | median time ours {np.nanmedian(r_ours):.0f} s, "
          f"peer {np.nanmedian(r_peer):.0f} s")
    print(f"    CPU time (all threads, best of 3): ours {c_ours:.3f} s | osmnx+networkx "
          f"{c_peer:.2f} s | ratio {c_peer / c_ours:.1f}")
    # same answers: the peer differs only by the facility's off-network leg
    leg = float(A.snap_points(tgc, fac_c).snap_s.max())
    same_reach = bool((np.isfinite(r_ours) == np.isfinite(r_peer)).all())
    ok = np.isfinite(r_ours)
    diff = r_ours[ok] - r_peer[ok]
    print(f"    same reachable cells: {same_reach}; ours - peer in [{diff.min():.1f}, "
          f"{diff.max():.1f}] s, within [0, longest facility leg {leg:.1f} s]: "
          f"{bool(diff.min() >= -1e-6 and diff.max() <= leg + 1e-6)}")
    ratios.append(("nearest_city", t_peer / t_ours))

    # the same with the cells snapped once beforehand on both sides (a fixed grid,
    # many facility scenarios)
    snapped = A.snap_points(tgc, cells_c)
    cn, cd = ox.distance.nearest_nodes(Gw, cells_c[:, 0], cells_c[:, 1], return_dist=True)
    cd = np.asarray(cd)
    fn = ox.distance.nearest_nodes(Gw, fac_c[:, 0], fac_c[:, 1])
    t_ours, _ = timed(lambda: A.nearest_facility(tgc, snapped, fac_c), repeat=3)
    t_peer, _ = timed(lambda: peer_nearest_snapped(Gw, cn, cd, fn), repeat=3)
    print(f"    cells snapped beforehand: ours {t_ours:.3f} s | osmnx+networkx {t_peer:.2f} s")
    ratios.append(("nearest_city_snapped", t_peer / t_ours))

    # 3. reach matrix -------------------------------------------------------
    n_cand = 1_000 if args.quick else 5_000
    n_sample = 50 if args.quick else 200
    thr = 15 * 60.0
    cand = cells_c[rng.choice(len(cells_c), n_cand, replace=False)]
    t_ours, M = timed(lambda: A.reach_matrix(tgc, cand, cells_c, thr), repeat=1)
    m_ours = peak_mb(lambda: A.reach_matrix(tgc, cand[:n_sample], cells_c, thr))
    t_s, (r, c, v) = timed(lambda: peer_reach(Gw, cand[:n_sample], cells_c, thr), repeat=1)
    t_peer = t_s * n_cand / n_sample
    m_peer = peak_mb(lambda: peer_reach(Gw, cand[:n_sample], cells_c, thr))
    sub = M[:, :n_sample].tocoo()
    agree = (sub.nnz == len(v))
    print(f"[3] reach matrix, {n_cand:,} candidates x {len(cells_c):,} cells within 15 min: "
          f"{M.nnz:,} pairs")
    print(f"    ours {t_ours:.2f} s for all {n_cand:,} | osmnx+networkx {t_s:.2f} s for a "
          f"sample of {n_sample} candidates, extrapolated linearly to {n_cand:,}: {t_peer:.1f} s")
    print(f"    peak memory for {n_sample} candidates: ours {m_ours:.0f} MB, peer "
          f"{m_peer:.0f} MB; same pairs on the sample: {agree} ({sub.nnz:,} vs {len(v):,})")
    ratios.append(("reach_city", t_peer / t_ours))

    for name, ratio in ratios:
        print(f"ratio {name} {ratio:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
