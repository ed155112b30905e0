"""Tests of the exact worst-case error (strong_lth.exact): oracles, the chain, brackets, errors."""

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strong_lth import (
    CertificationError,
    InvalidParameterError,
    ReLUNetwork,
    TheoryAssumptionWarning,
    approximate,
    certify,
    exact_error,
)
from strong_lth._certify import AGREEMENT
from strong_lth.subset_sum import Status

from .strategies import relu_networks, seeds

GRID_POINTS = {1: 2001, 2: 201, 3: 41}
"""Grid points per axis of the oracle's first pass (about 10^4 to 10^5 points in all)."""

ZOOMS, ZOOM_POINTS = 12, 11
"""The oracle then zooms in on its best points: a grid of ZOOM_POINTS per axis over two cells
of the previous grid, ZOOMS times, so its resolution ends below 1e-12 of the box."""

ORACLE_RTOL = 1e-6
"""The error is piecewise linear with slopes of order 1, so a grid of resolution r misses the
maximum by O(r); after the zooms the oracle is within far less than 1e-6 of it (relative), and a
solver that missed the true maximiser would be off by far more."""


def _error(target, network, x):
    return np.abs(target.forward(x) - network.forward(x)).max(axis=-1)


def grid_oracle(target, network, box, keep=8, starts=()):
    """``max ||F(x) - G(x)||_inf`` over the box by a dense grid refined by zooming in on the best
    ``keep`` points and on ``starts`` (local ascent by ever finer grids): returns (grid value,
    refined value)."""
    d = target.widths[0] if isinstance(target, ReLUNetwork) else network.widths[0]
    axis = np.linspace(-box, box, GRID_POINTS[d])
    points = np.array(list(itertools.product(axis, repeat=d)))
    errors = _error(target, network, points)
    grid_value = float(errors.max())
    best = [*points[np.argsort(errors)[-keep:]], *starts]
    step = axis[1] - axis[0]
    refined = grid_value
    for center in best:
        cell = step
        for _ in range(ZOOMS):
            local = np.linspace(-cell, cell, ZOOM_POINTS)
            around = np.clip(center + np.array(list(itertools.product(local, repeat=d))), -box, box)
            errors = _error(target, network, around)
            center = around[np.argmax(errors)]
            refined = max(refined, float(errors.max()))
            cell *= 2 / (ZOOM_POINTS - 1)
    return grid_value, refined


def _ticket(target, n, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TheoryAssumptionWarning)
        return approximate(target, values_per_input=n, rng=seed)


def _check_bracket(result, value):
    assert result.value <= value * (1 + ORACLE_RTOL) + 1e-15
    assert value <= result.upper_bound * (1 + ORACLE_RTOL) + 1e-15


CASES = [  # (widths, bias, values per input, seed, box): tickets within 1e-3 to 0.2
    ((1, 4, 1), False, 28, 0, 1.0),
    ((2, 4, 2), False, 28, 1, 1.0),
    ((2, 3, 3, 1), True, 24, 2, 0.7),
    ((3, 4, 2), False, 30, 3, 1.0),
    ((3, 3, 3), True, 24, 4, 2.0),
    ((2, 4, 4, 2), True, 24, 5, 1.0),
    ((3, 4, 4, 1), False, 24, 6, 1.0),
]


@pytest.mark.parametrize(("widths", "bias", "n", "seed", "box"), CASES)
def test_exact_matches_a_refined_grid_search(widths, bias, n, seed, box):
    target = ReLUNetwork.random(widths, rng=seed, bias=bias)
    ticket = _ticket(target, n, seed)
    result = exact_error(target, ticket, box=box)
    grid_value, refined = grid_oracle(target, ticket, box)
    assert result.status == Status.OPTIMAL
    assert grid_value <= result.upper_bound
    _check_bracket(result, refined)
    assert refined <= result.value * (1 + ORACLE_RTOL)  # the grid finds nothing better
    assert result.upper_bound - result.value <= result.margin + result.tolerance
    # the maximiser reproduces the value with both networks' own forward passes
    x = result.maximizer
    assert np.all(np.abs(x) <= box)
    assert result.value == float(np.abs(target.forward(x) - ticket.forward(x)).max())
    assert result.output == int(np.argmax(np.abs(target.forward(x) - ticket.forward(x))))
    assert result.measured <= result.value


