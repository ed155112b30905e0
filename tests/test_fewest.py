"""Tests of ``solve_batch(..., tol=t, fewest=True)`` and ``max_size``: the subset with the fewest
values within the tolerance, against an enumeration of all subsets; and its use by the [P]
construction with a tolerance."""

import functools

import numpy as np
import pytest

from strong_lth import InvalidParameterError, RandomNetwork
from strong_lth.constructions import pensia
from strong_lth.constructions._pools import sign_pools
from strong_lth.subset_sum import Status, _solve, solve, solve_batch

from .test_subset_sum import instance_families, rounding_slack


@functools.cache
def subset_masks(n):
    """The ``2^n`` masks of n values as rows of 0.0 and 1.0, and their cardinalities."""
    masks = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
    return masks.astype(float), masks.sum(axis=1)


def all_subsets(row):
    """Every subset of ``row``: ``(sums, cardinalities)`` over the ``2^n`` masks, by matmul."""
    masks, sizes = subset_masks(len(row))
    return masks @ row, sizes


def enumerated(sums, sizes, target, tol=None, max_size=None):
    """Among subsets of at most ``max_size`` values, the fewest values within ``tol`` (None if
    none) and the smallest error, from the sums and cardinalities of every subset."""
    errors = np.abs(sums - target)
    allowed = sizes <= (np.inf if max_size is None else max_size)
    if tol is not None and np.any(allowed & (errors <= tol)):
        return int(sizes[allowed & (errors <= tol)].min()), errors[allowed].min()
    return None, errors[allowed].min()


def check_against_enumeration(values, targets, result, tol, max_size=None):
    masks, sizes = subset_masks(values.shape[1])
    every = masks @ values.T  # (2^n, B): every subset sum of every instance
    for b, (row, target) in enumerate(zip(values, targets, strict=True)):
        slack = rounding_slack(row)[0]
        sums = every[:, b]
        if tol is not None and np.any(np.abs(np.abs(sums - target) - tol) <= slack):
            continue  # a subset at the tolerance to rounding: either side is right
        fewest, error = enumerated(sums, sizes, target, tol, max_size)
        count = int(result.masks[b].sum())
        if fewest is not None:  # any subset of the fewest values within tol
            assert count == fewest, (b, count, fewest)
            assert result.errors[b] <= tol
        else:  # no subset reaches tol: the closest one
            assert abs(result.errors[b] - error) <= slack, (b, result.errors[b], error)
        if max_size is not None:
            assert count <= max_size
        recomputed = row[result.masks[b]].sum()  # the sum recomputed from the mask
        assert abs(result.values[b] - recomputed) <= slack
        assert abs(abs(recomputed - target) - result.errors[b]) <= slack


@pytest.mark.parametrize("n", range(17))
def test_fewest_is_the_smallest_cardinality_within_tol_by_enumeration(n):
    rng = np.random.default_rng(900 + n)
    for values, targets in instance_families(rng, n, 12).values():
        for tol in (0.003, 0.05, 0.4):
            result = solve_batch(values, targets, tol=tol, fewest=True)
            check_against_enumeration(values, targets, result, tol)


@pytest.mark.parametrize("n", [5, 11, 16])
def test_fewest_by_deepening_caps_is_the_smallest_cardinality_by_enumeration(n, monkeypatch):
    # long pools are solved in passes capped at FEWEST_CAPS values, then uncapped; lowered
    # here so that pools short enough to enumerate take every pass
    monkeypatch.setattr(_solve, "DEEPEN_ABOVE", 2)
    monkeypatch.setattr(_solve, "FEWEST_CAPS", (1, 3))
    rng = np.random.default_rng(970 + n)
    for values, targets in instance_families(rng, n, 12).values():
        for tol in (0.003, 0.05, 0.4):
            result = solve_batch(values, targets, tol=tol, fewest=True)
            check_against_enumeration(values, targets, result, tol)


def test_fewest_by_deepening_equals_one_uncapped_pass_on_long_pools(monkeypatch):
    rng = np.random.default_rng(12)
    values = rng.uniform(0, 1, (300, 30)) * rng.uniform(-1, 1, (300, 30))
    targets = rng.normal(0, 0.05, 300)
    lengths = rng.integers(20, 31, 300)
    padded = np.where(np.arange(30) < lengths[:, None], values, np.nan)
    deepened = solve_batch(padded, targets, lengths=lengths, tol=1e-5, fewest=True)
    first_cap, deepen_above = _solve.FEWEST_CAPS[0], _solve.DEEPEN_ABOVE
    monkeypatch.setattr(_solve, "FEWEST_CAPS", ())
    single = solve_batch(padded, targets, lengths=lengths, tol=1e-5, fewest=True)
    assert np.array_equal(deepened.masks, single.masks)
    assert np.array_equal(deepened.values, single.values)
    assert np.array_equal(deepened.status, single.status)
    long = lengths > deepen_above  # these took the capped passes, some of them several
    assert long.any() and np.any(single.masks[long].sum(axis=1) > first_cap)


