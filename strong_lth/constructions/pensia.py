"""Pensia et al. (2020): each target weight is the sum of a random *subset* of products.

[P] Pensia, Rajput, Nagle, Vishwakarma, Papailiopoulos. *Optimal Lottery Tickets via SubsetSum:
Logarithmic Over-Parameterization is Sufficient.* NeurIPS 2020, arXiv:2006.07990.
"""

import numpy as np

from ..subset_sum import METHODS, Status, solve_batch
from ._pools import check_signed, sign_pools

FIRST_PASS_VALUES = 16
"""With a tolerance, instances are first solved on the first 16 values of their pool, then only
those still above the tolerance on 8 more at a time: most instances of a wide layer are done
cheaply, and the exponential cost of large pools is paid only by the few that need them. Not with
``fewest`` (uncapped), which solves whole pools at once: the fewest values of a prefix are more
than those of the whole pool (16 products of uniforms reach 2e-5 with about 7, 22 with about
5.3), and on 784-500-10 at ε = 0.01 most instances left the first pass anyway (12.81x kept and
108.6 CPU s, against 13.72x and 120.0 CPU s with the first pass)."""


def choose(
    weights,
    network,
    layer,
    *,
    signed=None,
    solver="mitm",
    tol=None,
    start=None,
    size=None,
    fewest=True,
    max_size=None,
):
    """Choose, for every target weight, the subsets of its two sign pools closest to it.

    Parameters
    ----------
    weights : ndarray, shape (d_out, d_in)
        Target layer ``W_i`` (bias-augmented if the target has biases).
    network : RandomNetwork
        The random network; only its gadget weights of target layer ``layer`` are read
        (:meth:`~strong_lth.random_network.RandomNetwork.gadget_weights`).
    layer : int
        Target layer ``i`` (1-based): the pair ``M_{2i-1}``, ``M_{2i}`` is pruned.
    signed : ndarray of bool, shape (d_in,), optional
        Which inputs of the pair can be negative (:func:`strong_lth.gadgets.signed_inputs`).
        The negative pool of an unsigned input is never solved: its units never fire, none is
        kept, and ``B[:, j]`` is 0. Default: every input of pair 1, none of a later pair (pass
        ``signed_inputs(1, d_in, True)`` for a target with biases, whose constant input is
        unsigned).
    solver : str
        A :data:`~strong_lth.subset_sum.METHODS` name; the ``2 d_out d_in`` instances of the
        layer go to :func:`~strong_lth.subset_sum.solve_batch` together.
    tol : float, optional
        None: every instance is solved on its whole pool (optimal with an exact solver).
        Otherwise an instance keeps a subset within ``tol`` of its weight: one with the fewest
        values of its whole pool (``fewest``, the default), else any, found on a prefix of its
        pool (see :data:`FIRST_PASS_VALUES`; also with ``max_size``), the rest being solved on
        longer prefixes, up to the whole pool.
    start : ndarray of bool, shape (d_out, d_in, n'), optional
        ``keep`` of an earlier call on the same random network at any n' (with ``tol``): every
        instance whose earlier subset exists here and is within ``tol`` keeps it unsolved. Since
        pools are nested, a search over n re-solves only the instances that still need it.
    size : int, optional
        Every subset has exactly ``size`` values (``solve_batch(size=...)``; Natale et al.
        2024, arXiv:2410.14754). An instance whose pool has fewer values gets no subset and
        status NOT_FOUND; the negative pools of unsigned inputs stay empty (never solved).
    fewest : bool, default True
        With ``tol`` and a solver that offers it (``mitm``): each instance keeps a subset with
        the *fewest* values within ``tol``, rather than the first subset the unconstrained scan
        finds within ``tol``, so the ticket keeps fewer weights at the same tolerance. Ignored
        without ``tol`` (the exact optimum) or with ``size``.
    max_size : int, optional
        With ``fewest``: never more than ``max_size`` values per subset; an instance that no
        subset of at most ``max_size`` values brings within ``tol`` keeps the closest of them.

    Returns
    -------
    keep : ndarray of bool, shape (d_out, d_in, n)
        ``keep[r, j, k]``: the weight from unit ``(j, k)`` to output ``r`` is kept.
    sums : ndarray, shape (2, d_out, d_in)
        The chosen subsets' sums, ``A`` then ``B`` (as the solver reported them); 0 for the
        negative pools of unsigned inputs.
    status : ndarray of int8, shape (2, d_out, d_in)
        Solver status per instance (positive pool first), about the values it was given;
        OPTIMAL for the unsolved negative pools of unsigned inputs (the empty pool's only
        subset).

    Notes
    -----
    docs/theory.md, section 3: with ``A[r, j] = sum of the chosen positive-pool products`` and ``B``
    likewise for the negative pool, the pruned pair computes ``h -> A σ(h) - B σ(-h)``, which is
    ``W h`` up to ``Δ = [A - W, W - B]``. Each pool holds about ``n / 2`` products of two
    Uniform[-1, 1] weights; [P] Theorem 1 needs ``n = O(log(d_in d_out l / min(ε, δ)))``.
    Pools above the solver's size limit (``METHODS[solver].limit``: 48 values for ``mitm``, up to
    256 with ``size`` or ``max_size`` of at most 4) use their first values only (a sub-pool).
    On an input ``h_j >= 0``, ``σ(-h_j) = 0``, so ``B[:, j]`` never contributes: only the
    ``d_out d_in`` positive-pool instances of such an input are solved, half those of a signed
    one.
    """
    d_out, d_in = weights.shape
    signed = check_signed(signed, layer, d_in)
    sparse = {}
    if tol is not None and size is None and fewest and "fewest" in METHODS[solver].options:
        sparse = {"fewest": True, "max_size": max_size}
    # subsets of few values (exactly `size`, at most `max_size`) may read longer pools
    most = size if size is not None else sparse.get("max_size")
    pools = sign_pools(*network.gadget_weights(layer), METHODS[solver].limit(most), signed)
    width = pools.values.shape[-1]
    values = pools.values.reshape(2 * d_out * d_in, width)
    targets = np.broadcast_to(weights, (2, d_out, d_in)).reshape(-1)
    lengths = pools.per_instance(pools.lengths).reshape(-1)
    chosen = np.zeros(values.shape, dtype=bool)
    sums = np.zeros(len(targets))
    status = np.full(len(targets), Status.WITHIN_TOLERANCE, dtype=np.int8)
    # an empty pool (no unit of that sign, or an unsigned input's negative pool, whose units
    # cannot fire) has one subset, the empty one: optimal, never sent to the solver
    live = lengths > 0
    status[~live] = Status.OPTIMAL
    if size is not None:
        short = live & (lengths < size)
        status[short] = Status.NOT_FOUND
        live &= ~short
    todo = np.flatnonzero(live)
    if start is not None and tol is not None:
        earlier, carried = pools.from_keep(start)
        earlier = earlier.reshape(values.shape)
        earlier_sums = np.zeros(len(targets))
        for m in range(width):  # column by column: no temporary of the size of ``values``
            earlier_sums += np.where(earlier[:, m], values[:, m], 0.0)
        done = live & carried.reshape(-1) & (np.abs(earlier_sums - targets) <= tol)
        chosen[done], sums[done] = earlier[done], earlier_sums[done]
        todo = np.flatnonzero(live & ~done)
    first = width if tol is None or (sparse and max_size is None) else FIRST_PASS_VALUES
    prefix = min(max(first, size or 0), width)
    while todo.size:
        used = np.minimum(lengths[todo], prefix)
        result = solve_batch(
            values[todo, :prefix],
            targets[todo],
            method=solver,
            lengths=used,
            tol=tol,
            rng=0,
            size=size,
            **sparse,
        )
        chosen[todo] = False
        chosen[todo, :prefix] = result.masks
        sums[todo], status[todo] = result.values, result.status
        if prefix == width:
            break
        todo = todo[(result.errors > tol) & (lengths[todo] > prefix)]
        prefix = min(prefix + 8, width)
    shape = (2, d_out, d_in)
    return pools.selected(chosen.reshape(*shape, width)), sums.reshape(shape), status.reshape(shape)
