"""The hardest city-scale covering instance, once per seed: how often the targets hold.

``bench_siting_city.py`` runs each instance once. On the generated city of
6,966 cells with p = 100 and 36 cells within the radius, the LP relaxation
(the reported bound) lies about 1.8 % above the best answer known, so a
reported gap of at most 2 % needs an answer within about 0.2 % of it, and
one run says little about the next. This script runs
``siting.mclp(..., time_limit_s=L, seed=s)`` for ``s = 0 .. N-1`` on that
instance, one after the other, and prints per run the covered population,
the reported gap and the wall time, then how many runs met each target
(within 0.5 % of the best answer any run found, at most ``L`` seconds,
reported gap at most 2 %).

Run ``python benchmarks/check_siting_seeds.py`` (``--runs 6 --limit 60``;
``--cells``, ``--neighbours`` and ``-p`` choose another instance).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_siting_city import city_instance, city_parser, covered  # noqa: E402
from coverage import siting  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = city_parser(__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=6)
    args = ap.parse_args(argv)

    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    xy, w, thr, T = city_instance(args)
    print(f"instance: {xy.shape[0]:,} cells = candidates, p={args.p}, radius {thr:.0f} s "
          f"({T.nnz / len(xy):.0f} cells reached on average), total population {w.sum():,.0f}")
    runs = []
    for seed in range(args.runs):
        t = time.perf_counter()
        r = siting.mclp(T, w, threshold_s=thr, p=args.p, time_limit_s=args.limit, seed=seed)
        wall = time.perf_counter() - t
        value = covered(T, w, np.asarray(r.new_sites, dtype=np.int64))
        runs.append((value, r.gap, wall))
        print(f"seed {seed}: covered {value:,.0f} ({value / w.sum():.2%}), bound {r.bound:,.0f}, "
              f"gap {r.gap:.2%}, wall {wall:.1f} s", flush=True)
    best = max(v for v, _, _ in runs)
    near = sum((best - v) / best <= 0.005 for v, _, _ in runs)
    timely = sum(s <= args.limit for _, _, s in runs)
    tight = sum(g <= 0.02 for _, g, _ in runs)
    print(f"best {best:,.0f}; within 0.5 % of it: {near} of {len(runs)}; within "
          f"{args.limit:g} s: {timely} of {len(runs)}; reported gap <= 2 %: {tight} of "
          f"{len(runs)} (gaps {min(g for _, g, _ in runs):.2%}-{max(g for _, g, _ in runs):.2%})")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
