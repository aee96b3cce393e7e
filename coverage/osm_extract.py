"""Cut the data a study area needs out of a large OpenStreetMap file.

:func:`clip_osm` reads a province-size ``.osm.pbf`` (or ``.osm``/``.osm.bz2``)
once with pyosmium: node locations are kept in libosmium's C++ index, untagged
nodes never reach Python, and each way is kept when one of its nodes lies in
the requested box. The kept ways (roads, buildings, land use, culture
places), the tagged culture nodes and the multipolygon relations built from
kept ways are written to a small ``.osm.pbf`` that the rest of the package
reads (:func:`coverage.network.read_osm`,
:func:`coverage.population.read_osm_ancillary`, :func:`culture_facilities`).

The pass also records where the file has data (a 1 km raster of road junctions),
from which :func:`coverage_polygon` estimates which part of a county the
file covers, and the newest object timestamp (the data date).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import InputError, Problem
from .geo import WGS84

__all__ = ["ClipResult", "clip_osm", "coverage_polygon", "culture_facilities", "classify_culture"]

#: Side of the raster that records where the file has data, in degrees (~1 km).
FOOTPRINT_DEG = 0.01
#: Ways with none of their first, last and middle node this near the box (degrees, ~5 km) are skipped
#: without looking at their other nodes.
NEAR_DEG = 0.05
_NODE_KEYS = ("name", "amenity", "tourism", "name:zh", "name:en")
_RELATION_KEYS = {"landuse", "building", "natural", "leisure", "waterway", "amenity", "tourism", "name"}
_OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.pbf", ".pbf", ".osm.gz")

Progress = Callable[[float, str], None]


@dataclass
class ClipResult:
    """What :func:`clip_osm` read and wrote.

    Attributes
    ----------
    path
        The clipped ``.osm.pbf``.
    bbox_lonlat
        The box it was clipped to.
    n_nodes, n_ways, n_relations
        Objects written.
    n_ways_seen
        Ways read from the source file.
    data_date
        Newest timestamp of a kept object (ISO date), ``""`` when the file
        carries none.
    footprint
        Raster cells (``FOOTPRINT_DEG``) with the number of junctions (nodes
        of two or more ways) in each: ``{(col, row): n}``, counted from
        ``bbox_lonlat``'s lower-left corner.
    header_box
        The file header's bounding box, when it has one.
    data_bounds
        ``(minlon, minlat, maxlon, maxlat)`` of the first nodes of all ways
        in the file (where the file has data), None for a file without ways.
    """

    path: Path
    bbox_lonlat: tuple[float, float, float, float]
    n_nodes: int = 0
    n_ways: int = 0
    n_relations: int = 0
    n_ways_seen: int = 0
    data_date: str = ""
    footprint: dict = field(default_factory=dict)
    header_box: tuple[float, float, float, float] | None = None
    data_bounds: tuple[float, float, float, float] | None = None


def _check_osm_file(path: Path) -> None:
    if not path.is_file():
        raise InputError(Problem("OSM file not found.", file=str(path),
                                 fix="give the path of a local .osm.pbf file (e.g. a province extract)"))
    if not path.name.lower().endswith(_OSM_SUFFIXES):
        raise InputError(Problem("not an OpenStreetMap file name (expected .osm.pbf, .osm or .osm.bz2).",
                                 file=str(path), fix="pass an OpenStreetMap extract such as hunan-latest.osm.pbf"))


def _read_error(path: Path, exc: Exception) -> InputError:
    return InputError(Problem(f"cannot be read as OpenStreetMap data ({exc}); the file may be truncated or "
                              "not an OSM file.", file=str(path),
                              fix="download the extract again and check its size, or pass another .osm.pbf"))


def clip_osm(src: str | Path, bbox_lonlat: Sequence[float], dst: str | Path, *,
             progress: Progress | None = None) -> ClipResult:
    """Copy the ways, culture nodes and relations inside a box to a new file.

    Parameters
    ----------
    src
        The large OSM file.
    bbox_lonlat
        ``(minlon, minlat, maxlon, maxlat)`` in WGS84 (the county plus a
        buffer).
    dst
        The ``.osm.pbf`` to write.
    progress
        Called as ``progress(fraction, message)`` while reading.

    Returns
    -------
    ClipResult

    Raises
    ------
    InputError
        The file is missing, not OSM data, or truncated.
    """
    import osmium
    from osmium.osm.mutable import Node, Relation, Way

    src, dst = Path(src), Path(dst)
    _check_osm_file(src)
    minlon, minlat, maxlon, maxlat = map(float, bbox_lonlat)
    res = ClipResult(path=dst, bbox_lonlat=(minlon, minlat, maxlon, maxlat))
    try:
        with osmium.io.Reader(str(src), osmium.osm.NOTHING) as rd:
            box = rd.header().box()
            if box.valid():
                res.header_box = (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)
    except RuntimeError as exc:
        raise _read_error(src, exc) from exc

    # way id -> (refs, lons, lats, tags); node id -> (lon, lat, tags)
    ways: dict[int, tuple] = {}
    poi_nodes: dict[int, tuple] = {}
    rels: list[tuple] = []
    newest = 0
    seen = 0
    nminlon, nminlat, nmaxlon, nmaxlat = minlon - NEAR_DEG, minlat - NEAR_DEG, maxlon + NEAR_DEG, maxlat + NEAR_DEG
    lo_x, lo_y, hi_x, hi_y = 180.0, 90.0, -180.0, -90.0
    est_ways = max(1.0, src.stat().st_size / 1024 * 13.0)
    step = 200_000
    fp = (osmium.FileProcessor(str(src))
          .with_locations()
          .with_filter(osmium.filter.KeyFilter(*_NODE_KEYS).enable_for(osmium.osm.NODE)))
    try:
        for o in fp:
            if o.is_way():
                seen += 1
                if progress is not None and seen % step == 0:
                    progress(min(0.99, seen / est_ways), f"{seen:,} ways read")
                nodes = o.nodes
                n = len(nodes)
                if n < 2:
                    continue
                # a cheap test on three nodes first: most ways of a province are far away. Only a way
                # with one of them within NEAR_DEG of the box is looked at node by node.
                near = False
                first = nodes[0].location
                if first.valid():
                    x, y = first.lon, first.lat
                    lo_x, hi_x = (x if x < lo_x else lo_x), (x if x > hi_x else hi_x)
                    lo_y, hi_y = (y if y < lo_y else lo_y), (y if y > hi_y else hi_y)
                    near = nminlon <= x <= nmaxlon and nminlat <= y <= nmaxlat
                if not near:
                    for k in (n - 1, n // 2):
                        loc = nodes[k].location
                        if loc.valid() and nminlon <= loc.lon <= nmaxlon and nminlat <= loc.lat <= nmaxlat:
                            near = True
                            break
                if not near:
                    continue
                hit = False
                for nd in nodes:
                    loc = nd.location
                    if loc.valid() and minlon <= loc.lon <= maxlon and minlat <= loc.lat <= maxlat:
                        hit = True
                        break
                if not hit:
                    continue
                refs, lons, lats = [], [], []
                for nd in nodes:
                    loc = nd.location
                    if loc.valid():
                        refs.append(nd.ref)
                        lons.append(loc.lon)
                        lats.append(loc.lat)
                ways[o.id] = (refs, lons, lats, {t.k: t.v for t in o.tags})
                ts = o.timestamp.timestamp() if o.timestamp is not None else 0
                newest = max(newest, ts)
            elif o.is_node():
                loc = o.location
                if loc.valid() and minlon <= loc.lon <= maxlon and minlat <= loc.lat <= maxlat:
                    tags = {t.k: t.v for t in o.tags}
                    if classify_culture(tags) is not None:
                        poi_nodes[o.id] = (loc.lon, loc.lat, tags)
            elif o.is_relation():
                tags = o.tags
                if tags.get("type") not in ("multipolygon", "boundary") or tags.get("type") == "boundary":
                    continue
                if not any(k in tags for k in _RELATION_KEYS):
                    continue
                members = [(m.type, m.ref, m.role) for m in o.members]
                if any(t == "w" and ref in ways for t, ref, _ in members):
                    rels.append((o.id, members, {t.k: t.v for t in tags}))
    except RuntimeError as exc:
        raise _read_error(src, exc) from exc
    res.n_ways_seen = seen
    if hi_x >= lo_x:
        res.data_bounds = (lo_x, lo_y, hi_x, hi_y)
    if newest:
        import datetime as _dt

        res.data_date = _dt.datetime.fromtimestamp(newest, _dt.timezone.utc).date().isoformat()
    if progress is not None:
        progress(1.0, f"{seen:,} ways read, {len(ways):,} kept")

    # footprint raster: junctions (nodes shared by two or more ways) per cell. A file cut from a
    # larger one keeps the ways that cross its edge in full, but not the ways they meet out there,
    # so beyond the cut there are hardly any junctions; where data exist, roads meet everywhere.
    res.footprint = _junction_cells(ways.values(), minlon, minlat)

    # write: nodes sorted by id, then ways, then relations
    member_ways = {ref for _, members, _ in rels for t, ref, _ in members if t == "w"}
    keep_ways = {wid: w for wid, w in ways.items() if w[3] or wid in member_ways}
    node_loc: dict[int, tuple[float, float]] = {}
    for refs, lons, lats, _ in keep_ways.values():
        node_loc.update(zip(refs, zip(lons, lats)))
    tmp = dst.with_name(".part-" + dst.name)
    if tmp.exists():
        tmp.unlink()
    writer = osmium.SimpleWriter(str(tmp))
    try:
        all_nodes = sorted(set(node_loc) | set(poi_nodes))
        for nid in all_nodes:
            if nid in poi_nodes:
                lon, lat, tags = poi_nodes[nid]
                writer.add_node(Node(id=nid, location=(lon, lat), tags=tags, version=1))
            else:
                writer.add_node(Node(id=nid, location=node_loc[nid], version=1))
        for wid in sorted(keep_ways):
            refs, _, _, tags = keep_ways[wid]
            writer.add_way(Way(id=wid, nodes=refs, tags=tags, version=1))
        for rid, members, tags in sorted(rels, key=lambda r: r[0]):
            writer.add_relation(Relation(id=rid, members=members, tags=tags, version=1))
    finally:
        writer.close()
    tmp.replace(dst)
    res.n_nodes, res.n_ways, res.n_relations = len(all_nodes), len(keep_ways), len(rels)
    return res


def _junction_cells(ways, minlon: float, minlat: float) -> dict:
    refs, lons, lats = [], [], []
    for r, x, y, _ in ways:
        k = len(r) - 1 if len(r) > 2 and r[0] == r[-1] else len(r)  # a closed ring repeats its first node
        refs.extend(r[:k])
        lons.extend(x[:k])
        lats.extend(y[:k])
    if not refs:
        return {}
    ids, first, counts = np.unique(np.asarray(refs, np.int64), return_index=True, return_counts=True)
    j = first[counts >= 2]
    cols = np.floor((np.asarray(lons)[j] - minlon) / FOOTPRINT_DEG).astype(np.int64)
    rows = np.floor((np.asarray(lats)[j] - minlat) / FOOTPRINT_DEG).astype(np.int64)
    ok = (cols >= 0) & (rows >= 0)
    cells, n = np.unique(np.stack([cols[ok], rows[ok]], 1), axis=0, return_counts=True)
    return {(int(c), int(r)): int(k) for (c, r), k in zip(cells, n)}


def coverage_polygon(clip: ClipResult, *, min_junctions: int = 3) -> shapely.Geometry:
    """Estimate where the source file has data, as a WGS84 polygon.

    Cells of the footprint raster with at least ``min_junctions`` junctions
    are joined, closed over gaps of up to two empty cells
    (a lake, fields) and their holes filled; the result is cut to the file
    header's box when the header has one.

    Parameters
    ----------
    clip
        The result of :func:`clip_osm`.
    min_junctions
        Junctions a cell needs to count as covered.

    Returns
    -------
    shapely.Geometry
        A (multi)polygon, empty when the file has nothing in the box.
    """
    from scipy import ndimage

    minlon, minlat, maxlon, maxlat = clip.bbox_lonlat
    ncol = max(1, int(math.ceil((maxlon - minlon) / FOOTPRINT_DEG)) + 1)
    nrow = max(1, int(math.ceil((maxlat - minlat) / FOOTPRINT_DEG)) + 1)
    grid = np.zeros((nrow, ncol), bool)
    for (c, r), n in clip.footprint.items():
        if n >= min_junctions and 0 <= c < ncol and 0 <= r < nrow:
            grid[r, c] = True
    if not grid.any():
        return shapely.Polygon()
    padded = np.pad(grid, 2)
    closed = ndimage.binary_closing(padded, structure=np.ones((5, 5), bool))[2:-2, 2:-2] | grid
    filled = ndimage.binary_fill_holes(closed)
    rr, cc = np.nonzero(filled)
    x0 = minlon + cc * FOOTPRINT_DEG
    y0 = minlat + rr * FOOTPRINT_DEG
    cells = shapely.box(x0, y0, x0 + FOOTPRINT_DEG, y0 + FOOTPRINT_DEG)
    poly = shapely.union_all(cells)
    poly = shapely.intersection(poly, shapely.box(minlon, minlat, maxlon, maxlat))
    if clip.header_box is not None:
        poly = shapely.intersection(poly, shapely.box(*clip.header_box))
    return poly


# --------------------------------------------------------------------------- culture places
_TAG_TYPES = (
    (("amenity", "library"), "library"),
    (("amenity", "arts_centre"), "cultural_centre"),
    (("amenity", "theatre"), "theatre"),
    (("amenity", "concert_hall"), "theatre"),
    (("tourism", "museum"), "museum"),
    (("tourism", "gallery"), "art_gallery"),
    (("amenity", "community_centre"), None),  # typed by name; "other" without a culture keyword
    (("amenity", "public_bookcase"), "city_reading_room"),
)
_NOT_A_PLACE = ("highway", "railway", "public_transport", "route", "waterway", "boundary")
_NON_PUBLIC_WORDS = ("大学", "学院", "校区", "中学", "小学", "学校", "幼儿园", "交大", "党校", "研究所", "研究院",
                     "university", "college", "school", "institute")
_CAMPUS = {"university", "college", "school", "kindergarten"}


def _name(tags) -> str:
    for k in ("name:zh", "name", "name:zh-Hans", "name:en"):
        v = tags.get(k)
        if v:
            return str(v)
    return ""


def classify_culture(tags) -> str | None:
    """The facility type of an OSM object, or None when it is no culture place.

    Chinese name keywords (图书馆, 文化馆, 文化站, 书房, 博物馆…, see
    :func:`coverage.facilities.type_from_name`) decide first; otherwise the
    tags (``amenity=library|arts_centre|theatre|community_centre``,
    ``tourism=museum|gallery``). Streets, stops and stations named after a
    facility (图书馆路, 文化宫站) are not places.
    """
    from .facilities import type_from_name

    if any(k in tags for k in _NOT_A_PLACE):
        return None
    name = _name(tags)
    tag_type: str | None = None
    tagged = False
    for (k, v), t in _TAG_TYPES:
        if tags.get(k) == v:
            tag_type, tagged = t, True
            break
    by_name = type_from_name(name) if name else None
    if by_name is not None and not tagged:
        # name-only matches: a place named after the facility, not "…图书馆路" or a bus stop "…站"
        core = name.rstrip(")）").split("(")[0].split("（")[0]
        if core.endswith(("路", "街", "巷", "站", "桥", "小区", "公交站")) and not core.endswith("文化站"):
            return None
        if tags.get("shop") or tags.get("office"):
            return None
    if by_name is not None:
        return by_name
    if tagged:
        return tag_type or "other"
    return None


def _non_public(tags, name: str) -> str:
    if tags.get("access") in ("private", "no", "customers", "students"):
        return f"access={tags.get('access')}"
    low = name.lower()
    for w in _NON_PUBLIC_WORDS:
        if w in low:
            return f"name contains {w}"
    return ""


def culture_facilities(path: str | Path, *, crs: str, extent_lonlat: shapely.Geometry | None = None,
                       dedupe_m: float = 300.0) -> tuple[pd.DataFrame, list[str]]:
    """Culture facilities of an OSM file, typed and de-duplicated.

    Parameters
    ----------
    path
        A (clipped) OSM file.
    crs
        Metric CRS used for distances.
    extent_lonlat
        Keep only facilities inside this WGS84 polygon (where road data exist).
    dedupe_m
        Objects of the same name closer than this are one facility (the
        relation or way is kept before a node).

    Returns
    -------
    facilities : pandas.DataFrame
        ``facility_id`` (``OSM-N…``, ``OSM-W…``, ``OSM-R…``), ``name``,
        ``name_en``, ``type``, ``public``, ``capacity``, ``floor_area_m2``
        (empty), ``lon``, ``lat``, ``addr``, ``osm_type``, ``osm_id``,
        ``non_public_reason``.
    notes : list of str
        Merged duplicates, facilities outside the extent, non-public ones.
    """
    import osmium

    rows: list[dict] = []
    campuses: list[bytes] = []
    wkb = osmium.geom.WKBFactory()

    def add(kind: str, oid: int, tags, lon: float, lat: float) -> None:
        ftype = classify_culture(tags)
        if ftype is None:
            return
        name = _name(tags)
        rows.append(dict(name=name, name_en=str(tags.get("name:en", "") or ""), type=ftype,
                         lon=lon, lat=lat, addr=str(tags.get("addr:street", "") or tags.get("addr:full", "") or ""),
                         osm_type=kind, osm_id=int(oid), _reason=_non_public(tags, name)))

    class _H(osmium.SimpleHandler):
        def node(self, n):
            if n.tags and n.location.valid():
                tags = {t.k: t.v for t in n.tags}
                add("node", n.id, tags, n.location.lon, n.location.lat)

        def area(self, a):
            tags = {t.k: t.v for t in a.tags}
            is_campus = tags.get("amenity") in _CAMPUS
            if not is_campus and classify_culture(tags) is None:
                return
            try:
                blob = wkb.create_multipolygon(a)
            except RuntimeError:
                return
            g = shapely.from_wkb(bytes.fromhex(blob) if isinstance(blob, str) else blob)
            if is_campus:
                campuses.append(g)
            if classify_culture(tags) is not None:
                c = g.centroid
                add("way" if a.from_way() else "relation", a.orig_id(), tags, c.x, c.y)

    try:
        _H().apply_file(str(path), locations=True)
    except RuntimeError as exc:
        raise _read_error(Path(path), exc) from exc
    notes: list[str] = []
    cols = ["facility_id", "name", "name_en", "type", "public", "capacity", "floor_area_m2",
            "lon", "lat", "addr", "osm_type", "osm_id", "non_public_reason"]
    if not rows:
        return pd.DataFrame(columns=cols), notes
    df = pd.DataFrame(rows)
    pts = gpd.GeoSeries(gpd.points_from_xy(df.lon, df.lat), crs=WGS84)
    if campuses:
        tree = shapely.STRtree(campuses)
        pi, _ = tree.query(pts.to_numpy(), predicate="within")
        for i in np.unique(pi):
            if not df.at[i, "_reason"]:
                df.at[i, "_reason"] = "inside a school or university campus"
    m = pts.to_crs(crs)
    df["_x"], df["_y"] = m.x.to_numpy(), m.y.to_numpy()
    df["_rank"] = df["osm_type"].map({"relation": 0, "way": 1, "node": 2})
    df = df.sort_values(["name", "_rank", "osm_id"])
    keep = []
    for name, g in df.groupby("name", sort=False):
        if not name:
            keep.extend(g.index)
            continue
        left = list(g.index)
        while left:
            first = left[0]
            d = np.hypot(df.loc[left, "_x"] - df.at[first, "_x"], df.loc[left, "_y"] - df.at[first, "_y"])
            same = [i for i, dd in zip(left, d) if dd <= dedupe_m]
            keep.append(first)
            for i in same[1:]:
                notes.append(f"duplicate of {name}: {df.at[i, 'osm_type']}/{df.at[i, 'osm_id']} merged")
            left = [i for i in left if i not in same]
    df = df.loc[sorted(set(keep))]
    if extent_lonlat is not None:
        inside = shapely.contains_xy(extent_lonlat, df["lon"].to_numpy(), df["lat"].to_numpy())
        for r in df[~inside].itertuples():
            notes.append(f"outside the extract's road data, not shipped: {r.name} ({r.lon:.4f}, {r.lat:.4f})")
        df = df[inside]
    df = df.sort_values(["type", "name"]).reset_index(drop=True)
    df["facility_id"] = [f"OSM-{t[0].upper()}{i}" for t, i in zip(df.osm_type, df.osm_id)]
    df["public"] = df["_reason"] == ""
    df["non_public_reason"] = df["_reason"]
    for r in df[~df["public"]].itertuples():
        notes.append(f"not open to the public: {r.name} ({r.non_public_reason})")
    df["capacity"] = np.nan
    df["floor_area_m2"] = np.nan
    df["osm_id"] = df["osm_id"].astype("Int64")
    df["lon"], df["lat"] = df["lon"].round(7), df["lat"].round(7)
    return df[cols], notes
