"""Shortfall lists and proposed sites to XLSX, CSV, GeoJSON and GeoPackage.

Every export carries, for each rule, the source document (title, issuer,
year, section), the parameters used, and the data date; the XLSX workbook
has a summary sheet, one sheet per rule (units sorted by deficit, largest
first) and a notes sheet. Headers are Chinese by default, English with
``lang="en"``.

Files are written atomically: the export goes to a temporary file in the
target directory which then replaces the target in one step, so a failure
never leaves a half-written file behind and an existing file stays intact.

Proposed sites (from siting) are listed per district with WGS84 and GCJ-02
coordinates (the latter for Amap/Tencent maps), the residents each newly
covers and an estimated cost from a unit cost per facility type (editable
assumptions in ``data/standards/costs.yaml``, or ``costs=``).
"""

from __future__ import annotations

import errno
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from .errors import InputError, Problem
from .facilities import wgs84_to_gcj02
from .geo import WGS84
from .safe_text import spreadsheet_csv, spreadsheet_workbook
from .standards import FACILITY_TYPES, Costs, Evaluation, Rule, load_costs

LANGS = ("zh", "en")

_HEAD: dict[str, tuple[str, str]] = {
    "rule_id": ("规则编号", "Rule id"),
    "rule_name": ("规则名称", "Rule"),
    "kind": ("规则类型", "Kind"),
    "unit": ("单元", "Unit"),
    "unit_id": ("区划代码", "Code"),
    "unit_type": ("单元类型", "Unit type"),
    "pop": ("常住人口", "Residents"),
    "measure": ("计量", "Measure"),
    "required": ("应有", "Required"),
    "existing": ("现有", "Existing"),
    "planned": ("规划（方案）", "Planned (scenario)"),
    "proposed": ("拟新建（选址建议）", "Proposed"),
    "deficit_after": ("建议后缺口", "Deficit after proposals"),
    "deficit": ("缺口", "Deficit"),
    "surplus": ("富余", "Surplus"),
    "status": ("是否达标", "Status"),
    "coverage_share": ("覆盖率", "Coverage share"),
    "note": ("说明", "Note"),
    "source": ("依据文件", "Source document"),
    "parameters": ("参数", "Parameters"),
    "data_date": ("数据日期", "Data date"),
    "units": ("单元数", "Units"),
    "units_passed": ("达标单元数", "Units passing"),
    "district": ("所在区", "District"),
    "facility_type": ("设施类型", "Facility type"),
    "lon_wgs84": ("经度（WGS84）", "Longitude (WGS84)"),
    "lat_wgs84": ("纬度（WGS84）", "Latitude (WGS84)"),
    "lon_gcj02": ("经度（GCJ-02）", "Longitude (GCJ-02)"),
    "lat_gcj02": ("纬度（GCJ-02）", "Latitude (GCJ-02)"),
    "newly_covered_pop": ("新增覆盖人口", "Newly covered residents"),
    "unit_cost": ("单位造价（元）", "Unit cost (yuan)"),
    "cost": ("估算费用（元）", "Estimated cost (yuan)"),
}
_TEXT: dict[str, tuple[str, str]] = {
    "summary": ("汇总", "Summary"),
    "notes": ("说明", "Notes"),
    "proposals": ("选址建议", "Proposals"),
    "total": ("合计", "Total"),
    "subtotal": ("小计", "Subtotal"),
    "budget": ("预算合计", "Budget total"),
    "pass": ("达标", "pass"),
    "fail": ("未达标", "fail"),
    "no_data": ("无数据", "no data"),
    "not_stated": ("未注明", "not stated"),
    "title": ("公共文化设施规划标准缺口清单", "Public-culture facility shortfall list"),
    "source_label": ("依据", "Source"),
    "params_label": ("参数", "Parameters"),
    "date_label": ("数据日期", "Data date"),
    "rule_label": ("规则", "Rule"),
    "fz": ("功能区按以下单元类型计算", "Functional zones counted as unit type"),
    "crs": ("坐标参考系", "Coordinate reference system"),
    "outside": ("不在任何单元内的设施（未计入）", "Facilities outside every unit (not counted)"),
    "cost_note": ("造价说明", "Cost note"),
    "coord_note": ("坐标说明", "Coordinates"),
    "coord_text": ("WGS84 用于 GPS/OpenStreetMap；GCJ-02 用于高德、腾讯地图。",
                   "WGS84 for GPS/OpenStreetMap; GCJ-02 for Amap and Tencent maps."),
    "doc_note": ("文件说明", "Citation note"),
    "issued": ("发文", "Issued"),
    "study_area": ("研究区", "Study area"),
    "scenario": ("方案", "Scenario"),
    "no_scenario": ("现状（无规划方案）", "Current state (no scenario)"),
    "travel": ("出行方式与时间阈值", "Travel mode and threshold"),
    "standard": ("规划标准", "Planning standard"),
    "pop_basis": ("人口口径", "Population"),
    "not_set": ("未指定", "not set"),
    "minutes": ("分钟", "min"),
    "reading": ("读表说明", "How to read"),
    "reading_text": ("缺口 = 应有 − 现有 − 规划（方案），不小于0；现有只计已建成设施；"
                     "建议后缺口再减去拟新建（选址建议）。",
                     "Deficit = required − existing − planned (scenario), at least 0; existing counts built "
                     "facilities only; the deficit after proposals also subtracts the proposed sites."),
}
_POP_BASIS: dict[str, tuple[str, str]] = {
    "area_share": ("研究区内常住人口（按面积比例折算）", "Residents in study area (census scaled by area share)"),
    "census": ("常住人口", "Residents"),
}
_POP_NOTE: dict[str, tuple[str, str]] = {
    "area_share": ("各区普查常住人口按其在研究区内的面积比例折算，不是全区人口。",
                   "Each district's census population scaled by the share of its area inside the study area, "
                   "not the whole district's population."),
    "census": ("普查常住人口。", "Census residents."),
}
_MODE: dict[str, tuple[str, str]] = {
    "walk": ("步行", "Walking"),
    "bike": ("骑行", "Cycling"),
    "drive": ("驾车", "Driving"),
}
_KIND: dict[str, tuple[str, str]] = {
    "per_capita_count": ("按人口配置数量", "count per residents"),
    "per_capita_quantity": ("按人口配置规模", "quantity per residents"),
    "presence": ("每单元至少", "present in every unit"),
    "share_of_units": ("单元覆盖比例", "share of units"),
    "share_of_facilities": ("设施达标比例", "share of facilities"),
    "proximity": ("步行/出行可达", "proximity"),
    "per_capita_rate": ("每万人指标", "rate per residents"),
}
_MEASURE: dict[str, tuple[str, str]] = {
    "facilities": ("个（设施）", "facilities"),
    "residents": ("人", "residents"),
    "units": ("个（单元）", "units"),
    "floor_area_m2": ("平方米", "m²"),
    "volumes": ("册", "volumes"),
    "new_volumes_per_year": ("册/年", "volumes per year"),
    "book_budget_yuan": ("元", "yuan"),
    "art_teams": ("支（文艺团队）", "art teams"),
    "culture_teams": ("支（文化队伍）", "culture teams"),
    "culture_volunteers": ("名（志愿者）", "volunteers"),
    "culture_posts": ("个（岗位）", "posts"),
    "culture_cooperatives": ("个（合作社）", "cooperatives"),
    "opera_performances_per_year": ("场/年", "performances per year"),
}
_FTYPE: dict[str, tuple[str, str]] = {
    "library": ("公共图书馆", "library"),
    "cultural_centre": ("文化馆", "cultural centre"),
    "culture_station": ("文化站/文化驿站", "culture station"),
    "city_reading_room": ("城市书房", "city reading room"),
    "museum": ("博物馆", "museum"),
    "art_gallery": ("美术馆", "art gallery"),
    "theatre": ("剧院", "theatre"),
    "science_museum": ("科技馆", "science museum"),
    "workers_palace": ("工人文化宫", "workers' cultural palace"),
    "other": ("其他", "other"),
}


