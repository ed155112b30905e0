"""Constructions: target layer + random gadget weights -> which random weights to keep.

Each construction is a function
``choose(weights, network, layer, *, solver, tol, start) -> (keep, sums, status)`` for one
layer pair (see :func:`strong_lth.constructions.pensia.choose`); :data:`CONSTRUCTIONS` maps
names to them. Adding one means writing such a function and registering it here.
"""

from . import malach, pensia

CONSTRUCTIONS = {"pensia": pensia.choose, "malach": malach.choose}
"""Registry of constructions by name (``approximate(construction=...)``)."""

__all__ = ["CONSTRUCTIONS"]
