"""The achieved error of a ticket, three ways (docs/theory.md, section 5).

1. Per-weight error: ``|A_i - W_i|`` and ``|B_i - W_i|`` against
   ``η_i = ε / (2 l sqrt(2 d_{i-1} d_i))``.
2. Certified bound: with the one-sided error ``Δ_i = [A_i - W_i, (W_i - B_i)_S]``
   (:func:`strong_lth.gadgets.error_matrix`: only the columns of inputs that can be negative carry
   ``W_i - B_i``, so ``Δ_i = A_i - W_i`` for every pair after the first), ``τ_i = ||Δ_i||_2``,
   ``R_0 = r`` and
   ``R_i = ||W_i||_2 R_{i-1}``: ``e_i = τ_i (R_{i-1} + e_{i-1}) + ||W_i||_2 e_{i-1}``, and
   ``sup_{||x|| <= r} ||F(x) - G(x)||_2 <= e_l``. Rigorous and constant-free ("spectral").
   Beside it the bounds of :mod:`strong_lth.lockstep`, which follow the difference of the two
   networks in lockstep ("lockstep", and "split" over sub-boxes for small inputs), and the sum
   of diagonally scaled matrix chains through the ReLU slopes of :mod:`strong_lth.chain`
   ("chain", the tightest cheap one over a high-dimensional ball), and on request a semidefinite
   relaxation of both networks at once (:mod:`strong_lth.sdp`, "sdp");
   ``Certificate.certified`` is the tightest of the bounds computed.
3. Measured worst case: random inputs on the sphere (in the ball when there are biases), the best
   of them and the structured directions that excite the first pair's largest errors
   (:func:`strong_lth.worst_case.structured_starts`) refined by projected gradient ascent on the
   error. A lower bound on the true worst case.

On request (``box=``) also the exact worst case ``max ||F(x) - G(x)||_inf`` over the box
``[-box, box]^d`` (:func:`strong_lth.exact.exact_error`, a MILP), beside the certified bound over
the ball of radius ``box sqrt(d)`` that contains the box, and every lockstep bound over the box
itself in the ∞-norm: measured <= exact <= every certified bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import bounds
from ._validation import as_generator, check_inputs, check_int, check_real
from .chain import chain_bound, chain_cost
from .constructions import CONSTRUCTIONS
from .exact import ExactErrorResult, exact_error
from .exceptions import CertificationError, InvalidParameterError
from .gadgets import (
    AGREEMENT,
    blocked_forward,
    error_matrix,
    gadget_form,
    gadget_network,
    read_in_blocks,
    signed_inputs,
)
from .lockstep import error_bound
from .networks import ReLUNetwork
from .sdp import sdp_bound
from .worst_case import measure_worst_case, project, structured_starts

__all__ = [
    "AGREEMENT",
    "METHODS",
    "Certificate",
    "certified_error",
    "certify",
    "cheap_methods",
    "rigorous_bounds",
]

METHODS = ("spectral", "lockstep", "split", "chain", "sdp")
"""The rigorous bounds :func:`certify` can compute: the spectral recursion
(:func:`certified_error`), the lockstep back-substitution
(:func:`strong_lth.lockstep.error_bound`) over the whole domain, the same over sub-boxes
(:data:`SPLIT_DOMAINS` of the ball, :data:`BOX_SPLIT_DOMAINS` of a box), the sum of
diagonally scaled matrix chains through the ReLU slopes (:func:`strong_lth.chain.chain_bound`),
and the semidefinite relaxation of both networks (:func:`strong_lth.sdp.sdp_bound`, never among
:func:`cheap_methods`: minutes at 64-128-64-10). The last two are over the ball; over a box, over
the ball that contains it."""

SPLIT_INPUTS, BOX_SPLIT_INPUTS = 8, 64
"""Largest input dimension split into sub-boxes, for the ball and for a box. Splitting pays most
in low dimension: a sub-box halves one coordinate, and in d dimensions it takes about d
bisections to shrink every coordinate once. The ball, wider than its box in every coordinate,
gains little beyond 8 inputs; a small box still gains at 64 (the digits ticket: 2.01x to 1.90x
its exact error with 1024 sub-boxes)."""

SPLIT_DOMAINS, BOX_SPLIT_DOMAINS = 64, 4096
"""Sub-boxes of the "split" bound over the ball, and over a box (computed only beside the exact
MILP, which costs as much or more: on a 16-32-32-4 ticket 4096 sub-boxes take about a minute on
a loaded 2-core machine and bring the bound within 2x of the exact error). Counts, so every bound
is deterministic; splitting stops earlier once the bound meets the error attained
(:data:`strong_lth.lockstep.SPLIT_TOLERANCE`)."""

PASS_SECONDS, FLOPS, CHEAP_SECONDS = 0.01, 1e9, 1.0
"""The cost model of :func:`cheap_methods`: one lockstep pass costs about ``PASS_SECONDS`` of
interpreter overhead plus :func:`lockstep_cost` / ``FLOPS`` seconds; a method is cheap when its
passes take at most ``CHEAP_SECONDS`` (automatic mode calls the bounds in a loop)."""

MAX_REACH = 1e150
"""Largest ``radius · Π_i max(||W_i||_F, ||A_i||_F + ||B_i||_F, 1)`` certified (Frobenius norms
bound the spectral ones): beyond it squared norms of the networks' values could overflow float64
(about 1.8e308)."""


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
        The tightest proven bound of ``sup ||F(x) - G(x)||_2`` over the ball: the least value of
        ``bounds``.
    bounds : dict of str to float
        Every rigorous bound computed over the ball, by method (:data:`METHODS`).
    method : str
        The method that gave ``certified``.
    measured : float
        The largest ``||F(x) - G(x)||_2`` found (a lower bound on the true supremum).
    measured_input : ndarray
        The input attaining ``measured``.
    box : float or None
        Set when the exact error was requested: the box ``[-box, box]^d``.
    exact : ExactErrorResult or None
        ``max ||F(x) - G(x)||_inf`` over the box, or a bracket (:func:`~strong_lth.exact_error`).
    box_bounds : dict of str to float or None
        Set with ``box``: rigorous bounds of ``max ||F(x) - G(x)||_inf`` over the box by method:
        "spectral", "chain" and "sdp" are bounds over the ball of radius ``box sqrt(d)``, which
        contains the box (they bound the ∞-norm too, since ``||v||_inf <= ||v||_2``); the
        lockstep methods run over the box itself.
    box_certified : float or None
        The least of ``box_bounds``. The chain ``exact.measured <= exact.value <= box_certified``
        is checked (against every entry of ``box_bounds``).
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
    bounds: dict = field(default_factory=dict)
    method: str = "spectral"
    box: float | None = None
    exact: ExactErrorResult | None = None
    box_bounds: dict | None = None
    box_certified: float | None = None

    def eta(self, eps: float) -> np.ndarray:
        """Per-weight precision ``η_i`` that guarantees error ``eps``
        (docs/theory.md, section 5)."""
        d = np.asarray(self.widths)
        return np.atleast_1d(bounds.per_weight_precision(eps, d[:-1], d[1:], len(d) - 1))


def certified_error(taus, norms, input_radius: float) -> float:
    """docs/theory.md, section 5: ``e_i = τ_i (R_{i-1} + e_{i-1}) + ||W_i||_2 e_{i-1}``,
    ``e_0 = 0``, ``R_0 = input_radius``, ``R_i = ||W_i||_2 R_{i-1}``; returns ``e_l``."""
    error, reach = 0.0, input_radius
    for tau, norm in zip(taus, norms):
        error = tau * (reach + error) + norm * error
        reach *= norm
    return error


def _spectral_parts(target, pairs):
    """``(||W_i||_2, τ_i, Δ_i)`` of a gadget network, ``Δ_i`` one-sided (radius-free)."""
    weights = target.augmented().weights
    deltas = [
        error_matrix(w, a, b, signed_inputs(i, w.shape[1], target.has_bias))
        for i, (w, (a, b)) in enumerate(zip(weights, pairs), start=1)
    ]
    norms = np.array([np.linalg.norm(w, 2) for w in weights])
    taus = np.array([np.linalg.norm(delta, 2) for delta in deltas])
    return norms, taus, deltas


def _entry_errors(deltas) -> tuple[np.ndarray, np.ndarray]:
    """Largest and median ``|Δ_i|`` entry per layer, one ``|Δ_i|`` at a time (the median sorts
    in place a copy that is freed at once)."""
    largest, median = [], []
    for delta in deltas:
        magnitude = np.abs(delta)
        largest.append(magnitude.max())
        median.append(np.median(magnitude, overwrite_input=True))
    return np.array(largest), np.array(median)


def lockstep_cost(widths) -> float:
    """Estimated arithmetic of one "lockstep" bound on a target of these widths.

    Unit bounds of layer i back-substitute ``2 d_i`` rows through the i layers below, and the
    error term of every layer back-substitutes them once more: about
    ``Σ_i 2 d_i · i · Σ_{k <= i} d_{k-1} d_k`` multiply-adds.
    """
    d = np.asarray(widths, dtype=float)
    below = np.cumsum(d[:-1] * d[1:])
    return float(sum(2 * d[i + 1] * (i + 1) * below[i] for i in range(len(d) - 1)))


def cheap_methods(widths) -> tuple[str, ...]:
    """The rigorous methods cheap enough to run by default on a target of these widths.

    Parameters
    ----------
    widths : sequence of int
        The target's widths ``(d_0, ..., d_l)``.

    Returns
    -------
    tuple of str
        "spectral" always (a few spectral norms); "chain" when its descent is estimated to take
        at most :data:`CHEAP_SECONDS` (``PASS_SECONDS + chain_cost(widths) / FLOPS``,
        :func:`strong_lth.chain.chain_cost`); "lockstep" when one pass is estimated to take at
        most :data:`CHEAP_SECONDS` (``PASS_SECONDS + lockstep_cost(widths) / FLOPS``);
        "split" when moreover ``d_0 <=`` :data:`SPLIT_INPUTS` and its
        :data:`SPLIT_DOMAINS` passes fit the same time.

    Examples
    --------
    >>> cheap_methods((4, 8, 2))
    ('spectral', 'chain', 'lockstep', 'split')
    >>> cheap_methods((784, 500, 10))
    ('spectral', 'chain', 'lockstep')
    """
    seconds = PASS_SECONDS + lockstep_cost(widths) / FLOPS
    methods = ["spectral"]
    if PASS_SECONDS + chain_cost(widths) / FLOPS <= CHEAP_SECONDS:
        methods.append("chain")
    if seconds <= CHEAP_SECONDS:
        methods.append("lockstep")
        if widths[0] <= SPLIT_INPUTS and seconds * SPLIT_DOMAINS <= CHEAP_SECONDS:
            methods.append("split")
    return tuple(methods)


def _methods(target, method):
    if method is None:
        return cheap_methods(target.widths)
    methods = (method,) if isinstance(method, str) else tuple(method)
    for m in methods:
        if m not in METHODS:
            raise InvalidParameterError(f"`method` must be one of {METHODS}; got {m!r}.")
    return methods


def _bounds(target, pairs, methods, *, radius=None, box=None, spectral=None):
    """Every requested bound, over the ball of ``radius`` (ℓ2 norm) or the box ``[-box, box]^d``
    (∞-norm; "spectral" then runs over the ball of radius ``box sqrt(d)`` containing it).
    ``spectral``: the ``(norms, taus)`` of :func:`_spectral_parts`, when already computed."""
    d = target.widths[0]
    out = {}
    ball = radius if box is None else box * math.sqrt(d)
    for method in methods:
        if method == "spectral":
            norms, taus = spectral or _spectral_parts(target, pairs)[:2]
            value = certified_error(taus, norms, math.hypot(ball, 1.0) if target.has_bias else ball)
        elif method == "chain":
            value = chain_bound(target, pairs, radius=ball)
        elif method == "sdp":
            value = sdp_bound(target, pairs, radius=ball)
        else:
            half = radius if box is None else box
            value = error_bound(
                target,
                pairs,
                lower=np.full(d, -half),
                upper=np.full(d, half),
                radius=radius,
                norm=2 if box is None else np.inf,
                domains=_domains(method, d, box is not None),
            )
        out[method] = float(value)
    return out


def _domains(method, d, over_box):
    if method != "split":
        return 1
    if over_box:
        return BOX_SPLIT_DOMAINS if d <= BOX_SPLIT_INPUTS else 1
    return SPLIT_DOMAINS if d <= SPLIT_INPUTS else 1


def rigorous_bounds(target: ReLUNetwork, pairs, *, radius: float, methods=None) -> dict[str, float]:
    """Rigorous bounds of ``sup_{||x||_2 <= radius} ||F(x) - G(x)||_2``, no worst-case search.

    For automatic mode's loop: the bounds alone, as :func:`certify` computes them.

    Parameters
    ----------
    target : ReLUNetwork
        The target ``F``.
    pairs : list of (ndarray, ndarray)
        ``(A_i, B_i)`` of the gadget network ``G`` (:func:`~strong_lth.gadgets.gadget_form`).
    radius : float
        The ball's radius, > 0.
    methods : str or sequence of str, optional
        From :data:`METHODS`; default :func:`cheap_methods` of the target's widths.

    Returns
    -------
    dict of str to float
        Each method's bound: "spectral" the recursion of :func:`certified_error` with the
        one-sided ``τ_i``; "chain" :func:`strong_lth.chain.chain_bound`; "sdp"
        :func:`strong_lth.sdp.sdp_bound`; "lockstep" and "split"
        :func:`strong_lth.lockstep.error_bound` over
        the ball (and the box ``[-radius, radius]^d`` that contains it), "split" over
        :data:`SPLIT_DOMAINS` sub-boxes when ``d_0 <=`` :data:`SPLIT_INPUTS`. Each is an upper
        bound by the proof in its function's docstring.

    Raises
    ------
    InvalidParameterError
        If ``radius``, ``methods`` or ``pairs`` is invalid.
    """
    radius = check_real("radius", radius, low=0.0, low_open=True)
    methods = _methods(target, methods)
    return _bounds(target, pairs, methods, radius=radius)


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
    method=None,
    start=None,
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
    method : str or sequence of str, optional
        The rigorous bounds to compute (:data:`METHODS`); default: every method cheap at the
        target's size (:func:`cheap_methods`: "spectral" always, "lockstep" below
        :data:`CHEAP_SECONDS`, "split" for at most :data:`SPLIT_INPUTS` inputs). With ``box``
        the bounds over the box are the same methods, "spectral", and "split" when ``method`` is
        None and ``d_0 <=`` :data:`BOX_SPLIT_INPUTS`.
    start : array_like, optional
        Inputs (shape ``(d,)`` or ``(k, d)``) the worst-case ascent also starts from, e.g. an
        earlier certificate's ``measured_input``; it always starts from the structured
        directions of :func:`~strong_lth.worst_case.structured_starts` too.

    Returns
    -------
    Certificate

    Raises
    ------
    InvalidParameterError
        If ``network`` is not a 2l-deep gadget network whose pairs match the target's layers,
        has a first-layer bias against a bias-free target, is a ticket that records another
        target's fingerprint (:meth:`ReLUNetwork.fingerprint`), or ``radius`` (or the ball
        around the box) would overflow the networks' values (:data:`MAX_REACH`).
    CertificationError
        If ``network``'s own forward pass (a ticket's masks over its random weights) and the
        gadget form read from it disagree on sampled inputs (a ticket whose layout is not what
        its masks claim: it is refused, never certified), or if the measured error exceeds any
        bound over the ball, or the exact error any bound over the box (each would be a bug).

    Notes
    -----
    docs/theory.md, section 5. Pair i computes ``A_i σ(h) - B_i σ(-h)`` and the target
    ``W_i h = W_i σ(h)
    - W_i σ(-h)``, so it errs by ``Δ_i [σ(h); σ(-h)_S]`` with ``S`` the inputs that can be
    negative (``σ(-h_j) = 0`` for the others: the input of every pair after the first is a ReLU
    output, and the constant input of a biased target is 1). Since ``σ(h)`` and ``σ(-h)`` have
    disjoint supports, ``||[σ(h); σ(-h)_S]|| <= ||h||``, and pair i errs by at most ``τ_i ||h||``
    (units that can never fire, kept by older tickets, add nothing: their columns are not in
    ``Δ_i``). ReLU is 1-Lipschitz, which gives the recursion. With biases the
    bound runs on ``[x, 1]`` (docs/theory.md, section 1), of norm at most ``sqrt(radius² + 1)``.
    Without biases, ``F`` and ``G`` are positively homogeneous, so the worst case lies on the
    sphere. The measured error evaluates the gadget form ``[I; -I]``, ``[A, -B]``, which must be the
    same function as ``network``: checked against ``network.forward`` (for a ticket, its sparse
    masks over the regenerated random weights) to :data:`AGREEMENT` on 64 random inputs of the ball,
    on ``±radius e_j`` for up to 64 coordinates, and on the measured maximiser. The lockstep
    bounds are proven in :func:`strong_lth.lockstep.unit_bounds` and
    :func:`strong_lth.lockstep.error_bound`.

    Examples
    --------
    >>> from strong_lth import ReLUNetwork, approximate, certify
    >>> target = ReLUNetwork.random((3, 4, 2), rng=0)
    >>> ticket = approximate(target, values_per_input=30, rng=1)
    >>> cert = certify(target, ticket, rng=0)
    >>> bool(cert.measured <= cert.certified < 0.01)
    True
    >>> sorted(cert.bounds), cert.certified == min(cert.bounds.values())
    (['chain', 'lockstep', 'spectral', 'split'], True)
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
    declared = CONSTRUCTIONS.get(getattr(network, "construction", None))
    if declared is not None and declared.certificate is not None:
        return _certify_declared(
            target,
            network,
            declared,
            method,
            radius,
            rng,
            (samples, starts, ascent_steps),
            box,
            exact_time_limit,
            start,
        )
    methods = _methods(target, method)
    _check_first_bias(target, network)
    pairs = gadget_form(target, network)
    _check_fingerprint(target, network)  # after the shapes, whose message says more
    augmented = target.augmented()
    _check_reach(
        augmented, pairs, radius if box is None else max(radius, box * math.sqrt(target.widths[0]))
    )
    norms, taus, deltas = _spectral_parts(target, pairs)
    largest, median = _entry_errors(deltas)
    del deltas  # dense d_i x 2 d_{i-1} matrices: not held through the rest
    gadget = gadget_network(pairs, target.has_bias)
    _check_agreement(network, gadget, _agreement_inputs(target.widths[0], radius, rng))
    bounds = _bounds(target, pairs, methods, radius=radius, spectral=(norms, taus))
    extra = structured_starts(augmented.weights, pairs, target.has_bias, radius)
    if start is not None:
        extra = np.vstack(
            [extra, check_inputs("start", start, target.widths[0]).reshape(-1, extra.shape[1])]
        )
    measured, where = _measure(target, gadget, radius, rng, (samples, starts, ascent_steps), extra)
    _check_agreement(network, gadget, where[None, :])
    _check_chain(measured, bounds, "the measured error", "over the ball", where)
    exact = box_bounds = None
    if box is not None:
        exact = exact_error(target, network, box=box, time_limit=exact_time_limit, rng=rng)
        box_bounds = _bounds(target, pairs, methods, box=box, spectral=(norms, taus))
        if "spectral" not in box_bounds:  # the figure the chain has always been checked against
            box_bounds.update(
                _bounds(target, pairs, ("spectral",), box=box, spectral=(norms, taus))
            )
        _check_chain(
            exact.value, box_bounds, "the exact error on the box", "over the box", exact.maximizer
        )
    best = min(bounds, key=bounds.get)
    return Certificate(
        radius=radius,
        input_bias=target.has_bias,
        widths=augmented.widths,
        weight_norms=norms,
        tau=taus,
        max_weight_error=largest,
        median_weight_error=median,
        certified=bounds[best],
        measured=measured,
        measured_input=where,
        bounds=bounds,
        method=best,
        box=box,
        exact=exact,
        box_bounds=box_bounds,
        box_certified=None if box_bounds is None else min(box_bounds.values()),
    )


def _certify_declared(
    target, ticket, declared, method, radius, rng, search, box, exact_time_limit, start
):
    """:func:`certify` for a ticket whose construction declares its own certificate (not made
    of [P] pairs): its bound, and the measured (and exact) error of its pruned network."""
    if method not in (None, "spectral", ("spectral",), ["spectral"]):
        raise InvalidParameterError(
            f"`method` must be None or 'spectral' for construction {ticket.construction!r}, "
            f"which certifies with its own recursion (Construction.certificate); got {method!r}."
        )
    augmented = target.augmented()
    if tuple(ticket.widths) != augmented.widths or ticket.input_bias != target.has_bias:
        raise InvalidParameterError(
            f"`network` must be a ticket of this target: widths {augmented.widths} with "
            f"input_bias={target.has_bias}; got {tuple(ticket.widths)} with input_bias="
            f"{ticket.input_bias}."
        )
    _check_fingerprint(target, ticket)
    parts = declared.certificate(target, ticket.random_network(), ticket.masks, radius)
    pruned = ticket.pruned_network()
    _check_agreement(ticket, pruned, _agreement_inputs(target.widths[0], radius, rng))
    extra = None if start is None else check_inputs("start", start, target.widths[0])
    measured, where = _measure(target, pruned, radius, rng, search, extra)
    found = {"spectral": float(parts.certified)}
    _check_chain(measured, found, "the measured error", "over the ball", where)
    exact = box_bounds = None
    if box is not None:
        exact = exact_error(target, pruned, box=box, time_limit=exact_time_limit, rng=rng)
        ball = box * math.sqrt(target.widths[0])
        box_bounds = {
            "spectral": float(
                declared.certificate(target, ticket.random_network(), ticket.masks, ball).certified
            )
        }
        _check_chain(
            exact.value, box_bounds, "the exact error on the box", "over the box", exact.maximizer
        )
    return Certificate(
        radius=radius,
        input_bias=target.has_bias,
        widths=augmented.widths,
        weight_norms=np.array([np.linalg.norm(w, 2) for w in augmented.weights]),
        tau=parts.tau,
        max_weight_error=parts.max_weight_error,
        median_weight_error=parts.median_weight_error,
        certified=found["spectral"],
        measured=measured,
        measured_input=where,
        bounds=found,
        method="spectral",
        box=box,
        exact=exact,
        box_bounds=box_bounds,
        box_certified=None if box_bounds is None else box_bounds["spectral"],
    )


def _measure(target, network, radius, rng, search, extra):
    """:func:`~strong_lth.worst_case.measure_worst_case` of ``network`` against ``target`` over
    the ball (its sphere for a bias-free target, positively homogeneous), with ``search`` =
    ``(samples, starts, ascent_steps)`` and the extra starts ``extra``."""
    samples, starts, ascent_steps = search
    return measure_worst_case(
        target,
        network,
        radius=radius,
        sphere=not target.has_bias,
        rng=rng,
        samples=samples,
        starts=starts,
        ascent_steps=ascent_steps,
        extra_starts=extra,
    )


def _check_chain(value, bounds, what, where_text, point):
    """Every rigorous bound must hold at a point the search (or the MILP) reached."""
    for name, bound in bounds.items():
        if value > bound * (1 + AGREEMENT):
            raise CertificationError(
                f"{what} {value!r} exceeds the {name} bound {bound!r} {where_text}, at input "
                f"{point!r}: this is a bug."
            )


def _check_fingerprint(target, network):
    """A ticket that records its target's fingerprint is certified against that target only."""
    recorded = getattr(network, "target_fingerprint", None)
    if recorded is not None and isinstance(target, ReLUNetwork):
        actual = target.fingerprint()
        if actual != recorded:
            raise InvalidParameterError(
                "`target` must be the network the ticket was made for: the ticket records target "
                f"fingerprint {recorded[:12]}..., this target's is {actual[:12]}... (another "
                "seed, file, bias flag or scaling?)."
            )


