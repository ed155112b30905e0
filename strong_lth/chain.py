"""A rigorous bound of a ticket's error as a sum of matrix chains through ReLU slopes.

The difference ``δ_l = G(x) - F(x)`` of a gadget network and its target is a sum, over the layer
pairs k, of that pair's own error pushed through the later layers. Every ReLU on the way acts
as a diagonal matrix of "slopes" in ``[0, 1]`` (ReLU is monotone and 1-Lipschitz), so each
summand is a product of fixed matrices interleaved with unknown diagonal matrices. The spectral
recursion (:func:`strong_lth.certify.certified_error`) bounds each product by the product of
the norms; :func:`chain_bound` bounds it far more tightly, in two ways that both use that the
unknown matrices are diagonal:

- a diagonal ``D`` with entries in ``[0, 1]`` is ``½ (I + Σ)`` with ``|Σ| <= I``: half of every
  product is the plain matrix product, whose norm is much smaller than the product of the norms
  when the factors' singular vectors do not align (as for independent random layers);
- a diagonal matrix commutes with any positive diagonal scaling ``S``, so ``||X Σ Y||_2 <=
  ||X S||_2 ||S^{-1} Y||_2`` for every ``S`` (the diagonal scaling of Lipschitz bounds, e.g.
  LipSDP, Fazlyab et al., NeurIPS 2019), which absorbs a few hard entries of an error matrix
  into the columns of the layer above, whose norms are small.

Only numpy is used: the scalings are chosen by a deterministic descent on the logarithm of the
product of norms (any scaling gives a valid bound; the descent only makes it small) and the final
norms are computed from the eigenvalues of Gram matrices, then moved outward by
:data:`strong_lth.lockstep.ROUNDING`.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ._validation import check_int, check_real
from .gadgets import error_matrix, signed_inputs
from .lockstep import ROUNDING, check_pairs
from .networks import ReLUNetwork

__all__ = ["POWER_STEPS", "SCALING_STEPS", "chain_bound", "chain_cost", "chain_norm", "chains"]

SCALING_STEPS = 60
"""Descent steps per product in the choice of the diagonal scalings. Deterministic; more steps
can only lower the bound (the best scaling seen is kept, the unscaled one included)."""

POWER_STEPS = 3
"""Power-iteration steps per descent step (warm-started) for the top singular vectors that give
the descent's direction; the norms of the bound itself are computed exactly."""


LOG_LIMIT = 30.0
"""Largest ``|log s|`` of a scaling entry, so that scaled matrices stay far from overflow."""


def chains(weights, pairs, input_bias: bool):
    """The products whose norms :func:`chain_bound` adds, each as a list of matrices.

    Parameters
    ----------
    weights : list of ndarray
        The bias-augmented target's weights ``W_1, ..., W_l``.
    pairs : list of (ndarray, ndarray)
        ``(A_i, B_i)`` of the gadget network.
    input_bias : bool
        The last input is the constant 1 (never negative).

    Returns
    -------
    list of list of ndarray
        For pair 1: ``[W_l, ..., W_2, Δ_1]``; for every later pair k, two chains,
        ``[W_l, ..., W_{k+1}, Δ_k, A_{k-1}, ..., A_2, W_1]`` and the same ending in ``Δ_1``
        (``Δ_k`` the one-sided error of :func:`strong_lth.gadgets.error_matrix`). Between two
        consecutive matrices of a chain there is, in the network, an unknown diagonal matrix
        with entries in ``[0, 1]`` (proof in :func:`chain_bound`).
    """
    deltas = [
        error_matrix(w, a, b, signed_inputs(i, w.shape[1], input_bias))
        for i, (w, (a, b)) in enumerate(zip(weights, pairs), start=1)
    ]
    matrices = {"W": weights, "A": [a for a, _ in pairs], "Δ": deltas}
    return [[matrices[kind][i] for kind, i in chain] for chain in _layout(len(weights))]


def _layout(depth):
    """The chains of :func:`chains` as ``(kind, 0-based layer)`` lists, kind "W", "A" or "Δ"."""
    out = []
    for k in range(1, depth + 1):
        head = [("W", j) for j in range(depth - 1, k - 1, -1)] + [("Δ", k - 1)]
        if k == 1:
            out.append(head)
        else:
            middle = [("A", j) for j in range(k - 2, 0, -1)]
            out += [head + middle + [("W", 0)], head + middle + [("Δ", 0)]]
    return out


