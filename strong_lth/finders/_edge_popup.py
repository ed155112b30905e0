"""Edge-popup (Ramanujan et al., CVPR 2020): a score per weight of a frozen random network, the
top-k per layer kept, scores trained by the straight-through gradient. Plain NumPy."""

from __future__ import annotations

import math

import numpy as np
from tqdm import tqdm

from .._validation import as_generator, check_array, check_choice, check_int, check_real
from ..exceptions import InvalidParameterError
from ..networks import ReLUNetwork
from ._masked import (
    MaskedNetwork,
    check_source,
    input_layout,
    source_candidates,
    source_matrices,
    source_shapes,
)

__all__ = ["OPTIMIZERS", "edge_popup"]

OPTIMIZERS = ("adam", "sgd")
"""Score optimisers: Adam (β = 0.9, 0.999), or SGD with momentum 0.9 as in the paper; both with
the paper's cosine decay of the step size."""

LOG_EVERY = 25
"""Steps between updates of the progress bar's loss figure."""

VALIDATION = 2048
"""Inputs of the ball, drawn once, on which distillation compares its restarts."""


def _layer_sizes(density, candidates, shapes):
    """``k_j = round(density * m_j)`` kept weights per layer, ``m_j`` its candidate positions."""
    sizes = [
        int(np.count_nonzero(c)) if c is not None else r * s
        for c, (r, s) in zip(candidates, shapes)
    ]
    ks = [round(density * m) for m in sizes]
    for layer, (k, m) in enumerate(zip(ks, sizes), start=1):
        if k < 1:
            raise InvalidParameterError(
                f"`density` must keep at least one weight of layer {layer} ({m} candidates), "
                f"i.e. be at least {0.5 / m:.3g}; got {density!r}."
            )
    return ks


def _top_k(scores, k, candidates):
    """Boolean mask of the ``k`` largest ``|scores|`` (among the candidates)."""
    magnitude = np.abs(scores).ravel()
    if candidates is not None:
        magnitude = np.where(candidates.ravel(), magnitude, -np.inf)
    mask = np.zeros(magnitude.size, dtype=bool)
    mask[np.argpartition(-magnitude, k - 1)[:k]] = True
    return mask.reshape(scores.shape)


def _check_data(data, d, d_out):
    if not isinstance(data, tuple | list) or len(data) != 2:
        raise InvalidParameterError(
            f"`data` must be a pair (X, y) of inputs and labels; got {type(data).__name__}."
        )
    x = check_array("data[0]", data[0], ndim=2, shape=(None, d))
    if len(x) == 0:
        raise InvalidParameterError("`data[0]` must hold at least one input; got none.")
    y = check_array("data[1]", data[1], shape=(len(x),), dtype=np.int64)
    if y.min() < 0 or y.max() >= d_out:
        raise InvalidParameterError(
            f"`data[1]` must hold labels in [0, {d_out - 1}]; got labels from {y.min()} to "
            f"{y.max()}."
        )
    return x, y


def _ball(rng, batch, d, radius):
    """Uniform points of the ℓ2 ball: a normal direction, radius ``r U^(1/d)``."""
    x = rng.standard_normal((batch, d))
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-300)
    return x * (radius * rng.random((batch, 1)) ** (1.0 / d))


