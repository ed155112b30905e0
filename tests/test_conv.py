"""Convolutional targets (strong_lth.convnets) and the convolutional gadget (conv_gadgets)."""

import numpy as np
import pytest

from strong_lth.conv_gadgets import (
    ConvRandomNetwork,
    choose,
    gadget_kernels,
    gadget_layers,
    pruned_layers,
)
from strong_lth.convnets import (
    AvgPool2d,
    Conv2d,
    ConvNetwork,
    Flatten,
    Linear,
    ReLU,
    conv2d,
    layer_matrix,
)
from strong_lth.exceptions import FileFormatError, InvalidParameterError
from strong_lth.random_network import RandomNetwork, uniform_bits


def naive_conv(x, k, stride, padding):
    """Cross-correlation by explicit loops: the independent reference."""
    (sh, sw), (ph, pw) = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, _, h, w = xp.shape
    o, _, kh, kw = k.shape
    ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
    out = np.zeros((n, o, ho, wo))
    for i in range(ho):
        for j in range(wo):
            patch = xp[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw]
            out[:, :, i, j] = np.einsum("ncab,ocab->no", patch, k)
    return out


def small_net(bias=False, rng=0):
    gen = np.random.default_rng(rng)
    b = (lambda m: gen.standard_normal(m)) if bias else (lambda m: None)
    return ConvNetwork(
        (2, 7, 6),
        [
            Conv2d(gen.standard_normal((3, 2, 3, 3)), b(3), stride=2, padding=1),
            ReLU(),
            AvgPool2d(2, 1),
            Conv2d(gen.standard_normal((4, 3, 2, 2)), b(4), padding=(1, 0)),
            ReLU(),
            Flatten(),
            Linear(gen.standard_normal((5, 16)), b(5)),
        ],
    )


@pytest.mark.parametrize("stride,padding", [((1, 1), (0, 0)), ((2, 1), (1, 2)), ((3, 2), (0, 1))])
def test_conv2d_matches_loops(stride, padding):
    gen = np.random.default_rng(1)
    x, k = gen.standard_normal((3, 2, 7, 8)), gen.standard_normal((4, 2, 3, 2))
    assert np.allclose(conv2d(x, k, stride, padding), naive_conv(x, k, stride, padding), atol=1e-12)


def test_torch_import_matches_torch_outputs():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    nn = torch.nn
    module = nn.Sequential(
        nn.Conv2d(2, 3, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.AvgPool2d(2, 1),
        nn.Conv2d(3, 4, (2, 3), stride=(1, 2), padding=(1, 0)),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(4 * 5 * 1, 5),
    ).double()
    net = ConvNetwork.from_torch(module, (2, 9, 10))
    x = np.random.default_rng(0).standard_normal((6, 2, 9, 10))
    expected = module(torch.from_numpy(x)).detach().numpy()
    assert np.abs(net.forward(x) - expected).max() <= 1e-10
    assert net.has_bias and net.weighted == (0, 3, 6)


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda nn: nn.Sequential(nn.Conv2d(1, 2, 3, dilation=2)), "dilation must be 1"),
        (lambda nn: nn.Sequential(nn.Conv2d(2, 2, 3, groups=2)), "groups must be 1"),
        (lambda nn: nn.Sequential(nn.Conv2d(1, 2, 2, padding="same")), "an even one pads"),
        (lambda nn: nn.Sequential(nn.Conv2d(1, 1, 3), nn.Tanh()), r"module\[1\]` \(Tanh\)"),
        (lambda nn: nn.Sequential(nn.MaxPool2d(2)), "MaxPool2d"),
        (lambda nn: nn.Sequential(nn.AvgPool2d(2, padding=1)), "padding 0"),
        (lambda nn: nn.Sequential(nn.Flatten(0)), "start_dim=1"),
        (lambda nn: nn.Sequential(nn.Conv2d(1, 1, 9)), "kernel no larger"),
        (lambda nn: nn.Sequential(), "at least one layer"),
        (lambda nn: nn.Linear(2, 2), "must be a torch.nn.Sequential"),
    ],
)
def test_torch_import_refuses(make, match):
    torch = pytest.importorskip("torch")
    shape = (2, 5, 5) if "groups" in match else (1, 5, 5)
    with pytest.raises(InvalidParameterError, match=match):
        ConvNetwork.from_torch(make(torch.nn), shape)


