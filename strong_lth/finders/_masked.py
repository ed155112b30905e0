"""A ticket found by search or planted: boolean masks over any fixed random network.

A constructed :class:`~strong_lth.ticket.Ticket` keeps the gadget structure of Pensia et al. and
Malach et al. (every first-layer unit keeps one input), which its certificate relies on. A ticket
found by edge-popup keeps arbitrary weights, so it gets a type of its own, :class:`MaskedNetwork`:
the random network it prunes and the kept positions of every layer. Every kept weight is the
random weight at its position, unchanged; density is :func:`strong_lth.ticket.density`, the one
definition of the package.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from .._validation import check_choice, check_inputs, check_int
from ..distributions import get_distribution
from ..exceptions import InvalidParameterError
from ..gadgets import fold_input_bias
from ..networks import ReLUNetwork
from ..random_network import RandomNetwork
from ..ticket import Ticket, density

__all__ = ["METHODS", "MaskedNetwork"]

_FORMAT = "strong_lth.masked_network/1"

METHODS = ("edge-popup", "planted", "pensia", "malach")
"""How the masks were found: searched, planted (:func:`~strong_lth.finders.plant`), or read from
a constructed :class:`~strong_lth.ticket.Ticket` (:meth:`MaskedNetwork.from_ticket`)."""


def source_shapes(source) -> list[tuple[int, int]]:
    """Shapes of the weight matrices of a random network (``RandomNetwork`` or ``ReLUNetwork``)."""
    if isinstance(source, RandomNetwork):
        return source.shapes
    return [w.shape for w in source.weights]


def check_source(source, name: str = "network"):
    """A fixed random network: a :class:`RandomNetwork` or a bias-free :class:`ReLUNetwork`."""
    if isinstance(source, RandomNetwork):
        return source
    if isinstance(source, ReLUNetwork):
        if source.has_bias:
            raise InvalidParameterError(
                f"`{name}` must be bias-free (a random network's biases are not pruned here); "
                "got a ReLUNetwork with biases."
            )
        return source
    raise InvalidParameterError(
        f"`{name}` must be a RandomNetwork or a bias-free ReLUNetwork; got {type(source).__name__}."
    )


def source_matrices(source) -> list[np.ndarray]:
    """The dense weight matrices of a random network (absent weights 0)."""
    if isinstance(source, RandomNetwork):
        return [source.matrix(j) for j in range(1, source.depth + 1)]
    return [np.array(w) for w in source.weights]


def source_candidates(source) -> list[np.ndarray | None]:
    """Per layer, the positions a ticket may keep (bool), or None when every position may be kept:
    the present weights of a sparse :class:`RandomNetwork`, every weight otherwise."""
    if isinstance(source, RandomNetwork) and source.source_density < 1.0:
        return [
            source.present(j, np.arange(r)[:, None], np.arange(c)[None, :])
            for j, (r, c) in enumerate(source.shapes, start=1)
        ]
    return [None] * len(source_shapes(source))


@dataclass(frozen=True, eq=False)
class MaskedNetwork:
    """Kept positions over one fixed random network: a ticket of any structure.

    Attributes
    ----------
    source : RandomNetwork or ReLUNetwork
        The random network pruned: a :class:`~strong_lth.random_network.RandomNetwork` (weights
        a pure function of seed and position, of any construction's shape) or a bias-free
        :class:`~strong_lth.networks.ReLUNetwork` (a plain random MLP, or a planted copy).
    masks : tuple of ndarray
        One ``(k_j, 2)`` int64 array of kept ``(row, col)`` positions per layer, stored sorted
        row-major.
    input_bias : bool, default False
        The source's last input is the constant 1 (a target with biases, as in
        :class:`~strong_lth.ticket.Ticket`): :meth:`forward` appends it and
        :meth:`pruned_network` folds it into a first-layer bias.
    method : str, default "edge-popup"
        One of :data:`METHODS`.
    losses : ndarray or None
        The training loss at every step (edge-popup), else None.

    Raises
    ------
    InvalidParameterError
        If ``source`` is not a RandomNetwork or bias-free ReLUNetwork, ``masks`` does not hold one
        array of in-range, distinct positions per layer, a kept weight is absent from a sparse
        source, or ``method`` is unknown.

    Notes
    -----
    A constructed ticket comes with a certified bound (:func:`strong_lth.certify`); a masked
    network of arbitrary structure admits none of the package's bounds, since they rest on the
    gadget identity ``A σ(h) - B σ(-h)`` of Pensia et al. (arXiv:2006.07990). Its error is
    measured (:func:`~strong_lth.finders.measured_error`) or computed exactly on a box
    (:func:`strong_lth.exact_error` on :meth:`pruned_network`).

    Examples
    --------
    >>> from strong_lth import RandomNetwork
    >>> g = RandomNetwork(seed=0, widths=(2, 1), values_per_input=2)
    >>> masked = MaskedNetwork(g, (np.array([[0, 0], [3, 1]]), np.array([[0, 0], [0, 3]])))
    >>> masked.n_kept, masked.density == 4 / (4 * 2 + 1 * 4)
    (4, True)
    >>> bool(masked.kept_weights(2)[1] == g.matrix(2)[0, 3])
    True
    """

    source: RandomNetwork | ReLUNetwork
    masks: tuple[np.ndarray, ...]
    input_bias: bool = False
    method: str = "edge-popup"
    losses: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self):
        check_source(self.source, "source")
        check_choice("method", self.method, METHODS)
        if not isinstance(self.input_bias, bool | np.bool_):
            raise InvalidParameterError(
                f"`input_bias` must be True or False; got {self.input_bias!r}."
            )
        shapes = source_shapes(self.source)
        if not isinstance(self.masks, list | tuple) or len(self.masks) != len(shapes):
            raise InvalidParameterError(
                f"`masks` must hold one array per layer of `source` ({len(shapes)}); got "
                f"{len(self.masks) if isinstance(self.masks, list | tuple) else self.masks!r}."
            )
        masks = []
        for layer, (positions, shape) in enumerate(zip(self.masks, shapes), start=1):
            positions = np.asarray(positions)
            if positions.dtype.kind not in "iu" or positions.ndim != 2 or positions.shape[1] != 2:
                raise InvalidParameterError(
                    f"`masks` layer {layer} must be a (k, 2) integer array of (row, col); got "
                    f"dtype {positions.dtype}, shape {positions.shape}."
                )
            positions = positions.astype(np.int64)
            if positions.size and (positions.min() < 0 or np.any(positions.max(0) >= shape)):
                raise InvalidParameterError(
                    f"`masks` layer {layer} must index inside its shape {shape}; got positions "
                    f"from {tuple(positions.min(0))} to {tuple(positions.max(0))}."
                )
            order = np.lexsort((positions[:, 1], positions[:, 0]))
            positions = np.ascontiguousarray(positions[order])
            if len(positions) > 1 and np.any(np.all(positions[1:] == positions[:-1], axis=1)):
                raise InvalidParameterError(
                    f"`masks` layer {layer} must list distinct positions; got a repeated one."
                )
            positions.flags.writeable = False
            masks.append(positions)
        object.__setattr__(self, "masks", tuple(masks))
        object.__setattr__(self, "input_bias", bool(self.input_bias))
        values = tuple(self._read(layer, m) for layer, m in enumerate(masks, start=1))
        if isinstance(self.source, RandomNetwork) and self.source.source_density < 1.0:
            for layer, m in enumerate(masks, start=1):
                if not np.all(self.source.present(layer, m[:, 0], m[:, 1])):
                    raise InvalidParameterError(
                        f"`masks` layer {layer} must keep only weights present in the sparse "
                        "`source`; got an absent one."
                    )
        object.__setattr__(self, "_values", values)
        if self.losses is not None:
            losses = np.array(self.losses, dtype=np.float64)
            losses.flags.writeable = False
            object.__setattr__(self, "losses", losses)

    def _read(self, layer: int, positions: np.ndarray) -> np.ndarray:
        if isinstance(self.source, RandomNetwork):
            return self.source.entries(layer, positions[:, 0], positions[:, 1])
        return self.source.weights[layer - 1][positions[:, 0], positions[:, 1]].copy()

    @classmethod
    def from_ticket(cls, ticket: Ticket, network: RandomNetwork | None = None) -> MaskedNetwork:
        """A constructed ticket as a masked network, over its own or a wider nested network.

        Parameters
        ----------
        ticket : Ticket
        network : RandomNetwork, optional
            The same seed, widths, distribution and source density as the ticket's, with at least
            its values per input: by nesting (:class:`~strong_lth.random_network.RandomNetwork`),
            the ticket's positions hold the same weights there. Default: the ticket's own.

        Raises
        ------
        InvalidParameterError
            If ``ticket`` is not a Ticket or ``network`` is not a network it is nested in.
        """
        if not isinstance(ticket, Ticket):
            raise InvalidParameterError(f"`ticket` must be a Ticket; got {type(ticket).__name__}.")
        own = ticket.random_network()
        if network is None:
            network = own
        if (
            not isinstance(network, RandomNetwork)
            or dataclasses.replace(network, values_per_input=own.values_per_input) != own
        ):
            raise InvalidParameterError(
                "`network` must be the ticket's random network or a wider one of the same seed, "
                f"widths and distribution; got {network!r}."
            )
        if any(n < m for n, m in zip(network.values_per_input, own.values_per_input)):
            raise InvalidParameterError(
                f"`network` must have at least the ticket's values per input "
                f"{own.values_per_input}; got {network.values_per_input}."
            )
        return cls(network, ticket.masks, ticket.input_bias, ticket.construction)

    @property
    def depth(self) -> int:
        """Number of weight matrices of the source."""
        return len(self.masks)

    @property
    def shapes(self) -> list[tuple[int, int]]:
        """Shapes of the source's weight matrices."""
        return source_shapes(self.source)

    @property
    def n_kept(self) -> int:
        """Number of kept weights."""
        return int(sum(len(m) for m in self.masks))

    @property
    def n_params(self) -> int:
        """Weights of the source a ticket may keep (present ones, for a sparse RandomNetwork)."""
        return int(self.source.n_params)

    @property
    def density(self) -> float:
        """Kept fraction of the source's weights, :func:`strong_lth.ticket.density`."""
        return density(self.n_kept, self.n_params)

    def kept_weights(self, layer: int) -> np.ndarray:
        """The random weights at the kept positions of layer ``layer`` (1-based), in mask order."""
        layer = check_int("layer", layer, low=1, high=self.depth)
        return self._values[layer - 1].copy()

    def boolean_masks(self) -> list[np.ndarray]:
        """The masks as dense boolean arrays, one per layer."""
        out = []
        for positions, shape in zip(self.masks, self.shapes):
            mask = np.zeros(shape, dtype=bool)
            mask[positions[:, 0], positions[:, 1]] = True
            out.append(mask)
        return out

    def overlap(self, other: MaskedNetwork) -> float:
        """Share of ``other``'s kept positions that this one keeps too (1 when it keeps all).

        Raises
        ------
        InvalidParameterError
            If ``other`` is not a MaskedNetwork of the same shapes.
        """
        if not isinstance(other, MaskedNetwork) or other.shapes != self.shapes:
            raise InvalidParameterError(
                f"`other` must be a MaskedNetwork with shapes {self.shapes}; got {other!r}."
            )
        pairs = zip(self.boolean_masks(), other.boolean_masks())
        common = sum(int(np.sum(a & b)) for a, b in pairs)
        return common / other.n_kept if other.n_kept else 1.0

    def forward(self, x) -> np.ndarray:
        """Evaluate the pruned network on one input or a batch.

        Parameters
        ----------
        x : array_like
            Shape ``(d,)`` or ``(batch, d)``; ``d`` excludes the constant input when
            ``input_bias``.

        Returns
        -------
        numpy.ndarray

        Raises
        ------
        InvalidParameterError
            If ``x`` is non-finite or has the wrong shape.

        Notes
        -----
        Sparse matrices of the kept weights, ReLU after every layer but the last: the function of
        :meth:`pruned_network`, up to the order of the sums.
        """
        h = check_inputs("x", x, self.shapes[0][1] - int(self.input_bias))
        single = h.ndim == 1
        h = np.atleast_2d(h)
        if self.input_bias:
            h = np.hstack([h, np.ones((len(h), 1))])
        for layer, (positions, shape) in enumerate(zip(self.masks, self.shapes), start=1):
            matrix = sparse.csr_array(
                (self._values[layer - 1], (positions[:, 0], positions[:, 1])), shape=shape
            )
            h = np.asarray((matrix @ h.T).T)
            if layer < self.depth:
                h = np.maximum(h, 0.0)
        return h[0] if single else h

    def pruned_network(self, *, max_bytes: int = 2**30) -> ReLUNetwork:
        """The pruned network, dense: the kept random weights at their positions, zeros elsewhere.

        With ``input_bias`` the first matrix's last column becomes the first layer's bias (the
        constant input), as :meth:`strong_lth.ticket.Ticket.pruned_network` does.

        Raises
        ------
        InvalidParameterError
            If the dense matrices would take more than ``max_bytes``.
        """
        need = 8 * sum(r * c for r, c in self.shapes)
        if need > max_bytes:
            raise InvalidParameterError(
                f"`max_bytes` must cover the dense pruned network ({need} bytes); got {max_bytes}."
            )
        weights = []
        for values, positions, shape in zip(self._values, self.masks, self.shapes):
            matrix = np.zeros(shape)
            matrix[positions[:, 0], positions[:, 1]] = values
            weights.append(matrix)
        return fold_input_bias(weights) if self.input_bias else ReLUNetwork(weights)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the masked network to an ``.npz`` (no pickle): a RandomNetwork source as its
        seed and shape, a ReLUNetwork source as its weights."""
        header = {
            "format": _FORMAT,
            "method": self.method,
            "input_bias": self.input_bias,
            "depth": self.depth,
            "losses": self.losses is not None,
        }
        arrays = {f"mask{j}": m for j, m in enumerate(self.masks)}
        if isinstance(self.source, RandomNetwork):
            g = self.source
            header["source"] = {
                "seed": g.seed,
                "widths": list(g.widths),
                "values_per_input": list(g.values_per_input),
                "distribution": {"name": g.distribution.name, **dataclasses.asdict(g.distribution)},
                "source_density": g.source_density,
            }
        else:
            header["source"] = None
            arrays |= {f"W{j}": w for j, w in enumerate(self.source.weights)}
        if self.losses is not None:
            arrays["losses"] = self.losses
        np.savez_compressed(path, header=np.array(json.dumps(header)), **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> MaskedNetwork:
        """Read a masked network written by :meth:`save`.

        Raises
        ------
        InvalidParameterError
            If the file is not a masked-network file.
        """
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header"])) if "header" in data else {}
            if header.get("format") != _FORMAT:
                raise InvalidParameterError(
                    f"`path` must hold format {_FORMAT!r}; got {header.get('format')!r}."
                )
            depth = header["depth"]
            masks = tuple(data[f"mask{j}"] for j in range(depth))
            losses = data["losses"] if header["losses"] else None
            spec = header["source"]
            if spec is None:
                source = ReLUNetwork(tuple(data[f"W{j}"] for j in range(depth)))
            else:
                params = dict(spec["distribution"])
                kind = type(get_distribution(params.pop("name")))
                source = RandomNetwork(
                    spec["seed"],
                    tuple(spec["widths"]),
                    tuple(spec["values_per_input"]),
                    kind(**params),
                    spec["source_density"],
                )
        return cls(source, masks, header["input_bias"], header["method"], losses)


def input_layout(target: ReLUNetwork, shapes: list[tuple[int, int]], name: str = "network") -> bool:
    """Whether a random network of these weight shapes reads the target's input plus the constant
    1 (``True``: ``d + 1`` inputs) or the input alone (``False``: ``d`` inputs).

    Raises
    ------
    InvalidParameterError
        If the network's input is neither ``d`` nor ``d + 1`` wide or its output differs.
    """
    d, d_out = target.widths[0], target.widths[-1]
    d_in, out = shapes[0][1], shapes[-1][0]
    if d_in not in (d, d + 1) or out != d_out:
        raise InvalidParameterError(
            f"`{name}` must take the target's {d} inputs (or {d + 1}, the last a constant 1) and "
            f"give its {d_out} outputs; got {d_in} inputs and {out} outputs."
        )
    return d_in == d + 1
