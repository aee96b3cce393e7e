"""Offline web maps of districts, facilities, population and proposals.

:func:`build_map` returns a :class:`folium.Map` that loads nothing from the
network unless an online basemap is chosen explicitly:

* Leaflet (and jQuery, which folium popups use) are vendored in
  ``coverage/static/`` from the npm registry and handed to the browser as
  ``data:`` URIs in place of folium's CDN defaults. Both a saved HTML page
  and ``streamlit_folium.st_folium`` (which loads ``default_js``/``default_css``
  of every element with ``<script src>``/``<link href>`` inside its component
  iframe) therefore work with no network at all. Bootstrap, Font Awesome and
  the awesome-markers plugin of folium's defaults are not loaded: markers are
  drawn as circle markers or inline-SVG ``DivIcon`` s.
* The default basemap is drawn from the study area's own OpenStreetMap data
  (roads by class, water, green space; ``data/chengdu/basemap.gpkg``, built
  by ``scripts/build_basemap.py``) as light vector layers on a canvas, with
  district, road, station, park and landmark names as permanent labels that
  appear as the map zooms in.
* Large layers (population grid, travel-time surfaces) become one PNG
  :class:`folium.raster_layers.ImageOverlay` (see :func:`grid_to_png`), not
  thousands of polygons.

All inputs are GeoDataFrames in a projected metric CRS (EPSG:32648 for the
embedded Chengdu data); they are reprojected to EPSG:4326 for display and,
for GCJ-02 tile providers (Amap), shifted to GCJ-02.
"""

from __future__ import annotations

import base64
import io
import json
import math
import re
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry
from jinja2 import Template
from PIL import Image

from coverage.errors import InputError, ProblemCollector
from coverage.geo import WGS84, transformer
from coverage.i18n import FACILITY_TYPES, LANGS, facility_type_label, t
from coverage.safe_text import html_text

__all__ = [
    "BASEMAPS",
    "FACILITY_COLOURS",
    "GridRaster",
    "build_map",
    "colorize",
    "basemap_labels",
    "default_basemap_path",
    "external_asset_urls",
    "grid_raster",
    "grid_to_png",
    "load_basemap",
    "new_offline_map",
    "offline_assets_html",
    "public_mask",
    "static_dir",
    "wgs84_to_gcj02",
]

#: Basemap choices of :func:`build_map`; only ``"offline"`` works without a network.
BASEMAPS: tuple[str, ...] = ("offline", "tianditu", "amap", "osm")

#: Marker colour of each canonical facility type (colour-blind-safe Tableau 10).
FACILITY_COLOURS: Mapping[str, str] = {
    "library": "#1f77b4",
    "cultural_centre": "#d62728",
    "culture_station": "#2ca02c",
    "city_reading_room": "#ff7f0e",
    "museum": "#9467bd",
    "art_gallery": "#e377c2",
    "theatre": "#8c564b",
    "science_museum": "#17becf",
    "workers_palace": "#bcbd22",
    "other": "#7f7f7f",
}

#: Colour of the residents not covered (stripes over the population ramp).
UNCOVERED_COLOUR = "#3f007d"
#: Type prefix and marker colour of facilities that are not public (they count for no standard).
NONPUBLIC_PREFIX = "nonpublic:"
NONPUBLIC_COLOUR = "#bdbdbd"

_PALETTES: dict[str, tuple[str, ...]] = {
    "YlOrRd": ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a",
               "#e31a1c", "#bd0026", "#800026"),
    "viridis": ("#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89",
                "#35b779", "#6ece58", "#b5de2b", "#fde725"),
    "RdYlGn_r": ("#1a9850", "#66bd63", "#a6d96a", "#d9ef8b", "#ffffbf", "#fee08b",
                 "#fdae61", "#f46d43", "#d73027"),
    "Blues": ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6",
              "#2171b5", "#08519c", "#08306b"),
    "OrRd": ("#fff7ec", "#fee8c8", "#fdd49e", "#fdbb84", "#fc8d59", "#ef6548",
             "#d7301f", "#b30000", "#7f0000"),
}

_BASEMAP_STYLE = {
    "background": "#efece6",
    "green": {"fillColor": "#cfe6c3", "fillOpacity": 1.0, "weight": 0, "stroke": False},
    "water": {"fillColor": "#a9d3e4", "fillOpacity": 1.0, "weight": 0, "stroke": False},
    "waterways": {"color": "#a9d3e4", "weight": 2.5, "opacity": 1.0},
    "path": {"color": "#d8d2c6", "weight": 1.0, "opacity": 1.0},
    "minor": {"color": "#ffffff", "weight": 1.6, "opacity": 1.0},
    "secondary": {"color": "#ffffff", "weight": 3.0, "opacity": 1.0},
    "major": {"color": "#f6cf8c", "weight": 3.6, "opacity": 1.0},
}
_ROAD_ORDER = ("path", "minor", "secondary", "major")

_OSM_ATTRIBUTION = (
    '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
    "contributors (ODbL)"
)

# Columns of a district layer shown in its tooltip besides name and population.
_DISTRICT_EXTRA = re.compile(r"(deficit|shortfall|gap|covered|coverage|per_)", re.I)
# Column names that carry the residents newly covered by a proposed site.
_PROPOSAL_POP_COLUMNS = ("new_pop_covered", "pop_new", "newly_covered_pop",
                         "new_covered_pop", "pop_gain", "gain_pop", "marginal_pop")


# --------------------------------------------------------------------------
# vendored browser assets
# --------------------------------------------------------------------------


def static_dir() -> Path:
    """Directory of the vendored browser assets (``coverage/static``)."""
    return Path(__file__).resolve().parent / "static"


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


@lru_cache(maxsize=1)
def _leaflet_css() -> str:
    """leaflet.css with its ``url(images/…)`` references inlined."""
    root = static_dir() / "leaflet"
    css = (root / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match[str]) -> str:
        png = (root / match.group(1)).read_bytes()
        return f"url({_data_uri(png, 'image/png')})"

    return re.sub(r"url\((images/[A-Za-z0-9_.-]+\.png)\)", inline, css)


@lru_cache(maxsize=1)
def _icon_patch_js() -> str:
    """Make ``L.Icon.Default`` (plain folium markers) use inlined images."""
    images = static_dir() / "leaflet" / "images"
    urls = {key: _data_uri((images / name).read_bytes(), "image/png") for key, name in (
        ("iconUrl", "marker-icon.png"), ("iconRetinaUrl", "marker-icon-2x.png"),
        ("shadowUrl", "marker-shadow.png"))}
    return ("(function(){if(!window.L){return;}L.Icon.Default.imagePath='';"
            f"L.Icon.Default.mergeOptions({json.dumps(urls)});}})();")


@lru_cache(maxsize=1)
def _asset_uris() -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """(default_js, default_css) for a map, every entry a ``data:`` URI."""
    root = static_dir()
    js = (
        ("leaflet", _data_uri((root / "leaflet" / "leaflet.js").read_bytes(),
                              "text/javascript")),
        ("jquery", _data_uri((root / "jquery" / "jquery.min.js").read_bytes(),
                             "text/javascript")),
        ("leaflet_offline_icons", _data_uri(_icon_patch_js().encode(), "text/javascript")),
    )
    css = (("leaflet_css", _data_uri(_leaflet_css().encode(), "text/css")),)
    return js, css


