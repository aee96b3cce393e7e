"""Page logic without Streamlit: scenario edits, tables, comparisons, uploads, downloads.

Every function takes its inputs explicitly and returns new objects; nothing
here keeps state between calls. ``app.py`` caches the heavy results and
keeps the session's working :class:`~coverage.scenario.Scenario`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage.errors import InputError, Problem
from coverage.geo import WGS84
from coverage.i18n import LANGS, facility_type_label, message_text, t
from coverage.scenario import (AddedFacility, Scenario, ScenarioResults, SelectedSite, SitingResult,
                               scenario_layer)

__all__ = [
    "STORE_ENV",
    "ScenarioFigures",
    "LANG_WIDGETS",
    "accept_proposals",
    "add_planned",
    "compare_table",
    "deficit_label",
    "covered_cells",
    "district_gains",
    "district_table",
    "export_meta",
    "facilities_key",
    "facility_names",
    "facility_template",
    "boundaries_template",
    "population_template",
    "load_area_upload",
    "literal",
    "load_facilities_upload",
    "map_boundaries",
    "map_view",
    "planned_table",
    "problems_table",
    "proposals_geojson_bytes",
    "proposals_gpkg_bytes",
    "remove_planned",
    "rule_labels",
    "rule_legend",
    "save_upload",
    "scenario_facilities",
    "scenario_figures",
    "scenario_label",
    "scenario_results",
    "shortfall_csv_bytes",
    "shortfall_xlsx_bytes",
    "shortfall_rows",
    "siting_record",
    "sites_table",
    "solver_status",
    "store_path",
    "unexpected_problem",
    "unit_names",
    "wkey",
]

#: Environment variable naming the scenario store file (overrides the per-user default).
STORE_ENV = "CULTCOV_SCENARIO_STORE"


# --------------------------------------------------------------------------- messages
# Characters that start Markdown syntax anywhere in a line (links, images, emphasis, code,
# math, HTML, entities, tables, Streamlit's :colour[...] directives).
_MD_INLINE = re.compile(r"([\\`*\[\]()<>!&$|~{}])")
# Characters that start a block only at the beginning of a line (headings, quotes, lists).
_MD_BLOCK_START = re.compile(r"^([#>+\-=]|\d+(?=[.)]))")
# GFM turns bare URLs and e-mail addresses into links; a word joiner (invisible, zero width)
# keeps them plain text.
_LINE_BREAKS = re.compile(r"[ \t]*[\r\n]+[ \t]*")
_AUTOLINK = re.compile(r"(?i)(https?)(?=:)|\b(www)(?=\.)|(@)(?=[-\w])")



#: Widgets whose option labels depend on the language. The browser reports a
#: choice by its label, so each of these gets one session-state key per
#: language (:func:`wkey`): a report still carrying the previous language's
#: labels then lands on a widget that is no longer drawn, instead of clearing
#: or resetting the one on the page.
LANG_WIDGETS = ("facility_types", "mode", "preset", "basemap", "grid_layer", "choropleth",
                "plan_type", "remove_ids", "sit_model", "sit_type", "sit_cand", "sit_limit",
                "sit_quota", "up_coord", "cmp_a", "cmp_b", "na_province", "na_city", "na_county")


def wkey(name: str, lang: str) -> str:
    """Session-state key of the page widget ``name`` drawn in language ``lang``.

    Parameters
    ----------
    name : str
        The widget's name (``"mode"``, ``"facility_types"``, ...).
    lang : str
        The page's language (``"zh"`` or ``"en"``).

    Returns
    -------
    str
        ``"<name>.<lang>"`` for the widgets in :data:`LANG_WIDGETS`, else ``name``.
    """
    return f"{name}.{lang}" if name in LANG_WIDGETS else name

def literal(text: object) -> str:
    """``text`` as Markdown that Streamlit shows exactly as written.

    Messages built from uploaded cells, file names or scenario names go
    through Streamlit's Markdown renderer (``st.error``, ``st.success``,
    ``st.markdown``, ``st.write``). Every character that could start a link,
    an image, emphasis, code, math, HTML or a block is backslash-escaped, line
    breaks become spaces, and bare URLs and e-mail addresses get an invisible
    word joiner so they are not turned into links. A reader sees the same
    characters; nothing is fetched or linked.

    Parameters
    ----------
    text
        Any value; shown as ``str(text)``.

    Returns
    -------
    str
        Markdown source.
    """
    s = _LINE_BREAKS.sub(" ", str(text)).strip()
    s = _AUTOLINK.sub(lambda m: (m.group(1) or m.group(2) or m.group(3)) + "\u2060", s)
    s = _MD_INLINE.sub(r"\\\1", s)
    # An underscore between two letters or digits cannot open or close emphasis.
    s = "".join("\\_" if c == "_" and not (0 < i < len(s) - 1 and s[i - 1].isalnum()
                                             and s[i + 1].isalnum()) else c
                for i, c in enumerate(s))
    m = _MD_BLOCK_START.match(s)
    if m:  # a backslash before "#", "-", ... or before the "." of "1."
        at = m.end() if m.group(1)[0].isdigit() else 0
        s = s[:at] + "\\" + s[at:]
    return s


# --------------------------------------------------------------------------- store
def store_path(environ: Mapping[str, str] | None = None) -> Path:
    """The scenario store file: ``$CULTCOV_SCENARIO_STORE`` or ``~/.cultcov/scenarios.gpkg``.

    The folder is created when missing.
    """
    env = os.environ if environ is None else environ
    raw = env.get(STORE_ENV, "").strip()
    path = Path(raw).expanduser() if raw else Path.home() / ".cultcov" / "scenarios.gpkg"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


# --------------------------------------------------------------------------- facilities
def facilities_key(facilities: gpd.GeoDataFrame) -> tuple:
    """A hashable fingerprint of a facility layer (ids, types, public flag, positions to 0.1 m)."""
    if facilities is None or len(facilities) == 0:
        return ()
    xy = np.round(shapely.get_coordinates(facilities.geometry.values), 1)
    public = (facilities["public"].astype(str).to_numpy() if "public" in facilities.columns
              else np.full(len(facilities), ""))
    return tuple(zip(facilities["facility_id"].astype(str), facilities["type"].astype(str),
                     public, xy[:, 0].tolist(), xy[:, 1].tolist()))


def scenario_facilities(base: gpd.GeoDataFrame, scenario: Scenario) -> gpd.GeoDataFrame:
    """The base facilities with the scenario's closures and additions (base is not changed).

    The column ``planned`` is True for the scenario's additions, so that
    standards count them apart from the existing facilities.
    """
    return scenario_layer(base, scenario)


def _next_id(scenario: Scenario, base: gpd.GeoDataFrame, prefix: str) -> str:
    taken = {a.facility_id for a in scenario.added} | set(base["facility_id"].astype(str))
    numbers = [int(m.group(1)) for fid in taken
               if (m := re.fullmatch(re.escape(prefix) + r"(\d+)", fid))]
    n = max(numbers, default=0) + 1
    while f"{prefix}{n:03d}" in taken:  # pragma: no cover - defensive
        n += 1
    return f"{prefix}{n:03d}"


def add_planned(scenario: Scenario, base: gpd.GeoDataFrame, *, area: Any, lon: float, lat: float,
                facility_type: str, name: str = "", lang: str = "zh", prefix: str = "P") -> Scenario:
    """The scenario with one more planned facility at ``lon``/``lat`` (WGS84).

    Raises
    ------
    InputError
        If the point is not a finite WGS84 position inside the study area.
    """
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError):
        raise InputError(Problem(f"`lon`, `lat` = ({lon!r}, {lat!r}) are not numbers.",
                                 fix="enter longitude and latitude in degrees")) from None
    if not (np.isfinite(lon) and np.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise InputError(Problem(f"`lon`, `lat` = ({lon}, {lat}) are not WGS84 degrees.",
                                 fix="enter longitude (e.g. 104.08) and latitude (e.g. 30.69)"))
    fid = _next_id(scenario, base, prefix)
    label = name or f"{t('planned_name', lang)} {fid}"
    fac = AddedFacility.from_lonlat(fid, label, facility_type, lon, lat, crs=str(area.crs))
    if not shapely.covers(area.extent, shapely.Point(fac.x, fac.y)):
        x0, y0, x1, y1 = area.bounds_lonlat
        raise InputError(Problem(
            f"({lon:.5f}, {lat:.5f}) lies outside the study area.",
            fix=f"choose a point inside the study area (lon {x0:.3f}–{x1:.3f}, lat {y0:.3f}–{y1:.3f})"))
    return scenario.replace(added=scenario.added + (fac,))


def remove_planned(scenario: Scenario, facility_id: str) -> Scenario:
    """The scenario without the planned facility ``facility_id``."""
    return scenario.replace(added=tuple(a for a in scenario.added if a.facility_id != facility_id))


def accept_proposals(scenario: Scenario, base: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, *,
                     area: Any, lang: str = "zh") -> Scenario:
    """The scenario with every proposed site added as a planned facility."""
    out = scenario
    ll = sites.geometry.to_crs(WGS84)
    for (_, row), lon, lat in zip(sites.iterrows(), ll.x, ll.y):
        name = f"{t('proposal', lang)} {row.get('site_id', '')}".strip()
        out = add_planned(out, base, area=area, lon=float(lon), lat=float(lat),
                          facility_type=str(row["facility_type"]), name=name, lang=lang)
    return out


def scenario_label(scenario: Scenario, lang: str = "zh") -> str:
    """The scenario's name; the default name of an unnamed scenario in ``lang``."""
    if scenario.name in {t("untitled_scenario", x) for x in LANGS}:
        return t("untitled_scenario", lang)
    return scenario.name


