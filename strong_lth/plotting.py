"""Matplotlib figures of strong_lth results (one consistent style; every function returns a
Figure and never shows it)."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from . import bounds
from ._validation import check_real
from .exceptions import InvalidParameterError
from .experiments import analysis
from .report import Report
from .ticket import Ticket

__all__ = [
    "features_figure",
    "figures",
    "implied_constant",
    "search_figure",
    "subset_sum_figure",
    "success_figure",
    "width_error_figure",
]

STYLE = {"panel": (6.4, 5.4), "title": 10, "legend": 7, "band": 0.18, "grid": 0.3}
"""Shared look of the figures: panel size (inches), title and legend font sizes, band and
grid transparency."""


def _report_data(source) -> dict:
    """The report of a ticket (made or loaded) or a :class:`Report`, as a plain dict."""
    report = source.report if isinstance(source, Ticket) else source
    data = report.to_dict() if isinstance(report, Report) else report
    if not isinstance(data, dict) or not isinstance(data.get("layers"), list | tuple):
        raise InvalidParameterError(
            f"`source` must be a Ticket with a report, or a Report; got {type(source).__name__}"
            + (" without a report" if isinstance(source, Ticket) else "")
            + "."
        )
    return data


def implied_constant(layers) -> float | None:
    r"""Median over layer pairs of the constant of [P] Theorem 1 their chosen n implies.

    Parameters
    ----------
    layers : sequence of dict
        Report rows with ``values_per_input`` n, ``d_in``, ``d_out`` and ``tau`` τ.

    Returns
    -------
    float or None
        The median of :math:`C_i = n_i / \ln(d_{i-1} d_i / \tau_i)`
        (:func:`bounds.pensia_constant` for one layer,
        :math:`\delta = \varepsilon = \tau_i`) over the layers with :math:`0 < \tau_i < 1`;
        ``None`` if there is none.
    """
    constants = [
        bounds.pensia_constant(row["values_per_input"], row["d_in"], row["d_out"], 1, tau, tau)
        for row in layers
        if 0.0 < (tau := row["tau"]) < 1.0
    ]
    return float(np.median(constants)) if constants else None


def search_figure(source, *, C: float | None = None) -> Figure:
    """Width versus error of every layer pair, as the automatic search measured it, beside the
    bounds.

    Parameters
    ----------
    source : Ticket or Report
        A ticket (from :func:`~strong_lth.approximate` or :meth:`Ticket.load`) or its report.
    C : float, optional
        Constant of Pensia's bound (``> 0``); default: :func:`implied_constant`, the median
        constant the chosen widths imply (1 when no layer has ``0 < τ_i < 1``).

    Returns
    -------
    matplotlib.figure.Figure
        Per layer pair ``i`` (one colour each): ``τ_i = ||[A_i - W_i, W_i - B_i]||_2`` (the
        layer's error per unit of input norm, docs/theory.md, section 5) against the values per
        input n tried on the nested random networks (solid; the chosen n circled); the error
        Pensia's width buys that layer, :math:`d_{i-1} d_i e^{-n/C}` (dashed, [P] Theorem 1
        for one layer, inverted by :func:`~strong_lth.experiments.analysis.pensia_error`);
        and the counting lower bound :math:`2^{-n (d_{i-1} + d_i) / d_i}` (dotted,
        :func:`~strong_lth.experiments.analysis.lower_bound_error` at width
        :math:`d_{i-1} n`), which no pruning of any network that size beats for every layer.

    Raises
    ------
    InvalidParameterError
        If ``source`` is neither, or ``C`` is not positive.

    Examples
    --------
    >>> from strong_lth import ReLUNetwork, approximate
    >>> from strong_lth.plotting import search_figure
    >>> ticket = approximate(ReLUNetwork.random((3, 4, 2), rng=0), eps=0.1, rng=0)
    >>> len(search_figure(ticket).axes[0].lines)  # per layer: search, choice, two bounds
    8
    """
    report = _report_data(source)
    layers = report["layers"]
    implied = implied_constant(layers)
    if C is None:
        constant = 1.0 if implied is None else implied
        c_text = "C = 1, nothing to fit" if implied is None else f"C = {constant:.3g} implied"
    else:
        constant = check_real("C", C, low=0.0, low_open=True)
        c_text = f"C = {constant:g} given" + (
            "" if implied is None else f" (the chosen n imply {implied:.3g})"
        )
    figure = Figure(figsize=(7.2, 5.2), layout="constrained")
    axes = figure.add_subplot()
    measured = []
    for i, layer in enumerate(layers, start=1):
        n, tau = np.array(layer["evaluated"], dtype=float).reshape(-1, 2).T
        if n.size == 0:  # fixed width: the one n chosen
            n, tau = np.array([layer["values_per_input"]], float), np.array([layer["tau"]])
        color = _color(i - 1)
        d_in, d_out = layer["d_in"], layer["d_out"]
        axes.semilogy(
            n, tau, "o-", ms=3, color=color, label=f"layer {i} ({d_in}→{d_out}): τ_i measured"
        )
        axes.plot(layer["values_per_input"], layer["tau"], "o", ms=9, mfc="none", color=color)
        grid = np.linspace(max(n.min(), 1.0), n.max() + 1.0, 100)
        first = i == 1  # the bounds' legend entries once, for every layer's colour
        axes.semilogy(
            grid,
            analysis.pensia_error(d_in * grid, d_in, d_out, 1, C=constant),
            "--",
            color=color,
            label=f"dashed: [P] bound d_in d_out e^(-n/C), {c_text}" if first else "_nolegend_",
        )
        axes.semilogy(
            grid,
            analysis.lower_bound_error(d_in * grid, d_in, d_out),
            ":",
            color=color,
            label="dotted: counting lower bound [P], 2^(-n (d_in + d_out) / d_out)"
            if first
            else "_nolegend_",
        )
        measured.append(tau)
    tau = np.concatenate(measured)
    positive = tau[tau > 0]
    if positive.size:
        axes.set_ylim(positive.min() / 100, max(1.0, tau.max()) * 3)
    title = f"{report['construction']} construction"
    if report.get("eps") is not None:
        title += f", certified ε = {report['eps']:g} on the ball of radius {report['radius']:g}"
    axes.set_title(title + f"\n[P] Pensia et al. 2020, Theorem 1 at {c_text}", fontsize=10)
    axes.set_xlabel("values per input n (hidden width = d_in · n)")
    axes.set_ylabel("error of layer pair i per unit input norm (τ_i; bounds)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=7)
    return figure


def _panels(count: int, title: str):
    figure = Figure(figsize=(STYLE["panel"][0] * count, STYLE["panel"][1]), layout="constrained")
    figure.suptitle(title, fontsize=STYLE["title"])
    return figure, list(figure.subplots(1, count, squeeze=False)[0])


def _finish(axes, title: str, xlabel: str, ylabel: str, *, legend_below: bool = False) -> None:
    axes.set_title(title, fontsize=STYLE["title"])
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.grid(True, which="both", alpha=STYLE["grid"])
    where = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.15)} if legend_below else {}
    axes.legend(fontsize=STYLE["legend"], **where)


def _color(k: int) -> str:
    return f"C{k % 10}"


def _median_band(axes, curve, color: str, what: str) -> None:
    """A curve's median as a line with markers, its spread as a shaded band."""
    axes.semilogy(curve.x, curve.median, "o-", ms=4, color=color, label=f"{curve.label}: {what}")
    axes.fill_between(curve.x, curve.low, curve.high, color=color, alpha=STYLE["band"])


