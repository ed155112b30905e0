"""Tests of the depth-(l + 1) construction of Burkholz (2022): its random network, the subsets it
chooses, the identity of the pruned network and the soundness of its certificate."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from strong_lth import InvalidParameterError, RandomNetwork, ReLUNetwork, approximate
from strong_lth.constructions import burkholz, pensia
from strong_lth.constructions.burkholz import (
    certified_error,
    choose,
    layer_forms,
    lift_rows,
    masks,
    pool_weights,
    pruned_network,
    random_network,
    spectral_upper,
)
from strong_lth.exact import exact_error
from strong_lth.gadgets import gadget_masks, signed_inputs
from strong_lth.subset_sum import solve_batch
from strong_lth.worst_case import measure_worst_case

SETTINGS = settings(max_examples=8, deadline=None)


def relu(v):
    return np.maximum(v, 0.0)


def build(target, n, seed, **options):
    """The pruned network's masks over the random network of ``seed`` with ``n`` copies,
    assembled here from :func:`choose` and :func:`masks` (``burkholz.build`` is checked
    against it)."""
    augmented = target.augmented()
    network = random_network(seed, augmented.widths, n, **options)
    keeps = []
    for i, w in enumerate(augmented.weights, start=1):
        signed = signed_inputs(1, w.shape[1], target.has_bias) if i == 1 else None
        keeps.append(choose(w, network, i, signed=signed)[0])
    return network, masks(keeps)


def test_build_is_choose_then_masks():
    target = ReLUNetwork.random((3, 2, 2), rng=7, bias=True)
    network, positions = build(target, (9, 5), 2)
    assert all(np.array_equal(a, b) for a, b in zip(burkholz.build(target, network), positions))
    with pytest.raises(InvalidParameterError, match="`network` must have the bias-augmented"):
        burkholz.build(target, random_network(2, (3, 2, 2), (9, 5)))


@st.composite
def cases(draw, max_depth=3, max_width=3):
    depth = draw(st.integers(1, max_depth))
    widths = tuple(draw(st.integers(1, max_width)) for _ in range(depth + 1))
    bias = draw(st.booleans())
    target = ReLUNetwork.random(widths, rng=draw(st.integers(0, 2**16)), bias=bias)
    n = tuple(draw(st.integers(4, 14)) for _ in range(depth))
    return target, n, draw(st.integers(0, 2**32 - 1))


def inputs(d, radius, count=64, seed=0):
    x = np.random.default_rng(seed).standard_normal((count, d))
    x *= radius / np.linalg.norm(x, axis=1, keepdims=True)
    x[count // 2 :] *= np.random.default_rng(seed + 1).random((count - count // 2, 1))
    return x


def test_shapes_depth_and_nesting():
    small = random_network(3, (4, 3, 5, 2), (5, 6, 7))
    big = small.with_values_per_input((8, 9, 7))
    assert small.depth == 4 == len(small.shapes)
    assert small.shapes == [(20, 4), (18, 20), (35, 18), (2, 35)]
    for layer, (rows, cols) in enumerate(small.shapes, start=1):
        assert np.array_equal(big.matrix(layer)[:rows, :cols], small.matrix(layer))
    assert small.n_params == sum(r * c for r, c in small.shapes)


def test_gadget_weights_read_the_matrices():
    network = random_network(5, (3, 2, 4), (6, 5))
    m1, m2, m3 = (network.matrix(j) for j in (1, 2, 3))
    u, v = pool_weights(network, 1)
    for j in range(3):
        for k in range(6):
            assert u[j, k] == m1[k * 3 + j, j]
            assert np.array_equal(v[:, j, k], m2[:, k * 3 + j])
    u, v = pool_weights(network, 2, slice(1, 3))
    assert np.array_equal(u, np.ones((2, 5)))
    assert np.array_equal(v[:, 1, 4], m3[1:3, 4 * 2 + 1])
    with pytest.raises(InvalidParameterError, match="`i` must be"):
        pool_weights(network, 3)


def test_depth_one_is_the_pensia_pair():
    """For l = 1 the two random networks coincide, and so do the tickets."""
    target = ReLUNetwork.random((4, 3), rng=2, bias=True)
    w = target.augmented().weights[0]
    signed = signed_inputs(1, w.shape[1], True)
    _, positions = build(target, (16,), 9)
    keep, _, _ = pensia.choose(w, RandomNetwork(9, (5, 3), 16), 1, signed=signed)
    assert all(np.array_equal(a, b) for a, b in zip(positions, gadget_masks(keep)))


def test_later_layers_solve_plain_weights_exactly():
    network = random_network(1, (2, 3, 2), (4, 9))
    weights = np.random.default_rng(0).uniform(-1, 1, (2, 3))
    keep, sums, _ = choose(weights, network, 2)
    _, v = pool_weights(network, 2)
    assert np.allclose(sums[0], np.where(keep, v, 0).sum(axis=2), atol=1e-12)
    assert not sums[1].any()
    reference = solve_batch(v.reshape(-1, 9), weights.reshape(-1), method="bruteforce")
    assert np.allclose(np.abs(sums[0] - weights).reshape(-1), reference.errors, atol=1e-12)


def test_first_layer_copies_are_pensia_instances():
    network = random_network(4, (3, 2, 2), (10, 3))
    weights = np.random.default_rng(1).uniform(-0.5, 0.5, (2, 3))
    keep, sums, _ = choose(weights, network, 1)
    u, v = pool_weights(network, 1)
    products = v * u[None]
    assert keep.shape == (6, 3, 10)
    a = np.where(keep & (u > 0)[None], products, 0).sum(axis=2)
    b = np.where(keep & (u < 0)[None], products, 0).sum(axis=2)
    assert np.allclose(sums, [a, b], atol=1e-12)
    # every copy c of neuron r solves its own instances for W[r]
    for row in range(6):
        alone = pensia.choose(weights[row % 2 : row % 2 + 1], _one_row(network, row), 1)
        assert np.array_equal(alone[0][0], keep[row])


def _one_row(network, row):
    class View:
        def gadget_weights(self, _):
            return pool_weights(network, 1, slice(row, row + 1))

    return View()


def test_chunks_do_not_change_the_choice(monkeypatch):
    network = random_network(2, (3, 4, 2), (8, 5))
    weights = np.random.default_rng(2).uniform(-0.5, 0.5, (4, 3))
    whole = choose(weights, network, 1, tol=1e-3)
    monkeypatch.setattr(burkholz, "CHUNK_VALUES", 7)
    parts = choose(weights, network, 1, tol=1e-3)
    assert all(np.array_equal(a, b) for a, b in zip(whole, parts))


def test_warm_start_from_fewer_copies():
    """Subsets within the tolerance on the smaller network are carried over unchanged."""
    network = random_network(2, (3, 4, 2), (12, 5))
    weights = np.random.default_rng(3).uniform(-0.5, 0.5, (4, 3))
    small, small_sums, _ = choose(weights, network.with_values_per_input((10, 3)), 1, tol=0.05)
    keep, sums, _ = choose(weights, network, 1, tol=0.05, start=small)
    carried = np.abs(small_sums[0] - lift_rows(weights, 3)) <= 0.05
    assert carried.any() and not carried.all()
    assert np.allclose(sums[0, :12][carried], small_sums[0][carried], rtol=0, atol=1e-12)
    u, _ = pool_weights(network, 1)
    positive = np.broadcast_to((u > 0)[None], keep.shape)
    now, before = (keep & positive)[:12, :, :10], small & positive[:12, :, :10]
    assert np.array_equal(now[carried], before[carried])
    assert np.abs(sums[0] - lift_rows(weights, 5)).max() <= 0.3


def test_masks_are_the_sorted_positions_of_the_kept_weights():
    """Against gadget_masks (which sorts explicitly), after the top-down pruning of unread
    copies done here by hand."""
    rng = np.random.default_rng(5)
    keeps = [rng.random((12, 3, 5)) < 0.3, rng.random((2, 4, 3)) < 0.3]
    read = keeps[1].any(axis=0).T.reshape(-1)
    first = keeps[0] & read[:, None, None]
    positions = masks(keeps)
    expected = (gadget_masks(first)[0], gadget_masks(first)[1], gadget_masks(keeps[1])[1])
    assert all(np.array_equal(a, b) and a.dtype == np.int64 for a, b in zip(positions, expected))


def test_rows_are_the_first_rows_of_the_whole_choice():
    network = random_network(2, (3, 4, 2), (8, 5))
    weights = np.random.default_rng(4).uniform(-0.5, 0.5, (4, 3))
    whole = choose(weights, network, 1, tol=1e-3)
    part = choose(weights, network, 1, tol=1e-3, rows=7)
    assert all(
        np.array_equal(a[..., :7, :] if a.ndim == 3 and len(a) == 2 else a[:7], b)
        for a, b in zip(whole, part)
    )
    with pytest.raises(InvalidParameterError, match="`rows` must be"):
        choose(weights, network, 1, rows=21)


@pytest.mark.parametrize("layer", [1, 2])
def test_a_range_of_rows_is_those_rows_of_the_whole_choice(layer):
    """What a block of rows on a cluster solves (burkholz._solve_block): keep, sums and status
    of rows lo..hi of the whole layer, warm start (rows from lo) included."""
    network = random_network(2, (3, 4, 5, 2), (8, 5, 3))
    target = ReLUNetwork.random((3, 4, 5, 2), rng=4)
    weights = target.weights[layer - 1]
    signed = signed_inputs(layer, weights.shape[1], False)
    fewer = network.with_values_per_input((6, 4, 3))
    earlier = choose(weights, fewer, layer, signed=signed)[0]
    whole = choose(weights, network, layer, signed=signed, tol=0.02, start=earlier)
    total = len(whole[0])
    for lo, hi in [(0, total), (3, 7), (total - 1, total)]:
        part = choose(
            weights,
            network,
            layer,
            signed=signed,
            tol=0.02,
            start=earlier[lo:hi],
            rows=range(lo, hi),
        )
        assert np.array_equal(part[0], whole[0][lo:hi])
        assert np.array_equal(part[1], whole[1][:, lo:hi])
        assert np.array_equal(part[2], whole[2][:, lo:hi])
    for bad in (range(0, 4, 2), range(5, 5), range(-1, 3), range(0, total + 1)):
        with pytest.raises(
            InvalidParameterError,
            match=r"`rows` must be a non-empty range of step 1 within range\(",
        ):
            choose(weights, network, layer, rows=bad)


def test_sampled_search_meets_eps(monkeypatch):
    """With a sample smaller than the layer, the bisection runs on the sample's rows first;
    the ticket still certifies (checked from its masks)."""
    target = ReLUNetwork.random((2, 2, 1), rng=2, bias=True)
    solved = []
    real = burkholz.choose

    def counting(weights, network, layer, **options):
        solved.append((layer, options.get("rows")))
        return real(weights, network, layer, **options)

    monkeypatch.setattr(burkholz, "SAMPLE_INSTANCES", 5)  # one row: 3 inputs, 2 signed
    monkeypatch.setattr(burkholz, "choose", counting)
    network, positions, certified = burkholz.search(target, random_network(3, (3, 3, 1), 1), 0.1)
    assert certified == certified_error(target, network, positions, 1.0) <= 0.1
    assert (1, 1) in solved and (1, None) in solved


def test_estimate_of_a_sampled_layer_is_near_its_tau(monkeypatch):
    """The prediction from 8 of 60 rows is within a factor 3 of the exact τ."""
    target = ReLUNetwork.random((6, 5, 2), rng=4).scaled(1.0)
    weights = target.weights[0]
    layer = burkholz._Layer(
        1, weights, np.ones(6, bool), random_network(5, target.widths, 1), "mitm", 2**32
    )
    monkeypatch.setattr(burkholz, "SAMPLE_INSTANCES", 8 * 12)
    assert layer.sample_rows(12) == 8
    for n in (10, 16):
        predicted, exact = layer.estimate(n, 12, 1e-4), layer.tau(n, 12, 1e-4)
        assert exact / 3 <= predicted <= 3 * exact


def test_signed_later_layer_is_refused():
    network = random_network(0, (2, 2, 2), (4, 4))
    with pytest.raises(InvalidParameterError, match="`signed` must be all False for layer 2"):
        choose(np.ones((2, 2)), network, 2, signed=np.ones(2, dtype=bool))


@SETTINGS
@given(cases())
def test_identity_of_the_pruned_network(case):
    """Kept weights are the random network's entries; depth l + 1; the forward pass equals
    ``A σ(x̃) - B σ(-x̃)`` then ``M_{i+1} σ(·)``; ``M_{i+1} lift(y) = S_i y``."""
    target, n, seed = case
    network, positions = build(target, n, seed)
    net = pruned_network(network, positions, target.has_bias)
    assert net.depth == target.depth + 1 == network.depth
    dense = [network.matrix(j) for j in range(1, network.depth + 1)]
    for j, kept in enumerate(positions):
        mask = np.zeros(dense[j].shape, dtype=bool)
        mask[kept[:, 0], kept[:, 1]] = True
        pruned = net.weights[j] if j or not target.has_bias else None
        if pruned is None:  # the constant input's column became the first layer's bias
            pruned = np.column_stack([net.weights[0], net.biases[0]])
        assert np.array_equal(pruned, np.where(mask, dense[j], 0.0))
    forms = layer_forms(network, positions)
    x = inputs(target.widths[0], 1.5)
    tilde = np.hstack([x, np.ones((len(x), 1))]) if target.has_bias else x
    a, b = forms.first
    h = relu(tilde) @ a.T - relu(-tilde) @ b.T
    for matrix in forms.matrices[2:]:
        h = relu(h) @ matrix.T
    assert np.allclose(net.forward(x), h, rtol=0, atol=1e-12)
    for i, s in enumerate(forms.sums, start=2):
        y = np.random.default_rng(i).random(s.shape[1])
        lifted = np.tile(y, network.values_per_input[i - 1])
        assert np.allclose(forms.matrices[i] @ lifted, s @ y, rtol=0, atol=1e-12)
    # every kept hidden unit is read, and no unit reading the constant input is dead
    for below, above in zip(forms.matrices[1:], forms.matrices[2:]):
        units = np.flatnonzero(abs(below).sum(axis=1))
        assert set(units) <= set(np.flatnonzero(abs(above).sum(axis=0)))
    if target.has_bias:
        first = forms.matrices[0].toarray()
        assert np.all(first[:, -1] >= 0)


@SETTINGS
@given(cases())
def test_same_seed_same_ticket_and_nested_copies(case):
    target, n, seed = case
    _, first = build(target, n, seed)
    _, again = build(target, n, seed)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    # the ticket at n is a ticket of every wider network, computing the same function
    wider = random_network(seed, target.augmented().widths, tuple(k + 3 for k in n))
    small = random_network(seed, target.augmented().widths, n)
    x = inputs(target.widths[0], 1.0)
    # unit indices are copy-major: the small network's positions are the same in the wider one
    assert np.allclose(
        pruned_network(small, first, target.has_bias).forward(x),
        pruned_network(wider, first, target.has_bias).forward(x),
        rtol=0,
        atol=1e-12,
    )


@SETTINGS
@given(cases(), st.floats(0.25, 2.0))
def test_certificate_bounds_the_measured_worst_case(case, radius):
    target, n, seed = case
    network, positions = build(target, n, seed)
    bound = certified_error(target, network, positions, radius)
    net = pruned_network(network, positions, target.has_bias)
    measured, _ = measure_worst_case(
        target,
        net,
        radius=radius,
        sphere=not target.has_bias,
        rng=np.random.default_rng(seed),
        samples=256,
        starts=4,
        ascent_steps=30,
    )
    assert measured <= bound


@pytest.mark.slow
@settings(max_examples=6, deadline=None)
@given(cases(max_depth=2, max_width=2))
def test_certificate_bounds_the_exact_error(case):
    """The exact ∞-norm error over the box [-1/2, 1/2]^d (a MILP) is at most the certificate
    over the ball of radius sqrt(d) / 2, which contains the box."""
    target, n, seed = case
    n = tuple(min(k, 6) for k in n)
    network, positions = build(target, n, seed)
    net = pruned_network(network, positions, target.has_bias)
    bound = certified_error(target, network, positions, 0.5 * math.sqrt(target.widths[0]))
    exact = exact_error(target, net, box=0.5, time_limit=20)
    assert exact.value <= bound


@pytest.mark.parametrize("bias", [False, True])
def test_certificate_bounds_a_dense_grid_in_two_dimensions(bias):
    target = ReLUNetwork.random((2, 3, 3, 2), rng=4, bias=bias)
    network, positions = build(target, (6, 5, 5), 11)
    net = pruned_network(network, positions, bias)
    parts = burkholz.certificate_parts(target, network, positions, 1.0)
    bound = certified_error(target, network, positions, 1.0)
    t = np.linspace(-1, 1, 201)
    grid = np.stack(np.meshgrid(t, t), axis=-1).reshape(-1, 2)
    grid = grid[np.linalg.norm(grid, axis=1) <= 1.0]
    worst = np.linalg.norm(net.forward(grid) - target.forward(grid), axis=1).max()
    assert bound == parts.certified == min(parts.spectral, parts.chain)
    assert 0 < worst <= parts.chain and worst <= parts.spectral  # each bound alone
    assert bound < 100 * worst  # a sanity check of scale, not of soundness


def test_certificate_of_depth_one_is_the_pair_bound():
    from strong_lth import certify
    from strong_lth.ticket import Ticket

    target = ReLUNetwork.random((4, 3), rng=1)
    network, positions = build(target, (14,), 3)
    ticket = Ticket(3, network.distribution, (4, 3), (14,), "pensia", positions)
    spectral = certify(target, ticket, method="spectral", samples=8, starts=1).certified
    ours = certified_error(target, network, positions, 1.0)
    assert spectral <= ours <= spectral * (1 + 1e-6)


def test_sparse_source_keeps_only_present_weights():
    target = ReLUNetwork.random((3, 3, 2), rng=5)
    network, positions = build(target, (12, 8), 6, source_density=0.5)
    for layer, kept in enumerate(positions, start=1):
        assert network.present(layer, kept[:, 0], kept[:, 1]).all()


def test_spectral_upper_is_an_upper_bound(monkeypatch):
    rng = np.random.default_rng(0)
    dense = rng.standard_normal((30, 7))
    exact = np.linalg.norm(dense, 2)
    assert exact <= spectral_upper(dense) <= exact * (1 + 1e-6)
    matrix = sparse.random_array((40, 50), density=0.2, rng=1, format="csr")
    exact = np.linalg.norm(matrix.toarray(), 2)
    assert exact <= spectral_upper(matrix) <= exact * (1 + 1e-6)
    monkeypatch.setattr(burkholz, "GRAM_SIDE", 0)
    holder = spectral_upper(matrix)
    magnitude = abs(matrix)
    hoelder = math.sqrt(magnitude.sum(axis=0).max() * magnitude.sum(axis=1).max())
    assert exact <= holder <= min(hoelder, sparse.linalg.norm(matrix)) * 1.01
    assert spectral_upper(np.zeros((0, 3))) == 0.0


def test_bad_input_to_the_certificate():
    target = ReLUNetwork.random((2, 2, 2), rng=0)
    network, positions = build(target, (4, 4), 0)
    with pytest.raises(InvalidParameterError, match="`radius`"):
        certified_error(target, network, positions, 0.0)
    other = random_network(0, (3, 2, 2), (4, 4))
    with pytest.raises(InvalidParameterError, match="`network` must have the bias-augmented"):
        certified_error(target, other, positions, 1.0)
    wrong = (np.array([[0, 1]]), *positions[1:])  # unit 0 reads input 1
    with pytest.raises(InvalidParameterError, match="`positions` must keep, in layer 1"):
        layer_forms(network, wrong)


def test_certificate_bounds_the_exact_error_on_one_ticket():
    target = ReLUNetwork.random((2, 2, 1), rng=3, bias=True)
    network, positions = build(target, (6, 4), 5)
    net = pruned_network(network, positions, True)
    exact = exact_error(target, net, box=0.5, time_limit=20)
    parts = burkholz.certificate_parts(target, network, positions, 0.5 * math.sqrt(2))
    assert 0 < exact.value <= parts.chain and exact.value <= parts.spectral


def test_automatic_mode_meets_eps_on_one_target():
    target = ReLUNetwork.random((2, 2, 1), rng=1, bias=True)
    network, positions, certified = burkholz.search(target, random_network(3, (3, 3, 1), 1), 0.1)
    assert certified == certified_error(target, network, positions, 1.0) <= 0.1


@pytest.mark.slow
@settings(max_examples=5, deadline=None)
@given(cases(max_depth=2, max_width=3), st.sampled_from([0.02, 0.05]))
def test_automatic_mode_meets_eps(case, eps):
    target, _, seed = case
    base = random_network(seed, target.augmented().widths, 1)
    network, positions, certified = burkholz.search(target, base, eps)
    assert certified <= eps
    assert certified == certified_error(target, network, positions, 1.0)
    x = inputs(target.widths[0], 1.0, count=256, seed=seed % 1000)
    net = pruned_network(network, positions, target.has_bias)
    assert np.linalg.norm(net.forward(x) - target.forward(x), axis=1).max() <= certified


def test_automatic_mode_when_the_first_ticket_keeps_nothing_above_a_layer():
    # found by hypothesis: at the first n the ticket's layer 2 keeps no weight (its norm is 0),
    # which made layer 1's goal infinite and a chain factor empty
    target = ReLUNetwork((np.array([[1.0]]), np.array([[-1.0]])))
    base = random_network(42008, target.augmented().widths, 1)
    network, positions, certified = burkholz.search(target, base, 0.02)
    assert certified == certified_error(target, network, positions, 1.0) <= 0.02
    x = inputs(1, 1.0, count=256, seed=8)
    net = pruned_network(network, positions, target.has_bias)
    assert np.linalg.norm(net.forward(x) - target.forward(x), axis=1).max() <= certified


def test_automatic_mode_refuses_what_it_cannot_reach():
    target = ReLUNetwork.random((3, 3, 2), rng=0)
    base = random_network(0, (3, 3, 2), 1)
    with pytest.raises(InvalidParameterError, match="`max_values_per_input` must be raised"):
        burkholz.search(target, base, 1e-4, max_values_per_input=10)
    with pytest.raises(InvalidParameterError, match="`eps` must be"):
        burkholz.search(target, base, 0.0)
    with pytest.raises(InvalidParameterError, match="`base` must have the bias-augmented"):
        burkholz.search(target, random_network(0, (4, 3, 2), 1), 0.1)


def test_approximate_builds_saves_loads_and_certifies(tmp_path):
    from strong_lth import Ticket, approximate, certify

    target = ReLUNetwork.random((3, 3, 2), rng=2)
    ticket = approximate(target, values_per_input=(20, 8), construction="burkholz", rng=4)
    network = random_network(4, (3, 3, 2), (20, 8))
    assert ticket.depth == 3 == ticket.random_network().depth
    assert all(np.array_equal(a, b) for a, b in zip(ticket.masks, burkholz.build(target, network)))
    assert ticket.report.certified == certified_error(target, network, ticket.masks, 1.0)
    assert "burkholz" in str(ticket.report)
    path = tmp_path / "ticket.npz"
    ticket.save(path)
    loaded = Ticket.load(path)
    assert all(np.array_equal(a, b) for a, b in zip(loaded.masks, ticket.masks))
    cert = certify(target, loaded, rng=0, samples=64, starts=2, ascent_steps=10)
    assert cert.measured <= cert.certified == ticket.report.certified
    x = inputs(3, 1.0)
    assert np.allclose(loaded.forward(x), loaded.pruned_network().forward(x), rtol=0, atol=1e-12)
    with pytest.raises(InvalidParameterError, match="`method` must be None or 'spectral'"):
        certify(target, loaded, method="lockstep")
    with pytest.raises(InvalidParameterError, match="`gadgets` reads layer pairs"):
        loaded.gadgets()
    with pytest.raises(InvalidParameterError, match="`certificate` must be None or 'spectral'"):
        approximate(target, values_per_input=4, construction="burkholz", certificate="lockstep")


def test_approximate_automatic_mode_with_biases():
    from strong_lth import approximate

    target = ReLUNetwork.random((2, 3, 1), rng=5, bias=True)
    with pytest.warns(Warning, match="biases"):
        ticket = approximate(target, eps=0.1, construction="burkholz", rng=1, measure=False)
    assert ticket.report.certified <= 0.1
    assert ticket.report.measured is None
    with pytest.warns(Warning, match="biases"):
        again = approximate(target, eps=0.1, construction="burkholz", rng=1, measure=False)
    assert again.values_per_input == ticket.values_per_input
    assert all(np.array_equal(a, b) for a, b in zip(again.masks, ticket.masks))


def test_certify_with_a_box_checks_the_exact_error():
    from strong_lth import approximate, certify

    target = ReLUNetwork.random((2, 2, 1), rng=6)
    ticket = approximate(target, values_per_input=(10, 6), construction="burkholz", rng=2)
    cert = certify(target, ticket, rng=0, box=0.5, exact_time_limit=20, samples=64, starts=2)
    assert cert.exact.value <= cert.box_certified


def test_choose_refuses_a_network_of_another_layout():
    with pytest.raises(InvalidParameterError, match="`network` must have the depth-"):
        choose(np.ones((3, 4)), RandomNetwork(1, (5, 4, 3), 6), 2)


def test_cli_approximates_and_certifies(tmp_path, capsys):
    from strong_lth.cli import main

    target = tmp_path / "target.npz"
    ReLUNetwork.random((3, 3, 2), rng=0).to_npz(target)
    out = tmp_path / "ticket.npz"
    args = ["approximate", target, "--values-per-input", "14,6", "--construction", "burkholz"]
    assert main([str(a) for a in [*args, "--out", out]]) == 0
    assert "burkholz construction" in capsys.readouterr().out
    assert main(["certify", str(out), str(target)]) == 0
    assert "certified" in capsys.readouterr().out
    assert main([str(a) for a in [*args, "--subset-size", "2"]]) == 2
    assert "`subset_size` is supported by" in capsys.readouterr().err


def test_exact_error_reads_a_ticket():
    from strong_lth import approximate

    target = ReLUNetwork.random((2, 2, 1), rng=8)
    ticket = approximate(target, values_per_input=(8, 4), construction="burkholz", rng=0)
    direct = exact_error(target, ticket, box=0.5, time_limit=20)
    pruned = exact_error(target, ticket.pruned_network(), box=0.5, time_limit=20)
    assert direct.value == pytest.approx(pruned.value, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("mode", [{"values_per_input": 40}, {"eps": 1e-4}])
def test_a_ticket_above_max_bytes_is_refused_before_solving(mode):
    target = ReLUNetwork.random((16, 16, 4), rng=0)
    need = burkholz.solve_bytes(target.augmented().widths, (40, 40))
    assert need > 10**6  # the fixed-mode estimate the refusal states
    with pytest.raises(InvalidParameterError, match=r"`max_bytes` must cover the estimated"):
        approximate(target, construction="burkholz", rng=1, max_bytes=10**5, **mode)


def test_solve_bytes_counts_every_position_of_the_random_network():
    widths, n = (3, 4, 2), (5, 6)
    positions = burkholz.random_network(0, widths, n).n_positions
    assert burkholz.solve_bytes(widths, n) == burkholz.BYTES_PER_POSITION * positions
