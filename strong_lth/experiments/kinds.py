"""Run kinds of a sweep: the parameters one run takes, and what it computes from them.

A kind is a triple of functions registered in :data:`KINDS`: ``params(raw, where, base)`` checks
one grid point and returns its canonical parameters (every default filled in, so that writing a
default or leaving it out gives the same run) and, for a target read from a file, the network
itself; ``estimate(params)`` is the run's memory in bytes, estimated before anything is
allocated; ``execute(params, network)`` computes the run and returns ``(result, seconds)``, both
JSON-ready dicts. ``param_types`` and ``result_types`` name the keys, and their JSON types, that
every stored row of the kind holds and the analysis reads (a row without them is not a run of
the kind, see :func:`~strong_lth.experiments.load_results`): ``"int"``, ``"real"``,
``"bool"``, ``"str"``, or a non-empty ``"int list"``/``"real list"``.

- ``"approximate"``: one call of :func:`strong_lth.approximate` (docs/theory.md, sections 3-5).
- ``"subset_sum"``: a batch of random SubsetSum instances solved by one method, the experiment
  behind the ``sqrt(n) 2^{-n}`` law and the constant ``C`` of [L] (docs/theory.md, section 6).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._approximate import approximate
from .._approximate_conv import check_conv_options
from .._validation import (
    DEFAULT_MAX_BYTES,
    _fmt,
    as_generator,
    check_bytes,
    check_choice,
    check_int,
    check_real,
)
from ..convnets import ConvNetwork, is_conv_file
from ..distributions import NAMES, get_distribution
from ..exceptions import InvalidParameterError, TheoryAssumptionWarning
from ..networks import ReLUNetwork
from ..parameters import DEFAULTS, ApproximateParameters, choices, public_name
from ..subset_sum import METHODS, Status, solve_batch

__all__ = ["KINDS", "RunKind", "subset_sum_instances"]

DISTRIBUTIONS = NAMES
"""Weight distributions a sweep names (:data:`strong_lth.distributions.NAMES`, each with its
default parameters)."""


@dataclass(frozen=True)
class RunKind:
    """A registered run kind: its parameter names, checker, memory estimate, computation and
    the keys of its results."""

    name: str
    keys: tuple[str, ...]
    params: Callable[[Mapping[str, Any], str, Path], tuple[dict, ReLUNetwork | None]]
    estimate: Callable[[dict], float]
    execute: Callable[[dict, ReLUNetwork | None], tuple[dict, dict]]
    param_types: Mapping[str, str]
    result_types: Mapping[str, str]


class _Checker:
    """Reads one grid point; every message names the key as ``grid[i].key``."""

    def __init__(self, raw: Mapping[str, Any], where: str, kind: str, keys: tuple[str, ...]):
        unknown = sorted(set(raw) - set(keys) - {"kind"})
        if unknown:
            listed = ", ".join(repr(k) for k in keys)
            raise InvalidParameterError(
                f"`{where}` keys for kind {kind!r} must be among {listed}; got {unknown[0]!r}."
            )
        self.raw, self.where = raw, where

    def name(self, key: str) -> str:
        return f"{self.where}.{key}"

    def required(self, key: str) -> Any:
        if key not in self.raw:
            raise InvalidParameterError(f"`{self.name(key)}` must be given; got nothing.")
        return self.raw[key]

    def int(self, key: str, default: Any = None, **limits) -> int:
        value = self.raw.get(key, default) if default is not None else self.required(key)
        return check_int(self.name(key), value, **limits)

    def real(self, key: str, default: Any = None, **limits) -> float:
        value = self.raw.get(key, default) if default is not None else self.required(key)
        return check_real(self.name(key), value, **limits)

    def choice(self, key: str, default: str, choices) -> str:
        return check_choice(self.name(key), self.raw.get(key, default), choices)

    def bool(self, key: str, default: bool) -> bool:
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            raise InvalidParameterError(f"`{self.name(key)}` must be true or false; got {value!r}.")
        return value


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------------
# approximate
# --------------------------------------------------------------------------------------------

_SWEPT = {
    public_name(item): item
    for item in dataclasses.fields(ApproximateParameters)
    if item.metadata["sweep"]
}
"""Sweep key -> the field of :class:`~strong_lth.parameters.ApproximateParameters` it sets."""

APPROXIMATE_KEYS = ("target", "target_seed", "spectral_norm", *_SWEPT)
"""Keys of an ``approximate`` grid point: the target's, then one per swept parameter."""

RECORDED_IF_SET = ("subset_size", "max_subset_size", "fewest", "source_density")
"""Keys stored in a run's ``params`` only when they differ from their defaults: they came after
the first sweeps, whose run ids (:func:`~strong_lth.experiments.run_id`) must stay the same."""


