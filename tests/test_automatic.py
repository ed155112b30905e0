"""Automatic mode of approximate(): it returns what it finds, states the cap it needs, answers
degenerate targets and extreme parameters, and refuses sizes before allocating."""

import math
import subprocess
import sys
import textwrap
import tracemalloc
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strong_lth import (
    InvalidParameterError,
    ReLUNetwork,
    TheoryAssumptionWarning,
    approximate,
    certify,
)
from strong_lth._search import least_passing
from strong_lth.gadgets import AGREEMENT

from .strategies import relu_networks


def certified_from_masks(target, ticket, radius=1.0, method=None):
    """The certificate recomputed from the ticket's masks and random weights alone."""
    return certify(
        target, ticket, radius=radius, rng=0, samples=64, starts=1, ascent_steps=0, method=method
    )


def test_a_ticket_found_is_returned_when_the_budget_is_past_the_cap():
    # the per-weight budget (report only) of Malach's construction is far past the cap: the old
    # code raised after finding the ticket, quoting eta
    target = ReLUNetwork.random((6, 10, 4), rng=0)
    ticket = approximate(target, eps=0.2, construction="malach", rng=0)
    assert certified_from_masks(target, ticket).certified <= 0.2
    for row in ticket.report.layers:
        assert row.budget_values_per_input is None
        assert row.budget_beyond == 512
        assert max(m for m, _ in row.evaluated) <= 2 * 512
    assert "> 512" in str(ticket.report)
    assert "not reached within max_values_per_input" in str(ticket.report)


def test_a_heuristic_solver_ticket_is_returned_with_its_budget_not_reached():
    target = ReLUNetwork.random((3, 4, 2), rng=0)
    ticket = approximate(target, eps=0.1, solver="greedy", rng=0, max_values_per_input=64)
    assert certified_from_masks(target, ticket).certified <= 0.1
    rows = ticket.report.layers
    assert [row.budget_beyond for row in rows] == [64, 64]
    assert all(row.values_per_input <= 64 for row in rows)


def test_a_cap_too_small_states_a_cap_that_is_enough():
    target = ReLUNetwork.random((4, 8, 2), rng=0)
    with pytest.raises(InvalidParameterError) as info:
        approximate(target, eps=1e-4, rng=0, max_values_per_input=27)
    message = str(info.value)
    assert message.startswith("`max_values_per_input` must be at least ")
    assert message.endswith("got 27.")
    enough = int(message.split("at least ")[1].split()[0])
    ticket = approximate(target, eps=1e-4, rng=0, max_values_per_input=enough)
    assert max(ticket.values_per_input) == enough
    assert certified_from_masks(target, ticket).certified <= 1e-4
    default = approximate(target, eps=1e-4, rng=0)  # the cap changes nothing
    assert default.values_per_input == ticket.values_per_input
    assert all(np.array_equal(a, b) for a, b in zip(default.masks, ticket.masks))


def test_a_cap_far_too_small_says_no_estimate_exists():
    target = ReLUNetwork.random((4, 8, 2), rng=0)
    with pytest.raises(
        InvalidParameterError,
        match=(
            r"`max_values_per_input` must be raised to reach eps = 0.0001, by how much cannot "
            r"be estimated reliably: the search tried n up to 40 \(it looks up to n = 40, 2x "
            r"the cap and at least 8\) and "
            r"layer 1 still errs by .* above its share .* of eps; got 20\."
        ),
    ):
        approximate(target, eps=1e-4, rng=0, max_values_per_input=20)


@pytest.mark.parametrize("zero", [0, 1])
def test_a_target_with_a_zero_layer_gets_the_smallest_ticket(zero):
    weights = [np.random.default_rng(0).uniform(-1, 1, (5, 3)), np.ones((2, 5))]
    weights[zero] = np.zeros_like(weights[zero])
    target = ReLUNetwork(weights)
    with pytest.warns(TheoryAssumptionWarning, match="spectral norm"):
        ticket = approximate(target, eps=0.01, rng=0)
    assert ticket.values_per_input == (1, 1)
    assert certified_from_masks(target, ticket).certified == 0.0
    x = np.random.default_rng(1).standard_normal((50, 3))
    assert np.array_equal(ticket.forward(x), np.zeros((50, 2)))


@pytest.mark.parametrize("eps", [2.0, 1e300])
def test_any_eps_from_the_floor_up_gets_an_answer(eps):
    target = ReLUNetwork.random((4, 8, 2), rng=0)
    ticket = approximate(target, eps=eps, rng=0)
    assert certified_from_masks(target, ticket).certified <= eps
    assert all(row.eta is None for row in ticket.report.layers)  # [P]'s budget needs eps < 1
    if eps == 1e300:
        assert ticket.values_per_input == (1, 1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"eps": 5e-324},
            r"`eps` must be at least 1e-12 for this target and radius \(1e-12 times its output "
            r"scale r prod_i \|\|W_i\|\|_F = 1: float64 sums cannot certify less\); got 5e-324\.",
        ),
        ({"eps": 1.0, "max_bytes": 0}, r"`max_bytes` must be in \[1, inf\]; got 0"),
        ({"eps": math.inf}, r"`eps` must be in \(0, inf\); got inf"),
        ({"eps": math.nan}, r"`eps` must be in \(0, inf\); got nan"),
        ({"eps": "0.1"}, r"`eps` must be a real number; got '0.1'"),
        ({"eps": 0.1, "radius": 1e300}, r"`radius` must be at most 1e\+150 for this target"),
        ({"eps": 0.1, "measure": 1}, r"`measure` must be True or False; got 1"),
    ],
)
def test_extreme_parameters_get_a_clear_error(kwargs, message):
    target = ReLUNetwork([np.eye(2) / math.sqrt(2), np.diag([1.0, 0.0])])  # output scale 1
    with pytest.raises(InvalidParameterError, match=message):
        approximate(target, rng=0, **kwargs)


