"""strong_lth.testing: strategies keep their promises, checks can pass and can fail."""

import contextlib
import importlib
import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from scipy import stats

from strong_lth import (
    InvalidParameterError,
    RandomNetwork,
    ReLUNetwork,
    TheoryAssumptionWarning,
    Ticket,
    approximate,
    bounds,
)
from strong_lth._certify import AGREEMENT
from strong_lth.networks import NORM_RTOL
from strong_lth.testing import (
    VIOLATION_NORMS,
    BoundStatus,
    PensiaBound,
    check_bound,
    check_ticket,
    clopper_pearson,
    epsilons,
    examples,
    failure_rate,
    relu_networks,
    seeds,
    subset_sum_instances,
    widths,
)

NORM_MATCH = 1e-12
"""Relative agreement of a rescaled matrix's spectral norm with the requested one: rescaling and
the SVD each round to a few ulps of ``d u ||W||``, far below this for widths <= 6."""


# ------------------------------------------------------------------------------------------
# import guard
# ------------------------------------------------------------------------------------------


def test_import_without_hypothesis_raises_a_clear_error(monkeypatch):
    for name in [m for m in sys.modules if m.split(".")[:2] == ["strong_lth", "testing"]]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "hypothesis", None)
    with pytest.raises(ImportError, match=r"strong_lth.testing needs the hypothesis package"):
        importlib.import_module("strong_lth.testing")


def test_strong_lth_imports_without_hypothesis():
    code = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "import strong_lth\n"
        "assert 'strong_lth.testing' not in sys.modules\n"
        "try:\n    import strong_lth.testing\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'strong_lth[testing]'" in out.stdout


# ------------------------------------------------------------------------------------------
# strategies
# ------------------------------------------------------------------------------------------


def _finite(net):
    return all(np.all(np.isfinite(a)) for a in net.weights + (net.biases or ()))


@given(relu_networks(max_width=4, max_depth=3))
def test_default_networks_satisfy_the_assumptions(net):
    assert net.assumption_violations() == [] and not net.has_bias and _finite(net)
    assert 1 <= net.depth <= 3 and all(1 <= d <= 4 for d in net.widths)
    np.testing.assert_allclose(net.spectral_norms(), 1.0, rtol=NORM_MATCH, atol=0)


@given(relu_networks(widths=(3, 2, 1), spectral_norm=st.floats(0.1, 1.0)))
def test_fixed_widths_and_drawn_norms(net):
    assert net.widths == (3, 2, 1) and net.assumption_violations() == []
    norms = net.spectral_norms()  # one drawn norm shared by every layer, at most 1
    np.testing.assert_allclose(norms, norms[0], rtol=NORM_MATCH, atol=0)
    assert 0.1 * (1 - NORM_MATCH) <= norms[0] <= 1 + NORM_RTOL


@given(relu_networks(depth=2, max_width=3, spectral_norm=0.5))
def test_fixed_depth_and_norm(net):
    assert net.depth == 2 and all(d <= 3 for d in net.widths)
    np.testing.assert_allclose(net.spectral_norms(), 0.5, rtol=NORM_MATCH, atol=0)


@given(relu_networks(depth=st.integers(2, 3), max_width=2), relu_networks(widths=st.just((2, 1))))
def test_depth_and_widths_from_strategies(net, fixed):
    assert net.depth in (2, 3) and max(net.widths) <= 2 and fixed.widths == (2, 1)


@given(relu_networks(max_width=4, violate=True))
def test_violate_really_violates(net):
    assert net.assumption_violations() and _finite(net)


@given(relu_networks(max_width=4, max_depth=3, violate="norm", spectral_norm=0.75))
def test_violate_norm_breaks_exactly_one_layer(net):
    norms = net.spectral_norms()
    above = norms > 1 + NORM_RTOL
    assert above.sum() == 1 and not net.has_bias
    low, high = VIOLATION_NORMS
    assert low * (1 - NORM_MATCH) <= norms[above][0] <= high * (1 + NORM_MATCH)
    np.testing.assert_allclose(norms[~above], 0.75, rtol=NORM_MATCH, atol=0)
    assert any("spectral norm" in reason for reason in net.assumption_violations())


