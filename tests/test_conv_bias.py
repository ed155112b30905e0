"""Convolutional targets with biases: the constant channel (ConvNetwork.augmented), the biased
gadget, the certificate over the augmented input, tickets and the public entry points."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strong_lth import approximate
from strong_lth._approximate_conv import approximate_conv
from strong_lth.cli import main
from strong_lth.conv_certify import certify_conv
from strong_lth.conv_gadgets import (
    ConvRandomNetwork,
    choose,
    fold_constant,
    gadget_kernels,
    pruned_layers,
)
from strong_lth.conv_ticket import ConvTicket
from strong_lth.convnets import (
    AvgPool2d,
    Conv2d,
    ConvNetwork,
    Flatten,
    Linear,
    ReLU,
    constant_tap,
)
from strong_lth.exceptions import InvalidParameterError

from .strategies import small_cnns
from .test_conv import naive_conv

LAYOUTS = [  # (input (C, H, W), kernel (O, C, k_h, k_w), stride, padding)
    ((2, 7, 8), (3, 2, 3, 3), (1, 1), (0, 0)),
    ((2, 7, 8), (3, 2, 3, 3), (1, 1), (1, 1)),
    ((1, 8, 7), (2, 1, 3, 2), (2, 3), (1, 0)),
    ((2, 9, 9), (2, 2, 5, 5), (2, 2), (2, 1)),
]


def brute_taps(shape, kernel, stride, padding):
    """Every tap through which a channel of ones gives exactly 1 at every output pixel."""
    ones = np.ones((1, 1, *shape[1:]))
    taps = []
    for a, b in itertools.product(range(kernel[2]), range(kernel[3])):
        k = np.zeros((1, 1, *kernel[2:]))
        k[0, 0, a, b] = 1.0
        if np.all(naive_conv(ones, k, stride, padding) == 1.0):
            taps.append((a, b))
    return taps


@pytest.mark.parametrize("shape,kernel,stride,padding", LAYOUTS)
def test_constant_tap_is_one_the_brute_force_finds(shape, kernel, stride, padding):
    layer = Conv2d(np.ones(kernel), stride=stride, padding=padding)
    assert constant_tap(layer, shape) in brute_taps(shape, kernel, stride, padding)


@pytest.mark.parametrize(
    "size,k,stride,padding", list(itertools.product((4, 5, 6), (1, 2, 3, 4), (1, 2), (0, 1, 2)))
)
def test_constant_tap_exists_exactly_when_the_brute_force_finds_one(size, k, stride, padding):
    if size + 2 * padding < k:
        return
    layer = Conv2d(np.ones((1, 1, k, k)), stride=stride, padding=padding)
    taps = brute_taps((1, size, size), (1, 1, k, k), (stride,) * 2, (padding,) * 2)
    assert (constant_tap(layer, (1, size, size)) is None) == (not taps)
    if 2 * padding <= k - 1:  # the documented sufficient condition
        assert taps


def biased_net(rng=0, bias=(True, True, True)):
    gen = np.random.default_rng(rng)
    b = [(lambda m: gen.standard_normal(m)) if flag else (lambda m: None) for flag in bias]
    return ConvNetwork(
        (2, 7, 6),
        [
            Conv2d(gen.standard_normal((3, 2, 3, 3)), b[0](3), stride=2, padding=1),
            ReLU(),
            AvgPool2d(2, 1),
            Conv2d(gen.standard_normal((4, 3, 2, 2)), b[1](4)),
            ReLU(),
            Flatten(),
            Linear(gen.standard_normal((5, 8)), b[2](5)),
            ReLU(),
            Linear(gen.standard_normal((2, 5)), b[2](2)),
        ],
    )


@pytest.mark.parametrize("bias", [(True, True, True), (True, False, False), (False, False, True)])
@pytest.mark.parametrize("constant", [1.0, 0.3])
def test_augmented_network_computes_the_biased_one(bias, constant):
    net = biased_net(bias=bias)
    aug = net.augmented(constant)
    assert not aug.has_bias and aug.input_shape == (3, 7, 6)
    x = np.random.default_rng(1).standard_normal((5, 2, 7, 6))
    with_constant = np.concatenate([x, np.full((5, 1, 7, 6), constant)], axis=1)
    assert np.abs(aug.forward(with_constant) - net.forward(x)).max() <= 1e-12
    # the constant is carried (one more output) only while a later layer has a bias
    flags = [bias[0], bias[1], bias[2], bias[2]]
    extra = [
        len(a.weight) - len(t.weight) for a, t in zip(aug.weighted_layers, net.weighted_layers)
    ]
    assert extra == [int(any(flags[i + 1 :])) for i in range(4)]
    dense = net.dense_equivalent()
    assert np.abs(dense.forward(x.reshape(5, -1)) - net.forward(x)).max() <= 1e-12


def test_bias_free_network_is_its_own_augmentation():
    net = biased_net(bias=(False, False, False))
    assert net.augmented() is net


def test_unsupported_padding_is_refused_naming_the_layer():
    net = ConvNetwork((1, 5, 5), [Conv2d(np.ones((2, 1, 3, 3)), [1.0, 2.0], padding=2)])
    with pytest.raises(InvalidParameterError, match=r"`layers\[0\]` Conv2d.*padding must be at"):
        net.augmented()
    with pytest.raises(InvalidParameterError, match=r"at most \(k - 1\) / 2 per axis"):
        approximate_conv(net, eps=0.1)
    # a bias-free layer that must carry the constant to a later bias is refused too
    carry = ConvNetwork(
        (1, 5, 5),
        [
            Conv2d(np.ones((1, 1, 2, 2)), padding=1),
            ReLU(),
            Flatten(),
            Linear(np.ones((1, 36)), [1.0]),
        ],
    )
    with pytest.raises(InvalidParameterError, match=r"`layers\[0\]`.*later layer's bias"):
        approximate(carry, eps=0.1)
    with pytest.raises(InvalidParameterError, match="`constant` must be in"):
        carry.augmented(0.0)


@pytest.mark.parametrize("shape,kernel,stride,padding", LAYOUTS[:3])
@pytest.mark.parametrize("constant", [1.0, 0.25])
def test_biased_gadget_identity(shape, kernel, stride, padding, constant):
    """The pruned pair of a biased layer, on images alone, is ``A * σ([x; c]) - B * σ(-[x; 0])``
    with ``A, B`` recomputed from the masks (loop convolution), and ``B`` reads no constant."""
    gen = np.random.default_rng(4)
    c = shape[0]
    target = ConvNetwork(
        shape,
        [
            Conv2d(
                0.3 * gen.standard_normal(kernel),
                0.3 * gen.standard_normal(kernel[0]),
                stride=stride,
                padding=padding,
            )
        ],
    )
    aug = target.augmented(constant)
    layer = aug.layers[0]
    network = ConvRandomNetwork(7, [layer.weight.shape], 10)
    u, v = network.gadget_weights(1)
    signed = np.arange(c + 1) < c
    keep, sums, _ = choose(layer.weight, network, 1, signed=signed)
    a, b = gadget_kernels(u, v, keep)
    assert np.allclose(a, sums[0], atol=1e-12) and np.allclose(b, sums[1], atol=1e-12)
    assert not b[:, c].any()  # the constant is never negative: its negative pools stay empty
    pruned = ConvNetwork(aug.input_shape, pruned_layers(layer, u, v, keep))
    folded = fold_constant(pruned, constant)
    assert folded.input_shape == shape and folded.layers[0].bias is not None
    x = gen.standard_normal((4, *shape))
    ones = np.full((4, 1, *shape[1:]), constant)
    expected = naive_conv(
        np.concatenate([np.maximum(x, 0), ones], 1), a, stride, padding
    ) - naive_conv(np.concatenate([np.maximum(-x, 0), 0 * ones], 1), b, stride, padding)
    assert np.abs(folded.forward(x) - expected).max() <= 1e-12
    # and the target's own layer is the same formula with A = B = K', to the same precision
    k = layer.weight
    exact = naive_conv(np.concatenate([x, ones], 1), k, stride, padding)
    assert np.abs(target.forward(x) - exact).max() <= 1e-12


@settings(max_examples=8, deadline=None)
@given(
    small_cnns(biased=True),
    st.integers(1, 6),
    st.sampled_from([0.01, 0.5, 1.0, 3.0]),  # small: the biases' error dominates
)
def test_biased_measured_within_certified(case, n, radius):
    target, seed = case
    ticket = approximate_conv(target, values_per_input=n, rng=seed, radius=radius, measure=False)
    assert ticket.input_constant is not None
    cert = certify_conv(
        target, ticket, radius=radius, rng=seed, samples=64, starts=4, ascent_steps=20
    )
    assert cert.certified == min(cert.bounds.values())
    assert all(cert.measured <= bound * (1 + 1e-9) for bound in cert.bounds.values())
    # inside the ball (not only on the sphere: F - G is not homogeneous with biases)
    gen = np.random.default_rng(seed)
    x = gen.standard_normal((300, *target.input_shape))
    x *= (radius * gen.random(300) ** 0.5 / np.linalg.norm(x.reshape(300, -1), axis=1))[
        :, None, None, None
    ]
    x[0] = 0.0  # the origin: the error of the biases alone
    gap = np.linalg.norm(target.forward(x) - ticket.forward(x), axis=1)
    assert gap.max() <= cert.certified * (1 + 1e-9)


@pytest.mark.parametrize("head", ["pool", "flatten"])
def test_constant_folds_behind_pooling_or_flatten(head):
    """The first weighted layer behind AvgPool2d (the constant stays c) or Flatten (it becomes
    the last H W entries): the folded ticket still reads images and stays within its bound."""
    gen = np.random.default_rng(11)
    if head == "pool":
        layers = [
            AvgPool2d(2, 1),
            Conv2d(
                0.4 * gen.standard_normal((2, 1, 3, 3)), 0.4 * gen.standard_normal(2), padding=1
            ),
            ReLU(),
            Flatten(),
            Linear(0.4 * gen.standard_normal((2, 32)), 0.4 * gen.standard_normal(2)),
        ]
    else:
        layers = [
            Flatten(),
            Linear(0.4 * gen.standard_normal((4, 25)), 0.4 * gen.standard_normal(4)),
            ReLU(),
            Linear(0.4 * gen.standard_normal((2, 4)), 0.4 * gen.standard_normal(2)),
        ]
    target = ConvNetwork((1, 5, 5), layers)
    ticket = approximate_conv(target, values_per_input=4, rng=3, measure=False)
    assert ticket.pruned_network().input_shape == (1, 5, 5)
    cert = certify_conv(target, ticket, rng=0, samples=64, starts=4, ascent_steps=20)
    assert cert.measured <= cert.certified * (1 + 1e-9)
    x = gen.standard_normal((200, 1, 5, 5))
    x *= (gen.random(200) / np.linalg.norm(x.reshape(200, -1), axis=1))[:, None, None, None]
    gap = np.linalg.norm(target.forward(x) - ticket.forward(x), axis=1)
    assert gap.max() <= cert.certified * (1 + 1e-9)


def small_biased():
    gen = np.random.default_rng(3)
    return ConvNetwork(
        (1, 5, 5),
        [
            Conv2d(
                0.3 * gen.standard_normal((2, 1, 3, 3)), 0.3 * gen.standard_normal(2), padding=1
            ),
            ReLU(),
            Flatten(),
            Linear(0.3 * gen.standard_normal((2, 50)), 0.3 * gen.standard_normal(2)),
        ],
    )


def test_biased_automatic_mode_meets_eps_and_round_trips(tmp_path):
    target = small_biased()
    ticket = approximate_conv(target, eps=0.1, rng=1)
    report = ticket.report
    assert report.measured <= report.certified <= 0.1
    assert report.input_constant == ticket.input_constant > 0
    assert f"constant input channel c = {ticket.input_constant:.4g}" in str(report)
    x = np.random.default_rng(0).standard_normal((50, 1, 5, 5))
    x /= np.linalg.norm(x.reshape(50, -1), axis=1)[:, None, None, None]
    assert np.linalg.norm(ticket.forward(x) - target.forward(x), axis=1).max() <= 0.1
    # the pruned network reads images alone; its only bias is the first layer's (c u)
    pruned = ticket.pruned_network()
    assert pruned.input_shape == target.input_shape
    assert [getattr(layer, "bias", None) is not None for layer in pruned.layers].count(True) == 1
    path = tmp_path / "ticket.npz"
    ticket.save(path)
    back = ConvTicket.load(path)
    assert back.input_constant == ticket.input_constant
    assert np.array_equal(back.forward(x), ticket.forward(x))
    assert back.certificate(target, measure=False).certified == report.certified
    assert back.report["input_constant"] == ticket.input_constant


@pytest.mark.parametrize("constant", [None, 0.05, 1.0])
def test_certificate_covers_the_biases_error_at_the_origin(constant, monkeypatch):
    """Near the origin the error is the biases' alone, ``||(A - K') * [0; c 1]||`` (a loop
    convolution of the constant channel): the certificate over a tiny ball must exceed it,
    which it does only by counting the constant channel's norm ``c sqrt(H W)``."""
    import strong_lth._approximate_conv as module

    if constant is not None:
        monkeypatch.setattr(module, "bias_constant", lambda target, radius: constant)
    gen = np.random.default_rng(8)
    target = ConvNetwork(
        (2, 6, 6),
        [Conv2d(0.3 * gen.standard_normal((3, 2, 3, 3)), 0.3 * gen.standard_normal(3), padding=1)],
    )
    ticket = approximate_conv(target, values_per_input=3, rng=2, radius=1e-3, measure=False)
    c = ticket.input_constant
    (a, _), k = ticket.gadget_kernels()[0], target.augmented(c).layers[0].weight
    ones = np.concatenate([np.zeros((1, 2, 6, 6)), np.full((1, 1, 6, 6), c)], axis=1)
    origin = float(np.linalg.norm(naive_conv(ones, a - k, (1, 1), (1, 1))))
    gap = float(
        np.linalg.norm(
            ticket.forward(np.zeros((1, 2, 6, 6))) - target.forward(np.zeros((1, 2, 6, 6)))
        )
    )
    assert gap == pytest.approx(origin, rel=1e-9) and origin > 0
    cert = certify_conv(target, ticket, radius=1e-3, rng=0, samples=64, starts=4)
    assert origin <= cert.certified and cert.measured >= 0.9 * origin


