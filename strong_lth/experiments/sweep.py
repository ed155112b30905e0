"""A sweep: a grid of runs declared in a TOML file or a dict (:class:`Sweep`), and one run
of it (:class:`Run`) with the content hash that identifies it."""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import os
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._validation import DEFAULT_MAX_BYTES, _fmt, check_bytes, check_choice, check_int
from ..exceptions import InvalidParameterError
from ..networks import ReLUNetwork
from .kinds import KINDS

__all__ = ["MAX_RUNS", "RESULTS_FILE", "Run", "Sweep", "run_id"]

RESULTS_FILE = "results.jsonl"
"""Name of the results table inside a sweep's output folder."""

MAX_RUNS = 100_000
"""Default largest grid a sweep expands (runs counted before duplicates are merged); a sweep
file raises it with a top-level ``max_runs = ...``. Checking one run takes about 0.1 ms (0.09
to 0.17 ms measured on a loaded 2-core machine), so a grid of the default size is checked in
10 to 20 s; a larger one is refused at once, before any point is expanded."""

SWEEP_KEYS = ("grid", "max_bytes", "max_runs", "name", "output")


def run_id(kind: str, params: Mapping[str, Any]) -> str:
    """Content hash that identifies a run: equal parameters, equal id, on any machine.

    Parameters
    ----------
    kind : str
        The run kind.
    params : mapping
        Its canonical parameters (as :meth:`Sweep.runs` makes them: defaults filled in).

    Returns
    -------
    str
        The first 16 hex digits (64 bits) of the SHA-256 of the canonical JSON (sorted keys, no
        spaces) of ``{"kind": kind, **params}``.

    Notes
    -----
    A target read from a file enters through its bytes (``target_sha256``), not its path, so
    the same file under another name or on another machine gives the same id. The package
    version is *not* hashed: each row records it, and a sweep resumed after an upgrade keeps
    the runs already stored (start a new output folder to recompute them with the new version).

    Examples
    --------
    >>> run_id("subset_sum", {"n": 8, "seed": 0}) == run_id("subset_sum", {"seed": 0, "n": 8})
    True
    """
    identity = {"kind": kind, **params}
    if identity.get("target_sha256"):
        identity.pop("target")
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Run:
    """One point of a sweep's grid.

    Attributes
    ----------
    kind : str
        ``"approximate"`` or ``"subset_sum"``.
    params : dict
        Canonical parameters, every default filled in (JSON-ready).
    run_id : str
        :func:`run_id` of ``kind`` and ``params``.
    network : ReLUNetwork or None
        The target when it was read from a file (shipped to the worker with the run); ``None``
        when the worker samples it from ``params``.
    """

    kind: str
    params: dict
    run_id: str
    network: ReLUNetwork | None = field(default=None, compare=False, repr=False)


def _axis(key: str, value: Any) -> list:
    """The values a grid key takes: a list is an axis, except a target shape (a list of
    integers); anything else is one value."""
    if not isinstance(value, list):
        return [value]
    if key == "target" and value and all(isinstance(v, int) for v in value):
        return [value]
    return value


