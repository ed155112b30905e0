"""Numba decorator options, kept in one place.

``cache=True`` everywhere so that a compiled kernel survives between processes; ``parallel=True``
only on the batch drivers; no ``fastmath`` anywhere, because certificates depend on IEEE results.
"""

import types

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
    driver.serial = numba.jit(**KERNEL)(_twin(func))
    return driver


def _twin(func):
    """A copy of ``func`` under its own name (``<name>_serial``). Numba's on-disk cache keys a
    compiled function by file, qualified name, line and signature, not by its options: compiled
    from ``func`` itself, whichever of the parallel driver and its serial twin ran first would be
    loaded for both in every later process (measured: the exact ``mitm`` batch of 397,000
    instances ran on one thread, 5.5 s instead of 2.7 s on two)."""
    twin = types.FunctionType(
        func.__code__,
        func.__globals__,
        f"{func.__name__}_serial",
        func.__defaults__,
        func.__closure__,
    )
    twin.__qualname__ = f"{func.__qualname__}_serial"
    twin.__module__, twin.__doc__ = func.__module__, func.__doc__
    return twin


def pick(driver, chunks: int):
    """The parallel ``driver`` for several chunks, its serial twin for one."""
    return driver if chunks > 1 else driver.serial


def num_threads() -> int:
    """Number of threads numba's parallel batch drivers will use."""
    return numba.get_num_threads()
