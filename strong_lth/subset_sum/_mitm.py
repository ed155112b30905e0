"""Exact SubsetSum by meet in the middle (Horowitz and Sahni, 1974), compiled with numba.

Split the n values into halves of ``n1 = n // 2`` and ``n2 = n - n1``. Each half's ``2^k`` subset
sums are generated *already sorted*: starting from the list ``[0]``, adding value ``v`` merges the
sorted list ``L`` with the sorted list ``L + v`` (linear per doubling, no sort). A two-pointer scan
of the first list upwards and the second downwards then visits, for every sum ``a`` of the first
half, the sums ``b`` of the second half bracketing ``target - a``, so it finds
``min |a + b - target|`` over all ``2^n`` subsets in ``O(2^(n/2))`` time and memory.

Speed comes from instruction-level parallelism, not from doing less: a merge or a scan is a
chain of dependent loads and compares (a few ns per element), so the kernels run several
independent chains at once and let the processor overlap them. Each merge runs branch-free from
both ends at once and the two halves are merged in lockstep (four chains); the batch driver solves
two instances of the same length in lockstep (eight merge chains), and a single instance cuts its
long merges in two pieces at the bisected middle rank (eight chains too). The scan runs as four
chains, each over a range of the first list cut so that the four walk about equally far (the
walk's opening stretch that cannot hold the optimum is skipped).
Indices are unsigned, which spares numba's negative-index test on every load. Lists carry sums
only; the subsets of the two sums finally chosen are recovered by tabulating each half's sums in
the same addition order, which reproduces the merged sums bit for bit, and looking the chosen sums
up while the table is built (it stops at the doubling holding the first match). Large scratch
lists are backed by huge pages (:mod:`._pages`): at n = 48 the page faults of 4 KiB pages cost as
much as the merges.
The pairing, the pieces and the chains change the order of work, never a sum: the lists are
the same bit for bit, and the error found is the exact optimum of the computed sums.

From :data:`STREAM_N` values on, each half's last merge is not stored: the scan reads the half
as the merge of its other values' sorted sums with themselves shifted by its last value, taking
the smaller (first half) or larger (second half) head of the two at each step
(:func:`closest_streamed`). At n = 48 this cuts the scratch from 512 MB to 192 MB. Fresh memory
is what a solve pays for first: on a virtual machine that hands freed memory back to its host,
each first touch of a page costs a host fault (measured 0.25-0.5 GiB/s, against 2.3 GiB/s for
memory the process reused at once), so the first n = 48 solves of a process had taken 0.8-2.9 s
for about 0.25 s of arithmetic. The streamed scan does more per step (two heads per half), so
below :data:`STREAM_N` the materialised lists (at most 16 MB each) stay.

Lists are stored 1-based, ``buf[1..m]``, with sentinels ``buf[0] = -inf`` and ``buf[m+1] = +inf``
so that no merge pointer needs a bounds test.
"""

import numpy as np
from numba import prange

from .._config import batch, kernel
from ._bruteforce import popcount
from ._chunks import chunk_range, longest
from ._pages import empty

MAX_N = 48
"""Largest n solved: scratch lists of ``2^23, 2^22, 2^23, 2^22`` sums, 192 MB
(:func:`_mitm_streamed`)."""


ZERO = np.uint64(0)
ONE = np.uint64(1)
"""Indices are unsigned: numba then skips the negative-index wraparound on every load, which
sits on the merges' dependency chains (about 20% faster)."""

SPLIT = 1 << 12
"""A single instance splits each merge of lists of at least this length in two (see
:func:`_split`), so that its two merges run as eight chains; shorter merges would not repay the
bisection. On scratch lists backed by huge pages (:mod:`._pages`) this pays at every length up
to ``2^23`` (CPU time at n = 40: 23 -> 14 ms, n = 48: 200 -> 165 ms); on 4 KiB pages it had been
slower beyond ``2^17``."""


@kernel
def _both_ends(src, dst, v, i, j, p, q, front, back):
    """One step of a merge of ``src`` with ``src + v`` from the front and from the back at once.

    The front writes the smaller of ``src[i]`` and ``src[j] + v`` at ``dst[front]`` (ties to the
    unshifted list), the back the larger of ``src[p]`` and ``src[q] + v`` at ``dst[back]`` (ties
    to the shifted list); returns the advanced ``(i, p)``. Each step advances ``i`` or ``j`` and
    ``p`` or ``q``, so callers pass ``j`` and ``q`` as constant sums minus ``i`` and ``p``: two
    indices fewer to keep per merge. Branch-free.
    """
    a = src[i]
    b = src[j] + v
    x = src[p]
    y = src[q] + v
    dst[front] = min(a, b)
    dst[back] = max(x, y)
    return i + np.uint64(a <= b), p - np.uint64(x > y)


