"""Every registered construction, through its declaration: properties of its tickets, and the
options of issue 13 (fixed-size subsets, sparse random networks, heavy-tailed weights)."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strong_lth import InvalidParameterError, ReLUNetwork, Ticket, approximate
from strong_lth._certify import AGREEMENT
from strong_lth.constructions import CONSTRUCTIONS, pensia
from strong_lth.gadgets import signed_inputs
from strong_lth.networks import read_npz, write_npz
from strong_lth.subset_sum import METHODS

SUBSET_CONSTRUCTIONS = [n for n, c in CONSTRUCTIONS.items() if "subset_size" in c.options]
SPARSE_CONSTRUCTIONS = [n for n, c in CONSTRUCTIONS.items() if "source_density" in c.options]


FAST = {"certificate": "spectral"}
"""The spectral recursion alone: the properties tested hold for every certificate."""


def target(widths=(3, 4, 2), bias=False, seed=0):
    return ReLUNetwork.random(widths, rng=seed, bias=bias)


def assert_same_ticket(one, two):
    assert one.values_per_input == two.values_per_input
    assert all(np.array_equal(a, b) for a, b in zip(one.masks, two.masks, strict=True))


def check_ticket(target_net, ticket, name):
    """Kept weights are the random network's entries; the declared depth; measured <= certified
    and the certificate holds on fresh inputs."""
    declared = CONSTRUCTIONS[name]
    assert ticket.depth == declared.depth(target_net.depth) == len(ticket.masks)
    network = ticket.random_network()
    assert network.shapes == declared.shapes(ticket.widths, ticket.values_per_input)
    pruned = ticket.pruned_network()
    assert pruned.depth == declared.depth(target_net.depth)
    for layer, positions in enumerate(ticket.masks, start=1):
        dense = network.matrix(layer)
        weights = pruned.weights[layer - 1]
        if layer == 1 and ticket.input_bias:
            weights = np.hstack([weights, pruned.biases[0][:, None]])
        rows, cols = positions.T
        assert np.array_equal(weights[rows, cols], dense[rows, cols])
        assert np.all(dense[rows, cols] != 0)  # nothing absent is kept
        outside = np.ones(dense.shape, bool)
        outside[rows, cols] = False
        assert not np.any(weights[outside])
    report = ticket.report
    assert report.measured <= report.certified * (1 + AGREEMENT)
    x = np.random.default_rng(1).standard_normal((200, target_net.widths[0]))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    gap = np.linalg.norm(target_net.forward(x) - ticket.forward(x), axis=1)
    assert gap.max() <= report.certified * (1 + AGREEMENT) + 1e-12


@settings(max_examples=12, deadline=None)
@given(
    widths=st.lists(st.integers(1, 3), min_size=2, max_size=3),
    bias=st.booleans(),
    seed=st.integers(0, 2**32),
    n=st.integers(1, 8),
    name=st.sampled_from(sorted(CONSTRUCTIONS)),
)
def test_every_construction_keeps_random_weights_at_its_declared_depth(widths, bias, seed, n, name):
    net = ReLUNetwork.random(tuple(widths), rng=seed % 1000, bias=bias)
    kwargs = {"values_per_input": n, "construction": name, "rng": seed, **FAST}
    ticket = approximate(net, **kwargs)
    check_ticket(net, ticket, name)
    assert_same_ticket(ticket, approximate(net, **kwargs))


def kept_subset_sizes(ticket):
    """Per layer pair, ``counts[s, r, j]``: how many values the subset of sign pool s of
    instance (r, j) holds, recomputed from the masks and the random weights."""
    out = []
    network = ticket.random_network()
    for i, (d_in, d_out) in enumerate(zip(ticket.widths, ticket.widths[1:]), start=1):
        first, second = ticket.masks[2 * i - 2], ticket.masks[2 * i - 1]
        u = dict(zip(first[:, 0].tolist(), network.entries(2 * i - 1, first[:, 0], first[:, 1])))
        counts = np.zeros((2, d_out, d_in), int)
        for r, unit in second.tolist():
            counts[int(u[unit] < 0), r, unit % d_in] += 1
        out.append(counts)
    return out


def pool_sizes(ticket, i, signed):
    """``sizes[s, r, j]``: values in the sign pool s of instance (r, j) (present products only)."""
    u, v = ticket.random_network().gadget_weights(i)
    signs = np.stack([u > 0, (u < 0) & signed[:, None]])[:, None] & (v != 0)[None]
    return signs.sum(axis=3)


@pytest.mark.parametrize("name", SUBSET_CONSTRUCTIONS)
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("k", [1, 3])
def test_every_subset_has_exactly_subset_size_values(name, bias, k):
    net = target(bias=bias)
    ticket = approximate(net, values_per_input=10, construction=name, rng=4, subset_size=k, **FAST)
    check_ticket(net, ticket, name)
    assert ticket.subset_size == k and ticket.report.subset_size == k
    for i, counts in enumerate(kept_subset_sizes(ticket), start=1):
        signed = signed_inputs(i, ticket.widths[i - 1], bias)
        sizes = pool_sizes(ticket, i, signed)
        assert sizes.min(initial=k) >= k or np.all(counts[sizes == 0] == 0)
        assert np.all(counts == np.where(sizes > 0, k, 0))


@pytest.mark.parametrize("name", SUBSET_CONSTRUCTIONS)
def test_automatic_mode_with_subset_size_meets_eps(name):
    ticket = approximate(
        target((2, 3, 2)),
        eps=0.3,
        construction=name,
        rng=2,
        subset_size=2,
        max_values_per_input=64,
        **FAST,
    )
    assert ticket.report.certified <= 0.3
    for counts in kept_subset_sizes(ticket):
        assert set(np.unique(counts)) <= {0, 2}


@pytest.mark.parametrize("bias", [False, True])
def test_max_subset_size_caps_every_subset_and_still_meets_eps(bias):
    net = target((3, 4, 2), bias=bias)
    kwargs = dict(eps=0.05, rng=3, max_values_per_input=64, **FAST)
    capped = approximate(net, max_subset_size=2, **kwargs)
    free = approximate(net, **kwargs)
    check_ticket(net, capped, "pensia")
    assert capped.report.certified <= 0.05 and capped.report.max_subset_size == 2
    counts = [c.max() for c in kept_subset_sizes(capped)]
    assert max(counts) <= 2 < max(c.max() for c in kept_subset_sizes(free))
    assert "every subset has at most 2 values" in str(capped.report)


def layer_one_network(net, seed, n):
    """The random network of ``approximate(net, rng=seed)`` with ``n`` values per input in
    layer 1 (beyond ``max_values_per_input``)."""
    ticket = approximate(net, values_per_input=(8, 1), rng=seed, **FAST)
    return ticket.random_network().with_values_per_input((n, 1))


def saturation_by_counting(net, seed, most, wide=1200):
    """The least n at which each sign pool of layer 1 (every input signed) holds ``most``
    values, counted from the random network's own ``u`` (``gadget_weights``) at a wide n."""
    network = layer_one_network(net, seed, wide)
    u, _ = network.gadget_weights(1)
    first = [
        np.flatnonzero(np.cumsum(sign * u[j] > 0) == most)[0] + 1
        for j in range(len(u))
        for sign in (1, -1)
    ]
    return max(first)


