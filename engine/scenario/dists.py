"""Distribution tables for uncertain inputs.

An uncertain input in a scenario file is either a plain number (fixed) or a table with a ``dist``
key, e.g. ``{ dist = "beta", mean = 0.7, concentration = 20 }``. Every distribution is sampled
through its quantile function from a standard-normal score (correlated through the Gaussian copula
when the input is in ``[correlations]``), which is what makes the copula and common random numbers
work (engine/inputs/distributions.py).

Each class states its parameters with units inherited from the field it is used in.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError, model_validator
from pydantic_core import PydanticCustomError


class _Dist(BaseModel):
    # Parameters must be finite numbers (TOML allows nan and inf); truncnormal's bounds may be infinite.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def mean(self) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def is_random(self) -> bool:
        return True


def _check_low_mode_high(low: float, mode: float, high: float) -> None:
    if not (low <= mode <= high and low < high):
        raise ValueError(f"need low <= mode <= high and low < high, got {low}, {mode}, {high}")


class Fixed(_Dist):
    """A known value: ``{ dist = "fixed", value = x }`` or just ``x``."""

    dist: Literal["fixed"] = "fixed"
    value: float

    def mean(self) -> float:
        return self.value

    @property
    def is_random(self) -> bool:
        return False

    def support(self) -> tuple[float, float]:
        return (self.value, self.value)


class Normal(_Dist):
    """Normal(mean, sd); sd > 0."""

    dist: Literal["normal"]
    mean_: float = Field(alias="mean")
    sd: float = Field(gt=0)

    def mean(self) -> float:
        return self.mean_

    def support(self) -> tuple[float, float]:
        return (-math.inf, math.inf)


class LogNormal(_Dist):
    """LogNormal with the given median and log-scale sd: X = median * exp(sigma_log * Z)."""

    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    sigma_log: float = Field(gt=0)

    def mean(self) -> float:
        return self.median * math.exp(0.5 * self.sigma_log**2)

    def support(self) -> tuple[float, float]:
        return (math.ulp(0.0), math.inf)  # open at 0: strictly positive


class TruncNormal(_Dist):
    """Normal(mean, sd) truncated to [low, high]; low < high, sd > 0."""

    dist: Literal["truncnormal"]
    mean_: float = Field(alias="mean")
    sd: float = Field(gt=0)
    low: float = Field(default=-math.inf, allow_inf_nan=True)
    high: float = Field(default=math.inf, allow_inf_nan=True)

    @model_validator(mode="after")
    def _order(self) -> TruncNormal:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self

    def mean(self) -> float:
        from scipy.stats import truncnorm

        a, b = (self.low - self.mean_) / self.sd, (self.high - self.mean_) / self.sd
        return float(truncnorm.mean(a, b, loc=self.mean_, scale=self.sd))

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)


class Beta(_Dist):
    """Beta with mean in (0, 1) and concentration a + b > 0 (a = mean * concentration)."""

    dist: Literal["beta"]
    mean_: float = Field(alias="mean", gt=0, lt=1)
    concentration: float = Field(gt=0)

    def mean(self) -> float:
        return self.mean_

    @property
    def ab(self) -> tuple[float, float]:
        return self.mean_ * self.concentration, (1 - self.mean_) * self.concentration

    def support(self) -> tuple[float, float]:
        return (0.0, 1.0)


class Uniform(_Dist):
    """Uniform on [low, high]; low < high."""

    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> Uniform:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self

    def mean(self) -> float:
        return 0.5 * (self.low + self.high)

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)


class Triangular(_Dist):
    """Triangular on [low, high] with the given mode; low <= mode <= high, low < high."""

    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> Triangular:
        _check_low_mode_high(self.low, self.mode, self.high)
        return self

    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)


class Pert(_Dist):
    """PERT on [low, high] with the given mode and shape lambda (4 by default): a scaled Beta."""

    dist: Literal["pert"]
    low: float
    mode: float
    high: float
    shape: float = Field(default=4.0, gt=0)

    @model_validator(mode="after")
    def _order(self) -> Pert:
        _check_low_mode_high(self.low, self.mode, self.high)
        return self

    @property
    def ab(self) -> tuple[float, float]:
        r = self.high - self.low
        return (1 + self.shape * (self.mode - self.low) / r, 1 + self.shape * (self.high - self.mode) / r)

    def mean(self) -> float:
        return (self.low + self.shape * self.mode + self.high) / (self.shape + 2)

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)


class Exponential(_Dist):
    """loc + Exponential(mean): e.g. a launch month 12 + Exp(mean 12)."""

    dist: Literal["exponential"]
    mean_: float = Field(alias="mean", gt=0)
    loc: float = 0.0

    def mean(self) -> float:
        return self.loc + self.mean_

    def support(self) -> tuple[float, float]:
        return (self.loc, math.inf)


class Discrete(_Dist):
    """Discrete / empirical: ``values`` with optional ``weights`` (equal when omitted)."""

    dist: Literal["discrete"]
    values: list[float] = Field(min_length=1)
    weights: list[float] | None = None

    @model_validator(mode="after")
    def _weights(self) -> Discrete:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(f"weights has {len(self.weights)} entries but values has {len(self.values)}")
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("weights must be >= 0 with a positive sum")
        return self

    @property
    def probs(self) -> list[float]:
        w = self.weights or [1.0] * len(self.values)
        s = sum(w)
        return [x / s for x in w]

    def mean(self) -> float:
        return sum(v * p for v, p in zip(self.values, self.probs))

    def support(self) -> tuple[float, float]:
        return (min(self.values), max(self.values))


class Posterior(_Dist):
    """Draws of ``variable`` from a fitted posterior file (netCDF, group ``posterior``).

    ``file`` is relative to the scenario file that names it; ``group`` is ``posterior`` (default) or
    ``posterior_predictive`` (e.g. a new fleet's utilization). ``select`` picks one element of a
    variable with extra dims, e.g. ``{ generation = "H100" }``. All inputs that name the same file
    share one posterior sample per path (so the joint correlation is kept).
    """

    dist: Literal["posterior"]
    file: str
    variable: str
    group: Literal["posterior", "posterior_predictive"] = "posterior"
    select: dict[str, str | int] = Field(default_factory=dict)

    def mean(self) -> float:  # resolved after loading the file (engine.inputs.posterior)
        raise RuntimeError("posterior mean is known only after the file is loaded")

    def support(self) -> tuple[float, float]:
        return (-math.inf, math.inf)


DIST_CLASSES: dict[str, type[_Dist]] = {
    "fixed": Fixed,
    "normal": Normal,
    "lognormal": LogNormal,
    "truncnormal": TruncNormal,
    "beta": Beta,
    "uniform": Uniform,
    "triangular": Triangular,
    "pert": Pert,
    "exponential": Exponential,
    "discrete": Discrete,
    "posterior": Posterior,
}

Dist = Fixed | Normal | LogNormal | TruncNormal | Beta | Uniform | Triangular | Pert | Exponential | Discrete | Posterior


def parse_dist(value: Any) -> Dist:
    """A number or a ``{dist = ...}`` table -> a distribution object, with one clear message on error."""
    if isinstance(value, _Dist):
        return value  # type: ignore[return-value]
    if isinstance(value, bool):
        raise PydanticCustomError("dist", "expected a number or a distribution table, got a boolean")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise PydanticCustomError("dist", "expected a finite number")
        return Fixed(value=float(value))
    # Messages are formatted here: pydantic-core's templates only substitute plain {name} from a context.
    if not isinstance(value, dict):
        raise PydanticCustomError(
            "dist", f"expected a number or a table like {{ dist = \"normal\", mean = ..., sd = ... }}, got {value!r}"
        )
    kind = value.get("dist")
    if not isinstance(kind, str) or kind not in DIST_CLASSES:
        allowed = ", ".join(DIST_CLASSES)
        what = "no dist key" if kind is None else f"unknown distribution {kind!r}"
        raise PydanticCustomError("dist", f"{what}; allowed: dist = one of {allowed}")
    try:
        return DIST_CLASSES[kind].model_validate(value)  # type: ignore[return-value]
    except ValidationError as exc:
        err = exc.errors()[0]
        sub = ".".join(str(p) for p in err["loc"]) or "parameters"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            fields = ", ".join(_param_names(DIST_CLASSES[kind]))
            msg = f"unknown parameter; {kind} takes: {fields}"
        elif err["type"] == "missing":
            fields = ", ".join(_param_names(DIST_CLASSES[kind]))
            msg = f"missing parameter; {kind} takes: {fields}"
        raise PydanticCustomError("dist", f"{kind} distribution, {sub}: {msg}") from None


def _param_names(cls: type[_Dist]) -> list[str]:
    return [f.alias or n for n, f in cls.model_fields.items()]


def dist_param_doc() -> list[tuple[str, str, str]]:
    """(name, parameters, description) for each distribution: used by the docs generator."""
    rows = []
    for name, cls in DIST_CLASSES.items():
        params = ", ".join(p for p in _param_names(cls) if p != "dist")
        rows.append((name, params, (cls.__doc__ or "").strip().splitlines()[0]))
    return rows


Uncertain = Annotated[Dist, PlainValidator(parse_dist)]
