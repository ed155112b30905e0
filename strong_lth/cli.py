"""The ``strong-lth`` command: approximate, certify, bounds, sweep, plot, demo.

Every subcommand reads its input, calls the public API and prints plain text (or JSON with
``--json``). Exit statuses:

- 0: success;
- 1: ``certify`` found the certified error above ``eps``;
- 2: bad input, or a size above a memory limit: one line ``strong-lth: <what is wrong>`` on
  stderr, never a traceback (set ``STRONG_LTH_DEBUG=1`` to see the traceback of an unexpected
  error, which is reported as an internal error, still on one line);
- 130: interrupted (Ctrl-C);
- 141: standard output was closed early (``strong-lth ... | head -1``), like a Unix tool killed
  by SIGPIPE; every file the command writes is written before anything is printed, so a
  closed pipe never loses a result.

Heavy modules (numba solvers, OR-Tools, matplotlib) are imported only by the subcommand that
needs them, so ``--help`` and ``--version`` answer at once.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import re
import sys
import warnings
import zipfile
from pathlib import Path

from .exceptions import InvalidParameterError, StrongLTHError

__all__ = ["main"]

DEMO_WIDTHS = (8, 16, 16, 4)
DEMO_PARAMETERS = ("construction", "distribution", "subset_size", "source_density")
"""The options of :func:`~strong_lth.approximate` that ``strong-lth demo`` takes as flags."""
DEMO_DELTA = 0.01
"""Failure probability the demo's bound table and figure are computed for."""

VECTOR_FORMATS = ("eps", "pdf", "pgf", "ps", "svg", "svgz")
"""Image formats whose size does not grow with ``--dpi``."""
MAX_PIXELS = 2**16 - 1
"""Largest image side matplotlib's raster backend draws, in pixels."""

_SHAPE = re.compile(r"[0-9]+(,[0-9]+)+")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_READ_ERRORS = (
    OSError,
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    IndexError,
    EOFError,
    RecursionError,
    zipfile.BadZipFile,
)
"""What NumPy, JSON and TOML readers (and code reading their output) raise on a file that is
not what it should be."""


