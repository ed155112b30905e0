"""Tests of the one declaration of approximate's parameters, and of what reads it: the
signature of approximate, the CLI's flags and the keys of a sweep."""

import dataclasses
import inspect
import re

import pytest

import strong_lth._cluster as cluster
from strong_lth import InvalidParameterError, ReLUNetwork, approximate
from strong_lth.cli import _parser, main
from strong_lth.constructions import CONSTRUCTIONS
from strong_lth.experiments import Sweep
from strong_lth.experiments.kinds import APPROXIMATE_KEYS, DISTRIBUTIONS, RECORDED_IF_SET
from strong_lth.parameters import DEFAULTS, ApproximateParameters, choices, public_name

FIELDS = dataclasses.fields(ApproximateParameters)


def approximate_flags():
    """``{dest: action}`` of `strong-lth approximate`."""
    return {a.dest: a for a in _subcommand("approximate")._actions}


def test_approximate_signature_is_the_declaration():
    signature = inspect.signature(approximate).parameters
    keywords = {k: p.default for k, p in signature.items() if k != "target"}
    assert keywords == {f.name: f.default for f in FIELDS} == dict(DEFAULTS)


def test_cli_flags_are_the_declared_fields_with_their_defaults():
    actions = approximate_flags()
    flagged = [f for f in FIELDS if f.metadata["cli"] is not None]
    # every field is a flag unless it says why not
    assert all(f.metadata.get("reason") for f in FIELDS if f.metadata["cli"] is None)
    cli_parameters = {
        dest
        for dest, a in actions.items()
        if dest not in {"help", "target", "target_seed", "target_bias", "out", "quiet"}
        and dest not in {"max_bytes", "json"}
    }
    assert cli_parameters == {f.name for f in flagged}
    for f in flagged:
        action = actions[f.name]
        name = public_name(f).replace("_", "-")
        expected = f"--no-{name}" if f.metadata["cli"] == "flag" else f"--{name}"
        assert action.option_strings == [expected]
        assert action.default == f.metadata.get("cli_default", f.default)


def test_sweep_keys_are_declared_fields():
    names = {public_name(f): f for f in FIELDS}
    swept = [k for k in APPROXIMATE_KEYS if k not in {"target", "target_seed", "spectral_norm"}]
    assert set(swept) <= set(names)
    assert set(swept) == {public_name(f) for f in FIELDS if f.metadata["sweep"]}
    assert set(RECORDED_IF_SET) <= set(swept)
    assert DISTRIBUTIONS == choices("distribution")


def test_sweep_defaults_come_from_the_declaration():
    run = Sweep.from_dict(
        {"grid": [{"kind": "approximate", "target": [3, 4, 2], "eps": 0.1, "seed": 0}]}
    ).runs()[0]
    for key, value in run.params.items():
        if key in names_of_fields():
            assert value == DEFAULTS[names_of_fields()[key]] or key in {"eps", "seed"}
    assert not set(RECORDED_IF_SET) & set(run.params)  # defaults: the old run ids stay
    sparse = Sweep.from_dict(
        {
            "grid": [
                {
                    "kind": "approximate",
                    "target": [3, 4, 2],
                    "eps": 0.1,
                    "seed": 0,
                    "source_density": 0.5,
                    "distribution": "hyperbolic",
                    "subset_size": 2,
                }
            ]
        }
    ).runs()[0]
    assert sparse.params["source_density"] == 0.5 and sparse.params["subset_size"] == 2
    assert sparse.params["distribution"] == "hyperbolic"


def names_of_fields():
    return {public_name(f): f.name for f in FIELDS}


def test_a_sweep_refuses_an_option_its_construction_does_not_take():
    grid = {
        "kind": "approximate",
        "target": [3, 2],
        "eps": 0.1,
        "seed": 0,
        "construction": "malach",
        "subset_size": 2,
    }
    with pytest.raises(InvalidParameterError, match=r"`grid\[0\]`: `subset_size` is supported"):
        Sweep.from_dict({"grid": [grid]}).runs()


