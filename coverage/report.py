"""Budget-request report: one PDF (and the map as PNG) in Chinese or English.

:func:`prepare_report` gathers what a budget request needs from a study area
(standards evaluation, coverage, proposed sites, catchments);
:func:`write_report` lays it out with reportlab:

1. title, study area, date, scenario, planning standard with its cited
   documents, travel mode and threshold, data vintage, key figures, and the
   map (districts, basemap roads, existing facilities by type, planned and
   proposed sites, legend, scale bar, north arrow);
2. the shortfall per district for every rule (required, existing, planned,
   proposed, deficit), the same numbers as the XLSX export;
3. the proposed sites with district, coordinates, residents newly covered
   and estimated cost, and the coverage-versus-sites curve;
4. the catchments per facility (residents served, area, load).

The map is drawn without a browser by matplotlib from the same layers as the
web map, in the study area's metric CRS. Chinese text needs a CJK font that
reportlab can embed (TrueType outlines, e.g. WenQuanYi Micro Hei from the
Debian package ``fonts-wqy-microhei``, SimHei, Microsoft YaHei); the font is
found on the system (or named by ``$CULTCOV_CJK_FONT``), and a Chinese report
without one stops with a message naming the package. An English report works
without it (names with Chinese characters then fall back to their English
names or ids).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from . import export as ex
from . import workflow as wf
from .errors import InputError, Problem
from .i18n import facility_type_label, t
from .study_area import StudyArea

__all__ = [
    "CJK_FONT_PACKAGE",
    "FONT_ENV",
    "CJKFont",
    "ReportData",
    "find_cjk_font",
    "map_png",
    "curve_png",
    "prepare_report",
    "report_pdf_bytes",
    "write_report",
]

#: Environment variable naming a CJK font file to use.
FONT_ENV = "CULTCOV_CJK_FONT"
#: Debian/Ubuntu package with a CJK font reportlab can embed.
CJK_FONT_PACKAGE = "fonts-wqy-microhei"

#: Font files with Chinese characters, best first (TrueType outlines first).
_CJK_FILES = ("wqy-microhei.ttc", "wqy-zenhei.ttc", "simhei.ttf", "msyh.ttc", "msyh.ttf", "simsun.ttc",
              "droidsansfallbackfull.ttf", "droidsansfallback.ttf", "notosanssc-regular.ttf",
              "sourcehansanssc-regular.ttf", "uming.ttc", "ukai.ttc", "arial unicode.ttf",
              "notosanscjk-regular.ttc", "notosanscjksc-regular.otf", "sourcehansanssc-regular.otf")
_CJK_FAMILIES = re.compile(r"WenQuanYi|Noto Sans CJK|Noto Sans SC|Source Han Sans|SimHei|Microsoft YaHei|"
                           r"Droid Sans Fallback|AR PL|Heiti|PingFang", re.I)
_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.fonts", "~/.local/share/fonts",
              "/Library/Fonts", "/System/Library/Fonts", "C:/Windows/Fonts")
_CJK_CHAR = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")


@dataclass(frozen=True)
class CJKFont:
    """A font file with Chinese characters.

    Attributes
    ----------
    path
        The font file.
    index
        Face index inside a ``.ttc`` collection.
    embeddable
        True when reportlab can embed it in a PDF (TrueType outlines).
    """

    path: Path
    index: int = 0
    embeddable: bool = True


def _font_candidates() -> list[Path]:
    found: list[Path] = []
    env = os.environ.get(FONT_ENV, "").strip()
    if env:
        found.append(Path(env).expanduser())
    files: dict[str, Path] = {}
    for d in _FONT_DIRS:
        root = Path(d).expanduser()
        if not root.is_dir():
            continue
        for dirpath, _dirs, names in os.walk(root):
            for n in names:
                if n.lower() in _CJK_FILES:
                    files.setdefault(n.lower(), Path(dirpath) / n)
    found += [files[n] for n in _CJK_FILES if n in files]
    try:
        from matplotlib import font_manager

        found += [Path(f.fname) for f in font_manager.fontManager.ttflist if _CJK_FAMILIES.search(f.name)]
    except Exception:  # noqa: BLE001 - matplotlib's font cache is only a further hint
        pass
    out: list[Path] = []
    for p in found:
        if p not in out:
            out.append(p)
    return out


def _embeddable(path: Path, index: int) -> bool:
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    try:
        TTFont("cultcov-probe", str(path), subfontIndex=index)
    except (TTFError, OSError, ValueError, KeyError, IndexError):
        return False
    return True


def find_cjk_font(*, embeddable: bool = True) -> CJKFont | None:
    """A font with Chinese characters on this system, or None.

    Parameters
    ----------
    embeddable
        Only fonts reportlab can embed in a PDF (TrueType outlines); with
        False, any CJK font matplotlib can draw with.

    Returns
    -------
    CJKFont or None
        ``$CULTCOV_CJK_FONT`` first, then known files under the usual font
        folders (WenQuanYi, SimHei, Microsoft YaHei, Droid Sans Fallback,
        Noto/Source Han Sans...), then matplotlib's font list.
    """
    for path in _font_candidates():
        if not path.is_file():
            continue
        if not embeddable:
            return CJKFont(path, 0, _embeddable(path, 0))
        if _embeddable(path, 0):
            return CJKFont(path, 0, True)
    return None


def _require_font(lang: str) -> CJKFont | None:
    font = find_cjk_font()
    if font is None and lang == "zh":
        raise InputError(Problem(
            "no font with Chinese characters that can be embedded in a PDF was found, so the Chinese "
            "report cannot be written.",
            fix=f"install one, e.g. `apt-get install {CJK_FONT_PACKAGE}` (Debian/Ubuntu), or set "
                f"{FONT_ENV}=/path/to/font.ttf (a TrueType font such as SimHei), or make the report in "
                "English (lang='en', --lang en)"))
    return font


# --------------------------------------------------------------------------- data
@dataclass(frozen=True)
class ReportData:
    """Everything the report shows.

    Attributes
    ----------
    area
        The study area.
    preset
        The standards preset id.
    evaluation
        :func:`coverage.workflow.evaluate_standards` of ``facilities``.
    access
        Coverage by ``facilities`` at the report's mode and threshold.
    facilities
        Existing facilities plus a scenario's planned ones (``planned`` column).
    proposal
        Proposed sites (:class:`coverage.workflow.SitingProposal`) or None.
    catchments
        :func:`coverage.workflow.facility_catchments` of the facilities and
        the proposed sites, or None when there are none of the counted types.
    meta
        ``study_area``, ``scenario``, ``mode``, ``threshold_min``, ``data_date``.
    """

    area: StudyArea
    preset: str
    evaluation: Any
    access: wf.AccessResult
    facilities: gpd.GeoDataFrame
    proposal: wf.SitingProposal | None
    catchments: gpd.GeoDataFrame | None
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def proposals(self) -> pd.DataFrame | None:
        """:func:`coverage.export.proposals_table` of the proposed sites, or None."""
        if self.proposal is None or len(self.proposal.sites) == 0:
            return None
        return ex.proposals_table(self.proposal.sites, result=self.evaluation)


def prepare_report(area: StudyArea, preset: str, *, access_params: wf.AccessParams | None = None,
                   siting: wf.SitingParams | None = None, proposal: wf.SitingProposal | None = None,
                   facilities: gpd.GeoDataFrame | None = None, scenario: str | None = None,
                   evaluation: Any = None, access: wf.AccessResult | None = None) -> ReportData:
    """Compute what the report shows (pass results already computed to reuse them).

    Parameters
    ----------
    area
        The study area.
    preset
        Standards preset id.
    access_params
        Types, mode and threshold of coverage and catchments; default the
        siting's mode and threshold with the reading-space types.
    siting
        A siting question to answer when ``proposal`` is not given.
    proposal
        Proposed sites already computed.
    facilities
        The facility layer (a scenario's, with ``planned``); default the area's.
    scenario
        The scenario's name, if any.
    evaluation, access
        Results already computed for ``facilities``.

    Returns
    -------
    ReportData
    """
    fac = area.facilities if facilities is None else facilities
    if access_params is None:
        access_params = (wf.AccessParams(mode=siting.mode, threshold_min=siting.threshold_min)
                         if siting is not None else wf.AccessParams())
    if evaluation is None:
        evaluation = wf.evaluate_standards(area, preset, facilities=fac,
                                           with_access=area.network_source is not None)
    if access is None:
        access = wf.access_analysis(area, access_params, facilities=fac)
    if proposal is None and siting is not None:
        proposal = wf.propose_sites(area, siting, facilities=fac)
    with_sites = fac
    if proposal is not None and len(proposal.sites):
        with_sites = wf.add_facilities(fac, proposal.sites)
    types = tuple(dict.fromkeys(access_params.facility_types + (
        tuple(proposal.sites["facility_type"].unique()) if proposal is not None else ())))
    try:
        catchments = wf.facility_catchments(area, wf.AccessParams(
            facility_types=types, mode=access_params.mode, threshold_min=access_params.threshold_min,
            public_only=access_params.public_only, settings=access_params.settings),
            facilities=with_sites, preset=preset)
    except InputError:
        catchments = None
    meta = {"study_area": area.name, "scenario": scenario, "mode": access_params.mode,
            "threshold_min": access_params.threshold_min, "data_date": area.data_date or None}
    return ReportData(area, preset, evaluation, access, fac, proposal, catchments, meta)


# --------------------------------------------------------------------------- text helpers
def _text(value: Any, lang: str, font: CJKFont | None, fallback: Any = "") -> str:
    """``value`` as text; without a CJK font, text with Chinese characters becomes ``fallback``."""
    s = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    if font is None and _CJK_CHAR.search(s):
        fb = "" if fallback is None or (isinstance(fallback, float) and np.isnan(fallback)) else str(fallback)
        return fb if fb and not _CJK_CHAR.search(fb) else _CJK_CHAR.sub("?", s)
    return s


def _num(v: Any, digits: int = 0) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)) or v is pd.NA:
        return "–"
    return f"{float(v):,.{digits}f}"


def _district_en(area: StudyArea) -> dict[str, str]:
    b = area.boundaries
    if "name_en" not in b.columns:
        return {}
    return {str(n): str(e) for n, e in zip(b["name"], b["name_en"]) if isinstance(e, str) and e.strip()}


# --------------------------------------------------------------------------- figures
def _mpl_font(font: CJKFont | None):
    from matplotlib.font_manager import FontProperties

    return FontProperties(fname=str(font.path)) if font is not None else FontProperties(family="DejaVu Sans")


def _nice_length(span_m: float) -> float:
    target = span_m / 5.0
    for v in (100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000, 100000):
        if v >= target * 0.6:
            return float(v)
    return 100000.0


def _scale_bar(ax, x0: float, y0: float, x1: float, y1: float, fp) -> None:
    from matplotlib.patches import Rectangle

    length = _nice_length(x1 - x0)
    h = (y1 - y0) * 0.012
    bx, by = x1 - (x1 - x0) * 0.05 - length, y0 + (y1 - y0) * 0.05
    ax.add_patch(Rectangle((bx - length * 0.08, by - h * 2.2), length * 1.16, h * 6.2, facecolor="white",
                           edgecolor="none", alpha=0.85, zorder=9))
    for i in range(4):
        ax.add_patch(Rectangle((bx + i * length / 4, by), length / 4, h, facecolor="black" if i % 2 == 0
                               else "white", edgecolor="black", linewidth=0.6, zorder=10))
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(bx, by + h * 1.6, "0", ha="center", va="bottom", fontsize=7, zorder=10, fontproperties=fp)
    ax.text(bx + length, by + h * 1.6, label, ha="center", va="bottom", fontsize=7, zorder=10, fontproperties=fp)


def _north_arrow(ax, x0: float, y0: float, x1: float, y1: float, lang: str, fp) -> None:
    x = x0 + (x1 - x0) * 0.06
    ytop = y1 - (y1 - y0) * 0.05
    ln = (y1 - y0) * 0.08
    ax.annotate("", xy=(x, ytop), xytext=(x, ytop - ln), zorder=10,
                arrowprops=dict(facecolor="black", edgecolor="black", width=3, headwidth=10, headlength=10))
    ax.text(x, ytop - ln - (y1 - y0) * 0.01, t("rp_north", lang), ha="center", va="top", fontsize=10,
            fontweight="bold", zorder=10, fontproperties=fp,
            bbox=dict(facecolor="white", edgecolor="none", alpha=0.8, pad=1))


def _basemap_for(area: StudyArea) -> dict[str, gpd.GeoDataFrame]:
    from .mapping import default_basemap_path, load_basemap

    if not default_basemap_path().exists():
        return {}
    layers = load_basemap()
    roads = layers.get("roads")
    if roads is None or roads.empty:
        return {}
    import shapely

    extent = shapely.box(*gpd.GeoSeries([area.extent], crs=area.crs).to_crs(roads.crs).total_bounds)
    if not extent.intersects(shapely.box(*roads.total_bounds)):
        return {}
    return {k: v.to_crs(area.crs) for k, v in layers.items() if k != "labels"}


def map_png(data: ReportData, lang: str = "zh", *, dpi: int = 150, font: CJKFont | None = None) -> bytes:
    """The report's map as PNG bytes (matplotlib, no browser).

    Districts, basemap roads, water and green space (when the offline basemap
    covers the area), existing facilities by type, planned and proposed
    sites, with a legend, a scale bar and a north arrow, in the area's metric
    CRS (grid north).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from .mapping import FACILITY_COLOURS

    ex._check_lang(lang)
    font = font if font is not None else find_cjk_font(embeddable=False)
    fp = _mpl_font(font)
    area = data.area
    x0, y0, x1, y1 = area.extent.bounds
    pad = max(x1 - x0, y1 - y0) * 0.02
    x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
    fig = Figure(figsize=(7.0, 7.0 * (y1 - y0) / (x1 - x0)), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_facecolor("#f4f2ee")
    fig.patch.set_facecolor("#f4f2ee")
    handles: list[Any] = []
    base = _basemap_for(area)
    for name, colour in (("green", "#d3e8c7"), ("water", "#aed3e3")):
        if name in base and not base[name].empty:
            base[name].plot(ax=ax, color=colour, linewidth=0, zorder=1)
    if "waterways" in base and not base["waterways"].empty:
        base["waterways"].plot(ax=ax, color="#aed3e3", linewidth=1.2, zorder=1)
    roads = base.get("roads")
    if roads is not None and not roads.empty:
        for cls, colour, width in (("path", "#dcd6cc", 0.2), ("minor", "#cfc8bb", 0.35),
                                   ("secondary", "#a89f8f", 0.7), ("major", "#d9953b", 1.3)):
            part = roads[roads["road_class"] == cls]
            if not part.empty:
                part.plot(ax=ax, color=colour, linewidth=width, zorder=2)
        handles.append(Line2D([], [], color="#d9953b", linewidth=1.3, label=t("rp_roads", lang)))
    import shapely

    clip = shapely.box(x0, y0, x1, y1)
    b = area.boundaries.copy()
    b["geometry"] = b.geometry.intersection(clip)
    b = b[~b.geometry.is_empty]
    b.boundary.plot(ax=ax, color="#5a4a78", linewidth=1.2, zorder=3)
    handles.append(Line2D([], [], color="#5a4a78", linewidth=1.2, label=t("rp_districts", lang)))
    en = _district_en(area)
    for name, geom in zip(b["name"].astype(str), b.geometry):
        if geom.area < (x1 - x0) * (y1 - y0) * 0.004:
            continue
        p = geom.representative_point()
        label = en.get(name, name) if lang == "en" else name
        ax.text(p.x, p.y, _text(label, lang, font, en.get(name, "")), ha="center", va="center", fontsize=11,
                color="#5a4a78", alpha=0.85, zorder=4, fontproperties=fp,
                bbox=dict(facecolor="white", edgecolor="none", alpha=0.55, pad=1.5))
    fac = data.facilities
    planned = fac["planned"].astype(object).where(fac["planned"].notna(), False).astype(bool) \
        if "planned" in fac.columns else pd.Series(False, index=fac.index)
    existing = fac[~planned.to_numpy()]
    for ftype in [k for k in FACILITY_COLOURS if k in set(existing["type"])]:
        part = existing[existing["type"] == ftype]
        ax.scatter(part.geometry.x, part.geometry.y, s=34, c=FACILITY_COLOURS[ftype], edgecolors="black",
                   linewidths=0.6, zorder=5)
        handles.append(Line2D([], [], marker="o", linestyle="", markersize=6, markerfacecolor=FACILITY_COLOURS[ftype],
                              markeredgecolor="black",
                              label=f"{t('rp_existing', lang)}: {facility_type_label(ftype, lang)}"))
    plan = fac[planned.to_numpy()]
    if len(plan):
        ax.scatter(plan.geometry.x, plan.geometry.y, s=44, marker="s", c="#ffd166", edgecolors="black",
                   linewidths=0.8, zorder=6)
        handles.append(Line2D([], [], marker="s", linestyle="", markersize=7, markerfacecolor="#ffd166",
                              markeredgecolor="black", label=t("rp_planned", lang)))
    if data.proposal is not None and len(data.proposal.sites):
        s = data.proposal.sites
        ax.scatter(s.geometry.x, s.geometry.y, s=150, marker="*", c="#d62828", edgecolors="black",
                   linewidths=0.6, zorder=7)
        for sid, g in zip(s["site_id"], s.geometry):
            ax.annotate(str(sid), (g.x, g.y), xytext=(5, 5), textcoords="offset points", fontsize=7.5,
                        fontweight="bold", color="#8b0000", zorder=8, fontproperties=fp)
        handles.append(Line2D([], [], marker="*", linestyle="", markersize=11, markerfacecolor="#d62828",
                              markeredgecolor="black", label=t("rp_proposed", lang)))
    leg = ax.legend(handles=handles, loc="upper right", fontsize=7.5, frameon=True, framealpha=0.92,
                    prop=fp.copy())
    for txt in leg.get_texts():
        txt.set_fontsize(7.5)
    _scale_bar(ax, x0, y0, x1, y1, fp)
    _north_arrow(ax, x0, y0, x1, y1, lang, fp)
    ax.text((x0 + x1) / 2, y0 + (y1 - y0) * 0.008, "© OpenStreetMap contributors (ODbL)", fontsize=6,
            ha="center", color="#555", zorder=10, bbox=dict(facecolor="white", edgecolor="none", alpha=0.7, pad=1))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor=fig.get_facecolor())
    return buf.getvalue()


def curve_png(proposal: wf.SitingProposal, lang: str = "zh", *, dpi: int = 150,
              font: CJKFont | None = None) -> bytes | None:
    """The coverage-versus-sites curve as PNG bytes, or None without a curve."""
    if proposal is None or proposal.curve is None or len(proposal.curve) == 0:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    font = font if font is not None else find_cjk_font(embeddable=False)
    fp = _mpl_font(font)
    c = proposal.curve
    total = proposal.total_pop or 1.0
    x = np.concatenate([[0], c["p"].to_numpy(int)])
    y = np.concatenate([[proposal.base_covered_pop / total], c["covered_share"].to_numpy(float)]) * 100
    fig = Figure(figsize=(6.4, 2.8), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(x, y, marker="o", color="#d62828", linewidth=1.6, markersize=4)
    for xi, yi in zip(x, y):
        ax.annotate(f"{yi:.1f}", (xi, yi), xytext=(0, 5), textcoords="offset points", ha="center", fontsize=6.5)
    ax.set_xlabel(t("rp_curve_x", lang), fontproperties=fp)
    ax.set_ylabel(t("rp_curve_y", lang), fontproperties=fp)
    ax.set_xticks(x)
    ax.grid(True, linewidth=0.4, alpha=0.6)
    ax.set_ylim(max(0.0, float(y.min()) - 5), min(100.0, float(y.max()) + 6))
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


# --------------------------------------------------------------------------- PDF
def _styles(font_name: str, bold_name: str):
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle

    base = dict(fontName=font_name, leading=13, fontSize=9.5, textColor=colors.HexColor("#222222"))
    return {
        "title": ParagraphStyle("title", **{**base, "fontName": bold_name, "fontSize": 18, "leading": 24,
                                            "spaceAfter": 8}),
        "h2": ParagraphStyle("h2", **{**base, "fontName": bold_name, "fontSize": 13, "leading": 18,
                                      "spaceBefore": 6, "spaceAfter": 5}),
        "h3": ParagraphStyle("h3", **{**base, "fontName": bold_name, "fontSize": 10.5, "leading": 14,
                                      "spaceBefore": 6, "spaceAfter": 3}),
        "body": ParagraphStyle("body", **base),
        "small": ParagraphStyle("small", **{**base, "fontSize": 8, "leading": 10.5,
                                            "textColor": colors.HexColor("#444444")}),
        "cell": ParagraphStyle("cell", **{**base, "fontSize": 8, "leading": 10}),
    }


def _esc(s: str) -> str:
    from xml.sax.saxutils import escape

    return escape(s)


def _table(rows: list[list[str]], widths: list[float], font_name: str, bold_name: str, *,
           total_last: bool = False, numeric_from: int = 1):
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    tbl = Table(rows, colWidths=widths, repeatRows=1)
    style = [
        ("FONT", (0, 0), (-1, -1), font_name, 7.8),
        ("FONT", (0, 0), (-1, 0), bold_name, 7.8),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde7f0")),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.HexColor("#808080")),
        ("ALIGN", (numeric_from, 1), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f7f7f7")]),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if total_last and len(rows) > 1:
        style += [("FONT", (0, -1), (-1, -1), bold_name, 7.8),
                  ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#eeeeee")),
                  ("LINEABOVE", (0, -1), (-1, -1), 0.6, colors.HexColor("#808080"))]
    tbl.setStyle(TableStyle(style))
    return tbl


def _wrap_header(rows: list[list[str]], style) -> list[list[Any]]:
    from reportlab.platypus import Paragraph

    return [[Paragraph(_esc(h), style) for h in rows[0]]] + rows[1:]


def _fonts(font: CJKFont | None) -> tuple[str, str]:
    if font is None:
        return "Helvetica", "Helvetica-Bold"
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    name = "CultcovCJK"
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, str(font.path), subfontIndex=font.index))
    return name, name


def _key_figures(data: ReportData, lang: str, font: CJKFont | None) -> list[list[str]]:
    acc = data.access
    rows = [[t("rp_covered", lang),
             f"{_num(acc.covered_pop)} / {_num(acc.total_pop)} ({acc.covered_share * 100:.1f}%)"]]
    prop = data.proposals
    if data.proposal is not None and prop is not None:
        after = data.access.covered_pop + float(prop["newly_covered_pop"].sum())
        rows.append([t("rp_covered_after", lang),
                     f"{_num(after)} / {_num(acc.total_pop)} ({after / acc.total_pop * 100:.1f}%)"
                     if acc.total_pop else "–"])
        rows.append([t("rp_n_sites", lang), f"{len(prop)}"])
        rows.append([t("rp_total_cost", lang), _num(float(prop["cost"].sum()))])
    for rule in data.evaluation.rules:
        tot = data.evaluation.totals[data.evaluation.totals["rule_id"] == rule.id]
        if len(tot) and pd.notna(tot["deficit"].iloc[0]):
            measure = ex._l(ex._MEASURE, str(tot["measure"].iloc[0]), lang)
            rows.append([f"{t('rp_deficit_total', lang)}: {rule.id}",
                         f"{_num(tot['deficit'].iloc[0], 1 if ex._is_quantity(rule) else 0)} {measure}"])
    return [[_text(a, lang, font), _text(b, lang, font)] for a, b in rows]


def report_pdf_bytes(data: ReportData, lang: str = "zh", *, today: dt.date | None = None,
                     map_bytes: bytes | None = None) -> bytes:
    """The budget-request report as PDF bytes (see :func:`write_report`)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    ex._check_lang(lang)
    font = _require_font(lang)
    font_name, bold_name = _fonts(font)
    st = _styles(font_name, bold_name)
    today = today or dt.date.today()
    ev = data.evaluation
    en_names = _district_en(data.area)

    def para(text: str, style: str = "body") -> Any:
        return Paragraph(_esc(_text(text, lang, font)), st[style])

    width = A4[0] - 36 * mm
    story: list[Any] = [para(t("rp_title", lang), "title")]
    facts = [[t("rp_date", lang), today.isoformat()]] + [list(p) for p in ex.header_facts(ev, lang, data.meta)]
    rows = [[Paragraph(_esc(_text(a, lang, font)), st["cell"]), Paragraph(_esc(_text(b, lang, font)), st["cell"])]
            for a, b in facts]
    info = Table(rows, colWidths=[38 * mm, width - 38 * mm])
    info.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                              ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                              ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#cccccc"))]))
    story += [info, Spacer(1, 4 * mm), para(t("rp_summary", lang), "h3")]
    kf = _key_figures(data, lang, font)
    story.append(_table([[t("rp_summary", lang), ""]] + kf, [width * 0.55, width * 0.45], font_name, bold_name))
    story += [PageBreak(), para(t("rp_map", lang), "h2")]
    png = map_bytes if map_bytes is not None else map_png(data, lang, font=find_cjk_font(embeddable=False))
    from reportlab.lib.utils import ImageReader

    iw, ih = ImageReader(io.BytesIO(png)).getSize()
    h = min(width * ih / iw, 215 * mm)
    story.append(Image(io.BytesIO(png), width=h * iw / ih, height=h))

    # shortfall per district
    story += [PageBreak(), para(t("rp_shortfall", lang), "h2")]
    prop = data.proposals
    keys = ["unit", "pop", "required", "existing", "planned", "proposed", "deficit", "deficit_after", "status"]
    for rule in [r for r in ev.rules if r.id in set(ev.table["rule_id"])]:
        story.append(para(f"{rule.id}  {rule.name(lang)}", "h3"))
        story.append(para(f"{ex._l(ex._TEXT, 'source_label', lang)}: {rule.source.cite(lang)}", "small"))
        story.append(para(f"{ex._l(ex._TEXT, 'params_label', lang)}: {rule.describe(lang)}", "small"))
        rs = ex.rule_shortfall(ev, rule.id, prop)
        cols = [k for k in keys if not (k in ("proposed", "deficit_after") and rs[k].isna().all())]
        digits = 1 if ex._is_quantity(rule) else 0
        head = [ex._head(k, lang, ev) for k in cols]
        body = []
        for rec in rs.to_dict("records"):
            total = rec["unit_id"] is None or (isinstance(rec["unit_id"], float) and np.isnan(rec["unit_id"]))
            row = []
            for k in cols:
                v = rec[k]
                if k == "unit":
                    name = ex._l(ex._TEXT, "total", lang) if total and not rule.citywide else str(v)
                    fb = en_names.get(name, rec["unit_id"])
                    row.append(_text(en_names.get(name, name) if lang == "en" else name, lang, font, fb))
                elif k == "status":
                    row.append(_text(ex._status_text(v, lang), lang, font))
                elif k == "pop":
                    row.append(_num(v))
                else:
                    row.append(_num(v, digits))
            body.append(row)
        w0, w1 = width * 0.15, width * 0.17
        widths = [w0, w1] + [(width - w0 - w1) / (len(cols) - 2)] * (len(cols) - 2)
        story.append(_table(_wrap_header([head] + body, st["cell"]), widths, font_name, bold_name,
                            total_last=not rule.citywide))
        story.append(Spacer(1, 3 * mm))
    story.append(para(ex._l(ex._TEXT, "reading_text", lang), "small"))

    # proposals and curve
    story += [PageBreak(), para(t("rp_proposals", lang), "h2")]
    if prop is None:
        story.append(para(t("rp_no_proposals", lang)))
    else:
        sites = data.proposal.sites
        head = [t("rp_site", lang)] + [ex._l(ex._HEAD, k, lang) for k in
                                       ("district", "facility_type", "lon_wgs84", "lat_wgs84",
                                        "newly_covered_pop", "cost")]
        body = []
        for sid, rec in zip(sites["site_id"], prop.to_dict("records")):
            name = str(rec["district"])
            body.append([str(sid), _text(en_names.get(name, name) if lang == "en" else name, lang, font,
                                         rec["unit_id"]),
                         _text(ex._l(ex._FTYPE, rec["facility_type"], lang), lang, font, rec["facility_type"]),
                         f"{rec['lon_wgs84']:.5f}", f"{rec['lat_wgs84']:.5f}", _num(rec["newly_covered_pop"]),
                         _num(rec["cost"])])
        body.append([_text(ex._l(ex._TEXT, "budget", lang), lang, font), "", "", "", "",
                     _num(float(prop["newly_covered_pop"].sum())), _num(float(prop["cost"].sum()))])
        widths = [width * w for w in (0.08, 0.17, 0.17, 0.12, 0.12, 0.16, 0.18)]
        story.append(_table(_wrap_header([head] + body, st["cell"]), widths, font_name, bold_name,
                            total_last=True, numeric_from=3))
        costs = ex.load_costs(None)
        story.append(para(f"{ex._l(ex._TEXT, 'cost_note', lang)}: {costs.note(lang)}", "small"))
        story.append(para(f"{ex._l(ex._TEXT, 'coord_note', lang)}: {ex._l(ex._TEXT, 'coord_text', lang)}",
                          "small"))
        curve = curve_png(data.proposal, lang, font=find_cjk_font(embeddable=False))
        if curve is not None:
            story += [Spacer(1, 4 * mm), para(t("rp_curve", lang), "h3")]
            cw, ch = ImageReader(io.BytesIO(curve)).getSize()
            story.append(Image(io.BytesIO(curve), width=width, height=width * ch / cw))

    # catchments
    story += [PageBreak(), para(t("rp_catchments", lang), "h2")]
    cat = data.catchments
    if cat is None or len(cat) == 0:
        story.append(para("–"))
    else:
        story.append(para(t("rp_catch_note", lang), "small"))
        basis = sorted(set(cat["load_basis"]))
        story.append(para("; ".join(t(f"rp_basis_{b}", lang) for b in basis), "small"))
        story.append(para(f"{t('rp_uncovered', lang)}: {_num(cat.attrs.get('uncovered_pop'))} / "
                          f"{_num(cat.attrs.get('total_pop'))}", "small"))
        head = [t("name", lang), t("type", lang), ex._l(ex._HEAD, "district", lang), t("rp_pop_nearest", lang),
                t("rp_pop_within", lang), t("rp_area_km2", lang), t("rp_ref", lang), t("rp_load", lang)]
        body = []
        order = cat.sort_values("pop_nearest", ascending=False, kind="stable")
        for rec in order.to_dict("records"):
            fid = str(rec["facility_id"])
            name = f"{t('rp_proposed', lang)} {fid[4:]}" if fid.startswith("NEW-") else str(rec["name"])
            dist = str(rec["district"])
            body.append([_text(name, lang, font, fid),
                         _text(facility_type_label(rec["type"], lang), lang, font, rec["type"]),
                         _text(en_names.get(dist, dist) if lang == "en" else dist, lang, font, rec["unit_id"]),
                         _num(rec["pop_nearest"]), _num(rec["pop_within"]), _num(rec["area_km2"], 2),
                         _num(rec["residents_per_facility"]), t(f"rp_flag_{rec['load_flag']}", lang)])
        widths = [width * w for w in (0.19, 0.15, 0.15, 0.11, 0.12, 0.08, 0.10, 0.10)]
        story.append(_table(_wrap_header([head] + body, st["cell"]), widths, font_name, bold_name,
                            numeric_from=3))

    buf = io.BytesIO()

    def footer(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(font_name, 7.5)
        canvas.setFillColor(colors.HexColor("#666666"))
        canvas.drawString(18 * mm, 10 * mm, _text(f"{t('rp_title', lang)} · {data.area.name}", lang, font))
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, t("rp_page", lang).format(n=doc.page))
        canvas.restoreState()

    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=18 * mm, title=t("rp_title", lang), author="cultcov")
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


def write_report(data: ReportData, path: str | Path, *, lang: str = "zh", png: str | Path | None = None,
                 today: dt.date | None = None) -> Path:
    """Write the budget-request report as PDF (and the map as PNG).

    Parameters
    ----------
    data
        From :func:`prepare_report`.
    path
        Target ``.pdf`` file; replaced atomically.
    lang
        ``"zh"`` (needs a CJK font, see :func:`find_cjk_font`) or ``"en"``.
    png
        Also write the map to this ``.png`` file.
    today
        The report date (default today).

    Returns
    -------
    pathlib.Path
        The PDF written.

    Raises
    ------
    InputError
        Bad ``lang``, a missing folder, or no CJK font for a Chinese report.
    """
    ex._check_lang(lang)
    target = ex._check_target(path)
    png_target = ex._check_target(png) if png is not None else None
    _require_font(lang)
    picture = map_png(data, lang, font=find_cjk_font(embeddable=False))
    pdf = report_pdf_bytes(data, lang, today=today, map_bytes=picture)
    ex._atomic_write(target, lambda tmp: tmp.write_bytes(pdf))
    if png_target is not None:
        ex._atomic_write(png_target, lambda tmp: tmp.write_bytes(picture))
    return target