class _UsageError(Exception):
    """A command line argparse rejects (unknown option, a number that does not parse)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise _UsageError(f"{message} (see `{self.prog} --help`)")


# --------------------------------------------------------------------------------------------
# Argument types: ASCII numbers only ("５" and "٣" are digits to Python's int(), not to a shell)
# --------------------------------------------------------------------------------------------


def _int(text: str) -> int:
    """An ASCII integer (argparse type)."""
    if not _INTEGER.fullmatch(text.strip()):
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}")
    return int(text)


def _float(text: str) -> float:
    """An ASCII real number (argparse type); ``inf`` and ``nan`` parse, the checks refuse them."""
    try:
        if not text.isascii():
            raise ValueError(text)
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None


def _comma_list(convert, noun: str):
    """An argparse type: one ``noun`` or several separated by commas, as a list."""

    def parse(text: str) -> list:
        try:
            return [convert(part) for part in text.split(",")]
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(
                f"expected one {noun} or several separated by commas; got {text!r}"
            ) from None

    return parse


_INTEGERS = _comma_list(_int, "integer")
_REALS = _comma_list(_float, "number")


def _seed(text: str) -> int:
    """A non-negative ASCII integer seed (argparse type)."""
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"expected a non-negative integer seed; got {text!r}")
    return int(text)


def _single(values: list | None):
    """One value for every layer (a list of one) as a scalar; ``None`` or a list unchanged."""
    return values[0] if values is not None and len(values) == 1 else values


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


def _read(name: str, path: str, load, *, npz: bool = False, max_bytes: int | None = None):
    """``load(path)``, with any failure to read turned into one message naming ``name``; an
    ``.npz`` whose arrays would unpack to more than ``max_bytes`` (default
    :data:`~strong_lth._validation.DEFAULT_MAX_BYTES`) is refused before reading."""
    from ._validation import DEFAULT_MAX_BYTES, check_bytes

    if not Path(path).is_file():
        raise InvalidParameterError(f"`{name}` must be an existing file; got {path!r}.")
    if npz:
        if not zipfile.is_zipfile(path):
            raise InvalidParameterError(f"`{name}` must be an .npz file; {path!r} is not one.")
        try:
            with zipfile.ZipFile(path) as archive:
                unpacked = sum(member.file_size for member in archive.infolist())
        except (OSError, zipfile.BadZipFile, ValueError) as error:
            raise InvalidParameterError(f"`{name}` file {path!r} cannot be read: {error}") from None
        limit = DEFAULT_MAX_BYTES if max_bytes is None else max_bytes
        check_bytes(unpacked, limit, f"read the `{name}` file {path!r}", name="--max-bytes")
    try:
        return load(path)
    except StrongLTHError as error:
        raise InvalidParameterError(f"`{name}` file {path!r}: {error}") from error
    except _READ_ERRORS as error:
        reason = str(error) or type(error).__name__
        raise InvalidParameterError(f"`{name}` file {path!r} cannot be read: {reason}") from error


def _shape(spec: str) -> tuple[int, ...] | None:
    """The widths of a shape ``8,16,4`` (ASCII digits only), or ``None`` if ``spec`` is none."""
    shape = spec.replace(" ", "")
    if not _SHAPE.fullmatch(shape):
        return None
    widths = tuple(int(w) for w in shape.split(","))
    if min(widths) < 1:
        raise InvalidParameterError(f"`target` widths must be positive; got {spec!r}.")
    return widths


def _target(spec: str, *, seed: int = 0, bias: bool = False, max_bytes: int, conv=False):
    """A target from an ``.npz`` file (:meth:`ReLUNetwork.from_npz`, or with ``conv``
    :meth:`ConvNetwork.from_npz` for a convolutional file) or a shape ``8,16,4``
    (:meth:`ReLUNetwork.random` with ``rng=seed``, every layer of spectral norm 1), refused
    before it is drawn when its weights would exceed ``max_bytes``."""
    from ._validation import check_bytes
    from .networks import ReLUNetwork

    widths = _shape(spec)
    if widths is not None:
        entries = sum(a * b + (b if bias else 0) for a, b in itertools.pairwise(widths))
        check_bytes(
            16.0 * entries,
            max_bytes,
            f"draw the target {spec} (float64 weights, drawn then rescaled)",
            name="--max-bytes",
        )
        return ReLUNetwork.random(widths, rng=seed, bias=bias)
    if spec.endswith(".npz") or Path(spec).exists():
        from .convnets import ConvNetwork, is_conv_file

        load = ReLUNetwork.from_npz
        if is_conv_file(spec):
            if not conv:
                raise InvalidParameterError(
                    f"`target` must be a dense network file here (convolutional targets go to "
                    f"approximate and certify); got the ConvNetwork file {spec!r}."
                )
            load = ConvNetwork.from_npz
        return _read("target", spec, load, npz=True, max_bytes=max_bytes)
    raise InvalidParameterError(
        f"`target` must be an .npz file or a shape like 8,16,4; got {spec!r}."
    )


def _ticket_field(report: dict, key: str, check):
    """A field of a loaded ticket's report, checked (a crafted file may hold anything)."""
    value = report.get(key)
    return None if value is None else check(f"ticket report `{key}`", value)


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def _plain(value):
    """``value`` as JSON-ready data: arrays and tuples as lists, non-finite floats as
    ``null``."""
    import numpy as np

    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _print_json(data) -> None:
    print(json.dumps(_plain(data), indent=2, allow_nan=False))


# --------------------------------------------------------------------------------------------
# Subcommands
# --------------------------------------------------------------------------------------------


