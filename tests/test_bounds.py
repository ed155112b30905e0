"""Tests for strong_lth.bounds: hand values, broadcasting, monotonicity, inverses, the table."""

from __future__ import annotations

import dataclasses
import itertools
import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from strong_lth.bounds import (
    BoundTable,
    compare,
    lower_bound_params,
    lower_bound_width,
    lueker_constant,
    lueker_values,
    malach_width,
    pensia_constant,
    pensia_values_per_input,
    pensia_width,
    per_weight_precision,
)
from strong_lth.exceptions import InvalidParameterError, TheoryAssumptionWarning
from strong_lth.networks import ReLUNetwork

U = 2.0**-53
"""Unit roundoff of float64."""

HAND_RTOL = 1e-14
"""Formula vs hand expression: each side takes at most about 8 correctly rounded operations (<= u
each) and one libm log (faithfully rounded, <= 2u), so they agree within about 20u = 2.2e-15.
1e-14 leaves margin and still catches any wrong factor, exponent or log base (relative errors of
order 1)."""

ROUNDTRIP_RTOL = 4 * U
"""``C -> n -> C``: both directions evaluate the same logarithm by the same code, so the only
roundings are the multiply ``C * L`` and the divide ``n / L``, <= u each; doubled for margin."""

MONOTONE_RTOL = 1e-14
"""The exact bounds are monotone; computed values may invert order between nearly equal
arguments by at most the rounding error of each evaluation (about 20u, see HAND_RTOL)."""

VECTOR_RTOL = 4 * U
"""Array vs scalar evaluation of the same formula: NumPy may use a SIMD log for arrays and a
scalar one otherwise, both within 1 ulp of the exact value, so they differ by at most 2 ulp."""

LN10 = math.log(10.0)
LN2 = math.log(2.0)


# ------------------------------------------------------------------------------------------
# Hand computations (the same values as the docstring examples)
# ------------------------------------------------------------------------------------------


def test_per_weight_precision_by_hand():
    # eps / (2 l sqrt(2 d_in d_out)) = 0.1 / (2 * 2 * sqrt(2 * 2 * 4)) = 0.1 / (4 * 4) = 0.00625
    assert per_weight_precision(0.1, 2, 4, 2) == pytest.approx(0.00625, rel=HAND_RTOL)
    # d_in = 8: sqrt(2 * 8 * 4) = 8, so 0.1 / 32 = 0.003125
    assert per_weight_precision(0.1, [2, 8], 4, 2) == pytest.approx(
        [0.00625, 0.003125], rel=HAND_RTOL
    )


def test_pensia_by_hand():
    # d_in d_out l / min(eps, delta) = 2 * 5 * 1 / 0.01 = 1000 and ln 1000 = 3 ln 10
    assert pensia_values_per_input(2, 5, 1, 0.1, 0.01) == pytest.approx(3 * LN10, rel=HAND_RTOL)
    assert pensia_values_per_input(2, 5, 1, 0.1, 0.01, C=2.0) == pytest.approx(
        6 * LN10, rel=HAND_RTOL
    )
    # width = C d_in ln(...) = 1 * 2 * 3 ln 10 = 6 ln 10 = 13.8155...
    assert pensia_width(2, 5, 1, 0.1, 0.01) == pytest.approx(6 * LN10, rel=HAND_RTOL)
    # min picks delta or eps, whichever is smaller: swapping them changes nothing
    assert pensia_width(2, 5, 1, 0.01, 0.1) == pytest.approx(6 * LN10, rel=HAND_RTOL)
    # C = 3, d_in = 4, d_out = 25, l = 10, eps = 0.1, delta = 0.5: 3 * 4 * ln(1000 / 0.1)
    # = 12 ln 10^4 = 48 ln 10
    assert pensia_width(4, 25, 10, 0.1, 0.5, C=3.0) == pytest.approx(48 * LN10, rel=HAND_RTOL)


