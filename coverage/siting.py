"""Optimal siting of new facilities: MCLP, LSCP, p-median and p-center.

All models work on a plain ``demand x candidate`` matrix of travel times in
seconds and a vector of demand weights (residents per population cell):

* a dense :class:`numpy.ndarray`: ``np.inf`` or ``NaN`` marks a pair that is
  not reachable; ``0`` is a real zero travel time;
* a :mod:`scipy.sparse` matrix (CSR as produced by the accessibility engine):
  every *stored* entry is a reachable pair with that time, an absent entry is
  not reachable (within the threshold the matrix was built with). A zero
  travel time is a stored explicit zero: build the matrix from
  ``(data, (row, col))`` triplets and do not call ``eliminate_zeros()``.

Models are solved exactly as mixed-integer programs with HiGHS after the
instance has been reduced (demand no candidate reaches is dropped and demand
rows reaching the same candidate set are merged with their weights summed),
or with vectorised heuristics (greedy, swap local search, iterated local
search for MCLP) that report a bound on the best value (submodularity,
Lagrangian relaxation), chosen automatically for large instances or used
after a time-out. For p-median and LSCP the Lagrangian bound also fixes
candidates that cannot be in a better solution before HiGHS (or, for
p-median with few sites, a branch and bound on that bound) sees the model.
HiGHS's answers are checked against the solution they come with, and
``time_limit_s`` covers the whole call.

Candidate sites come from :func:`candidates_from_cells`,
:func:`candidates_kmeans` and :func:`filter_min_distance`.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp

from coverage import _siting_heuristics as heur
from coverage.errors import InfeasibleError, InputError, Problem, ProblemCollector

__all__ = [
    "SitingResult",
    "mclp",
    "lscp",
    "p_median",
    "p_center",
    "coverage_curve",
    "candidates_from_cells",
    "candidates_kmeans",
    "filter_min_distance",
    "AUTO_MILP_MAX_NNZ",
    "MCLP_MILP_MAX_NNZ",
]

#: ``method="auto"`` solves the LSCP MILP and the coverage curve's MILPs when
#: the reduced coverage matrix has at most this many non-zeros, otherwise it
#: uses the heuristics (p-median: four times as many).
AUTO_MILP_MAX_NNZ = 3_000_000

#: ``method="auto"`` of :func:`p_median` branches on the Lagrangian bound
#: instead of handing the fixed model to HiGHS for at most this many new sites
#: and a fixed dense model of at most ``_BB_MAX_ENTRIES`` demand x candidate pairs.
_BB_MAX_P = 10
_BB_MAX_ENTRIES = 4_000_000

#: ``method="auto"`` of :func:`mclp` hands the reduced model to HiGHS only up
#: to this many non-zeros; larger models (a city's cells as candidates, radii
#: reaching dozens of cells) are not solved by HiGHS within minutes, so they
#: get local search and the Lagrangian bound for the whole time limit.
MCLP_MILP_MAX_NNZ = 100_000

# share of the covered weight by which the maximal-covering local search may
# go below the selection it perturbed (the best one found is kept)
_ILS_ACCEPT = 0.005

# fresh starts of the maximal-covering local search while the large-
# neighbourhood search runs beside it, and the share of the time they take:
# the local optima of city-scale instances differ in how the picks are
# arranged across the whole city, which no exact re-choice of a part of them
# changes, so several arrangements are tried before one is polished
_MCLP_STARTS = 6
_MCLP_STARTS_SHARE = 0.5

_METHODS = ("auto", "milp", "heuristic")


# --------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class SitingResult:
    """Outcome of a siting model.

    Attributes
    ----------
    model
        ``"mclp"``, ``"lscp"``, ``"p_median"`` or ``"p_center"``.
    selected
        Sorted candidate indices of every open site: existing ones plus the
        new ones.
    new_sites
        Sorted candidate indices of the new sites only.
    objective
        MCLP: population covered (including what existing facilities cover);
        LSCP: number of new sites (or their total cost when ``costs`` is
        given); p-median: total population-weighted travel time in seconds
        over the demand that can reach a candidate; p-center: the worst
        travel time in seconds over demand with weight > 0.
    bound
        Best proven bound on the objective (upper for MCLP, lower for the
        minimisation models).
    optimal
        Whether ``objective`` is proven optimal (within solver tolerance).
    gap
        Relative gap ``|objective - bound| / |objective|``; 0 when optimal.
    solver
        ``"highs"``, ``"greedy+swap"`` or ``"lagrangian"`` (proven by the
        Lagrangian bound alone).
    time_s
        Wall-clock seconds spent in the call.
    covered
        Per demand row: share of its weight that is covered / served
        (0 or 1 without capacities, a fraction in between with them).
    assignment
        Per demand row: candidate index of the open site serving it (the
        nearest one within reach; with capacities the one serving the largest
        share), ``-1`` when none does (also when the demand is covered only
        through ``existing_times`` or ``already_covered``).
    travel_s
        Per demand row: travel time in seconds to ``assignment`` (NaN if -1).
    sites
        One row per open site, indexed by candidate index, with columns
        ``existing`` (bool), ``served_pop`` (population within reach and
        assigned to the site), ``reach_pop`` (population within reach),
        ``exclusive_pop`` (newly covered population that no other open site
        reaches) and ``new_covered_pop`` (newly covered population attributed
        to the site: each newly covered demand row is split equally between
        the new sites that reach it, so the column sums to
        ``new_covered_pop``; 0 for existing sites). Without capacity,
        attribution does not depend on the order of sites.
    covered_pop, total_pop
        Covered population and the total population (sum of weights).
    new_covered_pop
        Population covered by the new sites and not by existing facilities.
    uncoverable_idx, uncoverable_pop
        Demand rows with positive weight that no candidate and no existing
        facility can reach, and their total population.
    model_size
        ``(rows, columns, nonzeros)`` of the MILP solved, ``(0, 0, 0)`` for
        the heuristic.
    message
        A human-readable one-line summary.
    """

    model: str
    selected: np.ndarray
    new_sites: np.ndarray
    objective: float
    bound: float
    optimal: bool
    gap: float
    solver: str
    time_s: float
    covered: np.ndarray
    assignment: np.ndarray
    travel_s: np.ndarray
    sites: pd.DataFrame
    covered_pop: float
    total_pop: float
    new_covered_pop: float
    uncoverable_idx: np.ndarray
    uncoverable_pop: float
    model_size: tuple[int, int, int] = (0, 0, 0)
    message: str = ""

    @property
    def covered_share(self) -> float:
        """Covered population as a share of the total population."""
        return self.covered_pop / self.total_pop if self.total_pop > 0 else 0.0


# --------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------
def _fail(param: str, message: str, fix: str) -> InputError:
    return InputError(Problem(f"`{param}` {message}", fix=fix))


def _whole_at_least(v: Any, least: int) -> bool:
    """``v`` is a whole number (not a bool) of at least ``least``."""
    return not isinstance(v, bool) and isinstance(v, (int, np.integer)) and v >= least


def _as_csr_times(times: Any, param: str, pc: ProblemCollector) -> sp.csr_matrix | None:
    """Validated CSR of reachable pairs; stored entries (zeros included) = reachable."""
    if sp.issparse(times):
        T = sp.csr_matrix(times, dtype=float, copy=True)
        T.sum_duplicates()
        T.sort_indices()
        if T.ndim != 2:
            pc.add(f"`{param}` must be 2-D (demand x candidate).", fix="pass a 2-D matrix")
            return None
        if T.data.size and not np.all(np.isfinite(T.data)):
            pc.add(f"`{param}` stores NaN or infinite entries.",
                   fix="leave unreachable pairs out of a sparse matrix instead of storing inf")
            return None
        if T.data.size and T.data.min() < 0:
            pc.add(f"`{param}` has negative travel times.", fix="pass times in seconds >= 0")
            return None
        return T
    try:
        D = np.asarray(times, dtype=float)
    except (TypeError, ValueError):
        pc.add(f"`{param}` is not a numeric matrix.",
               fix="pass a numpy array or a scipy.sparse matrix of seconds")
        return None
    if D.ndim != 2:
        pc.add(f"`{param}` must be 2-D (demand x candidate), got {D.ndim}-D.",
               fix="pass a matrix with one row per demand cell and one column per candidate")
        return None
    ok = np.isfinite(D)
    if np.any(D[ok] < 0):
        pc.add(f"`{param}` has negative travel times.", fix="pass times in seconds >= 0")
        return None
    indptr = np.zeros(D.shape[0] + 1, dtype=np.int64)
    np.cumsum(ok.sum(axis=1), out=indptr[1:])
    cols = np.nonzero(ok)[1]
    return sp.csr_matrix((D[ok], cols, indptr), shape=D.shape)


def _structure(T: sp.csr_matrix, keep: np.ndarray | None = None) -> sp.csr_matrix:
    """Boolean CSR with a ``True`` for every stored entry (or where ``keep``)."""
    if keep is None:
        keep = np.ones(T.nnz, bool)
    rows = np.repeat(np.arange(T.shape[0]), np.diff(T.indptr))[keep]
    return sp.csr_matrix((np.ones(rows.size, bool), (rows, T.indices[keep])), shape=T.shape)


def _within(T: sp.csr_matrix, threshold_s: float) -> sp.csr_matrix:
    """Times CSR restricted to pairs within ``threshold_s`` (explicit zeros kept)."""
    keep = T.data <= threshold_s
    rows = np.repeat(np.arange(T.shape[0]), np.diff(T.indptr))[keep]
    out = sp.csr_matrix((T.data[keep], (rows, T.indices[keep])), shape=T.shape)
    out.sort_indices()
    return out


@dataclass
class _Inputs:
    T: sp.csr_matrix          # times of reachable pairs (within threshold when one applies)
    w: np.ndarray
    n: int
    m: int
    existing: np.ndarray
    is_existing: np.ndarray
    pre_covered: np.ndarray   # covered by facilities outside the candidate set
    costs: np.ndarray | None
    capacity: np.ndarray | None
    dcode: np.ndarray | None
    dnames: list = field(default_factory=list)
    need: np.ndarray | None = None  # minimum new sites per district code


def _prepare(times: Any, weights: Any, *, param_times: str = "times",
             threshold_s: float | None = None, needs_threshold: bool = True,
             p: int | None = None, budget: float | None = None, costs: Any = None,
             existing: Any = None, existing_times: Any = None, already_covered: Any = None,
             capacity: Any = None, quota: Mapping | None = None, candidate_district: Any = None,
             time_limit_s: float = 60.0, method: str = "auto",
             p_required: bool = False) -> _Inputs:
    pc = ProblemCollector()
    T = _as_csr_times(times, param_times, pc)
    n, m = (T.shape if T is not None else (None, None))
    w = None
    try:
        w = np.asarray(weights, dtype=float)
    except (TypeError, ValueError):
        pc.add("`weights` is not numeric.", fix="pass one population count per demand row")
    if w is not None:
        if w.ndim != 1:
            pc.add(f"`weights` must be 1-D, got shape {w.shape}.",
                   fix="pass one population count per demand row")
        elif n is not None and w.size != n:
            pc.add(f"`weights` has {w.size} values but `{param_times}` has {n} demand rows.",
                   fix=f"pass one weight per row of `{param_times}`")
        elif not np.all(np.isfinite(w)):
            pc.add("`weights` contains NaN or infinite values.", fix="replace them by counts >= 0")
        elif np.any(w < 0):
            pc.add(f"`weights` has {int(np.sum(w < 0))} negative values.",
                   fix="pass population counts >= 0")
    if needs_threshold:
        if threshold_s is None or not np.isfinite(threshold_s) or threshold_s <= 0:
            pc.add(f"`threshold_s` must be a positive number of seconds, got {threshold_s!r}.",
                   fix="e.g. threshold_s=15 * 60 for a 15-minute standard")
    if m is not None and m == 0:
        pc.add(f"`{param_times}` has no candidate column.", fix="pass at least one candidate")
    ex = np.zeros(0, dtype=np.int64)
    if existing is not None and m is not None:
        ex_raw = np.asarray(existing).ravel()
        if ex_raw.dtype == bool:
            if ex_raw.size != m:
                pc.add(f"`existing` mask has {ex_raw.size} values for {m} candidates.",
                       fix="pass candidate indices or one boolean per candidate")
            else:
                ex = np.flatnonzero(ex_raw)
        else:
            try:
                ex = ex_raw.astype(np.int64)
                if ex.size and (ex.min() < 0 or ex.max() >= m):
                    pc.add(f"`existing` has indices outside 0..{m - 1}.",
                           fix="pass column indices of the candidates that already exist")
                    ex = np.zeros(0, dtype=np.int64)
                elif np.unique(ex).size != ex.size:
                    pc.add("`existing` lists an index twice.", fix="list each existing site once")
                    ex = np.unique(ex)
            except (TypeError, ValueError):
                pc.add("`existing` is not a list of integer indices.",
                       fix="pass column indices of the candidates that already exist")
    n_free = (m - ex.size) if m is not None else None
    if p is not None:
        if not _whole_at_least(p, 1):
            pc.add(f"`p` must be an integer >= 1, got {p!r}.", fix="pass the number of new sites")
        elif n_free is not None and p > n_free:
            pc.add(f"`p`={p} exceeds the {n_free} candidates that are not existing sites.",
                   fix=f"use p <= {n_free} or add candidates")
    elif p_required:
        pc.add("`p` is required.", fix="pass the number of new sites")
    cst = None
    if costs is not None and m is not None:
        cst = np.asarray(costs, dtype=float).ravel()
        if cst.size != m:
            pc.add(f"`costs` has {cst.size} values for {m} candidates.",
                   fix="pass one cost per candidate column")
            cst = None
        elif not np.all(np.isfinite(cst)) or np.any(cst < 0):
            pc.add("`costs` must be finite and >= 0.", fix="pass one cost >= 0 per candidate")
            cst = None
    if budget is not None:
        if not np.isfinite(budget) or budget < 0:
            pc.add(f"`budget` must be a finite number >= 0, got {budget!r}.",
                   fix="pass the money available for new sites")
        if costs is None:
            pc.add("`budget` needs `costs`.", fix="pass `costs`, one per candidate")
    cap = None
    if capacity is not None and m is not None:
        cap = np.broadcast_to(np.asarray(capacity, dtype=float), (m,)).copy() \
            if np.ndim(capacity) == 0 else np.asarray(capacity, dtype=float).ravel()
        if cap.size != m:
            pc.add(f"`capacity` has {cap.size} values for {m} candidates.",
                   fix="pass one capacity per candidate (inf or NaN = unlimited) or a scalar")
            cap = None
        else:
            cap = np.where(np.isnan(cap), np.inf, cap)
            if np.any(cap < 0):
                pc.add("`capacity` has negative values.", fix="pass capacities >= 0")
                cap = None
    pre = np.zeros(n or 0, bool)
    if existing_times is not None and n is not None:
        E = _as_csr_times(existing_times, "existing_times", pc)
        if E is not None:
            if E.shape[0] != n:
                pc.add(f"`existing_times` has {E.shape[0]} rows, `{param_times}` has {n}.",
                       fix="pass one row per demand row (columns = existing facilities)")
            else:
                thr = threshold_s if threshold_s is not None else np.inf
                pre |= np.diff(_within(E, thr).indptr) > 0
    if already_covered is not None and n is not None:
        ac = np.asarray(already_covered).ravel()
        if ac.dtype != bool or ac.size != n:
            pc.add(f"`already_covered` must be one boolean per demand row ({n}).",
                   fix="pass a boolean mask of demand already served")
        else:
            pre |= ac
    if not isinstance(time_limit_s, (int, float)) or not time_limit_s > 0:
        pc.add(f"`time_limit_s` must be > 0, got {time_limit_s!r}.", fix="e.g. time_limit_s=60")
    if method not in _METHODS:
        pc.add(f"`method` must be one of {_METHODS}, got {method!r}.", fix='use method="auto"')
    dcode = None
    dnames: list = []
    if quota is not None and m is not None:
        if candidate_district is None:
            pc.add("`quota` needs `candidate_district`.",
                   fix="pass the district of each candidate column")
        else:
            cd = np.asarray(candidate_district, dtype=object).ravel()
            if cd.size != m:
                pc.add(f"`candidate_district` has {cd.size} values for {m} candidates.",
                       fix="pass one district per candidate column")
            else:
                for k, v in quota.items():
                    if not _whole_at_least(v, 0):
                        pc.add(f"`quota` for district {k!r} must be an integer >= 0, got {v!r}.",
                               fix="give a minimum number of sites per district")
                codes, uniq = pd.factorize(pd.Series(cd, dtype=object).astype(str))
                dcode = codes.astype(np.int64)
                dnames = [str(u) for u in uniq]
    pc.raise_if_any()

    is_ex = np.zeros(m, bool)
    is_ex[ex] = True
    inputs = _Inputs(T=T if not needs_threshold else _within(T, threshold_s), w=w, n=n, m=m,
                     existing=np.sort(ex), is_existing=is_ex, pre_covered=pre, costs=cst,
                     capacity=cap, dcode=dcode, dnames=dnames)
    if quota is not None:
        _check_quota(inputs, quota, p=p, budget=budget)
    return inputs


def _check_quota(inp: _Inputs, quota: Mapping, *, p: int | None, budget: float | None) -> None:
    """Turn ``quota`` into minimum new sites per district; raise if impossible."""
    D = len(inp.dnames)
    need = np.zeros(D, dtype=np.int64)
    short: list[str] = []
    for key, q in quota.items():
        name = str(key)
        if name not in inp.dnames:
            if q > 0:
                short.append(f"district {name!r} needs {q} site(s) but no candidate lies in it")
            continue
        d = inp.dnames.index(name)
        in_d = inp.dcode == d
        n_ex = int(np.sum(in_d & inp.is_existing))
        n_new = int(np.sum(in_d & ~inp.is_existing))
        need[d] = max(int(q) - n_ex, 0)
        if need[d] > n_new:
            short.append(f"district {name!r} needs {q} site(s) but has only {n_ex} existing "
                         f"and {n_new} candidate site(s), {need[d] - n_new} short")
    if short:
        raise InfeasibleError("`quota` cannot be met: " + "; ".join(short)
                              + ". Fix: add candidates in these districts or lower their quota.")
    if p is not None and need.sum() > p:
        parts = ", ".join(f"{inp.dnames[d]!r}: {need[d]}" for d in np.flatnonzero(need))
        raise InfeasibleError(f"`quota` needs {int(need.sum())} new sites ({parts}) but `p`={p}. "
                              f"Fix: raise `p` to at least {int(need.sum())} or lower the quotas.")
    if budget is not None and inp.costs is not None and need.sum() > 0:
        cheapest = 0.0
        for d in np.flatnonzero(need):
            c = np.sort(inp.costs[(inp.dcode == d) & ~inp.is_existing])
            cheapest += float(c[:need[d]].sum())
        if cheapest > budget + 1e-9:
            raise InfeasibleError(f"`quota` needs new sites costing at least {cheapest:g} but "
                                  f"`budget`={budget:g}. Fix: raise `budget` or lower the quotas.")
    inp.need = need


# --------------------------------------------------------------------------
# HiGHS
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class _Mip:
    x: np.ndarray | None
    objective: float
    bound: float
    status: str      # "optimal", "time_limit", "infeasible", "other"
    gap: float
    size: tuple[int, int, int]


_HIGHS_LOCK = threading.Lock()
_HIGHS_QUIET: list[bool] = []


def _new_highs():
    """A HiGHS instance; its one-off licence banner is kept off standard output.

    HiGHS prints a banner from C when the first instance of a process is
    created, before any option can silence it. Standard output is pointed at
    the null device for that one construction, so command-line output stays
    parseable.
    """
    import highspy

    with _HIGHS_LOCK:
        if _HIGHS_QUIET:
            return highspy.Highs()
        _HIGHS_QUIET.append(True)
        import ctypes

        libc = ctypes.CDLL(None)
        sys.stdout.flush()
        libc.fflush(None)
        saved = os.dup(1)
        try:
            with open(os.devnull, "wb") as devnull:
                os.dup2(devnull.fileno(), 1)
                try:
                    return highspy.Highs()
                finally:
                    libc.fflush(None)
                    os.dup2(saved, 1)
        finally:
            os.close(saved)


def _solve_mip(c: np.ndarray, A: sp.spmatrix, row_lo: np.ndarray, row_hi: np.ndarray,
               col_lo: np.ndarray, col_hi: np.ndarray, integer: np.ndarray, *,
               maximize: bool, time_limit_s: float, start: np.ndarray | None = None,
               mip_rel_gap: float = 1e-7, offset: float = 0.0,
               presolve: bool | None = None) -> _Mip:
    """Solve ``opt c.x  s.t. row_lo <= A x <= row_hi, col_lo <= x <= col_hi`` with HiGHS.

    The solver's word is checked, not trusted: the objective is recomputed
    from the returned solution (which must satisfy every row, bound and
    integrality), and it must agree with the objective HiGHS reports, lie on
    the right side of the dual bound and be no worse than ``start``. When a
    check fails the model is solved again without the start, then without
    presolve, within what is left of ``time_limit_s``; ``status`` is
    ``"optimal"`` only for a checked solution whose gap to the bound is at
    most ``mip_rel_gap``. The time limit covers all attempts.
    """
    t_end = time.perf_counter() + float(time_limit_s)
    A = sp.csr_matrix(A, dtype=float)
    A.sort_indices()
    c = np.asarray(c, float)
    size = (int(A.shape[0]), int(A.shape[1]), int(A.nnz))
    check = _MipCheck(c, A, np.asarray(row_lo, float), np.asarray(row_hi, float),
                      np.asarray(col_lo, float), np.asarray(col_hi, float),
                      np.asarray(integer, bool), maximize, float(offset))
    start_obj = None
    if start is not None:
        start = check.clean(np.asarray(start, float))
        start_obj = check.value(start) if check.feasible(start) else None
        if start_obj is None:
            start = None
    attempts = [(start, presolve)]
    if start is not None:
        attempts.append((None, presolve))
    if presolve is not False:
        attempts.append((None, False))
    best: _Mip | None = None
    for st, pre in attempts:
        remaining = t_end - time.perf_counter()
        if remaining <= 0.0:
            break
        raw = _run_highs(c, A, check, start=st, presolve=pre, time_limit_s=remaining,
                         mip_rel_gap=mip_rel_gap)
        if raw is None:  # infeasible, and the check agrees there is no start
            if st is None and start_obj is None:
                return _Mip(None, np.nan, np.nan, "infeasible", np.inf, size)
            continue
        x, rep_obj, bound, ms = raw
        ok, res = check.judge(x, rep_obj, bound, ms, start_obj, mip_rel_gap, size)
        if ok:
            return res
        if res.x is not None and (best is None or best.x is None
                                  or check.better(res.objective, best.objective)):
            best = res
    if best is None or best.x is None:
        if start is not None:
            return _Mip(start, start_obj, check.trivial_bound(), "other",
                        np.inf, size)
        return _Mip(None, np.nan, check.trivial_bound(), "other", np.inf, size)
    return best


@dataclass(frozen=True)
class _MipCheck:
    """A MILP kept in plain arrays to check what HiGHS returns."""

    c: np.ndarray
    A: sp.csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    integer: np.ndarray
    maximize: bool
    offset: float

    def clean(self, x: np.ndarray) -> np.ndarray:
        """Integer columns rounded, every column clipped to its bounds."""
        x = np.where(self.integer, np.round(x), x)
        return np.clip(x, self.col_lo, self.col_hi)

    def feasible(self, x: np.ndarray, tol: float = 1e-6) -> bool:
        ax = self.A @ x
        slack = tol * np.maximum(1.0, np.abs(ax))
        return bool(np.all(ax >= self.row_lo - slack) and np.all(ax <= self.row_hi + slack))

    def value(self, x: np.ndarray) -> float:
        return float(self.c @ x) + self.offset

    def better(self, a: float, b: float) -> bool:
        return a > b if self.maximize else a < b

    def trivial_bound(self) -> float:
        return np.inf if self.maximize else -np.inf

    def judge(self, x: np.ndarray | None, rep_obj: float, bound: float, optimal: bool,
              start_obj: float | None, mip_rel_gap: float, size: tuple[int, int, int]
              ) -> tuple[bool, _Mip]:
        """(trusted?, result) for one HiGHS answer."""
        if x is None:
            trusted = not optimal and not (
                start_obj is not None and np.isfinite(bound)
                and (1.0 if self.maximize else -1.0) * (bound - start_obj)
                < -1e-6 * max(1.0, abs(start_obj)))
            b = bound if trusted else self.trivial_bound()
            return trusted, _Mip(None, np.nan, b, "time_limit" if trusted else "other",
                                 np.inf, size)
        x = self.clean(x)
        if not self.feasible(x):
            return False, _Mip(None, np.nan, self.trivial_bound(), "other", np.inf, size)
        obj = self.value(x)
        tol = 1e-6 * max(1.0, abs(obj))
        sign = 1.0 if self.maximize else -1.0
        agree = np.isfinite(rep_obj) and abs(rep_obj - obj) <= tol
        if np.isfinite(bound):
            agree &= sign * (bound - obj) >= -tol
            if start_obj is not None:
                agree &= sign * (bound - start_obj) >= -tol
        if start_obj is not None:
            agree &= sign * (obj - start_obj) >= -tol
        if not agree:
            return False, _Mip(x, obj, self.trivial_bound(), "other", np.inf, size)
        if not np.isfinite(bound):
            bound = self.trivial_bound()
        gap = _gap(obj, bound)
        done = optimal and gap <= max(mip_rel_gap, 1e-9) * (1 + 1e-6) + 1e-12
        return True, _Mip(x, obj, bound, "optimal" if done else "time_limit", gap, size)


def _highs_lp(c: np.ndarray, A: sp.spmatrix, check: _MipCheck):
    """The model ``c``, ``A`` with the bounds, integrality and sense of ``check``
    as a HiGHS model, and the factor its objective was divided by."""
    import highspy

    Ac = sp.csc_matrix(A)
    Ac.sort_indices()
    lp = highspy.HighsLp()
    lp.num_col_ = int(Ac.shape[1])
    lp.num_row_ = int(Ac.shape[0])
    # scale the objective to at most 1e3 in magnitude for numerical robustness
    scale = float(np.abs(c).max()) / 1e3 if c.size and np.abs(c).max() > 1e3 else 1.0
    lp.col_cost_ = c / scale
    lp.offset_ = check.offset / scale
    lp.col_lower_ = check.col_lo
    lp.col_upper_ = check.col_hi
    lp.row_lower_ = check.row_lo
    lp.row_upper_ = check.row_hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = int(Ac.shape[1])
    lp.a_matrix_.num_row_ = int(Ac.shape[0])
    lp.a_matrix_.start_ = Ac.indptr.astype(np.int32)
    lp.a_matrix_.index_ = Ac.indices.astype(np.int32)
    lp.a_matrix_.value_ = Ac.data.astype(float)
    if np.any(check.integer):
        kint, kcon = highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous
        lp.integrality_ = [kint if b else kcon for b in check.integer]
    lp.sense_ = highspy.ObjSense.kMaximize if check.maximize else highspy.ObjSense.kMinimize
    return lp, scale


def _run_highs(c: np.ndarray, A: sp.csr_matrix, check: _MipCheck, *, start: np.ndarray | None,
               presolve: bool | None, time_limit_s: float, mip_rel_gap: float
               ) -> tuple[np.ndarray | None, float, float, bool] | None:
    """One HiGHS run: (solution or None, reported objective, dual bound, optimal?);
    ``None`` when HiGHS reports the model infeasible."""
    import highspy

    lp, scale = _highs_lp(c, A, check)
    h = _new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(max(time_limit_s, 1e-3)))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    h.setOptionValue("threads", 1)
    if presolve is not None:
        h.setOptionValue("presolve", "on" if presolve else "off")
    h.passModel(lp)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(start, float).tolist()
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    MS = highspy.HighsModelStatus
    if status == MS.kInfeasible:
        return None
    has_sol = info.primal_solution_status == 2
    x = np.asarray(h.getSolution().col_value, float) if has_sol else None
    rep = float(info.objective_function_value) * scale if has_sol else np.nan
    bound = float(info.mip_dual_bound) * scale
    return x, rep, bound, status == MS.kOptimal


def _left(t0: float, time_limit_s: float) -> float:
    """Seconds left of ``time_limit_s`` for a call that started at ``t0``."""
    return t0 + time_limit_s - time.perf_counter()


def _gap(obj: float, bound: float) -> float:
    if not np.isfinite(obj) or not np.isfinite(bound):
        return np.inf
    diff = abs(bound - obj)
    if diff <= 1e-9 * max(1.0, abs(obj)):
        return 0.0
    return diff / max(abs(obj), 1e-12)


# --------------------------------------------------------------------------
# reductions
# --------------------------------------------------------------------------
def _merge_rows(R: sp.csr_matrix, w: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Merge rows with the same column set; return (unique rows, summed weights, group id)."""
    R = R.tocsr()
    R.sort_indices()
    idx, ptr = R.indices, R.indptr
    keys = [idx[ptr[i]:ptr[i + 1]].tobytes() for i in range(R.shape[0])]
    group, first = pd.factorize(pd.Series(keys, dtype=object))
    group = np.asarray(group, dtype=np.int64)
    k = len(first)
    rep = np.full(k, -1, dtype=np.int64)
    rep[group[::-1]] = np.arange(R.shape[0])[::-1]
    wr = np.bincount(group, weights=w, minlength=k)
    return R[rep], wr, group