def test_bad_networks():
    k = np.ones((1, 1, 3, 3))
    with pytest.raises(InvalidParameterError, match="kernel no larger than its padded input"):
        ConvNetwork((1, 2, 2), [Conv2d(k)])
    with pytest.raises(InvalidParameterError, match="flat input of 4 features"):
        ConvNetwork((1, 2, 2), [Linear(np.ones((1, 4)))])
    with pytest.raises(InvalidParameterError, match="image of 2 channels"):
        ConvNetwork((1, 4, 4), [Conv2d(np.ones((1, 2, 3, 3)))])
    with pytest.raises(InvalidParameterError, match=r"`layers\[0\]` must be one of"):
        ConvNetwork((1, 4, 4), ["conv"])
    with pytest.raises(InvalidParameterError, match="input_shape"):
        ConvNetwork((4, 4), [ReLU()])
    with pytest.raises(InvalidParameterError, match="`stride\\[0\\]` must be in"):
        Conv2d(k, stride=0)
    with pytest.raises(InvalidParameterError, match="`x` must have shape"):
        ConvNetwork((1, 4, 4), [Conv2d(k)]).forward(np.ones((2, 3)))


def test_npz_roundtrip_and_fingerprint(tmp_path):
    net = small_net(bias=True)
    path = tmp_path / "net.npz"
    net.to_npz(path)
    back = ConvNetwork.from_npz(path)
    x = np.random.default_rng(2).standard_normal((3, 2, 7, 6))
    assert np.array_equal(back.forward(x), net.forward(x))
    assert back.fingerprint() == net.fingerprint() != small_net(bias=False).fingerprint()
    assert small_net(rng=1).fingerprint() != net.fingerprint()
    np.savez(tmp_path / "bad.npz", kinds=np.array(["Conv2d"]))
    with pytest.raises(FileFormatError, match="input_shape and kinds"):
        ConvNetwork.from_npz(tmp_path / "bad.npz")
    np.savez(tmp_path / "bad2.npz", input_shape=np.array([1, 3, 3]), kinds=np.array(["Conv2d"]))
    with pytest.raises(FileFormatError, match="L0_weight"):
        ConvNetwork.from_npz(tmp_path / "bad2.npz")


def test_layer_matrix_and_dense_equivalent():
    net = small_net()
    dense = net.dense_equivalent()
    x = np.random.default_rng(3).standard_normal((5, 2, 7, 6))
    assert np.allclose(dense.forward(x.reshape(5, -1)), net.forward(x), atol=1e-12)
    layer = net.layers[0]
    m = layer_matrix(layer, (2, 7, 6))
    ref = naive_conv(x, layer.weight, layer.stride, layer.padding).reshape(5, -1)
    assert np.allclose(x.reshape(5, -1) @ m.T, ref, atol=1e-12)
    biased = small_net(bias=True)  # biases composed through pooling, Flatten and Linear
    assert np.abs(
        biased.dense_equivalent().forward(x.reshape(5, -1)) - biased.forward(x)
    ).max() <= (1e-12)
    with pytest.raises(InvalidParameterError, match="start and end with a linear layer"):
        ConvNetwork((1, 3, 3), [Conv2d(np.ones((1, 1, 2, 2))), ReLU()]).dense_equivalent()


LAYOUTS = [
    ((1, 1), (0, 0), (3, 2, 3, 3)),
    ((2, 2), (1, 1), (3, 2, 3, 3)),
    ((1, 2), (2, 0), (2, 3, 2, 3)),
]


