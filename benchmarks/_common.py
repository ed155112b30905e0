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


def peak_rss_mb(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; return its peak resident memory (``VmHWM``) before and
    after the measured part. ``code`` must print one line ``BASELINE`` between setup and work."""
    script = (
        "import sys\n"
        "def hwm():\n"
        "    return int([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]) / 1024\n"
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