def test_eps_above_one_is_not_refused_after_the_search():
    # the old code accepted eps = 2 up front and refused it after the search, in another range
    target = ReLUNetwork.random((4, 8, 2), rng=0)
    assert approximate(target, eps=2.0, rng=0).report.certified <= 2.0


def test_measure_false_skips_the_worst_case_and_changes_nothing_else():
    target = ReLUNetwork.random((4, 8, 2), rng=0)
    measured = approximate(target, eps=0.05, rng=1)
    skipped = approximate(target, eps=0.05, rng=1, measure=False)
    assert skipped.report.measured is None
    assert measured.report.measured <= measured.report.certified * (1 + AGREEMENT)
    assert skipped.report.certified == measured.report.certified
    assert all(np.array_equal(a, b) for a, b in zip(skipped.masks, measured.masks))
    assert "not measured" in str(skipped.report)


def test_a_size_above_max_bytes_is_refused_before_allocating():
    rng = np.random.default_rng(0)
    target = ReLUNetwork([rng.uniform(-1, 1, (300, 400)) / 20, rng.uniform(-1, 1, (10, 300)) / 20])
    tracemalloc.start()
    try:
        with pytest.raises(
            InvalidParameterError,
            match=(
                r"`max_bytes` must cover the estimated 758,067,200 bytes \(0.706 GiB\) of layer 1 "
                r"\(400 -> 300\) at n = 512 values per input: 64 bytes per target weight and "
                r"value per input in one piece, or in shards of rows 64 bytes per target weight "
                r"and 12 per value per input; got 536,870,912 bytes \(0.5 GiB\)\."
            ),
        ):  # in one piece 3.66 GiB; in shards of one row 0.706 GiB
            approximate(target, values_per_input=512, rng=0, max_bytes=2**29)
        with pytest.raises(
            InvalidParameterError,
            match=r"`max_bytes` must cover .* of layer 1 \(400 -> 300\) at n = \d+, a lower est",
        ):
            approximate(target, eps=1e-9, rng=0, max_bytes=2**24)
        assert tracemalloc.get_traced_memory()[1] < 20 * 2**20  # the target is 1 MB
    finally:
        tracemalloc.stop()


def test_a_search_past_max_bytes_stops_before_the_n_it_cannot_afford():
    target = ReLUNetwork.random((4, 8, 2), rng=0)
    fits = 8 * 4 * (64 + 12 * 30) + 64 * 4 * 30  # layer 1 (4 -> 8) solves at n <= 30 in shards
    with pytest.raises(
        InvalidParameterError,
        match=(
            r"`max_bytes` must cover the estimated 27,648 bytes .* of the next n the search "
            r"tries, 40, to reach eps = 0.0001 \(layer 1 still errs by .* at n = 27, above its "
            r"share .* of eps\); got 21,248 bytes"
        ),
    ):
        approximate(target, eps=1e-4, rng=0, max_bytes=fits)


