"""Benchmark the registered constructions side by side on 784-500-10 at certified ε = 0.01.

For every construction of :data:`strong_lth.constructions.CONSTRUCTIONS`, and for the subset
constructions also with fixed subset sizes (``approximate(subset_size=k)``, Natale et al. 2024,
arXiv:2410.14754): depth, hidden widths, random and kept parameters (as multiples of the
target's, the kept one against the 9.39x Pensia et al. report for MNIST), density, certified
and measured error, wall time and peak memory, each run in a fresh process (a run that is
refused, e.g. a cap on n it cannot meet, is reported with its one-line reason). Then the
throughput of ``solve_batch(size=k)`` and ``solve_batch(tol=t, fewest=True)`` against unconstrained
``mitm`` at n = 21.

Usage: ``python benchmarks/bench_constructions.py [--quick] [--sizes 2,3,4] [--timeout S]``
(``--quick``: 64-128-10 at ε = 0.05); saves benchmarks/results/constructions.json.
"""

import argparse
import json
import subprocess
import sys
import time

import numpy as np
from _common import PEAK_MB, markdown_table, save

from strong_lth.constructions import CONSTRUCTIONS
from strong_lth.subset_sum import solve_batch, warmup

PENSIA_KEPT_MULTIPLE = 9.39
"""Kept parameters over the target's in Pensia et al.'s MNIST experiment (a per-weight ε, no
whole-network guarantee)."""

RUN = """
import json, time
from strong_lth import ReLUNetwork, approximate
from strong_lth.exceptions import InvalidParameterError
from strong_lth.subset_sum import warmup
warmup()
target = ReLUNetwork.random({widths}, rng=0).scaled(1.0)
start = time.perf_counter()
try:
    ticket = approximate(target, eps={eps}, rng=1, construction={construction!r},
                         subset_size={size}, certificate=("spectral", "lockstep"))
    report, refused = ticket.report.to_dict(), None
    report["depth"] = ticket.depth
    report["hidden"] = [r for r, _ in ticket.random_network().shapes[:-1]]
except InvalidParameterError as error:
    report, refused = None, str(error)
wall = time.perf_counter() - start
print(json.dumps({{"report": report, "refused": refused, "wall": wall, "peak_mb": {peak}}}))
"""


def run(widths, eps, construction, size, timeout):
    code = RUN.format(widths=widths, eps=eps, construction=construction, size=size, peak=PEAK_MB)
    try:
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"report": None, "refused": f"stopped after {timeout} s", "wall": timeout}
    return json.loads(out.stdout.strip().splitlines()[-1])


def row(construction, size, result):
    label = construction + ("" if size is None else f" k={size}")
    report = result["report"]
    if report is None:
        return {
            "construction": label,
            "result": result["refused"],
            "wall s": f"{result['wall']:.1f}",
        }
    kept = report["kept_multiple"]
    return {
        "construction": label,
        "depth": report["depth"],
        "n": "/".join(str(r["values_per_input"]) for r in report["layers"]),
        "hidden widths": "-".join(map(str, report["hidden"])),
        "random params (x target)": (
            f"{report['random_params']:,} ({report['random_multiple']:.2f})"
        ),
        "kept params (x target)": f"{report['kept_params']:,} ({kept:.2f})",
        f"kept / {PENSIA_KEPT_MULTIPLE}x": f"{kept / PENSIA_KEPT_MULTIPLE:.2f}",
        "density": f"{report['density']:.3%}",
        "certified": f"{report['certified']:.3e}",
        "measured": f"{report['measured']:.3e}",
        "wall s": f"{result['wall']:.1f}",
        "peak MB": f"{result['peak_mb']:.0f}",
    }


FEWEST_TOL = 2e-5
"""Instance tolerance of the ``fewest`` row of :func:`throughput`: about what automatic mode
gives each instance of 784-500-10 at ε = 0.01."""


def throughput(n=21, instances=20_000, sizes=(1, 5, 10), repeats=3):
    """Instances per second of ``solve_batch`` at n values: unconstrained mitm, size=k, and the
    fewest values within :data:`FEWEST_TOL` (``tol=FEWEST_TOL, fewest=True``)."""
    gen = np.random.default_rng(0)
    values = gen.uniform(-1, 1, (instances, n)) * gen.uniform(-1, 1, (instances, n))
    targets = gen.uniform(-1, 1, instances)
    warmup()
    solve_batch(values[:100], targets[:100], size=sizes[0])  # compile the sized kernel
    runs = {"any": {}, **{k: {"size": k} for k in sizes}}
    runs["fewest"] = {"tol": FEWEST_TOL, "fewest": True}
    out = []
    for label, kwargs in runs.items():
        best = min(
            _timed(lambda kw=kwargs: solve_batch(values, targets, method="mitm", **kw))
            for _ in range(repeats)
        )
        out.append({"size": label, "instances/s": instances / best})
    base = out[0]["instances/s"]
    for entry in out:
        entry["vs unconstrained"] = f"{entry['instances/s'] / base:.2f}"
        entry["instances/s"] = f"{entry['instances/s']:,.0f}"
    return out


def _timed(func):
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", default="2,3,4", help="subset sizes k to try (2,3,4)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per run (1800)")
    args = parser.parse_args()
    widths, eps = ((64, 128, 10), 0.05) if args.quick else ((784, 500, 10), 0.01)
    sizes = [int(k) for k in args.sizes.split(",") if k]
    cases = []
    for name, declared in CONSTRUCTIONS.items():
        cases.append((name, None))
        if "subset_size" in declared.options:
            cases += [(name, k) for k in sizes]
    rows, raw = [], []
    for name, size in cases:
        result = run(widths, eps, name, size, args.timeout)
        raw.append({"construction": name, "subset_size": size, **result})
        rows.append(row(name, size, result))
        print(rows[-1], flush=True)
    speed = throughput()
    target = "-".join(map(str, widths))
    print(f"\n{target} at certified eps = {eps} (machine load: see `uptime`)\n")
    complete = [r for r in rows if "depth" in r]
    refused = [r for r in rows if "depth" not in r]
    if complete:
        print(markdown_table(complete))
    if refused:
        print("\n" + markdown_table(refused))
    print("\nsolve_batch throughput at n = 21 (20,000 instances, best of 3)\n")
    print(markdown_table(speed))
    path = save("constructions", {"target": target, "eps": eps, "runs": raw, "throughput": speed})
    print(f"\nsaved {path}")


if __name__ == "__main__":
    main()
