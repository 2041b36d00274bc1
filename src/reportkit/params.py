"""Batch parameters: the YAML file that drives ``reportkit batch``.

A params file names the source mapping, the period, the ``as_of`` date and the
policies (commission, quota rule, performance watch). It is validated strictly
before any kernel starts: unknown keys are refused with a did-you-mean, IDs and
labels stay strings, and every error names the file, the key and the bad value.

Example (``params/demo.yaml``)::

    name: Demo Co
    source: sources/demo.yaml      # relative to this file
    period: FY2025-Q4
    as_of: 2025-12-31
    commission:
      rate: "0.05"
      quota_bonus: {attainment_at_least: 1.0, amount: "2000.00", award: cash}
    performance:
      miss_below: 0.9
      watch_after: 2
      termination_review_after: 3
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ParamsError, did_you_mean

__all__ = [
    "BatchParams",
    "CommissionPolicy",
    "QuotaBonus",
    "QuotaRule",
    "PerformancePolicy",
    "load_params",
    "format_validation_error",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _money(v: Any) -> Any:
    """Money in YAML: strings or ints are exact; floats are refused (0.1 is not exact)."""
    if isinstance(v, bool):
        raise ValueError(f"{v!r} is not an amount")
    if isinstance(v, float):
        raise ValueError(f"{v!r} is a float; write money as a quoted string, e.g. \"{v}\"")
    return v


class QuotaBonus(_Strict):
    """A one-off bonus for reaching an attainment (fraction, 1.0 == 100 %) in the period."""

    attainment_at_least: float = Field(1.0, ge=0, description="attainment fraction that earns the bonus")
    amount: Decimal = Field(Decimal("0"), ge=0, description="bonus amount in the report currency")
    award: Literal["cash", "deferred", "merchandise"] = "cash"

    _m = field_validator("amount", mode="before")(_money)


class CommissionPolicy(_Strict):
    """Flat-rate commission on credited revenue plus a bonus for beating quota.

    The full plan engine (tiers, accelerators, caps, draws, clawbacks) is
    configured by ``plan:`` instead; see ``params/plans/``.
    """

    rate: Decimal = Field(Decimal("0.05"), ge=0, le=1, description="commission rate as a fraction of revenue")
    quota_bonus: QuotaBonus | None = None

    @field_validator("rate", mode="before")
    @classmethod
    def _rate(cls, v: Any) -> Any:
        if isinstance(v, bool):
            raise ValueError(f"{v!r} is not a rate")
        return str(v) if isinstance(v, float) else v


class QuotaRule(_Strict):
    """Quota to use when the source has no quota table (Maven, Superstore).

    ``kind: fixed`` gives every account manager ``amount`` per ``per`` period.
    ``kind: prior_year_growth`` sets each quarter's quota to the same quarter of the
    previous fiscal year times ``1 + growth``, falling back to ``amount`` when there
    is no history.
    """

    kind: Literal["fixed", "prior_year_growth"] = "fixed"
    amount: Decimal = Field(..., ge=0, description="quota amount per period, report currency")
    per: Literal["quarter", "year"] = "quarter"
    growth: Decimal = Decimal("0")

    _m = field_validator("amount", mode="before")(_money)

    @field_validator("growth", mode="before")
    @classmethod
    def _growth(cls, v: Any) -> Any:
        return str(v) if isinstance(v, float) else v


class PerformancePolicy(_Strict):
    """Performance-watch policy.

    A quarter with attainment below ``miss_below`` is a *miss*. ``watch_after``
    consecutive misses put the account manager on performance watch;
    ``termination_review_after`` consecutive misses trigger a termination review.
    A quarter at or above ``miss_below`` lifts the watch (the count restarts).
    Quarters with undefined attainment (no quota) neither miss nor lift.
    """

    miss_below: float = Field(0.9, ge=0, description="attainment fraction below which a quarter is a miss")
    watch_after: int = Field(2, ge=1)
    termination_review_after: int = Field(3, ge=1)

    @model_validator(mode="after")
    def _order(self) -> "PerformancePolicy":
        if self.termination_review_after < self.watch_after:
            raise ValueError(
                f"termination_review_after ({self.termination_review_after}) must be >= "
                f"watch_after ({self.watch_after})"
            )
        return self


class BatchParams(_Strict):
    """Everything one batch run needs besides the data itself."""

    name: str = Field("reportkit batch", description="title shown on the index page")
    source: Path = Field(..., description="source mapping YAML, relative to the params file")
    period: str = Field(..., description="report period label, e.g. FY2020-Q1")
    as_of: datetime.date = Field(..., description="date the report is as of (never today())")
    reports: tuple[Literal["account_manager", "team"], ...] = ("account_manager", "team")
    commission: CommissionPolicy = CommissionPolicy()
    quota_rule: QuotaRule | None = None
    performance: PerformancePolicy = PerformancePolicy()
    account_managers: tuple[str, ...] | None = Field(
        None, description="restrict the batch to these account manager ids"
    )
    timeout_s: float = Field(600, gt=0, description="per-report execution timeout in seconds")
    base_dir: Path | None = Field(None, exclude=True, description="folder of the params file (set by the loader)")

    @field_validator("period", mode="before")
    @classmethod
    def _period_str(cls, v: Any) -> Any:
        if not isinstance(v, str):
            raise ValueError(f"{v!r} must be a period label string such as FY2020-Q1")
        return v

    @field_validator("account_managers", mode="before")
    @classmethod
    def _ids_as_str(cls, v: Any) -> Any:
        if v is None:
            return v
        if isinstance(v, (str, int)):
            v = [v]
        out = []
        for item in v:
            if not isinstance(item, str):
                raise ValueError(
                    f"account manager id {item!r} must be quoted in YAML (ids are text: '00731' is not 731)"
                )
            out.append(item)
        return tuple(out)

    def resolve(self, path: Path | str) -> Path:
        """Resolve ``path`` relative to the params file's folder."""
        p = Path(path)
        if p.is_absolute() or self.base_dir is None:
            return p
        return (self.base_dir / p).resolve()


