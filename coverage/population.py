"""Population grids: rasters, points and census units spread onto a grid.

Every grid returned here is a GeoDataFrame in a metric CRS with one row per
grid piece and the columns

``cell_id``
    unique integer id of the row;
``grid_id``
    id of the square grid cell the row lies in (a square cut by a district
    boundary gives one row per district);
``pop``
    residents (float, never negative);
``unit_id``
    id of the administrative unit the row belongs to (``""`` when no units
    were given);
``x``, ``y``
    a point inside the row's polygon, in metres (used for routing);
``geometry``
    the square cell, clipped to the unit and the study extent.

The dasymetric method used for census units is :func:`dasymetric_grid`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import box

from .errors import InputError, Problem, ProblemCollector
from .limits import MAX_RASTER_PIXELS, SPLIT_FIX, grid_cells_problem

__all__ = [
    "DasymetricWeights",
    "OsmAncillary",
    "make_grid",
    "read_osm_ancillary",
    "ancillary_scores",
    "dasymetric_grid",
    "grid_from_raster",
    "grid_from_points",
    "grid_from_polygons",
    "validate_grid",
]

GRID_COLUMNS = ["cell_id", "grid_id", "pop", "unit_id", "x", "y", "geometry"]


# --------------------------------------------------------------------------
# square grids
# --------------------------------------------------------------------------
def make_grid(bounds_xy: Sequence[float], *, cell_m: float, crs: str) -> gpd.GeoDataFrame:
    """Return square cells of side ``cell_m`` covering ``bounds_xy``.

    Parameters
    ----------
    bounds_xy
        ``(minx, miny, maxx, maxy)`` in metres of ``crs``.
    cell_m
        Cell side in metres (e.g. 100 or 200).
    crs
        A projected metric CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``grid_id``, ``col``, ``row`` and the cell polygon; the origin
        is snapped to a multiple of ``cell_m`` so grids of one CRS align.
    """
    if not cell_m or cell_m <= 0:
        raise InputError(Problem(f"`cell_m` must be a positive number of metres, got {cell_m!r}.",
                                 fix="pass e.g. cell_m=200"))
    minx, miny, maxx, maxy = map(float, bounds_xy)
    if not (maxx > minx and maxy > miny):
        raise InputError(Problem(f"`bounds_xy` {bounds_xy!r} is empty.",
                                 fix="pass (minx, miny, maxx, maxy) with max > min"))
    x0 = np.floor(minx / cell_m) * cell_m
    y0 = np.floor(miny / cell_m) * cell_m
    ncol = int(np.ceil((maxx - x0) / cell_m))
    nrow = int(np.ceil((maxy - y0) / cell_m))
    problem = grid_cells_problem(float(ncol) * float(nrow), cell_m=cell_m,
                                 what=f"an extent of {(maxx - minx) / 1000:,.1f} km × {(maxy - miny) / 1000:,.1f} km")
    if problem is not None:
        raise InputError(problem)
    cols, rows = np.meshgrid(np.arange(ncol), np.arange(nrow))
    cols = cols.ravel()
    rows = rows.ravel()
    xs = x0 + cols * cell_m
    ys = y0 + rows * cell_m
    geoms = shapely.box(xs, ys, xs + cell_m, ys + cell_m)
    return gpd.GeoDataFrame(
        {"grid_id": np.arange(len(geoms), dtype=np.int64), "col": cols, "row": rows},
        geometry=geoms, crs=crs,
    )


def _finish(pieces: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add ``cell_id`` and representative ``x``/``y`` and order the columns."""
    pieces = pieces.reset_index(drop=True)
    pts = pieces.geometry.representative_point()
    out = gpd.GeoDataFrame(
        {
            "cell_id": np.arange(len(pieces), dtype=np.int64),
            "grid_id": pieces["grid_id"].to_numpy(np.int64),
            "pop": pieces["pop"].to_numpy(float),
            "unit_id": pieces["unit_id"].astype(str).to_numpy(),
            "x": pts.x.to_numpy(),
            "y": pts.y.to_numpy(),
        },
        geometry=pieces.geometry.to_numpy(), crs=pieces.crs,
    )
    return out


