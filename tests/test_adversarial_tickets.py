"""Hostile tickets and files: a ticket is refused or certified soundly, never trusted blindly.

Every crafted ticket below either breaks an invariant of the gadget construction (and must be
refused, naming it) or is a valid ticket of some random network (and must then be certified at
least at its true error, found here by a dense search of what the ticket itself computes).
"""

import contextlib
import io
import json
import os
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strong_lth import (
    FileFormatError,
    InvalidParameterError,
    ReLUNetwork,
    TheoryAssumptionWarning,
    Ticket,
    approximate,
    certify,
)
from strong_lth.gadgets import fold_input_bias, gadget_form
from strong_lth.worst_case import measure_worst_case

from .test_constructions import ticket_from_constructions

SOUND = 1e-9
"""Relative slack of the soundness check: the certificate and the dense search evaluate the same
function through sums in other orders."""


@pytest.fixture(scope="module")
def honest():
    """The ticket of the issue's reproducer and its target."""
    target = ReLUNetwork.random((3, 4, 2), rng=0)
    return target, approximate(target, values_per_input=30, rng=1)


def rebuilt(ticket, **fields):
    """The ticket rebuilt from its fields, some replaced."""
    return Ticket(**{**ticket.__dict__, **fields})


def with_mask(ticket, layer, mask):
    masks = list(ticket.masks)
    masks[layer - 1] = mask
    return rebuilt(ticket, masks=tuple(masks))


def compact_network(ticket):
    """The pruned network on its kept hidden units only (one zero unit when none is kept), as a
    plain dense network: its declared width may be far too large to materialise."""
    weights = []
    for units, first, second in ticket.kept_layers():
        k = max(len(units), 1)
        m1, m2 = np.zeros((k, first.shape[1])), np.zeros((second.shape[0], k))
        m1[: len(units)], m2[:, : len(units)] = first.toarray(), second.toarray()
        weights += [m1, m2]
    return fold_input_bias(weights) if ticket.input_bias else ReLUNetwork(weights)


