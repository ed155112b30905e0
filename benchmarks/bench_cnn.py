"""Benchmark a convolutional target: the digits CNN, ticket at the ε that keeps every prediction.

The target is trained by ``strong_lth.datasets.train_conv_target`` (NumPy, seeded) on
scikit-learn's 8x8 digits (inputs on the unit sphere): ``Conv2d(1 -> 8, 3x3), ReLU,
Conv2d(8 -> 16, 3x3), ReLU, Flatten, Linear(256 -> 10)``, once without biases and once with
(``bias=True``: the ticket carries them on a constant input channel of value ``c``, reported,
and certifies over the augmented input, of radius ``sqrt(r^2 + 64 c^2)``). ``ε`` is
``margin_eps`` of the target on the test set (the largest certified error that keeps every test
prediction), and ``approximate_conv(target, eps=ε, rng=1)`` finds the ticket, for each target
as trained and ``balanced()`` (the same labels, every weighted layer's largest entry 1/2: the
random products ``u v`` are at most 1, so a trained entry of 1.5 is reached only by wide pools).

Reported: target and ticket test accuracy (the ticket's from its own pruned network), label
agreement, the largest output difference on the test set against the certified and measured
errors, per layer n and hidden channels ``C_in n`` against da Cunha et al.'s (ICLR 2022) bound
``C_in · C ln(C_in k_h k_w · O · l / min(ε, δ))`` with ``C = 1`` and ``δ = 0.01`` (and the C at
which it equals the width found), wall time and peak memory of ``approximate_conv`` (targets:
under 2 minutes and 2 GB).

BLAS runs on one thread (as ``bench_finders.py``): on the shared 2-core machine a threaded BLAS
made every SVD of the certificate up to 20 times slower.

Usage: ``python benchmarks/bench_cnn.py``; saves benchmarks/results/cnn.json.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import time

import numpy as np
from _common import PEAK_MB, markdown_table, save

from strong_lth import bounds
from strong_lth._approximate_conv import approximate_conv
from strong_lth.datasets import digits, margin_eps, train_conv_target
from strong_lth.subset_sum import warmup

DELTA, C = 0.01, 1.0
"""Failure probability and universal constant of the paper's bound, stated explicitly."""
SECONDS, MEGABYTES = 120, 2048
"""The issue's targets for one ``approximate_conv`` call on the 2-core machine."""


def run(target, data, label):
    """One ticket at the margin ε of ``target``: (summary row, layer rows, timings)."""
    eps = margin_eps(target, data.x_test, radius=data.radius)
    baseline = eval(PEAK_MB)
    start = time.perf_counter()
    ticket = approximate_conv(target, eps=eps, radius=data.radius, rng=1)
    seconds = time.perf_counter() - start
    peak = eval(PEAK_MB)
    report = ticket.report
    expected, outputs = target.forward(data.x_test), ticket.forward(data.x_test)
    target_labels, ticket_labels = expected.argmax(axis=1), outputs.argmax(axis=1)
    largest = float(np.linalg.norm(expected - outputs, axis=1).max())
    assert report.measured <= report.certified < eps, "certificate chain broken"
    assert largest <= report.certified, "a test input errs by more than the certificate"
    depth = len(report.layers)
    rows = []
    for i, row in enumerate(report.layers, start=1):
        o, c, kh, kw = row.kernel_shape
        n_bound = float(bounds.pensia_values_per_input(c * kh * kw, o, depth, eps, DELTA, C=C))
        rows.append(
            {
                "target": label,
                "layer": i,
                "kernel": "x".join(map(str, row.kernel_shape)),
                "n": row.values_per_input,
                "hidden channels C_in n": row.hidden_channels,
                "bound C_in C ln(...) (C=1)": round(c * n_bound, 1),
                "implied C": round(row.values_per_input / (n_bound / C), 2),
                "tau": f"{row.tau:.3g}",
                "||W||_op": f"{row.weight_norm:.3g}",
            }
        )
    summary = {
        "target": label,
        "target params": report.target_params,
        "c": "-" if report.input_constant is None else f"{report.input_constant:.3g}",
        "eps (margin)": f"{eps:.4g}",
        "certified": f"{report.certified:.4g}",
        "bound": min(report.bounds, key=report.bounds.get),
        "measured": f"{report.measured:.3g}",
        "max test output diff": f"{largest:.3g}",
        "target acc": f"{np.mean(target_labels == data.y_test):.4f}",
        "ticket acc": f"{np.mean(ticket_labels == data.y_test):.4f}",
        "agreement": f"{np.mean(target_labels == ticket_labels):.4f}",
        "random params": report.random_params,
        "kept params": report.kept_params,
        "seconds": round(seconds, 1),
        "peak MB": round(peak, 1),
        "baseline MB": round(baseline, 1),
    }
    times = {k: round(v, 1) for k, v in report.seconds.items()}
    return summary, rows, times


def main():
    warmup()
    data = digits(8)
    start = time.perf_counter()
    trained = train_conv_target(data.x_train, data.y_train, rng=0)
    biased = train_conv_target(data.x_train, data.y_train, rng=0, bias=True)
    train_seconds = time.perf_counter() - start
    summaries, layers, timings = [], [], {}
    targets = {
        "trained": trained,
        "balanced": trained.balanced(),
        "trained, biases": biased,
        "balanced, biases": biased.balanced(),
    }
    for label, target in targets.items():
        summary, rows, times = run(target, data, f"digits CNN ({label})")
        summaries.append(summary)
        layers += rows
        timings[label] = times
    print(markdown_table(summaries))
    print()
    print(markdown_table(layers))
    met = all(s["seconds"] < SECONDS and s["peak MB"] < MEGABYTES for s in summaries)
    print(
        f"\ntraining {train_seconds:.1f} s; timings {timings}; targets: {SECONDS} s and "
        f"{MEGABYTES} MB per call ({'met' if met else 'NOT met'})"
    )
    path = save(
        "cnn",
        {
            "summary": summaries,
            "layers": layers,
            "train_seconds": round(train_seconds, 1),
            "timings": timings,
            "delta": DELTA,
            "C": C,
        },
    )
    print(f"saved {path}")


if __name__ == "__main__":
    main()
