"""strong_lth: test the strong lottery ticket hypothesis by experiment.

Prune one fixed random ReLU network (no training) so that it approximates a target network,
certify how close it is, and compare the width it needed with the published bounds.
"""

from . import subset_sum
from .exceptions import (
    CertificationError,
    InvalidParameterError,
    SolverError,
    StrongLTHError,
)

__version__ = "0.1.0"

__all__ = [
    "CertificationError",
    "InvalidParameterError",
    "SolverError",
    "StrongLTHError",
    "__version__",
    "subset_sum",
]