@given(relu_networks(max_width=4, violate="bias"))
def test_violate_bias_adds_biases(net):
    assert net.has_bias and net.assumption_violations()[0].startswith("the network has biases")
    assert all(np.all(np.abs(b) <= 0.5) for b in net.biases)
    np.testing.assert_allclose(net.spectral_norms(), 1.0, rtol=NORM_MATCH, atol=0)


def test_unconstrained_networks_fall_on_both_sides():
    strategy = relu_networks(spectral_norm=st.floats(0.25, 4.0), bias=st.booleans(), violate=None)
    assert find(strategy, lambda net: net.assumption_violations() != []).assumption_violations()
    assert find(strategy, lambda net: not net.assumption_violations()).assumption_violations() == []


def test_suite_strategy_is_the_unconstrained_public_one():
    from .strategies import relu_networks as suite_networks

    nets = examples(suite_networks(max_width=3), 40, rng=0)
    assert {net.has_bias for net in nets} == {False, True}
    assert {bool(net.assumption_violations()) for net in nets} == {False, True}


def test_violate_false_refuses_a_drawn_violation():
    with pytest.raises(InvalidParameterError, match=r"`spectral_norm` must be at most 1"):
        examples(relu_networks(spectral_norm=st.just(2.0)), 1, rng=0)


@given(widths(min_depth=2, max_depth=3, min_width=2, max_width=4))
def test_widths_ranges(dims):
    assert 3 <= len(dims) <= 4 and all(2 <= d <= 4 for d in dims)


@given(epsilons(min_value=1e-4, max_value=0.2))
def test_epsilons_in_range(eps):
    assert 1e-4 <= eps <= 0.2


@given(subset_sum_instances(min_n=2, max_n=9))
def test_adversarial_instances(instance):
    values, target = instance
    assert values.dtype == np.float64 and 2 <= values.size <= 9
    assert np.all(np.isfinite(values)) and np.all(np.abs(values) <= 1) and abs(target) <= 2


@given(subset_sum_instances(n=st.integers(0, 5), distribution="gaussian", target=0.25))
def test_distribution_instances(instance):
    values, target = instance
    assert values.size <= 5 and np.all(np.isfinite(values)) and target == 0.25


def test_product_instances_follow_the_product_density():
    """docs/theory.md, section 3: u v of two Uniform[-1, 1] has CDF 1/2 + sign(z) (|z| - |z| ln|z|)
    / 2."""
    values = np.concatenate(
        [v for v, _ in examples(subset_sum_instances(n=500, distribution="product"), 8, rng=0)]
    )
    a = np.abs(values)
    assert values.size == 4000 and np.all(a <= 1)

    def cdf(z):
        m = np.abs(z)
        return 0.5 + np.sign(z) * 0.5 * (m - m * np.log(np.where(m > 0, m, 1.0)))

    assert stats.kstest(values, cdf).pvalue > 1e-3  # fixed seed: deterministic


