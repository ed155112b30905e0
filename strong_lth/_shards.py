"""Solve one target layer in shards of output rows, in this process or on a Dask cluster.

Row ``r`` of a target layer is approximated from row ``r`` of ``M_{2i}`` and the shared
``M_{2i-1}`` gadget weights alone, and every random weight is a pure function of
``(seed, layer, row, col)`` (:class:`~strong_lth.random_network.RandomNetwork`). So a shard of
rows is solved by regenerating just those rows from the seed (:class:`RowBlock`) and running the
layer's construction on them (:func:`solve_shard`): it needs the target rows, not the random
network, and returns packed masks and subset sums. :func:`solve_layer` cuts a layer into shards
(:func:`shard_rows`), solves them one after the other or on a cluster, and assembles them.

The answers do not depend on the cut: every instance ``(sign, r, j)`` is solved alone, its pool
the same bits whichever shard regenerates it, and the exact solvers' answers do not depend on the
batch around them. (A randomized solver, ``"local"``, draws one seed per instance by its position
in the batch; its tickets depend on the cut, which is a function of the layer's shape, ``n`` and
``max_bytes`` only, the same in this process and on any cluster.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._search import solve_bytes
from .constructions import CONSTRUCTIONS
from .gadgets import gadget_masks
from .random_network import RandomNetwork
from .subset_sum import Status

__all__ = [
    "KEPT_BYTES_PER_VALUE",
    "RESIDENT_BYTES",
    "SHARD_BYTES",
    "RowBlock",
    "largest_fitting",
    "layer_masks",
    "least_bytes",
    "shard_rows",
    "solve_layer",
    "solve_shard",
]

RESIDENT_BYTES = 64
"""Estimated bytes per target weight that a layer solved in shards keeps whole on the driver
whatever the shard: the assembled sums ``A``, ``B`` (16), the error matrix ``Δ`` (16), the copy
and work space of its spectral norm (about 32)."""

KEPT_BYTES_PER_VALUE = 12
"""Estimated bytes per target weight and value per input that a layer solved in shards keeps
whole on the driver: the ticket's kept positions of ``M_{2i}`` (two int64 per kept weight, and
0.38 to 0.47 of the values kept on 400-400-10 at n = 16 and 32: about 8), the packed masks of the
n the search evaluates (about 1) and margin; :func:`layer_masks` unpacks a block of rows at a
time. Certifying the ticket afterwards (:func:`strong_lth.certify`) needs more, which this does
not count: about 26 bytes per weight and value measured there."""

MASK_BLOCK = 2**22
"""Values ``keep[r, j, k]`` unpacked at a time by :func:`layer_masks` (4 MiB of bools)."""

_ONES = np.array([bin(byte).count("1") for byte in range(256)], np.int64)
"""Set bits per byte value: kept weights counted on the packed masks."""

SHARD_BYTES = 2**28
"""Largest estimated solve of one shard (256 MiB, :func:`~strong_lth._search.solve_bytes`): a
layer whose solve fits is solved in one piece, as without shards; a larger one in shards of as
many rows as fit, which a cluster's workers share."""


def _sharded_bytes(d_out: int, d_in: int, n: int, rows: int) -> int:
    """Estimated bytes of a layer solved in shards of ``rows`` rows: what the driver keeps whole
    (:data:`RESIDENT_BYTES`, :data:`KEPT_BYTES_PER_VALUE`) and one shard's solve."""
    kept = (RESIDENT_BYTES + KEPT_BYTES_PER_VALUE * n) * d_out * d_in
    return kept + solve_bytes(rows, d_in, n)


def least_bytes(d_out: int, d_in: int, n: int) -> int:
    """The least estimated bytes that solving a ``d_out x d_in`` target layer at ``n`` values per
    input can take: in one piece (:func:`~strong_lth._search.solve_bytes`) or in shards of one
    row, whichever is less. ``approximate(max_bytes=)`` refuses a layer above it."""
    return min(solve_bytes(d_out, d_in, n), _sharded_bytes(d_out, d_in, n, 1))