def test_malach_by_hand():
    # C d^5 l^2 / eps^2 ln(d l / delta) = 32 * 1 / 0.25 * ln(2 / 0.5) = 128 ln 4 = 256 ln 2
    assert malach_width(2, 1, 0.5, 0.5) == pytest.approx(256 * LN2, rel=HAND_RTOL)
    # d = 1, l = 2, eps = 0.1, delta = 0.2, C = 0.5: 0.5 * 1 * 4 / 0.01 * ln(10) = 200 ln 10
    assert malach_width(1, 2, 0.1, 0.2, C=0.5) == pytest.approx(200 * LN10, rel=HAND_RTOL)


def test_lower_bounds_by_hand():
    # d_in d_out log2(1/eps) = 3 * 4 * log2(8) = 36 (exact: log2 of a power of two)
    assert lower_bound_params(3, 4, 0.125) == 36.0
    # width = 36 / (3 + 4)
    assert lower_bound_width(3, 4, 0.125) == pytest.approx(36 / 7, rel=HAND_RTOL)
    # square layer d x d: d^2 log2(1/eps) / (2d) = d/2 log2(1/eps): d = 10, eps = 1/1024 -> 50
    assert lower_bound_width(10, 10, 1 / 1024) == pytest.approx(50.0, rel=HAND_RTOL)


def test_lueker_by_hand():
    # C ln(1 / min(eta, delta)) = ln(1 / 0.01) = 2 ln 10
    assert lueker_values(0.01, 0.1) == pytest.approx(2 * LN10, rel=HAND_RTOL)
    assert lueker_values(0.1, 0.01) == pytest.approx(2 * LN10, rel=HAND_RTOL)
    assert lueker_values(0.01) == pytest.approx(2 * LN10, rel=HAND_RTOL)
    assert lueker_values(0.001, C=2.0) == pytest.approx(6 * LN10, rel=HAND_RTOL)


def test_constants_by_hand():
    # 20 / ln(1 / 0.001) = 20 / (3 ln 10); failure rate 0 -> eta alone
    assert lueker_constant(20, 0.001, 0.0) == pytest.approx(20 / (3 * LN10), rel=HAND_RTOL)
    # failure rate 0.001 < eta = 0.01: min is 0.001
    assert lueker_constant(20, 0.01, 0.001) == pytest.approx(20 / (3 * LN10), rel=HAND_RTOL)
    # failure rate 0.1 > eta = 0.01: min is eta, 20 / (2 ln 10)
    assert lueker_constant(20, 0.01, 0.1) == pytest.approx(10 / LN10, rel=HAND_RTOL)
    # 6 ln 10 / ln(2 * 5 * 1 / 0.01) = 6 ln 10 / (3 ln 10) = 2
    assert pensia_constant(6 * LN10, 2, 5, 1, 0.1, 0.01) == pytest.approx(2.0, rel=HAND_RTOL)


def test_zero_failure_rate_replaced_elementwise():
    got = lueker_constant(20, [0.001, 0.001], [0.0, 1e-6])
    # entry 0: eta alone, 20 / (3 ln 10); entry 1: min(0.001, 1e-6) = 1e-6, 20 / (6 ln 10)
    assert got == pytest.approx([20 / (3 * LN10), 20 / (6 * LN10)], rel=HAND_RTOL)


def test_width_over_d_in_is_values_per_input():
    d_in = np.array([1, 3, 7, 100])
    assert pensia_width(d_in, 5, 3, 0.05, 0.02, C=1.7) / d_in == pytest.approx(
        pensia_values_per_input(d_in, 5, 3, 0.05, 0.02, C=1.7), rel=4 * U
    )


# ------------------------------------------------------------------------------------------
# Return types and broadcasting over every numeric argument
# ------------------------------------------------------------------------------------------

