"""Siting models checked against brute force, networkx max-flow and spopt."""

from __future__ import annotations

import itertools
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from coverage import siting
from coverage.errors import InfeasibleError, InputError

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pulp.*")

THR = 30.0
DATA = Path(siting.__file__).resolve().parent.parent / "data"


def instance(seed: int, n: int = 30, m: int = 8, p_inf: float = 0.1):
    rng = np.random.default_rng(seed)
    T = rng.uniform(0, 100, (n, m))
    T[rng.random((n, m)) < p_inf] = np.inf
    w = rng.integers(0, 50, n).astype(float)
    return T, w


def spatial(seed: int, n: int, m: int, side: float = 3000.0):
    rng = np.random.default_rng(seed)
    d = rng.uniform(0, side, (n, 2))
    c = rng.uniform(0, side, (m, 2))
    T = np.sqrt(((d[:, None] - c[None]) ** 2).sum(-1)) * 1.3 / (5000 / 3600)
    return T, rng.integers(10, 300, n).astype(float)


def covered_by(T, cols, thr=THR):
    if len(cols) == 0:
        return np.zeros(T.shape[0], bool)
    return (T[:, list(cols)] <= thr).any(axis=1)


# ------------------------------------------------------------------ MCLP
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("p", [1, 2, 3])
def test_mclp_equals_brute_force(seed, p):
    T, w = instance(seed)
    best = max(w[covered_by(T, S)].sum() for S in itertools.combinations(range(T.shape[1]), p))
    r = siting.mclp(T, w, threshold_s=THR, p=p, method="milp")
    assert r.objective == pytest.approx(best, abs=1e-9)
    assert r.optimal and r.gap == 0 and r.solver == "highs"
    assert w[covered_by(T, r.new_sites)].sum() == pytest.approx(best)
    assert np.all(np.diff(r.selected) > 0) and len(r.new_sites) <= p
    # every demand row is covered iff a selected site reaches it
    assert np.array_equal(r.covered.astype(bool), covered_by(T, r.selected))


@pytest.mark.parametrize("seed", range(3))
def test_mclp_existing_and_precovered_equal_brute_force(seed):
    T, w = instance(seed, m=9)
    ex = [1, 4]
    rng = np.random.default_rng(100 + seed)
    E = rng.uniform(0, 200, (T.shape[0], 2))       # facilities outside the candidate set
    pre = (E <= THR).any(axis=1)
    free = [j for j in range(9) if j not in ex]
    best, best_new = -1, 0
    for S in itertools.combinations(free, 2):
        cov = covered_by(T, list(S) + ex) | pre
        if w[cov].sum() > best:
            best = w[cov].sum()
            best_new = w[cov & ~(covered_by(T, ex) | pre)].sum()
    r = siting.mclp(T, w, threshold_s=THR, p=2, existing=ex, existing_times=E)
    assert r.objective == pytest.approx(best)
    assert set(ex) <= set(r.selected) and not set(ex) & set(r.new_sites)
    assert r.new_covered_pop == pytest.approx(best_new)
    assert r.sites.loc[ex, "new_covered_pop"].sum() == 0
    r2 = siting.mclp(T, w, threshold_s=THR, p=2, existing=ex, already_covered=pre)
    assert r2.objective == pytest.approx(best)


@pytest.mark.parametrize("seed", range(3))
def test_mclp_budget_equals_brute_force(seed):
    T, w = instance(seed, m=8)
    costs = np.random.default_rng(seed).integers(1, 6, 8).astype(float)
    budget = 7.0
    best = 0.0
    for k in range(0, 9):
        for S in itertools.combinations(range(8), k):
            if costs[list(S)].sum() <= budget:
                best = max(best, w[covered_by(T, S)].sum())
    r = siting.mclp(T, w, threshold_s=THR, budget=budget, costs=costs)
    assert r.objective == pytest.approx(best)
    assert costs[r.new_sites].sum() <= budget
    h = siting.mclp(T, w, threshold_s=THR, budget=budget, costs=costs, method="heuristic")
    assert h.objective <= best + 1e-9 <= h.bound + 1e-9
    assert costs[h.new_sites].sum() <= budget