def planned_table(scenario: Scenario, *, lang: str = "zh") -> pd.DataFrame:
    """The planned facilities of a scenario as a display table (index = facility id)."""
    rows = [{"facility_id": a.facility_id, t("name", lang): a.name,
             t("type", lang): facility_type_label(a.type, lang),
             t("lon", lang): round(a.lon, 6), t("lat", lang): round(a.lat, 6)}
            for a in scenario.added]
    cols = ["facility_id", t("name", lang), t("type", lang), t("lon", lang), t("lat", lang)]
    return pd.DataFrame(rows, columns=cols).set_index("facility_id")


def map_view(state: Mapping[str, Any] | None, *, initial: Any = None,
             ) -> tuple[tuple[float, float], int] | None:
    """``((lat, lon), zoom)`` of the map as the browser last reported it, or None.

    A report of exactly the map's ``initial`` view ``((lat, lon), zoom)`` is
    ignored: a new map can report its built-in view before it moves to the
    view it was asked for.
    """
    state = state or {}
    center, zoom = state.get("center"), state.get("zoom")
    try:
        lat, lon, zoom = float(center["lat"]), float(center["lng"]), int(zoom)
    except (TypeError, KeyError, ValueError):
        return None
    if not (np.isfinite(lat) and np.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    if initial is not None and ((lat, lon), zoom) == (tuple(initial[0]), initial[1]):
        return None
    return (lat, lon), zoom


# --------------------------------------------------------------------------- tables
def _names_in(frame: pd.DataFrame, lang: str) -> pd.Series:
    """``name``, or in English ``name_en`` where it is given."""
    name = frame["name"].astype(str)
    if lang == "en" and "name_en" in frame.columns:
        en = frame["name_en"].astype("string").str.strip()
        name = en.where(en.notna() & (en != ""), name).astype(str)
    return name


def unit_names(area: Any, *, lang: str = "zh") -> dict[str, str]:
    """District ``unit_id`` -> its name in ``lang`` (the Chinese name where no English one is given)."""
    units = _units(area)
    return dict(zip(units.index.astype(str), _names_in(units, lang)))


def facility_names(facilities: gpd.GeoDataFrame, *, lang: str = "zh") -> dict[str, str]:
    """Facility id -> its name in ``lang`` (the Chinese name where no English one is given)."""
    return dict(zip(facilities["facility_id"].astype(str), _names_in(facilities, lang)))


def _units(area: Any) -> pd.DataFrame:
    b = area.boundaries
    cols = [c for c in ("unit_id", "name", "name_en", "pop") if c in b.columns]
    return pd.DataFrame(b[cols]).assign(unit_id=lambda d: d["unit_id"].astype(str)).set_index("unit_id")


def _unit_coverage(access: Any) -> pd.DataFrame:
    s = access.summary
    thr = float(access.params.threshold_min)
    s = s[(s["threshold_min"].astype(float) == thr) & (s["unit"].astype(str) != "all")]
    return pd.DataFrame({"covered_pop": s["pop_covered"].to_numpy(float),
                         "covered_share": s["share_covered"].to_numpy(float)},
                        index=s["unit"].astype(str).to_numpy())


def _unit_deficits(evaluation: Any, unit_ids: Sequence[str]) -> pd.DataFrame:
    """Deficit per unit (rows) and rule (columns, rule ids in evaluation order)."""
    tab = evaluation.table
    tab = tab[tab["unit_id"].notna()].copy()
    tab["unit_id"] = tab["unit_id"].astype(str)
    rule_ids = [r.id for r in evaluation.rules]
    piv = tab.pivot_table(index="unit_id", columns="rule_id", values="deficit", aggfunc="sum")
    piv = piv.reindex(index=list(unit_ids), columns=[r for r in rule_ids if r in piv.columns])
    return piv


def _people(values: Any) -> pd.Series:
    """Head counts as whole numbers (missing stays missing)."""
    return pd.Series(values, dtype=float).round(0).astype("Int64")


def rule_labels(evaluation: Any, *, lang: str = "zh") -> dict[str, str]:
    """Rule id -> a short name in ``lang`` (the name up to its first colon; the full name if
    two rules would share it)."""
    full = {r.id: str(getattr(r, "name_en" if lang == "en" else "name_zh", "") or r.id)
            for r in evaluation.rules}
    short = {rid: re.split(r"[：:]", name, maxsplit=1)[0].strip() or name for rid, name in full.items()}
    counts = pd.Series(list(short.values()), dtype=object).value_counts()
    return {rid: name if counts[name] == 1 else full[rid] for rid, name in short.items()}


def deficit_label(rule_label: str, lang: str = "zh") -> str:
    """Column label of a rule's deficit, e.g. ``缺口：新型公共文化空间``."""
    return f"{t('deficit', lang)}{'：' if lang == 'zh' else ': '}{rule_label}"


def district_table(area: Any, access: Any, evaluation: Any, *, lang: str = "zh") -> pd.DataFrame:
    """One row per district: residents, covered residents and share, deficit per rule.

    The index is the district's ``unit_id``; deficit columns are named by
    :func:`deficit_label` of the rule's short name (see :func:`rule_labels`).
    """
    units = _units(area)
    cov = _unit_coverage(access).reindex(units.index)
    out = pd.DataFrame(index=units.index)
    out[t("district", lang)] = pd.Series(unit_names(area, lang=lang)).reindex(units.index)
    out[t("pop", lang)] = _people(units["pop"]) if "pop" in units.columns else pd.NA
    out[t("covered_pop", lang)] = _people(cov["covered_pop"])
    out[t("covered_share_pct", lang)] = (cov["covered_share"] * 100).round(1)
    deficits = _unit_deficits(evaluation, units.index)
    names = rule_labels(evaluation, lang=lang)
    for rid in deficits.columns:
        out[deficit_label(names[rid], lang)] = deficits[rid].to_numpy(float)
    out.index.name = "unit_id"
    return out


def rule_legend(evaluation: Any, *, lang: str = "zh") -> pd.DataFrame:
    """Rule id, name and what the deficit counts, for the rules of an evaluation."""
    tab = evaluation.table
    measures = tab.groupby("rule_id")["measure"].first().to_dict() if "measure" in tab.columns else {}

    def measure(rule_id: str) -> str:
        m = str(measures.get(rule_id, ""))
        if not m:
            return t("rule_not_applied", lang)
        return t(f"measure_{m}", lang) if m in _MEASURES else m

    return pd.DataFrame(
        [{t("rule_id", lang): r.id,
          t("rule_name", lang): getattr(r, "name_en" if lang == "en" else "name_zh", r.id),
          t("measure", lang): measure(r.id)} for r in evaluation.rules],
        columns=[t("rule_id", lang), t("rule_name", lang), t("measure", lang)])


#: Measures with an interface label (``measure_<name>`` in :mod:`coverage.i18n`).
_MEASURES = ("facilities", "residents", "m2", "units", "floor_area_m2", "volumes",
             "new_volumes_per_year", "book_budget_yuan", "art_teams")


def shortfall_rows(evaluation: Any, *, lang: str = "zh",
                   names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The evaluation table with the columns a planner reads, largest deficit first.

    ``names`` maps district ids to the names shown (see :func:`unit_names`).
    """
    tab = evaluation.table
    name_col = "rule_name_en" if lang == "en" else "rule_name_zh"
    names = names or {}
    district = [names.get(str(uid), str(unit)) for uid, unit in zip(tab["unit_id"], tab["unit"])]
    out = pd.DataFrame({
        t("district", lang): district,
        t("rule_name", lang): tab[name_col].astype(str),
        t("required", lang): tab["required"].astype(float),
        t("existing", lang): tab["existing"].astype(float),
        t("deficit", lang): tab["deficit"].astype(float),
        t("passed", lang): tab["status"].map(lambda s: t(f"status_{s}", lang)
                                             if s in ("pass", "fail", "no_data") else str(s)),
    })
    return out.sort_values(t("deficit", lang), ascending=False, kind="stable").reset_index(drop=True)


def map_boundaries(area: Any, access: Any, evaluation: Any, *, lang: str = "zh",
                   ) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """District polygons with coverage and deficit columns for the map, and their labels.

    Columns ``uncovered_share`` (percent) and ``deficit__<rule id>``; the
    returned mapping gives each column's label for the tooltip.
    """
    units = _units(area)
    b = area.boundaries.copy()
    b["unit_id"] = b["unit_id"].astype(str)
    cov = _unit_coverage(access).reindex(b["unit_id"])
    b["covered_share"] = (cov["covered_share"].to_numpy(float) * 100).round(1)
    b["uncovered_share"] = (100 - b["covered_share"]).round(1)
    b["covered_pop"] = cov["covered_pop"].to_numpy(float).round(0)
    labels = {"covered_pop": t("covered_pop", lang), "covered_share": t("covered_share_pct", lang),
              "uncovered_share": t("uncovered_share_pct", lang)}
    deficits = _unit_deficits(evaluation, units.index)
    names = rule_labels(evaluation, lang=lang)
    for rid in deficits.columns:
        col = f"deficit__{rid}"
        b[col] = deficits[rid].reindex(b["unit_id"]).to_numpy(float)
        labels[col] = deficit_label(names[rid], lang)
    return b, labels


def sites_table(sites: gpd.GeoDataFrame, *, lang: str = "zh",
                names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Proposed sites for display: district names, type labels, whole residents, cost in 10,000 yuan."""
    cols = [c for c in ("site_id", "district", "facility_type", "newly_covered_pop", "lon", "lat",
                        "lon_gcj02", "lat_gcj02", "unit_cost") if c in sites.columns]
    table = pd.DataFrame(sites[cols]).copy()
    if "district" in table.columns and "unit_id" in sites.columns and names:
        table["district"] = [names.get(str(u), str(d)) for u, d in zip(sites["unit_id"], table["district"])]
    if "facility_type" in table.columns:
        table["facility_type"] = table["facility_type"].map(lambda v: facility_type_label(v, lang))
    if "newly_covered_pop" in table.columns:
        table["newly_covered_pop"] = _people(table["newly_covered_pop"])
    if "unit_cost" in table.columns:
        table["unit_cost"] = table["unit_cost"].astype(float) / 1e4
    return table.rename(columns={c: t(f"col_{c}", lang) for c in cols})


# --------------------------------------------------------------------------- scenarios
def scenario_results(access: Any, evaluation: Any) -> ScenarioResults:
    """Summary results of a scenario for the store (coverage and the first rule's deficits)."""
    tab = evaluation.table
    tab = tab[tab["unit_id"].notna()]
    deficits: dict[str, float] = {}
    unit = ""
    if len(evaluation.rules):
        first = evaluation.rules[0].id
        rows = tab[tab["rule_id"] == first]
        deficits = {str(u): float(d) for u, d in zip(rows["unit_id"], rows["deficit"])}
        unit = str(rows["measure"].iloc[0]) if len(rows) and "measure" in rows else ""
    share = min(max(float(access.covered_share), 0.0), 1.0)
    return ScenarioResults(coverage_share=share, covered_pop=float(access.covered_pop),
                           total_pop=float(access.total_pop), deficits=deficits, deficit_unit=unit)


def siting_record(proposal: Any) -> SitingResult:
    """A siting proposal as stored with a scenario."""
    sites = proposal.sites
    ll = sites.geometry.to_crs(WGS84)
    chosen = tuple(SelectedSite(site_id=str(r["site_id"]), x=float(g.x), y=float(g.y), lon=float(lo),
                                lat=float(la), new_pop=float(r["newly_covered_pop"]))
                   for (_, r), g, lo, la in zip(sites.iterrows(), sites.geometry, ll.x, ll.y))
    res = proposal.result
    return SitingResult(sites=chosen, objective=getattr(res, "objective", None),
                        gap=getattr(res, "gap", None), model=proposal.params.model)


def solver_status(result: Any, *, lang: str = "zh") -> str:
    """How good a siting result is: optimal, or the proven gap to the optimum."""
    if getattr(result, "optimal", False):
        status = t("optimal", lang)
    else:
        gap = getattr(result, "gap", None)
        status = t("not_optimal", lang)
        if gap is not None and np.isfinite(gap):
            status += " · " + t("solver_gap", lang).format(gap=f"{float(gap):.1%}")
    return f"{t('solver', lang)}: {status}"


@dataclass(frozen=True)
class ScenarioFigures:
    """What one scenario achieves, for a side-by-side comparison.

    Attributes
    ----------
    name
        Display name.
    covered_pop, total_pop, coverage_share
        Residents covered at the chosen mode and threshold.
    n_added, n_removed
        Planned and closed facilities.
    cost_yuan
        Cost of the planned facilities at the unit costs.
    districts
        Per ``unit_id``: ``district`` (name in the figures' language),
        ``covered_pop``, ``covered_share`` (0..1) and one deficit column per
        rule, named by :func:`deficit_label`.
    covered
        Per grid cell (in grid order): covered or not.
    """

    name: str
    covered_pop: float
    total_pop: float
    coverage_share: float
    n_added: int
    n_removed: int
    cost_yuan: float
    districts: pd.DataFrame
    covered: np.ndarray | None = None


def covered_cells(access: Any) -> np.ndarray:
    """Per grid cell: reached within the access result's threshold."""
    times = access.times
    ok = times["reachable"].to_numpy(bool) if "reachable" in times.columns else np.ones(len(times), bool)
    t_s = times["time_s"].to_numpy(float)
    return ok & np.isfinite(t_s) & (t_s <= float(access.params.threshold_min) * 60.0)


def scenario_figures(name: str, area: Any, scenario: Scenario, access: Any, evaluation: Any,
                     unit_cost: Mapping[str, float], *, lang: str = "zh") -> ScenarioFigures:
    """Figures of one scenario (its access result and evaluation are computed by the caller)."""
    units = _units(area)
    cov = _unit_coverage(access).reindex(units.index)
    d = pd.DataFrame({"district": pd.Series(unit_names(area, lang=lang)).reindex(units.index),
                      "covered_pop": cov["covered_pop"], "covered_share": cov["covered_share"]},
                     index=units.index)
    deficits = _unit_deficits(evaluation, units.index)
    names = rule_labels(evaluation, lang=lang)
    for rid in deficits.columns:
        d[deficit_label(names[rid], lang)] = deficits[rid].to_numpy(float)
    cost = float(sum(float(unit_cost.get(a.type, np.nan)) for a in scenario.added)) if scenario.added else 0.0
    return ScenarioFigures(name, float(access.covered_pop), float(access.total_pop),
                           float(access.covered_share), len(scenario.added), len(scenario.removed), cost, d,
                           covered_cells(access))


def district_gains(area: Any, a: ScenarioFigures, b: ScenarioFigures, *, lang: str = "zh") -> pd.DataFrame:
    """Per district: residents covered in A and in B, and those B covers that A does not (gained)
    and those A covers that B does not (lost); a last row sums them."""
    grid = area.grid
    pop = grid["pop"].to_numpy(float)
    unit = grid["unit_id"].astype(str).to_numpy()
    gained = pd.Series(pop * (b.covered & ~a.covered)).groupby(unit).sum()
    lost = pd.Series(pop * (a.covered & ~b.covered)).groupby(unit).sum()
    ids = list(a.districts.index)
    out = pd.DataFrame({
        t("district", lang): a.districts["district"].to_numpy(),
        t("covered_in", lang).format(s="A"): a.districts["covered_pop"].to_numpy(float),
        t("covered_in", lang).format(s="B"): b.districts["covered_pop"].reindex(ids).to_numpy(float),
        t("pop_gained", lang): gained.reindex(ids).fillna(0.0).to_numpy(float),
        t("pop_lost", lang): lost.reindex(ids).fillna(0.0).to_numpy(float),
    }, index=pd.Index(ids, name="unit_id"))
    total = out.drop(columns=[t("district", lang)]).sum()
    out.loc["all"] = [t("all_districts", lang), *total.to_numpy()]
    num = out.columns[1:]
    out[num] = out[num].astype(float).round(0).astype("int64")
    return out


def compare_table(a: ScenarioFigures, b: ScenarioFigures, *, lang: str = "zh") -> pd.DataFrame:
    """Rows: overall figures, then per-district coverage and deficits; columns A, B, B − A."""
    rows: list[tuple[str, float, float]] = [
        (t("covered_share_pct", lang), a.coverage_share * 100, b.coverage_share * 100),
        (t("covered_pop", lang), a.covered_pop, b.covered_pop),
        (t("n_planned", lang), a.n_added, b.n_added),
        (t("n_closed", lang), a.n_removed, b.n_removed),
        (t("cost_wan", lang), a.cost_yuan / 1e4, b.cost_yuan / 1e4),
    ]
    da, db = a.districts, b.districts.reindex(a.districts.index)
    for uid in da.index:
        dname = da.at[uid, "district"]
        rows.append((f"{dname} · {t('covered_share_pct', lang)}",
                     da.at[uid, "covered_share"] * 100, db.at[uid, "covered_share"] * 100))
    for col in [c for c in da.columns if c not in ("district", "covered_pop", "covered_share")]:
        for uid in da.index:
            rows.append((f"{da.at[uid, 'district']} · {col}",
                         da.at[uid, col], db.at[uid, col] if col in db.columns else np.nan))
    out = pd.DataFrame(rows, columns=[t("indicator", lang), "A", "B"])
    out["A"] = out["A"].astype(float).round(2)
    out["B"] = out["B"].astype(float).round(2)
    out["B − A"] = (out["B"] - out["A"]).round(2)
    return out


# --------------------------------------------------------------------------- uploads
_SAFE_NAME = re.compile(r"[^\w.\-\u4e00-\u9fff ]+")


def save_upload(name: str, data: bytes, folder: str | Path) -> Path:
    """Write uploaded bytes to ``folder`` under the original file name (path parts removed)."""
    from coverage.limits import MAX_UPLOAD_MB, SPLIT_FIX

    base = Path(str(name).replace("\\", "/")).name
    if len(data) > MAX_UPLOAD_MB * 1024 * 1024:
        raise InputError(Problem(
            f"the file has {len(data) / 1024 / 1024:,.1f} MB, more than the upload limit of {MAX_UPLOAD_MB} MB.",
            file=base, fix="cut the file to the study area, or " + SPLIT_FIX))
    base = _SAFE_NAME.sub("_", base).strip() or "upload"
    path = Path(folder) / base
    path.write_bytes(bytes(data))
    return path


def load_facilities_upload(name: str, data: bytes, *, area: Any, coord_system: str = "wgs84",
                           folder: str | Path | None = None) -> gpd.GeoDataFrame:
    """Read an uploaded facility table (CSV/XLSX) for ``area``.

    The file is saved under its own name in ``folder`` (a new temporary
    folder when None) and read by :func:`coverage.facilities.load_facilities`
    with the area's CRS and bounds.

    Raises
    ------
    InputError
        Listing every problem (file, row, column, fix).
    """
    from coverage.facilities import load_facilities

    if not data:
        raise InputError(Problem("the uploaded file is empty.", file=str(name),
                                 fix="upload the facility table again"))
    with tempfile.TemporaryDirectory(prefix="cultcov-upload-") as tmp:
        path = save_upload(name, data, folder or tmp)
        fac = load_facilities(path, crs=str(area.crs), coord_system=coord_system,
                              bounds_lonlat=area.bounds_lonlat)
    from coverage.study_area import coordinate_notes

    more = coordinate_notes(area, fac, file=Path(str(name)).name)
    fac.attrs["notes"] = list(fac.attrs.get("notes", [])) + [str(p) for p in more]
    fac.attrs["note_problems"] = list(fac.attrs.get("note_problems", [])) + list(more)
    return fac


def load_area_upload(files: Mapping[str, tuple[str, bytes]], *, folder: str | Path | None = None,
                     name: str = "uploaded-area") -> Any:
    """Build a study area from uploaded ``boundaries``, ``population`` and optional ``network`` files.

    ``files`` maps each kind to ``(file name, bytes)``. The files are kept in
    ``folder`` (the road network is read lazily from there). Without a
    ``folder`` they go to a new temporary folder ``cultcov-area-*`` that is
    removed when the upload fails and, after a successful one, when the
    returned study area is no longer used (or the program ends).

    Raises
    ------
    InputError
        If a required file is missing or any file has problems.
    """
    from coverage.study_area import load_study_area

    missing = [k for k in ("boundaries", "population") if k not in files or not files[k][1]]
    if missing:
        raise InputError([Problem(f"no {k} file was uploaded.",
                                  fix=f"upload a {'GeoJSON/GeoPackage' if k == 'boundaries' else 'GeoTIFF'} "
                                      f"{k} file") for k in missing])
    own = folder is None
    folder = Path(tempfile.mkdtemp(prefix="cultcov-area-")) if own else Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        config: dict[str, Any] = {"name": name}
        for kind, (fname, data) in files.items():
            if data:
                sub = folder / kind
                sub.mkdir(exist_ok=True)
                config[kind] = str(save_upload(fname, data, sub))
        area = load_study_area(config)
    except BaseException:
        if own:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    if own:
        weakref.finalize(area, shutil.rmtree, str(folder), ignore_errors=True)
    return area


#: Header and example rows of the facility upload template (the headers the loader detects).
FACILITY_TEMPLATE_HEADER = ("编号", "名称", "英文名称", "类型", "经度", "纬度", "座位数", "建筑面积")
FACILITY_TEMPLATE_ROWS = (
    ("F001", "示例城市书房", "Sample city reading room", "城市书房", 104.0800, 30.6900, 40, 200),
    ("F002", "示例文化馆", "Sample cultural centre", "文化馆", 104.1000, 30.6700, "", 3000),
    ("F003", "示例图书馆分馆", "", "图书馆", 104.0650, 30.7100, 120, ""),
)


def facility_template(kind: str, *, lang: str = "zh") -> bytes:
    """An upload template for facilities: ``"csv"`` (UTF-8 with BOM, opens in Excel) or ``"xlsx"``.

    One facility per row under the header; 类型 in Chinese or English
    (城市书房, city_reading_room, ...); 经度/纬度 in the coordinate system
    chosen beside the upload box. The XLSX has a second sheet with notes.
    """
    if kind == "csv":
        frame = pd.DataFrame(list(FACILITY_TEMPLATE_ROWS), columns=list(FACILITY_TEMPLATE_HEADER))
        return frame.to_csv(index=False).encode("utf-8-sig")
    if kind != "xlsx":
        raise InputError(Problem(f"`kind` = {kind!r} is not a template format.", fix="use 'csv' or 'xlsx'"))
    import io

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = t("template_sheet", lang)
    ws.append(list(FACILITY_TEMPLATE_HEADER))
    for row in FACILITY_TEMPLATE_ROWS:
        ws.append([None if v == "" else v for v in row])
    notes = wb.create_sheet(t("template_notes_sheet", lang))
    for line in t("template_notes", lang).split("\n"):
        notes.append([line])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


#: Extent of the study-area templates: two districts side by side in central Chengdu (WGS84).
_TEMPLATE_BOX = (104.05, 30.66, 104.11, 30.70)


def boundaries_template() -> bytes:
    """A boundaries upload template: GeoJSON (WGS84) of two districts with Chinese field names.

    Fields: 行政区划代码 (adcode), 名称, 英文名称, 类型 (区/县/县级市/街道/乡镇), 常住人口.
    """
    x0, y0, x1, y1 = _TEMPLATE_BOX
    xm = (x0 + x1) / 2
    frame = gpd.GeoDataFrame(
        {"行政区划代码": ["510199", "510198"], "名称": ["示例甲区", "示例乙区"],
         "英文名称": ["Sample District A", "Sample District B"], "类型": ["区", "区"],
         "常住人口": [60000, 40000]},
        geometry=[shapely.box(x0, y0, xm, y1), shapely.box(xm, y0, x1, y1)], crs=WGS84)
    return frame.to_json(drop_id=True, ensure_ascii=False).encode("utf-8")


def population_template() -> bytes:
    """A population upload template: a GeoTIFF (WGS84) of residents per pixel over the
    boundaries template (0.001° pixels, 0 where nobody lives)."""
    import rasterio
    from rasterio.transform import from_origin

    x0, y0, x1, y1 = _TEMPLATE_BOX
    step = 0.001
    width, height = round((x1 - x0) / step), round((y1 - y0) / step)
    counts = np.full((height, width), 25.0, dtype="float32")
    counts[:, : width // 8] = 0.0
    with tempfile.TemporaryDirectory(prefix="cultcov-template-") as tmp:
        path = Path(tmp) / "population.tif"
        with rasterio.open(path, "w", driver="GTiff", height=height, width=width, count=1, dtype="float32",
                           crs="EPSG:4326", transform=from_origin(x0, y1, step, step), nodata=-1.0) as dst:
            dst.write(counts, 1)
        return path.read_bytes()


def unexpected_problem(exc: BaseException, *, lang: str = "zh", file: str | None = None) -> Problem:
    """An error the page did not foresee, as a problem in the page's words (the error itself in brackets)."""
    opening, closing = ("（", "）") if lang == "zh" else (" (", ")")
    return Problem(f"{t('unexpected_error', lang)}{opening}{type(exc).__name__}: {exc}{closing}", file=file)


def problems_table(problems: Sequence[Problem], *, lang: str = "zh",
                   names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Problems as a table: file, row, column, what is wrong, how to fix it (in ``lang``)."""
    return pd.DataFrame(
        [{t("p_file", lang): p.file or "", t("p_row", lang): "" if p.row is None else str(p.row),
          t("p_column", lang): p.column or "",
          t("p_message", lang): message_text(p.message, lang, names=names),
          t("p_fix", lang): message_text(p.fix, lang, names=names) if p.fix else ""} for p in problems],
        columns=[t(k, lang) for k in ("p_file", "p_row", "p_column", "p_message", "p_fix")])


# --------------------------------------------------------------------------- downloads
def _via_file(suffix: str, write: Any) -> bytes:
    with tempfile.TemporaryDirectory(prefix="cultcov-export-") as tmp:
        path = Path(tmp) / f"export{suffix}"
        write(path)
        return path.read_bytes()


def export_meta(area: Any, scenario: Scenario | None, opts: Mapping[str, Any]) -> dict[str, Any]:
    """What an export names in its header: study area, scenario, travel mode and threshold, data date.

    The scenario is named only when it plans or closes facilities.
    """
    meta: dict[str, Any] = {"study_area": getattr(area, "name", ""), "mode": opts.get("mode"),
                            "threshold_min": opts.get("threshold_min")}
    if scenario is not None and (scenario.added or scenario.removed):
        meta["scenario"] = scenario.name
    if getattr(area, "data_date", ""):
        meta["data_date"] = area.data_date
    return meta


def shortfall_xlsx_bytes(evaluation: Any, *, lang: str = "zh", proposals: Any = None,
                         meta: Mapping[str, Any] | None = None) -> bytes:
    """The shortfall list (and proposals, if any) as an XLSX workbook."""
    from coverage.export import export_xlsx

    return _via_file(".xlsx", lambda p: export_xlsx(evaluation, p, lang=lang, proposals=proposals, meta=meta))


def shortfall_csv_bytes(evaluation: Any, *, lang: str = "zh", meta: Mapping[str, Any] | None = None) -> bytes:
    """The shortfall list as CSV (UTF-8 with BOM)."""
    from coverage.export import export_csv

    return _via_file(".csv", lambda p: export_csv(evaluation, p, lang=lang, meta=meta))


def proposals_geojson_bytes(sites: gpd.GeoDataFrame) -> bytes:
    """Proposed sites as a WGS84 GeoJSON FeatureCollection."""
    cols = [c for c in ("site_id", "facility_type", "unit_id", "district", "newly_covered_pop",
                        "reach_pop", "lon", "lat", "lon_gcj02", "lat_gcj02", "unit_cost") if c in sites.columns]
    frame = gpd.GeoDataFrame(sites[cols].copy(), geometry=sites.geometry.to_crs(WGS84).values, crs=WGS84)
    doc = json.loads(frame.to_json(drop_id=True, na="null"))
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def proposals_gpkg_bytes(evaluation: Any, sites: gpd.GeoDataFrame, *, lang: str = "zh") -> bytes:
    """Units with deficits plus the proposed sites as a GeoPackage."""
    from coverage.export import export_gpkg

    return _via_file(".gpkg", lambda p: export_gpkg(evaluation, p, lang=lang, proposals=sites))

