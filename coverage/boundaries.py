"""Load administrative boundaries (districts, counties, sub-districts, towns) and join the census.

:func:`load_boundaries` reads a polygon layer (GeoJSON, GeoPackage,
Shapefile or a GeoDataFrame), checks every feature, and returns the units
table used everywhere else: ``unit_id``, ``name``, ``name_en``, ``unit_type``
(区, 县, 县级市, 街道 or 乡镇), ``pop`` and polygon geometry in the metric CRS.
Every problem is collected and raised once in an
:class:`~coverage.errors.InputError` naming the file, the row (features
counted from 1, as a GIS attribute table shows them), the column and the fix.

:func:`join_census` attaches the 2020 census population and age structure
(``pop_census``, ``pct_0_14``, ``pct_65_plus``) by adcode or by name.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import InputError, Problem, ProblemCollector
from .facilities import (
    _add_row_problems,
    _id_groups,
    _decode,
    _find_column,
    _id_text,
    _is_missing,
    _label,
    _metric_crs,
    _parse_numbers,
    _read_gis,
    _resolve_column,
    _rows_label,
    _rows_text,
    _sniff_delimiter,
    _source_kind,
    _text_column,
    normalise_coord_system,
    to_wgs84,
)

__all__ = [
    "CANONICAL_UNIT_TYPES",
    "UNIT_TYPES",
    "join_census",
    "load_boundaries",
    "normalise_unit_type",
    "unit_type_from_name",
]

#: The unit types of the units table.
CANONICAL_UNIT_TYPES: tuple[str, ...] = ("区", "县", "县级市", "街道", "乡镇")

#: Every accepted unit-type label and the canonical type it stands for.
UNIT_TYPES: Mapping[str, str] = MappingProxyType({
    "区": "区", "市辖区": "区", "特区": "区", "林区": "区", "功能区": "区",
    "district": "区", "urban_district": "区", "functional_zone": "区",
    "县": "县", "旗": "县", "自治县": "县", "自治旗": "县", "county": "县", "banner": "县",
    "县级市": "县级市", "county_level_city": "县级市", "city": "县级市",
    "街道": "街道", "街道办事处": "街道", "街道办": "街道", "subdistrict": "街道",
    "sub_district": "街道", "street": "街道",
    "乡镇": "乡镇", "乡": "乡镇", "镇": "乡镇", "民族乡": "乡镇", "苏木": "乡镇",
    "township": "乡镇", "town": "乡镇",
})

# name suffix -> unit type, longest suffixes first
_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("街道办事处", "街道"), ("街道", "街道"), ("自治县", "县"), ("自治旗", "县"),
    ("民族乡", "乡镇"), ("苏木", "乡镇"), ("区", "区"), ("县", "县"), ("旗", "县"),
    ("市", "县级市"), ("镇", "乡镇"), ("乡", "乡镇"),
)

_ID_NAMES = ("unitid", "adcode", "行政区划代码", "区划代码", "xzqdm", "代码", "编码", "code",
             "gb", "id", "fid")
_NAME_NAMES = ("name", "名称", "unitname", "xzqmc", "行政区名称", "行政区", "区县", "区县名称",
               "街道名称", "乡镇名称", "街镇", "county", "district", "namezh")
_NAME_EN_NAMES = ("nameen", "englishname", "英文名称", "英文名", "enname", "ename", "sourcename")
_TYPE_NAMES = ("unittype", "类型", "行政级别", "级别", "level", "type")
_POP_NAMES = ("pop", "population", "人口", "常住人口", "人口数", "poptotal", "总人口")


def normalise_unit_type(value: Any) -> str | None:
    """Map a unit-type label to one of :data:`CANONICAL_UNIT_TYPES`.

    Parameters
    ----------
    value
        A label such as ``"区"``, ``"市辖区"``, ``"自治县"``, ``"旗"``,
        ``"county_level_city"`` or ``"Township"``.

    Returns
    -------
    str or None
        The canonical type, or ``None`` if the value is empty or unknown.
    """
    if _is_missing(value):
        return None
    key = unicodedata.normalize("NFKC", str(value)).strip()
    key = re.sub(r"[\s\-]+", "_", key.lower())
    return UNIT_TYPES.get(key)


def unit_type_from_name(name: Any) -> str | None:
    """Infer the unit type from the suffix of a Chinese unit name.

    ``…区`` → 区, ``…县``/``…旗``/``…自治县`` → 县, ``…市`` → 县级市 (a city
    among county-level units), ``…街道`` → 街道, ``…镇``/``…乡`` → 乡镇.

    Parameters
    ----------
    name
        The unit name, e.g. ``"锦江区"`` or ``"都江堰市"``.

    Returns
    -------
    str or None
        The canonical type, or ``None`` if the suffix says nothing.
    """
    if _is_missing(name):
        return None
    text = unicodedata.normalize("NFKC", str(name)).strip()
    for suffix, kind in _SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            return kind
    return None


def _polygonal(geom: Any) -> Any:
    """The polygonal part of a geometry (after make_valid), or None."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    if geom.geom_type == "GeometryCollection":
        parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
        polys = []
        for g in parts:
            polys.extend(shapely.get_parts(g))
        if polys:
            return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
    return None


