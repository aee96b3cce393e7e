"""Names on the offline basemap: roads, districts, places, landmarks."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import LineString, box

from coverage import mapping
from coverage.study_area import load_default

ROOT = Path(mapping.__file__).resolve().parent.parent


def _builder():
    spec = importlib.util.spec_from_file_location("build_basemap", ROOT / "scripts" / "build_basemap.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def area():
    return load_default()


def test_basemap_has_labels_of_roads_districts_and_landmarks():
    lab = mapping.load_basemap()["labels"]
    assert lab.crs.to_epsg() == 32648
    names = set(lab["name"])
    assert {"人民南路二段", "人民北路", "一环路", "人民公园"} <= names
    assert {"成华区", "金牛区", "锦江区"} <= set(lab.loc[lab["kind"] == "district", "name"])
    assert {"road_major", "road_secondary", "station", "park", "landmark"} <= set(lab["kind"])
    # major roads appear before minor ones and neighbourhoods
    zoom = lab.groupby("kind")["min_zoom"].first()
    assert zoom["road_major"] < zoom["road_minor"] and zoom["district"] <= zoom["road_major"]
    # bilingual OSM names are split: the Chinese part is the name
    assert not lab["name"].str.contains(" - ").any()


def test_map_html_carries_the_names_zoom_dependent(area):
    m = mapping.build_map(boundaries=area.boundaries)
    page = m.get_root().render()
    for name in ("人民南路二段", "人民北路", "成华区", "青羊区", "金牛区", "人民公园"):
        assert name in page, name
    assert "cultcov_labels" in page and "map.on('zoomend', show)" in page.replace(
        m.get_name(), "map")
    en = mapping.build_map(boundaries=area.boundaries, lang="en").get_root().render()
    assert "Chenghua District" in en and "Section 2 Renmin Road South" in en
    # online basemaps carry their own names
    assert "cultcov_labels" not in mapping.build_map(boundaries=area.boundaries, basemap="osm").get_root().render()


def test_label_text_is_html_escaped():
    crs = "EPSG:32648"
    x0, y0 = 410_000.0, 3_392_000.0
    roads = gpd.GeoDataFrame({"osm_id": [1], "highway": ["primary"], "road_class": ["major"],
                              "name": ['<img src=x onerror="alert(1)">路']},
                             geometry=[LineString([(x0, y0), (x0 + 800, y0)])], crs=crs)
    mod = _builder()
    places = gpd.GeoDataFrame({"osm_id": [2], "kind": ["landmark"], "name": ["A&B</script>馆"], "name_en": [""]},
                              geometry=gpd.points_from_xy([x0 + 100], [y0 + 100]), crs=crs).to_crs("EPSG:4326")
    labels = mod.labels_layer(roads, places, box(x0 - 10, y0 - 500, x0 + 810, y0 + 500))
    assert list(labels["kind"]) == ["road_major", "landmark"]
    units = gpd.GeoDataFrame({"unit_id": ["1"], "name": ["<b>区</b>"], "name_en": [""]},
                             geometry=[box(x0, y0 - 400, x0 + 800, y0 + 400)], crs=crs)
    page = mapping.build_map(boundaries=units, basemap_layers={"roads": roads, "labels": labels}).get_root().render()
    assert "&lt;img src=x onerror=&#x27;alert(1)&#x27;&gt;路" in page or "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;路" in page
    assert "<img src=x" not in page
    assert "A&amp;B&lt;/script&gt;馆" in page and "</script>馆" not in page
    assert "&lt;b&gt;区&lt;/b&gt;" in page


def test_road_labels_once_per_divided_road_and_long_enough():
    mod = _builder()
    crs = "EPSG:32648"
    x0, y0 = 410_000.0, 3_392_000.0
    roads = gpd.GeoDataFrame(
        {"osm_id": [1, 2, 3, 4], "highway": ["primary", "primary", "residential", "primary"],
         "road_class": ["major", "major", "minor", "major"],
         "name": ["蜀都大道", "蜀都大道 - Shudu Avenue", "短巷", "蜀都大道"]},
        geometry=[LineString([(x0, y0), (x0 + 900, y0)]), LineString([(x0, y0 + 20), (x0 + 900, y0 + 20)]),
                  LineString([(x0, y0 + 300), (x0 + 100, y0 + 300)]),
                  LineString([(x0 + 5000, y0), (x0 + 5400, y0)])], crs=crs)
    lab = mod.road_labels(roads)
    assert list(lab["name"]) == ["蜀都大道", "蜀都大道"]  # two carriageways: one label; far part: one more
    assert set(lab["name_en"]) == {"Shudu Avenue"}
    assert sorted(round(p.x) for p in lab.geometry) == [x0 + 450, x0 + 5200]
