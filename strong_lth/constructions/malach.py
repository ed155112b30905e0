"""Malach et al. (2020)-style construction: each target weight is the *single* closest product.

[M] Malach, Yehudai, Shalev-Shwartz, Shamir. *Proving the Lottery Ticket Hypothesis: Pruning is
All You Need.* ICML 2020, arXiv:2002.00585.
"""

import numpy as np

from ..subset_sum import Status
from ._pools import check_signed, sign_pools


def choose(
    weights,
    network,
    layer,
    *,
    signed=None,
    solver=None,
    tol=None,
    start=None,
    size=None,
    fewest=True,
    max_size=None,
):
    """Keep, for every target weight and sign pool, the one product closest to the weight.

    Same gadget, ``signed`` and return values as :func:`strong_lth.constructions.pensia.choose`,
    but each subset has exactly one element (none when the pool is empty, as the negative pool
    of an unsigned input is), so ``solver``, ``tol``, ``start``, ``size``, ``fewest`` and
    ``max_size`` are unused (its declaration lists none of ``subset_size``, ``fewest`` and
    ``max_subset_size``: ``approximate`` refuses them away from their defaults).

    Notes
    -----
    docs/theory.md, section 4: the best single sample out of m has error decaying like ``1 / m``,
    against about ``2^(-m)`` for the best subset, which is why [M] needs polynomial width where [P]
    needs logarithmic width. The status is OPTIMAL: the argmin over the pool is exact.
    """
    signed = check_signed(signed, layer, weights.shape[1])
    pools = sign_pools(*network.gadget_weights(layer), signed=signed)
    distance = np.abs(pools.values - weights[None, :, :, None])
    width = distance.shape[-1]
    empty = pools.per_instance(pools.lengths)[..., None] <= np.arange(width)
    distance[np.broadcast_to(empty, distance.shape)] = np.inf
    chosen = np.zeros(distance.shape, dtype=bool)
    if width:
        best = np.argmin(distance, axis=-1)[..., None]
        np.put_along_axis(chosen, best, True, axis=-1)
        chosen &= ~empty
    status = np.full(distance.shape[:3], Status.OPTIMAL, dtype=np.int8)
    sums = np.where(chosen, pools.values, 0.0).sum(axis=-1)
    return pools.selected(chosen), sums, status