@kernel
def _merge_two(s1, d1, v1, s2, d2, v2, m):
    """Merge ``s1[1..m]`` with ``s1[1..m] + v1`` into ``d1[1..2m]``, and likewise list 2.

    Each merge runs from the front and from the back at once (:func:`_both_ends`); with
    consistent tie-breaking the two halves of the output meet exactly. Passing the same list
    twice merges it alone, at the same speed.
    """
    m = np.uint64(m)
    for s in (s1, s2):
        s[0] = -np.inf
        s[m + ONE] = np.inf
    i1 = i2 = ONE
    p1 = p2 = m
    top = m + m + ONE
    for o in range(ONE, m + ONE):  # i + j = o + 1, p + q = top - o
        i1, p1 = _both_ends(s1, d1, v1, i1, o + ONE - i1, p1, top - o - p1, o, top - o)
        i2, p2 = _both_ends(s2, d2, v2, i2, o + ONE - i2, p2, top - o - p2, o, top - o)


@kernel
def _merge_four(lists, m):
    """Merge four lists at once, each as in :func:`_merge_two`, from given starts.

    ``lists`` holds four ``(src, dst, v, i, j, p, q, front, back)``: each merges ``2 * half``
    outputs, ``half = m`` from ``dst[front]`` upwards and from ``dst[back]`` downwards, reading
    ``src`` from ``(i, j)`` upwards and ``(p, q)`` downwards. Eight independent dependency chains
    overlap. A piece of a merge (see :func:`_split`) needs no sentinel of its own: the sums just
    outside it compare as the neighbouring pieces' sums do, so a chain never crosses into them.
    """
    s1, d1, v1, i1, j1, p1, q1, f1, b1 = lists[0]
    s2, d2, v2, i2, j2, p2, q2, f2, b2 = lists[1]
    s3, d3, v3, i3, j3, p3, q3, f3, b3 = lists[2]
    s4, d4, v4, i4, j4, p4, q4, f4, b4 = lists[3]
    u1, u2, u3, u4 = i1 + j1, i2 + j2, i3 + j3, i4 + j4  # i + j - o is constant, as is p + q + o
    w1, w2, w3, w4 = p1 + q1, p2 + q2, p3 + q3, p4 + q4
    for o in range(np.uint64(m)):
        i1, p1 = _both_ends(s1, d1, v1, i1, u1 + o - i1, p1, w1 - o - p1, f1 + o, b1 - o)
        i2, p2 = _both_ends(s2, d2, v2, i2, u2 + o - i2, p2, w2 - o - p2, f2 + o, b2 - o)
        i3, p3 = _both_ends(s3, d3, v3, i3, u3 + o - i3, p3, w3 - o - p3, f3 + o, b3 - o)
        i4, p4 = _both_ends(s4, d4, v4, i4, u4 + o - i4, p4, w4 - o - p4, f4 + o, b4 - o)


@kernel
def _whole(src, dst, v, m):
    """The merge of ``src[1..m]`` with ``src[1..m] + v`` into ``dst[1..2m]`` as one piece for
    :func:`_merge_four` (and the sentinels it reads)."""
    m = np.uint64(m)
    src[0] = -np.inf
    src[m + ONE] = np.inf
    return (src, dst, v, ONE, ONE, m, m, ONE, m + m)


@kernel
def _split(src, dst, v, m):
    """The same merge as two pieces of ``m`` outputs each, for :func:`_merge_four`.

    The first ``m`` outputs of the merge take the ``k`` smallest sums of ``src`` and the ``m - k``
    smallest of ``src + v``; ``k`` is found by bisection: it is the least ``k`` with
    ``src[k + 1] > src[m - k] + v`` (the order of the merge: unshifted first on ties).
    """
    m = np.uint64(m)
    src[0] = -np.inf
    src[m + ONE] = np.inf
    lo = np.uint64(0)
    hi = m
    while lo < hi:
        mid = (lo + hi) >> ONE
        if src[mid + ONE] <= src[m - mid] + v:
            lo = mid + ONE
        else:
            hi = mid
    k = lo
    half = m >> ONE
    first = (src, dst, v, ONE, ONE, k, m - k, ONE, m)
    second = (src, dst, v, k + ONE, m - k + ONE, m, m, m + ONE, m + m)
    return first, second, half