def test_examples_are_reproducible():
    first = examples(relu_networks(max_width=3), 6, rng=7)
    again = examples(relu_networks(max_width=3), 6, rng=7)
    other = examples(relu_networks(max_width=3), 6, rng=8)

    def key(nets):
        return [(n.widths, n.weights[0].tobytes()) for n in nets]

    assert len(first) == 6 and key(first) == key(again) and key(first) != key(other)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: relu_networks(spectral_norm=2.0), r"`spectral_norm` must be at most 1 .*got 2.0"),
        (lambda: relu_networks(spectral_norm=0.0), r"`spectral_norm` must be in \(0, inf\)"),
        (lambda: relu_networks(bias=True), r"`bias` must be False .*got True"),
        (lambda: relu_networks(bias="yes"), r"`bias` must be a bool or a strategy; got 'yes'"),
        (lambda: relu_networks(violate="depth"), r"`violate` must be one of 'norm', 'bias'"),
        (lambda: relu_networks(widths=(3,)), r"`widths` must have at least 2 entries"),
        (lambda: relu_networks(widths="32"), r"`widths` must be None, a sequence"),
        (lambda: relu_networks(widths=(3, 0)), r"`widths\[1\]` must be in \[1, inf\]; got 0"),
        (lambda: relu_networks(widths=(3, 2), depth=1), r"`depth` must be None when `widths`"),
        (lambda: relu_networks(depth=0), r"`depth` must be in \[1, inf\]; got 0"),
        (lambda: relu_networks(max_width=0), r"`max_width` must be in \[1, inf\]; got 0"),
        (lambda: widths(min_width=3, max_width=2), r"`max_width` must be in \[3, inf\]; got 2"),
        (lambda: widths(min_depth=0), r"`min_depth` must be in \[1, inf\]; got 0"),
        (lambda: epsilons(min_value=0.0), r"`min_value` must be in \(0, 1\); got 0.0"),
        (lambda: epsilons(max_value=1.0), r"`max_value` must be in \[0.001, 1\); got 1.0"),
        (lambda: subset_sum_instances(n=-1), r"`n` must be in \[0, inf\]; got -1"),
        (lambda: subset_sum_instances(min_n=3, max_n=2), r"`max_n` must be in \[3, inf\]"),
        (lambda: subset_sum_instances(distribution="cauchy"), r"`distribution` must be a"),
        (
            lambda: subset_sum_instances(target=math.nan),
            r"`target` must be in \(-inf, inf\); got nan",
        ),
        (lambda: examples(3, 1), r"`strategy` must be a hypothesis strategy; got int"),
        (lambda: examples(seeds, 0), r"`count` must be in \[1, inf\]; got 0"),
    ],
)
def test_strategy_argument_errors(make, message):
    with pytest.raises(InvalidParameterError, match=message):
        make()


# ------------------------------------------------------------------------------------------
# Clopper-Pearson
# ------------------------------------------------------------------------------------------


def test_clopper_pearson_matches_scipy_binomtest():
    for n in (1, 7, 40):
        for k in range(n + 1):
            for confidence in (0.9, 0.95):
                expected = stats.binomtest(k, n).proportion_ci(confidence, method="exact")
                low, high = clopper_pearson(k, n, confidence=confidence)
                assert low == pytest.approx(expected.low, abs=1e-12)
                assert high == pytest.approx(expected.high, abs=1e-12)


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5])
@pytest.mark.parametrize("n", [40, 100])
def test_interval_coverage_is_near_nominal(p, n):
    """Over 4000 synthetic Bernoulli experiments the 95% interval covers p at a rate at least
    nominal (Clopper-Pearson is conservative), less 3 standard errors, and not wastefully more."""
    experiments = 4000
    failures = np.random.default_rng(12345).binomial(n, p, size=experiments)
    low, high = clopper_pearson(failures, n, confidence=0.95)
    coverage = np.mean((low <= p) & (p <= high))
    tolerance = 3 * math.sqrt(0.95 * 0.05 / experiments)
    assert 0.95 - tolerance <= coverage <= 0.985
    k = np.arange(n + 1)  # the exact coverage, an independent computation
    lo, hi = clopper_pearson(k, n)
    exact = stats.binom.pmf(k, n, p)[(lo <= p) & (p <= hi)].sum()
    assert abs(coverage - exact) <= 4 * math.sqrt(exact * (1 - exact) / experiments)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((3, 2), r"`failures` must be in \[0, trials\]"),
        ((0, 0), r"`trials` must be >= 1; got 0"),
        ((1.5, 3), r"`failures` must hold integers"),
        (([1, 2], [3, 4, 5]), r"`failures` and `trials` must broadcast"),
    ],
)
def test_clopper_pearson_errors(args, message):
    with pytest.raises(InvalidParameterError, match=message):
        clopper_pearson(*args)
    with pytest.raises(InvalidParameterError, match=r"`confidence` must be in \(0, 1\)"):
        clopper_pearson(1, 2, confidence=1.0)


