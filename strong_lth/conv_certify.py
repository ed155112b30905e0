"""The certificate of a convolutional ticket: the spectral recursion with convolution operator
norms, and the measured worst case.

For a dense target, pair i errs by ``Δ_i [σ(h); σ(-h)_S]`` with ``τ_i = ||Δ_i||_2``, and
``e_i = τ_i (R_{i-1} + e_{i-1}) + ||W_i||_2 e_{i-1}`` bounds the error (Pensia et al. 2020,
arXiv:2006.07990, with the one-sided error; :func:`strong_lth.certify`). A convolution is a
linear operator too, so the same recursion holds with ``||W_i||_2`` the ℓ2 operator norm of the
convolution (with its stride and padding) *on the input's spatial size*, and ``τ_i`` the operator
norm of the convolution with the error kernel ``Δ_i = [A_i - K_i, (K_i - B_i)_S]`` (input channels
concatenated), as in da Cunha, Natale, Viennot (ICLR 2022) and Burkholz (ICML 2022,
arXiv:2205.02343), whose proofs bound these norms by sums over kernel entries; here they are
computed exactly (:func:`operator_norm`). Average pooling is linear (its own norm, no error),
Flatten an isometry and ReLU 1-Lipschitz with ``||σ(h)|| <= ||h||``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._certify import certified_error, cheap_methods
from ._validation import as_generator, check_int, check_real
from .conv_gadgets import gadget_network
from .convnets import AvgPool2d, Conv2d, ConvNetwork, Flatten, Linear, ReLU, layer_matrix
from .exceptions import CertificationError, InvalidParameterError
from .gadgets import AGREEMENT
from .lockstep import error_bound
from .worst_case import measure_worst_case, project, structured_starts

__all__ = [
    "DENSE_BYTES",
    "ConvCertificate",
    "Piece",
    "certify_conv",
    "check_conv_target",
    "conv_bounds",
    "conv_pieces",
    "dense_pairs",
    "error_layer",
    "fft_norm_bound",
    "input_radius",
    "layer_kernel",
    "lockstep_available",
    "operator_norm",
]

DENSE_BYTES = 2**26
"""Largest explicit operator matrix (64 MiB of float64) whose norm :func:`operator_norm`
computes exactly by an SVD; larger convolutions get the FFT bound (:func:`fft_norm_bound`)."""


def check_conv_target(target) -> None:
    """Refuse what the convolutional pipeline cannot make or certify a ticket for: anything but
    a :class:`~strong_lth.convnets.ConvNetwork`, and biases no constant channel can carry (a
    padded convolution without a kernel tap inside the image at every output pixel:
    :meth:`~strong_lth.convnets.ConvNetwork.augmented` names the layer)."""
    if not isinstance(target, ConvNetwork):
        raise InvalidParameterError(f"`target` must be a ConvNetwork; got {type(target).__name__}.")
    target.augmented()


def input_radius(input_shape: tuple[int, ...], radius: float, constant: float | None) -> float:
    """The norm bound ``sqrt(r^2 + c^2 H W)`` of the augmented input ``[x; c 1]`` over ``||x||_2
    <= r`` (``r`` itself without a constant channel): the constant channel ``c 1`` on an
    ``H x W`` image has norm ``c sqrt(H W)`` and is orthogonal to the image channels."""
    if constant is None:
        return radius
    return math.hypot(radius, constant * math.sqrt(input_shape[1] * input_shape[2]))


def fft_norm_bound(kernel: np.ndarray, input_hw: tuple[int, int], padding=(0, 0)) -> float:
    """A rigorous upper bound on the ℓ2 operator norm of a convolution with zero padding, any
    stride, on inputs of spatial size ``input_hw``: ``max_ω ||K̂(ω)||_2``.

    Parameters
    ----------
    kernel : ndarray, shape (O, C, k_h, k_w)
    input_hw : (H, W)
    padding : (p_h, p_w)

    Returns
    -------
    float
        The largest spectral norm over the ``L_h L_w`` frequencies ``ω`` of the ``O x C`` matrix
        ``K̂(ω) = Σ_{a,b} K[:, :, a, b] e^{-2πi (a ω_1 / L_h + b ω_2 / L_w)}``, with
        ``L = (H + 2 p_h, W + 2 p_w)``.

    Notes
    -----
    Proof (Sedghi, Gupta, Long, *The singular values of convolutional layers*, ICLR 2019, for
    the circular case). Zero padding embeds ``x`` isometrically into images ``x_pad`` of size
    ``L_h x L_w``. The stride-1 correlation ``y[o, i, j] = Σ K[o, c, a, b] x_pad[c, i + a, j + b]``
    at the valid positions ``i <= L_h - k_h``, ``j <= L_w - k_w`` never reads past the edge, so
    it equals the *circular* correlation on the torus ``Z_{L_h} x Z_{L_w}`` restricted to those
    outputs. The circular correlation is block circulant: the unitary 2-D DFT, applied on both
    sides, turns it into the block-diagonal operator with blocks ``conj(K̂(ω))``, whose norm is
    ``max_ω ||K̂(ω)||_2``. Restricting outputs to the valid positions and subsampling them by the
    stride are coordinate projections, of norm at most 1. Hence ``||T||_2 <= max_ω ||K̂(ω)||_2``.
    Each ``||K̂(ω)||_2`` is computed by an SVD, accurate to a few units of rounding relative.
    """
    lh, lw = input_hw[0] + 2 * padding[0], input_hw[1] + 2 * padding[1]
    spectrum = np.fft.fft2(kernel, s=(lh, lw), axes=(2, 3)).transpose(2, 3, 0, 1)
    return float(np.linalg.norm(spectrum, ord=2, axis=(-2, -1)).max())


def operator_norm(layer, shape: tuple[int, ...], *, max_bytes: int = DENSE_BYTES) -> float:
    """The ℓ2 operator norm of a linear layer (bias left out) on inputs of ``shape``.

    Parameters
    ----------
    layer : Conv2d, Linear or AvgPool2d
    shape : tuple of int
        The layer's input shape, ``(C, H, W)`` or ``(d,)``; only its spatial size ``(H, W)`` is
        read (the channels are the kernel's).
    max_bytes : int, default :data:`DENSE_BYTES`
        Largest explicit matrix built for an exact norm.

    Returns
    -------
    float
        Linear: ``||W||_2``. Conv2d: the largest singular value of its explicit matrix
        (:func:`~strong_lth.convnets.layer_matrix`) when that takes at most ``max_bytes``, else
        the rigorous upper bound :func:`fft_norm_bound`. AvgPool2d: the norm of one channel's
        pooling (channels are pooled independently: the operator is block diagonal with equal
        blocks), computed the same way.

    Notes
    -----
    The exact norms are those of ``numpy.linalg.norm(M, 2)`` (an SVD, accurate to a small
    multiple of ``d u ||M||``), as the dense certificate uses for ``||W_i||_2``; see
    :data:`strong_lth.networks.NORM_RTOL`.

    Examples
    --------
    >>> operator_norm(AvgPool2d(2), (3, 4, 4))  # mean of 4: norm 1/2
    0.5
    """
    if isinstance(layer, Linear):
        return float(np.linalg.norm(layer.weight, 2))
    if isinstance(layer, AvgPool2d):
        kh, kw = layer.kernel_size
        layer, shape = (
            Conv2d(np.full((1, 1, kh, kw), 1.0 / (kh * kw)), stride=layer.stride),
            (
                1,
                *shape[1:],
            ),
        )
    shape = (layer.weight.shape[1], *shape[1:])  # the spatial size is what matters
    out = math.prod(layer.output_shape(shape))
    if 8 * out * math.prod(shape) <= max_bytes:
        return float(np.linalg.norm(layer_matrix(layer, shape), 2))
    return fft_norm_bound(layer.weight, shape[1:], layer.padding)


def layer_kernel(layer) -> np.ndarray:
    """The kernel of a Conv2d, or a Linear's weight as ``(O, I, 1, 1)``."""
    return layer.weight if isinstance(layer, Conv2d) else layer.weight[:, :, None, None]


def error_layer(layer, a, b, signed):
    """The convolution (or dense layer) of the one-sided error kernel ``[A - K, (K - B)_S]``,
    ``S`` the input channels that can be negative (``signed``: a bool, or a bool per input
    channel)."""
    kernel = layer_kernel(layer)
    signed = np.broadcast_to(np.asarray(signed, dtype=bool), (kernel.shape[1],))
    delta = np.concatenate([a - kernel, (kernel - b)[:, signed]], axis=1)
    return _with_kernel(layer, delta)


class Piece(NamedTuple):
    """One linear layer of the recursion (:func:`conv_pieces`)."""

    index: int  # position in ``target.layers``
    weighted: bool  # a Conv2d or Linear (approximated by a gadget pair), else an AvgPool2d
    norm: float  # operator norm on the layer's input size
    tau: float  # operator norm of the error kernel (0 for pooling, or without kernels)
    worst: float  # largest entry of the error kernel
    signed: np.ndarray  # which input channels (features of a Linear) can be negative
    shape: tuple  # the layer's input shape


def conv_pieces(target: ConvNetwork, kernels=None, *, constant_input: bool = False) -> list[Piece]:
    """The recursion's pieces: one :class:`Piece` per Conv2d, Linear or AvgPool2d, in order.

    ``kernels``: ``(A_i, B_i)`` per weighted layer (``(O, C, k_h, k_w)``; a Linear's as
    ``(O, I, 1, 1)``), or None for the norms alone (τ = 0). ``signed``: which input channels
    of the layer can be negative (those of the network input, or of a linear layer's output not
    yet behind a ReLU); an unsigned channel charges no ``K - B`` columns, since ``σ(-h) = 0``
    there. With ``constant_input`` the input's last channel is the non-negative constant of a
    bias-augmented target (:meth:`~strong_lth.convnets.ConvNetwork.augmented`), unsigned up to
    the first weighted layer (pooling keeps it; Flatten spreads it over its ``H W`` entries).
    """
    channels = target.input_shape[0]
    signed = np.arange(channels) < channels - int(constant_input)
    pieces, i = [], 0
    for k, (layer, shape) in enumerate(zip(target.layers, target.shapes)):
        if isinstance(layer, ReLU):
            signed = np.zeros_like(signed)
        elif isinstance(layer, Flatten):
            signed = np.repeat(signed, math.prod(shape[1:]))
        elif isinstance(layer, Conv2d | Linear):
            tau = worst = 0.0
            if kernels is not None:
                delta = error_layer(layer, *kernels[i], signed)
                tau = operator_norm(delta, shape)
                worst = float(np.abs(delta.weight).max())
            pieces.append(Piece(k, True, operator_norm(layer, shape), tau, worst, signed, shape))
            signed, i = np.ones(target.shapes[k + 1][0], dtype=bool), i + 1
        elif isinstance(layer, AvgPool2d):
            pieces.append(Piece(k, False, operator_norm(layer, shape), 0.0, 0.0, signed, shape))
    return pieces


def _one_to_one(target: ConvNetwork) -> bool:
    """Whether the dense equivalent's layers are the weighted layers one to one: no pooling,
    and exactly one Conv2d or Linear between consecutive ReLUs."""
    counts = [0]
    for layer in target.layers:
        if isinstance(layer, ReLU):
            counts.append(0)
        elif isinstance(layer, AvgPool2d):
            return False
        elif isinstance(layer, Conv2d | Linear):
            counts[-1] += 1
    return all(count == 1 for count in counts)


def dense_pairs(target: ConvNetwork, kernels):
    """The gadget pairs as matrices ``(A_i, B_i)`` on the flattened inputs, for the lockstep bound
    on :meth:`~strong_lth.convnets.ConvNetwork.dense_equivalent`, whose layers must be the
    weighted layers one to one (no pooling, one weighted layer between ReLUs)."""
    indices = target.weighted
    return [
        tuple(layer_matrix(_with_kernel(target.layers[k], m), target.shapes[k]) for m in pair)
        for k, pair in zip(indices, kernels)
    ]


def lockstep_available(target: ConvNetwork) -> bool:
    """Whether :func:`certify_conv` adds the lockstep bound: the dense equivalent's layers are
    the weighted layers one to one (no pooling, one Conv2d or Linear between ReLUs) and one
    lockstep pass is cheap (:func:`strong_lth.certify.cheap_methods` of its widths)."""
    if not _one_to_one(target):
        return False
    return "lockstep" in cheap_methods(target.dense_equivalent().widths)


def conv_bounds(
    target: ConvNetwork, pieces, kernels, radius: float, lockstep: bool, constant=None
) -> dict:
    """The rigorous bounds of ``sup_{||x|| <= radius} ||F(x) - G(x)||_2``, by method:
    "spectral" (the recursion on ``pieces``, :func:`certify_conv` Notes) and, with
    ``lockstep``, :func:`strong_lth.lockstep.error_bound` on the dense equivalents over the
    ball (and the box ``[-radius, radius]^d`` around it).

    With a ``constant`` ``c``, ``target`` is bias-augmented
    (:meth:`~strong_lth.convnets.ConvNetwork.augmented`) and its inputs are ``[x; c 1]``: the
    recursion starts from :func:`input_radius` ``sqrt(r^2 + c^2 H W)``, and the lockstep bound
    runs over the box whose constant coordinates are exactly ``c`` (the image ones
    ``[-r, r]``) intersected with the ball of that radius, which holds every such input.
    """
    taus, norms = [p.tau for p in pieces], [p.norm for p in pieces]
    start = input_radius(target.input_shape, radius, constant)
    out = {"spectral": float(certified_error(taus, norms, start))}
    if lockstep:
        d = math.prod(target.input_shape)
        image = np.arange(d) < d - (0 if constant is None else d // target.input_shape[0])
        out["lockstep"] = float(
            error_bound(
                target.dense_equivalent(),
                dense_pairs(target, kernels),
                lower=np.where(image, -radius, constant or 0.0),
                upper=np.where(image, radius, constant or 0.0),
                radius=start,
            )
        )
    return out


@dataclass(frozen=True, eq=False)
class ConvCertificate:
    """The error figures of a convolutional ticket against its target.

    Attributes
    ----------
    radius : float
        Inputs range over ``||x||_2 <= radius`` (all pixels of all channels).
    weight_norms, tau : ndarray
        Per weighted layer: the operator norm of the target layer and of its error kernel on the
        layer's input size.
    pool_norms : ndarray
        Operator norms of the AvgPool2d layers, in order.
    max_weight_error : ndarray
        Per weighted layer, the largest ``|A - K|`` (and ``|K - B|`` of a signed input).
    certified : float
        The least of ``bounds``: a rigorous bound of ``sup_{||x|| <= radius} ||F(x) - G(x)||_2``.
    bounds : dict of str to float
        Every rigorous bound computed (:func:`conv_bounds`): "spectral" always, "lockstep" when
        :func:`lockstep_available`.
    measured : float or None
        The largest error found by ascent (a lower bound of the true supremum); None when not
        measured.
    measured_input : ndarray or None
    """

    radius: float
    weight_norms: np.ndarray
    tau: np.ndarray
    pool_norms: np.ndarray
    max_weight_error: np.ndarray
    certified: float
    measured: float | None
    measured_input: np.ndarray | None
    bounds: dict


def certify_conv(
    target: ConvNetwork,
    ticket,
    *,
    radius: float = 1.0,
    rng=None,
    samples: int = 2048,
    starts: int = 16,
    ascent_steps: int = 100,
    measure: bool = True,
) -> ConvCertificate:
    """Certified and measured error of a convolutional ticket against its target.

    Parameters
    ----------
    target : ConvNetwork
        Starting and ending with a linear layer (it has a dense equivalent); with biases, every
        Conv2d that reads the constant channel needs padding at most ``(k - 1) / 2``
        (:meth:`~strong_lth.convnets.ConvNetwork.augmented`).
    ticket : ConvTicket
        Read through ``gadget_kernels()`` (``A_i, B_i`` recomputed from its masks) and
        ``pruned_network()`` (its masks over the regenerated random weights); its
        ``input_constant`` must be set exactly when the target has biases.
    radius : float, default 1.0
    rng : None, int or numpy.random.Generator
        Seeds the worst-case search.
    samples, starts, ascent_steps : int
        As :func:`strong_lth.certify`.
    measure : bool, default True
        Search for the measured worst case.

    Returns
    -------
    ConvCertificate

    Raises
    ------
    InvalidParameterError
        If a biased target has no constant tap (padding too large), the ticket was made for
        another target (fingerprint), or its ``input_constant`` disagrees with the target's
        biases.
    CertificationError
        If the ticket's pruned network and the gadget form ``A * σ(h) - B * σ(-h)`` read from its
        masks disagree on sampled inputs, or the measured error exceeds the certified one (each
        a bug).

    Notes
    -----
    With ``e_0 = 0``, ``R_0 = radius`` and, piece by piece, ``e = τ (R + e) + ν e``, ``R = ν R``
    (:func:`~strong_lth.certify.certified_error`; ν the operator norm, τ = 0 for pooling):
    pair i computes ``A * σ(h) - B * σ(-h)`` and the target ``K * h = K * σ(h) - K * σ(-h)``,
    so it errs by ``Δ * [σ(h); σ(-h)_S]`` (channels stacked), and ``||[σ(h); σ(-h)_S]|| <=
    ||h||`` since the two have disjoint supports; the ticket's input to the pair has norm at
    most ``R + e``. Linear layers (pooling) map an error ``e`` to at most ``ν e``, ReLU and
    Flatten to at most ``e``. When the target's dense equivalent has the weighted layers as its
    layers (no pooling) the lockstep bound of :func:`strong_lth.lockstep.error_bound` on the
    dense equivalents, with the pairs as matrices, is computed too (:func:`conv_bounds`), and
    ``certified`` is the least bound. The measured error climbs ``||F(x) - G(x)||_2`` on the sphere
    (both networks are positively homogeneous) by :func:`strong_lth.worst_case.
    measure_worst_case` on the dense equivalents
    (:meth:`~strong_lth.convnets.ConvNetwork.dense_equivalent`).

    *Biases.* With ``c = ticket.input_constant`` and ``z(x) = [x; c 1]`` (a constant channel,
    ``c`` on the image), the bias-free augmented target ``F'`` has ``F'(z(x)) = F(x)`` exactly
    (:meth:`~strong_lth.convnets.ConvNetwork.augmented`: the constant rides through kernel taps
    that never read padding), and the ticket's pruned network ``G`` is its pruned pairs ``G'`` on
    ``z(x)`` with the constant channel folded into the first layer's bias, which is exact since
    that layer is a 1x1 convolution (or a dense layer) reading ``c`` at every position
    (:func:`~strong_lth.conv_gadgets.fold_constant`): ``G(x) = G'(z(x))``. Since the constant
    channel is orthogonal to the image channels, ``||z(x)||_2^2 = ||x||_2^2 + c^2 H W <= R_0^2``
    with ``R_0 = sqrt(r^2 + c^2 H W)`` (:func:`input_radius`), so ``sup_{||x|| <= r} ||F(x) -
    G(x)|| <= sup_{||z|| <= R_0} ||F'(z) - G'(z)||`` over the ``z`` with a non-negative constant
    channel, which the bias-free recursion above bounds when started from ``R_0``; the constant
    channel is non-negative on every ``z(x)``, so the first pair charges no ``K - B`` columns for
    it (``σ(-c) = 0``). The lockstep bound runs on the dense equivalents of ``F'`` and the pairs
    over the box whose constant coordinates equal ``c`` and whose image coordinates lie in
    ``[-r, r]``, intersected with the ball of radius ``R_0``: a set holding every ``z(x)``.
    ``F - G`` is then no longer positively homogeneous, so the measured error is searched inside
    the ball ``||x|| <= r`` (not on its sphere) on the dense equivalents of ``F`` and ``G``, each
    with its own biases.
    """
    check_conv_target(target)
    radius = check_real("radius", radius, low=0.0, low_open=True)
    samples = check_int("samples", samples, low=1)
    starts = check_int("starts", starts, low=1, high=samples)
    ascent_steps = check_int("ascent_steps", ascent_steps, low=0)
    recorded = getattr(ticket, "target_fingerprint", None)
    if recorded is not None and recorded != target.fingerprint():
        raise InvalidParameterError(
            "`target` must be the network the ticket was made for: the ticket records target "
            f"fingerprint {recorded[:12]}..., this target's is {target.fingerprint()[:12]}...."
        )
    constant = getattr(ticket, "input_constant", None)
    if (constant is not None) != target.has_bias:
        raise InvalidParameterError(
            "`ticket` must carry a constant input channel exactly when the target has biases; "
            f"got input_constant={constant!r} for a target with biases {target.has_bias}."
        )
    work = target if constant is None else target.augmented(constant)
    rng = as_generator(rng)
    kernels = ticket.gadget_kernels()
    pieces = conv_pieces(work, kernels, constant_input=constant is not None)
    bounds = conv_bounds(work, pieces, kernels, radius, lockstep_available(work), constant)
    certified = min(bounds.values())
    gadget = gadget_network(work, kernels, constant)
    d = math.prod(target.input_shape)
    pruned = ticket.pruned_network()
    _check_agreement(pruned, gadget, project(rng.standard_normal((64, d)), radius, sphere=True))
    measured = where = None
    if measure:
        dense_target, dense_gadget = target.dense_equivalent(), gadget.dense_equivalent()
        extra = None
        first = work.layers[0]
        if isinstance(first, Conv2d | Linear):  # start also where the first pair errs most
            w, a, b = (
                layer_matrix(_with_kernel(first, k), work.input_shape)[:, :d]
                for k in (layer_kernel(first), *kernels[0])
            )  # columns of the image: the constant channel is no direction of x
            extra = structured_starts([w], [(a, b)], False, radius)
        measured, where = measure_worst_case(
            dense_target,
            dense_gadget,
            radius=radius,
            sphere=constant is None,  # a bias-free F - G is positively homogeneous
            rng=rng,
            samples=samples,
            starts=starts,
            ascent_steps=ascent_steps,
            extra_starts=extra,
        )
        _check_agreement(pruned, gadget, where[None])
        for name, bound in bounds.items():
            if measured > bound * (1 + AGREEMENT):
                raise CertificationError(
                    f"the measured error {measured!r} exceeds the {name} bound {bound!r} at "
                    f"input {where!r}: this is a bug."
                )
    weighted = [p for p in pieces if p.weighted]
    return ConvCertificate(
        radius=radius,
        weight_norms=np.array([p.norm for p in weighted]),
        tau=np.array([p.tau for p in weighted]),
        pool_norms=np.array([p.norm for p in pieces if not p.weighted]),
        max_weight_error=np.array([p.worst for p in weighted]),
        certified=certified,
        measured=measured,
        measured_input=where,
        bounds=bounds,
    )


def _with_kernel(layer, kernel):
    """``layer`` with another kernel ``(O, C, k_h, k_w)`` (a Linear's as ``(O, I, 1, 1)``)."""
    if isinstance(layer, Linear):
        return Linear(kernel[:, :, 0, 0])
    return Conv2d(kernel, stride=layer.stride, padding=layer.padding)


def _check_agreement(pruned, gadget, x):
    """The ticket's own pruned network and the gadget form certified must agree on ``x``."""
    direct, reduced = pruned.forward(x), gadget.forward(x)
    scale = max(float(np.abs(direct).max()) + float(np.abs(reduced).max()), 1e-300)
    gap = float(np.abs(direct - reduced).max())
    if not gap <= AGREEMENT * scale:
        raise CertificationError(
            f"`ticket`'s pruned network and the gadget form read from its masks differ by "
            f"{gap!r} (scale {scale:.3g}): it cannot be certified."
        )
