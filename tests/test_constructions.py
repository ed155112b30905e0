"""Tests of the constructions' building blocks: sign pools, tolerance passes, warm starts."""

import numpy as np
import pytest

from strong_lth import RandomNetwork
from strong_lth.constructions import CONSTRUCTIONS, pensia
from strong_lth.constructions._pools import sign_pools
from strong_lth.subset_sum import solve_batch


def gadget(n, seed=0, widths=(5, 7)):
    weights = np.random.default_rng(seed).uniform(-0.5, 0.5, widths[::-1])
    return weights, RandomNetwork(seed, widths, n)


def check_sums(network, keep, sums):
    """The reported sums are the kept products of each sign, recomputed here."""
    u, v = network.gadget_weights(1)
    products = v * u[None]
    a = np.where(keep & (u > 0)[None], products, 0).sum(axis=2)
    b = np.where(keep & (u < 0)[None], products, 0).sum(axis=2)
    assert np.allclose(sums[0], a, atol=1e-12) and np.allclose(sums[1], b, atol=1e-12)
    return a, b


def test_pools_hold_the_products_of_each_sign_in_copy_order():
    u, v = gadget(9)[1].gadget_weights(1)
    pools = sign_pools(u, v)
    for s, sign in enumerate((u > 0, u < 0)):
        for j in range(u.shape[0]):
            copies = np.flatnonzero(sign[j])
            assert pools.lengths[s, j] == len(copies)
            assert np.array_equal(pools.copies[s, j, : len(copies)], copies)
            assert np.array_equal(
                pools.values[s, :, j, : len(copies)], v[:, j, copies] * u[j, copies]
            )


@pytest.mark.parametrize("name", list(CONSTRUCTIONS))
def test_reported_sums_are_the_kept_products(name):
    weights, network = gadget(12)
    keep, sums, _ = CONSTRUCTIONS[name](weights, network, 1, solver="mitm")
    check_sums(network, keep, sums)


def test_exact_pensia_is_the_optimum_over_each_pool():
    weights, network = gadget(10)
    _keep, sums, _ = pensia.choose(weights, network, 1)
    pools = sign_pools(*network.gadget_weights(1))
    targets = np.broadcast_to(weights, (2, *weights.shape)).reshape(-1)
    lengths = np.broadcast_to(pools.lengths[:, None, :], (2, *weights.shape)).reshape(-1)
    reference = solve_batch(
        pools.values.reshape(len(targets), -1), targets, lengths=lengths, method="bruteforce"
    )
    assert np.allclose(np.abs(sums.reshape(-1) - targets), reference.errors, atol=1e-12)


def test_pools_above_the_solver_limit_use_their_first_values():
    weights, network = gadget(60, widths=(2, 3))
    keep, sums, _ = pensia.choose(weights, network, 1, solver="bruteforce")  # limit 24 values
    check_sums(network, keep, sums)
    u = network.gadget_weights(1)[0]
    for _s, sign in enumerate((u > 0, u < 0)):
        for j in range(u.shape[0]):
            late = np.flatnonzero(sign[j])[24:]  # beyond the first 24 copies of that sign
            assert not keep[:, j, late].any()


def test_tolerance_passes_reach_the_tolerance_wherever_the_pool_can():
    weights, network = gadget(40, widths=(6, 8))
    tol = 1e-6
    keep, sums, _ = pensia.choose(weights, network, 1, tol=tol)
    _exact_keep, exact_sums, _ = pensia.choose(weights, network, 1)
    errors = np.abs(sums - weights[None])
    exact_errors = np.abs(exact_sums - weights[None])
    reachable = exact_errors <= tol
    assert np.all(errors[reachable] <= tol)
    assert np.allclose(errors[~reachable], exact_errors[~reachable], atol=1e-12)
    check_sums(network, keep, sums)


@pytest.mark.parametrize(("before", "after"), [(24, 40), (40, 30)])
def test_a_warm_start_carries_over_only_what_still_exists_and_fits(before, after):
    tol = 1e-2  # loose enough that most earlier subsets qualify
    weights, network = gadget(after, widths=(6, 8))
    earlier, earlier_sums, _ = pensia.choose(weights, gadget(before, widths=(6, 8))[1], 1, tol=tol)
    keep, sums, _ = pensia.choose(weights, network, 1, tol=tol, start=earlier)
    check_sums(network, keep, sums)
    _cold_keep, cold_sums, _ = pensia.choose(weights, network, 1, tol=tol)
    cold = np.abs(cold_sums - weights[None])
    warm = np.abs(sums - weights[None])
    assert np.all((warm <= tol) | np.isclose(warm, cold, atol=1e-12))
    # a row whose earlier subsets both exist here and were within tol is kept unchanged
    exists = ~earlier[:, :, after:].any(axis=2)
    fits = np.all(np.abs(earlier_sums - weights[None]) <= tol, axis=0)
    same = np.all(
        keep == earlier[:, :, :after] if before >= after else keep[:, :, :before] == earlier, axis=2
    )
    assert np.all(same[exists & fits]) and (exists & fits).mean() > 0.2
