"""Brute-force SubsetSum over all ``2^n`` subsets: the reference every exact method is checked by.

Subset sums are tabulated by doubling (``sums[s + 2^t] = sums[s] + v_t``), so each sum is built
from at most n additions (no drift from a running Gray-code total) and the index of a sum is its
subset's bit mask.
"""

import numpy as np
from numba import prange

from .._config import batch, kernel
from ._chunks import chunk_range, longest

MAX_N = 24
"""Largest n enumerated: a table of ``2^24`` sums (128 MB)."""


@kernel
def _bruteforce_kernel(values, n, target, mask_out, table):
    table[0] = 0.0
    size = 1
    for t in range(n):
        v = values[t]
        for s in range(size):
            table[size + s] = table[s] + v
        size *= 2
    best = 0
    best_err = abs(table[0] - target)
    for s in range(1, size):
        err = abs(table[s] - target)
        if err < best_err:
            best_err = err
            best = s
    for t in range(n):
        mask_out[t] = (best >> t) & 1
    return table[best]


@batch
def bruteforce_batch(chunks, values, lengths, targets, masks, sums):
    """Solve ``len(targets)`` instances exhaustively, in parallel over chunks of instances."""
    batch_size = targets.shape[0]
    max_n = longest(lengths)
    for c in prange(chunks):
        lo, hi = chunk_range(c, chunks, batch_size)
        table = np.empty(1 << max_n, np.float64)
        for b in range(lo, hi):
            sums[b] = _bruteforce_kernel(values[b], lengths[b], targets[b], masks[b], table)
