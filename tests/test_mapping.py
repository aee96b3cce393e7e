"""Tests of the offline map layer (coverage.mapping) and the UI strings."""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
import re
from html.parser import HTMLParser

import folium
import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
from PIL import Image

from coverage import i18n, mapping
from coverage.errors import InputError
from coverage.geo import CHENGDU_CRS

# ---------------------------------------------------------------- fixtures

X0, Y0 = 410_000.0, 3_394_000.0  # central Chengdu, UTM 48N


def _grid(nx: int = 4, ny: int = 3, size: float = 200.0) -> gpd.GeoDataFrame:
    cells, vals = [], []
    for j in range(ny):
        for i in range(nx):
            x, y = X0 + i * size, Y0 + j * size
            cells.append(shapely.box(x, y, x + size, y + size))
            vals.append(float(10 * j + i))
    g = gpd.GeoDataFrame({"cell_id": range(len(cells)), "pop": vals}, geometry=cells,
                         crs=CHENGDU_CRS)
    g.loc[5, "pop"] = np.nan
    g["x"] = g.geometry.centroid.x
    g["y"] = g.geometry.centroid.y
    return g


def _units() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"unit_id": ["510104", "510105"], "name": ["锦江区", "青羊区"],
         "name_en": ["Jinjiang", "Qingyang"], "unit_type": ["区", "区"],
         "pop": [123456.0, 654321.0], "pop_census": [902933, 955954],
         "deficit_m2": [1500.7, 0.0], "notes": ["a", "b"]},
        geometry=[shapely.box(X0 - 500, Y0 - 500, X0 + 400, Y0 + 1000),
                  shapely.box(X0 + 400, Y0 - 500, X0 + 1300, Y0 + 1000)],
        crs=CHENGDU_CRS)


def _facilities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"facility_id": ["f1", "f2", "f3"], "name": ["市图书馆", "文化馆", "城市书房"],
         "name_en": ["City Library", "", None],
         "type": ["library", "cultural_centre", "library"],
         "capacity": [500.0, np.nan, 40.0], "floor_area_m2": [np.nan] * 3},
        geometry=gpd.points_from_xy([X0 + 100, X0 + 500, X0 + 700],
                                    [Y0 + 100, Y0 + 300, Y0 + 500]),
        crs=CHENGDU_CRS)


def _proposals() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"new_pop_covered": [12345.0, 678.0]},
                            geometry=gpd.points_from_xy([X0 + 300, X0 + 900], [Y0 + 50, Y0 + 50]),
                            crs=CHENGDU_CRS)


def _children(element, kind):
    """All descendants of ``element`` that are instances of ``kind``."""
    out = []
    for child in element._children.values():
        if isinstance(child, kind):
            out.append(child)
        out.extend(_children(child, kind))
    return out