# --------------------------------------------------------------------------
# ancillary data from OSM
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class OsmAncillary:
    """Land use read from an OSM file, each layer in a metric CRS.

    Attributes
    ----------
    residential
        ``landuse=residential`` polygons.
    buildings
        ``building=*`` polygons.
    uninhabited
        water, parks, grass, woods, railway land, pitches and similar polygons
        where nobody lives.
    roads
        ``highway=*`` lines.
    """

    residential: gpd.GeoSeries
    buildings: gpd.GeoSeries
    uninhabited: gpd.GeoSeries
    roads: gpd.GeoSeries


_UNINHABITED = {
    "natural": {"water", "wood", "scrub", "wetland", "grassland"},
    "waterway": {"riverbank", "canal", "dock"},
    "landuse": {"reservoir", "basin", "grass", "railway", "cemetery", "meadow", "forest",
                "construction", "recreation_ground", "village_green"},
    "leisure": {"park", "pitch", "stadium", "garden", "golf_course", "swimming_pool",
                "sports_centre", "track"},
    "amenity": {"parking", "grave_yard"},
}


def read_osm_ancillary(path: str | Path, *, crs: str) -> OsmAncillary:
    """Read residential land use, buildings, uninhabited land and roads from OSM.

    Parameters
    ----------
    path
        An ``.osm``, ``.osm.bz2`` or ``.osm.pbf`` file.
    crs
        The metric CRS to project to.
    """
    import osmium

    path = Path(path)
    if not path.is_file():
        raise InputError(Problem("file not found.", file=str(path),
                                 fix="check the path of the OSM extract"))
    wkb = osmium.geom.WKBFactory()
    res: list[bytes] = []
    bld: list[bytes] = []
    uninh: list[bytes] = []
    roads: list[bytes] = []

    class _Handler(osmium.SimpleHandler):
        def area(self, a):  # noqa: D401 - osmium callback
            tags = a.tags
            try:
                if tags.get("landuse") == "residential":
                    res.append(wkb.create_multipolygon(a))
                elif "building" in tags:
                    bld.append(wkb.create_multipolygon(a))
                elif any(tags.get(k) in v for k, v in _UNINHABITED.items()):
                    uninh.append(wkb.create_multipolygon(a))
            except RuntimeError:
                pass  # broken ring clipped at the extract edge

        def way(self, w):
            if "highway" in w.tags and len(w.nodes) >= 2:
                try:
                    roads.append(wkb.create_linestring(w))
                except RuntimeError:
                    pass

    try:
        _Handler().apply_file(str(path), locations=True)
    except RuntimeError as exc:
        raise InputError(Problem(f"cannot read as OSM data ({exc}).", file=str(path),
                                 fix="pass an .osm, .osm.bz2 or .osm.pbf file")) from exc

    def series(blobs: list[bytes]) -> gpd.GeoSeries:
        geoms = shapely.from_wkb([bytes.fromhex(b) if isinstance(b, str) else b for b in blobs])
        return gpd.GeoSeries(geoms, crs="EPSG:4326").to_crs(crs)

    return OsmAncillary(series(res), series(bld), series(uninh), series(roads))


@dataclass(frozen=True)
class DasymetricWeights:
    """Weights of the ancillary layers in the dasymetric score of a cell.

    A cell's score is ``base + residential * r + buildings * b + roads * d``
    where ``r`` is the share of the cell in residential land use, ``b`` the
    share covered by buildings divided by its 95th percentile over the grid
    (capped at 1) and ``d`` the road length per km² divided by its 95th
    percentile (capped at 1); the score is then multiplied by the share of
    the cell that is not uninhabited land (water, parks, pitches...).
    """

    base: float = 0.10
    residential: float = 0.60
    buildings: float = 0.15
    roads: float = 0.15

    def __post_init__(self) -> None:
        for name in ("base", "residential", "buildings", "roads"):
            if getattr(self, name) < 0:
                raise InputError(Problem(f"`{name}` weight must be >= 0.", fix="use a non-negative weight"))


def _share(cells: gpd.GeoDataFrame, layer: gpd.GeoSeries) -> np.ndarray:
    """Share of each cell's area covered by the union of ``layer``."""
    if len(layer) == 0:
        return np.zeros(len(cells))
    union = shapely.union_all(shapely.make_valid(layer.to_numpy()))
    inter = shapely.intersection(cells.geometry.to_numpy(), union)
    return np.clip(shapely.area(inter) / shapely.area(cells.geometry.to_numpy()), 0.0, 1.0)


