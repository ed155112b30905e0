"""The two tasks of docs/theory.md, section 7 and :func:`compare`, which fits the three models on
them."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .._validation import _fmt, check_choice, check_int, check_real, resolve_seed
from ..exceptions import InvalidParameterError
from ..networks import ReLUNetwork
from ._models import METHODS, NeuronSubnetwork, RandomFeatures, WeightSubnetwork

__all__ = ["MODELS", "TASKS", "FeatureTable", "Task", "compare", "make_task"]

TASKS = ("random_features", "relu_neuron")
MODELS = ("random_features", "neuron_subnetwork", "weight_subnetwork")

TARGET_FEATURES = 16
"""Hidden width ``k`` of the random-features target of task ``"random_features"``."""


@dataclass(frozen=True, eq=False)
class Task:
    """A target network and Gaussian train/test data labelled by it.

    Attributes
    ----------
    name : str
        ``"random_features"`` or ``"relu_neuron"`` (see :func:`make_task`).
    d, seed : int
        Input dimension; the seed the task was generated from.
    target : ReLUNetwork
        The two-layer target ``x -> a^T σ(W x)``.
    X_train, y_train, X_test, y_test : ndarray
        Inputs ``x ~ N(0, I_d)`` and ``y = target(x)``.
    """

    name: str
    d: int
    seed: int
    target: ReLUNetwork
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def make_task(name, *, d, rng=None, n_train=2048, n_test=2048) -> Task:
    """Generate one task from a seed.

    Parameters
    ----------
    name : {"random_features", "relu_neuron"}
        ``"random_features"``, task (a): ``f(x) = aᵀ σ(W x)`` with 16 features, ``W`` with
        Uniform[-1, 1] entries (the models' feature distribution) and ``a`` with Uniform[-1, 1]
        entries, each layer then scaled to spectral norm 1 (bounded output weights,
        ``‖a‖₂ = 1``). ``"relu_neuron"``, task (b): ``f(x) = σ(⟨w*, x⟩)``, ``w*`` uniform on
        the unit sphere.
    d : int
        Input dimension ``>= 1``.
    rng : None, int or numpy.random.Generator
        Seed of the target and the data.
    n_train, n_test : int
        Number of training and test points (``>= 1``).

    Returns
    -------
    Task

    Raises
    ------
    InvalidParameterError
        Unknown name or bad size.

    Notes
    -----
    Both targets meet the assumptions of [P]: no biases, every layer of spectral norm 1, so the
    weight-subnetwork's certificate holds as stated (on ``‖x‖ <= 1``, and scaled by ``‖x‖``
    beyond, since both targets are positively homogeneous). Task (b) is the target of [YS]
    (Yehudai & Shamir 2019): random features need a width exponential in ``d`` to reach a small
    error on it.

    Examples
    --------
    >>> task = make_task("relu_neuron", d=8, rng=0, n_train=10, n_test=5)
    >>> task.target.widths, task.X_train.shape, task.y_test.shape
    ((8, 1, 1), (10, 8), (5,))
    """
    name = check_choice("task", name, TASKS)
    d = check_int("d", d, low=1)
    n_train = check_int("n_train", n_train, low=1)
    n_test = check_int("n_test", n_test, low=1)
    seed = resolve_seed(rng)
    generator = np.random.default_rng(seed)
    if name == "relu_neuron":
        first = generator.standard_normal((1, d))
        target = ReLUNetwork([first / np.linalg.norm(first), np.ones((1, 1))])
    else:
        first = generator.uniform(-1.0, 1.0, (TARGET_FEATURES, d))
        second = generator.uniform(-1.0, 1.0, (1, TARGET_FEATURES))
        target = ReLUNetwork([first / np.linalg.norm(first, 2), second / np.linalg.norm(second)])
    X = generator.standard_normal((n_train + n_test, d))
    y = target.forward(X)[:, 0]
    return Task(name, d, seed, target, X[:n_train], y[:n_train], X[n_train:], y[n_train:])


@dataclass(frozen=True)
class FeatureTable:
    """Rows of :func:`compare`: one per task, d, seed, model, method and width.

    Each row is a dict with keys ``task, d, seed, model, method, width, random_params, kept,
    train_loss, test_loss, seconds, status``. Losses are ``1 - R²`` (the fraction of the
    variance of ``y`` left unexplained) on the training and the test points; ``width`` the
    number of neurons of the first random layer (``d n`` for the weight-subnetwork, whose random
    network has ``n`` values per input); ``random_params``
    counts the random weights the model draws; ``kept`` the neurons (weights, for the
    weight-subnetwork) it uses; ``seconds`` the fit time; ``status`` the mask search's
    (neuron-subnetwork only). Tables add up with ``+``.
    """

    rows: tuple[dict, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "rows", tuple(dict(row) for row in self.rows))

    def __len__(self) -> int:
        return len(self.rows)

    def __add__(self, other: FeatureTable) -> FeatureTable:
        return FeatureTable(self.rows + other.rows)

    def to_dict(self) -> dict:
        """``{"rows": [...]}``, JSON-ready; :meth:`from_dict` reads it back."""
        return {"rows": [dict(row) for row in self.rows]}

    @classmethod
    def from_dict(cls, data: dict) -> FeatureTable:
        """The table of :meth:`to_dict`'s output."""
        return cls(tuple(data["rows"]))

    def select(self, **where) -> FeatureTable:
        """The rows whose fields equal the given values: ``select(model="random_features")``."""
        return FeatureTable(tuple(r for r in self.rows if all(r[k] == v for k, v in where.items())))

    def curves(self, *, key="width", split="test") -> dict:
        """Median, minimum and maximum loss over seeds against ``key``.

        Returns ``{(task, d, model, method): (x, median, low, high)}``, arrays sorted by ``x``.
        """
        key = check_choice("key", key, ("width", "random_params"))
        split = check_choice("split", split, ("train", "test"))
        groups: dict = {}
        for row in self.rows:
            curve = groups.setdefault((row["task"], row["d"], row["model"], row["method"]), {})
            curve.setdefault(row[key], []).append(row[f"{split}_loss"])
        out = {}
        for name, curve in groups.items():
            x = np.array(sorted(curve))
            losses = [np.array(curve[v]) for v in x]
            out[name] = (
                x,
                np.array([np.median(v) for v in losses]),
                np.array([v.min() for v in losses]),
                np.array([v.max() for v in losses]),
            )
        return out

    def smallest(self, loss, *, key="width", split="test") -> tuple[dict, ...]:
        """Per task, d, model and method: the smallest ``key`` (width or random parameters) whose
        median loss over seeds is at most ``loss`` (None if no tested one is)."""
        loss = check_real("loss", loss, low=0.0)
        rows = []
        for (task, d, model, method), (x, median, _, _) in self.curves(
            key=key, split=split
        ).items():
            reached = x[median <= loss]
            value = int(reached[0]) if reached.size else None
            rows.append({"task": task, "d": d, "model": model, "method": method, key: value})
        return tuple(rows)


