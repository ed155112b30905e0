"""The achieved error of a ticket, three ways (THEORY section 5).

1. Per-weight error: ``|A_i - W_i|`` and ``|B_i - W_i|`` against
   ``η_i = ε / (2 l sqrt(2 d_{i-1} d_i))``.
2. Certified bound: with the one-sided error ``Δ_i = [A_i - W_i, (W_i - B_i)_S]``
   (:func:`strong_lth.gadgets.error_matrix`: only the columns of inputs that can be negative carry
   ``W_i - B_i``, so ``Δ_i = A_i - W_i`` for every pair after the first), ``τ_i = ||Δ_i||_2``,
   ``R_0 = r`` and
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

import numpy as np

from . import bounds
from ._validation import as_generator, check_int, check_real
from .exact import ExactErrorResult, exact_error
from .exceptions import CertificationError, InvalidParameterError
from .gadgets import AGREEMENT, error_matrix, gadget_form, gadget_network, signed_inputs
from .networks import ReLUNetwork
from .worst_case import measure_worst_case, project

__all__ = ["AGREEMENT", "Certificate", "certified_error", "certify"]


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
        ``||W_i||_2`` and ``τ_i = ||Δ_i||_2``, ``Δ_i = [A_i - W_i, (W_i - B_i)_S]`` the one-sided
        error of :func:`~strong_lth.gadgets.error_matrix` (``S``: inputs that can be negative).
    max_weight_error, median_weight_error : ndarray, shape (l,)
        Over the entries of ``Δ_i``.
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
    exact: ExactErrorResult | None = None
    box_certified: float | None = None

    def eta(self, eps: float) -> np.ndarray:
        """Per-weight precision ``η_i`` that guarantees error ``eps`` (THEORY section 5)."""
        d = np.asarray(self.widths)
        return np.atleast_1d(bounds.per_weight_precision(eps, d[:-1], d[1:], len(d) - 1))


def certified_error(taus, norms, input_radius: float) -> float:
    """THEORY section 5: ``e_i = τ_i (R_{i-1} + e_{i-1}) + ||W_i||_2 e_{i-1}``, ``e_0 = 0``,
    ``R_0 = input_radius``, ``R_i = ||W_i||_2 R_{i-1}``; returns ``e_l``."""
    error, reach = 0.0, input_radius
    for tau, norm in zip(taus, norms):
        error = tau * (reach + error) + norm * error
        reach *= norm
    return error


def _certified_bound(weights, pairs, input_radius, input_bias):
    """Returns ``(e_l, ||W_i||, τ_i, Δ_i list)`` of a gadget network, ``Δ_i`` one-sided."""
    deltas = [
        error_matrix(w, a, b, signed_inputs(i, w.shape[1], input_bias))
        for i, (w, (a, b)) in enumerate(zip(weights, pairs), start=1)
    ]
    norms = np.array([np.linalg.norm(w, 2) for w in weights])
    taus = np.array([np.linalg.norm(delta, 2) for delta in deltas])
    return certified_error(taus, norms, input_radius), norms, taus, deltas


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
    THEORY section 5. Pair i computes ``A_i σ(h) - B_i σ(-h)`` and the target ``W_i h = W_i σ(h)
    - W_i σ(-h)``, so it errs by ``Δ_i [σ(h); σ(-h)_S]`` with ``S`` the inputs that can be
    negative (``σ(-h_j) = 0`` for the others: the input of every pair after the first is a ReLU
    output, and the constant input of a biased target is 1). Since ``σ(h)`` and ``σ(-h)`` have
    disjoint supports, ``||[σ(h); σ(-h)_S]|| <= ||h||``, and pair i errs by at most ``τ_i ||h||``
    (units that can never fire, kept by older tickets, add nothing: their columns are not in
    ``Δ_i``). ReLU is 1-Lipschitz, which gives the recursion. With biases the
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
    certified, norms, taus, deltas = _certified_bound(
        augmented.weights, pairs, input_radius, target.has_bias
    )
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
    x = project(rng.standard_normal((64, network.widths[0])), radius, sphere=True)
    direct, reduced = network.forward(x), gadget.forward(x)
    scale = max(1.0, float(np.abs(direct).max(initial=0.0)))
    gap = float(np.abs(direct - reduced).max(initial=0.0))
    if gap > AGREEMENT * scale:
        raise CertificationError(
            f"`network` and its gadget form differ by {gap!r} on the same inputs: this is a bug."
        )