class _AssetParser(HTMLParser):
    """Collect every URL a browser would fetch for <script>, <link>, <img>."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.urls.append(a["src"])
        if tag == "link" and a.get("href"):
            self.urls.append(a["href"])
        if tag == "img" and a.get("src"):
            self.urls.append(a["src"])


def _fetched_urls(html_text: str) -> list[str]:
    p = _AssetParser()
    p.feed(html_text)
    return p.urls


# ---------------------------------------------------------------- vendored assets


def test_vendored_files_match_recorded_hashes_and_keep_licences():
    root = mapping.static_dir()
    text = (root / "VENDORED.txt").read_text()
    assert "leaflet@1.9.4" in text and "jquery@3.7.1" in text
    recorded = dict((p, h) for h, p in re.findall(r"^([0-9a-f]{64})  (\S+)$", text, re.M))
    assert {"leaflet/leaflet.js", "leaflet/leaflet.css", "leaflet/LICENSE",
            "jquery/jquery.min.js", "jquery/LICENSE.txt"} <= set(recorded)
    for rel, digest in recorded.items():
        assert hashlib.sha256((root / rel).read_bytes()).hexdigest() == digest, rel
    assert "BSD" in (root / "leaflet" / "LICENSE").read_text()
    assert "MIT" in (root / "jquery" / "LICENSE.txt").read_text() or \
        "Permission is hereby granted" in (root / "jquery" / "LICENSE.txt").read_text()


def test_plain_folium_map_would_use_cdns_but_ours_does_not():
    # The check itself must be able to fail: folium's defaults are CDN URLs.
    plain = folium.Map(location=[30.67, 104.06], tiles=None)
    assert any("cdn" in u for u in mapping.external_asset_urls(plain))
    assert any(u.startswith("https://") for u in _fetched_urls(plain.get_root().render()))

    m = mapping.new_offline_map(center=(30.67, 104.06))
    assert mapping.external_asset_urls(m) == []
    urls = _fetched_urls(m.get_root().render())
    assert urls and all(u.startswith("data:") for u in urls)


def test_data_uris_carry_the_vendored_files_byte_for_byte():
    m = mapping.new_offline_map(center=(30.67, 104.06))
    js = dict(m.default_js)
    payload = js["leaflet"].split(",", 1)[1]
    assert base64.b64decode(payload) == (mapping.static_dir() / "leaflet" / "leaflet.js").read_bytes()
    css = base64.b64decode(dict(m.default_css)["leaflet_css"].split(",", 1)[1]).decode()
    # Every image of leaflet.css is inlined; no relative URL is left to resolve.
    assert "url(images/" not in css
    n_images = (mapping.static_dir() / "leaflet" / "leaflet.css").read_text().count("url(images/")
    assert css.count("url(data:image/png;base64,") == n_images > 0
    icons = base64.b64decode(js["leaflet_offline_icons"].split(",", 1)[1]).decode()
    marker = base64.b64encode(
        (mapping.static_dir() / "leaflet" / "images" / "marker-icon.png").read_bytes()).decode()
    assert marker in icons


def test_offline_assets_html_is_self_contained():
    text = mapping.offline_assets_html()
    assert _fetched_urls(text) == []
    assert "Leaflet 1.9.4" in text and "jQuery v3.7.1" in text
    assert text.index("<style>") < text.index("<script>")


def test_built_map_fetches_nothing_from_a_network():
    m = mapping.build_map(boundaries=_units(), facilities=_facilities(), grid=_grid(),
                          uncovered=_grid().iloc[:3], proposals=_proposals(),
                          choropleth_column="deficit_m2")
    assert mapping.external_asset_urls(m) == []
    html_text = m.get_root().render()
    urls = _fetched_urls(html_text)
    assert urls and all(u.startswith("data:") for u in urls)
    # No tile layer at all with the offline basemap.
    assert "L.tileLayer" not in html_text
    assert not _children(m, folium.TileLayer)


# ---------------------------------------------------------------- GCJ-02


def test_gcj02_matches_published_reference_value():
    # wandergis/coordtransform README: wgs84togcj02(116.404, 39.915)
    lon, lat = mapping.wgs84_to_gcj02(116.404, 39.915)
    assert float(lon) == pytest.approx(116.41024449916938, abs=1e-9)
    assert float(lat) == pytest.approx(39.91640428150164, abs=1e-9)
    # Outside China nothing moves.
    lon, lat = mapping.wgs84_to_gcj02(np.array([2.35, 104.06]), np.array([48.85, 30.67]))
    assert lon[0] == 2.35 and lat[0] == 48.85
    assert lon[1] != 104.06


def test_gcj02_agrees_with_facility_module():
    facilities = pytest.importorskip("coverage.facilities")
    rng = np.random.default_rng(1)
    lon = rng.uniform(103.9, 104.2, 50)
    lat = rng.uniform(30.5, 30.8, 50)
    a = mapping.wgs84_to_gcj02(lon, lat)
    b = facilities.wgs84_to_gcj02(lon, lat)
    np.testing.assert_allclose(a[0], b[0], atol=1e-9)
    np.testing.assert_allclose(a[1], b[1], atol=1e-9)


def test_amap_basemap_shifts_data_layers_to_gcj02():
    fac = _facilities()
    m = mapping.build_map(boundaries=_units(), facilities=fac, basemap="amap")
    tiles = _children(m, folium.TileLayer)
    assert len(tiles) == 1 and "autonavi" in tiles[0].tiles
    points = [f for gj in _children(m, folium.GeoJson) for f in gj.data["features"]
              if f["geometry"]["type"] == "Point"]
    got = sorted(tuple(f["geometry"]["coordinates"]) for f in points)
    tr = pyproj.Transformer.from_crs(CHENGDU_CRS, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(fac.geometry.x.to_numpy(), fac.geometry.y.to_numpy())
    glon, glat = mapping.wgs84_to_gcj02(lon, lat)
    want = sorted(zip(glon, glat))
    np.testing.assert_allclose(np.array(got), np.array(want), atol=2e-6)
    # The shift is real (hundreds of metres), so the test would catch its absence.
    assert np.abs(np.array(want) - np.column_stack([lon, lat])[np.argsort(glon)]).max() > 1e-3


def test_offline_map_keeps_wgs84():
    fac = _facilities()
    m = mapping.build_map(boundaries=_units(), facilities=fac, basemap_layers={})
    points = [f["geometry"]["coordinates"] for gj in _children(m, folium.GeoJson)
              for f in gj.data["features"] if f["geometry"]["type"] == "Point"]
    tr = pyproj.Transformer.from_crs(CHENGDU_CRS, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(fac.geometry.x.to_numpy(), fac.geometry.y.to_numpy())
    np.testing.assert_allclose(sorted(map(tuple, points)), sorted(zip(lon, lat)), atol=2e-6)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_tianditu_and_osm_tiles_only_when_chosen(lang):
    m = mapping.build_map(boundaries=_units(), basemap="tianditu", tianditu_key="KEY123",
                          lang=lang)
    urls = [tl.tiles for tl in _children(m, folium.TileLayer)]
    assert len(urls) == 2 and all("tianditu.gov.cn" in u and "tk=KEY123" in u for u in urls)
    assert any(("LAYER=cva" if lang == "zh" else "LAYER=eva") in u for u in urls)
    m = mapping.build_map(boundaries=_units(), basemap="osm")
    assert [tl.tiles for tl in _children(m, folium.TileLayer)] == [
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png"]


# ---------------------------------------------------------------- raster


def test_colorize_endpoints_midpoint_and_nan():
    rgba = mapping.colorize(np.array([0.0, 5.0, 10.0, np.nan, 20.0, -3.0]),
                            cmap=["#000000", "#ff8040"], vmin=0, vmax=10)
    assert rgba[0].tolist() == [0, 0, 0, 255]
    assert rgba[1].tolist() == [128, 64, 32, 255]
    assert rgba[2].tolist() == [255, 128, 64, 255]
    assert rgba[3][3] == 0
    assert rgba[4].tolist() == rgba[2].tolist() and rgba[5].tolist() == rgba[0].tolist()
    with pytest.raises(InputError, match="`cmap`"):
        mapping.colorize(np.zeros(2), cmap="nope", vmin=0, vmax=1)


def test_grid_to_png_matches_brute_force_point_in_polygon():
    grid = _grid()
    png, bounds = mapping.grid_to_png(grid, "pop", cmap="viridis", vmin=0, vmax=30, pixel_m=20)
    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))
    h, w, _ = img.shape
    (south, west), (north, east) = bounds
    # Independent reference: pixel centres evenly spaced in Web Mercator
    # between the returned corners, each tested against every cell.
    to_merc = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    to_utm = pyproj.Transformer.from_crs("EPSG:3857", CHENGDU_CRS, always_xy=True)
    (mx0, mx1), (my0, my1) = to_merc.transform([west, east], [south, north])
    cx = mx0 + (np.arange(w) + 0.5) * (mx1 - mx0) / w
    cy = my1 - (np.arange(h) + 0.5) * (my1 - my0) / h
    gx, gy = np.meshgrid(cx, cy)
    ux, uy = to_utm.transform(gx.ravel(), gy.ravel())
    expected = np.full(ux.shape, np.nan)
    inside = np.zeros(ux.shape, bool)
    for geom, val in zip(grid.geometry, grid["pop"]):
        x0, y0, x1, y1 = geom.bounds
        hit = (ux > x0) & (ux < x1) & (uy > y0) & (uy < y1)
        expected[hit] = val
        inside |= hit
    want = mapping.colorize(expected.reshape(h, w), cmap="viridis", vmin=0, vmax=30)
    mismatched = np.any(img != want, axis=-1)
    assert mismatched.mean() < 0.005, mismatched.sum()
    # The NaN cell is transparent, cells are opaque, outside is transparent.
    assert (img[..., 3][inside.reshape(h, w) & ~np.isnan(expected.reshape(h, w))] == 255).all()
    assert (img[..., 3][~inside.reshape(h, w)] == 0).all()
    assert (np.isnan(expected)).sum() > 0
    # Roughly 20 m pixels over an 800 x 600 m grid (plus the slight rotation of UTM).
    assert 40 <= w <= 46 and 30 <= h <= 36


def test_grid_to_png_bounds_enclose_the_grid():
    grid = _grid()
    _, bounds = mapping.grid_to_png(grid, "pop")
    lonlat = grid.to_crs("EPSG:4326")
    x0, y0, x1, y1 = lonlat.total_bounds
    (south, west), (north, east) = bounds
    eps = 1e-9
    assert west <= x0 + eps and east >= x1 - eps and south <= y0 + eps and north >= y1 - eps
    assert east - x1 < 1e-3 and x0 - west < 1e-3


def test_grid_to_png_reports_bad_column():
    with pytest.raises(InputError) as err:
        mapping.grid_to_png(_grid(), "popp")
    assert "`column`" in str(err.value) and "pop" in str(err.value)


# ---------------------------------------------------------------- build_map content


def test_facilities_grouped_by_type_with_i18n_labels_and_legend():
    for lang in ("zh", "en"):
        m = mapping.build_map(boundaries=_units(), facilities=_facilities(), basemap_layers={},
                              lang=lang)
        layers = {gj.layer_name: gj for gj in _children(m, folium.GeoJson)}
        lib = layers[i18n.facility_type_label("library", lang)]
        cc = layers[i18n.facility_type_label("cultural_centre", lang)]
        assert len(lib.data["features"]) == 2 and len(cc.data["features"]) == 1
        assert lib.marker.options["fillColor"] == mapping.FACILITY_COLOURS["library"]
        assert cc.marker.options["fillColor"] == mapping.FACILITY_COLOURS["cultural_centre"]
        names = {f["properties"]["f_name"] for f in lib.data["features"]}
        assert names == ({"市图书馆", "城市书房"} if lang == "zh" else {"City Library", "城市书房"})
        legend = _children(m, mapping._Legend)[0].body_html
        assert i18n.facility_type_label("library", lang) in legend
        assert i18n.t("legend", lang) in legend
        assert i18n.facility_type_label("museum", lang) not in legend


def test_non_public_libraries_have_their_own_legend_entry():
    fac = _facilities()
    fac["public"] = [True, True, False]  # 城市书房 (f3) stands in for a university library
    for lang in ("zh", "en"):
        m = mapping.build_map(boundaries=_units(), facilities=fac, basemap_layers={}, lang=lang)
        layers = {gj.layer_name: gj for gj in _children(m, folium.GeoJson)}
        lib = layers[i18n.facility_type_label("library", lang)]
        assert [f["properties"]["f_name"] for f in lib.data["features"]] == [
            "市图书馆" if lang == "zh" else "City Library"]
        other = layers[i18n.t("nonpublic_library", lang)]
        assert [f["properties"]["f_name"] for f in other.data["features"]] == ["城市书房"]
        assert other.data["features"][0]["properties"]["f_type"] == i18n.t("nonpublic_library", lang)
        assert other.marker.options["fillColor"] == mapping.NONPUBLIC_COLOUR
        legend = _children(m, mapping._Legend)[0].body_html
        assert i18n.t("nonpublic_library", lang) in legend
    assert i18n.t("nonpublic_library", "zh") == "非公共图书馆（高校等）"


def test_embedded_map_calls_public_libraries_what_the_standards_count():
    """On the embedded data the map's 公共图书馆 are exactly the libraries the metrics count."""
    from coverage.study_area import load_default
    from coverage.workflow import select_facilities

    area = load_default()
    m = mapping.build_map(boundaries=area.boundaries, facilities=area.facilities, basemap_layers={})
    layers = {gj.layer_name: gj for gj in _children(m, folium.GeoJson)}
    drawn = {f["properties"]["f_name"] for f in layers["公共图书馆"].data["features"]}
    counted = set(select_facilities(area.facilities, ["library"])["name"])
    assert drawn == counted and len(counted) == 2
    assert len(layers["非公共图书馆（高校等）"].data["features"]) == 2


