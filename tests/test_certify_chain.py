"""Tests of the chain bound (:mod:`strong_lth.chain`): above the exact error and every sampled
error on random small targets, never above the spectral recursion, much tighter where an error
matrix holds one hard entry, and watched by certify's chain check."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import strong_lth._certify as certify_module
from strong_lth import ReLUNetwork, approximate, certify, exact_error
from strong_lth._certify import certified_error, rigorous_bounds
from strong_lth.chain import chain_bound, chain_norm
from strong_lth.exceptions import CertificationError, InvalidParameterError
from strong_lth.gadgets import gadget_network
from strong_lth.testing.strategies import relu_networks, seeds
from tests.test_lockstep import perturbed_pairs


def ball_points(d, radius, count, seed):
    """Random points of the sphere of ``radius`` and inside it, with ``±radius e_j``."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((count, d))
    x *= radius / np.linalg.norm(x, axis=1, keepdims=True)
    x[count // 2 :] *= rng.random((count - count // 2, 1))
    return np.vstack([x, radius * np.eye(d), -radius * np.eye(d)])


@settings(max_examples=30, deadline=None)
@given(
    target=relu_networks(bias=st.booleans(), max_depth=4, max_width=5, violate=None),
    seed=seeds,
    scale=st.sampled_from([1e-3, 0.05, 0.5]),
    radius=st.sampled_from([0.5, 1.0, 3.0]),
)
def test_chain_bound_is_above_every_sampled_error_and_below_spectral(target, seed, scale, radius):
    pairs = perturbed_pairs(target, scale, seed)
    x = ball_points(target.widths[0], radius, 3000, seed)
    gap = target.forward(x) - gadget_network(pairs, target.has_bias).forward(x)
    bounds = rigorous_bounds(target, pairs, radius=radius, methods=("spectral", "chain"))
    assert np.linalg.norm(gap, axis=1).max() <= bounds["chain"]
    assert bounds["chain"] <= bounds["spectral"] * (1 + 1e-6)
    assert chain_bound(target, pairs, radius=radius, steps=0) <= bounds["spectral"] * (1 + 1e-6)


@pytest.mark.slow
@settings(max_examples=6, deadline=None)
@given(
    target=relu_networks(bias=st.booleans(), max_depth=4, max_width=3, violate=None),
    seed=seeds,
    scale=st.sampled_from([0.01, 0.3]),
)
def test_chain_bound_is_above_the_exact_error_over_the_ball(target, seed, scale):
    pairs = perturbed_pairs(target, scale, seed)
    exact = exact_error(target, gadget_network(pairs, target.has_bias), ball=0.7, rng=0)
    assert exact.value <= chain_bound(target, pairs, radius=0.7)  # ||v||_inf <= ||v||_2


@pytest.mark.parametrize("bias", [False, True])
def test_chain_bound_is_above_the_exact_error_over_a_box(bias):  # the fast cover of the above
    target = ReLUNetwork.random((3, 4, 3, 2), rng=0, bias=bias)
    pairs = perturbed_pairs(target, 0.05, 0)
    exact = exact_error(target, gadget_network(pairs, bias), box=0.5, rng=0)
    assert exact.value <= chain_bound(target, pairs, radius=0.5 * np.sqrt(3))


def test_a_hard_entry_costs_its_column_not_the_whole_layer():
    """One hard entry ``e`` of ``Δ_1`` at (k, j): the spectral recursion charges ``||W_2|| |e|``,
    the chain bound about ``||W_2[:, k]|| |e|``, and ``x = ±e_j`` attains about that much."""
    rng = np.random.default_rng(0)
    target = ReLUNetwork.random((20, 60, 10), rng=0).scaled(1.0)
    w1, w2 = target.weights
    a1 = w1.copy()
    k = int(np.argmax(w1[:, 0]))  # a unit that input 0 drives: x = e_0 makes it fire
    a1[k, 0] += 0.01
    pairs = [(a1, w1 + 1e-6 * rng.standard_normal(w1.shape)), (w2, w2)]
    spectral = rigorous_bounds(target, pairs, radius=1.0, methods="spectral")["spectral"]
    chain = chain_bound(target, pairs, radius=1.0)
    x = np.vstack([np.eye(20)[0], -np.eye(20)[0]])
    attained = np.linalg.norm(
        target.forward(x) - gadget_network(pairs, False).forward(x), axis=1
    ).max()
    assert attained <= chain <= 0.5 * spectral
    assert chain <= 3 * attained
    assert np.linalg.norm(w2[:, k]) < 0.5 * np.linalg.norm(w2, 2)  # why it can be tighter


def test_chain_norm_bounds_every_diagonal_and_beats_the_product_of_norms():
    rng = np.random.default_rng(1)
    factors = [
        rng.standard_normal((4, 30)),
        rng.standard_normal((30, 30)),
        rng.standard_normal((30, 5)),
    ]
    bound, _ = chain_norm(factors)
    for _ in range(200):
        d1, d2 = rng.random(30), rng.random(30)
        d1[rng.random(30) < 0.5] = rng.integers(0, 2)  # corners of [0, 1] too
        product = factors[0] @ np.diag(d1) @ factors[1] @ np.diag(d2) @ factors[2]
        assert np.linalg.norm(product, 2) <= bound
    assert bound < 0.8 * np.prod([np.linalg.norm(f, 2) for f in factors])


@pytest.mark.parametrize("empty", [0, 1, 2, 3])
def test_a_chain_through_an_empty_layer_is_zero(empty):
    # a construction can restrict a factor to no unit at all (no copy of a neuron read)
    dims = [3, 2, 4, 5]
    dims[empty] = 0
    factors = [np.ones((dims[i], dims[i + 1])) for i in range(3)]
    assert (factors[0] @ factors[1] @ factors[2]).size == 0 or not np.any(
        factors[0] @ factors[1] @ factors[2]
    )
    assert chain_norm(factors) == (0.0, 0.0)


def test_a_chain_bound_that_claims_too_little_is_caught(monkeypatch):
    target = ReLUNetwork.random((3, 5, 2), rng=0)
    ticket = approximate(target, values_per_input=30, rng=1)
    honest = certify(target, ticket, rng=0, samples=256, ascent_steps=10, method="chain")
    assert honest.measured <= honest.certified == honest.bounds["chain"]
    real = certify_module.chain_bound
    monkeypatch.setattr(
        certify_module, "chain_bound", lambda *args, **kwargs: 0.1 * real(*args, **kwargs)
    )
    with pytest.raises(CertificationError, match=r"measured error .* exceeds the chain bound"):
        certify(target, ticket, rng=0, samples=256, ascent_steps=10, method="chain")


def test_a_perturbed_ticket_is_caught_against_the_honest_chain_bound(monkeypatch):
    target = ReLUNetwork.random((3, 5, 2), rng=0)
    ticket = approximate(target, values_per_input=30, rng=1)
    claimed = certify(target, ticket, rng=0, method="chain").certified
    network = ticket.pruned_network()
    worse = ReLUNetwork([*network.weights[:-1], network.weights[-1] * 1.5])
    monkeypatch.setattr(certify_module, "chain_bound", lambda *args, **kwargs: claimed)
    with pytest.raises(CertificationError, match="exceeds the chain bound"):
        certify(target, worse, rng=0, method="chain")


def test_depth_one_is_the_first_pair_error_times_the_radius():
    target = ReLUNetwork.random((4, 3), rng=2)
    pairs = perturbed_pairs(target, 0.1, 2)
    spectral = certified_error(
        [
            np.linalg.norm(
                np.hstack([pairs[0][0] - target.weights[0], target.weights[0] - pairs[0][1]]), 2
            )
        ],
        [np.linalg.norm(target.weights[0], 2)],
        2.0,
    )
    assert chain_bound(target, pairs, radius=2.0) == pytest.approx(spectral, rel=1e-7)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(radius=-1.0), r"`radius` must be"),
        (dict(radius=1.0, steps=-1), r"`steps` must be"),
    ],
)
def test_invalid_parameters(kwargs, match):
    target = ReLUNetwork.random((3, 4, 2), rng=0)
    pairs = perturbed_pairs(target, 0.1, 0)
    with pytest.raises(InvalidParameterError, match=match):
        chain_bound(target, pairs, **kwargs)
    with pytest.raises(InvalidParameterError, match=r"`pairs` must hold one"):
        chain_bound(target, pairs[:1], radius=1.0)
