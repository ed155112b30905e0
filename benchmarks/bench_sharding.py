"""Benchmark sharded approximation: one automatic ``approximate`` call in one piece, in shards of
rows in this process (the streaming path), and on a 2-worker Dask LocalCluster (127.0.0.1).

Each configuration runs in a fresh interpreter, which reports its wall time, its peak resident
memory (``VmHWM``, the driver's only: a cluster's workers are other processes) and a digest of
the ticket's masks; the digests must agree before any figure is printed. The streaming path is
forced on a small target by lowering ``strong_lth._shards.SHARD_BYTES`` (``--shard-bytes``, by
default 4 MiB); on a large one (``--widths 4096,4096,10``), whose layers at n = 8 already exceed
one 256 MiB piece, ``approximate`` streams anyway and the default leaves its shards alone. The
load average around each run is reported: the machine may be shared. ``--no-fewest`` passes
``fewest=False`` to ``approximate`` (any subset within each instance's tolerance, rather than
one with the fewest values: the modes must still agree bit for bit); ``--construction
burkholz`` shards that construction's layer solves instead (its streaming mode is the one-piece
run: it has no shards in process).

Usage: ``python benchmarks/bench_sharding.py [--widths 256,256,10] [--eps 0.01]
[--modes one-piece,streaming,cluster] [--max-bytes 17179869184] [--no-fewest]
[--construction pensia]``; saves
benchmarks/results/sharding.json.
"""

import argparse
import itertools
import json
import os
import subprocess
import sys
import textwrap

from _common import PEAK_MB, markdown_table, save

from strong_lth._search import START, solve_bytes
from strong_lth._shards import SHARD_BYTES

CODE = textwrap.dedent(
    """
    import hashlib, json, time
    import strong_lth._shards as shards
    from strong_lth import ReLUNetwork, approximate
    from strong_lth.subset_sum import warmup
    warmup()
    widths, eps, mode, max_bytes, fewest = {widths!r}, {eps!r}, {mode!r}, {max_bytes!r}, {fewest!r}
    construction = {construction!r}
    target = ReLUNetwork.random(widths, rng=0)
    scheduler = cluster = None
    if mode == "streaming" and {shard_bytes!r}:
        shards.SHARD_BYTES = {shard_bytes!r}
    if mode == "cluster":
        import distributed
        cluster = distributed.LocalCluster(
            host="127.0.0.1", n_workers=2, threads_per_worker=1, processes=True,
            dashboard_address=None, env={{"NUMBA_NUM_THREADS": "1"}},
        )
        scheduler = cluster.scheduler_address
    start, cpu = time.perf_counter(), time.process_time()
    ticket = approximate(target, eps=eps, rng=1, max_bytes=max_bytes, measure=False,
                         certificate="spectral", scheduler=scheduler, fewest=fewest,
                         construction=construction)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    digest = hashlib.sha256()
    for mask in ticket.masks:
        digest.update(mask.tobytes())
    print(json.dumps({{
        "wall": wall, "cpu": cpu, "peak_mb": {peak}, "digest": digest.hexdigest()[:16],
        "n": list(ticket.values_per_input), "certified": ticket.report.certified,
        "solve": ticket.report.seconds["solve"], "certify": ticket.report.seconds["certify"],
    }}))
    """
)


def run(widths, eps, mode, max_bytes, shard_bytes, fewest, construction) -> dict:
    code = CODE.format(
        widths=widths,
        eps=eps,
        mode=mode,
        max_bytes=max_bytes,
        shard_bytes=shard_bytes,
        fewest=fewest,
        construction=construction,
        peak=PEAK_MB,
    )
    load = os.getloadavg()[0]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    found["load avg before/after"] = f"{load:.2f}/{os.getloadavg()[0]:.2f}"
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", default="256,256,10")
    parser.add_argument("--eps", type=float, default=0.01)
    parser.add_argument("--modes", default="one-piece,streaming,cluster")
    parser.add_argument("--max-bytes", type=int, default=2**32)
    parser.add_argument(
        "--shard-bytes",
        type=int,
        default=None,
        help="SHARD_BYTES of the streaming mode (default 4 MiB on targets whose widest layer "
        "at n = 8 fits one piece, else unchanged)",
    )
    parser.add_argument(
        "--no-fewest",
        dest="fewest",
        action="store_false",
        help="keep any subset within each instance's tolerance (approximate(fewest=False))",
    )
    parser.add_argument("--construction", default="pensia", help="pensia, malach or burkholz")
    args = parser.parse_args()
    widths = tuple(int(w) for w in args.widths.split(","))
    shard_bytes = args.shard_bytes
    if shard_bytes is None:
        widest = max(a * b for a, b in itertools.pairwise(widths))
        shard_bytes = 2**22 if solve_bytes(widest, 1, START) <= SHARD_BYTES else 0
    rows, digests = [], set()
    for mode in args.modes.split(","):
        found = run(
            widths, args.eps, mode, args.max_bytes, shard_bytes, args.fewest, args.construction
        )
        digests.add(found["digest"])
        rows.append(
            {
                "target": "-".join(map(str, widths)),
                "construction": args.construction,
                "eps": args.eps,
                "fewest": args.fewest,
                "mode": mode,
                "n": "/".join(map(str, found["n"])),
                "certified": f"{found['certified']:.4g}",
                "wall (s)": f"{found['wall']:.1f}",
                "CPU (s)": f"{found['cpu']:.1f}",
                "solve (s)": f"{found['solve']:.1f}",
                "certify (s)": f"{found['certify']:.1f}",
                "driver peak RSS (MB)": f"{found['peak_mb']:.0f}",
                "masks digest": found["digest"],
                "load avg before/after": found["load avg before/after"],
            }
        )
        print(json.dumps(rows[-1]), flush=True)  # a long run's modes are not lost to a later one
        save("sharding", {"rows": rows})
    if len(digests) != 1:
        raise SystemExit(f"the modes gave different tickets: {digests}")
    print(markdown_table(rows))
    print("saved to", save("sharding", {"rows": rows}))


if __name__ == "__main__":
    main()
