"""strong_lth.finders: edge-popup, planted networks and the masked-network ticket type."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from strong_lth import InvalidParameterError, RandomNetwork, ReLUNetwork, approximate, exact_error
from strong_lth.finders import MaskedNetwork, edge_popup, measured_error, plant
from strong_lth.finders._edge_popup import _backward, _cross_entropy, _distillation
from strong_lth.ticket import density as density_of

TARGET = ReLUNetwork.random((3, 4, 2), rng=0)
NETWORK = RandomNetwork(seed=1, widths=(3, 4, 2), values_per_input=4)


@pytest.fixture(scope="module")
def searched():
    return edge_popup(TARGET, NETWORK, density=0.3, rng=0, steps=30)


def _inputs(d, rows=50, seed=7):
    x = np.random.default_rng(seed).standard_normal((rows, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_kept_weights_are_entries_of_the_random_network(searched):
    pruned = searched.pruned_network()
    for layer, positions in enumerate(searched.masks, start=1):
        rows, cols = positions[:, 0], positions[:, 1]
        dense = NETWORK.matrix(layer)
        assert np.array_equal(searched.kept_weights(layer), NETWORK.entries(layer, rows, cols))
        assert np.array_equal(pruned.weights[layer - 1][rows, cols], dense[rows, cols])
        others = np.ones(dense.shape, dtype=bool)
        others[rows, cols] = False
        assert not np.any(pruned.weights[layer - 1][others])
    x = _inputs(3)
    assert np.allclose(searched.forward(x), pruned.forward(x), rtol=0, atol=1e-13)


@pytest.mark.parametrize("density", [0.05, 0.3, 0.77, 1.0])
def test_density_keeps_exactly_k_per_layer(density):
    ticket = edge_popup(TARGET, NETWORK, density=density, rng=1, steps=3)
    expected = [round(density * r * c) for r, c in NETWORK.shapes]
    assert [len(m) for m in ticket.masks] == expected
    assert ticket.density == density_of(sum(expected), NETWORK.n_params)
    assert ticket.n_kept == sum(int(b.sum()) for b in ticket.boolean_masks())


def test_sparse_source_keeps_only_present_weights():
    sparse = NETWORK.__class__(1, (3, 4, 2), 4, source_density=0.5)
    ticket = edge_popup(TARGET, sparse, density=0.5, rng=0, steps=5)
    for layer, positions in enumerate(ticket.masks, start=1):
        present = sparse.present(layer, positions[:, 0], positions[:, 1])
        assert present.all()
        total = int(sparse.present(layer, *np.indices(sparse.shapes[layer - 1])).sum())
        assert len(positions) == round(0.5 * total)
    assert ticket.density == density_of(ticket.n_kept, sparse.n_params)


def test_same_seed_same_ticket_bit_for_bit():
    first = edge_popup(TARGET, NETWORK, density=0.3, rng=5, steps=20)
    second = edge_popup(TARGET, NETWORK, density=0.3, rng=5, steps=20)
    other = edge_popup(TARGET, NETWORK, density=0.3, rng=6, steps=20)
    restarted = [
        edge_popup(TARGET, NETWORK, density=0.3, rng=5, steps=20, restarts=2) for _ in range(2)
    ]
    assert all(np.array_equal(a, b) for a, b in zip(restarted[0].masks, restarted[1].masks))
    assert np.array_equal(restarted[0].losses, restarted[1].losses)
    assert all(np.array_equal(a, b) for a, b in zip(first.masks, second.masks))
    assert np.array_equal(first.losses, second.losses)
    assert not np.array_equal(first.losses, other.losses)


def _numeric_gradient(loss_of, effective, layer, eps=1e-6):
    grad = np.zeros_like(effective[layer])
    for index in np.ndindex(grad.shape):
        shifted = [w.copy() for w in effective]
        shifted[layer][index] += eps
        up = loss_of(shifted)
        shifted[layer][index] -= 2 * eps
        grad[index] = (up - loss_of(shifted)) / (2 * eps)
    return grad


@pytest.mark.parametrize("kind", ["distillation", "cross-entropy"])
def test_backward_matches_finite_differences(kind):
    gen = np.random.default_rng(0)
    effective = [gen.standard_normal((5, 4)), gen.standard_normal((3, 5))]
    x = gen.standard_normal((6, 3))
    if kind == "distillation":
        expected = gen.standard_normal((6, 3))

        def loss_of(ws):
            return _distillation(expected, x, ws, True)
    else:
        y = gen.integers(0, 3, 6)

        def loss_of(ws):
            return _cross_entropy(y, x, ws, True)

    _, upstream = loss_of(effective)
    grads = _backward(effective, upstream)
    for layer in range(2):
        numeric = _numeric_gradient(lambda ws: loss_of(ws)[0], effective, layer)
        assert np.allclose(grads[layer], numeric, rtol=1e-5, atol=1e-7)


def test_distillation_lowers_the_error():
    start = measured_error(TARGET, edge_popup(TARGET, NETWORK, density=0.3, rng=0, steps=1))
    trained = edge_popup(TARGET, NETWORK, density=0.3, rng=0, steps=300, lr=0.05)
    assert trained.losses[-20:].mean() < trained.losses[:20].mean()
    assert measured_error(TARGET, trained) < start


def test_labelled_data_and_sgd():
    x = _inputs(3, rows=200, seed=1)
    y = TARGET.forward(x).argmax(axis=1)
    ticket = edge_popup(
        TARGET, NETWORK, density=0.5, rng=0, steps=200, data=(x, y), optimizer="sgd", lr=0.1
    )
    assert ticket.losses[-20:].mean() < ticket.losses[:20].mean()
    accuracy = np.mean(ticket.forward(x).argmax(axis=1) == y)
    assert accuracy > 0.6


def test_progress_bar_runs(capsys):
    ticket = edge_popup(TARGET, NETWORK, density=0.3, rng=0, steps=3, progress=True)
    assert ticket.n_kept > 0


def _plant_cases():
    biased = ReLUNetwork.random((3, 4, 2), rng=2, bias=True)
    return [
        ("gadget", TARGET, NETWORK),
        ("gadget, biases", biased, RandomNetwork(1, biased.augmented().widths, 3)),
        ("mlp widths", TARGET, (3, 9, 2)),
        ("mlp widths, biases", biased, (4, 9, 2)),
        (
            "deep mlp",
            ReLUNetwork.random((3, 5, 5, 2), rng=3),
            ReLUNetwork.random((3, 8, 7, 2), rng=4),
        ),
    ]


@pytest.mark.parametrize(
    "name, target, network", _plant_cases(), ids=[c[0] for c in _plant_cases()]
)
def test_planted_mask_reproduces_the_target(name, target, network):
    planted = plant(target, network, rng=0)
    x = _inputs(target.widths[0], rows=200)
    assert np.max(np.abs(planted.ticket.forward(x) - target.forward(x))) < 1e-12
    pruned = planted.ticket.pruned_network()
    assert np.max(np.abs(pruned.forward(x) - target.forward(x))) < 1e-12
    # the planted network is the random one except at the planted positions
    if isinstance(network, RandomNetwork):
        original = [network.matrix(j) for j in range(1, network.depth + 1)]
    elif isinstance(network, ReLUNetwork):
        original = list(network.weights)
    else:
        original = None
    for layer, mask in enumerate(planted.ticket.boolean_masks()):
        kept = planted.network.weights[layer][mask]
        assert np.array_equal(kept, planted.ticket.kept_weights(layer + 1))
        if original is not None:
            assert np.array_equal(planted.network.weights[layer][~mask], original[layer][~mask])
    assert all(np.all(s > 0) for s in planted.scales)
    assert all(len(np.unique(u)) == len(u) for u in planted.units)


def test_plant_is_seeded():
    first, second = plant(TARGET, (3, 9, 2), rng=3), plant(TARGET, (3, 9, 2), rng=3)
    assert np.array_equal(first.network.weights[0], second.network.weights[0])
    assert all(np.array_equal(a, b) for a, b in zip(first.ticket.masks, second.ticket.masks))


def _tiny_planted(case):
    """Tiny planted case ``case``: a 2-3-1 target (seed ``case``) planted in a He-normal 2-6-1
    network drawn from an independent seed (``100 + case``; with the target's own seed the
    network's first rows would be multiples of the target's, nothing left to plant)."""
    target = ReLUNetwork.random((2, 3, 1), rng=case)
    return target, plant(target, (2, 6, 1), rng=100 + case)


def _recovered(target, planted, found):
    """The search returned the planted mask itself: the same kept positions in every layer, and
    (checked independently, by evaluation) the target's function to rounding."""
    same = all(np.array_equal(a, b) for a, b in zip(found.masks, planted.ticket.masks))
    if same:
        x = _inputs(2, rows=200)
        assert np.max(np.abs(found.forward(x) - target.forward(x))) <= 1e-12
    return same


