"""Exact SubsetSum with a fixed subset size k: meet in the middle by cardinality, with numba.

The closest subset of exactly k of the n values (Natale et al., *On the sparsity of the strong
lottery ticket hypothesis*, NeurIPS 2024, arXiv:2410.14754, fix the density of a ticket this
way). Split the values into halves of ``n1 = n // 2`` and ``n2 = n - n1``. For each half, the
subset sums of each cardinality ``c`` are generated already sorted, grouped by ``c``: adding
value ``v`` makes group ``c`` the merge of the old group ``c`` with the old group ``c - 1`` plus
``v`` (Pascal's rule, ``C(t + 1, c) = C(t, c) + C(t, c - 1)``), so each doubling is linear, as in
:mod:`._mitm`. A subset of size k takes ``k1`` values from the first half and ``k - k1`` from the
second, so the optimum is the best over ``k1`` of the two-pointer scan of group ``k1`` of the
first half against group ``k - k1`` of the second. The groups scanned hold at most ``2^n1`` and
``2^n2`` sums in total, so time and memory are those of the unconstrained solver, ``O(2^(n/2))``.

Subsets of a range of sizes (``solve(..., tol=t, fewest=True)``, ``max_size=K``) take the sizes
``k = low, low + 1, ...`` in turn on the same sorted groups, and stop at the first ``k`` whose
best k-subset is within ``tol``: the fewest values that reach the tolerance, the closest of them.
A cap ``K`` forms only the groups ``c <= K`` (Pascal's rule never needs a larger one), which costs
``sum_{c <= K} C(n / 2, c)`` sums instead of ``2^(n/2)``: small caps stay cheap on long pools.

Group ``c`` of a buffer holds ``C(m, c)`` sums at positions ``off[c] + 1 .. off[c] + C(m, c)``
with ``off[c] = sum_{j < c} C(m, j)``, so ``buf[off[c]:]`` is the group 1-based, the layout the
scan of :mod:`._mitm` reads. Sums add their values in increasing index order, so the chosen sums
are found bit for bit in the doubling table, among the subsets with the right number of values.
"""

import numpy as np
from numba import prange

from .._config import batch, kernel
from ._chunks import chunk_range, longest
from ._mitm import allocate, closest_pair, recover_mask


@kernel
def _offsets(counts, m, offsets):
    """``offsets[c] = sum_{j < c} counts[j]`` for ``c`` in ``[0, m + 1]``."""
    offsets[0] = 0
    for c in range(m + 1):
        offsets[c + 1] = offsets[c] + counts[c]


@kernel
def _sorted_by_size(values, start, m, top, src, dst, counts, offsets, new_offsets):
    """Subset sums of ``values[start:start + m]`` of at most ``top`` values, grouped by
    cardinality, each group sorted.

    Returns the buffer holding them; on return ``counts[c] = C(m, c)`` for ``c <= min(m, top)``
    and ``offsets`` are the group offsets. Groups above ``top`` are never formed, so a small
    ``top`` costs ``sum_{c <= top} C(m, c)`` sums per value instead of ``2^m``. Each output
    element is chosen branch-free (a past-the-end input reads as ``+inf`` and is never taken),
    so the merges run at the speed of the unconstrained ones.
    """
    counts[: m + 2] = 0
    counts[0] = 1
    src[1] = 0.0
    for t in range(m):
        v = values[start + t]
        old_top = min(t, top)  # groups 0 .. old_top exist before v
        new_top = min(t + 1, top)
        _offsets(counts, old_top, offsets)
        for c in range(new_top, 0, -1):  # Pascal's rule, in place
            counts[c] += counts[c - 1]
        _offsets(counts, new_top, new_offsets)
        for c in range(new_top + 1):
            keep = keep_end = add = add_end = 1  # empty unless set below
            if c <= old_top:  # old group c: the sums without v
                keep = offsets[c] + 1
                keep_end = offsets[c + 1] + 1
            if c > 0:  # old group c - 1: the sums with v
                add = offsets[c - 1] + 1
                add_end = offsets[c] + 1
            i = keep
            j = add
            for o in range(new_offsets[c] + 1, new_offsets[c + 1] + 1):
                a = src[i] if i < keep_end else np.inf
                b = src[j] + v if j < add_end else np.inf
                take_a = a <= b
                dst[o] = a if take_a else b
                i += take_a
                j += not take_a
        src, dst = dst, src
    _offsets(counts, min(m, top), offsets)
    return src