def test_the_brief_sizes_are_refused_at_once_with_the_default_limit():
    # 2000-2000-10 at eps = 1e-6 or 512 values per input; in a child process capped at 2 GiB of
    # address space, so that code which allocates instead fails fast rather than swapping
    code = textwrap.dedent(
        """
        import resource, time, numpy as np
        resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))
        from strong_lth import ReLUNetwork, approximate
        rng = np.random.default_rng(0)
        w = [rng.uniform(-1, 1, (2000, 2000)) / 2000**0.5, rng.uniform(-1, 1, (10, 2000)) / 45]
        target = ReLUNetwork(w)
        # eps = 1e-6 needs n >= 28: 1.6 GB in shards of rows, which 4 GiB would allow
        for kwargs in ({"eps": 1e-6, "max_bytes": 2**30}, {"values_per_input": 512}):
            start = time.perf_counter()
            try:
                approximate(target, rng=0, **kwargs)
            except Exception as error:
                print(type(error).__name__, round(time.perf_counter() - start, 1), error)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    ).stdout.splitlines()
    assert len(out) == 2
    for line in out:
        name, seconds, message = line.split(" ", 2)
        assert name == "InvalidParameterError" and float(seconds) < 5.0
        assert "`max_bytes` must cover the estimated" in message and "GiB" in message


@settings(max_examples=5, deadline=None)
@given(
    target=relu_networks(max_width=4, max_depth=3),
    eps=st.floats(min_value=1e-2, max_value=2.0),
    seed=st.integers(0, 2**16),
)
def test_automatic_mode_meets_eps_whenever_it_returns(target, eps, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TheoryAssumptionWarning)
        try:
            ticket = approximate(target, eps=eps, rng=seed, measure=False, max_values_per_input=48)
        except InvalidParameterError as error:
            assert "max_values_per_input" in str(error)
            return
    recomputed = certified_from_masks(target, ticket)
    assert recomputed.certified <= eps
    assert recomputed.certified == pytest.approx(ticket.report.certified, rel=1e-12)
    assert max(ticket.values_per_input) <= 48


def test_the_search_uses_the_tighter_certificate_and_the_report_names_it():
    target = ReLUNetwork.random((4, 8, 2), rng=1)
    spectral = approximate(target, eps=0.01, rng=1, certificate="spectral", measure=False)
    lockstep = approximate(target, eps=0.01, rng=1, certificate="lockstep", measure=False)
    assert spectral.report.certificate_method == "spectral"
    assert set(spectral.report.bounds) == {"spectral"}
    assert set(lockstep.report.bounds) == {"spectral", "lockstep"}
    assert lockstep.report.certified == min(lockstep.report.bounds.values())
    assert lockstep.report.certificate_method == min(
        lockstep.report.bounds, key=lockstep.report.bounds.get
    )
    assert sum(lockstep.values_per_input) < sum(spectral.values_per_input)
    # pair 2 reads a ReLU output: only its positive pools are solved (dead units out)
    assert [row.instances for row in lockstep.report.layers] == [2 * 4 * 8, 8 * 2]
    for ticket, method in ((spectral, "spectral"), (lockstep, ["spectral", "lockstep"])):
        recomputed = certified_from_masks(target, ticket, method=method)
        assert recomputed.certified <= 0.01
        assert recomputed.bounds == pytest.approx(ticket.report.bounds, rel=1e-12)
    text = str(lockstep.report)
    assert f"({lockstep.report.certificate_method})" in text and "rigorous bounds: " in text


def test_a_certificate_that_is_not_a_method_is_refused():
    target = ReLUNetwork.random((4, 8, 2), rng=1)
    with pytest.raises(
        InvalidParameterError,
        match=r"`certificate` must be one of \('spectral', 'lockstep', 'split', 'chain', 'sdp'\) "
        r"or a non-empty sequence of them; got 'milp'",
    ):
        approximate(target, eps=0.01, rng=1, certificate="milp")


@settings(max_examples=200, deadline=None)
@given(
    drops=st.lists(st.floats(min_value=0.0, max_value=3.0), min_size=1, max_size=40),
    other=st.integers(1, 9),
    aim=st.floats(min_value=1e-3, max_value=1.0),
    solved=st.sets(st.integers(1, 45)),
    k=st.integers(0, 1),
    told=st.booleans(),
)
def test_least_passing_is_the_least_n_within_the_aim_whatever_was_evaluated(
    drops, other, aim, solved, k, told
):
    # a bound falling with n (log-decrements ``drops``, flat steps included), the other layer
    # fixed: the answer is the least passing n, found by scanning every n
    curve = np.exp(-np.cumsum([0.0, *drops]))  # curve[n - 1] at n = 1 .. len(drops) + 1
    top = int(np.flatnonzero(curve <= aim)[0]) + 1 if np.any(curve <= aim) else None
    if top is None:
        return
    calls = []

    def value(trial):
        assert trial[1 - k] == other  # the other layer is left as it was
        calls.append(trial[k])
        return float(curve[trial[k] - 1])

    chosen = [top, other] if k == 0 else [other, top]
    known = float(curve[top - 1]) if told else None
    found, at = least_passing(chosen, k, value, aim, solved, known)
    assert found == min(n for n in range(1, top + 1) if curve[n - 1] <= aim)
    assert at == (curve[found - 1] if found < top or told else None)
    assert all(1 <= n < top for n in calls)
    assert len(calls) == len(set(calls))  # no n evaluated twice


def test_tighter_bounds_that_gain_nothing_leave_the_spectral_search_ticket(monkeypatch):
    # the search stops its goal bisection early only to hand over to the tighter bounds; where
    # they gain nothing it must bisect as the spectral search does, to the same masks
    import strong_lth._approximate as approximate_module

    target = ReLUNetwork.random((4, 8, 2), rng=1)
    spectral = approximate(target, eps=0.01, rng=1, certificate="spectral", measure=False)
    monkeypatch.setattr(
        approximate_module,
        "rigorous_bounds",
        lambda target, pairs, radius, methods: {m: math.inf for m in methods},
    )
    useless = approximate(target, eps=0.01, rng=1, certificate="lockstep", measure=False)
    assert useless.values_per_input == spectral.values_per_input
    assert all(np.array_equal(a, b) for a, b in zip(useless.masks, spectral.masks, strict=True))
    assert [row.evaluated for row in useless.report.layers] == [
        row.evaluated for row in spectral.report.layers
    ]
