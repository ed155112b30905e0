"""The results table of a sweep: append-only JSON Lines, one row per run.

Each row is written by the driver with a single ``write`` of one complete line (ending in
``\\n``) followed by ``fsync``, so a crash or SIGKILL at any moment leaves the file as a
sequence of complete rows, possibly followed by one half-written line. :func:`load_results`
ignores such a line with a :class:`TruncatedRowWarning`; the writer truncates it before it
appends, so an interrupted sweep resumes without a duplicated, lost or corrupt row. A complete
line that is not a valid row of its kind (a key missing or of the wrong type, e.g. a bare
``{"run_id": 5}``) is reported with an :class:`InvalidRowWarning` and not counted: it is not
returned, and its run is computed again.
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
from .kinds import KINDS

try:  # POSIX advisory locks keep two drivers off one table; elsewhere there is no lock
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

__all__ = ["FORMAT", "InvalidRowWarning", "TruncatedRowWarning", "load_results", "provenance"]

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


class InvalidRowWarning(UserWarning):
    """A complete line of a results table is JSON but not a valid row (a key missing or of the
    wrong type); it is ignored, and its run is computed again by the next sweep."""


_BAD = object()
_ROW_TYPES = {
    "format": str,
    "run_id": str,
    "kind": str,
    "params": dict,
    "result": dict,
    "seconds": dict,
    "provenance": dict,
}


def _is(value, kind: str) -> bool:
    """Whether a JSON value has one of the types :class:`~.kinds.RunKind` names."""
    if kind.endswith(" list"):
        return (
            isinstance(value, list)
            and bool(value)
            and all(_is(v, kind.removesuffix(" list")) for v in value)
        )
    if kind == "bool" or isinstance(value, bool):
        return isinstance(value, bool) and kind == "bool"
    if kind == "int":
        return isinstance(value, int)
    if kind == "real":
        return isinstance(value, int | float)
    return isinstance(value, str)


def _got(table: dict, key: str) -> str:
    return _fmt(table[key]) if key in table else "nothing"


def row_problem(row: dict) -> str | None:
    """What makes a parsed line not a valid results row, or ``None`` if it is one.

    Checks the keys and types every row has (``format`` equal to :data:`FORMAT`, ``run_id``,
    ``kind`` a registered kind, ``params``, ``result``, ``seconds``, ``provenance``) and the
    kind's own ``param_types`` and ``result_types`` (:data:`~.kinds.KINDS`); an
    ``"approximate"`` result has one entry per layer in each list.
    """
    for key, kind in _ROW_TYPES.items():
        if not isinstance(row.get(key), kind):
            return f"`{key}` must be a {kind.__name__}; got {_got(row, key)}"
    if row["format"] != FORMAT:
        return f"`format` must be {FORMAT!r}; got {_fmt(row['format'])}"
    if row["kind"] not in KINDS:
        return f"`kind` must be one of {', '.join(map(repr, KINDS))}; got {_fmt(row['kind'])}"
    spec = KINDS[row["kind"]]
    for part, types in (("params", spec.param_types), ("result", spec.result_types)):
        for key, kind in types.items():
            if not _is(row[part].get(key), kind):
                article = "a non-empty" if " list" in kind else "a"
                return f"`{part}.{key}` must be {article} {kind}; got {_got(row[part], key)}"
    if row["kind"] == "approximate":
        lengths = {len(row["result"][k]) for k, t in spec.result_types.items() if " list" in t}
        if len(lengths) > 1:
            return "`result` lists must have one entry per layer; got lists of lengths " + (
                ", ".join(map(str, sorted(lengths)))
            )
    return None


def _parse(line: bytes):
    """A row, ``None`` for a blank line, or ``_BAD`` (not JSON, or JSON but not an object)."""
    if not line.strip():
        return None
    try:
        row = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return _BAD
    return row if isinstance(row, dict) else _BAD


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
            problem = row_problem(row)
            if problem is None:
                rows.append(row)
            else:
                warnings.warn(
                    f"line {k} of {str(path)!r} is not a valid result row ({problem}): "
                    "ignored, not counted as a run.",
                    InvalidRowWarning,
                    stacklevel=3,
                )
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