# Two valid values for every argument of every function (keyword names as in the signatures).
CASES = {
    per_weight_precision: {"eps": (0.1, 0.3), "d_in": (2, 5), "d_out": (4, 1), "depth": (2, 3)},
    pensia_width: {
        "d_in": (2, 5),
        "d_out": (5, 3),
        "depth": (1, 4),
        "eps": (0.1, 0.02),
        "delta": (0.01, 0.3),
        "C": (1.0, 2.5),
    },
    pensia_values_per_input: {
        "d_in": (2, 5),
        "d_out": (5, 3),
        "depth": (1, 4),
        "eps": (0.1, 0.02),
        "delta": (0.01, 0.3),
        "C": (1.0, 2.5),
    },
    malach_width: {
        "d": (2, 7),
        "depth": (1, 3),
        "eps": (0.5, 0.05),
        "delta": (0.5, 0.001),
        "C": (1.0, 0.3),
    },
    lower_bound_params: {"d_in": (3, 6), "d_out": (4, 1), "eps": (0.125, 0.3)},
    lower_bound_width: {"d_in": (3, 6), "d_out": (4, 1), "eps": (0.125, 0.3)},
    lueker_values: {"eta": (0.01, 0.2), "delta": (0.1, 0.001), "C": (1.0, 3.0)},
    lueker_constant: {"n": (20.0, 7.5), "eta": (0.001, 0.05), "failure_rate": (0.0, 0.01)},
    pensia_constant: {
        "values_per_input": (13.8, 4.0),
        "d_in": (2, 5),
        "d_out": (5, 3),
        "depth": (1, 4),
        "eps": (0.1, 0.02),
        "delta": (0.01, 0.3),
    },
}
FUNCS = list(CASES)
IDS = [f.__name__ for f in FUNCS]


def _first(func):
    return {name: pair[0] for name, pair in CASES[func].items()}


@pytest.mark.parametrize("func", FUNCS, ids=IDS)
def test_scalar_input_returns_python_float(func):
    got = func(**_first(func))
    assert type(got) is float
    assert got > 0


@pytest.mark.parametrize("func", FUNCS, ids=IDS)
def test_zero_d_array_returns_zero_d_array(func):
    kwargs = _first(func)
    name = next(iter(kwargs))
    scalar = func(**kwargs)
    kwargs[name] = np.asarray(kwargs[name])
    got = func(**kwargs)
    assert isinstance(got, np.ndarray)
    assert got.shape == ()
    assert float(got) == pytest.approx(scalar, rel=VECTOR_RTOL)


@pytest.mark.parametrize("func", FUNCS, ids=IDS)
def test_broadcasts_over_every_argument(func):
    # Argument k varies along axis k (length 2), so the result has shape (2,) * k_args and
    # entry (i_1, ..., i_k) must equal the scalar call with those choices.
    names = list(CASES[func])
    kwargs = {}
    for axis, name in enumerate(names):
        shape = [1] * len(names)
        shape[axis] = 2
        kwargs[name] = np.array(CASES[func][name]).reshape(shape)
    got = func(**kwargs)
    assert isinstance(got, np.ndarray)
    assert got.shape == (2,) * len(names)
    for index in itertools.product((0, 1), repeat=len(names)):
        scalar = func(**{n: CASES[func][n][i] for n, i in zip(names, index, strict=True)})
        assert got[index] == pytest.approx(scalar, rel=VECTOR_RTOL)


@pytest.mark.parametrize("func", FUNCS, ids=IDS)
def test_list_input_gives_array(func):
    kwargs = _first(func)
    name = next(iter(kwargs))
    kwargs[name] = list(CASES[func][name])
    got = func(**kwargs)
    assert isinstance(got, np.ndarray)
    assert got.shape == (2,)


def test_lueker_values_without_delta_broadcasts():
    got = lueker_values(np.array([[0.1], [0.01]]), C=np.array([1.0, 2.0, 3.0]))
    assert got.shape == (2, 3)
    assert got == pytest.approx(np.outer([LN10, 2 * LN10], [1.0, 2.0, 3.0]), rel=HAND_RTOL)


def test_empty_arrays_give_empty_result():
    assert pensia_width(np.array([], dtype=int), 3, 2, 0.1, 0.1).shape == (0,)


# ------------------------------------------------------------------------------------------
# Monotonicity (hypothesis, bounded ranges)
# ------------------------------------------------------------------------------------------

