"""Tests of the planning page with streamlit.testing (no browser).

Every flow is driven through widget keys; the numbers the page shows are
compared with the library computed independently in the test (workflow
functions on the same inputs, hand arithmetic, brute force).
"""

from __future__ import annotations

import io
import math
import re
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from coverage import i18n, workflow  # noqa: E402
from coverage.errors import InputError  # noqa: E402
from coverage.geo import WGS84  # noqa: E402
from ui import logic  # noqa: E402
from ui.logic import wkey  # noqa: E402

APP = str(ROOT / "app.py")
T = i18n.t
PRESET = "zhengzhou-2022-culture-space"
RULE = "zz-culture-space-per-capita"
#: The rule's deficit column: named by the rule, not by its id.
DEFICIT = f"{T('deficit')}：新型公共文化空间（城市书房、文化驿站）"
DEFICIT_EN = f"{T('deficit', 'en')}: New-type public culture spaces (city reading rooms, culture stations)"
CHENGHUA = "510108"


# --------------------------------------------------------------------------- helpers
def _widget(at: AppTest, key: str):
    """The widget named ``key``, drawn in the page's current language."""
    lang = at.session_state["lang"] if "lang" in at.session_state else "zh"
    for kind in ("radio", "selectbox", "select_slider", "checkbox", "text_input", "multiselect",
                 "number_input", "button", "file_uploader"):
        try:
            return getattr(at, kind)(key=wkey(key, lang))
        except KeyError:
            continue
    raise AssertionError(f"no widget with key {key!r}")


def _metric(at: AppTest, key: str, lang: str = "zh") -> str:
    """Value of the first metric labelled ``t(key)`` (the headline row comes first)."""
    for m in at.metric:
        if m.label == T(key, lang):
            return m.value
    raise AssertionError(f"no metric {T(key, lang)!r}: {[m.label for m in at.metric]}")


def _frame(at: AppTest, column: str) -> pd.DataFrame:
    for d in at.dataframe:
        if column in d.value.columns:
            return d.value
    raise AssertionError(f"no table with column {column!r}")


def _district_table(at: AppTest) -> pd.DataFrame:
    """The district table, indexed by district id (the page shows names only)."""
    from coverage.study_area import load_default

    table = _frame(at, DEFICIT)
    assert T("district") in table.columns and "unit_id" not in table.columns
    ids = {name: uid for uid, name in logic.unit_names(load_default()).items()}
    return table.set_index(table[T("district")].map(ids))


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def _run(at: AppTest) -> AppTest:
    return _ok(at.run())


def _texts(at: AppTest) -> str:
    parts = [e.value for e in at.error] + [e.value for e in at.success] + [e.value for e in at.markdown]
    parts += [e.value for e in at.info] + [e.value for e in at.warning] + [e.value for e in at.caption]
    return "\n".join(_visible_source(str(p)) for p in parts)


def _errors(at: AppTest) -> str:
    """The error boxes' text (Markdown escapes resolved)."""
    return "\n".join(_visible_source(e.value) for e in at.error)


def _inside_point(area, unit_id: str) -> tuple[float, float]:
    """A WGS84 point inside both the district and the study extent."""
    geom = area.boundaries.loc[area.boundaries["unit_id"] == unit_id].geometry.iloc[0]
    inner = shapely.intersection(geom, area.extent).buffer(-300)
    pt = gpd.GeoSeries([inner.representative_point()], crs=area.crs).to_crs(WGS84).iloc[0]
    return round(pt.x, 5), round(pt.y, 5)


@pytest.fixture(scope="module")
def area():
    from coverage.study_area import load_default

    return load_default()


