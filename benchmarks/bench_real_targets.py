"""Benchmark real targets: trained digits networks, Pensia et al.'s MNIST protocol, our version.

1. Targets trained on scikit-learn's digits (inputs on the unit sphere, :mod:`strong_lth.datasets`):
   a 64-32-10 ``MLPClassifier`` (ReLU, biases) imported with ``ReLUNetwork.from_sklearn``, and a
   bias-free 784-500-10 network (Pensia et al.'s shape, 28x28 digits) trained by
   ``train_target``. Each is approximated in a fresh process by ``approximate(target, eps=ε,
   radius=1)`` on one fixed random network, at the ε of ``margin_eps`` (the largest certified
   error that keeps every test prediction), once as trained and once ``balanced()`` (the same
   labels, every layer's largest entry 1). Reported: test accuracy of the target and of the
   pruned network (from the ticket's own forward pass), label agreement, the largest output
   difference on the test set against the certified ε, random and kept parameter multiples,
   density, width per layer, wall time of ``approximate`` and peak memory. Checked before
   printing: measured <= certified < ε, and the ticket's sparse forward pass equals the dense
   pruned network.
2. Pensia et al.'s protocol exactly (docs/theory.md, section 8): every weight of the 784-500-10
   target is one SubsetSum instance over 21 values drawn i.i.d. from Uniform[min w, max w] (min and
   max over all the target's weights); the exact ``mitm`` solver finds every optimum, checked
   against brute force on a sample and by recomputing every sum from its mask. Reported: time
   against their 77,266 s on 36 cores, the share of weights within 0.01, the distribution of optimal
   errors, and the kept values per weight (their 9.39x remaining parameters).

Usage: ``python benchmarks/bench_real_targets.py [--quick]`` (``--quick``: the 64-32-10 target
only, the protocol on its weights); saves benchmarks/results/real_targets.json.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from _common import PEAK_MB, markdown_table, save, wall

from strong_lth import ReLUNetwork
from strong_lth.datasets import digits, train_target
from strong_lth.subset_sum import Status, solve_batch, warmup

PENSIA_SECONDS, PENSIA_CORES = 77_266, 36
"""Pensia et al.'s reported time for their 397,000 Gurobi MIPs (1% gap) and their core count."""
PENSIA_VALUES, PENSIA_EPS = 21, 0.01
PENSIA_KEPT_MULTIPLE, PENSIA_ACCURACY = 9.39, 0.9719
BRUTE_FORCE_SAMPLE = 2_000
"""Instances of the protocol re-solved by brute force (2^21 subsets each) as the reference."""
SAME_OPTIMUM = 1e-12
"""Two exact solvers report the same optimal error up to the rounding of sums of 21 terms of size
<= 1 (about 1e-15); a different optimum would differ by far more."""

RUN = """
import json, time, warnings
import numpy as np
from strong_lth import ReLUNetwork, TheoryAssumptionWarning, approximate
from strong_lth.datasets import digits, evaluate, margin_eps
from strong_lth.subset_sum import warmup
warmup()
data = digits({resolution})
trained = ReLUNetwork.from_npz({path!r})
target = trained.balanced() if {balance} else trained
labels = target.forward(data.x_test).argmax(axis=1)
assert np.array_equal(labels, trained.forward(data.x_test).argmax(axis=1))
eps = margin_eps(target, data.x_test, radius=data.radius)
warnings.simplefilter("ignore", TheoryAssumptionWarning)  # trained layers have norms > 1
start = time.perf_counter()
ticket = approximate(target, eps=eps, radius=data.radius, rng=1)
seconds = time.perf_counter() - start
start = time.perf_counter()
result = evaluate(target, ticket, data.x_test, data.y_test)
evaluate_seconds = time.perf_counter() - start
peak = {peak}
sample = data.x_test[:20]  # after the peak: the sparse forward pass is the dense pruned network
dense = ticket.pruned_network(max_bytes=2**31).forward(sample)
print(json.dumps({{
    "eps": eps, "report": ticket.report.to_dict(), "seconds": seconds, "peak_mb": peak,
    "evaluate_seconds": evaluate_seconds,
    "target_accuracy": result.target_accuracy, "pruned_accuracy": result.pruned_accuracy,
    "agreement": result.agreement, "max_output_difference": result.max_output_difference,
    "dense_gap": float(np.abs(dense - ticket.forward(sample)).max()),
    "dense_scale": float(np.abs(dense).max()),
}}))
"""


