"""Tests of the results figures (strong_lth.plotting) and the fits behind them
(strong_lth.experiments.analysis): every figure renders with Agg and has the expected curves;
every fitted constant and inverted bound is recomputed independently."""

import io
import math

import matplotlib
import numpy as np
import pytest

from strong_lth import InvalidParameterError, ReLUNetwork, Ticket, approximate, bounds
from strong_lth.experiments import Sweep, analysis, load_results, run_sweep
from strong_lth.plotting import (
    figures,
    search_figure,
    subset_sum_figure,
    success_figure,
    width_error_figure,
)

matplotlib.use("Agg")

GRID = [
    {
        "kind": "approximate",
        "target": [[3, 5, 2], [4, 3]],
        "construction": ["pensia", "malach"],
        "values_per_input": [4, 8, 16],
        "seed": [0, 1],
    },
    {
        "kind": "subset_sum",
        "n": [4, 6, 8, 10, 12],
        "products": [False, True],
        "instances": 60,
        "seed": [0, 1],
    },
]


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plots")
    sweep = Sweep.from_dict({"output": str(folder), "grid": GRID})
    return load_results(run_sweep(sweep, quiet=True))


def approximate_rows(rows):
    return [r for r in rows if r["kind"] == "approximate"]


def subset_rows(rows):
    return [r for r in rows if r["kind"] == "subset_sum"]