def true_error(target, ticket, rng=0):
    """A dense search of ``max ||F(x) - ticket.forward(x)||`` over the unit ball (d <= 3): a
    grid of the sphere (the ball too with biases), then the worst-case ascent on the ticket's
    network restricted to its kept units, whose outputs are checked against
    ``ticket.forward``."""
    d = target.widths[0]
    gen = np.random.default_rng(rng)
    x = gen.standard_normal((20_000, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    if target.has_bias:
        x = np.vstack([x, x * gen.random((len(x), 1)) ** (1 / d), np.zeros((1, d))])
    dense = float(np.linalg.norm(target.forward(x) - ticket.forward(x), axis=1).max())
    compact = compact_network(ticket)
    assert np.allclose(compact.forward(x[:200]), ticket.forward(x[:200]), rtol=0, atol=1e-12)
    climbed, where = measure_worst_case(
        target,
        compact,
        radius=1.0,
        sphere=not target.has_bias,
        rng=gen,
        samples=2048,
        starts=8,
        ascent_steps=60,
    )
    at = float(np.linalg.norm(target.forward(where) - ticket.forward(where)))
    assert at == pytest.approx(climbed, rel=1e-9, abs=1e-12)
    return max(dense, climbed)


def assert_sound(target, ticket):
    certificate = certify(target, ticket, rng=0, samples=256, starts=4, ascent_steps=20)
    truth = true_error(target, ticket)
    assert truth <= certificate.certified * (1 + SOUND) + 1e-12, (truth, certificate.certified)
    return certificate, truth


# --- the reproducers of the issue: crafted tickets are refused ---------------------------------


@pytest.mark.parametrize("n", [None, 2**62])  # 2**62: positions too many for int64 keys
def test_repeated_first_layer_positions_are_refused(honest, n):
    _, ticket = honest
    if n is not None:
        ticket = rebuilt(ticket, values_per_input=(n, n))
    m = ticket.masks[0]
    with pytest.raises(InvalidParameterError, match=r"`masks` layer 1 must keep each position"):
        with_mask(ticket, 1, np.vstack([m, m]))


def test_repeated_second_layer_positions_are_refused(honest):
    _, ticket = honest
    m = ticket.masks[1]
    with pytest.raises(InvalidParameterError, match=r"`masks` layer 2 must keep each position"):
        with_mask(ticket, 2, np.vstack([m, m[:1]]))


def test_a_rewired_first_layer_unit_is_refused(honest):
    _, ticket = honest
    first = ticket.masks[0].copy()
    first[5, 1] = (first[5, 1] + 1) % 3
    with pytest.raises(
        InvalidParameterError, match=r"`masks` layer 1 must keep unit c's weight from its declared"
    ):
        with_mask(ticket, 1, first)


def test_a_unit_with_two_input_weights_is_refused(honest):
    _, ticket = honest
    first = ticket.masks[0]
    unit = first[0, 0]
    extra = np.array([[unit, (first[0, 1] + 1) % 3]])
    with pytest.raises(InvalidParameterError, match=r"at most one input weight per unit"):
        with_mask(ticket, 1, np.vstack([first, extra]))


def test_second_layer_weights_from_units_without_input_are_refused(honest):
    _, ticket = honest
    first = ticket.masks[0]
    with pytest.raises(InvalidParameterError, match=r"`masks` layer 2 must read only units"):
        with_mask(ticket, 1, first[1:])


def test_units_no_output_reads_are_refused(honest):
    _, ticket = honest
    second = ticket.masks[1]
    unit = second[0, 1]
    with pytest.raises(InvalidParameterError, match=r"which no output reads"):
        with_mask(ticket, 2, second[second[:, 1] != unit])


@pytest.mark.parametrize(
    "mask",
    [
        lambda m: m.astype(float),
        lambda m: m.astype(float) + 0.5,
        lambda m: m.astype(complex),
        lambda m: m.astype(bool),
        lambda m: m.astype(object),
        lambda m: m.astype(str),
    ],
    ids=["float", "non-integral", "complex", "bool", "object", "str"],
)
def test_non_integer_masks_are_refused(honest, mask):
    _, ticket = honest
    with pytest.raises(InvalidParameterError, match=r"`masks` layer 1 must hold integer"):
        with_mask(ticket, 1, mask(ticket.masks[0]))


@pytest.mark.parametrize(
    ("mask", "message"),
    [
        (lambda m: m.reshape(-1), r"`masks` layer 1 must be an integer array of shape \(k, 2\)"),
        (lambda m: m[:, :1], r"got shape \(\d+, 1\)"),
        (lambda m: [[0, 0], [1]], r"`masks` layer 1 must be an integer array"),
        (lambda m: -m, r"`masks` layer 1 must index inside its shape \(90, 3\)"),
    ],
)
def test_masks_of_the_wrong_shape_or_range_are_refused(honest, mask, message):
    _, ticket = honest
    with pytest.raises(InvalidParameterError, match=message):
        with_mask(ticket, 1, mask(ticket.masks[0]))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"input_bias": "yes"}, r"`input_bias` must be True or False; got 'yes'"),
        ({"input_bias": 1}, r"`input_bias` must be True or False; got 1"),
        ({"seed": "1"}, r"`seed` must be an integer; got '1'"),
        ({"seed": True}, r"`seed` must be an integer; got True"),
        ({"seed": 2**64}, r"`seed` must be in \[0, 18446744073709551615\]"),
        ({"seed": 1.0}, r"`seed` must be an integer; got 1.0"),
        ({"widths": "342"}, r"`widths` must be a sequence of integers"),
        ({"widths": (3, "4", 2)}, r"`widths\[1\]` must be an integer"),
        ({"values_per_input": (30, 0)}, r"`values_per_input\[1\]` must be in \[1, inf\]"),
        ({"values_per_input": (30.0, 30)}, r"`values_per_input\[0\]` must be an integer"),
        (
            {"construction": "magic"},
            r"`construction` must be one of 'pensia', 'malach', 'burkholz'",
        ),
        ({"distribution": "cauchy"}, r"`distribution` must be a Distribution or one of"),
        ({"masks": "masks"}, r"`masks` must be a sequence of one \(k, 2\) integer array"),
        ({"report": 3}, r"`report` must be a Report, a dict or None; got int"),
    ],
)
def test_bad_fields_are_refused(honest, fields, message):
    _, ticket = honest
    with pytest.raises(InvalidParameterError, match=message):
        rebuilt(ticket, **fields)


