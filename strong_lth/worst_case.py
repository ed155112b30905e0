"""Worst-case search: the largest error between two networks found by gradient ascent.

A lower bound on the true worst case, over the ℓ2 ball or sphere (:func:`measure_worst_case`,
used by :func:`strong_lth.certify`) or over a box in the ∞-norm (:func:`measure_box`, used by
:func:`strong_lth.exact_error`), both climbing with one adaptive-step ascent
(:func:`adaptive_ascent`); the box search then moves its best points along the coordinates
(:func:`line_search`).
"""

from __future__ import annotations

import numpy as np

from .gadgets import error_matrix, signed_inputs

__all__ = [
    "adaptive_ascent",
    "line_search",
    "measure_box",
    "measure_worst_case",
    "structured_starts",
]

STRUCTURED_COLUMNS, STRUCTURED_SINGULAR = 8, 4
"""Structured starts of the ball search (:func:`structured_starts`): the inputs behind the
columns of the first pair's error holding its largest entries, and its top right singular
vectors."""

BOX_SAMPLES, BOX_STARTS, BOX_STEPS = 65536, 512, 200
"""The box search: random points of the box (half of them corners), the best of them climbing the
error by sign-gradient steps (:func:`measure_box`)."""

BOX_LINES, BOX_LINE_ROUNDS, BOX_LINE_POINTS = 8, 2, 129
"""Then the best climbed points move along one coordinate at a time to the best of evenly spaced
values across the box, every coordinate in turn, for this many rounds (:func:`line_search`)."""


def forward_with_activity(network, x):
    """Output and the ReLU activity pattern of every hidden layer."""
    biases = network.biases or (None,) * network.depth
    active = []
    h = x
    for k, (w, b) in enumerate(zip(network.weights, biases)):
        h = h @ w.T if b is None else h @ w.T + b
        if k < network.depth - 1:
            active.append(h > 0)
            h = np.where(active[-1], h, 0.0)
    return h, active


def pullback(network, active, cotangent):
    """Gradient with respect to the input of ``<cotangent, network(x)>``."""
    g = cotangent
    for k in range(network.depth - 1, -1, -1):
        g = g @ network.weights[k]
        if k > 0:
            g = np.where(active[k - 1], g, 0.0)
    return g


def error_and_gradient(target, network, x):
    """``||F(x) - G(x)||_2`` per row, and the gradient of ``½ ||F(x) - G(x)||²``."""
    f, f_active = forward_with_activity(target, x)
    g, g_active = forward_with_activity(network, x)
    diff = f - g
    grad = pullback(target, f_active, diff) - pullback(network, g_active, diff)
    return np.linalg.norm(diff, axis=1), grad


def project(x, radius, sphere):
    norms = np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-300)
    return x * (radius / norms) if sphere else x * np.minimum(1.0, radius / norms)


def structured_starts(weights, pairs, input_bias: bool, radius: float) -> np.ndarray:
    """Inputs of norm ``radius`` that excite the largest errors of the first gadget pair.

    With ``Δ_1 = [A_1 - W_1, (W_1 - B_1)_S]`` (:func:`~strong_lth.gadgets.error_matrix`) the
    first pair errs by ``Δ_1 [σ(x̃); σ(-x̃)_S]``. Random points of a high-dimensional sphere
    almost never come near the few directions that excite its largest entries, so the search
    also starts from them: ``+radius e_j`` for a column of ``A_1 - W_1`` (read when
    ``x_j > 0``) and ``-radius e_j`` for one of ``W_1 - B_1`` (read when ``x_j < 0``), for the
    :data:`STRUCTURED_COLUMNS` columns holding the largest entries, and ``±(p - q)`` for the top
    :data:`STRUCTURED_SINGULAR` right singular vectors ``v = [p; q]`` of ``Δ_1`` (``q`` mapped
    back to the coordinates it reads), normalised to ``radius``. The constant input of a biased
    target is not a direction of ``x`` and is left out.

    Returns
    -------
    ndarray, shape (k, d)
    """
    w, (a, b) = weights[0], pairs[0]
    d_in = w.shape[1]
    d = d_in - int(input_bias)
    signed = signed_inputs(1, d_in, input_bias)
    delta = error_matrix(w, a, b, signed)
    coordinate = np.concatenate([np.arange(d_in), np.flatnonzero(signed)])
    sign = np.concatenate([np.ones(d_in), -np.ones(int(signed.sum()))])
    real = coordinate < d
    columns = np.flatnonzero(real)
    largest = columns[np.argsort(-np.abs(delta[:, columns]).max(axis=0))[:STRUCTURED_COLUMNS]]
    rows = [sign[k] * radius * np.eye(d)[coordinate[k]] for k in largest]
    _, _, vt = np.linalg.svd(delta, full_matrices=False)
    for v in vt[:STRUCTURED_SINGULAR]:
        x = np.zeros(d)
        np.add.at(x, coordinate[real], sign[real] * v[real])
        norm = np.linalg.norm(x)
        if norm > 0:
            rows += [radius * x / norm, -radius * x / norm]
    return np.array(rows).reshape(-1, d)


