"""Tests for coverage.network: loaders, mode rules, component filtering."""

from __future__ import annotations

import bz2
import time
from pathlib import Path

import networkx as nx
import numpy as np
import osmnx as ox
import pyproj
import pytest

import coverage
from coverage.errors import InputError
from coverage.network import (
    RoadNetwork,
    from_networkx,
    load_network,
    parse_maxspeed,
    read_graphml,
    read_osm,
    way_permissions,
)

DATA = Path(coverage.__file__).resolve().parent.parent / "data"
PBF = DATA / "chengdu" / "chengdu_core_2018.osm.pbf"
TINY = Path(__file__).parent / "data" / "network" / "tiny.osm"
PROJ = pyproj.Proj("EPSG:32648")


@pytest.fixture(scope="module")
def tiny() -> RoadNetwork:
    return read_osm(TINY)


@pytest.fixture(scope="module")
def chengdu() -> RoadNetwork:
    return read_osm(PBF)


def _edges(net: RoadNetwork, mode: str) -> set[tuple[int, int]]:
    m = net.edge_mask(mode)
    return {(int(net.node_id[a]), int(net.node_id[b])) for a, b in zip(net.u[m], net.v[m])}


def _both(*pairs: tuple[int, int]) -> set[tuple[int, int]]:
    return {p for a, b in pairs for p in ((a, b), (b, a))}


def test_tiny_mode_rules_and_oneway(tiny):
    # walk ignores oneway, excludes the motorway (1-7) and foot=no (3-8); island 20-21 dropped
    assert _edges(tiny, "walk") == _both((1, 2), (2, 3), (3, 5), (5, 4), (4, 2), (4, 6),
                                         (5, 9), (9, 8))
    # bike: oneway applies except where oneway:bicycle=no (3-5); no footway, no motorway;
    # 9 only has outgoing bike edges (oneway=-1 on 5-9, oneway=yes on 9-8) -> dropped
    assert _edges(tiny, "bike") == _both((1, 2), (2, 3), (3, 5), (5, 4), (4, 2), (3, 8))
    # drive: 3->5 one way; motorway 1->7 is implied one-way, so 7 is a dead end -> dropped
    assert _edges(tiny, "drive") == _both((1, 2), (2, 3), (5, 4), (4, 2), (3, 8)) | {(3, 5)}
    assert tiny.crs == "EPSG:32648"
    # construction way and the building are not part of the network
    assert set(tiny.node_id.tolist()) == {1, 2, 3, 4, 5, 6, 7, 8, 9, 20, 21}
    assert tiny.summary()["walk_nodes"] == 8


def test_tiny_report_lists_dropped_parts(tiny):
    text = "\n".join(str(p) for p in tiny.report)
    assert "walk: kept the largest connected part of the network (8 of 10 nodes); dropped 2" in text
    assert "bike: kept the largest connected part of the network (6 of 9 nodes); dropped 3" in text
    assert ("drive: kept the largest connected part of the network (6 of 10 nodes); "
            "dropped 4") in text
    assert all(p.file == "tiny.osm" for p in tiny.report)
    isl = {int(i) for i in tiny.node_id[tiny.islands["walk"]]}
    assert isl == {20, 21}


def test_tiny_lengths_are_great_circle(tiny):
    G = tiny.to_networkx("walk")
    for a, b, d in G.edges(data=True):
        na, nb = G.nodes[a], G.nodes[b]
        # independent reference: osmnx's great-circle distance on the OSM coordinates
        lon = {1: 104.000, 2: 104.001, 3: 104.002, 4: 104.001, 5: 104.002, 6: 104.001,
               8: 104.003, 9: 104.003}
        lat = {1: 30.0, 2: 30.0, 3: 30.0, 4: 30.001, 5: 30.001, 6: 30.002, 8: 30.0, 9: 30.001}
        # the spherical great circle (osmnx) is within 0.4 % of the ellipsoidal geodesic
        ref = ox.distance.great_circle(lat[a], lon[a], lat[b], lon[b])
        assert d["length"] == pytest.approx(ref, rel=4e-3)
        # the projected straight line divided by the UTM scale factor is the geodesic
        k = PROJ.get_factors((lon[a] + lon[b]) / 2, (lat[a] + lat[b]) / 2).meridional_scale
        straight = np.hypot(na["x"] - nb["x"], na["y"] - nb["y"])
        assert d["length"] == pytest.approx(straight / k, rel=2e-5)
    maxs = {(a, b): d.get("maxspeed") for a, b, d in G.edges(data=True)}
    assert maxs[(1, 2)] == 30.0 and maxs[(4, 6)] is None


