"""Streamlit page of the culture-coverage planner.

Run with ``streamlit run app.py``. The page stays thin: data loading, maps
and analysis live in the :mod:`coverage` package; this file only wires
widgets to them. Everything works without a network (the map's scripts are
vendored, the default basemap is drawn from the embedded OSM data).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st
from streamlit_folium import st_folium

from coverage.errors import InputError
from coverage.i18n import FACILITY_TYPES, LANG_NAMES, LANGS, MODES, facility_type_label, mode_label, t
from coverage.mapping import BASEMAPS, build_map

THRESHOLDS_MIN = (5, 10, 15, 20, 30, 45, 60)
MAP_HEIGHT = 620
#: Preset chosen at start: the residential life-circle standard of GB 50180-2018.
DEFAULT_PRESET = "gb50180-life-circle"


@dataclass(frozen=True)
class _PresetChoice:
    id: str
    name_zh: str
    name_en: str


@st.cache_resource(show_spinner=False)
def _study_area() -> Any:
    """The embedded central-Chengdu study area (loaded once per server)."""
    from coverage.study_area import load_default

    return load_default()


@st.cache_data(show_spinner=False)
def _presets() -> tuple[_PresetChoice, ...]:
    """Planning-standard presets of the built-in catalogue."""
    try:
        from coverage.standards import list_presets

        presets = tuple(_PresetChoice(p.id, p.name_zh, p.name_en) for p in list_presets())
    except (ImportError, InputError, OSError):
        presets = ()
    return presets or (_PresetChoice("custom", t("preset_custom", "zh"), t("preset_custom", "en")),)


@st.cache_resource(show_spinner=False)
def _basemap_layers() -> dict:
    from coverage.mapping import load_basemap

    return load_basemap()


def _show_input_error(exc: InputError, lang: str) -> None:
    st.error(t("data_error", lang) + "\n\n" + "\n".join(f"- {p}" for p in exc.problems))


def _show_unexpected(exc: BaseException, lang: str) -> None:
    st.error(t("unexpected_error", lang))
    with st.expander(t("error_details", lang)):
        st.write(f"{type(exc).__name__}: {exc}")


def _sidebar() -> dict[str, Any]:
    sb = st.sidebar
    lang = sb.radio("语言 / Language", LANGS,
                    format_func=LANG_NAMES.__getitem__, key="lang", horizontal=True)
    sb.header(t("settings", lang))
    facility_type = sb.selectbox(
        t("facility_type", lang), ("all",) + FACILITY_TYPES, key="facility_type",
        format_func=lambda v: t("all_types", lang) if v == "all" else facility_type_label(v, lang))
    mode = sb.radio(t("mode", lang), MODES, key="mode", horizontal=True,
                    format_func=lambda v: mode_label(v, lang))
    threshold = sb.select_slider(t("threshold_min", lang), THRESHOLDS_MIN, value=15,
                                 key="threshold_min")
    presets = _presets()
    by_id = {p.id: p for p in presets}
    ids = tuple(by_id)
    preset = sb.selectbox(t("preset", lang), ids, key="preset",
                          index=ids.index(DEFAULT_PRESET) if DEFAULT_PRESET in ids else 0,
                          format_func=lambda v: by_id[v].name_zh if lang == "zh" else by_id[v].name_en)
    sb.header(t("layers", lang))
    basemap = sb.selectbox(t("basemap", lang), BASEMAPS, key="basemap",
                           format_func=lambda v: t(f"basemap_{v}", lang))
    tianditu_key = ""
    if basemap == "tianditu":
        tianditu_key = sb.text_input(t("tianditu_key", lang), key="tianditu_key", type="password",
                                     help=t("tianditu_key_help", lang))
    show_grid = sb.checkbox(t("show_grid", lang), value=True, key="show_grid")
    sb.caption(t("data_source", lang))
    return {"lang": lang, "facility_type": facility_type, "mode": mode,
            "threshold_min": threshold, "preset": preset, "basemap": basemap,
            "tianditu_key": tianditu_key, "show_grid": show_grid}


def main() -> None:
    st.set_page_config(page_title="公共文化设施覆盖规划 / Culture coverage planner",
                       layout="wide")
    opts = _sidebar()
    lang = opts["lang"]
    st.title(t("app_title", lang))
    st.caption(t("app_caption", lang))

    try:
        area = _study_area()
    except InputError as exc:
        _show_input_error(exc, lang)
        return
    except Exception as exc:  # noqa: BLE001 - the page never shows a traceback
        _show_unexpected(exc, lang)
        return

    facilities = area.facilities
    if opts["facility_type"] != "all":
        facilities = facilities[facilities["type"] == opts["facility_type"]]

    cols = st.columns(3)
    cols[0].metric(t("n_facilities", lang), f"{len(facilities):,}")
    cols[1].metric(t("n_districts", lang), f"{len(area.boundaries):,}")
    cols[2].metric(t("pop_study_area", lang), f"{area.total_pop:,.0f}")

    basemap = opts["basemap"]
    if basemap == "tianditu" and not opts["tianditu_key"]:
        st.info(t("need_tianditu_key", lang))
        basemap = "offline"
    elif basemap != "offline":
        st.caption(t("online_basemap_note", lang))

    try:
        fmap = build_map(
            boundaries=area.boundaries,
            facilities=facilities,
            grid=area.grid if opts["show_grid"] else None,
            basemap=basemap,
            basemap_layers=_basemap_layers() if basemap == "offline" else None,
            tianditu_key=opts["tianditu_key"] or None,
            lang=lang,
        )
    except InputError as exc:
        _show_input_error(exc, lang)
        return
    except Exception as exc:  # noqa: BLE001
        _show_unexpected(exc, lang)
        return

    st.caption(t("map_hint", lang))
    state = st_folium(fmap, key="map", height=MAP_HEIGHT, use_container_width=True,
                      returned_objects=["last_clicked"])
    clicked = (state or {}).get("last_clicked")
    if clicked:
        st.session_state["clicked"] = (float(clicked["lat"]), float(clicked["lng"]))
    if "clicked" in st.session_state:
        lat, lon = st.session_state["clicked"]
        st.write(f"{t('last_click', lang)}: {lat:.5f}, {lon:.5f}")


main()