def test_planted_recovery_rate_with_restarts():
    """Stated rate: on the tiny planted case 0 (9 of 18 weights planted), edge-popup with 4
    restarts of 150 steps (lr 0.05) returns the planted ticket exactly in at least 5 of 6 seeds
    (measured: 20 of 20 seeds). One search alone does so in about half the seeds (9 of 20
    measured), which is what restarts are for: the search cannot add two units at once."""
    target, planted = _tiny_planted(0)
    assert planted.ticket.density == 0.5
    single = [
        edge_popup(target, planted.network, density=0.5, rng=seed, steps=150, lr=0.05)
        for seed in range(6)
    ]
    restarted = [
        edge_popup(target, planted.network, density=0.5, rng=seed, steps=150, lr=0.05, restarts=4)
        for seed in range(6)
    ]
    rate_single = sum(_recovered(target, planted, f) for f in single)
    rate_restarted = sum(_recovered(target, planted, f) for f in restarted)
    assert rate_restarted >= 5, (rate_single, rate_restarted)
    assert rate_restarted >= rate_single
    # a search that misses still comes out well below the empty ticket's error
    empty = measured_error(target, ReLUNetwork([np.zeros((3, 2)), np.zeros((1, 3))]))
    assert max(measured_error(target, f, rng=0) for f in restarted) < empty / 2


