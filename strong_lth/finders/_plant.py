"""Plant 'n' Seek (Fischer and Burkholz, ICLR 2022): a random network with a known exact ticket."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .._validation import as_generator
from ..exceptions import InvalidParameterError
from ..networks import ReLUNetwork, _check_int_tuple
from ..random_network import RandomNetwork
from ._masked import MaskedNetwork, check_source, input_layout, source_matrices, source_shapes

__all__ = ["PlantedNetwork", "plant"]


@dataclass(frozen=True, eq=False)
class PlantedNetwork:
    """A copy of a random network with a target planted in it.

    Attributes
    ----------
    network : ReLUNetwork
        The random network (bias-free) with the planted weights written over the random ones.
    ticket : MaskedNetwork
        The planted mask over ``network`` (``method = "planted"``): its pruned network computes
        the target exactly, up to rounding.
    scales : tuple of ndarray
        The positive factor each planted hidden unit carries, one array per hidden layer, in the
        order of the (gadget form of the) target's units: unit ``u`` computes ``c_u`` times the
        target's unit.
    units : tuple of ndarray
        The network's unit that holds each target unit, one array per hidden layer.
    """

    network: ReLUNetwork
    ticket: MaskedNetwork
    scales: tuple[np.ndarray, ...]
    units: tuple[np.ndarray, ...]


def _gadget_layers(weights):
    """The target of depth l as 2l layers: ``[I; -I]`` then ``[W, -W]`` (``W h = W σ(h) -
    W σ(-h)``, Pensia et al. 2020, arXiv:2006.07990), so that it plants into a 2l-deep network."""
    layers = []
    for w in weights:
        eye = np.eye(w.shape[1])
        layers += [np.vstack([eye, -eye]), np.hstack([w, -w])]
    return layers


def _random_mlp(widths, rng):
    """Bias-free He-normal weights ``N(0, 2 / fan_in)`` (the He initialisation of Plant 'n' Seek's
    ``init_He``, without biases)."""
    return ReLUNetwork(
        tuple(
            rng.standard_normal((d_out, d_in)) * math.sqrt(2.0 / d_in)
            for d_in, d_out in itertools.pairwise(widths)
        )
    )


def _choose(block, row):
    """The candidate whose weights (a row of ``block``, candidates x fan-in) are closest to a
    positive multiple ``c`` of ``row``: least-squares ``c``, L1 residual; ties (an exact fit, as
    for a single input) go to the largest ``c``; with no positive fit, the first candidate, ``c``
    matching the mean magnitudes. Returns ``(row index into block, c)``."""
    scale = block @ row / (row @ row)
    residual = np.abs(block - scale[:, None] * row).sum(axis=1)
    valid = scale > 0
    if not np.any(valid):  # no unit points the target's way: match magnitudes instead
        return 0, float(np.abs(block[0]).mean() / np.abs(row).mean())
    best = residual[valid].min()
    close = valid & (residual <= best * (1 + 1e-9) + 1e-12)
    pick = np.flatnonzero(close)[np.argmax(scale[close])]
    return int(pick), float(scale[pick])


def plant(target: ReLUNetwork, network, *, rng) -> PlantedNetwork:
    """Plant ``target`` in a copy of a random network, so that a known mask computes it exactly.

    Parameters
    ----------
    target : ReLUNetwork
        ``F`` (depth l, biases allowed: then it is planted as its bias-free augmentation on
        ``[x, 1]``, :meth:`~strong_lth.networks.ReLUNetwork.augmented`).
    network : RandomNetwork, ReLUNetwork or sequence of int
        The random network (bias-free), of depth l (the target's layers planted one for one) or
        2l (each target layer as the pair ``[I; -I]``, ``[W, -W]``: the depth and shape of the
        constructions' networks, e.g. ``ticket.random_network()``); or its widths, for a plain
        random MLP with He-normal weights drawn from ``rng``. Input ``d`` (``d + 1`` for a target
        with biases), output the target's, every hidden layer at least as wide as the planted
        one (``d_i + 1`` with biases; ``2 d_{i-1}`` for the first layer of a pair).
    rng : None, int or numpy.random.Generator
        Orders the candidate units (ties and the fallback below) and draws the MLP of a widths
        sequence.

    Returns
    -------
    PlantedNetwork

    Raises
    ------
    InvalidParameterError
        If ``target`` is not a ReLUNetwork, or the network's depth or widths cannot hold it.

    Notes
    -----
    Fischer and Burkholz, *Plant 'n' Seek: Can You Find the Winning Ticket?*, ICLR 2022,
    arXiv:2111.11153 (code: RelationalML/PlantNSeek, ``plant_target``). Layer by layer, each
    target unit ``r`` of a hidden layer is placed on the unused network unit whose incoming random
    weights (from the units already planted below) are closest to a positive multiple
    ``c_r t_r`` of the target's row ``t_r`` (least squares, L1 residual; the largest ``c_r`` among
    exact fits); those weights are overwritten with ``c_r t_r``. ReLU is positively homogeneous,
    ``σ(c z) = c σ(z)`` for ``c > 0``, so the unit computes ``c_r`` times the target's unit, and
    the next layer's row is divided entrywise by the input scales,
    ``t_r = W[r, :] / c_{inputs}``. The output layer is not rescaled (``c = 1``), so the planted
    sub-network computes ``F`` itself, not a multiple. If no unit has a positive fit, the first
    candidate in ``rng``'s order is used with ``c`` matching the mean magnitudes. Only the
    target's non-zero weights are planted and kept; a zero target weight leaves the random weight
    in place, outside the mask.

    Examples
    --------
    >>> from strong_lth import RandomNetwork, ReLUNetwork
    >>> target = ReLUNetwork.random((3, 4, 2), rng=0)
    >>> planted = plant(target, RandomNetwork(seed=1, widths=(3, 4, 2), values_per_input=4), rng=0)
    >>> x = np.random.default_rng(0).standard_normal((5, 3))
    >>> bool(np.allclose(planted.ticket.forward(x), target.forward(x), rtol=0, atol=1e-12))
    True
    """
    if not isinstance(target, ReLUNetwork):
        raise InvalidParameterError(f"`target` must be a ReLUNetwork; got {type(target).__name__}.")
    gen = as_generator(rng)
    if not isinstance(network, RandomNetwork | ReLUNetwork):
        if not isinstance(network, Iterable) or isinstance(network, str):
            raise InvalidParameterError(
                "`network` must be a RandomNetwork, a bias-free ReLUNetwork or a sequence of "
                f"widths; got {type(network).__name__}."
            )
        network = _random_mlp(_check_int_tuple("network", network, low=1, min_len=2), gen)
    source = check_source(network)
    shapes = source_shapes(source)
    input_bias = input_layout(target, shapes)
    if input_bias != target.has_bias:
        raise InvalidParameterError(
            f"`network` must take {target.widths[0] + int(target.has_bias)} inputs to hold the "
            f"target exactly (the constant 1 last when it has biases); got {shapes[0][1]}."
        )
    augmented = target.augmented().weights
    if len(shapes) == len(augmented):
        layers = list(augmented)
    elif len(shapes) == 2 * len(augmented):
        layers = _gadget_layers(augmented)
    else:
        raise InvalidParameterError(
            f"`network` must have depth {len(augmented)} or {2 * len(augmented)} (the target's, "
            f"or two layers per target layer); got {len(shapes)}."
        )
    for j, (layer, shape) in enumerate(zip(layers[:-1], shapes[:-1]), start=1):
        if shape[0] < layer.shape[0]:
            raise InvalidParameterError(
                f"`network` layer {j} must have at least {layer.shape[0]} units to hold the "
                f"target; got {shape[0]}."
            )
    weights = source_matrices(source)
    inputs, in_scale = np.arange(shapes[0][1]), np.ones(shapes[0][1])
    masks, scales, units = [], [], []
    for j, (layer, w) in enumerate(zip(layers, weights)):
        rows = layer / in_scale[None, :]
        last = j == len(layers) - 1
        placed = np.arange(w.shape[0]) if last else np.empty(layer.shape[0], dtype=np.int64)
        out_scale = np.ones(layer.shape[0])
        free = np.ones(w.shape[0], dtype=bool)
        kept = []
        for r in range(layer.shape[0]):
            nonzero = np.flatnonzero(rows[r])
            if not last:
                candidates = gen.permutation(np.flatnonzero(free))
                if nonzero.size:
                    block = w[np.ix_(candidates, inputs[nonzero])]
                    pick, out_scale[r] = _choose(block, rows[r, nonzero])
                else:  # a dead target unit: any unit, nothing kept into it
                    pick = 0
                placed[r] = candidates[pick]
                free[placed[r]] = False
            w[placed[r], inputs[nonzero]] = out_scale[r] * rows[r, nonzero]
            kept += [(placed[r], inputs[c]) for c in nonzero]
        masks.append(np.array(kept, dtype=np.int64).reshape(-1, 2))
        if not last:
            scales.append(out_scale)
            units.append(placed)
        inputs, in_scale = placed, out_scale
    planted = ReLUNetwork(tuple(weights))
    ticket = MaskedNetwork(planted, tuple(masks), input_bias, "planted")
    return PlantedNetwork(planted, ticket, tuple(scales), tuple(units))