def test_ticket_and_target_must_agree_on_biases():
    target = small_biased()
    free = ConvNetwork(
        target.input_shape,
        [
            Conv2d(target.layers[0].weight, padding=1),
            ReLU(),
            Flatten(),
            Linear(target.layers[3].weight),
        ],
    )
    ticket = approximate_conv(free, values_per_input=2, rng=0, measure=False)
    anonymous = ConvTicket(**{**ticket.__dict__, "target_fingerprint": None})
    with pytest.raises(InvalidParameterError, match="constant input channel exactly when"):
        certify_conv(target, anonymous)
    with pytest.raises(InvalidParameterError, match="`input_constant` must be in"):
        ConvTicket(**{**ticket.__dict__, "input_constant": -1.0})


def test_torch_biased_model_end_to_end():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    nn = torch.nn
    module = nn.Sequential(  # PyTorch's default bias=True, "same" padding of a 3x3 kernel
        nn.Conv2d(1, 2, 3, padding="same"),
        nn.ReLU(),
        nn.Conv2d(2, 2, 3, stride=2, padding="valid"),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(2 * 2 * 2, 3),
    ).double()
    net = ConvNetwork.from_torch(module, (1, 5, 5))
    assert net.has_bias and net.layers[0].padding == (1, 1)
    ticket = approximate(net, eps=0.2, rng=0)
    assert ticket.report.measured <= ticket.report.certified <= 0.2
    x = np.random.default_rng(0).standard_normal((20, 1, 5, 5))
    x /= np.linalg.norm(x.reshape(20, -1), axis=1)[:, None, None, None]
    expected = module(torch.from_numpy(x)).detach().numpy()
    assert np.linalg.norm(ticket.forward(x) - expected, axis=1).max() <= 0.2 * (1 + 1e-9)


def run(capsys, *args):
    status = main([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_cli_and_sweep_take_a_biased_conv_target(tmp_path, capsys):
    from strong_lth.experiments import Sweep, execute_run

    target = small_biased()
    path = tmp_path / "cnn.npz"
    target.to_npz(path)
    out = tmp_path / "ticket.npz"
    status, text, _ = run(capsys, "approximate", path, "--eps", 0.2, "--out", out, "--quiet")
    assert status == 0 and "ConvReport: certified" in text
    certified = ConvTicket.load(out).certificate(target, measure=False).certified
    status, text, _ = run(capsys, "certify", out, path)
    assert status == 0 and f"certified {certified:.6g}" in text
    grid = {"kind": "approximate", "target": "cnn.npz", "values_per_input": 3, "seed": 0}
    row = execute_run(Sweep.from_dict({"output": "o", "grid": grid}, base=tmp_path).runs()[0])
    direct = approximate(target, values_per_input=3, rng=0)
    assert row["result"]["certified"] == direct.report.certified
    assert row["result"]["input_constant"] == direct.input_constant is not None
