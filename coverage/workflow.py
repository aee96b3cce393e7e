"""The planner's three questions on a :class:`~coverage.study_area.StudyArea`.

This module joins the layers: study area -> travel graphs -> nearest-facility
times and coverage -> standards evaluation -> siting -> proposals ready for
export. The page (``app.py``), the command line and batch runs call these
functions; the array-level engines stay in :mod:`coverage.access`,
:mod:`coverage.standards` and :mod:`coverage.siting`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from . import access as acc
from .network import MODES
from . import siting
from .errors import InputError, Problem
from .facilities import FACILITY_TYPES, wgs84_to_gcj02
from .geo import WGS84
from .study_area import StudyArea

__all__ = [
    "READING_SPACE_TYPES",
    "AccessParams",
    "AccessResult",
    "SitingParams",
    "SitingProposal",
    "travel_graph_for",
    "select_facilities",
    "access_analysis",
    "evaluate_standards",
    "build_candidates",
    "propose_sites",
    "add_facilities",
    "catchment_areas",
    "facility_catchments",
    "pop_basis",
]

#: Facility types that count as a reading/culture space a resident can use
#: (the default "existing facilities" of an analysis).
READING_SPACE_TYPES: tuple[str, ...] = ("library", "cultural_centre", "culture_station", "city_reading_room")

Progress = Callable[[float, str], None]


def _noop(frac: float, text: str) -> None:  # pragma: no cover - trivial
    pass


def _mode_threshold_problems(mode: str, threshold_min: float) -> list[Problem]:
    """Problems with a travel mode and a threshold in minutes."""
    problems = []
    if mode not in MODES:
        problems.append(Problem(f"`mode` {mode!r} is not a travel mode.", fix=f"use one of: {', '.join(MODES)}"))
    if not (threshold_min > 0):
        problems.append(Problem(f"`threshold_min` must be > 0, got {threshold_min!r}.",
                                fix="pass e.g. threshold_min=15"))
    return problems


@dataclass(frozen=True)
class AccessParams:
    """What to measure access to, and how.

    Parameters
    ----------
    facility_types
        Canonical facility types that count (see :data:`coverage.facilities.FACILITY_TYPES`).
    mode
        ``"walk"``, ``"bike"`` or ``"drive"``.
    threshold_min
        The threshold of "covered", in minutes.
    thresholds_min
        Thresholds reported in the coverage table.
    public_only
        Leave out facilities whose ``public`` column is False (e.g. university libraries).
    settings
        Speeds and snapping rules.
    """

    facility_types: tuple[str, ...] = READING_SPACE_TYPES
    mode: str = "walk"
    threshold_min: float = 15.0
    thresholds_min: tuple[float, ...] = (5.0, 10.0, 15.0)
    public_only: bool = True
    settings: acc.TravelSettings = field(default_factory=acc.TravelSettings)

    def __post_init__(self) -> None:
        problems = []
        unknown = [t for t in self.facility_types if t not in FACILITY_TYPES]
        if unknown or not self.facility_types:
            problems.append(Problem(f"`facility_types` {list(self.facility_types)} has unknown or no types.",
                                    fix=f"use some of: {', '.join(FACILITY_TYPES)}"))
        problems += _mode_threshold_problems(self.mode, self.threshold_min)
        if problems:
            raise InputError(problems)


@dataclass(frozen=True)
class AccessResult:
    """Coverage of a study area by a set of facilities.

    Attributes
    ----------
    params
        The parameters used.
    facilities
        The facilities that counted.
    times
        Per grid row (same index as ``area.grid``): ``time_s``, ``facility_id``,
        ``reachable``, ``reason`` (see :func:`coverage.access.nearest_facility`).
    summary
        Per unit (``unit`` = unit id) and overall (``unit == "all"``):
        population covered and uncovered at every threshold, with unit names.
    covered_pop, total_pop, covered_share
        At ``params.threshold_min``.
    uncovered
        Grid rows not covered at ``params.threshold_min``.
    """

    params: AccessParams
    facilities: gpd.GeoDataFrame
    times: pd.DataFrame
    summary: pd.DataFrame
    covered_pop: float
    total_pop: float
    covered_share: float
    uncovered: gpd.GeoDataFrame


def travel_graph_for(area: StudyArea, mode: str, settings: acc.TravelSettings | None = None,
                     *, elderly: bool = False) -> acc.TravelGraph:
    """The travel graph of ``mode``, built once per study area and settings."""
    settings = settings or acc.TravelSettings()
    key = ("graph", mode, repr(settings), elderly)
    with area._lock:
        graph = area._cache.get(key)
    if graph is None:
        graph = acc.travel_graph(area.network, mode, settings, elderly=elderly)
        with area._lock:
            area._cache[key] = graph
    return graph


def select_facilities(facilities: gpd.GeoDataFrame, facility_types: Sequence[str], *,
                      public_only: bool = True) -> gpd.GeoDataFrame:
    """The facilities of the given types (and public, unless ``public_only`` is False)."""
    mask = facilities["type"].isin(list(facility_types))
    if public_only and "public" in facilities.columns:
        mask &= _is_public(facilities["public"])
    return facilities[mask]


def _is_public(column: pd.Series) -> pd.Series:
    """Public flag per facility; a missing value counts as public."""
    if column.dtype == bool:
        return column
    text = column.astype("string").str.strip().str.lower()
    return ~text.isin(["false", "0", "no", "否", "n", "f"]).fillna(False).astype(bool)


def _unit_names(area: StudyArea) -> pd.DataFrame:
    cols = [c for c in ("unit_id", "name", "name_en", "unit_type") if c in area.boundaries.columns]
    return pd.DataFrame(area.boundaries[cols]).set_index("unit_id")


def access_analysis(area: StudyArea, params: AccessParams = AccessParams(), *,
                    facilities: gpd.GeoDataFrame | None = None) -> AccessResult:
    """Who reaches a facility of the chosen types within the threshold.

    Parameters
    ----------
    area
        The study area.
    params
        Types, mode, thresholds and speeds.
    facilities
        A facility layer to use instead of ``area.facilities`` (e.g. a scenario's).

    Returns
    -------
    AccessResult
    """
    fac_all = area.facilities if facilities is None else facilities
    fac = select_facilities(fac_all, params.facility_types, public_only=params.public_only)
    graph = travel_graph_for(area, params.mode, params.settings)
    grid = area.grid
    if len(fac) == 0:
        times = pd.DataFrame({"time_s": np.nan, "facility_id": None, "reachable": False,
                              "reason": "no facility of the chosen types"}, index=grid.index)
    else:
        times = acc.nearest_facility(graph, grid, fac)
    thresholds = sorted(set(float(t) for t in params.thresholds_min) | {float(params.threshold_min)})
    summary = acc.coverage_summary(grid, times, thresholds, by="unit_id")
    names = _unit_names(area)
    summary = summary.join(names, on="unit")
    t = times["time_s"].to_numpy(float)
    covered = np.isfinite(t) & (t <= params.threshold_min * 60.0)
    pop = grid["pop"].to_numpy(float)
    total = float(pop.sum())
    cov = float(pop[covered].sum())
    uncovered = grid[~covered].copy()
    uncovered["time_s"] = t[~covered]
    return AccessResult(params, fac, times, summary, cov, total, cov / total if total else 0.0, uncovered)


def _access_fn(area: StudyArea, facilities: gpd.GeoDataFrame, settings: acc.TravelSettings,
               public_only: bool) -> Callable[[tuple[str, ...], str, float], pd.DataFrame]:
    """An ``access(types, mode, threshold_min)`` function for proximity rules."""
    cache: dict[tuple, pd.DataFrame] = {}

    def access(facility_types: tuple[str, ...], mode: str, threshold_min: float) -> pd.DataFrame:
        key = (tuple(sorted(facility_types)), mode)
        if key not in cache:
            fac = select_facilities(facilities, facility_types, public_only=public_only)
            if len(fac):
                cache[key] = acc.nearest_facility(travel_graph_for(area, mode, settings), area.grid, fac)
            else:
                cache[key] = pd.DataFrame({"time_s": np.nan}, index=area.grid.index)
        t = cache[key]["time_s"].to_numpy(float)
        covered = np.isfinite(t) & (t <= threshold_min * 60.0)
        frame = pd.DataFrame({"unit_id": area.grid["unit_id"].astype(str).to_numpy(),
                              "pop": area.grid["pop"].to_numpy(float)})
        frame["covered_pop"] = np.where(covered, frame["pop"], 0.0)
        return frame.groupby("unit_id")[["pop", "covered_pop"]].sum()

    return access


def evaluate_standards(area: StudyArea, preset: str = "zhengzhou-2022-culture-space", *,
                       facilities: gpd.GeoDataFrame | None = None, with_access: bool = True,
                       settings: acc.TravelSettings | None = None, public_only: bool = True):
    """Evaluate a standards preset (or catalogue file) on a study area.

    Parameters
    ----------
    area
        The study area; its ``boundaries`` are the units.
    preset
        A preset id of :func:`coverage.standards.list_presets` or a catalogue YAML path.
    facilities
        A facility layer to use instead of ``area.facilities``.
    with_access
        Compute proximity rules on the road network (otherwise they are "no data").
    settings
        Travel speeds for proximity rules.
    public_only
        Leave out non-public facilities (``public`` column False).

    Returns
    -------
    coverage.standards.Evaluation
    """
    import dataclasses

    from .standards import evaluate, split_planned

    fac = area.facilities if facilities is None else facilities
    if public_only and "public" in fac.columns:
        fac = select_facilities(fac, list(FACILITY_TYPES), public_only=True)
    settings = settings or acc.TravelSettings()

    def run(layer: gpd.GeoDataFrame):
        access = _access_fn(area, layer, settings, public_only) if with_access else None
        return evaluate(area.boundaries, layer, preset, access=access, data_date=area.data_date or None)

    ev = run(fac)
    planned = _planned_mask(fac)
    if planned.any():
        ev = split_planned(ev, run(fac[~planned]))
    params = dict(ev.params, preset=str(preset) if isinstance(preset, (str, Path)) else None, pop_basis=pop_basis(area))
    return dataclasses.replace(ev, params=params)


def _planned_mask(facilities: pd.DataFrame) -> np.ndarray:
    """True for facilities a scenario plans (``planned`` column truthy), False for existing ones."""
    if "planned" not in facilities.columns:
        return np.zeros(len(facilities), dtype=bool)
    return facilities["planned"].astype(object).where(facilities["planned"].notna(), False).astype(bool).to_numpy()


def pop_basis(area: StudyArea) -> str:
    """How the units' ``pop`` was obtained: ``"area_share"`` (census scaled by area inside) or ``"census"``.

    The units' population is scaled when they carry ``pop_census`` and it
    differs from ``pop`` for some unit.
    """
    b = area.boundaries
    if "pop_census" in b.columns:
        census = pd.to_numeric(b["pop_census"], errors="coerce")
        pop = pd.to_numeric(b["pop"], errors="coerce")
        if bool(((census - pop).abs() > 0.5).any()):
            return "area_share"
    return "census"


# ---------------------------------------------------------------------------- catchments
#: Share of the reference load under which a facility is flagged as serving few.
LOW_LOAD_SHARE = 0.25
#: Fewest facilities compared by quartiles; with fewer, all are "ok".
MIN_RANKED = 4


def facility_catchments(area: StudyArea, params: AccessParams = AccessParams(), *,
                        facilities: gpd.GeoDataFrame | None = None, preset: str | None = None,
                        low_share: float = LOW_LOAD_SHARE) -> gpd.GeoDataFrame:
    """Residents and area each facility serves within the threshold, and how loaded it is.

    Parameters
    ----------
    area
        The study area.
    params
        Facility types, mode and threshold (as for :func:`access_analysis`).
    facilities
        A facility layer to use instead of ``area.facilities`` (e.g. a scenario's).
    preset
        A standards preset whose per-capita count rules give the residents
        one facility of a type should serve in its district's unit type
        (e.g. 50,000 per city reading room in a 区).
    low_share
        A facility serving fewer than this share of its reference load is
        flagged ``"low"``.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per counted facility (Point geometry, the area's CRS):
        ``facility_id``, ``name``, ``type``, ``unit_id``, ``district``,
        ``pop_nearest`` (non-overlapping: residents whose nearest facility it
        is, within the threshold), ``area_km2``, ``mean_time_s``,
        ``pop_within`` (overlapping: every resident within the threshold),
        ``residents_per_facility`` (the reference load), ``load``
        (``pop_nearest`` / reference), ``load_basis`` and ``load_flag``.
        The reference is the facility's ``capacity`` when known
        (``load_basis = "capacity"``), else the preset's rule
        (``"standard"``); with either, ``load_flag`` is ``"overloaded"``
        above 1, ``"low"`` under ``low_share``, else ``"ok"``. Without
        both, a facility is compared with the other such facilities
        (``"quantile"``): ``"high"`` above their upper quartile of
        ``pop_nearest``, ``"low"`` below the lower quartile (all ``"ok"``
        when fewer than :data:`MIN_RANKED` are compared). ``attrs``: ``uncovered_pop``,
        ``total_pop``, ``threshold_min``, ``mode``.
    """
    fac_all = area.facilities if facilities is None else facilities
    fac = select_facilities(fac_all, params.facility_types, public_only=params.public_only)
    if len(fac) == 0:
        raise InputError(Problem(f"no facility of the types {', '.join(params.facility_types)} to make "
                                 "catchments for.", fix="choose facility types the layer has"))
    graph = travel_graph_for(area, params.mode, params.settings)
    cat = acc.facility_catchments(graph, area.grid, fac, float(params.threshold_min) * 60.0)
    names = _unit_names(area)
    j = gpd.sjoin(fac[["geometry"]], area.boundaries[["unit_id", "geometry"]], how="left", predicate="within")
    uid = j[~j.index.duplicated(keep="first")]["unit_id"].reindex(fac.index).fillna("").astype(str)
    out = gpd.GeoDataFrame({
        "facility_id": fac["facility_id"].astype(str).to_numpy(),
        "name": fac["name"].astype(str).to_numpy() if "name" in fac.columns else "",
        "type": fac["type"].astype(str).to_numpy(),
        "unit_id": uid.to_numpy(),
        "district": [str(names["name"].get(u, "")) if u in names.index else "" for u in uid],
    }, geometry=fac.geometry.to_numpy(), crs=fac.crs, index=fac.index)
    for c in ("pop_nearest", "area_km2", "mean_time_s", "pop_within"):
        out[c] = cat[c].to_numpy()
    ref, basis = _reference_load(area, fac, out["unit_id"], preset)
    out["residents_per_facility"] = ref
    out["load"] = out["pop_nearest"] / ref
    out["load_basis"] = basis
    ranked = out.loc[basis == "quantile", "pop_nearest"]
    q25, q75 = np.quantile(ranked, [0.25, 0.75]) if len(ranked) >= MIN_RANKED else (-np.inf, np.inf)
    flag = np.where(out["load"] > 1.0, "overloaded", np.where(out["load"] < low_share, "low", "ok"))
    by_rank = np.where(out["pop_nearest"] > q75, "high", np.where(out["pop_nearest"] < q25, "low", "ok"))
    out["load_flag"] = np.where(basis == "quantile", by_rank, flag)
    out = out.reset_index(drop=True)
    out.attrs.update(uncovered_pop=cat.attrs["uncovered_pop"], total_pop=cat.attrs["total_pop"],
                     threshold_min=float(params.threshold_min), mode=params.mode)
    return out


def _reference_load(area: StudyArea, fac: gpd.GeoDataFrame, unit_id: pd.Series,
                    preset: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Residents each facility should serve (capacity, else the preset's rule) and the basis of it."""
    ref = np.full(len(fac), np.nan)
    basis = np.full(len(fac), "quantile", dtype=object)
    if "capacity" in fac.columns:
        cap = pd.to_numeric(fac["capacity"], errors="coerce").to_numpy(float)
        has = np.isfinite(cap) & (cap > 0)
        ref[has], basis[has] = cap[has], "capacity"
    if preset:
        from .standards import load_catalogue

        rules = [r for r in load_catalogue(preset) if r.kind == "per_capita_count" and not r.citywide]
        utype = dict(zip(area.boundaries["unit_id"].astype(str), area.boundaries["unit_type"].astype(str)))
        for i, (ftype, uid) in enumerate(zip(fac["type"].astype(str), unit_id)):
            if basis[i] != "quantile" or uid not in utype:
                continue
            for r in rules:
                if ftype in r.facility_types and utype[uid] in r.unit_level:
                    ref[i], basis[i] = r.divisor(utype[uid]), "standard"
                    break
    return ref, basis


# ---------------------------------------------------------------------------- siting
@dataclass(frozen=True)
class SitingParams:
    """A siting question.

    Parameters
    ----------
    model
        ``"mclp"`` (cover the most people with ``p`` new sites or within
        ``budget``), ``"lscp"`` (fewest sites covering everyone coverable),
        ``"p_median"`` (least total travel time with ``p`` sites).
    facility_type
        Type of the new facilities.
    p
        Number of new sites (mclp, p_median).
    budget
        Budget in yuan (mclp); each candidate costs ``unit_cost_yuan``.
    unit_cost_yuan
        Cost of one new facility; the standards' cost table when None.
    mode, threshold_min
        Coverage means reaching a site within ``threshold_min`` by ``mode``.
    keep_existing
        Existing facilities of ``existing_types`` stay open and count for coverage.
    existing_types
        Types of the existing facilities that count.
    candidates
        ``"cells"`` (every populated grid cell), ``"kmeans"`` (weighted k-means
        centres) or ``"given"`` (the ``candidates`` argument of :func:`propose_sites`).
    n_candidates
        Number of k-means centres.
    min_distance_m
        Candidates closer than this to an existing facility are dropped.
    capacity
        Residents one new site can serve (e.g. 50,000); None = unlimited.
    quota_preset
        A standards preset whose per-capita deficits become per-district
        minimum counts of sites (e.g. ``"zhengzhou-2022-culture-space"``).
    curve_k
        Also compute the coverage curve for 1..curve_k sites (mclp only).
    time_limit_s
        Time limit of the solver.
    """

    model: str = "mclp"
    facility_type: str = "city_reading_room"
    p: int | None = 10
    budget: float | None = None
    unit_cost_yuan: float | None = None
    mode: str = "walk"
    threshold_min: float = 15.0
    keep_existing: bool = True
    existing_types: tuple[str, ...] = READING_SPACE_TYPES
    candidates: str = "cells"
    n_candidates: int = 300
    min_distance_m: float = 0.0
    capacity: float | None = None
    quota_preset: str | None = None
    curve_k: int | None = None
    time_limit_s: float = 30.0
    settings: acc.TravelSettings = field(default_factory=acc.TravelSettings)

    def __post_init__(self) -> None:
        problems = []
        if self.model not in ("mclp", "lscp", "p_median"):
            problems.append(Problem(f"`model` {self.model!r} is not a siting model.",
                                    fix="use 'mclp', 'lscp' or 'p_median'"))
        if self.facility_type not in FACILITY_TYPES:
            problems.append(Problem(f"`facility_type` {self.facility_type!r} is unknown.",
                                    fix=f"use one of: {', '.join(FACILITY_TYPES)}"))
        problems += _mode_threshold_problems(self.mode, self.threshold_min)
        if self.model in ("mclp", "p_median") and self.p is None and self.budget is None:
            problems.append(Problem("`p` or `budget` is needed.", fix="pass p=10 or budget=5_000_000"))
        if self.p is not None and self.p < 1:
            problems.append(Problem(f"`p` must be >= 1, got {self.p}.", fix="pass a number of new sites >= 1"))
        if self.budget is not None and self.budget <= 0:
            problems.append(Problem(f"`budget` must be > 0, got {self.budget}.", fix="pass a budget in yuan"))
        if self.budget is not None and self.model != "mclp":
            problems.append(Problem(f"`budget` only applies to the mclp model; {self.model} would ignore it.",
                                    fix=f"pass the number of new sites (p, --p N) for {self.model}, or use "
                                        "model 'mclp' (--model mclp) with the budget"))
        if not math.isfinite(self.min_distance_m) or self.min_distance_m < 0:
            problems.append(Problem(f"`min_distance_m` (--min-distance) must be >= 0 metres, got "
                                    f"{self.min_distance_m:g}.",
                                    fix="pass a distance in metres >= 0, e.g. 300, or 0 to keep every candidate"))
        if self.unit_cost_yuan is not None and not self.unit_cost_yuan > 0:
            problems.append(Problem(f"`unit_cost_yuan` (--unit-cost) must be > 0, got {self.unit_cost_yuan:g}.",
                                    fix="pass the cost of one new facility in yuan"))
        if self.candidates not in ("cells", "kmeans", "given"):
            problems.append(Problem(f"`candidates` {self.candidates!r} is unknown.",
                                    fix="use 'cells', 'kmeans' or 'given'"))
        if problems:
            raise InputError(problems)


@dataclass(frozen=True)
class SitingProposal:
    """Proposed new sites and what they achieve.

    Attributes
    ----------
    params
        The question asked.
    result
        The solver's :class:`coverage.siting.SitingResult`.
    sites
        The new sites (metric CRS): ``site_id``, ``facility_type``, ``unit_id``,
        ``district``, ``newly_covered_pop``, ``reach_pop``, ``lon``, ``lat``
        (WGS84), ``lon_gcj02``, ``lat_gcj02``, ``x``, ``y``, ``unit_cost``.
    candidates
        Every candidate considered.
    curve
        Coverage against number of sites (mclp with ``curve_k``), else None.
    base_covered_pop
        Population covered by the existing facilities alone.
    total_pop
        Population of the study area.
    """

    params: SitingParams
    result: Any
    sites: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    curve: pd.DataFrame | None
    base_covered_pop: float
    total_pop: float

    @property
    def covered_pop(self) -> float:
        """Population covered after building the new sites (mclp/lscp)."""
        return float(self.base_covered_pop + self.sites["newly_covered_pop"].sum())


def build_candidates(area: StudyArea, *, how: str = "cells", n: int = 300,
                     existing: gpd.GeoDataFrame | None = None, min_distance_m: float = 0.0,
                     given: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Candidate sites in the study area's CRS with ``x``, ``y`` and ``unit_id``.

    Parameters
    ----------
    area
        The study area.
    how
        ``"cells"``: the representative point of every populated grid row;
        ``"kmeans"``: ``n`` population-weighted k-means centres snapped to grid
        points; ``"given"``: ``given`` (e.g. vacant public buildings).
    n
        Number of k-means centres.
    existing
        Existing facilities for the minimum-distance filter.
    min_distance_m
        Drop candidates closer than this to an existing facility.
    given
        User candidates (points; any CRS).
    """
    grid = area.grid
    if how == "cells":
        cand = siting.candidates_from_cells(grid, min_pop=0.0)
    elif how == "kmeans":
        k = int(min(n, int((grid["pop"] > 0).sum())))
        cand = siting.candidates_kmeans(grid, k, random_state=0, snap_to=grid)
    elif how == "given":
        if given is None or len(given) == 0:
            raise InputError(Problem("`candidates='given'` needs a non-empty `given` layer.",
                                     fix="pass the candidate sites as points"))
        g = given.to_crs(area.crs) if given.crs is not None else None
        if g is None:
            raise InputError(Problem("the candidate layer has no CRS.", fix="set its CRS"))
        cand = pd.DataFrame({"x": g.geometry.x.to_numpy(), "y": g.geometry.y.to_numpy()}, index=g.index)
        for c in ("name", "candidate_id"):
            if c in g.columns:
                cand[c] = g[c].to_numpy()
    else:
        raise InputError(Problem(f"`how` {how!r} is unknown.", fix="use 'cells', 'kmeans' or 'given'"))
    cand = pd.DataFrame(cand).reset_index(drop=True)
    if existing is not None and len(existing) and min_distance_m > 0:
        ex = pd.DataFrame({"x": existing.geometry.x.to_numpy(), "y": existing.geometry.y.to_numpy()})
        cand = pd.DataFrame(siting.filter_min_distance(cand, ex, min_distance_m)).reset_index(drop=True)
    gdf = gpd.GeoDataFrame(cand.drop(columns=[c for c in ("geometry",) if c in cand.columns]),
                           geometry=gpd.points_from_xy(cand["x"], cand["y"]), crs=area.crs)
    units = area.boundaries[["unit_id", "geometry"]]
    joined = gpd.sjoin(gdf[["geometry"]], units, how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    gdf["unit_id"] = joined["unit_id"].reindex(gdf.index).fillna("").astype(str).to_numpy()
    if "candidate_id" not in gdf.columns:
        gdf["candidate_id"] = [f"C{i:05d}" for i in range(len(gdf))]
    return gdf


def _quota_from_preset(area: StudyArea, preset: str, facility_type: str,
                       existing: gpd.GeoDataFrame) -> dict[str, int]:
    """Per-unit minimum number of sites (existing + new) from per-capita count rules."""
    from .standards import evaluate, load_catalogue

    rules = [r for r in load_catalogue(preset)
             if r.kind == "per_capita_count" and facility_type in r.facility_types]
    tab = evaluate(area.boundaries, existing, rules).table if rules else pd.DataFrame()
    if len(tab) == 0:
        raise InputError(Problem(f"preset `{preset}` has no per-capita count rule for {facility_type}.",
                                 fix="choose a preset with such a rule, e.g. 'zhengzhou-2022-culture-space'"))
    req = tab.groupby("unit_id")["required"].max()
    return {str(k): int(v) for k, v in req.items() if v > 0}


def propose_sites(area: StudyArea, params: SitingParams = SitingParams(), *,
                  facilities: gpd.GeoDataFrame | None = None,
                  candidates: gpd.GeoDataFrame | None = None,
                  progress: Progress | None = None) -> SitingProposal:
    """Propose new sites for ``params.facility_type`` on a study area.

    Parameters
    ----------
    area
        The study area.
    params
        The siting question (model, p or budget, mode, threshold...).
    facilities
        A facility layer to use instead of ``area.facilities``.
    candidates
        User candidate sites when ``params.candidates == "given"``.
    progress
        Called as ``progress(fraction, message)`` between steps.

    Returns
    -------
    SitingProposal
    """
    from .standards import load_costs

    progress = progress or _noop
    fac_all = area.facilities if facilities is None else facilities
    existing = select_facilities(fac_all, params.existing_types) if params.keep_existing else fac_all.iloc[:0]
    unit_cost = params.unit_cost_yuan
    if unit_cost is None:
        unit_cost = float(load_costs(None).unit_cost[params.facility_type]) if params.budget is not None else None
    if params.budget is not None and unit_cost is not None and params.budget < unit_cost:
        raise InputError(Problem(
            f"the budget of {params.budget:,.0f} yuan is below the cost of one new {params.facility_type} "
            f"({unit_cost:,.0f} yuan, the cheapest site), so no site can be built.",
            fix=f"raise the budget (--budget) to at least {unit_cost:,.0f} yuan, or give a lower unit cost "
                "(--unit-cost, or data/standards/costs.yaml)"))
    grid = area.grid
    weights = grid["pop"].to_numpy(float)
    threshold_s = float(params.threshold_min) * 60.0

    progress(0.05, "graph")
    graph = travel_graph_for(area, params.mode, params.settings)
    progress(0.15, "candidates")
    cand = build_candidates(area, how=params.candidates, n=params.n_candidates, existing=existing,
                            min_distance_m=params.min_distance_m, given=candidates)
    if len(cand) == 0:
        raise InputError(Problem("no candidate site is left.",
                                 fix="lower `min_distance_m` or give more candidate sites"))
    progress(0.25, "reach")
    limit_s = threshold_s if params.model != "p_median" else max(threshold_s * 4, 3600.0)
    T = acc.reach_matrix(graph, cand, grid, limit_s)
    base_cov = np.zeros(len(grid), dtype=bool)
    if len(existing):
        near = acc.nearest_facility(graph, grid, existing)
        t = near["time_s"].to_numpy(float)
        base_cov = np.isfinite(t) & (t <= threshold_s)
    base_pop = float(weights[base_cov].sum())

    costs = None if unit_cost is None else np.full(len(cand), float(unit_cost))

    quota = None
    if params.quota_preset:
        quota = _quota_from_preset(area, params.quota_preset, params.facility_type, existing)
        # existing facilities of the type count towards the quota
        if len(existing):
            j = gpd.sjoin(existing[["geometry"]], area.boundaries[["unit_id", "geometry"]],
                          how="left", predicate="within")
            have = j["unit_id"].value_counts()
            quota = {u: max(0, q - int(have.get(u, 0))) for u, q in quota.items()}
            quota = {u: q for u, q in quota.items() if q > 0}

    progress(0.4, "solve")
    common = dict(time_limit_s=params.time_limit_s)
    if params.model == "mclp":
        res = siting.mclp(T, weights, threshold_s=threshold_s, p=params.p, budget=params.budget, costs=costs,
                          already_covered=base_cov, capacity=params.capacity, quota=quota,
                          candidate_district=cand["unit_id"].to_numpy() if quota else None, **common)
    elif params.model == "lscp":
        res = siting.lscp(T, weights, threshold_s=threshold_s, costs=costs, already_covered=base_cov,
                          capacity=params.capacity, quota=quota,
                          candidate_district=cand["unit_id"].to_numpy() if quota else None, **common)
    else:
        res = siting.p_median(T, weights, int(params.p or 1), quota=quota,
                              candidate_district=cand["unit_id"].to_numpy() if quota else None, **common)
    curve = None
    if params.model == "mclp" and params.curve_k:
        progress(0.8, "curve")
        curve = siting.coverage_curve(T, weights, threshold_s=threshold_s, k=int(params.curve_k),
                                      already_covered=base_cov, **common)
    progress(0.95, "sites")
    sites = _sites_frame(area, res, cand, params, unit_cost)
    progress(1.0, "done")
    return SitingProposal(params, res, sites, cand, curve, base_pop, float(weights.sum()))


def _sites_frame(area: StudyArea, res: Any, cand: gpd.GeoDataFrame, params: SitingParams,
                 unit_cost: float | None) -> gpd.GeoDataFrame:
    new = np.asarray(res.new_sites, dtype=int)
    sub = cand.iloc[new].copy()
    info = res.sites
    sub["newly_covered_pop"] = info.loc[new, "new_covered_pop"].to_numpy(float) if "new_covered_pop" in info else 0.0
    sub["reach_pop"] = info.loc[new, "reach_pop"].to_numpy(float) if "reach_pop" in info else np.nan
    sub["facility_type"] = params.facility_type
    names = _unit_names(area)
    sub["district"] = [names["name"].get(u, "") if u in names.index else "" for u in sub["unit_id"]]
    ll = sub.geometry.to_crs(WGS84)
    sub["lon"], sub["lat"] = ll.x.to_numpy(), ll.y.to_numpy()
    glon, glat = wgs84_to_gcj02(sub["lon"].to_numpy(), sub["lat"].to_numpy())
    sub["lon_gcj02"], sub["lat_gcj02"] = np.asarray(glon), np.asarray(glat)
    if unit_cost is None:
        from .standards import load_costs

        unit_cost = float(load_costs(None).unit_cost[params.facility_type])
    sub["unit_cost"] = float(unit_cost)
    sub = sub.sort_values("newly_covered_pop", ascending=False).reset_index(drop=True)
    sub.insert(0, "site_id", [f"S{i + 1:02d}" for i in range(len(sub))])
    cols = ["site_id", "candidate_id", "facility_type", "unit_id", "district", "newly_covered_pop", "reach_pop",
            "lon", "lat", "lon_gcj02", "lat_gcj02", "x", "y", "unit_cost", "geometry"]
    return gpd.GeoDataFrame(sub[[c for c in cols if c in sub.columns]], geometry="geometry", crs=area.crs)


def add_facilities(facilities: gpd.GeoDataFrame, sites: gpd.GeoDataFrame | pd.DataFrame, *,
                   facility_type: str | None = None, prefix: str = "NEW") -> gpd.GeoDataFrame:
    """Facilities plus new sites (e.g. proposals or map clicks), as one layer.

    ``sites`` needs Point geometry (or ``x``/``y`` in the facilities' CRS) and
    ``facility_type`` (or pass ``facility_type``).
    """
    if not isinstance(sites, gpd.GeoDataFrame):
        sites = gpd.GeoDataFrame(sites, geometry=gpd.points_from_xy(sites["x"], sites["y"]), crs=facilities.crs)
    sites = sites.to_crs(facilities.crs)
    ftype = sites["facility_type"] if "facility_type" in sites.columns else facility_type
    if ftype is None:
        raise InputError(Problem("new sites have no `facility_type`.", fix="pass facility_type='city_reading_room'"))
    ids = sites["site_id"].astype(str) if "site_id" in sites.columns else pd.Series(
        [f"{i + 1:03d}" for i in range(len(sites))], index=sites.index)
    new = gpd.GeoDataFrame({
        "facility_id": [f"{prefix}-{s}" for s in ids],
        "name": sites["name"].to_numpy() if "name" in sites.columns else [f"{prefix}-{s}" for s in ids],
        "name_en": "",
        "type": ftype if isinstance(ftype, str) else ftype.to_numpy(),
        "public": True,
        "capacity": np.nan,
        "floor_area_m2": np.nan,
    }, geometry=sites.geometry.to_numpy(), crs=facilities.crs)
    ll = new.geometry.to_crs(WGS84)
    new["lon"], new["lat"] = ll.x.to_numpy(), ll.y.to_numpy()
    dup = set(new["facility_id"]) & set(facilities["facility_id"].astype(str))
    if dup:
        raise InputError(Problem(f"facility ids {sorted(dup)} exist already.", fix="use another `prefix`"))
    return gpd.GeoDataFrame(pd.concat([facilities, new], ignore_index=True), geometry="geometry", crs=facilities.crs)


def catchment_areas(area: StudyArea, access: AccessResult,
                    catchments: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """The area each facility serves as the nearest one within the threshold, as polygons.

    Grid cells whose nearest counted facility lies within
    ``access.params.threshold_min`` are merged per facility, so the polygons
    do not overlap and together cover exactly the covered cells.

    Parameters
    ----------
    area
        The study area whose grid ``access`` was computed on.
    access
        :func:`access_analysis` of ``area``.
    catchments
        :func:`facility_catchments` for the same question; its columns
        (``name``, ``type``, ``pop_nearest``, ``pop_within``, ``load_flag``, ...)
        are joined by ``facility_id``.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per facility serving at least one cell: ``facility_id``,
        ``pop`` (residents of the merged cells), ``area_km2``, the joined
        columns, and the merged polygon, in the study area's CRS.
    """
    grid = area.grid
    if len(access.times) != len(grid):
        raise InputError([Problem("`access` was computed on another grid than `area`'s.",
                                  fix="pass the access_analysis result of this study area.")])
    threshold_s = float(access.params.threshold_min) * 60.0
    t = access.times["time_s"].to_numpy(float)
    inside = np.isfinite(t) & (t <= threshold_s) & access.times["facility_id"].notna().to_numpy()
    cells = gpd.GeoDataFrame({"facility_id": access.times["facility_id"].to_numpy()[inside].astype(str),
                              "pop": grid["pop"].to_numpy(float)[inside]},
                             geometry=grid.geometry.to_numpy()[inside], crs=grid.crs)
    if cells.empty:
        out = gpd.GeoDataFrame({"facility_id": pd.Series(dtype=str), "pop": pd.Series(dtype=float),
                                "area_km2": pd.Series(dtype=float)}, geometry=[], crs=grid.crs)
    else:
        out = cells.dissolve(by="facility_id", aggfunc={"pop": "sum"}, method="coverage").reset_index()
        out["area_km2"] = out.geometry.area / 1e6
    if catchments is not None and len(catchments):
        extra = catchments.drop(columns=[c for c in ("pop", "area_km2", "geometry") if c in catchments],
                                errors="ignore").drop_duplicates("facility_id")
        extra = extra.assign(facility_id=extra["facility_id"].astype(str))
        out = out.merge(pd.DataFrame(extra), on="facility_id", how="left")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=grid.crs)

