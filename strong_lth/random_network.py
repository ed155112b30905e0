"""The random network ``G`` of depth 2l (docs/theory.md, section 2), never held whole in memory.

Every weight is a pure function of ``(seed, layer, row, col)``: a counter-based generator
(:func:`uniform_bits`) turns the position into a uniform number and the weight distribution's
inverse CDF turns that into the weight. Constructions read only the entries they need
(:meth:`RandomNetwork.gadget_weights`), and any weight can be regenerated from the seed alone.
A sparse random network (``source_density < 1``) decides from a second, independent counter
stream which weights are present; absent weights are exactly 0.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

import numpy as np

from ._validation import check_array, check_int, check_real
from .distributions import Distribution, Uniform, get_distribution
from .exceptions import InvalidParameterError
from .networks import ReLUNetwork, _check_int_tuple

__all__ = ["RandomNetwork", "pair_shapes", "uniform_bits"]

_U64_MAX = 2**64 - 1
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)
_SHIFTS = (np.uint64(30), np.uint64(27), np.uint64(31))
_MANTISSA_SHIFT = np.uint64(12)  # keep the top 52 bits of the hash
_SCALE = 2.0**-52
_BLOCK = 1 << 20
_PRESENCE_LAYER = 2**63
"""Offset of the presence stream: weight ``(layer, row, col)`` of a sparse random network is
present when ``uniform_bits(seed, _PRESENCE_LAYER + layer, row, col) < source_density``."""


def _mix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser (Steele, Lea, Flood 2014), wrap-around uint64 arithmetic."""
    z = z ^ (z >> _SHIFTS[0])
    z *= _MUL1
    z ^= z >> _SHIFTS[1]
    z *= _MUL2
    z ^= z >> _SHIFTS[2]
    return z