def sklearn_target(data):
    """64-32-10: scikit-learn's MLPClassifier (ReLU), seeded, imported as a ReLUNetwork."""
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(hidden_layer_sizes=(32,), max_iter=1000, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter is not an error here
        model.fit(data.x_train, data.y_train)
    return ReLUNetwork.from_sklearn(model)


def numpy_target(data):
    """784-500-10 without biases (Pensia et al.'s shape), plain-NumPy Adam, seeded."""
    return train_target(data.x_train, data.y_train, (500,), bias=False, rng=0, epochs=30)


TARGETS = {
    "64-32-10 (scikit-learn, biases)": (8, sklearn_target),
    "784-500-10 (bias-free, Pensia's shape)": (28, numpy_target),
}


def approximate_in_fresh_process(resolution, target, balance, directory):
    path = str(Path(directory) / f"target_{resolution}.npz")
    target.to_npz(path)
    code = RUN.format(resolution=resolution, path=path, balance=balance, peak=PEAK_MB)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def target_row(name, balance, train_seconds, result):
    report = result["report"]
    if not report["measured"] <= report["certified"] < result["eps"]:
        raise AssertionError(f"{name}: certificate chain broken")
    if not result["max_output_difference"] <= report["certified"]:
        raise AssertionError(f"{name}: a test output differs by more than the certified bound")
    if result["dense_gap"] > 1e-9 * max(1.0, result["dense_scale"]):
        raise AssertionError(f"{name}: sparse and dense pruned networks disagree")
    layers = report["layers"]
    return {
        "target": name,
        "as": "balanced" if balance else "trained",
        "train (s)": f"{train_seconds:.1f}",
        "target test acc": f"{result['target_accuracy']:.4f}",
        "pruned test acc": f"{result['pruned_accuracy']:.4f}",
        "label agreement": f"{result['agreement']:.4f}",
        "ε (margin)": f"{result['eps']:.3e}",
        "certified": f"{report['certified']:.3e}",
        "max test output diff": f"{result['max_output_difference']:.2e}",
        "measured worst case": f"{report['measured']:.2e}",
        "n per layer": "/".join(str(r["values_per_input"]) for r in layers),
        "hidden widths": "/".join(str(r["hidden_width"]) for r in layers),
        "random x": f"{report['random_multiple']:.1f}",
        "kept x": f"{report['kept_multiple']:.2f}",
        "density": f"{report['density']:.2%}",
        "wall (s)": f"{result['seconds']:.1f}",
        "evaluate (s)": f"{result['evaluate_seconds']:.1f}",
        "peak memory (MB)": f"{result['peak_mb']:.0f}",
    }


def pensia_protocol(target, name):
    """Pensia et al.'s per-weight job on ``target``, solved exactly; returns one summary dict."""
    weights = np.concatenate([w.ravel() for w in target.weights])
    low, high = float(weights.min()), float(weights.max())
    values = np.random.default_rng(0).uniform(low, high, (len(weights), PENSIA_VALUES))
    warmup()
    exact, seconds = wall(solve_batch, values, weights, method="mitm")
    within, within_seconds = wall(solve_batch, values, weights, method="mitm", tol=PENSIA_EPS)
    sample = slice(0, BRUTE_FORCE_SAMPLE)
    brute = solve_batch(values[sample], weights[sample], method="bruteforce")
    recomputed = np.abs(np.where(exact.masks, values, 0.0).sum(axis=1) - weights)
    if not (
        np.all(exact.status == Status.OPTIMAL)
        and np.abs(brute.errors - exact.errors[sample]).max() <= SAME_OPTIMUM
        and np.abs(recomputed - exact.errors).max() <= SAME_OPTIMUM
        and np.all(within.errors[exact.errors <= PENSIA_EPS] <= PENSIA_EPS)
        and np.all(within.errors >= exact.errors - SAME_OPTIMUM)
    ):
        raise AssertionError("the exact optimum failed its checks")
    errors = exact.errors
    quantiles = (0.5, 0.9, 0.99, 0.999, 1.0)
    kept = exact.masks.sum(axis=1)
    return {
        "target": name,
        "instances": len(weights),
        "values per weight": PENSIA_VALUES,
        "value range": f"[{low:.3f}, {high:.3f}]",
        "exact mitm (s)": f"{seconds:.2f}",
        "stop within 0.01 (s)": f"{within_seconds:.2f}",
        "Pensia et al. (s, 36 cores)": f"{PENSIA_SECONDS:,}",
        "speed-up": f"{PENSIA_SECONDS / seconds:,.0f}x",
        "within 0.01": f"{np.mean(errors <= PENSIA_EPS):.4%}",
        "optimal error quantiles (50/90/99/99.9/100%)": "/".join(
            f"{q:.1e}" for q in np.quantile(errors, quantiles)
        ),
        "median log2 error": f"{np.median(np.log2(np.maximum(errors, 1e-300))):.1f}",
        "kept values per weight (mean)": f"{kept.mean():.2f}",
        "brute-force reference": f"{BRUTE_FORCE_SAMPLE:,} equal",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the 64-32-10 target only")
    args = parser.parse_args()
    load = {"before": os.getloadavg()}
    targets = dict(list(TARGETS.items())[:1]) if args.quick else TARGETS
    rows, raw, protocol, trained = [], [], [], {}
    with tempfile.TemporaryDirectory() as directory:
        for name, (resolution, train) in targets.items():
            data = digits(resolution)
            start = time.perf_counter()
            trained[name] = train(data)
            train_seconds = time.perf_counter() - start
            for balance in (False, True):
                result = approximate_in_fresh_process(resolution, trained[name], balance, directory)
                raw.append({"target": name, "balanced": balance, **result})
                rows.append(target_row(name, balance, train_seconds, result))
                print(rows[-1], flush=True)
    name = list(targets)[-1]
    protocol.append(pensia_protocol(trained[name], name))
    print(protocol[-1], flush=True)
    load["after"] = os.getloadavg()
    print(markdown_table(rows))
    print()
    print(markdown_table(protocol))
    print("load average (1, 5, 15 min) before:", load["before"], "after:", load["after"])
    payload = {
        "quick": args.quick,
        "load_average": load,
        "targets": rows,
        "protocol": protocol,
        "raw": raw,
    }
    print("saved to", save("real_targets", payload))


if __name__ == "__main__":
    main()
