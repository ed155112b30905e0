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
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from ._validation import _fmt, check_choice, check_inputs, check_int
from .constructions import CONSTRUCTIONS
from .distributions import Distribution, get_distribution
from .exceptions import FileFormatError, InvalidParameterError
from .gadgets import fold_input_bias, gadget_network
from .networks import ReLUNetwork, read_npz, write_npz
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
        All weights of the random network ``G``, ``sum_j |M_j|`` (docs/theory.md, section 2).

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
    Pensia et al. report their MNIST experiment this way (docs/theory.md, section 8): the random
    network at 21x the target's 397,000 weights ("initial") and the kept weights at 9.39x
    ("remaining").

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
        A :data:`~strong_lth.constructions.CONSTRUCTIONS` name; its declaration gives the
        shapes of the random network (:class:`~strong_lth.constructions.Construction`).
    masks : tuple of ndarray
        One ``(k, 2)`` int64 array per random layer ``M_1, M_2, ...``: the kept
        ``(row, col)``, read-only.
    input_bias : bool
        The target had biases: its last input is the constant 1 of docs/theory.md, section 1, which
        the networks built here fold into a first-layer bias so that they take the original ``x``.
    report : Report, dict or None
        What :func:`~strong_lth.approximate` measured, when the ticket comes from it (a plain
        dict when loaded from a file).
    target_fingerprint : str or None
        :meth:`ReLUNetwork.fingerprint` of the target the ticket was made for (set by
        :func:`~strong_lth.approximate`; None for tickets saved before it was recorded).
        :func:`~strong_lth.certify` refuses a ticket certified against another target.
    source_density : float
        Probability that a weight of the random network is present (1.0: dense; Gadhikar,
        Mukherjee, Burkholz 2023, arXiv:2210.02412); a ticket keeps only present weights.
    subset_size : int or None
        The number of values every chosen subset has (``approximate(subset_size=...)``, Natale
        et al. 2024, arXiv:2410.14754), or None when subsets had any size.

    Raises
    ------
    InvalidParameterError
        If a field breaks an invariant of the gadget construction, named in the message (see
        Notes).

    Notes
    -----
    A ticket is checked when it is built (or loaded), so that everything computed from it, its
    certificate first, reads what the pruned network computes. The invariants are those
    :func:`~strong_lth.gadgets.gadget_masks` produces:

    - ``seed`` an integer in ``[0, 2**64 - 1]``; ``widths`` and ``values_per_input`` sequences
      of positive integers, one ``n_i`` per layer pair; ``construction`` a known name;
      ``input_bias`` a ``bool`` (with ``d_0 >= 2``: the constant is one of the inputs);
    - one mask per random layer, each an integer array of shape ``(k, 2)`` (a bool, float,
      complex, text or object array is refused, even with integral values) indexing inside its
      layer, with no position kept twice, and keeping only weights present in the (sparse)
      random network;
    - for a construction whose declaration says ``pair_gadget``: in the first layer
      ``M_{2i-1}`` of every pair, each unit keeps at most one input weight, and unit ``c``
      keeps the weight from its declared input ``c mod d_{i-1}`` (the gadget of [P] Pensia
      et al. 2020, arXiv:2006.07990, and [M] Malach et al. 2020, arXiv:2002.00585);
    - the second layer ``M_{2i}`` reads only units whose input weight is kept, and every unit
      whose input weight is kept is read by some output.

    A unit whose input weight ``u < 0`` reads an input that is never negative (a ReLU output,
    or the constant 1) never fires; tickets built before the constructions dropped such units
    keep them, and they stay valid: they change nothing the ticket computes.
    """

    seed: int
    distribution: Distribution
    widths: tuple[int, ...]
    values_per_input: tuple[int, ...]
    construction: str
    masks: tuple[np.ndarray, ...]
    input_bias: bool = False
    report: Any = field(default=None, repr=False)
    target_fingerprint: str | None = field(default=None, repr=False)
    source_density: float = 1.0
    subset_size: int | None = None

    def __post_init__(self):
        check_choice("construction", self.construction, tuple(CONSTRUCTIONS))
        if self.subset_size is not None:
            object.__setattr__(
                self, "subset_size", check_int("subset_size", self.subset_size, low=1)
            )
        fingerprint = self.target_fingerprint
        if fingerprint is not None and not (
            isinstance(fingerprint, str) and _HEX64.fullmatch(fingerprint)
        ):
            raise InvalidParameterError(
                "`target_fingerprint` must be None or 64 lowercase hex digits (a SHA-256); "
                f"got {_fmt(fingerprint)}."
            )
        if not isinstance(self.input_bias, bool | np.bool_):
            raise InvalidParameterError(
                f"`input_bias` must be True or False; got {_fmt(self.input_bias)}."
            )
        network = self.random_network()  # validates seed, widths, n, distribution
        if self.input_bias and network.widths[0] < 2:
            raise InvalidParameterError(
                "`widths` must start with at least 2 inputs when `input_bias` is True (the last "
                f"input is the constant 1); got {network.widths}."
            )
        if not (self.report is None or isinstance(self.report, dict) or _is_report(self.report)):
            raise InvalidParameterError(
                f"`report` must be a Report, a dict or None; got {type(self.report).__name__}."
            )
        object.__setattr__(self, "input_bias", bool(self.input_bias))
        object.__setattr__(self, "widths", network.widths)
        object.__setattr__(self, "values_per_input", network.values_per_input)
        object.__setattr__(self, "distribution", network.distribution)
        object.__setattr__(self, "source_density", network.source_density)
        pair_gadget = CONSTRUCTIONS[self.construction].pair_gadget
        object.__setattr__(self, "masks", _check_masks(self.masks, network, pair_gadget))

    def random_network(self) -> RandomNetwork:
        """The random network the masks prune (never materialised unless asked), in the layout
        its construction declares."""
        return RandomNetwork(
            self.seed,
            self.widths,
            self.values_per_input,
            self.distribution,
            self.source_density,
            layout=CONSTRUCTIONS[self.construction].shapes,
        )

    @property
    def depth(self) -> int:
        """Number of random layers (``2l`` for the pair constructions)."""
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

    def kept_layers(self) -> list[tuple[np.ndarray, sparse.csr_array, sparse.csc_array]]:
        """Every layer pair's kept weights, on its kept units only.

        Returns
        -------
        list of (units, first, second)
            Per pair i: ``units``, the sorted indices of the hidden units whose input weight is
            kept; ``first``, the rows ``units`` of ``M_{2i-1} ⊙ S_{2i-1}``, a CSR matrix of
            shape ``(len(units), d_{i-1})``; ``second``, the columns ``units`` of
            ``M_{2i} ⊙ S_{2i}``, a CSC matrix of shape ``(d_i, len(units))``.

        Notes
        -----
        The one source of the ticket's weights: :meth:`forward` multiplies these matrices,
        :meth:`pruned_network` places them in the dense matrices, and :meth:`gadgets` multiplies
        them into ``(A_i, B_i)``. The other hidden units output ``σ(0) = 0`` (no weight reaches
        them, and no bias: the folded constant is an input of the first layer), so dropping
        them changes nothing, and the memory taken is proportional to the kept weights, never
        to the declared widths ``d_{i-1} n_i`` or ``d_i``.
        """
        self._require_pairs("kept_layers")
        out = []
        for i, (d_in, d_out) in enumerate(zip(self.widths, self.widths[1:]), start=1):
            first, second = self.masks[2 * i - 2], self.masks[2 * i - 1]
            units = np.unique(first[:, 0])  # every unit the second layer reads (checked)
            m1 = sparse.csr_array(
                (self.kept_weights(2 * i - 1), (np.searchsorted(units, first[:, 0]), first[:, 1])),
                shape=(len(units), d_in),
            )
            m2 = sparse.csc_array(  # compressed over the kept units, never over d_out
                (self.kept_weights(2 * i), (second[:, 0], np.searchsorted(units, second[:, 1]))),
                shape=(d_out, len(units)),
            )
            out.append((units, m1, m2))
        return out

    def _require_pairs(self, what: str) -> None:
        """Refuse a pair-gadget view of a ticket whose construction is not made of pairs."""
        if not CONSTRUCTIONS[self.construction].pair_gadget:
            raise InvalidParameterError(
                f"`{what}` reads layer pairs of the [P] gadget; construction "
                f"{self.construction!r} has none (use kept_matrices, forward or pruned_network)."
            )

    def kept_matrices(self) -> list[sparse.csr_array]:
        """``M_j ⊙ S_j`` of every random layer, sparse, in the shapes of the random network
        (any construction: the pruned network is ``M_D σ(... σ(M_1 x̃))``)."""
        network = self.random_network()
        return [
            sparse.csr_array((self.kept_weights(j), (kept[:, 0], kept[:, 1])), shape=shape)
            for j, (kept, shape) in enumerate(zip(self.masks, network.shapes), start=1)
        ]

    def gadgets(self, *, max_bytes: int = 2**30) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(A_i, B_i)`` per layer pair, from the masks and the random weights alone.

        Parameters
        ----------
        max_bytes : int, default 2**30
            Refuse if the dense ``A_i`` and ``B_i`` (``16 d_{i-1} d_i`` bytes per pair) would
            take more.

        Returns
        -------
        list of (A, B)
            ``A_i = M_{2i} max(M_{2i-1}, 0)`` and ``B_i = M_{2i} min(M_{2i-1}, 0)`` of the
            pruned matrices (:meth:`kept_layers`), each of shape ``(d_i, d_{i-1})``.

        Notes
        -----
        A kept unit reads the input its first-layer weight comes from, as the mask says; no
        layout is assumed. With one input weight ``u`` per unit (checked when the ticket is
        built), ``σ(u h_j) = u σ(h_j)`` for ``u > 0`` and ``-u σ(-h_j)`` for ``u < 0``, so
        output ``r`` of the pair is ``sum v σ(u h_j) = (A σ(h) - B σ(-h))_r``: the unit adds
        ``v u`` to ``A[r, j]`` or to ``B[r, j]`` (docs/theory.md, section 3). This is exactly what
        :meth:`forward` computes, pair by pair.

        Raises
        ------
        InvalidParameterError
            If the matrices would take more than ``max_bytes``.
        """
        self._require_pairs("gadgets")
        widths = np.array(self.widths, dtype=object)  # Python ints: no overflow
        _check_bytes(16 * int(np.dot(widths[:-1], widths[1:])), max_bytes, "(A_i, B_i) matrices")
        return [
            ((second @ first.maximum(0.0)).toarray(), (second @ first.minimum(0.0)).toarray())
            for _, first, second in self.kept_layers()
        ]

    def pruned_network(self, *, max_bytes: int = 2**30) -> ReLUNetwork:
        """The pruned random network ``G`` with ``M_j ⊙ S_j``, dense, depth ``2l``.

        Raises
        ------
        InvalidParameterError
            If the dense matrices would take more than ``max_bytes``.
        """
        network = self.random_network()
        _check_bytes(
            network.dense_bytes(),
            max_bytes,
            "dense pruned network",
            " Use reduced_network() for the same function in compact form.",
        )
        if not CONSTRUCTIONS[self.construction].pair_gadget:
            weights = [m.toarray() for m in self.kept_matrices()]
            return fold_input_bias(weights) if self.input_bias else ReLUNetwork(weights)
        weights = []
        for (units, first, second), width in zip(self.kept_layers(), network.hidden_widths):
            m1 = np.zeros((width, first.shape[1]))
            m1[units] = first.toarray()
            m2 = np.zeros((second.shape[0], width))
            m2[:, units] = second.toarray()
            weights += [m1, m2]
        return fold_input_bias(weights) if self.input_bias else ReLUNetwork(weights)

    def forward(self, x, *, max_bytes: int = 2**30) -> np.ndarray:
        """Evaluate the pruned network ``G`` with ``M_j ⊙ S_j`` on one input or a batch.

        Parameters
        ----------
        x : array_like
            Shape ``(d,)`` or ``(batch, d)``, ``d`` the input dimension of the original target.
        max_bytes : int, default 2**30
            Refuse if one layer's activations, ``8 batch max(d_i, kept units)`` bytes, would
            take more.

        Returns
        -------
        numpy.ndarray
            Shape ``(d_l,)`` or ``(batch, d_l)``.

        Raises
        ------
        InvalidParameterError
            If ``x`` is non-finite or has the wrong shape, or the activations would take more
            than ``max_bytes``.

        Notes
        -----
        The same matrices as :meth:`pruned_network` (both come from :meth:`kept_layers`), ReLU
        after every layer but the last, restricted to the kept hidden units and held sparse: a
        ticket whose dense form would not fit in memory can still be evaluated, in memory
        proportional to its kept weights. With ``input_bias`` the constant 1 is appended to
        ``x`` (docs/theory.md, section 1) instead of being folded into a bias. Equal to
        ``pruned_network().forward(x)`` up to the order of the sums.
        """
        d_in = self.widths[0] - int(self.input_bias)
        h = check_inputs("x", x, d_in)
        single = h.ndim == 1
        h = np.atleast_2d(h)
        if not CONSTRUCTIONS[self.construction].pair_gadget:
            matrices = self.kept_matrices()
            _check_bytes(8 * len(h) * max(m.shape[0] for m in matrices), max_bytes, "activations")
            h = np.hstack([h, np.ones((len(h), 1))]) if self.input_bias else h
            for j, matrix in enumerate(matrices, start=1):
                h = np.asarray(matrix @ h.T).T
                h = np.maximum(h, 0.0) if j < len(matrices) else h
            return h[0] if single else h
        pairs = self.kept_layers()
        widest = max(*self.widths, *(len(units) for units, _, _ in pairs))
        _check_bytes(8 * len(h) * widest, max_bytes, "activations of this batch")
        if self.input_bias:
            h = np.hstack([h, np.ones((len(h), 1))])
        for i, (_, first, second) in enumerate(pairs, start=1):
            h = np.asarray(second @ np.maximum(first @ h.T, 0.0)).T
            if i < len(pairs):
                h = np.maximum(h, 0.0)
        return h[0] if single else h

    def export_npz(self, path: str | os.PathLike[str], *, max_bytes: int = 2**30) -> None:
        """Write the pruned network as a plain network file (:meth:`ReLUNetwork.to_npz`).

        :meth:`ReLUNetwork.from_npz` reads it back, with no strong_lth ticket machinery: the
        dense weights of :meth:`pruned_network` (``max_bytes`` as there). ``path`` must end in
        ``.npz`` and must not be a directory.
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
        """The same function as :meth:`pruned_network` in compact form (:func:`gadget_network`;
        :meth:`pruned_network` itself for a construction not made of pairs)."""
        if not CONSTRUCTIONS[self.construction].pair_gadget:
            return self.pruned_network()
        return gadget_network(self.gadgets(), self.input_bias)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the ticket (seed, distribution, widths, n, masks, report) to an ``.npz``.

        Parameters
        ----------
        path : str or os.PathLike
            Used exactly as given: it must end in ``.npz`` and must not be a directory.

        Raises
        ------
        InvalidParameterError
            If ``path`` is a directory or does not end in ``.npz``.

        Notes
        -----
        The same ticket always gives the same bytes: the zip entries carry a fixed date
        (:func:`~strong_lth.networks.write_npz`) and the report is stored without its
        wall-clock ``seconds``, which :meth:`load` therefore does not return.
        """
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
            "report": _saved_report(self.report),
            "source_density": self.source_density,
            "subset_size": self.subset_size,
        }
        if self.target_fingerprint is not None:
            header["target_fingerprint"] = self.target_fingerprint
        arrays = {"header": np.array(json.dumps(header))}
        arrays |= {f"mask{j}": m for j, m in enumerate(self.masks)}
        write_npz(path, arrays, compress=True)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, max_bytes: int = 2**30) -> Ticket:
        """Read a ticket written by :meth:`save`; the report comes back as a plain dict.

        Parameters
        ----------
        path : str or os.PathLike
            A ticket file.
        max_bytes : int, default 2**30
            Refuse a file whose arrays would take more memory than this
            (:func:`~strong_lth.networks.read_npz`).

        Returns
        -------
        Ticket
            Checked as every ticket is (see :class:`Ticket`).

        Raises
        ------
        FileFormatError
            If the file is missing, not a readable ``.npz``, has no header or one that is not
            the JSON object :meth:`save` writes (missing or unknown fields, fields of the wrong
            JSON type), or its mask arrays are not ``mask0 .. mask{2l-1}``.
        InvalidParameterError
            If a field breaks an invariant of :class:`Ticket`, or the file exceeds
            ``max_bytes``.
        """
        arrays = read_npz(path, max_bytes=max_bytes)
        text = os.fspath(path)
        header = _read_header(arrays.pop("header", None), text)
        construction = check_choice("construction", header["construction"], CONSTRUCTIONS)
        depth = CONSTRUCTIONS[construction].depth(len(header["values_per_input"]))
        expected = {f"mask{j}" for j in range(depth)}
        if set(arrays) != expected:
            raise FileFormatError(
                f"`path` must hold the arrays mask0..mask{depth - 1} beside its header (one per "
                f"random layer); got {sorted(arrays)} in {text!r}."
            )
        return cls(
            seed=header["seed"],
            distribution=_read_distribution(header["distribution"], text),
            widths=tuple(header["widths"]),
            values_per_input=tuple(header["values_per_input"]),
            construction=header["construction"],
            masks=tuple(arrays[f"mask{j}"] for j in range(depth)),
            input_bias=header["input_bias"],
            report=header["report"],
            target_fingerprint=header.get("target_fingerprint"),
            source_density=header.get("source_density", 1.0),
            subset_size=header.get("subset_size"),
        )


