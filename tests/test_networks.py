"""Tests of strong_lth.networks: forward pass against a naive loop, bias augmentation, npz round
trips, random sampling, rescaling, assumption reports and every error message."""

import re

import numpy as np
import pytest
from hypothesis import given

from strong_lth import InvalidParameterError
from strong_lth.networks import NORM_RTOL, ReLUNetwork

from .strategies import relu_networks, seeds

ROUNDING = 1e-12
"""Two evaluations of the same network that group the same sums differently (a bias added apart
or as one more term of a dot product; matrix-vector vs matrix-matrix BLAS kernels; BLAS vs a
scalar loop) differ only by rounding. By the standard forward error bound (Higham ch. 3) each
differs from the exact value by at most about ``l (d + 1) u`` times the absolute network
``|W_l| ··· |W_1| |x| (+ |b|)`` (:func:`magnitude`); with depth l <= 3 and widths d <= 6 that is
below 25 u. We allow 1e-12 (about 4500 u) times that magnitude: far above rounding, far below
any real discrepancy."""


def magnitude(net, x):
    """Largest entry of the absolute network ``|W_l|(··· |W_1| |x| + |b_1| ···) + |b_l|``."""
    h = np.abs(np.atleast_2d(x))
    for i, w in enumerate(net.weights):
        h = h @ np.abs(w).T + (np.abs(net.biases[i]) if net.has_bias else 0.0)
    return float(np.max(h))