def width_error_figure(
    source, *, delta: float = 0.01, C: float | None = None, values_per_input=None, seeds=(0,)
) -> Figure:
    """Certified and measured error against width, per construction, beside the bounds.

    Parameters
    ----------
    source : list of dict, Ticket, Report or ReLUNetwork
        Results rows (:func:`strong_lth.experiments.load_results`) with ``"approximate"`` runs
        (other kinds are ignored), or one ticket or report, or a target approximated here at
        each of ``values_per_input`` and ``seeds``
        (:func:`~strong_lth.experiments.analysis.figure_rows`).
    delta : float
        Failure probability put into Malach's bound, in (0, 1).
    C : float, optional
        Constant of Pensia's curve (``> 0``); default: fitted to the Pensia runs
        (:func:`~strong_lth.experiments.analysis.pensia_fit`), 1 when none qualifies.
    values_per_input, seeds
        For a target: as in :func:`~strong_lth.experiments.analysis.figure_rows`.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per target (widths); in each, per construction: the median certified error
        ``ε = sup_{||x|| <= r} ||F(x) - G(x)||_2`` over the runs at each width (solid, band
        min to max) and the median measured error (dotted); then three bound curves, drawn
        for the target layer with most weights: Pensia [P] at ``C`` (given, or fitted to the
        Pensia runs), Malach [M] with C = 1, and the counting lower bound.

    Raises
    ------
    InvalidParameterError
        If ``source`` holds no ``"approximate"`` run, or ``delta`` or ``C`` is out of range.

    Notes
    -----
    The bounds give a width for an error; they are drawn inverted, error against width
    (:func:`~strong_lth.experiments.analysis.pensia_error`,
    :func:`~strong_lth.experiments.analysis.malach_error`,
    :func:`~strong_lth.experiments.analysis.lower_bound_error`; docs/theory.md, section 6).
    The lower bound is a floor no pruned network can beat for every target; the upper bounds
    hold up to their constant.
    """
    delta = check_real("delta", delta, low=0.0, high=1.0, low_open=True, high_open=True)
    if C is not None:
        C = check_real("C", C, low=0.0, low_open=True)
    rows = analysis.figure_rows(source, values_per_input=values_per_input, seeds=seeds)
    panels = analysis.width_error_curves(rows)
    fitted = analysis.pensia_fit(rows)
    if C is not None:
        constant, fit_text = C, f"C = {C:g} given"
    elif fitted is not None:
        constant, fit_text = fitted, f"Ĉ = {fitted:.3g} fitted"
    else:
        constant, fit_text = 1.0, "C = 1, nothing to fit"
    figure, axes_list = _panels(
        len(panels),
        "Width vs error, ε = sup over ‖x‖ ≤ r of ‖F(x) - G(x)‖₂\n"
        "(certified: docs/theory.md §5; measured: worst input found)",
    )
    for axes, (widths, curves) in zip(axes_list, panels.items()):
        depth = len(widths) - 1
        k = int(np.argmax(np.multiply(widths[:-1], widths[1:])))
        d_in, d_out = widths[k], widths[k + 1]
        for j, curve in enumerate(curves):
            color = _color(j)
            _median_band(axes, curve, color, "certified ε (median; band min-max)")
            axes.semilogy(
                curve.x,
                curve.extra,
                "s:",
                ms=4,
                mfc="none",
                color=color,
                label=f"{curve.label}: measured ε (median)",
            )
        xs = np.concatenate([c.x for c in curves])
        grid = np.linspace(xs.min(), xs.max(), 200)
        pensia = analysis.pensia_error(grid, d_in, d_out, depth, C=constant)
        malach = analysis.malach_error(grid, max(widths), depth, delta)
        floor = analysis.lower_bound_error(grid, d_in, d_out)
        axes.semilogy(
            grid,
            pensia,
            "--",
            color="k",
            label=f"Pensia [P]: w = C d_in ln(d_in d_out l / ε), {fit_text}",
        )
        axes.semilogy(
            grid,
            malach,
            "-.",
            color="0.35",
            label=f"Malach [M]: w = C d⁵ l² ln(d l / δ) / ε², C = 1, δ = {delta:g}",
        )
        axes.semilogy(
            grid,
            floor,
            ":",
            color="0.55",
            label="counting lower bound [P]: w = d_in d_out log₂(1/ε) / (d_in + d_out)",
        )
        data = np.concatenate([np.r_[c.low, c.high, c.extra] for c in curves])
        data = data[data > 0]
        axes.set_ylim(data.min() / 30, max(data.max(), malach.max()) * 3)
        _finish(
            axes,
            f"target {'-'.join(map(str, widths))}; bounds for layer {k + 1} "
            f"({d_in}→{d_out}), l = {depth}",
            f"hidden width of layer pair {k + 1}, w = d_in · n (units)",
            "ε (output units, log scale)",
            legend_below=True,
        )
    return figure


