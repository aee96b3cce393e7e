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
``labels``
    Points with the names a planner finds places by: road names (one label
    per named road part of at least 300 m, at its middle), districts
    (``place=suburb``), neighbourhoods, metro stations, parks and landmarks
    (tourist attractions, monuments, universities, hospitals, libraries).
    ``kind`` says which, ``min_zoom`` from which web-map zoom level on the
    label is shown, ``name``/``name_en`` the Chinese and English names.

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
#: Named OSM features drawn as labels: (key, value or None for any) -> kind.
LABEL_TAGS = {
    ("place", "suburb"): "district", ("place", "quarter"): "neighbourhood",
    ("place", "neighbourhood"): "neighbourhood", ("railway", "station"): "station",
    ("leisure", "park"): "park", ("tourism", "attraction"): "landmark",
    ("tourism", "museum"): "landmark", ("tourism", "viewpoint"): "landmark",
    ("historic", None): "landmark", ("amenity", "university"): "landmark",
    ("amenity", "hospital"): "landmark", ("amenity", "library"): "landmark",
}
#: Web-map zoom level from which each kind of label is shown.
LABEL_MIN_ZOOM = {"district": 12, "road_major": 13, "road_secondary": 15, "park": 15,
                  "station": 16, "landmark": 16, "road_minor": 17, "neighbourhood": 17}
#: Shortest named road part that gets a label, metres.
ROAD_LABEL_MIN_M = 300.0
#: Labels of one road name closer than this are drawn once, metres.
ROAD_LABEL_SPACING_M = 1000.0


def _label_kind(tags: osmium.osm.TagList) -> str | None:
    for (k, v), kind in LABEL_TAGS.items():
        if k in tags and (v is None or tags.get(k) == v):
            return kind
    return None


def split_name(name: str, name_en: str = "") -> tuple[str, str]:
    """Chinese and English name from OSM's ``name`` (sometimes "中文 - English") and ``name:en``."""
    name = (name or "").strip()
    if " - " in name:
        zh, en = (p.strip() for p in name.split(" - ", 1))
        return zh, (name_en or en).strip()
    return name, (name_en or "").strip()


def _match(tags: osmium.osm.TagList, pairs: set[tuple[str, str]]) -> bool:
    return any(tags.get(k) == v for k, v in pairs)


def read_layers(pbf: Path) -> dict[str, gpd.GeoDataFrame]:
    """Read roads, water, waterways and green space from ``pbf`` (WGS84)."""
    factory = osmium.geom.WKBFactory()
    rows: dict[str, list[dict]] = {"roads": [], "water": [], "waterways": [], "green": [], "places": []}
    processor = osmium.FileProcessor(str(pbf)).with_locations().with_areas()
    for obj in processor:
        tags = obj.tags
        try:
            if (obj.is_node() or obj.is_area()) and tags.get("name") and _label_kind(tags):
                zh, en = split_name(tags.get("name"), tags.get("name:en", ""))
                geom = (wkb.loads(factory.create_point(obj), hex=True) if obj.is_node()
                        else wkb.loads(factory.create_multipolygon(obj), hex=True).representative_point())
                rows["places"].append({"osm_id": int(obj.id if obj.is_node() else obj.orig_id()),
                                       "kind": _label_kind(tags), "name": zh, "name_en": en,
                                       "geometry": geom})
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


def road_labels(roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One label point per named road part of at least :data:`ROAD_LABEL_MIN_M` (metric CRS).

    Ways of one name are merged; each connected part long enough gets a label
    at its middle, longest first, unless a label of the same name lies within
    :data:`ROAD_LABEL_SPACING_M` (the two carriageways of a divided road get one).
    """
    rank = {"major": 0, "secondary": 1, "minor": 2}
    named = roads[roads["name"].astype(str).str.strip().ne("") & roads["road_class"].isin(list(rank))].copy()
    pairs = [split_name(str(n)) for n in named["name"]]
    named["zh"], named["en"] = [p[0] for p in pairs], [p[1] for p in pairs]
    rows = []
    for zh, grp in named.groupby("zh", sort=True):
        cls = min(grp["road_class"], key=rank.__getitem__)
        en = next((e for e in grp["en"] if e), "")
        merged = shapely.line_merge(shapely.union_all(grp.geometry.values))
        parts = sorted(shapely.get_parts(merged), key=lambda g: -g.length)
        kept: list[shapely.Point] = []
        for part in parts:
            if part.length < ROAD_LABEL_MIN_M:
                break
            at = part.interpolate(0.5, normalized=True)
            if all(at.distance(k) >= ROAD_LABEL_SPACING_M for k in kept):
                kept.append(at)
                rows.append({"osm_id": int(grp["osm_id"].min()), "kind": f"road_{cls}", "name": zh,
                             "name_en": en, "geometry": at})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=roads.crs,
                            columns=["osm_id", "kind", "name", "name_en", "geometry"])


def labels_layer(roads: gpd.GeoDataFrame, places: gpd.GeoDataFrame, extent: shapely.Geometry) -> gpd.GeoDataFrame:
    """Road, district, neighbourhood, station, park and landmark labels inside ``extent`` (metric CRS)."""
    import pandas as pd

    places = places.to_crs(roads.crs)
    places = places[places.geometry.within(extent)]
    out = pd.concat([road_labels(roads), places], ignore_index=True)
    out = out.drop_duplicates(subset=["kind", "name", "geometry"])
    out["min_zoom"] = out["kind"].map(LABEL_MIN_ZOOM).astype(int)
    out = out.sort_values(["min_zoom", "kind", "name", "osm_id"], kind="stable").reset_index(drop=True)
    return gpd.GeoDataFrame(out[["kind", "name", "name_en", "min_zoom", "osm_id", "geometry"]],
                            geometry="geometry", crs=roads.crs)


def build(pbf: Path, out: Path, *, tolerance_m: float = 3.0,
          crs: str = CHENGDU_CRS) -> dict[str, int]:
    """Write the basemap layers of ``pbf`` to ``out``; return feature counts."""
    layers = read_layers(pbf)
    places = layers.pop("places")
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
        if name == "roads":
            labels = labels_layer(gdf, places, extent)
    labels.to_file(out, layer="labels", driver="GPKG")
    counts["labels"] = len(labels)
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
