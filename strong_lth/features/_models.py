"""Three ways to use one random ReLU layer (docs/theory.md, section 7): train its output weights
(:class:`RandomFeatures`), keep or drop whole neurons of a random two-layer network
(:class:`NeuronSubnetwork`), or keep or drop single weights of a random 2l-deep network
(:class:`WeightSubnetwork`, the Pensia pipeline of sections 3-5)."""

from __future__ import annotations

import time
from typing import Any, ClassVar

import numpy as np
import scipy.linalg

from .._approximate import approximate
from .._validation import check_array, check_choice, check_int, check_real, resolve_seed
from ..constructions import CONSTRUCTIONS
from ..distributions import get_distribution
from ..exceptions import InvalidParameterError, NotFittedError, SolverError
from ..networks import ReLUNetwork
from ..random_network import uniform_bits
from ..subset_sum import METHODS as SUBSET_SUM_METHODS
from ..subset_sum._result import MESSAGES, Status
from ._select import CPSAT_MAX_WIDTH, cpsat_select, gram_system, greedy_select, local_select

__all__ = [
    "NeuronSubnetwork",
    "RandomFeatures",
    "WeightSubnetwork",
    "r2_score",
    "unexplained_variance",
]

ACTIVATIONS = {"relu": lambda t: np.maximum(t, 0.0), "tanh": np.tanh}
METHODS = ("cpsat", "greedy", "local")

OBJECTIVE_RTOL = 1e-9
"""The training error a mask search reports (from ``(G, b)``) and the one recomputed from the
pruned network may differ by rounding only: at most this times the size of the terms."""


def random_layers(seed, width, d, distribution):
    """First-layer weights ``(width, d)`` and output weights ``(width,)`` of a random two-layer
    network, generated as layers 1 and 2 of :class:`~strong_lth.random_network.RandomNetwork`:
    ``M_layer[row, col] = F^{-1}(uniform_bits(seed, layer, row, col))``. A narrower network of
    the same seed is a prefix of a wider one (rows of the first layer, entries of the second)."""
    rows = np.arange(width)
    first = distribution.from_uniform(uniform_bits(seed, 1, rows[:, None], np.arange(d)[None]))
    second = distribution.from_uniform(uniform_bits(seed, 2, 0, rows))
    return first, second


def _check_rng(rng):
    """``rng`` unchanged after checking it is None, a seed or a Generator (drawing nothing: the
    seed is drawn at fit, so that a Generator advances once per fit)."""
    if not isinstance(rng, np.random.Generator):
        resolve_seed(rng)
    return rng


def _check_data(X, y=None, n_features=None):
    """Validated float64 ``X`` (2-D) and ``y`` (1-D, one entry per row of ``X``)."""
    X = check_array("X", X, ndim=2)
    if n_features is not None and X.shape[1] != n_features:
        raise InvalidParameterError(
            f"`X` must have {n_features} columns (as in fit); got {X.shape[1]}."
        )
    if len(X) == 0 or X.shape[1] == 0:
        raise InvalidParameterError(f"`X` must have at least one row and column; got {X.shape}.")
    if y is None:
        return X
    y = check_array("y", y, ndim=1)
    if len(y) != len(X):
        raise InvalidParameterError(
            f"`y` must have one entry per row of `X` ({len(X)}); got {len(y)}."
        )
    return X, y


def unexplained_variance(y, prediction) -> float:
    """``Σ(y - ŷ)² / Σ(y - ȳ)²``, the loss :func:`compare` reports (``1 - R²`` computed without
    cancellation, so that losses far below 1e-16 stay visible); for a constant ``y``: 0.0 for a
    perfect fit, else 1.0."""
    residual = float(np.sum((y - prediction) ** 2))
    total = float(np.sum((y - y.mean()) ** 2))
    if total == 0.0:
        return 0.0 if residual == 0.0 else 1.0
    return residual / total


def r2_score(y, prediction) -> float:
    """Coefficient of determination ``1 - Σ(y - ŷ)² / Σ(y - ȳ)²`` (scikit-learn's convention:
    1.0 for a perfect fit, 0.0 when ``y`` is constant and the fit is not perfect)."""
    return 1.0 - unexplained_variance(y, prediction)


