"""Make a province-size ``.osm.pbf`` by tiling the embedded Chengdu extract.

The embedded extract (about 8.4 km × 8.3 km, 24,617 nodes, 3,820 ways) is
copied onto a ``--tiles`` × ``--tiles`` raster of positions 0.09° apart in
longitude and 0.08° in latitude, centred on the original (which stays where
it is, so 成华区 lies in the middle tile). Every copy gets its own id range
(``tile × 10^10`` added to node, way and relation ids); tags are kept. The
default 32 × 32 tiles give about 25 million nodes and 3.9 million ways
(275 MB), the size of a Chinese province extract.

Run ``python benchmarks/make_province_osm.py --out /tmp/province.osm.pbf``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "data" / "chengdu" / "chengdu_core_2018.osm.pbf"
ID_STRIDE = 10_000_000_000
DLON, DLAT = 0.09, 0.08


def _read(path: Path):
    import osmium

    nodes, ways, rels = [], [], []
    for o in osmium.FileProcessor(str(path)):
        tags = {t.k: t.v for t in o.tags}
        if o.is_node():
            nodes.append((o.id, o.location.lon, o.location.lat, tags))
        elif o.is_way():
            ways.append((o.id, [n.ref for n in o.nodes], tags))
        else:
            rels.append((o.id, [(m.type, m.ref, m.role) for m in o.members], tags))
    nodes.sort()
    ways.sort(key=lambda w: w[0])
    rels.sort(key=lambda r: r[0])
    return nodes, ways, rels


def make(out: Path, tiles: int = 32, *, timestamp: str = "2018-07-01T00:00:00Z") -> dict:
    """Write the tiled file; return counts."""
    import osmium
    from osmium.osm.mutable import Node, Relation, Way

    nodes, ways, rels = _read(SRC)
    half = tiles // 2
    offsets = [((i - half) * DLON, (j - half) * DLAT) for j in range(tiles) for i in range(tiles)]
    tmp = out.with_name(".part-" + out.name)
    if tmp.exists():
        tmp.unlink()
    ids = np.array([n[0] for n in nodes], np.int64)
    lons = np.array([n[1] for n in nodes])
    lats = np.array([n[2] for n in nodes])
    ntags = [n[3] for n in nodes]
    ts = timestamp
    w = osmium.SimpleWriter(str(tmp))
    try:
        for k, (dx, dy) in enumerate(offsets):
            base = k * ID_STRIDE
            for i, x, y, t in zip((ids + base).tolist(), (lons + dx).tolist(), (lats + dy).tolist(), ntags):
                w.add_node(Node(id=i, location=(x, y), tags=t, version=1, timestamp=ts))
        for k in range(len(offsets)):
            base = k * ID_STRIDE
            for wid, refs, t in ways:
                w.add_way(Way(id=wid + base, nodes=[r + base for r in refs], tags=t, version=1, timestamp=ts))
        for k in range(len(offsets)):
            base = k * ID_STRIDE
            for rid, members, t in rels:
                w.add_relation(Relation(id=rid + base, members=[(mt, ref + base, role) for mt, ref, role in members],
                                        tags=t, version=1, timestamp=ts))
    finally:
        w.close()
    tmp.replace(out)
    return {"tiles": len(offsets), "nodes": len(nodes) * len(offsets), "ways": len(ways) * len(offsets),
            "relations": len(rels) * len(offsets), "bytes": out.stat().st_size}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--tiles", type=int, default=32)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    info = make(args.out, args.tiles)
    print(f"wrote {args.out}: {info} in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
