"""The convolutional certificate (conv_certify), ticket (conv_ticket) and automatic mode."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strong_lth._approximate_conv import approximate_conv
from strong_lth.conv_certify import certify_conv, fft_norm_bound, operator_norm
from strong_lth.conv_ticket import ConvTicket
from strong_lth.convnets import AvgPool2d, Conv2d, ConvNetwork, Flatten, Linear, ReLU
from strong_lth.exceptions import FileFormatError, InvalidParameterError

from .strategies import small_cnns
from .test_conv import naive_conv


def naive_matrix(kernel, shape, stride, padding):
    """The operator's matrix, column by column from the loop convolution."""
    size = int(np.prod(shape))
    basis = np.eye(size).reshape(size, *shape)
    return naive_conv(basis, kernel, stride, padding).reshape(size, -1).T


def power_iteration(m, steps=300, seed=0):
    """A lower bound on ||m||_2: the norm of m on a unit vector after power steps."""
    x = np.random.default_rng(seed).standard_normal(m.shape[1])
    for _ in range(steps):
        x = m.T @ (m @ x)
        x /= np.linalg.norm(x)
    return float(np.linalg.norm(m @ x))


@pytest.mark.parametrize(
    "shape,stride,padding,kernel",
    [
        ((2, 6, 6), (1, 1), (0, 0), (3, 2, 3, 3)),
        ((2, 7, 5), (2, 1), (1, 2), (4, 2, 3, 2)),
        ((3, 5, 8), (2, 3), (1, 0), (2, 3, 2, 2)),
        ((1, 4, 4), (1, 1), (2, 2), (1, 1, 4, 4)),
    ],
)
def test_operator_norm_between_power_iteration_and_frobenius(shape, stride, padding, kernel):
    k = np.random.default_rng(5).standard_normal(kernel)
    layer = Conv2d(k, stride=stride, padding=padding)
    m = naive_matrix(k, shape, stride, padding)
    used = operator_norm(layer, shape)
    assert power_iteration(m) <= used * (1 + 1e-12)
    assert used <= np.linalg.norm(m) * (1 + 1e-12)  # the Frobenius bound
    bound = fft_norm_bound(k, shape[1:], padding)
    assert used <= bound * (1 + 1e-12)
    assert operator_norm(layer, shape, max_bytes=0) == bound  # too large: the FFT bound
    assert bound <= np.linalg.norm(k) * np.sqrt(kernel[2] * kernel[3]) * (1 + 1e-12)


def test_pool_and_linear_norms():
    assert operator_norm(AvgPool2d(2), (3, 6, 6)) == pytest.approx(0.5, rel=1e-12)
    m = naive_matrix(np.full((1, 1, 2, 2), 0.25), (1, 5, 5), (1, 1), (0, 0))
    assert operator_norm(AvgPool2d(2, 1), (4, 5, 5)) == pytest.approx(np.linalg.norm(m, 2))
    w = np.random.default_rng(0).standard_normal((4, 7))
    assert operator_norm(Linear(w), (7,)) == pytest.approx(np.linalg.svd(w)[1][0], rel=1e-12)


@settings(max_examples=8, deadline=None)
@given(small_cnns(), st.integers(1, 6))
def test_measured_within_certified(case, n):
    target, seed = case
    ticket = approximate_conv(target, values_per_input=n, rng=seed, measure=False)
    cert = certify_conv(target, ticket, rng=seed, samples=64, starts=4, ascent_steps=20)
    assert cert.certified == min(cert.bounds.values())
    assert all(cert.measured <= bound * (1 + 1e-9) for bound in cert.bounds.values())
    pooled = any(isinstance(layer, AvgPool2d) for layer in target.layers)
    assert ("lockstep" in cert.bounds) == (not pooled)
    x = np.random.default_rng(seed).standard_normal((200, *target.input_shape))
    x /= np.linalg.norm(x.reshape(200, -1), axis=1)[:, None, None, None]
    gap = np.linalg.norm((target.forward(x) - ticket.forward(x)).reshape(200, -1), axis=1)
    assert gap.max() <= cert.certified * (1 + 1e-9)


def digits_like():
    gen = np.random.default_rng(3)
    return ConvNetwork(
        (1, 5, 5),
        [
            Conv2d(0.3 * gen.standard_normal((2, 1, 3, 3)), padding=1),
            ReLU(),
            AvgPool2d(2, 1),
            Conv2d(0.3 * gen.standard_normal((3, 2, 2, 2)), stride=2),
            ReLU(),
            Flatten(),
            Linear(0.3 * gen.standard_normal((2, 12))),
        ],
    )


