"""Constructions: target layer + random gadget weights -> which random weights to keep.

Each construction is a function
``choose(weights, network, layer, *, signed=None, solver, tol, start) -> (keep, sums, status)``
for one layer pair (see :func:`strong_lth.constructions.pensia.choose`); :data:`CONSTRUCTIONS`
maps names to them. Adding one means writing such a function and registering it here.

``signed`` (bool, shape ``(d_in,)``) says which inputs of the pair can be negative, as
:func:`strong_lth.gadgets.signed_inputs` computes them. A unit whose input weight ``u < 0``
reads an input that is never negative never fires, so a construction solves only the
positive-pool instances of such an input and keeps none of its ``u < 0`` units: ``keep`` has no
such unit and ``B[:, j]`` (``sums[1][:, j]``) is 0. The default, ``None``, is what the layer
index alone determines: every input of pair 1 signed, none of a later pair (which reads a ReLU
output). Only the caller knows whether pair 1's last input is the constant 1 that carries the
target's biases; it passes ``signed_inputs(1, d_in, input_bias)`` to drop those units too.
Passing all-True everywhere reproduces the tickets built before dead units were dropped.
"""

from . import malach, pensia

CONSTRUCTIONS = {"pensia": pensia.choose, "malach": malach.choose}
"""Registry of constructions by name (``approximate(construction=...)``)."""

__all__ = ["CONSTRUCTIONS"]