def test_restarts_keep_the_lowest_validation_loss():
    """The returned search is one of the restarts (the same seed stream) and, among them, has the
    lowest distillation loss on the validation inputs, recomputed here."""
    from strong_lth.finders._edge_popup import VALIDATION, _ball

    target, planted = _tiny_planted(3)
    found = edge_popup(target, planted.network, density=0.5, rng=8, steps=60, lr=0.05, restarts=3)
    gen = np.random.default_rng(8)
    x = _ball(gen, VALIDATION, 2, 1.0)

    def loss(masked):
        return 0.5 * np.mean(np.sum((masked.forward(x) - target.forward(x)) ** 2, axis=1))

    singles = []
    for _ in range(3):  # each restart continues the generator, as in edge_popup
        singles.append(edge_popup(target, planted.network, density=0.5, rng=gen, steps=60, lr=0.05))
    assert any(np.array_equal(found.losses, s.losses) for s in singles)
    values = [loss(s) for s in singles]
    assert np.argmin(values) == 1  # the best is neither the first nor the last: a sharp check
    assert loss(found) == pytest.approx(min(values), rel=1e-12)


def test_restarts_on_labelled_data_keep_the_lowest_cross_entropy():
    """With labelled data the restarts are compared by the cross-entropy on all of it (no
    validation draw), recomputed here from the returned tickets' outputs."""
    x = _inputs(3, rows=120, seed=2)
    y = TARGET.forward(x).argmax(axis=1)
    settings = dict(density=0.5, steps=40, lr=0.05, data=(x, y))
    found = edge_popup(TARGET, NETWORK, rng=5, restarts=3, **settings)
    gen = np.random.default_rng(5)
    singles = [edge_popup(TARGET, NETWORK, rng=gen, **settings) for _ in range(3)]

    def cross_entropy(masked):
        logits = masked.forward(x)
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return -np.mean(log_p[np.arange(len(y)), y])

    assert any(np.array_equal(found.losses, s.losses) for s in singles)
    values = [cross_entropy(s) for s in singles]
    assert np.argmin(values) == 1  # neither the first nor the last
    assert cross_entropy(found) == pytest.approx(min(values), rel=1e-12)


