"""Convolutional targets: :class:`ConvNetwork`, a frozen stack of 2-D convolutions, ReLU, average
pooling, flattening and dense layers, on images of shape ``(C, H, W)``.

Beside :class:`~strong_lth.networks.ReLUNetwork` (dense layers only) this module holds the data,
the forward pass on batches ``(N, C, H, W)``, ``.npz`` input/output without pickles, a
fingerprint, import from a PyTorch ``nn.Sequential`` (optional dependency) and the explicit
matrix of every linear layer on its input's size (:func:`layer_matrix`), from which
:meth:`ConvNetwork.dense_equivalent` builds the same function as a dense ReLU network.

Convolutions are cross-correlations, as in PyTorch: ``y[o, i, j] = Σ_{c,a,b} K[o, c, a, b]
x_pad[c, i s_h + a, j s_w + b]`` with ``x_pad`` the input zero-padded by ``(p_h, p_w)`` on each
side; output size ``H_out = (H + 2 p_h - k_h) // s_h + 1``.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import _fmt, check_array, check_int, check_real
from .exceptions import FileFormatError, InvalidParameterError
from .networks import ReLUNetwork, _optional_import, _read_only, read_npz, write_npz

__all__ = [
    "AvgPool2d",
    "Conv2d",
    "ConvNetwork",
    "Flatten",
    "Linear",
    "ReLU",
    "constant_tap",
    "conv2d",
    "is_conv_file",
    "layer_matrix",
]


def _pair(name: str, value: Any, low: int) -> tuple[int, int]:
    """An int or a pair of ints, each ``>= low``, as a pair."""
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        value = (value, value)
    if not isinstance(value, tuple | list | np.ndarray) or len(value) != 2:
        raise InvalidParameterError(
            f"`{name}` must be an integer or a pair of integers; got {_fmt(value)}."
        )
    return tuple(check_int(f"{name}[{k}]", v, low=low) for k, v in enumerate(value))


def _optional_bias(name: str, bias: Any, size: int) -> np.ndarray | None:
    if bias is None:
        return None
    return _read_only(check_array(name, bias, shape=(size,)))


@dataclass(frozen=True, eq=False, repr=False)
class Conv2d:
    """A 2-D convolution (cross-correlation) with zero padding; no dilation, no groups.

    Parameters
    ----------
    weight : array_like, shape (O, C, k_h, k_w)
        The kernel ``K``, finite.
    bias : array_like, shape (O,), optional
        Added to every position of output channel o.
    stride, padding : int or pair of int
        ``(s_h, s_w) >= 1`` and ``(p_h, p_w) >= 0``.
    """

    weight: np.ndarray
    bias: np.ndarray | None = None
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)

    def __post_init__(self) -> None:
        weight = check_array("weight", self.weight, ndim=4)
        if weight.size == 0:
            raise InvalidParameterError(
                f"`weight` must have positive dimensions; got shape {weight.shape}."
            )
        object.__setattr__(self, "weight", _read_only(weight))
        object.__setattr__(self, "bias", _optional_bias("bias", self.bias, weight.shape[0]))
        object.__setattr__(self, "stride", _pair("stride", self.stride, 1))
        object.__setattr__(self, "padding", _pair("padding", self.padding, 0))

    def __repr__(self) -> str:
        o, c, kh, kw = self.weight.shape
        return (
            f"Conv2d({c}->{o}, kernel={kh}x{kw}, stride={self.stride}, padding={self.padding}, "
            f"bias={self.bias is not None})"
        )

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, int, int]:
        """``(O, H_out, W_out)`` on an input of shape ``(C, H, W)``."""
        _, c, kh, kw = self.weight.shape
        if len(shape) != 3 or shape[0] != c:
            raise InvalidParameterError(
                f"`layers` {self!r} must read an image of {c} channels (C, H, W); got an input "
                f"of shape {shape}."
            )
        return (self.weight.shape[0], *_window_sizes(self, shape[1:], (kh, kw), self.padding))


@dataclass(frozen=True, eq=False, repr=False)
class Linear:
    """A dense layer ``h -> W h + b`` on a flat input.

    Parameters
    ----------
    weight : array_like, shape (O, I)
    bias : array_like, shape (O,), optional
    """

    weight: np.ndarray
    bias: np.ndarray | None = None

    def __post_init__(self) -> None:
        weight = check_array("weight", self.weight, ndim=2)
        if weight.size == 0:
            raise InvalidParameterError(
                f"`weight` must have positive dimensions; got shape {weight.shape}."
            )
        object.__setattr__(self, "weight", _read_only(weight))
        object.__setattr__(self, "bias", _optional_bias("bias", self.bias, weight.shape[0]))

    def __repr__(self) -> str:
        o, i = self.weight.shape
        return f"Linear({i}->{o}, bias={self.bias is not None})"

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int]:
        if shape != (self.weight.shape[1],):
            raise InvalidParameterError(
                f"`layers` {self!r} must read a flat input of {self.weight.shape[1]} features "
                f"(put a Flatten before it); got an input of shape {shape}."
            )
        return (self.weight.shape[0],)


@dataclass(frozen=True, eq=False, repr=False)
class AvgPool2d:
    """Average pooling over ``k_h x k_w`` windows, without padding (each output is the mean of
    one window of its channel).

    Parameters
    ----------
    kernel_size : int or pair of int
    stride : int or pair of int, optional
        Default: ``kernel_size`` (non-overlapping windows, as PyTorch).
    """

    kernel_size: tuple[int, int]
    stride: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        kernel = _pair("kernel_size", self.kernel_size, 1)
        object.__setattr__(self, "kernel_size", kernel)
        stride = kernel if self.stride is None else _pair("stride", self.stride, 1)
        object.__setattr__(self, "stride", stride)

    def __repr__(self) -> str:
        return f"AvgPool2d(kernel={self.kernel_size}, stride={self.stride})"

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, int, int]:
        if len(shape) != 3:
            raise InvalidParameterError(
                f"`layers` {self!r} must read an image (C, H, W); got an input of shape {shape}."
            )
        return (shape[0], *_window_sizes(self, shape[1:], self.kernel_size, (0, 0)))


@dataclass(frozen=True, repr=False)
class ReLU:
    """``σ(t) = max(t, 0)``, entrywise."""

    def __repr__(self) -> str:
        return "ReLU()"

    def output_shape(self, shape):
        return shape


@dataclass(frozen=True, repr=False)
class Flatten:
    """``(C, H, W) -> (C H W,)`` in C order (PyTorch's ``nn.Flatten()``): a permutation-free
    reshape, an isometry."""

    def __repr__(self) -> str:
        return "Flatten()"

    def output_shape(self, shape):
        return (math.prod(shape),)


LAYER_TYPES = (Conv2d, ReLU, Flatten, AvgPool2d, Linear)
"""The layer types a :class:`ConvNetwork` holds."""

_BASIS_CHUNK = 256
"""Unit vectors :func:`layer_matrix` pushes through a layer at once."""


def is_conv_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a readable ``.npz`` of a :class:`ConvNetwork`: :meth:`ConvNetwork.
    to_npz` writes an array ``kinds``, a :class:`~strong_lth.networks.ReLUNetwork` file holds
    only ``W{i}`` and ``b{i}``. False for anything unreadable (whose loader then says why).

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "net.npz")
    >>> ConvNetwork((1, 3, 3), [Flatten(), Linear(np.ones((2, 9)))]).to_npz(path)
    >>> is_conv_file(path), is_conv_file(os.path.join(os.path.dirname(path), "none.npz"))
    (True, False)
    """
    try:
        with zipfile.ZipFile(path) as archive:
            return "kinds.npy" in archive.namelist()
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def _window_sizes(layer, size, kernel, padding) -> tuple[int, int]:
    out = []
    for axis, (n, k, p, s) in enumerate(zip(size, kernel, padding, layer.stride)):
        if n + 2 * p < k:
            raise InvalidParameterError(
                f"`layers` {layer!r} must have a kernel no larger than its padded input: kernel "
                f"{kernel[0]}x{kernel[1]} on an input of {size[0]}x{size[1]} padded by {padding} "
                f"(axis {axis}: {k} > {n + 2 * p})."
            )
        out.append((n + 2 * p - k) // s + 1)
    return tuple(out)


def conv2d(x: np.ndarray, weight: np.ndarray, stride=(1, 1), padding=(0, 0)) -> np.ndarray:
    """Cross-correlation of a batch ``x`` (N, C, H, W) with ``weight`` (O, C, k_h, k_w).

    Zero padding ``(p_h, p_w)`` on each side, stride ``(s_h, s_w)``; returns
    ``(N, O, H_out, W_out)``. No validation (callers check shapes).
    """
    (ph, pw), (sh, sw) = padding, stride
    kh, kw = weight.shape[2:]
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))[
        :, :, ::sh, ::sw
    ]  # (N, C, H_out, W_out, k_h, k_w), a view
    out = np.tensordot(windows, weight, axes=([1, 4, 5], [1, 2, 3]))  # (N, H_out, W_out, O)
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))


