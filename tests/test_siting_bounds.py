"""Maximal covering at city scale: heuristic answers, their bounds and time limits.

The bounds are checked against brute force on small instances (an upper
bound must never fall below the optimum, and the answer never above it);
the iterated local search must find the brute-force optimum on tiny ones.
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.spatial import cKDTree

from coverage import _siting_heuristics as heur
from coverage import siting


def grid_city(n_side: int, seed: int, cell: float = 200.0):
    """Cells of a square grid with a clumped population; every cell a candidate."""
    rng = np.random.default_rng(seed)
    g = (np.arange(n_side) + 0.5) * cell
    xy = np.column_stack([a.ravel() for a in np.meshgrid(g, g)])
    centre = rng.uniform(0.3, 0.7, 2) * n_side * cell
    dens = np.exp(-((xy - centre) ** 2).sum(1) / (2 * (0.3 * n_side * cell) ** 2))
    w = np.round(dens * rng.lognormal(0, 0.7, len(xy)) * 400)
    return xy, w


def reach_times(xy: np.ndarray, radius_m: float) -> sp.csr_matrix:
    D = cKDTree(xy).sparse_distance_matrix(cKDTree(xy), radius_m, output_type="coo_matrix")
    n = len(xy)
    off = D.row != D.col
    rows = np.concatenate([D.row[off], np.arange(n)])
    cols = np.concatenate([D.col[off], np.arange(n)])
    vals = np.concatenate([D.data[off], np.zeros(n)])
    return sp.csr_matrix((vals, (rows, cols)), shape=(n, n))


def brute_mclp(R: np.ndarray, w: np.ndarray, p: int) -> float:
    return max(float(w[R[:, list(S)].any(axis=1)].sum())
               for S in itertools.combinations(range(R.shape[1]), p))


def small_instance(seed: int, n: int = 24, m: int = 11):
    rng = np.random.default_rng(seed)
    d, c = rng.uniform(0, 1000, (n, 2)), rng.uniform(0, 1000, (m, 2))
    T = np.sqrt(((d[:, None] - c[None]) ** 2).sum(-1))
    return T, rng.integers(1, 60, n).astype(float)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("p", [2, 3, 4])
def test_lagrangian_bound_is_never_below_the_optimum(seed, p):
    T, w = small_instance(seed)
    R = T <= 260.0
    best = brute_mclp(R, w, p)
    bound = heur.lagrangian_cover(sp.csr_matrix(R), w, p=p, lower=0.0)
    assert bound >= best - 1e-6
    # the relaxation is not the trivial bound
    assert bound <= w[R.any(axis=1)].sum() + 1e-6


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("p", [2, 3, 4])
def test_heuristic_answer_and_bound_bracket_the_brute_force_optimum(seed, p):
    T, w = small_instance(seed)
    best = brute_mclp(T <= 260.0, w, p)
    r = siting.mclp(T, w, threshold_s=260.0, p=p, method="heuristic", time_limit_s=5)
    value = float(w[(T[:, r.new_sites] <= 260.0).any(axis=1)].sum())
    assert r.objective == pytest.approx(value)
    assert r.objective == pytest.approx(best)        # iterated local search finds it
    assert r.bound >= best - 1e-6
    assert r.objective <= r.bound + 1e-6


@pytest.mark.parametrize("seed", range(5))
def test_iterated_local_search_equals_brute_force_on_tiny_cases(seed):
    T, w = small_instance(100 + seed, n=30, m=14)
    R = T <= 230.0
    for p in (3, 4):
        best = brute_mclp(R, w, p)
        sel, val = heur.ils_cover(sp.csr_matrix(R), w, np.arange(p), deadline=None,
                                  max_rounds=300, seed=seed)
        assert len(set(sel.tolist())) == p
        assert val == pytest.approx(float(w[R[:, sel].any(axis=1)].sum()))
        assert val == pytest.approx(best)


def test_swap_table_kept_up_to_date_equals_a_fresh_one():
    xy, w = grid_city(14, 0)
    R = (reach_times(xy, 450.0).tocsr() != 0).astype(float)
    R = (R + sp.identity(R.shape[0])).astype(bool).astype(float).tocsr()
    Rc = R.tocsc()
    rng = np.random.default_rng(1)
    st = heur._SwapState(R, Rc, w, rng.choice(R.shape[1], 12, replace=False))
    for _ in range(40):
        c = int(rng.integers(R.shape[1]))
        if st.pos[c] < 0:
            st.move(int(rng.integers(12)), c)
    fresh = heur._SwapState(R, Rc, w, st.sel)
    assert np.array_equal(st.cnt, fresh.cnt)
    assert st.value == pytest.approx(fresh.value)
    assert np.allclose(st.delta(), fresh.delta())
    change, k, c = st.best_move((Rc.T @ Rc).tocsr())
    assert change == pytest.approx(float(np.max(fresh.delta())))


def test_city_heuristic_reports_a_meaningful_gap():
    """A bound equal to the total population says nothing; the relaxation must do better."""
    xy, w = grid_city(45, 3)                           # 2,025 cells, all candidates
    T = reach_times(xy, 620.0)                         # about 30 cells within reach
    r = siting.mclp(T, w, threshold_s=620.0, p=40, method="heuristic", time_limit_s=8)
    coverable = float(w.sum())
    assert r.bound < coverable - 0.05 * r.objective
    assert r.gap <= 0.05
    assert r.objective == pytest.approx(float(w[np.diff(T[:, r.new_sites].indptr) > 0].sum()))


def test_city_mclp_holds_its_time_limit():
    xy, w = grid_city(55, 4)                           # 3,025 cells
    T = reach_times(xy, 700.0)
    limit = 1.5
    t = time.perf_counter()
    r = siting.mclp(T, w, threshold_s=700.0, p=60, time_limit_s=limit)
    wall = time.perf_counter() - t
    assert wall <= limit + 1.0
    value = float(w[np.diff(T[:, r.new_sites].indptr) > 0].sum())
    assert r.objective == pytest.approx(value)
    assert r.bound >= r.objective
    assert r.gap == pytest.approx((r.bound - r.objective) / r.objective)


def clustered_city(n_cells: int, seed: int, cell: float = 200.0):
    """Populated cells of a city with six centres of varying size and noisy density."""
    rng = np.random.default_rng(seed)
    side = cell * np.sqrt(n_cells / 0.62)
    g = (np.arange(int(side // cell)) + 0.5) * cell
    xy = np.column_stack([a.ravel() for a in np.meshgrid(g, g)])
    centres = rng.uniform(0.15 * side, 0.85 * side, (6, 2))
    spread = rng.uniform(0.08, 0.22, 6) * side
    dens = sum(m * np.exp(-((xy - c) ** 2).sum(1) / (2 * s * s))
               for c, s, m in zip(centres, spread, rng.uniform(0.4, 1.0, 6)))
    dens = dens * rng.lognormal(0.0, 0.6, dens.size)
    keep = dens > np.quantile(dens, 0.38)
    return xy[keep], np.round(dens[keep] / dens[keep].mean() * 450.0)


@pytest.mark.parametrize("seed", range(12))
def test_lagrangian_support_holds_every_column_tied_with_the_p_th(seed):
    rng = np.random.default_rng(seed)
    n, m = 30, 14
    R = sp.csr_matrix(rng.random((n, m)) < 0.25)
    lam = rng.integers(0, 3, n).astype(float)          # many equal column values
    p = int(rng.integers(1, m + 1))
    rho = np.asarray(R.T.astype(float) @ lam).ravel()
    cols = heur.lagrangian_support(R, lam, p, rel=0.0)
    pth = np.sort(rho)[::-1][p - 1]
    assert set(np.flatnonzero(rho >= pth)) <= set(cols.tolist())
    assert cols.size >= min(2 * p, m)
    assert np.array_equal(cols, np.unique(cols))


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("method", ["auto", "heuristic"])
def test_answer_and_bound_bracket_brute_force_with_ties_and_p_near_the_candidates(seed, method):
    T, w = small_instance(200 + seed, n=22, m=9)
    if seed % 2:
        w = np.ones_like(w)                             # every row worth the same
    R = T <= 300.0
    for p in (1, 2, 7, 8, 9):
        best = brute_mclp(R, w, p)
        r = siting.mclp(T, w, threshold_s=300.0, p=p, method=method, time_limit_s=5)
        assert r.objective == pytest.approx(float(w[R[:, r.new_sites].any(axis=1)].sum()))
        assert r.objective <= best + 1e-6
        assert r.bound >= best - 1e-6
        if r.optimal:
            assert r.objective == pytest.approx(best)
        if method == "auto":
            assert r.objective == pytest.approx(best)


def test_city_search_reaches_a_gap_of_2_5_percent():
    """Wide radii on a clumped city: local search confined to the columns the
    Lagrangian multipliers single out finds what a search from the greedy
    answer misses, and the gap against the relaxation drops below 2.5 %."""
    xy, w = clustered_city(1500, 3)
    T = reach_times(xy, 760.0)                          # about 38 cells within reach
    r = siting.mclp(T, w, threshold_s=760.0, p=25, method="heuristic", time_limit_s=10)
    assert r.objective == pytest.approx(float(w[np.diff(T[:, r.new_sites].indptr) > 0].sum()))
    assert r.bound >= r.objective
    assert r.gap <= 0.025


def lp_relaxation(R: np.ndarray, w: np.ndarray, p: int) -> float:
    """The MCLP relaxation by scipy's dual simplex: an independent reference."""
    from scipy.optimize import linprog

    n, m = R.shape
    A = np.hstack([-R.astype(float), np.eye(n)])
    A = np.vstack([A, np.concatenate([np.ones(m), np.zeros(n)])])
    res = linprog(-np.concatenate([np.zeros(m), w]), A_ub=A,
                  b_ub=np.concatenate([np.zeros(n), [p]]), bounds=(0, 1), method="highs-ds")
    assert res.status == 0
    return -float(res.fun)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("p", [2, 3, 4])
