"""What the two grid methods (``dp``, ``cpsat``) share: the finest step, the magnitudes in use.

Both round each value to ``k_i q`` and the target to ``T q`` for a step ``q > 0``; the bound this
costs is proved in :func:`strong_lth.subset_sum.solve`'s Notes.
"""

import numpy as np

SMALLEST_STEP = float(np.nextafter(0.0, 1.0))
"""Finest grid step, ``2^-1074`` (the smallest subnormal). Every float is an integer multiple of
it, so a default step floored here represents subnormal instances exactly, where an unfloored
``sum|v| / cells`` would underflow to 0 and divide by zero."""


def used_magnitudes(values, lengths):
    """``|values|`` with the entries past each row's length set to 0 (they may hold NaN)."""
    used = np.arange(values.shape[1]) < lengths[:, None]
    return np.where(used, np.abs(values), 0.0)