@pytest.mark.slow
def test_planted_recovery_rate_over_targets():
    """Stated rate over six tiny planted cases (targets 0-5) and ten seeds each, 4 restarts of
    300 steps: at least 34 of the 60 searches return the planted ticket exactly (measured 38:
    10, 0, 2, 6, 10, 10 per target). Target 1 is never recovered: two of its planted units
    point the same way with outputs of opposite signs, so neither helps without the other."""
    counts = []
    for case in range(6):
        target, planted = _tiny_planted(case)
        counts.append(
            sum(
                _recovered(
                    target,
                    planted,
                    edge_popup(
                        target,
                        planted.network,
                        density=planted.ticket.density,
                        rng=seed,
                        steps=300,
                        lr=0.05,
                        restarts=4,
                    ),
                )
                for seed in range(10)
            )
        )
    assert sum(counts) >= 34, counts


def test_measured_error_of_a_scaled_linear_network():
    """G = W / 2 against F = W: the worst case over the unit ball is ||W||_2 / 2, exactly."""
    w = np.random.default_rng(0).standard_normal((3, 4))
    value = measured_error(ReLUNetwork([w]), ReLUNetwork([w / 2]), rng=0)
    truth = np.linalg.norm(w, 2) / 2
    assert truth * (1 - 1e-6) <= value <= truth * (1 + 1e-12)


def test_exact_error_accepts_a_searched_ticket(searched):
    result = exact_error(TARGET, searched.pruned_network(), box=0.5, time_limit=60)
    grid = np.stack(np.meshgrid(*[np.linspace(-0.5, 0.5, 21)] * 3), axis=-1).reshape(-1, 3)
    sampled = np.abs(TARGET.forward(grid) - searched.forward(grid)).max()
    assert sampled <= result.upper_bound * (1 + 1e-9)
    assert result.value >= sampled * (1 - 1e-9) or result.status.name != "OPTIMAL"


def test_from_ticket_is_the_constructed_ticket():
    ticket = approximate(TARGET, values_per_input=3, rng=1)
    masked = MaskedNetwork.from_ticket(ticket)
    x = _inputs(3)
    assert np.allclose(masked.forward(x), ticket.forward(x), rtol=0, atol=1e-13)
    assert masked.density == ticket.density
    wider = ticket.random_network().with_values_per_input(5)
    again = MaskedNetwork.from_ticket(ticket, wider)
    assert np.allclose(again.forward(x), ticket.forward(x), rtol=0, atol=1e-13)
    assert again.density == density_of(ticket.n_kept, wider.n_params)


@pytest.mark.parametrize("source", ["random", "planted"])
def test_save_load_round_trip(tmp_path, searched, source):
    masked = searched if source == "random" else plant(TARGET, (3, 9, 2), rng=0).ticket
    masked.save(tmp_path / "t.npz")
    back = MaskedNetwork.load(tmp_path / "t.npz")
    assert all(np.array_equal(a, b) for a, b in zip(masked.masks, back.masks))
    assert (back.method, back.input_bias) == (masked.method, masked.input_bias)
    x = _inputs(3)
    assert np.array_equal(back.forward(x), masked.forward(x))
    if masked.losses is not None:
        assert np.array_equal(back.losses, masked.losses)


@pytest.mark.parametrize("value", [0.0, -0.1, 1.5, float("nan")])
def test_bad_density(value):
    with pytest.raises(InvalidParameterError, match=r"`density` must be in \(0, 1\]"):
        edge_popup(TARGET, NETWORK, density=value, rng=0, steps=1)


def test_density_keeping_nothing():
    with pytest.raises(InvalidParameterError, match="`density` must keep at least one weight"):
        edge_popup(TARGET, NETWORK, density=0.001, rng=0, steps=1)


