"""Exact SubsetSum by meet in the middle (Horowitz and Sahni, 1974), compiled with numba.

Split the n values into halves of ``n1 = n // 2`` and ``n2 = n - n1``. Each half's ``2^k`` subset
sums are generated *already sorted*: starting from the list ``[0]``, adding value ``v`` merges the
sorted list ``L`` with the sorted list ``L + v`` (linear per doubling, no sort). A two-pointer scan
of the first list upwards and the second downwards then visits, for every sum ``a`` of the first
half, the sums ``b`` of the second half bracketing ``target - a``, so it finds
``min |a + b - target|`` over all ``2^n`` subsets in ``O(2^(n/2))`` time and memory.

Speed comes from instruction-level parallelism, not from doing less: each merge runs
branch-free from both ends at once, the two halves are merged in lockstep, and the scan runs as
two chains over the two halves of the first list, so four (merge) or two (scan) independent
dependency chains overlap in the processor. Lists carry sums only; the subsets of the two sums
finally chosen are recovered by tabulating each half's sums in the same addition order, which
reproduces the merged sums bit for bit, and looking the chosen sums up.

Lists are stored 1-based, ``buf[1..m]``, with sentinels ``buf[0] = -inf`` and ``buf[m+1] = +inf``
so that no merge pointer needs a bounds test.
"""

import numpy as np
from numba import prange

from .._config import batch, kernel
from ._bruteforce import popcount
from ._chunks import chunk_range, longest

MAX_N = 48
"""Largest n solved: four scratch lists of ``2^24`` sums, about 540 MB."""


@kernel
def _merge_two(src1, dst1, v1, src2, dst2, v2, m):
    """Merge ``src1[1..m]`` with ``src1[1..m] + v1`` into ``dst1[1..2m]``, and likewise list 2.

    Each merge runs from the front (smallest first, ties to the unshifted list) and from the back
    (largest first, ties to the shifted list) at once; with consistent tie-breaking the two halves
    of the output meet exactly. Passing the same list twice merges it alone, at the same speed.
    """
    src1[0] = -np.inf
    src1[m + 1] = np.inf
    src2[0] = -np.inf
    src2[m + 1] = np.inf
    i1 = j1 = i2 = j2 = 1
    p1 = q1 = p2 = q2 = m
    top = 2 * m + 1
    for o in range(1, m + 1):
        a1 = src1[i1]
        b1 = src1[j1] + v1
        x1 = src1[p1]
        y1 = src1[q1] + v1
        a2 = src2[i2]
        b2 = src2[j2] + v2
        x2 = src2[p2]
        y2 = src2[q2] + v2
        dst1[o] = min(a1, b1)
        dst1[top - o] = max(x1, y1)
        dst2[o] = min(a2, b2)
        dst2[top - o] = max(x2, y2)
        c1 = a1 <= b1
        d1 = x1 > y1
        c2 = a2 <= b2
        d2 = x2 > y2
        i1 += c1
        j1 += not c1
        p1 -= d1
        q1 -= not d1
        i2 += c2
        j2 += not c2
        p2 -= d2
        q2 -= not d2


@kernel
def _sorted_halves(values, n, a0, a1, b0, b1):
    """Sorted subset sums of ``values[:n//2]`` and ``values[n//2:n]``; returns the two lists."""
    n1 = n // 2
    n2 = n - n1
    a0[1] = 0.0
    b0[1] = 0.0
    m = 1
    for t in range(n2):
        if t < n1:
            _merge_two(a0, a1, values[t], b0, b1, values[n1 + t], m)
            a0, a1 = a1, a0
        else:
            _merge_two(b0, b1, values[n1 + t], b0, b1, values[n1 + t], m)
        b0, b1 = b1, b0
        m *= 2
    return a0, b0


@kernel
def _step(sums_a, sums_b, i, j, target, best, best_i, best_j):
    """One two-pointer step at ``(i, j)``: record the pair if it is the closest so far, then move
    ``i`` up if the sum is below the target, ``j`` down if above (branch-free)."""
    d = sums_a[i] + sums_b[j] - target
    ad = abs(d)
    if ad < best:
        best = ad
        best_i = i
        best_j = j
    return i + (d < 0.0), j - (d > 0.0), best, best_i, best_j