@kernel
def _sorted_halves(values, n, a0, a1, b0, b1):
    """Sorted subset sums of ``values[:n//2]`` and ``values[n//2:n]``; returns the two lists.

    Long merges of both halves run split in pieces (:func:`_split`), eight chains at once."""
    n1 = n // 2
    n2 = n - n1
    a0[1] = 0.0
    b0[1] = 0.0
    m = 1
    for t in range(n2):
        if t < n1 and m >= SPLIT:
            a_lo, a_hi, half = _split(a0, a1, values[t], m)
            b_lo, b_hi, half = _split(b0, b1, values[n1 + t], m)
            _merge_four((a_lo, a_hi, b_lo, b_hi), half)
        elif t < n1:
            _merge_two(a0, a1, values[t], b0, b1, values[n1 + t], m)
        else:
            _merge_two(b0, b1, values[n1 + t], b0, b1, values[n1 + t], m)
        if t < n1:
            a0, a1 = a1, a0
        b0, b1 = b1, b0
        m *= 2
    return a0, b0


@kernel
def _sorted_halves_pair(x, y, n, bx, by):
    """:func:`_sorted_halves` of two instances ``x`` and ``y`` of the same length in lockstep,
    so that their merges overlap (eight chains); ``bx`` and ``by`` are their scratch lists.
    Returns the four lists, which are those :func:`_sorted_halves` returns, bit for bit."""
    ax0, ax1, bx0, bx1 = bx
    ay0, ay1, by0, by1 = by
    n1 = n // 2
    n2 = n - n1
    ax0[1] = bx0[1] = ay0[1] = by0[1] = 0.0
    m = 1
    for t in range(n2):
        if t < n1:
            _merge_four(
                (
                    _whole(ax0, ax1, x[t], m),
                    _whole(bx0, bx1, x[n1 + t], m),
                    _whole(ay0, ay1, y[t], m),
                    _whole(by0, by1, y[n1 + t], m),
                ),
                m,
            )
            ax0, ax1 = ax1, ax0
            ay0, ay1 = ay1, ay0
        elif m >= 2:
            x_lo, x_hi, half = _split(bx0, bx1, x[n1 + t], m)
            y_lo, y_hi, half = _split(by0, by1, y[n1 + t], m)
            _merge_four((x_lo, x_hi, y_lo, y_hi), half)
        else:
            _merge_two(bx0, bx1, x[n1 + t], by0, by1, y[n1 + t], m)
        bx0, bx1 = bx1, bx0
        by0, by1 = by1, by0
        m *= 2
    return ax0, bx0, ay0, by0


@kernel
def _step(sums_a, sums_b, i, j, target, best, best_i, best_j):
    """One two-pointer step at ``(i, j)``: record the pair if it is the closest so far, then move
    ``i`` up if the sum is below the target, ``j`` down if above (branch-free).

    The moves compare the sum with the target itself: the rounded difference has the sign of the
    exact one, so this is the same decision one subtraction earlier on the chain."""
    s = sums_a[i] + sums_b[j]
    ad = abs(s - target)
    if ad < best:
        best = ad
        best_i = i
        best_j = j
    return i + np.uint64(s < target), j - np.uint64(s > target), best, best_i, best_j


@kernel
def _chain_start(sums_a, sums_b, len_b, target, h):
    """Start ``j`` of a chain from ``i = h``: at or just above the last ``j`` with
    ``sums_a[h] + sums_b[j] <= target`` (a start above it is safe: the chain walks down to it)."""
    return min(len_b, np.searchsorted(sums_b[1 : len_b + 1], target - sums_a[h], "right") + 2)


@kernel
def _split_at(sums_a, len_a, sums_b, len_b, target, share):
    """Least ``h`` in ``[1, len_a + 1]`` such that a chain from ``(1, len_b)`` reaching ``i = h``
    has taken at least ``share`` steps, ``(h - 1) + (len_b - j(h))`` (increasing in ``h``), with
    ``j(h) = min(len_b, r(h) + 2)`` the start of :func:`_chain_start` and ``r(h)`` the number of
    ``sums_b`` at most ``x = target - sums_a[h]``; and a start ``j`` for a chain from ``h``.

    The condition is ``j(h) <= c = len_b - share + h - 1``: true if ``c >= len_b``, else it is
    ``r(h) <= c - 2``, i.e. ``sums_b[c - 1] > x`` (the ``(c - 1)``-th sum, 1-based, exceeds
    ``x``; false for ``c < 2``). One comparison per bisection step instead of a search: the same
    ``h`` as bisecting on :func:`_chain_start`, in ``O(log len_a)`` instead of ``O(log^2)``.
    The start returned is ``min(c, len_b)``: at or above ``j(h)`` by that condition (a safe
    start), and at most ``j(h - 1) - j(h)`` above it since the condition fails at ``h - 1``, so
    no search for ``j(h)`` is needed either.
    """
    lo = 1
    hi = len_a + 1
    while lo < hi:
        mid = (lo + hi) // 2
        c = len_b - share + mid - 1
        if c >= len_b or (c >= 2 and sums_b[c - 1] > target - sums_a[mid]):
            hi = mid
        else:
            lo = mid + 1
    return lo, max(1, min(len_b, len_b - share + lo - 1))