def _groupings(count):
    """Every way to keep or merge the ``count - 1`` junctions of a chain of ``count`` factors:
    lists of ``[first, last]`` index ranges of the merged groups."""
    for keep in itertools.product((False, True), repeat=count - 1):
        groups = [[0, 0]]
        for j, kept in enumerate(keep, start=1):
            if kept:
                groups.append([j, j])
            else:
                groups[-1][1] = j
        yield groups


def chain_cost(widths) -> float:
    """Estimated multiply-adds of :func:`chain_bound` on a target of these widths: the
    descent's matrix-vector products, ``2 SCALING_STEPS POWER_STEPS`` per step and factor of
    every product with at least two factors (the final norms, a few Gram matrices, run at
    matrix-product speed and cost less).

    Examples
    --------
    >>> f"{chain_cost((784, 500, 10)):.2g}"
    '7.1e+08'
    """
    d = [int(w) for w in widths]
    shapes = [(d[i + 1], d[i]) for i in range(len(d) - 1)]

    def shape(kind, i):  # Δ_1 also has a column per signed input
        return (d[1], 2 * d[0]) if (kind, i) == ("Δ", 0) else shapes[i]

    chain_shapes = [[shape(*token) for token in chain] for chain in _layout(len(shapes))]
    total = 0
    for chain in chain_shapes:
        for groups in _groupings(len(chain)):
            if len(groups) > 1:
                total += sum(chain[a][0] * chain[b][1] for a, b in groups)
    return float(2 * SCALING_STEPS * POWER_STEPS * total)


def _top(matrix, v):
    """Approximate top singular triplet ``(σ, u, v)`` by warm-started power iteration."""
    for _ in range(POWER_STEPS):
        u = matrix @ v
        norm = np.linalg.norm(u)
        if norm == 0.0:
            return 0.0, np.zeros(matrix.shape[0]), v
        u /= norm
        v = matrix.T @ u
        sigma = float(np.linalg.norm(v))
        v /= sigma
    return sigma, u, v


def _scale(factors, logs):
    """``S_{j-1}^{-1} M_j S_j`` with ``S_j = diag(exp(logs[j-1]))`` between factors j, j+1."""
    out = []
    for j, m in enumerate(factors):
        if j > 0:
            m = np.exp(-logs[j - 1])[:, None] * m
        if j < len(factors) - 1:
            m = m * np.exp(logs[j])[None, :]
        out.append(m)
    return out


def _spectral(matrix):
    """``||M||_2`` from the largest eigenvalue of the smaller Gram matrix (floating point; the
    caller's margin covers the rounding)."""
    if matrix.size == 0:
        return 0.0
    gram = matrix @ matrix.T if matrix.shape[0] <= matrix.shape[1] else matrix.T @ matrix
    return math.sqrt(max(float(np.linalg.eigvalsh(gram)[-1]), 0.0))


def _scaled_product(groups, steps):
    """``(Π_j ||S_{j-1}^{-1} N_j S_j||_2, rounding scale)`` at the best scalings found, where
    ``N_j`` is the product of ``groups[j]``: the first bounds
    ``sup ||N_1 Σ_1 N_2 ... Σ_{p-1} N_p||_2`` over diagonal ``|Σ_j| <= I``. The second is
    ``Π_j`` of the Frobenius norms of the group's factors, the first one scaled by
    ``S_{j-1}^{-1}`` and the last by ``S_j``: it bounds the absolute terms of every product.

    The descent moves ``log S_j`` against the gradient of the logarithm of the product of the
    top singular values, ``v_j² - u_{j+1}²`` (squared right singular vector of factor j minus
    squared left singular vector of factor j + 1), with a geometrically decreasing step."""
    factors = [_product(group) for group in groups]
    logs = [np.zeros(m.shape[1]) for m in factors[:-1]]
    best_logs = [x.copy() for x in logs]
    if len(factors) > 1:
        vs = [np.full(m.shape[1], 1.0 / math.sqrt(m.shape[1])) for m in factors]
        best = math.inf
        for step in range(steps):
            value, us = 1.0, []
            for j, m in enumerate(_scale(factors, logs)):
                sigma, u, vs[j] = _top(m, vs[j])
                value *= sigma
                us.append(u)
            if value < best:
                best, best_logs = value, [x.copy() for x in logs]
            rate = 0.93**step
            for j, x in enumerate(logs):
                x -= rate * math.sqrt(len(x)) * (vs[j] ** 2 - us[j + 1] ** 2)
                np.clip(x, -LOG_LIMIT, LOG_LIMIT, out=x)
    value = math.prod(_spectral(m) for m in _scale(factors, best_logs))
    if len(factors) > 1 and not value <= math.prod(_spectral(m) for m in factors):
        # the descent ranks scalings by estimated norms: never end above the unscaled product
        # (nor on an overflow)
        best_logs = [np.zeros_like(x) for x in best_logs]
        value = math.prod(_spectral(m) for m in factors)
    absolute = 1.0
    for j, group in enumerate(groups):
        ends = [np.ones(group[0].shape[0]), np.ones(group[-1].shape[1])]
        if j > 0:
            ends[0] = np.exp(-best_logs[j - 1])
        if j < len(groups) - 1:
            ends[1] = np.exp(best_logs[j])
        scaled = list(group)
        scaled[0] = ends[0][:, None] * scaled[0]
        scaled[-1] = scaled[-1] * ends[1][None, :]
        absolute *= math.prod(float(np.linalg.norm(m)) for m in scaled)
    return value, absolute