# ------------------------------------------------------------------------------------------
# failure_rate
# ------------------------------------------------------------------------------------------


def _product_cdf_mass(a, b):
    """P(a <= u v <= b) for u, v i.i.d. Uniform[-1, 1]: antiderivative of -ln|z| / 2."""

    def h(z):
        m = min(abs(z), 1.0)
        return math.copysign(0.5 * (m - m * math.log(m)), z) if m > 0 else 0.0

    return h(b) - h(a)


def test_failure_rate_on_a_case_with_a_known_rate():
    """A 1x1 target w = 0.5 with two values per input. Each sign pool holds the products
    ``z = u v`` of its units (u > 0 or u < 0), and on a scalar input the pair errs by
    ``|A - w| x`` for x > 0 and ``|w - B| |x|`` for x < 0, so the true error over ``|x| <= 1`` is
    the larger of the two pools' best errors, ``w`` for an empty pool. The certificate is exact
    in one dimension (the lockstep bound is linear on each side of 0), so with ε = 0.45 < w a
    trial fails iff both units share a sign (probability 1/2), or else iff one of the two
    products misses w by more than ε; a product of uniforms has density ``-ln|z| / 2`` whatever
    the sign of u, so ``p_fail = 1/2 + (1 - q²) / 2`` with ``q = P(|z - w| <= ε)``."""
    w, eps = 0.5, 0.45
    target = ReLUNetwork([[[w]]])
    result = failure_rate(target, values_per_input=2, eps=eps, seeds=100, rng=3)
    q = _product_cdf_mass(w - eps, w + eps)
    p_fail = 0.5 + 0.5 * (1.0 - q**2)
    assert result.low <= p_fail <= result.high
    for seed, error in zip(result.seeds[0], result.errors[0]):  # every trial, recomputed
        u, v = RandomNetwork(int(seed), (1, 1), 2).gadget_weights(1)
        z = u[0] * v[0, 0]
        sides = []
        for pool in (z[u[0] > 0], z[u[0] < 0]):
            sums = [0.0, *pool, pool.sum()] if len(pool) == 2 else [0.0, *pool]
            sides.append(min(abs(total - w) for total in sums))
        exact = max(sides)
        assert exact <= error <= exact * (1 + 1e-6)  # sound, and tight in one dimension
    assert result.trials == 100 and result.failures == int(np.sum(result.errors > eps))


def test_failure_rate_draws_targets_and_replays():
    strategy = relu_networks(max_width=2, max_depth=2)
    first = failure_rate(strategy, values_per_input=4, eps=0.5, seeds=2, n_targets=3, rng=5)
    again = failure_rate(strategy, values_per_input=4, eps=0.5, seeds=2, n_targets=3, rng=5)
    assert len(first.targets) == 3 and first.seeds.shape == first.errors.shape == (3, 2)
    assert np.array_equal(first.seeds, again.seeds) and np.array_equal(first.errors, again.errors)
    assert not first.errors.flags.writeable
    i, j = 2, 1
    replay = approximate(first.targets[i], values_per_input=4, rng=int(first.seeds[i, j]))
    assert replay.report.certified == first.errors[i, j]
    measured = failure_rate(
        strategy, values_per_input=4, eps=0.5, seeds=2, n_targets=3, rng=5, criterion="measured"
    )
    assert np.all(measured.errors <= first.errors * (1 + AGREEMENT))
    assert first.target_failures.sum() == first.failures
    low, high = first.target_interval()
    assert low.shape == high.shape == (3,) and np.all(low <= high)
    assert str(first).startswith(f"{first.failures} failures in 6 trials (3 targets")


