"""Fast SubsetSum heuristics for large n, compiled with numba: greedy and seeded local search.

Neither proves anything about its answer; both are for sizes where the optimum is far below the
precision a construction needs, so any good subset will do.

Randomness comes from an explicit per-instance seed driving a MINSTD generator
(Park and Miller, 1988: ``x <- 48271 x mod (2^31 - 1)``), which needs no global state and gives
the same stream compiled or not.
"""

import numpy as np
from numba import prange

from .._config import batch, kernel
from ._chunks import chunk_range

_MODULUS = 2147483647
_MULTIPLIER = 48271


@kernel
def _next(state):
    return (state * _MULTIPLIER) % _MODULUS


@kernel
def _masked_sum(values, n, mask):
    total = 0.0
    for i in range(n):
        if mask[i]:
            total += values[i]
    return total


@kernel
def _greedy_kernel(values, n, target, mask_out):
    """Visit values by decreasing magnitude; keep each one that brings the sum closer."""
    mask_out[:n] = False
    order = np.argsort(-np.abs(values[:n]))
    total = 0.0
    for i in order:
        if abs(total + values[i] - target) < abs(total - target):
            mask_out[i] = True
            total += values[i]
    return total


@kernel
def _improve(values, n, target, mask, total, state):
    """First-improvement descent over single flips and in/out swaps, in a random visiting order.

    Returns the final ``(total, state)``; stops when a full pass improves nothing.
    """
    err = abs(total - target)
    improved = True
    while improved and err > 0.0:
        improved = False
        state = _next(state)
        start = state % max(n, 1)
        for step in range(n):
            i = (start + step) % n
            delta = -values[i] if mask[i] else values[i]
            if abs(total + delta - target) < err:
                mask[i] = not mask[i]
                total += delta
                err = abs(total - target)
                improved = True
        for _ in range(n):
            state = _next(state)
            i = state % n
            state = _next(state)
            j = state % n
            if mask[i] == mask[j]:
                continue
            delta = (values[j] - values[i]) if mask[i] else (values[i] - values[j])
            if abs(total + delta - target) < err:
                mask[i] = not mask[i]
                mask[j] = not mask[j]
                total += delta
                err = abs(total - target)
                improved = True
    return total, state


@kernel
def _local_start(values, n, target, seed, mask_out, trial):
    """Greedy start followed by descent; returns ``(sum, state)``, the state seeding the kicks."""
    best = _greedy_kernel(values, n, target, mask_out)
    if n == 0:
        return best, 0
    state = seed % (_MODULUS - 1) + 1
    trial[:n] = mask_out[:n]
    state = _improve(values, n, target, trial, best, state)[1]
    mask_out[:n] = trial[:n]
    return _masked_sum(values, n, mask_out), state


@kernel
def _local_kicks(values, n, target, state, restarts, mask_out, best, trial):
    """``restarts`` random kicks of the best mask ``mask_out`` (whose sum is ``best``), each
    followed by descent; keeps the best subset seen and returns ``(sum, state)``. Sums are
    recomputed from the mask after each descent so that rounding drift of the running total never
    decides between two subsets. Continuing from the returned state gives the same answer as
    one call with the total number of restarts."""
    if n == 0:
        return best, state
    for _ in range(restarts):
        trial[:n] = mask_out[:n]
        total = best
        state = _next(state)
        kicks = 1 + state % max(1, n // 4)
        for _ in range(kicks):
            state = _next(state)
            i = state % n
            total += -values[i] if trial[i] else values[i]
            trial[i] = not trial[i]
        state = _improve(values, n, target, trial, total, state)[1]
        total = _masked_sum(values, n, trial)
        if abs(total - target) < abs(best - target):
            best = total
            mask_out[:n] = trial[:n]
    return best, state


@batch
def greedy_batch(chunks, values, lengths, targets, masks, sums):
    """Greedy on ``len(targets)`` instances in parallel."""
    batch_size = targets.shape[0]
    for c in prange(chunks):
        lo, hi = chunk_range(c, chunks, batch_size)
        for b in range(lo, hi):
            sums[b] = _greedy_kernel(values[b], lengths[b], targets[b], masks[b])


@batch
def local_batch(chunks, values, lengths, targets, seeds, states, start, restarts, masks, sums):
    """Local search on ``len(targets)`` instances in parallel, instance ``b`` seeded by
    ``seeds[b]``. With ``start``, begin from greedy and descent; otherwise continue from
    ``masks``, ``sums`` and the generator ``states`` of an earlier call. Then ``restarts`` kicks;
    ``states`` is updated so that the search can be continued in further calls."""
    batch_size = targets.shape[0]
    for c in prange(chunks):
        lo, hi = chunk_range(c, chunks, batch_size)
        trial = np.empty(values.shape[1], np.bool_)
        for b in range(lo, hi):
            if start:
                sums[b], states[b] = _local_start(
                    values[b], lengths[b], targets[b], seeds[b], masks[b], trial
                )
            sums[b], states[b] = _local_kicks(
                values[b], lengths[b], targets[b], states[b], restarts, masks[b], sums[b], trial
            )
