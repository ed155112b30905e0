"""strong_lth: test the strong lottery ticket hypothesis by experiment.

Prune one fixed random ReLU network (no training) so that it approximates a target network,
certify how close it is, and compare the width it needed with the published bounds.
"""

from . import bounds, subset_sum
from .approximate import approximate
from .certify import Certificate, certify
from .distributions import Distribution, Gaussian, Uniform
from .exceptions import (
    CertificationError,
    InvalidParameterError,
    SolverError,
    StrongLTHError,
    TheoryAssumptionWarning,
)
from .networks import ReLUNetwork
from .random_network import RandomNetwork
from .report import LayerReport, Report
from .ticket import Ticket

__version__ = "0.1.0"

__all__ = [
    "Certificate",
    "CertificationError",
    "Distribution",
    "Gaussian",
    "InvalidParameterError",
    "LayerReport",
    "RandomNetwork",
    "ReLUNetwork",
    "Report",
    "SolverError",
    "StrongLTHError",
    "TheoryAssumptionWarning",
    "Ticket",
    "Uniform",
    "__version__",
    "approximate",
    "bounds",
    "certify",
    "subset_sum",
]
