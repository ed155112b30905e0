"""Public SubsetSum entry points: :func:`solve`, :func:`solve_batch`, the method registry."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._config import kernel
from .._validation import as_generator, check_array, check_choice, check_int, check_real
from ..exceptions import InvalidParameterError
from . import _bruteforce, _cardinality, _cpsat, _dp, _heuristics, _mitm
from ._check import check_sizes, check_sums, recompute_sums
from ._chunks import launch
from ._grid import SMALLEST_STEP, used_magnitudes
from ._result import Status, SubsetSumBatchResult

__all__ = ["METHODS", "Method", "solve", "solve_batch", "warmup"]


@dataclass(frozen=True)
class Method:
    """A registered SubsetSum solver.

    ``run(values, lengths, targets, tol, time_limit, seeds, options)`` returns
    ``(masks, solver_sums, status, resolution)``; the public functions validate its input and
    re-check its output. ``grid`` methods quantise and report ``quantization_bound``;
    ``randomized`` ones receive one seed per instance drawn from ``rng``; ``sized`` ones accept
    ``sizes=`` (one subset size per instance) as a further keyword of ``run``. ``max_n`` is the
    most values per instance, and ``pool_limit(k)`` (if given) the most when no subset has more
    than k values (:meth:`limit`).
    """

    name: str
    run: Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
    description: str
    max_n: int | None = None
    grid: bool = False
    time_limit: bool = False
    randomized: bool = False
    sized: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)
    pool_limit: Callable[[int], int] | None = None

    def limit(self, most: int | None = None) -> int | None:
        """The most values per instance (None: no limit); with subsets of at most ``most``
        values (``size`` or ``max_size``), possibly more (``mitm``: 48, and up to 256 for
        ``most <= 4``, :func:`._cardinality.longest_pool`)."""
        if self.max_n is None or most is None or self.pool_limit is None:
            return self.max_n
        return max(self.max_n, self.pool_limit(most))


def _outputs(values):
    batch_size = values.shape[0]
    return (
        np.zeros(values.shape, np.bool_),
        np.empty(batch_size),
        np.full(batch_size, Status.FEASIBLE, np.int8),
    )


def _run_mitm(values, lengths, targets, tol, time_limit, seeds, options, sizes=None):
    masks, sums, status = _outputs(values)
    early = np.zeros(len(targets), np.bool_)
    tol = -1.0 if tol is None else tol
    fewest, most = options["fewest"], options["max_size"]
    if sizes is None and not fewest and most is None:
        launch(_mitm.mitm_batch, len(targets), values, lengths, targets, tol, masks, sums, early)
    elif sizes is not None:
        _sized(values, lengths, sizes, sizes, targets, tol, masks, sums, early)
    elif most is not None or not fewest:
        high = lengths if most is None else np.minimum(lengths, most)
        _sized(values, lengths, np.zeros_like(lengths), high, targets, tol, masks, sums, early)
    else:
        _deepening(values, lengths, targets, tol, masks, sums, early)
    status[~early] = Status.OPTIMAL
    return masks, sums, status, np.zeros(len(targets))


def _sized(values, lengths, low, high, targets, tol, masks, sums, early):
    """:func:`._cardinality.sized_batch` over the whole batch: subsets of ``low`` to ``high``
    values per instance."""
    launch(
        _cardinality.sized_batch,
        len(targets),
        values,
        lengths,
        low,
        high,
        targets,
        tol,
        masks,
        sums,
        early,
    )


FEWEST_CAPS = (5, 8)
"""Caps of the first passes of ``fewest`` without ``max_size`` on pools of more than
:data:`DEEPEN_ABOVE` values (:func:`_deepening`). Products of uniforms within a layer's
tolerance take 3.5 to 5.5 values on average, so most instances end in the first pass."""

DEEPEN_ABOVE = 24
"""Pools of at most this many values go straight to the uncapped pass: there ``2^(n/2)`` sums
per half are few, and a capped first pass costs more than it saves (measured on products of
uniforms: 39 µs against 41 µs per instance at 24 values, 119 µs against 61 µs at 28, 787 µs
against 123 µs at 34)."""


def _deepening(values, lengths, targets, tol, masks, sums, early):
    """``fewest`` by iterative deepening on the cap: the same subsets as one uncapped pass.

    A pass capped at ``K`` forms only the sorted groups of at most ``K`` values, which costs
    ``sum_{c <= K} C(m, c)`` sums per half of ``m`` values instead of ``2^m`` (for a pool of 34
    values and ``K = 5``, 9,402 instead of 131,072). Sizes are tried in increasing order and
    group ``c`` is built by Pascal's rule from groups ``c`` and ``c - 1`` alone, so the groups
    of sizes up to ``K`` and the scan of each size are the same with any cap ``>= K``: an
    instance that a pass capped at ``K`` brings within ``tol`` (the kernel's own test,
    ``|s - t| <= tol`` on the sum it returns) gets exactly the subset of the uncapped search.
    The others go to the next cap (:data:`FEWEST_CAPS`), and the last pass is uncapped; pools of
    at most :data:`DEEPEN_ABOVE` values take the uncapped pass alone.
    """
    todo = np.arange(len(targets))
    for cap in (*FEWEST_CAPS, None):
        chosen = todo if cap is None else todo[lengths[todo] > max(cap, DEEPEN_ABOVE)]
        if not chosen.size:
            continue
        part, pool = lengths[chosen], values[chosen]
        high = part if cap is None else np.full_like(part, cap)
        pass_masks, pass_sums, _ = _outputs(pool)
        pass_early = np.zeros(len(chosen), np.bool_)
        _sized(
            pool,
            part,
            np.zeros_like(part),
            high,
            targets[chosen],
            tol,
            pass_masks,
            pass_sums,
            pass_early,
        )
        masks[chosen], sums[chosen], early[chosen] = pass_masks, pass_sums, pass_early
        found = np.abs(pass_sums - targets[chosen]) <= tol  # the kernel's test, bit for bit
        todo = np.setdiff1d(todo, chosen[found], assume_unique=True)


def _run_bruteforce(values, lengths, targets, tol, time_limit, seeds, options, sizes=None):
    masks, sums, status = _outputs(values)
    if sizes is None:
        sizes = np.full(len(targets), -1, np.int64)  # any size
    launch(_bruteforce.bruteforce_batch, len(targets), values, lengths, targets, sizes, masks, sums)
    status[:] = Status.OPTIMAL
    return masks, sums, status, np.zeros(len(targets))


DP_WORK = 1 << 27
"""Table updates (values times cells) per compiled dp call, about 0.1-0.3 s: an instance needing
more is filled in several calls, so Ctrl-C is seen between them."""


def _run_dp(values, lengths, targets, tol, time_limit, seeds, options):
    masks, sums, status = _outputs(values)
    max_cells = options["max_cells"]
    if options["resolution"] is not None:
        resolution = np.full(len(targets), options["resolution"])
    else:
        magnitude = np.sum(used_magnitudes(values, lengths), axis=1)
        resolution = np.maximum(magnitude / max_cells, SMALLEST_STEP)
        if tol is not None:
            resolution = np.maximum(resolution, tol / (2.0 * (lengths + 1)))
    cells = _dp.grid_cells(values, lengths, resolution)
    worst = int(np.argmax(np.where(np.isnan(cells), np.inf, cells))) if len(cells) else 0
    if len(cells) and not cells[worst] <= max_cells + values.shape[1] + 1:
        raise InvalidParameterError(
            f"`resolution` must leave at most max_cells={max_cells} grid cells per instance "
            f"(1 + sum of |round(v / resolution)|); got resolution {resolution[worst]:g}, which "
            f"needs {cells[worst]:.3g} cells."
        )
    cells = cells.astype(np.int64)
    long = lengths * cells > DP_WORK
    if not long.any():
        launch(_dp.dp_batch, len(targets), values, lengths, targets, resolution, cells, masks, sums)
        return masks, sums, status, resolution
    short = np.flatnonzero(~long)
    part_masks, part_sums = masks[short], sums[short]
    part = (values[short], lengths[short], targets[short], resolution[short], cells[short])
    launch(_dp.dp_batch, len(short), *part, part_masks, part_sums)
    masks[short], sums[short] = part_masks, part_sums
    for b in np.flatnonzero(long):
        sums[b] = _dp.solve_long(
            values[b], lengths[b], targets[b], resolution[b], cells[b], masks[b], DP_WORK
        )
    return masks, sums, status, resolution


def _run_greedy(values, lengths, targets, tol, time_limit, seeds, options):
    masks, sums, status = _outputs(values)
    launch(_heuristics.greedy_batch, len(targets), values, lengths, targets, masks, sums)
    return masks, sums, status, np.zeros(len(targets))


RESTART_WORK = 1 << 14
"""Local-search restarts per compiled call times the number of values: the search continues
across calls from saved generator states (same answer as one call), so Ctrl-C is seen between
calls even for one instance with many values or ``restarts=10**12``."""


def _run_local(values, lengths, targets, tol, time_limit, seeds, options):
    masks, sums, status = _outputs(values)
    states = np.zeros(len(targets), np.int64)
    remaining = options["restarts"]
    per_call = max(1, RESTART_WORK // max(values.shape[1], 1))
    start = True
    while start or remaining:
        step = min(remaining, per_call)
        launch(
            _heuristics.local_batch,
            len(targets),
            values,
            lengths,
            targets,
            seeds,
            states,
            start,
            step,
            masks,
            sums,
        )
        remaining -= step
        start = False
    return masks, sums, status, np.zeros(len(targets))


def _run_cpsat(values, lengths, targets, tol, time_limit, seeds, options):
    masks, sums, status = _outputs(values)
    if options["resolution"] is not None:
        resolution = np.full(len(targets), options["resolution"])
    else:
        resolution = _cpsat.default_resolution(values, lengths, targets, tol)
    spans = [
        _cpsat.grid_span(values[b, :n], targets[b], resolution[b]) for b, n in enumerate(lengths)
    ]
    worst = int(np.argmax(np.where(np.isnan(spans), np.inf, spans))) if spans else 0
    if spans and not spans[worst] <= _cpsat.MAX_GRID_SPAN:
        raise InvalidParameterError(
            "`resolution` must keep 1 + sum of |round(v / resolution)| + |round(target / "
            f"resolution)| at most 2**53 for method 'cpsat'; got resolution "
            f"{resolution[worst]:g}, which gives {spans[worst]:.3g} (instance {worst})."
        )
    limit = _cpsat.DEFAULT_TIME_LIMIT if time_limit is None else time_limit
    for b, n in enumerate(lengths):
        sums[b], status[b] = _cpsat.cpsat_solve(
            values[b, :n],
            targets[b],
            resolution[b],
            tol,
            limit,
            options["workers"],
            masks[b],
        )
    return masks, sums, status, resolution


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method(
            "mitm",
            _run_mitm,
            "exact meet in the middle (Horowitz-Sahni)",
            _mitm.MAX_N,
            sized=True,
            options={"fewest": False, "max_size": None},
            pool_limit=_cardinality.longest_pool,
        ),
        Method(
            "bruteforce",
            _run_bruteforce,
            "all 2^n subsets (reference)",
            _bruteforce.MAX_N,
            sized=True,
        ),
        Method(
            "dp",
            _run_dp,
            "dynamic programming on a quantised grid",
            grid=True,
            options={"resolution": None, "max_cells": 1 << 20},
        ),
        Method("greedy", _run_greedy, "largest-first greedy heuristic"),
        Method(
            "local",
            _run_local,
            "seeded local search from greedy",
            randomized=True,
            options={"restarts": 8},
        ),
        Method(
            "cpsat",
            _run_cpsat,
            "OR-Tools CP-SAT integer program on a quantised grid",
            grid=True,
            time_limit=True,
            options={"resolution": None, "workers": _cpsat.DEFAULT_WORKERS},
        ),
    )
}
"""Registry of solvers by name; :func:`solve` and :func:`solve_batch` pick with ``method=``."""


def _check_options(method: Method, options: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(options) - set(method.options))
    if unknown:
        accepted = ", ".join(f"`{k}`" for k in method.options) or "none"
        raise InvalidParameterError(
            f"`{unknown[0]}` is not an option of method {method.name!r}; its options: {accepted}."
        )
    merged = {**method.options, **options}
    if "resolution" in options:
        merged["resolution"] = check_real("resolution", options["resolution"], low=0, low_open=True)
    if "max_cells" in options:
        merged["max_cells"] = check_int("max_cells", options["max_cells"], low=1, high=1 << 31)
    if "restarts" in options:
        merged["restarts"] = check_int("restarts", options["restarts"], low=0)
    if "workers" in options:
        merged["workers"] = check_int("workers", options["workers"], low=1, high=_cpsat.MAX_WORKERS)
    if "fewest" in options and not isinstance(options["fewest"], (bool, np.bool_)):
        raise InvalidParameterError(f"`fewest` must be True or False; got {options['fewest']!r}.")
    if options.get("max_size") is not None:
        merged["max_size"] = check_int("max_size", options["max_size"], low=0)
    return merged


def _check_fewest(options, tol, size):
    """Refuse ``fewest`` without ``tol``, and ``fewest`` or ``max_size`` beside ``size``."""
    if options.get("fewest") and tol is None:
        raise InvalidParameterError(
            "`tol` must be given with fewest=True (the fewest values are those whose subset "
            "comes within tol of the target); got tol=None."
        )
    chosen = [name for name in ("fewest", "max_size") if options.get(name) not in (None, False)]
    if chosen and size is not None:
        raise InvalidParameterError(
            f"`size` must be None with `{chosen[0]}` (size fixes the number of values, "
            f"{chosen[0]} lets it vary); got size={size!r} with {chosen[0]}="
            f"{options[chosen[0]]!r}."
        )


MAX_MAGNITUDE = 2.0**1023
"""Largest ``sum |v_i| + |target|`` accepted per instance (about 8.99e307, half the largest
float). Every subset sum ``s`` and its distance ``|s - target|`` is then at most this in exact
arithmetic, and float sums of n terms exceed their exact value by a factor of at most
``1 + n u`` (Higham, *Accuracy and Stability*, eq. 4.4), so no method ever forms an infinity,
nor ``inf - inf = NaN``, which would stall the meet-in-the-middle scan."""


@kernel
def _spans(values, lengths, targets):
    """Per instance, ``|target| + sum |v_i|`` over the values in use, and the number of values
    in use that are not finite, in one pass over the batch: NumPy's masks, ``isfinite``, ``abs``
    and sums took about 110 ms for 397,000 instances of 21 values (4% of solving them by
    ``mitm``), this 7 ms."""
    spans = np.empty(targets.shape[0])
    nonfinite = 0
    for b in range(targets.shape[0]):
        span = abs(targets[b])
        for t in range(lengths[b]):
            v = values[b, t]
            nonfinite += not np.isfinite(v)
            span += abs(v)
        spans[b] = span
    return spans, nonfinite


def _check_values(values, targets, lengths, single):
    """Refuse non-finite values in use, and instances whose subset sums could overflow (see
    :data:`MAX_MAGNITUDE`)."""
    spans, nonfinite = _spans(values, lengths, targets)
    if nonfinite:
        raise InvalidParameterError(
            f"`values` must be finite; got {nonfinite} NaN or infinite entries among the values "
            "in use."
        )
    bad = np.flatnonzero(~(spans <= MAX_MAGNITUDE))
    if bad.size:
        b = int(bad[0])
        where = "" if single else f" for instance {b} ({bad.size} instance(s) exceed it)"
        name = "target" if single else "targets"
        raise InvalidParameterError(
            f"`values` and `{name}` must keep every subset sum finite: sum(|values|) + |target| "
            f"must be at most 2**1023 (about {MAX_MAGNITUDE:.3g}); got {spans[b]:.3g}{where}."
        )


def _check_sizes(size, lengths, spec, single):
    """``size`` (None, an int, or one int per instance) as an int64 array, or None."""
    if size is None:
        return None
    if not spec.sized:
        takers = [m.name for m in METHODS.values() if m.sized]
        raise InvalidParameterError(
            f"`size` is supported by method(s) {takers}; got size={size!r} with method "
            f"{spec.name!r}."
        )
    if single or np.ndim(size) == 0:
        sizes = np.full(len(lengths), check_int("size", size), np.int64)
    else:
        sizes = check_array("size", size, shape=(len(lengths),), dtype=np.int64)
    bad = np.flatnonzero((sizes < 0) | (sizes > lengths))
    if bad.size:
        b = int(bad[0])
        where = "the number of values" if single else f"the length of instance {b}"
        raise InvalidParameterError(
            f"`size` must be in [0, {lengths[b]}] ({where}); got {sizes[b]}."
        )
    return sizes


def _check_lengths(lengths, batch_size: int, n: int) -> np.ndarray:
    if lengths is None:
        return np.full(batch_size, n, np.int64)
    lengths = check_array("lengths", lengths, shape=(batch_size,), dtype=np.int64)
    if lengths.size and (lengths.min() < 0 or lengths.max() > n):
        raise InvalidParameterError(
            f"`lengths` must lie in [0, {n}] (the number of columns of `values`); "
            f"got values in [{lengths.min()}, {lengths.max()}]."
        )
    return lengths


def _solve_checked(
    values, targets, lengths, method, tol, time_limit, rng, options, single, size=None
):
    name = check_choice("method", method, METHODS)
    spec = METHODS[name]
    options = _check_options(spec, options)
    _check_fewest(options, tol, size)
    values = check_array("values", values, ndim=2, finite=False)
    batch_size, n = values.shape
    targets = check_array("targets" if not single else "target", targets, shape=(batch_size,))
    lengths = _check_lengths(lengths, batch_size, n)
    _check_values(values, targets, lengths, single)
    sizes = _check_sizes(size, lengths, spec, single)
    if tol is not None:
        tol = check_real("tol", tol, low=0.0)
    if time_limit is not None:
        time_limit = check_real("time_limit", time_limit, low=0.0, low_open=True)
        if not spec.time_limit:
            takers = [m.name for m in METHODS.values() if m.time_limit]
            raise InvalidParameterError(
                f"`time_limit` is supported by method(s) {takers}; got time_limit={time_limit} "
                f"with method {name!r}, which always runs to completion."
            )
    longest = int(lengths.max(initial=0))
    most = options.get("max_size") if sizes is None else int(sizes.max(initial=0))
    limit = spec.limit(most)
    if limit is not None and longest > limit:
        unlimited = [m.name for m in METHODS.values() if m.max_n is None]
        few = "" if limit == spec.max_n else f" with subsets of at most {most} values"
        raise InvalidParameterError(
            f"`values` must have at most {limit} values per instance for method {name!r} "
            f"(its limit{few}); got {longest}. Methods without this limit: {unlimited}."
        )
    seeds = None
    if spec.randomized or rng is not None:  # validated for every method, used by randomized ones
        seeds = as_generator(rng).integers(0, 2**31 - 1, size=batch_size)
    sized = {} if sizes is None else {"sizes": sizes}
    masks, solver_sums, status, resolution = spec.run(
        values, lengths, targets, tol, time_limit, seeds, options, **sized
    )
    sums, magnitudes = recompute_sums(values, masks, lengths, exact_single=single)
    check_sums(name, solver_sums, sums, magnitudes, lengths)
    if sizes is not None:
        check_sizes(name, masks, sizes)
    errors = np.abs(sums - targets)
    if tol is not None:
        reached = (status != Status.OPTIMAL) & (errors <= tol)
        status[reached] = Status.WITHIN_TOLERANCE
    bound = (lengths + 1) * resolution if spec.grid else np.zeros(batch_size)
    return SubsetSumBatchResult(
        masks=masks,
        values=sums,
        errors=errors,
        status=status,
        targets=targets,
        method=name,
        resolution=resolution,
        quantization_bound=bound,
    )


def solve(
    values, target, *, method="mitm", size=None, tol=None, time_limit=None, rng=None, **options
):
    """Find the subset of ``values`` whose sum is closest to ``target``.

    Parameters
    ----------
    values : array_like, shape (n,)
        Finite real values.
    target : float
        Finite target sum.
    method : str, default "mitm"
        A name from :data:`METHODS`:

        - ``"mitm"``: exact meet in the middle, ``O(2^(n/2))``, n <= 48. Options
          ``fewest`` (default False; needs ``tol``): a subset with the *fewest* values whose
          error is at most ``tol`` (status ``WITHIN_TOLERANCE``), or the optimum if no subset
          reaches ``tol``; ``max_size`` (default None): never more than ``max_size`` values, the
          closest such subset, or with ``tol`` one of the fewest values within ``tol`` if one of
          at most ``max_size`` values exists. Both by meet in the middle by cardinality, sizes
          ``k = 0, 1, 2, ...`` in turn, stopping at the first subset found within ``tol``;
          ``max_size`` keeps the sorted lists to subsets of at most ``max_size`` values, so a
          small cap is cheap on long pools.
        - ``"bruteforce"``: all ``2^n`` subsets, n <= 24; the reference.
        - ``"dp"``: dynamic programming on a grid of step ``q`` (options ``resolution``,
          ``max_cells``; default ``q = sum|v| / max_cells``, coarsened to ``tol / (2(n+1))``).
        - ``"greedy"``: largest magnitude first, keep what helps.
        - ``"local"``: greedy, then seeded local search (option ``restarts``, default 8).
        - ``"cpsat"``: OR-Tools CP-SAT on the grid (options ``resolution``, default
          ``q = max(max|v|, |t|) 2^-40``; ``workers``, default 1, at most the core count).
    size : int, optional
        Choose exactly ``size`` values, ``0 <= size <= n`` (``mitm``: exact meet in the middle
        by cardinality, same ``O(2^(n/2))`` cost; ``bruteforce``). Fixed-size subsets fix the
        density of a ticket in advance (Natale et al. 2024, arXiv:2410.14754). Default: any
        number.
    tol : float, optional
        Acceptable error. ``mitm`` may stop at the first subset within ``tol``; ``cpsat`` stops
        once within ``tol``; any answer within ``tol`` that is not proven optimal has status
        ``WITHIN_TOLERANCE``.
    time_limit : float, optional
        Wall-clock seconds per instance (``cpsat`` only; default 10); reaching it gives status
        ``TIME_LIMIT``.
    rng : None, int or numpy.random.Generator
        Seed of the randomised methods (``local``); the same seed gives the same answer.
    **options
        Method-specific options listed above; any other name raises.

    Returns
    -------
    SubsetSumResult
        ``mask``, ``value`` (``math.fsum`` of the chosen values), ``error``, ``status``, ...

    Raises
    ------
    InvalidParameterError
        Non-finite or misshapen input, ``sum|v| + |target|`` above ``2^1023`` (about 8.99e307,
        so that no subset sum overflows), negative ``tol``, non-positive ``time_limit``, an
        unknown method or option, more values than the method's limit, or a grid too fine to
        represent (``dp``: more than ``max_cells`` cells; ``cpsat``: grid integers beyond
        ``2^53``), a ``size`` outside ``[0, n]`` or with a method that does not take one;
        ``fewest=True`` without ``tol``, ``fewest`` or ``max_size`` with ``size``, a ``fewest``
        that is not a bool or a negative ``max_size``.

    Notes
    -----
    Grid methods (``dp``, ``cpsat``) round each value to ``k_i q`` and the target to ``T q``. For
    any subset S the grid sum and the true sum differ by at most ``|S| q / 2``, and the target by
    ``q / 2``, so a grid-optimal subset has true error at most ``OPT + (n + 1) q``: the
    ``quantization_bound`` reported. Default steps are at least ``2^-1074``, the smallest
    subnormal, of which every float is a multiple, so subnormal inputs are solved exactly.

    Every method returns to Python between slices of a batch (and ``local`` between chunks of
    restarts, ``cpsat`` at once), so Ctrl-C interrupts a long call.

    Random SubsetSum instances of n values from a distribution containing a uniform reach every
    target in [-1, 1] within ``2^(-Θ(n))`` (Lueker 1998), the fact behind Pensia et al. (2020).

    Examples
    --------
    >>> from strong_lth.subset_sum import solve
    >>> result = solve([0.5, -0.25, 0.3, 0.11], 0.41)
    >>> result.mask
    array([False, False,  True,  True])
    >>> round(result.value, 12), result.status.name
    (0.41, 'OPTIMAL')
    >>> solve([0.5, -0.25, 0.3, 0.11], 0.41, size=3).mask  # 0.5 - 0.25 + 0.11 = 0.36
    array([ True,  True, False,  True])
    >>> solve([0.5, -0.25, 0.3, 0.11], 0.41, tol=0.1, fewest=True).mask  # |0.5 - 0.41| <= 0.1
    array([ True, False, False, False])
    """
    values = check_array("values", values, ndim=1, finite=False)
    target = check_real("target", target)
    result = _solve_checked(
        values[None, :], [target], None, method, tol, time_limit, rng, options, True, size
    )
    return result[0]


def solve_batch(
    values,
    targets,
    *,
    method="mitm",
    size=None,
    tol=None,
    lengths=None,
    time_limit=None,
    rng=None,
    **options,
):
    """Solve B SubsetSum instances at once, in parallel over instances.

    Parameters
    ----------
    values : array_like, shape (B, n)
        Row ``b`` holds instance ``b``'s values; with ``lengths``, only the first ``lengths[b]``
        are used (ragged instances; the rest may hold anything, NaN included).
    targets : array_like, shape (B,)
        One target per instance.
    lengths : array_like of int, shape (B,), optional
        Number of values in use per row, each in [0, n]. Default: all n.
    size : int or array_like of int, shape (B,), optional
        Subset size, for all instances or one per instance, each in ``[0, lengths[b]]``.
    method, tol, time_limit, rng, **options
        As in :func:`solve`; ``time_limit`` applies to each instance, and ``rng`` seeds one
        independent stream per instance.

    Returns
    -------
    SubsetSumBatchResult
        Arrays ``masks`` (B, n), ``values``, ``errors``, ``status`` (int8 :class:`Status` codes).

    Notes
    -----
    Sums are re-checked by a compensated (Neumaier) summation of each row's mask, accurate to
    about one rounding, rather than ``math.fsum``, whose Python loop would dominate the time.

    Examples
    --------
    >>> import numpy as np
    >>> from strong_lth.subset_sum import solve_batch
    >>> rng = np.random.default_rng(0)
    >>> batch = solve_batch(rng.uniform(-1, 1, (1000, 21)), rng.uniform(-1, 1, 1000))
    >>> bool(np.all(batch.status == 0)), bool(np.median(batch.errors) < 1e-5)
    (True, True)
    """
    return _solve_checked(
        values, targets, lengths, method, tol, time_limit, rng, options, False, size
    )


def warmup() -> None:
    """Compile every numba kernel on a tiny instance, so compile time is never taken for run time.

    Kernels are cached on disk (``cache=True``), so this is fast after the first run on a machine.
    """
    values = np.array([[0.5, -0.25, 0.125], [0.3, 0.2, 0.0]])
    for name, spec in METHODS.items():
        if name != "cpsat":
            solve_batch(values, [0.2, 0.1], method=name, lengths=[3, 2], rng=0)
            solve([0.5, -0.25], 0.2, method=name, rng=0)
        if spec.sized:
            solve_batch(values, [0.2, 0.1], method=name, lengths=[3, 2], size=[2, 1])
            solve([0.5, -0.25], 0.2, method=name, size=1)
        if "fewest" in spec.options:
            solve_batch(values, [0.2, 0.1], method=name, lengths=[3, 2], tol=0.01, fewest=True)
