"""Tests of strong_lth.distributions: each inverse CDF against an independent CDF (scipy, or one
written here from the density), by exact round trips and by Kolmogorov-Smirnov tests of
sampling; the name registry, the save/load round trip of the parameters and every error
message."""

import dataclasses
import json
import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, stats

from strong_lth import InvalidParameterError
from strong_lth.distributions import (
    NAMES,
    Distribution,
    Gaussian,
    Hyperbolic,
    Uniform,
    get_distribution,
)
from strong_lth.random_network import RandomNetwork, uniform_bits

KS_P_MIN = 1e-3
"""Kolmogorov-Smirnov p-value below which the target CDF is rejected (fixed seeds, so the tests
are deterministic; a correct quantile function fails one with probability 1e-3)."""

LISTED = "'uniform', 'gaussian', 'normal', 'hyperbolic'"


def hyperbolic_cdf(w, a):
    """CDF of density ``1 / (2 ln(1/a) |w|)`` on ``[-1, -a] ∪ [a, 1]``, integrated by hand:
    ``int_{-1}^{w} dx / (2 ln(1/a) |x|) = ln(1/|w|) / (2 ln(1/a))`` for ``w <= -a``, 1/2 on the
    gap, ``1/2 + ln(w / a) / (2 ln(1/a))`` for ``w >= a``; 0 below -1 and 1 above 1."""
    w = np.asarray(w, dtype=float)
    span = 2.0 * math.log(1.0 / a)
    mag = np.clip(np.abs(w), a, 1.0)
    negative = np.log(1.0 / mag) / span
    positive = 0.5 + np.log(mag / a) / span
    return np.where(w < 0, negative, positive)


def unit_uniforms(size, seed=0):
    """Uniforms on the midpoint grid of :func:`uniform_bits`, drawn by a numpy Generator."""
    return (np.random.default_rng(seed).integers(0, 2**52, size) + 0.5) * 2.0**-52


# ---- the hand-written CDF itself, against two independent references -------------------------


@pytest.mark.parametrize("a", [1e-6, 0.01, 0.5])
def test_hyperbolic_cdf_is_the_integral_of_the_density(a):
    span = 2.0 * math.log(1.0 / a)
    points = [-1.0, -0.9, -(a**0.5), -a, -a / 2, 0.0, a / 2, a, a**0.3, 0.999, 1.0]
    for w in points:
        pieces = [(-1.0, min(w, -a)), (a, min(w, 1.0))]
        # the density is 1 / (2 ln(1/a) |x|) on each branch; breakpoints help quad near a
        mass = sum(
            integrate.quad(lambda x: 1.0 / (span * abs(x)), lo, hi, points=[lo])[0]
            for lo, hi in pieces
            if hi > lo
        )
        assert hyperbolic_cdf(w, a) == pytest.approx(mass, abs=1e-10)


@pytest.mark.parametrize("a", [1e-6, 0.01, 0.5])
def test_hyperbolic_cdf_is_a_signed_loguniform(a):
    # |W| ~ loguniform(a, 1) with a fair independent sign.
    w = np.linspace(-1, 1, 2001)
    magnitude = stats.loguniform(a, 1.0).cdf(np.abs(w))
    expected = np.where(w < 0, 0.5 * (1 - magnitude), 0.5 + 0.5 * magnitude)
    np.testing.assert_allclose(hyperbolic_cdf(w, a), expected, rtol=0, atol=1e-14)


# ---- the quantile function ----------------------------------------------------------------


@pytest.mark.parametrize("a", [1e-3, 0.01, 0.3])
def test_hyperbolic_sampling_matches_cdf_ks(a):
    law = Hyperbolic(a)
    by_generator = law.from_uniform(unit_uniforms(200_000, seed=5))
    by_counter = law.from_uniform(
        uniform_bits(11, 1, np.arange(400)[:, None], np.arange(500)[None, :]).ravel()
    )
    for x in (by_generator, by_counter):
        assert stats.kstest(x, lambda w: hyperbolic_cdf(w, a)).pvalue > KS_P_MIN
        # log|W| is uniform on [ln a, 0]: its mean ln(a) / 2 checks the log-uniform magnitude
        n = x.size
        sd = abs(math.log(a)) / math.sqrt(12)
        assert abs(np.mean(np.log(np.abs(x))) - math.log(a) / 2) < 5 * sd / math.sqrt(n)


def test_hyperbolic_ks_rejects_a_wrong_parameter():
    # The KS test has power: samples of a = 0.01 are rejected against the CDF of a = 0.012.
    x = Hyperbolic(0.01).from_uniform(unit_uniforms(200_000, seed=5))
    assert stats.kstest(x, lambda w: hyperbolic_cdf(w, 0.012)).pvalue < KS_P_MIN


@given(st.floats(-12.0, math.log10(0.999)), st.floats(0.0, 1.0), st.booleans())
def test_hyperbolic_quantile_inverts_cdf(log_a, t, negative):
    a = 10.0**log_a
    w = (-1.0 if negative else 1.0) * a ** (1.0 - t)  # a point of the support
    u = float(hyperbolic_cdf(w, a))
    # F(-1) = 0 and F(1) = 1 are not inputs; F(a) = F(-a) = 1/2 and the quantile gives -a
    if 0.0 < u < 1.0 and not (u == 0.5 and w > 0):
        assert abs(float(Hyperbolic(a).from_uniform(u)) - w) <= 1e-12


@pytest.mark.parametrize("a", [1e-9, 0.01, 0.7])
def test_hyperbolic_quantile_inverts_cdf_on_grids(a):
    law = Hyperbolic(a)
    mags = np.geomspace(a, 1.0, 5001)[1:-1]  # both open branches, log-spaced
    w = np.concatenate([-mags, [-a], mags])
    np.testing.assert_allclose(law.from_uniform(hyperbolic_cdf(w, a)), w, rtol=0, atol=1e-12)
    u = unit_uniforms(10_000, seed=2)
    np.testing.assert_allclose(hyperbolic_cdf(law.from_uniform(u), a), u, rtol=0, atol=1e-12)


