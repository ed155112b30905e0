"""Real targets: scikit-learn and PyTorch import/export, ticket export, the digits data, seeded
training, the prediction-keeping ε, and the pruned network's accuracy on real data.

scikit-learn and torch are optional: their tests skip cleanly without them, except those that
check the error raised when one is missing (simulated by hiding the module)."""

import sys
import warnings

import numpy as np
import pytest
from hypothesis import given

from strong_lth import (
    InvalidParameterError,
    ReLUNetwork,
    TheoryAssumptionWarning,
    approximate,
    datasets,
)
from strong_lth._certify import AGREEMENT
from strong_lth.datasets import (
    RADIUS,
    TEST_FRACTION,
    digits,
    evaluate,
    margin_eps,
    train_target,
)
from strong_lth.ticket import density, parameter_multiple

from .strategies import relu_networks, seeds

IMPORT = 1e-10
"""An imported model and its ReLUNetwork evaluate the same float64 products; only the order of
the sums (a bias added apart or inside BLAS) differs, about 1e-16 relative on outputs of size
<= 10. 1e-10 is the contract of the import: far above rounding, far below any wrong weight."""


def close(a, b, tol=AGREEMENT):
    """``a`` and ``b`` agree to ``tol`` relative to the larger magnitude (at least 1):
    :data:`strong_lth.certify.AGREEMENT` is the tolerance for two evaluations of one function."""
    scale = max(1.0, float(np.abs(a).max(initial=0.0)), float(np.abs(b).max(initial=0.0)))
    return float(np.abs(np.asarray(a) - np.asarray(b)).max(initial=0.0)) <= tol * scale