def _approximate(args) -> int:
    from ._approximate import approximate

    target = _target(
        args.target,
        seed=args.target_seed,
        bias=args.target_bias,
        max_bytes=args.max_bytes,
        conv=True,
    )
    options = {name: getattr(args, name) for name in _parameter_flags()}
    options["values_per_input"] = _single(options["values_per_input"])
    ticket = approximate(target, **options, progress=not args.quiet)
    out = Path(args.out)
    if out.is_dir():
        raise InvalidParameterError(f"`--out` must be a file name; got the folder {args.out!r}.")
    if out.suffix != ".npz":  # numpy.savez would append it
        out = out.with_name(out.name + ".npz")
    out.parent.mkdir(parents=True, exist_ok=True)
    ticket.save(out)  # the result first: a closed pipe must not lose it
    if args.json:
        _print_json({"ticket": str(out), "report": ticket.report.to_dict()})
    else:
        print(ticket.report)
        print(f"\nticket: {out}")
    return 0


def _certify(args) -> int:
    from ._certify import certify
    from .convnets import is_conv_file
    from .ticket import Ticket

    if is_conv_file(args.target):
        return _certify_conv(args)
    ticket = _read("ticket", args.ticket, Ticket.load, npz=True, max_bytes=args.max_bytes)
    target = _target(
        args.target, seed=args.target_seed, bias=args.target_bias, max_bytes=args.max_bytes
    )
    expected = (target.augmented().widths, target.has_bias)
    if (ticket.widths, ticket.input_bias) != expected:
        raise InvalidParameterError(
            f"`ticket` must be made for the target: widths {expected[0]} (bias-augmented), "
            f"biases {expected[1]}; got widths {ticket.widths}, biases {ticket.input_bias}."
        )
    radius, eps = _radius_eps(args, ticket)
    certificate = certify(
        target,
        ticket,
        radius=radius,
        rng=args.seed,
        box=args.box,
        exact_time_limit=args.time_limit if args.box is not None else None,
    )
    exceeds = eps is not None and certificate.certified > eps
    if args.json:
        _print_json(_certificate_dict(certificate, eps))
    else:
        print(_certificate_table(certificate, eps))
        if exceeds:
            print(f"the certified error exceeds eps = {eps:g}")
    return 1 if exceeds else 0


def _radius_eps(args, ticket) -> tuple:
    """``(radius, eps)`` of ``certify``: the flags, else those the ticket's report records
    (radius 1 when it records none)."""
    from ._validation import check_real

    report = {} if ticket.report is None else ticket.report
    if not isinstance(report, dict):
        raise InvalidParameterError(
            f"`ticket` file {args.ticket!r}: its report must be a table; got "
            f"{type(report).__name__}."
        )
    positive = {"low": 0.0, "low_open": True}
    radius = args.radius
    if radius is None:
        radius = _ticket_field(report, "radius", lambda n, v: check_real(n, v, **positive)) or 1.0
    eps = args.eps
    if eps is None:
        eps = _ticket_field(report, "eps", lambda n, v: check_real(n, v, **positive))
    else:
        eps = check_real("eps", eps, **positive)
    return radius, eps


def _certify_conv(args) -> int:
    """``certify`` of a :class:`~strong_lth.conv_ticket.ConvTicket` against a convolutional
    target file (:func:`~strong_lth.conv_certify.certify_conv`)."""
    from .conv_ticket import ConvTicket

    if args.box is not None:
        raise InvalidParameterError(
            "`--box` must be omitted for a convolutional target (no exact search over a box "
            f"for convolutions); got {args.box!r}."
        )
    ticket = _read("ticket", args.ticket, ConvTicket.load, npz=True, max_bytes=args.max_bytes)
    target = _target(args.target, max_bytes=args.max_bytes, conv=True)
    radius, eps = _radius_eps(args, ticket)
    found = ticket.certificate(target, radius=radius, rng=args.seed)
    exceeds = eps is not None and found.certified > eps
    data = {
        "radius": found.radius,
        "weight_norms": found.weight_norms,
        "tau": found.tau,
        "max_weight_error": found.max_weight_error,
        "bounds": found.bounds,
        "certified": found.certified,
        "measured": found.measured,
        "eps": eps,
        "within_eps": None if eps is None else not exceeds,
    }
    if args.json:
        _print_json(data)
    else:
        lines = [f"{'layer':>5} {'||K_i||':>10} {'max|Δ|':>10} {'τ_i':>10}"]
        for i, row in enumerate(zip(found.weight_norms, found.max_weight_error, found.tau), 1):
            lines.append(f"{i:>5} " + " ".join(f"{v:>10.4g}" for v in row))
        bounds = ", ".join(f"{k} {v:.4g}" for k, v in found.bounds.items())
        lines.append(f"certified {found.certified:.6g} ({bounds}); measured {found.measured:.6g}")
        print("\n".join(lines))
        if exceeds:
            print(f"the certified error exceeds eps = {eps:g}")
    return 1 if exceeds else 0