def served_maxflow(T, w, cols, cap, thr=THR):
    """Largest population the open sites can serve within capacities (max-flow)."""
    G = nx.DiGraph()
    for i in range(T.shape[0]):
        if w[i] > 0:
            G.add_edge("s", ("d", i), capacity=float(w[i]))
            for j in cols:
                if T[i, j] <= thr:
                    G.add_edge(("d", i), ("c", j))   # no capacity attribute = infinite
    for j in cols:
        G.add_edge(("c", j), "t", capacity=float(cap[j]))
    if "s" not in G or "t" not in G:
        return 0.0
    return nx.maximum_flow_value(G, "s", "t")


@pytest.mark.parametrize("seed", range(3))
def test_mclp_capacity_equals_maxflow_brute_force(seed):
    T, w = instance(seed, n=20, m=6, p_inf=0.0)
    cap = np.random.default_rng(seed).integers(40, 120, 6).astype(float)
    best = max(served_maxflow(T, w, S, cap) for S in itertools.combinations(range(6), 2))
    r = siting.mclp(T, w, threshold_s=THR, p=2, capacity=cap)
    assert r.objective == pytest.approx(best, rel=1e-7)
    served = r.sites["served_pop"]
    assert np.all(served.to_numpy() <= cap[served.index] + 1e-6)
    assert float(w @ r.covered) == pytest.approx(best, rel=1e-7)
    assert r.new_covered_pop == pytest.approx(served.sum(), rel=1e-7)


@pytest.mark.parametrize("seed", range(3))
def test_mclp_quota_equals_brute_force(seed):
    T, w = instance(seed, m=8)
    district = np.array(["A", "A", "A", "B", "B", "B", "C", "C"])
    quota = {"B": 1, "C": 2}
    ex = [6]
    best = -1
    for S in itertools.combinations([j for j in range(8) if j not in ex], 3):
        opened = list(S) + ex
        if all(np.sum(district[opened] == d) >= q for d, q in quota.items()):
            best = max(best, w[covered_by(T, opened)].sum())
    r = siting.mclp(T, w, threshold_s=THR, p=3, existing=ex, quota=quota,
                    candidate_district=district)
    assert r.objective == pytest.approx(best)
    for d, q in quota.items():
        assert np.sum(district[r.selected] == d) >= q


def test_impossible_quota_raises_naming_the_district():
    T, w = instance(0, m=8)
    district = np.array(["A"] * 6 + ["B"] * 2)
    with pytest.raises(InfeasibleError, match="'B'.*needs 3") as e:
        siting.mclp(T, w, threshold_s=THR, p=4, quota={"B": 3}, candidate_district=district)
    assert "1 short" in str(e.value)
    with pytest.raises(InfeasibleError, match="'Z'"):
        siting.lscp(T, w, threshold_s=THR, quota={"Z": 1}, candidate_district=district)
    with pytest.raises(InfeasibleError, match="`p`=1"):
        siting.mclp(T, w, threshold_s=THR, p=1, quota={"A": 1, "B": 1},
                    candidate_district=district)
    with pytest.raises(InfeasibleError, match="budget"):
        siting.mclp(T, w, threshold_s=THR, budget=1.0, costs=np.full(8, 2.0), quota={"B": 1},
                    candidate_district=district)


def test_newly_covered_attribution_hand_calculation():
    #            site0 site1 site2(existing)
    T = np.array([[10, 10, 99],    # row 0: sites 0 and 1 -> split 50/50
                  [10, 99, 99],    # row 1: only site 0
                  [99, 10, 10],    # row 2: already covered by existing site 2
                  [99, 99, 99]],   # row 3: nobody
                 dtype=float)
    w = np.array([100.0, 40.0, 7.0, 5.0])
    r = siting.mclp(T, w, threshold_s=THR, p=2, existing=[2])
    assert list(r.new_sites) == [0, 1]
    s = r.sites
    assert s.loc[0, "new_covered_pop"] == pytest.approx(90.0)      # 100/2 + 40
    assert s.loc[1, "new_covered_pop"] == pytest.approx(50.0)
    assert s.loc[0, "exclusive_pop"] == pytest.approx(40.0)
    assert s.loc[1, "exclusive_pop"] == pytest.approx(0.0)
    assert s.loc[2, "new_covered_pop"] == 0
    assert r.new_covered_pop == pytest.approx(140.0)
    assert r.objective == pytest.approx(147.0)
    assert list(r.uncoverable_idx) == [3] and r.uncoverable_pop == 5.0
    # order independence: permuting the candidate columns permutes nothing else
    perm = [2, 1, 0]
    r2 = siting.mclp(T[:, perm], w, threshold_s=THR, p=2, existing=[0])
    assert r2.sites.loc[2, "new_covered_pop"] == pytest.approx(90.0)
    assert r2.sites.loc[1, "new_covered_pop"] == pytest.approx(50.0)


