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
def _ends(src, dst, v, at, bounds, front, back):
    """One step of the merge of a group ``src[keep:keep_end]`` with a group
    ``src[add:add_end] + v`` from the front and from the back at once: the front writes the
    smaller of its two candidates at ``dst[front]`` (ties to the unshifted group), the back the
    larger at ``dst[back]`` (ties to the shifted one), as :func:`._mitm._both_ends`; a pointer
    past its group reads as ``+inf`` (front) or ``-inf`` (back) and is never taken. Returns the
    advanced pointers ``at = (i, j, p, q)``."""
    keep, keep_end, add, add_end = bounds
    i, j, p, q = at
    a = src[i] if i < keep_end else np.inf
    b = src[j] + v if j < add_end else np.inf
    x = src[p] if p >= keep else -np.inf
    y = src[q] + v if q >= add else -np.inf
    dst[front] = min(a, b)
    dst[back] = max(x, y)
    c = a <= b
    d = x > y
    return i + c, j + (not c), p - d, q - (not d)


@kernel
def _merge_groups(first, second, bounds, out, length):
    """Write the merge of group ``bounds`` into ``dst[out:out + length]`` for two buffers
    ``first = (src, dst, v)`` and ``second`` of the same layout, in lockstep from both ends (four
    dependency chains that overlap). With an odd ``length`` the middle output is written by both
    ends, which agree on it. Passing the same buffer twice merges it alone."""
    src1, dst1, v1 = first
    src2, dst2, v2 = second
    keep, keep_end, add, add_end = bounds
    at1 = at2 = (keep, add, keep_end - 1, add_end - 1)
    back = out + length - 1
    for o in range((length + 1) // 2):
        at1 = _ends(src1, dst1, v1, at1, bounds, out + o, back - o)
        at2 = _ends(src2, dst2, v2, at2, bounds, out + o, back - o)


@kernel
def _sorted_groups(values, n1, n2, top, scratch, counts, offsets):
    """Subset sums of ``values[:n1]`` and ``values[n1:n1 + n2]`` (``n2`` is ``n1`` or
    ``n1 + 1``) of at most ``top`` values, grouped by cardinality, each group sorted.

    Returns the two buffers holding them; on return ``counts[h][c] = C(m_h, c)`` for
    ``c <= min(m_h, top)`` and ``offsets[h]`` are the group offsets of half ``h``. Groups above
    ``top`` are never formed, so a small ``top`` costs ``sum_{c <= top} C(m, c)`` sums per value
    instead of ``2^m``. Both halves have the same layout after the same number of values, so
    their merges run in lockstep (:func:`_merge_groups`), the second half's last value alone.
    """
    a0, a1, b0, b1 = scratch
    counts_a, counts_b = counts
    offsets_a, offsets_b, spare = offsets
    counts_a[: n2 + 2] = 0
    counts_b[: n2 + 2] = 0
    counts_a[0] = counts_b[0] = 1
    a0[1] = b0[1] = 0.0
    for t in range(n2):
        old_top = min(t, top)  # groups 0 .. old_top exist before this value
        new_top = min(t + 1, top)
        _offsets(counts_b, old_top, offsets_b)
        for c in range(new_top, 0, -1):  # Pascal's rule, in place
            counts_b[c] += counts_b[c - 1]
        _offsets(counts_b, new_top, spare)
        second = (b0, b1, values[n1 + t])
        first = (a0, a1, values[t]) if t < n1 else second
        for c in range(new_top + 1):
            keep = keep_end = add = add_end = 1  # empty unless set below
            if c <= old_top:  # old group c: the sums without v
                keep = offsets_b[c] + 1
                keep_end = offsets_b[c + 1] + 1
            if c > 0:  # old group c - 1: the sums with v
                add = offsets_b[c - 1] + 1
                add_end = offsets_b[c] + 1
            _merge_groups(first, second, (keep, keep_end, add, add_end), spare[c] + 1, counts_b[c])
        if t < n1:
            a0, a1 = a1, a0
        b0, b1 = b1, b0
        if t == n1 - 1:
            counts_a[: n2 + 2] = counts_b[: n2 + 2]
    _offsets(counts_a, min(n1, top), offsets_a)
    _offsets(counts_b, min(n2, top), offsets_b)
    return a0, b0


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
    offsets_a, offsets_b, _ = offsets
    n1 = n // 2
    n2 = n - n1
    sums_a, sums_b = _sorted_groups(values, n1, n2, high, scratch, counts, offsets)
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
