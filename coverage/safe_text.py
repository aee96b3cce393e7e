"""User-supplied text made safe for the places it is shown.

Facility names, district names, rule ids and scenario names come from
uploaded files and saved projects, so they may hold markup or formula text.
Two rules apply wherever such text leaves the program:

* :func:`html_text` for everything that a browser parses as HTML (map
  tooltips, popups, legends, layer names): ``<``, ``>``, ``&`` and quotes
  become entities, so ``<img src=x onerror=…>`` is shown as those characters
  and never becomes an element.
* :func:`spreadsheet_text` (and :func:`spreadsheet_frame` for whole tables)
  for every cell of an exported CSV or XLSX file: text that a spreadsheet
  would read as a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab
  or a carriage return) gets a leading apostrophe, as the OWASP guidance on
  CSV injection recommends. Numbers stay numbers, so ``-3`` is untouched;
  Excel and LibreOffice hide the apostrophe of a text cell.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import IO, Any

import pandas as pd

__all__ = ["FORMULA_PREFIXES", "html_text", "spreadsheet_csv", "spreadsheet_frame",
           "spreadsheet_text", "spreadsheet_workbook"]

#: First characters that make a spreadsheet read a text cell as a formula.
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")

# A plain number written as text ("-3.5", "+86", "1e-3") is no formula and stays as it is.
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def html_text(value: Any) -> str:
    """``value`` as text with HTML special characters escaped.

    Parameters
    ----------
    value
        Anything; ``None`` and missing values become an empty string.

    Returns
    -------
    str
        Text safe to place between HTML tags or inside a quoted attribute.
    """
    if value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value)
                         and pd.isna(value)):
        return ""
    return html.escape(str(value), quote=True)


def spreadsheet_text(value: Any) -> Any:
    """``value`` unchanged unless it is text a spreadsheet would run as a formula.

    Parameters
    ----------
    value
        A cell value.

    Returns
    -------
    Any
        ``"'" + value`` for a string starting with one of
        :data:`FORMULA_PREFIXES` that is not a plain number; every other
        value (numbers, dates, other text, missing values) as it was.
    """
    if _formula_like(value):
        return "'" + value
    return value


def _formula_like(value: Any) -> bool:
    return (isinstance(value, str) and value.startswith(FORMULA_PREFIXES)
            and not _NUMBER.fullmatch(value))


def spreadsheet_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names pass :func:`spreadsheet_text`.

    Numeric, boolean and date columns are not touched.

    Parameters
    ----------
    frame
        A table about to be written as CSV or XLSX.

    Returns
    -------
    pandas.DataFrame
        The same shape, index and dtypes for non-text columns.
    """
    out = frame.copy()
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col):
            out.isetitem(i, col.map(spreadsheet_text, na_action="ignore"))
    out.columns = [spreadsheet_text(c) for c in out.columns]
    if isinstance(out.index, pd.RangeIndex) or not (
            pd.api.types.is_object_dtype(out.index) or pd.api.types.is_string_dtype(out.index)):
        return out
    out.index = pd.Index([spreadsheet_text(v) for v in out.index], name=out.index.name)
    return out



def spreadsheet_csv(frame: pd.DataFrame, target: str | Path | IO[str]) -> None:
    """Write ``frame`` (without its index) as CSV that spreadsheets open safely.

    Text cells pass :func:`spreadsheet_text`; lines end in CRLF (RFC 4180),
    so a cell holding a carriage return or line feed is quoted and cannot
    start a row of its own. A path is written as UTF-8 with a BOM (Excel then
    reads Chinese text correctly); an open text file is written as it is.

    Parameters
    ----------
    frame
        The table.
    target
        A file path or an open text file.
    """
    kwargs: dict[str, Any] = {"index": False, "lineterminator": "\r\n"}
    if isinstance(target, (str, Path)):
        kwargs["encoding"] = "utf-8-sig"
    spreadsheet_frame(frame).to_csv(target, **kwargs)


def spreadsheet_workbook(workbook: Any) -> Any:
    """Make every formula-like text cell of an openpyxl ``workbook`` a plain text cell.

    openpyxl stores a string starting with ``=`` as a formula. Each text cell
    that :func:`spreadsheet_text` would change is stored as a string instead,
    with Excel's quote prefix set (so it stays text when someone edits it);
    the text a person reads is unchanged. Call it just before saving.

    Parameters
    ----------
    workbook
        An :class:`openpyxl.Workbook`; changed in place.

    Returns
    -------
    openpyxl.Workbook
        The same workbook.
    """
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if _formula_like(cell.value):
                    cell.data_type = "s"
                    cell.quotePrefix = True
    return workbook