class _Estimator:
    """scikit-learn conventions: parameters validated in ``__init__`` and stored under their own
    names, ``get_params``/``set_params``, ``predict``, ``score`` = R²."""

    _params: ClassVar[tuple[str, ...]] = ()

    def get_params(self, deep: bool = True) -> dict:
        """The constructor's parameters, as scikit-learn's ``clone`` expects."""
        return {name: getattr(self, name) for name in self._params}

    def set_params(self, **params) -> _Estimator:
        """Re-validate and set parameters; fitted attributes are dropped. Returns ``self``."""
        unknown = set(params) - set(self._params)
        if unknown:
            raise InvalidParameterError(
                f"`params` must be among {', '.join(self._params)}; got {sorted(unknown)}."
            )
        fresh = self.get_params() | params
        self.__dict__.clear()
        self.__init__(**fresh)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _check_fitted(self):
        if not hasattr(self, "n_features_in_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit first.")

    def predict(self, X) -> np.ndarray:
        """Model output on the rows of ``X`` (shape ``(N, d)``), shape ``(N,)``."""
        self._check_fitted()
        return self._predict(_check_data(X, n_features=self.n_features_in_))

    def score(self, X, y) -> float:
        """R² of the predictions on ``(X, y)``: ``1 - Σ(y - ŷ)² / Σ(y - ȳ)²`` (1 is perfect;
        :func:`compare` reports the loss ``1 - R²``, the fraction of the variance left
        unexplained, see :meth:`loss`)."""
        return 1.0 - self.loss(X, y)

    def loss(self, X, y) -> float:
        """``Σ(y - ŷ)² / Σ(y - ȳ)² = 1 - R²`` on ``(X, y)`` (:func:`unexplained_variance`)."""
        self._check_fitted()
        X, y = _check_data(X, y, n_features=self.n_features_in_)
        return unexplained_variance(y, self._predict(X))


class RandomFeatures(_Estimator):
    """Random-features regression ``f(x) = Σ_i a_i act(⟨w_i, x⟩)``: ``w_i`` random and fixed,
    ``a`` fitted by (ridge) least squares.

    Parameters
    ----------
    width : int
        Number of random features ``m >= 1``.
    activation : {"relu", "tanh"}
        ``act``; ReLU is the random networks' activation.
    ridge : float, default 0.0
        ``λ >= 0`` in ``min_a Σ_n (f(x_n) - y_n)² + λ ‖a‖²``; 0 gives the minimum-norm least
        squares solution.
    distribution : str or Distribution
        Distribution of the entries of the ``w_i`` (default Uniform[-1, 1], that of the random
        networks).
    rng : None, int or numpy.random.Generator
        Seed of the features; the same seed gives the same features (and the same first layer
        as a :class:`NeuronSubnetwork` of that seed).

    Attributes
    ----------
    seed_ : int
    weights_ : ndarray, shape (width, d)
        The random ``w_i`` (rows).
    coef_ : ndarray, shape (width,)
        The fitted ``a``.
    n_features_in_ : int
    n_random_params_ : int
        ``width · d`` random weights (the output weights are trained, not random).

    Raises
    ------
    InvalidParameterError
        Bad parameters (at construction) or bad data (at fit).

    Notes
    -----
    docs/theory.md, section 7, [YS] (Yehudai & Shamir 2019): random features cannot approximate a
    single ReLU neuron in dimension d efficiently. With ``λ > 0`` the solution is
    ``a = (ΦᵀΦ + λI)⁻¹ Φᵀ y``, computed as ``Φᵀ (ΦΦᵀ + λI)⁻¹ y`` when there are more features
    than data points (the same vector, cheaper), by Cholesky factorisation.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(200, 3))
    >>> model = RandomFeatures(64, rng=1).fit(X, np.abs(X[:, 0]))
    >>> model.score(X, np.abs(X[:, 0])) > 0.9
    True
    """

    _params = ("width", "activation", "ridge", "distribution", "rng")

    def __init__(self, width, *, activation="relu", ridge=0.0, distribution="uniform", rng=None):
        self.width = check_int("width", width, low=1)
        self.activation = check_choice("activation", activation, ACTIVATIONS)
        self.ridge = check_real("ridge", ridge, low=0.0)
        self.distribution = get_distribution(distribution)
        self.rng = _check_rng(rng)

    def transform(self, X) -> np.ndarray:
        """The features ``Φ[n, i] = act(⟨w_i, x_n⟩)``, shape ``(N, width)``."""
        self._check_fitted()
        X = _check_data(X, n_features=self.n_features_in_)
        return ACTIVATIONS[self.activation](X @ self.weights_.T)

    def fit(self, X, y) -> RandomFeatures:
        """Draw the features (from ``rng``) and fit ``coef_`` on ``X`` (N, d), ``y`` (N,)."""
        X, y = _check_data(X, y)
        self.seed_ = resolve_seed(self.rng)
        self.weights_, _ = random_layers(self.seed_, self.width, X.shape[1], self.distribution)
        self.n_features_in_ = X.shape[1]
        self.n_random_params_ = self.width * X.shape[1]
        phi = ACTIVATIONS[self.activation](X @ self.weights_.T)
        if self.ridge == 0.0:
            self.coef_ = np.linalg.lstsq(phi, y, rcond=None)[0]
        elif self.width <= len(y):
            gram = phi.T @ phi + self.ridge * np.eye(self.width)
            self.coef_ = scipy.linalg.cho_solve(scipy.linalg.cho_factor(gram), phi.T @ y)
        else:
            kernel = phi @ phi.T + self.ridge * np.eye(len(y))
            self.coef_ = phi.T @ scipy.linalg.cho_solve(scipy.linalg.cho_factor(kernel), y)
        return self

    def _predict(self, X):
        return ACTIVATIONS[self.activation](X @ self.weights_.T) @ self.coef_


