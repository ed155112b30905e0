"""Hypothesis strategies for the objects the theorems speak about.

Targets that satisfy (or, on request, deliberately break) the assumptions of [P] Theorem 1 and
[M] Theorem 2.1 (docs/theory.md, section 1: no biases, ``‖W_i‖_2 <= 1``; the input radius is the
caller's ``radius``), SubsetSum instances (docs/theory.md, sections 3 and 6), widths and errors.
Every draw is reproducible: randomness comes from hypothesis or from an explicit drawn seed, never
from global state, and every drawn array is finite.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from .._validation import _fmt, as_generator, check_choice, check_int, check_real
from ..distributions import Uniform, get_distribution
from ..exceptions import InvalidParameterError
from ..networks import NORM_RTOL, ReLUNetwork

__all__ = [
    "VIOLATION_NORMS",
    "epsilons",
    "examples",
    "relu_networks",
    "seeds",
    "subset_sum_instances",
    "widths",
]

seeds = st.integers(min_value=0, max_value=2**32 - 1)
"""Explicit seeds for numpy Generators (and for :class:`~strong_lth.RandomNetwork`)."""

VIOLATION_NORMS = (1.0 + 1e-6, 4.0)
"""Range of the spectral norm given to the offending layer by ``relu_networks(violate="norm")``.
The lower end is far above :data:`~strong_lth.networks.NORM_RTOL` (1e-9), so the violation
survives the rescaling's rounding and :meth:`ReLUNetwork.assumption_violations` reports it; it
is close enough to 1 that the barely-violating targets a detector must catch are drawn too."""

_VIOLATIONS = ("norm", "bias")


def _is_strategy(value: Any) -> bool:
    return isinstance(value, SearchStrategy)


def _drawn(draw, value):
    """``draw(value)`` for a strategy, ``value`` itself otherwise."""
    return draw(value) if _is_strategy(value) else value


def widths(
    *,
    depth: int | None = None,
    min_depth: int = 1,
    max_depth: int = 3,
    min_width: int = 1,
    max_width: int = 6,
) -> SearchStrategy[tuple[int, ...]]:
    """Layer widths ``(d_0, d_1, ..., d_l)`` of a target network.

    Parameters
    ----------
    depth : int, optional
        A fixed number of layers ``l``; otherwise ``l`` is drawn from ``[min_depth, max_depth]``.
    min_depth, max_depth : int
        Range of ``l`` (``1 <= min_depth <= max_depth``).
    min_width, max_width : int
        Range of every ``d_i`` (``1 <= min_width <= max_width``).

    Returns
    -------
    SearchStrategy of tuple of int
        Shrinks towards fewer and narrower layers.

    Raises
    ------
    InvalidParameterError
        If a bound is not a positive integer or a range is empty.

    Examples
    --------
    >>> from hypothesis import given
    >>> @given(widths(depth=2, max_width=3))
    ... def test(w):
    ...     assert len(w) == 3 and all(1 <= d <= 3 for d in w)
    >>> test()
    """
    min_width = check_int("min_width", min_width, low=1)
    max_width = check_int("max_width", max_width, low=min_width)
    if depth is not None:
        min_depth = max_depth = check_int("depth", depth, low=1)
    min_depth = check_int("min_depth", min_depth, low=1)
    max_depth = check_int("max_depth", max_depth, low=min_depth)
    width = st.integers(min_width, max_width)
    return st.integers(min_depth, max_depth).flatmap(
        lambda count: st.tuples(*([width] * (count + 1)))
    )


_widths = widths  # relu_networks has a parameter of the same name


def epsilons(*, min_value: float = 1e-3, max_value: float = 0.5) -> SearchStrategy[float]:
    """Output errors ``ε`` in ``[min_value, max_value]``, log-uniform.

    Parameters
    ----------
    min_value, max_value : float
        ``0 < min_value <= max_value < 1``.

    Returns
    -------
    SearchStrategy of float
        ``exp(t)`` for ``t`` drawn in ``[ln min_value, ln max_value]`` (clipped to the range, so
        rounding never leaves it): orders of magnitude are drawn evenly, as the bounds depend on
        ``ln(1/ε)`` (docs/theory.md, section 6).

    Raises
    ------
    InvalidParameterError
        If the range is empty or not inside (0, 1).

    Examples
    --------
    >>> from hypothesis import given
    >>> @given(epsilons(min_value=0.01, max_value=0.1))
    ... def test(eps):
    ...     assert 0.01 <= eps <= 0.1
    >>> test()
    """
    low = check_real("min_value", min_value, low=0.0, high=1.0, low_open=True, high_open=True)
    high = check_real("max_value", max_value, low=low, high=1.0, high_open=True)
    return st.floats(math.log(low), math.log(high)).map(lambda t: min(max(math.exp(t), low), high))


def _norms(spectral_norm, violate):
    if _is_strategy(spectral_norm):
        return spectral_norm
    value = check_real("spectral_norm", spectral_norm, low=0.0, low_open=True)
    if violate is False and value > 1.0 + NORM_RTOL:
        raise InvalidParameterError(
            "`spectral_norm` must be at most 1 when the targets must satisfy the theorems' "
            f"assumptions (violate=False); got {value!r}. Pass violate=None to allow it."
        )
    return value


def _bias(bias, violate):
    if _is_strategy(bias):
        return bias
    if not isinstance(bias, bool | np.bool_):
        raise InvalidParameterError(f"`bias` must be a bool or a strategy; got {_fmt(bias)}.")
    if violate is False and bias:
        raise InvalidParameterError(
            "`bias` must be False when the targets must satisfy the theorems' assumptions "
            "(violate=False); got True. Pass violate=True or violate=None to allow biases."
        )
    return bool(bias)


def _violations(violate):
    if violate is None or isinstance(violate, bool):
        return violate
    return check_choice("violate", violate, _VIOLATIONS)


def _network_shape(widths_arg, depth, max_width, max_depth):
    """The strategy (or fixed tuple) of widths, after checking ``widths`` against ``depth``."""
    if widths_arg is None:
        max_width = check_int("max_width", max_width, low=1)
        if _is_strategy(depth):
            return depth.flatmap(lambda count: _widths(depth=count, max_width=max_width))
        if depth is None:
            return _widths(max_width=max_width, max_depth=check_int("max_depth", max_depth, low=1))
        return _widths(depth=check_int("depth", depth, low=1), max_width=max_width)
    if depth is not None:
        raise InvalidParameterError(
            f"`depth` must be None when `widths` is given (it fixes the depth); got {_fmt(depth)}."
        )
    if _is_strategy(widths_arg):
        return widths_arg
    if isinstance(widths_arg, str) or not isinstance(widths_arg, tuple | list):
        raise InvalidParameterError(
            f"`widths` must be None, a sequence of integers or a strategy; got {_fmt(widths_arg)}."
        )
    if len(widths_arg) < 2:
        raise InvalidParameterError(
            f"`widths` must have at least 2 entries (d_0, d_1); got {len(widths_arg)}."
        )
    return tuple(check_int(f"widths[{i}]", d, low=1) for i, d in enumerate(widths_arg))


def relu_networks(
    *,
    widths=None,
    depth=None,
    spectral_norm=1.0,
    bias=False,
    violate=False,
    max_width: int = 6,
    max_depth: int = 3,
) -> SearchStrategy[ReLUNetwork]:
    """Target networks inside (or deliberately outside) the assumptions of the theorems.

    Parameters
    ----------
    widths : None, sequence of int or SearchStrategy
        ``(d_0, ..., d_l)``: fixed, drawn from a strategy, or (None) drawn by
        :func:`widths` with ``max_width`` and ``max_depth``.
    depth : None, int or SearchStrategy of int
        Number of layers ``l`` when ``widths`` is None.
    spectral_norm : float or SearchStrategy of float, default 1.0
        ``‖W_i‖_2`` of every layer: the weights are i.i.d. Gaussian from a drawn seed
        (:meth:`ReLUNetwork.random`), each matrix rescaled to exactly this norm. The default is
        the boundary of the class ``‖W_i‖_2 <= 1``; pass e.g. ``st.floats(0.1, 1.0)`` to range
        inside it.
    bias : bool or SearchStrategy of bool, default False
        Whether the network has biases (i.i.d. Uniform[-0.5, 0.5]).
    violate : bool, "norm", "bias" or None, default False
        ``False``: every network satisfies the assumptions (no biases, ``‖W_i‖_2 <= 1``); a
        fixed ``spectral_norm > 1`` or ``bias=True`` is refused, and a strategy drawing one
        raises when drawn. ``True``: every network breaks at least one assumption, which one(s)
        drawn. ``"norm"``: one drawn layer gets a spectral norm in :data:`VIOLATION_NORMS`
        (above 1), the others ``spectral_norm``. ``"bias"``: the network has biases. ``None``:
        no constraint, the networks are as ``spectral_norm`` and ``bias`` say (some inside the
        assumptions, some outside).
    max_width, max_depth : int
        Used when ``widths`` is None.

    Returns
    -------
    SearchStrategy of ReLUNetwork
        Shrinks towards fewer, narrower layers and seed 0.

    Raises
    ------
    InvalidParameterError
        If an argument has the wrong type or range, or contradicts ``violate=False``.

    Notes
    -----
    [P] Theorem 1 and [M] Theorem 2.1 assume no biases, ``‖W_i‖_2 <= 1`` and inputs in the unit
    ball (docs/theory.md, section 1); :meth:`ReLUNetwork.assumption_violations` lists what a network
    breaks. The input radius is not a property of the network: pass ``radius`` to the checks.

    Examples
    --------
    >>> from hypothesis import given
    >>> @given(relu_networks(max_width=3))
    ... def test(target):
    ...     assert target.assumption_violations() == []
    >>> test()
    >>> @given(relu_networks(max_width=3, violate=True))
    ... def test_violating(target):
    ...     assert target.assumption_violations() != []
    >>> test_violating()
    """
    violate = _violations(violate)
    shape = _network_shape(widths, depth, max_width, max_depth)
    norms = _norms(spectral_norm, violate)
    biases = _bias(bias, violate)
    either = st.sampled_from([("norm",), ("bias",), ("norm", "bias")])

    @st.composite
    def build(draw):
        dims = _drawn(draw, shape)
        norm = _drawn(draw, norms)
        has_bias = _drawn(draw, biases)
        if violate is False:  # a strategy may have drawn a value the fixed checks would refuse
            _norms(norm, False)
            _bias(has_bias, False)
        if violate is True:
            broken = draw(either)
        else:
            broken = (violate,) if isinstance(violate, str) else ()
        has_bias = has_bias or "bias" in broken
        network = ReLUNetwork.random(dims, rng=draw(seeds), spectral_norm=norm, bias=has_bias)
        if "norm" not in broken:
            return network
        layer = draw(st.integers(0, network.depth - 1))
        big = draw(st.floats(*VIOLATION_NORMS))
        weights = list(network.weights)
        weights[layer] = weights[layer] * (big / np.linalg.norm(weights[layer], 2))
        return ReLUNetwork(weights, network.biases)

    return build()


def _unit_uniforms(gen: np.random.Generator, n: int) -> np.ndarray:
    """``n`` numbers strictly inside (0, 1) (midpoints of a 2^-52 grid)."""
    return (gen.integers(0, 2**52, n) + 0.5) * 2.0**-52


def subset_sum_instances(
    *,
    n=None,
    distribution=None,
    min_n: int = 0,
    max_n: int = 12,
    target=None,
) -> SearchStrategy[tuple[np.ndarray, float]]:
    """SubsetSum instances ``(values, target)``: find the subset of ``values`` closest to target.

    Parameters
    ----------
    n : None, int or SearchStrategy of int
        Number of values; None draws it from ``[min_n, max_n]``.
    distribution : None, str or Distribution
        None: adversarial values in [-1, 1] drawn by hypothesis from a small pool, so repeated
        values and exact zeros occur (they break naive tie handling). ``"product"``: products
        ``u v`` of two independent Uniform[-1, 1] numbers, the values of the [P] construction
        (docs/theory.md, section 3, density ``-½ ln|z|``). A :class:`~strong_lth.Distribution` or
        its name (``"uniform"``, ``"gaussian"``): i.i.d. samples from a drawn seed, as in [L].
    min_n, max_n : int
        Range of ``n`` when ``n`` is None (``0 <= min_n <= max_n``).
    target : None, float or SearchStrategy of float
        None draws it in [-2, 2] for adversarial instances (targets out of reach included) and
        in [-1, 1], the range of the theorems, for a distribution.

    Returns
    -------
    SearchStrategy of (ndarray, float)
        float64 values of shape ``(n,)`` (finite) and the target.

    Raises
    ------
    InvalidParameterError
        If an argument has the wrong type or range.

    Examples
    --------
    >>> from hypothesis import given
    >>> @given(subset_sum_instances(n=8, distribution="product"))
    ... def test(instance):
    ...     values, target = instance
    ...     assert values.shape == (8,) and abs(values).max() <= 1 and abs(target) <= 1
    >>> test()
    """
    if n is None:
        min_n = check_int("min_n", min_n, low=0)
        n = st.integers(min_n, check_int("max_n", max_n, low=min_n))
    elif not _is_strategy(n):
        n = check_int("n", n, low=0)
    if distribution is None:
        reach = 2.0
    else:
        reach = 1.0
        if not (isinstance(distribution, str) and distribution == "product"):
            distribution = get_distribution(distribution)
    if target is None:
        target = st.floats(-reach, reach, allow_nan=False)
    elif not _is_strategy(target):
        target = check_real("target", target)
    unit = st.floats(min_value=-1.0, max_value=1.0, allow_nan=False)

    @st.composite
    def build(draw):
        size = _drawn(draw, n)
        if distribution is None:
            pool = draw(st.lists(unit, min_size=1, max_size=max(size, 1)))
            values = draw(st.lists(st.sampled_from([*pool, 0.0]), min_size=size, max_size=size))
        else:
            gen = np.random.default_rng(draw(seeds))
            if distribution == "product":
                uniform = Uniform()
                values = uniform.from_uniform(_unit_uniforms(gen, size)) * uniform.from_uniform(
                    _unit_uniforms(gen, size)
                )
            else:
                values = distribution.from_uniform(_unit_uniforms(gen, size))
        return np.array(values, dtype=np.float64), float(_drawn(draw, target))

    return build()


def examples(strategy: SearchStrategy, count: int, *, rng=None) -> list:
    """Draw ``count`` examples of a strategy, reproducibly (unlike ``strategy.example()``).

    Parameters
    ----------
    strategy : SearchStrategy
        Any hypothesis strategy, e.g. :func:`relu_networks`.
    count : int
        Examples wanted (>= 1). Fewer come back only when the strategy has fewer distinct ones.
    rng : None, int or numpy.random.Generator
        Seeds hypothesis' generation: the same seed gives the same examples.

    Returns
    -------
    list
        Hypothesis' own generation, without shrinking: varied, and the simplest example first.
        Not i.i.d. draws from a fixed distribution, so rates over them are rates on *these*
        examples.

    Raises
    ------
    InvalidParameterError
        If ``strategy`` is not a strategy or ``count`` is not a positive integer.

    Examples
    --------
    >>> nets = examples(relu_networks(max_width=3), 4, rng=0)
    >>> len(nets), nets[0].widths  # simplest first
    (4, (1, 1))
    """
    if not _is_strategy(strategy):
        raise InvalidParameterError(
            f"`strategy` must be a hypothesis strategy; got {type(strategy).__name__}."
        )
    count = check_int("count", count, low=1)
    found: list = []

    @hypothesis_seed(int(as_generator(rng).integers(2**63 - 1)))
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        derandomize=False,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(example):
        found.append(example)

    collect()
    return found[:count]
