"""Shortfall workbook of a scenario: existing, planned and proposed kept apart, header block named."""

from __future__ import annotations

import io
import math
import sys
from pathlib import Path

import geopandas as gpd
import openpyxl
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from coverage.geo import WGS84  # noqa: E402
from coverage.scenario import Scenario  # noqa: E402
from coverage.study_area import load_default  # noqa: E402
from coverage.workflow import evaluate_standards  # noqa: E402
from ui import logic  # noqa: E402

PRESET = "zhengzhou-2022-culture-space"
RULE = "zz-culture-space-per-capita"
CHENGHUA = "510108"


def header_row(ws, first: str) -> int:
    for row in ws.iter_rows(min_row=1, max_row=40):
        if row[0].value == first:
            return row[0].row
    raise AssertionError(f"no header row starting with {first!r}")


def records(ws, first: str) -> list[dict]:
    h = header_row(ws, first)
    keys = [c.value for c in ws[h]]
    return [dict(zip(keys, r)) for r in ws.iter_rows(min_row=h + 1, values_only=True)]


@pytest.fixture(scope="module")
def area():
    return load_default()


@pytest.fixture(scope="module")
def six_planned(area):
    base = area.facilities
    assert not base["type"].isin(["city_reading_room", "culture_station"]).any()  # 0 real ones
    cells = area.grid[area.grid["unit_id"].astype(str) == CHENGHUA].sort_values("pop", ascending=False)
    pts = gpd.GeoSeries(cells.geometry.representative_point().iloc[:6].to_numpy(), crs=area.crs).to_crs(WGS84)
    sc = Scenario(name="方案六室", study_area=area.name, crs=str(area.crs))
    for p in pts:
        sc = logic.add_planned(sc, base, area=area, lon=p.x, lat=p.y, facility_type="city_reading_room")
    fac = logic.scenario_facilities(base, sc)
    return sc, evaluate_standards(area, PRESET, facilities=fac, with_access=False)


def test_planned_rooms_are_not_counted_as_existing(area, six_planned):
    sc, ev = six_planned
    data = logic.shortfall_xlsx_bytes(ev, meta={"scenario": sc.name, "mode": "walk", "threshold_min": 15})
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb[RULE]
    rows = {r["单元"]: r for r in records(ws, "单元") if r["单元"]}
    required = math.ceil(458_444 / 50_000)
    ch = rows["成华区"]
    assert ch["现有"] == 0 and ch["规划（方案）"] == 6 and ch["应有"] == required
    assert ch["缺口"] == required - 6
    total = rows["合计"]
    all_required = sum(math.ceil(p / 50_000) for p in (56_841, 122_106, 256_142, 2_325, 458_444))
    assert total["现有"] == 0 and total["规划（方案）"] == 6 and total["应有"] == all_required
    assert total["缺口"] == all_required - 6
    # header block: scenario, mode and threshold, standard, data vintage, honest population label
    top = "\n".join(str(c) for row in ws.iter_rows(max_row=header_row(ws, "单元"), values_only=True)
                    for c in row if c is not None)
    assert "方案六室" in top and "步行" in top and "15 分钟" in top
    assert "郑州2022" in top and "2020" in top and "OSM" in top
    assert "研究区内常住人口（按面积比例折算）" in [c.value for c in ws[header_row(ws, "单元")]]
    summary = records(wb["汇总"], "规则编号")
    assert summary[0]["现有"] == 0 and summary[0]["规划（方案）"] == 6 and summary[0]["缺口"] == all_required - 6


def test_header_block_english_and_proposed_column(area, six_planned):
    sc, ev = six_planned
    cells = area.grid[area.grid["unit_id"].astype(str) == "510106"].sort_values("pop", ascending=False)
    sites = gpd.GeoDataFrame({"facility_type": ["city_reading_room"] * 2, "newly_covered_pop": [100.0, 50.0],
                              "unit_id": ["510106"] * 2},
                             geometry=cells.geometry.representative_point().iloc[:2].to_numpy(), crs=area.crs)
    data = logic.shortfall_xlsx_bytes(ev, lang="en", proposals=sites,
                                      meta={"scenario": sc.name, "mode": "bike", "threshold_min": 10})
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb[RULE]
    rows = {r["Unit"]: r for r in records(ws, "Unit") if r["Unit"]}
    jn = rows["金牛区"]
    need = math.ceil(256_142 / 50_000)
    assert jn["Existing"] == 0 and jn["Planned (scenario)"] == 0 and jn["Proposed"] == 2
    assert jn["Deficit"] == need and jn["Deficit after proposals"] == need - 2
    top = "\n".join(str(c) for row in ws.iter_rows(max_row=header_row(ws, "Unit"), values_only=True)
                    for c in row if c is not None)
    assert "Cycling" in top and "10 min" in top and "Zhengzhou 2022" in top
    assert "Residents in study area (census scaled by area share)" in [c.value for c in ws[header_row(ws, "Unit")]]


def test_without_scenario_the_header_says_so(area):
    ev = evaluate_standards(area, PRESET, with_access=False)
    wb = openpyxl.load_workbook(io.BytesIO(logic.shortfall_xlsx_bytes(ev)))
    ws = wb[RULE]
    rows = {r["单元"]: r for r in records(ws, "单元") if r["单元"]}
    assert rows["合计"]["规划（方案）"] == 0
    top = "\n".join(str(c) for row in ws.iter_rows(max_row=header_row(ws, "单元"), values_only=True)
                    for c in row if c is not None)
    assert "现状（无规划方案）" in top


def test_page_export_meta_names_the_scenario_only_with_edits(area, six_planned):
    sc, _ = six_planned
    opts = {"mode": "bike", "threshold_min": 10.0}
    meta = logic.export_meta(area, sc, opts)
    assert meta["scenario"] == "方案六室" and meta["mode"] == "bike" and meta["threshold_min"] == 10.0
    assert meta["study_area"] == area.name and meta["data_date"] == area.data_date
    empty = Scenario(name="未命名", study_area=area.name, crs=str(area.crs))
    assert "scenario" not in logic.export_meta(area, empty, opts)
