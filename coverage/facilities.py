"""Load facility tables (CSV, XLSX, GeoJSON, GeoPackage, Shapefile) and refuse bad input.

A facility table from a planning bureau typically comes as a spreadsheet with
Chinese headers (名称, 类型, 经度, 纬度, 建筑面积), saved in GBK by Excel, with
coordinates copied from an online map in GCJ-02 (Amap, Tencent) or BD-09
(Baidu). :func:`load_facilities` reads such a table, converts the coordinates
to WGS84 and projects them once to the metric CRS of the study area. It checks
every row first and raises one :class:`~coverage.errors.InputError` listing
every problem with the file, the row, the column and what to do about it.

Row numbers follow the spreadsheet convention for tables (CSV, XLSX and
DataFrames: the header is row 1, the first data row is row 2) and count
features from 1 for GIS layers (as the attribute table of a GIS shows them).

The GCJ-02 and BD-09 conversions use the public forward formulas; the inverse
directions are computed by fixed-point iteration of the forward formula until
the change is below 1e-9 degrees (well under a millimetre).
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .errors import InputError, Problem, ProblemCollector
from .geo import WGS84, to_metric
from .limits import MAX_TABLE_ROWS, SPLIT_FIX

__all__ = [
    "FACILITY_TYPES",
    "FacilityType",
    "bd09_to_gcj02",
    "coordinate_shift_problem",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "load_facilities",
    "normalise_coord_system",
    "normalise_type",
    "to_wgs84",
    "type_from_name",
    "wgs84_to_gcj02",
]

# ---------------------------------------------------------------------------
# GCJ-02 / BD-09 <-> WGS84
# ---------------------------------------------------------------------------

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by the GCJ-02 formula
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = math.pi * 3000.0 / 180.0
_ITER_TOL_DEG = 1e-9
_MAX_ITER = 60


def _arrays(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if lon.shape != lat.shape:
        raise InputError(Problem(
            f"`lon` has shape {lon.shape} but `lat` has shape {lat.shape}.",
            fix="pass longitude and latitude arrays of the same length.",
        ))
    return lon, lat


def _out_of_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The bounding box outside which the GCJ-02 formula applies no offset."""
    return ~((lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271))


