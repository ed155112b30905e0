"""Weight distributions of the random network, each defined by its inverse CDF.

A distribution maps one uniform number ``u`` in (0, 1) to one weight ``F^{-1}(u)``, so the
counter-based generator of :mod:`strong_lth.random_network` can produce any single weight of the
random network from its position alone (docs/theory.md, section 2).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy.special import ndtri

from ._validation import _fmt, check_array, check_real
from .exceptions import InvalidParameterError

__all__ = ["NAMES", "Distribution", "Gaussian", "Hyperbolic", "Uniform", "get_distribution"]


@dataclass(frozen=True)
class Distribution(ABC):
    """A weight distribution given by its inverse CDF (quantile function).

    Subclasses set the class attribute ``name`` and implement ``_quantile``; :meth:`from_uniform`
    validates its input and applies it.
    """

    name: ClassVar[str]

    def from_uniform(self, u: Any) -> np.ndarray:
        """Map uniforms in (0, 1) to samples: ``F^{-1}(u)`` elementwise.

        Parameters
        ----------
        u : array_like
            Numbers strictly inside (0, 1).

        Returns
        -------
        numpy.ndarray
            float64 samples, same shape as ``u``.

        Raises
        ------
        InvalidParameterError
            If ``u`` is not real, finite, or has entries outside (0, 1).

        Notes
        -----
        If ``u ~ Uniform(0, 1)`` then ``F^{-1}(u)`` has CDF ``F`` (inverse transform sampling).

        Examples
        --------
        >>> Uniform(2.0).from_uniform([0.25, 0.5, 0.75])
        array([-1.,  0.,  1.])
        """
        u = check_array("u", u)
        if u.size and not (u.min() > 0.0 and u.max() < 1.0):
            raise InvalidParameterError(
                f"`u` must lie in (0, 1); got values in [{u.min()}, {u.max()}]."
            )
        return self._quantile(u)

    @abstractmethod
    def _quantile(self, u: np.ndarray) -> np.ndarray:
        """The inverse CDF on a validated float64 array."""


@dataclass(frozen=True)
class Uniform(Distribution):
    """Uniform[-a, a]; ``Uniform()`` is Uniform[-1, 1], the default of docs/theory.md, section 2.

    Parameters
    ----------
    a : float, default 1.0
        Half-width, > 0.

    Raises
    ------
    InvalidParameterError
        If ``a <= 0`` or not finite.

    Notes
    -----
    ``F^{-1}(u) = a (2u - 1)``. [P] (Pensia et al., NeurIPS 2020) Theorem 1 assumes Uniform[-1, 1]
    weights.

    Examples
    --------
    >>> Uniform(0.5).from_uniform([0.0625, 0.9375])
    array([-0.4375,  0.4375])
    """

    name: ClassVar[str] = "uniform"
    a: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "a", check_real("a", self.a, low=0.0, low_open=True))

    def _quantile(self, u: np.ndarray) -> np.ndarray:
        return self.a * (2.0 * u - 1.0)


@dataclass(frozen=True)
class Gaussian(Distribution):
    """Normal N(0, sigma^2).

    Parameters
    ----------
    sigma : float, default 1.0
        Standard deviation, > 0.

    Raises
    ------
    InvalidParameterError
        If ``sigma <= 0`` or not finite.

    Notes
    -----
    ``F^{-1}(u) = sigma · Φ^{-1}(u)`` with ``Φ^{-1}`` = :func:`scipy.special.ndtri`. Any
    distribution whose density is bounded below near zero contains a scaled uniform, which is
    what the SubsetSum argument of [L] (Lueker 1998) and [P] needs.

    Examples
    --------
    >>> Gaussian(2.0).from_uniform([0.5, 0.8413447460685429]).round(12)
    array([0., 2.])
    """

    name: ClassVar[str] = "gaussian"
    sigma: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "sigma", check_real("sigma", self.sigma, low=0.0, low_open=True))

    def _quantile(self, u: np.ndarray) -> np.ndarray:
        return self.sigma * ndtri(u)


@dataclass(frozen=True)
class Hyperbolic(Distribution):
    """The hyperbolic distribution: density proportional to ``1 / |w|`` on ``[-1, -a] ∪ [a, 1]``.

    Parameters
    ----------
    a : float, default 0.01
        Smallest magnitude, in (0, 1).

    Raises
    ------
    InvalidParameterError
        If ``a`` is not a real number in (0, 1).

    Notes
    -----
    [O] Orseau, Hutter, Rivasplata, *Logarithmic pruning is all you need*, NeurIPS 2020,
    arXiv:2006.12156, sample the random network from this heavy-tailed law: its magnitude ``|w|``
    is log-uniform, so every scale between ``a`` and 1 gets the same share of the weights, which
    is what their logarithmic width bounds rely on. Density and CDF:

    - ``f(w) = 1 / (2 ln(1/a) |w|)`` for ``a <= |w| <= 1``, else 0;
    - ``F(w) = ln|w| / (2 ln a)`` for ``-1 <= w <= -a`` and
      ``F(w) = 1/2 + ln(w / a) / (2 ln(1/a))`` for ``a <= w <= 1``,

    with ``F = 1/2`` on the gap ``(-a, a)``. Inverting each branch gives the quantile function
    ``F^{-1}(u) = sign(u - 1/2) a^(1 - t)`` with ``t = |2u - 1|``, the uniform rescaled to each
    branch (log-uniform magnitude): ``-a^(2u)`` for ``u <= 1/2`` (``F^{-1}(1/2) = -a``, the
    left end of the gap, as ``inf {w : F(w) >= u}`` gives) and ``a^(2(1 - u))`` for
    ``u > 1/2``. It is computed as ``a ** (2 min(u, 1 - u))`` with the sign, so
    ``F^{-1}(1 - u) = -F^{-1}(u)`` holds exactly for every ``u != 1/2`` with ``1 - u`` exact
    (all uniforms of :func:`~strong_lth.random_network.uniform_bits`). The default
    ``a = 0.01`` is this toolkit's choice, not a value taken from [O].

    Examples
    --------
    >>> Hyperbolic(0.01).from_uniform([0.25, 0.75])
    array([-0.1,  0.1])
    """

    name: ClassVar[str] = "hyperbolic"
    a: float = 0.01

    def __post_init__(self) -> None:
        a = check_real("a", self.a, low=0.0, high=1.0, low_open=True, high_open=True)
        object.__setattr__(self, "a", a)

    def _quantile(self, u: np.ndarray) -> np.ndarray:
        magnitude = np.power(self.a, 2.0 * np.minimum(u, 1.0 - u))
        return np.where(u > 0.5, magnitude, -magnitude)


_NAMED: dict[str, type[Distribution]] = {
    "uniform": Uniform,
    "gaussian": Gaussian,
    "normal": Gaussian,
    "hyperbolic": Hyperbolic,
}
NAMES: tuple[str, ...] = tuple(_NAMED)
"""The names :func:`get_distribution` accepts, for option lists and help texts."""


def get_distribution(spec: Any, name: str = "distribution") -> Distribution:
    """Return a :class:`Distribution` from an instance or a name.

    Parameters
    ----------
    spec : Distribution or str
        An instance (returned unchanged) or one of ``"uniform"`` (Uniform[-1, 1]),
        ``"gaussian"`` / ``"normal"`` (N(0, 1)), ``"hyperbolic"`` (:class:`Hyperbolic` with
        ``a = 0.01``).
    name : str, default "distribution"
        Parameter name used in the error message.

    Returns
    -------
    Distribution

    Raises
    ------
    InvalidParameterError
        If ``spec`` is neither a Distribution nor a known name.

    Examples
    --------
    >>> get_distribution("normal")
    Gaussian(sigma=1.0)
    >>> get_distribution(Uniform(0.5))
    Uniform(a=0.5)
    """
    if isinstance(spec, Distribution):
        return spec
    if isinstance(spec, str) and spec in _NAMED:
        return _NAMED[spec]()
    listed = ", ".join(repr(key) for key in NAMES)
    raise InvalidParameterError(
        f"`{name}` must be a Distribution or one of {listed}; got {_fmt(spec)}."
    )
