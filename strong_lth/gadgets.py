"""The gadget algebra of docs/theory.md, section 3: a pair of random layers as
``h -> A σ(h) - B σ(-h)``.

Layer pair i of a 2l-deep gadget network (or of a ticket) computes, when every unit of its first
layer keeps one input weight, exactly ``A_i σ(h) - B_i σ(-h)``. This module holds that algebra
once: reading ``(A_i, B_i)`` off a network (:func:`gadget_form`), the compact network with the
same function (:func:`gadget_network`), the masks that keep a construction's choice
(:func:`gadget_masks`) and the folding of the constant input into a first-layer bias
(:func:`fold_input_bias`). :mod:`strong_lth.ticket`, :func:`strong_lth.certify` and
:mod:`strong_lth.exact` all build on it.
"""

from __future__ import annotations

import numpy as np

from .exceptions import InvalidParameterError
from .networks import ReLUNetwork

__all__ = [
    "AGREEMENT",
    "blocked_forward",
    "blocked_gadgets",
    "error_matrix",
    "fold_input_bias",
    "gadget_form",
    "gadget_masks",
    "gadget_network",
    "read_in_blocks",
    "signed_inputs",
]

AGREEMENT = 1e-9
"""Relative tolerance for two evaluations of the same function (a network and its gadget form,
which add the same terms in other orders): far above float64 rounding, far below any error a
ticket is certified for."""


LARGE_TICKET = 2**25
"""Kept weights above which :func:`gadget_form` reads a ticket a block at a time
(:func:`blocked_gadgets`) instead of through its sparse matrices
(:meth:`~strong_lth.ticket.Ticket.gadgets`, which hold several copies of every kept weight and
position at once, estimated at about 26 bytes per kept weight beside the masks' 16)."""

KEPT_BLOCK = 2**22
"""Kept weights of ``M_{2i}`` read at a time by :func:`blocked_gadgets` and
:func:`blocked_forward` (about 300 MB of temporaries)."""