def render(figure):
    """Draw to PNG bytes with Agg (what a saved figure goes through)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=40)
    assert buffer.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


def legend_texts(axes):
    return [t.get_text() for t in axes.get_legend().get_texts()]


def test_width_error_figure_has_a_panel_per_target_and_every_curve(rows):
    figure = width_error_figure(rows)
    render(figure)
    assert len(figure.axes) == 2  # targets 3-5-2 and 4-3
    for axes in figure.axes:
        # per construction: certified and measured; then Pensia, Malach, lower bound
        assert len(axes.lines) == 2 * 2 + 3
        assert len(axes.collections) == 2  # a min-max band per construction
        assert axes.get_yscale() == "log"
        assert "ε" in axes.get_ylabel() and "units" in axes.get_xlabel()
        texts = legend_texts(axes)
        assert sum("Pensia [P]" in t for t in texts) == 1
        assert any("Malach [M]" in t for t in texts)
        assert any("lower bound" in t for t in texts)
    assert "sup" in figure.get_suptitle() and "‖F(x) - G(x)‖" in figure.get_suptitle()


def test_width_error_curves_are_the_rows(rows):
    panels = analysis.width_error_curves(rows)
    pensia = {c.label: c for c in panels[(3, 5, 2)]}["pensia"]
    assert list(pensia.x) == [3 * 4, 3 * 8, 3 * 16]  # layer 1 (3 -> 5): most weights, 15 > 10
    for x, median, low, high in zip(pensia.x, pensia.median, pensia.low, pensia.high):
        certified = [
            r["result"]["certified"]
            for r in approximate_rows(rows)
            if r["params"]["target"] == [3, 5, 2]
            and r["params"]["construction"] == "pensia"
            and 3 * r["params"]["values_per_input"] == x
        ]
        assert len(certified) == 2  # two seeds
        assert (median, low, high) == (np.median(certified), min(certified), max(certified))


def test_pensia_fit_is_the_median_constant(rows):
    constants = []
    for r in approximate_rows(rows):
        res = r["result"]
        if r["params"]["construction"] == "pensia" and res["certified"] < 1:
            sizes = [a * b for a, b in zip(res["d_in"], res["d_out"])]
            k = sizes.index(max(sizes))
            log = math.log(res["d_in"][k] * res["d_out"][k] * len(sizes) / res["certified"])
            constants.append(res["values_per_input"][k] / log)
    assert constants, "the fixture must reach certified errors below 1"
    fitted = analysis.pensia_fit(rows)
    assert fitted == pytest.approx(np.median(constants), rel=1e-12)
    texts = legend_texts(width_error_figure(rows).axes[0])
    assert any(f"Ĉ = {fitted:.3g} fitted" in t for t in texts)
    assert analysis.pensia_fit(subset_rows(rows)) is None


def test_inverted_bounds_give_back_the_width():
    width = np.array([40.0, 90.0])
    eps = analysis.pensia_error(width, 4, 6, 2, C=1.5)
    np.testing.assert_allclose(bounds.pensia_width(4, 6, 2, eps, eps, C=1.5), width, rtol=1e-12)
    eps = analysis.malach_error(1e12, 3, 2, 0.05)
    assert bounds.malach_width(3, 2, eps, 0.05) == pytest.approx(1e12, rel=1e-12)
    eps = analysis.lower_bound_error(width, 4, 6)
    np.testing.assert_allclose(bounds.lower_bound_width(4, 6, eps), width, rtol=1e-12)


def test_subset_sum_figure_has_data_and_law_per_distribution(rows):
    figure = subset_sum_figure(rows)
    render(figure)
    (axes,) = figure.axes
    assert len(axes.lines) == 2 * 2  # uniform and products: median and fitted law
    assert len(axes.collections) == 2  # quartile bands
    assert axes.get_yscale() == "log"
    texts = legend_texts(axes)
    for curve in analysis.subset_sum_curves(rows):
        assert any(
            f"K = {analysis.error_law_constant(curve.x, curve.median):.3g}" in t for t in texts
        )


def test_subset_sum_curves_pool_every_instance(rows):
    curves = {c.label: c for c in analysis.subset_sum_curves(rows)}
    assert set(curves) == {"Uniform[-1, 1]", "products of two Uniform[-1, 1]"}
    uniform = curves["Uniform[-1, 1]"]
    pooled = np.concatenate(
        [
            r["result"]["errors"]
            for r in subset_rows(rows)
            if r["params"]["n"] == 8 and not r["params"]["products"]
        ]
    )
    assert pooled.size == 2 * 60
    k = list(uniform.x).index(8)
    assert uniform.median[k] == np.median(pooled)
    assert uniform.low[k] == np.quantile(pooled, 0.25)


def test_error_law_constant_is_a_log_least_squares_fit():
    n = np.array([4.0, 8.0, 12.0])
    errors = 0.7 * np.sqrt(n) * 2.0**-n * np.array([1.3, 0.8, 1.1])
    expected = math.exp(np.mean(np.log(errors / (np.sqrt(n) * 2.0**-n))))
    assert analysis.error_law_constant(n, errors) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(InvalidParameterError, match=r"`median_errors` must have a positive entry"):
        analysis.error_law_constant([4], [0.0])


def test_success_figure_marks_every_fitted_transition(rows):
    etas = (1e-2, 1e-3)
    figure = success_figure(rows, eta=etas, delta=0.2)
    render(figure)
    (axes,) = figure.axes
    # independent count of the curves whose failure rate reaches 0.2 at some n
    fitted = 0
    for products in (False, True):
        for eta in etas:
            by_n = {}
            for r in subset_rows(rows):
                if r["params"]["products"] == products:
                    by_n.setdefault(r["params"]["n"], []).extend(r["result"]["errors"])
            fitted += any(np.mean(np.array(e) > eta) <= 0.2 for e in by_n.values())
    assert fitted >= 2
    assert len(axes.lines) == 4 + fitted + 1  # data, a vertical line per fit, 1 - δ
    assert "P(optimal error ≤ η)" in axes.get_ylabel()


def test_lueker_fit_recomputed(rows):
    curve = next(
        c for c in analysis.success_curves(rows, eta=1e-2, delta=0.2) if c.label == "Uniform[-1, 1]"
    )
    failure = 1 - curve.success
    first = int(np.flatnonzero(failure <= 0.2)[0])
    delta_hat = failure[first]
    expected = curve.n[first] / math.log(1 / min(1e-2, delta_hat if delta_hat > 0 else 1e-2))
    assert (curve.C, curve.n_star) == (pytest.approx(expected, rel=1e-12), curve.n[first])
    assert analysis.lueker_fit([4, 6], [0.1, 0.3], 1e-3, delta=0.1) is None


def test_figures_chooses_what_the_rows_support(rows):
    assert set(figures(rows)) == {"width_vs_error", "subset_sum_error", "success_probability"}
    assert set(figures(approximate_rows(rows))) == {"width_vs_error"}
    assert set(figures(subset_rows(rows))) == {"subset_sum_error", "success_probability"}
    with pytest.raises(InvalidParameterError, match=r"`rows` must contain 'approximate' or"):
        figures([])
    with pytest.raises(InvalidParameterError, match=r"got kinds features"):
        figures([{"kind": "features"}])


def test_bad_figure_input(rows):
    with pytest.raises(
        InvalidParameterError,
        match=r"`source` must be result rows, a Ticket, a Report or a ReLUNetwork target; got "
        r"'results.jsonl'\.",
    ):
        width_error_figure("results.jsonl")
    with pytest.raises(InvalidParameterError, match=r"`rows` must contain 'approximate' results"):
        width_error_figure(subset_rows(rows))
    with pytest.raises(InvalidParameterError, match=r"`rows` must contain 'subset_sum' results"):
        subset_sum_figure(approximate_rows(rows))
    with pytest.raises(InvalidParameterError, match=r"`delta` must be in \(0, 1\); got 1.0"):
        width_error_figure(rows, delta=1.0)
    with pytest.raises(InvalidParameterError, match=r"`eta` must be in \(0, 1\); got 2.0"):
        success_figure(rows, eta=[1e-3, 2.0])
    with pytest.raises(InvalidParameterError, match=r"`eta` must be a precision or a non-empty"):
        success_figure(rows, eta=[])


# --------------------------------------------------------------------------------------------
# Figures of one ticket, report or target, with a chosen C (issue 14)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ticket():
    return approximate(ReLUNetwork.random((3, 4, 2), rng=0), eps=0.1, rng=0)


def _implied(layer):
    """n / ln(d_in d_out / τ): Pensia's one-layer width solved for C, by hand."""
    return layer.values_per_input / math.log(layer.d_in * layer.d_out / layer.tau)


