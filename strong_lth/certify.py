"""The achieved error of a ticket, three ways (THEORY section 5).

1. Per-weight error: ``|A_i - W_i|`` and ``|B_i - W_i|`` against
   ``η_i = ε / (2 l sqrt(2 d_{i-1} d_i))``.
2. Certified bound: with ``Δ_i = [A_i - W_i, W_i - B_i]``, ``τ_i = ||Δ_i||_2``, ``R_0 = r`` and
   ``R_i = ||W_i||_2 R_{i-1}``: ``e_i = τ_i (R_{i-1} + e_{i-1}) + ||W_i||_2 e_{i-1}``, and
   ``sup_{||x|| <= r} ||F(x) - G(x)||_2 <= e_l``. Rigorous and constant-free.
3. Measured worst case: random inputs on the sphere (in the ball when there are biases), the best
   of them refined by projected gradient ascent on the error. A lower bound on the true worst case.

On request (``box=``) also the exact worst case ``max ||F(x) - G(x)||_inf`` over the box
``[-box, box]^d`` (:func:`strong_lth.exact.exact_error`, a MILP), beside the certified bound over
the ball of radius ``box sqrt(d)`` that contains the box: measured <= exact <= certified.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import bounds
from ._validation import as_generator, check_int, check_real
from .exceptions import CertificationError, InvalidParameterError
from .networks import ReLUNetwork
from .ticket import gadget_network

__all__ = ["Certificate", "certified_error", "certify", "gadget_form"]

AGREEMENT = 1e-9
"""Relative tolerance for two evaluations of the same function (a network and its gadget form,
which add the same terms in other orders): far above float64 rounding, far below any error a
ticket is certified for."""


@dataclass(frozen=True, eq=False)
class Certificate:
    """The three error figures of a ticket or pruned network against its target.

    Attributes
    ----------
    radius : float
        Inputs range over the ball ``||x||_2 <= radius``.
    input_bias : bool
        The target has biases: the bound runs on the augmented input ``[x, 1]`` of norm
        ``sqrt(radius^2 + 1)`` and the worst case is searched inside the ball, not on the sphere.
    widths : tuple of int
        Bias-augmented target widths ``(d_0, ..., d_l)``.
    weight_norms, tau : ndarray, shape (l,)
        ``||W_i||_2`` and ``τ_i = ||[A_i - W_i, W_i - B_i]||_2``.
    max_weight_error, median_weight_error : ndarray, shape (l,)
        Over the ``2 d_{i-1} d_i`` entries of ``Δ_i``.
    certified : float
        ``e_l``: proven ``sup ||F(x) - G(x)||_2`` bound over the ball.
    measured : float
        The largest ``||F(x) - G(x)||_2`` found (a lower bound on the true supremum).
    measured_input : ndarray
        The input attaining ``measured``.
    box : float or None
        Set when the exact error was requested: the box ``[-box, box]^d``.
    exact : ExactErrorResult or None
        ``max ||F(x) - G(x)||_inf`` over the box, or a bracket (:func:`~strong_lth.exact_error`).
    box_certified : float or None
        ``e_l`` over the ball of radius ``box sqrt(d)``, which contains the box; it bounds the
        ∞-norm too, since ``||v||_inf <= ||v||_2``. The chain
        ``exact.measured <= exact.value <= box_certified`` is checked.
    """

    radius: float
    input_bias: bool
    widths: tuple[int, ...]
    weight_norms: np.ndarray
    tau: np.ndarray
    max_weight_error: np.ndarray
    median_weight_error: np.ndarray
    certified: float
    measured: float
    measured_input: np.ndarray
    box: float | None = None
    exact: Any = None
    box_certified: float | None = None

    def eta(self, eps: float) -> np.ndarray:
        """Per-weight precision ``η_i`` that guarantees error ``eps`` (THEORY section 5)."""
        d = np.asarray(self.widths)
        return np.atleast_1d(bounds.per_weight_precision(eps, d[:-1], d[1:], len(d) - 1))


def gadget_form(target: ReLUNetwork, network) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(A_i, B_i)`` of every layer pair of a 2l-deep gadget network (or of a ``Ticket``).

    Parameters
    ----------
    target : ReLUNetwork
        Depth l; with biases, the network's input is read as ``[x, 1]``.
    network : ReLUNetwork or Ticket
        Depth 2l; every unit of an odd layer keeps at most one input weight (THEORY section 3);
        only the first layer may have a bias (the folded constant input).

    Returns
    -------
    list of (A, B)
        ``A_i = M_{2i} max(M_{2i-1}, 0)``, ``B_i = M_{2i} min(M_{2i-1}, 0)``: with one input per
        unit, ``σ(u h_j) = u σ(h_j)`` for ``u > 0`` and ``-u σ(-h_j)`` for ``u < 0``, so the pair
        computes exactly ``A σ(h) - B σ(-h)``.
    """
    if hasattr(network, "gadgets"):
        pairs = network.gadgets()
    else:
        pairs = _network_gadgets(target, network)
    expected = [w.shape for w in target.augmented().weights]
    for i, ((a, _), shape) in enumerate(zip(pairs, expected), start=1):
        if a.shape != shape:
            raise InvalidParameterError(
                f"`network` layer pair {i} must map {shape[1]} inputs to {shape[0]} outputs, as "
                f"the (bias-augmented) target's layer {i} does; got {a.shape[1]} to {a.shape[0]}."
            )
    return pairs