def ancillary_scores(cells: gpd.GeoDataFrame, ancillary: OsmAncillary,
                     weights: DasymetricWeights = DasymetricWeights()) -> pd.DataFrame:
    """Dasymetric score of each cell from OSM ancillary layers.

    Parameters
    ----------
    cells
        Square cells (as from :func:`make_grid`) in the ancillary layers' CRS.
    ancillary
        Layers from :func:`read_osm_ancillary`.
    weights
        The score's weights.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``cells`` with ``residential_share``, ``building_share``,
        ``road_km_per_km2``, ``uninhabited_share`` and ``score``.
    """
    res = _share(cells, ancillary.residential)
    bld = _share(cells, ancillary.buildings)
    uninh = _share(cells, ancillary.uninhabited)
    # uninhabited land inside residential compounds (small parks) stays inhabited
    uninh = np.clip(uninh - res, 0.0, 1.0)
    area_km2 = shapely.area(cells.geometry.to_numpy()) / 1e6
    road_km = np.zeros(len(cells))
    if len(ancillary.roads):
        rd = gpd.GeoDataFrame(geometry=ancillary.roads.to_numpy(), crs=cells.crs)
        tree = shapely.STRtree(rd.geometry.to_numpy())
        ci, ri = tree.query(cells.geometry.to_numpy(), predicate="intersects")
        lengths = shapely.length(shapely.intersection(cells.geometry.to_numpy()[ci],
                                                      rd.geometry.to_numpy()[ri])) / 1000.0
        np.add.at(road_km, ci, lengths)
    density = road_km / np.where(area_km2 > 0, area_km2, np.nan)
    density = np.nan_to_num(density)

    def norm(v: np.ndarray) -> np.ndarray:
        top = np.percentile(v[v > 0], 95) if np.any(v > 0) else 1.0
        return np.clip(v / top, 0.0, 1.0)

    score = (weights.base + weights.residential * res + weights.buildings * norm(bld)
             + weights.roads * norm(density)) * (1.0 - uninh)
    return pd.DataFrame({
        "residential_share": res, "building_share": bld, "road_km_per_km2": density,
        "uninhabited_share": uninh, "score": score,
    }, index=cells.index)


# --------------------------------------------------------------------------
# census units -> grid
# --------------------------------------------------------------------------
def _check_units(units: gpd.GeoDataFrame, pop_col: str, id_col: str, name: str) -> None:
    pc = ProblemCollector(file=name)
    if len(units) == 0:
        pc.add("the units layer is empty.", fix="pass at least one polygon with a population")
    for col in (pop_col, id_col):
        if col not in units.columns:
            pc.add(f"column `{col}` is missing (columns: {', '.join(map(str, units.columns))}).",
                   column=col, fix=f"rename the population/id column or pass `pop_col`/`id_col`")
    pc.raise_if_any()
    if units.crs is None:
        pc.add("the units layer has no CRS.", fix="set one with `.set_crs(...)`")
    elif not units.crs.is_projected:
        pc.add("the units layer is in degrees, not metres.",
               fix="reproject with `.to_crs(<metric CRS>)` first")
    pops = pd.to_numeric(units[pop_col], errors="coerce")
    for i, (raw, val) in enumerate(zip(units[pop_col], pops)):
        if pd.isna(val):
            pc.add(f"population {raw!r} is not a number.", row=i + 1, column=pop_col,
                   fix="enter a count of residents")
        elif val < 0:
            pc.add(f"population {val:g} is negative.", row=i + 1, column=pop_col,
                   fix="enter a count of residents >= 0")
    pc.raise_if_any()