@kernel
def closest_pair(sums_a, len_a, sums_b, len_b, target, stop):
    """Indices ``(i, j)`` minimising ``|sums_a[i] + sums_b[j] - target|`` and that distance.

    Chain 1 covers ``i < h``, chain 2 ``i >= h`` starting from the ``j`` where the boundary
    ``sums_a[h] + sums_b[j] > target`` lies (a start above it is safe: the chain walks down to it).
    The scan stops as soon as the best distance is at most ``stop``.
    """
    h = 1 + len_a // 2
    j2 = min(len_b, np.searchsorted(sums_b[1 : len_b + 1], target - sums_a[h], "right") + 2)
    i1, j1, i2 = 1, len_b, h
    best = np.inf
    best_i = best_j = 1
    while i1 < h and j1 >= 1 and i2 <= len_a and j2 >= 1 and best > stop:
        i1, j1, best, best_i, best_j = _step(sums_a, sums_b, i1, j1, target, best, best_i, best_j)
        i2, j2, best, best_i, best_j = _step(sums_a, sums_b, i2, j2, target, best, best_i, best_j)
    while i1 < h and j1 >= 1 and best > stop:
        i1, j1, best, best_i, best_j = _step(sums_a, sums_b, i1, j1, target, best, best_i, best_j)
    while i2 <= len_a and j2 >= 1 and best > stop:
        i2, j2, best, best_i, best_j = _step(sums_a, sums_b, i2, j2, target, best, best_i, best_j)
    return best_i, best_j, best


@kernel
def recover_mask(values, start, count, value, ones, table, mask_out):
    """Write into ``mask_out[start:start+count]`` a subset of those values summing to ``value``,
    of exactly ``ones`` elements if ``ones >= 0``.

    The table ``table[s + 2^t] = table[s] + v_t`` adds each subset's values in increasing index
    order, as the merges do, so the merged sum appears in it bit for bit.
    """
    table[0] = 0.0
    size = 1
    for t in range(count):
        for s in range(size):
            table[size + s] = table[s] + values[start + t]
        size *= 2
    found = 0
    for s in range(size):
        if table[s] == value and (ones < 0 or popcount(s) == ones):
            found = s
            break
    for t in range(count):
        mask_out[start + t] = (found >> t) & 1


@kernel
def _clamp_to_range(values, n, target, mask_out):
    """If ``target`` lies outside ``[sum of negatives, sum of positives]``, the subset of all
    positive (or all negative) values is optimal: write it and return True (no search needed)."""
    high = 0.0
    low = 0.0
    for t in range(n):
        high += max(values[t], 0.0)
        low += min(values[t], 0.0)
    if low < target < high:
        return False
    for t in range(n):
        mask_out[t] = values[t] > 0.0 if target >= high else values[t] < 0.0
    return True


@kernel
def _mitm_kernel(values, n, target, tol, mask_out, a0, a1, b0, b1):
    """Solve one instance; write its mask into ``mask_out`` and return ``(sum, stopped_early)``.

    ``tol < 0`` means no tolerance: the scan runs to the end (or an exact hit) and the answer is
    optimal. Otherwise it stops at the first pair within ``tol`` of the target.
    """
    if _clamp_to_range(values, n, target, mask_out):
        total = 0.0
        for t in range(n):
            total += values[t] if mask_out[t] else 0.0
        return total, False
    n1 = n // 2
    sums_a, sums_b = _sorted_halves(values, n, a0, a1, b0, b1)
    i, j, best = closest_pair(sums_a, 1 << n1, sums_b, 1 << (n - n1), target, max(tol, 0.0))
    value_a = sums_a[i]
    value_b = sums_b[j]
    recover_mask(values, 0, n1, value_a, -1, a1 if sums_a is a0 else a0, mask_out)
    recover_mask(values, n1, n - n1, value_b, -1, b1 if sums_b is b0 else b0, mask_out)
    return value_a + value_b, 0.0 < best <= tol


@kernel
def allocate(max_n):
    """Four scratch lists for halves of up to ``max_n - max_n // 2`` values (with sentinels)."""
    size = (1 << (max_n - max_n // 2)) + 2
    return np.empty(size), np.empty(size), np.empty(size), np.empty(size)


@batch
def mitm_batch(chunks, values, lengths, targets, tol, masks, sums, early):
    """Solve ``len(targets)`` instances in parallel; row ``b`` uses ``values[b, :lengths[b]]``."""
    batch_size = targets.shape[0]
    max_n = longest(lengths)
    for c in prange(chunks):
        lo, hi = chunk_range(c, chunks, batch_size)
        a0, a1, b0, b1 = allocate(max_n)
        for b in range(lo, hi):
            sums[b], early[b] = _mitm_kernel(
                values[b], lengths[b], targets[b], tol, masks[b], a0, a1, b0, b1
            )
