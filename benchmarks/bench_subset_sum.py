"""Benchmark the SubsetSum solvers: speed, optimal-error law, heuristics' quality, CP-SAT ratio,
batch throughput (free and fixed-size subsets) and peak memory of the exact meet in the middle.

Every method is run on the same instances, and answers are checked (exact methods equal, CP-SAT
within its quantisation bound, heuristics never better than the optimum) before any time is
printed.

Usage: ``python benchmarks/bench_subset_sum.py [--quick]``; results are printed as Markdown and
saved to ``benchmarks/results/subset_sum.json``.
"""

import argparse
import os
import statistics
import time

import numpy as np
from _common import load, markdown_table, peak_rss_mb, save, wall

from strong_lth.subset_sum import solve, solve_batch, warmup

DISTRIBUTIONS = {
    "uniform": lambda rng, shape: rng.uniform(-1, 1, shape),
    "product": lambda rng, shape: rng.uniform(-1, 1, shape) * rng.uniform(-1, 1, shape),
}
CPSAT_LIMIT = 60.0  # seconds per CP-SAT solve in the speed comparison; beyond it: TIME_LIMIT
SLACK = 16 * np.finfo(float).eps  # rounding allowance per value, as in tests/test_subset_sum.py


def instances(distribution, n, count, seed):
    rng = np.random.default_rng(seed)
    return DISTRIBUTIONS[distribution](rng, (count, n)), rng.uniform(-1, 1, count)


