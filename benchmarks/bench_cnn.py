"""Benchmark a convolutional target: the digits CNN, ticket at the ε that keeps every prediction.

The target is trained by ``strong_lth.datasets.train_conv_target`` (NumPy, seeded, no biases) on
scikit-learn's 8x8 digits (inputs on the unit sphere): ``Conv2d(1 -> 8, 3x3), ReLU,
Conv2d(8 -> 16, 3x3), ReLU, Flatten, Linear(256 -> 10)``. ``ε`` is ``margin_eps`` of the target on
the test set (the largest certified error that keeps every test prediction), and
``approximate_conv(target, eps=ε, rng=1)`` finds the ticket. Reported: target and ticket test
accuracy (the ticket's from its own pruned network), label agreement, the largest output
difference on the test set against the certified and measured errors, per layer n, hidden
channels ``C n`` against da Cunha et al.'s (ICLR 2022) bound ``C_in · C ln(C_in k_h k_w · O · l /
min(ε, δ))`` with ``C = 1`` and ``δ = 0.01`` (and the C at which it equals the width found), wall
time and peak memory of ``approximate_conv`` (targets: under 2 minutes and 2 GB).

BLAS runs on one thread (as ``bench_finders.py``): on the shared 2-core machine a threaded BLAS
made every SVD of the certificate up to 20 times slower.

Usage: ``python benchmarks/bench_cnn.py``; saves benchmarks/results/cnn.json.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import math
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


def main():
    warmup()
    data = digits(8)
    start = time.perf_counter()
    target = train_conv_target(data.x_train, data.y_train, rng=0)
    train_seconds = time.perf_counter() - start
    eps = margin_eps(target.dense_equivalent(), data.x_test, radius=data.radius)
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
        log_term = n_bound / C
        rows.append(
            {
                "layer": i,
                "kind": row.kind,
                "kernel": "x".join(map(str, row.kernel_shape)),
                "n": row.values_per_input,
                "hidden channels C_in n": row.hidden_channels,
                "bound C_in C ln(...) (C=1)": round(c * n_bound, 1),
                "implied C": round(row.values_per_input / log_term, 2),
                "tau": f"{row.tau:.3g}",
                "||W||_op": f"{row.weight_norm:.3g}",
            }
        )
    summary = {
        "target": "digits CNN 1-8-16 (3x3) -> 10, no bias",
        "target params": report.target_params,
        "eps (margin)": f"{eps:.4g}",
        "certified": f"{report.certified:.4g}",
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
    print(markdown_table([summary]))
    print()
    print(markdown_table(rows))
    print(
        f"\ntraining {train_seconds:.1f} s; solve {report.seconds['solve']:.1f} s, certify "
        f"{report.seconds['certify']:.1f} s; targets: {SECONDS} s and {MEGABYTES} MB "
        f"({'met' if seconds < SECONDS and peak < MEGABYTES else 'NOT met'})"
    )
    path = save(
        "cnn",
        {
            "summary": summary,
            "layers": rows,
            "train_seconds": round(train_seconds, 1),
            "solve_seconds": round(report.seconds["solve"], 1),
            "certify_seconds": round(report.seconds["certify"], 1),
            "delta": DELTA,
            "C": C,
            "log_base": math.e,
        },
    )
    print(f"saved {path}")


if __name__ == "__main__":
    main()
