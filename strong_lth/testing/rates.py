"""Failure rates with exact confidence intervals, and property tests of width bounds.

The theorems are probabilistic: for every target in the class, a random network of the stated
width contains an ε-ticket with probability at least ``1 - δ`` ([P] Theorem 1,
docs/theory.md, section 6). :func:`failure_rate` estimates the probability of the complement over
independent random networks, with a Clopper-Pearson interval; :func:`check_bound` turns a width
bound into a property test that either holds at the confidence level, is refuted, or is
inconclusive, and lets hypothesis search for (and shrink) a target that refutes it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from random import Random
from types import FunctionType

import numpy as np
from hypothesis import Phase, find, settings
from hypothesis.errors import NoSuchExample
from hypothesis.strategies import SearchStrategy
from scipy.stats import beta

from .. import bounds
from .._approximate import approximate
from .._validation import _fmt, as_generator, check_array, check_choice, check_int, check_real
from ..constructions import CONSTRUCTIONS
from ..distributions import Distribution, get_distribution
from ..exceptions import InvalidParameterError, TheoryAssumptionWarning
from ..networks import ReLUNetwork
from ..subset_sum import METHODS
from .strategies import examples

__all__ = [
    "BoundCheck",
    "BoundStatus",
    "FailureRate",
    "PensiaBound",
    "check_bound",
    "clopper_pearson",
    "failure_rate",
]

CRITERIA = ("certified", "measured")
"""What counts as a failed trial: the ticket's certified error above ε (it could not be proven
within ε: conservative, the default), or its measured error above ε (an input where the error
provably exceeds ε was found)."""


def clopper_pearson(failures, trials, *, confidence: float = 0.95):
    r"""Exact (Clopper-Pearson) two-sided confidence interval of a binomial proportion.

    Parameters
    ----------
    failures, trials : int or array_like of int
        ``0 <= failures <= trials``, ``trials >= 1``; broadcast together.
    confidence : float, default 0.95
        Coverage ``1 - α``, in (0, 1).

    Returns
    -------
    low, high : float or ndarray
        ``low = B^{-1}(α/2; k, n - k + 1)`` (0 when ``k = 0``) and
        ``high = B^{-1}(1 - α/2; k + 1, n - k)`` (1 when ``k = n``), ``B^{-1}`` the beta quantile.

    Raises
    ------
    InvalidParameterError
        If the counts are not integers in range, do not broadcast, or ``confidence`` is not in
        (0, 1).

    Notes
    -----
    Clopper and Pearson (1934): inverting the two one-sided binomial tests gives coverage at
    least ``confidence`` for every true proportion, so each end is a one-sided bound at level
    ``(1 + confidence) / 2``. The same interval as ``scipy.stats.binomtest(k, n)
    .proportion_ci(confidence, method="exact")``, vectorised.

    Examples
    --------
    >>> low, high = clopper_pearson(0, 36)
    >>> low, round(high, 4)
    (0.0, 0.0974)
    """
    k = check_array("failures", failures, dtype=np.int64)
    n = check_array("trials", trials, dtype=np.int64)
    confidence = check_real(
        "confidence", confidence, low=0.0, high=1.0, low_open=True, high_open=True
    )
    try:
        k, n = np.broadcast_arrays(k, n)
    except ValueError as exc:
        raise InvalidParameterError(
            f"`failures` and `trials` must broadcast; got shapes {k.shape} and {n.shape}."
        ) from exc
    if np.any(n < 1):
        raise InvalidParameterError(f"`trials` must be >= 1; got {int(n.min())}.")
    if np.any((k < 0) | (k > n)):
        raise InvalidParameterError("`failures` must be in [0, trials]; got a count outside it.")
    alpha = 1.0 - confidence
    low = np.where(k > 0, beta.ppf(alpha / 2, np.maximum(k, 1), n - k + 1), 0.0)
    high = np.where(k < n, beta.ppf(1 - alpha / 2, k + 1, np.maximum(n - k, 1)), 1.0)
    if low.ndim == 0:
        return float(low), float(high)
    return low, high


def _read_only(array: np.ndarray) -> np.ndarray:
    array = np.array(array)
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class FailureRate:
    """Trials of (target, random network) pairs and the failure rate they estimate.

    Attributes
    ----------
    targets : tuple of ReLUNetwork
        The targets tried (drawn from a strategy, or given).
    values_per_input : tuple of tuple of int
        The ``n_i`` each target's random networks had.
    seeds : ndarray of int, shape (targets, trials per target)
        Seed of each trial's random network: ``approximate(target, values_per_input=n,
        rng=seed)`` replays it.
    errors : ndarray, shape (targets, trials per target)
        Each trial's error (certified or measured, per ``criterion``).
    eps : float
        A trial fails when its error exceeds ``eps``.
    criterion : {"certified", "measured"}
        See :data:`CRITERIA`.
    confidence : float
        Level of the intervals.
    """

    targets: tuple[ReLUNetwork, ...]
    values_per_input: tuple[tuple[int, ...], ...]
    seeds: np.ndarray
    errors: np.ndarray
    eps: float
    criterion: str
    confidence: float

    def __post_init__(self):
        object.__setattr__(self, "seeds", _read_only(self.seeds))
        object.__setattr__(self, "errors", _read_only(self.errors))

    @property
    def failed(self) -> np.ndarray:
        """Boolean, shape of ``errors``: the trial's error exceeds ``eps``."""
        return self.errors > self.eps

    @property
    def failures(self) -> int:
        """Number of failed trials."""
        return int(self.failed.sum())

    @property
    def trials(self) -> int:
        """Number of trials."""
        return int(self.errors.size)

    @property
    def rate(self) -> float:
        """Observed failure rate, ``failures / trials``."""
        return self.failures / self.trials

    @property
    def low(self) -> float:
        """Lower end of the Clopper-Pearson interval of the pooled rate."""
        return clopper_pearson(self.failures, self.trials, confidence=self.confidence)[0]

    @property
    def high(self) -> float:
        """Upper end of the Clopper-Pearson interval of the pooled rate."""
        return clopper_pearson(self.failures, self.trials, confidence=self.confidence)[1]

    @property
    def target_failures(self) -> np.ndarray:
        """Failed trials of each target, shape (targets,)."""
        return self.failed.sum(axis=1)

    def target_interval(self) -> tuple[np.ndarray, np.ndarray]:
        """Clopper-Pearson ``(low, high)`` of each target's own failure rate."""
        low, high = clopper_pearson(
            self.target_failures, self.errors.shape[1], confidence=self.confidence
        )
        return np.atleast_1d(low), np.atleast_1d(high)

    def __str__(self) -> str:
        return (
            f"{self.failures} failures in {self.trials} trials ({len(self.targets)} targets x "
            f"{self.errors.shape[1]} random networks, {self.criterion} error > {self.eps:g}): "
            f"rate {self.rate:.3g}, {self.confidence:.0%} CI [{self.low:.3g}, {self.high:.3g}]"
        )


