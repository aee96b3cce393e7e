"""Problems a page user meets when uploading a study area read as Chinese on the Chinese page.

Each case makes the real loaders refuse a small synthetic file and checks that
:func:`coverage.i18n.problem_text` gives Chinese text: after removing the file
name, quoted values, code spans and parenthesised parts, no run of four or more
ASCII letters is left.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from coverage import limits
from coverage import population as popm
from coverage.errors import InputError
from coverage.i18n import problem_text
from coverage.network import load_network
from ui import logic

_QUOTED = re.compile(r"“[^”]*”|'[^']*'|\"[^\"]*\"|`[^`]*`")
_PARENS = re.compile(r"\([^()]*\)|（[^（）]*）")
_WORD = re.compile(r"[A-Za-z]{4,}")
#: Product and format names that Chinese planners also write in Latin letters.
_NAMES = ("QGIS", "WorldPop", "GeoJSON", "GeoPackage", "Shapefile", "GeoTIFF", "GraphML", "CGCS", "Excel",
          "OpenStreetMap", "Geofabrik", "SimHei", "SQLite", "YAML")


def _english_left(problem, extra: tuple[str, ...] = ()) -> list[str]:
    text = problem_text(problem, "zh")
    for s in (problem.file or "", *extra, *_NAMES):
        if s:
            text = text.replace(str(s), "")
    text = _QUOTED.sub("", text)
    while _PARENS.search(text):
        text = _PARENS.sub("", text)
    return _WORD.findall(text)


def _problems(exc: pytest.ExceptionInfo) -> list:
    return list(exc.value.problems)


def _assert_chinese(problems, extra: tuple[str, ...] = ()) -> None:
    assert problems
    left = {problem_text(p, "zh"): _english_left(p, extra) for p in problems}
    assert not any(left.values()), left


def _square(x: float, y: float, d: float) -> list:
    return [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]


def _geojson(features: list[dict], crs: str | None = None) -> bytes:
    fc: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        fc["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(fc, ensure_ascii=False).encode("utf-8")


def _feature(props: dict, geometry: dict) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def _poly(x: float, y: float, d: float = 0.02) -> dict:
    return {"type": "Polygon", "coordinates": _square(x, y, d)}


def _units(n: int = 2) -> bytes:
    return _geojson([_feature({"adcode": f"51010{i}", "name": f"{'锦江青羊金牛'[2 * i:2 * i + 2]}区"},
                              _poly(104.05 + 0.02 * i, 30.65)) for i in range(n)])


def _raster(west: float = 104.05, north: float = 30.67, value: float = 10.0) -> bytes:
    from rasterio.io import MemoryFile
    from rasterio.transform import from_origin

    data = np.full((20, 40), value, dtype="float32")
    with MemoryFile() as mem:
        with mem.open(driver="GTiff", width=40, height=20, count=1, dtype="float32", crs="EPSG:4326",
                      transform=from_origin(west, north, 0.001, 0.001)) as dst:
            dst.write(data, 1)
        return mem.read()


def _upload(tmp_path, bnd: bytes | None, pop: bytes | None = None, bname: str = "b.geojson"):
    files = {}
    if bnd is not None:
        files["boundaries"] = (bname, bnd)
    if pop is not None:
        files["population"] = ("p.tif", pop)
    with pytest.raises(InputError) as exc:
        logic.load_area_upload(files, folder=tmp_path)
    return _problems(exc)


@pytest.mark.parametrize("case", [
    "points", "overlap", "no_name", "no_type", "duplicate_id", "declared_metres",
    "no_features", "missing_population", "unreadable",
])
def test_boundary_problems_read_as_chinese(tmp_path, case):
    pop = _raster()
    if case == "points":
        bnd = _geojson([_feature({"name": "锦江区"}, {"type": "Point", "coordinates": [104.06, 30.66]}),
                        _feature({"name": "青羊区"}, _poly(104.07, 30.65))])
    elif case == "overlap":
        bnd = _geojson([_feature({"name": "锦江区"}, _poly(104.05, 30.65)),
                        _feature({"name": "青羊区"}, _poly(104.06, 30.65))])
    elif case == "no_name":
        bnd = _geojson([_feature({"label": "锦江区"}, _poly(104.05, 30.65))])
    elif case == "no_type":
        bnd = _geojson([_feature({"name": "Alpha"}, _poly(104.05, 30.65))])
    elif case == "duplicate_id":
        bnd = _geojson([_feature({"adcode": "510104", "name": "锦江区"}, _poly(104.05, 30.65)),
                        _feature({"adcode": "510104", "name": "青羊区"}, _poly(104.07, 30.65))])
    elif case == "declared_metres":
        bnd = _geojson([_feature({"name": "锦江区"}, _poly(0.01, 0.01))], crs="urn:ogc:def:crs:EPSG::3857")
    elif case == "no_features":
        bnd = _geojson([])
    elif case == "missing_population":
        bnd, pop = _units(), None
    else:
        bnd = b"{not json"
    _assert_chinese(_upload(tmp_path, bnd, pop))


def test_empty_boundaries_file_reads_as_chinese(tmp_path):
    path = tmp_path / "b.geojson"
    path.write_bytes(b"")
    from coverage.study_area import load_study_area

    with pytest.raises(InputError) as exc:
        load_study_area({"boundaries": str(path), "population": str(path)})
    _assert_chinese(_problems(exc))


@pytest.mark.parametrize("case", ["elsewhere", "negative", "zeros", "pixel_limit", "grid_limit"])
def test_population_raster_problems_read_as_chinese(tmp_path, monkeypatch, case):
    if case == "elsewhere":
        pop = _raster(west=10.0, north=50.0)
    elif case == "negative":
        pop = _raster(value=-1.0)
    elif case == "zeros":
        pop = _raster(value=0.0)
    elif case == "pixel_limit":
        monkeypatch.setattr(popm, "MAX_RASTER_PIXELS", 10)
        pop = _raster()
    else:
        monkeypatch.setattr(limits, "MAX_GRID_CELLS", 2)
        pop = _raster()
    _assert_chinese(_upload(tmp_path, _units(), pop))


def test_upload_over_the_size_limit_reads_as_chinese(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_UPLOAD_MB", 0)
    _assert_chinese(_upload(tmp_path, _units(), _raster()))


@pytest.mark.parametrize("body", [b'<?xml version="1.0"?><osm version="0.6"></osm>', b"not osm at all"])
def test_road_file_problems_read_as_chinese(tmp_path, body):
    path = tmp_path / "roads.osm"
    path.write_bytes(body)
    with pytest.raises(InputError) as exc:
        load_network(path)
    _assert_chinese(_problems(exc), extra=(str(path),))


def test_unknown_road_format_reads_as_chinese(tmp_path):
    path = tmp_path / "roads.txt"
    path.write_bytes(b"x")
    with pytest.raises(InputError) as exc:
        load_network(path)
    _assert_chinese(_problems(exc), extra=(repr(str(path)),))


def test_road_file_without_walkable_roads_reads_as_chinese(tmp_path):
    nodes = "".join(f'<node id="{i}" lat="30.6{i}" lon="104.0{i}"/>' for i in range(1, 4))
    way = ('<way id="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/>'
           '<tag k="highway" v="motorway"/><tag k="oneway" v="yes"/></way>')
    path = tmp_path / "roads.osm"
    path.write_text(f'<?xml version="1.0"?><osm version="0.6">{nodes}{way}</osm>', encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_network(path)
    problems = _problems(exc)
    assert any("步行" in problem_text(p, "zh") for p in problems)
    _assert_chinese(problems, extra=(str(path),))


# --------------------------------------------------------------------------- every message the page can show
# The scan in tests/_message_scan.py finds the message texts by reading the source, so a
# message added later is checked here without a new test case.
from coverage.i18n import error_text, keys, message_text, t  # noqa: E402

from _message_scan import Hole, instance, page_modules, templates  # noqa: E402

#: Functions whose messages the page cannot trigger: it calls them only with values it
#: made itself (widget choices, its own tables) or with the built-in data, never with
#: what a planner uploads or types. Their messages are for the Python API and the CLI.
API_ONLY = {
    **{f"coverage/access.py:{f}": "travel-time arguments come from AccessParams and loaded layers" for f in (
        "TravelSettings.__post_init__", "_check_mode", "_check_thresholds", "_od_entries", "_places_while",
        "_points_xy", "_pop", "_positive", "_times_for", "coverage_summary", "equity", "fca_from_matrix",
        "isochrones", "nearest_facility", "reach_matrix", "travel_graph", "two_step_fca")},
    **{f"coverage/mapping.py:{f}": "map arguments are built by the page" for f in (
        "_check_frame", "_palette", "build_map", "grid_raster", "grid_to_png", "load_basemap")},
    **{f"coverage/export.py:{f}": "the page exports its own evaluation to temporary files" for f in (
        "_check_lang", "_check_replaceable", "_check_result", "_check_target", "proposals_table",
        "units_with_deficits")},
    **{f"coverage/standards.py:{f}": "the page evaluates the built-in catalogue on loaded units" for f in (
        "_assign", "_check_access", "_check_facilities", "_check_units", "_num", "_num_or_map", "_parse_filter",
        "_parse_rule", "_parse_source", "_read_yaml", "access_from_cells.access", "evaluate", "load_catalogue",
        "load_costs", "split_planned.split")},
    **{f"coverage/scenario.py:{f}": "scenario objects are built by the page from its widgets" for f in (
        "AddedFacility.__post_init__", "Scenario.__post_init__", "ScenarioResults.__post_init__",
        "SelectedSite.__post_init__", "SitingResult.__post_init__", "_clean_name", "_crs_string",
        "_normalise_json", "_set_finite", "apply_edits", "data_fingerprint", "diff",
        "ScenarioStore._validate", "ScenarioStore.__init__")},
    **{f"coverage/network.py:{f}": "the page reads road files, it passes no graph, mode list or download" for f in (
        "_check_mode", "_check_modes", "download_osmnx", "from_networkx")},
    **{f"coverage/workflow.py:{f}": "parameters come from the page's widgets" for f in (
        "AccessParams.__post_init__", "SitingParams.__post_init__", "_mode_threshold_problems", "add_facilities")},
    "coverage/population.py:DasymetricWeights.__post_init__": "weights are the built-in defaults",
    "coverage/facilities.py:_arrays": "coordinate arrays come from the loaders",
    "coverage/admin_regions.py:resolve_counties": "the new-area panel passes an adcode from its own picker",
    "coverage/area_build.py:_counties": "the new-area panel passes an adcode from its own picker",
    "coverage/osm_extract.py:culture_facilities": "these notes go to the build report file",
    "coverage/area_build.py:_merge_user_facilities": "these notes go to the build report file",
    "ui/logic.py:facility_template": "the page asks for its own template formats",
    "coverage/standards.py:_evaluate_rule": "notes of the shortfall files (XLSX/CSV), not of the page",
    **{f"coverage/boundaries.py:{f}": "no area the page builds or opens joins a census table itself" for f in (
        "join_census", "_read_census")},
    **{f"coverage/siting.py:{f}": "siting inputs are the matrices propose_sites builds" for f in (
        "_as_csr_times", "_capacitated", "_fail", "_mclp_milp", "_xy", "filter_min_distance", "p_center")},
}
#: Calls (message and fix) in functions the page reaches that check what the page cannot get
#: wrong: (key pattern, pattern of the call's message).
API_ONLY_TEXTS = (
    # every argument check of the siting models but the number of sites
    ("coverage/siting.py:_prepare", r"^`(?!p`)(?!p is)"),
    ("coverage/siting.py:.*", r"^`(?:method|k|min_pop|min_distance_m|grid|time_limit_s)`|^`p` or `budget`"),
    # Python objects where the page always passes files or tables it read itself
    ("coverage/(?:facilities|boundaries|network).py:.*",
     r"^the GeoDataFrame has no CRS|^`source` is a|^`bounds_lonlat`"),
    ("coverage/scenario.py:.*", r"^`(?:scenario|id_or_name)` must be"),
    ("coverage/area_build.py:.*", r"^`facilities_mode`"),
    ("coverage/workflow.py:.*", r"^`candidates='given'`|^the candidate layer has no CRS|^`how`|^`access` was"),
)

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
#: Sample values for placeholders whose expression matches, where the default number does not fit.
_OVERRIDES: dict[str, object] = {
    r"^what$": "capacity",  # facilities: a column not read as the capacity
    r"' and no '\.join\(missing\)": "longitude",  # facilities: no longitude column
    r"^label$": "GCJ-02", r"^maps$": "Amap, Tencent", r"^key$": "gcj02",  # facilities: coordinate shift
    r"_rows_label": "rows 2, 5",
    r"^k$": "boundaries", r"GeoJSON/GeoPackage' if": "GeoJSON/GeoPackage",  # ui/logic: a missing upload
    r"facility_type$": "library",  # siting: a facility type
}


def _page_templates():
    found = templates()
    api_calls = {(tp.module, tp.line) for tp in found
                 if tp.kind != "fix" and any(re.fullmatch(k, tp.key) and re.search(p, tp.text())
                                             for k, p in API_ONLY_TEXTS)}
    return [tp for tp in found if tp.key not in API_ONLY and (tp.module, tp.line) not in api_calls]


def _shown(tp, lang: str) -> str:
    # an interface string inside a message (ui/) in the language asked for
    text = instance(tp, {r"^t\('(\w+)', lang\)$": lambda m: t(m[1], lang), **_OVERRIDES})
    if tp.kind == "step" and f"step_{text}" in keys():
        return t(f"step_{text}", lang)  # the siting steps are interface strings
    return error_text(text, lang) if tp.kind == "error" else message_text(text, lang)


_FILE_NAME = re.compile(r"[\w<>-]*(?:\.(?:osm|pbf|bz2|xlsx|csv|geojson|gpkg|shp|shx|dbf|prj|graphml|tif|tiff|yaml|"
                        r"json|ttf))+\b")


#: Two short English words in a row ("use one of") are English, too.
_SHORT_WORDS = re.compile(r"\b[A-Za-z]{2,3} [a-z]{2,3}\b")


def _english_words(text: str) -> list[str]:
    for s in _NAMES:
        text = text.replace(s, "")
    text = _FILE_NAME.sub("", text)
    text = _QUOTED.sub("", text)
    while _PARENS.search(text):
        text = _PARENS.sub("", text)
    text = re.sub(r"\s+", " ", text)
    return _WORD.findall(text) + _SHORT_WORDS.findall(text)


def test_the_scan_finds_the_page_messages():
    found = templates()
    mods = page_modules()
    assert {"facilities", "boundaries", "population", "network", "study_area", "area_build", "siting",
            "workflow", "scenario", "report"} <= set(mods)
    assert "cli" not in mods and "batch" not in mods
    texts = {tp.text() for tp in found}
    assert "the uploaded file is empty." in texts  # ui/logic.py
    assert any(t.startswith("`quota` cannot be met") for t in texts)  # an InfeasibleError
    assert any(t.startswith("`p` or `budget` must be given") for t in texts)  # siting._fail
    assert len(found) > 400


def test_every_page_message_reads_as_chinese():
    left = {tp.where + " " + tp.text(): _shown(tp, "zh") for tp in _page_templates()}
    # English words left, or no Chinese at all (a message of code spans and values only)
    bad = {k: v for k, v in left.items() if _english_words(v) or not _CJK.search(v)}
    assert not bad, f"{len(bad)} of {len(left)} messages keep English words:\n" + "\n".join(
        f"{k}\n    -> {v}" for k, v in bad.items())


#: Column headers a planner types in Chinese, named as they must be written on the English page, too.
_HEADERS = ("名称", "类型", "经度", "纬度")


def test_no_page_message_shows_chinese_in_english():
    bad = {}
    for tp in _page_templates():
        text = _QUOTED.sub("", _shown(tp, "en"))
        for h in _HEADERS:
            text = text.replace(h, "")
        if _CJK.search(text):
            bad[tp.where + " " + tp.text()] = text
    assert not bad, "\n".join(f"{k}\n    -> {v}" for k, v in bad.items())


def test_quota_messages_name_districts_not_codes():
    names = {"510107": "武侯区", "510104": "锦江区"}
    fills = {"short": "district '510107' needs 1 site(s) but no candidate lies in it",
             "parts": "'510107': 1, '510104': 2"}
    quota = [tp for tp in _page_templates() if tp.kind == "error" and tp.text().startswith("`quota`")
             and any(isinstance(p, Hole) and any(k in p.source for k in fills) for p in tp.parts)]
    assert len(quota) >= 2
    for tp in quota:
        text = instance(tp, {k: v for k, v in fills.items()})
        for lang, name in (("zh", "武侯区"), ("en", "武侯区")):
            shown = error_text(text, lang, names=names)
            assert name in shown and "510107" not in shown, shown


# --------------------------------------------------------------------------- strings written into ui/
#: Streamlit calls whose positional text, ``label``, ``help``, ``placeholder``, ``text`` or
#: ``page_title`` a person reads.
_SHOWN_CALLS = {"error", "warning", "info", "success", "caption", "markdown", "write", "title", "header",
                "subheader", "text", "code", "metric", "button", "download_button", "checkbox", "radio",
                "selectbox", "multiselect", "select_slider", "slider", "number_input", "text_input",
                "file_uploader", "expander", "tabs", "status", "progress", "spinner", "toast", "update",
                "set_page_config", "line_chart"}
_SHOWN_KEYWORDS = {"label", "help", "placeholder", "text", "page_title", "x_label", "y_label"}
#: Literal text that stays as it is in both languages.
_UI_LITERALS = {
    "语言 / Language",  # the language chooser reads in both languages
    "公共文化设施覆盖规划 / Culture coverage planner",  # the browser tab, before a language is chosen
    "A", "B", "(B − A)", "B − A",  # the two compared scenarios
    "ziyang/area.yaml", "/data/hunan-latest.osm.pbf",  # example paths
}
_LETTERS = re.compile(r"[A-Za-z]{2,}|[\u3400-\u9fff]")


def _ui_literals() -> list[tuple[str, int, str]]:
    import ast

    from _message_scan import PAGE_FILES, ROOT

    found = []
    for path in PAGE_FILES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in _SHOWN_CALLS):
                continue
            args = [*node.args[:1], *(k.value for k in node.keywords if k.arg in _SHOWN_KEYWORDS)]
            for arg in args:
                pieces = [arg] if isinstance(arg, ast.Constant) else (
                    [v for v in arg.values if isinstance(v, ast.Constant)] if isinstance(arg, ast.JoinedStr) else [])
                for piece in pieces:
                    if isinstance(piece.value, str) and _LETTERS.search(piece.value):
                        found.append((path.relative_to(ROOT).as_posix(), node.lineno, piece.value))
    return found


def test_ui_shows_no_text_written_outside_i18n():
    left = [f"{f}:{n} {s!r}" for f, n, s in _ui_literals() if s.strip() not in _UI_LITERALS]
    assert not left, "\n".join(left)


def test_census_notes_and_problems_of_changed_counties_read_as_chinese():
    """Every county code changed since the 2020 census (data/census/adcode_changes.csv) gives a
    note or a problem that reads as Chinese, as an area build shows it."""
    import pandas as pd

    from _message_scan import ROOT
    from coverage.census import census_for

    changes = pd.read_csv(ROOT / "data" / "census" / "adcode_changes.csv", dtype=str).fillna("")
    shown = []
    for r in changes.itertuples():
        try:
            (m,) = census_for([(r.adcode, r.name)])
        except InputError as exc:
            shown += [(str(p), problem_text(p, "zh").replace(str(p.file), "")) for p in exc.problems]
        else:
            text = f"census: {m.name} ({m.adcode}): {m.note}"  # as area_build words the warning
            shown.append((text, message_text(text, "zh")))
    assert len(shown) >= len(changes)
    left = {src: zh for src, zh in shown if _english_words(zh)}
    assert not left, "\n".join(f"{k}\n    -> {v}" for k, v in left.items())


#: Names under which ui/ holds a message of the package (a problem, a note, an exception, a step).
_MESSAGE_NAMES = {"p", "problem", "problems", "note", "notes", "w", "warning", "warnings", "msg", "exc"}
_TRANSLATE = {"problem_text", "message_text", "error_text", "_problem_text", "_show_problems", "t"}
#: Functions that show an exception's own text on purpose (the details of an unexpected error).
_RAW_ALLOWED = {"_show_unexpected"}


def _untranslated_shows() -> list[str]:
    import ast

    from _message_scan import PAGE_FILES, ROOT, call_name as name

    def raw_names(node: ast.AST) -> list[str]:
        if isinstance(node, ast.Call) and name(node) in _TRANSLATE or isinstance(node, ast.comprehension):
            return []  # translated, or the loop of a comprehension (its element is checked)
        if isinstance(node, ast.Name) and node.id in _MESSAGE_NAMES:
            return [node.id]
        return [n for child in ast.iter_child_nodes(node) for n in raw_names(child)]

    found = []
    for path in PAGE_FILES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or fn.name in _RAW_ALLOWED:
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Call) and name(node) in (_SHOWN_CALLS | {"literal", "_flash"}):
                    shown = [] if name(node) == "update" else node.args[:2]  # status.update(label=...)
                    for arg in [*shown, *(k.value for k in node.keywords if k.arg in _SHOWN_KEYWORDS)]:
                        for n in raw_names(arg):
                            found.append(f"{path.relative_to(ROOT).as_posix()}:{node.lineno} {fn.name}: {n}")
    return sorted(set(found))


def test_ui_shows_the_package_messages_through_i18n():
    """A problem, note, warning or progress step of the package is shown translated, never as it is."""
    left = _untranslated_shows()
    assert not left, "\n".join(left)
