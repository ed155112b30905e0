"""Tests of the side-by-side comparison of constructions (bounds.compare_constructions) and of
the paper's width bound in a ticket's report."""

import math

import numpy as np
import pytest

from strong_lth import InvalidParameterError, ReLUNetwork, approximate
from strong_lth.bounds import compare_constructions
from strong_lth.constructions import CONSTRUCTIONS

FAST = {"certificate": "spectral", "measure": False}


@pytest.fixture(scope="module")
def tickets():
    target = ReLUNetwork.random((3, 4, 2), rng=0)
    made = [approximate(target, eps=0.3, construction=c, rng=1, **FAST) for c in CONSTRUCTIONS]
    made.append(approximate(target, eps=0.3, rng=1, subset_size=2, max_values_per_input=64, **FAST))
    made.append(approximate(target, values_per_input=3, rng=1, **FAST))  # certified above 1
    return made


def test_rows_hold_each_ticket_against_its_own_paper(tickets):
    table = compare_constructions(tickets, delta=0.05)
    for ticket, row in zip(tickets, table.rows, strict=True):
        report = ticket.report
        assert row["depth"] == len(ticket.masks) == CONSTRUCTIONS[ticket.construction].depth(2)
        assert row["kept_params"] == ticket.n_kept
        assert row["random_params"] == ticket.random_network().n_params
        assert row["density"] == ticket.n_kept / ticket.random_network().n_params
        assert row["certified"] == report.certified and row["measured"] is None
        d = ticket.widths
        eps = report.eps if report.eps is not None else report.certified
        assert row["eps"] == eps
        widths = [d[i] * n for i, n in enumerate(ticket.values_per_input)]
        assert row["layer_widths"] == widths
        if ticket.construction in ("pensia", "burkholz"):  # [P] Theorem 1 ([B]: its order)
            expected = [d[i] * math.log(d[i] * d[i + 1] * 2 / min(eps, 0.05)) for i in (0, 1)]
        else:  # [M] as [P] quotes it, d the largest width
            w = max(d)
            expected = [w**5 * 4 / eps**2 * math.log(w * 2 / 0.05)] * 2
        if eps >= 1:  # no bound is stated there
            assert np.isnan(row["bound"]).all() and ticket.report.layers[0].paper_width is None
            continue
        np.testing.assert_allclose(row["bound"], expected, rtol=1e-13)
        np.testing.assert_allclose(np.multiply(row["implied_C"], row["bound"]), widths)
    text = str(table)
    assert "pensia k=2" in text and "arXiv:2006.07990" in text and "delta = 0.05" in text


def test_the_report_states_the_paper_bound_and_implied_constant(tickets):
    for ticket in tickets[:-1]:
        rows = ticket.report.layers
        table = compare_constructions([ticket]).rows[0]  # delta 0.01, as the report
        np.testing.assert_allclose([r.paper_width for r in rows], table["bound"], rtol=1e-15)
        assert "paper's width bound per layer at C = 1" in str(ticket.report)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda t: [], r"`tickets` must be a non-empty sequence of tickets with reports"),
        (
            lambda t: [t[0], approximate(ReLUNetwork.random((3, 4, 2), rng=5), values_per_input=2)],
            r"`tickets` must all be made for the same target; got 2 targets",
        ),
        (lambda t: t[:1], None),
    ],
)
def test_bad_comparisons_name_the_parameter(tickets, make, message):
    if message is None:
        with pytest.raises(InvalidParameterError, match=r"`delta` must be in \(0, 1\); got 1.5"):
            compare_constructions(make(tickets), delta=1.5)
        return
    with pytest.raises(InvalidParameterError, match=message):
        compare_constructions(make(tickets))
