"""Benchmark neuron-subnetworks against random features and weight-subnetworks (docs/theory.md §7).

Task ``relu_neuron`` (one ReLU neuron, Gaussian inputs, d = 2 to 32: the negative direction of
[M] section 3 and [YS]) and task ``random_features`` (a 16-feature random-features target, d = 4:
the positive direction). Per model, width and seed: train/test loss (1 - R²), random parameters,
fit time. Each method runs widths in increasing order until a fit takes more than 60 s (the
neuron-subnetwork's ``cpsat`` is capped at small widths, with a 60 s CP-SAT limit). Then, per d,
the smallest width (and number of random parameters) at which each model's median test loss
reaches ``FIXED_LOSS``.

References checked in the same run before anything is timed: ``cpsat`` against brute force
over all 2^12 masks, and a fitted neuron-subnetwork against the random-features model with
coefficients ``v ⊙ s`` (equal to 1e-12).

Usage: ``python benchmarks/bench_features.py [--quick]``; saves
benchmarks/results/features.json and one PNG per task (``features_<task>.png``).
"""

import argparse
import itertools
import os
import sys
import time

import numpy as np
from _common import RESULTS, markdown_table, save

from strong_lth.features import NeuronSubnetwork, RandomFeatures, compare
from strong_lth.plotting import features_figure

FIXED_LOSS = 0.01
"""Test loss 1 - R² (1% of the target's variance unexplained) whose width is reported per d."""
FIT_LIMIT = 60.0
"""Seconds per fit: a method stops at the first width where a fit takes longer."""

FULL = {
    "relu_neuron": {
        "d": (2, 4, 8, 16, 32),
        "seeds": (0, 1),
        "widths": (16, 64, 256, 1024, 4096),
        "cpsat_widths": (8, 16, 24),
        "values_per_input": (4, 8, 16, 24, 32, 48, 64),
    },
    "random_features": {
        "d": (4,),
        "seeds": (0, 1),
        "widths": (16, 64, 256, 1024, 4096),
        "cpsat_widths": (8, 16, 24),
        "values_per_input": (4, 8, 12, 16, 24, 32),
    },
}
QUICK = {
    "relu_neuron": {
        "d": (2, 8),
        "seeds": (0,),
        "widths": (16, 64, 256),
        "cpsat_widths": (8, 12),
        "values_per_input": (8, 24, 48),
    },
    "random_features": {
        "d": (4,),
        "seeds": (0,),
        "widths": (16, 64, 256),
        "cpsat_widths": (8, 12),
        "values_per_input": (8, 16, 24),
    },
}
DATA = {"full": (4096, 4096), "quick": (1024, 1024)}


