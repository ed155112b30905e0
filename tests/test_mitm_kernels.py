"""Pieces of the exact meet-in-the-middle kernels, each against an independent computation."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings

from strong_lth.subset_sum import _mitm, _pages, solve, solve_batch

from .test_adversarial_solvers import extreme_instances


def _table(values):
    """All subset sums, subset ``s`` at index ``s``, added in increasing index order."""
    sums = np.zeros(1)
    for v in values:
        sums = np.concatenate([sums, sums + v])
    return sums


def _popcounts(size):
    return np.array([bin(s).count("1") for s in range(size)])


@pytest.mark.parametrize("ones", [-1, 0, 1, 3, 6])
def test_recover_mask_returns_the_first_match_of_the_whole_table(ones):
    """The table is searched while it is built and building stops at the first match: the subset
    is the smallest index of the full table holding the value (with ``ones`` one bits if
    ``ones >= 0``). Integer values make many subsets share a sum, so the order matters."""
    rng = np.random.default_rng(7)
    count = 10
    for _ in range(60):
        values = rng.integers(-3, 4, count).astype(float)
        table = _table(values)
        allowed = np.ones(len(table), bool) if ones < 0 else _popcounts(len(table)) == ones
        if not allowed.any():
            continue
        value = table[rng.choice(np.flatnonzero(allowed))]
        first = np.flatnonzero((table == value) & allowed)[0]
        mask = np.zeros(count + 2, bool)
        _mitm.recover_mask(values, 0, count, value, ones, np.empty(len(table)), mask)
        assert np.array_equal(mask[:count], (first >> np.arange(count)) & 1)


def test_recover_mask_reads_its_range_of_a_longer_row():
    rng = np.random.default_rng(8)
    values = rng.uniform(-1, 1, 12)
    table = _table(values[4:11])
    s = 77
    mask = np.zeros(12, bool)
    _mitm.recover_mask(values, 4, 7, table[s], -1, np.empty(128), mask)
    assert not mask[:4].any() and not mask[11:].any()
    assert values[4:11][mask[4:11]].sum() == pytest.approx(table[s], abs=1e-12)


@pytest.mark.parametrize("size", [5, _pages.HUGE_BYTES // 8 + 3])
def test_scratch_arrays_small_and_huge_hold_what_is_written(size):
    """Huge-page advice (large arrays) changes where the bytes live, not what they hold."""
    out = _pages.empty(size)
    assert out.shape == (size,) and out.dtype == np.float64
    data = np.random.default_rng(size).standard_normal(size)
    out[:] = data
    assert np.array_equal(out, data)


def test_allocate_gives_four_lists_for_the_longer_half():
    lists = _mitm.allocate(41)
    assert [len(x) for x in lists] == [(1 << 21) + 2] * 4


def _padded_sorted(rng, length):
    """A 1-based sorted list with sentinels, of half-integers (many ties)."""
    return np.concatenate([[-np.inf], np.sort(rng.integers(-4, 5, length) * 0.5), [np.inf]])


def test_scan_split_points_equal_the_least_h_by_direct_search():
    """:func:`_mitm._split_at` decides each bisection step with one comparison; it must return
    the least ``h`` whose chain start (found by a search in the second list) puts the walk at
    ``share`` steps or more: checked against that definition, over every ``share``, with ties;
    and a start ``j`` for its chain no lower than that search's."""
    rng = np.random.default_rng(9)
    for _ in range(60):
        len_a, len_b = (int(k) for k in rng.integers(1, 12, 2))
        a, b = _padded_sorted(rng, len_a), _padded_sorted(rng, len_b)
        target = rng.integers(-6, 7) * 0.25
        steps = [
            (h - 1) + (len_b - _mitm._chain_start(a, b, len_b, target, h))
            for h in range(1, len_a + 1)
        ]
        for share in range(len_a + len_b + 2):
            expected = next((h + 1 for h, s in enumerate(steps) if s >= share), len_a + 1)
            h, j = _mitm._split_at(a, len_a, b, len_b, target, share)
            assert h == expected
            if h <= len_a:  # a safe start: at or above the walk's, below the previous column's
                assert _mitm._chain_start(a, b, len_b, target, h) <= j <= len_b
                if h > 1:
                    assert j <= _mitm._chain_start(a, b, len_b, target, h - 1)


