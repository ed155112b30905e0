"""Tests of strong_lth.random_network: the counter-based generator against a pure-Python
transcription of its documented formula, determinism, nesting, the gadget weights,
materialisation, the statistics of the weights it draws, sparse random networks and every error
message (the distributions alone: tests/test_distributions.py)."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from strong_lth import InvalidParameterError, random_network
from strong_lth.distributions import Gaussian, Uniform
from strong_lth.random_network import RandomNetwork, uniform_bits

from .strategies import seeds

Z = 5.0
"""Statistics tests run at fixed seeds, so they are deterministic; each still allows ``Z``
standard errors for its sample size N (a mean has standard error ``sd / sqrt(N)``, a Pearson
correlation of independent samples ``1 / sqrt(N)``), so a correct generator would pass at any
seed with probability about 1 - 6e-7 per check."""

KS_P_MIN = 1e-3
"""Kolmogorov-Smirnov p-value below which uniformity or the target CDF is rejected."""

MASK = 2**64 - 1
GOLDEN = 0x9E3779B97F4A7C15


def mix64_reference(z):
    """SplitMix64 finaliser on Python ints, transcribed from the uniform_bits docstring."""
    z ^= z >> 30
    z = (z * 0xBF58476D1CE4E5B9) & MASK
    z ^= z >> 27
    z = (z * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def uniform_reference(seed, layer, row, col):
    """One number of uniform_bits, regenerated from the documented formula alone."""
    key = mix64_reference((mix64_reference(seed) + layer * GOLDEN) & MASK)
    h = mix64_reference((mix64_reference((key + row * GOLDEN) & MASK) + col * GOLDEN) & MASK)
    return ((h >> 12) + 0.5) * 2.0**-52


def grid(seed=2024, layer=1, side=512):
    """``side**2`` uniforms from one seed and layer."""
    return uniform_bits(seed, layer, np.arange(side)[:, None], np.arange(side)[None, :])


def test_reference_mix64_is_splitmix64():
    # First output of the published SplitMix64 generator seeded with 0 (Vigna, splitmix64.c).
    assert mix64_reference(GOLDEN) == 0xE220A8397B1DCDAF


@pytest.mark.parametrize(
    ("seed", "layer", "row", "col"),
    [(0, 0, 0, 0), (1, 1, 2, 3), (2**64 - 1, 7, 10**6, 5), (123456789, 2**64 - 1, 3, 2**40)],
)
def test_uniform_bits_follows_documented_formula(seed, layer, row, col):
    assert uniform_bits(seed, layer, row, col) == uniform_reference(seed, layer, row, col)


def test_uniform_bits_lie_on_the_midpoint_grid():
    u = grid(side=256)
    cells = u * 2.0**52 - 0.5
    assert np.all((u > 0.0) & (u < 1.0))
    np.testing.assert_array_equal(cells, np.round(cells))
    assert cells.min() >= 0 and cells.max() < 2**52


def test_uniform_bits_moments_and_ks():
    u = grid().ravel()
    n = u.size
    assert abs(u.mean() - 0.5) < Z * np.sqrt(1 / 12 / n)
    # Var((U - 1/2)^2) = 1/80 - 1/144 = 1/180 for U ~ Uniform(0, 1).
    assert abs(np.mean((u - 0.5) ** 2) - 1 / 12) < Z * np.sqrt(1 / 180 / n)
    assert stats.kstest(u, "uniform").pvalue > KS_P_MIN


@pytest.mark.parametrize(
    "neighbour",
    [
        lambda u: (u[:-1], u[1:]),  # neighbouring rows
        lambda u: (u[:, :-1], u[:, 1:]),  # neighbouring columns
        lambda u: (u, grid(layer=2)),  # neighbouring layers
        lambda u: (u, grid(seed=2025)),  # neighbouring seeds
    ],
    ids=["rows", "cols", "layers", "seeds"],
)
def test_uniform_bits_neighbours_uncorrelated(neighbour):
    a, b = neighbour(grid())
    r = np.corrcoef(a.ravel(), b.ravel())[0, 1]
    assert abs(r) < Z / np.sqrt(a.size)


@given(seeds, st.integers(0, 10), st.lists(st.integers(0, 1000), min_size=1, max_size=20))
def test_uniform_bits_alone_batch_and_permuted_agree(seed, layer, rows):
    rows = np.array(rows)
    cols = rows[::-1] * 3
    batch = uniform_bits(seed, layer, rows, cols)
    alone = np.array([uniform_bits(seed, layer, r, c) for r, c in zip(rows, cols, strict=True)])
    order = np.random.default_rng(seed).permutation(rows.size)
    np.testing.assert_array_equal(batch, alone)
    np.testing.assert_array_equal(batch[order], uniform_bits(seed, layer, rows[order], cols[order]))


def test_entries_alone_batch_permuted_and_matrix_are_identical():
    g = RandomNetwork(seed=9, widths=(3, 5, 2), values_per_input=(4, 3))
    for layer, (n_rows, n_cols) in enumerate(g.shapes, start=1):
        dense = g.matrix(layer)
        assert dense.shape == (n_rows, n_cols)
        rows, cols = np.indices((n_rows, n_cols)).reshape(2, -1)
        order = np.random.default_rng(layer).permutation(rows.size)
        np.testing.assert_array_equal(g.entries(layer, rows, cols), dense.ravel())
        np.testing.assert_array_equal(
            g.entries(layer, rows[order], cols[order]), dense.ravel()[order]
        )
        alone = [g.entries(layer, r, c) for r, c in zip(rows, cols, strict=True)]
        np.testing.assert_array_equal(alone, dense.ravel())
        assert g.entries(layer, 0, 0).shape == ()


@pytest.mark.parametrize("source_density", [1.0, 0.3])
@pytest.mark.parametrize(
    ("widths", "small", "large"),
    [((3, 4), 1, 2), ((2, 5, 3), (2, 3), (3, 4)), ((4, 1, 3, 2), (1, 2, 5), (2, 3, 6))],
)
def test_nesting_smaller_network_is_prefix_of_larger(widths, small, large, source_density):
    g_small = RandomNetwork(4, widths, small, source_density=source_density)
    g_large = g_small.with_values_per_input(large)
    for layer in range(1, g_small.depth + 1):
        a, b = g_small.matrix(layer), g_large.matrix(layer)
        if layer % 2:  # M_{2i-1}: hidden units are rows
            assert a.tobytes() == np.ascontiguousarray(b[: a.shape[0]]).tobytes()
        else:  # M_{2i}: hidden units are columns
            assert a.tobytes() == np.ascontiguousarray(b[:, : a.shape[1]]).tobytes()


def test_changing_one_layer_width_leaves_other_layers_unchanged():
    g = RandomNetwork(seed=4, widths=(2, 3, 2), values_per_input=(2, 2))
    h = g.with_values_per_input((2, 5))
    np.testing.assert_array_equal(g.matrix(1), h.matrix(1))
    np.testing.assert_array_equal(g.matrix(2), h.matrix(2))


@given(
    seeds,
    st.lists(st.integers(1, 4), min_size=2, max_size=4),
    st.integers(1, 4),
    st.sampled_from([1.0, 0.5, 0.1]),
)
def test_gadget_weights_agree_with_matrix(seed, widths, n, source_density):
    g = RandomNetwork(seed=seed, widths=widths, values_per_input=n, source_density=source_density)
    for i in range(1, len(widths)):
        d_in, d_out = widths[i - 1], widths[i]
        first, second = g.matrix(2 * i - 1), g.matrix(2 * i)
        u, v = g.gadget_weights(i)
        assert u.shape == (d_in, n)
        assert v.shape == (d_out, d_in, n)
        for j in range(d_in):
            for k in range(n):
                assert u[j, k] == first[k * d_in + j, j]
                for r in range(d_out):
                    assert v[r, j, k] == second[r, k * d_in + j]


def test_same_seed_identical_different_seed_different():
    a = RandomNetwork(seed=3, widths=(4, 3), values_per_input=5)
    b = RandomNetwork(seed=3, widths=[4, 3], values_per_input=[5])
    c = RandomNetwork(seed=4, widths=(4, 3), values_per_input=5)
    assert a == b
    for layer in (1, 2):
        np.testing.assert_array_equal(a.matrix(layer), b.matrix(layer))
        assert not np.any(a.matrix(layer) == c.matrix(layer))


def test_properties():
    g = RandomNetwork(seed=0, widths=(3, 4, 2), values_per_input=(5, 2), distribution="normal")
    assert g.depth == 4
    assert g.hidden_widths == (15, 8)
    assert g.shapes == [(15, 3), (4, 15), (8, 4), (2, 8)]
    assert g.n_params == g.n_positions == 45 + 60 + 32 + 16
    assert g.dense_bytes() == 8 * g.n_positions
    assert g.source_density == 1.0
    assert g.distribution == Gaussian()
    assert RandomNetwork(seed=0, widths=(3, 4, 2), values_per_input=6).values_per_input == (6, 6)
    assert RandomNetwork(seed=0, widths=(1, 1), values_per_input=1).distribution == Uniform()
    with pytest.raises(AttributeError):
        g.seed = 1


@pytest.mark.parametrize("source_density", [1.0, 0.4])
def test_materialize_is_the_dense_network(source_density):
    g = RandomNetwork(6, (3, 4, 2), (2, 3), source_density=source_density)
    net = g.materialize()
    assert net.depth == g.depth == 4
    assert net.widths == (3, 6, 4, 12, 2)
    assert not net.has_bias
    for layer, w in enumerate(net.weights, start=1):
        np.testing.assert_array_equal(w, g.matrix(layer))
    x = np.random.default_rng(0).normal(size=(7, 3))
    h = x
    for layer in range(1, 4):
        h = np.maximum(h @ g.matrix(layer).T, 0.0)
    np.testing.assert_array_equal(net.forward(x), h @ g.matrix(4).T)
    assert g.materialize(max_bytes=g.dense_bytes()).depth == 4


@pytest.mark.parametrize("a", [0.25, 1.0, 3.0])
def test_uniform_weights_range_and_statistics(a):
    w = RandomNetwork(seed=17, widths=(1, 1), values_per_input=2**18, distribution=Uniform(a))
    x = w.matrix(1).ravel()
    n = x.size
    assert np.all((x > -a) & (x < a) & (x != 0.0))
    assert abs(x.mean()) < Z * a / np.sqrt(3 * n)
    # Var(X^2) = E X^4 - (E X^2)^2 = a^4 / 5 - a^4 / 9 = 4 a^4 / 45 for X ~ Uniform[-a, a].
    assert abs(np.mean(x**2) - a**2 / 3) < Z * a**2 * np.sqrt(4 / 45 / n)
    assert stats.kstest(x, stats.uniform(loc=-a, scale=2 * a).cdf).pvalue > KS_P_MIN


@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.0])
def test_gaussian_weights_moments(sigma):
    g = RandomNetwork(seed=23, widths=(1, 1), values_per_input=2**18, distribution=Gaussian(sigma))
    x = g.matrix(1).ravel()
    n = x.size
    assert abs(x.mean()) < Z * sigma / np.sqrt(n)
    # Var(X^2) = 3 sigma^4 - sigma^4 = 2 sigma^4 for X ~ N(0, sigma^2).
    assert abs(np.mean(x**2) - sigma**2) < Z * sigma**2 * np.sqrt(2 / n)
    # Var(X^4) = 105 sigma^8 - 9 sigma^8 = 96 sigma^8: the fourth moment checks the tails.
    assert abs(np.mean(x**4) - 3 * sigma**4) < Z * sigma**4 * np.sqrt(96 / n)
    assert stats.kstest(x, stats.norm(scale=sigma).cdf).pvalue > KS_P_MIN


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((-1, 0, 0, 0), "`seed` must be in [0, 18446744073709551615]; got -1."),
        (
            (2**64, 0, 0, 0),
            "`seed` must be in [0, 18446744073709551615]; got 18446744073709551616.",
        ),
        ((0, -1, 0, 0), "`layer` must be in [0, 18446744073709551615]; got -1."),
        ((0, 1.0, 0, 0), "`layer` must be an integer; got 1.0."),
        ((0, 0, [0, -2], 0), "`rows` must be in [0, inf); got values in [-2, 0]."),
        ((0, 0, 0, [0.5]), "`cols` must hold integers; got non-integer values."),
        (
            (0, 0, [0, 1], [0, 1, 2]),
            "`rows` and `cols` must be broadcastable; got shapes (2,) and (3,).",
        ),
    ],
)
def test_uniform_bits_errors(args, message):
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        uniform_bits(*args)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seed": -1}, "`seed` must be in [0, 18446744073709551615]; got -1."),
        ({"seed": True}, "`seed` must be an integer; got True."),
        ({"widths": (3,)}, "`widths` must have at least 2 entries; got 1."),
        ({"widths": (3, 0)}, "`widths[1]` must be in [1, inf]; got 0."),
        ({"widths": 3}, "`widths` must be a sequence of integers; got 3."),
        ({"values_per_input": 0}, "`values_per_input[0]` must be in [1, inf]; got 0."),
        ({"values_per_input": (2, 0)}, "`values_per_input[1]` must be in [1, inf]; got 0."),
        (
            {"values_per_input": (1, 2, 3)},
            "`values_per_input` must have one entry per target layer (2); got 3.",
        ),
        ({"values_per_input": 1.5}, "`values_per_input` must be a sequence of integers; got 1.5."),
        ({"source_density": 0.0}, "`source_density` must be in (0, 1]; got 0.0."),
        ({"source_density": 1.5}, "`source_density` must be in (0, 1]; got 1.5."),
        ({"source_density": -0.2}, "`source_density` must be in (0, 1]; got -0.2."),
        ({"source_density": np.nan}, "`source_density` must be in (0, 1]; got nan."),
        ({"source_density": np.inf}, "`source_density` must be in (0, 1]; got inf."),
        ({"source_density": True}, "`source_density` must be a real number; got True."),
        ({"source_density": "0.5"}, "`source_density` must be a real number; got '0.5'."),
        (
            {"distribution": "laplace"},
            "`distribution` must be a Distribution or one of 'uniform', 'gaussian', 'normal', "
            "'hyperbolic'; got 'laplace'.",
        ),
    ],
)
def test_random_network_constructor_errors(kwargs, message):
    fields = {"seed": 0, "widths": (3, 4, 2), "values_per_input": 2} | kwargs
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        RandomNetwork(**fields)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda g: g.entries(0, 0, 0), "`layer` must be in [1, 4]; got 0."),
        (lambda g: g.entries(5, 0, 0), "`layer` must be in [1, 4]; got 5."),
        (lambda g: g.entries(1, [0, 6], 0), "`rows` must be in [0, 5]; got values in [0, 6]."),
        (lambda g: g.entries(2, 0, [-1]), "`cols` must be in [0, 5]; got values in [-1, -1]."),
        (lambda g: g.entries(4, 0, 8), "`cols` must be in [0, 7]; got values in [8, 8]."),
        (
            lambda g: g.entries(1, [0, 1], [0, 1, 2]),
            "`rows` and `cols` must be broadcastable; got shapes (2,) and (3,).",
        ),
        (lambda g: g.matrix(7), "`layer` must be in [1, 4]; got 7."),
        (lambda g: g.present(0, 0, 0), "`layer` must be in [1, 4]; got 0."),
        (lambda g: g.present(3, [0, 8], 0), "`rows` must be in [0, 7]; got values in [0, 8]."),
        (
            lambda g: g.present(1, [0, 1], [0, 1, 2]),
            "`rows` and `cols` must be broadcastable; got shapes (2,) and (3,).",
        ),
        (lambda g: g.with_values_per_input(2).present(2, 0, 0.5), "`cols` must hold integers"),
        (lambda g: g.gadget_weights(0), "`i` must be in [1, 2]; got 0."),
        (lambda g: g.gadget_weights(3), "`i` must be in [1, 2]; got 3."),
        (
            lambda g: g.with_values_per_input(0),
            "`values_per_input[0]` must be in [1, inf]; got 0.",
        ),
        (lambda g: g.materialize(max_bytes=-1), "`max_bytes` must be in [0, inf]; got -1."),
        (
            lambda g: g.materialize(max_bytes=100),
            "`max_bytes` must be at least 720 to materialize this network "
            "(dense float64 weights); got 100.",
        ),
    ],
)
def test_random_network_method_errors(call, message):
    g = RandomNetwork(seed=0, widths=(3, 4, 2), values_per_input=2)
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        call(g)


# ---- sparse random networks (source_density < 1) -------------------------------------------


def dense_reference(g, layer):
    """``M_layer`` of the dense network, from the documented formula: F^{-1}(uniform_bits)."""
    n_rows, n_cols = g.shapes[layer - 1]
    rows, cols = np.arange(n_rows)[:, None], np.arange(n_cols)[None, :]
    return g.distribution.from_uniform(uniform_bits(g.seed, layer, rows, cols))


def presence_reference(g, layer):
    """Presence of ``M_layer`` from the documented formula: u(seed, 2**63 + layer) < p."""
    n_rows, n_cols = g.shapes[layer - 1]
    rows, cols = np.arange(n_rows)[:, None], np.arange(n_cols)[None, :]
    return uniform_bits(g.seed, 2**63 + layer, rows, cols) < g.source_density


@pytest.mark.parametrize("distribution", ["uniform", "gaussian", "hyperbolic"])
def test_source_density_one_is_todays_network_bit_for_bit(distribution):
    dense = RandomNetwork(5, (3, 4, 2), (3, 2), distribution)
    one = RandomNetwork(5, (3, 4, 2), (3, 2), distribution, source_density=1)
    assert one == dense and one.source_density == 1.0
    assert one.n_params == one.n_positions == dense.n_params
    for layer in range(1, dense.depth + 1):
        expected = dense_reference(dense, layer)
        assert one.matrix(layer).tobytes() == expected.tobytes()
        assert np.all(one.present(layer, *np.indices(expected.shape)))
    for i in (1, 2):
        for a, b in zip(one.gadget_weights(i), dense.gadget_weights(i), strict=True):
            assert a.tobytes() == b.tobytes()
    for a, b in zip(one.materialize().weights, dense.materialize().weights, strict=True):
        assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("p", [0.05, 0.3, 0.9])
def test_presence_fraction_is_binomial(p):
    g = RandomNetwork(29, (1, 1), 2**18, source_density=p)
    for layer in (1, 2):
        n = g.shapes[layer - 1][0] * g.shapes[layer - 1][1]
        kept = np.count_nonzero(g.matrix(layer))
        assert abs(kept / n - p) < Z * np.sqrt(p * (1 - p) / n)
        assert kept == np.count_nonzero(g.present(layer, *np.indices(g.shapes[layer - 1])))
    assert g.n_params == np.count_nonzero(g.matrix(1)) + np.count_nonzero(g.matrix(2))


def test_presence_is_independent_of_the_weights():
    # Present weights still follow Uniform[-1, 1]: presence ignores the weight values ...
    g = RandomNetwork(31, (1, 1), 2**18, source_density=0.3)
    x = g.matrix(1).ravel()
    present = x[x != 0]
    assert stats.kstest(present, stats.uniform(loc=-1, scale=2).cdf).pvalue > KS_P_MIN
    # ... and the presence uniforms are uncorrelated with the weight uniforms.
    rows, cols = np.arange(2**18), 0
    r = np.corrcoef(uniform_bits(31, 1, rows, cols), uniform_bits(31, 2**63 + 1, rows, cols))
    assert abs(r[0, 1]) < Z / np.sqrt(2**18)


@pytest.mark.parametrize("p", [0.2, 0.7])
def test_absent_weights_are_zero_wherever_read(p):
    g = RandomNetwork(13, (3, 4, 2), (4, 3), "hyperbolic", source_density=p)
    dense = RandomNetwork(13, (3, 4, 2), (4, 3), "hyperbolic")
    net = g.materialize()
    for layer in range(1, g.depth + 1):
        present = presence_reference(g, layer)
        assert 0 < present.sum() < present.size  # both kinds occur at this seed
        expected = np.where(present, dense_reference(g, layer), 0.0)
        assert g.matrix(layer).tobytes() == expected.tobytes()
        assert net.weights[layer - 1].tobytes() == expected.tobytes()
        np.testing.assert_array_equal(g.present(layer, *np.indices(present.shape)), present)
        rows, cols = np.nonzero(~present)
        assert np.all(g.entries(layer, rows, cols) == 0.0)
        assert all(g.entries(layer, r, c) == 0.0 for r, c in zip(rows, cols, strict=True))
        rows, cols = np.nonzero(present)
        np.testing.assert_array_equal(g.entries(layer, rows, cols), dense.matrix(layer)[present])
        assert np.all(g.entries(layer, rows, cols) != 0.0)
    assert g.n_params == sum(int(presence_reference(g, j).sum()) for j in range(1, 5))
    assert g.n_positions == dense.n_params and g.dense_bytes() == dense.dense_bytes()


def test_presence_reference_matches_the_pure_python_formula():
    g = RandomNetwork(2**64 - 1, (5, 3), 4, source_density=0.5)
    for layer, shape in enumerate(g.shapes, start=1):
        rows, cols = np.indices(shape)
        u = [
            uniform_reference(g.seed, 2**63 + layer, int(r), int(c))
            for r, c in zip(rows.flat, cols.flat)
        ]
        expected = np.reshape(u, shape) < 0.5
        np.testing.assert_array_equal(g.present(layer, rows, cols), expected)
        np.testing.assert_array_equal(g.matrix(layer) != 0, expected)


def test_sparse_networks_are_nested_in_density():
    small, large = (RandomNetwork(8, (4, 3), 6, source_density=p) for p in (0.2, 0.6))
    for layer in (1, 2):
        a, b = small.matrix(layer), large.matrix(layer)
        assert np.all(b[a != 0] == a[a != 0])  # present at 0.2 => present at 0.6, same value
        assert np.count_nonzero(a) < np.count_nonzero(b)
    assert small.with_values_per_input(9).source_density == 0.2


def test_sparse_generation_is_memory_bounded_and_exact(monkeypatch):
    # Tiny slabs (7 numbers) give the same bits as one slab: the slab loop honours presence.
    g = RandomNetwork(17, (5, 6, 3), (4, 3), "gaussian", source_density=0.35)
    whole = [g.matrix(layer) for layer in range(1, 5)]
    present = [g.present(layer, *np.indices(w.shape)) for layer, w in enumerate(whole, 1)]
    count = g.n_params
    monkeypatch.setattr(random_network, "_BLOCK", 7)
    h = RandomNetwork(17, (5, 6, 3), (4, 3), "gaussian", source_density=0.35)
    assert h.n_params == count == sum(int(np.count_nonzero(w)) for w in whole)
    for layer, (w, mask) in enumerate(zip(whole, present, strict=True), start=1):
        assert h.matrix(layer).tobytes() == w.tobytes()
        np.testing.assert_array_equal(h.present(layer, *np.indices(w.shape)), mask)
    for i in (1, 2):
        for a, b in zip(h.gadget_weights(i), g.gadget_weights(i), strict=True):
            assert a.tobytes() == b.tobytes()
