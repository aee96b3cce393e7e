"""Travel times, coverage, catchments and equity on a road network.

The road network of one travel mode is turned once into a sparse matrix of
edge travel times (:class:`TravelGraph`); every question is then answered by
``scipy.sparse.csgraph.dijkstra`` over all places at once:

* :func:`nearest_facility` -- time from every population cell to its
  nearest facility (one multi-source Dijkstra);
* :func:`coverage_summary`, :func:`uncovered_cells` -- population within
  5/10/15 minutes per unit and overall;
* :func:`isochrones` -- areas within given times of facilities or points;
* :func:`catchment_population`, :func:`two_step_fca` -- nearest-facility
  allocation and (enhanced) two-step floating catchment area access;
* :func:`equity` -- coverage of older residents and children and where the
  worst-served residents live;
* :func:`reach_matrix`, :func:`travel_time_matrix` -- origin-destination
  travel times for siting models.

Places (cells, facilities, candidate sites) are snapped to the nearest node
of the mode's network; the straight-line leg to that node is walked at the
walking speed and added to the time.  A place farther than
``TravelSettings.max_snap_m`` from every road of the mode is *unreachable*:
it gets no time (NaN) and the reason is listed.  Residents travel *from*
home *to* the facility, which matters on one-way streets (drive, bike).

All coordinates are metres in the network's CRS, all times seconds.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field, replace
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra
from pykdtree.kdtree import KDTree
from threadpoolctl import ThreadpoolController

from coverage._chains import Contraction, contract, min_csr, nearest_sources
from coverage.errors import InputError, Problem, ProblemCollector
from coverage.network import MODES, RoadNetwork

__all__ = [
    "DEFAULT_DRIVE_KMH",
    "TravelSettings",
    "TravelGraph",
    "travel_graph",
    "edge_speeds_kmh",
    "SnappedPoints",
    "snap_points",
    "nearest_facility",
    "travel_time_matrix",
    "reach_matrix",
    "coverage_summary",
    "uncovered_cells",
    "isochrones",
    "catchment_population",
    "facility_catchments",
    "FCAResult",
    "fca_from_matrix",
    "two_step_fca",
    "EquityResult",
    "equity",
]

#: Congestion-aware urban driving speeds (km/h) per OSM road class, central Chengdu.
DEFAULT_DRIVE_KMH: Mapping[str, float] = MappingProxyType({
    "motorway": 60.0, "motorway_link": 40.0,
    "trunk": 40.0, "trunk_link": 30.0,
    "primary": 35.0, "primary_link": 25.0,
    "secondary": 30.0, "secondary_link": 25.0,
    "tertiary": 25.0, "tertiary_link": 20.0,
    "residential": 20.0, "unclassified": 20.0, "road": 20.0,
    "living_street": 10.0, "service": 15.0,
})

_DRIVE_SPEED_SOURCES = ("table", "maxspeed", "osmnx")
_DIRECTIONS = ("to_source", "from_source")
_DECAYS = ("none", "step", "gaussian")
#: Dense Dijkstra output is computed in chunks of at most this many cells.
_CHUNK_CELLS = 20_000_000
#: Snapping at least this many places is sorted along a Z-order curve first.
_ORDERED_QUERIES = 5_000
#: Snapping at least this many places runs the search in a second thread, so
#: that independent work (a Dijkstra) can go on meanwhile.
_OVERLAP_QUERIES = 20_000
#: Fewer queries than this run on one OpenMP thread: on a busy machine the
#: threads of a small parallel search wait for a core longer than the search takes.
_PARALLEL_QUERIES = 20_000


def _positive(name: str, value: float) -> None:
    try:
        ok = float(value) > 0 and math.isfinite(float(value))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InputError(f"`{name}` = {value!r} must be a positive number.",
                         fix=f"pass `{name}` > 0.")


@dataclass(frozen=True)
class TravelSettings:
    """Speeds and snapping rules for travel-time calculations.

    Parameters
    ----------
    walk_kmh
        Walking speed (also used for the off-network leg of every mode).
    bike_kmh
        Cycling speed on every cyclable street.
    elderly_walk_kmh
        Walking speed of older residents, used by :meth:`elderly`.
    drive_kmh
        Driving speed per OSM road class (see :data:`DEFAULT_DRIVE_KMH`).
    drive_default_kmh
        Driving speed of road classes missing from ``drive_kmh``.
    drive_speeds
        ``"table"``: ``drive_kmh`` only; ``"maxspeed"``: the tagged speed
        limit capped at ``maxspeed_cap_kmh`` where tagged, else the table;
        ``"osmnx"``: osmnx's imputation (tagged limit where tagged, else the
        mean tagged limit of the road class, else the mean over classes; the
        table when nothing is tagged).
    maxspeed_cap_kmh
        Cap on tagged limits for ``drive_speeds="maxspeed"``.
    max_snap_m
        Places farther than this from every road of the mode are unreachable.
    """

    walk_kmh: float = 4.5
    bike_kmh: float = 12.0
    elderly_walk_kmh: float = 3.6
    drive_kmh: Mapping[str, float] = field(default_factory=lambda: DEFAULT_DRIVE_KMH)
    drive_default_kmh: float = 20.0
    drive_speeds: str = "table"
    maxspeed_cap_kmh: float = 60.0
    max_snap_m: float = 500.0

    def __post_init__(self) -> None:
        for name in ("walk_kmh", "bike_kmh", "elderly_walk_kmh", "drive_default_kmh",
                     "maxspeed_cap_kmh", "max_snap_m"):
            _positive(name, getattr(self, name))
        for k, val in dict(self.drive_kmh).items():
            _positive(f"drive_kmh[{k!r}]", val)
        if self.drive_speeds not in _DRIVE_SPEED_SOURCES:
            raise InputError(
                f"`drive_speeds` = {self.drive_speeds!r} is not known.",
                fix=f"use one of {', '.join(repr(s) for s in _DRIVE_SPEED_SOURCES)}.")
        object.__setattr__(self, "drive_kmh", MappingProxyType(dict(self.drive_kmh)))

    @property
    def walk_mps(self) -> float:
        """Walking speed in metres per second."""
        return self.walk_kmh / 3.6

    def elderly(self) -> "TravelSettings":
        """These settings with ``walk_kmh`` set to ``elderly_walk_kmh``."""
        return replace(self, walk_kmh=self.elderly_walk_kmh)


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise InputError(f"`mode` = {mode!r} is not a travel mode.",
                         fix=f"use one of {', '.join(repr(m) for m in MODES)}.")


def edge_speeds_kmh(network: RoadNetwork, mode: str,
                    settings: TravelSettings | None = None) -> np.ndarray:
    """Speed in km/h of every edge of ``network`` for ``mode``.

    Parameters
    ----------
    network
        The road network.
    mode
        ``"walk"``, ``"bike"`` or ``"drive"``.
    settings
        Speeds; defaults to :class:`TravelSettings()`.

    Returns
    -------
    numpy.ndarray
        One speed per edge (also for edges the mode cannot use).
    """
    _check_mode(mode)
    s = settings or TravelSettings()
    n = network.n_edges
    if mode == "walk":
        return np.full(n, s.walk_kmh)
    if mode == "bike":
        return np.full(n, s.bike_kmh)
    hw = pd.Series(network.highway, dtype=object)
    table = hw.map(dict(s.drive_kmh)).astype(float).fillna(s.drive_default_kmh).to_numpy()
    tagged = network.maxspeed_kmh
    if s.drive_speeds == "table":
        return table
    if s.drive_speeds == "maxspeed":
        return np.where(np.isnan(tagged), table, np.minimum(tagged, s.maxspeed_cap_kmh))
    m = network.drive
    if not np.isfinite(tagged[m]).any():
        return table
    df = pd.DataFrame({"hw": hw[m].to_numpy(), "kmh": tagged[m]})
    means = df.groupby("hw")["kmh"].mean()
    means = means.fillna(means.mean())
    imputed = hw.map(means).astype(float).to_numpy()
    imputed = np.where(np.isnan(imputed), means.mean(), imputed)
    return np.where(np.isnan(tagged), imputed, tagged)


@dataclass(frozen=True, eq=False)
class TravelGraph:
    """One mode's network as sparse travel-time matrices, built once.

    Build it with :func:`travel_graph`.

    Attributes
    ----------
    network
        The road network.
    mode
        ``"walk"``, ``"bike"`` or ``"drive"``.
    settings
        Speeds and snapping rules used.
    time_s
        Travel time of every network edge in seconds (NaN for edges the mode
        cannot use).
    matrix
        ``n_nodes x n_nodes`` CSR matrix, entry ``[a, b]`` = time from node
        ``a`` to node ``b`` along one edge (the fastest of parallel edges).
    matrix_t
        Its transpose (CSR), for times *to* a set of places.
    nodes
        Indices of the nodes in the mode's network (snap targets).
    max_speed_mps
        Largest straight-line distance covered per second on any edge: no
        place farther than ``t * max_speed_mps`` metres is reachable within
        ``t`` seconds (used to search only near the sources; ``inf`` when an
        edge takes no time).
    """

    network: RoadNetwork
    mode: str
    settings: TravelSettings
    time_s: np.ndarray
    matrix: sp.csr_matrix
    matrix_t: sp.csr_matrix
    nodes: np.ndarray
    max_speed_mps: float
    _tree: "_PointIndex" = field(repr=False)
    _chains: Contraction = field(repr=False)
    _islands: "_PointIndex | None" = field(repr=False, default=None)

    @property
    def crs(self) -> str:
        """The network's metric CRS."""
        return self.network.crs

    @property
    def n_nodes(self) -> int:
        """Number of nodes (of the whole network; matrix size)."""
        return self.network.n_nodes

    def snap(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest mode node (index) and distance in metres for each point.

        Points without finite coordinates get node -1 and distance ``inf``.
        """
        node, dist, _ = self._snap_while(xy, None)
        return node, dist

    def _snap_while(self, xy: np.ndarray, meanwhile: Callable[[], Any] | None
                    ) -> tuple[np.ndarray, np.ndarray, Any]:
        """:meth:`snap`, also running ``meanwhile()`` (its value is returned third).

        For many points the tree search runs in a second thread (it releases
        the GIL) while ``meanwhile`` runs in this one.
        """
        xy = np.ascontiguousarray(np.asarray(xy, float).reshape(-1, 2))
        ok = np.isfinite(xy.view(np.complex128)[:, 0]) if len(xy) else np.ones(0, bool)
        all_ok = bool(ok.all())
        q = None if all_ok else np.flatnonzero(ok)
        m = len(xy) if all_ok else q.size
        if m == 0:
            extra = meanwhile() if meanwhile is not None else None
            return np.full(len(xy), -1, np.int64), np.full(len(xy), np.inf), extra
        if m >= _ORDERED_QUERIES:  # spatially coherent queries are much faster
            order = _zorder(xy if all_ok else np.take(xy, q, axis=0))
            q = order if all_ok else q[order]
        pts = xy if q is None else np.take(xy, q, axis=0)
        if meanwhile is not None and m >= _OVERLAP_QUERIES:
            job = _Background(self._tree.query, pts)
            try:
                extra = meanwhile()
            finally:
                d, i = job.result()
        else:
            d, i = self._tree.query(pts)
            extra = meanwhile() if meanwhile is not None else None
        if q is None:
            return self.nodes[i], d, extra
        if all_ok:  # q is a permutation: every entry is written
            node, dist = np.empty(len(xy), np.int64), np.empty(len(xy))
        else:
            node, dist = np.full(len(xy), -1, np.int64), np.full(len(xy), np.inf)
        node[q] = self.nodes[i]
        dist[q] = d
        return node, dist, extra

    def to_networkx(self):
        """The mode's network as an osmnx-style MultiDiGraph with ``time_s`` on edges."""
        return self.network.to_networkx(self.mode, weight=self.time_s, weight_name="time_s")


def travel_graph(network: RoadNetwork, mode: str = "walk",
                 settings: TravelSettings | None = None, *,
                 elderly: bool = False) -> TravelGraph:
    """Build the travel-time graph of one mode.

    Parameters
    ----------
    network
        The road network (:func:`coverage.network.load_network`).
    mode
        ``"walk"``, ``"bike"`` or ``"drive"``.
    settings
        Speeds and snapping rules; defaults to :class:`TravelSettings()`.
    elderly
        Use ``settings.elderly_walk_kmh`` as the walking speed (walk mode and
        every off-network leg).

    Returns
    -------
    TravelGraph
    """
    _check_mode(mode)
    if not isinstance(network, RoadNetwork):
        raise InputError(f"`network` is a {type(network).__name__}, not a RoadNetwork.",
                         fix="load it with coverage.network.load_network().")
    s = settings or TravelSettings()
    if elderly:
        s = s.elderly()
    mask = network.edge_mask(mode)
    if not mask.any():
        raise InputError(f"The network has no edges usable for `mode` = {mode!r}.",
                         fix="use another mode or a network with such roads.")
    kmh = edge_speeds_kmh(network, mode, s)
    time_s = np.where(mask, network.length_m / (kmh / 3.6), np.nan)
    n = network.n_nodes
    u, v, t = network.u[mask], network.v[mask], time_s[mask]
    matrix = min_csr(u, v, t, n)  # the fastest of parallel edges
    matrix_t = min_csr(v, u, t, n)
    nodes = np.flatnonzero(network.node_mask(mode))
    tree = _PointIndex(np.column_stack([network.x[nodes], network.y[nodes]]))
    isl = np.flatnonzero(network.islands[mode])
    islands = _PointIndex(np.column_stack([network.x[isl], network.y[isl]])) if isl.size else None
    crow = np.hypot(network.x[u] - network.x[v], network.y[u] - network.y[v])
    moving = crow > 0
    if (t[moving] <= 0).any():
        vmax = math.inf
    else:
        vmax = float((crow[moving] / t[moving]).max()) if moving.any() else 0.0
    time_s.setflags(write=False)
    return TravelGraph(network=network, mode=mode, settings=s, time_s=time_s,
                       matrix=matrix, matrix_t=matrix_t, nodes=nodes,
                       max_speed_mps=vmax, _tree=tree, _chains=contract(matrix, matrix_t),
                       _islands=islands)


class _PointIndex:
    """Exact nearest-neighbour search over fixed points (a k-d tree).

    The tree (pykdtree, multi-threaded queries) is rebuilt after unpickling.
    """

    def __init__(self, xy: np.ndarray) -> None:
        self.xy = np.ascontiguousarray(xy, dtype=float)
        self._tree = KDTree(self.xy, leafsize=16)

    def __getstate__(self) -> dict:
        return {"xy": self.xy}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["xy"])

    def query(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distance to and index of the nearest point, for every row of ``pts``."""
        pts = np.ascontiguousarray(pts, dtype=float)
        if len(pts) >= _PARALLEL_QUERIES:
            d, i = self._tree.query(pts, k=1)
        else:
            with _openmp_threads().limit(limits=1, user_api="openmp"):
                d, i = self._tree.query(pts, k=1)
        return d, i.astype(np.int64)


@lru_cache(maxsize=1)
def _openmp_threads() -> ThreadpoolController:
    """The process's thread pools (found once; limiting them later is cheap)."""
    return ThreadpoolController()


def _morton(xy: np.ndarray, cell_m: float = 50.0) -> np.ndarray:
    """Z-order key of points on a grid of ``cell_m`` (for a spatially coherent order)."""
    def spread(v: np.ndarray) -> np.ndarray:
        v = v & 0xFFFF
        v = (v | (v << 8)) & 0x00FF00FF
        v = (v | (v << 4)) & 0x0F0F0F0F
        v = (v | (v << 2)) & 0x33333333
        return (v | (v << 1)) & 0x55555555

    lo = xy.min(axis=0)
    ij = ((xy - lo) / cell_m).astype(np.int64)
    return spread(ij[:, 0]) | (spread(ij[:, 1]) << 1)


def _spread_table() -> np.ndarray:
    """Bits of every byte spread to the even bit positions of 16 bits."""
    v = np.arange(256, dtype=np.uint16)
    v = (v | (v << 4)) & 0x0F0F
    v = (v | (v << 2)) & 0x3333
    return (v | (v << 1)) & 0x5555


_SPREAD = _spread_table()


def _zorder(xy: np.ndarray) -> np.ndarray:
    """Order of points along a Z-order curve over a 256 x 256 grid of their extent.

    Neighbouring points end up close together, so that successive k-d tree
    searches touch the same tree nodes (one stable 16-bit radix sort).
    """
    x, y = xy[:, 0], xy[:, 1]
    x0, y0 = x.min(), y.min()
    sx = max(float(x.max() - x0), 1e-9) / 255.999
    sy = max(float(y.max() - y0), 1e-9) / 255.999
    i = ((x - x0) / sx).astype(np.uint8)
    j = ((y - y0) / sy).astype(np.uint8)
    key = np.take(_SPREAD, i) | (np.take(_SPREAD, j) << 1)
    return np.argsort(key, kind="stable")


def _csr(rows: np.ndarray, cols: np.ndarray, data: np.ndarray,
         shape: tuple[int, int]) -> sp.csr_matrix:
    """CSR from entries sorted by row (then column); explicit zeros are kept."""
    indptr = np.zeros(shape[0] + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=shape[0]), out=indptr[1:])
    m = sp.csr_matrix((np.asarray(data, float), np.asarray(cols), indptr), shape=shape)
    m.has_sorted_indices = True
    return m