def dasymetric_grid(units: gpd.GeoDataFrame, *, cell_m: float = 200.0,
                    extent: shapely.Geometry | None = None,
                    scores: pd.Series | None = None, cells: gpd.GeoDataFrame | None = None,
                    pop_col: str = "pop", id_col: str = "unit_id",
                    name: str = "units") -> gpd.GeoDataFrame:
    """Spread each unit's population over grid cells by dasymetric weights.

    Each square cell is cut by unit boundaries (and by ``extent``); a piece
    receives ``pop_unit * w_piece / sum(w_pieces of the unit)`` where
    ``w_piece = area_piece * score_cell``. With no ``scores`` the spread is by
    area alone. A unit whose pieces all score zero falls back to area
    weighting, so the sum of pieces always equals the unit's population.

    Parameters
    ----------
    units
        Polygons in a metric CRS with the population to spread in ``pop_col``
        (already scaled to the part inside ``extent`` if that is wanted).
    cell_m
        Cell side in metres.
    extent
        Optional polygon limiting the grid (e.g. the extent of the road data).
    scores
        Dasymetric score per cell, indexed like ``cells``.
    cells
        The square cells the scores belong to; built with :func:`make_grid`
        when omitted.
    pop_col, id_col
        Column names of population and unit id.
    name
        How to name the layer in error messages.

    Returns
    -------
    geopandas.GeoDataFrame
        A grid with the columns described in the module docstring.
    """
    _check_units(units, pop_col, id_col, name)
    region = shapely.union_all(units.geometry.to_numpy())
    if extent is not None:
        region = shapely.intersection(region, extent)
    if cells is None:
        cells = make_grid(region.bounds, cell_m=cell_m, crs=units.crs)
    score = np.ones(len(cells)) if scores is None else np.asarray(
        pd.Series(scores).reindex(cells.index).fillna(0.0), float)

    cell_geoms = cells.geometry.to_numpy()
    tree = shapely.STRtree(cell_geoms)
    parts = []
    for uid, ugeom, upop in zip(units[id_col].astype(str), units.geometry.to_numpy(),
                                pd.to_numeric(units[pop_col]).to_numpy(float)):
        if extent is not None:
            ugeom = shapely.intersection(ugeom, extent)
        if ugeom is None or shapely.is_empty(ugeom):
            continue
        idx = tree.query(ugeom, predicate="intersects")
        pieces = shapely.intersection(cell_geoms[idx], ugeom)
        # keep only areal parts
        pieces = np.array([_polygonal(g) for g in pieces], dtype=object)
        area = shapely.area(pieces)
        keep = area > 1.0
        idx, pieces, area = idx[keep], pieces[keep], area[keep]
        if len(idx) == 0:
            continue
        w = area * score[idx]
        if w.sum() <= 0:
            w = area
        parts.append(gpd.GeoDataFrame({
            "grid_id": cells["grid_id"].to_numpy()[idx] if "grid_id" in cells else idx,
            "pop": upop * w / w.sum(),
            "unit_id": uid,
        }, geometry=pieces, crs=units.crs))
    if not parts:
        raise InputError(Problem("no unit overlaps the grid extent.", file=name,
                                 fix="check that the units and the extent share a CRS and overlap"))
    return _finish(pd.concat(parts, ignore_index=True))


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    if geom.geom_type == "GeometryCollection":
        polys = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
        return shapely.union_all(polys) if polys else shapely.Polygon()
    return shapely.Polygon()


def grid_from_polygons(polygons: gpd.GeoDataFrame, *, pop_col: str = "pop", cell_m: float = 200.0,
                       crs: str | None = None, id_col: str | None = None,
                       name: str = "polygons") -> gpd.GeoDataFrame:
    """Spread polygons' population onto a grid by area (uniform density).

    Parameters
    ----------
    polygons
        Polygons with a population column.
    pop_col
        The population column.
    cell_m
        Cell side in metres.
    crs
        Metric CRS to work in; the layer's own CRS if it is projected.
    id_col
        Column naming each polygon (becomes ``unit_id``); row numbers if None.
    name
        How to name the layer in error messages.
    """
    layer = _to_metric(polygons, crs, name)
    layer = layer.copy()
    layer["_uid"] = layer[id_col].astype(str) if id_col else np.arange(len(layer)).astype(str)
    return dasymetric_grid(layer, cell_m=cell_m, pop_col=pop_col, id_col="_uid", name=name)


def _to_metric(layer: gpd.GeoDataFrame, crs: str | None, name: str) -> gpd.GeoDataFrame:
    if layer.crs is None:
        raise InputError(Problem("the layer has no CRS.", file=name,
                                 fix="save it with a CRS (e.g. EPSG:4326) or call `.set_crs(...)`"))
    if crs is not None:
        return layer.to_crs(crs)
    if layer.crs.is_projected:
        return layer
    return layer.to_crs(layer.estimate_utm_crs())


