"""A rigorous bound of a ticket's error from a semidefinite relaxation of both networks at once.

The chain bound (:mod:`strong_lth.chain`) lets every ReLU slope range over ``[0, 1]`` on its
own, chain by chain. Here the target and the gadget network are relaxed together, as in the
semidefinite relaxations of ReLU networks (Raghunathan, Steinhardt and Liang, NeurIPS 2018;
LipSDP, Fazlyab et al., NeurIPS 2019): the gadget network's ReLU ``g = σ(y)`` satisfies the
quadratic equation ``g (g - y) = 0``, the gap ``s = σ(y) - σ(z)`` between it and the target's
ReLU satisfies ``s (s - (y - z)) <= 0``, the target's ReLU ``h (h - z) = 0``, and the input's two
halves satisfy ``σ(x)_j σ(-x)_j = 0``. The squared error is a quadratic form in these values, and
a Lagrangian (S-procedure) combination of the constraints proves ``||F(x) - G(x)||² <= c μ
||x̃||²`` whenever one matrix is positive semidefinite (:func:`sdp_bound`). Unlike a sum of chains
of free slopes, the multipliers tie every slope to the same input and the chains' errors are
bounded jointly, which is what the bound needs where every unit is unstable over the ball (the
64-128-64-10 rows of ``benchmarks/bench_pipeline.py``: 2.1 to 2.9 times the measured error where
the chain bound is 4.5 to 5.4).

The multipliers come from a primal barrier method on the dual (Newton steps on
``t μ - log det Z - Σ log m_k``, numpy only); any multipliers that make ``Z`` positive
semidefinite give a valid bound, and the one returned is checked with a rounding margin. A Newton
step costs ``O(K² n + K³)`` (``n`` variables, ``K`` constraints: 2 and 3 per hidden unit), and
the method runs twice (:func:`sdp_bound`): minutes at 64-128-64-10, so it is not among the
default methods (:func:`strong_lth.certify.cheap_methods`); ask for it with ``method="sdp"``.
"""

from __future__ import annotations

import math

import numpy as np

from ._validation import check_real
from .gadgets import error_matrix, signed_inputs
from .lockstep import ROUNDING, check_pairs
from .networks import ReLUNetwork

__all__ = [
    "BARRIER_GROWTH",
    "GAP",
    "MIXTURES",
    "NEWTON_STEPS",
    "STAGES",
    "START_ROUNDS",
    "relaxation",
    "sdp_bound",
    "sdp_cost",
]

GAP = 1e-3
"""Relative duality gap at which the barrier method stops (the bound is then within about this
much of the relaxation's optimum)."""

NEWTON_STEPS, STAGES, BARRIER_GROWTH = 60, 30, 16.0
"""Newton steps per barrier stage at most, stages at most, and the growth of the barrier weight
``t`` between stages. Deterministic; the bound is valid after any number of steps."""

START_ROUNDS = 400
"""Rounds of the barrier's start when no common scale of the first multipliers makes ``Z``'s
hidden block positive definite (deep targets with biases): each multiplies by 4 the multipliers
whose constraint curves ``Z`` up along its least eigenvector. Without a start the bound is
``inf``."""