def test_boundary_tooltip_shows_name_pop_and_deficit_columns():
    m = mapping.build_map(boundaries=_units(), basemap_layers={}, lang="en")
    gj = next(g for g in _children(m, folium.GeoJson)
              if g.layer_name == i18n.t("layer_boundaries", "en"))
    tip = _children(gj, folium.GeoJsonTooltip)[0]
    assert i18n.t("name", "en") in tip.aliases and i18n.t("pop", "en") in tip.aliases
    assert "deficit_m2" in tip.aliases and "notes" not in tip.aliases
    props = [f["properties"] for f in gj.data["features"]]
    assert props[0]["f_name"] == "Jinjiang"
    values = set(props[0].values())
    assert "123,456" in values and "1,501" in values and "902,933" in values


def test_choropleth_fills_by_value():
    m = mapping.build_map(boundaries=_units(), basemap_layers={},
                          choropleth_column="deficit_m2", choropleth_cmap=["#ffffff", "#ff0000"])
    gj = next(g for g in _children(m, folium.GeoJson)
              if g.layer_name == i18n.t("layer_boundaries", "zh"))
    fills = [f["properties"]["f_fill"] for f in gj.data["features"]]
    assert fills == ["#ff0000", "#ffffff"]


def test_proposals_popup_shows_newly_covered_population():
    m = mapping.build_map(boundaries=_units(), proposals=_proposals(), basemap_layers={},
                          lang="zh")
    gj = next(g for g in _children(m, folium.GeoJson)
              if g.layer_name == i18n.t("layer_proposals", "zh"))
    assert i18n.t("new_pop_covered", "zh") in _children(gj, folium.GeoJsonPopup)[0].aliases
    assert [f["properties"]["f_pop"] for f in gj.data["features"]] == ["12,345", "678"]
    assert "<svg" in gj.marker.icon.options["html"]