PROBABILITY = st.floats(min_value=1e-9, max_value=0.999, allow_nan=False)
RANGES = {
    "eps": PROBABILITY,
    "delta": PROBABILITY,
    "eta": PROBABILITY,
    "d_in": st.integers(1, 10_000),
    "d_out": st.integers(1, 10_000),
    "d": st.integers(1, 1_000),
    "depth": st.integers(1, 100),
    "C": st.floats(min_value=1e-3, max_value=1e3, allow_nan=False),
    "n": st.floats(min_value=1e-3, max_value=1e3, allow_nan=False),
    "values_per_input": st.floats(min_value=1e-3, max_value=1e3, allow_nan=False),
}

# (function, argument, +1 if non-decreasing in it, -1 if non-increasing)
MONOTONE = [
    (per_weight_precision, "eps", +1),
    (per_weight_precision, "d_in", -1),
    (per_weight_precision, "d_out", -1),
    (per_weight_precision, "depth", -1),
    *[
        (f, arg, sign)
        for f in (pensia_width, pensia_values_per_input)
        for arg, sign in (
            ("eps", -1),
            ("delta", -1),
            ("d_in", +1),
            ("d_out", +1),
            ("depth", +1),
            ("C", +1),
        )
    ],
    *[
        (malach_width, arg, sign)
        for arg, sign in (("eps", -1), ("delta", -1), ("d", +1), ("depth", +1), ("C", +1))
    ],
    *[
        (f, arg, sign)
        for f in (lower_bound_params, lower_bound_width)
        for arg, sign in (("eps", -1), ("d_in", +1), ("d_out", +1))
    ],
    (lueker_values, "eta", -1),
    (lueker_values, "delta", -1),
    (lueker_values, "C", +1),
    (lueker_constant, "n", +1),
    (pensia_constant, "values_per_input", +1),
]


@pytest.mark.parametrize(
    ("func", "arg", "sign"), MONOTONE, ids=[f"{f.__name__}-{a}" for f, a, _ in MONOTONE]
)
@given(data=st.data())
def test_monotone(func, arg, sign, data):
    names = [n for n in CASES[func] if n != "failure_rate"]
    kwargs = {n: data.draw(RANGES[n], label=n) for n in names}
    if func is lueker_constant:
        kwargs["failure_rate"] = data.draw(st.sampled_from([0.0, 0.01]), label="failure_rate")
    low, high = sorted(data.draw(st.lists(RANGES[arg], min_size=2, max_size=2), label=arg))
    f_low = func(**{**kwargs, arg: low})
    f_high = func(**{**kwargs, arg: high})
    if sign > 0:
        assert f_high >= f_low * (1 - MONOTONE_RTOL)
    else:
        assert f_high <= f_low * (1 + MONOTONE_RTOL)


def test_monotone_directions_are_strict_when_they_should_be():
    # Guards the direction of the hypothesis test: a flat or reversed formula fails here.
    assert pensia_width(4, 4, 2, 0.01, 0.5) > pensia_width(4, 4, 2, 0.1, 0.5)
    assert malach_width(4, 2, 0.01, 0.1) > malach_width(4, 2, 0.1, 0.1)
    assert lower_bound_width(4, 4, 0.01) > lower_bound_width(4, 4, 0.1)
    assert per_weight_precision(0.1, 4, 4, 2) > per_weight_precision(0.01, 4, 4, 2)
    # eps >= delta: the min is delta, so pensia does not depend on eps there
    assert pensia_width(4, 4, 2, 0.3, 0.01) == pensia_width(4, 4, 2, 0.5, 0.01)


# ------------------------------------------------------------------------------------------
# Inverses (estimating C)
# ------------------------------------------------------------------------------------------


@given(
    d_in=st.integers(1, 10_000),
    d_out=st.integers(1, 10_000),
    depth=st.integers(1, 100),
    eps=PROBABILITY,
    delta=PROBABILITY,
    c=st.floats(min_value=1e-3, max_value=1e3),
)
def test_pensia_constant_inverts_values_per_input(d_in, d_out, depth, eps, delta, c):
    n = pensia_values_per_input(d_in, d_out, depth, eps, delta, C=c)
    assert pensia_constant(n, d_in, d_out, depth, eps, delta) == pytest.approx(
        c, rel=ROUNDTRIP_RTOL
    )