def offline_assets_html() -> str:
    """Inline ``<style>`` and ``<script>`` tags of the vendored map assets.

    For pages that embed Leaflet maps without folium (or to inspect what a
    map loads): Leaflet's CSS with its images inlined, then Leaflet, jQuery
    and the default-marker patch, in that order. Nothing refers to a URL.

    Returns
    -------
    str
        HTML to place in a page ``<head>``.
    """
    root = static_dir()
    parts = [f"<style>\n{_leaflet_css()}\n</style>"]
    for path in (root / "leaflet" / "leaflet.js", root / "jquery" / "jquery.min.js"):
        parts.append(f"<script>\n{path.read_text(encoding='utf-8')}\n</script>")
    parts.append(f"<script>{_icon_patch_js()}</script>")
    return "\n".join(parts)


def new_offline_map(*, center: tuple[float, float], zoom: int = 13,
                    prefer_canvas: bool = True, **map_options: Any) -> folium.Map:
    """An empty :class:`folium.Map` whose scripts and styles are all vendored.

    Parameters
    ----------
    center
        ``(lat, lon)`` of the initial view, WGS84 degrees.
    zoom
        Initial zoom level.
    prefer_canvas
        Draw vector layers on a canvas (fast with thousands of features).
    **map_options
        Passed on to :class:`folium.Map` (``tiles`` defaults to none).

    Returns
    -------
    folium.Map
        Add folium layers as usual; avoid plugins that load CDN assets
        (check with :func:`external_asset_urls`).
    """
    map_options.setdefault("tiles", None)
    m = folium.Map(location=list(center), zoom_start=zoom, prefer_canvas=prefer_canvas,
                   **map_options)
    js, css = _asset_uris()
    # Instance attributes shadow folium's class-level CDN defaults.
    m.default_js = list(js)
    m.default_css = list(css)
    return m


def external_asset_urls(m: folium.Map) -> list[str]:
    """Scripts and style sheets of ``m`` that would be fetched from a network.

    Walks the element tree the way ``streamlit_folium`` and folium's HTML
    rendering collect ``default_js``/``default_css``, and lists every URL
    that is not a ``data:`` URI (tile URLs are not assets and are not listed).

    Parameters
    ----------
    m
        A folium map.

    Returns
    -------
    list of str
        Empty for a fully offline map.
    """
    urls: list[str] = []

    def walk(element: Any) -> None:
        for _, url in list(getattr(element, "default_js", [])) + list(
                getattr(element, "default_css", [])):
            if not str(url).startswith("data:") and url not in urls:
                urls.append(str(url))
        for child in getattr(element, "_children", {}).values():
            walk(child)

    walk(m)
    return urls


# --------------------------------------------------------------------------
# coordinates
# --------------------------------------------------------------------------

_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323


def wgs84_to_gcj02(lon: np.ndarray | float, lat: np.ndarray | float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Shift WGS84 ``lon``/``lat`` (degrees) to GCJ-02 for Chinese web maps.

    Uses the public GCJ-02 formula (Krasovsky ellipsoid ``a = 6378245.0``,
    ``ee = 0.00669342162296594323``); points outside China are returned
    unchanged. The shift is 100–700 m; it matters only for display on
    GCJ-02 tile layers (Amap, Tencent).

    Parameters
    ----------
    lon, lat
        Longitudes and latitudes, scalars or arrays of the same shape.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 longitude and latitude.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    x, y = lon - 105.0, lat - 35.0
    pi = math.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y
            + 0.2 * np.sqrt(np.abs(x)) + common
            + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y
            + 0.1 * np.sqrt(np.abs(x)) + common
            + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0)
    radlat = lat / 180.0 * pi
    magic = 1.0 - _GCJ_EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrtmagic * np.cos(radlat) * pi)
    outside = (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)
    return np.where(outside, lon, lon + dlon), np.where(outside, lat, lat + dlat)


def _gcj_function():
    """The project's GCJ-02 shift: coverage.facilities' if present, else ours."""
    try:
        from coverage import facilities as _facilities  # noqa: PLC0415
    except ImportError:
        return wgs84_to_gcj02
    return getattr(_facilities, "wgs84_to_gcj02", wgs84_to_gcj02)


def _display_frame(gdf: gpd.GeoDataFrame, *, gcj: bool, simplify_m: float = 0.0,
                   decimals: int = 6) -> gpd.GeoDataFrame:
    """Copy of ``gdf`` in EPSG:4326 (GCJ-02-shifted if ``gcj``), rounded to ``decimals``."""
    out = gdf
    if simplify_m and out.crs is not None and out.crs.is_projected:
        out = out.set_geometry(out.geometry.simplify(simplify_m, preserve_topology=True))
    out = out.to_crs(WGS84)
    geoms = out.geometry.values
    if gcj:
        shift = _gcj_function()

        def _shift(coords: np.ndarray) -> np.ndarray:
            lon, lat = shift(coords[:, 0], coords[:, 1])
            return np.column_stack([np.asarray(lon, float), np.asarray(lat, float)])

        geoms = shapely.transform(geoms, _shift)
    geoms = shapely.transform(geoms, lambda c: np.round(c, decimals))
    return out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=WGS84))


# --------------------------------------------------------------------------
# raster overlays
# --------------------------------------------------------------------------


def _palette(cmap: str | Sequence[str]) -> np.ndarray:
    if isinstance(cmap, str):
        if cmap not in _PALETTES:
            raise InputError(
                f"`cmap` = {cmap!r} is not a known colour map.",
                fix=f"use one of {', '.join(_PALETTES)} or a list of '#rrggbb' colours.")
        stops = _PALETTES[cmap]
    else:
        stops = tuple(cmap)
    if len(stops) < 2 or not all(re.fullmatch(r"#[0-9a-fA-F]{6}", str(s)) for s in stops):
        raise InputError("`cmap` must name a colour map or list two or more '#rrggbb' colours.",
                         fix="pass e.g. cmap='YlOrRd' or cmap=['#ffffff', '#ff0000'].")
    return np.array([[int(s[i:i + 2], 16) for i in (1, 3, 5)] for s in stops], dtype=float)


def colorize(values: np.ndarray, *, cmap: str | Sequence[str] = "YlOrRd",
             vmin: float, vmax: float) -> np.ndarray:
    """Map ``values`` to RGBA bytes by linear interpolation along ``cmap``.

    NaN becomes fully transparent; values outside ``[vmin, vmax]`` are clipped.

    Returns
    -------
    numpy.ndarray
        ``values.shape + (4,)`` array of ``uint8``.
    """
    values = np.asarray(values, dtype=float)
    stops = _palette(cmap)
    span = vmax - vmin if vmax > vmin else 1.0
    pos = np.clip((np.nan_to_num(values, nan=vmin) - vmin) / span, 0.0, 1.0)
    pos = pos * (len(stops) - 1)
    lo = np.minimum(np.floor(pos).astype(int), len(stops) - 2)
    frac = (pos - lo)[..., None]
    rgb = stops[lo] * (1.0 - frac) + stops[lo + 1] * frac
    alpha = np.where(np.isnan(values), 0, 255)[..., None]
    return np.concatenate([np.rint(rgb), alpha], axis=-1).astype(np.uint8)


def _css_gradient(cmap: str | Sequence[str]) -> str:
    stops = _palette(cmap)
    colours = ["#%02x%02x%02x" % tuple(int(v) for v in s) for s in stops]
    return f"linear-gradient(to right, {', '.join(colours)})"


