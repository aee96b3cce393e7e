"""Study-area build from a province-size OSM file: this package against osmnx.

Input: the embedded Chengdu extract tiled into larger files by
``make_province_osm.py`` (``--tiles 4`` → 16 copies, ``8`` → 64, ``32`` →
1,024 copies ≈ 275 MB, 25 million nodes, the size of a Chinese province
extract). The county is 成华区 (510108), which lies in the middle tile.

Each measurement runs in a fresh child process, which reports its wall time,
CPU time and peak resident memory (``ru_maxrss``):

``ours_build``
    :func:`coverage.area_build.build_area`: boundaries, census, the one-pass
    pyosmium clip, road network, dasymetric grid, facilities, report, files;
``ours_network``
    the road-network part of it: :func:`coverage.osm_extract.clip_osm` to the
    county plus 3 km, then :func:`coverage.network.read_osm`;
``peer``
    what a planner would write with osmnx on the same file: osmnx reads OSM
    XML only, so the ``.osm.pbf`` is converted to ``.osm`` first (not timed,
    printed), then ``osmnx.graph_from_xml`` (whole file into networkx) and
    ``osmnx.truncate.truncate_graph_polygon`` to the same county-plus-3 km
    polygon — the ``graph_from_polygon`` step on a local file.

The peer runs with a wall-clock limit (``--peer-limit``, default 600 s) and
a 16 GB address-space limit; when it is stopped the ratio is a lower bound
(``limit / ours``). Lines ``ratio area_network_<size> <peer / ours>`` (CPU
seconds, which other jobs on a shared machine do not inflate) and
``ratio area_network_<size>_wall`` (wall seconds) end the output.

Run ``python benchmarks/bench_area_build.py`` (``--sizes 4,8`` for a quick
run; the generated files are kept in ``--cache``, default /tmp/cultcov-bench).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
COUNTY = "510108"
BUFFER_M = 3000.0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _county_polygon():
    import geopandas as gpd
    import shapely

    from coverage.admin_regions import region_polygons, resolve_counties
    from coverage.geo import utm_crs_for

    g = region_polygons(resolve_counties([COUNTY]))
    c = g.geometry.iloc[0].centroid
    crs = utm_crs_for(c.x, c.y)
    m = g.to_crs(crs).geometry.iloc[0]
    return gpd.GeoSeries([shapely.buffer(m, BUFFER_M)], crs=crs).to_crs("EPSG:4326").iloc[0], crs


def child(task: str, path: str, out: str) -> dict:
    """Run one measurement in this process; returns its figures."""
    t0, c0 = time.perf_counter(), _cpu_s()
    info: dict = {}
    if task == "ours_build":
        from coverage.area_build import build_area

        res = build_area(out, osm=path, counties=[COUNTY], buffer_m=BUFFER_M, overwrite=True)
        info = {"units": len(res.units), "facilities": len(res.facilities),
                "road_km": round(res.stats["road_km"], 1)}
    elif task == "ours_network":
        from coverage.network import read_osm
        from coverage.osm_extract import clip_osm

        poly, crs = _county_polygon()
        clip = clip_osm(path, poly.bounds, Path(out) / "clip.osm.pbf")
        net = read_osm(clip.path, crs=crs, modes=())
        info = {"nodes": net.n_nodes, "edges": net.n_edges, "ways_seen": clip.n_ways_seen}
    elif task == "peer":
        import osmnx as ox

        poly, _ = _county_polygon()
        G = ox.graph_from_xml(path, simplify=False, retain_all=True)
        n_all = G.number_of_nodes()
        G = ox.truncate.truncate_graph_polygon(G, poly, truncate_by_edge=True)
        info = {"nodes": G.number_of_nodes(), "edges": G.number_of_edges(), "nodes_read": n_all}
    else:
        raise SystemExit(f"unknown task {task}")
    return {"task": task, "seconds": time.perf_counter() - t0, "cpu_s": _cpu_s() - c0,
            "peak_mb": _peak_mb(), **info}


def run_child(task: str, path: Path, out: Path, limit_s: float | None = None,
              mem_gb: float | None = None) -> dict:
    cmd = [sys.executable, __file__, "--child", task, str(path), str(out)]

    def limits():
        if mem_gb:
            b = int(mem_gb * 1024 ** 3)
            resource.setrlimit(resource.RLIMIT_AS, (b, b))

    def children_cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime

    t0, c0 = time.perf_counter(), children_cpu()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=limit_s, preexec_fn=limits)
    except subprocess.TimeoutExpired:  # the child is killed and reaped: its CPU time is counted
        return {"task": task, "stopped": f"no answer after {limit_s:.0f} s", "seconds": time.perf_counter() - t0,
                "cpu_s": children_cpu() - c0}
    if p.returncode != 0:
        tail = (p.stderr.strip().splitlines() or ["?"])[-1]
        return {"task": task, "stopped": f"failed: {tail[:200]}", "seconds": time.perf_counter() - t0,
                "cpu_s": children_cpu() - c0}
    return json.loads(p.stdout.strip().splitlines()[-1])


def _to_xml(pbf: Path) -> tuple[Path, float]:
    import osmium

    xml = pbf.with_suffix("").with_suffix(".osm")
    if xml.exists() and xml.stat().st_mtime >= pbf.stat().st_mtime:
        return xml, 0.0
    t0 = time.perf_counter()
    tmp = xml.with_name(".part-" + xml.name)
    if tmp.exists():
        tmp.unlink()
    h = osmium.WriteHandler(str(tmp))
    osmium.apply(str(pbf), h)
    h.close()
    tmp.replace(xml)
    return xml, time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", nargs=3, metavar=("TASK", "PATH", "OUT"), help=argparse.SUPPRESS)
    ap.add_argument("--sizes", default="4,8,32", help="tiles per side of the generated files (default 4,8,32)")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/cultcov-bench"))
    ap.add_argument("--peer-limit", type=float, default=600.0, metavar="S")
    ap.add_argument("--peer-mem-gb", type=float, default=16.0)
    ap.add_argument("--no-peer-above", type=int, default=32, metavar="TILES",
                    help="skip the peer for larger files (its XML alone is about 20 bytes per node)")
    args = ap.parse_args(argv)
    if args.child:
        task, path, out = args.child
        Path(out).mkdir(parents=True, exist_ok=True)
        print(json.dumps(child(task, path, out)))
        return 0

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from make_province_osm import make

    args.cache.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    ratios = []
    for tiles in [int(s) for s in args.sizes.split(",") if s]:
        pbf = args.cache / f"tiled{tiles}.osm.pbf"
        if not pbf.exists():
            t0 = time.perf_counter()
            info = make(pbf, tiles)
            print(f"generated {pbf.name}: {info} in {time.perf_counter() - t0:.0f} s")
        size_mb = pbf.stat().st_size / 1e6
        name = f"{tiles * tiles}tiles"
        print(f"\n== {pbf.name}: {size_mb:.0f} MB, {tiles * tiles} copies of the Chengdu extract")
        build = run_child("ours_build", pbf, args.cache / f"area-{tiles}")
        print(f"ours  full build of 成华区: {build.get('seconds', 0):.1f} s wall, {build.get('cpu_s', 0):.1f} s CPU, "
              f"peak {build.get('peak_mb', 0):.0f} MB  {({k: v for k, v in build.items() if k not in ('task',)})}")
        net = run_child("ours_network", pbf, args.cache / f"net-{tiles}")
        print(f"ours  clip + road network:  {net['seconds']:.1f} s wall, {net['cpu_s']:.1f} s CPU, "
              f"peak {net['peak_mb']:.0f} MB, {net['nodes']:,} nodes, {net['edges']:,} directed edges")
        if tiles > args.no_peer_above:
            print("peer  skipped (--no-peer-above)")
            continue
        xml, conv = _to_xml(pbf)
        print(f"peer  input converted to XML: {xml.stat().st_size / 1e6:.0f} MB"
              + (f" in {conv:.1f} s (not timed below)" if conv else " (cached)"))
        peer = run_child("peer", xml, args.cache / f"peer-{tiles}", limit_s=args.peer_limit,
                         mem_gb=args.peer_mem_gb)
        stopped = "stopped" in peer
        if stopped:
            print(f"peer  osmnx graph_from_xml + truncate_graph_polygon: {peer['stopped']} "
                  f"({peer['seconds']:.0f} s wall, {peer['cpu_s']:.1f} s CPU)")
        else:
            print(f"peer  osmnx graph_from_xml + truncate_graph_polygon: {peer['seconds']:.1f} s wall, "
                  f"{peer['cpu_s']:.1f} s CPU, peak {peer['peak_mb']:.0f} MB, {peer['nodes']:,} nodes, "
                  f"{peer['edges']:,} edges (of {peer['nodes_read']:,} nodes read)")
        ratios.append((f"area_network_{name}", peer["cpu_s"] / net["cpu_s"], stopped))
        ratios.append((f"area_network_{name}_wall", peer["seconds"] / net["seconds"], stopped))
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    print()
    for nm, r, lower in ratios:
        print(f"ratio {nm} {r:.1f}" + ("  (lower bound: the peer was stopped or failed before an answer)" if lower else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
