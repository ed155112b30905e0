"""SubsetSum as an integer program solved by OR-Tools CP-SAT: an independent exact solver.

Values and target are scaled to integers on a grid of step ``q``: ``k_i = round(v_i / q)``,
``T = round(t / q)``. With binary ``x_i``, CP-SAT minimises ``dev`` subject to
``-dev <= sum_i k_i x_i - T <= dev``. OPTIMAL is reported only when CP-SAT proves it (objective
equal to its proven bound), and then means optimal on the grid: the true error is within
``(n + 1) q`` of the true optimum.

CP-SAT's presolve is switched off. On this model it merges equal values into one integer
variable ``y`` in ``[0, multiplicity]`` (duplicate columns), and on the merged model a single
search worker with coefficients near ``2^40`` can stall without closing the gap: on
``[5, -2, 2, 4, 2, -2, -4]``, target -5.5, six seeds of eight were still at error 1.5 (optimum
0.5) after 10 s, and an instance with three equal values found no subset at all; without
presolve every seed proves the optimum in milliseconds, and random instances up to n = 21 solve
as fast as with it. The solver runs in a helper thread so that Ctrl-C stops the search
(``stop_search``) and reaches Python at once, instead of after the time limit.
"""

import os
import threading

import numpy as np
from ortools.sat.python import cp_model

from ..exceptions import SolverError
from ._grid import SMALLEST_STEP, used_magnitudes
from ._result import Status

DEFAULT_RELATIVE_RESOLUTION = 2.0**-40
"""Default grid step relative to ``max(max |v|, |target|)``: coefficients stay below ``2^40``
while the quantisation bound, about ``n 2^-40``, is far below any optimum up to n = 32."""

MAX_GRID_SPAN = 2.0**53
"""Largest ``sum_i |k_i| + |T| + 1`` accepted: every grid integer is then exact in float64 and
every sum CP-SAT forms stays far inside int64 (CP-SAT refuses models that might overflow)."""

DEFAULT_TIME_LIMIT = 10.0
"""Seconds per instance when the caller gives no ``time_limit``; reaching it gives status
``TIME_LIMIT``, never an unbounded wait."""

DEFAULT_WORKERS = 1
"""CP-SAT search workers per solve: one, so that a batch never oversubscribes a small machine
(and a seed gives a reproducible search); ``workers=`` raises it up to the core count."""

MAX_WORKERS = os.cpu_count() or 1
"""Largest ``workers`` accepted: the machine's core count."""


def default_resolution(values, lengths, targets, tol):
    """Grid step per instance: ``max(max|v|, |t|) 2^-40``, so that every coefficient and the
    target stay below ``2^40`` in grid units whatever the magnitudes; at least
    ``(sum |v| + |t|) 2^-52`` so that the span stays below :data:`MAX_GRID_SPAN` for any n, and
    at least ``2^-1074`` (subnormal instances stay exact); coarsened to ``tol / (4 (n + 1))``
    when a tolerance makes a coarser grid (a faster model) harmless."""
    magnitudes = used_magnitudes(values, lengths)
    scale = np.maximum(np.max(magnitudes, axis=1, initial=0.0), np.abs(targets))
    span = np.sum(magnitudes, axis=1) + np.abs(targets)
    q = np.maximum(scale * DEFAULT_RELATIVE_RESOLUTION, span * 2.0**-52)
    q = np.maximum(q, SMALLEST_STEP)
    if tol is not None:
        q = np.maximum(q, tol / (4.0 * (lengths + 1)))
    return q


def grid_span(values, target, q):
    """``sum_i |round(v_i / q)| + |round(t / q)| + 1`` in floating point (``inf`` on overflow):
    compared with :data:`MAX_GRID_SPAN` before any integer is formed."""
    return float(np.sum(np.abs(np.rint(values / q))) + abs(np.rint(target / q)) + 1.0)


def _run(solver, model):
    """``solver.solve(model)`` in a helper thread; on KeyboardInterrupt stop the search, wait for
    it and re-raise, so that Ctrl-C is seen within a fraction of a second. An exception of the
    solve itself is re-raised here."""
    outcome = []
    done = threading.Event()

    def work():
        try:
            outcome.append(solver.solve(model))
        except BaseException as exc:  # handed to the calling thread below
            outcome.append(exc)
        finally:
            done.set()

    threading.Thread(target=work, daemon=True).start()
    try:
        while not done.wait(0.05):
            pass
    except KeyboardInterrupt:
        solver.stop_search()
        done.wait()
        raise
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def cpsat_solve(values, target, q, tol, time_limit, workers, mask_out):
    """Solve one instance; write the mask and return ``(sum, status)``.

    ``tol`` (or None) becomes CP-SAT's absolute gap limit in grid units, so the search stops once
    a subset is within ``tol`` of the target; ``time_limit`` its wall-clock limit. The caller has
    checked that :func:`grid_span` is at most :data:`MAX_GRID_SPAN`.
    """
    steps = [int(k) for k in np.rint(values / q)]
    goal = int(np.rint(target / q))
    model = cp_model.CpModel()
    chosen = [model.new_bool_var(f"x{i}") for i in range(len(steps))]
    low = sum(k for k in steps if k < 0)
    high = sum(k for k in steps if k > 0)
    dev = model.new_int_var(0, max(high - goal, goal - low, 0), "dev")
    total = sum(k * x for k, x in zip(steps, chosen, strict=True))
    model.add(total - goal <= dev)
    model.add(goal - total <= dev)
    model.minimize(dev)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    solver.parameters.cp_model_presolve = False
    solver.parameters.catch_sigint_signal = False
    solver.parameters.max_time_in_seconds = time_limit
    if tol is not None:
        solver.parameters.absolute_gap_limit = float(np.floor(tol / q))
    outcome = _run(solver, model)
    if outcome == cp_model.MODEL_INVALID:
        raise SolverError(f"CP-SAT refused the grid model (q={q!r}): this is a bug.")
    if outcome not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        mask_out[:] = False
        return 0.0, Status.NOT_FOUND
    mask_out[: len(chosen)] = [bool(solver.value(x)) for x in chosen]
    total = float(np.sum(values[mask_out[: len(chosen)]]))
    if outcome == cp_model.OPTIMAL and solver.objective_value == solver.best_objective_bound:
        return total, Status.OPTIMAL
    if outcome == cp_model.OPTIMAL:  # stopped by the gap limit: within tol, not proven optimal
        return total, Status.FEASIBLE
    # FEASIBLE: the search was stopped before its end; the only stop left is the time limit
    return total, Status.TIME_LIMIT