def _offset_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _offset_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 degrees to GCJ-02 (the coordinates of Amap and Tencent maps).

    Parameters
    ----------
    lon, lat
        Arrays (or scalars) of WGS84 longitude and latitude in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 longitude and latitude, same shape as the input. Points outside
        China are returned unchanged, as the formula prescribes.
    """
    lon, lat = _arrays(lon, lat)
    x = lon - 105.0
    y = lat - 35.0
    dlat = _offset_lat(x, y)
    dlon = _offset_lon(x, y)
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    out = _out_of_china(lon, lat)
    return np.where(out, lon, lon + dlon), np.where(out, lat, lat + dlat)


def gcj02_to_bd09(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 degrees to BD-09 (the coordinates of Baidu maps).

    Parameters
    ----------
    lon, lat
        Arrays (or scalars) of GCJ-02 longitude and latitude in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 longitude and latitude, same shape as the input.
    """
    lon, lat = _arrays(lon, lat)
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _invert(
    forward: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    lon: np.ndarray,
    lat: np.ndarray,
    start: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``forward(x, y) == (lon, lat)`` by fixed-point iteration."""
    x, y = (lon.copy(), lat.copy()) if start is None else (start[0].copy(), start[1].copy())
    for _ in range(_MAX_ITER):
        fx, fy = forward(x, y)
        dx = fx - lon
        dy = fy - lat
        x = x - dx
        y = y - dy
        step = max(np.nanmax(np.abs(dx), initial=0.0), np.nanmax(np.abs(dy), initial=0.0))
        if step < _ITER_TOL_DEG:
            break
    return x, y


def gcj02_to_wgs84(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 degrees to WGS84 by inverting :func:`wgs84_to_gcj02` exactly.

    Parameters
    ----------
    lon, lat
        Arrays (or scalars) of GCJ-02 longitude and latitude in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 longitude and latitude such that :func:`wgs84_to_gcj02` maps them
        back to the input within 1e-9 degrees.
    """
    lon, lat = _arrays(lon, lat)
    return _invert(wgs84_to_gcj02, lon, lat)


def bd09_to_gcj02(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """Convert BD-09 degrees to GCJ-02 by inverting :func:`gcj02_to_bd09` exactly.

    Parameters
    ----------
    lon, lat
        Arrays (or scalars) of BD-09 longitude and latitude in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 longitude and latitude.
    """
    lon, lat = _arrays(lon, lat)
    # the public closed-form approximation as the starting point
    x = lon - 0.0065
    y = lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    start = (z * np.cos(theta), z * np.sin(theta))
    return _invert(gcj02_to_bd09, lon, lat, start)


_COORD_SYSTEMS = {
    "wgs84": "wgs84", "wgs 84": "wgs84", "wgs-84": "wgs84", "epsg:4326": "wgs84", "4326": "wgs84",
    "gps": "wgs84", "osm": "wgs84", "cgcs2000": "wgs84", "epsg:4490": "wgs84",
    "gcj02": "gcj02", "gcj-02": "gcj02", "gcj": "gcj02", "amap": "gcj02", "gaode": "gcj02",
    "高德": "gcj02", "火星": "gcj02", "火星坐标": "gcj02", "tencent": "gcj02", "腾讯": "gcj02",
    "bd09": "bd09", "bd-09": "bd09", "bd09ll": "bd09", "baidu": "bd09", "百度": "bd09",
}


def normalise_coord_system(value: str, *, param: str = "coord_system") -> str:
    """Return ``"wgs84"``, ``"gcj02"`` or ``"bd09"`` for a coordinate-system name.

    Parameters
    ----------
    value
        A name such as ``"WGS84"``, ``"GCJ-02"``, ``"amap"``, ``"高德"``,
        ``"BD-09"`` or ``"baidu"``. CGCS2000 (EPSG:4490) is treated as WGS84:
        the two differ by centimetres.
    param
        The parameter name to cite in the error message.

    Raises
    ------
    InputError
        If the name is not recognised.
    """
    key = unicodedata.normalize("NFKC", str(value)).strip().lower()
    if key not in _COORD_SYSTEMS:
        raise InputError(Problem(
            f"`{param}` = {value!r} is not a coordinate system this package knows.",
            fix="pass 'wgs84' (GPS, OpenStreetMap, Tianditu), 'gcj02' (Amap, Tencent) "
                "or 'bd09' (Baidu).",
        ))
    return _COORD_SYSTEMS[key]


def to_wgs84(lon: Any, lat: Any, source: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert longitude/latitude arrays from ``source`` to WGS84.

    Parameters
    ----------
    lon, lat
        Arrays (or scalars) in degrees.
    source
        ``"gcj02"``, ``"bd09"`` or ``"wgs84"`` (identity); aliases accepted by
        :func:`normalise_coord_system` work too.

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 longitude and latitude (new arrays; the input is not modified).
    """
    system = normalise_coord_system(source, param="source")
    lon, lat = _arrays(lon, lat)
    if system == "wgs84":
        return lon.copy(), lat.copy()
    if system == "bd09":
        lon, lat = bd09_to_gcj02(lon, lat)
    return gcj02_to_wgs84(lon, lat)


# ---------------------------------------------------------------------------
# Facility types
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FacilityType:
    """A canonical facility type with its Chinese and English labels."""

    key: str
    zh: str
    en: str


FACILITY_TYPES: Mapping[str, FacilityType] = MappingProxyType({
    key: FacilityType(key, zh, en)
    for key, zh, en in [
        ("library", "图书馆", "Library"),
        ("cultural_centre", "文化馆", "Cultural centre"),
        ("culture_station", "文化站", "Culture station"),
        ("city_reading_room", "城市书房", "City reading room"),
        ("museum", "博物馆", "Museum"),
        ("art_gallery", "美术馆", "Art gallery"),
        ("theatre", "剧院", "Theatre"),
        ("science_museum", "科技馆", "Science museum"),
        ("workers_palace", "文化宫", "Workers' cultural palace"),
        ("other", "其他", "Other"),
    ]
})

_TYPE_ALIASES: dict[str, str] = {}
for _key, _names in {
    "library": ["library", "libraries", "public_library", "lib", "图书馆", "公共图书馆",
                "图书分馆", "分馆", "少儿图书馆", "总馆", "图书室"],
    "cultural_centre": ["cultural_centre", "cultural_center", "culture_centre", "culture_center",
                        "arts_centre", "arts_center", "art_centre", "文化馆", "群众艺术馆",
                        "群艺馆", "文化中心", "文化艺术中心", "文化活动中心"],
    "culture_station": ["culture_station", "cultural_station", "文化站", "综合文化站",
                        "乡镇综合文化站", "街道综合文化站", "文化服务中心", "综合文化服务中心",
                        "社区文化活动室", "文化活动室", "文化室"],
    "city_reading_room": ["city_reading_room", "reading_room", "city_study", "书房", "城市书房",
                          "阅览室", "城市阅读空间", "阅读空间", "自助图书馆", "24小时自助图书馆",
                          "书屋", "农家书屋", "社区书房"],
    "museum": ["museum", "museums", "博物馆", "博物院", "纪念馆", "陈列馆"],
    "art_gallery": ["art_gallery", "gallery", "arts_gallery", "美术馆", "画廊", "艺术馆", "画院"],
    "theatre": ["theatre", "theater", "concert_hall", "opera_house", "剧院", "剧场", "大剧院",
                "音乐厅", "演艺中心", "戏院"],
    "science_museum": ["science_museum", "science_centre", "science_center", "科技馆", "科学馆",
                       "科学技术馆", "科普馆"],
    "workers_palace": ["workers_palace", "workers_cultural_palace", "cultural_palace", "文化宫",
                       "工人文化宫", "劳动人民文化宫", "职工文化宫"],
    "other": ["other", "others", "其他", "其它"],
}.items():
    for _name in _names:
        _TYPE_ALIASES[_name] = _key
    _TYPE_ALIASES[FACILITY_TYPES[_key].zh] = _key
    _TYPE_ALIASES[re.sub(r"[^a-z0-9]+", "_", FACILITY_TYPES[_key].en.lower()).strip("_")] = _key

# keyword -> type, checked in this order against names and free-text types
_TYPE_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("书房", "city_reading_room"), ("阅读空间", "city_reading_room"),
    ("自助图书馆", "city_reading_room"), ("书屋", "city_reading_room"),
    ("阅览室", "city_reading_room"),
    ("文化站", "culture_station"), ("文化服务中心", "culture_station"),
    ("文化活动室", "culture_station"),
    ("科技馆", "science_museum"), ("科学技术馆", "science_museum"), ("科普馆", "science_museum"),
    ("美术馆", "art_gallery"), ("画廊", "art_gallery"), ("画院", "art_gallery"),
    ("文化宫", "workers_palace"),
    ("图书馆", "library"), ("图书室", "library"),
    ("文化馆", "cultural_centre"), ("群众艺术馆", "cultural_centre"), ("群艺馆", "cultural_centre"),
    ("文化艺术中心", "cultural_centre"), ("文化中心", "cultural_centre"),
    ("博物馆", "museum"), ("博物院", "museum"), ("纪念馆", "museum"), ("陈列馆", "museum"),
    ("大剧院", "theatre"), ("剧院", "theatre"), ("剧场", "theatre"), ("音乐厅", "theatre"),
    ("艺术馆", "art_gallery"),
)


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        if value is pd.NA or value is pd.NaT:
            return True
    except TypeError:  # pragma: no cover
        pass
    return isinstance(value, str) and not value.strip()


def type_from_name(name: Any) -> str | None:
    """Guess a facility type from a facility name by its keywords.

    Parameters
    ----------
    name
        A facility name such as ``"成都图书馆城市书房（宽窄巷子店）"``.

    Returns
    -------
    str or None
        A key of :data:`FACILITY_TYPES`, or ``None`` if no keyword is found.
        City reading rooms are recognised before libraries, so a reading room
        named after its parent library is a ``"city_reading_room"``.
    """
    if _is_missing(name):
        return None
    text = unicodedata.normalize("NFKC", str(name))
    for keyword, key in _TYPE_KEYWORDS:
        if keyword in text:
            return key
    low = text.lower()
    for word, key in (("reading room", "city_reading_room"), ("library", "library"),
                      ("science", "science_museum"), ("museum", "museum"),
                      ("gallery", "art_gallery"), ("theatre", "theatre"), ("theater", "theatre"),
                      ("cultural palace", "workers_palace"), ("cultural centre", "cultural_centre"),
                      ("cultural center", "cultural_centre")):
        if word in low:
            return key
    return None


def normalise_type(value: Any) -> str | None:
    """Map a facility-type label to a key of :data:`FACILITY_TYPES`.

    Accepts the canonical keys, the Chinese and English labels, common
    variants (``"综合文化站"``, ``"Library"``, ``"Cultural Center"``), OpenStreetMap
    tags (``"amenity=library"``, ``"arts_centre"``) and free text containing a
    keyword (``"区级公共图书馆"``).

    Parameters
    ----------
    value
        The label as found in the input.

    Returns
    -------
    str or None
        The canonical key, or ``None`` if the value is empty or not recognised.
    """
    if _is_missing(value):
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if "=" in text:  # OSM tag such as amenity=library
        text = text.split("=", 1)[1].strip()
    key = re.sub(r"[\s\-'’./]+", "_", text.lower()).strip("_")
    if key in _TYPE_ALIASES:
        return _TYPE_ALIASES[key]
    if key.endswith("s") and key[:-1] in _TYPE_ALIASES:
        return _TYPE_ALIASES[key[:-1]]
    return type_from_name(text)


# ---------------------------------------------------------------------------
# Reading tables and layers (shared with coverage.boundaries)
# ---------------------------------------------------------------------------

_TABLE_EXT = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx"}
_GIS_EXT = {".geojson": "gis", ".json": "gis", ".gpkg": "gis", ".shp": "gis"}
_MAX_ROW_PROBLEMS = 20


def _label(path: Path) -> str:
    return path.name


def _norm_col(name: Any) -> str:
    """Normalise a column name for matching: NFKC, lower case, no brackets/separators."""
    s = unicodedata.normalize("NFKC", str(name)).strip().lower()
    s = re.sub(r"[(\[【].*?[)\]】]", "", s)
    return re.sub(r"[\s_\-.:/]+", "", s)


_CRS_TOKENS = ("wgs84", "gcj02", "bd09", "gcj", "bd", "84", "坐标")


def _find_column(columns: Sequence[Any], candidates: Sequence[str]) -> Any | None:
    """Return the first column matching the candidates (in candidate order)."""
    normed: dict[str, Any] = {}
    stripped: dict[str, Any] = {}
    for col in columns:
        n = _norm_col(col)
        normed.setdefault(n, col)
        for tok in _CRS_TOKENS:
            for variant in (n.removeprefix(tok), n.removesuffix(tok)):
                if variant and variant != n:
                    stripped.setdefault(variant, col)
    for cand in candidates:
        if cand in normed:
            return normed[cand]
    for cand in candidates:
        if cand in stripped:
            return stripped[cand]
    return None


def _resolve_column(pc: ProblemCollector, columns: Sequence[Any], explicit: str | None,
                    param: str, candidates: Sequence[str]) -> Any | None:
    """Return the explicit column (checked) or the detected one, or None."""
    if explicit is None:
        return _find_column(columns, candidates)
    if explicit in columns:
        return explicit
    matches = [c for c in columns if _norm_col(c) == _norm_col(explicit)]
    if len(matches) == 1:
        return matches[0]
    pc.add(
        f"`{param}` = {explicit!r} is not a column of this table; the columns are "
        f"{', '.join(repr(str(c)) for c in columns)}.",
        fix=f"pass one of these names as `{param}`, or leave `{param}` out to detect it.",
        column=str(explicit),
    )
    return None


def _rows_text(rows: Iterable[int], limit: int = 30) -> str:
    rows = list(rows)
    text = ", ".join(str(r) for r in rows[:limit])
    if len(rows) > limit:
        text += f" and {len(rows) - limit} more"
    return text


def _rows_label(rows: Sequence[int]) -> str:
    """'row 3' or 'rows 2, 4'."""
    rows = list(rows)
    return f"row {rows[0]}" if len(rows) == 1 else f"rows {_rows_text(rows)}"


def _add_row_problems(pc: ProblemCollector, rows: Sequence[int], message: Callable[[int], str],
                      *, fix: str, column: str | None) -> None:
    """One problem per row, up to a cap; the rest summarised in one more problem."""
    rows = list(rows)
    for k, r in enumerate(rows):
        if k == _MAX_ROW_PROBLEMS:
            rest = rows[k:]
            pc.add(f"the same problem in {len(rest)} more rows: {_rows_text(rest)}.",
                   fix=fix, column=column)
            break
        pc.add(message(k), fix=fix, row=r, column=column)


def _decode(data: bytes, encoding: str | None, pc: ProblemCollector) -> str | None:
    if encoding is not None:
        try:
            return data.decode(encoding)
        except LookupError:
            pc.add(f"`encoding` = {encoding!r} is not an encoding Python knows.",
                   fix="pass 'utf-8', 'gbk' or 'gb18030', or leave `encoding` out to detect it.")
            return None
        except UnicodeDecodeError as exc:
            pc.add(f"the file is not valid {encoding} text (byte {exc.start}).",
                   fix="leave `encoding` out to detect UTF-8/GBK automatically, or pass the "
                       "encoding the file was saved in.")
            return None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    pc.add("the file is neither UTF-8 nor GBK/GB18030 text.",
           fix="save it from Excel as 'CSV UTF-8' (or pass `encoding=`).")
    return None


def _sniff_delimiter(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            counts = {d: line.count(d) for d in (",", "\t", ";", "|")}
            best = max(counts, key=counts.get)
            return best if counts[best] > 0 else ","
    return ","


@dataclass
class _Table:
    """Raw rows of a table with their spreadsheet row numbers."""

    frame: pd.DataFrame
    rows: np.ndarray
    header_note: str | None = None


def _table_from_rows(raw: list[list[Any]], numbers: list[int], wanted: Callable[[list[str]], bool],
                     pc: ProblemCollector) -> _Table | None:
    """Find the header (first row with the wanted columns, else first non-empty row)."""
    def empty(row: Sequence[Any]) -> bool:
        return all(_is_missing(v) for v in row)

    candidates = [i for i, row in enumerate(raw) if not empty(row)][:10]
    if not candidates:
        return _Table(pd.DataFrame(), np.array([], dtype=int))
    head = next((i for i in candidates if wanted([str(v).strip() for v in raw[i]
                                                  if not _is_missing(v)])), candidates[0])
    names, note = _combined_header(raw, head, numbers)
    header: list[str] = []
    seen: dict[str, int] = {}
    for j, v in enumerate(names):
        name = str(v).strip() if not _is_missing(v) else f"column_{j + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        header.append(name)
    while header and header[-1].startswith("column_") and all(
            len(r) < len(header) or _is_missing(r[len(header) - 1]) for r in raw[head + 1:]):
        header.pop()
    width = len(header)
    body: list[list[Any]] = []
    body_rows: list[int] = []
    for row, number in zip(raw[head + 1:], numbers[head + 1:]):
        if empty(row):
            continue
        row = list(row)
        if len(row) > width:
            extra = [v for v in row[width:] if not _is_missing(v)]
            if extra:
                pc.add(f"this row has {len(row)} values but the header has {width} columns.",
                       fix="put values that contain the delimiter (e.g. addresses with commas) "
                           "in double quotes, or remove the extra values.",
                       row=number)
            row = row[:width]
        row += [""] * (width - len(row))
        body.append(["" if _is_missing(v) else v for v in row])
        body_rows.append(number)
    frame = pd.DataFrame(body, columns=header, dtype=object)
    return _Table(frame, np.asarray(body_rows, dtype=int), note)


def _combined_header(raw: list[list[Any]], head: int, numbers: list[int]) -> tuple[list[Any], str | None]:
    """The header row, with its empty cells taken from the row above when the header spans two rows.

    A header of merged cells (名称 merged over two rows beside 坐标 over 经度/纬度) leaves the
    lower row empty where the upper cell was merged down; those names come from the upper row.
    """
    names = list(raw[head])
    if head == 0 or sum(not _is_missing(v) for v in raw[head - 1]) < 2:  # none, or a title row
        return names, None
    upper = list(raw[head - 1])
    width = max(len(names), len(upper))
    names += [None] * (width - len(names))
    upper += [None] * (width - len(upper))
    taken = [j for j in range(width) if _is_missing(names[j]) and not _is_missing(upper[j])]
    if not taken:
        return names, None
    for j in taken:
        names[j] = upper[j]
    note = (f"the header spans rows {numbers[head - 1]}–{numbers[head]} (merged cells); the names "
            f"{', '.join(repr(str(upper[j]).strip()) for j in taken)} were taken from row "
            f"{numbers[head - 1]}.")
    return names, note


def _count_lines(path: Path, block: int = 1 << 24) -> int:
    """Lines of a text file, counted block by block without holding the file in memory."""
    n = 0
    last = b""
    with path.open("rb") as fh:
        while chunk := fh.read(block):
            n += chunk.count(b"\n")
            last = chunk
    return n + (1 if last and not last.endswith(b"\n") else 0)


def _within_row_limit(n_rows: int, pc: ProblemCollector, *, more: bool = False) -> bool:
    """Record a problem when a table has more rows than :data:`coverage.limits.MAX_TABLE_ROWS`."""
    if n_rows <= MAX_TABLE_ROWS + 1:  # the header row is not a facility
        return True
    count = f"more than {n_rows - 1:,}" if more else f"{n_rows:,}"
    pc.add(f"the table has {count} rows, more than the limit of {MAX_TABLE_ROWS:,} facilities "
           "in one table.", fix="keep only the facilities of the study area in the file, or " + SPLIT_FIX)
    return False


def _read_csv(path: Path, encoding: str | None, wanted: Callable[[list[str]], bool],
              pc: ProblemCollector) -> _Table | None:
    if not _within_row_limit(_count_lines(path), pc):
        return None
    text = _decode(path.read_bytes(), encoding, pc)
    if text is None:
        return None
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    raw: list[list[str]] = []
    start_line = 1  # the line the current record starts on
    for row in reader:
        raw.append(row)
        last_start, start_line = start_line, reader.line_num + 1
    if raw and _ends_inside_quotes(text, last_start, delimiter):
        pc.add(f"line {last_start}: a double quote (\") opens a value that is never closed, so "
               f"lines {last_start}–{reader.line_num} were read as one value.",
               fix="close the quote, or remove it; values that contain the delimiter are written "
                   "in double quotes such as \"Road 1, Chengdu\".", row=len(raw))
        return None
    return _table_from_rows(raw, list(range(1, len(raw) + 1)), wanted, pc)


def _ends_inside_quotes(text: str, first_line: int, delimiter: str) -> bool:
    """Whether the record starting on ``first_line`` (1-based) runs into the end of the file in quotes."""
    lines = io.StringIO(text, newline="").readlines()[first_line - 1:]
    try:
        list(csv.reader(io.StringIO("".join(lines), newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        return "end of data" in str(exc)
    return False


def _read_xlsx(path: Path, sheet: str | int | None, wanted: Callable[[list[str]], bool],
               pc: ProblemCollector) -> _Table | None:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken files
        pc.add(f"the file cannot be read as an Excel workbook ({exc}).",
               fix="open it in Excel or WPS and save it again as .xlsx.")
        return None
    try:
        names = wb.sheetnames
        if sheet is None:
            ws = wb[names[0]]
        elif isinstance(sheet, int) and not isinstance(sheet, bool):
            if not 0 <= sheet < len(names):
                pc.add(f"`sheet` = {sheet} but the workbook has {len(names)} sheet(s): "
                       f"{', '.join(names)}.",
                       fix="pass a sheet name or a 0-based index of an existing sheet.")
                return None
            ws = wb[names[sheet]]
        elif sheet in names:
            ws = wb[sheet]
        else:
            pc.add(f"`sheet` = {sheet!r} is not a sheet of this workbook; its sheets are "
                   f"{', '.join(repr(n) for n in names)}.",
                   fix="pass one of these sheet names as `sheet`.")
            return None
        if ws.max_row is not None and not _within_row_limit(ws.max_row, pc):
            return None
        raw = []
        for r in ws.iter_rows(values_only=True):  # a sheet without its size: count while reading
            raw.append(list(r))
            if len(raw) > MAX_TABLE_ROWS + 1:
                _within_row_limit(len(raw), pc, more=True)
                return None
    finally:
        wb.close()
    return _table_from_rows(raw, list(range(1, len(raw) + 1)), wanted, pc)


def _read_gis(path: Path, layer: str | int | None, encoding: str | None,
              pc: ProblemCollector) -> gpd.GeoDataFrame | None:
    import pyogrio

    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:
        pc.add(f"the file cannot be read as a GIS layer ({exc}).",
               fix="check that it is a complete GeoJSON/GeoPackage/Shapefile (a Shapefile "
                   "needs its .shp, .shx and .dbf files side by side).")
        return None
    names = [str(n) for n in layers[:, 0]] if len(layers) else []
    if layer is None and len(names) > 1:
        pc.add(f"the file has {len(names)} layers ({', '.join(names)}) and no `layer` was given.",
               fix="pass `layer=` with the name of the layer to read.")
        return None
    if layer is not None and not isinstance(layer, int) and layer not in names:
        pc.add(f"`layer` = {layer!r} is not a layer of this file; its layers are "
               f"{', '.join(repr(n) for n in names)}.",
               fix="pass one of these names as `layer`.")
        return None
    kwargs: dict[str, Any] = {}
    if layer is not None:
        kwargs["layer"] = layer
    if encoding is not None:
        kwargs["encoding"] = encoding
    try:
        gdf = gpd.read_file(path, engine="pyogrio", **kwargs)
    except Exception as exc:
        pc.add(f"the file cannot be read as a GIS layer ({exc}).",
               fix="check that it opens in QGIS and save it again as GeoPackage.")
        return None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        pc.add("the layer has no geometry column.",
               fix="export the layer with its geometry, or give a CSV/XLSX with lon/lat columns.")
        return None
    if gdf.crs is None and len(gdf):
        pc.add("the layer has no coordinate reference system (CRS).",
               fix="set the CRS in QGIS (Layer ▸ Set CRS) and save again; for a Shapefile, "
                   "keep its .prj file next to the .shp.")
        return None
    return gdf


def _source_kind(source: Any, pc: ProblemCollector, *, gis_only: bool = False
                 ) -> tuple[str | None, Path | None]:
    """Classify ``source`` as 'frame', 'geoframe', 'csv', 'xlsx' or 'gis'."""
    if isinstance(source, gpd.GeoDataFrame):
        return "geoframe", None
    if isinstance(source, pd.DataFrame):
        if gis_only:
            pc.add("`source` is a DataFrame without geometry.",
                   fix="pass a GeoDataFrame, or a GeoJSON/GeoPackage/Shapefile path.")
            return None, None
        return "frame", None
    if not isinstance(source, (str, Path)):
        pc.add(f"`source` is a {type(source).__name__}, not a path or a table.",
               fix="pass a file path, a DataFrame or a GeoDataFrame.")
        return None, None
    path = Path(source)
    if not path.exists():
        pc.add("the file does not exist.", file=str(path),
               fix="check the path (relative paths are taken from the current directory "
                   f"{Path.cwd()}).")
        return None, path
    if path.is_dir():
        pc.add("this is a folder, not a file.", file=str(path),
               fix="pass the path of the .csv/.xlsx/.geojson/.gpkg/.shp file inside it.")
        return None, path
    ext = path.suffix.lower()
    kinds = dict(_GIS_EXT) if gis_only else {**_TABLE_EXT, **_GIS_EXT}
    if ext not in kinds:
        accepted = ", ".join(sorted(kinds))
        fix = f"save it in one of the formats {accepted}."
        if ext == ".xls":
            fix = "open it in Excel or WPS and save it as .xlsx (the old .xls format is not read)."
        pc.add(f"the file extension '{ext or '(none)'}' is not a format this loader reads.",
               fix=fix, file=str(path))
        return None, path
    return kinds[ext], path


def _metric_crs(crs: Any) -> pyproj.CRS:
    """Check that ``crs`` is a projected CRS in metres."""
    try:
        c = pyproj.CRS.from_user_input(crs)
    except Exception:
        raise InputError(Problem(
            f"`crs` = {crs!r} is not a coordinate reference system pyproj knows.",
            fix="pass a metric CRS such as 'EPSG:32648' (coverage.geo.CHENGDU_CRS) or "
                "coverage.geo.utm_crs_for(lon, lat).",
        )) from None
    units = {a.unit_name for a in c.axis_info}
    if not c.is_projected or not units <= {"metre", "meter"}:
        raise InputError(Problem(
            f"`crs` = {crs!r} is not a projected CRS in metres (distances would be wrong).",
            fix="pass a metric CRS such as 'EPSG:32648' (coverage.geo.CHENGDU_CRS) or "
                "coverage.geo.utm_crs_for(lon, lat).",
        ))
    return c


_DMS = re.compile(
    r"^\s*([NSEW东西南北])?\s*(\d+(?:\.\d+)?)\s*[°度]\s*(?:(\d+(?:\.\d+)?)\s*['′分])?\s*"
    r"(?:(\d+(?:\.\d+)?)\s*(?:\"|″|''|′′|秒))?\s*([NSEW东西南北])?\s*$", re.IGNORECASE)


def _parse_number(value: Any) -> float | None:
    """Parse one cell: float, NaN for empty, None for text that is not a number."""
    if _is_missing(value):
        return math.nan
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    text = text.replace("−", "-")
    if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?", text):
        text = text.replace(",", "")
    try:
        return float(text)
    except ValueError:
        pass
    m = _DMS.match(text)
    if m:
        deg = float(m.group(2)) + float(m.group(3) or 0) / 60 + float(m.group(4) or 0) / 3600
        hemi = (m.group(1) or m.group(5) or "").upper()
        return -deg if hemi in ("S", "W", "西", "南") else deg
    return None


def _parse_numbers(values: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Return (floats with NaN for empty/bad, mask of cells that are not numbers)."""
    out = np.full(len(values), np.nan)
    bad = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values):
        x = _parse_number(v)
        if x is None:
            bad[i] = True
        else:
            out[i] = x
    bad |= ~np.isfinite(out) & ~np.isnan(out)
    return out, bad


def _id_groups(values: Any) -> tuple[list[str], list[int], dict[str, list[int]]]:
    """Ids as text, the positions of empty ids, and the positions of each repeated id."""
    ids = [_id_text(v) if not _is_missing(v) else "" for v in values]
    empty = [i for i, v in enumerate(ids) if not v]
    groups: dict[str, list[int]] = {}
    for i, v in enumerate(ids):
        if v:
            groups.setdefault(v, []).append(i)
    return ids, empty, {v: m for v, m in groups.items() if len(m) > 1}


def _id_text(value: Any) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return unicodedata.normalize("NFKC", str(value)).strip()


def _text_column(values: Sequence[Any] | None, n: int) -> list[str]:
    if values is None:
        return [""] * n
    return ["" if _is_missing(v) else str(v).strip() for v in values]


def _tidy_extra(values: pd.Series) -> pd.Series:
    """Turn a column of raw text cells into numbers when every cell is a plain number."""
    if values.dtype != object:
        return values
    cells = [v for v in values if not _is_missing(v)]
    strs = [v for v in cells if isinstance(v, str)]
    if not cells:
        return pd.Series(np.nan, index=values.index)
    if strs and any(re.fullmatch(r"[-+]?0\d+", s.strip()) for s in strs):
        return values.where(~values.map(_is_missing), None)  # codes with leading zeros
    if len(cells) == len(values) and all(
            isinstance(v, str) and v.strip().lower() in ("true", "false") for v in cells):
        return pd.Series([v.strip().lower() == "true" for v in values], index=values.index,
                         dtype=bool)
    nums = [_parse_plain(v) for v in cells]
    if all(x is not None for x in nums):
        if len(cells) == len(values) and all(float(x).is_integer() for x in nums):
            return pd.Series([int(_parse_plain(v)) for v in values], index=values.index,
                             dtype="int64")
        return pd.Series([np.nan if _is_missing(v) else _parse_plain(v) for v in values],
                         index=values.index, dtype=float)
    return values.where(~values.map(_is_missing), None)


def _parse_plain(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


# ---------------------------------------------------------------------------
# load_facilities
# ---------------------------------------------------------------------------

_LON_NAMES = ("lon", "lng", "longitude", "long", "经度", "东经", "x", "pointx", "xcoord",
              "经度坐标", "经")
_LAT_NAMES = ("lat", "latitude", "纬度", "北纬", "y", "pointy", "ycoord", "纬度坐标", "纬")
_ID_NAMES = ("facilityid", "id", "设施编号", "设施id", "设施编码", "编号", "fid", "序号", "no")
_NAME_NAMES = ("name", "名称", "设施名称", "场馆名称", "机构名称", "单位名称", "名字", "facilityname",
               "namezh", "title")
_NAME_EN_NAMES = ("nameen", "englishname", "英文名称", "英文名", "enname", "ename")
_TYPE_NAMES = ("type", "类型", "设施类型", "类别", "种类", "分类", "facilitytype", "category",
               "kind", "amenity", "tourism")
_CAPACITY_NAMES = ("capacity", "座位数", "座位", "座席", "座席数", "阅览座位", "阅览座席", "容量",
                   "容纳人数", "seats", "cap")
_AREA_NAMES = ("flooraream2", "floorarea", "aream2", "建筑面积", "面积", "馆舍面积", "使用面积",
               "场馆面积", "占地面积", "area", "gfa")

#: China's plausible range for longitude/latitude in degrees.
CHINA_LONLAT = (73.0, 3.0, 136.0, 54.0)


# OSM tags that cover several facility types: the name decides when it can
_GENERIC_TAG = re.compile(r"arts?[_ ]cent(re|er)", re.IGNORECASE)


def _in_box(lon: np.ndarray, lat: np.ndarray, box: Sequence[float], tol: float = 0.0
            ) -> np.ndarray:
    return ((lon >= box[0] - tol) & (lon <= box[2] + tol)
            & (lat >= box[1] - tol) & (lat <= box[3] + tol))


def _numeric_or_none(frame: pd.DataFrame, col: Any, notes: ProblemCollector, what: str) -> Any:
    """A detected column with no number at all is not what its name suggests: pass it through."""
    if col is None:
        return None
    values = [v for v in frame[col] if not _is_missing(v)]
    if values and all(_parse_number(v) is None for v in values):
        notes.warn(f"column '{col}' has no numbers, so it is not read as the {what}; it is kept "
                   "as an ordinary column.", column=str(col))
        return None
    return col


def _check_bounds(bounds: Any) -> tuple[float, float, float, float] | None:
    if bounds is None:
        return None
    try:
        b = tuple(float(v) for v in bounds)
    except (TypeError, ValueError):
        b = ()
    if len(b) != 4 or not all(map(math.isfinite, b)) or b[0] >= b[2] or b[1] >= b[3]:
        raise InputError(Problem(
            f"`bounds_lonlat` = {bounds!r} is not (min_lon, min_lat, max_lon, max_lat).",
            fix="pass four WGS84 degrees with min < max, e.g. (104.04, 30.65, 104.13, 30.73).",
        ))
    return b  # type: ignore[return-value]


def load_facilities(
    source: str | Path | pd.DataFrame | gpd.GeoDataFrame,
    *,
    crs: Any,
    coord_system: str = "wgs84",
    lon_col: str | None = None,
    lat_col: str | None = None,
    id_col: str | None = None,
    name_col: str | None = None,
    type_col: str | None = None,
    default_type: str | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
    bounds_lonlat: Sequence[float] | None = None,
    bounds_tolerance_m: float = 1000.0,
) -> gpd.GeoDataFrame:
    """Read a facility table or layer, check every row, and project it to ``crs``.

    Parameters
    ----------
    source
        A path to a CSV (UTF-8, UTF-8 with BOM or GBK/GB18030, detected
        automatically), XLSX, GeoJSON, GeoPackage or Shapefile, or a
        DataFrame (with lon/lat columns) or GeoDataFrame. The file is only read.
    crs
        The metric CRS to project to, e.g. ``"EPSG:32648"``.
    coord_system
        The coordinate system of the lon/lat values: ``"wgs84"`` (GPS,
        OpenStreetMap, Tianditu), ``"gcj02"`` (Amap, Tencent) or ``"bd09"``
        (Baidu). Converted to WGS84 before projecting.
    lon_col, lat_col
        Coordinate columns. Detected when left out, case-insensitively, from
        lon/lng/long/longitude/x/经度/东经 and lat/latitude/y/纬度/北纬.
    id_col, name_col, type_col
        The id, name and type columns; detected when left out. Without an id
        column, ids ``"F0001"``, ``"F0002"``… are generated.
    default_type
        The type of rows with no type (e.g. ``"library"`` for a list of
        libraries). Without it, the type is guessed from the name, else
        ``"other"``.
    sheet
        The sheet of an XLSX workbook (name or 0-based index), or the layer
        of a multi-layer GeoPackage.
    encoding
        The text encoding of a CSV (or Shapefile attributes); detected when
        left out.
    bounds_lonlat
        ``(min_lon, min_lat, max_lon, max_lat)`` of the study area in WGS84;
        facilities further than ``bounds_tolerance_m`` outside it are refused.
    bounds_tolerance_m
        How far outside ``bounds_lonlat`` a facility may lie, in metres.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``facility_id`` (str, unique), ``name``, ``name_en``, ``type``
        (a key of :data:`FACILITY_TYPES`), ``capacity`` and ``floor_area_m2``
        (float, NaN when unknown), ``lon``/``lat`` (WGS84, for display), the
        other input columns unchanged, and Point geometry in ``crs``. Notes
        that did not stop loading (unknown types, repaired geometries, hints)
        are in ``.attrs["notes"]`` as a list of strings, and in
        ``.attrs["note_problems"]`` as :class:`~coverage.errors.Problem` (to
        show them in another language with :func:`coverage.i18n.problem_text`).

    Raises
    ------
    InputError
        With every problem found: a missing or unreadable file, an unknown
        format, a GIS layer without CRS, missing or non-numeric coordinates,
        coordinates outside China or the study area (swapped lon/lat are
        recognised), duplicate ids, bad capacities or areas, or no rows.
    """
    target = _metric_crs(crs)
    system = normalise_coord_system(coord_system)
    bounds = _check_bounds(bounds_lonlat)
    if default_type is not None:
        dt = normalise_type(default_type)
        if dt is None:
            raise InputError(Problem(
                f"`default_type` = {default_type!r} is not a facility type.",
                fix=f"pass one of {', '.join(FACILITY_TYPES)} (or 图书馆, 文化馆, 城市书房…).",
            ))
        default_type = dt

    pc = ProblemCollector()
    kind, path = _source_kind(source, pc)
    pc.raise_if_any()
    label = _label(path) if path is not None else None
    pc = ProblemCollector(file=label)
    notes = ProblemCollector(file=label)

    def wanted(names: list[str]) -> bool:
        lon = lon_col in names if lon_col is not None else _find_column(names, _LON_NAMES)
        lat = lat_col in names if lat_col is not None else _find_column(names, _LAT_NAMES)
        return bool(lon) and bool(lat)

    geometry: gpd.GeoSeries | None = None
    if kind == "csv":
        table = _read_csv(path, encoding, wanted, pc)  # type: ignore[arg-type]
    elif kind == "xlsx":
        table = _read_xlsx(path, sheet, wanted, pc)  # type: ignore[arg-type]
    elif kind == "frame":
        frame = source.copy()  # type: ignore[union-attr]
        table = _Table(frame, np.arange(len(frame)) + 2)
    else:
        if kind == "geoframe":
            gdf = source.copy()  # type: ignore[union-attr]
        else:
            gdf = _read_gis(path, sheet, encoding, pc)  # type: ignore[arg-type]
        table = None
        if gdf is not None:
            if kind == "geoframe" and gdf.crs is None and len(gdf):
                pc.add("the GeoDataFrame has no CRS.",
                       fix="set it with gdf.set_crs('EPSG:4326') (or the CRS the data is in).")
            geometry = gdf.geometry
            table = _Table(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)),
                           np.arange(len(gdf)) + 1)
    pc.raise_if_any()
    assert table is not None
    if table.header_note:
        notes.warn(table.header_note, fix="keep one header row above the facility rows to be sure "
                                          "every column is read as meant.")
    frame = table.frame
    rows = table.rows
    n = len(frame)
    if n == 0:
        pc.add("the table has no facility rows.",
               fix="add at least one facility (one row per facility, below a header row).")
        pc.raise_if_any()
    columns = list(frame.columns)
    is_gis = geometry is not None

    # ---- columns --------------------------------------------------------
    lon_c = lat_c = None
    if not is_gis or lon_col is not None or lat_col is not None:
        lon_c = _resolve_column(pc, columns, lon_col, "lon_col", _LON_NAMES)
        lat_c = _resolve_column(pc, columns, lat_col, "lat_col", _LAT_NAMES)
        if not is_gis and (lon_c is None or lat_c is None) and not pc.problems:
            missing = [w for w, c in (("longitude", lon_c), ("latitude", lat_c)) if c is None]
            pc.add(
                f"no {' and no '.join(missing)} column found; the columns are "
                f"{', '.join(repr(str(c)) for c in columns)}.",
                fix="name the coordinate columns 经度 (or lon/lng/longitude/x) and 纬度 "
                    "(or lat/latitude/y) in the header row.",
            )
        if lon_c is not None and lon_c == lat_c:
            pc.add(f"`lon_col` and `lat_col` are the same column {lon_c!r}.",
                   fix="pass two different columns.")
    id_c = _resolve_column(pc, columns, id_col, "id_col", _ID_NAMES)
    name_c = _resolve_column(pc, columns, name_col, "name_col", _NAME_NAMES)
    type_c = _resolve_column(pc, columns, type_col, "type_col", _TYPE_NAMES)
    name_en_c = _find_column(columns, _NAME_EN_NAMES)
    cap_c = _numeric_or_none(frame, _find_column(columns, _CAPACITY_NAMES), notes, "capacity")
    area_c = _numeric_or_none(frame, _find_column(columns, _AREA_NAMES), notes, "floor area")
    pc.raise_if_any()

    # ---- coordinates ----------------------------------------------------
    if lon_c is not None and lat_c is not None:
        coord_cols = (str(lon_c), str(lat_c))
        lon_raw, lon_bad = _parse_numbers(list(frame[lon_c]))
        lat_raw, lat_bad = _parse_numbers(list(frame[lat_c]))
        for col, vals, bad in ((lon_c, frame[lon_c], lon_bad), (lat_c, frame[lat_c], lat_bad)):
            idx = np.flatnonzero(bad)
            _add_row_problems(
                pc, rows[idx].tolist(),
                lambda k, idx=idx, vals=vals, col=col:
                    f"{str(vals.iloc[idx[k]])!r} is not a number in coordinate column '{col}'.",
                fix="write decimal degrees such as 104.0583 (or 104°03′30″E).", column=str(col))
        empty = (np.isnan(lon_raw) & ~lon_bad) | (np.isnan(lat_raw) & ~lat_bad)
        idx = np.flatnonzero(empty)
        _add_row_problems(pc, rows[idx].tolist(), lambda k: "the coordinates are missing.",
                          fix="fill in both longitude and latitude, or delete the row.",
                          column=f"{lon_c}/{lat_c}")
        gis_crs_geographic = True
    else:
        assert geometry is not None
        coord_cols = ("geometry", "geometry")
        geom = geometry
        gis_crs_geographic = geom.crs is None or geom.crs.is_geographic
        none = geom.isna() | geom.is_empty
        idx = np.flatnonzero(none.to_numpy())
        _add_row_problems(pc, rows[idx].tolist(), lambda k: "the feature has no geometry.",
                          fix="give the feature a point location or delete it.", column="geometry")
        not_point = (~none & (geom.geom_type != "Point")).to_numpy()
        if not_point.any():
            kinds = sorted(set(geom[not_point].geom_type))
            notes.warn(f"{int(not_point.sum())} feature(s) of type {', '.join(kinds)} in "
                       f"{_rows_label(rows[not_point].tolist())} were replaced by a point "
                       "inside them.",
                       fix="give point geometries to place facilities exactly.")
            geom = geom.copy()
            geom[not_point] = geom[not_point].representative_point()
        if not gis_crs_geographic and system != "wgs84":
            pc.add(f"`coord_system` = {coord_system!r} applies to longitude/latitude, but the "
                   f"layer is in the projected CRS {geom.crs.to_string()}.",
                   fix="leave `coord_system` out for projected layers.")
        ok = (~none).to_numpy()
        lon_raw = np.full(n, np.nan)
        lat_raw = np.full(n, np.nan)
        if ok.any() and geom.crs is not None:
            pts = geom[ok].to_crs(WGS84) if not geom.crs.equals(pyproj.CRS(WGS84)) else geom[ok]
            lon_raw[ok] = shapely.get_x(pts.values)
            lat_raw[ok] = shapely.get_y(pts.values)

    # China range and swapped axes (on the values as given)
    known = np.isfinite(lon_raw) & np.isfinite(lat_raw)
    in_china = _in_box(lon_raw, lat_raw, CHINA_LONLAT)
    swapped_china = ~in_china & _in_box(lat_raw, lon_raw, CHINA_LONLAT)
    where = f"columns {coord_cols[0]}/{coord_cols[1]}" if coord_cols[0] != "geometry" \
        else "the geometry"
    swap_fix = (f"swap the headers of columns {coord_cols[0]!r} and {coord_cols[1]!r} (in China "
                "longitudes lie between 73 and 135, latitudes between 18 and 54)."
                if coord_cols[0] != "geometry" else
                "write points as (longitude, latitude), the GeoJSON order.")
    if swapped_china.all() and n > 1:
        pc.add(f"longitude and latitude look swapped in {where}: every row has a latitude "
               "where the longitude should be.", fix=swap_fix)
    else:
        idx = np.flatnonzero(swapped_china)
        _add_row_problems(
            pc, rows[idx].tolist(),
            lambda k: f"longitude and latitude look swapped in {where} "
                      f"({lon_raw[idx[k]]:g}, {lat_raw[idx[k]]:g}).",
            fix=swap_fix, column=f"{coord_cols[0]}/{coord_cols[1]}")
    outside = known & ~in_china & ~swapped_china
    metres = outside & ((np.abs(lon_raw) > 360) | (np.abs(lat_raw) > 360))
    idx = np.flatnonzero(metres)
    _add_row_problems(
        pc, rows[idx].tolist(),
        lambda k: f"({lon_raw[idx[k]]:g}, {lat_raw[idx[k]]:g}) look like projected metres, "
                  "not degrees.",
        fix="export the coordinates as WGS84 degrees, or give a GIS file that declares its CRS.",
        column=f"{coord_cols[0]}/{coord_cols[1]}")
    idx = np.flatnonzero(outside & ~metres)
    _add_row_problems(
        pc, rows[idx].tolist(),
        lambda k: f"({lon_raw[idx[k]]:g}, {lat_raw[idx[k]]:g}) is outside China "
                  f"(longitude 73–136, latitude 3–54).",
        fix="correct the coordinates (decimal degrees, longitude first) or delete the row.",
        column=f"{coord_cols[0]}/{coord_cols[1]}")

    usable = known & in_china
    lon_raw = np.where(usable, lon_raw, np.nan)
    lat_raw = np.where(usable, lat_raw, np.nan)
    lon, lat = to_wgs84(lon_raw, lat_raw, system) if gis_crs_geographic else (lon_raw, lat_raw)

    if bounds is not None:
        tol_deg = bounds_tolerance_m / 111_320.0
        tol_lon = tol_deg / max(math.cos(math.radians((bounds[1] + bounds[3]) / 2)), 0.1)
        inside = ~usable | ((lon >= bounds[0] - tol_lon) & (lon <= bounds[2] + tol_lon)
                  & (lat >= bounds[1] - tol_deg) & (lat <= bounds[3] + tol_deg))
        swapped = ~inside & ((lat_raw >= bounds[0] - tol_lon) & (lat_raw <= bounds[2] + tol_lon)
                             & (lon_raw >= bounds[1] - tol_deg) & (lon_raw <= bounds[3] + tol_deg))
        box = f"({bounds[0]:g}, {bounds[1]:g}) – ({bounds[2]:g}, {bounds[3]:g})"
        if swapped.all() and n > 1:
            pc.add(f"longitude and latitude look swapped in {where}: swapped, every row falls "
                   "inside the study area.", fix=swap_fix)
        else:
            idx = np.flatnonzero(swapped)
            _add_row_problems(
                pc, rows[idx].tolist(),
                lambda k: f"longitude and latitude look swapped in {where} "
                          f"({lon_raw[idx[k]]:g}, {lat_raw[idx[k]]:g}).",
                fix=swap_fix, column=f"{coord_cols[0]}/{coord_cols[1]}")
        idx = np.flatnonzero(~inside & ~swapped)
        _add_row_problems(
            pc, rows[idx].tolist(),
            lambda k: f"({lon[idx[k]]:.6f}, {lat[idx[k]]:.6f}) is outside the study area "
                      f"{box} by more than {bounds_tolerance_m:g} m.",
            fix="correct the coordinates, check `coord_system` (wgs84/gcj02/bd09), or delete "
                "facilities that lie outside the study area.",
            column=f"{coord_cols[0]}/{coord_cols[1]}")

    # ---- ids ------------------------------------------------------------
    if id_c is not None:
        ids, idx, dups = _id_groups(frame[id_c])
        _add_row_problems(pc, rows[idx].tolist(), lambda k: "the facility id is empty.",
                          fix=f"fill in an id, or remove the id column '{id_c}' to number "
                              "the facilities automatically.", column=str(id_c))
        for v, members in dups.items():
            pc.add(f"facility id {v!r} appears in {len(members)} rows: "
                   f"{_rows_text(rows[members])}.",
                   fix="give every facility its own id.", row=int(rows[members[1]]),
                   column=str(id_c))
    else:
        width = max(4, len(str(n)))
        ids = [f"F{i + 1:0{width}d}" for i in range(n)]

    # ---- capacity and floor area -----------------------------------------
    def numeric(col: Any, what: str) -> np.ndarray:
        if col is None:
            return np.full(n, np.nan)
        vals, bad = _parse_numbers(list(frame[col]))
        idx = np.flatnonzero(bad)
        _add_row_problems(
            pc, rows[idx].tolist(),
            lambda k: f"{str(frame[col].iloc[idx[k]])!r} is not a number ({what}).",
            fix="write a plain number, or leave the cell empty if unknown.", column=str(col))
        idx = np.flatnonzero(vals < 0)
        _add_row_problems(pc, rows[idx].tolist(),
                          lambda k: f"{what} {vals[idx[k]]:g} is negative.",
                          fix="write a number >= 0, or leave the cell empty if unknown.",
                          column=str(col))
        return vals

    capacity = numeric(cap_c, "capacity")
    floor_area = numeric(area_c, "floor area in m²")
    pc.raise_if_any()

    # ---- names and types -------------------------------------------------
    names = _text_column(None if name_c is None else list(frame[name_c]), n)
    names_en = _text_column(None if name_en_c is None else list(frame[name_en_c]), n)
    raw_types = [None] * n if type_c is None else list(frame[type_c])
    types: list[str] = []
    unknown: dict[str, list[int]] = {}
    untyped: list[int] = []
    for i, value in enumerate(raw_types):
        t = normalise_type(value)
        if _GENERIC_TAG.search(str(value)) and not _is_missing(value):
            t = type_from_name(names[i]) or t
        if t is None:
            if not _is_missing(value):
                unknown.setdefault(str(value).strip(), []).append(int(rows[i]))
            t = default_type or type_from_name(names[i])
            if t is None:
                t = "other"
                if _is_missing(value):
                    untyped.append(int(rows[i]))
        types.append(t)
    accepted = ", ".join(f"{k} ({v.zh})" for k, v in FACILITY_TYPES.items())
    for value, members in unknown.items():
        notes.warn(f"type {value!r} in {_rows_label(members)} is not a known facility type; "
                   "the type was taken from the name where possible, else 'other'.",
                   fix=f"use one of {accepted}.", column=None if type_c is None else str(type_c))
    if untyped:
        notes.warn(f"{_rows_label(untyped)}: no type given and none could be read from the "
                   "name; counted as 'other'.",
                   fix="add a type column, or pass `default_type=`.")
    if system == "wgs84" and coord_cols[0] != "geometry":
        hint = " ".join(str(c).lower() for c in coord_cols)
        if any(tok in hint for tok in ("gcj", "火星", "高德", "amap")):
            notes.warn(f"the coordinate columns {coord_cols[0]}/{coord_cols[1]} are named like "
                       "GCJ-02 (Amap) coordinates but were read as WGS84.",
                       fix="pass coord_system='gcj02' if they come from Amap or Tencent maps.")
        elif any(tok in hint for tok in ("bd09", "baidu", "百度")):
            notes.warn(f"the coordinate columns {coord_cols[0]}/{coord_cols[1]} are named like "
                       "BD-09 (Baidu) coordinates but were read as WGS84.",
                       fix="pass coord_system='bd09' if they come from Baidu maps.")

    # ---- assemble ---------------------------------------------------------
    used = {c for c in (lon_c, lat_c, id_c, name_c, name_en_c, type_c, cap_c, area_c)
            if c is not None}
    x, y = to_metric(lon, lat, target.to_string() if target.to_epsg() is None
                     else f"EPSG:{target.to_epsg()}")
    out = pd.DataFrame({
        "facility_id": ids,
        "name": names,
        "name_en": names_en,
        "type": types,
        "capacity": capacity.astype(float),
        "floor_area_m2": floor_area.astype(float),
        "lon": lon,
        "lat": lat,
    }, index=frame.index if kind in ("frame", "geoframe") else None)
    for col in columns:
        if col in used:
            continue
        name = str(col)
        while name in out.columns or name == "geometry":
            name += "_src"
        series = frame[col]
        if kind in ("csv", "xlsx"):
            series = _tidy_extra(series.reset_index(drop=True))
        out[name] = series.to_numpy()
    result = gpd.GeoDataFrame(out, geometry=shapely.points(x, y), crs=target)
    result.attrs["notes"] = [str(p) for p in notes.warnings]
    result.attrs["note_problems"] = list(notes.warnings)
    result.attrs["coord_system"] = system if gis_crs_geographic else None
    return result


_SHIFT_SYSTEMS = {"gcj02": ("GCJ-02", "Amap, Tencent"), "bd09": ("BD-09", "Baidu")}
#: Distance from a mapped building within which a facility counts as on it, in metres.
_ON_BUILDING_M = 10.0


def coordinate_shift_problem(lon: Any, lat: Any, buildings: Any, crs: str, *,
                             file: str | None = None) -> Problem | None:
    """A note when facilities read as WGS84 fit the mapped buildings only once converted from GCJ-02/BD-09.

    Coordinates copied from Amap or Tencent (GCJ-02) or Baidu (BD-09) but
    read as WGS84 lie 300–700 m off: a facility that should stand on its
    building lands in a street or another block. The test counts the
    facilities in or within 10 m of a building of the road data's OSM file,
    for the coordinates as read and as converted from each system; a
    conversion that puts at least half of them on buildings, and at least
    30 percentage points more than as read, is reported.

    Parameters
    ----------
    lon, lat
        The facilities' coordinates as read (WGS84 degrees).
    buildings
        Building polygons in ``crs`` (e.g. from
        :func:`coverage.population.read_osm_ancillary`).
    crs
        The metric CRS of ``buildings``.
    file
        The facility file, for the message.

    Returns
    -------
    Problem or None
        The note with the fix, or None when the coordinates fit as read, or
        there are fewer than 3 facilities or no buildings to test against.
    """
    lon, lat = _arrays(lon, lat)
    ok = np.isfinite(lon) & np.isfinite(lat)
    lon, lat = lon[ok], lat[ok]
    polys = np.asarray(buildings, dtype=object)
    if len(lon) < 3 or len(polys) == 0:
        return None
    tree = shapely.STRtree(polys)

    def on_buildings(lo: np.ndarray, la: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        x, y = to_metric(lo, la, crs)
        hit = np.unique(tree.query(shapely.points(x, y), predicate="dwithin", distance=_ON_BUILDING_M)[0])
        return len(hit) / len(lo), x, y

    given, x0, y0 = on_buildings(lon, lat)
    best = None
    for key in _SHIFT_SYSTEMS:
        share, x1, y1 = on_buildings(*to_wgs84(lon, lat, key))
        if share >= 0.5 and share - given >= 0.3 and (best is None or share > best[1]):
            best = (key, share, float(np.median(np.hypot(x1 - x0, y1 - y0))))
    if best is None:
        return None
    key, share, shift_m = best
    label, maps = _SHIFT_SYSTEMS[key]
    return Problem(
        f"read as WGS84, {given:.0%} of the {len(lon)} facilities lie on a building mapped in the road "
        f"data; read as {label} ({maps}) coordinates, {share:.0%} do. The coordinates look like {label} "
        f"read as WGS84, which moves every facility by about {shift_m:.0f} m.",
        fix=f"declare the coordinate system {label}: choose {label} when uploading, "
            f"`--coord-system {key}` on the command line, `coord_system: {key}` under the facilities "
            f"of a study config, or coord_system='{key}' in Python.", file=file)
