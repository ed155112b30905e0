"""Exact worst-case error of a pruned network over an input box or ball: a mixed-integer program.

The certified bound (docs/theory.md, section 5) is rigorous but loose, and the measured worst case
only bounds the truth from below. Both networks are piecewise linear, so the largest output
difference over a box, ``max_{x in [-box, box]^d} ||F(x) - G(x)||_inf``, is the optimum of a
mixed-integer linear program (MILP): the exact method of neural-network verification [TXT], here
applied to the difference of two networks as in equivalence checking [KB]. Over the ℓ2 ball of the
theorems the program gains one convex quadratic constraint, ``||x||_2² <= r²``.

References
----------
[TXT] Tjeng, Xiao, Tedrake. *Evaluating Robustness of Neural Networks with Mixed Integer
      Programming.* ICLR 2019 (big-M encoding, bounds from interval arithmetic and LPs).
[KB]  Kleine Büning, Kern, Sinz. *Verifying Equivalence Properties of Neural Networks with ReLU
      Activation Functions.* CP 2020 (the maximal output difference of two networks as a MILP).
[RD]  Paulsen, Wang, Wang. *ReluDiff: Differential Verification of Deep Neural Networks.*
      ICSE 2020 (bounds on the difference of paired neurons).
"""

from __future__ import annotations

import collections
import concurrent.futures
import datetime
import math
import threading
import time
from dataclasses import dataclass

import numpy as np

from ._config import num_threads
from ._validation import as_generator, check_choice, check_int, check_real
from .exceptions import CertificationError, InvalidParameterError, SolverError
from .gadgets import AGREEMENT, gadget_form, gadget_network
from .lockstep import cross_tighten, unit_bounds
from .networks import ReLUNetwork
from .subset_sum import Status
from .ticket import Ticket
from .worst_case import adaptive_ascent, inf_error_and_gradient, measure_box, project

__all__ = ["SOLVER_TOLERANCE", "ExactErrorResult", "exact_error"]

SOLVER_TOLERANCE = 1e-9
"""Feasibility, integrality and dual-feasibility tolerance ``τ`` given to the MILP and LP solvers
(their defaults, 1e-6 and 1e-7, are of the order of a good ticket's whole error). It sets the
margin of the proven upper bound (see :func:`exact_error`, Notes)."""

ROUNDING = 64 * np.finfo(np.float64).eps
"""Two float64 evaluations of the same network, summing the same terms in other orders, differ by
at most about ``n u`` times the sum of the magnitudes; 64 u covers every network here."""

SOLVERS = {"scip": "GSCIP", "highs": "HIGHS"}
"""``solver=`` names and their OR-Tools MathOpt solver types."""

QUICK_NODES, QUICK_RELIABILITY, QUICK_RATIO = 200, 16.0, 1.5
"""The first stage of an output sign's MILP (``_Search.solve``): at most this many nodes of
SCIP's reliability branching, a variable's pseudo-costs trusted after this many strong-branching
calls in each direction; only for a sign whose bound is at most this many times the cut-off."""

BALL_SAMPLES, BALL_STARTS, BALL_STEPS = 65536, 64, 200
"""The first lower bound over a ball: random points of the ball, the best of them climbing the
error by projected gradient steps (:func:`_measure_ball`)."""


@dataclass(frozen=True, eq=False)
class ExactErrorResult:
    """The exact worst-case error over a box, or a proven bracket around it.

    Attributes
    ----------
    value : float
        ``||F(x*) - G(x*)||_inf`` at the maximiser, recomputed with both networks' ``forward``: the
        lower end of the bracket, attained.
    upper_bound : float
        Proven: ``max_x ||F(x) - G(x)||_inf <= upper_bound`` (the solver's dual bound plus
        ``margin``).
    maximizer : ndarray, shape (d,)
        ``x*``, inside the domain (the box or the ball).
    output : int
        The output ``k`` with the largest ``|F_k(x*) - G_k(x*)|``.
    status : Status
        ``OPTIMAL`` when every output and sign was solved or ruled out, so that the bracket is as
        narrow as the solvers' tolerances allow, ``upper_bound - value <= margin + tolerance``
        (the solver's own gap is set to 0); ``TIME_LIMIT`` otherwise.
    box : float or None
        Inputs range over ``[-box, box]^d`` (None when the domain is a ball).
    ball : float or None
        Inputs range over ``||x||_2 <= ball`` (None when the domain is a box).
    measured : float
        The largest error that sampling and gradient ascent (in the box, then a coordinate line
        search: :func:`strong_lth.worst_case.measure_box`) found before the MILP (a lower
        bound, the solver's first incumbent).
    margin : float
        Added to the solver's dual bound in ``upper_bound`` (:func:`exact_error`, Notes).
    tolerance : float
        The largest difference allowed between a solver's objective at its solution and the
        error recomputed there (checked; :func:`exact_error`, Notes).
    solver : str
        ``"scip"`` or ``"highs"``.
    binaries : int
        Binary variables of the program (one per ReLU whose sign the domain does not fix).
    seconds : float
        Wall time of the whole computation.
    message : str
        What the status means here.
    """

    value: float
    upper_bound: float
    maximizer: np.ndarray
    output: int
    status: Status
    box: float | None
    ball: float | None
    measured: float
    margin: float
    tolerance: float
    solver: str
    binaries: int
    seconds: float
    message: str = ""

    @property
    def bracket(self) -> tuple[float, float]:
        """``(value, upper_bound)``: the exact maximum lies in between."""
        return self.value, self.upper_bound

    @property
    def ratio(self) -> float:
        """``upper_bound / value`` (``inf`` when ``value`` is 0): how tight the bracket is."""
        return self.upper_bound / self.value if self.value > 0 else math.inf


def _as_function(name, obj):
    """``(forward, network to encode, inputs, outputs)`` of a ReLUNetwork or a Ticket."""
    if isinstance(obj, Ticket):
        inputs = obj.widths[0] - int(obj.input_bias)
        return obj.forward, obj.reduced_network(), inputs, obj.widths[-1]
    if isinstance(obj, ReLUNetwork):
        return obj.forward, obj, obj.widths[0], obj.widths[-1]
    raise InvalidParameterError(
        f"`{name}` must be a ReLUNetwork or a Ticket; got {type(obj).__name__}."
    )


def _gadget_pair(target, network):
    """``(target in gadget form, network in gadget form, pairs)`` when ``network`` is a gadget
    network (or ticket) of ``target``, else None. The target's gadget form takes ``A = B = W``,
    since ``W σ(h) - W σ(-h) = W h`` (docs/theory.md, section 3): then both have the same widths and
    pair unit by unit."""
    if not isinstance(target, ReLUNetwork):
        return None
    if isinstance(network, ReLUNetwork) and network.depth != 2 * target.depth:
        return None
    try:
        pairs = gadget_form(target, network)
    except InvalidParameterError:  # not a gadget network of this target: encoded as it is
        return None
    weights = target.augmented().weights
    return (
        gadget_network([(w, w) for w in weights], target.has_bias),
        gadget_network(pairs, target.has_bias),
        pairs,
    )


