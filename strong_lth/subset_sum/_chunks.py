"""How batch drivers split B instances into slices and per-thread chunks.

A batch is solved in consecutive *slices* of instances, one compiled call each, so that Python
regains control between calls: a Ctrl-C (``KeyboardInterrupt``) is raised at the next slice
boundary instead of after the whole batch. Slices start at one instance per thread and grow
geometrically while a call takes less than :data:`SLICE_SECONDS`, so small batches cost one call
and large ones a handful more than they would in one call.

Within a slice, each chunk allocates its scratch buffers once and solves its instances serially,
so a batch of millions of small instances costs one allocation per thread and slice, and each
instance's output row is written by exactly one thread (no races, no reductions).
"""

import time

import numpy as np

from .._config import kernel, num_threads, pick

SLICE_SECONDS = 0.1
"""Target wall time of one compiled call: the longest wait for an interruption to be seen
(beyond the time of a single instance, which is never split)."""


def n_chunks(batch_size: int) -> int:
    """Number of chunks for a batch: one per thread, never more than instances."""
    return max(1, min(batch_size, num_threads()))


@kernel
def longest(lengths):
    """Largest entry of ``lengths`` (0 for none): sizes the scratch buffers of a chunk."""
    top = 0
    for length in lengths:
        top = max(top, length)
    return top


@kernel
def chunk_range(chunk, chunks, batch_size):
    """Half-open range ``[lo, hi)`` of instances handled by ``chunk`` out of ``chunks``."""
    return chunk * batch_size // chunks, (chunk + 1) * batch_size // chunks


def launch(driver, batch_size, *args):
    """Call a batch ``driver(chunks, *args)`` on consecutive slices of the batch.

    Every array in ``args`` is per instance (first axis of length ``batch_size``) and is passed
    as the slice's view, so outputs are written in place; other arguments are passed unchanged.
    Each slice runs in parallel over its chunks, or serially for one chunk.
    """
    size = n_chunks(batch_size)
    lo = 0
    while lo < batch_size:
        hi = min(batch_size, lo + size)
        sliced = [a[lo:hi] if isinstance(a, np.ndarray) else a for a in args]
        chunks = n_chunks(hi - lo)
        start = time.perf_counter()
        pick(driver, chunks)(chunks, *sliced)
        elapsed = time.perf_counter() - start
        lo = hi
        if elapsed < SLICE_SECONDS / 4:
            size *= 4
        elif elapsed < SLICE_SECONDS / 2:
            size *= 2