def test_failure_rate_values_per_input_from_a_function():
    targets = [ReLUNetwork.random((2, 3, 1), rng=0), ReLUNetwork.random((1, 1), rng=1)]
    result = failure_rate(
        targets,
        values_per_input=lambda t: [t.widths[0] + k for k in range(t.depth)],
        eps=1.0,
        seeds=1,
        rng=0,
    )
    assert result.values_per_input == ((2, 3), (1,))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"targets": "net"}, r"`targets` must be a ReLUNetwork, a non-empty sequence"),
        ({"targets": [ReLUNetwork([[[1.0]]]), 3]}, r"`targets\[1\]` must be a ReLUNetwork"),
        ({"n_targets": 2}, r"`n_targets` must be None when `targets` is not a strategy"),
        ({"values_per_input": [2, 2]}, r"`values_per_input` must be a positive integer or one"),
        ({"values_per_input": 0}, r"`values_per_input` must be in \[1, inf\]; got 0"),
        ({"values_per_input": lambda t: "2"}, r"`values_per_input\(target\)` must be"),
        ({"eps": 0.0}, r"`eps` must be in \(0, inf\); got 0.0"),
        ({"seeds": 0}, r"`seeds` must be in \[1, inf\]; got 0"),
        ({"criterion": "sampled"}, r"`criterion` must be one of 'certified', 'measured'"),
        (
            {"construction": "lueker"},
            r"`construction` must be one of 'pensia', 'malach', 'burkholz'",
        ),
        ({"solver": "gurobi"}, r"`solver` must be one of 'mitm'"),
        ({"distribution": "cauchy"}, r"`distribution` must be a Distribution or one of"),
        ({"radius": 0.0}, r"`radius` must be in \(0, inf\); got 0.0"),
        ({"confidence": 0.0}, r"`confidence` must be in \(0, 1\)"),
        ({"targets": seeds}, r"`targets` must be a strategy of ReLUNetwork"),
    ],
)
def test_failure_rate_errors(kwargs, message):
    args = {"targets": ReLUNetwork([[[1.0]]]), "values_per_input": 2, "eps": 0.1, "seeds": 2}
    args.update(kwargs)
    with pytest.raises(InvalidParameterError, match=message):
        failure_rate(args.pop("targets"), **args, rng=0)


# ------------------------------------------------------------------------------------------
# check_bound
# ------------------------------------------------------------------------------------------


def test_pensia_bound_is_the_theorem_rounded_up():
    target = ReLUNetwork.random((3, 4, 2), rng=0, bias=True)  # augmented widths (4, 5, 2)
    n = PensiaBound(C=1.5)(target, 0.1, 0.01)
    expected = tuple(math.ceil(1.5 * math.log(a * b * 2 / 0.01)) for a, b in [(4, 5), (5, 2)])
    assert n == expected
    assert n == tuple(
        math.ceil(v) for v in bounds.pensia_values_per_input([4, 5], [5, 2], 2, 0.1, 0.01, C=1.5)
    )
    with pytest.raises(InvalidParameterError, match=r"`C` must be in \(0, inf\); got -1.0"):
        PensiaBound(C=-1.0)


def test_check_bound_refutes_a_false_bound_and_shrinks_the_counterexample():
    """The bound is generous below input width 3 and far too small (one value per input, so
    τ >= ||W||_2 = 1) from 3 on: the minimal counterexample has widths (3, 1)."""

    def bound(target, eps, delta):
        return 1 if target.widths[0] >= 3 else 48

    strategy = relu_networks(widths=widths(max_depth=1, max_width=5))
    result = check_bound(
        bound, strategy, eps=0.5, delta=0.2, seeds=8, n_targets=6, rng=2, search_examples=30
    )
    assert not result.passed and result.status is not BoundStatus.HOLDS
    assert result.shrunk is not None and result.counterexample is result.shrunk.targets[0]
    assert result.counterexample.widths == (3, 1)
    assert result.counterexample.assumption_violations() == []  # it is from the class
    assert result.shrunk.low > 0.2 and result.shrunk.failures == 8
    assert result.counterexamples and all(t.widths[0] >= 3 for t in result.counterexamples)
    assert "counterexample: ReLUNetwork(widths=(3, 1)" in str(result)


