"""Build the offline basemap ``data/chengdu/basemap.gpkg`` from the OSM extract.

Reads ``data/chengdu/chengdu_core_2018.osm.pbf`` with pyosmium and writes four
light layers, simplified and clipped to the extent of the extract, in the
metric CRS of the study area (EPSG:32648):

``roads``
    LineStrings of every ``highway=*`` way drawn on a map, with the OSM
    ``highway`` value and a ``road_class`` (``major``, ``secondary``, ``minor``,
    ``path``) that sets the line style.
``water``
    Polygons of ``natural=water``, ``waterway=riverbank`` and
    ``landuse=reservoir``/``basin``.
``waterways``
    Centre lines of ``waterway=river``/``canal``/``stream`` (rivers mapped only
    as lines would otherwise be missing).
``green``
    Polygons of ``leisure=park``/``garden``, ``landuse=grass``/``forest``/
    ``village_green`` and ``natural=wood``.

Run from the repository root::

    python scripts/build_basemap.py [--pbf PATH] [--out PATH] [--tolerance-m 3]

Data © OpenStreetMap contributors, ODbL 1.0.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import geopandas as gpd
import osmium
import shapely
from shapely import wkb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coverage.geo import CHENGDU_CRS, WGS84  # noqa: E402

ROAD_CLASS = {
    **dict.fromkeys(["motorway", "motorway_link", "trunk", "trunk_link",
                     "primary", "primary_link"], "major"),
    **dict.fromkeys(["secondary", "secondary_link", "tertiary", "tertiary_link"],
                    "secondary"),
    **dict.fromkeys(["residential", "unclassified", "living_street", "service",
                     "road"], "minor"),
    **dict.fromkeys(["footway", "pedestrian", "cycleway", "path", "steps",
                     "track", "bridleway"], "path"),
}
WATER_AREA = {("natural", "water"), ("waterway", "riverbank"),
              ("landuse", "reservoir"), ("landuse", "basin")}
WATER_LINE = {"river", "canal", "stream"}
GREEN_AREA = {("leisure", "park"), ("leisure", "garden"), ("landuse", "grass"),
              ("landuse", "forest"), ("landuse", "village_green"),
              ("natural", "wood")}


def _match(tags: osmium.osm.TagList, pairs: set[tuple[str, str]]) -> bool:
    return any(tags.get(k) == v for k, v in pairs)


def read_layers(pbf: Path) -> dict[str, gpd.GeoDataFrame]:
    """Read roads, water, waterways and green space from ``pbf`` (WGS84)."""
    factory = osmium.geom.WKBFactory()
    rows: dict[str, list[dict]] = {"roads": [], "water": [], "waterways": [], "green": []}
    processor = osmium.FileProcessor(str(pbf)).with_locations().with_areas()
    for obj in processor:
        tags = obj.tags
        try:
            if obj.is_way():
                highway = tags.get("highway")
                if highway in ROAD_CLASS and tags.get("area") != "yes":
                    rows["roads"].append({
                        "osm_id": int(obj.id), "highway": highway,
                        "road_class": ROAD_CLASS[highway], "name": tags.get("name", ""),
                        "geometry": wkb.loads(factory.create_linestring(obj), hex=True),
                    })
                elif tags.get("waterway") in WATER_LINE:
                    rows["waterways"].append({
                        "osm_id": int(obj.id), "waterway": tags.get("waterway"),
                        "name": tags.get("name", ""),
                        "geometry": wkb.loads(factory.create_linestring(obj), hex=True),
                    })
            elif obj.is_area():
                layer = ("water" if _match(tags, WATER_AREA)
                         else "green" if _match(tags, GREEN_AREA) else None)
                if layer:
                    rows[layer].append({
                        "osm_id": int(obj.orig_id()),
                        "name": tags.get("name", ""),
                        "geometry": wkb.loads(factory.create_multipolygon(obj), hex=True),
                    })
        except (osmium.InvalidLocationError, RuntimeError):
            # Ways cut by the extract boundary lack node locations.
            continue
    return {name: gpd.GeoDataFrame(r, geometry="geometry", crs=WGS84)
            for name, r in rows.items()}


def build(pbf: Path, out: Path, *, tolerance_m: float = 3.0,
          crs: str = CHENGDU_CRS) -> dict[str, int]:
    """Write the basemap layers of ``pbf`` to ``out``; return feature counts."""
    layers = read_layers(pbf)
    roads = layers["roads"].to_crs(crs)
    extent = shapely.box(*roads.total_bounds)
    if out.exists():
        out.unlink()
    counts = {}
    for name, gdf in layers.items():
        gdf = gdf.to_crs(crs)
        gdf["geometry"] = shapely.make_valid(gdf.geometry.values)
        gdf["geometry"] = gdf.geometry.intersection(extent)
        gdf["geometry"] = gdf.geometry.simplify(tolerance_m, preserve_topology=True)
        gdf = gdf[~gdf.geometry.is_empty & gdf.geometry.notna()]
        if name in ("water", "green"):
            gdf = gdf[gdf.geometry.area >= 200.0]
            gdf["geometry"] = gdf.geometry.apply(
                lambda g: shapely.MultiPolygon(
                    [p for p in getattr(g, "geoms", [g]) if p.geom_type == "Polygon"]))
        else:
            gdf["geometry"] = gdf.geometry.apply(
                lambda g: shapely.line_merge(g) if g.geom_type == "GeometryCollection"
                or g.geom_type == "MultiLineString" else g)
            gdf = gdf[gdf.geometry.geom_type.isin(["LineString", "MultiLineString"])]
        gdf = gdf.sort_values("osm_id").reset_index(drop=True)
        gdf.to_file(out, layer=name, driver="GPKG")
        counts[name] = len(gdf)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pbf", type=Path,
                        default=ROOT / "data" / "chengdu" / "chengdu_core_2018.osm.pbf")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "chengdu" / "basemap.gpkg")
    parser.add_argument("--tolerance-m", type=float, default=3.0,
                        help="Douglas-Peucker simplification tolerance in metres")
    args = parser.parse_args(argv)
    counts = build(args.pbf, args.out, tolerance_m=args.tolerance_m)
    print(f"wrote {args.out}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