def _row_min(T: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Per row: smallest stored value and its column (inf, -1 for empty rows).

    Ties go to the smallest column index.
    """
    n = T.shape[0]
    vals = np.full(n, np.inf)
    cols = np.full(n, -1, dtype=np.int64)
    if T.nnz == 0:
        return vals, cols
    counts = np.diff(T.indptr)
    full = np.flatnonzero(counts > 0)
    starts = T.indptr[:-1][full]
    vals[full] = np.minimum.reduceat(T.data, starts)
    rows = np.repeat(np.arange(n), counts)
    at_min = np.where(T.data == vals[rows], T.indices.astype(np.int64), T.shape[1])
    cols[full] = np.minimum.reduceat(at_min, starts)
    return vals, cols


# --------------------------------------------------------------------------
# result assembly
# --------------------------------------------------------------------------
def _assemble(model: str, inp: _Inputs, new_sites: np.ndarray, *, objective: float,
              bound: float, optimal: bool, solver: str, t0: float, size=(0, 0, 0),
              covered: np.ndarray | None = None, served: np.ndarray | None = None,
              assign_override: np.ndarray | None = None, message: str = "",
              uncoverable: np.ndarray | None = None) -> SitingResult:
    """Evaluate an open set on the original matrix and build a :class:`SitingResult`."""
    new_sites = np.sort(np.asarray(new_sites, dtype=np.int64))
    opened = np.union1d(inp.existing, new_sites).astype(np.int64)
    T = inp.T
    Topen = T[:, opened] if opened.size else sp.csr_matrix((inp.n, 0))
    tmin, cpos = _row_min(Topen)
    assignment = np.where(cpos >= 0, opened[np.maximum(cpos, 0)] if opened.size else -1, -1)
    travel = np.where(cpos >= 0, tmin, np.nan)
    reach_open = np.diff(Topen.indptr) > 0
    if covered is None:
        covered = (reach_open | inp.pre_covered).astype(float)
    if assign_override is not None:
        assignment = assign_override
        ok = assignment >= 0
        travel = np.full(inp.n, np.nan)
        if ok.any():
            travel[ok] = np.asarray(T[np.flatnonzero(ok), assignment[ok]]).ravel()
    w = inp.w
    # coverage before any new site: existing candidates and facilities outside the set
    S_ex = _structure(T[:, inp.existing]) if inp.existing.size else None
    base = inp.pre_covered.copy()
    if S_ex is not None:
        base |= np.diff(S_ex.indptr) > 0
    S_new = _structure(T[:, new_sites]).tocsc() if new_sites.size else None
    k_new = np.asarray(S_new.sum(axis=1)).ravel() if S_new is not None else np.zeros(inp.n)
    newly = covered * (~base)
    rows = []
    Sopen = _structure(Topen).tocsc()
    k_open = np.asarray(Sopen.sum(axis=1)).ravel() if opened.size else np.zeros(inp.n)
    for pos, j in enumerate(opened):
        col = Sopen.indices[Sopen.indptr[pos]:Sopen.indptr[pos + 1]]
        reach_pop = float(w[col].sum())
        if served is not None:
            srv = float(served[pos])
        else:
            srv = float(w[col][assignment[col] == j].sum())
        excl = float((w[col] * newly[col])[(k_open[col] == 1)].sum())
        if inp.is_existing[j]:
            att = 0.0
        elif served is not None:
            att = float(served[pos])
        else:
            att = float((w[col] * newly[col] / np.maximum(k_new[col], 1)).sum())
        rows.append((int(j), bool(inp.is_existing[j]), srv, reach_pop, excl, att))
    sites = pd.DataFrame(rows, columns=["candidate", "existing", "served_pop", "reach_pop",
                                        "exclusive_pop", "new_covered_pop"]).set_index("candidate")
    covered_pop = float(w @ covered)
    new_cov = float(sites["new_covered_pop"].sum()) if len(sites) else 0.0
    if uncoverable is None:
        uncoverable = np.zeros(inp.n, bool)
    unc_idx = np.flatnonzero(uncoverable)
    gap = 0.0 if optimal else _gap(objective, bound)
    res = SitingResult(
        model=model, selected=opened, new_sites=new_sites, objective=float(objective),
        bound=float(bound), optimal=bool(optimal), gap=float(gap), solver=solver,
        time_s=time.perf_counter() - t0, covered=covered, assignment=assignment.astype(np.int64),
        travel_s=travel, sites=sites, covered_pop=covered_pop, total_pop=float(w.sum()),
        new_covered_pop=new_cov, uncoverable_idx=unc_idx,
        uncoverable_pop=float(w[unc_idx].sum()), model_size=tuple(int(v) for v in size),
        message=message)
    for arr in (res.selected, res.new_sites, res.covered, res.assignment, res.travel_s,
                res.uncoverable_idx):
        arr.setflags(write=False)
    return res


def _lscp_lower_bound(R: sp.csr_matrix, cost: np.ndarray) -> float:
    """Lower bound on a set cover: rows pairwise sharing no column need distinct columns."""
    R = R.tocsr()
    sizes = np.diff(R.indptr)
    used = np.zeros(R.shape[1], bool)
    lb = 0.0
    for i in np.argsort(sizes, kind="stable"):
        cols = R.indices[R.indptr[i]:R.indptr[i + 1]]
        if cols.size and not used[cols].any():
            used[cols] = True
            lb += float(cost[cols].min())
    return lb


def _greedy_set_cover(R: sp.csr_matrix, cost: np.ndarray, *, district: np.ndarray | None = None,
                      need: np.ndarray | None = None) -> np.ndarray:
    """Greedy set cover (rows covered per unit cost) with redundant columns removed."""
    n, m = R.shape
    Rc = R.tocsc().astype(np.float64)
    Rt = Rc.T.tocsr()
    unc = np.ones(n)
    gains = np.asarray(Rt @ unc).ravel()
    chosen: list[int] = []
    is_ch = np.zeros(m, bool)
    if need is not None and district is not None:
        need_left = np.array(need, dtype=np.int64)
        while need_left.max(initial=0) > 0:
            ok = ~is_ch & (need_left[district] > 0)
            score = np.where(ok, gains / np.maximum(cost, 1e-12), -np.inf)
            j = int(np.argmax(score))
            chosen.append(j)
            is_ch[j] = True
            need_left[district[j]] -= 1
            rows = Rc.indices[Rc.indptr[j]:Rc.indptr[j + 1]]
            rows = rows[unc[rows] > 0]
            if rows.size:
                d = np.zeros(n)
                d[rows] = 1.0
                gains -= np.asarray(Rt @ d).ravel()
                unc[rows] = 0.0
    while unc.any():
        score = np.where(~is_ch, gains / np.maximum(cost, 1e-12), -np.inf)
        j = int(np.argmax(score))
        if gains[j] <= 0:
            break
        chosen.append(j)
        is_ch[j] = True
        rows = Rc.indices[Rc.indptr[j]:Rc.indptr[j + 1]]
        rows = rows[unc[rows] > 0]
        d = np.zeros(n)
        d[rows] = 1.0
        gains -= np.asarray(Rt @ d).ravel()
        unc[rows] = 0.0
    sel = np.array(chosen, dtype=np.int64)
    # drop redundant columns, most expensive first
    cnt = np.asarray(Rc[:, sel].sum(axis=1)).ravel() if sel.size else np.zeros(n)
    keep = np.ones(sel.size, bool)
    counts = None
    if need is not None and district is not None and sel.size:
        counts = np.bincount(district[sel], minlength=len(need))
    for k in np.argsort(-cost[sel], kind="stable"):
        j = sel[k]
        if counts is not None and counts[district[j]] <= need[district[j]]:
            continue
        rows = Rc.indices[Rc.indptr[j]:Rc.indptr[j + 1]]
        if np.all(cnt[rows] >= 2):
            keep[k] = False
            cnt[rows] -= 1
            if counts is not None:
                counts[district[j]] -= 1
    return np.sort(sel[keep])


def _quota_rows(dcode: np.ndarray | None, need: np.ndarray | None, ncols_total: int,
                col_offset: int = 0) -> tuple[sp.csr_matrix, np.ndarray]:
    """Rows ``sum_{j in d} x_j >= need_d`` over the given district codes of the x columns."""
    if dcode is None or need is None or not np.any(need > 0):
        return sp.csr_matrix((0, ncols_total)), np.zeros(0)
    ds = np.flatnonzero(need > 0)
    rr, cc = [], []
    for k, d in enumerate(ds):
        cols = np.flatnonzero(dcode == d)
        rr.append(np.full(cols.size, k))
        cc.append(cols + col_offset)
    rr, cc = np.concatenate(rr), np.concatenate(cc)
    Q = sp.csr_matrix((np.ones(rr.size), (rr, cc)), shape=(ds.size, ncols_total))
    return Q, need[ds].astype(float)


def _fmt_gap(gap: float) -> str:
    return "optimal" if gap == 0 else (f"gap {gap:.2%}" if np.isfinite(gap) else "no bound")


# --------------------------------------------------------------------------
# MCLP
# --------------------------------------------------------------------------
def mclp(
    times: Any,
    weights: Any,
    *,
    threshold_s: float,
    p: int | None = None,
    budget: float | None = None,
    costs: Any = None,
    existing: Any = None,
    existing_times: Any = None,
    already_covered: Any = None,
    capacity: Any = None,
    quota: Mapping[Any, int] | None = None,
    candidate_district: Any = None,
    time_limit_s: float = 60.0,
    method: str = "auto",
    mip_rel_gap: float = 1e-7,
    seed: int = 0,
) -> SitingResult:
    """Maximal covering location: cover the most population within a time threshold.

    Parameters
    ----------
    times
        ``demand x candidate`` travel times in seconds (see the module
        docstring for how unreachable pairs and zero times are given).
    weights
        Population per demand row (>= 0).
    threshold_s
        A demand row is covered by a site it reaches within this many seconds.
    p
        At most this many new sites (existing ones are not counted).
    budget, costs
        Total ``costs`` of the new sites at most ``budget``. At least one of
        ``p`` and ``budget`` is required; both may be given.
    existing
        Candidate indices (or a boolean mask) of sites that already exist:
        always open, they cover demand and do not count towards ``p``,
        ``budget`` or the objective's new coverage.
    existing_times
        ``demand x facility`` times to existing facilities that are not
        candidate columns; demand within ``threshold_s`` of one counts as
        covered already.
    already_covered
        Boolean mask of demand rows covered already by other means.
    capacity
        Maximum population a site can serve (scalar or one per candidate;
        ``inf``/``NaN`` = unlimited). Coverage then becomes an assignment:
        each row's population may be split between sites within reach, and
        a site serves at most its capacity. Demand covered through
        ``existing_times`` / ``already_covered`` is treated as served.
        Solved as a MILP whatever ``method`` says.
    quota, candidate_district
        ``quota[district]`` is the minimum number of open sites (existing +
        new) among candidates whose ``candidate_district`` equals
        ``district`` (compared as strings).
    time_limit_s
        Time limit of the whole call (input checks, reductions, search and
        the MILP); the best solution found and its gap are returned at the
        limit.
    method
        ``"milp"`` (HiGHS), ``"heuristic"`` or ``"auto"``. The heuristic is
        greedy + swap and, with a plain limit ``p`` (no budget or quota),
        iterated swap local search, first among the candidates the Lagrangian
        multipliers single out (on large instances from six fresh starts in
        the first half of the time), then among all, which runs until the
        time limit or until many rounds bring nothing new; beside it, on a second
        thread, HiGHS solves the LP relaxation and then re-chooses the picks
        of one area at a time exactly (large-neighbourhood search). Its upper
        bound is the smallest of the submodularity bound, the Lagrangian
        relaxation of the coverage constraints and the LP relaxation's
        optimum, each evaluated from its multipliers here, not taken from a
        solver's report.
        ``"auto"`` drops dominated candidates, runs the heuristic and hands
        the rest of the time to HiGHS when the reduced coverage matrix has at most
        :data:`MCLP_MILP_MAX_NNZ` non-zeros, or at most
        :data:`AUTO_MILP_MAX_NNZ` with the relaxation within 1 % (with a
        budget or quota: at most :data:`AUTO_MILP_MAX_NNZ`); the MILP starts
        from the heuristic's solution. The gap is always against a real
        bound.
    mip_rel_gap
        Relative gap at which HiGHS stops and reports the solution optimal.
    seed
        Seed (a whole number >= 0) of the random choices of the heuristic
        path: the perturbations of the local search and the areas of the
        large-neighbourhood search. Another seed can end in another
        arrangement of the sites; as the searches stop at the time limit,
        the same seed can also give a different answer on a busier machine.

    Returns
    -------
    SitingResult
        ``objective`` is the covered population (existing coverage included).

    Raises
    ------
    InputError
        A parameter is unusable; the message names it.
    InfeasibleError
        ``quota`` cannot be met with ``p`` / ``budget`` and the candidates.
    """
    t0 = time.perf_counter()
    if p is None and budget is None:
        raise _fail("p", "or `budget` must be given.", "pass p=<number of new sites> or a budget "
                    "with costs")
    if not _whole_at_least(seed, 0):
        raise _fail("seed", f"must be a whole number >= 0, got {seed!r}.",
                    "pass seed=0 (the default) or another whole number")
    inp = _prepare(times, weights, threshold_s=threshold_s, p=p, budget=budget, costs=costs,
                   existing=existing, existing_times=existing_times,
                   already_covered=already_covered, capacity=capacity, quota=quota,
                   candidate_district=candidate_district, time_limit_s=time_limit_s,
                   method=method)
    S = _structure(inp.T)
    w = inp.w
    uncoverable = (w > 0) & ~(np.diff(S.indptr) > 0) & ~inp.pre_covered
    if inp.capacity is not None:
        return _capacitated(inp, S, "mclp", p=p, budget=budget,
                            time_limit_s=max(_left(t0, time_limit_s), 0.01),
                            t0=t0, uncoverable=uncoverable, mip_rel_gap=mip_rel_gap)
    red = _mclp_reduce(inp, S)
    base_pop, free_idx, Rm, wr, dfree = red.base_pop, red.free_idx, red.Rm, red.wr, red.dfree
    cfree = inp.costs[free_idx] if inp.costs is not None else None
    sol = _mclp_search(Rm, wr, p=p, budget=budget, cfree=cfree, dfree=dfree, need=inp.need,
                       method=method, deadline=t0 + time_limit_s, mip_rel_gap=mip_rel_gap,
                       seed=int(seed))
    obj = base_pop + sol.value
    bound = base_pop + sol.bound
    gap = 0.0 if sol.optimal else _gap(obj, bound)
    what = "MCLP" if sol.solver == "highs" else "MCLP heuristic"
    return _assemble("mclp", inp, free_idx[sol.selected], objective=obj, bound=bound,
                     optimal=sol.optimal, solver=sol.solver, t0=t0, size=sol.size,
                     uncoverable=uncoverable,
                     message=f"{what}: {obj:,.0f} of {float(w.sum()):,.0f} covered, "
                             f"{_fmt_gap(gap)}")


@dataclass(frozen=True)
class _CoverSolution:
    selected: np.ndarray     # local column indices
    value: float
    bound: float
    optimal: bool
    solver: str
    size: tuple[int, int, int]


def _reserve_s(left_s: float) -> float:
    """Time kept back from the search for building the result."""
    return min(0.05 * max(left_s, 0.0) + 0.05, 2.0)


def _mclp_search(Rm: sp.csr_matrix, wr: np.ndarray, *, p: int | None, budget: float | None,
                 cfree: np.ndarray | None, dfree: np.ndarray | None, need: np.ndarray | None,
                 method: str, deadline: float, mip_rel_gap: float, seed: int = 0
                 ) -> _CoverSolution:
    """Best selection found before ``deadline`` on reduced rows, with an upper bound.

    Greedy + swap gives a first answer and a bound from submodularity; with a
    plain count limit the Lagrangian relaxation of the coverage constraints
    tightens the bound, and iterated local search (first among the columns
    its multipliers single out) improves the answer; when HiGHS is not to
    solve the whole model, a second thread solves the LP relaxation for its
    bound and then runs the large-neighbourhood search (:func:`_mclp_lns`),
    the two searches sharing the best selection. HiGHS solves the whole
    MILP, started from the best answer and given only the time left, when
    ``method="milp"`` or, with ``method="auto"``, when the reduced model is
    small (at most :data:`MCLP_MILP_MAX_NNZ` non-zeros after dominated
    candidates are dropped) or the relaxation is within 1 % (at most
    :data:`AUTO_MILP_MAX_NNZ` non-zeros).
    """
    stop = deadline - _reserve_s(deadline - time.perf_counter())
    mf = Rm.shape[1]
    plain = p is not None and budget is None and (need is None or not np.any(need > 0))
    cols = np.arange(mf)
    if plain and method != "milp":
        keep = _undominated_columns(Rm)
        if keep.sum() >= p:
            cols = np.flatnonzero(keep)
    R = Rm[:, cols] if cols.size < mf else Rm
    H = heur.greedy_swap_cover(R, wr, p=p, budget=budget,
                               costs=cfree[cols] if cfree is not None else None,
                               district=dfree[cols] if dfree is not None else None, need=need,
                               deadline=stop)
    sel, val, bound = H.selected, H.value, H.bound
    tol = max(mip_rel_gap, 1e-9)

    def done() -> bool:
        return _gap(val, bound) <= tol

    lag: dict = {}
    if H.feasible and plain and not done():
        left = stop - time.perf_counter()
        bound = min(bound, heur.lagrangian_cover(
            R, wr, p=p, lower=val, max_iter=3_000, state=lag,
            deadline=time.perf_counter() + 0.15 * max(left, 0.0)))
    if method == "milp" or not H.feasible:
        milp = True
    elif method == "heuristic":
        milp = False
    elif not plain:
        milp = R.nnz <= AUTO_MILP_MAX_NNZ
    else:
        # a relaxation within 1 % says the LP is nearly integral: HiGHS then
        # closes large models quickly, while a weak one leaves it stuck
        milp = R.nnz <= MCLP_MILP_MAX_NNZ or (
            R.nnz <= AUTO_MILP_MAX_NNZ and _gap(val, bound) <= 0.01)
    if plain and H.feasible and not done() and sel.size < R.shape[1]:
        if not milp and R.nnz <= AUTO_MILP_MAX_NNZ:
            # a second thread solves the relaxation for its bound, then re-chooses
            # the picks area by area with HiGHS, while swap local search runs here
            # (HiGHS releases the interpreter); the two share the best selection
            inc = _Incumbent(sel, val)
            lp_s = 0.35 * max(stop - time.perf_counter(), 0.0)
            worker = _Background(_bound_then_lns, R, wr, int(p), lp_s, stop, tol, inc, bound,
                                 seed)
            _mclp_local_search(R, wr, sel, val, lag.get("lam"), stop=stop, share=1.0, inc=inc,
                               starts=_MCLP_STARTS, seed=seed)
            bound = min(bound, worker.result(default=np.inf))
            sel, val = inc.get()
        else:
            sel, val = _mclp_local_search(R, wr, sel, val, lag.get("lam"), stop=stop,
                                          share=0.45 if milp else 1.0, seed=seed)
    if plain:
        sel = _fill_up(R, wr, sel, p)
    if done() and method != "milp":
        return _CoverSolution(cols[sel], val, max(bound, val), True, "greedy+swap", (0, 0, 0))
    if not milp:
        return _CoverSolution(cols[sel], val, max(bound, val), False, "greedy+swap", (0, 0, 0))
    s3, v3, b3, status, size = _mclp_milp(
        R, wr, p=p, budget=budget, cfree=cfree[cols] if cfree is not None else None,
        dfree=dfree[cols] if dfree is not None else None, need=need,
        start_sel=sel if H.feasible else None, time_limit_s=stop - time.perf_counter(),
        mip_rel_gap=mip_rel_gap)
    if not H.feasible or v3 > val:
        sel, val = s3, v3
    bound = min(bound, b3) if H.feasible else b3
    optimal = status == "optimal" and v3 >= val or done()
    return _CoverSolution(cols[sel], val, max(bound, val), optimal, "highs", size)


def _mclp_local_search(R: sp.csr_matrix, wr: np.ndarray, sel: np.ndarray, val: float,
                       lam: np.ndarray | None, *, stop: float, share: float,
                       inc: _Incumbent | None = None, starts: int = 1, seed: int = 0
                       ) -> tuple[np.ndarray, float]:
    """Iterated local search for ``len(sel)`` picks, in rounds: first among the
    columns the Lagrangian multipliers ``lam`` single out (and the picks so
    far), then among all columns.

    The relaxation's optimum spreads its sites over the columns of largest
    Lagrangian value, and a search confined to them, accepting slightly worse
    selections on the way, reaches better selections than one started from
    the greedy answer among all columns. With ``starts > 1`` the first
    ``starts`` rounds each start afresh from the greedy selection among
    those columns (with their own random perturbations) and together take
    the share :data:`_MCLP_STARTS_SHARE` of the time (only with ``inc``,
    which keeps the best of them): each ends in a
    different arrangement of the picks, offered to ``inc`` as soon as it is
    found, and the search beside this one polishes the best. Later rounds
    go on from the best selection in ``inc`` until five in a row bring no
    better selection or the share ``share`` of the time left until ``stop``
    is used (the rest is left for the MILP), or the search running beside it
    (through ``inc``) has closed the gap. Round ``r`` perturbs with the seed
    ``1000 * seed + r``.
    """
    p = int(sel.size)
    t = time.perf_counter()
    end = t + share * max(stop - t, 0.0)
    short = share < 1.0
    sub = heur.lagrangian_support(R, lam, p) if lam is not None else None
    if sub is not None and not p < sub.size < R.shape[1]:
        sub = None
    fresh = starts if sub is not None and starts > 1 and inc is not None else 0
    fresh_end = t + _MCLP_STARTS_SHARE * (end - t)
    stall = 100 + 10 * p if short else 200 + 20 * p
    idle = 0
    first = None      # the greedy selection among ``sub``
    for rnd in range(1_000):
        if inc is not None:
            if inc.closed:
                break
            sel, val = max((sel, val), inc.get(), key=lambda sv: sv[1])
        before = val
        now = time.perf_counter()
        is_fresh = rnd < fresh
        if is_fresh:
            # a fresh start: its own share of the time, the sub-search most of it
            until = now + (fresh_end - now) / (fresh - rnd)
            until_sub = now + 0.7 * (until - now)
        else:
            until = end
            until_sub = now + 0.5 * max(end - now, 0.0)
        if sub is not None:
            from_first = rnd < max(fresh, 1)     # the fresh starts, or else round 0
            cols = sub if from_first else np.union1d(sub, sel)
            Rs = R[:, cols]
            if from_first:
                if first is None:
                    first = heur.greedy_swap_cover(Rs, wr, p=p, deadline=until_sub).selected
                start = first
            else:
                start = np.searchsorted(cols, sel)
            s1, v1 = heur.ils_cover(Rs, wr, start, deadline=until_sub, seed=1000 * seed + rnd,
                                    stall_rounds=stall, accept=_ILS_ACCEPT)
            # a fresh start's result is polished below, whatever its value
            if s1.size == p and (is_fresh or v1 > val):
                sel, val = cols[s1], v1
        s2, v2 = heur.ils_cover(R, wr, sel, deadline=until, seed=1000 * seed + rnd,
                                stall_rounds=20 + 2 * p if short or sub is not None else stall)
        if is_fresh or v2 > val:
            sel, val = s2, v2
        if inc is not None:
            inc.offer(sel, val)
        if is_fresh:
            continue
        idle = idle + 1 if val <= before else 0
        if sub is None or idle >= 5 or heur._past(end):
            break
    if inc is not None:
        sel, val = max((sel, val), inc.get(), key=lambda sv: sv[1])
    return sel, val


class _Incumbent:
    """The best selection found so far, shared by searches running at once."""

    def __init__(self, sel: np.ndarray, val: float) -> None:
        self._lock = threading.Lock()
        self._sel, self._val = np.array(sel, dtype=np.int64), float(val)
        self.closed = False      # set when the gap to the bound is closed

    def offer(self, sel: np.ndarray, val: float) -> None:
        with self._lock:
            if val > self._val:
                self._sel, self._val = np.array(sel, dtype=np.int64), float(val)

    def get(self) -> tuple[np.ndarray, float]:
        with self._lock:
            return self._sel.copy(), self._val


def _bound_then_lns(R: sp.csr_matrix, wr: np.ndarray, p: int, lp_s: float, stop: float,
                    tol: float, inc: _Incumbent, bound: float, seed: int = 0) -> float:
    """The relaxation's bound (within ``lp_s`` seconds), then large-neighbourhood
    search on the best selection in ``inc`` until ``stop``; returns the bound."""
    lp_bound, lp_y = _cover_lp_bound(R, wr, p, lp_s)
    bound = min(bound, lp_bound)
    sel, val = inc.get()
    if _gap(val, bound) > tol:
        sel, val = _mclp_lns(R, wr, sel, val, stop=stop, bound=bound, tol=tol, lp_y=lp_y,
                             inc=inc, seed=seed)
    inc.closed = _gap(inc.get()[1], bound) <= tol
    return bound


class _Background:
    """``fn(*args)`` on a daemon thread; :meth:`result` waits for it.

    An exception in ``fn`` makes :meth:`result` return ``default`` (used for
    bounds, where a missing one falls back to another, never to a wrong one).
    """

    def __init__(self, fn, *args) -> None:
        self._out: list = []
        self._thread = threading.Thread(target=self._run, args=(fn, args), daemon=True,
                                        name="siting-bound")
        self._thread.start()

    def _run(self, fn, args) -> None:
        try:
            self._out.append(fn(*args))
        except Exception:  # noqa: BLE001 - see the class docstring
            pass

    def result(self, default: Any = None) -> Any:
        self._thread.join()
        return self._out[0] if self._out else default


def _cover_lp_bound(R: sp.csr_matrix, wr: np.ndarray, p: int, time_limit_s: float
                    ) -> tuple[float, np.ndarray | None]:
    """Upper bound on maximal covering from the linear-programming relaxation,
    and the relaxation's coverage of each row (``None`` when not returned).

    HiGHS's interior-point method solves the relaxation (no crossover; the
    duals are all that is used). Its row duals are taken as Lagrangian
    multipliers and the bound is :func:`heur.cover_bound` at them, computed
    here: it is valid whatever HiGHS returns, and equals the relaxation's
    optimum when the duals are optimal. ``inf`` when HiGHS gives no duals
    within ``time_limit_s``.
    """
    ny, nx = R.shape
    if time_limit_s <= 0.05 or nx == 0 or ny == 0:
        return np.inf, None
    c, A, row_lo, row_hi = _mclp_model(R, wr, p=p, budget=None)
    lp, scale = _highs_lp(c, A, _MipCheck(c, A, row_lo, row_hi, np.zeros(nx + ny),
                                          np.ones(nx + ny), np.zeros(nx + ny, bool),
                                          True, 0.0))
    h = _new_highs()
    for opt, val in (("output_flag", False), ("threads", 1), ("solver", "ipm"),
                     ("run_crossover", "off"), ("time_limit", float(time_limit_s))):
        h.setOptionValue(opt, val)
    h.passModel(lp)
    h.run()
    sol = h.getSolution()
    duals = np.asarray(sol.row_dual, float)[:ny] * scale
    y = np.asarray(sol.col_value, float)[nx:]
    if duals.size != ny or not np.all(np.isfinite(duals)):
        return np.inf, None
    # the sign of a dual depends on the solver's convention; either sign gives
    # a valid bound, so the smaller one is kept
    bound = min(heur.cover_bound(R, wr, -duals, p), heur.cover_bound(R, wr, duals, p))
    return bound, (np.clip(y, 0.0, 1.0) if y.size == ny and np.all(np.isfinite(y)) else None)


def _mclp_lns(R: sp.csr_matrix, wr: np.ndarray, sel: np.ndarray, val: float, *,
              stop: float, bound: float, tol: float, seed: int = 0,
              sub_limit_s: float = 2.0, stall: int = 300, max_free: int = 12,
              steps: int = 3, deficit: float = 0.5, lp_y: np.ndarray | None = None,
              inc: _Incumbent | None = None) -> tuple[np.ndarray, float]:
    """Large-neighbourhood search: the picks in one area are re-chosen exactly.

    Each step draws a centre column: half of the time one reaching a row that
    the relaxation covers (``lp_y``, the relaxation's coverage of each row;
    without it, any reachable row) and no pick does, drawn by the weight
    missed, otherwise a pick. The area is the columns at most ``steps`` steps
    away in the graph of columns sharing a row; its picks (at most
    ``max_free``, nearest first), and half of the time the pick elsewhere
    covering the least weight alone (of three drawn), are freed. HiGHS then
    chooses as many picks among the area's columns for the rows no other
    pick covers, on a model with merged rows and dominated columns dropped,
    started from the freed picks and stopped after ``sub_limit_s`` (so a
    step never loses weight; HiGHS's answer is checked by
    :func:`_solve_mip`). Swap local search moves one pick at a time; a step
    moves up to ``max_free`` together and finds the packings swaps cannot
    reach. An area solved to optimality is not solved again until its picks
    change. Better selections are taken from and offered to ``inc``, shared
    with a search running beside this one. Stops at ``stop``, when the gap
    to ``bound`` is at most ``tol`` or after ``stall`` steps without a gain.
    """
    p = int(sel.size)
    if p == 0 or sel.size >= R.shape[1]:
        return sel, val
    R = R.tocsr().astype(np.float64)
    Rc = R.tocsc()
    near = (Rc.T.tocsr() @ Rc).tocsr()

    def counts(cols: np.ndarray) -> np.ndarray:
        """How many of ``cols`` reach each row."""
        return np.asarray(Rc[:, cols].sum(axis=1)).ravel()

    cnt = counts(sel)
    rng = np.random.default_rng(seed)
    sel = np.sort(np.asarray(sel, dtype=np.int64))
    reach = (np.diff(R.indptr) > 0).astype(float)
    recent: list[int] = []   # picks the last gain moved
    idle = 0
    solved: set = set()
    while idle < stall and _gap(val, bound) > tol:
        left = stop - time.perf_counter()
        if left <= 0.05:
            break
        if inc is not None:
            s_in, v_in = inc.get()
            if v_in > val:
                sel, val = np.sort(s_in), v_in
                cnt = counts(sel)
        short = wr * np.maximum((reach if lp_y is None else lp_y * reach) - (cnt > 0), 0.0)
        if short.sum() > 0 and rng.random() < deficit:
            # a row the relaxation (or, without it, nothing) covers and the picks
            # do not, drawn by weight
            i = int(rng.choice(short.size, p=short / short.sum()))
            c0 = int(rng.choice(R.indices[R.indptr[i]:R.indptr[i + 1]]))
        elif recent and rng.random() < 0.5:
            c0 = int(recent.pop())          # next to the last gain first
        else:
            c0 = int(sel[rng.integers(p)])
        # columns by the number of steps from c0 in the "share a row" graph
        hop = np.full(R.shape[1], 99, dtype=np.int64)
        hop[c0] = 0
        ring = np.array([c0])
        for k in range(1, steps + 1):
            ring = np.unique(near[ring].indices)
            ring = ring[hop[ring] > k]
            hop[ring] = k
        win = np.flatnonzero(hop <= steps)
        free = sel[hop[sel] <= steps]
        key = (c0, free.tobytes())
        if key in solved:      # this area was re-chosen exactly and has not changed
            idle += 1
            continue
        if free.size > max_free:
            # the picks nearest the first one are freed first
            free = free[np.argsort(hop[free] + rng.random(free.size), kind="stable")[:max_free]]
        far = sel[hop[sel] > steps]
        if far.size and (free.size == 0 or rng.random() < 0.5):
            # one pick from elsewhere may move here: the one covering the least
            # weight no other pick covers (of three drawn)
            cand = rng.choice(far, min(3, far.size), replace=False)
            only = [float(wr[r][cnt[r] == 1].sum())
                    for r in (Rc.indices[Rc.indptr[c]:Rc.indptr[c + 1]] for c in cand)]
            free = np.append(free, cand[int(np.argmin(only))])
        cols = np.union1d(np.setdiff1d(win, sel), free)
        cnt_fixed = cnt - counts(free)
        rows = np.unique(Rc[:, cols].indices)
        rows = rows[cnt_fixed[rows] == 0]
        old = float(wr[rows] @ (cnt[rows] > 0))
        sub, wsub, _ = _merge_rows(R[rows][:, cols], wr[rows])
        # columns whose rows here lie inside another's are left out (the freed
        # picks stay, as the start)
        keep = _undominated_columns(sub) | np.isin(cols, free)
        cols = cols[keep]
        s3, v3, _b, status, _size = _mclp_milp(
            sub[:, keep], wsub, p=int(free.size), budget=None, cfree=None, dfree=None,
            need=None, start_sel=np.searchsorted(cols, free),
            time_limit_s=min(sub_limit_s, left - 0.02), mip_rel_gap=1e-6)
        new = cols[s3]
        if status == "optimal" and free.size == sel[hop[sel] <= steps].size:
            solved.add(key)      # (a pick from elsewhere was not offered)
        if v3 > old + 1e-9 * max(1.0, val) and new.size <= free.size:
            cnt = cnt_fixed + counts(new)
            sel = np.sort(np.concatenate([np.setdiff1d(sel, free), new]))
            val = float(wr @ (cnt > 0))
            idle = 0
            recent = [int(c) for c in np.setdiff1d(new, free)]
            if inc is not None:
                inc.offer(sel, val)
        else:
            idle += 1
    return sel, val


def _fill_up(R: sp.csr_matrix, wr: np.ndarray, sel: np.ndarray, p: int) -> np.ndarray:
    """``sel`` topped up to ``p`` columns with the columns reaching the most weight
    (when the picks already cover everything they can, the extra sites add none)."""
    if sel.size >= p:
        return sel
    reach_w = np.asarray(R.T.astype(float) @ wr).ravel()
    reach_w[sel] = -np.inf
    reach_w[np.diff(R.tocsc().indptr) == 0] = -np.inf
    extra = np.argsort(-reach_w, kind="stable")[:p - sel.size]
    extra = extra[np.isfinite(reach_w[extra])]
    return np.sort(np.concatenate([sel, extra]).astype(np.int64))


def _undominated_columns(R: sp.csr_matrix, max_cols: int = 50_000) -> np.ndarray:
    """Mask of columns whose row set is not inside another column's row set
    (of two equal columns the first is kept)."""
    m = R.shape[1]
    keep = np.ones(m, bool)
    if m == 0 or m > max_cols:
        return keep
    Ct = R.T.tocsr().astype(np.float32)
    csize = np.diff(Ct.indptr)
    cint = (Ct @ Ct.T).tocoo()
    inside = (cint.data == csize[cint.row]) & (cint.row != cint.col) & (
        (csize[cint.row] < csize[cint.col])
        | ((csize[cint.row] == csize[cint.col]) & (cint.row > cint.col)))
    keep[cint.row[inside]] = False
    return keep & (csize > 0)


@dataclass(frozen=True)
class _CoverReduction:
    base_pop: float          # population covered before any new site
    free_idx: np.ndarray     # candidate columns that are not existing sites
    Rm: sp.csr_matrix        # merged rows x free candidates, True = within reach
    wr: np.ndarray           # weight of each merged row
    dfree: np.ndarray | None


def _mclp_reduce(inp: _Inputs, S: sp.csr_matrix) -> _CoverReduction:
    """Drop covered / unreachable / weightless rows and merge rows with equal reach sets."""
    w = inp.w
    base = inp.pre_covered.copy()
    if inp.existing.size:
        base |= np.diff(S[:, inp.existing].indptr) > 0
    free_idx = np.flatnonzero(~inp.is_existing)
    rows = np.flatnonzero(~base & (w > 0))
    R = S[rows][:, free_idx]
    has = np.diff(R.indptr) > 0
    rows, R = rows[has], R[has]
    Rm, wr, _ = _merge_rows(R, w[rows])
    dfree = inp.dcode[free_idx] if inp.dcode is not None else None
    return _CoverReduction(float(w[base].sum()), free_idx, Rm, wr, dfree)


def _mclp_model(Rm: sp.csr_matrix, wr: np.ndarray, *, p: int | None, budget: float | None,
                cfree: np.ndarray | None = None, dfree: np.ndarray | None = None,
                need: np.ndarray | None = None
                ) -> tuple[np.ndarray, sp.csc_matrix, np.ndarray, np.ndarray]:
    """Objective, rows and row bounds of MCLP on reduced rows: columns are the
    candidates ``x`` then the rows' coverage ``y``, ``y_r <= sum_{j reaches r} x_j``
    and at most ``p`` picks, ``budget`` and the district minimums."""
    nx, ny = Rm.shape[1], Rm.shape[0]
    blocks = [sp.hstack([-Rm.astype(float), sp.identity(ny, format="csr")])]
    lo = [np.full(ny, -np.inf)]
    hi = [np.zeros(ny)]
    if p is not None:
        blocks.append(sp.csr_matrix(np.concatenate([np.ones(nx), np.zeros(ny)])[None, :]))
        lo.append([-np.inf]); hi.append([p])
    if budget is not None:
        blocks.append(sp.csr_matrix(np.concatenate([cfree, np.zeros(ny)])[None, :]))
        lo.append([-np.inf]); hi.append([budget])
    Q, qn = _quota_rows(dfree, need, nx + ny)
    if Q.shape[0]:
        blocks.append(Q); lo.append(qn); hi.append(np.full(qn.size, np.inf))
    return (np.concatenate([np.zeros(nx), wr]), sp.vstack(blocks).tocsc(),
            np.concatenate([np.asarray(v, float) for v in lo]),
            np.concatenate([np.asarray(v, float) for v in hi]))


def _mclp_milp(Rm: sp.csr_matrix, wr: np.ndarray, *, p: int | None, budget: float | None,
               cfree: np.ndarray | None, dfree: np.ndarray | None, need: np.ndarray | None,
               start_sel: np.ndarray | None, time_limit_s: float, mip_rel_gap: float
               ) -> tuple[np.ndarray, float, float, str, tuple[int, int, int]]:
    """MCLP on reduced rows: ``max wr.y, y_r <= sum_{j reaches r} x_j``.

    Returns the selection, its covered weight, the upper bound, the status
    and the model size.
    """
    nx, ny = Rm.shape[1], Rm.shape[0]
    c, A, row_lo, row_hi = _mclp_model(Rm, wr, p=p, budget=budget, cfree=cfree, dfree=dfree,
                                       need=need)
    start = None
    if start_sel is not None:
        xs = np.zeros(nx)
        xs[start_sel] = 1
        ys = np.minimum(np.asarray(Rm[:, start_sel].sum(axis=1)).ravel(), 1.0) \
            if start_sel.size else np.zeros(ny)
        start = np.concatenate([xs, ys])
    mip = _solve_mip(c, A, row_lo, row_hi, np.zeros(nx + ny), np.ones(nx + ny),
                     np.concatenate([np.ones(nx, bool), np.zeros(ny, bool)]),
                     maximize=True, time_limit_s=time_limit_s, start=start,
                     mip_rel_gap=mip_rel_gap)
    if mip.status == "infeasible":
        raise InfeasibleError("`quota` cannot be met together with `p`/`budget`. "
                              "Fix: raise `p` or `budget`, or lower the quotas.")
    if mip.x is not None:
        sel = np.flatnonzero(mip.x[:nx] > 0.5)
    else:
        sel = np.asarray(start_sel if start_sel is not None else [], dtype=np.int64)
    val = float(wr @ (np.asarray(Rm[:, sel].sum(axis=1)).ravel() > 0)) if sel.size else 0.0
    bound = min(mip.bound, float(wr.sum())) if np.isfinite(mip.bound) else float(wr.sum())
    return sel, val, max(bound, val), mip.status, mip.size


def _capacitated(inp: _Inputs, S: sp.csr_matrix, model: str, *, p: int | None,
                 budget: float | None, time_limit_s: float, t0: float,
                 uncoverable: np.ndarray, mip_rel_gap: float) -> SitingResult:
    """Capacitated MCLP / LSCP as an assignment MILP on merged demand rows."""
    w = inp.w
    m = inp.m
    rows = np.flatnonzero(~inp.pre_covered & (w > 0))
    R = S[rows]
    has = np.diff(R.indptr) > 0
    rows, R = rows[has], R[has]
    Rm, wr, group = _merge_rows(R, w[rows])
    Rm = Rm.tocsr()
    nr = Rm.shape[0]
    pr = np.repeat(np.arange(nr), np.diff(Rm.indptr))
    pc_ = Rm.indices.astype(np.int64)
    k = pr.size
    nv = m + k
    free = ~inp.is_existing
    cap = inp.capacity
    blocks, lo, hi = [], [], []
    # each row served at most (MCLP) / exactly (LSCP) once
    Arow = sp.csr_matrix((np.ones(k), (pr, m + np.arange(k))), shape=(nr, nv))
    blocks.append(Arow)
    lo.append(np.full(nr, 1.0 if model == "lscp" else -np.inf)); hi.append(np.ones(nr))
    # capacity: sum_r w_r z_rj - cap_j x_j <= 0
    capped = np.flatnonzero(np.isfinite(cap))
    if capped.size:
        pos = {int(j): t for t, j in enumerate(capped)}
        sel_pairs = np.isin(pc_, capped)
        rr = np.array([pos[int(j)] for j in pc_[sel_pairs]], dtype=np.int64)
        Acap = sp.csr_matrix(
            (np.concatenate([wr[pr[sel_pairs]], -cap[capped]]),
             (np.concatenate([rr, np.arange(capped.size)]),
              np.concatenate([m + np.flatnonzero(sel_pairs), capped]))),
            shape=(capped.size, nv))
        blocks.append(Acap); lo.append(np.full(capped.size, -np.inf)); hi.append(np.zeros(capped.size))
    # z_rj <= x_j
    Alink = sp.csr_matrix((np.concatenate([np.ones(k), -np.ones(k)]),
                           (np.concatenate([np.arange(k), np.arange(k)]),
                            np.concatenate([m + np.arange(k), pc_]))), shape=(k, nv))
    blocks.append(Alink); lo.append(np.full(k, -np.inf)); hi.append(np.zeros(k))
    if p is not None:
        blocks.append(sp.csr_matrix(np.concatenate([free.astype(float), np.zeros(k)])[None, :]))
        lo.append([-np.inf]); hi.append([p])
    cost = inp.costs if inp.costs is not None else np.ones(m)
    if budget is not None:
        blocks.append(sp.csr_matrix(np.concatenate([np.where(free, cost, 0.0), np.zeros(k)])[None, :]))
        lo.append([-np.inf]); hi.append([budget])
    if inp.dcode is not None and inp.need is not None:
        dc = np.where(free, inp.dcode, -1)
        Q, qn = _quota_rows(dc, inp.need, nv)
        if Q.shape[0]:
            blocks.append(Q); lo.append(qn); hi.append(np.full(qn.size, np.inf))
    A = sp.vstack(blocks).tocsc()
    if model == "mclp":
        c = np.concatenate([np.zeros(m), wr[pr]])
    else:
        c = np.concatenate([np.where(free, cost, 0.0), np.zeros(k)])
    col_lo = np.concatenate([inp.is_existing.astype(float), np.zeros(k)])
    mip = _solve_mip(c, A, np.concatenate([np.asarray(v, float) for v in lo]),
                     np.concatenate([np.asarray(v, float) for v in hi]), col_lo, np.ones(nv),
                     np.concatenate([np.ones(m, bool), np.zeros(k, bool)]),
                     maximize=(model == "mclp"), time_limit_s=time_limit_s,
                     mip_rel_gap=mip_rel_gap)
    if mip.status != "infeasible" and mip.x is None:
        raise InfeasibleError(f"no solution found within `time_limit_s`={time_limit_s:g} s. "
                              "Fix: raise `time_limit_s`.")
    if mip.status == "infeasible":
        if model == "lscp":
            raise InfeasibleError(
                "`capacity` of the candidates within `threshold_s` cannot serve all coverable "
                "demand (or `quota` cannot be met with it). Fix: raise `capacity`, add "
                "candidates or raise `threshold_s`.")
        raise InfeasibleError("`quota` cannot be met together with `p`/`budget`. "
                              "Fix: raise `p` or `budget`, or lower the quotas.")
    x = mip.x[:m] > 0.5
    z = np.clip(mip.x[m:], 0.0, 1.0)
    new = np.flatnonzero(x & free)
    opened = np.union1d(inp.existing, new)
    share_r = np.bincount(pr, weights=z, minlength=nr)
    covered = inp.pre_covered.astype(float)
    covered[rows] = np.minimum(share_r[group], 1.0)
    served_j = np.bincount(pc_, weights=wr[pr] * z, minlength=m)
    # assignment: the site serving the largest share of each merged row
    best = np.full(nr, -1, dtype=np.int64)
    if k:
        order = np.lexsort((-z, pr))
        firsts = np.ones(k, bool)
        firsts[1:] = pr[order][1:] != pr[order][:-1]
        pick = order[firsts]
        best[pr[pick]] = np.where(z[pick] > 1e-9, pc_[pick], -1)
    assign = np.full(inp.n, -1, dtype=np.int64)
    assign[rows] = best[group]
    if model == "mclp":
        obj = float(w @ covered)
        pre_pop = float(w[inp.pre_covered].sum())
        bound = pre_pop + mip.bound if np.isfinite(mip.bound) else np.inf
        uncov = uncoverable
    else:
        obj = float(cost[new].sum()) if inp.costs is not None else float(new.size)
        bound = mip.bound
        uncov = uncoverable
    optimal = mip.status == "optimal"
    return _assemble(model, inp, new, objective=obj, bound=bound, optimal=optimal,
                     solver="highs", t0=t0, size=mip.size, covered=covered,
                     served=served_j[opened], assign_override=assign, uncoverable=uncov,
                     message=f"{model.upper()} with capacity: objective {obj:,.4g}, "
                             f"{_fmt_gap(0.0 if optimal else _gap(obj, bound))}")


# --------------------------------------------------------------------------
# LSCP
# --------------------------------------------------------------------------
def lscp(
    times: Any,
    weights: Any,
    *,
    threshold_s: float,
    costs: Any = None,
    existing: Any = None,
    existing_times: Any = None,
    already_covered: Any = None,
    capacity: Any = None,
    quota: Mapping[Any, int] | None = None,
    candidate_district: Any = None,
    time_limit_s: float = 60.0,
    method: str = "auto",
    mip_rel_gap: float = 1e-7,
) -> SitingResult:
    """Location set covering: fewest (or cheapest) new sites covering all coverable demand.

    Every demand row with positive weight that some candidate or existing
    facility reaches within ``threshold_s`` must be covered. Rows that
    nothing reaches are not an error: they are listed in
    ``uncoverable_idx`` / ``uncoverable_pop`` of the result.

    Parameters
    ----------
    times, weights, threshold_s
        As in :func:`mclp`; rows of weight 0 need no coverage.
    costs
        Cost per candidate; the objective is then the total cost of the new
        sites instead of their number.
    existing, existing_times, already_covered
        As in :func:`mclp`; existing sites are open at no cost.
    capacity
        Maximum population a site can serve (see :func:`mclp`); every
        coverable row must then be fully served within capacities.
    quota, candidate_district
        Minimum number of open sites per district, as in :func:`mclp`.
    time_limit_s, method, mip_rel_gap
        As in :func:`mclp`. The heuristic is greedy set cover with redundant
        sites dropped; without quota, rows containing another row's
        candidates and (without costs) candidates reaching a subset of
        another's rows are dropped, and the Lagrangian relaxation of the
        cover rows gives the bound (as strong as the LP relaxation, raised to
        an integer with integral costs), covers completed from its relaxed
        solutions, and reduced-cost fixing. HiGHS then solves the model
        left, started from the best cover.

    Returns
    -------
    SitingResult
        ``objective`` is the number (or cost) of new sites; ``bound`` a lower
        bound on it.

    Raises
    ------
    InputError
        A parameter is unusable; the message names it.
    InfeasibleError
        ``quota`` or ``capacity`` cannot be met.
    """
    t0 = time.perf_counter()
    inp = _prepare(times, weights, threshold_s=threshold_s, costs=costs, existing=existing,
                   existing_times=existing_times, already_covered=already_covered,
                   capacity=capacity, quota=quota, candidate_district=candidate_district,
                   time_limit_s=time_limit_s, method=method)
    S = _structure(inp.T)
    w = inp.w
    uncoverable = (w > 0) & ~(np.diff(S.indptr) > 0) & ~inp.pre_covered
    if inp.capacity is not None:
        return _capacitated(inp, S, "lscp", p=None, budget=None,
                            time_limit_s=max(_left(t0, time_limit_s), 0.01),
                            t0=t0, uncoverable=uncoverable, mip_rel_gap=mip_rel_gap)
    base = inp.pre_covered.copy()
    if inp.existing.size:
        base |= np.diff(S[:, inp.existing].indptr) > 0
    free_idx = np.flatnonzero(~inp.is_existing)
    rows = np.flatnonzero(~base & (w > 0))
    R = S[rows][:, free_idx]
    has = np.diff(R.indptr) > 0
    R = R[has]
    Rm, _, _ = _merge_rows(R, np.ones(R.shape[0]))
    cfree = inp.costs[free_idx] if inp.costs is not None else np.ones(free_idx.size)
    dfree = inp.dcode[free_idx] if inp.dcode is not None else None
    G = _greedy_set_cover(Rm, cfree, district=dfree, need=inp.need)
    g_obj = float(cfree[G].sum())
    lb = _lscp_lower_bound(Rm, cfree) if Rm.shape[0] else 0.0
    integral = bool(np.all(cfree == np.round(cfree)))
    if inp.need is not None:
        lb = max(lb, float(inp.need.sum()) if inp.costs is None else lb)
    lb = float(heur.round_up(lb, integral))
    unc_msg = (f"; {int(uncoverable.sum())} demand rows ({float(w[uncoverable].sum()):,.0f} "
               "people) reach no site" if uncoverable.any() else "")
    use_milp = method == "milp" or (method == "auto" and Rm.nnz <= AUTO_MILP_MAX_NNZ)
    plain = inp.need is None or not np.any(inp.need > 0)
    nx = free_idx.size
    cols = np.ones(nx, bool)
    forced = np.zeros(nx, bool)
    if plain and Rm.shape[0] and _gap(g_obj, lb) > 0:
        # rows containing another row's candidates need no constraint; with equal
        # costs a candidate reaching a subset of another's rows is never needed
        Rd, col_ok = _dominance(Rm, columns=inp.costs is None)
        lag = heur.lagrangian_set_cover(
            Rd[:, col_ok], cfree[col_ok], ub=g_obj, integral=integral,
            time_budget_s=max(0.5 * _left(t0, time_limit_s), 0.0))
        lb = max(lb, lag.bound)
        ok_idx = np.flatnonzero(col_ok)
        if lag.incumbent.size and lag.ub < g_obj:
            G, g_obj = np.sort(ok_idx[lag.incumbent]), lag.ub
        Rm = Rd
        # fixing against the best cover known (the subgradient fixed against
        # costlier ones while it ran)
        closed, fx = heur.fix_set_cover(lag.dual, lag.reduced, g_obj, integral)
        lag_useful = lag.useful & ~closed
        lag_forced = lag.forced | fx
        cols[ok_idx] = lag_useful
        cols[~col_ok] = False
        forced[ok_idx[lag_forced & lag_useful]] = True
        cols[G] = True
    if not use_milp or (Rm.shape[0] == 0 and inp.need is None) or (
            method == "auto" and _gap(g_obj, lb) == 0):
        opt = _gap(g_obj, lb) == 0
        solver = "greedy+swap" if not (opt and use_milp) else "lagrangian"
        return _assemble("lscp", inp, free_idx[G], objective=g_obj, bound=min(lb, g_obj),
                         optimal=opt, solver=solver, t0=t0, uncoverable=uncoverable,
                         message=f"LSCP: {G.size} new sites, {_fmt_gap(_gap(g_obj, lb))}{unc_msg}")
    # HiGHS on the candidates left by the fixing (the best cover's among them)
    left = _left(t0, time_limit_s)
    sel, _, mip = _lscp_milp(Rm, cfree, cols, G, forced, dfree=dfree, need=inp.need,
                             time_limit_s=max(_highs_s(left), 0.01),
                             mip_rel_gap=mip_rel_gap)
    g_obj = min(g_obj, float(cfree[sel].sum()))
    obj = float(cfree[sel].sum())
    # a better cover uses only the candidates kept: the optimum is at least the
    # smaller of the greedy cover's cost and the bound on the restricted model
    mip_bound = min(mip.bound, g_obj) if np.isfinite(mip.bound) else -np.inf
    bound = min(max(lb, float(heur.round_up(mip_bound, integral))), obj)
    optimal = mip.status == "optimal" and float(cfree[sel].sum()) <= mip.objective + 1e-9 \
        or _gap(obj, bound) == 0
    gap = 0.0 if optimal else _gap(obj, bound)
    return _assemble("lscp", inp, free_idx[sel], objective=obj, bound=obj if optimal else bound,
                     optimal=optimal, solver="highs", t0=t0, size=mip.size,
                     uncoverable=uncoverable,
                     message=f"LSCP: {sel.size} new sites, {_fmt_gap(gap)}{unc_msg}")


def _highs_s(left_s: float) -> float:
    """HiGHS's own time limit out of ``left_s`` seconds: less the reserve for building
    the result and a tenth for HiGHS's overrun (it checks its clock between steps)."""
    return 0.9 * (left_s - _reserve_s(left_s))


