"""Hostile inputs for the SubsetSum solvers: every one terminates, is interruptible, and gives a
correct answer or a clear InvalidParameterError.

Each reproducer failed before the fix (a hang, a wrong answer, or a ZeroDivisionError,
OverflowError or TypeError from inside numba or OR-Tools). Calls that used to hang run in a
subprocess killed at a deadline, so the suite itself can never hang.
"""

import math
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import strong_lth
from strong_lth import InvalidParameterError
from strong_lth.subset_sum import METHODS, Status, _chunks, _cpsat, solve, solve_batch
from strong_lth.subset_sum import _solve as solve_module

from .naive import subset_sum_optimum

ROOT = Path(strong_lth.__file__).resolve().parents[1]
TINY = float(np.nextafter(0.0, 1.0))
"""``2^-1074``: the unit of every absolute rounding below the normal range."""


def python(code):
    """Start ``code`` in a fresh interpreter importing this checkout's strong_lth."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", code],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process, timeout):
    """Wait up to ``timeout`` seconds; kill on expiry. Returns (finished, stdout, stderr)."""
    try:
        out, err = process.communicate(timeout=timeout)
        return True, out, err
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        return False, out, err


OVERFLOWING = [
    ([1e308, 1e308, -1e308, -1e308], 1.0),  # inf - inf = NaN stalled the mitm scan forever
    ([1e308, -1e308], 1e308),
    ([9e307], -9e307),
]


def test_every_method_refuses_sums_that_could_overflow():
    # in a subprocess killed at a deadline: before the fix the first case never returned
    code = (
        "from strong_lth import InvalidParameterError\n"
        "from strong_lth.subset_sum import METHODS, solve, solve_batch\n"
        f"for values, target in {OVERFLOWING!r}:\n"
        "    for method in METHODS:\n"
        "        for call in (lambda: solve(values, target, method=method),\n"
        "                     lambda: solve_batch([[0.5] * len(values), values], [0.0, target],\n"
        "                                         method=method)):\n"
        "            try:\n"
        "                call()\n"
        "                print('ANSWERED', method, values, flush=True)\n"
        "            except InvalidParameterError as e:\n"
        "                print('REFUSED', e, flush=True)\n"
    )
    finished, out, err = finish(python(code), timeout=60)
    assert finished, f"not done within 60 s; last lines: {out.splitlines()[-2:]}"
    lines = out.splitlines()
    assert len(lines) == 2 * len(OVERFLOWING) * len(METHODS), err
    single = r"REFUSED `values` and `target` must keep every subset sum finite: sum\(\|values\|\)"
    single += r" \+ \|target\| must be at most 2\*\*1023 \(about 8\.99e\+307\); got "
    batch = r"REFUSED `values` and `targets` must .* got .* for instance 1 \(1 instance"
    for line, pattern in zip(lines, [single, batch] * (len(lines) // 2), strict=True):
        assert re.match(pattern, line), line


def test_the_magnitude_limit_is_the_stated_one():
    # sum |v| + |t| = 2^1023 exactly is accepted and solved exactly; one ulp of 2^1023 more
    # (2^971) is refused
    top = 2.0**1021
    result = solve([top, top, -top], -top)
    assert result.error == 0.0 and result.status == Status.OPTIMAL
    with pytest.raises(InvalidParameterError, match="2\\*\\*1023"):
        solve([top, top, -top], -(top + 2.0**971))


INTERRUPTIBLE = {
    "local, 10^12 restarts": "solve([0.3, -0.2, 0.7], 0.1, method='local', restarts=10**12, rng=0)",
    "mitm, a long batch": (
        "import numpy as np\n"
        "rng = np.random.default_rng(0)\n"
        "solve_batch(rng.uniform(-1, 1, (50_000, 36)), rng.uniform(-1, 1, 50_000))"
    ),
    "dp, one instance with a large table": (
        "import numpy as np\n"
        "v = np.random.default_rng(0).uniform(-1, 1, 20_000)\n"
        "solve(v, 0.3, method='dp', max_cells=1 << 24)"
    ),
    "cpsat, a hard instance": (
        "import numpy as np\n"
        "v = np.random.default_rng(0).uniform(-1, 1, 80)\n"
        "solve(v, 0.123456789, method='cpsat', time_limit=120)"
    ),
}


@pytest.mark.parametrize("call", list(INTERRUPTIBLE))
def test_ctrl_c_interrupts_a_long_solve_within_seconds(call):
    code = (
        # Ctrl-C as in a terminal even when the suite runs in the background, where the shell
        # starts every process with SIGINT ignored (and Python then keeps it ignored)
        "import signal\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from strong_lth.subset_sum import solve, solve_batch, warmup\n"
        "warmup()\n"
        "print('ready', flush=True)\n" + INTERRUPTIBLE[call] + "\nprint('returned', flush=True)\n"
    )
    process = python(code)
    try:
        # the first run in a fresh clone compiles every kernel before "ready"; never wait forever
        assert select.select([process.stdout], [], [], 300)[0], "no 'ready' within 300 s"
        assert process.stdout.readline().strip() == "ready"
        time.sleep(1.0)
        sent = time.perf_counter()
        process.send_signal(signal.SIGINT)
        finished, out, err = finish(process, timeout=10)
        waited = time.perf_counter() - sent
    finally:
        if process.poll() is None:
            process.kill()
    assert finished, f"{call}: still running 10 s after SIGINT"
    assert "returned" not in out, f"{call}: finished before the signal; make it longer"
    assert "KeyboardInterrupt" in err
    assert waited < 5.0, f"{call}: took {waited:.1f} s to stop"


# --- CP-SAT --------------------------------------------------------------------------------


def test_cpsat_proves_the_tiny_instance_it_used_to_hang_on():
    # ran past 40 s in 6 of 8 processes; with time_limit=20 it twice stopped at error 1.5. With
    # one worker (the default now) the old model stalled on most orders of the values.
    code = (
        "import time\n"
        "import numpy as np\n"
        "from strong_lth.subset_sum import solve\n"
        "values = np.array([5., -2., 2., 4., 2., -2., -4.])\n"
        "for seed in range(6):\n"
        "    v = np.random.default_rng(seed).permutation(values)\n"
        "    start = time.perf_counter()\n"
        "    r = solve(v, -5.5, method='cpsat', workers=1, time_limit=10)\n"
        "    print(r.status.name, r.error, r.quantization_bound, time.perf_counter() - start,\n"
        "          flush=True)\n"
    )
    finished, out, err = finish(python(code), timeout=90)
    assert finished, "cpsat did not return within 90 s"
    assert len(out.splitlines()) == 6, err
    for line in out.splitlines():
        status, error, bound, seconds = line.split()
        assert status == "OPTIMAL", line
        assert abs(float(error) - 0.5) <= float(bound)  # the optimum: -6 or -5 is 0.5 away
        assert float(seconds) < 2.0, line


def test_cpsat_proves_small_integer_instances_at_once():
    # integer values with repeats and half-integer targets: with CP-SAT's presolve, one worker
    # needed up to 17 s on these (median 0.4 s); each must now be proved within 2 s
    rng = np.random.default_rng(0)
    values = rng.integers(-5, 6, (25, 8)).astype(float)
    targets = rng.integers(-10, 10, 25) + 0.5
    start = time.perf_counter()
    result = solve_batch(values, targets, method="cpsat", workers=1, time_limit=2.0)
    elapsed = time.perf_counter() - start
    exact = solve_batch(values, targets, method="bruteforce")
    assert np.all(result.status == Status.OPTIMAL)
    assert np.all(np.abs(result.errors - exact.errors) <= result.quantization_bound)
    assert elapsed < 10.0


def test_cpsat_has_a_default_time_limit(monkeypatch):
    # approximate(..., solver="cpsat") calls solve_batch without a time limit: it must be bounded
    monkeypatch.setattr(_cpsat, "DEFAULT_TIME_LIMIT", 0.3)
    values = np.random.default_rng(1).uniform(-1, 1, (2, 80))
    start = time.perf_counter()
    result = solve_batch(values, [0.123456789, -0.3], method="cpsat")
    assert time.perf_counter() - start < 5.0
    assert np.all(result.status == Status.TIME_LIMIT)  # never OPTIMAL without a proof
    assert np.array_equal(result.values, np.sum(np.where(result.masks, values, 0.0), axis=1))


def test_cpsat_errors_in_its_search_thread_reach_the_caller(monkeypatch):
    def broken(self, model):
        raise RuntimeError("search failed")

    monkeypatch.setattr(_cpsat.cp_model.CpSolver, "solve", broken)
    with pytest.raises(RuntimeError, match="search failed"):
        solve([0.5, 0.25], 0.3, method="cpsat")


def test_cpsat_refuses_a_grid_beyond_int64():
    message = r"`resolution` must keep .* at most 2\*\*53 for method 'cpsat'; got resolution 1e-300"
    with pytest.raises(InvalidParameterError, match=message):
        solve([1.0, 0.3], 1.0, method="cpsat", resolution=1e-300)


def test_cpsat_workers_are_bounded_by_the_core_count():
    cores = os.cpu_count() or 1
    with pytest.raises(InvalidParameterError, match=rf"`workers` must be in \[1, {cores}\]"):
        solve([0.1], 0.0, method="cpsat", workers=cores + 1)


# --- dp ------------------------------------------------------------------------------------


def test_dp_refuses_a_grid_it_cannot_represent():
    # used to overflow int64, slip past the cell cap and return error 1.0 (optimum 0)
    message = r"`resolution` must leave at most max_cells=1048576 grid cells .* needs 1\.3e\+300"
    with pytest.raises(InvalidParameterError, match=message):
        solve([1.0, 0.3], 1.0, method="dp", resolution=1e-300)


def test_dp_on_a_fine_grid_with_a_far_target():
    # the target's grid index exceeds int64 while every value fits: clamped, not wrapped
    result = solve([1.0, 0.5], 1e300, method="dp", resolution=1e-5)
    assert result.mask.tolist() == [True, True]


# --- denormal scale ------------------------------------------------------------------------

DENORMAL_CASES = [
    ([5e-324], 5e-324),
    ([5e-324, 5e-324, -5e-324], 1e-323),
    ([1e-310, -3e-320, 2.5e-315], 1.2e-310),
    ([1e-310, 2e-310, 3e-310], 0.0),
    ([1e-320, 1.0], 1e-320),
    ([5e-324, 1e300], 1e-300),
    ([1e-310], 1e300),
]


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize(("values", "target"), DENORMAL_CASES)
def test_denormal_instances_are_solved_correctly(method, values, target):
    # dp and cpsat used to raise ZeroDivisionError, OverflowError or TypeError on these
    result = solve(values, target, method=method, rng=0)
    optimum, _ = subset_sum_optimum(values, target)
    assert result.value == math.fsum(np.asarray(values)[result.mask])
    assert result.error >= optimum
    if method not in ("greedy", "local"):
        assert result.error <= optimum + result.quantization_bound + 4 * TINY
    batch = solve_batch([values, values], [target, -target], method=method, rng=0)
    assert batch.errors[0] == pytest.approx(result.error, abs=4 * TINY, rel=1e-15)


# --- extreme magnitudes, every method against brute force ----------------------------------


@st.composite
def extreme_instances(draw, max_n=10):
    """Instances at one scale from 1e-323 to 1e300 (values spread over up to 10 decades below
    it, both signs, with exact subnormals and zeros), the target at that scale or any other."""
    top = draw(st.one_of(st.integers(-323, -300), st.integers(-320, 300)))

    def number(scale):
        kind = draw(st.sampled_from(["decades", "subnormal", "zero"]))
        sign = draw(st.sampled_from([-1.0, 1.0]))
        if kind == "subnormal":
            return sign * draw(st.integers(1, 8)) * TINY
        if kind == "zero":
            return 0.0
        return sign * 10.0 ** (scale - draw(st.floats(0.0, 10.0)))

    values = [number(top) for _ in range(draw(st.integers(0, max_n)))]
    target = number(draw(st.one_of(st.just(top), st.integers(-320, 300))))
    return values, target


@pytest.mark.parametrize("method", list(METHODS))
@settings(max_examples=40, deadline=None)
@given(instance=extreme_instances())
def test_extreme_magnitudes_get_a_correct_answer_or_a_clear_error(instance, method):
    values, target = instance
    try:
        result = solve(values, target, method=method, rng=0)
    except InvalidParameterError:
        return  # a refusal that names its parameter is allowed; any other exception fails
    values = np.asarray(values, dtype=float)
    optimum, _ = subset_sum_optimum(values, target)
    slack = 16 * max(len(values), 1) * np.finfo(float).eps * np.sum(np.abs(values))
    slack += 4 * (len(values) + 1) * TINY  # absolute rounding below the normal range
    assert result.value == math.fsum(values[result.mask])
    assert result.error == abs(result.value - target)
    assert result.error >= optimum - slack
    if method in ("mitm", "bruteforce") or result.status == Status.OPTIMAL:
        assert result.error <= optimum + result.quantization_bound + slack


# --- slicing does not change answers ------------------------------------------------------


@pytest.mark.parametrize("method", [m for m in METHODS if m != "cpsat"])
def test_sliced_and_chunked_calls_give_the_same_answers(method, monkeypatch):
    rng = np.random.default_rng(3)
    values, targets = rng.uniform(-1, 1, (40, 12)), rng.uniform(-1, 1, 40)
    sized = {"size": rng.integers(0, 13, 40)} if METHODS[method].sized else {}
    whole = [solve_batch(values, targets, method=method, rng=5, **kw) for kw in ({}, sized)]
    monkeypatch.setattr(_chunks, "SLICE_SECONDS", 0.0)  # slices never grow: many small calls
    monkeypatch.setattr(solve_module, "RESTART_WORK", 36)  # local: 3 restarts per call at n=12
    monkeypatch.setattr(solve_module, "DP_WORK", 1 << 20)  # dp: every table in several calls
    sliced = [solve_batch(values, targets, method=method, rng=5, **kw) for kw in ({}, sized)]
    for one, other in zip(whole, sliced, strict=True):
        assert np.array_equal(one.masks, other.masks)
        assert np.array_equal(one.values, other.values)