def test_grid_and_uncovered_become_image_overlays_not_polygons():
    grid = _grid(20, 20)
    m = mapping.build_map(boundaries=_units(), grid=grid, uncovered=grid.iloc[:10],
                          basemap_layers={}, grid_label="人口")
    overlays = _children(m, folium.raster_layers.ImageOverlay)
    assert len(overlays) == 2
    assert all(o.url.startswith("data:image/png;base64,") for o in overlays)
    # No GeoJSON carries the 400 cells.
    assert all(len(g.data["features"]) < 50 for g in _children(m, folium.GeoJson))
    legend = _children(m, mapping._Legend)[0].body_html
    assert "人口" in legend and i18n.t("layer_uncovered", "zh") in legend


def test_uncovered_cells_are_stripes_so_the_population_ramp_stays_visible():
    grid = _grid(20, 20)
    m = mapping.build_map(boundaries=_units(), grid=grid, uncovered=grid, basemap_layers={})
    pop, unc = _children(m, folium.raster_layers.ImageOverlay)
    img = np.asarray(Image.open(io.BytesIO(base64.b64decode(unc.url.split(",", 1)[1]))))
    inside = np.asarray(Image.open(io.BytesIO(base64.b64decode(pop.url.split(",", 1)[1]))))[..., 3] > 0
    drawn = img[..., 3] > 0
    # Every uncovered cell is drawn as stripes: about a third of its pixels, in the uncovered colour,
    # which is not a colour of the population ramp.
    assert 0.2 < drawn[inside].mean() < 0.45
    rows, cols = np.nonzero(drawn)
    assert set(((rows + cols) % 6).tolist()) <= {0, 1}
    colour = "#%02x%02x%02x" % tuple(img[rows[0], cols[0], :3])
    assert colour == mapping.UNCOVERED_COLOUR and colour not in mapping._PALETTES["YlOrRd"]


