"""Burkholz (2022): a ticket of depth l + 1 for a ReLU target of depth l.

[B] Burkholz. *Most activation functions can win the lottery without excessive depth.* NeurIPS
2022, arXiv:2205.02321.

Where the constructions of Pensia et al. (2020) and Malach et al. (2020) spend two random layers
on every target layer, [B] spends one, plus a first layer shared by all:

- random layer 1 (``M_1``, shape ``(d_0 n_1, d_0)``) spreads each input ``j`` over ``n_1`` units
  ``(j, k)``, unit ``(j, k)`` (index ``k d_0 + j``) keeping only its weight ``u_{jk}`` from input
  ``j``: the first half of a Pensia pair;
- random layer ``i + 1`` (``M_{i+1}``) stands for target layer i: its units are ``n_{i+1}`` copies
  ``(a, c)`` (index ``c d_i + a``) of every target neuron ``a``, none for the output layer
  (``d_l`` units). Every copy of neuron ``a`` reads the ``n_i`` copies ``(j, k)`` of every neuron
  ``j`` of the layer below and approximates ``W_i[a, j]`` by a SubsetSum over their weights:
  products ``M_2[(a, c), (j, k)] u_{jk}`` split by the sign of ``u_{jk}`` for target layer 1 (as
  [P]), plain weights ``M_{i+1}[(a, c), (j, k)]`` for ``i >= 2``, whose inputs are ReLU outputs,
  never negative.

``n_i`` (``values_per_input``) is the size of the pool of every weight of target layer i: the
number of copies of layer ``i - 1``'s neurons. The hidden widths ``d_{i-1} n_i`` are those of
the 2l-deep network of [P]; the depth is l + 1. Every copy has its own instances, so layer i
solves ``d_i n_{i+1} d_{i-1}`` of them (twice that for signed inputs of layer 1), and the ticket
keeps about ``n_i n_{i+1} / 2`` weights per target weight where [P] keeps about ``n_i``.

This module holds the random network of that shape (:func:`shapes`, :func:`random_network`),
the choice of each layer's subsets (:func:`choose`, on the engine of
:func:`~strong_lth.constructions.pensia.choose`), the masks (:func:`masks`), the pruned network
(:func:`kept_matrices`, :func:`pruned_network`), its identity (:func:`layer_forms`), its
certificate (:func:`certified_error`) and both modes of :func:`strong_lth.approximate`
(:func:`build`, :func:`search`, joined in :func:`solve`, the hook its registry entry declares:
its layers are not independent, since layer i's instances depend on ``n_{i+1}``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import linalg, sparse

from .. import bounds
from .._validation import check_int, check_real
from ..chain import chain_norm
from ..exceptions import InvalidParameterError
from ..gadgets import error_matrix, fold_input_bias, signed_inputs
from ..networks import ReLUNetwork
from ..random_network import RandomNetwork
from . import pensia
from ._pools import check_signed

__all__ = [
    "ROUNDING",
    "LayerForms",
    "Parts",
    "build",
    "certificate_parts",
    "certified_error",
    "choose",
    "copies",
    "depth",
    "kept_matrices",
    "layer_forms",
    "lift_rows",
    "masks",
    "pool_weights",
    "pruned_network",
    "random_network",
    "search",
    "shapes",
    "solve",
    "spectral_upper",
    "width_bound",
]

ROUNDING = 1e-8
"""Outward rounding of the certificate, as :data:`strong_lth.lockstep.ROUNDING`: every spectral
norm is moved up by ``ROUNDING`` times itself plus the Frobenius norm of the absolute terms that
were summed into the matrix, and every step of the recursion by the factor ``1 + ROUNDING``. A
float64 sum of ``m`` terms errs by at most ``m 2^-53`` times the sum of their magnitudes, so this
covers inner dimensions up to about ``10^7``."""

GRAM_SIDE = 4096
"""Largest smaller side of a matrix whose spectral norm :func:`spectral_upper` computes from the
eigenvalues of its Gram matrix (at most ``4096^2`` float64, 128 MiB); a larger one is bounded by
``min(||M||_F, sqrt(||M||_1 ||M||_inf))``."""

CHUNK_VALUES = 1 << 22
""":func:`choose` reads and solves the copies of a layer in chunks of at most about this many
pool values (rows times ``d_{i-1} n_i``), so its memory stays near ``64 CHUNK_VALUES`` bytes
(:data:`strong_lth._search.BYTES_PER_VALUE` per value) whatever the number of copies."""

BYTES_PER_POSITION = 64
"""Estimated bytes per position of the random network (every ``rows x cols`` of
:func:`shapes`) that a ticket of this construction allocates: its ``keep`` arrays (one byte per
position), their packed copies, the kept positions, the sums and the certificate's matrices,
with margin (58 to 62 bytes measured by ``tracemalloc`` on fixed-mode tickets of 16-8-4 to
24-24-4 targets at n = 12 to 20)."""


def solve_bytes(widths, values_per_input) -> int:
    """Estimated bytes of a ticket at these ``n_i``: :data:`BYTES_PER_POSITION` times the
    number of positions of its random network.

    Examples
    --------
    >>> solve_bytes((3, 4, 2), (5, 6))
    28992
    """
    return BYTES_PER_POSITION * sum(r * c for r, c in shapes(widths, values_per_input))


def check_bytes(need: int, max_bytes: int, where: str) -> None:
    """Refuse, before allocating, a solve estimated above ``max_bytes``."""
    if need > max_bytes:
        raise InvalidParameterError(
            f"`max_bytes` must cover the estimated {need:,} bytes of the burkholz ticket {where} "
            f"({BYTES_PER_POSITION} bytes per position of its random network); got "
            f"{max_bytes:,}."
        )


def shapes(widths, values_per_input) -> list[tuple[int, int]]:
    """Shapes of ``M_1, ..., M_{l+1}`` of the random network of [B].

    Parameters
    ----------
    widths : sequence of int
        ``(d_0, ..., d_l)`` of the (bias-augmented) target.
    values_per_input : sequence of int
        ``(n_1, ..., n_l)``.

    Returns
    -------
    list of (int, int)
        ``M_1``: ``(d_0 n_1, d_0)``, unit ``(j, k)`` at index ``k d_0 + j``; ``M_{i+1}`` for
        ``1 <= i < l``: ``(d_i n_{i+1}, d_{i-1} n_i)``, copy ``(a, c)`` of target neuron ``a``
        of layer i at row ``c d_i + a``; ``M_{l+1}``: ``(d_l, d_{l-1} n_l)``.

    Examples
    --------
    >>> shapes((3, 4, 2), (5, 6))
    [(15, 3), (24, 15), (2, 24)]
    """
    hidden = [d * n for d, n in zip(widths[:-1], values_per_input, strict=True)]
    return [(hidden[0], widths[0]), *zip(hidden[1:], hidden[:-1]), (widths[-1], hidden[-1])]


def depth(target_depth: int) -> int:
    """``l + 1``: the number of random layers for a target of depth l."""
    return target_depth + 1


def random_network(seed, widths, values_per_input, distribution="uniform", source_density=1.0):
    """The random network of [B]: a :class:`~strong_lth.random_network.RandomNetwork` with the
    shapes of :func:`shapes` (depth ``l + 1``).

    Weights and nesting are those of every random network (``M_layer[row, col] =
    F^{-1}(uniform_bits(seed, layer, row, col))``, absent weights of a sparse source exactly 0):
    the network with ``n_i`` copies has the first ``d_{i-1} n_i`` units of the one with more, so
    each of its matrices is a top-left block of the larger one's, bit for bit.

    Examples
    --------
    >>> g = random_network(0, (3, 4, 2), (5, 6))
    >>> g.depth, g.shapes
    (3, [(15, 3), (24, 15), (2, 24)])
    """
    return RandomNetwork(
        seed, widths, values_per_input, distribution, source_density, layout=shapes
    )


def copies(network, i: int) -> int:
    """Copies of each neuron of target layer ``i`` in ``network`` (``n_{i+1}``; 1 for the
    output layer)."""
    n = network.values_per_input
    return n[i] if i < len(n) else 1


def pool_weights(network, i: int, rows=None) -> tuple[np.ndarray, np.ndarray]:
    """The pools of target layer ``i``, laid out as ``RandomNetwork.gadget_weights`` lays out
    a Pensia pair's (what :func:`strong_lth.constructions.pensia.choose` reads).

    Parameters
    ----------
    network : RandomNetwork
        With the shapes of :func:`shapes` (a :func:`random_network`).
    i : int
        Target layer, ``1..l``.
    rows : slice, optional
        Rows of ``M_{i+1}`` (copies) to read; default all.

    Returns
    -------
    u : ndarray, shape (d_{i-1}, n_i)
        ``u[j, k] = M_1[k d_0 + j, j]`` for ``i = 1``; all ones for ``i >= 2`` (unit ``(j, k)``
        of a later layer passes its ReLU output on unscaled).
    v : ndarray, shape (len(rows), d_{i-1}, n_i)
        ``v[r, j, k] = M_{i+1}[r, k d_{i-1} + j]``.

    Raises
    ------
    InvalidParameterError
        If ``i`` is out of range.

    Examples
    --------
    >>> g = random_network(seed=1, widths=(2, 3, 2), values_per_input=(4, 5))
    >>> u, v = pool_weights(g, 2)
    >>> u.shape, v.shape, bool(v[1, 2, 3] == g.matrix(3)[1, 3 * 3 + 2])
    ((3, 5), (2, 3, 5), True)
    """
    i = check_int("i", i, low=1, high=len(network.values_per_input))
    d_in, n = network.widths[i - 1], network.values_per_input[i - 1]
    inputs = np.arange(d_in)[:, None]
    units = np.arange(n)[None, :] * d_in + inputs
    row_ids = np.arange(network.shapes[i][0])[rows if rows is not None else slice(None)]
    v = network.entries(i + 1, row_ids[:, None, None], units[None])
    u = network.entries(1, units, inputs) if i == 1 else np.ones((d_in, n))
    return u, v


def lift_rows(weights: np.ndarray, copies: int) -> np.ndarray:
    """``W`` with row ``a`` repeated for every copy: row ``c d + a`` is ``W[a]``, shape
    ``(copies d, d_in)`` (copy-major, the unit order of :func:`random_network`)."""
    return np.tile(weights, (copies, 1))


class _Rows:
    """A view of some copies of one layer, in the interface :func:`pensia.choose` reads."""

    def __init__(self, pools):
        self.pools = pools

    def gadget_weights(self, _layer):
        return self.pools


def choose(
    weights,
    network,
    layer,
    *,
    signed=None,
    solver="mitm",
    tol=None,
    start=None,
    rows=None,
    fewest=True,
):
    """Choose, for every copy of every target neuron, the subsets that approximate its weights.

    Parameters
    ----------
    weights : ndarray, shape (d_i, d_{i-1})
        Target layer ``W_i`` (bias-augmented if the target has biases).
    network : RandomNetwork
        The random network; only ``M_{i+1}`` (and ``M_1`` for ``i = 1``) are read.
    layer : int
        Target layer ``i`` (1-based).
    signed : ndarray of bool, shape (d_{i-1},), optional
        Inputs that can be negative, as in :func:`strong_lth.constructions.pensia.choose`
        (default: every input of layer 1, none of a later layer). Only layer 1 may have signed
        inputs: a later layer reads ReLU outputs.
    solver, tol
        As in :func:`strong_lth.constructions.pensia.choose`.
    start : ndarray of bool, shape (rows', d_{i-1}, n'), optional
        ``keep`` of an earlier call at any numbers of copies (with ``tol``), its row 0 the
        first row solved here: rows and values beyond the earlier ones start empty.
    rows : int or range, optional
        Solve only these rows of ``M_{i+1}`` (copy-major): an int for the first ``rows`` (the
        first copies of every neuron), a ``range`` of step 1 for any consecutive ones; default
        all. Each row's instances do not depend on the others, so with an exact solver these
        are the same rows of the whole layer's result, bit for bit.
    fewest : bool, default True
        With ``tol``: keep, per instance, a subset with the fewest values within ``tol``, else
        any (as in :func:`strong_lth.constructions.pensia.choose`).

    Returns
    -------
    keep : ndarray of bool, shape (rows, d_{i-1}, n_i)
        ``keep[r, j, k]``: ``M_{i+1}[lo + r, k d_{i-1} + j]`` is kept, ``lo`` the first row
        solved; ``rows = d_i n_{i+1}`` (``d_l`` for the output layer) unless given. Weights
        absent from a sparse source are never kept.
    sums : ndarray, shape (2, rows, d_{i-1})
        The subsets' sums: ``A`` (products ``v u`` with ``u > 0``, or plain weights for
        ``i >= 2``), then ``B`` (products with ``u < 0``; 0 for ``i >= 2``).
    status : ndarray of int8, shape (2, rows, d_{i-1})
        Solver status per instance.

    Raises
    ------
    InvalidParameterError
        If ``network`` does not have the shapes of :func:`shapes`, ``signed`` is malformed
        or marks an input of a layer after the first, or ``rows`` is out of range.

    Notes
    -----
    Row ``r = c d_i + a`` approximates ``W_i[a]``: the instances are those of
    :func:`strong_lth.constructions.pensia.choose` on the lifted layer ``lift_rows(W_i, n_{i+1})``
    with ``v[r, j, k] = M_{i+1}[r, k d_{i-1} + j]`` and, for ``i >= 2``, ``u = 1`` (a single pool
    of plain weights: the copies' outputs are never negative). The rows are solved in chunks of
    about :data:`CHUNK_VALUES` values; each chunk is a separate batch of independent instances,
    so the result does not depend on the chunking.
    """
    d_out, d_in = weights.shape
    if network.shapes != shapes(network.widths, network.values_per_input):
        raise InvalidParameterError(
            "`network` must have the depth-(l + 1) shapes of this construction "
            f"(burkholz.random_network); got shapes {network.shapes}."
        )
    signed = check_signed(signed, layer, d_in)
    if layer > 1 and signed.any():
        raise InvalidParameterError(
            f"`signed` must be all False for layer {layer} of the depth-(l + 1) construction "
            f"(its inputs are ReLU outputs); got {int(signed.sum())} signed inputs."
        )
    count = copies(network, layer)
    total, n = d_out * count, network.values_per_input[layer - 1]
    first, stop = _row_range(rows, total)
    lifted = lift_rows(weights, count)
    keep = np.zeros((stop - first, d_in, n), dtype=bool)
    sums = np.zeros((2, stop - first, d_in))
    status = np.zeros((2, stop - first, d_in), dtype=np.int8)
    step = _chunk_rows(d_in, n)
    for lo in range(first, stop, step):
        part = slice(lo, min(lo + step, stop))
        here = slice(part.start - first, part.stop - first)
        u, v = pool_weights(network, layer, part)
        present = v != 0  # absent weights of a sparse source (never 0 otherwise)
        earlier = None if start is None or tol is None else _rows_of(start, here, d_in)
        kept, sums[:, here], status[:, here] = pensia.choose(
            lifted[part],
            _Rows((u, v)),
            layer,
            signed=signed,
            solver=solver,
            tol=tol,
            start=earlier,
            fewest=fewest,
        )
        keep[here] = kept & present  # a zero value changes no sum
    return keep, sums, status


def _row_range(rows, total):
    """``(lo, hi)`` of :func:`choose`'s ``rows`` among ``total`` rows."""
    if rows is None:
        return 0, total
    if isinstance(rows, range):
        if rows.step != 1 or not 0 <= rows.start < rows.stop <= total:
            raise InvalidParameterError(
                f"`rows` must be a non-empty range of step 1 within range({total}) (or an int); "
                f"got {rows!r}."
            )
        return rows.start, rows.stop
    return 0, check_int("rows", rows, low=1, high=total)


def _chunk_rows(d_in, n):
    """Rows of a chunk of :func:`choose` (about :data:`CHUNK_VALUES` pool values)."""
    return max(1, CHUNK_VALUES // max(1, d_in * n))


BLOCKS_PER_THREAD = 2
"""With a Dask client, :func:`_solve_rows` cuts a layer's rows into about ``BLOCKS_PER_THREAD``
blocks per thread of the cluster's workers: ``ceil(rows / (2 threads))`` rows each, rounded
up to whole chunks of :func:`choose` (:data:`CHUNK_VALUES` pool values). A thread has a
second block to take while the slower one finishes; and a block of whole chunks holds the
very batches of instances the call in this process solves, so even a randomized solver
(``"local"``, whose seeds follow an instance's position in its batch) gives the same ticket
on any cluster. A layer solve of less than two chunks per thread has fewer blocks (one below
a chunk)."""


def _solve_rows(weights, network, layer, *, signed, solver, tol, start, rows, fewest, client):
    """``(keep, sums)`` of :func:`choose` over its ``rows``: in this process by one call, or,
    with a ``distributed.Client``, in blocks of consecutive rows (:data:`BLOCKS_PER_THREAD`)
    solved on its workers (:func:`_solve_block`) and assembled in row order.

    Every instance is solved alone from its own pool (the bits of its positions), and every
    block is whole chunks of the one call, the same batches: the blocks are its rows, bit for
    bit. The target layer is sent to the cluster once (a task of its own), the warm start's
    rows with their block, packed; a block lost with its worker is recomputed by Dask.
    """
    options = {"signed": signed, "solver": solver, "tol": tol, "fewest": fewest}
    if client is None:
        keep, sums, _ = choose(weights, network, layer, start=start, rows=rows, **options)
        return keep, sums
    count = weights.shape[0] * copies(network, layer) if rows is None else rows
    n = network.values_per_input[layer - 1]
    threads = max(1, sum(client.nthreads().values()))
    step = _chunk_rows(weights.shape[1], n)
    per = step * math.ceil(count / (BLOCKS_PER_THREAD * threads * step))
    cuts = [(lo, min(lo + per, count)) for lo in range(0, count, per)]
    # the target layer once, as a task rather than scattered data: a worker lost with it
    # loses a result Dask recomputes, not data it cannot recover
    shared = client.submit(np.asarray, weights, pure=False)
    futures = [
        client.submit(
            _solve_block,
            shared,
            network,
            layer,
            range(lo, hi),
            None if start is None else np.packbits(start[lo:hi], axis=2),
            None if start is None else start.shape[2],
            options,
            pure=False,
        )
        for lo, hi in cuts
    ]
    try:
        blocks = client.gather(futures)
    finally:
        client.cancel([*futures, shared])
    keep = np.concatenate([np.unpackbits(b, axis=2, count=n).astype(bool) for b, _ in blocks])
    return keep, np.concatenate([s for _, s in blocks], axis=1)


def _solve_block(weights, network, layer, rows, start, start_n, options):
    """One block of :func:`_solve_rows` on a worker: :func:`choose` on ``rows`` from the
    packed rows ``start`` of the warm start; returns the packed ``keep`` and the sums."""
    if start is not None:
        start = np.unpackbits(start, axis=2, count=start_n).astype(bool)
    keep, sums, _ = choose(weights, network, layer, start=start, rows=rows, **options)
    return np.packbits(keep, axis=2), sums


def _rows_of(start, part, d_in):
    """Rows ``part`` of an earlier ``keep`` (missing rows empty)."""
    earlier = np.zeros((part.stop - part.start, d_in, start.shape[2]), dtype=bool)
    have = start[part]
    earlier[: len(have)] = have
    return earlier


def masks(keeps) -> tuple[np.ndarray, ...]:
    """The kept ``(row, col)`` positions of ``M_1 .. M_{l+1}`` from every layer's ``keep``.

    Parameters
    ----------
    keeps : sequence of ndarray of bool
        ``keep`` of :func:`choose` for target layers ``1..l`` (shapes
        ``(rows_i, d_{i-1}, n_i)``).

    Returns
    -------
    tuple of ndarray of int64, shape (k, 2)
        Sorted positions; ``M_1`` keeps ``(k d_0 + j, j)`` for every unit ``(j, k)`` read by a
        kept weight of ``M_2``; ``M_{i+1}`` keeps ``(r, k d_{i-1} + j)`` for ``keep_i[r, j, k]``.

    Notes
    -----
    A copy that no kept weight of the layer above reads cannot change the output: its incoming
    weights are dropped too, from the top layer down, so every kept hidden unit is read.
    """
    keeps = [np.array(k, dtype=bool) for k in keeps]
    for i in range(len(keeps) - 1, 0, -1):
        read = keeps[i].any(axis=0).T.reshape(-1)  # unit (j, k) at index k d + j
        keeps[i - 1][~read] = False
    d_0 = keeps[0].shape[1]
    k, j = np.nonzero(keeps[0].any(axis=0).T)
    first = np.stack([k * d_0 + j, j], axis=1)
    return (first, *(_positions(keep) for keep in keeps))


def _positions(keep):
    """``(r, k d + j)`` for every ``keep[r, j, k]``, sorted by row then column: the nonzeros of
    ``keep`` read in ``(r, k, j)`` order are already in that order (no sort needed)."""
    r, k, j = np.nonzero(keep.transpose(0, 2, 1))
    return np.stack([r, k * keep.shape[1] + j], axis=1).astype(np.int64, copy=False)


def kept_matrices(network: RandomNetwork, positions) -> list[sparse.csr_array]:
    """``M_j ⊙ S_j`` for ``j = 1..l+1`` as sparse matrices of the full shapes."""
    out = []
    for layer, (kept, shape) in enumerate(zip(positions, network.shapes), start=1):
        values = network.entries(layer, kept[:, 0], kept[:, 1])
        out.append(sparse.csr_array((values, (kept[:, 0], kept[:, 1])), shape=shape))
    return out


def pruned_network(network: RandomNetwork, positions, input_bias: bool) -> ReLUNetwork:
    """The pruned network, dense, depth ``l + 1``; with ``input_bias`` the last input (the
    constant 1) is folded into a first-layer bias, so it reads the target's own ``x``."""
    weights = [m.toarray() for m in kept_matrices(network, positions)]
    return fold_input_bias(weights) if input_bias else ReLUNetwork(weights)


@dataclass(frozen=True, eq=False)
class LayerForms:
    """What each layer of a pruned depth-(l + 1) network computes.

    Attributes
    ----------
    first : (ndarray, ndarray)
        ``(A, B)``, each ``(rows_1, d_0)``: ``A = M_2 max(M_1, 0)``, ``B = M_2 min(M_1, 0)``,
        so that ``h^{(1)} = M_2 σ(M_1 x̃) = A σ(x̃) - B σ(-x̃)``.
    sums : list of ndarray
        For ``i = 2..l``: ``S_i = M_{i+1} L_i`` of shape ``(rows_i, d_{i-1})``, ``L_i`` the
        ``(d_{i-1} n_i, d_{i-1})`` lift (``L[k d + j, j] = 1``): ``S_i[r, j] = Σ_k
        M_{i+1}[r, k d_{i-1} + j]``, and ``M_{i+1} lift(y) = S_i y``.
    matrices : list of sparse.csr_array
        The kept ``M_1, ..., M_{l+1}``.
    read : list of ndarray of bool
        For ``i = 1..l``: which rows of ``M_{i+1}`` the layer above reads (all for ``i = l``).
    """

    first: tuple[np.ndarray, np.ndarray]
    sums: list
    matrices: list
    read: list


def _lift(d: int, n: int) -> sparse.csr_array:
    """``L`` of shape ``(d n, d)``, ``L[k d + j, j] = 1``."""
    units = np.arange(d * n)
    return sparse.csr_array((np.ones(d * n), (units, units % d)), shape=(d * n, d))


def layer_forms(network: RandomNetwork, positions) -> LayerForms:
    """The identity of a pruned depth-(l + 1) network (:class:`LayerForms`), from its masks.

    Parameters
    ----------
    network : RandomNetwork
    positions : sequence of ndarray
        Kept positions of ``M_1 .. M_{l+1}`` (:func:`masks`).

    Returns
    -------
    LayerForms

    Raises
    ------
    InvalidParameterError
        If a kept unit of ``M_1`` reads an input other than its own (``k d_0 + j`` reads ``j``)
        or keeps two weights: the identity needs one input weight per unit.

    Notes
    -----
    With one input weight ``u`` per unit of ``M_1``, ``σ(u t) = u σ(t)`` for ``u > 0`` and
    ``-u σ(-t)`` for ``u < 0``, so ``M_2 σ(M_1 x̃) = A σ(x̃) - B σ(-x̃)`` exactly (the gadget
    algebra of [P], with ``rows_1`` outputs). Later layers are plain: ``h^{(i)} = M_{i+1}
    σ(h^{(i-1)})``, and on lifted inputs ``M_{i+1} L_i y = S_i y``.
    """
    matrices = kept_matrices(network, positions)
    first = matrices[0]
    d_0 = network.widths[0]
    per_unit = np.diff(first.indptr)
    rows = np.repeat(np.arange(first.shape[0]), per_unit)
    if np.any(per_unit > 1) or np.any(first.indices != rows % d_0):
        raise InvalidParameterError(
            "`positions` must keep, in layer 1, at most one weight per unit, from the unit's own "
            f"input (unit k d_0 + j reads input j, d_0 = {d_0})."
        )
    a = (matrices[1] @ first.maximum(0.0)).toarray()
    b = (matrices[1] @ first.minimum(0.0)).toarray()
    widths, n = network.widths, network.values_per_input
    sums = [(matrices[i] @ _lift(widths[i - 1], n[i - 1])).toarray() for i in range(2, len(n) + 1)]
    read = [np.asarray(abs(m).sum(axis=0) > 0).ravel() for m in matrices[2:]]
    read.append(np.ones(widths[-1], dtype=bool))
    return LayerForms(first=(a, b), sums=sums, matrices=matrices, read=read)


def spectral_upper(matrix) -> float:
    """A rigorous upper bound on ``||M||_2`` (dense or sparse ``M``), moved out by
    :data:`ROUNDING`.

    Notes
    -----
    With smaller side at most :data:`GRAM_SIDE`: ``λ = λ_max(fl(G))`` for the Gram matrix ``G``
    of the smaller side. ``fl(G) = G + E`` with ``|E| <= m 2^-53 |M|^T |M|`` entrywise (``m`` the
    inner dimension), so ``||E||_2 <= ||E||_F <= m 2^-53 ||M||_F^2``, and the symmetric
    eigensolver is backward stable (error ``O(m 2^-53 ||G||_2)``); hence ``||M||_2^2 <= λ +
    ROUNDING (|λ| + ||M||_F^2)``. Otherwise ``||M||_2 <= ||M||_F`` and ``||M||_2 <=
    sqrt(||M||_1 ||M||_inf)`` (Hölder), each computed with the same margin.
    """
    if min(matrix.shape, default=0) == 0:
        return 0.0
    dense = not sparse.issparse(matrix)
    frobenius2 = float(np.sum(np.square(matrix.data if not dense else matrix)))
    if min(matrix.shape) <= GRAM_SIDE:
        side = matrix if matrix.shape[0] <= matrix.shape[1] else matrix.T
        gram = side @ side.T
        gram = np.asarray(gram.toarray() if sparse.issparse(gram) else gram)
        top = float(linalg.eigvalsh(gram, subset_by_index=[len(gram) - 1, len(gram) - 1])[0])
        return math.sqrt(max(top, 0.0) + ROUNDING * (abs(top) + frobenius2))
    magnitude = abs(matrix)
    holder = float(magnitude.sum(axis=0).max()) * float(magnitude.sum(axis=1).max())
    return math.sqrt(min(frobenius2, holder) * (1 + ROUNDING))


def certified_error(target: ReLUNetwork, network: RandomNetwork, positions, radius) -> float:
    """A rigorous bound on ``sup_{||x||_2 <= radius} ||F(x) - G(x)||_2`` for the pruned
    depth-(l + 1) network ``G`` of :func:`masks`.

    Parameters
    ----------
    target : ReLUNetwork
        ``F`` (biases allowed: the bound runs on ``x̃ = [x, 1]``, of norm at most
        ``r̃ = sqrt(radius^2 + 1)``; ``r̃ = radius`` without biases).
    network : RandomNetwork
        The random network, of the bias-augmented target's widths.
    positions : sequence of ndarray
        Kept positions of ``M_1 .. M_{l+1}`` (:func:`masks`).
    radius : float
        > 0.

    Returns
    -------
    float
        The smaller of ``e_l`` of the recursion below and the chains' bound, rounded outward.

    Raises
    ------
    InvalidParameterError
        If ``radius`` is not positive, or the network's widths are not the augmented target's.

    Notes
    -----
    Notation: ``W_i`` the augmented target's layers, ``h_F^{(i)} = W_i σ(h_F^{(i-1)})`` with
    ``σ(h_F^{(0)})`` read as ``x̃``; ``h_G^{(i)}`` the output of ``M_{i+1}`` (``h_G^{(0)}`` is
    not used); ``lift`` repeats each entry of a vector of layer i once per copy (the rows
    ``c d_i + a`` of :func:`random_network`; the identity for the output layer, which has
    no copies). ``U_i`` is the set of rows of ``M_{i+1}`` read by a kept weight of ``M_{i+2}``
    (every output for ``i = l``); the others have no kept input weights either (:func:`masks`),
    and we let ``e_i = ||(h_G^{(i)} - lift h_F^{(i)})_{U_i}||_2``, the error of the units that
    matter, each copy counted once.

    Layer 1. Every kept unit of ``M_1`` has one input weight, so ``h_G^{(1)} = A σ(x̃) -
    B σ(-x̃)`` (:func:`layer_forms`), and ``lift h_F^{(1)} = W̄ x̃ = W̄ σ(x̃) - W̄ σ(-x̃)`` with
    ``W̄ = lift_rows(W_1)``. The difference is ``Δ_1 [σ(x̃); σ(-x̃)_S]`` with ``Δ_1 =
    [A - W̄, (W̄ - B)_S]`` (:func:`strong_lth.gadgets.error_matrix`; ``S`` the inputs that can be
    negative: not the constant 1), and ``σ(x̃)``, ``σ(-x̃)`` have disjoint supports, so
    ``e_1 <= τ_1 r̃`` with ``τ_1 = ||Δ_1[U_1]||_2``.

    Layer ``i >= 2``. The columns of ``M_{i+1}`` outside ``U_{i-1}`` are zero (definition of
    ``U_{i-1}``), so with ``P`` the projection on ``U_{i-1}``, ``M_{i+1} = M_{i+1} P`` and
    ``M_{i+1} lift(y) = S_i y`` (block row sums, :func:`layer_forms`). Since ``lift`` commutes
    with the entrywise ``σ``,

    ``h_G^{(i)} - lift h_F^{(i)} = M_{i+1} P (σ(h_G^{(i-1)}) - σ(lift h_F^{(i-1)}))
    + (S_i - lift_rows(W_i)) σ(h_F^{(i-1)})``.

    Restricted to the rows ``U_i``: ReLU is 1-Lipschitz entrywise, so the first term has norm
    at most ``||M_{i+1}[U_i]||_2 e_{i-1}``; and ``||σ(h_F^{(i-1)})||_2 <= ||h_F^{(i-1)}||_2
    <= R_{i-1} = r̃ Π_{k<i} ||W_k||_2`` (a vector of layer ``i - 1``, not lifted). Hence

    ``e_i <= ||M_{i+1}[U_i]||_2 e_{i-1} + τ_i R_{i-1}`` with
    ``τ_i = ||(S_i - lift_rows(W_i))[U_i]||_2``,

    and ``sup ||F(x) - G(x)||_2 = sup ||h_G^{(l)} - h_F^{(l)}||_2 <= e_l``. For ``l = 1`` this is
    the Pensia pair's ``τ_1 r̃``.

    Second bound: chains. Write ``d_i = (h_G^{(i)} - lift h_F^{(i)})_{U_i}``. ReLU is monotone
    and 1-Lipschitz, so ``σ(s) - σ(t) = D (s - t)`` entrywise with a diagonal ``D`` of slopes in
    ``[0, 1]`` (depending on x), and ``σ(h) = D' h`` with ``D'`` diagonal 0/1. The identity
    above then reads ``d_1 = Δ_1 z`` with ``z = [σ(x̃); σ(-x̃)_S]``, ``||z||_2 <= ||x̃||_2 <= r̃``,
    and ``d_i = M̄_{i+1} D_{i-1} d_{i-1} + Δ_i D'_{i-1} W_{i-1} ... D'_1 W_1 x̃`` for ``i >= 2``,
    with ``M̄_{i+1} = M_{i+1}[U_i, U_{i-1}]`` (the other columns of those rows are zero) and
    ``Δ_i = (S_i - lift_rows(W_i))[U_i]``. Unrolled,

    ``d_l = Σ_i M̄_{l+1} D ... M̄_{i+2} D Δ_i D' W_{i-1} ... D' W_1 v_i``,

    ``v_1 = z``, ``v_i = x̃`` otherwise: every summand is a product of fixed matrices with an
    unknown diagonal in ``[0, I]`` between consecutive factors, applied to a vector of norm at
    most ``r̃``. So ``||d_l||_2 <= r̃ Σ_i sup_D ||chain_i(D)||_2``, and each supremum is at most
    :func:`strong_lth.chain.chain_norm` of the chain ``[M̄_{l+1}, ..., M̄_{i+2}, Δ_i, W_{i-1},
    ..., W_1]`` (proof there: ``D = ½ (I + Σ)``, ``|Σ| <= I``, and diagonal scalings commute
    with ``Σ``), moved out by ``ROUNDING (value + S)`` as :func:`strong_lth.chain.chain_bound`
    does. ``Δ_i`` is a float64 matrix ``Δ̂_i = Δ_i + E_i``; by linearity the chain of ``Δ_i``
    is at most that of ``Δ̂_i`` plus ``||E_i||_2`` times the norms of the other factors
    (:func:`spectral_upper`), with ``||E_i||_2 <= ROUNDING`` times the Frobenius norm of the
    summed magnitudes. The certificate is the smaller of the two bounds (both hold); half of
    each product is the plain product ``M̄ Δ``, far smaller than ``||M̄|| ||Δ||`` for an
    error matrix independent of the random layer above, so the chains are usually the
    tighter (2.5x on a 64-32-10 ticket).

    Floating point: ``A``, ``B``, ``S_i`` are float64 sums, within ``ROUNDING`` times the sums of
    their terms' magnitudes of the exact ones, so each ``τ_i`` adds ``ROUNDING`` times the
    Frobenius norm of those magnitudes; spectral norms are bounded by :func:`spectral_upper`;
    every step of the recursion is multiplied by ``1 + ROUNDING``.

    Examples
    --------
    >>> target = ReLUNetwork.random((3, 4, 2), rng=0)
    >>> g = random_network(seed=1, widths=target.widths, values_per_input=(40, 12))
    >>> keeps = [choose(w, g, i)[0] for i, w in enumerate(target.weights, start=1)]
    >>> bound = certified_error(target, g, masks(keeps), radius=1.0)
    >>> bool(0.0 < bound < 0.01)
    True
    """
    return certificate_parts(target, network, positions, radius).certified


@dataclass(frozen=True, eq=False)
class Parts:
    """The figures of :func:`certified_error`, per target layer (what a report prints).

    Attributes
    ----------
    certified : float
        ``e_l``.
    tau : ndarray, shape (l,)
        ``τ_i`` of the recursion (rounded outward), over the copies read above.
    max_weight_error, median_weight_error : ndarray, shape (l,)
        Over the entries of ``Δ_1`` and of ``(S_i - lift_rows(W_i))[U_i]``.
    norms : list of float
        ``||M_{i+1}[U_i]||_2`` (rounded outward) for ``i = 2..l``.
    spectral, chain : float
        The two bounds of :func:`certified_error`; ``certified`` is the smaller.
    gains : ndarray, shape (l,)
        Per target layer, the chain's bound over the spectral recursion's term ``τ_i
        Π_{k<i} ||W_k||_2 Π_{k>i} ||M_{k+1}[U_k]||_2`` (both without ``r̃``): how much less of
        ``eps`` the layer's error takes in the second bound.
    """

    certified: float
    tau: np.ndarray
    max_weight_error: np.ndarray
    median_weight_error: np.ndarray
    norms: list
    spectral: float
    chain: float
    gains: np.ndarray


def certificate_parts(target: ReLUNetwork, network, positions, radius) -> Parts:
    """:func:`certified_error` with its per-layer figures (:class:`Parts`); same arguments and
    errors."""
    radius = check_real("radius", radius, low=0.0, low_open=True)
    augmented = target.augmented()
    if tuple(network.widths) != augmented.widths:
        raise InvalidParameterError(
            f"`network` must have the bias-augmented target's widths {augmented.widths}; got "
            f"{tuple(network.widths)}."
        )
    return _recursion(augmented.weights, target.has_bias, network, positions, radius)


def _recursion(weights, input_bias, network, positions, radius) -> Parts:
    """:class:`Parts` of :func:`certified_error` (validated input; ``weights`` the augmented
    target's)."""
    forms = layer_forms(network, positions)
    grow = 1 + ROUNDING
    reach = math.hypot(radius, 1.0) * grow if input_bias else float(radius)
    start = reach
    w1 = lift_rows(weights[0], copies(network, 1))[forms.read[0]]
    a, b = (m[forms.read[0]] for m in forms.first)
    signed = signed_inputs(1, w1.shape[1], input_bias)
    first_terms = abs(forms.matrices[1]) @ abs(forms.matrices[0])
    terms = first_terms.toarray()[forms.read[0]] + np.abs(w1)
    delta = error_matrix(w1, a, b, signed)
    deltas = [(delta, _rounding(np.hstack([terms, terms[:, signed]])))]
    taus = [spectral_upper(delta) + deltas[0][1]]
    error = taus[0] * reach * grow
    norms, above = [], []
    for i in range(2, len(weights) + 1):
        reach *= spectral_upper(weights[i - 2]) * grow
        rows = forms.read[i - 1]
        lifted = lift_rows(weights[i - 1], copies(network, i))[rows]
        magnitudes = (
            abs(forms.matrices[i]) @ _lift(network.widths[i - 1], network.values_per_input[i - 1])
        ).toarray()[rows] + np.abs(lifted)
        delta = forms.sums[i - 2][rows] - lifted
        deltas.append((delta, _rounding(magnitudes)))
        taus.append(spectral_upper(delta) + deltas[-1][1])
        norms.append(spectral_upper(forms.matrices[i][rows]))
        above.append(forms.matrices[i][rows][:, forms.read[i - 2]].toarray())
        error = (norms[-1] * error + taus[-1] * reach) * grow
    terms = _chain_terms(weights, deltas, above, norms)
    chained = start * sum(terms) * grow
    unrolled = [
        tau * math.prod(norms[i:]) * math.prod(spectral_upper(w) for w in weights[:i])
        for i, tau in enumerate(taus)
    ]
    return Parts(
        certified=min(error, chained),
        tau=np.array(taus),
        max_weight_error=np.array([np.abs(d).max(initial=0.0) for d, _ in deltas]),
        median_weight_error=np.array([np.median(np.abs(d)) if d.size else 0.0 for d, _ in deltas]),
        norms=norms,
        spectral=error,
        chain=chained,
        gains=np.array([t / u if u > 0 else 1.0 for t, u in zip(terms, unrolled)]),
    )


def _rounding(terms) -> float:
    """``ROUNDING ||terms||_F``, moved out: a bound on ``||E||_2`` for an error matrix whose
    float64 value differs from the exact one by at most ``ROUNDING |terms|`` entrywise."""
    return ROUNDING * float(np.linalg.norm(terms)) * (1 + ROUNDING)


def _chain_terms(weights, deltas, above, norms) -> list[float]:
    """For every target layer i, the bound on the chain ``[M_{l+1}, ..., M_{i+2}, Δ_i,
    W_{i-1}, ..., W_1]`` (restricted to the read copies) of :func:`certified_error`'s second
    bound, moved out by its rounding."""
    out = []
    for i, (delta, rounding) in enumerate(deltas, start=1):
        factors = [*above[i - 1 :][::-1], delta, *weights[: i - 1][::-1]]
        value, absolute = chain_norm(factors)
        outer = math.prod(norms[i - 1 :]) * math.prod(spectral_upper(w) for w in weights[: i - 1])
        out.append(value + ROUNDING * (value + absolute) + outer * rounding)
    return out


def build(
    target: ReLUNetwork,
    network: RandomNetwork,
    *,
    solver="mitm",
    tol=None,
    fewest=True,
    client=None,
):
    """Fixed mode: the kept positions of ``network`` (its ``values_per_input`` as given).

    Parameters
    ----------
    target : ReLUNetwork
        ``F``; with biases, ``network`` must have the augmented widths and its last input is
        the constant 1 (whose units with ``u < 0`` never fire and are never kept).
    network : RandomNetwork
    solver, tol, fewest
        As in :func:`choose`, for every layer.
    client : distributed.Client, optional
        Solve each layer's rows in blocks on its cluster (:func:`_solve_rows`): the same
        masks, bit for bit (:data:`BLOCKS_PER_THREAD`).

    Returns
    -------
    tuple of ndarray
        :func:`masks` of every layer's :func:`choose`.

    Raises
    ------
    InvalidParameterError
        If ``network`` does not have the augmented target's widths.

    Examples
    --------
    >>> target = ReLUNetwork.random((2, 3, 1), rng=0, bias=True)
    >>> network = random_network(seed=4, widths=(3, 4, 1), values_per_input=(8, 6))
    >>> [len(p) > 0 for p in build(target, network)]
    [True, True, True]
    """
    augmented = target.augmented()
    if tuple(network.widths) != augmented.widths:
        raise InvalidParameterError(
            f"`network` must have the bias-augmented target's widths {augmented.widths}; got "
            f"{tuple(network.widths)}."
        )
    keeps = [
        _solve_rows(
            w,
            network,
            i,
            signed=_signed(i, w, target.has_bias),
            solver=solver,
            tol=tol,
            start=None,
            rows=None,
            fewest=fewest,
            client=client,
        )[0]
        for i, w in enumerate(augmented.weights, start=1)
    ]
    return masks(keeps)


def _signed(layer, weights, input_bias):
    return signed_inputs(layer, weights.shape[1], input_bias and layer == 1)


START = 8
"""Automatic mode (:func:`search`) tries ``n_i = 8`` first for every layer."""

SAFETY = 1e-9
""":func:`search` aims at ``eps (1 - SAFETY)``, as :data:`strong_lth._approximate.SAFETY`."""

TOL_FACTOR = 1.5
"""In :func:`search`, an instance of layer i may stop within ``t = goal_i / (1.5 (sqrt(rows_i)
+ sqrt(2 d_{i-1})))`` of its weight. Errors stopped at the first subset within ``t`` are about
uniform on ``[-t, t]``, and a matrix of such i.i.d. entries has norm about ``t / √3`` times
the sum of the square roots of its sides: these errors take about ``1 / (1.5 √3) = 0.38`` of
the goal, the rest is left to the instances that exhaust their pool. Measured on 128-64-10 at
ε = 0.01 against 4 (the pair constructions' factor): same n (59/15), 17% less CPU, 8% fewer
kept weights (a looser stop needs fewer values); at 0.5 the stops alone exceed the goal."""

SAMPLE_INSTANCES = 1 << 16
"""In :func:`search`, a layer with more instances than about this many is first bisected on
its first rows only (about this many instances: 41 of the 8000 rows of a 784-input first layer
at 16 copies), which predict its τ (:meth:`_Layer.estimate`); the whole layer is then solved at
the n found, one more value at a time until it meets its goal. Without it, every n of the
bisection solved every instance of the layer."""

MIN_GAIN = 0.1
""":func:`search` relaxes a layer's share of ``eps`` by the gain of the chains measured on the
previous ticket (:attr:`Parts.gains`), by at most this factor: the gain is measured, not
proven, at the next n (a round whose ticket fails is followed by another)."""

MAX_ROUNDS = 8
""":func:`search` re-splits ``eps`` at most this many times with the norms it measured."""

SLOPES = (0.45, 0.9)
"""Initial guesses of the bits of precision one more value per input buys: about half a bit on
layer 1 (a value joins one of two sign pools of products), about one on later layers (one
pool of plain uniform weights). Only steer the search, which replaces them by measured ones."""


class _Layer:
    """One target layer of the search: τ at any ``(n_i, copies)``, solved once and cached.

    ``τ_i = ||Δ_i||_2`` over all copies (a rigorous upper bound on the certificate's ``τ_i``,
    which keeps only the copies read above)."""

    def __init__(self, index, weights, signed, base, solver, max_bytes, fewest=True, client=None):
        self.index, self.weights, self.signed = index, weights, signed
        self.base, self.solver, self.max_bytes, self.fewest = base, solver, max_bytes, fewest
        self.client = client  # a distributed.Client that solves the rows in blocks, or None
        self.cache = {}  # (n, copies) -> (tau, packed keep, tol)
        self.sampled = {}  # (n, rows) -> (error matrix of the sample, packed keep, tol)
        self.least = math.inf  # least τ (or estimate) seen by smallest
        self.tol = None  # the tolerance of the latest goal
        self.slope = SLOPES[index > 1]

    def network(self, n, copies):
        values = [1] * len(self.base.values_per_input)
        values[self.index - 1] = n
        if self.index < len(values):
            values[self.index] = copies
        return self.base.with_values_per_input(tuple(values))

    def tau(self, n, copies, tol):
        hit = self._cached(n, copies)
        if hit is None or hit[2] > tol:
            d_out, d_in = self.weights.shape
            need = BYTES_PER_POSITION * d_out * copies * d_in * n
            check_bytes(need, self.max_bytes, f"layer {self.index} at n = {n}, {copies} copies")
            start = self._start(n, copies, tol) if hit is None else self._unpack(hit[1], n)
            delta, packed = self._solve(n, copies, tol, start)
            self.cache[(n, copies)] = hit = (spectral_upper(delta), packed, tol)
        return hit[0]

    def _solve(self, n, copies, tol, start, rows=None):
        """``(Δ, packed keep)`` of the first ``rows`` rows (all by default) of this layer at
        ``(n, copies)``, solved by :func:`choose` from the warm start ``start`` (on the
        cluster of :attr:`client` if any: :func:`_solve_rows`)."""
        keep, sums = _solve_rows(
            self.weights,
            self.network(n, copies),
            self.index,
            signed=self.signed,
            solver=self.solver,
            tol=tol,
            start=start,
            rows=rows,
            fewest=self.fewest,
            client=self.client,
        )
        lifted = lift_rows(self.weights, copies)[:rows]
        return error_matrix(lifted, sums[0], sums[1], self.signed), np.packbits(keep, axis=2)

    def _cached(self, n, copies):
        """The entry at ``(n, copies)``, or the rows of one with more copies (the instances of a
        copy do not depend on how many there are; its τ is then recomputed lazily by
        :meth:`tau` only if needed, so the figure returned for a slice is that of the
        larger entry, an upper bound: τ of a subset of rows is at most τ of all)."""
        if (n, copies) in self.cache:
            return self.cache[(n, copies)]
        more = [c for m, c in self.cache if m == n and c > copies]
        if not more:
            return None
        tau, packed, tol = self.cache[(n, min(more))]
        return tau, packed[: self.weights.shape[0] * copies], tol

    def _start(self, n, copies, tol):
        """Warm start at ``(n, copies)``: the subsets of the nearest evaluated ``n' < n`` (else
        the nearest larger) at no fewer copies; instances within ``tol`` there keep their
        subset unsolved (:func:`choose` checks each against ``tol``)."""
        usable = sorted({m for m, c in self.cache if c >= copies})
        if not usable:
            return None
        smaller = [m for m in usable if m < n]
        m = smaller[-1] if smaller else usable[0]
        return self._unpack(self._cached(m, copies)[1], m)

    @staticmethod
    def _unpack(packed, n):
        return np.unpackbits(packed, axis=2, count=n).astype(bool)

    def keep(self, n, copies):
        return self._unpack(self._cached(n, copies)[1], n)

    def sample_rows(self, copies):
        """Rows of the sample :meth:`estimate` solves: about :data:`SAMPLE_INSTANCES`
        instances, at most all ``d_i copies`` rows."""
        d_out, d_in = self.weights.shape
        per_row = d_in + int(np.count_nonzero(self.signed))
        return min(d_out * copies, max(1, SAMPLE_INSTANCES // per_row))

    def estimate(self, n, copies, tol):
        """τ of all ``R = d_i copies`` rows at ``(n, copies)``, predicted from the first
        ``r`` = :meth:`sample_rows` rows ``Δ_r`` (exact, :meth:`tau`, if ``r = R``):
        ``max(||Δ_r||_2 (√R + √c) / (√r + √c), max_j ||Δ_r[:, j]||_2 √(R / r))`` over ``c``
        columns, the growth of the norm of a matrix of i.i.d. entries and of its largest
        column. A prediction only: the search verifies its choice with :meth:`tau`."""
        rows, total = self.sample_rows(copies), self.weights.shape[0] * copies
        if rows == total:
            return self.tau(n, copies, tol)
        hit = self.sampled.get((n, rows))
        if hit is None or hit[2] > tol:
            done = sorted(m for m, r in self.sampled if r == rows and m < n)
            start = self._unpack(self.sampled[(done[-1], rows)][1], done[-1]) if done else None
            delta, packed = self._solve(n, copies, tol, start, rows)
            self.sampled[(n, rows)] = hit = (delta, packed, tol)
        delta = hit[0]
        side = math.sqrt(delta.shape[1])
        spread = np.linalg.norm(delta, 2) * (math.sqrt(total) + side) / (math.sqrt(rows) + side)
        column = np.linalg.norm(delta, axis=0).max(initial=0.0) * math.sqrt(total / rows)
        return float(max(spread, column))

    def smallest(self, goal, copies, tol, start, limit):
        """Smallest n (bisection over nested networks) with ``τ <= goal``, or None past
        ``limit``: first on the sample's :meth:`estimate` if the layer has more rows than the
        sample, then with :meth:`tau` upwards from the n found (whose predecessor the sample
        saw fail)."""
        failing = 0
        if self.sample_rows(copies) < self.weights.shape[0] * copies:
            start = _smallest(
                self._seen(self.estimate, copies, tol), goal, 0, start, limit, self.slope
            )
            if start is None:
                return None
            failing = start - 1
        return _smallest(self._seen(self.tau, copies, tol), goal, failing, start, limit, self.slope)

    def _seen(self, tau, copies, tol):
        """``n -> tau(n, copies, tol)``, keeping the least value in :attr:`least` (what a
        refusal reports)."""

        def at(n):
            value = tau(n, copies, tol)
            self.least = min(self.least, value)
            return value

        return at


def _smallest(tau, goal, failing, n, limit, slope):
    """Smallest ``n > failing`` with ``tau(n) <= goal`` from ``n`` on, or None past ``limit``:
    steps up by the decay fitted to the points seen (``slope`` bits per value before two are
    seen), by at most half, then bisects."""
    seen, passing = {}, None
    while passing is None:
        if n > limit:
            return None
        seen[n] = tau(n)
        if seen[n] <= goal:
            passing = n
        else:
            failing = n
            n = min(max(n + 1, _predict(seen, goal, n, slope)), n + max(4, n // 2))
    while passing - failing > 1:
        middle = (failing + passing) // 2
        failing, passing = (failing, middle) if tau(middle) <= goal else (middle, passing)
    return passing


def _predict(seen, goal, n, slope):
    """The n at which the decay of ``log2 τ`` fitted to ``seen`` (``{n: τ}``) reaches ``goal``."""
    ns = sorted(seen)
    logs = [math.log2(max(seen[m], 1e-300)) for m in ns]
    if len(ns) >= 2:
        fitted = -np.polyfit(ns, logs, 1)[0]
        slope = fitted if fitted > 0.05 else slope
    gap = math.log2(max(seen[n], 1e-300)) - math.log2(max(goal, 1e-300))
    return n + max(1, math.ceil(gap / slope))


def search(
    target: ReLUNetwork,
    base: RandomNetwork,
    eps: float,
    *,
    radius: float = 1.0,
    solver: str = "mitm",
    fewest: bool = True,
    max_values_per_input: int = 512,
    max_bytes: int = 2**32,
    client=None,
):
    """Automatic mode: values per input ``n_i`` whose ticket's certificate is at most ``eps``.

    Parameters
    ----------
    target : ReLUNetwork
        ``F`` (biases allowed).
    base : RandomNetwork
        Seed, distribution and source density of the random network, with the augmented
        target's widths (its own ``values_per_input`` are ignored).
    eps : float
        > 0: the certified error :func:`certified_error` to reach over ``||x||_2 <= radius``.
    radius : float
        > 0.
    solver, fewest
        As in :func:`choose`.
    max_values_per_input : int
        Largest ``n_i`` tried.
    max_bytes : int
        Refuse, before solving it, any layer whose solve at the ``n`` and copies the search
        tries is estimated above this (:data:`BYTES_PER_POSITION` per random weight).
    client : distributed.Client, optional
        As in :func:`build`: every solve of the search in blocks of rows on its cluster, the
        same ticket bit for bit.

    Returns
    -------
    network : RandomNetwork
        ``base`` at the chosen ``n_i``.
    positions : tuple of ndarray
        The ticket's :func:`masks`.
    certified : float
        Its :func:`certified_error`, at most ``eps``.

    Raises
    ------
    InvalidParameterError
        If an argument is invalid, or a layer needs more than ``max_values_per_input`` values
        per input (or no ``n`` the search tries reaches its share of ``eps``).

    Notes
    -----
    The certificate is ``e_l = Σ_i τ_i R_{i-1} Π_{k>i} N_k`` up to rounding (unrolling the
    recursion of :func:`certified_error`, with ``N_k = ||M_{k+1}[U_k]||_2``). Each term gets
    the share ``eps / l``: layer i's goal is ``τ_i <= eps / (l R_{i-1} Π_{k>i} N_k g_i)``, with
    ``g_i`` the gain of the chains over that term on the previous ticket (:attr:`Parts.gains`,
    at least :data:`MIN_GAIN`; the certificate is the smaller of the two bounds), reached
    by the smallest ``n_i`` a bisection over the nested networks finds, from the top layer down
    (layer i's copies are ``n_{i+1}``, just chosen). The norms ``N_k`` are those measured on the
    previous round's ticket (at first on the ticket with ``n_i = 8``), scaled by the square
    root of the growth of the matrix's larger side; rounds repeat until the certificate is met,
    at most :data:`MAX_ROUNDS` times. A layer of more than :data:`SAMPLE_INSTANCES` instances
    is bisected on a sample of its rows, and solved whole only from the n the sample predicts
    up to the first that meets its goal. Finally each ``n_i`` is lowered while the whole
    ticket's certificate stays within ``eps`` (:func:`_trim`). Each layer's solves are cached
    and warm-started from the nearest n solved before, so that every instance is solved
    again only where its earlier subset misses the tolerance.
    """
    eps = check_real("eps", eps, low=0.0, low_open=True)
    radius = check_real("radius", radius, low=0.0, low_open=True)
    cap = check_int("max_values_per_input", max_values_per_input, low=1)
    max_bytes = check_int("max_bytes", max_bytes, low=1)
    augmented = target.augmented()
    if tuple(base.widths) != augmented.widths:
        raise InvalidParameterError(
            f"`base` must have the bias-augmented target's widths {augmented.widths}; got "
            f"{tuple(base.widths)}."
        )
    weights, widths, n_layers = augmented.weights, augmented.widths, augmented.depth
    aim = eps * (1 - SAFETY)
    reach = (math.hypot(radius, 1.0) if target.has_bias else radius) * np.concatenate(
        [[1.0], np.cumprod([spectral_upper(w) for w in weights])[:-1]]
    )
    layers = [
        _Layer(i, w, _signed(i, w, target.has_bias), base, solver, max_bytes, fewest, client)
        for i, w in enumerate(weights, start=1)
    ]
    chosen = [min(START, cap)] * n_layers
    network = base.with_values_per_input(tuple(chosen))
    check_bytes(solve_bytes(widths, chosen), max_bytes, f"at its first n = {chosen}")
    positions = build(target, network, solver=solver, tol=None, client=client)
    parts = _recursion(weights, target.has_bias, network, positions, radius)
    certified, norms, gains = parts.certified, parts.norms, parts.gains
    measured_at = list(chosen)
    if certified <= aim:
        return network, positions, certified
    for _ in range(MAX_ROUNDS):
        for i in range(n_layers, 0, -1):
            copies = chosen[i] if i < n_layers else 1
            after = math.prod(
                _scaled(norms[k - 2], widths, measured_at, chosen, k)
                for k in range(i + 1, n_layers + 1)
            )
            if after == 0.0:  # the ticket's later layers keep nothing yet: their target's norms
                after = math.prod(spectral_upper(w) for w in weights[i:]) or 1.0
            gain = min(1.0, max(MIN_GAIN, gains[i - 1]))
            goal = aim / (n_layers * reach[i - 1] * after * gain)
            rows = widths[i] * copies
            tol = goal / (TOL_FACTOR * (math.sqrt(rows) + math.sqrt(2 * widths[i - 1])))
            layers[i - 1].tol = tol
            found = layers[i - 1].smallest(goal, copies, tol, chosen[i - 1], cap)
            if found is None:
                raise InvalidParameterError(
                    f"`max_values_per_input` must be raised to reach eps = {eps:g}: layer {i} "
                    f"still errs by τ = {layers[i - 1].least:.3e} "
                    f"above its share {goal:.3e} at every n up to {cap}; got {cap}."
                )
            chosen[i - 1] = found
        network, positions, parts = _ticket(target, base, layers, chosen, radius)
        certified, norms, gains = parts.certified, parts.norms, parts.gains
        measured_at = list(chosen)
        if certified <= aim:
            return _trim(target, base, layers, chosen, aim, radius)
    raise InvalidParameterError(
        f"`eps` = {eps:g} was not certified after {MAX_ROUNDS} rounds (the last ticket, n = "
        f"{'/'.join(map(str, chosen))}, certifies {certified:.3e}): raise `eps`."
    )


def _ticket(target, base, layers, chosen, radius):
    """``(network, positions, parts)`` of the ticket at ``chosen`` from the layers' cached
    subsets (each layer solved at its last tolerance if not cached); ``parts`` its
    :class:`Parts`."""
    n_layers = len(chosen)
    keeps = []
    for i, (layer, n) in enumerate(zip(layers, chosen), start=1):
        copies = chosen[i] if i < n_layers else 1
        layer.tau(n, copies, layer.tol)
        keeps.append(layer.keep(n, copies))
    network = base.with_values_per_input(tuple(chosen))
    positions = masks(keeps)
    weights = target.augmented().weights
    return network, positions, _recursion(weights, target.has_bias, network, positions, radius)


def _trim(target, base, layers, chosen, aim, radius):
    """Lower each ``n_i`` (the layer with most instances first) while the certificate stays at
    most ``aim``: the shares of ``eps`` are met with slack, since ``n`` moves in whole values.
    Steps down by 1, 2, 4, ... values until the certificate fails, then bisects: the search's
    choice is usually a value or two above the least, where a bisection from 0 would solve the
    widest layer at several small n for nothing."""
    order = np.argsort(
        [-layer.weights.size * (c if c else 1) for layer, c in zip(layers, [*chosen[1:], 1])]
    )

    def certified(k, n):
        trial = [*chosen[:k], n, *chosen[k + 1 :]]
        network, positions, parts = _ticket(target, base, layers, trial, radius)
        return network, positions, parts.certified

    best = certified(0, chosen[0])

    for k in order:
        failing, step = 0, 1
        while chosen[k] - step > failing:
            found = certified(k, chosen[k] - step)
            if found[2] > aim:
                failing = chosen[k] - step
                break
            chosen[k], best, step = chosen[k] - step, found, 2 * step
        while chosen[k] - failing > 1:
            middle = (failing + chosen[k]) // 2
            found = certified(k, middle)
            if found[2] > aim:
                failing = middle
            else:
                chosen[k], best = middle, found
    return best


def _scaled(norm, widths, measured_at, now, k):
    """``N_k`` measured at ``measured_at``, scaled to ``now`` by the square root of the growth
    of the larger side of ``M_{k+1}`` (rows ``d_k n_{k+1}``, columns ``d_{k-1} n_k``)."""

    def side(n):
        rows = widths[k] * (n[k] if k < len(n) else 1)
        return max(rows, widths[k - 1] * n[k - 1])

    return norm * math.sqrt(max(1.0, side(now) / side(measured_at)))


def solve(
    target,
    network,
    *,
    eps,
    values_per_input,
    radius,
    solver,
    fewest,
    max_values_per_input,
    max_bytes,
    client=None,
):
    """The whole ticket, in either mode of :func:`strong_lth.approximate`: its ``n_i`` and masks.

    Parameters
    ----------
    target : ReLUNetwork
    network : RandomNetwork
        Seed, distribution and source density, with the augmented target's widths and the
        shapes of :func:`shapes` (its ``values_per_input`` are ignored).
    eps : float or None
        Automatic mode (:func:`search`).
    values_per_input : sequence of int or None
        Fixed mode (:func:`build`), one ``n_i`` per target layer, validated by the caller.
    radius, solver, fewest, max_values_per_input, max_bytes
        As in :func:`search`; fixed mode refuses a ticket whose :func:`solve_bytes` exceeds
        ``max_bytes`` before solving anything.
    client : distributed.Client, optional
        Solve every layer's rows in blocks on its cluster (``approximate(scheduler=)``): the
        ticket of this process, bit for bit (:func:`build`).

    Returns
    -------
    values_per_input : tuple of int
    positions : tuple of ndarray
        :func:`masks`.

    Notes
    -----
    The layers of this construction are not independent: the instances of layer i are those
    of its ``d_i n_{i+1}`` copies, and its certificate multiplies the errors below by the norms
    of the kept matrices above. So it solves its network as a whole, where the pair
    constructions search each layer alone; the rows of each layer's solves, though, are
    independent, and that is what a ``client`` distributes.
    """
    if eps is None:
        sized = network.with_values_per_input(tuple(values_per_input))
        need = solve_bytes(sized.widths, sized.values_per_input)
        check_bytes(need, max_bytes, f"at n = {list(sized.values_per_input)}")
        return sized.values_per_input, build(target, sized, solver=solver, client=client)
    found, positions, _ = search(
        target,
        network,
        eps,
        radius=radius,
        solver=solver,
        fewest=fewest,
        max_values_per_input=max_values_per_input,
        max_bytes=max_bytes,
        client=client,
    )
    return found.values_per_input, positions


def width_bound(d_in, d_out, depth, eps, delta, *, C=1.0):
    r"""Hidden width of random layer ``i`` (``d_{i-1}`` neurons, ``n_i`` copies each) of the
    logarithmic order [B] proves for ReLU targets.

    Parameters
    ----------
    d_in, d_out, depth, eps, delta, C
        As in :func:`strong_lth.bounds.pensia_width`.

    Returns
    -------
    float or ndarray
        :math:`C\, d_{i-1} \ln(d_{i-1} d_i l / \min(\varepsilon, \delta))`.

    Notes
    -----
    [B] (ReLU case) needs ``n = O(log(...))`` copies of every neuron, the
    logarithmic factor of [P] Theorem 1 with its own unspecified constant, at depth ``l + 1``
    instead of ``2l``; this is that order, written as :func:`strong_lth.bounds.pensia_width`
    writes it, with ``C`` the constant.

    Examples
    --------
    >>> round(float(width_bound(2, 5, 1, 0.1, 0.01)), 6)
    13.815511
    """
    return bounds.pensia_width(d_in, d_out, depth, eps, delta, C=C)