def _generous(target, eps, delta):
    return 48


def test_check_bound_passes_a_true_bound():
    strategy = relu_networks(widths=widths(max_depth=1, max_width=2))
    result = check_bound(_generous, strategy, eps=0.5, delta=0.1, seeds=10, n_targets=4, rng=0)
    assert result.passed and result.status is BoundStatus.HOLDS
    assert result.estimate.failures == 0 and result.estimate.high <= 0.1
    assert result.shrunk is None and result.counterexamples == () and result.counterexample is None
    assert result.search == "not run (the bound holds)"
    assert str(result).startswith("_generous at eps = 0.5, delta = 0.1: HOLDS")


def test_check_bound_with_too_few_seeds_is_inconclusive():
    strategy = relu_networks(widths=(1, 1))
    result = check_bound(
        _generous, strategy, eps=0.5, delta=0.1, seeds=3, n_targets=2, rng=0, search_examples=5
    )
    assert result.status is BoundStatus.INCONCLUSIVE and not result.passed
    assert result.estimate.failures == 0 and result.shrunk is None
    assert result.search.startswith("no violating target among 5 generated")
    tiny = check_bound(_generous, [ReLUNetwork([[[1.0]]])], eps=0.5, delta=0.1, seeds=1, rng=0)
    assert tiny.status is BoundStatus.INCONCLUSIVE and tiny.search.startswith("not run (targets")


def test_check_bound_lists_counterexamples_of_given_targets():
    """One value per input: the pool that must reach w holds at most one product, so
    ``τ >= |w|`` for w = 1, while ``τ <= sqrt(2) |w| < 0.05`` for w = 0.01."""
    easy, hard = ReLUNetwork([[[0.01]]]), ReLUNetwork([[[1.0]]])
    result = check_bound(lambda t, e, d: 1, [easy, hard], eps=0.05, delta=0.1, seeds=6, rng=0)
    assert result.status is BoundStatus.VIOLATED  # 6 of 12: the interval lies above 0.1
    assert result.counterexamples == (hard,) and result.counterexample is hard
    assert result.estimate.target_failures.tolist() == [0, 6]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bound": 3}, r"`bound` must be callable; got 3"),
        ({"bound": lambda t, e, d: 0}, r"`bound\(target, eps, delta\)` must be in \[1, inf\]"),
        ({"bound": lambda t, e, d: (2, 2)}, r"`bound\(target, eps, delta\)` must be a positive"),
        ({"delta": 1.0}, r"`delta` must be in \(0, 1\); got 1.0"),
        ({"search_examples": 0}, r"`search_examples` must be in \[1, inf\]; got 0"),
        ({"search_budget": 0}, r"`search_budget` must be in \[1, inf\]; got 0"),
    ],
)
def test_check_bound_errors(kwargs, message):
    args = {"bound": lambda t, e, d: 2, "eps": 0.1, "delta": 0.1, "seeds": 1}
    args.update(kwargs)
    with pytest.raises(InvalidParameterError, match=message):
        check_bound(args.pop("bound"), ReLUNetwork([[[1.0]]]), **args, rng=0)


# ------------------------------------------------------------------------------------------
# check_ticket
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bias", "construction"), [(False, "pensia"), (True, "pensia"), (False, "malach")]
)
def test_check_ticket_passes_real_tickets(bias, construction):
    target = ReLUNetwork.random((3, 4, 2), rng=1, bias=bias)
    with pytest.warns(TheoryAssumptionWarning) if bias else contextlib.nullcontext():
        ticket = approximate(target, values_per_input=12, construction=construction, rng=4)
    eps = ticket.report.certified * 1.01
    check = check_ticket(target, ticket, eps, rng=0)
    assert check.passed, str(check)
    assert check.mask_mismatches == 0 and check.gadget_gap <= AGREEMENT
    assert check.measured <= check.certified and check.sampled <= check.certified
    assert check.certified == pytest.approx(ticket.report.certified, rel=AGREEMENT)
    assert check.reported == ticket.report.certified


