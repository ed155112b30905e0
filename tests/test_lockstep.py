"""Tests of the lockstep bounds: every interval and every bound checked against the networks
themselves (dense samples, a grid on d <= 2, the exact MILP)."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strong_lth import ReLUNetwork, exact_error
from strong_lth.exceptions import InvalidParameterError
from strong_lth.gadgets import gadget_network
from strong_lth.lockstep import error_bound, unit_bounds
from strong_lth.testing.strategies import relu_networks, seeds


def perturbed_pairs(target, scale, seed):
    """``(A_i, B_i)``: the target's bias-augmented layers plus independent noise (an arbitrary
    gadget network near the target, errors of every sign and on every input)."""
    rng = np.random.default_rng(seed)
    return [
        (w + scale * rng.standard_normal(w.shape), w + scale * rng.standard_normal(w.shape))
        for w in target.augmented().weights
    ]


def domain_points(d, half, radius, count, seed):
    """Random points of ``[-half, half]^d`` (and of the ball ``radius``, when given), with the
    box's corners and the ball's axis points mixed in."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-half, half, (count, d))
    x[: count // 4] = np.where(x[: count // 4] > 0, half, -half)
    if radius is not None:
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        x *= np.minimum(1.0, radius / np.maximum(norms, 1e-300))
        x[: min(d, count)] = radius * np.eye(d)[: min(d, count)] * (half >= radius)
    return x


def layer_values(target, pairs, x):
    """``(z_i, y_i)`` of every layer on the rows of ``x``."""
    h = np.hstack([x, np.ones((len(x), 1))]) if target.has_bias else x
    g = h
    out = []
    for w, (a, b) in zip(target.augmented().weights, pairs):
        z = h @ w.T
        y = np.maximum(g, 0) @ a.T - np.maximum(-g, 0) @ b.T
        out.append((z, y))
        h, g = np.maximum(z, 0), np.maximum(y, 0)
    return out


networks = relu_networks(bias=st.booleans(), max_depth=4, max_width=5, violate=None)


@settings(max_examples=25, deadline=None)
@given(
    target=networks,
    seed=seeds,
    scale=st.sampled_from([1e-3, 0.05, 0.5]),
    half=st.sampled_from([0.3, 1.0]),
    ball=st.booleans(),
)
def test_unit_bounds_contain_every_sampled_value(target, seed, scale, half, ball):
    pairs = perturbed_pairs(target, scale, seed)
    d = target.widths[0]
    radius = 0.8 if ball else None
    layers = unit_bounds(
        target, pairs, lower=np.full(d, -half), upper=np.full(d, half), radius=radius
    )
    x = domain_points(d, half, radius, 4000, seed)
    for bounds, (z, y) in zip(layers, layer_values(target, pairs, x)):
        assert np.all(bounds.target_lo <= z) and np.all(z <= bounds.target_hi)
        assert np.all(bounds.ticket_lo <= y) and np.all(y <= bounds.ticket_hi)
        assert np.all(bounds.difference_lo <= y - z) and np.all(y - z <= bounds.difference_hi)


@settings(max_examples=15, deadline=None)
@given(
    target=relu_networks(bias=st.booleans(), max_depth=3, max_width=4, violate=None, widths=None),
    seed=seeds,
    domains=st.sampled_from([1, 9]),
)
def test_error_bound_holds_on_a_dense_grid_in_low_dimension(target, seed, domains):
    d = target.widths[0]
    if d > 2:
        target = ReLUNetwork(
            [target.weights[0][:, :2], *target.weights[1:]],
            None if target.biases is None else list(target.biases),
        )
        d = 2
    pairs = perturbed_pairs(target, 0.05, seed)
    gadget = gadget_network(pairs, target.has_bias)
    axis = np.linspace(-1.0, 1.0, 201)
    grid = np.array(list(itertools.product(axis, repeat=d)))
    gap = np.abs(target.forward(grid) - gadget.forward(grid))
    box = error_bound(
        target, pairs, lower=-np.ones(d), upper=np.ones(d), norm=np.inf, domains=domains
    )
    assert gap.max() <= box
    inside = np.linalg.norm(grid, axis=1) <= 1.0
    ball = error_bound(
        target, pairs, lower=-np.ones(d), upper=np.ones(d), radius=1.0, domains=domains
    )
    assert np.linalg.norm(gap[inside], axis=1).max() <= ball


def test_splitting_tightens_and_converges_to_the_grid_maximum():
    target = ReLUNetwork.random((2, 6, 2), rng=3)
    pairs = perturbed_pairs(target, 0.02, 3)
    gadget = gadget_network(pairs, False)
    axis = np.linspace(-1.0, 1.0, 401)
    grid = np.array(list(itertools.product(axis, repeat=2)))
    truth = np.abs(target.forward(grid) - gadget.forward(grid)).max()
    kwargs = dict(lower=-np.ones(2), upper=np.ones(2), norm=np.inf)
    whole = error_bound(target, pairs, **kwargs)
    split = error_bound(target, pairs, domains=256, **kwargs)
    assert truth <= split <= whole
    assert split <= 1.1 * truth  # many sub-boxes make every unit stable: nearly exact


@pytest.mark.parametrize(
    ("bias", "seed"),
    [
        (False, 0),
        (True, 0),
        *[pytest.param(b, s, marks=pytest.mark.slow) for b in (0, 1) for s in (1, 2)],
    ],
)
def test_error_bound_is_above_the_exact_error(bias, seed):
    target = ReLUNetwork.random((3, 4, 3, 2), rng=seed, bias=bool(bias))
    pairs = perturbed_pairs(target, 0.01, seed)
    exact = exact_error(target, gadget_network(pairs, bool(bias)), box=0.5, rng=0)
    bound = error_bound(target, pairs, lower=np.full(3, -0.5), upper=np.full(3, 0.5), norm=np.inf)
    assert exact.value <= bound


def test_first_pair_is_exact():
    # one layer: δ_1 is linear in [σ(x); σ(-x)], and its supremum over a box or ball is exact
    target = ReLUNetwork.random((3, 2), rng=0)
    pairs = perturbed_pairs(target, 0.1, 0)
    (a, b), w = pairs[0], target.weights[0]
    layers = unit_bounds(target, pairs, lower=-np.ones(3), upper=np.ones(3))
    corners = np.array(list(itertools.product([-1.0, 0.0, 1.0], repeat=3)))
    diff = np.maximum(corners, 0) @ (a - w).T + np.maximum(-corners, 0) @ (w - b).T
    # exact up to the outward rounding margin, and never inside the true range
    assert layers[0].difference_hi == pytest.approx(diff.max(0), abs=1e-6)
    assert layers[0].difference_lo == pytest.approx(diff.min(0), abs=1e-6)
    assert np.all(layers[0].difference_hi >= diff.max(0))
    assert np.all(layers[0].difference_lo <= diff.min(0))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda t, p: unit_bounds(t, p, lower=np.zeros(2), upper=np.ones(3)),
            r"`lower` must be a finite array of shape \(3,\)",
        ),
        (
            lambda t, p: unit_bounds(t, p, lower=np.ones(3), upper=np.zeros(3)),
            r"`lower` must not exceed `upper`",
        ),
        (
            lambda t, p: unit_bounds(t, p, lower=-np.ones(3), upper=np.full(3, np.inf)),
            r"`upper` must be a finite array",
        ),
        (
            lambda t, p: unit_bounds(t, p[:1], lower=-np.ones(3), upper=np.ones(3)),
            r"`pairs` must hold one \(A, B\) per target layer \(2\); got 1",
        ),
        (
            lambda t, p: unit_bounds(
                t, [p[0], (p[1][0].T, p[1][1])], lower=-np.ones(3), upper=np.ones(3)
            ),
            r"`pairs` entry 2 must be two matrices of shape \(2, 4\)",
        ),
        (
            lambda t, p: unit_bounds(t, p, lower=-np.ones(3), upper=np.ones(3), radius=-1.0),
            r"`radius` must be in \(0, inf\)",
        ),
        (
            lambda t, p: error_bound(t, p, lower=-np.ones(3), upper=np.ones(3), norm=1),
            r"`norm` must be 2 or inf; got 1",
        ),
        (
            lambda t, p: error_bound(t, p, lower=-np.ones(3), upper=np.ones(3), domains=0),
            r"`domains` must be a positive integer; got 0",
        ),
    ],
)
def test_invalid_parameters(call, match):
    target = ReLUNetwork.random((3, 4, 2), rng=0)
    with pytest.raises(InvalidParameterError, match=match):
        call(target, perturbed_pairs(target, 0.01, 0))
