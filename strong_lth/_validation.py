"""Input checks shared by every public entry point.

Each check either returns the value in canonical form or raises
:class:`~strong_lth.exceptions.InvalidParameterError` with a message of the form
"`name` must be <expected>; got <given>.". Kernels never validate: the public wrappers call these.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from .exceptions import InvalidParameterError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "as_generator",
    "check_array",
    "check_bool",
    "check_bytes",
    "check_choice",
    "check_inputs",
    "check_int",
    "check_real",
    "format_bytes",
    "interval_text",
    "resolve_seed",
]

DEFAULT_MAX_BYTES = 2**30
"""Default memory limit (1 GiB) of every entry point that allocates in proportion to a size the
user gives; each takes ``max_bytes`` (the CLI ``--max-bytes``) to raise it."""


def _fmt(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as ``int`` after checking it is an integer in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidParameterError(f"`{name}` must be an integer; got {_fmt(value)}.")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        lo = "-inf" if low is None else str(low)
        hi = "inf" if high is None else str(high)
        raise InvalidParameterError(f"`{name}` must be in [{lo}, {hi}]; got {value}.")
    return value


def check_real(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a finite ``float`` in the given interval (open or closed ends)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidParameterError(f"`{name}` must be a real number; got {_fmt(value)}.")
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if not math.isfinite(value) or too_low or too_high:
        expected = interval_text(low, high, low_open, high_open)
        raise InvalidParameterError(f"`{name}` must be in {expected}; got {value!r}.")
    return value


def interval_text(low, high, low_open=False, high_open=False) -> str:
    """An interval as messages write it: ``(0, 1]``, ``[0, inf)``."""
    left = "(" if low_open or low is None else "["
    right = ")" if high_open or high is None else "]"
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    return f"{left}{lo}, {hi}{right}"


def check_array(
    name: str,
    value: Any,
    *,
    ndim: int | None = None,
    shape: tuple[int | None, ...] | None = None,
    dtype: type = np.float64,
    finite: bool = True,
) -> np.ndarray:
    """Return ``value`` as a C-contiguous array of ``dtype`` after checking ndim, shape, finiteness.

    ``shape`` entries that are ``None`` match any length.
    """
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nested lists, objects
        raise InvalidParameterError(f"`{name}` must be array-like; got {_fmt(value)}.") from exc
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise InvalidParameterError(
            f"`{name}` must hold real numbers; got dtype {arr.dtype} from {_fmt(value)}."
        )
    if np.dtype(dtype).kind in "iu" and arr.dtype.kind == "f":
        if arr.size and not np.all(np.isfinite(arr) & (arr == np.round(arr))):
            raise InvalidParameterError(f"`{name}` must hold integers; got non-integer values.")
    if ndim is not None and arr.ndim != ndim:
        raise InvalidParameterError(
            f"`{name}` must be {ndim}-dimensional; got {arr.ndim} dimension(s), shape {arr.shape}."
        )
    if shape is not None:
        expected = tuple("any" if s is None else s for s in shape)
        if len(shape) != arr.ndim or any(
            s is not None and s != a for s, a in zip(shape, arr.shape, strict=False)
        ):
            raise InvalidParameterError(f"`{name}` must have shape {expected}; got {arr.shape}.")
    arr = np.asarray(arr, dtype=dtype, order="C")  # keeps 0-d arrays 0-d
    if finite and arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise InvalidParameterError(
            f"`{name}` must be finite; got {bad} NaN or infinite entr{'y' if bad == 1 else 'ies'}."
        )
    return arr


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` after checking it is ``True`` or ``False`` (a NumPy bool too), never a
    truthy string such as ``"yes"`` or ``"false"``, nor ``0``/``1``.

    Examples
    --------
    >>> check_bool("bias", np.True_)
    True
    >>> check_bool("bias", "yes")
    Traceback (most recent call last):
    ...
    strong_lth.exceptions.InvalidParameterError: `bias` must be True or False; got 'yes'.
    """
    if not isinstance(value, bool | np.bool_):
        raise InvalidParameterError(f"`{name}` must be True or False; got {_fmt(value)}.")
    return bool(value)


def format_bytes(count: float) -> str:
    """A byte count as people read it: ``"512 B"``, ``"1.5 KiB"``, ``"74.5 GiB"``.

    Examples
    --------
    >>> format_bytes(512), format_bytes(1536), format_bytes(80e9)
    ('512 B', '1.5 KiB', '74.5 GiB')
    """
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024 or unit == "PiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.3g} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def check_bytes(need: float, max_bytes: Any, what: str, *, name: str = "max_bytes") -> None:
    """Refuse, before allocating, an estimated ``need`` bytes above the limit ``max_bytes``.

    Parameters
    ----------
    need : float
        Estimated bytes (may exceed any integer type: products of user sizes are computed in
        floating point).
    max_bytes : int
        The limit (``>= 0``), checked here too.
    what : str
        What would be allocated, completing "to <what>" in the message.
    name : str
        How the limit is spelled where the user sets it (``max_bytes``, ``--max-bytes``).

    Raises
    ------
    InvalidParameterError
        "`max_bytes` must be at least 80000000000 (74.5 GiB) to <what>; got 1073741824.".

    Examples
    --------
    >>> check_bytes(2**20, 2**30, "draw it")
    >>> check_bytes(80e9, 2**30, "draw it")
    Traceback (most recent call last):
    ...
    strong_lth.exceptions.InvalidParameterError: `max_bytes` must be at least 80000000000 \
(74.5 GiB) to draw it; got 1073741824.
    """
    limit = check_int(name, max_bytes, low=0)
    if need > limit:
        raise InvalidParameterError(
            f"`{name}` must be at least {need:.0f} ({format_bytes(need)}) to {what}; got {limit}."
        )


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """Return ``value`` after checking it is one of ``choices``."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise InvalidParameterError(f"`{name}` must be one of {listed}; got {_fmt(value)}.")
    return value


def as_generator(rng: Any, name: str = "rng") -> np.random.Generator:
    """Return a ``numpy.random.Generator`` from ``None``, an integer seed or a Generator."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise InvalidParameterError(
        f"`{name}` must be None, a non-negative integer seed or a numpy.random.Generator; "
        f"got {_fmt(rng)}."
    )


def resolve_seed(rng: Any, name: str = "rng") -> int:
    """Return a non-negative 63-bit integer seed from ``None``, an integer or a Generator.

    An integer is returned unchanged, so the seed a user gives is the seed that gets recorded;
    ``None`` draws fresh entropy and a Generator draws one integer, so the result is recorded and
    the run can be repeated bit for bit from it.
    """
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return check_int(name, rng, low=0, high=2**63 - 1)
    return int(as_generator(rng, name).integers(0, 2**63 - 1))


def check_inputs(name: str, value: Any, dim: int) -> np.ndarray:
    """Return network inputs ``value`` of shape ``(dim,)`` or ``(batch, dim)`` as a finite
    float64 array (as :func:`check_array`)."""
    arr = check_array(name, value)
    if arr.ndim not in (1, 2) or arr.shape[-1] != dim:
        raise InvalidParameterError(
            f"`{name}` must have shape ({dim},) or (batch, {dim}); got {arr.shape}."
        )
    return arr