def _check_first_bias(target, network):
    if (
        isinstance(network, ReLUNetwork)
        and network.has_bias
        and not target.has_bias
        and np.any(network.biases[0])
    ):
        raise InvalidParameterError(
            "`network` must have no first-layer bias when the target has none (a gadget "
            "network carries a bias only as the target's folded constant input); got non-zero "
            "biases in layer 1."
        )


def _check_reach(augmented, pairs, radius):
    reach = radius
    for w, (a, b) in zip(augmented.weights, pairs):
        reach *= max(float(np.linalg.norm(w)), float(np.linalg.norm(a) + np.linalg.norm(b)), 1.0)
    if not reach <= MAX_REACH:
        raise InvalidParameterError(
            f"`radius` must keep the networks' values representable: radius times the product "
            f"of the layers' spectral norms must be at most {MAX_REACH:g}; got radius="
            f"{radius!r}, product {reach:.3g}."
        )


def _agreement_inputs(d, radius, rng):
    """Inputs of the domain for the self-check: 64 random ones on the sphere of ``radius``,
    half of them scaled inside, and ``±radius e_j`` for up to 64 coordinates."""
    x = project(rng.standard_normal((64, d)), radius, sphere=True)
    x[32:] *= rng.random((32, 1))
    axes = rng.permutation(d)[:64]
    basis = np.zeros((2 * len(axes), d))
    basis[np.arange(len(axes)), axes] = radius
    basis[len(axes) + np.arange(len(axes)), axes] = -radius
    return np.vstack([x, basis])


def _check_agreement(network, gadget, x):
    """The gadget form certified and ``network``'s own forward (a ticket's masks over its random
    weights, or the pruned network) must agree on ``x``: a ticket whose layout breaks the gadget
    reading is refused, never certified. A ticket of more than
    :data:`~strong_lth.gadgets.LARGE_TICKET` kept weights is evaluated a block of them at a time
    (:func:`~strong_lth.gadgets.blocked_forward`)."""
    blocked = read_in_blocks(network)
    direct = blocked_forward(network, x) if blocked else network.forward(x)
    reduced = gadget.forward(x)
    scale = float(np.abs(direct).max(initial=0.0)) + float(np.abs(reduced).max(initial=0.0))
    scale = max(scale, float(np.linalg.norm(x, axis=1).max(initial=0.0)), 1e-300)
    gap = float(np.abs(direct - reduced).max(initial=0.0))
    if not gap <= AGREEMENT * scale:
        raise CertificationError(
            f"`network` and the gadget form read from it differ by {gap!r} on the same inputs "
            f"(scale {scale:.3g}): its layout is not the gadget layout its masks claim, and it "
            "cannot be certified."
        )