def test_default_offline_basemap_is_drawn_from_the_gpkg():
    m = mapping.build_map(boundaries=_units())
    names = {g.layer_name for g in _children(m, folium.GeoJson)}
    assert {"roads_major", "roads_minor", "water", "green"} <= names
    # Each road class is one multi-line feature holding every road part.
    n_parts = sum(len(f["geometry"]["coordinates"]) for g in _children(m, folium.GeoJson)
                  if str(g.layer_name).startswith("roads_") for f in g.data["features"])
    roads = gpd.read_file(mapping.default_basemap_path(), layer="roads")
    assert n_parts == len(shapely.get_parts(roads.geometry.values))


def test_errors_are_collected_and_name_parameters():
    with pytest.raises(InputError) as err:
        mapping.build_map(boundaries=_units().set_crs(None, allow_override=True),
                          basemap="google", lang="fr", grid=_grid(), grid_column="people",
                          center=(400, 104))
    text = str(err.value)
    for name in ("`basemap`", "`lang`", "`boundaries`", "`grid_column`", "`center`"):
        assert name in text
    assert len(err.value.problems) == 5
    with pytest.raises(InputError, match="`tianditu_key`"):
        mapping.build_map(boundaries=_units(), basemap="tianditu")
    with pytest.raises(InputError, match="`facilities`"):
        mapping.build_map(boundaries=_units(), facilities=_units())