def _certificate_dict(certificate, eps) -> dict:
    """The certificate as JSON-ready data (``--json``)."""
    data = {
        key: getattr(certificate, key)
        for key in (
            "radius",
            "input_bias",
            "widths",
            "weight_norms",
            "tau",
            "max_weight_error",
            "median_weight_error",
            "certified",
            "measured",
            "measured_input",
        )
    }
    data["eps"] = eps
    data["eta"] = certificate.eta(eps) if eps is not None and eps < 1 else None
    data["within_eps"] = None if eps is None else bool(certificate.certified <= eps)
    exact = certificate.exact
    data["exact"] = (
        None
        if exact is None
        else {
            "box": certificate.box,
            "measured": exact.measured,
            "value": exact.value,
            "upper_bound": exact.upper_bound,
            "status": exact.status.name,
            "maximizer": exact.maximizer,
            "seconds": exact.seconds,
            "certified": certificate.box_certified,
        }
    )
    return data


def _certificate_table(certificate, eps) -> str:
    """The certificate as text: one row per layer pair, then the certified and measured error;
    with ``eps`` in (0, 1) also the per-weight budget ``η_i`` (docs/theory.md, section 5); with a
    box the exact error over it."""
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
    exact = certificate.exact
    if exact is not None:
        box, dim = certificate.box, len(exact.maximizer)
        lines.append(
            f"error max_x ||F(x) - G(x)||_inf on the box [-{box:g}, {box:g}]^{dim}: measured "
            f"{exact.measured:.4e} <= exact {exact.value:.4e} (proven <= "
            f"{exact.upper_bound:.4e}, {exact.status.name}, {exact.seconds:.2f} s) <= certified "
            f"{certificate.box_certified:.4e} (ball of radius {box * dim**0.5:.4g})"
        )
    return "\n".join(lines)


def _bounds(args) -> int:
    from . import bounds
    from ._validation import check_bytes

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
        check_bytes(
            1024.0 * args.depth,
            args.max_bytes,
            f"tabulate {args.depth} layers (about 1 KiB of table per layer)",
            name="--max-bytes",
        )
        target, bias = (args.d,) * (args.depth + 1), args.target_bias
    elif _shape(args.target) is not None:
        target, bias = _shape(args.target), args.target_bias  # the widths are all it needs
    else:
        target, bias = _target(args.target, max_bytes=args.max_bytes), None
    table = bounds.compare(
        target,
        args.eps,
        args.delta,
        C=args.C,
        values_per_input=_single(args.values_per_input),
        radius=args.radius,
        bias=bias,
    )
    if args.json:
        _print_json(
            {
                key: getattr(table, key)
                for key in ("eps", "delta", "C", "radius", "augmented", "assumption_violations")
            }
            | {"layers": table.rows()}
        )
    else:
        print(table)
    return 0