def _check_bytes(need: int, max_bytes, what: str, hint: str = "") -> None:
    """Refuse an allocation of ``need`` bytes above ``max_bytes``, stating both."""
    max_bytes = check_int("max_bytes", max_bytes, low=0)
    if need > max_bytes:
        raise InvalidParameterError(
            f"`max_bytes` must cover the {what} ({need} bytes); got {max_bytes}.{hint}"
        )


def _is_report(value) -> bool:
    """A :class:`~strong_lth.report.Report` (which imports this module, hence duck typing)."""
    return callable(getattr(value, "to_dict", None))


def _saved_report(report) -> dict | None:
    """The report as stored: a plain dict without the wall-clock ``seconds``."""
    if report is None:
        return None
    saved = dict(report) if isinstance(report, dict) else report.to_dict()
    saved.pop("seconds", None)
    return saved


_HEADER_TYPES = {
    "format": (str, "a string"),
    "seed": (int, "an integer"),
    "distribution": (dict, "an object"),
    "widths": (list, "a list of integers"),
    "values_per_input": (list, "a list of integers"),
    "construction": (str, "a string"),
    "input_bias": (bool, "true or false"),
    "report": ((dict, type(None)), "an object or null"),
}
"""Every field of a ticket file's header, with the JSON type :meth:`Ticket.save` writes."""

