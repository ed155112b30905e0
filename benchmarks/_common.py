"""Helpers shared by the benchmark scripts: timing, peak memory, output."""

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"


def wall(func, *args, **kwargs):
    """Run ``func`` once; return ``(result, seconds)``."""
    start = time.perf_counter()
    result = func(*args, **kwargs)
    return result, time.perf_counter() - start


PEAK_MB = (
    "int([x for x in open('/proc/self/status') if x.startswith('VmHWM')][0].split()[1]) / 1024"
)
"""Python expression: this process's peak resident memory so far, in MB (Linux)."""


def peak_rss_mb(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; return its peak resident memory (``VmHWM``) before and
    after the measured part. ``code`` must print one line ``BASELINE`` between setup and work."""
    script = (
        f"def hwm():\n    return {PEAK_MB}\n"
        + code.replace("print('BASELINE')", "baseline = hwm()")
        + "\nprint(baseline, hwm())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    baseline, peak = map(float, out.split()[-2:])
    return {"baseline_mb": round(baseline, 1), "peak_mb": round(peak, 1)}


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "processor": platform.processor() or platform.machine(),
    }


def load(name: str) -> dict:
    """Earlier results of ``name`` (so that a partial re-run keeps the other sections)."""
    path = RESULTS / f"{name}.json"
    if not path.exists():
        return {}
    payload = json.loads(path.read_text())
    payload.pop("machine", None)
    return payload


def save(name: str, payload: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **payload}, indent=2))
    return path


def markdown_table(rows: list[dict]) -> str:
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(r[h]) for h in header) + " |" for r in rows]
    return "\n".join(lines)