def test_mismatched_shapes():
    with pytest.raises(InvalidParameterError, match="`network` must take the target's 3 inputs"):
        edge_popup(TARGET, RandomNetwork(1, (5, 4, 2), 2), density=0.5, rng=0, steps=1)
    with pytest.raises(InvalidParameterError, match="`network` must take"):
        edge_popup(TARGET, RandomNetwork(1, (3, 4, 3), 2), density=0.5, rng=0, steps=1)
    with pytest.raises(InvalidParameterError, match="`network` must be bias-free"):
        edge_popup(TARGET, ReLUNetwork.random((3, 4, 2), rng=0, bias=True), density=0.5, rng=0)
    with pytest.raises(InvalidParameterError, match="`network` must be a RandomNetwork"):
        edge_popup(TARGET, "net", density=0.5, rng=0)
    with pytest.raises(InvalidParameterError, match="`target` must be a ReLUNetwork"):
        edge_popup(NETWORK, NETWORK, density=0.5, rng=0)


def test_bad_data():
    x = _inputs(3, rows=10)
    y = np.zeros(10, dtype=int)
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(InvalidParameterError, match=r"`data\[0\]` must be finite"):
        edge_popup(TARGET, NETWORK, density=0.5, rng=0, data=(bad, y))
    with pytest.raises(InvalidParameterError, match=r"`data\[0\]` must have shape"):
        edge_popup(TARGET, NETWORK, density=0.5, rng=0, data=(x[:, :2], y))
    with pytest.raises(InvalidParameterError, match=r"`data\[1\]` must hold labels in \[0, 1\]"):
        edge_popup(TARGET, NETWORK, density=0.5, rng=0, data=(x, y + 2))
    with pytest.raises(InvalidParameterError, match="`data` must be a pair"):
        edge_popup(TARGET, NETWORK, density=0.5, rng=0, data=x)
    with pytest.raises(InvalidParameterError, match="`optimizer` must be one of"):
        edge_popup(TARGET, NETWORK, density=0.5, rng=0, optimizer="rmsprop")
    with pytest.raises(InvalidParameterError, match="`steps` must be in"):
        edge_popup(TARGET, NETWORK, density=0.5, rng=0, steps=0)


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("restarts", 0, r"`restarts` must be in \[1, inf\]; got 0"),
        ("restarts", 1.5, "`restarts` must be an integer"),
        ("lr", 0.0, r"`lr` must be in \(0, inf"),
        ("batch", 0, r"`batch` must be in \[1, inf\]"),
        ("radius", -1.0, r"`radius` must be in \(0, inf"),
        ("progress", "yes", "`progress` must be True or False"),
    ],
)
def test_bad_search_settings(name, value, message):
    with pytest.raises(InvalidParameterError, match=message):
        edge_popup(TARGET, NETWORK, density=0.5, rng=0, steps=1, **{name: value})


def test_finders_need_no_optional_dependency():
    """The finders are plain NumPy: with PyTorch, scikit-learn and dask made unimportable, a fresh
    interpreter imports them, searches, plants and measures, and never imports those packages."""
    script = (
        "import sys\n"
        "for name in ('torch', 'sklearn', 'dask'):\n"
        "    sys.modules[name] = None\n"
        "from strong_lth import RandomNetwork, ReLUNetwork\n"
        "from strong_lth.finders import edge_popup, measured_error, plant\n"
        "target = ReLUNetwork.random((3, 4, 2), rng=0)\n"
        "network = RandomNetwork(seed=1, widths=(3, 4, 2), values_per_input=4)\n"
        "found = edge_popup(target, network, density=0.3, rng=0, steps=5, restarts=2)\n"
        "planted = plant(target, (3, 9, 2), rng=0)\n"
        "error = measured_error(target, planted.ticket, samples=64, starts=2)\n"
        "print(found.n_kept, error < 1e-12)\n"
    )
    root = Path(__file__).parents[1]
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(sum(round(0.3 * r * c) for r, c in NETWORK.shapes)), "True"]