def _model_networks(target, network, bound, ball):
    """The two ReLUNetworks the program encodes (the same functions as ``target`` and
    ``network``, aligned unit by unit when one is a gadget network of the other) and, when they
    are, the proven bounds of every pair layer (:func:`_lockstep`), else None."""
    pair = _gadget_pair(target, network)
    if pair is not None:
        return pair[0], pair[1], _lockstep(target, pair[2], bound, ball, swapped=False)
    pair = _gadget_pair(network, target)
    if pair is not None:
        return pair[1], pair[0], _lockstep(network, pair[2], bound, ball, swapped=True)
    return _as_function("target", target)[1], _as_function("network", network)[1], None


def _lockstep(target, pairs, bound, ball, swapped):
    """Per-unit bounds from :func:`strong_lth.lockstep.unit_bounds` over the domain, keyed by the
    gadget network's layer index ``2i - 1`` of pair i: ``(first's, second's pre-activation,
    second - first)``, each a list of ``(lo, hi)``."""
    d = target.widths[0]
    lower, upper = np.full(d, -bound), np.full(d, bound)
    layers = unit_bounds(target, pairs, lower=lower, upper=upper, radius=ball)

    def intervals(lo, hi):
        return list(zip(lo.tolist(), hi.tolist()))

    known = {}
    for i, b in enumerate(layers):
        z, y = intervals(b.target_lo, b.target_hi), intervals(b.ticket_lo, b.ticket_hi)
        if swapped:
            known[2 * i + 1] = (y, z, intervals(-b.difference_hi, -b.difference_lo))
        else:
            known[2 * i + 1] = (z, y, intervals(b.difference_lo, b.difference_hi))
    return known


def _layers(network):
    biases = network.biases or tuple(np.zeros(w.shape[0]) for w in network.weights)
    return list(zip(network.weights, biases))


