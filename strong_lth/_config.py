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
    """Compile ``func`` as a parallel numba batch driver, with its serial twin as ``.serial``.

    Waking the thread pool costs more than a small batch takes, so callers use ``.serial`` (the
    same code with ``prange`` run as ``range``) when there is a single chunk of work.
    """
    driver = numba.jit(**BATCH)(func)
    driver.serial = numba.jit(**KERNEL)(func)
    return driver


def pick(driver, chunks: int):
    """The parallel ``driver`` for several chunks, its serial twin for one."""
    return driver if chunks > 1 else driver.serial


def num_threads() -> int:
    """Number of threads numba's parallel batch drivers will use."""
    return numba.get_num_threads()