def test_parameters_are_canonical():
    p = ApproximateParameters(values_per_input=3, distribution="normal", rng=7)
    assert p.distribution.name == "gaussian" and p.rng == 7
    assert isinstance(ApproximateParameters(eps=0.1).rng, int)  # a drawn seed, recorded


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, r"exactly one of `eps`"),
        ({"eps": 0.1, "construction": "burkholz2"}, r"`construction` must be one of 'pensia'"),
        ({"eps": 0.1, "subset_size": 0}, r"`subset_size` must be in \[1, inf\]; got 0"),
        ({"eps": 0.1, "subset_size": 1.5}, r"`subset_size` must be an integer"),
        ({"eps": 0.1, "source_density": 0}, r"`source_density` must be in \(0, 1\]; got 0"),
        ({"eps": 0.1, "source_density": 1.5}, r"`source_density` must be in \(0, 1\]; got 1.5"),
        (
            {"eps": 0.1, "construction": "malach", "subset_size": 2},
            r"`subset_size` is supported by construction\(s\) \['pensia'\]; got subset_size=2 "
            r"with construction 'malach'",
        ),
        ({"eps": 0.1, "measure": 1}, r"`measure` must be True or False; got 1"),
        ({"eps": 0.1, "fewest": "no"}, r"`fewest` must be True or False; got 'no'"),
        (
            {"values_per_input": 4, "fewest": False},
            r"`fewest` must be True in fixed mode \(.*\); got fewest=False without eps",
        ),
        (
            {"eps": 0.1, "fewest": False, "max_subset_size": 3},
            r"`fewest` must be True with `max_subset_size` \(the cap bounds the fewest values\); "
            r"got fewest=False with max_subset_size=3",
        ),
        (
            {"eps": 0.1, "fewest": False, "subset_size": 2},
            r"`fewest` must be True with `subset_size` .*; got fewest=False with subset_size=2",
        ),
        (
            {"eps": 0.1, "construction": "malach", "fewest": False},
            r"`fewest` is supported by construction\(s\) \['pensia', 'burkholz'\]; got "
            r"fewest=False with construction 'malach'",
        ),
        (
            {"eps": 0.1, "scheduler": "localhost:8786"},
            r"`scheduler` must be a Dask scheduler address such as 'tcp://host:8786' or a "
            r"distributed.Client; got 'localhost:8786'",
        ),
    ],
)
def test_bad_options_name_the_parameter(options, message):
    with pytest.raises(InvalidParameterError, match=message):
        ApproximateParameters(**options)
    target = ReLUNetwork.random((3, 2), rng=0)
    with pytest.raises(InvalidParameterError, match=message):
        approximate(target, **options)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--construction", "nope"], "`construction` must be one of"),
        (["--subset-size", "0"], r"`subset_size` must be in \[1, inf\]"),
        (["--source-density", "2"], r"`source_density` must be in \(0, 1\]"),
        (["--construction", "malach", "--subset-size", "2"], "`subset_size` is supported by"),
        (["--no-fewest", "--max-subset-size", "2"], "`fewest` must be True with `max_subset_size`"),
        (["--construction", "malach", "--no-fewest"], "`fewest` is supported by"),
        (["--scheduler", "localhost:8786"], "`scheduler` must be a Dask scheduler address"),
        (
            ["--scheduler", "tcp://127.0.0.1:1"],  # a closed port: refused within CONNECT_SECONDS
            r"`scheduler` must be the address of a running Dask scheduler; none answered at "
            r"'tcp://127.0.0.1:1' within 1 s",
        ),
        (  # burkholz takes a scheduler too: it is connected to, not refused
            ["--construction", "burkholz", "--scheduler", "tcp://127.0.0.1:1"],
            r"`scheduler` must be the address of a running Dask scheduler; none answered at",
        ),
    ],
)
def test_cli_bad_options_exit_2_with_one_line(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 1.0)
    out = tmp_path / "t.npz"
    status = main(["approximate", "3,2", "--eps", "0.1", "--out", str(out), "--quiet", *argv])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and err.startswith("strong-lth: ")
    assert re.search(message, err)


def test_every_registered_construction_declares_what_the_options_need():
    for name, declared in CONSTRUCTIONS.items():
        assert declared.name == name and "arXiv:" in declared.paper
        assert declared.options <= {"solver", *(f.name for f in FIELDS)}
        for depth in (1, 2, 3):
            shapes = declared.shapes((3,) * (depth + 1), (2,) * depth)
            assert len(shapes) == declared.depth(depth)


def test_demo_takes_the_construction_options(capsys, tmp_path):
    """The demo's option flags come from the same declaration and reach approximate."""
    actions = {a.dest for a in _subcommand("demo")._actions}
    assert {"construction", "distribution", "subset_size", "source_density"} <= actions
    status = main(["demo", "--source-density", "0", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert status == 2 and re.search(r"`source_density` must be in \(0, 1\]; got 0", err)


def _subcommand(name):
    commands = next(a for a in _parser()._actions if a.dest == "command")
    return commands.choices[name]