@pytest.fixture()
def store(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "store" / "scenarios.gpkg"
    monkeypatch.setenv(logic.STORE_ENV, str(path))
    return path


@pytest.fixture()
def app(store) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    return _run(at)


def _access(area, facilities=None, **kw):
    return workflow.access_analysis(area, workflow.AccessParams(**kw), facilities=facilities)


# --------------------------------------------------------------------------- first view
def test_page_opens_in_chinese_with_headline_metrics_from_the_library(app, area):
    assert app.title[0].value == T("app_title", "zh")
    assert not app.error
    for key in ("lang", "facility_types", "mode", "threshold_min", "preset", "basemap", "grid_layer",
                "show_uncovered", "plan_type", "add_lon", "add_lat", "add_btn", "remove_ids",
                "sit_model", "sit_p", "sit_run", "scn_name", "scn_save", "up_coord"):
        _widget(app, key)
    assert _widget(app, "facility_types").value == list(workflow.READING_SPACE_TYPES)
    assert _widget(app, "preset").value == PRESET
    ref = _access(area)
    assert _metric(app, "m_share") == f"{ref.covered_share:.1%}"
    assert _metric(app, "m_covered") == f"{ref.covered_pop:,.0f}"
    assert _metric(app, "m_total") == f"{area.grid['pop'].sum():,.0f}"
    counted = workflow.select_facilities(area.facilities, workflow.READING_SPACE_TYPES)
    assert _metric(app, "n_facilities") == f"{len(counted):,}"


def test_district_table_matches_summary_and_hand_computed_deficits(app, area):
    table = _district_table(app)
    ref = _access(area).summary
    ref = ref[(ref["threshold_min"] == 15.0) & (ref["unit"] != "all")].set_index("unit")
    assert sorted(table.index) == sorted(area.boundaries["unit_id"].astype(str))
    for uid, row in table.iterrows():
        assert row[T("covered_share_pct")] == pytest.approx(round(ref.at[uid, "share_covered"] * 100, 1))
        assert row[T("covered_pop")] == pytest.approx(round(ref.at[uid, "pop_covered"]))
    # Zhengzhou 2022: one new culture space per 50,000 residents of a district (区), rounded up;
    # no culture space of that kind exists in the embedded data.
    pops = area.boundaries.set_index("unit_id")["pop"]
    for uid, row in table.iterrows():
        assert row[DEFICIT] == math.ceil(pops[uid] / 50_000)
    assert table.at[CHENGHUA, DEFICIT] == 10


def test_parameters_update_metrics_table_and_map(app, area):
    _widget(app, "mode").set_value("bike")
    _widget(app, "threshold_min").set_value(10)
    _widget(app, "facility_types").set_value(["library", "museum", "theatre"])
    _run(app)
    ref = _access(area, facility_types=("library", "museum", "theatre"), mode="bike", threshold_min=10)
    assert _metric(app, "m_share") == f"{ref.covered_share:.1%}"
    assert _metric(app, "m_covered") == f"{ref.covered_pop:,.0f}"
    table = _district_table(app)
    s = ref.summary[(ref.summary["threshold_min"] == 10.0) & (ref.summary["unit"] != "all")]
    got = table[T("covered_pop")].reindex(s["unit"].astype(str)).to_numpy(float)
    np.testing.assert_allclose(got, s["pop_covered"].round(0).to_numpy(float))
    for layer in ("time", "none", "pop"):
        _widget(app, "grid_layer").set_value(layer)
        _run(app)
    assert _widget(app, "choropleth").value == "none"
    assert T("grid_hidden_for_fill") not in _texts(app)
    _run(_widget(app, "choropleth").set_value(f"deficit__{RULE}"))
    assert T("grid_hidden_for_fill") in _texts(app)
    _widget(app, "choropleth").set_value("uncovered_share")
    _widget(app, "show_uncovered").uncheck()
    _run(app)
    assert not app.error


def test_switching_language_changes_labels_and_keeps_choices(app):
    _widget(app, "mode").set_value("bike")
    _widget(app, "threshold_min").set_value(10)
    _run(app)
    _run(_widget(app, "lang").set_value("en"))
    assert app.title[0].value == T("app_title", "en")
    assert _widget(app, "mode").label == T("mode", "en")
    assert _widget(app, "facility_types").label == T("existing_types", "en")
    assert _widget(app, "mode").value == "bike"
    assert _widget(app, "threshold_min").value == 10
    _metric(app, "m_share", "en")
    assert DEFICIT_EN in _frame(app, T("district", "en")).columns
    _run(_widget(app, "lang").set_value("zh"))
    assert app.title[0].value == T("app_title", "zh")


def test_a_late_report_with_the_previous_languages_labels_keeps_every_choice(app):
    """The browser may send one more report before it has the new language's page
    (e.g. the map reporting its view on a busy machine): its widget values still
    carry the previous language's labels, and no choice may be lost to them."""
    _widget(app, "mode").set_value("bike")
    _widget(app, "grid_layer").set_value("time")
    _run(app)
    for lang in ("en", "zh"):
        _widget(app, "lang").set_value(lang)
        late = app._tree.get_widget_states()  # what the browser sends with the click
        _run(app)
        _ok(app._run(widget_state=late))      # and once more before the new page arrives
        assert app.title[0].value == T("app_title", lang)
        assert _widget(app, "mode").value == "bike", lang
        assert _widget(app, "grid_layer").value == "time", lang
        assert _widget(app, "facility_types").value == list(workflow.READING_SPACE_TYPES), lang
        assert _widget(app, "preset").value == PRESET, lang
        assert not app.warning and not app.error, lang


def test_the_map_by_the_other_travel_modes_is_built_while_the_page_is_idle(app, monkeypatch):
    """The first change to a new travel mode takes a map built ahead of time."""
    import threading

    from ui import folium_view, page

    monkeypatch.setattr(page, "_PAYLOADS", folium_view.PayloadStore())

    def mode_keys() -> set[str]:
        for th in threading.enumerate():
            if th.name == "map-prebuild":
                th.join(60)
        with page._PAYLOADS._lock:
            return {k[3] for k in page._PAYLOADS._items if k[4] == 20}

    assert mode_keys() == set()
    _run(_widget(app, "threshold_min").set_value(20))
    assert mode_keys() == {"walk", "bike", "drive"}
    builds: list = []
    original = page._PAYLOADS.get

    def counted(key, build):
        return original(key, lambda: builds.append(key) or build())

    monkeypatch.setattr(page._PAYLOADS, "get", counted)
    _run(_widget(app, "mode").set_value("drive"))
    assert _widget(app, "mode").value == "drive" and not builds


def test_no_facility_type_is_a_warning_not_an_error(app):
    _run(_widget(app, "facility_types").set_value([]))
    assert T("pick_types") in _texts(app)
    assert not app.error


def test_online_basemaps_and_missing_tianditu_key_are_handled(app):
    _run(_widget(app, "basemap").set_value("tianditu"))
    assert not app.error
    assert any(T("need_tianditu_key", "zh") in str(e.value) for e in app.info)
    _run(_widget(app, "tianditu_key").input("abc123"))
    assert not any(T("need_tianditu_key", "zh") in str(e.value) for e in app.info)
    _run(_widget(app, "basemap").set_value("amap"))
    assert not app.error
    assert T("online_basemap_note", "zh") in _texts(app)


# --------------------------------------------------------------------------- scenario editing
def test_adding_a_reading_room_by_lonlat_lowers_the_chenghua_deficit(app, area):
    lon, lat = _inside_point(area, CHENGHUA)
    _widget(app, "plan_type").set_value("city_reading_room")
    _widget(app, "add_lon").set_value(lon)
    _widget(app, "add_lat").set_value(lat)
    _run(_widget(app, "add_btn").click())
    assert not app.error
    table = _district_table(app)
    assert table.at[CHENGHUA, DEFICIT] == 10 - 1
    assert table.at["510106", DEFICIT] == math.ceil(
        area.boundaries.set_index("unit_id").at["510106", "pop"] / 50_000)
    planned = _frame(app, T("lon"))
    assert list(planned.index) == ["P001"]
    assert planned.iloc[0][T("lon")] == pytest.approx(lon, abs=1e-6)
    # Coverage with the planned facility, computed independently from the same point.
    pt = gpd.GeoSeries(gpd.points_from_xy([lon], [lat]), crs=WGS84).to_crs(area.crs)
    new = gpd.GeoDataFrame({"facility_type": ["city_reading_room"], "site_id": ["x"]}, geometry=pt.values,
                           crs=area.crs)
    ref = _access(area, workflow.add_facilities(area.facilities, new))
    assert _metric(app, "m_share") == f"{ref.covered_share:.1%}"
    assert ref.covered_pop > _access(area).covered_pop

    # Remove it again with its button: back to the current state.
    _run(_widget(app, "del_P001").click())
    assert _district_table(app).at[CHENGHUA, DEFICIT] == 10
    assert _metric(app, "m_share") == f"{_access(area).covered_share:.1%}"


def test_a_point_outside_the_study_area_is_refused_with_a_message(app, area):
    _widget(app, "add_lon").set_value(110.0)
    _widget(app, "add_lat").set_value(35.0)
    _run(_widget(app, "add_btn").click())
    text = _errors(app)
    assert "（110.00000, 35.00000）在研究区之外" in text and "修改方法：请在研究区内选点" in text
    assert T("no_planned") in _texts(app)


def test_closing_an_existing_facility_updates_coverage(app, area):
    counted = workflow.select_facilities(area.facilities, workflow.READING_SPACE_TYPES)
    ref_all = _access(area)
    # Close the counted facility that serves the most residents.
    served = ref_all.times.assign(pop=area.grid["pop"]).query("time_s <= 900").groupby("facility_id")["pop"].sum()
    closed = str(served.idxmax())
    assert closed in set(counted["facility_id"])
    _run(_widget(app, "remove_ids").set_value([closed]))
    kept = area.facilities[area.facilities["facility_id"] != closed]
    ref = _access(area, kept)
    assert _metric(app, "m_share") == f"{ref.covered_share:.1%}"
    assert _metric(app, "n_facilities") == f"{len(counted) - 1:,}"
    assert ref.covered_pop < ref_all.covered_pop


# --------------------------------------------------------------------------- siting
def test_siting_shows_three_sites_curve_and_can_be_accepted(app, area):
    _widget(app, "sit_model").set_value("mclp")
    _widget(app, "sit_p").set_value(3)
    _widget(app, "sit_cand").set_value("kmeans")
    _run(_widget(app, "sit_run").click())
    assert not app.error
    sites = _frame(app, T("col_site_id"))
    assert list(sites[T("col_site_id")]) == ["S01", "S02", "S03"]
    ref = workflow.propose_sites(area, workflow.SitingParams(p=3, curve_k=3, candidates="kmeans"))
    np.testing.assert_allclose(sites[T("col_newly_covered_pop")].to_numpy(float),
                               ref.sites["newly_covered_pop"].round(0).to_numpy(float))
    assert _metric(app, "n_sites") == "3"
    assert _metric(app, "covered_after") == f"{ref.covered_pop:,.0f}"
    assert len(app.get("vega_lite_chart")) == 1  # coverage-versus-sites curve
    assert len(app.get("progress")) == 1 and len(app.status) == 1

    _run(_widget(app, "accept_btn").click())
    planned = _frame(app, T("lon"))
    assert len(planned) == 3
    with_sites = workflow.add_facilities(area.facilities, ref.sites)
    assert _metric(app, "m_covered") == f"{_access(area, with_sites).covered_pop:,.0f}"
    assert not app.get("vega_lite_chart")


def test_infeasible_quota_is_explained_with_district_names(app, area):
    _widget(app, "sit_p").set_value(2)
    _widget(app, "sit_cand").set_value("kmeans")
    _run(_widget(app, "sit_run").click())
    assert _metric(app, "n_sites") == "2"
    # The failed run below leaves no sites of the earlier question on the page or the map.
    _widget(app, "sit_quota").set_value(PRESET)
    _widget(app, "sit_cand").set_value("kmeans")
    _run(_widget(app, "sit_run").click())
    text = _errors(app)
    # 武侯区 (2,325 residents here) needs one site, and no k-means candidate lies in it.
    assert T("infeasible") in text and "武侯区 需 1 处" in text and "修改方法" in text
    assert "510107" not in text and "`quota`" not in text and "Fix" not in text
    assert T("n_sites") not in [m.label for m in app.metric]
    assert T("sit_hint") in _texts(app)
    _run(_widget(app, "lang").set_value("en"))
    _run(_widget(app, "sit_run").click())
    text = _errors(app)
    assert "Wuhou District needs 1 site" in text and "510107" not in text and "Fix: use every" in text


# --------------------------------------------------------------------------- languages
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+")


def _page_strings(at: AppTest) -> list[str]:
    """Every string the page shows: texts, labels, options, metric labels, table headers and cells."""
    out: list[str] = []
    for kind in ("title", "header", "subheader", "caption", "markdown", "error", "success", "info",
                 "warning", "text"):
        out += [_visible_source(str(e.value)) for e in getattr(at, kind)]
    out += [f"{m.label} {m.value}" for m in at.metric]
    for kind in ("radio", "selectbox", "multiselect", "select_slider", "checkbox", "text_input",
                 "number_input", "button", "tabs", "expander"):
        for w in getattr(at, kind):
            out.append(str(getattr(w.proto, "label", "")))
            out += [str(o) for o in getattr(w.proto, "options", [])]
    out += [b.proto.label for b in at.get("download_button")]
    out += [str(w.proto.label) for w in at.get("file_uploader")]
    for d in at.dataframe:
        frame = d.value
        out += [str(c) for c in frame.columns] + [str(i) for i in frame.index]
        out += [str(v) for col in frame.columns if not pd.api.types.is_numeric_dtype(frame[col])
                for v in frame[col]]
    return out


def _foreign(strings: list[str], lang: str, allowed: set[str]) -> list[str]:
    if lang == "en":
        found = []
        for s in strings:
            for a in sorted(allowed, key=len, reverse=True):
                s = s.replace(a, " ")
            found += CJK.findall(s)
        return sorted(set(found))
    english = [T(k, "en") for k in i18n.keys()] + [i18n.facility_type_label(k, "en") for k in i18n.FACILITY_TYPES]
    return sorted({e for e in english if len(e) >= 8 for s in strings if e in s})


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_string_of_the_page_is_in_its_language(store, area, lang):
    """Every widget, message and table of the page, after siting and a bad upload, in one language."""
    at = AppTest.from_file(APP, default_timeout=90)
    _run(at)
    _run(_widget(at, "lang").set_value(lang))
    _widget(at, "sit_p").set_value(2)
    _widget(at, "sit_cand").set_value("kmeans")
    _run(_widget(at, "sit_run").click())
    strings = _page_strings(at)
    _run(_widget(at, "up_fac").set_value(("bad.csv", BAD_CSV, "text/csv")))
    strings += _page_strings(at)
    _widget(at, "sit_quota").set_value(PRESET)
    _run(_widget(at, "sit_run").click())
    strings += _page_strings(at)
    assert any(T("infeasible", lang) in s for s in strings)
    assert any(T("up_fac_failed", lang) in s for s in strings), [e.value for e in at.error]
    fac = area.facilities
    no_en = fac["name_en"].astype("string").fillna("").str.strip() == ""
    allowed = {"语言 / Language", "中文"} | set(fac.loc[no_en, "name"].astype(str))
    # Place names of the administrative-region lists have no English names in their data.
    allowed |= {str(o) for w in at.selectbox if w.key.split(".")[0] in ("na_province", "na_city", "na_county")
                for o in w.proto.options}
    assert not _foreign(strings, lang, allowed)
    # Districts by name, never by code, in this language.
    codes = set(area.boundaries["unit_id"].astype(str))
    assert not [s for s in strings if s in codes]
    names = logic.unit_names(area, lang=lang)
    assert any(names["510108"] in s for s in strings)


# --------------------------------------------------------------------------- comparison and store
def test_compare_current_state_with_the_edited_scenario(app, area):
    lon, lat = _inside_point(area, CHENGHUA)
    _widget(app, "add_lon").set_value(lon)
    _widget(app, "add_lat").set_value(lat)
    _run(_widget(app, "add_btn").click())
    diff = _frame(app, "B − A").set_index(T("indicator"))
    base = _access(area).covered_share * 100
    pt = gpd.GeoSeries(gpd.points_from_xy([lon], [lat]), crs=WGS84).to_crs(area.crs)
    new = gpd.GeoDataFrame({"facility_type": ["city_reading_room"]}, geometry=pt.values, crs=area.crs)
    edited = _access(area, workflow.add_facilities(area.facilities, new)).covered_share * 100
    row = diff.loc[T("covered_share_pct")]
    assert row["A"] == pytest.approx(round(base, 2))
    assert row["B"] == pytest.approx(round(edited, 2))
    from coverage.standards import load_costs

    assert diff.loc[T("cost_wan"), "B − A"] == pytest.approx(
        load_costs().unit_cost["city_reading_room"] / 1e4)
    assert diff.loc[f"成华区 · {DEFICIT}", "B − A"] == -1

    # Residents gained and lost per district, from the cells each scenario covers.
    ref_a = _access(area)
    ref_b = _access(area, workflow.add_facilities(area.facilities, new))
    cov_a = (ref_a.times["time_s"] <= 900).to_numpy() & ref_a.times["reachable"].to_numpy(bool)
    cov_b = (ref_b.times["time_s"] <= 900).to_numpy() & ref_b.times["reachable"].to_numpy(bool)
    grid = area.grid.assign(gain=area.grid["pop"] * (cov_b & ~cov_a), loss=area.grid["pop"] * (cov_a & ~cov_b))
    by_unit = grid.groupby(grid["unit_id"].astype(str))[["gain", "loss"]].sum()
    gains = _frame(app, T("pop_gained")).set_index(T("district"))
    assert gains.at["成华区", T("pop_gained")] == round(by_unit.at[CHENGHUA, "gain"]) > 0
    assert gains[T("pop_lost")].sum() == 0  # adding a facility loses nobody
    assert gains.at[T("all_districts"), T("pop_gained")] == pytest.approx(
        ref_b.covered_pop - ref_a.covered_pop, abs=len(by_unit))
    assert gains.at["成华区", T("covered_in").format(s="B")] - gains.at["成华区", T("covered_in").format(s="A")] \
        == pytest.approx(by_unit.at[CHENGHUA, "gain"], abs=1)

    # Both scenarios side by side on maps.
    n_maps = len(app.get("component_instance"))
    _run(_widget(app, "cmp_maps").check())
    assert not app.error
    assert len(app.get("component_instance")) == n_maps + 2


def test_save_load_and_conflicting_sessions(app, area, store):
    assert not store.exists()  # opening the page creates no file
    assert T("no_saved") in _texts(app)
    lon, lat = _inside_point(area, CHENGHUA)
    _widget(app, "add_lon").set_value(lon)
    _widget(app, "add_lat").set_value(lat)
    _run(_widget(app, "add_btn").click())
    _widget(app, "scn_name").input("成华区加一处书房")
    _run(_widget(app, "scn_save").click())
    assert T("scenario_saved").format(name="成华区加一处书房", rev=1) in _texts(app)
    assert store.exists()

    # A new empty scenario forgets the planned facility; loading restores it.
    _run(_widget(app, "scn_new").click())
    assert T("no_planned") in _texts(app)
    assert _district_table(app).at[CHENGHUA, DEFICIT] == 10
    _run(_widget(app, "mode").set_value("drive"))
    _widget(app, "scn_pick").set_value("成华区加一处书房")
    _run(_widget(app, "scn_load").click())
    assert _widget(app, "mode").value == "walk"  # the scenario's parameters come back
    planned = _frame(app, T("lon"))
    assert planned.iloc[0][T("lon")] == pytest.approx(lon, abs=1e-6)
    assert planned.iloc[0][T("lat")] == pytest.approx(lat, abs=1e-6)
    assert _district_table(app).at[CHENGHUA, DEFICIT] == 9

    # A second browser session loads the same scenario, edits and saves it first ...
    other = AppTest.from_file(APP, default_timeout=90)
    _run(other)
    _widget(other, "scn_pick").set_value("成华区加一处书房")
    _run(_widget(other, "scn_load").click())
    _run(_widget(other, "mode").set_value("bike"))
    _run(_widget(other, "scn_save").click())
    assert T("scenario_saved").format(name="成华区加一处书房", rev=2) in _texts(other)
    # ... so the first session's save is refused with a readable message, not overwritten.
    _run(_widget(app, "scn_save").click())
    assert T("scenario_conflict").format(name="成华区加一处书房") in _errors(app)
    from coverage.scenario import ScenarioStore

    stored = ScenarioStore(store).load("成华区加一处书房")
    assert stored.revision == 2 and stored.params["mode"] == "bike"
    # Save-as keeps the first session's work under another name.
    _widget(app, "scn_name").input("我的副本")
    _run(_widget(app, "scn_save_as").click())
    assert set(ScenarioStore(store).list()["name"]) == {"成华区加一处书房", "我的副本"}
    # Delete.
    _widget(app, "scn_pick").set_value("我的副本")
    _run(_widget(app, "scn_delete").click())
    assert list(ScenarioStore(store).list()["name"]) == ["成华区加一处书房"]


def test_store_path_default_and_override(tmp_path):
    assert logic.store_path({}) == Path.home() / ".cultcov" / "scenarios.gpkg"
    p = tmp_path / "a" / "b.gpkg"
    assert logic.store_path({logic.STORE_ENV: str(p)}) == p
    assert p.parent.is_dir()


# --------------------------------------------------------------------------- downloads
@pytest.fixture()
def media(monkeypatch):
    """Record the bytes handed to Streamlit's media storage (the download buttons' data)."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    seen: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def spy(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        if isinstance(path_or_data, bytes) and filename:
            seen[filename] = path_or_data
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    return seen


def test_download_buttons_carry_the_shortfall_workbook_and_csv(app, area, media):
    from openpyxl import load_workbook

    _run(app)
    labels = [b.proto.label for b in app.get("download_button")]
    assert T("dl_xlsx") in labels and T("dl_csv") in labels
    xlsx = media[f"shortfall_{PRESET}.xlsx"]
    wb = load_workbook(io.BytesIO(xlsx))
    ws = wb[RULE]
    values = [c for row in ws.iter_rows(values_only=True) for c in row]
    assert "成华区" in values
    csv = media[f"shortfall_{PRESET}.csv"].decode("utf-8-sig")
    rows = pd.read_csv(io.StringIO(csv))
    assert (rows.astype(str).apply(lambda r: "成华区" in set(r), axis=1)).sum() >= 1


def test_proposals_download_after_siting(app, media):
    _widget(app, "sit_p").set_value(2)
    _widget(app, "sit_cand").set_value("kmeans")
    _run(_widget(app, "sit_run").click())
    import json

    doc = json.loads(media["proposals.geojson"].decode("utf-8"))
    assert [f["properties"]["site_id"] for f in doc["features"]] == ["S01", "S02"]
    lon, lat = doc["features"][0]["geometry"]["coordinates"]
    assert 104.0 < lon < 104.2 and 30.6 < lat < 30.8
    gpkg = media["proposals.gpkg"]
    assert gpkg[:16] == b"SQLite format 3\x00"
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(media[f"shortfall_{PRESET}.xlsx"]))
    assert len(wb.sheetnames) >= 3  # summary, rule, proposals, notes


# --------------------------------------------------------------------------- uploads
BAD_CSV = ("name,type,lon,lat\n"
           "城市书房A,city_reading_room,104.08,30.69\n"
           "城市书房B,city_reading_room,104.09,abc\n"
           "城市书房C,city_reading_room,116.40,39.90\n").encode("utf-8")


def test_upload_processing_reports_rows_and_columns(area):
    from coverage.errors import InputError

    with pytest.raises(InputError) as info:
        logic.load_facilities_upload("书房名录.csv", BAD_CSV, area=area)
    where = {(p.file, p.row, p.column) for p in info.value.problems}
    assert ("书房名录.csv", 3, "lat") in where
    assert ("书房名录.csv", 4, "lon/lat") in where
    table = logic.problems_table(info.value.problems, lang="zh")
    assert list(table.columns) == [T(k) for k in ("p_file", "p_row", "p_column", "p_message", "p_fix")]
    assert table[T("p_row")].tolist() == ["3", "4"]
    with pytest.raises(InputError):
        logic.load_facilities_upload("empty.csv", b"", area=area)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_upload_templates_load_through_the_facility_loader(app, area, media, kind):
    """The templates beside the upload box: Chinese headers, and they load as they are."""
    _run(app)
    name = f"{T('template_file')}.{kind}"
    data = media[name]
    if kind == "csv":  # a workbook carries its creation time
        assert data == logic.facility_template(kind)
    fac = logic.load_facilities_upload(name, data, area=area)
    assert list(fac["name"]) == [r[1] for r in logic.FACILITY_TEMPLATE_ROWS]
    assert list(fac["type"]) == ["city_reading_room", "cultural_centre", "library"]
    assert fac["lon"].tolist() == pytest.approx([r[4] for r in logic.FACILITY_TEMPLATE_ROWS])
    assert fac["capacity"].iloc[0] == 40 and np.isnan(fac["capacity"].iloc[1])
    assert {"名称", "类型", "经度", "纬度"} <= set(logic.FACILITY_TEMPLATE_HEADER)
    # Uploaded through the page, the template replaces the facility layer without a problem.
    _run(_widget(app, "up_fac").set_value((name, data, "application/octet-stream")))
    assert not app.error
    assert _metric(app, "n_facilities") == "3"


def test_study_area_templates_build_an_area_through_the_loaders(app, media, tmp_path):
    """The boundaries and population templates beside their upload boxes load as they are."""
    import rasterio

    _run(app)
    bnd = media[f"{T('template_bnd_file')}.geojson"]
    pop = media[f"{T('template_pop_file')}.tif"]
    assert bnd == logic.boundaries_template() and pop == logic.population_template()
    assert {"名称", "行政区划代码", "常住人口"} <= set(gpd.read_file(io.BytesIO(bnd)).columns)
    area = logic.load_area_upload({"boundaries": ("b.geojson", bnd), "population": ("p.tif", pop)},
                                  folder=tmp_path / "up")
    assert sorted(area.boundaries["name"]) == ["示例乙区", "示例甲区"]
    assert set(area.boundaries["unit_id"].astype(str)) == {"510198", "510199"}
    (tmp_path / "p.tif").write_bytes(pop)
    with rasterio.open(tmp_path / "p.tif") as src:
        total = float(src.read(1, masked=True).sum())
    assert area.grid["pop"].sum() == pytest.approx(total, rel=1e-6)


def test_save_upload_keeps_the_name_but_not_the_folder(tmp_path):
    p = logic.save_upload("../../etc/城市书房.csv", b"x", tmp_path)
    assert p == tmp_path / "城市书房.csv" and p.read_bytes() == b"x"


def test_uploading_a_broken_facility_file_lists_the_problems(app):
    _run(_widget(app, "up_fac").set_value(("bad.csv", BAD_CSV, "text/csv")))
    text = _errors(app)
    assert T("up_fac_failed") in text
    assert "bad.csv，第 3 行，“lat”列：“abc”不是数字" in text
    assert "bad.csv，第 4 行，“lon/lat”列：（116.400000, 39.900000）在研究区" in text
    assert "Traceback" not in text
    problems = _frame(app, T("p_row"))
    assert problems[T("p_row")].tolist() == ["3", "4"]


def test_uploading_facilities_replaces_the_facility_layer(app, area):
    good = ("name,type,lon,lat\n"
            "书房甲,city_reading_room,104.10,30.69\n"
            "书房乙,city_reading_room,104.07,30.70\n").encode("utf-8")
    _run(_widget(app, "up_fac").set_value(("good.csv", good, "text/csv")))
    assert not app.error
    from coverage.facilities import load_facilities

    src = ROOT / "tests" / "_good_upload.csv"
    try:
        src.write_bytes(good)
        fac = load_facilities(src, crs=area.crs, bounds_lonlat=area.bounds_lonlat)
    finally:
        src.unlink()
    ref = _access(area, fac)
    assert _metric(app, "n_facilities") == "2"
    assert _metric(app, "m_share") == f"{ref.covered_share:.1%}"
    _run(_widget(app, "up_fac_reset").click())
    assert _metric(app, "m_share") == f"{_access(area).covered_share:.1%}"


def test_notes_on_an_uploaded_facility_file_read_in_the_page_language(app):
    data = ("name,type,lon,lat\n"
            "书房甲,city_reading_room,104.10,30.69\n"
            "书店乙,书店,104.07,30.70\n").encode("utf-8")
    _run(_widget(app, "up_fac").set_value(("notes.csv", data, "text/csv")))
    notes = "\n".join(_visible_source(w.value) for w in app.warning)
    assert "notes.csv，“type”列：第 3 行的类型 '书店' 无法识别" in notes, notes
    assert "请填写以下类型之一：图书馆、文化馆、" in notes
    assert "not a known facility type" not in notes


def test_gcj02_upload_is_shifted_back_to_wgs84(area):
    from coverage.facilities import wgs84_to_gcj02

    glon, glat = wgs84_to_gcj02(104.08, 30.69)
    data = f"name,type,lon,lat\n书房,city_reading_room,{float(glon):.7f},{float(glat):.7f}\n".encode()
    fac = logic.load_facilities_upload("gcj.csv", data, area=area, coord_system="gcj02")
    assert fac["lon"].iloc[0] == pytest.approx(104.08, abs=2e-5)
    assert fac["lat"].iloc[0] == pytest.approx(30.69, abs=2e-5)


def test_study_area_upload_needs_boundaries_and_population(app, tmp_path):
    from coverage.errors import InputError

    with pytest.raises(InputError) as info:
        logic.load_area_upload({"network": ("roads.osm", b"<osm/>")}, folder=tmp_path)
    assert len(info.value.problems) == 2
    _run(_widget(app, "up_bnd").set_value(("districts.geojson", b"{not json", "application/geo+json")))
    _run(_widget(app, "up_area_btn").click())
    text = _errors(app)
    assert T("up_area_failed") in text
    assert "Traceback" not in text


@pytest.fixture()
def area_files(tmp_path) -> dict[str, tuple[str, bytes]]:
    """A one-district boundaries GeoJSON and a 30 x 30 GeoTIFF of 10 residents per pixel."""
    import rasterio
    from rasterio.transform import from_origin

    box = shapely.box(104.05, 30.66, 104.08, 30.69)
    bnd = gpd.GeoDataFrame({"name": ["测试区"], "adcode": ["510199"]}, geometry=[box], crs=WGS84)
    bpath = tmp_path / "b.geojson"
    bnd.to_file(bpath, driver="GeoJSON")
    counts = np.full((30, 30), 10.0, dtype="float32")
    tpath = tmp_path / "p.tif"
    with rasterio.open(tpath, "w", driver="GTiff", height=30, width=30, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(104.05, 30.69, 0.001, 0.001)) as dst:
        dst.write(counts, 1)
    return {"boundaries": ("b.geojson", bpath.read_bytes()), "population": ("p.tif", tpath.read_bytes())}


def test_study_area_upload_builds_a_new_area(tmp_path, area_files):
    new = logic.load_area_upload(area_files, folder=tmp_path / "up")
    assert list(new.boundaries["name"]) == ["测试区"]
    assert new.grid["pop"].sum() == pytest.approx(30 * 30 * 10.0, rel=1e-6)
    assert (tmp_path / "up" / "boundaries" / "b.geojson").is_file()


def test_uploaded_area_without_roads_explains_and_can_be_undone(app, area, area_files):
    _widget(app, "up_bnd").set_value((*area_files["boundaries"], "application/geo+json"))
    _widget(app, "up_pop").set_value((*area_files["population"], "image/tiff"))
    _run(_widget(app, "up_area_btn").click())
    text = _errors(app)
    assert "没有路网" in text and "修改方法：请同时上传路网文件" in text
    # The upload section stays reachable, and the built-in area comes back.
    _run(_widget(app, "up_area_reset").click())
    assert not app.error
    assert _metric(app, "m_share") == f"{_access(area).covered_share:.1%}"


# --------------------------------------------------------------------------- errors
def test_data_errors_are_listed_without_traceback(monkeypatch, store):
    import streamlit as st

    import coverage.study_area as study_area
    from coverage.errors import InputError, Problem

    def broken():
        raise InputError([Problem("population is negative", fix="use counts >= 0",
                                  file="population_grid.gpkg", row=7, column="pop"),
                          Problem("district has no name", file="districts.geojson", row=3)])

    monkeypatch.setattr(study_area, "load_default", broken)
    st.cache_resource.clear()
    try:
        at = AppTest.from_file(APP, default_timeout=90).run()
        assert not at.exception
        text = at.error[0].value
        assert T("data_error", "zh") in text
        # Where in the page's language; a message without a translation as it is.
        assert "population_grid.gpkg，第 7 行，“pop”列：population is negative" in text
        assert "districts.geojson，第 3 行" in text
        assert "Traceback" not in text

        def crash():
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(study_area, "load_default", crash)
        st.cache_resource.clear()
        at = AppTest.from_file(APP, default_timeout=90).run()
        assert not at.exception
        assert at.error[0].value == T("unexpected_error", "zh")
        assert "RuntimeError: disk on fire" in at.expander[0].markdown[0].value
    finally:
        st.cache_resource.clear()


# --------------------------------------------------------------------------- map raster
def test_grid_raster_reused_for_a_subset_matches_brute_force(area):
    from coverage.mapping import grid_raster

    grid = area.grid
    raster = grid_raster(grid)
    subset = grid.iloc[::3]
    got = raster.sample(subset, "pop")
    # Brute force: the pixel's cell (found by the raster of the full grid, whose
    # own sampling the map tests check against point-in-polygon) is in the subset.
    labels = raster.labels.to_numpy()
    expected = np.full(raster.cell.shape, np.nan)
    inside = raster.cell >= 0
    in_subset = np.isin(labels[raster.cell[inside]], subset.index.to_numpy())
    vals = grid["pop"].to_numpy(float)[raster.cell[inside]]
    expected[inside] = np.where(in_subset, vals, np.nan)
    np.testing.assert_array_equal(got, expected)
    assert np.isfinite(got).sum() < np.isfinite(raster.sample(grid, "pop")).sum()


def test_a_copied_map_renders_the_same_page(area):
    """The page hands st_folium a deep copy of a cached map: it must render identically."""
    import copy

    from coverage.mapping import build_map

    sites = gpd.GeoDataFrame({"name": ["S01"], "newly_covered_pop": [1234.0]},
                             geometry=[area.grid.geometry.iloc[0].centroid], crs=area.crs)
    m = build_map(boundaries=area.boundaries, facilities=area.facilities, grid=area.grid,
                  uncovered=area.grid.iloc[:50], proposals=sites, choropleth_column="pop",
                  basemap_layers={})
    html = copy.deepcopy(m).get_root().render()
    assert html == m.get_root().render()
    assert "cultcov-legend" in html and "cultcov-proposal" in html


def test_budget_limits_the_number_of_sites(app):
    from coverage.standards import load_costs

    unit = load_costs().unit_cost["city_reading_room"]
    _run(_widget(app, "sit_limit").set_value("budget"))
    _widget(app, "sit_budget").set_value(round(3.5 * unit / 1e4, 2))  # room for 3, not 4
    _widget(app, "sit_cand").set_value("kmeans")
    _run(_widget(app, "sit_run").click())
    assert not app.error
    assert _metric(app, "n_sites") == "3"
    assert _metric(app, "cost_wan") == f"{3 * unit / 1e4:,.0f}"
    assert not app.get("vega_lite_chart")  # the curve belongs to the p version


def test_every_interface_key_used_by_the_page_exists_in_both_languages():
    import re

    keys = set(i18n.keys())
    used: set[str] = set()
    for path in (ROOT / "ui").glob("*.py"):
        used |= set(re.findall(r"\bt\(\"([a-z0-9_]+)\"", path.read_text(encoding="utf-8")))
    assert used and not used - keys, sorted(used - keys)
    for key in used:
        assert T(key, "zh") and T(key, "en")


def test_upload_size_limit_is_set_for_the_server_and_checked_in_the_loader(tmp_path):
    import tomllib

    from coverage.limits import MAX_UPLOAD_MB
    from ui.logic import save_upload

    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert cfg["server"]["maxUploadSize"] == MAX_UPLOAD_MB
    with pytest.raises(InputError, match=rf"big\.csv.*{MAX_UPLOAD_MB} MB.*cultcov"):
        save_upload("big.csv", b"x" * (MAX_UPLOAD_MB * 1024 * 1024 + 1), tmp_path)
    assert not (tmp_path / "big.csv").exists()
# --------------------------------------------------------------------------- user text is literal
HOSTILE_CELLS = ("![t](http://203.0.113.9/p.png)", "[x](http://203.0.113.9/)")


def _rendered(markdown: str) -> str:
    """HTML of a message body as CommonMark renders it (Streamlit's Markdown is CommonMark + GFM)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").render(markdown)


def _visible(markdown: str) -> str:
    import html
    import re

    return html.unescape(re.sub(r"<[^>]+>", "", _rendered(markdown))).replace("\u2060", "")


# GFM autolink literals as the page's Markdown renderer finds them in text.
_GFM_URL = r"(?i)(https?://|www(?=\.))([-.\w]+)"
_GFM_EMAIL = r"(?<![-.\w+])[-.\w+]+@[-\w]+(?:\.[-\w]+)+"


def _assert_literal(body: str, *expected: str) -> None:
    import re

    out = _rendered(body)
    assert "<a " not in out and "<img" not in out, out
    assert not re.search(_GFM_URL, _visible_source(body)), body
    assert not re.search(_GFM_EMAIL, _visible_source(body)), body
    for text in expected:
        assert text in _visible(body), (text, _visible(body))


def _visible_source(body: str) -> str:
    """The text nodes' characters: Markdown escapes resolved, nothing else."""
    import re

    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", body)


@pytest.mark.parametrize("text", [
    "![t](http://203.0.113.9/p.png)", "[x](http://203.0.113.9/)", "<img src=x onerror=alert(1)>",
    "*bold* _it_ `code` ~~s~~ $x^2$ :red[warn]", "# heading", "1. item", "> quote", "- item",
    "a\n\n- b", "&lt;b&gt; &amp;", "see http://203.0.113.9/a or www.example.org or a@b.example.org",
    "population_grid.gpkg, row 7, column 'pop'", "C:\\data\\书房.csv", "| a | b |",
])
def test_literal_shows_text_as_it_is_and_makes_no_link(text):
    body = logic.literal(text)
    _assert_literal(body, " ".join(text.split()))
    # Inside the page's own list structure too.
    _assert_literal("header\n\n- " + body, " ".join(text.split()))


def test_problem_messages_show_hostile_cells_literally(app):
    data = ("name,type,lon,lat\n"
            f"{HOSTILE_CELLS[1]},city_reading_room,104.09,{HOSTILE_CELLS[0]}\n").encode("utf-8")
    _run(_widget(app, "up_fac").set_value(("[f](http://203.0.113.9/).csv", data, "text/csv")))
    bodies = [e.value for e in app.error]
    assert any(T("up_fac_failed") in b for b in bodies)
    for body in bodies:
        _assert_literal(body)
    text = "\n".join(_visible(b) for b in bodies)
    assert f"“{HOSTILE_CELLS[0]}”不是数字" in text


def test_flash_and_scenario_names_are_literal(app, store):
    name = "![t](http://203.0.113.9/p.png) **A**"
    _widget(app, "scn_name").set_value(name)
    _run(_widget(app, "scn_save").click())
    bodies = [e.value for e in app.success] + [e.value for e in app.markdown]
    assert any(name in _visible(b) for b in bodies), bodies
    for body in bodies:
        if "203.0.113.9" in body:
            _assert_literal(body)


# --------------------------------------------------------------------------- temporary folders
def _area_folders(root: Path) -> list[Path]:
    return sorted(root.glob("cultcov-area-*"))


def test_uploaded_area_folders_are_removed_when_no_longer_used(app, area_files, tmp_path, monkeypatch):
    import gc
    import tempfile

    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    # A failed upload keeps nothing.
    _widget(app, "up_bnd").set_value(("districts.geojson", b"{not json", "application/geo+json"))
    _widget(app, "up_pop").set_value((*area_files["population"], "image/tiff"))
    _run(_widget(app, "up_area_btn").click())
    assert T("up_area_failed") in _errors(app)
    assert _area_folders(root) == []
    # A working upload keeps its files while the area is in use (roads are read from there) ...
    _widget(app, "up_bnd").set_value((*area_files["boundaries"], "application/geo+json"))
    _run(_widget(app, "up_area_btn").click())
    _run(_widget(app, "up_area_btn").click())
    _run(app)  # the session keeps the previous run's state for one more run
    gc.collect()
    assert len(_area_folders(root)) == 1
    # ... and no longer once the built-in area is back.
    _run(_widget(app, "up_area_reset").click())
    _run(app)
    gc.collect()
    assert _area_folders(root) == []


def test_load_area_upload_cleans_its_own_folder(area_files, tmp_path, monkeypatch):
    import gc
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(Exception):  # noqa: B017 - whatever the reader raises
        logic.load_area_upload({"boundaries": ("b.geojson", b"{not json"),
                                "population": area_files["population"]})
    assert _area_folders(tmp_path) == []
    new = logic.load_area_upload(area_files)
    (folder,) = _area_folders(tmp_path)
    assert (folder / "boundaries" / "b.geojson").is_file()
    del new
    gc.collect()
    assert not folder.exists()


def test_gcj02_upload_read_as_wgs84_gets_a_note_with_the_fix():
    from coverage.facilities import wgs84_to_gcj02
    from coverage.study_area import load_default

    fac = pd.read_csv(ROOT / "data" / "chengdu" / "facilities.csv")
    fac["lon"], fac["lat"] = wgs84_to_gcj02(fac["lon"].to_numpy(), fac["lat"].to_numpy())
    data = fac.to_csv(index=False).encode("utf-8")
    area = load_default()
    loaded = logic.load_facilities_upload("amap.csv", data, area=area, coord_system="wgs84")
    notes = " ".join(loaded.attrs["notes"])
    assert "amap.csv" in notes and "GCJ-02" in notes and "GCJ-02 when uploading" in notes
    loaded = logic.load_facilities_upload("amap.csv", data, area=area, coord_system="gcj02")
    assert "GCJ-02" not in " ".join(loaded.attrs["notes"])


def test_catchment_layer_can_be_shown_on_the_map(app):
    _run(_widget(app, "show_catchments").check())
    assert not app.exception and not app.error
    assert T("show_catchments", "zh") in [c.label for c in app.checkbox]
