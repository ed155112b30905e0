"""Tests of the core pipeline: constructions, tickets, the certificate and approximate()."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strong_lth import (
    InvalidParameterError,
    RandomNetwork,
    ReLUNetwork,
    TheoryAssumptionWarning,
    Ticket,
    approximate,
    certify,
)
from strong_lth._certify import AGREEMENT

from .strategies import relu_networks, seeds

IDENTITY = 1e-12
"""The pruned pair and ``A relu(h) - B relu(-h)`` add the same products in other orders: they
agree to a few roundings of sums of at most a few hundred terms of size <= 1."""


def small_target(bias=False, seed=0, widths=(3, 5, 2)):
    return ReLUNetwork.random(widths, rng=seed, bias=bias)


@pytest.mark.parametrize("construction", ["pensia", "malach"])
@pytest.mark.parametrize("bias", [False, True])
def test_pruned_pairs_compute_the_gadget_identity(construction, bias):
    target = small_target(bias)
    ticket = approximate(target, values_per_input=[7, 5], construction=construction, rng=3)
    pruned = ticket.pruned_network()
    h = np.random.default_rng(0).standard_normal((200, target.widths[0]))
    biases = pruned.biases or (None,) * pruned.depth
    x = h
    for i, (a, b) in enumerate(ticket.gadgets()):
        first, second = pruned.weights[2 * i], pruned.weights[2 * i + 1]
        if bias and i == 0:  # the folded constant input
            first = np.hstack([first, biases[0][:, None]])
            x = np.hstack([x, np.ones((len(x), 1))])
        pair = np.maximum(x @ first.T, 0) @ second.T
        gadget = np.maximum(x, 0) @ a.T - np.maximum(-x, 0) @ b.T
        assert np.max(np.abs(pair - gadget)) <= IDENTITY
        x = np.maximum(gadget, 0)
    assert np.allclose(pruned.forward(h), ticket.reduced_network().forward(h), atol=IDENTITY)


@pytest.mark.parametrize("bias", [False, True])
def test_every_kept_weight_is_the_random_weight_at_its_position(bias):
    target = small_target(bias)
    ticket = approximate(target, values_per_input=6, rng=11)
    pruned = ticket.pruned_network()
    dense = ticket.random_network().materialize()
    for k, (kept, random) in enumerate(zip(pruned.weights, dense.weights)):
        if k == 0 and bias:
            kept = np.hstack([kept, pruned.biases[0][:, None]])
        nonzero = kept != 0
        assert np.array_equal(kept[nonzero], random[nonzero])
        masked = np.zeros_like(random, dtype=bool)
        masked[tuple(ticket.masks[k].T)] = True
        assert not np.any(kept[~masked])  # everything outside the mask is pruned
    assert np.count_nonzero(np.concatenate([m.ravel() for m in dense.weights])) == dense.n_params


def test_a_ticket_is_a_ticket_of_every_wider_network():
    target = small_target()
    ticket = approximate(target, values_per_input=5, rng=2)
    wider = Ticket(**{**ticket.__dict__, "values_per_input": (9, 9), "report": None})
    for layer in range(1, ticket.depth + 1):  # the same random weights, bit for bit
        assert np.array_equal(ticket.kept_weights(layer), wider.kept_weights(layer))
    x = np.random.default_rng(1).standard_normal((50, 3))
    # the wider dense matrices only add zero columns, but BLAS may block the sums differently
    np.testing.assert_allclose(
        ticket.pruned_network().forward(x), wider.pruned_network().forward(x), rtol=0, atol=1e-12
    )


def test_same_seed_same_ticket_bit_for_bit_and_another_seed_differs():
    target = small_target(bias=True)
    one = approximate(target, values_per_input=6, rng=5)
    two = approximate(target, values_per_input=6, rng=5)
    other = approximate(target, values_per_input=6, rng=6)
    assert all(np.array_equal(a, b) for a, b in zip(one.masks, two.masks))
    for a, b in zip(one.pruned_network().weights, two.pruned_network().weights):
        assert np.array_equal(a, b)
    assert not all(
        np.array_equal(a, b)
        for a, b in zip(one.pruned_network().weights, other.pruned_network().weights)
    )


def test_save_and_load_regenerate_the_same_pruned_network(tmp_path):
    target = small_target(bias=True)
    ticket = approximate(target, eps=0.2, rng=8, distribution="gaussian")
    ticket.save(tmp_path / "ticket.npz")
    loaded = Ticket.load(tmp_path / "ticket.npz")
    assert loaded.seed == ticket.seed and loaded.distribution == ticket.distribution
    for a, b in zip(ticket.pruned_network().weights, loaded.pruned_network().weights):
        assert np.array_equal(a, b)
    assert loaded.report["certified"] == ticket.report.certified


@settings(max_examples=25)
@given(
    target=relu_networks(max_width=4, max_depth=3),
    n=st.integers(1, 12),
    seed=seeds,
    construction=st.sampled_from(["pensia", "malach"]),
)
def test_measured_never_exceeds_certified(target, n, seed, construction):
    with pytest.warns() if target.assumption_violations() else _no_warning():
        ticket = approximate(target, values_per_input=n, construction=construction, rng=seed)
    report = ticket.report
    assert report.measured <= report.certified * (1 + AGREEMENT)
    # the certified bound holds on fresh inputs too, not only on the ones certify() tried
    x = np.random.default_rng(seed).standard_normal((300, target.widths[0]))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    gap = np.linalg.norm(target.forward(x) - ticket.pruned_network().forward(x), axis=1)
    assert gap.max() <= report.certified * (1 + AGREEMENT) + 1e-12


class _no_warning:
    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("error", TheoryAssumptionWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


@pytest.mark.parametrize("eps", [0.3, 0.05, 0.01])
@pytest.mark.parametrize("bias", [False, True])
def test_automatic_mode_meets_eps_certified(eps, bias):
    target = small_target(bias, seed=4, widths=(4, 6, 6, 3))
    with pytest.warns(TheoryAssumptionWarning) if bias else _no_warning():
        ticket = approximate(target, eps=eps, rng=2)
    assert ticket.report.certified <= eps
    assert certify(target, ticket, rng=0).certified <= eps  # recomputed from the masks alone
    rows = ticket.report.layers
    assert all(row.budget_values_per_input >= row.values_per_input for row in rows)


def test_automatic_mode_is_minimal_per_layer_along_the_nested_networks():
    # with the spectral certificate alone the slack pass lowers n one step at a time
    target = small_target(seed=3, widths=(4, 6, 3))
    ticket = approximate(target, eps=0.02, rng=4, certificate="spectral")
    chosen = list(ticket.values_per_input)
    for k in range(len(chosen)):
        if chosen[k] == 1:
            continue
        fewer = approximate(
            target,
            values_per_input=[*chosen[:k], chosen[k] - 1, *chosen[k + 1 :]],
            rng=4,
            certificate="spectral",
        )
        assert fewer.report.certified > 0.02 * (1 - 1e-9)


def test_exact_solver_errors_never_increase_with_n():
    target = small_target(seed=5, widths=(3, 4, 2))
    previous = None
    for n in range(1, 16):
        ticket = approximate(target, values_per_input=n, rng=9)
        deltas = np.concatenate(
            [
                np.hstack([a - w, w - b]).ravel()
                for (a, b), w in zip(ticket.gadgets(), target.weights)
            ]
        )
        if previous is not None:  # nested pools: the optimum over a superset is no worse
            assert np.all(np.abs(deltas) <= np.abs(previous) + IDENTITY)
        previous = deltas


def test_certified_error_never_increases_with_n_for_exact_solver():
    # Entry magnitudes of Δ never grow with n (test above), but a spectral norm can grow when
    # entries shrink and change sign, so this is checked on a sweep rather than implied. (The
    # lockstep bounds follow unit activations and carry no such claim.)
    target = small_target(seed=6, widths=(4, 8, 3))
    certified = [
        approximate(target, values_per_input=n, rng=1, certificate="spectral").report.certified
        for n in range(1, 24)
    ]
    assert np.all(np.diff(certified) <= 1e-12)


def test_pensia_beats_malach_at_equal_width():
    target = small_target(seed=7, widths=(6, 6, 6))
    pensia = approximate(target, values_per_input=40, rng=0)
    malach = approximate(target, values_per_input=40, construction="malach", rng=0)
    assert pensia.report.certified < malach.report.certified / 100


def test_certify_reads_a_pruned_network_like_its_ticket():
    target = small_target(bias=True)
    ticket = approximate(target, values_per_input=8, rng=1)
    from_ticket = certify(target, ticket, rng=0)
    from_network = certify(target, ticket.pruned_network(), rng=0)
    assert from_network.certified == pytest.approx(from_ticket.certified, rel=1e-12)
    assert np.allclose(from_network.tau, from_ticket.tau, rtol=1e-12)
    assert from_ticket.eta(0.1).shape == (2,)


def test_report_totals_and_text():
    target = small_target()
    ticket = approximate(target, values_per_input=[4, 6], rng=0)
    report = ticket.report
    assert (
        report.random_params
        == ticket.random_network().n_params
        == 12 * 3 + 5 * 12 + 30 * 5 + 2 * 30
    )
    assert report.kept_params == ticket.n_kept == ticket.pruned_network().n_nonzero
    assert report.random_multiple == report.random_params / target.n_params
    text = str(report)
    assert "certified" in text and f"{report.kept_params:,}" in text


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda t: approximate(t), r"exactly one of `eps` .* and `values_per_input`"),
        (lambda t: approximate(t, eps=0.1, values_per_input=3), r"exactly one of `eps`"),
        (lambda t: approximate(t, eps=0.0), r"`eps` must be in \(0, inf\); got 0.0"),
        (lambda t: approximate(t, eps=-1), r"`eps` must be in \(0, inf\)"),
        (lambda t: approximate(t, values_per_input=0), r"`values_per_input` must be in \[1, "),
        (lambda t: approximate(t, values_per_input=[2]), r"one integer per layer \(2\)"),
        (lambda t: approximate(t, values_per_input=2, radius=0), r"`radius` must be in \(0, "),
        (lambda t: approximate(t, values_per_input=2, construction="x"), r"`construction` must"),
        (lambda t: approximate(t, values_per_input=2, solver="gurobi"), r"`solver` must be one"),
        (lambda t: approximate(t, values_per_input=2, distribution="cauchy"), r"`distribution`"),
        (lambda t: approximate(np.eye(2), eps=0.1), r"`target` must be a ReLUNetwork"),
        (
            lambda t: approximate(t, eps=1e-9, max_values_per_input=10),
            r"`max_values_per_input` must be (at least \d+|raised) to reach eps = 1e-09",
        ),
        (
            lambda t: approximate(t, values_per_input=2).pruned_network(max_bytes=100),
            r"`max_bytes` must cover the dense pruned network \(\d+ bytes\); got 100",
        ),
        (
            lambda t: certify(t, ReLUNetwork.random((3, 4, 2), rng=0)),
            r"`network` must have depth 2l = 4 for a target of depth 2; got 2",
        ),
        (
            lambda t: certify(t, ReLUNetwork.random((3, 4, 5, 6, 2), rng=0)),
            r"`network` layer 1 must keep at most one input weight per unit",
        ),
        (
            lambda t: certify(t, approximate(small_target(widths=(3, 4, 2)), values_per_input=2)),
            r"`network` layer pair 1 must map 3 inputs to 5 outputs",
        ),
        (lambda t: certify(t, "ticket"), r"`network` must be a ReLUNetwork or a Ticket"),
        (
            lambda t: certify(t, approximate(t, values_per_input=2), radius=-1),
            r"`radius` must be in \(0, inf\)",
        ),
    ],
)
def test_bad_input_names_the_parameter(call, message):
    with pytest.raises(InvalidParameterError, match=message):
        call(small_target())


def test_bad_ticket_files_and_masks(tmp_path):
    np.savez(tmp_path / "other.npz", W0=np.eye(2))
    with pytest.raises(InvalidParameterError, match="`path` must be a ticket file"):
        Ticket.load(tmp_path / "other.npz")
    with pytest.raises(InvalidParameterError, match=r"`masks` must hold one array per random"):
        Ticket(0, RandomNetwork(0, (2, 2), 1).distribution, (2, 2), (1,), "pensia", ())
    with pytest.raises(InvalidParameterError, match=r"`masks` layer 1 must index inside"):
        Ticket(
            0,
            RandomNetwork(0, (2, 2), 1).distribution,
            (2, 2),
            (1,),
            "pensia",
            (np.array([[5, 0]]), np.zeros((0, 2))),
        )
