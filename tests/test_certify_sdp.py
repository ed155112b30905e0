"""Tests of the semidefinite bound (:mod:`strong_lth.sdp`): every constraint of the relaxation
holds at the networks' own hidden values, the bound is above every sampled error and the exact
error on random small targets (with and without biases), and certify's chain check watches it."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import strong_lth._certify as certify_module
from strong_lth import ReLUNetwork, approximate, certify, exact_error
from strong_lth._certify import rigorous_bounds
from strong_lth.exceptions import CertificationError, InvalidParameterError
from strong_lth.gadgets import gadget_network
from strong_lth.sdp import relaxation, sdp_bound
from strong_lth.testing.strategies import relu_networks, seeds
from tests.test_certify_chain import ball_points
from tests.test_lockstep import perturbed_pairs


def hidden_values(target, pairs, x):
    """``[σ(x̃), σ(-x̃)_S, g_1, s_1, ..., g_{l-1}, s_{l-1}]`` per row of ``x`` by forward passes
    of both networks (gadget form, written out here), and the output gap ``G(x) - F(x)``."""
    weights = target.augmented().weights
    xt = np.hstack([x, np.ones((len(x), 1))]) if target.has_bias else x
    signed = np.ones(xt.shape[1], dtype=bool)
    signed[-1] = not target.has_bias
    a, b = pairs[0]
    y = np.maximum(xt, 0) @ a.T - np.maximum(-xt[:, signed], 0) @ b[:, signed].T
    z = xt @ weights[0].T
    parts = [np.maximum(xt, 0), np.maximum(-xt[:, signed], 0)]
    for (a, _), w in zip(pairs[1:], weights[1:]):
        g, h = np.maximum(y, 0), np.maximum(z, 0)
        parts += [g, g - h]
        y, z = g @ a.T, h @ w.T
    return np.hstack(parts), y - z


@settings(max_examples=20, deadline=None)
@given(
    target=relu_networks(bias=st.booleans(), max_depth=3, max_width=4, violate=None),
    seed=seeds,
)
def test_every_constraint_holds_at_the_networks_hidden_values(target, seed):
    """Independent of the solver: at every input ``out w`` is the networks' gap, each equation
    is 0 and each inequality <= 0, and the input variables have the squared norm of ``x̃``."""
    pairs = perturbed_pairs(target, 0.1, seed)
    out, a, b, inequality, inputs, scales, _ = relaxation(
        target.augmented().weights, pairs, target.has_bias
    )
    x = ball_points(target.widths[0], 1.0, 200, seed)
    values, gap = hidden_values(target, pairs, x)
    w = values / scales
    np.testing.assert_allclose(
        w @ out.T, gadget_network(pairs, target.has_bias).forward(x) - target.forward(x), atol=1e-9
    )
    np.testing.assert_allclose(w @ out.T, gap, atol=1e-9)
    products = (w @ a.T) * (w @ b.T)
    assert np.all(np.abs(products[:, ~inequality]) <= 1e-9)
    assert np.all(products[:, inequality] <= 1e-9)
    norms = np.sum(x**2, axis=1) + target.has_bias
    np.testing.assert_allclose(np.sum(w[:, inputs] ** 2, axis=1), norms, atol=1e-9)


@settings(max_examples=20, deadline=None)
@given(
    target=relu_networks(bias=st.booleans(), max_depth=3, max_width=4, violate=None),
    seed=seeds,
    scale=st.sampled_from([1e-3, 0.05, 0.5]),
    radius=st.sampled_from([0.5, 1.0, 3.0]),
)
def test_sdp_bound_is_above_every_sampled_error(target, seed, scale, radius):
    pairs = perturbed_pairs(target, scale, seed)
    x = ball_points(target.widths[0], radius, 3000, seed)
    gap = target.forward(x) - gadget_network(pairs, target.has_bias).forward(x)
    assert np.linalg.norm(gap, axis=1).max() <= sdp_bound(target, pairs, radius=radius)


@pytest.mark.slow
@settings(max_examples=6, deadline=None)
@given(
    target=relu_networks(bias=st.booleans(), max_depth=3, max_width=3, violate=None),
    seed=seeds,
    scale=st.sampled_from([0.01, 0.3]),
)
def test_sdp_bound_is_above_the_exact_error_over_the_ball(target, seed, scale):
    pairs = perturbed_pairs(target, scale, seed)
    exact = exact_error(target, gadget_network(pairs, target.has_bias), ball=0.7, rng=0)
    assert exact.value <= sdp_bound(target, pairs, radius=0.7)  # ||v||_inf <= ||v||_2


@pytest.mark.parametrize("bias", [False, True])
def test_sdp_bound_is_above_the_exact_error_over_a_box(bias):
    target = ReLUNetwork.random((3, 4, 3, 2), rng=0, bias=bias)
    pairs = perturbed_pairs(target, 0.05, 0)
    exact = exact_error(target, gadget_network(pairs, bias), box=0.5, rng=0)
    assert exact.value <= sdp_bound(target, pairs, radius=0.5 * np.sqrt(3))  # ||v||_inf <= ||v||_2


def test_sdp_bound_is_tighter_than_the_chain_bound_where_the_slopes_meet_the_input():
    """Free slopes (chain) against slopes tied to one input (sdp), on a 3-5-4-2 target."""
    target = ReLUNetwork.random((3, 5, 4, 2), rng=0)
    pairs = perturbed_pairs(target, 0.05, 0)
    found = rigorous_bounds(target, pairs, radius=1.0, methods=("chain", "sdp"))
    x = ball_points(3, 1.0, 20000, 0)
    sampled = np.linalg.norm(
        target.forward(x) - gadget_network(pairs, False).forward(x), axis=1
    ).max()
    assert sampled <= found["sdp"] <= 0.8 * found["chain"]


def test_an_sdp_bound_that_claims_too_little_is_caught(monkeypatch):
    target = ReLUNetwork.random((3, 4, 2), rng=0)
    ticket = approximate(target, values_per_input=8, rng=1)
    honest = certify(target, ticket, rng=0, samples=256, ascent_steps=10, method="sdp")
    assert honest.measured <= honest.certified == honest.bounds["sdp"]
    real = certify_module.sdp_bound
    monkeypatch.setattr(
        certify_module, "sdp_bound", lambda *args, **kwargs: 0.1 * real(*args, **kwargs)
    )
    with pytest.raises(CertificationError, match=r"measured error .* exceeds the sdp bound"):
        certify(target, ticket, rng=0, samples=256, ascent_steps=10, method="sdp")


@pytest.mark.parametrize("radius", [0.0, -1.0, np.nan])
def test_sdp_bound_refuses_a_bad_radius(radius):
    target = ReLUNetwork.random((2, 3, 1), rng=0)
    with pytest.raises(InvalidParameterError, match="radius"):
        sdp_bound(target, perturbed_pairs(target, 0.1, 0), radius=radius)


def test_a_deep_biased_target_gets_a_finite_bound():
    """No common scale of the first multipliers starts the barrier here (the bound was inf before
    START_ROUNDS): the start grows some of them, and the bound is finite and above the error."""
    target = ReLUNetwork.random((12, 24, 24, 12, 3), rng=3, bias=True)
    pairs = perturbed_pairs(target, 1e-3, 3)
    bound = sdp_bound(target, pairs, radius=1.0)
    x = ball_points(12, 1.0, 5000, 3)
    gap = target.forward(x) - gadget_network(pairs, True).forward(x)
    assert (
        np.linalg.norm(gap, axis=1).max()
        <= bound
        < rigorous_bounds(target, pairs, radius=1.0, methods="chain")["chain"]
    )