def _l(table: Mapping[str, tuple[str, str]], key: str, lang: str) -> str:
    pair = table.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "en" else pair[0]


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise InputError(f"`lang` = {lang!r} is not supported.", fix="use 'zh' (Chinese) or 'en' (English)")


def _check_result(result: Any) -> None:
    if not isinstance(result, Evaluation):
        raise InputError(f"`result` is a {type(result).__name__}, not an Evaluation.",
                         fix="pass the value returned by coverage.standards.evaluate(...)")


def _check_target(path: str | Path) -> Path:
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError(f"`path` {path} is in a folder that does not exist.",
                         fix=f"create {path.parent} first or choose another folder")
    return path


# --------------------------------------------------------------------------- atomic
#: errno values of a write that failed for want of space (full disk, quota, file size limit).
_NO_SPACE = frozenset(getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EFBIG")
                      if hasattr(errno, name))


def _check_replaceable(path: Path) -> None:
    """Refuse a target that is a link, not a regular file, or read-only."""
    if path.is_symlink():
        raise InputError(Problem(
            f"`path` {path} is a symbolic link; exports never write through or replace a link.",
            file=str(path), fix="remove the link or choose another file name"))
    if not path.exists():
        return
    if not path.is_file():
        raise InputError(Problem(f"`path` {path} exists and is not a regular file.", file=str(path),
                                 fix="choose a file name that is not a folder or device"))
    if not path.stat().st_mode & 0o222 or not os.access(path, os.W_OK):
        raise InputError(Problem(f"`path` {path} is read-only; it was left as it is.", file=str(path),
                                 fix=f"make it writable (chmod u+w {path}) or choose another file name"))