def relaxation(weights, pairs, input_bias: bool):
    """The quadratic forms of the relaxation, on the variables
    ``w = [σ(x̃); σ(-x̃)_S; g_1; s_1 / κ_1; ...; g_{l-1}; s_{l-1} / κ_{l-1}]``.

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
    out : ndarray, shape (d_l, n)
        ``G(x) - F(x) = out w``.
    a, b : ndarray, shape (K, n)
        Constraint k reads ``(a_k · w)(b_k · w) = 0`` (equations) or ``<= 0`` (inequalities).
    inequality : ndarray of bool, shape (K,)
    inputs : ndarray of bool, shape (n,)
        The variables ``σ(x̃)``, ``σ(-x̃)_S``, whose squared norm is ``||x̃||²``.
    scales : ndarray, shape (n,)
        Each variable is a hidden value divided by its scale (1, or ``κ_i`` for ``s_i``).
    primary : ndarray of bool, shape (K,)
        The constraints of the basic relaxation: all but the target's equations
        ``h_i (h_i - z_i) = 0`` (:func:`sdp_bound` solves both relaxations).

    Notes
    -----
    ``g_i = σ(y_i)`` and ``h_i = σ(z_i) = g_i - s_i`` are the hidden values of the gadget network
    and of the target (notation of :func:`strong_lth.chain.chain_bound`): ``y_1 = A_1 σ(x̃) -
    B_1 σ(-x̃)_S``, ``z_1 = W_1 x̃``, ``y_i = A_i g_{i-1}``, ``z_i = W_i h_{i-1}``, and
    ``δ_i = y_i - z_i``. The constraints, entrywise: ``σ(x̃)_j σ(-x̃)_j = 0`` (j in S),
    ``g_i (g_i - y_i) = 0``, ``s_i (s_i - δ_i) <= 0`` and ``h_i (h_i - z_i) = 0`` (proofs in
    :func:`sdp_bound`). ``κ_i > 0`` (the one-sided spectral recursion's error after layer i,
    :func:`strong_lth.certify.certified_error`) only rescales variables, so that all are of the
    same order at the worst case.
    """
    signed = signed_inputs(1, weights[0].shape[1], input_bias)
    d = [weights[0].shape[1], int(signed.sum())] + [w.shape[0] for w in weights[:-1] for _ in "gs"]
    n = sum(d)
    starts = np.concatenate([[0], np.cumsum(d)])

    def block(j):
        out = np.zeros((d[j], n))
        out[np.arange(d[j]), starts[j] + np.arange(d[j])] = 1.0
        return out

    p, q = block(0), block(1)
    kappa = _scales(weights, pairs, input_bias)
    x = p - np.eye(d[0])[:, signed] @ q
    y = pairs[0][0] @ p - pairs[0][1][:, signed] @ q
    z = weights[0] @ x
    a, b, inequality = [p[signed]], [q], [False] * int(signed.sum())
    primary = [True] * int(signed.sum())
    for i in range(1, len(weights)):
        g, s = block(2 * i), kappa[i - 1] * block(2 * i + 1)
        h = g - s
        a += [g, s, h]
        b += [g - y, s - (y - z), h - z]
        inequality += [False] * len(g) + [True] * len(s) + [False] * len(h)
        primary += [True] * (2 * len(g)) + [False] * len(h)
        y, z = pairs[i][0] @ g, weights[i] @ h
    inputs = np.zeros(n, dtype=bool)
    inputs[: starts[2]] = True
    scales = np.ones(n)
    for i in range(1, len(weights)):
        scales[starts[2 * i + 1] : starts[2 * i + 2]] = kappa[i - 1]
    return (
        y - z,
        np.vstack(a),
        np.vstack(b),
        np.array(inequality),
        inputs,
        scales,
        np.array(primary),
    )


def _scales(weights, pairs, input_bias):
    """``κ_i``: the one-sided spectral recursion's error after layer i (1 where it is 0)."""
    out, error, reach = [], 0.0, 1.0
    for i, (w, (a, b)) in enumerate(zip(weights, pairs), start=1):
        tau = float(
            np.linalg.norm(error_matrix(w, a, b, signed_inputs(i, w.shape[1], input_bias)), 2)
        )
        norm = float(np.linalg.norm(w, 2))
        error, reach = tau * (reach + error) + norm * error, reach * norm
        out.append(error if error > 0 else 1.0)
    return out