@kernel
def _closest_of_size(halves, size, target, stop):
    """The pair of group sums closest to ``target`` among subsets of exactly ``size`` values:
    ``(distance, i, j, k1)``, ``i`` and ``j`` indices into the two halves' buffers and ``k1``
    the values taken from the first half. Stops at the first pair within ``stop``."""
    sums_a, counts_a, offsets_a, n1, sums_b, counts_b, offsets_b, n2 = halves
    best = np.inf
    best_i = best_j = best_k1 = 0
    for k1 in range(max(0, size - n2), min(size, n1) + 1):
        k2 = size - k1
        oa = offsets_a[k1]
        ob = offsets_b[k2]
        i, j, d = closest_pair(sums_a[oa:], counts_a[k1], sums_b[ob:], counts_b[k2], target, stop)
        if d < best:
            best = d
            best_i = oa + i
            best_j = ob + j
            best_k1 = k1
        if best <= stop:
            break
    return best, best_i, best_j, best_k1


@kernel
def _sized_kernel(values, n, low, high, fewest, target, tol, mask_out, scratch, counts, offsets):
    """Solve one instance over subsets of ``low`` to ``high`` values; return ``(sum,
    stopped_early)``.

    Sizes are tried in increasing order, and the search stops at the first size whose best
    subset (``fewest``) or first subset found (otherwise) is within ``tol``: so it returns the
    closest subset of ``low .. high`` values, or one of the fewest values within ``tol``.
    ``tol < 0`` means no tolerance: every size and group pair is scanned to the end.
    """
    a0, a1, b0, b1 = scratch
    counts_a, counts_b = counts
    offsets_a, offsets_b, spare = offsets
    n1 = n // 2
    n2 = n - n1
    sums_a = _sorted_by_size(values, 0, n1, high, a0, a1, counts_a, offsets_a, spare)
    sums_b = _sorted_by_size(values, n1, n2, high, b0, b1, counts_b, offsets_b, spare)
    halves = (sums_a, counts_a, offsets_a, n1, sums_b, counts_b, offsets_b, n2)
    stop = 0.0 if fewest else max(tol, 0.0)
    best = np.inf
    best_i = best_j = best_k1 = best_size = 0
    for size in range(low, high + 1):
        d, i, j, k1 = _closest_of_size(halves, size, target, stop)
        if d < best:
            best, best_i, best_j, best_k1, best_size = d, i, j, k1, size
        if best <= tol:
            break
    value_a = sums_a[best_i]
    value_b = sums_b[best_j]
    recover_mask(values, 0, n1, value_a, best_k1, a1 if sums_a is a0 else a0, mask_out)
    recover_mask(values, n1, n2, value_b, best_size - best_k1, b1 if sums_b is b0 else b0, mask_out)
    return value_a + value_b, 0.0 < best <= tol


@batch
def sized_batch(chunks, values, lengths, low, high, fewest, targets, tol, masks, sums, early):
    """Solve ``len(targets)`` instances in parallel; row ``b`` picks ``low[b]`` to ``high[b]``
    of ``values[b, :lengths[b]]`` (see :func:`_sized_kernel`)."""
    batch_size = targets.shape[0]
    max_n = longest(lengths)
    for c in prange(chunks):
        lo, hi = chunk_range(c, chunks, batch_size)
        scratch = allocate(max_n)
        counts = (np.empty(max_n + 2, np.int64), np.empty(max_n + 2, np.int64))
        offsets = (
            np.empty(max_n + 2, np.int64),
            np.empty(max_n + 2, np.int64),
            np.empty(max_n + 2, np.int64),
        )
        for b in range(lo, hi):
            sums[b], early[b] = _sized_kernel(
                values[b],
                lengths[b],
                low[b],
                min(high[b], lengths[b]),
                fewest,
                targets[b],
                tol,
                masks[b],
                scratch,
                counts,
                offsets,
            )
