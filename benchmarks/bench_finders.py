"""Constructed versus searched tickets on the same random network (issue 17).

For each target (8-16-16-4: ``ReLUNetwork.random(widths, rng=0)``, the demo's; 64-32-10: trained
on scikit-learn's digits by ``strong_lth.datasets.train_target``, biases, as in
``bench_exact.py``) the random network is the one ``approximate(target, eps=0.01, rng=1)``
prunes (``ticket.random_network()``). On it:

- the constructed tickets: Pensia's (that ticket) and Malach's (``approximate(...,
  values_per_input=<the same n>, construction="malach", rng=1)``: the same network);
- edge-popup (``strong_lth.finders.edge_popup``, distillation on the unit ball) at Pensia's
  density, and over a sweep of densities, the best of which is its own best density; for digits
  also edge-popup on the labelled training data (cross-entropy) at Pensia's density;
- the empty ticket (``G = 0``), whose error is ``sup ||F||``: a search that collapses to the
  zero function (every unit of some layer dead, where no gradient flows) shows this error;
- planted recovery: the target planted in a copy of the network (``plant``), and edge-popup at
  the planted density on that copy.

Every ticket gets the same figures: density (``strong_lth.ticket.density`` over the same network),
the measured error (``strong_lth.finders.measured_error``: the worst-case search of ``certify``
over the unit ball), the certified bound where the structure admits one (constructions only), the
exact error where it is feasible: ``exact_error`` on a small box around 0 (``[-0.05, 0.05]^8``,
``[-0.01, 0.01]^64``), time-limited, so a proven bracket ``[attained, proven upper]`` when the
limit ends it (the constructions are passed as tickets, so that the MILP gets their lockstep
bounds; the others as pruned networks), test accuracy and label agreement for digits, wall time.
Over the whole unit ball the exact error is out of reach for 64 inputs (``bench_exact.py``: the
digits ticket's MILP brackets within 1.35x after 13 CPU minutes). The bias-free 8-16-16-4 networks
are positively homogeneous, so their exact error on a box is proportional to its size and a
smaller box is no easier; the digits target has biases, and on a small box most units are stable.

Last, the planted-recovery rate on tiny cases: six 2-3-1 targets planted in 2-6-1 networks, ten
seeds each, edge-popup at the planted density (300 steps, lr 0.05), one search and the best of
four restarts: how often it returns the planted ticket exactly.

BLAS runs on one thread (faster for these small matrices on a shared machine).

Usage: ``python benchmarks/bench_finders.py [--quick] [--only NAME ...]``; saves
benchmarks/results/finders.json.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import time
import warnings

import numpy as np
from _common import markdown_table, save

from strong_lth import ReLUNetwork, TheoryAssumptionWarning, approximate, exact_error
from strong_lth.datasets import digits, evaluate, train_target
from strong_lth.finders import MaskedNetwork, edge_popup, measured_error, plant
from strong_lth.subset_sum import warmup

EPS = 0.01
SWEEP = (0.003, 0.01, 0.03, 0.1, 0.3)
TINY_CASES, TINY_SEEDS, TINY_RESTARTS = 6, 10, 4


def digits_target():
    data = digits(8)
    return train_target(data.x_train, data.y_train, (32,), bias=True, rng=0), data


TARGETS = {  # name: (factory, edge-popup steps of the main runs, of the sweep, exact (box, s))
    "8-16-16-4": (
        lambda: (ReLUNetwork.random((8, 16, 16, 4), rng=0), None),
        1000,
        1000,
        (0.05, 30.0),
    ),
    "64-32-10 digits": (digits_target, 1000, 400, (0.01, 60.0)),
}


def figures(target, masked, data, *, exact, ticket=None):
    """The common figures of one ticket (``ticket``: the constructed Ticket behind ``masked``)."""
    row = {
        "density": f"{masked.density:.4f}",
        "kept": masked.n_kept,
        "measured (ball)": f"{measured_error(target, masked, rng=0):.3e}",
        "certified": "none" if ticket is None else f"{ticket.report.certified:.3e}",
    }
    if exact is not None:
        box, limit = exact
        network = masked.pruned_network() if ticket is None else ticket
        result = exact_error(target, network, box=box, time_limit=limit, rng=0)
        value = (
            f"{result.value:.3e}"
            if result.status.name == "OPTIMAL"
            else f"[{result.value:.3e}, {result.upper_bound:.3e}]"
        )
        row["exact (small box)"] = f"{value} on ±{box:g}"
        row["exact status / s"] = f"{result.status.name} / {result.seconds:.0f}"
    if data is not None:
        result = evaluate(target, masked.pruned_network(), data.x_test, data.y_test)
        row["test accuracy (target)"] = (
            f"{result.pruned_accuracy:.4f} ({result.target_accuracy:.4f})"
        )
        row["label agreement"] = f"{result.agreement:.4f}"
    return row


def run(name, quick):
    factory, steps, sweep_steps, exact = TARGETS[name]
    if quick:
        steps, sweep_steps, exact = 100, 100, None
    target, data = factory()
    rows, curve = [], []

    def add(kind, masked, seconds, **extra):
        row = {"target": name, "ticket": kind, "wall (s)": f"{seconds:.1f}"}
        row |= figures(target, masked, data, exact=exact, **extra)
        rows.append(row)
        print(row, flush=True)
        return row

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TheoryAssumptionWarning)
        start = time.perf_counter()
        pensia = approximate(target, eps=EPS, rng=1)
        pensia_seconds = time.perf_counter() - start
        network = pensia.random_network()
        start = time.perf_counter()
        malach = approximate(
            target, values_per_input=network.values_per_input, construction="malach", rng=1
        )
        malach_seconds = time.perf_counter() - start
    print(f"{name}: random network n = {network.values_per_input}, {network.n_params} weights")
    empty = MaskedNetwork(
        network,
        tuple(np.zeros((0, 2), int) for _ in network.shapes),
        pensia.input_bias,
        "edge-popup",
    )
    add("empty ticket (G = 0): the error of predicting 0", empty, 0.0)
    for kind, ticket, seconds in (
        ("pensia", pensia, pensia_seconds),
        ("malach", malach, malach_seconds),
    ):
        masked = MaskedNetwork.from_ticket(ticket, network)
        row = add(kind, masked, seconds, ticket=ticket)
        curve.append(
            {"method": kind, "density": masked.density, "measured": row["measured (ball)"]}
        )

    def search(density, steps, **kwargs):
        start = time.perf_counter()
        found = edge_popup(target, network, density=density, rng=0, steps=steps, **kwargs)
        return found, time.perf_counter() - start

    found, seconds = search(pensia.density, steps)
    add("edge-popup at pensia's density", found, seconds)
    if data is not None:
        found, seconds = search(pensia.density, steps, data=(data.x_train, data.y_train))
        add("edge-popup, cross-entropy on train, pensia's density", found, seconds)
    sweep = []
    for density in SWEEP:
        found, seconds = search(density, sweep_steps)
        value = measured_error(target, found, rng=0)
        sweep.append((value, density, found, seconds))
        curve.append({"method": "edge-popup", "density": density, "measured": f"{value:.3e}"})
        print(f"  sweep density {density}: measured {value:.3e} ({seconds:.1f} s)", flush=True)
    _, best_density, best, seconds = min(sweep, key=lambda item: item[0])
    add(f"edge-popup at its best density ({best_density:g}, {sweep_steps} steps)", best, seconds)

    start = time.perf_counter()
    planted = plant(target, network, rng=0)
    add("planted (exact embedding)", planted.ticket, time.perf_counter() - start)
    start = time.perf_counter()
    found = edge_popup(target, planted.network, density=planted.ticket.density, rng=0, steps=steps)
    row = add("edge-popup on the planted network", found, time.perf_counter() - start)
    row["ticket"] += f" (finds {found.overlap(planted.ticket):.1%} of the planted weights)"
    return rows, curve


def tiny_planted_rate(quick):
    """Exact recoveries of the planted ticket on the tiny cases: one search, best of restarts."""
    seeds = 2 if quick else TINY_SEEDS
    rows = []
    for case in range(TINY_CASES):
        target = ReLUNetwork.random((2, 3, 1), rng=case)
        planted = plant(target, (2, 6, 1), rng=100 + case)
        row = {"target seed": case}
        for restarts in (1, TINY_RESTARTS):
            start = time.perf_counter()
            found = [
                edge_popup(
                    target,
                    planted.network,
                    density=planted.ticket.density,
                    rng=seed,
                    steps=300,
                    lr=0.05,
                    restarts=restarts,
                )
                for seed in range(seeds)
            ]
            hits = sum(
                all(np.array_equal(a, b) for a, b in zip(f.masks, planted.ticket.masks))
                for f in found
            )
            row[f"exact recoveries, restarts={restarts}"] = f"{hits}/{seeds}"
            row[f"s per search, restarts={restarts}"] = (
                f"{(time.perf_counter() - start) / seeds:.2f}"
            )
        rows.append(row)
        print(row, flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="100 steps, no exact error, 2 seeds of tiny cases"
    )
    parser.add_argument("--only", nargs="+", choices=list(TARGETS), help="run these targets")
    args = parser.parse_args()
    warmup()
    rows, curves = [], {}
    load_before = os.getloadavg()[0]
    for name in args.only or list(TARGETS):
        target_rows, curves[name] = run(name, args.quick)
        rows += target_rows
    tiny = tiny_planted_rate(args.quick)
    load_after = os.getloadavg()[0]
    columns = list(dict.fromkeys(key for row in rows for key in row))
    table = [{key: row.get(key, "n/a") for key in columns} for row in rows]  # n/a: no labels
    print(markdown_table(table))
    print(markdown_table(tiny))
    print(f"load average (1 min): {load_before:.1f} -> {load_after:.1f}")
    path = save(
        "finders",
        {
            "eps": EPS,
            "quick": args.quick,
            "rows": table,
            "curves": curves,
            "tiny planted": tiny,
            "load": [load_before, load_after],
        },
    )
    print("saved to", path)


if __name__ == "__main__":
    main()