def test_check_ticket_reads_a_loaded_report(tmp_path):
    target = ReLUNetwork.random((2, 2), rng=3)
    approximate(target, values_per_input=8, rng=2).save(tmp_path / "t.npz")
    loaded = Ticket.load(tmp_path / "t.npz")
    check = check_ticket(target, loaded, 1.0, rng=0)
    assert check.passed and check.reported == loaded.report["certified"]


@settings(max_examples=8)
@given(target=relu_networks(max_width=3, max_depth=2), n=st.integers(1, 6), seed=seeds)
def test_check_ticket_on_drawn_targets(target, n, seed):
    ticket = approximate(target, values_per_input=n, rng=seed)
    check = check_ticket(target, ticket, ticket.report.certified + 1e-9, rng=seed)
    assert check.passed, str(check)
    strict = check_ticket(target, ticket, check.certified / 2, rng=seed)
    assert strict.failures == (
        f"certified error {check.certified:.6e} exceeds eps = {check.certified / 2:g}",
    )


@pytest.fixture(scope="module")
def pair():
    target = ReLUNetwork.random((2, 3, 2), rng=0)
    return target, approximate(target, values_per_input=10, rng=1)


def test_check_ticket_catches_a_weight_that_is_not_the_random_one(pair, monkeypatch):
    target, ticket = pair
    honest = Ticket.pruned_network

    def tampered(self, **kwargs):
        net = honest(self, **kwargs)
        weights = [w.copy() for w in net.weights]
        row, col = self.masks[1][0]
        weights[1][row, col] += 0.25
        return ReLUNetwork(weights)

    monkeypatch.setattr(Ticket, "pruned_network", tampered)
    check = check_ticket(target, ticket, 10.0, rng=0)
    assert check.mask_mismatches == 1 and check.gadget_gap > 1e-3 and not check.passed
    assert "1 pruned weights are not the random weight times the mask" in check.failures


def test_check_ticket_catches_a_wrong_gadget_and_a_false_certificate(pair, monkeypatch):
    target, ticket = pair
    monkeypatch.setattr(Ticket, "gadgets", lambda self: [(w, w) for w in target.weights])
    check = check_ticket(target, ticket, 10.0, rng=0)  # the masks claim A = B = W: certified 0
    # the bounds of the dense pruned network are honest, and they disagree with that claim
    assert check.certified > 0 and check.gadget_gap > 1e-3 and not check.passed
    assert check.measured <= check.certified * (1 + 1e-9)
    reasons = " | ".join(check.failures)
    for expected in (
        "differs from A relu(h) - B relu(-h)",
        "is not the one recomputed from the masks",
    ):
        assert expected in reasons


def test_check_ticket_of_another_target_fails(pair):
    _, ticket = pair
    other = ReLUNetwork.random((2, 3, 2), rng=99)
    check = check_ticket(other, ticket, 0.1, rng=0)
    assert not check.passed and check.certified > 0.1 and check.mask_mismatches == 0


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("net", None, 0.1), {}, r"`target` must be a ReLUNetwork; got str"),
        ((None, "t", 0.1), {}, r"`ticket` must be a Ticket; got str"),
        ((None, None, 0.0), {}, r"`eps` must be in \(0, inf\); got 0.0"),
        ((None, None, 0.1), {"samples": 0}, r"`samples` must be in \[1, inf\]; got 0"),
        ((None, None, 0.1), {"radius": -1.0}, r"`radius` must be in \(0, inf\)"),
    ],
)
def test_check_ticket_errors(pair, args, kwargs, message):
    target, ticket = pair
    target = target if args[0] is None else args[0]
    ticket = ticket if args[1] is None else args[1]
    with pytest.raises(InvalidParameterError, match=message):
        check_ticket(target, ticket, args[2], **kwargs)
    with pytest.raises(InvalidParameterError, match=r"`ticket` must prune a random network"):
        check_ticket(ReLUNetwork.random((3, 3, 2), rng=0), pair[1], 0.1)