@kernel
def _first_past(sums_a, len_a, value, target, strict):
    """Least ``h`` in ``[1, len_a + 1]`` with ``sums_a[h] + value`` above ``target`` (or equal
    to it unless ``strict``): the rounded sums increase with ``h``. ``len_a + 1`` if none."""
    lo = 1
    hi = len_a + 1
    while lo < hi:
        mid = (lo + hi) // 2
        s = sums_a[mid] + value
        if s > target or (s == target and not strict):
            hi = mid
        else:
            lo = mid + 1
    return lo


@kernel
def _walk_span(sums_a, len_a, sums_b, len_b, target):
    """First ``i`` worth walking from and the chain start ``j`` there (:func:`_chain_start`),
    and the steps (counted as in :func:`_split_at`) at which the walk starts and about where it
    ends.

    The walk from ``(1, len_b)`` first raises ``i`` while ``sums_a[i] + sums_b[len_b] < target``:
    those pairs draw nearer the target, so only the last of them can be the closest, and the walk
    starts from it, ``h``. It ends when ``j`` passes 1 (at the first ``i`` with ``sums_a[i] +
    sums_b[1] > target``, after all ``len_b`` moves of ``j``) or else when ``i`` passes ``len_a``
    (after about as many moves of ``j`` as ``sums_b`` exceed ``target - sums_a[len_a]``). Only
    the balance of the chains depends on the end, so an estimate will do (on random product
    instances at n = 21 the longest of the four chains went from 752 to 548 steps on average)."""
    h = max(1, _first_past(sums_a, len_a, sums_b[len_b], target, False) - 1)
    j = _chain_start(sums_a, sums_b, len_b, target, h)
    exit_i = _first_past(sums_a, len_a, sums_b[1], target, True)
    if exit_i <= len_a:
        end = (exit_i - 1) + len_b
    else:
        end = len_a + len_b - np.searchsorted(sums_b[1 : len_b + 1], target - sums_a[len_a])
    start = (h - 1) + (len_b - j)
    return h, j, start, max(end, start)