def _network_gadgets(target, network):
    if not isinstance(network, ReLUNetwork):
        raise InvalidParameterError(
            f"`network` must be a ReLUNetwork or a Ticket; got {type(network).__name__}."
        )
    if network.depth != 2 * target.depth:
        raise InvalidParameterError(
            f"`network` must have depth 2l = {2 * target.depth} for a target of depth "
            f"{target.depth}; got {network.depth}."
        )
    weights = list(network.weights)
    if network.has_bias:
        if any(np.any(b) for b in network.biases[1:]):
            raise InvalidParameterError(
                "`network` must have biases in its first layer only (a ticket's folded constant "
                "input); got non-zero biases in later layers."
            )
        if target.has_bias:
            weights[0] = np.hstack([weights[0], network.biases[0][:, None]])
    elif target.has_bias:
        weights[0] = np.hstack([weights[0], np.zeros((weights[0].shape[0], 1))])
    pairs = []
    for i in range(target.depth):
        first, second = weights[2 * i], weights[2 * i + 1]
        fan_in = np.count_nonzero(first, axis=1)
        if np.any(fan_in > 1):
            raise InvalidParameterError(
                f"`network` layer {2 * i + 1} must keep at most one input weight per unit (the "
                f"gadget of THEORY section 3); got a unit with {fan_in.max()}."
            )
        pairs.append((second @ np.maximum(first, 0.0), second @ np.minimum(first, 0.0)))
    return pairs


def certified_error(taus, norms, input_radius: float) -> float:
    """THEORY section 5: ``e_i = τ_i (R_{i-1} + e_{i-1}) + ||W_i||_2 e_{i-1}``, ``e_0 = 0``,
    ``R_0 = input_radius``, ``R_i = ||W_i||_2 R_{i-1}``; returns ``e_l``."""
    error, reach = 0.0, input_radius
    for tau, norm in zip(taus, norms):
        error = tau * (reach + error) + norm * error
        reach *= norm
    return error


def _certified_bound(weights, pairs, input_radius):
    """Returns ``(e_l, ||W_i||, τ_i, Δ_i list)`` of a gadget network."""
    deltas = [np.hstack([a - w, w - b]) for w, (a, b) in zip(weights, pairs)]
    norms = np.array([np.linalg.norm(w, 2) for w in weights])
    taus = np.array([np.linalg.norm(delta, 2) for delta in deltas])
    return certified_error(taus, norms, input_radius), norms, taus, deltas


def _forward(network, x):
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


def _pullback(network, active, cotangent):
    """Gradient with respect to the input of ``<cotangent, network(x)>``."""
    g = cotangent
    for k in range(network.depth - 1, -1, -1):
        g = g @ network.weights[k]
        if k > 0:
            g = np.where(active[k - 1], g, 0.0)
    return g