def test_lp_bound_is_the_relaxation_and_never_below_the_optimum(seed, p):
    T, w = small_instance(seed)
    R = T <= 260.0
    Rs = sp.csr_matrix(R)
    bound, y = siting._cover_lp_bound(Rs, w, p, 10.0)
    assert bound >= brute_mclp(R, w, p) - 1e-6
    assert bound == pytest.approx(lp_relaxation(R, w, p), rel=1e-6)
    assert bound <= heur.lagrangian_cover(Rs, w, p=p, lower=0.0) * (1 + 1e-6)
    assert y.shape == (R.shape[0],) and np.all((y >= 0) & (y <= 1))


@pytest.mark.parametrize("seed", range(6))
def test_cover_bound_holds_for_any_multipliers(seed):
    """Multipliers from anywhere (wrong sign, too large, NaN) still give a valid bound."""
    T, w = small_instance(50 + seed)
    R = T <= 260.0
    rng = np.random.default_rng(seed)
    for p in (2, 3):
        best = brute_mclp(R, w, p)
        for lam in (rng.normal(0, 80, w.size), rng.uniform(0, 1, w.size) * w, -w,
                    np.where(rng.random(w.size) < 0.3, np.nan, w / 2)):
            assert heur.cover_bound(sp.csr_matrix(R), w, lam, p) >= best - 1e-6


