"""Exact multi-source searches on a road graph with its pass-through nodes removed.

Most nodes of a street network only carry the shape of a street: they have
two neighbours and can be walked through both ways.  :func:`contract` replaces
every chain of such nodes between two junctions by one edge each way, which
leaves a *core* graph with a fraction of the nodes.  :func:`nearest_sources`
runs one Dijkstra on the core graph and derives every chain node's time from
the two junctions at the ends of its chain (and from sources lying on the
chain itself), so that the times are the shortest-path times of the whole
graph.

Everything works on the square CSR matrices of :class:`coverage.access.TravelGraph`:
``matrix[a, b]`` is the time of the fastest edge from ``a`` to ``b``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra


@dataclass(frozen=True, eq=False)
class Contraction:
    """A graph's pass-through chains and its core graph.

    Attributes
    ----------
    n
        Number of nodes of the whole graph.
    core
        Whole-graph index of every core node (nodes with edges that are not
        chain nodes), ascending.
    core_of
        Core index of every whole-graph node (-1 for chain nodes and nodes
        without edges).
    core_t
        Transposed core graph (CSR, ``core_t[b, a]`` = time from ``a`` to
        ``b``), for times *to* sources.
    chain
        Whole-graph index of every chain node, ascending.
    nb
        ``(len(chain), 2)`` neighbours of each chain node.
    t_in
        ``(len(chain), 2)`` times from each neighbour to the chain node.
    end_core
        ``(len(chain), 2)`` core index of the junction reached by walking
        along the chain towards each neighbour.
    to_end, from_end
        ``(len(chain), 2)`` time along the chain to that junction and from it.
    chain_of
        Chain-node position of every whole-graph node (-1 for other nodes).
    """

    n: int
    core: np.ndarray
    core_of: np.ndarray
    core_t: sp.csr_matrix
    chain: np.ndarray
    nb: np.ndarray
    t_in: np.ndarray
    end_core: np.ndarray
    to_end: np.ndarray
    from_end: np.ndarray
    chain_of: np.ndarray

    @cached_property
    def walk_tables(self) -> tuple[list, list, list, list]:
        """``chain_of``, ``chain``, ``nb`` and ``t_in`` as Python lists (built on first use)."""
        return (self.chain_of.tolist(), self.chain.tolist(), self.nb.tolist(),
                self.t_in.tolist())


def min_csr(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, n: int) -> sp.csr_matrix:
    """``n x n`` CSR matrix of the least value per ``(row, col)`` pair.

    Indices are sorted within rows and explicit zeros are kept (a zero-time
    edge is an edge).
    """
    key = np.asarray(rows, np.int64) * n + np.asarray(cols, np.int64)
    order = np.argsort(key, kind="stable")
    key, vals = key[order], np.asarray(vals, float)[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else key[:0]
    vmin = np.minimum.reduceat(vals, starts) if starts.size else vals[:0]
    ukey = key[starts]
    size = max(n, 1)
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(ukey // size, minlength=n), out=indptr[1:])
    m = sp.csr_matrix((vmin, ukey % size, indptr), shape=(n, n))
    m.has_sorted_indices = True
    return m


def _pass_through(matrix: sp.csr_matrix, matrix_t: sp.csr_matrix) -> np.ndarray:
    """Nodes with exactly two neighbours, joined to both by edges both ways.

    Rows of both matrices have sorted indices, so equal neighbour sets line up.
    """
    out_deg = np.diff(matrix.indptr)
    in_deg = np.diff(matrix_t.indptr)
    cand = np.flatnonzero((out_deg == 2) & (in_deg == 2))
    if cand.size == 0:
        return cand
    o0 = matrix.indices[matrix.indptr[cand]]
    o1 = matrix.indices[matrix.indptr[cand] + 1]
    i0 = matrix_t.indices[matrix_t.indptr[cand]]
    i1 = matrix_t.indices[matrix_t.indptr[cand] + 1]
    ok = (o0 == i0) & (o1 == i1) & (o0 != cand) & (o1 != cand)
    return cand[ok]


def contract(matrix: sp.csr_matrix, matrix_t: sp.csr_matrix) -> Contraction:
    """Find the pass-through chains of a graph and build its core graph.

    Parameters
    ----------
    matrix, matrix_t
        Square CSR matrix of edge times (one entry per node pair) and its
        transpose, both with sorted indices.

    Returns
    -------
    Contraction
    """
    n = matrix.shape[0]
    chain = _pass_through(matrix, matrix_t)
    for _ in range(2):  # a second round when rings of chain nodes had to stay
        is_chain = np.zeros(n, bool)
        is_chain[chain] = True
        chain_of = np.full(n, -1, np.int64)
        chain_of[chain] = np.arange(chain.size)
        k = chain.size
        a = matrix.indices[matrix.indptr[chain]].astype(np.int64)
        b = matrix.indices[matrix.indptr[chain] + 1].astype(np.int64)
        nb = np.column_stack([a, b])
        t_out = np.column_stack([matrix.data[matrix.indptr[chain]],
                                 matrix.data[matrix.indptr[chain] + 1]])
        # the in-neighbours are the out-neighbours, in the same (sorted) order
        t_in = np.column_stack([matrix_t.data[matrix_t.indptr[chain]],
                                matrix_t.data[matrix_t.indptr[chain] + 1]])
        # darts: 2 * p + s goes from chain node p towards its neighbour s
        target = nb.ravel()
        to_end = t_out.ravel()
        from_end = t_in.ravel().copy()
        end = target.copy()
        succ = np.full(2 * k, -1, np.int64)
        inner = np.flatnonzero(is_chain[target])
        if inner.size:
            w = chain_of[target[inner]]
            src = chain[inner // 2]
            # leave w by its other neighbour
            succ[inner] = 2 * w + (nb[w, 0] == src).astype(np.int64)
        rounds = int(math.ceil(math.log2(max(2 * k, 2)))) + 2
        for _ in range(rounds):
            act = np.flatnonzero(succ >= 0)
            if act.size == 0:
                break
            s = succ[act]
            to_end[act] = to_end[act] + to_end[s]
            from_end[act] = from_end[act] + from_end[s]
            end[act] = end[s]
            succ[act] = succ[s]
        ring = np.flatnonzero(succ >= 0)
        if ring.size == 0:
            break
        # chains closed on themselves keep all their nodes in the core graph
        keep = np.ones(k, bool)
        keep[np.unique(ring // 2)] = False
        chain = chain[keep]
    else:  # pragma: no cover - the second round has no rings left
        raise RuntimeError("chain contraction did not converge")
    end = end.reshape(-1, 2)
    to_end = to_end.reshape(-1, 2)
    from_end = from_end.reshape(-1, 2)

    # core graph: edges between core nodes, plus one edge per chain and direction
    has_edge = (np.diff(matrix.indptr) > 0) | (np.diff(matrix_t.indptr) > 0)
    core_mask = has_edge & ~is_chain
    core = np.flatnonzero(core_mask)
    core_of = np.full(n, -1, np.int64)
    core_of[core] = np.arange(core.size)
    coo = matrix.tocoo()
    direct = core_mask[coo.row] & core_mask[coo.col]
    rows = [coo.row[direct].astype(np.int64)]
    cols = [coo.col[direct].astype(np.int64)]
    vals = [coo.data[direct]]
    for s in (0, 1):
        # a chain node next to a junction: junction -> node -> along the chain -> far end
        at = np.flatnonzero(~is_chain[nb[:, s]])
        rows.append(nb[at, s])
        cols.append(end[at, 1 - s])
        vals.append(t_in[at, s] + to_end[at, 1 - s])
    r = core_of[np.concatenate(rows)]
    c = core_of[np.concatenate(cols)]
    v = np.concatenate(vals)
    keep = r != c
    core_t = min_csr(c[keep], r[keep], v[keep], core.size)  # transposed: row = head
    return Contraction(n=n, core=core, core_of=core_of, core_t=core_t, chain=chain, nb=nb,
                       t_in=t_in, end_core=core_of[end], to_end=to_end, from_end=from_end,
                       chain_of=chain_of)


def nearest_sources(cc: Contraction, nodes: np.ndarray, offsets: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Shortest time from every node to any source, and which source.

    Parameters
    ----------
    cc
        The graph's contraction.
    nodes
        Whole-graph node of each source.
    offsets
        Time already spent when a source's node is reached (seconds, >= 0).

    Returns
    -------
    dist : numpy.ndarray
        Per whole-graph node, the least ``time(node -> nodes[j]) + offsets[j]``
        (``inf`` when no source is reachable).
    which : numpy.ndarray
        The position ``j`` of that source (-1 when none is reachable).
    """
    n = cc.n
    nodes = np.asarray(nodes, np.int64)
    offsets = np.asarray(offsets, float)
    m = nodes.size
    nc = cc.core.size
    # virtual source node nc + j has two edges: to the junctions it is reached from
    # (a core node twice; a source on a node without edges points to itself)
    cpos = cc.chain_of[nodes]
    cnode = cc.core_of[nodes]
    heads = np.repeat(cnode, 2).reshape(m, 2)
    costs = np.repeat(offsets, 2).reshape(m, 2)
    jh = np.flatnonzero(cpos >= 0)
    if jh.size:
        heads[jh] = cc.end_core[cpos[jh]]
        costs[jh] = offsets[jh, None] + cc.from_end[cpos[jh]]
    lone = np.flatnonzero((cnode < 0) & (cpos < 0))
    heads[lone] = (nc + lone)[:, None]
    ct = cc.core_t
    nnz = int(ct.indptr[-1])
    idx = np.int32 if nnz + 2 * m < 2**31 - 1 and nc + m < 2**31 - 1 else np.int64
    indptr = np.empty(nc + m + 1, idx)
    indptr[:nc + 1] = ct.indptr
    indptr[nc + 1:] = nnz + 2 * np.arange(1, m + 1)
    indices = np.concatenate([ct.indices.astype(idx, copy=False), heads.ravel().astype(idx)])
    data = np.concatenate([ct.data, costs.ravel()])
    aug = sp.csr_matrix((data, indices, indptr), shape=(nc + m, nc + m))
    dist = np.full(n, np.inf)
    which = np.full(n, -1, np.int64)
    if nc:
        dc, _, src = dijkstra(aug, directed=True, indices=np.arange(nc, nc + m),
                              min_only=True, return_predecessors=True)
        dc = dc[:nc]
        wc = src[:nc] - nc
        wc[wc < 0] = -1
        dist[cc.core] = dc
        which[cc.core] = wc
        if cc.chain.size:
            # chain nodes: through the junction at either end of their chain
            e = cc.end_core
            d0 = dc[e[:, 0]] + cc.to_end[:, 0]
            d1 = dc[e[:, 1]] + cc.to_end[:, 1]
            one = d1 < d0
            dist[cc.chain] = np.where(one, d1, d0)
            which[cc.chain] = wc[np.where(one, e[:, 1], e[:, 0])]
    elif cc.chain.size:  # pragma: no cover - a chain always ends at a core node
        raise RuntimeError("chain nodes without a core graph")
    # a source on a node without edges reaches that node only
    for j in lone:
        if offsets[j] < dist[nodes[j]]:
            dist[nodes[j]], which[nodes[j]] = offsets[j], j
    # sources on a chain reach the nodes of their own chain directly
    if jh.size:
        tables = cc.walk_tables
        for j in jh.tolist():
            _along_chain(tables, int(cpos[j]), float(offsets[j]), j, dist, which)
    return dist, which


def _along_chain(tables: tuple[list, list, list, list], p: int, offset: float, j: int,
                 dist: np.ndarray, which: np.ndarray) -> None:
    """Lower ``dist`` on the chain of chain node ``p`` by walking to source ``j`` at ``p``."""
    chain_of, chain, nb, t_in = tables
    here = chain[p]
    if offset < dist[here]:
        dist[here], which[here] = offset, j
    for s in (0, 1):
        came, nxt = here, nb[p][s]
        acc = offset + t_in[p][s]  # time from nxt to the source
        q = chain_of[nxt]
        while q >= 0:
            if acc < dist[nxt]:
                dist[nxt], which[nxt] = acc, j
            side = 1 if nb[q][0] == came else 0  # leave q away from where we came
            came, nxt = nxt, nb[q][side]
            acc += t_in[q][side]
            q = chain_of[nxt]