def subset_sum_figure(rows) -> Figure:
    """Optimal SubsetSum error against n, with the law ``K sqrt(n) 2^{-n}`` fitted.

    Parameters
    ----------
    rows : list of dict
        Results rows with ``"subset_sum"`` runs; other kinds are ignored.

    Returns
    -------
    matplotlib.figure.Figure
        Per value distribution: the median optimal error over every instance at each n
        (solid; band: quartiles) and ``K sqrt(n) 2^{-n}`` with ``K`` from
        :func:`~strong_lth.experiments.analysis.error_law_constant` (dashed).

    Raises
    ------
    InvalidParameterError
        If ``rows`` holds no ``"subset_sum"`` run.

    Notes
    -----
    Error of an instance: ``min_S |sum_{i in S} v_i - t|``, targets ``t ~ Uniform[-1, 1]``;
    the ``sqrt(n) 2^{-n}`` law is Lueker's [L] (docs/theory.md, section 6).
    """
    curves = analysis.subset_sum_curves(rows)
    figure, (axes,) = _panels(
        1,
        "Optimal SubsetSum error vs n\nerror = min over subsets S "
        "of |Σ_S v - t|, t ~ Uniform[-1, 1]",
    )
    for j, curve in enumerate(curves):
        color = _color(j)
        _median_band(axes, curve, color, "median (band: quartiles)")
        law = analysis.error_law_constant(curve.x, curve.median)
        grid = np.linspace(curve.x.min(), curve.x.max(), 200)
        axes.semilogy(
            grid,
            law * np.sqrt(grid) * 2.0**-grid,
            "--",
            color=color,
            label=f"K √n 2⁻ⁿ, K = {law:.3g} (fitted) [L]",
        )
    _finish(
        axes,
        "median over instances (seeds pooled); dashed: fitted law",
        "values per instance n",
        "optimal error (units of the values, log scale)",
    )
    return figure