def exact_error(
    target,
    network,
    *,
    box: float | None = None,
    ball: float | None = None,
    time_limit: float | None = None,
    solver: str = "scip",
    tighten: bool = True,
    rng=0,
    threads: int | None = None,
) -> ExactErrorResult:
    """The exact ``max ||F(x) - G(x)||_inf`` over a box or an ℓ2 ball, or a proven bracket.

    The error is measured in the ∞-norm of the output, the largest ``|F_k(x) - G_k(x)|`` over
    the outputs k. Over the ball (``ball=r``) this is the true ``ε = sup_{||x||_2 <= r}
    ||F(x) - G(x)||_inf`` of a ticket; for a network with one output it is the ``ε`` of the
    strong lottery ticket theorems, which bound ``||F(x) - G(x)||_2`` (Pensia et al. 2020,
    arXiv:2006.07990), and with ``m`` outputs it lies within a factor ``sqrt(m)`` below it.

    Parameters
    ----------
    target : ReLUNetwork or Ticket
        ``F`` (biases allowed).
    network : ReLUNetwork or Ticket
        ``G``, with the input and output dimensions of ``target``: a ticket of it, its pruned
        network, another ticket, any ReLU network.
    box : float, optional
        Inputs range over ``[-box, box]^d``. The default domain when neither ``box`` nor
        ``ball`` is given: ``box=1.0``.
    ball : float, optional
        Inputs range over the ℓ2 ball ``||x||_2 <= ball`` (SCIP only: a convex quadratic
        constraint). At most one of ``box`` and ``ball``.
    time_limit : float, optional
        Seconds for the whole computation; when it runs out the result is a bracket with status
        ``TIME_LIMIT``. None: solve to optimality.
    solver : {"scip", "highs"}
        The MILP solver (OR-Tools MathOpt); GLOP solves the bound-tightening LPs.
    tighten : bool, default True
        Tighten the pre-activation bounds beyond interval arithmetic before the MILP: by the
        lockstep bounds of :func:`strong_lth.lockstep.unit_bounds` (a ticket or gadget network
        of the target) and by one LP per open bound.
    rng : None, int or numpy.random.Generator, default 0
        Seeds the sampling that finds the first lower bound (the default is fixed, so the result
        is the same on every call with one thread).
    threads : int, optional
        Output signs solved at once, one solver thread each (default: as many as the batch
        SubsetSum solvers use, ``numba.get_num_threads()``: the cores unless
        ``NUMBA_NUM_THREADS`` sets fewer). With one thread the run is deterministic; with more,
        which solutions raise the shared cut-off first depends on timing, so the maximiser may
        be another point of the same value (up to ``tolerance``), and a bracket under a time
        limit varies from run to run, as it does with the machine's load.

    Returns
    -------
    ExactErrorResult

    Raises
    ------
    InvalidParameterError
        If either network is not a ReLUNetwork or a Ticket, their dimensions differ, both
        ``box`` and ``ball`` are given, ``box <= 0``, ``ball <= 0``, ``ball`` with
        ``solver="highs"``, ``time_limit <= 0``, ``solver`` is unknown, ``tighten`` not a bool
        or ``threads`` not a positive integer.
    CertificationError
        If the maximiser does not reproduce the solver's value (beyond ``tolerance``), or
        the networks' ``forward`` and the encoded networks disagree there by more than
        ``AGREEMENT`` (1e-9) relative: either is a bug.
    SolverError
        If a solver ends with a numerical error.

    Notes
    -----
    *Program.* Every ReLU ``h = σ(z)`` whose pre-activation has bounds ``l <= z <= u`` is
    dropped when ``u <= 0``, linear (``h = z``) when ``l >= 0``, and otherwise encoded with one
    binary ``δ``: ``h >= 0``, ``h >= z``, ``h <= z - l (1 - δ)``, ``h <= u δ`` [TXT]. Units with
    the same pre-activation share a variable, and ``σ(-z) = σ(z) - z`` makes a unit whose
    pre-activation is another's negation linear (a gadget network's ``[I; -I]`` layer costs one
    binary per input). Bounds come from interval arithmetic, then (``tighten``) from the
    lockstep bounds of :func:`strong_lth.lockstep.unit_bounds` when one network is a ticket or
    gadget network of the other, then from one LP per open bound over the relaxation of the
    earlier layers.

    *The domain.* A box is the inputs' variable bounds. A ball of radius r is ``x·x <= r²``, a
    convex quadratic constraint that OR-Tools MathOpt passes to SCIP (SCIP then separates it by
    tangent cuts, so its dual bounds remain bounds over a polytope containing the ball); the
    inputs also keep the bounds ``[-r, r]``, and every pre-activation bound is proven over the
    ball (the lockstep bounds concretise over ``||x||_2 <= r`` by Cauchy-Schwarz) or over the
    box ``[-r, r]^d``, which contains it. The bound-tightening LPs (GLOP) see the box only, with
    the lockstep bounds as rows.

    *A target and its ticket* are encoded side by side: the target in gadget form ``A = B = W``
    (``W σ(h) - W σ(-h) = W h``, docs/theory.md, section 3) has the ticket's widths, so unit j of
    one pairs with unit j of the other. For each pair, with ``z' = z + d``, the difference
    ``d`` gets its own bounds [RD] (interval arithmetic through the previous pairs, then LPs), and
    ``e = σ(z + d) - σ(z)``, which lies between ``min(d, 0)`` and ``max(d, 0)``, gets the chords
    of that range and, with the binaries, ``e <= d - dl⁻ (1 - δ')``, ``e >= d - du⁺ (1 - δ)``,
    ``e <= du⁺ δ'``, ``e >= dl⁻ δ``. These cuts change no integer solution; they keep the LP
    relaxation from treating two nearly equal networks as unrelated, which is what makes the
    difference of a target and its ticket expensive to bound. Where a proven bound (lockstep)
    on ``z``, ``z'`` or ``d`` is tighter than interval arithmetic over the program's variables,
    it also becomes a row ``lo <= d <= hi`` (or on ``z``, ``z'``); over the ball these rows carry
    what the box relaxation cannot see. Any two networks of equal widths are paired the same way;
    others are encoded independently.

    *The ∞-norm.* One MILP per output k and sign s maximises ``s (F_k - G_k)`` under the
    constraint ``s (F_k - G_k) >= best``, the best value found so far (first by sampling,
    sign-gradient ascent and a coordinate line search in the box): a pair whose bound is already
    below ``best`` is skipped, and the others only have to prove that they cannot beat it, or
    beat it. A single MILP with a binary choice of (k, s) would relax that choice too, and its
    LP bound is at least the largest of the per-pair bounds; separate programs keep each
    relaxation as tight as it can be and let the incumbent cut them off. Without a time limit
    the pairs go in decreasing order of their bounds; with one, the time goes where the
    bracket's upper end is (``_Search.run``). SCIP searches best-first without plunging: with
    the cut-off row in place of an incumbent, a depth-first dive leaves the dual bound where it was
    (on the digits ticket of the benchmark, unchanged after 30 s instead of 5% lower). It branches
    by full strong branching and separates cuts at the root only: on the benchmark's 8-16-16-4
    ticket (the output sign with the largest bound, root LP 8.8e-4) the dual bound after 1500 nodes
    was 3.5e-4 with full strong branching against 7.2e-4 with SCIP's default reliability branching,
    and cuts at every node cost three times the time for the same bound. SCIP's presolve is off: on
    the 8-16-16-4 ticket at n = 35/48/36 (below) it took 2 s of CPU per solve, most of the cost of
    a sign settled in a few nodes, and left the root bound of output 3, sign +1 at 3.80e-4
    where the LP and cuts alone reach 3.76e-4. Each sign's program first gets
    :data:`QUICK_NODES` nodes of reliability branching that trusts pseudo-costs only after
    :data:`QUICK_RELIABILITY` strong-branching calls per variable and direction: on that ticket
    (n = 35/48/36, maximum 3.232e-4) it proved four of the six signs that could not beat the
    cut-off in 3 to 25 nodes (2 to 3 s of CPU each with presolve, 0.7 to 1.3 s without, against
    5.6 to 59 s with full strong branching), while on the others it is bimodal (no progress after
    40,000 nodes), so the second stage then runs full strong branching as before. The first stage is
    tried only on signs whose bound is at most :data:`QUICK_RATIO` times the cut-off: it settled
    every sign within 1.25 times and none beyond 1.6 (on the benchmark's 8-16-16-4 ticket at n =
    30/34/30, where it failed on the three signs with bounds 1.7 to 2.2 times the cut-off and
    cost 6 s of CPU each).

    *Cost.* The LP relaxation of the difference of two nearly equal networks stays a few times
    the maximum (at the root, 2.7 times the best value known on the benchmark's 8-16-16-4
    ticket, with all the cuts above; the ideal single-neuron cuts of Anderson et al., Math.
    Prog. 2020, took off only 5% more in a trial), because every open ReLU
    of the target lets the relaxation add its slack times a weight error, the very size of the
    answer. So the branch and bound must settle most activation patterns near the maximum and its
    cost grows exponentially with the open ReLUs: seconds for a few dozen, a bracket within a time
    limit beyond (``BENCHMARKS.md``). Tighter per-unit bounds do not change this: on the 8-16-16-4
    ticket the lockstep bounds are no tighter than the LP ones, and splitting the input box into
    its 8 orthants in three coordinates lowered the root LP bound by 12% only, while the maximum
    found in every orthant stayed within 15% of the whole box's (so no sub-box could be
    dropped).

    *Tolerances.* The solvers run with tolerance ``τ =`` :data:`SOLVER_TOLERANCE`, and the result
    never rests on their arithmetic alone. The lower end ``value`` is recomputed with both
    networks' ``forward`` at the maximiser, so it is attained. The upper end is the largest dual
    bound (or cut-off) plus ``margin = τ Σ_j (ub_j - lb_j)``, which bounds how far an LP bound can
    fall short of the true one when its reduced costs are off by ``τ`` (Neumaier and Shcherbina,
    Math. Prog. 2004); the bound-tightening LPs are widened by the same amount. Rows satisfied
    only to ``τ`` relax the program, so they can only raise its optimum, never cut off the
    maximum. They do move a solver's objective away from the true error at its solution, by at
    most ``tolerance = margin + δ_τ``, where ``δ_τ`` propagates a violation of every row by ``τ``
    times its size through ``|W_i|`` (ReLU is 1-Lipschitz); this is checked for every solution.
    Over a ball the maximiser is scaled into the ball before it is evaluated (the quadratic
    constraint too holds only to ``τ``), and ``δ_τ`` starts from how far that can move it
    (:func:`_primal_tolerance`). Interval bounds are computed in float64 without directed
    rounding; their error, about 1e-16 of their size, is far inside ``margin``; the lockstep
    bounds are rounded outward. The bracket is thus rigorous up to the
    floating-point solution of LPs, which a solver in exact rational arithmetic would remove.

    Examples
    --------
    >>> from strong_lth import ReLUNetwork, approximate, exact_error
    >>> target = ReLUNetwork.random((2, 3, 1), rng=0)
    >>> ticket = approximate(target, values_per_input=12, rng=1)
    >>> result = exact_error(target, ticket, box=1.0)
    >>> width = result.upper_bound - result.value
    >>> result.status.name, bool(width <= result.margin + result.tolerance)
    ('OPTIMAL', True)
    >>> on_ball = exact_error(target, ticket, ball=1.0)  # the disc inside that box
    >>> on_ball.status.name, bool(on_ball.value <= result.upper_bound)
    ('OPTIMAL', True)
    """
    start = time.perf_counter()
    check_choice("solver", solver, SOLVERS)
    box, ball = _domain(box, ball, solver)
    if time_limit is not None:
        time_limit = check_real("time_limit", time_limit, low=0.0, low_open=True)
    if not isinstance(tighten, bool | np.bool_):
        raise InvalidParameterError(f"`tighten` must be True or False; got {tighten!r}.")
    rng = as_generator(rng)
    threads = num_threads() if threads is None else check_int("threads", threads, low=1)
    first_forward, _, d_in, d_out = _as_function("target", target)
    second_forward, _, d2_in, d2_out = _as_function("network", network)
    if (d_in, d_out) != (d2_in, d2_out):
        raise InvalidParameterError(
            f"`network` must have the input and output dimensions of `target` ({d_in} and "
            f"{d_out}); got {d2_in} and {d2_out}."
        )
    deadline = math.inf if time_limit is None else time.monotonic() + time_limit
    bound = box if ball is None else ball  # every coordinate of x lies in [-bound, bound]
    first, second, known = _model_networks(target, network, bound, ball)
    check = _Evaluator(first_forward, second_forward, first, second)

    if ball is None:
        _, x_best = measure_box(first, second, box, rng)
    else:
        x_best = _measure_ball(first, second, ball, rng)
    measured = check.value(x_best)

    encoder = _Encoder(first, second, bound, tighten, deadline, known if tighten else None)
    outputs, bounds = encoder.run()
    program = encoder.program
    margin = _dual_error(program)
    tolerance = margin + _primal_tolerance((first, second), bound, ball, bounds)
    domain = (bound, ball)
    search = _Search(program, encoder.inputs, outputs, solver, tolerance, domain, check, threads)
    value, x_best, uppers, open_pairs = search.run(bounds, measured, x_best, deadline)
    upper = max(value, *uppers) + margin
    status = Status.TIME_LIMIT if open_pairs else Status.OPTIMAL
    message = (
        "optimal: every output and sign solved or ruled out; the maximum lies in "
        "[value, upper_bound]"
        if status == Status.OPTIMAL
        else f"time limit reached with {open_pairs} of {2 * d_out} output signs open; the "
        "maximum lies in [value, upper_bound]"
    )
    error = np.abs(np.asarray(first_forward(x_best)) - np.asarray(second_forward(x_best)))
    return ExactErrorResult(
        value=float(value),
        upper_bound=float(upper),
        maximizer=x_best,
        output=int(np.argmax(error)),
        status=status,
        box=box,
        ball=ball,
        measured=float(measured),
        margin=float(margin),
        tolerance=float(tolerance),
        solver=solver,
        binaries=int(sum(program.binary)),
        seconds=time.perf_counter() - start,
        message=message,
    )