def format_validation_error(exc: ValidationError, file: str, model: type[BaseModel]) -> str:
    """One line per problem: ``file: key 'a.b': message (got value); did you mean ...``."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        if err["type"] == "extra_forbidden":
            parent = model
            for part in err["loc"][:-1]:
                field = parent.model_fields.get(str(part)) if hasattr(parent, "model_fields") else None
                ann = getattr(field, "annotation", None)
                parent = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
                if parent is None:
                    break
            allowed = list(parent.model_fields) if parent is not None else []
            hint = did_you_mean(str(err["loc"][-1]), allowed)
            lines.append(
                f"{file}: key {loc!r} is not allowed{hint}"
                + (f" (allowed: {', '.join(allowed)})" if allowed and not hint else "")
            )
        else:
            got = err.get("input")
            lines.append(f"{file}: key {loc!r}: {err['msg']} (got {got!r})")
    return "\n".join(lines)


def load_params(path: str | Path, overrides: dict[str, Any] | None = None) -> BatchParams:
    """Read and validate a params YAML file.

    Parameters
    ----------
    path : str or Path
        The params file. An empty file means all defaults (and then fails on the
        required ``source``, ``period`` and ``as_of`` with a message saying so).
    overrides : dict, optional
        Top-level keys to replace (from the command line); values are kept as given
        (strings stay strings).

    Returns
    -------
    BatchParams

    Raises
    ------
    ParamsError
        The file is missing, is not YAML, is not a mapping, or fails validation;
        the message names the file, each bad key and its value.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParamsError(f"params file {str(path)!r} does not exist", hint="check the path") from None
    except UnicodeDecodeError as exc:
        raise ParamsError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML: {exc}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: expected a mapping of keys to values, got {type(raw).__name__}")
    raw = dict(raw)
    if overrides:
        raw.update(overrides)
    raw["base_dir"] = path.resolve().parent
    try:
        return BatchParams.model_validate(raw)
    except ValidationError as exc:
        raise ParamsError(format_validation_error(exc, str(path), BatchParams)) from None