def grid_from_points(points: gpd.GeoDataFrame, *, pop_col: str = "pop", cell_m: float = 200.0,
                     crs: str | None = None, units: gpd.GeoDataFrame | None = None,
                     name: str = "points") -> gpd.GeoDataFrame:
    """Sum point populations (e.g. residential compounds) into grid cells.

    Parameters
    ----------
    points
        Points with a population column.
    pop_col
        The population column.
    cell_m
        Cell side in metres.
    crs
        Metric CRS to work in.
    units
        Optional units (with ``unit_id``) to label each cell by the unit
        containing its centre.
    name
        How to name the layer in error messages.
    """
    layer = _to_metric(points, crs, name)
    pc = ProblemCollector(file=name)
    if len(layer) == 0:
        pc.add("the points layer is empty.", fix="pass at least one point with a population")
    if pop_col not in layer.columns:
        pc.add(f"column `{pop_col}` is missing.", column=pop_col, fix="pass `pop_col=` with the population column")
    pc.raise_if_any()
    pops = pd.to_numeric(layer[pop_col], errors="coerce")
    for i, (raw, val) in enumerate(zip(layer[pop_col], pops)):
        if pd.isna(val):
            pc.add(f"population {raw!r} is not a number.", row=i + 1, column=pop_col, fix="enter a count")
        elif val < 0:
            pc.add(f"population {val:g} is negative.", row=i + 1, column=pop_col, fix="enter a count >= 0")
    pc.raise_if_any()
    xs = layer.geometry.x.to_numpy()
    ys = layer.geometry.y.to_numpy()
    return _bin_xy(xs, ys, pops.to_numpy(float), cell_m=cell_m, crs=layer.crs, units=units)