@dataclass(frozen=True)
class _Trials:
    """Runs one trial: the ticket of ``approximate`` at a fixed n, its error by ``criterion``."""

    eps: float
    criterion: str
    construction: str
    solver: str
    distribution: Distribution
    radius: float

    def error(self, target: ReLUNetwork, n: tuple[int, ...], seed: int) -> float:
        with warnings.catch_warnings():  # violating targets are allowed here on purpose
            warnings.simplefilter("ignore", TheoryAssumptionWarning)
            report = approximate(
                target,
                values_per_input=list(n),
                construction=self.construction,
                solver=self.solver,
                distribution=self.distribution,
                radius=self.radius,
                rng=int(seed),
                max_values_per_input=max(n),
            ).report
        return report.certified if self.criterion == "certified" else report.measured

    def run(self, targets, ns, seeds, confidence) -> FailureRate:
        errors = np.array(
            [[self.error(t, n, s) for s in row] for t, n, row in zip(targets, ns, seeds)]
        ).reshape(seeds.shape)
        return FailureRate(
            targets=tuple(targets),
            values_per_input=tuple(ns),
            seeds=seeds,
            errors=errors,
            eps=self.eps,
            criterion=self.criterion,
            confidence=confidence,
        )


def _trials(eps, criterion, construction, solver, distribution, radius) -> _Trials:
    return _Trials(
        eps=check_real("eps", eps, low=0.0, low_open=True),
        criterion=check_choice("criterion", criterion, CRITERIA),
        construction=check_choice("construction", construction, CONSTRUCTIONS),
        solver=check_choice("solver", solver, METHODS),
        distribution=get_distribution(distribution),
        radius=check_real("radius", radius, low=0.0, low_open=True),
    )


