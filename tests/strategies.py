"""The suite's hypothesis strategies: the public ones of :mod:`strong_lth.testing`.

``relu_networks`` here keeps the suite's default of targets both inside and outside the
theorems' assumptions (spectral norms in [0.25, 4], biases drawn), which the public strategy
gives with ``violate=None``.
"""

from hypothesis import strategies as st

from strong_lth.testing import relu_networks as _relu_networks
from strong_lth.testing import seeds, subset_sum_instances

__all__ = ["relu_networks", "seeds", "subset_sum_instances"]


def relu_networks(*, max_width=6, max_depth=3, bias=None):
    """:func:`strong_lth.testing.relu_networks` with ``violate=None``, spectral norms drawn in
    [0.25, 4] and biases drawn unless ``bias`` is given."""
    return _relu_networks(
        max_width=max_width,
        max_depth=max_depth,
        spectral_norm=st.floats(min_value=0.25, max_value=4.0),
        bias=st.booleans() if bias is None else bias,
        violate=None,
    )