def _error_and_gradient(target, network, x):
    """``||F(x) - G(x)||_2`` per row, and the gradient of ``½ ||F(x) - G(x)||²``."""
    f, f_active = _forward(target, x)
    g, g_active = _forward(network, x)
    diff = f - g
    grad = _pullback(target, f_active, diff) - _pullback(network, g_active, diff)
    return np.linalg.norm(diff, axis=1), grad


def _project(x, radius, sphere):
    norms = np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-300)
    return x * (radius / norms) if sphere else x * np.minimum(1.0, radius / norms)


def measure_worst_case(target, network, *, radius, sphere, rng, samples, starts, ascent_steps):
    """Largest ``||F(x) - G(x)||_2`` found by sampling plus projected gradient ascent.

    ``samples`` random inputs (uniform on the sphere, or in the ball), then the best ``starts``
    of them climb the error for ``ascent_steps`` normalised gradient steps, each projected back
    onto the domain; a step that does not improve is halved, one that does grows by 1.2.
    Returns ``(value, input)``.
    """
    d = target.widths[0]
    x = rng.standard_normal((samples, d))
    x = _project(x, radius, sphere=True)
    if not sphere:
        x *= rng.random((samples, 1)) ** (1.0 / d)
    error, _ = _error_and_gradient(target, network, x)
    x = x[np.argsort(error)[-starts:]]

    def move(x, step, grad):
        norms = np.maximum(np.linalg.norm(grad, axis=1, keepdims=True), 1e-300)
        return _project(x + step[:, None] * grad / norms, radius, sphere)

    return adaptive_ascent(
        x,
        lambda x: _error_and_gradient(target, network, x),
        move,
        step=0.1 * radius,
        steps=ascent_steps,
    )


