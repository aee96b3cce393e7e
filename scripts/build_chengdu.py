"""Rebuild the embedded central-Chengdu study area under data/chengdu/.

The same code path as ``cultcov area build`` (:func:`coverage.area_build.build_area`)
with the inputs shipped under data/:

  data/chengdu/chengdu_core_2018.osm.pbf     OSM extract (ODbL, © OpenStreetMap contributors);
                                             its <bounds> (CHENGDU_EXTENT_LONLAT) are the data extent
  data/chengdu/districts_raw.geojson         5 district polygons (geoBoundaries, ODbL), used
                                             instead of the boundary package so the committed
                                             grid stays the same
  data/chengdu/facility_fixes.csv            a Chinese name OSM lacks (extends the OSM facilities)
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

import shutil
import sys
import tempfile
from pathlib import Path

import geopandas as gpd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coverage.area_build import AreaBuild, build_area  # noqa: E402
from coverage.geo import CHENGDU_CRS  # noqa: E402
from coverage.study_area import CHENGDU_EXTENT_LONLAT  # noqa: E402

DATA = ROOT / "data"
OUT = DATA / "chengdu"
CELL_M = 200.0

#: What changed against the earlier build from a hand-made POI table.
HISTORY = """
Differences from the earlier build (hand-typed POI table):
  districts and population grid: identical.
  facilities: now read from the OSM extract by the same rules as any county build:
    + 科普馆 (way 540378347, building named 科普馆) is a new science_museum;
    - the two 文化宫 nodes and 金沙博物馆 are subway stops/stations (railway/public_transport tags),
      not facilities; they were outside the road data and never shipped;
    university libraries (交大图书馆, 图书馆（沙河校区）) are still marked non-public, now by name rule.
"""


def build(out: Path) -> AreaBuild:
    """Build the Chengdu area into the new folder ``out``."""
    raw = gpd.read_file(OUT / "districts_raw.geojson").rename(columns={"sourceName": "name_en"})
    return build_area(
        out, osm=OUT / "chengdu_core_2018.osm.pbf", boundaries=raw, osm_bounds=CHENGDU_EXTENT_LONLAT,
        facilities=OUT / "facility_fixes.csv", facilities_mode="extend", crs=CHENGDU_CRS,
        cell_m=CELL_M, data_date="2018-07", name="central Chengdu")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        res = build(Path(tmp) / "chengdu")
        gpd.read_file(res.out / "boundaries.geojson").to_file(OUT / "districts.geojson", driver="GeoJSON")
        shutil.copyfile(res.out / "population_grid.gpkg", OUT / "population_grid.gpkg")
        shutil.copyfile(res.out / "facilities.csv", OUT / "facilities.csv")
        text = (res.out / "build_report.txt").read_text(encoding="utf-8")
        lines = [ln for ln in text.splitlines() if not ln.startswith("built ")]
        (OUT / "build_report.txt").write_text("\n".join(lines) + "\n" + HISTORY, encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
