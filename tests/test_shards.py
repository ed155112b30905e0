"""Sharded approximation: layers solved in shards of rows, here and on a Dask cluster, give the
ticket of the one-piece solve, bit for bit."""

import os
import signal
import threading
import time
import tracemalloc

import numpy as np
import pytest

import strong_lth._approximate as approximate_module
import strong_lth._certify as certify_module
import strong_lth._cluster as cluster_module
import strong_lth._shards as shards
import strong_lth.gadgets as gadgets
from strong_lth import ReLUNetwork, approximate, certify
from strong_lth._cluster import connect
from strong_lth._search import NestedLayer, norm_lower_bound, solve_bytes
from strong_lth.cli import main
from strong_lth.constructions import burkholz
from strong_lth.exceptions import CertificationError, InvalidParameterError
from strong_lth.gadgets import error_matrix, gadget_masks
from strong_lth.random_network import RandomNetwork
from strong_lth.ticket import Ticket

QUICK = {"certificate": "spectral", "measure": False}
pytestmark = pytest.mark.filterwarnings("ignore::strong_lth.exceptions.TheoryAssumptionWarning")


def same_ticket(a, b) -> bool:
    return (
        a.values_per_input == b.values_per_input
        and len(a.masks) == len(b.masks)
        and all(np.array_equal(x, y) for x, y in zip(a.masks, b.masks))
        and a.report.certified == b.report.certified
    )


@pytest.fixture
def tiny_shards(monkeypatch):
    """Layers in shards of one to three rows (one at n >= 14)."""
    monkeypatch.setattr(shards, "SHARD_BYTES", 16_000)


CASES = [
    ("pensia", {"eps": 0.2}),
    ("pensia", {"values_per_input": 12}),
    ("malach", {"values_per_input": 12}),
    ("malach", {"eps": 1.0}),
    # a sparse source (RowBlock reads its absent weights as 0) and subsets of exactly 2 values
    # (at n = 20 a sign pool of layer 1 holds fewer: refused, in shards too)
    ("pensia", {"values_per_input": 24, "source_density": 0.7, "subset_size": 2}),
    ("malach", {"values_per_input": 12, "source_density": 0.5}),
]


@pytest.fixture(scope="module")
def target():
    return ReLUNetwork.random((5, 6, 3), rng=0, bias=True)  # augmented: 6 -> 7 -> 3


@pytest.fixture(scope="module")
def one_piece(target):
    return {
        (c, tuple(kw)): approximate(target, rng=1, construction=c, **kw, **QUICK) for c, kw in CASES
    }


@pytest.mark.parametrize(("construction", "mode"), CASES)
def test_shards_of_one_row_here_give_the_one_piece_ticket(
    target, one_piece, tiny_shards, construction, mode
):
    sharded = approximate(target, rng=1, construction=construction, **mode, **QUICK)
    assert same_ticket(sharded, one_piece[construction, tuple(mode)])


def test_a_sign_pool_below_subset_size_is_refused_in_shards_too(target, tiny_shards):
    with pytest.raises(InvalidParameterError, match=r"`subset_size` must be at most the number"):
        approximate(target, rng=1, values_per_input=20, source_density=0.7, subset_size=2, **QUICK)


def test_a_row_block_regenerates_the_rows_of_the_gadget_weights():
    network = RandomNetwork(seed=3, widths=(5, 7, 2), values_per_input=(6, 4), source_density=0.7)
    for i in (1, 2):
        u, v = network.gadget_weights(i)
        block = shards.RowBlock(network, 2, network.widths[i] if i == 2 else 5)
        bu, bv = block.gadget_weights(i)
        assert np.array_equal(bu, u) and np.array_equal(bv, v[2 : block.hi])
        # and from the dense matrices directly, position by position
        m1, m2 = network.matrix(2 * i - 1), network.matrix(2 * i)
        d_in = network.widths[i - 1]
        for j in range(d_in):
            for k in range(network.values_per_input[i - 1]):
                assert bu[j, k] == m1[k * d_in + j, j]
                assert np.array_equal(bv[:, j, k], m2[2 : block.hi, k * d_in + j])