@pytest.mark.parametrize("stride,padding,shape", LAYOUTS)
@pytest.mark.parametrize("signed", [True, False])
def test_gadget_identity(stride, padding, shape, signed):
    gen = np.random.default_rng(4)
    kernel = 0.3 * gen.standard_normal(shape)
    layer = Conv2d(kernel, stride=stride, padding=padding)
    network = ConvRandomNetwork(7, [shape], 10)
    u, v = network.gadget_weights(1)
    keep, sums, _ = choose(kernel, network, 1, signed=signed)
    a, b = gadget_kernels(u, v, keep)
    assert np.allclose(a, sums[0], atol=1e-12) and np.allclose(b, sums[1], atol=1e-12)
    if not signed:  # units with u < 0 never fire on a non-negative input: none is kept
        assert not b.any()
        assert np.all(u[np.nonzero(keep.reshape(*shape, -1).any(axis=(0, 2, 3)))] > 0)
    x = gen.standard_normal((4, shape[1], 7, 8))
    pruned = ConvNetwork((shape[1], 7, 8), pruned_layers(layer, u, v, keep))
    expected = naive_conv(np.maximum(x, 0), a, stride, padding) - naive_conv(
        np.maximum(-x, 0), b, stride, padding
    )
    assert np.abs(pruned.forward(x) - expected).max() <= 1e-12
    compact = ConvNetwork((shape[1], 7, 8), gadget_layers(layer, a, b))
    assert np.abs(compact.forward(x) - expected).max() <= 1e-12
    # every kept weight is the random network's own entry, recomputed from uniform_bits
    _, c, kh, kw = shape
    first, second = pruned.layers[0].weight, pruned.layers[2].weight
    for unit, ch in zip(*np.nonzero(first[:, :, 0, 0])):
        k = unit // c
        assert ch == unit % c
        assert first[unit, ch, 0, 0] == 2 * uniform_bits(7, 1, k * c + ch, ch) - 1
    for oo, unit, aa, bb in zip(*np.nonzero(second)):
        col = (unit * kh + aa) * kw + bb
        assert second[oo, unit, aa, bb] == 2 * uniform_bits(7, 2, oo, col) - 1
    assert np.count_nonzero(second) == keep.sum()


def test_random_weights_nested_and_match_dense():
    small, big = ConvRandomNetwork(3, [(2, 3, 2, 2)], 4), ConvRandomNetwork(3, [(2, 3, 2, 2)], 9)
    (u1, v1), (u2, v2) = small.gadget_weights(1), big.gadget_weights(1)
    assert np.array_equal(u2[:, :4], u1) and np.array_equal(v2[:, :, :4], v1)
    dense = RandomNetwork(3, (5, 2, 4), (6, 5))
    conv = ConvRandomNetwork(3, [(2, 5, 1, 1), (4, 2, 1, 1)], (6, 5))
    for i in (1, 2):
        u, v = dense.gadget_weights(i)
        uc, vc = conv.gadget_weights(i)
        assert np.array_equal(u, uc) and np.array_equal(v, vc[:, :, :, 0, 0])
    with pytest.raises(InvalidParameterError, match="one entry per weighted layer"):
        ConvRandomNetwork(3, [(2, 5, 1, 1)], (6, 5))


@pytest.mark.parametrize("bias", [False, True])
def test_balanced_scales_the_output_only(bias):
    net = small_net(bias=bias)
    bal = net.balanced(0.5)
    for k in net.weighted:
        layer = bal.layers[k]
        parts = [layer.weight] + ([layer.bias] if bias else [])
        assert max(float(np.abs(p).max()) for p in parts) == pytest.approx(0.5, rel=1e-12)
    x = np.random.default_rng(6).standard_normal((8, 2, 7, 6))
    ratio = bal.forward(x) / net.forward(x)
    assert np.allclose(ratio, ratio[0, 0], rtol=1e-9) and ratio[0, 0] > 0
    zero = ConvNetwork((1, 3, 3), [Conv2d(np.zeros((1, 1, 2, 2)))])
    with pytest.raises(InvalidParameterError, match="non-zero to be balanced"):
        zero.balanced()
    with pytest.raises(InvalidParameterError, match="`max_weight` must be in"):
        net.balanced(0.0)
