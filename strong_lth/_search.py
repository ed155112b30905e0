"""The automatic-mode search over nested random networks, shared by
:func:`strong_lth.approximate` (dense targets) and :func:`strong_lth.approximate_conv`
(convolutional targets).

Random networks of one seed are nested in n (the network with n values per input is a
sub-network of the one with n + 1), so the search solves each target layer at a few n along one
draw (:class:`NestedLayer`), splits ``eps`` into per-layer goals (:func:`budget_split`), finds
each layer's smallest n by bisection and then removes leftover slack (:func:`search`). It checks
memory before solving (:func:`check_bytes`) and shows a progress bar (:func:`progress_bar`).
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from tqdm import tqdm

from ._certify import certified_error
from ._validation import check_int
from .exceptions import InvalidParameterError

BITS_PER_VALUE = 0.45
"""Initial guess of how many bits of precision one more value per input buys (about half a bit:
a value joins one of the two sign pools, and each pool value halves the SubsetSum error of
products of uniforms, slope about 0.9 in the solver benchmark). Only steers the search; the
search replaces it by the slope it measures."""

SAFETY = 1e-9
"""Automatic mode aims at ``eps (1 - SAFETY)`` so that the certificate, recomputed from the masks
with sums in another order, cannot exceed ``eps`` by rounding."""

TOL_FACTOR = 4.0
"""In automatic mode an instance may stop within
``tol_i = goal_i / (4 (sqrt(d_i) + sqrt(2 d_{i-1})))`` of its weight: a ``d_i x 2 d_{i-1}``
matrix of independent errors of that size has spectral norm about
``tol_i (sqrt(d_i) + sqrt(2 d_{i-1}))``, a quarter of the layer's goal. Only a construction
setting: the certificate is computed from the masks whatever it is."""

PROGRESS_DELAY = 1.0
"""Seconds before ``approximate(progress=True)`` shows its bar, so that short calls print
nothing."""

START = 8
"""Automatic mode tries n = 8 first for every layer, whatever the cap: the path of the search,
and so the ticket it returns, does not depend on ``max_values_per_input``."""

LOOK_PAST_CAP = 2
"""When a layer needs more than ``max_values_per_input``, automatic mode keeps searching, for the
error message only, up to this many times the cap, so that it can state an n that is enough."""

BYTES_PER_VALUE = 64
"""Estimated bytes per ``d_out d_in n`` of a layer solved at n values per input in one piece: its
gadget weights (8), both sign pools (about 9) and their copy handed to the solver, the chosen
subsets, the masks of the kept weights, with warm-start arrays and margin (40 to 46 measured by
``tracemalloc`` on a 300-200-10 target at n = 16 and 40, every construction)."""


@dataclass
class NestedLayer:
    """Solves one target layer at any n of the nested random networks, caching every answer.

    A subclass says how one n is solved (:meth:`solve`); this class searches n. ``weights``
    is the layer as ``d_out`` rows of the values its SubsetSum instances approximate (a
    convolution kernel ``(O, C, k_h, k_w)`` flattened to ``(O, C k_h k_w)``): its shape sets
    the memory estimate (:meth:`need_bytes`, by default :func:`solve_bytes`; a subclass that
    solves in pieces overrides it, :meth:`largest_fitting` and :attr:`MEMORY`).
    """

    MEMORY: ClassVar[str] = f"{BYTES_PER_VALUE} bytes per target weight and value per input"
    """How :meth:`need_bytes` estimates, for the refusals of :func:`check_bytes`."""

    index: int
    weights: np.ndarray
    signed: np.ndarray  # inputs of the pair that can be negative (gadgets.signed_inputs)
    network: Any  # the random network at n = 1 (RandomNetwork or ConvRandomNetwork)
    solver: str
    bar: Any = None  # a tqdm progress bar (disabled when not asked for or not on a terminal)
    tol: float | None = None
    seconds: float = 0.0
    cache: dict = field(default_factory=dict)
    wanted: int = 0  # the n a search wanted past its limit when it gave up
    pairs: dict | None = None  # (A, B) per n, kept when a certificate beyond "spectral" needs them
    bounded: set = field(default_factory=set)  # n whose cached τ is a lower bound only
    floor: Any = None  # floor[n]: a lower bound of τ at n known without a solve (first_n)
    below: int = 0  # the largest n a coarse smallest() found failing below its answer

    def tau_floor(self, n: int) -> float | None:
        """A lower bound of ``τ`` at ``n`` without solving: the cached τ (exact or a lower
        bound), else :attr:`floor` ``[n]`` when known, else None."""
        if n in self.cache:
            return self.cache[n][0]
        if self.floor is not None and n < len(self.floor):
            return float(self.floor[n])
        return None

    def exact_tau(self, n: int) -> float:
        """The exact ``τ`` of this layer at an evaluated ``n`` whose :meth:`solve` returned a
        lower bound only (listed in :attr:`bounded`); a subclass that returns lower bounds
        overrides it."""
        raise NotImplementedError

    def exact(self, n: int):
        """:meth:`__call__` with the exact ``τ``: computed now (:meth:`exact_tau`) if only a
        lower bound of it was cached."""
        entry = self(n)
        if n in self.bounded:
            self.cache[n] = (self.exact_tau(n), *entry[1:])
            self.bounded.discard(n)
        return self.cache[n]

    def saturation(self, limit: int) -> int | None:
        """The least n (at most ``limit``) from which this layer's solve no longer changes, or
        None if there is none: by default none; a subclass whose SubsetSum pools stop growing
        (the solver reads at most a fixed number of values) overrides it."""
        return None

    def first_n(self, goal: float, limit: int) -> tuple[int, int]:
        """``(first, failing)``: the first n the search tries for ``goal``, :data:`START` (at
        most ``limit``), and the largest n known to fail it without a solve, 0 (none); a
        subclass may prove more (every n up to ``failing`` fails) and start higher."""
        return min(START, limit), 0

    def reaches(self, n: int, measure: int, goal: float) -> bool:
        """Whether figure ``measure`` (0 = τ, 1 = max|Δ|) at ``n`` is at most ``goal``. A cached
        lower bound of ``τ`` above the goal decides alone (the exact τ is larger still); at or
        below it, the exact τ decides."""
        if self(n)[measure] > goal:
            return False
        return measure != 0 or self.exact(n)[0] <= goal

    def solve(self, n: int):
        """``(τ, max|Δ|, packed keep, (A, B))`` of this layer solved at ``n`` values per input,
        the keep packed as ``np.packbits(keep, axis=2)`` (a layer solved in pieces never holds
        it unpacked). ``τ`` may be a rigorous lower bound only, when ``n`` is added to
        :attr:`bounded` (:meth:`exact` then gives the exact one)."""
        raise NotImplementedError

    def __call__(self, n: int):
        """``(τ, max|Δ|, packed keep)`` of this layer's ticket at ``n`` values per input."""
        if n not in self.cache:
            begin = time.perf_counter()
            tau, worst, packed, pair = self.solve(n)
            self.cache[n] = (tau, worst, packed)
            if self.pairs is not None:
                self.pairs[n] = pair
            self.seconds += time.perf_counter() - begin
            self.bar.set_postfix_str(f"layer {self.index}: n = {n}, τ = {tau:.2e}", refresh=False)
            self.bar.update()
        return self.cache[n]

    def values(self, n: int) -> tuple:
        """Values per input of the random network that solves this layer at ``n`` (1 for the
        other layers: a sub-network of every larger one)."""
        layers = len(self.network.values_per_input)
        return tuple(n if k == self.index - 1 else 1 for k in range(layers))

    def keep(self, n: int) -> np.ndarray:
        """The construction's ``keep`` array at ``n`` (solved if not cached)."""
        return np.unpackbits(self(n)[2], axis=2, count=n).astype(bool)

    def _warm(self, n: int) -> int | None:
        """The evaluated n whose keep warm-starts ``n``: the nearest smaller one (all its copies
        exist here), else the nearest larger one; None without a tolerance."""
        if self.tol is None or not self.cache:
            return None
        smaller = [m for m in self.cache if m < n]
        return max(smaller) if smaller else min(self.cache)

    def _start(self, n: int):
        """Warm start for ``n``: the keep of :meth:`_warm` (None if none)."""
        m = self._warm(n)
        return None if m is None else self.keep(m)

    def smallest(
        self,
        measure: int,
        goal: float,
        start: int,
        limit: int,
        *,
        clamp=False,
        failing=0,
        coarse=False,
    ):
        """Smallest n (bisection over nested networks) whose figure ``measure`` (0 = τ,
        1 = max|Δ|) is at most ``goal``, or None if no n up to ``limit`` that the search tries
        reaches it.

        The next n to try is predicted from the measured log-linear decay of that figure,
        growing by at most half per step, since one step too far solves pools far larger
        (exponentially slower) than needed. Without ``clamp`` the n tried never depend on
        ``limit`` (a larger limit only lets the search go further); with it, ``limit`` itself
        is tried before giving up. ``failing``: an n known to fail (every smaller one too), below
        which the bisection does not look. ``coarse``: return the first n found to reach the
        goal, before the bisection (:func:`search`, when tighter bounds take over from there),
        and keep the largest n found failing in :attr:`below`, from which a later call with
        ``start`` the answer and ``failing=below`` bisects as this one would have.
        """
        passing = None
        n = start
        while passing is None:
            if n > limit:
                if not clamp or failing >= limit:
                    self.wanted = n
                    return None
                n = limit
            if self.reaches(n, measure, goal):
                passing = n
            else:
                failing = n
                n = min(max(n + 1, self._predict(measure, goal, n)), n + max(4, n // 2))
        self.below = failing
        while passing - failing > 1 and not coarse:
            guess = min(max(self._predict(measure, goal), failing + 1), passing - 1)
            middle = (failing + passing) // 2
            n = guess if abs(guess - middle) <= (passing - failing) // 4 else middle
            if self.reaches(n, measure, goal):
                passing = n
            else:
                failing = n
        return passing

    def _predict(self, measure: int, goal: float, base: int | None = None) -> int:
        """The n at which the fitted decay of ``measure`` reaches ``goal``, extrapolated from
        ``base`` (default: the evaluated n whose figure is nearest the goal). Growing from the
        latest failing n keeps a search out of steps of one when the figure stalls (a heuristic
        solver, a budget out of reach)."""
        ns = np.array([n for n in sorted(self.cache) if math.isfinite(self.cache[n][measure])])
        if not len(ns) or (base is not None and not math.isfinite(self.cache[base][measure])):
            return 2 * max(self.cache)  # no ticket there (a pool below subset_size): grow
        logs = np.log2([max(self.cache[n][measure], TINY) for n in ns])
        slope = BITS_PER_VALUE
        if len(ns) >= 2 and ns[-1] > ns[0]:
            fitted = -np.polyfit(ns, logs, 1)[0]
            slope = fitted if fitted > 0.05 else BITS_PER_VALUE
        if base is None:
            base = int(ns[np.argmin(np.abs(logs - math.log2(max(goal, TINY))))])
        gap = math.log2(max(self.cache[base][measure], TINY)) - math.log2(max(goal, TINY))
        return base + max(1, math.ceil(gap / slope)) if gap > 0 else base

    def extrapolate(self, measure: int, goal: float, n: int) -> int:
        """n at which the fitted decay of ``measure`` reaches ``goal`` (at least ``n``)."""
        return max(n, self._predict(measure, goal))

    def need_bytes(self, n: int) -> int:
        """Estimated bytes of solving this layer at ``n`` values per input
        (:func:`solve_bytes`)."""
        return solve_bytes(*self.weights.shape, n)

    def largest_fitting(self, max_bytes: int) -> int:
        """The largest n whose solve fits in ``max_bytes`` (:meth:`need_bytes`)."""
        return max_bytes // solve_bytes(*self.weights.shape, 1)


TINY = np.finfo(float).tiny
"""Smallest positive normal float64: the floor of logarithms of errors and goals."""

LOWER_MARGIN = 1e-9
"""Relative margin taken off :func:`norm_lower_bound`: far above the float64 rounding of the
products it is computed from (about ``1e-12`` relative for 10^4 terms), so the figure stays below
the exact norm."""

LANCZOS_TOL = 1e-3
"""Relative tolerance of the Lanczos iteration (``scipy.sparse.linalg.svds``) of
:func:`norm_lower_bound`: it only steers how close the bound comes, not whether it holds."""


def norm_lower_bound(matrix: np.ndarray) -> float:
    """A rigorous lower bound of the spectral norm ``||Δ||_2``, in a few matrix-vector products.

    Parameters
    ----------
    matrix : ndarray, shape (m, k)
        ``Δ``.

    Returns
    -------
    float
        ``(1 - LOWER_MARGIN) max(||Δ v||_2 / ||v||_2, max_r ||Δ_r||_2)``, where ``v`` is the
        top right singular vector that a Lanczos iteration (``svds``, tolerance
        :data:`LANCZOS_TOL`, fixed start) converges to and ``Δ_r`` the rows of ``Δ``.

    Notes
    -----
    Proof: ``||Δ||_2 = max_{v != 0} ||Δ v|| / ||v||`` bounds the ratio at any ``v``, whatever
    the iteration returned (``v`` is only a good guess), and ``||Δ_r|| = ||Δ^T e_r|| <=
    ||Δ^T||_2 = ||Δ||_2``. Both ratios are recomputed here from ``Δ`` in float64, whose rounding
    (about ``1e-12`` relative) :data:`LOWER_MARGIN` covers. On a 4096 x 8192 matrix this takes a
    few seconds where the full SVD of ``np.linalg.norm(Δ, 2)`` takes a minute or more on one core.
    Should the iteration not converge, the exact norm is returned (also a lower bound).
    """
    from scipy.sparse.linalg import ArpackNoConvergence, svds

    rows = float(np.sqrt(np.einsum("ij,ij->i", matrix, matrix).max(initial=0.0)))
    if not matrix.size or rows == 0.0:
        return 0.0
    start = np.ones(min(matrix.shape)) / math.sqrt(min(matrix.shape))
    try:
        vh = svds(matrix, k=1, tol=LANCZOS_TOL, v0=start, return_singular_vectors="vh")[2]
    except ArpackNoConvergence:
        return float(np.linalg.norm(matrix, 2))
    v = vh[0]
    ratio = float(np.linalg.norm(matrix @ v) / np.linalg.norm(v))
    return (1 - LOWER_MARGIN) * max(ratio, rows)


def solve_bytes(d_out: int, d_in: int, n: int) -> int:
    """Estimated bytes allocated to solve ``d_out`` rows of a ``d_in``-input target layer at
    ``n`` values per input in one piece: :data:`BYTES_PER_VALUE` ``d_out d_in n``."""
    return BYTES_PER_VALUE * d_out * d_in * n


def budget_split(norms, input_radius, eps):
    """Per-layer τ goals whose certified recursion gives at most ``eps``.

    To first order ``e_l ≈ sum_i τ_i R_{i-1} prod_{k>i} ||W_k||``; each layer gets the same share
    of that sum, ``τ_i = θ w_i`` with ``w_i ∝ 1 / (R_{i-1} prod_{k>i} ||W_k||)``, and ``θ`` is
    found by bisection on the exact recursion (:func:`~strong_lth.certify.certified_error`).
    Computed in logarithms, so a zero layer (whose τ, reached exactly by empty subsets, makes the
    whole error vanish) or an extreme radius gives finite goals instead of ``0 * inf``.
    """
    logs = np.log(np.maximum(norms, TINY))
    reach = math.log(input_radius) + np.concatenate([[0.0], np.cumsum(logs)[:-1]])
    after = np.concatenate([np.cumsum(logs[::-1])[::-1][1:], [0.0]])
    shares = -(reach + after)
    weights = np.exp(shares - shares.max())  # in (0, 1], the largest 1

    def fits(log_theta):
        with np.errstate(over="ignore", invalid="ignore"):
            value = certified_error(math.exp(log_theta) * weights, norms, input_radius)
        return value <= eps  # False for NaN (0 * inf past a zero layer) and inf: too large

    low, high = math.log(TINY), math.log(np.finfo(float).max)
    if fits(high):
        return math.exp(high) * weights
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    return math.exp(low) * weights


def check_bytes(layer, n, max_bytes, where):
    """Raise unless ``layer`` solved at ``n`` fits ``max_bytes`` (:meth:`NestedLayer.need_bytes`);
    ``where`` says which n this is."""
    need = layer.need_bytes(n)
    if need > max_bytes:
        raise InvalidParameterError(
            f"`max_bytes` must cover the estimated {size_text(need)} of layer {layer.index} "
            f"({layer.weights.shape[1]} -> {layer.weights.shape[0]}) "
            f"{where.format(n=n)}: {layer.MEMORY}; got {size_text(max_bytes)}."
        )


def size_text(nbytes: int) -> str:
    return f"{nbytes:,} bytes ({nbytes / 2**30:.3g} GiB)"


def fixed_values(values_per_input, depth, cap):
    if isinstance(values_per_input, numbers.Integral) and not isinstance(values_per_input, bool):
        values_per_input = [values_per_input] * depth
    if (
        not isinstance(values_per_input, (list, tuple, np.ndarray))
        or len(values_per_input) != depth
    ):
        raise InvalidParameterError(
            f"`values_per_input` must be an integer or one integer per layer ({depth}); "
            f"got {values_per_input!r}."
        )
    return [check_int("values_per_input", n, low=1, high=cap) for n in values_per_input]


def progress_bar(progress: bool) -> tqdm:
    """The bar of ``approximate(progress=...)``: off unless asked for; tqdm also keeps it off
    when stderr is not a terminal (``disable=None``) and until ``PROGRESS_DELAY`` seconds."""
    return tqdm(
        desc="approximate",
        unit=" solves",
        disable=None if progress else True,
        delay=PROGRESS_DELAY,
        mininterval=0.0,  # one step per layer solve: few enough to draw every one
        leave=False,
    )


def search(layers, goals, bound, eps, cap, max_bytes):
    """Automatic mode: per layer, the least n reaching its τ goal, then remove leftover slack
    (``bound``).

    Without tighter bounds than the spectral recursion (``bound.tighter``), each layer's n is
    found by bisection to its goal (:meth:`NestedLayer.smallest`), then lowered one step at a
    time while the spectral recursion stays within ``eps``. With them, the goal search stops at
    the first n reaching the goal (``coarse``) and, if the tighter bounds are tighter there, each
    layer (widest first) goes straight to the least n at which the least bound of the whole
    ticket stays within ``eps`` (:func:`least_passing`): that bound is at most the spectral
    recursion, so the goals' bisection and the spectral steps would only have solved n above
    the answer (on 784-500-10 at eps = 0.01, n = 50 to 55 for the 784-wide layer, where the
    chain bound chose 45). Otherwise the search proceeds as without them.

    The n tried depend neither on the cap nor on ``max_bytes`` (as long as it allows them), so
    when the ticket found needs more than the cap, a cap of its largest n finds the same ticket.
    """
    aim = eps * (1 - SAFETY)
    look = max(LOOK_PAST_CAP * cap, START)
    limits = [min(look, layer.largest_fitting(max_bytes)) for layer in layers]
    chosen = []
    for layer, goal, limit in zip(layers, goals, limits):
        first, failing = layer.first_n(goal, limit)
        # past its saturation a layer's solve is the same, so the search ends there (trying
        # that n itself) rather than solving the same pools again at every larger n
        saturated = layer.saturation(limit)
        top = limit if saturated is None else saturated
        found = layer.smallest(
            0,
            goal,
            min(first, top),
            top,
            clamp=saturated is not None,
            failing=failing,
            coarse=bound.tighter,
        )
        if found is None:
            refuse_unreachable(layer, goal, eps, cap, look, max_bytes, saturated)
        chosen.append(found)

    def tighter(chosen):  # the least bound when the tighter ones gain on the spectral recursion
        value = bound(chosen)
        return value if value < bound(chosen, spectral_only=True) else None

    order = np.argsort([-layer.weights.size for layer in layers])  # widest layer first
    value = tighter(chosen) if bound.tighter else None
    if value is None:
        if bound.tighter:  # no gain at the first n reaching the goals: bisect as without them
            chosen = [
                layer.smallest(0, goal, n, limit, failing=layer.below)
                for layer, goal, n, limit in zip(layers, goals, chosen, limits)
            ]
        for k in order:  # the spectral recursion alone: cheap, one step at a time
            while chosen[k] > 1:
                trial = [*chosen[:k], chosen[k] - 1, *chosen[k + 1 :]]
                if bound(trial, spectral_only=True) > aim:
                    break
                chosen = trial
        value = tighter(chosen) if bound.tighter else None
    if value is not None:
        for k in order:  # the tighter bounds, per layer, widest first
            chosen[k], value = least_passing(chosen, k, bound, aim, layers[k].cache, value)
    if max(chosen) > cap:
        raise InvalidParameterError(
            f"`max_values_per_input` must be at least {max(chosen)} to reach eps = {eps:g} "
            f"(the search, which does not depend on the cap, found n = "
            f"{'/'.join(map(str, chosen))} per layer); got {cap}."
        )
    return chosen


def least_passing(chosen, k, value, aim, evaluated, top=None) -> tuple[int, float]:
    """``(n, value)``: the least ``n`` in ``[1, chosen[k]]`` at which ``value`` of ``chosen``
    with its entry ``k`` set to ``n`` is at most ``aim``, and that value, given that it is at
    ``chosen[k]`` (where it is ``top``, if known) and that it falls as ``n`` grows.

    First a search over the ``evaluated`` n below ``chosen[k]`` (layer ``k`` is solved there
    already): the largest of them, where the goal search failed last and which usually fails
    here too, then a bisection over the others if it passes. Then a bisection of the gap they
    leave that tries the n where the log-linear interpolation of ``value`` between the ends of
    the gap crosses ``aim`` (clamped into the gap), or its middle after two tries in a row that
    did not halve the gap. Under monotonicity every bracketing finds the same n as a plain
    bisection between 0 and ``chosen[k]``, with fewer solves: on 784-500-10 at eps = 0.01 that
    bisection solved the 784-wide layer at n = 26, 39, 46, 42, 44 and 45 (26 and 39 alone took
    a third of all solving), where the bracket (40, 60) of the goal search's own solves and the
    interpolation try 48, 45 and 44.
    """
    failing, passing = 0, chosen[k]
    seen = {} if top is None else {passing: top}

    def passes(n):
        seen[n] = value([*chosen[:k], n, *chosen[k + 1 :]])
        return seen[n] <= aim

    below = sorted(m for m in evaluated if m < passing)
    m = below[-1] if below else None  # first the largest: the goal search failed just below
    while below:
        if passes(m):
            passing, below = m, [x for x in below if x < m]
        else:
            failing, below = m, [x for x in below if x > m]
        m = below[len(below) // 2] if below else None
    slow = 0  # tries in a row that did not halve the gap
    while passing - failing > 1:
        gap = passing - failing
        n = (failing + passing) // 2
        high, low = seen.get(failing, math.inf), seen.get(passing, 0.0)
        if slow < 2 and math.isfinite(high) and 0.0 < low:  # high > aim >= low > 0
            share = math.log(high / aim) / math.log(high / low)
            n = min(max(math.ceil(failing + share * gap), failing + 1), passing - 1)
        if passes(n):
            passing = n
        else:
            failing = n
        slow = 0 if 2 * (passing - failing) <= gap else slow + 1
    return passing, seen.get(passing, top)


def refuse_unreachable(layer, goal, eps, cap, look, max_bytes, saturated=None):
    """Raise: no n the search may try reaches ``goal``; say which limit stopped it (with
    ``saturated``, the n from which the layer's solve no longer changes)."""
    tried = max(layer.cache)
    reached = layer.cache[tried][0]
    relation = ">=" if tried in layer.bounded else "="
    missed = (
        f"layer {layer.index} still errs by τ {relation} {reached:.3e} at n = {tried}, above its "
        f"share {goal:.3e} of eps"
    )
    if saturated is not None and tried >= saturated:
        name, value = layer.constraint()
        raise InvalidParameterError(
            f"`{name}` must allow more to reach eps = {eps:g}: from n = {saturated} on, every "
            f"SubsetSum pool of layer {layer.index} holds the most values solver "
            f"{layer.solver!r} reads, so no larger n changes its subsets, and {missed}; got "
            f"{name}={value!r}."
        )
    wanted = layer.wanted
    if wanted <= look:
        need = layer.need_bytes(wanted)
        raise InvalidParameterError(
            f"`max_bytes` must cover the estimated {size_text(need)} of the next n the search "
            f"tries, {wanted}, to reach eps = {eps:g} ({missed}); got {size_text(max_bytes)}."
        )
    raise InvalidParameterError(
        f"`max_values_per_input` must be raised to reach eps = {eps:g}, by how much cannot be "
        f"estimated reliably: the search tried n up to {tried} (it looks up to n = {look}, "
        f"{LOOK_PAST_CAP}x the cap and at least {START}) and {missed}; got {cap}."
    )
