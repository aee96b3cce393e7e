"""The planning page: widgets, cached analyses and the sections of ``app.py``.

Data loading, maps and analysis live in the :mod:`coverage` package and the
page logic that needs no Streamlit lives in :mod:`ui.logic`; this module
only wires widgets to them.

Heavy results are cached by their inputs: the study area and the travel
graphs once per server; coverage, standards evaluations, downloads and the
folium map per (area, facility layer, parameters), where a facility layer is
keyed by its ids, types and coordinates; siting proposals in a small
server-wide LRU. Widget keys are stable so that tests can drive the page.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import streamlit as st

from coverage.errors import InfeasibleError, InputError, Problem
from coverage.i18n import (FACILITY_TYPES, LANG_NAMES, LANGS, MODES, error_text, facility_type_label,
                           mode_label, problem_text, t)
from coverage.mapping import BASEMAPS, build_map, public_mask
from ui import folium_view, logic, report_view
from ui.logic import LANG_WIDGETS, wkey
from ui.new_area import new_area_panel

THRESHOLDS_MIN = (5, 10, 15, 20, 30)
MAP_HEIGHT = 620
COMPARE_MAP_HEIGHT = 380
#: Preset chosen at start: per-capita new public culture spaces (Zhengzhou 2022).
DEFAULT_PRESET = "zhengzhou-2022-culture-space"
DEFAULT_TOKEN = "default:chengdu-core"
SITING_MODELS = ("mclp", "lscp", "p_median")
#: Population-weighted k-means centres first: a few seconds even for bike/drive thresholds.
CANDIDATE_KINDS = ("kmeans", "cells")
COORD_SYSTEMS = ("wgs84", "gcj02", "bd09")
GRID_LAYERS = ("pop", "time", "none")
SITING_CACHE_SIZE = 16


@dataclass(frozen=True)
class _PresetChoice:
    id: str
    name_zh: str
    name_en: str


# --------------------------------------------------------------------------- cached data
@st.cache_resource(show_spinner=False)
def _study_area() -> Any:
    """The embedded central-Chengdu study area (loaded once per server)."""
    from coverage.study_area import load_default

    return load_default()


@st.cache_resource(show_spinner=False)
def _presets() -> tuple[_PresetChoice, ...]:
    """Planning-standard presets of the built-in catalogue."""
    try:
        from coverage.standards import list_presets

        presets = tuple(_PresetChoice(p.id, p.name_zh, p.name_en) for p in list_presets())
    except (ImportError, InputError, OSError):
        presets = ()
    return presets or (_PresetChoice("custom", t("preset_custom", "zh"), t("preset_custom", "en")),)


@st.cache_resource(show_spinner=False)
def _unit_costs() -> dict[str, float]:
    from coverage.standards import load_costs

    return dict(load_costs().unit_cost)


@st.cache_resource(show_spinner=False)
def _basemap_layers() -> dict:
    from coverage.mapping import load_basemap

    return load_basemap()


@st.cache_resource(show_spinner=False, max_entries=8)
def _raster(token: str, gcj: bool, _area: Any) -> Any:
    """Pixel-to-cell lookup of the area's grid, so map overlays redraw fast."""
    from coverage.mapping import grid_raster

    return grid_raster(_area.grid, gcj=gcj)


@st.cache_resource(show_spinner=False, max_entries=64)
def _access(token: str, fkey: tuple, types: tuple[str, ...], mode: str, threshold: float,
            _area: Any, _fac: Any) -> Any:
    """Coverage of the area by a facility layer (results are read-only)."""
    return _access_result(_area, _fac, {"facility_types": types, "mode": mode, "threshold_min": threshold})


def _access_result(area: Any, fac: Any, opts: dict[str, Any]) -> Any:
    """:func:`coverage.workflow.access_analysis` for the page's facility types, mode and threshold."""
    from coverage.workflow import AccessParams, access_analysis

    threshold = float(opts["threshold_min"])
    params = AccessParams(facility_types=tuple(opts["facility_types"]), mode=opts["mode"],
                          threshold_min=threshold, thresholds_min=(threshold,))
    return access_analysis(area, params, facilities=fac)


@st.cache_resource(show_spinner=False, max_entries=64)
def _evaluate(token: str, fkey: tuple, preset: str, _area: Any, _fac: Any) -> Any:
    """Standards evaluation of a facility layer (results are read-only)."""
    from coverage.workflow import evaluate_standards

    return evaluate_standards(_area, preset, facilities=_fac, with_access=True)


@st.cache_resource(show_spinner=False, max_entries=32)
def _xlsx(token: str, fkey: tuple, preset: str, lang: str, pkey: Any, _ev: Any, _sites: Any,
          meta: tuple) -> bytes:
    return logic.shortfall_xlsx_bytes(_ev, lang=lang, proposals=_sites, meta=dict(meta))


@st.cache_resource(show_spinner=False, max_entries=32)
def _csv(token: str, fkey: tuple, preset: str, lang: str, _ev: Any) -> bytes:
    return logic.shortfall_csv_bytes(_ev, lang=lang)


#: Browser payloads of the folium maps, keyed by every input of the map, shared by sessions.
_PAYLOADS = folium_view.PayloadStore(max_entries=24)


def _map_payload(key: tuple, build: Callable[[], Any]) -> folium_view.MapPayload:
    """The browser payload of the folium map for ``key`` (every input of the map), built once."""
    return _PAYLOADS.get(key, build)


def _proposal_key(prop: Any) -> Any:
    if prop is None:
        return None
    sites = prop.sites
    return (repr(prop.params), tuple(sites["site_id"]),
            tuple(np.round(sites["x"].to_numpy(float), 1)), tuple(np.round(sites["y"].to_numpy(float), 1)))


@st.cache_resource(show_spinner=False, max_entries=16)
def _geojson(pkey: Any, _sites: Any) -> bytes:
    return logic.proposals_geojson_bytes(_sites)


@st.cache_resource(show_spinner=False, max_entries=16)
def _gpkg(token: str, fkey: tuple, preset: str, lang: str, pkey: Any, _ev: Any, _sites: Any) -> bytes:
    return logic.proposals_gpkg_bytes(_ev, _sites, lang=lang)


@st.cache_resource(show_spinner=False)
def _siting_cache() -> tuple[OrderedDict, threading.Lock]:
    """Siting proposals shared by sessions, keyed by area, facilities and question."""
    return OrderedDict(), threading.Lock()


