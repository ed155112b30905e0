"""Prune one fixed random network so that it approximates a target: :func:`approximate`."""

from __future__ import annotations

import dataclasses
import math
import numbers
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

from . import bounds
from ._validation import check_choice, check_int, check_real, resolve_seed
from .certify import certified_error, certify
from .constructions import CONSTRUCTIONS
from .distributions import get_distribution
from .exceptions import InvalidParameterError, TheoryAssumptionWarning
from .gadgets import gadget_masks
from .networks import ReLUNetwork
from .random_network import RandomNetwork
from .report import LayerReport, Report
from .subset_sum import METHODS
from .ticket import Ticket

__all__ = ["approximate"]

BITS_PER_VALUE = 0.45
"""Initial guess of how many bits of precision one more value per input buys (about half a bit:
a value joins one of the two sign pools, and each pool value halves the SubsetSum error of
products of uniforms, slope about 0.9 in the solver benchmark). Only steers the search; the
search replaces it by the slope it measures."""

SAFETY = 1e-9
"""Automatic mode aims at ``eps (1 - SAFETY)`` so that the certificate, recomputed from the masks
with sums in another order, cannot exceed ``eps`` by rounding."""

TOL_FACTOR = 4.0
"""In automatic mode an instance may stop within
``tol_i = goal_i / (4 (sqrt(d_i) + sqrt(2 d_{i-1})))`` of its weight: a ``d_i x 2 d_{i-1}``
matrix of independent errors of that size has spectral norm about
``tol_i (sqrt(d_i) + sqrt(2 d_{i-1}))``, a quarter of the layer's goal. Only a construction
setting: the certificate is computed from the masks whatever it is."""

PROGRESS_DELAY = 1.0
"""Seconds before ``approximate(progress=True)`` shows its bar, so that short calls print
nothing."""

EXACT_BUDGET_INSTANCES = 20_000
"""Layers with at most this many instances get the per-weight budget n by search; larger ones
by extrapolation (the search would solve instances far larger than the ticket needs)."""


