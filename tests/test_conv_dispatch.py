"""Convolutional targets through the public entry points: ``approximate``, ``datasets``, CLI."""

import numpy as np
import pytest

from strong_lth import approximate
from strong_lth._approximate_conv import approximate_conv
from strong_lth.cli import main
from strong_lth.conv_ticket import ConvTicket
from strong_lth.convnets import Conv2d, ConvNetwork, Flatten, Linear, ReLU
from strong_lth.datasets import evaluate, margin_eps
from strong_lth.exceptions import InvalidParameterError


@pytest.fixture(scope="module")
def target():
    gen = np.random.default_rng(0)
    return ConvNetwork(
        (1, 5, 5),
        [
            Conv2d(0.3 * gen.standard_normal((2, 1, 3, 3)), padding=1),
            ReLU(),
            Flatten(),
            Linear(0.3 * gen.standard_normal((3, 50))),
        ],
    )


def test_approximate_dispatches_a_conv_target(target):
    ticket = approximate(target, values_per_input=(3, 4), rng=2, measure=False)
    direct = approximate_conv(target, values_per_input=(3, 4), rng=2, measure=False)
    assert isinstance(ticket, ConvTicket) and ticket.values_per_input == (3, 4)
    assert all(np.array_equal(a, b) for a, b in zip(ticket.keeps, direct.keeps))
    x = np.random.default_rng(1).standard_normal((4, 1, 5, 5))
    assert np.array_equal(ticket.forward(x), direct.forward(x))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"construction": "malach"}, r"`construction` must be left at its default 'pensia'"),
        ({"subset_size": 2}, r"`subset_size` must be left at its default None .*got 2"),
        ({"source_density": 0.5}, r"`source_density` must be left at its default 1.0"),
        ({"certificate": "split"}, r"`certificate` must be left at its default None"),
        (
            {"scheduler": "tcp://127.0.0.1:1"},
            r"`scheduler` must be left at its default None for a convolutional target \(its "
            r"layers are solved in this process\); got 'tcp://127.0.0.1:1'",
        ),
        ({"solver": "magic"}, r"`solver` must be one of"),
        ({"radius": -1.0}, r"`radius` must be in \(0, inf\)"),
        ({"max_bytes": 0}, r"`max_bytes` must be in \[1, inf\]"),
        ({"measure": 1}, r"`measure` must be True or False"),
        ({"foo": 1}, r"`foo` is no option of approximate_conv"),
    ],
)
def test_conv_options_checked_by_the_declaration(target, options, message):
    with pytest.raises(InvalidParameterError, match=message):
        approximate_conv(target, values_per_input=2, **options)
    if "foo" not in options:
        with pytest.raises(InvalidParameterError, match=message):
            approximate(target, values_per_input=2, **options)


def test_conv_keeps_the_fewest_values_only(target):
    """The convolutional gadget solves with the fewest values within tolerance; ``fewest=False``
    (automatic mode only) is refused before any solve."""
    message = r"`fewest` must be left at its default True for a convolutional target .*got False"
    with pytest.raises(InvalidParameterError, match=message):
        approximate(target, eps=0.1, fewest=False)


def test_approximate_refuses_other_targets():
    with pytest.raises(
        InvalidParameterError, match=r"`target` must be a ReLUNetwork or a ConvNetwork; got str"
    ):
        approximate("net", eps=0.1)