def references() -> dict:
    """The answers every timed fit relies on, checked against independent computations."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 3))
    y = np.maximum(X @ rng.standard_normal(3), 0.0)
    cpsat = NeuronSubnetwork(12, method="cpsat", rng=1).fit(X, y)
    columns = np.maximum(X @ cpsat.weights_.T, 0.0) * cpsat.output_weights_
    brute = min(
        float(np.mean((columns[:, list(mask)].sum(axis=1) - y) ** 2))
        for mask in itertools.product((False, True), repeat=12)
    )
    if not (
        cpsat.status_.name == "OPTIMAL"
        and cpsat.objective_ <= brute + cpsat.quantization_bound_ + 1e-12
    ):
        raise AssertionError(f"cpsat {cpsat.objective_} != brute force {brute}")
    local = NeuronSubnetwork(256, rng=2).fit(X, y)
    features = RandomFeatures(256, rng=2).fit(X, y).transform(X)
    identity = float(
        np.abs(local.predict(X) - features @ (local.output_weights_ * local.mask_)).max()
    )
    if identity > 1e-12:
        raise AssertionError(f"neuron-subnetwork != random features: {identity}")
    return {"cpsat_vs_bruteforce_width12": [cpsat.objective_, brute], "identity_max_abs": identity}


def sweep(task: str, spec: dict, n_train: int, n_test: int):
    """Rows of every model, width by width, each method stopping after a fit over FIT_LIMIT."""
    runs = [
        ("random_features", None, spec["widths"]),
        ("weight_subnetwork", None, spec["values_per_input"]),
    ]
    runs += [("neuron_subnetwork", m, spec["widths"]) for m in ("greedy", "local")]
    runs += [("neuron_subnetwork", "cpsat", spec["cpsat_widths"])]
    table = None
    for d in spec["d"]:
        for model, method, sizes in runs:
            for size in sizes:
                kwargs = {"widths": [size]}
                if model == "weight_subnetwork":
                    kwargs = {"widths": [1], "values_per_input": [size]}
                part = compare(
                    task,
                    seeds=spec["seeds"],
                    d=d,
                    models=(model,),
                    methods=method or "local",
                    n_train=n_train,
                    n_test=n_test,
                    time_limit=FIT_LIMIT if method == "cpsat" else None,
                    **kwargs,
                )
                table = part if table is None else table + part
                slowest = max(r["seconds"] for r in part.rows)
                median = np.median([r["test_loss"] for r in part.rows])
                print(
                    f"{task} d={d} {model} {method or ''} size={size}: median test loss "
                    f"{median:.3e}, slowest fit {slowest:.1f} s",
                    flush=True,
                )
                if slowest > FIT_LIMIT:
                    break
    return table


def summary(table) -> list[dict]:
    """Median test loss and fit time per d, model, method and width."""
    groups = {}
    for r in table.rows:
        groups.setdefault((r["d"], r["model"], r["method"], r["width"]), []).append(r)
    rows = []
    for (d, model, method, width), rs in sorted(groups.items()):
        rows.append(
            {
                "d": d,
                "model": model,
                "method": method,
                "width": width,
                "random params": rs[0]["random_params"],
                "median train loss": f"{np.median([r['train_loss'] for r in rs]):.2e}",
                "median test loss": f"{np.median([r['test_loss'] for r in rs]):.2e}",
                "max fit (s)": f"{max(r['seconds'] for r in rs):.2f}",
                "status": "/".join(sorted({r["status"] for r in rs if r["status"]})) or "-",
            }
        )
    return rows


def needed(table) -> list[dict]:
    """Smallest width and random parameters reaching FIXED_LOSS, per d and model."""
    widths = table.smallest(FIXED_LOSS, key="width")
    params = table.smallest(FIXED_LOSS, key="random_params")
    rows = []
    for w, p in zip(widths, params, strict=True):
        label = f"{w['model']} ({w['method']})"
        rows.append(
            {
                "d": w["d"],
                "model": label,
                f"width for loss <= {FIXED_LOSS}": w["width"] or "not reached",
                "random params": p["random_params"] or "not reached",
            }
        )
    return sorted(rows, key=lambda r: (r["model"], r["d"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="two dimensions, small widths, one seed"
    )
    args = parser.parse_args()
    mode = "quick" if args.quick else "full"
    specs = QUICK if args.quick else FULL
    n_train, n_test = DATA[mode]
    load_before = os.getloadavg()
    start = time.perf_counter()
    checks = references()
    print("references:", checks)
    payload = {"mode": mode, "command": " ".join(["python", *sys.argv]), "checks": checks}
    payload.update({"n_train": n_train, "n_test": n_test, "fixed_loss": FIXED_LOSS, "tasks": {}})
    for task, spec in specs.items():
        table = sweep(task, spec, n_train, n_test)
        print(f"\n### {task}\n")
        print(markdown_table(summary(table)))
        print()
        print(markdown_table(needed(table)))
        key = "random_params" if task == "relu_neuron" else "width"
        RESULTS.mkdir(exist_ok=True)
        features_figure(table, key=key).savefig(RESULTS / f"features_{task}.png", dpi=110)
        payload["tasks"][task] = {"spec": spec, "table": table.to_dict(), "needed": needed(table)}
    payload["wall_s"] = time.perf_counter() - start
    payload["loadavg_before_after"] = [load_before, os.getloadavg()]
    print(
        f"\nwall {payload['wall_s']:.0f} s, load average before/after",
        *payload["loadavg_before_after"],
    )
    print("saved to", save("features", payload))


if __name__ == "__main__":
    main()
