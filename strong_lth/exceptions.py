"""Exceptions raised by strong_lth.

Every error the toolkit raises on purpose derives from :class:`StrongLTHError`, so callers can
catch the toolkit's errors without catching unrelated ones.
"""

__all__ = [
    "CertificationError",
    "FileFormatError",
    "InvalidParameterError",
    "NotFittedError",
    "SolverError",
    "StrongLTHError",
    "TheoryAssumptionWarning",
]


class StrongLTHError(Exception):
    """Root of every exception raised on purpose by strong_lth."""


class InvalidParameterError(StrongLTHError, ValueError, TypeError):
    """A parameter has the wrong type, shape or value.

    The message names the parameter, what was expected and what was given, e.g.
    "`eps` must be in (0, 1); got 1.5.". It subclasses both ValueError and TypeError so that
    code written against NumPy/scikit-learn conventions catches it either way.
    """


class FileFormatError(InvalidParameterError):
    """A file handed to a loader is missing, unreadable or not in the format the loader reads.

    Raised by :meth:`~strong_lth.ticket.Ticket.load` and
    :meth:`~strong_lth.networks.ReLUNetwork.from_npz` for every malformed file (not a zip, a
    truncated or corrupt entry, missing or unexpected keys, a header that is not the expected
    JSON, arrays of the wrong dtype), instead of whatever NumPy, :mod:`zipfile` or :mod:`json`
    would raise. It is an :class:`InvalidParameterError`: the bad parameter is the path.
    """


class NotFittedError(StrongLTHError, ValueError, AttributeError):
    """``predict`` or ``score`` was called before ``fit`` (as scikit-learn's NotFittedError)."""


class SolverError(StrongLTHError, RuntimeError):
    """A solver returned an answer that failed its independent re-check (a bug, never bad input)."""


class CertificationError(StrongLTHError, RuntimeError):
    """A measured error exceeded the certified bound, or a claimed maximiser did not reproduce."""


class TheoryAssumptionWarning(UserWarning):
    """A target breaks an assumption of the theorems (biases, spectral norm > 1, radius > 1).

    The toolkit still runs; bound comparisons say that the theorem does not apply as stated.
    """
