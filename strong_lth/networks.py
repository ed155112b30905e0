"""Target ReLU networks: :class:`ReLUNetwork`, a frozen stack of weight matrices.

A network with widths ``d_0, ..., d_l`` computes ``F(x) = W_l σ(W_{l-1} ··· σ(W_1 x))``
(docs/theory.md, section 1), with an optional bias added after every matrix. This module holds the
data, the forward pass, the bias augmentation that makes every construction bias-free, npz
input/output, import from scikit-learn and PyTorch (optional dependencies, imported only when used),
export to PyTorch, and random sampling; the constructions build on it.
"""

from __future__ import annotations

import hashlib
import importlib
import math
import os
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import (
    _fmt,
    as_generator,
    check_array,
    check_bool,
    check_inputs,
    check_int,
    check_real,
)
from .exceptions import FileFormatError, InvalidParameterError, StrongLTHError

__all__ = ["NORM_RTOL", "ReLUNetwork", "read_npz", "write_npz"]

NORM_RTOL = 1e-9
"""Relative slack of the spectral-norm assumption ``‖W_i‖_2 <= 1``.

``numpy.linalg.norm(W, 2)`` is the largest singular value from an SVD, accurate to a small multiple
of ``d u ‖W‖`` (u = 2.2e-16, d the larger dimension), and a matrix rescaled to norm 1 by
:meth:`ReLUNetwork.scaled` lands a few ulps either side of 1. ``1e-9`` absorbs both for any
dimension below about 10^6 while flagging every violation large enough to matter to a bound."""


_INSTALL = {
    "sklearn": ("scikit-learn", "pip install 'strong_lth[sklearn]'"),
    "torch": (
        "PyTorch",
        "install its CPU build, pip install torch --index-url "
        "https://download.pytorch.org/whl/cpu (no strong_lth extra installs torch: a plain torch "
        "requirement pulls a CUDA build of several GB)",
    ),
}
"""Optional dependencies: the name to show and how to install it."""


def _optional_import(module: str, feature: str) -> Any:
    """Import ``module`` (scikit-learn or torch), or raise ImportError saying what to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        name, how = _INSTALL[module.split(".")[0]]
        raise ImportError(f"{feature} needs {name}, which is not installed: {how}.") from exc


def _check_int_tuple(name: str, value: Any, *, low: int, min_len: int = 1) -> tuple[int, ...]:
    """Return ``value`` as a tuple of at least ``min_len`` integers, each ``>= low``."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidParameterError(f"`{name}` must be a sequence of integers; got {_fmt(value)}.")
    items = tuple(value)
    if len(items) < min_len:
        raise InvalidParameterError(
            f"`{name}` must have at least {min_len} entries; got {len(items)}."
        )
    return tuple(check_int(f"{name}[{i}]", v, low=low) for i, v in enumerate(items))


def _check_list(name: str, value: Any, what: str) -> tuple[Any, ...]:
    """Return ``value`` as a tuple after checking it is a non-empty list or tuple."""
    if not isinstance(value, list | tuple) or not value:
        raise InvalidParameterError(
            f"`{name}` must be a non-empty sequence of {what}; got {_fmt(value)}."
        )
    return tuple(value)


_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
"""Date stamped on every entry :func:`write_npz` writes (the earliest a zip can hold), so that
the same arrays always give the same bytes; :func:`numpy.savez` stamps the current time."""

_NPZ_READ_ERRORS = (
    OSError,
    EOFError,
    ValueError,
    TypeError,
    SyntaxError,
    KeyError,
    RuntimeError,
    NotImplementedError,
    OverflowError,
    zipfile.BadZipFile,
    zlib.error,
)
"""What :mod:`zipfile`, :mod:`zlib` and :mod:`numpy.lib.format` raise on a damaged file
(truncated, corrupt, encrypted, an unknown compression, a malformed ``.npy`` header)."""

_NPY_HEADERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}


def _check_path(name: str, path: Any) -> str:
    """``path`` as a ``str`` after checking it is a string or path-like object."""
    if not isinstance(path, str | os.PathLike):
        raise InvalidParameterError(f"`{name}` must be a file path; got {_fmt(path)}.")
    text = os.fspath(path)
    return text if isinstance(text, str) else os.fsdecode(text)


