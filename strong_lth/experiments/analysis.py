"""From results rows to curves and fitted constants: what the figures of
:mod:`strong_lth.plotting` draw, available on their own for notebooks and reports.

The width bounds of :mod:`strong_lth.bounds` give a width for an error; the figures need the
error for a width, so this module inverts them (each inverse is tested against the formula it
inverts). C is a parameter of every bound; the functions that fit it say how
(docs/theory.md, section 6).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .. import bounds
from .._approximate import approximate
from .._validation import _fmt, check_int, check_real
from ..exceptions import InvalidParameterError
from ..networks import ReLUNetwork
from ..report import Report
from ..ticket import Ticket

__all__ = [
    "ErrorCurve",
    "SuccessCurve",
    "check_rows",
    "error_law_constant",
    "figure_rows",
    "largest_layer",
    "lower_bound_error",
    "lueker_fit",
    "malach_error",
    "pensia_error",
    "pensia_fit",
    "select",
    "subset_sum_curves",
    "success_curves",
    "width_error_curves",
]


def check_rows(rows) -> list[dict]:
    """``rows`` as a list, after checking it is a sequence of result rows.

    Raises
    ------
    InvalidParameterError
        If ``rows`` is not a list (or tuple) of dicts with a ``kind``.
    """
    if not isinstance(rows, list | tuple) or not all(
        isinstance(r, Mapping) and "kind" in r for r in rows
    ):
        raise InvalidParameterError(
            f"`rows` must be a list of result rows (load_results); got {_fmt(rows)}."
        )
    return list(rows)


def _report_row(report, distribution: str | None) -> dict:
    """The ``"approximate"`` row (the keys the figures read) of one report."""
    data = report.to_dict() if isinstance(report, Report) else report
    if not isinstance(data, Mapping) or not isinstance(data.get("layers"), list | tuple):
        raise InvalidParameterError(
            f"`source` must hold a report with per-layer rows; got {_fmt(report)}."
        )
    layers = data["layers"]
    params = {"construction": data["construction"], "solver": data["solver"]}
    if distribution is not None:
        params["distribution"] = distribution
    result = {
        "d_in": [layer["d_in"] for layer in layers],
        "d_out": [layer["d_out"] for layer in layers],
        "values_per_input": [layer["values_per_input"] for layer in layers],
        "hidden_widths": [layer["hidden_width"] for layer in layers],
        "certified": data["certified"],
        "measured": data["measured"],
    }
    return {"kind": "approximate", "params": params, "result": result}


def figure_rows(
    source, *, values_per_input=None, seeds=(0,), construction="pensia", solver="mitm"
) -> list[dict]:
    """The rows a figure draws, from result rows, a ticket, a report or a target.

    Parameters
    ----------
    source : list of dict, Ticket, Report or ReLUNetwork
        Result rows (:func:`~strong_lth.experiments.load_results`) are returned as they are; a
        :class:`~strong_lth.Ticket` (made by :func:`~strong_lth.approximate` or loaded) or a
        :class:`~strong_lth.Report` becomes one ``"approximate"`` row; a target is
        approximated once per value of ``values_per_input`` and seed, in this process, without
        a sweep file or a results table.
    values_per_input : sequence of int, optional
        For a target (required then): the widths n to try, each ``>= 1``.
    seeds : sequence of int
        For a target: the random networks' seeds (default ``(0,)``).
    construction, solver : str
        For a target: as in :func:`~strong_lth.approximate`.

    Returns
    -------
    list of dict
        Rows with at least ``kind``, ``params`` (``construction``, ``solver`` and, when known,
        ``distribution``) and ``result`` (``d_in``, ``d_out``, ``values_per_input``,
        ``hidden_widths``, ``certified``, ``measured``).

    Raises
    ------
    InvalidParameterError
        If ``source`` is none of these, or a target comes without ``values_per_input``.
    """
    if isinstance(source, list | tuple):
        return check_rows(source)
    if isinstance(source, Ticket):
        return [_report_row(source.report, source.distribution.name)]
    if isinstance(source, Report):
        return [_report_row(source, None)]
    if isinstance(source, ReLUNetwork):
        if (
            values_per_input is None
            or isinstance(values_per_input, str)
            or not len(values_per_input)
        ):
            raise InvalidParameterError(
                "`values_per_input` must be a non-empty list of widths n to try with a target; "
                f"got {_fmt(values_per_input)}."
            )
        values = [check_int("values_per_input", n, low=1) for n in values_per_input]
        seeds = [check_int("seeds", seed, low=0) for seed in seeds]
        rows = []
        for n in values:
            for seed in seeds:
                ticket = approximate(
                    source, values_per_input=n, construction=construction, solver=solver, rng=seed
                )
                rows.append(_report_row(ticket.report, ticket.distribution.name))
        return rows
    raise InvalidParameterError(
        "`source` must be result rows, a Ticket, a Report or a ReLUNetwork target; got "
        f"{_fmt(source)}."
    )


def select(rows, kind: str) -> list[dict]:
    """The rows of one run kind.

    Raises
    ------
    InvalidParameterError
        If ``rows`` is not a sequence of result rows, or holds no row of ``kind``.
    """
    chosen = [r for r in check_rows(rows) if r["kind"] == kind]
    if not chosen:
        present = sorted({r["kind"] for r in rows}) or ["none"]
        raise InvalidParameterError(
            f"`rows` must contain {kind!r} results; got kinds {', '.join(present)}."
        )
    return chosen


# --------------------------------------------------------------------------------------------
# Width versus error ("approximate" rows)
# --------------------------------------------------------------------------------------------


def largest_layer(result: Mapping) -> int:
    """Index of the target layer with the most weights ``d_{i-1} d_i`` (the first on a tie):
    the layer the width bounds are drawn for, since it needs the most values per input."""
    return int(np.argmax(np.multiply(result["d_in"], result["d_out"])))


def pensia_error(width, d_in, d_out, depth, *, C):
    r"""Error that Pensia's width buys: the inverse in ``eps`` of :func:`bounds.pensia_width`.

    Returns
    -------
    float or ndarray
        :math:`\varepsilon = d_{in} d_{out} l \exp(-w / (C d_{in}))`, for
        :math:`\delta \ge \varepsilon` (so that :math:`\min(\varepsilon, \delta) = \varepsilon`).

    Notes
    -----
    [P] Theorem 1, :math:`w = C d_{in} \ln(d_{in} d_{out} l / \min(\varepsilon, \delta))`,
    solved for :math:`\varepsilon` (docs/theory.md, section 6).
    """
    width = np.asarray(width, dtype=float)
    return d_in * d_out * depth * np.exp(-width / (C * d_in))


def malach_error(width, d, depth, delta, *, C=1.0):
    r"""Error that Malach's width buys: the inverse in ``eps`` of :func:`bounds.malach_width`.

    Returns
    -------
    float or ndarray
        :math:`\varepsilon = \sqrt{C d^5 l^2 \ln(d l / \delta) / w}`.

    Notes
    -----
    [M] Theorem 2.1 as [P] quotes it, :math:`w = C d^5 l^2 / \varepsilon^2 \ln(d l / \delta)`,
    solved for :math:`\varepsilon`; it is above 1 for every width a small experiment uses.
    """
    width = np.asarray(width, dtype=float)
    return np.sqrt(C * d**5 * depth**2 * np.log(d * depth / delta) / width)


def lower_bound_error(width, d_in, d_out):
    r"""Smallest error the counting argument allows a width: the inverse of
    :func:`bounds.lower_bound_width`.

    Returns
    -------
    float or ndarray
        :math:`\varepsilon = 2^{-w (d_{in} + d_{out}) / (d_{in} d_{out})}`: a depth-2 network of
        width ``w`` has :math:`w (d_{in} + d_{out})` weights, :math:`2^{w (d_{in}+d_{out})}`
        subnetworks, too few to cover every layer finer than this (docs/theory.md, section 6).
    """
    width = np.asarray(width, dtype=float)
    return np.exp2(-width * (d_in + d_out) / (d_in * d_out))


def pensia_fit(rows) -> float | None:
    r"""Fitted constant of [P] Theorem 1 from ``"approximate"`` rows of the Pensia construction.

    Parameters
    ----------
    rows : list of dict
        Results rows (other kinds and constructions are ignored).

    Returns
    -------
    float or None
        The median over runs with certified error in (0, 1) of
        :math:`\hat C = n_L / \ln(d_{L-1} d_L l / \varepsilon)`
        (:func:`bounds.pensia_constant` with :math:`\delta = \varepsilon`), ``L`` the
        :func:`largest_layer` and :math:`\varepsilon` the certified error; ``None`` if no run
        qualifies.
    """
    constants = []
    for row in rows:
        if row["kind"] != "approximate" or row["params"]["construction"] != "pensia":
            continue
        result = row["result"]
        eps = result["certified"]
        if 0.0 < eps < 1.0:
            k = largest_layer(result)
            constants.append(
                bounds.pensia_constant(
                    result["values_per_input"][k],
                    result["d_in"][k],
                    result["d_out"][k],
                    len(result["d_in"]),
                    eps,
                    eps,
                )
            )
    return float(np.median(constants)) if constants else None


@dataclass(frozen=True)
class ErrorCurve:
    """Median and range of an error over the runs at each x.

    Attributes
    ----------
    label : str
    x : ndarray
        Sorted distinct x values (hidden width, or values per instance n).
    median, low, high : ndarray
        Median, and a band (min/max over runs, or quartiles over instances), at each x.
    extra : ndarray or None
        A second median (the measured error of ``"approximate"`` runs).
    """

    label: str
    x: np.ndarray
    median: np.ndarray
    low: np.ndarray
    high: np.ndarray
    extra: np.ndarray | None = None


def _approximate_label(params: Mapping) -> str:
    label = params["construction"]
    if params["construction"] == "pensia" and params["solver"] != "mitm":
        label += f" ({params['solver']})"
    if params.get("distribution", "uniform") != "uniform":
        label += f", {params['distribution']} weights"
    return label


def width_error_curves(rows) -> dict[tuple[int, ...], list[ErrorCurve]]:
    """Certified (band: min to max over runs) and measured error against the hidden width of
    the :func:`largest_layer`, per target widths and per construction.

    Returns
    -------
    dict
        Target widths (as the bounds see them: augmented for biases) -> one
        :class:`ErrorCurve` per construction (and solver or distribution when they vary), with
        ``extra`` the median measured error.
    """
    panels: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for row in select(rows, "approximate"):
        result = row["result"]
        k = largest_layer(result)
        widths = (result["d_in"][0], *result["d_out"])
        point = panels[widths][_approximate_label(row["params"])][result["hidden_widths"][k]]
        point.append((result["certified"], result["measured"]))
    out = {}
    for widths, groups in panels.items():
        out[widths] = [_curve(label, points) for label, points in sorted(groups.items())]
    return out


def _curve(label, points: Mapping[float, list]) -> ErrorCurve:
    """Curve of ``x -> [(certified, measured), ...]``."""
    x = sorted(points)
    values = [np.array(points[v], dtype=float) for v in x]
    return ErrorCurve(
        label=label,
        x=np.array(x, dtype=float),
        median=np.array([np.median(v[:, 0]) for v in values]),
        low=np.array([v[:, 0].min() for v in values]),
        high=np.array([v[:, 0].max() for v in values]),
        extra=np.array([np.median(v[:, 1]) for v in values]),
    )


# --------------------------------------------------------------------------------------------
# SubsetSum ("subset_sum" rows)
# --------------------------------------------------------------------------------------------


def _subset_sum_label(params: Mapping, optimal: bool) -> str:
    law = "Uniform[-1, 1]" if params["distribution"] == "uniform" else "N(0, 1)"
    label = f"products of two {law}" if params["products"] else law
    if params["solver"] != "mitm":
        label += f" ({params['solver']}{'' if optimal else ', not proven optimal'})"
    return label


def _pooled(rows) -> dict[str, dict[int, np.ndarray]]:
    """label -> n -> errors of every instance of every run (seeds pooled)."""
    groups: dict = defaultdict(lambda: defaultdict(list))
    optimal: dict = defaultdict(lambda: True)
    chosen = select(rows, "subset_sum")
    for row in chosen:
        key = _subset_sum_label(row["params"], True)
        optimal[key] &= row["result"]["optimal"]
    for row in chosen:
        key = _subset_sum_label(row["params"], True)
        label = _subset_sum_label(row["params"], optimal[key])
        groups[label][row["params"]["n"]].extend(row["result"]["errors"])
    return {
        label: {n: np.array(e) for n, e in sorted(by_n.items())}
        for label, by_n in sorted(groups.items())
    }


def error_law_constant(n, median_errors) -> float:
    r"""Least-squares constant ``K`` of the law ``error ≈ K sqrt(n) 2^{-n}`` in log space.

    Parameters
    ----------
    n, median_errors : array_like
        Values per instance and the median optimal error at each (zeros are left out).

    Returns
    -------
    float
        :math:`K = \exp(\mathrm{mean}_n[\ln e_n - \ln(\sqrt n\, 2^{-n})])`.

    Notes
    -----
    The optimal error of a random SubsetSum instance with n values shrinks like
    :math:`\sqrt n\, 2^{-n}` ([L]; the number-partitioning phase transition,
    docs/theory.md, section 6); ``K`` is the constant in front, measured.

    Examples
    --------
    >>> n = [4, 8]
    >>> round(error_law_constant(n, [0.5 * 2 * 2.0**-4, 0.5 * 8**0.5 * 2.0**-8]), 12)
    0.5
    """
    n = np.asarray(n, dtype=float)
    e = np.asarray(median_errors, dtype=float)
    keep = e > 0
    if not keep.any():
        raise InvalidParameterError("`median_errors` must have a positive entry; got none.")
    return float(np.exp(np.mean(np.log(e[keep]) - np.log(np.sqrt(n[keep]) * 2.0 ** -n[keep]))))


def subset_sum_curves(rows) -> list[ErrorCurve]:
    """Median optimal error and its quartiles (over all instances of all seeds) against n, one
    curve per value distribution (and solver, when it is not the exact ``mitm``)."""
    curves = []
    for label, by_n in _pooled(rows).items():
        n = np.array(list(by_n), dtype=float)
        errors = list(by_n.values())
        curves.append(
            ErrorCurve(
                label=label,
                x=n,
                median=np.array([np.median(e) for e in errors]),
                low=np.array([np.quantile(e, 0.25) for e in errors]),
                high=np.array([np.quantile(e, 0.75) for e in errors]),
            )
        )
    return curves


def lueker_fit(n, success, eta, *, delta) -> tuple[float, float] | None:
    r"""Constant of [L] from observed success rates: ``Ĉ = n* / ln(1 / min(η, δ̂))``.

    Parameters
    ----------
    n : array_like
        Values per instance, increasing.
    success : array_like
        Observed fraction of instances with optimal error at most ``eta``, at each n.
    eta : float
        Precision, in (0, 1).
    delta : float
        Failure rate aimed at, in (0, 1).

    Returns
    -------
    (float, float) or None
        ``(Ĉ, n*)``: ``n*`` is the smallest n whose observed failure rate
        :math:`\hat\delta = 1 - \text{success}` is at most ``delta``, and
        :math:`\hat C` = :func:`bounds.lueker_constant` ``(n*, eta, δ̂)``; ``None`` when no n
        reaches it.

    Notes
    -----
    docs/theory.md, section 6: :math:`n \ge C \ln(1 / \min(\eta, \delta))` values approximate every
    target within :math:`\eta` with probability :math:`1 - \delta` [L]; the smallest n that
    did so in the experiment measures C.

    Examples
    --------
    >>> round(lueker_fit([8, 12, 16], [0.2, 0.95, 1.0], 1e-3, delta=0.1)[0], 12)
    1.737177927613
    """
    eta = check_real("eta", eta, low=0.0, high=1.0, low_open=True, high_open=True)
    delta = check_real("delta", delta, low=0.0, high=1.0, low_open=True, high_open=True)
    failure = 1.0 - np.asarray(success, dtype=float)
    reached = np.flatnonzero(failure <= delta)
    if reached.size == 0:
        return None
    n_star = float(np.asarray(n, dtype=float)[reached[0]])
    return bounds.lueker_constant(n_star, eta, max(failure[reached[0]], 0.0)), n_star


@dataclass(frozen=True)
class SuccessCurve:
    """Success probability at precision ``eta`` against n, and the fitted constant.

    Attributes
    ----------
    label : str
    eta : float
    n : ndarray
    success : ndarray
        Fraction of instances (seeds pooled) with optimal error at most ``eta``.
    instances : ndarray of int
        Instances behind each fraction.
    C : float or None
        :func:`lueker_fit` constant, ``None`` if no n reached failure rate ``delta``.
    n_star : float or None
        The n it was measured at.
    """

    label: str
    eta: float
    n: np.ndarray
    success: np.ndarray
    instances: np.ndarray
    C: float | None
    n_star: float | None


def success_curves(rows, *, eta, delta=0.1) -> list[SuccessCurve]:
    """Success probability against n for each precision in ``eta`` and each value
    distribution, with the :func:`lueker_fit` constant.

    Parameters
    ----------
    rows : list of dict
        Results rows with ``"subset_sum"`` runs.
    eta : float or sequence of float
        Precisions, each in (0, 1).
    delta : float
        Failure rate that defines the fit, in (0, 1).

    Returns
    -------
    list of SuccessCurve
    """
    etas = [eta] if np.ndim(eta) == 0 else list(eta)
    if not etas:
        raise InvalidParameterError("`eta` must be a precision or a non-empty list; got [].")
    etas = [check_real("eta", e, low=0.0, high=1.0, low_open=True, high_open=True) for e in etas]
    delta = check_real("delta", delta, low=0.0, high=1.0, low_open=True, high_open=True)
    curves = []
    for label, by_n in _pooled(rows).items():
        n = np.array(list(by_n), dtype=float)
        for e in etas:
            success = np.array([np.mean(errors <= e) for errors in by_n.values()])
            fit = lueker_fit(n, success, e, delta=delta)
            curves.append(
                SuccessCurve(
                    label=label,
                    eta=e,
                    n=n,
                    success=success,
                    instances=np.array([errors.size for errors in by_n.values()]),
                    C=None if fit is None else fit[0],
                    n_star=None if fit is None else fit[1],
                )
            )
    return curves
