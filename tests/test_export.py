"""Shortfall exports re-opened and checked cell by cell."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point, box

import coverage
import coverage.export as export_mod
from coverage.errors import InputError
from coverage.export import export_csv, export_geojson, export_gpkg, export_xlsx, proposals_table
from coverage.standards import evaluate, load_catalogue, load_costs

DATA = Path(coverage.__file__).resolve().parent.parent / "data"
CRS = "EPSG:32648"
ZZ_TITLE = "关于推动郑州市公共文化服务高质量发展的实施意见"


@pytest.fixture(scope="module")
def zhengzhou():
    df = pd.read_csv(DATA / "census" / "census2020_zhengzhou_chengdu_yiyang.csv", dtype={"adcode": str})
    df = df[(df["city"] == "郑州市") & (df["unit_type"] != "city_total")]
    units = df.rename(columns={"county": "name", "pop_total": "pop", "adcode": "unit_id"})
    fac = pd.DataFrame({"type": ["city_reading_room"] * 12, "unit_id": ["410102"] * 12})
    rules = list(load_catalogue("zhengzhou-2022-culture-space")) + [load_catalogue("all")["sc-museum-per-county"]]
    return evaluate(units, fac, rules, data_date="2020-11-01 (第七次全国人口普查)")


@pytest.fixture(scope="module")
def mapped():
    x0, y0 = 400_000.0, 3_390_000.0
    units = gpd.GeoDataFrame(
        {"unit_id": ["510104", "510105"], "name": ["锦江区", "青羊区"], "unit_type": ["区", "区"],
         "pop": [902_933, 955_954]},
        geometry=[box(x0, y0, x0 + 3000, y0 + 3000), box(x0 + 3000, y0, x0 + 6000, y0 + 3000)], crs=CRS)
    fac = gpd.GeoDataFrame({"type": ["city_reading_room", "culture_station", "museum", "library"],
                            "floor_area_m2": [300.0, 200.0, np.nan, 5000.0]},
                           geometry=[Point(x0 + 500, y0 + 500), Point(x0 + 700, y0 + 900),
                                     Point(x0 + 4000, y0 + 100), Point(x0 + 3500, y0 + 2000)], crs=CRS)
    rules = load_catalogue("all")
    ev = evaluate(units, fac, [rules["zz-culture-space-per-capita"], rules["lib-floor-area"],
                               rules["sc-museum-per-county"], rules["zz-culture-space-citywide"]],
                  data_date="2020")
    return ev, units


def sheet_rows(ws, start: int) -> list[tuple]:
    return [r for r in ws.iter_rows(min_row=start, values_only=True)]


# ------------------------------------------------------------------ XLSX
def test_xlsx_chinese_sheet_per_rule_sorted_with_source(zhengzhou, tmp_path):
    path = export_xlsx(zhengzhou, tmp_path / "缺口清单.xlsx", meta={"study_area": "郑州市"})
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["汇总", "zz-culture-space-per-capita", "sc-museum-per-county", "说明"]
    ws = wb["zz-culture-space-per-capita"]
    assert ZZ_TITLE in ws["A2"].value and "专项工作3" in ws["A2"].value
    assert "50,000" in ws["A3"].value and "100,000" in ws["A3"].value
    assert "2020-11-01" in ws["A4"].value
    header = [c.value for c in ws[15]]
    assert header[:11] == ["单元", "区划代码", "单元类型", "常住人口", "计量", "应有", "现有", "规划（方案）", "缺口",
                           "富余", "是否达标"]
    assert ws.freeze_panes == "A16"
    rows = sheet_rows(ws, 16)
    body, total = rows[:-1], rows[-1]
    assert len(body) == 15
    deficits = [r[8] for r in body]
    assert deficits == sorted(deficits, reverse=True)
    assert body[0][0] == "金水区" and body[0][5] == 43 and body[0][8] == 43
    zhongyuan = next(r for r in body if r[0] == "中原区")
    assert zhongyuan[5:10] == (20, 12, 0, 8, 0)  # 962,642 / 50,000 -> 20 required, 12 exist, none planned
    assert total[0] == "合计" and total[5] == 207 and total[8] == 207 - 12
    assert {r[10] for r in body} == {"未达标"}
    assert ws.cell(row=16, column=4).number_format == "#,##0"
    assert ws.column_dimensions["A"].width > 8
    summary = wb["汇总"]
    assert summary.freeze_panes == "A13"
    srows = sheet_rows(summary, 13)
    assert srows[0][0] == "zz-culture-space-per-capita" and srows[0][9] == 195
    assert ZZ_TITLE in srows[0][11]
    notes = "\n".join(str(v) for row in wb["说明"].iter_rows(values_only=True) for v in row if v is not None)
    assert ZZ_TITLE in notes and "四川省“十四五”公共文化服务体系建设规划" in notes
    assert "2020-11-01" in notes and "郑州市" in notes and "郑文广旅〔2022〕46号" in notes


def test_xlsx_english(zhengzhou, tmp_path):
    wb = openpyxl.load_workbook(export_xlsx(zhengzhou, tmp_path / "shortfall.xlsx", lang="en"))
    assert wb.sheetnames[0] == "Summary" and wb.sheetnames[-1] == "Notes"
    ws = wb["zz-culture-space-per-capita"]
    assert [c.value for c in ws[15]][:4] == ["Unit", "Code", "Unit type", "Residents"]
    assert ws["A1"].value.startswith("zz-culture-space-per-capita  New-type public culture spaces")
    assert ws["A2"].value.startswith("Source: 《" + ZZ_TITLE)
    assert ws["A3"].value.startswith("Parameters: residents per facility")
    assert sheet_rows(ws, 16)[-1][0] == "Total"
    assert sheet_rows(ws, 16)[0][10] == "fail"
    with pytest.raises(InputError, match="`lang`"):
        export_xlsx(zhengzhou, tmp_path / "x.xlsx", lang="fr")


def test_xlsx_write_is_atomic(zhengzhou, tmp_path, monkeypatch):
    target = tmp_path / "report.xlsx"
    target.write_bytes(b"previous report")

    def broken_save(self, filename):
        data = b"PK\x03\x04 half a workbook"
        filename.write(data) if hasattr(filename, "write") else Path(filename).write_bytes(data)
        raise OSError("disk full")

    monkeypatch.setattr(openpyxl.Workbook, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        export_xlsx(zhengzhou, target)
    assert target.read_bytes() == b"previous report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.xlsx"]


def test_geojson_write_is_atomic(mapped, tmp_path, monkeypatch):
    ev, _ = mapped
    target = tmp_path / "units.geojson"
    target.write_text("{}", encoding="utf-8")

    def broken_dump(obj, fh, **kw):
        fh.write('{"type": "FeatureCollection", "feat')
        raise RuntimeError("interrupted")

    monkeypatch.setattr(export_mod.json, "dump", broken_dump)
    with pytest.raises(RuntimeError):
        export_geojson(ev, target)
    assert target.read_text(encoding="utf-8") == "{}"
    assert [p.name for p in tmp_path.iterdir()] == ["units.geojson"]


def test_missing_folder_is_an_input_error(zhengzhou, tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        export_csv(zhengzhou, tmp_path / "nope" / "a.csv")


# ------------------------------------------------------------------ CSV
def test_csv_has_bom_source_and_date(zhengzhou, tmp_path):
    path = export_csv(zhengzhou, tmp_path / "shortfall.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    df = pd.read_csv(path, encoding="utf-8-sig", dtype={"区划代码": str})
    assert list(df.columns[:3]) == ["规则编号", "规则名称", "单元"]
    assert (df["数据日期"] == "2020-11-01 (第七次全国人口普查)").all()
    zz = df[df["规则编号"] == "zz-culture-space-per-capita"]
    assert zz["依据文件"].str.contains(ZZ_TITLE).all()
    assert zz["参数"].str.contains("50,000").all()
    assert zz.iloc[-1]["单元"] == "合计" and zz.iloc[-1]["应有"] == 207
    assert zz.iloc[0]["单元"] == "金水区"
    en = pd.read_csv(export_csv(zhengzhou, tmp_path / "en.csv", lang="en"), encoding="utf-8-sig")
    assert {"Unit", "Deficit", "Source document", "Parameters", "Data date"} <= set(en.columns)


# ------------------------------------------------------------------ GIS
def test_geojson_is_wgs84_with_metadata(mapped, tmp_path):
    ev, units = mapped
    doc = json.loads(export_geojson(ev, tmp_path / "u.geojson").read_text(encoding="utf-8"))
    assert len(doc["features"]) == 2
    xs = [c[0] for f in doc["features"] for c in f["geometry"]["coordinates"][0]]
    ys = [c[1] for f in doc["features"] for c in f["geometry"]["coordinates"][0]]
    assert 100 < min(xs) < max(xs) < 110 and 25 < min(ys) < max(ys) < 35
    props = {f["properties"]["unit_id"]: f["properties"] for f in doc["features"]}
    # 902,933 / 50,000 -> 19 required, 2 exist (reading room + culture station)
    assert props["510104"]["zz_culture_space_per_capita__required"] == 19
    assert props["510104"]["zz_culture_space_per_capita__deficit"] == 17
    assert props["510105"]["sc_museum_per_county__status"] == "pass"
    assert props["510104"]["deficit_total"] == 17 + 1
    meta = doc["metadata"]
    assert meta["data_date"] == "2020"
    rule = next(r for r in meta["rules"] if r["id"] == "lib-floor-area")
    assert rule["source_year"] == 2017 and "全国公共图书馆事业发展规划" in rule["source"]
    assert "110" in rule["parameters"]


def test_geojson_needs_unit_geometry(zhengzhou, tmp_path):
    with pytest.raises(InputError, match="no geometry"):
        export_geojson(zhengzhou, tmp_path / "u.geojson")


def test_gpkg_layers(mapped, tmp_path):
    ev, units = mapped
    path = export_gpkg(ev, tmp_path / "shortfall.gpkg")
    layers = dict(pyogrio.list_layers(path))
    assert {"units", "shortfall", "totals", "rules"} <= set(layers)
    u = pyogrio.read_dataframe(path, layer="units")
    assert u.crs.to_epsg() == 32648
    assert u.set_index("unit_id").loc["510105", "lib_floor_area__existing"] == pytest.approx(5000)
    r = pyogrio.read_dataframe(path, layer="rules")
    assert (r["data_date"] == "2020").all() and r["source"].str.contains("《").all()
    s = pyogrio.read_dataframe(path, layer="shortfall")
    assert len(s) == len(ev.table[ev.table["unit"] != "全市"])


# ------------------------------------------------------------------ proposals
def test_gcj02_matches_published_reference_vector():
    # wgs84togcj02(116.404, 39.915) in the widely used coordtransform library
    site = gpd.GeoDataFrame({"unit_id": ["110101"], "facility_type": ["city_reading_room"],
                             "newly_covered_pop": [1000.0]},
                            geometry=[Point(116.404, 39.915)], crs="EPSG:4326").to_crs("EPSG:32650")
    t = proposals_table(site)
    assert t.loc[0, "lon_wgs84"] == pytest.approx(116.404, abs=1e-9)
    assert t.loc[0, "lon_gcj02"] == pytest.approx(116.41024449916938, abs=1e-8)
    assert t.loc[0, "lat_gcj02"] == pytest.approx(39.91640428150164, abs=1e-8)


def test_proposals_sheet_costs_and_budget(mapped, tmp_path):
    ev, _ = mapped
    x0, y0 = 400_000.0, 3_390_000.0
    sites = gpd.GeoDataFrame(
        {"unit_id": ["510104", "510105", "510104", "510105"],
         "facility_type": ["city_reading_room", "city_reading_room", "city_reading_room", "library"],
         "newly_covered_pop": [5200.0, 3100.0, 8800.0, 12000.0]},
        geometry=[Point(x0 + 100, y0 + 100), Point(x0 + 3100, y0 + 100), Point(x0 + 200, y0 + 2000),
                  Point(x0 + 5000, y0 + 2500)], crs=CRS)
    costs = {"city_reading_room": 1_200_000}
    library_cost = load_costs().unit_cost["library"]
    t = proposals_table(sites, result=ev, costs=costs)
    assert t["district"].tolist() == ["锦江区", "青羊区", "锦江区", "青羊区"]
    assert t["cost"].sum() == 3 * 1_200_000 + library_cost
    assert ((t["lon_gcj02"] - t["lon_wgs84"]).abs() > 1e-4).all()  # a few hundred metres of offset
    wb = openpyxl.load_workbook(export_xlsx(ev, tmp_path / "p.xlsx", proposals=sites, costs=costs))
    ws = wb["选址建议"]
    assert "假设" in ws["A2"].value
    assert [c.value for c in ws[5]][:3] == ["所在区", "区划代码", "设施类型"]
    rows = sheet_rows(ws, 6)
    assert [r[0] for r in rows] == ["锦江区", "锦江区", "锦江区 小计", "青羊区", "青羊区", "青羊区 小计", "预算合计"]
    assert rows[0][7] == 8800 and rows[1][7] == 5200  # largest newly covered first
    assert rows[2][9] == 2 * 1_200_000 and rows[2][7] == 14000
    assert rows[-1][9] == 3 * 1_200_000 + library_cost
    assert rows[0][2] == "城市书房"
    notes = "\n".join(str(v) for row in wb["说明"].iter_rows(values_only=True) for v in row if v is not None)
    assert "1,200,000" in notes or "1200000" in notes
    g = export_gpkg(ev, tmp_path / "p.gpkg", proposals=sites, costs=costs)
    p = pyogrio.read_dataframe(g, layer="proposals")
    assert len(p) == 4 and {"lon_gcj02", "lat_gcj02", "cost"} <= set(p.columns)


def test_proposals_are_validated():
    bad = gpd.GeoDataFrame({"facility_type": ["cinema"], "newly_covered_pop": [1.0], "unit_id": ["1"]},
                           geometry=[Point(0, 0)], crs=CRS)
    with pytest.raises(InputError, match="cinema"):
        proposals_table(bad)
    with pytest.raises(InputError, match="newly_covered_pop"):
        proposals_table(bad.drop(columns=["newly_covered_pop"]))
    with pytest.raises(InputError, match="no CRS"):
        proposals_table(bad.set_crs(None, allow_override=True).assign(facility_type="library"))


# ------------------------------------------------------------------ spreadsheet-safe text
FORMULAS = ('=HYPERLINK("http://203.0.113.9/","x")', "+SUM(1,2)", "-1+2", "@SUM(1)", "\t=1", "\r=2")


@pytest.fixture(scope="module")
def hostile():
    """Units whose names and codes a spreadsheet would read as formulas."""
    units = pd.DataFrame({"name": list(FORMULAS) + ["正常区"],
                          "unit_id": ["=1", "410102", "410103", "410104", "410105", "410106", "-7"],
                          "unit_type": ["区"] * 7,
                          "pop": [100000, 200000, 50000, 80000, 90000, 60000, 70000]})
    fac = pd.DataFrame({"type": ["city_reading_room"] * 3, "unit_id": ["410102"] * 3})
    return evaluate(units, fac, list(load_catalogue("zhengzhou-2022-culture-space")), data_date="=1+1")


def _sheet_xml(path: Path) -> str:
    import zipfile

    with zipfile.ZipFile(path) as z:
        return "".join(z.read(n).decode("utf-8") for n in z.namelist()
                       if n.startswith("xl/worksheets/"))


def test_xlsx_writes_formula_like_text_as_text(hostile, tmp_path):
    path = export_xlsx(hostile, tmp_path / "x.xlsx", meta={"study_area": "=cmd|' /C calc'!A0"})
    assert "<f>" not in _sheet_xml(path)  # no cell of the workbook is a formula
    wb = openpyxl.load_workbook(path)
    texts = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str):
                    texts[c.value] = c
                    assert c.data_type == "s", (ws.title, c.coordinate, c.value)
    # Shown unchanged (no added characters), marked as text for later edits too.
    for text in FORMULAS + ("=1", "=cmd|' /C calc'!A0"):
        text = text.replace("\r", "\n")  # XML keeps a carriage return as a line feed
        assert text in texts, text
        assert texts[text].quotePrefix
    assert "正常区" in texts and not texts["正常区"].quotePrefix
    # Numbers stay numbers.
    ws = wb[hostile.rules[0].id]
    shown = {f.replace("\r", "\n") for f in FORMULAS}
    pops = [r[3] for r in ws.iter_rows(min_row=7, values_only=True) if r[0] in shown]
    assert sorted(pops) == [50000, 60000, 80000, 90000, 100000, 200000]


def test_csv_neutralises_formula_text_and_keeps_numbers(hostile, tmp_path):
    import csv

    path = export_csv(hostile, tmp_path / "x.csv", lang="en")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    units = [r["Unit"] for r in rows if r["Rule id"] == hostile.rules[0].id]
    for text in FORMULAS:
        assert "'" + text in units, text
    assert "正常区" in units
    for r in rows:
        for value in r.values():
            assert not value.startswith(("=", "+", "@", "\t", "\r")), r
            assert not (value.startswith("-") and not _is_number(value)), r
    assert "'=1+1" in {r["Data date"] for r in rows}
    assert {r["Code"] for r in rows} >= {"'=1", "-7"}  # "-7" is a number, left alone


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_spreadsheet_text_rule():
    from coverage.safe_text import spreadsheet_frame, spreadsheet_text

    assert spreadsheet_text("=1+1") == "'=1+1" and spreadsheet_text("-1+2") == "'-1+2"
    assert spreadsheet_text("@x") == "'@x" and spreadsheet_text("\tx") == "'\tx"
    assert spreadsheet_text("a=1") == "a=1" and spreadsheet_text(-3.5) == -3.5
    assert spreadsheet_text("-3.5") == "-3.5" and spreadsheet_text("+86") == "+86"
    assert spreadsheet_text(None) is None
    frame = pd.DataFrame({"=a": ["=x", "ok", None], "n": [-1.0, 2.0, -3.0]})
    out = spreadsheet_frame(frame)
    assert list(out.columns) == ["'=a", "n"] and out["'=a"].tolist()[:2] == ["'=x", "ok"]
    assert out["n"].tolist() == [-1.0, 2.0, -3.0] and out["n"].dtype == float
    assert frame["=a"].tolist()[0] == "=x"  # the input is not changed


@pytest.mark.parametrize("note, expected", [
    ("functional zone counted as 区; facilities have no `volumes` column", "功能区按“区”计; 设施表没有“volumes”列"),
    ("3 of 12 facilities meet grade <= 3", "12 处设施中 3 处满足 grade <= 3"),
    ("units have no `art_teams` column", "行政单元表没有“art_teams”列"),
    ("`seats` unknown for 2 of 5 facilities", "5 处设施中 2 处的“seats”未知"),
    ("4 of 6 units have at least 1", "6 个单元中 4 个至少有 1 处"),
    ("pass `access` to evaluate proximity rules", "可达性规则需先计算可达性（`access`）"),
    ("no data", "无数据"),
])
def test_evaluation_notes_are_written_in_the_export_language(note, expected):
    from coverage.export import _note_text

    assert _note_text(note, "zh") == expected
    assert _note_text(note, "en") == note


def test_shortfall_exports_write_their_notes_in_chinese(zhengzhou, tmp_path):
    from openpyxl import load_workbook

    df = pd.read_csv(export_csv(zhengzhou, tmp_path / "s.csv"), encoding="utf-8-sig", dtype=str)
    notes = [n for n in df["说明"].dropna().unique() if n]
    assert notes and not [n for n in notes if re.search(r"[A-Za-z]{4,} [A-Za-z]{2,}", n)], notes
    wb = load_workbook(export_xlsx(zhengzhou, tmp_path / "s.xlsx"))
    cells = [str(c.value) for ws in wb.worksheets[1:] for row in ws.iter_rows() for c in row if c.value]
    assert not [c for c in cells if re.search(r"facilities (meet|have no)|units (have|without)|no data$", c)]