class NeuronSubnetwork(_Estimator):
    """Keep or drop whole neurons of a random two-layer ReLU network ``Σ_i v_i σ(⟨w_i, x⟩)``.

    Both layers are random and never change; ``fit`` chooses the mask ``s ∈ {0, 1}^m`` that
    minimises the training mean squared error ``‖Σ_i s_i v_i φ_i - y‖² / N``, a multidimensional
    SubsetSum over the vectors ``v_i φ_i`` (docs/theory.md, section 7).

    Parameters
    ----------
    width : int
        Number of random neurons ``m >= 1``.
    method : {"cpsat", "greedy", "local"}
        ``"cpsat"``: OR-Tools CP-SAT on the quantised problem, optimal when its status is OPTIMAL
        (``width <= 128``; in practice about 28 within a minute). ``"greedy"``: forward selection
        with removal steps. ``"local"``: iterated local search (seeded bit-flip kicks) from the
        greedy mask.
    output_scale : float, optional
        The output weights are ``v_i = output_scale · u_i`` with ``u_i`` from ``distribution``;
        default ``1 / sqrt(width)`` (the usual fan-in scaling of an output layer).
    distribution : str or Distribution
        Distribution of the ``w_i`` entries and of the ``u_i`` (default Uniform[-1, 1]).
    max_iter : int, default 100
        Kicks of the ``"local"`` search.
    time_limit : float, optional
        Seconds for the mask search; reaching it gives status TIME_LIMIT (for ``"greedy"`` and
        ``"local"`` the mask found so far, which then depends on timing).
    rng : None, int or numpy.random.Generator
        Seed of the random network and of the local search.

    Attributes
    ----------
    seed_ : int
    weights_ : ndarray, shape (width, d)
        The random ``w_i``, equal to ``RandomFeatures(width, rng=seed_)``'s.
    output_weights_ : ndarray, shape (width,)
        The random ``v_i``.
    mask_ : ndarray of bool, shape (width,)
        Kept neurons.
    coef_ : ndarray, shape (width,)
        ``v_i · s_i``: the coefficients of the random-features model this network *is*.
    objective_ : float
        Training mean squared error, recomputed from the pruned network.
    status_ : Status
        OPTIMAL (``cpsat`` proved it, on the grid), FEASIBLE, TIME_LIMIT or NOT_FOUND.
    message_ : str
    resolution_ : float
        CP-SAT grid step (0.0 for the other methods).
    quantization_bound_ : float
        With ``cpsat``: ``objective_`` exceeds the optimal training error by at most this (plus
        rounding) when the status is OPTIMAL; 0.0 otherwise.
    n_features_in_, n_random_params_ : int
        ``d`` and ``width · d + width``.

    Raises
    ------
    InvalidParameterError
        Bad parameters (at construction), bad data (at fit).

    Notes
    -----
    [M] (Malach et al. 2020, section 3): with enough width a neuron-subnetwork is as good as a
    random-features model with bounded weights; conversely it *is* the random-features model
    with coefficients ``v ⊙ s`` (``predict`` evaluates the pruned network, and equals
    ``RandomFeatures.transform(X) @ coef_``), so its training error is never below that of least
    squares on the same features, and it inherits the limits of [YS].

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(100, 2))
    >>> model = NeuronSubnetwork(12, method="cpsat", rng=3).fit(X, np.abs(X[:, 0]))
    >>> model.status_.name, int(model.mask_.sum()) <= 12
    ('OPTIMAL', True)
    """

    _params = (
        "width",
        "method",
        "output_scale",
        "distribution",
        "max_iter",
        "time_limit",
        "rng",
    )

    def __init__(
        self,
        width,
        *,
        method="local",
        output_scale=None,
        distribution="uniform",
        max_iter=100,
        time_limit=None,
        rng=None,
    ):
        self.width = check_int("width", width, low=1)
        self.method = check_choice("method", method, METHODS)
        if self.method == "cpsat" and self.width > CPSAT_MAX_WIDTH:
            raise InvalidParameterError(
                f"`width` must be at most {CPSAT_MAX_WIDTH} with method='cpsat'; got {width}."
            )
        if output_scale is not None:
            output_scale = check_real("output_scale", output_scale, low=0.0, low_open=True)
        self.output_scale = output_scale
        self.distribution = get_distribution(distribution)
        self.max_iter = check_int("max_iter", max_iter, low=0)
        if time_limit is not None:
            time_limit = check_real("time_limit", time_limit, low=0.0, low_open=True)
        self.time_limit = time_limit
        self.rng = _check_rng(rng)

    def fit(self, X, y) -> NeuronSubnetwork:
        """Draw the random network (from ``rng``) and choose ``mask_`` on ``X`` (N, d), ``y``."""
        X, y = _check_data(X, y)
        self.seed_ = resolve_seed(self.rng)
        d = X.shape[1]
        first, u = random_layers(self.seed_, self.width, d, self.distribution)
        scale = 1.0 / np.sqrt(self.width) if self.output_scale is None else self.output_scale
        self.weights_, self.output_weights_ = first, scale * u
        self.n_features_in_ = d
        self.n_random_params_ = self.width * d + self.width
        columns = np.maximum(X @ first.T, 0.0) * self.output_weights_
        gram, linear = gram_system(columns, y)
        deadline = None if self.time_limit is None else time.perf_counter() + self.time_limit
        self.resolution_ = self.quantization_bound_ = 0.0
        if self.method == "greedy":
            mask, status = greedy_select(gram, linear, deadline=deadline)
        elif self.method == "local":
            generator = np.random.default_rng(self.seed_)
            mask, status = local_select(
                gram, linear, rng=generator, max_iter=self.max_iter, deadline=deadline
            )
        else:
            hint, _ = greedy_select(gram, linear, deadline=deadline)
            left = None if deadline is None else max(deadline - time.perf_counter(), 1e-3)
            mask, status, self.resolution_, bound = cpsat_select(
                gram, linear, time_limit=left, hint=hint
            )
            self.quantization_bound_ = bound if status == Status.OPTIMAL else 0.0
        self.mask_ = mask
        self.coef_ = self.output_weights_ * mask
        self.status_ = status
        self.message_ = MESSAGES[status]
        self.objective_ = float(np.mean((self._predict(X) - y) ** 2))
        self._recheck(gram, linear, y)
        return self

    def _recheck(self, gram, linear, y):
        """The solver's view of the error, ``sᵀGs - 2bᵀs + ‖y‖²/N``, must match the pruned
        network's (an independent computation) up to rounding."""
        s = self.mask_.astype(np.float64)
        quadratic, cross, const = s @ gram @ s, 2.0 * linear @ s, float(y @ y) / len(y)
        size = abs(quadratic) + abs(cross) + const
        if abs(quadratic - cross + const - self.objective_) > OBJECTIVE_RTOL * max(size, 1e-300):
            raise SolverError(
                f"mask search error {quadratic - cross + const!r} does not match the pruned "
                f"network's {self.objective_!r}."
            )

    def pruned_network(self) -> ReLUNetwork:
        """The pruned random network ``x -> (v ⊙ s)ᵀ σ((M_1 ⊙ S_1) x)``: first-layer rows and
        output weights of dropped neurons set to zero, kept weights unchanged
        (docs/theory.md, section 2).
        """
        self._check_fitted()
        return ReLUNetwork([self.weights_ * self.mask_[:, None], self.coef_[None, :]])

    def _predict(self, X):
        return self.pruned_network().forward(X)[:, 0]


