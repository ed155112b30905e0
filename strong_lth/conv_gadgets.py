"""The convolutional SubsetSum gadget: a random pair of convolutions pruned to ``A * σ(h) - B *
σ(-h)``.

da Cunha, Natale, Viennot, *Proving the lottery ticket hypothesis for convolutional neural
networks*, ICLR 2022, and Burkholz, *Convolutional and residual networks provably contain lottery
tickets*, ICML 2022 (arXiv:2205.02343), lift the dense gadget of Pensia et al. (NeurIPS 2020,
arXiv:2006.07990) to convolutions. For a target kernel ``K`` of shape ``(O, C, k_h, k_w)`` the
random pair is

1. a 1x1 convolution ``C -> C n``: channel ``(c, k)`` (index ``k C + c``, copy-major as the dense
   gadget's units) keeps only its weight ``u_{c,k}`` from input channel c, so it computes
   ``σ(u_{c,k} h_c)`` at every pixel;
2. a random ``k_h x k_w`` convolution ``C n -> O`` with the target's stride and padding, weights
   ``V[o, (c, k), a, b]``.

Since ``σ(u t) = u σ(t)`` for ``u > 0`` and ``-u σ(-t)`` for ``u < 0`` (and zero padding commutes
with σ, as ``σ(0) = 0``), the pruned pair computes exactly ``A * σ(h) - B * σ(-h)`` with
``A[o, c, a, b] = Σ_{kept k, u_{c,k} > 0} V[o, (c, k), a, b] u_{c,k}`` and ``B`` the same over
``u_{c,k} < 0`` (``*``: the target's convolution). Each kernel entry is thus approximated by two
SubsetSum instances over the products ``V[o, (c, k), a, b] u_{c,k}``, one per sign pool, solved by
:func:`strong_lth.constructions.pensia.choose` on the flattened layout: input ``j = (c, a, b)``
of a dense layer with weights ``K.reshape(O, C k_h k_w)``, whose pool values are ``v[o, j, k] =
V[o, (c, k), a, b]`` and ``u[j, k] = u_{c,k}``. A dense layer is the case ``k_h = k_w = 1`` on a
1x1 image, with exactly the weights of :class:`~strong_lth.random_network.RandomNetwork`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from ._validation import check_int
from .constructions import pensia
from .convnets import Conv2d, ConvNetwork, Linear, ReLU
from .distributions import Distribution, Uniform, get_distribution
from .exceptions import InvalidParameterError
from .random_network import uniform_bits

__all__ = [
    "ConvRandomNetwork",
    "choose",
    "fold_constant",
    "gadget_kernels",
    "gadget_layers",
    "gadget_network",
    "pruned_layers",
]


def _kernel_shape(layer) -> tuple[int, int, int, int]:
    """``(O, C, k_h, k_w)`` of a Conv2d, ``(O, I, 1, 1)`` of a Linear."""
    shape = layer.weight.shape
    return shape if len(shape) == 4 else (*shape, 1, 1)


@dataclass(frozen=True)
class ConvRandomNetwork:
    """The random network a convolutional ticket is pruned from, never held whole in memory.

    Parameters
    ----------
    seed : int
        In ``[0, 2**64 - 1]``.
    kernel_shapes : sequence of (O, C, k_h, k_w)
        One per weighted target layer (a Linear ``(O, I)`` is ``(O, I, 1, 1)``).
    values_per_input : int or sequence of int
        ``n_i >= 1`` per weighted layer.
    distribution : Distribution or str, default Uniform()

    Notes
    -----
    Weighted layer i has the random pair of layers ``2i - 1`` and ``2i``:
    ``u_{c,k} = F^{-1}(uniform_bits(seed, 2i - 1, k C + c, c))`` and
    ``V[o, (c, k), a, b] = F^{-1}(uniform_bits(seed, 2i, o, ((k C + c) k_h + a) k_w + b))``
    (:func:`~strong_lth.random_network.uniform_bits`). A weight depends on its position only and
    the positions of the network with n copies are those of copies ``k < n``, so the network
    with n is a sub-network of the one with n + 1 (nested in n), as for dense layers; for
    ``k_h = k_w = 1`` these are the weights ``M_{2i-1}[k C + c, c]`` and ``M_{2i}[o, k C + c]``
    of :class:`~strong_lth.random_network.RandomNetwork` with the same seed.

    Examples
    --------
    >>> g = ConvRandomNetwork(0, [(2, 1, 3, 3)], 4)
    >>> u, v = g.gadget_weights(1)
    >>> u.shape, v.shape
    ((1, 4), (2, 1, 4, 3, 3))
    """

    seed: int
    kernel_shapes: tuple
    values_per_input: tuple
    distribution: Distribution = field(default_factory=Uniform)

    def __post_init__(self) -> None:
        shapes = tuple(tuple(int(d) for d in shape) for shape in self.kernel_shapes)
        n = self.values_per_input
        if isinstance(n, int | np.integer):
            n = (int(n),) * len(shapes)
        n = tuple(check_int("values_per_input", v, low=1) for v in n)
        if len(n) != len(shapes):
            raise InvalidParameterError(
                f"`values_per_input` must have one entry per weighted layer ({len(shapes)}); got "
                f"{len(n)}."
            )
        object.__setattr__(self, "seed", check_int("seed", self.seed, low=0, high=2**64 - 1))
        object.__setattr__(self, "kernel_shapes", shapes)
        object.__setattr__(self, "values_per_input", n)
        object.__setattr__(self, "distribution", get_distribution(self.distribution))

    def gadget_weights(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """``u`` (C, n) and ``V`` (O, C, n, k_h, k_w) of weighted layer ``i`` (1-based)."""
        i = check_int("i", i, low=1, high=len(self.kernel_shapes))
        o, c, kh, kw = self.kernel_shapes[i - 1]
        n = self.values_per_input[i - 1]
        units = np.arange(n)[None, :] * c + np.arange(c)[:, None]  # (C, n)
        u = self.distribution.from_uniform(
            uniform_bits(self.seed, 2 * i - 1, units, np.arange(c)[:, None])
        )
        cols = (units[:, :, None, None] * kh + np.arange(kh)[:, None]) * kw + np.arange(kw)
        v = self.distribution.from_uniform(
            uniform_bits(self.seed, 2 * i, np.arange(o)[:, None, None, None, None], cols[None])
        )
        return u, v

    def with_values_per_input(self, values_per_input) -> ConvRandomNetwork:
        """The same random network with other ``n_i`` (a nested sub- or super-network)."""
        return dataclasses.replace(self, values_per_input=values_per_input)


@dataclass(frozen=True)
class _FlatView:
    """The pair of weighted layer ``layer`` in the dense layout :func:`pensia.choose` reads:
    input ``j = (c, a, b)``, ``u[j, k] = u_{c,k}``, ``v[o, j, k] = V[o, (c, k), a, b]``."""

    network: ConvRandomNetwork
    layer: int

    def gadget_weights(self, i):
        u, v = self.network.gadget_weights(self.layer)
        o, c, n, kh, kw = v.shape
        u_flat = np.repeat(u, kh * kw, axis=0)
        v_flat = v.transpose(0, 1, 3, 4, 2).reshape(o, c * kh * kw, n)
        return u_flat, v_flat


def choose(kernel, network, layer, *, signed, solver="mitm", tol=None, start=None):
    """Prune the random pair of weighted layer ``layer`` towards ``kernel``.

    Parameters
    ----------
    kernel : ndarray, shape (O, C, k_h, k_w)
        The target kernel (a Linear's ``(O, I)`` as ``(O, I, 1, 1)``).
    network : ConvRandomNetwork
    layer : int
        Weighted layer i (1-based).
    signed : bool or ndarray of bool, shape (C,)
        Whether the layer's input (each input channel) can be negative: False for an input
        behind a ReLU, or the constant channel of a biased target, whose negative pools are never
        solved (their units never fire; ``B = 0`` there).
    solver, tol, start
        As :func:`strong_lth.constructions.pensia.choose`; ``start`` and the returned ``keep``
        in the flat layout ``(O, C k_h k_w, n)``.

    Returns
    -------
    keep : ndarray of bool, shape (O, C k_h k_w, n)
        ``keep[o, (c, a, b), k]``: weight ``V[o, (c, k), a, b]`` is kept.
    sums : ndarray, shape (2, O, C, k_h, k_w)
        ``A`` and ``B`` as the solver reported them.
    status : ndarray of int8, shape (2, O, C k_h k_w)
    """
    o, c, kh, kw = kernel.shape
    flat = np.repeat(np.broadcast_to(np.asarray(signed, dtype=bool), (c,)), kh * kw)
    keep, sums, status = pensia.choose(
        kernel.reshape(o, c * kh * kw),
        _FlatView(network, layer),
        layer,
        signed=flat,
        solver=solver,
        tol=tol,
        start=start,
    )
    return keep, sums.reshape(2, o, c, kh, kw), status


def gadget_kernels(u, v, keep) -> tuple[np.ndarray, np.ndarray]:
    """``(A, B)``, each (O, C, k_h, k_w), recomputed from the kept weights (flat ``keep``):
    ``A = Σ_k keep V u`` over ``u > 0``, ``B`` over ``u < 0`` (module Notes)."""
    o, c, n, kh, kw = v.shape
    kept = keep.reshape(o, c, kh, kw, n).transpose(0, 1, 4, 2, 3)  # (O, C, n, k_h, k_w)
    products = np.where(kept, v * u[None, :, :, None, None], 0.0)
    positive = (u > 0)[None, :, :, None, None]
    negative = (u < 0)[None, :, :, None, None]
    return (
        np.where(positive, products, 0.0).sum(axis=2),
        np.where(negative, products, 0.0).sum(axis=2),
    )


def _pair(layer, first, second):
    """The two layers of a pair of kernels, as Conv2d or (for a Linear target) Linear."""
    if isinstance(layer, Linear):
        return [Linear(first[:, :, 0, 0]), ReLU(), Linear(second[:, :, 0, 0])]
    return [Conv2d(first), ReLU(), Conv2d(second, stride=layer.stride, padding=layer.padding)]


def pruned_layers(layer, u, v, keep) -> list:
    """The pruned random pair of one weighted target layer, as layers of a
    :class:`~strong_lth.convnets.ConvNetwork`: ``[1x1 conv, ReLU, conv]`` (``[Linear, ReLU,
    Linear]`` for a Linear), every weight either 0 or an entry of ``u`` or ``V``.

    Channel ``k C + c`` of the middle layer keeps ``u_{c,k}`` from channel c exactly when one of
    its outgoing weights is kept.
    """
    o, c, n, kh, kw = v.shape
    kept = keep.reshape(o, c, kh, kw, n).transpose(0, 4, 1, 2, 3)  # (O, n, C, k_h, k_w)
    second = np.where(kept, v.transpose(0, 2, 1, 3, 4), 0.0).reshape(o, n * c, kh, kw)
    used = kept.any(axis=(0, 3, 4))  # (n, C)
    first = np.zeros((n * c, c, 1, 1))
    k, ch = np.nonzero(used)
    first[k * c + ch, ch, 0, 0] = u[ch, k]
    return _pair(layer, first, second)


def gadget_layers(layer, a, b) -> list:
    """The compact layers computing ``A * σ(h) - B * σ(-h)``: a 1x1 convolution ``[I; -I]``,
    ReLU, and the convolution of kernel ``[A, -B]`` (channels concatenated), with the layer's
    stride and padding (Linear layers for a Linear)."""
    c = a.shape[1]
    first = np.concatenate([np.eye(c), -np.eye(c)])[:, :, None, None]
    return _pair(layer, first, np.concatenate([a, -b], axis=1))


def gadget_network(target: ConvNetwork, kernels, constant: float | None = None) -> ConvNetwork:
    """``target`` with weighted layer i replaced by :func:`gadget_layers` of ``kernels[i]``:
    the function of every ticket whose pairs have these ``(A_i, B_i)``, in compact form. With a
    ``constant``, ``target`` is a bias-augmented network
    (:meth:`~strong_lth.convnets.ConvNetwork.augmented`) and the result reads the images alone
    (:func:`fold_constant`)."""
    layers, i = [], 0
    for layer in target.layers:
        if isinstance(layer, Conv2d | Linear):
            layers += gadget_layers(layer, *kernels[i])
            i += 1
        else:
            layers.append(layer)
    network = ConvNetwork(target.input_shape, layers)
    return network if constant is None else fold_constant(network, constant)


def fold_constant(network: ConvNetwork, constant: float) -> ConvNetwork:
    """A network on images ``x`` (C channels) from a bias-free one on ``[x; c 1]`` (C + 1
    channels, the last constant ``c``) whose first weighted layer is pointwise (a 1x1 Conv2d
    without padding, or a Linear): the convolutional :func:`strong_lth.gadgets.fold_input_bias`.

    Parameters
    ----------
    network : ConvNetwork
        A gadget or pruned network of a bias-augmented target (its first weighted layer is the
        first layer of the first pair).
    constant : float
        ``c``.

    Returns
    -------
    ConvNetwork
        The same layers, but the first weighted layer reads only the image channels (for a
        Linear behind Flatten: the image entries) and gets the bias ``c`` times the sum of its
        weights from the constant channel (entries).

    Notes
    -----
    A 1x1 convolution without padding reads the constant channel ``c`` at every pixel, and the
    layers before it (pooling, Flatten) keep it constant; so its contribution is ``c`` times its
    weights from that channel, at every output pixel: a bias. The first pair's units that read
    the constant thus become bias units, ``σ(u c)``, as the dense ticket's units of the constant
    input.

    Examples
    --------
    >>> from strong_lth.convnets import Flatten
    >>> net = ConvNetwork((2, 3, 3), [Conv2d(np.arange(4.0).reshape(2, 2, 1, 1)), ReLU(),
    ...                               Flatten(), Linear(np.ones((1, 18)))])
    >>> x = np.ones((1, 1, 3, 3))
    >>> folded = fold_constant(net, 0.5)
    >>> folded.input_shape, bool(np.allclose(folded.forward(x),
    ...                                      net.forward(np.concatenate([x, 0.5 * x], 1))))
    ((1, 3, 3), True)
    """
    c, h, w = network.input_shape
    k = network.weighted[0]
    first = network.layers[k]
    head = ConvNetwork((c - 1, h, w), network.layers[:k]).shapes[-1] if k else (c - 1, h, w)
    keep = head[0]  # image channels, or image entries of a flat input
    if isinstance(first, Conv2d):
        if first.weight.shape[2:] != (1, 1) or first.padding != (0, 0):
            raise InvalidParameterError(
                f"`network` must start its first pair with a 1x1 convolution without padding; "
                f"got {first!r}."
            )
        weight, folded = first.weight[:, :keep], first.weight[:, keep:].sum(axis=(1, 2, 3))
    else:
        weight, folded = first.weight[:, :keep], first.weight[:, keep:].sum(axis=1)
    bias = constant * folded if first.bias is None else first.bias + constant * folded
    layers = list(network.layers)
    layers[k] = type(first)(**{**first.__dict__, "weight": weight, "bias": bias})
    return ConvNetwork((c - 1, h, w), layers)
