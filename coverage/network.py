"""Road networks for walking, cycling and driving.

A :class:`RoadNetwork` holds one street network as flat numpy arrays: the
nodes with their coordinates in a metric CRS, the directed edges as index
pairs with their length and road class, and one permission mask per travel
mode (``walk``, ``bike``, ``drive``).  It is built once from OpenStreetMap
data (``.osm``, ``.osm.bz2``, ``.osm.pbf`` through pyosmium), from a GraphML
file or from an osmnx/networkx graph, and is then turned into sparse
travel-time matrices by :mod:`coverage.access`.

Mode rules follow osmnx's ``walk``, ``bike`` and ``drive_service`` network
filters:

* every mode drops ways tagged ``area=yes``, ``access=private|no`` and
  highway values that are not roads in use (construction, proposed,
  platform, ...);
* ``walk`` drops motorways (and ``motorroad=yes``), cycleways (unless
  ``foot=yes|designated|permissive``), ``foot=no``, ``service=private`` and
  roads whose sidewalks are mapped separately; walking ignores ``oneway``;
* ``bike`` drops motorways, footways and steps (unless
  ``bicycle=yes|designated|permissive``), ``bicycle=no`` and
  ``service=private``; ``oneway`` applies unless ``oneway:bicycle=no`` or a
  contraflow ``cycleway=opposite*`` is tagged;
* ``drive`` drops footways, paths, pedestrian streets, steps, cycleways,
  tracks, bridleways, ``motor_vehicle=no``, ``motorcar=no`` and service roads
  for parking, emergency access or private use; ``oneway`` applies
  (``oneway=yes|true|1|-1|reverse``, ``junction=roundabout`` and
  ``highway=motorway`` are one-way).

For every mode only the largest strongly connected part of the network is
kept (for walking, where every street can be used both ways, this is the
largest connected part); what was dropped is listed in
:attr:`RoadNetwork.report`.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from coverage.errors import InputError, Problem
from coverage.geo import WGS84, to_metric, transformer, utm_crs_for

__all__ = [
    "MODES",
    "RoadNetwork",
    "read_osm",
    "read_graphml",
    "from_networkx",
    "download_osmnx",
    "load_network",
    "way_permissions",
    "parse_maxspeed",
    "NETWORK_FORMATS",
]

#: Travel modes known to the package.
MODES: tuple[str, ...] = ("walk", "bike", "drive")

#: Accepted network file formats (by file name ending).
NETWORK_FORMATS: tuple[str, ...] = (".osm", ".osm.bz2", ".osm.pbf", ".pbf", ".graphml")

_NOT_IN_USE = {
    "abandoned", "construction", "no", "planned", "platform", "proposed",
    "raceway", "razed", "rest_area", "services", "disused", "bus_stop",
}
_WALK_EXCLUDED = {"bus_guideway", "cycleway", "motorway", "motorway_link"}
_BIKE_EXCLUDED = {
    "bus_guideway", "corridor", "elevator", "escalator", "footway", "steps",
    "motorway", "motorway_link",
}
_DRIVE_EXCLUDED = {
    "bridleway", "bus_guideway", "corridor", "cycleway", "elevator", "escalator",
    "footway", "path", "pedestrian", "steps", "track",
}
_DRIVE_SERVICE_EXCLUDED = {"emergency_access", "parking", "parking_aisle", "private"}
_ALLOWED = {"yes", "designated", "permissive"}
_ONEWAY_FORWARD = {"yes", "true", "1", "t"}
_ONEWAY_BACKWARD = {"-1", "reverse"}


def way_permissions(tags: Mapping[str, Any]) -> tuple[bool, bool, bool, int, int]:
    """Decide which modes may use an OSM way and in which direction.

    Parameters
    ----------
    tags
        The way's OSM tags (``highway``, ``oneway``, ``foot``, ...).  Values
        may be strings, booleans or lists (lists as osmnx leaves them after
        simplification; the first element is used).

    Returns
    -------
    walk, bike, drive : bool
        Whether each mode may use the way at all.
    oneway_bike, oneway_drive : int
        ``0`` both directions, ``1`` only along the way's node order,
        ``-1`` only against it.
    """
    def get(key: str) -> str:
        val = tags.get(key)
        if isinstance(val, (list, tuple)):
            val = val[0] if val else None
        if val is None or (isinstance(val, float) and np.isnan(val)):
            return ""
        if isinstance(val, bool):
            return "yes" if val else "no"
        return str(val).strip().lower()

    hw = get("highway")
    if not hw or hw in _NOT_IN_USE or get("area") == "yes":
        return False, False, False, 0, 0
    if get("access") in ("private", "no"):
        foot, bicycle = get("foot"), get("bicycle")
        return foot in _ALLOWED, bicycle in _ALLOWED, False, 0, 0
    foot, bicycle, service = get("foot"), get("bicycle"), get("service")
    motorroad = get("motorroad") == "yes"
    sidewalk_sep = any(get(k) == "separate" for k in
                       ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right"))

    walk = (hw not in _WALK_EXCLUDED or (hw == "cycleway" and foot in _ALLOWED))
    walk = walk and foot != "no" and service != "private" and not sidewalk_sep
    walk = walk and (not motorroad or foot in _ALLOWED)

    bike = hw not in _BIKE_EXCLUDED or (hw in ("footway", "steps") and bicycle in _ALLOWED)
    bike = bike and bicycle != "no" and service != "private"
    bike = bike and (not motorroad or bicycle in _ALLOWED)

    drive = (hw not in _DRIVE_EXCLUDED and get("motor_vehicle") != "no"
             and get("motorcar") != "no" and service not in _DRIVE_SERVICE_EXCLUDED)

    ow = get("oneway")
    if ow in _ONEWAY_FORWARD:
        oneway = 1
    elif ow in _ONEWAY_BACKWARD:
        oneway = -1
    elif ow in ("no", "false", "0", "f"):
        oneway = 0
    elif get("junction") in ("roundabout", "circular") or hw == "motorway":
        oneway = 1
    else:
        oneway = 0
    oneway_bike = oneway
    if get("oneway:bicycle") == "no" or get("cycleway").startswith("opposite") or any(
        get(k).startswith("opposite") for k in ("cycleway:left", "cycleway:right")
    ):
        oneway_bike = 0
    return bool(walk), bool(bike), bool(drive), oneway_bike, oneway


def parse_maxspeed(value: Any) -> float:
    """Parse an OSM ``maxspeed`` value to km/h (NaN if not numeric).

    ``"60"``, ``"60 km/h"`` and ``"30 mph"`` are understood; lists (as osmnx
    leaves them) give their mean; zone codes such as ``"CN:urban"`` give NaN.
    """
    if value is None:
        return float("nan")
    if isinstance(value, (list, tuple)):
        vals = [parse_maxspeed(v) for v in value]
        vals = [v for v in vals if not np.isnan(v)]
        return float(np.mean(vals)) if vals else float("nan")
    if isinstance(value, (int, float, np.integer, np.floating)):
        v = float(value)
        return v if v > 0 else float("nan")
    m = re.match(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(mph)?", str(value).lower())
    if not m:
        return float("nan")
    v = float(m.group(1)) * (1.609344 if m.group(2) else 1.0)
    return v if v > 0 else float("nan")


def _geodesic_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance in metres on the WGS84 ellipsoid."""
    import pyproj

    _, _, d = pyproj.Geod(ellps="WGS84").inv(
        np.asarray(lon1, float), np.asarray(lat1, float),
        np.asarray(lon2, float), np.asarray(lat2, float))
    return np.asarray(d, float)


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """A street network as arrays, in a metric CRS.

    Attributes
    ----------
    node_id
        Original node ids (OSM ids or networkx node labels), one per node.
    x, y
        Node coordinates in metres in :attr:`crs`.
    u, v
        Directed edges as indices into the node arrays (travel from ``u`` to
        ``v``).
    length_m
        Edge length in metres.
    highway
        OSM road class of each edge (``"residential"``, ``"primary"``, ...;
        ``""`` when unknown).
    maxspeed_kmh
        Tagged speed limit in km/h, NaN when not tagged.
    walk, bike, drive
        Per-edge permission masks, already restricted to the mode's largest
        strongly connected part.
    crs
        The metric CRS of ``x``/``y`` (e.g. ``"EPSG:32648"``).
    report
        Notes on what was dropped while loading (small disconnected parts per
        mode, modes without edges, ...).
    source
        Where the network came from (a file name or ``"networkx"``).
    islands
        Per mode, a boolean node mask of the small parts dropped from the
        mode's network (used to explain why a place is unreachable).
    """

    node_id: np.ndarray
    x: np.ndarray
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length_m: np.ndarray
    highway: np.ndarray
    maxspeed_kmh: np.ndarray
    walk: np.ndarray
    bike: np.ndarray
    drive: np.ndarray
    crs: str
    report: tuple[Problem, ...] = field(default=())
    source: str = ""
    islands: Mapping[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.x.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of directed edges (any mode)."""
        return int(self.u.shape[0])

    def edge_mask(self, mode: str) -> np.ndarray:
        """Boolean mask of the directed edges usable by ``mode``."""
        _check_mode(mode)
        return getattr(self, mode)

    def node_mask(self, mode: str) -> np.ndarray:
        """Boolean mask of the nodes in ``mode``'s connected network."""
        m = self.edge_mask(mode)
        out = np.zeros(self.n_nodes, bool)
        out[self.u[m]] = True
        out[self.v[m]] = True
        return out

    def summary(self) -> dict[str, int]:
        """Node and edge counts per mode, e.g. ``{"walk_nodes": ..., ...}``."""
        out = {"nodes": self.n_nodes, "edges": self.n_edges}
        for mode in MODES:
            out[f"{mode}_nodes"] = int(self.node_mask(mode).sum())
            out[f"{mode}_edges"] = int(self.edge_mask(mode).sum())
        return out

    def to_networkx(self, mode: str, *, weight: np.ndarray | None = None,
                    weight_name: str = "time_s"):
        """Return ``mode``'s network as an osmnx-style ``networkx.MultiDiGraph``.

        Parameters
        ----------
        mode
            ``"walk"``, ``"bike"`` or ``"drive"``.
        weight
            Optional per-edge values (length :attr:`n_edges`, e.g. travel
            times from :class:`coverage.access.TravelGraph`) stored on every
            edge as ``weight_name``.
        weight_name
            Edge attribute name for ``weight``.

        Returns
        -------
        networkx.MultiDiGraph
            Nodes keyed by :attr:`node_id` with ``x``/``y``; edges with
            ``length``, ``highway``, ``maxspeed`` (when tagged) and ``edge``
            (the edge's index in this network); ``graph["crs"]`` is set, so
            osmnx functions accept it.
        """
        import networkx as nx

        m = self.edge_mask(mode)
        nodes = np.flatnonzero(self.node_mask(mode))
        G = nx.MultiDiGraph(crs=self.crs)
        ids = self.node_id.tolist()
        xs, ys = self.x.tolist(), self.y.tolist()
        G.add_nodes_from((ids[i], {"x": xs[i], "y": ys[i]}) for i in nodes.tolist())
        idx = np.flatnonzero(m)
        uu, vv = self.u[idx].tolist(), self.v[idx].tolist()
        ln = self.length_m[idx].tolist()
        hw = self.highway[idx].tolist()
        ms = self.maxspeed_kmh[idx].tolist()
        wt = None if weight is None else np.asarray(weight, float)[idx].tolist()
        edges = []
        for k in range(len(idx)):
            d = {"length": ln[k], "highway": hw[k], "edge": int(idx[k])}
            if ms[k] == ms[k]:
                d["maxspeed"] = ms[k]
            if wt is not None:
                d[weight_name] = wt[k]
            edges.append((ids[uu[k]], ids[vv[k]], d))
        G.add_edges_from(edges)
        return G


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise InputError(
            f"`mode` = {mode!r} is not a travel mode.",
            fix=f"use one of {', '.join(repr(m) for m in MODES)}.",
        )


def _check_modes(modes: Iterable[str]) -> tuple[str, ...]:
    modes = tuple(modes)
    for m in modes:
        if m not in MODES:
            raise InputError(
                f"`modes` contains {m!r}, which is not a travel mode.",
                fix=f"use some of {', '.join(repr(x) for x in MODES)}.",
            )
    return modes


def _build(
    node_id: np.ndarray, x: np.ndarray, y: np.ndarray,
    u: np.ndarray, v: np.ndarray, length_m: np.ndarray, highway: np.ndarray,
    maxspeed: np.ndarray, walk: np.ndarray, bike: np.ndarray, drive: np.ndarray,
    *, crs: str, source: str, modes: Sequence[str], notes: list[Problem],
) -> RoadNetwork:
    """Clean candidate edges and assemble a :class:`RoadNetwork`."""
    u = np.asarray(u, np.int64)
    v = np.asarray(v, np.int64)
    keep = (u != v) & (walk | bike | drive)
    if (~keep).any():
        u, v, length_m, highway, maxspeed, walk, bike, drive = (
            a[keep] for a in (u, v, length_m, highway, maxspeed, walk, bike, drive))
    if u.size == 0:
        raise InputError(
            f"The network from {source} has no usable road edges.",
            fix="check that the file covers the study area and contains ways tagged highway=*.",
        )
    n = len(x)
    # walking ignores direction: make sure every walkable edge has a walkable twin.
    key = u * n + v
    wk = key[walk]
    rev = v[walk] * n + u[walk]
    missing = ~np.isin(rev, wk)
    if missing.any():
        wi = np.flatnonzero(walk)[missing]
        u = np.concatenate([u, v[wi]])
        v = np.concatenate([v, u[wi]])
        length_m = np.concatenate([length_m, length_m[wi]])
        highway = np.concatenate([highway, highway[wi]])
        maxspeed = np.concatenate([maxspeed, maxspeed[wi]])
        walk = np.concatenate([walk, np.ones(wi.size, bool)])
        bike = np.concatenate([bike, np.zeros(wi.size, bool)])
        drive = np.concatenate([drive, np.zeros(wi.size, bool)])
    # keep only nodes used by an edge
    used = np.zeros(n, bool)
    used[u] = True
    used[v] = True
    if not used.all():
        remap = np.cumsum(used) - 1
        u, v = remap[u], remap[v]
        node_id, x, y = node_id[used], x[used], y[used]
        n = int(used.sum())
    masks = {"walk": walk.copy(), "bike": bike.copy(), "drive": drive.copy()}
    notes = list(notes)
    islands: dict[str, np.ndarray] = {}
    empty = [m for m in modes if not masks[m].any()]
    if empty:
        raise InputError([Problem(
            f"The network has no edges usable for `mode` = {m!r}.",
            fix=f"use a larger extract with roads open to {m}, or pass `modes` "
                f"without {m!r}.", file=source) for m in empty])
    for mode in MODES:
        m = masks[mode]
        if not m.any():
            notes.append(Problem(f"{mode}: the network has no usable edges.", file=source))
            continue
        A = sp.csr_matrix((np.ones(m.sum()), (u[m], v[m])), shape=(n, n))
        ncomp, labels = connected_components(A, directed=True, connection="strong")
        in_mode = np.zeros(n, bool)
        in_mode[u[m]] = True
        in_mode[v[m]] = True
        counts = np.bincount(labels[in_mode], minlength=ncomp)
        big = int(np.argmax(counts))
        keep_node = labels == big
        n_mode = int(in_mode.sum())
        dropped = n_mode - int(counts[big])
        islands[mode] = _readonly(in_mode & ~keep_node)
        if dropped:
            n_parts = int((counts > 0).sum()) - 1
            masks[mode] = m & keep_node[u] & keep_node[v]
            notes.append(Problem(
                f"{mode}: kept the largest connected part of the network "
                f"({int(counts[big])} of {n_mode} nodes); dropped {dropped} nodes "
                f"({dropped / n_mode:.1%}) in {n_parts} smaller part(s) that cannot be "
                "reached both ways from it.",
                fix="places near dropped parts are snapped to the main network or "
                    "reported unreachable; use a larger extract or fix the road "
                    "connections in OpenStreetMap if the share is large.",
                file=source,
            ))
    return RoadNetwork(
        node_id=_readonly(np.asarray(node_id)), x=_readonly(np.asarray(x, float)),
        y=_readonly(np.asarray(y, float)), u=_readonly(u.astype(np.int64)),
        v=_readonly(v.astype(np.int64)), length_m=_readonly(np.asarray(length_m, float)),
        highway=_readonly(np.asarray(highway, object)),
        maxspeed_kmh=_readonly(np.asarray(maxspeed, float)),
        walk=_readonly(masks["walk"]), bike=_readonly(masks["bike"]),
        drive=_readonly(masks["drive"]), crs=str(crs), report=tuple(notes), source=source,
        islands=MappingProxyType({m: islands.get(m, _readonly(np.zeros(n, bool)))
                                  for m in MODES}),
    )


def _pick_crs(lon: np.ndarray, lat: np.ndarray, crs: str | None) -> str:
    if crs is not None:
        return str(crs)
    if lon.size == 0:
        raise InputError("The network has no nodes.", fix="check the input file.")
    return utm_crs_for(float(np.nanmean(lon)), float(np.nanmean(lat)))


_OSM_TAGS = ("highway", "oneway", "junction", "access", "foot", "bicycle", "service",
             "motor_vehicle", "motorcar", "motorroad", "area", "sidewalk", "sidewalk:both",
             "sidewalk:left", "sidewalk:right", "oneway:bicycle", "cycleway",
             "cycleway:left", "cycleway:right", "maxspeed")


def read_osm(path: str | Path, *, crs: str | None = None,
             modes: Sequence[str] = MODES) -> RoadNetwork:
    """Read the road network of an OpenStreetMap file.

    Parameters
    ----------
    path
        An ``.osm`` (XML), ``.osm.bz2`` or ``.osm.pbf`` file.
    crs
        Metric CRS for the node coordinates; ``None`` picks the UTM zone of
        the data's centre.
    modes
        Modes that must have usable edges (an :class:`InputError` is raised
        otherwise).

    Returns
    -------
    RoadNetwork
        Every way segment becomes one or two directed edges; edge lengths are
        geodesic distances on the WGS84 ellipsoid.
    """
    import osmium

    modes = _check_modes(modes)
    path = Path(path)
    _check_file(path)
    refs: list[int] = []
    seg_way: list[int] = []
    way_info: list[tuple] = []
    lon_of: dict[int, tuple[float, float]] = {}
    try:
        fp = (osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
              .with_locations()
              .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
              .with_filter(osmium.filter.KeyFilter("highway")))
        for w in fp:
            tags = {k: w.tags.get(k) for k in _OSM_TAGS if k in w.tags}
            walk, bike, drive, ow_b, ow_d = way_permissions(tags)
            if not (walk or bike or drive):
                continue
            ids = []
            for nd in w.nodes:
                loc = nd.location
                if not loc.valid():
                    continue
                ids.append(nd.ref)
                lon_of[nd.ref] = (loc.lon, loc.lat)
            if len(ids) < 2:
                continue
            wi = len(way_info)
            way_info.append((walk, bike, drive, ow_b, ow_d, tags.get("highway", ""),
                             parse_maxspeed(tags.get("maxspeed"))))
            refs.extend(ids)
            seg_way.extend([wi] * len(ids))
    except RuntimeError as exc:  # libosmium parse errors
        raise InputError(
            f"{path}: could not be read as OpenStreetMap data ({exc}).",
            fix=f"pass a valid file in one of the formats {', '.join(NETWORK_FORMATS)}.",
        ) from exc
    if not refs:
        raise InputError(
            f"{path}: contains no usable roads (ways tagged highway=*).",
            fix="use an extract that covers the study area's streets.",
        )
    refs_a = np.asarray(refs, np.int64)
    way_a = np.asarray(seg_way, np.int64)
    same = way_a[1:] == way_a[:-1]
    a_ref, b_ref, sw = refs_a[:-1][same], refs_a[1:][same], way_a[:-1][same]
    node_id, inv = np.unique(np.concatenate([a_ref, b_ref]), return_inverse=True)
    a, b = inv[: a_ref.size], inv[a_ref.size:]
    ll = np.array([lon_of[i] for i in node_id.tolist()], float)
    lon, lat = ll[:, 0], ll[:, 1]
    crs = _pick_crs(lon, lat, crs)
    x, y = to_metric(lon, lat, crs)
    info = np.array([w[:5] for w in way_info], np.int64)[sw]
    hw = np.array([w[5] for w in way_info], object)[sw]
    ms = np.array([w[6] for w in way_info], float)[sw]
    length = _geodesic_m(lon[a], lat[a], lon[b], lat[b])
    wk, bk, dr, owb, owd = (info[:, i] for i in range(5))
    wk, bk, dr = wk.astype(bool), bk.astype(bool), dr.astype(bool)
    u = np.concatenate([a, b])
    v = np.concatenate([b, a])
    walk = np.concatenate([wk, wk])
    bike = np.concatenate([bk & (owb != -1), bk & (owb != 1)])
    drive = np.concatenate([dr & (owd != -1), dr & (owd != 1)])
    return _build(node_id, x, y, u, v, np.concatenate([length, length]),
                  np.concatenate([hw, hw]), np.concatenate([ms, ms]), walk, bike, drive,
                  crs=crs, source=path.name, modes=modes, notes=[])


def from_networkx(G, *, crs: str | None = None, modes: Sequence[str] = MODES,
                  source: str = "networkx") -> RoadNetwork:
    """Convert an osmnx/networkx graph to a :class:`RoadNetwork`.

    Parameters
    ----------
    G
        A ``networkx`` graph whose nodes have ``x``/``y`` coordinates, e.g. an
        osmnx ``MultiDiGraph`` (projected or in WGS84: ``G.graph["crs"]``
        tells which; without it, coordinates are taken as WGS84 when they
        look like degrees).  Edge attributes used when present: ``length``
        (metres; otherwise the straight-line length), ``highway``,
        ``maxspeed`` and the access tags (``access``, ``service``, ``foot``,
        ``bicycle``, ``motor_vehicle``, ...).  Undirected graphs are used in
        both directions.  Edge directions are taken as given for cycling and
        driving (osmnx already leaves out the reverse of one-way streets);
        walking uses every edge both ways.
    crs
        Metric CRS for the result; ``None`` keeps a projected graph's CRS and
        picks the UTM zone for a graph in degrees.
    modes
        Modes that must have usable edges.
    source
        Name used in messages.

    Returns
    -------
    RoadNetwork
    """
    import networkx as nx

    modes = _check_modes(modes)
    if not isinstance(G, nx.Graph):
        raise InputError(f"`G` is a {type(G).__name__}, not a networkx graph.",
                         fix="pass an osmnx/networkx graph.")
    if G.number_of_nodes() == 0:
        raise InputError("`G` has no nodes.", fix="pass a graph with a road network.")
    if not G.is_directed():
        G = G.to_directed()
    nodes = list(G.nodes)
    try:
        xs = np.array([G.nodes[n]["x"] for n in nodes], float)
        ys = np.array([G.nodes[n]["y"] for n in nodes], float)
    except KeyError as exc:
        raise InputError("`G` has nodes without `x`/`y` coordinates.",
                         fix="give every node numeric 'x' and 'y' attributes.") from exc
    gcrs = G.graph.get("crs")
    if gcrs is None and crs is not None:
        gcrs = crs
    elif gcrs is None:
        looks_deg = (np.abs(xs) <= 180).all() and (np.abs(ys) <= 90).all()
        gcrs = WGS84 if looks_deg else None
        if gcrs is None:
            raise InputError("`G` has projected coordinates but no `crs` in G.graph.",
                             fix="pass `crs=` with the graph's metric CRS.")
    geographic = False
    if gcrs is not None:
        import pyproj

        geographic = pyproj.CRS.from_user_input(gcrs).is_geographic
    if geographic:
        out_crs = _pick_crs(xs, ys, crs)
        x, y = to_metric(xs, ys, out_crs)
    else:
        out_crs = str(crs if crs is not None else gcrs)
        if gcrs is not None and crs is not None and str(gcrs) != str(crs):
            x, y = transformer(str(gcrs), out_crs).transform(xs, ys)
            x, y = np.asarray(x), np.asarray(y)
        else:
            x, y = xs, ys
    index = {n: i for i, n in enumerate(nodes)}
    E = G.number_of_edges()
    u = np.empty(E, np.int64)
    v = np.empty(E, np.int64)
    length = np.full(E, np.nan)
    hw = np.empty(E, object)
    ms = np.full(E, np.nan)
    perm = np.zeros((E, 3), bool)
    edges = G.edges(keys=True, data=True) if G.is_multigraph() else (
        (a, b, 0, d) for a, b, d in G.edges(data=True))
    for k, (a, b, _, d) in enumerate(edges):
        u[k], v[k] = index[a], index[b]
        if "length" in d and d["length"] is not None:
            length[k] = float(d["length"])
        h = d.get("highway", "")
        h = h[0] if isinstance(h, (list, tuple)) and h else h
        hw[k] = "" if h is None else str(h)
        if "maxspeed" in d:
            ms[k] = parse_maxspeed(d["maxspeed"])
        if hw[k]:
            w, bk, dr, _, _ = way_permissions(d)
            perm[k] = (w, bk, dr)
        else:
            perm[k] = True
    miss = np.isnan(length)
    if miss.any():
        if geographic:
            length[miss] = _geodesic_m(xs[u[miss]], ys[u[miss]], xs[v[miss]], ys[v[miss]])
        else:
            length[miss] = np.hypot(x[u[miss]] - x[v[miss]], y[u[miss]] - y[v[miss]])
    node_id = np.array(nodes) if all(isinstance(n, (int, np.integer)) for n in nodes) \
        else np.array(nodes, object)
    return _build(node_id, np.asarray(x, float), np.asarray(y, float), u, v, length, hw, ms,
                  perm[:, 0], perm[:, 1], perm[:, 2], crs=out_crs, source=source,
                  modes=modes, notes=[])


def read_graphml(path: str | Path, *, crs: str | None = None,
                 modes: Sequence[str] = MODES) -> RoadNetwork:
    """Read a GraphML road network saved by osmnx (``osmnx.save_graphml``).

    Parameters
    ----------
    path
        The ``.graphml`` file.
    crs
        Metric CRS for the result; ``None`` keeps a projected graph's CRS and
        picks the UTM zone for a graph in degrees.
    modes
        Modes that must have usable edges.
    """
    import osmnx as ox

    modes = _check_modes(modes)
    path = Path(path)
    _check_file(path)
    try:
        G = ox.load_graphml(path)
    except Exception as exc:  # noqa: BLE001 - any parse failure is an input problem
        raise InputError(
            f"{path}: could not be read as an osmnx GraphML network ({exc}).",
            fix="save the graph with osmnx.save_graphml, or pass an OSM file.",
        ) from exc
    return from_networkx(G, crs=crs, modes=modes, source=path.name)


def download_osmnx(place_or_bbox: str | tuple[float, float, float, float], *,
                   crs: str | None = None, modes: Sequence[str] = MODES,
                   save_graphml: str | Path | None = None) -> RoadNetwork:
    """Download a road network with osmnx (needs internet access).

    Parameters
    ----------
    place_or_bbox
        A place name geocoded by Nominatim (e.g. ``"锦江区, 成都市"``) or a
        bounding box ``(west, south, east, north)`` in WGS84 degrees.
    crs
        Metric CRS for the result; ``None`` picks the UTM zone.
    modes
        Modes that must have usable edges.
    save_graphml
        If given, the downloaded graph is also saved there for offline use
        with :func:`load_network`.

    Raises
    ------
    InputError
        When the download fails (no internet, unknown place).
    """
    import socket
    from urllib.parse import urlparse

    import osmnx as ox

    host = urlparse(str(ox.settings.overpass_url)).hostname or "overpass-api.de"
    try:
        socket.create_connection((host, 443), timeout=5).close()
    except OSError as exc:
        raise InputError(
            f"`place_or_bbox` = {place_or_bbox!r}: cannot download the road network, "
            f"the OpenStreetMap server {host} is not reachable ({exc}).",
            fix="run this on a machine with internet access and save the network "
                "(`save_graphml=`), or load a local .osm/.osm.pbf/.graphml file with "
                "load_network().",
        ) from exc
    extra = ["foot", "bicycle", "motor_vehicle", "motorcar", "motorroad", "sidewalk",
             "oneway:bicycle", "cycleway"]
    old = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = old + [t for t in extra if t not in old]
    try:
        if isinstance(place_or_bbox, str):
            G = ox.graph_from_place(place_or_bbox, network_type="all_public",
                                    simplify=False, retain_all=True)
        else:
            G = ox.graph_from_bbox(tuple(place_or_bbox), network_type="all_public",
                                   simplify=False, retain_all=True)
    except Exception as exc:  # noqa: BLE001 - network errors come in many types
        raise InputError(
            f"`place_or_bbox` = {place_or_bbox!r}: downloading the road network with "
            f"osmnx failed ({type(exc).__name__}: {exc}).",
            fix="run this on a machine with internet access and save the network "
                "(`save_graphml=`), or load a local .osm/.osm.pbf/.graphml file with "
                "load_network().",
        ) from exc
    finally:
        ox.settings.useful_tags_way = old
    if save_graphml is not None:
        ox.save_graphml(G, save_graphml)
    return from_networkx(G, crs=crs, modes=modes, source=str(place_or_bbox))


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError(
            f"Network file {str(path)!r} does not exist.",
            fix=f"check the path; accepted formats are {', '.join(NETWORK_FORMATS)}.",
        )
    if not path.is_file():
        raise InputError(f"Network path {str(path)!r} is not a file.",
                         fix=f"pass a file in one of the formats {', '.join(NETWORK_FORMATS)}.")


def load_network(source, *, crs: str | None = None,
                 modes: Sequence[str] = MODES) -> RoadNetwork:
    """Load a road network from a file, a graph or an existing network.

    Parameters
    ----------
    source
        A :class:`RoadNetwork` (returned as is), a networkx graph, or the
        path of an ``.osm``, ``.osm.bz2``, ``.osm.pbf``/``.pbf`` or
        ``.graphml`` file.
    crs
        Metric CRS for the result; ``None`` picks the UTM zone of the data.
    modes
        Modes that must have usable edges.

    Raises
    ------
    InputError
        The file does not exist, its format is not one of the accepted ones,
        or it holds no usable roads.
    """
    if isinstance(source, RoadNetwork):
        return source
    try:
        import networkx as nx

        if isinstance(source, nx.Graph):
            return from_networkx(source, crs=crs, modes=modes)
    except ImportError:  # pragma: no cover
        pass
    if not isinstance(source, (str, Path)):
        raise InputError(
            f"`source` is a {type(source).__name__}; expected a file path, a networkx "
            "graph or a RoadNetwork.",
            fix=f"pass the path of a file in one of the formats {', '.join(NETWORK_FORMATS)}.",
        )
    path = Path(source)
    name = path.name.lower()
    if name.endswith((".osm", ".osm.bz2", ".osm.pbf", ".pbf")):
        return read_osm(path, crs=crs, modes=modes)
    if name.endswith(".graphml"):
        return read_graphml(path, crs=crs, modes=modes)
    _check_file(path)
    raise InputError(
        f"Network file {str(path)!r} has an unknown format.",
        fix=f"use one of {', '.join(NETWORK_FORMATS)} (OpenStreetMap XML/bzip2/PBF or "
            "osmnx GraphML).",
    )