@kernel
def closest_pair(sums_a, len_a, sums_b, len_b, target, stop):
    """Indices ``(i, j)`` minimising ``|sums_a[i] + sums_b[j] - target|`` and that distance.

    The two-pointer walk from ``(1, len_b)`` to the end of either list is cut into four chains
    of about equal length, each over its own range of ``i`` (:func:`_split_at`), started where the
    walk would pass (:func:`_chain_start`); the four independent dependency chains overlap. The
    walk's opening stretches that cannot hold the closest pair (:func:`_walk_span`, and the
    first chain's start on ``j``) are skipped and not counted in the cut. The scan stops as soon
    as the best distance is at most ``stop``.
    """
    h1, j1, start, end = _walk_span(sums_a, len_a, sums_b, len_b, target)
    span = end - start
    h2, j2 = _split_at(sums_a, len_a, sums_b, len_b, target, start + span // 4)
    h3, j3 = _split_at(sums_a, len_a, sums_b, len_b, target, start + span // 2)
    h4, j4 = _split_at(sums_a, len_a, sums_b, len_b, target, start + 3 * span // 4)
    i1, i2, i3, i4 = np.uint64(h1), np.uint64(h2), np.uint64(h3), np.uint64(h4)
    j1, j2, j3, j4 = np.uint64(j1), np.uint64(j2), np.uint64(j3), np.uint64(j4)
    e1, e2, e3, e4 = i2, i3, i4, np.uint64(len_a + 1)
    a, b = sums_a, sums_b
    best = np.inf
    best_i = best_j = ONE
    live = True
    while live and best > stop:
        live = False
        if i1 < e1 and j1 >= ONE:
            i1, j1, best, best_i, best_j = _step(a, b, i1, j1, target, best, best_i, best_j)
            live = True
        if i2 < e2 and j2 >= ONE:
            i2, j2, best, best_i, best_j = _step(a, b, i2, j2, target, best, best_i, best_j)
            live = True
        if i3 < e3 and j3 >= ONE:
            i3, j3, best, best_i, best_j = _step(a, b, i3, j3, target, best, best_i, best_j)
            live = True
        if i4 < e4 and j4 >= ONE:
            i4, j4, best, best_i, best_j = _step(a, b, i4, j4, target, best, best_i, best_j)
            live = True
    return np.int64(best_i), np.int64(best_j), best


@kernel
def recover_mask(values, start, count, value, ones, table, mask_out):
    """Write into ``mask_out[start:start+count]`` a subset of those values summing to ``value``,
    of exactly ``ones`` elements if ``ones >= 0``.

    The table ``table[s + 2^t] = table[s] + v_t`` adds each subset's values in increasing index
    order, as the merges do, so the merged sum appears in it bit for bit. It is searched as it is
    built, in increasing ``s`` (each doubling appends the indices ``[2^t, 2^(t+1))``), and
    building stops after the first doubling holding a match: the subset is the one a full
    table's first match gives, found after half the table on average. Each doubling is filled,
    and its first equal sum found, in one loop without an exit, which the compiler vectorises
    (about three times faster than stopping at the match); with ``ones >= 0`` the search goes on
    from that sum while the subset's size does not fit.
    """
    table[0] = 0.0
    found = 0
    size = 1
    if not (value == 0.0 and ones <= 0):  # else subset 0 (no values, sum 0) is the first match
        for t in range(count):
            v = values[start + t]
            half = np.uint64(size)
            first = half
            for k in range(half):  # no exit, unsigned indices: vectorised
                x = table[k] + v
                table[half + k] = x
                first = min(first, k if x == value else half)
            for s in range(size + np.int64(first), 2 * size):  # from the first equal sum
                if table[s] == value and (ones < 0 or popcount(s) == ones):
                    found = s
                    break
            if found:
                break
            size *= 2
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
def _masked_sum(values, n, mask):
    """Sum of the values ``mask`` selects, in index order."""
    total = 0.0
    for t in range(n):
        total += values[t] if mask[t] else 0.0
    return total


@kernel
def _recover(values, n, scratch, sums_a, sums_b, answer, tol, mask_out):
    """Write the mask of the pair ``answer = (i, j, distance)`` of the scan; return ``(sum,
    stopped_early)``. Each half is tabulated in the scratch list its sorted sums do not occupy."""
    a0, a1, b0, b1 = scratch
    i, j, best = answer
    n1 = n // 2
    value_a = sums_a[i]
    value_b = sums_b[j]
    recover_mask(values, 0, n1, value_a, -1, a1 if sums_a is a0 else a0, mask_out)
    recover_mask(values, n1, n - n1, value_b, -1, b1 if sums_b is b0 else b0, mask_out)
    return value_a + value_b, 0.0 < best <= tol


@kernel
def _mitm_kernel(values, n, target, tol, mask_out, scratch):
    """Solve one instance whose target is in range (see :func:`_clamp_to_range`); write its mask
    into ``mask_out`` and return ``(sum, stopped_early)``.

    ``tol < 0`` means no tolerance: the scan runs to the end (or an exact hit) and the answer is
    optimal. Otherwise it stops at the first pair within ``tol`` of the target.
    """
    n1 = n // 2
    sums_a, sums_b = _sorted_halves(values, n, *scratch)
    answer = closest_pair(sums_a, 1 << n1, sums_b, 1 << (n - n1), target, max(tol, 0.0))
    return _recover(values, n, scratch, sums_a, sums_b, answer, tol, mask_out)


@kernel
def _mitm_pair(x, y, n, targets, tol, masks, scratch):
    """:func:`_mitm_kernel` of two instances ``x``, ``y`` of the same length in lockstep (their
    merges and scans overlap); ``targets``, ``masks`` and ``scratch`` are pairs. Returns both
    answers, the same as :func:`_mitm_kernel`'s, masks included."""
    x_target, y_target = targets
    x_mask, y_mask = masks
    x_scratch, y_scratch = scratch
    n1 = n // 2
    xa, xb, ya, yb = _sorted_halves_pair(x, y, n, x_scratch, y_scratch)
    len_a, len_b, stop = 1 << n1, 1 << (n - n1), max(tol, 0.0)
    x_answer = closest_pair(xa, len_a, xb, len_b, x_target, stop)
    y_answer = closest_pair(ya, len_a, yb, len_b, y_target, stop)
    return (
        _recover(x, n, x_scratch, xa, xb, x_answer, tol, x_mask),
        _recover(y, n, y_scratch, ya, yb, y_answer, tol, y_mask),
    )


STREAM_N = 42
"""Instances of at least this many values take the streamed path (:func:`_mitm_streamed`), with
three eighths of the scratch (192 MB instead of 512 MB at n = 48). Below it the four lists are
at most 16 MB each and the materialised lists keep their faster scan; at 42 and 44 values both
paths took the same time (28-30 ms and 42-59 ms per solve), so from here the memory decides."""


@kernel
def _family(sums, k, shift, shifted):
    """Sum ``k`` of the list ``sums`` (1-based, with sentinels), plus ``shift`` if ``shifted``:
    the two sorted families whose merge is the streamed half (rounded as the merge rounds)."""
    return sums[k] + shift if shifted else sums[k]


@kernel
def _count_within(sums, m, shift, shifted, other, target, strict):
    """Number of ``k`` in ``[1, m]`` with ``fl(other + _family(k))`` below ``target`` (or equal
    unless ``strict``): a prefix, since rounding is monotone; by bisection."""
    lo = 0
    hi = m
    while lo < hi:
        mid = (lo + hi + 1) // 2
        s = other + _family(sums, mid, shift, shifted)
        if s < target or (s == target and not strict):
            lo = mid
        else:
            hi = mid - 1
    return lo


@kernel
def _rank_split(sums, m, shift, rank):
    """How many of the ``rank`` smallest of the merge of ``sums[1..m]`` with ``sums[1..m] +
    shift`` come from the unshifted list: the least ``k`` with ``sums[rank - k] + shift <
    sums[k + 1]`` (as :func:`_split`, ties unshifted first)."""
    lo = max(0, rank - m)
    hi = min(rank, m)
    while lo < hi:
        mid = (lo + hi) // 2
        if sums[rank - mid] + shift < sums[mid + 1]:
            hi = mid
        else:
            lo = mid + 1
    return lo


@kernel
def _stream_start(la, ma, wa, lb, mb, wb, target, rank):
    """State of a chain whose first ``a`` is the streamed first half's ``rank + 1``-th smallest
    sum: the next index in each of its families, ``(pa, qa)``, and the number of sums left in
    each family of the second half, ``(pb, qb)``: those ``b`` with ``fl(a + b) <= target``,
    and the least sum above them, so that the chain's first pairs bracket the target."""
    k = _rank_split(la, ma, wa, rank)
    pa, qa = k + 1, rank - k + 1
    a = min(la[pa], la[qa] + wa)
    pb = _count_within(lb, mb, wb, False, a, target, False)
    qb = _count_within(lb, mb, wb, True, a, target, False)
    x, y = lb[pb + 1], lb[qb + 1] + wb
    if min(x, y) < np.inf:
        if x <= y:
            pb += 1
        else:
            qb += 1
    return np.uint64(pa), np.uint64(qa), np.uint64(pb), np.uint64(qb)


@kernel
def _stream_step(la, wa, lb, wb, state, target, best, best_a, best_b):
    """:func:`_step` on the streamed halves: the first half's next sum is the smaller head of its
    two families, the second half's the larger; the head taken advances (branch-free). Records
    the closest pair's sums rather than ranks."""
    pa, qa, pb, qb = state
    x = la[pa]
    y = la[qa] + wa
    u = lb[pb]
    w = lb[qb] + wb
    a = min(x, y)
    b = max(u, w)
    s = a + b
    ad = abs(s - target)
    if ad < best:
        best = ad
        best_a = a
        best_b = b
    up = np.uint64(s < target)
    down = np.uint64(s > target)
    low = up & np.uint64(x <= y)  # bitwise: ``and`` would branch
    high = down & np.uint64(u > w)
    return (pa + low, qa + up - low, pb - high, qb + high - down), best, best_a, best_b


@kernel
def closest_streamed(la, ma, wa, lb, mb, wb, target, stop):
    """Sums ``(a, b)`` of the two halves minimising ``|a + b - target|``, and that distance, where
    each half is the merge of a sorted list with itself shifted by its last value, never stored.

    The two-pointer walk of :func:`closest_pair` runs on the merged halves, read through their
    two families' heads (:func:`_stream_step`), as four chains over equal ranges of the first
    half's ranks; the opening stretch (sums ``a`` with ``a`` plus the largest ``b`` still below
    the target, of which only the last can be closest) is skipped, as there. Each chain starts
    with the second half positioned just above the first ``a``'s bracket
    (:func:`_stream_start`), so it visits, for every ``a`` of its range, the largest ``b`` with
    ``fl(a + b) <= target`` and the least above it unless an earlier ``a`` (closer from above)
    had it: the closest pair is visited. Stops as soon as the best distance is at most ``stop``.
    Chains cut elsewhere than :func:`closest_pair`'s may meet two pairs at the same distance in
    another order, so between such ties, or between pairs within ``stop``, the pair kept may
    differ; the distance found is the same exact minimum.
    """
    la[0] = lb[0] = -np.inf
    la[ma + 1] = lb[mb + 1] = np.inf
    top = max(lb[mb], lb[mb] + wb)
    low = min(lb[1], lb[1] + wb)
    ka = _count_within(la, ma, wa, False, top, target, True)
    kb = _count_within(la, ma, wa, True, top, target, True)
    first = max(0, ka + kb - 1)  # the last a below the target even with the largest b
    last = _count_within(la, ma, wa, False, low, target, False)
    last += _count_within(la, ma, wa, True, low, target, False)
    span = max(last - first, 0)
    r2, r3, r4 = first + span // 4, first + span // 2, first + 3 * span // 4
    s1 = _stream_start(la, ma, wa, lb, mb, wb, target, first)
    s2 = _stream_start(la, ma, wa, lb, mb, wb, target, r2)
    s3 = _stream_start(la, ma, wa, lb, mb, wb, target, r3)
    s4 = _stream_start(la, ma, wa, lb, mb, wb, target, r4)
    e1, e2, e3 = np.uint64(r2 + 2), np.uint64(r3 + 2), np.uint64(r4 + 2)  # pa + qa = 2 + taken
    e4 = np.uint64(2 * ma + 2)
    best = np.inf
    best_a = best_b = 0.0
    live = True
    while live and best > stop:
        live = False
        if s1[0] + s1[1] < e1 and s1[2] + s1[3] > ZERO:
            s1, best, best_a, best_b = _stream_step(
                la, wa, lb, wb, s1, target, best, best_a, best_b
            )
            live = True
        if s2[0] + s2[1] < e2 and s2[2] + s2[3] > ZERO:
            s2, best, best_a, best_b = _stream_step(
                la, wa, lb, wb, s2, target, best, best_a, best_b
            )
            live = True
        if s3[0] + s3[1] < e3 and s3[2] + s3[3] > ZERO:
            s3, best, best_a, best_b = _stream_step(
                la, wa, lb, wb, s3, target, best, best_a, best_b
            )
            live = True
        if s4[0] + s4[1] < e4 and s4[2] + s4[3] > ZERO:
            s4, best, best_a, best_b = _stream_step(
                la, wa, lb, wb, s4, target, best, best_a, best_b
            )
            live = True
    return best_a, best_b, best


TAIL = 2
"""Values a streamed half's subset is recovered beyond its table (:func:`_recover_streamed`):
the table of ``2^(count - TAIL)`` sums then fits in the half's smaller scratch list."""


@kernel
def _recover_streamed(values, start, count, value, table, mask_out):
    """:func:`recover_mask` over ``count`` values with a table of ``2^(count - TAIL)`` sums: the
    first match among the subsets without the last :data:`TAIL` values, else (the table then
    being complete) the first ``s`` whose table sum plus the last values chosen by ``hi``, added
    in index order, equals ``value``, for ``hi = 1, 2, ...`` in turn. That is the order of the
    full table, so the subset is the full table's first match, bit for bit."""
    tail = min(TAIL, count)
    head = count - tail
    recover_mask(values, start, head, value, -1, table, mask_out)
    total = 0.0
    for t in range(count):
        mask_out[start + t] = mask_out[start + t] and t < head
        total += values[start + t] if mask_out[start + t] else 0.0
    if total == value:
        return
    size = np.uint64(1 << head)
    shifts = np.zeros(TAIL)
    for hi in range(1, 1 << tail):
        for e in range(tail):  # adding 0.0 leaves a sum equal (== ignores the sign of zero)
            shifts[e] = values[start + head + e] if (hi >> e) & 1 else 0.0
        first = size
        for k in range(size):  # no exit, unsigned indices: vectorised, as in recover_mask
            x = table[k]
            for e in range(TAIL):
                x += shifts[e]
            first = min(first, k if x == value else size)
        if first < size:
            for t in range(count):
                mask_out[start + t] = ((first >> t) & 1) if t < head else ((hi >> (t - head)) & 1)
            return


@kernel
def _mitm_streamed(values, n, target, tol, mask_out, scratch):
    """:func:`_mitm_kernel` without the last merge of each half: each half's sorted sums are
    those of its values but the last, merged with themselves shifted by the last value on the
    fly during the scan (:func:`closest_streamed`). Each half's list of ``2^(k - 1)`` sums
    (``k`` its values) is built in the larger of its two scratch lists, picked by the parity of
    its merges, the smaller holding the merges' other side (``2^(k - 2)`` sums) and then the
    recovery's table: at n = 48, 192 MB of scratch instead of 512 MB, and the halves' sums are
    the same bit for bit."""
    n1 = n // 2
    n2 = n - n1
    rest = np.empty(n - 2)
    rest[: n1 - 1] = values[: n1 - 1]
    rest[n1 - 1 :] = values[n1 : n - 1]
    big_a, small_a, big_b, small_b = scratch
    a0, a1 = (big_a, small_a) if (n1 - 1) % 2 == 0 else (small_a, big_a)
    b0, b1 = (big_b, small_b) if (n2 - 1) % 2 == 0 else (small_b, big_b)
    la, lb = _sorted_halves(rest, n - 2, a0, a1, b0, b1)
    wa, wb = values[n1 - 1], values[n - 1]
    value_a, value_b, best = closest_streamed(
        la, 1 << (n1 - 1), wa, lb, 1 << (n2 - 1), wb, target, max(tol, 0.0)
    )
    _recover_streamed(values, 0, n1, value_a, small_a, mask_out)
    _recover_streamed(values, n1, n2, value_b, small_b, mask_out)
    return value_a + value_b, 0.0 < best <= tol


@kernel
def list_sizes(max_n):
    """Lengths of the larger and the smaller two of the four scratch lists for instances of up to
    ``max_n`` values (with sentinels): each at least a half's list of :func:`_mitm_kernel` below
    :data:`STREAM_N` values, and from there on a streamed half's list (larger) and the other side
    of its merges (smaller) of :func:`_mitm_streamed`."""
    below = min(max_n, STREAM_N - 1)
    half = below - below // 2
    big = small = half
    if max_n >= STREAM_N:
        longer = max_n - max_n // 2
        big, small = max(half, longer - 1), max(half, longer - 2)
    return (1 << big) + 2, (1 << small) + 2


@kernel
def allocate(max_n):
    """Four scratch lists, ``(big, small, big, small)`` of :func:`list_sizes`, on huge pages when
    large (:func:`._pages.empty`)."""
    big, small = list_sizes(max_n)
    return empty(big), empty(small), empty(big), empty(small)


@batch
def mitm_batch(chunks, values, lengths, targets, tol, masks, sums, early):
    """Solve ``len(targets)`` instances in parallel; row ``b`` uses ``values[b, :lengths[b]]``.

    Within a chunk, an instance waits for the next one of the same length that needs a search,
    and the two are solved in lockstep (:func:`_mitm_pair`); one left without a partner is solved
    alone. Results do not depend on the pairing.
    """
    batch_size = targets.shape[0]
    max_n = longest(lengths)
    for c in prange(chunks):
        lo, hi = chunk_range(c, chunks, batch_size)
        scratch = allocate(max_n)
        partner_scratch = allocate(min(max_n, STREAM_N - 1) if hi - lo > 1 else 0)
        waiting = -1
        for b in range(lo, hi):
            n = lengths[b]
            if _clamp_to_range(values[b], n, targets[b], masks[b]):
                sums[b] = _masked_sum(values[b], n, masks[b])
                early[b] = False
            elif n >= STREAM_N:
                sums[b], early[b] = _mitm_streamed(values[b], n, targets[b], tol, masks[b], scratch)
            elif waiting >= 0 and lengths[waiting] == n:
                w = waiting
                (sums[w], early[w]), (sums[b], early[b]) = _mitm_pair(
                    values[w],
                    values[b],
                    n,
                    (targets[w], targets[b]),
                    tol,
                    (masks[w], masks[b]),
                    (scratch, partner_scratch),
                )
                waiting = -1
            else:
                if waiting >= 0:
                    w = waiting
                    sums[w], early[w] = _mitm_kernel(
                        values[w], lengths[w], targets[w], tol, masks[w], scratch
                    )
                waiting = b
        if waiting >= 0:
            w = waiting
            sums[w], early[w] = _mitm_kernel(
                values[w], lengths[w], targets[w], tol, masks[w], scratch
            )