def test_sparse_input_with_zero_times_matches_dense():
    T, w = instance(5, n=40, m=9)
    T[3, 2] = 0.0
    mask = T <= THR
    r, c = np.nonzero(mask)
    S = sp.csr_matrix((T[r, c], (r, c)), shape=T.shape)    # keeps the explicit zero
    assert S.nnz == mask.sum()
    a = siting.mclp(T, w, threshold_s=THR, p=3)
    b = siting.mclp(S, w, threshold_s=THR, p=3)
    assert a.objective == pytest.approx(b.objective)
    single = sp.csr_matrix((np.array([0.0]), (np.array([0]), np.array([0]))), shape=(2, 2))
    one = siting.mclp(single, np.array([5.0, 1.0]), threshold_s=10, p=1)
    assert one.objective == 5.0 and one.travel_s[0] == 0.0


# ------------------------------------------------------------------ heuristic vs MILP
@pytest.mark.parametrize("seed", range(3))
def test_mclp_heuristic_bound_is_honest_on_medium_instances(seed):
    T, w = spatial(seed, 600, 80, side=6000)
    thr = 600.0
    exact = siting.mclp(T, w, threshold_s=thr, p=8, method="milp")
    heur = siting.mclp(T, w, threshold_s=thr, p=8, method="heuristic")
    assert exact.optimal
    assert heur.solver == "greedy+swap"
    assert heur.objective <= exact.objective + 1e-6
    assert heur.bound >= exact.objective - 1e-6
    true_gap = (exact.objective - heur.objective) / heur.objective
    assert heur.gap >= true_gap - 1e-12
    assert heur.objective >= 0.97 * exact.objective


def test_time_limit_reports_a_valid_gap():
    T, w = spatial(7, 1500, 300, side=9000)
    thr = 600.0
    exact = siting.mclp(T, w, threshold_s=thr, p=25, method="milp")
    quick = siting.mclp(T, w, threshold_s=thr, p=25, method="milp", time_limit_s=0.05)
    assert quick.objective <= exact.objective + 1e-6
    assert quick.bound >= exact.objective - 1e-6
    if not quick.optimal:
        assert quick.gap >= (exact.objective - quick.objective) / quick.objective - 1e-12


@pytest.mark.parametrize("seed", range(2))
def test_p_median_heuristic_vs_milp(seed):
    T, w = spatial(seed, 150, 60)
    exact = siting.p_median(T, w, 5)
    heur = siting.p_median(T, w, 5, method="heuristic")
    assert exact.optimal
    assert heur.objective >= exact.objective - 1e-6
    assert heur.bound <= exact.objective + 1e-6


# ------------------------------------------------------------------ LSCP
@pytest.mark.parametrize("seed", range(4))
def test_lscp_equals_brute_force_and_reports_uncoverable(seed):
    T, w = instance(seed, m=8, p_inf=0.15)
    T[0, :] = np.inf
    w[0] = 13.0
    thr = 40.0
    cov = T <= thr
    need = (w > 0) & cov.any(axis=1)
    best = next(k for k in range(9) for S in itertools.combinations(range(8), k)
                if np.all(cov[:, list(S)].any(axis=1)[need]))
    r = siting.lscp(T, w, threshold_s=thr)
    assert r.objective == best and len(r.new_sites) == best and r.optimal
    unc = np.flatnonzero((w > 0) & ~cov.any(axis=1))
    assert 0 in r.uncoverable_idx
    assert list(r.uncoverable_idx) == list(unc)
    assert r.uncoverable_pop == pytest.approx(w[unc].sum())
    assert np.all(r.covered[need] == 1)
    h = siting.lscp(T, w, threshold_s=thr, method="heuristic")
    assert h.bound <= best <= h.objective


