"""The ``strong-lth`` command: approximate, certify, bounds, sweep, plot, demo.

Every subcommand reads its input, calls the public API and prints plain text. Bad input (a
malformed shape, a missing or unreadable file, a number out of range) ends with exit status 2 and
one line ``strong-lth: <what is wrong>`` on stderr, never a traceback; ``certify --eps`` exits
with 1 when the certificate does not reach ``eps``.
"""

from __future__ import annotations

import argparse
import re
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
from matplotlib.backend_bases import FigureCanvasBase

from . import approximate, bounds
from ._validation import check_choice, check_int, check_real
from .certify import certify
from .constructions import CONSTRUCTIONS
from .exceptions import InvalidParameterError, StrongLTHError
from .networks import ReLUNetwork
from .plotting import search_figure
from .subset_sum import METHODS, warmup
from .ticket import Ticket

__all__ = ["main"]

DEMO_WIDTHS = (8, 16, 16, 4)
DEMO_DELTA = 0.01
"""Failure probability the demo's bound table is computed for."""

_SHAPE = re.compile(r"\d+(,\d+)+")
_READ_ERRORS = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile)
"""What NumPy, JSON and TOML readers raise on a file that is not what it should be."""


class _UsageError(Exception):
    """A command line argparse rejects (unknown option, a number that does not parse)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise _UsageError(f"{message} (see `{self.prog} --help`)")


def _read(name: str, path: str, load, *, npz: bool = False):
    """``load(path)``, with any failure to read turned into one message naming ``name``."""
    if not Path(path).is_file():
        raise InvalidParameterError(f"`{name}` must be an existing file; got {path!r}.")
    if npz and not zipfile.is_zipfile(path):
        raise InvalidParameterError(f"`{name}` must be an .npz file; {path!r} is not one.")
    try:
        return load(path)
    except StrongLTHError as error:
        raise InvalidParameterError(f"`{name}` file {path!r}: {error}") from error
    except _READ_ERRORS as error:
        raise InvalidParameterError(f"`{name}` file {path!r} cannot be read: {error}") from error


def _target(spec: str, *, seed: int = 0, bias: bool = False) -> ReLUNetwork:
    """A target from an ``.npz`` file (:meth:`ReLUNetwork.from_npz`) or a shape ``8,16,4``
    (:meth:`ReLUNetwork.random` with ``rng=seed``, every layer of spectral norm 1)."""
    shape = spec.replace(" ", "")
    if _SHAPE.fullmatch(shape):
        widths = tuple(int(w) for w in shape.split(","))
        if min(widths) < 1:
            raise InvalidParameterError(f"`target` widths must be positive; got {spec!r}.")
        return ReLUNetwork.random(widths, rng=seed, bias=bias)
    if spec.endswith(".npz") or Path(spec).exists():
        return _read("target", spec, ReLUNetwork.from_npz, npz=True)
    raise InvalidParameterError(
        f"`target` must be an .npz file or a shape like 8,16,4; got {spec!r}."
    )


def _comma_list(convert, noun: str):
    """An argparse type: one ``noun`` or several separated by commas, as a list."""

    def parse(text: str) -> list:
        try:
            return [convert(part) for part in text.split(",")]
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected one {noun} or several separated by commas; got {text!r}"
            ) from None

    return parse


_INTEGERS = _comma_list(int, "integer")
_REALS = _comma_list(float, "number")


def _seed(text: str) -> int:
    """A non-negative integer seed (argparse type)."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a non-negative integer seed; got {text!r}")
    return int(text)


def _approximate(args) -> int:
    target = _target(args.target, seed=args.target_seed, bias=args.target_bias)
    values = args.values_per_input
    if values is not None and len(values) == 1:
        values = values[0]
    ticket = approximate(
        target,
        eps=args.eps,
        values_per_input=values,
        construction=args.construction,
        solver=args.solver,
        distribution=args.distribution,
        radius=args.radius,
        rng=args.seed,
        max_values_per_input=args.max_values_per_input,
        progress=not args.quiet,
    )
    print(ticket.report)
    out = Path(args.out)
    if out.suffix != ".npz":  # numpy.savez would append it
        out = out.with_name(out.name + ".npz")
    out.parent.mkdir(parents=True, exist_ok=True)
    ticket.save(out)
    print(f"\nticket: {out}")
    return 0


