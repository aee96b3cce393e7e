"""Tests for coverage.facilities: coordinate conversion, type labels and the facility loader."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from coverage.errors import InputError
from coverage.facilities import (
    FACILITY_TYPES,
    bd09_to_gcj02,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    load_facilities,
    normalise_type,
    to_wgs84,
    type_from_name,
    wgs84_to_gcj02,
)

DATA = Path(__file__).resolve().parent / "data" / "facilities"
CRS = "EPSG:32648"
BOUNDS = (104.042, 30.653, 104.130, 30.728)  # the embedded central-Chengdu extract
# 成都市图书馆 in WGS84 (OpenStreetMap way 314874524)
LIB_LON, LIB_LAT = 104.0583303, 30.6552406
# the WGS84 coordinates written in tests/data/facilities/libraries_*.csv
EXPECTED = {
    "CD001": (104.0583303, 30.6552406, "library", 800.0, 12500.0),
    "CD002": (104.0608897, 30.6614242, "library", 2000.0, 50000.0),
    "CD003": (104.0611399, 30.6597535, "museum", math.nan, math.nan),
    "CD004": (104.0657826, 30.6615383, "theatre", 1500.0, math.nan),
    "CD005": (104.0632254, 30.6623566, "science_museum", math.nan, 42000.0),
    "CD006": (104.0800, 30.6600, "city_reading_room", 40.0, 180.0),
}


def haversine_m(lon1, lat1, lon2, lat2):
    r = 6_371_008.8
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * r * np.arcsin(np.sqrt(a))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def problems_text(exc: pytest.ExceptionInfo) -> str:
    return "\n".join(str(p) for p in exc.value.problems)


# ---------------------------------------------------------------------------
# coordinate systems
# ---------------------------------------------------------------------------

CHINA_LON, CHINA_LAT = np.meshgrid(np.arange(74.0, 135.0, 2.5), np.arange(18.5, 53.5, 1.5))
CHINA_LON, CHINA_LAT = CHINA_LON.ravel(), CHINA_LAT.ravel()


def test_forward_formulas_match_published_reference_values():
    # values published with the widely used coordtransform implementations
    lon, lat = wgs84_to_gcj02(116.404, 39.915)
    assert float(lon) == pytest.approx(116.41024449916938, abs=1e-12)
    assert float(lat) == pytest.approx(39.91640428150164, abs=1e-12)
    lon, lat = gcj02_to_bd09(116.404, 39.915)
    assert float(lon) == pytest.approx(116.41036949371029, abs=1e-12)
    assert float(lat) == pytest.approx(39.92133699351021, abs=1e-12)


def test_gcj02_round_trip_under_1m_over_china():
    glon, glat = wgs84_to_gcj02(CHINA_LON, CHINA_LAT)
    moved = haversine_m(CHINA_LON, CHINA_LAT, glon, glat)
    assert moved.min() > 10 and moved.max() < 1000  # the offset exists everywhere in China
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert haversine_m(CHINA_LON, CHINA_LAT, wlon, wlat).max() < 0.01
    # and the other way round: the inverse of arbitrary GCJ-02 points maps back onto them
    wlon, wlat = gcj02_to_wgs84(CHINA_LON, CHINA_LAT)
    flon, flat = wgs84_to_gcj02(wlon, wlat)
    assert haversine_m(CHINA_LON, CHINA_LAT, flon, flat).max() < 0.01


def test_iterated_inverse_beats_the_one_step_approximation():
    glon, glat = wgs84_to_gcj02(CHINA_LON, CHINA_LAT)
    # the one-step approximation wgs ~ 2*gcj - F(gcj)
    flon, flat = wgs84_to_gcj02(glon, glat)
    one_lon, one_lat = 2 * glon - flon, 2 * glat - flat
    one_step = haversine_m(CHINA_LON, CHINA_LAT, one_lon, one_lat)
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    ours = haversine_m(CHINA_LON, CHINA_LAT, wlon, wlat)
    assert one_step.max() > 0.5  # the approximation is off by about a metre somewhere
    assert ours.max() < 1e-3


def test_bd09_round_trips_under_1m():
    glon, glat = wgs84_to_gcj02(CHINA_LON, CHINA_LAT)
    blon, blat = gcj02_to_bd09(glon, glat)
    back = bd09_to_gcj02(blon, blat)
    assert haversine_m(glon, glat, *back).max() < 0.01
    wlon, wlat = to_wgs84(blon, blat, "bd09")
    assert haversine_m(CHINA_LON, CHINA_LAT, wlon, wlat).max() < 0.01
    # BD-09 sits roughly 0.0065 deg east and 0.006 deg north of GCJ-02
    assert np.all(np.abs(blon - glon - 0.0065) < 0.001)
    assert np.all(np.abs(blat - glat - 0.006) < 0.001)


def test_gcj02_offset_in_chengdu_is_a_few_hundred_metres_south_east():
    glon, glat = wgs84_to_gcj02(LIB_LON, LIB_LAT)
    east = haversine_m(LIB_LON, LIB_LAT, glon, LIB_LAT) * np.sign(glon - LIB_LON)
    north = haversine_m(LIB_LON, LIB_LAT, LIB_LON, glat) * np.sign(glat - LIB_LAT)
    assert 200 < east < 280
    assert -450 < north < -200


def test_outside_china_is_unchanged_and_wgs84_is_identity():
    lon = np.array([-0.1276, 139.6917, 2.35])
    lat = np.array([51.5072, 35.6895, 48.85])
    glon, glat = wgs84_to_gcj02(lon, lat)
    np.testing.assert_array_equal(glon, lon)
    np.testing.assert_array_equal(glat, lat)
    wlon, wlat = to_wgs84(lon, lat, "gcj02")
    np.testing.assert_allclose(wlon, lon, atol=1e-12)
    wlon, wlat = to_wgs84(lon, lat, "WGS84")
    np.testing.assert_array_equal(wlon, lon)
    assert wlon is not lon


def test_conversion_keeps_shape_and_nan():
    lon = np.array([[104.06, np.nan], [104.07, 104.08]])
    lat = np.array([[30.66, 30.67], [np.nan, 30.69]])
    wlon, wlat = to_wgs84(lon, lat, "gcj02")
    assert wlon.shape == (2, 2)
    assert np.isnan(wlon[0, 1]) and np.isnan(wlat[1, 0])
    assert np.isfinite(wlon[1, 1])


def test_unknown_coordinate_system_names_the_parameter():
    with pytest.raises(InputError, match=r"`source` = 'utm'.*wgs84"):
        to_wgs84([104.0], [30.6], "utm")
    with pytest.raises(InputError, match="`coord_system`"):
        load_facilities(DATA / "libraries_utf8.csv", crs=CRS, coord_system="mercator")


# ---------------------------------------------------------------------------
# facility types
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("图书馆", "library"), ("Library", "library"), ("amenity=library", "library"),
    ("公共图书馆", "library"), ("区级公共图书馆", "library"),
    ("书房", "city_reading_room"), ("城市书房", "city_reading_room"),
    ("City Reading Room", "city_reading_room"),
    ("文化站", "culture_station"), ("综合文化站", "culture_station"),
    ("文化馆", "cultural_centre"), ("arts_centre", "cultural_centre"),
    ("Cultural Center", "cultural_centre"), ("tourism=museum", "museum"),
    ("美术馆", "art_gallery"), ("theater", "theatre"), ("科技馆", "science_museum"),
    ("工人文化宫", "workers_palace"), ("其他", "other"), ("other", "other"),
    ("体育馆", None), ("", None), (None, None), (math.nan, None),
])
def test_normalise_type(value, expected):
    assert normalise_type(value) == expected


def test_every_canonical_type_and_label_maps_to_itself():
    assert len(FACILITY_TYPES) == 10
    for key, label in FACILITY_TYPES.items():
        assert normalise_type(key) == key
        assert normalise_type(label.zh) == key
        assert normalise_type(label.en) == key
    assert FACILITY_TYPES["city_reading_room"].zh == "城市书房"


def test_type_from_name_prefers_reading_rooms_over_their_parent_library():
    assert type_from_name("成都图书馆城市书房（宽窄巷子店）") == "city_reading_room"
    assert type_from_name("金牛区图书馆") == "library"
    assert type_from_name("春熙路街道综合文化站") == "culture_station"
    assert type_from_name("四川科技馆") == "science_museum"
    assert type_from_name("人民公园") is None


# ---------------------------------------------------------------------------
# loading good input
# ---------------------------------------------------------------------------

def check_expected(gdf: gpd.GeoDataFrame) -> None:
    assert list(gdf.columns[:8]) == ["facility_id", "name", "name_en", "type", "capacity",
                                     "floor_area_m2", "lon", "lat"]
    assert gdf.geometry.name == "geometry"
    assert gdf.crs.to_epsg() == 32648
    assert list(gdf["facility_id"]) == list(EXPECTED)
    ref = pyproj.Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    for _, row in gdf.iterrows():
        lon, lat, kind, cap, area = EXPECTED[row.facility_id]
        assert row.lon == pytest.approx(lon, abs=1e-9)
        assert row.lat == pytest.approx(lat, abs=1e-9)
        x, y = ref.transform(lon, lat)
        assert row.geometry.x == pytest.approx(x, abs=1e-3)
        assert row.geometry.y == pytest.approx(y, abs=1e-3)
        assert row.type == kind
        assert (math.isnan(row.capacity) and math.isnan(cap)) or row.capacity == cap
        assert (math.isnan(row.floor_area_m2) and math.isnan(area)) or row.floor_area_m2 == area


@pytest.mark.parametrize("filename", ["libraries_utf8.csv", "libraries_gbk.csv",
                                      "libraries_utf8_bom.csv"])
def test_csv_in_any_common_encoding_loads_and_is_not_modified(filename):
    path = DATA / filename
    before = sha(path)
    gdf = load_facilities(path, crs=CRS, bounds_lonlat=BOUNDS)
    assert sha(path) == before
    check_expected(gdf)
    assert gdf.loc[5, "name"] == "锦江区城市书房（示例）"  # full-width brackets kept as written
    assert list(gdf["地址"].fillna("")) == ["青羊区", "青羊区", "小河街", "", "人民中路", "锦江区"]
    assert gdf.attrs["notes"] == []


def test_gbk_file_read_as_utf8_is_refused_with_the_fix():
    with pytest.raises(InputError) as exc:
        load_facilities(DATA / "libraries_gbk.csv", crs=CRS, encoding="utf-8")
    text = problems_text(exc)
    assert "libraries_gbk.csv" in text and "not valid utf-8" in text
    assert "leave `encoding` out" in text


def test_xlsx_with_title_row_blank_row_and_gcj02_coordinates(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "设施"
    ws.append(["成都市公共文化设施名录（2024）"])
    ws.append(["序号", "名称", "设施类型", "经度(GCJ-02)", "纬度(GCJ-02)", "面积"])
    ids = list(EXPECTED)
    for k, fid in enumerate(ids[:3]):
        lon, lat = EXPECTED[fid][:2]
        glon, glat = wgs84_to_gcj02(lon, lat)
        ws.append([k + 1, fid, EXPECTED[fid][2], float(glon), float(glat), 100 * (k + 1)])
    ws.append([])
    lon, lat = EXPECTED["CD006"][:2]
    glon, glat = wgs84_to_gcj02(lon, lat)
    ws.append([4, "CD006", "城市书房", float(glon), "北纬30.66", None])  # bad latitude, row 7
    path = tmp_path / "设施.xlsx"
    wb.save(path)
    before = sha(path)

    with pytest.raises(InputError) as exc:
        load_facilities(path, crs=CRS, coord_system="gcj02")
    assert sha(path) == before
    (problem,) = exc.value.problems
    assert problem.row == 7 and problem.column == "纬度(GCJ-02)"
    assert problem.file == "设施.xlsx"
    assert "'北纬30.66' is not a number" in problem.message
    assert "decimal degrees" in problem.fix

    ws.cell(row=7, column=5, value=float(glat))
    wb.save(path)
    gdf = load_facilities(path, crs=CRS, coord_system="gcj02", sheet="设施", bounds_lonlat=BOUNDS)
    assert list(gdf["facility_id"]) == ["1", "2", "3", "4"]
    assert list(gdf["name"]) == ["CD001", "CD002", "CD003", "CD006"]
    for fid, lon, lat in zip(gdf["name"], gdf["lon"], gdf["lat"]):
        assert haversine_m(lon, lat, *EXPECTED[fid][:2]) < 0.01
    assert list(gdf["floor_area_m2"].fillna(-1)) == [100, 200, 300, -1]
    assert list(gdf["type"]) == ["library", "library", "museum", "city_reading_room"]


def test_bd09_csv_and_degree_minute_second_values(tmp_path):
    lon, lat = EXPECTED["CD002"][:2]
    blon, blat = gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))
    path = tmp_path / "baidu.csv"
    path.write_text(f"name,lng,lat\n四川省图书馆,{float(blon):.9f},{float(blat):.9f}\n"
                    "测试点,104°03′30″E,30°39′36″N\n", encoding="utf-8")
    gdf = load_facilities(path, crs=CRS, coord_system="bd09")
    assert haversine_m(gdf.lon[0], gdf.lat[0], lon, lat) < 0.01
    # 104°03'30" = 104.058333..., 30°39'36" = 30.66, converted from BD-09 like the first row
    w = to_wgs84(104 + 3 / 60 + 30 / 3600, 30.66, "bd09")
    assert gdf.lon[1] == pytest.approx(float(w[0]), abs=1e-9)
    assert gdf.lat[1] == pytest.approx(float(w[1]), abs=1e-9)
    assert list(gdf["facility_id"]) == ["F0001", "F0002"]
    assert list(gdf["type"]) == ["library", "other"]
    assert any("row 3" in note and "'other'" in note for note in gdf.attrs["notes"])


def test_embedded_schema_csv_round_trips(tmp_path):
    path = tmp_path / "facilities.csv"
    path.write_text(
        "facility_id,name,name_en,type,capacity,floor_area_m2,lon,lat\n"
        "lib_0001,成都市图书馆,Chengdu Library,library,800,12500,104.0583303,30.6552406\n"
        "crr_0002,城市书房,,city_reading_room,,,104.08,30.66\n", encoding="utf-8")
    gdf = load_facilities(path, crs=CRS, bounds_lonlat=BOUNDS)
    assert list(gdf["facility_id"]) == ["lib_0001", "crr_0002"]
    assert list(gdf["name_en"]) == ["Chengdu Library", ""]
    assert gdf["capacity"].dtype == float and math.isnan(gdf["capacity"][1])
    assert list(gdf.columns) == ["facility_id", "name", "name_en", "type", "capacity",
                                 "floor_area_m2", "lon", "lat", "geometry"]


def test_dataframe_input_is_not_mutated_and_keeps_its_index():
    df = pd.DataFrame({"Longitude": [104.06, 104.07], "LATITUDE": [30.66, 30.67],
                       "名称": ["甲图书馆", "乙文化站"], "人口": [1, 2]}, index=[10, 20])
    copy = df.copy()
    gdf = load_facilities(df, crs=CRS, default_type="library")
    pd.testing.assert_frame_equal(df, copy)
    assert list(gdf.index) == [10, 20]
    assert list(gdf["type"]) == ["library", "library"]  # default_type wins over the name
    assert list(gdf["人口"]) == [1, 2]


def test_gis_layers_shapefile_gpkg_and_projected_geodataframe(tmp_path):
    lons = np.array([v[0] for v in EXPECTED.values()])
    lats = np.array([v[1] for v in EXPECTED.values()])
    src = gpd.GeoDataFrame({"id": list(EXPECTED), "类别": [v[2] for v in EXPECTED.values()]},
                           geometry=gpd.points_from_xy(lons, lats), crs="EPSG:4326")
    for name in ("f.shp", "f.gpkg", "f.geojson"):
        src.to_file(tmp_path / name)
        gdf = load_facilities(tmp_path / name, crs=CRS, bounds_lonlat=BOUNDS)
        check_expected_types = [v[2] for v in EXPECTED.values()]
        assert list(gdf["type"]) == check_expected_types, name
        np.testing.assert_allclose(gdf["lon"], lons, atol=1e-9)
        np.testing.assert_allclose(gdf["lat"], lats, atol=1e-9)
    projected = src.to_crs("EPSG:4547")  # CGCS2000 / 3-degree Gauss-Kruger CM 114E
    before = projected.copy()
    gdf = load_facilities(projected, crs=CRS)
    np.testing.assert_allclose(gdf["lon"], lons, atol=1e-7)
    np.testing.assert_allclose(gdf.geometry.x, src.to_crs(CRS).geometry.x, atol=0.01)
    assert projected.geom_equals(before.geometry).all()


def test_polygon_facilities_become_interior_points_with_a_note(tmp_path):
    box = shapely.box(104.058, 30.655, 104.059, 30.656)
    src = gpd.GeoDataFrame({"name": ["成都市图书馆"]}, geometry=[box], crs="EPSG:4326")
    gdf = load_facilities(src, crs=CRS)
    assert gdf.geometry.iloc[0].geom_type == "Point"
    assert box.contains(shapely.Point(gdf.lon[0], gdf.lat[0]))
    assert "Polygon" in gdf.attrs["notes"][0] and "row" in gdf.attrs["notes"][0]


def test_gcj_named_columns_read_as_wgs84_give_a_hint(tmp_path):
    path = tmp_path / "amap.csv"
    path.write_text("名称,gcj_lng,gcj_lat\n成都市图书馆,104.0608,30.6528\n", encoding="utf-8")
    gdf = load_facilities(path, crs=CRS)
    assert any("coord_system='gcj02'" in n for n in gdf.attrs["notes"])


# ---------------------------------------------------------------------------
# refusing bad input
# ---------------------------------------------------------------------------

def write(tmp_path: Path, text: str, name: str = "sites.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_missing_file(tmp_path):
    with pytest.raises(InputError) as exc:
        load_facilities(tmp_path / "nope.csv", crs=CRS)
    (p,) = exc.value.problems
    assert p.file.endswith("nope.csv") and "does not exist" in p.message
    assert "check the path" in p.fix


@pytest.mark.parametrize("name, fix", [("sites.xls", "save it as .xlsx"),
                                       ("sites.pdf", ".csv, .geojson, .gpkg")])
def test_unknown_format(tmp_path, name, fix):
    path = write(tmp_path, "x", name)
    with pytest.raises(InputError) as exc:
        load_facilities(path, crs=CRS)
    (p,) = exc.value.problems
    assert "is not a format this loader reads" in p.message and fix in p.fix


def test_shapefile_without_prj_is_refused(tmp_path):
    src = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(104.06, 30.66)],
                           crs="EPSG:4326")
    src.to_file(tmp_path / "sites.shp")
    (tmp_path / "sites.prj").unlink()
    with pytest.raises(InputError) as exc:
        load_facilities(tmp_path / "sites.shp", crs=CRS)
    (p,) = exc.value.problems
    assert p.file == "sites.shp" and "no coordinate reference system" in p.message
    assert ".prj" in p.fix


def test_no_coordinate_columns_lists_columns_and_accepted_names(tmp_path):
    path = write(tmp_path, "名称,地址\n成都市图书馆,青羊区\n")
    with pytest.raises(InputError) as exc:
        load_facilities(path, crs=CRS)
    (p,) = exc.value.problems
    assert "no longitude and no latitude column" in p.message
    assert "'名称', '地址'" in p.message
    assert "经度" in p.fix and "纬度" in p.fix
    assert "lon_col" not in p.fix  # neither the page nor the CLI offers it


def test_explicit_column_that_does_not_exist(tmp_path):
    path = write(tmp_path, "名称,经度,纬度\n甲,104.06,30.66\n")
    with pytest.raises(InputError) as exc:
        load_facilities(path, crs=CRS, lon_col="lng")
    (p,) = exc.value.problems
    assert p.message.startswith("`lon_col` = 'lng' is not a column")
    assert "'经度'" in p.message


def test_every_row_problem_is_reported_at_once(tmp_path):
    path = write(tmp_path,
                 "id,名称,经度,纬度,座位数\n"
                 "A1,甲,104.06,30.66,10\n"       # row 2 ok
                 "A2,乙,东经104度,30.66,10\n"     # row 3 bad longitude
                 "A1,丙,104.07,30.67,-5\n"        # row 4 duplicate id, negative capacity
                 "A4,丁,,30.67,20\n"              # row 5 missing longitude
                 "A5,戊,116.40,39.91,\n"          # row 6 Beijing: outside the study area
                 "A6,己,2.35,48.85,\n",           # row 7 Paris: outside China
                 encoding="gbk")
    with pytest.raises(InputError) as exc:
        load_facilities(path, crs=CRS, bounds_lonlat=BOUNDS)
    probs = exc.value.problems
    by_row = {(p.row, p.column): p for p in probs}
    assert "'东经104度' is not a number" in by_row[(3, "经度")].message
    assert "missing" in by_row[(5, "经度/纬度")].message
    assert "outside the study area" in by_row[(6, "经度/纬度")].message
    assert "check `coord_system`" in by_row[(6, "经度/纬度")].fix
    assert "outside China" in by_row[(7, "经度/纬度")].message
    dup = by_row[(4, "id")]
    assert "'A1' appears in 2 rows: 2, 4" in dup.message and "own id" in dup.fix
    assert "-5 is negative" in by_row[(4, "座位数")].message
    assert len(probs) == 6
    assert all(p.file == "sites.csv" for p in probs)
    assert str(exc.value).startswith("6 problems found:")


def test_all_rows_swapped_gives_one_problem_naming_the_columns(tmp_path):
    path = write(tmp_path, "名称,经度,纬度\n甲,30.66,104.06\n乙,30.67,104.07\n")
    with pytest.raises(InputError) as exc:
        load_facilities(path, crs=CRS)
    (p,) = exc.value.problems
    assert "longitude and latitude look swapped in columns 经度/纬度" in p.message
    assert "swap the headers of columns '经度' and '纬度'" in p.fix and "lon_col" not in p.fix


def test_one_swapped_row_is_named(tmp_path):
    path = write(tmp_path, "名称,lon,lat\n甲,104.06,30.66\n乙,30.67,104.07\n丙,104.08,30.68\n")
    with pytest.raises(InputError) as exc:
        load_facilities(path, crs=CRS, bounds_lonlat=BOUNDS)
    (p,) = exc.value.problems
    assert p.row == 3 and "look swapped" in p.message and "(30.67, 104.07)" in p.message


def test_projected_metres_in_lon_lat_columns(tmp_path):
    path = write(tmp_path, "name,x,y\na,404321.5,3392345.1\n")
    with pytest.raises(InputError) as exc:
        load_facilities(path, crs=CRS)
    (p,) = exc.value.problems
    assert p.row == 2 and "projected metres" in p.message and "WGS84 degrees" in p.fix


def test_empty_table_and_empty_layer(tmp_path):
    path = write(tmp_path, "名称,经度,纬度\n\n")
    with pytest.raises(InputError, match="no facility rows"):
        load_facilities(path, crs=CRS)
    empty = gpd.GeoDataFrame({"name": []}, geometry=[], crs="EPSG:4326")
    empty.to_file(tmp_path / "empty.gpkg")
    with pytest.raises(InputError, match="no facility rows"):
        load_facilities(tmp_path / "empty.gpkg", crs=CRS)


def test_unknown_types_are_a_note_listing_rows_and_accepted_types(tmp_path):
    path = write(tmp_path, "名称,类型,经度,纬度\n甲馆,体育馆,104.06,30.66\n乙书房,xyz,104.07,30.67\n"
                           "丙,体育馆,104.08,30.68\n")
    gdf = load_facilities(path, crs=CRS)
    assert list(gdf["type"]) == ["other", "city_reading_room", "other"]
    notes = gdf.attrs["notes"]
    assert any("'体育馆' in rows 2, 4" in n and "city_reading_room (城市书房)" in n for n in notes)
    assert any("'xyz' in row 3" in n for n in notes)


def test_many_bad_rows_are_capped_with_a_summary(tmp_path):
    body = "".join(f"{i},abc,30.66\n" for i in range(30))
    path = write(tmp_path, "name,lon,lat\n" + body)
    with pytest.raises(InputError) as exc:
        load_facilities(path, crs=CRS)
    probs = exc.value.problems
    assert len(probs) == 21
    assert [p.row for p in probs[:20]] == list(range(2, 22))
    assert "10 more rows: 22, 23" in probs[20].message and probs[20].row is None


def test_unquoted_comma_in_a_row_is_reported(tmp_path):
    path = write(tmp_path, "name,lon,lat\n甲,104.06,30.66,青羊区,人民中路\n")
    with pytest.raises(InputError) as exc:
        load_facilities(path, crs=CRS)
    (p,) = exc.value.problems
    assert p.row == 2 and "has 5 values but the header has 3" in p.message


@pytest.mark.parametrize("kwargs, text", [
    ({"crs": "EPSG:4326"}, "`crs` = 'EPSG:4326' is not a projected CRS in metres"),
    ({"crs": "nonsense"}, "`crs` = 'nonsense' is not a coordinate reference system"),
    ({"crs": CRS, "bounds_lonlat": (104.1, 30.6, 104.0, 30.7)}, "`bounds_lonlat`"),
    ({"crs": CRS, "default_type": "gym"}, "`default_type` = 'gym'"),
    ({"crs": CRS, "sheet": "x"}, None),
])
def test_bad_parameters_name_the_parameter(kwargs, text):
    if text is None:  # `sheet` is ignored for CSV
        assert len(load_facilities(DATA / "libraries_utf8.csv", **kwargs)) == 6
        return
    with pytest.raises(InputError) as exc:
        load_facilities(DATA / "libraries_utf8.csv", **kwargs)
    assert text in str(exc.value)


def test_missing_sheet_lists_the_sheets(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "图书馆"
    wb.active.append(["名称", "经度", "纬度"])
    wb.save(tmp_path / "a.xlsx")
    with pytest.raises(InputError) as exc:
        load_facilities(tmp_path / "a.xlsx", crs=CRS, sheet="文化馆")
    assert "'图书馆'" in str(exc.value) and "`sheet`" in str(exc.value)


def test_detected_area_column_without_numbers_is_passed_through(tmp_path):
    path = write(tmp_path, "name,lon,lat,area\n甲图书馆,104.06,30.66,Jinjiang\n"
                           "乙图书馆,104.07,30.67,Qingyang\n")
    gdf = load_facilities(path, crs=CRS)
    assert gdf["floor_area_m2"].isna().all()
    assert list(gdf["area"]) == ["Jinjiang", "Qingyang"]
    assert any("column 'area' has no numbers" in n for n in gdf.attrs["notes"])
    # a column with some numbers is read, and its text cells are refused
    path = write(tmp_path, "name,lon,lat,area\n甲,104.06,30.66,120\n乙,104.07,30.67,大约\n")
    with pytest.raises(InputError) as exc:
        load_facilities(path, crs=CRS)
    (p,) = exc.value.problems
    assert (p.row, p.column) == (3, "area") and "'大约' is not a number" in p.message


def test_embedded_facility_table_loads_like_pandas_reads_it():
    import coverage

    path = Path(coverage.__file__).resolve().parent.parent / "data" / "chengdu" / "facilities.csv"
    ref = pd.read_csv(path, dtype={"facility_id": str})
    gdf = load_facilities(path, crs=CRS, bounds_lonlat=BOUNDS)
    assert list(gdf["facility_id"]) == list(ref["facility_id"])
    np.testing.assert_allclose(gdf["lon"], ref["lon"], atol=1e-12)
    np.testing.assert_allclose(gdf["lat"], ref["lat"], atol=1e-12)
    assert set(gdf["type"]) <= set(FACILITY_TYPES)
    assert list(gdf["type"]) == [normalise_type(t) for t in ref["type"]]
    for col in ref.columns:
        if ref[col].dtype == bool:
            assert list(gdf[col]) == list(ref[col])


def test_unterminated_quote_is_reported_as_such_with_its_line(tmp_path):
    path = tmp_path / "quote.csv"
    path.write_text('name,lon,lat\nA,104.06,30.67\n"B unterminated,104.07,30.68\nC,104.08,30.69\n',
                    encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_facilities(path, crs=CRS)
    text = str(err.value)
    assert "line 3" in text and "never closed" in text and "Fix:" in text
    assert "coordinates are missing" not in text


def test_a_csv_over_the_row_limit_is_refused_before_it_is_parsed(tmp_path):
    from coverage.limits import MAX_TABLE_ROWS

    path = tmp_path / "huge.csv"
    n = MAX_TABLE_ROWS + 10
    path.write_text("name,lon,lat\n" + "书房,104.06,30.67\n" * n, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_facilities(path, crs=CRS)
    text = str(err.value)
    assert "huge.csv" in text and f"{n + 1:,} rows" in text and f"{MAX_TABLE_ROWS:,}" in text
    assert "cultcov batch" in text


def test_an_xlsx_over_the_row_limit_is_refused_before_it_is_read(tmp_path):
    import openpyxl

    from coverage.limits import MAX_TABLE_ROWS

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("sites")
    ws.append(["name", "lon", "lat"])
    for _ in range(MAX_TABLE_ROWS + 10):
        ws.append(["书房", 104.06, 30.67])
    path = tmp_path / "huge.xlsx"
    wb.save(path)
    with pytest.raises(InputError) as err:
        load_facilities(path, crs=CRS)
    text = str(err.value)
    assert "huge.xlsx" in text and f"more than {MAX_TABLE_ROWS + 1:,} rows" in text and "cultcov batch" in text


def test_xlsx_with_a_two_row_merged_header_keeps_names_and_types(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["B1"], ws["C1"] = "名称", "类型", "坐标（WGS84）"
    ws.merge_cells("A1:A2")
    ws.merge_cells("B1:B2")
    ws.merge_cells("C1:D1")
    ws["C2"], ws["D2"] = "经度", "纬度"
    ws.append(["成都图书馆", "图书馆", LIB_LON, LIB_LAT])
    ws.append(["宽窄巷子城市书房", "城市书房", 104.0545, 30.6700])
    path = tmp_path / "merged.xlsx"
    wb.save(path)
    fac = load_facilities(path, crs=CRS)
    assert list(fac["name"]) == ["成都图书馆", "宽窄巷子城市书房"]
    assert list(fac["type"]) == ["library", "city_reading_room"]
    assert fac["lon"].iloc[0] == pytest.approx(LIB_LON)
    notes = " ".join(fac.attrs["notes"])
    assert "rows 1–2" in notes and "名称" in notes