def test_margin_eps_and_evaluate_take_a_conv_target(target):
    images = np.random.default_rng(3).standard_normal((20, 1, 5, 5))
    flat = images.reshape(20, -1)
    dense = target.dense_equivalent()
    assert margin_eps(target, images) == margin_eps(dense, flat)  # independent: dense path
    assert margin_eps(target, flat) == margin_eps(dense, flat)
    ticket = approximate(target, values_per_input=6, rng=0, measure=False)
    labels = dense.forward(flat).argmax(1)
    result = evaluate(target, ticket, images, labels)
    assert result.target_accuracy == 1.0
    pruned = ticket.forward(images)
    assert np.array_equal(result.pruned_labels, pruned.argmax(1))
    assert result.max_output_difference == pytest.approx(
        np.linalg.norm(dense.forward(flat) - pruned, axis=1).max(), rel=1e-12
    )
    with pytest.raises(InvalidParameterError, match=r"`pruned` must be a ConvTicket or a Conv"):
        evaluate(target, dense, images, labels)
    with pytest.raises(InvalidParameterError, match=r"`x` must have shape \(N, 1, 5, 5\)"):
        margin_eps(target, np.ones((2, 7)))


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_cli_approximate_and_certify_a_conv_target(target, tmp_path, capsys):
    path = tmp_path / "cnn.npz"
    target.to_npz(path)
    out = tmp_path / "ticket.npz"
    status, text, _ = run(capsys, "approximate", path, "--eps", 0.2, "--out", out, "--quiet")
    assert status == 0 and "ConvReport: certified" in text
    ticket = ConvTicket.load(out)
    certified = ticket.certificate(target, measure=False).certified
    assert certified <= 0.2
    status, text, _ = run(capsys, "certify", out, path)
    assert status == 0 and f"certified {certified:.6g}" in text
    status, text, _ = run(capsys, "certify", out, path, "--eps", certified / 2)
    assert status == 1 and "exceeds eps" in text


def test_cli_bad_conv_file_is_one_line(target, tmp_path, capsys):
    path = tmp_path / "cnn.npz"
    target.to_npz(path)
    with np.load(path) as arrays:
        broken = {k: arrays[k] for k in arrays.files if k != "L3_weight"}
    bad = tmp_path / "bad.npz"
    np.savez(bad, **broken)
    status, text, err = run(capsys, "approximate", bad, "--eps", 0.2, "--out", tmp_path / "t")
    assert status == 2 and text == ""
    assert err.count("\n") == 1 and "L3_weight" in err and "`target` file" in err
    status, _, err = run(capsys, "certify", tmp_path / "t.npz", path, "--box", 0.1)
    assert status == 2 and err.count("\n") == 1 and "`--box` must be omitted" in err
    status, _, err = run(capsys, "bounds", path, "--eps", 0.1, "--delta", 0.1)
    assert status == 2 and err.count("\n") == 1 and "must be a dense network file here" in err


def test_sweep_runs_a_conv_target_file(target, tmp_path):
    from strong_lth.experiments import Sweep, execute_run, load_results, run_sweep

    target.to_npz(tmp_path / "cnn.npz")
    grid = {"kind": "approximate", "target": "cnn.npz", "values_per_input": 3, "seed": 0}
    sweep = Sweep.from_dict({"output": "o", "grid": grid}, base=tmp_path)
    row = execute_run(sweep.runs()[0])
    direct = approximate(target, values_per_input=3, rng=0)
    result = row["result"]
    assert result["certified"] == direct.report.certified
    assert result["hidden_widths"] == [1 * 3, 50 * 3] and result["d_in"] == [1, 50]
    assert result["kernel_shapes"] == [[2, 1, 3, 3], [3, 50, 1, 1]]
    assert result["input_constant"] is None  # bias-free: no constant channel
    rows = load_results(run_sweep(sweep, quiet=True))  # rows pass the kind's validation
    assert [r["result"]["certified"] for r in rows] == [direct.report.certified]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"construction": "malach"}, r"`construction` must be left at its default 'pensia'"),
        ({"spectral_norm": 2.0}, r"`grid\[0\].spectral_norm` must be left out for a conv"),
    ],
)
def test_sweep_refuses_what_a_conv_target_cannot_take(target, tmp_path, extra, message):
    from strong_lth.experiments import Sweep

    target.to_npz(tmp_path / "cnn.npz")
    grid = {"kind": "approximate", "target": "cnn.npz", "values_per_input": 2, "seed": 0}
    with pytest.raises(InvalidParameterError, match=message):
        Sweep.from_dict({"output": "o", "grid": {**grid, **extra}}, base=tmp_path).runs()