def _lscp_milp(R: sp.csr_matrix, cost: np.ndarray, cols: np.ndarray, start_sel: np.ndarray,
               forced: np.ndarray, *, time_limit_s: float, mip_rel_gap: float,
               dfree: np.ndarray | None = None, need: np.ndarray | None = None
               ) -> tuple[np.ndarray, float, _Mip]:
    """Set cover of the rows of ``R`` by the columns of mask ``cols`` (``forced`` ones
    open) with HiGHS, started from ``start_sel`` (a cover within ``cols``).

    Returns the cheaper of the start and HiGHS's cover, its cost and HiGHS's result.
    """
    keep = np.flatnonzero(cols)
    A = R[:, keep].astype(float)
    lo, hi = [np.ones(R.shape[0])], [np.full(R.shape[0], np.inf)]
    Q, qn = _quota_rows(dfree[keep] if dfree is not None else None, need, keep.size)
    if Q.shape[0]:
        A = sp.vstack([A, Q])
        lo.append(qn); hi.append(np.full(qn.size, np.inf))
    pos = -np.ones(R.shape[1], dtype=np.int64)
    pos[keep] = np.arange(keep.size)
    start = np.zeros(keep.size)
    start[pos[start_sel]] = 1
    mip = _solve_mip(cost[keep], A, np.concatenate(lo), np.concatenate(hi),
                     forced[keep].astype(float), np.ones(keep.size), np.ones(keep.size, bool),
                     maximize=False, time_limit_s=time_limit_s, start=start,
                     mip_rel_gap=mip_rel_gap)
    sel, val = start_sel, float(cost[start_sel].sum())
    if mip.x is not None:
        cand = keep[np.flatnonzero(mip.x > 0.5)]
        if float(cost[cand].sum()) <= val:
            sel, val = cand, float(cost[cand].sum())
    return np.sort(sel), val, mip