def _propose(key: tuple, area: Any, fac: Any, params: Any, progress: Callable[[float, str], None]) -> Any:
    """Siting proposal for ``key``: from the shared cache, else solved with progress reports."""
    from coverage.workflow import propose_sites

    cache, lock = _siting_cache()
    with lock:
        hit = cache.get(key)
    if hit is not None:
        progress(1.0, "done")
        return hit
    proposal = propose_sites(area, params, facilities=fac, progress=progress)
    with lock:
        cache[key] = proposal
        while len(cache) > SITING_CACHE_SIZE:
            cache.popitem(last=False)
    return proposal


# --------------------------------------------------------------------------- messages
def _unit_names(lang: str) -> dict[str, str]:
    """District id -> name in ``lang`` for the session's study area (empty if it cannot load)."""
    try:
        return logic.unit_names(_area_and_token()[0], lang=lang)
    except Exception:  # noqa: BLE001 - names only improve a message
        return {}


def _problem_text(problems: tuple[Problem, ...] | list[Problem], lang: str, *,
                  header: str | None = None) -> str:
    """Markdown of a header and one list item per problem (where, what, fix) in the page's
    language, each shown as written."""
    names = _unit_names(lang)
    return (header or t("data_error", lang)) + "\n\n" + "\n".join(
        f"- {logic.literal(problem_text(p, lang, names=names))}" for p in problems)


def _show_problems(problems: tuple[Problem, ...] | list[Problem], lang: str, *,
                   header: str | None = None) -> None:
    """List problems (file, row, column, fix) as an error box and a table, never a traceback."""
    st.error(_problem_text(problems, lang, header=header))
    if any(p.row is not None or p.column is not None for p in problems):
        st.dataframe(logic.problems_table(problems, lang=lang, names=_unit_names(lang)), hide_index=True,
                     width="stretch")


def _show_input_error(exc: InputError, lang: str) -> None:
    _show_problems(exc.problems, lang)


def _show_unexpected(exc: BaseException, lang: str) -> None:
    st.error(t("unexpected_error", lang))
    with st.expander(t("error_details", lang)):
        st.write(logic.literal(f"{type(exc).__name__}: {exc}"))


def _guard(fn: Callable[[], Any], lang: str) -> Any:
    """Run ``fn``; show input errors as a list and anything else as a short message."""
    try:
        return fn()
    except InputError as exc:
        _show_input_error(exc, lang)
    except InfeasibleError as exc:
        st.error(f"{t('infeasible', lang)}\n\n"
                 f"{logic.literal(error_text(str(exc), lang, names=_unit_names(lang)))}")
    except Exception as exc:  # noqa: BLE001 - the page never shows a traceback
        _show_unexpected(exc, lang)
    return None


def _flash(kind: str, text: str) -> None:
    """Queue a message for the next run (callbacks run before the page is drawn)."""
    st.session_state.setdefault("_flash", []).append((kind, text))


def _later(key: str, value: Any) -> None:
    """Set a widget's value at the start of the next run (before the widget exists)."""
    st.session_state.setdefault("_pending", {})[key] = value


def _apply_later() -> None:
    for key, value in st.session_state.pop("_pending", {}).items():
        st.session_state[_key(key)] = value


def _show_flash() -> None:
    """Show the queued messages; they are dropped by :func:`_flash_shown` once this run has
    completed, so a run cut short by a newer one (e.g. the map reporting its view) shows
    them again instead of losing them."""
    queued = list(st.session_state.get("_flash", []))
    for kind, text in queued:
        getattr(st, kind)(text)
    st.session_state["_flash_n"] = len(queued)


def _flash_shown() -> None:
    ss = st.session_state
    del ss.setdefault("_flash", [])[:ss.pop("_flash_n", 0)]


# --------------------------------------------------------------------------- session state
def _area_and_token() -> tuple[Any, str]:
    """The session's study area (uploaded or embedded) and its cache token."""
    ss = st.session_state
    if ss.get("area_token") and ss.get("area") is not None:
        return ss["area"], ss["area_token"]
    return _study_area(), DEFAULT_TOKEN


def _base_facilities(area: Any) -> Any:
    """The session's facility layer before scenario edits (uploaded or the area's)."""
    fac = st.session_state.get("base_facilities")
    return area.facilities if fac is None else fac


def _scenario(area: Any, lang: str) -> Any:
    """The session's working scenario (created empty on first use)."""
    from coverage.scenario import Scenario

    ss = st.session_state
    if ss.get("scenario") is None:
        ss["scenario"] = Scenario(name=t("untitled_scenario", lang), study_area=area.name,
                                  crs=str(area.crs))
    return ss["scenario"]


def _set_scenario(scenario: Any) -> None:
    st.session_state["scenario"] = scenario


# --------------------------------------------------------------------------- sidebar
def _key(name: str) -> str:
    """Session-state key of widget ``name`` in the page's current language."""
    ss = st.session_state
    return wkey(name, ss.get("lang", LANGS[0]))


def _cb_lang() -> None:
    """Carry the language-dependent widgets' choices over to the new language's widgets.

    Runs before the page is drawn; the previous language's widgets were read
    from the browser with the labels they were drawn with, so their values
    are the canonical ids (type, mode, preset, ...).
    """
    ss = st.session_state
    new, old = ss.get("lang", LANGS[0]), ss.get("_lang_drawn", LANGS[0])
    if new == old:
        return
    for name in LANG_WIDGETS:
        if wkey(name, old) in ss:
            ss[wkey(name, new)] = ss[wkey(name, old)]


def _sidebar() -> dict[str, Any]:
    """Language, analysis settings and layers; returns the chosen options."""
    sb = st.sidebar
    lang = sb.radio("语言 / Language", LANGS, format_func=LANG_NAMES.__getitem__, key="lang",
                    horizontal=True, on_change=_cb_lang)
    st.session_state["_lang_drawn"] = lang
    sb.header(t("settings", lang))
    from coverage.workflow import READING_SPACE_TYPES

    types = sb.multiselect(t("existing_types", lang), FACILITY_TYPES,
                           default=list(READING_SPACE_TYPES), key=wkey("facility_types", lang),
                           format_func=lambda v: facility_type_label(v, lang),
                           help=t("existing_types_help", lang))
    mode = sb.radio(t("mode", lang), MODES, key=wkey("mode", lang), horizontal=True,
                    format_func=lambda v: mode_label(v, lang))
    threshold = sb.select_slider(t("threshold_min", lang), THRESHOLDS_MIN, value=15,
                                 key="threshold_min")
    presets = _presets()
    by_id = {p.id: p for p in presets}
    ids = tuple(by_id)
    preset = sb.selectbox(t("preset", lang), ids, key=wkey("preset", lang),
                          index=ids.index(DEFAULT_PRESET) if DEFAULT_PRESET in ids else 0,
                          format_func=lambda v: by_id[v].name_zh if lang == "zh" else by_id[v].name_en)
    sb.header(t("layers", lang))
    basemap = sb.selectbox(t("basemap", lang), BASEMAPS, key=wkey("basemap", lang),
                           format_func=lambda v: t(f"basemap_{v}", lang))
    tianditu_key = ""
    if basemap == "tianditu":
        tianditu_key = sb.text_input(t("tianditu_key", lang), key="tianditu_key", type="password",
                                     help=t("tianditu_key_help", lang))
    grid_layer = sb.radio(t("grid_layer", lang), GRID_LAYERS, key=wkey("grid_layer", lang),
                          format_func=lambda v: t(f"grid_layer_{v}", lang))
    show_uncovered = sb.checkbox(t("show_uncovered", lang), value=True, key="show_uncovered")
    show_catchments = sb.checkbox(t("show_catchments", lang), value=False, key="show_catchments")
    sb.caption(t("data_source", lang))
    return {"lang": lang, "facility_types": tuple(types), "mode": mode,
            "threshold_min": threshold, "preset": preset, "basemap": basemap,
            "tianditu_key": tianditu_key, "grid_layer": grid_layer,
            "show_uncovered": show_uncovered, "show_catchments": show_catchments}


