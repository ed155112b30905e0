"""SubsetSum by dynamic programming on a quantised grid (pseudo-polynomial), compiled with numba.

Each value is rounded to the grid, ``k_i = round(v_i / q)``, and the target to ``T = round(t / q)``.
A reachability table over the integer range ``[sum of negative k, sum of positive k]`` records
for each reachable grid sum the first item that reached it, so a subset is read back by walking
``s -> s - k_{first[s]}``. The reachable grid sum nearest to ``T`` is returned.

Guarantee (proved in :func:`strong_lth.subset_sum.solve`'s Notes): the subset's true error is at
most the true optimum plus ``(n + 1) q``.
"""

import numpy as np
from numba import prange

from .._config import batch, kernel
from ._chunks import chunk_range, longest

UNREACHED = np.iinfo(np.int32).max
BASE = -1


@kernel
def grid_cells(values, lengths, resolution):
    """Number of grid cells each instance's table needs, ``sum |round(v_i / q)| + 1``, counted in
    floating point (``inf`` when a value overflows the grid) so that the caller can refuse a grid
    before any step is converted to an integer."""
    cells = np.empty(lengths.shape[0])
    for b in range(lengths.shape[0]):
        total = 0.0
        for i in range(lengths[b]):
            total += abs(np.rint(values[b, i] / resolution[b]))
        cells[b] = total + 1.0
    return cells


@kernel
def setup(values, n, q, first, steps):
    """Grid steps ``k_i`` into ``steps`` and the empty table; returns ``(low, size)``, the grid
    sum of the negative steps and the table's number of cells."""
    low = 0
    high = 0
    for i in range(n):
        steps[i] = np.int64(np.rint(values[i] / q))
        if steps[i] < 0:
            low += steps[i]
        else:
            high += steps[i]
    size = high - low + 1
    first[:size] = UNREACHED
    first[-low] = BASE
    return low, size


@kernel
def fill(steps, first, size, start, stop):
    """Add items ``start .. stop - 1`` to the reachability table (items in increasing order)."""
    for i in range(start, stop):
        k = steps[i]
        if k > 0:
            for j in range(size - 1 - k, -1, -1):
                if first[j] < i and first[j + k] == UNREACHED:
                    first[j + k] = i
        elif k < 0:
            for j in range(-k, size):
                if first[j] < i and first[j + k] == UNREACHED:
                    first[j + k] = i


@kernel
def read(values, n, target, q, low, size, first, steps, mask_out):
    """The reachable grid sum nearest the target's: write its subset, return its sum."""
    # clamp in floating point first: target / q may exceed int64 (or be inf) on a fine grid
    goal = np.int64(min(max(np.rint(target / q) - low, 0.0), size - 1.0))
    best = -1
    for offset in range(size):
        if goal - offset >= 0 and first[goal - offset] != UNREACHED:
            best = goal - offset
            break
        if goal + offset < size and first[goal + offset] != UNREACHED:
            best = goal + offset
            break
    mask_out[:n] = False
    total = 0.0
    s = best
    while first[s] != BASE:
        item = first[s]
        mask_out[item] = True
        total += values[item]
        s -= steps[item]
    return total


@kernel
def _dp_kernel(values, n, target, q, mask_out, first, steps):
    low, size = setup(values, n, q, first, steps)
    fill(steps, first, size, 0, n)
    return read(values, n, target, q, low, size, first, steps, mask_out)


def solve_long(values, n, target, q, cells, mask_out, work):
    """One instance whose table work ``n * cells`` is large, filled ``work // cells`` items per
    compiled call so that Python sees Ctrl-C between calls; returns the subset's sum."""
    first = np.empty(cells, np.int32)
    steps = np.empty(n, np.int64)
    low, size = setup(values, n, q, first, steps)
    per_call = max(1, work // cells)
    for start in range(0, n, per_call):
        fill(steps, first, size, start, min(n, start + per_call))
    return read(values, n, target, q, low, size, first, steps, mask_out)


@batch
def dp_batch(chunks, values, lengths, targets, resolution, cells, masks, sums):
    """Solve ``len(targets)`` instances on their grids (``cells[b]`` from :func:`grid_cells`,
    checked by the caller to be small enough for the table)."""
    batch_size = targets.shape[0]
    max_cells = longest(cells)
    max_n = longest(lengths)
    for c in prange(chunks):
        lo, hi = chunk_range(c, chunks, batch_size)
        first = np.empty(max_cells, np.int32)
        steps = np.empty(max_n, np.int64)
        for b in range(lo, hi):
            sums[b] = _dp_kernel(
                values[b], lengths[b], targets[b], resolution[b], masks[b], first, steps
            )