@pytest.mark.parametrize("ties", [True, False])
def test_scan_finds_the_closest_pair_for_targets_inside_and_beyond_the_sums(ties):
    """:func:`_mitm.closest_pair` skips the walk's opening stretch and cuts the rest into chains
    by an estimate of its end: whatever the cut, its distance must be the minimum over all pairs
    (exhaustive NumPy), and its pair must reach it; targets lie inside and beyond the sums."""
    rng = np.random.default_rng(10 + ties)
    for _ in range(300):
        len_a, len_b = (int(k) for k in rng.integers(1, 40, 2))
        if ties:
            a, b = _padded_sorted(rng, len_a), _padded_sorted(rng, len_b)
            target = rng.integers(-24, 25) * 0.25
        else:
            a, b = (
                np.concatenate([[-np.inf], np.sort(rng.uniform(-1, 1, k)), [np.inf]])
                for k in (len_a, len_b)
            )
            target = rng.uniform(-3, 3)
        i, j, best = _mitm.closest_pair(a, len_a, b, len_b, target, 0.0)
        exhaustive = np.abs(a[1 : len_a + 1, None] + b[None, 1 : len_b + 1] - target).min()
        assert best == exhaustive
        assert 1 <= i <= len_a and 1 <= j <= len_b and abs(a[i] + b[j] - target) == best


