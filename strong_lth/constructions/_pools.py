"""The sign pools of docs/theory.md, section 3: which products can approximate each target weight.

Unit ``(j, k)`` of layer pair i computes ``σ(u_jk h_j)``. For ``h_j > 0`` only units with
``u_jk > 0`` fire, for ``h_j < 0`` only those with ``u_jk < 0``, so each target weight ``W[r, j]``
is approximated twice: by a subset of the *positive pool* ``{v_rjk u_jk : u_jk > 0}`` (giving
``A[r, j]``) and of the *negative pool* ``{v_rjk u_jk : u_jk < 0}`` (giving ``B[r, j]``).

An input that is never negative (every input of a pair after the first, which reads a ReLU
output, and the constant 1 that carries biases) never fires a unit with ``u_jk < 0``: its
negative pool is empty (:func:`check_signed`), and ``B[:, j]`` stays 0.

In a sparse random network (``source_density < 1``) absent weights are exactly 0: a unit with
``u_jk = 0`` is in neither pool, and a product with ``v_rjk = 0`` is left out of the pools of
``(r, j)``, so no absent weight is ever offered to a solver, nor kept. Pools then differ from
one output to the next and :attr:`Pools.copies` holds one row per output.
"""

from dataclasses import dataclass

import numpy as np

from .._validation import _fmt
from ..exceptions import InvalidParameterError
from ..gadgets import signed_inputs


@dataclass(frozen=True, eq=False)
class Pools:
    """The ``2 d_out d_in`` instances of one layer, stacked for one batched solve.

    Attributes
    ----------
    copies : ndarray of int64, shape (2, R, d_in, L)
        ``copies[s, r, j, m]`` is the copy index ``k`` of the m-th value of the pool of sign s
        (s = 0 positive, 1 negative) of output r and input j, in increasing k; padding past
        ``lengths[s, r, j]`` is copy 0. ``R = 1`` (the same pools for every output) unless some
        ``v`` is 0, else ``R = d_out``.
    lengths : ndarray of int64, shape (2, R, d_in)
        Pool sizes, at most ``max_values``.
    values : ndarray of float64, shape (2, d_out, d_in, L)
        ``values[s, r, j, m] = v[r, j, k] * u[j, k]`` with ``k = copies[s, r, j, m]``.
    signs : ndarray of bool, shape (2, R, d_in, n)
        ``signs[s, r, j, k]``: copy k of input j belongs to the pool of sign s (``u > 0``,
        ``u < 0``) of output r.
    """

    copies: np.ndarray
    lengths: np.ndarray
    values: np.ndarray
    signs: np.ndarray

    @property
    def shape(self):
        """``(d_out, d_in)`` of the target layer."""
        return self.values.shape[1:3]

    def per_instance(self, array):
        """``copies``, ``lengths`` or ``signs`` broadcast to every output (a view)."""
        return np.broadcast_to(array, (2, *self.shape, *array.shape[3:]))

    def _in_pool(self):
        return np.arange(self.values.shape[-1]) < self.per_instance(self.lengths)[..., None]

    def selected(self, chosen):
        """Which copies are kept, shape ``(d_out, d_in, n)``, from a pool mask ``chosen`` of shape
        ``(2, d_out, d_in, L)`` (the two signs' pools are disjoint, so their union is exact)."""
        d_out, d_in = self.shape
        keep = np.zeros((d_out, d_in, self.signs.shape[-1]), dtype=bool)
        s, r, j, m = np.nonzero(chosen)
        keep[r, j, self.per_instance(self.copies)[s, r, j, m]] = True
        return keep

    def from_keep(self, keep):
        """The pool mask of an earlier ``keep`` (over any number of copies), and per instance
        whether it carries over: every kept copy of the instance's sign exists here, in the pool.

        Weights depend only on their position, so a carried-over subset has the same sum here.
        """
        d_out, d_in = self.shape
        n = self.signs.shape[-1]
        now = np.zeros((d_out, d_in, n), dtype=bool)
        now[:, :, : keep.shape[2]] = keep[:, :, :n]
        outputs = np.arange(d_out)[None, :, None, None]
        inputs = np.arange(d_in)[None, None, :, None]
        chosen = now[outputs, inputs, self.copies] & self._in_pool()
        wanted = np.stack([np.count_nonzero(now & sign, axis=2) for sign in self.signs])
        lost = keep[:, :, n:].any(axis=2)  # copies this network does not have
        return chosen, (chosen.sum(axis=3) == wanted) & ~lost[None]


def check_signed(signed, layer: int, d_in: int) -> np.ndarray:
    """Which inputs of layer pair ``layer`` can be negative, as a bool array of shape ``(d_in,)``.

    ``None`` gives the default of :func:`~strong_lth.gadgets.signed_inputs` without a constant
    input: every input of the first pair is signed, none of a later pair (a ReLU output). The
    caller that knows the target has biases passes ``signed_inputs(1, d_in, True)``, whose last
    input (the constant 1) is unsigned.
    """
    if signed is None:
        return signed_inputs(layer, d_in, input_bias=False)
    arr = np.asarray(signed)
    if arr.dtype != bool or arr.shape != (d_in,):
        raise InvalidParameterError(
            f"`signed` must be a bool array of shape ({d_in},), one entry per input of layer "
            f"pair {layer}; got {_fmt(signed)} of dtype {arr.dtype} and shape {arr.shape}."
        )
    return arr


def sign_pools(u, v, max_values=None, signed=None):
    """Gather both sign pools of every ``(r, j)`` from the gadget weights ``u`` (d_in, n) and
    ``v`` (d_out, d_in, n); a pool larger than ``max_values`` keeps its first ``max_values``
    values (a sub-pool: any subset of it is still a valid subset of the whole pool). Inputs
    with ``signed[j]`` False (default: none) get an empty negative pool: their units with
    ``u < 0`` never fire.

    Called as ``sign_pools(*network.gadget_weights(i))``, ``v`` is freed on return: the pools
    replace it, so a wide layer never holds both at once. A zero ``u`` or ``v`` (an absent
    weight of a sparse network) is in no pool (module docstring)."""
    d_in = u.shape[0]
    signs = np.stack([u > 0, u < 0])[:, None]  # (2, 1, d_in, n); u == 0 units never help
    if signed is not None:
        signs[1] &= signed[:, None]
    if not v.all():  # absent second-layer weights: pools per output
        signs = signs & (v != 0)[None]
    lengths = signs.sum(axis=3)
    if max_values is not None:
        lengths = np.minimum(lengths, max_values)
    width = int(lengths.max(initial=0))
    # stable argsort puts each pool's copies first, in increasing k, so nesting is preserved
    copies = np.argsort(~signs, axis=3, kind="stable")[..., :width]
    used = np.arange(width) < lengths[..., None]
    copies = np.where(used, copies, 0)
    rows = np.arange(d_in)[None, None, :, None]
    outputs = np.arange(v.shape[0])[None, :, None, None]
    values = v[outputs, rows, copies]  # (2, d_out, d_in, L), one allocation
    values *= u[rows, copies]
    return Pools(copies=copies, lengths=lengths, values=values, signs=signs)
