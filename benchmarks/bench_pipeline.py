"""Benchmark the core pipeline: automatic mode on three targets and three ε, against the bounds.

For each target (every layer scaled to spectral norm 1, as the theorems assume) and ε: the n
chosen per layer, hidden widths, certified and measured error (with the method that certified the
ticket), every rigorous bound over the ball and its ratio to the measured error (the tightest
too), random and kept parameters as
multiples of the target's, the n the per-weight budget would need, the Pensia formula width
(C = 1, and the C fitted to the chosen n), the Malach formula width, the counting lower bound,
wall time and peak memory (each run in a fresh process), and the Malach construction at the same
widths. The certificate is checked (measured <= certified <= ε) before anything is printed.

Usage: ``python benchmarks/bench_pipeline.py [--quick]``; saves benchmarks/results/pipeline.json.
"""

import argparse
import json
import subprocess
import sys

import numpy as np
from _common import PEAK_MB, markdown_table, save

from strong_lth import bounds
from strong_lth._certify import METHODS

TARGETS = {
    "8-16-16-4": (8, 16, 16, 4),
    "64-128-64-10": (64, 128, 64, 10),
    "784-500-10": (784, 500, 10),
}
EPSILONS = (1e-1, 1e-2, 1e-3)
DELTA = 0.01  # failure probability put into the formulas (one draw is made: it either works or not)
SDP_LIMIT = 2e12  # largest strong_lth.sdp.sdp_cost for which the "sdp" bound is computed

RUN = """
import json, sys, time
from strong_lth import ReLUNetwork, approximate
from strong_lth.subset_sum import warmup
warmup()
widths, eps = {widths}, {eps}
target = ReLUNetwork.random(widths, rng=0).scaled(1.0)
start = time.perf_counter()
ticket = approximate(target, eps=eps, rng=1)
wall = time.perf_counter() - start
peak = {peak}  # before the Malach comparison, which is not part of the measured job
from strong_lth._certify import METHODS, rigorous_bounds
from strong_lth.gadgets import gadget_form
from strong_lth.sdp import sdp_cost
methods = [  # split only pays on small inputs; sdp takes minutes at 64-128-64-10, hours at 784
    m for m in METHODS
    if (m != "split" or widths[0] <= 8) and (m != "sdp" or sdp_cost(widths) <= {sdp_limit})
]
bounds = rigorous_bounds(target, gadget_form(target, ticket), radius=1.0, methods=methods)
malach = approximate(target, values_per_input=list(ticket.values_per_input), construction="malach",
                     rng=1)
print(json.dumps({{"report": ticket.report.to_dict(), "wall": wall, "peak_mb": peak,
                  "malach_certified": malach.report.certified,
                  "malach_measured": malach.report.measured, "bounds": bounds}}))
"""


def run(widths, eps):
    code = RUN.format(widths=widths, eps=eps, peak=PEAK_MB, sdp_limit=SDP_LIMIT)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def row(name, widths, eps, result):
    report = result["report"]
    if not report["measured"] <= report["certified"] <= eps:
        raise AssertionError(f"{name} eps={eps}: certificate chain broken")
    if not report["measured"] <= min(result["bounds"].values()):
        raise AssertionError(f"{name} eps={eps}: a rigorous bound is below the measured error")
    layers = report["layers"]
    d_in = np.array([r["d_in"] for r in layers])
    d_out = np.array([r["d_out"] for r in layers])
    n = np.array([r["values_per_input"] for r in layers])
    depth = len(layers)
    pensia = np.atleast_1d(bounds.pensia_width(d_in, d_out, depth, eps, DELTA))
    fitted = np.atleast_1d(bounds.pensia_constant(n, d_in, d_out, depth, eps, DELTA))
    budget = [r["budget_values_per_input"] for r in layers]
    exact = [r["budget_exact"] for r in layers]
    return {
        "target": name,
        "eps": eps,
        "n per layer": "/".join(map(str, n)),
        "hidden widths": "/".join(str(r["hidden_width"]) for r in layers),
        "budget n": "/".join(f"{b}{'' if e else '~'}" for b, e in zip(budget, exact)),
        "n / budget n": "/".join(f"{a / b:.2f}" for a, b in zip(n, budget)),
        "certified": f"{report['certified']:.2e}",
        "certified by": report.get("certificate_method", "spectral"),
        "measured": f"{report['measured']:.2e}",
        **{  # every method a column (a dash where not computed), so rows share one header
            f"{method} (/ measured)": f"{value:.2e} ({value / report['measured']:.1f})"
            if (value := result["bounds"].get(method)) is not None
            else "-"
            for method in METHODS
        },
        "tightest / measured": f"{min(result['bounds'].values()) / report['measured']:.2f}",
        "random x": f"{report['random_multiple']:.1f}",
        "kept x": f"{report['kept_multiple']:.1f}",
        "width / Pensia(C=1)": "/".join(f"{w / p:.2f}" for w, p in zip(d_in * n, pensia)),
        "fitted C": f"{fitted.max():.2f}",
        "Malach width (C=1)": f"{bounds.malach_width(max(widths), depth, eps, DELTA):.2e}",
        "lower bound width": "/".join(
            f"{w:.0f}" for w in np.atleast_1d(bounds.lower_bound_width(d_in, d_out, eps))
        ),
        "Malach-construction certified (same widths)": f"{result['malach_certified']:.2e}",
        "wall (s)": f"{result['wall']:.1f}",
        "peak memory (MB)": f"{result['peak_mb']:.0f}",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small targets and eps = 0.1 only")
    args = parser.parse_args()
    targets = {k: v for k, v in TARGETS.items() if not args.quick or k == "8-16-16-4"}
    epsilons = EPSILONS[:1] if args.quick else EPSILONS
    rows = []
    for name, widths in targets.items():
        for eps in epsilons:
            rows.append(row(name, widths, eps, run(widths, eps)))
            print(rows[-1], flush=True)
    print(markdown_table(rows))
    print("saved to", save("pipeline", {"delta": DELTA, "rows": rows}))


if __name__ == "__main__":
    main()
