"""How batch drivers split B instances into per-thread chunks.

Each chunk allocates its scratch buffers once and solves its instances serially, so a batch of
millions of small instances costs one allocation per thread, and each instance's output row is
written by exactly one thread (no races, no reductions).
"""

from .._config import kernel, num_threads, pick


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
    """Call a batch ``driver(chunks, *args)``: in parallel over its chunks, or serially for one."""
    chunks = n_chunks(batch_size)
    return pick(driver, chunks)(chunks, *args)
