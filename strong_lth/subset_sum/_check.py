"""Independent re-check of solver answers: every reported sum is recomputed from its mask.

The solvers build sums incrementally (merges, tables, running totals); the re-check adds the
masked values afresh, so a wrong mask, a stale total or an indexing slip is caught before any
result is returned (as scipy's ``_check_result`` does for optimizers).
"""

import math

import numpy as np
from numba import prange

from .._config import batch
from ..exceptions import SolverError
from ._chunks import launch

ROUNDING_FACTOR = 4.0
"""Solver sums and recomputed sums differ by rounding only: at most ``n u sum|v|`` each way for
recursive summation of n terms (Higham, *Accuracy and Stability*, eq. 4.4), so agreement within
``4 n u sum|v|`` (``u`` = unit roundoff) accepts every honest answer and rejects any wrong mask."""


@batch
def compensated_masked_sums(chunks, values, masks, lengths, out_sums, out_abs):
    """Neumaier-compensated sum of each row's masked values (error about one rounding of the sum),
    and the sum of their magnitudes."""
    for b in prange(values.shape[0]):  # one row per iteration: ``chunks`` only picks the driver
        s = 0.0
        comp = 0.0
        magnitude = 0.0
        for i in range(lengths[b]):
            if masks[b, i]:
                v = values[b, i]
                t = s + v
                if abs(s) >= abs(v):
                    comp += (s - t) + v
                else:
                    comp += (v - t) + s
                s = t
                magnitude += abs(v)
        out_sums[b] = s + comp
        out_abs[b] = magnitude


def recompute_sums(values, masks, lengths, *, exact_single=False):
    """Sums of the masked values per row, and the magnitudes ``sum |v|`` over each subset.

    With ``exact_single`` (one instance) the sum is ``math.fsum``, correctly rounded; otherwise a
    compensated numba kernel, accurate to about one rounding, since a Python loop of ``fsum`` over
    millions of rows would cost more than solving them.
    """
    sums = np.empty(values.shape[0])
    magnitudes = np.empty(values.shape[0])
    launch(compensated_masked_sums, values.shape[0], values, masks, lengths, sums, magnitudes)
    if exact_single:
        sums[0] = math.fsum(values[0, : lengths[0]][masks[0, : lengths[0]]])
    return sums, magnitudes


def check_sums(method, solver_sums, sums, magnitudes, lengths):
    """Raise :class:`SolverError` if a solver's own sum disagrees with the recomputed one."""
    allowed = ROUNDING_FACTOR * np.maximum(lengths, 1) * np.finfo(np.float64).eps * magnitudes
    bad = np.flatnonzero(~(np.abs(solver_sums - sums) <= allowed))
    if bad.size:
        b = int(bad[0])
        raise SolverError(
            f"method {method!r} reported sum {float(solver_sums[b])!r} for instance {b}, but its "
            f"mask sums to {float(sums[b])!r} ({bad.size} instance(s) disagree): this is a bug."
        )


def check_sizes(method, masks, sizes):
    """Raise :class:`SolverError` if a mask does not hold exactly its instance's ``size`` values."""
    counts = np.count_nonzero(masks, axis=1)
    bad = np.flatnonzero(counts != sizes)
    if bad.size:
        b = int(bad[0])
        raise SolverError(
            f"method {method!r} chose {counts[b]} values for instance {b}, which asked for "
            f"size={sizes[b]} ({bad.size} instance(s) disagree): this is a bug."
        )