# --------------------------------------------------------------------------- callbacks
def _cb_add_lonlat(area: Any, base: Any, lang: str) -> None:
    ss = st.session_state
    try:
        ss["scenario"] = logic.add_planned(ss["scenario"], base, area=area, lon=ss["add_lon"],
                                           lat=ss["add_lat"], facility_type=ss[_key("plan_type")], lang=lang)
        _flash("success", t("planned_added", lang).format(id=ss["scenario"].added[-1].facility_id))
    except InputError as exc:
        _flash("error", _problem_text(exc.problems, lang))


def _cb_remove_planned(fid: str) -> None:
    st.session_state["scenario"] = logic.remove_planned(st.session_state["scenario"], fid)


def _cb_clear_planned() -> None:
    st.session_state["scenario"] = st.session_state["scenario"].replace(added=())


def _cb_accept(area: Any, base: Any, lang: str) -> None:
    ss = st.session_state
    prop = ss.get("proposal")
    if prop is None:
        return
    try:
        ss["scenario"] = logic.accept_proposals(ss["scenario"], base, prop.sites, area=area, lang=lang)
        ss["scenario_siting"] = logic.siting_record(prop)
        ss["proposal"] = None
        _flash("success", t("accepted", lang).format(n=len(prop.sites)))
    except InputError as exc:
        _flash("error", _problem_text(exc.problems, lang))


def _cb_load(store_file: str, lang: str, base_ids: set[str], preset_ids: tuple[str, ...]) -> None:
    """Load the picked scenario and restore its parameters (runs before widgets exist)."""
    from coverage.scenario import ScenarioStore

    ss = st.session_state
    pick = ss.get("scn_pick")
    if not pick:
        return
    try:
        sc = ScenarioStore(store_file).load(pick)
    except InputError as exc:
        _flash("error", _problem_text(exc.problems, lang))
        return
    ss["scenario"] = sc
    ss["scn_name"] = sc.name
    ss[_key("remove_ids")] = [r for r in sc.removed if r in base_ids]
    ss["proposal"] = None
    ss["scenario_siting"] = sc.siting
    p = sc.params or {}
    types = [x for x in p.get("facility_types", []) if x in FACILITY_TYPES]
    if types:
        ss[_key("facility_types")] = types
    if p.get("mode") in MODES:
        ss[_key("mode")] = p["mode"]
    if p.get("threshold_min") in THRESHOLDS_MIN:
        ss["threshold_min"] = p["threshold_min"]
    if p.get("preset") in preset_ids:
        ss[_key("preset")] = p["preset"]
    _flash("success", t("scenario_loaded", lang).format(name=logic.literal(sc.name)))


def _cb_new_scenario(area: Any, lang: str) -> None:
    """Start an empty working scenario."""
    from coverage.scenario import Scenario

    ss = st.session_state
    ss["scenario"] = Scenario(name=t("untitled_scenario", lang), study_area=area.name, crs=str(area.crs))
    _later("remove_ids", [])
    _later("scn_name", "")
    ss["proposal"] = None
    ss["scenario_siting"] = None


# --------------------------------------------------------------------------- sections
def _table(frame: pd.DataFrame, *, key: str | None = None, grouped: tuple[str, ...] = ()) -> None:
    """A table without its index; whole numbers (and the ``grouped`` columns) grouped by thousands."""
    config = {c: st.column_config.NumberColumn(format="localized") for c in frame.columns
              if c in grouped or pd.api.types.is_integer_dtype(frame[c])}
    st.dataframe(frame, hide_index=True, width="stretch", column_config=config, key=key)


def _metrics(access: Any, n_counted: int, lang: str) -> None:
    cols = st.columns(4)
    cols[0].metric(t("m_covered", lang), f"{access.covered_pop:,.0f}")
    cols[1].metric(t("m_total", lang), f"{access.total_pop:,.0f}")
    cols[2].metric(t("m_share", lang), f"{access.covered_share:.1%}")
    cols[3].metric(t("n_facilities", lang), f"{n_counted:,}")


def _districts_tab(area: Any, access: Any, evaluation: Any, lang: str) -> None:
    st.subheader(t("district_table", lang))
    table = logic.district_table(area, access, evaluation, lang=lang)
    _table(table.reset_index(drop=True), key="district_df")
    st.caption(t("district_table_help", lang))
    st.dataframe(logic.rule_legend(evaluation, lang=lang), hide_index=True, width="stretch")
    with st.expander(t("shortfall_rows", lang)):
        _table(logic.shortfall_rows(evaluation, lang=lang, names=_unit_names(lang)))


