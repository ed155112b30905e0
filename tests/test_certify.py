"""Tests of certify(): every rigorous bound against the exact and measured errors, the chain
checks that catch a broken bound, and the self-check that refuses a ticket whose layout is not
what its masks claim."""

import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strong_lth import ReLUNetwork, Ticket, approximate, certify
from strong_lth._certify import (
    AGREEMENT,
    METHODS,
    certified_error,
    cheap_methods,
    rigorous_bounds,
)
from strong_lth.exceptions import CertificationError, InvalidParameterError
from strong_lth.gadgets import error_matrix, gadget_form, gadget_network, signed_inputs
from strong_lth.testing.strategies import relu_networks, seeds
from strong_lth.worst_case import measure_worst_case, structured_starts

certify_module = importlib.import_module(
    "strong_lth._certify"
)  # the package's `certify` is the function


@settings(max_examples=8, deadline=None)
@given(
    target=relu_networks(bias=st.booleans(), max_depth=4, max_width=4, violate=None),
    n=st.integers(4, 16),
    seed=seeds,
)
def test_every_bound_is_above_the_measured_error_on_fresh_inputs(target, n, seed):
    ticket = approximate(target, values_per_input=n, rng=seed % 1000)
    cert = certify(target, ticket, rng=seed, samples=256, starts=4, ascent_steps=20)
    assert set(cert.bounds) == set(cheap_methods(target.widths))
    assert cert.certified == min(cert.bounds.values())
    assert cert.bounds[cert.method] == cert.certified
    rng = np.random.default_rng(seed)
    d = target.widths[0]
    x = rng.standard_normal((4000, d))
    x *= (rng.random((4000, 1)) ** (1 / d)) / np.linalg.norm(x, axis=1, keepdims=True)
    gap = np.linalg.norm(target.forward(x) - ticket.forward(x), axis=1).max()
    for value in cert.bounds.values():
        assert max(gap, cert.measured) <= value * (1 + AGREEMENT)


