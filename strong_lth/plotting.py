"""Matplotlib figures of strong_lth results (one consistent style; every function returns a
Figure and never shows it)."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from ._validation import check_real
from .exceptions import InvalidParameterError
from .experiments import analysis
from .report import Report

__all__ = [
    "features_figure",
    "figures",
    "search_figure",
    "subset_sum_figure",
    "success_figure",
    "width_error_figure",
]

STYLE = {"panel": (6.4, 5.4), "title": 10, "legend": 7, "band": 0.18, "grid": 0.3}
"""Shared look of the figures: panel size (inches), title and legend font sizes, band and
grid transparency."""


def search_figure(report: Report) -> Figure:
    """Width versus error of every layer pair, as the automatic search measured it.

    One curve per layer: ``τ_i = ||[A_i - W_i, W_i - B_i]||_2`` (the layer's error per unit of
    input norm, THEORY section 5) against the values per input n tried on the nested random
    networks; the chosen n is circled.

    Examples
    --------
    >>> from strong_lth import ReLUNetwork, approximate
    >>> from strong_lth.plotting import search_figure
    >>> ticket = approximate(ReLUNetwork.random((3, 4, 2), rng=0), eps=0.1, rng=0)
    >>> len(search_figure(ticket.report).axes[0].lines)  # a curve and a circle per layer
    4
    """
    figure = Figure(figsize=(6.4, 4.2), layout="constrained")
    axes = figure.add_subplot()
    for i, layer in enumerate(report.layers, start=1):
        n, tau = np.array(layer.evaluated, dtype=float).reshape(-1, 2).T
        line = axes.semilogy(n, tau, "o-", ms=3, label=f"layer {i} ({layer.d_in}→{layer.d_out})")
        chosen = layer.values_per_input
        axes.plot(chosen, layer.tau, "o", ms=9, mfc="none", color=line[0].get_color())
    title = f"{report.construction} construction"
    if report.eps is not None:
        title += f", certified ε = {report.eps:g} on the ball of radius {report.radius:g}"
    axes.set_title(title, fontsize=10)
    axes.set_xlabel("values per input n (hidden width = d_in · n)")
    axes.set_ylabel("τ_i = ‖[A-W, W-B]‖₂ (error per unit input norm)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
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


def width_error_figure(rows, *, delta: float = 0.01) -> Figure:
    """Certified and measured error against width, per construction, beside the bounds.

    Parameters
    ----------
    rows : list of dict
        Results rows (:func:`strong_lth.experiments.load_results`) with ``"approximate"`` runs;
        other kinds are ignored.
    delta : float
        Failure probability put into Malach's bound, in (0, 1).

    Returns
    -------
    matplotlib.figure.Figure
        One panel per target (widths); in each, per construction: the median certified error
        ``ε = sup_{||x|| <= r} ||F(x) - G(x)||_2`` over the runs at each width (solid, band
        min to max) and the median measured error (dotted); then three bound curves, drawn
        for the target layer with most weights: Pensia [P] with the constant fitted to the
        Pensia runs (:func:`strong_lth.experiments.analysis.pensia_fit`; C = 1 when no run
        reached ε < 1), Malach [M] with C = 1, and the counting lower bound.

    Raises
    ------
    InvalidParameterError
        If ``rows`` holds no ``"approximate"`` run, or ``delta`` is out of range.

    Notes
    -----
    The bounds give a width for an error; they are drawn inverted, error against width
    (:func:`~strong_lth.experiments.analysis.pensia_error`,
    :func:`~strong_lth.experiments.analysis.malach_error`,
    :func:`~strong_lth.experiments.analysis.lower_bound_error`; THEORY section 6).
    The lower bound is a floor no pruned network can beat for every target; the upper bounds
    hold up to their constant.
    """
    delta = check_real("delta", delta, low=0.0, high=1.0, low_open=True, high_open=True)
    panels = analysis.width_error_curves(rows)
    fitted = analysis.pensia_fit(rows)
    constant = 1.0 if fitted is None else fitted
    figure, axes_list = _panels(
        len(panels),
        "Width vs error, ε = sup over ‖x‖ ≤ r of ‖F(x) - G(x)‖₂\n"
        "(certified: THEORY §5; measured: worst input found)",
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
        fit_text = f"Ĉ = {constant:.3g} fitted" if fitted is not None else "C = 1, nothing to fit"
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
    the ``sqrt(n) 2^{-n}`` law is Lueker's [L] (THEORY section 6).
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
    [L], THEORY section 6: ``n >= C ln(1 / min(η, δ))`` values hit every target within η with
    probability ``1 - δ``; ``Ĉ = n / ln(1 / min(η, δ̂))`` at the smallest n whose observed
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
        "dashed: n = Ĉ ln(1 / min(η, δ)) [L], THEORY §6",
        "values per instance n",
        "P(optimal error ≤ η) (fraction of instances)",
    )
    return figure


def figures(rows, *, eta=1e-3, delta: float = 0.1) -> dict[str, Figure]:
    """Every figure the rows support, by name (the CLI writes each to ``<name>.png``).

    Parameters
    ----------
    rows : list of dict
        Results rows (:func:`strong_lth.experiments.load_results`).
    eta, delta
        As in :func:`success_figure`.

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
        out["width_vs_error"] = width_error_figure(rows)
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
    THEORY section 7: neuron-subnetworks approach random features as the width grows ([M]
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
