"""A convolutional strong lottery ticket: seed, architecture and masks, never weights."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import check_real
from .conv_certify import ConvCertificate, certify_conv
from .conv_gadgets import ConvRandomNetwork, fold_constant, gadget_kernels, pruned_layers
from .convnets import AvgPool2d, Conv2d, ConvNetwork, Flatten, Linear, ReLU
from .distributions import Distribution, get_distribution
from .exceptions import FileFormatError, InvalidParameterError
from .networks import read_npz, write_npz

__all__ = ["ConvTicket", "architecture"]

_FORMAT = "strong_lth.ConvTicket/1"


def architecture(target: ConvNetwork) -> tuple[dict, ...]:
    """The target's layers without their weights, as JSON-ready dicts (a ticket's skeleton)."""
    specs = []
    for layer in target.layers:
        spec: dict[str, Any] = {"kind": type(layer).__name__}
        if isinstance(layer, Conv2d | Linear):
            spec["shape"] = list(layer.weight.shape)
        if isinstance(layer, Conv2d):
            spec["stride"], spec["padding"] = list(layer.stride), list(layer.padding)
        if isinstance(layer, AvgPool2d):
            spec["kernel_size"], spec["stride"] = list(layer.kernel_size), list(layer.stride)
        specs.append(spec)
    return tuple(specs)


def _layer(spec: dict, weight: np.ndarray | None = None):
    """A layer of the skeleton, with ``weight`` (zeros of its shape when None)."""
    kind = spec["kind"]
    if kind in ("Conv2d", "Linear"):
        weight = np.zeros(spec["shape"]) if weight is None else weight
        if kind == "Linear":
            return Linear(weight)
        return Conv2d(weight, stride=tuple(spec["stride"]), padding=tuple(spec["padding"]))
    if kind == "AvgPool2d":
        return AvgPool2d(tuple(spec["kernel_size"]), tuple(spec["stride"]))
    return {"ReLU": ReLU, "Flatten": Flatten}[kind]()


@dataclass(frozen=True, eq=False)
class ConvTicket:
    """Masks of one random convolutional network (:class:`~strong_lth.conv_gadgets.
    ConvRandomNetwork`) whose pruned network approximates a convolutional target.

    Attributes
    ----------
    seed : int
    distribution : Distribution
    input_shape : tuple of int
        ``(C, H, W)`` of the target's input.
    layers : tuple of dict
        The architecture without weights (:func:`architecture`) of the target, or of its
        bias-augmented form (:meth:`~strong_lth.convnets.ConvNetwork.augmented`) when
        ``input_constant`` is set.
    values_per_input : tuple of int
        ``n_i`` per weighted layer: the hidden layer of pair i has ``C_i n_i`` channels (or
        units, for a Linear).
    keeps : tuple of ndarray of bool
        Per weighted layer, ``keep[o, (c, a, b), k]``: weight ``V[o, (c, k), a, b]`` is kept
        (the first layer of the pair keeps ``u_{c,k}`` iff channel ``(c, k)`` is used).
    target_fingerprint : str or None
        :meth:`ConvNetwork.fingerprint` of the target it was made for.
    report : ConvReport, dict or None
        What :func:`strong_lth.approximate_conv` found (a dict after :meth:`load`).
    input_constant : float or None
        For a target with biases, the value ``c > 0`` of the constant channel appended to the
        input (the pruned network folds it into its first layer's bias, :meth:`pruned_network`);
        None for a bias-free target.

    Raises
    ------
    InvalidParameterError
        If the masks do not match the architecture and ``values_per_input``.
    """

    seed: int
    distribution: Distribution
    input_shape: tuple
    layers: tuple
    values_per_input: tuple
    keeps: tuple
    target_fingerprint: str | None = None
    report: Any = None
    input_constant: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "distribution", get_distribution(self.distribution))
        if self.input_constant is not None:
            constant = check_real("input_constant", self.input_constant, low=0.0, low_open=True)
            object.__setattr__(self, "input_constant", constant)
        object.__setattr__(self, "values_per_input", tuple(self.values_per_input))
        network = self.random_network()  # validates seed, n
        skeleton = self.skeleton()  # validates the architecture
        keeps = tuple(np.asarray(k) for k in self.keeps)
        if len(keeps) != len(network.kernel_shapes):
            raise InvalidParameterError(
                f"`keeps` must have one mask per weighted layer ({len(network.kernel_shapes)}); "
                f"got {len(keeps)}."
            )
        for i, (keep, (o, c, kh, kw), n) in enumerate(
            zip(keeps, network.kernel_shapes, network.values_per_input)
        ):
            if keep.dtype != bool or keep.shape != (o, c * kh * kw, n):
                raise InvalidParameterError(
                    f"`keeps[{i}]` must be a bool array of shape {(o, c * kh * kw, n)}; got "
                    f"dtype {keep.dtype} and shape {keep.shape}."
                )
        object.__setattr__(self, "keeps", keeps)
        c, h, w = skeleton.input_shape
        object.__setattr__(self, "input_shape", (c - (self.input_constant is not None), h, w))

    def skeleton(self) -> ConvNetwork:
        """The architecture of :attr:`layers` with zero weights (on ``C + 1`` channels with an
        ``input_constant``)."""
        c, h, w = (int(v) for v in self.input_shape)
        if self.input_constant is not None:
            c += 1
        return ConvNetwork((c, h, w), [_layer(spec) for spec in self.layers])

    def random_network(self) -> ConvRandomNetwork:
        """The random network the ticket prunes."""
        shapes = [
            (*s["shape"], 1, 1) if s["kind"] == "Linear" else tuple(s["shape"])
            for s in self.layers
            if s["kind"] in ("Conv2d", "Linear")
        ]
        return ConvRandomNetwork(self.seed, shapes, self.values_per_input, self.distribution)

    @property
    def n_kept(self) -> int:
        """Kept random weights: every kept ``V`` entry plus every used ``u_{c,k}``."""
        total = 0
        for keep, shape in zip(self.keeps, self.random_network().kernel_shapes):
            o, c, kh, kw = shape
            total += int(keep.sum())
            total += int(keep.reshape(o, c, kh * kw, -1).any(axis=(0, 2)).sum())
        return total

    @property
    def random_params(self) -> int:
        """Weights of the whole random network: ``C n + O C n k_h k_w`` per pair."""
        network = self.random_network()
        return sum(
            c * n + o * c * n * kh * kw
            for (o, c, kh, kw), n in zip(network.kernel_shapes, network.values_per_input)
        )

    @property
    def hidden_channels(self) -> tuple[int, ...]:
        """``C_i n_i`` per pair: the channels (units) of the random hidden layer."""
        network = self.random_network()
        return tuple(s[1] * n for s, n in zip(network.kernel_shapes, network.values_per_input))

    def gadget_kernels(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(A_i, B_i)`` per weighted layer, each ``(O, C, k_h, k_w)``, recomputed from the masks
        over the regenerated random weights (:func:`~strong_lth.conv_gadgets.gadget_kernels`)."""
        network = self.random_network()
        return [
            gadget_kernels(*network.gadget_weights(i), keep)
            for i, keep in enumerate(self.keeps, start=1)
        ]

    def pruned_network(self) -> ConvNetwork:
        """The pruned random network (depth two per weighted layer) as a :class:`ConvNetwork`
        on the target's inputs: every weight 0 or the random network's own entry. With an
        ``input_constant`` c, the first layer's weights from the constant channel are folded
        into its bias (``c u``: :func:`~strong_lth.conv_gadgets.fold_constant`)."""
        network = self.random_network()
        layers, i = [], 0
        for spec in self.layers:
            layer = _layer(spec)
            if isinstance(layer, Conv2d | Linear):
                i += 1
                layers += pruned_layers(layer, *network.gadget_weights(i), self.keeps[i - 1])
            else:
                layers.append(layer)
        pruned = ConvNetwork(self.skeleton().input_shape, layers)
        return pruned if self.input_constant is None else fold_constant(pruned, self.input_constant)

    def certificate(self, target: ConvNetwork, **options) -> ConvCertificate:
        """Certify the ticket against ``target``: :func:`~strong_lth.conv_certify.certify_conv`
        (``options``: ``radius``, ``rng``, ``samples``, ``starts``, ``ascent_steps``,
        ``measure``)."""
        return certify_conv(target, self, **options)

    def forward(self, x: Any) -> np.ndarray:
        """The pruned network on a batch ``(N, C, H, W)`` (or flat rows ``(N, C H W)``)."""
        return self.pruned_network().forward(x)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write seed, distribution, architecture, n, masks and report (without timings) to an
        ``.npz`` (a JSON header and one bool array per weighted layer)."""
        report = self.report
        if dataclasses.is_dataclass(report):
            report = report.to_dict()
        header = {
            "format": _FORMAT,
            "seed": self.seed,
            "distribution": {
                "name": self.distribution.name,
                **dataclasses.asdict(self.distribution),
            },
            "input_shape": list(self.input_shape),
            "layers": list(self.layers),
            "values_per_input": list(self.values_per_input),
            "target_fingerprint": self.target_fingerprint,
            "input_constant": self.input_constant,
            "report": report,
        }
        arrays = {"header": np.array(json.dumps(header))}
        arrays |= {f"keep{i}": keep for i, keep in enumerate(self.keeps)}
        write_npz(path, arrays, compress=True)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, max_bytes: int = 2**30) -> ConvTicket:
        """Read a ticket written by :meth:`save` (the report as a plain dict).

        Raises
        ------
        FileFormatError
            If the file is not a ticket file (no JSON header of this format, missing masks).
        InvalidParameterError
            If its fields do not form a valid ticket.
        """
        arrays = read_npz(path, max_bytes=max_bytes)
        text = os.fspath(path)
        try:
            header = json.loads(str(arrays.pop("header")[()]))
            if header.pop("format") != _FORMAT:
                raise ValueError("format")
            depth = len(header["values_per_input"])
            keeps = tuple(arrays.pop(f"keep{i}") for i in range(depth))
            spec = header.pop("distribution")
            distribution = type(get_distribution(spec.pop("name")))(**spec)
        except (KeyError, ValueError, TypeError, AttributeError) as error:
            raise FileFormatError(
                f"`path` must be a ConvTicket file ({_FORMAT}); {text!r} is not ({error!r})."
            ) from error
        if arrays:
            raise FileFormatError(f"`path` has unexpected arrays {sorted(arrays)} in {text!r}.")
        return cls(
            seed=header["seed"],
            distribution=distribution,
            input_shape=tuple(header["input_shape"]),
            layers=tuple(header["layers"]),
            values_per_input=tuple(header["values_per_input"]),
            keeps=keeps,
            target_fingerprint=header["target_fingerprint"],
            report=header["report"],
            input_constant=header.get("input_constant"),
        )