def test_inputs_are_not_mutated():
    units, fac, grid, prop = _units(), _facilities(), _grid(), _proposals()
    before = [copy.deepcopy(x) for x in (units, fac, grid, prop)]
    mapping.build_map(boundaries=units, facilities=fac, grid=grid, proposals=prop,
                      uncovered=grid.iloc[:2], basemap="amap", choropleth_column="deficit_m2")
    for a, b in zip((units, fac, grid, prop), before):
        pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")),
                                      pd.DataFrame(b.drop(columns="geometry")))
        assert a.geometry.geom_equals_exact(b.geometry, 0).all()
        assert a.crs == b.crs


# ---------------------------------------------------------------- basemap file


def test_basemap_layers_and_crs():
    layers = dict(pyogrio.list_layers(mapping.default_basemap_path()))
    assert set(layers) == {"roads", "water", "waterways", "green", "labels"}
    basemap = mapping.load_basemap()
    assert all(g.crs.to_epsg() == 32648 for g in basemap.values())
    assert set(basemap["roads"]["road_class"]) == {"major", "secondary", "minor", "path"}
    assert len(basemap["water"]) > 5 and len(basemap["green"]) > 10


def test_basemap_roads_are_every_highway_way_of_the_extract():
    # Independent count with plain pyosmium: ways tagged highway=<drawn class>.
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "build_basemap", Path(mapping.__file__).resolve().parent.parent / "scripts" / "build_basemap.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    pbf = Path(mapping.__file__).resolve().parent.parent / "data" / "chengdu" / "chengdu_core_2018.osm.pbf"
    ids = set()
    for obj in osmium.FileProcessor(str(pbf), osmium.osm.WAY):
        if obj.tags.get("highway") in mod.ROAD_CLASS and obj.tags.get("area") != "yes":
            ids.add(obj.id)
    roads = mapping.load_basemap()["roads"]
    assert set(roads["osm_id"]) <= ids
    assert len(roads) >= 0.98 * len(ids)


