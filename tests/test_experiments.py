"""Tests of strong_lth.experiments: sweep files, run ids, the results table (resume after
SIGKILL, half-written rows), the process pool and Dask executors, progress bars."""

import contextlib
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from strong_lth import InvalidParameterError, ReLUNetwork, StrongLTHError, approximate
from strong_lth.experiments import (
    FORMAT,
    InvalidRowWarning,
    Sweep,
    TruncatedRowWarning,
    execute_run,
    load_results,
    run_id,
    run_sweep,
    subset_sum_instances,
)
from strong_lth.experiments.results import ResultsWriter, row_problem

from .naive import subset_sum_optimum

ROOT = Path(__file__).parents[1]

SHARED = {
    "name": "shared",
    "grid": [
        # bruteforce n = 18: about 0.05 s a run, so a killed sweep is caught mid-way
        {
            "kind": "subset_sum",
            "n": 18,
            "solver": "bruteforce",
            "instances": 30,
            "seed": list(range(12)),
        },
        {
            "kind": "approximate",
            "target": [3, 5, 2],
            "values_per_input": [4, 8],
            "construction": ["pensia", "malach"],
            "seed": 0,
        },
    ],
}
"""One sweep run in-process, killed and resumed, on a process pool and on Dask."""


def table(rows):
    """run_id -> what a run computed (timings and provenance left out); checks uniqueness."""
    out = {r["run_id"]: (r["kind"], r["params"], r["result"]) for r in rows}
    assert len(out) == len(rows), "a run is stored twice"
    return out


