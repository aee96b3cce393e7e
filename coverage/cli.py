"""Command line ``cultcov``: study area, standards, access, siting, scenarios, batch runs.

Run ``cultcov --help`` (or ``python -m coverage.cli --help``) for the list of
subcommands and ``cultcov SUBCOMMAND --help`` for the options of each.

Every analysis subcommand works on the embedded central-Chengdu study area
unless told otherwise: ``--study CONFIG.yaml`` loads a study config (see
:func:`coverage.study_area.load_study_area`), and ``--boundaries F
--population F [--facilities F] [--network F] [--coord-system gcj02]``
assemble one from files; ``--facilities F`` alone replaces the facilities
of the embedded (or ``--study``) area.

Exit codes
----------
0
    Success.
1
    Standards were evaluated and at least one unit fails a rule (only with
    ``--fail-on-deficit``).
2
    Bad input: a missing or unusable file, a bad option value or a broken
    config. Each problem is printed on its own line to stderr.
3
    The siting problem is infeasible (e.g. district quotas cannot be met
    within the budget).
4
    Unexpected internal error (a short message; the traceback with
    ``--debug``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import traceback
import unicodedata
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence, TextIO

from .errors import InfeasibleError, InputError, Problem

__all__ = [
    "EXIT_OK",
    "EXIT_DEFICIT",
    "EXIT_INPUT",
    "EXIT_INFEASIBLE",
    "EXIT_INTERNAL",
    "build_parser",
    "main",
    "format_table",
]

EXIT_OK = 0
EXIT_DEFICIT = 1
EXIT_INPUT = 2
EXIT_INFEASIBLE = 3
EXIT_INTERNAL = 4

DEFAULT_PRESET = "zhengzhou-2022-culture-space"

_EPILOG = """\
exit codes / 退出码:
  0  ok / 成功
  1  some unit fails a standard (only with --fail-on-deficit) / 有单元未达标
  2  bad input: each problem on its own line on stderr / 输入有误
  3  infeasible siting problem / 选址问题无可行解
  4  unexpected internal error (traceback with --debug) / 内部错误

study area / 研究区: the embedded central-Chengdu data by default;
  --study CONFIG.yaml, or --boundaries F --population F [--facilities F]
  [--network F] [--coord-system gcj02]; --facilities F alone replaces the
  facilities of the default or --study area.
