"""Result types of the SubsetSum solvers."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

__all__ = ["Status", "SubsetSumBatchResult", "SubsetSumResult"]


class Status(IntEnum):
    """What a solver can claim about its answer, strongest first.

    A time-out is a status, not an exception. Batch results store these codes in an ``int8`` array.
    """

    OPTIMAL = 0
    """Proven optimal (for grid methods: optimal on the grid, see ``quantization_bound``)."""
    WITHIN_TOLERANCE = 1
    """``error <= tol`` but optimality not proven (the solver may have stopped early)."""
    FEASIBLE = 2
    """A valid subset with no claim about its quality (heuristics)."""
    TIME_LIMIT = 3
    """The time limit stopped the solver before it proved optimality or reached ``tol``."""
    NOT_FOUND = 4
    """The solver returned no subset (the empty mask is reported)."""

    def __str__(self) -> str:
        """The name (``print(result.status)`` shows ``OPTIMAL``, not the code ``0``)."""
        return self.name

    def __format__(self, spec: str) -> str:
        """The name in f-strings; a format spec (``f"{status:d}"``) formats the code."""
        return self.name if not spec else format(int(self), spec)


MESSAGES = {
    Status.OPTIMAL: "optimal: no subset is closer to the target",
    Status.WITHIN_TOLERANCE: "within tolerance: error <= tol, optimality not proven",
    Status.FEASIBLE: "feasible: a valid subset, no optimality claim",
    Status.TIME_LIMIT: "time limit reached before optimality was proven",
    Status.NOT_FOUND: "no subset found before the solver stopped",
}


@dataclass(frozen=True, eq=False)
class SubsetSumResult:
    """Answer to one SubsetSum instance: the subset of ``values`` with sum closest to ``target``.

    Attributes
    ----------
    mask : ndarray of bool, shape (n,)
        Which values are in the subset.
    value : float
        The subset's sum, recomputed from ``mask`` (``math.fsum`` for :func:`solve`).
    error : float
        ``|value - target|``.
    status : Status
        What the solver proved (see :class:`Status`).
    method : str
        The registry name of the solver.
    target : float
        The instance's target.
    resolution : float
        Grid step of the quantised methods (``dp``, ``cpsat``); 0.0 for methods on floats.
    quantization_bound : float
        The error exceeds the optimum by at most this much; 0.0 for exact float methods, and
        ``(n + 1) * resolution`` for grid methods, whose OPTIMAL means optimal on the grid.
    message : str
        A human-readable explanation of ``status``.
    """

    mask: np.ndarray
    value: float
    error: float
    status: Status
    method: str
    target: float
    resolution: float = 0.0
    quantization_bound: float = 0.0
    message: str = ""

    @property
    def indices(self) -> np.ndarray:
        """Indices of the chosen values."""
        return np.flatnonzero(self.mask)


@dataclass(frozen=True, eq=False)
class SubsetSumBatchResult:
    """Answers to B instances, as arrays (row ``b`` answers instance ``b``).

    Attributes
    ----------
    masks : ndarray of bool, shape (B, n)
        ``masks[b, i]`` is True when value ``i`` of instance ``b`` is chosen; False past its length.
    values, errors, targets : ndarray of float64, shape (B,)
        Subset sums recomputed from the masks, ``|values - targets|``, and the targets.
    status : ndarray of int8, shape (B,)
        :class:`Status` codes.
    method : str
        The registry name of the solver.
    resolution, quantization_bound : ndarray of float64, shape (B,)
        As in :class:`SubsetSumResult`, per instance.
    """

    masks: np.ndarray
    values: np.ndarray
    errors: np.ndarray
    status: np.ndarray
    targets: np.ndarray
    method: str
    resolution: np.ndarray
    quantization_bound: np.ndarray

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, b: int) -> SubsetSumResult:
        """Instance ``b`` as a :class:`SubsetSumResult`."""
        status = Status(int(self.status[b]))
        return SubsetSumResult(
            mask=self.masks[b].copy(),
            value=float(self.values[b]),
            error=float(self.errors[b]),
            status=status,
            method=self.method,
            target=float(self.targets[b]),
            resolution=float(self.resolution[b]),
            quantization_bound=float(self.quantization_bound[b]),
            message=MESSAGES[status],
        )