def _domain(box, ball, solver):
    """``(box, ball)``, one of them None: the unit box when neither is given."""
    if box is not None and ball is not None:
        raise InvalidParameterError(
            f"give one domain, `box` or `ball`, not both; got box={box!r} and ball={ball!r}."
        )
    if ball is None:
        return check_real("box", 1.0 if box is None else box, low=0.0, low_open=True), None
    ball = check_real("ball", ball, low=0.0, low_open=True)
    if solver != "scip":
        raise InvalidParameterError(
            f"`solver` must be 'scip' with `ball` (the ball is a quadratic constraint, which "
            f"HiGHS does not take); got {solver!r}."
        )
    return None, ball


def _into_ball(x, radius):
    """``x`` scaled into the ball ``||x||_2 <= radius`` when outside it (and shrunk by rounding
    errors until its float64 norm is at most ``radius``)."""
    x = project(np.atleast_2d(x), radius, sphere=False)[0]
    while np.linalg.norm(x) > radius:
        x = x * (1 - 2 * np.finfo(np.float64).eps)
    return x


def _measure_ball(first, second, radius, rng):
    """The input of the largest ``||F(x) - G(x)||_inf`` found in the ball: :data:`BALL_SAMPLES`
    uniform points, the best :data:`BALL_STARTS` climbing by normalised gradient steps projected
    onto the ball (:func:`strong_lth.worst_case.adaptive_ascent`)."""
    d = first.widths[0]
    x = project(rng.standard_normal((BALL_SAMPLES, d)), radius, sphere=True)
    x *= rng.random((BALL_SAMPLES, 1)) ** (1.0 / d)
    error, _ = inf_error_and_gradient(first, second, x)
    x = x[np.argsort(error)[-BALL_STARTS:]]

    def move(x, step, grad):
        norms = np.maximum(np.linalg.norm(grad, axis=1, keepdims=True), 1e-300)
        return project(x + step[:, None] * grad / norms, radius, sphere=False)

    def evaluate(x):
        return inf_error_and_gradient(first, second, x)

    return adaptive_ascent(x, evaluate, move, step=0.1 * radius, steps=BALL_STEPS)[1]


class _Evaluator:
    """The error at a point, from the networks as given, checked against the encoded ones."""

    def __init__(self, first_forward, second_forward, first, second):
        self.forwards = (first_forward, second_forward)
        self.models = (first, second)

    def value(self, x):
        given = [np.asarray(f(x), dtype=np.float64) for f in self.forwards]
        model = [net.forward(x) for net in self.models]
        value = float(np.abs(given[0] - given[1]).max())
        again = float(np.abs(model[0] - model[1]).max())
        scale = sum(float(np.abs(a).max()) for a in given)
        if abs(value - again) > AGREEMENT * value + ROUNDING * scale:
            raise CertificationError(
                f"the networks' forward passes give error {value!r} at {x!r} but the encoded "
                f"networks give {again!r}: this is a bug."
            )
        return value

    def signed(self, x, k, sign):
        """``sign (F_k(x) - G_k(x))`` of the encoded networks."""
        return float(sign * (self.models[0].forward(x)[k] - self.models[1].forward(x)[k]))