@pytest.mark.parametrize("seed", range(3))
def test_lscp_costs_existing_quota_equal_brute_force(seed):
    T, w = instance(seed, m=8, p_inf=0.0)
    thr = 40.0
    costs = np.random.default_rng(seed).integers(1, 5, 8).astype(float)
    district = np.array(list("AAABBBCC"))
    ex = [0]
    quota = {"C": 2}
    cov = T <= thr
    need = (w > 0) & cov.any(axis=1)          # every coverable row
    best = np.inf
    free = [j for j in range(8) if j not in ex]
    for k in range(0, 8):
        for S in itertools.combinations(free, k):
            opened = list(S) + ex
            if np.sum(district[opened] == "C") < 2:
                continue
            if np.all(cov[:, opened].any(axis=1)[need]):
                best = min(best, costs[list(S)].sum())
    r = siting.lscp(T, w, threshold_s=thr, costs=costs, existing=ex, quota=quota,
                    candidate_district=district)
    assert r.objective == pytest.approx(best)


@pytest.mark.parametrize("seed", range(2))
def test_lscp_capacity_equals_maxflow_brute_force(seed):
    T, w = instance(seed, n=15, m=6, p_inf=0.0)
    thr = 45.0
    cap = np.full(6, 150.0)
    cov = T <= thr
    need_pop = w[(w > 0) & cov.any(axis=1)].sum()
    best = next(k for k in range(1, 7) for S in itertools.combinations(range(6), k)
                if served_maxflow(T, w, S, cap, thr) >= need_pop - 1e-9)
    r = siting.lscp(T, w, threshold_s=thr, capacity=cap)
    assert r.objective == best
    assert served_maxflow(T, w, r.new_sites, cap, thr) == pytest.approx(need_pop)
    with pytest.raises(InfeasibleError, match="capacity"):
        siting.lscp(T, w, threshold_s=thr, capacity=np.full(6, 1.0))


# ------------------------------------------------------------------ p-median / p-center
def median_brute(T, w, p, ex=(), district=None, quota=None):
    free = [j for j in range(T.shape[1]) if j not in ex]
    ok = np.isfinite(T).any(axis=1) & (w > 0)
    best = np.inf
    for S in itertools.combinations(free, p):
        cols = list(S) + list(ex)
        if quota and not all(np.sum(district[cols] == d) >= q for d, q in quota.items()):
            continue
        d = T[:, cols].min(axis=1)[ok]
        if np.all(np.isfinite(d)):
            best = min(best, float(w[ok] @ d))
    return best


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("p", [1, 2, 3])
def test_p_median_equals_brute_force(seed, p):
    T, w = instance(seed, p_inf=0.05)
    ex = [0] if seed % 2 else []
    best = median_brute(T, w, p, ex)
    if not np.isfinite(best):
        with pytest.raises(InfeasibleError, match="`p`"):
            siting.p_median(T, w, p, existing=ex or None)
        return
    r = siting.p_median(T, w, p, existing=ex or None)
    assert r.objective == pytest.approx(best, rel=1e-9)
    assert r.optimal and len(r.new_sites) == p
    reach = np.isfinite(T).any(axis=1) & (w > 0)
    assert np.nansum((w * r.travel_s)[reach]) == pytest.approx(best, rel=1e-9)


def test_p_median_quota_and_unreachable_demand():
    T, w = instance(11, m=8, p_inf=0.0)
    T[5, :] = np.inf
    w[5] = 17
    district = np.array(list("AAAABBBB"))
    quota = {"B": 2}
    best = median_brute(T, w, 3, district=district, quota=quota)
    r = siting.p_median(T, w, 3, quota=quota, candidate_district=district)
    assert r.objective == pytest.approx(best, rel=1e-9)
    assert list(r.uncoverable_idx) == [5] and r.uncoverable_pop == 17
    assert "reach no candidate" in r.message
    assert r.assignment[5] == -1


def test_p_median_sparse_matches_dense():
    T, w = spatial(3, 120, 40)
    cut = 1500.0
    D = np.where(T <= cut, T, np.inf)
    r, c = np.nonzero(D < np.inf)
    S = sp.csr_matrix((D[r, c], (r, c)), shape=D.shape)
    a = siting.p_median(D, w, 6)
    b = siting.p_median(S, w, 6)
    assert a.objective == pytest.approx(b.objective, rel=1e-9)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("p", [1, 2, 3])