class WeightSubnetwork(_Estimator):
    """The Pensia pipeline seen as a model: a weight-subnetwork of one random 2l-deep network
    that approximates a given target network (docs/theory.md, sections 3-5).

    Unlike the two other models it is built from the target's *weights*, not fitted to data:
    ``fit(target)`` runs :func:`~strong_lth.approximate` in fixed mode; data only measure it.

    Parameters
    ----------
    values_per_input : int or sequence of int
        ``n_i`` per layer pair (hidden width ``d_{i-1} n_i``).
    construction : {"pensia", "malach"}
    solver : str
        SubsetSum method (:data:`strong_lth.subset_sum.METHODS`).
    distribution : str or Distribution
    rng : None, int or numpy.random.Generator
        Seed of the random network.

    Attributes
    ----------
    seed_ : int
        Seed of the random network (the ticket's).
    ticket_ : Ticket
        The masks, with its report (certified error on the unit ball, parameter counts).
    network_ : ReLUNetwork
        The pruned network in compact form (``ticket_.reduced_network()``).
    certified_ : float
        Certified ``sup_{‖x‖ <= 1} |F(x) - G̃(x)|``; by homogeneity the error at ``x`` is at most
        ``certified_ · ‖x‖``.
    n_features_in_, n_random_params_ : int
        ``d_0`` and the random network's number of weights.

    Examples
    --------
    >>> import numpy as np
    >>> from strong_lth import ReLUNetwork
    >>> neuron = ReLUNetwork([[[0.6, 0.8]], [[1.0]]])   # x -> σ(0.6 x_1 + 0.8 x_2)
    >>> model = WeightSubnetwork(32, rng=1).fit(neuron)
    >>> bool(model.certified_ < 1e-3), model.n_random_params_
    (True, 256)
    """

    _params = ("values_per_input", "construction", "solver", "distribution", "rng")

    def __init__(
        self,
        values_per_input,
        *,
        construction="pensia",
        solver="mitm",
        distribution="uniform",
        rng=None,
    ):
        self.values_per_input = values_per_input  # checked against the target's depth at fit
        self.construction = check_choice("construction", construction, CONSTRUCTIONS)
        self.solver = check_choice("solver", solver, SUBSET_SUM_METHODS)
        self.distribution = get_distribution(distribution)
        self.rng = _check_rng(rng)

    def fit(self, target: ReLUNetwork, y: Any = None) -> WeightSubnetwork:
        """Build the ticket for ``target`` (``y`` is ignored: there is nothing to fit)."""
        self.ticket_ = approximate(
            target,
            values_per_input=self.values_per_input,
            construction=self.construction,
            solver=self.solver,
            distribution=self.distribution,
            rng=self.rng,
        )
        self.network_ = self.ticket_.reduced_network()
        self.seed_ = self.ticket_.seed
        self.certified_ = self.ticket_.report.certified
        self.n_features_in_ = target.widths[0]
        self.n_random_params_ = self.ticket_.random_network().n_params
        return self

    def _predict(self, X):
        out = self.network_.forward(X)
        return out[:, 0] if out.shape[1] == 1 else out
