"""Matplotlib figures of strong_lth results (one consistent style; every function returns a
Figure and never shows it)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .report import Report

__all__ = ["search_figure"]


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