def test_p_center_equals_brute_force(seed, p):
    T, w = instance(seed, p_inf=0.05)
    w[::4] = 0          # rows without people do not count
    ex = [2] if seed % 2 else []
    free = [j for j in range(T.shape[1]) if j not in ex]
    ok = np.isfinite(T).any(axis=1) & (w > 0)
    best = min(T[:, list(S) + ex].min(axis=1)[ok].max()
               for S in itertools.combinations(free, p))
    if not np.isfinite(best):
        with pytest.raises(InfeasibleError):
            siting.p_center(T, w, p, existing=ex or None)
        return
    r = siting.p_center(T, w, p, existing=ex or None)
    assert r.objective == pytest.approx(best)
    assert r.optimal and len(r.new_sites) <= p
    h = siting.p_center(T, w, p, existing=ex or None, method="heuristic")
    assert h.bound <= best + 1e-9 <= h.objective + 1e-9


# ------------------------------------------------------------------ coverage curve
def test_coverage_curve_equals_brute_force():
    T, w = instance(3, n=40, m=9, p_inf=0.0)
    ex = [1]
    df = siting.coverage_curve(T, w, threshold_s=THR, k=4, existing=ex)
    free = [j for j in range(9) if j != 1]
    expect = [max(w[covered_by(T, list(S) + ex)].sum() for S in itertools.combinations(free, p))
              for p in range(1, 5)]
    assert list(df["p"]) == [1, 2, 3, 4]
    np.testing.assert_allclose(df["covered_pop"], expect)
    np.testing.assert_allclose(df["covered_share"], np.array(expect) / w.sum())
    base = w[covered_by(T, ex)].sum()
    np.testing.assert_allclose(df["marginal_gain"], np.diff([base] + expect))
    assert df["optimal"].all() and (df["gap"] == 0).all()
    g = siting.coverage_curve(T, w, threshold_s=THR, k=4, existing=ex, method="heuristic")
    assert np.all(g["covered_pop"].to_numpy() <= np.array(expect) + 1e-9)
    assert np.all(g["bound"].to_numpy() >= np.array(expect) - 1e-9)


# ------------------------------------------------------------------ spopt
@pytest.fixture(scope="module")
def cbc():
    pulp = pytest.importorskip("pulp")
    pytest.importorskip("spopt")
    return pulp.PULP_CBC_CMD(msg=False)


def test_mclp_matches_spopt(cbc):
    import pulp
    from spopt.locate import MCLP

    T, w = spatial(21, 120, 25)
    thr = 700.0
    for p, ex in ((4, None), (3, [0, 5])):
        pre = None
        if ex is not None:
            pre = np.zeros(25, int)
            pre[ex] = 1
        m = MCLP.from_cost_matrix(T, w, service_radius=thr, p_facilities=p + (len(ex) if ex else 0),
                                  predefined_facilities_arr=pre).solve(cbc)
        ours = siting.mclp(T, w, threshold_s=thr, p=p, existing=ex)
        assert ours.objective == pytest.approx(pulp.value(m.problem.objective), rel=1e-9)


def test_lscp_matches_spopt(cbc):
    import pulp
    from spopt.locate import LSCP

    T, w = spatial(22, 100, 30, side=2000)
    thr = 900.0
    assert (T <= thr).any(axis=1).all()
    m = LSCP.from_cost_matrix(T, service_radius=thr).solve(cbc)
    ours = siting.lscp(T, np.ones(len(T)), threshold_s=thr)
    assert ours.objective == pytest.approx(pulp.value(m.problem.objective))


def test_p_median_matches_spopt(cbc):
    import pulp
    from spopt.locate import PMedian

    T, w = spatial(23, 60, 20)
    m = PMedian.from_cost_matrix(T, w, p_facilities=4).solve(cbc)
    ours = siting.p_median(T, w, 4)
    assert ours.objective == pytest.approx(pulp.value(m.problem.objective), rel=1e-7)


