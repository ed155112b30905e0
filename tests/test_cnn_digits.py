"""datasets.train_conv_target: the seeded NumPy-trained CNN target, and the digits CNN ticket."""

import numpy as np
import pytest

from strong_lth._approximate_conv import approximate_conv
from strong_lth.convnets import Conv2d, ConvNetwork, conv2d
from strong_lth.datasets import _conv_gradients, margin_eps, train_conv_target
from strong_lth.exceptions import InvalidParameterError


def loss(kernels, dense, x, y, biases=None):
    biases = biases or [np.zeros(len(w)) for w in (*kernels, dense)]
    h = x
    for kernel, b in zip(kernels, biases):
        h = np.maximum(conv2d(h, kernel) + b[:, None, None], 0.0)
    logits = h.reshape(len(x), -1) @ dense.T + biases[-1]
    logits -= logits.max(axis=1, keepdims=True)
    return np.mean(np.log(np.exp(logits).sum(axis=1)) - logits[np.arange(len(y)), y])


@pytest.mark.parametrize("bias", [False, True])
def test_gradients_match_finite_differences(bias):
    gen = np.random.default_rng(0)
    kernels = [gen.standard_normal((3, 2, 3, 3)), gen.standard_normal((2, 3, 3, 3))]
    dense = gen.standard_normal((4, 2 * 3 * 4))
    biases = [gen.standard_normal(len(w)) for w in (*kernels, dense)] if bias else None
    x, y = gen.standard_normal((5, 2, 7, 8)), gen.integers(0, 4, 5)
    grads = _conv_gradients(kernels, dense, x, y, biases)
    params = [*kernels, dense, *(biases or [])]
    assert len(grads) == len(params)
    step = 1e-6
    for p, g in zip(params, grads):
        for pos in [tuple(gen.integers(0, s) for s in p.shape) for _ in range(4)]:
            old = p[pos]
            p[pos] = old + step
            up = loss(kernels, dense, x, y, biases)
            p[pos] = old - step
            down = loss(kernels, dense, x, y, biases)
            p[pos] = old
            assert (up - down) / (2 * step) == pytest.approx(g[pos], rel=1e-5, abs=1e-8)


def toy_data():
    gen = np.random.default_rng(0)
    x = gen.standard_normal((300, 1, 6, 6))
    y = (x[:, 0, :3].sum(axis=(1, 2)) > x[:, 0, 3:].sum(axis=(1, 2))).astype(int)
    return x, y


def test_training_is_seeded_and_learns():
    x, y = toy_data()
    options = {"input_shape": (1, 6, 6), "epochs": 40, "learning_rate": 0.01}
    net = train_conv_target(x, y, (4, 3), rng=0, **options)
    again = train_conv_target(x.reshape(300, -1), y, (4, 3), rng=0, **options)
    assert net.fingerprint() == again.fingerprint()
    other = train_conv_target(x, y, (4, 3), rng=1, **options)
    assert net.fingerprint() != other.fingerprint()
    assert not net.has_bias and [type(layer).__name__ for layer in net.layers] == [
        "Conv2d",
        "ReLU",
        "Conv2d",
        "ReLU",
        "Flatten",
        "Linear",
    ]
    assert np.mean(net.forward(x).argmax(axis=1) == y) > 0.9
    biased = train_conv_target(x, y, (4, 3), rng=0, bias=True, **options)
    assert all(layer.bias is not None for layer in biased.weighted_layers)
    assert (
        biased.fingerprint()
        == train_conv_target(x, y, (4, 3), rng=0, bias=True, **options).fingerprint()
    )
    assert np.mean(biased.forward(x).argmax(axis=1) == y) > 0.9


def test_training_refusals():
    x, y = toy_data()
    with pytest.raises(InvalidParameterError, match="`x` must have shape"):
        train_conv_target(x, y, input_shape=(1, 8, 8), rng=0)
    with pytest.raises(InvalidParameterError, match="`kernel_size` 5 must fit"):
        train_conv_target(x, y, (2, 2), input_shape=(1, 6, 6), kernel_size=5, rng=0)
    with pytest.raises(InvalidParameterError, match="`input_shape` must be"):
        train_conv_target(x, y, input_shape=(1, 6, 6, 1), rng=0)
    with pytest.raises(InvalidParameterError, match="`bias` must be True or False; got 'yes'"):
        train_conv_target(x, y, (2,), input_shape=(1, 6, 6), rng=0, bias="yes")


@pytest.mark.parametrize("bias", [False, True])
def test_small_cnn_ticket_keeps_every_prediction(bias):
    x, y = toy_data()
    x = x / np.linalg.norm(x.reshape(300, -1), axis=1)[:, None, None, None]
    target = train_conv_target(x, y, (3,), input_shape=(1, 6, 6), rng=0, epochs=10, bias=bias)
    assert target.has_bias == bias
    eps = margin_eps(target.dense_equivalent(), x.reshape(300, -1))
    ticket = approximate_conv(target, eps=eps, rng=1, measure=False)
    assert ticket.report.certified <= eps
    same = target.forward(x).argmax(axis=1) == ticket.forward(x).argmax(axis=1)
    assert same.all()
    assert isinstance(target.layers[0], Conv2d) and isinstance(target, ConvNetwork)


@pytest.mark.slow
@pytest.mark.parametrize("bias", [False, True])
def test_digits_cnn_ticket_keeps_every_test_prediction(bias):
    from strong_lth.datasets import digits

    data = digits(8)
    target = train_conv_target(data.x_train, data.y_train, rng=0, bias=bias)
    labels = target.forward(data.x_test).argmax(axis=1)
    assert np.mean(labels == data.y_test) > 0.9
    eps = margin_eps(target.dense_equivalent(), data.x_test)
    ticket = approximate_conv(target, eps=eps, rng=1)
    assert ticket.report.measured <= ticket.report.certified <= eps
    assert np.array_equal(ticket.forward(data.x_test).argmax(axis=1), labels)
