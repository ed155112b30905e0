"""End-to-end tests of the ``strong-lth`` command, on tiny inputs.

Most tests call :func:`strong_lth.cli.main` in-process (fast); one runs the installed entry point
in a subprocess. Every printed figure is checked against an independent computation through the
library (a certificate recomputed from the saved masks, a bound evaluated by its formula, the
rows of the results table).
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import strong_lth
from strong_lth import ReLUNetwork, Ticket, bounds, certify
from strong_lth.cli import main
from strong_lth.experiments import load_results

COMMANDS = ("approximate", "certify", "bounds", "sweep", "plot", "demo")

SWEEP = """\
output = "out"

[[grid]]
kind = "subset_sum"
n = [4, 6, 8]
instances = 40
seed = 0

[[grid]]
kind = "approximate"
target = [2, 3, 1]
construction = ["pensia", "malach"]
values_per_input = [2, 4]
seed = 0
"""


def run(capsys, *argv):
    """``(status, stdout, stderr)`` of ``strong-lth argv``."""
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help(command, capsys):
    argv = ["--help"] if command is None else [command, "--help"]
    status, out, _ = run(capsys, *argv)
    assert status == 0
    assert out.startswith(f"usage: strong-lth{'' if command is None else ' ' + command}")
    if command is None:
        assert all(c in out for c in COMMANDS)


def test_demo_prints_the_report_and_bounds_and_writes_the_plot_and_ticket(tmp_path, capsys):
    status, out, _ = run(capsys, "demo", "--eps", "0.2", "--out", tmp_path)
    assert status == 0
    ticket = Ticket.load(tmp_path / "ticket.npz")
    assert ticket.report["certified"] <= 0.2
    assert f"certified <= {ticket.report['certified']:.4e}" in out
    assert "pensia_width" in out and "actual_width" in out  # the bound table
    assert f"plot: {tmp_path / 'width_vs_error.png'}" in out
    assert (tmp_path / "width_vs_error.png").stat().st_size > 10_000
    # The printed certificate is the one the masks give.
    target = ReLUNetwork.random((8, 16, 16, 4), rng=0)
    assert certify(target, ticket).certified == pytest.approx(ticket.report["certified"])


def test_approximate_a_shape_then_certify_the_saved_ticket(tmp_path, capsys):
    path = tmp_path / "sub" / "ticket"  # the folder is made, .npz appended
    status, out, _ = run(
        capsys, "approximate", "3,4,2", "--target-seed", 5, "--values-per-input", "6,7",
        "--construction", "malach", "--seed", 3, "--out", path,
    )  # fmt: skip
    assert status == 0
    assert out.rstrip().endswith(f"ticket: {path}.npz")
    ticket = Ticket.load(f"{path}.npz")
    assert (ticket.seed, ticket.values_per_input, ticket.construction) == (3, (6, 7), "malach")
    target = ReLUNetwork.random((3, 4, 2), rng=5)
    expected = certify(target, ticket, rng=0)
    assert f"certified <= {expected.certified:.4e}" in out

    status, out, _ = run(capsys, "certify", f"{path}.npz", "3,4,2", "--target-seed", 5)
    assert status == 0
    assert f"certified <= {expected.certified:.4e}, measured {expected.measured:.4e}" in out
    for i, tau in enumerate(expected.tau, start=1):
        assert f"{tau:.3e}" in out.splitlines()[2 + i]

    # The same ticket against a tighter eps: the certificate fails, exit status 1.
    tight = expected.certified / 2
    status, out, _ = run(capsys, "certify", f"{path}.npz", "3,4,2", "--target-seed", 5,
                         "--eps", tight)  # fmt: skip
    assert status == 1
    assert "(> eps)" in out and f"exceeds eps = {tight:g}" in out


def test_approximate_automatic_mode_from_an_npz_target_with_biases(tmp_path, capsys):
    target = ReLUNetwork.random((2, 3, 2), rng=1, bias=True)
    target.to_npz(tmp_path / "target.npz")
    status, out, err = run(
        capsys, "approximate", tmp_path / "target.npz", "--eps", "0.3", "--solver", "dp",
        "--distribution", "gaussian", "--out", tmp_path / "t.npz", "--quiet",
    )  # fmt: skip
    assert status == 0
    # Biases break the theorems' assumptions: one warning line, and the report says so.
    assert err.startswith("strong-lth: warning: theorem assumptions do not hold")
    assert len(err.splitlines()) == 1
    ticket = Ticket.load(tmp_path / "t.npz")
    assert ticket.report["solver"] == "dp" and ticket.distribution.name == "gaussian"
    assert ticket.report["certified"] <= 0.3
    assert certify(target, ticket).certified == pytest.approx(ticket.report["certified"])

    status, out, _ = run(capsys, "certify", tmp_path / "t.npz", tmp_path / "target.npz")
    assert status == 0  # checked against the eps the ticket was made for
    assert "target with biases" in out and "(<= eps)" in out


def test_bounds_table_matches_the_formulas(capsys):
    status, out, _ = run(capsys, "bounds", "--d", 4, "--depth", 2, "--eps", 0.05, "--delta",
                         0.1, "--C", 2, "--values-per-input", "10,12")  # fmt: skip
    assert status == 0
    lines = out.splitlines()
    assert lines[0].startswith("width bounds per layer pair: eps=0.05, delta=0.1, C=2")
    assert len(lines) == 4  # header, column names, two layer pairs
    for row, actual in zip(lines[2:], (40, 48)):
        cells = row.split()
        assert float(cells[4]) == pytest.approx(
            bounds.pensia_width(4, 4, 2, 0.05, 0.1, C=2), rel=1e-5
        )
        assert float(cells[5]) == pytest.approx(bounds.malach_width(4, 2, 0.05, 0.1, C=2), rel=1e-5)
        assert float(cells[6]) == pytest.approx(bounds.lower_bound_width(4, 4, 0.05), rel=1e-5)
        assert float(cells[7]) == actual
    # A shape gives the same table as --d/--depth.
    assert run(capsys, "bounds", "4,4,4", "--eps", 0.05, "--delta", 0.1, "--C", 2,
               "--values-per-input", "10,12")[1] == out  # fmt: skip


def test_sweep_resumes_and_plot_writes_every_figure(tmp_path, capsys):
    config = tmp_path / "sweep.toml"
    config.write_text(SWEEP)
    status, out, _ = run(capsys, "sweep", config, "--quiet")
    table = tmp_path / "out" / "results.jsonl"
    assert status == 0 and out == f"results: {table} (7 runs)\n"
    rows = load_results(table)
    assert sorted(r["kind"] for r in rows) == ["approximate"] * 4 + ["subset_sum"] * 3
    before = table.read_bytes()
    # Run again: nothing to do, the table is unchanged, and the command says so.
    assert run(capsys, "sweep", config, "--quiet")[:2] == (
        0,
        f"results: {table} (7 runs; 7 already stored, 0 computed now)\n",
    )
    assert table.read_bytes() == before

    status, out, _ = run(capsys, "plot", table, "--out", tmp_path / "figs", "--eta", "0.01,0.1")
    assert status == 0
    names = ("width_vs_error", "subset_sum_error", "success_probability")
    assert out.split() == [str(tmp_path / "figs" / f"{n}.png") for n in names]
    assert all((tmp_path / "figs" / f"{n}.png").stat().st_size > 10_000 for n in names)

    status, out, _ = run(capsys, "plot", table, "--out", tmp_path / "pdf", "--format", "pdf")
    assert status == 0 and (tmp_path / "pdf" / "width_vs_error.pdf").read_bytes()[:4] == b"%PDF"


def test_interrupt_exits_130(monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(bounds, "compare", interrupted)
    status, _, err = run(capsys, "bounds", "--d", 2, "--depth", 1, "--eps", 0.1, "--delta", 0.1)
    assert status == 130 and err == "strong-lth: interrupted\n"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Good and malformed input files for the bad-input tests."""
    folder = tmp_path_factory.mktemp("files")
    target = ReLUNetwork.random((3, 4, 2), rng=0)
    target.to_npz(folder / "target.npz")
    strong_lth.approximate(target, values_per_input=2, rng=0).save(folder / "ticket.npz")
    (folder / "junk.npz").write_text("not a zip archive")
    np.savez(folder / "badheader.npz", header=np.array("{not json"))
    (folder / "bad.toml").write_text("output = [\n")
    (folder / "badgrid.toml").write_text('output = "o"\n[[grid]]\nkind = "subset_sum"\nn = 0\n')
    (folder / "bad.jsonl").write_text('{"a": 1}\nnot json\n')
    (folder / "badmiddle.jsonl").write_text('not json\n{"a": 1}\n')
    (folder / "empty.jsonl").write_text("")
    (folder / "file").write_text("")
    return folder


