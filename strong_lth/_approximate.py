"""Prune one fixed random network so that it approximates a target: :func:`approximate`."""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from . import bounds
from ._approximate_conv import conv_ticket
from ._certify import METHODS as CERTIFICATES
from ._certify import certified_error, certify, cheap_methods, rigorous_bounds
from ._cluster import check_reachable, connect
from ._search import (
    BYTES_PER_VALUE,
    SAFETY,
    TINY,
    TOL_FACTOR,
    NestedLayer,
    budget_split,
    check_bytes,
    fixed_values,
    norm_lower_bound,
    progress_bar,
    search,
)
from ._shards import (
    KEPT_BYTES_PER_VALUE,
    RESIDENT_BYTES,
    largest_fitting,
    layer_masks,
    layer_sums,
    least_bytes,
    reach_floor,
    reach_values,
    solve_layer,
)
from ._validation import check_real
from .constructions import CONSTRUCTIONS
from .convnets import ConvNetwork
from .exceptions import CertificationError, InvalidParameterError, TheoryAssumptionWarning
from .gadgets import error_matrix, signed_inputs
from .networks import ReLUNetwork
from .parameters import DEFAULTS, MAX_BYTES, ApproximateParameters
from .random_network import RandomNetwork
from .report import LayerReport, Report
from .subset_sum import METHODS
from .ticket import Ticket

__all__ = ["approximate"]

EXACT_BUDGET_INSTANCES = 20_000
"""Layers with at most this many instances get the per-weight budget n by search; larger ones
by extrapolation (the search would solve instances far larger than the ticket needs)."""

RESOLUTION = 1e-12
"""Smallest ``eps`` relative to the target's output scale ``r prod_i ||W_i||_F``: the best subset
of a largest solver pool (48 values for ``mitm``) errs by about ``2^-48 ≈ 4e-15`` of a weight at
best and every sum is rounded to float64, so a certified error below this is out of reach."""

MAX_SCALE = 1e150
"""Largest output scale ``r prod_i ||W_i||_F`` (Frobenius norms: cheap, and at least the spectral
ones, so it bounds ``||F(x)||``): the certificate and the worst-case search square outputs, which
must stay finite in float64."""

BOUND_DELTA = 0.01
"""Failure probability at which the report evaluates the construction's width bound."""

EXACT_TAU_ENTRIES = 2**22
"""Largest error matrix ``Δ_i`` (entries) whose exact spectral norm every solve computes. Above
it (a 4096 x 4096 layer's Δ has 2^25 entries: a full SVD takes a minute or more on one core) a
solve computes only a rigorous lower bound of ``τ_i``
(:func:`~strong_lth._search.norm_lower_bound`), which alone decides that an n fails its goal; the
exact τ is computed where it could pass (:meth:`~strong_lth._search.NestedLayer.reaches`)."""

REACH_VALUES = 64
"""Largest n whose pools :meth:`_Layer.first_n` inspects (a layer of 4096 x 4096 weights
regenerates 2^30 random values for it: about half a minute on one core)."""

SEARCH_SKIPS = ("split",)
"""Bounds that certify a ticket by default but that the search does not evaluate unless asked
(``approximate(certificate=...)``): "split" costs one lockstep pass per sub-box, and the search
evaluates its bound about ``l log2(n)`` times (on the demo target 8-16-16-4 at eps = 0.01 it
chose the same widths as "lockstep" at six times the time)."""


