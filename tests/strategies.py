"""The suite's hypothesis strategies: the public ones of :mod:`strong_lth.testing`.

``relu_networks`` here keeps the suite's default of targets both inside and outside the
theorems' assumptions (spectral norms in [0.25, 4], biases drawn), which the public strategy
gives with ``violate=None``.
"""

import numpy as np
from hypothesis import strategies as st

from strong_lth.convnets import AvgPool2d, Conv2d, ConvNetwork, Flatten, Linear, ReLU
from strong_lth.testing import relu_networks as _relu_networks
from strong_lth.testing import seeds, subset_sum_instances

__all__ = ["relu_networks", "seeds", "small_cnns", "subset_sum_instances"]


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


@st.composite
def small_cnns(draw, *, biased=False):
    """``(network, seed)``: random CNNs of 1-2 convolutions (stride, padding, optional pooling)
    and a dense layer, input size 4..6. With ``biased``, each convolution's bias is present or
    not, the dense layer has one, and every padding is at most ``(k - 1) / 2`` (so a constant
    tap exists, :func:`strong_lth.convnets.constant_tap`)."""
    seed = draw(st.integers(0, 2**16))
    gen = np.random.default_rng(seed)
    c, size = draw(st.integers(1, 2)), draw(st.integers(4, 6))
    shape = (c, size, size)
    layers, side = [], size
    for _ in range(draw(st.integers(1, 2))):
        out = draw(st.integers(1, 3))
        stride, padding = draw(st.integers(1, 2)), draw(st.integers(0, 1))
        k = min(draw(st.integers(1, 3)), side + 2 * padding)
        if biased:
            k = min(k, side)
            padding = min(padding, (k - 1) // 2)
        bias = 0.4 * gen.standard_normal(out) if biased and draw(st.booleans()) else None
        layers += [
            Conv2d(0.4 * gen.standard_normal((out, c, k, k)), bias, stride, padding),
            ReLU(),
        ]
        c = out
        side = ConvNetwork(shape, layers).shapes[-1][1]
        if side >= 2 and draw(st.booleans()):
            layers.append(AvgPool2d(2, 1))
            side -= 1
    flat = int(np.prod(ConvNetwork(shape, layers).shapes[-1]))
    head_bias = 0.4 * gen.standard_normal(2) if biased else None
    layers += [Flatten(), Linear(0.4 * gen.standard_normal((2, flat)), head_bias)]
    return ConvNetwork(shape, layers), seed