"""


# ------------------------------------------------------------------ text tables
def _width(text: str) -> int:
    """Display width of ``text`` in a terminal (CJK characters count 2)."""
    w = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return w


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * max(0, width - _width(text))
    return fill + text if right else text + fill


def format_table(rows: Sequence[Sequence[Any]], headers: Sequence[str], *,
                 right: Sequence[bool] | None = None) -> str:
    """Lay out rows as an aligned plain-text table (CJK-width aware).

    Parameters
    ----------
    rows
        Cell values; each is turned into text with ``str``.
    headers
        Column headers.
    right
        Per column, whether to right-align it (numbers); left-aligned by default.

    Returns
    -------
    str
        The table with a header line and a rule of dashes, no trailing newline.
    """
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in r] for r in rows]
    ncol = len(headers)
    right = list(right) if right is not None else [False] * ncol
    widths = [max(_width(r[i]) for r in cells) for i in range(ncol)]
    lines = []
    for k, r in enumerate(cells):
        lines.append("  ".join(_pad(r[i], widths[i], right[i] and k > 0) for i in range(ncol)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _num(v: Any, digits: int = 0) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "" if v is None else str(v)
    if not math.isfinite(f):
        return "-"
    return f"{f:,.{digits}f}"


def _pct(v: Any) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "-"
    return "-" if not math.isfinite(f) else f"{100 * f:.1f}%"


# ------------------------------------------------------------------ progress
class _Progress:
    """A tqdm bar on stderr, shown only on a terminal and without ``--quiet``."""

    def __init__(self, args: argparse.Namespace, total: int, desc: str, *, counts: bool = False,
                 stream: TextIO | None = None):
        from tqdm import tqdm

        stream = stream or sys.stderr
        disable = bool(getattr(args, "quiet", False)) or not _isatty(stream)
        fmt = "{desc}: {n_fmt}/{total_fmt}|{bar}| {elapsed}{postfix}" if counts else \
            "{desc}: {percentage:3.0f}%|{bar}| {elapsed}{postfix}"
        self.bar = tqdm(total=total, desc=desc, file=stream, disable=disable, leave=False, bar_format=fmt)
        self.n = 0

    def fraction(self, frac: float, text: str) -> None:
        """``propose_sites`` progress callback: ``frac`` in 0..1 of a bar of total 100."""
        target = max(self.n, int(round(min(1.0, max(0.0, float(frac))) * self.bar.total)))
        self.bar.update(target - self.n)
        self.n = target
        self.bar.set_postfix_str(text, refresh=True)

    def step(self, done: int, total: int, name: str, status: str) -> None:
        """``run_batch`` progress callback."""
        self.bar.total = total
        self.bar.update(done - self.n)
        self.n = done
        self.bar.set_postfix_str(f"{name}: {status}", refresh=True)

    def close(self) -> None:
        self.bar.close()


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


@contextlib.contextmanager
def _native_stdout_to_stderr() -> Iterator[None]:
    """Send what native solver libraries print on file descriptor 1 to stderr.

    Keeps stdout for the command's own output (so scripts can parse it).
    Does nothing when file descriptors are not available.
    """
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError, AttributeError):
        yield
        return
    try:
        os.dup2(2, 1)
        yield
    finally:
        _flush_c_stdio()
        os.dup2(saved, 1)
        os.close(saved)


def _flush_c_stdio() -> None:
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except Exception:  # noqa: BLE001 - best effort, platform dependent
        pass


# ------------------------------------------------------------------ parser
def _add_common(p: argparse.ArgumentParser, *, top: bool = False) -> None:
    default = False if top else argparse.SUPPRESS
    p.add_argument("--debug", action="store_true", default=default,
                   help="show the traceback of unexpected errors / 显示内部错误的调用栈")
    p.add_argument("-q", "--quiet", action="store_true", default=default,
                   help="no progress bar / 不显示进度条")


def _add_study(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("study area / 研究区 (default: embedded central Chengdu / 默认：成都中心城区示例)")
    g.add_argument("--study", metavar="CONFIG.yaml", help="study config YAML (see load_study_area)")
    g.add_argument("--boundaries", metavar="FILE", help="district/county polygons (GeoJSON, GPKG, SHP) / 行政区边界")
    g.add_argument("--population", metavar="FILE",
                   help="population: GeoTIFF, polygons or points with `pop`, or a grid GPKG / 人口")
    g.add_argument("--facilities", metavar="FILE", help="facility table or layer (CSV, XLSX, GIS) / 设施")
    g.add_argument("--network", metavar="FILE", help="road network (.osm, .osm.pbf, .graphml) / 路网")
    g.add_argument("--coord-system", choices=("wgs84", "gcj02", "bd09"), default=None,
                   help="coordinate system of the facility file's lon/lat (gcj02 = Amap/Tencent, bd09 = Baidu)")
    g.add_argument("--crs", metavar="EPSG", help="metric CRS (default: UTM zone of the boundaries)")


def _add_lang(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of exports / 导出语言 (zh|en)")


def _add_mode(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mode", choices=("walk", "bike", "drive"), default="walk", help="travel mode / 出行方式")
    p.add_argument("--threshold", type=float, default=15.0, metavar="MIN",
                   help="travel-time threshold in minutes / 时间阈值（分钟） (default 15)")


def build_parser() -> argparse.ArgumentParser:
    """The ``cultcov`` argument parser (subcommands and their options)."""
    parser = argparse.ArgumentParser(
        prog="cultcov",
        description="Facility-coverage planning for public-culture services / 公共文化设施覆盖规划",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_common(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=_EPILOG,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        _add_common(p)
        return p

    p = add("info", "study area summary: districts, population, facilities / 研究区概况")
    _add_study(p)
    p.set_defaults(func=cmd_info)

    p = add("presets", "list the planning-standard presets / 列出规划标准预设")
    p.set_defaults(func=cmd_presets)

    p = add("standards", "evaluate planning standards per district / 规划标准缺口评估")
    _add_study(p)
    src = p.add_mutually_exclusive_group()
    src.add_argument("--preset", metavar="ID", help=f"standards preset (default {DEFAULT_PRESET}); see `cultcov presets`")
    src.add_argument("--catalogue", metavar="FILE", help="your own standards YAML file / 自定义标准文件")
    p.add_argument("--catalogue-preset", metavar="ID", help="a preset inside --catalogue FILE")
    p.add_argument("--no-access", action="store_true",
                   help="skip road-network proximity rules (reported as no data) / 不计算路网可达")
    p.add_argument("--out", metavar="FILE", help="export: .xlsx, .csv, .geojson or .gpkg / 导出文件")
    _add_lang(p)
    p.add_argument("--fail-on-deficit", action="store_true",
                   help="exit 1 when some unit fails a rule / 有单元未达标时退出码为1")
    p.set_defaults(func=cmd_standards)

    p = add("access", "who reaches a facility within the threshold / 可达性覆盖")
    _add_study(p)
    p.add_argument("--types", metavar="T1,T2",
                   help="facility types that count (default: library,cultural_centre,culture_station,"
                        "city_reading_room)")
    _add_mode(p)
    p.add_argument("--include-non-public", action="store_true",
                   help="also count non-public facilities (e.g. university libraries)")
    p.add_argument("--out", metavar="FILE", help="per-cell travel times: .csv, .gpkg or .geojson / 格网结果")
    p.set_defaults(func=cmd_access)

    p = add("site", "propose new sites (MCLP, LSCP, p-median) / 选址优化")
    _add_study(p)
    p.add_argument("--model", choices=("mclp", "lscp", "p_median"), default="mclp", help="siting model")
    p.add_argument("--p", type=int, default=None, metavar="N", help="number of new sites (default 10) / 新增设施数")
    p.add_argument("--budget", type=float, default=None, metavar="YUAN", help="budget in yuan / 预算（元）")
    p.add_argument("--unit-cost", type=float, default=None, metavar="YUAN",
                   help="cost of one new facility (default: data/standards/costs.yaml)")
    p.add_argument("--type", dest="facility_type", default="city_reading_room", metavar="TYPE",
                   help="type of the new facilities (default city_reading_room)")
    _add_mode(p)
    p.add_argument("--candidates", choices=("cells", "kmeans"), default="cells",
                   help="candidate sites: every populated cell, or weighted k-means centres")
    p.add_argument("--n-candidates", type=int, default=300, metavar="N", help="number of k-means candidates")
    p.add_argument("--min-distance", type=float, default=0.0, metavar="M",
                   help="drop candidates closer than this to an existing facility (metres)")
    p.add_argument("--capacity", type=float, default=None, metavar="RESIDENTS",
                   help="residents one new site can serve")
    p.add_argument("--no-existing", action="store_true",
                   help="ignore existing facilities (plan from scratch) / 不计现有设施")
    p.add_argument("--quota-preset", metavar="ID",
                   help="per-district minimum counts from a standards preset's per-capita rule")
    p.add_argument("--curve", type=int, default=None, metavar="K", help="coverage curve for 1..K sites (mclp)")
    p.add_argument("--time-limit", type=float, default=30.0, metavar="S", help="solver time limit, seconds")
    p.add_argument("--out", metavar="FILE", help="proposed sites: .gpkg, .geojson or .csv / 选址结果")
    p.add_argument("--shortfall-out", metavar="FILE",
                   help="shortfall list with the proposals: .xlsx or .gpkg / 缺口清单（含选址建议）")
    p.add_argument("--preset", metavar="ID", help=f"standards preset of --shortfall-out (default {DEFAULT_PRESET})")
    p.add_argument("--no-access", action="store_true", help="skip proximity rules in --shortfall-out")
    _add_lang(p)
    p.set_defaults(func=cmd_site)

    p = add("report", "budget-request report: PDF (and the map as PNG) / 资金申请报告")
    _add_study(p)
    p.add_argument("--preset", default=DEFAULT_PRESET, metavar="ID", help=f"standards preset (default {DEFAULT_PRESET})")
    p.add_argument("--p", type=int, default=10, metavar="N", help="new sites to propose, 0 for none (default 10)")
    p.add_argument("--type", dest="facility_type", default="city_reading_room", metavar="TYPE",
                   help="type of the new facilities (default city_reading_room)")
    _add_mode(p)
    _add_lang(p)
    p.add_argument("--out", required=True, metavar="report.pdf", help="the PDF report / 报告文件")
    p.add_argument("--png", metavar="map.png", help="also write the map as PNG / 另存地图")
    p.set_defaults(func=cmd_report)

    p = add("scenario", "saved scenarios in a project store / 规划情景")
    p.add_argument("action", choices=("list", "show", "export", "delete"), help="what to do")
    p.add_argument("name", nargs="?", help="scenario name or id (show, export, delete)")
    p.add_argument("--store", required=True, metavar="project.gpkg", help="the scenario store file / 情景文件")
    p.add_argument("--out", metavar="FILE", help="export target: .xlsx, .gpkg, .csv or .geojson")
    p.add_argument("--preset", metavar="ID", help="standards preset (default: the scenario's, else "
                                                  f"{DEFAULT_PRESET})")
    p.add_argument("--no-access", action="store_true", help="skip proximity rules")
    _add_lang(p)
    _add_study(p)
    p.set_defaults(func=cmd_scenario)

    p = add("batch", "evaluate many study areas on a Dask cluster / 批量评估")
    p.add_argument("config", metavar="CONFIG.yaml", help="batch config: preset and a list of areas")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (parts/ and merged.csv)")
    p.add_argument("--workers", type=int, default=2, metavar="N", help="local worker processes (default 2)")
    p.add_argument("--threads", type=int, default=1, metavar="N", help="threads per local worker (default 1)")
    p.add_argument("--scheduler", metavar="tcp://HOST:8786", help="use a running Dask scheduler instead")
    p.add_argument("--no-resume", action="store_true", help="recompute areas already done")
    p.set_defaults(func=cmd_batch)

    p = add("area", "build a study area for a county from a local OSM file / 新建研究区")
    from .area_cli import add_arguments as _area_arguments
    _area_arguments(p)
    p.set_defaults(func=cmd_area)
    return parser


# ------------------------------------------------------------------ study area
def _load_area(args: argparse.Namespace):
    """The study area chosen by ``--study`` / the file options / the default; its notes go to stderr."""
    area = _load_area_quietly(args)
    for note in area.notes:
        print(f"note: {note}", file=sys.stderr)
    return area


def _load_area_quietly(args: argparse.Namespace):
    from .study_area import load_default, load_study_area

    files = {k: getattr(args, k, None) for k in ("boundaries", "population", "facilities", "network")}
    study = getattr(args, "study", None)
    area_files = any(v for k, v in files.items() if k != "facilities")
    if study and area_files:
        raise InputError(Problem("`--study` and the file options (--boundaries, --population, ...) were both given.",
                                 fix="use either --study CONFIG.yaml or the file options"))
    if files["facilities"] and not area_files:
        # Own facilities on the default (or --study) area, as the page accepts them.
        from .facilities import load_facilities

        if not Path(files["facilities"]).exists():
            raise InputError(Problem("`--facilities` file not found.", file=str(files["facilities"]),
                                     fix="check the path"))
        area = load_study_area(study) if study else load_default()
        return area.with_facilities(load_facilities(
            files["facilities"], crs=str(area.crs), coord_system=getattr(args, "coord_system", None) or "wgs84",
            bounds_lonlat=area.bounds_lonlat))
    if study:
        return load_study_area(study)
    if any(files.values()):
        problems = [Problem(f"`--{k}` is needed with the other file options.", fix=f"add --{k} FILE")
                    for k in ("boundaries", "population") if not files[k]]
        problems += [Problem(f"`--{k}` file not found.", file=str(v), fix="check the path")
                     for k, v in files.items() if v and not Path(v).exists()]
        if problems:
            raise InputError(problems)
        cfg: dict[str, Any] = {"name": Path(files["boundaries"]).stem,
                               "boundaries": files["boundaries"], "population": files["population"]}
        if files["facilities"]:
            fac: dict[str, Any] = {"path": files["facilities"]}
            if getattr(args, "coord_system", None):
                fac["coord_system"] = args.coord_system
            cfg["facilities"] = fac
        if files["network"]:
            cfg["network"] = files["network"]
        if getattr(args, "crs", None):
            cfg["crs"] = args.crs
        return load_study_area(cfg)
    if getattr(args, "coord_system", None) or getattr(args, "crs", None):
        raise InputError(Problem("`--coord-system` and `--crs` only apply to files given with --facilities/--boundaries.",
                                 fix="drop them, or give the study area's files"))
    return load_default()


def _out_suffix(path: str, allowed: Sequence[str], option: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in allowed:
        raise InputError(Problem(f"`{option}` {path!r} has an unsupported extension.",
                                 fix=f"use one of: {', '.join(allowed)}"))
    return suffix


def _export_evaluation(ev, path: str, *, lang: str, proposals=None, meta=None, option: str = "--out") -> Path:
    from . import export

    suffix = _out_suffix(path, (".xlsx", ".csv", ".geojson", ".gpkg"), option)
    if proposals is not None and suffix not in (".xlsx", ".gpkg"):
        raise InputError(Problem(f"`{option}` {path!r} cannot hold the proposed sites.",
                                 fix="use an .xlsx or .gpkg file"))
    if suffix == ".xlsx":
        return export.export_xlsx(ev, path, lang=lang, proposals=proposals, meta=meta)
    if suffix == ".gpkg":
        return export.export_gpkg(ev, path, lang=lang, proposals=proposals, meta=meta)
    if suffix == ".csv":
        return export.export_csv(ev, path, lang=lang, meta=meta)
    return export.export_geojson(ev, path, lang=lang, meta=meta)


# ------------------------------------------------------------------ commands
def cmd_info(args: argparse.Namespace, out: TextIO) -> int:
    """``cultcov info``."""
    from .facilities import FACILITY_TYPES

    area = _load_area(args)
    b = area.boundaries
    lon0, lat0, lon1, lat1 = area.bounds_lonlat
    print(f"Study area / 研究区: {area.name}", file=out)
    print(f"CRS: {area.crs}", file=out)
    print(f"Extent (WGS84): lon {lon0:.4f}–{lon1:.4f}, lat {lat0:.4f}–{lat1:.4f}", file=out)
    print(f"Data date / 数据日期: {area.data_date or '-'}", file=out)
    print(f"Road network / 路网: {area.network_source if area.network_source is not None else '-'}", file=out)
    print(f"Population in the grid / 格网人口: {_num(area.total_pop)} ({len(area.grid):,} cells)", file=out)
    print("", file=out)
    grid_pop = area.grid.groupby(area.grid["unit_id"].astype(str))["pop"].sum()
    rows = []
    for _, r in b.iterrows():
        uid = str(r["unit_id"])
        rows.append([uid, r.get("name", ""), r.get("name_en", "") or "", r.get("unit_type", ""),
                     _num(r.get("pop")), _num(r.get("pop_census")) if "pop_census" in b.columns else "-",
                     _num(grid_pop.get(uid, 0.0))])
    print(f"Districts / 行政区 ({len(b)}):", file=out)
    print(format_table(rows, ["unit_id", "name", "name_en", "type", "pop", "pop_census", "grid_pop"],
                       right=[False, False, False, False, True, True, True]), file=out)
    print("", file=out)
    fac = area.facilities
    counts = fac["type"].value_counts() if len(fac) else {}
    rows = []
    for key, ft in FACILITY_TYPES.items():
        n = int(counts.get(key, 0)) if len(fac) else 0
        if n:
            rows.append([key, getattr(ft, "zh", ""), n])
    print(f"Facilities / 设施 ({len(fac)}):", file=out)
    if rows:
        print(format_table(rows, ["type", "类型", "count"], right=[False, False, True]), file=out)
    return EXIT_OK


def cmd_presets(args: argparse.Namespace, out: TextIO) -> int:
    """``cultcov presets``."""
    from .standards import list_presets

    rows = [[p.id, p.name_zh, p.name_en, len(p.rule_ids)] for p in list_presets()]
    print(format_table(rows, ["id", "名称", "name", "rules"], right=[False, False, False, True]), file=out)
    return EXIT_OK


def _rules_arg(args: argparse.Namespace):
    """Preset id, catalogue path, or a Catalogue (file + preset inside it)."""
    from .standards import load_catalogue

    catalogue = getattr(args, "catalogue", None)
    inner = getattr(args, "catalogue_preset", None)
    if catalogue:
        if not Path(catalogue).is_file():
            raise InputError(Problem("standards file not found.", file=catalogue, fix="check the --catalogue path"))
        return load_catalogue(catalogue, preset=inner) if inner else load_catalogue(catalogue)
    if inner:
        raise InputError(Problem("`--catalogue-preset` needs `--catalogue FILE`.", fix="add --catalogue FILE"))
    return args.preset or DEFAULT_PRESET


def _print_evaluation(ev, out: TextIO) -> None:
    tab = ev.table
    for rule in ev.rules:
        rows_t = tab[tab["rule_id"] == rule.id]
        if rows_t.empty:
            continue
        print(f"[{rule.id}] {rule.name('zh')}", file=out)
        if rule.name("en") and rule.name("en") != rule.name("zh"):
            print(f"    {rule.name('en')}", file=out)
        digits = 0 if rule.kind in ("per_capita_count", "presence", "share_of_units", "proximity") else 1
        rows = []
        for _, r in rows_t.iterrows():
            rows.append([r["unit"], "" if r["unit_id"] is None or r["unit_id"] != r["unit_id"] else r["unit_id"],
                         r["unit_type"], _num(r["pop"]), _num(r["required"], digits), _num(r["existing"], digits),
                         _num(r["deficit"], digits), _pct(r["coverage_share"]), r["status"]])
        print(format_table(rows, ["unit", "unit_id", "type", "pop", "required", "existing", "deficit",
                                  "coverage", "status"],
                           right=[False, False, False, True, True, True, True, True, False]), file=out)
        tot = ev.totals[ev.totals["rule_id"] == rule.id]
        if len(tot):
            t = tot.iloc[0]
            print(f"total: required {_num(t['required'], digits)}, existing {_num(t['existing'], digits)}, "
                  f"deficit {_num(t['deficit'], digits)}; units passing {int(t['units_passed'])}/{int(t['units'])}",
                  file=out)
        print("", file=out)
    if len(ev.skipped):
        for _, r in ev.skipped.iterrows():
            print(f"skipped {r['rule_id']}: {r['reason']}", file=out)


def _n_failing(ev) -> int:
    return int((ev.table["status"] == "fail").sum())


def cmd_standards(args: argparse.Namespace, out: TextIO) -> int:
    """``cultcov standards``."""
    from .workflow import evaluate_standards

    rules = _rules_arg(args)
    if args.out:
        _out_suffix(args.out, (".xlsx", ".csv", ".geojson", ".gpkg"), "--out")
    area = _load_area(args)
    with_access = not args.no_access and area.network_source is not None
    ev = evaluate_standards(area, rules, with_access=with_access)
    print(f"Study area / 研究区: {area.name}; data / 数据: {area.data_date or '-'}", file=out)
    if not with_access and not args.no_access:
        print("note: the study area has no road network, so proximity rules are reported as no data.", file=out)
    print("", file=out)
    _print_evaluation(ev, out)
    failing = _n_failing(ev)
    print(f"rows failing / 未达标: {failing} of {len(ev.table)}", file=out)
    if args.out:
        path = _export_evaluation(ev, args.out, lang=args.lang, meta={"study_area": area.name})
        print(f"written / 已导出: {path}", file=out)
    if args.fail_on_deficit and failing:
        return EXIT_DEFICIT
    return EXIT_OK


def _types_arg(text: str | None) -> tuple[str, ...]:
    from .facilities import normalise_type
    from .workflow import READING_SPACE_TYPES

    if not text:
        return READING_SPACE_TYPES
    raw = [t.strip() for t in text.split(",") if t.strip()]
    types, bad = [], []
    for t in raw:
        k = normalise_type(t)
        (types.append(k) if k else bad.append(t))
    if bad or not types:
        from .facilities import FACILITY_TYPES

        raise InputError(Problem(f"`--types` has unknown facility types {bad or raw}.",
                                 fix=f"use some of: {','.join(FACILITY_TYPES)}"))
    return tuple(dict.fromkeys(types))


def cmd_access(args: argparse.Namespace, out: TextIO) -> int:
    """``cultcov access``."""
    import numpy as np

    from .workflow import AccessParams, access_analysis

    types = _types_arg(args.types)
    if args.out:
        _out_suffix(args.out, (".csv", ".gpkg", ".geojson"), "--out")
    params = AccessParams(facility_types=types, mode=args.mode, threshold_min=args.threshold,
                          public_only=not args.include_non_public)
    area = _load_area(args)
    res = access_analysis(area, params)
    thr = float(args.threshold)
    s = res.summary
    s = s[np.isclose(s["threshold_min"].astype(float), thr)]
    print(f"Study area / 研究区: {area.name}; facilities counted / 计入设施: {len(res.facilities)} "
          f"({', '.join(types)}); {args.mode}, {thr:g} min", file=out)
    print("", file=out)
    rows = []
    for _, r in s.iterrows():
        unit = str(r["unit"])
        name = "全部 / all" if unit == "all" else (r.get("name") if isinstance(r.get("name"), str) else unit)
        rows.append([name, "" if unit == "all" else unit, _num(r["pop_total"]), _num(r["pop_covered"]),
                     _num(r["pop_uncovered"]), _pct(r["share_covered"])])
    print(format_table(rows, ["district", "unit_id", "pop", "covered", "uncovered", "share"],
                       right=[False, False, True, True, True, True]), file=out)
    print("", file=out)
    print(f"covered within {thr:g} min / {thr:g}分钟覆盖: {_num(res.covered_pop)} of {_num(res.total_pop)} "
          f"({_pct(res.covered_share)})", file=out)
    if args.out:
        path = _write_cells(area, res, args.out)
        print(f"written / 已导出: {path}", file=out)
    return EXIT_OK


def _write_cells(area, res, path: str) -> Path:
    import geopandas as gpd
    import numpy as np

    from .export import _atomic_write
    from .geo import WGS84
    from .safe_text import spreadsheet_csv

    grid = area.grid
    t = res.times["time_s"].to_numpy(float)
    thr = float(res.params.threshold_min) * 60.0
    cells = gpd.GeoDataFrame({
        "cell_id": grid["cell_id"].to_numpy(),
        "unit_id": grid["unit_id"].astype(str).to_numpy(),
        "pop": grid["pop"].to_numpy(float),
        "time_s": t,
        "time_min": t / 60.0,
        "facility_id": res.times["facility_id"].to_numpy() if "facility_id" in res.times else None,
        "covered": np.isfinite(t) & (t <= thr),
    }, geometry=grid.geometry.to_numpy(), crs=grid.crs, index=grid.index)
    pts = cells.geometry.centroid.to_crs(WGS84)
    cells["lon"], cells["lat"] = pts.x.to_numpy(), pts.y.to_numpy()
    suffix = Path(path).suffix.lower()
    target = Path(path)
    if not target.parent.is_dir():
        raise InputError(Problem("the output folder does not exist.", file=str(target),
                                 fix=f"create {target.parent} first"))
    if suffix == ".csv":
        frame = cells.drop(columns="geometry")
        return _atomic_write(target, lambda tmp: spreadsheet_csv(frame, tmp))
    if suffix == ".geojson":
        frame = cells.to_crs(WGS84)
        return _atomic_write(target, lambda tmp: frame.to_file(tmp, driver="GeoJSON"))
    return _atomic_write(target, lambda tmp: cells.to_file(tmp, layer="cells", driver="GPKG"))


def cmd_site(args: argparse.Namespace, out: TextIO) -> int:
    """``cultcov site``."""
    from .facilities import normalise_type
    from .workflow import SitingParams, evaluate_standards, propose_sites

    ftype = normalise_type(args.facility_type) or args.facility_type
    p = args.p
    if p is None and args.budget is None and args.model in ("mclp", "p_median"):
        p = 10
    if args.out:
        _out_suffix(args.out, (".gpkg", ".geojson", ".csv"), "--out")
    if args.shortfall_out:
        _out_suffix(args.shortfall_out, (".xlsx", ".gpkg"), "--shortfall-out")
    if args.preset and not args.shortfall_out:
        raise InputError(Problem("`--preset` only chooses the standards of `--shortfall-out`.",
                                 fix="add --shortfall-out list.xlsx, or use --quota-preset for district quotas"))
    if args.curve is not None and args.curve < 1:
        raise InputError(Problem(f"`--curve` must be >= 1, got {args.curve}.", fix="pass e.g. --curve 10"))
    params = SitingParams(model=args.model, facility_type=ftype, p=p, budget=args.budget,
                          unit_cost_yuan=args.unit_cost, mode=args.mode, threshold_min=args.threshold,
                          keep_existing=not args.no_existing, candidates=args.candidates,
                          n_candidates=args.n_candidates, min_distance_m=args.min_distance,
                          capacity=args.capacity, quota_preset=args.quota_preset, curve_k=args.curve,
                          time_limit_s=args.time_limit)
    area = _load_area(args)
    bar = _Progress(args, 100, "siting")
    try:
        with _native_stdout_to_stderr():
            prop = propose_sites(area, params, progress=bar.fraction)
    finally:
        bar.close()
    res = prop.result
    sites = prop.sites
    print(f"Study area / 研究区: {area.name}; model {params.model}, {params.facility_type}, "
          f"{params.mode} {params.threshold_min:g} min", file=out)
    print(f"new sites / 新增选址: {len(sites)}", file=out)
    rows = []
    for _, r in sites.iterrows():
        rows.append([r["site_id"], r.get("district", "") or r.get("unit_id", ""), _num(r["newly_covered_pop"]),
                     f"{r['lon']:.6f}", f"{r['lat']:.6f}", f"{r['lon_gcj02']:.6f}", f"{r['lat_gcj02']:.6f}"])
    print(format_table(rows, ["site", "district", "newly_covered", "lon_wgs84", "lat_wgs84", "lon_gcj02",
                              "lat_gcj02"], right=[False, False, True, True, True, True, True]), file=out)
    print("", file=out)
    gap = getattr(res, "gap", None)
    print(f"objective / 目标值: {_num(getattr(res, 'objective', float('nan')), 1)}", file=out)
    print(f"optimality gap / 最优间隙: {_pct(gap) if gap is not None else '-'}"
          f"{' (optimal)' if getattr(res, 'optimal', False) else ''}", file=out)
    message = getattr(res, "message", "")
    if message:
        print(f"solver / 求解: {message}", file=out)
    if params.model in ("mclp", "lscp"):
        print(f"covered before / 现状覆盖: {_num(prop.base_covered_pop)} of {_num(prop.total_pop)} "
              f"({_pct(prop.base_covered_pop / prop.total_pop if prop.total_pop else 0)})", file=out)
        print(f"covered after / 新增后覆盖: {_num(prop.covered_pop)} "
              f"({_pct(prop.covered_pop / prop.total_pop if prop.total_pop else 0)})", file=out)
    if "unit_cost" in sites.columns and len(sites):
        print(f"estimated cost / 估算费用: {_num(sites['unit_cost'].sum())} yuan", file=out)
    if prop.curve is not None:
        print("", file=out)
        print("coverage curve / 覆盖曲线:", file=out)
        rows = [[int(r["p"]), _num(r["covered_pop"]), _pct(r["covered_share"]), _num(r["marginal_gain"]),
                 _pct(r["gap"]) if r["gap"] == r["gap"] else "-"] for _, r in prop.curve.iterrows()]
        print(format_table(rows, ["sites", "covered", "share", "gain", "gap"], right=[True] * 5), file=out)
    if args.out:
        path = _write_sites(sites, args.out)
        print(f"written / 已导出: {path}", file=out)
    if args.shortfall_out:
        ev = evaluate_standards(area, args.preset or DEFAULT_PRESET,
                                with_access=not args.no_access and area.network_source is not None)
        path = _export_evaluation(ev, args.shortfall_out, lang=args.lang, proposals=sites,
                                  meta={"study_area": area.name}, option="--shortfall-out")
        print(f"written / 已导出: {path}", file=out)
    return EXIT_OK


def cmd_report(args: argparse.Namespace, out: TextIO) -> int:
    """``cultcov report``."""
    from .facilities import normalise_type
    from .report import prepare_report, write_report
    from .workflow import SitingParams

    _out_suffix(args.out, (".pdf",), "--out")
    if args.png:
        _out_suffix(args.png, (".png",), "--png")
    if args.p < 0:
        raise InputError(Problem(f"`--p` must be >= 0, got {args.p}.", fix="pass e.g. --p 10, or --p 0 for none"))
    siting = SitingParams(facility_type=normalise_type(args.facility_type) or args.facility_type, p=args.p,
                          mode=args.mode, threshold_min=args.threshold, curve_k=args.p) if args.p else None
    area = _load_area(args)
    with _native_stdout_to_stderr():
        data = prepare_report(area, args.preset, siting=siting, access_params=None if siting else
                              _access_params(args))
    path = write_report(data, args.out, lang=args.lang, png=args.png)
    n = 0 if data.proposals is None else len(data.proposals)
    cost = 0.0 if data.proposals is None else float(data.proposals["cost"].sum())
    print(f"Study area / 研究区: {area.name}; preset {args.preset}; {n} proposed sites, "
          f"estimated cost / 估算费用 {_num(cost)} yuan", file=out)
    print(f"written / 已导出: {path}", file=out)
    if args.png:
        print(f"written / 已导出: {args.png}", file=out)
    return EXIT_OK


def _access_params(args: argparse.Namespace):
    from .workflow import AccessParams

    return AccessParams(mode=args.mode, threshold_min=args.threshold)


def _write_sites(sites, path: str) -> Path:
    from .export import _atomic_write
    from .geo import WGS84
    from .safe_text import spreadsheet_csv

    target = Path(path)
    if not target.parent.is_dir():
        raise InputError(Problem("the output folder does not exist.", file=str(target),
                                 fix=f"create {target.parent} first"))
    suffix = target.suffix.lower()
    if suffix == ".csv":
        frame = sites.drop(columns="geometry")
        return _atomic_write(target, lambda tmp: spreadsheet_csv(frame, tmp))
    if suffix == ".geojson":
        frame = sites.to_crs(WGS84)
        return _atomic_write(target, lambda tmp: frame.to_file(tmp, driver="GeoJSON"))
    return _atomic_write(target, lambda tmp: sites.to_file(tmp, layer="proposals", driver="GPKG"))


# ------------------------------------------------------------------ scenarios
def _open_store(path: str, *, must_exist: bool = True):
    from .scenario import ScenarioStore

    if must_exist and not Path(path).is_file():
        raise InputError(Problem("scenario store not found.", file=path,
                                 fix="check the --store path (a .gpkg saved by the app or ScenarioStore)"))
    return ScenarioStore(path)


def _need_name(args: argparse.Namespace) -> str:
    if not args.name:
        raise InputError(Problem(f"`scenario {args.action}` needs a scenario NAME.",
                                 fix=f"run `cultcov scenario list --store {args.store}` to see the names"))
    return args.name


def _scenario_param(sc, *keys: str) -> Any:
    """First of ``keys`` found in the scenario's params (top level, then ``siting``/``access``)."""
    params = dict(sc.params or {})
    for key in keys:
        if params.get(key) not in (None, ""):
            return params[key]
    for section in ("siting", "access", "standards"):
        sub = params.get(section)
        if isinstance(sub, dict):
            for key in keys:
                if sub.get(key) not in (None, ""):
                    return sub[key]
    return None