@pytest.mark.parametrize("a", [1e-9, 0.01, 0.7])
def test_hyperbolic_symmetry_support_and_monotonicity(a):
    law = Hyperbolic(a)
    u = np.sort(uniform_bits(3, 1, 0, np.arange(100_000)))
    w = law.from_uniform(u)
    np.testing.assert_array_equal(law.from_uniform(1.0 - u), -w)  # exact, 1 - u is exact
    assert np.all((np.abs(w) >= a) & (np.abs(w) <= 1.0))
    assert np.all(np.sign(w) == np.where(u > 0.5, 1.0, -1.0))
    assert np.all(np.diff(w) >= 0)
    extremes = law.from_uniform([2.0**-53, 0.5, 0.5 + 2.0**-53, 1 - 2.0**-53])
    np.testing.assert_allclose(extremes, [-1.0, -a, a, 1.0], rtol=1e-12)
    assert extremes[1] == -a  # F^{-1}(1/2) = inf {w : F(w) >= 1/2} = -a


def test_random_network_draws_hyperbolic_weights():
    g = RandomNetwork(seed=4, widths=(3, 2), values_per_input=5, distribution="hyperbolic")
    assert g.distribution == Hyperbolic(0.01)
    rows, cols = np.arange(15)[:, None], np.arange(3)[None, :]
    np.testing.assert_array_equal(
        g.matrix(1), Hyperbolic(0.01).from_uniform(uniform_bits(4, 1, rows, cols))
    )


# ---- the existing distributions -----------------------------------------------------------


def test_distribution_inverse_cdfs():
    u = np.array([1e-300, 0.25, 0.5, 0.75, 1 - 2.0**-53])
    np.testing.assert_allclose(Uniform(2.0).from_uniform(u), [-2.0, -1.0, 0.0, 1.0, 2.0])
    np.testing.assert_allclose(Gaussian(3.0).from_uniform(u[1:4]), 3.0 * stats.norm.ppf(u[1:4]))
    assert np.all(np.isfinite(Gaussian().from_uniform(u)))
    assert Uniform().from_uniform(np.empty((0, 2))).shape == (0, 2)
    assert (Uniform.name, Gaussian.name, Hyperbolic.name) == ("uniform", "gaussian", "hyperbolic")


def test_get_distribution():
    assert get_distribution("uniform") == Uniform()
    assert get_distribution("gaussian") == Gaussian() == get_distribution("normal")
    custom = Uniform(0.3)
    assert get_distribution(custom) is custom
    assert isinstance(get_distribution("normal"), Distribution)
    assert get_distribution("hyperbolic") == Hyperbolic() == Hyperbolic(0.01)
    assert NAMES == ("uniform", "gaussian", "normal", "hyperbolic")
    assert {type(get_distribution(name)).name for name in NAMES} == {
        "uniform",
        "gaussian",
        "hyperbolic",
    }


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: Uniform(0.0), "`a` must be in (0, inf); got 0.0."),
        (lambda: Uniform(np.inf), "`a` must be in (0, inf); got inf."),
        (lambda: Gaussian(-1.0), "`sigma` must be in (0, inf); got -1.0."),
        (lambda: Gaussian("1"), "`sigma` must be a real number; got '1'."),
        (lambda: Hyperbolic(0.0), "`a` must be in (0, 1); got 0.0."),
        (lambda: Hyperbolic(1.0), "`a` must be in (0, 1); got 1.0."),
        (lambda: Hyperbolic(1.5), "`a` must be in (0, 1); got 1.5."),
        (lambda: Hyperbolic(-0.1), "`a` must be in (0, 1); got -0.1."),
        (lambda: Hyperbolic(np.nan), "`a` must be in (0, 1); got nan."),
        (lambda: Hyperbolic(True), "`a` must be a real number; got True."),
        (lambda: Hyperbolic("0.1"), "`a` must be a real number; got '0.1'."),
        (
            lambda: Hyperbolic().from_uniform([0.0, 0.5]),
            "`u` must lie in (0, 1); got values in [0.0, 0.5].",
        ),
        (
            lambda: Uniform().from_uniform([0.5, 1.0]),
            "`u` must lie in (0, 1); got values in [0.5, 1.0].",
        ),
        (
            lambda: Gaussian().from_uniform([0.0]),
            "`u` must lie in (0, 1); got values in [0.0, 0.0].",
        ),
        (
            lambda: Uniform().from_uniform([np.nan]),
            "`u` must be finite; got 1 NaN or infinite entry.",
        ),
        (
            lambda: get_distribution("cauchy"),
            f"`distribution` must be a Distribution or one of {LISTED}; got 'cauchy'.",
        ),
        (
            lambda: get_distribution(3, name="dist"),
            f"`dist` must be a Distribution or one of {LISTED}; got 3.",
        ),
    ],
)
def test_distribution_errors(call, message):
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        call()


@pytest.mark.parametrize("law", [Uniform(0.5), Gaussian(2.0), Hyperbolic(0.001), Hyperbolic()])
def test_parameters_round_trip_through_json(law):
    # The ticket file stores the name and the dataclass fields and rebuilds from them.
    header = json.loads(json.dumps({"name": law.name, **dataclasses.asdict(law)}))
    kind = type(get_distribution(header.pop("name")))
    assert kind(**header) == law
    u = unit_uniforms(100, seed=1)
    np.testing.assert_array_equal(kind(**header).from_uniform(u), law.from_uniform(u))