def test_bad_plant():
    with pytest.raises(InvalidParameterError, match="`network` must have depth 2 or 4"):
        plant(TARGET, (3, 8, 8, 2), rng=0)
    with pytest.raises(InvalidParameterError, match="`network` layer 1 must have at least 4 units"):
        plant(TARGET, (3, 3, 2), rng=0)
    with pytest.raises(InvalidParameterError, match="`network` layer 1 must have at least 6 units"):
        plant(TARGET, RandomNetwork(1, (3, 4, 2), 1), rng=0)
    biased = ReLUNetwork.random((3, 4, 2), rng=2, bias=True)
    with pytest.raises(InvalidParameterError, match="`network` must take 4 inputs"):
        plant(biased, (3, 9, 2), rng=0)
    with pytest.raises(InvalidParameterError, match="`network` must be a RandomNetwork"):
        plant(TARGET, "3,9,2", rng=0)


def test_bad_masks(tmp_path):
    with pytest.raises(InvalidParameterError, match="`masks` must hold one array per layer"):
        MaskedNetwork(NETWORK, (np.zeros((0, 2), int),))
    shapes = NETWORK.shapes
    empty = [np.zeros((0, 2), int) for _ in shapes]
    with pytest.raises(InvalidParameterError, match="`masks` layer 1 must index inside"):
        MaskedNetwork(NETWORK, (np.array([[99, 0]]), *empty[1:]))
    with pytest.raises(InvalidParameterError, match="`masks` layer 1 must list distinct"):
        MaskedNetwork(NETWORK, (np.array([[1, 0], [1, 0]]), *empty[1:]))
    with pytest.raises(InvalidParameterError, match="`masks` layer 1 must be a"):
        MaskedNetwork(NETWORK, (np.array([[0.5, 0]]), *empty[1:]))
    with pytest.raises(InvalidParameterError, match="`method` must be one of"):
        MaskedNetwork(NETWORK, tuple(empty), method="magic")
    sparse = RandomNetwork(1, (3, 4, 2), 4, source_density=0.3)
    absent = np.argwhere(~sparse.present(1, *np.indices(sparse.shapes[0])))[:1]
    with pytest.raises(InvalidParameterError, match="`masks` layer 1 must keep only weights"):
        MaskedNetwork(sparse, (absent, *empty[1:]))
    np.savez(tmp_path / "x.npz", W0=np.eye(2))
    with pytest.raises(InvalidParameterError, match="`path` must hold format"):
        MaskedNetwork.load(tmp_path / "x.npz")
    with pytest.raises(InvalidParameterError, match="`ticket` must be a Ticket"):
        MaskedNetwork.from_ticket(NETWORK)
    ticket = approximate(TARGET, values_per_input=3, rng=1)
    with pytest.raises(InvalidParameterError, match="`network` must have at least"):
        MaskedNetwork.from_ticket(ticket, ticket.random_network().with_values_per_input(2))
    with pytest.raises(InvalidParameterError, match="`network` must be the ticket's"):
        MaskedNetwork.from_ticket(ticket, RandomNetwork(2, ticket.widths, 3))


def test_bad_measured_error(searched):
    with pytest.raises(InvalidParameterError, match="`network` must have the target's input"):
        measured_error(TARGET, ReLUNetwork.random((4, 2), rng=0))
    with pytest.raises(InvalidParameterError, match="`network` must be a MaskedNetwork"):
        measured_error(TARGET, NETWORK)
    with pytest.raises(InvalidParameterError, match="`radius` must be in"):
        measured_error(TARGET, searched, radius=0)


def test_bad_masked_network_calls(searched):
    with pytest.raises(InvalidParameterError, match="`other` must be a MaskedNetwork with shapes"):
        searched.overlap(plant(TARGET, (3, 9, 2), rng=0).ticket)
    with pytest.raises(InvalidParameterError, match="`layer` must be in"):
        searched.kept_weights(5)
    with pytest.raises(InvalidParameterError, match="`max_bytes` must cover"):
        searched.pruned_network(max_bytes=10)
    with pytest.raises(InvalidParameterError, match="`input_bias` must be True or False"):
        MaskedNetwork(NETWORK, searched.masks, input_bias="yes")
    with pytest.raises(InvalidParameterError, match="`source` must be bias-free"):
        MaskedNetwork(ReLUNetwork.random((3, 2), rng=0, bias=True), (np.zeros((0, 2), int),))
    with pytest.raises(InvalidParameterError, match=r"`x` must have shape \(3,\)"):
        searched.forward(np.ones(4))
    assert searched.overlap(searched) == 1.0