def _certify(args) -> int:
    ticket = _read("ticket", args.ticket, Ticket.load, npz=True)
    target = _target(args.target, seed=args.target_seed, bias=args.target_bias)
    expected = (target.augmented().widths, target.has_bias)
    if (ticket.widths, ticket.input_bias) != expected:
        raise InvalidParameterError(
            f"`ticket` must be made for the target: widths {expected[0]} (bias-augmented), "
            f"biases {expected[1]}; got widths {ticket.widths}, biases {ticket.input_bias}."
        )
    report = ticket.report or {}
    radius = args.radius if args.radius is not None else report.get("radius", 1.0)
    eps = args.eps if args.eps is not None else report.get("eps")
    if eps is not None:
        eps = check_real("eps", eps, low=0.0, low_open=True)
    certificate = certify(target, ticket, radius=radius, rng=args.seed)
    print(_certificate_table(certificate, eps))
    if eps is not None and certificate.certified > eps:
        print(f"the certified error exceeds eps = {eps:g}")
        return 1
    return 0


def _certificate_table(certificate, eps) -> str:
    """The certificate as text: one row per layer pair, then the certified and measured error;
    with ``eps`` in (0, 1) also the per-weight budget ``η_i`` (THEORY section 5)."""
    etas = certificate.eta(eps) if eps is not None and eps < 1 else [None] * len(certificate.tau)
    header = (
        f"{'layer':>5} {'d_in':>6} {'d_out':>6} {'||W_i||':>10} {'max|Δ|':>10} "
        f"{'median|Δ|':>10} {'η_i':>10} {'τ_i':>10}"
    )
    lines = [
        f"certificate: inputs in the ball of radius {certificate.radius:g}"
        + (", target with biases (input [x, 1])" if certificate.input_bias else ""),
        header,
        "-" * len(header),
    ]
    widths = certificate.widths
    for i, eta in enumerate(etas):
        eta_text = "-" if eta is None else f"{eta:.3e}"
        lines.append(
            f"{i + 1:>5} {widths[i]:>6} {widths[i + 1]:>6} {certificate.weight_norms[i]:>10.4g} "
            f"{certificate.max_weight_error[i]:>10.3e} {certificate.median_weight_error[i]:>10.3e} "
            f"{eta_text:>10} {certificate.tau[i]:>10.3e}"
        )
    verdict = "" if eps is None else f" ({'<=' if certificate.certified <= eps else '>'} eps)"
    lines.append(
        f"error sup_x ||F(x) - G(x)||_2: certified <= {certificate.certified:.4e}{verdict}, "
        f"measured {certificate.measured:.4e}"
    )
    return "\n".join(lines)


def _bounds(args) -> int:
    if (args.target is None) == (args.d is None):
        raise InvalidParameterError(
            "exactly one of `target` and `--d` (with `--depth`) must be given; got "
            f"target={args.target!r}, d={args.d!r}."
        )
    if args.target is None:
        if args.depth is None or args.d < 1 or args.depth < 1:
            raise InvalidParameterError(
                f"`--d` and `--depth` must be positive integers; got d={args.d!r}, "
                f"depth={args.depth!r}."
            )
        spec = ",".join([str(args.d)] * (args.depth + 1))
    else:
        spec = args.target
    target = _target(spec, seed=args.target_seed, bias=args.target_bias)
    values = args.values_per_input
    table = bounds.compare(
        target,
        args.eps,
        args.delta,
        C=args.C,
        values_per_input=None if values is None else np.array(values),
        radius=args.radius,
    )
    print(table)
    return 0


def _sweep(args) -> int:
    from .experiments import Sweep, load_results, run_sweep

    sweep = _read("config", args.config, Sweep.from_toml)
    path = run_sweep(
        sweep,
        scheduler=args.scheduler,
        processes=args.processes,
        quiet=args.quiet,
        output=args.out,
    )
    print(f"results: {path} ({len(load_results(path))} runs)")
    return 0


def _plot(args) -> int:
    from .experiments import load_results
    from .plotting import figures

    check_int("dpi", args.dpi, low=1)
    check_choice("format", args.format, FigureCanvasBase.get_supported_filetypes())
    rows = _read("results", args.results, load_results)
    if not rows:
        raise InvalidParameterError(
            f"`results` must hold at least one run; {args.results!r} is empty."
        )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    eta = args.eta[0] if len(args.eta) == 1 else args.eta
    for name, figure in figures(rows, eta=eta, delta=args.delta).items():
        path = out / f"{name}.{args.format}"
        figure.savefig(path, dpi=args.dpi)
        print(path)
    return 0