def _targets(targets, n_targets, gen) -> list[ReLUNetwork]:
    if isinstance(targets, SearchStrategy):
        count = 10 if n_targets is None else check_int("n_targets", n_targets, low=1)
        drawn = examples(targets, count, rng=gen)
        if not drawn or not all(isinstance(t, ReLUNetwork) for t in drawn):
            raise InvalidParameterError(
                "`targets` must be a strategy of ReLUNetwork that draws at least one example; "
                f"got {[type(t).__name__ for t in drawn[:3]]}."
            )
        return drawn
    if n_targets is not None:
        raise InvalidParameterError(
            f"`n_targets` must be None when `targets` is not a strategy; got {_fmt(n_targets)}."
        )
    listed = [targets] if isinstance(targets, ReLUNetwork) else targets
    if isinstance(listed, str) or not isinstance(listed, Sequence) or not listed:
        raise InvalidParameterError(
            "`targets` must be a ReLUNetwork, a non-empty sequence of them or a hypothesis "
            f"strategy; got {_fmt(targets)}."
        )
    for i, target in enumerate(listed):
        if not isinstance(target, ReLUNetwork):
            raise InvalidParameterError(
                f"`targets[{i}]` must be a ReLUNetwork; got {type(target).__name__}."
            )
    return list(listed)


def _values(name: str, value, target: ReLUNetwork) -> tuple[int, ...]:
    """``n_i`` per layer from an int, a sequence or a callable of the target."""
    depth = target.depth
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return (check_int(name, value, low=1),) * depth
    if (
        isinstance(value, str)
        or not isinstance(value, Sequence | np.ndarray)
        or len(value) != depth
    ):
        raise InvalidParameterError(
            f"`{name}` must be a positive integer or one per layer ({depth} for widths "
            f"{target.widths}); got {_fmt(value)}."
        )
    return tuple(check_int(f"{name}[{i}]", n, low=1) for i, n in enumerate(value))


def _seed_grid(gen, rows: int, seeds) -> np.ndarray:
    per_target = check_int("seeds", seeds, low=1)
    return gen.integers(0, 2**63 - 1, size=(rows, per_target))


def failure_rate(
    targets,
    *,
    values_per_input,
    eps: float,
    seeds: int = 20,
    n_targets: int | None = None,
    criterion: str = "certified",
    confidence: float = 0.95,
    construction: str = "pensia",
    solver: str = "mitm",
    distribution="uniform",
    radius: float = 1.0,
    rng=None,
) -> FailureRate:
    """Fraction of random networks of a given width with no ε-ticket found, with its interval.

    Parameters
    ----------
    targets : ReLUNetwork, sequence of ReLUNetwork or SearchStrategy
        The targets; from a strategy (e.g. :func:`relu_networks`), ``n_targets`` are drawn.
    values_per_input : int, sequence of int or callable
        ``n_i`` per layer pair (hidden width ``d_{i-1} n_i``), or ``f(target)`` returning it.
    eps : float
        A trial fails when the ticket's error exceeds ``eps`` (> 0).
    seeds : int, default 20
        Independent random networks per target.
    n_targets : int, optional
        How many targets to draw from a strategy (default 10); only for strategies.
    criterion : {"certified", "measured"}, default "certified"
        See :data:`CRITERIA`.
    confidence : float, default 0.95
        Level of the Clopper-Pearson interval.
    construction, solver, distribution, radius
        As in :func:`~strong_lth.approximate`.
    rng : None, int or numpy.random.Generator
        Draws the targets and the random networks' seeds (recorded in the result).

    Returns
    -------
    FailureRate

    Raises
    ------
    InvalidParameterError
        If an argument has the wrong type or range.

    Notes
    -----
    Each trial runs :func:`~strong_lth.approximate` in fixed mode (the [P] or [M] construction
    with an exact SubsetSum solver) on a random network of its own seed: trials are independent
    given the targets, so the pooled count is a sum of independent Bernoulli variables. For one
    target it is binomial and the interval is exact; over several targets of different rates it
    is Poisson-binomial, for which the binomial tests remain valid away from the mean
    (Hoeffding 1956, Ann. Math. Statist. 27), and the interval estimates the rate averaged over
    the targets. A failure is a failure of this construction to reach ε: the theorem's event
    "some ticket is within ε" fails at most as often. Drawing from a strategy runs hypothesis,
    which refuses to nest: call this from a plain test, not from inside a ``@given`` one.

    Examples
    --------
    Two values per input cannot reach 0.05:

    >>> from strong_lth import ReLUNetwork
    >>> target = ReLUNetwork.random((2, 2), rng=0)
    >>> result = failure_rate(target, values_per_input=2, eps=0.05, seeds=5, rng=0)
    >>> result.failures, result.trials, round(result.low, 3), result.high
    (5, 5, 0.478, 1.0)
    """
    trials = _trials(eps, criterion, construction, solver, distribution, radius)
    confidence = check_real(
        "confidence", confidence, low=0.0, high=1.0, low_open=True, high_open=True
    )
    gen = as_generator(rng)
    drawn = _targets(targets, n_targets, gen)
    if callable(values_per_input):
        ns = [_values("values_per_input(target)", values_per_input(t), t) for t in drawn]
    else:
        ns = [_values("values_per_input", values_per_input, t) for t in drawn]
    return trials.run(drawn, ns, _seed_grid(gen, len(drawn), seeds), confidence)


