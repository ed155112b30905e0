"""Tests of strong_lth.subset_sum: exact methods against brute force, heuristics against the
optimum, grid methods within their stated bounds, and every error message."""

import itertools
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from strong_lth import InvalidParameterError, SolverError
from strong_lth.subset_sum import METHODS, Status, _mitm, solve, solve_batch, warmup
from strong_lth.subset_sum import _solve as solve_module

from .naive import subset_sum_optimum
from .strategies import seeds, subset_sum_instances

ROUNDING = 16 * np.finfo(np.float64).eps
"""Two exact methods may add the same subset in different orders: their optimal errors can differ
by the rounding of a sum of n terms, at most ``n u sum|v|`` each (Higham eq. 4.4); we allow
``16 n u sum|v|`` (u = unit roundoff), far below any optimum gap these tests could miss."""

NUMBA_METHODS = [m for m in METHODS if m != "cpsat"]


def rounding_slack(values):
    values = np.atleast_2d(values)
    return ROUNDING * max(values.shape[1], 1) * np.sum(np.abs(values), axis=1)


def instance_families(rng, n, count):
    """Random instance families, including the ones that break naive tie handling."""
    uniform = rng.uniform(-1, 1, (count, n))
    product = rng.uniform(-1, 1, (count, n)) * rng.uniform(-1, 1, (count, n))
    duplicates = rng.choice([-0.5, -0.25, 0.0, 0.25, 0.5, 0.3], size=(count, n))
    zeros = np.where(rng.random((count, n)) < 0.4, 0.0, uniform)
    positive = np.abs(uniform)
    negative = -np.abs(uniform)
    inside = rng.uniform(-1, 1, count)
    outside = rng.choice([-1, 1], count) * (n + rng.uniform(0.5, 2.0, count))
    return {
        "uniform": (uniform, inside),
        "product": (product, inside),
        "duplicates": (duplicates, inside),
        "zeros": (zeros, inside),
        "all-positive": (positive, inside),
        "all-negative": (negative, inside),
        "unreachable targets": (uniform, outside),
    }


@pytest.mark.parametrize("n", range(17))
def test_mitm_equals_bruteforce(n):
    rng = np.random.default_rng(n)
    for family, (values, targets) in instance_families(rng, n, 150).items():
        exact = solve_batch(values, targets, method="mitm")
        reference = solve_batch(values, targets, method="bruteforce")
        slack = rounding_slack(values)
        assert np.all(np.abs(exact.errors - reference.errors) <= slack), family
        assert np.all(exact.status == Status.OPTIMAL)


def test_mitm_in_lockstep_pairs_equals_bruteforce_and_solving_alone():
    """Rows of equal length are solved two at a time, a row without a partner alone (ragged
    lengths, clamped targets in between): every answer equals brute force, and each mask is the
    one the instance gets when solved by itself."""
    rng = np.random.default_rng(15)
    count = 3000
    values = rng.choice([-0.5, 0.25, 0.5, 0.75], (count, 16)) * rng.uniform(0.5, 1.5, (count, 1))
    values[::3] = rng.uniform(-1, 1, (len(values[::3]), 16))
    lengths = rng.choice([5, 11, 16], count)
    targets = np.where(rng.random(count) < 0.1, 20.0, rng.uniform(-1, 1, count))
    exact = solve_batch(values, targets, lengths=lengths)
    reference = solve_batch(values, targets, lengths=lengths, method="bruteforce")
    assert np.all(np.abs(exact.errors - reference.errors) <= rounding_slack(values))
    for b in range(0, count, 97):
        alone = solve(values[b, : lengths[b]], targets[b])
        assert np.array_equal(exact.masks[b, : lengths[b]], alone.mask)