def test_the_program_finds_more_than_sampling_and_the_grid():
    """Sampling and ascent stop at a local maximum 9% short, the grid's zooms 1.4% short; the
    MILP finds the maximum, and zooming in around its maximiser finds nothing higher."""
    target = ReLUNetwork.random((3, 4, 4, 1), rng=2)
    ticket = _ticket(target, 24, 2)
    result = exact_error(target, ticket)
    assert result.status == Status.OPTIMAL
    assert result.measured < 0.95 * result.value
    grid_value, refined = grid_oracle(target, ticket, 1.0, starts=[result.maximizer])
    assert grid_value < result.value
    _check_bracket(result, refined)


@pytest.mark.parametrize("seed", [5, 6])
def test_any_two_networks_with_other_widths(seed):
    """Not a ticket of each other, other hidden widths, biases: encoded independently."""
    first = ReLUNetwork.random((2, 4, 2), rng=seed, bias=True)
    second = ReLUNetwork.random((2, 3, 3, 2), rng=seed + 100, bias=True)
    result = exact_error(first, second, box=1.5)
    _, refined = grid_oracle(first, second, 1.5)
    assert result.status == Status.OPTIMAL
    _check_bracket(result, refined)


def test_a_second_solver_and_other_forms_of_the_same_networks_agree():
    target = ReLUNetwork.random((2, 4, 3), rng=7, bias=True)
    ticket = _ticket(target, 7, 1)
    results = [
        exact_error(target, ticket),
        exact_error(target, ticket, solver="highs"),
        exact_error(target, ticket.pruned_network()),  # aligned through its gadget form
        exact_error(ticket, target),  # swapped
        exact_error(target, ticket, tighten=False),
    ]
    for result in results:
        assert result.status == Status.OPTIMAL
    value = results[0].value
    for result in results[1:]:
        _check_bracket(result, value)
        _check_bracket(results[0], result.value)


def test_ticket_against_ticket():
    target = ReLUNetwork.random((2, 3, 2), rng=8)
    coarse, fine = _ticket(target, 5, 1), _ticket(target, 9, 2)
    result = exact_error(coarse, fine, box=1.0)
    _, refined = grid_oracle(coarse.reduced_network(), fine.reduced_network(), 1.0)
    assert result.status == Status.OPTIMAL
    _check_bracket(result, refined)


def test_a_network_against_itself_is_exactly_zero():
    target = ReLUNetwork.random((3, 4, 2), rng=9, bias=True)
    result = exact_error(target, target)
    assert result.status == Status.OPTIMAL
    assert result.value == 0.0
    assert result.binaries > 0  # the program is not empty: the shared units cancel
    assert 0.0 <= result.upper_bound <= result.margin


def test_the_time_limit_bracket_contains_the_exact_value():
    target = ReLUNetwork.random((3, 6, 6, 2), rng=10)
    ticket = _ticket(target, 10, 3)
    exact = exact_error(target, ticket)
    assert exact.status == Status.OPTIMAL
    # a limit too short for anything past the first search: the bounds stay open
    cut = exact_error(target, ticket, time_limit=1e-6)
    assert cut.status == Status.TIME_LIMIT
    assert "time limit reached" in cut.message
    assert cut.value <= exact.value <= cut.upper_bound
    assert cut.upper_bound > exact.upper_bound
    # a moderate limit: whether it finishes depends on the machine, the bracket never does
    part = exact_error(target, ticket, time_limit=0.5)
    assert part.value <= exact.upper_bound and exact.value <= part.upper_bound


def test_the_same_seed_gives_the_same_result():
    """With one thread; with more, the same maximum (tests/test_exact_threads.py)."""
    target = ReLUNetwork.random((2, 4, 2), rng=11)
    ticket = _ticket(target, 6, 1)
    first = exact_error(target, ticket, rng=3, threads=1)
    second = exact_error(target, ticket, rng=3, threads=1)
    assert first.value == second.value and first.upper_bound == second.upper_bound
    assert np.array_equal(first.maximizer, second.maximizer)


