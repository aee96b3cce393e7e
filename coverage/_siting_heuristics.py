"""Vectorised greedy + swap heuristics and their bounds for the siting models.

Everything here works on plain arrays that :mod:`coverage.siting` has already
validated and reduced: a boolean CSR ``demand x candidate`` reach matrix for
the coverage models and a dense cost matrix for the median/centre models.
Districts are integer codes ``0..D-1`` and ``need[d]`` is the minimum number
of picks in district ``d``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class CoverHeuristic:
    """Outcome of :func:`greedy_swap_cover`.

    Attributes
    ----------
    selected
        Chosen columns (sorted).
    value
        Covered weight of ``selected``.
    bound
        Upper bound on the covered weight of the best feasible selection
        (from submodularity of coverage), at least ``value``.
    feasible
        Whether ``selected`` meets every district minimum.
    curve_value, curve_bound
        Cardinality-only case: ``curve_value[k]`` is the weight covered by the
        first ``k`` greedy picks and ``curve_bound[k]`` an upper bound on the
        best coverage with ``k`` picks (index 0 = no pick).
    order
        The greedy picks in the order taken.
    """

    selected: np.ndarray
    value: float
    bound: float
    feasible: bool
    curve_value: np.ndarray
    curve_bound: np.ndarray
    order: np.ndarray


def top_gain_bound(gains: np.ndarray, *, k: int | None, costs: np.ndarray | None = None,
                   budget: float | None = None) -> float:
    """Largest total gain of a set of at most ``k`` columns within ``budget``.

    Returns the sum of the ``k`` largest gains, or the fractional-knapsack
    value when a budget applies (the smaller of the two when both do); both
    are relaxations, so ``f(S) + top_gain_bound(gains of S)`` bounds the best
    coverage from above.
    """
    g = np.maximum(np.asarray(gains, float), 0.0)
    out = float(g.sum())
    if k is not None:
        k = max(0, min(int(k), g.size))
        out = min(out, float(np.sort(g)[g.size - k:].sum()) if k else 0.0)
    if budget is not None and costs is not None:
        c = np.asarray(costs, float)
        free = c <= 0
        total = float(g[free].sum())
        left = max(float(budget), 0.0)
        idx = np.flatnonzero(~free & (g > 0))
        order = idx[np.argsort(-(g[idx] / c[idx]), kind="stable")]
        cum = np.cumsum(c[order])
        full = cum <= left
        total += float(g[order][full].sum())
        nxt = int(full.sum())
        if nxt < order.size:
            used = float(cum[nxt - 1]) if nxt else 0.0
            total += float(g[order[nxt]]) * (left - used) / float(c[order[nxt]])
        out = min(out, total)
    return out


def greedy_swap_cover(
    reach: sp.csr_matrix,
    w: np.ndarray,
    *,
    p: int | None,
    budget: float | None = None,
    costs: np.ndarray | None = None,
    district: np.ndarray | None = None,
    need: np.ndarray | None = None,
    swap: bool = True,
    max_swaps: int = 5_000,
    deadline: float | None = None,
) -> CoverHeuristic:
    """Greedy maximal covering followed by best-improvement swaps.

    Parameters
    ----------
    reach
        Boolean CSR ``rows x columns`` matrix, ``True`` where the column covers
        the row.
    w
        Row weights (>= 0).
    p, budget, costs
        At most ``p`` picks and/or total ``costs`` of the picks at most
        ``budget`` (at least one of ``p`` and ``budget`` is given).
    district, need
        District code per column and the minimum number of picks per code.
    swap
        Run the swap phase after the greedy phase.
    max_swaps
        Cap on the number of improving swaps.
    deadline
        ``time.perf_counter()`` value at which the swaps stop.
    """
    n, m = reach.shape
    A = reach.astype(np.float64).tocsr()
    Ac = A.tocsc()
    At = Ac.T.tocsr()
    w = np.asarray(w, float)
    cost = np.zeros(m) if costs is None else np.asarray(costs, float)
    has_quota = need is not None and district is not None and int(np.sum(need)) > 0
    need_left = np.array(need, dtype=np.int64) if has_quota else None

    unc_w = w.copy()
    gains = np.asarray(At @ unc_w).ravel()
    chosen: list[int] = []
    is_chosen = np.zeros(m, bool)
    spent = 0.0
    value = 0.0
    p_cap = p if p is not None else m
    curve_value = [0.0]
    tops = []  # descending top-p gains after each prefix (cardinality case)
    if p is not None:
        tops.append(-np.sort(-gains)[:p])
    best_bound = top_gain_bound(gains, k=p, costs=costs, budget=budget)

    while len(chosen) < p_cap:
        ok = ~is_chosen
        if budget is not None:
            ok &= cost <= budget - spent + 1e-9
        forced = False
        if has_quota:
            outstanding = int(np.maximum(need_left, 0).sum())
            if outstanding and outstanding >= p_cap - len(chosen):
                ok &= need_left[district] > 0
                forced = True
        if not ok.any():
            break
        if budget is not None and costs is not None:
            score = gains / np.maximum(cost, 1e-12)
        else:
            score = gains.copy()
        score[~ok] = -np.inf
        j = int(np.argmax(score))
        if gains[j] <= 0 and not forced:
            if not (has_quota and need_left.max() > 0):
                break
            # only quota picks remain useful
            okq = ok & (need_left[district] > 0)
            if not okq.any():
                break
            j = int(np.flatnonzero(okq)[np.argmax(score[okq])])
        chosen.append(j)
        is_chosen[j] = True
        spent += cost[j]
        if has_quota:
            need_left[district[j]] -= 1
        rows = Ac.indices[Ac.indptr[j]:Ac.indptr[j + 1]]
        rows = rows[unc_w[rows] > 0]
        if rows.size:
            delta = np.zeros(n)
            delta[rows] = unc_w[rows]
            gains -= np.asarray(At @ delta).ravel()
            value += float(unc_w[rows].sum())
            unc_w[rows] = 0.0
        curve_value.append(value)
        if p is not None:
            tops.append(-np.sort(-gains)[:p])
        best_bound = min(best_bound, value + top_gain_bound(gains, k=p, costs=costs,
                                                            budget=budget))

    sel = np.array(sorted(chosen), dtype=np.int64)
    if swap and sel.size and m * sel.size <= 30_000_000:
        sel, value = swap_cover(Ac, At, w, sel, budget=budget, cost=cost, district=district,
                                need=np.array(need, dtype=np.int64) if has_quota else None,
                                max_swaps=max_swaps, deadline=deadline)
    covered = _covered(Ac, sel, n)
    g_final = np.asarray(At @ np.where(covered, 0.0, w)).ravel()
    total = float(w.sum())
    bound = min(best_bound, value + top_gain_bound(g_final, k=p, costs=costs, budget=budget),
                total)
    curve_bound = np.full(len(curve_value), total)
    if p is not None:
        # OPT(k) <= f(S_j) + (sum of the k largest gains w.r.t. S_j) for every prefix j
        for j, t in enumerate(tops):
            cs = np.concatenate([[0.0], np.cumsum(np.maximum(t, 0.0))])
            ks = np.arange(len(curve_value))
            curve_bound = np.minimum(curve_bound, curve_value[j] + cs[np.minimum(ks, cs.size - 1)])
    feasible = True
    if has_quota:
        picked = np.bincount(district[sel], minlength=len(need)) if sel.size else np.zeros(len(need), int)
        feasible = bool(np.all(picked >= np.asarray(need)))
    return CoverHeuristic(sel, float(value), float(max(bound, value)), feasible,
                          np.array(curve_value), np.maximum(curve_bound, curve_value),
                          np.array(chosen, dtype=np.int64))


def _covered(Ac: sp.csc_matrix, sel: np.ndarray, n: int) -> np.ndarray:
    if sel.size == 0:
        return np.zeros(n, bool)
    return np.asarray(Ac[:, sel].sum(axis=1)).ravel() > 0


def swap_cover(Ac: sp.csc_matrix, At: sp.csr_matrix, w: np.ndarray, sel: np.ndarray, *,
               budget: float | None, cost: np.ndarray, district: np.ndarray | None,
               need: np.ndarray | None, max_swaps: int,
               deadline: float | None = None) -> tuple[np.ndarray, float]:
    """Best-improvement swaps: one picked column out, one other column in.

    The change in coverage of every (in, out) pair is computed at once:
    ``gain(c) + M[c, s] - loss(s)`` where ``M[c, s]`` is the weight covered
    only by ``s`` that ``c`` also covers.
    """
    n, m = Ac.shape
    sel = np.array(sel, dtype=np.int64)
    value = float(w[_covered(Ac, sel, n)].sum())
    for _ in range(max_swaps):
        if _past(deadline):
            break
        AS = Ac[:, sel]
        cnt = np.asarray(AS.sum(axis=1)).ravel()
        value = float(w[cnt > 0].sum())
        w0 = np.where(cnt == 0, w, 0.0)
        w1 = np.where(cnt == 1, w, 0.0)
        gain0 = np.asarray(At @ w0).ravel()
        loss = np.asarray(AS.T @ w1).ravel()
        M = (At @ AS.multiply(w1[:, None]).tocsc()).toarray()
        delta = gain0[:, None] + M - loss[None, :]
        delta[sel, :] = -np.inf
        if budget is not None:
            spent = float(cost[sel].sum())
            delta[(spent - cost[sel][None, :] + cost[:, None]) > budget + 1e-9] = -np.inf
        if need is not None and district is not None:
            counts = np.bincount(district[sel], minlength=len(need))
            # leaving s breaks its district minimum unless c is in the same district
            tight = counts[district[sel]] <= need[district[sel]]
            same = district[:, None] == district[sel][None, :]
            delta[:, tight] = np.where(same[:, tight], delta[:, tight], -np.inf)
        k = int(np.argmax(delta))
        c, si = divmod(k, sel.size)
        if not np.isfinite(delta[c, si]) or delta[c, si] <= 1e-9 * max(1.0, value):
            break
        sel[si] = c
    sel = np.sort(sel)
    return sel, float(w[_covered(Ac, sel, n)].sum())


def _past(deadline: float | None) -> bool:
    """Whether ``time.perf_counter()`` has reached ``deadline`` (never when None)."""
    return deadline is not None and time.perf_counter() >= deadline


def _quota_mask(district: np.ndarray | None, need_left: np.ndarray | None, picks_left: int,
                ok: np.ndarray) -> tuple[np.ndarray, bool]:
    """Restrict ``ok`` to districts still short of picks when no slack is left."""
    if need_left is None or district is None:
        return ok, False
    outstanding = int(np.maximum(need_left, 0).sum())
    if outstanding and outstanding >= picks_left:
        return ok & (need_left[district] > 0), True
    return ok, False


def _swap_allowed(district: np.ndarray | None, need: np.ndarray | None, sel: np.ndarray,
                  m: int) -> np.ndarray:
    """``allowed[c, k]``: may column ``c`` replace ``sel[k]`` without breaking a minimum."""
    allowed = np.ones((m, sel.size), bool)
    if need is None or district is None or sel.size == 0:
        return allowed
    counts = np.bincount(district[sel], minlength=len(need))
    tight = counts[district[sel]] <= need[district[sel]]
    same = district[:, None] == district[sel][None, :]
    allowed[:, tight] = same[:, tight]
    return allowed


def greedy_swap_median(C: np.ndarray, w: np.ndarray, p: int, *, base: np.ndarray,
                       district: np.ndarray | None = None, need: np.ndarray | None = None,
                       allowed_cols: np.ndarray | None = None,
                       max_swaps: int = 5_000,
                       start: np.ndarray | None = None,
                       deadline: float | None = None) -> tuple[np.ndarray, float]:
    """Greedy adding then fast-interchange swaps for the p-median problem.

    Parameters
    ----------
    C
        Dense ``rows x columns`` cost matrix, finite (unreachable pairs carry a
        large penalty).
    w
        Row weights.
    p
        Number of columns to pick.
    base
        Per-row cost of already open facilities (a large penalty if none).
    district, need
        District code per column and minimum picks per code.
    allowed_cols
        Boolean mask of columns that may be picked.
    start
        Picks to start the swap phase from instead of the greedy phase.
    deadline
        ``time.perf_counter()`` value at which the swap phase stops (the
        greedy phase always completes, so the picks are feasible).

    Returns
    -------
    selected, value
        Sorted picks and the weighted cost ``sum_i w_i min(base_i, C[i, S])``.
    """
    n, m = C.shape
    ok0 = np.ones(m, bool) if allowed_cols is None else allowed_cols.copy()
    need_left = None if need is None else np.array(need, dtype=np.int64)
    d1 = base.astype(float).copy()
    chosen: list[int] = [] if start is None else [int(v) for v in start]
    buf = np.empty_like(C, dtype=float) if len(chosen) < p else None
    for step in range(len(chosen), p):
        ok = ok0.copy()
        ok[chosen] = False
        ok, _ = _quota_mask(district, need_left, p - step, ok)
        if not ok.any():
            break
        np.subtract(d1[:, None], C, out=buf)
        np.maximum(buf, 0.0, out=buf)
        gain = w @ buf
        gain[~ok] = -np.inf
        if need_left is None and step + 1 < p and _past(deadline):
            # out of time: the remaining picks in one go, by their current gain
            rest = np.argsort(-gain, kind="stable")[:p - step]
            chosen.extend(int(v) for v in rest)
            d1 = np.minimum(d1, C[:, rest].min(axis=1))
            break
        j = int(np.argmax(gain))
        chosen.append(j)
        if need_left is not None:
            need_left[district[j]] -= 1
        d1 = np.minimum(d1, C[:, j])
    sel = np.array(chosen, dtype=np.int64)
    if sel.size == 0:
        return sel, float(w @ d1)
    for _ in range(max_swaps):
        if _past(deadline):
            break
        D = np.column_stack([base, C[:, sel]])  # column 0 = fixed open facilities
        part = np.argpartition(D, 1, axis=1)[:, :2] if D.shape[1] > 1 else np.zeros((n, 2), int)
        a = part[:, 0]
        da = D[np.arange(n), a]
        db = D[np.arange(n), part[:, 1]]
        swapm = da > db
        a = np.where(swapm, part[:, 1], a)
        d1, d2 = np.minimum(da, db), np.maximum(da, db)
        if D.shape[1] == 1:
            d2 = d1.copy()
        value = float(w @ d1)
        G = w @ (np.minimum(d1[:, None], C) - d1[:, None])          # add c
        E = w[:, None] * (np.minimum(d2[:, None], C) - np.minimum(d1[:, None], C))
        own = a - 1                                                 # which pick serves i
        mask = own >= 0
        rows_of = sp.csr_matrix((np.ones(int(mask.sum())), (own[mask], np.flatnonzero(mask))),
                                shape=(sel.size, n))
        H = rows_of @ E                                             # sum of E over i served by k
        delta = G[None, :] + H                                      # (out k, in c)
        delta[:, sel] = np.inf
        delta[:, ~ok0] = np.inf
        delta[~_swap_allowed(district, need, sel, m).T] = np.inf
        k = int(np.argmin(delta))
        si, c = divmod(k, m)
        if not np.isfinite(delta[si, c]) or delta[si, c] >= -1e-9 * max(1.0, abs(value)):
            break
        sel[si] = c
    sel = np.sort(sel)
    d1 = np.minimum(base, C[:, sel].min(axis=1))
    return sel, float(w @ d1)


def greedy_swap_center(C: np.ndarray, p: int, *, base: np.ndarray,
                       district: np.ndarray | None = None, need: np.ndarray | None = None,
                       max_swaps: int = 2_000,
                       deadline: float | None = None) -> tuple[np.ndarray, float]:
    """Greedy adding then swaps for the p-center problem on rows that matter.

    ``C`` holds only the rows whose worst time counts (positive weight); the
    value is ``max_i min(base_i, C[i, S])``. The swaps stop at ``deadline``
    (a ``time.perf_counter()`` value).
    """
    n, m = C.shape
    need_left = None if need is None else np.array(need, dtype=np.int64)
    d1 = base.astype(float).copy()
    chosen: list[int] = []
    for step in range(p):
        ok = np.ones(m, bool)
        ok[chosen] = False
        ok, _ = _quota_mask(district, need_left, p - step, ok)
        if not ok.any():
            break
        worst = np.minimum(d1[:, None], C)
        score = worst.max(axis=0) + 1e-9 * worst.mean(axis=0)
        score[~ok] = np.inf
        if need_left is None and step + 1 < p and _past(deadline):
            # out of time: the remaining picks in one go, by their current score
            rest = np.argsort(score, kind="stable")[:p - step]
            chosen.extend(int(v) for v in rest)
            d1 = np.minimum(d1, C[:, rest].min(axis=1))
            break
        j = int(np.argmin(score))
        chosen.append(j)
        if need_left is not None:
            need_left[district[j]] -= 1
        d1 = np.minimum(d1, C[:, j])
    sel = np.array(chosen, dtype=np.int64)
    value = float(d1.max()) if n else 0.0
    for _ in range(max_swaps):
        improved = False
        allowed = _swap_allowed(district, need, sel, m)
        for k in range(sel.size):
            if _past(deadline):
                break
            rest = np.delete(sel, k)
            dr = np.minimum(base, C[:, rest].min(axis=1)) if rest.size else base
            worst = np.minimum(dr[:, None], C).max(axis=0)
            worst[sel] = np.inf
            worst[~allowed[:, k]] = np.inf
            c = int(np.argmin(worst))
            if worst[c] < value - 1e-9:
                sel[k] = c
                value = float(worst[c])
                improved = True
                break
        if not improved:
            break
    return np.sort(sel), value


def round_up(x: float | np.ndarray, integral: bool) -> float | np.ndarray:
    """A lower bound on an objective raised to the next integer when every cost is
    integral (the tolerance keeps floating-point noise from rounding past the truth)."""
    if not integral:
        return x
    x = np.asarray(x, float)
    with np.errstate(invalid="ignore"):
        up = np.ceil(x - 1e-6 * np.maximum(1.0, np.abs(x)))
    return np.where(np.isfinite(x), up, x)


@dataclass(frozen=True)
class LagrangianFix:
    """Outcome of :func:`lagrangian_median` and :func:`lagrangian_set_cover`.

    Attributes
    ----------
    bound
        Lower bound on the optimum (raised to an integer when the costs are).
    useful
        Columns that may still be in a solution strictly better than ``ub``;
        every other column is in none (reduced-cost fixing).
    forced
        Columns in every solution strictly better than ``ub``.
    incumbent, ub
        The best solution found and its cost.
    iterations
        Subgradient steps taken.
    dual, reduced
        The unrounded bound and the reduced cost of every column at the best
        multipliers (set covering; empty for the p-median), for fixing
        against a later incumbent with :func:`fix_set_cover`.
    multipliers
        The best multipliers (p-median: one per row), to start
        :func:`median_branch_and_bound` from.
    """

    bound: float
    useful: np.ndarray
    forced: np.ndarray
    incumbent: np.ndarray
    ub: float
    iterations: int
    dual: float = -np.inf
    reduced: np.ndarray = field(default_factory=lambda: np.zeros(0))
    multipliers: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _subgradient(evaluate, lam: np.ndarray, cap: np.ndarray, ub_of, *, integral: bool,
                 deadline: float, max_iter: int, on_step=None,
                 theta: float = 2.0) -> tuple[float, int]:
    """Maximise a Lagrangian dual by subgradient steps aimed at the incumbent's cost.

    ``evaluate(lam)`` returns ``(L, g)``: the dual value and a subgradient;
    ``lam`` is kept in ``[0, cap]``; ``ub_of()`` gives the current incumbent
    cost; ``on_step(it, L)`` may improve it. Stops when the rounded bound
    reaches the incumbent, the step has shrunk away, at ``deadline`` or after
    ``max_iter`` steps. Returns the best bound and the number of steps, and
    leaves the multipliers of the best bound in ``lam``.
    """
    best_L, stall, it = -np.inf, 0, 0
    best_lam = lam.copy()
    for it in range(1, max_iter + 1):
        L, g = evaluate(lam)
        if on_step is not None:
            on_step(it, L)
        ub = ub_of()
        if L > best_L + 1e-12 * max(1.0, abs(L)):
            best_L, stall = L, 0
            best_lam[:] = lam
        else:
            stall += 1
            if stall >= 20:
                theta *= 0.5
                stall = 0
        if round_up(best_L, integral) >= ub - 1e-9 * max(1.0, abs(ub)) or theta < 1e-5 \
                or time.perf_counter() >= deadline:
            break
        g = np.where(((lam <= 0) & (g < 0)) | ((lam >= cap) & (g > 0)), 0.0, g)
        gg = float(g @ g)
        if gg == 0:
            break
        target = ub - 1.0 + 1e-3 if integral else ub
        step = theta * max(target - L, 1e-6 * max(1.0, abs(L))) / gg
        np.clip(lam + step * g, 0.0, cap, out=lam)
    lam[:] = best_lam
    return best_L, it


def lagrangian_median(C: np.ndarray, w: np.ndarray, p: int, *, base: np.ndarray,
                      incumbent: np.ndarray, ub: float, max_iter: int = 100_000,
                      time_budget_s: float = 10.0, integral: bool = False,
                      polish_share: float = 0.25) -> LagrangianFix:
    """Lagrangian bound for the p-median problem and reduced-cost fixing.

    Relaxing "each row is assigned once" with multipliers ``lam`` gives
    ``L(lam) = sum(lam) + sum_i min(0, w_i b_i - lam_i) + (sum of the p
    smallest rho_j)``, ``rho_j = sum_i min(0, w_i C_ij - lam_i)``, a lower
    bound on the optimum for every ``lam`` (the best ``lam`` gives the LP
    relaxation's bound), raised by subgradient steps. At every step a column
    ``j`` outside the relaxed solution whose forced opening lifts the bound
    (``L + rho_j - rho_(p)``) to ``ub`` or more is marked as in no better
    solution, and a column of the relaxed solution whose closing does so
    (``L - rho_j + rho_(p+1)``) as in every better one; with ``integral``
    costs a bound above ``ub - 1`` is enough.

    Parameters
    ----------
    C, w, p, base
        Dense costs, row weights, number of picks and per-row cost of the
        always-open sites (large penalty if none).
    incumbent, ub
        A known solution and its cost; the relaxed solution is polished by
        swaps now and then (within ``polish_share`` of the time) and replaces
        the incumbent when better.
    max_iter, time_budget_s
        Limits of the subgradient steps.
    integral
        Whether every ``w_i C_ij`` and ``w_i b_i`` is an integer.
    """
    t_start = time.perf_counter()
    t_end = t_start + time_budget_s
    n, m = C.shape
    wb = w * base
    # only the K cheapest columns of each row can have w_i C_ij < lam_i once
    # lam_i is capped at the K-th cheapest cost (any lam gives a valid bound)
    K = int(min(m, max(64, 4 * m // max(p, 1))))
    if K < m:
        idx = np.argpartition(C, K - 1, axis=1)[:, :K]
    else:
        idx = np.broadcast_to(np.arange(m), (n, m)).copy()
    WK = w[:, None] * np.take_along_axis(C, idx, axis=1)
    o = np.argsort(WK, axis=1)
    idx = np.take_along_axis(idx, o, axis=1)
    WK = np.take_along_axis(WK, o, axis=1)
    cap = np.minimum(WK[:, -1], wb) if K < m else wb.copy()
    lam = np.minimum(WK[:, 1] if K > 1 else WK[:, 0], cap)
    closed = np.zeros(m, bool)
    forced = np.zeros(m, bool)
    state = {"inc": np.sort(np.asarray(incumbent, dtype=np.int64)), "ub": float(ub),
             "S": np.zeros(0, np.int64), "polish_s": 0.0, "tried": set()}

    def evaluate(lam: np.ndarray) -> tuple[float, np.ndarray]:
        M = WK < lam[:, None]
        rho = np.bincount(idx[M], weights=(WK - lam[:, None])[M], minlength=m)
        if p < m:
            part = np.argpartition(rho, p)
            S, nxt = part[:p], float(rho[part[p]])
        else:
            S, nxt = np.arange(m), 0.0
        worst_in = float(rho[S].max()) if p else 0.0
        L = float(lam.sum() + np.minimum(wb - lam, 0.0).sum() + rho[S].sum())
        ubv = state["ub"]
        tol = 1e-9 * max(1.0, abs(ubv))
        inS = np.zeros(m, bool)
        inS[S] = True
        closed[~inS & (round_up(L + rho - worst_in, integral) >= ubv - tol)] = True
        if p < m:
            forced[inS & (round_up(L - rho + nxt, integral) >= ubv - tol)] = True
        state["S"] = S
        g = 1.0 - (M & inS[idx]).sum(axis=1) - (wb < lam)
        return L, g

    def on_step(it: int, L: float) -> None:
        key = tuple(sorted(int(v) for v in state["S"]))
        elapsed = time.perf_counter() - t_start
        if it % 10 == 5 and key not in state["tried"] \
                and state["polish_s"] <= polish_share * elapsed:
            state["tried"].add(key)
            t = time.perf_counter()
            sel, val = greedy_swap_median(C, w, p, base=base, start=np.array(key),
                                          deadline=t_end)
            state["polish_s"] += time.perf_counter() - t
            if val < state["ub"]:
                state["inc"], state["ub"] = sel, val

    best_L, its = _subgradient(evaluate, lam, cap, lambda: state["ub"], integral=integral,
                               deadline=t_end, max_iter=max_iter, on_step=on_step)
    useful = ~closed
    useful[forced] = True
    return LagrangianFix(float(round_up(best_L, integral)), useful, forced & ~closed,
                         state["inc"], state["ub"], its, float(best_L), np.zeros(0), lam)


def median_branch_and_bound(C: np.ndarray, w: np.ndarray, p: int, *, base: np.ndarray,
                            incumbent: np.ndarray, ub: float, deadline: float,
                            integral: bool = False, lam: np.ndarray | None = None,
                            root_iter: int = 300,
                            node_iter: int = 20) -> tuple[np.ndarray, float, float, bool]:
    """Branch and bound for the p-median problem on the Lagrangian bound.

    A node opens the columns ``F`` and closes the columns ``X``; its bound is
    the Lagrangian bound of :func:`lagrangian_median` for the ``p - |F|``
    picks left, the open columns acting as always-open sites, raised by
    subgradient steps from the parent's multipliers. A node whose bound
    reaches ``ub`` is dropped; at the others the columns whose forced
    opening would reach it are closed for the whole subtree, the relaxed
    solution (with ``F``) is tried as a new incumbent, and the node is split
    on the pick of least ``rho`` (opened first, then closed). Depth first.

    Returns
    -------
    incumbent, ub, bound, done
        The best solution and its cost, a lower bound on the optimum (the
        smallest bound of the nodes left when ``deadline`` stopped the
        search) and whether the search finished (then ``bound == ub``).
    """
    n, m = C.shape
    WC = w[:, None] * C
    wb0 = w * base
    best_sel = np.sort(np.asarray(incumbent, dtype=np.int64))
    state = {"ub": float(ub)}

    def cost_of(sel: np.ndarray) -> float:
        return float(np.minimum(wb0, WC[:, sel].min(axis=1)).sum())

    def pruned(L: float) -> bool:
        u = state["ub"]
        return bool(round_up(L, integral) >= u - 1e-9 * max(1.0, abs(u)))

    if lam is None:
        lam = np.partition(WC, 1, axis=1)[:, 1] if m > 1 else WC[:, 0]
    lam0 = np.minimum(lam, wb0)
    stack: list[tuple[tuple[int, ...], np.ndarray, np.ndarray, float]] = [
        ((), np.zeros(m, bool), lam0, -np.inf)]
    first = True
    while stack:
        if time.perf_counter() >= deadline:
            break
        F, X, lam, _ = stack.pop()
        pp = p - len(F)
        Fi = np.array(F, dtype=np.int64)
        wb = np.minimum(wb0, WC[:, Fi].min(axis=1)) if Fi.size else wb0
        if pp == 0:
            v = float(wb.sum())
            if v < state["ub"]:
                best_sel, state["ub"] = np.sort(Fi), v
            continue
        allowed = ~X
        allowed[Fi] = False
        if allowed.sum() < pp:
            continue
        cols = np.flatnonzero(allowed)
        Wa = WC[:, cols]
        # rows no allowed column serves better than the open ones add their
        # open cost whatever the multipliers: they are left out of the steps
        live = wb > Wa.min(axis=1)
        Wa = Wa[live]
        wl = wb[live]
        const = float(wb[~live].sum())
        lam_l = np.minimum(lam[live], wl)

        def evaluate(lam_l: np.ndarray, keep: dict) -> tuple[float, np.ndarray]:
            Dm = Wa - lam_l[:, None]
            np.minimum(Dm, 0.0, out=Dm)
            rho = Dm.sum(axis=0)
            Sa = np.argpartition(rho, pp - 1)[:pp]
            L = const + float(lam_l.sum() + np.minimum(wl - lam_l, 0.0).sum() + rho[Sa].sum())
            keep.update(rho=rho, Sa=Sa)
            return L, 1.0 - (Wa[:, Sa] < lam_l[:, None]).sum(axis=1) - (wl < lam_l)

        best_L, _ = _subgradient(lambda v: evaluate(v, {}), lam_l, wl, lambda: state["ub"],
                                 integral=integral, deadline=deadline,
                                 max_iter=root_iter if first else node_iter, theta=1.0)
        first = False
        lam = lam.copy()
        lam[live] = lam_l
        if pruned(best_L):
            continue
        info: dict = {}
        L, _ = evaluate(lam_l, info)           # lam_l holds the best multipliers now
        rho = np.full(m, np.inf)
        rho[cols] = info["rho"]
        S = cols[info["Sa"]]
        sel = np.concatenate([Fi, S])
        v = cost_of(sel)
        if v < state["ub"]:
            best_sel, state["ub"] = np.sort(sel), v
            if pruned(L):
                continue
        worst = float(rho[S].max())
        lift = np.where(np.isfinite(rho), L + rho - worst, -np.inf)
        X = X | (round_up(lift, integral) >= state["ub"] - 1e-9 * max(1.0, abs(state["ub"])))
        X[S] = False
        j = int(S[np.argmin(rho[S])])
        Xc = X.copy()
        Xc[j] = True
        stack.append((F, Xc, lam.copy(), L))
        stack.append((F + (j,), X, lam.copy(), L))
    done = not stack
    bound = state["ub"] if done else min(state["ub"], min(b for *_, b in stack))
    return best_sel, state["ub"], float(round_up(bound, integral)), done


def lagrangian_set_cover(R: sp.csr_matrix, cost: np.ndarray, *, ub: float,
                         max_iter: int = 100_000, time_budget_s: float = 10.0,
                         integral: bool = False, heuristic_share: float = 0.3
                         ) -> LagrangianFix:
    """Lagrangian bound for set covering (``min cost.x, R x >= 1``) and reduced-cost fixing.

    Relaxing the cover rows with multipliers ``u >= 0`` gives ``L(u) = sum(u)
    + sum_j min(0, r_j)`` with reduced costs ``r_j = cost_j - sum_{i in j}
    u_i``, a lower bound for every ``u`` (the best ``u`` gives the LP
    relaxation's bound). A column with ``L + r_j >= ub`` is in no solution
    cheaper than ``ub``, one with ``L - r_j >= ub`` in every such solution
    (with ``integral`` costs a bound above ``ub - 1`` is enough). Every few
    steps (within ``heuristic_share`` of the time) the relaxed solution is
    completed to a cover by :func:`complete_cover`; the cheapest one found is
    returned as ``incumbent`` when cheaper than ``ub`` (else ``incumbent`` is
    empty and ``ub`` unchanged).
    """
    t_start = time.perf_counter()
    t_end = t_start + time_budget_s
    R = sp.csr_matrix(R, dtype=np.float64)
    n, m = R.shape
    cost = np.asarray(cost, float)
    Rt = R.T.tocsr()
    Rc = R.tocsc()
    state = {"inc": np.zeros(0, np.int64), "ub": float(ub), "r": cost.copy(), "heur_s": 0.0}
    csize = np.maximum(np.diff(Rt.indptr), 1)
    # start: each row priced at the cheapest cost per row of a column covering it
    per = cost / csize
    u = np.full(n, np.inf)
    np.minimum.at(u, np.repeat(np.arange(n), np.diff(R.indptr)), per[R.indices])
    u[~np.isfinite(u)] = 0.0
    cap = np.full(n, float(cost.max()) if m else 0.0)
    closed = np.zeros(m, bool)
    forced = np.zeros(m, bool)

    def evaluate(u: np.ndarray) -> tuple[float, np.ndarray]:
        r = cost - Rt @ u
        neg = r < 0
        L = float(u.sum() + r[neg].sum())
        c_, f_ = fix_set_cover(L, r, state["ub"], integral)
        closed[c_] = True
        forced[f_] = True
        state["r"] = r
        g = 1.0 - R @ neg.astype(np.float64)
        return L, g

    def on_step(it: int, L: float) -> None:
        # the relaxed solution completed to a cover (Lagrangian heuristic)
        if it % 5 == 1 and state["heur_s"] <= heuristic_share * (time.perf_counter() - t_start):
            t = time.perf_counter()
            sel = complete_cover(R, Rc, Rt, cost, state["r"] < 0, state["r"])
            state["heur_s"] += time.perf_counter() - t
            val = float(cost[sel].sum())
            if val < state["ub"] - 1e-9 * max(1.0, state["ub"]):
                state["inc"], state["ub"] = sel, val

    best_L, its = _subgradient(evaluate, u, cap, lambda: state["ub"], integral=integral,
                               deadline=t_end, max_iter=max_iter, on_step=on_step)
    useful = ~closed
    return LagrangianFix(float(round_up(best_L, integral)) if m else 0.0, useful,
                         forced & useful, state["inc"], state["ub"], its, float(best_L),
                         cost - Rt @ u)


def fix_set_cover(L: float, r: np.ndarray, ub: float, integral: bool
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Reduced-cost fixing for set covering from a Lagrangian bound ``L`` and reduced
    costs ``r``: (columns in no cover cheaper than ``ub``, columns in every one)."""
    tol = 1e-9 * max(1.0, abs(ub))
    closed = round_up(L + np.maximum(r, 0.0), integral) >= ub - tol
    forced = (r < 0) & (round_up(L - r, integral) >= ub - tol)
    return closed, forced


def complete_cover(R: sp.csr_matrix, Rc: sp.csc_matrix, Rt: sp.csr_matrix, cost: np.ndarray,
                   start: np.ndarray, key: np.ndarray) -> np.ndarray:
    """A cover from the columns of boolean mask ``start``: uncovered rows are covered
    greedily (least cost per newly covered row), then redundant columns are dropped,
    largest ``key`` first."""
    n, m = R.shape
    x = start.copy()
    cnt = R @ x.astype(np.float64)
    unc = (cnt == 0).astype(np.float64)
    gains = Rt @ unc
    while unc.any():
        score = np.where(gains > 0, cost / np.maximum(gains, 1e-12), np.inf)
        score[x] = np.inf
        j = int(np.argmin(score))
        if not np.isfinite(score[j]):
            break
        x[j] = True
        rows = Rc.indices[Rc.indptr[j]:Rc.indptr[j + 1]]
        rows = rows[unc[rows] > 0]
        d = np.zeros(n)
        d[rows] = 1.0
        gains -= Rt @ d
        unc[rows] = 0.0
    cnt = R @ x.astype(np.float64)
    sel = np.flatnonzero(x)
    for j in sel[np.argsort(-key[sel], kind="stable")]:
        rows = Rc.indices[Rc.indptr[j]:Rc.indptr[j + 1]]
        if np.all(cnt[rows] >= 2):
            x[j] = False
            cnt[rows] -= 1
    return np.flatnonzero(x)


# --------------------------------------------------------------------------
# maximal covering: iterated local search and the Lagrangian bound
# --------------------------------------------------------------------------
class _SwapState:
    """A selection for maximal covering with its swap table kept up to date.

    ``delta()[c, k]`` is the change in covered weight when slot ``k``
    (column ``sel[k]``) is given to column ``c``: ``gain[c] + M[c, k] -
    loss[k]``, where ``gain`` is the uncovered weight a column reaches,
    ``loss[k]`` the weight only slot ``k`` covers and ``M[c, k]`` the part of
    that weight ``c`` reaches too. A move touches only the rows of the two
    columns involved, so the terms are updated for those rows alone.
    """

    def __init__(self, R: sp.csr_matrix, Rc: sp.csc_matrix, w: np.ndarray, sel: np.ndarray):
        self.R, self.Rc, self.w = R, Rc, w
        n, m = R.shape
        self.sel = np.array(sel, dtype=np.int64)
        p = self.sel.size
        self.pos = np.full(m, -1, dtype=np.int64)
        self.pos[self.sel] = np.arange(p)
        self.cnt = np.zeros(n, dtype=np.int64)
        for c in self.sel:
            self.cnt[self._col(c)] += 1
        self.owner = np.full(n, -1, dtype=np.int64)
        self.gain = np.zeros(m)
        self.loss = np.zeros(p)
        self.M = np.zeros((m, p))
        allr = np.arange(n)
        self._set_owner(allr)
        self._contrib(allr, 1.0)
        self.value = float(w[self.cnt > 0].sum())

    def _col(self, c: int) -> np.ndarray:
        return self.Rc.indices[self.Rc.indptr[c]:self.Rc.indptr[c + 1]]

    def _pairs(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every stored entry of ``rows``."""
        ptr = self.R.indptr
        lens = ptr[rows + 1] - ptr[rows]
        r = np.repeat(rows, lens)
        offs = np.arange(r.size) - np.repeat(np.cumsum(lens) - lens, lens)
        return r, self.R.indices[np.repeat(ptr[rows], lens) + offs]

    def _set_owner(self, rows: np.ndarray) -> None:
        self.owner[rows] = -1
        one = rows[self.cnt[rows] == 1]
        if one.size:
            r, c = self._pairs(one)
            k = self.pos[c]
            self.owner[r[k >= 0]] = k[k >= 0]

    def _contrib(self, rows: np.ndarray, sign: float) -> None:
        r, c = self._pairs(rows)
        wr = sign * self.w[r]
        z = self.cnt[r] == 0
        np.add.at(self.gain, c[z], wr[z])
        o = self.cnt[r] == 1
        np.add.at(self.M.reshape(-1), c[o] * self.sel.size + self.owner[r[o]], wr[o])
        one = rows[self.cnt[rows] == 1]
        np.add.at(self.loss, self.owner[one], sign * self.w[one])

    def move(self, k: int, c: int) -> None:
        """Give slot ``k`` to column ``c`` (not selected)."""
        out = int(self.sel[k])
        r_out, r_in = self._col(out), self._col(c)
        rows = np.union1d(r_out, r_in)
        self._contrib(rows, -1.0)
        before = float(self.w[rows][self.cnt[rows] > 0].sum())
        self.cnt[r_out] -= 1
        self.cnt[r_in] += 1
        self.pos[out] = -1
        self.pos[c] = k
        self.sel[k] = c
        self._set_owner(rows)
        self._contrib(rows, 1.0)
        self.value += float(self.w[rows][self.cnt[rows] > 0].sum()) - before

    def delta(self) -> np.ndarray:
        d = self.M + self.gain[:, None]
        d -= self.loss[None, :]
        d[self.sel, :] = -np.inf
        return d

    def best_move(self, near: sp.csr_matrix) -> tuple[float, int, int]:
        """The best entry of :meth:`delta` as ``(change, slot, column)``.

        ``M[:, k]`` is zero outside the columns sharing a row with ``sel[k]``
        (``near``), so the best column for slot ``k`` is either one of those
        or the column of largest ``gain``; only those entries are looked at.
        """
        p = self.sel.size
        ptr = near.indptr
        lens = ptr[self.sel + 1] - ptr[self.sel]
        ks = np.repeat(np.arange(p), lens)
        offs = np.arange(ks.size) - np.repeat(np.cumsum(lens) - lens, lens)
        cs = near.indices[np.repeat(ptr[self.sel], lens) + offs]
        vals = self.gain[cs] + self.M[cs, ks] - self.loss[ks]
        vals[self.pos[cs] >= 0] = -np.inf
        g = np.where(self.pos >= 0, -np.inf, self.gain)
        c1 = int(np.argmax(g))
        k1 = int(np.argmin(self.loss))
        best = (float(g[c1] - self.loss[k1]), k1, c1)
        if vals.size:
            i = int(np.argmax(vals))
            if vals[i] > best[0]:
                best = (float(vals[i]), int(ks[i]), int(cs[i]))
        return best

    def search(self, near: sp.csr_matrix, deadline: float | None,
               max_moves: int = 100_000) -> None:
        """Best-improvement moves until none improves (or ``deadline``)."""
        for _ in range(max_moves):
            if _past(deadline):
                break
            change, k, c = self.best_move(near)
            if not change > 1e-9 * max(1.0, abs(self.value)):
                break
            self.move(k, c)


def ils_cover(reach: sp.csr_matrix, w: np.ndarray, start: np.ndarray, *,
              deadline: float | None, seed: int = 0, max_rounds: int = 100_000,
              stall_rounds: int | None = None, accept: float = 0.0
              ) -> tuple[np.ndarray, float]:
    """Iterated local search for maximal covering with ``len(start)`` picks.

    Local search applies the best swap (one pick out, one column in) until
    none improves. Each round then hands a pick and up to a few picks near it
    (sharing rows with it) to columns drawn among the best three for their
    slot, searches again and goes on from the result unless it is worse by
    more than the share ``accept`` of the value it started from or lies
    more than four times that share below the best value found. Stops at
    ``deadline`` (``time.perf_counter()``), after ``max_rounds`` or after
    ``stall_rounds`` rounds without a new best.

    Returns
    -------
    selected, value
        Sorted picks and their covered weight.
    """
    n, m = reach.shape
    w = np.asarray(w, float)
    sel = np.array(start, dtype=np.int64)
    R = reach.tocsr().astype(np.float64)
    Rc = R.tocsc()
    if sel.size == 0 or sel.size >= m:
        return np.sort(sel), float(w[_covered(Rc, sel, n)].sum())
    near = (Rc.T.tocsr() @ Rc).tocsr()      # columns sharing a row
    rng = np.random.default_rng(seed)
    st = _SwapState(R, Rc, w, sel)
    st.search(near, deadline)
    best_sel, best_val = st.sel.copy(), st.value
    stall = 0
    p = sel.size
    kmax = max(2, min(8, p // 4))
    rounds = 0
    for rounds in range(max_rounds):
        if _past(deadline) or (stall_rounds is not None and stall >= stall_rounds):
            break
        cur_sel, cur_val = st.sel.copy(), st.value
        pivot = int(rng.integers(p))
        nb = near.indices[near.indptr[st.sel[pivot]]:near.indptr[st.sel[pivot] + 1]]
        slots = np.flatnonzero(np.isin(st.sel, nb) & (np.arange(p) != pivot))
        k = int(rng.integers(0, kmax))
        slots = np.concatenate([[pivot], rng.permutation(slots)[:k]]).astype(np.int64)
        banned = st.sel[slots].copy()
        for si in slots:
            d = st.M[:, si] + st.gain
            d[st.sel] = -np.inf
            d[banned] = -np.inf
            top = np.argpartition(-d, 2)[:3]
            top = top[np.isfinite(d[top])]
            if top.size:
                st.move(int(si), int(top[rng.integers(top.size)]))
        st.search(near, deadline)
        if st.value > best_val + 1e-9 * max(1.0, best_val):
            best_sel, best_val, stall = st.sel.copy(), st.value, 0
        else:
            stall += 1
        floor = max((1.0 - accept) * cur_val, (1.0 - 4.0 * accept) * best_val)
        if st.value < min(floor, cur_val - 1e-9 * max(1.0, cur_val)):
            st = _restore(st, R, Rc, w, cur_sel)
    best_sel = np.sort(best_sel)
    ils_cover.rounds = rounds
    return best_sel, float(w[_covered(Rc, best_sel, n)].sum())


def _restore(st: _SwapState, R: sp.csr_matrix, Rc: sp.csc_matrix, w: np.ndarray,
             sel: np.ndarray) -> _SwapState:
    """Move ``st`` back to ``sel`` slot by slot (a fresh state when many differ)."""
    diff = np.flatnonzero(st.sel != sel)
    if diff.size > 16:
        return _SwapState(R, Rc, w, sel)
    pending = list(diff)
    while pending:
        progressed = False
        for k in list(pending):
            if st.pos[sel[k]] < 0:
                st.move(int(k), int(sel[k]))
                pending.remove(k)
                progressed = True
        if not progressed:
            return _SwapState(R, Rc, w, sel)
    return st


def lagrangian_cover(reach: sp.csr_matrix, w: np.ndarray, *, p: int | None,
                     budget: float | None = None, costs: np.ndarray | None = None,
                     lower: float = 0.0, max_iter: int = 3_000,
                     deadline: float | None = None, rel_tol: float = 1e-7,
                     state: dict | None = None) -> float:
    """Upper bound on maximal covering from relaxing the coverage constraints.

    With multipliers ``0 <= lam_i <= w_i`` on ``y_i <= sum_{j reaches i}
    x_j``, ``L(lam) = sum_i (w_i - lam_i) + top_gain_bound(rho)`` with
    ``rho_j = sum_{i reached by j} lam_i`` bounds the best coverage from
    above for every ``lam`` (the best ``lam`` reaches the LP relaxation's
    bound). ``L`` is lowered by subgradient steps aimed at ``lower`` (the
    best known coverage); it stops at ``deadline``, after ``max_iter`` steps,
    when the step size has shrunk away or when the bound is within
    ``rel_tol`` of ``lower``. Passing the same ``state`` dictionary again
    continues from where the previous call stopped.
    """
    R = reach.tocsr().astype(np.float64)
    Rt = R.T.tocsr()
    w = np.asarray(w, float)
    m = R.shape[1]
    total = float(w.sum())
    if m == 0 or total <= 0:
        return 0.0
    k = m if p is None else max(0, min(int(p), m))
    st = state if state is not None else {}
    lam = st.get("lam", 0.5 * w)
    best = st.get("best", total)
    theta, stall = st.get("theta", 2.0), 0
    cost = None if costs is None else np.asarray(costs, float)
    for _ in range(max_iter):
        rho = Rt @ lam
        if budget is None:
            top = _top(rho, k)
            L = float(total - lam.sum() + rho[top].sum())
        else:
            L = float(total - lam.sum()
                      + top_gain_bound(rho, k=p, costs=cost, budget=budget))
            order = np.argsort(-(rho / np.maximum(cost, 1e-12)), kind="stable")
            fit = np.cumsum(cost[order]) <= budget + 1e-9
            top = order[fit][:k]
        if L < best - 1e-12 * abs(best):
            best, stall = L, 0
        else:
            stall += 1
            if stall >= 60:
                theta *= 0.5
                stall = 0
        if best - lower <= rel_tol * max(1.0, abs(lower)) or theta < 1e-4 or _past(deadline):
            break
        x = np.zeros(m)
        x[top] = 1.0
        g = (R @ x) - (w > lam)        # d L / d lam, up to sign
        g[(lam <= 0) & (g > 0)] = 0.0  # steps that would leave [0, w] do not count
        g[(lam >= w) & (g < 0)] = 0.0
        gg = float(g @ g)
        if gg == 0:
            break
        step = theta * max(L - lower, 1e-9 * max(1.0, abs(L))) / gg
        lam = np.clip(lam - step * g, 0.0, w)
    st.update(lam=lam, best=best, theta=theta)
    return min(best, total)


def _top(rho: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest entries of ``rho`` (any order)."""
    m = rho.size
    return np.argpartition(-rho, k - 1)[:k] if 0 < k < m else np.arange(min(k, m))


def cover_bound(reach: sp.csr_matrix, w: np.ndarray, lam: np.ndarray, p: int) -> float:
    """The Lagrangian upper bound of :func:`lagrangian_cover` at multipliers ``lam``.

    ``sum_i (w_i - lam_i) + (sum of the p largest rho_j)``, ``rho_j`` the sum
    of ``lam`` over the rows column ``j`` reaches, with ``lam`` clipped to
    ``[0, w]`` first. It bounds the best coverage with ``p`` picks from above
    whatever ``lam`` is, so multipliers from any source (the duals of a
    linear-programming solve, say) give a bound that needs no trust in that
    source.
    """
    w = np.asarray(w, float)
    lam = np.clip(np.nan_to_num(np.asarray(lam, float), nan=0.0), 0.0, w)
    m = reach.shape[1]
    if m == 0:
        return 0.0
    rho = np.asarray(reach.T.astype(np.float64) @ lam).ravel()
    k = max(0, min(int(p), m))
    return float(min(w.sum(), w.sum() - lam.sum() + rho[_top(rho, k)].sum()))


def lagrangian_support(reach: sp.csr_matrix, lam: np.ndarray, p: int, *,
                       rel: float = 0.005, min_cols: int | None = None) -> np.ndarray:
    """Columns whose Lagrangian value is within ``rel`` of the ``p``-th largest.

    With multipliers ``lam`` of :func:`lagrangian_cover`, column ``j`` is
    worth ``rho_j = sum_{i reached by j} lam_i``; near the best multipliers the
    columns a linear-programming optimum uses are those with ``rho_j`` equal
    to the ``p``-th largest value, so the returned columns (sorted) are where
    a good selection is sought first. At least ``min_cols`` (default
    ``2 p``) columns of largest ``rho`` are returned.
    """
    m = reach.shape[1]
    if m == 0 or p <= 0:
        return np.arange(m, dtype=np.int64)
    rho = np.asarray(reach.T.astype(np.float64) @ np.asarray(lam, float)).ravel()
    k = min(int(p), m)
    rp = float(np.partition(rho, m - k)[m - k])
    keep = rho >= rp - abs(rp) * rel
    want = min(m, 2 * k if min_cols is None else int(min_cols))
    if keep.sum() < want:
        keep[np.argpartition(-rho, want - 1)[:want]] = True
    return np.flatnonzero(keep)