def naive_forward(net, x):
    """Scalar loops over batch, layers and units: the definition of docs/theory.md, section 1."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    biases = net.biases or [np.zeros(w.shape[0]) for w in net.weights]
    out = []
    for sample in x:
        h = list(sample)
        for i, (w, b) in enumerate(zip(net.weights, biases, strict=True)):
            h = [sum(w[r, c] * h[c] for c in range(w.shape[1])) + b[r] for r in range(w.shape[0])]
            if i < net.depth - 1:
                h = [max(t, 0.0) for t in h]
        out.append(h)
    return np.array(out)


def inputs(net, seed, batch=5):
    return np.random.default_rng(seed).normal(size=(batch, net.widths[0]))


@given(relu_networks(), seeds)
def test_forward_matches_naive_loop(net, seed):
    x = inputs(net, seed)
    expected = naive_forward(net, x)
    batch = net.forward(x)
    assert batch.shape == (len(x), net.widths[-1])
    np.testing.assert_allclose(batch, expected, rtol=0, atol=ROUNDING * magnitude(net, x))
    single = net.forward(x[0])
    assert single.shape == (net.widths[-1],)
    np.testing.assert_allclose(single, batch[0], rtol=0, atol=ROUNDING * magnitude(net, x))


@given(relu_networks(), seeds)
def test_augmented_is_equivalent_and_bias_free(net, seed):
    x = inputs(net, seed)
    aug = net.augmented()
    assert not aug.has_bias
    if not net.has_bias:
        assert aug is net
        return
    d = net.widths
    assert aug.widths == (d[0] + 1, *(w + 1 for w in d[1:-1]), d[-1])
    expected = net.forward(x)
    got = aug.forward(np.column_stack([x, np.ones(len(x))]))
    np.testing.assert_allclose(got, expected, rtol=0, atol=ROUNDING * magnitude(net, x))


def test_augmented_layer_blocks():
    net = ReLUNetwork([[[1.0, 2.0]], [[3.0], [4.0]]], biases=[[5.0], [6.0, 7.0]])
    first, last = net.augmented().weights
    np.testing.assert_array_equal(first, [[1.0, 2.0, 5.0], [0.0, 0.0, 1.0]])
    np.testing.assert_array_equal(last, [[3.0, 6.0], [4.0, 7.0]])


def test_properties_and_repr():
    net = ReLUNetwork([np.array([[1.0, 0.0, 2.0]] * 2), [[0.0, 3.0]]], biases=[[0, 1], [0]])
    assert net.widths == (3, 2, 1)
    assert net.depth == 2
    assert net.has_bias
    assert net.n_params == 6 + 2 + 2 + 1
    assert net.n_nonzero == 4 + 1 + 1
    assert repr(net) == "ReLUNetwork(widths=(3, 2, 1), bias=True)"
    assert (
        repr(ReLUNetwork.random((8, 16, 4), rng=0)) == "ReLUNetwork(widths=(8, 16, 4), bias=False)"
    )


def test_arrays_are_read_only_float64_copies():
    w = np.array([[1, 2]], dtype=np.int32)
    net = ReLUNetwork([w], biases=[np.array([0.5])])
    for arr in net.weights + net.biases:
        assert arr.dtype == np.float64
        assert arr.flags.c_contiguous
        assert not arr.flags.writeable
    w[0, 0] = 99
    assert net.weights[0][0, 0] == 1.0
    with pytest.raises(ValueError, match="read-only"):
        net.weights[0][0, 0] = 2.0
    float_w = np.ones((2, 2))
    other = ReLUNetwork((float_w,))
    float_w[0, 0] = 5.0
    assert other.weights[0][0, 0] == 1.0


@pytest.mark.parametrize("bias", [False, True])
def test_npz_round_trip_is_bit_identical(tmp_path, bias):
    net = ReLUNetwork.random((4, 7, 3, 2), rng=3, bias=bias)
    path = tmp_path / "net.npz"
    net.to_npz(path)
    back = ReLUNetwork.from_npz(path)
    assert back.widths == net.widths
    assert back.has_bias == bias
    for a, b in zip(
        net.weights + (net.biases or ()), back.weights + (back.biases or ()), strict=True
    ):
        np.testing.assert_array_equal(a, b)
        assert a.tobytes() == b.tobytes()
    assert sorted(np.load(path).files) == sorted(
        [f"W{i}" for i in range(3)] + ([f"b{i}" for i in range(3)] if bias else [])
    )


def test_to_npz_writes_the_path_as_given_and_always_the_same_bytes(tmp_path):
    net = ReLUNetwork.random((3, 4, 2), rng=0, bias=True)
    net.to_npz(tmp_path / "a.npz")
    net.to_npz(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    with pytest.raises(InvalidParameterError, match=r"`path` must end in \.npz"):
        net.to_npz(tmp_path / "c")
    with pytest.raises(InvalidParameterError, match=r"`path` must name a file, not a directory"):
        net.to_npz(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz", "b.npz"]


@pytest.mark.parametrize(
    "arrays",
    [
        {"A": np.ones((1, 1))},
        {"W1": np.ones((1, 1))},
        {"W0": np.ones((1, 1)), "W2": np.ones((1, 1))},
        {"W0": np.ones((1, 1)), "W1": np.ones((1, 1)), "b0": np.ones(1)},
        {"W0": np.ones((1, 1)), "extra": np.ones(1)},
    ],
)
def test_from_npz_rejects_wrong_keys(tmp_path, arrays):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(InvalidParameterError, match=r"`path` must name an \.npz file with keys"):
        ReLUNetwork.from_npz(path)


def test_from_npz_validates_arrays(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, W0=np.ones((2, 3)), W1=np.ones((1, 3)))
    with pytest.raises(InvalidParameterError, match=re.escape("`weights[1]` must have shape")):
        ReLUNetwork.from_npz(path)


@pytest.mark.parametrize("spectral_norm", [0.3, 1.0, 2.5])
def test_random_has_exact_spectral_norms(spectral_norm):
    net = ReLUNetwork.random([5, 9, 1, 4], rng=11, spectral_norm=spectral_norm)
    assert net.widths == (5, 9, 1, 4)
    np.testing.assert_allclose(net.spectral_norms(), spectral_norm, rtol=1e-12, atol=0)


def test_random_is_reproducible_and_bias_keeps_weights():
    a = ReLUNetwork.random((3, 4, 2), rng=5)
    b = ReLUNetwork.random((3, 4, 2), rng=np.random.default_rng(5))
    c = ReLUNetwork.random((3, 4, 2), rng=5, bias=True)
    d = ReLUNetwork.random((3, 4, 2), rng=6)
    for wa, wb, wc in zip(a.weights, b.weights, c.weights, strict=True):
        np.testing.assert_array_equal(wa, wb)
        np.testing.assert_array_equal(wa, wc)
    assert not np.array_equal(a.weights[0], d.weights[0])
    assert all(np.all(np.abs(b) <= 0.5) for b in c.biases)
    assert [b.shape for b in c.biases] == [(4,), (2,)]


def test_scaled_sets_norms_and_keeps_biases():
    net = ReLUNetwork.random((4, 6, 3), rng=2, spectral_norm=3.0, bias=True)
    half = net.scaled(0.5)
    np.testing.assert_allclose(half.spectral_norms(), 0.5, rtol=1e-12, atol=0)
    for b, b_half in zip(net.biases, half.biases, strict=True):
        np.testing.assert_array_equal(b, b_half)
    np.testing.assert_allclose(half.weights[0], net.weights[0] / 6.0, rtol=1e-15, atol=0)
    np.testing.assert_allclose(ReLUNetwork([np.eye(2) * 7.0]).scaled().weights[0], np.eye(2))


def test_spectral_norms():
    net = ReLUNetwork([[[3.0, 0.0], [0.0, -5.0]], [[1.0, 1.0]]])
    np.testing.assert_allclose(net.spectral_norms(), [5.0, np.sqrt(2.0)], rtol=1e-15)


def test_assumption_violations_lists_each_violation():
    assert ReLUNetwork.random((3, 5, 2), rng=0).assumption_violations() == []
    assert ReLUNetwork.random((3, 5, 2), rng=0).assumption_violations(radius=0.5) == []
    net = ReLUNetwork([np.eye(2) * 2.0, np.eye(2) * 0.5, np.eye(2) * 3.0], biases=[[0, 0]] * 3)
    assert net.assumption_violations(radius=2.0) == [
        "the network has biases (augmented() removes them)",
        "layer 1 has spectral norm 2 > 1",
        "layer 3 has spectral norm 3 > 1",
        "the input radius 2 is > 1",
    ]


def test_norm_tolerance_absorbs_rounding_only():
    just_above = ReLUNetwork([np.eye(2) * (1.0 + NORM_RTOL / 10)])
    clearly_above = ReLUNetwork([np.eye(2) * (1.0 + 100 * NORM_RTOL)])
    assert just_above.assumption_violations() == []
    assert clearly_above.assumption_violations() == ["layer 1 has spectral norm 1.0000001 > 1"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weights": []}, "`weights` must be a non-empty sequence of 2-D arrays; got []."),
        ({"weights": np.ones((2, 2, 2))}, "`weights` must be a non-empty sequence of 2-D arrays"),
        ({"weights": [np.ones(3)]}, "`weights[0]` must be 2-dimensional; got 1 dimension(s)"),
        ({"weights": [np.ones((0, 3))]}, "`weights[0]` must have positive dimensions; got shape"),
        ({"weights": [[[np.nan]]]}, "`weights[0]` must be finite; got 1 NaN or infinite entry."),
        ({"weights": [[["a"]]]}, "`weights[0]` must hold real numbers"),
        (
            {"weights": [np.ones((2, 3)), np.ones((1, 3))]},
            "`weights[1]` must have shape ('any', 2); got (1, 3).",
        ),
        (
            {"weights": [np.ones((2, 3))], "biases": []},
            "`biases` must be a non-empty sequence of 1 1-D arrays or None; got [].",
        ),
        (
            {"weights": [np.ones((2, 3)), np.ones((1, 2))], "biases": [np.ones(2)]},
            "`biases` must have one entry per layer (2); got 1.",
        ),
        (
            {"weights": [np.ones((2, 3)), np.ones((1, 2))], "biases": [np.ones(2), np.ones(2)]},
            "`biases[1]` must have shape (1,); got (2,).",
        ),
    ],
)
def test_constructor_errors(kwargs, message):
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        ReLUNetwork(**kwargs)


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (np.ones(2), "`x` must have shape (3,) or (batch, 3); got (2,)."),
        (np.ones((2, 2, 3)), "`x` must have shape (3,) or (batch, 3); got (2, 2, 3)."),
        ([1.0, np.inf, 0.0], "`x` must be finite; got 1 NaN or infinite entry."),
    ],
)
def test_forward_errors(x, message):
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        ReLUNetwork.random((3, 2), rng=0).forward(x)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda net: net.assumption_violations(radius=-1.0),
            "`radius` must be in [0, inf); got -1.0.",
        ),
        (lambda net: net.scaled(0.0), "`spectral_norm` must be in (0, inf); got 0.0."),
        (
            lambda net: ReLUNetwork([np.ones((2, 2)), np.zeros((1, 2))]).scaled(),
            "`weights[1]` must be non-zero to be rescaled; got an all-zero matrix.",
        ),
        (
            lambda net: ReLUNetwork.random(5, rng=0),
            "`widths` must be a sequence of integers; got 5.",
        ),
        (lambda net: ReLUNetwork.random("ab", rng=0), "`widths` must be a sequence of integers"),
        (
            lambda net: ReLUNetwork.random([3], rng=0),
            "`widths` must have at least 2 entries; got 1.",
        ),
        (lambda net: ReLUNetwork.random([3, 0], rng=0), "`widths[1]` must be in [1, inf]; got 0."),
        (
            lambda net: ReLUNetwork.random([3, 1.5], rng=0),
            "`widths[1]` must be an integer; got 1.5.",
        ),
        (
            lambda net: ReLUNetwork.random([3, 2], rng=-1),
            "`rng` must be None, a non-negative integer seed or a numpy.random.Generator; got -1.",
        ),
        (
            lambda net: ReLUNetwork.random([3, 2], rng=0, spectral_norm=-2),
            "`spectral_norm` must be in (0, inf); got -2.0.",
        ),
    ],
)
def test_method_errors(call, message):
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        call(ReLUNetwork.random((3, 2), rng=0))


def test_random_refuses_a_truthy_string_for_bias():
    """issue 18: `bias="yes"` passed as valid (a truthy string), now refused by name."""
    with pytest.raises(InvalidParameterError, match="`bias` must be True or False; got 'yes'"):
        ReLUNetwork.random((3, 2), rng=0, bias="yes")