def gadget_masks(keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kept ``(row, col)`` positions of ``M_{2i-1}`` and ``M_{2i}`` from a construction's ``keep``.

    ``keep[r, j, k]`` keeps the weight from unit ``(j, k)`` (index ``k d_in + j``) to output ``r``;
    a unit's input weight is kept when some output uses the unit.
    """
    d_in = keep.shape[1]
    r, j, k = np.nonzero(keep)
    second = np.stack([r, k * d_in + j], axis=1)
    j, k = np.nonzero(keep.any(axis=0))
    first = np.stack([k * d_in + j, j], axis=1)
    return _sorted(first), _sorted(second)


def fold_input_bias(weights: list[np.ndarray]) -> ReLUNetwork:
    """A network on ``x`` from bias-free weights on ``[x, 1]``: the first matrix's last column
    (the constant input of docs/theory.md, section 1) becomes the first layer's bias."""
    biases = [weights[0][:, -1]] + [np.zeros(w.shape[0]) for w in weights[1:]]
    return ReLUNetwork([weights[0][:, :-1], *weights[1:]], biases)


def gadget_network(pairs, input_bias: bool) -> ReLUNetwork:
    """The 2l-deep network computing ``h -> A_i σ(h) - B_i σ(-h)`` per pair, in compact form:
    ``[I; -I]`` then ``[A_i, -B_i]`` (width ``2 d_{i-1}``). A pruned gadget network computes the
    same function, since ``σ(u h) = u σ(h)`` for ``u > 0`` merges all units of one input and sign.
    """
    weights = []
    for a, b in pairs:
        d_in = a.shape[1]
        weights += [np.vstack([np.eye(d_in), -np.eye(d_in)]), np.hstack([a, -b])]
    return fold_input_bias(weights) if input_bias else ReLUNetwork(weights)


def _sorted(positions: np.ndarray) -> np.ndarray:
    order = np.lexsort((positions[:, 1], positions[:, 0]))
    return np.ascontiguousarray(positions[order], dtype=np.int64)


def gadget_form(target: ReLUNetwork, network) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(A_i, B_i)`` of every layer pair of a 2l-deep gadget network (or of a ``Ticket``).

    Parameters
    ----------
    target : ReLUNetwork
        Depth l; with biases, the network's input is read as ``[x, 1]``.
    network : ReLUNetwork or Ticket
        Depth 2l; every unit of an odd layer keeps at most one input weight
        (docs/theory.md, section 3); only the first layer may have a bias (the folded constant
        input).

    Returns
    -------
    list of (A, B)
        ``A_i = M_{2i} max(M_{2i-1}, 0)``, ``B_i = M_{2i} min(M_{2i-1}, 0)``: with one input per
        unit, ``σ(u h_j) = u σ(h_j)`` for ``u > 0`` and ``-u σ(-h_j)`` for ``u < 0``, so the pair
        computes exactly ``A σ(h) - B σ(-h)``.
    """
    expected = [w.shape for w in target.augmented().weights]
    if hasattr(network, "gadgets"):
        if network.input_bias != target.has_bias:
            raise InvalidParameterError(
                f"`network` must read the target's inputs: a ticket with input_bias="
                f"{network.input_bias} reads its last input as the constant 1 exactly when the "
                f"target has biases; got a target with biases {target.has_bias}."
            )
        _check_pair_shapes(list(zip(network.widths[1:], network.widths[:-1])), expected)
        if read_in_blocks(network):
            return blocked_gadgets(network)
        return network.gadgets()  # checked first: a ticket may declare any widths
    pairs = _network_gadgets(target, network)
    _check_pair_shapes([a.shape for a, _ in pairs], expected)
    return pairs


def read_in_blocks(network) -> bool:
    """Whether ``network`` is a ticket of more than :data:`LARGE_TICKET` kept weights, read a
    block at a time (:func:`blocked_gadgets`, :func:`blocked_forward`)."""
    return hasattr(network, "gadgets") and network.n_kept > LARGE_TICKET


def _kept_blocks(ticket, i: int, block: int):
    """The kept weights of pair ``i`` (1-based) of a ticket, a block of ``M_{2i}`` at a time.

    Yields ``(rows, at, inputs, u, v)``: the output rows and kept units (indices ``at`` into the
    ticket's sorted kept units of ``M_{2i-1}``) of one block of ``M_{2i}``'s kept positions,
    every kept unit's input ``inputs`` and weight ``u``, and the block's weights ``v``; both
    regenerated from the seed at the masks' positions (:meth:`RandomNetwork.entries`).
    """
    network = ticket.random_network()
    first, second = ticket.masks[2 * i - 2], ticket.masks[2 * i - 1]
    order = np.argsort(first[:, 0], kind="stable")
    units, inputs = first[order, 0], first[order, 1]
    u = network.entries(2 * i - 1, units, inputs)
    for lo in range(0, len(second), block):
        part = second[lo : lo + block]
        at = np.searchsorted(units, part[:, 1])  # every unit M_{2i} reads is kept (Ticket checks)
        yield part[:, 0], at, inputs, u, network.entries(2 * i, part[:, 0], part[:, 1])


def blocked_gadgets(ticket, block: int = KEPT_BLOCK) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(A_i, B_i)`` of every pair of a ticket from its masks, a block of kept weights at a time.

    ``A_i[r, j] = sum v u`` over the kept weights ``v`` of ``M_{2i}`` from row ``r`` to a kept
    unit whose one input weight ``u > 0`` reads input ``j``, ``B_i`` the same over ``u < 0``:
    :func:`gadget_form`'s ``M_{2i} max(M_{2i-1}, 0)`` and ``M_{2i} min(M_{2i-1}, 0)``, equal to
    :meth:`~strong_lth.ticket.Ticket.gadgets` up to the order of the additions. Memory: the two
    dense matrices and one block's temporaries (``block`` weights), beside the masks.

    Examples
    --------
    >>> from strong_lth import ReLUNetwork, approximate
    >>> ticket = approximate(ReLUNetwork.random((3, 4, 2), rng=0), values_per_input=9, rng=1)
    >>> all(np.allclose(a, c) and np.allclose(b, d)
    ...     for (a, b), (c, d) in zip(blocked_gadgets(ticket, block=5), ticket.gadgets()))
    True
    """
    pairs = []
    for i, (d_in, d_out) in enumerate(zip(ticket.widths, ticket.widths[1:]), start=1):
        a, b = np.zeros(d_out * d_in), np.zeros(d_out * d_in)
        for rows, at, inputs, u, v in _kept_blocks(ticket, i, block):
            flat = rows * d_in + inputs[at]
            a += np.bincount(flat, weights=v * np.maximum(u[at], 0.0), minlength=a.size)
            b += np.bincount(flat, weights=v * np.minimum(u[at], 0.0), minlength=b.size)
        pairs.append((a.reshape(d_out, d_in), b.reshape(d_out, d_in)))
    return pairs


def blocked_forward(ticket, x: np.ndarray, block: int = KEPT_BLOCK) -> np.ndarray:
    """The ticket's pruned network on a batch ``x`` (shape ``(batch, d)``), read from its masks
    a block of kept weights at a time: :meth:`~strong_lth.ticket.Ticket.forward` (kept units
    ``σ(u h_j)``, then the kept weights of ``M_{2i}``, ReLU between pairs, the constant 1
    appended with ``input_bias``) up to the order of the additions, in memory of the kept
    units' activations and one block, beside the masks. Not through ``(A_i, B_i)``: the
    certificate checks one against the other.

    Examples
    --------
    >>> from strong_lth import ReLUNetwork, approximate
    >>> ticket = approximate(ReLUNetwork.random((3, 4, 2), rng=0), values_per_input=9, rng=1)
    >>> x = np.random.default_rng(0).standard_normal((5, 3))
    >>> bool(np.allclose(blocked_forward(ticket, x, block=5), ticket.forward(x)))
    True
    """
    from scipy import sparse

    h = np.hstack([x, np.ones((len(x), 1))]) if ticket.input_bias else x
    depth = len(ticket.widths) - 1
    for i in range(1, depth + 1):
        out = np.zeros((ticket.widths[i], len(h)))
        z = None
        for rows, at, inputs, u, v in _kept_blocks(ticket, i, block):
            if z is None:
                z = np.maximum(u[:, None] * h.T[inputs], 0.0)  # (kept units, batch)
            second = sparse.csr_array((v, (rows, at)), shape=(len(out), len(u)))
            out += second @ z
        h = out.T if i == depth else np.maximum(out.T, 0.0)
    return h


def _check_pair_shapes(shapes, expected):
    if len(shapes) != len(expected):
        raise InvalidParameterError(
            f"`network` must have one layer pair per target layer ({len(expected)}); got "
            f"{len(shapes)}."
        )
    for i, (shape, want) in enumerate(zip(shapes, expected), start=1):
        if tuple(shape) != want:
            raise InvalidParameterError(
                f"`network` layer pair {i} must map {want[1]} inputs to {want[0]} outputs, as "
                f"the (bias-augmented) target's layer {i} does; got {shape[1]} to {shape[0]}."
            )


def _network_gadgets(target, network):
    if not isinstance(network, ReLUNetwork):
        raise InvalidParameterError(
            f"`network` must be a ReLUNetwork or a Ticket; got {type(network).__name__}."
        )
    if network.depth != 2 * target.depth:
        raise InvalidParameterError(
            f"`network` must have depth 2l = {2 * target.depth} for a target of depth "
            f"{target.depth}; got {network.depth}."
        )
    weights = list(network.weights)
    if network.has_bias:
        if any(np.any(b) for b in network.biases[1:]):
            raise InvalidParameterError(
                "`network` must have biases in its first layer only (a ticket's folded constant "
                "input); got non-zero biases in later layers."
            )
        if target.has_bias:
            weights[0] = np.hstack([weights[0], network.biases[0][:, None]])
    elif target.has_bias:
        weights[0] = np.hstack([weights[0], np.zeros((weights[0].shape[0], 1))])
    pairs = []
    for i in range(target.depth):
        first, second = weights[2 * i], weights[2 * i + 1]
        fan_in = np.count_nonzero(first, axis=1)
        if np.any(fan_in > 1):
            raise InvalidParameterError(
                f"`network` layer {2 * i + 1} must keep at most one input weight per unit (the "
                f"gadget of docs/theory.md, section 3); got a unit with {fan_in.max()}."
            )
        pairs.append((second @ np.maximum(first, 0.0), second @ np.minimum(first, 0.0)))
    return pairs


def signed_inputs(layer: int, d_in: int, input_bias: bool) -> np.ndarray:
    """Which inputs of layer pair ``layer`` (1-based) can be negative, shape ``(d_in,)``.

    Only the first pair reads the network input ``x``, whose entries take both signs; every later
    pair reads a ReLU output, never negative. With ``input_bias`` the first pair's last input is
    the constant 1 (docs/theory.md, section 1), never negative either.
    """
    signed = np.full(d_in, layer == 1)
    if layer == 1 and input_bias:
        signed[-1] = False
    return signed


def error_matrix(w: np.ndarray, a: np.ndarray, b: np.ndarray, signed: np.ndarray) -> np.ndarray:
    """``Δ = [A - W, (W - B)[:, signed]]``: the error of one gadget pair, as one matrix.

    Parameters
    ----------
    w, a, b : ndarray, shape (d_out, d_in)
        The target layer and the pair's ``(A, B)`` (:func:`gadget_form`).
    signed : ndarray of bool, shape (d_in,)
        Inputs that can be negative (:func:`signed_inputs`).

    Returns
    -------
    ndarray, shape (d_out, d_in + signed.sum())

    Notes
    -----
    On input ``h`` the pair computes ``A σ(h) - B σ(-h)`` and the target ``W h =
    W σ(h) - W σ(-h)``, so the pair errs by ``(A - W) σ(h) + (W - B) σ(-h) = Δ [σ(h); σ(-h)_S]``
    where ``S`` is the set of inputs that can be negative: for ``j ∉ S``, ``σ(-h_j) = 0`` and
    column j of ``W - B`` never contributes (the units behind ``B[:, j]`` never fire). Since
    ``σ(h)`` and ``σ(-h)`` have disjoint supports, ``||[σ(h); σ(-h)_S]||_2 = ||h||_2`` and the
    pair errs by at most ``||Δ||_2 ||h||_2``. For every pair after the first this is the
    one-sided ``||A - W||_2``.
    """
    return np.hstack([a - w, (w - b)[:, signed]])
