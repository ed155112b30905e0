"""The two stages of each output sign's MILP (strong_lth.exact._Search.solve): a short search by
reliability branching, then full strong branching for the signs it leaves open. Both must reach
the same maximum as a dense grid, whichever stage settles each sign."""

import numpy as np
import pytest

import strong_lth.exact as exact
from strong_lth import ReLUNetwork, exact_error
from strong_lth.subset_sum import Status

from .test_exact import _check_bracket, _ticket, grid_oracle


def _stages(monkeypatch):
    """Record ``quick`` of every stage that runs."""
    calls = []
    stage = exact._Search.stage

    def spy(self, pair, seconds, best, x_best, quick):
        calls.append(quick)
        return stage(self, pair, seconds, best, x_best, quick)

    monkeypatch.setattr(exact._Search, "stage", spy)
    return calls


@pytest.mark.parametrize(
    ("quick_nodes", "ratio"), [(1, np.inf), (exact.QUICK_NODES, np.inf), (exact.QUICK_NODES, 0.0)]
)
def test_either_stage_finds_the_grid_maximum(monkeypatch, quick_nodes, ratio):
    """With one node the first stage settles no sign that the incumbent does not already cut
    off, so the second runs; with the default it settles every sign of this small ticket; with
    ratio 0 no sign gets the first stage."""
    monkeypatch.setattr(exact, "QUICK_NODES", quick_nodes)
    monkeypatch.setattr(exact, "QUICK_RATIO", ratio)
    calls = _stages(monkeypatch)
    target = ReLUNetwork.random((2, 4, 4, 2), rng=5, bias=True)
    ticket = _ticket(target, 24, 5)
    result = exact_error(target, ticket, box=1.0)
    _, refined = grid_oracle(target, ticket, 1.0)
    assert result.status == Status.OPTIMAL
    _check_bracket(result, refined)
    assert result.upper_bound - result.value <= result.margin + result.tolerance
    assert calls  # some sign needed a MILP
    assert calls[0] is bool(ratio > 0)  # every sign within the ratio starts with the quick stage
    if quick_nodes == 1:
        assert False in calls  # the full stage ran
    x = result.maximizer
    assert result.value == float(np.abs(target.forward(x) - ticket.forward(x)).max())


def test_highs_runs_one_stage(monkeypatch):
    """HiGHS has no reliability-branching parameters: one full solve per sign, same maximum."""
    calls = _stages(monkeypatch)
    target = ReLUNetwork.random((2, 4, 2), rng=1)
    ticket = _ticket(target, 28, 1)
    scip = exact_error(target, ticket, box=1.0)
    highs = exact_error(target, ticket, box=1.0, solver="highs")
    assert highs.status == scip.status == Status.OPTIMAL
    assert max(scip.value, highs.value) <= min(scip.upper_bound, highs.upper_bound) * (1 + 1e-9)
    assert calls.count(False) >= 1  # the HiGHS run's signs, each one full stage


def test_a_restart_skips_the_first_stage(monkeypatch):
    """A sign solved again (as ``_Search.run`` does under a time limit) goes straight to the
    full stage: the quick one ran at most once per sign, and the maximum is unchanged."""
    monkeypatch.setattr(exact, "QUICK_NODES", 1)
    monkeypatch.setattr(exact, "QUICK_RATIO", np.inf)
    first_stages = []
    stage, solve = exact._Search.stage, exact._Search.solve

    def spy(self, pair, seconds, best, x_best, quick):
        if quick:
            first_stages.append(pair)
        return stage(self, pair, seconds, best, x_best, quick)

    def twice(self, pair, seconds, best, x_best):
        best, x_best = solve(self, pair, seconds, best, x_best)
        self.unsolved.add(pair)  # as if the first call had run out of time
        return solve(self, pair, seconds, best, x_best)

    monkeypatch.setattr(exact._Search, "stage", spy)
    monkeypatch.setattr(exact._Search, "solve", twice)
    target = ReLUNetwork.random((2, 4, 2), rng=1)
    ticket = _ticket(target, 28, 1)
    result = exact_error(target, ticket, box=1.0)
    _, refined = grid_oracle(target, ticket, 1.0)
    _check_bracket(result, refined)
    assert first_stages and len(first_stages) == len(set(first_stages))


def test_scip_runs_without_presolve_and_finds_the_grid_maximum(monkeypatch):
    """Every SCIP stage runs with presolve off (``_Search.params``), and the maximum still agrees
    with the dense grid; turning presolve back on gives the same maximum."""
    from ortools.math_opt.python import mathopt

    seen = []
    params = exact._Search.params

    def spy(self, seconds, quick=False):
        p = params(self, seconds, quick)
        seen.append(p.presolve)
        return p

    monkeypatch.setattr(exact._Search, "params", spy)
    target = ReLUNetwork.random((2, 4, 4, 2), rng=5, bias=True)
    ticket = _ticket(target, 24, 5)
    off = exact_error(target, ticket, box=1.0)
    assert seen and set(seen) == {mathopt.Emphasis.OFF}

    def presolve_on(self, seconds, quick=False):
        p = params(self, seconds, quick)
        p.presolve = None
        return p

    monkeypatch.setattr(exact._Search, "params", presolve_on)
    on = exact_error(target, ticket, box=1.0)
    _, refined = grid_oracle(target, ticket, 1.0)
    for result in (off, on):
        assert result.status == Status.OPTIMAL
        _check_bracket(result, refined)
    assert abs(off.value - on.value) <= off.margin + off.tolerance