def _apply(layer, h: np.ndarray) -> np.ndarray:
    """One layer on a batch (no validation)."""
    if isinstance(layer, Conv2d):
        out = conv2d(h, layer.weight, layer.stride, layer.padding)
        return out if layer.bias is None else out + layer.bias[:, None, None]
    if isinstance(layer, Linear):
        out = h @ layer.weight.T
        return out if layer.bias is None else out + layer.bias
    if isinstance(layer, ReLU):
        return np.maximum(h, 0.0)
    if isinstance(layer, Flatten):
        return h.reshape(len(h), -1)
    kh, kw = layer.kernel_size
    c = h.shape[1]
    kernel = np.zeros((c, c, kh, kw))
    kernel[np.arange(c), np.arange(c)] = 1.0 / (kh * kw)
    return conv2d(h, kernel, layer.stride)


def layer_matrix(layer, shape: tuple[int, ...]) -> np.ndarray:
    """The matrix of a linear layer (bias left out) on inputs of ``shape``, flattened in C order.

    Parameters
    ----------
    layer : Conv2d, AvgPool2d, Linear or Flatten
    shape : tuple of int
        The layer's input shape, ``(C, H, W)`` or ``(d,)``.

    Returns
    -------
    ndarray, shape (prod(output shape), prod(shape))
        Column j is the layer applied to the j-th unit vector: ``M vec(x) = vec(layer(x))``.

    Notes
    -----
    Built by applying the layer to unit vectors (in chunks), so it is the layer's own arithmetic
    (each entry is one kernel entry, a pooling weight ``1 / (k_h k_w)``, or 0/1).
    """
    size = math.prod(shape)
    if getattr(layer, "bias", None) is not None:
        layer = type(layer)(**{**layer.__dict__, "bias": None})
    out = np.empty((math.prod(layer.output_shape(shape)), size))
    for lo in range(0, size, _BASIS_CHUNK):  # unit vectors a chunk at a time: memory ~ out
        count = min(_BASIS_CHUNK, size - lo)
        basis = np.zeros((count, size))
        basis[np.arange(count), lo + np.arange(count)] = 1.0
        out[:, lo : lo + count] = _apply(layer, basis.reshape(count, *shape)).reshape(count, -1).T
    return out