def count_for(n, quick):
    count = 200 if n <= 24 else 40 if n <= 32 else 8 if n <= 40 else 3
    return max(2, count // 4) if quick else count


def methods_for(n):
    return [
        m
        for m, ok in [
            ("mitm", True),
            ("bruteforce", n <= 20),
            ("dp", True),
            ("greedy", True),
            ("local", True),
            ("cpsat", n <= 12),
        ]
        if ok
    ]


def run_method(method, values, targets):
    if method == "cpsat":  # one model per instance: time each solve
        times, results = [], []
        for v, t in zip(values, targets, strict=True):
            result, seconds = wall(solve, v, t, method="cpsat")
            times.append(seconds)
            results.append(result.error)
        return np.array(results), statistics.median(times)
    result, seconds = wall(solve_batch, values, targets, method=method, rng=0)
    return result.errors, seconds / len(targets)


def check(method, errors, optimum, values, bound=0.0):
    slack = SLACK * values.shape[1] * np.abs(values).sum(axis=1) + bound
    if method in ("mitm", "bruteforce", "cpsat"):
        ok = np.abs(errors - optimum) <= slack
    else:
        ok = errors >= optimum - slack
    if not ok.all():
        raise AssertionError(f"{method} disagrees with the optimum on {np.sum(~ok)} instances")


def sweep(quick):
    rows = []
    for distribution in DISTRIBUTIONS:
        for n in range(8, 49, 4):
            values, targets = instances(distribution, n, count_for(n, quick), seed=n)
            optimum = solve_batch(values, targets).errors
            for method in methods_for(n):
                errors, per_instance = run_method(method, values, targets)
                check(method, errors, optimum, values, bound=(n + 1) * 2.0**-40 * 2)
                ratio = np.median(errors / np.maximum(optimum, 1e-300))
                rows.append(
                    {
                        "distribution": distribution,
                        "n": n,
                        "method": method,
                        "instances": len(targets),
                        "time per instance (s)": f"{per_instance:.3g}",
                        "median log2 optimal error": f"{np.median(np.log2(optimum)):.2f}",
                        "median error / optimum": f"{ratio:.3g}",
                    }
                )
                print(rows[-1], flush=True)
    return rows


def fitted_law(rows):
    laws = {}
    for distribution in DISTRIBUTIONS:
        pts = [
            (r["n"], float(r["median log2 optimal error"]))
            for r in rows
            if r["distribution"] == distribution and r["method"] == "mitm"
        ]
        n, log_err = np.array(pts).T
        slope, intercept = np.polyfit(n, log_err, 1)
        laws[distribution] = {"a": round(float(-slope), 4), "b": round(float(intercept), 3)}
    return laws


def throughput(quick):
    rows = []
    for n, count in ((21, 397_000), (32, 20_000)):
        count = count // 20 if quick else count
        values, targets = instances("product", n, count, seed=1000 + n)
        solve_batch(values[:100], targets[:100])
        cpu = time.process_time()
        result, seconds = wall(solve_batch, values, targets)
        cpu = time.process_time() - cpu
        assert np.all(result.status == 0)
        rows.append(
            {
                "n": n,
                "instances": count,
                "wall (s)": f"{seconds:.2f}",
                "cpu, both threads (s)": f"{cpu:.2f}",
                "instances/s": f"{count / seconds:,.0f}",
                "load": f"{os.getloadavg()[0]:.2f}",
            }
        )
        print(rows[-1], flush=True)
    return rows


def fixed_size(quick):
    """Throughput of ``solve_batch(size=k)`` at n = 21 against unconstrained ``mitm`` on the same
    instances (issue target: at least half of it), after checking a sample against brute force."""
    n, count = 21, 5_000 if quick else 100_000
    values, targets = instances("product", n, count, seed=4000 + n)
    _, free_seconds = wall(solve_batch, values, targets)
    rows = [{"n": n, "size": "any", "instances": count, "instances/s": count / free_seconds}]
    for k in (n // 4, n // 2):
        sample = solve_batch(values[:200], targets[:200], method="bruteforce", size=k)
        result, seconds = wall(solve_batch, values, targets, size=k)
        slack = SLACK * n * np.abs(values[:200]).sum(axis=1)
        if not np.all(np.abs(result.errors[:200] - sample.errors) <= slack):
            raise AssertionError(f"size={k} disagrees with brute force")
        if not np.all(result.masks.sum(axis=1) == k):
            raise AssertionError(f"size={k} returned subsets of another size")
        rows.append({"n": n, "size": k, "instances": count, "instances/s": count / seconds})
    free_rate = rows[0]["instances/s"]
    for row in rows:
        row["vs unconstrained"] = f"{row['instances/s'] / free_rate:.2f}"
        row["instances/s"] = f"{row['instances/s']:,.0f}"
        print(row, flush=True)
    return rows


def single_instance(quick):
    rows = []
    for n in (32, 40, 48):
        repeats = {32: 21, 40: 9, 48: 3}[n] // (3 if quick else 1)
        values, targets = instances("uniform", n, max(repeats, 1), seed=2000 + n)
        times, cpu = [], []
        for v, t in zip(values, targets, strict=True):
            start = time.process_time()
            times.append(wall(solve, v, t)[1])
            cpu.append(time.process_time() - start)
        rows.append(
            {
                "n": n,
                "repeats": len(times),
                "median time (s)": f"{np.median(times):.4f}",
                "median cpu (s)": f"{np.median(cpu):.4f}",
                "load": f"{os.getloadavg()[0]:.2f}",
            }
        )
        print(rows[-1], flush=True)
    return rows


def cpsat_versus_mitm(quick):
    rows = []
    for n in (16, 21, 24, 28):
        count = 3 if n == 28 or quick else 5
        values, targets = instances("product", n, count, seed=3000 + n)
        cp_times, mitm_times, statuses = [], [], []
        for v, t in zip(values, targets, strict=True):
            exact, mitm_time = wall(solve, v, t)
            cp, cp_time = wall(solve, v, t, method="cpsat", time_limit=CPSAT_LIMIT)
            statuses.append(cp.status.name)
            if cp.status == 0 and abs(cp.error - exact.error) > cp.quantization_bound:
                raise AssertionError(f"cpsat and mitm disagree at n={n}")
            if cp.error < exact.error - cp.quantization_bound:
                raise AssertionError(f"cpsat beat the exact optimum at n={n}")
            cp_times.append(cp_time)
            mitm_times.append(mitm_time)
        ratio = np.median(cp_times) / np.median(mitm_times)
        rows.append(
            {
                "n": n,
                "instances": count,
                "cpsat median (s)": f"{np.median(cp_times):.3f}",
                "mitm median (s)": f"{np.median(mitm_times):.2e}",
                "speed ratio": f"{ratio:,.0f}x",
                "cpsat status": ", ".join(sorted(set(statuses))),
                "same optimal error": "yes, where OPTIMAL (within the quantisation bound)",
            }
        )
        print(rows[-1], flush=True)
    return rows


def memory():
    rows = []
    for n in (40, 48):
        code = (
            "import numpy as np\n"
            "from strong_lth.subset_sum import solve, warmup\n"
            "warmup()\n"
            f"v = np.random.default_rng(0).uniform(-1, 1, {n})\n"
            "print('BASELINE')\n"
            "solve(v, 0.3)\n"
        )
        rows.append({"n": n, **peak_rss_mb(code)})
        rows[-1]["solver peak (MB)"] = round(rows[-1]["peak_mb"] - rows[-1]["baseline_mb"], 1)
        print(rows[-1], flush=True)
    return rows


SECTIONS = {
    "sweep": sweep,
    "throughput": throughput,
    "fixed_size": fixed_size,
    "single_instance": single_instance,
    "cpsat_vs_mitm": cpsat_versus_mitm,
    "memory": lambda quick: memory(),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer instances (smoke run)")
    parser.add_argument(
        "--sections", default=",".join(SECTIONS), help=f"comma-separated subset of {list(SECTIONS)}"
    )
    args = parser.parse_args()
    warmup()
    results = load("subset_sum")
    for name in args.sections.split(","):
        results[name] = SECTIONS[name](args.quick)
    if "sweep" in results:
        results["law"] = fitted_law(results["sweep"])
    for name, rows in results.items():
        print(f"\n### {name}\n")
        print(markdown_table(rows) if isinstance(rows, list) else rows)
    print("\nsaved to", save("subset_sum", results))


if __name__ == "__main__":
    main()