@dataclass
class _Layer(NestedLayer):
    """One layer of a dense target, solved by its construction at any n, in shards of output
    rows when the solve is large (:func:`strong_lth._shards.solve_layer`), here or on a Dask
    cluster."""

    MEMORY: ClassVar[str] = (
        f"{BYTES_PER_VALUE} bytes per target weight and value per input in one piece, or in "
        f"shards of rows {RESIDENT_BYTES} bytes per target weight and {KEPT_BYTES_PER_VALUE} per "
        "value per input"
    )

    construction: str = "pensia"
    size: int | None = None  # approximate(subset_size=): every subset has exactly this many
    max_size: int | None = None  # approximate(max_subset_size=): at most this many
    fewest: bool = True  # approximate(fewest=): the fewest values within the tolerance
    max_bytes: int = MAX_BYTES  # solves larger than this go in shards of rows (strong_lth._shards)
    client: Any = None  # a distributed.Client that solves the shards, or None: this process
    last: Any = None  # (n, Δ) of the latest solve whose τ is a lower bound only

    def solve(self, n: int):
        m = self._warm(n)
        packed, a, b, missing = solve_layer(
            self.weights,
            self.network.with_values_per_input(self.values(n)),
            self.index,
            signed=self.signed,
            construction=self.construction,
            solver=self.solver,
            tol=self.tol,
            size=self.size,
            max_size=self.max_size,
            fewest=self.fewest,
            start=None if m is None else (self.cache[m][2], m),
            max_bytes=self.max_bytes,
            client=self.client,
        )
        delta = error_matrix(self.weights, a, b, self.signed)
        worst = float(np.abs(delta).max(initial=0.0))
        if self.size is not None and missing:
            return math.inf, math.inf, packed, (a, b)  # a sign pool below `size`: no ticket
        if delta.size <= EXACT_TAU_ENTRIES:
            return float(np.linalg.norm(delta, 2)), worst, packed, (a, b)
        self.bounded.add(n)
        self.last = (n, delta)
        return norm_lower_bound(delta), worst, packed, (a, b)

    def saturation(self, limit: int) -> int | None:
        """The least n (at most ``limit``) at which every SubsetSum pool of this ``pensia`` layer
        holds the most values its solver reads (``METHODS[solver].limit``: 48 for ``mitm``, more
        with subsets of a few values), or None (no such n up to ``limit``, no limit, another
        construction).

        A pool of input j and sign s holds the units ``k`` with ``sign(u_jk) = s`` in order
        (:func:`strong_lth.constructions._pools.sign_pools`), and a solver reads its first
        values up to that limit, which the nested networks share: past this n no pool, hence no
        subset the layer keeps, changes. Exactly k values (``subset_size``) or at most k
        (``max_subset_size``) can need more values than that to reach a tolerance (784-500-10
        at eps = 0.01 with ``subset_size=4``: layer 2 needs pools past 48 values), and the
        search would otherwise solve the same pools again at every larger n up to its limit.
        """
        cap = self.size if self.size is not None else self.max_size
        most = METHODS[self.solver].limit(cap)
        if self.construction != "pensia" or most is None:
            return None
        d_in = self.weights.shape[1]
        inputs = np.arange(d_in)[:, None]
        network = self.network.with_values_per_input(self.values(limit))
        u = network.entries(2 * self.index - 1, np.arange(limit)[None, :] * d_in + inputs, inputs)
        counts = [np.cumsum(u > 0, axis=1)]
        if self.signed.any():
            counts.append(np.cumsum(u[self.signed] < 0, axis=1))
        if any(count[:, -1].min() < most for count in counts):  # a pool still short at `limit`
            return None
        # the n at which each pool's count first reaches `most` (1-based), the largest of them
        return max(int(np.argmax(count >= most, axis=1).max()) + 1 for count in counts)

    def constraint(self) -> tuple[str, Any]:
        """The option that stops this layer's pools from reaching a tolerance once they are
        full (:meth:`saturation`): ``subset_size``, ``max_subset_size``, or the solver."""
        if self.size is not None:
            return "subset_size", self.size
        if self.max_size is not None:
            return "max_subset_size", self.max_size
        return "solver", self.solver

    def first_n(self, goal: float, limit: int) -> tuple[int, int]:
        """``(START, 0)``, or on a layer above :data:`EXACT_TAU_ENTRIES` the least n (from
        :data:`START`, at most ``limit`` and :data:`REACH_VALUES`) at which every weight above
        ``goal`` has a product of its sign in each of its pools: below it ``τ`` exceeds the goal
        (:func:`strong_lth._shards.reach_floor`, a rigorous lower bound), so those n are not
        solved: ``(max(START, least), least - 1)``. Each of the n values is in a weight's pool
        with a product of its sign with probability 1/4, so a pool misses with probability
        ``(3/4)^n``: with 2 d_out d_in pools (33 million on a 4096 x 4096 first layer), n must
        reach about ``ln(2 d_out d_in) / ln(4/3)`` (55 measured on 2048 x 2048 at eps = 0.01)
        before no weight above the goal is stranded, where the plain search starts at 8."""
        start, failing = super().first_n(goal, limit)
        d_out, d_in = self.weights.shape
        if d_out * (d_in + int(self.signed.sum())) <= EXACT_TAU_ENTRIES:
            return start, failing
        most = min(limit, REACH_VALUES)
        network = self.network.with_values_per_input(self.values(most))
        reach = reach_values(self.weights, network, self.index, self.signed)
        self.floor = floor = reach_floor(reach, self.weights)[: most + 1]
        passing = np.flatnonzero(floor <= goal)
        least = min(int(passing[0]) if len(passing) else most, most)
        return max(start, least), max(failing, least - 1)

    def exact_tau(self, n: int) -> float:
        """The exact ``τ`` at ``n``: from the latest solve's ``Δ`` when it is this n's, else
        from ``(A, B)`` recomputed out of the cached packed keep
        (:func:`strong_lth._shards.layer_sums`)."""
        if self.last is not None and self.last[0] == n:
            delta = self.last[1]
        else:
            network = self.network.with_values_per_input(self.values(n))
            a, b = layer_sums(self.cache[n][2], network, self.index, n)
            delta = error_matrix(self.weights, a, b, self.signed)
        self.last = None
        return float(np.linalg.norm(delta, 2))

    def need_bytes(self, n: int) -> int:
        """The least estimated bytes of this layer at ``n``, in one piece or in shards of rows
        (:func:`strong_lth._shards.least_bytes`)."""
        return least_bytes(*self.weights.shape, n)

    def largest_fitting(self, max_bytes: int) -> int:
        """The largest n whose solve fits in ``max_bytes``, in one piece or in shards
        (:func:`~strong_lth._shards.largest_fitting`)."""
        return largest_fitting(*self.weights.shape, max_bytes)