def _demo(args) -> int:
    warmup()
    target = ReLUNetwork.random(DEMO_WIDTHS, rng=args.seed)
    print(
        f"target: random ReLU network {'-'.join(map(str, DEMO_WIDTHS))}, every layer of spectral "
        f"norm 1 (seed {args.seed}); approximating it within eps = {args.eps:g} (certified)\n"
    )
    ticket = approximate(target, eps=args.eps, rng=args.seed, progress=True)
    print(ticket.report)
    if args.eps < 1:
        table = bounds.compare(
            target, args.eps, DEMO_DELTA, values_per_input=np.array(ticket.values_per_input)
        )
        print(f"\n{table}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    figure = search_figure(ticket.report)
    figure.savefig(out / "width_vs_error.png", dpi=120)
    ticket.save(out / "ticket.npz")
    print(f"\nplot: {out / 'width_vs_error.png'}\nticket: {out / 'ticket.npz'}")
    return 0


def _add_target(parser, *, positional: bool = True) -> None:
    help_text = (
        "target network: an .npz file (ReLUNetwork.to_npz) or a shape like 8,16,4 (a random "
        "target of those widths, every layer of spectral norm 1)"
    )
    parser.add_argument("target", nargs=None if positional else "?", help=help_text)
    parser.add_argument(
        "--target-seed", type=_seed, default=0, help="seed of a target given as a shape (0)"
    )
    parser.add_argument(
        "--target-bias", action="store_true", help="give a target given as a shape biases"
    )


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="strong-lth",
        description="Test the strong lottery ticket hypothesis by experiment: prune one fixed "
        "random ReLU network so that it approximates a target, certify the error, compare the "
        "width with the published bounds.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    command = commands.add_parser(
        "approximate",
        help="find a ticket approximating a target, print the report, save the ticket",
        description="Prune one random 2l-deep network (sampled from --seed) so that it "
        "approximates the target: automatic mode with --eps (smallest widths with certified "
        "error <= eps), fixed mode with --values-per-input.",
    )
    _add_target(command)
    mode = command.add_mutually_exclusive_group(required=True)
    mode.add_argument("--eps", type=float, help="certified error to reach (automatic mode)")
    mode.add_argument(
        "--values-per-input",
        type=_INTEGERS,
        metavar="N[,N...]",
        help="values per input n, one for all layers or one per layer (fixed mode)",
    )
    command.add_argument(
        "--construction", default="pensia", help=f"one of {', '.join(CONSTRUCTIONS)} (pensia)"
    )
    command.add_argument("--solver", default="mitm", help=f"one of {', '.join(METHODS)} (mitm)")
    command.add_argument(
        "--distribution", default="uniform", help="random weights: uniform or gaussian (uniform)"
    )
    command.add_argument("--seed", type=_seed, default=0, help="seed of the random network (0)")
    command.add_argument("--radius", type=float, default=1.0, help="input ball radius (1)")
    command.add_argument(
        "--max-values-per-input", type=int, default=512, help="cap on n in automatic mode (512)"
    )
    command.add_argument("--out", default="ticket.npz", help="ticket file to write (ticket.npz)")
    command.add_argument(
        "--quiet", action="store_true", help="no progress bar (shown on a terminal)"
    )
    command.set_defaults(run=_approximate)

    command = commands.add_parser(
        "certify",
        help="certify a saved ticket against its target",
        description="Recompute the three error figures of a saved ticket from its masks: "
        "per-weight errors, the certified bound and the measured worst case. With an eps "
        "(given, or the one the ticket was made for) the exit status is 1 when the certified "
        "error exceeds it.",
    )
    command.add_argument("ticket", help="ticket file written by `strong-lth approximate`")
    _add_target(command)
    command.add_argument(
        "--radius", type=float, help="input ball radius (default: the ticket's, else 1)"
    )
    command.add_argument(
        "--eps", type=float, help="error to check against (default: the ticket's, if any)"
    )
    command.add_argument("--seed", type=_seed, default=0, help="seed of the worst-case search (0)")
    command.set_defaults(run=_certify)

    command = commands.add_parser(
        "bounds",
        help="print the width bounds (Pensia, Malach, lower bound) for a target shape",
        description="Width bounds per layer pair: Pensia et al. 2020 Theorem 1, Malach et al. "
        "2020 Theorem 2.1 and the counting lower bound, with the universal constant C given "
        "explicitly. The target is a shape, an .npz file, or --d with --depth (all widths d).",
    )
    _add_target(command, positional=False)
    command.add_argument("--d", type=int, help="width of every layer (instead of a target)")
    command.add_argument("--depth", type=int, help="number of target layers l (with --d)")
    command.add_argument("--eps", type=float, required=True, help="output error, in (0, 1)")
    command.add_argument(
        "--delta", type=float, required=True, help="failure probability, in (0, 1)"
    )
    command.add_argument("--C", type=float, default=1.0, help="universal constant (1)")
    command.add_argument(
        "--values-per-input",
        type=_INTEGERS,
        metavar="N[,N...]",
        help="n a construction used, to show the actual widths beside the bounds",
    )
    command.add_argument("--radius", type=float, default=1.0, help="input ball radius (1)")
    command.set_defaults(run=_bounds)

    command = commands.add_parser(
        "sweep",
        help="run a sweep declared in a TOML file (resumes where it stopped)",
        description="Run every run of the sweep's grid that the results table does not hold "
        "yet and append its row; an interrupted sweep resumes when run again.",
    )
    command.add_argument("config", help="sweep file (TOML)")
    command.add_argument(
        "--scheduler", help="Dask scheduler address tcp://host:port (default: this machine)"
    )
    command.add_argument(
        "--processes", type=int, help="local worker processes (default: the library's choice)"
    )
    command.add_argument(
        "--out", help="output folder instead of the sweep's (relative to the working directory)"
    )
    command.add_argument("--quiet", action="store_true", help="no progress bar")
    command.set_defaults(run=_sweep)

    command = commands.add_parser(
        "plot",
        help="write the figures of a results table to a folder",
        description="Read a sweep's results table and write every figure it supports "
        "(width vs error, SubsetSum error vs n, success probability) to a folder, printing the "
        "paths.",
    )
    command.add_argument("results", help="results table written by `strong-lth sweep`")
    command.add_argument("--out", default="figures", help="folder for the figures (figures)")
    command.add_argument("--format", default="png", help="image format: png, pdf, svg (png)")
    command.add_argument("--dpi", type=int, default=120, help="resolution of raster images (120)")
    command.add_argument(
        "--eta",
        type=_REALS,
        default=[1e-3],
        metavar="ETA[,ETA...]",
        help="precision(s) of the success-probability figure, in (0, 1) (0.001)",
    )
    command.add_argument(
        "--delta",
        type=float,
        default=0.1,
        help="failure rate that defines the fitted constant C, in (0, 1) (0.1)",
    )
    command.set_defaults(run=_plot)

    command = commands.add_parser(
        "demo",
        help="approximate the default 8-16-16-4 target, print the report, plot it",
        description="Approximate a random 8-16-16-4 target (spectral norm 1) in automatic mode, "
        "print the report and the bound table, write the width-vs-error plot and the ticket.",
    )
    command.add_argument("--eps", type=float, default=0.01, help="certified error (0.01)")
    command.add_argument("--seed", type=_seed, default=0, help="seed of target and random network")
    command.add_argument("--out", default="demo_output", help="folder for the plot and the ticket")
    command.set_defaults(run=_demo)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"strong-lth: warning: {message}", file=sys.stderr)


def _fail(error: BaseException) -> int:
    text = " ".join(str(error).split("\n")) or type(error).__name__
    print(f"strong-lth: {text}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    """Run the ``strong-lth`` command with ``argv`` (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 on success, 1 when ``certify`` finds the error above ``eps``, 2 on
        bad input (with one line ``strong-lth: ...`` on stderr), 130 when interrupted.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else 0
    except _UsageError as error:
        return _fail(error)
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return args.run(args)
        except (StrongLTHError, OSError) as error:
            return _fail(error)
        except KeyboardInterrupt:
            print("strong-lth: interrupted", file=sys.stderr)
            return 130


if __name__ == "__main__":
    sys.exit(main())