def test_mitm_runs_without_the_jit():
    """The kernels are plain Python under ``NUMBA_DISABLE_JIT=1`` (unsigned indices, pairs and
    the four-chain scan included) and give the same answers as compiled."""
    script = (
        "import numpy as np\n"
        "from strong_lth.subset_sum import solve_batch\n"
        "rng = np.random.default_rng(4)\n"
        "values, targets = rng.uniform(-1, 1, (5, 9)), rng.uniform(-1, 1, 5)\n"
        "result = solve_batch(values, targets, lengths=[9, 9, 7, 8, 8])\n"
        "print(repr(result.errors.tolist()), repr(result.masks.tolist()))\n"
    )
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    ).stdout
    rng = np.random.default_rng(4)
    values, targets = rng.uniform(-1, 1, (5, 9)), rng.uniform(-1, 1, 5)
    compiled = solve_batch(values, targets, lengths=[9, 9, 7, 8, 8])
    assert out.strip() == f"{compiled.errors.tolist()!r} {compiled.masks.tolist()!r}"


def _subset_sums(values):
    """All subset sums, each added in increasing index order as the merges add them."""
    sums = np.zeros(1)
    for v in values:
        sums = np.concatenate([sums, sums + v])
    return sums


@pytest.mark.parametrize("m", [2, 8, 64])
@pytest.mark.parametrize("shifts", [(2.0, 0.0), (0.37, 1.0)])
def test_merges_split_in_pieces_equal_a_sort_even_with_ties(m, shifts):
    """Two merges, each cut in two pieces at the bisected rank, run as four pieces at once; on
    small integers (many equal sums, all ties with a shift of 0) they equal a sort."""
    rng = np.random.default_rng(m)
    lists, pieces = [], []
    for v in shifts:
        src = np.empty(m + 2)
        src[1 : m + 1] = np.sort(rng.integers(-4, 5, m).astype(float))
        dst = np.full(2 * m + 2, np.nan)
        first, second, half = _mitm._split(src, dst, v, m)
        lists.append((src[1 : m + 1].copy(), dst, v))
        pieces += [first, second]
    _mitm._merge_four(tuple(pieces), half)
    for src, dst, v in lists:
        assert np.array_equal(dst[1 : 2 * m + 1], np.sort(np.concatenate([src, src + v])))