def constant_tap(layer: Conv2d, shape: tuple[int, ...]) -> tuple[int, int] | None:
    """The kernel tap ``(a, b)`` that reads inside the unpadded input at every output position,
    closest to the kernel's centre; None when no tap does.

    Parameters
    ----------
    layer : Conv2d
    shape : (C, H, W)
        The layer's input shape.

    Returns
    -------
    (a, b) or None
        Output pixel ``(i, j)`` reads input pixel ``(i s_h + a - p_h, j s_w + b - p_w)`` through
        tap ``(a, b)``: the tap is valid on an axis iff ``a >= p`` and ``(n_out - 1) s + a - p <=
        n - 1``. A channel equal to a constant ``c`` on the image (0 on the padding) then gives
        exactly ``c`` times the tap's weight at every output pixel. Such a tap exists when
        ``p <= (k - 1) / 2`` (e.g. "same" padding of an odd kernel, or no padding); with a larger
        padding the border outputs read only padding through some taps, and possibly through all.

    Examples
    --------
    >>> constant_tap(Conv2d(np.ones((1, 1, 3, 3)), padding=1), (1, 5, 5))
    (1, 1)
    >>> constant_tap(Conv2d(np.ones((1, 1, 3, 3)), padding=2), (1, 5, 5)) is None
    True
    """
    out = layer.output_shape(shape)[1:]
    taps = []
    for n, n_out, k, p, s in zip(
        shape[1:], out, layer.weight.shape[2:], layer.padding, layer.stride
    ):
        valid = [a for a in range(k) if a >= p and (n_out - 1) * s + a - p <= n - 1]
        if not valid:
            return None
        taps.append(min(valid, key=lambda a: (abs(2 * a - (k - 1)), a)))
    return tuple(taps)


