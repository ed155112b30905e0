"""A lottery ticket: binary masks over one fixed random network, stored as seed + mask indices.

Every non-zero weight of a ticket is the random weight at that position, unchanged: the ticket
holds only *which* positions are kept, and the weights are regenerated from the seed by the
counter-based generator of :mod:`strong_lth.random_network`. Anyone can rebuild and check it.
A ticket exports its pruned network as a plain model: an ``.npz`` that
:meth:`~strong_lth.networks.ReLUNetwork.from_npz` reads, or a PyTorch ``state_dict``. The two
parameter ratios every report quotes are defined here once: :func:`density` and
:func:`parameter_multiple`.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from ._validation import check_choice, check_inputs
from .distributions import Distribution, get_distribution
from .exceptions import InvalidParameterError
from .gadgets import fold_input_bias, gadget_network
from .networks import ReLUNetwork
from .random_network import RandomNetwork

__all__ = ["Ticket", "density", "parameter_multiple"]

_FORMAT = "strong_lth.ticket/1"


def density(kept: int, total: int) -> float:
    """Fraction of the random network's weights that a ticket keeps: ``kept / total``.

    Parameters
    ----------
    kept : int
        Kept weights (non-zero entries of the masks ``S_j``).
    total : int
        All weights of the random network ``G``, ``sum_j |M_j|`` (THEORY section 2).

    Returns
    -------
    float
        In ``[0, 1]``.

    Examples
    --------
    >>> density(25, 100)
    0.25
    """
    return kept / total


def parameter_multiple(count: int, target_params: int) -> float:
    """A parameter count as a multiple of the target's: ``count / target_params``.

    Parameters
    ----------
    count : int
        Parameters of the random network (its over-parameterisation) or of the ticket (kept).
    target_params : int
        Weights plus biases of the target as given (not bias-augmented):
        :attr:`ReLUNetwork.n_params`.

    Returns
    -------
    float

    Notes
    -----
    Pensia et al. report their MNIST experiment this way (THEORY section 8): the random network
    at 21x the target's 397,000 weights ("initial") and the kept weights at 9.39x ("remaining").

    Examples
    --------
    >>> parameter_multiple(8_337_000, 397_000)
    21.0
    """
    return count / target_params


@dataclass(frozen=True, eq=False)
class Ticket:
    """Masks over the random network of ``seed``, and what they approximate.

    Attributes
    ----------
    seed : int
        Seed of the random network (:class:`~strong_lth.random_network.RandomNetwork`).
    distribution : Distribution
        Its weight distribution.
    widths : tuple of int
        Widths of the (bias-augmented) target, ``(d_0, ..., d_l)``.
    values_per_input : tuple of int
        ``n_i`` per layer pair: the random network has hidden widths ``d_{i-1} n_i``.
    construction : str
        ``"pensia"`` or ``"malach"``.
    masks : tuple of ndarray
        One ``(k, 2)`` int64 array per random layer ``M_1 .. M_{2l}``: the kept ``(row, col)``.
    input_bias : bool
        The target had biases: its last input is the constant 1 of THEORY section 1, which the
        networks built here fold into a first-layer bias so that they take the original ``x``.
    report : Report or None
        What :func:`~strong_lth.approximate` measured, when the ticket comes from it.
    """

    seed: int
    distribution: Distribution
    widths: tuple[int, ...]
    values_per_input: tuple[int, ...]
    construction: str
    masks: tuple[np.ndarray, ...]
    input_bias: bool = False
    report: Any = field(default=None, repr=False)

    def __post_init__(self):
        check_choice("construction", self.construction, ("pensia", "malach"))
        network = self.random_network()  # validates seed, widths, n, distribution
        if len(self.masks) != network.depth:
            raise InvalidParameterError(
                f"`masks` must hold one array per random layer ({network.depth}); "
                f"got {len(self.masks)}."
            )
        for layer, (positions, shape) in enumerate(zip(self.masks, network.shapes), start=1):
            positions = np.asarray(positions, dtype=np.int64).reshape(-1, 2)
            if positions.size and (positions.min() < 0 or np.any(positions.max(0) >= shape)):
                raise InvalidParameterError(
                    f"`masks` layer {layer} must index inside its shape {shape}; got positions "
                    f"up to {tuple(positions.max(0))}."
                )
        object.__setattr__(self, "widths", network.widths)
        object.__setattr__(self, "values_per_input", network.values_per_input)
        object.__setattr__(self, "distribution", network.distribution)
        masks = tuple(np.asarray(m, dtype=np.int64).reshape(-1, 2) for m in self.masks)
        object.__setattr__(self, "masks", masks)

    def random_network(self) -> RandomNetwork:
        """The random network the masks prune (never materialised unless asked)."""
        return RandomNetwork(self.seed, self.widths, self.values_per_input, self.distribution)

    @property
    def depth(self) -> int:
        """Number of random layers, ``2l``."""
        return len(self.masks)

    @property
    def n_kept(self) -> int:
        """Number of kept weights."""
        return int(sum(len(m) for m in self.masks))

    @property
    def density(self) -> float:
        """Fraction of the random network's weights kept, :func:`density`."""
        return density(self.n_kept, self.random_network().n_params)

    def kept_weights(self, layer: int) -> np.ndarray:
        """The random weights at the kept positions of ``M_layer`` (1-based), in mask order."""
        positions = self.masks[layer - 1]
        return self.random_network().entries(layer, positions[:, 0], positions[:, 1])

    def gadgets(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(A_i, B_i)`` per layer pair, recomputed from the masks and the random weights.

        The pruned pair computes ``h -> A σ(h) - B σ(-h)`` (THEORY section 3): a kept unit with
        input weight ``u > 0`` adds ``v u`` to ``A``, one with ``u < 0`` adds ``v u`` to ``B``.
        """
        out = []
        for i, (d_in, d_out) in enumerate(zip(self.widths, self.widths[1:]), start=1):
            first, second = self.masks[2 * i - 2], self.masks[2 * i - 1]
            u = np.zeros(self.random_network().hidden_widths[i - 1])
            u[first[:, 0]] = self.kept_weights(2 * i - 1)
            products = self.kept_weights(2 * i) * u[second[:, 1]]
            rows, inputs = second[:, 0], second[:, 1] % d_in
            a = np.zeros((d_out, d_in))
            b = np.zeros((d_out, d_in))
            positive = u[second[:, 1]] > 0
            np.add.at(a, (rows[positive], inputs[positive]), products[positive])
            np.add.at(b, (rows[~positive], inputs[~positive]), products[~positive])
            out.append((a, b))
        return out

    def pruned_network(self, *, max_bytes: int = 2**30) -> ReLUNetwork:
        """The pruned random network ``G`` with ``M_j ⊙ S_j``, dense, depth ``2l``.

        Raises
        ------
        InvalidParameterError
            If the dense matrices would take more than ``max_bytes``.
        """
        network = self.random_network()
        if network.dense_bytes() > max_bytes:
            raise InvalidParameterError(
                f"`max_bytes` must cover the dense pruned network ({network.dense_bytes()} "
                f"bytes); got {max_bytes}. Use reduced_network() for the same function in "
                "compact form."
            )
        weights = []
        for layer, (positions, shape) in enumerate(zip(self.masks, network.shapes), start=1):
            matrix = np.zeros(shape)
            matrix[positions[:, 0], positions[:, 1]] = self.kept_weights(layer)
            weights.append(matrix)
        return self._fold_input_bias(weights)

    def forward(self, x) -> np.ndarray:
        """Evaluate the pruned network ``G`` with ``M_j ⊙ S_j`` on one input or a batch.

        Parameters
        ----------
        x : array_like
            Shape ``(d,)`` or ``(batch, d)``, ``d`` the input dimension of the original target.

        Returns
        -------
        numpy.ndarray
            Shape ``(d_l,)`` or ``(batch, d_l)``.

        Raises
        ------
        InvalidParameterError
            If ``x`` is non-finite or has the wrong shape.

        Notes
        -----
        The same network as :meth:`pruned_network`, layer by layer (the kept random weights at
        their positions, ReLU after every layer but the last), held as sparse matrices: no zero
        is materialised, so a ticket whose dense form would not fit in memory can still be
        evaluated. With ``input_bias`` the constant 1 is appended to ``x`` (THEORY section 1)
        instead of being folded into a bias. Equal to ``pruned_network().forward(x)`` up to the
        order of the sums.
        """
        d_in = self.widths[0] - int(self.input_bias)
        h = check_inputs("x", x, d_in)
        single = h.ndim == 1
        h = np.atleast_2d(h)
        if self.input_bias:
            h = np.hstack([h, np.ones((len(h), 1))])
        shapes = self.random_network().shapes
        for layer, (positions, shape) in enumerate(zip(self.masks, shapes), start=1):
            matrix = sparse.csr_array(
                (self.kept_weights(layer), (positions[:, 0], positions[:, 1])), shape=shape
            )
            h = np.asarray((matrix @ h.T).T)
            if layer < self.depth:
                h = np.maximum(h, 0.0)
        return h[0] if single else h

    def export_npz(self, path: str | os.PathLike[str], *, max_bytes: int = 2**30) -> None:
        """Write the pruned network as a plain network file (:meth:`ReLUNetwork.to_npz`).

        :meth:`ReLUNetwork.from_npz` reads it back, with no strong_lth ticket machinery: the
        dense weights of :meth:`pruned_network` (``max_bytes`` as there).
        """
        self.pruned_network(max_bytes=max_bytes).to_npz(path)

    def state_dict(self, *, max_bytes: int = 2**30, dtype=None) -> dict:
        """The pruned network as a PyTorch ``state_dict`` (needs torch).

        Parameters
        ----------
        max_bytes : int, default 2**30
            As in :meth:`pruned_network`.
        dtype : torch.dtype, optional
            Default ``torch.float64`` (every kept weight bit for bit).

        Returns
        -------
        dict
            Keys ``"0.weight"``, ``"2.weight"``, ... (and ``".bias"`` keys when the target had
            biases: the first layer's carries the folded constant input, later ones are zero).
            It loads into ``pruned_network().to_torch()`` or any equal ``torch.nn.Sequential(
            Linear(d_0, w_1), ReLU(), Linear(w_1, d_1), ..., Linear(w_l, d_l))``.

        Raises
        ------
        ImportError
            If PyTorch is not installed.
        """
        return self.pruned_network(max_bytes=max_bytes).to_torch(dtype=dtype).state_dict()

    def reduced_network(self) -> ReLUNetwork:
        """The same function as :meth:`pruned_network` in compact form (:func:`gadget_network`)."""
        return gadget_network(self.gadgets(), self.input_bias)

    def _fold_input_bias(self, weights: list[np.ndarray]) -> ReLUNetwork:
        return fold_input_bias(weights) if self.input_bias else ReLUNetwork(weights)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the ticket (seed, distribution, widths, n, masks, report) to an ``.npz``."""
        header = {
            "format": _FORMAT,
            "seed": self.seed,
            "distribution": {
                "name": self.distribution.name,
                **dataclasses.asdict(self.distribution),
            },
            "widths": list(self.widths),
            "values_per_input": list(self.values_per_input),
            "construction": self.construction,
            "input_bias": self.input_bias,
            "report": None if self.report is None else self.report.to_dict(),
        }
        arrays = {f"mask{j}": m for j, m in enumerate(self.masks)}
        np.savez_compressed(path, header=np.array(json.dumps(header)), **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Ticket:
        """Read a ticket written by :meth:`save`; the report comes back as a plain dict."""
        with np.load(path, allow_pickle=False) as data:
            if "header" not in data:
                raise InvalidParameterError(f"`path` must be a ticket file; {path} has no header.")
            header = json.loads(str(data["header"]))
            if header.get("format") != _FORMAT:
                raise InvalidParameterError(
                    f"`path` must hold format {_FORMAT!r}; got {header.get('format')!r}."
                )
            masks = tuple(data[f"mask{j}"] for j in range(2 * len(header["values_per_input"])))
        params = dict(header["distribution"])
        kind = type(get_distribution(params.pop("name")))
        return cls(
            seed=header["seed"],
            distribution=kind(**params),
            widths=tuple(header["widths"]),
            values_per_input=tuple(header["values_per_input"]),
            construction=header["construction"],
            masks=masks,
            input_bias=header["input_bias"],
            report=header["report"],
        )