def sweep_in(folder, data=SHARED):
    return Sweep.from_dict({**data, "output": str(folder)})


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The shared sweep, uninterrupted, in-process."""
    folder = tmp_path_factory.mktemp("reference")
    return table(load_results(run_sweep(sweep_in(folder), quiet=True)))


# --------------------------------------------------------------------------------------------
# Sweep files and run ids
# --------------------------------------------------------------------------------------------


def test_grid_expands_lists_in_the_order_written(tmp_path):
    sweep = Sweep.from_dict(
        {
            "output": "out",
            "grid": [
                {
                    "kind": "approximate",
                    "target": [4, 6, 2],
                    "seed": [0, 1],
                    "construction": ["pensia", "malach"],
                    "values_per_input": [[3, 5], 7],
                },
                {"kind": "subset_sum", "n": [4, 5, 6], "seed": 3},
            ],
        },
        base=tmp_path,
    )
    runs = sweep.runs()
    assert len(runs) == 2 * 2 * 2 + 3
    first = runs[:8]
    assert [r.params["seed"] for r in first] == [0] * 4 + [1] * 4
    assert [r.params["construction"] for r in first[:4]] == ["pensia"] * 2 + ["malach"] * 2
    assert [r.params["values_per_input"] for r in first[:2]] == [[3, 5], 7]
    assert all(r.params["target"] == [4, 6, 2] for r in first)  # a shape is not an axis
    assert [r.params["n"] for r in runs[8:]] == [4, 5, 6]
    assert runs[8].params == {
        "n": 4,
        "instances": 100,
        "distribution": "uniform",
        "products": False,
        "solver": "mitm",
        "seed": 3,
    }
    assert sweep.results_path == tmp_path / "out" / "results.jsonl"


def test_a_list_of_target_shapes_is_an_axis_and_duplicates_run_once():
    sweep = Sweep.from_dict(
        {
            "output": "out",
            "grid": [
                {"kind": "approximate", "target": [[3, 4, 2], [5, 2]], "eps": 0.5, "seed": 0},
                {
                    "kind": "approximate",
                    "target": [5, 2],
                    "eps": 0.5,
                    "seed": 0,
                    "construction": "pensia",
                    "radius": 1,
                },  # same run, defaults written out
            ],
        }
    )
    assert [r.params["target"] for r in sweep.runs()] == [[3, 4, 2], [5, 2]]


def test_run_id_is_the_sha256_of_canonical_json():
    params = {
        "n": 8,
        "instances": 100,
        "distribution": "uniform",
        "products": False,
        "solver": "mitm",
        "seed": 0,
    }
    canonical = (
        '{"distribution":"uniform","instances":100,"kind":"subset_sum","n":8,'
        '"products":false,"seed":0,"solver":"mitm"}'
    )
    assert run_id("subset_sum", params) == hashlib.sha256(canonical.encode()).hexdigest()[:16]
    run = Sweep.from_dict({"output": "o", "grid": {"kind": "subset_sum", "n": 8, "seed": 0}})
    assert run.runs()[0].run_id == run_id("subset_sum", params)


def test_run_id_changes_with_every_parameter():
    base = {"kind": "approximate", "target": [3, 4, 2], "values_per_input": 5, "seed": 0}
    changes = {
        "target": [3, 4, 3],
        "target_seed": 1,
        "spectral_norm": 0.5,
        "construction": "malach",
        "solver": "dp",
        "values_per_input": 6,
        "distribution": "gaussian",
        "radius": 0.5,
        "max_values_per_input": 100,
        "seed": 1,
    }
    ids = {Sweep.from_dict({"output": "o", "grid": base}).runs()[0].run_id}
    for key, value in changes.items():
        ids.add(Sweep.from_dict({"output": "o", "grid": {**base, key: value}}).runs()[0].run_id)
    assert len(ids) == len(changes) + 1
    eps = {k: v for k, v in base.items() if k != "values_per_input"} | {"eps": 0.1}
    assert Sweep.from_dict({"output": "o", "grid": eps}).runs()[0].run_id not in ids


def test_a_target_file_is_identified_by_its_bytes(tmp_path):
    net = ReLUNetwork.random((3, 4, 2), rng=5)
    net.to_npz(tmp_path / "a.npz")
    shutil.copy(tmp_path / "a.npz", tmp_path / "b.npz")
    ReLUNetwork.random((3, 4, 2), rng=6).to_npz(tmp_path / "c.npz")

    def only_run(name):
        grid = {"kind": "approximate", "target": name, "values_per_input": 4, "seed": 0}
        return Sweep.from_dict({"output": "o", "grid": grid}, base=tmp_path).runs()[0]

    a, b, c = only_run("a.npz"), only_run("b.npz"), only_run(str(tmp_path / "c.npz"))
    assert a.run_id == b.run_id != c.run_id
    assert (
        a.params["target_sha256"] == hashlib.sha256((tmp_path / "a.npz").read_bytes()).hexdigest()
    )
    assert np.array_equal(a.network.weights[0], net.weights[0])  # shipped with the run
    row = execute_run(a)  # the worker uses the shipped network, not the file
    direct = approximate(net, values_per_input=4, rng=0)
    assert row["result"]["certified"] == direct.report.certified


def test_from_toml_resolves_paths_against_its_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    ReLUNetwork.random((2, 3, 1), rng=0).to_npz(tmp_path / "sub" / "t.npz")
    path = tmp_path / "sub" / "my_sweep.toml"
    path.write_text(
        'output = "results"\n[[grid]]\nkind = "approximate"\ntarget = "t.npz"\n'
        "values_per_input = [2, 3]\nseed = 0\n"
    )
    sweep = Sweep.from_toml(path)
    assert sweep.name == "my_sweep"
    assert sweep.results_path == tmp_path / "sub" / "results" / "results.jsonl"
    assert [r.params["values_per_input"] for r in sweep.runs()] == [2, 3]


def test_example_sweeps_parse():
    from strong_lth.experiments import EXAMPLES

    sizes = {p.stem: len(Sweep.from_toml(p).runs()) for p in sorted(EXAMPLES.glob("*.toml"))}
    assert sizes == {"subset_sum": 28, "width_vs_error": 48}


APPROX = {"kind": "approximate", "target": [3, 4, 2], "values_per_input": 4, "seed": 0}
APPROX_EPS = {"kind": "approximate", "target": [3, 4, 2], "eps": 0.1, "seed": 0}
BAD_SWEEPS = [
    ({"output": "o"}, r"`grid` must be given; got nothing"),
    ({"output": "o", "grid": APPROX, "outptu": 1}, r"sweep keys must be among .*got 'outptu'"),
    ({"output": 3, "grid": APPROX}, r"`output` must be a folder name .*got 3"),
    ({"output": "o", "grid": []}, r"`grid` must be a non-empty list of tables; got \[\]"),
    ({"output": "o", "grid": [3]}, r"`grid\[0\]` must be a table; got 3"),
    ({"output": "o", "grid": {**APPROX, "kind": "train"}}, r"`grid\[0\].kind` must be one of"),
    (
        {"output": "o", "grid": {**APPROX, "epsilon": 0.1}},
        r"`grid\[0\]` keys for kind 'approximate' must be among .*got 'epsilon'",
    ),
    (
        {"output": "o", "grid": {**APPROX, "eps": 0.1}},
        r"`grid\[0\]` must give exactly one of `eps` .* got both",
    ),
    (
        {"output": "o", "grid": {**APPROX, "values_per_input": [[4, 5, 6]]}},
        r"`grid\[0\].values_per_input` must be an integer or a list of one integer per layer",
    ),
    (
        {"output": "o", "grid": {**APPROX, "values_per_input": [[4, 0]]}},
        r"`grid\[0\].values_per_input` must be in \[1, 512\]; got 0",
    ),
    (
        {"output": "o", "grid": {**APPROX, "seed": []}},
        r"`grid\[0\].seed` must be a value or a non-empty list; got \[\]",
    ),
    (
        {"output": "o", "grid": {k: v for k, v in APPROX.items() if k != "seed"}},
        r"`grid\[0\].seed` must be given; got nothing",
    ),
    (
        {"output": "o", "grid": {**APPROX, "target": [3]}},
        r"`grid\[0\].target` must be a shape of at least two positive integers",
    ),
    (
        {"output": "o", "grid": {**APPROX, "target": "missing.npz"}},
        r"`grid\[0\].target` must be a target shape or an existing .npz file; got 'missing.npz'",
    ),
    (
        {"output": "o", "grid": {**APPROX, "construction": "lottery"}},
        r"`grid\[0\].construction` must be one of 'pensia', 'malach', 'burkholz'; got 'lottery'",
    ),
    (
        {"output": "o", "grid": {**APPROX_EPS, "eps": -1.0}},
        r"`grid\[0\].eps` must be in \(0, inf\); got -1.0",
    ),
    (
        {"output": "o", "grid": {"kind": "subset_sum", "n": 30, "solver": "bruteforce", "seed": 0}},
        r"`grid\[0\].n` must be in \[1, 24\]; got 30",
    ),
    (
        {"output": "o", "grid": {"kind": "subset_sum", "n": 8, "seed": 0, "products": 1}},
        r"`grid\[0\].products` must be true or false; got 1",
    ),
    (
        {"output": "o", "grid": {"kind": "subset_sum", "n": 8, "seed": -1}},
        r"`grid\[0\].seed` must be in \[0, 9223372036854775807\]; got -1",
    ),
    (
        {
            "output": "o",
            "grid": {"kind": "subset_sum", "n": 8, "seed": 0, "distribution": "cauchy"},
        },
        r"`grid\[0\].distribution` must be one of 'uniform', 'gaussian', 'normal', "
        r"'hyperbolic'; got 'cauchy'",
    ),
]


@pytest.mark.parametrize(("data", "match"), BAD_SWEEPS)
def test_bad_sweeps_name_the_key(data, match):
    with pytest.raises(InvalidParameterError, match=match):
        Sweep.from_dict(data)


def test_target_seed_with_a_file_is_refused(tmp_path):
    ReLUNetwork.random((2, 3, 1), rng=0).to_npz(tmp_path / "t.npz")
    grid = {"kind": "approximate", "target": "t.npz", "target_seed": 1, "eps": 0.5, "seed": 0}
    with pytest.raises(InvalidParameterError, match=r"`grid\[0\].target_seed` must be left out"):
        Sweep.from_dict({"output": "o", "grid": grid}, base=tmp_path)


def test_bad_toml_files(tmp_path):
    with pytest.raises(InvalidParameterError, match=r"`path` must name a readable TOML file"):
        Sweep.from_toml(tmp_path / "absent.toml")
    (tmp_path / "bad.toml").write_text("output = \n")
    with pytest.raises(InvalidParameterError, match=r"`path` must be a valid TOML file; got .*"):
        Sweep.from_toml(tmp_path / "bad.toml")
    (tmp_path / "key.toml").write_text('output = "o"\n[[grid]]\nkind = "subset_sum"\nn = 4\n')
    with pytest.raises(InvalidParameterError, match=r"`grid\[0\].seed` must be given"):
        Sweep.from_toml(tmp_path / "key.toml")
    with pytest.raises(InvalidParameterError, match=r"`path` must be a file name; got 3"):
        Sweep.from_toml(3)
    with pytest.raises(InvalidParameterError, match=r"`data` must be a table \(dict\); got 3"):
        Sweep.from_dict(3)


# --------------------------------------------------------------------------------------------
# Runs and rows
# --------------------------------------------------------------------------------------------


def test_subset_sum_rows_hold_the_optima(tmp_path):
    grid = {"kind": "subset_sum", "n": 7, "instances": 12, "products": [False, True], "seed": 4}
    rows = load_results(run_sweep(sweep_in(tmp_path, {"grid": grid}), quiet=True))
    assert len(rows) == 2
    for row in rows:
        params, result = row["params"], row["result"]
        values, targets = subset_sum_instances(
            7, 12, products=params["products"], rng=params["seed"]
        )
        optima = [subset_sum_optimum(v, t)[0] for v, t in zip(values, targets)]
        np.testing.assert_allclose(result["errors"], optima, rtol=0, atol=1e-15)
        assert result["optimal"] and result["status_counts"] == {"OPTIMAL": 12}
        assert result["median_error"] == np.median(result["errors"])
        assert row["format"] == FORMAT and row["kind"] == "subset_sum"
        assert row["run_id"] == run_id("subset_sum", params)
        assert row["seconds"]["total"] >= row["seconds"]["solve"] > 0
        assert set(row["provenance"]) >= {"version", "python", "host", "started", "finished"}
        assert row["provenance"]["sweep"] == "sweep"


def test_subset_sum_instances_are_reproducible():
    a = subset_sum_instances(5, 3, products=True, distribution="gaussian", rng=2)
    b = subset_sum_instances(5, 3, products=True, distribution="gaussian", rng=2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    values, targets = subset_sum_instances(6, 400, products=True, rng=0)
    assert np.abs(values).max() <= 1 and np.abs(targets).max() <= 1
    with pytest.raises(InvalidParameterError, match=r"`products` must be True or False; got 1"):
        subset_sum_instances(5, 3, products=1, rng=0)
    with pytest.raises(
        InvalidParameterError,
        match=r"`max_bytes` must be at least 136000000000000 \(124 TiB\) to draw 1000000000000 "
        r"SubsetSum instances of 8 values; got 1073741824\.",
    ):
        subset_sum_instances(8, 10**12, rng=0)  # 8 bytes x 10^12 x (8 x 2 + 1)
    small = subset_sum_instances(4, 10, rng=0, max_bytes=8 * 10 * (4 * 2 + 1))
    assert all(np.array_equal(a, b) for a, b in zip(small, subset_sum_instances(4, 10, rng=0)))


def test_approximate_rows_match_a_direct_call(reference):
    rows = [(p, r) for kind, p, r in reference.values() if kind == "approximate"]
    assert len(rows) == 4
    target = ReLUNetwork.random((3, 5, 2), rng=0)
    for params, result in rows:
        ticket = approximate(
            target,
            values_per_input=params["values_per_input"],
            construction=params["construction"],
            rng=params["seed"],
        )
        assert result["certified"] == ticket.report.certified
        assert result["measured"] == ticket.report.measured <= result["certified"]
        assert result["values_per_input"] == list(ticket.values_per_input)
        n = params["values_per_input"]
        assert result["hidden_widths"] == [3 * n, 5 * n]
        assert result["kept_params"] == ticket.n_kept
        assert result["density"] == ticket.report.density


# --------------------------------------------------------------------------------------------
# Resume: re-runs skip stored runs, SIGKILL, half-written rows
# --------------------------------------------------------------------------------------------


def test_a_second_run_computes_nothing(tmp_path):
    sweep = sweep_in(tmp_path, {"grid": {"kind": "subset_sum", "n": [3, 4], "seed": 0}})
    path = run_sweep(sweep, quiet=True)
    before = path.read_bytes()
    assert run_sweep(sweep, quiet=True) == path
    assert path.read_bytes() == before


KILL = """
import json, sys
from strong_lth.experiments import Sweep, run_sweep
run_sweep(Sweep.from_dict(json.loads(sys.argv[1])), quiet=True)
"""


def test_a_sweep_killed_mid_way_resumes_without_loss_or_duplicate(tmp_path, reference):
    data = {**SHARED, "output": str(tmp_path)}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", KILL, json.dumps(data)], env=env)
    path = tmp_path / "results.jsonl"
    deadline = time.monotonic() + 120
    while not (path.exists() and path.read_bytes().count(b"\n") >= 1):
        assert proc.poll() is None, "the sweep ended before it could be killed"
        assert time.monotonic() < deadline, "no row within 120 s"
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    cut = not path.read_bytes().endswith(b"\n")  # killed during a write: rare, but allowed
    with pytest.warns(TruncatedRowWarning) if cut else contextlib.nullcontext():
        stored = load_results(path)
    assert 1 <= len(stored) < len(reference), "the kill did not land mid-way"
    run_sweep(Sweep.from_dict(data), quiet=True)
    assert table(load_results(path)) == reference


def test_half_written_last_row_is_ignored_then_repaired(tmp_path):
    sweep = sweep_in(tmp_path, {"grid": {"kind": "subset_sum", "n": [3, 4, 5], "seed": 1}})
    path = run_sweep(sweep, quiet=True)
    whole = path.read_bytes()
    complete = table(load_results(path))
    path.write_bytes(whole[: len(whole) - 40])  # the last row cut mid-write
    with pytest.warns(TruncatedRowWarning, match=r"line 3 of .* is half-written"):
        assert len(load_results(path)) == 2
    assert path.read_bytes() == whole[: len(whole) - 40]  # reading leaves the file alone
    with pytest.warns(TruncatedRowWarning, match="removed"):
        run_sweep(sweep, quiet=True)
    assert table(load_results(path)) == complete
    assert path.read_bytes().count(b"\n") == 3


def test_a_garbled_last_line_is_ignored_but_a_garbled_middle_line_raises(tmp_path):
    sweep = sweep_in(tmp_path, {"grid": {"kind": "subset_sum", "n": [3, 4], "seed": 1}})
    path = run_sweep(sweep, quiet=True)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(lines[0] + b'{"run_id": \n')
    with pytest.warns(TruncatedRowWarning, match="not a complete row"):
        assert len(load_results(path)) == 1
    path.write_bytes(lines[0] + b"garbage\n" + lines[1])
    with pytest.raises(InvalidParameterError, match=r"got an invalid line 2 in"):
        load_results(path)
    with pytest.raises(InvalidParameterError, match=r"got an invalid line 2 in"):
        run_sweep(sweep, quiet=True)
    with pytest.raises(InvalidParameterError, match=r"`path` must name an existing results file"):
        load_results(tmp_path / "none.jsonl")
    with pytest.raises(InvalidParameterError, match=r"`path` must be a file name; got None"):
        load_results(None)


def test_one_writer_at_a_time(tmp_path):
    with ResultsWriter(tmp_path / "r.jsonl"):
        with pytest.raises(StrongLTHError, match="is being written by another sweep"):
            ResultsWriter(tmp_path / "r.jsonl")
    with ResultsWriter(tmp_path / "r.jsonl") as writer:  # released on close
        assert writer.run_ids == set()


# --------------------------------------------------------------------------------------------
# Executors: process pool and Dask give the same table
# --------------------------------------------------------------------------------------------


def test_process_pool_gives_the_same_table(tmp_path, reference):
    path = run_sweep(sweep_in(tmp_path), processes=2, quiet=True)
    assert table(load_results(path)) == reference


def test_dask_local_cluster_gives_the_same_table(tmp_path, reference, local_cluster):
    distributed = pytest.importorskip("distributed")
    path = run_sweep(sweep_in(tmp_path), scheduler=local_cluster.scheduler_address, quiet=True)
    assert table(load_results(path)) == reference
    small = {"grid": {"kind": "subset_sum", "n": [3, 4], "seed": 0}}
    with distributed.Client(local_cluster) as client:  # a client is used, and left open
        other = run_sweep(sweep_in(tmp_path / "client", small), scheduler=client, quiet=True)
        assert client.status == "running"
    local = run_sweep(sweep_in(tmp_path / "local", small), quiet=True)
    assert table(load_results(other)) == table(load_results(local))
    rows = load_results(path)
    assert {r["provenance"]["pid"] for r in rows} != {os.getpid()}  # computed by the workers


def test_bad_run_sweep_arguments(tmp_path):
    sweep = sweep_in(tmp_path, {"grid": {"kind": "subset_sum", "n": 3, "seed": 0}})
    with pytest.raises(InvalidParameterError, match=r"`sweep` must be a Sweep; got dict"):
        run_sweep({})
    with pytest.raises(InvalidParameterError, match=r"`processes` must be in \[1, inf\]; got 0"):
        run_sweep(sweep, processes=0)
    with pytest.raises(InvalidParameterError, match=r"`processes` must be left out with a Dask"):
        run_sweep(sweep, processes=2, scheduler="tcp://127.0.0.1:1")
    with pytest.raises(InvalidParameterError, match=r"`scheduler` must be a Dask scheduler"):
        run_sweep(sweep, scheduler="localhost")
    with pytest.raises(InvalidParameterError, match=r"`scheduler` must be a Dask scheduler"):
        run_sweep(sweep, scheduler=8786)
    with pytest.raises(InvalidParameterError, match=r"`quiet` must be True or False; got 1"):
        run_sweep(sweep, quiet=1)
    with pytest.raises(InvalidParameterError, match=r"`output` must be a folder name; got 1"):
        run_sweep(sweep, output=1)
    assert not (tmp_path / "results.jsonl").exists()


# --------------------------------------------------------------------------------------------
# Progress bars (tqdm on stderr): shown on a terminal, silent otherwise or when quiet
# --------------------------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize(
    ("terminal", "quiet", "shown"),
    [(True, False, True), (True, True, False), (False, False, False)],
)
def test_sweep_progress_bar(tmp_path, monkeypatch, terminal, quiet, shown):
    stream = Terminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    sweep = sweep_in(
        tmp_path, {"name": "bar", "grid": {"kind": "subset_sum", "n": 3, "seed": [0, 1]}}
    )
    run_sweep(sweep, quiet=quiet, output=tmp_path / "out")
    assert ("sweep bar: 100%" in stream.getvalue()) == shown
    assert "2/2" in stream.getvalue() or not shown


@pytest.mark.parametrize(
    ("terminal", "progress", "shown"),
    [(True, True, True), (True, False, False), (False, True, False)],
)
def test_approximate_progress_bar(monkeypatch, terminal, progress, shown):
    monkeypatch.setattr(sys.modules["strong_lth._search"], "PROGRESS_DELAY", 0.0)
    stream = Terminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    approximate(ReLUNetwork.random((3, 4, 2), rng=0), eps=0.3, rng=0, progress=progress)
    assert ("approximate" in stream.getvalue()) == shown
    assert ("layer 2: n = " in stream.getvalue()) == shown


def test_approximate_progress_must_be_a_bool():
    with pytest.raises(InvalidParameterError, match=r"`progress` must be True or False; got 1"):
        approximate(ReLUNetwork.random((3, 4, 2), rng=0), eps=0.3, rng=0, progress=1)


# --------------------------------------------------------------------------------------------
# Size limits, output folder, row validation, orphaned workers (issue 18)
# --------------------------------------------------------------------------------------------


def test_a_huge_grid_is_refused_at_once_with_its_size():
    """960,000 points: refused before any point is built (it took minutes to expand)."""
    grid = {"kind": "subset_sum", "n": list(range(1, 25)), "seed": list(range(40_000))}
    start = time.perf_counter()
    with pytest.raises(
        InvalidParameterError,
        match=r"`max_runs` must be at least 960000 to expand this grid \(960000 runs by block\); "
        r"got 100000\. Raise it \(max_runs = 960000 in the sweep file, --max-runs on the "
        r"command line\) or split the sweep\.",
    ):
        Sweep.from_dict({"output": "o", "grid": grid})
    assert time.perf_counter() - start < 1.0
    small = Sweep.from_dict({"grid": {**grid, "seed": [0, 1]}, "max_runs": 48})
    assert small.size == 48 == len(small.runs())
    with pytest.raises(InvalidParameterError, match=r"`max_runs` must be in \[1, inf\]; got 0"):
        Sweep.from_dict({"grid": grid, "max_runs": 0})


def test_the_grid_is_expanded_lazily():
    sweep = Sweep.from_dict({"grid": {"kind": "subset_sum", "n": [3, 4, 3], "seed": [0, 1]}})
    runs = sweep.iter_runs()
    assert iter(runs) is runs  # a generator, not a list
    assert next(runs).params["n"] == 3
    assert sweep.size == 6 and len(sweep.runs()) == 4  # duplicates merged


def test_absurd_run_sizes_are_refused_with_an_estimate():
    huge = {"kind": "subset_sum", "n": 8, "instances": 10**12, "seed": 0}
    with pytest.raises(
        InvalidParameterError,
        match=r"`max_bytes` must be at least 184000000000000 \(167 TiB\) to run grid\[0\] with "
        r"\{'n': 8, 'instances': 1000000000000, 'seed': 0\} \(estimated memory of one run; set "
        r"max_bytes in the sweep file or --max-bytes\); got 1073741824\.",
    ):
        Sweep.from_dict({"grid": huge})
    estimate = 10**6 * (8 * 8 * 2 + 24 + 32)  # instances x (values, targets/errors, row text)
    assert Sweep.from_dict({"grid": {**huge, "instances": 10**6}, "max_bytes": estimate})
    with pytest.raises(InvalidParameterError, match=r"`max_bytes` must be at least"):
        Sweep.from_dict({"grid": {**huge, "instances": 10**6}, "max_bytes": estimate - 1})
    wide = {"kind": "approximate", "target": [100_000] * 3, "eps": 0.1, "seed": 0}
    # the target's float64 weights, drawn then rescaled: 16 bytes x 2 x 10^10
    with pytest.raises(InvalidParameterError, match=r"at least 320000000000 \(298 GiB\)"):
        Sweep.from_dict({"grid": wide})


def test_a_sweep_file_cannot_write_outside_its_folder(tmp_path):
    folder = tmp_path / "sweeps"
    folder.mkdir()
    grid = '[[grid]]\nkind = "subset_sum"\nn = 3\nseed = 0\n'
    for output in ("../../x", "/tmp/x", "a/../../x"):
        (folder / "s.toml").write_text(f'output = "{output}"\n{grid}')
        with pytest.raises(InvalidParameterError, match=r"`output` must be a folder inside"):
            Sweep.from_toml(folder / "s.toml")
    (folder / "s.toml").write_text(f'output = "a/../b"\n{grid}')
    assert Sweep.from_toml(folder / "s.toml").results_path.parent.resolve() == folder / "b"
    # No output in the file: run_sweep(output=...) gives it, or the sweep cannot run.
    (folder / "s.toml").write_text(grid)
    sweep = Sweep.from_toml(folder / "s.toml")
    with pytest.raises(InvalidParameterError, match=r"`output` must be given, in the sweep"):
        run_sweep(sweep, quiet=True)
    path = run_sweep(sweep, quiet=True, output=tmp_path / "elsewhere")
    assert len(load_results(path)) == 1


def _without(table, key):
    return {k: v for k, v in table.items() if k != key}


BAD_ROWS = [
    (lambda row: {"run_id": 5}, r"`format` must be a str; got nothing"),
    (lambda row: _without(row, "params"), r"`params` must be a dict; got nothing"),
    (lambda row: {**row, "kind": "train"}, r"`kind` must be one of 'approximate', 'subset_sum'"),
    (lambda row: {**row, "format": "other/1"}, r"`format` must be 'strong_lth.results/1'; got"),
    (lambda row: {**row, "run_id": None}, r"`run_id` must be a str; got None"),
    (
        lambda row: {**row, "result": {**row["result"], "errors": [0.1, "x"]}},
        r"`result.errors` must be a non-empty real list; got \[0.1, 'x'\]",
    ),
    (
        lambda row: {**row, "result": _without(row["result"], "optimal")},
        r"`result.optimal` must be a bool; got nothing",
    ),
    (
        lambda row: {**row, "params": {**row["params"], "n": True}},
        r"`params.n` must be a int; got True",
    ),
]


@pytest.mark.parametrize(("change", "match"), BAD_ROWS)
def test_a_bad_row_is_reported_and_not_counted(tmp_path, change, match):
    sweep = sweep_in(tmp_path, {"grid": {"kind": "subset_sum", "n": [3, 4], "seed": 0}})
    path = run_sweep(sweep, quiet=True)
    rows = load_results(path)
    lines = path.read_bytes().split(b"\n")
    lines[0] = json.dumps(change(rows[0])).encode()
    path.write_bytes(b"\n".join(lines))
    with pytest.warns(
        InvalidRowWarning, match=r"line 1 of .* is not a valid result row \(" + match
    ):
        assert [r["run_id"] for r in load_results(path)] == [rows[1]["run_id"]]
    with pytest.warns(InvalidRowWarning):  # the run is not counted as stored: computed again
        run_sweep(sweep, quiet=True)
    with pytest.warns(InvalidRowWarning):
        assert sorted(r["run_id"] for r in load_results(path)) == sorted(r["run_id"] for r in rows)


def test_approximate_rows_with_lists_of_different_lengths_are_invalid():
    row = {
        "format": FORMAT, "run_id": "0" * 16, "kind": "approximate", "seconds": {},
        "provenance": {},
        "params": {"construction": "pensia", "solver": "mitm", "distribution": "uniform"},
        "result": {"d_in": [2, 3], "d_out": [3, 1], "values_per_input": [4],
                   "hidden_widths": [8, 12], "certified": 0.1, "measured": 0.05},
    }  # fmt: skip
    assert row_problem(row) == (
        "`result` lists must have one entry per layer; got lists of lengths 1, 2"
    )
    row["result"]["values_per_input"] = [4, 4]
    assert row_problem(row) is None


ORPHAN = """
import json, sys
from strong_lth.experiments import Sweep, run_sweep
run_sweep(Sweep.from_dict(json.loads(sys.argv[1])), processes=2, quiet=True)
"""


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to list processes")
def test_pool_workers_exit_when_their_driver_is_killed(tmp_path):
    grid = {"kind": "subset_sum", "n": 20, "solver": "bruteforce", "instances": 200}
    data = {"output": str(tmp_path), "grid": {**grid, "seed": list(range(1000))}}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", ORPHAN, json.dumps(data)], env=env)
    table = tmp_path / "results.jsonl"
    deadline = time.monotonic() + 180
    workers: list[int] = []
    # Kill once both workers have run (a worker still importing cannot watch its driver yet;
    # it checks as soon as its initializer runs): the pool's resource tracker is a child too.
    while time.monotonic() < deadline and not (
        len(workers) == 2 and table.exists() and table.read_bytes().count(b"\n") >= 4
    ):
        time.sleep(0.2)
        workers = [p for p in _children(proc.pid) if b"spawn_main" in _cmdline(p)]
    assert len(workers) == 2, "the pool did not start"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [p for p in workers if _alive(p)]
    for pid in left:  # do not leak them if the test fails
        os.kill(pid, signal.SIGKILL)
    assert not left, "pool workers outlived their driver by 10 s"


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""