@pytest.mark.parametrize("bias", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_every_box_bound_is_above_the_exact_error(bias):
    target = ReLUNetwork.random((3, 4, 3, 2), rng=2, bias=bias)
    ticket = approximate(target, values_per_input=10, rng=1)
    cert = certify(target, ticket, rng=0, box=0.4, samples=256, ascent_steps=10, method=METHODS)
    x = np.random.default_rng(0).uniform(-0.4, 0.4, (20000, 3))
    sampled = np.abs(target.forward(x) - ticket.forward(x)).max()
    assert sampled <= cert.exact.upper_bound * (1 + AGREEMENT)
    assert set(cert.box_bounds) == set(METHODS)
    assert cert.box_certified == min(cert.box_bounds.values())
    for value in cert.box_bounds.values():
        assert cert.exact.value <= value * (1 + AGREEMENT)
    # the lockstep bounds run over the box itself: far below the ball that contains it
    assert cert.box_bounds["lockstep"] < cert.box_bounds["spectral"]


def test_one_sided_tau_ignores_units_that_never_fire():
    target = ReLUNetwork.random((4, 6, 3), rng=0)
    ticket = approximate(target, values_per_input=12, rng=1)
    cert = certify(target, ticket, rng=0, method="spectral")
    pairs = gadget_form(target, ticket)
    (a, _), w = pairs[1], target.weights[1]
    assert cert.tau[1] == pytest.approx(np.linalg.norm(a - w, 2), rel=1e-12)
    # B_2 can be anything: its units read a ReLU output and never fire
    wild = [pairs[0], (a, np.full_like(a, 100.0))]
    assert rigorous_bounds(target, wild, radius=1.0, methods="spectral") == pytest.approx(
        {"spectral": cert.certified}, rel=1e-12
    )
    taus = [
        np.linalg.norm(error_matrix(w, a, b, signed_inputs(i, w.shape[1], False)), 2)
        for i, (w, (a, b)) in enumerate(zip(target.weights, pairs), start=1)
    ]
    norms = [np.linalg.norm(w, 2) for w in target.weights]
    assert cert.bounds["spectral"] == pytest.approx(certified_error(taus, norms, 1.0), rel=1e-12)


def test_method_selects_and_rigorous_bounds_matches_certify():
    target = ReLUNetwork.random((3, 5, 2), rng=4)
    ticket = approximate(target, values_per_input=12, rng=1)
    only = certify(target, ticket, rng=0, method="lockstep", samples=128, ascent_steps=5)
    assert set(only.bounds) == {"lockstep"} and only.method == "lockstep"
    every = certify(target, ticket, rng=0, samples=128, ascent_steps=5)
    assert rigorous_bounds(target, gadget_form(target, ticket), radius=1.0) == every.bounds
    assert every.certified <= every.bounds["spectral"]


def test_cheap_methods_rule():
    assert cheap_methods((4, 8, 2)) == ("spectral", "chain", "lockstep", "split")
    assert cheap_methods((16, 32, 32, 4)) == ("spectral", "chain", "lockstep")
    assert cheap_methods((784, 500, 10)) == ("spectral", "chain", "lockstep")
    assert cheap_methods((4096, 4096, 4096, 4096, 10)) == ("spectral",)


def test_a_bound_that_claims_too_little_is_caught(monkeypatch):
    target = ReLUNetwork.random((3, 5, 2), rng=0)
    ticket = approximate(target, values_per_input=30, rng=1)
    honest = certify(target, ticket, rng=0, samples=256, ascent_steps=10, method="lockstep")
    assert honest.measured <= honest.certified
    real = certify_module.error_bound

    def broken_ball(*args, **kwargs):
        value = real(*args, **kwargs)
        return value * 0.1 if kwargs["norm"] == 2 else value

    monkeypatch.setattr(certify_module, "error_bound", broken_ball)
    with pytest.raises(CertificationError, match=r"measured error .* exceeds the lockstep bound"):
        certify(target, ticket, rng=0, samples=256, ascent_steps=10, method="lockstep")

    def broken_box(*args, **kwargs):
        value = real(*args, **kwargs)
        return value * 0.1 if kwargs["norm"] != 2 else value

    monkeypatch.setattr(certify_module, "error_bound", broken_box)
    with pytest.raises(CertificationError, match=r"exact error .* exceeds the lockstep bound"):
        certify(target, ticket, rng=0, samples=256, ascent_steps=10, box=0.5, method="lockstep")


def test_a_perturbed_network_whose_error_exceeds_the_claim_is_caught(monkeypatch):
    target = ReLUNetwork.random((3, 5, 2), rng=0)
    ticket = approximate(target, values_per_input=30, rng=1)
    claimed = certify(target, ticket, rng=0).certified
    # the bounds of the honest ticket, reported for a network that errs far more
    network = ticket.pruned_network()
    worse = ReLUNetwork([*network.weights[:-1], network.weights[-1] * 1.5])
    monkeypatch.setattr(certify_module, "_bounds", lambda *args, **kwargs: {"lockstep": claimed})
    with pytest.raises(CertificationError, match="exceeds the lockstep bound"):
        certify(target, worse, rng=0)


def _hostile_masks(ticket, first):
    masks = list(ticket.masks)
    masks[0] = first
    return dict(
        seed=ticket.seed,
        distribution=ticket.distribution,
        widths=ticket.widths,
        values_per_input=ticket.values_per_input,
        construction=ticket.construction,
        masks=tuple(masks),
        input_bias=ticket.input_bias,
    )


def test_a_ticket_whose_layout_breaks_the_gadget_structure_is_refused_when_built():
    # issue 18's reproducers: repeated first-layer positions, a unit rewired to another input
    target = ReLUNetwork.random((3, 4, 2), rng=0)
    ticket = approximate(target, values_per_input=30, rng=1)
    first = ticket.masks[0]
    with pytest.raises(InvalidParameterError, match="must keep each position once"):
        Ticket(**_hostile_masks(ticket, np.vstack([first, first])))
    rewired = first.copy()
    rewired[0, 1] = (rewired[0, 1] + 1) % 3  # the unit now reads another input than its index
    with pytest.raises(InvalidParameterError, match="masks"):
        Ticket(**_hostile_masks(ticket, rewired))


def test_certify_refuses_a_ticket_whose_forward_is_not_its_gadget_form():
    """The second line of defence: a ticket corrupted after it was checked (a first-layer unit
    with two inputs, which no gadget pair computes) is caught by certify's own comparison of the
    gadget form with the ticket's forward, never certified."""
    target = ReLUNetwork.random((3, 4, 2), rng=0)
    ticket = approximate(target, values_per_input=30, rng=1)
    first = ticket.masks[0]
    second_input = np.array([[first[0, 0], (first[0, 1] + 1) % 3]])
    object.__setattr__(ticket, "masks", (np.vstack([first, second_input]), *ticket.masks[1:]))
    with pytest.raises(CertificationError, match="cannot be certified"):
        certify(target, ticket, rng=0)


def test_invalid_radius_and_bias_are_parameter_errors():
    target = ReLUNetwork.random((3, 4, 2), rng=0)
    ticket = approximate(target, values_per_input=12, rng=1)
    with pytest.raises(InvalidParameterError, match=r"`radius` must keep the networks' values"):
        certify(target, ticket, radius=1e300)
    network = ticket.pruned_network()
    biased = ReLUNetwork(
        network.weights,
        [np.full(network.widths[1], 0.1)] + [np.zeros(w) for w in network.widths[2:]],
    )
    with pytest.raises(InvalidParameterError, match=r"`network` must have no first-layer bias"):
        certify(target, biased)
    with pytest.raises(InvalidParameterError, match=r"`method` must be one of"):
        certify(target, ticket, method="magic")
    with pytest.raises(InvalidParameterError, match=r"`radius` must be in \(0, inf\)"):
        rigorous_bounds(target, gadget_form(target, ticket), radius=0.0)


def test_structured_starts_reach_an_error_random_points_miss():
    # one column of the first pair errs: only inputs near +e_j excite it, which random points of
    # a 300-dimensional sphere never are
    target = ReLUNetwork.random((300, 20, 2), rng=0)
    pairs = [(w.copy(), w.copy()) for w in target.weights]
    pairs[0][0][:, 17] += 0.3
    gadget = gadget_network(pairs, False)
    starts = structured_starts(target.weights, pairs, False, 1.0)
    assert np.any(np.all(np.isclose(starts, np.eye(300)[17]), axis=1))
    kwargs = dict(radius=1.0, sphere=True, samples=512, starts=4, ascent_steps=0)
    plain, _ = measure_worst_case(target, gadget, rng=np.random.default_rng(0), **kwargs)
    found, where = measure_worst_case(
        target, gadget, rng=np.random.default_rng(0), extra_starts=starts, **kwargs
    )
    at_axis = np.linalg.norm(target.forward(np.eye(300)[17]) - gadget.forward(np.eye(300)[17]))
    assert found >= at_axis > 2 * plain
    assert np.linalg.norm(where) == pytest.approx(1.0)