class BoundStatus(IntEnum):
    """Verdict of :func:`check_bound` on ``P(failure) <= δ``."""

    HOLDS = 0
    """The upper end of the failure rate's interval is at most δ."""
    INCONCLUSIVE = 1
    """δ lies inside the interval: more trials are needed."""
    VIOLATED = 2
    """The lower end of the interval exceeds δ: the bound is refuted at the confidence level."""


@dataclass(frozen=True)
class PensiaBound:
    r"""[P] Theorem 1 as a bound for :func:`check_bound`, with an explicit constant ``C``.

    Calling it on ``(target, eps, delta)`` returns
    :math:`n_i = \lceil C \ln(d_{i-1} d_i l / \min(\varepsilon, \delta)) \rceil` per layer pair
    (at least 1) over the target's bias-augmented widths:
    :func:`strong_lth.bounds.pensia_values_per_input` rounded up.

    Parameters
    ----------
    C : float, default 1.0
        The theorem's unspecified universal constant (> 0); estimate it with
        :func:`strong_lth.bounds.pensia_constant`.

    Examples
    --------
    >>> from strong_lth import ReLUNetwork
    >>> PensiaBound(C=2.0)(ReLUNetwork.random((2, 5), rng=0), 0.1, 0.01)  # 2 ln 1000 = 13.8
    (14,)
    """

    C: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "C", check_real("C", self.C, low=0.0, low_open=True))

    def __call__(self, target: ReLUNetwork, eps: float, delta: float) -> tuple[int, ...]:
        d = np.array(target.augmented().widths)
        n = bounds.pensia_values_per_input(d[:-1], d[1:], len(d) - 1, eps, delta, C=self.C)
        return tuple(max(1, math.ceil(v)) for v in np.atleast_1d(n))