@settings(max_examples=8)
@given(
    target=relu_networks(max_width=3, max_depth=2),
    n=st.integers(3, 10),
    seed=seeds,
    box=st.floats(min_value=0.25, max_value=2.0),
)
def test_chain_measured_exact_certified(target, n, seed, box):
    ticket = _ticket(target, n, seed)
    cert = certify(target, ticket, rng=seed, box=box)
    exact = cert.exact
    assert exact.status == Status.OPTIMAL
    assert exact.measured <= exact.value <= exact.upper_bound
    assert exact.value <= cert.box_certified * (1 + AGREEMENT)
    # the certified bound over the ball of radius box sqrt(d) covers the box's corners
    corners = box * np.array(list(itertools.product((-1.0, 1.0), repeat=target.widths[0])))
    assert _error(target, ticket, corners).max() <= exact.upper_bound
    assert cert.box == box
    # the ball figures are unchanged by the request
    plain = certify(target, ticket, rng=seed)
    assert (plain.certified, plain.measured) == (cert.certified, cert.measured)
    assert plain.exact is None and plain.box_certified is None


def test_report_prints_the_chain():
    target = ReLUNetwork.random((3, 4, 2), rng=12)
    ticket = _ticket(target, 8, 1)
    cert = certify(target, ticket, rng=0, box=0.5)
    report = ticket.report.with_exact(cert)
    text = str(report)
    assert "measured" in text and "exact" in text and "[-0.5, 0.5]^3" in text
    assert report.exact.value == cert.exact.value
    assert report.exact.certified == cert.box_certified
    assert report.to_dict()["exact"]["status"] == "OPTIMAL"
    assert "exact" not in str(ticket.report).split("error sup")[1].split("\n")[1]


def test_a_maximiser_that_does_not_reproduce_is_an_error():
    target = ReLUNetwork.random((2, 3, 2), rng=13)
    ticket = _ticket(target, 6, 1)
    wrong = ReLUNetwork(ticket.reduced_network().weights)
    # a network whose forward pass disagrees with the function that gets encoded
    object.__setattr__(wrong, "forward", lambda x: ticket.forward(x) + 1e-3)
    with pytest.raises(CertificationError, match="forward passes give error"):
        exact_error(target, wrong)


def disc_oracle(target, network, radius, keep=8):
    """``max ||F(x) - G(x)||_inf`` over the disc ``||x||_2 <= radius`` (d = 2) by a dense polar
    grid (the circle itself included), refined by zooming in on the best ``keep`` points with
    local grids projected onto the disc: returns (grid value, refined value)."""
    radii = np.linspace(0.0, radius, 201)
    angles = np.linspace(0.0, 2 * np.pi, 1201)
    r, t = np.meshgrid(radii, angles)
    points = np.stack([(r * np.cos(t)).ravel(), (r * np.sin(t)).ravel()], axis=1)
    errors = _error(target, network, points)
    grid_value = float(errors.max())
    refined = grid_value
    for center in points[np.argsort(errors)[-keep:]]:
        cell = radius / 100
        for _ in range(ZOOMS):
            local = np.linspace(-cell, cell, ZOOM_POINTS)
            around = center + np.array(list(itertools.product(local, repeat=2)))
            norms = np.linalg.norm(around, axis=1, keepdims=True)
            around = around * np.minimum(1.0, radius / np.maximum(norms, 1e-300))
            errors = _error(target, network, around)
            center = around[np.argmax(errors)]
            refined = max(refined, float(errors.max()))
            cell *= 2 / (ZOOM_POINTS - 1)
    return grid_value, refined


BALL_CASES = [  # (widths, bias, values per input, seed, radius)
    ((2, 4, 2), False, 24, 1, 1.0),
    ((2, 3, 3, 1), True, 24, 2, 0.7),
    ((2, 4, 4, 2), True, 24, 5, 1.5),
]