def approximate(
    target: ReLUNetwork,
    *,
    eps: float | None = DEFAULTS["eps"],
    values_per_input=DEFAULTS["values_per_input"],
    construction: str = DEFAULTS["construction"],
    solver: str = DEFAULTS["solver"],
    radius: float = DEFAULTS["radius"],
    rng=DEFAULTS["rng"],
    distribution=DEFAULTS["distribution"],
    max_values_per_input: int = DEFAULTS["max_values_per_input"],
    max_bytes: int = DEFAULTS["max_bytes"],
    certificate=DEFAULTS["certificate"],
    measure: bool = DEFAULTS["measure"],
    progress: bool = DEFAULTS["progress"],
    subset_size: int | None = DEFAULTS["subset_size"],
    max_subset_size: int | None = DEFAULTS["max_subset_size"],
    fewest: bool = DEFAULTS["fewest"],
    source_density: float = DEFAULTS["source_density"],
    scheduler=DEFAULTS["scheduler"],
) -> Ticket:
    """Find masks of one random network whose pruned network approximates ``target``.

    Every option is declared once, with its default, in
    :class:`~strong_lth.parameters.ApproximateParameters`, which checks it.

    Parameters
    ----------
    target : ReLUNetwork or ConvNetwork
        The network ``F`` to approximate (depth l, biases allowed: docs/theory.md, section 1).
        A :class:`~strong_lth.convnets.ConvNetwork` goes to
        :func:`~strong_lth._approximate_conv.approximate_conv` (convolutional gadget and
        certificate; bias-free, construction "pensia") and gives a
        :class:`~strong_lth.conv_ticket.ConvTicket`.
    eps : float, optional
        Automatic mode: the smallest n per layer whose ticket's *certified* error
        ``sup_{||x|| <= radius} ||F(x) - G(x)||_2`` is at most ``eps``. Any finite ``eps`` from
        :data:`RESOLUTION` times the target's output scale ``r prod_i ||W_i||_F`` up (``r`` is
        ``sqrt(radius^2 + 1)`` with biases); an ``eps`` the untrained ticket already meets gives
        n = 1 everywhere.
    values_per_input : int or sequence of int, optional
        Fixed mode: n per layer pair (hidden width ``d_{i-1} n``). Exactly one of ``eps`` and
        ``values_per_input`` must be given.
    construction : str
        A :data:`strong_lth.constructions.CONSTRUCTIONS` name: ``"pensia"``, subsets of
        products (docs/theory.md, section 3), or ``"malach"``, one product per weight
        (section 4); each declares its random network's shapes and the options it supports.
    solver : str
        SubsetSum method of the constructions whose options list ``"solver"``
        (:data:`strong_lth.subset_sum.METHODS`).
    radius : float
        Input domain radius; the output scale ``r prod_i ||W_i||_F`` must stay below
        :data:`MAX_SCALE`.
    rng : None, int or numpy.random.Generator
        Seed of the random network; the ticket records it, so the same seed gives the same
        ticket, bit for bit.
    distribution : str or Distribution
        Weights of the random network (default Uniform[-1, 1];
        :data:`strong_lth.distributions.NAMES`, among them ``"hyperbolic"``, the density
        ``∝ 1/|w|`` of Orseau, Hutter, Rivasplata 2020, arXiv:2006.12156), for every
        construction.
    max_values_per_input : int
        Largest n of the ticket (both modes). In automatic mode the search may look up to
        :data:`LOOK_PAST_CAP` times past it, only to state in its error how large a cap is
        enough; the ticket it returns does not depend on the cap.
    max_bytes : int, default :data:`~strong_lth.parameters.MAX_BYTES` (4 GiB)
        Refuse, before allocating, any layer solve estimated above this many bytes
        (:func:`strong_lth._shards.least_bytes`: 64 bytes per target weight and value per input
        in one piece; a layer larger than that or than 256 MiB is solved in shards of rows, at
        64 bytes per target weight and 12 per value per input kept whole beside one shard,
        :func:`strong_lth._shards.shard_rows`). Fixed mode checks every layer up front;
        automatic mode checks a lower estimate of the n each layer needs up front, then every
        n before the search tries it.
    certificate : str or sequence of str, optional
        The rigorous bounds that certify the ticket (:data:`strong_lth.certify.METHODS`), both in
        the search and in the report; default: those cheap at the target's size
        (:func:`strong_lth.certify.cheap_methods`: the spectral recursion always, the lockstep
        bound when one pass takes about a second at most, sub-box splitting for few inputs), of
        which the search itself skips :data:`SEARCH_SKIPS`. "spectral", on which the search
        builds its goals, is always among them. The ticket is certified by the least of them.
    measure : bool, default True
        Search for the measured worst case (``report.measured``). False skips it (``None`` in
        the report); the certificate does not use it. On a small target it is about a third of
        a call with ``certificate="spectral"`` (0.12 s against 0.08 s on 4-8-2 at n = 10), far
        less beside the default bounds, whose "split" pass dominates there (0.57 s).
    progress : bool
        Show a progress bar on stderr (tqdm): one step per layer solved at one n, with the
        latest n and τ. Silent when stderr is not a terminal, and for calls shorter than
        :data:`PROGRESS_DELAY` seconds.
    subset_size : int, optional
        Every chosen subset has exactly ``subset_size`` values (Natale et al., *On the sparsity
        of the strong lottery ticket hypothesis*, NeurIPS 2024, arXiv:2410.14754), so that the
        ticket keeps ``subset_size`` products per solved instance, fixed in advance; the solver
        must take a size (``"mitm"``, ``"bruteforce"``). Only for constructions whose options
        list it. In automatic mode k stays fixed and the search is over n, an n whose sign
        pools are smaller than k counting as not reaching ``eps``; in fixed mode such an n is
        refused.
    max_subset_size : int, optional
        Automatic mode only: every chosen subset has at most ``max_subset_size`` values. By
        default automatic mode already keeps, per instance, a subset with the fewest values
        within its tolerance (:func:`strong_lth.subset_sum.solve_batch` with ``fewest=True``);
        the cap bounds the ticket's density in advance, in the spirit of Natale et al. (2024),
        and an instance that no subset of at most that many values brings within its
        tolerance keeps the closest of them (the search then needs a larger n). Only for
        constructions whose options list it; not with ``subset_size``.
    fewest : bool, default True
        Automatic mode: keep, per SubsetSum instance, a subset with the *fewest* values within
        its tolerance (:func:`strong_lth.constructions.pensia.choose` with ``fewest=True``).
        False keeps any subset within it, found on the first 16 values of its pool first
        (:data:`strong_lth.constructions.pensia.FIRST_PASS_VALUES`): more kept weights, much
        less CPU on long pools (burkholz on 128-64-10 at eps = 0.01, pools of about 28 values:
        271x the target's parameters kept in 20 CPU s, against 148x in 228 s), about as much
        on short ones (pensia on 128-128-10: 14.8x against 11.6x, 3 to 4 CPU s either way). Only
        for constructions whose options list it; True in fixed mode (each instance's optimum)
        and with ``subset_size`` or ``max_subset_size``.
    source_density : float, default 1.0
        Probability ``p`` in (0, 1] that a weight of the random network is present (an
        Erdős–Rényi sparse network: Gadhikar, Mukherjee, Burkholz 2023, arXiv:2210.02412;
        :class:`~strong_lth.random_network.RandomNetwork`). Absent weights are never offered to
        the solver, so the ticket keeps only present ones; ``p = 1`` gives the dense network's
        tickets bit for bit.
    scheduler : str or distributed.Client, optional
        Solve each layer's shards of rows on a Dask cluster: a scheduler address
        (``"tcp://host:8786"``, connected within 10 s, closed at the end) or a connected client
        (left open). Workers regenerate their rows of the random network from the seed and
        return masks; the ticket is the one this process computes, bit for bit (a shard lost
        with its worker is recomputed by Dask). Workers need ``strong_lth`` installed. Every
        construction takes it (``burkholz``, which solves its whole network at once, in blocks
        of rows of each of its layer solves: :func:`strong_lth.constructions.burkholz.solve`);
        not a convolutional target.

    Returns
    -------
    Ticket
        With ``report`` (:class:`~strong_lth.report.Report`): per layer n, width, per-weight
        errors, ``η_i``, ``τ_i``, the n the per-weight budget would need (or that it is not
        reached within ``max_values_per_input``); certified and measured error; parameter
        multiples; timings.

    Raises
    ------
    InvalidParameterError
        Bad input, or an option the construction does not support; ``max_values_per_input``
        too small for ``eps`` (stating a cap that is enough, or that none can be estimated);
        ``max_bytes`` below the estimate (stating it); in fixed mode, a sign pool smaller than
        ``subset_size``; a ``scheduler`` that is not an address or client, or where no scheduler
        answers within 10 s.

    Notes
    -----
    Random networks of one seed are nested (the network with n values per input is a sub-network
    of the one with n + 1), so the automatic search moves along one random draw instead of
    re-drawing: it splits ``eps`` into per-layer goals for ``τ_i`` by the spectral recursion and
    bisects n per layer, then lowers any n whose layer has slack one step at a time while the
    spectral bound stays within ``eps``. When ``certificate`` holds a bound that is tighter on
    the first n reaching the goals, the search stops there instead and finds, per layer (widest
    first), the least n at which the least bound of the whole ticket
    (:func:`strong_lth.certify.rigorous_bounds`) stays within ``eps``, bracketed by the n already
    solved (:func:`strong_lth._search.search`). ``τ_i`` is the one-sided
    error
    (:func:`~strong_lth.gadgets.error_matrix`): a pair whose input is never negative is not
    charged for ``B_i``. [P] Theorem 1 (Pensia et al. 2020, arXiv:2006.07990) predicts
    ``n_i = O(log(d_{i-1} d_i l / min(ε, δ)))``; the per-weight budget ``η_i`` of its proof
    would ask for more, and the report shows how much.

    Examples
    --------
    >>> from strong_lth import ReLUNetwork, approximate
    >>> target = ReLUNetwork.random((4, 8, 2), rng=0)
    >>> ticket = approximate(target, eps=0.05, rng=1)
    >>> ticket.report.certified <= 0.05
    True
    """
    if not isinstance(target, (ReLUNetwork, ConvNetwork)):
        raise InvalidParameterError(
            f"`target` must be a ReLUNetwork or a ConvNetwork; got {type(target).__name__}."
        )
    options = ApproximateParameters(
        eps=eps,
        values_per_input=values_per_input,
        construction=construction,
        solver=solver,
        radius=radius,
        rng=rng,
        distribution=distribution,
        max_values_per_input=max_values_per_input,
        max_bytes=max_bytes,
        certificate=certificate,
        measure=measure,
        progress=progress,
        subset_size=subset_size,
        max_subset_size=max_subset_size,
        fewest=fewest,
        source_density=source_density,
        scheduler=scheduler,
    )
    if isinstance(target, ConvNetwork):  # the convolutional gadget and certificate
        return conv_ticket(target, options)
    check_reachable(options.scheduler)  # now, not after the spectral norms of a large target
    construction, solver, radius = options.construction, options.solver, options.radius
    cap, max_bytes, seed = options.max_values_per_input, options.max_bytes, options.rng
    declared = CONSTRUCTIONS[construction]
    methods, searched = _certificate_methods(certificate, target.widths)
    augmented = target.augmented()
    depth = augmented.depth
    network = RandomNetwork(
        seed,
        augmented.widths,
        1,
        options.distribution,
        options.source_density,
        layout=declared.shapes,
    )
    if declared.solve is not None:  # its layers are not independent pairs: solved as a whole
        return _approximate_whole(target, options, declared, network)
    layers = [
        _Layer(
            i,
            w,
            signed_inputs(i, w.shape[1], target.has_bias),
            network,
            solver,
            construction=construction,
            size=subset_size,
            max_size=options.max_subset_size,
            fewest=options.fewest,
            max_bytes=max_bytes,
        )
        for i, w in enumerate(augmented.weights, start=1)
    ]
    etas = [None] * depth
    if eps is None:  # sizes first: before the spectral norms of a large target
        chosen = fixed_values(values_per_input, depth, cap)
        for layer, n in zip(layers, chosen):
            check_bytes(layer, n, max_bytes, "at n = {n} values per input")
    input_radius = math.hypot(radius, 1.0) if target.has_bias else radius
    frobenius = np.array([np.linalg.norm(w) for w in augmented.weights])
    scale = _output_scale(frobenius, input_radius, radius)
    if eps is not None:
        eps = _check_eps(eps, scale)
        # before the spectral norms (slow on a large target): every goal is at most eps over
        # its first-order factor, taken with lower bounds of the other layers' norms
        floors = np.array([_norm_floor(w) for w in augmented.weights])
        for layer, ceiling in zip(layers, _goal_ceilings(floors, input_radius, eps)):
            check_bytes(layer, _fewest_values(layer, ceiling), max_bytes, LOWER_ESTIMATE)
    norms = np.array([np.linalg.norm(w, 2) for w in augmented.weights])
    if eps is not None:
        goals = budget_split(norms, input_radius, eps * (1 - SAFETY))
        widths = np.array(augmented.widths)
        tols = goals / (TOL_FACTOR * (np.sqrt(widths[1:]) + np.sqrt(2 * widths[:-1])))
        for layer, goal, tol in zip(layers, goals, tols):
            layer.tol = float(tol)
            check_bytes(layer, _fewest_values(layer, goal), max_bytes, LOWER_ESTIMATE)
        if eps < 1:  # the per-weight budget of [P] is stated for eps < 1
            etas = np.atleast_1d(bounds.per_weight_precision(eps, widths[:-1], widths[1:], depth))
    assumptions = _warn_assumptions(target, radius, calls=1)
    with progress_bar(progress) as bar, connect(options.scheduler) as client:
        for layer in layers:
            layer.bar, layer.client = bar, client
        start = time.perf_counter()
        if eps is not None:
            bound = _TicketBound(target, layers, norms, input_radius, radius, searched, eps)
            chosen = search(layers, goals, bound, eps, cap, max_bytes)
        for layer in layers:
            layer.last = None  # free the latest Δ before the masks
        masks = []
        for layer, n in zip(layers, chosen):
            if not math.isfinite(layer(n)[0]):  # fixed mode only: the search never picks it
                _refuse_small_pools(layer, n, subset_size)
            masks += layer_masks(layer(n)[2], n)
        search_seconds = time.perf_counter() - start
        budget = [(None, False, None)] * depth
        if eps is not None:
            budget = [
                _budget(layer, n, eta, cap, max_bytes) if eta is not None else (None, False, None)
                for layer, n, eta in zip(layers, chosen, etas)
            ]
        ticket = Ticket(
            seed=seed,
            distribution=options.distribution,
            widths=augmented.widths,
            values_per_input=tuple(chosen),
            construction=construction,
            masks=tuple(masks),
            input_bias=target.has_bias,
            target_fingerprint=target.fingerprint(),
            source_density=options.source_density,
            subset_size=subset_size,
        )
        del masks  # the ticket holds its own checked copy: free ours before certifying
        bar.set_description_str("approximate: certifying", refresh=False)
        start = time.perf_counter()
        skip = {} if measure else {"samples": 1, "starts": 1, "ascent_steps": 0}
        found = certify(target, ticket, radius=radius, rng=seed, method=methods, **skip)
        certify_seconds = time.perf_counter() - start
    if eps is not None and found.certified > eps:
        raise CertificationError(
            f"the ticket's certificate {found.certified!r} ({found.method}) exceeds eps = {eps!r}, "
            "which the search had met on the same masks: this is a bug."
        )
    paper = _paper_widths(declared, augmented.widths, eps, found.certified)
    rows = tuple(
        LayerReport(
            d_in=int(layer.weights.shape[1]),
            d_out=int(layer.weights.shape[0]),
            values_per_input=int(n),
            hidden_width=int(layer.weights.shape[1] * n),
            instances=int(layer.weights.shape[0] * (layer.weights.shape[1] + layer.signed.sum())),
            max_weight_error=float(found.max_weight_error[k]),
            median_weight_error=float(found.median_weight_error[k]),
            tau=float(found.tau[k]),
            eta=None if etas[k] is None else float(etas[k]),
            budget_values_per_input=budget[k][0],
            budget_exact=budget[k][1],
            budget_beyond=budget[k][2],
            evaluated=tuple((int(m), value[0]) for m, value in sorted(layer.cache.items())),
            paper_width=None if paper[k] is None else float(paper[k]),
        )
        for k, (layer, n) in enumerate(zip(layers, chosen))
    )
    seconds = {
        "solve": sum(layer.seconds for layer in layers),
        "search + masks": search_seconds,
        "certify": certify_seconds,
    }
    return _reported(ticket, target, options, declared, eps, rows, found, seconds, assumptions)


