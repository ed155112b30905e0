"""Check one ticket against everything the theory says it is: :func:`check_ticket`."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._certify import METHODS, certified_error, certify, cheap_methods, rigorous_bounds
from .._validation import as_generator, check_int, check_real
from ..exceptions import CertificationError, InvalidParameterError
from ..gadgets import AGREEMENT, error_matrix, gadget_form, signed_inputs
from ..networks import ReLUNetwork
from ..ticket import Ticket

__all__ = ["TicketCheck", "check_ticket"]


@dataclass(frozen=True)
class TicketCheck:
    """What :func:`check_ticket` found; ``passed`` when ``failures`` is empty.

    Attributes
    ----------
    eps : float
        The error the ticket is claimed to reach.
    mask_mismatches : int
        Entries where the pruned network differs from ``M_j ⊙ S_j`` (random weights times the
        ticket's binary masks): 0 when every kept weight is the random weight, unchanged.
    gadget_gap : float
        Largest ``|M_{2i} σ(M_{2i-1} h) - (A_i σ(h) - B_i σ(-h))|`` over the layer pairs and the
        probe inputs ``h``, relative to the size of the outputs.
    certified : float
        ``e_l`` recomputed from the ticket's ``(A_i, B_i)`` and the target
        (docs/theory.md, section 5).
    measured : float
        Worst error found by :func:`~strong_lth.certify` on the dense pruned network (NaN when
        it raised :class:`~strong_lth.CertificationError`).
    sampled : float
        Largest ``||F(x) - G(x)||_2`` over fresh random inputs, from the two networks' own
        forward passes (no gadget form involved).
    reported : float or None
        ``ticket.report.certified`` when the ticket carries a report.
    failures : tuple of str
        One sentence per failed property.
    """

    eps: float
    mask_mismatches: int
    gadget_gap: float
    certified: float
    measured: float
    sampled: float
    reported: float | None
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """Every property holds."""
        return not self.failures

    def __str__(self) -> str:
        head = (
            f"ticket check {'passed' if self.passed else 'FAILED'}: measured {self.measured:.3e}, "
            f"sampled {self.sampled:.3e}, certified {self.certified:.3e}, eps {self.eps:g}; "
            f"{self.mask_mismatches} mask mismatches, gadget gap {self.gadget_gap:.1e}"
        )
        return "\n".join([head, *(f"  - {reason}" for reason in self.failures)])


def _augmented_first(network: ReLUNetwork, input_bias: bool) -> list[np.ndarray]:
    """Weights of the pruned network on ``[x, 1]``: the folded constant input unfolded."""
    weights = list(network.weights)
    if input_bias:
        weights[0] = np.hstack([weights[0], network.biases[0][:, None]])
    return weights


def _mask_mismatches(ticket: Ticket, weights: list[np.ndarray]) -> int:
    random = ticket.random_network()
    mismatches = 0
    for layer, (positions, pruned) in enumerate(zip(ticket.masks, weights), start=1):
        mask = np.zeros(pruned.shape, dtype=bool)
        mask[positions[:, 0], positions[:, 1]] = True
        expected = np.where(mask, random.matrix(layer), 0.0)
        mismatches += int(np.count_nonzero(pruned != expected))
    return mismatches


def _gadget_gap(ticket: Ticket, weights: list[np.ndarray], gen: np.random.Generator) -> float:
    gap = 0.0
    for i, (a, b) in enumerate(ticket.gadgets()):
        h = gen.standard_normal((64, a.shape[1]))
        pair = np.maximum(h @ weights[2 * i].T, 0.0) @ weights[2 * i + 1].T
        gadget = np.maximum(h, 0.0) @ a.T - np.maximum(-h, 0.0) @ b.T
        scale = max(1.0, float(np.abs(gadget).max(initial=0.0)))
        gap = max(gap, float(np.abs(pair - gadget).max(initial=0.0)) / scale)
    return gap


def _domain(gen, d, samples, radius, sphere):
    x = gen.standard_normal((samples, d))
    x *= radius / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-300)
    return x if sphere else x * gen.random((samples, 1)) ** (1.0 / d)


def check_ticket(
    target: ReLUNetwork,
    ticket: Ticket,
    eps: float,
    *,
    radius: float = 1.0,
    samples: int = 1024,
    rng=None,
) -> TicketCheck:
    """Check that ``ticket`` is a ticket of its random network that approximates ``target``.

    Parameters
    ----------
    target : ReLUNetwork
        The network ``F`` the ticket approximates (depth l, biases allowed).
    ticket : Ticket
        Masks over the random network of its seed (from :func:`~strong_lth.approximate` or
        loaded from a file).
    eps : float
        The claimed error, ``> 0``.
    radius : float, default 1.0
        Inputs range over ``||x||_2 <= radius``.
    samples : int, default 1024
        Fresh random inputs for ``sampled`` (and probes per pair for the gadget identity: 64).
    rng : None, int or numpy.random.Generator
        Seeds the probe inputs and the measured worst case.

    Returns
    -------
    TicketCheck
        Never raises on a property that fails: each failure is a sentence in ``failures``.

    Raises
    ------
    InvalidParameterError
        If an argument has the wrong type or range, or the ticket's widths are not the
        (bias-augmented) target's.

    Notes
    -----
    The properties, each computed independently of :func:`~strong_lth.approximate`:

    1. Mask of the random network (docs/theory.md, section 2): the dense pruned network equals
       ``M_j ⊙ S_j`` exactly, ``M_j`` regenerated from the seed, ``S_j`` from the positions.
    2. Gadget identity (docs/theory.md, section 3): each pruned pair computes ``A σ(h) - B σ(-h)``
       with the ``(A, B)`` the masks select, on random ``h``, to
       :data:`~strong_lth.certify.AGREEMENT`.
    3. Measured ``<=`` certified ``<= eps`` (docs/theory.md, section 5): the spectral ``e_l``
       recomputed from the masks with the one-sided ``τ_i``
       (:func:`~strong_lth.gadgets.error_matrix`) must equal the one
       :func:`~strong_lth.certify.rigorous_bounds` computes
       from the dense pruned network, whose tightest bound (every cheap method and the report's
       own) is the certified error; the measured worst case and the error on fresh inputs may
       not exceed it (to AGREEMENT); a report's certified error must equal its method's bound.

    Examples
    --------
    >>> from strong_lth import ReLUNetwork, approximate
    >>> target = ReLUNetwork.random((3, 4, 2), rng=0)
    >>> ticket = approximate(target, eps=0.1, rng=1)
    >>> check = check_ticket(target, ticket, 0.1, rng=0)
    >>> check.passed, check.mask_mismatches, check.certified <= 0.1
    (True, 0, True)
    """
    if not isinstance(target, ReLUNetwork):
        raise InvalidParameterError(f"`target` must be a ReLUNetwork; got {type(target).__name__}.")
    if not isinstance(ticket, Ticket):
        raise InvalidParameterError(f"`ticket` must be a Ticket; got {type(ticket).__name__}.")
    eps = check_real("eps", eps, low=0.0, low_open=True)
    radius = check_real("radius", radius, low=0.0, low_open=True)
    samples = check_int("samples", samples, low=1)
    augmented = target.augmented()
    if ticket.widths != augmented.widths or ticket.input_bias != target.has_bias:
        raise InvalidParameterError(
            f"`ticket` must prune a random network for this target (widths {augmented.widths}, "
            f"input bias {target.has_bias}); got widths {ticket.widths}, input bias "
            f"{ticket.input_bias}."
        )
    gen = as_generator(rng)
    pruned = ticket.pruned_network()
    weights = _augmented_first(pruned, ticket.input_bias)
    failures = []
    if pruned.has_bias and any(np.any(b) for b in pruned.biases[1:]):
        failures.append("the pruned network has biases after its first layer")
    mismatches = _mask_mismatches(ticket, weights)
    if mismatches:
        failures.append(f"{mismatches} pruned weights are not the random weight times the mask")
    gap = _gadget_gap(ticket, weights, gen)
    if gap > AGREEMENT:
        failures.append(f"a pruned layer pair differs from A relu(h) - B relu(-h) by {gap:.3e}")
    pairs = ticket.gadgets()
    taus = [
        np.linalg.norm(error_matrix(w, a, b, signed_inputs(i, w.shape[1], target.has_bias)), 2)
        for i, (w, (a, b)) in enumerate(zip(augmented.weights, pairs), start=1)
    ]
    norms = augmented.spectral_norms()
    spectral = certified_error(taus, norms, math.hypot(radius, 1.0) if target.has_bias else radius)
    method = None if ticket.report is None else _reported(ticket.report, "certificate_method")
    # every cheap bound and the report's own method, on the pairs of the dense pruned network
    methods = set(cheap_methods(augmented.widths)) | ({method} if method in METHODS else set())
    bounds = rigorous_bounds(target, gadget_form(target, pruned), radius=radius, methods=methods)
    if abs(bounds["spectral"] - spectral) > AGREEMENT * max(spectral, 1e-300):
        failures.append(
            f"the spectral bound of the pruned network {bounds['spectral']!r} is not the one "
            f"recomputed from the masks {float(spectral)!r}"
        )
    certified = min(bounds.values())
    try:
        measured = certify(target, pruned, radius=radius, rng=gen).measured
    except CertificationError as exc:
        measured = math.nan
        failures.append(f"certify() failed: {exc}")
    x = _domain(gen, target.widths[0], samples, radius, sphere=not target.has_bias)
    sampled = float(np.linalg.norm(target.forward(x) - pruned.forward(x), axis=1).max())
    slack = certified * (1 + AGREEMENT) + 1e-12
    if measured > slack:
        failures.append(f"measured error {measured:.6e} exceeds the certified {certified:.6e}")
    if sampled > slack:
        failures.append(
            f"error {sampled:.6e} on fresh inputs exceeds the certified {certified:.6e}"
        )
    if certified > eps:
        failures.append(f"certified error {certified:.6e} exceeds eps = {eps:g}")
    reported = None if ticket.report is None else float(_reported(ticket.report, "certified"))
    recomputed = bounds.get(method, certified)
    if reported is not None and abs(reported - recomputed) > AGREEMENT * max(recomputed, 1e-300):
        failures.append(
            f"the report's certified error {reported!r} ({method}) is not {recomputed!r}"
        )
    return TicketCheck(
        eps=eps,
        mask_mismatches=mismatches,
        gadget_gap=gap,
        certified=float(certified),
        measured=float(measured),
        sampled=sampled,
        reported=reported,
        failures=tuple(failures),
    )


def _reported(report, name: str):
    """A field of a report (a Report, or the dict of a loaded ticket)."""
    return report.get(name) if isinstance(report, dict) else getattr(report, name)