def write_npz(path: Any, arrays: Mapping[str, np.ndarray], *, compress: bool = False) -> None:
    """Write ``arrays`` to an ``.npz`` file that :func:`numpy.load` reads, byte for byte
    reproducibly.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write, exactly as given: it must end in ``.npz`` (nothing is appended, unlike
        :func:`numpy.savez`) and must not be a directory. An existing file is replaced.
    arrays : mapping of str to ndarray
        Entry ``key`` is stored as ``key.npy``, in the mapping's order.
    compress : bool, default False
        Deflate the entries (as :func:`numpy.savez_compressed`).

    Raises
    ------
    InvalidParameterError
        If ``path`` is not a path, is a directory or does not end in ``.npz``.
    OSError
        If the file cannot be written (missing folder, permissions).

    Notes
    -----
    The layout is :func:`numpy.savez`'s, with two differences that make the bytes a function of
    the arrays alone: every entry carries the fixed date :data:`_ZIP_EPOCH` instead of the
    current time, and no object arrays are written (``allow_pickle=False``).
    """
    text = _check_path("path", path)
    if os.path.isdir(text):
        raise InvalidParameterError(f"`path` must name a file, not a directory; got {text!r}.")
    if not text.endswith(".npz"):
        raise InvalidParameterError(
            f"`path` must end in .npz (nothing is appended to it); got {text!r}."
        )
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(text, mode="w", compression=method) as archive:
        for key, array in arrays.items():
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_EPOCH)
            info.compress_type = method
            info.external_attr = 0o644 << 16
            with archive.open(info, mode="w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, np.asanyarray(array), allow_pickle=False)


def read_npz(path: Any, *, max_bytes: int = 2**30) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file, read without pickles, or a clear refusal.

    Parameters
    ----------
    path : str or os.PathLike
        An existing ``.npz`` file (a zip of ``.npy`` entries).
    max_bytes : int, default 2**30
        Refuse files whose arrays, as their ``.npy`` headers declare them, would take more
        memory than this (a compressed entry can declare far more than the file's size).

    Returns
    -------
    dict of str to ndarray
        Keyed by entry name without ``.npy``, in the archive's order.

    Raises
    ------
    FileFormatError
        If ``path`` is missing, a directory, not a zip, truncated or corrupt, holds an entry
        that is not a ``.npy`` array, two entries of one name, or an object (pickled) array.
    InvalidParameterError
        If ``path`` is not a path, or the arrays would take more than ``max_bytes``.
    """
    text = _check_path("path", path)
    max_bytes = check_int("max_bytes", max_bytes, low=0)
    if os.path.isdir(text):
        raise FileFormatError(f"`path` must be an .npz file; {text!r} is a directory.")
    if not os.path.isfile(text):
        raise FileFormatError(f"`path` must be an existing file; got {text!r}.")
    try:
        with zipfile.ZipFile(text) as archive:
            infos = archive.infolist()
            need = 0
            for info in infos:
                with archive.open(info) as entry:
                    need += _npy_bytes(text, info.filename, entry)
            if need > max_bytes:
                raise InvalidParameterError(
                    f"`max_bytes` must be at least {need} to read {text!r} (the sizes its arrays "
                    f"declare); got {max_bytes}."
                )
            arrays = {}
            for info in infos:
                with archive.open(info) as entry:
                    arrays[info.filename[: -len(".npy")]] = np.lib.format.read_array(
                        entry, allow_pickle=False
                    )
    except StrongLTHError:
        raise
    except _NPZ_READ_ERRORS as error:
        raise FileFormatError(
            f"`path` must be a readable .npz file; {text!r} is not ({type(error).__name__}: "
            f"{error})."
        ) from error
    if len(arrays) != len(infos):
        raise FileFormatError(f"`path` must hold each array once; {text!r} repeats an entry.")
    return arrays


def _npy_bytes(text: str, filename: str, entry) -> int:
    """Bytes the ``.npy`` entry ``filename`` declares, after checking it is a plain array."""
    if not filename.endswith(".npy"):
        raise FileFormatError(
            f"`path` must hold only .npy arrays; {text!r} has an entry {filename!r}."
        )
    version = np.lib.format.read_magic(entry)
    if version not in _NPY_HEADERS:
        raise FileFormatError(
            f"`path` must hold .npy arrays of format 1.0 or 2.0; {text!r} entry {filename!r} "
            f"has format {version}."
        )
    shape, _fortran, dtype = _NPY_HEADERS[version](entry)
    if dtype.hasobject:
        raise FileFormatError(
            f"`path` must hold arrays without Python objects; {text!r} entry {filename!r} has "
            f"dtype {dtype}."
        )
    return math.prod(shape) * dtype.itemsize


def _read_only(arr: np.ndarray) -> np.ndarray:
    """Return a read-only C-contiguous float64 copy of ``arr``."""
    copy = np.array(arr, dtype=np.float64, order="C", copy=True)
    copy.flags.writeable = False
    return copy


@dataclass(frozen=True, eq=False, repr=False)
class ReLUNetwork:
    """A fully connected ReLU network ``F(x) = W_l σ(W_{l-1} ··· σ(W_1 x + b_1) ···) + b_l``.

    Parameters
    ----------
    weights : sequence of array_like
        ``W_1, ..., W_l``; ``W_i`` has shape ``(d_i, d_{i-1})``, finite, every dimension >= 1.
        Lists are accepted.
    biases : sequence of array_like or None, default None
        ``b_1, ..., b_l``; ``b_i`` has shape ``(d_i,)``. ``None`` means a bias-free network.

    Raises
    ------
    InvalidParameterError
        If ``weights`` is empty or not a list/tuple, a matrix is not 2-D, empty or non-finite,
        consecutive shapes do not chain (``W_i.shape[1] != W_{i-1}.shape[0]``), or a bias has the
        wrong shape.

    Notes
    -----
    The arrays are stored as read-only C-contiguous float64 copies, so a network never changes
    after construction. ReLU ``σ(t) = max(t, 0)`` follows every layer but the last (docs/theory.md,
    section 1). The theorems of [M] (Malach et al., ICML 2020) and [P] (Pensia et al., NeurIPS
    2020) assume no biases, ``‖W_i‖_2 <= 1`` and inputs in the unit ball; see
    :meth:`assumption_violations` and :meth:`augmented`.

    Examples
    --------
    >>> net = ReLUNetwork([[[1.0, -1.0], [0.5, 0.5]], [[1.0, 2.0]]])
    >>> net
    ReLUNetwork(widths=(2, 2, 1), bias=False)
    >>> net.forward([1.0, 3.0])
    array([4.])
    """

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...] | None = None

    def __post_init__(self) -> None:
        raw = _check_list("weights", self.weights, "2-D arrays")
        weights: list[np.ndarray] = []
        for i, w in enumerate(raw):
            cols = None if i == 0 else weights[-1].shape[0]
            arr = check_array(f"weights[{i}]", w, ndim=2, shape=(None, cols))
            if arr.size == 0:
                raise InvalidParameterError(
                    f"`weights[{i}]` must have positive dimensions; got shape {arr.shape}."
                )
            weights.append(arr)
        object.__setattr__(self, "weights", tuple(_read_only(w) for w in weights))
        if self.biases is None:
            return
        raw_b = _check_list("biases", self.biases, f"{len(weights)} 1-D arrays or None")
        if len(raw_b) != len(weights):
            raise InvalidParameterError(
                f"`biases` must have one entry per layer ({len(weights)}); got {len(raw_b)}."
            )
        biases = tuple(
            _read_only(check_array(f"biases[{i}]", b, shape=(w.shape[0],)))
            for i, (w, b) in enumerate(zip(weights, raw_b, strict=True))
        )
        object.__setattr__(self, "biases", biases)

    def __repr__(self) -> str:
        return f"ReLUNetwork(widths={self.widths}, bias={self.has_bias})"

    @property
    def widths(self) -> tuple[int, ...]:
        """Layer widths ``(d_0, d_1, ..., d_l)``; ``d_0`` is the input dimension."""
        return (self.weights[0].shape[1], *(w.shape[0] for w in self.weights))

    @property
    def depth(self) -> int:
        """Number of weight matrices ``l``."""
        return len(self.weights)

    @property
    def has_bias(self) -> bool:
        """Whether the network has biases."""
        return self.biases is not None

    @property
    def n_params(self) -> int:
        """Number of weights plus number of biases."""
        return sum(a.size for a in self._arrays())

    @property
    def n_nonzero(self) -> int:
        """Number of non-zero weights and biases."""
        return sum(int(np.count_nonzero(a)) for a in self._arrays())

    def _arrays(self) -> tuple[np.ndarray, ...]:
        return self.weights + (self.biases or ())

    def fingerprint(self) -> str:
        """SHA-256 of the network's widths, weights and biases (float64 bytes), in hex.

        Two networks have the same fingerprint exactly when they have the same widths, the same
        bias flag and bit-identical parameters. A ticket records its target's
        (:attr:`strong_lth.Ticket.target_fingerprint`), so that :func:`strong_lth.certify`
        can name a ticket certified against another target (another seed, file or bias flag).

        Examples
        --------
        >>> net = ReLUNetwork.random((3, 4, 2), rng=0)
        >>> net.fingerprint() == ReLUNetwork.random((3, 4, 2), rng=0).fingerprint()
        True
        >>> net.fingerprint() == ReLUNetwork.random((3, 4, 2), rng=1).fingerprint()
        False
        """
        digest = hashlib.sha256()
        digest.update(repr((self.widths, self.has_bias)).encode())
        for array in self._arrays():
            digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
        return digest.hexdigest()

    def forward(self, x: Any) -> np.ndarray:
        """Evaluate the network on one input or a batch.

        Parameters
        ----------
        x : array_like
            Shape ``(d_0,)`` or ``(batch, d_0)``, finite.

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
        ``h_0 = x``, ``h_i = σ(W_i h_{i-1} + b_i)`` for ``i < l`` and ``F(x) = W_l h_{l-1} + b_l``
        (docs/theory.md, section 1).

        Examples
        --------
        >>> net = ReLUNetwork([[[1.0], [-1.0]], [[1.0, 1.0]]])  # |x| = σ(x) + σ(-x)
        >>> net.forward([[-2.0], [3.0]])
        array([[2.],
               [3.]])
        """
        d0 = self.widths[0]
        h = check_inputs("x", x, d0)
        biases = self.biases or (None,) * self.depth
        for i, (w, b) in enumerate(zip(self.weights, biases, strict=True)):
            h = h @ w.T
            if b is not None:
                h = h + b
            if i < self.depth - 1:
                h = np.maximum(h, 0.0)
        return h

    def augmented(self) -> ReLUNetwork:
        """Return an equivalent bias-free network on ``d_0 + 1`` inputs.

        Returns
        -------
        ReLUNetwork
            ``self`` if the network has no biases; otherwise a bias-free network ``F'`` with
            ``F'([x, 1]) = F(x)`` (the constant input is appended last).

        Notes
        -----
        docs/theory.md, section 1: hidden layer ``i < l`` becomes ``[[W_i, b_i], [0, 1]]`` (shape
        ``(d_i + 1, d_{i-1} + 1)``), which carries the constant 1 forward in an extra unit since
        ``σ(1) = 1``; the last layer becomes ``[W_l, b_l]``. Every construction then stays
        bias-free, at the cost of one extra input and one extra unit per hidden layer.

        Examples
        --------
        >>> net = ReLUNetwork([[[1.0, 2.0]], [[3.0]]], biases=[[-1.0], [0.5]])
        >>> aug = net.augmented()
        >>> aug.widths, aug.has_bias
        ((3, 2, 1), False)
        >>> aug.forward([1.0, 1.0, 1.0]), net.forward([1.0, 1.0])
        (array([6.5]), array([6.5]))
        """
        if self.biases is None:
            return self
        layers = []
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            layer = np.column_stack([w, b])
            if i < self.depth - 1:
                carry = np.zeros((1, layer.shape[1]))
                carry[0, -1] = 1.0
                layer = np.vstack([layer, carry])
            layers.append(layer)
        return ReLUNetwork(tuple(layers))

    def spectral_norms(self) -> np.ndarray:
        """Return ``‖W_i‖_2`` (largest singular value) of every weight matrix, shape ``(l,)``.

        Examples
        --------
        >>> ReLUNetwork([np.diag([3.0, -4.0])]).spectral_norms()
        array([4.])
        """
        return np.array([np.linalg.norm(w, 2) for w in self.weights])

    def assumption_violations(self, radius: float = 1.0) -> list[str]:
        """List the assumptions of the theorems that this network breaks.

        Parameters
        ----------
        radius : float, default 1.0
            Radius ``r >= 0`` of the input ball the network will be approximated on.

        Returns
        -------
        list of str
            One human-readable reason per violation, empty if the theorems apply as stated.

        Raises
        ------
        InvalidParameterError
            If ``radius`` is negative or not finite.

        Notes
        -----
        [M] Theorem 2.1 and [P] Theorem 1 assume no biases, ``‖W_i‖_2 <= 1`` for every layer and
        inputs with ``‖x‖_2 <= 1`` (docs/theory.md, section 1). The norm check allows a relative
        slack of :data:`NORM_RTOL` for rounding.

        Examples
        --------
        >>> net = ReLUNetwork([[[2.0]]], biases=[[0.0]])
        >>> for reason in net.assumption_violations(radius=3.0):
        ...     print(reason)
        the network has biases (augmented() removes them)
        layer 1 has spectral norm 2 > 1
        the input radius 3 is > 1
        """
        radius = check_real("radius", radius, low=0.0)
        reasons = ["the network has biases (augmented() removes them)"] if self.has_bias else []
        reasons += [
            f"layer {i} has spectral norm {norm:.10g} > 1"
            for i, norm in enumerate(self.spectral_norms(), start=1)
            if norm > 1.0 + NORM_RTOL
        ]
        if radius > 1.0:
            reasons.append(f"the input radius {radius:g} is > 1")
        return reasons

    def scaled(self, spectral_norm: float = 1.0) -> ReLUNetwork:
        """Return a copy whose every weight matrix has the given spectral norm.

        Parameters
        ----------
        spectral_norm : float, default 1.0
            Target ``‖W_i‖_2 > 0`` for every layer.

        Returns
        -------
        ReLUNetwork
            Weights ``W_i · spectral_norm / ‖W_i‖_2``; biases unchanged.

        Raises
        ------
        InvalidParameterError
            If ``spectral_norm <= 0`` or a weight matrix is all zeros (it cannot be rescaled).

        Examples
        --------
        >>> ReLUNetwork([[[3.0, 4.0]]]).scaled(0.5).weights[0]
        array([[0.3, 0.4]])
        """
        spectral_norm = check_real("spectral_norm", spectral_norm, low=0.0, low_open=True)
        norms = self.spectral_norms()
        zero = np.flatnonzero(norms == 0.0)
        if zero.size:
            raise InvalidParameterError(
                f"`weights[{zero[0]}]` must be non-zero to be rescaled; got an all-zero matrix."
            )
        weights = tuple(w * (spectral_norm / n) for w, n in zip(self.weights, norms, strict=True))
        return ReLUNetwork(weights, self.biases)

    def balanced(self, max_weight: float = 0.5) -> ReLUNetwork:
        """Return ``s F`` for a constant ``s > 0``, with every layer's largest entry ``max_weight``.

        Parameters
        ----------
        max_weight : float, default 0.5
            Largest absolute weight or bias of every layer after rescaling, > 0.

        Returns
        -------
        ReLUNetwork
            Layer by layer, ``(W_i, b_i)`` is multiplied by ``c_i = max_weight / max|[W_i, b_i]|``
            (``W_i`` as already divided by ``c_{i-1}``), and ``W_{i+1}`` divided by ``c_i``.
            Every hidden layer's change is undone by the next layer, since
            ``σ(c h) = c σ(h)`` for ``c > 0``; only the last factor ``s = c_l`` remains, so the
            result computes ``s F(x)``: the same predicted labels (argmax, or sign), and errors
            measured in units ``s`` times the original logits'.

        Raises
        ------
        InvalidParameterError
            If ``max_weight <= 0`` or a layer has only zero weights and biases.

        Notes
        -----
        Pensia et al.'s construction approximates every weight by a sum of products ``u v`` of
        Uniform[-1, 1] weights (``|u v| <= 1``, mean 1/4, docs/theory.md, section 3), and [P]
        Theorem 1 assumes weights in [-1, 1]. A trained network may hold weights of 2 to 5, which
        only a sum of many same-sign products reaches: the width then grows to reach the *largest*
        weight rather than to reach a precision. Balancing moves that scale where it costs
        nothing, into the positive homogeneity of ReLU and the output scale; a classifier keeps
        every prediction (use :func:`strong_lth.datasets.margin_eps` on the balanced network).
        The default 1/2 trades reach against precision (a smaller scale asks for a finer
        absolute error): on the digits targets of ``benchmarks/bench_real_targets.py`` it gave
        narrower tickets than 1 or 2 (a 784-500-10 target trained with largest entries near 1/2
        needed 64/53 values per input as trained, 73/63 balanced to 1).

        Examples
        --------
        >>> net = ReLUNetwork([[[4.0, -2.0]], [[0.5]]], biases=[[1.0], [0.25]])
        >>> bal = net.balanced(1.0)
        >>> bal.weights[0], bal.biases[0], bal.weights[1], bal.biases[1]
        (array([[ 1. , -0.5]]), array([0.25]), array([[1.]]), array([0.125]))
        >>> x = np.array([[1.0, 0.5], [0.2, 0.9]])
        >>> bal.forward(x) / net.forward(x)  # s = 1/2
        array([[0.5],
               [0.5]])
        """
        max_weight = check_real("max_weight", max_weight, low=0.0, low_open=True)
        weights, biases = list(self.weights), list(self.biases or ())
        for i in range(self.depth):
            largest = float(np.abs(weights[i]).max())
            if biases:
                largest = max(largest, float(np.abs(biases[i]).max()))
            if largest == 0.0:
                raise InvalidParameterError(
                    f"`weights[{i}]` must be non-zero to be balanced; got an all-zero layer."
                )
            factor = max_weight / largest
            weights[i] = weights[i] * factor
            if biases:
                biases[i] = biases[i] * factor
            if i + 1 < self.depth:
                weights[i + 1] = weights[i + 1] / factor
        return ReLUNetwork(tuple(weights), tuple(biases) if biases else None)

    def to_npz(self, path: str | os.PathLike[str]) -> None:
        """Save the network as an ``.npz`` (keys ``W0, W1, ...`` and ``b0, b1, ...``).

        Parameters
        ----------
        path : str or os.PathLike
            Destination, used exactly as given: it must end in ``.npz`` and must not be a
            directory (:func:`write_npz`).

        Raises
        ------
        InvalidParameterError
            If ``path`` is a directory or does not end in ``.npz``.

        Notes
        -----
        ``W{i}`` holds ``W_{i+1}`` (0-based keys); bias keys ``b{i}`` are written only when the
        network has biases. :meth:`from_npz` reads the file back bit for bit, and the same
        network always gives the same bytes.
        """
        arrays = {f"W{i}": w for i, w in enumerate(self.weights)}
        arrays |= {f"b{i}": b for i, b in enumerate(self.biases or ())}
        write_npz(path, arrays)

    @classmethod
    def from_npz(cls, path: str | os.PathLike[str], *, max_bytes: int = 2**30) -> ReLUNetwork:
        """Load a network written by :meth:`to_npz` (never unpickles).

        Parameters
        ----------
        path : str or os.PathLike
            An ``.npz`` file with keys ``W0..W{l-1}`` and optionally ``b0..b{l-1}``, nothing else.
        max_bytes : int, default 2**30
            Refuse a file whose arrays would take more memory than this (:func:`read_npz`).

        Returns
        -------
        ReLUNetwork

        Raises
        ------
        FileFormatError
            If the file is missing, not a readable ``.npz``, its keys are missing or unexpected,
            or an array is not real (complex, text, bool).
        InvalidParameterError
            If the arrays do not form a valid network, or exceed ``max_bytes``.

        Examples
        --------
        >>> import os, tempfile
        >>> net = ReLUNetwork.random((3, 4, 2), rng=0, bias=True)
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     net.to_npz(os.path.join(tmp, "net.npz"))
        ...     back = ReLUNetwork.from_npz(os.path.join(tmp, "net.npz"))
        >>> all(np.array_equal(a, b) for a, b in zip(net.weights + net.biases,
        ...                                          back.weights + back.biases))
        True
        """
        arrays = read_npz(path, max_bytes=max_bytes)
        keys = set(arrays)
        depth = sum(key.startswith("W") for key in keys)
        weight_keys = [f"W{i}" for i in range(depth)]
        has_bias = any(key.startswith("b") for key in keys)
        bias_keys = [f"b{i}" for i in range(depth)] if has_bias else []
        if depth == 0 or keys != set(weight_keys + bias_keys):
            raise FileFormatError(
                "`path` must name an .npz file with keys W0..W{l-1} and optionally "
                f"b0..b{{l-1}}; got keys {sorted(keys)} in {os.fspath(path)!r}."
            )
        for key in weight_keys + bias_keys:
            if arrays[key].dtype.kind not in "iuf":
                raise FileFormatError(
                    f"`path` array {key} must hold real numbers (float or integer); got dtype "
                    f"{arrays[key].dtype} in {os.fspath(path)!r}."
                )
        weights = tuple(arrays[k] for k in weight_keys)
        biases = tuple(arrays[k] for k in bias_keys) or None
        return cls(weights, biases)

    @classmethod
    def from_sklearn(cls, model: Any) -> ReLUNetwork:
        """Import a fitted scikit-learn ``MLPClassifier`` or ``MLPRegressor`` with ReLU units.

        Parameters
        ----------
        model : sklearn.neural_network.MLPClassifier or MLPRegressor
            Fitted (``coefs_`` and ``intercepts_`` set), with ``activation="relu"``.

        Returns
        -------
        ReLUNetwork
            Weights ``coefs_[i].T`` and biases ``intercepts_[i]``: the model's output *before*
            its output activation ``model.out_activation_``. For a regressor (identity output)
            that is ``model.predict``; for a classifier these are the logits, whose argmax (or
            sign, for one output) is ``model.predict`` and whose softmax (or logistic) is
            ``model.predict_proba``.

        Raises
        ------
        ImportError
            If scikit-learn is not installed (``pip install 'strong_lth[sklearn]'``).
        InvalidParameterError
            If ``model`` is not an MLPClassifier or MLPRegressor, is not fitted, or its hidden
            activation is not ReLU.

        Notes
        -----
        scikit-learn computes ``h_i = σ(h_{i-1} coefs_[i-1] + intercepts_[i-1])``: the same
        network as docs/theory.md, section 1 with ``W_i = coefs_[i-1]^T`` and
        ``b_i = intercepts_[i-1]``, so the import is exact (float64 weights are copied, not
        rounded).

        Examples
        --------
        >>> import pytest; neural = pytest.importorskip("sklearn.neural_network")
        >>> MLPRegressor = neural.MLPRegressor
        >>> x = np.random.default_rng(0).uniform(-1, 1, (50, 3))
        >>> model = MLPRegressor(hidden_layer_sizes=(8,), max_iter=2000, random_state=0)
        >>> model = model.fit(x, x.sum(axis=1))
        >>> net = ReLUNetwork.from_sklearn(model)
        >>> net
        ReLUNetwork(widths=(3, 8, 1), bias=True)
        >>> bool(np.allclose(net.forward(x)[:, 0], model.predict(x), rtol=0, atol=1e-12))
        True
        """
        neural = _optional_import("sklearn.neural_network", "ReLUNetwork.from_sklearn")
        kinds = (neural.MLPClassifier, neural.MLPRegressor)
        if not isinstance(model, kinds):
            raise InvalidParameterError(
                "`model` must be a scikit-learn MLPClassifier or MLPRegressor; got "
                f"{type(model).__name__}."
            )
        if not hasattr(model, "coefs_"):
            raise InvalidParameterError(
                f"`model` must be fitted (call fit first); got an unfitted {type(model).__name__}."
            )
        if model.activation != "relu":
            raise InvalidParameterError(
                f"`model.activation` must be 'relu' (strong_lth approximates ReLU networks); got "
                f"{model.activation!r}."
            )
        return cls(tuple(w.T for w in model.coefs_), tuple(model.intercepts_))

    @classmethod
    def from_torch(cls, module: Any) -> ReLUNetwork:
        """Import a PyTorch ``nn.Sequential`` of ``Linear`` layers separated by ``ReLU``.

        Parameters
        ----------
        module : torch.nn.Sequential
            ``Linear, ReLU, Linear, ..., ReLU, Linear`` (at least one Linear, nothing else).

        Returns
        -------
        ReLUNetwork
            ``W_i = Linear.weight`` and ``b_i = Linear.bias`` as float64; a bias-free network
            when no Linear has a bias, zeros for the missing ones when only some do.

        Raises
        ------
        ImportError
            If PyTorch is not installed.
        InvalidParameterError
            If ``module`` is not an ``nn.Sequential`` or its layers do not alternate ``Linear``
            and ``ReLU``, starting and ending with ``Linear``.

        Notes
        -----
        ``nn.Linear`` computes ``h W^T + b`` with ``weight`` of shape ``(out, in)``: exactly
        ``W_i`` of docs/theory.md, section 1. Parameters are converted to float64; a float64 module
        is imported bit for bit, a float32 one exactly (every float32 is a float64).

        Examples
        --------
        >>> import pytest; torch = pytest.importorskip("torch")
        >>> module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(),
        ...                              torch.nn.Linear(4, 2, bias=False)).double()
        >>> ReLUNetwork.from_torch(module)
        ReLUNetwork(widths=(3, 4, 2), bias=True)
        """
        torch = _optional_import("torch", "ReLUNetwork.from_torch")
        if not isinstance(module, torch.nn.Sequential):
            raise InvalidParameterError(
                "`module` must be a torch.nn.Sequential of Linear layers separated by ReLU; got "
                f"{type(module).__name__}."
            )
        layers = list(module)
        if not layers:
            raise InvalidParameterError("`module` must hold at least one Linear layer; got none.")
        for k, layer in enumerate(layers):
            expected = torch.nn.ReLU if k % 2 else torch.nn.Linear
            if not isinstance(layer, expected):
                raise InvalidParameterError(
                    f"`module[{k}]` must be a {expected.__name__} (Linear and ReLU alternate, "
                    f"starting with Linear); got {type(layer).__name__}."
                )
        if len(layers) % 2 == 0:
            raise InvalidParameterError(
                f"`module` must end with a Linear layer; got a ReLU at position {len(layers) - 1}."
            )
        linears = layers[::2]
        weights = tuple(lin.weight.detach().cpu().double().numpy() for lin in linears)
        if all(lin.bias is None for lin in linears):
            return cls(weights)
        biases = tuple(
            np.zeros(w.shape[0]) if lin.bias is None else lin.bias.detach().cpu().double().numpy()
            for lin, w in zip(linears, weights, strict=True)
        )
        return cls(weights, biases)

    def to_torch(self, *, dtype: Any = None) -> Any:
        """The same network as a PyTorch ``nn.Sequential`` of ``Linear`` and ``ReLU`` layers.

        Parameters
        ----------
        dtype : torch.dtype, optional
            Parameter type; default ``torch.float64``, which keeps every weight bit for bit.

        Returns
        -------
        torch.nn.Sequential
            ``Linear(d_0, d_1), ReLU(), ..., Linear(d_{l-1}, d_l)`` with ``bias=has_bias``; its
            ``state_dict()`` has keys ``"0.weight"``, ``"0.bias"``, ``"2.weight"``, ...

        Raises
        ------
        ImportError
            If PyTorch is not installed.

        Examples
        --------
        >>> import pytest; torch = pytest.importorskip("torch")
        >>> net = ReLUNetwork.random((3, 4, 2), rng=0)
        >>> module = net.to_torch()
        >>> x = np.random.default_rng(1).standard_normal((5, 3))
        >>> bool(np.allclose(module(torch.from_numpy(x)).detach().numpy(), net.forward(x),
        ...                  rtol=0, atol=1e-14))
        True
        """
        torch = _optional_import("torch", "ReLUNetwork.to_torch")
        dtype = torch.float64 if dtype is None else dtype
        layers = []
        biases = self.biases or (None,) * self.depth
        for i, (w, b) in enumerate(zip(self.weights, biases, strict=True)):
            linear = torch.nn.Linear(w.shape[1], w.shape[0], bias=b is not None, dtype=dtype)
            with torch.no_grad():
                linear.weight.copy_(torch.tensor(w))
                if b is not None:
                    linear.bias.copy_(torch.tensor(b))
            layers += [linear, torch.nn.ReLU()] if i < self.depth - 1 else [linear]
        return torch.nn.Sequential(*layers)

    @classmethod
    def random(
        cls,
        widths: Iterable[int],
        *,
        rng: Any,
        spectral_norm: float = 1.0,
        bias: bool = False,
    ) -> ReLUNetwork:
        """Sample a network with Gaussian weights rescaled to a given spectral norm.

        Parameters
        ----------
        widths : sequence of int
            ``(d_0, d_1, ..., d_l)``: at least two positive integers.
        rng : None, int or numpy.random.Generator
            Source of randomness (required, so that every sampled target is reproducible;
            pass ``None`` explicitly for fresh entropy).
        spectral_norm : float, default 1.0
            ``‖W_i‖_2`` of every layer after rescaling, > 0.
        bias : bool, default False
            Whether to draw biases, i.i.d. Uniform[-0.5, 0.5].

        Returns
        -------
        ReLUNetwork

        Raises
        ------
        InvalidParameterError
            If ``widths``, ``rng`` or ``spectral_norm`` is invalid.

        Notes
        -----
        All weights are drawn first (i.i.d. standard normal, layer by layer), then the biases,
        so the same seed gives the same weights with and without biases. Each matrix is then
        scaled to exactly ``spectral_norm`` (up to rounding), the boundary case ``‖W_i‖_2 = 1``
        of the theorems' assumption (docs/theory.md, section 1).

        Examples
        --------
        >>> net = ReLUNetwork.random([8, 16, 4], rng=0)
        >>> net
        ReLUNetwork(widths=(8, 16, 4), bias=False)
        >>> np.allclose(net.spectral_norms(), 1.0, rtol=1e-12, atol=0)
        True
        """
        widths = _check_int_tuple("widths", widths, low=1, min_len=2)
        bias = check_bool("bias", bias)
        gen = as_generator(rng)
        shapes = list(zip(widths[1:], widths[:-1], strict=True))
        weights = tuple(gen.standard_normal(shape) for shape in shapes)
        biases = tuple(gen.uniform(-0.5, 0.5, d) for d in widths[1:]) if bias else None
        return cls(weights, biases).scaled(spectral_norm)