@pytest.mark.parametrize(("widths", "bias", "n", "seed", "radius"), BALL_CASES)
def test_exact_on_the_ball_matches_a_polar_grid(widths, bias, n, seed, radius):
    target = ReLUNetwork.random(widths, rng=seed, bias=bias)
    ticket = _ticket(target, n, seed)
    result = exact_error(target, ticket, ball=radius)
    grid_value, refined = disc_oracle(target, ticket, radius)
    assert result.status == Status.OPTIMAL
    assert (result.ball, result.box) == (radius, None)
    assert grid_value <= result.upper_bound
    _check_bracket(result, refined)
    assert refined <= result.value * (1 + ORACLE_RTOL)
    x = result.maximizer
    assert np.linalg.norm(x) <= radius
    assert result.value == float(np.abs(target.forward(x) - ticket.forward(x)).max())
    assert result.measured <= result.value


def test_the_ball_for_two_unrelated_networks():
    first = ReLUNetwork.random((2, 4, 2), rng=5, bias=True)
    second = ReLUNetwork.random((2, 3, 3, 2), rng=105, bias=True)
    result = exact_error(first, second, ball=1.2)
    _, refined = disc_oracle(first, second, 1.2)
    assert result.status == Status.OPTIMAL
    _check_bracket(result, refined)


@pytest.mark.parametrize(
    ("widths", "bias", "seed"),
    [((3, 4, 1), False, 0), pytest.param((3, 3, 3, 1), True, 1, marks=pytest.mark.slow)],
)
def test_the_ball_lies_between_measured_and_certified(widths, bias, seed):
    """One output, so the ∞-norm of the exact error is the 2-norm of the certificate: measured
    (ascent on the ball) <= exact <= certified; and the ball lies between two boxes."""
    target = ReLUNetwork.random(widths, rng=seed, bias=bias)
    ticket = _ticket(target, 12, seed)
    radius = 0.8
    cert = certify(target, ticket, radius=radius, rng=seed)
    exact = exact_error(target, ticket, ball=radius)
    assert exact.status == Status.OPTIMAL
    assert cert.measured <= exact.upper_bound * (1 + AGREEMENT)
    assert exact.value <= cert.certified * (1 + AGREEMENT)
    d = widths[0]
    inner = exact_error(target, ticket, box=radius / np.sqrt(d))  # inside the ball
    outer = exact_error(target, ticket, box=radius)  # around it
    assert inner.value <= exact.upper_bound and exact.value <= outer.upper_bound