@dataclass
class _Layer:
    """Solves one target layer at any n of the nested random networks, caching every answer."""

    index: int
    weights: np.ndarray
    network: RandomNetwork
    construction: str
    solver: str
    bar: Any  # a tqdm progress bar (disabled when not asked for or not on a terminal)
    tol: float | None = None
    seconds: float = 0.0
    cache: dict = field(default_factory=dict)

    def __call__(self, n: int):
        """``(τ, max|Δ|, packed keep)`` of this layer's ticket at ``n`` values per input."""
        if n not in self.cache:
            begin = time.perf_counter()
            values = tuple(n if k == self.index - 1 else 1 for k in range(self.network.depth // 2))
            choose = CONSTRUCTIONS[self.construction]
            keep, (a, b), _ = choose(
                self.weights,
                self.network.with_values_per_input(values),
                self.index,
                solver=self.solver,
                tol=self.tol,
                start=self._start(n),
            )
            delta = np.hstack([a - self.weights, self.weights - b])
            tau, worst = float(np.linalg.norm(delta, 2)), float(np.abs(delta).max())
            self.cache[n] = (tau, worst, np.packbits(keep, axis=2))
            self.seconds += time.perf_counter() - begin
            self.bar.set_postfix_str(f"layer {self.index}: n = {n}, τ = {tau:.2e}", refresh=False)
            self.bar.update()
        return self.cache[n]

    def keep(self, n: int) -> np.ndarray:
        """The construction's ``keep`` array at ``n`` (solved if not cached)."""
        return np.unpackbits(self(n)[2], axis=2, count=n).astype(bool)

    def _start(self, n: int):
        """Warm start for ``n``: the keep of the nearest smaller evaluated n (all its copies
        exist here), else of the nearest larger one; only with a tolerance."""
        if self.tol is None or not self.cache:
            return None
        smaller = [m for m in self.cache if m < n]
        return self.keep(max(smaller) if smaller else min(self.cache))

    def smallest(self, measure: int, goal: float, start: int, cap: int) -> int:
        """Smallest n (bisection over nested networks) whose figure ``measure`` (0 = τ,
        1 = max|Δ|) is at most ``goal``; the next n to try is predicted from the measured
        log-linear decay of that figure, growing by at most half per step, since one step too
        far solves pools far larger (exponentially slower) than needed."""
        failing, passing = 0, None
        n = start
        while passing is None:
            if n > cap:
                raise InvalidParameterError(
                    f"`max_values_per_input` must allow the estimated n = {n} for layer "
                    f"{self.index} (to reach {goal:.3e}); got {cap}."
                )
            if self(n)[measure] <= goal:
                passing = n
            else:
                failing = n
                n = min(max(n + 1, self._predict(measure, goal)), n + max(4, n // 2))
        while passing - failing > 1:
            guess = min(max(self._predict(measure, goal), failing + 1), passing - 1)
            middle = (failing + passing) // 2
            n = guess if abs(guess - middle) <= (passing - failing) // 4 else middle
            if self(n)[measure] <= goal:
                passing = n
            else:
                failing = n
        return passing

    def _predict(self, measure: int, goal: float) -> int:
        ns = np.array(sorted(self.cache))
        logs = np.log2([max(self.cache[n][measure], 1e-300) for n in ns])
        slope = BITS_PER_VALUE
        if len(ns) >= 2 and ns[-1] > ns[0]:
            fitted = -np.polyfit(ns, logs, 1)[0]
            slope = fitted if fitted > 0.05 else BITS_PER_VALUE
        nearest = int(ns[np.argmin(np.abs(logs - math.log2(goal)))])
        gap = math.log2(max(self.cache[nearest][measure], 1e-300)) - math.log2(goal)
        return nearest + max(1, math.ceil(gap / slope)) if gap > 0 else nearest

    def extrapolate(self, measure: int, goal: float, n: int) -> int:
        """n at which the fitted decay of ``measure`` reaches ``goal`` (at least ``n``)."""
        return max(n, self._predict(measure, goal))


def _budget_split(norms, input_radius, eps):
    """Per-layer τ goals whose certified recursion gives exactly ``eps``.

    To first order ``e_l ≈ sum_i τ_i R_{i-1} prod_{k>i} ||W_k||``; each layer gets the same share
    of that sum, ``τ_i = θ / (R_{i-1} prod_{k>i} ||W_k||)``, and θ is found by bisection on the
    exact recursion of THEORY section 5.
    """
    norms = np.maximum(norms, 1e-300)
    reach = input_radius * np.concatenate([[1.0], np.cumprod(norms)[:-1]])
    after = np.concatenate([np.cumprod(norms[::-1])[::-1][1:], [1.0]])
    weights = 1.0 / (reach * after)

    def recursion(theta):
        return certified_error(theta * weights, norms, input_radius)

    low, high = 0.0, eps / weights.max() / len(norms) * 4 + eps
    while recursion(high) < eps:
        high *= 2
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (middle, high) if recursion(middle) <= eps else (low, middle)
    return low * weights


def approximate(
    target: ReLUNetwork,
    *,
    eps: float | None = None,
    values_per_input=None,
    construction: str = "pensia",
    solver: str = "mitm",
    radius: float = 1.0,
    rng=None,
    distribution="uniform",
    max_values_per_input: int = 512,
    progress: bool = False,
) -> Ticket:
    """Find masks of one random 2l-deep network whose pruned network approximates ``target``.

    Parameters
    ----------
    target : ReLUNetwork
        The network ``F`` to approximate (depth l, biases allowed: THEORY section 1).
    eps : float, optional
        Automatic mode: the smallest n per layer whose ticket's *certified* error
        ``sup_{||x|| <= radius} ||F(x) - G(x)||_2`` is at most ``eps``.
    values_per_input : int or sequence of int, optional
        Fixed mode: n per layer pair (hidden width ``d_{i-1} n``). Exactly one of ``eps`` and
        ``values_per_input`` must be given.
    construction : {"pensia", "malach"}
        Subsets of products (THEORY section 3) or one product per weight (section 4).
    solver : str
        SubsetSum method for ``"pensia"`` (:data:`strong_lth.subset_sum.METHODS`).
    radius : float
        Input domain radius.
    rng : None, int or numpy.random.Generator
        Seed of the random network; the ticket records it, so the same seed gives the same
        ticket, bit for bit.
    distribution : str or Distribution
        Weights of the random network (default Uniform[-1, 1]).
    max_values_per_input : int
        Cap on n in automatic mode; reaching it raises with the estimate.
    progress : bool
        Show a progress bar on stderr (tqdm): one step per layer solved at one n, with the
        latest n and τ. Silent when stderr is not a terminal, and for calls shorter than
        :data:`PROGRESS_DELAY` seconds.

    Returns
    -------
    Ticket
        With ``report`` (:class:`~strong_lth.report.Report`): per layer n, width, per-weight
        errors, ``η_i``, ``τ_i``, the n the per-weight budget would need; certified and measured
        error; parameter multiples; timings.

    Raises
    ------
    InvalidParameterError
        Bad input, or ``max_values_per_input`` too small for ``eps``.

    Notes
    -----
    Random networks of one seed are nested (the network with n values per input is a sub-network
    of the one with n + 1), so the automatic search moves along one random draw instead of
    re-drawing: it splits ``eps`` into per-layer goals for ``τ_i`` and bisects n per layer,
    then lowers any n whose layer has slack. [P] Theorem 1 predicts
    ``n_i = O(log(d_{i-1} d_i l / min(ε, δ)))``; the per-weight budget ``η_i`` of THEORY
    section 5 would ask for more, and the report shows how much.

    Examples
    --------
    >>> from strong_lth import ReLUNetwork, approximate
    >>> target = ReLUNetwork.random((4, 8, 2), rng=0)
    >>> ticket = approximate(target, eps=0.05, rng=1)
    >>> ticket.report.certified <= 0.05
    True
    """
    if not isinstance(target, ReLUNetwork):
        raise InvalidParameterError(f"`target` must be a ReLUNetwork; got {type(target).__name__}.")
    if (eps is None) == (values_per_input is None):
        raise InvalidParameterError(
            "exactly one of `eps` (automatic mode) and `values_per_input` (fixed mode) must be "
            f"given; got eps={eps!r}, values_per_input={values_per_input!r}."
        )
    if eps is not None:
        eps = check_real("eps", eps, low=0.0, low_open=True)
    construction = check_choice("construction", construction, CONSTRUCTIONS)
    solver = check_choice("solver", solver, METHODS)
    radius = check_real("radius", radius, low=0.0, low_open=True)
    cap = check_int("max_values_per_input", max_values_per_input, low=1)
    if not isinstance(progress, bool):
        raise InvalidParameterError(f"`progress` must be True or False; got {progress!r}.")
    distribution = get_distribution(distribution)
    seed = resolve_seed(rng)
    assumptions = tuple(target.assumption_violations(radius))
    if assumptions:
        warnings.warn(
            "theorem assumptions do not hold: " + "; ".join(assumptions),
            TheoryAssumptionWarning,
            stacklevel=2,
        )
    augmented = target.augmented()
    depth = augmented.depth
    network = RandomNetwork(seed, augmented.widths, 1, distribution)
    norms = np.array([np.linalg.norm(w, 2) for w in augmented.weights])
    input_radius = math.hypot(radius, 1.0) if target.has_bias else radius
    widths = np.array(augmented.widths)
    with _progress_bar(progress) as bar:
        start = time.perf_counter()
        if eps is None:
            layers = _layers(augmented, network, construction, solver, bar, [None] * depth)
            chosen = _fixed_values(values_per_input, depth, cap)
            etas = [None] * depth
        else:
            goals = _budget_split(norms, input_radius, eps * (1 - SAFETY))
            tols = goals / (TOL_FACTOR * (np.sqrt(widths[1:]) + np.sqrt(2 * widths[:-1])))
            layers = _layers(augmented, network, construction, solver, bar, tols)
            chosen = _search(layers, goals, norms, input_radius, eps * (1 - SAFETY), cap)
            etas = np.atleast_1d(bounds.per_weight_precision(eps, widths[:-1], widths[1:], depth))
        masks = []
        for layer, n in zip(layers, chosen):
            masks += gadget_masks(layer.keep(n))
        search_seconds = time.perf_counter() - start
        budget = [None] * depth
        if eps is not None:
            budget = [_budget(layer, n, eta, cap) for layer, n, eta in zip(layers, chosen, etas)]
        ticket = Ticket(
            seed=seed,
            distribution=distribution,
            widths=augmented.widths,
            values_per_input=tuple(chosen),
            construction=construction,
            masks=tuple(masks),
            input_bias=target.has_bias,
        )
        bar.set_description_str("approximate: certifying", refresh=False)
        start = time.perf_counter()
        certificate = certify(target, ticket, radius=radius, rng=seed)
        certify_seconds = time.perf_counter() - start
    rows = tuple(
        LayerReport(
            d_in=int(layer.weights.shape[1]),
            d_out=int(layer.weights.shape[0]),
            values_per_input=int(n),
            hidden_width=int(layer.weights.shape[1] * n),
            instances=int(2 * layer.weights.size),
            max_weight_error=float(certificate.max_weight_error[k]),
            median_weight_error=float(certificate.median_weight_error[k]),
            tau=float(certificate.tau[k]),
            eta=None if etas[k] is None else float(etas[k]),
            budget_values_per_input=None if budget[k] is None else budget[k][0],
            budget_exact=budget[k] is not None and budget[k][1],
            evaluated=tuple((int(m), value[0]) for m, value in sorted(layer.cache.items())),
        )
        for k, (layer, n) in enumerate(zip(layers, chosen))
    )
    report = Report(
        construction=construction,
        solver=solver if construction == "pensia" else "argmin",
        seed=seed,
        eps=eps,
        radius=radius,
        layers=rows,
        random_params=ticket.random_network().n_params,
        kept_params=ticket.n_kept,
        target_params=target.n_params,
        certified=certificate.certified,
        measured=certificate.measured,
        seconds={
            "solve": sum(layer.seconds for layer in layers),
            "search + masks": search_seconds,
            "certify": certify_seconds,
        },
        assumptions=assumptions,
    )
    return Ticket(**{**ticket.__dict__, "report": report})


def _fixed_values(values_per_input, depth, cap):
    if isinstance(values_per_input, numbers.Integral) and not isinstance(values_per_input, bool):
        values_per_input = [values_per_input] * depth
    if (
        not isinstance(values_per_input, (list, tuple, np.ndarray))
        or len(values_per_input) != depth
    ):
        raise InvalidParameterError(
            f"`values_per_input` must be an integer or one integer per layer ({depth}); "
            f"got {values_per_input!r}."
        )
    return [check_int("values_per_input", n, low=1, high=cap) for n in values_per_input]


def _progress_bar(progress: bool) -> tqdm:
    """The bar of ``approximate(progress=...)``: off unless asked for; tqdm also keeps it off
    when stderr is not a terminal (``disable=None``) and until ``PROGRESS_DELAY`` seconds."""
    return tqdm(
        desc="approximate",
        unit=" solves",
        disable=None if progress else True,
        delay=PROGRESS_DELAY,
        mininterval=0.0,  # one step per layer solve: few enough to draw every one
        leave=False,
    )


def _layers(augmented, network, construction, solver, bar, tols):
    return [
        _Layer(i, w, network, construction, solver, bar, tol)
        for i, (w, tol) in enumerate(zip(augmented.weights, tols), start=1)
    ]


def _search(layers, goals, norms, input_radius, eps, cap):
    """Automatic mode: bisection per layer to its τ goal, then remove leftover slack."""
    chosen = [layer.smallest(0, goal, min(8, cap), cap) for layer, goal in zip(layers, goals)]
    order = np.argsort([-layer.weights.size for layer in layers])  # widest layer first
    for k in order:
        while chosen[k] > 1:
            trial = [*chosen[:k], chosen[k] - 1, *chosen[k + 1 :]]
            taus = [layer(n)[0] for layer, n in zip(layers, trial)]
            if certified_error(taus, norms, input_radius) > eps:
                break
            chosen = trial
    return chosen


def _budget(layer, n, eta, cap):
    """``(n, exact)``: the n at which every per-weight error of the layer is at most ``η``:
    by search (with an instance tolerance below ``η``) on small layers, else extrapolated."""
    if 2 * layer.weights.size <= EXACT_BUDGET_INSTANCES:
        exact = dataclasses.replace(layer, tol=eta / TOL_FACTOR, seconds=0.0, cache={})
        found = exact.smallest(1, eta, n, cap)
        layer.seconds += exact.seconds
        return found, True
    return layer.extrapolate(1, eta, n), False
