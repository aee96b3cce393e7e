"""Tests of the Streamlit page with streamlit.testing (no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from coverage import i18n

APP = str(Path(__file__).resolve().parent.parent / "app.py")
KEYS = ("lang", "facility_type", "mode", "threshold_min", "preset", "basemap", "show_grid")


def _widget(at: AppTest, key: str):
    for kind in ("radio", "selectbox", "select_slider", "checkbox", "text_input"):
        try:
            return getattr(at, kind)(key=key)
        except KeyError:
            continue
    raise AssertionError(f"no widget with key {key!r}")


def _text(at: AppTest) -> str:
    parts = [e.value for e in at.title] + [e.value for e in at.caption]
    parts += [e.label for e in at.metric] + [e.value for e in at.markdown]
    return "\n".join(map(str, parts))


@pytest.fixture(scope="module")
def area():
    from coverage.study_area import load_default

    return load_default()


@pytest.fixture()
def app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert not at.exception, at.exception
    return at


def test_page_runs_in_chinese_by_default(app, area):
    assert app.title[0].value == i18n.t("app_title", "zh")
    assert not app.error
    for key in KEYS:
        _widget(app, key)
    labels = [m.label for m in app.metric]
    assert labels == [i18n.t("n_facilities", "zh"), i18n.t("n_districts", "zh"),
                      i18n.t("pop_study_area", "zh")]
    values = [m.value for m in app.metric]
    assert values[0] == f"{len(area.facilities):,}"
    assert values[1] == f"{len(area.boundaries):,}"
    assert values[2] == f"{area.grid['pop'].sum():,.0f}"


def test_switching_language_changes_labels_and_keeps_choices(app):
    _widget(app, "mode").set_value("bike").run()
    _widget(app, "threshold_min").set_value(10).run()
    _widget(app, "lang").set_value("en").run()
    assert not app.exception
    assert app.title[0].value == i18n.t("app_title", "en")
    assert _widget(app, "mode").label == i18n.t("mode", "en")
    assert _widget(app, "facility_type").label == i18n.t("facility_type", "en")
    assert _widget(app, "mode").value == "bike"
    assert _widget(app, "threshold_min").value == 10
    assert [m.label for m in app.metric][0] == i18n.t("n_facilities", "en")
    _widget(app, "lang").set_value("zh").run()
    assert app.title[0].value == i18n.t("app_title", "zh")


def test_facility_type_filter_counts_match_the_data(app, area):
    counts = area.facilities["type"].value_counts()
    tp = counts.index[0]
    _widget(app, "facility_type").set_value(tp).run()
    assert not app.exception
    assert app.metric[0].value == f"{int(counts[tp]):,}"
    missing = next(t for t in i18n.FACILITY_TYPES if t not in counts.index)
    _widget(app, "facility_type").set_value(missing).run()
    assert not app.exception and not app.error
    assert app.metric[0].value == "0"


def test_online_basemaps_and_missing_tianditu_key_are_handled(app):
    _widget(app, "basemap").set_value("tianditu").run()
    assert not app.exception and not app.error
    assert any(i18n.t("need_tianditu_key", "zh") in str(e.value) for e in app.info)
    _widget(app, "tianditu_key").input("abc123").run()
    assert not app.exception and not app.info
    _widget(app, "basemap").set_value("amap").run()
    assert not app.exception and not app.error
    assert i18n.t("online_basemap_note", "zh") in _text(app)


def test_grid_toggle_and_preset_widgets(app):
    standards = pytest.importorskip("coverage.standards")
    names = {p.id: p for p in standards.list_presets()}
    _widget(app, "show_grid").uncheck().run()
    assert not app.exception
    preset = _widget(app, "preset")
    assert preset.value == "gb50180-life-circle"
    preset.set_value("all").run()
    _widget(app, "lang").set_value("en").run()
    assert not app.exception
    preset = _widget(app, "preset")
    assert preset.value == "all"
    assert preset.label == i18n.t("preset", "en")
    assert names["all"].name_en in preset.options


def test_data_errors_are_listed_without_traceback(monkeypatch):
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
        assert i18n.t("data_error", "zh") in text
        assert "population_grid.gpkg, row 7, column 'pop': population is negative" in text
        assert "districts.geojson, row 3" in text
        assert "Traceback" not in text

        def crash():
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(study_area, "load_default", crash)
        st.cache_resource.clear()
        at = AppTest.from_file(APP, default_timeout=90).run()
        assert not at.exception
        assert at.error[0].value == i18n.t("unexpected_error", "zh")
        assert "RuntimeError: disk on fire" in at.expander[0].markdown[0].value
    finally:
        st.cache_resource.clear()