def test_search_figure_draws_the_bounds_at_the_implied_C(ticket):
    """The demo's width_vs_error.png showed τ_i against n without the bounds its name promises."""
    figure = search_figure(ticket)
    render(figure)
    (axes,) = figure.axes
    layers = ticket.report.layers
    assert len(axes.lines) == 4 * len(layers)  # search, choice, Pensia, lower bound
    C = float(np.median([_implied(layer) for layer in layers]))
    assert f"C = {C:.3g} implied" in axes.get_title()
    for i, layer in enumerate(layers):
        pensia, lower = axes.lines[4 * i + 2], axes.lines[4 * i + 3]
        n = pensia.get_xdata()
        np.testing.assert_allclose(
            pensia.get_ydata(), layer.d_in * layer.d_out * np.exp(-n / C), rtol=1e-12
        )
        np.testing.assert_allclose(
            lower.get_ydata(),
            2.0 ** (-layer.d_in * n * (layer.d_in + layer.d_out) / (layer.d_in * layer.d_out)),
            rtol=1e-12,
        )
    texts = legend_texts(axes)  # per layer its τ; each bound once, drawn in every layer's colour
    assert sum("τ_i measured" in t for t in texts) == len(layers)
    assert sum("[P] bound" in t for t in texts) == 1
    assert sum("counting lower bound" in t for t in texts) == 1


def test_search_figure_takes_C_a_report_or_a_loaded_ticket(ticket, tmp_path):
    given = search_figure(ticket, C=2.0).axes[0]
    assert "C = 2 given" in given.get_title()
    layer = ticket.report.layers[0]
    n = given.lines[2].get_xdata()
    np.testing.assert_allclose(
        given.lines[2].get_ydata(), layer.d_in * layer.d_out * np.exp(-n / 2.0), rtol=1e-12
    )
    ticket.save(tmp_path / "t.npz")
    for source in (ticket.report, Ticket.load(tmp_path / "t.npz")):
        axes = search_figure(source).axes[0]
        for mine, theirs in zip(axes.lines, search_figure(ticket).axes[0].lines):
            np.testing.assert_array_equal(mine.get_ydata(), theirs.get_ydata())
    with pytest.raises(InvalidParameterError, match=r"`C` must be in \(0, inf\); got -1\.0"):
        search_figure(ticket, C=-1.0)
    with pytest.raises(InvalidParameterError, match=r"`source` must be a Ticket with a report"):
        search_figure("report")


def test_width_error_figure_from_a_ticket_a_report_or_a_target(ticket):
    one = width_error_figure(ticket)
    (axes,) = one.axes
    assert len(axes.lines) == 2 + 3  # certified, measured; three bounds
    k = int(np.argmax([r.d_in * r.d_out for r in ticket.report.layers]))
    x, y = axes.lines[0].get_data()
    assert list(x) == [ticket.report.layers[k].hidden_width]
    assert list(y) == [ticket.report.certified]
    for mine, theirs in zip(width_error_figure(ticket.report).axes[0].lines, axes.lines):
        np.testing.assert_array_equal(mine.get_ydata(), theirs.get_ydata())

    target = ReLUNetwork.random((3, 4, 2), rng=0)
    figure = width_error_figure(target, values_per_input=[2, 4], seeds=[0, 1], C=3.0)
    (axes,) = figure.axes
    widths = sorted({3 * n for n in (2, 4)})  # layer 1 (3 -> 4) has most weights
    assert list(axes.lines[0].get_xdata()) == widths
    certified = {
        n: np.median(
            [approximate(target, values_per_input=n, rng=s).report.certified for s in (0, 1)]
        )
        for n in (2, 4)
    }
    assert list(axes.lines[0].get_ydata()) == [certified[2], certified[4]]
    pensia = axes.lines[2]
    np.testing.assert_allclose(
        pensia.get_ydata(),
        analysis.pensia_error(pensia.get_xdata(), 3, 4, 2, C=3.0),
        rtol=1e-12,
    )
    assert any("C = 3 given" in t for t in legend_texts(axes))
    with pytest.raises(InvalidParameterError, match=r"`values_per_input` must be a non-empty"):
        width_error_figure(target)


def test_figures_pass_C_to_pensias_curve(rows):
    axes = figures(approximate_rows(rows), C=1.7)["width_vs_error"].axes[0]
    assert sum("C = 1.7 given" in t for t in legend_texts(axes)) == 1
