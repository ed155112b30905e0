"""Slow reference oracles, written for obviousness rather than speed."""

import itertools
import math

import numpy as np


def subset_sum_optimum(values, target):
    """Smallest ``|fsum(subset) - target|`` over all subsets, by itertools; returns (error, mask).

    ``math.fsum`` is correctly rounded, so this is the true optimum up to one rounding.
    """
    values = [float(v) for v in values]
    best_error, best_subset = abs(target), ()
    for size in range(1, len(values) + 1):
        for subset in itertools.combinations(range(len(values)), size):
            error = abs(math.fsum([*(values[i] for i in subset), -target]))
            if error < best_error:
                best_error, best_subset = error, subset
    mask = np.zeros(len(values), dtype=bool)
    mask[list(best_subset)] = True
    return best_error, mask