@dataclass(frozen=True, eq=False)
class GridRaster:
    """Which grid cell each pixel of a map overlay shows.

    Built once per grid by :func:`grid_raster`; afterwards drawing any column
    of the grid (or of a subset of its rows, such as the uncovered cells) is
    a lookup instead of a point-in-polygon search.

    Attributes
    ----------
    labels
        Index labels of the grid rows, in the order ``cell`` refers to them.
    cell
        ``(height, width)`` integer array: position in ``labels`` of the cell
        under each pixel centre, ``-1`` outside every cell.
    bounds
        ``[[south, west], [north, east]]`` of the image in degrees.
    gcj
        Whether ``bounds`` are shifted to GCJ-02.
    """

    labels: pd.Index
    cell: np.ndarray
    bounds: list[list[float]]
    gcj: bool = False

    def covers(self, frame: pd.DataFrame) -> bool:
        """Whether every row label of ``frame`` is a cell of this raster."""
        return bool(frame.index.isin(self.labels).all())

    def sample(self, frame: pd.DataFrame, column: str) -> np.ndarray:
        """Pixel values of ``frame[column]``; NaN outside the rows of ``frame``."""
        values = pd.to_numeric(frame[column], errors="coerce").astype(float)
        if frame.index.equals(self.labels):
            per_cell = values.to_numpy(dtype=float)
        else:
            per_cell = values.reindex(self.labels).to_numpy(dtype=float)
        out = np.full(self.cell.shape, np.nan)
        inside = self.cell >= 0
        out[inside] = per_cell[self.cell[inside]]
        return out


def grid_raster(grid: gpd.GeoDataFrame, *, pixel_m: float | None = None,
                max_pixels: int = 2048, gcj: bool = False) -> GridRaster:
    """Sample the cells of ``grid`` on a raster aligned with Web Mercator.

    Every pixel centre is projected back into the grid CRS and takes the
    cell containing it, so that the UTM cells keep their true place and
    slight rotation on the map.

    Parameters
    ----------
    grid
        Cells (polygons) in a projected CRS, e.g. the population grid.
    pixel_m
        Pixel size in metres; default one eighth of the median cell width.
    max_pixels
        Upper bound on the image width and height.
    gcj
        Shift the bounds to GCJ-02 (for Amap tiles).

    Returns
    -------
    GridRaster

    Raises
    ------
    InputError
        If ``grid`` is empty or has no CRS.
    """
    pc = ProblemCollector(file="grid")
    if not isinstance(grid, gpd.GeoDataFrame) or grid.empty:
        pc.add("`grid` is empty or not a GeoDataFrame.",
               fix="pass the population grid GeoDataFrame with polygon cells.")
        pc.raise_if_any()
    if grid.crs is None:
        pc.add("`grid` has no CRS.", fix="set it, e.g. grid.set_crs('EPSG:32648').")
    pc.raise_if_any()
    cells = grid.geometry.values
    bounds = shapely.bounds(cells)
    if pixel_m is None:
        widths = bounds[:, 2] - bounds[:, 0]
        pixel_m = max(float(np.median(widths)) / 8.0, 1.0)
    to_merc = transformer(str(grid.crs), "EPSG:3857")
    from_merc = transformer("EPSG:3857", str(grid.crs))
    xmin, ymin, xmax, ymax = grid.total_bounds
    corners_x = np.array([xmin, xmin, xmax, xmax, (xmin + xmax) / 2, (xmin + xmax) / 2,
                          xmin, xmax])
    corners_y = np.array([ymin, ymax, ymin, ymax, ymin, ymax, (ymin + ymax) / 2,
                          (ymin + ymax) / 2])
    mx, my = to_merc.transform(corners_x, corners_y)
    mx0, mx1, my0, my1 = mx.min(), mx.max(), my.min(), my.max()
    # Mercator metres are stretched by 1/cos(lat) against ground metres.
    lat_mid = transformer("EPSG:3857", WGS84).transform((mx0 + mx1) / 2, (my0 + my1) / 2)[1]
    step = pixel_m / math.cos(math.radians(lat_mid))
    width = int(min(max_pixels, max(1, math.ceil((mx1 - mx0) / step))))
    height = int(min(max_pixels, max(1, math.ceil((my1 - my0) / step))))
    px = mx0 + (np.arange(width) + 0.5) * (mx1 - mx0) / width
    py = my1 - (np.arange(height) + 0.5) * (my1 - my0) / height
    gx, gy = np.meshgrid(px, py)
    sx, sy = from_merc.transform(gx.ravel(), gy.ravel())
    points = shapely.points(sx, sy)
    tree = shapely.STRtree(cells)
    pt_idx, cell_idx = tree.query(points, predicate="within")
    cell = np.full(points.shape[0], -1, dtype=np.int64)
    # A point on a shared edge may fall in two cells; keep the first.
    first = np.unique(pt_idx, return_index=True)[1]
    cell[pt_idx[first]] = cell_idx[first]

    lon, lat = transformer("EPSG:3857", WGS84).transform(np.array([mx0, mx1]),
                                                         np.array([my0, my1]))
    if gcj:
        lon, lat = _gcj_function()(lon, lat)
        lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    return GridRaster(labels=grid.index.copy(), cell=cell.reshape(height, width),
                      bounds=[[float(lat[0]), float(lon[0])], [float(lat[1]), float(lon[1])]],
                      gcj=bool(gcj))