def test_the_constant_input_needs_an_input_beside_it():
    with pytest.raises(InvalidParameterError, match=r"`widths` must start with at least 2 input"):
        Ticket(0, "uniform", (1, 2), (1,), "pensia", (np.zeros((0, 2)),) * 2, input_bias=True)


def test_masks_are_read_only_after_the_check(honest):
    _, ticket = honest
    with pytest.raises(ValueError, match="read-only"):
        ticket.masks[0][0, 1] = 2


def test_certify_refuses_a_ticket_whose_constant_input_the_target_lacks(honest):
    target, ticket = honest
    flipped = rebuilt(ticket, input_bias=True)
    with pytest.raises(InvalidParameterError, match=r"`network` must read the target's inputs"):
        gadget_form(target, flipped)


# --- tickets are read from what they compute ------------------------------------------------


def reference_gadgets(ticket):
    """(A, B) recomputed independently: every kept second-layer weight, times the first-layer
    weight of the unit it reads, found by a dictionary lookup over the first mask."""
    out = []
    for i, (d_in, d_out) in enumerate(zip(ticket.widths, ticket.widths[1:]), start=1):
        first = {
            int(r): (int(c), w)
            for (r, c), w in zip(ticket.masks[2 * i - 2], ticket.kept_weights(2 * i - 1))
        }
        a, b = np.zeros((d_out, d_in)), np.zeros((d_out, d_in))
        for (r, c), v in zip(ticket.masks[2 * i - 1], ticket.kept_weights(2 * i)):
            j, u = first[int(c)]
            (a if u > 0 else b)[r, j] += v * u
        out.append((a, b))
    return out


@pytest.mark.parametrize("bias", [False, True])
def test_gadgets_forward_and_the_dense_network_agree(bias):
    target = ReLUNetwork.random((3, 4, 3, 2), rng=2, bias=bias)
    with pytest.warns(TheoryAssumptionWarning) if bias else contextlib.nullcontext():
        ticket = approximate(target, values_per_input=[9, 7, 5], rng=3)
    for (a, b), (a_ref, b_ref) in zip(ticket.gadgets(), reference_gadgets(ticket)):
        assert np.allclose(a, a_ref, rtol=0, atol=1e-12) and np.allclose(b, b_ref, atol=1e-12)
    x = np.random.default_rng(0).standard_normal((100, 3))
    dense = ticket.pruned_network()
    assert np.allclose(ticket.forward(x), dense.forward(x), rtol=0, atol=1e-12)
    assert np.allclose(ticket.reduced_network().forward(x), dense.forward(x), atol=1e-12)
    # the dense network read as a plain network gives the same gadgets (an independent reading)
    for (a, b), (a_net, b_net) in zip(ticket.gadgets(), gadget_form(target, dense)):
        assert np.allclose(a, a_net, atol=1e-12) and np.allclose(b, b_net, atol=1e-12)


def test_a_huge_declared_width_allocates_only_the_kept_units(honest):
    target, ticket = honest
    huge = rebuilt(ticket, values_per_input=(10**9, 10**9))  # the same weights: nested networks
    for (a, b), (a_huge, b_huge) in zip(ticket.gadgets(), huge.gadgets()):
        assert np.array_equal(a, a_huge) and np.array_equal(b, b_huge)
    x = np.random.default_rng(1).standard_normal((20, 3))
    assert np.allclose(huge.forward(x), ticket.forward(x), rtol=0, atol=1e-14)
    cert = certify(target, huge, rng=0)
    assert cert.certified == pytest.approx(certify(target, ticket, rng=0).certified, rel=1e-12)
    with pytest.raises(InvalidParameterError, match=r"`max_bytes` must cover the dense pruned"):
        huge.pruned_network()
    with pytest.raises(InvalidParameterError, match=r"`max_bytes` must be in \[0, inf\]"):
        huge.pruned_network(max_bytes=-1)


