"""Tests for coverage.boundaries: unit types, the boundary loader and the census join."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import coverage
from coverage.boundaries import (
    CANONICAL_UNIT_TYPES,
    UNIT_TYPES,
    join_census,
    load_boundaries,
    normalise_unit_type,
    unit_type_from_name,
)
from coverage.errors import InputError
from coverage.facilities import to_wgs84

ROOT = Path(coverage.__file__).resolve().parent.parent
RAW_DISTRICTS = ROOT / "data" / "chengdu" / "districts_raw.geojson"
CENSUS = ROOT / "data" / "census" / "census2020_county.csv"
MIXED = Path(__file__).resolve().parent / "data" / "boundaries" / "units_mixed.geojson"
CRS = "EPSG:32648"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def square(x0: float, y0: float, d: float = 0.01) -> shapely.Polygon:
    return shapely.box(x0, y0, x0 + d, y0 + d)


def layer(tmp_path: Path, props: list[dict], geoms: list, name: str = "units.geojson",
          crs: str | None = "EPSG:4326") -> Path:
    gdf = gpd.GeoDataFrame(props, geometry=geoms, crs=crs)
    path = tmp_path / name
    gdf.to_file(path)
    return path


# ---------------------------------------------------------------------------
# unit types
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("区", "区"), ("市辖区", "区"), ("district", "区"), ("District", "区"),
    ("县", "县"), ("旗", "县"), ("自治县", "县"), ("county", "县"),
    ("县级市", "县级市"), ("county_level_city", "县级市"), ("County-level city", "县级市"),
    ("街道", "街道"), ("subdistrict", "街道"), ("乡镇", "乡镇"), ("镇", "乡镇"),
    ("township", "乡镇"), ("省", None), ("", None), (None, None),
])
def test_normalise_unit_type(value, expected):
    assert normalise_unit_type(value) == expected


def test_unit_types_cover_the_canonical_types():
    assert set(UNIT_TYPES.values()) == set(CANONICAL_UNIT_TYPES)
    for t in CANONICAL_UNIT_TYPES:
        assert UNIT_TYPES[t] == t


@pytest.mark.parametrize("name, expected", [
    ("锦江区", "区"), ("金堂县", "县"), ("都江堰市", "县级市"), ("春熙路街道", "街道"),
    ("三星镇", "乡镇"), ("福兴乡", "乡镇"), ("阿荣旗", "县"), ("峨边彝族自治县", "县"),
    ("某某街道办事处", "街道"), ("人民公园", None), ("区", None),
])
def test_unit_type_from_name(name, expected):
    assert unit_type_from_name(name) == expected


# ---------------------------------------------------------------------------
# loading good input
# ---------------------------------------------------------------------------

def test_embedded_raw_districts_load_and_join_the_census():
    before = sha(RAW_DISTRICTS)
    units = load_boundaries(RAW_DISTRICTS, crs=CRS)
    assert sha(RAW_DISTRICTS) == before
    assert len(units) == 5
    assert set(units["unit_type"]) == {"区"}
    assert list(units["name"]) == ["锦江区", "青羊区", "金牛区", "武侯区", "成华区"]
    assert list(units["unit_id"]) == ["510104", "510105", "510106", "510107", "510108"]
    assert units.loc[0, "name_en"] == "Jinjiang District"
    assert units.crs.to_epsg() == 32648
    assert units.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    # areas agree with an independent equal-area projection of the raw polygons
    raw = gpd.read_file(RAW_DISTRICTS)
    np.testing.assert_allclose(units.area, raw.to_crs("ESRI:102025").area, rtol=2e-3)
    assert units["pop"].isna().all()

    joined = join_census(units, CENSUS)
    assert joined.loc[joined["name"] == "锦江区", "pop_census"].item() == 902_933
    census = pd.read_csv(CENSUS, dtype={"adcode": str}).set_index("adcode")
    for _, row in joined.iterrows():
        assert row.pop_census == census.loc[row.unit_id, "pop_total"]
        assert row.pct_0_14 == census.loc[row.unit_id, "pct_0_14"]
        assert row.pct_65_plus == census.loc[row.unit_id, "pct_65_plus"]
    assert joined.attrs["notes"] == []
    assert "pop_census" not in units.columns  # the input is not modified


def test_join_by_name_with_and_without_city():
    units = load_boundaries(RAW_DISTRICTS, crs=CRS)
    by_name = join_census(units, on="name", city="成都")  # the embedded table by default
    by_code = join_census(units, CENSUS)
    np.testing.assert_array_equal(by_name["pop_census"], by_code["pop_census"])
    # 鼓楼区 exists in several cities: without `city` the match is ambiguous
    gulou = units.head(2).copy()
    gulou["name"] = ["鼓楼区", "锦江区"]
    joined = join_census(gulou, CENSUS, on="name")
    assert math.isnan(joined["pop_census"].iloc[0])
    assert joined["pop_census"].iloc[1] == 902_933
    assert any("鼓楼区" in n and "`city=`" in n for n in joined.attrs["notes"])


def test_join_reports_unmatched_units_and_refuses_when_none_match(tmp_path):
    units = load_boundaries(MIXED, crs=CRS)
    joined = join_census(units, CENSUS)
    matched = joined.dropna(subset=["pop_census"])
    assert set(matched["name"]) == {"锦江区", "金堂县", "都江堰市", "阿荣旗"}
    note = " ".join(joined.attrs["notes"])
    for name in ("春熙路街道", "三星镇", "福兴乡"):
        assert name in note
    gbk = tmp_path / "census_gbk.csv"
    gbk.write_bytes("行政区划代码,名称,常住人口,pct_0_14,pct_65_plus\n999999,无名区,1,1,1\n"
                    .encode("gbk"))
    with pytest.raises(InputError) as exc:
        join_census(units, gbk)
    assert "no unit matched the census by adcode" in str(exc.value)
    assert "on='name'" in exc.value.problems[0].fix
    with pytest.raises(InputError, match="`on` = 'code'"):
        join_census(units, CENSUS, on="code")
    bad = pd.DataFrame({"adcode": ["510104"], "pop_total": [1]})
    with pytest.raises(InputError, match="no pct_0_14 column"):
        join_census(units, bad)


def test_mixed_unit_types_inferred_from_names_and_population_read():
    units = load_boundaries(MIXED, crs=CRS)
    assert list(units["unit_type"]) == ["区", "县", "县级市", "街道", "乡镇", "乡镇", "县"]
    assert units["pop"].iloc[0] == 902_933
    assert math.isnan(units["pop"].iloc[5])
    assert units["unit_id"].iloc[3] == "510104001"
    assert list(units.columns[:5]) == ["unit_id", "name", "name_en", "unit_type", "pop"]


def test_unit_type_column_with_aliases_and_single_type(tmp_path):
    path = layer(tmp_path, [{"code": 1, "name": "甲", "level": "市辖区"},
                            {"code": 2, "name": "乙", "level": "county"},
                            {"code": 3, "name": "丙", "level": None}],
                 [square(104.0, 30.6), square(104.02, 30.6), square(104.04, 30.6)])
    with pytest.raises(InputError) as exc:  # row 3: no type and the name says nothing
        load_boundaries(path, crs=CRS)
    (p,) = exc.value.problems
    assert p.row == 3 and p.column == "name" and "`unit_type=`" in p.fix
    units = load_boundaries(path, crs=CRS, unit_type="街道")
    assert set(units["unit_type"]) == {"街道"}
    assert list(units["level"][:2]) == ["市辖区", "county"]  # passed through
    assert pd.isna(units["level"].iloc[2])


def test_gcj02_boundaries_are_converted_vertex_by_vertex(tmp_path):
    poly = square(104.06, 30.66)
    path = layer(tmp_path, [{"name": "锦江区"}], [poly])
    units = load_boundaries(path, crs=CRS, coord_system="gcj02")
    back = gpd.GeoSeries(units.geometry, crs=CRS).to_crs("EPSG:4326").iloc[0]
    ring = np.asarray(poly.exterior.coords)
    lon, lat = to_wgs84(ring[:, 0], ring[:, 1], "gcj02")
    np.testing.assert_allclose(np.asarray(back.exterior.coords), np.column_stack([lon, lat]),
                               atol=1e-8)


def test_geodataframe_input_is_not_mutated():
    src = gpd.read_file(MIXED)
    before = src.copy()
    units = load_boundaries(src, crs=CRS)
    pd.testing.assert_frame_equal(pd.DataFrame(src.drop(columns="geometry")),
                                  pd.DataFrame(before.drop(columns="geometry")))
    assert src.crs.to_epsg() == 4326 and src.geom_equals(before.geometry).all()
    assert list(units.index) == list(src.index)


def test_invalid_geometry_is_repaired_with_a_note(tmp_path):
    bowtie = shapely.Polygon([(104.0, 30.6), (104.02, 30.62), (104.02, 30.6), (104.0, 30.62)])
    assert not bowtie.is_valid
    path = layer(tmp_path, [{"name": "甲区"}, {"name": "乙区"}],
                 [square(104.1, 30.6), bowtie])
    units = load_boundaries(path, crs=CRS)
    assert units.is_valid.all()
    assert units.geom_type.iloc[1] in ("Polygon", "MultiPolygon")
    # two triangles, each a quarter of the 0.02-degree square
    expected = gpd.GeoSeries([shapely.box(104.0, 30.6, 104.02, 30.62)], crs="EPSG:4326") \
        .to_crs(CRS).area.iloc[0] / 2
    assert units.area.iloc[1] == pytest.approx(expected, rel=1e-3)
    assert "row 2" in units.attrs["notes"][0] and "make_valid" in units.attrs["notes"][0]


# ---------------------------------------------------------------------------
# refusing bad input
# ---------------------------------------------------------------------------

def test_missing_file_and_wrong_format(tmp_path):
    with pytest.raises(InputError) as exc:
        load_boundaries(tmp_path / "none.gpkg", crs=CRS)
    assert "does not exist" in str(exc.value) and "none.gpkg" in str(exc.value)
    (tmp_path / "units.csv").write_text("name\n甲区\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_boundaries(tmp_path / "units.csv", crs=CRS)
    assert "'.csv' is not a format" in str(exc.value) and ".gpkg" in str(exc.value)


def test_shapefile_without_crs(tmp_path):
    path = layer(tmp_path, [{"name": "甲区"}], [square(104.0, 30.6)], name="units.shp")
    (tmp_path / "units.prj").unlink()
    with pytest.raises(InputError) as exc:
        load_boundaries(path, crs=CRS)
    (p,) = exc.value.problems
    assert p.file == "units.shp" and "no coordinate reference system" in p.message
    assert "Set CRS" in p.fix


def test_empty_layer(tmp_path):
    path = tmp_path / "empty.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    with pytest.raises(InputError, match="the layer has no features"):
        load_boundaries(path, crs=CRS)


def test_every_feature_problem_at_once(tmp_path):
    path = layer(tmp_path, [
        {"adcode": "510104", "名称": "锦江区", "type": "区", "人口": 100},      # 1 ok
        {"adcode": "510105", "名称": "青羊区", "type": "区", "人口": 100},      # 2 point
        {"adcode": "510106", "名称": "金牛区", "type": "省", "人口": 100},      # 3 unknown type
        {"adcode": "510107", "名称": "武侯区", "type": "区", "人口": "约十万"},  # 4 not a number
        {"adcode": "510108", "名称": "成华区", "type": "区", "人口": -3},       # 5 negative
        {"adcode": "510104", "名称": "锦江区", "type": "区", "人口": 1},        # 6 duplicate id
    ], [square(104.0, 30.6), shapely.Point(104.1, 30.6), square(104.2, 30.6),
        square(104.3, 30.6), square(104.4, 30.6), square(104.5, 30.6)], name="units.gpkg")
    with pytest.raises(InputError) as exc:
        load_boundaries(path, crs=CRS)
    probs = exc.value.problems
    by_row = {(p.row, p.column): p for p in probs}
    assert "'青羊区' is a Point, not a polygon" in by_row[(2, "geometry")].message
    assert "Lines to Polygons" in by_row[(2, "geometry")].fix
    assert "unit type '省' is not known" in by_row[(3, "type")].message
    assert "区, 市辖区" in by_row[(3, "type")].fix
    assert "population '约十万' is not a number" in by_row[(4, "人口")].message
    assert "-3 is negative" in by_row[(5, "人口")].message
    dup = by_row[(6, "adcode")]
    assert "'510104' appears in 2 rows: 1, 6" in dup.message and "Dissolve" in dup.fix
    assert len(probs) == 5
    assert all(p.file == "units.gpkg" for p in probs)


def test_multi_layer_geopackage_needs_a_layer(tmp_path):
    path = tmp_path / "many.gpkg"
    for name in ("districts", "streets"):
        gpd.GeoDataFrame({"name": ["甲区"]}, geometry=[square(104.0, 30.6)],
                         crs="EPSG:4326").to_file(path, layer=name)
    with pytest.raises(InputError) as exc:
        load_boundaries(path, crs=CRS)
    assert "2 layers (districts, streets)" in str(exc.value) and "`layer=`" in str(exc.value)
    assert len(load_boundaries(path, crs=CRS, layer="streets")) == 1
    with pytest.raises(InputError, match="`layer` = 'towns'"):
        load_boundaries(path, crs=CRS, layer="towns")


@pytest.mark.parametrize("kwargs, text", [
    ({"crs": "EPSG:4326"}, "`crs` = 'EPSG:4326' is not a projected CRS"),
    ({"crs": CRS, "unit_type": "省"}, "`unit_type` = '省' is not a unit type"),
    ({"crs": CRS, "name_col": "NAME99"}, "`name_col` = 'NAME99' is not a column"),
    ({"crs": CRS, "coord_system": "utm"}, "`coord_system` = 'utm'"),
])
def test_bad_parameters_name_the_parameter(kwargs, text):
    with pytest.raises(InputError) as exc:
        load_boundaries(MIXED, **kwargs)
    assert text in str(exc.value)


def test_no_name_column(tmp_path):
    path = layer(tmp_path, [{"code": 1}], [square(104.0, 30.6)])
    with pytest.raises(InputError) as exc:
        load_boundaries(path, crs=CRS)
    assert "no name column found" in str(exc.value) and "`name_col=`" in str(exc.value)


def test_detected_type_column_without_unit_types_falls_back_to_names(tmp_path):
    path = layer(tmp_path, [{"name": "锦江区", "type": "Feature"},
                            {"name": "金堂县", "type": "Feature"}],
                 [square(104.0, 30.6), square(104.02, 30.6)])
    units = load_boundaries(path, crs=CRS)
    assert list(units["unit_type"]) == ["区", "县"]
    assert list(units["type"]) == ["Feature", "Feature"]
    assert any("column 'type' holds no unit type" in n for n in units.attrs["notes"])
    with pytest.raises(InputError, match="unit type 'Feature' is not known"):
        load_boundaries(path, crs=CRS, unit_type_col="type")


# ---------------------------------------------------------------------------
# wrong CRS and overlapping units
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("geoms, file_crs, name, expected", [
    # UTM 48N metres written into a file that says EPSG:4326
    ([shapely.box(404_000, 3_390_000, 410_000, 3_396_000), shapely.box(410_000, 3_390_000, 416_000, 3_396_000)],
     "EPSG:4326", "metres.geojson", ("look like metres", "EPSG:4326", "Set CRS")),
    # longitude/latitude written into a file that says UTM 48N
    ([square(104.05, 30.65, 0.03), square(104.08, 30.65, 0.03)],
     CRS, "degrees.gpkg", ("look like degrees", "EPSG:32648", "EPSG:4326")),
], ids=["metres_declared_as_degrees", "degrees_declared_as_metres"])
def test_a_wrong_declared_crs_is_refused_per_unit(tmp_path, geoms, file_crs, name, expected):
    path = layer(tmp_path, [{"name": "锦江区"}, {"name": "青羊区"}], geoms, name=name, crs=file_crs)
    with pytest.raises(InputError) as err:
        load_boundaries(path, crs=CRS)
    text = str(err.value)
    assert f"{name}, row 1" in text and f"{name}, row 2" in text
    assert all(e in text for e in expected), text


def test_overlapping_units_are_refused_naming_both_and_the_overlap(tmp_path):
    geoms = [square(104.05, 30.65, 0.03), square(104.07, 30.65, 0.03), square(104.12, 30.65, 0.03)]
    path = layer(tmp_path, [{"name": "锦江区"}, {"name": "青羊区"}, {"name": "金牛区"}], geoms)
    with pytest.raises(InputError) as err:
        load_boundaries(path, crs=CRS)
    text = str(err.value)
    assert "units.geojson, row 2" in text
    assert "'锦江区' (row 1) and '青羊区' (row 2) overlap by 3.1" in text  # 0.01° × 0.03° at 30.65°N and "km²" in text
    assert "33%" in text and "金牛区" not in text


def test_embedded_districts_do_not_overlap():
    units = load_boundaries(RAW_DISTRICTS, crs=CRS)
    assert len(units) == 5