def _product(group):
    out = group[0]
    for m in group[1:]:
        out = out @ m
    return out


def chain_norm(factors, steps: int = SCALING_STEPS) -> tuple[float, float]:
    """An upper bound of ``sup ||M_1 D_1 M_2 ... D_{q-1} M_q||_2`` over diagonal matrices
    ``0 <= D_j <= I``, and a bound of the absolute terms behind it (for the rounding margin).

    Writes every ``D_j = ½ (I + Σ_j)`` and adds, over the ``2^{q-1}`` choices of keeping
    ``Σ_j`` or merging the two neighbours into their product, ``2^{1-q}`` times the best scaled
    product of norms (:func:`_scaled_product`). A chain with an empty factor (a layer with no
    unit, e.g. no copy read) is the empty map: ``(0, 0)``."""
    q = len(factors)
    if any(0 in m.shape for m in factors):
        return 0.0, 0.0
    total = absolute = 0.0
    for groups in _groupings(q):
        value, scale = _scaled_product([factors[a : b + 1] for a, b in groups], steps)
        total += value
        absolute += scale
    return total / 2 ** (q - 1), absolute / 2 ** (q - 1)


def chain_bound(target: ReLUNetwork, pairs, *, radius: float, steps: int = SCALING_STEPS) -> float:
    """A proven upper bound of ``sup_{||x||_2 <= radius} ||F(x) - G(x)||_2`` as a sum of chains.

    Parameters
    ----------
    target : ReLUNetwork
        The target ``F`` (depth l, biases allowed).
    pairs : list of (ndarray, ndarray)
        ``(A_i, B_i)`` of the gadget network ``G`` (:func:`strong_lth.gadgets.gadget_form`).
    radius : float
        The ball's radius, > 0.
    steps : int, default SCALING_STEPS
        Descent steps for each product's diagonal scalings (any number gives a valid bound).

    Returns
    -------
    float
        ``ρ Σ_c chain_norm(c)`` over the chains ``c`` of :func:`chains`, ``ρ = radius``
        (``sqrt(radius² + 1)`` with biases), moved outward by ``ROUNDING (value + S)``, ``S``
        the same sum taken with Frobenius norms (which bounds the absolute terms).

    Raises
    ------
    InvalidParameterError
        If ``radius``, ``steps`` or ``pairs`` is invalid.

    Notes
    -----
    Proof. Notation of :mod:`strong_lth.lockstep` on the bias-augmented target: ``x̃`` the input
    (``[x, 1]`` with biases, ``||x̃|| <= ρ``), ``z_i = W_i h_{i-1}``, ``h_i = σ(z_i)``,
    ``h_0 = x̃``; pair i of ``G`` computes ``y_i = A_i σ(g_{i-1}) - B_i σ(-g_{i-1})``,
    ``g_i = σ(y_i)``, ``g_0 = x̃``; ``δ_i = y_i - z_i``, and ``F(x) - G(x) = -δ_l``.

    1. Pair errors. With ``u_1 = [σ(x̃); σ(-x̃)_S]`` (``S`` the inputs that can be negative)
       and ``Δ_i`` the one-sided error of :func:`strong_lth.gadgets.error_matrix`,
       ``y_1 = W_1 x̃ + Δ_1 u_1``, and for ``i >= 2`` (``g_{i-1} >= 0``, so
       ``σ(-g_{i-1}) = 0``) ``y_i = A_i g_{i-1} = W_i g_{i-1} + Δ_i g_{i-1}``. Since
       ``σ(x̃)`` and ``σ(-x̃)`` have disjoint supports, ``||u_1|| <= ||x̃|| <= ρ``.
    2. Slopes. For reals ``a, b``, ``σ(a) - σ(b) = d (a - b)`` with ``d ∈ [0, 1]`` (ReLU is
       monotone and 1-Lipschitz), and ``σ(a) = d a`` with ``d ∈ {0, 1}``. Hence
       ``g_i - h_i = D_i δ_i`` and ``g_i = D'_i y_i`` for diagonal ``0 <= D_i, D'_i <= I``
       depending on ``x``.
    3. Unrolling. ``δ_i = W_i (g_{i-1} - h_{i-1}) + Δ_i g_{i-1} = W_i D_{i-1} δ_{i-1} +
       Δ_i g_{i-1}`` for ``i >= 2`` and ``δ_1 = Δ_1 u_1``, so
       ``δ_l = Σ_k W_l D_{l-1} ... W_{k+1} D_k Δ_k v_k`` with ``v_1 = u_1`` and, for
       ``k >= 2``, ``v_k = g_{k-1} = D'_{k-1} A_{k-1} ... D'_2 A_2 D'_1 (W_1 x̃ + Δ_1 u_1)``.
       So ``δ_l`` is a sum of the products of :func:`chains`, with diagonal matrices in
       ``[0, I]`` between consecutive factors, each applied to ``x̃`` or ``u_1`` (norm at
       most ``ρ``), and ``||δ_l|| <= ρ Σ_c sup_D ||c(D)||_2`` (triangle inequality).
    4. One chain. Write each ``D_j = ½ (I + Σ_j)`` with ``Σ_j = 2 D_j - I``, diagonal with
       entries in ``[-1, 1]``. Multiplying out gives ``2^{q-1}`` products, each ``2^{1-q}``
       times the chain with some ``Σ_j`` kept and the other neighbours multiplied together
       (``M_j I M_{j+1} = M_j M_{j+1}``). For one such product ``N_1 Σ N_2 ... Σ N_p`` and any
       positive diagonal ``S_1, ..., S_{p-1}``: ``Σ S_j = S_j Σ`` (diagonal matrices commute),
       so the product equals ``(N_1 S_1) Σ (S_1^{-1} N_2 S_2) ... Σ (S_{p-1}^{-1} N_p)``, and
       with ``||Σ||_2 <= 1`` its norm is at most ``Π_j ||S_{j-1}^{-1} N_j S_j||_2``
       (``S_0 = S_p = I``). The triangle inequality over the ``2^{q-1}`` products bounds the
       chain by :func:`chain_norm`.

    With every scaling ``S = I`` this is at most the spectral recursion: ``½ (||X Y|| +
    ||X|| ||Y||) <= ||X|| ||Y||`` for each centred diagonal, ``||A_j|| <= ||W_j|| + τ_j``, and
    ``R_j + e_j = (||W_j|| + τ_j)(R_{j-1} + e_{j-1})`` bounds the norms of the chains' tails;
    each product ends at a scaling no worse than ``S = I``, so the bound never exceeds the
    spectral recursion beyond rounding.

    Rounding: each norm is ``sqrt`` of the largest eigenvalue of a Gram matrix; the matrix
    products and the Gram matrix err by at most ``n u`` times the product of the factors'
    absolute values (``u = 2^-53``), whose norm is at most the product of their Frobenius norms,
    and the eigenvalue by ``O(n u)`` of the Gram matrix's norm; the scalings err by ``u``
    relatively per entry. All of this is below ``ROUNDING (value + S)`` for inner dimensions
    times depth up to about ``10^7`` (as in :data:`strong_lth.lockstep.ROUNDING`).

    Examples
    --------
    >>> from strong_lth import ReLUNetwork, approximate
    >>> from strong_lth._certify import rigorous_bounds
    >>> from strong_lth.gadgets import gadget_form
    >>> target = ReLUNetwork.random((3, 4, 2), rng=0)
    >>> pairs = gadget_form(target, approximate(target, values_per_input=20, rng=1))
    >>> spectral = rigorous_bounds(target, pairs, radius=1.0, methods="spectral")["spectral"]
    >>> bool(chain_bound(target, pairs, radius=1.0) <= spectral)
    True
    """
    radius = check_real("radius", radius, low=0.0, low_open=True)
    steps = check_int("steps", steps, low=0)
    weights = list(target.augmented().weights)
    pairs = check_pairs(weights, pairs)
    rho = math.hypot(radius, 1.0) if target.has_bias else radius
    value = absolute = 0.0
    for chain in chains(weights, pairs, target.has_bias):
        norm, frobenius = chain_norm(chain, steps)
        value += norm
        absolute += frobenius
    bound = rho * (value + ROUNDING * (value + absolute))
    return math.inf if math.isnan(bound) else bound  # never a NaN that every check would pass