@dataclass(frozen=True, eq=False, repr=False)
class ConvNetwork:
    """A convolutional ReLU network: a sequence of :class:`Conv2d`, :class:`ReLU`,
    :class:`AvgPool2d`, :class:`Flatten` and :class:`Linear` layers on inputs ``(C, H, W)``.

    Parameters
    ----------
    input_shape : tuple of int
        ``(C, H, W)`` of one input.
    layers : sequence of layers
        Applied in order; shapes must chain (a Linear reads a flat input, a Conv2d or AvgPool2d
        an image).

    Raises
    ------
    InvalidParameterError
        If ``layers`` is empty, holds another type, or the shapes do not chain (a kernel larger
        than its padded input, a Linear on an image, wrong channel counts).

    Notes
    -----
    Unlike :class:`~strong_lth.networks.ReLUNetwork`, ReLU is a layer of its own, so pooling and
    flattening can sit anywhere. Parameters are stored as read-only float64 copies.

    Examples
    --------
    >>> net = ConvNetwork((1, 4, 4), [Conv2d(np.ones((2, 1, 3, 3))), ReLU(), Flatten(),
    ...                               Linear(np.ones((1, 8)))])
    >>> net.shapes
    ((1, 4, 4), (2, 2, 2), (2, 2, 2), (8,), (1,))
    >>> net.forward(np.ones((1, 1, 4, 4)))
    array([[72.]])
    """

    input_shape: tuple[int, int, int]
    layers: tuple

    def __post_init__(self) -> None:
        shape = self.input_shape
        if not isinstance(shape, tuple | list) or len(shape) != 3:
            raise InvalidParameterError(
                f"`input_shape` must be (C, H, W), three positive integers; got {_fmt(shape)}."
            )
        shape = tuple(check_int(f"input_shape[{k}]", v, low=1) for k, v in enumerate(shape))
        object.__setattr__(self, "input_shape", shape)
        if not isinstance(self.layers, tuple | list) or not self.layers:
            raise InvalidParameterError(
                f"`layers` must be a non-empty sequence of layers; got {_fmt(self.layers)}."
            )
        shapes = [shape]
        for k, layer in enumerate(self.layers):
            if not isinstance(layer, LAYER_TYPES):
                names = ", ".join(t.__name__ for t in LAYER_TYPES)
                raise InvalidParameterError(
                    f"`layers[{k}]` must be one of {names}; got {type(layer).__name__}."
                )
            shapes.append(tuple(layer.output_shape(shapes[-1])))
        object.__setattr__(self, "layers", tuple(self.layers))
        object.__setattr__(self, "_shapes", tuple(shapes))

    def __repr__(self) -> str:
        return f"ConvNetwork(input_shape={self.input_shape}, layers={list(self.layers)})"

    @property
    def shapes(self) -> tuple[tuple[int, ...], ...]:
        """Input shape, then the output shape of every layer."""
        return self._shapes

    @property
    def has_bias(self) -> bool:
        """Whether some Conv2d or Linear layer has a bias."""
        return any(getattr(layer, "bias", None) is not None for layer in self.layers)

    @property
    def weighted(self) -> tuple[int, ...]:
        """Indices of the Conv2d and Linear layers (those a ticket approximates)."""
        return tuple(k for k, ly in enumerate(self.layers) if isinstance(ly, Conv2d | Linear))

    @property
    def n_params(self) -> int:
        """Number of weights plus number of biases."""
        return sum(a.size for a in self._arrays())

    def _arrays(self):
        for layer in self.layers:
            if isinstance(layer, Conv2d | Linear):
                yield layer.weight
                if layer.bias is not None:
                    yield layer.bias

    def fingerprint(self) -> str:
        """SHA-256 of the architecture (layer types, shapes, strides, paddings, pooling) and of
        every parameter's float64 bytes, in hex: equal exactly for the same architecture and
        bit-identical parameters.

        Examples
        --------
        >>> a = ConvNetwork((1, 3, 3), [Conv2d(np.ones((1, 1, 2, 2)))])
        >>> b = ConvNetwork((1, 3, 3), [Conv2d(np.ones((1, 1, 2, 2)), padding=1)])
        >>> a.fingerprint() == b.fingerprint()
        False
        """
        digest = hashlib.sha256()
        digest.update(repr((self.input_shape, self.layers)).encode())
        for array in self._arrays():
            digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
        return digest.hexdigest()

    def check_inputs(self, x: Any) -> np.ndarray:
        """``x`` as a finite float64 batch ``(N, C, H, W)``; one image ``(C, H, W)`` and flat rows
        ``(N, C H W)`` (e.g. :func:`strong_lth.datasets.digits`) are reshaped."""
        arr = check_array("x", x)
        size = math.prod(self.input_shape)
        if arr.shape == self.input_shape:
            return arr[None]
        if arr.ndim == 2 and arr.shape[1] == size:
            return arr.reshape(len(arr), *self.input_shape)
        if arr.ndim == 4 and arr.shape[1:] == self.input_shape:
            return arr
        raise InvalidParameterError(
            f"`x` must have shape (N, {', '.join(map(str, self.input_shape))}), "
            f"{self.input_shape} or (N, {size}); got {arr.shape}."
        )

    def forward(self, x: Any) -> np.ndarray:
        """Evaluate the network on a batch.

        Parameters
        ----------
        x : array_like
            ``(N, C, H, W)``, one image ``(C, H, W)`` or flat rows ``(N, C H W)``.

        Returns
        -------
        ndarray
            ``(N, *shapes[-1])`` (a batch of one for a single image).

        Raises
        ------
        InvalidParameterError
            If ``x`` has the wrong shape or is not finite.
        """
        h = self.check_inputs(x)
        for layer in self.layers:
            h = _apply(layer, h)
        return h

    def dense_equivalent(self, *, max_bytes: int = 2**30) -> ReLUNetwork:
        """The same function on flat inputs ``vec(x)`` as a dense :class:`ReLUNetwork`.

        Every maximal run of linear layers between two ReLUs is composed into one affine map
        ``h -> W h + b`` (matrices from :func:`layer_matrix`; a Conv2d's bias ``b_o`` repeated
        over the pixels of output channel o, carried through later pooling and dense layers of
        the run), so that ``F(x) = W_l σ(··· σ(W_1 vec(x) + b_1)) + b_l`` as
        :class:`ReLUNetwork` computes (biases None for a bias-free network).

        Raises
        ------
        InvalidParameterError
            If the network starts or ends with a ReLU or has two ReLUs in a row (no such dense
            network), or the matrices would take more than ``max_bytes``.

        Examples
        --------
        >>> net = ConvNetwork((1, 3, 3), [Conv2d(np.ones((1, 1, 2, 2)), [-1.0]), ReLU(),
        ...                               Flatten(), Linear(np.ones((1, 4)), [0.5])])
        >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
        >>> net.dense_equivalent().forward(x.reshape(1, 9)), net.forward(x)
        (array([[60.5]]), array([[60.5]]))
        """
        kinds = [isinstance(layer, ReLU) for layer in self.layers]
        if kinds[0] or kinds[-1] or any(a and b for a, b in itertools.pairwise(kinds)):
            raise InvalidParameterError(
                "`self` must start and end with a linear layer and never repeat a ReLU to have a "
                f"dense equivalent; got layers {list(self.layers)}."
            )
        need = 8 * sum(
            math.prod(self.shapes[k]) * math.prod(self.shapes[k + 1])
            for k in range(len(self.layers))
        )
        check_int("max_bytes", max_bytes, low=0)
        if need > max_bytes:
            raise InvalidParameterError(
                f"`max_bytes` must be at least {need} for the dense equivalent; got {max_bytes}."
            )
        weights, biases, current, offset = [], [], None, None
        for k, layer in enumerate(self.layers):
            if isinstance(layer, ReLU):
                weights.append(current)
                biases.append(offset)
                current = offset = None
                continue
            m = layer_matrix(layer, self.shapes[k])
            shift = None if offset is None else m @ offset
            bias = getattr(layer, "bias", None)
            if bias is not None:
                own = np.repeat(bias, math.prod(self.shapes[k + 1]) // len(bias))
                shift = own if shift is None else shift + own
            current, offset = (m if current is None else m @ current), shift
        weights.append(current)
        biases.append(offset)
        if not self.has_bias:
            return ReLUNetwork(weights)
        return ReLUNetwork(
            weights, [np.zeros(len(w)) if b is None else b for w, b in zip(weights, biases)]
        )

    def augmented(self, constant: float = 1.0) -> ConvNetwork:
        """An equivalent bias-free network whose input carries an extra constant channel.

        Parameters
        ----------
        constant : float, default 1.0
            The value ``c > 0`` of the constant channel.

        Returns
        -------
        ConvNetwork
            ``self`` if the network has no biases; otherwise a bias-free ``F'`` on inputs
            ``(C + 1, H, W)`` with ``F'([x; c 1]) = F(x)``: the convolutional form of
            :meth:`strong_lth.ReLUNetwork.augmented`.

        Raises
        ------
        InvalidParameterError
            If a Conv2d that must read the constant channel (it has a bias, or carries the
            channel to a later layer with a bias) has no kernel tap reading inside the image at
            every output position (:func:`constant_tap`): its padding exceeds ``(k - 1) / 2``.

        Notes
        -----
        The constant channel is ``c`` on the image and 0 on any zero padding. A Conv2d reads it
        through one tap ``(a, b)`` that never reads padding (:func:`constant_tap`): kernel
        entry ``K'[o, C, a, b] = b_o / c`` gives ``b_o`` at every output pixel, and while a
        later weighted layer has a bias an extra output channel with ``K'[O, C, a, b] = 1``
        re-creates the constant channel (its own unit per layer, as the dense augmentation
        carries the constant 1). ReLU keeps it (``σ(c) = c``), average pooling without padding
        keeps it (a mean of ``c``), and Flatten turns it into the last ``H W`` entries (C order),
        of which a Linear reads the first: column ``b / c``, and a carry row with a 1 there
        (then the constant is one entry, the last). Weighted layers after the last biased one
        neither read nor carry it. A smaller ``c`` shrinks the constant channel's norm
        ``c sqrt(H W)`` (which the certificate adds to the input radius) but enlarges the
        bias entries ``b / c`` the random products must reach.

        Examples
        --------
        >>> net = ConvNetwork((1, 4, 4), [Conv2d(np.ones((2, 1, 3, 3)), [1.0, -2.0], padding=1),
        ...                               ReLU(), Flatten(), Linear(np.ones((1, 32)), [3.0])])
        >>> aug = net.augmented(0.5)
        >>> aug.input_shape, aug.has_bias, [layer.weight.shape for layer in aug.weighted_layers]
        ((2, 4, 4), False, [(3, 2, 3, 3), (1, 48)])
        >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
        >>> bool(np.allclose(aug.forward(np.concatenate([x, np.full_like(x, 0.5)], 1)),
        ...                  net.forward(x)))
        True
        """
        constant = check_real("constant", constant, low=0.0, low_open=True)
        if not self.has_bias:
            return self
        biased = [getattr(self.layers[k], "bias", None) is not None for k in self.weighted]
        reads = [any(biased[i:]) for i in range(len(biased))]  # reads (or carries) the constant
        layers, extra, i = [], 1, 0  # extra: trailing constant channels (image) or entries
        for k, layer in enumerate(self.layers):
            if isinstance(layer, Flatten):
                extra = math.prod(self.shapes[k][1:]) if extra else 0
            if not isinstance(layer, Conv2d | Linear):
                layers.append(layer)
                continue
            carry = any(biased[i + 1 :])
            weight = np.zeros(
                (len(layer.weight) + carry, layer.weight.shape[1] + extra, *layer.weight.shape[2:])
            )
            weight[: len(layer.weight), : layer.weight.shape[1]] = layer.weight
            if reads[i]:
                tap = (layer.weight.shape[1],)  # the first constant entry / the constant channel
                if isinstance(layer, Conv2d):
                    spot = constant_tap(layer, self.shapes[k])
                    if spot is None:
                        raise InvalidParameterError(
                            f"`layers[{k}]` {layer!r} must read a bias channel through a kernel "
                            f"tap inside the image at every output pixel, so its padding must "
                            f"be at most (k - 1) / 2 per axis (e.g. 'same' padding of an odd "
                            f"kernel, or none); got padding {layer.padding} with kernel "
                            f"{layer.weight.shape[2]}x{layer.weight.shape[3]} on an input "
                            f"{self.shapes[k][1]}x{self.shapes[k][2]} (a bias, or a later "
                            f"layer's bias, rides on that channel)."
                        )
                    tap = (tap[0], *spot)
                if layer.bias is not None:
                    weight[(slice(0, len(layer.weight)), *tap)] = layer.bias / constant
                if carry:
                    weight[(len(layer.weight), *tap)] = 1.0
            fields = {**layer.__dict__, "weight": weight, "bias": None}
            layers.append(type(layer)(**fields))
            extra, i = int(carry), i + 1
        c, h, w = self.input_shape
        return ConvNetwork((c + 1, h, w), layers)

    @property
    def weighted_layers(self) -> tuple:
        """The Conv2d and Linear layers, in order."""
        return tuple(self.layers[k] for k in self.weighted)

    def balanced(self, max_weight: float = 0.5) -> ConvNetwork:
        """Return ``s F`` for a constant ``s > 0``, every Conv2d and Linear with largest entry
        ``max_weight``: :meth:`strong_lth.ReLUNetwork.balanced` for convolutional networks.

        Parameters
        ----------
        max_weight : float, default 0.5
            Largest absolute weight or bias of every weighted layer after rescaling, > 0.

        Returns
        -------
        ConvNetwork
            Weighted layer i (weights and bias) is multiplied by ``c_i = max_weight /
            max|[K_i, b_i]|`` (``K_i`` as already divided by ``c_{i-1}``) and the next weighted
            layer divided by ``c_i``. ReLU, average pooling and flattening are positively
            homogeneous (``f(c h) = c f(h)`` for ``c > 0``), so every change is undone by the next
            weighted layer and the result computes ``s F(x)`` with ``s = c_l``: the same labels.

        Raises
        ------
        InvalidParameterError
            If ``max_weight <= 0`` or a weighted layer is all zeros.

        Notes
        -----
        The gadget approximates a kernel entry by a sum of products ``u v`` of Uniform[-1, 1]
        weights (``|u v| <= 1``): an entry of 1.5 needs many same-sign products, and the width then
        grows to *reach* the largest entry rather than to reach a precision (on the digits CNN
        of ``benchmarks/bench_cnn.py`` τ fell by a factor 60 between n = 47 and 48, where the
        pools first reached its largest entries). Balancing moves that scale into the output.

        Examples
        --------
        >>> net = ConvNetwork((1, 3, 3), [Conv2d(np.full((1, 1, 2, 2), 4.0)), ReLU(), Flatten(),
        ...                               Linear(np.array([[1.0, -1.0, 0.5, 2.0]]))])
        >>> bal = net.balanced(1.0)
        >>> float(bal.layers[0].weight.max()), float(np.abs(bal.layers[-1].weight).max())
        (1.0, 1.0)
        >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
        >>> float((bal.forward(x) / net.forward(x))[0, 0])  # s = 1 / 4 * 1 / 2
        0.125
        """
        max_weight = check_real("max_weight", max_weight, low=0.0, low_open=True)
        layers, carried = list(self.layers), 1.0
        for k in self.weighted:
            layer = layers[k]
            weight = layer.weight / carried
            bias = layer.bias
            largest = float(np.abs(weight).max())
            if bias is not None:
                largest = max(largest, float(np.abs(bias).max()))
            if largest == 0.0:
                raise InvalidParameterError(
                    f"`layers[{k}]` must be non-zero to be balanced; got an all-zero layer."
                )
            factor = max_weight / largest
            changes = {"weight": weight * factor}
            if bias is not None:
                changes["bias"] = bias * factor
            layers[k] = type(layer)(**{**layer.__dict__, **changes})
            carried = factor
        return ConvNetwork(self.input_shape, layers)

    def to_npz(self, path: str | os.PathLike[str]) -> None:
        """Save as an ``.npz`` without pickles: ``input_shape``, ``kinds`` (layer type names)
        and per layer k ``L{k}_weight``, ``L{k}_bias``, ``L{k}_stride``, ``L{k}_padding``,
        ``L{k}_kernel`` as they apply. :meth:`from_npz` reads it back bit for bit."""
        arrays = {
            "input_shape": np.array(self.input_shape, dtype=np.int64),
            "kinds": np.array([type(layer).__name__ for layer in self.layers]),
        }
        for k, layer in enumerate(self.layers):
            if isinstance(layer, Conv2d | Linear):
                arrays[f"L{k}_weight"] = layer.weight
                if layer.bias is not None:
                    arrays[f"L{k}_bias"] = layer.bias
            if isinstance(layer, Conv2d):
                arrays[f"L{k}_stride"] = np.array(layer.stride, dtype=np.int64)
                arrays[f"L{k}_padding"] = np.array(layer.padding, dtype=np.int64)
            if isinstance(layer, AvgPool2d):
                arrays[f"L{k}_kernel"] = np.array(layer.kernel_size, dtype=np.int64)
                arrays[f"L{k}_stride"] = np.array(layer.stride, dtype=np.int64)
        write_npz(path, arrays)

    @classmethod
    def from_npz(cls, path: str | os.PathLike[str], *, max_bytes: int = 2**30) -> ConvNetwork:
        """Load a network written by :meth:`to_npz` (never unpickles).

        Raises
        ------
        FileFormatError
            If the file is not a readable ``.npz`` or its keys are not those :meth:`to_npz`
            writes.
        InvalidParameterError
            If the arrays do not form a valid network.
        """
        arrays = read_npz(path, max_bytes=max_bytes)
        text = os.fspath(path)
        kinds = arrays.get("kinds")
        if (
            "input_shape" not in arrays
            or kinds is None
            or kinds.dtype.kind != "U"
            or kinds.ndim != 1
        ):
            raise FileFormatError(
                f"`path` must hold the arrays input_shape and kinds that ConvNetwork.to_npz "
                f"writes; got keys {sorted(arrays)} in {text!r}."
            )
        names = {t.__name__: t for t in LAYER_TYPES}
        layers, used = [], {"input_shape", "kinds"}

        def take(key):
            if key not in arrays:
                raise FileFormatError(f"`path` must hold the array {key}; {text!r} has none.")
            used.add(key)
            return arrays[key]

        for k, kind in enumerate(kinds.tolist()):
            if kind not in names:
                raise FileFormatError(
                    f"`path` layer {k} must be one of {sorted(names)}; got {kind!r} in {text!r}."
                )
            if kind in ("Conv2d", "Linear"):
                weight = take(f"L{k}_weight")
                bias = take(f"L{k}_bias") if f"L{k}_bias" in arrays else None
                extra = {}
                if kind == "Conv2d":
                    extra = {
                        "stride": tuple(take(f"L{k}_stride").tolist()),
                        "padding": tuple(take(f"L{k}_padding").tolist()),
                    }
                layers.append(names[kind](weight, bias, **extra))
            elif kind == "AvgPool2d":
                kernel = tuple(take(f"L{k}_kernel").tolist())
                layers.append(AvgPool2d(kernel, tuple(take(f"L{k}_stride").tolist())))
            else:
                layers.append(names[kind]())
        if set(arrays) != used:
            raise FileFormatError(
                f"`path` has arrays no layer reads: {sorted(set(arrays) - used)} in {text!r}."
            )
        return cls(tuple(arrays["input_shape"].tolist()), layers)

    @classmethod
    def from_torch(cls, module: Any, input_shape: Any) -> ConvNetwork:
        """Import a PyTorch ``nn.Sequential`` of ``Conv2d``, ``ReLU``, ``Flatten``,
        ``AvgPool2d`` and ``Linear`` modules.

        Parameters
        ----------
        module : torch.nn.Sequential
        input_shape : tuple of int
            ``(C, H, W)`` of one input (a module does not record it).

        Returns
        -------
        ConvNetwork
            Parameters as float64 (a float64 module bit for bit, a float32 one exactly).

        Raises
        ------
        ImportError
            If PyTorch is not installed.
        InvalidParameterError
            Naming the module: another module type; a Conv2d with dilation other than 1, groups
            other than 1, a padding mode other than zeros, or ``padding="same"`` with an even
            kernel (uneven padding; "same" with an odd kernel and "valid" are read as the
            integers they mean); an AvgPool2d with
            padding, ``ceil_mode`` or ``divisor_override``; a Flatten other than
            ``Flatten(1, -1)``; a kernel larger than its padded input.

        Examples
        --------
        >>> import pytest; torch = pytest.importorskip("torch")
        >>> module = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(),
        ...                              torch.nn.Flatten(), torch.nn.Linear(8, 3))
        >>> ConvNetwork.from_torch(module, (1, 4, 4)).shapes[-1]
        (3,)
        """
        torch = _optional_import("torch", "ConvNetwork.from_torch")
        nn = torch.nn
        if not isinstance(module, nn.Sequential):
            raise InvalidParameterError(
                "`module` must be a torch.nn.Sequential of Conv2d, ReLU, Flatten, AvgPool2d and "
                f"Linear modules; got {type(module).__name__}."
            )

        def array(tensor):
            return None if tensor is None else tensor.detach().cpu().double().numpy()

        layers = []
        for k, m in enumerate(module):
            where = f"`module[{k}]` ({type(m).__name__})"
            if type(m) is nn.Conv2d:
                problems = []
                if tuple(m.dilation) != (1, 1):
                    problems.append(f"dilation must be 1, got {m.dilation}")
                if m.groups != 1:
                    problems.append(f"groups must be 1, got {m.groups}")
                if m.padding_mode != "zeros":
                    problems.append(f"padding_mode must be 'zeros', got {m.padding_mode!r}")
                padding = m.padding
                if padding == "valid":
                    padding = (0, 0)
                elif padding == "same" and all(k % 2 for k in m.kernel_size):
                    padding = tuple((k - 1) // 2 for k in m.kernel_size)
                elif isinstance(padding, str):
                    problems.append(
                        f"padding must be integers, 'valid', or 'same' with an odd kernel "
                        f"(an even one pads unevenly), got {padding!r} with kernel "
                        f"{tuple(m.kernel_size)}"
                    )
                if problems:
                    raise InvalidParameterError(f"{where}: {'; '.join(problems)}.")
                layers.append(Conv2d(array(m.weight), array(m.bias), m.stride, padding))
            elif type(m) is nn.Linear:
                layers.append(Linear(array(m.weight), array(m.bias)))
            elif type(m) is nn.ReLU:
                layers.append(ReLU())
            elif type(m) is nn.Flatten:
                if (m.start_dim, m.end_dim) != (1, -1):
                    raise InvalidParameterError(
                        f"{where} must flatten every dimension but the batch (start_dim=1, "
                        f"end_dim=-1); got start_dim={m.start_dim}, end_dim={m.end_dim}."
                    )
                layers.append(Flatten())
            elif type(m) is nn.AvgPool2d:
                padding = _pair("padding", m.padding, 0)
                if padding != (0, 0) or m.ceil_mode or m.divisor_override is not None:
                    raise InvalidParameterError(
                        f"{where} must have padding 0, ceil_mode False and no divisor_override; "
                        f"got padding={m.padding}, ceil_mode={m.ceil_mode}, "
                        f"divisor_override={m.divisor_override}."
                    )
                layers.append(AvgPool2d(m.kernel_size, m.stride))
            else:
                raise InvalidParameterError(
                    f"{where} is not supported: `module` may hold only Conv2d, ReLU, Flatten, "
                    "AvgPool2d and Linear."
                )
        if not layers:
            raise InvalidParameterError("`module` must hold at least one layer; got none.")
        return cls(tuple(input_shape) if isinstance(input_shape, list) else input_shape, layers)
