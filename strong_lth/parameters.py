"""The one declaration of the parameters of :func:`strong_lth.approximate`.

Every option of ``approximate`` is a field here, with its default and its help text in the
field's metadata (in the style of open_lth's hyperparameter dataclasses): ``approximate``
validates its keywords by building one, the ``strong-lth approximate`` command builds its flags,
defaults and help from the fields, and sweeps (:mod:`strong_lth.experiments.kinds`) read their
keys and defaults from them. A default is written once, here.

Field metadata:

- ``help``: one line of help (the CLI appends the choices and the default);
- ``choices``: ``"module:attribute"`` of the registry whose names the field accepts, imported
  only when needed (``strong-lth --help`` must not import NumPy);
- ``cli``: the argparse type name (``"float"``, ``"int"``, ``"ints"``, ``"seed"``,
  ``"names"``, ``"str"``, ``"flag"``), or None when the field is no flag (the reason says why);
- ``name``: the flag and sweep key when it differs from the field name (``rng`` is ``seed``);
- ``metavar``: the flag's metavar when its kind's (``NAME`` for ``"str"``) does not fit;
- ``sweep``: the field is a key of a sweep's ``approximate`` runs;
- ``per_construction``: only constructions that list the field in their ``options``
  (:class:`strong_lth.constructions.Construction`) take a value other than the default;
- ``reason``: why a field is not a flag or a sweep key.

This module imports nothing heavy; the registries are imported by the validation of an
instance.
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["DEFAULTS", "ApproximateParameters", "choices", "public_name"]

MAX_BYTES = 2**32
"""Default of ``approximate(max_bytes=)``: 4 GiB."""


def _meta(help_text: str, *, cli: str | None, sweep: bool, **more) -> dict:
    """A field's metadata (module docstring)."""
    return {"help": help_text, "cli": cli, "sweep": sweep, **more}