# --------------------------------------------------------------------------
# p-median / p-center
# --------------------------------------------------------------------------
@dataclass
class _Dist:
    """Reachable demand rows and their costs to free candidates (useless entries dropped)."""
    rows: np.ndarray          # original demand rows with weight > 0 that reach some site
    w: np.ndarray
    base: np.ndarray          # cost to the nearest existing site (inf if none)
    Tf: sp.csr_matrix         # rows x free candidates, entries < base only
    free_idx: np.ndarray
    dfree: np.ndarray | None
    uncoverable: np.ndarray   # mask over all demand rows


def _dist_setup(inp: _Inputs) -> _Dist:
    T, w = inp.T, inp.w
    reach_any = np.diff(T.indptr) > 0
    uncoverable = (w > 0) & ~reach_any
    rows = np.flatnonzero((w > 0) & reach_any)
    base = np.full(inp.n, np.inf)
    if inp.existing.size:
        base = _row_min(T[:, inp.existing])[0]
    free_idx = np.flatnonzero(~inp.is_existing)
    Tf = T[rows][:, free_idx].tocsr()
    Tf.sort_indices()
    b = base[rows]
    er = np.repeat(np.arange(rows.size), np.diff(Tf.indptr))
    keep = Tf.data < b[er]
    Tf = sp.csr_matrix((Tf.data[keep], (er[keep], Tf.indices[keep])), shape=Tf.shape)
    Tf.sort_indices()
    dfree = inp.dcode[free_idx] if inp.dcode is not None else None
    return _Dist(rows, w[rows], b, Tf, free_idx, dfree, uncoverable)