def _edit_tab(area: Any, base: Any, scenario: Any, lang: str) -> None:
    """Planned facilities by coordinates (map clicks are handled in :func:`_map`), closures, list."""
    st.subheader(t("edit_scenario", lang))
    c1, c2 = st.columns(2)
    c1.selectbox(t("plan_type", lang), FACILITY_TYPES, key=wkey("plan_type", lang),
                 index=FACILITY_TYPES.index("city_reading_room"),
                 format_func=lambda v: facility_type_label(v, lang))
    c2.checkbox(t("click_adds", lang), value=True, key="click_adds")
    x0, y0, x1, y1 = area.bounds_lonlat
    c1, c2, c3 = st.columns([2, 2, 1])
    c1.number_input(t("lon", lang), min_value=-180.0, max_value=180.0, value=round((x0 + x1) / 2, 5),
                    step=0.001, format="%.5f", key="add_lon")
    c2.number_input(t("lat", lang), min_value=-90.0, max_value=90.0, value=round((y0 + y1) / 2, 5),
                    step=0.001, format="%.5f", key="add_lat")
    c3.button(t("add_btn", lang), key="add_btn", on_click=_cb_add_lonlat, args=(area, base, lang))

    ids = list(base["facility_id"].astype(str))
    names = logic.facility_names(base, lang=lang)
    # Non-public facilities (university libraries) are labelled as such, as on the map.
    public = public_mask(base)
    types = {i: (tp if pub else f"nonpublic:{tp}")
             for i, tp, pub in zip(ids, base["type"].astype(str), public)}
    st.multiselect(t("remove_existing", lang), ids, key=wkey("remove_ids", lang),
                   format_func=lambda i: f"{names.get(i, i)} · {facility_type_label(types.get(i, ''), lang)}")

    st.markdown(f"**{t('planned_list', lang)}** ({len(scenario.added)})")
    if scenario.added:
        st.dataframe(logic.planned_table(scenario, lang=lang), width="stretch")
        cols = st.columns(min(len(scenario.added), 6) or 1)
        for i, a in enumerate(scenario.added):
            cols[i % len(cols)].button(f"✕ {logic.literal(a.facility_id)}", key=f"del_{a.facility_id}",
                                       on_click=_cb_remove_planned, args=(a.facility_id,),
                                       help=t("remove_planned", lang))
        st.button(t("clear_planned", lang), key="clear_planned", on_click=_cb_clear_planned)
    else:
        st.caption(t("no_planned", lang))


def _siting_params(opts: dict[str, Any], lang: str) -> Any:
    """Siting widgets; returns the :class:`~coverage.workflow.SitingParams` they describe."""
    from coverage.workflow import SitingParams

    presets = _presets()
    c1, c2, c3 = st.columns(3)
    model = c1.selectbox(t("sit_model", lang), SITING_MODELS, key=wkey("sit_model", lang),
                         format_func=lambda v: t(f"model_{v}", lang))
    ftype = c2.selectbox(t("sit_type", lang), FACILITY_TYPES, key=wkey("sit_type", lang),
                         index=FACILITY_TYPES.index("city_reading_room"),
                         format_func=lambda v: facility_type_label(v, lang))
    cand = c3.selectbox(t("sit_cand", lang), CANDIDATE_KINDS, key=wkey("sit_cand", lang),
                        format_func=lambda v: t(f"cand_{v}", lang))
    c1, c2, c3 = st.columns(3)
    limit = c1.radio(t("sit_limit", lang), ("p", "budget"), key=wkey("sit_limit", lang), horizontal=True,
                     format_func=lambda v: t(f"limit_{v}", lang), disabled=model == "lscp")
    p = c2.number_input(t("sit_p", lang), min_value=1, max_value=100, value=5, step=1, key="sit_p",
                        disabled=model == "lscp" or (model == "mclp" and limit == "budget"))
    budget_wan = c3.number_input(t("sit_budget", lang), min_value=1.0, value=750.0, step=50.0,
                                 key="sit_budget", disabled=not (model == "mclp" and limit == "budget"))
    c1, c2 = st.columns(2)
    keep = c1.checkbox(t("sit_keep", lang), value=True, key="sit_keep")
    quota_ids = ("none",) + tuple(p_.id for p_ in presets if p_.id != "all")
    names = {p_.id: (p_.name_zh if lang == "zh" else p_.name_en) for p_ in presets}
    quota = c2.selectbox(t("sit_quota", lang), quota_ids, key=wkey("sit_quota", lang),
                         format_func=lambda v: t("none", lang) if v == "none" else names.get(v, v))
    use_budget = model == "mclp" and limit == "budget"
    p_val = None if model == "lscp" or use_budget else int(p)
    curve_k = int(p) if model == "mclp" and not use_budget else None
    return SitingParams(
        model=model, facility_type=ftype, p=p_val, budget=float(budget_wan) * 1e4 if use_budget else None,
        mode=opts["mode"], threshold_min=float(opts["threshold_min"]), keep_existing=bool(keep),
        existing_types=opts["facility_types"] or ("library",), candidates=cand,
        quota_preset=None if quota == "none" else quota, curve_k=curve_k)


def _siting_tab(area: Any, token: str, fac: Any, fkey: tuple, base: Any, opts: dict[str, Any],
                lang: str) -> None:
    """Run the siting model with visible progress and show the proposal."""
    st.subheader(t("siting", lang))
    params = _guard(lambda: _siting_params(opts, lang), lang)
    if params is None:
        return
    if st.button(t("sit_run", lang), key="sit_run", type="primary"):
        key = (token, fkey, repr(params))
        with st.status(t("sit_running", lang), expanded=True) as status:
            bar = st.progress(0.0, text=t("step_graph", lang))

            def progress(frac: float, msg: str) -> None:
                label = t(f"step_{msg}", lang) if f"step_{msg}" in _STEP_KEYS else msg
                bar.progress(min(max(float(frac), 0.0), 1.0), text=label)

            proposal = _guard(lambda: _propose(key, area, fac, params, progress), lang)
            # A failed run clears the previous proposal: its sites answered another question.
            st.session_state["proposal"] = proposal
            if proposal is not None:
                status.update(label=t("sit_done", lang), state="complete", expanded=False)
            else:
                status.update(label=t("sit_failed", lang), state="error", expanded=True)
    proposal = st.session_state.get("proposal")
    if proposal is None:
        st.caption(t("sit_hint", lang))
        return
    _show_proposal(proposal, area, base, lang)


_STEP_KEYS = {f"step_{k}" for k in ("graph", "candidates", "reach", "solve", "curve", "sites", "done")}


def _show_proposal(proposal: Any, area: Any, base: Any, lang: str) -> None:
    """Proposal metrics, site table, coverage curve and the accept button."""
    sites = proposal.sites
    res = proposal.result
    c = st.columns(4)
    c[0].metric(t("n_sites", lang), f"{len(sites):,}")
    c[1].metric(t("covered_before", lang), f"{proposal.base_covered_pop:,.0f}")
    after = proposal.covered_pop if proposal.params.model != "p_median" else float("nan")
    c[2].metric(t("covered_after", lang), "–" if after != after else f"{after:,.0f}")
    cost = float(sites["unit_cost"].sum()) if "unit_cost" in sites.columns else 0.0
    c[3].metric(t("cost_wan", lang), f"{cost / 1e4:,.0f}")
    pp = proposal.params
    st.caption(t("proposal_for", lang).format(model=t(f"model_{pp.model}", lang), mode=mode_label(pp.mode, lang),
                                              threshold=f"{pp.threshold_min:g}"))
    st.caption(logic.solver_status(res, lang=lang))
    _table(logic.sites_table(sites, lang=lang, names=_unit_names(lang)), key="sites_df")
    if proposal.curve is not None and len(proposal.curve):
        curve = proposal.curve
        chart = pd.DataFrame({"p": curve["p"].astype(int).to_numpy(),
                              "share": (curve["covered_share"].to_numpy(float) * 100).round(2)})
        st.markdown(f"**{t('curve_title', lang)}**")
        st.line_chart(chart, x="p", y="share", x_label=t("curve_p", lang), y_label=t("curve_share", lang))
    st.button(t("accept_btn", lang), key="accept_btn", on_click=_cb_accept, args=(area, base, lang))


