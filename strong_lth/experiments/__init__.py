"""Sweeps: grids of runs declared in TOML, executed in-process, on a process pool or on Dask,
stored in an append-only results table that survives interruption.

    from strong_lth.experiments import Sweep, load_results, run_sweep
    rows = load_results(run_sweep(Sweep.from_toml("sweep.toml")))
"""

from pathlib import Path

from .kinds import KINDS, subset_sum_instances
from .results import FORMAT, InvalidRowWarning, TruncatedRowWarning, load_results
from .runner import execute_run, run_sweep
from .sweep import MAX_RUNS, RESULTS_FILE, Run, Sweep, run_id

EXAMPLES = Path(__file__).parent / "examples"
"""Folder of example sweep files (``width_vs_error.toml``, ``subset_sum.toml``)."""

__all__ = [
    "EXAMPLES",
    "FORMAT",
    "KINDS",
    "MAX_RUNS",
    "RESULTS_FILE",
    "InvalidRowWarning",
    "Run",
    "Sweep",
    "TruncatedRowWarning",
    "execute_run",
    "load_results",
    "run_id",
    "run_sweep",
    "subset_sum_instances",
]