def _target(check: _Checker, base: Path):
    """``(params, network)`` of the target: a shape (sampled by the worker) or an .npz file
    (read here, by the driver, so that workers need no shared filesystem)."""
    target = check.required("target")
    if isinstance(target, str):
        path = Path(target) if Path(target).is_absolute() else base / target
        if not path.is_file():
            raise InvalidParameterError(
                f"`{check.name('target')}` must be a target shape or an existing .npz file; "
                f"got {target!r} (no file {str(path)!r})."
            )
        if "target_seed" in check.raw:
            raise InvalidParameterError(
                f"`{check.name('target_seed')}` must be left out for a target file; "
                f"got {check.raw['target_seed']!r} with {target!r}."
            )
        network = (ConvNetwork if is_conv_file(path) else ReLUNetwork).from_npz(path)
        norm = None
        if "spectral_norm" in check.raw and isinstance(network, ConvNetwork):
            raise InvalidParameterError(
                f"`{check.name('spectral_norm')}` must be left out for a convolutional target "
                f"file; got {check.raw['spectral_norm']!r} with {target!r}."
            )
        if "spectral_norm" in check.raw:
            norm = check.real("spectral_norm", low=0.0, low_open=True)
            network = network.scaled(norm)
        params = {"target": target, "target_sha256": _file_digest(path)}
        return {**params, "target_seed": None, "spectral_norm": norm}, network
    if (
        not isinstance(target, list | tuple)
        or len(target) < 2
        or not all(isinstance(w, int) and not isinstance(w, bool) and w >= 1 for w in target)
    ):
        raise InvalidParameterError(
            f"`{check.name('target')}` must be a shape of at least two positive integers (such "
            f"as [8, 16, 4]) or an .npz file name; got {_fmt(target)}."
        )
    params = {
        "target": [int(w) for w in target],
        "target_sha256": None,
        "target_seed": check.int("target_seed", 0, low=0),
        "spectral_norm": check.real("spectral_norm", 1.0, low=0.0, low_open=True),
    }
    return params, None


def _approximate_params(raw, where, base):
    check = _Checker(raw, where, "approximate", APPROXIMATE_KEYS)
    params, network = _target(check, base)
    if isinstance(network, ConvNetwork):
        depth = len(network.weighted)
    else:
        depth = network.depth if network is not None else len(params["target"]) - 1
    if ("eps" in raw) == ("values_per_input" in raw):
        raise InvalidParameterError(
            f"`{where}` must give exactly one of `eps` (automatic mode) and `values_per_input` "
            f"(fixed width); got {'both' if 'eps' in raw else 'neither'}."
        )
    cap = check.int("max_values_per_input", DEFAULTS["max_values_per_input"], low=1)
    values = raw.get("values_per_input")
    if values is not None:
        if isinstance(values, list | tuple):
            if len(values) != depth:
                raise InvalidParameterError(
                    f"`{check.name('values_per_input')}` must be an integer or a list of one "
                    f"integer per layer ({depth}); got {_fmt(values)}."
                )
            values = [check_int(check.name("values_per_input"), n, low=1, high=cap) for n in values]
        else:
            values = check_int(check.name("values_per_input"), values, low=1, high=cap)
    distribution = check.choice("distribution", DEFAULTS["distribution"], DISTRIBUTIONS)
    subset_size, max_subset_size = raw.get("subset_size"), raw.get("max_subset_size")
    params |= {
        "construction": check.choice(
            "construction", DEFAULTS["construction"], choices("construction")
        ),
        "solver": check.choice("solver", DEFAULTS["solver"], choices("solver")),
        "values_per_input": values,
        "eps": check.real("eps", low=0.0, low_open=True) if "eps" in raw else None,
        "distribution": get_distribution(distribution).name,
        "radius": check.real("radius", DEFAULTS["radius"], low=0.0, low_open=True),
        "max_values_per_input": cap,
        "seed": check.int("seed", low=0, high=2**63 - 1),
        "subset_size": None if subset_size is None else check.int("subset_size", low=1),
        "max_subset_size": (
            None if max_subset_size is None else check.int("max_subset_size", low=1)
        ),
        "fewest": check.bool("fewest", DEFAULTS["fewest"]),
        "source_density": check.real(
            "source_density", DEFAULTS["source_density"], low=0.0, high=1.0, low_open=True
        ),
    }
    try:  # what the parameters check beyond each key: options the construction supports
        options = ApproximateParameters(**{_SWEPT[key].name: params[key] for key in _SWEPT})
        if isinstance(network, ConvNetwork):
            check_conv_options(options)
    except InvalidParameterError as error:
        raise InvalidParameterError(f"`{where}`: {error}") from None
    for key in RECORDED_IF_SET:
        if params[key] == DEFAULTS[_SWEPT[key].name]:
            del params[key]
    return params, network