def _nearest(D: _Dist, sel: np.ndarray) -> np.ndarray:
    """Cost of each modelled row to its nearest open site (existing or ``sel``)."""
    if sel.size == 0:
        return D.base.copy()
    return np.minimum(D.base, _row_min(D.Tf[:, sel])[0])


def _integral_costs(D: _Dist) -> bool:
    """Whether every weighted cost of a p-median instance is an integer (so is the optimum)."""
    def whole(v: np.ndarray) -> bool:
        return bool(np.all(v == np.round(v)))

    return whole(D.w) and whole(D.Tf.data) and whole(D.base[np.isfinite(D.base)])


def _dense(D: _Dist, limit: float = 2e7) -> tuple[np.ndarray, np.ndarray] | None:
    """Dense cost matrix with a penalty for unreachable pairs, if small enough."""
    nr, mf = D.Tf.shape
    if nr * mf > limit:
        return None
    finite = np.concatenate([D.Tf.data, D.base[np.isfinite(D.base)]])
    penalty = (float(finite.max()) + 1.0) * 1e3 if finite.size else 1e9
    C = np.full((nr, mf), penalty)
    er = np.repeat(np.arange(nr), np.diff(D.Tf.indptr))
    C[er, D.Tf.indices] = D.Tf.data
    return C, np.where(np.isfinite(D.base), D.base, penalty)


