"""SubsetSum as an integer program solved by OR-Tools CP-SAT: an independent exact solver.

Values and target are scaled to integers on a grid of step ``q``: ``k_i = round(v_i / q)``,
``T = round(t / q)``. With binary ``x_i``, CP-SAT minimises ``dev`` subject to
``-dev <= sum_i k_i x_i - T <= dev``. OPTIMAL is reported only when CP-SAT proves it, and then
means optimal on the grid: the true error is within ``(n + 1) q`` of the true optimum.
"""

import numpy as np
from ortools.sat.python import cp_model

from ._result import Status

DEFAULT_RELATIVE_RESOLUTION = 2.0**-40
"""Default grid step relative to ``max(max |v|, |target|)``: coefficients stay below ``2^40``
(sums well inside int64) while the quantisation bound, about ``n 2^-40``, is far below any
optimum up to n = 32."""


def default_resolution(values, lengths, targets, tol):
    """Grid step per instance: ``max(max|v|, |t|) 2^-40``, so every coefficient and the target
    stay below ``2^40`` in grid units (far inside int64, whatever the magnitudes), coarsened to
    ``tol / (4 (n + 1))`` when a tolerance makes a coarser grid (a faster model) harmless."""
    n = values.shape[1]
    used = np.arange(n) < lengths[:, None]
    scale = np.max(np.where(used, np.abs(values), 0.0), axis=1, initial=0.0)
    scale = np.maximum(scale, np.abs(targets))
    q = np.where(scale > 0, scale, 1.0) * DEFAULT_RELATIVE_RESOLUTION
    if tol is not None:
        q = np.maximum(q, tol / (4.0 * (lengths + 1)))
    return q


def cpsat_solve(values, target, q, tol, time_limit, workers, mask_out):
    """Solve one instance; write the mask and return ``(sum, status)``.

    ``tol`` (or None) becomes CP-SAT's absolute gap limit in grid units, so the search stops once
    a subset is within ``tol`` of the target; ``time_limit`` (or None) its wall-clock limit.
    """
    steps = [int(k) for k in np.rint(values / q)]
    goal = round(target / q)
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
    if time_limit is not None:
        solver.parameters.max_time_in_seconds = time_limit
    if tol is not None:
        solver.parameters.absolute_gap_limit = float(np.floor(tol / q))
    outcome = solver.solve(model)
    if outcome not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        mask_out[:] = False
        return 0.0, Status.NOT_FOUND
    mask_out[: len(chosen)] = [bool(solver.value(x)) for x in chosen]
    total = float(np.sum(values[mask_out[: len(chosen)]]))
    if outcome == cp_model.OPTIMAL and solver.objective_value == solver.best_objective_bound:
        return total, Status.OPTIMAL
    stopped_by_time = time_limit is not None and solver.wall_time >= time_limit
    return total, Status.TIME_LIMIT if stopped_by_time else Status.FEASIBLE
