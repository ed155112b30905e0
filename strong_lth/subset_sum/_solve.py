"""Public SubsetSum entry points: :func:`solve`, :func:`solve_batch`, the method registry."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import as_generator, check_array, check_choice, check_int, check_real
from ..exceptions import InvalidParameterError
from . import _bruteforce, _cpsat, _dp, _heuristics, _mitm
from ._check import check_sums, recompute_sums
from ._chunks import launch
from ._result import Status, SubsetSumBatchResult

__all__ = ["METHODS", "Method", "solve", "solve_batch", "warmup"]


@dataclass(frozen=True)
class Method:
    """A registered SubsetSum solver.

    ``run(values, lengths, targets, tol, time_limit, seeds, options)`` returns
    ``(masks, solver_sums, status, resolution)``; the public functions validate its input and
    re-check its output. ``grid`` methods quantise and report ``quantization_bound``;
    ``randomized`` ones receive one seed per instance drawn from ``rng``.
    """

    name: str
    run: Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
    description: str
    max_n: int | None = None
    grid: bool = False
    time_limit: bool = False
    randomized: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)


def _outputs(values):
    batch_size = values.shape[0]
    return (
        np.zeros(values.shape, np.bool_),
        np.empty(batch_size),
        np.full(batch_size, Status.FEASIBLE, np.int8),
    )


def _run_mitm(values, lengths, targets, tol, time_limit, seeds, options):
    masks, sums, status = _outputs(values)
    early = np.zeros(len(targets), np.bool_)
    launch(
        _mitm.mitm_batch,
        len(targets),
        values,
        lengths,
        targets,
        -1.0 if tol is None else tol,
        masks,
        sums,
        early,
    )
    status[~early] = Status.OPTIMAL
    return masks, sums, status, np.zeros(len(targets))


def _run_bruteforce(values, lengths, targets, tol, time_limit, seeds, options):
    masks, sums, status = _outputs(values)
    launch(_bruteforce.bruteforce_batch, len(targets), values, lengths, targets, masks, sums)
    status[:] = Status.OPTIMAL
    return masks, sums, status, np.zeros(len(targets))


def _run_dp(values, lengths, targets, tol, time_limit, seeds, options):
    masks, sums, status = _outputs(values)
    max_cells = options["max_cells"]
    if options["resolution"] is not None:
        resolution = np.full(len(targets), options["resolution"])
    else:
        magnitude = np.sum(
            np.where(np.arange(values.shape[1]) < lengths[:, None], np.abs(values), 0.0), axis=1
        )
        resolution = np.where(magnitude > 0, magnitude, 1.0) / max_cells
        if tol is not None:
            resolution = np.maximum(resolution, tol / (2.0 * (lengths + 1)))
    cells = _dp.grid_cells(values, lengths, resolution)
    if cells.max(initial=0) > max_cells + values.shape[1] + 1:
        raise InvalidParameterError(
            f"`resolution` must leave at most max_cells={max_cells} grid cells per instance; "
            f"got resolution {resolution[np.argmax(cells)]:g}, which needs {cells.max()} cells."
        )
    launch(_dp.dp_batch, len(targets), values, lengths, targets, resolution, cells, masks, sums)
    return masks, sums, status, resolution


def _run_greedy(values, lengths, targets, tol, time_limit, seeds, options):
    masks, sums, status = _outputs(values)
    launch(_heuristics.greedy_batch, len(targets), values, lengths, targets, masks, sums)
    return masks, sums, status, np.zeros(len(targets))


def _run_local(values, lengths, targets, tol, time_limit, seeds, options):
    masks, sums, status = _outputs(values)
    launch(
        _heuristics.local_batch,
        len(targets),
        values,
        lengths,
        targets,
        seeds,
        options["restarts"],
        masks,
        sums,
    )
    return masks, sums, status, np.zeros(len(targets))


def _run_cpsat(values, lengths, targets, tol, time_limit, seeds, options):
    masks, sums, status = _outputs(values)
    if options["resolution"] is not None:
        resolution = np.full(len(targets), options["resolution"])
    else:
        resolution = _cpsat.default_resolution(values, lengths, targets, tol)
    for b, n in enumerate(lengths):
        sums[b], status[b] = _cpsat.cpsat_solve(
            values[b, :n],
            targets[b],
            resolution[b],
            tol,
            time_limit,
            options["workers"],
            masks[b],
        )
    return masks, sums, status, resolution


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("mitm", _run_mitm, "exact meet in the middle (Horowitz-Sahni)", _mitm.MAX_N),
        Method("bruteforce", _run_bruteforce, "all 2^n subsets (reference)", _bruteforce.MAX_N),
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
            options={"resolution": None, "workers": 0},
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
        merged["workers"] = check_int("workers", options["workers"], low=0)
    return merged


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


def _solve_checked(values, targets, lengths, method, tol, time_limit, rng, options, single):
    name = check_choice("method", method, METHODS)
    spec = METHODS[name]
    options = _check_options(spec, options)
    values = check_array("values", values, ndim=2, finite=False)
    batch_size, n = values.shape
    targets = check_array("targets" if not single else "target", targets, shape=(batch_size,))
    lengths = _check_lengths(lengths, batch_size, n)
    used = np.arange(n) < lengths[:, None]
    if not np.all(np.isfinite(values) | ~used):
        raise InvalidParameterError(
            f"`values` must be finite; got {int(np.sum(~np.isfinite(values) & used))} NaN or "
            "infinite entries among the values in use."
        )
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
    if spec.max_n is not None and longest > spec.max_n:
        unlimited = [m.name for m in METHODS.values() if m.max_n is None]
        raise InvalidParameterError(
            f"`values` must have at most {spec.max_n} values per instance for method {name!r} "
            f"(its limit); got {longest}. Methods without this limit: {unlimited}."
        )
    seeds = None
    if spec.randomized or rng is not None:  # validated for every method, used by randomized ones
        seeds = as_generator(rng).integers(0, 2**31 - 1, size=batch_size)
    masks, solver_sums, status, resolution = spec.run(
        values, lengths, targets, tol, time_limit, seeds, options
    )
    sums, magnitudes = recompute_sums(values, masks, lengths, exact_single=single)
    check_sums(name, solver_sums, sums, magnitudes, lengths)
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


def solve(values, target, *, method="mitm", tol=None, time_limit=None, rng=None, **options):
    """Find the subset of ``values`` whose sum is closest to ``target``.

    Parameters
    ----------
    values : array_like, shape (n,)
        Finite real values.
    target : float
        Finite target sum.
    method : str, default "mitm"
        A name from :data:`METHODS`:

        - ``"mitm"``: exact meet in the middle, ``O(2^(n/2))``, n <= 48.
        - ``"bruteforce"``: all ``2^n`` subsets, n <= 24; the reference.
        - ``"dp"``: dynamic programming on a grid of step ``q`` (options ``resolution``,
          ``max_cells``; default ``q = sum|v| / max_cells``, coarsened to ``tol / (2(n+1))``).
        - ``"greedy"``: largest magnitude first, keep what helps.
        - ``"local"``: greedy, then seeded local search (option ``restarts``, default 8).
        - ``"cpsat"``: OR-Tools CP-SAT on the grid (options ``resolution``; ``workers``, default
          0 = CP-SAT's portfolio on every core: with one worker, CP-SAT can stall on
          coefficients near ``2^40`` without finding even the empty subset).
    tol : float, optional
        Acceptable error. ``mitm`` may stop at the first subset within ``tol``; ``cpsat`` stops
        once within ``tol``; any answer within ``tol`` that is not proven optimal has status
        ``WITHIN_TOLERANCE``.
    time_limit : float, optional
        Wall-clock seconds (``cpsat`` only); reaching it gives status ``TIME_LIMIT``.
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
        Non-finite or misshapen input, negative ``tol``, non-positive ``time_limit``, an unknown
        method or option, or more values than the method's limit.

    Notes
    -----
    Grid methods (``dp``, ``cpsat``) round each value to ``k_i q`` and the target to ``T q``. For
    any subset S the grid sum and the true sum differ by at most ``|S| q / 2``, and the target by
    ``q / 2``, so a grid-optimal subset has true error at most ``OPT + (n + 1) q``: the
    ``quantization_bound`` reported. Random SubsetSum instances of n values from a distribution
    containing a uniform reach every target in [-1, 1] within ``2^(-Θ(n))`` (Lueker 1998), the
    fact behind Pensia et al. (2020).

    Examples
    --------
    >>> from strong_lth.subset_sum import solve
    >>> result = solve([0.5, -0.25, 0.3, 0.11], 0.41)
    >>> result.mask
    array([False, False,  True,  True])
    >>> round(result.value, 12), result.status.name
    (0.41, 'OPTIMAL')
    """
    values = check_array("values", values, ndim=1, finite=False)
    target = check_real("target", target)
    result = _solve_checked(
        values[None, :], [target], None, method, tol, time_limit, rng, options, single=True
    )
    return result[0]


def solve_batch(
    values,
    targets,
    *,
    method="mitm",
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
        values, targets, lengths, method, tol, time_limit, rng, options, single=False
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
        assert spec.name == name