def _atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Run ``write(tmp)`` on a temporary file beside ``path``, then replace ``path``.

    Links, read-only files and anything but a regular file are refused
    (:class:`InputError`); so is a write that runs out of disk space, after the
    temporary file is removed, so ``path`` is never half-written.
    """
    path = Path(path)
    _check_replaceable(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        tmp.unlink()  # writers such as GDAL want to create the file themselves
        write(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        for leftover in (tmp, *tmp.parent.glob(tmp.name + "-*")):
            try:
                leftover.unlink()
            except FileNotFoundError:
                pass
        if isinstance(exc, OSError) and exc.errno in _NO_SPACE:
            raise InputError(Problem(
                f"not enough disk space to write {path} ({exc.strerror}); nothing was written.",
                file=str(path), fix="free disk space or write the file to another disk")) from None
        raise
    return path


def _write_workbook(wb: Any, tmp: Path) -> None:
    """Save an openpyxl workbook to ``tmp`` in one write (a failed write leaves no open zip file)."""
    buf = io.BytesIO()
    wb.save(buf)
    with open(tmp, "wb") as fh:
        fh.write(buf.getvalue())


# --------------------------------------------------------------------------- shared pieces
def _data_date(result: Evaluation, meta: Mapping[str, Any] | None, lang: str) -> str:
    if meta and meta.get("data_date"):
        return str(meta["data_date"])
    if result.params.get("data_date"):
        return str(result.params["data_date"])
    return _l(_TEXT, "not_stated", lang)


def _status_text(status: Any, lang: str) -> str:
    return _l(_TEXT, str(status), lang) if isinstance(status, str) else ""


def _ordered_rules(result: Evaluation) -> list[Rule]:
    present = set(result.table["rule_id"])
    return [r for r in result.rules if r.id in present]


def _rule_rows(result: Evaluation, rule: Rule) -> pd.DataFrame:
    return result.rule_table(rule.id)


def _is_quantity(rule: Rule) -> bool:
    return rule.kind in ("per_capita_quantity", "per_capita_rate")


def _pop_basis(result: Evaluation) -> str:
    basis = str(result.params.get("pop_basis") or "census")
    return basis if basis in _POP_BASIS else "census"


def _head(key: str, lang: str, result: Evaluation | None = None) -> str:
    """Column header of ``key``; the population header names how the population was obtained."""
    if key == "pop" and result is not None:
        return _l(_POP_BASIS, _pop_basis(result), lang)
    return _l(_HEAD, key, lang)


def _standard_name(result: Evaluation, lang: str) -> str:
    preset = result.params.get("preset")
    if not preset:
        return "; ".join(r.name(lang) for r in _ordered_rules(result)) or _l(_TEXT, "not_stated", lang)
    from .standards import list_presets

    for p in list_presets():
        if p.id == preset:
            return f"{p.name_en if lang == 'en' else p.name_zh} ({p.id})"
    return str(preset)


def header_facts(result: Evaluation, lang: str = "zh",
                 meta: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    """What a shortfall list is about, as (label, text) pairs.

    Study area, scenario (or the current state), travel mode and threshold,
    planning standard with its documents, data vintage and how the
    population was obtained. ``meta`` keys read: ``study_area``,
    ``scenario``, ``mode``, ``threshold_min``, ``data_date``.
    """
    meta = meta or {}
    not_set = _l(_TEXT, "not_set", lang)
    mode = meta.get("mode")
    thr = meta.get("threshold_min")
    travel = not_set
    if mode or thr is not None:
        parts = [_l(_MODE, str(mode), lang) if mode else not_set]
        if thr is not None:
            parts.append(f"{float(thr):g} {_l(_TEXT, 'minutes', lang)}")
        travel = " · ".join(parts)
    docs = []
    for r in _ordered_rules(result):
        c = r.source.cite(lang)
        if c not in docs:
            docs.append(c)
    basis = _pop_basis(result)
    return [
        (_l(_TEXT, "study_area", lang), str(meta.get("study_area") or not_set)),
        (_l(_TEXT, "scenario", lang), str(meta.get("scenario") or _l(_TEXT, "no_scenario", lang))),
        (_l(_TEXT, "travel", lang), travel),
        (_l(_TEXT, "standard", lang), _standard_name(result, lang)),
        (_l(_TEXT, "source_label", lang), "; ".join(docs) or not_set),
        (_l(_TEXT, "date_label", lang), _data_date(result, meta, lang)),
        (_l(_TEXT, "pop_basis", lang), f"{_l(_POP_BASIS, basis, lang)}: {_l(_POP_NOTE, basis, lang)}"),
        (_l(_TEXT, "reading", lang), _l(_TEXT, "reading_text", lang)),
    ]


def _header_block(ws, row: int, result: Evaluation, lang: str, meta: Mapping[str, Any] | None) -> int:
    """Write :func:`header_facts` from ``row`` on; return the next free row."""
    st = _styles()
    for label, text in header_facts(result, lang, meta):
        ws.cell(row=row, column=1, value=label).font = st["bold"]
        ws.cell(row=row, column=2, value=text)
        row += 1
    return row


def _proposed_counts(result: Evaluation, prop: pd.DataFrame | None) -> dict[tuple[str, str], float]:
    """Proposed sites per (rule id, unit id) for the count rules whose types they are."""
    out: dict[tuple[str, str], float] = {}
    if prop is None or len(prop) == 0:
        return out
    for rule in _ordered_rules(result):
        if rule.kind not in ("per_capita_count", "presence") or rule.unit_column:
            continue
        sel = prop[prop["facility_type"].isin(rule.facility_types)]
        if rule.citywide:
            out[(rule.id, "")] = float(len(sel))
            continue
        for uid, n in sel["unit_id"].astype(str).value_counts().items():
            out[(rule.id, uid)] = float(n)
    return out


def _deficit_after(deficit: Any, proposed: float) -> float | None:
    """The deficit left once ``proposed`` sites are built (never below 0)."""
    return None if deficit is None or pd.isna(deficit) else max(float(deficit) - proposed, 0.0)


def rule_shortfall(result: Evaluation, rule_id: str, proposals: pd.DataFrame | None = None) -> pd.DataFrame:
    """One rule's rows as in the workbook's rule sheet: units by deficit, then the total row.

    Parameters
    ----------
    result
        The evaluation.
    rule_id
        The rule.
    proposals
        :func:`proposals_table` of the proposed sites, or None.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``unit_id``, ``pop``, ``measure``, ``required``, ``existing``,
        ``planned``, ``deficit``, ``proposed`` and ``deficit_after`` (NaN when the
        rule does not count sites of the proposed type), ``status``; the last
        row (``unit_id`` None) is the total unless the rule is citywide.
    """
    rule = result.rule(rule_id)
    rows = _rule_rows(result, rule).copy()
    if not rule.citywide:
        tot = result.totals[result.totals["rule_id"] == rule_id].copy()
        tot["unit"], tot["unit_id"] = _l(_TEXT, "total", "zh"), None
        rows = pd.concat([rows, tot[[c for c in rows.columns if c in tot.columns]]], ignore_index=True)
    counted = proposals is not None and rule.kind in ("per_capita_count", "presence") and not rule.unit_column
    counts = _proposed_counts(result, proposals) if counted else {}
    n = [float(sum(v for (r, _), v in counts.items() if r == rule_id)) if uid is None or pd.isna(uid)
         else counts.get((rule_id, str(uid)), 0.0) for uid in rows["unit_id"]]
    rows["proposed"] = n if counted else np.nan
    rows["deficit_after"] = [_deficit_after(d, k) for d, k in zip(rows["deficit"], n)] if counted else np.nan
    keys = ["unit", "unit_id", "pop", "measure", "required", "existing", "planned", "deficit", "proposed",
            "deficit_after", "status"]
    return rows.reindex(columns=keys).reset_index(drop=True)


# --------------------------------------------------------------------------- proposals
def proposals_table(proposals: Any, *, result: Evaluation | None = None,
                    costs: Mapping[str, float] | str | Path | Costs | None = None) -> pd.DataFrame:
    """Proposed sites with district, WGS84 and GCJ-02 coordinates and cost.

    Parameters
    ----------
    proposals
        GeoDataFrame of proposed sites (Point geometry, CRS set, normally the
        metric CRS) with ``facility_type``, ``newly_covered_pop`` and
        ``unit_id`` or ``district``.
    result
        The evaluation, used to name each site's district from its ``unit_id``.
    costs
        Unit cost per facility type: a :class:`~coverage.standards.Costs`, a
        mapping ``{type: yuan}`` overriding the built-in assumptions, a YAML
        path, or ``None`` for the built-in assumptions.

    Returns
    -------
    pandas.DataFrame
        Index aligned with ``proposals``; columns ``unit_id``, ``district``,
        ``facility_type``, ``lon_wgs84``, ``lat_wgs84``, ``lon_gcj02``,
        ``lat_gcj02``, ``newly_covered_pop``, ``unit_cost``, ``cost``.
    """
    import geopandas as gpd
    if not isinstance(proposals, gpd.GeoDataFrame):
        raise InputError("`proposals` is not a GeoDataFrame.",
                         fix="pass the proposed sites as a GeoDataFrame with Point geometry")
    need = [c for c in ("facility_type", "newly_covered_pop") if c not in proposals.columns]
    if "unit_id" not in proposals.columns and "district" not in proposals.columns:
        need.append("unit_id")
    if need:
        raise InputError(f"`proposals` has no column(s) {', '.join(need)}.",
                         fix="give each site facility_type, newly_covered_pop and unit_id (or district)")
    if proposals.crs is None:
        raise InputError("`proposals` has no CRS.", fix="call proposals.set_crs(...) with the CRS of its coordinates")
    unknown = sorted(set(proposals["facility_type"].astype(str)) - set(FACILITY_TYPES))
    if unknown:
        raise InputError(f"`proposals` has unknown facility_type {', '.join(unknown)}.",
                         fix=f"use one of: {', '.join(FACILITY_TYPES)}")
    cost_table = costs if isinstance(costs, Costs) else load_costs(costs)
    pts = proposals.geometry.to_crs(WGS84)
    lon, lat = pts.x.to_numpy(), pts.y.to_numpy()
    glon, glat = wgs84_to_gcj02(lon, lat)
    out = pd.DataFrame(index=proposals.index)
    out["unit_id"] = proposals["unit_id"].astype(str) if "unit_id" in proposals.columns else ""
    if "district" in proposals.columns:
        out["district"] = proposals["district"].astype(str)
    else:
        names: dict[str, str] = {}
        if result is not None:
            t = result.table.dropna(subset=["unit_id"])
            names = dict(zip(t["unit_id"].astype(str), t["unit"]))
        out["district"] = out["unit_id"].map(lambda k: names.get(k, k))
    out["facility_type"] = proposals["facility_type"].astype(str)
    out["lon_wgs84"], out["lat_wgs84"] = lon, lat
    out["lon_gcj02"], out["lat_gcj02"] = np.asarray(glon, float), np.asarray(glat, float)
    out["newly_covered_pop"] = pd.to_numeric(proposals["newly_covered_pop"], errors="coerce").astype(float)
    out["unit_cost"] = out["facility_type"].map(lambda t: cost_table.unit_cost.get(t, np.nan)).astype(float)
    out["cost"] = out["unit_cost"]
    return out


# --------------------------------------------------------------------------- XLSX
def export_xlsx(result: Evaluation, path: str | Path, *, lang: str = "zh", proposals: Any = None,
                costs: Mapping[str, float] | str | Path | Costs | None = None,
                meta: Mapping[str, Any] | None = None) -> Path:
    """Write the shortfall list as a formatted Excel workbook.

    Parameters
    ----------
    result
        Output of :func:`coverage.standards.evaluate`.
    path
        Target ``.xlsx`` file; replaced atomically.
    lang
        ``"zh"`` (Chinese headers, default) or ``"en"``.
    proposals
        Optional proposed sites (see :func:`proposals_table`); adds a sheet
        listing them per district with coordinates, cost and a budget total.
    costs
        Unit costs for ``proposals`` (see :func:`proposals_table`).
    meta
        Extra facts for the notes sheet (e.g. ``{"data_date": "2020-11-01",
        "study_area": "成都中心城区"}``); ``data_date`` overrides the one
        given to ``evaluate``.

    Returns
    -------
    pathlib.Path
        The file written.

    Notes
    -----
    Sheets: summary (one row per rule), one sheet per rule named by rule id
    (a header block with the rule, source document, parameters and data
    date, then units sorted by deficit with a total row; header row frozen),
    the proposals sheet if given, and a notes sheet with every source
    document, parameter and assumption.
    """
    _check_result(result)
    _check_lang(lang)
    path = _check_target(path)
    prop = proposals_table(proposals, result=result, costs=costs) if proposals is not None else None
    cost_table = costs if isinstance(costs, Costs) else (load_costs(costs) if prop is not None else None)

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = _l(_TEXT, "summary", lang)
    _summary_sheet(ws, result, lang, meta)
    used = {ws.title}
    proposed = _proposed_counts(result, prop) if prop is not None else None
    for rule in _ordered_rules(result):
        name = _sheet_name(rule.id, used)
        _rule_sheet(wb.create_sheet(name), result, rule, lang, meta, proposed)
    if prop is not None:
        _proposals_sheet(wb.create_sheet(_l(_TEXT, "proposals", lang)), prop, cost_table, lang)
    _notes_sheet(wb.create_sheet(_l(_TEXT, "notes", lang)), result, lang, meta, cost_table)
    spreadsheet_workbook(wb)
    return _atomic_write(path, lambda tmp: _write_workbook(wb, tmp))


def _sheet_name(rule_id: str, used: set[str]) -> str:
    base = "".join("_" if c in '[]:*?/\\' else c for c in rule_id)[:31]
    name, k = base, 2
    while name in used:
        suffix = f"~{k}"
        name, k = base[: 31 - len(suffix)] + suffix, k + 1
    used.add(name)
    return name


def _styles():
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    return {
        "title": Font(bold=True, size=13),
        "bold": Font(bold=True),
        "head_fill": PatternFill("solid", fgColor="DDE7F0"),
        "total_fill": PatternFill("solid", fgColor="F2F2F2"),
        "fail_font": Font(color="9C0006"),
        "wrap": Alignment(wrap_text=True, vertical="top"),
        "border": Border(bottom=Side(style="thin", color="808080")),
    }


def _text_width(value: Any) -> int:
    s = value if isinstance(value, str) else (f"{value:,.1f}" if isinstance(value, float) else str(value))
    return sum(2 if ord(c) > 0x2E80 else 1 for c in s)


def _set_widths(ws, header_row: int, max_width: int = 60) -> None:
    from openpyxl.utils import get_column_letter
    widths: dict[int, int] = {}
    for row in ws.iter_rows(min_row=header_row):
        for cell in row:
            if cell.value is not None:
                widths[cell.column] = max(widths.get(cell.column, 0), _text_width(cell.value))
    for col, w in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = min(max(w + 2, 8), max_width)


def _write_header(ws, row: int, keys: list[str], lang: str, result: Evaluation | None = None) -> None:
    st = _styles()
    for j, key in enumerate(keys, start=1):
        c = ws.cell(row=row, column=j, value=_head(key, lang, result))
        c.font, c.fill, c.border = st["bold"], st["head_fill"], st["border"]


def _num_format(key: str, rule: Rule | None) -> str | None:
    if key == "coverage_share":
        return "0.0%"
    if key in ("pop", "newly_covered_pop", "units", "units_passed"):
        return "#,##0"
    if key in ("unit_cost", "cost"):
        return "#,##0"
    if key in ("lon_wgs84", "lat_wgs84", "lon_gcj02", "lat_gcj02"):
        return "0.000000"
    if key in ("required", "existing", "planned", "proposed", "deficit", "deficit_after", "surplus"):
        return "#,##0.0" if rule is not None and _is_quantity(rule) else "#,##0"
    return None


def _cell_value(v: Any) -> Any:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, (float, np.floating)):
        return None if np.isnan(v) else float(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    return v


def _note_text(note: Any, lang: str) -> Any:
    """An evaluation note in ``lang`` (each of its ``; ``-separated parts)."""
    from coverage.i18n import message_text

    if not isinstance(note, str) or not note:
        return note
    return "; ".join(message_text(part, lang) for part in note.split("; "))


def _rule_sheet(ws, result: Evaluation, rule: Rule, lang: str, meta: Mapping[str, Any] | None,
                proposed: Mapping[tuple[str, str], float] | None = None) -> None:
    st = _styles()
    rows = _rule_rows(result, rule)
    ws.cell(row=1, column=1, value=f"{rule.id}  {rule.name(lang)}").font = st["title"]
    ws.cell(row=2, column=1, value=f"{_l(_TEXT, 'source_label', lang)}: {rule.source.cite(lang)}")
    ws.cell(row=3, column=1, value=f"{_l(_TEXT, 'params_label', lang)}: {rule.describe(lang)}")
    ws.cell(row=4, column=1, value=f"{_l(_TEXT, 'date_label', lang)}: {_data_date(result, meta, lang)}")
    keys = ["unit", "unit_id", "unit_type", "pop", "measure", "required", "existing", "planned", "deficit"]
    with_prop = proposed is not None and rule.kind in ("per_capita_count", "presence") and not rule.unit_column
    if with_prop:
        keys += ["proposed", "deficit_after"]
    keys += ["surplus", "status"]
    if rule.kind == "proximity":
        keys.append("coverage_share")
    keys.append("note")
    header = _header_block(ws, 6, result, lang, meta) + 1
    _write_header(ws, header, keys, lang, result)

    def add_proposed(values: dict, n: float) -> dict:
        if with_prop:
            values["proposed"], values["deficit_after"] = n, _deficit_after(values.get("deficit"), n)
        return values

    r = header
    for rec in rows.to_dict("records"):
        r += 1
        uid = "" if rec["unit_id"] is None or pd.isna(rec["unit_id"]) else str(rec["unit_id"])
        rec = add_proposed(dict(rec), (proposed or {}).get((rule.id, uid), 0.0))
        for j, key in enumerate(keys, start=1):
            v = rec[key]
            if key == "status":
                v = _status_text(v, lang)
            elif key == "measure":
                v = _l(_MEASURE, v, lang)
            elif key == "note":
                v = _note_text(v, lang)
            c = ws.cell(row=r, column=j, value=_cell_value(v))
            fmt = _num_format(key, rule)
            if fmt:
                c.number_format = fmt
            if key == "status" and rec["status"] == "fail":
                c.font = st["fail_font"]
    tot = result.totals[result.totals["rule_id"] == rule.id]
    if len(tot) and not rule.citywide:
        rec = tot.iloc[0].to_dict()
        r += 1
        values = {"unit": _l(_TEXT, "total", lang), "pop": rec["pop"], "required": rec["required"],
                  "existing": rec["existing"], "planned": rec["planned"], "deficit": rec["deficit"],
                  "surplus": rec["surplus"],
                  "status": _status_text(rec["status"], lang), "coverage_share": rec["coverage_share"],
                  "measure": _l(_MEASURE, rec["measure"], lang), "note": _note_text(rec["note"], lang)}
        n_prop = sum(v for (rid, _), v in (proposed or {}).items() if rid == rule.id)
        values = add_proposed(values, float(n_prop))
        for j, key in enumerate(keys, start=1):
            c = ws.cell(row=r, column=j, value=_cell_value(values.get(key)))
            c.font, c.fill = st["bold"], st["total_fill"]
            fmt = _num_format(key, rule)
            if fmt:
                c.number_format = fmt
    ws.freeze_panes = ws.cell(row=header + 1, column=1)
    ws.auto_filter.ref = f"A{header}:{ws.cell(row=header, column=len(keys)).column_letter}{max(r, header)}"
    _set_widths(ws, header)


def _summary_sheet(ws, result: Evaluation, lang: str, meta: Mapping[str, Any] | None) -> None:
    st = _styles()
    ws.cell(row=1, column=1, value=_l(_TEXT, "title", lang)).font = st["title"]
    ws.cell(row=2, column=1, value=f"{_l(_TEXT, 'date_label', lang)}: {_data_date(result, meta, lang)}")
    keys = ["rule_id", "rule_name", "kind", "measure", "units", "units_passed", "required", "existing",
            "planned", "deficit", "status", "source", "parameters"]
    header = _header_block(ws, 3, result, lang, meta) + 1
    _write_header(ws, header, keys, lang, result)
    r = header
    rules = {x.id: x for x in result.rules}
    for rec in result.totals.to_dict("records"):
        rule = rules[rec["rule_id"]]
        r += 1
        values = dict(rec, rule_name=rule.name(lang), kind=_l(_KIND, rule.kind, lang),
                      measure=_l(_MEASURE, rec["measure"], lang), status=_status_text(rec["status"], lang),
                      source=rule.source.cite(lang), parameters=rule.describe(lang))
        for j, key in enumerate(keys, start=1):
            c = ws.cell(row=r, column=j, value=_cell_value(values.get(key)))
            fmt = _num_format(key, rule)
            if fmt:
                c.number_format = fmt
            if key == "status" and rec["status"] == "fail":
                c.font = st["fail_font"]
    ws.freeze_panes = ws.cell(row=header + 1, column=1)
    _set_widths(ws, header)


def _proposals_sheet(ws, prop: pd.DataFrame, costs: Costs, lang: str) -> None:
    st = _styles()
    ws.cell(row=1, column=1, value=_l(_TEXT, "proposals", lang)).font = st["title"]
    ws.cell(row=2, column=1, value=f"{_l(_TEXT, 'cost_note', lang)}: {costs.note(lang)}")
    ws.cell(row=3, column=1, value=f"{_l(_TEXT, 'coord_note', lang)}: {_l(_TEXT, 'coord_text', lang)}")
    keys = ["district", "unit_id", "facility_type", "lon_wgs84", "lat_wgs84", "lon_gcj02", "lat_gcj02",
            "newly_covered_pop", "unit_cost", "cost"]
    header = 5
    _write_header(ws, header, keys, lang)
    r = header
    ordered = prop.sort_values(["district", "newly_covered_pop"], ascending=[True, False], kind="stable")
    for district, grp in ordered.groupby("district", sort=False):
        for rec in grp.to_dict("records"):
            r += 1
            for j, key in enumerate(keys, start=1):
                v = _l(_FTYPE, rec[key], lang) if key == "facility_type" else rec[key]
                c = ws.cell(row=r, column=j, value=_cell_value(v))
                fmt = _num_format(key, None)
                if fmt:
                    c.number_format = fmt
        r += 1
        sub = {"district": f"{district} {_l(_TEXT, 'subtotal', lang)}",
               "newly_covered_pop": float(grp["newly_covered_pop"].sum()), "cost": float(grp["cost"].sum())}
        for j, key in enumerate(keys, start=1):
            c = ws.cell(row=r, column=j, value=_cell_value(sub.get(key)))
            c.font, c.fill = st["bold"], st["total_fill"]
            fmt = _num_format(key, None)
            if fmt:
                c.number_format = fmt
    r += 1
    total = {"district": _l(_TEXT, "budget", lang), "newly_covered_pop": float(prop["newly_covered_pop"].sum()),
             "cost": float(prop["cost"].sum())}
    for j, key in enumerate(keys, start=1):
        c = ws.cell(row=r, column=j, value=_cell_value(total.get(key)))
        c.font, c.fill = st["bold"], st["total_fill"]
        fmt = _num_format(key, None)
        if fmt:
            c.number_format = fmt
    ws.freeze_panes = ws.cell(row=header + 1, column=1)
    _set_widths(ws, header)


def _notes_sheet(ws, result: Evaluation, lang: str, meta: Mapping[str, Any] | None,
                 costs: Costs | None) -> None:
    st = _styles()
    ws.cell(row=1, column=1, value=_l(_TEXT, "notes", lang)).font = st["title"]
    lines: list[tuple[str, Any]] = [
        (_l(_TEXT, "date_label", lang), _data_date(result, meta, lang)),
        (_l(_TEXT, "fz", lang), result.params.get("functional_zone_as")),
        (_l(_TEXT, "crs", lang), result.params.get("crs") or ""),
        (_l(_TEXT, "outside", lang), len(result.outside)),
    ]
    for k, v in (meta or {}).items():
        if k != "data_date" and v is not None:
            lines.append((str(k), v))
    r = 2
    for k, v in lines:
        r += 1
        ws.cell(row=r, column=1, value=k).font = st["bold"]
        ws.cell(row=r, column=2, value=_cell_value(v))
    for rule in result.rules:
        r += 2
        ws.cell(row=r, column=1, value=f"{_l(_TEXT, 'rule_label', lang)} {rule.id}").font = st["bold"]
        ws.cell(row=r, column=2, value=rule.name(lang))
        src = rule.source
        for k, v in ((_l(_TEXT, "source_label", lang), src.cite(lang)),
                     (_l(_TEXT, "issued", lang), f"{src.issuer} {src.year} {src.doc_number}".strip()),
                     (_l(_TEXT, "params_label", lang), rule.describe(lang)),
                     (_l(_TEXT, "doc_note", lang), src.note)):
            if v:
                r += 1
                ws.cell(row=r, column=1, value=k)
                ws.cell(row=r, column=2, value=v).alignment = st["wrap"]
    if costs is not None:
        r += 2
        ws.cell(row=r, column=1, value=_l(_TEXT, "cost_note", lang)).font = st["bold"]
        ws.cell(row=r, column=2, value=costs.note(lang))
        for t, v in costs.unit_cost.items():
            r += 1
            ws.cell(row=r, column=1, value=_l(_FTYPE, t, lang))
            ws.cell(row=r, column=2, value=v).number_format = "#,##0"
    ws.column_dimensions["A"].width = 36
    ws.column_dimensions["B"].width = 100


# --------------------------------------------------------------------------- CSV
def long_table(result: Evaluation, *, lang: str = "zh", meta: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """The shortfall rows and per-rule total rows with source, parameters and data date.

    Rules in evaluation order, units by deficit (largest first), each rule's
    total row last; column names stay the table's identifiers.
    """
    _check_result(result)
    _check_lang(lang)
    date = _data_date(result, meta, lang)
    parts = []
    for rule in _ordered_rules(result):
        rows = _rule_rows(result, rule).copy()
        if not rule.citywide:
            tot = result.totals[result.totals["rule_id"] == rule.id].copy()
            tot["unit"] = _l(_TEXT, "total", lang)
            rows = pd.concat([rows, tot[[c for c in rows.columns if c in tot.columns]]], ignore_index=True)
        rows["rule_name"] = rule.name(lang)
        rows["source"] = rule.source.cite(lang)
        rows["parameters"] = rule.describe(lang)
        parts.append(rows)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(result.table.columns))
    out["data_date"] = date
    keys = ["rule_id", "rule_name", "unit", "unit_id", "unit_type", "pop", "measure", "required", "existing",
            "planned", "deficit", "surplus", "status", "coverage_share", "note", "source", "parameters", "data_date"]
    return out.reindex(columns=keys)


def export_csv(result: Evaluation, path: str | Path, *, lang: str = "zh",
               meta: Mapping[str, Any] | None = None) -> Path:
    """Write the shortfall rows (and per-rule totals) as CSV, UTF-8 with BOM.

    Parameters
    ----------
    result
        Output of :func:`coverage.standards.evaluate`.
    path
        Target ``.csv`` file; replaced atomically.
    lang
        ``"zh"`` (Chinese headers and labels, default) or ``"en"``.
    meta
        ``data_date`` overrides the one given to ``evaluate``.

    Returns
    -------
    pathlib.Path
        The file written. Every row carries the rule's source document, the
        parameters used and the data date; the BOM lets Excel show Chinese.
    """
    path = _check_target(path)
    out = long_table(result, lang=lang, meta=meta)
    out["status"] = out["status"].map(lambda s: _status_text(s, lang))
    out["measure"] = out["measure"].map(lambda m: _l(_MEASURE, m, lang) if isinstance(m, str) else m)
    out["note"] = out["note"].map(lambda v: _note_text(v, lang))
    out.columns = [_head(c, lang, result) for c in out.columns]
    return _atomic_write(path, lambda tmp: spreadsheet_csv(out, tmp))


# --------------------------------------------------------------------------- GIS
def _field(rule_id: str) -> str:
    return rule_id.replace("-", "_").replace(".", "_")


def units_with_deficits(result: Evaluation) -> Any:
    """Units (GeoDataFrame, CRS of the input) with one set of columns per rule.

    Columns ``<rule>__required``, ``<rule>__existing``, ``<rule>__deficit``,
    ``<rule>__status`` (rule ids with ``-`` turned into ``_``), plus
    ``deficit_total`` (sum of count deficits over ``per_capita_count`` and
    ``presence`` rules on facilities). Citywide rules are left out.
    """
    import geopandas as gpd
    _check_result(result)
    if result.units is None:
        raise InputError("the evaluated units had no geometry, so there is nothing to map.",
                         fix="evaluate units given as a GeoDataFrame with polygons, or use export_csv")
    out = result.units.copy()
    key = out["unit_id"].astype(str)
    count_deficit = pd.Series(0.0, index=out.index)
    t = result.table.copy()
    t["key"] = t["unit_id"].where(t["unit_id"].notna(), t["unit"]).astype(str)
    for rule in _ordered_rules(result):
        if rule.citywide:
            continue
        rows = t[t["rule_id"] == rule.id].set_index("key")
        f = _field(rule.id)
        for c in ("required", "existing", "deficit"):
            out[f"{f}__{c}"] = key.map(rows[c]).astype(float).to_numpy()
        out[f"{f}__status"] = key.map(rows["status"]).to_numpy()
        if rule.kind in ("per_capita_count", "presence") and not rule.unit_column:
            count_deficit += key.map(rows["deficit"]).fillna(0.0).astype(float).to_numpy()
    out["deficit_total"] = count_deficit
    return gpd.GeoDataFrame(out, geometry="geometry", crs=result.units.crs)


def _metadata(result: Evaluation, lang: str, meta: Mapping[str, Any] | None) -> dict:
    return {
        "data_date": _data_date(result, meta, lang),
        "functional_zone_as": result.params.get("functional_zone_as"),
        "rules": [{"id": r.id, "name": r.name(lang), "kind": r.kind, "source": r.source.cite(lang),
                   "source_title": r.source.title, "source_issuer": r.source.issuer, "source_year": r.source.year,
                   "source_section": r.source.section, "parameters": r.describe(lang),
                   "fields": f"{_field(r.id)}__*"} for r in _ordered_rules(result)],
        **{str(k): v for k, v in (meta or {}).items() if k != "data_date"},
    }


def export_geojson(result: Evaluation, path: str | Path, *, lang: str = "zh",
                   meta: Mapping[str, Any] | None = None) -> Path:
    """Write the units with their deficits as GeoJSON in WGS84.

    Parameters
    ----------
    result
        Output of :func:`coverage.standards.evaluate` on units with polygons.
    path
        Target ``.geojson`` file; replaced atomically.
    lang
        Language of the rule names and citations in the metadata.
    meta
        Extra facts for the metadata; ``data_date`` overrides the one given
        to ``evaluate``.

    Returns
    -------
    pathlib.Path
        The file written: a FeatureCollection whose features carry the
        columns of :func:`units_with_deficits` and whose top-level
        ``metadata`` member lists every rule's source, parameters and the
        data date.
    """
    _check_lang(lang)
    path = _check_target(path)
    gdf = units_with_deficits(result)
    if gdf.crs is not None:
        gdf = gdf.to_crs(WGS84)
    doc = json.loads(gdf.to_json(drop_id=True, na="null"))
    doc["metadata"] = _metadata(result, lang, meta)

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, ensure_ascii=False)

    return _atomic_write(path, write)


def export_gpkg(result: Evaluation, path: str | Path, *, lang: str = "zh", proposals: Any = None,
                costs: Mapping[str, float] | str | Path | Costs | None = None,
                meta: Mapping[str, Any] | None = None) -> Path:
    """Write units with deficits, the shortfall rows and rule metadata to a GeoPackage.

    Layers: ``units`` (:func:`units_with_deficits`, the units' CRS),
    ``shortfall`` (one feature per unit and rule), ``totals`` and ``rules``
    (attribute tables: totals per rule; source, parameters and data date per
    rule), and ``proposals`` when given (see :func:`proposals_table`).

    Parameters
    ----------
    result
        Output of :func:`coverage.standards.evaluate` on units with polygons.
    path
        Target ``.gpkg`` file; replaced atomically.
    lang
        Language of rule names, citations and parameters.
    proposals, costs
        Optional proposed sites and unit costs.
    meta
        ``data_date`` overrides the one given to ``evaluate``.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    import geopandas as gpd
    import pyogrio

    _check_lang(lang)
    path = _check_target(path)
    units = units_with_deficits(result)
    table = result.table.copy()
    table["key"] = table["unit_id"].where(table["unit_id"].notna(), table["unit"]).astype(str)
    geo = dict(zip(units["unit_id"].astype(str), units.geometry))
    table = table[~table["unit_type"].eq("市")]
    table["passed"] = table["passed"].astype(object).where(table["passed"].notna(), None)
    shortfall = gpd.GeoDataFrame(table.drop(columns=["key"]), geometry=table["key"].map(geo).tolist(),
                                 crs=units.crs)
    md = _metadata(result, lang, meta)
    rules = pd.DataFrame(md["rules"])
    rules["data_date"] = md["data_date"]
    totals = result.totals.copy()
    totals["passed"] = totals["passed"].astype(object).where(totals["passed"].notna(), None)
    prop = None
    if proposals is not None:
        prop_t = proposals_table(proposals, result=result, costs=costs)
        prop = gpd.GeoDataFrame(prop_t, geometry=proposals.geometry.values, crs=proposals.crs)

    def write(tmp: Path) -> None:
        pyogrio.write_dataframe(units, tmp, layer="units", driver="GPKG")
        pyogrio.write_dataframe(shortfall, tmp, layer="shortfall", driver="GPKG", append=False)
        pyogrio.write_dataframe(totals, tmp, layer="totals", driver="GPKG")
        pyogrio.write_dataframe(rules, tmp, layer="rules", driver="GPKG")
        if prop is not None:
            pyogrio.write_dataframe(prop, tmp, layer="proposals", driver="GPKG")

    return _atomic_write(path, write)