def p_median(
    cost: Any,
    weights: Any,
    p: int,
    *,
    existing: Any = None,
    quota: Mapping[Any, int] | None = None,
    candidate_district: Any = None,
    time_limit_s: float = 60.0,
    method: str = "auto",
    mip_rel_gap: float = 1e-7,
) -> SitingResult:
    """p-median: open ``p`` new sites minimising total population-weighted travel time.

    Each demand row is served by its nearest open site. Unreachable pairs
    (``inf``/``NaN`` in a dense matrix, absent in a sparse one) are never
    used. Demand rows with positive weight that reach no candidate at all are
    left out of the objective and listed in ``uncoverable_idx`` /
    ``uncoverable_pop``.

    Parameters
    ----------
    cost
        ``demand x candidate`` travel times in seconds.
    weights
        Population per demand row (>= 0).
    p
        Number of new sites (existing ones are not counted).
    existing
        Candidate indices (or boolean mask) of sites that are already open.
    quota, candidate_district
        Minimum number of open sites per district, as in :func:`mclp`.
    time_limit_s, method, mip_rel_gap
        As in :func:`mclp`. Greedy + swap gives a first answer; on a dense
        instance without quota, the Lagrangian relaxation of the assignment
        constraints (subgradient steps, as strong as the LP relaxation)
        gives a lower bound, raised to the next integer when every weighted
        cost is an integer, and closes the candidates whose forced opening
        lifts it to the incumbent's cost (reduced-cost fixing). What is left
        is solved exactly: with ``method="auto"`` and at most 10 new sites
        by branch and bound on the Lagrangian bound, otherwise by a sequence
        of reduced MILPs: each demand row only gets assignment variables for
        candidates nearer than a per-row level (initially the heuristic's
        travel time) plus one slack priced at the next nearer time, a
        relaxation whose optimum is the true optimum once no slack is used;
        levels grow for rows that use their slack.

    Returns
    -------
    SitingResult
        ``objective`` is ``sum_i weight_i * time_i`` in person-seconds.

    Raises
    ------
    InputError
        A parameter is unusable; the message names it.
    InfeasibleError
        With a sparse cost matrix, ``p`` sites cannot reach every demand row
        that reaches some candidate, or ``quota`` cannot be met.
    """
    t0 = time.perf_counter()
    inp = _prepare(cost, weights, param_times="cost", needs_threshold=False, p=p,
                   p_required=True, existing=existing, quota=quota,
                   candidate_district=candidate_district, time_limit_s=time_limit_s,
                   method=method)
    D = _dist_setup(inp)
    deadline = t0 + time_limit_s
    nr, mf = D.Tf.shape
    H = None
    dense = _dense(D)
    lag = None
    integral = _integral_costs(D)
    if dense is not None:
        C, bpen = dense
        H, h_obj = heur.greedy_swap_median(C, D.w, p, base=bpen, district=D.dfree, need=inp.need,
                                           deadline=t0 + 0.5 * time_limit_s)
        lag_s = min(0.25 * time_limit_s, deadline - time.perf_counter())
        if inp.need is None and p < mf and lag_s > 0:
            lag = heur.lagrangian_median(C, D.w, p, base=bpen, incumbent=H, ub=h_obj,
                                         time_budget_s=lag_s, integral=integral)
            H = lag.incumbent
        del C
    elif method == "heuristic":
        raise _fail("method", f'"heuristic" needs a dense {nr} x {mf} matrix, too large.',
                    'use method="milp" or "auto" (sparse reduced MILP)')
    lag_lb = lag.bound if lag is not None else -np.inf
    unc_msg = (f"; {int(D.uncoverable.sum())} demand rows "
               f"({float(inp.w[D.uncoverable].sum()):,.0f} people) reach no candidate"
               if D.uncoverable.any() else "")

    def true_cost(sel: np.ndarray) -> float:
        d = _nearest(D, sel)
        return float(D.w @ d) if np.all(np.isfinite(d)) else np.inf

    rowmin = _row_min(D.Tf)[0]
    lb_simple = float(heur.round_up(D.w @ np.minimum(D.base, rowmin), integral))
    h_cost = true_cost(H) if H is not None else np.inf
    proven = method != "milp" and H is not None and _gap(h_cost, max(lb_simple, lag_lb)) == 0
    if proven or method == "heuristic" or (method == "auto" and D.Tf.nnz > 4 * AUTO_MILP_MAX_NNZ
                                           and H is not None):
        lb_h = min(max(lb_simple, lag_lb), h_cost)
        solver = "lagrangian" if proven and lag is not None else "greedy+swap"
        what = "p-median" if proven else "p-median heuristic"
        return _assemble("p_median", inp, D.free_idx[H], objective=h_cost, bound=lb_h,
                         optimal=_gap(h_cost, lb_h) == 0, solver=solver, t0=t0,
                         uncoverable=D.uncoverable,
                         message=f"{what}: {h_cost:,.6g} person-s, "
                                 f"{_fmt_gap(_gap(h_cost, lb_h))}{unc_msg}")
    best_sel, best_obj = (H, h_cost) if H is not None else (None, np.inf)
    forced = np.zeros(mf, bool)
    if lag is not None and np.isfinite(best_obj):
        # reduced-cost fixing: candidates in no solution better than the incumbent
        # are left out (the incumbent's own stay, so the MILP can start from it),
        # candidates in every better solution are opened
        useful = lag.useful.copy()
        useful[H] = True
        keep_cols = np.flatnonzero(useful)
        Tk = D.Tf[:, keep_cols].tocsr()
        if np.all((np.diff(Tk.indptr) > 0) | np.isfinite(D.base)):
            remap = -np.ones(mf, dtype=np.int64)
            remap[keep_cols] = np.arange(keep_cols.size)
            D = _Dist(D.rows, D.w, D.base, Tk, D.free_idx[keep_cols],
                      D.dfree[keep_cols] if D.dfree is not None else None, D.uncoverable)
            best_sel = np.sort(remap[H])
            forced = lag.forced[keep_cols]
            mf = keep_cols.size
    if method == "auto" and lag is not None and np.isfinite(best_obj) and p <= _BB_MAX_P \
            and nr * mf <= _BB_MAX_ENTRIES:
        # few sites: the LP relaxation leaves a gap HiGHS closes slowly, while
        # branching on the Lagrangian bound of the fixed instance does it fast
        C, bpen = _dense(D)
        left = deadline - time.perf_counter()
        sel, _, lb_bb, done = heur.median_branch_and_bound(
            C, D.w, p, base=bpen, incumbent=best_sel, ub=best_obj, integral=integral,
            lam=lag.multipliers, root_iter=50, deadline=deadline - _reserve_s(left))
        del C
        obj = true_cost(sel)
        if obj > best_obj:
            sel, obj = best_sel, best_obj
        bound = min(max(lb_bb, lag_lb), obj)
        optimal = done or _gap(obj, bound) == 0
        gap = 0.0 if optimal else _gap(obj, bound)
        return _assemble("p_median", inp, D.free_idx[sel], objective=obj,
                         bound=obj if optimal else bound, optimal=optimal,
                         solver="lagrangian", t0=t0, uncoverable=D.uncoverable,
                         message=f"p-median: {obj:,.6g} person-s, {_fmt_gap(gap)}{unc_msg}")
    rowmin = _row_min(D.Tf)[0]
    counts = np.diff(D.Tf.indptr)
    er = np.repeat(np.arange(nr), counts)
    # per-row level: entries with cost <= level get an assignment variable
    if best_sel is not None and np.isfinite(best_obj):
        # up to the second-nearest site of the heuristic solution: the optimal
        # assignment rarely lies beyond it, so few rounds are needed
        level = _nearest(D, best_sel)
        if best_sel.size >= 2:
            sub = D.Tf[:, best_sel]
            dense_sub = np.full(sub.shape, np.inf)
            er_s = np.repeat(np.arange(sub.shape[0]), np.diff(sub.indptr))
            dense_sub[er_s, sub.indices] = sub.data
            dense_sub = np.column_stack([dense_sub, D.base])
            second = np.partition(dense_sub, 1, axis=1)[:, 1]
            level = np.where(np.isfinite(second), np.maximum(level, second), level)
    else:
        kth = np.minimum(counts, 20)
        level = np.full(nr, -np.inf)
        ranks = np.arange(D.Tf.nnz) - np.repeat(D.Tf.indptr[:-1], counts)
        vals = D.Tf.data.copy()
        order = np.lexsort((vals, er))
        rk = np.empty_like(order)
        rk[order] = ranks
        sel_e = rk < kth[er]
        np.maximum.at(level, er[sel_e], vals[sel_e])
    level = np.maximum(level, rowmin)
    bound = -np.inf
    status = "other"
    size = (0, 0, 0)
    const = 0.0
    mip_deadline = time.perf_counter() + _highs_s(deadline - time.perf_counter())
    while True:
        in_set = D.Tf.data <= level[er] + 1e-12
        beyond = np.where(in_set, np.inf, D.Tf.data)
        nxt = np.full(nr, np.inf)
        np.minimum.at(nxt, er, beyond)
        outside = np.minimum(nxt, D.base)
        exact = ~np.isfinite(nxt)
        model_rows = np.flatnonzero(np.bincount(er[in_set], minlength=nr) > 0)
        fixed_rows = np.setdiff1d(np.arange(nr), model_rows)
        const = float(D.w[fixed_rows] @ D.base[fixed_rows]) if fixed_rows.size else 0.0
        if fixed_rows.size and not np.all(np.isfinite(D.base[fixed_rows])):
            const = np.inf
        pos = -np.ones(nr, dtype=np.int64)
        pos[model_rows] = np.arange(model_rows.size)
        e_idx = np.flatnonzero(in_set)
        pr = pos[er[e_idx]]
        pj = D.Tf.indices[e_idx]
        k = e_idx.size
        has_s = np.isfinite(outside[model_rows])
        s_rows = np.flatnonzero(has_s)
        ns = s_rows.size
        nmr = model_rows.size
        nv = mf + k + ns
        blocks = [sp.csr_matrix((np.ones(k + ns), (np.concatenate([pr, s_rows]),
                                                   mf + np.arange(k + ns))), shape=(nmr, nv)),
                  sp.csr_matrix((np.concatenate([np.ones(k), -np.ones(k)]),
                                 (np.concatenate([np.arange(k), np.arange(k)]),
                                  np.concatenate([mf + np.arange(k), pj]))), shape=(k, nv)),
                  sp.csr_matrix(np.concatenate([np.ones(mf), np.zeros(k + ns)])[None, :])]
        lo = [np.ones(nmr), np.full(k, -np.inf), [p]]
        hi = [np.ones(nmr), np.zeros(k), [p]]
        Q, qn = _quota_rows(D.dfree, inp.need, nv)
        if Q.shape[0]:
            blocks.append(Q); lo.append(qn); hi.append(np.full(qn.size, np.inf))
        A = sp.vstack(blocks).tocsc()
        wm = D.w[model_rows]
        c = np.concatenate([np.zeros(mf), wm[pr] * D.Tf.data[e_idx], wm[s_rows] *
                            outside[model_rows][s_rows]])
        integer = np.concatenate([np.ones(mf, bool), np.zeros(k + ns, bool)])
        start = None
        if best_sel is not None:
            xs = np.zeros(mf)
            xs[best_sel] = 1
            # assign each row to its nearest open entry in the set, else the slack
            zval = np.zeros(k)
            open_e = xs[pj] > 0.5
            cand = np.where(open_e, D.Tf.data[e_idx], np.inf)
            bestc = np.full(nmr, np.inf)
            np.minimum.at(bestc, pr, cand)
            first = open_e & (cand <= bestc[pr])
            taken = np.zeros(nmr, bool)
            for t in np.flatnonzero(first):
                if not taken[pr[t]]:
                    zval[t] = 1
                    taken[pr[t]] = True
            sval = (~taken[s_rows]).astype(float)
            start = np.concatenate([xs, zval, sval])
        remaining = mip_deadline - time.perf_counter()
        if remaining <= 0:
            break
        mip = _solve_mip(c, A, np.concatenate([np.asarray(v, float) for v in lo]),
                         np.concatenate([np.asarray(v, float) for v in hi]),
                         np.concatenate([forced.astype(float), np.zeros(k + ns)]),
                         np.ones(nv), integer, maximize=False, time_limit_s=remaining,
                         start=start, mip_rel_gap=mip_rel_gap)
        size = mip.size
        status = mip.status
        if status == "infeasible":
            raise InfeasibleError(
                f"`p`={p} new sites cannot reach every demand row that reaches some candidate "
                "in `cost` (or `quota` cannot be met). Fix: raise `p`, use a cost matrix with a "
                "larger cut-off, or lower the quotas.")
        if mip.x is None:
            break
        bound = max(bound, const + mip.bound)
        sel = np.flatnonzero(mip.x[:mf] > 0.5)
        tc = true_cost(sel)
        if tc < best_obj - 1e-9 * max(1.0, abs(best_obj)):
            best_sel, best_obj = sel, tc
        s_used = np.zeros(nr, bool)
        s_used[model_rows[s_rows]] = mip.x[mf + k:] > 0.5
        grow = s_used & ~exact
        if status != "optimal" or not grow.any() or time.perf_counter() >= mip_deadline:
            break
        d_now = _nearest(D, sel)
        level = np.where(grow, np.maximum(np.where(np.isfinite(d_now), d_now, nxt), nxt), level)
        # at least double the number of entries of growing rows
        dbl = np.minimum(2 * np.maximum(np.bincount(er[in_set], minlength=nr), 1), counts)
        order = np.lexsort((D.Tf.data, er))
        starts = D.Tf.indptr[:-1]
        ridx = np.flatnonzero(grow & (counts > 0))
        level[ridx] = np.maximum(level[ridx], D.Tf.data[order[starts[ridx] + dbl[ridx] - 1]])
    if best_sel is None:
        raise InfeasibleError("no solution found within `time_limit_s`. Fix: raise `time_limit_s`.")
    obj = best_obj + 0.0
    if not np.isfinite(bound):
        bound = lb_simple
    bound = max(float(heur.round_up(bound, integral)), lag_lb)
    optimal = (status == "optimal" and _gap(obj, bound) <= max(mip_rel_gap, 1e-9) * 10) \
        or _gap(obj, bound) == 0
    gap = 0.0 if optimal else _gap(obj, bound)
    return _assemble("p_median", inp, D.free_idx[best_sel], objective=obj, bound=min(bound, obj),
                     optimal=optimal, solver="highs", t0=t0, size=size,
                     uncoverable=D.uncoverable,
                     message=f"p-median: {obj:,.6g} person-s, {_fmt_gap(gap)}{unc_msg}")