class _Search:
    """The MILPs, one per output and sign, on one model (a copy of it per thread)."""

    def __init__(self, program, inputs, outputs, solver, tolerance, domain, check, threads):
        from ortools.math_opt.python import mathopt

        self.mathopt = mathopt
        self.program, self.input_ids, self.threads = program, inputs, threads
        self.outputs, self.solver, self.tolerance = outputs, solver, tolerance
        (self.bound, self.ball), self.check = domain, check
        self.local = threading.local()  # each thread's own copy of the model (:meth:`slot`)
        self.lock = threading.Lock()  # guards the shared state below
        self.stopped = False  # once set (a thread failed, or all are done), no solve starts
        self.best, self.x_best = -math.inf, None
        self.upper, self.unsolved, self.quick_tried = {}, set(), set()

    def slot(self):
        """This thread's model, its variables and inputs, and its cut-off row (built on first
        use: a MathOpt model is changed by every stage, so threads cannot share one)."""
        local = self.local
        if not hasattr(local, "model"):
            mathopt = self.mathopt
            local.model, local.variables = self.program.to_mathopt(relax=False)
            local.inputs = [local.variables[v] for v in self.input_ids]
            local.cut = None
            if self.ball is not None:  # ||x||_2 <= ball, a convex quadratic constraint (SCIP)
                squares = mathopt.QuadraticSum(x * x for x in local.inputs)
                local.model.add_quadratic_constraint(expr=squares, ub=self.ball**2)
        return local

    def objective(self, k, sign):
        variables = self.slot().variables
        terms, constant = _combine((sign, self.outputs[0][k]), (-sign, self.outputs[1][k]))
        expr = self.mathopt.LinearSum(c * variables[v] for v, c in terms.items())
        return expr, constant

    def params(self, seconds, quick=False):
        """Solver parameters for ``seconds``; ``quick``: SCIP's reliability branching with
        :data:`QUICK_RELIABILITY` strong-branching calls per variable and :data:`QUICK_NODES`
        nodes at most (the first stage of :meth:`solve`)."""
        mathopt = self.mathopt
        params = mathopt.SolveParameters(
            random_seed=0, relative_gap_tolerance=0.0, absolute_gap_tolerance=0.0
        )
        if math.isfinite(seconds):
            params.time_limit = datetime.timedelta(seconds=max(seconds, 1e-3))
        if self.solver == "scip":
            params.threads = 1
            params.gscip.real_params["numerics/feastol"] = SOLVER_TOLERANCE
            params.gscip.real_params["numerics/dualfeastol"] = SOLVER_TOLERANCE
            # best-first search, no plunging: the upper end is the search's dual bound, and the
            # cut-off row stands in for an incumbent (a depth-first dive leaves it unchanged)
            params.gscip.int_params["nodeselection/bfs/stdpriority"] = 1_000_000
            params.gscip.int_params["nodeselection/bfs/maxplungedepth"] = 0
            params.gscip.int_params["separating/maxrounds"] = 0  # cuts at the root only
            # no presolve: on these programs it cost 2 s of CPU per solve and left a weaker root
            # bound than the LP and cuts alone (docstring of :func:`exact_error`)
            params.presolve = mathopt.Emphasis.OFF
            if quick:
                params.node_limit = QUICK_NODES
                for name in ("minreliable", "maxreliable"):
                    params.gscip.real_params[f"branching/relpscost/{name}"] = QUICK_RELIABILITY
            else:
                # full strong branching: each node's LP is cheap, and the dual bound falls with
                # the number of nodes many times faster (module docstring)
                params.gscip.int_params["branching/fullstrong/priority"] = 1_000_000
        else:
            for name in (
                "mip_feasibility_tolerance",
                "primal_feasibility_tolerance",
                "dual_feasibility_tolerance",
            ):
                params.highs.double_options[name] = SOLVER_TOLERANCE
            params.highs.int_options["threads"] = 1
            params.highs.bool_options["output_flag"] = False
        return params

    def run(self, bounds, best, x_best, deadline):
        """Solve or rule out every (output, sign) pair; returns ``(best, x_best, proven upper
        bounds, number of pairs left open)``.

        Without a time limit the pairs with the largest bounds go first, each solved to the end:
        their solutions raise the cut-off for the rest. With one, the bracket's upper end is the
        largest bound of a pair, so the time goes where that bound is. A first pass, smallest
        bounds first, gives every pair an equal share of half the time (pairs that close early
        pass theirs on); then the open pair with the largest bound is solved again, under the
        latest cut-off, with twice the time it had (so restarts waste at most half) or a quarter of
        the time left if that is more, until the time is spent or that pair cannot be given more
        time than it had (then the result comes back early).

        With ``threads`` > 1 as many pairs are solved at once, each by one thread (MathOpt
        releases the GIL while a solver runs), in the same order: a free thread takes the next
        pair of the first pass, whose share of the time is multiplied by ``threads``, then the
        open pair with the largest bound that no other thread is solving. Every solution raises
        the one cut-off that all later solves use. One thread runs in the calling thread.
        """
        for k, (lo, hi) in enumerate(bounds):
            self.upper[k, 1], self.upper[k, -1] = hi, -lo
        order = sorted(self.upper, key=self.upper.get, reverse=math.isinf(deadline))
        self.unsolved = set(order)
        self.best, self.x_best = best, x_best
        reserve = 0.0 if math.isinf(deadline) else (deadline - time.monotonic()) / 2
        queue, busy = collections.deque(order), set()
        spent = dict.fromkeys(order, 0.0)

        def next_job():
            """``(pair, seconds)`` for a free thread, or None: nothing left it could improve."""
            with self.lock:
                while queue and not self.stopped:  # the first pass
                    pair = queue.popleft()
                    left = deadline - time.monotonic()
                    if self.upper[pair] <= self.best or left <= 0:
                        continue
                    budget = left - reserve
                    spent[pair] = min(budget, budget * self.threads / (len(queue) + 1))
                    busy.add(pair)
                    return pair, spent[pair]
                left = deadline - time.monotonic()
                still = [p for p in self.unsolved if self.upper[p] > self.best and p not in busy]
                if self.stopped or left <= 0 or not still:
                    return None
                pair = max(still, key=self.upper.get)
                if left <= spent[pair]:  # a restart with no more time than before cannot do better
                    return None
                spent[pair] = min(left, max(2 * spent[pair], left / 4))
                busy.add(pair)
                return pair, spent[pair]

        def work():
            try:
                while (job := next_job()) is not None:
                    pair, seconds = job
                    try:
                        found = self.solve(pair, seconds, self.best, self.x_best)
                    finally:
                        with self.lock:
                            busy.discard(pair)
                    with self.lock:
                        if found[0] > self.best:
                            self.best, self.x_best = found
            except BaseException:
                # a solver error (or Ctrl-C): no new solve starts; those running end at their
                # limits, as a lone solve does (a MathOpt interrupter would stop them, but
                # makes SCIP print an error on every solve)
                self.stopped = True
                raise

        if self.threads == 1:
            work()
        else:
            with concurrent.futures.ThreadPoolExecutor(self.threads) as pool:
                futures = [pool.submit(work) for _ in range(self.threads)]
                try:
                    concurrent.futures.wait(futures, return_when=concurrent.futures.FIRST_EXCEPTION)
                finally:  # all done, or an error or Ctrl-C: no thread starts another solve
                    self.stopped = True
                for future in futures:
                    future.result()
        best = self.best
        open_pairs = sum(self.upper[p] > best for p in self.unsolved)
        return best, self.x_best, list(self.upper.values()), open_pairs

    def solve(self, pair, seconds, best, x_best):
        """One MILP: maximise ``s (F_k - G_k)`` subject to ``s (F_k - G_k) >= best``.

        With SCIP, when the pair's bound is within :data:`QUICK_RATIO` of the cut-off, in two
        stages: first reliability branching for :data:`QUICK_NODES` nodes, which settles most
        such pairs within a few nodes, then, if the pair is still open, full strong branching
        under the raised cut-off for the time left; otherwise full strong branching only (the
        docstring of :func:`exact_error` has the measurements)."""
        if (
            self.solver != "scip"
            or self.upper[pair] > QUICK_RATIO * best
            or pair in self.quick_tried  # a restart (``run``): the first stage is not repeated
        ):
            return self.stage(pair, seconds, best, x_best, quick=False)
        self.quick_tried.add(pair)
        stop = time.monotonic() + seconds
        best, x_best = self.stage(pair, seconds, best, x_best, quick=True)
        if pair in self.unsolved and self.upper[pair] > best and time.monotonic() < stop:
            best, x_best = self.stage(pair, stop - time.monotonic(), best, x_best, quick=False)
        return best, x_best

    def stage(self, pair, seconds, best, x_best, quick):
        """One solver call on ``pair`` (:meth:`solve`), under the latest cut-off (another thread's
        solution may have raised it); returns the new ``(best, x_best)``."""
        mathopt = self.mathopt
        with self.lock:
            if self.best > best:
                best, x_best = self.best, self.x_best
        k, sign = pair
        expr, constant = self.objective(k, sign)
        local = self.slot()
        local.model.maximize(expr + constant)
        if local.cut is not None:
            local.model.delete_linear_constraint(local.cut)
        local.cut = local.model.add_linear_constraint(lb=best - constant, expr=expr)
        solver_type = getattr(mathopt.SolverType, SOLVERS[self.solver])
        result = mathopt.solve(local.model, solver_type, params=self.params(seconds, quick))
        reason = result.termination.reason
        dual = result.termination.objective_bounds.dual_bound
        with self.lock:
            if reason == mathopt.TerminationReason.INFEASIBLE:  # nothing above the cut-off
                self.upper[pair] = min(self.upper[pair], best)
                self.unsolved.discard(pair)
                return best, x_best
            if reason == mathopt.TerminationReason.OPTIMAL:
                self.upper[pair] = min(self.upper[pair], dual)
                self.unsolved.discard(pair)
            elif reason in (
                mathopt.TerminationReason.FEASIBLE,
                mathopt.TerminationReason.NO_SOLUTION_FOUND,
            ):
                self.upper[pair] = min(self.upper[pair], max(dual, best))
            else:
                raise SolverError(
                    f"{self.solver} ended with {reason.name} on output {k}, sign {sign:+d}: "
                    f"{result.termination.detail}"
                )
        if result.has_primal_feasible_solution():
            x = np.clip([result.variable_values(v) for v in local.inputs], -self.bound, self.bound)
            if self.ball is not None:  # the quadratic row holds to the tolerance only
                x = _into_ball(x, self.ball)
            claimed, recomputed = result.objective_value(), self.check.signed(x, k, sign)
            if abs(recomputed - claimed) > self.tolerance:
                raise CertificationError(
                    f"the {self.solver} solution claims {claimed!r} on output {k}, sign "
                    f"{sign:+d}, but the networks give {recomputed!r} at its input: beyond the "
                    f"tolerance {self.tolerance!r}; this is a bug."
                )
            value = self.check.value(x)
            if value > best:
                best, x_best = value, x
        return best, x_best