def test_shard_rows_keep_a_shard_within_both_budgets():
    assert shards.shard_rows(300, 200, 16, 2**32) == 300  # one piece, as without shards
    rows = shards.shard_rows(4096, 4096, 40, 2**34)
    assert solve_bytes(rows, 4096, 40) <= shards.SHARD_BYTES
    assert solve_bytes(rows + 1, 4096, 40) > shards.SHARD_BYTES
    # a budget below one shard of SHARD_BYTES: the rows that fit beside what is kept whole
    kept = shards.least_bytes(4096, 4096, 40) - solve_bytes(1, 4096, 40)
    budget = kept + 5 * solve_bytes(1, 4096, 40)
    assert shards.shard_rows(4096, 4096, 40, budget) == 5
    assert shards.shard_rows(4096, 4096, 40, kept) == 1  # at least one row


def test_least_bytes_and_largest_fitting_agree():
    for d_out, d_in, budget in [(4096, 4096, 2**34), (300, 400, 2**30), (8, 4, 61_440), (3, 2, 1)]:
        n = shards.largest_fitting(d_out, d_in, budget)
        assert n == 0 or shards.least_bytes(d_out, d_in, n) <= budget
        assert shards.least_bytes(d_out, d_in, n + 1) > budget


def test_a_layer_above_max_bytes_is_solved_in_shards_within_it(target, one_piece):
    # 64 bytes per weight and value cannot hold layer 1 (6 -> 7) at n = 12 in one piece
    assert target.augmented().weights[0].shape == (7, 6)
    budget = shards.least_bytes(7, 6, 12) + 2 * solve_bytes(1, 6, 12)
    assert solve_bytes(7, 6, 12) > budget and shards.shard_rows(7, 6, 12, budget) == 3
    small = approximate(target, rng=1, values_per_input=12, max_bytes=budget, **QUICK)
    assert same_ticket(small, one_piece["pensia", ("values_per_input",)])
    with pytest.raises(
        InvalidParameterError,
        match=(
            r"`max_bytes` must cover the estimated [\d,]+ bytes \(.* GiB\) of layer 1 \(6 -> 7\) "
            r"at n = 12 values per input: 64 bytes per target weight and value per input in one "
            r"piece, or in shards of rows 64 bytes per target weight and 12 per value per input; "
            r"got"
        ),
    ):
        approximate(target, rng=1, values_per_input=12, max_bytes=budget // 2, **QUICK)


# --------------------------------------------------------------------------------------------
# Dask
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("construction", "mode"),
    [*CASES[:3], pytest.param(*CASES[3], marks=pytest.mark.slow), CASES[4]],  # malach: longest
)
def test_a_dask_cluster_gives_the_in_process_ticket(
    target, one_piece, local_cluster, tiny_shards, construction, mode
):
    distributed = pytest.importorskip("distributed")
    with distributed.Client(local_cluster, set_as_default=False) as client:
        before = sum(client.run(lambda dask_worker: len(dask_worker.data)).values())
        sharded = approximate(
            target, rng=1, construction=construction, scheduler=client, **mode, **QUICK
        )
        assert client.status == "running"  # a client is used, and left open
        assert before == 0 and not client.futures  # shards released
    assert same_ticket(sharded, one_piece[construction, tuple(mode)])