@pytest.mark.parametrize("seed", range(5))
def test_area_by_area_search_reaches_the_brute_force_optimum_on_tiny_cases(seed):
    T, w = small_instance(300 + seed, n=30, m=14)
    R = T <= 230.0
    Rs = sp.csr_matrix(R)
    for p in (3, 4):
        best = brute_mclp(R, w, p)
        start = np.arange(p)
        v0 = float(w[R[:, start].any(axis=1)].sum())
        sel, val = siting._mclp_lns(Rs, w, start, v0, stop=time.perf_counter() + 5,
                                    bound=np.inf, tol=1e-9, seed=seed, stall=40)
        assert len(set(sel.tolist())) == p
        assert val == pytest.approx(float(w[R[:, sel].any(axis=1)].sum()))
        assert val == pytest.approx(best)


def test_area_by_area_search_never_loses_and_keeps_its_picks_distinct():
    xy, w = clustered_city(900, 5)
    R = (reach_times(xy, 700.0) != 0).astype(bool).tocsr()
    R = (R + sp.identity(R.shape[0], format="csr", dtype=bool)).tocsr()
    H = heur.greedy_swap_cover(R, w, p=15, deadline=None)
    best = [H.value]

    class Watch(siting._Incumbent):
        def offer(self, sel, val):
            assert val >= best[-1] - 1e-6               # every offer is at least as good
            covered = np.asarray(R[:, sel].sum(axis=1)).ravel() > 0
            assert val == pytest.approx(float(w[covered].sum()))
            best.append(val)
            super().offer(sel, val)

    inc = Watch(H.selected, H.value)
    sel, val = siting._mclp_lns(R, w, H.selected, H.value, stop=time.perf_counter() + 4,
                                bound=np.inf, tol=1e-9, inc=inc)
    assert val >= H.value
    assert sel.size == 15 and len(set(sel.tolist())) == 15
    assert val == pytest.approx(float(w[np.asarray(R[:, sel].sum(axis=1)).ravel() > 0].sum()))
    assert inc.get()[1] == pytest.approx(val)


