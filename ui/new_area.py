"""The page's "新建研究区 / New study area" panel.

Pick province → city → county from the boundary index, give the path of a
local OSM file (province extracts are hundreds of MB, so the file is read
from disk, not uploaded through the browser), build with a progress bar
(:func:`coverage.area_build.build_area`), and open the new area in the
session; or open an area built before from its ``area.yaml``. The panel only
sets session state; the page draws the area.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from coverage.errors import InputError, Problem
from coverage.i18n import message_text, problem_text, t
from ui.logic import literal, unexpected_problem, wkey

__all__ = ["new_area_panel", "default_area_dir", "open_area"]

WHOLE_CITY = "*"


def default_area_dir(adcode: str, environ: dict | None = None) -> Path:
    """Where a new area goes unless the planner says otherwise: ``~/.cultcov/areas/<adcode>``.

    ``CULTCOV_AREAS_DIR`` names another parent folder.
    """
    env = os.environ if environ is None else environ
    parent = Path(env.get("CULTCOV_AREAS_DIR") or Path.home() / ".cultcov" / "areas")
    return parent / str(adcode)


@st.cache_data(show_spinner=False)
def _regions(level: str, parent: str | None) -> list[tuple[str, str]]:
    from coverage.admin_regions import list_regions

    return [(r.adcode, r.name) for r in list_regions(level, parent)]


def open_area(config: str | Path) -> None:
    """Load a built ``area.yaml`` and make it the session's study area (fresh scenario)."""
    from coverage.study_area import load_study_area

    config = Path(config)
    area = load_study_area(config)
    ss = st.session_state
    ss["area"] = area
    ss["area_token"] = f"built:{config.resolve()}:{config.stat().st_mtime_ns}"
    ss["base_facilities"] = None
    ss["scenario"] = None
    ss["proposal"] = None
    ss["scenario_siting"] = None
    ss.setdefault("_pending", {})["remove_ids"] = []


def new_area_panel(lang: str) -> None:
    """Draw the panel in the sidebar."""
    ss = st.session_state
    with st.sidebar.expander(t("na_title", lang), expanded=bool(ss.get("na_open"))):
        existing = st.text_input(t("na_open_path", lang), key="na_open_path", placeholder="ziyang/area.yaml")
        if st.button(t("na_open_btn", lang), key="na_open_btn") and existing.strip():
            ss["na_open"] = True
            _open_existing(existing.strip(), lang)
        st.divider()
        try:
            provinces = _regions("province", None)
        except InputError as exc:
            st.warning("\n\n".join(literal(problem_text(p, lang)) for p in exc.problems))
            return
        names = dict(provinces)
        prov = st.selectbox(t("na_province", lang), list(names), key=wkey("na_province", lang),
                            format_func=names.__getitem__, index=None, placeholder=t("na_pick", lang))
        if prov is None:
            st.caption(t("na_help", lang))
            _show_outcome(lang)
            return
        cities = dict(_regions("city", prov)) or {prov: names[prov]}
        city = st.selectbox(t("na_city", lang), list(cities), key=wkey("na_city", lang), format_func=cities.__getitem__)
        counties = dict(_regions("county", city))
        options = [WHOLE_CITY] + list(counties) if counties else [city]
        label = {WHOLE_CITY: t("na_whole_city", lang), **counties, city: cities[city]}
        county = st.selectbox(t("na_county", lang), options, key=wkey("na_county", lang),
                              index=1 if len(options) > 1 else 0, format_func=label.__getitem__)
        code = city if county == WHOLE_CITY else county
        st.caption(f"{t('na_adcode', lang)}: {code}")
        osm = st.text_input(t("na_osm", lang), key="na_osm", placeholder="/data/hunan-latest.osm.pbf",
                            help=t("na_osm_help", lang))
        out = st.text_input(t("na_out", lang), key="na_out", value="",
                            placeholder=str(default_area_dir(code)), help=t("na_out_help", lang))
        overwrite = st.checkbox(t("na_overwrite", lang), key="na_overwrite")
        if st.button(t("na_build", lang), key="na_build", type="primary"):
            ss["na_open"] = True
            _build(code, osm.strip(), out.strip() or str(default_area_dir(code)), overwrite, lang)
        _show_outcome(lang)


def _show_outcome(lang: str) -> None:
    ss = st.session_state
    if ss.get("na_problems"):
        st.error(t("na_failed", lang))
        for p in ss["na_problems"]:
            st.markdown(f"- {literal(problem_text(p, lang))}")
    if ss.get("na_report"):
        with st.expander(t("na_report", lang), expanded=False):
            st.code(ss["na_report"], language=None)


def _open_existing(path: str, lang: str) -> None:
    ss = st.session_state
    config = Path(path).expanduser()
    if config.is_dir():
        config = config / "area.yaml"
    try:
        open_area(config)
    except InputError as exc:
        ss["na_problems"] = tuple(exc.problems)
        return
    except Exception as exc:  # noqa: BLE001 - the page never shows a traceback
        ss["na_problems"] = (unexpected_problem(exc, lang=lang, file=str(config)),)
        return
    ss["na_problems"] = ()
    report = config.parent / "build_report.txt"
    ss["na_report"] = report.read_text(encoding="utf-8") if report.is_file() else ""
    ss.setdefault("_flash", []).append(("success", t("na_opened", lang).format(path=literal(config))))
    st.rerun()


def _build(code: str, osm: str, out: str, overwrite: bool, lang: str) -> None:
    from coverage.area_build import build_area

    ss = st.session_state
    ss["na_problems"] = ()
    if not osm:
        ss["na_problems"] = (Problem(t("na_no_osm", lang)),)
        return
    bar = st.progress(0.0, text=t("na_building", lang))

    def progress(frac: float, msg: str) -> None:
        bar.progress(float(frac), text=f"{t('na_building', lang)} {message_text(msg, lang)}")

    try:
        res = build_area(Path(out).expanduser(), osm=Path(osm).expanduser(), counties=[code],
                         overwrite=overwrite, progress=progress)
        open_area(res.config)
    except InputError as exc:
        ss["na_problems"] = tuple(exc.problems)
        bar.empty()
        return
    except Exception as exc:  # noqa: BLE001 - the page never shows a traceback
        ss["na_problems"] = (unexpected_problem(exc, lang=lang),)
        bar.empty()
        return
    ss["na_report"] = "\n".join(res.report)
    ss.setdefault("_flash", []).append(
        ("warning" if res.warnings else "success",
         t("na_done", lang).format(name=literal(res.units["name"].iloc[0] if len(res.units) == 1 else code),
                                   path=literal(res.config), n=len(res.warnings))))
    ss["_flash"] += [("warning", literal(message_text(w, lang))) for w in res.warnings]
    st.rerun()