def _approximate_whole(target, options, declared, network) -> Ticket:
    """:func:`approximate` for a construction that solves its whole network
    (``Construction.solve``) and certifies it itself (``Construction.certificate``)."""
    depth, radius, eps = target.depth, options.radius, options.eps
    if options.certificate not in (None, "spectral", ("spectral",), ["spectral"]):
        raise InvalidParameterError(
            f"`certificate` must be None or 'spectral' for construction {declared.name!r}, which "
            f"certifies with its own recursion (Construction.certificate); got "
            f"{options.certificate!r}."
        )
    cap = options.max_values_per_input
    chosen = None if eps is not None else fixed_values(options.values_per_input, depth, cap)
    if eps is not None:
        norms = np.array([np.linalg.norm(w) for w in target.augmented().weights])
        input_radius = math.hypot(radius, 1.0) if target.has_bias else radius
        eps = _check_eps(eps, _output_scale(norms, input_radius, radius))
    assumptions = _warn_assumptions(target, radius, calls=2)
    begin = time.perf_counter()
    with connect(options.scheduler) as client:
        chosen, masks = declared.solve(
            target,
            network,
            eps=eps,
            values_per_input=chosen,
            radius=radius,
            solver=options.solver,
            fewest=options.fewest,
            max_values_per_input=cap,
            max_bytes=options.max_bytes,
            client=client,
        )
    solve_seconds = time.perf_counter() - begin
    ticket = Ticket(
        seed=options.rng,
        distribution=options.distribution,
        widths=network.widths,
        values_per_input=tuple(chosen),
        construction=declared.name,
        masks=tuple(masks),
        input_bias=target.has_bias,
        target_fingerprint=target.fingerprint(),
        source_density=options.source_density,
    )
    begin = time.perf_counter()
    skip = {} if options.measure else {"samples": 1, "starts": 1, "ascent_steps": 0}
    found = certify(target, ticket, radius=radius, rng=options.rng, method="spectral", **skip)
    certify_seconds = time.perf_counter() - begin
    if eps is not None and found.certified > eps:
        raise CertificationError(
            f"the ticket's certificate {found.certified!r} exceeds eps = {eps!r}, which the "
            "construction's search had met on the same masks: this is a bug."
        )
    widths = network.widths
    paper = _paper_widths(declared, widths, eps, found.certified)
    rows = tuple(
        LayerReport(
            d_in=int(widths[k]),
            d_out=int(widths[k + 1]),
            values_per_input=int(n),
            hidden_width=int(widths[k] * n),
            instances=int(shape[0] * (widths[k] + (widths[k] - target.has_bias) * (k == 0))),
            max_weight_error=float(found.max_weight_error[k]),
            median_weight_error=float(found.median_weight_error[k]),
            tau=float(found.tau[k]),
            paper_width=None if paper[k] is None else float(paper[k]),
        )
        for k, (n, shape) in enumerate(zip(chosen, ticket.random_network().shapes[1:]))
    )
    seconds = {"solve": solve_seconds, "certify": certify_seconds}
    return _reported(ticket, target, options, declared, eps, rows, found, seconds, assumptions)


