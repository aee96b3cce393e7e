"""The ``cultcov`` command line: output numbers, exports, exit codes, scenarios.

Most commands run in-process through :func:`coverage.cli.main`; ``--help``
and the exit codes of bad input also run as a separate process. Expected
numbers come from the data files read directly (district populations,
facility positions tested against district polygons with shapely), hand
arithmetic (required = ceil(residents / 50,000)) or an independent
computation path (coverage after siting recomputed by nearest-facility
times instead of the siting reach matrix).
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from openpyxl import load_workbook

import coverage
from coverage.cli import format_table, main

ROOT = Path(coverage.__file__).resolve().parent.parent
DATA = ROOT / "data"
CHENGDU = DATA / "chengdu"
RULE = "zz-culture-space-per-capita"
CULTURE_SPACES = ("city_reading_room", "culture_station")


def _districts() -> list[dict]:
    doc = json.loads((CHENGDU / "districts.geojson").read_text(encoding="utf-8"))
    return [dict(f["properties"], geometry=shapely.geometry.shape(f["geometry"])) for f in doc["features"]]


def _district(name: str) -> dict:
    return next(d for d in _districts() if d["name"] == name)


def _count_in(polygon, lonlat: list[tuple[float, float]]) -> int:
    return sum(polygon.contains(shapely.Point(lon, lat)) for lon, lat in lonlat)


def _embedded_culture_spaces() -> list[tuple[float, float]]:
    fac = pd.read_csv(CHENGDU / "facilities.csv")
    fac = fac[fac["type"].isin(CULTURE_SPACES)]
    return list(zip(fac["lon"], fac["lat"]))


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def _line_of(text: str, first: str) -> list[str]:
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0] == first:
            return parts
    raise AssertionError(f"no line starting with {first!r} in:\n{text}")


def _sheet_records(ws, header_row: int) -> list[dict]:
    header = [c.value for c in ws[header_row]]
    out = []
    for row in ws.iter_rows(min_row=header_row + 1, values_only=True):
        out.append(dict(zip(header, row)))
    return out


def _parse_int(text: str) -> int:
    return int(text.replace(",", ""))


# ---------------------------------------------------------------------- layout
def test_format_table_pads_chinese_to_display_width():
    text = format_table([["成华区", 10], ["Jinniu", 6]], ["unit", "n"], right=[False, True])
    lines = text.splitlines()
    assert lines[0] == "unit    n"
    assert lines[1] == "------  --"
    assert lines[2] == "成华区  10"  # 3 CJK characters = 6 columns
    assert lines[3] == "Jinniu   6"


# ---------------------------------------------------------------------- subprocess: help and exit codes
def _subprocess_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _installed_console_script() -> str | None:
    """The ``cultcov`` script, if this checkout is installed with it."""
    exe = shutil.which("cultcov")
    if exe is None:
        return None
    try:
        eps = importlib.metadata.distribution("culture-coverage-planner").entry_points
    except importlib.metadata.PackageNotFoundError:
        return None
    return exe if any(ep.name == "cultcov" and ep.value == "coverage.cli:main" for ep in eps) else None


def test_help_and_exit_codes_in_a_separate_process(tmp_path):
    cmd = [sys.executable, "-m", "coverage.cli"]
    kw = dict(capture_output=True, text=True, env=_subprocess_env(), cwd=tmp_path, timeout=120)

    r = subprocess.run(cmd + ["--help"], **kw)
    assert r.returncode == 0, r.stderr
    for word in ("info", "presets", "standards", "access", "site", "scenario", "batch", "exit codes"):
        assert word in r.stdout
    assert re.search(r"^\s*3\s+infeasible", r.stdout, re.M)

    r = subprocess.run(cmd + ["site", "--help"], **kw)
    assert r.returncode == 0 and "--quota-preset" in r.stdout and "--shortfall-out" in r.stdout

    r = subprocess.run(cmd + ["standards", "--boundaries", "missing.geojson", "--population", "pop.geojson"], **kw)
    assert r.returncode == 2
    assert "missing.geojson" in r.stderr and "pop.geojson" in r.stderr
    assert len([ln for ln in r.stderr.splitlines() if ln.startswith("error:")]) == 2
    assert "Traceback" not in r.stderr and r.stdout == ""

    r = subprocess.run(cmd + ["site", "--model", "nope"], **kw)
    assert r.returncode == 2 and "nope" in r.stderr

    exe = _installed_console_script()
    if exe is not None:
        r = subprocess.run([exe, "batch", "--help"], **kw)
        assert r.returncode == 0 and "--scheduler" in r.stdout


# ---------------------------------------------------------------------- info, presets
def test_presets_lists_every_preset_with_its_rule_count(capsys):
    code, out, _ = _run(capsys, "presets")
    assert code == 0
    cat = yaml.safe_load((DATA / "standards" / "catalogue.yaml").read_text(encoding="utf-8"))
    for pid, p in cat["presets"].items():
        parts = _line_of(out, pid)
        assert int(parts[-1]) == len(p["rules"])
    assert int(_line_of(out, "all")[-1]) == len(cat["rules"])


def test_info_summarises_the_embedded_area(capsys):
    code, out, _ = _run(capsys, "info")
    assert code == 0
    districts = _districts()
    for d in districts:
        parts = _line_of(out, str(d["unit_id"]))
        assert parts[1] == d["name"]
        assert f"{d['pop']:,}" in parts and f"{d['pop_census']:,}" in parts
    total = sum(d["pop"] for d in districts)
    assert f"{total:,}" in out
    assert "EPSG:32648" in out and "2018" in out
    fac = pd.read_csv(CHENGDU / "facilities.csv")
    for ftype, n in fac["type"].value_counts().items():
        assert int(_line_of(out, ftype)[-1]) == n
    assert f"({len(fac)})" in out


# ---------------------------------------------------------------------- standards
def test_standards_prints_required_counts_and_writes_xlsx(tmp_path, capsys):
    target = tmp_path / "shortfall.xlsx"
    code, out, _ = _run(capsys, "standards", "--no-access", "--out", str(target))
    assert code == 0
    chenghua = _district("成华区")
    required = math.ceil(chenghua["pop"] / 50_000)
    assert chenghua["pop"] == 458_444 and required == 10
    existing = _count_in(chenghua["geometry"], _embedded_culture_spaces())
    parts = _line_of(out, "成华区")
    assert parts[1] == "510108" and _parse_int(parts[3]) == 458_444
    assert _parse_int(parts[4]) == required and _parse_int(parts[5]) == existing
    assert _parse_int(parts[6]) == required - existing and parts[-1] == "fail"
    total_required = sum(math.ceil(d["pop"] / 50_000) for d in _districts())
    assert f"required {total_required}," in out

    wb = load_workbook(target)
    records = _sheet_records(wb[RULE], 15)
    row = next(r for r in records if r["单元"] == "成华区")
    assert row["应有"] == required and row["现有"] == existing
    assert row["研究区内常住人口（按面积比例折算）"] == 458_444
    assert len([r for r in records if r["区划代码"]]) == 5


def test_standards_exit_code_with_fail_on_deficit_and_other_formats(tmp_path, capsys):
    code, _, _ = _run(capsys, "standards", "--no-access", "--fail-on-deficit", "--out", str(tmp_path / "t.csv"))
    assert code == 1  # no district has its reading rooms
    table = pd.read_csv(tmp_path / "t.csv", encoding="utf-8-sig", dtype={"区划代码": str})
    row = table[(table["区划代码"] == "510106") & (table["规则编号"] == RULE)]
    assert row["应有"].tolist() == [math.ceil(256_142 / 50_000)]
    code, _, _ = _run(capsys, "standards", "--no-access", "--lang", "en", "--out", str(tmp_path / "t.gpkg"))
    assert code == 0
    units = gpd.read_file(tmp_path / "t.gpkg", layer="units")
    req = dict(zip(units["unit_id"], units[RULE.replace("-", "_") + "__required"]))
    assert req == {str(d["unit_id"]): math.ceil(d["pop"] / 50_000) for d in _districts()}
    # a preset where every district passes: nothing fails, exit 0 even with --fail-on-deficit
    rules = tmp_path / "easy.yaml"
    rules.write_text(yaml.safe_dump({"rules": [{
        "id": "easy", "kind": "per_capita_count", "facility_type": ["library"], "unit_level": ["区"],
        "per_residents": 10_000_000, "name_zh": "每千万人1个图书馆", "name_en": "easy",
        "source": {"document": "zhengzhou-2022", "section": "x"}}]}, allow_unicode=True), encoding="utf-8")
    code, out, _ = _run(capsys, "standards", "--catalogue", str(rules), "--fail-on-deficit")
    libraries = pd.read_csv(CHENGDU / "facilities.csv").query("type == 'library' and public")
    # each district needs 1 library; it passes only where a public library stands
    lonlat = list(zip(libraries["lon"], libraries["lat"]))
    n_fail = sum(_count_in(d["geometry"], lonlat) == 0 for d in _districts())
    assert f"rows failing / 未达标: {n_fail} of 5" in out
    assert code == (1 if n_fail else 0)


def test_standards_bad_preset_and_bad_output_extension_exit_2(tmp_path, capsys):
    code, out, err = _run(capsys, "standards", "--preset", "no-such-preset")
    assert code == 2 and "no-such-preset" in err and "gb50180-life-circle" in err and out == ""
    code, _, err = _run(capsys, "standards", "--out", str(tmp_path / "x.docx"))
    assert code == 2 and "`--out`" in err and ".xlsx" in err
    assert not (tmp_path / "x.docx").exists()


# ---------------------------------------------------------------------- access
def test_access_summary_matches_the_cells_written(tmp_path, capsys):
    target = tmp_path / "cells.csv"
    code, out, _ = _run(capsys, "access", "--types", "library", "--threshold", "15", "--out", str(target))
    assert code == 0
    cells = pd.read_csv(target, encoding="utf-8-sig", dtype={"unit_id": str})
    grid = gpd.read_file(CHENGDU / "population_grid.gpkg", layer="population_grid")
    assert len(cells) == len(grid) and cells["pop"].sum() == pytest.approx(grid["pop"].sum())
    covered = cells["time_s"].le(900) & cells["time_s"].notna()
    assert (cells["covered"] == covered).all()
    by_unit = cells[covered].groupby("unit_id")["pop"].sum()
    for d in _districts():
        parts = _line_of(out, d["name"])
        assert _parse_int(parts[3]) == round(by_unit.get(str(d["unit_id"]), 0.0))
        assert _parse_int(parts[2]) == d["pop"]
    # two public libraries count; the university libraries do not
    fac = pd.read_csv(CHENGDU / "facilities.csv")
    n_public = int(((fac["type"] == "library") & fac["public"]).sum())
    assert f"计入设施: {n_public} (library)" in out
    assert set(cells.loc[covered, "facility_id"]) <= set(fac.loc[(fac["type"] == "library") & fac["public"],
                                                                  "facility_id"])


def test_access_unknown_type_exits_2(capsys):
    code, _, err = _run(capsys, "access", "--types", "library,spaceport")
    assert code == 2 and "`--types`" in err and "spaceport" in err


# ---------------------------------------------------------------------- siting
def test_site_p3_prints_and_exports_three_sites(tmp_path, capsys):
    from coverage.study_area import load_default
    from coverage.workflow import READING_SPACE_TYPES, AccessParams, access_analysis, add_facilities

    gpkg, xlsx = tmp_path / "sites.gpkg", tmp_path / "list.xlsx"
    code, out, _ = _run(capsys, "site", "--p", "3", "--curve", "3", "--out", str(gpkg),
                        "--shortfall-out", str(xlsx), "-q")
    assert code == 0
    lines = [ln.split() for ln in out.splitlines() if re.match(r"^S\d\d\s", ln)]
    assert [p[0] for p in lines] == ["S01", "S02", "S03"]
    sites = gpd.read_file(gpkg)
    assert len(sites) == 3 and sites.crs.to_epsg() == 32648
    ll = sites.geometry.to_crs(4326)
    for (_, r), p, pt in zip(sites.iterrows(), lines, ll):
        assert float(p[3]) == pytest.approx(pt.x, abs=2e-6) and float(p[4]) == pytest.approx(pt.y, abs=2e-6)
        # GCJ-02 is shifted by a few hundred metres in Chengdu
        assert 0.001 < float(p[5]) - float(p[3]) < 0.005 and -0.005 < float(p[6]) - float(p[4]) < -0.001
        assert _district(p[1])["geometry"].contains(pt)
        assert _parse_int(p[2]) == round(r["newly_covered_pop"])

    before = _parse_int(re.search(r"covered before / 现状覆盖: ([\d,]+)", out).group(1))
    after = _parse_int(re.search(r"covered after / 新增后覆盖: ([\d,]+)", out).group(1))
    assert after - before == pytest.approx(sites["newly_covered_pop"].sum(), abs=2)
    curve = [ln.split() for ln in out.split("coverage curve")[1].splitlines() if re.match(r"^\s+\d+\s", ln)]
    assert [int(c[0]) for c in curve] == [1, 2, 3] and _parse_int(curve[-1][1]) == after

    # independent check: nearest-facility times with the new sites open give the same coverage
    area = load_default()
    with_new = add_facilities(area.facilities, sites.assign(facility_type="city_reading_room"))
    res = access_analysis(area, AccessParams(facility_types=READING_SPACE_TYPES), facilities=with_new)
    assert res.covered_pop == pytest.approx(after, abs=2)

    wb = load_workbook(xlsx)
    assert "选址建议" in wb.sheetnames
    recs = _sheet_records(wb["选址建议"], 5)
    data = [r for r in recs if r["区划代码"]]
    assert len(data) == 3
    assert sorted(round(r["新增覆盖人口"]) for r in data) == sorted(round(v) for v in sites["newly_covered_pop"])
    budget = next(r for r in recs if r["所在区"] == "预算合计")
    assert budget["估算费用（元）"] == 3 * 1_500_000


def test_site_infeasible_quota_within_budget_exits_3(capsys):
    # the quotas need 22 reading rooms, the budget pays for 2
    code, out, err = _run(capsys, "site", "--quota-preset", "zhengzhou-2022-culture-space",
                          "--budget", "3000000", "-q")
    assert code == 3
    assert "quota" in err and "budget" in err and "Traceback" not in err
    assert "S01" not in out


def test_site_option_errors_exit_2(tmp_path, capsys):
    code, _, err = _run(capsys, "site", "--p", "0")
    assert code == 2 and "`p`" in err
    code, _, err = _run(capsys, "site", "--p", "2", "--shortfall-out", str(tmp_path / "x.csv"))
    assert code == 2 and "--shortfall-out" in err
    code, _, err = _run(capsys, "site", "--p", "2", "--type", "castle")
    assert code == 2 and "castle" in err


# ---------------------------------------------------------------------- internal errors
def test_unexpected_error_exits_4_with_traceback_only_with_debug(monkeypatch, capsys):
    import coverage.standards

    def boom():
        raise RuntimeError("catalogue exploded")

    monkeypatch.setattr(coverage.standards, "list_presets", boom)
    code, out, err = _run(capsys, "presets")
    assert code == 4 and "RuntimeError: catalogue exploded" in err and "Traceback" not in err
    assert "--debug" in err
    code, _, err = _run(capsys, "presets", "--debug")
    assert code == 4 and "Traceback" in err


# ---------------------------------------------------------------------- own files
def _gcj02(lon: float, lat: float) -> tuple[float, float]:
    from coverage.facilities import wgs84_to_gcj02

    g = wgs84_to_gcj02(np.array([lon]), np.array([lat]))
    return float(g[0][0]), float(g[1][0])


def _write_two_districts(folder: Path, fac_lonlat: tuple[float, float]) -> dict[str, Path]:
    lon0, lat0, side = 104.2, 30.9, 0.02
    feats, pts = [], []
    for j, (name, pop) in enumerate((("西区", 120_000), ("东区", 60_000))):
        x0 = lon0 + j * side
        ring = [[x0, lat0], [x0 + side, lat0], [x0 + side, lat0 + side], [x0, lat0 + side], [x0, lat0]]
        feats.append({"type": "Feature", "properties": {"adcode": f"51990{j}", "name": name, "unit_type": "区",
                                                        "pop": pop},
                      "geometry": {"type": "Polygon", "coordinates": [ring]}})
        pts += [{"type": "Feature", "properties": {"pop": pop / 4},
                 "geometry": {"type": "Point", "coordinates": [x0 + (a + .5) * side / 2, lat0 + (b + .5) * side / 2]}}
                for a in range(2) for b in range(2)]
    files = {"boundaries": folder / "units.geojson", "population": folder / "pop.geojson",
             "facilities": folder / "fac.csv"}
    files["boundaries"].write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False),
                                   encoding="utf-8")
    files["population"].write_text(json.dumps({"type": "FeatureCollection", "features": pts}), encoding="utf-8")
    files["facilities"].write_text(f"id,名称,类型,经度,纬度\nA1,书房,城市书房,{fac_lonlat[0]:.7f},{fac_lonlat[1]:.7f}\n",
                                   encoding="utf-8")
    return files


def test_file_options_and_gcj02_facilities(tmp_path, capsys):
    # a reading room 100 m west of the district border: its GCJ-02 position lies east of the border
    true_lon, true_lat = 104.22 - 0.001, 30.91
    gcj = _gcj02(true_lon, true_lat)
    assert gcj[0] > 104.22
    files = _write_two_districts(tmp_path, gcj)
    args = ["standards", "--boundaries", str(files["boundaries"]),
            "--population", str(files["population"]), "--facilities", str(files["facilities"])]

    code, out, _ = _run(capsys, *args, "--coord-system", "gcj02")
    assert code == 0
    west, east = _line_of(out, "西区"), _line_of(out, "东区")
    assert (_parse_int(west[4]), _parse_int(west[5])) == (math.ceil(120_000 / 50_000), 1)
    assert (_parse_int(east[4]), _parse_int(east[5])) == (math.ceil(60_000 / 50_000), 0)
    assert "no road network" in out

    code, out, _ = _run(capsys, *args, "--no-access")  # read as WGS84, it lands in the east district
    assert code == 0
    assert _parse_int(_line_of(out, "西区")[5]) == 0 and _parse_int(_line_of(out, "东区")[5]) == 1
    assert "no road network" not in out

    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump({"name": "two", "boundaries": "units.geojson", "population": "pop.geojson",
                                     "facilities": {"path": "fac.csv", "coord_system": "gcj02"}}), encoding="utf-8")
    code, out, _ = _run(capsys, "info", "--study", str(study))
    assert code == 0 and "two" in out and "180,000" in out

    code, _, err = _run(capsys, "info", "--study", str(study), "--boundaries", str(files["boundaries"]))
    assert code == 2 and "--study" in err
    # --facilities alone: the facility file replaces the default area's facilities (its
    # reading room lies outside central Chengdu, so the file is refused naming the row).
    code, _, err = _run(capsys, "info", "--facilities", str(files["facilities"]))
    assert code == 2 and "fac.csv, row 2" in err and "outside the study area" in err


def test_facilities_alone_replace_the_default_areas_facilities(tmp_path, capsys):
    path = tmp_path / "书房.csv"
    path.write_text("名称,类型,经度,纬度\n书房甲,城市书房,104.1040,30.6850\n", encoding="utf-8")
    code, out, err = _run(capsys, "standards", "--facilities", str(path), "--no-access")
    assert code == 0, err
    chenghua = _line_of(out, "成华区")
    assert (_parse_int(chenghua[4]), _parse_int(chenghua[5])) == (10, 1)


# ---------------------------------------------------------------------- scenarios
def test_scenario_saved_with_the_api_is_exported_by_the_cli(tmp_path, capsys):
    from coverage.scenario import AddedFacility, Scenario, ScenarioStore, SelectedSite, SitingResult

    chenghua = _district("成华区")
    # the most populated grid cell of 成华区 (the district polygon reaches beyond the road data)
    grid = gpd.read_file(CHENGDU / "population_grid.gpkg", layer="population_grid")
    cell = grid[grid["unit_id"].astype(str) == "510108"].sort_values("pop").iloc[-1]
    pt = gpd.GeoSeries([cell.geometry.centroid], crs=grid.crs).to_crs(4326).iloc[0]
    assert chenghua["geometry"].contains(pt)
    jinniu = _district("金牛区")["geometry"].representative_point()
    qingyang = _district("青羊区")["geometry"].representative_point()
    store_path = tmp_path / "project.gpkg"
    store = ScenarioStore(store_path)
    added = AddedFacility.from_lonlat("new-1", "新建城市书房", "city_reading_room", pt.x, pt.y)
    sites = []
    for i, (p, pop) in enumerate(((jinniu, 12_000.0), (qingyang, 8_000.0)), start=1):
        x, y = _metric(p.x, p.y)
        sites.append(SelectedSite(site_id=f"S{i}", x=x, y=y, lon=p.x, lat=p.y, new_pop=pop, name=f"候选{i}"))
    store.save(Scenario(name="方案A", author="规划科", notes="成华区新增一处书房",
                        added=(added,), params={"preset": "zhengzhou-2022-culture-space",
                                                "facility_type": "city_reading_room", "mode": "walk",
                                                "threshold_min": 15},
                        siting=SitingResult(sites=tuple(sites), objective=20_000.0, gap=0.0, model="mclp")))

    code, out, _ = _run(capsys, "scenario", "list", "--store", str(store_path))
    assert code == 0
    row = _line_of(out, "方案A")
    assert row[1] == "规划科" and row[2:5] == ["1", "0", "2"]

    code, out, _ = _run(capsys, "scenario", "show", "方案A", "--store", str(store_path))
    assert code == 0
    assert "new-1" in out and "新建城市书房" in out and '"threshold_min": 15' in out
    assert "成华区新增一处书房" in out and "2 sites" in out

    target = tmp_path / "scenario.xlsx"
    code, out, _ = _run(capsys, "scenario", "export", "方案A", "--store", str(store_path), "--out", str(target))
    assert code == 0
    base = _count_in(chenghua["geometry"], _embedded_culture_spaces())
    wb = load_workbook(target)
    recs = {r["单元"]: r for r in _sheet_records(wb[RULE], 15) if r["区划代码"]}
    assert recs["成华区"]["现有"] == base and recs["成华区"]["规划（方案）"] == 1
    assert recs["成华区"]["缺口"] == math.ceil(458_444 / 50_000) - base - 1
    assert recs["金牛区"]["现有"] == _count_in(_district("金牛区")["geometry"], _embedded_culture_spaces())
    props = [r for r in _sheet_records(wb["选址建议"], 5) if r["区划代码"]]
    assert sorted((r["所在区"], round(r["新增覆盖人口"])) for r in props) == [("金牛区", 12_000), ("青羊区", 8_000)]

    # coverage at the scenario's mode and threshold: the added reading room covers more residents
    from coverage.study_area import load_default
    from coverage.workflow import AccessParams, access_analysis

    covered = _parse_int(re.search(r"coverage / 覆盖: ([\d,]+) of", out).group(1))
    base_cov = access_analysis(load_default(), AccessParams(threshold_min=15)).covered_pop
    assert covered > round(base_cov) + 1_000
    notes = {row[0]: row[1] for row in wb["说明"].iter_rows(values_only=True) if row and row[0]}
    assert notes["coverage"].startswith(f"{covered:,} of") and notes["scenario"] == "方案A"

    code, _, err = _run(capsys, "scenario", "export", "方案B", "--store", str(store_path), "--out", str(target))
    assert code == 2 and "方案A" in err  # the message lists the stored names
    code, _, err = _run(capsys, "scenario", "show", "--store", str(tmp_path / "none.gpkg"))
    assert code == 2 and "none.gpkg" in err

    code, out, _ = _run(capsys, "scenario", "delete", "方案A", "--store", str(store_path))
    assert code == 0
    assert len(ScenarioStore(store_path)) == 0


def _metric(lon: float, lat: float) -> tuple[float, float]:
    from coverage.geo import CHENGDU_CRS, to_metric

    x, y = to_metric(np.array([lon]), np.array([lat]), CHENGDU_CRS)
    return float(x[0]), float(y[0])


def test_site_refuses_a_negative_min_distance(capsys):
    code = main(["site", "--min-distance", "-5", "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "min_distance" in err and "-5" in err and "Fix:" in err


def test_site_refuses_budget_with_p_median_instead_of_ignoring_it(capsys):
    code = main(["site", "--model", "p_median", "--budget", "3000000", "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "budget" in err and "p_median" in err and "--p" in err


def test_site_budget_below_one_site_says_so_with_the_cheapest_cost(capsys):
    code = main(["site", "--budget", "1000", "-q"])
    captured = capsys.readouterr()
    assert code == 2, captured.out + captured.err
    assert "1,500,000" in captured.err and "1,000" in captured.err and "Fix:" in captured.err
    assert "new sites" not in captured.out
# ---------------------------------------------------------------------- unsafe targets
def _full_disk_run(tmp_path, folder: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(ROOT / "tests" / "_full_disk.py"), str(folder), *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=_subprocess_env(), cwd=tmp_path,
                          timeout=300)


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_full_disk_is_a_clean_error_and_leaves_the_old_file(tmp_path, suffix):
    full = tmp_path / "full"
    full.mkdir()
    target = full / f"list{suffix}"
    target.write_bytes(b"previous list")
    r = _full_disk_run(tmp_path, full, "standards", "--out", str(target))
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and "Exception ignored" not in r.stderr, r.stderr
    assert str(target) in r.stderr and "disk space" in r.stderr and "Fix:" in r.stderr
    assert target.read_bytes() == b"previous list"
    assert [p.name for p in full.iterdir()] == [target.name]


def test_full_tmpfs_is_a_clean_error(tmp_path):
    """The same on a real, full file system (needs permission to mount a tmpfs)."""
    full = tmp_path / "tmpfs"
    full.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(full)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        subprocess.run(["dd", "if=/dev/zero", f"of={full / 'filler'}", "bs=1k"], capture_output=True)
        r = subprocess.run([sys.executable, "-m", "coverage.cli", "standards", "--out", str(full / "x.xlsx")],
                           capture_output=True, text=True, env=_subprocess_env(), cwd=tmp_path, timeout=300)
        assert r.returncode == 2, r.stderr
        assert "Traceback" not in r.stderr and "Exception ignored" not in r.stderr, r.stderr
        assert "disk space" in r.stderr
        assert not (full / "x.xlsx").exists()
        assert [p.name for p in full.iterdir()] == ["filler"]
    finally:
        subprocess.run(["umount", str(full)], capture_output=True)


def test_exports_refuse_symlinks_and_read_only_files(tmp_path, capsys):
    real = tmp_path / "real.xlsx"
    real.write_bytes(b"someone else's file")
    link = tmp_path / "link.xlsx"
    link.symlink_to(real)
    code, _, err = _run(capsys, "standards", "--out", str(link))
    assert code == 2 and str(link) in err and "symbolic link" in err and "Fix:" in err
    assert link.is_symlink() and real.read_bytes() == b"someone else's file"

    ro = tmp_path / "ro.csv"
    ro.write_bytes(b"kept")
    ro.chmod(0o444)
    code, _, err = _run(capsys, "standards", "--out", str(ro))
    assert code == 2 and str(ro) in err and "read-only" in err and "Fix:" in err
    assert ro.read_bytes() == b"kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.xlsx", "real.xlsx", "ro.csv"]

    folder = tmp_path / "dir.gpkg"
    folder.mkdir()
    code, _, err = _run(capsys, "standards", "--out", str(folder))
    assert code == 2 and str(folder) in err and "Traceback" not in err


def test_site_csv_export_neutralises_formula_text(tmp_path):
    import geopandas as gpd

    from coverage.cli import _write_sites

    sites = gpd.GeoDataFrame({"site_id": ["S1"], "district": ["=HYPERLINK(\"http://203.0.113.9\")"],
                              "newly_covered_pop": [-0.0]},
                             geometry=gpd.points_from_xy([104.08], [30.69]), crs="EPSG:4326")
    path = _write_sites(sites, str(tmp_path / "s.csv"))
    df = pd.read_csv(path, encoding="utf-8-sig")
    assert df["district"].tolist() == ["'=HYPERLINK(\"http://203.0.113.9\")"]
    assert df["newly_covered_pop"].tolist() == [0.0]


def test_gcj02_facilities_read_as_wgs84_are_flagged_on_stderr(tmp_path, capsys):
    from coverage.facilities import wgs84_to_gcj02

    fac = pd.read_csv(CHENGDU / "facilities.csv")
    fac["lon"], fac["lat"] = wgs84_to_gcj02(fac["lon"].to_numpy(), fac["lat"].to_numpy())
    fac.to_csv(tmp_path / "amap.csv", index=False)
    files = ["--boundaries", str(CHENGDU / "districts.geojson"), "--population", str(CHENGDU / "population_grid.gpkg"),
             "--facilities", str(tmp_path / "amap.csv"), "--network", str(CHENGDU / "chengdu_core_2018.osm.pbf")]
    code = main(["info", *files])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "note: amap.csv" in err and "GCJ-02" in err and "--coord-system gcj02" in err
    assert main(["info", *files, "--coord-system", "gcj02"]) == 0
    assert "GCJ-02" not in capsys.readouterr().err