def test_p_center_matches_spopt(cbc):
    import pulp
    from spopt.locate import PCenter

    T, w = spatial(24, 50, 15)
    m = PCenter.from_cost_matrix(T, p_facilities=3).solve(cbc)
    ours = siting.p_center(T, np.ones(len(T)), 3)
    assert ours.objective == pytest.approx(pulp.value(m.problem.objective), rel=1e-7)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("kwargs, param", [
    (dict(p=0), "`p`"),
    (dict(p=99), "`p`"),
    (dict(p=2, threshold_s=0), "`threshold_s`"),
    (dict(p=2, threshold_s=-5), "`threshold_s`"),
    (dict(p=2, weights=-np.ones(30)), "`weights`"),
    (dict(p=2, weights=np.ones(29)), "`weights`"),
    (dict(p=2, existing=[42]), "`existing`"),
    (dict(p=2, costs=np.ones(3)), "`costs`"),
    (dict(p=2, capacity=np.ones(3)), "`capacity`"),
    (dict(p=2, time_limit_s=0), "`time_limit_s`"),
    (dict(p=2, method="magic"), "`method`"),
    (dict(budget=5.0), "`budget`"),
    (dict(p=2, quota={"A": 1}), "`quota`"),
    (dict(), "`p`"),
])
def test_mclp_bad_parameters_name_the_parameter(kwargs, param):
    T, w = instance(0)
    args = dict(weights=w, threshold_s=THR)
    args.update(kwargs)
    weights = args.pop("weights")
    with pytest.raises(InputError) as e:
        siting.mclp(T, weights, **args)
    assert param in str(e.value) and "Fix:" in str(e.value)


def test_bad_matrices_and_other_models():
    T, w = instance(0)
    with pytest.raises(InputError, match="`times`"):
        siting.mclp(T[0], w, threshold_s=THR, p=1)
    with pytest.raises(InputError, match="`times`"):
        siting.mclp(-T, w, threshold_s=THR, p=1)
    with pytest.raises(InputError, match="`cost`"):
        siting.p_median(np.ones((30, 2, 2)), w, 1)
    with pytest.raises(InputError, match="`p`"):
        siting.p_median(T, w, 0)
    with pytest.raises(InputError, match="`p`"):
        siting.p_center(T, w, 9)
    with pytest.raises(InputError, match="`k`"):
        siting.coverage_curve(T, w, threshold_s=THR, k=0)
    with pytest.raises(InputError, match="`threshold_s`"):
        siting.lscp(T, w, threshold_s=float("nan"))
    with pytest.raises(InputError, match="`weights`"):
        siting.p_center(T, np.full(30, np.nan), 1)
    # several problems are reported together
    with pytest.raises(InputError) as e:
        siting.mclp(T, -np.ones(3), threshold_s=-1, p=0)
    assert len(e.value.problems) == 3


def test_inputs_are_not_modified_and_results_are_read_only():
    T, w = instance(1)
    T0, w0 = T.copy(), w.copy()
    r = siting.mclp(T, w, threshold_s=THR, p=2, existing=[3])
    siting.p_median(T, w, 2)
    np.testing.assert_array_equal(T, T0)
    np.testing.assert_array_equal(w, w0)
    with pytest.raises(ValueError):
        r.selected[0] = 5
    with pytest.raises(Exception):
        r.objective = 0.0


# ------------------------------------------------------------------ candidates
def grid_frame(seed=0, n=400):
    rng = np.random.default_rng(seed)
    side = int(np.sqrt(n))
    xs, ys = np.meshgrid(np.arange(side) * 200.0 + 100, np.arange(side) * 200.0 + 100)
    return pd.DataFrame({"cell_id": np.arange(side * side), "x": xs.ravel(), "y": ys.ravel(),
                         "pop": rng.gamma(0.7, 100.0, side * side).round(),
                         "unit_id": "510104"}, index=np.arange(side * side) + 1000)


