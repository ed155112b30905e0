"""Constructions: target layer + random network -> which random weights to keep.

A construction declares itself in :data:`CONSTRUCTIONS` with a :class:`Construction`: its
paper, the layer shapes and depth of its random network, the options of
:func:`strong_lth.approximate` it supports, its width bound (:mod:`strong_lth.bounds`) and its
``choose`` function. The ticket, the report, the CLI and sweeps read the declaration and never
name a construction; adding one means writing its ``choose`` and declaring it here.

``choose(weights, network, layer, *, signed=None, solver, tol, start, size, fewest,
max_size) -> (keep, sums, status)`` prunes the random layers of target layer ``layer`` (see
:func:`strong_lth.constructions.pensia.choose`).

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

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .. import bounds
from ..random_network import pair_shapes
from . import burkholz, malach, pensia

__all__ = ["CONSTRUCTIONS", "Construction"]


@dataclass(frozen=True)
class Construction:
    """What a construction declares.

    Attributes
    ----------
    name : str
        Its key in :data:`CONSTRUCTIONS` (``approximate(construction=name)``).
    paper : str
        The paper it implements, as a citation with its arXiv number.
    shapes : callable
        ``shapes(widths, values_per_input) -> [(rows, cols), ...]``: the layer shapes of its
        random network from the (bias-augmented) target widths ``(d_0, ..., d_l)`` and one
        ``n_i`` per target layer (:class:`~strong_lth.random_network.RandomNetwork` ``shapes``).
    depth : callable
        ``depth(l)``: the number of random layers for a target of depth ``l``
        (``len(shapes(...))``).
    options : frozenset of str
        The per-construction options of :class:`~strong_lth.parameters.ApproximateParameters`
        it supports (``subset_size``, ``fewest``: it keeps subsets within a tolerance,
        ``source_density``, ``scheduler``: its layers solved in shards of rows on a Dask
        cluster, :mod:`strong_lth._shards`); the others must keep their defaults.
        ``"solver"`` when it solves SubsetSum instances with ``approximate``'s solver.
    bound : callable
        ``bound(d_in, d_out, depth, eps, delta, *, C)``: the hidden width per target layer its
        paper proves sufficient (:mod:`strong_lth.bounds`), ``C`` the paper's unspecified
        constant.
    choose : callable
        The pruning of one target layer (module docstring).
    pair_gadget : bool
        Target layer ``i`` is the pair ``M_{2i-1}, M_{2i}`` of the [P] gadget (each hidden unit
        keeps one input weight): the ticket checks the gadget's invariants and computes its
        ``(A_i, B_i)`` (:meth:`strong_lth.ticket.Ticket.gadgets`).
    solve : callable or None
        For a construction that is not ``pair_gadget``, whose layers cannot be searched one at
        a time: ``solve(target, network, *, eps, values_per_input, radius, solver, fewest,
        max_values_per_input, max_bytes, client) -> (values_per_input, masks)``, the whole
        ticket in either mode of :func:`strong_lth.approximate` (e.g.
        :func:`strong_lth.constructions.burkholz.solve`; ``client`` a ``distributed.Client``
        or None), refusing a solve estimated above ``max_bytes`` before allocating it.
    certificate : callable or None
        With ``solve``: ``certificate(target, network, masks, radius)`` returns the figures of
        its rigorous bound (:class:`strong_lth.constructions.burkholz.Parts`), which
        :func:`strong_lth.certify` reports for its tickets.
    """

    name: str
    paper: str
    shapes: Callable
    depth: Callable[[int], int]
    options: frozenset
    bound: Callable
    choose: Callable
    pair_gadget: bool = True
    solve: Callable | None = None
    certificate: Callable | None = None


def _twice(depth: int) -> int:
    """``2 l``: one pair of random layers per target layer."""
    return 2 * depth


CONSTRUCTIONS: dict[str, Construction] = {
    c.name: c
    for c in (
        Construction(
            name="pensia",
            paper="Pensia, Rajput, Nagle, Vishwakarma, Papailiopoulos, Optimal Lottery Tickets "
            "via SubsetSum, NeurIPS 2020, arXiv:2006.07990 (subsets of products)",
            shapes=pair_shapes,
            depth=_twice,
            options=frozenset(
                {
                    "solver",
                    "subset_size",
                    "max_subset_size",
                    "fewest",
                    "source_density",
                    "scheduler",
                }
            ),
            bound=bounds.pensia_width,
            choose=pensia.choose,
        ),
        Construction(
            name="malach",
            paper="Malach, Yehudai, Shalev-Shwartz, Shamir, Proving the Lottery Ticket "
            "Hypothesis: Pruning is All You Need, ICML 2020, arXiv:2002.00585 (one product "
            "per weight)",
            shapes=pair_shapes,
            depth=_twice,
            options=frozenset({"source_density", "scheduler"}),
            bound=bounds.malach_layer_width,
            choose=malach.choose,
        ),
        Construction(
            name="burkholz",
            paper="Burkholz, Most Activation Functions Can Win the Lottery Without Excessive "
            "Depth, NeurIPS 2022, arXiv:2205.02321 (depth l + 1: copies of every neuron, "
            "subsets of plain weights after the first layer)",
            shapes=burkholz.shapes,
            depth=burkholz.depth,
            options=frozenset({"solver", "fewest", "source_density", "scheduler"}),
            bound=burkholz.width_bound,
            choose=burkholz.choose,
            pair_gadget=False,
            solve=burkholz.solve,
            certificate=burkholz.certificate_parts,
        ),
    )
}
"""Registry of constructions by name (``approximate(construction=...)``)."""