def _ints(name, values, low):
    if isinstance(values, str) or not isinstance(values, Iterable):
        values = [values]
    values = list(values)
    if not values:
        raise InvalidParameterError(f"`{name}` must hold at least one integer; got {_fmt(values)}.")
    return [check_int(f"{name}[{i}]", v, low=low) for i, v in enumerate(values)]


def _names(name, values, choices):
    values = [values] if isinstance(values, str) else list(values)
    return [check_choice(name, v, choices) for v in values]


def _model_seed(seed: int) -> int:
    """The models' seed for data seed ``seed``: a second, independent stream."""
    return int(np.random.SeedSequence([seed, 1]).generate_state(1, np.uint64)[0] >> np.uint64(1))


def compare(
    task,
    widths,
    *,
    seeds,
    d=4,
    models=MODELS,
    methods=("local",),
    values_per_input=(2, 4, 8, 16),
    ridge=1e-3,
    n_train=2048,
    n_test=2048,
    time_limit=None,
    progress=False,
) -> FeatureTable:
    """Fit random features, neuron-subnetworks and weight-subnetworks on one task.

    Parameters
    ----------
    task : {"random_features", "relu_neuron"}
        See :func:`make_task`.
    widths : int or sequence of int
        Widths of :class:`RandomFeatures` and :class:`NeuronSubnetwork`.
    seeds : int or sequence of int
        One task (target and data) per seed and dimension; the models get a seed derived from it.
    d : int or sequence of int
        Input dimensions.
    models : sequence of str
        Among ``"random_features"``, ``"neuron_subnetwork"``, ``"weight_subnetwork"``.
    methods : str or sequence of str
        Mask searches of the neuron-subnetwork (one row each).
    values_per_input : int or sequence of int
        ``n`` of the weight-subnetwork (first random layer of width ``d n``).
    ridge : float
        Ridge of the random-features fit, relative to the number of training points
        (``λ = ridge · n_train``). The default 1e-3 keeps the test loss from spiking where the
        width approaches ``n_train`` (the interpolation threshold) at a small cost below it.
    n_train, n_test : int
        Data sizes.
    time_limit : float, optional
        Seconds per neuron-subnetwork mask search.
    progress : bool
        Print each row to stderr.

    Returns
    -------
    FeatureTable

    Raises
    ------
    InvalidParameterError
        Bad input; ``method="cpsat"`` with a width above its limit.

    Notes
    -----
    docs/theory.md, section 7, [M] section 3, [YS]. Losses are ``1 - R²`` on the task's data. Random
    parameters: ``width · d`` for random features (the output weights are trained),
    ``width · (d + 1)`` for a neuron-subnetwork, every weight of the 2l-deep random network for
    a weight-subnetwork.

    Examples
    --------
    >>> table = compare("relu_neuron", [8, 32], seeds=[0], d=2, methods="greedy",
    ...                 values_per_input=[4], n_train=64, n_test=64)
    >>> [(r["model"], r["width"]) for r in table.rows]  # doctest: +NORMALIZE_WHITESPACE
    [('random_features', 8), ('neuron_subnetwork', 8), ('random_features', 32),
     ('neuron_subnetwork', 32), ('weight_subnetwork', 8)]
    """
    task = check_choice("task", task, TASKS)
    widths = _ints("widths", widths, 1)
    seeds = _ints("seeds", seeds, 0)
    dims = _ints("d", d, 1)
    models = _names("models", models, MODELS)
    methods = _names("methods", methods, METHODS)
    values = _ints("values_per_input", values_per_input, 1)
    ridge = check_real("ridge", ridge, low=0.0)
    # Constructing the models validates widths against methods, time_limit, ... up front.
    for width in widths:
        for method in methods if "neuron_subnetwork" in models else ():
            NeuronSubnetwork(width, method=method, time_limit=time_limit)
    rows = []
    for dim in dims:
        for seed in seeds:
            data = make_task(task, d=dim, rng=seed, n_train=n_train, n_test=n_test)
            model_seed = _model_seed(seed)
            candidates = []
            for width in widths:
                if "random_features" in models:
                    model = RandomFeatures(width, ridge=ridge * n_train, rng=model_seed)
                    candidates.append((model, "ridge" if ridge else "lstsq", width))
                for method in methods if "neuron_subnetwork" in models else ():
                    model = NeuronSubnetwork(
                        width, method=method, time_limit=time_limit, rng=model_seed
                    )
                    candidates.append((model, method, width))
            if "weight_subnetwork" in models:
                candidates += [
                    (WeightSubnetwork(n, rng=model_seed), "mitm", dim * n) for n in values
                ]
            for model, method, width in candidates:
                row = _fit_row(model, data, method, width)
                rows.append({"task": task, "d": dim, "seed": seed, **row})
                if progress:
                    print(rows[-1], file=sys.stderr)
    return FeatureTable(tuple(rows))


def _fit_row(model, data: Task, method: str, width: int) -> dict:
    start = time.perf_counter()
    if isinstance(model, WeightSubnetwork):
        model.fit(data.target)
        kept = model.ticket_.n_kept
    else:
        model.fit(data.X_train, data.y_train)
        kept = int(model.mask_.sum()) if isinstance(model, NeuronSubnetwork) else width
    seconds = time.perf_counter() - start
    names = {RandomFeatures: "random_features", NeuronSubnetwork: "neuron_subnetwork"}
    return {
        "model": names.get(type(model), "weight_subnetwork"),
        "method": method,
        "width": int(width),
        "random_params": int(model.n_random_params_),
        "kept": int(kept),
        "train_loss": model.loss(data.X_train, data.y_train),
        "test_loss": model.loss(data.X_test, data.y_test),
        "seconds": seconds,
        "status": model.status_.name if isinstance(model, NeuronSubnetwork) else None,
    }