def edge_popup(
    target: ReLUNetwork,
    network,
    *,
    density: float,
    rng,
    steps: int = 1000,
    lr: float = 1e-4,
    batch: int = 128,
    data=None,
    radius: float = 1.0,
    optimizer: str = "adam",
    restarts: int = 1,
    progress: bool = False,
) -> MaskedNetwork:
    """Find a ticket of a fixed random network by edge-popup: top-k scores per layer.

    Parameters
    ----------
    target : ReLUNetwork
        ``F``, the network to match (biases allowed).
    network : RandomNetwork or ReLUNetwork
        The fixed random network ``G`` (bias-free): ``ticket.random_network()`` of a constructed
        ticket, any :class:`~strong_lth.random_network.RandomNetwork`, a plain random MLP, or a
        planted network (:func:`~strong_lth.finders.plant`). It takes the target's ``d`` inputs,
        or ``d + 1`` with the constant 1 last (a target with biases, as
        :func:`strong_lth.approximate` builds it), and gives its outputs.
    density : float
        In ``(0, 1]``: layer ``j`` keeps exactly ``k_j = round(density m_j)`` weights, ``m_j`` its
        weights (its present weights in a sparse RandomNetwork).
    rng : None, int or numpy.random.Generator
        Seeds the score initialisation and the inputs: the same seed gives the same ticket, bit
        for bit (on the same BLAS).
    steps : int, default 1000
        Optimiser steps.
    lr : float, default 1e-4
        Initial step size (cosine decay to 0 over ``steps``). The random networks here keep
        their theory's scale (Uniform[-1, 1], not the paper's Kaiming scale), so a pruned network
        starts with outputs far larger than the target's; with larger steps Adam reaches the zero
        function first (every unit of a layer dead, where no gradient flows) and stays there: on
        the 8-16-16-4 and digits benchmarks ``lr >= 3e-4`` ended at ``G = 0``, ``1e-4`` did not.
    batch : int, default 128
        Inputs per step.
    data : tuple (X, y), optional
        Labelled data: minimise the cross-entropy of ``softmax(G(x))`` against ``y``. Default:
        distillation, ``½ ||F(x) - G(x)||²`` on inputs drawn uniformly from the ball
        ``||x||_2 <= radius``, the domain on which the constructions bound the error.
    radius : float, default 1.0
        Radius of the input ball (distillation).
    optimizer : {"adam", "sgd"}
        :data:`OPTIMIZERS`.
    restarts : int, default 1
        Independent searches, each from fresh scores and for ``steps`` steps; the one with the
        lowest loss on a common validation set is returned: :data:`VALIDATION` inputs of the ball
        drawn once (distillation), or all of ``data`` (cross-entropy). The top-k mask is a local
        search: its straight-through gradient is zero for every weight of a unit whose incoming
        or outgoing weights are all pruned (its output is 0 or reaches nothing), so
        a search cannot add two units at once that only help together, e.g. two units whose
        outputs cancel in part. Restarts are the remedy: on six tiny planted cases (2-3-1
        targets planted in 2-6-1 networks, 300 steps, ``lr=0.05``) one search returned the
        planted ticket exactly in 47 of 120 runs, the best of four restarts in 38 of 60; one
        target, whose planted units only help together, was never recovered
        (``tests/test_finders.py``).
    progress : bool, default False
        Show a tqdm progress bar with the running loss.

    Returns
    -------
    MaskedNetwork
        ``method = "edge-popup"``, the kept positions of the final scores, ``losses`` the loss at
        every step (of the restart returned). Every kept weight is the random weight at its
        position, unchanged.

    Raises
    ------
    InvalidParameterError
        If ``density`` is outside ``(0, 1]`` or keeps no weight of some layer, the shapes do not
        match, ``data`` is not finite labelled inputs of the target's dimension, or another
        argument is invalid.

    Notes
    -----
    Ramanujan, Wortsman, Kembhavi, Farhadi, Rastegari, *What's Hidden in a Randomly Weighted
    Neural Network?*, CVPR 2020, arXiv:1911.13299 (code: allenai/hidden-networks). Every weight
    ``w`` gets a score ``s``, initialised Kaiming-uniform as the paper's
    ``kaiming_uniform_(a=sqrt(5))``, i.e. ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``. The forward
    pass uses ``w · 1[|s| among the top k_j of its layer]``; the backward pass treats the mask as
    the identity (the straight-through estimator of the paper's ``GetSubnet``), so
    ``∂L/∂s = sign(s) w ∂L/∂(w m)``. The weights never change. Here the paper's fraction of kept
    weights per layer is the toolkit's :func:`~strong_lth.ticket.density` layer by layer, and
    exactly ``k_j`` weights are kept (top-k by ``numpy.argpartition``; ties have probability 0).

    No certified bound exists for the result: measure it with
    :func:`~strong_lth.finders.measured_error` or :func:`strong_lth.exact_error`.

    Examples
    --------
    >>> from strong_lth import RandomNetwork, ReLUNetwork
    >>> target = ReLUNetwork.random((3, 4, 2), rng=0)
    >>> g = RandomNetwork(seed=1, widths=(3, 4, 2), values_per_input=8)
    >>> ticket = edge_popup(target, g, density=0.3, rng=0, steps=200)
    >>> [len(m) for m in ticket.masks] == [round(0.3 * r * c) for r, c in g.shapes]
    True
    """
    if not isinstance(target, ReLUNetwork):
        raise InvalidParameterError(f"`target` must be a ReLUNetwork; got {type(target).__name__}.")
    source = check_source(network)
    density = check_real("density", density, low=0.0, high=1.0, low_open=True)
    steps = check_int("steps", steps, low=1)
    lr = check_real("lr", lr, low=0.0, low_open=True)
    batch = check_int("batch", batch, low=1)
    radius = check_real("radius", radius, low=0.0, low_open=True)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    restarts = check_int("restarts", restarts, low=1)
    if not isinstance(progress, bool):
        raise InvalidParameterError(f"`progress` must be True or False; got {progress!r}.")
    gen = as_generator(rng)
    shapes = source_shapes(source)
    input_bias = input_layout(target, shapes)
    d, d_out = target.widths[0], target.widths[-1]
    labelled = None if data is None else _check_data(data, d, d_out)
    candidates = source_candidates(source)
    ks = _layer_sizes(density, candidates, shapes)
    weights = source_matrices(source)

    def draw():
        """A batch: inputs of the ball and the target's outputs, or labelled rows of ``data``."""
        if labelled is None:
            x = _ball(gen, batch, d, radius)
            return x, target.forward(x)
        rows = gen.integers(0, len(labelled[0]), batch)
        return labelled[0][rows], labelled[1][rows]

    def objective(pair, effective):
        return _loss(labelled, pair, effective, input_bias)

    if restarts == 1:
        validation = None
    elif labelled is None:
        x_val = _ball(gen, VALIDATION, d, radius)
        validation = (x_val, target.forward(x_val))
    else:
        validation = labelled
    best = None
    with tqdm(total=steps * restarts, desc="edge-popup", disable=not progress, leave=False) as bar:
        for _ in range(restarts):
            masks, losses = _search(
                weights, ks, candidates, draw, objective, gen, (steps, lr, optimizer), bar
            )
            if validation is None:
                best = (0.0, masks, losses)
                continue
            score = objective(validation, [w * m for w, m in zip(weights, masks)])[0]
            if best is None or score < best[0]:
                best = (score, masks, losses)
    _, masks, losses = best
    return MaskedNetwork(
        source, tuple(np.argwhere(m) for m in masks), input_bias, "edge-popup", losses
    )


