"""Which neurons to keep: the multidimensional SubsetSum of docs/theory.md, section 7.

A neuron-subnetwork keeps neuron ``i`` (``s_i = 1``) or drops it (``s_i = 0``); on ``N`` data
points its training mean squared error is, with the columns ``c_i = v_i φ_i`` (``φ_i`` = feature
``i`` on the data),

    ``E(s) = ‖Σ_i s_i c_i - y‖² / N = sᵀ G s - 2 bᵀ s + ‖y‖² / N``,
    ``G = Cᵀ C / N``, ``b = Cᵀ y / N``,

a SubsetSum over ``N``-dimensional vectors. Every solver here works on ``(G, b)``; the estimator
recomputes ``E`` from the chosen mask by a forward pass of the pruned network.

- :func:`greedy_select`: forward selection with removal steps (stepwise selection).
- :func:`local_select`: iterated local search (seeded random kicks, each followed by the greedy's
  descent), started from the greedy mask.
- :func:`cpsat_select`: the quantised problem solved exactly by OR-Tools CP-SAT.
"""

from __future__ import annotations

import time

import numpy as np
from ortools.sat.python import cp_model

from ..subset_sum._result import Status

__all__ = ["CPSAT_MAX_WIDTH", "cpsat_select", "gram_system", "greedy_select", "local_select"]

RELATIVE_RESOLUTION = 2.0**-32
"""CP-SAT grid step relative to the largest objective coefficient: integer coefficients stay
below ``2^32`` and the objective below ``2^45`` for ``m <= CPSAT_MAX_WIDTH`` (exact in the
double-precision LP relaxation CP-SAT runs beside its search), while the quantisation bound
``q (m + m(m-1)/2)`` stays about ``m² 10^-10`` of the largest coefficient."""

CPSAT_MAX_WIDTH = 128
"""Largest width ``cpsat`` accepts: the model has one product variable per pair of neurons
(8128 at 128). In practice CP-SAT proves optimality up to about 28 neurons in a minute."""

CPSAT_WORKERS = 1
"""CP-SAT search workers: one, so that a fit is deterministic and frugal on shared machines."""

IMPROVEMENT_RTOL = 2.0**-40
"""A flip counts as an improvement only when it lowers ``E`` by more than this times the largest
coefficient of ``(G, b)``: rounding in the incremental updates can then never make the descent
cycle, and every step makes real progress."""