@dataclass(frozen=True)
class BoundCheck:
    """What :func:`check_bound` found.

    Attributes
    ----------
    bound : callable
        The bound tested, ``bound(target, eps, delta) -> n`` per layer.
    eps, delta : float
        The claim: every target fails with probability at most ``delta`` to be approximated
        within ``eps`` at the bound's width.
    status : BoundStatus
        HOLDS, INCONCLUSIVE or VIOLATED, from the pooled interval of ``estimate``.
    estimate : FailureRate
        The trials on the drawn (or given) targets.
    counterexamples : tuple of ReLUNetwork
        Targets of ``estimate`` whose own observed failure rate exceeds ``delta``, most failures
        first.
    shrunk : FailureRate or None
        A target found and shrunk by hypothesis whose own failure rate is above ``delta`` at
        the confidence level, with its trials; None when no search ran or it found none.
    search : str
        What the counterexample search did.
    """

    bound: Callable
    eps: float
    delta: float
    status: BoundStatus
    estimate: FailureRate
    counterexamples: tuple[ReLUNetwork, ...]
    shrunk: FailureRate | None
    search: str

    @property
    def passed(self) -> bool:
        """``status is HOLDS``: the interval's upper end is at most ``delta``."""
        return self.status is BoundStatus.HOLDS

    @property
    def counterexample(self) -> ReLUNetwork | None:
        """The shrunk counterexample, else the worst drawn one, else None."""
        if self.shrunk is not None:
            return self.shrunk.targets[0]
        return self.counterexamples[0] if self.counterexamples else None

    def __str__(self) -> str:
        lines = [
            f"{_describe(self.bound)} at eps = {self.eps:g}, delta = {self.delta:g}: "
            f"{self.status.name}",
            f"  {self.estimate}",
            f"  {len(self.counterexamples)} drawn targets fail more often than delta",
            f"  search: {self.search}",
        ]
        if self.shrunk is not None:
            found = self.shrunk
            lines.append(
                f"  counterexample: {found.targets[0]!r} with n = {found.values_per_input[0]} "
                f"fails {found.failures} of {found.trials}, {found.confidence:.0%} CI "
                f"[{found.low:.3g}, {found.high:.3g}]"
            )
        return "\n".join(lines)


def _describe(bound) -> str:
    """A function by its name, any other callable (e.g. a PensiaBound) by its repr."""
    return bound.__qualname__ if isinstance(bound, FunctionType) else repr(bound)


def _fingerprint(target: ReLUNetwork):
    return (
        target.widths,
        target.has_bias,
        tuple(a.tobytes() for a in target.weights + (target.biases or ())),
    )


def _required_failures(trials: int, delta: float, confidence: float) -> int | None:
    """Fewest failures in ``trials`` whose interval lies above ``delta`` (None if none does)."""
    low, _ = clopper_pearson(np.arange(trials + 1), trials, confidence=confidence)
    above = np.flatnonzero(low > delta)
    return int(above[0]) if above.size else None


def _search(bound, strategy, trials, delta, seeds, confidence, examples, budget, gen):
    """hypothesis ``find`` of a target whose own failure rate is significantly above δ."""
    needed = _required_failures(len(seeds), delta, confidence)
    if needed is None:
        return None, f"not run: {len(seeds)} seeds can never show a rate above {delta:g}"
    cache: dict = {}

    def violates(target):
        key = _fingerprint(target)
        if key not in cache:
            if len(cache) >= budget:
                return False  # out of budget: stop shrinking, keep the smallest found so far
            n = _values("bound(target, eps, delta)", bound(target, trials.eps, delta), target)
            failures, verdict = 0, False
            for tried, s in enumerate(seeds, start=1):
                failures += trials.error(target, n, s) > trials.eps
                if failures >= needed or failures + len(seeds) - tried < needed:
                    verdict = failures >= needed
                    break
            cache[key] = verdict
        return cache[key]

    options = settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=False,
        phases=[Phase.generate, Phase.shrink],
    )
    try:
        found = find(strategy, violates, settings=options, random=Random(int(gen.integers(2**63))))
    except NoSuchExample:
        return None, f"no violating target among {examples} generated ({len(cache)} evaluated)"
    n = _values("bound(target, eps, delta)", bound(found, trials.eps, delta), found)
    shrunk = trials.run([found], [n], np.asarray(seeds)[None, :], confidence)
    return shrunk, f"found and shrunk a violating target ({len(cache)} targets evaluated)"