def test_long_merges_of_one_instance_give_the_sorted_subset_sums():
    n = 28  # halves of 14 values: the last merges are long enough to be split in pieces
    assert _mitm.SPLIT <= 1 << (n // 2 - 1)
    rng = np.random.default_rng(28)
    values = rng.choice([-0.5, 0.25, 0.5], n) * rng.choice([1.0, 1.5], n)
    sums_a, sums_b = _mitm._sorted_halves(values, n, *_mitm.allocate(n))
    half = 1 << (n // 2)
    assert np.array_equal(sums_a[1 : half + 1], np.sort(_subset_sums(values[: n // 2])))
    assert np.array_equal(sums_b[1 : half + 1], np.sort(_subset_sums(values[n // 2 :])))


@pytest.mark.parametrize("n", [0, 1, 2, 5, 9])
def test_bruteforce_equals_itertools_oracle(n):
    rng = np.random.default_rng(100 + n)
    for values, targets in instance_families(rng, n, 12).values():
        result = solve_batch(values, targets, method="bruteforce")
        for row, target, error in zip(values, targets, result.errors, strict=True):
            assert abs(error - subset_sum_optimum(row, target)[0]) <= rounding_slack(row)[0]


def test_mitm_equals_bruteforce_at_n_24():
    rng = np.random.default_rng(24)
    values = rng.uniform(-1, 1, (3, 24)) * rng.uniform(-1, 1, (3, 24))
    targets = rng.uniform(-1, 1, 3)
    exact = solve_batch(values, targets)
    reference = solve_batch(values, targets, method="bruteforce")
    assert np.all(np.abs(exact.errors - reference.errors) <= rounding_slack(values))


@pytest.mark.parametrize("n", range(17))
def test_fixed_size_mitm_equals_bruteforce_over_all_k_subsets(n):
    rng = np.random.default_rng(500 + n)
    for family, (values, targets) in instance_families(rng, n, 40).items():
        for k in sorted({0, n // 4, n // 2, n - 1, n} - {-1}):
            exact = solve_batch(values, targets, size=k)
            reference = solve_batch(values, targets, method="bruteforce", size=k)
            assert np.all(exact.masks.sum(axis=1) == k), (family, k)
            assert np.all(exact.status == Status.OPTIMAL)
            slack = rounding_slack(values)
            assert np.all(np.abs(exact.errors - reference.errors) <= slack), (family, k)


@pytest.mark.parametrize("n", [0, 1, 2, 5, 9])
def test_fixed_size_bruteforce_equals_itertools_oracle(n):
    rng = np.random.default_rng(600 + n)
    for values, targets in instance_families(rng, n, 4).values():
        for k in range(n + 1):
            result = solve_batch(values, targets, method="bruteforce", size=k)
            for row, target, error in zip(values, targets, result.errors, strict=True):
                optimum = subset_sum_optimum(row, target, size=k)[0]
                assert abs(error - optimum) <= rounding_slack(row)[0]


def test_fixed_size_per_instance_with_ragged_rows_and_tolerance():
    rng = np.random.default_rng(8)
    values, targets = rng.uniform(-1, 1, (300, 14)), rng.uniform(-1, 1, 300)
    lengths = rng.integers(0, 15, 300)
    sizes = rng.integers(0, lengths + 1)
    padded = np.where(np.arange(14) < lengths[:, None], values, np.nan)
    exact = solve_batch(padded, targets, lengths=lengths, size=sizes)
    assert np.array_equal(exact.masks.sum(axis=1), sizes)
    for b in range(0, 300, 23):
        alone = solve(values[b, : lengths[b]], targets[b], size=int(sizes[b]), method="bruteforce")
        assert abs(exact.errors[b] - alone.error) <= rounding_slack(values[b])[0]
    early = solve_batch(padded, targets, lengths=lengths, size=sizes, tol=1e-2)
    assert np.array_equal(early.masks.sum(axis=1), sizes)
    reachable = exact.errors <= 1e-2
    assert np.all(early.errors[reachable] <= 1e-2)
    assert np.all(early.status[~reachable] == Status.OPTIMAL)


def test_fixed_size_subsets_are_never_closer_than_free_ones():
    rng = np.random.default_rng(10)
    values, targets = rng.uniform(-1, 1, (200, 18)), rng.uniform(-1, 1, 200)
    free = solve_batch(values, targets)
    best_fixed = np.min([solve_batch(values, targets, size=k).errors for k in range(19)], axis=0)
    assert np.allclose(best_fixed, free.errors, rtol=0, atol=1e-15)


def combinations_optimum(row, target, k):
    """The least ``|sum - target|`` over the k-subsets of ``row``, by listing them all."""
    chosen = np.array(list(itertools.combinations(range(len(row)), k)), dtype=np.int64)
    return float(np.abs(row[chosen].sum(axis=1) - target).min()) if k else abs(target)


@pytest.mark.parametrize(("n", "k"), [(49, 4), (60, 3), (75, 2), (120, 1), (53, 5)])
def test_few_values_per_subset_allow_pools_past_48(n, k):
    """With ``size`` (or ``max_size``) of at most a few values, ``mitm`` reads pools of more than
    48 values (``METHODS["mitm"].limit(k)``): its groups up to k stay within the memory of 48
    values, and halves too long for a doubling table recover their subset by enumeration. The
    optimum equals a listing of every k-subset, and the sum recomputed from the mask is the
    solver's."""
    assert METHODS["mitm"].limit(k) >= n > METHODS["mitm"].max_n
    rng = np.random.default_rng(n + k)
    values = rng.uniform(-1, 1, (4, n)) * rng.uniform(-1, 1, (4, n))
    targets = rng.uniform(-1, 1, 4)
    exact = solve_batch(values, targets, size=k)
    assert np.all(exact.masks.sum(axis=1) == k)
    for row, target, error in zip(values, targets, exact.errors, strict=True):
        assert abs(error - combinations_optimum(row, target, k)) <= rounding_slack(row)[0]
    capped = solve_batch(values, targets, tol=0.0, fewest=True, max_size=k)
    assert np.all(capped.masks.sum(axis=1) <= k)
    best = [
        min(combinations_optimum(r, t, j) for j in range(k + 1)) for r, t in zip(values, targets)
    ]
    assert np.allclose(capped.errors, best, rtol=0, atol=1e-15)


def test_the_pool_limit_grows_only_for_few_values_per_subset():
    mitm = METHODS["mitm"]
    assert [mitm.limit(k) for k in (None, 1, 4, 5, 8, 12, 24, 40)] == [
        48,
        256,
        256,
        146,
        64,
        50,
        48,
        48,
    ]
    values = np.zeros((1, 147))
    with pytest.raises(
        InvalidParameterError,
        match=r"at most 146 values per instance for method "
        r"'mitm' \(its limit with subsets of at most 5 values\); got 147",
    ):
        solve_batch(values, [0.0], size=5)
    with pytest.raises(
        InvalidParameterError,
        match=r"at most 48 values per instance for method "
        r"'mitm' \(its limit\); got 49",
    ):
        solve_batch(np.zeros((1, 49)), [0.0])


@pytest.mark.parametrize("method", ["dp", "greedy", "local"])
@pytest.mark.parametrize("n", [0, 1, 3, 8, 14])
def test_heuristics_never_beat_the_optimum(method, n):
    rng = np.random.default_rng(7 * n)
    for family, (values, targets) in instance_families(rng, n, 60).items():
        optimum = solve_batch(values, targets, method="mitm")
        result = solve_batch(values, targets, method=method, rng=1)
        assert np.all(result.errors >= optimum.errors - rounding_slack(values)), family
        if method == "dp":
            guarantee = optimum.errors + result.quantization_bound + rounding_slack(values)
            assert np.all(result.errors <= guarantee), family


def test_dp_quantization_bound_is_stated_and_met_on_a_coarse_grid():
    rng = np.random.default_rng(3)
    values, targets = rng.uniform(-1, 1, (200, 12)), rng.uniform(-1, 1, 200)
    result = solve_batch(values, targets, method="dp", resolution=0.01)
    optimum = solve_batch(values, targets)
    assert np.allclose(result.quantization_bound, 13 * 0.01)
    assert np.all(result.errors <= optimum.errors + result.quantization_bound)
    # on so coarse a grid the bound is not vacuous: dp loses accuracy
    assert np.median(result.errors) > np.median(optimum.errors)


def test_local_search_improves_on_greedy():
    rng = np.random.default_rng(5)
    values, targets = rng.uniform(-1, 1, (300, 30)), rng.uniform(-1, 1, 300)
    greedy = solve_batch(values, targets, method="greedy")
    local = solve_batch(values, targets, method="local", rng=0)
    assert np.all(local.errors <= greedy.errors)
    assert np.median(local.errors) < np.median(greedy.errors) / 10


@pytest.mark.parametrize("n", [0, 1, 6, 12])
def test_cpsat_agrees_with_mitm_within_its_quantization_bound(n):
    rng = np.random.default_rng(50 + n)
    values, targets = rng.uniform(-1, 1, (15, n)), rng.uniform(-1, 1, 15)
    exact = solve_batch(values, targets)
    cpsat = solve_batch(values, targets, method="cpsat")
    assert np.all(cpsat.status == Status.OPTIMAL)
    slack = cpsat.quantization_bound + rounding_slack(values)
    assert np.all(np.abs(cpsat.errors - exact.errors) <= slack)


def test_cpsat_grid_stays_in_int64_whatever_the_magnitudes():
    # tiny values and a far target: the grid scales with the target, the model stays small
    result = solve([1e-200, -3e-201, 2e-200], 1.5, method="cpsat")
    assert result.status == Status.OPTIMAL
    assert result.error <= 1.5 - 3e-200 + result.quantization_bound


def test_cpsat_solves_what_its_presolve_stalled_on():
    # found by hypothesis: with CP-SAT's presolve (equal values merged), one worker found no
    # subset at all here within seconds; without it the default single worker is instant
    a, b, c, d = 0.45587881558782484, 0.5398786310194827, -0.8002262830077376, 0.0012515988795944732
    values = [a, b, a, a, c, d, c, -9.3e-241]
    result = solve(values, -0.5754406149030078, method="cpsat", time_limit=5)
    exact = solve(values, -0.5754406149030078)
    assert result.status == Status.OPTIMAL
    assert abs(result.error - exact.error) <= result.quantization_bound


def test_cpsat_time_limit_is_a_status():
    values = np.random.default_rng(0).uniform(-1, 1, 80)
    result = solve(values, 0.123456789, method="cpsat", time_limit=0.2)
    assert result.status == Status.TIME_LIMIT
    assert result.value == math.fsum(values[result.mask])
    assert result.error == abs(result.value - 0.123456789)


def test_tolerance_stops_early_with_a_claim_it_can_keep():
    rng = np.random.default_rng(9)
    values, targets = rng.uniform(-1, 1, (400, 20)), rng.uniform(-1, 1, 400)
    tol = 1e-3
    result = solve_batch(values, targets, tol=tol)
    optimum = solve_batch(values, targets)
    reachable = optimum.errors <= tol
    assert np.all(result.errors[reachable] <= tol)
    assert np.all(result.status[reachable] != Status.FEASIBLE)
    assert np.any(result.status == Status.WITHIN_TOLERANCE)
    assert np.all(result.status[~reachable] == Status.OPTIMAL)  # no early stop: the scan ran out
    assert np.array_equal(result.masks[~reachable], optimum.masks[~reachable])
    local = solve_batch(values, targets, method="local", tol=tol, rng=0)
    reached = local.errors <= tol
    assert np.all(local.status[reached] == Status.WITHIN_TOLERANCE)
    assert np.all(local.status[~reached] == Status.FEASIBLE)


@given(instance=subset_sum_instances(max_n=12), method=st.sampled_from(list(METHODS)))
def test_reported_value_is_the_sum_of_the_masked_values(instance, method):
    values, target = instance
    result = solve(values, target, method=method, rng=0)
    assert result.value == math.fsum(values[result.mask])
    assert result.error == abs(result.value - target)
    assert result.mask.shape == values.shape and result.mask.dtype == bool


@given(seed=seeds, method=st.sampled_from(NUMBA_METHODS), n=st.integers(0, 14))
def test_batch_equals_a_loop_of_solves(seed, method, n):
    rng = np.random.default_rng(seed)
    values, targets = rng.uniform(-1, 1, (6, n)), rng.uniform(-1, 1, 6)
    batch = solve_batch(values, targets, method=method, rng=np.random.default_rng(seed))
    seeds_used = np.random.default_rng(seed).integers(0, 2**31 - 1, size=6)
    for b in range(6):
        single = solve(values[b], targets[b], method=method, rng=None)
        if METHODS[method].randomized:  # the batch gave instance b its own stream
            single = solve_batch(
                values[b : b + 1], targets[b : b + 1], method=method, rng=_FixedSeeds(seeds_used[b])
            )[0]
        assert np.array_equal(batch.masks[b], single.mask)
        assert batch.errors[b] == pytest.approx(single.error, abs=rounding_slack(values[b])[0])
        assert batch.status[b] == single.status


class _FixedSeeds(np.random.Generator):
    """A Generator whose ``integers`` returns one fixed seed: replays one row of a batch."""

    def __init__(self, seed):
        super().__init__(np.random.PCG64(0))
        self._seed = seed

    def integers(self, *args, size=None, **kwargs):
        return np.full(size, self._seed)


@given(instance=subset_sum_instances(max_n=12), seed=seeds)
def test_permuting_values_keeps_the_optimal_error(instance, seed):
    values, target = instance
    perm = np.random.default_rng(seed).permutation(len(values))
    base = solve(values, target)
    permuted = solve(values[perm], target)
    assert abs(base.error - permuted.error) <= rounding_slack(values)[0]


def test_permuting_values_permutes_the_mask():
    rng = np.random.default_rng(11)
    for _ in range(200):  # continuous values: the optimum is unique almost surely
        values, target = rng.uniform(-1, 1, 14), rng.uniform(-1, 1)
        perm = rng.permutation(14)
        assert np.array_equal(solve(values[perm], target).mask, solve(values, target).mask[perm])


@given(instance=subset_sum_instances(min_n=1, max_n=12), seed=seeds)
def test_same_rng_gives_the_same_result(instance, seed):
    values, target = instance
    first = solve(values, target, method="local", rng=seed)
    second = solve(values, target, method="local", rng=np.random.default_rng(seed))
    assert np.array_equal(first.mask, second.mask) and first.value == second.value


def test_ragged_rows_use_only_their_length():
    rng = np.random.default_rng(2)
    values, targets = rng.uniform(-1, 1, (50, 16)), rng.uniform(-1, 1, 50)
    lengths = rng.integers(0, 17, 50)
    padded = np.where(np.arange(16) < lengths[:, None], values, np.nan)
    for method in NUMBA_METHODS:
        result = solve_batch(padded, targets, lengths=lengths, method=method, rng=3)
        assert not np.any(result.masks & (np.arange(16) >= lengths[:, None]))
        for b in range(0, 50, 7):
            alone = solve(values[b, : lengths[b]], targets[b], method=method)
            if method != "local":
                assert np.array_equal(result.masks[b, : lengths[b]], alone.mask)


@pytest.mark.parametrize("method", list(METHODS))
def test_empty_and_single_value_instances(method):
    empty = solve([], 0.7, method=method)
    assert empty.mask.shape == (0,) and empty.value == 0.0 and empty.error == 0.7
    take = solve([0.6], 0.5, method=method)
    leave = solve([0.6], 0.2, method=method)
    assert take.mask.tolist() == [True] and leave.mask.tolist() == [False]


def test_status_and_result_fields():
    result = solve([0.5, -0.25], 0.25)
    assert result.status is Status.OPTIMAL and "optimal" in result.message
    assert result.indices.tolist() == [0, 1] and result.method == "mitm"
    batch = solve_batch([[0.5, -0.25], [0.1, 0.2]], [0.25, 0.3])
    assert len(batch) == 2 and batch[1].indices.tolist() == [0, 1]


def test_a_lying_solver_is_caught(monkeypatch):
    def liar(values, lengths, targets, tol, time_limit, seeds, options):
        masks, sums, status = solve_module._outputs(values)
        masks[:, 0] = True
        sums[:] = 0.0  # claims the empty sum while the mask selects a value
        return masks, sums, status, np.zeros(len(targets))

    fake = solve_module.Method("liar", liar, "wrong on purpose")
    monkeypatch.setitem(solve_module.METHODS, "liar", fake)
    message = r"'liar' reported sum 0\.0 for instance 0, but its mask sums to 0\.5"
    with pytest.raises(SolverError, match=message):
        solve_batch([[0.5, 0.25]], [0.5], method="liar")


def test_a_solver_choosing_the_wrong_size_is_caught(monkeypatch):
    def wrong_size(values, lengths, targets, tol, time_limit, seeds, options, sizes=None):
        masks, sums, status = solve_module._outputs(values)
        sums[:] = 0.0  # the empty subset, whatever size was asked
        return masks, sums, status, np.zeros(len(targets))

    fake = solve_module.Method("wrong", wrong_size, "wrong on purpose", sized=True)
    monkeypatch.setitem(solve_module.METHODS, "wrong", fake)
    message = r"'wrong' chose 0 values for instance 0, which asked for size=1"
    with pytest.raises(SolverError, match=message):
        solve_batch([[0.5, 0.25]], [0.5], method="wrong", size=1)


def test_warmup_compiles_every_numba_kernel():
    warmup()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: solve([0.1, np.nan], 0.0), r"`values` must be finite; got 1 NaN"),
        (lambda: solve([0.1], np.inf), r"`target` must be in \(-inf, inf\); got inf"),
        (lambda: solve([[0.1]], 0.0), r"`values` must be 1-dimensional; got 2"),
        (lambda: solve(["a"], 0.0), r"`values` must hold real numbers"),
        (lambda: solve_batch([0.1], [0.0]), r"`values` must be 2-dimensional; got 1"),
        (lambda: solve_batch([[0.1]], [0.0, 1.0]), r"`targets` must have shape \(1,\); got \(2,\)"),
        (lambda: solve_batch([[0.1]], [np.nan]), r"`targets` must be finite"),
        (lambda: solve_batch([[0.1]], [0.0], lengths=[2]), r"`lengths` must lie in \[0, 1\]"),
        (lambda: solve_batch([[0.1]], [0.0], lengths=[0, 1]), r"`lengths` must have shape"),
        (lambda: solve_batch([[0.1]], [0.0], lengths=[0.5]), r"`lengths` must hold integers"),
        (lambda: solve([0.1], 0.0, tol=-1e-3), r"`tol` must be in \[0, inf\); got -0.001"),
        (lambda: solve([0.1], 0.0, method="cpsat", time_limit=0), r"`time_limit` must be in \(0"),
        (lambda: solve([0.1], 0.0, time_limit=1.0), r"`time_limit` is supported by method\(s\)"),
        (lambda: solve([0.1], 0.0, method="magic"), r"`method` must be one of 'mitm', "),
        (lambda: solve([0.1], 0.0, restarts=3), r"`restarts` is not an option of method 'mitm'"),
        (lambda: solve(np.ones(49), 0.0), r"at most 48 values per instance for method 'mitm'"),
        (lambda: solve(np.ones(25), 0.0, method="bruteforce"), r"at most 24 values .*'dp'"),
        (lambda: solve([0.1], 0.0, rng=-1), r"`rng` must be None, a non-negative integer seed"),
        (lambda: solve([0.1, 0.2], 0.0, size=3), r"`size` must be in \[0, 2\] \(the number of"),
        (lambda: solve([0.1, 0.2], 0.0, size=-1), r"`size` must be in \[0, 2\]; got -1|-1\.$"),
        (lambda: solve([0.1], 0.0, size=0.5), r"`size` must be an integer; got 0\.5"),
        (
            lambda: solve([0.1], 0.0, size=1, method="dp"),
            r"`size` is supported by method\(s\) \['mitm', 'bruteforce'\]; got size=1 with",
        ),
        (
            lambda: solve_batch([[0.1, 0.2]] * 2, [0.0, 0.1], size=[1, 2], lengths=[2, 1]),
            r"`size` must be in \[0, 1\] \(the length of instance 1\); got 2",
        ),
        (
            lambda: solve_batch([[0.1, 0.2]] * 2, [0.0, 0.1], size=[1, 1, 1]),
            r"`size` must have shape \(2,\)",
        ),
        (lambda: solve([0.1], 0.0, method="dp", resolution=0.0), r"`resolution` must be in \(0"),
        (lambda: solve([0.1], 0.0, method="local", restarts=-1), r"`restarts` must be in \[0"),
        (lambda: solve([0.1], 0.0, method="cpsat", workers=0), r"`workers` must be in \[1, "),
        (lambda: solve([0.1], 0.0, method="dp", max_cells=0), r"`max_cells` must be in \[1"),
        (
            lambda: solve([1.0, 2.0], 0.0, method="dp", resolution=1e-9, max_cells=1000),
            r"`resolution` must leave at most max_cells=1000 grid cells",
        ),
    ],
)
def test_bad_input_names_the_parameter(call, message):
    with pytest.raises(InvalidParameterError, match=message):
        call()


def test_a_status_prints_its_name():
    result = solve([0.5, -0.25, 0.3, 0.11], 0.41)
    assert str(result.status) == f"{result.status}" == "OPTIMAL"
    assert f"{result.status:d}" == "0" and int(result.status) == 0
    assert repr(Status.TIME_LIMIT) == "<Status.TIME_LIMIT: 3>"