def test_fresh_starts_offer_each_arrangement_and_return_the_best():
    """With several fresh starts every arrangement found is offered (with its true
    value), the time limit holds and the best offer is what comes back."""
    xy, w = clustered_city(900, 5)
    R = (reach_times(xy, 700.0) != 0).astype(bool).tocsr()
    R = (R + sp.identity(R.shape[0], format="csr", dtype=bool)).tocsr()
    H = heur.greedy_swap_cover(R, w, p=15, deadline=None)
    lag: dict = {}
    heur.lagrangian_cover(R, w, p=15, lower=H.value, max_iter=300, state=lag)
    offers: list[float] = []

    class Watch(siting._Incumbent):
        def offer(self, sel, val):
            assert len(set(np.asarray(sel).tolist())) == 15
            covered = np.asarray(R[:, sel].sum(axis=1)).ravel() > 0
            assert val == pytest.approx(float(w[covered].sum()))
            offers.append(val)
            super().offer(sel, val)

    inc = Watch(H.selected, H.value)
    t = time.perf_counter()
    sel, val = siting._mclp_local_search(R, w, H.selected, H.value, lag["lam"],
                                         stop=t + 3.0, share=1.0, inc=inc, starts=3)
    assert time.perf_counter() - t <= 3.5
    assert len(offers) >= 3                      # one per fresh start at least
    assert val == pytest.approx(max(offers + [H.value]))
    assert inc.get()[1] == pytest.approx(val)
    assert val == pytest.approx(float(w[np.asarray(R[:, sel].sum(axis=1)).ravel() > 0].sum()))


def test_seed_gives_valid_answers_and_a_bad_seed_is_named():
    from coverage.errors import InputError

    xy, w = clustered_city(700, 8)
    T = reach_times(xy, 720.0)
    for seed in (0, 3):
        r = siting.mclp(T, w, threshold_s=720.0, p=14, method="heuristic", time_limit_s=3,
                        seed=seed)
        covered = float(w[np.diff(T[:, r.new_sites].indptr) > 0].sum())
        assert len(r.new_sites) == 14
        assert r.objective == pytest.approx(covered)
        assert r.bound >= r.objective - 1e-6
    for bad in (-1, 1.5, "1", True):
        with pytest.raises(InputError, match="seed"):
            siting.mclp(T, w, threshold_s=720.0, p=14, seed=bad)


