"""Connecting to a Dask distributed cluster: shared by sharded sweeps
(:func:`strong_lth.experiments.run_sweep`) and sharded approximation
(:func:`strong_lth.approximate`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ._validation import _fmt
from .exceptions import InvalidParameterError

__all__ = ["CONNECT_SECONDS", "check_reachable", "check_scheduler", "connect"]

CONNECT_SECONDS = 10.0
"""Seconds to reach a scheduler given by address before the call gives up with an
:class:`~strong_lth.exceptions.InvalidParameterError` (Dask's own default waits 30 s and retries
a refused connection until then)."""


def check_scheduler(scheduler: Any) -> None:
    """Raise unless ``scheduler`` is a Dask address or client (and dask.distributed exists).

    Raises
    ------
    InvalidParameterError
        If dask.distributed is not installed, or ``scheduler`` is neither a string with a
        protocol (``"tcp://host:8786"``) nor a ``distributed.Client``.
    """
    try:
        import distributed
    except ImportError:
        raise InvalidParameterError(
            "`scheduler` needs dask.distributed (pip install 'strong_lth[dask]'); got "
            f"{_fmt(scheduler)} without it installed."
        ) from None
    if not (
        (isinstance(scheduler, str) and "://" in scheduler)
        or isinstance(scheduler, distributed.Client)
    ):
        raise InvalidParameterError(
            "`scheduler` must be a Dask scheduler address such as 'tcp://host:8786' or a "
            f"distributed.Client; got {_fmt(scheduler)}."
        )


@contextlib.contextmanager
def connect(scheduler: Any, *, timeout: float | None = None) -> Iterator[Any]:
    """A ``distributed.Client`` for ``scheduler``, or None for None.

    Parameters
    ----------
    scheduler : None, str or distributed.Client
        An address is connected to (within ``timeout`` seconds) and its client closed on exit;
        a client is used as it is and left open.
    timeout : float, optional
        Seconds to wait for a scheduler given by address (default :data:`CONNECT_SECONDS`).

    Yields
    ------
    distributed.Client or None

    Raises
    ------
    InvalidParameterError
        If ``scheduler`` is not an address or client (:func:`check_scheduler`), or no scheduler
        answers at the address within ``timeout`` (refused, unknown host, bad protocol).
    """
    if scheduler is None:
        yield None
        return
    check_scheduler(scheduler)
    import distributed

    timeout = CONNECT_SECONDS if timeout is None else timeout
    if isinstance(scheduler, distributed.Client):
        yield scheduler
        return
    try:
        # an unknown protocol fails here, before a client exists (whose clean-up would wait)
        distributed.comm.registry.get_backend(distributed.comm.parse_address(scheduler)[0])
        client = distributed.Client(scheduler, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as error:
        raise InvalidParameterError(
            f"`scheduler` must be the address of a running Dask scheduler; none answered at "
            f"{scheduler!r} within {timeout:g} s ({type(error).__name__}: {error}); got "
            f"{_fmt(scheduler)}."
        ) from None
    try:
        yield client
    finally:
        client.close()


def check_reachable(scheduler: Any) -> None:
    """Connect to ``scheduler`` and disconnect: :func:`connect`'s errors, raised before a long
    computation rather than after it (a client is only checked, not touched).

    Raises
    ------
    InvalidParameterError
        As :func:`connect`.
    """
    with connect(scheduler):
        pass