@pytest.mark.parametrize(
    ("widths", "bias", "seed", "domain"),
    [
        ((2, 4, 3), True, 21, {"box": 1.0}),
        pytest.param((3, 4, 4, 2), False, 22, {"box": 0.6}, marks=pytest.mark.slow),
        pytest.param((2, 3, 4, 3, 1), True, 23, {"box": 1.0}, marks=pytest.mark.slow),
        ((2, 4, 3), False, 24, {"ball": 1.0}),
        pytest.param((3, 4, 4, 2), True, 25, {"ball": 0.9}, marks=pytest.mark.slow),
    ],
)
def test_tightened_bounds_never_cut_off_the_maximum(widths, bias, seed, domain):
    """With the lockstep and LP bounds (stable units fixed, difference rows) and without them
    (interval arithmetic only): the same optimum, and no more binaries."""
    target = ReLUNetwork.random(widths, rng=seed, bias=bias)
    ticket = _ticket(target, 10, seed)
    tight = exact_error(target, ticket, **domain)
    loose = exact_error(target, ticket, tighten=False, **domain)
    assert tight.status == loose.status == Status.OPTIMAL
    _check_bracket(tight, loose.value)
    _check_bracket(loose, tight.value)
    assert tight.binaries <= loose.binaries


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda t, g: exact_error(t, ReLUNetwork.random((4, 3, 2), rng=0)),
            r"`network` must have the input and output dimensions of `target` \(3 and 2\); "
            r"got 4 and 2",
        ),
        (
            lambda t, g: exact_error(t, ReLUNetwork.random((3, 3, 1), rng=0)),
            r"`network` must have the input and output dimensions of `target` \(3 and 2\); "
            r"got 3 and 1",
        ),
        (lambda t, g: exact_error(t, g, box=0), r"`box` must be in \(0, inf\); got 0.0"),
        (lambda t, g: exact_error(t, g, box=-1.5), r"`box` must be in \(0, inf\); got -1.5"),
        (lambda t, g: exact_error(t, g, ball=0), r"`ball` must be in \(0, inf\); got 0.0"),
        (
            lambda t, g: exact_error(t, g, box=1, ball=1),
            r"give one domain, `box` or `ball`, not both; got box=1 and ball=1",
        ),
        (
            lambda t, g: exact_error(t, g, ball=1, solver="highs"),
            r"`solver` must be 'scip' with `ball` \(the ball is a quadratic constraint, which "
            r"HiGHS does not take\); got 'highs'",
        ),
        (lambda t, g: exact_error(t, g, time_limit=0), r"`time_limit` must be in \(0, inf\)"),
        (lambda t, g: exact_error(t, g, solver="cbc"), r"`solver` must be one of 'scip', 'highs'"),
        (lambda t, g: exact_error(t, g, tighten=1), r"`tighten` must be True or False; got 1"),
        (lambda t, g: exact_error(t, g, threads=0), r"`threads` must be in \[1, inf\]; got 0"),
        (lambda t, g: exact_error(t, g, threads=1.5), r"`threads` must be an integer; got 1.5"),
        (lambda t, g: exact_error(np.eye(3), g), r"`target` must be a ReLUNetwork or a Ticket"),
        (lambda t, g: exact_error(t, "ticket"), r"`network` must be a ReLUNetwork or a Ticket"),
        (lambda t, g: certify(t, g, box=0), r"`box` must be in \(0, inf\); got 0.0"),
        (
            lambda t, g: certify(t, g, exact_time_limit=5),
            r"`exact_time_limit` limits the exact error, which needs `box`; got box=None",
        ),
        (
            lambda t, g: certify(t, g, box=1, exact_time_limit=-1),
            r"`exact_time_limit` must be in \(0, inf\); got -1.0",
        ),
        (
            lambda t, g: g.report.with_exact(certify(t, g)),
            r"`certificate` must hold the exact error \(certify\(..., box=...\)\); got one",
        ),
    ],
)
def test_bad_input_names_the_parameter(call, message):
    target = ReLUNetwork.random((3, 4, 2), rng=0)
    with pytest.raises(InvalidParameterError, match=message):
        call(target, _ticket(target, 3, 0))


@pytest.mark.parametrize(("widths", "seed"), [((1, 6, 1), 0), ((2, 4, 4, 2), 5)])
def test_line_search_reaches_the_best_grid_value_of_each_line(widths, seed):
    """The box search's coordinate search (strong_lth.worst_case.line_search): with one input it
    lands on the best of its grid (computed here directly); with two, no row gets worse, every
    value is the error recomputed at its input, inputs stay in the box, and no value beats the
    dense-grid maximum."""
    from strong_lth.worst_case import line_search

    box = 0.8
    target = ReLUNetwork.random(widths, rng=seed, bias=True)
    ticket = _ticket(target, 12, seed)
    d = widths[0]
    start = np.random.default_rng(seed).uniform(-box, box, (5, d))
    before = _error(target, ticket, start)
    value, x = line_search(lambda x: _error(target, ticket, x), start, box, rounds=2, points=33)
    assert np.all(value >= before) and np.all(np.abs(x) <= box)
    np.testing.assert_allclose(value, _error(target, ticket, x), rtol=1e-12, atol=0)
    if d == 1:
        best = _error(target, ticket, np.linspace(-box, box, 33)[:, None]).max()
        np.testing.assert_allclose(value, np.maximum(before, best), rtol=1e-12, atol=0)
    else:
        _, refined = grid_oracle(target, ticket, box)
        assert value.max() <= refined * (1 + ORACLE_RTOL)
        assert value.max() > before.max()  # the search moved at least one row up