def _scenario_proposals(sc, area):
    """The scenario's selected sites as a proposals GeoDataFrame in the area's CRS, or None."""
    import geopandas as gpd
    import numpy as np

    from .facilities import normalise_type

    if sc.siting is None or not sc.siting.sites:
        return None
    ftype = _scenario_param(sc, "facility_type", "new_facility_type")
    if isinstance(ftype, (list, tuple)):
        ftype = ftype[0] if ftype else None
    ftype = normalise_type(ftype) if ftype else None
    ftype = ftype or "city_reading_room"
    s = sc.siting.sites
    gdf = gpd.GeoDataFrame({
        "site_id": [x.site_id for x in s],
        "name": [x.name for x in s],
        "facility_type": ftype,
        "newly_covered_pop": np.array([x.new_pop for x in s], float),
        "lon": np.array([x.lon for x in s], float),
        "lat": np.array([x.lat for x in s], float),
    }, geometry=gpd.points_from_xy([x.lon for x in s], [x.lat for x in s]), crs="EPSG:4326").to_crs(area.crs)
    joined = gpd.sjoin(gdf[["geometry"]], area.boundaries[["unit_id", "geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    gdf["unit_id"] = joined["unit_id"].reindex(gdf.index).fillna("").astype(str).to_numpy()
    names = dict(zip(area.boundaries["unit_id"].astype(str), area.boundaries["name"]))
    gdf["district"] = [names.get(u, "") for u in gdf["unit_id"]]
    return gdf


def cmd_scenario(args: argparse.Namespace, out: TextIO) -> int:
    """``cultcov scenario list|show|export|delete``."""
    store = _open_store(args.store)
    if args.action == "list":
        df = store.list()
        if df.empty:
            print(f"no scenarios in {args.store} / 没有情景", file=out)
            return EXIT_OK
        rows = [[r["name"], r["author"], int(r["n_added"]), int(r["n_removed"]), int(r["n_sites"]),
                 _pct(r["coverage_share"]), str(r["updated_at"])[:19], str(r["notes"])[:40]]
                for _, r in df.iterrows()]
        print(format_table(rows, ["name", "author", "added", "removed", "sites", "coverage", "updated", "notes"],
                           right=[False, False, True, True, True, True, False, False]), file=out)
        return EXIT_OK
    name = _need_name(args)
    if args.action == "delete":
        sc = store.load(name)
        store.delete(sc.id)
        print(f"deleted / 已删除: {sc.name}", file=out)
        return EXIT_OK
    sc = store.load(name)
    if args.action == "show":
        _show_scenario(sc, out)
        return EXIT_OK
    # export
    if not args.out:
        raise InputError(Problem("`scenario export` needs `--out FILE`.", fix="add --out list.xlsx"))
    _out_suffix(args.out, (".xlsx", ".gpkg", ".csv", ".geojson"), "--out")
    from .scenario import scenario_layer
    from .workflow import evaluate_standards

    area = _load_area(args)
    fac = scenario_layer(area.facilities, sc)
    preset = args.preset or _scenario_param(sc, "preset", "standards_preset", "preset_id") or DEFAULT_PRESET
    ev = evaluate_standards(area, str(preset), facilities=fac,
                            with_access=not args.no_access and area.network_source is not None)
    proposals = _scenario_proposals(sc, area)
    suffix = Path(args.out).suffix.lower()
    if proposals is not None and suffix not in (".xlsx", ".gpkg"):
        print("note: proposals are only written to .xlsx and .gpkg files.", file=sys.stderr)
        proposals = None
    meta = {"study_area": area.name, "scenario": sc.name, "mode": _scenario_param(sc, "mode"),
            "threshold_min": _scenario_param(sc, "threshold_min")}
    if sc.author:
        meta["author"] = sc.author
    coverage_line = _scenario_coverage(sc, area, fac) if not args.no_access else None
    if coverage_line:
        meta["coverage"] = coverage_line
    path = _export_evaluation(ev, args.out, lang=args.lang, proposals=proposals, meta=meta)
    print(f"Scenario / 情景: {sc.name}; preset {preset}; +{len(sc.added)} / -{len(sc.removed)} facilities, "
          f"{0 if proposals is None else len(proposals)} proposed sites", file=out)
    if coverage_line:
        print(f"coverage / 覆盖: {coverage_line}", file=out)
    print("", file=out)
    _print_evaluation(ev, out)
    print(f"written / 已导出: {path}", file=out)
    return EXIT_OK


def _scenario_coverage(sc, area, facilities) -> str | None:
    """Coverage at the scenario's own mode and threshold, when it has them and a road network."""
    from .workflow import READING_SPACE_TYPES, AccessParams, access_analysis

    mode = _scenario_param(sc, "mode")
    threshold = _scenario_param(sc, "threshold_min")
    if (mode is None and threshold is None) or area.network_source is None:
        return None
    types = _scenario_param(sc, "facility_types")
    types = tuple(types) if isinstance(types, (list, tuple)) and types else READING_SPACE_TYPES
    params = AccessParams(facility_types=types, mode=str(mode or "walk"),
                          threshold_min=float(threshold if threshold is not None else 15.0))
    res = access_analysis(area, params, facilities=facilities)
    return (f"{_num(res.covered_pop)} of {_num(res.total_pop)} residents ({_pct(res.covered_share)}) reach "
            f"{', '.join(types)} within {params.threshold_min:g} min ({params.mode})")


def _show_scenario(sc, out: TextIO) -> None:
    print(f"Scenario / 情景: {sc.name}", file=out)
    print(f"id: {sc.id}  revision: {sc.revision}", file=out)
    for label, value in (("author", sc.author), ("study area", sc.study_area), ("data version", sc.data_version),
                         ("crs", sc.crs), ("created", sc.created_at), ("updated", sc.updated_at)):
        if value not in (None, ""):
            print(f"{label}: {value}", file=out)
    print("params / 参数:", file=out)
    text = json.dumps(sc.params, ensure_ascii=False, indent=2, sort_keys=True) if sc.params else "{}"
    for line in text.splitlines():
        print(f"  {line}", file=out)
    print(f"added facilities / 新增设施 ({len(sc.added)}):", file=out)
    if sc.added:
        rows = [[a.facility_id, a.name, a.type, f"{a.lon:.6f}", f"{a.lat:.6f}"] for a in sc.added]
        print(format_table(rows, ["facility_id", "name", "type", "lon", "lat"],
                           right=[False, False, False, True, True]), file=out)
    print(f"removed facilities / 关闭设施 ({len(sc.removed)}): {', '.join(sc.removed) or '-'}", file=out)
    if sc.siting is not None:
        s = sc.siting
        print(f"siting / 选址 ({s.model or '-'}): {len(s.sites)} sites, objective {_num(s.objective, 1)}, "
              f"gap {_pct(s.gap) if s.gap is not None else '-'}", file=out)
        if s.sites:
            rows = [[x.site_id, x.name, _num(x.new_pop), f"{x.lon:.6f}", f"{x.lat:.6f}"] for x in s.sites]
            print(format_table(rows, ["site", "name", "newly_covered", "lon", "lat"],
                               right=[False, False, True, True, True]), file=out)
    if sc.results is not None:
        r = sc.results
        print(f"results / 结果: coverage {_pct(r.coverage_share)}, covered {_num(r.covered_pop)} of "
              f"{_num(r.total_pop)}", file=out)
    print(f"notes / 备注: {sc.notes or '-'}", file=out)


# ------------------------------------------------------------------ batch
def cmd_batch(args: argparse.Namespace, out: TextIO) -> int:
    """``cultcov batch``."""
    from .batch import load_batch_config, run_batch

    cfg = load_batch_config(args.config)
    if args.workers < 1 or args.threads < 1:
        raise InputError(Problem("`--workers` and `--threads` must be >= 1.", fix="pass e.g. --workers 2"))
    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(Problem("`--out` is a file, not a folder.", file=str(out_dir), fix="pass a folder path"))
    bar = _Progress(args, len(cfg["areas"]), "areas", counts=True)
    try:
        res = run_batch(cfg, out_dir, scheduler_address=args.scheduler, n_workers=args.workers,
                        threads_per_worker=args.threads, resume=not args.no_resume, progress=bar.step)
    except OSError as exc:
        if not args.scheduler or isinstance(exc, (FileNotFoundError, PermissionError)):
            raise
        raise InputError(Problem(f"cannot reach the Dask scheduler `{args.scheduler}` ({exc}).",
                                 fix="start it with `dask scheduler` and check the address and port "
                                     "(tcp://HOST:8786)")) from exc
    finally:
        bar.close()
    total = len(cfg["areas"])
    print(f"areas / 区域: {total}; ok {len(res.succeeded)}, failed {len(res.failed)}, "
          f"skipped (done before) {len(res.skipped)}; {res.time_s:.1f} s", file=out)
    print(f"merged table / 汇总表: {res.out_dir / 'merged.csv'} ({len(res.table)} rows)", file=out)
    if res.failed:
        t = res.table
        print("failed areas / 失败区域:", file=out)
        for name in res.failed:
            rows = t[(t["area"] == name) & (t["status"] == "failed")]
            err = str(rows["error"].iloc[0]) if len(rows) else ""
            lines = [ln.strip() for ln in err.splitlines() if ln.strip()]
            print(f"  {name}: {lines[0] if lines else '?'}", file=out)
            for ln in lines[1:4]:
                print(f"      {ln}", file=out)
            if len(lines) > 4:
                print(f"      ... ({len(lines) - 4} more lines in merged.csv)", file=out)
    return EXIT_OK


# ------------------------------------------------------------------ area
def cmd_area(args: argparse.Namespace, out: TextIO) -> int:
    """``cultcov area build|list``."""
    from .area_cli import run

    return run(args, out, progress_factory=lambda: _Progress(args, 100, "area"))


# ------------------------------------------------------------------ entry point
def _report_input_error(exc: InputError, err: TextIO) -> None:
    problems = getattr(exc, "problems", ()) or (Problem(str(exc)),)
    for p in problems:
        print(f"error: {p}", file=err)


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    """Run ``cultcov`` with ``argv`` (``sys.argv[1:]`` when None); returns the exit code.

    Parameters
    ----------
    argv
        Command-line arguments without the program name.
    stdout, stderr
        Streams for results and errors (``sys.stdout``/``sys.stderr`` when None).

    Returns
    -------
    int
        0 ok, 1 deficit with ``--fail-on-deficit``, 2 bad input, 3 infeasible,
        4 internal error.
    """
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = build_parser()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = parser.parse_args(None if argv is None else list(argv))
    except SystemExit as exc:  # --help (0) or a usage error (2)
        code = exc.code
        return code if isinstance(code, int) else (EXIT_OK if code is None else EXIT_INPUT)
    debug = bool(getattr(args, "debug", False))
    func: Callable[[argparse.Namespace, TextIO], int] = args.func
    try:
        return int(func(args, out))
    except InfeasibleError as exc:
        print(f"infeasible / 无可行解: {exc}", file=err)
        if debug:
            traceback.print_exc(file=err)
        return EXIT_INFEASIBLE
    except InputError as exc:
        _report_input_error(exc, err)
        if debug:
            traceback.print_exc(file=err)
        return EXIT_INPUT
    except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError) as exc:
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        print(f"error:{where}: {exc.strerror or exc}. Fix: check the path and its permissions", file=err)
        if debug:
            traceback.print_exc(file=err)
        return EXIT_INPUT
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, out.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print("interrupted / 已中断", file=err)
        return 130
    except Exception as exc:  # noqa: BLE001 - the command line never shows a bare traceback
        print(f"internal error / 内部错误: {type(exc).__name__}: {exc}", file=err)
        if debug:
            traceback.print_exc(file=err)
        else:
            print("run again with --debug for the traceback / 加 --debug 查看详情", file=err)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover - exercised through a subprocess test
    sys.exit(main())