def test_a_single_instance_on_huge_pages_with_split_merges_equals_numpy():
    """n = 38: halves of 2^19 sums, scratch lists of 4 MiB (huge-page advice), every merge from
    2^12 on split in pieces. The lists equal NumPy's sort of the tabulated subset sums, and the
    solver's error equals the optimum over those sums found by NumPy's searchsorted."""
    n = 38
    rng = np.random.default_rng(38)
    values = rng.uniform(-1, 1, n)
    target = 0.3
    lists = _mitm.allocate(n)
    assert len(lists[0]) * 8 >= _pages.HUGE_BYTES
    sums_a, sums_b = _mitm._sorted_halves(values, n, *lists)
    half = 1 << (n // 2)
    table_a, table_b = np.sort(_table(values[: n // 2])), np.sort(_table(values[n // 2 :]))
    assert np.array_equal(sums_a[1 : half + 1], table_a)
    assert np.array_equal(sums_b[1 : half + 1], table_b)
    k = np.clip(np.searchsorted(table_b, target - table_a), 1, half - 1)
    optimum = np.minimum(
        np.abs(table_a + table_b[k - 1] - target), np.abs(table_a + table_b[k] - target)
    ).min()
    result = solve(values, target)
    slack = 4 * n * np.finfo(float).eps
    assert result.error == pytest.approx(optimum, rel=0, abs=slack)
    assert abs(values[result.mask].sum() - target) == pytest.approx(result.error, rel=0, abs=slack)


def test_serial_twin_has_its_own_cache_entry():
    """Numba's disk cache keys by qualified name and signature, not by options: a serial twin
    compiled from the same function would share the parallel driver's entry, and a later process
    would load whichever was compiled first for both (the batch then ran on one thread)."""
    from strong_lth.subset_sum import _cardinality, _mitm

    for driver in (_mitm.mitm_batch, _cardinality.sized_batch):
        assert driver.targetoptions.get("parallel") and not driver.serial.targetoptions.get(
            "parallel"
        )
        assert driver.serial.py_func.__qualname__ != driver.py_func.__qualname__
        assert driver.serial.py_func.__code__ is driver.py_func.__code__  # the same code


@pytest.mark.parametrize(
    ("max_n", "big", "small"), [(42, 21, 21), (44, 21, 21), (46, 22, 21), (48, 23, 22)]
)
def test_allocate_from_the_streamed_length_on(max_n, big, small):
    """From :data:`_mitm.STREAM_N` values a half's list lacks its last value (and its merges'
    other side one more), never shorter than a list below that length (``2^21`` at 41)."""
    assert _mitm.STREAM_N == 42
    assert [len(x) for x in _mitm.allocate(max_n)] == [(1 << k) + 2 for k in (big, small) * 2]


def _streamed_scratch(n):
    """The four lists :func:`_mitm._mitm_streamed` needs for ``n`` values, no longer, NaN-filled."""
    half = n - n // 2
    big, small = (1 << (half - 1)) + 2, (1 << max(half - 2, 0)) + 2
    return tuple(np.full(size, np.nan) for size in (big, small, big, small))


def _instance(rng, n, kind):
    """Values and a target: continuous (one closest subset) or on a grid (many ties)."""
    if kind == "uniform":
        return rng.uniform(-1, 1, n), rng.uniform(-2, 2)
    if kind == "product":
        return rng.uniform(-1, 1, n) * rng.uniform(-1, 1, n), rng.uniform(-1, 1)
    return rng.integers(-4, 5, n) * 0.5, rng.integers(-12, 13) * 0.25 + 0.125 * rng.integers(2)


def _optimum(values, target):
    """Least ``|a + b - target|`` over the sums ``a``, ``b`` of the two halves' subsets, each
    added in index order as the merges add them."""
    half = len(values) // 2
    sums_a, sums_b = _table(values[:half]), _table(values[half:])
    return np.abs(sums_a[:, None] + sums_b[None, :] - target).min()


def _pair_sum(values, mask):
    """The sum the solver reports for ``mask``: each half's subset sum from its table, added."""
    half = len(values) // 2
    bits = mask.astype(np.int64)
    index_a = np.sum(bits[:half] << np.arange(half))
    index_b = np.sum(bits[half:] << np.arange(len(values) - half))
    return _table(values[:half])[index_a] + _table(values[half:])[index_b]


@pytest.mark.parametrize("kind", ["uniform", "product", "grid"])
def test_streamed_path_equals_brute_force_and_the_materialised_path(kind):
    """:func:`_mitm._mitm_streamed` (forced at small n, on lists no longer than it asks for)
    against every pair of the halves' subset sums (the optimum) and against
    :func:`_mitm._mitm_kernel`: the same error always; the same subset on continuous values; on
    a grid, where many pairs tie, a mask whose halves' sums add to the sum returned."""
    rng = np.random.default_rng({"uniform": 11, "product": 12, "grid": 13}[kind])
    for _ in range(120):
        n = int(rng.integers(2, 19))
        values, target = _instance(rng, n, kind)
        old, new = np.zeros(n, bool), np.zeros(n, bool)
        if _mitm._clamp_to_range(values, n, target, old):
            continue
        old_sum, _ = _mitm._mitm_kernel(values, n, target, -1.0, old, _mitm.allocate(n))
        new_sum, early = _mitm._mitm_streamed(values, n, target, -1.0, new, _streamed_scratch(n))
        assert abs(new_sum - target) == _optimum(values, target) == abs(old_sum - target)
        assert new_sum == _pair_sum(values, new) and not early
        if kind != "grid":
            assert np.array_equal(new, old)


def test_streamed_path_stops_within_tol():
    """With a tolerance the scan stops at the first pair within it: the answer is within it (or
    the optimum, if none is) and flagged early only if it is not an exact hit."""
    rng = np.random.default_rng(14)
    for _ in range(80):
        n = int(rng.integers(4, 19))
        values, target = _instance(rng, n, "grid")
        tol = float(rng.choice([0.0, 0.1, 0.3, 1.0]))
        mask = np.zeros(n, bool)
        if _mitm._clamp_to_range(values, n, target, mask):
            continue
        total, early = _mitm._mitm_streamed(values, n, target, tol, mask, _streamed_scratch(n))
        error = abs(total - target)
        assert error <= max(tol, _optimum(values, target))
        assert early == (0.0 < error <= tol)
        assert total == _pair_sum(values, mask)


@pytest.mark.parametrize("count", [1, 2, 3, 9])
def test_recover_streamed_returns_the_first_match_of_the_whole_table(count):
    """With a table of ``2^(count - TAIL)`` sums, the subset is still the full table's first
    match, including subsets of the last values (integers: many subsets share a sum)."""
    rng = np.random.default_rng(15 + count)
    for _ in range(40):
        values = rng.integers(-3, 4, count + 3).astype(float)
        table = _table(values[2 : 2 + count])
        value = table[rng.integers(len(table))]
        first = np.flatnonzero(table == value)[0]
        mask = np.ones(count + 3, bool)
        tail = min(_mitm.TAIL, count)
        _mitm._recover_streamed(values, 2, count, value, np.empty(1 << (count - tail)), mask)
        assert np.array_equal(mask[2 : 2 + count], (first >> np.arange(count)) & 1)
        assert mask[:2].all() and mask[2 + count :].all()


def test_solve_at_the_streamed_length_equals_the_materialised_path():
    """n = 42 and 43 through :func:`solve` and :func:`solve_batch` (the streamed path, rows of
    other lengths beside them in the batch) give the masks of :func:`_mitm._mitm_kernel`."""
    rng = np.random.default_rng(42)
    lengths = np.array([43, 42, 12, 42, 20])
    values = rng.uniform(-1, 1, (len(lengths), 43))
    targets = rng.uniform(-0.5, 0.5, len(lengths))
    batch = solve_batch(values, targets, lengths=lengths)
    for b, n in enumerate(lengths):
        mask = np.zeros(n, bool)
        scratch = tuple(np.empty((1 << (n - n // 2)) + 2) for _ in range(4))
        _mitm._mitm_kernel(values[b, :n], n, targets[b], -1.0, mask, scratch)
        assert np.array_equal(batch.masks[b, :n], mask)
        if n >= _mitm.STREAM_N:
            assert np.array_equal(solve(values[b, :n], targets[b]).mask, mask)


@pytest.mark.parametrize("ties", [True, False])
def test_streamed_scan_finds_the_closest_pair_for_targets_inside_and_beyond_the_sums(ties):
    """:func:`_mitm.closest_streamed` reads each half as the merge of a list with itself shifted:
    its distance must be the minimum over all pairs of the merged halves (exhaustive NumPy), and
    the sums it returns must be in them and reach it."""
    rng = np.random.default_rng(16 + ties)
    for _ in range(300):
        ma, mb = (int(k) for k in rng.integers(1, 30, 2))
        if ties:
            la, lb = _padded_sorted(rng, ma), _padded_sorted(rng, mb)
            wa, wb = (float(x) for x in rng.integers(-4, 5, 2) * 0.5)
            target = rng.integers(-24, 25) * 0.25
        else:
            la, lb = (
                np.concatenate([[-np.inf], np.sort(rng.uniform(-1, 1, k)), [np.inf]])
                for k in (ma, mb)
            )
            wa, wb = rng.uniform(-1, 1, 2)
            target = rng.uniform(-4, 4)
        half_a = np.concatenate([la[1 : ma + 1], la[1 : ma + 1] + wa])
        half_b = np.concatenate([lb[1 : mb + 1], lb[1 : mb + 1] + wb])
        a, b, best = _mitm.closest_streamed(la, ma, wa, lb, mb, wb, target, 0.0)
        assert best == np.abs(half_a[:, None] + half_b[None, :] - target).min()
        assert a in half_a and b in half_b and abs(a + b - target) == best


@settings(max_examples=150, deadline=None)
@given(instance=extreme_instances(max_n=14))
def test_streamed_path_on_extreme_magnitudes_equals_the_materialised_path(instance):
    """Values from subnormal to 1e300 and zeros (the adversarial suite's instances) through the
    streamed path: the materialised path's error, and a mask whose halves' sums add to the sum
    returned."""
    values, target = instance
    values = np.asarray(values, dtype=float)
    n = len(values)
    old, new = np.zeros(n, bool), np.zeros(n, bool)
    if n < 2 or np.abs(values).sum() + abs(target) > 2.0**1023:
        return  # solve refuses the second (see _solve.MAX_MAGNITUDE)
    if _mitm._clamp_to_range(values, n, target, old):
        return
    old_sum, _ = _mitm._mitm_kernel(values, n, target, -1.0, old, _mitm.allocate(n))
    new_sum, _ = _mitm._mitm_streamed(values, n, target, -1.0, new, _streamed_scratch(n))
    assert abs(new_sum - target) == abs(old_sum - target)
    assert new_sum == _pair_sum(values, new)


def test_streamed_path_runs_without_the_jit():
    """:func:`_mitm._mitm_streamed` is plain Python under ``NUMBA_DISABLE_JIT=1`` (unsigned
    indices that never wrap, with warnings as errors) and gives the compiled answers."""
    script = (
        "from tests.test_mitm_kernels import _streamed_answers\nprint(repr(_streamed_answers()))\n"
    )
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent.parent,
    ).stdout
    assert out.strip() == repr(_streamed_answers())


def _streamed_answers():
    """Sums and masks of :func:`_mitm._mitm_streamed` on instances of 2 to 10 values."""
    rng = np.random.default_rng(4)
    answers = []
    for n in (2, 3, 9, 10):
        values, target = rng.uniform(-1, 1, n), rng.uniform(-0.5, 0.5)
        mask = np.zeros(n, bool)
        total, _ = _mitm._mitm_streamed(values, n, target, -1.0, mask, _streamed_scratch(n))
        answers.append((float(total), mask.tolist()))
    return answers