def success_figure(rows, *, eta=1e-3, delta: float = 0.1) -> Figure:
    """Probability that the optimal error is at most ``eta`` against n: the phase transition.

    Parameters
    ----------
    rows : list of dict
        Results rows with ``"subset_sum"`` runs; other kinds are ignored.
    eta : float or sequence of float
        Precision(s), each in (0, 1); one curve per precision and value distribution.
    delta : float
        Failure rate that defines the fitted constant, in (0, 1).

    Returns
    -------
    matplotlib.figure.Figure
        The fraction of instances within ``eta`` at each n (solid), the level ``1 - delta``
        (dotted), and for every curve that reaches it a vertical dashed line at
        ``n = Ĉ ln(1 / min(η, δ))`` with ``Ĉ`` from
        :func:`~strong_lth.experiments.analysis.lueker_fit`.

    Raises
    ------
    InvalidParameterError
        If ``rows`` holds no ``"subset_sum"`` run, or ``eta`` or ``delta`` is out of range.

    Notes
    -----
    [L], docs/theory.md, section 6: ``n >= C ln(1 / min(η, δ))`` values hit every target within η
    with probability ``1 - δ``; ``Ĉ = n / ln(1 / min(η, δ̂))`` at the smallest n whose observed
    failure rate ``δ̂`` is at most δ.
    """
    curves = analysis.success_curves(rows, eta=eta, delta=delta)
    figure, (axes,) = _panels(
        1, "SubsetSum success probability vs n at precision η (the phase transition)"
    )
    for j, curve in enumerate(curves):
        color = _color(j)
        fit = (
            f"Ĉ = {curve.C:.3g} at n = {curve.n_star:g}"
            if curve.C is not None
            else f"failure rate ≤ {delta:g} not reached"
        )
        axes.plot(
            curve.n,
            curve.success,
            "o-",
            ms=4,
            color=color,
            label=f"{curve.label}, η = {curve.eta:g}: {fit}",
        )
        if curve.C is not None:
            axes.axvline(curve.C * math.log(1.0 / min(curve.eta, delta)), ls="--", color=color)
    axes.axhline(1.0 - delta, ls=":", color="0.5", label=f"1 - δ = {1.0 - delta:g}")
    axes.set_ylim(-0.03, 1.03)
    _finish(
        axes,
        "dashed: n = Ĉ ln(1 / min(η, δ)) [L], docs/theory.md §6",
        "values per instance n",
        "P(optimal error ≤ η) (fraction of instances)",
    )
    return figure