def test_city_bound_is_the_relaxations_optimum():
    """The reported bound is the linear relaxation's optimum, not a subgradient's
    approximation above it; the relaxation is solved beside the search."""
    xy, w = clustered_city(700, 8)
    T = reach_times(xy, 720.0)
    R = np.asarray((T != 0).todense()) | np.eye(len(xy), dtype=bool)
    r = siting.mclp(T, w, threshold_s=720.0, p=14, method="heuristic", time_limit_s=8)
    lp = lp_relaxation(R, w, 14)
    assert r.objective == pytest.approx(float(w[np.diff(T[:, r.new_sites].indptr) > 0].sum()))
    if not r.optimal:
        assert r.bound == pytest.approx(lp, rel=1e-6)
    assert r.bound <= lp * (1 + 1e-6)


def test_a_failing_background_bound_falls_back_and_offers_keep_the_best():
    def boom():
        raise RuntimeError("no duals")

    assert siting._Background(boom).result(default=(np.inf, None)) == (np.inf, None)
    assert siting._Background(lambda a: a + 1, 2).result() == 3
    inc = siting._Incumbent(np.array([1, 2]), 5.0)
    inc.offer(np.array([3, 4]), 4.0)
    inc.offer(np.array([5, 6]), 7.0)
    sel, val = inc.get()
    assert val == 7.0 and sel.tolist() == [5, 6]


# ------------------------------------------------------------------ p-median and LSCP
def median_value(C: np.ndarray, w: np.ndarray, base: np.ndarray, S) -> float:
    return float(w @ np.minimum(base, C[:, list(S)].min(axis=1)))


def assert_fixing_keeps(better: list, lag) -> None:
    """Every solution strictly better than the incumbent survives the fixing: its
    columns are all still useful and it contains every forced column."""
    for S in better:
        assert lag.useful[list(S)].all()
        assert set(np.flatnonzero(lag.forced)) <= set(S)


def tie_instance(seed: int, n: int = 14, m: int = 9, integral: bool = True):
    """Small p-median instance; integer costs 1..6 and weights 1..3 give many ties."""
    rng = np.random.default_rng(seed)
    if integral:
        C = rng.integers(1, 7, (n, m)).astype(float)
        w = rng.integers(1, 4, n).astype(float)
    else:
        C = rng.uniform(0.5, 6.0, (n, m))
        w = rng.uniform(0.5, 3.0, n)
    base = np.full(n, 1e4)
    if seed % 3 == 0:                      # an existing site serving some rows
        base = np.where(rng.random(n) < 0.4, rng.integers(1, 7, n), 1e4).astype(float)
    return C, w, base


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("p", [1, 2, 3])
def test_median_lagrangian_bound_and_fixing_agree_with_brute_force(seed, p):
    integral = seed % 2 == 0
    C, w, base = tie_instance(seed, integral=integral)
    m = C.shape[1]
    subsets = list(itertools.combinations(range(m), p))
    values = np.array([median_value(C, w, base, S) for S in subsets])
    best = float(values.min())
    rng = np.random.default_rng(seed + 100)
    start = np.sort(rng.choice(m, p, replace=False))     # a poor incumbent: fixing must hold
    ub = median_value(C, w, base, start)
    lag = heur.lagrangian_median(C, w, p, base=base, incumbent=start, ub=ub,
                                 time_budget_s=5.0, integral=integral)
    assert lag.bound <= best + 1e-9 * max(1.0, best)
    assert lag.ub == pytest.approx(median_value(C, w, base, lag.incumbent))
    assert lag.ub <= ub + 1e-9
    better = values < lag.ub - 1e-9 * max(1.0, lag.ub)
    assert_fixing_keeps([S for S, ok in zip(subsets, better) if ok], lag)