@pytest.mark.parametrize(
    ("bias", "mode"),
    [
        (False, {"values_per_input": (8, 6)}),
        (True, {"values_per_input": (8, 6)}),
        (False, {"eps": 0.1}),  # the search: samples, warm starts, trimming
        (True, {"eps": 0.1}),
    ],
)
def test_burkholz_on_a_dask_cluster_gives_the_in_process_ticket(
    local_cluster, monkeypatch, bias, mode
):
    """burkholz solves its whole network at once, each layer solve in blocks of rows on the
    cluster: the ticket of this process, bit for bit."""
    distributed = pytest.importorskip("distributed")
    monkeypatch.setattr(burkholz, "CHUNK_VALUES", 40)  # chunks, so blocks, of one row
    target = ReLUNetwork.random((4, 6, 3), rng=0, bias=bias)
    here = approximate(target, rng=1, construction="burkholz", **mode, **QUICK)
    with distributed.Client(local_cluster, set_as_default=False) as client:
        before = sum(client.run(lambda dask_worker: len(dask_worker.data)).values())
        tasks, real = [], client.submit

        def submit(function, *args, **kwargs):
            tasks.append(function)
            return real(function, *args, **kwargs)

        monkeypatch.setattr(client, "submit", submit)
        there = approximate(
            target, rng=1, construction="burkholz", scheduler=client, **mode, **QUICK
        )
        assert client.status == "running" and before == 0 and not client.futures
    solves = tasks.count(np.asarray)  # each solve sends its target layer once
    assert solves >= 2 and tasks.count(burkholz._solve_block) >= 2 * solves  # blocks of rows
    assert same_ticket(there, here)


def _set_chunk_values(values):
    """On a worker: burkholz's CHUNK_VALUES (returns the previous one)."""
    from strong_lth.constructions import burkholz

    previous, burkholz.CHUNK_VALUES = burkholz.CHUNK_VALUES, values
    return previous


def test_burkholz_blocks_are_whole_chunks_so_a_randomized_solver_agrees_too(
    local_cluster, monkeypatch
):
    """``"local"`` seeds an instance by its position in its batch: blocks of whole chunks
    (3 rows of layer 1, 2 of layer 2 here) are the very batches of the in-process call (a
    block of ``ceil(rows / 4)`` rows would not be: the ticket differs)."""
    distributed = pytest.importorskip("distributed")
    monkeypatch.setattr(burkholz, "CHUNK_VALUES", 100)
    target = ReLUNetwork.random((4, 6, 3), rng=0)
    mode = {"construction": "burkholz", "solver": "local", "values_per_input": (8, 6)}
    here = approximate(target, rng=1, **mode, **QUICK)
    with distributed.Client(local_cluster, set_as_default=False) as client:
        previous = client.run(_set_chunk_values, 100)
        try:
            there = approximate(target, rng=1, scheduler=client, **mode, **QUICK)
        finally:
            client.run(_set_chunk_values, next(iter(previous.values())))
    assert same_ticket(there, here)


def test_a_scheduler_address_is_connected_and_closed(target, one_piece, local_cluster, tiny_shards):
    sharded = approximate(
        target, rng=1, values_per_input=12, scheduler=local_cluster.scheduler_address, **QUICK
    )
    assert same_ticket(sharded, one_piece["pensia", ("values_per_input",)])


def test_the_cli_scheduler_flag_gives_the_local_ticket(
    local_cluster, tiny_shards, tmp_path, capsys
):
    files = {}
    address = local_cluster.scheduler_address
    for name, extra in (("here", []), ("cluster", ["--scheduler", address])):
        files[name] = tmp_path / f"{name}.npz"
        argv = ["approximate", "5,6,3", "--target-bias", "--values-per-input", "12"]
        argv += ["--seed", "1", "--certificate", "spectral", "--out", str(files[name]), "--quiet"]
        assert main([*argv, *extra]) == 0, capsys.readouterr().err
    here, there = (Ticket.load(files[name]) for name in ("here", "cluster"))
    assert here.values_per_input == there.values_per_input == (12, 12)
    assert all(np.array_equal(a, b) for a, b in zip(here.masks, there.masks, strict=True))


