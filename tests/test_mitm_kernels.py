"""Pieces of the exact meet-in-the-middle kernels, each against an independent computation."""

import numpy as np
import pytest

from strong_lth.subset_sum import _mitm, _pages, solve


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
