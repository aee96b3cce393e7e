"""Accessibility engine vs. osmnx + networkx and pandana, on the same data.

Comparisons (walking network, same graph, same cells, same facilities):

1. ``nearest_chengdu`` -- time from every 200 m cell of the embedded central
   Chengdu extract to its nearest of 15 facilities (graphs prepared
   beforehand on every side; snapping included).
2. ``nearest_city`` -- the same on a generated city-sized street network
   (perturbed street grid, >= 200,000 nodes) with >= 500,000 population cells;
   ``nearest_city_snapped`` with the cells snapped to the network beforehand
   (one grid, many facility scenarios).
3. ``reach_city`` -- the sparse cell x candidate matrix of walking times
   within 15 minutes for 5,000 candidate sites on the generated network.
   networkx is timed on a sample of candidates and extrapolated linearly.
   ``population_city_pandana`` -- the population within 15 minutes of each
   candidate (ours: that matrix times the population; pandana: ``aggregate``
   over every node, read at the candidates' nodes).

Peers, written the way a planner would:

* osmnx + networkx: an osmnx graph with a ``time_s`` edge attribute,
  ``osmnx.distance.nearest_nodes`` for snapping and
  ``networkx.multi_source_dijkstra_path_length`` /
  ``single_source_dijkstra_path_length(cutoff=...)`` for the searches;
* pandana (contraction hierarchy): a ``Network`` of the same nodes and
  directed edges weighted by ``time_s``; ``precompute(cutoff)``;
  ``set_pois`` + ``nearest_pois(cutoff, num_pois=1)`` for the nearest
  facility (node to node; the cell's walk to its node is added), ``set`` +
  ``aggregate(cutoff, "sum", decay="flat")`` for population within reach.
  Building the hierarchy and the range precomputation are preprocessing,
  timed apart from the queries (as our ``travel_graph`` is).

How it is timed: every tool runs in a child process pinned to one core with
``OMP_NUM_THREADS=1`` (pykdtree's and pandana's OpenMP), ``OPENBLAS_NUM_THREADS``
and ``MKL_NUM_THREADS`` = 1, set before the libraries load.  The headline is
the process CPU time (``time.process_time``, all threads), which other jobs on
the machine do not inflate; wall time is printed beside it.  A second child
with every core and default threads times the nearest-facility comparisons by
wall time (secondary figures; pandana there on Chengdu only, its hierarchy of
the generated city takes minutes to build).  The machine's load average is
printed at the start and end.

Run ``python benchmarks/bench_access.py`` (full, several minutes) or with
``--quick`` (smaller generated city).  The last lines are
``ratio <name> <peer seconds / our seconds>``.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coverage import access as A  # noqa: E402
from coverage.geo import to_metric  # noqa: E402
from coverage.network import from_networkx, read_osm  # noqa: E402

try:
    import pandana
except ImportError as exc:  # the table says so; the other peers still run
    pandana, PANDANA_ERROR = None, f"{type(exc).__name__}: {exc}"
else:
    PANDANA_ERROR = ""

CRS = "EPSG:32648"
WALK_MPS = 4.5 / 3.6
CUTOFF_S = 15 * 60.0
#: pandana's times differ from exact ones by rounding inside its hierarchy
PANDANA_TOL_S = 0.05
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def timed(fn, *, repeat: int = 1, number: int = 1):
    """Best wall and best process CPU time per call over ``repeat`` rounds of ``number`` calls.

    Returns ``(wall_s, cpu_s, last result)``.  Garbage is collected before each
    round; the collector stays on while the calls run, as in normal use (for
    networkx it is part of the cost).  CPU time is summed over all threads.
    """
    wall, cpu, out = np.inf, np.inf, None
    for _ in range(repeat):
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(number):
            out = fn()
        wall = min(wall, (time.perf_counter() - t0) / number)
        cpu = min(cpu, (time.process_time() - c0) / number)
    return wall, cpu, out


def peak_mb(fn) -> float:
    """Peak traced Python/numpy allocation (MB) while running ``fn``."""
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def population_within(m, pop: np.ndarray) -> np.ndarray:
    """Population of the cells reachable from each candidate (``m``: cells x candidates)."""
    return np.bincount(m.indices, weights=np.repeat(pop, np.diff(m.indptr)),
                       minlength=m.shape[1])


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@contextlib.contextmanager
def quiet():
    """Drop what compiled code prints on standard output (pandana's progress dots)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        ctypes.CDLL(None).fflush(None)
        os.dup2(saved, 1)
        os.close(saved)


# ---------------------------------------------------------------------------
# peer: osmnx graph + networkx


def nx_graph_with_times(tg: A.TravelGraph) -> nx.MultiDiGraph:
    """The osmnx-style graph a user would have, with a ``time_s`` edge attribute."""
    return tg.to_networkx()


def peer_prep(G: nx.MultiDiGraph, kmh: float = 4.5) -> None:
    """What a user does to get walking times on an osmnx graph."""
    mps = kmh / 3.6
    nx.set_edge_attributes(G, {(a, b, k): d["length"] / mps
                               for a, b, k, d in G.edges(keys=True, data=True)}, "time_s")


def peer_nearest(G: nx.MultiDiGraph, cells_xy: np.ndarray, fac_xy: np.ndarray) -> np.ndarray:
    cn, cd = ox.distance.nearest_nodes(G, cells_xy[:, 0], cells_xy[:, 1], return_dist=True)
    fn = ox.distance.nearest_nodes(G, fac_xy[:, 0], fac_xy[:, 1])
    return peer_nearest_snapped(G, cn, np.asarray(cd), fn)


def peer_nearest_snapped(G, cn, cd, fn) -> np.ndarray:
    dist = nx.multi_source_dijkstra_path_length(G, set(fn), weight="time_s")
    return np.array([dist.get(n, np.nan) for n in cn]) + cd / WALK_MPS


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
# peer: pandana (contraction hierarchy)


def pandana_tables(G: nx.MultiDiGraph):
    """Nodes (x, y by node id) and directed edges (from, to, time_s) of ``G``."""
    nodes = pd.DataFrame.from_dict(dict(G.nodes(data=True)), orient="index")[["x", "y"]]
    u, v, w = (np.array(a) for a in zip(*G.edges(data="time_s")))
    return nodes, pd.DataFrame({"from": u, "to": v}), pd.DataFrame({"time_s": w})


def pandana_network(nodes, ends, weights):
    """The contraction hierarchy of the same directed graph (its preprocessing)."""
    with quiet():
        return pandana.Network(nodes["x"], nodes["y"], ends["from"], ends["to"], weights,
                               twoway=False)


def pandana_cells(net, cells_xy: np.ndarray):
    """Nearest node of each cell and the cell's walk to it in seconds."""
    node = net.get_node_ids(pd.Series(cells_xy[:, 0]), pd.Series(cells_xy[:, 1])).to_numpy()
    nxy = net.nodes_df.loc[node, ["x", "y"]].to_numpy()
    return node, np.hypot(*(cells_xy - nxy).T) / WALK_MPS


def pandana_nearest_snapped(net, node, leg_s, fac_xy, cutoff_s) -> np.ndarray:
    """Time to the nearest facility within ``cutoff_s`` (inf beyond), cells snapped."""
    with quiet():
        net.set_pois("facility", cutoff_s, 1, pd.Series(fac_xy[:, 0]), pd.Series(fac_xy[:, 1]))
    d = net.nearest_pois(cutoff_s, "facility", num_pois=1, max_distance=np.inf)[1]
    return d.loc[node].to_numpy() + leg_s


def pandana_nearest(net, cells_xy, fac_xy, cutoff_s) -> np.ndarray:
    node, leg = pandana_cells(net, cells_xy)
    return pandana_nearest_snapped(net, node, leg, fac_xy, cutoff_s)


def pandana_population(net, cells_xy, pop, cand_xy, cutoff_s) -> np.ndarray:
    """Population within ``cutoff_s`` of each candidate's node (node to node)."""
    node = net.get_node_ids(pd.Series(cells_xy[:, 0]), pd.Series(cells_xy[:, 1]))
    net.set(node, pd.Series(pop), name="pop")
    agg = net.aggregate(cutoff_s, type="sum", decay="flat", name="pop")
    cn = net.get_node_ids(pd.Series(cand_xy[:, 0]), pd.Series(cand_xy[:, 1]))
    return agg.loc[cn.to_numpy()].to_numpy()


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
# one child process: every figure of one threading setup


class Recorder:
    """Rows of the results table for one child process."""

    def __init__(self, setup: str, cores: int) -> None:
        self.setup, self.cores, self.rows = setup, cores, []

    def add(self, comparison: str, tool: str, G, sources: int, targets: int,
            cutoff_s: float | None, wall_s: float, cpu_s: float, *,
            prep: tuple[float, float] = (np.nan, np.nan),
            cores: int | None = None, note: str = "") -> None:
        self.rows.append(dict(
            setup=self.setup, comparison=comparison, tool=tool, nodes=G.number_of_nodes(),
            edges=G.number_of_edges(), sources=sources, targets=targets, cutoff_s=cutoff_s,
            cores=self.cores if cores is None else cores, prep_s=prep[0], prep_cpu_s=prep[1],
            wall_s=wall_s,
            cpu_s=cpu_s, note=note))


def nearest_three(rec: Recorder, name: str, G, tg, pnet, cells, fac, *,
                  prep: dict, rounds: tuple[int, int, int], number: tuple[int, int, int]):
    """Nearest facility from coordinates for ours, networkx and pandana; their results."""
    def ours():
        return A.nearest_facility(tg, cells, fac)["time_s"].to_numpy()

    w, c, r_ours = timed(ours, repeat=rounds[0], number=number[0])
    rec.add(name, "ours", G, len(fac), len(cells), None, w, c, prep=prep["ours"])
    w, c, r_nx = timed(lambda: peer_nearest(G, cells, fac), repeat=rounds[1], number=number[1])
    rec.add(name, "osmnx+networkx", G, len(fac), len(cells), None, w, c, prep=prep["nx"],
            cores=1)
    r_pd = None
    if pnet is not None:
        w, c, r_pd = timed(lambda: pandana_nearest(pnet, cells, fac, CUTOFF_S),
                           repeat=rounds[2], number=number[2])
        rec.add(name, "pandana", G, len(fac), len(cells), CUTOFF_S, w, c, prep=prep["pd"])
    return r_ours, r_nx, r_pd


def check_pandana(r_ours, r_nx, r_pd, leg_s: float) -> str:
    """pandana agrees with networkx where it found a facility, and with ours."""
    found = np.isfinite(r_pd)
    gap_nx = float(np.nanmax(np.abs(r_pd[found] - r_nx[found]))) if found.any() else 0.0
    both = found & np.isfinite(r_ours)  # ours leaves cells far off the network out
    d = r_ours[both] - r_pd[both] if both.any() else np.zeros(1)
    within = bool(d.min() >= -PANDANA_TOL_S and d.max() <= leg_s + PANDANA_TOL_S)
    # a cell pandana leaves out is past the cutoff for ours too (ours adds the legs)
    rest = r_ours[~found]
    beyond = bool(np.all(~np.isfinite(rest) | (rest > CUTOFF_S - PANDANA_TOL_S)))
    return (f"pandana found a facility within {CUTOFF_S:.0f} s for {found.sum():,} of "
            f"{found.size:,} cells; max |pandana - networkx| there {gap_nx:.3f} s; "
            f"ours - pandana in [{d.min():.3f}, {d.max():.1f}] s, within [0, facility leg "
            f"{leg_s:.1f} s] +- {PANDANA_TOL_S} s: {within}; cells pandana leaves out are "
            f"past the cutoff for ours too: {beyond}")


def child(args) -> dict:
    single = args.child == "single"
    if single:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    cores = len(os.sched_getaffinity(0))
    rec = Recorder(args.child, cores)
    rng = np.random.default_rng(42)
    setting = ", ".join(f"{v}={os.environ.get(v, 'unset')}" for v in THREAD_VARS)
    what = "one core, one thread per library" if single else f"{cores} cores, default threads"
    print(f"== {what} ({setting}); load average {loadavg()}", flush=True)

    # 1. embedded Chengdu ---------------------------------------------------
    net, cells, fac = chengdu_case(rng)
    t_tg, c_tg, tg = timed(lambda: A.travel_graph(net, "walk"), repeat=5)
    G = nx_graph_with_times(tg)
    t_pp, c_pp, _ = timed(lambda: peer_prep(G), repeat=3)
    prep = {"ours": (t_tg, c_tg), "nx": (t_pp, c_pp), "pd": (np.nan, np.nan)}
    pnet = None
    if pandana is not None:
        tables = pandana_tables(G)
        t_ch, c_ch, pnet = timed(lambda: pandana_network(*tables), repeat=3)
        t_pre, _, _ = timed(lambda: pnet.precompute(CUTOFF_S))
        prep["pd"] = (t_ch, c_ch)
    print(f"[1] Chengdu walk network: {G.number_of_nodes():,} nodes, "
          f"{G.number_of_edges():,} edges; {len(cells):,} cells, {len(fac)} facilities")
    print(f"    preparation (not in the ratios): ours travel_graph {t_tg * 1e3:.1f} ms, "
          f"peer travel-time edge attributes {t_pp * 1e3:.1f} ms"
          + (f", pandana contraction hierarchy {t_ch * 1e3:.1f} ms + precompute "
             f"{t_pre * 1e3:.1f} ms" if pnet is not None else ""))
    # rounds of about 50 ms of calls on every side
    r_ours, r_nx, r_pd = nearest_three(rec, "nearest_chengdu", G, tg, pnet, cells, fac,
                                       prep=prep, rounds=(5, 5, 5), number=(25, 2, 5))
    leg = float(A.snap_points(tg, fac).snap_s.max())
    # pykdtree's OpenMP threads are what a busy machine slows down most
    w, c, _ = timed(lambda: A.snap_points(tg, cells), repeat=5, number=25)
    print(f"    ours, snapping the {len(cells):,} cells alone: {w * 1e3:.2f} ms wall, "
          f"{c * 1e3:.2f} ms CPU")
    ok = np.isfinite(r_ours)
    # the networkx peer starts at the facilities' nodes (no per-source offset),
    # so it is shorter by at most the longest facility off-network leg
    gap = np.nanmax(np.abs(r_nx[ok] - r_ours[ok]))
    print(f"    max |ours - networkx| {gap:.0f} s (networkx leaves out the facility's "
          f"off-network leg, at most {leg:.0f} s)")
    if r_pd is not None:
        print("    " + check_pandana(r_ours, r_nx, r_pd, leg))
    if single:
        def ours1():
            return A.nearest_facility(tg, cells, fac)["time_s"].to_numpy()

        c_ours, _, _ = timed(ours1, repeat=20)
        c_peer, _, _ = timed(lambda: peer_nearest(G, cells, fac), repeat=5)
        m_ours, m_peer = peak_mb(ours1), peak_mb(lambda: peer_nearest(G, cells, fac))
        print(f"    single calls after a full garbage collection (wall): ours "
              f"{c_ours * 1e3:.1f} ms | osmnx+networkx {c_peer * 1e3:.1f} ms | ratio "
              f"{c_peer / c_ours:.1f}; peak memory ours {m_ours:.1f} MB, networkx "
              f"{m_peer:.1f} MB")
    del G, pnet
    gc.collect()

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
    t_tg, c_tg, tgc = timed(lambda: A.travel_graph(net_c, "walk"))
    Gw = nx_graph_with_times(tgc)
    fac_c = cells_c[rng.choice(len(cells_c), 300, replace=False)]
    prep = {"ours": (t_tg, c_tg), "nx": (np.nan, np.nan), "pd": (np.nan, np.nan)}
    pnet = None
    # the city's hierarchy takes minutes to build: only in the one-core run
    if pandana is not None and single:
        tables = pandana_tables(Gw)
        t_ch, c_ch, pnet = timed(lambda: pandana_network(*tables))
        del tables
        t_pre, c_pre, _ = timed(lambda: pnet.precompute(CUTOFF_S))
        prep["pd"] = (t_ch, c_ch)
    print(f"[2] generated city: {Gw.number_of_nodes():,} nodes, {Gw.number_of_edges():,} "
          f"directed edges, {len(cells_c):,} cells, {len(fac_c)} facilities (generated in "
          f"{t_gen:.1f} s, converted to RoadNetwork in {t_load:.1f} s)")
    print(f"    preparation (not in the ratios): ours travel_graph {t_tg:.2f} s"
          + (f", pandana contraction hierarchy {t_ch:.2f} s (CPU {c_ch:.1f} s) + "
             f"precompute({CUTOFF_S:.0f}) {t_pre:.2f} s" if pnet is not None else ""))
    # every side best of the same number of runs
    r_ours, r_nx, r_pd = nearest_three(rec, "nearest_city", Gw, tgc, pnet, cells_c, fac_c,
                                       prep=prep, rounds=(3, 3, 3), number=(1, 1, 1))
    leg = float(A.snap_points(tgc, fac_c).snap_s.max())
    same_reach = bool((np.isfinite(r_ours) == np.isfinite(r_nx)).all())
    ok = np.isfinite(r_ours)
    diff = r_ours[ok] - r_nx[ok]
    print(f"    networkx: same reachable cells: {same_reach}; ours - networkx in "
          f"[{diff.min():.1f}, {diff.max():.1f}] s, within [0, longest facility leg "
          f"{leg:.1f} s]: {bool(diff.min() >= -1e-6 and diff.max() <= leg + 1e-6)}")
    if r_pd is not None:
        print("    " + check_pandana(r_ours, r_nx, r_pd, leg))
    if not single:
        return {"rows": rec.rows}

    print(f"    peak memory: ours "
          f"{peak_mb(lambda: A.nearest_facility(tgc, cells_c, fac_c)):.0f} MB | networkx "
          f"{peak_mb(lambda: peer_nearest(Gw, cells_c, fac_c)):.0f} MB")

    # the same with the cells snapped once beforehand (a fixed grid, many
    # facility scenarios)
    snapped = A.snap_points(tgc, cells_c)
    cn, cd = ox.distance.nearest_nodes(Gw, cells_c[:, 0], cells_c[:, 1], return_dist=True)
    cd = np.asarray(cd)
    fn = ox.distance.nearest_nodes(Gw, fac_c[:, 0], fac_c[:, 1])
    w, c, _ = timed(lambda: A.nearest_facility(tgc, snapped, fac_c), repeat=3)
    rec.add("nearest_city_snapped", "ours", Gw, len(fac_c), len(cells_c), None, w, c)
    w, c, _ = timed(lambda: peer_nearest_snapped(Gw, cn, cd, fn), repeat=3)
    rec.add("nearest_city_snapped", "osmnx+networkx", Gw, len(fac_c), len(cells_c), None, w, c)
    if pnet is not None:
        pn, pleg = pandana_cells(pnet, cells_c)
        w, c, _ = timed(lambda: pandana_nearest_snapped(pnet, pn, pleg, fac_c, CUTOFF_S),
                        repeat=3)
        rec.add("nearest_city_snapped", "pandana", Gw, len(fac_c), len(cells_c), CUTOFF_S,
                w, c)

    # 3. reach matrix and population within reach ---------------------------
    n_cand = 1_000 if args.quick else 5_000
    n_sample = 50 if args.quick else 200
    cand = cells_c[rng.choice(len(cells_c), n_cand, replace=False)]
    w, c, M = timed(lambda: A.reach_matrix(tgc, cand, cells_c, CUTOFF_S))
    rec.add("reach_city", "ours", Gw, n_cand, len(cells_c), CUTOFF_S, w, c)
    m_ours = peak_mb(lambda: A.reach_matrix(tgc, cand[:n_sample], cells_c, CUTOFF_S))
    w, c, (_, _, v) = timed(lambda: peer_reach(Gw, cand[:n_sample], cells_c, CUTOFF_S))
    k = n_cand / n_sample
    rec.add("reach_city", "osmnx+networkx", Gw, n_cand, len(cells_c), CUTOFF_S, w * k, c * k,
            note=f"{n_sample} candidates timed, x{k:.0f}")
    m_peer = peak_mb(lambda: peer_reach(Gw, cand[:n_sample], cells_c, CUTOFF_S))
    sub = M[:, :n_sample].tocoo()
    print(f"[3] reach matrix, {n_cand:,} candidates x {len(cells_c):,} cells within 15 min: "
          f"{M.nnz:,} pairs; networkx timed on {n_sample} candidates, scaled x{k:.0f}")
    print(f"    peak memory for {n_sample} candidates: ours {m_ours:.0f} MB, networkx "
          f"{m_peer:.0f} MB; same pairs on the sample: {sub.nnz == len(v)} "
          f"({sub.nnz:,} vs {len(v):,})")
    if pnet is not None:
        pop = rng.integers(0, 60, len(cells_c)).astype(float)
        w, c, _ = timed(lambda: population_within(
            A.reach_matrix(tgc, cand, cells_c, CUTOFF_S), pop))
        rec.add("population_city", "ours", Gw, n_cand, len(cells_c), CUTOFF_S, w, c)
        w, c, p_pd = timed(lambda: pandana_population(pnet, cells_c, pop, cand, CUTOFF_S))
        rec.add("population_city", "pandana", Gw, n_cand, len(cells_c), CUTOFF_S, w, c,
                prep=(t_ch + t_pre, c_ch + c_pre),
                note="aggregate over every node; prep incl. precompute")
        # same sums when cells and candidates sit on their nodes (pandana has no
        # off-network legs)
        pn, _ = pandana_cells(pnet, cells_c)
        cnode, _ = pandana_cells(pnet, cand[:n_sample])
        on_cells = pnet.nodes_df.loc[pn, ["x", "y"]].to_numpy()
        on_cand = pnet.nodes_df.loc[cnode, ["x", "y"]].to_numpy()
        p_ours = population_within(A.reach_matrix(tgc, on_cand, on_cells, CUTOFF_S), pop)
        rel = np.abs(p_ours - p_pd[:n_sample]) / np.maximum(p_ours, 1)
        print(f"    population within 15 min, cells and candidates moved onto their nodes, "
              f"{n_sample} candidates: ours = pandana for {int((rel < 1e-9).sum())}, "
              f"largest relative difference {rel.max():.1e}")
    return {"rows": rec.rows}


# ---------------------------------------------------------------------------
# parent: one child per threading setup, then the table and the ratios

PEERS = ("osmnx+networkx", "pandana")


def run_child(setup: str, quick: bool) -> dict:
    env = dict(os.environ)
    if setup == "single":
        env.update({v: "1" for v in THREAD_VARS})
    else:
        for v in THREAD_VARS:
            env.pop(v, None)
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "rows.json"
        cmd = [sys.executable, __file__, "--child", setup, "--out", str(out)]
        subprocess.run(cmd + (["--quick"] if quick else []), env=env, check=True)
        return json.loads(out.read_text())


def fmt_s(s: float) -> str:
    if not np.isfinite(s):
        return "-"
    return f"{s:.4f}" if s < 0.1 else f"{s:.3f}" if s < 10 else f"{s:.1f}"


def print_table(rows: list[dict]) -> None:
    head = ("setup", "comparison", "tool", "nodes", "edges", "sources", "targets",
            "cutoff s", "cores", "prep s", "prep CPU s", "wall s", "CPU s", "note")
    body = [(r["setup"], r["comparison"], r["tool"], f"{r['nodes']:,}", f"{r['edges']:,}",
             f"{r['sources']:,}", f"{r['targets']:,}",
             "none" if r["cutoff_s"] is None else f"{r['cutoff_s']:.0f}", str(r["cores"]),
             *(fmt_s(r[k]) for k in ("prep_s", "prep_cpu_s", "wall_s", "cpu_s")), r["note"])
            for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    for line in (head, *body):
        print("  ".join(str(x).ljust(wd) for x, wd in zip(line, widths)).rstrip())


def ratios(rows: list[dict]) -> list[tuple[str, float]]:
    """``peer / ours``: CPU time on one core (headline), wall time on all cores."""
    by = {(r["setup"], r["comparison"], r["tool"]): r for r in rows}
    out = []
    for (setup, comp, tool), r in by.items():
        ours = by.get((setup, comp, "ours"))
        if tool not in PEERS or ours is None:
            continue
        suffix = "" if tool == "osmnx+networkx" else "_pandana"
        if setup == "single":
            out.append((f"{comp}{suffix}", r["cpu_s"] / ours["cpu_s"]))
        else:
            out.append((f"{comp}{suffix}_wall_all_cores", r["wall_s"] / ours["wall_s"]))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller generated city")
    ap.add_argument("--child", choices=("single", "multi"), help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        Path(args.out).write_text(json.dumps(child(args)))
        return 0
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(f"machine: {os.cpu_count()} cores, {mem_gib:.0f} GiB; load average at start "
          f"{loadavg()}; pandana "
          + (pandana.__version__ if pandana is not None else f"not available ({PANDANA_ERROR})"),
          flush=True)
    rows = run_child("single", args.quick)["rows"] + run_child("multi", args.quick)["rows"]
    print(f"load average at end {loadavg()}")
    print("setup single: one core, one thread per library, headline = CPU s; setup multi: "
          "all cores, default threads, wall s")
    print_table(rows)
    for name, ratio in ratios(rows):
        print(f"ratio {name} {ratio:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