@pytest.mark.parametrize("seed", range(12))
def test_set_cover_lagrangian_bound_and_fixing_agree_with_brute_force(seed):
    rng = np.random.default_rng(seed)
    n, m = 12, 9
    R = rng.random((n, m)) < 0.3
    R[np.arange(n), rng.integers(0, m, n)] = True            # every row coverable
    R[:, 0] = R[:, 1] if seed % 4 == 0 else R[:, 0]           # identical columns
    cost = np.ones(m) if seed % 2 == 0 else rng.integers(1, 4, m).astype(float)
    covers = [(S, float(cost[list(S)].sum())) for k in range(1, m + 1)
              for S in itertools.combinations(range(m), k) if R[:, list(S)].any(axis=1).all()]
    best = min(v for _, v in covers)
    ub = float(cost.sum())                                     # the worst cover: every column
    lag = heur.lagrangian_set_cover(sp.csr_matrix(R), cost, ub=ub, time_budget_s=5.0,
                                    integral=True)
    assert lag.bound <= best + 1e-9
    if lag.incumbent.size:                                     # the relaxation's own cover
        assert R[:, lag.incumbent].any(axis=1).all()
        assert lag.ub == pytest.approx(cost[lag.incumbent].sum())
    assert lag.ub <= ub
    assert_fixing_keeps([S for S, v in covers if v < lag.ub - 1e-9], lag)


@pytest.mark.parametrize("seed", range(10))
def test_lscp_answer_and_bound_bracket_the_brute_force_optimum(seed):
    rng = np.random.default_rng(seed)
    n, m = 16, 10
    T = rng.integers(1, 9, (n, m)).astype(float)              # integer times: ties
    w = rng.integers(0, 3, n).astype(float)
    thr = 3.0
    cov = T <= thr
    need = (w > 0) & cov.any(axis=1)
    best = next(k for k in range(m + 1) for S in itertools.combinations(range(m), k)
                if np.all(cov[:, list(S)].any(axis=1)[need]))
    for method in ("auto", "heuristic"):
        r = siting.lscp(T, w, threshold_s=thr, method=method, time_limit_s=5)
        assert np.all(cov[:, r.new_sites].any(axis=1)[need])
        assert r.bound <= best + 1e-9 <= r.objective + 1e-9
        if r.optimal:
            assert r.objective == best


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("p", [2, 3])
def test_p_median_with_ties_brackets_the_brute_force_optimum(seed, p):
    C, w, _ = tie_instance(seed, n=18, m=10)
    best = min(float(w @ C[:, list(S)].min(axis=1))
               for S in itertools.combinations(range(10), p))
    for method in ("auto", "heuristic"):
        r = siting.p_median(C, w, p, method=method, time_limit_s=5)
        assert r.objective == pytest.approx(float(w @ C[:, r.new_sites].min(axis=1)))
        assert r.bound <= best + 1e-9
        if r.optimal:
            assert r.objective == pytest.approx(best)
    assert siting.p_median(C, w, p, time_limit_s=5).optimal


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("p", [2, 3])
def test_median_branch_and_bound_equals_brute_force(seed, p):
    integral = seed % 2 == 0
    C, w, base = tie_instance(seed, n=16, m=10, integral=integral)
    best = min(median_value(C, w, base, S) for S in itertools.combinations(range(10), p))
    start = np.arange(p)                                   # a poor incumbent
    ub = median_value(C, w, base, start)
    sel, val, bound, done = heur.median_branch_and_bound(
        C, w, p, base=base, incumbent=start, ub=ub, integral=integral,
        deadline=time.perf_counter() + 10)
    assert done
    assert val == pytest.approx(best) and median_value(C, w, base, sel) == pytest.approx(val)
    assert bound == pytest.approx(best)
    # stopped before the first node: the answer is the start and the bound says nothing wrong
    sel, val, bound, done = heur.median_branch_and_bound(
        C, w, p, base=base, incumbent=start, ub=ub, integral=integral,
        deadline=time.perf_counter() - 1)
    assert not done and val == ub and bound <= best
