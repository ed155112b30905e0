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
``k = low, low + 1, ...`` in turn on the same sorted groups, and stop at the first subset found
within ``tol``: one of the fewest values that reach the tolerance.
A cap ``K`` forms only the groups ``c <= K`` (Pascal's rule never needs a larger one), which costs
``sum_{c <= K} C(n / 2, c)`` sums instead of ``2^(n/2)``: small caps stay cheap on long pools, and
since the buffers are sized by those sums, a size or cap of a few values lets a pool hold more
than 48 values in the same memory (:func:`longest_pool`; the subset of a half too long for a
doubling table is then found by enumerating its subsets of the chosen size).

Group ``c`` of a buffer holds ``C(m, c)`` sums at positions ``off[c] + 1 .. off[c] + C(m, c)``
with ``off[c] = sum_{j < c} C(m, j)``, so ``buf[off[c]:]`` is the group 1-based, the layout the
scan of :mod:`._mitm` reads. Sums add their values in increasing index order, so the chosen sums
are found bit for bit in the doubling table, among the subsets with the right number of values.
"""

import numpy as np
from numba import prange

from .._config import batch, kernel
from ._chunks import chunk_range, longest
from ._mitm import _both_ends, recover_mask


@kernel
def _offsets(counts, m, offsets):
    """``offsets[c] = sum_{j < c} (counts[j] + 2)`` for ``c`` in ``[0, m + 1]``: each group sits
    between two sentinel slots."""
    offsets[0] = 0
    for c in range(m + 1):
        offsets[c + 1] = offsets[c] + counts[c] + 2


TABLE_VALUES = 24
"""Buffers for halves of at most this many values hold ``2^m`` sums, so that a subset is
recovered from a doubling table (:func:`._mitm.recover_mask`, as the unconstrained solver);
with longer halves, which only subsets of few values allow (:func:`longest_pool`), by
enumerating the subsets of the chosen size (:func:`recover_combination`)."""

GROUP_SUMS = 1 << TABLE_VALUES
"""Most sums a half's groups may hold: ``2^24``, the doubling table of a half of the
unconstrained solver's 48 values (:data:`._mitm.MAX_N`), so that at most ``k`` values per subset
allow longer pools in the same memory (:func:`longest_pool`)."""

MAX_POOL = 256
"""Most values per instance with a cap on the subsets' size, whatever the cap."""


@kernel
def group_total(m, top):
    """``sum_{c <= min(top, m)} C(m, c)``: the sums of the groups ``0 .. top`` of a half of ``m``
    values."""
    total = term = 1
    for c in range(1, min(top, m) + 1):
        term = term * (m - c + 1) // c
        total += term
    return total


def longest_pool(top: int) -> int:
    """The most values per instance when every subset has at most ``top`` values: the largest n
    (at most :data:`MAX_POOL`) whose longer half's groups up to ``top`` hold at most
    :data:`GROUP_SUMS` sums (48 for ``top >= 24``, 280 values would fit for ``top = 4``)."""
    n = 2 * TABLE_VALUES
    while n < MAX_POOL and group_total(n + 1 - (n + 1) // 2, top) <= GROUP_SUMS:
        n += 1
    return n


@kernel
def allocate(max_n, top):
    """Four buffers for the groups ``0 .. top`` of halves of up to ``max_n - max_n // 2``
    values, each group between two sentinels (see the module docstring); at least ``2^m`` sums
    for halves of up to :data:`TABLE_VALUES` values, whose subsets are recovered from a doubling
    table in these buffers."""
    m = max_n - max_n // 2
    sums = (1 << m) if m <= TABLE_VALUES else group_total(m, top)
    size = sums + 2 * (max_n + 2)
    return np.empty(size), np.empty(size), np.empty(size), np.empty(size)


@kernel
def recover_combination(values, start, count, value, ones, mask_out):
    """Write into ``mask_out[start:start+count]`` a subset of exactly ``ones`` of those values
    whose sum, added in increasing index order from 0 as the merges add them, is ``value`` bit
    for bit: the first such subset in lexicographic order of its indices (``C(count, ones)``
    subsets at most, each step one addition per index that changed)."""
    for t in range(count):
        mask_out[start + t] = False
    if ones <= 0:
        return
    index = np.empty(ones, np.int64)
    partial = np.zeros(ones + 1)
    for r in range(ones):
        index[r] = r
        partial[r + 1] = partial[r] + values[start + r]
    while partial[ones] != value:
        r = ones - 1
        while r >= 0 and index[r] == count - ones + r:
            r -= 1
        if r < 0:  # no such subset: unreachable for a sum the merges formed
            return
        index[r] += 1
        partial[r + 1] = partial[r] + values[start + index[r]]
        for q in range(r + 1, ones):
            index[q] = index[q - 1] + 1
            partial[q + 1] = partial[q] + values[start + index[q]]
    for r in range(ones):
        mask_out[start + index[r]] = True


@kernel
def _recover(values, start, count, value, ones, table, mask_out):
    """The subset of one half: from a doubling table in ``table`` (:func:`._mitm.recover_mask`)
    when it holds ``2^count`` sums (always for pools of up to 48 values), else by
    enumeration."""
    if count <= TABLE_VALUES and (1 << count) <= len(table):
        recover_mask(values, start, count, value, ones, table, mask_out)
    else:
        recover_combination(values, start, count, value, ones, mask_out)


@kernel
def _merge_groups(first, second, ends, out, length):
    """Write the merge of the old groups ``ends = (keep, add, keep_last, add_last)``, the sums
    without the value and those the value is added to, into ``dst[out:out + length]`` for two
    buffers ``first = (src, dst, v)`` and ``second`` of the same layout, in lockstep from both
    ends (:func:`._mitm._both_ends`, four dependency chains that overlap). With an odd ``length``
    the middle output is written by both ends, which agree on it. Passing the same buffer twice
    merges it alone."""
    src1, dst1, v1 = first
    src2, dst2, v2 = second
    keep, add, keep_last, add_last = ends
    i1 = i2 = np.uint64(keep)
    p1 = p2 = np.uint64(keep_last)
    front = np.uint64(keep) + np.uint64(add)  # i + j after o steps: front + o
    rear = np.uint64(keep_last) + np.uint64(add_last)  # p + q after o steps: rear - o
    out = np.uint64(out)
    back = out + np.uint64(length - 1)
    for o in range(np.uint64((length + 1) // 2)):
        j, q = front + o, rear - o
        i1, p1 = _both_ends(src1, dst1, v1, i1, j - i1, p1, q - p1, out + o, back - o)
        i2, p2 = _both_ends(src2, dst2, v2, i2, j - i2, p2, q - p2, out + o, back - o)


@kernel
def _sentinels(buffer, counts, offsets, top):
    """Write ``-inf`` before and ``+inf`` after each of the groups ``0 .. top``."""
    for c in range(top + 1):
        buffer[offsets[c]] = -np.inf
        buffer[offsets[c] + counts[c] + 1] = np.inf


@kernel
def _sorted_groups(values, n1, n2, top, scratch, counts, offsets):
    """Subset sums of ``values[:n1]`` and ``values[n1:n1 + n2]`` (``n2`` is ``n1`` or
    ``n1 + 1``) of at most ``top`` values, grouped by cardinality, each group sorted.

    Returns the two buffers holding them; on return ``counts[h][c] = C(m_h, c)`` for
    ``c <= min(m_h, top)`` and ``offsets[h]`` are the group offsets of half ``h``. Groups above
    ``top`` are never formed, so a small ``top`` costs ``sum_{c <= top} C(m, c)`` sums per value
    instead of ``2^m``. Both halves have the same layout after the same number of values, so
    their merges run in lockstep (:func:`_merge_groups`), the second half's last value alone.
    A group that does not exist yet (the old group ``c = t + 1``, the old group ``-1``) is read
    as an empty list: both its pointers rest on sentinels of a neighbouring group.
    """
    a0, a1, b0, b1 = scratch
    counts_a, counts_b = counts
    offsets_a, offsets_b, spare = offsets
    counts_a[: n2 + 2] = 0
    counts_b[: n2 + 2] = 0
    counts_a[0] = counts_b[0] = 1
    a0[1] = b0[1] = 0.0
    _offsets(counts_b, 0, offsets_b)
    _sentinels(a0, counts_b, offsets_b, 0)
    _sentinels(b0, counts_b, offsets_b, 0)
    for t in range(n2):
        old_top = min(t, top)  # groups 0 .. old_top exist before this value
        new_top = min(t + 1, top)
        _offsets(counts_b, old_top, offsets_b)
        for c in range(new_top, 0, -1):  # Pascal's rule, in place
            counts_b[c] += counts_b[c - 1]
        _offsets(counts_b, new_top, spare)
        second = (b0, b1, values[n1 + t])
        first = (a0, a1, values[t]) if t < n1 else second
        for c in range(new_top + 1):  # old group c spans offsets_b[c] + 1 .. offsets_b[c+1] - 2
            if c > 0:
                add, add_last = offsets_b[c - 1] + 1, offsets_b[c] - 2
            else:  # no old group -1: the sentinels around old group 0
                add, add_last = offsets_b[1] - 1, offsets_b[0]
            if c <= old_top:
                keep, keep_last = offsets_b[c] + 1, offsets_b[c + 1] - 2
            else:  # no old group c: the sentinels around old group c - 1
                keep, keep_last = offsets_b[c] - 1, offsets_b[c - 1]
            ends = (keep, add, keep_last, add_last)
            _merge_groups(first, second, ends, spare[c] + 1, counts_b[c])
        if t < n1:
            _sentinels(a1, counts_b, spare, new_top)
            a0, a1 = a1, a0
        _sentinels(b1, counts_b, spare, new_top)
        b0, b1 = b1, b0
        if t == n1 - 1:
            counts_a[: n2 + 2] = counts_b[: n2 + 2]
    _offsets(counts_a, min(n1, top), offsets_a)
    _offsets(counts_b, min(n2, top), offsets_b)
    return a0, b0


@kernel
def _walk(halves, size, k1):
    """The two-pointer walk over group ``k1`` of the first half and group ``size - k1`` of the
    second: ``(i, i_end, j, j_low, k1)``, ``i`` rising to ``i_end`` (excluded) and ``j`` falling
    to ``j_low``, as indices into the two buffers."""
    _, counts_a, offsets_a, _, _, counts_b, offsets_b, _ = halves
    k2 = size - k1
    i = offsets_a[k1] + 1
    j_low = offsets_b[k2] + 1
    return (i, i + counts_a[k1], j_low + counts_b[k2] - 1, j_low, k1)


@kernel
def _live(walk):
    """Whether ``walk`` has pairs left to visit."""
    i, i_end, j, j_low, _ = walk
    return i < i_end and j >= j_low


@kernel
def _advance(sums_a, sums_b, walk, target, found):
    """One step of ``walk``: record the pair in ``found = (distance, i, j, k1)`` if it is the
    closest so far, then move ``i`` up if the sum is below the target, ``j`` down if above."""
    i, i_end, j, j_low, k1 = walk
    s = sums_a[i] + sums_b[j]
    d = abs(s - target)
    if d < found[0]:
        found = (d, i, j, k1)
    return (i + (s < target), i_end, j - (s > target), j_low, k1), found


@kernel
def _closest_of_size(halves, size, target, stop):
    """The pair of group sums closest to ``target`` among subsets of exactly ``size`` values:
    ``(distance, i, j, k1)``, ``i`` and ``j`` indices into the two halves' buffers and ``k1``
    the values taken from the first half. Stops at the first pair within ``stop``.

    The walks over the group pairs ``(k1, size - k1)`` are short and many, so two run at once,
    each taking the next pair when its own ends: two dependency chains that overlap, with none
    of the set-up of cutting one walk into chains (:func:`._mitm.closest_pair`).
    """
    sums_a, _, _, n1, sums_b, _, _, n2 = halves
    nxt = max(0, size - n2)
    last = min(size, n1)
    first = second = (1, 0, 0, 1, 0)  # finished walks
    found = (np.inf, 0, 0, 0)
    while found[0] > stop:
        if not _live(first) and nxt <= last:
            first = _walk(halves, size, nxt)
            nxt += 1
        if not _live(second) and nxt <= last:
            second = _walk(halves, size, nxt)
            nxt += 1
        live_first, live_second = _live(first), _live(second)
        if not (live_first or live_second):
            break
        if live_first:
            first, found = _advance(sums_a, sums_b, first, target, found)
        if live_second:
            second, found = _advance(sums_a, sums_b, second, target, found)
    return found


@kernel
def _sized_kernel(values, n, low, high, target, tol, mask_out, scratch, counts, offsets):
    """Solve one instance over subsets of ``low`` to ``high`` values; return ``(sum,
    stopped_early)``.

    Sizes are tried in increasing order and the search stops at the first subset found within
    ``tol``: so it returns a subset of the fewest values within ``tol`` if one of at most
    ``high`` values exists, else the closest subset of ``low`` to ``high`` values. ``tol < 0``
    means no tolerance: every size and group pair is scanned to the end (or an exact hit).
    """
    a0, a1, b0, b1 = scratch
    counts_a, counts_b = counts
    offsets_a, offsets_b, _ = offsets
    n1 = n // 2
    n2 = n - n1
    sums_a, sums_b = _sorted_groups(values, n1, n2, high, scratch, counts, offsets)
    halves = (sums_a, counts_a, offsets_a, n1, sums_b, counts_b, offsets_b, n2)
    stop = max(tol, 0.0)
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
    _recover(values, 0, n1, value_a, best_k1, a1 if sums_a is a0 else a0, mask_out)
    _recover(values, n1, n2, value_b, best_size - best_k1, b1 if sums_b is b0 else b0, mask_out)
    return value_a + value_b, 0.0 < best <= tol


@batch
def sized_batch(chunks, values, lengths, low, high, targets, tol, masks, sums, early):
    """Solve ``len(targets)`` instances in parallel; row ``b`` picks ``low[b]`` to ``high[b]``
    of ``values[b, :lengths[b]]`` (see :func:`_sized_kernel`)."""
    batch_size = targets.shape[0]
    max_n = longest(lengths)
    top = longest(high)
    for c in prange(chunks):
        lo, hi = chunk_range(c, chunks, batch_size)
        scratch = allocate(max_n, top)
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
                targets[b],
                tol,
                masks[b],
                scratch,
                counts,
                offsets,
            )
