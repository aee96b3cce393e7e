"""Siting benchmark: coverage.siting against spopt (PuLP + CBC) on identical instances.

Instances are random demand and candidate points in a square; travel time
is the straight-line distance times a 1.3 detour factor at walking speed
(5 km/h), and coverage means within 15 minutes.

* MCLP, 5,000 demand cells x 500 candidates, p = 20 (spopt peer);
* p-median, 1,000 x 1,000, p = 10 (spopt peer);
* city-scale MCLP, 100,000 demand cells x 5,000 candidates, p = 200, 60 s
  limit (no peer; its gap is printed).

Run ``python benchmarks/bench_siting.py`` (``--quick`` for a smaller run).
The last lines are ``ratio <name> <peer seconds / our seconds>``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coverage import siting  # noqa: E402

SPEED_MS = 5000 / 3600
DETOUR = 1.3
THRESHOLD_S = 15 * 60


def points(rng: np.random.Generator, n: int, side_m: float) -> np.ndarray:
    return rng.uniform(0, side_m, (n, 2))


def dense_times(demand: np.ndarray, cand: np.ndarray) -> np.ndarray:
    d = np.sqrt(((demand[:, None, :] - cand[None, :, :]) ** 2).sum(-1))
    return d * DETOUR / SPEED_MS


def sparse_times(demand: np.ndarray, cand: np.ndarray, max_s: float) -> sp.csr_matrix:
    radius = max_s * SPEED_MS / DETOUR
    D = cKDTree(demand).sparse_distance_matrix(cKDTree(cand), radius, output_type="coo_matrix")
    return sp.csr_matrix((D.data * DETOUR / SPEED_MS, (D.row, D.col)),
                         shape=(len(demand), len(cand)))


def run_spopt(kind: str, T: np.ndarray, w: np.ndarray, p: int,
              time_limit_s: float | None) -> tuple[float, float]:
    import pulp
    from spopt.locate import MCLP, PMedian

    solver = (pulp.PULP_CBC_CMD(msg=False) if time_limit_s is None
              else pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s))
    t = time.perf_counter()
    if kind == "mclp":
        model = MCLP.from_cost_matrix(T, w, service_radius=THRESHOLD_S, p_facilities=p)
        model = model.solve(solver)
        obj = float(pulp.value(model.problem.objective))
    else:
        model = PMedian.from_cost_matrix(T, w, p_facilities=p)
        model = model.solve(solver)
        obj = float(pulp.value(model.problem.objective))
    return time.perf_counter() - t, obj


def _child(conn, target, args) -> None:
    os.setsid()  # own process group, so a solver it starts dies with it on a time-out
    conn.send(target(*args))
    conn.close()


def run_bounded(target, args: tuple, wall_limit_s: float) -> tuple[float, object | None]:
    """``target(*args)`` in a child process stopped after ``wall_limit_s`` of wall time.

    Returns the seconds waited and the child's result, or ``None`` as result
    when it was stopped.
    """
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, target, args))
    t = time.perf_counter()
    proc.start()
    child.close()
    if parent.poll(wall_limit_s):
        out = parent.recv()
        proc.join()
        return time.perf_counter() - t, out
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.join()
    return time.perf_counter() - t, None


def run_spopt_bounded(kind: str, T: np.ndarray, w: np.ndarray, p: int, time_limit_s: float | None,
                      wall_limit_s: float) -> tuple[float, float | None]:
    """spopt in a child process stopped after ``wall_limit_s`` seconds of wall time.

    Returns the peer's time and objective, or ``(wall_limit_s, None)`` when it
    was stopped (its time is then a lower bound).
    """
    waited, out = run_bounded(run_spopt, (kind, T, w, p, time_limit_s), wall_limit_s)
    return out if out is not None else (waited, None)


def plain_highs(c, A, row_lo, row_hi, integer, limit: float, maximize: bool = False):
    """``opt c.x, row_lo <= A x <= row_hi, 0 <= x <= 1`` handed to HiGHS as is (one
    thread, its own time limit): (solution or None, dual bound)."""
    import highspy

    A = sp.csc_matrix(A)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = A.shape[1], A.shape[0]
    lp.col_cost_ = np.asarray(c, float)
    lp.col_lower_ = np.zeros(A.shape[1])
    lp.col_upper_ = np.ones(A.shape[1])
    lp.row_lower_ = np.asarray(row_lo, float)
    lp.row_upper_ = np.asarray(row_hi, float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = A.shape[1], A.shape[0]
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(float)
    kint, kcon = highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous
    lp.integrality_ = [kint if b else kcon for b in integer]
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    h = siting._new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(limit))
    h.setOptionValue("threads", 1)
    h.passModel(lp)
    h.run()
    info = h.getInfo()
    x = np.asarray(h.getSolution().col_value) if info.primal_solution_status == 2 else None
    return x, float(info.mip_dual_bound)


def limit_parser(description: str, *, quick_help: str, peer_help: str) -> argparse.ArgumentParser:
    """Command line shared by the siting benchmarks: ``--quick``, ``--time-limit``, ``--no-peer``."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--quick", action="store_true", help=quick_help)
    ap.add_argument("--time-limit", type=float, default=None, metavar="S",
                    help="time limit of every method (default 60, 10 with --quick)")
    ap.add_argument("--no-peer", action="store_true", help=peer_help)
    return ap


