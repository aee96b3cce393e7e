"""Rebuild the embedded central-Chengdu study area under data/chengdu/.

Inputs (all shipped under data/):
  data/chengdu/chengdu_core_2018.osm.pbf     OSM extract (ODbL, © OpenStreetMap contributors)
  data/chengdu/districts_raw.geojson         5 district polygons (geoBoundaries, ODbL)
  data/chengdu/culture_poi_osm_raw.csv       culture POIs of the same extract (ODbL)
  data/census/census2020_county.csv          2020 census per county

Outputs (committed, so the app needs no build step):
  data/chengdu/districts.geojson             units: unit_id, name, name_en, unit_type, pop,
                                             pop_census, share_in_extent, pct_0_14, pct_65_plus
  data/chengdu/population_grid.gpkg          200 m dasymetric population grid (EPSG:32648)
  data/chengdu/facilities.csv                de-duplicated culture facilities with types
  data/chengdu/build_report.txt              what the build did, with the reconciliation

Run:  python scripts/build_chengdu.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coverage.geo import CHENGDU_CRS  # noqa: E402
from coverage.population import (  # noqa: E402
    DasymetricWeights, ancillary_scores, dasymetric_grid, make_grid, read_osm_ancillary)
from coverage.study_area import CHENGDU_EXTENT_LONLAT  # noqa: E402

DATA = ROOT / "data"
OUT = DATA / "chengdu"
CELL_M = 200.0

# OSM element -> canonical type and whether it is open to the public
POI_TYPES = {
    "金沙博物馆": ("museum", True),
    "成都永陵博物馆": ("museum", True),
    "成都博物馆": ("museum", True),
    "四川科技馆": ("science_museum", True),
    "四川美术馆": ("art_gallery", True),
    "四川大剧院": ("theatre", True),
    "文化宫": ("workers_palace", True),
    "成都市图书馆": ("library", True),
    "四川省图书馆": ("library", True),
    "交大图书馆": ("library", False),          # university library
    "图书馆（沙河校区）": ("library", False),  # university library
}
NAME_FIXES = {  # rows whose Chinese name is missing in OSM
    "Shu Feng Ya Yun Sichuan Opera": ("蜀风雅韵", "theatre", True),
}


def build_districts(extent_m: shapely.Geometry) -> gpd.GeoDataFrame:
    raw = gpd.read_file(OUT / "districts_raw.geojson").to_crs(CHENGDU_CRS)
    census = pd.read_csv(DATA / "census" / "census2020_county.csv")
    census = census.set_index("adcode")
    area = raw.geometry.area
    inside = raw.geometry.intersection(extent_m).area
    share = (inside / area).to_numpy()
    rows = census.loc[raw["adcode"].astype(int)]
    pop_census = rows["pop_total"].to_numpy(np.int64)
    units = gpd.GeoDataFrame({
        "unit_id": raw["adcode"].astype(str).to_numpy(),
        "name": raw["name"].to_numpy(),
        "name_en": raw["sourceName"].to_numpy(),
        "unit_type": "区",
        "pop": np.round(pop_census * share).astype(np.int64),
        "pop_census": pop_census,
        "share_in_extent": np.round(share, 4),
        "area_km2": np.round(area.to_numpy() / 1e6, 2),
        "area_in_extent_km2": np.round(inside.to_numpy() / 1e6, 2),
        "pct_0_14": rows["pct_0_14"].to_numpy(),
        "pct_65_plus": rows["pct_65_plus"].to_numpy(),
    }, geometry=raw.geometry.to_numpy(), crs=CHENGDU_CRS)
    return units


def build_grid(units: gpd.GeoDataFrame, extent_m: shapely.Geometry, report: list[str]) -> gpd.GeoDataFrame:
    anc = read_osm_ancillary(OUT / "chengdu_core_2018.osm.pbf", crs=CHENGDU_CRS)
    report.append(f"ancillary layers: {len(anc.residential)} residential polygons, {len(anc.buildings)} buildings, "
                  f"{len(anc.uninhabited)} uninhabited polygons, {len(anc.roads)} road lines")
    cells = make_grid(extent_m.bounds, cell_m=CELL_M, crs=CHENGDU_CRS)
    scores = ancillary_scores(cells, anc, DasymetricWeights())
    grid = dasymetric_grid(units, cell_m=CELL_M, extent=extent_m, scores=scores["score"], cells=cells)
    sums = grid.groupby("unit_id")["pop"].sum()
    report.append("reconciliation (sum of grid cells vs scaled census, residents):")
    for uid, name, pop in zip(units["unit_id"], units["name"], units["pop"]):
        report.append(f"  {uid} {name}: grid {sums.get(uid, 0.0):,.1f}  scaled census {pop:,}")
    grid["pop"] = grid["pop"].round(3)
    return grid


def build_facilities(extent_lonlat: tuple[float, float, float, float], report: list[str]) -> pd.DataFrame:
    raw = pd.read_csv(OUT / "culture_poi_osm_raw.csv")
    rows = []
    for r in raw.itertuples(index=False):
        name = r.name if isinstance(r.name, str) and r.name else None
        if name is None and r.name_en in NAME_FIXES:
            name, ftype, public = NAME_FIXES[r.name_en]
        elif name in POI_TYPES:
            ftype, public = POI_TYPES[name]
        else:
            report.append(f"  skipped unknown POI {r.osm_type}/{r.osm_id} {r.name!r}")
            continue
        rows.append(dict(name=name, name_en=r.name_en if isinstance(r.name_en, str) else "",
                         type=ftype, public=public, lon=r.lon, lat=r.lat,
                         osm_type=r.osm_type, osm_id=int(r.osm_id), addr=r.addr if isinstance(r.addr, str) else ""))
    df = pd.DataFrame(rows)
    # de-duplicate: the same name within 300 m is one facility; prefer the way/relation (its centroid)
    pts = gpd.GeoSeries(gpd.points_from_xy(df.lon, df.lat), crs="EPSG:4326").to_crs(CHENGDU_CRS)
    df["_x"], df["_y"] = pts.x.to_numpy(), pts.y.to_numpy()
    rank = df["osm_type"].map({"relation": 0, "way": 1, "node": 2})
    df = df.assign(_rank=rank).sort_values(["name", "_rank"])
    keep = []
    for name, g in df.groupby("name", sort=False):
        first = g.iloc[0]
        dist = np.hypot(g["_x"] - first["_x"], g["_y"] - first["_y"])
        keep.append(g.index[0])
        for idx in g.index[(dist > 300).to_numpy()]:
            keep.append(idx)
        dropped = g.index[(dist <= 300).to_numpy()][1:]
        for idx in dropped:
            report.append(f"  duplicate of {name}: {df.at[idx, 'osm_type']}/{df.at[idx, 'osm_id']} merged")
    df = df.loc[sorted(set(keep))]
    minlon, minlat, maxlon, maxlat = extent_lonlat
    inside = df.lon.between(minlon, maxlon) & df.lat.between(minlat, maxlat)
    for r in df[~inside].itertuples():
        report.append(f"  outside the extract's road data, not shipped: {r.name} ({r.lon:.4f}, {r.lat:.4f})")
    df = df[inside].sort_values(["type", "name"]).reset_index(drop=True)
    df.insert(0, "facility_id", [f"OSM-{t[0].upper()}{i}" for t, i in zip(df.osm_type, df.osm_id)])
    df["capacity"] = np.nan
    df["floor_area_m2"] = np.nan
    cols = ["facility_id", "name", "name_en", "type", "public", "capacity", "floor_area_m2",
            "lon", "lat", "addr", "osm_type", "osm_id"]
    report.append(f"facilities shipped: {len(df)}")
    return df[cols]


def main() -> None:
    report: list[str] = ["Build of the embedded central-Chengdu study area", ""]
    extent_ll = shapely.box(*CHENGDU_EXTENT_LONLAT)
    extent_m = gpd.GeoSeries([extent_ll], crs="EPSG:4326").to_crs(CHENGDU_CRS).iloc[0]
    units = build_districts(extent_m)
    for r in units.itertuples():
        report.append(f"{r.unit_id} {r.name}: census {r.pop_census:,}, {r.share_in_extent:.1%} of its area "
                      f"inside the extract -> {r.pop:,} residents")
    grid = build_grid(units, extent_m, report)
    report.append("facilities:")
    fac = build_facilities(CHENGDU_EXTENT_LONLAT, report)

    units.to_crs("EPSG:4326").to_file(OUT / "districts.geojson", driver="GeoJSON")
    out = OUT / "population_grid.gpkg"
    if out.exists():
        out.unlink()
    grid.to_file(out, layer="population_grid", driver="GPKG")
    fac.to_csv(OUT / "facilities.csv", index=False)
    report.append(f"grid: {len(grid)} pieces in {grid['grid_id'].nunique()} cells of {CELL_M:.0f} m, "
                  f"{grid['pop'].sum():,.0f} residents")
    (OUT / "build_report.txt").write_text("\n".join(report) + "\n", encoding="utf-8")
    print("\n".join(report))


if __name__ == "__main__":
    main()
