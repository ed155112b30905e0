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


def neuron_subset_optimum(columns, y):
    """Smallest and second smallest training MSE ``mean((Σ_{i in S} columns[:, i] - y)²)`` over
    all ``2^m`` subsets S of the columns, each sum formed afresh; returns (best, second, mask)."""
    columns = np.asarray(columns, dtype=float)
    errors, masks = [], []
    for bits in itertools.product((False, True), repeat=columns.shape[1]):
        mask = np.array(bits, dtype=bool)
        errors.append(float(np.mean((columns[:, mask].sum(axis=1) - y) ** 2)))
        masks.append(mask)
    order = np.argsort(errors, kind="stable")
    second = errors[order[1]] if len(errors) > 1 else math.inf
    return errors[order[0]], second, masks[order[0]]