def test_a_ticket_with_dead_units_loads_and_certifies_soundly(tmp_path):
    """Units with u < 0 on a never-negative input never fire: a ticket may keep them (the
    tickets built before the constructions dropped them do) and they change nothing. The file
    is written as those tickets were, by numpy.savez_compressed, report timings included."""
    target = ReLUNetwork.random((2, 3, 2), rng=4, bias=True)
    ticket = ticket_from_constructions(target, 8, 5, dead_units=True)
    assert np.any(ticket.kept_weights(3) < 0)  # dead units in the second pair
    ticket.save(tmp_path / "t.npz")
    header, masks = header_of(tmp_path / "t.npz")
    header["report"] = {"certified": 1.0, "seconds": {"solve": 0.1}}
    write_ticket(tmp_path / "old.npz", header, masks)
    loaded = Ticket.load(tmp_path / "old.npz")
    assert loaded.report["seconds"] == {"solve": 0.1}
    assert_sound(target, loaded)


# --- files ----------------------------------------------------------------------------------


def write_ticket(path, header, masks, **extra):
    arrays = {"header": np.array(json.dumps(header)), **extra}
    arrays |= {f"mask{j}": m for j, m in enumerate(masks)}
    np.savez_compressed(path, **arrays)


def header_of(path):
    with np.load(path) as data:
        return json.loads(str(data["header"])), [data[f"mask{j}"] for j in range(len(data) - 1)]


@pytest.fixture
def saved(honest, tmp_path):
    path = tmp_path / "ticket.npz"
    honest[1].save(path)
    return path


def test_a_saved_ticket_round_trips(honest, saved):
    loaded = Ticket.load(saved)
    assert all(np.array_equal(a, b) for a, b in zip(loaded.masks, honest[1].masks))
    assert loaded.report["certified"] == honest[1].report.certified
    assert "seconds" not in loaded.report