def _compare_tab(area: Any, token: str, base: Any, scenario: Any, opts: dict[str, Any],
                 store_file: str | None, lang: str) -> None:
    """Two scenarios side by side (current state, working scenario, saved ones) and their difference."""
    from coverage.scenario import Scenario, ScenarioStore

    st.subheader(t("compare", lang))
    choices: dict[str, Any] = {
        "__base__": Scenario(name=t("current_state", lang), study_area=area.name, crs=str(area.crs)),
        "__work__": scenario,
    }
    labels = {"__base__": t("current_state", lang),
              "__work__": f"{t('working_scenario', lang)}: {logic.scenario_label(scenario, lang)}"}
    if store_file and Path(store_file).exists():
        try:
            store = ScenarioStore(store_file)
            for _, row in store.list().iterrows():
                labels[f"id:{row['id']}"] = f"{t('saved', lang)}: {row['name']}"
                choices[f"id:{row['id']}"] = row["id"]
        except InputError as exc:
            _show_input_error(exc, lang)
            store = None
    keys = list(labels)
    c1, c2 = st.columns(2)
    a_key = c1.selectbox("A", keys, index=0, key=wkey("cmp_a", lang), format_func=labels.__getitem__)
    b_key = c2.selectbox("B", keys, index=1, key=wkey("cmp_b", lang), format_func=labels.__getitem__)
    show_maps = st.checkbox(t("cmp_maps", lang), value=False, key="cmp_maps")
    figs = []
    for side, key, col in (("a", a_key, c1), ("b", b_key, c2)):
        sc = choices[key]
        if isinstance(sc, str):
            sc = ScenarioStore(store_file).load(sc)
        out = _guard(lambda sc=sc: _figures(labels[key], area, token, base, sc, opts, lang), lang)
        fig = None if out is None else out[0]
        figs.append(fig)
        if fig is None:
            continue
        if show_maps:
            with col:
                _guard(lambda out=out, side=side: _scenario_map(area, token, out[1], out[2], opts, lang, side),
                       lang)
        with col:
            m = st.columns(2)
            m[0].metric(t("m_share", lang), f"{fig.coverage_share:.1%}")
            m[1].metric(t("m_covered", lang), f"{fig.covered_pop:,.0f}")
            m = st.columns(2)
            m[0].metric(t("n_planned", lang), f"{fig.n_added}")
            m[1].metric(t("cost_wan", lang), f"{fig.cost_yuan / 1e4:,.0f}")
    if all(f is not None for f in figs):
        st.markdown(f"**{t('gains_title', lang)}**")
        _table(logic.district_gains(area, figs[0], figs[1], lang=lang).reset_index(drop=True), key="gains_df")
        st.markdown(f"**{t('difference', lang)}** (B − A)")
        _table(logic.compare_table(figs[0], figs[1], lang=lang), key="compare_df", grouped=("A", "B", "B − A"))


def _figures(name: str, area: Any, token: str, base: Any, sc: Any, opts: dict[str, Any], lang: str) -> Any:
    """Figures, facility layer and access result of a compared scenario (cached per question)."""
    key = (name, token, logic.facilities_key(base), repr(sc.added), tuple(sc.removed), opts["facility_types"],
           opts["mode"], opts["threshold_min"], opts["preset"], lang)
    return _figures_cached(key, lambda: _compute_figures(name, area, token, base, sc, opts, lang))


@st.cache_resource(show_spinner=False, max_entries=16)
def _figures_cached(key: tuple, _compute: Callable[[], Any]) -> Any:
    return _compute()


def _compute_figures(name: str, area: Any, token: str, base: Any, sc: Any, opts: dict[str, Any],
                     lang: str) -> Any:
    fac = logic.scenario_facilities(base, sc)
    fkey = logic.facilities_key(fac)
    access = _access(token, fkey, opts["facility_types"], opts["mode"], float(opts["threshold_min"]), area, fac)
    ev = _evaluate(token, fkey, opts["preset"], area, fac)
    return logic.scenario_figures(name, area, sc, access, ev, _unit_costs(), lang=lang), fac, access


def _scenario_map(area: Any, token: str, fac: Any, access: Any, opts: dict[str, Any], lang: str,
                  side: str) -> None:
    """A small map of one compared scenario: its facilities and the residents it leaves uncovered."""
    key = ("compare", token, logic.facilities_key(fac), opts["facility_types"], opts["mode"],
           opts["threshold_min"], lang)
    payload = _map_payload(key, lambda: build_map(
        boundaries=area.boundaries, facilities=fac,
        uncovered=access.uncovered if len(access.uncovered) else None, raster=_raster(token, False, area),
        basemap_layers=_basemap_layers() if token == DEFAULT_TOKEN else {}, lang=lang))
    center, zoom = st.session_state.get("map_view", (None, None))
    folium_view.show(payload, key=f"cmp_map_{side}", height=COMPARE_MAP_HEIGHT, returned_objects=(),
                     center=center, zoom=zoom)


