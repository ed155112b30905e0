"""Benchmark sweep execution: one 200-run sweep of small targets in-process, on a local process
pool, and on a Dask LocalCluster (bound to 127.0.0.1), each from an empty results table.

The three tables are checked equal (every row's parameters and results, timings left out)
before any time is printed. Reported per executor: wall time of ``run_sweep`` (pool and Dask
include starting their worker processes; the cluster's own start is timed apart), the sum of
the runs' own times, and the load average around each measurement (the machine may be shared).
Also timed: checking a grid (``Sweep`` construction, which expands it lazily and checks every
point), per run, the figure behind ``MAX_RUNS``; and the refusal of a grid above it.

Usage: ``python benchmarks/bench_sweep.py [--quick] [--workers 2]``; saves
benchmarks/results/sweep.json.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

from _common import markdown_table, save

from strong_lth.exceptions import InvalidParameterError
from strong_lth.experiments import MAX_RUNS, Sweep, load_results, run_sweep
from strong_lth.subset_sum import warmup


def sweep(seeds: int) -> Sweep:
    """2 targets x 2 constructions x 5 widths x ``seeds`` random networks (200 runs for 10)."""
    grid = {
        "kind": "approximate",
        "target": [[4, 8, 2], [6, 6, 3]],
        "construction": ["pensia", "malach"],
        "values_per_input": [4, 8, 12, 16, 20],
        "seed": list(range(seeds)),
    }
    return Sweep.from_dict({"name": "bench", "output": "unused", "grid": grid})


def table(path: Path) -> dict:
    rows = load_results(path)
    out = {r["run_id"]: (r["params"], r["result"]) for r in rows}
    if len(out) != len(rows):
        raise AssertionError(f"{path}: a run is stored twice")
    return out


def measure(name, job, folder):
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    path = job(folder)
    wall = time.perf_counter() - start
    rows = load_results(path)
    return {
        "executor": name,
        "runs": len(rows),
        "wall (s)": round(wall, 2),
        "sum of run times (s)": round(sum(r["seconds"]["total"] for r in rows), 2),
        "load avg before/after": f"{load_before:.2f}/{os.getloadavg()[0]:.2f}",
    }, table(path)


def grid_check(points: int) -> dict:
    """Seconds per run to check a ``points``-run grid of each kind, and to refuse a grid ten
    times ``MAX_RUNS`` (counted, never expanded)."""
    seeds = list(range(points // 10))
    grids = {
        "subset_sum": {"kind": "subset_sum", "n": list(range(1, 11)), "seed": seeds},
        "approximate": {
            "kind": "approximate",
            "target": [3, 4, 2],
            "values_per_input": list(range(1, 11)),
            "seed": seeds,
        },
    }
    out = {}
    for kind, grid in grids.items():
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        Sweep.from_dict({"grid": grid})
        out[f"check {kind} (us/run)"] = round(1e6 * (time.perf_counter() - start) / points, 1)
        out[f"load avg ({kind})"] = round(load_before, 2)
    huge = {"kind": "subset_sum", "n": list(range(1, 11)), "seed": list(range(MAX_RUNS))}
    start = time.perf_counter()
    try:
        Sweep.from_dict({"grid": huge})
    except InvalidParameterError:
        out[f"refuse {10 * MAX_RUNS} runs (s)"] = round(time.perf_counter() - start, 4)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 runs instead of 200")
    parser.add_argument("--workers", type=int, default=2, help="pool processes / Dask workers")
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    checks = grid_check(2_000 if args.quick else 20_000)
    print(checks, flush=True)

    the_sweep = sweep(2 if args.quick else 10)
    warmup()
    results, tables = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)

        def in_process(folder):
            return run_sweep(the_sweep, output=folder, quiet=True)

        def pool(folder):
            return run_sweep(the_sweep, output=folder, processes=args.workers, quiet=True)

        for name, job in [("in-process", in_process), (f"process pool ({args.workers})", pool)]:
            row, tables[name] = measure(name, job, tmp / name.split()[0])
            results.append(row)
            print(row, flush=True)
        start = time.perf_counter()
        with LocalCluster(
            host="127.0.0.1",
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            env={"NUMBA_NUM_THREADS": "1"},  # one worker per core, as the pool does
        ) as cluster:
            cluster_start = time.perf_counter() - start
            with Client(cluster) as client:

                def dask(folder):
                    return run_sweep(the_sweep, output=folder, scheduler=client, quiet=True)

                name = f"Dask LocalCluster ({args.workers} workers)"
                row, tables[name] = measure(name, dask, tmp / "dask")
        row["cluster start (s)"] = round(cluster_start, 2)
        results.append(row)
        print(row, flush=True)
    reference = tables["in-process"]
    for name, other in tables.items():
        if other != reference:
            raise AssertionError(f"{name} computed a different table than in-process")
    for row in results:
        row.setdefault("cluster start (s)", "-")
    print("all tables equal (parameters and results of every run)")
    print(markdown_table(results))
    payload = {"runs": len(the_sweep.runs()), "rows": results, "grid_check": checks}
    print("saved to", save("sweep", payload))


if __name__ == "__main__":
    main()