def _search(weights, ks, candidates, draw, objective, gen, schedule, bar):
    """One edge-popup run from fresh Kaiming-uniform scores: the final masks and the losses.

    ``draw()`` gives a batch, ``objective(batch, effective)`` its loss and upstream gradient,
    ``schedule`` is ``(steps, lr, optimizer)``."""
    steps, lr, optimizer = schedule
    shapes = [w.shape for w in weights]
    scores = [gen.uniform(-1.0, 1.0, shape) / math.sqrt(shape[1]) for shape in shapes]
    first = [np.zeros(shape) for shape in shapes]
    second = [np.zeros(shape) for shape in shapes]
    losses = np.empty(steps)
    for step in range(steps):
        masks = [_top_k(s, k, c) for s, k, c in zip(scores, ks, candidates)]
        effective = [w * m for w, m in zip(weights, masks)]
        loss, upstream = objective(draw(), effective)
        grads = _backward(effective, upstream)
        losses[step] = loss
        rate = lr * 0.5 * (1.0 + math.cos(math.pi * step / steps))
        for j, (s, g, w) in enumerate(zip(scores, grads, weights)):
            g = g * w * np.sign(s)  # straight through the top-k and |s|
            if optimizer == "adam":
                first[j] = 0.9 * first[j] + 0.1 * g
                second[j] = 0.999 * second[j] + 0.001 * g * g
                m_hat = first[j] / (1 - 0.9 ** (step + 1))
                v_hat = second[j] / (1 - 0.999 ** (step + 1))
                s -= rate * m_hat / (np.sqrt(v_hat) + 1e-8)
            else:
                first[j] = 0.9 * first[j] + g
                s -= rate * first[j]
        bar.update()
        if step % LOG_EVERY == 0:
            bar.set_postfix_str(f"loss {loss:.3e}", refresh=False)
    return [_top_k(s, k, c) for s, k, c in zip(scores, ks, candidates)], losses


def _loss(labelled, batch, effective, input_bias):
    """The loss on ``batch`` and what back-propagation needs: distillation on ``(x, F(x))`` when
    ``labelled`` is None, else cross-entropy on ``(x, y)``."""
    x, expected = batch
    if labelled is None:
        return _distillation(expected, x, effective, input_bias)
    return _cross_entropy(expected, x, effective, input_bias)


def _forward(effective, x, input_bias):
    """Activations ``h_0 .. h_{L-1}`` (inputs of every layer) and the output."""
    h = np.hstack([x, np.ones((len(x), 1))]) if input_bias else x
    inputs = []
    for j, w in enumerate(effective):
        inputs.append(h)
        h = h @ w.T
        if j < len(effective) - 1:
            h = np.maximum(h, 0.0)
    return inputs, h


def _distillation(expected, x, effective, input_bias):
    inputs, out = _forward(effective, x, input_bias)
    diff = out - expected
    loss = 0.5 * float(np.mean(np.sum(diff * diff, axis=1)))
    return loss, (inputs, diff / len(x))


def _cross_entropy(y, x, effective, input_bias):
    inputs, logits = _forward(effective, x, input_bias)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    rows = np.arange(len(y))
    loss = -float(np.mean(log_p[rows, y]))
    p = np.exp(log_p)
    p[rows, y] -= 1.0
    return loss, (inputs, p / len(y))


def _backward(effective, upstream):
    """``∂L/∂W_eff`` of every layer by back-propagation."""
    inputs, g = upstream
    grads = [None] * len(effective)
    for j in range(len(effective) - 1, -1, -1):
        grads[j] = g.T @ inputs[j]
        if j:
            g = (g @ effective[j]) * (inputs[j] > 0)
    return grads