def _store_tab(area: Any, base: Any, scenario: Any, access: Any, evaluation: Any, opts: dict[str, Any],
               lang: str) -> str | None:
    """Save, save as, list, load and delete scenarios; returns the store file or None."""
    from coverage.scenario import ScenarioConflictError, ScenarioStore

    st.subheader(t("scenarios", lang))
    try:
        path = logic.store_path()
        # The file is created by the first save, not by opening the page.
        store = ScenarioStore(path, crs=str(area.crs)) if path.exists() else None
    except InputError as exc:
        _show_input_error(exc, lang)
        return None
    except OSError as exc:
        _show_unexpected(exc, lang)
        return None
    st.caption(f"{t('store_file', lang)}: `{path}`")
    shown = logic.scenario_label(scenario, lang)
    st.markdown(f"{t('working_scenario', lang)}: **{logic.literal(shown)}** "
                f"({t('revision', lang)} {scenario.revision})")
    st.text_input(t("scn_name", lang), key="scn_name", placeholder=shown)
    c1, c2, c3 = st.columns(3)
    save = c1.button(t("scn_save", lang), key="scn_save", type="primary")
    save_as = c2.button(t("scn_save_as", lang), key="scn_save_as")
    c3.button(t("scn_new", lang), key="scn_new", on_click=_cb_new_scenario, args=(area, lang))
    if save or save_as:
        name = (st.session_state.get("scn_name") or "").strip() or shown
        params = {"facility_types": list(opts["facility_types"]), "mode": opts["mode"],
                  "threshold_min": opts["threshold_min"], "preset": opts["preset"]}
        prop = st.session_state.get("proposal")
        siting = logic.siting_record(prop) if prop is not None else st.session_state.get("scenario_siting")
        sc = scenario.replace(params=params, results=logic.scenario_results(access, evaluation),
                              siting=siting, study_area=area.name)
        if save_as or (sc.revision > 0 and name != sc.name):
            sc = sc.as_copy(name)
        else:
            sc = sc.replace(name=name)
        try:
            store = store or ScenarioStore(path, crs=str(area.crs))
            saved = store.save(sc)
            _set_scenario(saved)
            st.success(t("scenario_saved", lang).format(name=logic.literal(saved.name), rev=saved.revision))
        except ScenarioConflictError:
            st.error(t("scenario_conflict", lang).format(name=logic.literal(sc.name)))
        except InputError as exc:
            _show_input_error(exc, lang)
    listing = store.list() if store is not None else pd.DataFrame()
    if len(listing):
        show = listing[["name", "author", "n_added", "n_removed", "n_sites", "coverage_share",
                        "revision", "updated_at"]].copy()
        show["coverage_share"] = (show["coverage_share"] * 100).round(1)
        show.columns = [t(f"lst_{c}", lang) for c in show.columns]
        st.dataframe(show, hide_index=True, width="stretch", key="store_df")
        names = list(listing["name"])
        c1, c2, c3 = st.columns([3, 1, 1])
        c1.selectbox(t("scn_pick", lang), names, key="scn_pick")
        base_ids = set(base["facility_id"].astype(str))
        c2.button(t("scn_load", lang), key="scn_load", on_click=_cb_load,
                  args=(str(path), lang, base_ids, tuple(p.id for p in _presets())))
        if c3.button(t("scn_delete", lang), key="scn_delete"):
            pick = st.session_state.get("scn_pick")
            try:
                stored = store.load(pick)
                store.delete(stored.id)
                if stored.id == scenario.id:
                    _set_scenario(scenario.replace(revision=0))
                st.success(t("scenario_deleted", lang).format(name=logic.literal(pick)))
                st.rerun()
            except InputError as exc:
                _show_input_error(exc, lang)
    else:
        st.caption(t("no_saved", lang))
    return str(path)


def _downloads_tab(token: str, fkey: tuple, evaluation: Any, opts: dict[str, Any], area: Any,
                   lang: str) -> None:
    """Shortfall list (XLSX/CSV, with proposals if any) and proposals (GeoJSON/GeoPackage)."""
    st.subheader(t("downloads", lang))
    prop = st.session_state.get("proposal")
    sites = prop.sites if prop is not None else None
    pkey = _proposal_key(prop)
    meta = tuple(logic.export_meta(area, st.session_state.get("scenario"), opts).items())
    xlsx = _guard(lambda: _xlsx(token, fkey, opts["preset"], lang, pkey, evaluation, sites, meta), lang)
    csv = _guard(lambda: _csv(token, fkey, opts["preset"], lang, evaluation), lang)
    c1, c2 = st.columns(2)
    if xlsx is not None:
        c1.download_button(t("dl_xlsx", lang), xlsx, file_name=f"shortfall_{opts['preset']}.xlsx",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           key="dl_xlsx", on_click="ignore")
    if csv is not None:
        c2.download_button(t("dl_csv", lang), csv, file_name=f"shortfall_{opts['preset']}.csv",
                           mime="text/csv", key="dl_csv", on_click="ignore")
    if sites is None:
        st.caption(t("dl_no_proposals", lang))
        return
    geojson = _guard(lambda: _geojson(pkey, sites), lang)
    gpkg = _guard(lambda: _gpkg(token, fkey, opts["preset"], lang, pkey, evaluation, sites), lang)
    c1, c2 = st.columns(2)
    if geojson is not None:
        c1.download_button(t("dl_geojson", lang), geojson, file_name="proposals.geojson",
                           mime="application/geo+json", key="dl_geojson", on_click="ignore")
    if gpkg is not None:
        c2.download_button(t("dl_gpkg", lang), gpkg, file_name="proposals.gpkg",
                           mime="application/geopackage+sqlite3", key="dl_gpkg", on_click="ignore")


@st.cache_resource(show_spinner=False)
def _template(kind: str, lang: str = "zh") -> bytes:
    """Bytes of an upload template (facilities ``csv``/``xlsx``, ``boundaries``, ``population``)."""
    if kind == "boundaries":
        return logic.boundaries_template()
    if kind == "population":
        return logic.population_template()
    return logic.facility_template(kind, lang=lang)


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
        h.update(b"\0")
    return h.hexdigest()[:16]