def grid_to_png(grid: gpd.GeoDataFrame, column: str, *, cmap: str | Sequence[str] = "YlOrRd",
                vmin: float | None = None, vmax: float | None = None,
                pixel_m: float | None = None, max_pixels: int = 2048,
                gcj: bool = False, raster: GridRaster | None = None, hatch_px: int = 0,
                ) -> tuple[bytes, list[list[float]]]:
    """Render grid-cell values into a PNG for a Leaflet image overlay.

    The image is sampled on a raster aligned with Web Mercator (the display
    projection of Leaflet), see :func:`grid_raster`.

    Parameters
    ----------
    grid
        Cells (polygons) in a projected CRS, e.g. the population grid.
    column
        Numeric column to draw.
    cmap
        Colour map name (``"YlOrRd"``, ``"viridis"``, ``"RdYlGn_r"``,
        ``"Blues"``, ``"OrRd"``) or a list of ``'#rrggbb'`` stops.
    vmin, vmax
        Value range of the colour scale; default the finite min and max.
    pixel_m
        Pixel size in metres; default one eighth of the median cell width.
    max_pixels
        Upper bound on the image width and height.
    gcj
        Shift the bounds to GCJ-02 (for Amap tiles).
    raster
        A :class:`GridRaster` of a grid whose rows include every row of
        ``grid`` (same index labels); reused instead of sampling the cells
        again (``pixel_m``, ``max_pixels`` and ``gcj`` are then ignored).

    hatch_px
        Draw only diagonal stripes with this period in pixels (0: fill every
        cell), so that a layer below stays visible.

    Returns
    -------
    png : bytes
        RGBA PNG image.
    bounds : list
        ``[[south, west], [north, east]]`` in degrees, as Leaflet expects.

    Raises
    ------
    InputError
        If ``grid`` is empty, has no CRS, or lacks a numeric ``column``.
    """
    pc = ProblemCollector(file="grid")
    if not isinstance(grid, gpd.GeoDataFrame) or grid.empty:
        pc.add("`grid` is empty or not a GeoDataFrame.",
               fix="pass the population grid GeoDataFrame with polygon cells.")
        pc.raise_if_any()
    if grid.crs is None:
        pc.add("`grid` has no CRS.", fix="set it, e.g. grid.set_crs('EPSG:32648').")
    if column not in grid.columns:
        pc.add(f"`column` = {column!r} is not a column of the grid.", column=column,
               fix=f"use one of {', '.join(map(str, grid.columns.drop('geometry')))}.")
    elif not pd.api.types.is_numeric_dtype(grid[column]):
        pc.add(f"`column` = {column!r} is not numeric.", column=column,
               fix="convert it with pandas.to_numeric first.")
    if raster is not None and not raster.covers(grid):
        pc.add("`raster` was built for another grid (some row labels are not in it).",
               fix="build it with grid_raster() from the full grid, or leave it out.")
    pc.raise_if_any()
    values = grid[column].to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    if vmin is None:
        vmin = float(finite.min()) if finite.size else 0.0
    if vmax is None:
        vmax = float(finite.max()) if finite.size else 1.0
    if raster is None:
        raster = grid_raster(grid, pixel_m=pixel_m, max_pixels=max_pixels, gcj=gcj)
    sampled = raster.sample(grid, column)
    rgba = colorize(sampled, cmap=cmap, vmin=vmin, vmax=vmax)
    if hatch_px > 1:
        # Diagonal stripes: a third of each period drawn, the layer below shows between them.
        rows, cols = np.indices(rgba.shape[:2])
        rgba[(rows + cols) % int(hatch_px) >= max(1, int(hatch_px) // 3), 3] = 0
    buf = io.BytesIO()
    Image.fromarray(rgba, mode="RGBA").save(buf, format="PNG", compress_level=1)
    return buf.getvalue(), [list(b) for b in raster.bounds]


# --------------------------------------------------------------------------
# basemap
# --------------------------------------------------------------------------


def default_basemap_path() -> Path:
    """Path of the embedded Chengdu offline basemap (``data/chengdu/basemap.gpkg``)."""
    return Path(__file__).resolve().parent.parent / "data" / "chengdu" / "basemap.gpkg"


def load_basemap(path: str | Path | None = None) -> dict[str, gpd.GeoDataFrame]:
    """Read the offline basemap layers (``roads``, ``water``, ``waterways``, ``green``, ``labels``).

    Parameters
    ----------
    path
        A GeoPackage written by ``scripts/build_basemap.py``; default the
        embedded central-Chengdu basemap.

    Returns
    -------
    dict
        Layer name to GeoDataFrame (in the CRS stored in the file).

    Raises
    ------
    InputError
        If the file is missing or has none of the expected layers.
    """
    import pyogrio  # noqa: PLC0415

    path = Path(path) if path is not None else default_basemap_path()
    if not path.exists():
        raise InputError(f"`path` = {str(path)!r}: the basemap file does not exist.",
                         fix="build it with `python scripts/build_basemap.py` or pass "
                             "basemap='osm'/'tianditu'/'amap' when online.")
    names = {name for name, _ in pyogrio.list_layers(path)}
    wanted = [n for n in ("green", "water", "waterways", "roads", "labels") if n in names]
    if not wanted:
        raise InputError(f"`path` = {str(path)!r} has none of the layers roads, water, "
                         "waterways, green.", fix="rebuild it with scripts/build_basemap.py.")
    return {name: gpd.read_file(path, layer=name) for name in wanted}


def _geojson_layer(gdf: gpd.GeoDataFrame, *, name: str, style: dict[str, Any],
                   merge: bool = False) -> folium.GeoJson:
    """A non-interactive styled layer; ``merge`` draws all lines as one feature."""
    if merge:
        parts = shapely.get_parts(gdf.geometry.values)
        geometry = shapely.geometry.mapping(shapely.multilinestrings(parts))
        data = {"type": "FeatureCollection",
                "features": [{"type": "Feature", "properties": {}, "geometry": geometry}]}
    else:
        data = json.loads(gdf[[gdf.geometry.name]].to_json(drop_id=True))
    return folium.GeoJson(data, name=name, style_function=lambda _f, s=dict(style): s,
                          interactive=False, control=False)


# Display frames of basemap layers, by layer object: the same layers are drawn on every map.
_BASEMAP_FRAMES: "OrderedDict[int, tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]]" = OrderedDict()


def _basemap_frame(layer: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    hit = _BASEMAP_FRAMES.get(id(layer))
    if hit is not None and hit[0] is layer:
        return hit[1]
    frame = _display_frame(layer, gcj=False, decimals=5)
    _BASEMAP_FRAMES[id(layer)] = (layer, frame)
    while len(_BASEMAP_FRAMES) > 16:
        _BASEMAP_FRAMES.popitem(last=False)
    return frame


def _add_offline_basemap(m: folium.Map, layers: Mapping[str, gpd.GeoDataFrame],
                         lang: str) -> None:
    # Basemap coordinates are rounded to 1e-5 degrees (about 1 m); each road
    # class is one multi-line feature, so the browser builds a handful of
    # canvas paths instead of thousands of layers.
    group = folium.FeatureGroup(name=t("layer_basemap", lang), control=True, show=True)
    for name in ("green", "water", "waterways"):
        if name in layers and not layers[name].empty:
            frame = _basemap_frame(layers[name])
            _geojson_layer(frame, name=name, style=_BASEMAP_STYLE[name],
                           merge=name == "waterways").add_to(group)
    roads = layers.get("roads")
    if roads is not None and not roads.empty:
        frame = _basemap_frame(roads)
        classes = frame["road_class"] if "road_class" in frame else pd.Series(
            "minor", index=frame.index)
        for cls in _ROAD_ORDER:
            part = frame[classes == cls]
            if not part.empty:
                _geojson_layer(part, name=f"roads_{cls}", style=_BASEMAP_STYLE[cls],
                               merge=True).add_to(group)
    group.add_to(m)
    _Script(f"{{map}}.getContainer().style.background = {json.dumps(_BASEMAP_STYLE['background'])};"
            f"{{map}}.attributionControl.addAttribution({json.dumps(_OSM_ATTRIBUTION)});"
            ).add_to(m)


#: Label style per kind (offline basemap): CSS of the text.
_LABEL_STYLE = {
    "district": "font-size:15px;font-weight:bold;color:#5a4a78;letter-spacing:2px",
    "road_major": "font-size:12px;color:#6b4a12",
    "road_secondary": "font-size:11px;color:#4d4d4d",
    "road_minor": "font-size:10px;color:#666",
    "park": "font-size:11px;color:#2e6b2e",
    "station": "font-size:11px;color:#1f4e8c",
    "landmark": "font-size:11px;color:#7a3b3b;font-style:italic",
    "neighbourhood": "font-size:10px;color:#777",
}
_LABEL_HALO = ("white-space:nowrap;pointer-events:none;display:inline-block;transform:translate(-50%,-50%);"
               "text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff;font-family:sans-serif;")


def basemap_labels(layers: Mapping[str, gpd.GeoDataFrame], boundaries: gpd.GeoDataFrame | None = None,
                   *, lang: str = "zh") -> pd.DataFrame:
    """Names to draw on the offline basemap: ``lon``, ``lat``, ``text``, ``kind``, ``min_zoom``.

    Parameters
    ----------
    layers
        Basemap layers (see :func:`load_basemap`); its ``labels`` layer holds
        road, place, station, park and landmark names.
    boundaries
        The study area's districts: each gets a label (shown at every zoom)
        at a point inside its part of the basemap's extent; OSM district
        labels of the same name are then left out.
    lang
        ``"en"`` prefers English names where OSM has them.

    Returns
    -------
    pandas.DataFrame
        One row per label in WGS84; ``text`` is not yet HTML-escaped.
    """
    parts = []
    roads = layers.get("roads")
    extent = shapely.box(*roads.total_bounds) if roads is not None and not roads.empty else None
    names: set[str] = set()
    if boundaries is not None and not boundaries.empty and "name" in boundaries:
        b = boundaries
        geoms = b.geometry
        if extent is not None and roads.crs is not None and b.crs is not None:
            geoms = geoms.intersection(gpd.GeoSeries([extent], crs=roads.crs).to_crs(b.crs).iloc[0])
        keep = ~geoms.is_empty & geoms.notna()
        pts = gpd.GeoSeries(geoms[keep].representative_point(), crs=b.crs).to_crs(WGS84)
        names = set(b["name"].astype(str))
        parts.append(pd.DataFrame({"lon": pts.x.to_numpy(), "lat": pts.y.to_numpy(),
                                   "text": _label_column(b[keep], lang).astype(str).to_numpy(),
                                   "kind": "district", "min_zoom": 0}))
    lab = layers.get("labels")
    if lab is not None and not lab.empty:
        lab = lab[~((lab["kind"] == "district") & lab["name"].astype(str).isin(names))]
        pts = lab.geometry.to_crs(WGS84)
        parts.append(pd.DataFrame({"lon": pts.x.to_numpy(), "lat": pts.y.to_numpy(),
                                   "text": _label_column(lab, lang).astype(str).to_numpy(),
                                   "kind": lab["kind"].astype(str).to_numpy(),
                                   "min_zoom": lab["min_zoom"].astype(int).to_numpy()}))
    if not parts:
        return pd.DataFrame(columns=["lon", "lat", "text", "kind", "min_zoom"])
    return pd.concat(parts, ignore_index=True)


def _add_labels(m: folium.Map, labels: pd.DataFrame) -> None:
    """Permanent, zoom-dependent name labels (Leaflet DivIcons in their own pane, not clickable)."""
    if labels.empty:
        return
    rows = [[round(float(r.lat), 6), round(float(r.lon), 6),
             f'<span style="{_LABEL_HALO}{_LABEL_STYLE.get(r.kind, _LABEL_STYLE["road_minor"])}">'
             f'{html_text(r.text)}</span>', int(r.min_zoom)]
            for r in labels.itertuples(index=False)]
    data = json.dumps(rows, ensure_ascii=False).replace("</", "<\\/")
    _Script(
        "(function (map) {"
        "var pane = map.createPane('cultcov_labels'); pane.style.zIndex = 450;"
        "pane.style.pointerEvents = 'none'; var groups = {};"
        f"{data}.forEach(function (d) {{"
        "var g = groups[d[3]] || (groups[d[3]] = L.layerGroup());"
        "L.marker([d[0], d[1]], {icon: L.divIcon({className: 'cultcov-label', html: d[2], iconSize: null}),"
        "interactive: false, keyboard: false, pane: 'cultcov_labels'}).addTo(g);});"
        "function show() { var z = map.getZoom();"
        "for (var k in groups) { var on = z >= +k;"
        "if (on && !map.hasLayer(groups[k])) groups[k].addTo(map);"
        "else if (!on && map.hasLayer(groups[k])) map.removeLayer(groups[k]); } }"
        "map.on('zoomend', show); show();"
        "})({map});").add_to(m)


def _add_tiles(m: folium.Map, basemap: str, *, tianditu_key: str | None, lang: str) -> None:
    if basemap == "osm":
        folium.TileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                         attr=_OSM_ATTRIBUTION, name="OpenStreetMap", max_zoom=19).add_to(m)
    elif basemap == "amap":
        folium.TileLayer(
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
            "&style=8&x={x}&y={y}&z={z}", subdomains="1234", max_zoom=18,
            attr="© 高德地图 AutoNavi (GCJ-02)", name="Amap").add_to(m)
    elif basemap == "tianditu":
        base = ("https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
                "&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
                "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}")
        label = "cva" if lang == "zh" else "eva"
        for layer, overlay in (("vec", False), (label, True)):
            folium.TileLayer(base.format(layer=layer, key=tianditu_key, s="{s}"),
                             subdomains="01234567", max_zoom=18, overlay=overlay,
                             control=False, name=f"Tianditu {layer}",
                             attr="© 天地图 Tianditu" if not overlay else " ").add_to(m)


# --------------------------------------------------------------------------
# small elements
# --------------------------------------------------------------------------


class _Script(folium.MacroElement):
    """Raw JavaScript run after the map exists; ``{map}`` is the map variable."""

    # Templates are class attributes (as in folium) so that maps can be deep-copied.
    _template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this.code.replace('{map}', this._parent.get_name()) }}"
        "{% endmacro %}")

    def __init__(self, code: str):
        super().__init__()
        self._name = "Script"
        self.code = code


