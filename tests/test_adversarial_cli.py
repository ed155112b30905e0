# ruff: noqa: RUF001 (non-ASCII digits are what these tests feed the command)
"""Hostile input for every ``strong-lth`` subcommand: crafted ticket, target, results and sweep
files, absurd sizes, non-ASCII digits, closed pipes.

Every case runs :func:`strong_lth.cli.main` in-process and asserts the exit status and that
stderr is exactly one line ``strong-lth: ...`` that names the problem: never a traceback, never
an "internal error" (an exception the command did not expect), never a bad input reported as a
bug of the toolkit. The commands that must succeed are checked against the library.
"""

import importlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import strong_lth
from strong_lth import ReLUNetwork, Ticket, approximate, bounds, certify
from strong_lth.cli import main

ROOT = Path(strong_lth.__file__).parents[1]


def run(capsys, *argv):
    """``(status, stdout, stderr)`` of ``strong-lth argv``."""
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_line(err: str) -> None:
    assert err.startswith("strong-lth: ") and err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert "internal error" not in err, err
    assert "bug" not in err, err


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Crafted files: a good ticket and target, and every way of breaking them."""
    d = tmp_path_factory.mktemp("hostile")
    target = ReLUNetwork.random((3, 4, 2), rng=0)
    target.to_npz(d / "target.npz")
    approximate(target, values_per_input=2, rng=0).save(d / "ticket.npz")
    with np.load(d / "ticket.npz") as data:
        good = {k: data[k] for k in data.files}
    header = json.loads(str(good["header"]))
    masks = {k: v for k, v in good.items() if k != "header"}

    def craft(name, **changes):
        h = {k: v for k, v in header.items() if changes.get(k, 0) is not KeyError}
        h.update({k: v for k, v in changes.items() if v is not KeyError})
        np.savez(d / name, header=np.array(json.dumps(h)), **masks)

    np.savez(d / "h_list.npz", header=np.array("[1, 2]"), **masks)
    np.savez(d / "h_string.npz", header=np.array('"x"'), **masks)
    np.savez(d / "h_json.npz", header=np.array("{not json"), **masks)
    np.savez(d / "h_bytes.npz", header=np.frombuffer(b"\xff\xfe", dtype=np.uint8), **masks)
    craft("vpi_str.npz", values_per_input="ab")
    craft("vpi_none.npz", values_per_input=None)
    craft("vpi_huge.npz", values_per_input=[10**9, 10**9])
    craft("widths_str.npz", widths="abc")
    craft("widths_float.npz", widths=[3.5, 4, 2])
    craft("widths_missing.npz", widths=KeyError)
    craft("seed_str.npz", seed="x")
    craft("seed_negative.npz", seed=-1)
    craft("dist_list.npz", distribution=[1])
    craft("dist_name.npz", distribution={"name": "cauchy"})
    craft("dist_extra.npz", distribution={"name": "uniform", "zz": 1})
    craft("report_list.npz", report=[1])
    craft("report_radius.npz", report={**header["report"], "radius": "big"})
    craft("report_eps.npz", report={**header["report"], "eps": -3})
    craft("construction.npz", construction="zz")
    craft("format.npz", format="strong_lth.ticket/0")
    np.savez(d / "mask_missing.npz", header=good["header"], mask0=masks["mask0"])
    (d / "truncated.npz").write_bytes((d / "ticket.npz").read_bytes()[:200])
    (d / "junk.npz").write_text("not a zip archive")
    np.savez(d / "t_nan.npz", W0=np.full((4, 3), np.nan), W1=np.ones((2, 4)))
    np.savez(d / "t_str.npz", W0=np.array("x"))
    np.savez(d / "t_3d.npz", W0=np.ones((2, 2, 2)))
    np.savez(d / "t_mismatch.npz", W0=np.ones((4, 3)), W1=np.ones((2, 5)))
    np.savez_compressed(d / "t_bomb.npz", W0=np.zeros((12_000, 12_000)))  # 1.07 GiB unpacked
    row = {
        "format": "strong_lth.results/1", "run_id": "a", "kind": "approximate",
        "params": {"construction": "pensia", "solver": "mitm", "distribution": "uniform"},
        "result": {"d_in": [2], "d_out": [1], "values_per_input": [3], "hidden_widths": [6],
                   "certified": 0.1, "measured": 0.05},
        "seconds": {}, "provenance": {},
    }  # fmt: skip
    (d / "r_good.jsonl").write_text(json.dumps(row) + "\n")
    (d / "r_run_id.jsonl").write_text('{"run_id": 5}\n')
    (d / "r_missing.jsonl").write_text('{"run_id": "x", "kind": "approximate"}\n')
    wrong = {**row, "params": {**row["params"], "construction": 1}}
    (d / "r_types.jsonl").write_text(json.dumps(wrong) + "\n")
    short = {**row, "result": {**row["result"], "d_out": [1, 2]}}
    (d / "r_lengths.jsonl").write_text(json.dumps(short) + "\n")
    (d / "r_list.jsonl").write_text("[1, 2]\n" + json.dumps(row) + "\n")
    (d / "r_deep.jsonl").write_text("[" * 100_000 + "\n" + json.dumps(row) + "\n")
    (d / "r_binary.jsonl").write_bytes(b"\xff\xfe\n" + json.dumps(row).encode() + b"\n")
    grid = '[[grid]]\nkind = "subset_sum"\nn = 3\nseed = 0\n'
    (d / "s_escape.toml").write_text(f'output = "../../x"\n{grid}')
    (d / "s_absolute.toml").write_text(f'output = "/tmp/x"\n{grid}')
    (d / "s_instances.toml").write_text(
        'output = "o"\n[[grid]]\nkind = "subset_sum"\nn = 8\ninstances = 1000000000000\nseed = 0\n'
    )
    seeds = ",".join(map(str, range(40_000)))
    (d / "s_grid.toml").write_text(
        f'output = "o"\n[[grid]]\nkind = "subset_sum"\nn = [{",".join(map(str, range(1, 25)))}]\n'
        f"seed = [{seeds}]\n"
    )
    (d / "s_target.toml").write_text(
        'output = "o"\n[[grid]]\nkind = "approximate"\ntarget = [100000, 100000]\n'
        "values_per_input = 2\nseed = 0\n"
    )
    (d / "s_target_file.toml").write_text(
        'output = "o"\n[[grid]]\nkind = "approximate"\ntarget = "t_str.npz"\neps = 0.1\nseed = 0\n'
    )
    (d / "s_no_output.toml").write_text(grid)
    (d / "s_name.toml").write_text(f'output = "o"\nname = 3\n{grid}')
    (d / "s_max_runs.toml").write_text(f'output = "o"\nmax_runs = "x"\n{grid}')
    (d / "s_bool.toml").write_text(
        'output = "o"\n[[grid]]\nkind = "approximate"\ntarget = [3, 2]\n'
        "values_per_input = true\nseed = 0\n"
    )
    (d / "s_binary.toml").write_bytes(b"\xff\xfe\x00")
    (d / "folder").mkdir()
    return d


def _argv(line: str, folder: Path) -> list[str]:
    return [str(folder / a[1:]) if a.startswith("@") else a for a in line.split()]


HOSTILE = [
    # crafted ticket headers and masks (certify reads them); the patterns name the file and
    # the field, whichever check (Ticket.load or the command) refuses it
    ("certify @h_list.npz 3,4,2", r"`ticket` file '.*h_list.npz'"),
    ("certify @h_string.npz 3,4,2", r"`ticket` file '.*h_string.npz'"),
    ("certify @h_json.npz 3,4,2", r"`ticket` file '.*h_json.npz': .*header is valid JSON"),
    ("certify @h_bytes.npz 3,4,2", r"`ticket` file '.*h_bytes.npz'"),
    ("certify @vpi_str.npz 3,4,2", r"`ticket` file .*'values_per_input' must be a list"),
    ("certify @vpi_none.npz 3,4,2", r"`ticket` file '.*vpi_none.npz'"),
    ("certify @widths_str.npz 3,4,2", r"`ticket` file .*'widths' must be a list"),
    ("certify @widths_float.npz 3,4,2", r"`ticket` file .*`widths"),
    ("certify @widths_missing.npz 3,4,2", r"`ticket` file '.*widths_missing.npz'.*widths"),
    ("certify @seed_str.npz 3,4,2", r"`ticket` file .*seed"),
    ("certify @seed_negative.npz 3,4,2", r"`ticket` file .*seed"),
    ("certify @dist_list.npz 3,4,2", r"`ticket` file '.*dist_list.npz'"),
    ("certify @dist_name.npz 3,4,2", r"`ticket` file .*distribution"),
    ("certify @dist_extra.npz 3,4,2", r"`ticket` file '.*dist_extra.npz'"),
    ("certify @report_list.npz 3,4,2", r"`ticket` file .*report"),
    ("certify @report_radius.npz 3,4,2", r"`?ticket.*radius.*'big'"),
    ("certify @report_eps.npz 3,4,2", r"`?ticket.*eps.*-3"),
    ("certify @construction.npz 3,4,2", r"`ticket` file .*construction"),
    ("certify @format.npz 3,4,2", r"`ticket` file .*format"),
    ("certify @mask_missing.npz 3,4,2", r"`ticket` file '.*mask_missing.npz'.*mask"),
    ("certify @truncated.npz 3,4,2", r"`ticket` must be an \.npz file; '.*' is not one\."),
    ("certify @junk.npz 3,4,2", r"`ticket` must be an \.npz file"),
    ("certify @folder 3,4,2", r"`ticket` must be an existing file; got '.*folder'"),
    ("certify @target.npz 3,4,2", r"`ticket` file '.*target.npz'"),
    # crafted targets
    ("certify @ticket.npz @t_nan.npz", r"`target` file .*must be finite; got 12 NaN"),
    ("certify @ticket.npz @t_str.npz", r"`target` file .*must hold real numbers"),
    ("certify @ticket.npz @t_3d.npz", r"`target` file .*must be 2-dimensional"),
    ("certify @ticket.npz @t_mismatch.npz", r"`target` file .*must have shape"),
    ("certify @ticket.npz @t_bomb.npz", r"`--max-bytes` must be at least 1152000\d+ \(1.07 GiB\) "
     r"to read the `target` file"),
    ("certify @ticket.npz ３,4,2", r"`target` must be an \.npz file or a shape like 8,16,4; got "
     r"'３,4,2'\."),
    ("certify @ticket.npz 3,4,2 --target-seed ٣", r"argument --target-seed: expected a "
     r"non-negative integer seed; got '٣'"),
    # sizes and numbers
    ("certify @ticket.npz 100000,100000,100000", r"`--max-bytes` must be at least 320000000000 "
     r"\(298 GiB\) to draw the target 100000,100000,100000"),
    ("certify @ticket.npz 3,4,2 --max-bytes -1", r"`--max-bytes` must be in \[0, inf\]; got -1"),
    ("certify @ticket.npz 3,4,2 --max-bytes 1e9", r"argument --max-bytes: invalid int value"),
    ("certify @ticket.npz 3,4,2 --radius inf", r"`radius` must be in \(0, inf\); got inf"),
    ("certify @ticket.npz 3,4,2 --box 0", r"`box` must be in \(0, inf\); got 0\.0"),
    ("certify @ticket.npz 3,4,2 --box nan", r"`box` must be in \(0, inf\); got nan"),
    ("certify @ticket.npz 3,4,2 --box 1 --time-limit -1", r"`exact_time_limit` must be in"),
    ("certify @ticket.npz 3,4,2 --eps ٠.1", r"argument --eps: invalid float value: '٠.1'"),
    ("approximate 100000,100000,100000 --eps 0.1", r"`--max-bytes` must be at least "
     r"320000000000 \(298 GiB\) to draw the target"),
    ("approximate 3,4,2 --values-per-input ５", r"argument --values-per-input: expected one "
     r"integer or several separated by commas; got '５'"),
    ("approximate 3,4,2 --values-per-input ٣", r"got '٣'"),
    ("approximate 3,4,2 --eps ０.1", r"argument --eps: invalid float value: '０.1'"),
    ("approximate 3,4,2 --eps 0.1 --seed ５", r"argument --seed: expected a non-negative "
     r"integer seed; got '５'"),
    ("approximate 3,4,2 --eps 0.1 --seed 99999999999999999999999", r"`rng` must be in \[0, "),
    ("approximate 3,4,2 --values-per-input 100000000", r"`values_per_input` must be in "
     r"\[1, 512\]; got 100000000"),
    ("approximate 3,4,2 --values-per-input 2 --out @folder", r"`--out` must be a file name; "
     r"got the folder '.*folder'"),
    ("approximate ٣,4 --eps 0.1", r"`target` must be an \.npz file or a shape"),
    ("approximate @t_nan.npz --eps 0.1", r"`target` file .*must be finite"),
    ("approximate @t_bomb.npz --eps 0.1", r"`--max-bytes` must be at least"),
    ("approximate @truncated.npz --eps 0.1", r"`target` must be an \.npz file"),
    ("bounds --d 100000000000000000000 --depth 2 --eps 0.1 --delta 0.1", r"`target\[0\]` must "
     r"be in \[1, 9007199254740992\]; got 100000000000000000000"),
    ("bounds --d 3 --depth 100000000000000000000 --eps 0.1 --delta 0.1", r"`--max-bytes` must "
     r"be at least 102400000000000000000000 \(.*\) to tabulate 100000000000000000000 layers"),
    ("bounds 99999999999999999999,2 --eps 0.1 --delta 0.1", r"`target\[0\]` must be in"),
    ("bounds 3,4,2 --eps 0.1 --delta 0.1 --values-per-input 0", r"`values_per_input` must be in "
     r"\(0, inf\); got 0\.0"),
    ("bounds 3,4,2 --eps 0.1 --delta 0.1 --radius inf", r"`radius` must be in \[0, inf\); got "
     r"inf"),
    ("bounds 3,4,2 --eps ٠.1 --delta 0.1", r"argument --eps: invalid float value: '٠.1'"),
    ("bounds @t_mismatch.npz --eps 0.1 --delta 0.1", r"`target` file .*must have shape"),
    # sweeps
    ("sweep @s_escape.toml", r"`output` must be a folder inside the sweep file's folder '.*'; "
     r"got '\.\./\.\./x', which resolves to"),
    ("sweep @s_absolute.toml", r"`output` must be a folder inside the sweep file's folder"),
    ("sweep @s_instances.toml", r"`max_bytes` must be at least 184000000000000 \(167 TiB\) to "
     r"run grid\[0\]"),
    ("sweep @s_grid.toml", r"`max_runs` must be at least 960000 to expand this grid"),
    ("sweep @s_target.toml", r"`max_bytes` must be at least 480003200000 \(447 GiB\)"),
    ("sweep @s_target_file.toml", r"`config` file .*must hold real numbers"),
    ("sweep @s_no_output.toml", r"`output` must be given, in '.*s_no_output.toml' or with --out; "
     r"got neither\."),
    ("sweep @s_name.toml", r"`name` must be a string; got 3"),
    ("sweep @s_max_runs.toml", r"`max_runs` must be an integer; got 'x'"),
    ("sweep @s_no_output.toml --max-runs 0", r"`max_runs` must be in \[1, inf\]; got 0"),
    ("sweep @s_no_output.toml --max-bytes -1", r"`max_bytes` must be in \[0, inf\]; got -1"),
    ("sweep @s_bool.toml", r"`grid\[0\]\.values_per_input` must be an integer; got True"),
    ("sweep @s_binary.toml", r"`config` file '.*s_binary.toml'"),
    ("sweep @folder", r"`config` must be an existing file"),
    # results tables
    ("plot @r_run_id.jsonl", r"`results` must hold at least one valid run; got none in .* "
     r"\(1 line\(s\) ignored; first: .*`format` must be a str; got nothing"),
    ("plot @r_missing.jsonl", r"at least one valid run; .*`format` must be a str"),
    ("plot @r_types.jsonl", r"at least one valid run; .*`params.construction` must be a str; "
     r"got 1"),
    ("plot @r_lengths.jsonl", r"at least one valid run; .*one entry per layer"),
    ("plot @r_list.jsonl", r"`results` file .*must hold one JSON result row per line; got an "
     r"invalid line 1"),
    ("plot @r_deep.jsonl", r"`results` file .*got an invalid line 1"),
    ("plot @r_binary.jsonl", r"`results` file .*got an invalid line 1"),
    ("plot @r_good.jsonl --dpi 100000 --out @folder", r"`--dpi` must keep every image side at "
     r"most 65535 pixels; got 100000, which makes 'width_vs_error' 640000 x 540000 pixels\."),
    ("plot @r_good.jsonl --dpi 3000 --out @folder", r"`--max-bytes` must be at least "
     r"1244160000 \(1.16 GiB\) to draw 'width_vs_error' at 3000 dpi \(19200 x 16200 RGBA "
     r"pixels\)"),
    ("plot @r_good.jsonl --dpi ５", r"argument --dpi: invalid int value: '５'"),
    ("plot @r_good.jsonl --C 0", r"`C` must be in \(0, inf\); got 0\.0\."),
    ("plot @r_good.jsonl --eta ٠.1", r"argument --eta: expected one number or several"),
    ("plot @folder", r"`results` must be an existing file"),
    # demo
    ("demo --eps nan", r"`eps` must be in \(0, inf\); got nan"),
    ("demo --seed ５", r"argument --seed: expected a non-negative integer seed; got '５'"),
]  # fmt: skip


@pytest.mark.parametrize(("line", "message"), HOSTILE, ids=[line for line, _ in HOSTILE])
def test_hostile_input_exits_2_with_one_line(line, message, files, capsys):
    status, out, err = run(capsys, *_argv(line, files))
    assert status == 2, (out, err)
    assert_one_line(err)
    assert re.search(message, err), err


LIBRARY_REFUSES = [
    # Cases the library itself now refuses with a parameter error (before: a traceback).
    ("certify @ticket.npz 3,4,2 --radius 1e300", "certify: reported as a bug"),
    ("certify @ticket.npz 3,4,2 --box 1e300", "exact_error: OR-Tools status leaked"),
    ("approximate 3,4,2 --eps 5e-324", "approximate: math domain error"),
    ("approximate 3,4,2 --eps 0.1 --radius 1e300", "approximate: math domain error"),
]
LIBRARY_ANSWERS = [
    # Cases that are not errors at all and now get an answer (before: a traceback).
    ("certify @vpi_huge.npz 3,4,2", "a ticket of a huge random network: nothing dense allocated"),
    ("approximate 3,4,2 --eps 1e300", "approximate: n = 1 reaches any eps this large"),
    ("demo --eps 1e300", "approximate: n = 1 reaches any eps this large"),
]


@pytest.mark.parametrize(("line", "before"), LIBRARY_REFUSES, ids=[x for x, _ in LIBRARY_REFUSES])
def test_hostile_input_refused_by_the_library(line, before, files, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, _, err = run(capsys, *_argv(line, files))
    assert status == 2
    assert_one_line(err)
    assert "out of memory" not in err and "bug" not in err


@pytest.mark.parametrize(("line", "before"), LIBRARY_ANSWERS, ids=[x for x, _ in LIBRARY_ANSWERS])
def test_extreme_input_answered(line, before, files, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, *_argv(line, files))
    assert status == 0, err
    assert "Traceback" not in err and "internal error" not in err
    assert "certified" in out


@pytest.mark.parametrize("name", ["mask_float.npz", "mask_shape.npz"])
def test_malformed_masks_are_refused(name, files, capsys):
    with np.load(files / "ticket.npz") as data:
        arrays = {k: data[k] for k in data.files}
    change = (lambda m: m.astype(float)) if name == "mask_float.npz" else (lambda m: m[:1])
    masks = {k: change(v) for k, v in arrays.items() if k != "header"}
    np.savez(files / name, header=arrays["header"], **masks)
    status, _, err = run(capsys, "certify", files / name, "3,4,2")
    assert status == 2
    assert_one_line(err)


# --------------------------------------------------------------------------------------------
# Failures the command did not foresee: still one line
# --------------------------------------------------------------------------------------------


def test_memory_error_is_one_line_naming_the_size(monkeypatch, capsys):
    def exhausted(*args, **kwargs):
        raise MemoryError("Unable to allocate 74.5 GiB for an array with shape (100000, 100000)")

    monkeypatch.setattr(bounds, "compare", exhausted)
    status, _, err = run(capsys, "bounds", "3,2", "--eps", 0.1, "--delta", 0.1)
    assert status == 2
    assert err == (
        "strong-lth: out of memory: Unable to allocate 74.5 GiB for an array with shape "
        "(100000, 100000); use smaller sizes\n"
    )
    monkeypatch.setattr(bounds, "compare", lambda *a, **k: (_ for _ in ()).throw(MemoryError()))
    status, _, err = run(capsys, "bounds", "3,2", "--eps", 0.1, "--delta", 0.1)
    assert status == 2 and err.count("\n") == 1 and "out of memory" in err


def test_an_unexpected_error_is_one_line_and_debug_shows_it(monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(bounds, "compare", broken)
    status, _, err = run(capsys, "bounds", "3,2", "--eps", 0.1, "--delta", 0.1)
    assert status == 2 and err.count("\n") == 1
    assert err.startswith("strong-lth: internal error (a bug; please report it")
    assert "ZeroDivisionError: float division by zero" in err
    monkeypatch.setenv("STRONG_LTH_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        main(["bounds", "3,2", "--eps", "0.1", "--delta", "0.1"])


def test_warnings_of_a_failed_command_are_not_printed(files, capsys):
    """A failure is its one line, even when the run warned before failing."""
    status, _, err = run(
        capsys, "certify", files / "ticket.npz", "3,4,2", "--target-bias", "--radius", "2"
    )
    assert status == 2
    assert_one_line(err)


# --------------------------------------------------------------------------------------------
# Sizes that used to allocate: answered without allocating
# --------------------------------------------------------------------------------------------


def test_bounds_of_a_huge_target_are_computed_from_its_widths(capsys):
    """`bounds --d 100000` drew a 74.5 GiB target to read its widths."""
    start = time.perf_counter()
    status, out, err = run(capsys, "bounds", "--d", 100_000, "--depth", 2, "--eps", 0.1,
                           "--delta", 0.1, "--json")  # fmt: skip
    assert time.perf_counter() - start < 2.0
    assert status == 0 and err == ""
    layers = json.loads(out)["layers"]
    assert [row["d_in"] for row in layers] == [100_000, 100_000]
    expected = bounds.pensia_width(100_000, 100_000, 2, 0.1, 0.1)
    assert layers[0]["pensia_width"] == pytest.approx(expected, rel=1e-12)


def test_tiny_eps_gives_finite_pensia_widths(capsys):
    status, out, err = run(capsys, "bounds", "3,4,2", "--eps", "5e-324", "--delta", 0.1, "--json")
    assert status == 0 and err == ""
    rows = json.loads(out)["layers"]
    # 3 ln(3 * 4 * 2 / 5e-324), computed as a difference of logs: the ratio overflows
    expected = 3 * (np.log(24) - np.log(5e-324))
    assert rows[0]["pensia_width"] == pytest.approx(expected, rel=1e-12)
    assert rows[0]["malach_width"] is None  # inf: beyond the float range, null in JSON


# --------------------------------------------------------------------------------------------
# Closed pipes, the version, lazy imports
# --------------------------------------------------------------------------------------------


def _command() -> list[str]:
    script = Path(sys.executable).with_name("strong-lth")
    return [str(script)] if script.exists() else [sys.executable, "-m", "strong_lth.cli"]


def _env() -> dict:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }


def test_a_closed_pipe_keeps_the_ticket_and_exits_quietly(tmp_path):
    """`strong-lth approximate ... | head -1` lost the ticket and printed [Errno 32]."""
    ticket = tmp_path / "t.npz"
    writer = subprocess.Popen(
        [*_command(), "approximate", "4,8,2", "--values-per-input", "6", "--out", ticket],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), cwd=tmp_path,
    )  # fmt: skip
    writer.stdout.close()  # the reader is gone before the first line
    status = writer.wait(timeout=300)
    err = writer.stderr.read().decode()
    writer.stderr.close()
    assert status == 141, err
    assert err == ""
    loaded = Ticket.load(ticket)
    target = ReLUNetwork.random((4, 8, 2), rng=0)
    assert certify(target, loaded).certified == pytest.approx(loaded.report["certified"])


def test_a_reader_that_closes_early_gets_the_first_line(tmp_path):
    shell = f"{' '.join(_command())} approximate 4,8,2 --values-per-input 6 --out t.npz | head -1"
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", shell],
        capture_output=True, text=True, env=_env(), cwd=tmp_path, check=False,
    )  # fmt: skip
    assert done.stdout.startswith("strong_lth ticket: pensia construction")
    assert done.stdout.count("\n") == 1
    assert "Broken pipe" not in done.stderr and "Errno" not in done.stderr
    assert done.returncode in (0, 141)
    assert Ticket.load(tmp_path / "t.npz").values_per_input == (6, 6)


def test_version(capsys):
    status, out, _ = run(capsys, "--version")
    assert status == 0 and out == f"strong-lth {strong_lth.__version__}\n"


def test_the_cli_module_imports_no_heavy_module_at_its_top():
    """matplotlib, numba, OR-Tools, the solvers and the constructions are imported by the
    subcommands that use them, never by `strong-lth --help`."""
    import ast

    import strong_lth.cli as cli

    tree = ast.parse(Path(cli.__file__).read_text())
    imported = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            imported += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            imported.append(("." * node.level) + (node.module or ""))
    assert set(imported) <= {
        "__future__", "argparse", "itertools", "json", "math", "os", "re", "sys", "warnings",
        "zipfile", "pathlib", ".exceptions",
    }, imported  # fmt: skip


def test_help_states_the_default_memory_limit(capsys):
    from strong_lth._validation import DEFAULT_MAX_BYTES, format_bytes

    status, out, _ = run(capsys, "approximate", "--help")
    assert status == 0
    assert f"(default {format_bytes(DEFAULT_MAX_BYTES)})" in " ".join(out.split())


def test_help_names_every_construction_solver_and_distribution(capsys):
    """The choices in `approximate --help` are read from the registries themselves."""
    from strong_lth.constructions import CONSTRUCTIONS
    from strong_lth.distributions import NAMES
    from strong_lth.subset_sum import METHODS

    status, out, _ = run(capsys, "approximate", "--help")
    text = " ".join(out.split())
    assert status == 0
    for names in (CONSTRUCTIONS, METHODS, NAMES):
        assert f"one of {', '.join(names)}" in text


def test_help_loads_no_heavy_module():
    """`strong-lth --help` answers without numpy, numba, OR-Tools or matplotlib: the package's
    names are imported on first use (its `__getattr__`), so nothing heavy runs before argparse."""
    code = (
        "import sys\n"
        "from strong_lth.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = {'numpy', 'numba', 'ortools', 'matplotlib', 'scipy'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_certify_and_approximate_are_the_functions():
    """The modules that define them are private (`_certify`, `_approximate`), so the package's
    `certify` is never shadowed by a module of the same name."""
    import strong_lth._approximate
    import strong_lth._certify

    assert strong_lth.certify is strong_lth._certify.certify
    assert strong_lth.approximate is strong_lth._approximate.approximate
    assert callable(strong_lth.certify) and callable(strong_lth.approximate)
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("strong_lth.certify")
    assert set(strong_lth.__all__) <= set(dir(strong_lth))
    for name in strong_lth.__all__:
        assert getattr(strong_lth, name) is not None