def check_bound(
    bound: Callable,
    targets,
    *,
    eps: float,
    delta: float,
    seeds: int = 40,
    n_targets: int | None = None,
    criterion: str = "certified",
    confidence: float = 0.95,
    search: bool = True,
    search_examples: int = 20,
    search_budget: int = 200,
    construction: str = "pensia",
    solver: str = "mitm",
    distribution="uniform",
    radius: float = 1.0,
    rng=None,
) -> BoundCheck:
    """Property-test a width bound: does ``P(no ε-ticket) <= δ`` hold at the width it gives?

    Parameters
    ----------
    bound : callable
        ``bound(target, eps, delta)`` returns ``n_i`` (values per input) per layer pair, or one
        int for all; e.g. :class:`PensiaBound`.
    targets : ReLUNetwork, sequence of ReLUNetwork or SearchStrategy
        As in :func:`failure_rate`.
    eps : float
        Error to reach, > 0.
    delta : float
        Claimed failure probability, in (0, 1).
    seeds : int, default 40
        Random networks per target (with 0 failures the 95% interval reaches below 0.1 from 36
        trials on).
    n_targets : int, optional
        Targets drawn from a strategy (default 10).
    criterion, confidence, construction, solver, distribution, radius
        As in :func:`failure_rate`.
    search : bool, default True
        Unless the bound holds, let hypothesis search ``targets`` (a strategy) for a target
        whose own failure rate is significantly above ``delta``, and shrink it.
    search_examples : int, default 20
        Targets hypothesis generates in that search before giving up.
    search_budget : int, default 200
        Targets evaluated in the search and shrinking, at most (each on up to ``seeds`` random
        networks, stopping as soon as the verdict is certain).
    rng : None, int or numpy.random.Generator
        Draws targets, seeds and the search.

    Returns
    -------
    BoundCheck
        ``passed`` when the upper end of the pooled interval is at most ``delta``.

    Raises
    ------
    InvalidParameterError
        If an argument has the wrong type or range, or ``bound`` returns no valid ``n``.

    Notes
    -----
    The theorems claim, for every target of the class, ``P(failure) <= δ`` over the random
    network ([P] Theorem 1 with ``n_i = C ln(d_{i-1} d_i l / min(ε, δ))``,
    docs/theory.md, section 6). A pooled interval above δ refutes that claim at the confidence level
    (VIOLATED); one below δ supports it on the targets tried (HOLDS); otherwise more seeds are
    needed. The shrunk counterexample is a single target that refutes the claim on its own:
    hypothesis' ``find`` with the predicate "at least k of ``seeds`` random networks fail", k the
    fewest failures whose Clopper-Pearson interval lies above δ. Like :func:`failure_rate`, call it
    from a plain test, not from inside a ``@given`` one.

    Examples
    --------
    >>> from strong_lth.testing import relu_networks
    >>> targets = relu_networks(widths=(1, 1))
    >>> result = check_bound(PensiaBound(C=0.2), targets, eps=0.1, delta=0.1, seeds=10,
    ...                      n_targets=2, rng=0)
    >>> result.status.name, result.counterexample.widths
    ('VIOLATED', (1, 1))
    """
    if not callable(bound):
        raise InvalidParameterError(f"`bound` must be callable; got {_fmt(bound)}.")
    trials = _trials(eps, criterion, construction, solver, distribution, radius)
    delta = check_real("delta", delta, low=0.0, high=1.0, low_open=True, high_open=True)
    confidence = check_real(
        "confidence", confidence, low=0.0, high=1.0, low_open=True, high_open=True
    )
    examples = check_int("search_examples", search_examples, low=1)
    budget = check_int("search_budget", search_budget, low=1)
    gen = as_generator(rng)
    drawn = _targets(targets, n_targets, gen)
    ns = [_values("bound(target, eps, delta)", bound(t, trials.eps, delta), t) for t in drawn]
    grid = _seed_grid(gen, len(drawn), seeds)
    estimate = trials.run(drawn, ns, grid, confidence)
    if estimate.high <= delta:
        status = BoundStatus.HOLDS
    elif estimate.low > delta:
        status = BoundStatus.VIOLATED
    else:
        status = BoundStatus.INCONCLUSIVE
    rates = estimate.target_failures / grid.shape[1]
    order = np.argsort(-rates, kind="stable")
    counterexamples = tuple(drawn[i] for i in order if rates[i] > delta)
    shrunk, message = None, "not run (the bound holds)"
    if status is not BoundStatus.HOLDS:
        if not search:
            message = "not run (search=False)"
        elif not isinstance(targets, SearchStrategy):
            message = "not run (targets is not a strategy)"
        else:
            seeds_row = gen.integers(0, 2**63 - 1, size=grid.shape[1])
            shrunk, message = _search(
                bound, targets, trials, delta, seeds_row, confidence, examples, budget, gen
            )
    return BoundCheck(
        bound=bound,
        eps=trials.eps,
        delta=delta,
        status=status,
        estimate=estimate,
        counterexamples=counterexamples,
        shrunk=shrunk,
        search=message,
    )
