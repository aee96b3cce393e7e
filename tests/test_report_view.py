"""The page's catchments table and one-click budget report (streamlit.testing, no browser)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from coverage import i18n, report, workflow  # noqa: E402
from ui import logic, report_view  # noqa: E402

T = i18n.t
PRESET = "zhengzhou-2022-culture-space"


@pytest.fixture()
def app(tmp_path, monkeypatch) -> AppTest:
    monkeypatch.setenv(logic.STORE_ENV, str(tmp_path / "scenarios.gpkg"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_catchments_table_matches_the_library(app):
    from coverage.study_area import load_default

    area = load_default()
    params = workflow.AccessParams(mode="walk", threshold_min=15)
    cat = workflow.facility_catchments(area, params, preset=PRESET)
    expect = report_view.catchments_table(cat, lang="zh")
    shown = next(d.value for d in app.dataframe if T("rp_pop_nearest") in d.value.columns)
    assert shown[T("name")].tolist() == expect[T("name")].tolist()
    assert shown[T("rp_pop_nearest")].tolist() == expect[T("rp_pop_nearest")].tolist()


@pytest.mark.skipif(report.find_cjk_font() is None, reason="no embeddable CJK font")
def test_one_click_report_gives_pdf_and_png(app, monkeypatch):
    seen: dict[str, bytes] = {}
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    original = MemoryMediaFileStorage.load_and_get_id

    def spy(self, path_or_data, mimetype, kind, filename=None):
        if isinstance(path_or_data, bytes) and filename:
            seen[filename] = path_or_data
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    app.button(key="rp_make").click().run()
    assert not app.exception, [e.value for e in app.exception]
    labels = [b.proto.label for b in app.get("download_button")]
    assert T("rp_pdf") in labels and T("rp_png") in labels
    pdf = PdfReader(io.BytesIO(seen["budget_report.pdf"]))
    assert len(pdf.pages) == 5 and T("rp_title") in pdf.pages[0].extract_text()
    assert seen["report_map.png"][:8] == b"\x89PNG\r\n\x1a\n"