# ---------------------------------------------------------------------------
# places


def _points_xy(obj: Any, crs: str, name: str) -> tuple[np.ndarray, pd.Index]:
    """Coordinates (n, 2) in ``crs`` and the index of ``obj``."""
    import geopandas as gpd

    if isinstance(obj, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if obj.crs is not None and not _same_crs(obj.crs, crs):
            geom = obj.geometry.to_crs(crs) if isinstance(obj, gpd.GeoDataFrame) \
                else obj.to_crs(crs)
            pts = geom if _all_points(geom) else geom.representative_point()
            return _point_coords(pts), obj.index
        if isinstance(obj, gpd.GeoDataFrame) and "x" in obj.columns and "y" in obj.columns:
            return _xy_columns(obj), obj.index
        geom = obj.geometry
        if len(geom) and _all_points(geom):
            return _point_coords(geom), obj.index
        return _point_coords(geom.centroid), obj.index
    if isinstance(obj, pd.DataFrame):
        if "x" in obj.columns and "y" in obj.columns:
            return _xy_columns(obj), obj.index
        raise InputError(f"`{name}` has no `x`/`y` columns or geometry.",
                         fix="pass a GeoDataFrame or a table with x/y metre columns.")
    arr = np.asarray(obj, float)
    if arr.ndim == 1 and arr.size == 2:
        arr = arr.reshape(1, 2)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise InputError(f"`{name}` has shape {arr.shape}; expected (n, 2) x/y coordinates.",
                         fix="pass an array of x, y metres or a GeoDataFrame.")
    return arr, pd.RangeIndex(len(arr))


def _xy_columns(frame: pd.DataFrame) -> np.ndarray:
    """(n, 2) float array of the ``x``/``y`` columns (without building a sub-frame)."""
    out = np.empty((len(frame), 2), float)
    out[:, 0] = frame["x"].to_numpy(float)
    out[:, 1] = frame["y"].to_numpy(float)
    return out


def _all_points(geom: Any) -> bool:
    """Whether every geometry of a GeoSeries is a Point (missing ones are not)."""
    import shapely

    return bool((shapely.get_type_id(np.asarray(geom.array)) == 0).all())


def _point_coords(pts: Any) -> np.ndarray:
    """(n, 2) x/y of a GeoSeries of points (NaN for empty or missing ones)."""
    import shapely

    arr = np.asarray(pts.array)
    empty = shapely.is_empty(arr)
    if empty.any():
        out = np.full((len(arr), 2), np.nan)
        full = arr[~empty]
        out[~empty] = np.column_stack([shapely.get_x(full), shapely.get_y(full)])
        return out
    return np.column_stack([shapely.get_x(arr), shapely.get_y(arr)])


def _same_crs(a: Any, b: Any) -> bool:
    import pyproj

    try:
        return pyproj.CRS.from_user_input(a) == pyproj.CRS.from_user_input(b)
    except pyproj.exceptions.CRSError:
        return str(a) == str(b)


@dataclass(frozen=True, eq=False)
class SnappedPoints:
    """Places snapped to one travel graph, reusable across analyses.

    Make it with :func:`snap_points` and pass it wherever places are taken
    (``cells``, ``facilities``, ``sources``, ``targets``): snapping a large
    grid once saves most of the time of repeated nearest-facility runs.

    Attributes
    ----------
    node
        Node index per place, -1 when unreachable.
    snap_m
        Straight-line distance to that node in metres.
    snap_s
        Walking time to that node in seconds.
    ok
        Whether the place is within ``max_snap_m`` of the mode's network.
    reason_code
        Per place, the position of its reason in ``reasons`` (0: reachable).
    reasons
        The distinct reasons; ``reasons[0]`` is ``""``.
    index
        The index of the places given.
    ids
        Facility ids when the places were a facilities table, else ``None``.
    key
        Identifies the travel graph the places were snapped to.
    """

    node: np.ndarray
    snap_m: np.ndarray
    snap_s: np.ndarray
    ok: np.ndarray
    reason_code: np.ndarray
    reasons: tuple[str, ...] = ("",)
    index: pd.Index | None = None
    ids: np.ndarray | None = None
    key: tuple = ()

    def __len__(self) -> int:
        return int(self.node.shape[0])

    @property
    def reason(self) -> np.ndarray:
        """Why each place is unreachable (``""`` when it is not), as an object array."""
        return np.asarray(self.reasons, object)[self.reason_code]

    def frame(self) -> pd.DataFrame:
        """The snapping as a table: ``node``, ``snap_m``, ``snap_s``, ``reachable``, ``reason``."""
        return pd.DataFrame({"node": self.node, "snap_m": self.snap_m,
                             "snap_s": np.where(self.ok, self.snap_s, np.nan),
                             "reachable": self.ok,
                             "reason": _str_column(self.reasons, self.reason_code)},
                            index=self.index if self.index is not None
                            else pd.RangeIndex(len(self)))


def _graph_key(graph: TravelGraph) -> tuple:
    return (id(graph.network), graph.mode, graph.settings.walk_kmh, graph.settings.max_snap_m)


def _places(graph: TravelGraph, obj: Any, name: str) -> SnappedPoints:
    """Snap ``obj`` (or check an already snapped one) for ``graph``."""
    return _places_while(graph, obj, name, None)[0]


def _places_while(graph: TravelGraph, obj: Any, name: str,
                  meanwhile: Callable[[], Any] | None) -> tuple[SnappedPoints, Any]:
    """:func:`_places`, also running ``meanwhile()`` (see ``TravelGraph._snap_while``)."""
    if isinstance(obj, SnappedPoints):
        if obj.key != _graph_key(graph):
            raise InputError(
                f"`{name}` was snapped to another travel graph (mode, network or speeds "
                "differ).", fix=f"snap it again with snap_points(graph, ...) for this graph.")
        return obj, (meanwhile() if meanwhile is not None else None)
    xy, index = _points_xy(obj, graph.crs, name)
    sn, extra = _snap(graph, xy, meanwhile)
    ids = None
    if isinstance(obj, pd.DataFrame) and "facility_id" in obj.columns:
        ids = obj["facility_id"].astype(str).to_numpy()
    return replace(sn, index=index, ids=ids), extra


def _snap(graph: TravelGraph, xy: np.ndarray,
          meanwhile: Callable[[], Any] | None = None) -> tuple[SnappedPoints, Any]:
    """Places at ``xy`` snapped to ``graph``, with the value of ``meanwhile()``."""
    node, dist, extra = graph._snap_while(xy, meanwhile)
    s = graph.settings
    ok = dist <= s.max_snap_m
    code = np.zeros(len(xy), np.int32)
    reasons = [""]
    bad = np.flatnonzero(~ok)
    if bad.size:
        finite = np.isfinite(xy[bad]).all(axis=1)
        if not finite.all():
            reasons.append("no coordinates")
            code[bad[~finite]] = len(reasons) - 1
        fb = bad[finite]
        if fb.size:
            reasons.append(f"no {graph.mode} road of the main network within "
                           f"{s.max_snap_m:g} m")
            code[fb] = len(reasons) - 1
            if graph._islands is not None:
                d_isl, _ = graph._islands.query(xy[fb])
                for k in np.flatnonzero(d_isl <= s.max_snap_m):
                    reasons.append(
                        f"the nearest road ({d_isl[k]:.0f} m away) is on a part of the "
                        f"{graph.mode} network that is disconnected from the main network, "
                        f"and no road of the main network is within {s.max_snap_m:g} m")
                    code[fb[k]] = len(reasons) - 1
        node = np.where(ok, node, -1)
        dist = np.where(np.isfinite(dist), dist, np.nan)
    return SnappedPoints(node, dist, dist / s.walk_mps, ok, code, tuple(reasons),
                         key=_graph_key(graph)), extra


def snap_points(graph: TravelGraph, points: Any) -> SnappedPoints:
    """Snap places to the nearest node of the mode's network, once.

    Parameters
    ----------
    graph
        The mode's travel graph.
    points
        A GeoDataFrame (``x``/``y`` columns or geometry), a DataFrame with
        ``x``/``y`` columns, or an ``(n, 2)`` array of metres.

    Returns
    -------
    SnappedPoints
        Reusable with ``graph`` in :func:`nearest_facility`,
        :func:`reach_matrix` and :func:`travel_time_matrix`;
        ``.frame()`` gives ``node``, ``snap_m``, ``snap_s``, ``reachable``
        and ``reason`` indexed like ``points``.
    """
    return _places(graph, points, "points")


def _facility_ids(facilities: Any, id_column: str) -> np.ndarray:
    if isinstance(facilities, pd.DataFrame) and id_column in facilities.columns:
        return facilities[id_column].astype(str).to_numpy()
    if isinstance(facilities, pd.DataFrame):
        return np.asarray(facilities.index.astype(str))
    return np.arange(len(np.asarray(facilities, float).reshape(-1, 2))).astype(str)


def _arrow_str_dtype() -> Any:
    """pandas' default string dtype when it stores Arrow large strings, else ``None``."""
    arr = pd.Series(["a"]).array
    if isinstance(arr, pd.arrays.ArrowStringArray) and pa.types.is_large_string(
            arr._pa_array.type):
        return arr.dtype
    return None


_ARROW_STR = _arrow_str_dtype()


def _str_column(values: Any, code: np.ndarray) -> Any:
    """``values[code]`` (missing where ``code`` is -1) as a column, built by code.

    Gives the column pandas infers from the equivalent object array, without
    converting one Python string per row.
    """
    cats = np.asarray(values, object).tolist()
    if _ARROW_STR is not None and all(type(v) is str for v in cats):
        codes = np.asarray(code, np.int64)
        if cats == [""] * len(cats) and (codes >= 0).all():  # all empty: no copying
            arr = pa.LargeStringArray.from_buffers(
                len(codes), pa.py_buffer(np.zeros(len(codes) + 1, np.int64)), pa.py_buffer(b""))
            return pd.arrays.ArrowStringArray(pa.chunked_array([arr]), dtype=_ARROW_STR)
        missing = codes < 0
        idx = pa.array(codes, mask=missing) if missing.any() else codes
        taken = pa.array(cats, type=pa.large_string()).take(idx)
        return pd.arrays.ArrowStringArray(taken, dtype=_ARROW_STR)
    return np.append(np.asarray(cats, object), None)[code]


def nearest_facility(graph: TravelGraph, cells: Any, facilities: Any, *,
                     id_column: str = "facility_id") -> pd.DataFrame:
    """Travel time from every cell to its nearest facility.

    One multi-source Dijkstra from all facilities over the reversed graph
    (residents travel from home to the facility); each facility starts with
    its own off-network walking time.

    Parameters
    ----------
    graph
        The mode's travel graph.
    cells
        Population cells (GeoDataFrame with ``x``/``y`` or geometry, an
        ``(n, 2)`` array, or :class:`SnappedPoints` from :func:`snap_points`).
    facilities
        Facilities (GeoDataFrame with ``facility_id``, an ``(m, 2)`` array
        whose row numbers become the ids, or :class:`SnappedPoints`).
    id_column
        Column holding the facility ids.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``cells``: ``time_s`` (NaN when unreachable),
        ``facility_id`` (missing when unreachable), ``reachable``, ``snap_m``
        and ``reason`` (``""`` when reachable).  ``attrs["problems"]`` lists
        facilities that could not be placed on the network.
    """
    fsn = _places(graph, facilities, "facilities")
    if len(fsn) == 0:
        raise InputError("`facilities` is empty.", fix="pass at least one facility.")
    if isinstance(facilities, pd.DataFrame) and id_column in facilities.columns:
        fids = facilities[id_column].astype(str).to_numpy()
    elif fsn.ids is not None:
        fids = fsn.ids
    else:
        fids = np.arange(len(fsn)).astype(str)
    freason = fsn.reason
    problems = [
        Problem(f"facility {fids[k]!r} cannot be placed on the {graph.mode} network: "
                f"{freason[k]}.", fix="check its coordinates, or use a larger network.",
                column=id_column)
        for k in np.flatnonzero(~fsn.ok)]
    good = np.flatnonzero(fsn.ok)
    # the search does not depend on the cells: it runs while they are snapped
    csn, found = _places_while(graph, cells, "cells",
                               (lambda: _facility_search(graph, fsn, good)) if good.size
                               else None)
    cindex = csn.index if csn.index is not None else pd.RangeIndex(len(csn))
    rcode = csn.reason_code
    reasons = list(csn.reasons)
    if found is None:
        time = np.full(len(csn), np.nan)
        code = np.full(len(csn), -1, np.int64)
        rcode = np.where(csn.ok, len(reasons), rcode)
        reasons.append("no facility can be placed on the network")
    else:
        dist, node_code = found  # node_code is -1 exactly where dist is inf
        if csn.ok.all():
            time = dist[csn.node] + csn.snap_s
            code = node_code[csn.node]
        else:
            time = np.full(len(csn), np.nan)
            code = np.full(len(csn), -1, np.int64)
            ci = np.flatnonzero(csn.ok)
            time[ci] = dist[csn.node[ci]] + csn.snap_s[ci]
            code[ci] = node_code[csn.node[ci]]
        lost = np.flatnonzero(csn.ok & (code < 0))
        time[lost] = np.nan
        if lost.size:
            rcode = rcode.copy()
            rcode[lost] = len(reasons)
            reasons.append("no facility can be reached from here")
    # fresh arrays go in without a copy; the snapping's own one only if made here
    snap_m = csn.snap_m if csn is not cells else csn.snap_m.copy()
    out = pd.DataFrame({"time_s": time, "facility_id": _str_column(fids, code),
                        "reachable": np.isfinite(time), "snap_m": snap_m,
                        "reason": _str_column(reasons, rcode)}, index=cindex, copy=False)
    out.attrs["problems"] = problems
    return out


def _facility_search(graph: TravelGraph, fsn: SnappedPoints,
                     good: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Time from every node to its nearest placed facility, and that facility's position.

    One multi-source Dijkstra over the reversed graph (with its pass-through
    nodes contracted), each facility starting with its off-network walking
    time; unreached nodes get ``inf`` and -1.
    """
    dist, which = nearest_sources(graph._chains, fsn.node[good], fsn.snap_s[good])
    return dist, np.where(which >= 0, good[np.maximum(which, 0)], -1)


class _Background:
    """``fn(*args)`` in a separate thread (compiled searches release the GIL)."""

    def __init__(self, fn, *args: Any) -> None:
        self._value: Any = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._value = fn(*args)
            except BaseException as exc:  # re-raised in the caller's thread
                self._error = exc

        self._thread = threading.Thread(target=run, name="coverage-search", daemon=True)
        self._thread.start()

    def result(self) -> Any:
        """Wait for the computation; its value, or its exception raised here."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def _node_groups(node: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Members of each node: (counts per node, start per node, member order)."""
    ok = node >= 0
    idx = np.flatnonzero(ok)
    order = idx[np.argsort(node[ok], kind="stable")]
    counts = np.bincount(node[ok], minlength=n)
    starts = np.zeros(n, np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    return counts, starts, order


def _expand(keys: np.ndarray, counts: np.ndarray, starts: np.ndarray,
            order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each entry with group ``keys[i]``, one row per group member.

    Returns (entry index, member) arrays.
    """
    c = counts[keys]
    rep = np.repeat(np.arange(keys.size), c)
    first = np.cumsum(c) - c
    offs = np.arange(rep.size) - np.repeat(first, c)
    return rep, order[np.repeat(starts[keys], c) + offs]


def _od_entries(graph: TravelGraph, ssn: SnappedPoints, tsn: SnappedPoints, limit_s: float | None,
                direction: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (source, target, time) pairs with time <= limit (all finite if None)."""
    if direction not in _DIRECTIONS:
        raise InputError(f"`direction` = {direction!r} is not known.",
                         fix=f"use one of {', '.join(repr(d) for d in _DIRECTIONS)}.")
    M = graph.matrix_t if direction == "to_source" else graph.matrix
    net = graph.network
    n = graph.n_nodes
    s_counts, s_starts, s_order = _node_groups(ssn.node, n)
    t_counts, t_starts, t_order = _node_groups(tsn.node, n)
    src_nodes = np.flatnonzero(s_counts)
    has_t = t_counts > 0
    lim = np.inf if limit_s is None else float(limit_s)
    radius = lim * graph.max_speed_mps if graph.max_speed_mps > 0 else 0.0
    extent = max(float(np.ptp(net.x)), float(np.ptp(net.y)), 1.0)
    local = math.isfinite(radius) and radius < 0.25 * extent and src_nodes.size > 1
    if local:
        # nearby sources together; each block searches only the nodes that can be
        # reached at all: those within `radius` (straight line) of the block
        src_nodes = src_nodes[np.argsort(_morton(np.c_[net.x[src_nodes], net.y[src_nodes]],
                                                 cell_m=max(radius / 4, 1.0)), kind="stable")]
        chunk = 16
    else:
        chunk = max(1, _CHUNK_CELLS // max(n, 1))
    S, T, D = [], [], []
    for a in range(0, src_nodes.size, chunk):
        block = src_nodes[a:a + chunk]
        if local:
            bx, by = net.x[block], net.y[block]
            sel = np.flatnonzero((net.x >= bx.min() - radius) & (net.x <= bx.max() + radius)
                                 & (net.y >= by.min() - radius) & (net.y <= by.max() + radius))
            pos = np.searchsorted(sel, block)
            sub = M[sel][:, sel]
            dist = dijkstra(sub, directed=True, indices=pos, limit=lim)
            r, c = np.nonzero(np.isfinite(dist) & has_t[sel][None, :])
            d = dist[r, c]
            c = sel[c]
        else:
            dist = dijkstra(M, directed=True, indices=block, limit=lim)
            r, c = np.nonzero(np.isfinite(dist) & has_t[None, :])
            d = dist[r, c]
        del dist
        # expand to targets at node c, then to sources at node block[r]
        e1, tg = _expand(c, t_counts, t_starts, t_order)
        r1, d1 = r[e1], d[e1]
        e2, sc = _expand(block[r1], s_counts, s_starts, s_order)
        tg2, d2 = tg[e2], d1[e2]
        total = d2 + ssn.snap_s[sc] + tsn.snap_s[tg2]
        keep = total <= lim
        S.append(sc[keep])
        T.append(tg2[keep])
        D.append(total[keep])
    if not S:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(S), np.concatenate(T), np.concatenate(D)


def travel_time_matrix(graph: TravelGraph, origins: Any, destinations: Any, *,
                       limit_s: float | None = None) -> np.ndarray:
    """Dense travel times from every origin to every destination.

    Parameters
    ----------
    graph
        The mode's travel graph.
    origins, destinations
        Places (GeoDataFrame, DataFrame with ``x``/``y``, ``(n, 2)`` array or
        :class:`SnappedPoints`).
    limit_s
        Only times up to this many seconds are computed (others are NaN).

    Returns
    -------
    numpy.ndarray
        ``(n_origins, n_destinations)`` seconds, NaN where unreachable
        (including places farther than ``max_snap_m`` from the network).
    """
    if limit_s is not None:
        _positive("limit_s", limit_s)
    osn = _places(graph, origins, "origins")
    dsn = _places(graph, destinations, "destinations")
    # sources = destinations, residents travel from origin to destination
    s, t, d = _od_entries(graph, dsn, osn, limit_s, "to_source")
    out = np.full((len(osn), len(dsn)), np.nan)
    out[t, s] = d
    return out


def reach_matrix(graph: TravelGraph, sources: Any, targets: Any, threshold_s: float, *,
                 orientation: str = "targets_by_sources",
                 direction: str = "to_source") -> sp.csr_matrix:
    """Sparse travel times between candidate sites and cells within a threshold.

    Parameters
    ----------
    graph
        The mode's travel graph.
    sources
        Candidate sites or facilities: a GeoDataFrame / ``(k, 2)`` array of
        coordinates, :class:`SnappedPoints`, or a 1-D integer array of
        network node indices (placed exactly on the node, no off-network
        leg).
    targets
        Demand places (population cells): coordinates as for ``sources`` or
        :class:`SnappedPoints`.
    threshold_s
        Largest travel time kept, in seconds (> 0).
    orientation
        ``"targets_by_sources"`` (default; demand x candidate, shape
        ``(n_targets, n_sources)``, the layout siting models take) or
        ``"sources_by_targets"`` (shape ``(n_sources, n_targets)``).
    direction
        ``"to_source"`` (default): time for a resident to travel from the
        target to the source; ``"from_source"``: the other way round (same
        on the walk network).

    Returns
    -------
    scipy.sparse.csr_matrix
        Travel times in seconds, stored only for pairs within
        ``threshold_s``.  **A stored entry means "reachable"** -- the
        sparsity pattern is the reach mask and an entry may be an explicit
        ``0.0`` (a cell at the very node of a site).  Use
        ``m.indptr``/``m.indices`` (or ``m.copy()`` with ``data[:] = 1``)
        for the mask, never ``m != 0`` or ``m.toarray() > 0``; avoid
        operations that drop explicit zeros (``eliminate_zeros``, sums of
        matrices).  Sites or cells that cannot be placed on the network have
        empty rows/columns.
    """
    _positive("threshold_s", threshold_s)
    if orientation not in ("targets_by_sources", "sources_by_targets"):
        raise InputError(f"`orientation` = {orientation!r} is not known.",
                         fix="use 'targets_by_sources' or 'sources_by_targets'.")
    src_arr = sources if isinstance(sources, np.ndarray) else None
    if src_arr is not None and src_arr.ndim == 1 and np.issubdtype(src_arr.dtype, np.integer):
        nodes = src_arr.astype(np.int64)
        if nodes.size and (nodes.min() < 0 or nodes.max() >= graph.n_nodes):
            raise InputError("`sources` holds node indices outside the network.",
                             fix=f"use indices in 0..{graph.n_nodes - 1}.")
        in_mode = graph.network.node_mask(graph.mode)[nodes]
        ssn = SnappedPoints(np.where(in_mode, nodes, -1), np.zeros(nodes.size),
                            np.zeros(nodes.size), in_mode, np.zeros(nodes.size, np.int32))
    else:
        ssn = _places(graph, sources, "sources")
    tsn = _places(graph, targets, "targets")
    s, t, d = _od_entries(graph, ssn, tsn, threshold_s, direction)
    if orientation == "targets_by_sources":
        rows, cols, shape = t, s, (len(tsn), len(ssn))
    else:
        rows, cols, shape = s, t, (len(ssn), len(tsn))
    order = np.argsort(rows * np.int64(shape[1]) + cols)
    return _csr(rows[order], cols[order], d[order], shape)


# ---------------------------------------------------------------------------
# coverage


def _check_thresholds(thresholds_min: Iterable[float], name: str = "thresholds_min"
                      ) -> list[float]:
    if isinstance(thresholds_min, (int, float)):
        thresholds_min = [thresholds_min]
    out = [float(t) for t in thresholds_min]
    if not out:
        raise InputError(f"`{name}` is empty.", fix="pass e.g. (5, 10, 15).")
    for t in out:
        if not (t > 0 and math.isfinite(t)):
            raise InputError(f"`{name}` contains {t:g}; every threshold must be > 0 minutes.",
                             fix="use positive minutes, e.g. (5, 10, 15).")
    return out


def _times_for(grid: pd.DataFrame, times: Any) -> np.ndarray:
    """Travel times (s) aligned with ``grid``'s rows, NaN when unreachable."""
    if isinstance(times, pd.DataFrame):
        if "time_s" not in times.columns:
            raise InputError("`times` has no `time_s` column.",
                             fix="pass the result of nearest_facility().")
        ser = times["time_s"]
    elif isinstance(times, pd.Series):
        ser = times
    else:
        arr = np.asarray(times, float)
        if arr.shape != (len(grid),):
            raise InputError(f"`times` has {arr.size} values for {len(grid)} cells.",
                             fix="pass one time per cell, in the grid's order.")
        return arr
    if len(ser) != len(grid) or not ser.index.equals(grid.index):
        raise InputError("`times` is not indexed like `grid`.",
                         fix="compute the times for this grid "
                             "(nearest_facility(graph, grid, ...)).")
    return ser.to_numpy(float)


def _pop(grid: pd.DataFrame, pop: str) -> np.ndarray:
    if pop not in grid.columns:
        raise InputError(f"`grid` has no `{pop}` column.",
                         fix="pass `pop=` with the population column.")
    p = grid[pop].to_numpy(float)
    bad = ~np.isfinite(p) | (p < 0)
    if bad.any():
        pc = ProblemCollector(file="grid")
        for i in np.flatnonzero(bad)[:20]:
            pc.add(f"population {p[i]!r} in cell {grid.index[i]!r} is not a count >= 0",
                   column=pop, fix="use 0 for empty cells.")
        pc.raise_if_any()
    return p


def coverage_summary(grid: pd.DataFrame, times: Any,
                     thresholds_min: Sequence[float] = (5, 10, 15), *,
                     by: str | None = "unit_id", pop: str = "pop") -> pd.DataFrame:
    """Population covered within each travel-time threshold, per unit and overall.

    Parameters
    ----------
    grid
        Population cells with a ``pop`` column and the ``by`` column.
    times
        :func:`nearest_facility` result (or a Series/array of seconds)
        aligned with ``grid``; unreachable cells (NaN) count as uncovered.
    thresholds_min
        Thresholds in minutes (> 0).
    by
        Column grouping cells into units (``None``: overall only).
    pop
        Population column.

    Returns
    -------
    pandas.DataFrame
        One row per (unit, threshold) plus ``unit = "all"`` rows: columns
        ``unit``, ``threshold_min``, ``pop_total``, ``pop_covered``,
        ``pop_uncovered``, ``share_covered``, ``share_uncovered``,
        ``cells_uncovered``.  ``pop_covered + pop_uncovered == pop_total``
        holds exactly (``pop_total`` is defined as that sum).
    """
    thr = _check_thresholds(thresholds_min)
    t = _times_for(grid, times)
    p = _pop(grid, pop)
    if by is not None and by not in grid.columns:
        raise InputError(f"`grid` has no `{by}` column.", fix="pass `by=None` or a column name.")
    units = (grid[by].astype(object).where(grid[by].notna(), "(none)").astype(str).to_numpy()
             if by is not None else np.full(len(grid), "all", object))
    rows = []
    for tm in thr:
        cov = np.isfinite(t) & (t <= tm * 60.0)
        df = pd.DataFrame({"unit": units, "cov": np.where(cov, p, 0.0),
                           "unc": np.where(cov, 0.0, p), "cu": (~cov).astype(int)})
        parts = [df.groupby("unit", sort=True)[["cov", "unc", "cu"]].sum()] if by else []
        parts.append(pd.DataFrame({"cov": [math.fsum(df["cov"])], "unc": [math.fsum(df["unc"])],
                                   "cu": [int(df["cu"].sum())]}, index=["all"]))
        g = pd.concat(parts)
        g = g[~g.index.duplicated(keep="last")]
        for unit, r in g.iterrows():
            total = r["cov"] + r["unc"]
            rows.append({"unit": unit, "threshold_min": tm, "pop_total": total,
                         "pop_covered": r["cov"], "pop_uncovered": r["unc"],
                         "share_covered": r["cov"] / total if total > 0 else np.nan,
                         "share_uncovered": r["unc"] / total if total > 0 else np.nan,
                         "cells_uncovered": int(r["cu"])})
    return pd.DataFrame(rows)


def uncovered_cells(grid: pd.DataFrame, times: Any, threshold_min: float, *,
                    pop: str = "pop") -> pd.DataFrame:
    """The cells not covered within ``threshold_min`` (a layer for the map).

    Returns
    -------
    (Geo)DataFrame
        A copy of the uncovered rows of ``grid`` (same index, ``pop`` kept)
        with ``time_s`` (NaN when unreachable) and, when ``times`` is a
        :func:`nearest_facility` result, its ``reachable`` and ``reason``.
    """
    thr = _check_thresholds([threshold_min], "threshold_min")[0]
    t = _times_for(grid, times)
    _pop(grid, pop)
    unc = ~(np.isfinite(t) & (t <= thr * 60.0))
    out = grid.loc[unc].copy()
    out["time_s"] = t[unc]
    if isinstance(times, pd.DataFrame):
        for c in ("reachable", "reason"):
            if c in times.columns:
                out[c] = times[c].to_numpy()[unc]
    return out


# ---------------------------------------------------------------------------
# isochrones


def isochrones(graph: TravelGraph, sources: Any,
               thresholds_min: Sequence[float] = (5, 10, 15), *,
               facilities: Any = None, id_column: str = "facility_id",
               direction: str = "to_source", buffer_m: float = 50.0,
               method: str = "buffer"):
    """Areas within given travel times of facilities or points.

    Parameters
    ----------
    graph
        The mode's travel graph.
    sources
        A facilities GeoDataFrame (ids from ``id_column``), an ``(n, 2)``
        array of x/y metres (ids ``"0"``, ``"1"``, ...), or a list of
        facility ids looked up in ``facilities``.
    thresholds_min
        Thresholds in minutes (> 0).
    facilities
        Facilities table, when ``sources`` is a list of ids.
    id_column
        Facility id column.
    direction
        ``"to_source"`` (default: from where the source can be reached) or
        ``"from_source"`` (where one can get from the source).
    buffer_m
        Width added on each side of the reached streets (``> 0``).
    method
        ``"buffer"``: reached street segments (partly reached edges cut at
        the remaining time) buffered by ``buffer_m`` and merged;
        ``"concave"``: concave hull of the reached points, buffered.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per (source, threshold): ``source_id``, ``threshold_min``,
        ``geometry`` (empty when the source cannot be placed on the network
        or nothing is reached), in the network's CRS.
    """
    import geopandas as gpd
    import shapely

    thr = _check_thresholds(thresholds_min)
    _positive("buffer_m", buffer_m)
    if method not in ("buffer", "concave"):
        raise InputError(f"`method` = {method!r} is not known.", fix="use 'buffer' or 'concave'.")
    if direction not in _DIRECTIONS:
        raise InputError(f"`direction` = {direction!r} is not known.",
                         fix=f"use one of {', '.join(repr(d) for d in _DIRECTIONS)}.")
    if isinstance(sources, (list, tuple)) and sources and isinstance(sources[0], str):
        if facilities is None or id_column not in getattr(facilities, "columns", []):
            raise InputError("`sources` lists facility ids but `facilities` is not given.",
                             fix=f"pass `facilities=` with a `{id_column}` column.")
        known = facilities[id_column].astype(str)
        missing = [s for s in sources if s not in set(known)]
        if missing:
            raise InputError(f"`sources` has unknown facility ids {missing}.",
                             fix=f"use ids from facilities[{id_column!r}].")
        sub = facilities.loc[known.isin(sources).to_numpy()]
        sub = sub.set_index(known[known.isin(sources)].to_numpy()).loc[list(sources)]
        xy, _ = _points_xy(sub, graph.crs, "sources")
        ids = np.asarray(list(sources), object)
    else:
        xy, _ = _points_xy(sources, graph.crs, "sources")
        ids = _facility_ids(sources, id_column)
    sn, _ = _snap(graph, xy)
    M = graph.matrix_t if direction == "to_source" else graph.matrix
    net = graph.network
    em = net.edge_mask(graph.mode)
    eu, ev, et = net.u[em], net.v[em], graph.time_s[em]
    # along the travel direction of the search the edge starts at `a` and ends at `b`
    a, b = (ev, eu) if direction == "to_source" else (eu, ev)
    rows = []
    tmax = max(thr) * 60.0
    for k in range(len(xy)):
        if not sn.ok[k]:
            for tm in thr:
                rows.append((ids[k], tm, shapely.Polygon()))
            continue
        dist = dijkstra(M, directed=True, indices=int(sn.node[k]),
                        limit=max(tmax - sn.snap_s[k], 0.0))
        for tm in thr:
            rem = tm * 60.0 - sn.snap_s[k] - dist
            ra = rem[a]
            reached = ra > 0
            if not reached.any():
                rows.append((ids[k], tm, shapely.Polygon()))
                continue
            frac = np.minimum(1.0, ra[reached] / np.where(et[reached] > 0, et[reached], 1.0))
            pa, pb = a[reached], b[reached]
            full = frac >= 1.0
            # one segment per street for fully reached edges (both directions coincide)
            lo, hi = np.minimum(pa, pb), np.maximum(pa, pb)
            keyf = lo[full] * net.n_nodes + hi[full]
            _, first = np.unique(keyf, return_index=True)
            fa, fb = lo[full][first], hi[full][first]
            x0 = np.r_[net.x[fa], net.x[pa[~full]]]
            y0 = np.r_[net.y[fa], net.y[pa[~full]]]
            f = frac[~full]
            x1 = np.r_[net.x[fb], net.x[pa[~full]] + f * (net.x[pb[~full]] - net.x[pa[~full]])]
            y1 = np.r_[net.y[fb], net.y[pa[~full]] + f * (net.y[pb[~full]] - net.y[pa[~full]])]
            if method == "buffer":
                lines = shapely.linestrings(np.stack([np.c_[x0, y0], np.c_[x1, y1]], axis=1))
                geom = shapely.union_all(shapely.buffer(lines, buffer_m, quad_segs=4))
            else:
                pts = shapely.multipoints(np.r_[np.c_[x0, y0], np.c_[x1, y1]])
                geom = shapely.buffer(shapely.concave_hull(pts, ratio=0.3), buffer_m,
                                      quad_segs=4)
            rows.append((ids[k], tm, geom))
    return gpd.GeoDataFrame({"source_id": [r[0] for r in rows],
                             "threshold_min": [r[1] for r in rows]},
                            geometry=[r[2] for r in rows], crs=graph.crs)


# ---------------------------------------------------------------------------
# catchments


def catchment_population(grid: pd.DataFrame, nearest: pd.DataFrame,
                         facilities: pd.DataFrame | None = None, *,
                         pop: str = "pop", id_column: str = "facility_id") -> pd.DataFrame:
    """Population each facility serves under nearest-facility allocation.

    Parameters
    ----------
    grid
        Population cells.
    nearest
        :func:`nearest_facility` result for ``grid``.
    facilities
        Optional facilities table; the result is then indexed like it (and
        facilities serving nobody get zeros).
    pop, id_column
        Population and facility-id columns.

    Returns
    -------
    pandas.DataFrame
        ``facility_id``, ``pop_served``, ``n_cells``, ``mean_time_s``
        (population-weighted) and ``max_time_s``; indexed like ``facilities``
        when given, else by facility id.  Unreachable cells are not
        allocated.
    """
    t = _times_for(grid, nearest)
    p = _pop(grid, pop)
    fid = nearest["facility_id"].to_numpy()
    ok = np.isfinite(t)
    df = pd.DataFrame({"facility_id": fid[ok].astype(str), "pop": p[ok], "tp": p[ok] * t[ok],
                       "t": t[ok]})
    g = df.groupby("facility_id").agg(pop_served=("pop", "sum"), n_cells=("pop", "size"),
                                      tp=("tp", "sum"), max_time_s=("t", "max"))
    g["mean_time_s"] = np.where(g["pop_served"] > 0, g["tp"] / g["pop_served"].where(
        g["pop_served"] > 0, 1.0), np.nan)
    g = g[["pop_served", "n_cells", "mean_time_s", "max_time_s"]]
    if facilities is None:
        out = g.copy()
        out.insert(0, "facility_id", out.index)
        return out
    ids = facilities[id_column].astype(str).to_numpy()
    out = g.reindex(ids)
    out["pop_served"] = out["pop_served"].fillna(0.0)
    out["n_cells"] = out["n_cells"].fillna(0).astype(int)
    out.insert(0, "facility_id", ids)
    out.index = facilities.index
    return out


def facility_catchments(graph: TravelGraph, grid: pd.DataFrame, facilities: pd.DataFrame,
                        threshold_s: float, *, nearest: pd.DataFrame | None = None, pop: str = "pop",
                        id_column: str = "facility_id") -> pd.DataFrame:
    """Residents and area each facility serves within a travel-time threshold.

    Two views: *nearest* (every cell goes to its nearest facility if that one
    is within the threshold, so the catchments do not overlap and their
    populations plus the uncovered residents add up to the total) and
    *within* (every cell within the threshold of a facility counts for it,
    so catchments overlap where residents have a choice).

    Parameters
    ----------
    graph
        The mode's travel graph.
    grid
        Population cells (``pop``; polygon geometry gives the areas, points
        or ``x``/``y`` give no area).
    facilities
        Facilities with ``id_column`` and Point geometry (or ``x``/``y``).
    threshold_s
        The threshold in seconds (> 0).
    nearest
        :func:`nearest_facility` of ``grid`` and ``facilities`` if already
        computed.
    pop, id_column
        Population and facility-id columns.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``facilities``: ``facility_id``, ``pop_nearest``,
        ``cells_nearest``, ``area_km2`` (area of the nearest-allocated cells,
        NaN without polygons), ``mean_time_s`` (population-weighted, nearest
        view), ``pop_within`` and ``cells_within`` (overlapping view).
        ``attrs`` holds ``uncovered_pop`` (residents with no facility within
        the threshold), ``total_pop`` and ``threshold_s``.
    """
    _positive("threshold_s", threshold_s)
    p = _pop(grid, pop)
    near = nearest if nearest is not None else nearest_facility(graph, grid, facilities, id_column=id_column)
    t = _times_for(grid, near)
    inside = np.isfinite(t) & (t <= threshold_s)
    ids = _facility_ids(facilities, id_column)
    code = pd.Index(ids).get_indexer(near["facility_id"].astype(object).where(inside, None).to_numpy())
    ok = inside & (code >= 0)
    m = len(ids)
    area = np.full(len(p), np.nan)
    geom = getattr(grid, "geometry", None)
    if hasattr(geom, "geom_type") and bool(geom.geom_type.isin(["Polygon", "MultiPolygon"]).all()):
        area = geom.area.to_numpy(float) / 1e6
    pop_nearest = np.bincount(code[ok], weights=p[ok], minlength=m)
    cells_nearest = np.bincount(code[ok], minlength=m)
    area_nearest = np.bincount(code[ok], weights=np.nan_to_num(area[ok]), minlength=m)
    tp = np.bincount(code[ok], weights=p[ok] * t[ok], minlength=m)
    reach = reach_matrix(graph, facilities, grid, threshold_s, orientation="sources_by_targets")
    counts = np.diff(reach.indptr)
    rows = np.repeat(np.arange(reach.shape[0]), counts)
    pop_within = np.bincount(rows, weights=p[reach.indices], minlength=m)
    out = pd.DataFrame({
        "facility_id": ids, "pop_nearest": pop_nearest, "cells_nearest": cells_nearest.astype(int),
        "area_km2": area_nearest if np.isfinite(area).all() else np.nan,
        "mean_time_s": np.where(pop_nearest > 0, tp / np.where(pop_nearest > 0, pop_nearest, 1.0), np.nan),
        "pop_within": pop_within, "cells_within": counts.astype(int),
    }, index=facilities.index)
    out.attrs.update(uncovered_pop=float(p[~ok].sum()), total_pop=float(p.sum()), threshold_s=float(threshold_s))
    return out


@dataclass(frozen=True)
class FCAResult:
    """Result of a two-step floating catchment area analysis.

    Attributes
    ----------
    cells
        Indexed like the grid: ``access`` (supply per resident summed over
        reachable facilities, weighted by distance decay; 0 where none is
        reachable) and ``n_facilities`` (facilities within the threshold).
    facilities
        Indexed like the facilities: ``supply``, ``demand`` (decay-weighted
        population within the threshold) and ``ratio`` (supply / demand;
        NaN when nobody is within reach).
    """

    cells: pd.DataFrame
    facilities: pd.DataFrame


def _decay_weights(t_s: np.ndarray, threshold_s: float, decay: str,
                   steps: Sequence[tuple[float, float]] | None) -> np.ndarray:
    if decay == "none":
        return np.ones_like(t_s)
    if decay == "gaussian":
        e = math.exp(-0.5)
        return (np.exp(-0.5 * (t_s / threshold_s) ** 2) - e) / (1 - e)
    if steps is None:
        steps = [(threshold_s / 60 / 3, 1.0), (2 * threshold_s / 60 / 3, 0.68),
                 (threshold_s / 60, 0.22)]
    w = np.zeros_like(t_s)
    done = np.zeros(t_s.shape, bool)
    for upper_min, weight in sorted(steps):
        sel = ~done & (t_s <= upper_min * 60.0)
        w[sel] = weight
        done |= sel
    return w


def fca_from_matrix(times: sp.spmatrix, supply: np.ndarray, demand: np.ndarray, *,
                    threshold_s: float, decay: str = "none",
                    steps: Sequence[tuple[float, float]] | None = None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two-step FCA from a demand x supply travel-time matrix.

    Parameters
    ----------
    times
        Sparse ``(n_demand, n_supply)`` times in seconds; a stored entry
        (even an explicit 0) means reachable (as from :func:`reach_matrix`).
    supply, demand
        Supply per facility and population per demand place.
    threshold_s
        Catchment size in seconds; entries above it are ignored.
    decay
        ``"none"`` (classic 2SFCA), ``"step"`` (enhanced 2SFCA with zone
        weights) or ``"gaussian"`` (Gaussian decay reaching 0 at the
        threshold).
    steps
        For ``decay="step"``: ``(upper bound in minutes, weight)`` per zone;
        default thirds of the threshold weighted 1.0, 0.68, 0.22.

    Returns
    -------
    access, ratio, weighted_demand : numpy.ndarray
        ``access[i] = sum_j w(t_ij) ratio[j]`` with
        ``ratio[j] = supply[j] / sum_i w(t_ij) demand[i]`` (NaN when the
        weighted demand is 0; such facilities add nothing).
    """
    _positive("threshold_s", threshold_s)
    if decay not in _DECAYS:
        raise InputError(f"`decay` = {decay!r} is not known.",
                         fix=f"use one of {', '.join(repr(d) for d in _DECAYS)}.")
    m = sp.coo_matrix(times)
    keep = m.data <= threshold_s
    r, c, t = m.row[keep], m.col[keep], m.data[keep]
    w = _decay_weights(t, threshold_s, decay, steps)
    supply = np.asarray(supply, float)
    demand = np.asarray(demand, float)
    wd = np.bincount(c, weights=w * demand[r], minlength=m.shape[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(wd > 0, supply / np.where(wd > 0, wd, 1.0), np.nan)
    contrib = w * np.nan_to_num(ratio[c])
    access = np.bincount(r, weights=contrib, minlength=m.shape[0])
    return access, ratio, wd


def two_step_fca(graph: TravelGraph, grid: pd.DataFrame, facilities: pd.DataFrame, *,
                 threshold_min: float = 15.0, supply: str = "floor_area_m2",
                 decay: str = "none", steps: Sequence[tuple[float, float]] | None = None,
                 pop: str = "pop", id_column: str = "facility_id") -> FCAResult:
    """Two-step floating catchment area (2SFCA) and enhanced 2SFCA access.

    Parameters
    ----------
    graph
        The mode's travel graph.
    grid
        Population cells with a ``pop`` column.
    facilities
        Facilities with the ``supply`` column.
    threshold_min
        Catchment size in minutes.
    supply
        ``"floor_area_m2"``, ``"capacity"`` (any numeric column) or
        ``"count"`` (each facility supplies 1).
    decay
        ``"none"`` (2SFCA), ``"step"`` (E2SFCA zones, see ``steps``) or
        ``"gaussian"``.
    steps
        Zones for ``decay="step"`` as ``(upper minutes, weight)``.
    pop, id_column
        Population and facility-id columns.

    Returns
    -------
    FCAResult
        ``cells.access`` is supply per resident (e.g. m² per resident).
    """
    thr = _check_thresholds([threshold_min], "threshold_min")[0]
    p = _pop(grid, pop)
    if supply == "count":
        sup = np.ones(len(facilities))
    else:
        if supply not in facilities.columns:
            raise InputError(f"`facilities` has no `{supply}` column for `supply`.",
                             fix="pass supply='count' or the name of a numeric column.")
        sup = pd.to_numeric(facilities[supply], errors="coerce").to_numpy(float)
        bad = ~np.isfinite(sup) | (sup < 0)
        if bad.any():
            pc = ProblemCollector(file="facilities")
            ids = _facility_ids(facilities, id_column)
            for i in np.flatnonzero(bad):
                pc.add(f"facility {ids[i]!r} has no usable {supply} "
                       f"({facilities[supply].iloc[i]!r})",
                       row=int(i) + 2, column=supply,
                       fix=f"fill in {supply}, or use supply='count'.")
            pc.raise_if_any()
    m = reach_matrix(graph, facilities, grid, thr * 60.0)
    access, ratio, wd = fca_from_matrix(m, sup, p, threshold_s=thr * 60.0, decay=decay,
                                        steps=steps)
    nfac = np.diff(m.indptr)
    cells = pd.DataFrame({"access": access, "n_facilities": nfac}, index=grid.index)
    fac = pd.DataFrame({"facility_id": _facility_ids(facilities, id_column), "supply": sup,
                        "demand": wd, "ratio": ratio}, index=facilities.index)
    return FCAResult(cells=cells, facilities=fac)


# ---------------------------------------------------------------------------
# equity


@dataclass(frozen=True)
class EquityResult:
    """Coverage by age group and the worst-served residents.

    Attributes
    ----------
    summary
        Rows per (group, unit, threshold): ``group`` (``"all"``,
        ``"age_65_plus"``, ``"age_0_14"``), ``unit`` (``"all"`` for the
        whole area), ``threshold_min``, ``pop_total``, ``pop_covered``,
        ``pop_uncovered``, ``share_covered``.
    worst_cells
        Copy of the grid rows holding the worst-served share of residents
        (longest travel times; unreachable first), with ``time_s``.
    worst_by_unit
        Per unit: ``pop_worst``, ``pop_total``, ``share_of_unit``
        (``pop_worst / pop_total``) and ``share_of_worst``.
    worst_time_s
        Shortest travel time among the worst-served residents (NaN when
        they are all unreachable).
    """

    summary: pd.DataFrame
    worst_cells: pd.DataFrame
    worst_by_unit: pd.DataFrame
    worst_time_s: float


def equity(grid: pd.DataFrame, times: Any, units: pd.DataFrame, *,
           thresholds_min: Sequence[float] = (5, 10, 15), elderly_times: Any = None,
           worst_share: float = 0.10, pop: str = "pop", by: str = "unit_id") -> EquityResult:
    """Coverage of older residents and children, and where the worst-served live.

    Parameters
    ----------
    grid
        Population cells with ``pop`` and ``unit_id``.
    times
        :func:`nearest_facility` result for ``grid``.
    units
        Units with ``unit_id``, ``pct_65_plus`` and ``pct_0_14`` (percent of
        residents); each cell's age groups are its population times its
        unit's shares.
    thresholds_min
        Thresholds in minutes (> 0).
    elderly_times
        Optional :func:`nearest_facility` result computed with the slower
        walking speed of older residents (``travel_graph(...,
        elderly=True)``), used for the ``age_65_plus`` group.
    worst_share
        Share of the population counted as worst served (0 < share <= 1).
    pop, by
        Population and unit columns of ``grid``.

    Returns
    -------
    EquityResult
    """
    thr = _check_thresholds(thresholds_min)
    if not (0 < float(worst_share) <= 1):
        raise InputError(f"`worst_share` = {worst_share!r} must be in (0, 1].",
                         fix="pass e.g. 0.10 for the worst-served 10 %.")
    t = _times_for(grid, times)
    te = t if elderly_times is None else _times_for(grid, elderly_times)
    p = _pop(grid, pop)
    if by not in grid.columns:
        raise InputError(f"`grid` has no `{by}` column.", fix="assign cells to units first.")
    pc = ProblemCollector(file="units")
    for col in ("unit_id", "pct_65_plus", "pct_0_14"):
        if col not in units.columns:
            pc.add(f"units table has no `{col}` column", column=col,
                   fix="use the units (boundaries) table of the study area.")
    pc.raise_if_any()
    u_ids = units["unit_id"].astype(str)
    share65 = pd.Series(pd.to_numeric(units["pct_65_plus"], errors="coerce").to_numpy() / 100,
                        index=u_ids.to_numpy())
    share014 = pd.Series(pd.to_numeric(units["pct_0_14"], errors="coerce").to_numpy() / 100,
                         index=u_ids.to_numpy())
    cell_units = grid[by].astype(str).to_numpy()
    s65 = share65.reindex(cell_units).to_numpy()
    s014 = share014.reindex(cell_units).to_numpy()
    missing = sorted(set(cell_units[np.isnan(s65) | np.isnan(s014)]))
    if missing:
        raise InputError(
            f"cells belong to units without age shares: {missing[:10]}",
            fix="give every unit pct_65_plus and pct_0_14, or drop those cells.")
    groups = {"all": (p, t), "age_65_plus": (p * s65, te), "age_0_14": (p * s014, t)}
    rows = []
    for gname, (gp, gt) in groups.items():
        for tm in thr:
            cov = np.isfinite(gt) & (gt <= tm * 60.0)
            df = pd.DataFrame({"unit": cell_units, "cov": np.where(cov, gp, 0.0),
                               "unc": np.where(cov, 0.0, gp)})
            g = df.groupby("unit")[["cov", "unc"]].sum()
            g.loc["all"] = [math.fsum(df["cov"]), math.fsum(df["unc"])]
            for unit, r in g.iterrows():
                total = r["cov"] + r["unc"]
                rows.append({"group": gname, "unit": unit, "threshold_min": tm,
                             "pop_total": total, "pop_covered": r["cov"],
                             "pop_uncovered": r["unc"],
                             "share_covered": r["cov"] / total if total > 0 else np.nan})
    summary = pd.DataFrame(rows)
    # worst-served residents: longest times first, unreachable before everything
    key = np.where(np.isfinite(t), t, np.inf)
    order = np.argsort(-key, kind="stable")
    cum = np.cumsum(p[order])
    total = cum[-1] if cum.size else 0.0
    n_take = int(np.searchsorted(cum, worst_share * total, side="left")) + 1 if total > 0 else 0
    take = order[:min(n_take, len(order))]
    worst = grid.iloc[take].copy()
    worst["time_s"] = t[take]
    wt = t[take]
    worst_time = float(np.nanmin(wt)) if np.isfinite(wt).any() else float("nan")
    pw = pd.Series(p[take]).groupby(cell_units[take]).sum()
    pt = pd.Series(p).groupby(cell_units).sum()
    wbu = pd.DataFrame({"pop_worst": pw.reindex(pt.index).fillna(0.0), "pop_total": pt})
    wbu["share_of_unit"] = wbu["pop_worst"] / wbu["pop_total"].where(wbu["pop_total"] > 0)
    wsum = wbu["pop_worst"].sum()
    wbu["share_of_worst"] = wbu["pop_worst"] / wsum if wsum > 0 else np.nan
    wbu.index.name = "unit"
    return EquityResult(summary=summary, worst_cells=worst, worst_by_unit=wbu,
                        worst_time_s=worst_time)
