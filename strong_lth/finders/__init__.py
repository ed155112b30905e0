"""Tickets found by search, and random networks with a planted ticket, beside the constructed ones.

- :func:`edge_popup`: Ramanujan et al., CVPR 2020 (arXiv:1911.13299): scores over every weight of
  a fixed random network, the top-k per layer kept, trained by the straight-through gradient.
- :func:`plant`: Fischer and Burkholz, ICLR 2022 (arXiv:2111.11153): a copy of a random network
  in which a target is embedded exactly, with the planted mask.
- :class:`MaskedNetwork`: the result type of both (and of a constructed ticket, by
  :meth:`MaskedNetwork.from_ticket`): masks over one random network, every kept weight the random
  weight at its position; density as :func:`strong_lth.ticket.density`.
- :func:`measured_error`: the worst-case search of :func:`strong_lth.certify`, for any ticket.
  A searched ticket has no certified bound: the package's bounds rest on the constructions'
  gadget structure.
"""

from ._edge_popup import OPTIMIZERS, edge_popup
from ._masked import METHODS, MaskedNetwork
from ._measure import measured_error
from ._plant import PlantedNetwork, plant

__all__ = [
    "METHODS",
    "OPTIMIZERS",
    "MaskedNetwork",
    "PlantedNetwork",
    "edge_popup",
    "measured_error",
    "plant",
]