def _sweep(args) -> int:
    from .experiments import RESULTS_FILE, Sweep, load_results, run_sweep

    sweep = _read(
        "config",
        args.config,
        lambda path: Sweep.from_toml(path, max_runs=args.max_runs, max_bytes=args.max_bytes),
    )
    if args.out is None and sweep.output is None:
        raise InvalidParameterError(
            f"`output` must be given, in {args.config!r} or with --out; got neither."
        )
    table = sweep.results_path if args.out is None else Path(args.out) / RESULTS_FILE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reported by the sweep itself
        stored = len(load_results(table)) if table.is_file() else 0
    path = run_sweep(
        sweep,
        scheduler=args.scheduler,
        processes=args.processes,
        quiet=args.quiet,
        output=args.out,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        total = len(load_results(path))
    print(
        f"results: {path} ({total} runs"
        + (f"; {stored} already stored, {total - stored} computed now)" if stored else ")")
    )
    return 0


def _save_figures(named: dict, out: Path, fmt: str, dpi: int, max_bytes: int) -> list[Path]:
    """Write every figure of ``named`` to ``out/<name>.<fmt>``, each size checked first."""
    from ._validation import check_bytes

    for name, figure in named.items():
        width, height = figure.get_size_inches() * dpi
        if fmt not in VECTOR_FORMATS:
            if max(width, height) > MAX_PIXELS:
                raise InvalidParameterError(
                    f"`--dpi` must keep every image side at most {MAX_PIXELS} pixels; got "
                    f"{dpi}, which makes {name!r} {width:.0f} x {height:.0f} pixels."
                )
            check_bytes(
                4.0 * round(width) * round(height),
                max_bytes,
                f"draw {name!r} at {dpi} dpi ({width:.0f} x {height:.0f} RGBA pixels)",
                name="--max-bytes",
            )
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, figure in named.items():
        path = out / f"{name}.{fmt}"
        figure.savefig(path, dpi=dpi)
        paths.append(path)
    return paths


def _plot(args) -> int:
    from matplotlib.backend_bases import FigureCanvasBase

    from ._validation import check_choice, check_int, check_real
    from .experiments import load_results
    from .plotting import figures

    check_int("dpi", args.dpi, low=1)
    if args.C is not None:
        check_real("C", args.C, low=0.0, low_open=True)
    check_choice("format", args.format, FigureCanvasBase.get_supported_filetypes())
    with warnings.catch_warnings(record=True) as ignored:
        warnings.simplefilter("always")
        rows = _read("results", args.results, load_results)
    if not rows:
        first = str(ignored[0].message).rstrip(".") if ignored else ""
        why = f" ({len(ignored)} line(s) ignored; first: {first})" if ignored else ""
        raise InvalidParameterError(
            f"`results` must hold at least one valid run; got none in {args.results!r}{why}."
        )
    for warning in ignored:
        warnings.warn_explicit(warning.message, warning.category, warning.filename, 0)
    eta = _single(args.eta)
    named = figures(rows, eta=eta, delta=args.delta, C=args.C)
    for path in _save_figures(named, Path(args.out), args.format, args.dpi, args.max_bytes):
        print(path)
    return 0


def _demo(args) -> int:
    from . import bounds
    from ._approximate import approximate
    from ._validation import check_real
    from .networks import ReLUNetwork
    from .plotting import search_figure
    from .subset_sum import warmup

    eps = check_real("eps", args.eps, low=0.0, low_open=True)
    warmup()
    target = ReLUNetwork.random(DEMO_WIDTHS, rng=args.seed)
    print(
        f"target: random ReLU network {'-'.join(map(str, DEMO_WIDTHS))}, every layer of spectral "
        f"norm 1 (seed {args.seed}); approximating it within eps = {eps:g} (certified)\n",
        flush=True,
    )
    options = {name: getattr(args, name) for name in DEMO_PARAMETERS}
    ticket = approximate(target, eps=eps, rng=args.seed, progress=True, **options)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ticket.save(out / "ticket.npz")  # the results first: a closed pipe must not lose them
    figure = search_figure(ticket)
    figure.savefig(out / "width_vs_error.png", dpi=120)
    print(ticket.report)
    if eps < 1:
        table = bounds.compare(
            target, eps, DEMO_DELTA, values_per_input=list(ticket.values_per_input)
        )
        print(f"\n{table}")
    print(f"\nplot: {out / 'width_vs_error.png'}\nticket: {out / 'ticket.npz'}")
    return 0


# --------------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------------


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


class _LazyHelp(str):
    """A help text that names the choices of a registry only when it is printed: argparse
    formats help with ``help % params``, so ``strong-lth --help`` never imports the registries
    (NumPy, numba) that ``strong-lth approximate --help`` lists."""

    def __new__(cls, text: str, field: str):
        made = super().__new__(cls, text)
        made.field = field
        return made

    def __mod__(self, params):
        from .parameters import choices

        return str.__mod__(str(self).replace("{choices}", ", ".join(choices(self.field))), params)


_TYPES = {
    "float": (_float, None),
    "int": (_int, None),
    "ints": (_INTEGERS, "N[,N...]"),
    "seed": (_seed, None),
    "str": (None, "NAME"),
    "names": (_comma_list(str, "name"), "NAME[,NAME...]"),
}
"""argparse type and metavar of each ``cli`` kind of :mod:`strong_lth.parameters`."""


def _parameter_flags() -> tuple[str, ...]:
    """The fields of :class:`~strong_lth.parameters.ApproximateParameters` that are flags."""
    import dataclasses

    from .parameters import ApproximateParameters

    fields = dataclasses.fields(ApproximateParameters)
    return tuple(item.name for item in fields if item.metadata["cli"] is not None)


def _add_parameters(command, only: tuple[str, ...] | None = None) -> None:
    """One flag per field of :class:`~strong_lth.parameters.ApproximateParameters` with a
    ``cli`` kind (or per field named in ``only``): its name (dashes for underscores), type,
    default and help from the field; the two modes (``group = "mode"``) exclusive and one of
    them required."""
    import dataclasses

    from .parameters import ApproximateParameters, public_name

    fields = [
        item
        for item in dataclasses.fields(ApproximateParameters)
        if item.metadata["cli"] is not None and (only is None or item.name in only)
    ]
    mode = None
    if any(item.metadata.get("group") == "mode" for item in fields):
        mode = command.add_mutually_exclusive_group(required=True)
    for item in fields:
        kind, meta = item.metadata["cli"], item.metadata
        where = mode if meta.get("group") == "mode" else command
        flag = "--" + public_name(item).replace("_", "-")
        if kind == "flag":  # a switch that is on by default: --no-NAME turns it off
            where.add_argument(
                f"--no-{flag[2:]}",
                dest=item.name,
                action="store_false",
                help=f"do not {meta['help']}",
            )
            continue
        default = meta.get("cli_default", item.default)
        text = meta["help"]
        if "choices" in meta:
            text += "; one of {choices}"
        if default is not None and where is command:
            text += f" ({default})"
        help_text = _LazyHelp(text, item.name) if "choices" in meta else text
        convert, metavar = _TYPES[kind]
        metavar = meta.get("metavar") or metavar or public_name(item).upper()
        where.add_argument(
            flag, dest=item.name, type=convert, default=default, metavar=metavar, help=help_text
        )


def _add_max_bytes(parser, what: str) -> None:
    """``--max-bytes``; its default (:data:`~strong_lth._validation.DEFAULT_MAX_BYTES`) is
    filled in by :func:`_run`, so that ``--help`` does not import NumPy."""
    parser.add_argument(
        "--max-bytes",
        type=_int,
        metavar="BYTES",
        help=f"refuse {what} estimated above this many bytes (default 1 GiB)",
    )
    parser.set_defaults(default_max_bytes=True)


def _add_json(parser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print machine-readable JSON instead of text"
    )


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(
        prog="strong-lth",
        description="Test the strong lottery ticket hypothesis by experiment: prune one fixed "
        "random ReLU network so that it approximates a target, certify the error, compare the "
        "width with the published bounds.",
    )
    parser.add_argument("--version", action="version", version=f"strong-lth {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    command = commands.add_parser(
        "approximate",
        help="find a ticket approximating a target, save it, print the report",
        description="Prune one random network (sampled from --seed) so that it approximates "
        "the target: automatic mode with --eps (smallest widths with certified error <= eps), "
        "fixed mode with --values-per-input. The ticket is saved before the report is printed.",
    )
    _add_target(command)
    _add_parameters(command)
    command.add_argument("--out", default="ticket.npz", help="ticket file to write (ticket.npz)")
    command.add_argument(
        "--quiet", action="store_true", help="no progress bar (shown on a terminal)"
    )
    _add_max_bytes(command, "a target shape or a file whose arrays are")
    _add_json(command)
    command.set_defaults(run=_approximate)

    command = commands.add_parser(
        "certify",
        help="certify a saved ticket against its target",
        description="Recompute the three error figures of a saved ticket from its masks: "
        "per-weight errors, the certified bound and the measured worst case; with --box also "
        "the exact worst case over a box. With an eps (given, or the one the ticket was made "
        "for) the exit status is 1 when the certified error exceeds it.",
    )
    command.add_argument("ticket", help="ticket file written by `strong-lth approximate`")
    _add_target(command)
    command.add_argument(
        "--radius", type=_float, help="input ball radius (default: the ticket's, else 1)"
    )
    command.add_argument(
        "--eps", type=_float, help="error to check against (default: the ticket's, if any)"
    )
    command.add_argument(
        "--box",
        type=_float,
        metavar="R",
        help="also compute the exact error max ||F(x) - G(x)||_inf over [-R, R]^d",
    )
    command.add_argument(
        "--time-limit",
        type=_float,
        default=60.0,
        metavar="SECONDS",
        help="seconds for the exact error of --box; past them it is a bracket (60)",
    )
    command.add_argument("--seed", type=_seed, default=0, help="seed of the worst-case search (0)")
    _add_max_bytes(command, "a target shape or a file whose arrays are")
    _add_json(command)
    command.set_defaults(run=_certify)

    command = commands.add_parser(
        "bounds",
        help="print the width bounds (Pensia, Malach, lower bound) for a target shape",
        description="Width bounds per layer pair: Pensia et al. 2020 Theorem 1, Malach et al. "
        "2020 Theorem 2.1 and the counting lower bound, with the universal constant C given "
        "explicitly. The target is a shape, an .npz file, or --d with --depth (all widths d); "
        "a shape is never drawn, the bounds need its widths alone.",
    )
    _add_target(command, positional=False)
    command.add_argument("--d", type=_int, help="width of every layer (instead of a target)")
    command.add_argument("--depth", type=_int, help="number of target layers l (with --d)")
    command.add_argument("--eps", type=_float, required=True, help="output error, in (0, 1)")
    command.add_argument(
        "--delta", type=_float, required=True, help="failure probability, in (0, 1)"
    )
    command.add_argument("--C", type=_float, default=1.0, help="universal constant (1)")
    command.add_argument(
        "--values-per-input",
        type=_INTEGERS,
        metavar="N[,N...]",
        help="n a construction used, one for all layers or one per layer: shows the actual "
        "widths and the implied C beside the bounds",
    )
    command.add_argument("--radius", type=_float, default=1.0, help="input ball radius (1)")
    _add_max_bytes(command, "a table (--depth) or a target file whose size is")
    _add_json(command)
    command.set_defaults(run=_bounds)

    command = commands.add_parser(
        "sweep",
        help="run a sweep declared in a TOML file (resumes where it stopped)",
        description="Run every run of the sweep's grid that the results table does not hold "
        "yet and append its row; an interrupted sweep resumes when run again (and says how "
        "many runs were already stored).",
    )
    command.add_argument("config", help="sweep file (TOML)")
    command.add_argument(
        "--scheduler", help="Dask scheduler address tcp://host:port (default: this machine)"
    )
    command.add_argument(
        "--processes", type=_int, help="local worker processes (default: the library's choice)"
    )
    command.add_argument(
        "--out",
        help="output folder instead of the sweep's (relative to the working directory); the "
        "file may then leave `output` out",
    )
    command.add_argument(
        "--max-runs",
        type=_int,
        metavar="RUNS",
        help="largest grid to expand (default: the file's max_runs, else 100000)",
    )
    command.add_argument(
        "--max-bytes",
        type=_int,
        metavar="BYTES",
        help="largest estimated memory of one run (default: the file's max_bytes, else 1 GiB)",
    )
    command.add_argument("--quiet", action="store_true", help="no progress bar")
    command.set_defaults(run=_sweep)

    command = commands.add_parser(
        "plot",
        help="write the figures of a results table to a folder",
        description="Read a sweep's results table and write every figure it supports "
        "(width vs error, SubsetSum error vs n, success probability) to a folder, then print "
        "the paths.",
    )
    command.add_argument("results", help="results table written by `strong-lth sweep`")
    command.add_argument("--out", default="figures", help="folder for the figures (figures)")
    command.add_argument("--format", default="png", help="image format: png, pdf, svg (png)")
    command.add_argument("--dpi", type=_int, default=120, help="resolution of raster images (120)")
    command.add_argument(
        "--eta",
        type=_REALS,
        default=[1e-3],
        metavar="ETA[,ETA...]",
        help="precision(s) of the success-probability figure, in (0, 1) (0.001)",
    )
    command.add_argument(
        "--delta",
        type=_float,
        default=0.1,
        help="failure rate that defines the fitted constant C, in (0, 1) (0.1)",
    )
    command.add_argument(
        "--C",
        type=_float,
        help="constant of Pensia's bound in the width figure (default: fitted to the runs)",
    )
    _add_max_bytes(command, "an image whose pixels are")
    command.set_defaults(run=_plot)

    command = commands.add_parser(
        "demo",
        help="approximate the default 8-16-16-4 target, print the report, plot it",
        description="Approximate a random 8-16-16-4 target (spectral norm 1) in automatic mode, "
        "write the ticket and the width-vs-error plot (with the bounds), then print the report "
        "and the bound table.",
    )
    command.add_argument("--eps", type=_float, default=0.01, help="certified error (0.01)")
    command.add_argument("--seed", type=_seed, default=0, help="seed of target and random network")
    _add_parameters(command, DEMO_PARAMETERS)
    command.add_argument("--out", default="demo_output", help="folder for the plot and the ticket")
    command.set_defaults(run=_demo)
    return parser


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def _fail(text: str, status: int = 2) -> int:
    print(f"strong-lth: {' '.join(text.split())}", file=sys.stderr)
    return status


def _stdout_closed() -> int:
    """Standard output is a closed pipe: silence it (so that the interpreter's last flush does
    not fail too) and exit like a tool killed by SIGPIPE."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (captured in tests)
        pass
    return 141


def _run(args) -> int:
    """``args.run(args)``, every failure turned into an exit status and one line."""
    if getattr(args, "default_max_bytes", False) and args.max_bytes is None:
        from ._validation import DEFAULT_MAX_BYTES

        args.max_bytes = DEFAULT_MAX_BYTES
    try:
        status = args.run(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return status
    except BrokenPipeError:
        return _stdout_closed()
    except (StrongLTHError, OSError) as error:
        return _fail(str(error) or type(error).__name__)
    except MemoryError as error:
        size = str(error) or "an allocation failed and reported no size"
        return _fail(f"out of memory: {size}; use smaller sizes")
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except Exception as error:
        if os.environ.get("STRONG_LTH_DEBUG"):
            raise
        return _fail(
            f"internal error (a bug; please report it with the command line): "
            f"{type(error).__name__}: {error} (STRONG_LTH_DEBUG=1 shows the traceback)"
        )


def main(argv: list[str] | None = None) -> int:
    """Run the ``strong-lth`` command with ``argv`` (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 on success, 1 when ``certify`` finds the error above ``eps``, 2 on
        bad input (with one line ``strong-lth: ...`` on stderr), 130 when interrupted, 141 when
        standard output was closed early (every file was written before).
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help, --version
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            return _stdout_closed()
        return done.code if isinstance(done.code, int) else 0
    except BrokenPipeError:
        return _stdout_closed()
    except _UsageError as error:
        return _fail(str(error))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning):
            warnings.simplefilter("ignore", category)  # the libraries', not the user's
        status = _run(args)
    if status in (0, 1):  # a failure is its one line; a success states what it warned about
        shown = set()
        for warning in caught:
            text = " ".join(str(warning.message).split())
            if text not in shown:
                shown.add(text)
                print(f"strong-lth: warning: {text}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