def _approximate_estimate(params) -> float:
    """Bytes of one ``approximate`` run, estimated: the target's float64 weights twice (drawn,
    then rescaled) for a shape, and for a fixed width the gadget weights and masks of every
    layer pair, ``d_{i-1} n_i (d_i + 1)`` entries each, float64 and twice over."""
    if params["target_sha256"]:
        return 0.0  # a file: already read by the driver, its size is what it is
    widths = [float(w) for w in params["target"]]
    total = 16.0 * sum(a * b for a, b in itertools.pairwise(widths))
    values = params["values_per_input"]
    if values is not None:
        per_layer = values if isinstance(values, list) else [values] * (len(widths) - 1)
        total += 16.0 * sum(
            a * float(n) * (b + 1) for a, b, n in zip(widths[:-1], widths[1:], per_layer)
        )
    return total


def _approximate_execute(params, network):
    if network is None:
        network = ReLUNetwork.random(
            params["target"], rng=params["target_seed"], spectral_norm=params["spectral_norm"]
        )
    with warnings.catch_warnings():  # the report records the violated assumptions
        warnings.simplefilter("ignore", TheoryAssumptionWarning)
        swept = {_SWEPT[key].name: params[key] for key in _SWEPT if key in params}
        ticket = approximate(network, **swept)
    if isinstance(network, ConvNetwork):
        return _conv_result(ticket.report), dict(ticket.report.seconds)
    report = ticket.report
    layers = report.layers
    result = {
        "target_widths": list(network.widths),
        "d_in": [r.d_in for r in layers],
        "d_out": [r.d_out for r in layers],
        "values_per_input": [r.values_per_input for r in layers],
        "hidden_widths": [r.hidden_width for r in layers],
        "max_weight_error": max(r.max_weight_error for r in layers),
        "layer_max_weight_error": [r.max_weight_error for r in layers],
        "tau": [r.tau for r in layers],
        "eta": [r.eta for r in layers],
        "budget_values_per_input": [r.budget_values_per_input for r in layers],
        "certified": report.certified,
        "measured": report.measured,
        "random_params": report.random_params,
        "kept_params": report.kept_params,
        "target_params": report.target_params,
        "random_multiple": report.random_multiple,
        "kept_multiple": report.kept_multiple,
        "density": report.density,
        "assumptions": list(report.assumptions),
    }
    return result, dict(report.seconds)


def _conv_result(report) -> dict:
    """The result row of a convolutional target (:class:`~strong_lth._approximate_conv.
    ConvReport`): ``d_in`` input channels and ``d_out`` output channels (units of a Linear)
    per weighted layer, ``hidden_widths`` the hidden channels ``C n``; for a target with biases
    the layers are the bias-augmented ones and ``input_constant`` is the constant channel's value
    ``c`` (None without biases)."""
    layers = report.layers
    return {
        "kernel_shapes": [list(r.kernel_shape) for r in layers],
        "d_in": [r.kernel_shape[1] for r in layers],
        "d_out": [r.kernel_shape[0] for r in layers],
        "values_per_input": [r.values_per_input for r in layers],
        "hidden_widths": [r.hidden_channels for r in layers],
        "max_weight_error": max(r.max_weight_error for r in layers),
        "layer_max_weight_error": [r.max_weight_error for r in layers],
        "tau": [r.tau for r in layers],
        "certified": report.certified,
        "measured": report.measured,
        "bounds": dict(report.bounds),
        "random_params": report.random_params,
        "kept_params": report.kept_params,
        "target_params": report.target_params,
        "input_constant": report.input_constant,
    }


# --------------------------------------------------------------------------------------------
# subset_sum
# --------------------------------------------------------------------------------------------

SUBSET_SUM_KEYS = ("n", "instances", "distribution", "products", "solver", "seed")