@pytest.mark.parametrize("n", [0, 3, 9, 14])
def test_max_size_is_the_closest_subset_of_at_most_that_many_values(n):
    rng = np.random.default_rng(950 + n)
    for values, targets in instance_families(rng, n, 10).values():
        for most in sorted({0, 1, n // 3, n}):
            closest = solve_batch(values, targets, max_size=most)
            check_against_enumeration(values, targets, closest, None, most)
            assert np.all(closest.status == Status.OPTIMAL)
            capped = solve_batch(values, targets, tol=0.02, fewest=True, max_size=most)
            check_against_enumeration(values, targets, capped, 0.02, most)


def test_fewest_statuses_say_whether_the_tolerance_was_reached():
    rng = np.random.default_rng(3)
    values = rng.uniform(-1, 1, (400, 12)) * rng.uniform(-1, 1, (400, 12))
    targets = rng.uniform(-1, 1, 400)
    tol = 1e-3
    result = solve_batch(values, targets, tol=tol, fewest=True)
    optimum = solve_batch(values, targets)
    within = result.errors <= tol
    assert within.any() and (~within).any()
    assert np.all(result.status[within & (result.errors > 0)] == Status.WITHIN_TOLERANCE)
    assert np.all(result.status[~within] == Status.OPTIMAL)  # no size reaches tol: the optimum
    assert np.allclose(result.errors[~within], optimum.errors[~within], rtol=0, atol=1e-15)
    # never more values than the first subset unconstrained mitm finds within tol
    first = solve_batch(values, targets, tol=tol)
    assert np.all(result.masks.sum(axis=1)[within] <= first.masks.sum(axis=1)[within])


def test_fewest_with_ragged_rows_matches_each_row_alone():
    rng = np.random.default_rng(11)
    values, targets = rng.uniform(-1, 1, (60, 13)), rng.uniform(-1, 1, 60)
    lengths = rng.integers(0, 14, 60)
    padded = np.where(np.arange(13) < lengths[:, None], values, np.nan)
    batch = solve_batch(padded, targets, lengths=lengths, tol=0.01, fewest=True, max_size=5)
    for b in range(60):
        alone = solve(values[b, : lengths[b]], targets[b], tol=0.01, fewest=True, max_size=5)
        assert np.array_equal(batch.masks[b, : lengths[b]], alone.mask)
        assert not batch.masks[b, lengths[b] :].any()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: solve([0.1, 0.2], 0.3, fewest=True),
            r"`tol` must be given with fewest=True .*; got tol=None\.",
        ),
        (
            lambda: solve([0.1, 0.2], 0.3, tol=0.1, fewest=True, size=1),
            r"`size` must be None with `fewest` .*; got size=1 with fewest=True\.",
        ),
        (
            lambda: solve([0.1, 0.2], 0.3, max_size=1, size=1),
            r"`size` must be None with `max_size` .*; got size=1 with max_size=1\.",
        ),
        (lambda: solve([0.1], 0.3, tol=0.1, fewest="yes"), r"`fewest` must be True or False"),
        (lambda: solve([0.1], 0.3, max_size=-1), r"`max_size` must be .*; got -1"),
        (
            lambda: solve([0.1], 0.3, tol=0.1, fewest=True, method="dp"),
            r"`fewest` is not an option of method 'dp'",
        ),
    ],
)
def test_fewest_errors(call, message):
    with pytest.raises(InvalidParameterError, match=message):
        call()


def test_pensia_with_tol_keeps_the_fewest_values_of_each_pool():
    weights = np.random.default_rng(0).uniform(-0.5, 0.5, (4, 3))
    network = RandomNetwork(0, (3, 4), 20)  # pools of about 10 values: one pass, whole pools
    tol = 2e-3
    keep, sums, _ = pensia.choose(weights, network, 1, tol=tol)
    first, _, _ = pensia.choose(weights, network, 1, tol=tol, fewest=False)
    pools = sign_pools(*network.gadget_weights(1))
    u = network.gadget_weights(1)[0]
    for s, sign in enumerate((u > 0, u < 0)):
        for r in range(4):
            for j in range(3):
                row = pools.values[s, r, j, : pools.lengths[s, 0, j]]
                fewest, _ = enumerated(*all_subsets(row), weights[r, j], tol)
                kept = int(np.count_nonzero(keep[r, j] & sign[j]))
                if fewest is not None:
                    assert kept == fewest
                    assert kept <= np.count_nonzero(first[r, j] & sign[j])
    assert np.mean(np.abs(sums - weights[None]) <= tol) > 0.5  # most pools reach it
    capped, _, _ = pensia.choose(weights, network, 1, tol=tol, max_size=2)
    for sign in (u > 0, u < 0):
        assert np.all(np.count_nonzero(capped & sign[None], axis=2) <= 2)


def test_pensia_fewest_solves_whole_pools_not_a_first_prefix():
    weights = np.random.default_rng(1).uniform(-0.5, 0.5, (3, 2))
    network = RandomNetwork(1, (2, 3), 48)  # pools of about 24 values: beyond the first pass
    tol = 1e-5
    keep, _, _ = pensia.choose(weights, network, 1, tol=tol)
    pools = sign_pools(*network.gadget_weights(1))
    assert pools.lengths.max() > pensia.FIRST_PASS_VALUES
    targets = np.broadcast_to(weights, (2, 3, 2)).reshape(-1)
    whole = solve_batch(
        pools.values.reshape(len(targets), -1),
        targets,
        lengths=pools.per_instance(pools.lengths).reshape(-1),
        tol=tol,
        fewest=True,
    )
    u = network.gadget_weights(1)[0]
    kept = np.stack([np.count_nonzero(keep & sign[None], axis=2) for sign in (u > 0, u < 0)])
    assert np.array_equal(kept.reshape(-1), whole.masks.sum(axis=1))