def _dominance(R: sp.csr_matrix, *, columns: bool, max_rows: int = 20_000
               ) -> tuple[sp.csr_matrix, np.ndarray]:
    """Set-cover reductions: drop rows whose column set contains another row's set,
    and (with ``columns``) columns whose row set is inside another column's.

    Returns the remaining rows and a mask of the columns worth opening.
    """
    m = R.shape[1]
    col_ok = np.ones(m, bool)
    if R.shape[0] == 0 or R.shape[0] > max_rows:
        return R, col_ok
    Rf = R.astype(np.float32).tocsr()
    size = np.diff(Rf.indptr)
    inter = (Rf @ Rf.T).tocoo()
    sub = (inter.data == size[inter.row]) & (size[inter.row] < size[inter.col])
    redundant = np.zeros(R.shape[0], bool)
    redundant[inter.col[sub]] = True
    Rf = Rf[~redundant]
    if columns:
        col_ok = _undominated_columns(Rf, max_cols=max_rows)
    return R[~redundant], col_ok


def p_center(
    cost: Any,
    weights: Any,
    p: int,
    *,
    existing: Any = None,
    quota: Mapping[Any, int] | None = None,
    candidate_district: Any = None,
    time_limit_s: float = 60.0,
    method: str = "auto",
) -> SitingResult:
    """p-center: open at most ``p`` new sites minimising the worst travel time.

    Only demand rows with positive weight count. The exact method searches
    the sorted distinct travel times by bisection; each step asks HiGHS for
    the fewest sites covering every row within that time (a set-covering
    MILP, skipped when the greedy cover already fits in ``p``). The
    optimum is the smallest time for which ``p`` sites suffice; the result may
    use fewer than ``p`` sites when more would not lower the worst time.

    Parameters
    ----------
    cost, weights, p, existing, quota, candidate_district
        As in :func:`p_median`.
    time_limit_s
        Total time for the search; at the limit the best solution found is
        returned with the gap to the largest time proven too small.
    method
        ``"auto"``/``"milp"`` (bisection with HiGHS) or ``"heuristic"``
        (greedy + swap; bound = the largest nearest-candidate time).

    Returns
    -------
    SitingResult
        ``objective`` is the worst travel time in seconds.

    Raises
    ------
    InputError
        A parameter is unusable; the message names it.
    InfeasibleError
        ``p`` sites cannot reach every demand row that reaches some
        candidate (sparse cost matrix) or ``quota`` cannot be met.
    """
    t0 = time.perf_counter()
    inp = _prepare(cost, weights, param_times="cost", needs_threshold=False, p=p,
                   p_required=True, existing=existing, quota=quota,
                   candidate_district=candidate_district, time_limit_s=time_limit_s,
                   method=method)
    D = _dist_setup(inp)
    deadline = t0 + time_limit_s
    nr, mf = D.Tf.shape
    rowmin = np.minimum(_row_min(D.Tf)[0], D.base)
    lb = float(rowmin.max()) if nr else 0.0
    unc_msg = (f"; {int(D.uncoverable.sum())} demand rows "
               f"({float(inp.w[D.uncoverable].sum()):,.0f} people) reach no candidate"
               if D.uncoverable.any() else "")

    def worst(sel: np.ndarray) -> float:
        return float(_nearest(D, sel).max()) if nr else 0.0

    H = None
    dense = _dense(D)
    if dense is not None:
        C, bpen = dense
        H, _ = heur.greedy_swap_center(C, p, base=bpen, district=D.dfree, need=inp.need,
                                       deadline=t0 + 0.5 * time_limit_s)
        del C
    elif method == "heuristic":
        raise _fail("method", f'"heuristic" needs a dense {nr} x {mf} matrix, too large.',
                    'use method="milp" or "auto"')
    ub = worst(H) if H is not None else np.inf
    best_sel = H if np.isfinite(ub) else None
    if method == "heuristic":
        return _assemble("p_center", inp, D.free_idx[H], objective=ub, bound=lb,
                         optimal=_gap(ub, lb) == 0, solver="greedy+swap", t0=t0,
                         uncoverable=D.uncoverable,
                         message=f"p-center heuristic: {ub:,.1f} s, {_fmt_gap(_gap(ub, lb))}"
                                 f"{unc_msg}")
    values = np.unique(np.concatenate([D.Tf.data, D.base[np.isfinite(D.base)]]))
    values = values[(values >= lb) & (values <= ub)]
    er = np.repeat(np.arange(nr), np.diff(D.Tf.indptr))
    lo_i, hi_i = 0, values.size - 1 if np.isfinite(ub) else values.size
    if not np.isfinite(ub):
        values = np.unique(np.concatenate([D.Tf.data, D.base[np.isfinite(D.base)]]))
        values = values[values >= lb]
        hi_i = values.size
    proven_lb = lb
    size = (0, 0, 0)
    timed_out = False

    def cover_min(r: float) -> tuple[str, np.ndarray | None]:
        """'yes' with a selection if <= p new sites cover all rows within r, 'no', or '?'."""
        nonlocal size
        need_rows = D.base > r
        keep = (D.Tf.data <= r) & need_rows[er]
        R = sp.csr_matrix((np.ones(int(keep.sum()), bool), (er[keep], D.Tf.indices[keep])),
                          shape=(nr, mf))[np.flatnonzero(need_rows)]
        if np.any(np.diff(R.indptr) == 0):
            return "no", None
        Rm, _, _ = _merge_rows(R, np.ones(R.shape[0]))
        ones = np.ones(mf)
        G = _greedy_set_cover(Rm, ones, district=D.dfree, need=inp.need)
        if G.size <= p:
            return "yes", G
        Rm, col_ok = _dominance(Rm, columns=inp.need is None)
        A = Rm.astype(float)
        lo, hi = [np.ones(Rm.shape[0])], [np.full(Rm.shape[0], np.inf)]
        Q, qn = _quota_rows(D.dfree, inp.need, mf)
        if Q.shape[0]:
            A = sp.vstack([A, Q]); lo.append(qn); hi.append(np.full(qn.size, np.inf))
        A = sp.vstack([A, sp.csr_matrix(np.ones((1, mf)))])
        lo.append([-np.inf]); hi.append([float(p)])
        remaining = deadline - time.perf_counter()
        if remaining <= 0.05:
            return "?", None
        mip = _solve_mip(ones, A, np.concatenate([np.asarray(v, float) for v in lo]),
                         np.concatenate([np.asarray(v, float) for v in hi]), np.zeros(mf),
                         col_ok.astype(float), np.ones(mf, bool), maximize=False,
                         time_limit_s=remaining, mip_rel_gap=1.0)
        size = mip.size
        if mip.status == "infeasible":
            return "no", None
        if mip.x is not None and np.sum(mip.x > 0.5) <= p:
            return "yes", np.flatnonzero(mip.x > 0.5)
        if np.isfinite(mip.bound) and mip.bound > p + 1e-6:
            return "no", None
        if mip.status == "optimal":
            return "no", None
        return "?", None

    while lo_i < hi_i:
        if time.perf_counter() >= deadline:
            timed_out = True
            break
        mid = (lo_i + hi_i) // 2
        ans, sel = cover_min(float(values[mid]))
        if ans == "yes":
            hi_i = mid
            best_sel, ub = sel, worst(sel)
            hi_i = min(hi_i, int(np.searchsorted(values, ub)))
        elif ans == "no":
            lo_i = mid + 1
            proven_lb = float(values[mid + 1]) if mid + 1 < values.size else np.inf
        else:
            timed_out = True
            break
    if best_sel is None:
        if hi_i < values.size and not timed_out:
            ans, sel = cover_min(float(values[hi_i]))
            if ans == "yes":
                best_sel, ub = sel, worst(sel)
        if best_sel is None:
            raise InfeasibleError(
                f"`p`={p} new sites cannot reach every demand row that reaches some candidate "
                "in `cost` (or `quota` cannot be met). Fix: raise `p` or use a cost matrix with "
                "a larger cut-off.")
    bound = max(proven_lb, lb) if not timed_out else max(proven_lb, lb)
    bound = min(bound, ub)
    optimal = not timed_out and _gap(ub, bound) == 0 or (not timed_out and lo_i >= hi_i)
    gap = 0.0 if optimal else _gap(ub, bound)
    return _assemble("p_center", inp, D.free_idx[np.asarray(best_sel, dtype=np.int64)],
                     objective=ub, bound=ub if optimal else bound, optimal=optimal,
                     solver="highs", t0=t0, size=size, uncoverable=D.uncoverable,
                     message=f"p-center: worst time {ub:,.1f} s, {_fmt_gap(gap)}{unc_msg}")