@dataclass(frozen=True)
class Sweep:
    """A grid of runs and the folder their results go to.

    Build one with :meth:`from_toml` or :meth:`from_dict`; run it with
    :func:`strong_lth.experiments.run_sweep`.

    Attributes
    ----------
    grid : tuple of dict
        One table per block of runs: ``kind`` and its parameters, each a single value or a list
        of values (an axis). A block expands to the Cartesian product of its axes, in the order
        the keys are written.
    output : pathlib.Path or None
        Output folder; the results table is ``output / "results.jsonl"``. ``None`` when the
        sweep leaves it to :func:`~strong_lth.experiments.run_sweep` (``output=``, the CLI's
        ``--out``).
    name : str
        Recorded in every row's provenance.
    base : pathlib.Path
        Folder that relative paths (``output``, target files) are resolved against: the TOML
        file's folder, or the working directory for a dict.
    max_runs : int
        Largest grid expanded (default :data:`MAX_RUNS`), counted as the product of the axis
        lengths of each block, summed over blocks, before any point is built.
    max_bytes : int
        Largest estimated memory of one run (default 1 GiB): the target's weights, the
        SubsetSum instances of a ``subset_sum`` run and the row holding their errors, the
        gadget weights of a fixed-width ``approximate`` run (automatic mode is bounded by
        ``max_values_per_input`` inside :func:`strong_lth.approximate`).

    Raises
    ------
    InvalidParameterError
        If a key is unknown or missing or a value is invalid; the message names the key, as
        ``grid[0].eps``. Every grid point is checked on construction, so a bad sweep fails
        before any run starts; a grid above ``max_runs`` or a run above ``max_bytes`` is
        refused with its size, before anything is allocated.

    Notes
    -----
    Kinds and their keys (defaults in brackets):

    - ``approximate``: ``target`` (a shape such as ``[8, 16, 4]``, sampled by
      ``ReLUNetwork.random(shape, rng=target_seed, spectral_norm=spectral_norm)``, or an
      ``.npz`` file of :meth:`ReLUNetwork.to_npz`), ``target_seed`` [0], ``spectral_norm``
      [1.0 for a shape; a file is rescaled only when it is given], then one key per swept
      field of :class:`~strong_lth.parameters.ApproximateParameters`, with its default:
      exactly one of ``values_per_input`` (an integer, or a list with one per layer: write
      ``[[20, 30]]`` for a single per-layer value) and ``eps``, ``construction``, ``solver``,
      ``radius``, ``seed`` (the random network's, required), ``distribution``,
      ``max_values_per_input``, ``subset_size``, ``max_subset_size``, ``fewest`` [true],
      ``source_density``.
    - ``subset_sum``: ``n``, ``instances`` [100], ``distribution`` ["uniform"], ``products``
      [false] (values ``u · v`` as in a Pensia gadget), ``solver`` ["mitm"], ``seed``.

    Examples
    --------
    >>> sweep = Sweep.from_dict({
    ...     "output": "out",
    ...     "grid": [{"kind": "subset_sum", "n": [4, 8], "seed": [0, 1, 2]}],
    ... })
    >>> len(sweep.runs()), sweep.runs()[0].params["instances"]
    (6, 100)
    """

    grid: tuple[dict, ...]
    output: Path | None = None
    name: str = "sweep"
    base: Path = field(default_factory=Path.cwd)
    max_runs: int = MAX_RUNS
    max_bytes: int = DEFAULT_MAX_BYTES

    def __post_init__(self) -> None:
        grid = self.grid
        if isinstance(grid, Mapping):
            grid = [grid]
        if not isinstance(grid, list | tuple) or not grid:
            raise InvalidParameterError(
                f"`grid` must be a non-empty list of tables; got {_fmt(self.grid)}."
            )
        for i, block in enumerate(grid):
            if not isinstance(block, Mapping):
                raise InvalidParameterError(f"`grid[{i}]` must be a table; got {_fmt(block)}.")
        if self.output is not None and not isinstance(self.output, str | os.PathLike):
            raise InvalidParameterError(
                f"`output` must be a folder name (a string); got {_fmt(self.output)}."
            )
        if not isinstance(self.name, str):
            raise InvalidParameterError(f"`name` must be a string; got {_fmt(self.name)}.")
        check_int("max_runs", self.max_runs, low=1)
        check_int("max_bytes", self.max_bytes, low=0)
        object.__setattr__(self, "grid", tuple(copy.deepcopy(dict(b)) for b in grid))
        if self.output is not None:
            object.__setattr__(self, "output", Path(self.output))
        object.__setattr__(self, "base", Path(self.base))
        size = self.size
        if size > self.max_runs:
            raise InvalidParameterError(
                f"`max_runs` must be at least {size} to expand this grid "
                f"({' + '.join(str(n) for n in self._block_sizes())} runs by block); got "
                f"{self.max_runs}. Raise it (max_runs = {size} in the sweep file, --max-runs on "
                "the command line) or split the sweep."
            )
        for _ in self.iter_runs():  # checks every grid point now, keeping none of them
            pass

    def _block_sizes(self) -> list[int]:
        return [
            math.prod(len(_axis(k, v)) for k, v in block.items() if k != "kind")
            for block in self.grid
        ]

    @property
    def size(self) -> int:
        """Grid points before duplicates are merged: the product of the axis lengths of each
        block, summed over blocks (an upper bound on ``len(runs())``, computed without
        expanding anything)."""
        return sum(self._block_sizes())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, base=None) -> Sweep:
        """A sweep from a dict with keys ``grid`` and optionally ``output``, ``name``,
        ``max_runs`` and ``max_bytes``.

        Parameters
        ----------
        data : mapping
            As a TOML sweep file parses (see the class notes and README "Sweeps and results").
        base : str or os.PathLike, optional
            Folder that relative paths are resolved against (default: the working directory).

        Returns
        -------
        Sweep

        Raises
        ------
        InvalidParameterError
            On an unknown, missing or invalid key (the message names it).
        """
        if not isinstance(data, Mapping):
            raise InvalidParameterError(f"`data` must be a table (dict); got {_fmt(data)}.")
        unknown = sorted(set(data) - set(SWEEP_KEYS))
        if unknown:
            listed = ", ".join(repr(k) for k in SWEEP_KEYS)
            raise InvalidParameterError(f"sweep keys must be among {listed}; got {unknown[0]!r}.")
        if "grid" not in data:
            raise InvalidParameterError("`grid` must be given; got nothing.")
        return cls(
            grid=data["grid"],
            output=data.get("output"),
            name=data.get("name", "sweep"),
            base=Path.cwd() if base is None else Path(base),
            max_runs=data.get("max_runs", MAX_RUNS),
            max_bytes=data.get("max_bytes", DEFAULT_MAX_BYTES),
        )

    @classmethod
    def from_toml(cls, path, *, max_runs=None, max_bytes=None) -> Sweep:
        """Read a sweep file (TOML: top-level ``output``, ``name``, and ``[[grid]]`` tables).

        Parameters
        ----------
        path : str or os.PathLike
            The file. Relative paths inside it are resolved against its folder; ``name``
            defaults to its stem. Its ``output`` must stay inside that folder (a sweep file
            cannot write elsewhere, e.g. with ``output = "../../x"``); choose another folder
            with ``run_sweep(output=...)`` or the CLI's ``--out``.
        max_runs, max_bytes : int, optional
            Limits that replace the file's ``max_runs`` and ``max_bytes`` (the CLI's
            ``--max-runs`` and ``--max-bytes``).

        Returns
        -------
        Sweep

        Raises
        ------
        InvalidParameterError
            If the file cannot be read, is not valid TOML, a key is invalid (named in the
            message), or ``output`` leaves the file's folder.
        """
        if not isinstance(path, str | os.PathLike):
            raise InvalidParameterError(f"`path` must be a file name; got {_fmt(path)}.")
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise InvalidParameterError(
                f"`path` must name a readable TOML file; got {str(path)!r} ({error.strerror})."
            ) from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise InvalidParameterError(
                f"`path` must be a valid TOML file; got {str(path)!r}: {error}."
            ) from None
        limits = {"max_runs": max_runs, "max_bytes": max_bytes}
        data = {"name": path.stem, **data, **{k: v for k, v in limits.items() if v is not None}}
        sweep = cls.from_dict(data, base=path.parent)
        if sweep.output is not None:
            folder = path.parent.resolve()
            resolved = (folder / sweep.output).resolve()
            if not resolved.is_relative_to(folder):
                raise InvalidParameterError(
                    f"`output` must be a folder inside the sweep file's folder {str(folder)!r}; "
                    f"got {str(sweep.output)!r}, which resolves to {str(resolved)!r} (write "
                    "elsewhere with --out or run_sweep(output=...))."
                )
        return sweep

    @property
    def results_path(self) -> Path:
        """The results table, ``output / "results.jsonl"`` (``output`` resolved against
        ``base``).

        Raises
        ------
        InvalidParameterError
            If the sweep has no ``output``.
        """
        if self.output is None:
            raise InvalidParameterError(
                "`output` must be given, in the sweep or as run_sweep(output=...) (the CLI's "
                "--out); got neither."
            )
        return self.base / self.output / RESULTS_FILE

    def runs(self) -> tuple[Run, ...]:
        """Every run of the grid, in order, each once (a run that two blocks both produce is
        kept at its first place): ``tuple(iter_runs())``.

        Returns
        -------
        tuple of Run

        Raises
        ------
        InvalidParameterError
            On an invalid grid point (the message names its key, as ``grid[i].key``).
        """
        return tuple(self.iter_runs())

    def iter_runs(self) -> Iterator[Run]:
        """The runs of :meth:`runs`, built one at a time: the grid is never expanded in memory
        (only the ids of the runs already produced are kept, to skip duplicates).

        Yields
        ------
        Run

        Raises
        ------
        InvalidParameterError
            On an invalid grid point, or one whose estimated memory exceeds ``max_bytes``.
        """
        seen: set[str] = set()
        for i, block in enumerate(self.grid):
            where = f"grid[{i}]"
            kind = check_choice(f"{where}.kind", block.get("kind"), KINDS)
            keys = [k for k in block if k != "kind"]
            axes = []
            for key in keys:
                axis = _axis(key, block[key])
                if not axis:
                    raise InvalidParameterError(
                        f"`{where}.{key}` must be a value or a non-empty list; got []."
                    )
                axes.append(axis)
            for point in itertools.product(*axes):
                params, network = KINDS[kind].params(dict(zip(keys, point)), where, self.base)
                check_bytes(
                    KINDS[kind].estimate(params),
                    self.max_bytes,
                    f"run {where} with {_fmt(dict(zip(keys, point)))} (estimated memory of "
                    "one run; set max_bytes in the sweep file or --max-bytes)",
                )
                rid = run_id(kind, params)
                if rid not in seen:
                    seen.add(rid)
                    yield Run(kind, params, rid, network)
