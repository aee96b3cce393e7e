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