# --------------------------------------------------------------------------
# coverage curve
# --------------------------------------------------------------------------
def coverage_curve(
    times: Any,
    weights: Any,
    *,
    threshold_s: float,
    k: int,
    existing: Any = None,
    existing_times: Any = None,
    already_covered: Any = None,
    time_limit_s: float = 60.0,
    method: str = "auto",
    mip_rel_gap: float = 1e-7,
) -> pd.DataFrame:
    """Best MCLP coverage for every number of new sites ``p = 1..k``.

    One greedy pass gives a nested solution and an upper bound for every
    ``p``; with ``method="auto"`` (small enough instance) or ``"milp"`` each
    ``p`` is then solved exactly with HiGHS, warm-started, sharing
    ``time_limit_s``.

    Parameters
    ----------
    times, weights, threshold_s, existing, existing_times, already_covered
        As in :func:`mclp`.
    k
        Largest number of new sites.
    time_limit_s, method, mip_rel_gap
        As in :func:`mclp`; ``"heuristic"`` returns the greedy curve.

    Returns
    -------
    pandas.DataFrame
        One row per ``p`` with columns ``p``, ``covered_pop`` (existing
        coverage included), ``covered_share``, ``marginal_gain`` (over
        ``p - 1``; for ``p = 1`` over the existing coverage), ``optimal``,
        ``gap``, ``bound`` and ``new_sites`` (tuple of candidate indices).
    """
    t0 = time.perf_counter()
    if not _whole_at_least(k, 1):
        raise _fail("k", f"must be an integer >= 1, got {k!r}.",
                    "pass the largest number of new sites to evaluate")
    inp = _prepare(times, weights, threshold_s=threshold_s, existing=existing,
                   existing_times=existing_times, already_covered=already_covered,
                   time_limit_s=time_limit_s, method=method)
    n_free = inp.m - inp.existing.size
    if k > n_free:
        raise _fail("k", f"={k} exceeds the {n_free} candidates that are not existing sites.",
                    f"use k <= {n_free}")
    S = _structure(inp.T)
    red = _mclp_reduce(inp, S)
    Rm, wr = red.Rm, red.wr
    H = heur.greedy_swap_cover(Rm, wr, p=k, swap=False)
    total = float(inp.w.sum())
    exact = method == "milp" or (method == "auto" and Rm.nnz <= AUTO_MILP_MAX_NNZ)
    order = H.order
    rows = []
    prev_sel: np.ndarray | None = None
    for p in range(1, k + 1):
        g_sel = np.sort(order[:p]) if order.size >= p else np.sort(order)
        g_val = float(H.curve_value[min(p, H.curve_value.size - 1)])
        g_bnd = float(H.curve_bound[min(p, H.curve_bound.size - 1)]) \
            if p < H.curve_bound.size else float(wr.sum())
        sel, val, bnd, opt = g_sel, g_val, max(g_bnd, g_val), _gap(g_val, g_bnd) == 0
        if exact and not opt:
            remaining = t0 + time_limit_s - time.perf_counter()
            budget_t = max(remaining / (k - p + 1), 0.05)
            start = g_sel
            if prev_sel is not None:
                # previous optimum plus the best single addition is also feasible
                cov = np.asarray(Rm[:, prev_sel].sum(axis=1)).ravel() > 0 if prev_sel.size \
                    else np.zeros(Rm.shape[0], bool)
                gains = np.asarray(Rm.T.astype(float) @ np.where(cov, 0.0, wr)).ravel()
                gains[prev_sel] = -1
                cand = np.union1d(prev_sel, [int(np.argmax(gains))])
                cval = float(wr @ (np.asarray(Rm[:, cand].sum(axis=1)).ravel() > 0))
                if cval > g_val:
                    start = cand
            s2, v2, b2, st, _ = _mclp_milp(Rm, wr, p=p, budget=None, cfree=None, dfree=None,
                                           need=None, start_sel=start, time_limit_s=budget_t,
                                           mip_rel_gap=mip_rel_gap)
            if v2 >= val:
                sel, val = s2, v2
            bnd = min(bnd, b2)
            opt = st == "optimal" or _gap(val, bnd) == 0
        prev_sel = sel
        cov_pop = red.base_pop + val
        rows.append((p, cov_pop, bnd + red.base_pop, bool(opt),
                     0.0 if opt else _gap(cov_pop, bnd + red.base_pop),
                     tuple(int(v) for v in red.free_idx[sel])))
    df = pd.DataFrame(rows, columns=["p", "covered_pop", "bound", "optimal", "gap", "new_sites"])
    df["covered_share"] = df["covered_pop"] / total if total > 0 else 0.0
    df["marginal_gain"] = df["covered_pop"].diff().fillna(df["covered_pop"].iloc[0]
                                                           - red.base_pop)
    return df[["p", "covered_pop", "covered_share", "marginal_gain", "optimal", "gap", "bound",
               "new_sites"]]


# --------------------------------------------------------------------------
# candidates
# --------------------------------------------------------------------------
def _xy(frame: Any, param: str) -> np.ndarray:
    """``(n, 2)`` metre coordinates from ``x``/``y`` columns (or point geometry)."""
    if isinstance(frame, pd.DataFrame) and {"x", "y"} <= set(frame.columns):
        xy = frame[["x", "y"]].to_numpy(dtype=float)
    elif hasattr(frame, "geometry") and isinstance(frame, pd.DataFrame):
        g = frame.geometry
        if g.crs is not None and g.crs.is_geographic:
            raise _fail(param, "is in geographic degrees.",
                        "reproject to a metric CRS first (e.g. coverage.geo.to_metric)")
        c = g.centroid
        xy = np.column_stack([c.x.to_numpy(), c.y.to_numpy()])
    else:
        raise _fail(param, "needs `x` and `y` columns in metres.",
                    "pass a (Geo)DataFrame with x/y centroid columns")
    if not np.all(np.isfinite(xy)):
        raise _fail(param, "has missing or infinite x/y coordinates.",
                    "drop or fix the rows without coordinates")
    return xy


def _points_frame(df: pd.DataFrame, crs: Any) -> pd.DataFrame:
    if crs is None:
        return df
    import geopandas as gpd

    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["x"], df["y"]), crs=crs)


def candidates_from_cells(grid: pd.DataFrame, *, min_pop: float = 0.0) -> pd.DataFrame:
    """Use population cell centres as candidate sites.

    Parameters
    ----------
    grid
        Population grid with ``x``, ``y`` (metres) and ``pop`` columns;
        ``cell_id`` and ``unit_id`` are carried over when present.
    min_pop
        Keep cells with ``pop >= min_pop`` (the default 0 keeps every cell).

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        ``candidate_id`` (0..n-1, the column index to use in the matrices),
        ``x``, ``y``, ``pop`` and the carried-over columns; point geometry
        when ``grid`` has a CRS. The index is the grid's index of each cell.
    """
    if not isinstance(grid, pd.DataFrame) or "pop" not in grid.columns:
        raise _fail("grid", "needs a `pop` column.", "pass the population grid GeoDataFrame")
    if not np.isfinite(min_pop):
        raise _fail("min_pop", f"must be a finite number, got {min_pop!r}.", "e.g. min_pop=100")
    xy = _xy(grid, "grid")
    pop = grid["pop"].to_numpy(dtype=float)
    keep = pop >= min_pop
    out = pd.DataFrame({"candidate_id": np.arange(int(keep.sum())), "x": xy[keep, 0],
                        "y": xy[keep, 1], "pop": pop[keep]}, index=grid.index[keep])
    for col in ("cell_id", "unit_id"):
        if col in grid.columns:
            out[col] = grid[col].to_numpy()[keep]
    return _points_frame(out, getattr(grid, "crs", None))


def candidates_kmeans(grid: pd.DataFrame, k: int, *, random_state: int = 0,
                      snap_to: pd.DataFrame | None = None) -> pd.DataFrame:
    """Population-weighted k-means centres as candidate sites.

    Parameters
    ----------
    grid
        Population grid with ``x``, ``y`` (metres) and ``pop`` columns.
    k
        Number of clusters (candidates before de-duplication).
    random_state
        Seed of :class:`sklearn.cluster.KMeans`.
    snap_to
        Points with ``x``, ``y`` columns (e.g. road-network nodes) to snap
        each centre to; by default the centre of the nearest populated cell.

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        One row per distinct snapped site: ``candidate_id``, ``x``, ``y``,
        ``cluster_pop`` (population of the cluster(s) snapped there) and
        ``source`` (index label in ``grid`` or ``snap_to`` of the point);
        point geometry when ``grid`` has a CRS.
    """
    from scipy.spatial import cKDTree
    from sklearn.cluster import KMeans

    if not isinstance(grid, pd.DataFrame) or "pop" not in grid.columns:
        raise _fail("grid", "needs a `pop` column.", "pass the population grid GeoDataFrame")
    xy = _xy(grid, "grid")
    pop = grid["pop"].to_numpy(dtype=float)
    pos = pop > 0
    if not _whole_at_least(k, 1):
        raise _fail("k", f"must be an integer >= 1, got {k!r}.", "e.g. k=50")
    if k > int(pos.sum()):
        raise _fail("k", f"={k} exceeds the {int(pos.sum())} populated cells.",
                    f"use k <= {int(pos.sum())}")
    km = KMeans(n_clusters=k, random_state=random_state, n_init=4)
    km.fit(xy[pos], sample_weight=pop[pos])
    centres = km.cluster_centers_
    cl_pop = np.bincount(km.labels_, weights=pop[pos], minlength=k)
    if snap_to is None:
        targets, labels = xy[pos], grid.index[pos]
    else:
        targets, labels = _xy(snap_to, "snap_to"), snap_to.index
    _, nearest = cKDTree(targets).query(centres)
    df = pd.DataFrame({"t": nearest, "cluster_pop": cl_pop})
    agg = df.groupby("t", sort=True)["cluster_pop"].sum()
    t = agg.index.to_numpy()
    out = pd.DataFrame({"candidate_id": np.arange(t.size), "x": targets[t, 0],
                        "y": targets[t, 1], "cluster_pop": agg.to_numpy(),
                        "source": np.asarray(labels)[t]})
    return _points_frame(out, getattr(grid, "crs", None))


def filter_min_distance(candidates_xy: pd.DataFrame, existing_xy: pd.DataFrame,
                        min_distance_m: float) -> pd.DataFrame:
    """Drop candidates closer than ``min_distance_m`` to an existing facility.

    Parameters
    ----------
    candidates_xy, existing_xy
        Frames with ``x``, ``y`` columns in metres (or point geometry in a
        metric CRS).
    min_distance_m
        Minimum straight-line distance in metres (> 0).

    Returns
    -------
    pandas.DataFrame
        The rows of ``candidates_xy`` kept, with their original index (a
        copy; the input is not changed).
    """
    from scipy.spatial import cKDTree

    if not np.isfinite(min_distance_m) or min_distance_m <= 0:
        raise _fail("min_distance_m", f"must be a positive number of metres, got "
                    f"{min_distance_m!r}.", "e.g. min_distance_m=500")
    cxy = _xy(candidates_xy, "candidates_xy")
    if len(existing_xy) == 0:
        return candidates_xy.copy()
    exy = _xy(existing_xy, "existing_xy")
    d, _ = cKDTree(exy).query(cxy)
    return candidates_xy.loc[d >= min_distance_m].copy()