def _bin_xy(xs: np.ndarray, ys: np.ndarray, pops: np.ndarray, *, cell_m: float, crs,
            units: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    pad = 1e-6
    grid = make_grid((xs.min(), ys.min(), xs.max() + pad, ys.max() + pad), cell_m=cell_m, crs=crs)
    x0 = grid.geometry.bounds["minx"].min()
    y0 = grid.geometry.bounds["miny"].min()
    ncol = int(grid["col"].max()) + 1
    col = ((xs - x0) // cell_m).astype(int)
    row = ((ys - y0) // cell_m).astype(int)
    gid = row * ncol + col
    total = np.bincount(gid, weights=pops, minlength=len(grid))
    grid = grid.assign(pop=total)
    grid = grid[grid["pop"] > 0].copy()
    if units is not None and len(grid):
        cent = grid.geometry.centroid
        joined = gpd.sjoin(gpd.GeoDataFrame(geometry=cent, crs=crs),
                           units[["unit_id", "geometry"]].to_crs(crs), how="left", predicate="within")
        joined = joined[~joined.index.duplicated()]
        grid["unit_id"] = joined["unit_id"].fillna("").astype(str).to_numpy()
    else:
        grid["unit_id"] = ""
    return _finish(grid)


#: Residents per km² above which a pixel is taken for an undeclared no-data fill value
#: (the densest city blocks in the world hold about 100,000 residents per km²).
MAX_PLAUSIBLE_DENSITY_PER_KM2 = 500_000.0


def grid_from_raster(path: str | Path, *, crs: str | None = None, cell_m: float = 200.0,
                     bounds_lonlat: Sequence[float] | None = None,
                     units: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Read a population-count raster (e.g. WorldPop) into a grid.

    Each pixel's count is placed at its centre, projected to ``crs`` and
    summed into square cells of ``cell_m``. Only the part of the raster over
    the study area (``units``, else ``bounds_lonlat``) is read; its size is
    checked against :data:`coverage.limits.MAX_RASTER_PIXELS` and
    :data:`coverage.limits.MAX_GRID_CELLS` from the raster's header before
    any pixel is read. No-data and negative pixels are reported; zero cells
    are dropped.

    Parameters
    ----------
    path
        A GeoTIFF of residents per pixel.
    crs
        Metric CRS of the output; estimated from the raster when None.
    cell_m
        Cell side in metres.
    bounds_lonlat
        Optional ``(minlon, minlat, maxlon, maxlat)`` window to read.
    units
        Optional units (with ``unit_id``): only pixels inside them are kept,
        and each cell is labelled with its unit.

    Raises
    ------
    InputError
        A missing, unreadable or truncated file; no CRS; a raster that does
        not overlap the study area or holds no population there; negative
        pixels; pixels with implausible counts (an undeclared no-data fill
        such as the float32 maximum); a window over the size limits.
    """
    import rasterio
    from rasterio.warp import transform_bounds
    from rasterio.windows import Window, from_bounds

    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise InputError(Problem("file not found.", file=name, fix="check the path of the population raster"))
    try:
        src = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(Problem(f"cannot read as a raster ({exc}).", file=name,
                                 fix="pass a GeoTIFF of residents per pixel")) from exc
    with src:
        if src.crs is None:
            raise InputError(Problem("the raster has no CRS.", file=name,
                                     fix="save it with a CRS (WorldPop files are EPSG:4326)"))
        rb = src.bounds
        raster_ll = transform_bounds(src.crs, "EPSG:4326", *rb)
        if units is not None and len(units):
            want = transform_bounds(units.crs, src.crs, *units.total_bounds)
            area_text = "the study area's units"
        elif bounds_lonlat is not None:
            want = transform_bounds("EPSG:4326", src.crs, *bounds_lonlat)
            area_text = "`bounds_lonlat`"
        else:
            want = tuple(rb)
            area_text = ""
        pad_x, pad_y = abs(src.transform.a), abs(src.transform.e)
        inter = (max(want[0] - pad_x, rb.left), max(want[1] - pad_y, rb.bottom),
                 min(want[2] + pad_x, rb.right), min(want[3] + pad_y, rb.top))
        if inter[0] >= inter[2] or inter[1] >= inter[3]:
            want_ll = transform_bounds(src.crs, "EPSG:4326", *want)
            raise InputError(Problem(
                f"the raster (lon {raster_ll[0]:.4f}–{raster_ll[2]:.4f}, lat {raster_ll[1]:.4f}–"
                f"{raster_ll[3]:.4f}) does not overlap {area_text} (lon {want_ll[0]:.4f}–{want_ll[2]:.4f}, "
                f"lat {want_ll[1]:.4f}–{want_ll[3]:.4f}).", file=name,
                fix="give a population raster that covers the study area (e.g. the WorldPop file of "
                    "China), or check the CRS of the raster and of the boundaries"))
        full = Window(0, 0, src.width, src.height)
        window = from_bounds(*inter, transform=src.transform).round_offsets().round_lengths()
        window = window.intersection(full)
        pixels = int(window.width) * int(window.height)
        if pixels > MAX_RASTER_PIXELS:
            raise InputError(Problem(
                f"the raster window over {area_text or 'the raster'} has {pixels:,} pixels, more than "
                f"the limit of {MAX_RASTER_PIXELS:,}.", file=name,
                fix="resample the raster to coarser pixels (e.g. 100 m), or " + SPLIT_FIX))
        if crs is None:
            lon0, lat0, lon1, lat1 = transform_bounds(src.crs, "EPSG:4326", *inter)
            from .geo import utm_crs_for

            crs = utm_crs_for((lon0 + lon1) / 2, (lat0 + lat1) / 2)
        core = (max(want[0], rb.left), max(want[1], rb.bottom), min(want[2], rb.right), min(want[3], rb.top))
        mb = transform_bounds(src.crs, crs, *(core if core[0] < core[2] and core[1] < core[3] else inter))
        problem = grid_cells_problem(np.ceil((mb[2] - mb[0]) / cell_m + 1) * np.ceil((mb[3] - mb[1]) / cell_m + 1),
                                     cell_m=cell_m, what=f"the raster over {area_text or 'its whole extent'}",
                                     file=name)
        if problem is not None:
            raise InputError(problem)
        try:
            band = src.read(1, window=window, masked=True).astype(float)
        except rasterio.errors.RasterioError as exc:
            raise InputError(Problem(f"the raster's pixels cannot be read: the file is truncated or "
                                     f"damaged ({exc}).", file=name,
                                     fix="copy or download the GeoTIFF again and check its size")) from None
        transform = src.window_transform(window)
        src_crs = src.crs
        row0, col0 = int(window.row_off), int(window.col_off)
    values = band.filled(np.nan)
    neg = np.argwhere(values < 0)
    if len(neg):
        r, c = neg[0]
        raise InputError(Problem(f"{len(neg)} pixels have a negative population (first at pixel row "
                                 f"{r + row0}, column {c + col0}).",
                                 file=name, fix="set negative pixels to the raster's no-data value"))
    _check_plausible(values, transform, src_crs, name, row0, col0)
    rows, cols = np.nonzero(np.nan_to_num(values) > 0)
    if len(rows) == 0:
        raise InputError(Problem(f"the raster holds no population over {area_text or 'its extent'}.", file=name,
                                 fix="check the window (`bounds_lonlat`) and the raster's no-data value"))
    xs, ys = rasterio.transform.xy(transform, rows, cols, offset="center")
    pts = gpd.GeoSeries(gpd.points_from_xy(xs, ys), crs=src_crs).to_crs(crs)
    pops = values[rows, cols]
    notes: list[str] = []
    if units is not None and len(units):
        inside = _inside_units(pts, units.to_crs(crs))
        if not inside.any():
            size_m = np.sqrt(_pixel_area_m2(transform, src_crs, values.shape[0]))
            raise InputError(Problem(
                f"the centre of none of the raster's {len(pops):,} populated pixels near the study area "
                f"lies inside its units (pixels of about {size_m:,.0f} m).", file=name,
                fix="give a population raster that covers the study area with pixels smaller than its "
                    "districts (WorldPop: 100 m), or check the CRS of the raster and of the boundaries"))
        if not inside.all():
            notes.append(f"{name}: {int((~inside).sum()):,} populated pixels ({pops[~inside].sum():,.0f} "
                         "residents) lie outside the study area's units and were left out.")
        pts, pops = pts[inside], pops[inside]
    grid = _bin_xy(pts.x.to_numpy(), pts.y.to_numpy(), pops, cell_m=cell_m, crs=crs, units=units)
    if units is not None and len(units) and (grid["unit_id"] == "").any():
        # cells whose centre falls just outside every unit hold pixels inside one: take the nearest unit
        lost = grid["unit_id"] == ""
        near = gpd.sjoin_nearest(grid.loc[lost, ["geometry"]],
                                 units[["unit_id", "geometry"]].to_crs(crs), how="left")
        near = near[~near.index.duplicated()]
        grid.loc[lost, "unit_id"] = near["unit_id"].astype(str).to_numpy()
    grid.attrs["notes"] = notes
    return grid


def _inside_units(pts: gpd.GeoSeries, units: gpd.GeoDataFrame) -> np.ndarray:
    """Whether each point lies inside (or on the edge of) one of the units."""
    region = shapely.union_all(units.geometry.to_numpy())
    shapely.prepare(region)
    return shapely.intersects(region, pts.to_numpy())


def _pixel_area_m2(transform, src_crs, n_rows: int) -> float:
    """Area of one pixel in m² (at the middle row for a longitude/latitude raster)."""
    area = abs(transform.a * transform.e)
    if src_crs.is_geographic:
        lat = transform.f + transform.e * n_rows / 2
        area *= 111_320.0 ** 2 * max(float(np.cos(np.radians(lat))), 0.01)
    return float(area)


def _check_plausible(values: np.ndarray, transform, src_crs, name: str, row0: int, col0: int) -> None:
    """Refuse pixels whose count per km² no place on earth reaches (an undeclared fill value)."""
    area_m2 = _pixel_area_m2(transform, src_crs, values.shape[0])
    limit = MAX_PLAUSIBLE_DENSITY_PER_KM2 * area_m2 / 1e6
    bad = np.argwhere(np.isinf(values) | (values > limit))
    if len(bad):
        r, c = bad[0]
        v = values[r, c]
        raise InputError(Problem(
            f"{len(bad):,} pixels hold implausible counts (first {v:.4g} at pixel row {r + row0}, column "
            f"{c + col0}; more than {MAX_PLAUSIBLE_DENSITY_PER_KM2:,.0f} residents per km²): an undeclared "
            "no-data fill value.", file=name,
            fix=f"declare the fill value as no-data (e.g. `gdal_edit.py -a_nodata {v:.8g} FILE`) or set "
                "those pixels to 0"))


def validate_grid(grid: gpd.GeoDataFrame, *, name: str = "population grid") -> None:
    """Check a grid has the expected columns and sane values; raise otherwise."""
    pc = ProblemCollector(file=name)
    missing = [c for c in GRID_COLUMNS if c not in grid.columns]
    if missing:
        pc.add(f"columns {missing} are missing.", fix="build the grid with the functions of coverage.population")
        pc.raise_if_any()
    if len(grid) == 0:
        pc.add("the grid is empty.", fix="check the population source covers the study area")
    if grid.crs is None or not grid.crs.is_projected:
        pc.add("the grid is not in a metric CRS.", fix="reproject it to the study area's CRS")
    bad = np.flatnonzero(~np.isfinite(grid["pop"].to_numpy(float)) | (grid["pop"].to_numpy(float) < 0))
    for i in bad[:20]:
        pc.add("population is negative or not a number.", row=int(i) + 1, column="pop", fix="use counts >= 0")
    pc.raise_if_any()