def quiet_fit(model, x, y):
    """Fit a scikit-learn model without its ConvergenceWarning (the tests use short fits)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(x, y)


@pytest.fixture(scope="module")
def small_data():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (120, 5))
    y = (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 0.5).astype(int)
    return x, y


@pytest.fixture(scope="module")
def biased_ticket():
    target = ReLUNetwork.random((3, 5, 2), rng=0, bias=True)
    with pytest.warns(TheoryAssumptionWarning, match="the network has biases"):
        return target, approximate(target, values_per_input=6, rng=4)


@pytest.fixture(scope="module")
def bias_free_ticket():
    target = ReLUNetwork.random((4, 6, 3), rng=2)
    return target, approximate(target, values_per_input=5, rng=5)


# --- scikit-learn import -------------------------------------------------------------------


def test_sklearn_classifier_import_equals_the_model(small_data):
    neural = pytest.importorskip("sklearn.neural_network")
    x, y = small_data
    model = quiet_fit(
        neural.MLPClassifier(hidden_layer_sizes=(7, 6), max_iter=40, random_state=0), x, y
    )
    net = ReLUNetwork.from_sklearn(model)
    assert net.widths == (5, 7, 6, 3) and net.has_bias
    logits = net.forward(x)
    proba = np.exp(logits - logits.max(axis=1, keepdims=True))
    proba /= proba.sum(axis=1, keepdims=True)
    assert np.abs(proba - model.predict_proba(x)).max() <= IMPORT
    assert np.array_equal(logits.argmax(axis=1), model.predict(x))


def test_sklearn_binary_classifier_gives_one_logit(small_data):
    neural = pytest.importorskip("sklearn.neural_network")
    x, y = small_data
    model = quiet_fit(
        neural.MLPClassifier(hidden_layer_sizes=(4,), max_iter=40, random_state=1), x, y > 0
    )
    logit = ReLUNetwork.from_sklearn(model).forward(x)[:, 0]
    assert np.abs(1 / (1 + np.exp(-logit)) - model.predict_proba(x)[:, 1]).max() <= IMPORT
    assert np.array_equal(logit > 0, model.predict(x))


def test_sklearn_regressor_import_equals_predict(small_data):
    neural = pytest.importorskip("sklearn.neural_network")
    x, _ = small_data
    targets = np.column_stack([x.sum(axis=1), x[:, 0] * x[:, 1]])
    model = quiet_fit(
        neural.MLPRegressor(hidden_layer_sizes=(9,), max_iter=40, random_state=0), x, targets
    )
    assert np.abs(ReLUNetwork.from_sklearn(model).forward(x) - model.predict(x)).max() <= IMPORT


def test_sklearn_import_errors(small_data):
    neural = pytest.importorskip("sklearn.neural_network")
    linear = pytest.importorskip("sklearn.linear_model")
    x, y = small_data
    tanh = quiet_fit(
        neural.MLPClassifier(hidden_layer_sizes=(3,), activation="tanh", max_iter=5), x, y
    )
    with pytest.raises(
        InvalidParameterError, match=r"`model.activation` must be 'relu'.*got 'tanh'"
    ):
        ReLUNetwork.from_sklearn(tanh)
    with pytest.raises(
        InvalidParameterError, match=r"`model` must be fitted.*unfitted MLPRegressor"
    ):
        ReLUNetwork.from_sklearn(neural.MLPRegressor())
    with pytest.raises(
        InvalidParameterError, match="MLPClassifier or MLPRegressor; got LogisticRegression"
    ):
        ReLUNetwork.from_sklearn(linear.LogisticRegression())


def test_missing_sklearn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.neural_network", None)
    with pytest.raises(
        ImportError, match=r"from_sklearn needs scikit-learn.*strong_lth\[sklearn\]"
    ):
        ReLUNetwork.from_sklearn(object())
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    datasets._digits.cache_clear()
    with pytest.raises(ImportError, match=r"digits needs scikit-learn.*strong_lth\[sklearn\]"):
        digits(8)
    datasets._digits.cache_clear()


# --- PyTorch import and export -------------------------------------------------------------


def test_torch_import_equals_the_module():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.Linear(5, 8),
        torch.nn.ReLU(),
        torch.nn.Linear(8, 6, bias=False),
        torch.nn.ReLU(),
        torch.nn.Linear(6, 3),
    ).double()
    net = ReLUNetwork.from_torch(module)
    assert net.widths == (5, 8, 6, 3) and net.has_bias
    assert not np.any(net.biases[1])  # the missing bias is zero
    x = np.random.default_rng(0).standard_normal((50, 5))
    expected = module(torch.from_numpy(x)).detach().numpy()
    assert np.abs(net.forward(x) - expected).max() <= IMPORT


def test_torch_bias_free_and_float32_import_exactly():
    torch = pytest.importorskip("torch")
    module = torch.nn.Sequential(
        torch.nn.Linear(3, 4, bias=False), torch.nn.ReLU(), torch.nn.Linear(4, 2, bias=False)
    )
    net = ReLUNetwork.from_torch(module)
    assert not net.has_bias
    for w, layer in zip(net.weights, (module[0], module[2])):
        assert np.array_equal(w, layer.weight.detach().double().numpy())  # float32 -> float64 exact


@given(relu_networks(max_width=5, max_depth=3), seeds)
def test_to_torch_round_trips_bit_for_bit(net, seed):
    torch = pytest.importorskip("torch")
    module = net.to_torch()
    back = ReLUNetwork.from_torch(module)
    assert back.has_bias == net.has_bias
    for a, b in zip(back.weights + (back.biases or ()), net.weights + (net.biases or ())):
        assert np.array_equal(a, b)
    x = np.random.default_rng(seed).standard_normal((6, net.widths[0]))
    assert np.abs(module(torch.from_numpy(x)).detach().numpy() - net.forward(x)).max() <= IMPORT


def test_torch_import_errors():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    with pytest.raises(
        InvalidParameterError, match=r"`module` must be a torch.nn.Sequential.*Linear"
    ):
        ReLUNetwork.from_torch(nn.Linear(2, 2))
    with pytest.raises(InvalidParameterError, match=r"`module\[1\]` must be a ReLU.*got Linear"):
        ReLUNetwork.from_torch(nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2)))
    with pytest.raises(InvalidParameterError, match=r"`module\[1\]` must be a ReLU.*got Tanh"):
        ReLUNetwork.from_torch(nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 2)))
    with pytest.raises(InvalidParameterError, match=r"`module\[0\]` must be a Linear.*got ReLU"):
        ReLUNetwork.from_torch(nn.Sequential(nn.ReLU(), nn.Linear(2, 2)))
    with pytest.raises(InvalidParameterError, match="`module` must end with a Linear layer"):
        ReLUNetwork.from_torch(nn.Sequential(nn.Linear(2, 2), nn.ReLU()))
    with pytest.raises(InvalidParameterError, match="`module` must hold at least one Linear"):
        ReLUNetwork.from_torch(nn.Sequential())


def test_missing_torch_says_how_to_install(monkeypatch, bias_free_ticket):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r"from_torch needs PyTorch.*pip install torch.*cpu"):
        ReLUNetwork.from_torch(object())
    with pytest.raises(ImportError, match="to_torch needs PyTorch"):
        ReLUNetwork.random((2, 2), rng=0).to_torch()
    with pytest.raises(ImportError, match="to_torch needs PyTorch"):
        bias_free_ticket[1].state_dict()


@given(relu_networks(max_width=5, max_depth=3), seeds)
def test_balanced_is_a_positive_multiple_with_the_given_largest_entries(net, seed):
    balanced = net.balanced(0.5)
    for i, w in enumerate(balanced.weights):
        largest = max(np.abs(w).max(), np.abs(balanced.biases[i]).max() if net.has_bias else 0)
        assert np.isclose(largest, 0.5, rtol=1e-14, atol=0)
    # layer i is multiplied by c_i / c_{i-1} (c_0 = 1), so the output by s = c_l = the product
    ratios = []
    for w, v in zip(net.weights, balanced.weights):
        ratio = v[w != 0] / w[w != 0]
        assert np.allclose(ratio, ratio[0], rtol=1e-14, atol=0) and ratio[0] > 0
        ratios.append(ratio[0])
    x = np.random.default_rng(seed).standard_normal((20, net.widths[0]))
    assert close(balanced.forward(x), np.prod(ratios) * net.forward(x), tol=1e-12)


def test_balanced_errors():
    with pytest.raises(InvalidParameterError, match=r"`max_weight` must be in \(0, inf\)"):
        ReLUNetwork.random((2, 2), rng=0).balanced(0.0)
    with pytest.raises(InvalidParameterError, match=r"`weights\[1\]` must be non-zero"):
        ReLUNetwork([np.ones((2, 2)), np.zeros((1, 2))]).balanced()


# --- ticket export ---------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["biased_ticket", "bias_free_ticket"])
def test_ticket_npz_export_reads_back_as_the_pruned_network(which, request, tmp_path):
    target, ticket = request.getfixturevalue(which)
    ticket.export_npz(tmp_path / "pruned.npz")
    back = ReLUNetwork.from_npz(tmp_path / "pruned.npz")
    pruned = ticket.pruned_network()
    assert back.widths == pruned.widths and back.has_bias == target.has_bias
    for a, b in zip(back.weights + (back.biases or ()), pruned.weights + (pruned.biases or ())):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("which", ["biased_ticket", "bias_free_ticket"])
def test_ticket_state_dict_loads_into_an_equivalent_sequential(which, request):
    torch = pytest.importorskip("torch")
    target, ticket = request.getfixturevalue(which)
    pruned = ticket.pruned_network()
    layers = []
    for i, (d_in, d_out) in enumerate(zip(pruned.widths, pruned.widths[1:])):
        layers.append(torch.nn.Linear(d_in, d_out, bias=target.has_bias, dtype=torch.float64))
        if i < pruned.depth - 1:
            layers.append(torch.nn.ReLU())
    module = torch.nn.Sequential(*layers)
    module.load_state_dict(ticket.state_dict())  # strict: same keys, same shapes
    x = np.random.default_rng(1).standard_normal((40, pruned.widths[0]))
    outputs = module(torch.from_numpy(x)).detach().numpy()
    assert close(outputs, pruned.forward(x))
    assert close(outputs, ticket.forward(x))


@pytest.mark.parametrize("which", ["biased_ticket", "bias_free_ticket"])
def test_ticket_forward_is_the_dense_pruned_network(which, request):
    target, ticket = request.getfixturevalue(which)
    x = np.random.default_rng(2).standard_normal((30, target.widths[0]))
    dense = ticket.pruned_network().forward(x)
    assert close(ticket.forward(x), dense)
    assert close(ticket.forward(x[0]), dense[0]) and ticket.forward(x[0]).shape == dense[0].shape
    assert not close(dense, target.forward(x), tol=1e-14)  # it is not the target
    with pytest.raises(
        InvalidParameterError, match=rf"`x` must have shape \({target.widths[0]},\)"
    ):
        ticket.forward(np.ones((2, target.widths[0] + 1)))


def test_densities_are_defined_once(biased_ticket):
    target, ticket = biased_ticket
    random = sum(w.size for w in ticket.random_network().materialize().weights)
    pruned = ticket.pruned_network()
    kept = sum(int(np.count_nonzero(a)) for a in pruned.weights + pruned.biases)
    assert ticket.density == kept / random == density(kept, random)
    report = ticket.report
    assert report.density == ticket.density
    assert target.n_params == 3 * 5 + 5 + 5 * 2 + 2
    assert report.kept_multiple == parameter_multiple(kept, target.n_params) == kept / 32
    assert report.random_multiple == random / target.n_params
    as_dict = report.to_dict()
    assert (as_dict["density"], as_dict["kept_multiple"], as_dict["random_multiple"]) == (
        report.density,
        report.kept_multiple,
        report.random_multiple,
    )
    assert f"{report.density:.2%}" in str(report)


# --- data, training, the prediction-keeping ε ----------------------------------------------


def test_digits_split_and_scaling():
    pytest.importorskip("sklearn")
    small, large = digits(8), digits(28)
    assert small.x_train.shape == (1438, 64) and large.x_test.shape == (359, 784)
    for data in (small, large):
        for x in (data.x_train, data.x_test):
            assert np.allclose(np.linalg.norm(x, axis=1), RADIUS, rtol=1e-15, atol=0)
            assert x.min() >= 0 and not x.flags.writeable
    assert np.array_equal(small.y_test, large.y_test)  # one split for both resolutions
    counts, held = (
        np.bincount(np.concatenate([small.y_train, small.y_test])),
        np.bincount(small.y_test),
    )
    assert np.array_equal(held, np.round(TEST_FRACTION * counts).astype(int))
    # the 28x28 images recomputed from the 8x8 ones by the documented definition: bilinear
    # interpolation over pixel areas (output pixel k samples input coordinate (k + 1/2) / 3.5 -
    # 1/2, clamped to the edge pixels), then scaled onto the unit sphere
    coord = np.clip((np.arange(28) + 0.5) / 3.5 - 0.5, 0, 7)
    low = np.minimum(coord.astype(int), 6)
    frac = coord - low
    resize = np.zeros((28, 8))
    resize[np.arange(28), low] = 1 - frac
    resize[np.arange(28), low + 1] += frac
    images = np.einsum("ki,nij,lj->nkl", resize, small.x_test.reshape(-1, 8, 8), resize)
    images = images.reshape(-1, 784) / np.linalg.norm(images.reshape(-1, 784), axis=1)[:, None]
    assert np.abs(images - large.x_test).max() <= 1e-12
    datasets._digits.cache_clear()
    again = digits(8)
    assert again is not small and np.array_equal(again.x_test, small.x_test)
    assert repr(again) == "Digits(resolution=8, train=1438, test=359, inputs=64)"


def test_digits_errors():
    with pytest.raises(InvalidParameterError, match="`resolution` must be 8 or 28; got 16"):
        digits(16)
    with pytest.raises(InvalidParameterError, match="`resolution` must be an integer; got '8'"):
        digits("8")


def test_training_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((4, 3)), rng.standard_normal((3, 4))]
    biases = [rng.standard_normal(4), rng.standard_normal(3)]
    x, y = rng.standard_normal((7, 3)), rng.integers(0, 3, 7)

    def loss():
        h = np.maximum(x @ weights[0].T + biases[0], 0) @ weights[1].T + biases[1]
        h = h - h.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(h).sum(axis=1)) - h[np.arange(7), y]))

    grads = datasets._gradients(weights, biases, x, y)
    step = 1e-6
    for param, grad in zip(weights + biases, grads):
        for index in np.ndindex(param.shape):
            saved = param[index]
            param[index] = saved + step
            up = loss()
            param[index] = saved - step
            down = loss()
            param[index] = saved
            assert abs((up - down) / (2 * step) - grad[index]) <= 1e-7


def test_training_is_seeded_and_learns(small_data):
    x, y = small_data
    first = train_target(x, y, (6,), rng=3, epochs=100, learning_rate=0.01)
    again = train_target(x, y, (6,), rng=3, epochs=100, learning_rate=0.01)
    other = train_target(x, y, (6,), rng=4, epochs=100, learning_rate=0.01)
    assert all(np.array_equal(a, b) for a, b in zip(first.weights, again.weights))
    assert not np.array_equal(first.weights[0], other.weights[0])
    assert np.mean(first.forward(x).argmax(axis=1) == y) > 0.9
    free = train_target(x, y, (6, 4), bias=False, rng=3, epochs=2)
    assert free.widths == (5, 6, 4, 3) and not free.has_bias


def test_training_errors(small_data):
    x, y = small_data
    with pytest.raises(InvalidParameterError, match=r"`hidden\[0\]` must be in \[1, inf\]; got 0"):
        train_target(x, y, (0,), rng=0)
    with pytest.raises(InvalidParameterError, match=r"`y` must have shape \(120,\); got \(3,\)"):
        train_target(x, y[:3], (4,), rng=0)
    with pytest.raises(InvalidParameterError, match="`y` must hold labels >= 0; got -1"):
        train_target(x, y - 1, (4,), rng=0)
    with pytest.raises(InvalidParameterError, match=r"`epochs` must be in \[1, inf\]; got 0"):
        train_target(x, y, (4,), rng=0, epochs=0)
    with pytest.raises(InvalidParameterError, match=r"`learning_rate` must be in \(0, inf\)"):
        train_target(x, y, (4,), rng=0, learning_rate=0.0)
    with pytest.raises(InvalidParameterError, match="`x` must hold at least one example"):
        train_target(np.ones((0, 2)), [], (4,), rng=0)


def test_margin_eps_is_the_exact_threshold_of_output_errors():
    target = ReLUNetwork.random((4, 7, 5), rng=1)
    x = np.random.default_rng(2).standard_normal((60, 4))
    x *= np.random.default_rng(3).uniform(0.2, 1.0, (60, 1)) / np.linalg.norm(x, axis=1)[:, None]
    eps = margin_eps(target, x)
    outputs = target.forward(x)
    labels = outputs.argmax(axis=1)
    norms = np.linalg.norm(x, axis=1)
    # no output error of norm < eps ||x|| (homogeneity) changes a label: random directions
    rng = np.random.default_rng(4)
    for _ in range(200):
        e = rng.standard_normal(outputs.shape)
        e *= (0.999 * eps * norms / np.linalg.norm(e, axis=1))[:, None]
        assert np.array_equal((outputs + e).argmax(axis=1), labels)
    # and the worst row flips under the error that moves the top two outputs toward each other
    worst = int(np.argmin((np.sort(outputs, 1)[:, -1] - np.sort(outputs, 1)[:, -2]) / norms))
    top, runner = np.argsort(outputs[worst])[-2:][::-1]
    e = np.zeros(outputs.shape[1])
    e[[top, runner]] = [-1.0, 1.0]
    e *= 1.001 * eps * norms[worst] / np.linalg.norm(e)
    assert (outputs[worst] + e).argmax() != labels[worst]
    # only directions matter for a bias-free target; scaling the radius scales ε
    assert np.isclose(margin_eps(target, 3 * x), eps, rtol=1e-12)
    assert np.isclose(margin_eps(target, x, radius=2.0), 2 * eps, rtol=1e-12)


def test_margin_eps_with_biases_and_one_output():
    net = ReLUNetwork([[[1.0, 0.0]], [[2.0]]], biases=[[0.0], [-0.5]])  # 2 relu(x_0) - 0.5
    x = [[0.5, 0.0], [1.0, 0.0], [0.0, 1.0]]  # outputs 0.5, 1.5, -0.5
    assert margin_eps(net, x) == 0.5
    with pytest.raises(InvalidParameterError, match=r"`x` must lie in the ball of radius 1.*row 1"):
        margin_eps(net, [[0.0, 0.0], [2.0, 0.0]])
    tie = ReLUNetwork([[[1.0, 0.0], [1.0, 0.0]]])
    with pytest.raises(InvalidParameterError, match=r"`target` must not tie.*row 0"):
        margin_eps(tie, [[1.0, 0.0]])
    with pytest.raises(
        InvalidParameterError, match="must be a ReLUNetwork or a ConvNetwork; got str"
    ):
        margin_eps("net", x)
    with pytest.raises(InvalidParameterError, match="`x` must hold at least one input"):
        margin_eps(net, np.ones((0, 2)))


# --- the pruned network's accuracy --------------------------------------------------------------


def test_accuracy_is_computed_from_the_pruned_network(bias_free_ticket):
    target, ticket = bias_free_ticket
    x = np.random.default_rng(5).standard_normal((300, 4))
    y = np.random.default_rng(6).integers(0, 3, 300)
    result = evaluate(target, ticket, x, y)
    dense = ticket.pruned_network().forward(x)
    assert close(result.pruned_outputs, dense)
    assert np.array_equal(result.pruned_labels, dense.argmax(axis=1))
    assert result.pruned_accuracy == np.mean(dense.argmax(axis=1) == y)
    assert result.target_accuracy == np.mean(target.forward(x).argmax(axis=1) == y)
    assert result.max_output_difference == np.linalg.norm(target.forward(x) - dense, axis=1).max()
    # perturb one kept weight of the pruned network: its accuracy, and only its, moves
    pruned = ticket.pruned_network()
    weights = [w.copy() for w in pruned.weights]
    row, col = ticket.masks[-1][0]
    weights[-1][row, col] += 50.0
    perturbed = evaluate(target, ReLUNetwork(weights), x, y)
    assert perturbed.target_accuracy == result.target_accuracy
    assert perturbed.pruned_accuracy != result.pruned_accuracy
    assert perturbed.agreement < result.agreement


def test_evaluate_errors(bias_free_ticket):
    target, ticket = bias_free_ticket
    x, y = np.ones((3, 4)), [0, 1, 2]
    with pytest.raises(InvalidParameterError, match="`pruned` must be a Ticket or a ReLUNetwork"):
        evaluate(target, "ticket", x, y)
    with pytest.raises(
        InvalidParameterError, match="must be a ReLUNetwork or a ConvNetwork; got Ticket"
    ):
        evaluate(ticket, ticket, x, y)
    with pytest.raises(InvalidParameterError, match="`pruned` must have the target's 3 outputs"):
        evaluate(target, ReLUNetwork.random((4, 2), rng=0), x, y)
    with pytest.raises(InvalidParameterError, match=r"`y` must have shape \(3,\)"):
        evaluate(target, ticket, x, [0])
    with pytest.raises(InvalidParameterError, match="`x` must hold at least one input"):
        evaluate(target, ticket, np.ones((0, 4)), [])


@pytest.mark.filterwarnings("ignore::strong_lth.TheoryAssumptionWarning")  # trained norms > 1
def test_digits_target_end_to_end():
    """A trained bias-free 64-8-10 digits target, balanced (a positive multiple: the same
    labels), approximated at the ε that keeps every test prediction."""
    pytest.importorskip("sklearn")
    data = digits(8)
    trained = train_target(
        data.x_train, data.y_train, (8,), bias=False, rng=0, epochs=20, learning_rate=0.01
    )
    target = trained.balanced()
    assert np.array_equal(
        target.forward(data.x_test).argmax(1), trained.forward(data.x_test).argmax(1)
    )
    eps = margin_eps(target, data.x_test, radius=data.radius)
    ticket = approximate(target, eps=eps, radius=data.radius, rng=1)
    result = evaluate(target, ticket, data.x_test, data.y_test)
    assert result.agreement == 1.0
    assert result.pruned_accuracy == result.target_accuracy > 0.8
    assert result.max_output_difference <= ticket.report.certified < eps
    dense = ticket.pruned_network().forward(data.x_test)
    assert np.array_equal(result.pruned_labels, dense.argmax(axis=1))
