"""Property-test the theorems: hypothesis strategies and checks for researchers.

State a conjecture ("with n values per input, every target of this class is approximated within
ε with probability at least 1 - δ") and let hypothesis search for a counterexample:

- strategies: :func:`relu_networks` (targets inside, or deliberately outside, the theorems'
  assumptions), :func:`subset_sum_instances`, :func:`widths`, :func:`epsilons`, :data:`seeds`, and
  :func:`examples` to draw from any strategy reproducibly;
- checks returning frozen results: :func:`check_ticket` (mask of the random network, gadget
  identity, measured <= certified <= ε), :func:`failure_rate` (with a Clopper-Pearson interval)
  and :func:`check_bound` (holds / inconclusive / violated, with a shrunk counterexample).

Needs hypothesis (``pip install 'strong_lth[testing]'``); the rest of strong_lth does not, so
``import strong_lth`` never imports this package.
"""

try:
    import hypothesis  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised by simulating a missing hypothesis
    raise ImportError(
        "strong_lth.testing needs the hypothesis package, which is not installed: "
        "pip install 'strong_lth[testing]' (or pip install hypothesis)."
    ) from exc

from .rates import (
    CRITERIA,
    BoundCheck,
    BoundStatus,
    FailureRate,
    PensiaBound,
    check_bound,
    clopper_pearson,
    failure_rate,
)
from .strategies import (
    VIOLATION_NORMS,
    epsilons,
    examples,
    relu_networks,
    seeds,
    subset_sum_instances,
    widths,
)
from .tickets import TicketCheck, check_ticket

__all__ = [
    "CRITERIA",
    "VIOLATION_NORMS",
    "BoundCheck",
    "BoundStatus",
    "FailureRate",
    "PensiaBound",
    "TicketCheck",
    "check_bound",
    "check_ticket",
    "clopper_pearson",
    "epsilons",
    "examples",
    "failure_rate",
    "relu_networks",
    "seeds",
    "subset_sum_instances",
    "widths",
]