def figures(rows, *, eta=1e-3, delta: float = 0.1, C: float | None = None) -> dict[str, Figure]:
    """Every figure the rows support, by name (the CLI writes each to ``<name>.png``).

    Parameters
    ----------
    rows : list of dict
        Results rows (:func:`strong_lth.experiments.load_results`).
    eta, delta
        As in :func:`success_figure`.
    C : float, optional
        As in :func:`width_error_figure`.

    Returns
    -------
    dict of str to Figure
        ``"width_vs_error"`` (:func:`width_error_figure`) when there are ``"approximate"``
        runs; ``"subset_sum_error"`` (:func:`subset_sum_figure`) and
        ``"success_probability"`` (:func:`success_figure`) when there are ``"subset_sum"``
        runs.

    Raises
    ------
    InvalidParameterError
        If no figure fits the rows.
    """
    kinds = {row["kind"] for row in analysis.check_rows(rows)}
    out = {}
    if "approximate" in kinds:
        out["width_vs_error"] = width_error_figure(rows, C=C)
    if "subset_sum" in kinds:
        out["subset_sum_error"] = subset_sum_figure(rows)
        out["success_probability"] = success_figure(rows, eta=eta, delta=delta)
    if not out:
        raise InvalidParameterError(
            "`rows` must contain 'approximate' or 'subset_sum' results; got kinds "
            f"{', '.join(sorted(kinds)) or 'none'}."
        )
    return out


def features_figure(table, *, key: str = "width", split: str = "test") -> Figure:
    """Loss against width of random features, neuron-subnetworks and weight-subnetworks.

    Parameters
    ----------
    table : FeatureTable or dict
        The table of :func:`strong_lth.features.compare`, or its ``to_dict()`` read back from
        JSON.
    key : {"width", "random_params"}
        x axis: the width of the models' first random layer, or their number of random
        parameters (the fair comparison: the weight-subnetwork's random network is deeper).
    split : {"train", "test"}
        Which loss to draw.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per task and input dimension d, log-log axes; per model (and mask search):
        the median loss ``1 - R²`` over seeds (line) and its range (band).

    Raises
    ------
    InvalidParameterError
        If ``table`` is not a table, is empty, or ``key``/``split`` is unknown.

    Notes
    -----
    docs/theory.md, section 7: neuron-subnetworks approach random features as the width grows ([M]
    section 3) and share their limits on a single ReLU neuron in high dimension ([YS]); the
    weight-subnetwork reaches it with width about ``d log(1/ε)`` ([P]).

    Examples
    --------
    >>> from strong_lth.features import compare
    >>> from strong_lth.plotting import features_figure
    >>> table = compare("relu_neuron", [4, 16], seeds=[0], d=[2, 3], methods="greedy",
    ...                 values_per_input=[4], n_train=32, n_test=32)
    >>> len(features_figure(table).axes)  # one panel per d
    2
    """
    from .features import FeatureTable

    if isinstance(table, dict) and "rows" in table:
        table = FeatureTable.from_dict(table)
    if not isinstance(table, FeatureTable) or not len(table):
        raise InvalidParameterError(
            "`table` must be a non-empty FeatureTable or its to_dict(); "
            f"got {type(table).__name__}{' (empty)' if isinstance(table, FeatureTable) else ''}."
        )
    curves = table.curves(key=key, split=split)
    panels = sorted({name[:2] for name in curves})
    labels = sorted({name[2:] for name in curves})
    columns = min(3, len(panels))
    rows = math.ceil(len(panels) / columns)
    figure = Figure(figsize=(4.6 * columns, 3.9 * rows), layout="constrained")
    figure.suptitle(
        f"{split} loss 1 - R² against {key.replace('_', ' ')} (median over seeds, band: range)",
        fontsize=STYLE["title"],
    )
    grid = figure.subplots(rows, columns, squeeze=False).ravel()
    for axes in grid[len(panels) :]:
        axes.set_visible(False)
    xlabel = "width of the first random layer" if key == "width" else "random parameters"
    for axes, (task, d) in zip(grid, panels):
        for j, (model, method) in enumerate(labels):
            if (task, d, model, method) not in curves:
                continue
            x, median, low, high = curves[(task, d, model, method)]
            axes.loglog(x, median, "o-", ms=3, color=_color(j), label=f"{model} ({method})")
            axes.fill_between(x, low, high, color=_color(j), alpha=STYLE["band"], lw=0)
        _finish(axes, f"{task}, d = {d}", xlabel, f"{split} loss 1 - R²")
    return figure