def test_bz2_reads_the_same(tiny, tmp_path):
    p = tmp_path / "tiny.osm.bz2"
    p.write_bytes(bz2.compress(TINY.read_bytes()))
    net = load_network(p)
    for mode in ("walk", "bike", "drive"):
        assert _edges(net, mode) == _edges(tiny, mode)
    np.testing.assert_allclose(np.sort(net.length_m), np.sort(tiny.length_m))


def test_arrays_are_read_only(tiny):
    with pytest.raises(ValueError):
        tiny.x[0] = 0.0
    with pytest.raises(ValueError):
        tiny.walk[0] = False


def test_chengdu_pbf_loads_quickly_and_modes_are_strongly_connected(chengdu):
    t0 = time.perf_counter()
    net = read_osm(PBF)
    assert time.perf_counter() - t0 < 5.0
    assert net.crs == "EPSG:32648"
    s = net.summary()
    assert s["walk_nodes"] > 8000 and s["drive_nodes"] > 6000
    for mode in ("walk", "bike", "drive"):
        G = chengdu.to_networkx(mode)
        assert G.number_of_nodes() == s[f"{mode}_nodes"]
        assert G.number_of_edges() == s[f"{mode}_edges"]
        assert nx.is_strongly_connected(G)
    # walk is symmetric: every walk edge has its reverse
    assert _edges(chengdu, "walk") == {(b, a) for a, b in _edges(chengdu, "walk")}
    # no footway/steps in the drive network, no motorway in the walk network
    assert not set(chengdu.highway[chengdu.drive]) & {"footway", "steps", "pedestrian"}
    assert not set(chengdu.highway[chengdu.walk]) & {"motorway", "motorway_link"}
    assert not set(chengdu.highway[chengdu.bike]) & {"steps", "motorway"}
    modes_reported = {p.message.split(":")[0] for p in chengdu.report}
    assert {"bike", "drive"} <= modes_reported


def test_chengdu_largest_component_matches_networkx(chengdu):
    # independent: rebuild the unfiltered drive graph from the OSM tags with networkx
    import osmium

    G = nx.DiGraph()
    for w in osmium.FileProcessor(str(PBF)).with_filter(osmium.filter.EntityFilter(
            osmium.osm.WAY)).with_filter(osmium.filter.KeyFilter("highway")):
        tags = dict(w.tags)
        _, _, drive, _, ow = way_permissions(tags)
        if not drive:
            continue
        ids = [n.ref for n in w.nodes]
        for a, b in zip(ids[:-1], ids[1:]):
            if a == b:
                continue
            if ow >= 0:
                G.add_edge(a, b)
            if ow <= 0:
                G.add_edge(b, a)
    big = max(nx.strongly_connected_components(G), key=len)
    ours = set(chengdu.node_id[chengdu.node_mask("drive")].tolist())
    assert ours == big


def test_graphml_roundtrip(chengdu, tmp_path):
    G = chengdu.to_networkx("drive")
    p = tmp_path / "drive.graphml"
    ox.save_graphml(G, p)
    net = read_graphml(p, modes=("drive",))
    assert net.crs == chengdu.crs
    assert net.summary()["drive_edges"] == chengdu.summary()["drive_edges"]
    assert net.length_m[net.drive].sum() == pytest.approx(
        chengdu.length_m[chengdu.drive].sum(), rel=1e-9)


def test_from_networkx_geographic_graph_is_projected():
    G = nx.MultiDiGraph(crs="EPSG:4326")
    G.add_node(1, x=104.0, y=30.0)
    G.add_node(2, x=104.01, y=30.0)
    G.add_edge(1, 2, highway="residential")
    G.add_edge(2, 1, highway="residential")
    net = from_networkx(G)
    assert net.crs == "EPSG:32648"
    # no length given: geodesic length of 0.01 degree of longitude at 30 N, i.e. the
    # parallel's radius N*cos(lat) (N: WGS84 prime-vertical radius) times the angle
    a, e2 = 6378137.0, 0.00669437999014
    N = a / np.sqrt(1 - e2 * np.sin(np.radians(30.0)) ** 2)
    assert net.length_m[0] == pytest.approx(N * np.cos(np.radians(30.0)) * np.radians(0.01),
                                            rel=1e-6)
    assert 300_000 < net.x.min() < 500_000