def _reported(ticket, target, options, declared, eps, rows, found, seconds, assumptions) -> Ticket:
    """``ticket`` with its :class:`~strong_lth.report.Report` (the same for every
    construction: the layer rows, the certificate ``found`` and the timings differ)."""
    report = Report(
        construction=declared.name,
        solver=options.solver if "solver" in declared.options else "-",
        seed=options.rng,
        eps=eps,
        radius=options.radius,
        layers=rows,
        random_params=ticket.random_network().n_params,
        kept_params=ticket.n_kept,
        target_params=target.n_params,
        certified=found.certified,
        measured=found.measured if options.measure else None,
        certificate_method=found.method,
        bounds=dict(found.bounds),
        seconds=seconds,
        assumptions=assumptions,
        distribution=options.distribution.name,
        source_density=options.source_density,
        subset_size=options.subset_size,
        max_subset_size=options.max_subset_size,
        fewest=options.fewest,
    )
    return Ticket(**{**ticket.__dict__, "report": report})


def _warn_assumptions(target, radius, *, calls: int) -> tuple:
    """The theorem assumptions ``target`` violates at ``radius``, warned about (a
    :class:`TheoryAssumptionWarning` pointing at the caller of :func:`approximate`, which is
    ``calls`` frames above the function calling this one)."""
    assumptions = tuple(target.assumption_violations(radius))
    if assumptions:
        warnings.warn(
            "theorem assumptions do not hold: " + "; ".join(assumptions),
            TheoryAssumptionWarning,
            stacklevel=2 + calls,
        )
    return assumptions


