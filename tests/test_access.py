"""Tests for coverage.access against networkx, brute force and hand calculations."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
import shapely

import coverage
from coverage import access as A
from coverage.errors import InputError
from coverage.geo import to_metric
from coverage.network import from_networkx, read_osm

DATA = Path(coverage.__file__).resolve().parent.parent / "data"
PBF = DATA / "chengdu" / "chengdu_core_2018.osm.pbf"
CRS = "EPSG:32648"
X0, Y0 = 400_000.0, 3_390_000.0

#: Speeds stated in the documentation, typed in independently of the module.
DRIVE_KMH = {"motorway": 60, "trunk": 40, "primary": 35, "secondary": 30, "tertiary": 25,
             "residential": 20, "unclassified": 20, "service": 15}


@pytest.fixture(scope="module")
def net():
    return read_osm(PBF)


@pytest.fixture(scope="module")
def walk(net):
    return A.travel_graph(net, "walk")


@pytest.fixture(scope="module")
def drive(net):
    return A.travel_graph(net, "drive")


@pytest.fixture(scope="module")
def grid(net):
    (x0, x1), (y0, y1) = to_metric([104.042, 104.130], [30.653, 30.728], CRS)
    xs, ys = np.meshgrid(np.arange(x0 + 100, x1, 200), np.arange(y0 + 100, y1, 200))
    rng = np.random.default_rng(1)
    x, y = xs.ravel(), ys.ravel()
    df = pd.DataFrame({"cell_id": np.arange(x.size), "pop": rng.uniform(0, 800, x.size),
                       "unit_id": np.where(x < (x0 + x1) / 2, "510104", "510105"),
                       "x": x, "y": y})
    df.index = df.index + 1000  # an index that is not 0..n-1
    return gpd.GeoDataFrame(df, geometry=shapely.box(x - 100, y - 100, x + 100, y + 100),
                            crs=CRS)


@pytest.fixture(scope="module")
def facilities(grid):
    rng = np.random.default_rng(2)
    pick = rng.choice(len(grid), 12, replace=False)
    x = grid["x"].to_numpy()[pick] + rng.uniform(-80, 80, 12)
    y = grid["y"].to_numpy()[pick] + rng.uniform(-80, 80, 12)
    return gpd.GeoDataFrame({"facility_id": [f"F{i:02d}" for i in range(12)],
                             "type": "library",
                             "floor_area_m2": rng.uniform(500, 8000, 12),
                             "capacity": np.nan},
                            geometry=gpd.points_from_xy(x, y), crs=CRS)


def _line_graph(n=5, spacing=60.0, crs=CRS):
    """Straight street of n nodes, `spacing` metres apart (1 min each at 3.6 km/h)."""
    G = nx.Graph()
    for i in range(n):
        G.add_node(i, x=X0 + i * spacing, y=Y0)
    for i in range(n - 1):
        G.add_edge(i, i + 1, highway="residential")
    return from_networkx(G, crs=crs)


ONE_MPS = A.TravelSettings(walk_kmh=3.6)


# ---------------------------------------------------------------------------
# travel times equal networkx shortest paths


def _nx_weighted(net, mode, kmh_of):
    """networkx graph of `mode` with time weights computed here, not by the module."""
    G = net.to_networkx(mode)
    H = nx.DiGraph()
    H.add_nodes_from(G.nodes(data=True))
    for a, b, d in G.edges(data=True):
        w = d["length"] / (kmh_of(d["highway"]) / 3.6)
        if not H.has_edge(a, b) or H[a][b]["w"] > w:
            H.add_edge(a, b, w=w)
    return H


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_embedded_times_equal_networkx(net, mode):
    tg = A.travel_graph(net, mode)
    kmh_of = (lambda hw: 4.5) if mode == "walk" else (lambda hw: DRIVE_KMH.get(hw, {
        "trunk_link": 30, "primary_link": 25, "secondary_link": 25, "tertiary_link": 20,
        "motorway_link": 40, "living_street": 10}.get(hw, 20)))
    H = _nx_weighted(net, mode, kmh_of)
    rng = np.random.default_rng(3)
    nodes = np.flatnonzero(net.node_mask(mode))
    src = rng.choice(nodes, 6, replace=False)
    dst = rng.choice(nodes, 40, replace=False)
    oxy = np.c_[net.x[src], net.y[src]]
    dxy = np.c_[net.x[dst], net.y[dst]]
    ours = A.travel_time_matrix(tg, oxy, dxy)
    for i, s in enumerate(src):
        ref = nx.single_source_dijkstra_path_length(H, int(net.node_id[s]), weight="w")
        exp = np.array([ref[int(net.node_id[d])] for d in dst])
        np.testing.assert_allclose(ours[i], exp, atol=1e-6, rtol=0)
    if mode == "drive":
        # directed: the matrix is not symmetric on one-way streets
        back = A.travel_time_matrix(tg, dxy, oxy).T
        assert np.abs(back - ours).max() > 1.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_directed_graphs_equal_networkx(seed):
    rng = np.random.default_rng(seed)
    D = nx.gnm_random_graph(80, 320, directed=True, seed=seed)
    G = nx.MultiDiGraph(crs=CRS)
    for n in D.nodes:
        G.add_node(n, x=X0 + rng.uniform(0, 3000), y=Y0 + rng.uniform(0, 3000))
    for a, b in D.edges:
        G.add_edge(a, b, length=float(rng.uniform(5, 800)))
    for a, b in list(D.edges)[:40]:  # parallel edges: the faster one counts
        G.add_edge(a, b, length=float(rng.uniform(5, 800)))
    for a, b in list(D.edges)[40:45]:  # zero-length edges
        G.add_edge(a, b, length=0.0)
    net = from_networkx(G)
    tg = A.travel_graph(net, "drive")  # no road class: 20 km/h everywhere
    H = nx.DiGraph()
    for a, b, d in G.edges(data=True):
        w = d["length"] / (20 / 3.6)
        if not H.has_edge(a, b) or H[a][b]["w"] > w:
            H.add_edge(a, b, w=w)
    big = max(nx.strongly_connected_components(H), key=len)
    assert set(net.node_id[net.node_mask("drive")].tolist()) == big
    nodes = sorted(big)
    xy = np.array([[G.nodes[n]["x"], G.nodes[n]["y"]] for n in nodes])
    ours = A.travel_time_matrix(tg, xy, xy)
    ref = dict(nx.all_pairs_dijkstra_path_length(H.subgraph(nodes), weight="w"))
    exp = np.array([[ref[a][b] for b in nodes] for a in nodes])
    np.testing.assert_allclose(ours, exp, atol=1e-6, rtol=0)
    # limit: only times within the limit are kept
    lim = float(np.median(exp))
    got = A.travel_time_matrix(tg, xy, xy, limit_s=lim)
    np.testing.assert_array_equal(np.isfinite(got), exp <= lim)


def test_drive_speed_table_and_elderly(net, walk):
    d = A.travel_graph(net, "drive")
    for hw, kmh in DRIVE_KMH.items():
        m = net.drive & (net.highway == hw)
        if m.any():
            np.testing.assert_allclose(d.time_s[m], net.length_m[m] / (kmh / 3.6))
    assert np.isnan(d.time_s[~net.drive]).all()
    old = A.travel_graph(net, "walk", elderly=True)
    m = net.walk
    np.testing.assert_allclose(old.time_s[m], walk.time_s[m] * 4.5 / 3.6)


def test_osmnx_speed_imputation_matches_osmnx(net):
    s = A.TravelSettings(drive_speeds="osmnx")
    ours = A.edge_speeds_kmh(net, "drive", s)
    G = ox.routing.add_edge_speeds(net.to_networkx("drive"))
    ref = {d["edge"]: d["speed_kph"] for _, _, d in G.edges(data=True)}
    idx = np.array(sorted(ref))
    np.testing.assert_allclose(ours[idx], [ref[i] for i in idx], rtol=1e-12)


def test_maxspeed_option_caps_tagged_speeds(net):
    s = A.TravelSettings(drive_speeds="maxspeed", maxspeed_cap_kmh=45)
    sp_ = A.edge_speeds_kmh(net, "drive", s)
    tagged = np.isfinite(net.maxspeed_kmh)
    assert tagged.any()
    np.testing.assert_allclose(sp_[tagged], np.minimum(net.maxspeed_kmh[tagged], 45))
    table = A.edge_speeds_kmh(net, "drive")
    np.testing.assert_allclose(sp_[~tagged], table[~tagged])


# ---------------------------------------------------------------------------
# nearest facility


def _brute_nearest(net, mode, kmh, cells_xy, fac_xy, max_snap=500.0):
    """Nearest-facility times by brute-force snapping and networkx Dijkstra."""
    H = _nx_weighted(net, mode, lambda hw: kmh)
    ids = list(H.nodes)
    P = np.array([[H.nodes[n]["x"], H.nodes[n]["y"]] for n in ids])
    walk_mps = 4.5 / 3.6

    def snap(xy):
        d = np.sqrt(((xy[:, None, :] - P[None, :, :]) ** 2).sum(-1))
        j = d.argmin(1)
        return [ids[k] for k in j], d[np.arange(len(xy)), j]

    fn, fd = snap(fac_xy)
    cn, cd = snap(cells_xy)
    R = H.reverse(copy=False)
    best = np.full(len(cells_xy), np.inf)
    who = np.full(len(cells_xy), -1)
    for f in range(len(fac_xy)):
        if fd[f] > max_snap:
            continue
        dist = nx.single_source_dijkstra_path_length(R, fn[f], weight="w")
        t = np.array([dist.get(c, np.inf) for c in cn]) + fd[f] / walk_mps + cd / walk_mps
        t[cd > max_snap] = np.inf
        better = t < best
        best[better], who[better] = t[better], f
    return best, who


@pytest.mark.parametrize("mode", ["walk", "bike"])
def test_nearest_facility_equals_brute_force(net, grid, facilities, mode):
    tg = A.travel_graph(net, mode)
    sub = grid.iloc[::7]
    res = A.nearest_facility(tg, sub, facilities)
    assert res.index.equals(sub.index)
    fxy = np.c_[facilities.geometry.x, facilities.geometry.y]
    kmh = 4.5 if mode == "walk" else 12.0
    best, who = _brute_nearest(net, mode, kmh, sub[["x", "y"]].to_numpy(), fxy)
    ok = np.isfinite(best)
    np.testing.assert_array_equal(res["reachable"].to_numpy(), ok)
    np.testing.assert_allclose(res["time_s"].to_numpy()[ok], best[ok], atol=1e-6, rtol=0)
    assert res["time_s"][~ok].isna().all()
    # the named facility is one of the fastest (ties may pick either)
    fid = facilities["facility_id"].to_numpy()
    named = res["facility_id"].to_numpy()[ok]
    assert (named == fid[who[ok]]).mean() > 0.95
    assert not np.isinf(res["time_s"]).any()


def test_nearest_facility_respects_one_way_direction():
    # a one-way ring 0 -> 1 -> 2 -> 3 -> 0, 60 m per side; at 3.6 km/h (1 m/s) each side is 60 s
    G = nx.MultiDiGraph(crs=CRS)
    pts = [(0, 0), (60, 0), (60, 60), (0, 60)]
    for i, (x, y) in enumerate(pts):
        G.add_node(i, x=X0 + x, y=Y0 + y)
    for i in range(4):
        G.add_edge(i, (i + 1) % 4, highway="residential", oneway=True)
    net = from_networkx(G)
    tg = A.travel_graph(net, "drive", A.TravelSettings(drive_kmh={"residential": 3.6}))
    fac = np.array([[X0 + 60, Y0]])        # facility at node 1
    cells = np.array([[X0, Y0], [X0 + 60, Y0 + 60]])  # home at node 0 and at node 2
    res = A.nearest_facility(tg, cells, fac)
    # from node 0 to node 1: one side; from node 2 to node 1: three sides (2->3->0->1)
    np.testing.assert_allclose(res["time_s"], [60.0, 180.0])
    assert res["facility_id"].tolist() == ["0", "0"]


def test_off_network_leg_is_walked():
    net = _line_graph()
    tg = A.travel_graph(net, "drive", A.TravelSettings(walk_kmh=3.6, drive_kmh={"residential": 36}))
    fac = np.array([[X0 + 240, Y0 + 30]])   # 30 m off node 4
    cells = np.array([[X0, Y0 - 40]])       # 40 m off node 0
    res = A.nearest_facility(tg, cells, fac)
    # 40 m walk (40 s) + 240 m at 10 m/s (24 s) + 30 m walk (30 s)
    assert res["time_s"].iloc[0] == pytest.approx(94.0)
    assert res["snap_m"].iloc[0] == pytest.approx(40.0)


# ---------------------------------------------------------------------------
# unreachable places


def _with_island():
    """A line street plus a two-node island 2 km away."""
    G = nx.Graph()
    for i in range(5):
        G.add_node(i, x=X0 + i * 60.0, y=Y0)
    for i in range(4):
        G.add_edge(i, i + 1, highway="residential")
    G.add_node("i1", x=X0 + 2000.0, y=Y0)
    G.add_node("i2", x=X0 + 2100.0, y=Y0)
    G.add_edge("i1", "i2", highway="residential")
    return from_networkx(G, crs=CRS)


def test_cell_on_island_is_unreachable_with_reason():
    net = _with_island()
    assert any("dropped 2 nodes" in str(p) for p in net.report)
    tg = A.travel_graph(net, "walk")
    cells = np.array([[X0 + 100, Y0 + 10], [X0 + 2050, Y0 + 5], [X0 + 9000, Y0]])
    res = A.nearest_facility(tg, cells, np.array([[X0, Y0]]))
    assert res["reachable"].tolist() == [True, False, False]
    assert math.isnan(res["time_s"].iloc[1]) and math.isnan(res["time_s"].iloc[2])
    assert "disconnected from the main network" in res["reason"].iloc[1]
    assert "no walk road of the main network within 500 m" in res["reason"].iloc[2]
    assert res["reason"].iloc[0] == ""
    assert pd.isna(res["facility_id"].iloc[1])


def test_facility_far_from_roads_is_reported_not_timed():
    net = _line_graph()
    tg = A.travel_graph(net, "walk", ONE_MPS)
    fac = pd.DataFrame({"facility_id": ["near", "far"], "x": [X0, X0 + 5000], "y": [Y0, Y0]})
    res = A.nearest_facility(tg, np.array([[X0 + 240, Y0]]), fac)
    assert res["facility_id"].tolist() == ["near"]
    assert res["time_s"].iloc[0] == pytest.approx(240.0)
    probs = res.attrs["problems"]
    assert len(probs) == 1 and "'far'" in probs[0].message
    assert "within 500 m" in probs[0].message
    # with only the far facility nobody is reachable, and no time is made up
    res2 = A.nearest_facility(tg, np.array([[X0, Y0]]), fac.iloc[[1]])
    assert not res2["reachable"].iloc[0] and math.isnan(res2["time_s"].iloc[0])
    assert "no facility can be placed" in res2["reason"].iloc[0]


def test_bad_parameters_name_the_parameter(net, walk, grid):
    with pytest.raises(InputError, match="`mode`"):
        A.travel_graph(net, "boat")
    with pytest.raises(InputError, match="`walk_kmh`"):
        A.TravelSettings(walk_kmh=0)
    with pytest.raises(InputError, match=r"`drive_kmh\['primary'\]`"):
        A.TravelSettings(drive_kmh={"primary": -5})
    with pytest.raises(InputError, match="`max_snap_m`"):
        A.TravelSettings(max_snap_m=-1)
    with pytest.raises(InputError, match="`drive_speeds`"):
        A.TravelSettings(drive_speeds="fast")
    times = pd.DataFrame({"time_s": np.zeros(len(grid))}, index=grid.index)
    with pytest.raises(InputError, match="`thresholds_min`"):
        A.coverage_summary(grid, times, (5, 0))
    with pytest.raises(InputError, match="`thresholds_min`"):
        A.coverage_summary(grid, times, (-1,))
    with pytest.raises(InputError, match="`threshold_s`"):
        A.reach_matrix(walk, np.array([[0.0, 0.0]]), grid, 0)
    with pytest.raises(InputError, match="`threshold_min`"):
        A.two_step_fca(walk, grid, pd.DataFrame({"x": [0.0], "y": [0.0], "floor_area_m2": [1.0]}),
                       threshold_min=0)
    with pytest.raises(InputError, match="`times` is not indexed like `grid`"):
        A.coverage_summary(grid, times.reset_index(drop=True))
    with pytest.raises(InputError, match="`facilities` is empty"):
        A.nearest_facility(walk, grid, np.zeros((0, 2)))


# ---------------------------------------------------------------------------
# coverage


def test_coverage_reconciles(walk, grid, facilities):
    res = A.nearest_facility(walk, grid, facilities)
    assert (~res["reachable"]).any()  # some cells lie far from the mapped roads
    summ = A.coverage_summary(grid, res, (5, 10, 15))
    assert set(summ["unit"]) == {"510104", "510105", "all"}
    pop = grid["pop"].to_numpy()
    t = res["time_s"].to_numpy()
    for _, r in summ.iterrows():
        assert r["pop_covered"] + r["pop_uncovered"] == r["pop_total"]
        sel = (np.ones(len(grid), bool) if r["unit"] == "all"
               else (grid["unit_id"] == r["unit"]).to_numpy())
        cov = sel & (t <= r["threshold_min"] * 60)  # NaN (unreachable) compares False
        assert r["pop_covered"] == pytest.approx(pop[cov].sum(), rel=1e-12)
        assert r["pop_total"] == pytest.approx(pop[sel].sum(), rel=1e-12)
        assert r["cells_uncovered"] == int((sel & ~cov).sum())
        assert r["share_covered"] + r["share_uncovered"] == pytest.approx(1.0)
    by_thr = summ[summ.unit != "all"].groupby("threshold_min")[["pop_covered", "pop_total"]].sum()
    tot = summ[summ.unit == "all"].set_index("threshold_min")
    np.testing.assert_allclose(by_thr["pop_covered"], tot["pop_covered"], rtol=1e-12)
    assert (np.diff(tot["pop_covered"].to_numpy()) >= 0).all()
    unc = A.uncovered_cells(grid, res, 10)
    assert isinstance(unc, gpd.GeoDataFrame)
    row = tot.loc[10.0]
    assert unc["pop"].sum() == pytest.approx(row["pop_uncovered"], rel=1e-12)
    assert set(unc.index) == set(grid.index[~(t <= 600)])
    assert unc["reason"].str.len().gt(0).sum() == (~res["reachable"]).sum()


# ---------------------------------------------------------------------------
# reach matrix


def test_reach_matrix_matches_dense_times_and_keeps_zeros(walk, grid, facilities):
    cand = np.c_[grid["x"].to_numpy()[::97], grid["y"].to_numpy()[::97]]
    n0 = int(walk.nodes[100])
    cand[0] = [walk.network.x[n0], walk.network.y[n0]]
    cells = grid.iloc[::5].copy()
    cells.loc[cells.index[0], ["x", "y"]] = cand[0]  # a cell exactly at a candidate's node
    thr = 600.0
    m = A.reach_matrix(walk, cand, cells, thr)
    assert m.shape == (len(cells), len(cand)) and m.format == "csr"
    dense = A.travel_time_matrix(walk, cells, cand)
    mask = dense <= thr
    got = np.zeros(m.shape, bool)
    r = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    got[r, m.indices] = True
    np.testing.assert_array_equal(got, mask)
    np.testing.assert_allclose(m.toarray()[mask], dense[mask], atol=1e-9)
    assert m[0, 0] == 0.0 and (r == 0).any() and 0 in m.indices[m.indptr[0]:m.indptr[1]]
    mt = A.reach_matrix(walk, cand, cells, thr, orientation="sources_by_targets")
    assert mt.shape == (len(cand), len(cells))
    assert (mt != m.T.tocsr()).nnz == 0 and mt.nnz == m.nnz
    # node indices as sources: same as coordinates exactly on those nodes
    nodes = walk.nodes[[5, 500, 5000]]
    mn = A.reach_matrix(walk, nodes, cells, thr)
    mx = A.reach_matrix(walk, np.c_[walk.network.x[nodes], walk.network.y[nodes]], cells, thr)
    assert (mn != mx).nnz == 0 and mn.nnz == mx.nnz > 0


def test_reach_matrix_direction_on_one_way_street():
    G = nx.MultiDiGraph(crs=CRS)
    G.add_node(0, x=X0, y=Y0)
    G.add_node(1, x=X0 + 60, y=Y0)
    G.add_node(2, x=X0 + 60, y=Y0 + 60)
    G.add_edge(0, 1, highway="residential")
    G.add_edge(1, 2, highway="residential")
    G.add_edge(2, 0, highway="residential", length=300.0)
    net = from_networkx(G)
    tg = A.travel_graph(net, "drive", A.TravelSettings(drive_kmh={"residential": 3.6}))
    site = np.array([[X0 + 60, Y0]])
    home = np.array([[X0, Y0]])
    to_site = A.reach_matrix(tg, site, home, 1000)
    from_site = A.reach_matrix(tg, site, home, 1000, direction="from_source")
    assert to_site[0, 0] == pytest.approx(60.0)           # 0 -> 1
    assert from_site[0, 0] == pytest.approx(60.0 + 300)   # 1 -> 2 -> 0


# ---------------------------------------------------------------------------
# catchments: nearest allocation, 2SFCA, E2SFCA


def _hand_setup():
    """Street 0-1-2-3-4, 60 m apart, walked at 1 m/s: one minute per block.

    Facilities A at node 0 (supply 100) and B at node 4 (supply 50); cells at
    nodes 0, 1, 3, 4 with populations 10, 20, 30, 40.
    """
    net = _line_graph()
    tg = A.travel_graph(net, "walk", ONE_MPS)
    grid = pd.DataFrame({"x": X0 + np.array([0, 60, 180, 240.0]), "y": Y0,
                         "pop": [10.0, 20.0, 30.0, 40.0], "unit_id": ["u1", "u1", "u2", "u2"]},
                        index=["c0", "c1", "c3", "c4"])
    fac = pd.DataFrame({"facility_id": ["A", "B"], "x": [X0, X0 + 240], "y": [Y0, Y0],
                        "floor_area_m2": [100.0, 50.0]}, index=[7, 9])
    return tg, grid, fac


def test_2sfca_hand_example():
    tg, grid, fac = _hand_setup()
    # times (minutes):   c0 c1 c3 c4
    #            A:       0  1  3  4
    #            B:       4  3  1  0
    # threshold 3.5 min: A reaches c0, c1, c3; B reaches c1, c3, c4
    # R_A = 100 / (10 + 20 + 30) = 1.666667;  R_B = 50 / (20 + 30 + 40) = 0.555556
    # access: c0 = R_A = 1.666667; c1 = R_A + R_B = 2.222222; c3 = 2.222222; c4 = R_B = 0.555556
    res = A.two_step_fca(tg, grid, fac, threshold_min=3.5)
    np.testing.assert_allclose(res.cells["access"], [100 / 60, 100 / 60 + 50 / 90,
                                                     100 / 60 + 50 / 90, 50 / 90])
    assert res.cells.index.tolist() == ["c0", "c1", "c3", "c4"]
    assert res.cells["n_facilities"].tolist() == [1, 2, 2, 1]
    assert res.facilities.index.tolist() == [7, 9]
    np.testing.assert_allclose(res.facilities["ratio"], [100 / 60, 50 / 90])
    np.testing.assert_allclose(res.facilities["demand"], [60, 90])
    # total supply is conserved: sum_i access_i * pop_i = sum_j supply_j
    assert (res.cells["access"] * grid["pop"]).sum() == pytest.approx(150.0)


def test_e2sfca_hand_example():
    tg, grid, fac = _hand_setup()
    # zones: up to 1.5 min weight 1.0, up to 3.5 min weight 0.5
    # weights A: c0 1, c1 1, c3 0.5;  B: c1 0.5, c3 1, c4 1
    # R_A = 100 / (10 + 20 + 0.5*30) = 100/45 = 2.222222
    # R_B = 50 / (0.5*20 + 30 + 40) = 50/80 = 0.625
    # c0 = 2.222222; c1 = 2.222222 + 0.5*0.625 = 2.534722
    # c3 = 0.5*2.222222 + 0.625 = 1.736111; c4 = 0.625
    res = A.two_step_fca(tg, grid, fac, threshold_min=3.5, decay="step",
                         steps=[(1.5, 1.0), (3.5, 0.5)])
    np.testing.assert_allclose(res.cells["access"], [100 / 45, 100 / 45 + 0.3125,
                                                     50 / 45 + 0.625, 0.625])
    np.testing.assert_allclose(res.facilities["ratio"], [100 / 45, 0.625])
    # count supply, gaussian decay: w(t) = (exp(-t^2/(2 T^2)) - e^-0.5) / (1 - e^-0.5), T = 3.5
    e = math.exp(-0.5)
    w = {t: (math.exp(-0.5 * (t / 3.5) ** 2) - e) / (1 - e) for t in (0, 1, 3)}
    ra = 1 / (10 * w[0] + 20 * w[1] + 30 * w[3])
    rb = 1 / (20 * w[3] + 30 * w[1] + 40 * w[0])
    res = A.two_step_fca(tg, grid, fac, threshold_min=3.5, decay="gaussian", supply="count")
    np.testing.assert_allclose(res.cells["access"], [w[0] * ra, w[1] * ra + w[3] * rb,
                                                     w[3] * ra + w[1] * rb, w[0] * rb])


def test_fca_missing_supply_is_listed():
    tg, grid, fac = _hand_setup()
    fac = fac.assign(capacity=[np.nan, -3.0])
    with pytest.raises(InputError) as e:
        A.two_step_fca(tg, grid, fac, supply="capacity")
    assert len(e.value.problems) == 2
    assert "'A'" in str(e.value) and "supply='count'" in str(e.value)


def test_catchment_population_hand_example():
    tg, grid, fac = _hand_setup()
    near = A.nearest_facility(tg, grid, fac)
    # c0 (0 min) and c1 (1 min) go to A; c3 (1 min) and c4 (0 min) go to B
    assert near["facility_id"].tolist() == ["A", "A", "B", "B"]
    np.testing.assert_allclose(near["time_s"], [0, 60, 60, 0])
    cp = A.catchment_population(grid, near, fac)
    assert cp.index.tolist() == [7, 9]
    np.testing.assert_allclose(cp["pop_served"], [30, 70])
    # pop-weighted mean time: A (10*0 + 20*60)/30 = 40 s; B (30*60 + 40*0)/70 = 25.714 s
    np.testing.assert_allclose(cp["mean_time_s"], [40, 1800 / 70])
    assert cp["n_cells"].tolist() == [2, 2]


# ---------------------------------------------------------------------------
# isochrones


def test_isochrone_hand_example():
    tg, _, _ = _hand_setup()
    iso = A.isochrones(tg, np.array([[X0, Y0 + 20]]), (1.5, 10), buffer_m=10)
    assert iso.crs == CRS and len(iso) == 2
    # 1.5 min = 90 s: 20 s to walk onto the street, 70 m along it
    g = iso.geometry.iloc[0]
    minx, miny, maxx, maxy = g.bounds
    assert (minx, maxx) == (pytest.approx(X0 - 10), pytest.approx(X0 + 80))
    assert (miny, maxy) == (pytest.approx(Y0 - 10), pytest.approx(Y0 + 10))
    # 10 min reaches the whole 240 m street
    assert iso.geometry.iloc[1].bounds[2] == pytest.approx(X0 + 250)


def test_isochrones_contain_reached_nodes(walk, facilities):
    iso = A.isochrones(walk, facilities.iloc[:3], (5, 10))
    assert len(iso) == 6 and iso["source_id"].tolist()[:2] == ["F00", "F00"]
    net = walk.network
    H = _nx_weighted(net, "walk", lambda hw: 4.5)
    fxy = np.c_[facilities.geometry.x, facilities.geometry.y][:3]
    node, snap = walk.snap(fxy)
    for k in range(3):
        dist = nx.single_source_dijkstra_path_length(H, int(net.node_id[node[k]]), weight="w")
        for thr in (5, 10):
            g = iso[(iso.source_id == f"F{k:02d}") & (iso.threshold_min == thr)].geometry.iloc[0]
            budget = thr * 60 - snap[k] / (4.5 / 3.6)
            inside = [n for n, d in dist.items() if d < budget - 1e-6]
            # lower bound: every node reached within the budget is inside
            pin = shapely.points([[H.nodes[n]["x"], H.nodes[n]["y"]] for n in inside])
            assert shapely.covers(g.buffer(1e-6), pin).all()
            # upper bound: the polygon lies within 50 m of streets touching a reached node
            segs = [((H.nodes[a]["x"], H.nodes[a]["y"]), (H.nodes[b]["x"], H.nodes[b]["y"]))
                    for a, b in H.edges if dist.get(a, np.inf) < budget]
            upper = shapely.union_all(shapely.buffer(shapely.linestrings(segs), 50.5))
            assert g.difference(upper).area < 1.0
            assert g.area < upper.area
    by_ids = A.isochrones(walk, ["F01"], (5,), facilities=facilities)
    assert by_ids.geometry.iloc[0].equals(iso.geometry.iloc[2])


# ---------------------------------------------------------------------------
# equity


def test_equity_hand_example():
    tg, grid, fac = _hand_setup()
    near = A.nearest_facility(tg, grid, fac)  # times 0, 60, 60, 0 s
    units = pd.DataFrame({"unit_id": ["u1", "u2"], "pct_65_plus": [20.0, 10.0],
                          "pct_0_14": [5.0, 15.0]})
    older = A.nearest_facility(A.travel_graph(tg.network, "walk", ONE_MPS, elderly=True), grid, fac)
    # elderly walk 3.6 km/h is also the default walk here -> same times
    res = A.equity(grid, near, units, thresholds_min=(0.5,), elderly_times=older, worst_share=0.5)
    s = res.summary.set_index(["group", "unit"])
    # 65+: c0 2 (covered), c1 4, c3 3, c4 4 (covered) -> covered 6 of 13
    r = s.loc[("age_65_plus", "all")]
    assert r["pop_total"] == pytest.approx(13.0) and r["pop_covered"] == pytest.approx(6.0)
    # 0-14: c0 0.5 (covered), c1 1, c3 4.5, c4 6 (covered) -> 6.5 of 12
    r = s.loc[("age_0_14", "all")]
    assert r["pop_total"] == pytest.approx(12.0) and r["pop_covered"] == pytest.approx(6.5)
    assert s.loc[("all", "u2"), "pop_covered"] == pytest.approx(40.0)
    # worst 50 % of 100 residents: c1 and c3 (60 s each) hold exactly 50
    assert sorted(res.worst_cells.index) == ["c1", "c3"]
    assert res.worst_time_s == pytest.approx(60.0)
    wbu = res.worst_by_unit
    assert wbu.loc["u1", "pop_worst"] == pytest.approx(20.0)
    assert wbu.loc["u2", "share_of_unit"] == pytest.approx(30 / 70)
    assert wbu["share_of_worst"].sum() == pytest.approx(1.0)


def test_equity_elderly_speed_lowers_coverage(net, walk, grid, facilities):
    units = pd.DataFrame({"unit_id": ["510104", "510105"], "pct_65_plus": [18.0, 16.0],
                          "pct_0_14": [9.0, 10.0]})
    near = A.nearest_facility(walk, grid, facilities)
    older = A.nearest_facility(A.travel_graph(net, "walk", elderly=True), grid, facilities)
    ok = near["reachable"].to_numpy()
    np.testing.assert_allclose(older["time_s"][ok], near["time_s"][ok] * 4.5 / 3.6, rtol=1e-9)
    res = A.equity(grid, near, units, elderly_times=older)
    s = res.summary[res.summary.unit == "all"].set_index(["group", "threshold_min"])
    for thr in (5.0, 10.0, 15.0):
        assert s.loc[("age_65_plus", thr), "share_covered"] < s.loc[("all", thr), "share_covered"]
    # worst 10 %: at least 10 % of the population, unreachable cells first
    tot = grid["pop"].sum()
    wp = res.worst_cells["pop"].sum()
    assert 0.10 * tot <= wp < 0.10 * tot + grid["pop"].max()
    assert res.worst_cells.index.isin(near.index[~near["reachable"]]).sum() == (~ok).sum()
    with pytest.raises(InputError, match="without age shares"):
        A.equity(grid, near, units.iloc[:1])


# ---------------------------------------------------------------------------
# speed of the whole analysis on the embedded area


def test_whole_analysis_on_embedded_area_is_fast(net, grid, facilities):
    import time

    t0 = time.perf_counter()
    for mode in ("walk", "bike", "drive"):
        tg = A.travel_graph(net, mode)
        near = A.nearest_facility(tg, grid, facilities)
        A.coverage_summary(grid, near)
        A.two_step_fca(tg, grid, facilities, decay="step")
        A.reach_matrix(tg, grid.iloc[::10], grid, 900)
    assert time.perf_counter() - t0 < 10.0  # about 0.3 s when the machine is idle


# ---------------------------------------------------------------------------
# snapping once, local searches


def test_snapped_points_reused_give_the_same_answers(walk, drive, grid, facilities):
    sc = A.snap_points(walk, grid)
    fr = sc.frame()
    assert fr.index.equals(grid.index) and fr["reachable"].sum() < len(grid)
    a = A.nearest_facility(walk, grid, facilities)
    b = A.nearest_facility(walk, sc, facilities)
    pd.testing.assert_frame_equal(a, b, check_like=True)
    fs = A.snap_points(walk, facilities)
    c = A.nearest_facility(walk, sc, fs)
    assert c["facility_id"].equals(a["facility_id"])
    m1 = A.reach_matrix(walk, facilities, grid, 600)
    m2 = A.reach_matrix(walk, fs, sc, 600)
    assert (m1 != m2).nnz == 0 and m1.nnz == m2.nnz
    with pytest.raises(InputError, match="snapped to another travel graph"):
        A.nearest_facility(drive, sc, facilities)


def test_local_search_is_exact_with_shortcut_edges():
    # a grid street network plus a 'tunnel' whose length is far shorter than the
    # straight line: a search limited by straight-line distance would miss it
    G = nx.Graph()
    n = 12
    for i in range(n):
        for j in range(n):
            G.add_node((i, j), x=X0 + 100.0 * j, y=Y0 + 100.0 * i)
    for i in range(n):
        for j in range(n):
            if j + 1 < n:
                G.add_edge((i, j), (i, j + 1), length=100.0)
            if i + 1 < n:
                G.add_edge((i, j), (i + 1, j), length=100.0)
    G.add_edge((0, 0), (11, 11), length=50.0)
    # a long road out of town makes the network large compared with the search radius
    G.add_node("far", x=X0 + 40_000.0, y=Y0)
    G.add_edge((0, 11), "far", length=38_900.0)
    net = from_networkx(G, crs=CRS)
    tg = A.travel_graph(net, "walk", ONE_MPS)
    assert tg.max_speed_mps == pytest.approx(1100 * math.sqrt(2) / 50)
    src = np.array([[X0, Y0], [X0 + 500, Y0 + 500]])
    tgt = np.array([[X0 + 1100, Y0 + 1100], [X0 + 1000, Y0 + 1100], [X0 + 100, Y0]])
    m = A.reach_matrix(tg, src, tgt, 200.0, orientation="sources_by_targets")
    # from (0,0): tunnel 50 s to (11,11), +100 s to (11,10); 100 s to (0,1)
    assert m.toarray()[0].tolist() == [50.0, 150.0, 100.0]
    assert m[1].nnz == 0
    # the same distances through the unrestricted search
    dense = A.travel_time_matrix(tg, tgt, src)
    np.testing.assert_allclose(dense[:, 0], [50.0, 150.0, 100.0])
    # the search really is local: with a (wrong) walking-pace bound the tunnel is missed
    from dataclasses import replace

    wrong = replace(tg, max_speed_mps=1.0)
    mw = A.reach_matrix(wrong, src, tgt, 200.0, orientation="sources_by_targets")
    assert mw.toarray()[0].tolist() == [0.0, 0.0, 100.0] and mw[0].nnz == 1


def test_settings_are_frozen():
    s = A.TravelSettings()
    with pytest.raises(Exception):
        s.walk_kmh = 5.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        s.drive_kmh["primary"] = 99  # type: ignore[index]
    assert s.elderly().walk_kmh == 3.6 and s.walk_kmh == 4.5


def test_places_in_another_crs_are_reprojected(walk, grid, facilities):
    a = A.nearest_facility(walk, grid.iloc[::20], facilities)
    b = A.nearest_facility(walk, grid.iloc[::20].drop(columns=["x", "y"]).to_crs("EPSG:4326"),
                           facilities.to_crs("EPSG:4326"))
    np.testing.assert_allclose(a["time_s"], b["time_s"], atol=1e-3)