def gram_system(columns: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(G, b) = (Cᵀ C / N, Cᵀ y / N)`` for columns ``C`` of shape ``(N, m)``."""
    n = len(y)
    return columns.T @ columns / n, columns.T @ y / n


def _tolerance(gram: np.ndarray, linear: np.ndarray) -> float:
    scale = max(float(np.abs(gram).max(initial=0.0)), float(np.abs(linear).max(initial=0.0)))
    return IMPROVEMENT_RTOL * scale


def _value(linear: np.ndarray, mask: np.ndarray, g: np.ndarray) -> float:
    """``sᵀ G s - 2 bᵀ s`` from ``g = G s`` (the training MSE less the constant ``‖y‖² / N``)."""
    return float(g[mask].sum() - 2.0 * linear[mask].sum())


def _descend(gram, diag, linear, mask, g, tol, deadline):
    """Stepwise descent, in place on ``mask`` and ``g = G s``: remove the best neuron while that
    helps, else add the best one while that helps; stop at a mask no single flip improves (or at
    ``deadline``, returning False).

    Flipping ``i`` changes the error by ``Δ_i = ±(2 (G s)_i - 2 b_i) + G_ii`` (+ to add, - to
    remove) and ``g`` by ``±G_i``.
    """
    while True:
        if deadline is not None and time.perf_counter() > deadline:
            return False
        delta = np.where(mask, -1.0, 1.0) * (2.0 * (g - linear)) + diag
        removal = np.where(mask, delta, np.inf)
        i = int(np.argmin(removal))
        if removal[i] >= -tol:
            addition = np.where(mask, np.inf, delta)
            i = int(np.argmin(addition))
            if addition[i] >= -tol:
                return True
        g += -gram[i] if mask[i] else gram[i]
        mask[i] = not mask[i]


def greedy_select(gram, linear, *, deadline=None):
    """Forward selection with removal steps from the empty mask.

    Returns ``(mask, status)``: FEASIBLE (no single flip improves the mask, no optimality claim)
    or TIME_LIMIT.
    """
    mask, g = np.zeros(len(linear), dtype=bool), np.zeros(len(linear))
    tol = _tolerance(gram, linear)
    done = _descend(gram, np.diag(gram).copy(), linear, mask, g, tol, deadline)
    return mask, Status.FEASIBLE if done else Status.TIME_LIMIT


def local_select(gram, linear, *, rng, max_iter, deadline=None):
    """Iterated local search from the greedy mask.

    Each of ``max_iter`` rounds flips ``max(2, round(sqrt(m)))`` neurons of the best mask, chosen
    by ``rng``, runs the greedy's descent from there and keeps the result if it is better. The
    answer is never worse than the greedy's. Returns ``(mask, status)`` as
    :func:`greedy_select`.
    """
    m = len(linear)
    diag, tol = np.diag(gram).copy(), _tolerance(gram, linear)
    best, g_best = np.zeros(m, dtype=bool), np.zeros(m)
    done = _descend(gram, diag, linear, best, g_best, tol, deadline)
    best_value = _value(linear, best, g_best)
    kick = min(m, max(2, round(np.sqrt(m))))
    for _ in range(max_iter):
        if not done or (deadline is not None and time.perf_counter() > deadline):
            return best, Status.TIME_LIMIT
        trial, g = best.copy(), g_best.copy()
        flips = rng.choice(m, size=kick, replace=False)
        g += np.where(trial[flips], -1.0, 1.0) @ gram[flips]
        trial[flips] = ~trial[flips]
        done = _descend(gram, diag, linear, trial, g, tol, deadline)
        value = _value(linear, trial, g)
        if value < best_value - tol:
            best, g_best, best_value = trial, g, value
    return best, Status.FEASIBLE if done else Status.TIME_LIMIT


def cpsat_select(gram, linear, *, time_limit=None, hint=None):
    """Minimise the quantised ``E`` exactly with OR-Tools CP-SAT.

    With ``sᵀ G s = Σ_i G_ii s_i + Σ_{i<j} 2 G_ij s_i s_j`` and ``s_i² = s_i``, the objective is
    linear in the ``s_i`` and in products ``p_ij = s_i s_j`` (one Boolean each, tied to the
    ``s`` by CP-SAT's multiplication constraint). Each coefficient is rounded to a multiple of
    ``q``; CP-SAT minimises the rounded objective, exactly when it reports OPTIMAL.

    Returns ``(mask, status, q, bound)``: the rounded objective differs from the true one by at
    most ``q / 2`` per term, so the mask's true ``E`` exceeds the optimum by at most
    ``bound = q (m + m (m - 1) / 2)`` (two such errors, at most that many terms each).
    """
    m = len(linear)
    lin = np.diag(gram) - 2.0 * linear
    upper = np.triu_indices(m, 1)
    pair = 2.0 * gram[upper]
    scale = max(float(np.abs(lin).max()), float(np.abs(pair).max(initial=0.0)))
    if scale == 0.0:  # every mask has the same error
        return np.zeros(m, dtype=bool), Status.OPTIMAL, 0.0, 0.0
    q = scale * RELATIVE_RESOLUTION
    model = cp_model.CpModel()
    keep = [model.new_bool_var(f"s{i}") for i in range(m)]
    terms = [int(c) * s for c, s in zip(np.rint(lin / q), keep, strict=True)]
    for i, j, c in zip(*upper, np.rint(pair / q), strict=True):
        if c != 0:
            product = model.new_bool_var(f"p{i}_{j}")
            model.add_multiplication_equality(product, [keep[i], keep[j]])
            terms.append(int(c) * product)
    model.minimize(sum(terms))
    if hint is not None:
        for s, h in zip(keep, hint, strict=True):
            model.add_hint(s, bool(h))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = CPSAT_WORKERS
    if time_limit is not None:
        solver.parameters.max_time_in_seconds = time_limit
    outcome = solver.solve(model)
    bound = q * (m + m * (m - 1) / 2)
    if outcome not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return np.zeros(m, dtype=bool), Status.NOT_FOUND, q, bound
    mask = np.array([solver.value(s) for s in keep], dtype=bool)
    if outcome == cp_model.OPTIMAL:
        return mask, Status.OPTIMAL, q, bound
    stopped = time_limit is not None and solver.wall_time >= time_limit
    return mask, Status.TIME_LIMIT if stopped else Status.FEASIBLE, q, bound
