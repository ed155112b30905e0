"""Tests of the constructions' building blocks: sign pools, tolerance passes, warm starts."""

import numpy as np
import pytest

from strong_lth import InvalidParameterError, RandomNetwork, ReLUNetwork, Ticket
from strong_lth.constructions import CONSTRUCTIONS, pensia
from strong_lth.constructions._pools import sign_pools
from strong_lth.gadgets import gadget_masks, signed_inputs
from strong_lth.subset_sum import solve_batch

PAIRS = [name for name, declared in CONSTRUCTIONS.items() if declared.pair_gadget]
"""Constructions made of [P] layer pairs (the depth-(l + 1) one has its own tests)."""


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
            assert pools.lengths[s, 0, j] == len(copies)
            assert np.array_equal(pools.copies[s, 0, j, : len(copies)], copies)
            assert np.array_equal(
                pools.values[s, :, j, : len(copies)], v[:, j, copies] * u[j, copies]
            )


@pytest.mark.parametrize("name", list(CONSTRUCTIONS))
def test_reported_sums_are_the_kept_products(name):
    weights, network = gadget(12)
    keep, sums, _ = CONSTRUCTIONS[name].choose(weights, network, 1, solver="mitm")
    check_sums(network, keep, sums)


def test_exact_pensia_is_the_optimum_over_each_pool():
    weights, network = gadget(10)
    _keep, sums, _ = pensia.choose(weights, network, 1)
    pools = sign_pools(*network.gadget_weights(1))
    targets = np.broadcast_to(weights, (2, *weights.shape)).reshape(-1)
    lengths = pools.per_instance(pools.lengths).reshape(-1)
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
    assert np.all(same[exists & fits])
    # not vacuous: which subset within tol a solve returns depends on its scan order, so the
    # share of rows carried over varies (0.15 to 0.5 here); a few dozen rows must qualify
    assert np.count_nonzero(exists & fits) >= 5


# --- dead units: inputs that are never negative -------------------------------------------


@pytest.mark.parametrize("name", list(CONSTRUCTIONS))
def test_unsigned_inputs_keep_no_unit_that_cannot_fire(name):
    weights, network = gadget(14, seed=3)
    signed = np.array([True, False, True, False, False])
    keep, sums, status = CONSTRUCTIONS[name].choose(weights, network, 1, signed=signed)
    both, both_sums, _ = CONSTRUCTIONS[name].choose(weights, network, 1, signed=np.ones(5, bool))
    u = network.gadget_weights(1)[0]
    dead = (u < 0) & ~signed[:, None]  # (d_in, n): units with u < 0 on an unsigned input
    assert dead.any() and not keep[:, dead].any()
    assert np.all(sums[1][:, ~signed] == 0) and np.all(status[1][:, ~signed] == 0)
    check_sums(network, keep, sums)
    # everything that can fire is chosen exactly as when every input is signed
    assert np.array_equal(keep[:, ~dead], both[:, ~dead])
    assert np.array_equal(sums[0], both_sums[0])
    assert np.array_equal(sums[1][:, signed], both_sums[1][:, signed])
    assert keep.sum() < both.sum()


@pytest.mark.parametrize("name", PAIRS)
def test_the_default_signs_follow_the_layer(name):
    """Pair 1 reads the signed input x; every later pair reads a ReLU output."""
    weights = np.random.default_rng(0).uniform(-0.5, 0.5, (3, 4))
    network = RandomNetwork(1, (5, 4, 3), 12)
    u2 = network.gadget_weights(2)[0]
    keep, sums, _ = CONSTRUCTIONS[name].choose(weights, network, 2)
    assert not keep[:, u2 < 0].any() and np.all(sums[1] == 0)
    explicit, _, _ = CONSTRUCTIONS[name].choose(weights, network, 2, signed=np.zeros(4, bool))
    assert np.array_equal(keep, explicit)
    first = np.random.default_rng(1).uniform(-0.5, 0.5, (4, 5))
    keep1, _, _ = CONSTRUCTIONS[name].choose(first, network, 1)
    all_signed, _, _ = CONSTRUCTIONS[name].choose(first, network, 1, signed=np.ones(5, bool))
    assert np.array_equal(keep1, all_signed) and keep1[:, network.gadget_weights(1)[0] < 0].any()


def test_a_layer_whose_pools_are_all_empty_keeps_nothing():
    """n = 1 and every unit's u < 0 on unsigned inputs: no instance has a value to choose."""
    network = next(
        g
        for g in (RandomNetwork(seed, (2, 2), 1) for seed in range(100))
        if np.all(g.gadget_weights(1)[0] < 0)
    )
    for name in CONSTRUCTIONS:
        keep, sums, status = CONSTRUCTIONS[name].choose(
            np.full((2, 2), 0.25), network, 1, signed=np.zeros(2, bool)
        )
        assert not keep.any() and np.all(sums == 0) and np.all(status == 0)


@pytest.mark.parametrize(
    "signed", [np.ones(4, bool), np.ones(5), [1, 0, 1, 0, 1], np.ones((5, 1), bool)]
)
def test_bad_signed_is_refused(signed):
    weights, network = gadget(4)
    with pytest.raises(InvalidParameterError, match=r"`signed` must be a bool array of shape"):
        pensia.choose(weights, network, 1, signed=signed)


def ticket_from_constructions(target, n, seed, construction="pensia", *, dead_units=False):
    """The ticket the construction gives at ``n`` values per input, every pair solved with the
    inputs' true signs, or, with ``dead_units``, with every input signed (the tickets built
    before dead units were dropped)."""
    augmented = target.augmented()
    network = RandomNetwork(seed, augmented.widths, n)
    masks = []
    for i, w in enumerate(augmented.weights, start=1):
        d_in = w.shape[1]
        signed = np.ones(d_in, bool) if dead_units else signed_inputs(i, d_in, target.has_bias)
        keep, _, _ = CONSTRUCTIONS[construction].choose(w, network, i, signed=signed)
        masks += gadget_masks(keep)
    return Ticket(
        seed,
        network.distribution,
        augmented.widths,
        network.values_per_input,
        construction,
        tuple(masks),
        input_bias=target.has_bias,
    )


@pytest.mark.parametrize("name", PAIRS)
@pytest.mark.parametrize("bias", [False, True])
def test_dropping_dead_units_changes_no_output_and_keeps_fewer(name, bias):
    target = ReLUNetwork.random((3, 5, 4, 2), rng=1, bias=bias)
    old = ticket_from_constructions(target, 10, 2, name, dead_units=True)
    new = ticket_from_constructions(target, 10, 2, name)
    x = np.random.default_rng(0).standard_normal((2000, 3)) * 3
    assert np.allclose(new.forward(x), old.forward(x), rtol=0, atol=1e-12)
    assert new.n_kept < old.n_kept
    # no kept unit of the new ticket has u < 0 on an input that is never negative
    for i, (_, b) in enumerate(new.gadgets(), start=1):
        unsigned = ~signed_inputs(i, b.shape[1], bias)
        assert np.all(b[:, unsigned] == 0)
        first = new.masks[2 * i - 2]
        u = new.kept_weights(2 * i - 1)
        assert np.all(u[unsigned[first[:, 1]]] > 0)
        old_u = old.kept_weights(2 * i - 1)
        assert np.any(old_u[unsigned[old.masks[2 * i - 2][:, 1]]] < 0) or not unsigned.any()
