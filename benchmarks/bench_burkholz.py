"""Benchmark the depth-(l + 1) construction of Burkholz (2022) in automatic mode.

For each target ``ReLUNetwork.random(widths, rng=0).scaled(1.0)`` (as bench_pipeline.py) at
certified ε over the unit ball: ``approximate(target, eps=ε, construction="burkholz", rng=1,
measure=..., max_bytes=..., fewest=...)`` in a fresh process, with the n chosen per layer,
hidden widths, random and kept parameters (and kept as a multiple of the target's), the
certificate, wall and CPU seconds (``time.process_time``, every thread of the process), peak
resident memory and the load average at the start; with ``--measure`` also the measured worst
case (its search is then part of the times); with ``--no-fewest`` every instance keeps any
subset within its tolerance instead of one with the fewest values
(``approximate(fewest=False)``: more kept weights, less CPU on long pools). A run refused by
``max_bytes`` (or out of time) is reported with its message instead of a ticket: how far the
construction got.

Usage: ``python benchmarks/bench_burkholz.py [--targets 64-32-10,128-64-10] [--eps 0.01]
[--max-mb 2048] [--timeout 1200] [--measure] [--no-fewest]``; saves
benchmarks/results/burkholz.json.
"""

import argparse
import json
import os
import subprocess
import sys

from _common import PEAK_MB, markdown_table, save

RUN = """
import json, time
from strong_lth import InvalidParameterError, ReLUNetwork, approximate
from strong_lth.subset_sum import warmup
warmup()
widths, eps, max_bytes, measure, fewest = {widths}, {eps}, {max_bytes}, {measure}, {fewest}
target = ReLUNetwork.random(widths, rng=0).scaled(1.0)
wall, cpu = time.perf_counter(), time.process_time()
try:
    ticket = approximate(target, eps=eps, construction="burkholz", rng=1, measure=measure,
                         max_bytes=max_bytes, fewest=fewest)
    out = {{"n": list(ticket.values_per_input), "certified": ticket.report.certified,
           "measured": ticket.report.measured,
           "kept": ticket.n_kept, "random": ticket.random_network().n_params,
           "hidden": [r for r, _ in ticket.random_network().shapes[:-1]]}}
except InvalidParameterError as error:
    out = {{"refused": str(error)}}
out.update(wall=time.perf_counter() - wall, cpu=time.process_time() - cpu, peak_mb={peak},
           target=sum(w.size for w in target.weights))
print(json.dumps(out))
"""


def run(widths, eps, max_bytes, timeout, measure, fewest):
    code = RUN.format(
        widths=widths, eps=eps, max_bytes=max_bytes, measure=measure, fewest=fewest, peak=PEAK_MB
    )
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    load = os.getloadavg()[0]
    try:
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            timeout=timeout,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return {"refused": f"not finished in {timeout} s", "load": load}
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "load": load}


def row(name, eps, fewest, result):
    base = {"target": name, "ε": eps, "depth": len(name.split("-")), "fewest": fewest}
    if "refused" in result:
        return {**base, "result": result["refused"], "load": f"{result['load']:.1f}"}
    return {
        **base,
        "n per layer": "/".join(map(str, result["n"])),
        "hidden widths": "/".join(map(str, result["hidden"])),
        "random params": f"{result['random']:,}",
        "kept params": f"{result['kept']:,} ({result['kept'] / result['target']:.1f}x)",
        "certified": f"{result['certified']:.2e}",
        "measured": "-" if result["measured"] is None else f"{result['measured']:.2e}",
        "wall s": f"{result['wall']:.1f}",
        "CPU s": f"{result['cpu']:.1f}",
        "peak MB": f"{result['peak_mb']:.0f}",
        "load": f"{result['load']:.1f}",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default="32-16-10,64-32-10,128-64-10")
    parser.add_argument("--eps", type=float, default=0.01)
    parser.add_argument("--max-mb", type=int, default=2048)
    parser.add_argument("--timeout", type=float, default=1200.0)
    parser.add_argument(
        "--measure", action="store_true", help="measure the worst case (in the wall and CPU time)"
    )
    parser.add_argument(
        "--no-fewest",
        dest="fewest",
        action="store_false",
        help="keep any subset within each instance's tolerance (approximate(fewest=False))",
    )
    args = parser.parse_args()
    results, rows = {}, []
    for name in args.targets.split(","):
        widths = tuple(int(w) for w in name.split("-"))
        result = run(widths, args.eps, args.max_mb << 20, args.timeout, args.measure, args.fewest)
        results[name] = result
        rows.append(row(name, args.eps, args.fewest, result))
        print(json.dumps({name: result}), flush=True)
    print(markdown_table(rows))
    save(
        "burkholz",
        {"eps": args.eps, "max_mb": args.max_mb, "fewest": args.fewest, "results": results},
    )


if __name__ == "__main__":
    main()
