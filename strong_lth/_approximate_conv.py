"""Prune one fixed random convolutional network so that it approximates a convolutional target:
:func:`approximate_conv`, the convolutional counterpart of :func:`strong_lth.approximate`."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from . import _search as nested
from ._validation import check_real
from .conv_certify import (
    certify_conv,
    check_conv_target,
    conv_bounds,
    conv_pieces,
    error_layer,
    input_radius,
    layer_kernel,
    lockstep_available,
    operator_norm,
)
from .conv_gadgets import ConvRandomNetwork, choose
from .conv_ticket import ConvTicket, architecture
from .convnets import ConvNetwork
from .exceptions import CertificationError, InvalidParameterError
from .parameters import DEFAULTS, ApproximateParameters

__all__ = [
    "ConvLayerReport",
    "ConvReport",
    "approximate_conv",
    "bias_constant",
    "check_conv_options",
    "conv_ticket",
]


@dataclass(frozen=True)
class ConvLayerReport:
    """One weighted layer of a convolutional ticket.

    Attributes
    ----------
    kind : str
        "Conv2d" or "Linear".
    kernel_shape : tuple of int
        ``(O, C, k_h, k_w)`` (``(O, I, 1, 1)`` for a Linear).
    values_per_input : int
        ``n``: copies per input channel.
    hidden_channels : int
        ``C n``, the channels (units) of the random hidden layer.
    weight_norm, tau : float
        Operator norms of the target layer and of its error kernel on the layer's input size.
    max_weight_error : float
        Largest ``|A - K|`` (and ``|K - B|`` of a signed input).
    evaluated : tuple of (int, float)
        ``(n, τ)`` of every n the search solved.
    """

    kind: str
    kernel_shape: tuple
    values_per_input: int
    hidden_channels: int
    weight_norm: float
    tau: float
    max_weight_error: float
    evaluated: tuple = ()


@dataclass(frozen=True)
class ConvReport:
    """What :func:`approximate_conv` found: per-layer rows (:class:`ConvLayerReport`), the
    certified error (the least of ``bounds``, by method), the measured error, parameter counts,
    timings and, for a target with biases, the value of the constant input channel
    (``input_constant``; the rows then describe the bias-augmented layers)."""

    eps: float | None
    radius: float
    seed: int
    solver: str
    layers: tuple
    certified: float
    measured: float | None
    bounds: dict
    random_params: int
    kept_params: int
    target_params: int
    seconds: dict = field(default_factory=dict)
    input_constant: float | None = None

    def to_dict(self) -> dict:
        """Plain JSON-ready fields, without the wall-clock ``seconds``."""
        out = asdict(self)
        out.pop("seconds")
        return out

    def __str__(self) -> str:
        lines = [
            f"ConvReport: certified {self.certified:.4g}"
            + ("" if self.measured is None else f", measured {self.measured:.4g}")
            + ("" if self.eps is None else f" (eps {self.eps:g})")
            + f", kept {self.kept_params} of {self.random_params} random weights "
            f"(target {self.target_params})"
            + (
                ""
                if self.input_constant is None
                else f"; biases on a constant input channel c = {self.input_constant:.4g}"
            ),
            "layer  kind    kernel          n  channels       tau   ||W||",
        ]
        for i, row in enumerate(self.layers, start=1):
            lines.append(
                f"{i:>5}  {row.kind:<6}  {'x'.join(map(str, row.kernel_shape)):<12} "
                f"{row.values_per_input:>4} {row.hidden_channels:>9} {row.tau:>9.3g} "
                f"{row.weight_norm:>7.3g}"
            )
        return "\n".join(lines)


UNSUPPORTED = {
    "construction": "the convolutional gadget is the subset-sum construction of Pensia et al.",
    "subset_size": "subsets of any size only",
    "max_subset_size": "subsets of any size only",
    "fewest": "the fewest values within each instance's tolerance only",
    "source_density": "a dense random network only",
    "certificate": "the spectral recursion, and the lockstep bound when no pooling is present",
    "scheduler": "its layers are solved in this process",
}
"""Options of :class:`~strong_lth.parameters.ApproximateParameters` that
:func:`approximate_conv` accepts only at their default, with what it supports instead."""


@dataclass
class _ConvLayer(nested.NestedLayer):
    """One weighted layer of a convolutional target, solved at any n by the convolutional
    gadget, with the operator norm of its error kernel as τ."""

    layer: object = None  # the target Conv2d or Linear
    kernel: np.ndarray | None = None  # (O, C, k_h, k_w)
    shape: tuple = ()  # the layer's input shape
    signed_input: np.ndarray | None = None  # per input channel

    def solve(self, n: int):
        keep, sums, _ = choose(
            self.kernel,
            self.network.with_values_per_input(self.values(n)),
            self.index,
            signed=self.signed_input,
            solver=self.solver,
            tol=self.tol,
            start=self._start(n),
        )
        delta = error_layer(self.layer, sums[0], sums[1], self.signed_input)
        worst = float(np.abs(delta.weight).max(initial=0.0))
        tau = operator_norm(delta, self.shape)
        return tau, worst, np.packbits(keep, axis=2), (sums[0], sums[1])


class _ConvBound:
    """The least certified error of the ticket with ``n_i`` per weighted layer, from each
    layer's cached τ and ``(A, B)``: the recursion of :func:`~strong_lth.conv_certify.
    certify_conv` (pooling: τ = 0), and the lockstep bound when ``tighter``."""

    def __init__(self, target, layers, pieces, radius, tighter, constant):
        self.target, self.layers, self.pieces, self.radius = target, layers, pieces, radius
        self.tighter, self.constant = tighter, constant
        for layer in layers:
            layer.pairs = {} if tighter else None

    def __call__(self, chosen, *, spectral_only=False) -> float:
        taus = iter([layer(n)[0] for layer, n in zip(self.layers, chosen)])
        pieces = [p._replace(tau=next(taus)) if p.weighted else p for p in self.pieces]
        kernels = None
        lockstep = self.tighter and not spectral_only
        if lockstep:
            kernels = [layer.pairs[n] for layer, n in zip(self.layers, chosen)]
        bounds = conv_bounds(self.target, pieces, kernels, self.radius, lockstep, self.constant)
        return min(bounds.values())


def approximate_conv(target: ConvNetwork, **options) -> ConvTicket:
    """Find masks of one random convolutional network whose pruned network approximates
    ``target``, with a certified error.

    ``strong_lth.approximate(target, ...)`` with a :class:`~strong_lth.convnets.ConvNetwork`
    target calls this. The keywords are those of :func:`strong_lth.approximate`, declared
    once, with their defaults, by :class:`~strong_lth.parameters.ApproximateParameters`, which
    checks them; those of :data:`UNSUPPORTED` (``construction``, ``subset_size``,
    ``source_density``, ``certificate``) are refused unless left at their default.

    Parameters
    ----------
    target : ConvNetwork
        Starting and ending with a Conv2d or Linear layer (possibly behind pooling or
        Flatten), no two ReLUs in a row. Biases are carried by a constant input channel of value
        :func:`bias_constant` (:meth:`~strong_lth.convnets.ConvNetwork.augmented`), which needs
        every Conv2d that reads it to have padding at most ``(k - 1) / 2``; the ticket then
        approximates the augmented (bias-free) target and certifies over the augmented input
        (:func:`strong_lth.conv_certify.certify_conv`, Notes).
    **options
        Keywords of :class:`~strong_lth.parameters.ApproximateParameters`; those used here:
    eps : float, optional
        Automatic mode: the smallest ``n_i`` per weighted layer whose ticket's certified error
        ``sup_{||x|| <= radius} ||F(x) - G(x)||_2`` is at most ``eps``.
    values_per_input : int or sequence of int, optional
        Fixed mode: ``n_i`` per weighted layer. Exactly one of ``eps`` and ``values_per_input``.
    rng : None, int or numpy.random.Generator
        Seed of the random network (recorded in the ticket).
    radius : float, default 1.0
        Inputs range over the ball of this radius (all pixels of all channels).
    solver : str
        SubsetSum method (:data:`strong_lth.subset_sum.METHODS`).
    distribution : str or Distribution
        Weights of the random network (default Uniform[-1, 1]).
    max_values_per_input, max_bytes : int
        As :func:`strong_lth.approximate`.
    construction, certificate, subset_size, max_subset_size, fewest, source_density, scheduler
        Only their defaults (:data:`UNSUPPORTED`).
    measure : bool, default True
        Also search for the measured worst case (``report.measured``).
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    ConvTicket
        With ``report`` (:class:`ConvReport`).

    Raises
    ------
    InvalidParameterError
        Bad input; an option of :data:`UNSUPPORTED` away from its default; a target with
        biases on a convolution without a constant tap (padding above ``(k - 1) / 2``, naming
        the layer); ``max_values_per_input`` or ``max_bytes`` too small
        for ``eps`` (stating what is enough when it can).

    Notes
    -----
    The search of :func:`strong_lth.approximate`: ``eps`` is split into per-layer goals for
    ``τ_i`` by the recursion of :func:`strong_lth.conv_certify.certify_conv` (pooling layers
    count with their norm and no error), each weighted layer's n is found by bisection over the
    nested random networks, then every n with slack is lowered while the certified error stays
    within ``eps``, one step at a time on the recursion. When the lockstep bound is available
    (:func:`strong_lth.conv_certify.lockstep_available`) and tighter at the first n reaching the
    goals, the search stops there instead and finds, per layer, the least n at which the
    lockstep bound stays within ``eps``, bracketed by the n already solved
    (:func:`strong_lth._search.search`). Weighted layer i is the
    convolutional gadget of :mod:`strong_lth.conv_gadgets`: ``C_i n_i`` hidden channels.
    da Cunha, Natale, Viennot (ICLR 2022) prove ``n_i = O(log(C_i O_i k_h k_w l / ε))``
    suffices with high probability.

    Examples
    --------
    >>> import numpy as np
    >>> from strong_lth.convnets import Conv2d, ConvNetwork, Flatten, Linear, ReLU
    >>> gen = np.random.default_rng(0)
    >>> target = ConvNetwork((1, 5, 5), [Conv2d(0.3 * gen.standard_normal((2, 1, 3, 3))), ReLU(),
    ...                                  Flatten(), Linear(0.3 * gen.standard_normal((2, 18)))])
    >>> ticket = approximate_conv(target, eps=0.05, rng=1)
    >>> bool(ticket.report.measured <= ticket.report.certified <= 0.05)
    True
    """
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise InvalidParameterError(
            f"`{unknown[0]}` is no option of approximate_conv; expected keywords among "
            f"{sorted(DEFAULTS)}."
        )
    return conv_ticket(target, ApproximateParameters(**options))


def check_conv_options(options: ApproximateParameters) -> None:
    """Refuse an option of :data:`UNSUPPORTED` away from its default.

    Raises
    ------
    InvalidParameterError
        Naming the option, its default, what is supported instead and the value given.
    """
    for name, why in UNSUPPORTED.items():
        if getattr(options, name) != DEFAULTS[name]:
            raise InvalidParameterError(
                f"`{name}` must be left at its default {DEFAULTS[name]!r} for a convolutional "
                f"target ({why}); got {getattr(options, name)!r}."
            )


def conv_ticket(target: ConvNetwork, options: ApproximateParameters) -> ConvTicket:
    """:func:`approximate_conv` with its options already checked (what
    :func:`strong_lth.approximate` calls for a convolutional target)."""
    check_conv_target(target)
    check_conv_options(options)
    eps, values_per_input, progress = options.eps, options.values_per_input, options.progress
    solver, radius, cap = options.solver, options.radius, options.max_values_per_input
    max_bytes, distribution, seed = options.max_bytes, options.distribution, options.rng
    target.dense_equivalent()  # refuses a structure the certificate cannot measure
    constant = bias_constant(target, radius)
    work = target if constant is None else target.augmented(constant)
    pieces = conv_pieces(work, constant_input=constant is not None)
    weighted = [p for p in pieces if p.weighted]
    network = ConvRandomNetwork(
        seed, [layer_kernel(work.layers[p.index]).shape for p in weighted], 1, distribution
    )
    layers = []
    for i, piece in enumerate(weighted, start=1):
        kernel = layer_kernel(work.layers[piece.index])
        o, c, kh, kw = kernel.shape
        layers.append(
            _ConvLayer(
                index=i,
                weights=kernel.reshape(o, c * kh * kw),
                signed=np.repeat(piece.signed, kh * kw),
                network=network,
                solver=solver,
                layer=work.layers[piece.index],
                kernel=kernel,
                shape=piece.shape,
                signed_input=piece.signed,
            )
        )
    if eps is None:
        chosen = nested.fixed_values(values_per_input, len(layers), cap)
        for layer, n in zip(layers, chosen):
            nested.check_bytes(layer, n, max_bytes, "at n = {n} values per input")
    start = time.perf_counter()
    with nested.progress_bar(progress) as bar:
        for layer in layers:
            layer.bar = bar
        if eps is not None:
            eps = check_real("eps", eps, low=0.0, low_open=True)
            norms = np.array([p.norm for p in pieces])
            start_radius = input_radius(work.input_shape, radius, constant)
            split = nested.budget_split(norms, start_radius, eps * (1 - nested.SAFETY))
            goals = [g for g, p in zip(split, pieces) if p.weighted]
            for layer, goal in zip(layers, goals):
                o, ckk = layer.weights.shape
                layer.tol = float(goal / (nested.TOL_FACTOR * (math.sqrt(o) + math.sqrt(2 * ckk))))
            tighter = lockstep_available(work)
            bound = _ConvBound(work, layers, pieces, radius, tighter, constant)
            chosen = nested.search(layers, goals, bound, eps, cap, max_bytes)
        keeps = [layer.keep(n) for layer, n in zip(layers, chosen)]
    search_seconds = time.perf_counter() - start
    ticket = ConvTicket(
        seed=seed,
        distribution=distribution,
        input_shape=target.input_shape,
        layers=architecture(work),
        values_per_input=tuple(int(n) for n in chosen),
        keeps=tuple(keeps),
        target_fingerprint=target.fingerprint(),
        input_constant=constant,
    )
    start = time.perf_counter()
    found = certify_conv(target, ticket, radius=radius, rng=seed, measure=options.measure)
    certify_seconds = time.perf_counter() - start
    if eps is not None and found.certified > eps:
        raise CertificationError(
            f"the ticket's certificate {found.certified!r} exceeds eps = {eps!r}, which the "
            "search had met on the same masks: this is a bug."
        )
    rows = tuple(
        ConvLayerReport(
            kind=type(layer.layer).__name__,
            kernel_shape=tuple(int(d) for d in layer.kernel.shape),
            values_per_input=int(n),
            hidden_channels=int(layer.kernel.shape[1] * n),
            weight_norm=float(found.weight_norms[i]),
            tau=float(found.tau[i]),
            max_weight_error=float(found.max_weight_error[i]),
            evaluated=tuple((int(m), float(v[0])) for m, v in sorted(layer.cache.items())),
        )
        for i, (layer, n) in enumerate(zip(layers, chosen))
    )
    report = ConvReport(
        eps=eps,
        radius=radius,
        seed=seed,
        solver=solver,
        layers=rows,
        certified=found.certified,
        measured=found.measured,
        bounds=dict(found.bounds),
        random_params=ticket.random_params,
        kept_params=ticket.n_kept,
        target_params=target.n_params,
        seconds={
            "solve": sum(layer.seconds for layer in layers),
            "search + masks": search_seconds,
            "certify": certify_seconds,
        },
        input_constant=constant,
    )
    return ConvTicket(**{**ticket.__dict__, "report": report})


def bias_constant(target: ConvNetwork, radius: float) -> float | None:
    """The value ``c`` of the constant input channel that carries ``target``'s biases
    (:meth:`~strong_lth.convnets.ConvNetwork.augmented`); None for a bias-free target.

    Returns
    -------
    float or None
        ``c = max(r / sqrt(H W), max_i max|b_i| / max|K_i|)`` over the weighted layers i with
        a bias.

    Notes
    -----
    The certificate starts from the augmented input's radius ``sqrt(r^2 + c^2 H W)``
    (:func:`~strong_lth.conv_certify.input_radius`), so a small ``c`` helps it; but the gadget
    must reach the bias entries ``b / c`` with sums of random products ``u v`` (at most 1
    each), and the operator norm of a layer grows with them. The first term keeps the constant
    channel's norm ``c sqrt(H W)`` at the radius (the input radius grows by at most
    ``sqrt(2)``); the second keeps every bias entry at most the layer's largest kernel entry,
    which the gadget has to reach anyway. On the digits CNN with biases of
    ``benchmarks/bench_cnn.py`` (``r = 1``, 8x8 images, ``n = (50, 50, 60)``) the spectral
    bound was 0.273 at ``c = 1``, 0.076 at 0.25, 0.067 at the rule's 0.213, and 5.96 at 0.125,
    where the first layer's largest bias entry ``0.334 / c`` was out of the pools' reach.

    Examples
    --------
    >>> from strong_lth.convnets import Conv2d, Flatten, Linear
    >>> net = ConvNetwork((1, 4, 4), [Conv2d(np.full((1, 1, 3, 3), 2.0), [1.0]), Flatten(),
    ...                               Linear(np.ones((1, 4)))])
    >>> bias_constant(net, 1.0)  # max(1 / 4, 1 / 2)
    0.5
    """
    if not target.has_bias:
        return None
    _, h, w = target.input_shape
    ratios = [
        float(np.abs(layer.bias).max() / np.abs(layer.weight).max())
        for layer in target.weighted_layers
        if layer.bias is not None and np.abs(layer.weight).max() > 0
    ]
    return max([radius / math.sqrt(h * w), *ratios])
