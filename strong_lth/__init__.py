"""strong_lth: test the strong lottery ticket hypothesis by experiment.

Prune one fixed random ReLU network (no training) so that it approximates a target network,
certify how close it is, and compare the width it needed with the published bounds.

Every public name is imported on first use (PEP 562), so ``import strong_lth`` and the
``strong-lth`` command start without loading numba, OR-Tools or matplotlib. The functions
``approximate`` and ``certify`` live in the private modules ``_approximate`` and ``_certify``
(as scipy keeps ``minimize`` in ``scipy.optimize._minimize``), so ``strong_lth.certify`` is
always the function.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_SUBMODULES = ("bounds", "datasets", "features", "finders", "subset_sum")
"""Subpackages and modules reachable as attributes (``strong_lth.bounds.pensia_width``)."""

_NAMES = {
    "approximate": "_approximate",
    "approximate_conv": "_approximate_conv",
    "Certificate": "_certify",
    "certify": "_certify",
    "cheap_methods": "_certify",
    "rigorous_bounds": "_certify",
    "Distribution": "distributions",
    "Gaussian": "distributions",
    "Hyperbolic": "distributions",
    "Uniform": "distributions",
    "ExactErrorResult": "exact",
    "exact_error": "exact",
    "CertificationError": "exceptions",
    "FileFormatError": "exceptions",
    "InvalidParameterError": "exceptions",
    "NotFittedError": "exceptions",
    "SolverError": "exceptions",
    "StrongLTHError": "exceptions",
    "TheoryAssumptionWarning": "exceptions",
    "NeuronSubnetwork": "features",
    "RandomFeatures": "features",
    "WeightSubnetwork": "features",
    "ConvNetwork": "convnets",
    "ConvTicket": "conv_ticket",
    "ReLUNetwork": "networks",
    "ApproximateParameters": "parameters",
    "RandomNetwork": "random_network",
    "LayerReport": "report",
    "Report": "report",
    "Ticket": "ticket",
}
"""Public name -> the module that defines it."""

__all__ = sorted([*_NAMES, *_SUBMODULES, "__version__"])


def __getattr__(name: str):
    if name in _NAMES:
        value = getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