@pytest.mark.parametrize(
    "mode",
    [
        {"values_per_input": 28, "solver": "mitm"},
        {"construction": "burkholz", "eps": 0.3},  # blocks of its search's solves
    ],
)
def test_a_killed_worker_changes_nothing(local_cluster, tiny_shards, mode):
    distributed = pytest.importorskip("distributed")
    target = ReLUNetwork.random((12, 60, 2), rng=4)
    local = approximate(target, rng=2, **mode, **QUICK)
    with distributed.Client(local_cluster, set_as_default=False) as client:
        pids = client.run(os.getpid)
        done, found = threading.Event(), {}

        def run():
            found["ticket"] = approximate(target, rng=2, scheduler=client, **mode, **QUICK)
            done.set()

        worker = threading.Thread(target=run)
        worker.start()
        victim, killed_before_done = None, False
        deadline = time.monotonic() + 60
        while victim is None and not done.is_set() and time.monotonic() < deadline:
            busy = [a for a, tasks in client.processing().items() if tasks and a in pids]
            if busy:
                victim = busy[0]
                os.kill(pids[victim], signal.SIGKILL)
                killed_before_done = not done.is_set()
            time.sleep(0.01)
        worker.join(120)
        assert victim is not None and killed_before_done and "ticket" in found
        client.wait_for_workers(2, timeout=60)
        assert pids[victim] not in client.run(os.getpid).values()  # it was replaced
    assert same_ticket(found["ticket"], local)


@pytest.mark.parametrize(
    "address", ["tcp://127.0.0.1:1", "tcp://nonexistent.invalid:8786", "nope://x"]
)
def test_a_bad_scheduler_address_fails_fast_and_clearly(address):
    pytest.importorskip("distributed")
    start = time.monotonic()
    with pytest.raises(
        InvalidParameterError,
        match=(
            r"`scheduler` must be the address of a running Dask scheduler; none answered at "
            rf"'{address}' within 1 s \((OSError|ValueError): .*\); got '{address}'\."
        ),
    ):
        with connect(address, timeout=1.0):
            pass
    assert time.monotonic() - start < 10