def test_candidates_from_cells_filters_on_population():
    g = grid_frame()
    c = siting.candidates_from_cells(g, min_pop=50)
    expect = g[g["pop"] >= 50]
    assert list(c.index) == list(expect.index)
    np.testing.assert_array_equal(c["x"], expect["x"])
    assert list(c["candidate_id"]) == list(range(len(expect)))
    assert (c["unit_id"] == "510104").all()
    gpd = pytest.importorskip("geopandas")
    gg = gpd.GeoDataFrame(g, geometry=gpd.points_from_xy(g.x, g.y), crs="EPSG:32648")
    cg = siting.candidates_from_cells(gg, min_pop=50)
    assert isinstance(cg, gpd.GeoDataFrame) and cg.crs == gg.crs
    with pytest.raises(InputError, match="`grid`"):
        siting.candidates_from_cells(g.drop(columns="pop"))


def test_candidates_kmeans_snaps_to_cells_and_keeps_population():
    g = grid_frame(1)
    c = siting.candidates_kmeans(g, 12, random_state=0)
    cells = set(zip(g["x"], g["y"]))
    assert all((x, y) in cells for x, y in zip(c["x"], c["y"]))
    assert c["cluster_pop"].sum() == pytest.approx(g["pop"].sum())
    assert 1 <= len(c) <= 12
    nodes = pd.DataFrame({"x": [0.0, 2000.0, 3900.0], "y": [0.0, 2000.0, 3900.0]},
                         index=["n0", "n1", "n2"])
    c2 = siting.candidates_kmeans(g, 12, snap_to=nodes)
    assert set(c2["source"]) <= {"n0", "n1", "n2"}
    with pytest.raises(InputError, match="`k`"):
        siting.candidates_kmeans(g, 0)


def test_filter_min_distance_matches_brute_force():
    rng = np.random.default_rng(4)
    cand = pd.DataFrame(rng.uniform(0, 5000, (200, 2)), columns=["x", "y"],
                        index=np.arange(200) * 3)
    ex = pd.DataFrame(rng.uniform(0, 5000, (15, 2)), columns=["x", "y"])
    out = siting.filter_min_distance(cand, ex, 600.0)
    d = np.sqrt(((cand.to_numpy()[:, None] - ex.to_numpy()[None]) ** 2).sum(-1)).min(axis=1)
    assert list(out.index) == list(cand.index[d >= 600.0])
    assert len(cand) == 200
    with pytest.raises(InputError, match="`min_distance_m`"):
        siting.filter_min_distance(cand, ex, 0)


# ------------------------------------------------------------------ embedded data
def test_reading_room_siting_on_the_embedded_chengdu_grid():
    path = DATA / "chengdu" / "population_grid.gpkg"
    if not path.exists():
        pytest.skip("embedded population grid not built")
    gpd = pytest.importorskip("geopandas")
    grid = gpd.read_file(path)
    cand = siting.candidates_kmeans(grid, 60, random_state=0)
    xy = grid[["x", "y"]].to_numpy(float)
    cxy = cand[["x", "y"]].to_numpy(float)
    T = np.sqrt(((xy[:, None] - cxy[None]) ** 2).sum(-1)) * 1.3 / (5000 / 3600)
    w = grid["pop"].to_numpy(float)
    thr = 10 * 60.0
    r = siting.mclp(T, w, threshold_s=thr, p=6, capacity=None)
    cov = (T[:, r.new_sites] <= thr).any(axis=1)
    assert r.objective == pytest.approx(w[cov].sum())
    curve = siting.coverage_curve(T, w, threshold_s=thr, k=6)
    assert curve["covered_pop"].iloc[-1] == pytest.approx(r.objective)
    assert curve["covered_pop"].is_monotonic_increasing
    # 50,000 residents per reading room: capacity can only lower the coverage
    rc = siting.mclp(T, w, threshold_s=thr, p=6, capacity=50_000.0)
    assert rc.objective <= r.objective + 1e-6
    assert (rc.sites["served_pop"] <= 50_000.0 + 1e-6).all()
    assert rc.objective == pytest.approx(served_maxflow(T, w, rc.new_sites,
                                                        np.full(len(cand), 50_000.0), thr),
                                         rel=1e-6)


def test_solver_prints_nothing_on_standard_output():
    import subprocess
    import sys

    code = ("import numpy as np; from coverage import siting; "
            "r = siting.mclp(np.array([[1.0, np.inf], [np.inf, 1.0]]), np.array([1.0, 2.0]), "
            "threshold_s=5, p=1, method='milp'); print(r.objective)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    assert out.stdout.strip() == "2.0"