def load_boundaries(
    source: str | Path | gpd.GeoDataFrame,
    *,
    crs: Any,
    name_col: str | None = None,
    unit_type_col: str | None = None,
    unit_type: str | None = None,
    pop_col: str | None = None,
    id_col: str | None = None,
    layer: str | int | None = None,
    coord_system: str = "wgs84",
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a polygon layer of administrative units and check every feature.

    Parameters
    ----------
    source
        A GeoJSON, GeoPackage or Shapefile path, or a GeoDataFrame. The file
        is only read.
    crs
        The metric CRS to project to, e.g. ``"EPSG:32648"``.
    name_col
        The Chinese name column; detected when left out (name, 名称, XZQMC…).
    unit_type_col
        A column with the unit type of each feature (区, 县, 街道…).
    unit_type
        One unit type for every feature. Without it and without a type
        column, the type is read from the name suffix (…区, …县, …街道, …镇).
    pop_col
        A population column (residents counted in the study area); detected
        when left out (pop, population, 人口, 常住人口). NaN when absent.
    id_col
        The unit id column, usually the 6-digit adcode; detected when left
        out (adcode, 行政区划代码, XZQDM…). Ids ``"U001"``… are generated
        when there is none.
    layer
        The layer of a multi-layer GeoPackage.
    coord_system
        ``"wgs84"``, or ``"gcj02"``/``"bd09"`` for boundaries digitised on
        Amap/Baidu maps; the vertices are converted to WGS84 first.
    encoding
        The attribute encoding of a Shapefile without a .cpg file.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``unit_id`` (str), ``name``, ``name_en``, ``unit_type``,
        ``pop`` (float), the other input columns, and polygon geometry in
        ``crs``. Repairs made to invalid geometries are listed in
        ``.attrs["notes"]``.

    Raises
    ------
    InputError
        With every problem found: missing or unreadable file, no CRS, empty
        layer, missing/non-polygon geometries, unknown unit types,
        non-numeric or negative population, duplicate unit ids.
    """
    target = _metric_crs(crs)
    system = normalise_coord_system(coord_system)
    fixed_type = None
    if unit_type is not None:
        fixed_type = normalise_unit_type(unit_type)
        if fixed_type is None:
            raise InputError(Problem(
                f"`unit_type` = {unit_type!r} is not a unit type.",
                fix=f"pass one of {', '.join(CANONICAL_UNIT_TYPES)} (or an alias such as "
                    "'district', 'county', '市辖区', '旗').",
            ))

    pc = ProblemCollector()
    kind, path = _source_kind(source, pc, gis_only=True)
    pc.raise_if_any()
    label = _label(path) if path is not None else None
    pc = ProblemCollector(file=label)
    notes = ProblemCollector(file=label)
    if kind == "geoframe":
        gdf = source.copy()  # type: ignore[union-attr]
        if gdf.crs is None and len(gdf):
            pc.add("the GeoDataFrame has no CRS.",
                   fix="set it with gdf.set_crs('EPSG:4326') (or the CRS the data is in).")
    else:
        gdf = _read_gis(path, layer, encoding, pc)  # type: ignore[arg-type]
    pc.raise_if_any()
    assert gdf is not None
    n = len(gdf)
    if n == 0:
        pc.add("the layer has no features.",
               fix="give a layer with one polygon per district, county, sub-district or town.")
        pc.raise_if_any()
    rows = np.arange(n) + 1
    geom_name = gdf.geometry.name
    table = pd.DataFrame(gdf.drop(columns=geom_name))
    columns = list(table.columns)

    id_c = _resolve_column(pc, columns, id_col, "id_col", _ID_NAMES)
    name_c = _resolve_column(pc, columns, name_col, "name_col", _NAME_NAMES)
    type_c = _resolve_column(pc, columns, unit_type_col, "unit_type_col", _TYPE_NAMES) \
        if fixed_type is None else None
    if unit_type_col is None and type_c is not None and not any(
            normalise_unit_type(v) for v in table[type_c]):
        notes.warn(f"column '{type_c}' holds no unit type (区, 县, 街道…), so the unit types "
                   "were read from the names.", column=str(type_c))
        type_c = None
    pop_c = _resolve_column(pc, columns, pop_col, "pop_col", _POP_NAMES)
    name_en_c = _find_column(columns, _NAME_EN_NAMES)
    if name_c is None and not pc.problems:
        pc.add(f"no name column found; the columns are {', '.join(repr(str(c)) for c in columns)}.",
               fix="name the column name/名称, or pass `name_col=`.")
    pc.raise_if_any()
    names = _text_column(list(table[name_c]), n)  # type: ignore[index]

    # ---- geometry --------------------------------------------------------
    geoms = np.array(gdf.geometry.values, dtype=object)
    missing = np.array([g is None or g.is_empty for g in geoms])
    idx = np.flatnonzero(missing)
    _add_row_problems(pc, rows[idx].tolist(),
                      lambda k: f"unit {names[idx[k]]!r} has no geometry.",
                      fix="draw its boundary polygon or delete the feature.", column="geometry")
    wrong = np.array([not m and g.geom_type not in ("Polygon", "MultiPolygon", "GeometryCollection")
                      for g, m in zip(geoms, missing)])
    idx = np.flatnonzero(wrong)
    _add_row_problems(pc, rows[idx].tolist(),
                      lambda k: f"unit {names[idx[k]]!r} is a {geoms[idx[k]].geom_type}, "
                                "not a polygon.",
                      fix="give boundary polygons (not points or lines), e.g. convert lines to "
                          "polygons in QGIS (Vector ▸ Geometry Tools ▸ Lines to Polygons).",
                      column="geometry")
    repaired: list[int] = []
    for i in np.flatnonzero(~missing & ~wrong):
        g = geoms[i]
        if not g.is_valid:
            g = shapely.make_valid(g)
            repaired.append(int(rows[i]))
        poly = _polygonal(g)
        if poly is None:
            pc.add(f"unit {names[i]!r} has no polygon area (a {geoms[i].geom_type} "
                   "without polygons).", fix="give boundary polygons.", row=int(rows[i]),
                   column="geometry")
        geoms[i] = poly
    if repaired:
        notes.warn(f"invalid geometries (e.g. self-intersections) in {_rows_label(repaired)} "
                   "were repaired with make_valid.",
                   fix="check these boundaries in a GIS if the repaired shapes look wrong.")

    if gdf.crs is not None:
        _check_declared_crs(geoms, names, rows, gdf.crs, pc)

    # ---- unit types ------------------------------------------------------
    accepted = ", ".join(UNIT_TYPES)
    types: list[str | None] = []
    for i in range(n):
        if fixed_type is not None:
            types.append(fixed_type)
            continue
        if type_c is not None and not _is_missing(table[type_c].iloc[i]):
            value = table[type_c].iloc[i]
            t = normalise_unit_type(value)
            if t is None:
                pc.add(f"unit type {str(value)!r} is not known.",
                       fix=f"use one of {accepted}.", row=int(rows[i]), column=str(type_c))
            types.append(t)
            continue
        t = unit_type_from_name(names[i])
        if t is None:
            pc.add(f"the unit type of {names[i]!r} cannot be read from its name.",
                   fix=f"add a unit-type column (values: {', '.join(CANONICAL_UNIT_TYPES)}) "
                       "and pass `unit_type_col=`, or pass `unit_type=` for all units.",
                   row=int(rows[i]), column=str(name_c))
        types.append(t)

    # ---- population --------------------------------------------------------
    if pop_c is not None:
        pop, bad = _parse_numbers(list(table[pop_c]))
        idx = np.flatnonzero(bad)
        _add_row_problems(pc, rows[idx].tolist(),
                          lambda k: f"population {str(table[pop_c].iloc[idx[k]])!r} is not a "
                                    "number.",
                          fix="write a plain count of residents, or leave the cell empty.",
                          column=str(pop_c))
        idx = np.flatnonzero(pop < 0)
        _add_row_problems(pc, rows[idx].tolist(),
                          lambda k: f"population {pop[idx[k]]:g} is negative.",
                          fix="write a count of residents >= 0.", column=str(pop_c))
    else:
        pop = np.full(n, np.nan)

    # ---- ids -----------------------------------------------------------------
    if id_c is not None:
        ids, idx, dups = _id_groups(table[id_c])
        _add_row_problems(pc, rows[idx].tolist(), lambda k: "the unit id is empty.",
                          fix=f"fill in the adcode, or pass `id_col=` with another id column.",
                          column=str(id_c))
        for v, members in dups.items():
            pc.add(f"unit id {v!r} appears in {len(members)} rows: "
                   f"{_rows_text(rows[members])} "
                   f"({', '.join(repr(names[m]) for m in members[:5])}).",
                   fix="give every unit its own id; dissolve multi-part units into one "
                       "feature (QGIS: Vector ▸ Geoprocessing ▸ Dissolve).",
                   row=int(rows[members[1]]), column=str(id_c))
    else:
        width = max(3, len(str(n)))
        ids = [f"U{i + 1:0{width}d}" for i in range(n)]
    pc.raise_if_any()

    # ---- assemble --------------------------------------------------------------
    geo = gpd.GeoSeries(list(geoms), crs=gdf.crs, index=gdf.index)
    if system != "wgs84":
        if not gdf.crs.is_geographic:
            raise InputError(Problem(
                f"`coord_system` = {coord_system!r} applies to longitude/latitude, but the layer "
                f"is in the projected CRS {gdf.crs.to_string()}.",
                fix="leave `coord_system` out for projected layers.", file=label))
        geo = geo.to_crs("EPSG:4326")
        geo = gpd.GeoSeries(
            shapely.transform(geo.values, lambda xy: np.column_stack(to_wgs84(xy[:, 0], xy[:, 1],
                                                                                 system))),
            crs="EPSG:4326", index=gdf.index)
    geo = geo.to_crs(target)
    _check_projected(geo.to_numpy(), names, rows, pc)
    pc.raise_if_any()
    _check_overlaps(geo.to_numpy(), names, rows, pc, notes)
    pc.raise_if_any()
    out = pd.DataFrame({
        "unit_id": ids,
        "name": names,
        "name_en": _text_column(None if name_en_c is None else list(table[name_en_c]), n),
        "unit_type": types,
        "pop": pop.astype(float),
    }, index=gdf.index)
    used = {c for c in (id_c, name_c, name_en_c, type_c, pop_c) if c is not None}
    for col in columns:
        if col in used:
            continue
        name = str(col)
        while name in out.columns or name == "geometry":
            name += "_src"
        out[name] = table[col].to_numpy()
    result = gpd.GeoDataFrame(out, geometry=geo, crs=target)
    if result.geometry.name != "geometry":
        result = result.rename_geometry("geometry")
    result.attrs["notes"] = [str(p) for p in notes.warnings]
    return result


_SET_CRS = "QGIS: Layer ▸ Set CRS, which assigns without reprojecting, then save again"
#: Overlap of two units, as a share of the smaller one, above which the layer is refused.
MAX_OVERLAP_SHARE = 0.01
#: Overlap share above which an overlap is noted (smaller ones are digitising slivers).
NOTE_OVERLAP_SHARE = 0.0001


def _check_declared_crs(geoms: np.ndarray, names: list[str], rows: np.ndarray, crs: Any,
                        pc: ProblemCollector) -> None:
    """Refuse units whose coordinates cannot be in the CRS the file declares."""
    ok = np.array([g is not None and not g.is_empty for g in geoms])
    if not ok.any():
        return
    idx = np.flatnonzero(ok)
    b = shapely.bounds(np.array(list(geoms[idx]), dtype=object))
    declared = crs.to_string()
    if crs.is_geographic:
        bad = (np.abs(b[:, [0, 2]]) > 180).any(axis=1) | (np.abs(b[:, [1, 3]]) > 90).any(axis=1)
        k = np.flatnonzero(bad)
        _add_row_problems(
            pc, rows[idx[k]].tolist(),
            lambda j: f"unit {names[idx[k[j]]]!r} has coordinates ({b[k[j], 0]:,.0f}, {b[k[j], 1]:,.0f}) "
                      f"that look like metres, but the file declares {declared} (degrees).",
            fix="assign the CRS the coordinates are in (e.g. EPSG:32648 for UTM zone 48N, or the "
                f"CGCS2000 Gauss-Krüger zone of the data) ({_SET_CRS}).", column="geometry")
    else:
        lonlat = (np.abs(b[:, [0, 2]]) <= 180).all(axis=1) & (np.abs(b[:, [1, 3]]) <= 90).all(axis=1)
        small = ((b[:, 2] - b[:, 0]) < 180) & ((b[:, 3] - b[:, 1]) < 180)
        k = np.flatnonzero(lonlat & small)
        _add_row_problems(
            pc, rows[idx[k]].tolist(),
            lambda j: f"unit {names[idx[k[j]]]!r} spans {b[k[j], 2] - b[k[j], 0]:.3g} m × "
                      f"{b[k[j], 3] - b[k[j], 1]:.3g} m at ({b[k[j], 0]:.4f}, {b[k[j], 1]:.4f}): the "
                      f"coordinates look like degrees, but the file declares {declared} (metres).",
            fix=f"assign EPSG:4326 (longitude/latitude) ({_SET_CRS}).", column="geometry")


def _check_projected(geoms: np.ndarray, names: list[str], rows: np.ndarray, pc: ProblemCollector) -> None:
    """Refuse units that projected to infinite coordinates or to no area."""
    area = shapely.area(geoms)
    finite = np.isfinite(shapely.bounds(geoms)).all(axis=1)
    k = np.flatnonzero(~finite | ~(area > 1.0))
    _add_row_problems(
        pc, rows[k].tolist(),
        lambda j: f"unit {names[k[j]]!r} has " + ("infinite coordinates" if not finite[k[j]] else
                                                  f"an area of {area[k[j]]:.3g} m²")
                  + " in the metric CRS: its coordinates do not fit the CRS the file declares.",
        fix=f"assign the CRS the coordinates are in ({_SET_CRS}).", column="geometry")


def _check_overlaps(geoms: np.ndarray, names: list[str], rows: np.ndarray, pc: ProblemCollector,
                    notes: ProblemCollector) -> None:
    """Refuse units that overlap (a facility in the overlap would count for one of them only)."""
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if not len(left):
        return
    inter = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    area = shapely.area(geoms)
    smaller = np.where(area[left] <= area[right], left, right)
    share = inter / area[smaller]
    for i, j, a, sh, m in zip(left, right, inter, share, smaller):
        text = (f"units {names[i]!r} (row {rows[i]}) and {names[j]!r} (row {rows[j]}) overlap by "
                f"{a / 1e6:,.2f} km² ({sh:.0%} of {names[m]!r})")
        if sh > MAX_OVERLAP_SHARE:
            pc.add(text + "; a facility or resident in the overlap would count for one unit only.",
                   fix="correct the boundaries so that units do not overlap (QGIS: Vector ▸ Geometry "
                       "Tools ▸ Check Validity, or the Topology Checker), and do not mix levels such as a "
                       "district and its sub-districts in one layer", row=int(rows[j]), column="geometry")
        elif sh > NOTE_OVERLAP_SHARE:
            notes.warn(text + ", a sliver left as it is.", row=int(rows[j]), column="geometry")


_CENSUS_COLUMNS = {
    "adcode": ("adcode", "行政区划代码", "区划代码", "code"),
    "name": ("county", "name", "名称", "区县", "地区"),
    "city": ("city", "地级市", "市"),
    "pop": ("poptotal", "pop", "常住人口", "人口", "population"),
    "pct_0_14": ("pct014", "014岁", "014岁占比", "014"),
    "pct_65_plus": ("pct65plus", "65岁及以上", "65岁以上", "pct65"),
}


def _read_census(census: pd.DataFrame | str | Path | None) -> tuple[pd.DataFrame, str | None]:
    if census is None:
        census = Path(__file__).resolve().parent.parent / "data" / "census" / \
            "census2020_county.csv"
    if isinstance(census, pd.DataFrame):
        return census.copy(), None
    path = Path(census)
    pc = ProblemCollector(file=str(path))
    if not path.exists():
        pc.add("the census file does not exist.", fix="check the path of `census`.")
        pc.raise_if_any()
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return pd.read_excel(path, dtype=object), path.name
    text = _decode(path.read_bytes(), None, pc)
    pc.raise_if_any()
    import io

    frame = pd.read_csv(io.StringIO(text), sep=_sniff_delimiter(text), dtype=object)
    return frame, path.name


def join_census(
    units: gpd.GeoDataFrame,
    census: pd.DataFrame | str | Path | None = None,
    *,
    on: str = "adcode",
    city: str | None = None,
) -> gpd.GeoDataFrame:
    """Attach 2020 census population and age structure to units.

    Parameters
    ----------
    units
        A units table from :func:`load_boundaries` (not modified).
    census
        A census table or the path of one (CSV in UTF-8/GBK, or XLSX) with an
        adcode, a county name, the total population and the shares of
        residents aged 0–14 and 65+, like ``data/census/census2020_county.csv``
        (columns ``adcode, county, pop_total, pct_0_14, pct_65_plus``). The
        embedded county table when left out.
    on
        ``"adcode"`` to match ``units.unit_id`` to the census adcode, or
        ``"name"`` to match ``units.name`` to the census county name.
    city
        With ``on="name"``, the city (e.g. ``"成都市"`` or ``"成都"``) whose
        counties are matched, to tell apart names used in several cities
        (鼓楼区, 市中区…).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``units`` with ``pop_census`` (float), ``pct_0_14`` and
        ``pct_65_plus`` (percent), NaN where no census row matched. The
        units without a match, or with several, are listed by name in
        ``.attrs["notes"]``.

    Raises
    ------
    InputError
        If ``on`` is not "adcode" or "name", the census table lacks the
        needed columns, or no unit matched at all.
    """
    if on not in ("adcode", "name"):
        raise InputError(Problem(f"`on` = {on!r} is not a way to match the census.",
                                 fix="pass on='adcode' (match unit_id) or on='name'."))
    key_col = "unit_id" if on == "adcode" else "name"
    if key_col not in units.columns:
        raise InputError(Problem(
            f"`units` has no '{key_col}' column to match the census {on} on.",
            fix="load the units with coverage.boundaries.load_boundaries."))
    frame, label = _read_census(census)
    pc = ProblemCollector(file=label)
    cols = list(frame.columns)
    found = {k: _find_column(cols, v) for k, v in _CENSUS_COLUMNS.items()}
    needed = ["adcode" if on == "adcode" else "name", "pop", "pct_0_14", "pct_65_plus"]
    for k in needed:
        if found[k] is None:
            pc.add(f"the census table has no {k} column; its columns are "
                   f"{', '.join(repr(str(c)) for c in cols)}.",
                   fix=f"name the columns {', '.join(_CENSUS_COLUMNS[k][0] for k in needed)} "
                       "(as in data/census/census2020_county.csv).")
    if city is not None and found["city"] is None:
        pc.add("`city` was given but the census table has no city column.",
               fix="add a city column or leave `city` out.")
    pc.raise_if_any()
    if city is not None:
        want = unicodedata.normalize("NFKC", city).strip().removesuffix("市")
        cities = frame[found["city"]].astype(str).str.strip().str.removesuffix("市")
        frame = frame[cities == want]
        if frame.empty:
            raise InputError(Problem(f"`city` = {city!r} matches no row of the census table.",
                                     fix="pass the city name as the census writes it, "
                                         "e.g. '成都市'.", file=label))
    key = frame[found["adcode" if on == "adcode" else "name"]].map(
        lambda v: _id_text(v) if not _is_missing(v) else "")
    pop, _ = _parse_numbers(list(frame[found["pop"]]))
    young, _ = _parse_numbers(list(frame[found["pct_0_14"]]))
    old, _ = _parse_numbers(list(frame[found["pct_65_plus"]]))
    lookup: dict[str, list[int]] = {}
    for i, k in enumerate(key):
        if k:
            lookup.setdefault(k, []).append(i)

    out = units.copy()
    n = len(out)
    pop_c = np.full(n, np.nan)
    young_c = np.full(n, np.nan)
    old_c = np.full(n, np.nan)
    unmatched: list[str] = []
    ambiguous: list[str] = []
    for j, (k, nm) in enumerate(zip(out[key_col], out["name"])):
        hits = lookup.get(_id_text(k) if not _is_missing(k) else "", [])
        if len(hits) == 1:
            i = hits[0]
            pop_c[j], young_c[j], old_c[j] = pop[i], young[i], old[i]
        elif hits:
            ambiguous.append(str(nm))
        else:
            unmatched.append(str(nm))
    notes = list(out.attrs.get("notes", []))
    if unmatched and len(unmatched) == n:
        raise InputError(Problem(
            f"no unit matched the census by {on} (units: {', '.join(unmatched[:10])}).",
            fix=("match by name with on='name'" if on == "adcode" else
                 "match by adcode with on='adcode'") + ", or check that the census table "
            "covers these units (the embedded table has counties, not sub-districts).",
            file=label))
    if unmatched:
        notes.append(f"no census row for {len(unmatched)} unit(s) matched by {on}: "
                     f"{', '.join(unmatched)}; their census figures are left empty.")
    if ambiguous:
        notes.append(f"several census rows share the name of {', '.join(ambiguous)}; their "
                     "census figures are left empty. Fix: pass `city=` or match on='adcode'.")
    out["pop_census"] = pop_c
    out["pct_0_14"] = young_c
    out["pct_65_plus"] = old_c
    out.attrs["notes"] = notes
    return out