def test_approximate_refuses_a_bad_scheduler_within_its_timeout(target, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(cluster_module, "CONNECT_SECONDS", 1.0)
    start = time.monotonic()

    def never(self):
        raise AssertionError("the address is checked before any work on the target")

    with monkeypatch.context() as patch:
        patch.setattr(ReLUNetwork, "augmented", never)
        with pytest.raises(InvalidParameterError, match=r"none answered at 'tcp://127.0.0.1:1' "):
            approximate(target, rng=1, values_per_input=2, scheduler="tcp://127.0.0.1:1", **QUICK)
    assert time.monotonic() - start < 10
    with pytest.raises(InvalidParameterError, match=r"`scheduler` must be a Dask scheduler add"):
        approximate(target, rng=1, values_per_input=2, scheduler="localhost:8786", **QUICK)


def test_a_layer_in_shards_allocates_about_one_shard_beside_its_answer(monkeypatch):
    weights = ReLUNetwork.random((100, 200, 2), rng=0).weights[0]
    network = RandomNetwork(seed=1, widths=(100, 200, 2), values_per_input=(16, 1))
    kwargs = dict(signed=np.ones(100, bool), construction="pensia", solver="mitm", tol=None)
    shards.solve_layer(weights[:2], network, 1, start=None, max_bytes=2**30, **kwargs)  # warm
    peaks = {}
    for name, shard_bytes in (("whole", 2**40), ("shards", solve_bytes(10, 100, 16))):
        monkeypatch.setattr(shards, "SHARD_BYTES", shard_bytes)
        tracemalloc.start()
        try:
            found = shards.solve_layer(weights, network, 1, start=None, max_bytes=2**40, **kwargs)
            peaks[name] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        peaks[name, "answer"] = sum(a.nbytes for a in found[:3])  # packed keep, A, B
    one_piece = solve_bytes(200, 100, 16)  # 20.5 MB
    assert peaks["whole"] > one_piece / 4  # the one-piece solve does allocate its layer
    # in shards of 10 rows: the answer (0.36 MB) and about one shard (1 MB estimated; 22 MB whole
    # and 1.5 MB in shards measured)
    assert peaks["shards"] < peaks["shards", "answer"] + 4 * solve_bytes(10, 100, 16)
    assert peaks["shards"] < peaks["whole"] / 3


@pytest.mark.parametrize("block", [1, 45, 10**6])  # one row (rows below 45 values), 5 rows, all
def test_layer_masks_in_blocks_of_rows_are_the_gadget_masks(monkeypatch, block):
    monkeypatch.setattr(shards, "MASK_BLOCK", block)
    rng = np.random.default_rng(0)
    for shape, density in [((37, 5, 9), 0.4), ((4, 3, 17), 0.05), ((6, 2, 3), 0.0)]:
        keep = rng.random(shape) < density
        mine = shards.layer_masks(np.packbits(keep, axis=2), shape[2])
        whole = gadget_masks(keep)
        assert all(a.dtype == b.dtype and np.array_equal(a, b) for a, b in zip(mine, whole))


@pytest.mark.parametrize("hard", [False, True])
def test_the_norm_lower_bound_is_below_the_exact_norm_and_close(hard):
    rng = np.random.default_rng(3)
    delta = rng.standard_normal((60, 110)) * 1e-4
    if hard:  # a few entries far above the bulk, as sign pools that cannot reach their weight
        delta[rng.integers(0, 60, 3), rng.integers(0, 110, 3)] = 0.05
    exact = np.linalg.svd(delta, compute_uv=False)[0]
    lower = norm_lower_bound(delta)
    assert 0.99 * exact <= lower <= exact
    assert norm_lower_bound(np.zeros((4, 6))) == 0.0


def test_layer_sums_recompute_the_constructions_sums(target):
    network = RandomNetwork(1, target.augmented().widths, (9, 1))
    weights = target.augmented().weights[0]
    signed = np.ones(weights.shape[1], bool)
    packed, a, b, _ = shards.solve_layer(
        weights,
        network,
        1,
        signed=signed,
        construction="pensia",
        solver="mitm",
        tol=None,
        start=None,
        max_bytes=2**30,
    )
    again = shards.layer_sums(packed, network, 1, 9)
    assert np.allclose(again[0], a, rtol=1e-12, atol=1e-15)
    assert np.allclose(again[1], b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("construction", ["pensia", "malach"])
def test_lower_bounds_of_tau_steer_the_search_to_the_same_ticket(target, construction, monkeypatch):
    """With every τ a lower bound until it could pass (as on a 4096-wide layer), the search
    decides every n alike: the same ticket, certified within eps; the cached lower bounds lie
    below the exact τ."""
    eps = 0.2 if construction == "pensia" else 1.0
    exact = approximate(target, eps=eps, rng=1, construction=construction, **QUICK)
    monkeypatch.setattr(approximate_module, "EXACT_TAU_ENTRIES", 0)
    monkeypatch.setattr(approximate_module._Layer, "first_n", NestedLayer.first_n)  # START
    lower = approximate(target, eps=eps, rng=1, construction=construction, **QUICK)
    assert same_ticket(exact, lower) and lower.report.certified <= eps
    for mine, theirs in zip(lower.report.layers, exact.report.layers):
        assert dict(mine.evaluated).keys() == dict(theirs.evaluated).keys()
        for (_, low), (_, tau) in zip(mine.evaluated, theirs.evaluated):
            assert low <= tau * (1 + 1e-12) and low >= 0.9 * tau


def test_a_ticket_read_in_blocks_gives_its_gadgets_and_forward(target):
    """Blocks of a few kept weights (the path of a ticket above LARGE_TICKET) against the
    ticket's sparse matrices: the same (A, B) and the same outputs, up to rounding."""
    ticket = approximate(target, values_per_input=9, rng=1, **QUICK)
    x = np.random.default_rng(0).standard_normal((7, 5))
    for (a, b), (c, d) in zip(gadgets.blocked_gadgets(ticket, block=7), ticket.gadgets()):
        assert np.allclose(a, c, rtol=1e-13, atol=1e-15) and np.allclose(b, d, rtol=1e-13, atol=0)
    assert np.allclose(gadgets.blocked_forward(ticket, x, block=7), ticket.forward(x), rtol=1e-12)


def test_a_large_ticket_is_certified_in_blocks_alike(target, monkeypatch):
    ticket = approximate(target, values_per_input=9, rng=1, **QUICK)
    whole = certify(target, ticket, method="spectral", rng=0)
    monkeypatch.setattr(gadgets, "LARGE_TICKET", 0)
    monkeypatch.setattr(gadgets, "KEPT_BLOCK", 11)
    blocked = certify(target, ticket, method="spectral", rng=0)
    assert np.allclose(blocked.tau, whole.tau, rtol=1e-12)
    assert blocked.certified == pytest.approx(whole.certified, rel=1e-12)


def test_a_large_ticket_with_a_wrong_layout_is_refused_in_blocks_too(target, monkeypatch):
    """A unit whose first-layer weight reads another input than its gadget declares breaks the
    gadget reading: the blocked forward disagrees with the blocked (A, B) and certify refuses."""
    ticket = approximate(target, values_per_input=9, rng=1, **QUICK)
    monkeypatch.setattr(gadgets, "LARGE_TICKET", 0)
    real = gadgets.blocked_forward
    monkeypatch.setattr(
        certify_module, "blocked_forward", lambda t, x: real(t, x) * (1 + 1e-6) + 1e-6
    )
    with pytest.raises(CertificationError, match="differ by"):
        certify(target, ticket, method="spectral", rng=0)


def test_reach_values_are_the_first_n_with_a_product_of_the_weights_sign(target):
    """Against a loop over every pool: the reach of each weight, and the floor below the exact τ
    of the layer solved at every n (the proof of reach_floor)."""
    weights = target.augmented().weights[0]
    signed = np.arange(weights.shape[1]) < 4  # the last input (the constant) is never negative
    network = RandomNetwork(1, target.augmented().widths, (10, 1))
    reach = shards.reach_values(weights, network, 1, signed)
    u, v = shards.RowBlock(network, 0, weights.shape[0]).gadget_weights(1)
    for (r, j), w in np.ndenumerate(weights):
        need = []
        for side, used in ((u[j] > 0, True), (u[j] < 0, signed[j])):
            if used and w != 0:
                hits = [
                    k + 1
                    for k in range(10)
                    if side[k] and np.sign(v[r, j, k] * u[j, k]) == np.sign(w)
                ]
                need.append(hits[0] if hits else 11)
        assert reach[r, j] == max(need, default=1)
    floor = shards.reach_floor(reach, weights)
    for n in range(1, 11):
        small = network.with_values_per_input((n, 1))
        _, a, b, _ = shards.solve_layer(
            weights,
            small,
            1,
            signed=signed,
            construction="pensia",
            solver="mitm",
            tol=None,
            start=None,
            max_bytes=2**30,
        )
        tau = np.linalg.norm(error_matrix(weights, a, b, signed), 2)
        assert tau >= floor[min(n, len(floor) - 1)]


def test_the_search_starts_where_every_pool_can_reach(target, monkeypatch):
    """On a layer treated as large, the first n tried is where the floor meets the goal, and the
    ticket is still certified within eps."""
    monkeypatch.setattr(approximate_module, "EXACT_TAU_ENTRIES", 0)
    ticket = approximate(target, eps=0.2, rng=1, **QUICK)
    assert ticket.report.certified <= 0.2
    first = min(m for m, _ in ticket.report.layers[0].evaluated)
    assert first >= 8