class _Legend(folium.MacroElement):
    """A Leaflet control at the bottom right holding the legend HTML."""

    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
{{ this.get_name() }}.onAdd = function (map) {
    var div = L.DomUtil.create('div', 'cultcov-legend');
    div.style.cssText = 'background: rgba(255,255,255,0.92); padding: 6px 9px; '
        + 'border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,0.3); '
        + 'font: 12px/1.45 sans-serif; color: #222; max-width: 230px;';
    div.innerHTML = {{ this.body_html|tojson }};
    L.DomEvent.disableClickPropagation(div);
    return div;
};
{{ this.get_name() }}.addTo({{ this._parent.get_name() }});
{% endmacro %}
""")

    def __init__(self, body_html: str, *, position: str = "bottomright"):
        super().__init__()
        self._name = "Legend"
        self.body_html = body_html
        self.position = position


def _legend_gradient(label: str, cmap: str | Sequence[str], vmin: float, vmax: float) -> str:
    return (f'<div style="margin-top:4px"><b>{html_text(label)}</b>'
            f'<div style="height:10px;width:180px;background:{_css_gradient(cmap)};'
            'border:1px solid #999"></div>'
            '<div style="display:flex;justify-content:space-between;width:182px">'
            f"<span>{_fmt(vmin)}</span><span>{_fmt(vmax)}</span></div></div>")


def _swatch(colour: str, label: str, *, shape: str = "circle") -> str:
    if shape == "circle":
        mark = (f'<span style="display:inline-block;width:11px;height:11px;border-radius:50%;'
                f'background:{colour};border:1.5px solid #fff;box-shadow:0 0 0 1px #555;'
                'margin-right:6px;vertical-align:-1px"></span>')
    elif shape == "star":
        mark = _star_svg(14, colour).replace("<svg ", '<svg style="vertical-align:-2px;'
                                             'margin-right:4px" ')
    elif shape == "hatch":
        stripes = (f"repeating-linear-gradient(135deg,{colour} 0 2px,transparent 2px 5px)")
        mark = (f'<span style="display:inline-block;width:13px;height:10px;background:{stripes};'
                'margin-right:6px;vertical-align:-1px;border:1px solid #999"></span>')
    else:
        mark = (f'<span style="display:inline-block;width:13px;height:10px;background:{colour};'
                'margin-right:6px;vertical-align:-1px;border:1px solid #999"></span>')
    return f"<div>{mark}{html_text(label)}</div>"


def _star_svg(size: int, colour: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
            'viewBox="0 0 24 24"><path d="M12 1.8l3.1 6.6 7.2.9-5.3 5 1.4 7.1L12 17.9l-6.4 '
            '3.5 1.4-7.1-5.3-5 7.2-.9z" '
            f'fill="{colour}" stroke="#222" stroke-width="1.4"/></svg>')


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if abs(v) >= 100 or v == int(v):
            return f"{v:,.0f}"
        return f"{v:,.2f}" if abs(v) >= 1 else f"{v:.3g}"
    return str(value)


# --------------------------------------------------------------------------
# build_map
# --------------------------------------------------------------------------


def _check_frame(pc: ProblemCollector, name: str, gdf: Any, *, required: bool,
                 geom_types: Iterable[str]) -> bool:
    if gdf is None:
        if required:
            pc.add(f"`{name}` is required.", fix=f"pass a GeoDataFrame as `{name}`.")
        return False
    if not isinstance(gdf, gpd.GeoDataFrame):
        pc.add(f"`{name}` is a {type(gdf).__name__}, not a GeoDataFrame.",
               fix="convert it with geopandas.GeoDataFrame(..., geometry=..., crs=...).")
        return False
    if gdf.crs is None:
        pc.add(f"`{name}` has no CRS.", file=name,
               fix=f"set it, e.g. {name}.set_crs('EPSG:32648').")
        return False
    if not gdf.empty:
        kinds = set(gdf.geometry.dropna().geom_type)
        bad = kinds - set(geom_types)
        if bad:
            pc.add(f"`{name}` has {', '.join(sorted(bad))} geometries.", file=name,
                   fix=f"pass only {' or '.join(geom_types)} geometries.")
            return False
    return True


def _feature_data(props: pd.DataFrame, geometry: gpd.GeoSeries) -> dict:
    """GeoJSON of ``props`` (WGS84 ``geometry``) with every shown value HTML-escaped.

    folium's tooltips and popups place property values and aliases in the
    page with ``innerHTML``; escaped values show as the text they are.
    ``f_fill`` (a colour read by the style function) is left as it is.
    """
    shown = pd.DataFrame({c: props[c] if c == "f_fill" else props[c].map(html_text)
                          for c in props.columns}, index=props.index)
    data = gpd.GeoDataFrame(shown, geometry=geometry, crs=WGS84)
    return json.loads(data.to_json(drop_id=True))


def _html_list(labels: Sequence[str]) -> list[str]:
    return [html_text(v) for v in labels]


def _label_column(df: pd.DataFrame, lang: str) -> pd.Series:
    zh = df["name"].astype("string") if "name" in df else pd.Series(pd.NA, index=df.index,
                                                                     dtype="string")
    en = df["name_en"].astype("string") if "name_en" in df else pd.Series(
        pd.NA, index=df.index, dtype="string")
    zh = zh.mask(zh.str.strip() == "")
    en = en.mask(en.str.strip() == "")
    first, second = (en, zh) if lang == "en" else (zh, en)
    return first.fillna(second).fillna("–")


def build_map(
    *,
    boundaries: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame | None = None,
    grid: gpd.GeoDataFrame | None = None,
    grid_column: str = "pop",
    grid_label: str | None = None,
    grid_cmap: str | Sequence[str] = "YlOrRd",
    grid_vmin: float | None = None,
    grid_vmax: float | None = None,
    uncovered: gpd.GeoDataFrame | None = None,
    proposals: gpd.GeoDataFrame | None = None,
    catchments: gpd.GeoDataFrame | None = None,
    choropleth_column: str | None = None,
    choropleth_cmap: str | Sequence[str] = "OrRd",
    district_fields: Mapping[str, str] | None = None,
    raster: GridRaster | None = None,
    basemap: str = "offline",
    basemap_layers: Mapping[str, gpd.GeoDataFrame] | None = None,
    tianditu_key: str | None = None,
    lang: str = "zh",
    center: tuple[float, float] | None = None,
    zoom: int = 13,
) -> folium.Map:
    """Build the interactive map of a study area.

    Layers from bottom to top: basemap, population (or any grid value) as a
    raster overlay, uncovered cells, district boundaries (optionally filled by
    an indicator), existing facilities coloured by type, proposed sites as
    stars. A legend and a layer switcher are added.

    Parameters
    ----------
    boundaries
        District polygons (``unit_id``, ``name``, ``name_en``, ``pop``, …) in a
        projected CRS. The tooltip shows name, population and every column
        whose name mentions deficit, shortfall, gap, coverage or ``per_``.
    facilities
        Facility points with ``type``, ``name``, ``name_en``; optional
        ``capacity`` and ``floor_area_m2`` appear in the tooltip.
    grid
        Grid cells (polygons) drawn as one PNG image overlay.
    grid_column
        Column of ``grid`` to draw (default ``"pop"``).
    grid_label
        Legend title of the grid layer; default "residents per cell".
    grid_cmap, grid_vmin, grid_vmax
        Colour map and value range of the grid overlay (see :func:`grid_to_png`).
    uncovered
        Cells (polygons) or points not covered by any facility, drawn as a
        translucent red raster (polygons) or small red dots (points).
    proposals
        Proposed sites (points). The popup shows ``name`` (if any) and the
        newly covered residents from the first present column among
        ``new_pop_covered``, ``pop_new``, ``newly_covered_pop``, ``pop_gain``.
    catchments
        Polygons of the area each facility serves as the nearest one
        (:func:`coverage.workflow.catchment_areas`), coloured by ``load_flag``
        (overloaded, serves many, normal, serves few); the tooltip names the
        facility and its residents.
    choropleth_column
        Numeric column of ``boundaries`` to fill districts by.
    choropleth_cmap
        Colour map of the district fill.
    district_fields
        Columns of ``boundaries`` to show in the district tooltip (after name
        and population) with their labels, in order, instead of the columns
        picked by name; the choropleth legend uses the label too.
    raster
        A :class:`GridRaster` of the grid (see :func:`grid_raster`) reused for
        the grid and uncovered overlays, so a redraw needs no resampling.
        Ignored when built for another grid or another ``gcj`` setting.
    basemap
        ``"offline"`` (default, no network), ``"tianditu"`` (needs
        ``tianditu_key``), ``"amap"`` (GCJ-02: every data layer is shifted
        to GCJ-02 for display) or ``"osm"``.
    basemap_layers
        Offline basemap layers as returned by :func:`load_basemap`; default
        the embedded Chengdu basemap.
    tianditu_key
        Tianditu browser key (``tk``) for ``basemap="tianditu"``.
    lang
        ``"zh"`` (default) or ``"en"`` for labels, tooltips and legend.
    center
        ``(lat, lon)`` of the initial view; default the centre of the grid,
        else of the facilities, else of the boundaries.
    zoom
        Initial zoom level.

    Returns
    -------
    folium.Map
        A map whose scripts and styles are all inlined (see
        :func:`external_asset_urls`).

    Raises
    ------
    InputError
        Listing every problem with the arguments at once.
    """
    pc = ProblemCollector()
    if basemap not in BASEMAPS:
        pc.add(f"`basemap` = {basemap!r} is not supported.",
               fix=f"use one of {', '.join(map(repr, BASEMAPS))}.")
    if basemap == "tianditu" and not tianditu_key:
        pc.add("`tianditu_key` is required for basemap='tianditu'.",
               fix="pass your Tianditu browser key (tk) or use basemap='offline'.")
    if lang not in LANGS:
        pc.add(f"`lang` = {lang!r} is not supported.", fix=f"use one of {', '.join(LANGS)}.")
    polygons = ("Polygon", "MultiPolygon")
    ok_b = _check_frame(pc, "boundaries", boundaries, required=True, geom_types=polygons)
    ok_f = _check_frame(pc, "facilities", facilities, required=False, geom_types=("Point",))
    ok_g = _check_frame(pc, "grid", grid, required=False, geom_types=polygons)
    ok_u = _check_frame(pc, "uncovered", uncovered, required=False,
                        geom_types=polygons + ("Point",))
    ok_p = _check_frame(pc, "proposals", proposals, required=False, geom_types=("Point",))
    ok_c = _check_frame(pc, "catchments", catchments, required=False, geom_types=polygons)
    if ok_g and grid_column not in grid.columns:
        pc.add(f"`grid_column` = {grid_column!r} is not a column of `grid`.",
               column=grid_column,
               fix=f"use one of {', '.join(map(str, grid.columns.drop(grid.geometry.name)))}.")
        ok_g = False
    if ok_b and choropleth_column is not None:
        if choropleth_column not in boundaries.columns:
            pc.add(f"`choropleth_column` = {choropleth_column!r} is not a column of "
                   "`boundaries`.", column=choropleth_column,
                   fix=f"use one of {', '.join(map(str, boundaries.columns))}.")
        elif not pd.api.types.is_numeric_dtype(boundaries[choropleth_column]):
            pc.add(f"`choropleth_column` = {choropleth_column!r} is not numeric.",
                   column=choropleth_column, fix="pass a numeric column.")
    if center is not None:
        try:
            lat_c, lon_c = (float(v) for v in center)
            if not (-90 <= lat_c <= 90 and -180 <= lon_c <= 180):
                raise ValueError
        except (TypeError, ValueError):
            pc.add(f"`center` = {center!r} is not (lat, lon) in degrees.",
                   fix="pass e.g. center=(30.69, 104.08).")
    pc.raise_if_any()
    gcj = basemap == "amap"

    # Initial view.
    if center is None:
        ref = next((g for g, ok in ((grid, ok_g), (facilities, ok_f), (boundaries, ok_b))
                    if ok and not g.empty), boundaries)
        x0, y0, x1, y1 = ref.to_crs(WGS84).total_bounds
        center = ((y0 + y1) / 2, (x0 + x1) / 2)
        if gcj:
            lon_c, lat_c = _gcj_function()(center[1], center[0])
            center = (float(lat_c), float(lon_c))
    m = new_offline_map(center=(float(center[0]), float(center[1])), zoom=zoom,
                        control_scale=True)
    legend: list[str] = []

    if basemap == "offline":
        layers = basemap_layers if basemap_layers is not None else (
            load_basemap() if default_basemap_path().exists() else {})
        _add_offline_basemap(m, layers, lang)
    else:
        _add_tiles(m, basemap, tianditu_key=tianditu_key, lang=lang)

    # Rasters sit in their own pane between the basemap tiles (200) and the
    # vector overlays (400), so districts and markers always stay on top.
    raster_pane = "cultcov_raster"
    if (ok_g and not grid.empty) or (ok_u and not uncovered.empty):
        folium.map.CustomPane(raster_pane, z_index=350, pointer_events=False).add_to(m)

    # Grid raster.
    if ok_g and not grid.empty:
        values = grid[grid_column].to_numpy(dtype=float)
        finite = values[np.isfinite(values)]
        vmin = grid_vmin if grid_vmin is not None else (float(finite.min()) if finite.size else 0)
        vmax = grid_vmax if grid_vmax is not None else (float(finite.max()) if finite.size else 1)
        png, bounds = grid_to_png(grid, grid_column, cmap=grid_cmap, vmin=vmin, vmax=vmax,
                                  gcj=gcj, raster=_usable(raster, grid, gcj))
        label = grid_label or (t("grid_pop_label", lang) if grid_column == "pop" else grid_column)
        folium.raster_layers.ImageOverlay(
            image=_data_uri(png, "image/png"), bounds=bounds, opacity=0.7,
            name=html_text(label), pixelated=True, interactive=False, zindex=2, pane=raster_pane,
        ).add_to(m)
        legend.append(_legend_gradient(label, grid_cmap, vmin, vmax))

    # Uncovered.
    if ok_u and not uncovered.empty:
        label = t("layer_uncovered", lang)
        if set(uncovered.geom_type) <= {"Point"}:
            frame = _display_frame(uncovered, gcj=gcj)
            group = folium.FeatureGroup(name=html_text(label))
            folium.GeoJson(
                json.loads(frame[[frame.geometry.name]].to_json(drop_id=True)),
                marker=folium.CircleMarker(radius=2, weight=0, fill=True,
                                           fill_color=UNCOVERED_COLOUR, fill_opacity=0.8),
                interactive=False, control=False).add_to(group)
            group.add_to(m)
        else:
            # Stripes in a colour the population ramp does not use: both stay readable.
            mark = uncovered.assign(_one=1.0)
            png, bounds = grid_to_png(mark, "_one", cmap=[UNCOVERED_COLOUR, UNCOVERED_COLOUR],
                                      vmin=0.0, vmax=1.0, gcj=gcj,
                                      raster=_usable(raster, mark, gcj), hatch_px=6)
            folium.raster_layers.ImageOverlay(
                image=_data_uri(png, "image/png"), bounds=bounds, opacity=0.8,
                name=html_text(label), pixelated=True, interactive=False, zindex=3,
                pane=raster_pane).add_to(m)
        legend.append(_swatch(UNCOVERED_COLOUR, label, shape="hatch"))

    # Catchments.
    if ok_c and not catchments.empty:
        _add_catchments(m, catchments, lang=lang, gcj=gcj, legend=legend)

    # Boundaries.
    if ok_b and not boundaries.empty:
        _add_boundaries(m, boundaries, lang=lang, gcj=gcj, choropleth_column=choropleth_column,
                        choropleth_cmap=choropleth_cmap, legend=legend,
                        fields=district_fields)

    # Names of districts, roads and places on the offline basemap.
    if basemap == "offline":
        _add_labels(m, basemap_labels(layers, boundaries if ok_b else None, lang=lang))

    # Facilities.
    if ok_f and not facilities.empty:
        _add_facilities(m, facilities, lang=lang, gcj=gcj, legend=legend)

    # Proposals.
    if ok_p and not proposals.empty:
        _add_proposals(m, proposals, lang=lang, gcj=gcj, legend=legend)

    if legend:
        _Legend(f"<b>{html_text(t('legend', lang))}</b>" + "".join(legend)).add_to(m)
    folium.LayerControl(collapsed=True, position="topright").add_to(m)

    leaked = external_asset_urls(m)
    if leaked:  # pragma: no cover - guards against future folium defaults
        raise RuntimeError("the map would load assets from the network: " + ", ".join(leaked))
    return m


#: Catchment fill by load: overloaded, serves many, normal, serves few.
CATCHMENT_COLOURS = {"overloaded": "#d7301f", "high": "#fc8d59", "ok": "#41ab5d", "low": "#969696"}


def _add_catchments(m: folium.Map, catchments: gpd.GeoDataFrame, *, lang: str, gcj: bool,
                    legend: list[str]) -> None:
    frame = _display_frame(catchments, gcj=gcj, simplify_m=5.0)
    flags = (frame["load_flag"].astype(str) if "load_flag" in frame
             else pd.Series("ok", index=frame.index)).where(lambda f: f.isin(list(CATCHMENT_COLOURS)), "ok")
    props = pd.DataFrame(index=frame.index)
    props["f_name"] = _label_column(frame, lang).fillna(frame["facility_id"].astype(str))
    props["f_pop"] = frame["pop"].map(lambda v: _fmt(round(float(v))))
    aliases = [t("name", lang), t("rp_pop_nearest", lang)]
    if "pop_within" in frame:
        props["f_within"] = frame["pop_within"].map(lambda v: _fmt(round(float(v))))
        aliases.append(t("rp_pop_within", lang))
    props["f_load"] = [t(f"rp_flag_{f}", lang) for f in flags]
    aliases.append(t("rp_load", lang))
    props["f_fill"] = [CATCHMENT_COLOURS[f] for f in flags]
    fields = [c for c in props.columns if c != "f_fill"]
    folium.GeoJson(
        _feature_data(props, frame.geometry), name=html_text(t("layer_catchments", lang)),
        style_function=lambda f: {"color": f["properties"]["f_fill"], "weight": 1.0,
                                  "fillColor": f["properties"]["f_fill"], "fillOpacity": 0.35},
        highlight_function=lambda _f: {"weight": 2.5, "fillOpacity": 0.55},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=_html_list(aliases), sticky=True),
        zoom_on_click=False,
    ).add_to(m)
    for flag, colour in CATCHMENT_COLOURS.items():
        if (flags == flag).any():
            sep = "：" if lang == "zh" else ": "
            legend.append(_swatch(colour, t("layer_catchments", lang) + sep + t(f"rp_flag_{flag}", lang),
                                  shape="square"))


def _usable(raster: GridRaster | None, frame: gpd.GeoDataFrame, gcj: bool) -> GridRaster | None:
    """``raster`` if it can draw ``frame`` with this ``gcj`` setting, else None."""
    if raster is None or raster.gcj != gcj or not raster.covers(frame):
        return None
    return raster


def _add_boundaries(m: folium.Map, boundaries: gpd.GeoDataFrame, *, lang: str, gcj: bool,
                    choropleth_column: str | None, choropleth_cmap: str | Sequence[str],
                    legend: list[str], fields: Mapping[str, str] | None = None) -> None:
    frame = _display_frame(boundaries, gcj=gcj, simplify_m=10.0)
    props = pd.DataFrame(index=frame.index)
    aliases: list[str] = []
    props["f_name"] = _label_column(frame, lang)
    aliases.append(t("name", lang))
    shown = ["pop", "pop_census"]
    labels: dict[str, str] = {}
    if fields is not None:
        labels = {str(k): str(v) for k, v in fields.items() if k in frame.columns}
        extra = [c for c in labels if c not in shown]
    else:
        extra = [c for c in frame.columns
                 if c not in shown and c != frame.geometry.name
                 and _DISTRICT_EXTRA.search(str(c)) and pd.api.types.is_numeric_dtype(frame[c])]
    if choropleth_column and choropleth_column not in shown + extra:
        extra.insert(0, choropleth_column)
    for i, col in enumerate([c for c in shown if c in frame.columns] + extra):
        props[f"f{i}"] = frame[col].map(_fmt)
        aliases.append(t(col, lang) if col in ("pop", "pop_census")
                       else labels.get(col, str(col)))
    fill: dict[Any, str] = {}
    if choropleth_column:
        vals = frame[choropleth_column].to_numpy(dtype=float)
        finite = vals[np.isfinite(vals)]
        vmin = float(finite.min()) if finite.size else 0.0
        vmax = float(finite.max()) if finite.size else 1.0
        rgba = colorize(vals, cmap=choropleth_cmap, vmin=vmin, vmax=vmax)
        for idx, (r, g, b, a) in zip(frame.index, rgba):
            fill[idx] = "#%02x%02x%02x" % (r, g, b) if a else ""
        legend.append(_legend_gradient(labels.get(choropleth_column, str(choropleth_column)),
                                       choropleth_cmap, vmin, vmax))
    props["f_fill"] = [fill.get(i, "") for i in frame.index]
    fields = [c for c in props.columns if c != "f_fill"]

    def style(feature: dict) -> dict:
        colour = feature["properties"].get("f_fill") or ""
        return {"color": "#4a4a6a", "weight": 2.0, "dashArray": "6 4",
                "fillColor": colour or "#000000", "fillOpacity": 0.45 if colour else 0.0}

    folium.GeoJson(
        _feature_data(props, frame.geometry), name=t("layer_boundaries", lang),
        style_function=style,
        highlight_function=lambda _f: {"weight": 3.5, "color": "#222244"},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=_html_list(aliases), sticky=True),
        zoom_on_click=False,
    ).add_to(m)


def public_mask(facilities: pd.DataFrame) -> np.ndarray:
    """Public facilities (no ``public`` column, or a missing value, counts as public)."""
    if "public" not in facilities.columns:
        return np.ones(len(facilities), dtype=bool)
    from .workflow import _is_public

    return _is_public(facilities["public"]).to_numpy(bool)


def _add_facilities(m: folium.Map, facilities: gpd.GeoDataFrame, *, lang: str, gcj: bool,
                    legend: list[str]) -> None:
    frame = _display_frame(facilities, gcj=gcj)
    types = (frame["type"].astype("string").fillna("other") if "type" in frame
             else pd.Series("other", index=frame.index, dtype="string"))
    # Non-public facilities (e.g. university libraries) count for no standard, so they get
    # their own legend entry instead of the public type's.
    public = public_mask(frame)
    types = types.where(public, NONPUBLIC_PREFIX + types)
    order = [tp for tp in FACILITY_TYPES if (types == tp).any()]
    order += [NONPUBLIC_PREFIX + tp for tp in FACILITY_TYPES if (types == NONPUBLIC_PREFIX + tp).any()]
    order += sorted(set(types) - set(order))
    group = folium.FeatureGroup(name=t("layer_facilities", lang))
    for tp in order:
        part = frame[(types == tp).to_numpy()]
        colour = FACILITY_COLOURS.get(tp, NONPUBLIC_COLOUR if tp.startswith(NONPUBLIC_PREFIX)
                                      else FACILITY_COLOURS["other"])
        label = facility_type_label(tp, lang)
        props = pd.DataFrame({"f_name": _label_column(part, lang),
                              "f_type": label}, index=part.index)
        fields, aliases = ["f_name", "f_type"], [t("name", lang), t("type", lang)]
        for col in ("capacity", "floor_area_m2"):
            if col in part and part[col].notna().any():
                props[f"f_{col}"] = part[col].map(
                    lambda v: _fmt(v) if pd.notna(v) else t("unknown", lang))
                fields.append(f"f_{col}")
                aliases.append(t(col, lang))
        folium.GeoJson(
            _feature_data(props, part.geometry), name=label,
            marker=folium.CircleMarker(radius=6, weight=1.5, color="#ffffff", fill=True,
                                       fill_color=colour, fill_opacity=0.95),
            style_function=lambda _f, c=colour: {"fillColor": c, "color": "#ffffff"},
            tooltip=folium.GeoJsonTooltip(fields=fields, aliases=_html_list(aliases)),
            control=False,
        ).add_to(group)
        legend.append(_swatch(colour, label))
    group.add_to(m)


def _add_proposals(m: folium.Map, proposals: gpd.GeoDataFrame, *, lang: str, gcj: bool,
                   legend: list[str]) -> None:
    frame = _display_frame(proposals, gcj=gcj)
    props = pd.DataFrame(index=frame.index)
    props["f_name"] = (_label_column(frame, lang) if ("name" in frame or "name_en" in frame)
                       else [f"{t('proposal', lang)} {i + 1}" for i in range(len(frame))])
    fields, aliases = ["f_name"], [t("name", lang)]
    pop_col = next((c for c in _PROPOSAL_POP_COLUMNS if c in frame.columns), None)
    if pop_col is not None:
        props["f_pop"] = frame[pop_col].map(_fmt)
        fields.append("f_pop")
        aliases.append(t("new_pop_covered", lang))
    icon = folium.DivIcon(html=_star_svg(22, "#e6007e"), icon_size=(22, 22),
                          icon_anchor=(11, 11), class_name="cultcov-proposal")
    folium.GeoJson(
        _feature_data(props, frame.geometry), name=t("layer_proposals", lang),
        marker=folium.Marker(icon=icon),
        popup=folium.GeoJsonPopup(fields=fields, aliases=_html_list(aliases)),
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=_html_list(aliases)),
    ).add_to(m)
    legend.append(_swatch("#e6007e", t("layer_proposals", lang), shape="star"))
