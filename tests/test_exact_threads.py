"""Output signs solved on several threads at once (strong_lth.exact._Search.run): the same
maximum as one thread and as a dense grid, solves truly concurrent, errors and interruptions
stop every thread."""

import threading
import time

import numpy as np
import pytest

import strong_lth.exact as exact
from strong_lth import ReLUNetwork, SolverError, exact_error
from strong_lth.subset_sum import Status

from .test_exact import CASES, _check_bracket, _ticket, grid_oracle


@pytest.mark.parametrize(("widths", "bias", "n", "seed", "box"), CASES[2:6])
def test_two_threads_find_the_maximum_of_one_and_of_the_grid(widths, bias, n, seed, box):
    target = ReLUNetwork.random(widths, rng=seed, bias=bias)
    ticket = _ticket(target, n, seed)
    one = exact_error(target, ticket, box=box, threads=1)
    two = exact_error(target, ticket, box=box, threads=2)
    _, refined = grid_oracle(target, ticket, box, starts=[one.maximizer, two.maximizer])
    for result in (one, two):
        assert result.status == Status.OPTIMAL
        _check_bracket(result, refined)
        x = result.maximizer
        assert result.value == float(np.abs(target.forward(x) - ticket.forward(x)).max())
    assert abs(one.value - two.value) <= one.margin + one.tolerance


def _spy_stages(monkeypatch, pause=0.0):
    """Record (thread, start, end) of every stage, each made to last at least ``pause``."""
    calls = []
    stage = exact._Search.stage

    def spy(self, pair, seconds, best, x_best, quick):
        start = time.monotonic()
        out = stage(self, pair, seconds, best, x_best, quick)
        time.sleep(pause)
        calls.append((threading.get_ident(), start, time.monotonic()))
        return out

    monkeypatch.setattr(exact._Search, "stage", spy)
    return calls


def _signs_target(monkeypatch):
    """A network and a perturbed copy with 8 outputs, and a first incumbent at x = 0 (where
    both are 0) instead of the sampled maximum, so that all 16 output signs need a MILP."""
    monkeypatch.setattr(exact, "measure_box", lambda first, *_: (None, np.zeros(first.widths[0])))
    target = ReLUNetwork.random((4, 6, 8), rng=3)
    noise = np.random.default_rng(0)
    other = ReLUNetwork([w + 0.05 * noise.standard_normal(w.shape) for w in target.weights])
    return target, other


def test_two_threads_solve_signs_at_the_same_time(monkeypatch):
    calls = _spy_stages(monkeypatch, pause=0.2)
    target, ticket = _signs_target(monkeypatch)
    result = exact_error(target, ticket, box=1.0, threads=2)
    assert result.status == Status.OPTIMAL
    assert len({thread for thread, _, _ in calls}) == 2
    overlap = any(
        a[0] != b[0] and a[1] < b[2] and b[1] < a[2] for a in calls for b in calls if a is not b
    )
    assert overlap  # two stages ran at once, on different threads


def test_one_thread_runs_in_the_calling_thread(monkeypatch):
    calls = _spy_stages(monkeypatch)
    target, ticket = _signs_target(monkeypatch)
    exact_error(target, ticket, box=1.0, threads=1)
    assert calls and {thread for thread, _, _ in calls} == {threading.get_ident()}


def test_a_bracket_under_a_time_limit_holds_with_two_threads(monkeypatch):
    target, ticket = _signs_target(monkeypatch)
    full = exact_error(target, ticket, box=1.0, threads=1)
    part = exact_error(target, ticket, box=1.0, threads=2, time_limit=0.05)
    assert part.value <= full.upper_bound and full.value <= part.upper_bound


def test_an_error_in_one_thread_stops_the_other(monkeypatch):
    """A solver error on one thread reaches the caller, and no thread starts another sign
    after it (a sign the other thread is solving ends on its own). The solves are stand-ins
    that settle nothing, so that every sign would otherwise be started."""
    starts, failed = [], []

    def stand_in(self, pair, seconds, best, x_best):
        starts.append(time.monotonic())
        third = len(starts) == 3
        time.sleep(0.02)
        if third:
            failed.append(time.monotonic())
            raise SolverError("scip ended with NUMERICAL_ERROR")
        return best, x_best

    monkeypatch.setattr(exact._Search, "solve", stand_in)
    target, ticket = _signs_target(monkeypatch)
    with pytest.raises(SolverError, match="NUMERICAL_ERROR"):
        exact_error(target, ticket, box=1.0, threads=2)
    assert failed
    # at most one: the other thread may have taken its next sign just before the error
    assert sum(t > failed[0] for t in starts) <= 1
    assert len(starts) <= 5
