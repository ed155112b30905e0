"""Real targets on real data: scikit-learn's bundled digits, seeded training, and how a ticket
behaves on the data (accuracy, label agreement, the largest ε that keeps every prediction).

The digits ship with scikit-learn (1,797 images of 8x8 pixels, no download); scikit-learn is an
optional dependency (``pip install 'strong_lth[sklearn]'``), imported only by :func:`digits`.
Training and evaluation are plain NumPy, so targets without biases (Pensia et al.'s 784-500-10
MNIST network, docs/theory.md, section 8), which scikit-learn cannot train, are trained the same
way.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from ._validation import as_generator, check_array, check_int, check_real
from .conv_ticket import ConvTicket
from .convnets import Conv2d, ConvNetwork, Flatten, Linear, ReLU
from .exceptions import InvalidParameterError
from .networks import ReLUNetwork, _check_int_tuple, _optional_import
from .ticket import Ticket

__all__ = [
    "RADIUS",
    "RADIUS_RTOL",
    "SPLIT_SEED",
    "TEST_FRACTION",
    "Digits",
    "Evaluation",
    "digits",
    "evaluate",
    "margin_eps",
    "train_conv_target",
    "train_target",
]

TEST_FRACTION = 0.2
"""Share of every class held out for testing (359 of the 1,797 images)."""

SPLIT_SEED = 0
"""Seed of the fixed split: each class's images are shuffled by ``default_rng(SPLIT_SEED)``
(classes in order 0..9) and the first ``round(TEST_FRACTION * count)`` go to the test set."""

RADIUS = 1.0
"""Every digits input lies on the sphere of this radius: the domain the certificate covers."""

RADIUS_RTOL = 1e-12
"""Relative slack of ``||x|| <= radius`` in :func:`margin_eps`: a row divided by its norm lands a
few ulps (about 1e-16) either side of the radius, and the certified bound is continuous in the
radius, so a row that far out is still covered to far below any error that matters."""


@dataclass(frozen=True, eq=False)
class Digits:
    """scikit-learn's digits with the fixed split, scaled onto the unit sphere.

    Attributes
    ----------
    resolution : int
        8 (the original images, 64 inputs) or 28 (interpolated, 784 inputs like MNIST).
    x_train, x_test : ndarray, shape (m, resolution**2)
        Images as rows, every row of ℓ2 norm :data:`RADIUS` (read-only).
    y_train, y_test : ndarray of int64, shape (m,)
        Labels 0..9 (read-only).
    """

    resolution: int
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def radius(self) -> float:
        """Radius of the input sphere (:data:`RADIUS`), for ``approximate`` and ``certify``."""
        return RADIUS

    def __repr__(self) -> str:
        return (
            f"Digits(resolution={self.resolution}, train={len(self.y_train)}, "
            f"test={len(self.y_test)}, inputs={self.x_train.shape[1]})"
        )


def digits(resolution: int = 8) -> Digits:
    """scikit-learn's bundled handwritten digits, with a fixed split, as inputs on the unit sphere.

    Parameters
    ----------
    resolution : {8, 28}
        8: the original 8x8 images (64 inputs). 28: each image interpolated to 28x28, so the
        input size is MNIST's 784 (Pensia et al.'s experiment, docs/theory.md, section 8).

    Returns
    -------
    Digits
        1,438 training and 359 test images (:data:`TEST_FRACTION` of each class, split by
        :data:`SPLIT_SEED`).

    Raises
    ------
    ImportError
        If scikit-learn is not installed.
    InvalidParameterError
        If ``resolution`` is not 8 or 28.

    Notes
    -----
    The scaling is part of the data set's definition: pixels (0..16) are divided by 16; at
    resolution 28 the images are resized by bilinear interpolation over pixel areas
    (``scipy.ndimage.zoom``, factor 3.5, ``order=1``, ``grid_mode=True``, values stay in
    [0, 1]); finally every image is divided by its ℓ2 norm, so every input lies on the sphere of
    radius :data:`RADIUS` = 1, the domain the theorems assume (docs/theory.md, section 1) and the
    one ``approximate(..., radius=1)`` certifies. A bias-free network predicts the same label at any
    positive scale of its input (``F(tx) = t F(x)``), so for it the last step only fixes the
    domain; a network with biases is trained and tested on the scaled inputs alike.

    Examples
    --------
    >>> import pytest; _ = pytest.importorskip("sklearn")
    >>> data = digits(28)
    >>> data
    Digits(resolution=28, train=1438, test=359, inputs=784)
    >>> bool(np.allclose(np.linalg.norm(data.x_test, axis=1), data.radius))
    True
    """
    resolution = check_int("resolution", resolution)
    if resolution not in (8, 28):
        raise InvalidParameterError(f"`resolution` must be 8 or 28; got {resolution}.")
    return _digits(resolution)


@functools.lru_cache(maxsize=2)
def _digits(resolution: int) -> Digits:
    bundled = _optional_import("sklearn.datasets", "strong_lth.datasets.digits").load_digits()
    images, labels = bundled.images / 16.0, bundled.target.astype(np.int64)
    if resolution == 28:
        images = ndimage.zoom(images, (1, 3.5, 3.5), order=1, mode="nearest", grid_mode=True)
    x = images.reshape(len(images), -1)
    x = x * (RADIUS / np.linalg.norm(x, axis=1, keepdims=True))
    gen = np.random.default_rng(SPLIT_SEED)
    test = np.zeros(len(labels), dtype=bool)
    for label in range(10):
        members = gen.permutation(np.flatnonzero(labels == label))
        test[members[: round(TEST_FRACTION * len(members))]] = True
    parts = (x[~test], labels[~test], x[test], labels[test])  # fancy indexing copies
    for part in parts:
        part.flags.writeable = False
    return Digits(resolution, *parts)


def _check_labels(x: np.ndarray, y: Any) -> np.ndarray:
    labels = check_array("y", y, shape=(len(x),), dtype=np.int64)
    if labels.size and labels.min() < 0:
        raise InvalidParameterError(f"`y` must hold labels >= 0; got {labels.min()}.")
    return labels


def train_target(
    x: Any,
    y: Any,
    hidden: Any,
    *,
    bias: bool = True,
    rng: Any,
    epochs: int = 30,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
) -> ReLUNetwork:
    """Train a ReLU classifier with plain NumPy: softmax cross-entropy, Adam, mini-batches.

    Parameters
    ----------
    x : array_like, shape (m, d)
        Training inputs.
    y : array_like of int, shape (m,)
        Labels ``0..k-1``; the network has ``k = max(y) + 1`` outputs (logits).
    hidden : sequence of int
        Hidden widths, e.g. ``(32,)`` for a 64-32-10 network or ``(500,)`` for Pensia's
        784-500-10.
    bias : bool, default True
        Whether the layers have biases; ``False`` trains the bias-free networks of the theorems
        (docs/theory.md, section 1).
    rng : None, int or numpy.random.Generator
        Seeds the initialisation and the batch order: the same seed gives the same network, bit
        for bit (on the same BLAS).
    epochs, batch_size : int
        Passes over the data and examples per Adam step.
    learning_rate : float
        Adam step size (β1 = 0.9, β2 = 0.999, ε = 1e-8).

    Returns
    -------
    ReLUNetwork
        The trained network; its outputs are the logits.

    Raises
    ------
    InvalidParameterError
        If an argument is invalid.

    Notes
    -----
    He initialisation (weights ``N(0, 2 / fan_in)``, zero biases), then ``epochs`` passes over a
    fresh permutation each, minimising the mean cross-entropy of ``softmax(F(x))`` by Adam
    (Kingma and Ba, ICLR 2015) with gradients by back-propagation.

    Examples
    --------
    >>> x = np.random.default_rng(0).standard_normal((200, 4))
    >>> y = (x[:, 0] > 0).astype(int)
    >>> net = train_target(x, y, (8,), rng=0, epochs=20, learning_rate=0.01)
    >>> net
    ReLUNetwork(widths=(4, 8, 2), bias=True)
    >>> bool(np.mean(net.forward(x).argmax(axis=1) == y) > 0.9)
    True
    """
    x = check_array("x", x, ndim=2)
    y = _check_labels(x, y)
    if len(x) == 0:
        raise InvalidParameterError("`x` must hold at least one example; got none.")
    hidden = _check_int_tuple("hidden", hidden, low=1, min_len=0)
    epochs = check_int("epochs", epochs, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    learning_rate = check_real("learning_rate", learning_rate, low=0.0, low_open=True)
    gen = as_generator(rng)
    widths = (x.shape[1], *hidden, int(y.max()) + 1)
    weights = [
        gen.standard_normal((d_out, d_in)) * math.sqrt(2.0 / d_in)
        for d_in, d_out in itertools.pairwise(widths)
    ]
    biases = [np.zeros(d) for d in widths[1:]] if bias else []
    _adam(
        weights + biases,
        lambda rows: _gradients(weights, biases, x[rows], y[rows]),
        len(x),
        gen,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
    )
    return ReLUNetwork(tuple(weights), tuple(biases) if bias else None)


def _adam(params, gradients, count, gen, *, epochs, batch_size, learning_rate) -> None:
    """Adam (Kingma and Ba 2015, β = (0.9, 0.999), ε = 1e-8) on ``params`` in place: ``epochs``
    passes over ``count`` examples in batches of a permutation drawn from ``gen``;
    ``gradients(rows)`` returns the gradient of every parameter on those rows."""
    first, second = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    step = 0
    for _ in range(epochs):
        order = gen.permutation(count)
        for begin in range(0, count, batch_size):
            step += 1
            for p, g, m, v in zip(
                params, gradients(order[begin : begin + batch_size]), first, second
            ):
                m *= 0.9
                m += 0.1 * g
                v *= 0.999
                v += 0.001 * g * g
                p -= learning_rate * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)


def _gradients(weights, biases, x, y):
    """Gradients of the mean cross-entropy with respect to ``weights + biases``."""
    activations = [x]
    for k, w in enumerate(weights):
        h = activations[-1] @ w.T
        if biases:
            h += biases[k]
        activations.append(np.maximum(h, 0.0) if k < len(weights) - 1 else h)
    logits = activations[-1]
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1.0
    upstream = p / len(y)
    grad_w, grad_b = [None] * len(weights), [None] * len(weights)
    for k in range(len(weights) - 1, -1, -1):
        grad_w[k] = upstream.T @ activations[k]
        grad_b[k] = upstream.sum(axis=0)
        if k:
            upstream = (upstream @ weights[k]) * (activations[k] > 0)
    return grad_w + (grad_b if biases else [])


def train_conv_target(
    x: Any,
    y: Any,
    channels: Any = (8, 16),
    *,
    input_shape: Any = (1, 8, 8),
    kernel_size: int = 3,
    rng: Any,
    epochs: int = 30,
    batch_size: int = 64,
    learning_rate: float = 3e-3,
    bias: bool = False,
) -> ConvNetwork:
    """Train a convolutional classifier (bias-free by default) with plain NumPy, as
    :func:`train_target`.

    Parameters
    ----------
    x : array_like, shape (m, C H W) or (m, C, H, W)
        Training images (e.g. :func:`digits` rows with ``input_shape=(1, 8, 8)``).
    y : array_like of int, shape (m,)
        Labels ``0..k-1``.
    channels : sequence of int, default (8, 16)
        Output channels of the convolutions (stride 1, no padding, ReLU after each); a Flatten
        and a dense layer to ``k`` logits follow.
    input_shape : (C, H, W), default (1, 8, 8)
    kernel_size : int, default 3
    rng : None, int or numpy.random.Generator
        Seeds the initialisation and the batch order: the same seed gives the same network, bit
        for bit (on the same BLAS); PyTorch plays no part.
    epochs, batch_size : int
    learning_rate : float
        Adam step size.
    bias : bool, default False
        Give every Conv2d and the Linear a bias (initialised to 0, trained with the weights;
        the random draws, hence the bias-free network of the same seed, are unchanged).

    Returns
    -------
    ConvNetwork
        ``Conv2d(C -> channels[0], k), ReLU, ..., Flatten, Linear(-> k)``, with biases when
        ``bias``.

    Raises
    ------
    InvalidParameterError
        If an argument is invalid or the kernels do not fit the images.

    Notes
    -----
    He initialisation, softmax cross-entropy, Adam (as :func:`train_target`); a convolution's
    gradient is computed on its input patches (``im2col``): with ``P`` the ``(C k k, H' W')``
    patches of one image, ``y = K P``, ``dK = dy P^T`` and ``dP = K^T dy``, scattered back onto
    the image.

    Examples
    --------
    >>> gen = np.random.default_rng(0)
    >>> x = gen.standard_normal((300, 1, 6, 6))
    >>> y = (x[:, 0, :3].sum(axis=(1, 2)) > x[:, 0, 3:].sum(axis=(1, 2))).astype(int)
    >>> net = train_conv_target(x, y, (4,), input_shape=(1, 6, 6), rng=0, epochs=40,
    ...                         learning_rate=0.01)
    >>> bool(np.mean(net.forward(x).argmax(axis=1) == y) > 0.9)
    True
    """
    shape = _check_int_tuple("input_shape", input_shape, low=1, min_len=3)
    if len(shape) != 3:
        raise InvalidParameterError(f"`input_shape` must be (C, H, W); got {shape}.")
    x = check_array("x", x)
    if x.ndim == 2 and x.shape[1] == math.prod(shape):
        x = x.reshape(len(x), *shape)
    if x.ndim != 4 or x.shape[1:] != shape:
        raise InvalidParameterError(
            f"`x` must have shape (m, {math.prod(shape)}) or (m, {', '.join(map(str, shape))}); "
            f"got {x.shape}."
        )
    if len(x) == 0:
        raise InvalidParameterError("`x` must hold at least one example; got none.")
    y = _check_labels(x, y)
    channels = _check_int_tuple("channels", channels, low=1)
    k = check_int("kernel_size", kernel_size, low=1)
    epochs = check_int("epochs", epochs, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    learning_rate = check_real("learning_rate", learning_rate, low=0.0, low_open=True)
    gen = as_generator(rng)
    kernels, c, side = [], shape[0], shape[1:]
    for out in channels:
        fan_in = c * k * k
        kernels.append(gen.standard_normal((out, c, k, k)) * math.sqrt(2.0 / fan_in))
        c, side = out, (side[0] - k + 1, side[1] - k + 1)
        if min(side) < 1:
            raise InvalidParameterError(
                f"`kernel_size` {k} must fit the images: {len(channels)} convolutions of it do "
                f"not fit {shape[1]}x{shape[2]}."
            )
    flat = c * side[0] * side[1]
    dense = gen.standard_normal((int(y.max()) + 1, flat)) * math.sqrt(2.0 / flat)
    if not isinstance(bias, bool | np.bool_):
        raise InvalidParameterError(f"`bias` must be True or False; got {bias!r}.")
    biases = [np.zeros(len(w)) for w in (*kernels, dense)] if bias else None
    _adam(
        [*kernels, dense, *(biases or [])],
        lambda rows: _conv_gradients(kernels, dense, x[rows], y[rows], biases),
        len(x),
        gen,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
    )
    offsets = biases or [None] * (len(kernels) + 1)
    layers = [layer for kernel, b in zip(kernels, offsets) for layer in (Conv2d(kernel, b), ReLU())]
    return ConvNetwork(shape, [*layers, Flatten(), Linear(dense, offsets[-1])])


def _patches(h: np.ndarray, k: int) -> np.ndarray:
    """``(N, C k k, H' W')`` patches of a batch for a stride-1 valid convolution of size k."""
    windows = np.lib.stride_tricks.sliding_window_view(h, (k, k), axis=(2, 3))
    n, c, ho, wo = windows.shape[:4]
    return windows.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * k * k, ho * wo)


def _conv_gradients(kernels, dense, x, y, biases=None):
    """Gradients of the mean cross-entropy with respect to ``kernels + [dense]`` (then the
    ``biases`` of every convolution and of the dense layer, when given)."""
    k = kernels[0].shape[-1]
    inputs, patches, h = [], [], x
    for i, kernel in enumerate(kernels):
        p = _patches(h, k)
        out = np.einsum("of,nfp->nop", kernel.reshape(len(kernel), -1), p)
        if biases is not None:
            out += biases[i][:, None]
        side = (h.shape[2] - k + 1, h.shape[3] - k + 1)
        inputs.append(h)
        patches.append(p)
        h = np.maximum(out, 0.0).reshape(len(x), len(kernel), *side)
    features = h.reshape(len(x), -1)
    logits = features @ dense.T
    if biases is not None:
        logits += biases[-1]
    prob = np.exp(logits - logits.max(axis=1, keepdims=True))
    prob /= prob.sum(axis=1, keepdims=True)
    prob[np.arange(len(y)), y] -= 1.0
    upstream = prob / len(y)
    grads = [None] * len(kernels) + [upstream.T @ features]
    bias_grads = [None] * len(kernels) + [upstream.sum(axis=0)]
    dh = (upstream @ dense).reshape(h.shape) * (h > 0)
    for i in range(len(kernels) - 1, -1, -1):
        kernel, p, below = kernels[i], patches[i], inputs[i]
        dy = dh.reshape(len(x), len(kernel), -1)
        grads[i] = np.einsum("nop,nfp->of", dy, p).reshape(kernel.shape)
        bias_grads[i] = dy.sum(axis=(0, 2))
        if i:
            dp = np.einsum("of,nop->nfp", kernel.reshape(len(kernel), -1), dy)
            dp = dp.reshape(len(x), below.shape[1], k, k, h.shape[2], h.shape[3])
            back = np.zeros_like(below)
            for a, b in itertools.product(range(k), range(k)):
                back[:, :, a : a + h.shape[2], b : b + h.shape[3]] += dp[:, :, a, b]
            dh = back * (below > 0)
            h = below
    return grads if biases is None else grads + bias_grads


def _labels(outputs: np.ndarray) -> np.ndarray:
    """Predicted labels: argmax of the outputs, or ``output > 0`` for a single output."""
    if outputs.shape[1] == 1:
        return (outputs[:, 0] > 0).astype(np.int64)
    return outputs.argmax(axis=1)


def margin_eps(target: ReLUNetwork, x: Any, *, radius: float = RADIUS) -> float:
    """The largest certified error over the ball of ``radius`` that keeps every prediction on ``x``.

    Parameters
    ----------
    target : ReLUNetwork or ConvNetwork
        The network whose predictions must be kept.
    x : array_like, shape (m, d)
        Inputs (e.g. the test set; for a ConvNetwork also images ``(m, C, H, W)``, whose
        norm is that of ``vec(x)``).
    radius : float, default :data:`RADIUS`
        The radius the ticket's error is certified over (``approximate(..., radius=radius)``).

    Returns
    -------
    float
        ε such that every network ``G`` with ``sup_{||z|| <= radius} ||F(z) - G(z)||_2 < ε``
        predicts the same label as ``F`` on every row of ``x``.

    Raises
    ------
    InvalidParameterError
        If ``x`` has the wrong shape, ``radius`` is not positive, a row lies outside the ball
        when ``target`` has biases, or ``target`` ties on some row (no ε > 0 is safe).

    Notes
    -----
    With ``c`` the predicted label and ``e = F(x) - G(x)``: for every ``j != c``,
    ``G_c - G_j >= (F_c - F_j) - (|e_c| + |e_j|) >= gap(x) - sqrt(2) ||e||_2``, since
    ``|e_c| + |e_j| <= sqrt(2) (e_c² + e_j²)^½`` (Cauchy-Schwarz), where ``gap(x)`` is the top
    output minus the runner-up. So ``||e||_2 < gap(x) / sqrt(2)`` keeps the label; the bound
    ``gap / 2``, which also covers ``||e||_∞``, would ask for sqrt(2) times less. With one
    output (label = sign) the condition is ``||e|| < |F(x)|``.

    The certificate bounds ``||e||`` over the whole ball. A bias-free network is positively
    homogeneous (docs/theory.md, section 1), so at ``x`` the error is at most ``(||x|| / radius) ε``
    and the safe ε is ``min_x radius · gap(x) / (sqrt(2) ||x||)``: only the direction of ``x``
    matters. With biases there is no such scaling: every row must lie in the ball, and the safe
    ε is ``min_x gap(x) / sqrt(2)``. ``approximate(target, eps=ε)`` certifies an error of at most
    ``ε (1 - 1e-9) < ε``, so its ticket keeps every prediction.

    Examples
    --------
    >>> net = ReLUNetwork([[[1.0, 0.0], [0.0, 1.0]]])  # outputs = inputs
    >>> float(margin_eps(net, [[1.0, 0.0], [0.0, 2.0]]))  # gaps 1 and 2, norms 1 and 2
    0.7071067811865475
    """
    x = _rows(target, x)
    if len(x) == 0:
        raise InvalidParameterError("`x` must hold at least one input; got none.")
    radius = check_real("radius", radius, low=0.0, low_open=True)
    outputs = target.forward(x)
    if outputs.shape[1] == 1:
        safe = np.abs(outputs[:, 0])
    else:
        top = np.sort(outputs, axis=1)
        safe = (top[:, -1] - top[:, -2]) / math.sqrt(2.0)
    norms = np.linalg.norm(x, axis=1)
    if target.has_bias:
        outside = np.flatnonzero(norms > radius * (1 + RADIUS_RTOL))
        if outside.size:
            raise InvalidParameterError(
                f"`x` must lie in the ball of radius {radius:g} (the target has biases, so its "
                f"error does not scale with ||x||); got row {outside[0]} of norm "
                f"{norms[outside[0]]:.6g}."
            )
    else:
        safe = np.where(norms > 0, safe * radius / np.where(norms > 0, norms, 1.0), 0.0)
    worst = int(np.argmin(safe))
    if not safe[worst] > 0:
        raise InvalidParameterError(
            f"`target` must not tie on any input of `x`; got a tie (or a zero input) at row "
            f"{worst}, where no error ε > 0 keeps the prediction."
        )
    return float(safe[worst])


@dataclass(frozen=True, eq=False)
class Evaluation:
    """A target and a pruned network on the same labelled inputs.

    Attributes
    ----------
    target_accuracy, pruned_accuracy : float
        Share of rows whose predicted label equals ``y``: the target's, and the pruned network's
        from its own forward pass.
    agreement : float
        Share of rows on which both predict the same label.
    max_output_difference : float
        ``max_x ||F(x) - G(x)||_2`` over the rows (compare with the certified ε).
    target_labels, pruned_labels : ndarray of int64
        The predicted labels.
    pruned_outputs : ndarray
        ``G(x)``, the pruned network's outputs the figures are computed from.

    Notes
    -----
    ``repr`` and ``str`` show the four figures and the size of the arrays, never the arrays.

    Examples
    --------
    >>> labels = np.array([0, 1, 1])
    >>> Evaluation(1.0, 2 / 3, 2 / 3, 0.0123, labels, labels, np.zeros((3, 2)))
    Evaluation(3 rows: target_accuracy=1, pruned_accuracy=0.6667, agreement=0.6667, \
max_output_difference=0.0123)
    """

    target_accuracy: float
    pruned_accuracy: float
    agreement: float
    max_output_difference: float
    target_labels: np.ndarray
    pruned_labels: np.ndarray
    pruned_outputs: np.ndarray

    def __repr__(self) -> str:
        return (
            f"Evaluation({len(self.target_labels)} rows: "
            f"target_accuracy={self.target_accuracy:.4g}, "
            f"pruned_accuracy={self.pruned_accuracy:.4g}, agreement={self.agreement:.4g}, "
            f"max_output_difference={self.max_output_difference:.4g})"
        )

    __str__ = __repr__


def _rows(target: Any, x: Any) -> np.ndarray:
    """``x`` checked as flat rows ``(m, d)`` of ``target``'s inputs; a :class:`ConvNetwork`
    takes images ``(m, C, H, W)`` or flat rows and gets them flattened (``vec(x)``, the inputs
    of its :meth:`~strong_lth.convnets.ConvNetwork.dense_equivalent`, on which the certificate's
    ball lives)."""
    if isinstance(target, ConvNetwork):
        images = target.check_inputs(x)
        return images.reshape(len(images), -1)
    if not isinstance(target, ReLUNetwork):
        raise InvalidParameterError(
            f"`target` must be a ReLUNetwork or a ConvNetwork; got {type(target).__name__}."
        )
    return check_array("x", x, ndim=2, shape=(None, target.widths[0]))


def evaluate(target: ReLUNetwork, pruned: Any, x: Any, y: Any) -> Evaluation:
    """Accuracy of a target and of a pruned network, their agreement and largest output gap.

    Parameters
    ----------
    target : ReLUNetwork or ConvNetwork
        The network ``F``.
    pruned : Ticket or ReLUNetwork (ConvTicket or ConvNetwork for a ConvNetwork target)
        The pruned network ``G``: a ticket is evaluated by :meth:`Ticket.forward` (its pruned
        network with the masks applied), a network by its own ``forward``.
    x : array_like, shape (m, d)
        Inputs (for a ConvNetwork target also images ``(m, C, H, W)``).
    y : array_like of int, shape (m,)
        True labels.

    Returns
    -------
    Evaluation

    Raises
    ------
    InvalidParameterError
        If ``target`` or ``pruned`` has the wrong type, or ``x`` and ``y`` do not match them.

    Notes
    -----
    Predicted label: argmax of the outputs (``output > 0`` for a single output). The pruned
    network's accuracy is computed from ``G(x)`` alone, never from the target: the mistake
    Pensia et al.'s README reports having made once (docs/theory.md, section 8).

    Examples
    --------
    >>> from strong_lth import approximate
    >>> target = ReLUNetwork.random((4, 6, 3), rng=0)
    >>> x = np.random.default_rng(1).standard_normal((100, 4))
    >>> x /= np.linalg.norm(x, axis=1, keepdims=True)
    >>> ticket = approximate(target, eps=margin_eps(target, x), rng=2)
    >>> result = evaluate(target, ticket, x, target.forward(x).argmax(axis=1))
    >>> result.pruned_accuracy, result.agreement
    (1.0, 1.0)
    >>> bool(result.max_output_difference <= ticket.report.certified)
    True
    """
    x = _rows(target, x)
    if isinstance(target, ConvNetwork) and not isinstance(pruned, ConvTicket | ConvNetwork):
        raise InvalidParameterError(
            "`pruned` must be a ConvTicket or a ConvNetwork (the target is a ConvNetwork); "
            f"got {type(pruned).__name__}."
        )
    if isinstance(target, ReLUNetwork) and not isinstance(pruned, Ticket | ReLUNetwork):
        raise InvalidParameterError(
            f"`pruned` must be a Ticket or a ReLUNetwork; got {type(pruned).__name__}."
        )
    if len(x) == 0:
        raise InvalidParameterError("`x` must hold at least one input; got none.")
    y = _check_labels(x, y)
    expected = target.forward(x)
    outputs = pruned.forward(x)
    if outputs.shape != expected.shape:
        raise InvalidParameterError(
            f"`pruned` must have the target's {expected.shape[1]} outputs; got {outputs.shape[1]}."
        )
    target_labels, pruned_labels = _labels(expected), _labels(outputs)
    return Evaluation(
        target_accuracy=float(np.mean(target_labels == y)),
        pruned_accuracy=float(np.mean(pruned_labels == y)),
        agreement=float(np.mean(target_labels == pruned_labels)),
        max_output_difference=float(np.linalg.norm(expected - outputs, axis=1).max()),
        target_labels=target_labels,
        pruned_labels=pruned_labels,
        pruned_outputs=outputs,
    )
