"""Catchments table and the budget-request report on the page.

:func:`catchments_table` is plain pandas (testable without a running page);
:func:`catchments_section` and :func:`report_section` draw with Streamlit and
are called from :mod:`ui.page`.
"""

from __future__ import annotations

from typing import Any, Mapping

import pandas as pd
import streamlit as st

from coverage.i18n import facility_type_label, t

__all__ = ["catchments_table", "catchments", "catchments_section", "report_section"]


def catchments_table(catchments: Any, *, lang: str = "zh", names: Mapping[str, str] | None = None,
                     facility_names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Catchments per facility as a display table, busiest first.

    Parameters
    ----------
    catchments
        :func:`coverage.workflow.facility_catchments`.
    lang
        ``"zh"`` or ``"en"``.
    names, facility_names
        District id and facility id -> name in ``lang`` (default the names in
        the table).
    """
    order = catchments.sort_values("pop_nearest", ascending=False, kind="stable")
    names, facility_names = names or {}, facility_names or {}
    return pd.DataFrame({
        t("name", lang): [facility_names.get(str(f), str(n)) for f, n in zip(order["facility_id"], order["name"])],
        t("type", lang): [facility_type_label(x, lang) for x in order["type"]],
        t("district", lang): [names.get(str(u), str(d)) for u, d in zip(order["unit_id"], order["district"])],
        t("rp_pop_nearest", lang): order["pop_nearest"].round(0).to_numpy(),
        t("rp_pop_within", lang): order["pop_within"].round(0).to_numpy(),
        t("rp_area_km2", lang): order["area_km2"].round(2).to_numpy(),
        t("rp_ref", lang): order["residents_per_facility"].to_numpy(),
        t("rp_load", lang): [t(f"rp_flag_{f}", lang) for f in order["load_flag"]],
    })


def _access_params(opts: Mapping[str, Any]) -> Any:
    from coverage.workflow import AccessParams

    return AccessParams(facility_types=tuple(opts["facility_types"]), mode=opts["mode"],
                        threshold_min=float(opts["threshold_min"]), thresholds_min=(float(opts["threshold_min"]),))


def _catchments_key(area: Any, facilities: Any, opts: Mapping[str, Any]) -> tuple:
    from ui.logic import facilities_key

    return (id(area), area.name, facilities_key(facilities), tuple(opts["facility_types"]), opts["mode"],
            float(opts["threshold_min"]), opts["preset"])


@st.cache_resource(show_spinner=False, max_entries=32)
def _catchments_cached(key: tuple, _compute: Any) -> Any:
    """Catchments for ``key`` (area, facility layer, question), computed once per server."""
    return _compute()


def catchments(area: Any, facilities: Any, opts: Mapping[str, Any]) -> Any:
    """:func:`coverage.workflow.facility_catchments` for the page's question, computed once per server."""
    from coverage.workflow import facility_catchments

    return _catchments_cached(_catchments_key(area, facilities, opts),
                              lambda: facility_catchments(area, _access_params(opts), facilities=facilities,
                                                          preset=opts["preset"]))


def catchments_section(area: Any, facilities: Any, opts: Mapping[str, Any], lang: str) -> None:
    """Residents and area each counted facility serves, and which are overloaded or serve few."""
    from coverage.errors import InputError

    st.subheader(t("rp_catchments", lang))
    try:
        cat = catchments(area, facilities, opts)
    except InputError:
        st.caption("–")
        return
    from ui.logic import facility_names, unit_names

    table = catchments_table(cat, lang=lang, names=unit_names(area, lang=lang),
                             facility_names=facility_names(facilities, lang=lang))
    st.dataframe(table, hide_index=True, width="stretch", key="catchment_df")
    basis = "; ".join(t(f"rp_basis_{b}", lang) for b in sorted(set(cat["load_basis"])))
    st.caption(f"{t('rp_catch_note', lang)} {t('rp_load', lang)}: {basis}. "
               f"{t('rp_uncovered', lang)}: {cat.attrs['uncovered_pop']:,.0f}")


def report_section(area: Any, facilities: Any, access: Any, evaluation: Any, opts: Mapping[str, Any],
                   scenario: Any, lang: str) -> None:
    """One click: the budget-request report as PDF and its map as PNG."""
    from coverage.report import map_png, prepare_report, report_pdf_bytes

    st.subheader(t("rp_title", lang))
    st.caption(t("rp_hint", lang))
    proposal = st.session_state.get("proposal")
    name = scenario.name if scenario is not None and (scenario.added or scenario.removed) else None
    key = (id(evaluation), id(proposal), lang, name)
    if st.button(t("rp_make", lang), key="rp_make"):
        with st.spinner(t("rp_make", lang)):
            data = prepare_report(area, opts["preset"], access_params=_access_params(opts), proposal=proposal,
                                  facilities=facilities, scenario=name, evaluation=evaluation, access=access)
            png = map_png(data, lang)
            st.session_state["rp_files"] = (key, report_pdf_bytes(data, lang, map_bytes=png), png)
    files = st.session_state.get("rp_files")
    if files is None or files[0] != key:
        return
    c1, c2 = st.columns(2)
    c1.download_button(t("rp_pdf", lang), files[1], file_name="budget_report.pdf", mime="application/pdf",
                       key="dl_report_pdf", on_click="ignore")
    c2.download_button(t("rp_png", lang), files[2], file_name="report_map.png", mime="image/png",
                       key="dl_report_png", on_click="ignore")