def measure_worst_case(
    target, network, *, radius, sphere, rng, samples, starts, ascent_steps, extra_starts=None
):
    """Largest ``||F(x) - G(x)||_2`` found by sampling plus projected gradient ascent.

    ``samples`` random inputs (uniform on the sphere, or in the ball), then the best ``starts``
    of them, and every row of ``extra_starts`` (projected onto the domain: e.g.
    :func:`structured_starts`, or a maximiser found earlier), climb the error for
    ``ascent_steps`` normalised gradient steps, each projected back onto the domain; a step
    that does not improve is halved, one that does grows by 1.2. Returns ``(value, input)``.
    """
    d = target.widths[0]
    x = rng.standard_normal((samples, d))
    x = project(x, radius, sphere=True)
    if not sphere:
        x *= rng.random((samples, 1)) ** (1.0 / d)
    error, _ = error_and_gradient(target, network, x)
    x = x[np.argsort(error)[-starts:]]
    if extra_starts is not None and len(extra_starts):
        extra = project(np.asarray(extra_starts, dtype=float).reshape(-1, d), radius, sphere)
        x = np.vstack([x, extra])

    def move(x, step, grad):
        norms = np.maximum(np.linalg.norm(grad, axis=1, keepdims=True), 1e-300)
        return project(x + step[:, None] * grad / norms, radius, sphere)

    return adaptive_ascent(
        x,
        lambda x: error_and_gradient(target, network, x),
        move,
        step=0.1 * radius,
        steps=ascent_steps,
    )


def adaptive_ascent(x, evaluate, move, *, step: float, steps: int, every: bool = False):
    """Climb ``evaluate`` from every row of ``x`` at once; return the best value and its input
    (``every``: the values and inputs of all rows).

    ``evaluate(x) -> (values, gradients)`` per row; ``move(x, steps, gradients)`` proposes the
    next points (a projected step). Each start keeps its own step length: grown by 1.2 after a
    step that improves, halved (and the step refused) otherwise.
    """
    value, grad = evaluate(x)
    step = np.full(len(x), step)
    for _ in range(steps):
        trial = move(x, step, grad)
        trial_value, trial_grad = evaluate(trial)
        better = trial_value > value
        x[better], value[better], grad[better] = (
            trial[better],
            trial_value[better],
            trial_grad[better],
        )
        step = np.where(better, step * 1.2, step * 0.5)
    if every:
        return value, x
    best = int(np.argmax(value))
    return float(value[best]), x[best].copy()


def measure_box(first, second, box, rng):
    """Largest ``||F(x) - G(x)||_inf`` found in the box: random points (half of them corners),
    the best :data:`BOX_STARTS` climbing by sign-gradient steps (steepest ascent for the
    ∞-norm box), a step that does not improve halved, one that does grown by 1.2; then the best
    :data:`BOX_LINES` of them improved by :func:`line_search`, which crosses the kinks where
    the ascent stalls. Returns ``(value, input)``."""
    d = first.widths[0]
    x = rng.uniform(-box, box, (BOX_SAMPLES, d))
    x[BOX_SAMPLES // 2 :] = np.where(x[BOX_SAMPLES // 2 :] >= 0, box, -box)
    error, _ = inf_error_and_gradient(first, second, x)
    x = x[np.argsort(error)[-BOX_STARTS:]]
    value, x = adaptive_ascent(
        x,
        lambda x: inf_error_and_gradient(first, second, x),
        lambda x, step, grad: np.clip(x + step[:, None] * np.sign(grad), -box, box),
        step=0.25 * box,
        steps=BOX_STEPS,
        every=True,
    )
    top = np.argsort(value)[-BOX_LINES:]
    value, x = line_search(
        lambda x: inf_error_and_gradient(first, second, x)[0],
        x[top],
        box,
        rounds=BOX_LINE_ROUNDS,
        points=BOX_LINE_POINTS,
    )
    best = int(np.argmax(value))
    return float(value[best]), x[best].copy()


def line_search(evaluate, x, box, *, rounds, points):
    """Coordinate search in the box ``[-box, box]^d``: each row of ``x`` moves along coordinate
    0, then 1, ..., d - 1 (``rounds`` times over) to the best of ``points`` evenly spaced values
    of that coordinate in ``[-box, box]``, when it beats the current point. Returns ``(values,
    inputs)`` per row, ``values = evaluate(inputs)``; no row gets worse.

    The error is piecewise linear, so along a line it has kinks where a gradient step stops
    improving; a grid across the whole line steps over them (on the 8-16-16-4 ticket of the
    benchmark at n = 35/48/36 it raised the ascent's 3.097e-4 to 3.212e-4, the maximum being
    3.232e-4).
    """
    x = np.array(x, dtype=float)
    value = np.asarray(evaluate(x), dtype=float)
    n, d = x.shape
    grid = np.linspace(-box, box, points)
    rows = np.arange(n)
    for _ in range(rounds):
        for i in range(d):
            trial = np.repeat(x, points, axis=0)
            trial[:, i] = np.tile(grid, n)
            trial_value = np.asarray(evaluate(trial), dtype=float).reshape(n, points)
            j = np.argmax(trial_value, axis=1)
            better = trial_value[rows, j] > value
            x[better, i] = grid[j[better]]
            value = np.where(better, trial_value[rows, j], value)
    return value, x


def inf_error_and_gradient(first, second, x):
    """``||F(x) - G(x)||_inf`` per row and a gradient of its largest entry ``|F_k - G_k|``."""
    f, f_active = forward_with_activity(first, x)
    g, g_active = forward_with_activity(second, x)
    diff = f - g
    rows = np.arange(len(x))
    k = np.argmax(np.abs(diff), axis=1)
    cotangent = np.zeros_like(diff)
    cotangent[rows, k] = np.sign(diff[rows, k])
    grad = pullback(first, f_active, cotangent) - pullback(second, g_active, cotangent)
    return np.abs(diff[rows, k]), grad