def test_automatic_mode_meets_eps_and_round_trips(tmp_path):
    target = digits_like()
    ticket = approximate_conv(target, eps=0.1, rng=1)
    report = ticket.report
    assert report.measured <= report.certified <= 0.1
    again = approximate_conv(target, eps=0.1, rng=1, measure=False)
    assert again.values_per_input == ticket.values_per_input
    assert all(np.array_equal(a, b) for a, b in zip(again.keeps, ticket.keeps))
    # one fewer value in any layer breaks eps, or the search would have taken it
    for i, n in enumerate(ticket.values_per_input):
        if n > 1:
            fewer = list(ticket.values_per_input)
            fewer[i] -= 1
            smaller = approximate_conv(target, values_per_input=fewer, rng=1, measure=False)
            assert smaller.report.certified > 0.1 * (1 - 1e-9)
    assert ticket.hidden_channels == tuple(
        c * n for c, n in zip((1, 2, 12), ticket.values_per_input)
    )
    path = tmp_path / "ticket.npz"
    ticket.save(path)
    back = ConvTicket.load(path)
    x = np.random.default_rng(0).standard_normal((3, 1, 5, 5))
    assert np.array_equal(back.forward(x), ticket.forward(x))
    assert back.report["certified"] == report.certified
    assert back.certificate(target, measure=False).certified == report.certified
    np.savez(tmp_path / "bad.npz", header=np.array("{}"))
    with pytest.raises(FileFormatError, match="ConvTicket file"):
        ConvTicket.load(tmp_path / "bad.npz")


def test_refusals():
    target = digits_like()
    ticket = approximate_conv(target, values_per_input=2, rng=0, measure=False)
    other = ConvNetwork(target.input_shape, [*target.layers[:-1], Linear(np.ones((2, 12)))])
    with pytest.raises(InvalidParameterError, match="fingerprint"):
        certify_conv(other, ticket)
    biased = ConvNetwork((1, 4, 4), [Conv2d(np.ones((1, 1, 3, 3)), bias=[1.0], padding=2)])
    with pytest.raises(InvalidParameterError, match=r"padding must be at most \(k - 1\) / 2"):
        approximate_conv(biased, eps=0.1)
    with pytest.raises(InvalidParameterError, match="exactly one of"):
        approximate_conv(target, eps=0.1, values_per_input=3)
    with pytest.raises(InvalidParameterError, match="must be a ConvNetwork"):
        approximate_conv("net", eps=0.1)
    with pytest.raises(InvalidParameterError, match="start and end with a linear layer"):
        approximate_conv(ConvNetwork((1, 4, 4), [Conv2d(np.ones((1, 1, 3, 3))), ReLU()]), eps=1)
    with pytest.raises(InvalidParameterError, match="`eps` must be in"):
        approximate_conv(target, eps=-1.0)
    with pytest.raises(InvalidParameterError, match="`max_values_per_input` must be"):
        approximate_conv(target, eps=1e-3, max_values_per_input=3, measure=False)
    with pytest.raises(InvalidParameterError, match="`max_bytes` must cover"):
        approximate_conv(target, values_per_input=4, max_bytes=1000)
    with pytest.raises(InvalidParameterError, match=r"`keeps\[0\]` must be a bool array"):
        ConvTicket(**{**ticket.__dict__, "keeps": (np.ones((2, 9, 3), bool), *ticket.keeps[1:])})


class Tampered:
    """A ticket whose kernels claim one function while its pruned network computes another."""

    def __init__(self, ticket):
        self.ticket, self.target_fingerprint = ticket, ticket.target_fingerprint

    def gadget_kernels(self):
        return [(1.5 * a, 1.5 * b) for a, b in self.ticket.gadget_kernels()]

    def pruned_network(self):
        return self.ticket.pruned_network()


def test_a_ticket_whose_masks_disagree_is_refused():
    from strong_lth.exceptions import CertificationError

    target = digits_like()
    ticket = approximate_conv(target, values_per_input=10, rng=0, measure=False)
    with pytest.raises(CertificationError, match="cannot be certified"):
        certify_conv(target, Tampered(ticket))


def test_a_dense_target_gets_the_dense_pipelines_ticket_and_bounds():
    """A ReLUNetwork written as a ConvNetwork (Flatten, Linear, ReLU, Linear) on (d, 1, 1)
    inputs: the same random weights, subsets, (A, B) and spectral bound as strong_lth.approximate
    and strong_lth.certify compute independently."""
    from strong_lth import ReLUNetwork, approximate, certify
    from strong_lth.gadgets import gadget_form

    dense = ReLUNetwork.random((4, 6, 3), rng=0)
    target = ConvNetwork(
        (4, 1, 1), [Flatten(), Linear(dense.weights[0]), ReLU(), Linear(dense.weights[1])]
    )
    ticket = approximate_conv(target, values_per_input=(7, 9), rng=5, measure=False)
    reference = approximate(dense, values_per_input=(7, 9), rng=5, measure=False)
    for (a, b), (a_ref, b_ref) in zip(ticket.gadget_kernels(), gadget_form(dense, reference)):
        assert np.allclose(a[:, :, 0, 0], a_ref, atol=1e-12)
        assert np.allclose(b[:, :, 0, 0], b_ref, atol=1e-12)
    mine = ticket.report.bounds
    theirs = certify(dense, reference, rng=0, method=("spectral", "lockstep")).bounds
    assert mine["spectral"] == pytest.approx(theirs["spectral"], rel=1e-9)
    assert mine["lockstep"] == pytest.approx(theirs["lockstep"], rel=1e-9)