@pytest.mark.parametrize("option", ["subset_size", "max_subset_size"])
def test_a_size_that_cannot_reach_eps_is_refused_where_the_pools_are_full(option):
    """Exactly (or at most) one value per subset cannot reach eps = 1e-5: from the n at which
    every pool holds the 256 values ``mitm`` reads, no larger n changes the subsets, so the
    search refuses there, naming the option, instead of solving the same pools again up to
    twice ``max_values_per_input`` and blaming that."""
    net = target((3, 4, 2))
    most = METHODS["mitm"].limit(1)  # mitm reads 256 values per pool with subsets of 1 value
    assert most == 256
    full = saturation_by_counting(net, 1, most)
    with pytest.raises(InvalidParameterError, match=rf"`{option}` must allow more") as caught:
        approximate(net, eps=1e-5, rng=1, **{option: 1}, **FAST)
    message = str(caught.value)
    assert f"from n = {full} on" in message and f"{option}=1" in message
    assert f"at n = {full}," in message  # the last n tried: none past the full pools
    # the premise: past that n the pools, hence the subsets, are the same
    at, past = (
        pensia.choose(net.weights[0], layer_one_network(net, 1, n), 1, size=1)[1]
        for n in (full, full + 40)
    )
    assert np.array_equal(at, past)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"values_per_input": 8}, r"`max_subset_size` must be None in fixed mode"),
        ({"eps": 0.1, "subset_size": 2}, r"`max_subset_size` must be None when `subset_size`"),
        ({"eps": 0.1, "construction": "malach"}, r"`max_subset_size` is supported by"),
    ],
)
def test_max_subset_size_refusals(kwargs, message):
    with pytest.raises(InvalidParameterError, match=message):
        approximate(target(), rng=0, max_subset_size=2, **kwargs)
    with pytest.raises(InvalidParameterError, match=r"`max_subset_size` must be in \[1, inf\]"):
        approximate(target(), eps=0.1, rng=0, max_subset_size=0)