def sdp_cost(widths) -> float:
    """Estimated multiply-adds of :func:`sdp_bound` on a target of these widths: about
    ``2 STAGES / 3`` stages of ``NEWTON_STEPS / 3`` Newton steps, each ``4 K n² + K³`` with
    ``n = 2 d_0 + 2 Σ_{i<l} d_i`` variables and ``K = d_0 + 3 Σ_{i<l} d_i`` constraints, for
    each of the two runs.

    Examples
    --------
    >>> f"{sdp_cost((64, 128, 64, 10)):.2g}"
    '7.5e+11'
    """
    d = [int(w) for w in widths]
    n = 2 * d[0] + 2 * sum(d[1:-1])
    k = d[0] + 3 * sum(d[1:-1])
    return float(2 * (2 * STAGES // 3) * (NEWTON_STEPS // 3) * (4 * k * n * n + k**3))


def _slack(c0, a, b, m, mu, inputs):
    """``Z = μ N - C_0 + Σ_k m_k sym(a_k b_k^T)``, ``N`` the identity on the input variables."""
    t = a.T @ (m[:, None] * b)
    z = (t + t.T) / 2 - c0
    z[inputs, inputs] += mu
    return z


def _barrier(c0, a, b, inequality, inputs):
    """Multipliers ``(μ, m)`` with ``Z = μ N - C_0 + Σ m_k sym(a_k b_k^T)`` positive definite and
    ``m_k >= 0`` on the inequalities, ``μ`` near its least value: a primal barrier method on
    ``t μ - log det Z - Σ_{inequalities} log m_k``. Returns the iterate at the end of every
    stage (the caller checks each, and mixtures of them: :func:`_candidates`)."""
    k = len(a)
    hidden = ~inputs
    m = 1.0 / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-300)
    for scale in 2.0 ** np.arange(-40, 80):  # Z's hidden block positive definite
        if _positive(_slack(c0, a, b, scale * m, 0.0, inputs)[np.ix_(hidden, hidden)]):
            m = scale * m
            break
    else:  # no common scale: grow the multipliers that curve Z up along its worst direction
        for _ in range(START_ROUNDS):
            block = _slack(c0, a, b, m, 0.0, inputs)[np.ix_(hidden, hidden)]
            if _positive(block):
                break
            worst = np.zeros(len(inputs))
            worst[hidden] = np.linalg.eigh(block)[1][:, 0]
            m = m * np.where((a @ worst) * (b @ worst) > 0, 4.0, 1.0)
        else:
            return []
    mu = max(1.0, -2.0 * float(np.linalg.eigvalsh(_slack(c0, a, b, m, 0.0, inputs))[0]))
    while not _positive(_slack(c0, a, b, m, mu, inputs)):
        mu *= 2.0
    count = int(inputs.sum() + inequality.sum())
    weight = count / mu

    def potential(m, mu):
        if np.any(m[inequality] <= 0):
            return math.inf
        try:
            chol = np.linalg.cholesky(_slack(c0, a, b, m, mu, inputs))
        except np.linalg.LinAlgError:
            return math.inf
        return weight * mu - 2 * np.log(np.diag(chol)).sum() - np.log(m[inequality]).sum()

    stages = []
    for _ in range(STAGES):
        for _ in range(NEWTON_STEPS):
            x = np.linalg.inv(_slack(c0, a, b, m, mu, inputs))
            x = (x + x.T) / 2
            xa, xb, xn = a @ x, b @ x, x[:, inputs]
            axb = xa @ b.T
            hessian = np.empty((k + 1, k + 1))
            hessian[:k, :k] = 0.5 * (axb * axb.T + (xa @ a.T) * (xb @ b.T))
            barrier = np.where(inequality, 1.0 / np.where(inequality, m, 1.0), 0.0)  # Σ log m_k
            hessian[:k, :k][np.diag_indices(k)] += barrier**2
            hessian[:k, k] = hessian[k, :k] = np.einsum("kn,kn->k", a @ xn, b @ xn)
            hessian[k, k] = float(np.sum(xn[inputs] ** 2))
            gradient = np.append(
                -np.einsum("kn,kn->k", xa, b) - barrier,
                weight - float(np.trace(xn[inputs])),
            )
            jacobi = 1.0 / np.sqrt(np.maximum(np.diag(hessian), 1e-300))  # the rows' scales
            try:
                step = -jacobi * np.linalg.solve(
                    hessian * np.outer(jacobi, jacobi), jacobi * gradient
                )
            except np.linalg.LinAlgError:
                break
            decrement = -float(gradient @ step)
            if not decrement > 1e-9:
                break
            start, length = potential(m, mu), 1.0
            while length > 1e-12:
                if potential(m + length * step[:k], mu + length * step[k]) <= (
                    start - 0.25 * length * decrement
                ):
                    break
                length *= 0.5
            else:
                break
            m, mu = m + length * step[:k], mu + length * step[k]
        stages.append((mu, m.copy()))
        if count / weight <= GAP * mu:
            break
        weight *= BARRIER_GROWTH
    return stages


MIXTURES = (0.5, 0.9, 0.99, 0.999)
"""Weights ``θ`` of the last stage in the mixtures ``θ (μ, m)_last + (1 - θ) (μ, m)_j`` with an
earlier stage j that :func:`sdp_bound` also checks: near the optimum ``Z`` is nearly singular and
may fail the rounding check, while a mixture keeps ``(1 - θ)`` of stage j's margin (``Z`` is
affine in the multipliers) at nearly the last ``μ``."""


def _candidates(stages):
    """The barrier's stage iterates and their mixtures with the last (:data:`MIXTURES`)."""
    yield from stages
    if stages:
        last_mu, last_m = stages[-1]
        for mu, m in stages[:-1]:
            for theta in MIXTURES:
                yield theta * last_mu + (1 - theta) * mu, theta * last_m + (1 - theta) * m


def _solved(c0, a, b, inequality, inputs, rows):
    """:func:`_barrier` on the constraints ``rows`` only, its multipliers padded with zeros."""
    out = []
    for mu, m in _barrier(c0, a[rows], b[rows], inequality[rows], inputs):
        full = np.zeros(len(a))
        full[rows] = m
        out.append((mu, full))
    return out


def _accepted(c0, magnitude, a, b, inequality, inputs, m, mu):
    """Whether the exact ``Z`` of ``(μ, m)`` is proven positive semidefinite (the check of
    :func:`sdp_bound`): ``μ >= 0``, ``m >= 0`` on the inequalities, and the least computed
    eigenvalue of ``Z`` at least ``4 γ S``."""
    if not (mu >= 0 and np.all(m[inequality] >= 0)):
        return False
    t = np.abs(a).T @ (np.abs(m)[:, None] * np.abs(b))
    absolute = magnitude + (t + t.T) / 2
    absolute[inputs, inputs] += mu
    z = _slack(c0, a, b, m, mu, inputs)
    gamma = (len(a) + len(z) + 8) * 2.0**-53
    return float(np.linalg.eigvalsh(z)[0]) >= 4 * gamma * float(np.linalg.norm(absolute))


def _positive(matrix):
    if matrix.size == 0:
        return True
    try:
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        return False
    return True


def sdp_bound(target: ReLUNetwork, pairs, *, radius: float) -> float:
    """A proven upper bound of ``sup_{||x||_2 <= radius} ||F(x) - G(x)||_2`` from a semidefinite
    relaxation of both networks.

    Parameters
    ----------
    target : ReLUNetwork
        The target ``F`` (depth l, biases allowed).
    pairs : list of (ndarray, ndarray)
        ``(A_i, B_i)`` of the gadget network ``G`` (:func:`strong_lth.gadgets.gadget_form`).
    radius : float
        The ball's radius, > 0.

    Returns
    -------
    float
        ``ρ sqrt(c μ) (1 + ROUNDING)`` for the least ``μ`` among the barrier's iterates and their
        mixtures (:func:`_candidates`) whose matrix ``Z`` passes the check below (``inf`` if none
        does), ``ρ = radius`` (``sqrt(radius² + 1)`` with biases),
        ``c`` the normalisation of the objective.

    Raises
    ------
    InvalidParameterError
        If ``radius`` or ``pairs`` is invalid.

    Notes
    -----
    Proof. Let ``w`` be the variables of :func:`relaxation` at an input ``x`` of the ball (with
    its hidden values in both networks), ``F(x) - G(x) = -out w``, and ``N`` the identity on the
    input variables ``[σ(x̃); σ(-x̃)_S]``, so ``w^T N w = ||σ(x̃)||² + ||σ(-x̃)_S||² = ||x̃||² <=
    ρ²`` (disjoint supports; the constant input is never negative). Every constraint of
    :func:`relaxation` holds at ``w``: ``σ(x̃)_j σ(-x̃)_j = 0``; ``v (v - u) = 0`` for
    ``v = σ(u)`` (``v = 0`` or ``v = u``); and ``s = σ(y) - σ(z)`` lies between 0 and ``y - z``
    (ReLU is monotone and 1-Lipschitz), so ``s (s - (y - z)) <= 0``. Let ``C_0 = out^T out / c``
    and suppose ``Z = μ N - C_0 + Σ_k m_k sym(a_k b_k^T)`` is positive semidefinite, with
    ``m_k >= 0`` for the inequalities. Then

    ``||out w||² / c = w^T C_0 w = μ w^T N w + Σ_k m_k (a_k·w)(b_k·w) - w^T Z w <= μ ρ²``,

    since every equation's term is 0, every inequality's is ``m_k`` times a number ``<= 0``, and
    ``w^T Z w >= 0``. So ``||F(x) - G(x)|| <= ρ sqrt(c μ)`` for every ``x`` of the ball.

    Check. ``Z`` is formed in float64 from the float64 multipliers; the exact ``Z`` (exact
    arithmetic on the same numbers: the inputs ``A_i``, ``B_i``, ``W_i``, ``κ_i`` and the
    multipliers) differs from it entrywise by at most ``γ = (K + n + 8) u`` (``u = 2^-53``)
    times ``|C_0| + Σ |m_k| sym(|a_k| |b_k|^T) + μ N`` (each entry is a sum of at most
    ``K + n`` products of entries of ``a``, ``b`` and ``out``, which are the inputs, their
    products by ``κ_i`` or differences of those, each rounded at most a few times), so in the
    2-norm by at most ``γ`` times that matrix's Frobenius norm ``S``; a computed eigenvalue of a
    symmetric matrix errs by at most ``γ ||Z||_F <= γ S`` (LAPACK's backward-stable
    ``syevd``). ``Z`` is accepted when its least computed eigenvalue is at least ``4 γ S``;
    then the exact ``Z`` is positive semidefinite. The final products and the square root err by
    a few ulps, inside the factor ``1 + ROUNDING``.

    The multipliers: :func:`_barrier` (any multipliers give a valid bound; the barrier method
    only makes ``μ`` small), run twice: without the target's equations ``h (h - z) = 0`` (their
    multipliers 0) and with them. Those differ from the gadget network's ``g (g - y) = 0`` by
    terms of the order of the error, which makes the second run's Newton systems ill-conditioned
    at small errors: on the 64-128-64-10 tickets the first run gives the bound at ε = 0.001 (the
    second stalls at 17 times it) and the second at ε = 0.1 (4% below the first). The optimum
    is that of the Shor relaxation of the quadratic program ``max ||out w||²`` under these
    constraints (its Lagrangian dual).

    Examples
    --------
    >>> from strong_lth import ReLUNetwork, approximate
    >>> from strong_lth._certify import rigorous_bounds
    >>> from strong_lth.gadgets import gadget_form
    >>> target = ReLUNetwork.random((3, 4, 2), rng=0)
    >>> pairs = gadget_form(target, approximate(target, values_per_input=20, rng=1))
    >>> spectral = rigorous_bounds(target, pairs, radius=1.0, methods="spectral")["spectral"]
    >>> bool(sdp_bound(target, pairs, radius=1.0) <= spectral)
    True
    """
    radius = check_real("radius", radius, low=0.0, low_open=True)
    weights = list(target.augmented().weights)
    pairs = check_pairs(weights, pairs)
    rho = math.hypot(radius, 1.0) if target.has_bias else radius
    out, a, b, inequality, inputs, _, primary = relaxation(weights, pairs, target.has_bias)
    scale = float(np.sum(out**2))
    if scale == 0.0:
        return 0.0
    c0 = out.T @ out / scale
    magnitude = np.abs(out).T @ np.abs(out) / scale
    best = math.inf
    for rows in (primary, np.ones(len(a), dtype=bool)):
        for mu, m in _candidates(_solved(c0, a, b, inequality, inputs, rows)):
            if mu < best and _accepted(c0, magnitude, a, b, inequality, inputs, m, mu):
                best = mu
    bound = rho * math.sqrt(scale * best) * (1 + ROUNDING)
    return math.inf if math.isnan(bound) else bound