def largest_fitting(d_out: int, d_in: int, max_bytes: int) -> int:
    """The largest n at which :func:`least_bytes` of a ``d_out x d_in`` layer fits ``max_bytes``
    (0 if none): both estimates grow linearly in n."""
    whole = max_bytes // solve_bytes(d_out, d_in, 1)
    fixed = RESIDENT_BYTES * d_out * d_in
    per_value = KEPT_BYTES_PER_VALUE * d_out * d_in + solve_bytes(1, d_in, 1)
    return max(whole, (max_bytes - fixed) // per_value if max_bytes >= fixed else 0)


def shard_rows(d_out: int, d_in: int, n: int, max_bytes: int) -> int:
    """Rows per shard of a ``d_out x d_in`` target layer at ``n`` values per input.

    ``d_out`` (one piece, no shards) when the whole solve fits both :data:`SHARD_BYTES` and
    ``max_bytes``; otherwise the most rows whose solve fits :data:`SHARD_BYTES` and, beside what
    the driver keeps whole, ``max_bytes``; at least one row (:func:`least_bytes` is checked by
    the caller).

    Examples
    --------
    >>> shard_rows(300, 200, 16, 2**32)
    300
    >>> shard_rows(4096, 4096, 40, 2**34)
    25
    """
    per_row = solve_bytes(1, d_in, n)
    if solve_bytes(d_out, d_in, n) <= min(SHARD_BYTES, max_bytes):
        return d_out
    spare = max_bytes - _sharded_bytes(d_out, d_in, n, 0)
    return int(max(1, min(SHARD_BYTES, spare) // per_row))


@dataclass(frozen=True)
class RowBlock:
    """The rows ``lo .. hi - 1`` of target layer ``i`` of a random network, regenerated from the
    seed: what a construction reads of them (:meth:`gadget_weights`).

    Stands for the network in a construction's ``choose(weights[lo:hi], block, i, ...)``, which
    reads only :meth:`gadget_weights`.
    """

    network: RandomNetwork
    lo: int
    hi: int

    def gadget_weights(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """``u`` (d_in, n) and the rows ``v[lo:hi]`` (hi - lo, d_in, n) of
        :meth:`RandomNetwork.gadget_weights`, from the same positions, so the same bits."""
        d_in = self.network.widths[i - 1]
        inputs = np.arange(d_in)[:, None]
        units = np.arange(self.network.values_per_input[i - 1])[None, :] * d_in + inputs
        u = self.network.entries(2 * i - 1, units, inputs)
        rows = np.arange(self.lo, self.hi)[:, None, None]
        return u, self.network.entries(2 * i, rows, units[None])


def solve_shard(
    weights,
    block: RowBlock,
    layer,
    signed,
    construction,
    solver,
    tol,
    size,
    start,
    start_n,
    max_size=None,
    fewest=True,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Solve the rows of ``block`` (target rows ``weights``) by the construction.

    Parameters
    ----------
    weights : ndarray, shape (rows, d_in)
        The target rows ``W_i[lo:hi]``.
    block : RowBlock
        The same rows of the random network.
    layer, signed, construction, solver, tol, size
        As in the construction's ``choose`` (:data:`strong_lth.constructions.CONSTRUCTIONS`).
    start : ndarray of uint8, optional
        The rows of an earlier packed ``keep`` (``np.packbits(keep, axis=2)``) at ``start_n``
        values per input: the warm start.
    start_n : int
        Values per input of ``start``.
    max_size : int, optional
        At most this many values per subset (the construction's ``max_size``).
    fewest : bool, default True
        Keep the subsets with the fewest values within ``tol`` (the construction's
        ``fewest``).

    Returns
    -------
    packed : ndarray of uint8, shape (rows, d_in, ceil(n / 8))
        ``np.packbits(keep, axis=2)`` of these rows.
    sums : ndarray, shape (2, rows, d_in)
        The chosen subsets' sums ``A``, ``B`` of these rows.
    missing : bool
        Whether an instance found no subset (:attr:`Status.NOT_FOUND`: a sign pool with fewer
        than ``size`` values).
    """
    if start is not None:
        start = np.unpackbits(start, axis=2, count=start_n).astype(bool)
    choose = CONSTRUCTIONS[construction].choose
    keep, sums, status = choose(
        weights,
        block,
        layer,
        signed=signed,
        solver=solver,
        tol=tol,
        start=start,
        size=size,
        fewest=fewest,
        max_size=max_size,
    )
    missing = bool(np.any(np.asarray(status) == Status.NOT_FOUND))
    return np.packbits(keep, axis=2), np.asarray(sums), missing


def solve_layer(
    weights,
    network: RandomNetwork,
    layer: int,
    *,
    signed,
    construction: str,
    solver: str,
    tol,
    size=None,
    max_size=None,
    fewest=True,
    start,
    max_bytes: int,
    client=None,
):
    """Solve target layer ``layer`` at the network's n values per input, in shards of rows.

    Parameters
    ----------
    weights : ndarray, shape (d_out, d_in)
        The target layer ``W_i``.
    network : RandomNetwork
        The random network (its ``values_per_input`` give this layer's n).
    layer : int
        Target layer ``i``.
    signed, construction, solver, tol, size
        As in the construction's ``choose``.
    max_size, fewest
        As in :func:`solve_shard`.
    start : tuple (packed keep, n) or None
        Warm start: an earlier answer's packed ``keep`` and its n.
    max_bytes : int
        Memory budget of the call: shards are cut by :func:`shard_rows`.
    client : distributed.Client, optional
        Solve the shards on its cluster (each worker regenerates its rows from the seed; a
        shard lost with its worker is recomputed by Dask), else one after the other here.

    Returns
    -------
    packed : ndarray of uint8, shape (d_out, d_in, ceil(n / 8))
        ``np.packbits(keep, axis=2)`` of the layer's ``keep``.
    a, b : ndarray, shape (d_out, d_in)
        The chosen subsets' sums.
    missing : bool
        Whether an instance found no subset of ``size`` values (:func:`solve_shard`).

    Notes
    -----
    Memory here is bounded by the assembled answer (packed masks and sums, ``d_out d_in
    (n / 8 + 16)`` bytes) beside one shard's solve (:data:`SHARD_BYTES` at most) in this process;
    on a cluster, by the answer alone plus the shards' target rows in flight. The random network
    is never materialized anywhere.
    """
    d_out, d_in = weights.shape
    n = network.values_per_input[layer - 1]
    rows = shard_rows(d_out, d_in, n, max_bytes)
    packed_start, start_n = start if start is not None else (None, 0)
    cuts = [(lo, min(lo + rows, d_out)) for lo in range(0, d_out, rows)]

    def task(lo, hi):
        part = None if packed_start is None else packed_start[lo:hi]
        block = RowBlock(network, lo, hi)
        return (
            weights[lo:hi],
            block,
            layer,
            signed,
            construction,
            solver,
            tol,
            size,
            part,
            start_n,
            max_size,
            fewest,
        )

    packed = np.empty((d_out, d_in, math.ceil(n / 8)), np.uint8)
    sums = np.empty((2, d_out, d_in))
    missing = False
    if client is None:
        for lo, hi in cuts:
            packed[lo:hi], sums[:, lo:hi], short = solve_shard(*task(lo, hi))
            missing |= short
        return packed, sums[0], sums[1], missing
    import distributed

    submitted = [client.submit(solve_shard, *task(lo, hi), pure=False) for lo, hi in cuts]
    where = {future.key: cut for future, cut in zip(submitted, cuts)}
    try:
        for future, (part, part_sums, short) in distributed.as_completed(
            submitted, loop=client.loop, with_results=True
        ):
            lo, hi = where[future.key]
            packed[lo:hi], sums[:, lo:hi] = part, part_sums
            missing |= short
    finally:
        client.cancel(submitted)
    return packed, sums[0], sums[1], missing


def reach_values(weights, network: RandomNetwork, layer: int, signed) -> np.ndarray:
    """Per target weight, the least n at which each of its SubsetSum pools holds a product of
    its sign (``N + 1`` when none up to the network's ``N`` values per input; 1 for a zero).

    Parameters
    ----------
    weights : ndarray, shape (d_out, d_in)
        The target layer ``W_i``.
    network : RandomNetwork
        The random network at ``N`` values per input for this layer.
    layer : int
        Target layer ``i``.
    signed : ndarray of bool, shape (d_in,)
        Inputs that can be negative: only their weights have a ``B`` pool
        (:func:`strong_lth.gadgets.error_matrix`).

    Returns
    -------
    ndarray of int64, shape (d_out, d_in)

    Notes
    -----
    ``A[r, j]`` is a sum of kept products ``v[r, j, k] u[j, k]`` with ``u > 0`` and ``k < n``
    (:func:`strong_lth.gadgets.gadget_form`), ``B[r, j]`` the same with ``u < 0``. Below its
    reach n a pool holds no product of the sign of ``W[r, j]``, so every subset sums to 0 or
    to the opposite sign and ``|Δ[r, j]| >= |W[r, j]|``: :func:`reach_floor` turns this into a
    lower bound of ``τ``. Regenerated a block of rows at a time (:class:`RowBlock`).
    """
    d_out, d_in = weights.shape
    most = network.values_per_input[layer - 1]
    step = max(1, MASK_BLOCK // max(1, d_in * most))
    reach = np.empty((d_out, d_in), np.int64)
    for lo in range(0, d_out, step):
        hi = min(lo + step, d_out)
        u, v = RowBlock(network, lo, hi).gadget_weights(layer)
        sign = np.sign(weights[lo:hi])[:, :, None]
        right = np.sign(v * u) == sign  # (rows, d_in, N): the product has the weight's sign
        pools = [right & (u > 0), right & (u < 0) & signed[:, None]]
        first = [np.where(p.any(axis=2), p.argmax(axis=2) + 1, most + 1) for p in pools]
        first[1] = np.where(signed, first[1], 1)  # no B pool: nothing to reach
        reach[lo:hi] = np.where(sign[:, :, 0] == 0, 1, np.maximum(*first))
    return reach


def reach_floor(reach: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``floor[n] = max |W[r, j]|`` over the weights whose reach (:func:`reach_values`) is above
    n, for ``n = 0 .. max(reach)``: a rigorous lower bound of the layer's ``τ`` at n values per
    input (0 past the last reach).

    Notes
    -----
    Proof: an entry of ``Δ`` bounds its spectral norm, ``τ >= |Δ[r, j]| >= |W[r, j]|`` for every
    weight whose pool cannot yet reach it (:func:`reach_values`).

    Examples
    --------
    >>> reach_floor(np.array([[1, 3], [2, 1]]), np.array([[0.5, -0.2], [0.3, 0.1]]))
    array([0.5, 0.3, 0.2, 0. ])
    """
    levels = np.zeros(int(reach.max(initial=0)) + 2)
    np.maximum.at(levels, reach.ravel(), np.abs(weights).ravel())
    return np.maximum.accumulate(levels[::-1])[::-1][1:]


def layer_sums(packed: np.ndarray, network: RandomNetwork, layer: int, n: int):
    """``(A, B)`` of target layer ``layer`` from its packed ``keep`` at ``n`` values per input,
    a block of rows at a time: ``A[r, j] = sum_k keep[r, j, k] v[r, j, k] max(u[j, k], 0)`` and
    ``B`` the same with ``min(u, 0)`` (:func:`strong_lth.gadgets.gadget_form`), over the weights
    ``u``, ``v`` of :meth:`RowBlock.gadget_weights` regenerated from the seed. Equal to the sums
    the construction returned up to the order of the additions.

    Examples
    --------
    >>> network = RandomNetwork(0, (3, 2), 4)
    >>> keep = np.random.default_rng(0).random((2, 3, 4)) < 0.5
    >>> a, b = layer_sums(np.packbits(keep, axis=2), network, 1, 4)
    >>> u, v = RowBlock(network, 0, 2).gadget_weights(1)
    >>> bool(np.allclose(a, (keep * v * np.maximum(u, 0)).sum(axis=2)))
    True
    """
    d_out, d_in = packed.shape[:2]
    step = max(1, MASK_BLOCK // max(1, d_in * n))
    a, b = np.empty((d_out, d_in)), np.empty((d_out, d_in))
    for lo in range(0, d_out, step):
        hi = min(lo + step, d_out)
        u, v = RowBlock(network, lo, hi).gadget_weights(layer)
        kept = np.where(np.unpackbits(packed[lo:hi], axis=2, count=n).astype(bool), v, 0.0)
        a[lo:hi] = np.einsum("rjk,jk->rj", kept, np.maximum(u, 0.0))
        b[lo:hi] = np.einsum("rjk,jk->rj", kept, np.minimum(u, 0.0))
    return a, b


def layer_masks(packed: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`~strong_lth.gadgets.gadget_masks` of the packed ``keep`` of a layer at ``n``
    values per input, bit for bit, one block of rows at a time.

    The kept positions of ``M_{2i}`` are sorted by row first, so those of consecutive blocks of
    rows, each sorted, follow one another; the units of ``M_{2i-1}`` kept by any output are the
    union over blocks. Memory: the masks themselves (counted first on the packed bits, then
    filled) beside one block's temporaries (:data:`MASK_BLOCK` values), where the whole
    ``keep`` would take ``d_out d_in n`` bytes and its temporaries about 30 per value.

    Examples
    --------
    >>> keep = np.random.default_rng(0).random((5, 3, 4)) < 0.5
    >>> mine = layer_masks(np.packbits(keep, axis=2), 4)
    >>> all(np.array_equal(a, b) for a, b in zip(mine, gadget_masks(keep)))
    True
    """
    d_out, d_in = packed.shape[:2]
    step = max(1, MASK_BLOCK // max(1, d_in * n))
    second = np.empty((int(_ONES[packed].sum()), 2), np.int64)
    used = np.zeros((d_in, n), bool)
    filled = 0
    for lo in range(0, d_out, step):
        keep = np.unpackbits(packed[lo : lo + step], axis=2, count=n).astype(bool)
        used |= keep.any(axis=0)
        block = gadget_masks(keep)[1]
        block[:, 0] += lo
        second[filled : filled + len(block)] = block
        filled += len(block)
    first = gadget_masks(used[None])[0]
    first.flags.writeable = second.flags.writeable = False  # final: a Ticket may share them
    return first, second