def test_basemap_rebuild_is_reproducible(tmp_path):
    import importlib.util
    from pathlib import Path

    root = Path(mapping.__file__).resolve().parent.parent
    spec = importlib.util.spec_from_file_location("build_basemap", root / "scripts" / "build_basemap.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / "basemap.gpkg"
    counts = mod.build(root / "data" / "chengdu" / "chengdu_core_2018.osm.pbf", out)
    shipped = mapping.load_basemap()
    rebuilt = mapping.load_basemap(out)
    for name, n in counts.items():
        assert len(shipped[name]) == n == len(rebuilt[name])
        assert shipped[name].geometry.geom_equals_exact(rebuilt[name].geometry, 1e-6).all()


def test_load_basemap_missing_file_names_path(tmp_path):
    with pytest.raises(InputError, match="`path`"):
        mapping.load_basemap(tmp_path / "none.gpkg")


# ---------------------------------------------------------------- i18n


def test_every_string_exists_in_both_languages():
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for key in i18n.keys():
        zh, en = i18n.t(key, "zh"), i18n.t(key, "en")
        assert zh.strip() and en.strip()
        # The template notes name the template's Chinese column headers in both languages.
        if key not in ("language", "basemap_amap", "template_notes"):
            assert not cjk.search(en), key
    for tp in i18n.FACILITY_TYPES:
        assert cjk.search(i18n.facility_type_label(tp, "zh"))
        assert not cjk.search(i18n.facility_type_label(tp, "en"))
    assert set(i18n.FACILITY_TYPES) == set(mapping.FACILITY_COLOURS)
    assert len(set(mapping.FACILITY_COLOURS.values())) == len(mapping.FACILITY_COLOURS)


def test_i18n_errors_name_the_parameter():
    with pytest.raises(ValueError, match="`lang`"):
        i18n.t("mode", "fr")
    with pytest.raises(KeyError, match="`key`"):
        i18n.t("no_such_key", "zh")
    assert i18n.facility_type_label("unknown_kind", "en") == "unknown_kind"
    assert i18n.unit_type_label("县级市", "en") == "County-level city"


def test_map_modules_do_not_import_streamlit():
    import subprocess
    import sys

    code = ("import sys, coverage.mapping, coverage.i18n; "
            "print(any(m == 'streamlit' or m.startswith('streamlit.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=str(mapping.static_dir().parent.parent))
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- hostile text

HOSTILE = '<img src=x onerror=alert(1)>'


def _hostile_units() -> gpd.GeoDataFrame:
    units = _units()
    units["name"] = [HOSTILE, "青羊区"]
    units["name_en"] = [HOSTILE, "Qingyang"]
    return units


def _hostile_facilities() -> gpd.GeoDataFrame:
    fac = _facilities()
    fac["name"] = [HOSTILE, "<b>文化馆</b>", "城市书房"]
    fac["type"] = ["library", "<script>alert(2)</script>", "library"]
    return fac


def _strings(obj) -> list[str]:
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, (list, tuple)):
        return [s for v in obj for s in _strings(v)]
    return [obj] if isinstance(obj, str) else []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_user_text_reaches_tooltips_popups_legend_and_layer_names_escaped(lang):
    props = _hostile_units().assign(**{"deficit_<i>x</i>": [1.0, 2.0]})
    proposals = _proposals().assign(name=[HOSTILE, "ok"])
    m = mapping.build_map(boundaries=props, facilities=_hostile_facilities(), proposals=proposals,
                          grid=_grid(), grid_label="<svg onload=alert(3)>", basemap_layers={},
                          district_fields={"deficit_<i>x</i>": "<u>gap</u>"},
                          choropleth_column="deficit_<i>x</i>", lang=lang)
    shown: list[str] = []
    for gj in _children(m, folium.GeoJson):
        for detail in _children(gj, (folium.GeoJsonTooltip, folium.GeoJsonPopup)):
            shown += [str(a) for a in detail.aliases]
            shown += [str(f["properties"][k]) for f in gj.data["features"] for k in detail.fields]
    shown += [_children(m, mapping._Legend)[0].body_html]
    shown += [ov.layer_name for ov in _children(m, folium.raster_layers.ImageOverlay)]
    text = "\n".join(shown)
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in text
    assert "&lt;svg onload=alert(3)&gt;" in text and "&lt;u&gt;gap&lt;/u&gt;" in text
    for tag in ("<img", "<script", "<b>文化馆", "<svg onload", "<u>", "<i>"):
        assert tag not in text, tag
    # The rendered page never carries the raw markup in a place a browser parses as HTML.
    page = m.get_root().render()
    for raw in (HOSTILE, "<script>alert(2)", "<svg onload", "<b>文化馆"):
        assert raw not in page, raw


def test_escaped_names_keep_their_text():
    fac = _facilities()
    fac["name"] = ["A & B <Library>", "文化馆", "城市书房"]
    m = mapping.build_map(boundaries=_units(), facilities=fac, basemap_layers={})
    names = {f["properties"]["f_name"] for gj in _children(m, folium.GeoJson)
             for f in gj.data["features"] if "f_name" in f["properties"]}
    import html as _html
    assert "A & B <Library>" in {_html.unescape(n) for n in names}