def test_saved_tickets_are_byte_identical_across_runs(tmp_path):
    target = ReLUNetwork.random((3, 4, 2), rng=0)
    for k in range(2):
        approximate(target, values_per_input=10, rng=1).save(tmp_path / f"{k}.npz")
    assert (tmp_path / "0.npz").read_bytes() == (tmp_path / "1.npz").read_bytes()
    with zipfile.ZipFile(tmp_path / "0.npz") as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    target.to_npz(tmp_path / "a.npz")
    os.utime(tmp_path / "a.npz", (0, 0))
    target.to_npz(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_a_ticket_saved_by_numpy_savez_loads(honest, saved, tmp_path):
    """Files written before the deterministic writer (numpy.savez_compressed) still load."""
    header, masks = header_of(saved)
    write_ticket(tmp_path / "old.npz", header, masks)
    loaded = Ticket.load(tmp_path / "old.npz")
    assert all(np.array_equal(a, b) for a, b in zip(loaded.masks, honest[1].masks))


def _npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _corrupt(path):
    data = bytearray(path.read_bytes())
    data[200:260] = bytes(60)
    path.write_bytes(bytes(data))


FILE_CASES = [
    ("missing", lambda p: p.unlink(), FileFormatError, r"`path` must be an existing file"),
    ("directory", lambda p: (p.unlink(), p.mkdir()), FileFormatError, r"is a directory"),
    ("text", lambda p: p.write_text("not a zip"), FileFormatError, r"BadZipFile"),
    ("empty", lambda p: p.write_bytes(b""), FileFormatError, r"must be a readable \.npz"),
    ("truncated", _truncate, FileFormatError, r"must be a readable \.npz"),
    ("corrupt", _corrupt, FileFormatError, r"must be a readable \.npz"),
    (
        "npy",
        lambda p: p.write_bytes(_npy(np.arange(3))),  # a .npy file, not a zip of them
        FileFormatError,
        r"must be a readable \.npz",
    ),
]


@pytest.mark.parametrize(
    ("name", "damage", "error", "message"), FILE_CASES, ids=[c[0] for c in FILE_CASES]
)
def test_damaged_ticket_files_are_refused(saved, name, damage, error, message):
    damage(saved)
    with pytest.raises(error, match=message):
        Ticket.load(saved)


@pytest.mark.parametrize(
    ("name", "damage", "error", "message"), FILE_CASES, ids=[c[0] for c in FILE_CASES]
)
def test_damaged_network_files_are_refused(tmp_path, name, damage, error, message):
    path = tmp_path / "net.npz"
    ReLUNetwork.random((3, 4, 2), rng=0).to_npz(path)
    damage(path)
    with pytest.raises(error, match=message):
        ReLUNetwork.from_npz(path)


def _header(change):
    def edit(header, masks):
        change(header)
        return header, masks

    return edit


HEADER_CASES = [
    (lambda h, m: ("[1, 2]", m), r"header is a JSON object; .* holds list"),
    (lambda h, m: ("{not json", m), r"header is valid JSON"),
    (lambda h, m: ('"text"', m), r"header is a JSON object; .* holds str"),
    (_header(lambda h: h.pop("seed")), r"lacks \['seed'\]"),
    (_header(lambda h: h.update(extra=1)), r"has unknown \['extra'\]"),
    (_header(lambda h: h.update(format="other/1")), r"must hold format 'strong_lth.ticket/1'"),
    (_header(lambda h: h.update(seed="1")), r"field 'seed' must be an integer; got '1'"),
    (_header(lambda h: h.update(seed=1.0)), r"field 'seed' must be an integer; got 1.0"),
    (_header(lambda h: h.update(seed=True)), r"field 'seed' must be an integer; got True"),
    (_header(lambda h: h.update(widths="3,4,2")), r"field 'widths' must be a list"),
    (_header(lambda h: h.update(values_per_input=30)), r"field 'values_per_input' must be a"),
    (_header(lambda h: h.update(input_bias="yes")), r"field 'input_bias' must be true or false"),
    (_header(lambda h: h.update(input_bias=1)), r"field 'input_bias' must be true or false"),
    (_header(lambda h: h.update(construction=None)), r"field 'construction' must be a string"),
    (_header(lambda h: h.update(distribution="uniform")), r"field 'distribution' must be an"),
    (_header(lambda h: h.update(report=[1])), r"field 'report' must be an object or null"),
    (
        _header(lambda h: h.update(distribution={"name": "uniform", "b": 1})),
        r"'distribution' must hold the parameters of 'uniform' \(a\); got \['b'\]",
    ),
    (
        _header(lambda h: h.update(distribution={"name": "cauchy"})),
        r"`distribution.name` must be a Distribution or one of",
    ),
    (
        _header(lambda h: h.update(distribution={"name": "uniform", "a": -1})),
        r"`a` must be in \(0, inf\)",
    ),
    (_header(lambda h: h.update(widths=[3, "4", 2])), r"`widths\[1\]` must be an integer"),
    (_header(lambda h: h.update(seed=-1)), r"`seed` must be in \[0, "),
    (lambda h, m: (h, m[:1]), r"must hold the arrays mask0\.\.mask3 beside its header"),
    (lambda h, m: (h, [m[0].astype(float), *m[1:]]), r"`masks` layer 1 must hold integer"),
    (lambda h, m: (h, [np.vstack([m[0], m[0]]), *m[1:]]), r"layer 1 must keep each position"),
]


@pytest.mark.parametrize(("edit", "message"), HEADER_CASES)
def test_malformed_ticket_headers_and_masks_are_refused(saved, edit, message):
    header, masks = edit(*header_of(saved))
    text = header if isinstance(header, str) else json.dumps(header)
    with zipfile.ZipFile(saved, "w") as archive:  # written by hand: any header text at all
        for key, array in {
            "header": np.array(text),
            **{f"mask{j}": m for j, m in enumerate(masks)},
        }.items():
            with archive.open(f"{key}.npy", "w") as entry:
                np.lib.format.write_array(entry, array)
    with pytest.raises(InvalidParameterError, match=message):
        Ticket.load(saved)


@pytest.mark.parametrize(
    ("arrays", "error", "message"),
    [
        ({"W0": np.ones((2, 3))}, FileFormatError, r"`path` must be a ticket file; .* no header"),
        ({"header": np.array([1, 2])}, FileFormatError, r"header is a JSON string; .* int64"),
        (
            {"header": np.array(["{}"], dtype=object)},
            FileFormatError,
            r"must hold arrays without Python objects",
        ),
    ],
)
def test_files_that_are_not_tickets_are_refused(tmp_path, arrays, error, message):
    path = tmp_path / "t.npz"
    np.savez(path, allow_pickle=True, **arrays)
    with pytest.raises(error, match=message):
        Ticket.load(path)


def test_a_file_declaring_more_than_max_bytes_is_refused_before_reading(saved):
    with pytest.raises(InvalidParameterError, match=r"`max_bytes` must be at least \d+ to read"):
        Ticket.load(saved, max_bytes=100)
    with pytest.raises(InvalidParameterError, match=r"`max_bytes` must be at least \d+ to read"):
        ReLUNetwork.from_npz(saved, max_bytes=10)


def test_a_zip_entry_that_is_not_an_array_is_refused(saved):
    with zipfile.ZipFile(saved, "a") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(FileFormatError, match=r"must hold only \.npy arrays; .* 'notes.txt'"):
        Ticket.load(saved)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"W0": np.ones((2, 3), dtype=complex)}, r"array W0 must hold real numbers .* complex128"),
        ({"W0": np.ones((2, 3), dtype=bool)}, r"array W0 must hold real numbers .* bool"),
        ({"W0": np.array(["a", "b"])}, r"array W0 must hold real numbers .* <U1"),
        ({"W1": np.ones((2, 3))}, r"must name an \.npz file with keys W0"),
        ({"W0": np.array([np.nan, 1.0])[None]}, r"`weights\[0\]` must be finite"),
    ],
)
def test_malformed_network_files_are_refused(tmp_path, arrays, message):
    path = tmp_path / "net.npz"
    np.savez(path, **arrays)
    with pytest.raises(InvalidParameterError, match=message):
        ReLUNetwork.from_npz(path)


