"""How far a city-scale covering answer is from the best one, area by area.

On the hardest instance of ``bench_siting_city.py`` (generated city of 6,966
cells, p = 100, 36 neighbours) the reported gap is about 2 %: the bound is the
LP relaxation's, and the question is whether the answer or the bound is
where the 2 % lies. This script answers it area by area:

1. ``siting.mclp(..., time_limit_s=L)`` on the whole instance, as the
   benchmark runs it;
2. for each quarter of the city (four strips west to east, four south to
   north), the picks inside the quarter are re-chosen exactly: the picks
   outside stay open as existing sites, the quarter's cells are the
   candidates, the number of picks is the same, and ``siting.mclp(...,
   method="milp")`` solves it with HiGHS (``--area-limit`` seconds each).

A quarter whose re-choice is proven optimal and equal to the answer shows
that no change of the picks inside that quarter (any number of them at
once) covers more people; otherwise HiGHS's bound says by how much at most
one could. Prints one line per quarter and a summary.

With ``--quarter-instances`` each west-east quarter is then also solved as an
instance of its own (its cells as demand and candidates, as many picks as the
answer has there): HiGHS proves its optimum (``4 x --area-limit`` seconds),
and the bound the heuristic path reports on it shows how far the LP
relaxation lies above a known optimum.

Run ``python benchmarks/check_siting_quarters.py --quarter-instances``
(``--limit 60 --area-limit 30``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_siting_city import city_instance, city_parser, covered  # noqa: E402
from coverage import siting  # noqa: E402


def quarter_of(xy: np.ndarray, axis: int) -> np.ndarray:
    """Quarter (0-3) of each cell along ``axis``, by the cells' quartiles."""
    edges = np.quantile(xy[:, axis], [0.25, 0.5, 0.75])
    return np.searchsorted(edges, xy[:, axis], side="right")


def main(argv: list[str] | None = None) -> int:
    ap = city_parser(__doc__.splitlines()[0])
    ap.add_argument("--area-limit", type=float, default=30.0)
    ap.add_argument("--quarter-instances", action="store_true",
                    help="also solve each west-east quarter alone and compare the "
                         "reported bound with HiGHS's proven optimum")
    args = ap.parse_args(argv)

    xy, w, thr, T = city_instance(args)
    t = time.perf_counter()
    r = siting.mclp(T, w, threshold_s=thr, p=args.p, time_limit_s=args.limit)
    wall = time.perf_counter() - t
    sites = np.asarray(r.new_sites, dtype=np.int64)
    value = covered(T, w, sites)
    print(f"instance: {xy.shape[0]} cells, p={args.p}, radius {thr:.0f} s; "
          f"answer {value:,.0f} ({value / w.sum():.2%}), reported gap {r.gap:.2%}, "
          f"bound {r.bound:,.0f}, {wall:.1f} s")

    proven = better = 0
    for axis, name in ((0, "west-east"), (1, "south-north")):
        part = quarter_of(xy, axis)
        for k in range(4):
            inside = part[sites] == k
            fixed, free = sites[~inside], sites[inside]
            cand = np.flatnonzero(part == k)
            cols = np.concatenate([cand, fixed])
            t = time.perf_counter()
            q = siting.mclp(T[:, cols], w, threshold_s=thr, p=int(free.size),
                            existing=np.arange(cand.size, cols.size),
                            time_limit_s=args.area_limit, method="milp")
            sec = time.perf_counter() - t
            v = covered(T, w, cols[np.asarray(q.selected, dtype=np.int64)])
            ok = q.gap <= 1e-7
            proven += ok
            better += v > value + 0.5
            print(f"{name} quarter {k + 1}: {free.size:3d} picks re-chosen -> {v:,.0f} "
                  f"({v - value:+,.0f}), {'proven optimal' if ok else f'gap {q.gap:.3%}'}; "
                  f"no re-choice covers more than {max(q.bound - value, 0.0):+,.0f}; "
                  f"{sec:.1f} s")
    print(f"summary: {proven} of 8 quarters proven optimal, {better} of 8 re-choices "
          f"cover more than the answer")
    if args.quarter_instances:
        quarter_instances(T, w, xy, thr, sites, args.area_limit)
    return 0


def quarter_instances(T, w, xy, thr, sites, area_limit: float) -> None:
    """Each west-east quarter alone (its cells as demand and candidates, as many
    picks as the answer has there): the bound the heuristic path reports
    against the optimum HiGHS proves, i.e. how much of a reported gap is the
    relaxation's."""
    part = quarter_of(xy, 0)
    for k in range(4):
        idx = np.flatnonzero(part == k)
        Tk, wk, pk = T[idx][:, idx], w[idx], int(np.sum(part[sites] == k))
        h = siting.mclp(Tk, wk, threshold_s=thr, p=pk, time_limit_s=area_limit,
                        method="heuristic")
        t = time.perf_counter()
        m = siting.mclp(Tk, wk, threshold_s=thr, p=pk, time_limit_s=4 * area_limit,
                        method="milp")
        sec = time.perf_counter() - t
        over = (h.bound - m.objective) / m.objective
        if m.gap <= 1e-7:
            state = f"proven optimum {m.objective:,.0f}"
            above = f"{over:.2%} above the optimum"
        else:
            state = f"best answer {m.objective:,.0f}, optimum at most {m.bound:,.0f}"
            least = (h.bound - m.bound) / m.bound
            above = f"{least:.2%} to {over:.2%} above the optimum"
        print(f"quarter {k + 1} alone: {idx.size} cells, p={pk}; {state} "
              f"({sec:.1f} s); heuristic path {h.objective:,.0f}, its bound {h.bound:,.0f} "
              f"= {above}")


if __name__ == "__main__":
    raise SystemExit(main())
