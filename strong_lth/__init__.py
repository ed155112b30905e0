"""strong_lth: test the strong lottery ticket hypothesis by experiment.

Prune one fixed random ReLU network (no training) so that it approximates a target network,
certify how close it is, and compare the width it needed with the published bounds.
"""

from . import bounds, datasets, features, subset_sum
from .approximate import approximate
from .certify import Certificate, certify
from .distributions import Distribution, Gaussian, Uniform
from .exact import ExactErrorResult, exact_error
from .exceptions import (
    CertificationError,
    FileFormatError,
    InvalidParameterError,
    NotFittedError,
    SolverError,
    StrongLTHError,
    TheoryAssumptionWarning,
)
from .features import NeuronSubnetwork, RandomFeatures, WeightSubnetwork
from .networks import ReLUNetwork
from .random_network import RandomNetwork
from .report import LayerReport, Report
from .ticket import Ticket

__version__ = "0.1.0"

__all__ = [
    "Certificate",
    "CertificationError",
    "Distribution",
    "ExactErrorResult",
    "FileFormatError",
    "Gaussian",
    "InvalidParameterError",
    "LayerReport",
    "NeuronSubnetwork",
    "NotFittedError",
    "RandomFeatures",
    "RandomNetwork",
    "ReLUNetwork",
    "Report",
    "SolverError",
    "StrongLTHError",
    "TheoryAssumptionWarning",
    "Ticket",
    "Uniform",
    "WeightSubnetwork",
    "__version__",
    "approximate",
    "bounds",
    "certify",
    "datasets",
    "exact_error",
    "features",
    "subset_sum",
]
