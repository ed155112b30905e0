"""The measured worst-case error of any ticket: the ascent :func:`strong_lth.certify` uses."""

from __future__ import annotations

from .._validation import as_generator, check_int, check_real
from ..exceptions import InvalidParameterError
from ..networks import ReLUNetwork
from ..worst_case import measure_worst_case
from ._masked import MaskedNetwork

__all__ = ["measured_error"]


def measured_error(
    target: ReLUNetwork,
    network,
    *,
    radius: float = 1.0,
    rng=0,
    samples: int = 2048,
    starts: int = 16,
    ascent_steps: int = 100,
) -> float:
    """The largest ``||F(x) - G(x)||_2`` over ``||x||_2 <= radius`` found by sampling and ascent.

    Parameters
    ----------
    target : ReLUNetwork
        ``F``.
    network : MaskedNetwork or ReLUNetwork
        ``G``, with the target's input and output dimensions (a masked network through its
        :meth:`~MaskedNetwork.pruned_network`).
    radius : float, default 1.0
        Radius of the input ball.
    rng : None, int or numpy.random.Generator, default 0
        Seeds the sampling.
    samples, starts, ascent_steps : int
        As in :func:`strong_lth.certify`: random inputs, how many of the worst climb, for how many
        steps.

    Returns
    -------
    float
        A lower bound on the true worst case (it is attained at some input).

    Raises
    ------
    InvalidParameterError
        If an argument is invalid or the dimensions differ.

    Notes
    -----
    The same search as the ``measured`` figure of :func:`strong_lth.certify`
    (:func:`strong_lth.worst_case.measure_worst_case`), so constructed and searched tickets are
    measured alike. No certified bound is given here: the package's bounds rest on the gadget
    structure of a constructed ticket, which a searched one does not have. When both networks are
    bias-free (positively homogeneous) the worst case lies on the sphere and only the sphere is
    searched.

    Examples
    --------
    >>> from strong_lth import ReLUNetwork
    >>> target = ReLUNetwork([[[1.0, 0.0]]])
    >>> measured_error(target, ReLUNetwork([[[0.5, 0.0]]]))  # |x_1| / 2 on the unit ball
    0.5
    """
    if not isinstance(target, ReLUNetwork):
        raise InvalidParameterError(f"`target` must be a ReLUNetwork; got {type(target).__name__}.")
    if isinstance(network, MaskedNetwork):
        network = network.pruned_network()
    if not isinstance(network, ReLUNetwork):
        raise InvalidParameterError(
            f"`network` must be a MaskedNetwork or a ReLUNetwork; got {type(network).__name__}."
        )
    if (network.widths[0], network.widths[-1]) != (target.widths[0], target.widths[-1]):
        raise InvalidParameterError(
            f"`network` must have the target's input and output dimensions "
            f"({target.widths[0]}, {target.widths[-1]}); got "
            f"({network.widths[0]}, {network.widths[-1]})."
        )
    radius = check_real("radius", radius, low=0.0, low_open=True)
    samples = check_int("samples", samples, low=1)
    starts = check_int("starts", starts, low=1, high=samples)
    ascent_steps = check_int("ascent_steps", ascent_steps, low=0)
    value, _ = measure_worst_case(
        target,
        network,
        radius=radius,
        sphere=not (target.has_bias or network.has_bias),
        rng=as_generator(rng),
        samples=samples,
        starts=starts,
        ascent_steps=ascent_steps,
    )
    return value