def subset_sum_instances(
    n, instances, *, distribution="uniform", products=False, rng, max_bytes=DEFAULT_MAX_BYTES
):
    """The random SubsetSum instances of a ``"subset_sum"`` run.

    Parameters
    ----------
    n : int
        Values per instance (``>= 1``).
    instances : int
        Number of instances (``>= 1``).
    distribution : str
        A name of :data:`DISTRIBUTIONS`: values from its distribution with default parameters.
    products : bool
        Each value is the product of two independent draws, as the values ``v · u`` of a
        Pensia gadget (docs/theory.md, section 3).
    rng : int or numpy.random.Generator
        Seed (the run's ``seed``).
    max_bytes : int or None
        Refuse instances whose float64 values (drawn twice with ``products``) and targets take
        more bytes (default 1 GiB); ``None``: no limit (a sweep checks its runs against its own
        ``max_bytes`` before they start).

    Returns
    -------
    values : ndarray, shape (instances, n)
    targets : ndarray, shape (instances,)
        Targets i.i.d. Uniform[-1, 1], the range every target weight of a spectral-norm-1 layer
        lies in.

    Raises
    ------
    InvalidParameterError
        On a bad argument, or instances above ``max_bytes`` (the message states the size).

    Notes
    -----
    Draw order (part of the results' reproducibility): ``instances x n`` open uniforms
    ``(k + 1/2) / 2^53``, ``k`` from ``Generator.integers``, mapped through the distribution's
    inverse CDF; with ``products`` a second such array multiplies the first; then the targets
    with ``Generator.uniform(-1, 1)``.

    Examples
    --------
    >>> values, targets = subset_sum_instances(4, 2, products=True, rng=0)
    >>> values.shape, targets.shape, bool(abs(values).max() <= 1)
    ((2, 4), (2,), True)
    """
    n = check_int("n", n, low=1)
    instances = check_int("instances", instances, low=1)
    law = get_distribution(check_choice("distribution", distribution, DISTRIBUTIONS))
    if not isinstance(products, bool):
        raise InvalidParameterError(f"`products` must be True or False; got {products!r}.")
    if max_bytes is not None:
        need = 8.0 * instances * (n * (3 if products else 2) + 1)
        check_bytes(need, max_bytes, f"draw {instances} SubsetSum instances of {n} values")
    gen = as_generator(rng)

    def draw():
        return law.from_uniform((gen.integers(0, 2**53, (instances, n)) + 0.5) / 2.0**53)

    values = draw() * draw() if products else draw()
    return values, gen.uniform(-1.0, 1.0, instances)


def _subset_sum_params(raw, where, base):
    check = _Checker(raw, where, "subset_sum", SUBSET_SUM_KEYS)
    solver = check.choice("solver", "mitm", METHODS)
    distribution = check.choice("distribution", "uniform", DISTRIBUTIONS)
    params = {
        "n": check.int("n", low=1, high=METHODS[solver].max_n),
        "instances": check.int("instances", 100, low=1),
        "distribution": get_distribution(distribution).name,
        "products": check.bool("products", False),
        "solver": solver,
        "seed": check.int("seed", low=0, high=2**63 - 1),
    }
    return params, None


def _subset_sum_estimate(params) -> float:
    """Bytes of one ``subset_sum`` run, estimated: ``instances x n`` float64 values (twice for
    products), the targets, errors and statuses, and about 32 bytes of row text per error."""
    n, instances = float(params["n"]), float(params["instances"])
    return instances * (8.0 * n * (3.0 if params["products"] else 2.0) + 3 * 8.0 + 32.0)


def _subset_sum_execute(params, network):
    values, targets = subset_sum_instances(
        params["n"],
        params["instances"],
        distribution=params["distribution"],
        products=params["products"],
        rng=params["seed"],
        max_bytes=None,  # checked by the sweep against its max_bytes
    )
    start = time.perf_counter()
    batch = solve_batch(values, targets, method=params["solver"], rng=params["seed"])
    seconds = {"solve": time.perf_counter() - start}
    errors = batch.errors
    counts = np.bincount(batch.status, minlength=len(Status))
    result = {
        "errors": errors.tolist(),
        "optimal": bool(np.all(batch.status == Status.OPTIMAL)),
        "status_counts": {s.name: int(counts[s]) for s in Status if counts[s]},
        "median_error": float(np.median(errors)),
        "mean_error": float(np.mean(errors)),
        "max_error": float(np.max(errors)),
    }
    return result, seconds


KINDS: dict[str, RunKind] = {
    "approximate": RunKind(
        "approximate",
        APPROXIMATE_KEYS,
        _approximate_params,
        _approximate_estimate,
        _approximate_execute,
        {"construction": "str", "solver": "str", "distribution": "str"},
        {
            "d_in": "int list",
            "d_out": "int list",
            "values_per_input": "int list",
            "hidden_widths": "int list",
            "certified": "real",
            "measured": "real",
        },
    ),
    "subset_sum": RunKind(
        "subset_sum",
        SUBSET_SUM_KEYS,
        _subset_sum_params,
        _subset_sum_estimate,
        _subset_sum_execute,
        {"n": "int", "distribution": "str", "products": "bool", "solver": "str"},
        {"errors": "real list", "optimal": "bool"},
    ),
}
"""Registry of run kinds by name (the ``kind`` of a grid table)."""
