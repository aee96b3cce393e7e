"""Pass-through chain contraction, k-d tree snapping and the overlapped search.

References: networkx Dijkstra (independent of scipy), scipy's Dijkstra on the
whole graph, and brute-force nearest-node distances.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import coverage
from coverage import _chains as C
from coverage import access as A
from coverage.geo import to_metric
from coverage.network import from_networkx, read_osm

PBF = Path(coverage.__file__).resolve().parent.parent / "data" / "chengdu" / \
    "chengdu_core_2018.osm.pbf"
CRS = "EPSG:32648"


@pytest.fixture(scope="module")
def net():
    return read_osm(PBF)


def _matrices(edges: dict[tuple[int, int], float], n: int):
    """Sorted CSR matrix of edge times and its transpose, from ``{(a, b): t}``."""
    keys = sorted(edges)
    u = np.array([a for a, _ in keys], np.int64)
    v = np.array([b for _, b in keys], np.int64)
    w = np.array([edges[k] for k in keys])
    o = np.lexsort((u, v))
    return A._csr(u, v, w, (n, n)), A._csr(v[o], u[o], w[o], (n, n))


def _chainy_graph(rng, n_junctions: int):
    """Junctions joined by chains of shape nodes; some one-way, a closed ring, a lone node."""
    edges: dict[tuple[int, int], float] = {}
    nxt = n_junctions

    def add(a, b, t):
        if a != b and ((a, b) not in edges or edges[(a, b)] > t):
            edges[(a, b)] = t

    for _ in range(2 * n_junctions):
        a, b = (int(x) for x in rng.integers(0, n_junctions, 2))
        prev = a
        for _ in range(int(rng.integers(0, 6))):
            add(prev, nxt, float(rng.uniform(1, 60)))
            if rng.random() > 0.15:
                add(nxt, prev, float(rng.uniform(1, 60)))
            prev, nxt = nxt, nxt + 1
        add(prev, b, float(rng.uniform(1, 60)))
        add(b, prev, float(rng.uniform(1, 60)))
    ring = list(range(nxt, nxt + 5))  # a ring of pass-through nodes, no junction
    for i, a in enumerate(ring):
        add(a, ring[(i + 1) % 5], 2.0)
        add(ring[(i + 1) % 5], a, 3.0)
    n = nxt + 6  # the last node has no edges
    return edges, n


def _reference(edges, n, nodes, offsets):
    """Least time(v -> nodes[j]) + offsets[j] per node, by networkx."""
    G = nx.DiGraph()
    G.add_nodes_from(range(n))
    for (a, b), t in edges.items():
        G.add_edge(b, a, w=t)  # reversed: from the sources outwards
    best = np.full(n, np.inf)
    for s, o in zip(nodes, offsets):
        for v, d in nx.single_source_dijkstra_path_length(G, int(s), weight="w").items():
            best[v] = min(best[v], d + o)
    return best


@pytest.mark.parametrize("seed", range(6))
def test_contracted_search_equals_networkx_on_random_chainy_graphs(seed):
    rng = np.random.default_rng(seed)
    edges, n = _chainy_graph(rng, int(rng.integers(3, 25)))
    M, Mt = _matrices(edges, n)
    cc = C.contract(M, Mt)
    assert cc.chain.size > 0 and cc.core.size < n
    for trial in range(8):
        k = int(rng.integers(1, 7))
        nodes = rng.integers(0, n, k)
        if trial == 0:
            nodes[0] = n - 1  # a source on the node without edges
        offsets = rng.uniform(0, 40, k) * (trial % 2)
        dist, which = C.nearest_sources(cc, nodes, offsets)
        ref = _reference(edges, n, nodes, offsets)
        np.testing.assert_array_equal(np.isfinite(dist), np.isfinite(ref))
        ok = np.isfinite(ref)
        np.testing.assert_allclose(dist[ok], ref[ok], atol=1e-9, rtol=0)
        assert (which[~ok] == -1).all()
        # the named source is one of the nearest: its own time equals the least time
        for v in np.flatnonzero(ok):
            j = which[v]
            own = _reference(edges, n, nodes[j:j + 1], offsets[j:j + 1])[v]
            assert own == pytest.approx(ref[v], abs=1e-9)


@pytest.mark.parametrize("mode", ["walk", "bike", "drive"])
def test_contracted_search_equals_whole_graph_dijkstra_on_embedded_network(net, mode):
    from scipy.sparse.csgraph import dijkstra

    tg = A.travel_graph(net, mode)
    cc = tg._chains
    assert cc.core.size + cc.chain.size <= tg.n_nodes
    assert cc.chain.size > 0.2 * tg.nodes.size  # street shape points are most nodes
    rng = np.random.default_rng(7)
    for k in (1, 5, 40):
        nodes = rng.choice(tg.nodes, k, replace=False)
        offsets = rng.uniform(0, 120, k)
        dist, which = C.nearest_sources(cc, nodes, offsets)
        full = dijkstra(tg.matrix_t, directed=True, indices=nodes) + offsets[:, None]
        ref = full.min(axis=0)
        np.testing.assert_array_equal(np.isfinite(dist), np.isfinite(ref))
        ok = np.isfinite(ref)
        np.testing.assert_allclose(dist[ok], ref[ok], atol=1e-6, rtol=0)
        np.testing.assert_allclose(full[which[ok], np.flatnonzero(ok)], ref[ok],
                                   atol=1e-6, rtol=0)


def test_snapping_finds_the_nearest_node_like_brute_force(net):
    tg = A.travel_graph(net, "walk")
    P = np.c_[net.x[tg.nodes], net.y[tg.nodes]]
    rng = np.random.default_rng(3)
    lo, hi = P.min(axis=0), P.max(axis=0)
    # random points, points on nodes, midpoints of two nodes (equal distances)
    pts = np.r_[rng.uniform(lo, hi, (6000, 2)), P[:300],
                (P[:200] + P[200:400]) / 2, [[np.nan, 1.0]]]
    node, dist = tg.snap(pts)  # > 5000 points: the ordered search
    small_node, small_dist = tg.snap(pts[:50])  # unordered
    brute = np.sqrt(((pts[:-1, None, :] - P[None, :, :]) ** 2).sum(-1)).min(axis=1)
    np.testing.assert_allclose(dist[:-1], brute, atol=1e-9, rtol=0)
    got = np.hypot(net.x[node[:-1]] - pts[:-1, 0], net.y[node[:-1]] - pts[:-1, 1])
    np.testing.assert_allclose(got, brute, atol=1e-9, rtol=0)
    assert node[-1] == -1 and np.isinf(dist[-1])
    np.testing.assert_array_equal(small_node, node[:50])
    np.testing.assert_array_equal(small_dist, dist[:50])


def test_node_index_survives_pickling(net):
    tg = A.travel_graph(net, "walk")
    back = pickle.loads(pickle.dumps(tg._tree))
    pts = np.c_[net.x[tg.nodes[:20]] + 7.0, net.y[tg.nodes[:20]] - 3.0]
    for a, b in zip(back.query(pts), tg._tree.query(pts)):
        np.testing.assert_array_equal(a, b)


@pytest.fixture(scope="module")
def city():
    """A perturbed street grid with shape nodes, large enough for the overlapped path."""
    rng = np.random.default_rng(5)
    side = 60
    G = nx.MultiDiGraph(crs=CRS)
    for i in range(side):
        for j in range(side):
            G.add_node(i * side + j, x=400_000 + j * 80 + rng.uniform(-15, 15),
                       y=3_380_000 + i * 80 + rng.uniform(-15, 15))
    nid = side * side
    for i in range(side):
        for j in range(side):
            a = i * side + j
            for b in ([a + 1] if j < side - 1 else []) + ([a + side] if i < side - 1 else []):
                if rng.random() < 0.1:
                    continue
                if rng.random() < 0.5:  # a shape node in the middle of the segment
                    G.add_node(nid, x=(G.nodes[a]["x"] + G.nodes[b]["x"]) / 2 + 5,
                               y=(G.nodes[a]["y"] + G.nodes[b]["y"]) / 2)
                    for p, q in ((a, nid), (nid, b)):
                        d = float(np.hypot(G.nodes[p]["x"] - G.nodes[q]["x"],
                                           G.nodes[p]["y"] - G.nodes[q]["y"]))
                        G.add_edge(p, q, length=d)
                        G.add_edge(q, p, length=d)
                    nid += 1
                else:
                    d = float(np.hypot(G.nodes[a]["x"] - G.nodes[b]["x"],
                                       G.nodes[a]["y"] - G.nodes[b]["y"]))
                    G.add_edge(a, b, length=d)
                    G.add_edge(b, a, length=d)
    net = from_networkx(G, modes=("walk",), source="test grid")
    W = (side - 1) * 80
    cells = np.c_[400_000 + rng.uniform(-300, W + 300, 30_000),
                  3_380_000 + rng.uniform(-300, W + 300, 30_000)]
    cells[:3] = [[np.nan, np.nan], [390_000, 3_380_000], [400_000, 3_370_000]]
    fac = cells[rng.choice(np.arange(3, len(cells)), 25, replace=False)]
    return net, cells, fac


def test_overlapped_search_gives_the_sequential_answer(city, monkeypatch):
    net, cells, fac = city
    tg = A.travel_graph(net, "walk")
    assert len(cells) >= A._OVERLAP_QUERIES
    both = A.nearest_facility(tg, cells, fac)
    monkeypatch.setattr(A, "_OVERLAP_QUERIES", 10 ** 9)
    one = A.nearest_facility(tg, cells, fac)
    pd.testing.assert_frame_equal(both, one)
    assert not both["reachable"].iloc[:3].any()
    assert both["reason"].iloc[0] == "no coordinates"
    assert "no walk road" in both["reason"].iloc[1]
    assert both["reachable"].iloc[3:].mean() > 0.9
    # against networkx on the same graph, for a sample of reachable cells
    G = tg.to_networkx()
    fnode, fd = tg.snap(fac)
    ref = nx.multi_source_dijkstra_path_length(
        G.reverse(copy=False), {int(net.node_id[v]) for v in fnode}, weight="time_s")
    ok = np.flatnonzero(both["reachable"].to_numpy())[:2000]
    cnode, cd = tg.snap(cells[ok])
    got = both["time_s"].to_numpy()[ok]
    facility_legs = fd / tg.settings.walk_mps
    lower = np.array([ref[int(net.node_id[v])] for v in cnode]) + cd / tg.settings.walk_mps
    assert (got >= lower - 1e-6).all() and (got <= lower + facility_legs.max() + 1e-6).all()


def test_failure_in_the_background_search_reaches_the_caller(city, monkeypatch):
    net, cells, fac = city
    tg = A.travel_graph(net, "walk")

    def broken(*args):
        raise RuntimeError("search failed")

    monkeypatch.setattr(A, "nearest_sources", broken)
    with pytest.raises(RuntimeError, match="search failed"):
        A.nearest_facility(tg, cells, fac)


def test_string_columns_keep_pandas_default_dtype():
    col = A._str_column(np.array(["F1", "F2"]), np.array([1, -1, 0]))
    s = pd.Series(col)
    assert s.dtype == pd.Series(["x"]).dtype
    assert s.tolist()[0] == "F2" and s.isna().tolist() == [False, True, False]
    assert pd.Series(A._str_column(["a"], np.array([-1, -1]))).isna().all()
    mixed = A._str_column([1, "b"], np.array([0, 1, -1]))
    assert list(mixed) == [1, "b", None]


def test_chengdu_grid_times_match_networkx_through_chain_nodes(net):
    tg = A.travel_graph(net, "walk")
    (x0, x1), (y0, y1) = to_metric([104.06, 104.09], [30.66, 30.69], CRS)
    xs, ys = np.meshgrid(np.arange(x0, x1, 150), np.arange(y0, y1, 150))
    cells = np.c_[xs.ravel(), ys.ravel()]
    fac = cells[[5, 77, 140]] + 13.0
    res = A.nearest_facility(tg, cells, fac)
    cnode, cd = tg.snap(cells)
    on_chain = tg._chains.chain_of[cnode] >= 0
    assert on_chain.sum() > 20  # many cells are timed through chain nodes
    G = tg.to_networkx().reverse(copy=False)
    fnode, fd = tg.snap(fac)
    best = np.full(len(cells), np.inf)
    for v, d in zip(fnode, fd):
        ref = nx.single_source_dijkstra_path_length(G, int(net.node_id[v]), weight="time_s")
        t = np.array([ref.get(int(net.node_id[c]), np.inf) for c in cnode])
        best = np.minimum(best, t + d / tg.settings.walk_mps + cd / tg.settings.walk_mps)
    ok = np.isfinite(best)
    np.testing.assert_allclose(res["time_s"].to_numpy()[ok], best[ok], atol=1e-6, rtol=0)
