"""Kept parameters with and without dead units, at the same n and seed (exact solves).

For every layer pair after the first the input is a ReLU output, never negative, so the units
whose first-layer weight is negative never fire (docs/theory.md, section 5). "Before" builds the
ticket with every input treated as signed (the constructions of 0.1.0); "after" with
``gadgets.signed_inputs`` (the dead units are neither solved for nor kept). Printed per target:
kept weights before and after (per random layer), the largest output change on 2,000 points of
the unit sphere (0: dead units never fire), construction seconds, and the spectral certificate
with the two-sided error before and the one-sided error after.

Usage: ``python benchmarks/bench_dead_units.py [a] [b]`` (``a``: 8-16-16-4 at n = 35/48/36,
``b``: 784-500-10 at n = 53/48, the widths automatic mode chose at ε = 0.01 before).
"""

import sys
import time

import numpy as np

from strong_lth import RandomNetwork, ReLUNetwork, Ticket
from strong_lth._certify import certified_error
from strong_lth.constructions import CONSTRUCTIONS
from strong_lth.gadgets import error_matrix, gadget_masks, signed_inputs

CASES = {
    "a": ("8-16-16-4", lambda: ReLUNetwork.random((8, 16, 16, 4), rng=0), (35, 48, 36)),
    "b": ("784-500-10", lambda: ReLUNetwork.random((784, 500, 10), rng=0).scaled(1.0), (53, 48)),
}


def signs(target, layer, d_in, every_input):
    if every_input:
        return np.ones(d_in, dtype=bool)
    return signed_inputs(layer, d_in, target.has_bias)


def build(target, n, seed, every_input):
    augmented = target.augmented()
    network = RandomNetwork(seed, augmented.widths, n)
    masks, seconds = [], 0.0
    for i, w in enumerate(augmented.weights, start=1):
        start = time.perf_counter()
        keep, _, _ = CONSTRUCTIONS["pensia"].choose(
            w, network, i, signed=signs(target, i, w.shape[1], every_input)
        )
        seconds += time.perf_counter() - start
        masks += gadget_masks(keep)
    ticket = Ticket(
        seed,
        network.distribution,
        augmented.widths,
        network.values_per_input,
        "pensia",
        tuple(masks),
        input_bias=target.has_bias,
    )
    return ticket, seconds


def spectral(target, ticket, every_input):
    augmented = target.augmented()
    taus = [
        np.linalg.norm(error_matrix(w, a, b, signs(target, i, w.shape[1], every_input)), 2)
        for i, (w, (a, b)) in enumerate(zip(augmented.weights, ticket.gadgets()), start=1)
    ]
    return certified_error(taus, [np.linalg.norm(w, 2) for w in augmented.weights], 1.0)


def main():
    for key in sys.argv[1:] or CASES:
        name, make, n = CASES[key]
        target = make()
        before, t_before = build(target, n, 1, every_input=True)
        after, t_after = build(target, n, 1, every_input=False)
        x = np.random.default_rng(0).standard_normal((2000, target.widths[0]))
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        gap = float(np.abs(before.forward(x) - after.forward(x)).max())
        per_layer = "/".join(str(len(m)) for m in before.masks)
        per_layer_after = "/".join(str(len(m)) for m in after.masks)
        print(
            f"{name} n={'/'.join(map(str, n))} seed 1: kept before {before.n_kept} "
            f"({before.n_kept / target.n_params:.2f}x target) [{per_layer}], after "
            f"{after.n_kept} ({after.n_kept / target.n_params:.2f}x) [{per_layer_after}], "
            f"drop {1 - after.n_kept / before.n_kept:.1%}; max output change {gap:.1e}; "
            f"construction seconds {t_before:.1f} -> {t_after:.1f}; spectral certificate "
            f"two-sided before {spectral(target, before, True):.3e}, one-sided after "
            f"{spectral(target, after, False):.3e}",
            flush=True,
        )


if __name__ == "__main__":
    main()