def _paper_widths(declared, widths, eps, certified) -> list:
    """The construction's width bound per layer at C = 1 and δ = :data:`BOUND_DELTA`, at ``eps``
    (else the certified error); None per layer where no bound is stated (an error >= 1)."""
    at, depth = eps if eps is not None else certified, len(widths) - 1
    if not 0 < at < 1:
        return [None] * depth
    d_in, d_out = np.array(widths[:-1]), np.array(widths[1:])
    return list(np.broadcast_to(declared.bound(d_in, d_out, depth, at, BOUND_DELTA), depth))


LOWER_ESTIMATE = (
    "at n = {n}, a lower estimate of what its share of `eps` needs (a pool of n / 2 values "
    "has 2^(n/2) subsets, so its best error is rarely below min(max|W_i|, 1) 2^(-n/2))"
)


def _norm_floor(w) -> float:
    """A lower bound on ``||W||_2``: the largest Euclidean norm of a row or a column."""
    if w.size == 0:
        return 0.0
    return float(max(np.linalg.norm(w, axis=0).max(), np.linalg.norm(w, axis=1).max()))


def _goal_ceilings(floors, input_radius, eps) -> np.ndarray:
    """Upper bounds on the τ goals of :func:`~strong_lth._search.budget_split`: the certified
    error is at least its first-order term
    ``τ_i R_{i-1} prod_{k>i} ||W_k|| = τ_i r prod_{k != i} ||W_k||``, so a
    goal meeting ``eps`` is at most ``eps / (r prod_{k != i} floor_k)`` (inf past a zero
    floor)."""
    logs = np.log(np.maximum(floors, TINY))
    others = math.log(input_radius) + logs.sum() - logs
    with np.errstate(over="ignore"):
        return eps * np.exp(-others)