@dataclass(frozen=True)
class ApproximateParameters:
    """The options of :func:`strong_lth.approximate`, checked and made canonical.

    Building one checks every option that does not depend on the target (those that do, the
    least ``eps`` and the number of ``values_per_input``, are checked by ``approximate``);
    fields come out canonical: the distribution an object, ``rng`` the recorded integer seed.

    Raises
    ------
    InvalidParameterError
        Naming the field, what was expected and what was given; also for an option the
        construction does not support (:attr:`strong_lth.constructions.Construction.options`).

    Examples
    --------
    >>> p = ApproximateParameters(eps=0.1, rng=3)
    >>> p.construction, p.max_values_per_input, p.rng, p.distribution.name
    ('pensia', 512, 3, 'uniform')
    """

    eps: float | None = field(
        default=None,
        metadata=_meta(
            "certified error to reach (automatic mode)", cli="float", sweep=True, group="mode"
        ),
    )
    values_per_input: Any = field(
        default=None,
        metadata=_meta(
            "values per input n, one for all layers or one per layer (fixed mode)",
            cli="ints",
            sweep=True,
            group="mode",
        ),
    )
    construction: str = field(
        default="pensia",
        metadata=_meta(
            "how the random network is pruned",
            cli="str",
            sweep=True,
            choices="strong_lth.constructions:CONSTRUCTIONS",
        ),
    )
    solver: str = field(
        default="mitm",
        metadata=_meta(
            "SubsetSum method of the subset constructions",
            cli="str",
            sweep=True,
            choices="strong_lth.subset_sum:METHODS",
        ),
    )
    radius: float = field(default=1.0, metadata=_meta("input ball radius", cli="float", sweep=True))
    rng: Any = field(
        default=None,
        metadata=_meta(
            "seed of the random network",
            cli="seed",
            sweep=True,
            name="seed",
            cli_default=0,  # a command line is reproducible by default; the library draws a seed
        ),
    )
    distribution: Any = field(
        default="uniform",
        metadata=_meta(
            "weights of the random network",
            cli="str",
            sweep=True,
            choices="strong_lth.distributions:NAMES",
        ),
    )
    max_values_per_input: int = field(
        default=512,
        metadata=_meta("largest n per layer of the ticket (both modes)", cli="int", sweep=True),
    )
    max_bytes: int = field(
        default=MAX_BYTES,
        metadata=_meta(
            "refuse any layer solve estimated above this many bytes",
            cli=None,
            sweep=False,
            reason="the CLI's --max-bytes limits the target it reads; a sweep its runs' memory",
        ),
    )
    certificate: Any = field(
        default=None,
        metadata=_meta(
            "rigorous bounds that certify the ticket (default: those cheap at the target's size)",
            cli="names",
            sweep=False,
            choices="strong_lth._certify:METHODS",
            reason="a sweep records every bound the report holds",
        ),
    )
    measure: bool = field(
        default=True,
        metadata=_meta(
            "search for the measured worst case",
            cli="flag",
            sweep=False,
            reason="a sweep records the measured error",
        ),
    )
    progress: bool = field(
        default=False,
        metadata=_meta(
            "show a progress bar on stderr",
            cli=None,
            sweep=False,
            reason="the CLI shows it on a terminal unless --quiet; a sweep has its own",
        ),
    )
    subset_size: int | None = field(
        default=None,
        metadata=_meta(
            "exactly this many values in every chosen subset (Natale et al. 2024); default any",
            cli="int",
            sweep=True,
            per_construction=True,
        ),
    )
    max_subset_size: int | None = field(
        default=None,
        metadata=_meta(
            "automatic mode: at most this many values in every chosen subset (the fewest within "
            "the instance tolerance); default no cap",
            cli="int",
            sweep=True,
            per_construction=True,
        ),
    )
    fewest: bool = field(
        default=True,
        metadata=_meta(
            "keep, per instance, a subset with the fewest values within its tolerance "
            "(automatic mode; any subset within it is faster on long pools)",
            cli="flag",
            sweep=True,
            per_construction=True,
        ),
    )
    source_density: float = field(
        default=1.0,
        metadata=_meta(
            "probability that a random weight is present: an Erdős-Rényi sparse random network "
            "(Gadhikar et al. 2023)",
            cli="float",
            sweep=True,
            per_construction=True,
        ),
    )
    scheduler: Any = field(
        default=None,
        metadata=_meta(
            "Dask scheduler address (tcp://host:port) that solves each layer's row shards; same "
            "ticket bit for bit",
            cli="str",
            sweep=False,
            per_construction=True,
            metavar="ADDRESS",
            reason="sweeps have their own executor (run_sweep(scheduler=)); not stored in the "
            "ticket, which does not depend on it",
        ),
    )

    def __post_init__(self) -> None:
        from ._cluster import check_scheduler
        from ._validation import check_choice, check_int, check_real, resolve_seed
        from .distributions import get_distribution
        from .exceptions import InvalidParameterError

        if (self.eps is None) == (self.values_per_input is None):
            raise InvalidParameterError(
                "exactly one of `eps` (automatic mode) and `values_per_input` (fixed mode) must "
                f"be given; got eps={self.eps!r}, values_per_input={self.values_per_input!r}."
            )
        construction = check_choice("construction", self.construction, choices("construction"))
        checked = {
            "construction": construction,
            "solver": check_choice("solver", self.solver, choices("solver")),
            "radius": check_real("radius", self.radius, low=0.0, low_open=True),
            "max_values_per_input": check_int(
                "max_values_per_input", self.max_values_per_input, low=1
            ),
            "max_bytes": check_int("max_bytes", self.max_bytes, low=1),
            "distribution": get_distribution(self.distribution),
            "source_density": check_real(
                "source_density", self.source_density, low=0.0, high=1.0, low_open=True
            ),
        }
        if self.subset_size is not None:
            checked["subset_size"] = check_int("subset_size", self.subset_size, low=1)
        if self.max_subset_size is not None:
            checked["max_subset_size"] = check_int("max_subset_size", self.max_subset_size, low=1)
            if self.eps is None:
                raise InvalidParameterError(
                    "`max_subset_size` must be None in fixed mode (it caps the subsets automatic "
                    "mode keeps within its instance tolerance; fixed mode keeps each instance's "
                    f"optimum); got max_subset_size={self.max_subset_size} without eps."
                )
            if self.subset_size is not None:
                raise InvalidParameterError(
                    "`max_subset_size` must be None when `subset_size` fixes every subset's size; "
                    f"got max_subset_size={self.max_subset_size} with "
                    f"subset_size={self.subset_size}."
                )
        for name in ("measure", "progress", "fewest"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidParameterError(
                    f"`{name}` must be True or False; got {getattr(self, name)!r}."
                )
        if not self.fewest:
            _check_any_subset(self)
        if self.scheduler is not None:
            check_scheduler(self.scheduler)  # its form; approximate connects to it
        declared = _registry("construction")[construction]
        for item in dataclasses.fields(self):
            name = item.name
            used = getattr(self, name) != item.default
            if item.metadata.get("per_construction") and used and name not in declared.options:
                takers = [c for c, d in _registry("construction").items() if name in d.options]
                raise InvalidParameterError(
                    f"`{name}` is supported by construction(s) {takers}; got {name}="
                    f"{getattr(self, name)!r} with construction {construction!r}."
                )
        checked["rng"] = resolve_seed(self.rng)
        for name, value in checked.items():
            object.__setattr__(self, name, value)


def _check_any_subset(options: ApproximateParameters) -> None:
    """Refuse ``fewest=False`` beside an option that needs the fewest values or makes the
    choice moot: fixed mode (each instance's optimum), ``max_subset_size`` (a cap on the fewest
    values), ``subset_size`` (every subset's size fixed)."""
    from .exceptions import InvalidParameterError

    if options.eps is None:
        raise InvalidParameterError(
            "`fewest` must be True in fixed mode (it chooses among the subsets automatic mode "
            "keeps within its instance tolerance; fixed mode keeps each instance's optimum); "
            "got fewest=False without eps."
        )
    for name, why in (
        ("max_subset_size", "the cap bounds the fewest values"),
        ("subset_size", "it fixes every subset's size"),
    ):
        if getattr(options, name) is not None:
            raise InvalidParameterError(
                f"`fewest` must be True with `{name}` ({why}); got fewest=False with "
                f"{name}={getattr(options, name)}."
            )


DEFAULTS = MappingProxyType({f.name: f.default for f in dataclasses.fields(ApproximateParameters)})
"""Field name -> default: the defaults of :func:`strong_lth.approximate` (its signature reads
them from here)."""


def _registry(name: str):
    module, attribute = (
        ApproximateParameters.__dataclass_fields__[name].metadata["choices"].split(":")
    )
    return getattr(importlib.import_module(module), attribute)


def choices(name: str) -> tuple[str, ...]:
    """The names field ``name`` accepts, read from its registry (imported here).

    Examples
    --------
    >>> "pensia" in choices("construction"), "hyperbolic" in choices("distribution")
    (True, True)
    """
    return tuple(_registry(name))


def public_name(item: dataclasses.Field) -> str:
    """The flag (with dashes) and sweep key of a field: its ``name`` metadata, else its name."""
    return item.metadata.get("name", item.name)
