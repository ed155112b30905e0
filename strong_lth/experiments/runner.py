"""Run a sweep: in-process, on a local process pool, or on a Dask distributed cluster.

Workers compute rows (:func:`execute_run`); only the driver writes them
(:class:`~strong_lth.experiments.results.ResultsWriter`), so workers need no shared
filesystem, and a run's row is stored only once it is complete.
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from tqdm import tqdm

from .._cluster import check_scheduler, connect
from .._validation import _fmt, check_int
from ..exceptions import InvalidParameterError
from .kinds import KINDS
from .results import FORMAT, ResultsWriter, now, provenance
from .sweep import RESULTS_FILE, Run, Sweep

__all__ = ["execute_run", "run_sweep"]


def execute_run(run: Run) -> dict:
    """Compute one run and return its results row (without writing it anywhere).

    Parameters
    ----------
    run : Run
        A run of :meth:`Sweep.runs`.

    Returns
    -------
    dict
        ``format``, ``run_id``, ``kind``, ``params``, ``result``, ``seconds`` (``total`` and the
        kind's own timings) and ``provenance`` (package version, Python, NumPy, numba, host,
        pid, UTC start and finish); the sweep driver adds ``provenance["sweep"]``.
    """
    started = now()
    begin = time.perf_counter()
    result, seconds = KINDS[run.kind].execute(run.params, run.network)
    return {
        "format": FORMAT,
        "run_id": run.run_id,
        "kind": run.kind,
        "params": run.params,
        "result": result,
        "seconds": {"total": time.perf_counter() - begin, **seconds},
        "provenance": provenance(started),
    }


ORPHAN_POLL = 0.5
"""Seconds between a pool worker's checks that its driver is still alive."""

_PR_SET_PDEATHSIG = 1
"""``prctl`` option (Linux): the signal a process gets when the thread that started it ends."""


def _exit_when_orphaned(parent: int) -> None:
    """Watchdog thread of a pool worker: end the process once ``parent`` (the driver) is gone.

    A driver killed by SIGKILL cannot stop its pool; its workers are then re-parented (to init
    or a subreaper), so ``os.getppid()`` changes. ``os._exit`` ends the worker even in the
    middle of a run: the driver that would store the run's row is gone anyway.
    """
    while os.getppid() == parent:
        time.sleep(ORPHAN_POLL)
    os._exit(1)


def _die_with(parent: int) -> None:
    """Make this pool worker end when its driver ``parent`` dies, however it dies.

    On Linux the kernel sends SIGKILL at once (``prctl(PR_SET_PDEATHSIG)``), which works even
    while a compiled kernel holds the GIL; everywhere a daemon thread polls ``os.getppid()``
    (:func:`_exit_when_orphaned`), which acts between runs or inside Python code.
    """
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
        except (OSError, AttributeError):  # pragma: no cover - no usable libc
            pass
    if os.getppid() != parent:  # the driver died before the line above took effect
        os._exit(1)
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()


def _init_worker(threads: int, parent: int) -> None:
    """Pool initializer: numba threads per worker, so workers do not oversubscribe the cores,
    and an end with the driver (:func:`_die_with`)."""
    import numba

    numba.set_num_threads(threads)
    _die_with(parent)


def _in_process(runs: list[Run]) -> Iterator[dict]:
    for run in runs:
        yield execute_run(run)


def _pool(runs: list[Run], processes: int) -> Iterator[dict]:
    """A local pool of fresh interpreters (``spawn``: numba's threads do not survive a fork)."""
    threads = max(1, (os.cpu_count() or 1) // processes)
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
        initargs=(threads, os.getpid()),
    ) as pool:
        futures = [pool.submit(execute_run, run) for run in runs]
        try:
            for future in concurrent.futures.as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def _dask(runs: list[Run], scheduler) -> Iterator[dict]:
    import distributed

    with connect(scheduler) as client:
        futures = [
            client.submit(execute_run, run, key=f"strong_lth-run-{run.run_id}", pure=False)
            for run in runs
        ]
        try:
            for future in distributed.as_completed(futures, loop=client.loop):
                yield future.result()
        finally:
            client.cancel(futures)