def _output_scale(norms, input_radius, radius) -> float:
    """``r prod_i ||W_i||``, with norms at least the spectral ones, bounds ``||F(x)||`` on the
    ball (the certificate scales with it); refuses a radius that makes it overflow what the
    certificate can square."""
    logs = np.log(np.maximum(norms, TINY))
    log_scale = math.log(input_radius) + float(logs.sum())
    if np.any(norms == 0):
        return 0.0
    if log_scale > math.log(MAX_SCALE):
        largest = radius * math.exp(math.log(MAX_SCALE) - log_scale)
        raise InvalidParameterError(
            f"`radius` must be at most {largest:.3g} for this target (its output scale "
            f"r prod_i ||W_i||_F must stay below {MAX_SCALE:g}, since outputs are squared in "
            f"float64); got {radius!r}."
        )
    return math.exp(log_scale)


def _check_eps(eps, scale) -> float:
    """``eps`` as a float in ``(0, inf)``, and at least ``RESOLUTION scale`` (the least error
    float64 sums can certify on this target), both checked here, before any search."""
    value = check_real("eps", eps, low=0.0, low_open=True)
    floor = RESOLUTION * scale
    if value < floor:
        raise InvalidParameterError(
            f"`eps` must be at least {floor:.3g} for this target and radius ({RESOLUTION:g} times "
            f"its output scale r prod_i ||W_i||_F = {scale:.3g}: float64 sums cannot certify "
            f"less); got {eps!r}."
        )
    return value


