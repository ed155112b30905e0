"""Width bounds of the strong lottery ticket hypothesis, as pure vectorised formulas.

Every function broadcasts over all of its numeric arguments with NumPy rules and returns a
``float`` when every argument is a scalar, an ``ndarray`` otherwise. Logarithms are natural
(``ln``) except in the counting lower bound, which counts bits (``log2``).

The upper bounds hold up to an unspecified universal constant ``C``. It is always an explicit
keyword argument (default ``1.0``), never a number hidden in the code: the theorems do not give
it, and :func:`lueker_constant` and :func:`pensia_constant` estimate it from experiments.

References
----------
[P] Pensia, Rajput, Nagle, Vishwakarma, Papailiopoulos. *Optimal Lottery Tickets via SubsetSum:
    Logarithmic Over-Parameterization is Sufficient.* NeurIPS 2020, arXiv:2006.07990.
[M] Malach, Yehudai, Shalev-Shwartz, Shamir. *Proving the Lottery Ticket Hypothesis: Pruning is
    All You Need.* ICML 2020, arXiv:2002.00585.
[L] Lueker. *Exponentially small bounds on the expected optimum of the partition and subset sum
    problems.* Random Structures & Algorithms 12 (1998).
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import _fmt, check_array, check_bool, check_int, check_real, interval_text
from .exceptions import InvalidParameterError, TheoryAssumptionWarning

__all__ = [
    "MAX_WIDTH",
    "BoundTable",
    "ConstructionTable",
    "compare",
    "compare_constructions",
    "lower_bound_params",
    "lower_bound_width",
    "lueker_constant",
    "lueker_values",
    "malach_layer_width",
    "malach_width",
    "pensia_constant",
    "pensia_values_per_input",
    "pensia_width",
    "per_weight_precision",
]


# --------------------------------------------------------------------------------------------
# Vectorised validation. Scalars go through check_real / check_int (same messages as the rest of
# the toolkit); arrays through check_array and one vectorised range check whose message has the
# same form, "`name` must be in (0, 1); got 1.5 (1 of 3 entries out of range).".
# --------------------------------------------------------------------------------------------


def _is_scalar(value: Any) -> bool:
    if isinstance(value, (np.ndarray, list, tuple)):
        return False
    try:
        return np.ndim(value) == 0
    except ValueError:  # ragged nested sequences: let check_array report them
        return False


def _range_check(name: str, arr: np.ndarray, low, high, low_open, high_open, text: str) -> None:
    ok = np.ones(arr.shape, dtype=bool)
    if low is not None:
        ok &= arr > low if low_open else arr >= low
    if high is not None:
        ok &= arr < high if high_open else arr <= high
    if not ok.all():
        bad = arr[~ok]
        raise InvalidParameterError(
            f"`{name}` must be in {text}; got {bad.flat[0].item()!r} "
            f"({bad.size} of {arr.size} entries out of range)."
        )


def _real(name, value, *, low=None, high=None, low_open=False, high_open=False):
    """A finite real scalar (as float) or array (as float64) in the given interval."""
    if _is_scalar(value):
        return check_real(name, value, low=low, high=high, low_open=low_open, high_open=high_open)
    arr = check_array(name, value, dtype=np.float64, finite=True)
    _range_check(
        name, arr, low, high, low_open, high_open, interval_text(low, high, low_open, high_open)
    )
    return arr


def _int(name, value, *, low=1):
    """An integer scalar (as float) or integer-dtype array (as float64), each ``>= low``.

    Returned as floats so that products such as ``d_in * d_out * depth`` cannot overflow.
    """
    if _is_scalar(value):
        return float(check_int(name, value, low=low))
    check_array(name, value, dtype=np.float64, finite=True)  # array-like, real, finite
    raw = np.asarray(value)
    if raw.dtype.kind not in "iu":
        raise InvalidParameterError(
            f"`{name}` must be an integer or an array of integers; got dtype {raw.dtype}."
        )
    # same text as check_int, "[1, inf]", so scalar and array messages read alike
    _range_check(name, raw, low, None, False, False, f"[{low}, inf]")
    return raw.astype(np.float64)


def _broadcast(**arrays) -> None:
    """Raise InvalidParameterError naming the arguments if their shapes do not broadcast."""
    shapes = {name: np.shape(a) for name, a in arrays.items()}
    try:
        np.broadcast_shapes(*shapes.values())
    except ValueError:
        listed = ", ".join(f"`{name}` {shape}" for name, shape in shapes.items())
        raise InvalidParameterError(
            f"arguments must broadcast together; got shapes {listed}."
        ) from None


def _out(result, *args):
    """``float`` when every input was a scalar, else an ndarray (0-d for 0-d array input)."""
    if all(_is_scalar(a) for a in args):
        return float(result)
    return np.asarray(result, dtype=np.float64)


def _eps(value):
    return _real("eps", value, low=0.0, high=1.0, low_open=True, high_open=True)


def _delta(value, name="delta"):
    return _real(name, value, low=0.0, high=1.0, low_open=True, high_open=True)


def _c(value):
    return _real("C", value, low=0.0, low_open=True)


# --------------------------------------------------------------------------------------------
# Formulas
# --------------------------------------------------------------------------------------------


def per_weight_precision(eps, d_in, d_out, depth):
    r"""Per-weight precision :math:`\eta_i` that certifies output error ``eps``.

    Parameters
    ----------
    eps : float or array_like
        Uniform output error allowed over the unit input ball, in (0, 1).
    d_in, d_out : int or array_like of int
        Input width :math:`d_{i-1}` and output width :math:`d_i` of target layer ``i``
        (``>= 1``).
    depth : int or array_like of int
        Number of target layers :math:`l` (``>= 1``).

    Returns
    -------
    float or ndarray
        :math:`\eta_i = \varepsilon / (2 l \sqrt{2 d_{i-1} d_i})`; a float when every argument
        is a scalar, the broadcast array otherwise.

    Raises
    ------
    InvalidParameterError
        If an argument is out of range, not finite, of the wrong type, or the shapes do not
        broadcast.

    Notes
    -----
    Constant-free (docs/theory.md, section 5). With :math:`\Delta_i = [A_i - W_i, W_i - B_i]`
    (shape :math:`d_i \times 2 d_{i-1}`) and :math:`\tau_i = \lVert\Delta_i\rVert_2`, a target
    with :math:`\lVert W_i\rVert_2 \le 1` on the unit ball is approximated within
    :math:`\prod_i (1 + \tau_i) - 1 \le \exp(\sum_i \tau_i) - 1`. If every entry of
    :math:`\Delta_i` is at most :math:`\eta_i` in absolute value then
    :math:`\tau_i \le \lVert\Delta_i\rVert_F \le \eta_i \sqrt{2 d_{i-1} d_i}
    = \varepsilon / (2l)`, so :math:`\sum_i \tau_i \le \varepsilon / 2` and
    :math:`e^{\varepsilon/2} - 1 \le \varepsilon` for :math:`\varepsilon < 1`. This is the
    per-instance SubsetSum precision of the [P] construction (Pensia et al. 2020, proof of
    Theorem 1), stated here with explicit constants.

    Examples
    --------
    :math:`0.1 / (2 \cdot 2 \cdot \sqrt{2 \cdot 2 \cdot 4}) = 0.1 / 16`:

    >>> per_weight_precision(0.1, 2, 4, 2)
    0.00625
    >>> per_weight_precision(0.1, [2, 8], 4, 2).round(6)
    array([0.00625 , 0.003125])
    """
    e, a, b, nl = _eps(eps), _int("d_in", d_in), _int("d_out", d_out), _int("depth", depth)
    _broadcast(eps=e, d_in=a, d_out=b, depth=nl)
    return _out(e / (2.0 * nl * np.sqrt(2.0 * a * b)), eps, d_in, d_out, depth)


def _pensia_log(eps, delta, d_in, d_out, depth):
    e, dl = _eps(eps), _delta(delta)
    a, b, nl = _int("d_in", d_in), _int("d_out", d_out), _int("depth", depth)
    return e, dl, a, b, nl


def pensia_values_per_input(d_in, d_out, depth, eps, delta, *, C=1.0):
    r"""Random values per input unit, :math:`n_i`, in the [P] construction of layer pair ``i``.

    Parameters
    ----------
    d_in, d_out : int or array_like of int
        Widths :math:`d_{i-1}` and :math:`d_i` of target layer ``i`` (``>= 1``). For a target
        with biases pass the augmented widths (see :func:`compare`).
    depth : int or array_like of int
        Number of target layers :math:`l` (``>= 1``); the random network has depth :math:`2l`.
    eps, delta : float or array_like
        Output error and failure probability, each in (0, 1).
    C : float or array_like, keyword-only
        The unspecified universal constant of the theorem (``> 0``, default 1.0).

    Returns
    -------
    float or ndarray
        :math:`n_i = C \ln\bigl(d_{i-1} d_i l / \min(\varepsilon, \delta)\bigr)`, natural log.

    Raises
    ------
    InvalidParameterError
        If an argument is out of range, not finite, of the wrong type, or the shapes do not
        broadcast.

    Notes
    -----
    :func:`pensia_width` divided by :math:`d_{i-1}`: unit :math:`(j, k)`, :math:`k < n_i`, of
    hidden layer :math:`2i-1` sees only input :math:`j` (docs/theory.md, section 3). Pensia et al.
    2020, Theorem 1. The argument of the logarithm exceeds 1, so :math:`n_i > 0`.

    Examples
    --------
    :math:`2 \cdot 5 \cdot 1 / \min(0.1, 0.01) = 1000` and :math:`\ln 1000 = 3 \ln 10`:

    >>> round(pensia_values_per_input(2, 5, 1, 0.1, 0.01), 12)
    6.907755278982
    >>> round(pensia_values_per_input(2, 5, 1, 0.1, 0.01, C=2.0), 12)
    13.815510557964
    """
    e, dl, a, b, nl = _pensia_log(eps, delta, d_in, d_out, depth)
    c = _c(C)
    _broadcast(d_in=a, d_out=b, depth=nl, eps=e, delta=dl, C=c)
    n = c * (np.log(a * b * nl) - np.log(np.minimum(e, dl)))  # no overflow of the ratio
    return _out(n, d_in, d_out, depth, eps, delta, C)


def pensia_width(d_in, d_out, depth, eps, delta, *, C=1.0):
    r"""Hidden width :math:`w_i` of layer pair ``i`` sufficient by [P] Theorem 1.

    Parameters
    ----------
    d_in, d_out : int or array_like of int
        Widths :math:`d_{i-1}` and :math:`d_i` of target layer ``i`` (``>= 1``). For a target
        with biases pass the augmented widths (see :func:`compare`).
    depth : int or array_like of int
        Number of target layers :math:`l` (``>= 1``); the random network has depth :math:`2l`.
    eps, delta : float or array_like
        Output error and failure probability, each in (0, 1).
    C : float or array_like, keyword-only
        The unspecified universal constant of the theorem (``> 0``, default 1.0).

    Returns
    -------
    float or ndarray
        :math:`w_i = C\, d_{i-1} \ln\bigl(d_{i-1} d_i l / \min(\varepsilon, \delta)\bigr)`,
        natural log. A real number: a network needs :math:`\lceil w_i \rceil` units.

    Raises
    ------
    InvalidParameterError
        If an argument is out of range, not finite, of the wrong type, or the shapes do not
        broadcast.

    Notes
    -----
    Pensia, Rajput, Nagle, Vishwakarma, Papailiopoulos 2020, Theorem 1: a random network of
    depth :math:`2l` with Uniform[-1, 1] weights and widths :math:`w_i` as above contains, with
    probability at least :math:`1 - \delta`, a subnetwork within :math:`\varepsilon` of every
    target with :math:`\lVert W_i\rVert_2 \le 1` on the unit ball. The paper's :math:`\log`
    hides a base change in :math:`C`; here it is the natural log.

    Examples
    --------
    :math:`2 \ln(2 \cdot 5 \cdot 1 / 0.01) = 2 \ln 1000 = 6 \ln 10`:

    >>> round(pensia_width(2, 5, 1, 0.1, 0.01), 12)
    13.815510557964
    >>> pensia_width([1, 2], 5, 1, 0.1, 0.01).shape
    (2,)
    """
    n = pensia_values_per_input(d_in, d_out, depth, eps, delta, C=C)
    return _out(np.asarray(d_in, dtype=np.float64) * n, d_in, d_out, depth, eps, delta, C)


def malach_width(d, depth, eps, delta, *, C=1.0):
    r"""Hidden width sufficient by [M] Theorem 2.1, in the form [P] quotes for width-d targets.

    Parameters
    ----------
    d : int or array_like of int
        Largest width of the target (``>= 1``).
    depth : int or array_like of int
        Number of target layers :math:`l` (``>= 1``).
    eps, delta : float or array_like
        Output error and failure probability, each in (0, 1).
    C : float or array_like, keyword-only
        The unspecified universal constant (``> 0``, default 1.0).

    Returns
    -------
    float or ndarray
        :math:`C\, d^5 l^2 / \varepsilon^2 \cdot \ln(d l / \delta)`, natural log.

    Raises
    ------
    InvalidParameterError
        If an argument is out of range, not finite, of the wrong type, or the shapes do not
        broadcast.

    Notes
    -----
    Malach, Yehudai, Shalev-Shwartz, Shamir 2020, Theorem 2.1 give a width polynomial in
    :math:`d, l, 1/\varepsilon, \log(1/\delta)`; Pensia et al. 2020 (section 1) quote it as
    :math:`O(d^5 l^2 / \varepsilon^2 \cdot \log(d l / \delta))`, a factor :math:`O(d^4 l^2)`
    (and polynomial rather than logarithmic in :math:`1/\varepsilon`) above
    :func:`pensia_width`.

    Examples
    --------
    :math:`2^5 \cdot 1^2 / 0.5^2 \cdot \ln(2 \cdot 1 / 0.5) = 128 \ln 4 = 256 \ln 2`:

    >>> round(malach_width(2, 1, 0.5, 0.5), 10)
    177.4456782233
    """
    dd, nl = _int("d", d), _int("depth", depth)
    e, dl, c = _eps(eps), _delta(delta), _c(C)
    _broadcast(d=dd, depth=nl, eps=e, delta=dl, C=c)
    with np.errstate(over="ignore", divide="ignore"):  # beyond the float range: inf
        w = (
            c
            * np.float64(dd) ** 5
            * nl**2
            * (np.log(dd * nl) - np.log(dl))
            / np.square(np.float64(e))
        )
    return _out(w, d, depth, eps, delta, C)


def malach_layer_width(d_in, d_out, depth, eps, delta, *, C=1.0):
    r""":func:`malach_width` per target layer, with :func:`pensia_width`'s arguments.

    Parameters
    ----------
    d_in, d_out : int or array_like of int
        Widths :math:`d_{i-1}`, :math:`d_i` of each target layer (``>= 1``).
    depth : int
        Number of target layers :math:`l` (``>= 1``).
    eps, delta : float
        Output error and failure probability, each in (0, 1).
    C : float, keyword-only
        The unspecified universal constant (``> 0``, default 1.0).

    Returns
    -------
    ndarray
        :func:`malach_width` with :math:`d` the largest of all ``d_in`` and ``d_out`` (the
        theorem is stated for targets of width :math:`d`), one entry per layer.

    Raises
    ------
    InvalidParameterError
        As :func:`malach_width`.

    Examples
    --------
    >>> widths = malach_layer_width([2, 1], [1, 1], 2, 0.5, 0.5)
    >>> widths.tolist() == [malach_width(2, 2, 0.5, 0.5)] * 2
    True
    """
    d_in, d_out = _int("d_in", d_in), _int("d_out", d_out)
    d = int(max(np.max(d_in), np.max(d_out)))
    shape = np.broadcast_shapes(np.shape(d_in), np.shape(d_out))
    return np.full(shape, malach_width(d, depth, eps, delta, C=C))


def lower_bound_params(d_in, d_out, eps):
    r"""Weights a random network needs so that its subnetworks cover every layer: [P] counting.

    Parameters
    ----------
    d_in, d_out : int or array_like of int
        Shape of the target layer (``>= 1``).
    eps : float or array_like
        Error, in (0, 1).

    Returns
    -------
    float or ndarray
        :math:`P \ge d_{in} d_{out} \log_2(1/\varepsilon)` (base-2 log, no constant).

    Raises
    ------
    InvalidParameterError
        If an argument is out of range, not finite, of the wrong type, or the shapes do not
        broadcast.

    Notes
    -----
    The counting argument behind the lower bound of Pensia et al. 2020 (section 5,
    :math:`\Omega(d \log(1/\varepsilon))` width for depth-2 networks approximating all
    :math:`d \times d` linear maps). A network with :math:`P` prunable weights has at most
    :math:`2^P` subnetworks, hence computes at most :math:`2^P` functions. Suppose that one
    random network :math:`\varepsilon`-approximates, by some subnetwork, *every* target
    :math:`x \mapsto Wx` with :math:`W` in the max-norm ball :math:`[-1, 1]^{d_{out} \times
    d_{in}}`, error measured as :math:`\sup_{\lVert x\rVert_2 \le 1}\lVert Wx - g(x)\rVert`.
    If one subnetwork :math:`g` serves both :math:`W` and :math:`W'` then
    :math:`\lVert W - W'\rVert_2 \le 2\varepsilon`, so every entry differs by at most
    :math:`2\varepsilon`: the targets served by :math:`g` lie in a cube of side
    :math:`2\varepsilon`, of volume :math:`(2\varepsilon)^{d_{in} d_{out}}`. These cubes cover a
    cube of volume :math:`2^{d_{in} d_{out}}`, hence
    :math:`2^P (2\varepsilon)^{d_{in} d_{out}} \ge 2^{d_{in} d_{out}}`, i.e.
    :math:`P \ge d_{in} d_{out} \log_2(1/\varepsilon)`: about :math:`\log_2(1/\varepsilon)`
    random values per target weight. It holds for any weight distribution, but it bounds a
    network that serves all targets at once, whereas the upper bounds serve one fixed target
    with probability :math:`1 - \delta`.

    Examples
    --------
    :math:`3 \cdot 4 \cdot \log_2 8 = 36`:

    >>> lower_bound_params(3, 4, 0.125)
    36.0
    """
    a, b, e = _int("d_in", d_in), _int("d_out", d_out), _eps(eps)
    _broadcast(d_in=a, d_out=b, eps=e)
    return _out(a * b * -np.log2(e), d_in, d_out, eps)


def lower_bound_width(d_in, d_out, eps):
    r"""Hidden width a depth-2 random network needs by the counting argument of [P].

    Parameters
    ----------
    d_in, d_out : int or array_like of int
        Shape of the target layer (``>= 1``).
    eps : float or array_like
        Error, in (0, 1).

    Returns
    -------
    float or ndarray
        :math:`w \ge d_{in} d_{out} \log_2(1/\varepsilon) / (d_{in} + d_{out})`.

    Raises
    ------
    InvalidParameterError
        If an argument is out of range, not finite, of the wrong type, or the shapes do not
        broadcast.

    Notes
    -----
    A bias-free depth-2 random network :math:`d_{in} \to w \to d_{out}` has
    :math:`w (d_{in} + d_{out})` weights to prune; dividing :func:`lower_bound_params` by that
    count gives the width. For :math:`d_{in} = d_{out} = d` it is
    :math:`\tfrac{d}{2} \log_2(1/\varepsilon)`, the :math:`\Omega(d \log(1/\varepsilon))` lower
    bound of Pensia et al. 2020, matching :func:`pensia_width` up to constants and the
    :math:`\log(d^2 l / \delta)` terms.

    Examples
    --------
    :math:`3 \cdot 4 \cdot \log_2 8 / (3 + 4) = 36 / 7`:

    >>> round(lower_bound_width(3, 4, 0.125), 12)
    5.142857142857
    """
    a, b, e = _int("d_in", d_in), _int("d_out", d_out), _eps(eps)
    _broadcast(d_in=a, d_out=b, eps=e)
    return _out(a * b * -np.log2(e) / (a + b), d_in, d_out, eps)


def lueker_values(eta, delta=None, *, C=1.0):
    r"""Random values per SubsetSum instance so that every target is hit within ``eta``: [L].

    Parameters
    ----------
    eta : float or array_like
        Precision, in (0, 1).
    delta : float or array_like or None
        Failure probability, in (0, 1); ``None`` uses ``eta`` alone.
    C : float or array_like, keyword-only
        The unspecified universal constant (``> 0``, default 1.0).

    Returns
    -------
    float or ndarray
        :math:`n = C \ln(1 / \min(\eta, \delta))` (natural log), or :math:`C \ln(1/\eta)`.

    Raises
    ------
    InvalidParameterError
        If an argument is out of range, not finite, of the wrong type, or the shapes do not
        broadcast.

    Notes
    -----
    Lueker 1998 (Corollary 3.3, as used in Pensia et al. 2020, Lemma 1): with
    :math:`n \ge C \log(1/\min(\eta, \delta))` i.i.d. values from a distribution containing a
    uniform one, with probability at least :math:`1 - \delta` every target in [-1, 1] is the
    sum of a subset within :math:`\eta`. Fit ``C`` with :func:`lueker_constant`.

    Examples
    --------
    :math:`\ln(1 / \min(0.01, 0.1)) = \ln 100 = 2 \ln 10`:

    >>> round(lueker_values(0.01, 0.1), 12)
    4.605170185988
    >>> round(lueker_values(0.01), 12)
    4.605170185988
    """
    e = _real("eta", eta, low=0.0, high=1.0, low_open=True, high_open=True)
    c = _c(C)
    if delta is None:
        _broadcast(eta=e, C=c)
        return _out(c * -np.log(e), eta, C)
    dl = _delta(delta)
    _broadcast(eta=e, delta=dl, C=c)
    return _out(c * -np.log(np.minimum(e, dl)), eta, delta, C)


def lueker_constant(n, eta, failure_rate):
    r"""Estimate the constant of [L] from an experiment: :math:`\hat C = n / \ln(1/\min)`.

    Parameters
    ----------
    n : float or array_like
        Number of random values per instance (``> 0``).
    eta : float or array_like
        Precision the instances were solved to, in (0, 1).
    failure_rate : float or array_like
        Observed fraction :math:`\hat\delta` of instances missing ``eta``, in [0, 1). A
        failure rate of exactly 0 is replaced by ``eta`` alone (the observed rate carries no
        information then; ``ln(1/0)`` would make :math:`\hat C = 0`).

    Returns
    -------
    float or ndarray
        :math:`\hat C = n / \ln(1 / \min(\eta, \hat\delta))`, or :math:`n / \ln(1/\eta)`
        where :math:`\hat\delta = 0`. Inverse of :func:`lueker_values` in ``C``.

    Raises
    ------
    InvalidParameterError
        If an argument is out of range, not finite, of the wrong type, or the shapes do not
        broadcast.

    Notes
    -----
    docs/theory.md, section 6; Lueker 1998. Inverts :math:`n = C \ln(1/\min(\eta, \delta))`.

    Examples
    --------
    :math:`20 / \ln(1000)`, ``failure_rate`` 0 so ``eta`` alone:

    >>> round(lueker_constant(20, 0.001, 0.0), 12)
    2.895296546022
    >>> round(lueker_constant(20, 0.01, 0.001), 12)
    2.895296546022
    """
    nn = _real("n", n, low=0.0, low_open=True)
    e = _real("eta", eta, low=0.0, high=1.0, low_open=True, high_open=True)
    fr = _real("failure_rate", failure_rate, low=0.0, high=1.0, high_open=True)
    _broadcast(n=nn, eta=e, failure_rate=fr)
    m = np.where(fr > 0, np.minimum(e, fr), e)
    return _out(nn / -np.log(m), n, eta, failure_rate)


def pensia_constant(values_per_input, d_in, d_out, depth, eps, delta):
    r"""Estimate the constant of [P] Theorem 1 from the values per input an experiment needed.

    Parameters
    ----------
    values_per_input : float or array_like
        The :math:`n_i` that sufficed in experiment (``> 0``).
    d_in, d_out, depth, eps, delta
        As in :func:`pensia_values_per_input`.

    Returns
    -------
    float or ndarray
        :math:`\hat C = n_i / \ln\bigl(d_{i-1} d_i l / \min(\varepsilon, \delta)\bigr)`.
        Inverse of :func:`pensia_values_per_input` in ``C``.

    Raises
    ------
    InvalidParameterError
        If an argument is out of range, not finite, of the wrong type, or the shapes do not
        broadcast.

    Notes
    -----
    docs/theory.md, section 6; Pensia et al. 2020, Theorem 1, natural log.

    Examples
    --------
    :math:`6 \ln 10 / \ln(2 \cdot 5 \cdot 1 / 0.01) = 6 \ln 10 / (3 \ln 10) = 2`:

    >>> round(pensia_constant(6 * 2.302585092994046, 2, 5, 1, 0.1, 0.01), 12)
    2.0
    """
    n = _real("values_per_input", values_per_input, low=0.0, low_open=True)
    e, dl, a, b, nl = _pensia_log(eps, delta, d_in, d_out, depth)
    _broadcast(values_per_input=n, d_in=a, d_out=b, depth=nl, eps=e, delta=dl)
    c = n / (np.log(a * b * nl) - np.log(np.minimum(e, dl)))
    return _out(c, values_per_input, d_in, d_out, depth, eps, delta)


# --------------------------------------------------------------------------------------------
# Comparison table
# --------------------------------------------------------------------------------------------

_COLUMNS = (
    "layer",
    "d_in",
    "d_out",
    "eta",
    "pensia_width",
    "malach_width",
    "lower_bound_width",
    "actual_width",
    "implied_C",
)


_IMPLIED = "; implied_C: the C at which pensia_width = actual_width"


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    return f"{value:.6g}"


@dataclass(frozen=True, eq=False)
class BoundTable:
    """Width bounds beside the width actually used, one entry per layer pair of a target.

    Built by :func:`compare`. Arrays have one entry per target layer ``i = 1..l`` and are
    read-only.

    Attributes
    ----------
    d_in, d_out : ndarray of int
        Widths :math:`d_{i-1}`, :math:`d_i` used in the bounds (augmented for biases).
    eta : ndarray
        :func:`per_weight_precision` of each layer.
    pensia_width : ndarray
        :func:`pensia_width` of each layer pair.
    malach_width : ndarray
        :func:`malach_width` with ``d`` the target's largest width (same for every layer).
    lower_bound_width : ndarray
        :func:`lower_bound_width` of each layer.
    actual_width : ndarray or None
        ``d_in * values_per_input`` when :func:`compare` was given ``values_per_input``.
    implied_C : ndarray or None
        The constant at which :func:`pensia_width` equals ``actual_width``
        (:func:`pensia_constant` of ``values_per_input``): ``pensia_width`` is drawn at ``C``,
        so the actual width is ``implied_C / C`` times it.
    C, eps, delta, radius : float
        The constant, error, failure probability and input radius the bounds were computed for.
    augmented : bool
        Whether the target has biases, so that widths were augmented by one constant unit.
    assumption_violations : tuple of str
        The target's ``assumption_violations(radius)``; non-empty means the theorems do not
        apply as stated.
    """

    d_in: np.ndarray
    d_out: np.ndarray
    eta: np.ndarray
    pensia_width: np.ndarray
    malach_width: np.ndarray
    lower_bound_width: np.ndarray
    actual_width: np.ndarray | None
    implied_C: np.ndarray | None
    C: float
    eps: float
    delta: float
    radius: float
    augmented: bool
    assumption_violations: tuple[str, ...]

    @property
    def depth(self) -> int:
        """Number of target layers :math:`l`."""
        return int(self.d_in.size)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per layer pair, keys ``layer`` (from 1), ``d_in`` ... ``implied_C``.

        Integers are ``int``, bounds ``float``, ``actual_width`` and ``implied_C`` ``None``
        when ``values_per_input`` was not given.
        """
        out = []
        for i in range(self.depth):
            out.append(
                {
                    "layer": i + 1,
                    "d_in": int(self.d_in[i]),
                    "d_out": int(self.d_out[i]),
                    "eta": float(self.eta[i]),
                    "pensia_width": float(self.pensia_width[i]),
                    "malach_width": float(self.malach_width[i]),
                    "lower_bound_width": float(self.lower_bound_width[i]),
                    "actual_width": (
                        None if self.actual_width is None else float(self.actual_width[i])
                    ),
                    "implied_C": None if self.implied_C is None else float(self.implied_C[i]),
                }
            )
        return out

    def __str__(self) -> str:
        """Fixed-width text table; floats printed with ``format(x, ".6g")``, missing as ``-``."""
        header = (
            f"width bounds per layer pair: eps={self.eps:g}, delta={self.delta:g}, "
            f"C={self.C:g}, radius={self.radius:g} (natural log; lower bound log2"
            f"{'; widths augmented by 1 for biases' if self.augmented else ''}"
            f"{'' if self.implied_C is None else _IMPLIED})"
        )
        lines = [header]
        if self.assumption_violations:
            lines.append(
                "theorem assumptions do not hold: " + "; ".join(self.assumption_violations)
            )
        cells = [[_cell(row[k]) for k in _COLUMNS] for row in self.rows()]
        widths = [max(len(k), *(len(r[j]) for r in cells)) for j, k in enumerate(_COLUMNS)]
        lines.append("  ".join(k.rjust(w) for k, w in zip(_COLUMNS, widths, strict=True)))
        for r in cells:
            lines.append("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)))
        return "\n".join(lines)


MAX_WIDTH = 2**53
"""Largest target width :func:`compare` accepts: every width and product of widths the bounds
form is then exact in float64 up to rounding, and ``int64`` arrays hold the widths."""


def _target_widths(target, bias) -> tuple[tuple[int, ...], int, bool, Any]:
    """``(widths, depth, has_bias, violations)`` of a network or of a sequence of widths;
    ``violations(radius)`` lists the theorem assumptions the target breaks."""
    if isinstance(target, list | tuple | np.ndarray):
        if np.ndim(target) != 1 or len(target) < 2:
            raise InvalidParameterError(
                "`target` given as widths must be a sequence of at least two positive integers "
                f"(d_0, ..., d_l); got {_fmt(target)}."
            )
        widths = tuple(
            check_int(f"target[{k}]", w, low=1, high=MAX_WIDTH) for k, w in enumerate(target)
        )
        bias = False if bias is None else check_bool("bias", bias)

        def violations(radius):
            reasons = ["the network has biases (augmented() removes them)"] if bias else []
            return reasons + ([f"the input radius {radius:g} is > 1"] if radius > 1.0 else [])

        return widths, len(widths) - 1, bias, violations
    if bias is not None:
        raise InvalidParameterError(
            "`bias` must be left out for a network (it has biases or not); got "
            f"{_fmt(bias)} with a {type(target).__name__}."
        )
    missing = [a for a in ("widths", "depth", "assumption_violations") if not hasattr(target, a)]
    if missing:
        raise InvalidParameterError(
            "`target` must have `widths`, `depth` and `assumption_violations` (a ReLUNetwork) "
            f"or be a sequence of widths; got {type(target).__name__} without "
            f"{', '.join(f'`{m}`' for m in missing)}."
        )
    widths = tuple(
        check_int(f"target.widths[{k}]", w, low=1, high=MAX_WIDTH)
        for k, w in enumerate(target.widths)
    )
    depth = check_int("target.depth", target.depth, low=1)
    if len(widths) != depth + 1:
        raise InvalidParameterError(
            f"`target.widths` must have depth + 1 = {depth + 1} entries; got {len(widths)}."
        )
    has_bias = bool(getattr(target, "has_bias", False))
    return widths, depth, has_bias, lambda radius: target.assumption_violations(radius=radius)


def compare(target, eps, delta, *, C=1.0, values_per_input=None, radius=1.0, bias=None):
    r"""Tabulate the width bounds for a target beside the width a construction actually used.

    Parameters
    ----------
    target : ReLUNetwork or sequence of int
        Anything with ``widths`` (:math:`d_0, \dots, d_l`), ``depth`` (:math:`l`) and
        ``assumption_violations(radius=...) -> list[str]``; ``has_bias`` is read when present
        (default ``False``). Or the widths :math:`(d_0, \dots, d_l)` alone, each at most
        :data:`MAX_WIDTH`: the bounds depend on nothing else, so no network is built (a
        ``--d 100000`` table costs nothing), and every layer is taken to satisfy
        :math:`\lVert W_i\rVert_2 \le 1`.
    eps, delta : float
        Output error and failure probability, each in (0, 1).
    C : float, keyword-only
        Universal constant used in every upper bound (``> 0``, default 1.0).
    values_per_input : float or array_like, optional
        The :math:`n_i` a construction used, one per layer pair (or one for all), each
        ``> 0``; fills ``actual_width = d_in * values_per_input``.
    radius : float, keyword-only
        Input radius passed to ``target.assumption_violations`` (``>= 0``, default 1.0).
    bias : bool, keyword-only, optional
        For ``target`` given as widths: whether the target has biases (default ``False``).
        Must be left out for a network.

    Returns
    -------
    BoundTable
        Per-layer :func:`per_weight_precision`, :func:`pensia_width`, :func:`malach_width`
        (``d`` = the target's largest width), :func:`lower_bound_width`, and with
        ``values_per_input`` the actual width and the constant it implies in Pensia's bound.

    Raises
    ------
    InvalidParameterError
        If ``target`` lacks the attributes, its widths are not positive integers, or another
        argument is out of range or of the wrong shape.

    Warns
    -----
    TheoryAssumptionWarning
        If the target violates an assumption of the theorems; the table says so as well.

    Notes
    -----
    A target with biases is handled, as the constructions do, by appending a constant input 1
    carried through every hidden layer by one extra unit (docs/theory.md, section 1), so the widths
    used in every bound are the augmented ones: :math:`d_0 + 1` inputs, :math:`d_i + 1` units in
    hidden layer :math:`i < l`, and :math:`d_l` outputs. The theorems assume bias-free targets
    with :math:`\lVert W_i\rVert_2 \le 1` on the unit ball (Pensia et al. 2020, Theorem 1;
    Malach et al. 2020, Theorem 2.1); when the target's ``assumption_violations`` is not
    empty the bounds are shown but do not apply as stated.

    Examples
    --------
    >>> class Target:  # stand-in for ReLUNetwork
    ...     widths, depth, has_bias = (2, 4, 1), 2, False
    ...     def assumption_violations(self, radius=1.0):
    ...         return []
    >>> table = compare(Target(), 0.1, 0.1, values_per_input=[3, 4])
    >>> table.d_in, table.d_out
    (array([2, 4]), array([4, 1]))
    >>> table.eta.round(6)  # 0.1 / (2 * 2 * sqrt(16)), 0.1 / (2 * 2 * sqrt(8))
    array([0.00625 , 0.008839])
    >>> table.actual_width
    array([ 6., 16.])
    >>> table.implied_C.round(4)  # 3 / ln(2 * 4 * 2 / 0.1), 4 / ln(4 * 1 * 2 / 0.1)
    array([0.5911, 0.9128])
    >>> compare((100000,) * 3, 0.1, 0.1).d_in  # widths alone: no network is built
    array([100000, 100000])
    """
    widths, depth, has_bias, target_violations = _target_widths(target, bias)
    eps = check_real("eps", eps, low=0.0, high=1.0, low_open=True, high_open=True)
    delta = check_real("delta", delta, low=0.0, high=1.0, low_open=True, high_open=True)
    C = check_real("C", C, low=0.0, low_open=True)
    radius = check_real("radius", radius, low=0.0)

    w = np.array(widths, dtype=np.int64)
    if has_bias:
        w[:-1] += 1
    d_in, d_out = w[:-1].copy(), w[1:].copy()
    actual = implied = None
    if values_per_input is not None:
        n = _real("values_per_input", values_per_input, low=0.0, low_open=True)
        if np.shape(n) not in ((), (depth,)):
            raise InvalidParameterError(
                f"`values_per_input` must be a scalar or have shape ({depth},) (one per layer "
                f"pair); got shape {np.shape(n)}."
            )
        n = np.broadcast_to(n, (depth,)).astype(np.float64)
        actual = d_in * n
        implied = pensia_constant(n, d_in, d_out, depth, eps, delta)

    violations = tuple(str(v) for v in target_violations(radius))
    if violations:
        warnings.warn(
            "theorem assumptions do not hold, bounds do not apply as stated: "
            + "; ".join(violations),
            TheoryAssumptionWarning,
            stacklevel=2,
        )

    with np.errstate(over="ignore"):  # a bound beyond the float range is shown as inf
        arrays = {
            "d_in": d_in,
            "d_out": d_out,
            "eta": per_weight_precision(eps, d_in, d_out, depth),
            "pensia_width": pensia_width(d_in, d_out, depth, eps, delta, C=C),
            "malach_width": np.full(depth, malach_width(int(w.max()), depth, eps, delta, C=C)),
            "lower_bound_width": lower_bound_width(d_in, d_out, eps),
            "actual_width": actual,
            "implied_C": implied,
        }
    for arr in arrays.values():
        if arr is not None:
            arr.setflags(write=False)
    return BoundTable(
        **arrays,
        C=C,
        eps=eps,
        delta=delta,
        radius=radius,
        augmented=has_bias,
        assumption_violations=violations,
    )


_SIDE_BY_SIDE = (
    ("construction", "{}"),
    ("depth", "{}"),
    ("hidden widths", "{}"),
    ("paper width bound, C = 1", "{}"),
    ("implied C", "{}"),
    ("random params", "{:,}"),
    ("kept params", "{:,}"),
    ("density", "{:.3%}"),
    ("certified error", "{:.4e}"),
    ("measured error", "{}"),
)


@dataclass(frozen=True, eq=False)
class ConstructionTable:
    """Tickets of several constructions for one target, side by side.

    Built by :func:`compare_constructions`.

    Attributes
    ----------
    rows : tuple of dict
        One per ticket, keys ``construction``, ``label`` (the construction and its options:
        ``k`` the subset size, ``p`` the source density, the distribution when not uniform),
        ``paper``, ``depth`` (random layers),
        ``hidden_widths`` (every hidden layer of the random network), ``layer_widths`` (the
        hidden width each target layer costs, the quantity the papers bound), ``bound`` (its
        paper's width bound per target layer at ``C = 1``), ``implied_C`` (``layer_widths /
        bound``: the constant at which the bound equals the width used, as every bound here is
        linear in ``C``), ``random_params``, ``kept_params``, ``density``, ``certified``,
        ``measured``, ``eps`` (the error the bound is evaluated at).
    delta : float
        The failure probability of the bounds.
    """

    rows: tuple[dict, ...]
    delta: float

    def __str__(self) -> str:
        """One column per construction, one line per quantity."""
        cells = [[label] for label, _ in _SIDE_BY_SIDE]
        for row in self.rows:
            values = (
                row["label"],
                row["depth"],
                "-".join(str(w) for w in row["hidden_widths"]),
                "/".join(_cell(float(b)) for b in row["bound"]),
                "/".join(f"{c:.3g}" for c in row["implied_C"]),
                row["random_params"],
                row["kept_params"],
                row["density"],
                row["certified"],
                "-" if row["measured"] is None else f"{row['measured']:.4e}",
            )
            for line, ((_, form), value) in zip(cells, zip(_SIDE_BY_SIDE, values)):
                line.append(form.format(value))
        widths = [max(len(line[k]) for line in cells) for k in range(len(cells[0]))]
        lines = [
            f"constructions side by side (each paper's bound per target layer at the ticket's "
            f"eps, else its certified error, delta = {self.delta:g}; implied C: the hidden width "
            "a target layer costs / the bound at C = 1)"
        ]
        lines += ["  ".join(c.rjust(w) for c, w in zip(line, widths)) for line in cells]
        papers = dict.fromkeys(f"{row['construction']}: {row['paper']}" for row in self.rows)
        lines += list(papers)
        return "\n".join(lines)


def compare_constructions(tickets, *, delta=0.01):
    r"""Put tickets of several constructions for one target side by side, each against its own
    paper's width bound.

    Parameters
    ----------
    tickets : sequence of Ticket
        Tickets made by :func:`~strong_lth.approximate` (each with its report), one per
        construction or option to compare, for the same target.
    delta : float, keyword-only
        Failure probability of the bounds, in (0, 1) (default 0.01).

    Returns
    -------
    ConstructionTable
        Per ticket: depth, widths, random and kept parameters, density, certified and measured
        error, the paper's width bound per target layer at ``C = 1`` and the constant ``C`` it
        implies.

    Raises
    ------
    InvalidParameterError
        If a ticket has no report, or if the tickets were made for different targets.

    Notes
    -----
    Each construction declares its bound (:class:`strong_lth.constructions.Construction`
    ``bound``). It is evaluated at the error the ticket is certified for (``eps`` in automatic
    mode, else the certified error when it is below 1), so that the bound and the width used
    answer the same question; a ticket certified only at an error of 1 or more gets NaN.

    Examples
    --------
    >>> from strong_lth import ReLUNetwork, approximate
    >>> target = ReLUNetwork.random((3, 4, 2), rng=0)
    >>> tickets = [approximate(target, values_per_input=6, construction=c, rng=1,
    ...                        certificate="spectral") for c in ("pensia", "malach")]
    >>> table = compare_constructions(tickets)
    >>> [row["depth"] for row in table.rows], table.rows[0]["layer_widths"]
    ([4, 4], [18, 24])
    """
    from .constructions import CONSTRUCTIONS  # constructions declare bounds from this module

    delta = check_real("delta", delta, low=0.0, high=1.0, low_open=True, high_open=True)
    tickets = list(tickets)
    if not tickets or any(getattr(t, "report", None) is None for t in tickets):
        raise InvalidParameterError(
            "`tickets` must be a non-empty sequence of tickets with reports (from approximate); "
            f"got {_fmt(tickets)}."
        )
    fingerprints = {t.target_fingerprint for t in tickets}
    if len(fingerprints) > 1:
        raise InvalidParameterError(
            f"`tickets` must all be made for the same target; got {len(fingerprints)} targets."
        )
    rows = []
    for ticket in tickets:
        report = ticket.report
        declared = CONSTRUCTIONS[ticket.construction]
        layers = report.layers
        eps = report.eps if report.eps is not None else report.certified
        d_in = np.array([r.d_in for r in layers])
        d_out = np.array([r.d_out for r in layers])
        used = [r.hidden_width for r in layers]
        bound = np.full(len(layers), np.nan)
        if 0 < eps < 1:
            with np.errstate(over="ignore"):
                bound = np.broadcast_to(
                    declared.bound(d_in, d_out, len(layers), eps, delta, C=1.0), len(layers)
                )
        shapes = ticket.random_network().shapes
        options = [ticket.construction]
        if ticket.subset_size is not None:
            options.append(f"k={ticket.subset_size}")
        if ticket.source_density < 1:
            options.append(f"p={ticket.source_density:g}")
        if ticket.distribution.name != "uniform":
            options.append(ticket.distribution.name)
        rows.append(
            {
                "construction": ticket.construction,
                "label": " ".join(options),
                "paper": declared.paper,
                "depth": len(shapes),
                "hidden_widths": [rows for rows, _ in shapes[:-1]],
                "layer_widths": used,
                "bound": [float(b) for b in bound],
                "implied_C": [w / float(b) for w, b in zip(used, bound)],
                "random_params": report.random_params,
                "kept_params": report.kept_params,
                "density": report.density,
                "certified": report.certified,
                "measured": report.measured,
                "eps": float(eps),
            }
        )
    return ConstructionTable(rows=tuple(rows), delta=delta)
