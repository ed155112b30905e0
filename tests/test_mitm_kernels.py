"""Pieces of the exact meet-in-the-middle kernels, each against an independent computation."""

import numpy as np
import pytest

from strong_lth.subset_sum import _mitm, _pages


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