@given(
    eta=PROBABILITY,
    delta=st.one_of(st.none(), PROBABILITY),
    c=st.floats(min_value=1e-3, max_value=1e3),
)
def test_lueker_constant_inverts_lueker_values(eta, delta, c):
    n = lueker_values(eta, delta, C=c)
    failure_rate = 0.0 if delta is None else delta
    assert lueker_constant(n, eta, failure_rate) == pytest.approx(c, rel=ROUNDTRIP_RTOL)


def test_round_trip_vectorised():
    c = np.array([[0.5], [2.0]])
    eps = np.array([0.1, 0.01, 0.3])
    n = pensia_values_per_input(3, 4, 2, eps, 0.05, C=c)
    assert pensia_constant(n, 3, 4, 2, eps, 0.05) == pytest.approx(
        np.broadcast_to(c, (2, 3)), rel=ROUNDTRIP_RTOL
    )


# ------------------------------------------------------------------------------------------
# Validation: one test per message
# ------------------------------------------------------------------------------------------

INVALID = [
    # scalar reals (check_real)
    (lambda: per_weight_precision(1.5, 2, 2, 1), r"`eps` must be in \(0, 1\); got 1\.5\."),
    (lambda: per_weight_precision(float("nan"), 2, 2, 1), r"`eps` must be in \(0, 1\); got nan"),
    (lambda: per_weight_precision("a", 2, 2, 1), r"`eps` must be a real number; got 'a'\."),
    (lambda: pensia_width(2, 2, 1, 0.1, 0.0), r"`delta` must be in \(0, 1\); got 0\.0\."),
    (lambda: pensia_width(2, 2, 1, 0.1, 0.1, C=0), r"`C` must be in \(0, inf\); got 0\.0\."),
    (lambda: lueker_values(1.0), r"`eta` must be in \(0, 1\); got 1\.0\."),
    (lambda: lueker_constant(0, 0.1, 0.0), r"`n` must be in \(0, inf\); got 0\.0\."),
    (
        lambda: lueker_constant(5, 0.1, 1.0),
        r"`failure_rate` must be in \[0, 1\); got 1\.0\.",
    ),
    (
        lambda: pensia_constant(-1.0, 2, 2, 1, 0.1, 0.1),
        r"`values_per_input` must be in \(0, inf\); got -1\.0\.",
    ),
    # scalar integers (check_int)
    (lambda: pensia_width(0, 2, 1, 0.1, 0.1), r"`d_in` must be in \[1, inf\]; got 0\."),
    (lambda: pensia_width(2, 2, 0, 0.1, 0.1), r"`depth` must be in \[1, inf\]; got 0\."),
    (lambda: malach_width(2.0, 1, 0.1, 0.1), r"`d` must be an integer; got 2\.0\."),
    (lambda: lower_bound_width(2, True, 0.1), r"`d_out` must be an integer; got True\."),
    # arrays of reals (check_array + vectorised range check)
    (
        lambda: per_weight_precision([0.1, 1.5, 2.0], 2, 2, 1),
        r"`eps` must be in \(0, 1\); got 1\.5 \(2 of 3 entries out of range\)\.",
    ),
    (
        lambda: malach_width(2, 1, 0.1, [0.1, np.inf]),
        r"`delta` must be finite; got 1 NaN or infinite entry\.",
    ),
    (lambda: lueker_values(["a", "b"]), r"`eta` must hold real numbers; got dtype <U1"),
    (lambda: lueker_values([[0.1], [0.2, 0.3]]), r"`eta` must be array-like"),
    # arrays of integers
    (
        lambda: pensia_width([2.0, 3.0], 2, 1, 0.1, 0.1),
        r"`d_in` must be an integer or an array of integers; got dtype float64\.",
    ),
    (
        lambda: lower_bound_params(2, [3, 0], 0.1),
        r"`d_out` must be in \[1, inf\]; got 0 \(1 of 2 entries out of range\)\.",
    ),
    # shapes
    (
        lambda: per_weight_precision([0.1, 0.2], [1, 2, 3], 2, 1),
        r"arguments must broadcast together; got shapes `eps` \(2,\), `d_in` \(3,\), "
        r"`d_out` \(\), `depth` \(\)\.",
    ),
]


