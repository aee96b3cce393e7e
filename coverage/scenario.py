"""Planning scenarios and the scenario store.

A :class:`Scenario` is one planner's "what if": which facilities are added or
closed on top of the base data, with which parameters it was evaluated, what
the siting model proposed and, optionally, a summary of the results so that
two scenarios can be compared with :func:`diff`.

A :class:`ScenarioStore` keeps the scenarios of one project in a single file
that is both an SQLite database and a valid OGC GeoPackage (1.3): QGIS or
GDAL open it directly and show

``scenario_facilities``
    point layer of the facilities each scenario adds (one row per facility,
    ``scenario_id``/``scenario_name`` say which scenario);
``scenario_sites``
    point layer of the sites each scenario's siting run selected, with the
    population each newly covers (``new_pop``);
``scenarios``
    attribute table, one row per scenario (parameters and results as JSON).

Every save is one SQLite transaction started with ``BEGIN IMMEDIATE``: a
process killed in the middle of a save leaves the previous state of the file
intact. Each scenario carries a revision counter; saving a copy that is older
than the stored one raises :class:`ScenarioConflictError` instead of
overwriting another session's work, while sessions working on different
scenarios never touch each other's rows.

File format versions (``meta.format_version``):

1. first layout; the ``scenarios`` table had no ``author`` column.
2. adds ``scenarios.author`` (files written as version 1 are migrated in
   place when opened).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import sqlite3
import struct
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyproj
import shapely

from .errors import InputError, Problem, ProblemCollector
from .facilities import FACILITY_TYPES, normalise_type
from .geo import CHENGDU_CRS, WGS84, to_lonlat, to_metric

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

__all__ = [
    "FORMAT_VERSION",
    "AddedFacility",
    "SelectedSite",
    "SitingResult",
    "ScenarioResults",
    "Scenario",
    "ParamChange",
    "ScenarioDiff",
    "ScenarioStore",
    "ScenarioConflictError",
    "ScenarioNotFoundError",
    "diff",
    "apply_edits",
    "scenario_layer",
    "data_fingerprint",
]

#: Version of the store layout this package writes.
FORMAT_VERSION = 2

#: Largest allowed distance (metres) between a facility's ``x``/``y`` and its
#: ``lon``/``lat`` projected to the scenario CRS.
LONLAT_TOLERANCE_M = 1.0

_GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
_GPKG_USER_VERSION = 10300  # GeoPackage 1.3.0
_FACILITY_TABLE = "scenario_facilities"
_SITE_TABLE = "scenario_sites"
_SCENARIO_TABLE = "scenarios"
_UPGRADE_FIX = "upgrade the package: pip install -U culture-coverage-planner"


class ScenarioConflictError(RuntimeError):
    """Saving would overwrite changes another session stored since this copy was loaded."""


class ScenarioNotFoundError(InputError):
    """No scenario with the given id or name is in the store."""


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------

def _set_finite(obj: Any, names: tuple[str, ...], pc: ProblemCollector, *, fix: str) -> None:
    """Coerce the fields ``names`` of a frozen dataclass to float, noting non-finite ones."""
    for name in names:
        try:
            value = float(getattr(obj, name))
        except (TypeError, ValueError):
            value = math.nan
        if not math.isfinite(value):
            pc.add(f"`{name}` = {getattr(obj, name)!r} is not a finite number.", fix=fix)
        object.__setattr__(obj, name, value)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (tuple, set, frozenset)):
        return list(obj)
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON-serialisable")


def _normalise_json(value: Any, name: str) -> Any:
    """Return a deep copy of ``value`` as it reads back from JSON."""
    try:
        text = json.dumps(value, default=_json_default, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"`{name}` cannot be stored as JSON ({exc}).",
            fix="use only str, int, float (not NaN/inf; use None), bool, None, lists "
                "and dicts with string keys",
        ) from None
    return json.loads(text)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, sort_keys=True)


def _opt_float(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _clean_name(name: Any, param: str = "name") -> str:
    if not isinstance(name, str) or not unicodedata.normalize("NFC", name).strip():
        raise InputError(f"`{param}` must be a non-empty string, got {name!r}.",
                         fix="give the scenario a short descriptive name, e.g. '2025 新增城市书房'")
    return unicodedata.normalize("NFC", name).strip()


def _crs_string(crs: Any, param: str = "crs") -> str:
    try:
        obj = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise InputError(f"`{param}` = {crs!r} is not a coordinate reference system ({exc}).",
                         fix="pass an EPSG code such as 'EPSG:32648'") from None
    auth = obj.to_authority()
    return f"{auth[0]}:{auth[1]}" if auth else obj.to_wkt()


def _same_crs(a: str, b: str) -> bool:
    return pyproj.CRS.from_user_input(a) == pyproj.CRS.from_user_input(b)


def data_fingerprint(paths: Iterable[str | PathLike[str]]) -> str:
    """Return a short content hash identifying a set of base-data files.

    Store it as :attr:`Scenario.data_version` so that a scenario can tell
    whether it is being applied to the data it was made with.

    Parameters
    ----------
    paths
        The files (order does not matter; file names and contents are hashed).

    Returns
    -------
    str
        ``"sha256:"`` followed by 16 hex digits.
    """
    files = sorted(Path(p) for p in paths)
    pc = ProblemCollector()
    for p in files:
        if not p.is_file():
            pc.add("file does not exist", file=str(p), fix="pass existing data files in `paths`")
    pc.raise_if_any()
    h = hashlib.sha256()
    for p in files:
        h.update(p.name.encode("utf-8") + b"\0")
        with open(p, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        h.update(b"\0")
    return "sha256:" + h.hexdigest()[:16]


# --------------------------------------------------------------------------
# scenario content
# --------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class AddedFacility:
    """A facility a scenario adds to the base data.

    Parameters
    ----------
    facility_id
        Unique id (within the scenario and not clashing with base facilities).
    name
        Display name (Chinese).
    type
        A key of :data:`coverage.facilities.FACILITY_TYPES`; labels such as
        ``"图书馆"`` or ``"City reading room"`` are mapped to their key.
    x, y
        Position in metres in the scenario CRS.
    lon, lat
        The same position in WGS84 degrees.
    name_en
        English name, may be empty.
    capacity, floor_area_m2
        ``None`` when unknown (NaN is read as ``None``).
    """

    facility_id: str
    name: str
    type: str
    x: float
    y: float
    lon: float
    lat: float
    name_en: str = ""
    capacity: float | None = None
    floor_area_m2: float | None = None

    def __post_init__(self) -> None:
        pc = ProblemCollector(file="AddedFacility")
        if not isinstance(self.facility_id, str) or not self.facility_id.strip():
            pc.add(f"`facility_id` must be a non-empty string, got {self.facility_id!r}.",
                   fix="give every added facility an id, e.g. 'new-1'")
        canonical = normalise_type(self.type)
        if canonical is None:
            pc.add(f"`type` = {self.type!r} is not a known facility type.",
                   fix=f"use one of {', '.join(FACILITY_TYPES)}")
        else:
            object.__setattr__(self, "type", canonical)
        _set_finite(self, ("x", "y", "lon", "lat"), pc,
                    fix="give x/y in metres of the scenario CRS and lon/lat in degrees")
        if not pc.problems and not (-180 <= self.lon <= 180 and -90 <= self.lat <= 90):
            pc.add(f"`lon`, `lat` = ({self.lon}, {self.lat}) are not WGS84 degrees.",
                   fix="pass longitude and latitude in degrees (lon first)")
        for name in ("capacity", "floor_area_m2"):
            try:
                value = _opt_float(getattr(self, name))
            except (TypeError, ValueError):
                pc.add(f"`{name}` = {getattr(self, name)!r} is not a number.",
                       fix="use a number, or None when unknown")
                continue
            if value is not None and value < 0:
                pc.add(f"`{name}` = {value} is negative.", fix="use a value >= 0 or None")
            object.__setattr__(self, name, value)
        object.__setattr__(self, "name", "" if self.name is None else str(self.name))
        object.__setattr__(self, "name_en", "" if self.name_en is None else str(self.name_en))
        pc.raise_if_any()

    @classmethod
    def from_xy(cls, facility_id: str, name: str, type: str, x: float, y: float, *,
                crs: str = CHENGDU_CRS, **extra: Any) -> "AddedFacility":
        """Build from metric ``x``/``y`` in ``crs``; ``lon``/``lat`` are computed."""
        lon, lat = to_lonlat(np.array([x]), np.array([y]), crs)
        return cls(facility_id=facility_id, name=name, type=type, x=x, y=y,
                   lon=float(lon[0]), lat=float(lat[0]), **extra)

    @classmethod
    def from_lonlat(cls, facility_id: str, name: str, type: str, lon: float, lat: float, *,
                    crs: str = CHENGDU_CRS, **extra: Any) -> "AddedFacility":
        """Build from WGS84 ``lon``/``lat``; ``x``/``y`` are projected to ``crs``."""
        x, y = to_metric(np.array([lon]), np.array([lat]), crs)
        return cls(facility_id=facility_id, name=name, type=type, x=float(x[0]),
                   y=float(y[0]), lon=lon, lat=lat, **extra)


@dataclass(frozen=True, kw_only=True)
class SelectedSite:
    """A candidate site chosen by a siting run.

    Parameters
    ----------
    site_id
        Id of the candidate site.
    x, y
        Position in metres in the scenario CRS.
    lon, lat
        The same position in WGS84 degrees.
    new_pop
        Residents newly covered by this site.
    name
        Optional label (e.g. the candidate's address).
    """

    site_id: str
    x: float
    y: float
    lon: float
    lat: float
    new_pop: float = 0.0
    name: str = ""

    def __post_init__(self) -> None:
        pc = ProblemCollector(file="SelectedSite")
        if not isinstance(self.site_id, str) or not self.site_id.strip():
            pc.add(f"`site_id` must be a non-empty string, got {self.site_id!r}.",
                   fix="use the candidate site's id as a string")
        _set_finite(self, ("x", "y", "lon", "lat", "new_pop"), pc, fix="pass finite numbers")
        object.__setattr__(self, "name", "" if self.name is None else str(self.name))
        pc.raise_if_any()


@dataclass(frozen=True, kw_only=True)
class SitingResult:
    """What a siting run proposed.

    Parameters
    ----------
    sites
        The selected sites, in the order the model reported them.
    objective
        Objective value (e.g. covered population), ``None`` if not applicable.
    gap
        Relative MIP gap at termination, ``None`` if not reported.
    model
        Model name, e.g. ``"mclp"`` or ``"lscp"``.
    """

    sites: tuple[SelectedSite, ...] = ()
    objective: float | None = None
    gap: float | None = None
    model: str = ""

    def __post_init__(self) -> None:
        sites = tuple(s if isinstance(s, SelectedSite) else SelectedSite(**s) for s in self.sites)
        dup = _repeated(s.site_id for s in sites)
        if dup:
            raise InputError(f"`sites` repeat site ids {dup}.",
                             fix="list every selected site once")
        object.__setattr__(self, "sites", sites)
        object.__setattr__(self, "objective", _opt_float(self.objective))
        object.__setattr__(self, "gap", _opt_float(self.gap))
        object.__setattr__(self, "model", str(self.model or ""))

    def _meta_json(self) -> dict[str, Any]:
        return {"objective": self.objective, "gap": self.gap, "model": self.model}


@dataclass(frozen=True, kw_only=True)
class ScenarioResults:
    """Summary results of evaluating a scenario, kept for comparisons.

    Parameters
    ----------
    coverage_share
        Share (0..1) of the study-area population covered.
    covered_pop, total_pop
        Covered and total residents, if known.
    deficits
        Deficit per unit (``unit_id`` -> value, e.g. missing floor area).
    deficit_unit
        What the deficit values count, e.g. ``"m2"`` or ``"facilities"``.
    """

    coverage_share: float | None = None
    covered_pop: float | None = None
    total_pop: float | None = None
    deficits: Mapping[str, float] = field(default_factory=dict, hash=False)
    deficit_unit: str = ""

    def __post_init__(self) -> None:
        share = _opt_float(self.coverage_share)
        if share is not None and not 0 <= share <= 1:
            raise InputError(f"`coverage_share` = {share} is not between 0 and 1.",
                             fix="pass the covered share as a fraction, e.g. 0.83")
        object.__setattr__(self, "coverage_share", share)
        object.__setattr__(self, "covered_pop", _opt_float(self.covered_pop))
        object.__setattr__(self, "total_pop", _opt_float(self.total_pop))
        object.__setattr__(self, "deficits",
                           {str(k): _opt_float(v) for k, v in dict(self.deficits).items()})
        object.__setattr__(self, "deficit_unit", str(self.deficit_unit or ""))

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return {"coverage_share": self.coverage_share, "covered_pop": self.covered_pop,
                "total_pop": self.total_pop, "deficits": dict(self.deficits),
                "deficit_unit": self.deficit_unit}


def _repeated(values: Iterable[str]) -> list[str]:
    counts = Counter(values)
    return sorted(v for v, n in counts.items() if n > 1)


def _new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """One planning scenario.

    Build it with keyword arguments and update it with :meth:`replace`; the
    store manages ``id``, ``revision``, ``created_at`` and ``updated_at``.

    Parameters
    ----------
    name
        Unique name within the store.
    study_area
        Name of the base study area, e.g. ``"chengdu_core"``.
    data_version
        Version or content hash of the base data (see :func:`data_fingerprint`).
    crs
        CRS of ``x``/``y`` of added facilities and sites (metres).
    added
        Facilities the scenario adds.
    removed
        Ids of base facilities the scenario closes (stored sorted, unique).
    params
        Evaluation parameters (facility type, mode, ``threshold_min``, speeds,
        standards preset id, siting settings, ...); must be JSON-serialisable
        and is stored as it reads back from JSON. Treat it as read-only.
    siting
        What a siting run proposed, if any.
    results
        Summary results for comparisons, if evaluated.
    notes, author
        Free text.
    id
        Stable id, generated when not given.
    revision
        0 for a scenario never saved; the store increments it on every save.
    created_at, updated_at
        UTC timestamps set by the store.
    """

    name: str
    study_area: str = ""
    data_version: str = ""
    crs: str = CHENGDU_CRS
    added: tuple[AddedFacility, ...] = ()
    removed: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict, hash=False)
    siting: SitingResult | None = None
    results: ScenarioResults | None = None
    notes: str = ""
    author: str = ""
    id: str = field(default_factory=_new_id)
    revision: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _clean_name(self.name))
        pc = ProblemCollector(file=f"scenario {self.name!r}")
        added = tuple(a if isinstance(a, AddedFacility) else AddedFacility(**a)
                      for a in self.added)
        ids = [a.facility_id for a in added]
        dup = _repeated(ids)
        if dup:
            pc.add(f"`added` repeats facility ids {dup}.",
                   fix="give every added facility its own id")
        if isinstance(self.removed, str):
            pc.add("`removed` must be a list of facility ids, not one string.",
                   fix="wrap the id in a list: removed=['lib-3']")
            removed: tuple[str, ...] = ()
        else:
            removed = tuple(sorted({str(r) for r in self.removed}))
        clash = sorted(set(ids) & set(removed))
        if clash:
            pc.add(f"facility ids {clash} are both added and removed.",
                   fix="drop them from `added` or from `removed`")
        if not isinstance(self.params, Mapping):
            pc.add(f"`params` must be a dict, got {type(self.params).__name__}.",
                   fix="pass parameters as a dict, e.g. {'threshold_min': 15}")
        if self.siting is not None and not isinstance(self.siting, SitingResult):
            pc.add("`siting` must be a SitingResult or None.",
                   fix="wrap sites in SitingResult(...)")
        if self.results is not None and not isinstance(self.results, ScenarioResults):
            pc.add("`results` must be a ScenarioResults or None.",
                   fix="wrap results in ScenarioResults(...)")
        if not isinstance(self.id, str) or not self.id:
            pc.add(f"`id` must be a non-empty string, got {self.id!r}.",
                   fix="leave `id` out to get a generated one")
        if not isinstance(self.revision, (int, np.integer)) or self.revision < 0:
            pc.add(f"`revision` = {self.revision!r} must be an int >= 0.",
                   fix="leave `revision` to the store")
        pc.raise_if_any()
        object.__setattr__(self, "added", added)
        object.__setattr__(self, "removed", removed)
        object.__setattr__(self, "params", _normalise_json(dict(self.params), "params"))
        object.__setattr__(self, "crs", _crs_string(self.crs))
        object.__setattr__(self, "revision", int(self.revision))
        for name in ("study_area", "data_version", "notes", "author"):
            value = getattr(self, name)
            object.__setattr__(self, name, "" if value is None else str(value))

    def replace(self, **changes: Any) -> "Scenario":
        """Return a copy with ``changes`` applied (the original is unchanged)."""
        return dataclasses.replace(self, **changes)

    def as_copy(self, name: str) -> "Scenario":
        """Return an unsaved copy under a new ``name`` with a new id."""
        return dataclasses.replace(self, name=name, id=_new_id(), revision=0,
                                   created_at=None, updated_at=None)

    def added_frame(self) -> "gpd.GeoDataFrame":
        """Added facilities as a facilities GeoDataFrame in :attr:`crs`.

        Returns
        -------
        geopandas.GeoDataFrame
            Columns ``facility_id``, ``name``, ``name_en``, ``type``,
            ``capacity``, ``floor_area_m2`` (NaN when unknown), ``lon``,
            ``lat`` and Point geometry; one row per added facility.
        """
        import geopandas as gpd

        rows = self.added
        return gpd.GeoDataFrame(
            {
                "facility_id": pd.Series([a.facility_id for a in rows], dtype=object),
                "name": pd.Series([a.name for a in rows], dtype=object),
                "name_en": pd.Series([a.name_en for a in rows], dtype=object),
                "type": pd.Series([a.type for a in rows], dtype=object),
                "capacity": np.array([np.nan if a.capacity is None else a.capacity
                                      for a in rows], float),
                "floor_area_m2": np.array([np.nan if a.floor_area_m2 is None
                                           else a.floor_area_m2 for a in rows], float),
                "lon": np.array([a.lon for a in rows], float),
                "lat": np.array([a.lat for a in rows], float),
            },
            geometry=shapely.points(np.array([a.x for a in rows], float),
                                    np.array([a.y for a in rows], float)),
            crs=self.crs,
        )


def apply_edits(facilities: "gpd.GeoDataFrame", scenario: Scenario) -> "gpd.GeoDataFrame":
    """Return the base facilities with a scenario's closures and additions applied.

    Parameters
    ----------
    facilities
        Base facilities (shared data model); not modified.
    scenario
        The scenario whose ``removed`` ids are dropped and whose ``added``
        facilities are appended.

    Returns
    -------
    geopandas.GeoDataFrame
        In the CRS of ``facilities``, with a fresh RangeIndex: the kept base
        rows in their order, then the added facilities.

    Raises
    ------
    InputError
        If a removed id is not among the base facilities or an added id
        already is one.
    """
    import geopandas as gpd

    if "facility_id" not in facilities.columns:
        raise InputError("`facilities` has no 'facility_id' column.",
                         fix="pass the facilities GeoDataFrame of the study area")
    base_ids = set(facilities["facility_id"].astype(str))
    pc = ProblemCollector(file=f"scenario {scenario.name!r}")
    missing = [r for r in scenario.removed if r not in base_ids]
    if missing:
        pc.add(f"removed facility ids {missing} are not in the base facilities.",
               fix="check the scenario was made for this data (`data_version`) and drop "
                   "those ids from `removed`")
    clash = sorted(a.facility_id for a in scenario.added if a.facility_id in base_ids)
    if clash:
        pc.add(f"added facility ids {clash} already exist in the base facilities.",
               fix="give the added facilities new ids")
    pc.raise_if_any()
    kept = facilities.loc[~facilities["facility_id"].astype(str).isin(scenario.removed)]
    added = scenario.added_frame()
    if facilities.crs is not None and not _same_crs(str(facilities.crs), scenario.crs):
        x, y = to_metric(added["lon"].to_numpy(), added["lat"].to_numpy(), str(facilities.crs))
        added = added.set_geometry(shapely.points(x, y), crs=facilities.crs)
    else:
        added = added.set_crs(facilities.crs, allow_override=True)
    added = added.drop(columns=[c for c in ("lon", "lat") if c not in facilities.columns])
    geom = facilities.geometry.name
    if geom != "geometry":
        added = added.rename_geometry(geom)
    out = pd.concat([kept, added], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry=geom, crs=facilities.crs)


def scenario_layer(facilities: "gpd.GeoDataFrame", scenario: Scenario) -> "gpd.GeoDataFrame":
    """The facilities as the scenario would have them, its additions marked as planned.

    :func:`apply_edits` plus two columns: ``public`` filled with True for the
    added facilities (a scenario adds public ones), and ``planned`` (True for
    the scenario's additions), which standards evaluations count apart from
    the existing facilities (:func:`coverage.workflow.evaluate_standards`).
    """
    out = apply_edits(facilities, scenario)
    if "public" in out.columns:
        out["public"] = out["public"].astype(object).where(out["public"].notna(), True)
    out["planned"] = out["facility_id"].astype(str).isin({a.facility_id for a in scenario.added})
    return out


# --------------------------------------------------------------------------
# diff
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class ParamChange:
    """One parameter that differs between two scenarios.

    ``key`` is dotted for nested dicts (``"siting.p"``); ``in_a``/``in_b`` say
    whether the key exists on each side (``a``/``b`` are ``None`` if not).
    """

    key: str
    a: Any
    b: Any
    in_a: bool = True
    in_b: bool = True


@dataclass(frozen=True)
class ScenarioDiff:
    """Differences between scenario ``a`` and scenario ``b`` (b relative to a).

    Attributes
    ----------
    same_base
        Whether both use the same ``study_area`` and ``data_version``.
    added_only_in_a, added_only_in_b
        Ids of added facilities present on one side only.
    added_changed
        Ids added on both sides but at another position or with other attributes.
    removed_only_in_a, removed_only_in_b
        Ids of closed base facilities on one side only.
    sites_only_in_a, sites_only_in_b
        Ids of selected siting sites on one side only.
    params
        Parameters that differ.
    coverage_share_a, coverage_share_b, coverage_share_change
        Stored coverage shares and ``b - a`` (``None`` unless both known).
    covered_pop_change
        ``b - a`` of covered residents, ``None`` unless both known.
    deficits
        DataFrame indexed by ``unit_id`` with columns ``a``, ``b`` and
        ``change`` (``b - a``; NaN where a side lacks the unit), or ``None``
        unless both scenarios stored results.
    """

    a_id: str
    b_id: str
    a_name: str
    b_name: str
    same_base: bool
    added_only_in_a: tuple[str, ...]
    added_only_in_b: tuple[str, ...]
    added_changed: tuple[str, ...]
    removed_only_in_a: tuple[str, ...]
    removed_only_in_b: tuple[str, ...]
    sites_only_in_a: tuple[str, ...]
    sites_only_in_b: tuple[str, ...]
    params: tuple[ParamChange, ...]
    coverage_share_a: float | None
    coverage_share_b: float | None
    coverage_share_change: float | None
    covered_pop_change: float | None
    deficits: pd.DataFrame | None = field(default=None, hash=False, compare=False)

    @property
    def facilities_differ(self) -> bool:
        """Whether the facility edits or siting sites differ."""
        return any((self.added_only_in_a, self.added_only_in_b, self.added_changed,
                    self.removed_only_in_a, self.removed_only_in_b,
                    self.sites_only_in_a, self.sites_only_in_b))

    def summary(self) -> str:
        """Return a short human-readable description of the differences."""
        lines = [f"{self.b_name!r} compared with {self.a_name!r}:"]
        if not self.same_base:
            lines.append("  the two scenarios were made for different base data")
        for label, ids in (("added only in " + self.a_name, self.added_only_in_a),
                           ("added only in " + self.b_name, self.added_only_in_b),
                           ("added in both but changed", self.added_changed),
                           ("closed only in " + self.a_name, self.removed_only_in_a),
                           ("closed only in " + self.b_name, self.removed_only_in_b),
                           ("sites only in " + self.a_name, self.sites_only_in_a),
                           ("sites only in " + self.b_name, self.sites_only_in_b)):
            if ids:
                lines.append(f"  {label}: {', '.join(ids)}")
        for p in self.params:
            a = repr(p.a) if p.in_a else "(unset)"
            b = repr(p.b) if p.in_b else "(unset)"
            lines.append(f"  parameter {p.key}: {a} -> {b}")
        if self.coverage_share_change is not None:
            lines.append(f"  coverage share: {self.coverage_share_a:.1%} -> "
                         f"{self.coverage_share_b:.1%} ({self.coverage_share_change:+.1%})")
        if self.deficits is not None:
            changed = self.deficits[self.deficits["change"].fillna(1) != 0]
            for unit, row in changed.iterrows():
                lines.append(f"  deficit {unit}: {row['a']:g} -> {row['b']:g}")
        if len(lines) == 1:
            lines.append("  no differences")
        return "\n".join(lines)


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def diff(a: Scenario, b: Scenario) -> ScenarioDiff:
    """Compare two scenarios (``b`` relative to ``a``).

    Parameters
    ----------
    a, b
        The scenarios to compare; not modified.

    Returns
    -------
    ScenarioDiff
    """
    for name, s in (("a", a), ("b", b)):
        if not isinstance(s, Scenario):
            raise InputError(f"`{name}` must be a Scenario, got {type(s).__name__}.",
                             fix="load scenarios with ScenarioStore.load(...)")
    add_a = {f.facility_id: f for f in a.added}
    add_b = {f.facility_id: f for f in b.added}
    changed = tuple(sorted(i for i in set(add_a) & set(add_b) if add_a[i] != add_b[i]))
    sites_a = {s.site_id for s in a.siting.sites} if a.siting else set()
    sites_b = {s.site_id for s in b.siting.sites} if b.siting else set()
    flat_a, flat_b = _flatten(a.params), _flatten(b.params)
    params = tuple(
        ParamChange(k, flat_a.get(k), flat_b.get(k), k in flat_a, k in flat_b)
        for k in sorted(set(flat_a) | set(flat_b))
        if k not in flat_a or k not in flat_b or flat_a[k] != flat_b[k]
    )
    ra, rb = a.results, b.results
    share_a = ra.coverage_share if ra else None
    share_b = rb.coverage_share if rb else None
    share_change = share_b - share_a if share_a is not None and share_b is not None else None
    pop_change = (rb.covered_pop - ra.covered_pop
                  if ra and rb and ra.covered_pop is not None and rb.covered_pop is not None
                  else None)
    deficits = None
    if ra is not None and rb is not None and (ra.deficits or rb.deficits):
        units = sorted(set(ra.deficits) | set(rb.deficits))
        da = np.array([np.nan if ra.deficits.get(u) is None else ra.deficits[u] for u in units])
        db = np.array([np.nan if rb.deficits.get(u) is None else rb.deficits[u] for u in units])
        deficits = pd.DataFrame({"a": da, "b": db, "change": db - da},
                                index=pd.Index(units, name="unit_id", dtype=object))
    return ScenarioDiff(
        a_id=a.id, b_id=b.id, a_name=a.name, b_name=b.name,
        same_base=(a.study_area, a.data_version) == (b.study_area, b.data_version),
        added_only_in_a=tuple(sorted(set(add_a) - set(add_b))),
        added_only_in_b=tuple(sorted(set(add_b) - set(add_a))),
        added_changed=changed,
        removed_only_in_a=tuple(sorted(set(a.removed) - set(b.removed))),
        removed_only_in_b=tuple(sorted(set(b.removed) - set(a.removed))),
        sites_only_in_a=tuple(sorted(sites_a - sites_b)),
        sites_only_in_b=tuple(sorted(sites_b - sites_a)),
        params=params,
        coverage_share_a=share_a, coverage_share_b=share_b,
        coverage_share_change=share_change, covered_pop_change=pop_change,
        deficits=deficits,
    )


# --------------------------------------------------------------------------
# GeoPackage encoding
# --------------------------------------------------------------------------

def _gpkg_points(x: np.ndarray, y: np.ndarray, srs_id: int) -> list[bytes]:
    """GeoPackage binary geometries (header without envelope + ISO WKB) for points."""
    header = b"GP" + bytes([0, 0b00000001]) + struct.pack("<i", srs_id)
    wkb = shapely.to_wkb(shapely.points(x, y), byte_order=1, output_dimension=2,
                         flavor="iso")
    return [header + w for w in wkb]


_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def _gpkg_geometry(blob: bytes | None) -> shapely.Geometry | None:
    if blob is None or len(blob) < 8 or blob[:2] != b"GP":
        return None
    flags = blob[3]
    if flags & 0b10000:  # empty-geometry flag
        return None
    offset = 8 + _ENVELOPE_BYTES.get((flags >> 1) & 0b111, 0)
    try:
        return shapely.from_wkb(bytes(blob[offset:]))
    except shapely.errors.GEOSException:
        return None


def _st_is_empty(blob: bytes | None) -> int | None:
    if blob is None:
        return None
    geom = _gpkg_geometry(blob)
    return 1 if geom is None or geom.is_empty else 0


def _st_bound(index: int):
    def bound(blob: bytes | None) -> float | None:
        geom = _gpkg_geometry(blob)
        if geom is None or geom.is_empty:
            return None
        return float(shapely.bounds(geom)[index])
    return bound


#: SQL functions that GeoPackage spatial-index (rtree) triggers call; registered
#: on every connection so saves keep working after QGIS/GDAL adds such an index.
_SQL_FUNCTIONS = {
    "ST_IsEmpty": _st_is_empty,
    "ST_MinX": _st_bound(0),
    "ST_MinY": _st_bound(1),
    "ST_MaxX": _st_bound(2),
    "ST_MaxY": _st_bound(3),
}


def _srs_row(crs: str) -> tuple[str, int, str, int, str, str]:
    obj = pyproj.CRS.from_user_input(crs)
    auth = obj.to_authority()
    try:
        wkt = obj.to_wkt("WKT1_GDAL")
    except Exception:  # pragma: no cover - CRS without a WKT1 form
        wkt = obj.to_wkt()
    if auth and auth[0] == "EPSG":
        return (obj.name, int(auth[1]), "EPSG", int(auth[1]), wkt, "")
    return (obj.name, 100000, "NONE", 100000, wkt, "")


# --------------------------------------------------------------------------
# schema
# --------------------------------------------------------------------------

_GPKG_CORE = """
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL PRIMARY KEY,
  organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL,
  description TEXT
);
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY,
  data_type TEXT NOT NULL,
  identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,
  srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id)
);
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL,
  z TINYINT NOT NULL,
  m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id)
);
"""

_STORE_TABLES = f"""
CREATE TABLE meta (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE {_SCENARIO_TABLE} (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL UNIQUE,
  author TEXT NOT NULL DEFAULT '',
  notes TEXT NOT NULL DEFAULT '',
  study_area TEXT NOT NULL DEFAULT '',
  data_version TEXT NOT NULL DEFAULT '',
  crs TEXT NOT NULL,
  revision INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  removed_json TEXT NOT NULL DEFAULT '[]',
  params_json TEXT NOT NULL DEFAULT '{{}}',
  siting_json TEXT,
  results_json TEXT,
  format_version INTEGER NOT NULL
);
CREATE TABLE {_FACILITY_TABLE} (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  geom POINT,
  scenario_id TEXT NOT NULL,
  scenario_name TEXT NOT NULL,
  seq INTEGER NOT NULL,
  facility_id TEXT NOT NULL,
  name TEXT,
  name_en TEXT,
  type TEXT NOT NULL,
  capacity REAL,
  floor_area_m2 REAL,
  x REAL NOT NULL,
  y REAL NOT NULL,
  lon REAL NOT NULL,
  lat REAL NOT NULL
);
CREATE INDEX idx_{_FACILITY_TABLE}_scenario ON {_FACILITY_TABLE} (scenario_id);
CREATE TABLE {_SITE_TABLE} (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  geom POINT,
  scenario_id TEXT NOT NULL,
  scenario_name TEXT NOT NULL,
  seq INTEGER NOT NULL,
  site_id TEXT NOT NULL,
  name TEXT,
  new_pop REAL NOT NULL,
  x REAL NOT NULL,
  y REAL NOT NULL,
  lon REAL NOT NULL,
  lat REAL NOT NULL
);
CREATE INDEX idx_{_SITE_TABLE}_scenario ON {_SITE_TABLE} (scenario_id);
"""

_SCENARIO_COLUMNS = ("id", "name", "author", "notes", "study_area", "data_version", "crs",
                     "revision", "created_at", "updated_at", "removed_json", "params_json",
                     "siting_json", "results_json", "format_version")


def _migrate_v1_to_v2(con: sqlite3.Connection) -> None:
    con.execute(f"ALTER TABLE {_SCENARIO_TABLE} ADD COLUMN author TEXT NOT NULL DEFAULT ''")
    con.execute(f"UPDATE {_SCENARIO_TABLE} SET format_version = 2")


#: ``version -> function`` upgrading a file from ``version`` to ``version + 1``.
_MIGRATIONS = {1: _migrate_v1_to_v2}


# --------------------------------------------------------------------------
# the store
# --------------------------------------------------------------------------

def _store_errors(method: Callable) -> Callable:
    """Turn SQLite failures of a store method into an :class:`InputError` naming the file and the fix."""
    @functools.wraps(method)
    def wrapper(self: "ScenarioStore", *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            text = str(exc)
            if "readonly" in text or "read-only" in text:
                problem = Problem(
                    f"the scenario store is read-only ({text}).", file=str(self.path),
                    fix="make the file and its folder writable, or choose another store file "
                        "(--store, or the CULTCOV_SCENARIO_STORE environment variable)")
            elif "locked" in text or "busy" in text:
                problem = Problem(
                    f"another session kept the scenario store busy for more than "
                    f"{self.timeout_s:g} s ({text}).", file=str(self.path),
                    fix="try again in a moment; close other programs (QGIS) that edit the file")
            else:
                problem = Problem(
                    f"the scenario store is damaged ({text}).", file=str(self.path),
                    fix="restore the file from a backup, or choose a new store file; "
                        "`sqlite3 FILE .recover` may rescue the scenarios")
            raise InputError(problem) from None
    return wrapper


class ScenarioStore:
    """Scenarios of one project in one GeoPackage file.

    Parameters
    ----------
    path
        The ``.gpkg`` file; created (with its folder's existing) if absent.
    crs
        Metric CRS of the project. For a new file it defaults to
        ``"EPSG:32648"`` (central Chengdu); for an existing file it defaults
        to the file's CRS and must match it if given.
    timeout_s
        How long to wait for another session's write to finish before giving up.

    Raises
    ------
    InputError
        If ``path`` is not a scenario store (not SQLite, a GeoPackage without
        the scenario tables, ...), was written by a newer package version, or
        ``crs`` differs from the file's CRS.

    Notes
    -----
    The object only holds the path; every call opens its own connection, so
    one store object may be used from several threads and several stores
    (in several processes) may share one file.
    """

    def __init__(self, path: str | PathLike[str], *, crs: str | None = None,
                 timeout_s: float = 30.0) -> None:
        self.path = Path(path)
        self.timeout_s = float(timeout_s)
        if self.path.is_dir():
            raise InputError(Problem(
                "`path` is a folder, not a file.", file=str(self.path),
                fix="pass a file name such as 'scenarios.gpkg' inside that folder"))
        if not self.path.parent.is_dir():
            raise InputError(Problem(
                "the folder of `path` does not exist.", file=str(self.path),
                fix=f"create the folder {self.path.parent} first"))
        wanted = None if crs is None else _crs_string(crs)
        self.crs: str = self._open(wanted)
        self.srs_id = _srs_row(self.crs)[1]

    def __repr__(self) -> str:
        return f"ScenarioStore({str(self.path)!r}, crs={self.crs!r})"

    # -- connection handling -------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None)
        for name, fn in _SQL_FUNCTIONS.items():
            con.create_function(name, 1, fn, deterministic=True)
        return con

    def _not_a_store(self, what: str) -> InputError:
        return InputError(Problem(
            f"{what}, so it is not a scenario store.", file=str(self.path),
            fix="pass the path of a scenario store written by this package, or a new "
                "file name to create one"))

    @_store_errors
    def _open(self, wanted: str | None) -> str:
        if self.path.is_file() and self.path.stat().st_size == 0:
            raise InputError(Problem(
                "the file is empty (0 bytes), so it is not a GeoPackage scenario store.",
                file=str(self.path),
                fix="pass the path of a scenario store written by this package, or delete the "
                    "empty file (or pass a new file name) to create a new store"))
        try:
            con = self._connect()
        except sqlite3.Error as exc:
            raise InputError(Problem(f"cannot open the file ({exc}).", file=str(self.path),
                                     fix="check the file exists and is readable")) from None
        try:
            try:
                tables = self._tables(con)
            except sqlite3.DatabaseError as exc:
                raise self._not_a_store(f"the file is not an SQLite database ({exc})") from None
            if not tables:
                self._create(con, wanted or CHENGDU_CRS)
                tables = self._tables(con)
            version = self._check_layout(con, tables)
            if version < FORMAT_VERSION:
                self._migrate(con)
            stored = con.execute("SELECT value FROM meta WHERE key = 'crs'").fetchone()
        finally:
            con.close()
        if stored is None:
            raise self._not_a_store("the `meta` table names no CRS")
        if wanted is not None and not _same_crs(wanted, stored[0]):
            raise InputError(Problem(
                f"`crs` = {wanted!r} but the store was created with {stored[0]}.",
                file=str(self.path),
                fix=f"omit `crs` or pass crs={stored[0]!r}; one store holds one project"))
        return stored[0]

    @staticmethod
    def _tables(con: sqlite3.Connection) -> set[str]:
        return {r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}

    def _check_layout(self, con: sqlite3.Connection, tables: set[str]) -> int:
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
        needed = {"meta", _SCENARIO_TABLE, _FACILITY_TABLE, _SITE_TABLE,
                  "gpkg_contents", "gpkg_spatial_ref_sys", "gpkg_geometry_columns"}
        if app_id != _GPKG_APPLICATION_ID:
            raise self._not_a_store("the file is an SQLite database but not a GeoPackage")
        missing = sorted(needed - tables)
        if missing:
            raise self._not_a_store(
                f"the file is a GeoPackage without the scenario tables {missing}")
        row = con.execute("SELECT value FROM meta WHERE key = 'format_version'").fetchone()
        try:
            version = int(row[0])
        except (TypeError, ValueError):
            raise self._not_a_store("the `meta` table has no valid `format_version`") from None
        if version > FORMAT_VERSION:
            raise InputError(Problem(
                f"the store was written with file format version {version}, but this "
                f"package reads versions up to {FORMAT_VERSION}.",
                file=str(self.path), fix=_UPGRADE_FIX))
        if version < 1:
            raise self._not_a_store(f"`format_version` = {version} is not a known version")
        return version

    def _create(self, con: sqlite3.Connection, crs: str) -> None:
        con.execute("BEGIN IMMEDIATE")
        try:
            if self._tables(con):  # another session created it meanwhile
                con.execute("ROLLBACK")
                return
            con.execute(f"PRAGMA application_id = {_GPKG_APPLICATION_ID}")
            con.execute(f"PRAGMA user_version = {_GPKG_USER_VERSION}")
            for stmt in (_GPKG_CORE + _STORE_TABLES).split(";"):
                if stmt.strip():
                    con.execute(stmt)
            srs = [
                ("Undefined cartesian SRS", -1, "NONE", -1, "undefined",
                 "undefined cartesian coordinate reference system"),
                ("Undefined geographic SRS", 0, "NONE", 0, "undefined",
                 "undefined geographic coordinate reference system"),
                ("WGS 84 geodetic", 4326, "EPSG", 4326,
                 pyproj.CRS.from_user_input(WGS84).to_wkt("WKT1_GDAL"),
                 "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid"),
            ]
            project = _srs_row(crs)
            if project[1] not in (-1, 0, 4326):
                srs.append(project)
            con.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", srs)
            stamp = _gpkg_stamp(_now())
            con.executemany(
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
                "last_change, srs_id) VALUES (?, ?, ?, ?, ?, ?)",
                [(_FACILITY_TABLE, "features", _FACILITY_TABLE,
                  "Facilities added by each scenario", stamp, project[1]),
                 (_SITE_TABLE, "features", _SITE_TABLE,
                  "Sites selected by each scenario's siting run", stamp, project[1]),
                 (_SCENARIO_TABLE, "attributes", _SCENARIO_TABLE,
                  "Planning scenarios", stamp, None)])
            con.executemany(
                "INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', 'POINT', ?, 0, 0)",
                [(_FACILITY_TABLE, project[1]), (_SITE_TABLE, project[1])])
            con.executemany("INSERT INTO meta VALUES (?, ?)",
                            [("format_version", str(FORMAT_VERSION)), ("crs", crs)])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def _migrate(self, con: sqlite3.Connection) -> None:
        con.execute("BEGIN IMMEDIATE")
        try:
            row = con.execute("SELECT value FROM meta WHERE key = 'format_version'").fetchone()
            version = int(row[0])
            while version < FORMAT_VERSION:
                _MIGRATIONS[version](con)
                version += 1
            con.execute("UPDATE meta SET value = ? WHERE key = 'format_version'", (str(version),))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def _checkpoint(self, stage: str) -> None:
        """Called at fixed points inside a save's transaction; does nothing.

        ``stage`` is ``"begun"``, ``"half_written"`` or ``"written"``.
        """

    # -- public API ----------------------------------------------------------

    @_store_errors
    def save(self, scenario: Scenario) -> Scenario:
        """Insert or update ``scenario`` (by id) in one transaction.

        Parameters
        ----------
        scenario
            The scenario to store; its ``revision`` must equal the stored one
            (0 for a new scenario).

        Returns
        -------
        Scenario
            The stored scenario with the new ``revision``, ``created_at`` and
            ``updated_at``; use it for the next save.

        Raises
        ------
        ScenarioConflictError
            If another session saved or deleted this scenario since this copy
            was loaded.
        InputError
            If the name is taken by another scenario, the CRS differs from the
            store's or facility coordinates disagree with their lon/lat.
        """
        if not isinstance(scenario, Scenario):
            raise InputError(f"`scenario` must be a Scenario, got {type(scenario).__name__}.",
                             fix="build one with Scenario(name=..., ...)")
        self._validate(scenario)
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            try:
                self._checkpoint("begun")
                saved = self._write(con, scenario)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        finally:
            con.close()
        return saved

    def _validate(self, scenario: Scenario) -> None:
        pc = ProblemCollector(file=f"scenario {scenario.name!r}")
        if not _same_crs(scenario.crs, self.crs):
            pc.add(f"`crs` of the scenario is {scenario.crs} but the store's is {self.crs}.",
                   fix=f"build the scenario with crs={self.crs!r} (x/y in that CRS)")
        else:
            for kind, items, ident in (("added", scenario.added, "facility_id"),
                                       ("siting.sites",
                                        scenario.siting.sites if scenario.siting else (),
                                        "site_id")):
                if not items:
                    continue
                lon = np.array([i.lon for i in items])
                lat = np.array([i.lat for i in items])
                x, y = to_metric(lon, lat, self.crs)
                err = np.hypot(x - np.array([i.x for i in items]),
                               y - np.array([i.y for i in items]))
                for k in np.flatnonzero(~(err <= LONLAT_TOLERANCE_M)):
                    pc.add(f"{kind}[{k}] ({getattr(items[k], ident)}): x/y lie "
                           f"{err[k]:.0f} m from lon/lat projected to {self.crs}.",
                           fix="give x/y in metres of the store CRS, or build it with "
                               "AddedFacility.from_lonlat / from_xy")
        pc.raise_if_any()

    def _write(self, con: sqlite3.Connection, s: Scenario) -> Scenario:
        row = con.execute(f"SELECT revision, created_at, updated_at FROM {_SCENARIO_TABLE} "
                          "WHERE id = ?", (s.id,)).fetchone()
        if row is None and s.revision != 0:
            raise ScenarioConflictError(
                f"scenario {s.name!r} (revision {s.revision}) is no longer in "
                f"{self.path}: another session deleted it. Fix: save it as a new scenario "
                f"with store.save(scenario.as_copy(name=...)).")
        if row is not None and row[0] != s.revision:
            raise ScenarioConflictError(
                f"scenario {s.name!r} was changed by another session since this copy was "
                f"loaded (this copy is revision {s.revision}, the store has revision {row[0]}, "
                f"saved {row[2]}). Fix: load it again with store.load({s.id!r}), redo your "
                f"edits and save, or keep your version with "
                f"store.save(scenario.as_copy(name=...)).")
        taken = con.execute(f"SELECT id FROM {_SCENARIO_TABLE} WHERE name = ? AND id != ?",
                            (s.name, s.id)).fetchone()
        if taken is not None:
            raise self._name_taken(s.name)
        now = _now()
        created = now if row is None else datetime.fromisoformat(row[1])
        revision = s.revision + 1
        values = {
            "id": s.id, "name": s.name, "author": s.author, "notes": s.notes,
            "study_area": s.study_area, "data_version": s.data_version, "crs": self.crs,
            "revision": revision, "created_at": created.isoformat(),
            "updated_at": now.isoformat(), "removed_json": _dumps(list(s.removed)),
            "params_json": _dumps(s.params),
            "siting_json": _dumps(s.siting._meta_json()) if s.siting else None,
            "results_json": _dumps(s.results.to_json()) if s.results else None,
            "format_version": FORMAT_VERSION,
        }
        if row is None:
            cols = ", ".join(_SCENARIO_COLUMNS)
            marks = ", ".join("?" for _ in _SCENARIO_COLUMNS)
            con.execute(f"INSERT INTO {_SCENARIO_TABLE} ({cols}) VALUES ({marks})",
                        [values[c] for c in _SCENARIO_COLUMNS])
        else:
            sets = ", ".join(f"{c} = ?" for c in _SCENARIO_COLUMNS if c != "id")
            cur = con.execute(
                f"UPDATE {_SCENARIO_TABLE} SET {sets} WHERE id = ? AND revision = ?",
                [values[c] for c in _SCENARIO_COLUMNS if c != "id"] + [s.id, s.revision])
            if cur.rowcount != 1:  # pragma: no cover - guarded by the check above
                raise ScenarioConflictError(f"scenario {s.name!r} changed during the save.")
        con.execute(f"DELETE FROM {_FACILITY_TABLE} WHERE scenario_id = ?", (s.id,))
        con.execute(f"DELETE FROM {_SITE_TABLE} WHERE scenario_id = ?", (s.id,))
        fac_rows = self._facility_rows(s)
        site_rows = self._site_rows(s)
        half = len(fac_rows) // 2
        fac_sql = (f"INSERT INTO {_FACILITY_TABLE} (geom, scenario_id, scenario_name, seq, "
                   "facility_id, name, name_en, type, capacity, floor_area_m2, x, y, lon, lat) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        con.executemany(fac_sql, fac_rows[:half])
        self._checkpoint("half_written")
        con.executemany(fac_sql, fac_rows[half:])
        con.executemany(
            f"INSERT INTO {_SITE_TABLE} (geom, scenario_id, scenario_name, seq, site_id, name, "
            "new_pop, x, y, lon, lat) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", site_rows)
        self._checkpoint("written")
        self._touch_contents(con, now)
        return dataclasses.replace(s, revision=revision, created_at=created, updated_at=now,
                                   crs=self.crs)

    def _facility_rows(self, s: Scenario) -> list[tuple]:
        if not s.added:
            return []
        blobs = _gpkg_points(np.array([a.x for a in s.added]), np.array([a.y for a in s.added]),
                             self.srs_id)
        return [(blob, s.id, s.name, k, a.facility_id, a.name, a.name_en, a.type, a.capacity,
                 a.floor_area_m2, a.x, a.y, a.lon, a.lat)
                for k, (blob, a) in enumerate(zip(blobs, s.added))]

    def _site_rows(self, s: Scenario) -> list[tuple]:
        sites = s.siting.sites if s.siting else ()
        if not sites:
            return []
        blobs = _gpkg_points(np.array([p.x for p in sites]), np.array([p.y for p in sites]),
                             self.srs_id)
        return [(blob, s.id, s.name, k, p.site_id, p.name, p.new_pop, p.x, p.y, p.lon, p.lat)
                for k, (blob, p) in enumerate(zip(blobs, sites))]

    @staticmethod
    def _touch_contents(con: sqlite3.Connection, now: datetime) -> None:
        stamp = _gpkg_stamp(now)
        for table in (_FACILITY_TABLE, _SITE_TABLE):
            ext = con.execute(f"SELECT min(x), min(y), max(x), max(y) FROM {table}").fetchone()
            con.execute("UPDATE gpkg_contents SET last_change = ?, min_x = ?, min_y = ?, "
                        "max_x = ?, max_y = ? WHERE table_name = ?", (stamp, *ext, table))
        con.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name = ?",
                    (stamp, _SCENARIO_TABLE))

    def _name_taken(self, name: str) -> InputError:
        return InputError(Problem(
            f"a different scenario is already called {name!r}.", file=str(self.path),
            column="name",
            fix="choose another `name`, or load that scenario with "
                f"store.load({name!r}) to change it"))

    def _resolve(self, con: sqlite3.Connection, id_or_name: str) -> tuple:
        if not isinstance(id_or_name, str):
            raise InputError(f"`id_or_name` must be a string, got {type(id_or_name).__name__}.",
                             fix="pass a scenario id or name as shown by store.list()")
        cols = ", ".join(_SCENARIO_COLUMNS)
        row = con.execute(f"SELECT {cols} FROM {_SCENARIO_TABLE} WHERE id = ?",
                          (id_or_name,)).fetchone()
        if row is None:
            name = unicodedata.normalize("NFC", id_or_name).strip()
            row = con.execute(f"SELECT {cols} FROM {_SCENARIO_TABLE} WHERE name = ?",
                              (name,)).fetchone()
        if row is None:
            names = [r[0] for r in con.execute(
                f"SELECT name FROM {_SCENARIO_TABLE} ORDER BY name LIMIT 11")]
            known = ", ".join(repr(n) for n in names[:10]) + (", ..." if len(names) > 10 else "")
            raise ScenarioNotFoundError(Problem(
                f"no scenario with id or name {id_or_name!r}.", file=str(self.path),
                fix=f"pass one of the stored names ({known})" if names
                else "save a scenario first; the store is empty"))
        return row

    def _build(self, con: sqlite3.Connection, row: tuple) -> Scenario:
        r = dict(zip(_SCENARIO_COLUMNS, row))
        added = [
            AddedFacility(facility_id=f[0], name=f[1] or "", name_en=f[2] or "", type=f[3],
                          capacity=f[4], floor_area_m2=f[5], x=f[6], y=f[7], lon=f[8],
                          lat=f[9])
            for f in con.execute(
                "SELECT facility_id, name, name_en, type, capacity, floor_area_m2, x, y, "
                f"lon, lat FROM {_FACILITY_TABLE} WHERE scenario_id = ? ORDER BY seq",
                (r["id"],))
        ]
        siting = None
        if r["siting_json"] is not None:
            meta = json.loads(r["siting_json"])
            sites = [SelectedSite(site_id=p[0], name=p[1] or "", new_pop=p[2], x=p[3], y=p[4],
                                  lon=p[5], lat=p[6])
                     for p in con.execute(
                         f"SELECT site_id, name, new_pop, x, y, lon, lat FROM {_SITE_TABLE} "
                         "WHERE scenario_id = ? ORDER BY seq", (r["id"],))]
            siting = SitingResult(sites=tuple(sites), **meta)
        results = None
        if r["results_json"] is not None:
            results = ScenarioResults(**json.loads(r["results_json"]))
        return Scenario(
            id=r["id"], name=r["name"], author=r["author"], notes=r["notes"],
            study_area=r["study_area"], data_version=r["data_version"], crs=r["crs"],
            revision=r["revision"], created_at=datetime.fromisoformat(r["created_at"]),
            updated_at=datetime.fromisoformat(r["updated_at"]),
            removed=tuple(json.loads(r["removed_json"])), params=json.loads(r["params_json"]),
            added=tuple(added), siting=siting, results=results)

    @_store_errors
    def load(self, id_or_name: str) -> Scenario:
        """Return the stored scenario with this id (or, failing that, this name).

        Raises
        ------
        ScenarioNotFoundError
            If there is none; the message lists stored names.
        """
        con = self._connect()
        try:
            con.execute("BEGIN")  # one consistent snapshot across tables
            try:
                return self._build(con, self._resolve(con, id_or_name))
            finally:
                con.execute("COMMIT")
        finally:
            con.close()

    @_store_errors
    def list(self) -> pd.DataFrame:
        """One row per stored scenario, oldest first.

        Returns
        -------
        pandas.DataFrame
            Columns ``id``, ``name``, ``author``, ``study_area``,
            ``data_version``, ``n_added``, ``n_removed``, ``n_sites``,
            ``coverage_share`` (NaN if no results), ``revision``,
            ``created_at``, ``updated_at`` (UTC timestamps) and ``notes``.
        """
        con = self._connect()
        try:
            rows = con.execute(
                f"SELECT s.id, s.name, s.author, s.study_area, s.data_version, "
                f"(SELECT count(*) FROM {_FACILITY_TABLE} f WHERE f.scenario_id = s.id), "
                f"s.removed_json, "
                f"(SELECT count(*) FROM {_SITE_TABLE} p WHERE p.scenario_id = s.id), "
                f"s.results_json, s.revision, s.created_at, s.updated_at, s.notes "
                f"FROM {_SCENARIO_TABLE} s ORDER BY s.created_at, s.name").fetchall()
        finally:
            con.close()
        columns = ["id", "name", "author", "study_area", "data_version", "n_added",
                   "n_removed", "n_sites", "coverage_share", "revision", "created_at",
                   "updated_at", "notes"]
        data = []
        for r in rows:
            results = json.loads(r[8]) if r[8] else {}
            share = results.get("coverage_share")
            data.append([r[0], r[1], r[2], r[3], r[4], r[5], len(json.loads(r[6])), r[7],
                         np.nan if share is None else share, r[9], r[10], r[11], r[12]])
        df = pd.DataFrame(data, columns=columns)
        for col in ("n_added", "n_removed", "n_sites", "revision"):
            df[col] = df[col].astype("int64")
        df["coverage_share"] = df["coverage_share"].astype(float)
        for col in ("created_at", "updated_at"):
            df[col] = pd.to_datetime(df[col], utc=True, format="ISO8601")
        return df

    @_store_errors
    def _update(self, id_or_name: str,
                fn: Callable[[sqlite3.Connection, Scenario], Any]) -> Any:
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            try:
                row = self._resolve(con, id_or_name)
                out = fn(con, self._build(con, row))
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        finally:
            con.close()
        return out

    def rename(self, id_or_name: str, new_name: str) -> Scenario:
        """Rename a stored scenario; returns it with its new revision.

        Raises
        ------
        InputError
            If ``new_name`` is empty or already used by another scenario.
        """
        new_name = _clean_name(new_name, "new_name")

        def fn(con: sqlite3.Connection, s: Scenario) -> Scenario:
            taken = con.execute(f"SELECT id FROM {_SCENARIO_TABLE} WHERE name = ? AND id != ?",
                                (new_name, s.id)).fetchone()
            if taken is not None:
                raise self._name_taken(new_name)
            now = _now()
            con.execute(f"UPDATE {_SCENARIO_TABLE} SET name = ?, revision = revision + 1, "
                        "updated_at = ? WHERE id = ?", (new_name, now.isoformat(), s.id))
            for table in (_FACILITY_TABLE, _SITE_TABLE):
                con.execute(f"UPDATE {table} SET scenario_name = ? WHERE scenario_id = ?",
                            (new_name, s.id))
            self._touch_contents(con, now)
            return s.replace(name=new_name, revision=s.revision + 1, updated_at=now)

        return self._update(id_or_name, fn)

    def duplicate(self, id_or_name: str, new_name: str) -> Scenario:
        """Store a copy of a scenario under ``new_name`` (new id); returns the copy."""
        new_name = _clean_name(new_name, "new_name")

        def fn(con: sqlite3.Connection, s: Scenario) -> Scenario:
            return self._write(con, s.as_copy(new_name))

        return self._update(id_or_name, fn)

    def delete(self, id_or_name: str) -> None:
        """Delete a stored scenario and its facilities and sites."""

        def fn(con: sqlite3.Connection, s: Scenario) -> None:
            con.execute(f"DELETE FROM {_FACILITY_TABLE} WHERE scenario_id = ?", (s.id,))
            con.execute(f"DELETE FROM {_SITE_TABLE} WHERE scenario_id = ?", (s.id,))
            con.execute(f"DELETE FROM {_SCENARIO_TABLE} WHERE id = ?", (s.id,))
            self._touch_contents(con, _now())

        self._update(id_or_name, fn)

    def diff(self, a: str | Scenario, b: str | Scenario) -> ScenarioDiff:
        """Compare two scenarios given as ids, names or :class:`Scenario` objects."""
        sa = a if isinstance(a, Scenario) else self.load(a)
        sb = b if isinstance(b, Scenario) else self.load(b)
        return diff(sa, sb)

    @_store_errors
    def __len__(self) -> int:
        con = self._connect()
        try:
            return con.execute(f"SELECT count(*) FROM {_SCENARIO_TABLE}").fetchone()[0]
        finally:
            con.close()

    @_store_errors
    def __contains__(self, id_or_name: object) -> bool:
        if not isinstance(id_or_name, str):
            return False
        name = unicodedata.normalize("NFC", id_or_name).strip()
        con = self._connect()
        try:
            return con.execute(f"SELECT 1 FROM {_SCENARIO_TABLE} WHERE id = ? OR name = ?",
                               (id_or_name, name)).fetchone() is not None
        finally:
            con.close()


def _gpkg_stamp(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{t.microsecond // 1000:03d}Z"