def adaptive_ascent(x, evaluate, move, *, step: float, steps: int) -> tuple[float, np.ndarray]:
    """Climb ``evaluate`` from every row of ``x`` at once; return the best value and its input.

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
    best = int(np.argmax(value))
    return float(value[best]), x[best].copy()


def certify(
    target: ReLUNetwork,
    network,
    *,
    radius: float = 1.0,
    rng=None,
    samples: int = 2048,
    starts: int = 16,
    ascent_steps: int = 100,
    box: float | None = None,
    exact_time_limit: float | None = None,
) -> Certificate:
    """Per-weight, certified and measured error of a pruned network against its target.

    Parameters
    ----------
    target : ReLUNetwork
        The network ``F`` being approximated (depth l, biases allowed).
    network : ReLUNetwork or Ticket
        The pruned 2l-deep network ``G`` (or a ticket, read through its masks).
    radius : float, default 1.0
        Inputs range over ``||x||_2 <= radius``.
    rng : None, int or numpy.random.Generator
        Seeds the sampling of the measured worst case.
    samples, starts, ascent_steps : int
        Random inputs drawn, how many of the worst climb the error, and for how many steps.
    box : float, optional
        Also compute the exact worst case ``max ||F(x) - G(x)||_inf`` over ``[-box, box]^d``
        (:func:`~strong_lth.exact_error`, seeded by ``rng``) and the certified bound over the ball
        of radius ``box sqrt(d)`` that contains the box.
    exact_time_limit : float, optional
        Seconds for the exact error; past them it is a bracket. Needs ``box``.

    Returns
    -------
    Certificate

    Raises
    ------
    InvalidParameterError
        If ``network`` is not a 2l-deep gadget network whose pairs match the target's layers.
    CertificationError
        If the measured error exceeds the certified bound, ``network`` and its gadget form
        disagree, or the exact error exceeds the certified bound over the ball containing the box:
        each would be a bug, never a property of the input.

    Notes
    -----
    THEORY section 5. Since ``||σ(h)||² + ||σ(-h)||² = ||h||²``, pair i errs by at most
    ``τ_i ||h||`` on input h; ReLU is 1-Lipschitz, which gives the recursion. With biases the
    bound runs on ``[x, 1]`` (THEORY section 1), of norm at most ``sqrt(radius² + 1)``. Without
    biases, ``F`` and ``G`` are positively homogeneous, so the worst case lies on the sphere.
    The measured error evaluates the gadget form ``[I; -I]``, ``[A, -B]``, the same function as
    ``network`` (checked on the sampled inputs to :data:`AGREEMENT`) at a fraction of the cost.

    Examples
    --------
    >>> from strong_lth import ReLUNetwork, approximate, certify
    >>> target = ReLUNetwork.random((3, 4, 2), rng=0)
    >>> ticket = approximate(target, values_per_input=30, rng=1)
    >>> cert = certify(target, ticket, rng=0)
    >>> bool(cert.measured <= cert.certified < 0.01)
    True
    """
    radius = check_real("radius", radius, low=0.0, low_open=True)
    samples = check_int("samples", samples, low=1)
    starts = check_int("starts", starts, low=1, high=samples)
    ascent_steps = check_int("ascent_steps", ascent_steps, low=0)
    if box is not None:
        box = check_real("box", box, low=0.0, low_open=True)
    if exact_time_limit is not None:
        if box is None:
            raise InvalidParameterError(
                "`exact_time_limit` limits the exact error, which needs `box`; got box=None."
            )
        exact_time_limit = check_real("exact_time_limit", exact_time_limit, low=0.0, low_open=True)
    rng = as_generator(rng)
    pairs = gadget_form(target, network)
    augmented = target.augmented()
    input_radius = float(np.hypot(radius, 1.0)) if target.has_bias else radius
    certified, norms, taus, deltas = _certified_bound(augmented.weights, pairs, input_radius)
    gadget = gadget_network(pairs, target.has_bias)
    if isinstance(network, ReLUNetwork):
        _check_agreement(network, gadget, rng, radius)
    measured, where = measure_worst_case(
        target,
        gadget,
        radius=radius,
        sphere=not target.has_bias,
        rng=rng,
        samples=samples,
        starts=starts,
        ascent_steps=ascent_steps,
    )
    if measured > certified * (1 + AGREEMENT):
        raise CertificationError(
            f"measured error {measured!r} exceeds the certified bound {certified!r} at input "
            f"{where!r}: this is a bug."
        )
    exact = box_certified = None
    if box is not None:
        exact, box_certified = _exact_chain(
            target, network, box, exact_time_limit, rng, taus, norms
        )
    magnitudes = [np.abs(delta) for delta in deltas]
    return Certificate(
        radius=radius,
        input_bias=target.has_bias,
        widths=augmented.widths,
        weight_norms=norms,
        tau=taus,
        max_weight_error=np.array([m.max() for m in magnitudes]),
        median_weight_error=np.array([np.median(m) for m in magnitudes]),
        certified=float(certified),
        measured=measured,
        measured_input=where,
        box=box,
        exact=exact,
        box_certified=box_certified,
    )


def _exact_chain(target, network, box, time_limit, rng, taus, norms):
    """The exact error over the box and ``e_l`` over the ball of radius ``box sqrt(d)``."""
    from .exact import exact_error  # exact builds on this module

    exact = exact_error(target, network, box=box, time_limit=time_limit, rng=rng)
    ball = box * math.sqrt(target.widths[0])
    certified = certified_error(taus, norms, math.hypot(ball, 1.0) if target.has_bias else ball)
    if exact.value > certified * (1 + AGREEMENT):
        raise CertificationError(
            f"the exact error {exact.value!r} on the box exceeds the certified bound "
            f"{certified!r} over the ball containing it, at input {exact.maximizer!r}: this is a "
            "bug."
        )
    return exact, float(certified)


def _check_agreement(network, gadget, rng, radius):
    x = _project(rng.standard_normal((64, network.widths[0])), radius, sphere=True)
    direct, reduced = network.forward(x), gadget.forward(x)
    scale = max(1.0, float(np.abs(direct).max(initial=0.0)))
    gap = float(np.abs(direct - reduced).max(initial=0.0))
    if gap > AGREEMENT * scale:
        raise CertificationError(
            f"`network` and its gadget form differ by {gap!r} on the same inputs: this is a bug."
        )
