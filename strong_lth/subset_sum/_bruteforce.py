"""Brute-force SubsetSum over all ``2^n`` subsets: the reference every exact method is checked by.

Subset sums are tabulated by doubling (``sums[s + 2^t] = sums[s] + v_t``), so each sum is built
from at most n additions (no drift from a running Gray-code total) and the index of a sum is its
subset's bit mask; with a fixed size k, only the indices with k one bits compete.
"""

import numpy as np
from numba import prange

from .._config import batch, kernel
from ._chunks import chunk_range, longest

MAX_N = 24
"""Largest n enumerated: a table of ``2^24`` sums (128 MB)."""


@kernel
def popcount(s):
    """Number of one bits of the non-negative integer ``s``: the size of subset ``s``."""
    ones = 0
    while s:
        ones += s & 1
        s >>= 1
    return ones


@kernel
def _bruteforce_kernel(values, n, target, ones, mask_out, table):
    """Closest subset of ``values[:n]``, of exactly ``ones`` elements if ``ones >= 0``."""
    table[0] = 0.0
    size = 1
    for t in range(n):
        v = values[t]
        for s in range(size):
            table[size + s] = table[s] + v
        size *= 2
    best = (1 << ones) - 1 if ones >= 0 else 0  # the first subset of the right size
    best_err = abs(table[best] - target)
    for s in range(1, size):
        err = abs(table[s] - target)
        if err < best_err and (ones < 0 or popcount(s) == ones):
            best_err = err
            best = s
    for t in range(n):
        mask_out[t] = (best >> t) & 1
    return table[best]


@batch
def bruteforce_batch(chunks, values, lengths, targets, sizes, masks, sums):
    """Solve ``len(targets)`` instances exhaustively, in parallel over chunks of instances;
    instance ``b`` takes exactly ``sizes[b]`` values, or any number if ``sizes[b] < 0``."""
    batch_size = targets.shape[0]
    max_n = longest(lengths)
    for c in prange(chunks):
        lo, hi = chunk_range(c, chunks, batch_size)
        table = np.empty(1 << max_n, np.float64)
        for b in range(lo, hi):
            sums[b] = _bruteforce_kernel(
                values[b], lengths[b], targets[b], sizes[b], masks[b], table
            )
