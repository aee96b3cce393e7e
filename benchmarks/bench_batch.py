"""Batch evaluation on a local Dask cluster: 1 worker against 2 workers.

The script writes N synthetic study areas (default 16) into an output folder,
each with

* a street-grid road network as an ``.osm`` file (``--side`` nodes per side,
  75 m apart, residential streets with a few primary roads),
* two to four districts (vertical strips, GeoJSON with adcode, name,
  unit type and population),
* population points (one per street block),
* a facility CSV with city reading rooms, culture stations and a cultural
  centre at random street corners,

and one batch config with the GB 50180-2018 life-circle preset, whose three
proximity rules make every area load its network, build the walking graph and
compute nearest-facility times for every population cell. The batch then runs
with :func:`coverage.batch.run_batch` on a ``LocalCluster`` of one worker
with one thread, then of two workers with one thread each, each twice:
``cold`` (``run_batch`` starts and stops the cluster, as ``cultcov batch``
does) and ``warm`` (on a cluster started beforehand whose workers have
imported the package: the batch proper). The ratio on the last line is that
of the warm runs; the cold ratio is printed above it. On a shared machine
the load average printed first, and the CPU seconds against the wall seconds
of the area tasks, say how much CPU the workers could get.

Run ``python benchmarks/bench_batch.py`` (``--areas 24 --side 260`` for more
work per area). The last line is ``ratio batch_2_vs_1_workers <t1/t2>``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coverage.batch import evaluate_area, run_batch  # noqa: E402

SPACING_M = 75.0
M_PER_DEG_LAT = 111_320.0


def _write_osm(path: Path, lon0: float, lat0: float, side: int, rng: np.random.Generator) -> None:
    dlat = SPACING_M / M_PER_DEG_LAT
    dlon = SPACING_M / (M_PER_DEG_LAT * math.cos(math.radians(lat0)))
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="bench_batch">']
    for i in range(side):
        for j in range(side):
            jitter_lon, jitter_lat = rng.uniform(-0.15, 0.15, 2)
            out.append(f'<node id="{i * side + j + 1}" version="1" lat="{lat0 + (i + jitter_lat) * dlat:.7f}" '
                       f'lon="{lon0 + (j + jitter_lon) * dlon:.7f}"/>')
    way = 1
    for i in range(side):  # east-west streets
        highway = "primary" if i % 10 == 5 else "residential"
        nds = "".join(f'<nd ref="{i * side + j + 1}"/>' for j in range(side))
        out.append(f'<way id="{way}" version="1">{nds}<tag k="highway" v="{highway}"/></way>')
        way += 1
    for j in range(side):  # north-south streets
        highway = "primary" if j % 10 == 5 else "residential"
        nds = "".join(f'<nd ref="{i * side + j + 1}"/>' for i in range(side))
        out.append(f'<way id="{way}" version="1">{nds}<tag k="highway" v="{highway}"/></way>')
        way += 1
    out.append("</osm>")
    path.write_text("\n".join(out), encoding="utf-8")


def make_area(folder: Path, k: int, side: int, seed: int = 0) -> dict:
    """Write one synthetic study area; returns its batch-config entry."""
    rng = np.random.default_rng(seed + k)
    folder.mkdir(parents=True, exist_ok=True)
    lon0, lat0 = 103.5 + 0.15 * (k % 8), 30.2 + 0.15 * (k // 8)
    dlat = SPACING_M / M_PER_DEG_LAT
    dlon = SPACING_M / (M_PER_DEG_LAT * math.cos(math.radians(lat0)))
    _write_osm(folder / "roads.osm", lon0, lat0, side, rng)

    n_units = 2 + k % 3
    edges = np.linspace(0, side - 1, n_units + 1)
    block_pop = rng.gamma(2.0, 150.0, size=(side - 1, side - 1))
    feats, pts = [], []
    for u in range(n_units):
        x0, x1 = lon0 + edges[u] * dlon, lon0 + edges[u + 1] * dlon
        y0, y1 = lat0, lat0 + (side - 1) * dlat
        cols = [j for j in range(side - 1) if edges[u] <= j + 0.5 < edges[u + 1]]
        pop = float(block_pop[:, cols].sum())
        feats.append({"type": "Feature",
                      "properties": {"adcode": f"5{k:03d}{u:02d}", "name": f"合成{k}-{u}区",
                                     "unit_type": "区" if u % 2 == 0 else "县", "pop": round(pop)},
                      "geometry": {"type": "Polygon",
                                   "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}})
    for i in range(side - 1):
        for j in range(side - 1):
            pts.append({"type": "Feature", "properties": {"pop": float(block_pop[i, j])},
                        "geometry": {"type": "Point",
                                     "coordinates": [lon0 + (j + 0.5) * dlon, lat0 + (i + 0.5) * dlat]}})
    (folder / "units.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": feats},
                                                     ensure_ascii=False), encoding="utf-8")
    (folder / "pop.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": pts}),
                                        encoding="utf-8")
    lines = ["facility_id,name,type,lon,lat"]
    types = ["city_reading_room"] * 8 + ["culture_station"] * 5 + ["cultural_centre"]
    for n, ftype in enumerate(types):
        i, j = rng.integers(1, side - 1, size=2)
        lines.append(f"F{k}-{n},设施{n},{ftype},{lon0 + j * dlon:.7f},{lat0 + i * dlat:.7f}")
    (folder / "facilities.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"name": f"合成区域{k:02d}", "boundaries": f"{folder.name}/units.geojson",
            "population": f"{folder.name}/pop.geojson", "facilities": f"{folder.name}/facilities.csv",
            "network": f"{folder.name}/roads.osm"}


def _run(cfg_path: Path, out: Path, workers: int, *, warm: bool):
    """One batch run; ``warm``: on a cluster started (and its workers' imports done) beforehand."""
    if not warm:
        t = time.perf_counter()
        res = run_batch(cfg_path, out, n_workers=workers, threads_per_worker=1, resume=False, task=timed_area)
        return res, time.perf_counter() - t
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as cluster, Client(cluster) as client:
        client.run(_warm_up)
        t = time.perf_counter()
        res = run_batch(cfg_path, out, scheduler_address=cluster.scheduler_address, resume=False, task=timed_area)
        return res, time.perf_counter() - t


def timed_area(area, settings):
    """:func:`coverage.batch.evaluate_area` plus the CPU seconds the worker process spent on it."""
    t = time.process_time()
    table = evaluate_area(area, settings)
    return table.assign(cpu_s=time.process_time() - t)


def _warm_up() -> None:
    import coverage.access  # noqa: F401
    import coverage.study_area  # noqa: F401
    import coverage.workflow  # noqa: F401


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--areas", type=int, default=16, help="number of study areas (default 16)")
    ap.add_argument("--side", type=int, default=200, help="street-grid nodes per side of an area (default 200)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "batch", help="work folder")
    ap.add_argument("--preset", default="gb50180-life-circle", help="standards preset")
    args = ap.parse_args(argv)

    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    t0 = time.perf_counter()
    areas = [make_area(args.out / f"area{k:02d}", k, args.side) for k in range(args.areas)]
    cfg_path = args.out / "batch.yaml"
    cfg_path.write_text(yaml.safe_dump({"preset": args.preset, "mode": "walk", "areas": areas},
                                       allow_unicode=True), encoding="utf-8")
    print(f"areas {args.areas}; per area {args.side * args.side:,} road nodes, "
          f"{(args.side - 1) ** 2:,} population points; preset {args.preset}; "
          f"data written in {time.perf_counter() - t0:.1f} s")

    print(f"load average before the runs (1, 5, 15 min): {', '.join(f'{v:.2f}' for v in os.getloadavg())}; "
          f"{os.cpu_count()} CPUs")
    times: dict[tuple[str, int], float] = {}
    tables = {}
    for workers in (1, 2):
        for how in ("cold", "warm"):
            out = args.out / f"run_{how}_{workers}w"
            res, wall = _run(cfg_path, out, workers, warm=(how == "warm"))
            times[how, workers] = wall
            tables[workers] = res.table
            if res.failed:
                errors = res.table.loc[res.table["area_status"] == "failed", ["area", "error"]]
                raise SystemExit(f"areas failed:\n{errors.to_string()}")
            busy = sum(o.get("time_s", 0.0) for o in json.loads((out / "outcomes.json").read_text(encoding="utf-8")))
            n_prox = int((res.table["kind"] == "proximity").sum())
            n_data = int(((res.table["kind"] == "proximity") & (res.table["status"] != "no_data")).sum())
            cpu = float(res.table.groupby("area")["cpu_s"].first().sum())
            print(f"batch_{workers}_workers_{how} {wall:.2f} s  ({len(res.succeeded)} areas ok, {len(res.table)} rows, "
                  f"{n_data}/{n_prox} proximity rows computed; area tasks: {busy:.1f} s wall, {cpu:.1f} s CPU)")

    key = ["area", "unit_id", "rule_id"]
    a = tables[1].sort_values(key).reset_index(drop=True)
    b = tables[2].sort_values(key).reset_index(drop=True)
    same = np.allclose(a["coverage_share"].astype(float), b["coverage_share"].astype(float), equal_nan=True)
    print(f"same results with 1 and 2 workers: {same}")
    print(f"ratio batch_2_vs_1_workers_cold {times['cold', 1] / times['cold', 2]:.2f}  "
          "(cluster start and worker imports included)")
    print(f"ratio batch_2_vs_1_workers {times['warm', 1] / times['warm', 2]:.2f}")


if __name__ == "__main__":
    main()