def _rows(runs: list[Run], scheduler, processes: int | None) -> Iterable[dict]:
    if scheduler is not None:
        return _dask(runs, scheduler)
    if processes is None or processes == 1 or len(runs) <= 1:
        return _in_process(runs)
    return _pool(runs, processes)


def run_sweep(sweep: Sweep, *, scheduler=None, processes=None, quiet=False, output=None) -> Path:
    """Run every run of ``sweep`` not yet in its results table, and append their rows.

    Parameters
    ----------
    sweep : Sweep
        The sweep (:meth:`Sweep.from_toml`, :meth:`Sweep.from_dict`).
    scheduler : str or distributed.Client, optional
        Run on a Dask distributed cluster: a scheduler address (``"tcp://host:8786"``,
        connected within 10 s, the client closed at the end) or a connected client (left
        open). Workers need
        ``strong_lth`` installed, nothing else: no shared filesystem.
    processes : int, optional
        Without ``scheduler``: ``None`` or 1 runs in this process; more uses a local pool of
        that many fresh processes (``spawn``), each with ``cpu_count // processes`` numba
        threads.
    quiet : bool
        No progress bar, and no line on stderr saying how many runs a resumed sweep finds
        already stored. The bar is also silent when stderr is not a terminal.
    output : str or os.PathLike, optional
        Output folder instead of the sweep's (relative to the working directory).

    Returns
    -------
    pathlib.Path
        The results table, ``<output>/results.jsonl``.

    Raises
    ------
    InvalidParameterError
        On a bad argument, or when no scheduler answers at the address within 10 s.
    StrongLTHError
        If another sweep is writing the same table. An exception inside a run stops the sweep
        and propagates; every row stored before it stays stored.

    Notes
    -----
    Runs already stored (same :func:`~strong_lth.experiments.run_id`) are skipped, so running a
    sweep again after an interruption (Ctrl-C, SIGKILL, a lost cluster) computes only the
    missing runs; a half-written last row is removed with a warning first. Rows are appended in
    the order runs finish, each by the driver with one write and ``fsync``.
    """
    if not isinstance(sweep, Sweep):
        raise InvalidParameterError(f"`sweep` must be a Sweep; got {type(sweep).__name__}.")
    if processes is not None:
        processes = check_int("processes", processes, low=1)
    if scheduler is not None and processes not in (None, 1):
        raise InvalidParameterError(
            f"`processes` must be left out with a Dask `scheduler`; got processes={processes}."
        )
    if scheduler is not None:
        check_scheduler(scheduler)
    if not isinstance(quiet, bool):
        raise InvalidParameterError(f"`quiet` must be True or False; got {_fmt(quiet)}.")
    if output is not None and not isinstance(output, str | os.PathLike):
        raise InvalidParameterError(f"`output` must be a folder name; got {_fmt(output)}.")
    path = sweep.results_path if output is None else Path(output) / RESULTS_FILE
    with ResultsWriter(path) as writer:
        total, pending = 0, []
        for run in sweep.iter_runs():  # the grid is never held in memory, only what is left
            total += 1
            if run.run_id not in writer.run_ids:
                pending.append(run)
        if not quiet and total > len(pending):  # a resumed sweep says what it found
            print(
                f"sweep {sweep.name}: resuming: {total - len(pending)} of {total} runs already "
                f"stored in {path}",
                file=sys.stderr,
            )
        with tqdm(
            total=total,
            initial=total - len(pending),
            desc=f"sweep {sweep.name}",
            unit="run",
            disable=True if quiet else None,
        ) as bar:
            for row in _rows(pending, scheduler, processes):
                row["provenance"]["sweep"] = sweep.name
                writer.append(row)
                bar.update()
    return path