def _primal_tolerance(networks, box, ball, bounds):
    """``δ_τ``: how far a solver's objective can be from the true error at its solution when every
    row holds only to ``τ (1 + |b| + |l| + |u|)`` (doubled for safety; ``l, u`` interval bounds of
    the unit), propagated layer by layer through ``|W_i|`` for both networks, plus ``τ`` relative
    to the objective's size. Inputs start ``τ max(1, box)`` off; with a ball of radius ``r``,
    ``τ max(1, r, max(1, r²) / r)``: a solution with ``||x||² <= r² + τ max(1, r²)`` (SCIP's
    relative feasibility) lies within ``τ max(1, r²) / (2r)`` of its projection onto the ball."""
    tau = SOLVER_TOLERANCE
    start = max(1.0, box) if ball is None else max(1.0, ball, max(1.0, ball**2) / ball)
    total = 0.0
    for network in networks:
        dev = np.full(network.widths[0], tau * start)
        lo, hi = np.full_like(dev, -box), np.full_like(dev, box)
        for w, b in _layers(network):
            z_lo = np.maximum(w, 0) @ lo + np.minimum(w, 0) @ hi + b
            z_hi = np.maximum(w, 0) @ hi + np.minimum(w, 0) @ lo + b
            dev = np.abs(w) @ dev + 2 * tau * (1 + np.abs(b) + np.abs(z_lo) + np.abs(z_hi))
            lo, hi = np.maximum(z_lo, 0), np.maximum(z_hi, 0)
        total += float(dev.max())
    scale = max(max(abs(lo), abs(hi)) for lo, hi in bounds)
    return total + tau * (1 + scale)


class _Program:
    """A MILP held as plain lists: variable bounds and kinds, and rows ``lo <= a.x <= hi``."""

    def __init__(self):
        self.lower, self.upper, self.binary, self.rows = [], [], [], []

    def add_var(self, lower, upper, binary=False):
        self.lower.append(float(lower))
        self.upper.append(float(upper))
        self.binary.append(binary)
        return len(self.lower) - 1

    def add_row(self, lower, upper, terms):
        """``lower <= sum(c * x_v for v, c in terms.items()) <= upper``."""
        self.rows.append((float(lower), float(upper), {v: c for v, c in terms.items() if c}))

    def to_mathopt(self, relax):
        from ortools.math_opt.python import mathopt

        model = mathopt.Model()
        variables = [
            model.add_variable(lb=lo, ub=hi, is_integer=b and not relax)
            for lo, hi, b in zip(self.lower, self.upper, self.binary)
        ]
        for lo, hi, terms in self.rows:
            expr = mathopt.LinearSum(c * variables[v] for v, c in terms.items())
            model.add_linear_constraint(lb=lo, ub=hi, expr=expr)
        return model, variables


def _combine(*parts):
    """``sum(scale * expr)`` over ``(scale, expr)`` parts; an expression is ``(terms, constant)``
    with ``terms`` a ``{variable: coefficient}`` dict. Zero coefficients are dropped."""
    terms, constant = {}, 0.0
    for scale, (t, c) in parts:
        constant += scale * c
        for v, coef in t.items():
            terms[v] = terms.get(v, 0.0) + scale * coef
    return {v: c for v, c in terms.items() if c != 0.0}, constant


def _scaled(c, interval):
    lo, hi = c * interval[0], c * interval[1]
    return (lo, hi) if lo <= hi else (hi, lo)


def _cross(z, diff):
    """``z' = z + d``: each of the three interval lists tightened by the other two
    (:func:`strong_lth.lockstep.cross_tighten`)."""
    arrays = [tuple(np.array(bounds, dtype=float).reshape(-1, 2).T) for bounds in (*z, diff)]
    first, second, diff = cross_tighten(*arrays)
    return [_pairs(first), _pairs(second)], _pairs(diff)