def _upload_tab(area: Any, lang: str) -> None:
    """Own facilities (replace the layer) or a new study area from uploaded files."""
    ss = st.session_state
    st.subheader(t("upload", lang))
    st.markdown(f"**{t('up_fac', lang)}**")
    c1, c2 = st.columns([3, 2])
    up = c1.file_uploader(t("up_fac_file", lang), type=["csv", "xlsx"], key="up_fac")
    coord = c2.radio(t("up_coord", lang), COORD_SYSTEMS, key=wkey("up_coord", lang),
                     format_func=lambda v: t(f"coord_{v}", lang))
    c2.caption(t("up_template", lang))
    for kind, mime in (("csv", "text/csv"),
                       ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")):
        c2.download_button(t(f"template_{kind}", lang), _template(kind, lang),
                           file_name=f"{t('template_file', lang)}.{kind}", mime=mime,
                           key=f"template_{kind}", on_click="ignore")
    if up is not None:
        data = up.getvalue()
        sig = (up.name, _digest(data), coord, ss.get("area_token") or DEFAULT_TOKEN)
        if ss.get("up_fac_sig") != sig:
            ss["up_fac_sig"] = sig
            try:
                fac = logic.load_facilities_upload(up.name, data, area=area, coord_system=coord)
            except InputError as exc:
                ss["up_fac_problems"] = exc.problems
            except Exception as exc:  # noqa: BLE001
                ss["up_fac_problems"] = (logic.unexpected_problem(exc, lang=lang, file=up.name),)
            else:
                ss["up_fac_problems"] = ()
                ss["base_facilities"] = fac
                _later("remove_ids", [])
                sc = ss.get("scenario")
                if sc is not None:
                    ss["scenario"] = sc.replace(removed=())
                _flash("success", t("up_fac_done", lang).format(n=len(fac), name=logic.literal(up.name)))
                for note in fac.attrs.get("note_problems", []):
                    _flash("warning", logic.literal(problem_text(note, lang, names=_unit_names(lang))))
                st.rerun()
    if ss.get("up_fac_problems"):
        _show_problems(ss["up_fac_problems"], lang, header=t("up_fac_failed", lang))
    if ss.get("base_facilities") is not None:
        st.caption(t("up_fac_active", lang).format(n=len(ss["base_facilities"])))
        if st.button(t("up_fac_reset", lang), key="up_fac_reset"):
            ss["base_facilities"] = None  # the same file is not read again until it changes
            _later("remove_ids", [])
            st.rerun()

    st.markdown(f"**{t('up_area', lang)}**")
    c1, c2, c3 = st.columns(3)
    bnd = c1.file_uploader(t("up_bnd", lang), type=["geojson", "json", "gpkg"], key="up_bnd")
    pop = c2.file_uploader(t("up_pop", lang), type=["tif", "tiff"], key="up_pop")
    net = c3.file_uploader(t("up_net", lang), type=["osm", "pbf", "graphml"], key="up_net")
    c1.download_button(t("template_bnd", lang), _template("boundaries"), key="template_bnd",
                       file_name=f"{t('template_bnd_file', lang)}.geojson", mime="application/geo+json",
                       on_click="ignore")
    c2.download_button(t("template_pop", lang), _template("population"), key="template_pop",
                       file_name=f"{t('template_pop_file', lang)}.tif", mime="image/tiff", on_click="ignore")
    if st.button(t("up_area_btn", lang), key="up_area_btn"):
        files = {k: (f.name, f.getvalue()) for k, f in (("boundaries", bnd), ("population", pop),
                                                         ("network", net)) if f is not None}
        token = "upload:" + _digest(*(n.encode() + d for n, d in files.values()))
        try:
            new_area = logic.load_area_upload(files, name=t("uploaded_area", "en"))
        except InputError as exc:
            ss["up_area_problems"] = exc.problems
        except Exception as exc:  # noqa: BLE001
            ss["up_area_problems"] = (logic.unexpected_problem(exc, lang=lang),)
        else:
            ss["up_area_problems"] = ()
            ss["area"], ss["area_token"] = new_area, token
            _cb_new_scenario(new_area, lang)
            ss["base_facilities"] = None
            _flash("success", t("up_area_done", lang).format(n=len(new_area.boundaries)))
            st.rerun()
    if ss.get("up_area_problems"):
        _show_problems(ss["up_area_problems"], lang, header=t("up_area_failed", lang))
    if ss.get("area_token"):
        if st.button(t("up_area_reset", lang), key="up_area_reset"):
            ss["area"], ss["area_token"] = None, None
            ss["base_facilities"] = None
            _cb_new_scenario(_study_area(), lang)
            st.rerun()


def _map_job(area: Any, token: str, fac: Any, fkey: tuple, evaluation: Any, opts: dict[str, Any],
             lang: str, basemap: str, grid_layer: str, chosen: str, prop: Any, fixed: dict[str, Any], *,
             access: Any = None, boundaries: tuple[Any, Any] | None = None, catchments: Any = None
             ) -> tuple[tuple, Callable[[], Any]]:
    """Key (every input of the map) and builder of the planning map; no widget is drawn.

    Without ``access`` the builder computes the coverage for ``opts`` itself,
    so it can run on a background thread.
    """
    # The same inputs give the same map object: its HTML (element ids included) stays
    # identical, so an unrelated rerun neither rebuilds nor redraws the map.
    key = (token, fkey, opts["facility_types"], opts["mode"], opts["threshold_min"],
           opts["preset"], lang, basemap, opts["tianditu_key"], grid_layer, opts["show_uncovered"],
           opts.get("show_catchments", False), chosen, _proposal_key(prop))

    def build() -> Any:
        from coverage.workflow import catchment_areas

        acc = access if access is not None else _access_result(area, fac, opts)
        bnd, labels = boundaries or logic.map_boundaries(area, acc, evaluation, lang=lang)
        grid, kw = None, {}
        if grid_layer == "pop":
            grid = area.grid
        elif grid_layer == "time":
            minutes = acc.times["time_s"].astype(float) / 60.0
            grid = area.grid[[area.grid.geometry.name]].assign(time_min=minutes.clip(upper=60.0))
            kw = {"grid_column": "time_min", "grid_label": t("time_min_label", lang), "grid_cmap": "RdYlGn_r",
                  "grid_vmin": 0.0, "grid_vmax": float(max(2 * opts["threshold_min"], 10))}
        proposals = None
        if prop is not None and len(prop.sites):
            proposals = prop.sites.assign(name=prop.sites["site_id"])
        return build_map(
            boundaries=bnd, facilities=fac, grid=grid, **kw,
            uncovered=acc.uncovered if opts["show_uncovered"] and len(acc.uncovered) else None,
            proposals=proposals,
            catchments=None if catchments is None else catchment_areas(area, acc, catchments),
            choropleth_column=None if chosen == "none" else chosen, choropleth_cmap="Blues",
            district_fields=labels, basemap=basemap, tianditu_key=opts["tianditu_key"] or None,
            lang=lang, **fixed)

    return key, build


def _map(area: Any, token: str, fac: Any, access: Any, evaluation: Any, base: Any,
         opts: dict[str, Any], lang: str) -> None:
    """The map with every layer; a click adds a planned facility when enabled."""
    basemap = opts["basemap"]
    if basemap == "tianditu" and not opts["tianditu_key"]:
        st.info(t("need_tianditu_key", lang))
        basemap = "offline"
    elif basemap != "offline":
        st.caption(t("online_basemap_note", lang))
    bnd, labels = logic.map_boundaries(area, access, evaluation, lang=lang)
    choices = ["none", "uncovered_share"] + [c for c in labels if c.startswith("deficit__")]
    # Off at first: population, uncovered cells and a district fill together are hard to read.
    chosen = st.selectbox(t("choropleth", lang), choices, index=0, key=wkey("choropleth", lang),
                          format_func=lambda c: t("none", lang) if c == "none" else labels[c])
    gl = opts["grid_layer"]
    if chosen != "none" and gl != "none":
        # A district fill over the grid colours mixes into unreadable hues: one at a time.
        st.caption(t("grid_hidden_for_fill", lang))
        gl = "none"
    prop = st.session_state.get("proposal")
    gcj = basemap == "amap"
    fixed = {"raster": _raster(token, gcj, area),
             "basemap_layers": (_basemap_layers() if token == DEFAULT_TOKEN else {})
             if basemap == "offline" else None}
    catch = None
    if opts.get("show_catchments") and len(access.facilities):
        catch = report_view.catchments(area, fac, opts)
    fkey = logic.facilities_key(fac)
    key, build = _map_job(area, token, fac, fkey, evaluation, opts, lang, basemap, gl, chosen, prop, fixed,
                          access=access, boundaries=(bnd, labels), catchments=catch)
    payload = _map_payload(key, build)
    if catch is None:
        # While the planner looks at this map, the same map by the other travel modes is built.
        _PAYLOADS.prebuild([_map_job(area, token, fac, fkey, evaluation, {**opts, "mode": m}, lang, basemap,
                                     gl, chosen, prop, fixed) for m in MODES if m != opts["mode"]])
    st.caption(t("map_hint", lang))
    # A new component key whenever the map changes: returning to an earlier map under
    # its old key would leave the component blank.
    ss = st.session_state
    # The last view the current map reported (also when it arrives with a parameter change).
    view = logic.map_view(ss.get(f"map_{ss.get('map_n', 0)}"), initial=ss.get("map_initial"))
    if view is not None:
        ss["map_view"] = view
    if ss.get("map_key") != key:
        ss["map_key"] = key
        ss["map_n"] = ss.get("map_n", 0) + 1
    # The view the planner left the map at is kept across reruns and new maps.
    center, zoom = ss.get("map_view", (None, None))
    ss["map_initial"] = (payload.center, payload.zoom) if center is not None else None
    state = folium_view.show(payload, key=f"map_{ss['map_n']}", height=MAP_HEIGHT,
                             returned_objects=("last_clicked", "zoom", "center"), center=center, zoom=zoom)
    view = logic.map_view(state, initial=ss["map_initial"])
    if view is not None:
        ss["map_view"] = view
    clicked = (state or {}).get("last_clicked")
    if clicked:
        point = (round(float(clicked["lat"]), 7), round(float(clicked["lng"]), 7))
        st.session_state["clicked"] = point
        if st.session_state.get("click_done") != point:
            st.session_state["click_done"] = point
            if st.session_state.get("click_adds", True):
                try:
                    ss["scenario"] = logic.add_planned(
                        ss["scenario"], base, area=area, lon=point[1], lat=point[0],
                        facility_type=ss.get(_key("plan_type"), "city_reading_room"), lang=lang)
                    _flash("success", t("planned_added", lang).format(id=ss["scenario"].added[-1].facility_id))
                except InputError as exc:
                    _flash("error", _problem_text(exc.problems, lang))
                st.rerun()
    if "clicked" in st.session_state:
        lat, lon = st.session_state["clicked"]
        st.write(f"{t('last_click', lang)}: {lat:.5f}, {lon:.5f}")


# --------------------------------------------------------------------------- page
def main() -> None:
    """Draw the planning page (the body of ``app.py``)."""
    st.set_page_config(page_title="公共文化设施覆盖规划 / Culture coverage planner",
                       layout="wide")
    _apply_later()
    opts = _sidebar()
    lang = opts["lang"]
    new_area_panel(lang)
    st.title(t("app_title", lang))
    st.caption(t("app_caption", lang))

    try:
        area, token = _area_and_token()
    except InputError as exc:
        _show_input_error(exc, lang)
        return
    except Exception as exc:  # noqa: BLE001 - the page never shows a traceback
        _show_unexpected(exc, lang)
        return

    if not opts["facility_types"]:
        st.warning(t("pick_types", lang))
        return
    base = _base_facilities(area)
    scenario = _scenario(area, lang)
    valid = set(base["facility_id"].astype(str))
    removed = tuple(r for r in st.session_state.get(_key("remove_ids"), []) if r in valid)
    if removed != scenario.removed:
        scenario = scenario.replace(removed=removed)
        _set_scenario(scenario)

    def analyse() -> tuple[Any, tuple, Any, Any]:
        fac = logic.scenario_facilities(base, scenario)
        fkey = logic.facilities_key(fac)
        access = _access(token, fkey, opts["facility_types"], opts["mode"],
                         float(opts["threshold_min"]), area, fac)
        ev = _evaluate(token, fkey, opts["preset"], area, fac)
        return fac, fkey, access, ev

    out = _guard(analyse, lang)
    if out is None:
        # Broken or incomplete data: the planner can still replace it or go back.
        with st.expander(t("upload", lang), expanded=True):
            _guard(lambda: _upload_tab(area, lang), lang)
        return
    fac, fkey, access, evaluation = out
    # Fixed slots keep the tabs at the same place in the page, so the open tab stays open.
    with st.container():
        _show_flash()
    from coverage.workflow import select_facilities

    _metrics(access, len(select_facilities(fac, opts["facility_types"])), lang)
    map_slot = st.container()

    tabs = st.tabs([t(k, lang) for k in ("tab_districts", "tab_edit", "tab_siting", "tab_compare",
                                         "tab_store", "tab_download", "tab_upload")], key=f"tabs_{lang}")
    with tabs[0]:
        _guard(lambda: _districts_tab(area, access, evaluation, lang), lang)
        _guard(lambda: report_view.catchments_section(area, fac, opts, lang), lang)
    with tabs[1]:
        _guard(lambda: _edit_tab(area, base, scenario, lang), lang)
    with tabs[2]:
        _guard(lambda: _siting_tab(area, token, fac, fkey, base, opts, lang), lang)
    with tabs[4]:
        store_file = _guard(lambda: _store_tab(area, base, st.session_state["scenario"], access,
                                               evaluation, opts, lang), lang)
    with tabs[3]:
        _guard(lambda: _compare_tab(area, token, base, st.session_state["scenario"], opts,
                                    store_file, lang), lang)
    with tabs[5]:
        _guard(lambda: _downloads_tab(token, fkey, evaluation, opts, area, lang), lang)
        _guard(lambda: report_view.report_section(area, fac, access, evaluation, opts,
                                                  st.session_state["scenario"], lang), lang)
    with tabs[6]:
        _guard(lambda: _upload_tab(area, lang), lang)
    with map_slot:
        _guard(lambda: _map(area, token, fac, access, evaluation, base, opts, lang), lang)
    _flash_shown()
