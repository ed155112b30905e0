"""The results table of a sweep: append-only JSON Lines, one row per run.

Each row is written by the driver with a single ``write`` of one complete line (ending in
``\\n``) followed by ``fsync``, so a crash or SIGKILL at any moment leaves the file as a
sequence of complete rows, possibly followed by one half-written line. :func:`load_results`
ignores such a line with a :class:`TruncatedRowWarning`; the writer truncates it before it
appends, so an interrupted sweep resumes without a duplicated, lost or corrupt row.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import socket
import warnings
from pathlib import Path
from typing import Any

import numba
import numpy as np

from .._validation import _fmt
from ..exceptions import InvalidParameterError, StrongLTHError

try:  # POSIX advisory locks keep two drivers off one table; elsewhere there is no lock
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

__all__ = ["FORMAT", "TruncatedRowWarning", "load_results", "provenance"]

FORMAT = "strong_lth.results/1"
"""Value of every row's ``format`` key."""


class TruncatedRowWarning(UserWarning):
    """The last line of a results table is half-written (a run was killed while it was being
    stored); it is ignored, and removed before the next row is appended."""


def provenance(started: str) -> dict[str, Any]:
    """Where and with what a run was computed (the worker calls this)."""
    from .. import __version__

    return {
        "version": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started": started,
        "finished": now(),
    }


def now() -> str:
    """The current UTC time, ISO 8601 with microseconds."""
    return datetime.datetime.now(datetime.UTC).isoformat()


_BAD = object()


def _parse(line: bytes):
    """A row, ``None`` for a blank line, or ``_BAD``."""
    if not line.strip():
        return None
    try:
        row = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _BAD
    return row if isinstance(row, dict) and "run_id" in row else _BAD


def _scan(data: bytes, path: Path) -> tuple[list[dict], int, str | None]:
    """``(rows, end, problem)``: the complete rows, the byte offset after the last one, and a
    description of a bad last line (``None`` if there is none).

    A bad last line is bytes after the last newline (a write cut short), or a last line that is
    not a row; a bad line anywhere else is not something a crash can leave, and raises."""
    cut = data.rfind(b"\n") + 1
    lines = data[:cut].split(b"\n")[:-1]
    rows, offset = [], 0
    for k, line in enumerate(lines, start=1):
        row = _parse(line)
        if row is _BAD:
            if k == len(lines) and cut == len(data):
                return rows, offset, f"line {k} of {str(path)!r} is not a complete row"
            raise InvalidParameterError(
                f"`path` must hold one JSON result row per line; got an invalid line {k} in "
                f"{str(path)!r} (only a half-written last line is repaired automatically)."
            )
        if row is not None:
            rows.append(row)
        offset += len(line) + 1
    if cut < len(data):
        return (
            rows,
            offset,
            (
                f"line {len(lines) + 1} of {str(path)!r} is half-written "
                f"({len(data) - cut} bytes, no newline)"
            ),
        )
    return rows, offset, None


def load_results(path) -> list[dict]:
    """Read a results table.

    Parameters
    ----------
    path : str or os.PathLike
        A ``results.jsonl`` written by :func:`strong_lth.experiments.run_sweep`.

    Returns
    -------
    list of dict
        The rows in file order, each with ``format``, ``run_id``, ``kind``, ``params``,
        ``result``, ``seconds`` and ``provenance`` (README "Sweeps and results").

    Raises
    ------
    InvalidParameterError
        If the file does not exist or a line other than the last is not a result row.

    Warns
    -----
    TruncatedRowWarning
        If the last line is half-written; it is left out (and the file left unchanged).
    """
    if not isinstance(path, str | os.PathLike):
        raise InvalidParameterError(f"`path` must be a file name; got {_fmt(path)}.")
    path = Path(path)
    if not path.is_file():
        raise InvalidParameterError(
            f"`path` must name an existing results file; got {str(path)!r}."
        )
    rows, _, problem = _scan(path.read_bytes(), path)
    if problem:
        warnings.warn(f"{problem}: ignored.", TruncatedRowWarning, stacklevel=2)
    return rows


class ResultsWriter:
    """Appends rows to a results table; used as a context manager by the sweep driver.

    Opening locks the file (POSIX ``flock``, released even on SIGKILL), reads the stored run
    ids, and truncates a half-written last line (with a :class:`TruncatedRowWarning`).
    """

    def __init__(self, path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise StrongLTHError(
                        f"{str(self.path)!r} is being written by another sweep; wait for it "
                        "or choose another output folder."
                    ) from None
            rows, end, problem = _scan(self._read(), self.path)
            if problem:
                warnings.warn(f"{problem}: removed.", TruncatedRowWarning, stacklevel=3)
                os.ftruncate(self._fd, end)
                os.fsync(self._fd)
        except BaseException:
            os.close(self._fd)
            raise
        self.run_ids = {row["run_id"] for row in rows}

    def _read(self) -> bytes:
        size = os.fstat(self._fd).st_size
        return os.pread(self._fd, size, 0) if size else b""

    def append(self, row: dict) -> None:
        """Write ``row`` as one line (a single write, then ``fsync``)."""
        line = (json.dumps(row, separators=(",", ":"), allow_nan=False) + "\n").encode()
        view = memoryview(line)
        while view:  # a regular file takes it in one write; the loop covers a short write
            view = view[os.write(self._fd, view) :]
        os.fsync(self._fd)
        self.run_ids.add(row["run_id"])

    def close(self) -> None:
        os.close(self._fd)

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
