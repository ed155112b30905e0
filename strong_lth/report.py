"""What :func:`strong_lth.approximate` measured, as data and as a printable table."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .exceptions import InvalidParameterError
from .ticket import density, parameter_multiple

__all__ = ["ExactSummary", "LayerReport", "Report"]


@dataclass(frozen=True)
class LayerReport:
    """One layer pair of a ticket.

        ``budget_values_per_input`` is the n that the per-weight budget of docs/theory.md, section 5
        needs (every ``|Δ|`` entry at most ``η_i``): found by search when ``budget_exact``, else
        extrapolated from the measured decay of the largest per-weight error with n. When the search
        reaches ``max_values_per_input`` without meeting ``η_i``, it is None and ``budget_beyond``
        holds that cap: the budget is not reached within it (printed ``> cap``).

    ``paper_width`` is the hidden width its construction's paper proves sufficient for this layer
    (the declared ``bound`` of :class:`~strong_lth.constructions.Construction`) at ``C = 1``,
    ``δ = BOUND_DELTA`` of :mod:`strong_lth._approximate` and the error the ticket is certified
    for; ``hidden_width / paper_width`` is the constant ``C`` the ticket implies. None when that
    error is not below 1.
    """

    d_in: int
    d_out: int
    values_per_input: int
    hidden_width: int
    instances: int
    max_weight_error: float
    median_weight_error: float
    tau: float
    eta: float | None = None
    budget_values_per_input: int | None = None
    budget_exact: bool = False
    budget_beyond: int | None = None
    evaluated: tuple[tuple[int, float], ...] = ()
    paper_width: float | None = None


@dataclass(frozen=True)
class ExactSummary:
    """The exact worst case over the box ``[-box, box]^dim`` beside the two other figures, all in
    the ∞-norm: ``measured <= value <= upper_bound``, and ``value <= certified``, the certified
    bound over the ball of radius ``box sqrt(dim)`` that contains the box
    (:func:`~strong_lth.exact_error`, :func:`~strong_lth.certify` with ``box=``)."""

    box: float
    dim: int
    measured: float
    value: float
    upper_bound: float
    certified: float
    status: str
    seconds: float


@dataclass(frozen=True)
class Report:
    """Per-layer rows and totals of a ticket (docs/theory.md, sections 3-5).

    Parameter counts are weights (and biases) of the random network, of the ticket, and of the
    target; their ratios are the over-parameterisation Pensia et al. report (21x, 9.39x).
    ``measured`` is None when the worst-case search was skipped (``approximate(measure=False)``).
    ``certified`` is the least of ``bounds`` (each rigorous bound computed, by method name:
    :data:`strong_lth._certify.METHODS`), given by ``certificate_method``.
    ``distribution``, ``source_density`` and ``subset_size`` are the random network's weight
    distribution, the probability that a weight is present, and the size of every chosen subset
    (None: any); ``max_subset_size`` the cap on every subset's size in automatic mode (None:
    none); ``fewest`` whether automatic mode kept, per instance, a subset with the fewest values
    within its tolerance (False: any within it; a saved report without it predates it: True);
    ``solver`` is ``"-"`` for a construction that solves no SubsetSum instance.
    """

    construction: str
    solver: str
    seed: int
    eps: float | None
    radius: float
    layers: tuple[LayerReport, ...]
    random_params: int
    kept_params: int
    target_params: int
    certified: float
    measured: float | None
    seconds: dict
    assumptions: tuple[str, ...] = ()
    exact: ExactSummary | None = None
    certificate_method: str = "spectral"
    bounds: dict = dataclasses.field(default_factory=dict)
    distribution: str = "uniform"
    source_density: float = 1.0
    subset_size: int | None = None
    max_subset_size: int | None = None
    fewest: bool = True

    @property
    def random_multiple(self) -> float:
        """Random-network parameters per target parameter (see
        :func:`~strong_lth.ticket.parameter_multiple`)."""
        return parameter_multiple(self.random_params, self.target_params)

    @property
    def kept_multiple(self) -> float:
        """Kept parameters per target parameter (:func:`~strong_lth.ticket.parameter_multiple`)."""
        return parameter_multiple(self.kept_params, self.target_params)

    @property
    def density(self) -> float:
        """Kept fraction of the random network's weights (:func:`~strong_lth.ticket.density`)."""
        return density(self.kept_params, self.random_params)

    def with_exact(self, certificate) -> Report:
        """This report with the exact worst case of ``certificate`` (``certify(..., box=...)``),
        which its text then prints as the chain measured <= exact <= certified."""
        exact = certificate.exact
        if exact is None:
            raise InvalidParameterError(
                "`certificate` must hold the exact error (certify(..., box=...)); got one without."
            )
        summary = ExactSummary(
            box=exact.box,
            dim=len(exact.maximizer),
            measured=exact.measured,
            value=exact.value,
            upper_bound=exact.upper_bound,
            certified=certificate.box_certified,
            status=exact.status.name,
            seconds=exact.seconds,
        )
        return dataclasses.replace(self, exact=summary)

    def to_dict(self) -> dict:
        """Plain JSON-ready dict, with the derived ``random_multiple``, ``kept_multiple`` and
        ``density``."""
        ratios = {
            "random_multiple": self.random_multiple,
            "kept_multiple": self.kept_multiple,
            "density": self.density,
        }
        return dataclasses.asdict(self) | ratios

    def __str__(self) -> str:
        mode = f"eps = {self.eps:g} (certified)" if self.eps is not None else "fixed width"
        lines = [
            f"strong_lth ticket: {self.construction} construction, solver {self.solver}, "
            f"seed {self.seed}, {mode}, inputs in the ball of radius {self.radius:g}",
            f"random network: {self.distribution} weights, "
            + (
                "dense"
                if self.source_density == 1.0
                else f"each present with probability {self.source_density:g}"
            )
            + ("" if self.subset_size is None else f"; every subset has {self.subset_size} values")
            + (
                ""
                if self.max_subset_size is None
                else f"; every subset has at most {self.max_subset_size} values"
            )
            + ("" if self.fewest else "; any subset within tolerance (not the fewest values)"),
        ]
        if self.assumptions:
            lines.append("theorem assumptions do not hold: " + "; ".join(self.assumptions))
        header = (
            f"{'layer':>5} {'d_in':>6} {'d_out':>6} {'n':>5} {'width':>8} {'instances':>10} "
            f"{'max|Δ|':>10} {'median|Δ|':>10} {'η_i':>10} {'τ_i':>10} {'n budget':>9}"
        )
        lines += [header, "-" * len(header)]
        for i, row in enumerate(self.layers, start=1):
            eta = "-" if row.eta is None else f"{row.eta:.3e}"
            budget = "-"
            if row.budget_values_per_input is not None:
                budget = f"{row.budget_values_per_input}{'' if row.budget_exact else '~'}"
            elif row.budget_beyond is not None:
                budget = f"> {row.budget_beyond}"
            lines.append(
                f"{i:>5} {row.d_in:>6} {row.d_out:>6} {row.values_per_input:>5} "
                f"{row.hidden_width:>8} {row.instances:>10} {row.max_weight_error:>10.3e} "
                f"{row.median_weight_error:>10.3e} {eta:>10} {row.tau:>10.3e} {budget:>9}"
            )
        lines += [
            f"random parameters {self.random_params:,} ({self.random_multiple:.2f}x target), "
            f"kept {self.kept_params:,} ({self.kept_multiple:.2f}x target, density "
            f"{self.density:.2%} of the random network)",
            *self._paper_lines(),
            f"error sup_x ||F(x) - G(x)||_2: certified <= {self.certified:.4e} "
            f"({self.certificate_method}), "
            + ("not measured" if self.measured is None else f"measured {self.measured:.4e}"),
            *self._bound_lines(),
            *self._exact_lines(),
            "time: " + ", ".join(f"{k} {v:.2f} s" for k, v in self.seconds.items()),
        ]
        if any(r.budget_values_per_input is not None for r in self.layers):
            lines.append("n budget: n the per-weight budget η_i would need (~ = extrapolated)")
        if any(r.budget_beyond is not None for r in self.layers):
            lines.append("n budget > cap: not reached within max_values_per_input")
        return "\n".join(lines)

    def _paper_lines(self) -> list[str]:
        if any(r.paper_width is None for r in self.layers):
            return []
        bounds = "/".join(f"{r.paper_width:.4g}" for r in self.layers)
        implied = "/".join(f"{r.hidden_width / r.paper_width:.3g}" for r in self.layers)
        return [f"paper's width bound per layer at C = 1: {bounds} (implied C {implied})"]

    def _bound_lines(self) -> list[str]:
        if len(self.bounds) < 2:
            return []
        return ["rigorous bounds: " + ", ".join(f"{k} {v:.4e}" for k, v in self.bounds.items())]

    def _exact_lines(self) -> list[str]:
        e = self.exact
        if e is None:
            return []
        return [
            f"error max_x ||F(x) - G(x)||_inf on the box [-{e.box:g}, {e.box:g}]^{e.dim}: measured "
            f"{e.measured:.4e} <= exact {e.value:.4e} (proven <= {e.upper_bound:.4e}, "
            f"{e.status}, {e.seconds:.2f} s) <= certified {e.certified:.4e} (ball of radius "
            f"{e.box * e.dim**0.5:.4g})"
        ]