def test_from_networkx_undirected_graph_is_used_both_ways():
    G = nx.Graph()
    G.add_node("a", x=0.0, y=0.0)
    G.add_node("b", x=100.0, y=0.0)
    G.add_edge("a", "b")
    net = from_networkx(G, crs="EPSG:32648")
    assert sorted(zip(net.u.tolist(), net.v.tolist())) == [(0, 1), (1, 0)]
    assert net.length_m.tolist() == [100.0, 100.0]
    assert net.drive.all()


def test_missing_file_names_file_and_formats(tmp_path):
    with pytest.raises(InputError) as e:
        load_network(tmp_path / "nowhere.osm.pbf")
    msg = str(e.value)
    assert "nowhere.osm.pbf" in msg and "does not exist" in msg and ".graphml" in msg


def test_unknown_format(tmp_path):
    p = tmp_path / "roads.shp"
    p.write_text("x")
    with pytest.raises(InputError) as e:
        load_network(p)
    msg = str(e.value)
    assert "roads.shp" in msg and "unknown format" in msg and ".osm.pbf" in msg


def test_corrupt_osm_file(tmp_path):
    p = tmp_path / "bad.osm"
    p.write_text("<osm><node id='1' lat='x'")
    with pytest.raises(InputError, match="bad.osm"):
        read_osm(p)


def test_no_edges_for_a_mode_is_an_error(tmp_path):
    p = tmp_path / "foot.osm"
    p.write_text(
        '<?xml version="1.0"?><osm version="0.6">'
        '<node id="1" lat="30" lon="104"/><node id="2" lat="30.001" lon="104"/>'
        '<way id="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="footway"/></way></osm>')
    with pytest.raises(InputError) as e:
        read_osm(p)
    assert "`mode` = 'drive'" in str(e.value) and "`mode` = 'bike'" in str(e.value)
    assert len(e.value.problems) == 2
    net = read_osm(p, modes=("walk",))
    assert net.summary()["walk_edges"] == 2 and net.summary()["drive_edges"] == 0
    assert any("drive: the network has no usable edges" in str(x) for x in net.report)


def test_empty_network_is_an_error(tmp_path):
    p = tmp_path / "empty.osm"
    p.write_text('<?xml version="1.0"?><osm version="0.6">'
                 '<node id="1" lat="30" lon="104"/></osm>')
    with pytest.raises(InputError, match="no usable roads"):
        read_osm(p)


def test_unknown_mode_in_modes():
    with pytest.raises(InputError, match="`modes`"):
        read_osm(TINY, modes=("walk", "boat"))


@pytest.mark.parametrize("tags, expected", [
    ({"highway": "residential"}, (True, True, True, 0, 0)),
    ({"highway": "footway"}, (True, False, False, 0, 0)),
    ({"highway": "footway", "bicycle": "yes"}, (True, True, False, 0, 0)),
    ({"highway": "cycleway"}, (False, True, False, 0, 0)),
    ({"highway": "steps"}, (True, False, False, 0, 0)),
    ({"highway": "motorway"}, (False, False, True, 1, 1)),
    ({"highway": "trunk", "foot": "no"}, (False, True, True, 0, 0)),
    ({"highway": "primary", "oneway": "-1"}, (True, True, True, -1, -1)),
    ({"highway": "primary", "oneway": "yes", "cycleway": "opposite_lane"},
     (True, True, True, 0, 1)),
    ({"highway": "tertiary", "junction": "roundabout"}, (True, True, True, 1, 1)),
    ({"highway": "service", "service": "parking_aisle"}, (True, True, False, 0, 0)),
    ({"highway": "service", "access": "private"}, (False, False, False, 0, 0)),
    ({"highway": "construction"}, (False, False, False, 0, 0)),
    ({"highway": "pedestrian", "area": "yes"}, (False, False, False, 0, 0)),
    ({"highway": ["residential", "tertiary"], "oneway": True}, (True, True, True, 1, 1)),
])
def test_way_permissions(tags, expected):
    assert way_permissions(tags) == expected


@pytest.mark.parametrize("value, kmh", [
    ("60", 60.0), ("40 km/h", 40.0), ("30 mph", 30 * 1.609344), (50, 50.0),
    (["30", "50"], 40.0), ("CN:urban", np.nan), (None, np.nan), ("0", np.nan),
])
def test_parse_maxspeed(value, kmh):
    got = parse_maxspeed(value)
    if np.isnan(kmh):
        assert np.isnan(got)
    else:
        assert got == pytest.approx(kmh)
