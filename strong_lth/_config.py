"""Numba decorator options, kept in one place.

``cache=True`` everywhere so that a compiled kernel survives between processes; ``parallel=True``
only on the batch drivers; no ``fastmath`` anywhere, because certificates depend on IEEE results.
"""

import numba

KERNEL = {"nopython": True, "cache": True, "nogil": True}
"""Options for serial kernels."""

BATCH = {**KERNEL, "parallel": True}
"""Options for the ``prange`` batch drivers."""


def kernel(func):
    """Compile ``func`` as a serial numba kernel."""
    return numba.jit(**KERNEL)(func)


def batch(func):
    """Compile ``func`` as a parallel numba batch driver."""
    return numba.jit(**BATCH)(func)


def num_threads() -> int:
    """Number of threads numba's parallel batch drivers will use."""
    return numba.get_num_threads()