def _replace(argv, folder):
    return [str(folder / a[1:]) if a.startswith("@") else a for a in argv]


BAD = [
    # approximate
    ("approximate 8,x,4 --eps 0.1", r"`target` must be an \.npz file or a shape like 8,16,4; "
     r"got '8,x,4'\."),
    ("approximate 8,0,4 --eps 0.1", r"`target` widths must be positive; got '8,0,4'\."),
    ("approximate @missing.npz --eps 0.1", r"`target` must be an existing file; got '.*missing"),
    ("approximate @junk.npz --eps 0.1", r"`target` must be an \.npz file; '.*junk.npz' is not"),
    ("approximate @ticket.npz --eps 0.1", r"`target` file '.*ticket.npz': `path` must name an "
     r"\.npz file with keys W0"),
    ("approximate 3,2 --eps abc", r"argument --eps: invalid float value: 'abc' \(see "
     r"`strong-lth approximate --help`\)"),
    ("approximate 3,2 --eps -1", r"`eps` must be in \(0, inf\); got -1\.0\."),
    ("approximate 3,2 --eps nan", r"`eps` must be in \(0, inf\); got nan\."),
    ("approximate 3,2", r"one of the arguments --eps --values-per-input is required"),
    ("approximate 3,2 --eps 0.1 --values-per-input 3", r"argument --values-per-input: not "
     r"allowed with argument --eps"),
    ("approximate 3,2 --values-per-input 3,x", r"argument --values-per-input: expected one "
     r"integer or several separated by commas; got '3,x'"),
    ("approximate 3,2 --values-per-input 3,4", r"`values_per_input` must be an integer or one "
     r"integer per layer \(1\)"),
    ("approximate 3,2 --values-per-input 0", r"`values_per_input` must be in \[1, 512\]; got 0"),
    ("approximate 3,2 --eps 0.1 --solver foo", r"`solver` must be one of 'mitm'"),
    ("approximate 3,2 --eps 0.1 --construction foo", r"`construction` must be one of 'pensia'"),
    ("approximate 3,2 --eps 0.1 --distribution foo", r"`distribution` must be a Distribution "
     r"or one of 'uniform'"),
    ("approximate 3,2 --eps 0.1 --seed -1", r"argument --seed: expected a non-negative integer "
     r"seed; got '-1'"),
    ("approximate 3,2 --eps 0.1 --target-seed x", r"argument --target-seed: expected a "
     r"non-negative integer seed"),
    ("approximate 3,2 --eps 0.1 --radius 0", r"`radius` must be in \(0, inf\); got 0\.0\."),
    ("approximate 3,2 --eps 1e-6 --max-values-per-input 3", r"`max_values_per_input` must be "
     r"(at least \d+|raised)"),
    ("approximate 3,2 --values-per-input 2 --out @file/t.npz", r"File exists|Not a directory"),
    # certify
    ("certify @missing.npz 3,4,2", r"`ticket` must be an existing file"),
    ("certify @junk.npz 3,4,2", r"`ticket` must be an \.npz file; '.*junk.npz' is not one\."),
    ("certify @target.npz @target.npz", r"`ticket` file '.*target.npz': `path` must be a "
     r"ticket file"),
    ("certify @badheader.npz 3,4,2", r"`ticket` file '.*badheader.npz': .*header is valid JSON"),
    ("certify @ticket.npz 3,4,3", r"`ticket` must be made for the target: widths \(3, 4, 3\) "
     r"\(bias-augmented\), biases False; got widths \(3, 4, 2\), biases False\."),
    ("certify @ticket.npz 3,4,2,2", r"`ticket` must be made for the target: widths "
     r"\(3, 4, 2, 2\)"),
    ("certify @ticket.npz 2,4,2 --target-bias", r"biases True; got widths \(3, 4, 2\), "
     r"biases False\."),
    ("certify @ticket.npz 3,4,2 --eps 0", r"`eps` must be in \(0, inf\); got 0\.0\."),
    ("certify @ticket.npz 3,4,2 --radius -1", r"`radius` must be in \(0, inf\); got -1\.0\."),
    ("certify @ticket.npz", r"the following arguments are required: target"),
    # bounds
    ("bounds --eps 0.1 --delta 0.1", r"exactly one of `target` and `--d` \(with `--depth`\) "
     r"must be given; got target=None, d=None\."),
    ("bounds 3,2 --d 3 --eps 0.1 --delta 0.1", r"exactly one of `target` and `--d`"),
    ("bounds --d 3 --eps 0.1 --delta 0.1", r"`--d` and `--depth` must be positive integers; "
     r"got d=3, depth=None\."),
    ("bounds --d 0 --depth 2 --eps 0.1 --delta 0.1", r"`--d` and `--depth` must be positive"),
    ("bounds 3,2 --eps 1 --delta 0.1", r"`eps` must be in \(0, 1\); got 1\.0\."),
    ("bounds 3,2 --eps 0.1 --delta 0", r"`delta` must be in \(0, 1\); got 0\.0\."),
    ("bounds 3,2 --eps 0.1 --delta 0.1 --C 0", r"`C` must be in \(0, inf\); got 0\.0\."),
    ("bounds 3,2 --eps 0.1 --delta 0.1 --values-per-input 1,2", r"`values_per_input` must be "
     r"a scalar or have shape \(1,\)"),
    ("bounds 3,2 --eps 0.1", r"the following arguments are required: --delta"),
    ("bounds @junk.npz --eps 0.1 --delta 0.1", r"`target` must be an \.npz file"),
    # sweep
    ("sweep @missing.toml", r"`config` must be an existing file; got '.*missing.toml'\."),
    ("sweep @bad.toml", r"`config` file '.*bad.toml': `path` must be a valid TOML file"),
    ("sweep @badgrid.toml", r"`config` file '.*badgrid.toml': `grid\[0\]\.n` must be"),
    ("sweep @badgrid.toml --processes x", r"argument --processes: invalid int value: 'x'"),
    # plot
    ("plot @missing.jsonl", r"`results` must be an existing file"),
    ("plot @bad.jsonl", r"`results` must hold at least one valid run; got none in '.*bad.jsonl' "
     r"\(2 line\(s\) ignored; first: line 1 of .* is not a valid result row \(`format` must be a "
     r"str; got nothing\): ignored, not counted as a run\)\.$"),
    ("plot @badmiddle.jsonl", r"`results` file '.*badmiddle.jsonl': `path` must hold one JSON "
     r"result row per line; got an invalid line 1"),
    ("plot @empty.jsonl", r"`results` must hold at least one valid run; got none in "
     r"'.*empty.jsonl'\.$"),
    ("plot @empty.jsonl --format xyz", r"`format` must be one of .*'png'.*; got 'xyz'\."),
    ("plot @empty.jsonl --dpi 0", r"`dpi` must be in \[1, inf\]; got 0\."),
    ("plot @empty.jsonl --eta 0.1,x", r"argument --eta: expected one number or several"),
    # demo and the command itself
    ("demo --eps -1", r"`eps` must be in \(0, inf\); got -1\.0\."),
    ("frobnicate", r"argument COMMAND: invalid choice: 'frobnicate'"),
    ("", r"the following arguments are required: COMMAND \(see `strong-lth --help`\)"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[argv or "nothing" for argv, _ in BAD])
def test_bad_input_exits_2_with_one_line(argv, message, files, capsys):
    status, _, err = run(capsys, *_replace(argv.split(), files))
    assert status == 2
    assert err.startswith("strong-lth: ") and err.endswith("\n") and err.count("\n") == 1
    assert re.search(message, err), err


def test_bad_sweep_arguments_exit_2_before_running(tmp_path, capsys):
    config = tmp_path / "sweep.toml"
    config.write_text(SWEEP)
    for argv, message in [
        (["--processes", "0"], "`processes` must be in [1, inf]; got 0."),
        (["--processes", "2", "--scheduler", "tcp://127.0.0.1:1"], "`processes` must be left out"),
    ]:
        status, _, err = run(capsys, "sweep", config, *argv)
        assert status == 2 and err.startswith(f"strong-lth: {message}")
    assert not (tmp_path / "out").exists()


def test_installed_entry_point_in_a_subprocess(tmp_path):
    """The command as a user runs it: the console script when installed, else ``-m``."""
    script = Path(sys.executable).with_name("strong-lth")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "strong_lth.cli"]
    root = str(Path(strong_lth.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    bad = subprocess.run(
        [*command, "certify", "missing.npz", "2,3,1"],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert bad.returncode == 2
    assert bad.stderr == "strong-lth: `ticket` must be an existing file; got 'missing.npz'.\n"
    assert bad.stdout == ""


# --------------------------------------------------------------------------------------------
# --json, --box, one value for every layer, sweep --out, resumed sweeps (issue 14)
# --------------------------------------------------------------------------------------------


def test_json_output_of_approximate_certify_and_bounds(tmp_path, capsys):
    path = tmp_path / "t.npz"
    status, out, _ = run(capsys, "approximate", "3,4,2", "--values-per-input", "12", "--out",
                         path, "--json")  # fmt: skip
    assert status == 0
    data = json.loads(out)
    assert data["ticket"] == str(path)
    target = ReLUNetwork.random((3, 4, 2), rng=0)
    expected = certify(target, Ticket.load(path), rng=0)
    assert data["report"]["certified"] == pytest.approx(expected.certified, rel=1e-12)
    assert [row["values_per_input"] for row in data["report"]["layers"]] == [12, 12]
    assert expected.certified < 0.9

    status, out, _ = run(capsys, "certify", path, "3,4,2", "--eps", "0.9", "--json")
    assert status == 0
    data = json.loads(out)
    assert data["certified"] == pytest.approx(expected.certified, rel=1e-12)
    assert data["measured"] == pytest.approx(expected.measured, rel=1e-12)
    assert data["tau"] == pytest.approx(expected.tau.tolist(), rel=1e-12)
    assert data["within_eps"] is True and data["exact"] is None
    assert data["eta"] == pytest.approx(expected.eta(0.9).tolist(), rel=1e-12)

    status, out, _ = run(capsys, "bounds", "3,4,2", "--eps", "0.1", "--delta", "0.05",
                         "--values-per-input", "5", "--json")  # fmt: skip
    assert status == 0
    data = json.loads(out)
    table = bounds.compare([3, 4, 2], 0.1, 0.05, values_per_input=5)
    assert data["layers"] == table.rows()
    assert (data["eps"], data["delta"], data["C"], data["augmented"]) == (0.1, 0.05, 1.0, False)


def test_certify_box_gives_the_exact_error(tmp_path, capsys):
    target = ReLUNetwork.random((2, 3, 1), rng=0)
    ticket = strong_lth.approximate(target, values_per_input=4, rng=0)
    ticket.save(tmp_path / "t.npz")
    expected = certify(target, Ticket.load(tmp_path / "t.npz"), rng=0, box=0.5)
    status, out, _ = run(capsys, "certify", tmp_path / "t.npz", "2,3,1", "--box", "0.5", "--json")
    assert status == 0
    exact = json.loads(out)["exact"]
    assert exact["value"] == pytest.approx(expected.exact.value, rel=1e-9)
    assert exact["certified"] == pytest.approx(expected.box_certified, rel=1e-12)
    assert exact["measured"] <= exact["value"] <= exact["certified"]
    status, out, _ = run(capsys, "certify", tmp_path / "t.npz", "2,3,1", "--box", "0.5")
    assert status == 0
    assert f"on the box [-0.5, 0.5]^2: measured {expected.exact.measured:.4e}" in out
    assert f"exact {expected.exact.value:.4e}" in out


def test_one_value_for_every_layer_in_bounds_as_in_approximate(capsys):
    """`bounds 4,8,2 --values-per-input 29` refused a single value `approximate` accepts."""
    one = run(capsys, "bounds", "4,8,2", "--eps", "0.1", "--delta", "0.1",
              "--values-per-input", "29")  # fmt: skip
    both = run(capsys, "bounds", "4,8,2", "--eps", "0.1", "--delta", "0.1",
               "--values-per-input", "29,29")  # fmt: skip
    assert one[0] == 0 and one == both
    assert "implied_C" in one[1]


def test_sweep_out_replaces_a_missing_output_and_a_resumed_sweep_says_what_was_stored(
    tmp_path, capsys
):
    config = tmp_path / "no_output.toml"
    config.write_text('[[grid]]\nkind = "subset_sum"\nn = [3, 4]\nseed = 0\n')
    out = tmp_path / "chosen"
    status, stdout, err = run(capsys, "sweep", config, "--out", out, "--quiet")
    assert status == 0 and err == ""
    assert stdout == f"results: {out / 'results.jsonl'} (2 runs)\n"
    lines = (out / "results.jsonl").read_text().splitlines()
    (out / "results.jsonl").write_text(lines[0] + "\n")  # as if killed after one run
    status, stdout, err = run(capsys, "sweep", config, "--out", out)
    assert status == 0
    assert err.startswith(
        f"sweep no_output: resuming: 1 of 2 runs already stored in {out / 'results.jsonl'}\n"
    )
    assert (
        stdout == f"results: {out / 'results.jsonl'} (2 runs; 1 already stored, 1 computed now)\n"
    )
    assert len(load_results(out / "results.jsonl")) == 2


def test_plot_takes_C_for_pensias_curve(tmp_path, capsys):
    config = tmp_path / "sweep.toml"
    config.write_text(SWEEP)
    run(capsys, "sweep", config, "--quiet")
    status, _, _ = run(capsys, "plot", tmp_path / "out" / "results.jsonl", "--C", "2.5",
                       "--out", tmp_path / "figs", "--format", "svg")  # fmt: skip
    assert status == 0
    assert "C = 2.5 given" in (tmp_path / "figs" / "width_vs_error.svg").read_text()