_OPTIONAL_HEADER = {
    "target_fingerprint": (str, "a string"),
    "source_density": ((int, float), "a number"),
    "subset_size": ((int, type(None)), "an integer or null"),
}
"""Header fields a file may lack (written since they were introduced; older files load)."""

_HEX64 = re.compile(r"[0-9a-f]{64}")


def _read_header(array, text: str) -> dict:
    """The header of a ticket file as a dict, after checking its JSON shape and field types
    (their values are checked by :class:`Ticket`)."""
    if array is None:
        raise FileFormatError(f"`path` must be a ticket file; {text} has no header.")
    if array.dtype.kind != "U" or array.ndim != 0:
        raise FileFormatError(
            f"`path` must be a ticket file whose header is a JSON string; {text!r} has a header "
            f"of dtype {array.dtype} and shape {array.shape}."
        )
    try:
        header = json.loads(str(array[()]))
    except (ValueError, RecursionError) as error:
        raise FileFormatError(
            f"`path` must be a ticket file whose header is valid JSON; {text!r} is not: {error}."
        ) from error
    if not isinstance(header, dict):
        raise FileFormatError(
            f"`path` must be a ticket file whose header is a JSON object; {text!r} holds "
            f"{type(header).__name__} {_fmt(header)}."
        )
    if header.get("format") != _FORMAT:
        raise FileFormatError(
            f"`path` must hold format {_FORMAT!r}; got {_fmt(header.get('format'))} in {text!r}."
        )
    missing = set(_HEADER_TYPES) - set(header)
    extra = set(header) - set(_HEADER_TYPES) - set(_OPTIONAL_HEADER)
    if missing or extra:
        raise FileFormatError(
            f"`path` header must have exactly the fields {sorted(_HEADER_TYPES)} (and optionally "
            f"{sorted(_OPTIONAL_HEADER)}); {text!r} lacks {sorted(missing)} and has unknown "
            f"{sorted(extra)}."
        )
    for key, (kind, what) in {**_HEADER_TYPES, **_OPTIONAL_HEADER}.items():
        if key not in header:
            continue
        value = header[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise FileFormatError(
                f"`path` header field {key!r} must be {what}; got {_fmt(value)} in {text!r}."
            )
    return header


def _read_distribution(spec: dict, text: str) -> Distribution:
    """The distribution of a header: ``{"name": ..., **parameters}``."""
    params = dict(spec)
    name = params.pop("name", None)
    kind = type(get_distribution(name, "distribution.name"))
    try:
        return kind(**params)
    except TypeError as error:
        if isinstance(error, InvalidParameterError):
            raise
        raise FileFormatError(
            f"`path` header field 'distribution' must hold the parameters of {name!r} "
            f"({', '.join(f.name for f in dataclasses.fields(kind))}); got {sorted(params)} "
            f"in {text!r}."
        ) from error


_BLOCK = 2**22
"""Kept positions checked at a time (the checks' temporaries stay small beside the masks)."""


def _check_masks(masks, network: RandomNetwork, pair_gadget: bool) -> tuple[np.ndarray, ...]:
    """The masks as read-only int64 ``(k, 2)`` arrays, after checking every invariant of
    :class:`Ticket` against ``network`` (those of the [P] gadget when ``pair_gadget``)."""
    if not isinstance(masks, list | tuple):
        raise InvalidParameterError(
            f"`masks` must be a sequence of one (k, 2) integer array per random layer "
            f"({network.depth}); got {_fmt(masks)}."
        )
    if len(masks) != network.depth:
        raise InvalidParameterError(
            f"`masks` must hold one array per random layer ({network.depth}); got {len(masks)}."
        )
    checked = tuple(
        _check_positions(layer, positions, shape)
        for layer, (positions, shape) in enumerate(zip(masks, network.shapes), start=1)
    )
    if network.source_density < 1.0:
        for layer, positions in enumerate(checked, start=1):
            absent = ~network.present(layer, positions[:, 0], positions[:, 1])
            if absent.any():
                row, col = positions[np.argmax(absent)]
                raise InvalidParameterError(
                    f"`masks` layer {layer} must keep only weights present in the sparse random "
                    f"network (source_density={network.source_density}); got {absent.sum()} "
                    f"absent positions, first ({row}, {col})."
                )
    if pair_gadget:
        for i, d_in in enumerate(network.widths[:-1], start=1):
            _check_pair(2 * i - 1, checked[2 * i - 2], checked[2 * i - 1], d_in)
    return checked


def _check_positions(layer: int, value, shape: tuple[int, int]) -> np.ndarray:
    """One mask as a read-only int64 array of distinct positions inside ``shape``."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise InvalidParameterError(
            f"`masks` layer {layer} must be an integer array of shape (k, 2); got {_fmt(value)}."
        ) from error
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise InvalidParameterError(
            f"`masks` layer {layer} must be an integer array of shape (k, 2); got shape "
            f"{arr.shape}."
        )
    if arr.size and arr.dtype.kind not in "iu":
        raise InvalidParameterError(
            f"`masks` layer {layer} must hold integer positions; got dtype {arr.dtype}."
        )
    if arr.size and (arr.min() < 0 or np.any(arr.max(axis=0) >= shape)):
        raise InvalidParameterError(
            f"`masks` layer {layer} must index inside its shape {shape}; got rows in "
            f"[{arr[:, 0].min()}, {arr[:, 0].max()}] and columns in [{arr[:, 1].min()}, "
            f"{arr[:, 1].max()}]."
        )
    positions = np.array(arr, dtype=np.int64, order="C").reshape(-1, 2)
    repeated = _first_repeat(positions, shape)
    if repeated is not None:
        row, col = repeated
        raise InvalidParameterError(
            f"`masks` layer {layer} must keep each position once; got ({row}, {col}) "
            f"{int(np.all(positions == (row, col), axis=1).sum())} times."
        )
    positions.flags.writeable = False
    return positions


def _first_repeat(positions: np.ndarray, shape: tuple[int, int]):
    """A position that occurs twice in ``positions`` (inside ``shape``), or None.

    Positions are compared as the keys ``row * cols + col`` when they fit in int64, in linear
    time when already sorted (as :func:`~strong_lth.gadgets.gadget_masks` writes them)."""
    if shape[0] * shape[1] >= 2**63:
        ordered = positions[np.lexsort((positions[:, 1], positions[:, 0]))]
        same = np.flatnonzero(np.all(ordered[1:] == ordered[:-1], axis=1))
        return None if same.size == 0 else tuple(ordered[same[0]])
    last = -1
    for lo in range(0, len(positions), _BLOCK):  # sorted (gadget_masks): checked in blocks
        keys = positions[lo : lo + _BLOCK, 0] * shape[1] + positions[lo : lo + _BLOCK, 1]
        if keys[0] <= last or not np.all(keys[1:] > keys[:-1]):
            break
        last = keys[-1]
    else:
        return None
    keys = np.sort(positions[:, 0] * shape[1] + positions[:, 1])
    same = np.flatnonzero(keys[1:] == keys[:-1])
    return None if same.size == 0 else divmod(int(keys[same[0]]), shape[1])


def _check_pair(layer: int, first: np.ndarray, second: np.ndarray, d_in: int) -> None:
    """The gadget invariants of the pair ``M_layer``, ``M_{layer+1}``."""
    units, counts = np.unique(first[:, 0], return_counts=True)
    if np.any(counts > 1):
        unit = units[np.argmax(counts)]
        raise InvalidParameterError(
            f"`masks` layer {layer} must keep at most one input weight per unit (the gadget of "
            f"[P]); got unit {unit} with {counts.max()}."
        )
    wrong = np.flatnonzero(first[:, 1] != first[:, 0] % d_in)
    if wrong.size:
        unit, column = first[wrong[0]]
        raise InvalidParameterError(
            f"`masks` layer {layer} must keep unit c's weight from its declared input c mod "
            f"{d_in}; got unit {unit} reading input {column} instead of {unit % d_in}."
        )
    used = np.zeros(len(units), dtype=bool)
    for lo in range(0, len(second), _BLOCK):
        read_units = second[lo : lo + _BLOCK, 1]
        at = np.minimum(np.searchsorted(units, read_units), max(len(units) - 1, 0))
        read = units[at] == read_units if len(units) else np.zeros(len(read_units), dtype=bool)
        if not np.all(read):
            unit = read_units[np.argmin(read)]
            raise InvalidParameterError(
                f"`masks` layer {layer + 1} must read only units whose input weight layer "
                f"{layer} keeps; got a weight from unit {unit}, which keeps none."
            )
        used[at] = True
    if not np.all(used):
        raise InvalidParameterError(
            f"`masks` layer {layer} must keep a unit's input weight only if layer {layer + 1} "
            f"reads the unit; got unit {units[np.argmin(used)]}, which no output reads."
        )