def test_fixed_mode_refuses_pools_below_subset_size():
    with pytest.raises(
        InvalidParameterError, match=r"`subset_size` must be at most the number of values in"
    ):
        approximate(target(), values_per_input=2, subset_size=5, rng=0)


@pytest.mark.parametrize("name", SPARSE_CONSTRUCTIONS)
def test_source_density_one_is_the_dense_ticket_bit_for_bit(name):
    net = target(bias=True)
    dense = approximate(net, values_per_input=6, construction=name, rng=3, **FAST)
    one = approximate(net, values_per_input=6, construction=name, rng=3, source_density=1.0, **FAST)
    assert_same_ticket(dense, one)
    assert one.source_density == 1.0


@pytest.mark.parametrize("name", SPARSE_CONSTRUCTIONS)
@pytest.mark.parametrize("p", [0.3, 0.6])
def test_a_sparse_source_never_keeps_an_absent_weight(name, p):
    net = target(bias=True)
    ticket = approximate(
        net, values_per_input=12, construction=name, rng=5, source_density=p, **FAST
    )
    network = ticket.random_network()
    assert network.source_density == p and ticket.report.source_density == p
    for layer, positions in enumerate(ticket.masks, start=1):
        assert network.present(layer, positions[:, 0], positions[:, 1]).all()
    check_ticket(net, ticket, name)
    # the same pools as the dense solver would see with the absent products removed: pensia
    # reaches at least the dense ticket's error on the present values only, never uses absent
    assert ticket.report.random_params < network.n_positions


def test_sparse_source_with_subset_size_counts_only_present_values():
    net = target()
    ticket = approximate(net, values_per_input=64, rng=6, source_density=0.5, subset_size=2, **FAST)
    for i, counts in enumerate(kept_subset_sizes(ticket), start=1):
        sizes = pool_sizes(ticket, i, signed_inputs(i, ticket.widths[i - 1], False))
        assert sizes[sizes > 0].min() >= 2  # else refused
        assert np.all(counts == np.where(sizes > 0, 2, 0))


@pytest.mark.parametrize("name", sorted(CONSTRUCTIONS))
def test_hyperbolic_weights_work_for_every_construction(name):
    net = target()
    ticket = approximate(
        net, values_per_input=6, construction=name, rng=1, distribution="hyperbolic", **FAST
    )
    assert ticket.distribution.name == "hyperbolic" and ticket.report.distribution == "hyperbolic"
    check_ticket(net, ticket, name)


def test_the_header_records_the_options_and_old_files_load(tmp_path):
    net = target()
    ticket = approximate(net, values_per_input=8, rng=2, source_density=0.5, subset_size=1, **FAST)
    ticket.save(tmp_path / "t.npz")
    loaded = Ticket.load(tmp_path / "t.npz")
    assert (loaded.source_density, loaded.subset_size) == (0.5, 1)
    assert_same_ticket(loaded, ticket)
    dense = approximate(net, values_per_input=4, rng=2, **FAST)
    dense.save(tmp_path / "d.npz")
    arrays = read_npz(tmp_path / "d.npz")
    header = json.loads(str(arrays["header"][()]))
    del header["source_density"], header["subset_size"]  # as written before they existed
    arrays["header"] = np.array(json.dumps(header))
    write_npz(tmp_path / "old.npz", arrays)
    old = Ticket.load(tmp_path / "old.npz")
    assert (old.source_density, old.subset_size) == (1.0, None)
    assert_same_ticket(old, dense)


def test_a_ticket_refuses_an_absent_weight():
    net = target()
    ticket = approximate(net, values_per_input=8, rng=2, **FAST)
    with pytest.raises(
        InvalidParameterError,
        match=r"`masks` layer \d must keep only weights present in the sparse random network "
        r"\(source_density=0.3\); got \d+ absent positions",
    ):
        Ticket(**{**ticket.__dict__, "report": None, "source_density": 0.3})


def test_a_ticket_names_an_unknown_construction():
    ticket = approximate(target(), values_per_input=2, rng=0, **FAST)
    with pytest.raises(InvalidParameterError, match="`construction` must be one of 'pensia'"):
        Ticket(**{**ticket.__dict__, "construction": "nope"})
