"""Hypothesis strategies shared by the test suite (bounded floats, explicit seeds)."""

import numpy as np
from hypothesis import strategies as st

from strong_lth.networks import ReLUNetwork

__all__ = ["relu_networks", "seeds", "subset_sum_instances"]

seeds = st.integers(min_value=0, max_value=2**32 - 1)
"""Explicit seeds for numpy Generators."""

finite_values = st.floats(min_value=-1.0, max_value=1.0, allow_nan=False, width=64)


@st.composite
def subset_sum_instances(draw, *, min_n=0, max_n=12):
    """A SubsetSum instance ``(values, target)``: values in [-1, 1], target in [-2, 2].

    Repeated values and exact zeros are drawn on purpose, since they break naive tie handling.
    """
    n = draw(st.integers(min_value=min_n, max_value=max_n))
    pool = draw(st.lists(finite_values, min_size=1, max_size=max(n, 1)))
    values = draw(st.lists(st.sampled_from([*pool, 0.0]), min_size=n, max_size=n))
    target = draw(st.floats(min_value=-2.0, max_value=2.0, allow_nan=False, width=64))
    return np.array(values, dtype=np.float64), target


@st.composite
def relu_networks(draw, *, max_width=6, max_depth=3, bias=None):
    """A :meth:`ReLUNetwork.random` network: widths in 1..max_width, depth 1..max_depth.

    ``bias=None`` draws whether the network has biases; the spectral norm of every layer is drawn
    from [0.25, 4] so that networks inside and outside the theorems' assumptions both occur.
    """
    depth = draw(st.integers(min_value=1, max_value=max_depth))
    widths = draw(st.lists(st.integers(1, max_width), min_size=depth + 1, max_size=depth + 1))
    has_bias = draw(st.booleans()) if bias is None else bias
    spectral_norm = draw(st.floats(min_value=0.25, max_value=4.0))
    return ReLUNetwork.random(widths, rng=draw(seeds), spectral_norm=spectral_norm, bias=has_bias)