@pytest.mark.parametrize(
    "write",
    [
        lambda t, p: t.save(p),
        lambda t, p: t.export_npz(p),
        lambda t, p: t.pruned_network().to_npz(p),
    ],
    ids=["save", "export_npz", "to_npz"],
)
def test_writers_refuse_a_directory_and_a_missing_suffix(honest, tmp_path, write):
    _, ticket = honest
    with pytest.raises(InvalidParameterError, match=r"`path` must name a file, not a directory"):
        write(ticket, tmp_path)
    with pytest.raises(InvalidParameterError, match=r"`path` must end in \.npz \(nothing is"):
        write(ticket, tmp_path / "ticket")
    assert sorted(os.listdir(tmp_path)) == []
    with pytest.raises(InvalidParameterError, match=r"`path` must be a file path; got 3"):
        write(ticket, 3)


def test_loaders_refuse_a_path_that_is_not_one():
    with pytest.raises(InvalidParameterError, match=r"`path` must be a file path; got None"):
        Ticket.load(None)
    with pytest.raises(InvalidParameterError, match=r"`path` must be a file path; got 1.5"):
        ReLUNetwork.from_npz(1.5)


# --- perturbed files: refused, or certified soundly -----------------------------------------


@pytest.fixture(scope="module")
def bases():
    """Small honest tickets (d <= 3, with and without biases) whose perturbations are checked."""
    out = []
    for widths, bias, n in (((3, 4, 2), False, 6), ((2, 3, 2), True, 5)):
        target = ReLUNetwork.random(widths, rng=7, bias=bias)
        with pytest.warns(TheoryAssumptionWarning) if bias else contextlib.nullcontext():
            ticket = approximate(target, values_per_input=n, rng=8)
        out.append((target, ticket))
    return out


def _perturb_masks(data, masks, shapes):
    layer = data.draw(st.integers(0, len(masks) - 1))
    mask = masks[layer]
    rows, cols = shapes[layer]
    kind = data.draw(st.sampled_from(["change", "duplicate", "remove", "add"]))
    position = st.tuples(st.integers(-1, rows), st.integers(-1, cols))
    if kind == "add" or len(mask) == 0:
        mask = np.vstack([mask, [data.draw(position)]])
    else:
        k = data.draw(st.integers(0, len(mask) - 1))
        if kind == "change":
            mask = mask.copy()
            mask[k] = data.draw(position)
        elif kind == "duplicate":
            mask = np.vstack([mask, mask[k : k + 1]])
        else:
            mask = np.delete(mask, k, axis=0)
    return [*masks[:layer], mask, *masks[layer + 1 :]]


