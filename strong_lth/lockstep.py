"""Rigorous bounds that follow the difference of a target and its gadget network in lockstep.

A ticket's gadget network ``G`` (pair i: ``y_i = A_i σ(g_{i-1}) - B_i σ(-g_{i-1})``,
``g_i = σ(y_i)``, :func:`strong_lth.gadgets.gadget_form`) is compared with its target ``F``
(``z_i = W_i h_{i-1}``, ``h_i = σ(z_i)``, ``h_0 = x̃`` the input, with a constant 1 appended when
the target has biases) the way differential verifiers compare two close networks (ReluDiff,
Paulsen et al., ICSE 2020; NeuroDiff, Paulsen et al., ASE 2020; VeryDiff, Teuber et al. 2024):
the difference ``δ_i = y_i - z_i`` is carried as its own quantity, with its own linear
relaxations, instead of being recovered as the small difference of two loose bounds.

Every bound here is a linear bound back-substituted to the input (DeepPoly, Singh et al., POPL
2019; CROWN, Zhang et al., NeurIPS 2018) and concretised over the input domain: a box, the ℓ2
ball ``||x||_2 <= r``, or their intersection (the smaller of the two concretisations). The
first pair is handled exactly: every quantity of layer 1 is linear in ``[σ(x̃); σ(-x̃)]``, and the
supremum of ``p·σ(x) + q·σ(-x)`` is ``Σ_j max(f_j(lo_j), f_j(hi_j), f_j(0))`` over a box (each
``f_j(t) = p_j σ(t) + q_j σ(-t)`` is linear on either side of 0; ``f_j(0)`` counts when
``lo_j <= 0 <= hi_j``) and ``r ||max(p, q, 0)||_2`` over the ball (each ``x_j`` picks its
sign, then Cauchy-Schwarz).

:func:`unit_bounds` gives per-unit intervals of ``z_i``, ``y_i`` and ``δ_i``; :func:`error_bound`
the certificate ``sup ||F(x) - G(x)||`` over a domain, optionally splitting a low-dimensional
input box into sub-boxes.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np

from ._validation import check_real
from .exceptions import InvalidParameterError
from .gadgets import error_matrix, gadget_network, signed_inputs
from .networks import ReLUNetwork

__all__ = [
    "ROUNDING",
    "SPLIT_TOLERANCE",
    "LayerBounds",
    "check_pairs",
    "cross_tighten",
    "error_bound",
    "unit_bounds",
]

SPLIT_TOLERANCE = 1e-3
""":func:`error_bound` stops splitting once its bound is within this relative distance of the
error attained at a sub-box centre (the truth lies in between)."""

ROUNDING = 1e-8
"""Outward rounding margin. Every bound is computed in float64 and then moved outward by
``ROUNDING (|bound| + S)``, where ``S`` bounds the sum of the absolute values of every term the
bound adds (a forward pass of absolute weights and magnitudes). A float64 dot product of ``n``
terms errs by at most ``n u Σ|terms|`` (``u = 2^-53``); a bound here is a chain of at most
``2 l + 2`` such products and norms, so ``ROUNDING`` covers inner dimensions times depth up to
about ``10^7``, with the relative error of the Euclidean and spectral norms (``O(n u)``)
inside it."""


@dataclass(frozen=True, eq=False)
class LayerBounds:
    """Rigorous per-unit intervals of target layer i and of its gadget pair.

    All arrays have shape ``(d_i,)``, the width of the *bias-augmented* target's layer i
    (``target.augmented()``: a hidden layer of a biased target carries one extra unit, the
    constant 1), the same as the rows of the pair's ``(A_i, B_i)``.

    Attributes
    ----------
    target_lo, target_hi : ndarray
        Bounds on the target's pre-activation ``z_i = W_i h_{i-1}``.
    ticket_lo, ticket_hi : ndarray
        Bounds on the pair's output ``y_i = A_i σ(g_{i-1}) - B_i σ(-g_{i-1})``.
    difference_lo, difference_hi : ndarray
        Bounds on ``δ_i = y_i - z_i``.
    """

    target_lo: np.ndarray
    target_hi: np.ndarray
    ticket_lo: np.ndarray
    ticket_hi: np.ndarray
    difference_lo: np.ndarray
    difference_hi: np.ndarray


def _relu_relaxation(lo, hi):
    """Linear bounds ``s_l v <= σ(v) <= s_u v + o_u`` for ``v ∈ [lo, hi]`` (CROWN): the chord
    above, slope 1 or 0 below (whichever leaves less area); exact on stable units."""
    active, inactive = lo >= 0, hi <= 0
    unstable = ~(active | inactive)
    width = np.where(unstable, hi - lo, 1.0)
    upper_slope = np.where(active, 1.0, np.where(unstable, hi / width, 0.0))
    upper_offset = np.where(unstable, -hi * lo / width, 0.0)
    lower_slope = np.where(active | (unstable & (hi > -lo)), 1.0, 0.0)
    return lower_slope, np.zeros_like(lo), upper_slope, upper_offset


def _difference_relaxation(z_lo, z_hi, y_lo, y_hi, d_lo, d_hi):
    """Linear bounds of ``ρ = σ(z + δ) - σ(z)`` in ``δ ∈ [dl, du]`` (NeuroDiff, Paulsen et al.
    2020), given ``z ∈ [zl, zu]`` and ``y = z + δ ∈ [yl, yu]``.

    ``ρ`` lies between a concave ``L(δ)`` and a convex ``U(δ)``, each the min / max of two lines:

    - ``z``, ``y`` both non-negative: ``ρ = δ``; both non-positive: ``ρ = 0``;
    - ``z >= 0`` only: ``ρ = max(δ, -z)``, so ``δ <= ρ <= max(δ, -zl)``;
    - ``z <= 0`` only: ``ρ = σ(z + δ)``, so ``0 <= ρ <= max(δ + zu, 0)``;
    - ``y >= 0`` only: ``ρ = min(δ, y)``, so ``min(δ, yl) <= ρ <= δ``;
    - ``y <= 0`` only: ``ρ = -σ(y - δ)``, so ``min(δ - yu, 0) <= ρ <= 0``;
    - otherwise ``min(δ, 0) <= ρ <= max(δ, 0)`` (ReLU is monotone and 1-Lipschitz).

    The chord of ``U`` over ``[dl, du]`` lies above ``U`` (convex) and the chord of ``L`` below
    ``L`` (concave); for ``dl < 0 < du`` in the last case these are NeuroDiff's
    ``du (δ - dl) / (du - dl)`` and ``dl (du - δ) / (du - dl)``. Returns ``(lower slope, lower
    offset, upper slope, upper offset)``.
    """
    zero, one = np.zeros_like(d_lo), np.ones_like(d_lo)
    same = (z_lo >= 0) & (y_lo >= 0)
    dead = (z_hi <= 0) & (y_hi <= 0)
    z_on = ~same & ~dead & (z_lo >= 0)
    z_off = ~same & ~dead & ~z_on & (z_hi <= 0)
    y_on = ~same & ~dead & ~z_on & ~z_off & (y_lo >= 0)
    y_off = ~same & ~dead & ~z_on & ~z_off & ~y_on & (y_hi <= 0)
    cases = (same, dead, z_on, z_off, y_on, y_off)

    def pick(*values):  # one value per case, the last for the unstable-unstable case
        return np.select(cases, values[:-1], values[-1])

    # U(δ) = max(ua δ + ub, uc δ + ud); L(δ) = min(la δ + lb, lc δ + ld)
    upper = (
        pick(one, zero, one, one, one, zero, one),
        pick(zero, zero, zero, z_hi, zero, zero, zero),
        pick(one, zero, zero, zero, one, zero, zero),
        pick(zero, zero, -z_lo, zero, zero, zero, zero),
    )
    lower = (
        pick(one, zero, one, zero, one, one, one),
        pick(zero, zero, zero, zero, zero, -y_hi, zero),
        pick(one, zero, one, zero, zero, zero, zero),
        pick(zero, zero, zero, zero, y_lo, zero, zero),
    )
    upper_slope, upper_offset = _chord(d_lo, d_hi, *upper, np.maximum)
    lower_slope, lower_offset = _chord(d_lo, d_hi, *lower, np.minimum)
    return lower_slope, lower_offset, upper_slope, upper_offset


def _chord(lo, hi, a, b, c, d, combine):
    """Slope and offset of the chord over ``[lo, hi]`` of ``combine(a v + b, c v + d)``; a
    constant (the larger / smaller end value) where the interval is a point."""
    at_lo, at_hi = combine(a * lo + b, c * lo + d), combine(a * hi + b, c * hi + d)
    wide = hi > lo
    width = np.where(wide, hi - lo, 1.0)
    slope = np.where(wide, (at_hi - at_lo) / width, 0.0)
    offset = np.where(wide, at_lo - slope * lo, combine(at_lo, at_hi))
    return slope, offset


def _through(rows, lower_slope, lower_offset, upper_slope, upper_offset):
    """Rows on ``σ``-like outputs to rows on their inputs plus a constant, each row taking the
    upper relaxation where its coefficient is positive and the lower one elsewhere (an upper
    bound of ``rows · output``)."""
    up = rows >= 0
    slope = np.where(up, upper_slope, lower_slope)
    offset = np.where(up, upper_offset, lower_offset)
    return rows * slope, (rows * offset).sum(axis=1)


def _interval_sup(rows, lo, hi):
    return np.maximum(rows, 0.0) @ hi + np.minimum(rows, 0.0) @ lo


class _Pass:
    """Bounds of every layer over one domain, computed layer by layer (:func:`unit_bounds`)."""

    def __init__(self, weights, pairs, input_bias, lower, upper, radius, norms=None):
        self.weights = weights
        self.a = [a for a, _ in pairs]
        self.input_bias = input_bias
        self.lower, self.upper, self.radius = lower, upper, radius
        d = len(lower)
        w1, (a1, b1) = weights[0], pairs[0]
        self.b1 = b1
        signed = signed_inputs(1, w1.shape[1], input_bias)
        self.first = {  # (coefficients of σ(x), of σ(-x), of the constant input)
            "target": (w1[:, :d], -w1[:, :d], w1[:, d:].sum(axis=1)),
            "ticket": (a1[:, :d], -b1[:, :d], a1[:, d:].sum(axis=1)),
            "difference": (
                (a1 - w1)[:, :d],
                (w1 - b1)[:, :d] * signed[:d],
                (a1 - w1)[:, d:].sum(axis=1),
            ),
        }
        self.errors = [None] + [a - w for a, w in zip(self.a[1:], weights[1:])]
        magnitude = np.maximum(np.abs(lower), np.abs(upper))
        if radius is not None:
            magnitude = np.minimum(magnitude, radius)
        self.input_norm = float(np.linalg.norm(magnitude))
        if radius is not None:
            self.input_norm = min(self.input_norm, radius)
        self.scale = [np.concatenate([magnitude, np.ones(int(input_bias))])]
        self.norms = {} if norms is None else norms  # spectral norms, shared between domains
        if "tau1" not in self.norms:
            self.norms["tau1"] = _norm(error_matrix(w1, a1, b1, signed))
        self.tau1 = self.norms["tau1"]
        self.layers: list[LayerBounds] = []
        self.diff_norm: list[float] = []  # N_i >= sup ||δ_i||_2
        self.ticket_norm: list[float] = []  # G_i >= sup ||g_i||_2
        self.target_norm: list[float] = []  # H_i >= sup ||h_i||_2
        self.pre_norm: list[float] = []  # Y_i >= sup ||y_i||_2

    # concretisation over the domain ----------------------------------------------------------
    def _domain_sup(self, p, q, const):
        """``sup_x p·σ(x) + q·σ(-x) + const`` per row over the domain (exact on a box and on a
        ball; the smaller of the two on their intersection)."""
        lo, hi = self.lower, self.upper
        at_lo = p * np.maximum(lo, 0.0) + q * np.maximum(-lo, 0.0)
        at_hi = p * np.maximum(hi, 0.0) + q * np.maximum(-hi, 0.0)
        at_zero = np.where((lo <= 0) & (hi >= 0), 0.0, -np.inf)
        value = np.maximum(np.maximum(at_lo, at_hi), at_zero).sum(axis=1)
        if self.radius is not None:
            ball = self.radius * np.linalg.norm(np.maximum(np.maximum(p, q), 0.0), axis=1)
            value = np.minimum(value, ball)
        return value + const

    def _first_sup(self, rows, kind):
        p, q, c = self.first[kind]
        return self._domain_sup(rows @ p, rows @ q, rows @ c)

    # back-substitution ------------------------------------------------------------------------
    def _relaxation(self, kind, layer):
        bounds = self.layers[layer - 1]
        if kind == "target":
            return _relu_relaxation(bounds.target_lo, bounds.target_hi)
        if kind == "ticket":
            return _relu_relaxation(bounds.ticket_lo, bounds.ticket_hi)
        return _difference_relaxation(
            bounds.target_lo,
            bounds.target_hi,
            bounds.ticket_lo,
            bounds.ticket_hi,
            bounds.difference_lo,
            bounds.difference_hi,
        )

    def _interval(self, kind, layer):
        b = self.layers[layer - 1]
        return {
            "target": (b.target_lo, b.target_hi),
            "ticket": (b.ticket_lo, b.ticket_hi),
            "difference": (b.difference_lo, b.difference_hi),
        }[kind]

    def _sup_network(self, rows, layer, kind):
        """Upper bound of ``rows · z_layer`` (kind "target") or ``rows · y_layer`` ("ticket").

        CROWN back-substitution: ``rows · z_j = (rows W_j) · σ(z_{j-1})``, each ReLU replaced by
        its upper or lower relaxation by the sign of its coefficient, down to layer 1, which is
        concretised exactly; at every intermediate layer the interval bound of the current rows
        is an alternative, and the smaller is kept per row."""
        const = np.zeros(len(rows))
        best = np.full(len(rows), np.inf)
        for j in range(layer, 1, -1):
            if j < layer:
                best = np.minimum(best, const + _interval_sup(rows, *self._interval(kind, j)))
            matrix = self.weights[j - 1] if kind == "target" else self.a[j - 1]
            rows, offset = _through(rows @ matrix, *self._relaxation(kind, j - 1))
            const += offset
        if layer > 1:
            best = np.minimum(best, const + _interval_sup(rows, *self._interval(kind, 1)))
        return np.minimum(best, const + self._first_sup(rows, kind))

    def _sup_error_term(self, rows, layer):
        """Upper bound of ``rows · g_{layer}`` with ``g = σ(y) >= 0``: the least of the interval
        bound, ``||rows_+||_2 G_layer``, the ticket's own back-substitution and its centred form
        (:meth:`_sup_ticket_centred`)."""
        bounds = self.layers[layer - 1]
        positive = np.maximum(rows, 0.0)
        value = positive @ np.maximum(bounds.ticket_hi, 0.0)
        value = np.minimum(value, np.linalg.norm(positive, axis=1) * self.ticket_norm[layer - 1])
        value = np.minimum(value, self._sup_ticket_centred(rows, layer))
        through, offset = _through(rows, *self._relaxation("ticket", layer))
        return np.minimum(value, offset + self._sup_network(through, layer, "ticket"))

    def _sup_ticket_centred(self, rows, layer):
        """Upper bound of ``rows · g_layer`` through ``σ(y_u) = s_u y_u``, ``s_u ∈ [0, 1]``
        (``1`` when ``y_u >= 0``, ``0`` when ``y_u <= 0``): for undecided units ``U``,
        ``e·σ(y) = ½ e_U·y_U + e_A·y_A + Σ_{u∈U} e_u (s_u - ½) y_u``, the sum at most
        ``½ ||e_U||_2 ||y_U||_2 <= ½ ||e_U||_2 Y_layer``; the linear part goes down the ticket
        (``y_j = A_j g_{j-1}``) the same way, to the first pair, concretised exactly."""
        const = np.zeros(len(rows))
        for j in range(layer, 0, -1):
            b = self.layers[j - 1]
            active, dead = b.ticket_lo >= 0, b.ticket_hi <= 0
            free = ~(active | dead)
            magnitude = np.maximum(np.abs(b.ticket_lo), np.abs(b.ticket_hi))[free]
            norm = min(self.pre_norm[j - 1], float(np.linalg.norm(magnitude)))
            const += 0.5 * np.linalg.norm(rows[:, free], axis=1) * norm
            rows = rows * np.where(active, 1.0, np.where(free, 0.5, 0.0))
            if j > 1:
                rows = rows @ self.a[j - 1]
        return const + self._first_sup(rows, "ticket")

    def _sup_difference(self, rows, layer):
        """Upper bound of ``rows · δ_layer``, the difference followed in lockstep: the smaller,
        per row, of the chord back-substitution and the centred one (:meth:`_sup_lockstep`)."""
        chord = self._sup_lockstep(rows, layer, centred=False)
        return np.minimum(chord, self._sup_lockstep(rows, layer, centred=True))

    def _sup_lockstep(self, rows, layer, centred):
        """Upper bound of ``rows · δ_layer`` by one back-substitution.

        For ``j >= 2``, ``δ_j = W_j ρ_{j-1} + E_j g_{j-1}`` with ``ρ = σ(z + δ) - σ(z)`` and
        ``E_j = A_j - W_j`` (the pair's input ``g_{j-1}`` is never negative, so only ``A_j``
        acts). The error term is bounded on its own (:meth:`_sup_error_term`). ``ρ`` is replaced
        either (``centred=False``) by its chord relaxation in ``δ_{j-1}``
        (:func:`_difference_relaxation`), or (``centred=True``) through ``ρ_u = s_u δ_u`` with
        ``s_u ∈ [0, 1]`` (ReLU is monotone and 1-Lipschitz; ``s_u = 1`` when ``z_u`` and ``y_u``
        are both non-negative, ``0`` when both are non-positive): for a row ``b`` on ``ρ``,
        ``b·ρ = ½ b_U·δ_U + Σ_{u∈U} b_u (s_u - ½) δ_u + b_A·δ_A`` over the undecided units ``U``
        and the active ones ``A``, and the middle sum is at most
        ``½ ||b_U||_2 ||δ_U||_2 <= ½ ||b_U||_2 min(N, ||m_U||_2)`` (``|δ_u| <= m_u``,
        ``||δ|| <= N``). In high dimension the chords' offsets add up like an ℓ1 norm, the
        centred form's like an ℓ2 norm, and the linear part ``½ b_U·δ_U`` keeps the correlation
        of the errors of different units. The recursion goes on down to
        ``δ_1 = Δ_1 [σ(x̃); σ(-x̃)_S]``, concretised exactly. At every layer below the top, two
        cut-offs are alternatives kept per row when smaller: the interval bound of the current
        rows, and ``||rows||_2 N_j`` with ``N_j >= sup ||δ_j||_2``."""
        const = np.zeros(len(rows))
        best = np.full(len(rows), np.inf)
        for j in range(layer, 1, -1):
            if j < layer:
                best = np.minimum(best, const + self._difference_cutoff(rows, j))
            const += self._sup_error_term(rows @ self.errors[j - 1], j - 1)
            if centred:
                rows, offset = self._centred(rows @ self.weights[j - 1], j - 1)
            else:
                rows, offset = _through(
                    rows @ self.weights[j - 1], *self._relaxation("difference", j - 1)
                )
            const += offset
        if layer > 1:
            best = np.minimum(best, const + self._difference_cutoff(rows, 1))
        return np.minimum(best, const + self._first_sup(rows, "difference"))

    def _centred(self, rows, layer):
        """Rows on ``ρ_layer`` to rows on ``δ_layer`` plus a per-row constant (the centred form of
        :meth:`_sup_lockstep`)."""
        b = self.layers[layer - 1]
        active = (b.target_lo >= 0) & (b.ticket_lo >= 0)
        free = ~active & ~((b.target_hi <= 0) & (b.ticket_hi <= 0))
        magnitude = np.maximum(np.abs(b.difference_lo), np.abs(b.difference_hi))[free]
        norm = min(self.diff_norm[layer - 1], float(np.linalg.norm(magnitude)))
        offset = 0.5 * np.linalg.norm(rows[:, free], axis=1) * norm
        return rows * np.where(active, 1.0, np.where(free, 0.5, 0.0)), offset

    def _difference_cutoff(self, rows, layer):
        interval = _interval_sup(rows, *self._interval("difference", layer))
        return np.minimum(interval, np.linalg.norm(rows, axis=1) * self.diff_norm[layer - 1])

    # layer by layer ---------------------------------------------------------------------------
    def _both(self, function, width, *args):
        """``(lower, upper)`` of every unit: sup of ``e_u`` and of ``-e_u``."""
        eye = np.eye(width)
        sup = function(np.vstack([eye, -eye]), *args)
        return -sup[width:], sup[:width]

    def run(self):
        for layer in range(1, len(self.weights) + 1):
            self._add_layer(layer)
        return self.layers

    def _add_layer(self, layer):
        width = self.weights[layer - 1].shape[0]
        previous = self.scale[-1]
        if layer > 1:
            b = self.layers[-1]
            previous = previous + np.max(
                np.abs(
                    [
                        b.target_lo,
                        b.target_hi,
                        b.ticket_lo,
                        b.ticket_hi,
                        b.difference_lo,
                        b.difference_hi,
                    ]
                ),
                axis=0,
            )
        absolute = np.abs(self.weights[layer - 1]) + np.abs(self.a[layer - 1])
        if layer == 1:
            absolute = absolute + np.abs(self.b1)
        scale = absolute @ previous
        self.scale.append(scale)
        z = self._both(self._sup_network, width, layer, "target")
        y = self._both(self._sup_network, width, layer, "ticket")
        d = self._both(self._sup_difference, width, layer)
        z, y, d = cross_tighten(z, y, d)
        margin = [ROUNDING * (np.abs(v) + 2 * scale) for v in (*z, *y, *d)]
        bounds = LayerBounds(
            target_lo=z[0] - margin[0],
            target_hi=z[1] + margin[1],
            ticket_lo=y[0] - margin[2],
            ticket_hi=y[1] + margin[3],
            difference_lo=d[0] - margin[4],
            difference_hi=d[1] + margin[5],
        )
        self.layers.append(bounds)
        self._add_norms(layer, bounds)

    def _add_norms(self, layer, bounds):
        """``H_i``, ``G_i``, ``N_i``, ``Y_i``: bounds on ``||h_i||``, ``||g_i||``, ``||δ_i||``,
        ``||y_i||`` from the intervals and from norm recursions (``||z_i|| <= ||W_i|| H_{i-1}``,
        ``H_0 = ||x̃||``; ``||δ_1|| <= τ_1 ||x̃||``; for ``i >= 2``, ``||δ_i|| <= ||W_i[:, L]||
        N_{i-1} + ||E_i[:, P]|| G_{i-1}`` with ``L`` the units whose ``ρ`` can be non-zero and
        ``P`` those whose ``g`` can be positive; ``||h_i|| <= ||z_i||``, ``||g_i|| <= ||h_i|| +
        ||δ_i||``, ``||y_i|| <= ||z_i|| + ||δ_i||``)."""
        magnitude = np.maximum(np.abs(bounds.difference_lo), np.abs(bounds.difference_hi))
        interval = float(np.linalg.norm(magnitude))
        h = float(np.linalg.norm(np.maximum(bounds.target_hi, 0.0)))
        g = float(np.linalg.norm(np.maximum(bounds.ticket_hi, 0.0)))
        if layer == 1:
            augmented = math.hypot(self.input_norm, 1.0) if self.input_bias else self.input_norm
            recursion = self.tau1 * augmented
            z = self._column_norm("weight", 1, np.ones(self.weights[0].shape[1], bool)) * augmented
        else:
            previous = self.layers[-2]
            live = ~((previous.target_hi <= 0) & (previous.ticket_hi <= 0))
            fires = previous.ticket_hi > 0
            recursion = (
                self._column_norm("weight", layer, live) * self.diff_norm[-1]
                + self._column_norm("error", layer, fires) * self.ticket_norm[-1]
            )
            columns = np.ones(self.weights[layer - 1].shape[1], dtype=bool)
            z = self._column_norm("weight", layer, columns) * self.target_norm[-1]
        recursion *= 1 + ROUNDING
        diff = min(interval, recursion)
        h = min(h, z)
        y = np.maximum(np.abs(bounds.ticket_lo), np.abs(bounds.ticket_hi))
        self.diff_norm.append(diff)
        self.target_norm.append(h)
        self.ticket_norm.append(min(g, h + diff))
        self.pre_norm.append(min(float(np.linalg.norm(y)), (z + diff) * (1 + ROUNDING)))

    def _column_norm(self, kind, layer, columns):
        """``||W_i[:, columns]||_2`` or ``||E_i[:, columns]||_2``, cached when every column is
        kept (the common case, shared by every domain)."""
        matrix = (self.weights if kind == "weight" else self.errors)[layer - 1]
        if not columns.all():
            return _norm(matrix[:, columns])
        key = (kind, layer)
        if key not in self.norms:
            self.norms[key] = _norm(matrix)
        return self.norms[key]


def _norm(matrix):
    return float(np.linalg.norm(matrix, 2)) if matrix.size else 0.0


def cross_tighten(z, y, d):
    """Intervals of ``z``, ``y`` and ``δ = y - z``, each intersected with the one the other two
    imply.

    Parameters
    ----------
    z, y, d : tuple of (ndarray, ndarray)
        ``(lo, hi)`` of the target's pre-activations, the ticket's, and their difference.

    Returns
    -------
    tuple
        The three ``(lo, hi)`` pairs, tightened.

    Notes
    -----
    Since ``y = z + δ``, ``y ∈ [zl + dl, zu + du]``, ``δ ∈ [yl - zu, yu - zl]`` and
    ``z ∈ [yl - du, yu - dl]``: intersecting keeps every triple ``(z, y, δ)`` the three
    intervals allowed, so the result is as rigorous as its input up to the rounding of the
    sums (to nearest): :func:`unit_bounds` moves every bound outward by :data:`ROUNDING`
    afterwards.
    """
    (zl, zu), (yl, yu), (dl, du) = z, y, d
    yl, yu = np.maximum(yl, zl + dl), np.minimum(yu, zu + du)
    dl, du = np.maximum(dl, yl - zu), np.minimum(du, yu - zl)
    zl, zu = np.maximum(zl, yl - du), np.minimum(zu, yu - dl)
    return (zl, zu), (yl, yu), (dl, du)


def _check_domain(d, lower, upper, radius):
    lower = np.asarray(lower, dtype=float)
    upper = np.asarray(upper, dtype=float)
    for name, value in (("lower", lower), ("upper", upper)):
        if value.shape != (d,) or not np.all(np.isfinite(value)):
            raise InvalidParameterError(
                f"`{name}` must be a finite array of shape ({d},), the target's input; got shape "
                f"{value.shape}{'' if np.all(np.isfinite(value)) else ' with non-finite entries'}."
            )
    if np.any(lower > upper):
        raise InvalidParameterError(
            f"`lower` must not exceed `upper`; got lower > upper at index "
            f"{int(np.argmax(lower > upper))}."
        )
    if radius is not None:
        radius = check_real("radius", radius, low=0.0, low_open=True)
    return lower, upper, radius


def check_pairs(weights, pairs):
    """``pairs`` as float arrays, checked against the bias-augmented target ``weights``: one
    ``(A_i, B_i)`` per layer, each of ``W_i``'s shape, finite.

    Raises
    ------
    InvalidParameterError
        If the count, a shape or a value is wrong.
    """
    if len(pairs) != len(weights):
        raise InvalidParameterError(
            f"`pairs` must hold one (A, B) per target layer ({len(weights)}); got {len(pairs)}."
        )
    out = []
    for i, (w, pair) in enumerate(zip(weights, pairs), start=1):
        a, b = (np.asarray(m, dtype=float) for m in pair)
        if a.shape != w.shape or b.shape != w.shape:
            raise InvalidParameterError(
                f"`pairs` entry {i} must be two matrices of shape {w.shape} (the bias-augmented "
                f"target's layer {i}); got {a.shape} and {b.shape}."
            )
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
            raise InvalidParameterError(f"`pairs` entry {i} must be finite.")
        out.append((a, b))
    return out


def unit_bounds(
    target: ReLUNetwork, pairs, *, lower, upper, radius: float | None = None
) -> list[LayerBounds]:
    """Rigorous intervals of every pre-activation of a target and its gadget network, and of
    their difference, over ``{lower <= x <= upper}`` (intersected with ``||x||_2 <= radius``).

    Parameters
    ----------
    target : ReLUNetwork
        ``F``, depth l (biases allowed: bounds are on its bias-augmented layers).
    pairs : list of (ndarray, ndarray)
        ``(A_i, B_i)`` per layer (:func:`strong_lth.gadgets.gadget_form`).
    lower, upper : array_like, shape (d,)
        The input box of ``x`` (the original input, without the constant 1).
    radius : float, optional
        Also ``||x||_2 <= radius``.

    Returns
    -------
    list of LayerBounds
        One per target layer: ``z_i``, ``y_i`` and ``δ_i = y_i - z_i`` lie in their intervals
        for every ``x`` of the domain.

    Raises
    ------
    InvalidParameterError
        If the domain or ``pairs`` is malformed.

    Notes
    -----
    Why the intervals hold: layer 1 is linear in ``[σ(x̃); σ(-x̃)]`` (``z_1 = W_1 x̃``,
    ``y_1 = A_1 σ(x̃) - B_1 σ(-x̃)``, ``δ_1 = (A_1 - W_1) σ(x̃) + (W_1 - B_1) σ(-x̃)``) and its
    supremum over the domain is computed exactly (module docstring). For ``i >= 2`` each bound
    is a back-substitution in which every ReLU (``σ(z)``, ``σ(y)``) and every difference of ReLUs
    (``ρ = σ(z + δ) - σ(z)``) is replaced by a linear function that lies above it (for positive
    coefficients) or below it (negative ones) on the intervals already proven for the layer
    below (CROWN, Zhang et al. 2018; NeuroDiff, Paulsen et al. 2020), so the resulting linear
    function of the input bounds the quantity, and its supremum over the domain bounds it too.
    Alternatives proven the same way (interval arithmetic at any layer, ``||a||_2 N_j`` with a
    norm bound ``N_j`` of ``δ_j``) are kept when smaller, and the three intervals are
    intersected with what ``y = z + δ`` implies. Every bound is then moved outward by
    :data:`ROUNDING`.

    Examples
    --------
    >>> import numpy as np
    >>> from strong_lth import ReLUNetwork, approximate
    >>> from strong_lth.gadgets import gadget_form
    >>> target = ReLUNetwork.random((3, 4, 2), rng=0)
    >>> pairs = gadget_form(target, approximate(target, values_per_input=20, rng=1))
    >>> layers = unit_bounds(target, pairs, lower=-np.ones(3), upper=np.ones(3), radius=1.0)
    >>> x = np.array([0.6, -0.3, 0.2])
    >>> bool(np.all(layers[0].target_lo <= target.weights[0] @ x))
    True
    """
    weights = list(target.augmented().weights)
    pairs = check_pairs(weights, pairs)
    lower, upper, radius = _check_domain(target.widths[0], lower, upper, radius)
    return _Pass(weights, pairs, target.has_bias, lower, upper, radius).run()


def _final(layers, diff_norm, norm):
    """``sup ||δ_l||`` over one domain from the last layer's intervals ``|δ_l,k| <= m_k``:
    ``||m||_2`` (or ``max m_k`` for the ∞-norm), or the norm recursion ``N_l`` if smaller
    (``||v||_inf <= ||v||_2``)."""
    last = layers[-1]
    m = np.maximum(-last.difference_lo, last.difference_hi)
    value = float(np.linalg.norm(m)) if norm == 2 else float(m.max())
    return min(value, diff_norm[-1])


def _outside_ball(lower, upper, radius):
    nearest = np.clip(0.0, lower, upper)
    return radius is not None and float(nearest @ nearest) > radius * radius * (1 + ROUNDING)


def error_bound(
    target: ReLUNetwork,
    pairs,
    *,
    lower,
    upper,
    radius: float | None = None,
    norm: int | float = 2,
    domains: int = 1,
) -> float:
    """A proven upper bound of ``sup ||F(x) - G(x)||`` over ``{lower <= x <= upper}`` (intersected
    with ``||x||_2 <= radius``), followed in lockstep, optionally over sub-boxes.

    Parameters
    ----------
    target, pairs, lower, upper, radius
        As in :func:`unit_bounds`.
    norm : 2 or inf, default 2
        The output norm.
    domains : int, default 1
        Budget of sub-boxes: while there are fewer, the sub-box with the largest bound is
        bisected (best first) along the coordinate of largest smear, its width times the summed
        ``|W_1| + |A_1| + |B_1|`` weights it sends to first-layer units still unstable there
        (Wang et al., ReluVal, USENIX Security 2018), so that more units become stable and their
        relaxations exact. Splitting stops early once the bound is within
        :data:`SPLIT_TOLERANCE` of the largest error attained at a sub-box centre.
        Deterministic (a count, not a time).

    Returns
    -------
    float
        The largest bound over the sub-boxes.

    Notes
    -----
    Proof: on each sub-box, :func:`unit_bounds` proves ``|δ_l,k| <= m_k`` for every output k,
    so ``||δ_l||_2 <= ||m||_2`` and ``||δ_l||_inf <= max m_k``; it also proves ``||δ_l||_2 <=
    N_l`` (a norm recursion, which bounds the ∞-norm too); the smaller holds. The sub-boxes
    cover the box (those that miss the ball are dropped: they hold no input of the domain), so
    the supremum over the domain is at most the largest of their bounds.
    """
    if norm not in (2, np.inf):
        raise InvalidParameterError(f"`norm` must be 2 or inf; got {norm!r}.")
    if not isinstance(domains, (int, np.integer)) or domains < 1:
        raise InvalidParameterError(f"`domains` must be a positive integer; got {domains!r}.")
    weights = list(target.augmented().weights)
    pairs = check_pairs(weights, pairs)
    lower, upper, radius = _check_domain(target.widths[0], lower, upper, radius)

    norms = {}

    d = len(lower)
    influence = np.abs(weights[0][:, :d]) + np.abs(pairs[0][0][:, :d]) + np.abs(pairs[0][1][:, :d])

    gadget = gadget_network(pairs, target.has_bias)
    attained = 0.0  # the largest error at a sub-box centre: the truth is at least this

    def bound(lo, hi):
        nonlocal attained
        centre = 0.5 * (lo + hi)
        if radius is None or centre @ centre <= radius * radius:
            gap = target.forward(centre) - gadget.forward(centre)
            attained = max(attained, float(np.linalg.norm(gap, ord=norm)))
        run = _Pass(weights, pairs, target.has_bias, lo, hi, radius, norms)
        layers = run.run()
        first = layers[0]
        unstable = ((first.target_lo < 0) & (first.target_hi > 0)) | (
            (first.ticket_lo < 0) & (first.ticket_hi > 0)
        )
        score = (hi - lo) * (unstable @ influence + 1e-300)
        return _final(layers, run.diff_norm, norm), int(np.argmax(score))

    value, axis = bound(lower, upper)
    leaves = [(-value, 0, lower, upper, axis)]
    count = 1
    while len(leaves) < domains and -leaves[0][0] > attained * (1 + SPLIT_TOLERANCE):
        value, _, lo, hi, axis = heapq.heappop(leaves)
        if hi[axis] - lo[axis] <= 0:
            heapq.heappush(leaves, (value, 0, lo, hi, axis))
            break
        middle = 0.5 * (lo[axis] + hi[axis])
        for new_lo, new_hi in ((lo, hi.copy()), (lo.copy(), hi)):
            if new_hi is not hi:
                new_hi[axis] = middle
            else:
                new_lo[axis] = middle
            if not _outside_ball(new_lo, new_hi, radius):
                count += 1
                value, next_axis = bound(new_lo, new_hi)
                heapq.heappush(leaves, (-value, count, new_lo, new_hi, next_axis))
        if not leaves:
            return 0.0
    return -leaves[0][0] if leaves else 0.0