def print_ratios(ratios: list[tuple[str, float]]) -> None:
    """The closing ``ratio <name> <peer seconds / our seconds>`` lines."""
    for name, ratio in ratios:
        print(f"ratio {name} {ratio:.2f}")


def _limited(args: argparse.Namespace, peer_s: float) -> None:
    if args.peer_time_limit is not None and peer_s >= 0.95 * args.peer_time_limit:
        print("  (spopt stopped at --peer-time-limit: its objective may not be optimal and "
              "the ratio below is a lower bound)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller instances")
    ap.add_argument("--no-peer", action="store_true", help="skip spopt")
    ap.add_argument("--peer-time-limit", type=float, default=None, metavar="S",
                    help="CBC time limit per peer solve; a peer stopped by it makes the "
                         "printed ratio a lower bound. CBC checks it only after its root LP, "
                         "so the 1,000 x 1,000 p-median peer (whose root LP alone runs for "
                         "tens of minutes) overruns it")
    ap.add_argument("--peer-wall-limit", type=float, default=600.0, metavar="S",
                    help="stop a peer solve after this many seconds of wall time (default 600); "
                         "the ratio is then printed as `<name>_lower_bound`")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(20240601)
    ratios: list[tuple[str, float]] = []

    # ---------------------------------------------------------------- MCLP
    n, m, p, side = (5000, 500, 20, 20_000.0) if not args.quick else (1500, 150, 8, 11_000.0)
    demand, cand = points(rng, n, side), points(rng, m, side)
    w = rng.integers(20, 400, n).astype(float)
    T = dense_times(demand, cand)
    t = time.perf_counter()
    r = siting.mclp(T, w, threshold_s=THRESHOLD_S, p=p)
    ours = time.perf_counter() - t
    print(f"MCLP {n} x {m}, p={p}: ours {ours:.2f} s, covered {r.objective:,.0f} "
          f"({r.covered_share:.1%}), optimal={r.optimal}, gap={r.gap:.2e}, "
          f"model {r.model_size}")
    if not args.no_peer:
        peer, pobj = run_spopt_bounded("mclp", T, w, p, args.peer_time_limit, args.peer_wall_limit)
        if pobj is None:
            print(f"MCLP {n} x {m}, p={p}: spopt+CBC stopped after {peer:.0f} s without an answer")
            ratios.append(("mclp_lower_bound", peer / ours))
        else:
            print(f"MCLP {n} x {m}, p={p}: spopt+CBC {peer:.2f} s, covered {pobj:,.0f}; "
                  f"same objective: {abs(pobj - r.objective) <= 1e-6 * max(1, pobj)}")
            _limited(args, peer)
            ratios.append(("mclp", peer / ours))

    # ---------------------------------------------------------------- p-median
    n, m, p, side = (1000, 1000, 10, 20_000.0) if not args.quick else (300, 300, 6, 10_000.0)
    demand, cand = points(rng, n, side), points(rng, m, side)
    w = rng.integers(20, 400, n).astype(float)
    T = dense_times(demand, cand)
    t = time.perf_counter()
    r = siting.p_median(T, w, p)
    ours = time.perf_counter() - t
    print(f"p-median {n} x {m}, p={p}: ours {ours:.2f} s, objective {r.objective:,.1f} "
          f"person-s, optimal={r.optimal}, gap={r.gap:.2e}, model {r.model_size}")
    if not args.no_peer:
        peer, pobj = run_spopt_bounded("pmedian", T, w, p, args.peer_time_limit, args.peer_wall_limit)
        if pobj is None:
            print(f"p-median {n} x {m}, p={p}: spopt+CBC stopped after {peer:.0f} s without an answer; "
                  "the ratio below is a lower bound")
            ratios.append(("p_median_lower_bound", peer / ours))
        else:
            print(f"p-median {n} x {m}, p={p}: spopt+CBC {peer:.2f} s, objective {pobj:,.1f}; "
                  f"same objective: {abs(pobj - r.objective) <= 1e-6 * max(1, pobj)}")
            _limited(args, peer)
            ratios.append(("p_median", peer / ours))

    # ---------------------------------------------------------------- city scale
    n, m, p, side = (100_000, 5_000, 200, 60_000.0) if not args.quick else (20_000, 1_000, 50, 27_000.0)
    demand, cand = points(rng, n, side), points(rng, m, side)
    w = rng.gamma(0.8, 400.0, n)
    t = time.perf_counter()
    T = sparse_times(demand, cand, THRESHOLD_S)
    build = time.perf_counter() - t
    t = time.perf_counter()
    r = siting.mclp(T, w, threshold_s=THRESHOLD_S, p=p, time_limit_s=60)
    ours = time.perf_counter() - t
    print(f"city MCLP {n} x {m} ({T.nnz:,} reachable pairs, built in {build:.1f} s), p={p}: "
          f"{ours:.2f} s, solver {r.solver}, covered {r.objective:,.0f} ({r.covered_share:.1%}), "
          f"optimal={r.optimal}, gap={r.gap:.2e}, model {r.model_size}")

    print_ratios(ratios)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
