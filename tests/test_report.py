"""Budget-request report: PDF pages, numbers equal to the XLSX export, map PNG, CLI, fonts."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import openpyxl
import pytest
from PIL import Image
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from coverage import report  # noqa: E402
from coverage import workflow as wf  # noqa: E402
from coverage.cli import main  # noqa: E402
from coverage.errors import InputError  # noqa: E402
from coverage.export import export_xlsx  # noqa: E402
from coverage.geo import WGS84  # noqa: E402
from coverage.scenario import Scenario, scenario_layer  # noqa: E402
from coverage.study_area import load_default  # noqa: E402
from ui import logic  # noqa: E402

PRESET = "zhengzhou-2022-culture-space"
RULE = "zz-culture-space-per-capita"
ARTIFACTS = ROOT / "tests" / "artifacts"
DAY = dt.date(2026, 12, 4)
NEEDS_CJK = pytest.mark.skipif(report.find_cjk_font() is None,
                               reason=f"no embeddable CJK font; install {report.CJK_FONT_PACKAGE}")


@pytest.fixture(scope="module")
def area():
    return load_default()


@pytest.fixture(scope="module")
def data(area):
    # a scenario with one planned reading room in 金牛区, and three proposed sites
    cell = area.grid[area.grid["unit_id"].astype(str) == "510106"].sort_values("pop").iloc[-1]
    pt = gpd.GeoSeries([cell.geometry.representative_point()], crs=area.crs).to_crs(WGS84).iloc[0]
    sc = logic.add_planned(Scenario(name="方案甲", study_area=area.name, crs=str(area.crs)), area.facilities,
                           area=area, lon=pt.x, lat=pt.y, facility_type="city_reading_room")
    fac = scenario_layer(area.facilities, sc)
    siting = wf.SitingParams(p=3, curve_k=3, mode="walk", threshold_min=15)
    return report.prepare_report(area, PRESET, siting=siting, facilities=fac, scenario=sc.name)


def _render(pdf: Path, stem: str) -> None:
    """Page renders for a person to look at (tests/artifacts, not committed)."""
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(ARTIFACTS / stem)], check=True)


def _tokens(reader: PdfReader, page: int) -> list[str]:
    return reader.pages[page].extract_text().split()


def _xlsx_rows(data, lang: str) -> tuple[dict, list]:
    path = ARTIFACTS / f"report_check_{lang}.xlsx"
    export_xlsx(data.evaluation, path, lang=lang, proposals=data.proposal.sites, meta=data.meta)
    wb = openpyxl.load_workbook(path)
    ws = wb[RULE]
    head = next(r[0].row for r in ws.iter_rows(max_row=40) if r[0].value in ("单元", "Unit"))
    keys = [c.value for c in ws[head]]
    rows = {r[0]: dict(zip(keys, r)) for r in ws.iter_rows(min_row=head + 1, values_only=True) if r[0]}
    sheet = wb["选址建议" if lang == "zh" else "Proposals"]
    budget = [r for r in sheet.iter_rows(values_only=True) if r[0] in ("预算合计", "Budget total")][0]
    return rows, [v for v in budget if v is not None]


@NEEDS_CJK
def test_chinese_pdf_pages_and_numbers_equal_the_xlsx(data):
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = report.write_report(data, ARTIFACTS / "report_zh.pdf", lang="zh", png=ARTIFACTS / "report_map_zh.png",
                              today=DAY)
    _render(pdf, "report_zh")
    reader = PdfReader(pdf)
    assert len(reader.pages) == 5
    first = reader.pages[0].extract_text()
    for text in ("公共文化设施建设资金申请报告", "chengdu-core", "2026-12-04", "方案甲", "步行 · 15 分钟", "郑州2022",
                 "郑文广旅〔2022〕46号", "研究区内常住人口（按面积比例折算）"):
        assert text in first, text
    assert "现有、规划与建议设施分布图" in reader.pages[1].extract_text()
    rows, budget = _xlsx_rows(data, "zh")
    tokens = _tokens(reader, 2)
    for unit in ("成华区", "金牛区", "青羊区", "锦江区", "武侯区", "合计"):
        x = rows[unit]
        i = tokens.index(unit)
        expect = [f"{x['研究区内常住人口（按面积比例折算）']:,.0f}"] + [
            f"{x[k]:,.0f}" for k in ("应有", "现有", "规划（方案）", "拟新建（选址建议）", "缺口", "建议后缺口")]
        assert tokens[i + 1:i + 8] == expect, unit
    assert rows["金牛区"]["规划（方案）"] == 1 and rows["合计"]["现有"] == 0
    # proposed sites: count and total cost as in the workbook
    tokens = _tokens(reader, 3)
    sites = [tok for tok in tokens if tok.startswith("S0")]
    assert len(sites) == len(data.proposal.sites) == 3
    i = tokens.index("预算合计")
    assert tokens[i + 1:i + 3] == [f"{budget[1]:,.0f}", f"{budget[2]:,.0f}"]
    assert budget[2] == 3 * 1_500_000
    assert "覆盖人口与新建设施数量" in reader.pages[3].extract_text()
    # catchments: one row per counted facility, proposed ones included
    text = reader.pages[4].extract_text()
    assert "设施服务范围与负荷" in text and "建议新建 S01" in text
    png = Image.open(ARTIFACTS / "report_map_zh.png")
    png.verify()
    assert png.format == "PNG" and png.size[0] >= 800


def test_english_pdf_and_its_numbers(data):
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = report.write_report(data, ARTIFACTS / "report_en.pdf", lang="en", today=DAY)
    _render(pdf, "report_en")
    reader = PdfReader(pdf)
    assert len(reader.pages) == 5
    first = reader.pages[0].extract_text()
    for text in ("Public-culture facilities: budget request", "Walking · 15 min",
                 "Residents in study area (census scaled by area share)"):
        assert text in first, text
    rows, budget = _xlsx_rows(data, "en")
    tokens = _tokens(reader, 2)
    i = tokens.index("Chenghua")
    x = rows["成华区"]
    assert tokens[i + 2:i + 9] == [f"{x['Residents in study area (census scaled by area share)']:,.0f}"] + [
        f"{x[k]:,.0f}" for k in ("Required", "Existing", "Planned (scenario)", "Proposed", "Deficit",
                                 "Deficit after proposals")]
    tokens = _tokens(reader, 3)
    i = tokens.index("Budget")
    assert tokens[i + 2:i + 4] == [f"{budget[1]:,.0f}", f"{budget[2]:,.0f}"]


def test_no_cjk_font_stops_chinese_and_english_still_works(data, monkeypatch, tmp_path):
    import re

    # a machine without CJK fonts: no font folders, no CJK family in matplotlib's list
    monkeypatch.delenv(report.FONT_ENV, raising=False)
    monkeypatch.setattr(report, "_FONT_DIRS", ())
    monkeypatch.setattr(report, "_CJK_FAMILIES", re.compile(r"(?!)"))
    assert report.find_cjk_font() is None
    with pytest.raises(InputError) as err:
        report.write_report(data, tmp_path / "r.pdf", lang="zh")
    assert report.CJK_FONT_PACKAGE in str(err.value) and report.FONT_ENV in str(err.value)
    assert not (tmp_path / "r.pdf").exists()
    pdf = report.write_report(data, tmp_path / "r.pdf", lang="en", png=tmp_path / "m.png")
    reader = PdfReader(pdf)
    assert len(reader.pages) == 5
    assert "Chenghua District" in reader.pages[2].extract_text()
    Image.open(tmp_path / "m.png").verify()


def test_font_named_by_the_environment_is_used(monkeypatch, tmp_path):
    font = report.find_cjk_font()
    if font is None:
        pytest.skip("no embeddable CJK font on this machine")
    monkeypatch.setenv(report.FONT_ENV, str(font.path))
    assert report.find_cjk_font().path == font.path
    monkeypatch.setenv(report.FONT_ENV, str(tmp_path / "missing.ttf"))
    assert report.find_cjk_font() is not None  # a missing file is skipped, the system's fonts still count


@NEEDS_CJK
def test_cli_round_trip(tmp_path, capsys):
    out, png = tmp_path / "报告.pdf", tmp_path / "map.png"
    code = main(["-q", "report", "--preset", PRESET, "--p", "2", "--lang", "zh", "--out", str(out),
                 "--png", str(png)])
    text = capsys.readouterr().out
    assert code == 0 and "2 proposed sites" in text and "3,000,000" in text
    reader = PdfReader(out)
    assert len(reader.pages) == 5 and "S02" in reader.pages[3].extract_text()
    Image.open(png).verify()
    assert main(["-q", "report", "--out", str(tmp_path / "r.docx")]) == 2
    assert main(["-q", "report", "--p", "-1", "--out", str(tmp_path / "r.pdf")]) == 2