@pytest.mark.parametrize(("call", "match"), INVALID, ids=[m[:40] for _, m in INVALID])
def test_invalid_arguments_raise(call, match):
    with pytest.raises(InvalidParameterError, match=match):
        call()


# ------------------------------------------------------------------------------------------
# compare / BoundTable
# ------------------------------------------------------------------------------------------


@dataclasses.dataclass
class StandIn:
    """Duck-typed target: what compare reads from a ReLUNetwork."""

    widths: tuple
    has_bias: bool = False
    violations: tuple = ()
    radius_seen: float | None = None

    @property
    def depth(self):
        return len(self.widths) - 1

    def assumption_violations(self, radius=1.0):
        self.radius_seen = radius
        return list(self.violations)


class Bare:
    """No ``has_bias``: compare treats it as bias-free."""

    widths = (3, 2)
    depth = 1

    def assumption_violations(self, radius=1.0):
        return []


def test_compare_matches_the_formulas():
    target = StandIn((4, 8, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = compare(target, 0.1, 0.05, C=2.0, values_per_input=[3, 5], radius=0.5)
    assert isinstance(table, BoundTable)
    assert target.radius_seen == 0.5
    assert table.depth == 2
    assert table.d_in.tolist() == [4, 8]
    assert table.d_out.tolist() == [8, 2]
    # eta_1 = 0.1 / (2 * 2 * sqrt(2 * 4 * 8)) = 0.1 / 32; eta_2 = 0.1 / (4 * sqrt(32))
    assert table.eta == pytest.approx([0.1 / 32, 0.1 / (4 * math.sqrt(32))], rel=HAND_RTOL)
    # pensia_1 = 2 * 4 * ln(4 * 8 * 2 / 0.05) = 8 ln 1280; pensia_2 = 2 * 8 * ln(8 * 2 * 2 / 0.05)
    assert table.pensia_width == pytest.approx(
        [8 * math.log(1280), 16 * math.log(640)], rel=HAND_RTOL
    )
    # d = 8: 2 * 8^5 * 2^2 / 0.01 * ln(8 * 2 / 0.05) for both layers
    malach = 2 * 8**5 * 4 / 0.01 * math.log(320)
    assert table.malach_width == pytest.approx([malach, malach], rel=HAND_RTOL)
    # 4 * 8 * log2(10) / 12 and 8 * 2 * log2(10) / 10
    lb = math.log2(10)
    assert table.lower_bound_width == pytest.approx([32 * lb / 12, 16 * lb / 10], rel=HAND_RTOL)
    assert table.actual_width.tolist() == [12.0, 40.0]
    assert (table.C, table.eps, table.delta, table.radius) == (2.0, 0.1, 0.05, 0.5)
    assert table.assumption_violations == ()
    assert table.augmented is False


def test_compare_scalar_values_per_input_and_none():
    target = StandIn((4, 8, 2))
    assert compare(target, 0.1, 0.1, values_per_input=6).actual_width.tolist() == [24.0, 48.0]
    assert compare(target, 0.1, 0.1).actual_width is None


def test_compare_without_has_bias_attribute():
    table = compare(Bare(), 0.1, 0.1)
    assert table.d_in.tolist() == [3]
    assert table.augmented is False


def test_compare_augments_widths_for_biases():
    table = compare(StandIn((4, 8, 2), has_bias=True), 0.1, 0.05)
    # input d_0 + 1 = 5, hidden d_1 + 1 = 9, output d_2 = 2 unchanged
    assert table.d_in.tolist() == [5, 9]
    assert table.d_out.tolist() == [9, 2]
    assert table.augmented is True
    assert table.malach_width == pytest.approx([malach_width(9, 2, 0.1, 0.05)] * 2, rel=HAND_RTOL)
    assert "widths augmented by 1 for biases" in str(table)


def test_rows_are_plain_python():
    rows = compare(StandIn((4, 8, 2)), 0.1, 0.05, values_per_input=[3, 5]).rows()
    assert [r["layer"] for r in rows] == [1, 2]
    assert list(rows[0]) == [
        "layer",
        "d_in",
        "d_out",
        "eta",
        "pensia_width",
        "malach_width",
        "lower_bound_width",
        "actual_width",
        "implied_C",
    ]
    assert type(rows[0]["d_in"]) is int
    assert type(rows[1]["pensia_width"]) is float
    assert rows[1]["actual_width"] == 40.0


def _expected_tokens(row):
    out = []
    for key in ("layer", "d_in", "d_out"):
        out.append(str(row[key]))
    for key in (
        "eta",
        "pensia_width",
        "malach_width",
        "lower_bound_width",
        "actual_width",
        "implied_C",
    ):
        out.append("-" if row[key] is None else format(row[key], ".6g"))
    return out


@pytest.mark.parametrize("values_per_input", [None, [3, 5]])
def test_str_contains_every_row(values_per_input):
    table = compare(StandIn((4, 8, 2)), 0.1, 0.05, C=2.0, values_per_input=values_per_input)
    lines = str(table).splitlines()
    assert "eps=0.1" in lines[0]
    assert "delta=0.05" in lines[0]
    assert "C=2" in lines[0]
    assert "natural log" in lines[0]
    assert not any("assumptions do not hold" in line for line in lines)
    assert lines[1].split() == [
        "layer",
        "d_in",
        "d_out",
        "eta",
        "pensia_width",
        "malach_width",
        "lower_bound_width",
        "actual_width",
        "implied_C",
    ]
    body = lines[2:]
    assert len(body) == 2
    for line, row in zip(body, table.rows(), strict=True):
        assert line.split() == _expected_tokens(row)
    # fixed width: every line of the table proper has the same length
    assert len({len(line) for line in lines[1:]}) == 1


def test_implied_C_is_the_constant_at_which_pensia_width_is_the_actual_width():
    """The demo's table set Pensia widths at C = 1 beside the actual widths without the C they
    imply: with that C the bound is exactly the actual width."""
    table = compare(StandIn((4, 8, 2)), 0.1, 0.05, C=1.0, values_per_input=[3, 5])
    for i, (a, b) in enumerate([(4, 8), (8, 2)]):
        at_implied = pensia_width(a, b, 2, 0.1, 0.05, C=table.implied_C[i])
        assert at_implied == pytest.approx(table.actual_width[i], rel=1e-12)
        assert table.implied_C[i] == pytest.approx(
            table.actual_width[i] / table.pensia_width[i], rel=1e-12
        )
    assert "implied_C: the C at which pensia_width = actual_width" in str(table)
    assert compare(StandIn((4, 8, 2)), 0.1, 0.05).implied_C is None


def test_violations_warn_and_are_stated_in_the_table():
    target = StandIn((4, 8, 2), violations=("layer 1 has spectral norm 2 > 1", "has biases"))
    with pytest.warns(TheoryAssumptionWarning, match="layer 1 has spectral norm 2 > 1"):
        table = compare(target, 0.1, 0.05)
    assert table.assumption_violations == ("layer 1 has spectral norm 2 > 1", "has biases")
    lines = str(table).splitlines()
    assert lines[1] == (
        "theorem assumptions do not hold: layer 1 has spectral norm 2 > 1; has biases"
    )
    for line, row in zip(lines[3:], table.rows(), strict=True):
        assert line.split() == _expected_tokens(row)


def test_table_is_immutable():
    table = compare(StandIn((4, 8, 2)), 0.1, 0.05, values_per_input=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        table.eps = 0.2
    for arr in (table.d_in, table.eta, table.pensia_width, table.actual_width):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 0


def test_compare_with_relu_network():
    networks = pytest.importorskip("strong_lth.networks")
    net = networks.ReLUNetwork.random((4, 8, 2), rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = compare(net, 0.1, 0.05)
    assert table.d_in.tolist() == [4, 8]
    assert table.d_out.tolist() == [8, 2]
    assert table.assumption_violations == ()

    biased = networks.ReLUNetwork.random((4, 8, 2), rng=0, bias=True)
    with pytest.warns(TheoryAssumptionWarning):
        table = compare(biased, 0.1, 0.05, radius=2.0)
    # the widths of the augmented network are the ones used in the bounds
    assert table.d_in.tolist() == list(biased.augmented().widths[:-1])
    assert table.d_out.tolist() == list(biased.augmented().widths[1:])
    assert list(table.assumption_violations) == biased.assumption_violations(radius=2.0)
    assert "theorem assumptions do not hold: " in str(table)


class _WrongDepth(Bare):
    depth = 2


INVALID_COMPARE = [
    (
        lambda: compare(object(), 0.1, 0.1),
        r"`target` must have `widths`, `depth` and `assumption_violations` \(a ReLUNetwork\) "
        r"or be a sequence of widths; got object without `widths`, `depth`, "
        r"`assumption_violations`\.",
    ),
    (
        lambda: compare(StandIn((4, 0, 2)), 0.1, 0.1),
        r"`target.widths\[1\]` must be in \[1, 9007199254740992\]; got 0\.",
    ),
    (
        lambda: compare(_WrongDepth(), 0.1, 0.1),
        r"`target.widths` must have depth \+ 1 = 3 entries; got 2\.",
    ),
    (
        lambda: compare(StandIn((4, 8, 2)), 0.1, 0.1, values_per_input=[1, 2, 3]),
        r"`values_per_input` must be a scalar or have shape \(2,\) \(one per layer pair\); "
        r"got shape \(3,\)\.",
    ),
    (
        lambda: compare(StandIn((4, 8, 2)), 0.1, 0.1, values_per_input=[1, 0]),
        r"`values_per_input` must be in \(0, inf\); got 0\.0 \(1 of 2 entries out of range\)\.",
    ),
    (
        lambda: compare(StandIn((4, 8, 2)), [0.1, 0.2], 0.1),
        r"`eps` must be a real number; got \[0\.1, 0\.2\]\.",
    ),
    (
        lambda: compare(StandIn((4, 8, 2)), 0.1, 0.1, radius=-1.0),
        r"`radius` must be in \[0, inf\); got -1\.0\.",
    ),
    (
        lambda: compare([4], 0.1, 0.1),
        r"`target` given as widths must be a sequence of at least two positive integers "
        r"\(d_0, \.\.\., d_l\); got \[4\]\.",
    ),
    (
        lambda: compare([4, 2**60], 0.1, 0.1),
        r"`target\[1\]` must be in \[1, 9007199254740992\]; got 1152921504606846976\.",
    ),
    (
        lambda: compare([4, 8], 0.1, 0.1, bias="yes"),
        r"`bias` must be True or False; got 'yes'\.",
    ),
    (
        lambda: compare(StandIn((4, 8, 2)), 0.1, 0.1, bias=True),
        r"`bias` must be left out for a network \(it has biases or not\); got True with a "
        r"StandIn\.",
    ),
]


def test_compare_from_widths_equals_compare_from_the_network():
    """Widths alone give the table of the network they describe, without building one: a
    width-100000 target (75 GiB of weights) is tabulated at once."""
    for bias in (False, True):
        net = ReLUNetwork.random((3, 5, 2), rng=0, bias=bias)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TheoryAssumptionWarning)
            expected = compare(net, 0.1, 0.05, values_per_input=[3, 4], radius=2.0)
            got = compare([3, 5, 2], 0.1, 0.05, values_per_input=[3, 4], radius=2.0, bias=bias)
        assert got.rows() == expected.rows()
        assert got.assumption_violations == expected.assumption_violations
    table = compare((100_000,) * 3, 0.1, 0.1)
    assert table.d_in.tolist() == [100_000, 100_000]
    assert table.pensia_width[0] == pytest.approx(100_000 * math.log(100_000**2 * 2 / 0.1))


@pytest.mark.parametrize(
    ("call", "match"), INVALID_COMPARE, ids=[m[:40] for _, m in INVALID_COMPARE]
)
def test_compare_invalid_arguments_raise(call, match):
    with pytest.raises(InvalidParameterError, match=match):
        call()