def _counter_uniforms(seed: int, layer: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """:func:`uniform_bits` on validated input (``rows``, ``cols`` uint64, broadcastable)."""
    with np.errstate(over="ignore"):
        key = _mix64(_mix64(np.array(seed, np.uint64)) + np.uint64(layer) * _GOLDEN)
        h = _mix64(_mix64(key + rows * _GOLDEN) + cols * _GOLDEN)
    return ((h >> _MANTISSA_SHIFT).astype(np.float64) + 0.5) * _SCALE


def _check_indices(name: str, value: Any, size: int | None = None) -> np.ndarray:
    """Return integer indices as int64 after checking ``0 <= value < size``."""
    idx = check_array(name, value, dtype=np.int64)
    if idx.size and (idx.min() < 0 or (size is not None and idx.max() >= size)):
        upper = "inf)" if size is None else f"{size - 1}]"
        raise InvalidParameterError(
            f"`{name}` must be in [0, {upper}; got values in [{idx.min()}, {idx.max()}]."
        )
    return idx


def _broadcast_shape(rows: np.ndarray, cols: np.ndarray) -> tuple[int, ...]:
    try:
        return np.broadcast_shapes(rows.shape, cols.shape)
    except ValueError as exc:
        raise InvalidParameterError(
            f"`rows` and `cols` must be broadcastable; got shapes {rows.shape} and {cols.shape}."
        ) from exc


def uniform_bits(seed: int, layer: int, rows: Any, cols: Any) -> np.ndarray:
    """Counter-based uniforms: one number in (0, 1) per position ``(seed, layer, row, col)``.

    Parameters
    ----------
    seed : int
        In ``[0, 2**64 - 1]``.
    layer : int
        In ``[0, 2**64 - 1]`` (the random network uses ``1..2l``).
    rows, cols : array_like of int
        Non-negative indices, broadcastable against each other.

    Returns
    -------
    numpy.ndarray
        float64 array of the broadcast shape, entries in ``[2**-53, 1 - 2**-53]``.

    Raises
    ------
    InvalidParameterError
        If an argument is not an integer (array), is negative or out of range, or ``rows`` and
        ``cols`` do not broadcast.

    Notes
    -----
    Every number is a pure function of ``(seed, layer, row, col)``: computing it alone, in a batch
    or in any order gives the same bits. With all arithmetic on uint64 modulo ``2**64``,

    - ``mix64(z)``: ``z ^= z >> 30; z *= 0xBF58476D1CE4E5B9; z ^= z >> 27;
      z *= 0x94D049BB133111EB; z ^= z >> 31`` (the SplitMix64 finaliser, a bijection),
    - ``G = 0x9E3779B97F4A7C15``,
    - ``k = mix64(mix64(seed) + layer * G)``,
    - ``h = mix64(mix64(k + row * G) + col * G)``,
    - ``u = ((h >> 12) + 0.5) * 2**-52``.

    ``u`` keeps the top 52 bits of ``h``: ``m + 0.5`` with ``m < 2**52`` is exact in float64, so
    ``u`` is exactly the midpoint ``(m + 1/2) / 2**52`` of one of ``2**52`` equal cells of (0, 1),
    never 0 or 1 and symmetric about 1/2 (Uniform[-a, a] weights ``a(2u - 1)`` are exactly
    symmetric and never 0). With 53 bits, ``m + 0.5`` would round for ``m >= 2**52`` and
    ``m = 2**53 - 1`` would give ``u = 1.0`` exactly.

    Examples
    --------
    >>> u = uniform_bits(7, 1, [[0], [1]], [0, 1, 2])
    >>> u.shape, bool(np.all((u > 0) & (u < 1)))
    ((2, 3), True)
    >>> bool(uniform_bits(7, 1, 1, 2) == u[1, 2])
    True
    """
    seed = check_int("seed", seed, low=0, high=_U64_MAX)
    layer = check_int("layer", layer, low=0, high=_U64_MAX)
    rows = _check_indices("rows", rows)
    cols = _check_indices("cols", cols)
    _broadcast_shape(rows, cols)
    return _counter_uniforms(seed, layer, rows.astype(np.uint64), cols.astype(np.uint64))


def pair_shapes(widths: Sequence[int], values_per_input: Sequence[int]) -> list[tuple[int, int]]:
    """Layer shapes of the depth-2l network of [P] and [M]: target layer i is the pair
    ``M_{2i-1}`` of shape ``(d_{i-1} n_i, d_{i-1})`` and ``M_{2i}`` of shape
    ``(d_i, d_{i-1} n_i)``.

    Examples
    --------
    >>> pair_shapes((3, 2), (4,))
    [(12, 3), (2, 12)]
    """
    pairs = zip(widths[:-1], values_per_input, widths[1:], strict=True)
    return [shape for d_in, n, d_out in pairs for shape in ((d_in * n, d_in), (d_out, d_in * n))]


@dataclass(frozen=True)
class RandomNetwork:
    """The random network ``G(x) = M_{2l} σ(M_{2l-1} ··· σ(M_1 x))`` of docs/theory.md, section 2.

    Parameters
    ----------
    seed : int
        In ``[0, 2**64 - 1]``; with the other fields it fixes every weight.
    widths : sequence of int
        ``(d_0, ..., d_l)`` of the target (bias-augmented by the caller if it has biases).
    values_per_input : int or sequence of int
        ``n_i >= 1`` per target layer (an int means the same for every layer).
    distribution : Distribution or str, default Uniform()
        Weight distribution; names are resolved by :func:`get_distribution`.
    source_density : float, default 1.0
        Probability ``p`` in (0, 1] that a weight is present (an Erdős–Rényi sparse network);
        ``1.0`` is the dense network, bit for bit.
    layout : callable, default :func:`pair_shapes`
        ``layout(widths, values_per_input) -> [(rows, cols), ...]``: the shapes of the layers,
        as a construction declares them (:class:`strong_lth.constructions.Construction`).
        Weights are a function of their position whatever the layout; :meth:`gadget_weights`
        and :attr:`hidden_widths` read the pair layout.

    Raises
    ------
    InvalidParameterError
        If a field is invalid or ``values_per_input`` has the wrong length.

    Notes
    -----
    Layers are numbered ``1..2l`` as in docs/theory.md: ``M_{2i-1}`` has shape ``(w_i, d_{i-1})``
    and ``M_{2i}`` shape ``(d_i, w_i)`` with ``w_i = d_{i-1} n_i``. Hidden unit ``(j, k)`` (input
    ``j < d_{i-1}``, copy ``k < n_i``) has index ``k d_{i-1} + j`` (copy-major), and
    ``M_layer[row, col] = F^{-1}(uniform_bits(seed, layer, row, col))``.

    Nesting: since a weight depends only on its position, and the units of the network with
    ``n_i`` copies are the first ``d_{i-1} n_i`` units of the one with ``n_i + 1``, the smaller
    network is a sub-network of the larger: ``M_{2i-1}`` is a prefix of rows and ``M_{2i}`` a
    prefix of columns of the larger one, bit for bit. Width sweeps therefore reuse one random
    draw, and a ticket found at width ``n`` is a ticket of every wider network.

    Sparse source: Gadhikar, Mukherjee, Burkholz, *Why random pruning is all we need to start
    sparse*, ICML 2023, arXiv:2210.02412, prune the random network at random before looking for
    a ticket. Here weight ``(layer, row, col)`` is present iff
    ``uniform_bits(seed, 2**63 + layer, row, col) < p`` (:meth:`present`), a counter stream whose
    layer keys ``2**63 + layer`` never meet the weights' keys ``1..2l``, so presence is
    independent of the weight values; an absent weight is exactly 0 wherever weights are read
    (:meth:`entries`, :meth:`matrix`, :meth:`gadget_weights`, :meth:`materialize`). Presence
    too depends on the position alone, so the nesting above holds for sparse networks; it is
    also nested in ``p``: a weight present at ``p`` is present at every ``p' > p``, with the
    same value. For ``p = 1`` every weight is present (``u < 1`` always) and nothing else
    changes. The built-in
    distributions never give an exact 0 from a uniform of :func:`uniform_bits`, so for them a
    weight is present iff it is non-zero. :attr:`n_params` counts the present weights,
    :attr:`n_positions` all positions.

    Examples
    --------
    >>> g = RandomNetwork(seed=0, widths=(3, 2), values_per_input=4)
    >>> g.depth, g.hidden_widths, g.shapes
    (2, (12,), [(12, 3), (2, 12)])
    >>> g.materialize()
    ReLUNetwork(widths=(3, 12, 2), bias=False)
    """

    seed: int
    widths: tuple[int, ...]
    values_per_input: tuple[int, ...]
    distribution: Distribution = field(default_factory=Uniform)
    source_density: float = 1.0
    layout: Callable = field(default=pair_shapes, repr=False)

    def __post_init__(self) -> None:
        widths = _check_int_tuple("widths", self.widths, low=1, min_len=2)
        n = self.values_per_input
        if isinstance(n, numbers.Integral) and not isinstance(n, bool):
            n = (n,) * (len(widths) - 1)
        n = _check_int_tuple("values_per_input", n, low=1)
        if len(n) != len(widths) - 1:
            raise InvalidParameterError(
                f"`values_per_input` must have one entry per target layer ({len(widths) - 1}); "
                f"got {len(n)}."
            )
        object.__setattr__(self, "seed", check_int("seed", self.seed, low=0, high=_U64_MAX))
        object.__setattr__(self, "widths", widths)
        object.__setattr__(self, "values_per_input", n)
        object.__setattr__(self, "distribution", get_distribution(self.distribution))
        density = check_real(
            "source_density", self.source_density, low=0.0, high=1.0, low_open=True
        )
        object.__setattr__(self, "source_density", density)

    @property
    def depth(self) -> int:
        """Number of random matrices (``2l`` in the pair layout)."""
        return len(self.shapes)

    @property
    def hidden_widths(self) -> tuple[int, ...]:
        """``(w_1, ..., w_l)`` with ``w_i = d_{i-1} n_i``."""
        return tuple(d * n for d, n in zip(self.widths[:-1], self.values_per_input, strict=True))

    @property
    def shapes(self) -> list[tuple[int, int]]:
        """Shapes of ``M_1, M_2, ...``, from :attr:`layout`."""
        return [(int(r), int(c)) for r, c in self.layout(self.widths, self.values_per_input)]

    @property
    def n_positions(self) -> int:
        """Number of weight positions ``sum_j |M_j|``, present or not."""
        return sum(r * c for r, c in self.shapes)

    @cached_property
    def n_params(self) -> int:
        """Number of present random weights (:attr:`n_positions` when ``source_density = 1``).

        Counted exactly, layer by layer in slabs of about ``2**20`` positions (memory bounded,
        time linear in :attr:`n_positions`), once per instance.

        Examples
        --------
        >>> g = RandomNetwork(seed=0, widths=(3, 2), values_per_input=4, source_density=0.5)
        >>> g.n_params == sum(int(np.count_nonzero(g.matrix(j))) for j in (1, 2))
        True
        """
        if self.source_density == 1.0:
            return self.n_positions
        count = 0
        for layer, (n_rows, n_cols) in enumerate(self.shapes, start=1):
            cols = np.arange(n_cols, dtype=np.uint64)[None, :]
            step = max(1, _BLOCK // n_cols)
            for lo in range(0, n_rows, step):
                rows = np.arange(lo, min(lo + step, n_rows), dtype=np.uint64)[:, None]
                count += int(np.count_nonzero(self._present(layer, rows, cols)))
        return count

    def _check_layer(self, layer: Any) -> int:
        return check_int("layer", layer, low=1, high=self.depth)

    def _present(self, layer: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Presence at uint64 positions (broadcastable): the stream of :data:`_PRESENCE_LAYER`."""
        u = _counter_uniforms(self.seed, _PRESENCE_LAYER + layer, rows, cols)
        return u < self.source_density

    def _slab(self, layer: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Weights at uint64 positions of one shape, absent ones 0."""
        w = self.distribution.from_uniform(_counter_uniforms(self.seed, layer, rows, cols))
        if self.source_density < 1.0:
            w = np.where(self._present(layer, rows, cols), w, 0.0)
        return w

    def _by_slabs(self, slab, rows: np.ndarray, cols: np.ndarray, dtype=np.float64) -> np.ndarray:
        """``slab(rows, cols)`` at validated non-negative integer positions, evaluated in slabs of
        about :data:`_BLOCK` numbers along the first axis so that the hashing temporaries stay
        small beside the output."""
        rows, cols = np.broadcast_arrays(rows.astype(np.uint64), cols.astype(np.uint64))
        out = np.empty(rows.shape, dtype)
        if out.size == 0 or out.ndim == 0:
            out[...] = slab(rows, cols)
            return out
        step = max(1, _BLOCK // max(1, out[0].size))
        for lo in range(0, len(out), step):
            out[lo : lo + step] = slab(rows[lo : lo + step], cols[lo : lo + step])
        return out

    def _weights(self, layer: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Weights at validated non-negative integer positions (absent ones 0)."""
        return self._by_slabs(partial(self._slab, layer), rows, cols)

    def _positions(self, layer: Any, rows: Any, cols: Any) -> tuple[int, np.ndarray, np.ndarray]:
        """Validated ``layer`` and broadcastable in-range indices of ``M_layer``."""
        layer = self._check_layer(layer)
        n_rows, n_cols = self.shapes[layer - 1]
        rows = _check_indices("rows", rows, n_rows)
        cols = _check_indices("cols", cols, n_cols)
        _broadcast_shape(rows, cols)
        return layer, rows, cols

    def present(self, layer: int, rows: Any, cols: Any) -> np.ndarray:
        """Whether the weights ``M_layer[rows, cols]`` are present in the (sparse) network.

        Parameters
        ----------
        layer : int
            In ``1..2l``.
        rows, cols : array_like of int
            Indices within ``shapes[layer - 1]``, broadcastable against each other.

        Returns
        -------
        numpy.ndarray
            bool array of the broadcast shape; all True when ``source_density = 1``.

        Raises
        ------
        InvalidParameterError
            If ``layer`` or an index is out of range, or the indices do not broadcast.

        Notes
        -----
        ``present = uniform_bits(seed, 2**63 + layer, row, col) < source_density``, so each
        weight is present with probability ``source_density`` (up to ``2**-52``), independently
        of the others and of the weight values (class Notes).

        Examples
        --------
        >>> g = RandomNetwork(seed=1, widths=(2, 2), values_per_input=3, source_density=0.5)
        >>> bool(np.array_equal(g.present(1, [[0], [1]], [0, 1]), g.matrix(1)[:2] != 0))
        True
        """
        layer, rows, cols = self._positions(layer, rows, cols)
        return self._by_slabs(partial(self._present, layer), rows, cols, dtype=bool)

    def entries(self, layer: int, rows: Any, cols: Any) -> np.ndarray:
        """Weights ``M_layer[rows, cols]`` at broadcast integer positions.

        Parameters
        ----------
        layer : int
            In ``1..2l``.
        rows, cols : array_like of int
            Indices within ``shapes[layer - 1]``, broadcastable against each other.

        Returns
        -------
        numpy.ndarray
            float64 weights of the broadcast shape, 0 where absent (:meth:`present`).

        Raises
        ------
        InvalidParameterError
            If ``layer`` or an index is out of range, or the indices do not broadcast.

        Examples
        --------
        >>> g = RandomNetwork(seed=1, widths=(2, 2), values_per_input=3)
        >>> bool(g.entries(2, 1, 4) == g.matrix(2)[1, 4])
        True
        """
        layer, rows, cols = self._positions(layer, rows, cols)
        return self._weights(layer, rows, cols)

    def matrix(self, layer: int) -> np.ndarray:
        """Dense ``M_layer`` (layer in ``1..2l``).

        Raises
        ------
        InvalidParameterError
            If ``layer`` is out of range.

        Examples
        --------
        >>> RandomNetwork(seed=1, widths=(2, 2), values_per_input=3).matrix(1).shape
        (6, 2)
        """
        layer = self._check_layer(layer)
        n_rows, n_cols = self.shapes[layer - 1]
        return self._weights(layer, np.arange(n_rows)[:, None], np.arange(n_cols)[None, :])

    def gadget_weights(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """The weights the Pensia and Malach constructions read for target layer ``i``.

        Parameters
        ----------
        i : int
            Target layer, ``1..l``.

        Returns
        -------
        u : numpy.ndarray
            Shape ``(d_{i-1}, n_i)``, ``u[j, k] = M_{2i-1}[k d_{i-1} + j, j]``.
        v : numpy.ndarray
            Shape ``(d_i, d_{i-1}, n_i)``, ``v[r, j, k] = M_{2i}[r, k d_{i-1} + j]``.

        Raises
        ------
        InvalidParameterError
            If ``i`` is out of range.

        Notes
        -----
        docs/theory.md, section 3: unit ``(j, k)`` keeps only its weight from input ``j``, so it
        computes ``σ(u_{jk} x_j)``, and output ``r`` sums ``v[r, j, k] σ(u_{jk} x_j)`` over kept
        units. In a sparse network absent entries of ``u`` and ``v`` are exactly 0 (a construction
        must not keep them).

        Examples
        --------
        >>> g = RandomNetwork(seed=1, widths=(2, 3), values_per_input=4)
        >>> u, v = g.gadget_weights(1)
        >>> u.shape, v.shape
        ((2, 4), (3, 2, 4))
        >>> bool(u[1, 2] == g.matrix(1)[2 * 2 + 1, 1] and v[0, 1, 2] == g.matrix(2)[0, 5])
        True
        """
        i = check_int("i", i, low=1, high=len(self.values_per_input))
        d_in, d_out = self.widths[i - 1], self.widths[i]
        inputs = np.arange(d_in)[:, None]
        units = np.arange(self.values_per_input[i - 1])[None, :] * d_in + inputs
        u = self._weights(2 * i - 1, units, inputs)
        v = self._weights(2 * i, np.arange(d_out)[:, None, None], units[None])
        return u, v

    def with_values_per_input(self, values_per_input: int | tuple[int, ...]) -> RandomNetwork:
        """Same seed, widths, distribution and source density with new ``n_i``: a nested (sub- or
        super-) network.

        Examples
        --------
        >>> g = RandomNetwork(seed=1, widths=(2, 2), values_per_input=3)
        >>> big = g.with_values_per_input(5)
        >>> bool(np.array_equal(big.matrix(1)[:6], g.matrix(1)))
        True
        """
        return dataclasses.replace(self, values_per_input=values_per_input)

    def dense_bytes(self) -> int:
        """Bytes of all ``2l`` matrices as dense float64 (``8 · n_positions``)."""
        return 8 * self.n_positions

    def materialize(self, *, max_bytes: int = 2**30) -> ReLUNetwork:
        """Build the dense network ``G`` (depth ``2l``, no biases).

        Parameters
        ----------
        max_bytes : int, default 2**30
            Refuse to allocate more than this many bytes of weights.

        Returns
        -------
        ReLUNetwork
            Weights ``M_1, ..., M_{2l}`` (absent weights 0).

        Raises
        ------
        InvalidParameterError
            If ``max_bytes`` is negative or :meth:`dense_bytes` exceeds it.

        Examples
        --------
        >>> g = RandomNetwork(seed=1, widths=(2, 2), values_per_input=3)
        >>> g.materialize().depth
        2
        """
        max_bytes = check_int("max_bytes", max_bytes, low=0)
        need = self.dense_bytes()
        if need > max_bytes:
            raise InvalidParameterError(
                f"`max_bytes` must be at least {need} to materialize this network "
                f"(dense float64 weights); got {max_bytes}."
            )
        return ReLUNetwork(tuple(self.matrix(layer) for layer in range(1, self.depth + 1)))
