"""A study area bundles boundaries, population grid, facilities and roads.

Everything inside a :class:`StudyArea` is in one projected metric CRS. The
embedded default, central Chengdu, is loaded by :func:`load_default`; other
areas are assembled from files by :func:`load_study_area`.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import InputError, Problem
from .geo import CHENGDU_CRS, WGS84

__all__ = [
    "CHENGDU_EXTENT_LONLAT",
    "coordinate_notes",
    "DATA_DIR",
    "StudyArea",
    "load_default",
    "load_study_area",
]

#: Root of the data shipped with the project.
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
#: The ``<bounds>`` of the embedded OSM extract (minlon, minlat, maxlon, maxlat).
CHENGDU_EXTENT_LONLAT = (104.0421, 30.6528, 104.1296, 30.7279)
CHENGDU_DIR = DATA_DIR / "chengdu"
#: Vintage of the embedded data, quoted in exports.
CHENGDU_DATA_DATE = "OSM extract 2018-07; 2020 census (7th national census); boundaries 2017"


@dataclass(frozen=True)
class StudyArea:
    """Boundaries, population grid, facilities and road network of one area.

    Attributes
    ----------
    name
        A short name (e.g. ``"chengdu-core"``).
    crs
        The metric CRS every layer is in.
    boundaries
        Administrative units: ``unit_id``, ``name``, ``name_en``, ``unit_type``,
        ``pop`` (residents inside the study extent), ``pop_census``,
        ``pct_0_14``, ``pct_65_plus`` and polygons.
    grid
        The population grid (see :mod:`coverage.population`).
    facilities
        Existing facilities (see :mod:`coverage.facilities`).
    extent
        The polygon where road and population data exist.
    network_source
        The road data: a file path or an already loaded network.
    data_date
        Vintage of the data, quoted in exports.
    notes
        Non-fatal notes from loading (dropped rows, repaired geometries...).
    """

    name: str
    crs: str
    boundaries: gpd.GeoDataFrame
    grid: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    extent: shapely.Geometry
    network_source: Any = None
    data_date: str = ""
    notes: tuple[Problem, ...] = ()
    _cache: dict = field(default_factory=dict, compare=False, repr=False, hash=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False, hash=False)

    @property
    def network(self):
        """The road network (:class:`coverage.network.RoadNetwork`), loaded once."""
        with self._lock:
            if "network" not in self._cache:
                from .network import RoadNetwork, load_network

                src = self.network_source
                if src is None:
                    raise InputError(Problem(f"study area `{self.name}` has no road network.",
                                             fix="pass `network=` (an .osm/.osm.pbf/GraphML file) when loading it"))
                self._cache["network"] = src if isinstance(src, RoadNetwork) else load_network(src, crs=self.crs)
            return self._cache["network"]

    @property
    def bounds_lonlat(self) -> tuple[float, float, float, float]:
        """(minlon, minlat, maxlon, maxlat) of the extent."""
        g = gpd.GeoSeries([self.extent], crs=self.crs).to_crs(WGS84)
        return tuple(float(v) for v in g.total_bounds)

    @property
    def total_pop(self) -> float:
        """Residents in the grid."""
        return float(self.grid["pop"].sum())

    def with_facilities(self, facilities: gpd.GeoDataFrame) -> "StudyArea":
        """A copy of the area with another facility layer (same CRS required)."""
        if facilities.crs is None or facilities.crs != gpd.GeoDataFrame(geometry=[], crs=self.crs).crs:
            facilities = facilities.to_crs(self.crs)
        new = StudyArea(self.name, self.crs, self.boundaries, self.grid, facilities, self.extent,
                        self.network_source, self.data_date, self.notes)
        with self._lock:
            if "network" in self._cache:
                new._cache["network"] = self._cache["network"]
        return new


_DEFAULT_LOCK = threading.Lock()
_DEFAULT: dict[str, StudyArea] = {}


def load_default() -> StudyArea:
    """Load the embedded central-Chengdu study area (no network access needed).

    Returns the same read-only object on repeated calls in one process.
    """
    with _DEFAULT_LOCK:
        if "chengdu" not in _DEFAULT:
            _DEFAULT["chengdu"] = _load_chengdu()
        return _DEFAULT["chengdu"]


def _load_chengdu() -> StudyArea:
    crs = CHENGDU_CRS
    units = gpd.read_file(CHENGDU_DIR / "districts.geojson").to_crs(crs)
    units["unit_id"] = units["unit_id"].astype(str)
    grid = gpd.read_file(CHENGDU_DIR / "population_grid.gpkg", layer="population_grid")
    grid["unit_id"] = grid["unit_id"].astype(str)
    fac = pd.read_csv(CHENGDU_DIR / "facilities.csv", dtype={"facility_id": str})
    fac = _facilities_from_table(fac, crs)
    extent = gpd.GeoSeries([shapely.box(*CHENGDU_EXTENT_LONLAT)], crs=WGS84).to_crs(crs).iloc[0]
    return StudyArea(
        name="chengdu-core", crs=crs, boundaries=units, grid=grid, facilities=fac, extent=extent,
        network_source=CHENGDU_DIR / "chengdu_core_2018.osm.pbf", data_date=CHENGDU_DATA_DATE,
    )


def _facilities_from_table(df: pd.DataFrame, crs: str) -> gpd.GeoDataFrame:
    """Embedded facility table (WGS84 lon/lat columns) -> facilities in ``crs``."""
    df = df.copy()
    df["name_en"] = df["name_en"].fillna("")
    for col in ("capacity", "floor_area_m2"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    geom = gpd.points_from_xy(df["lon"], df["lat"], crs=WGS84)
    return gpd.GeoDataFrame(df, geometry=geom, crs=WGS84).to_crs(crs)


def load_study_area(config: Mapping[str, Any] | str | Path) -> StudyArea:
    """Assemble a study area from files.

    Parameters
    ----------
    config
        A mapping (or a YAML file holding one) with the keys

        ``name``
            a short name;
        ``boundaries``
            a polygon file of units (see :func:`coverage.boundaries.load_boundaries`),
            or a mapping of that function's arguments with ``path``;
        ``population``
            a GeoTIFF raster, a polygon file with a population column, a point
            file, or a grid GeoPackage written by this package; or a mapping
            with ``path``, ``kind`` (``raster``/``polygons``/``points``/``grid``),
            ``pop_col`` and ``cell_m``;
        ``facilities``
            a facility file or a mapping of :func:`coverage.facilities.load_facilities`
            arguments with ``path``;
        ``network``
            an ``.osm``/``.osm.bz2``/``.osm.pbf``/``.graphml`` file;
        ``crs``
            optional metric CRS (estimated from the boundaries when absent).

        Relative paths in a YAML file are relative to that file.
    """
    base = Path(".")
    if isinstance(config, (str, Path)):
        import yaml

        path = Path(config)
        if not path.is_file():
            raise InputError(Problem("study config file not found.", file=str(path),
                                     fix="check the path of the YAML study config"))
        try:
            config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise InputError(Problem(f"not valid YAML ({exc}).", file=str(path),
                                     fix="fix the YAML syntax")) from exc
        base = path.parent
        if not isinstance(config, Mapping):
            raise InputError(Problem(f"the study config is a {type(config).__name__}, not a mapping.",
                                     file=str(path),
                                     fix="write `boundaries: FILE` and `population: FILE` as top-level keys"))
    from .boundaries import load_boundaries
    from .facilities import load_facilities

    problems: list[Problem] = []
    for key in ("boundaries", "population"):
        if key not in config:
            problems.append(Problem(f"study config lacks `{key}`.", fix=f"add a `{key}:` entry with a file path"))
    if problems:
        raise InputError(problems)

    def spec(key: str) -> dict:
        val = config[key]
        d = dict(val) if isinstance(val, Mapping) else {"path": val}
        d["path"] = str((base / d["path"]).resolve()) if not Path(d["path"]).is_absolute() else d["path"]
        return d

    b = spec("boundaries")
    crs = config.get("crs")
    if crs is None:
        raw = _peek_layer(b["path"])
        if raw is not None and raw.crs is not None and len(raw):
            crs = str(raw.to_crs(WGS84).estimate_utm_crs())
    if crs is None:
        raise InputError(Problem("cannot choose a metric CRS: the boundaries file is missing or has no CRS.",
                                 file=b["path"], fix="give `crs:` in the config or fix the boundaries file"))
    bpath = b.pop("path")
    units = load_boundaries(bpath, crs=crs, **b)
    extent = shapely.union_all(units.geometry.to_numpy())

    p = spec("population")
    grid = _load_population(p, crs=crs, units=units)

    if "facilities" in config:
        f = spec("facilities")
        fpath = f.pop("path")
        fac = load_facilities(fpath, crs=crs, **f)
    else:
        fac = _facilities_from_table(pd.DataFrame(columns=["facility_id", "name", "name_en", "type", "capacity",
                                                           "floor_area_m2", "lon", "lat"]), crs)
    net = spec("network")["path"] if "network" in config else None
    area = StudyArea(name=str(config.get("name", "study-area")), crs=crs, boundaries=units, grid=grid,
                     facilities=fac, extent=extent, network_source=net, data_date=str(config.get("data_date", "")))
    if "facilities" not in config:
        return area
    notes = [Problem(n) for n in fac.attrs.get("notes", [])]
    notes += coordinate_notes(area, fac, file=Path(fpath).name)
    return dataclasses.replace(area, notes=tuple(notes)) if notes else area


_OSM_SUFFIXES = (".osm", ".pbf", ".bz2")


def coordinate_notes(area: StudyArea, facilities: gpd.GeoDataFrame, *, file: str | None = None) -> list[Problem]:
    """Notes on facilities read as WGS84 whose positions fit the area's mapped buildings only as GCJ-02/BD-09.

    Parameters
    ----------
    area
        The study area; its road data must be an OSM file (``.osm``,
        ``.osm.bz2``, ``.osm.pbf``) for its buildings to be read (once per area).
    facilities
        Facilities from :func:`coverage.facilities.load_facilities`; tested
        only when they were read as WGS84 longitude/latitude.
    file
        The facility file, for the message.

    Returns
    -------
    list of Problem
        Empty, or one note with the fix (see
        :func:`coverage.facilities.coordinate_shift_problem`).
    """
    from .facilities import coordinate_shift_problem

    src = area.network_source
    if (facilities.attrs.get("coord_system") != "wgs84" or len(facilities) < 3
            or not isinstance(src, (str, Path)) or not str(src).lower().endswith(_OSM_SUFFIXES)):
        return []
    with area._lock:
        if "buildings" not in area._cache:
            from .population import read_osm_ancillary

            area._cache["buildings"] = read_osm_ancillary(src, crs=area.crs).buildings.to_numpy()
        buildings = area._cache["buildings"]
    problem = coordinate_shift_problem(facilities["lon"], facilities["lat"], buildings, area.crs, file=file)
    return [] if problem is None else [problem]


def _peek_layer(path: str) -> gpd.GeoDataFrame | None:
    """The first features of a boundaries file, or None when it is missing; refuse broken files."""
    p = Path(path)
    if not p.is_file():
        return None
    if p.stat().st_size == 0:
        raise InputError(Problem("the boundaries file is empty (0 bytes).", file=str(p),
                                 fix="export the boundaries again (GeoJSON, GeoPackage or Shapefile)"))
    try:
        raw = gpd.read_file(p, rows=50)
    except Exception as exc:  # pyogrio raises several types for broken files
        raise InputError(Problem(f"the boundaries file cannot be read ({exc}).", file=str(p),
                                 fix="check that it opens in QGIS and export it again")) from None
    if len(raw) == 0:
        raise InputError(Problem("the boundaries file has no features.", file=str(p),
                                 fix="give a layer with one polygon per district, county, sub-district or town"))
    return raw


def _load_population(p: dict, *, crs: str, units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    from . import population as popm

    path = p["path"]
    kind = p.get("kind")
    cell_m = float(p.get("cell_m", 200.0))
    pop_col = p.get("pop_col", "pop")
    suffix = Path(path).suffix.lower()
    if kind is None:
        kind = "raster" if suffix in (".tif", ".tiff") else "vector"
    if kind == "raster":
        return popm.grid_from_raster(path, crs=crs, cell_m=cell_m, units=units)
    if not Path(path).is_file():
        raise InputError(Problem("file not found.", file=path, fix="check the population file path"))
    layer = gpd.read_file(path)
    if kind == "grid" or set(popm.GRID_COLUMNS) <= set(layer.columns):
        layer = layer.to_crs(crs)
        popm.validate_grid(layer, name=path)
        layer["unit_id"] = layer["unit_id"].astype(str)
        return layer
    geom_types = set(layer.geom_type.dropna())
    if kind == "points" or geom_types <= {"Point", "MultiPoint"}:
        return popm.grid_from_points(layer, pop_col=pop_col, cell_m=cell_m, crs=crs, units=units, name=path)
    return popm.grid_from_polygons(layer, pop_col=pop_col, cell_m=cell_m, crs=crs, name=path)