def _fewest_values(layer, goal) -> int:
    """A lower estimate of the n at which a layer's τ can reach ``goal``: a pool of
    ``m ≈ n / 2`` products of weights of scale 1 has ``2^m`` subsets, so the error of its best
    subset is rarely below ``2^-m``, never above ``|w|`` (the empty subset), and ``τ`` is at
    least the largest entry error."""
    largest = min(float(np.abs(layer.weights).max(initial=0.0)), 1.0)
    if largest <= goal:
        return 1
    return max(1, math.ceil(2 * math.log2(largest / max(goal, TINY))))


def _certificate_methods(certificate, widths):
    """``(certify, search)``: the bounds that certify the ticket, "spectral" (the goals' own
    recursion) and ``certificate``, by default every method cheap at this size; and those the
    search evaluates, the same but by default without "split" (:data:`SEARCH_SKIPS`)."""
    if certificate is None:
        methods = tuple(dict.fromkeys(("spectral", *cheap_methods(widths))))
        return methods, tuple(m for m in methods if m not in SEARCH_SKIPS)
    methods = (certificate,) if isinstance(certificate, str) else certificate
    if (
        not isinstance(methods, (list, tuple))
        or not methods
        or any(m not in CERTIFICATES for m in methods)
    ):
        raise InvalidParameterError(
            f"`certificate` must be one of {CERTIFICATES} or a non-empty sequence of them; "
            f"got {certificate!r}."
        )
    methods = tuple(dict.fromkeys(("spectral", *methods)))
    return methods, methods


class _TicketBound:
    """The least rigorous bound of the ticket with ``n`` values per input per layer, from each
    layer's cached ``(τ, A, B)``: the spectral recursion, and the tighter ``methods``
    (:func:`strong_lth.certify.rigorous_bounds`) when it is not enough.

    Where a layer cached only a lower bound of its τ (:data:`EXACT_TAU_ENTRIES`), the spectral
    recursion computed from the cached τ is a lower bound of the recursion; it is returned as is
    when above ``eps`` (the search compares every bound with an aim below ``eps``, and the
    recursion grows with every τ, so the exact value fails the aim too), else recomputed from
    exact τ (:meth:`~strong_lth._search.NestedLayer.exact`). For the same reason an n not
    solved yet whose τ has a floor (:meth:`~strong_lth._search.NestedLayer.tau_floor`, from
    :meth:`_Layer.first_n`) is not solved when the recursion of the floors already exceeds
    ``eps`` (the slack removal's n - 1 on a layer whose floor started the search at n)."""

    def __init__(self, target, layers, norms, input_radius, radius, methods, eps):
        self.target, self.layers, self.norms, self.eps = target, layers, norms, eps
        self.input_radius, self.radius = input_radius, radius
        self.others = tuple(m for m in methods if m != "spectral")
        self.tighter = bool(self.others)
        for layer in layers:
            layer.pairs = {} if self.tighter else None

    def __call__(self, chosen, *, spectral_only=False) -> float:
        if spectral_only or not self.tighter:  # lower bounds known without a solve may do
            floors = [layer.tau_floor(n) for layer, n in zip(self.layers, chosen)]
            if (
                None not in floors
                and certified_error(floors, self.norms, self.input_radius) > self.eps
            ):
                return certified_error(floors, self.norms, self.input_radius)
        taus = [layer(n)[0] for layer, n in zip(self.layers, chosen)]
        value = certified_error(taus, self.norms, self.input_radius)
        if value <= self.eps and any(n in layer.bounded for layer, n in zip(self.layers, chosen)):
            taus = [layer.exact(n)[0] for layer, n in zip(self.layers, chosen)]
            value = certified_error(taus, self.norms, self.input_radius)
        if spectral_only or not self.tighter:
            return value
        pairs = [layer.pairs[n] for layer, n in zip(self.layers, chosen)]
        found = rigorous_bounds(self.target, pairs, radius=self.radius, methods=self.others)
        return min(value, *found.values())


def _refuse_small_pools(layer, n, subset_size):
    """Raise: at ``n`` values per input a sign pool of ``layer`` has fewer than ``subset_size``
    values, so no subset of that size exists."""
    raise InvalidParameterError(
        f"`subset_size` must be at most the number of values in every sign pool of layer "
        f"{layer.index} at n = {n} (a pool holds about n / 2 of them); got {subset_size}: "
        "raise values_per_input or lower subset_size."
    )


def _budget(layer, n, eta, cap, max_bytes):
    """``(n, exact, beyond)``: the n at which every per-weight error of the layer is at most
    ``η``, by search (with an instance tolerance below ``η``) on small layers, else
    extrapolated; ``(None, True, cap)`` when the search reaches the cap without it."""
    if 2 * layer.weights.size <= EXACT_BUDGET_INSTANCES:
        exact = dataclasses.replace(
            layer, tol=eta / TOL_FACTOR, seconds=0.0, cache={}, pairs=None, bounded=set()
        )
        limit = min(cap, layer.largest_fitting(max_bytes))
        found = exact.smallest(1, eta, n, limit, clamp=True)
        layer.seconds += exact.seconds
        return found, True, None if found is not None else limit
    return layer.extrapolate(1, eta, n), False, None
