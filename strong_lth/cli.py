"""The ``strong-lth`` command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import approximate
from .exceptions import StrongLTHError
from .networks import ReLUNetwork
from .plotting import search_figure
from .subset_sum import warmup

DEMO_WIDTHS = (8, 16, 16, 4)


def _demo(args) -> None:
    warmup()
    target = ReLUNetwork.random(DEMO_WIDTHS, rng=args.seed).scaled(1.0)
    print(
        f"target: random ReLU network {'-'.join(map(str, DEMO_WIDTHS))}, every layer of spectral "
        f"norm 1 (seed {args.seed}); approximating it within eps = {args.eps:g} (certified)\n"
    )
    ticket = approximate(target, eps=args.eps, rng=args.seed)
    print(ticket.report)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    figure = search_figure(ticket.report)
    figure.savefig(out / "width_vs_error.png", dpi=120)
    ticket.save(out / "ticket.npz")
    print(f"\nplot: {out / 'width_vs_error.png'}\nticket: {out / 'ticket.npz'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="strong-lth",
        description="Test the strong lottery ticket hypothesis by experiment.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="approximate the bundled default target, plot it")
    demo.add_argument("--eps", type=float, default=0.01, help="certified error (default 0.01)")
    demo.add_argument("--seed", type=int, default=0, help="seed of target and random network")
    demo.add_argument("--out", default="demo_output", help="folder for the plot and the ticket")
    demo.set_defaults(run=_demo)
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except StrongLTHError as error:
        print(f"strong-lth: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