def _perturb_header(data, header):
    key = data.draw(
        st.sampled_from(
            ["seed", "values_per_input", "widths", "input_bias", "construction", "distribution"]
        )
    )
    if key == "seed":
        header["seed"] = data.draw(st.sampled_from([0, 1, 2**63, 2**64, -1, "1", 1.5]))
    elif key in ("values_per_input", "widths"):
        values = list(header[key])
        k = data.draw(st.integers(0, len(values) - 1))
        near = [values[k] - 1, values[k] + 1] if isinstance(values[k], int) else []
        values[k] = data.draw(st.sampled_from([*near, 0, 10**9, "4"]))  # perturbed twice: "4"
        header[key] = values
    elif key == "input_bias":
        header["input_bias"] = data.draw(st.sampled_from([True, False, "yes", 0]))
    elif key == "construction":
        header["construction"] = data.draw(st.sampled_from(["pensia", "malach", "x"]))
    else:
        header["distribution"] = data.draw(
            st.sampled_from([{"name": "gaussian", "sigma": 2.0}, {"name": "uniform", "a": 0.5}])
        )
    return header


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_perturbed_ticket_file_is_refused_or_certified_soundly(bases, tmp_path_factory, data):
    target, ticket = bases[data.draw(st.integers(0, len(bases) - 1))]
    path = tmp_path_factory.mktemp("perturbed") / "t.npz"
    ticket.save(path)
    header, masks = header_of(path)
    shapes = ticket.random_network().shapes
    for _ in range(data.draw(st.integers(1, 3))):
        if data.draw(st.booleans()):
            masks = _perturb_masks(data, masks, shapes)
        else:
            header = _perturb_header(data, header)
    write_ticket(path, header, masks)
    try:
        loaded = Ticket.load(path)
    except InvalidParameterError:
        return
    try:
        certificate = certify(target, loaded, rng=0, samples=256, starts=4, ascent_steps=20)
    except InvalidParameterError:
        return
    truth = true_error(target, loaded)
    assert truth <= certificate.certified * (1 + SOUND) + 1e-12, (truth, certificate.certified)


def test_dense_results_estimate_their_bytes_first(honest):
    target, ticket = honest
    wide = rebuilt(ticket, widths=(3, 4, 10**6), masks=ticket.masks)
    with pytest.raises(InvalidParameterError, match=r"`max_bytes` must cover the \(A_i, B_i\) "):
        wide.gadgets(max_bytes=10**6)
    assert [a.shape for a, _ in wide.gadgets()] == [(4, 3), (10**6, 4)]
    with pytest.raises(
        InvalidParameterError, match=r"cover the activations of this batch \(\d+ bytes\); got 10\."
    ):
        ticket.forward(np.ones((10, 3)), max_bytes=10)
    with pytest.raises(InvalidParameterError, match=r"layer pair 2 must map 4 inputs to 2 out"):
        certify(target, wide)
    with pytest.raises(InvalidParameterError, match=r"one layer pair per target layer \(2\)"):
        gadget_form(target, approximate(ReLUNetwork.random((3, 4), rng=0), values_per_input=2))


def test_a_ticket_records_its_target_and_certify_names_another():
    """issue 14: with the wrong target seed `certify` printed a certified 9.6 and no hint."""
    target = ReLUNetwork.random((3, 4, 2), rng=0)
    ticket = approximate(target, values_per_input=8, rng=1)
    assert ticket.target_fingerprint == target.fingerprint()
    other = ReLUNetwork.random((3, 4, 2), rng=5)
    with pytest.raises(InvalidParameterError, match="must be the network the ticket was made for"):
        certify(other, ticket, rng=0)
    # an older ticket (no fingerprint) still certifies against any target of its widths
    older = Ticket(**{**ticket.__dict__, "target_fingerprint": None})
    assert certify(other, older, rng=0).certified > 0
    with pytest.raises(InvalidParameterError, match="`target_fingerprint` must be None or 64"):
        Ticket(**{**ticket.__dict__, "target_fingerprint": "abc"})


def test_the_fingerprint_survives_save_and_load_and_old_files_still_load(tmp_path):
    target = ReLUNetwork.random((3, 4, 2), rng=0)
    ticket = approximate(target, values_per_input=8, rng=1)
    ticket.save(tmp_path / "t.npz")
    assert Ticket.load(tmp_path / "t.npz").target_fingerprint == target.fingerprint()
    Ticket(**{**ticket.__dict__, "target_fingerprint": None}).save(tmp_path / "old.npz")
    with np.load(tmp_path / "old.npz") as data:
        assert "target_fingerprint" not in json.loads(str(data["header"]))
    assert Ticket.load(tmp_path / "old.npz").target_fingerprint is None