def _pairs(interval):
    return list(zip(interval[0].tolist(), interval[1].tolist()))


def _dual_error(program):
    """How far below the true optimum an LP bound can fall when every reduced cost may be off by
    :data:`SOLVER_TOLERANCE`: ``τ`` times the sum of the variables' ranges (Neumaier and
    Shcherbina, *Safe bounds in linear and mixed-integer linear programming*, Math. Prog. 2004)."""
    return SOLVER_TOLERANCE * float(np.sum(np.subtract(program.upper, program.lower)))


class _Encoder:
    """Encodes two networks, layer by layer, into one :class:`_Program`.

    A unit's value is ``(variable, 0.0)``, or ``(None, constant)`` when the domain fixes it (0
    for a unit that never fires). For aligned networks (equal widths) ``pairs`` maps each variable
    of a paired hidden unit to ``(partner, lo, hi)`` with ``lo <= partner - variable <= hi`` [RD].
    ``known`` maps a layer index to proven bounds of both networks' pre-activations and of their
    difference there (:func:`_lockstep`), or is None.
    """

    def __init__(self, first, second, box, tighten, deadline, known=None):
        self.program = _Program()
        self.tighten, self.deadline, self.known = tighten, deadline, known or {}
        self.nets = (_layers(first), _layers(second))
        self.aligned = first.widths == second.widths
        self.inputs = [self.program.add_var(-box, box) for _ in range(first.widths[0])]
        self.keys = {}  # pre-activation expression -> the value of its ReLU
        self.deltas = {}  # ReLU variable -> its binary

    def run(self):
        """Encode every layer; returns both networks' output expressions and bounds on
        ``first_k - second_k``."""
        if self.aligned:
            exprs, diff = self.run_aligned()
        else:
            exprs = [self.run_alone(layers) for layers in self.nets]
            z = [[self.interval(e) for e in net] for net in exprs]
            diff = [(lg - uf, ug - lf) for (lf, uf), (lg, ug) in zip(*z)]
            if self.tighten:
                diff = self.lp_bounds([_difference(f, g) for f, g in zip(*exprs)], diff)
        return exprs, [(-hi, -lo) for lo, hi in diff]

    def run_alone(self, layers):
        """One network's layers; returns its output expressions."""
        values = [(v, 0.0) for v in self.inputs]
        for i, (w, b) in enumerate(layers[:-1]):
            exprs = [_preactivation(w[j], b[j], values) for j in range(w.shape[0])]
            z = [self.interval(e) for e in exprs]
            if self.tighten and i > 0:
                z = self.lp_bounds(exprs, z, only_open=True)
            values = [self.relu(e, lo, hi) for e, (lo, hi) in zip(exprs, z)]
        w, b = layers[-1]
        return [_preactivation(w[j], b[j], values) for j in range(w.shape[0])]

    def run_aligned(self):
        """Both networks layer by layer, paired unit by unit; returns the output expressions and
        bounds on ``second_k - first_k``."""
        values = [[(v, 0.0) for v in self.inputs]] * 2
        pairs = {}
        depth = len(self.nets[0])
        for i in range(depth):
            last = i == depth - 1
            exprs = [
                [_preactivation(w[j], b[j], vals) for j in range(w.shape[0])]
                for (w, b), vals in zip((self.nets[0][i], self.nets[1][i]), values)
            ]
            z = [[self.interval(e) for e in net] for net in exprs]
            diffs = [_difference(f, g) for f, g in zip(*exprs)]
            diff = [self.interval(e, pairs) for e in diffs]
            if i in self.known:
                *z, diff = self.impose([*exprs, diffs], [*z, diff], self.known[i])
            z, diff = _cross(z, diff)
            if self.tighten and i > 0:
                if not last:
                    z = [
                        self.lp_bounds(net, bounds, only_open=True) for net, bounds in zip(exprs, z)
                    ]
                wanted = [
                    last or any(lo < 0 < hi for lo, hi in (z[0][j], z[1][j]))
                    for j in range(len(diff))
                ]
                diff = self.lp_bounds(diffs, diff, wanted=wanted)
                z, diff = _cross(z, diff)
            if last:
                return exprs, diff
            values = [
                [self.relu(e, lo, hi) for e, (lo, hi) in zip(net, bounds)]
                for net, bounds in zip(exprs, z)
            ]
            pairs = self.pair_cuts(exprs, z, diff, values)
        raise AssertionError("unreachable")  # pragma: no cover

    def bounds(self, v):
        return self.program.lower[v], self.program.upper[v]

    def impose(self, groups, current, proven):
        """Intersect the bounds of each group of expressions with ``proven`` ones; where a proven
        bound is the tighter, it also becomes a row ``lo <= expr <= hi``, which couples the two
        networks in the LP relaxation when the group is their difference."""
        out = []
        for exprs, mine, theirs in zip(groups, current, proven):
            tight = []
            for (terms, constant), (lo, hi), (p_lo, p_hi) in zip(exprs, mine, theirs):
                if max(lo, p_lo) > min(hi, p_hi):  # rounding at a fixed value: keep ours
                    p_lo, p_hi = lo, hi
                if terms and (p_lo > lo or p_hi < hi):
                    row_lo = p_lo - constant if p_lo > lo else -math.inf
                    row_hi = p_hi - constant if p_hi < hi else math.inf
                    self.program.add_row(row_lo, row_hi, terms)
                tight.append((max(lo, p_lo), min(hi, p_hi)))
            out.append(tight)
        return out

    def interval(self, expr, pairs=None):
        """Bounds of ``expr`` from the variables' bounds; a paired term ``c v + c' w`` (``w`` the
        partner of ``v``) is bounded both as ``c' (w - v) + (c + c') v`` and as
        ``-c (w - v) + (c + c') w``, through the bound on ``w - v`` [RD]; the tighter ends win."""
        terms, constant = expr
        lo = hi = constant
        done = set()
        for v, c in terms.items():
            if v in done:
                continue
            partner = pairs.get(v) if pairs else None
            if partner is not None and partner[0] in terms:
                w, d_lo, d_hi = partner
                done.add(w)
                c2 = terms[w]
                a = _scaled(c2, (d_lo, d_hi))
                a = _sum(a, _scaled(c + c2, self.bounds(v)))
                b = _scaled(-c, (d_lo, d_hi))
                b = _sum(b, _scaled(c + c2, self.bounds(w)))
                r = (max(a[0], b[0]), min(a[1], b[1]))
            else:
                r = _scaled(c, self.bounds(v))
            lo, hi = lo + r[0], hi + r[1]
        return lo, hi

    def lp_bounds(self, exprs, bounds, *, only_open=False, wanted=None):
        """Tighter bounds on ``exprs``, one LP per bound over the relaxation encoded so far
        (bound tightening [TXT]); only where ``wanted`` (default all), only for open signs with
        ``only_open``, and none once the deadline has passed. Each LP bound is widened by what
        its own tolerance may cost (:func:`_dual_error`)."""
        from ortools.math_opt.python import mathopt

        todo = [
            j
            for j, (lo, hi) in enumerate(bounds)
            if (wanted is None or wanted[j]) and (lo < 0 < hi or not only_open)
        ]
        if not todo or time.monotonic() >= self.deadline:
            return bounds
        model, variables = self.program.to_mathopt(relax=True)
        solver = mathopt.IncrementalSolver(model, mathopt.SolverType.GLOP)
        params = mathopt.SolveParameters(threads=1)
        params.glop.primal_feasibility_tolerance = SOLVER_TOLERANCE
        params.glop.dual_feasibility_tolerance = SOLVER_TOLERANCE
        slack = _dual_error(self.program)

        def optimum(expr, sense):
            objective = mathopt.LinearSum(c * variables[v] for v, c in expr[0].items())
            objective = objective + expr[1]
            model.maximize(objective) if sense > 0 else model.minimize(objective)
            result = solver.solve(params=params)
            if result.termination.reason != mathopt.TerminationReason.OPTIMAL:
                raise SolverError(
                    f"a bound-tightening LP ended with {result.termination.reason.name}: "
                    f"{result.termination.detail}"
                )
            return result.objective_value() + sense * slack

        bounds = list(bounds)
        for j in todo:
            if time.monotonic() >= self.deadline:
                break
            lo, hi = bounds[j]
            bounds[j] = (max(lo, optimum(exprs[j], -1)), min(hi, optimum(exprs[j], 1)))
        return bounds

    def relu(self, expr, lo, hi):
        """The value of ``σ(expr)`` given ``lo <= expr <= hi``."""
        terms, constant = expr
        if hi <= 0.0:
            return None, 0.0
        if not terms:
            return None, max(constant, 0.0)
        if lo >= 0.0 and constant == 0.0 and len(terms) == 1 and next(iter(terms.values())) == 1:
            return next(iter(terms)), 0.0  # σ(h) = h for h >= 0: the same variable
        key = (tuple(sorted(terms.items())), constant)
        if key in self.keys:
            return self.keys[key]
        negated = self.keys.get((tuple(sorted((v, -c) for v, c in terms.items())), -constant))
        program = self.program
        h = program.add_var(max(lo, 0.0), hi)
        minus_z = {v: -c for v, c in terms.items()}
        if lo >= 0.0:  # always active: h = z
            program.add_row(constant, constant, {h: 1.0, **minus_z})
        elif negated is not None and negated[0] is not None:
            # σ(z) = σ(-z) + z, the partner's value plus a linear term
            row, _ = _combine((1.0, ({h: 1.0, negated[0]: -1.0}, 0.0)), (1.0, (minus_z, 0.0)))
            program.add_row(constant, constant, row)
        else:
            delta = program.add_var(0.0, 1.0, binary=True)
            self.deltas[h] = delta
            program.add_row(constant, math.inf, {h: 1.0, **minus_z})  # h >= z
            row, _ = _combine((1.0, ({h: 1.0, delta: -lo}, 0.0)), (1.0, (minus_z, 0.0)))
            program.add_row(-math.inf, constant - lo, row)  # h <= z - lo (1 - δ)
            program.add_row(-math.inf, 0.0, {h: 1.0, delta: -hi})  # h <= hi δ
        self.keys[key] = (h, 0.0)
        return h, 0.0

    def pair_cuts(self, exprs, z, diff, values):
        """Rows on ``e = h' - h`` for paired units ``h = σ(z)``, ``h' = σ(z + d)``; returns the
        pair map for the next layer."""
        program, pairs = self.program, {}
        for j, ((f, _), (g, _)) in enumerate(zip(*values)):
            (lf, uf), (lg, ug), (dl, du) = z[0][j], z[1][j], diff[j]
            if f is None or g is None or f == g:
                continue
            if lf >= 0 and lg >= 0:  # both always active: e = d
                e_lo, e_hi = dl, du
            else:
                e_lo = max(min(dl, 0.0), max(lg, 0.0) - max(uf, 0.0))
                e_hi = min(max(du, 0.0), max(ug, 0.0) - max(lf, 0.0))
            pairs[f], pairs[g] = (g, e_lo, e_hi), (f, -e_hi, -e_lo)
            e = {g: 1.0, f: -1.0}
            program.add_row(e_lo, e_hi, e)
            if lf >= 0 and lg >= 0:
                continue
            d_terms, d_const = _difference(exprs[0][j], exprs[1][j])
            e_minus_d, _ = _combine((1.0, (e, 0.0)), (-1.0, (d_terms, 0.0)))
            # e lies between min(d, 0) and max(d, 0), so between their chords over [dl, du]
            if dl < 0 < du:
                k = du / (du - dl)  # e <= k (d - dl)
                row, _ = _combine((1.0, (e, 0.0)), (-k, (d_terms, 0.0)))
                program.add_row(-math.inf, k * (d_const - dl), row)
                k = dl / (du - dl)  # e >= k (du - d)
                row, _ = _combine((1.0, (e, 0.0)), (k, (d_terms, 0.0)))
                program.add_row(k * (du - d_const), math.inf, row)
            elif dl >= 0:  # e <= d
                program.add_row(-math.inf, d_const, e_minus_d)
            else:  # e >= d
                program.add_row(d_const, math.inf, e_minus_d)
            if f in self.deltas and g in self.deltas:
                self.link(e, e_minus_d, d_const, self.deltas[f], self.deltas[g], dl, du)
        return pairs

    def link(self, e, e_minus_d, d_const, delta, delta2, dl, du):
        """``e <= d - dl⁻ (1 - δ')``, ``e >= d - du⁺ (1 - δ)``, ``e <= du⁺ δ'``, ``e >= dl⁻ δ``
        (``δ = 1``: active), with ``dl⁻ = min(dl, 0)``, ``du⁺ = max(du, 0)``."""
        program = self.program
        dl, du = min(dl, 0.0), max(du, 0.0)
        program.add_row(-math.inf, d_const - dl, {**e_minus_d, delta2: -dl})
        program.add_row(d_const - du, math.inf, {**e_minus_d, delta: -du})
        program.add_row(-math.inf, 0.0, {**e, delta2: -du})
        program.add_row(0.0, math.inf, {**e, delta: -dl})


def _preactivation(row, bias, values):
    """``sum_k row[k] * value_k + bias``."""
    parts = [(w, ({} if v is None else {v: 1.0}, c)) for w, (v, c) in zip(row, values) if w]
    return _combine(*parts, (bias, ({}, 1.0)))


def _difference(first, second):
    """``second - first``."""
    return _combine((1.0, second), (-1.0, first))


def _sum(a, b):
    return a[0] + b[0], a[1] + b[1]
