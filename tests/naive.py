"""Slow reference oracles, written for obviousness rather than speed."""

import itertools
import math

import numpy as np


def subset_sum_optimum(values, target, size=None):
    """Smallest ``|fsum(subset) - target|`` over all subsets (of exactly ``size`` values if
    given), by itertools; returns (error, mask).

    ``math.fsum`` is correctly rounded, so this is the true optimum up to one rounding.
    """
    values = [float(v) for v in values]
    sizes = range(len(values) + 1) if size is None else [size]
    best_error, best_subset = math.inf, ()
    for k in sizes:
        for subset in itertools.combinations(range(len(values)), k):
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
