"""Risk limits and the verdicts of the risk stage."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from types import MappingProxyType
from typing import Literal, Mapping, Optional

from pydantic import Field, model_validator

from src.models.base import StrictModel


class RiskLimits(StrictModel):
    """The nine limits every target allocation is checked against (all fractions)."""

    max_single_strategy: float = Field(0.4, gt=0.0, le=1.0, description="Largest weight of one unit.")
    min_single_strategy: float = Field(
        0.05, ge=0.0, lt=1.0, description="Smallest weight of a unit that is held at all."
    )
    max_correlation_pair: float = Field(
        0.7, ge=-1.0, le=1.0, description="Largest correlation allowed between two held units."
    )
    max_avg_correlation: float = Field(
        0.5, ge=-1.0, le=1.0, description="Largest weight-averaged pairwise correlation."
    )
    min_strategy_sharpe: float = Field(
        0.0, description="Units whose annualised Sharpe over the risk lookback is lower are dropped."
    )
    max_strategy_drawdown: float = Field(
        0.3, gt=0.0, le=1.0, description="Units whose max drawdown over the lookback is deeper are dropped."
    )
    max_portfolio_leverage: float = Field(
        1.0, gt=0.0, description="Largest gross exposure (sum of |weights|)."
    )
    min_portfolio_sharpe: float = Field(
        0.5, description="Smallest annualised Sharpe of the target portfolio over the lookback."
    )
    max_portfolio_drawdown: float = Field(
        0.25, gt=0.0, le=1.0, description="Deepest max drawdown of the target portfolio over the lookback."
    )

    @model_validator(mode="after")
    def _bounds_ordered(self) -> "RiskLimits":
        if self.min_single_strategy > self.max_single_strategy:
            raise ValueError(
                f"min_single_strategy={self.min_single_strategy} exceeds "
                f"max_single_strategy={self.max_single_strategy}"
            )
        return self


# A read-only mapping with exactly the nine keys: it can be passed wherever a dict is expected
# (``PortfolioConfig(risk_limits=DEFAULT_RISK_LIMITS)``, ``{**DEFAULT_RISK_LIMITS, ...}``) and
# no caller can mutate the shared default.
DEFAULT_RISK_LIMITS: Mapping[str, float] = MappingProxyType(RiskLimits().model_dump())

# Limits that cannot bind (caps at 1, correlations at 1, trailing figures out of reach), read-only:
# for benchmarks and policy comparisons, which measure the policy and not the limits.
NON_BINDING_RISK_LIMITS: Mapping[str, float] = MappingProxyType(RiskLimits(
    max_single_strategy=1.0, min_single_strategy=0.0, max_correlation_pair=1.0, max_avg_correlation=1.0,
    min_strategy_sharpe=-1e9, max_strategy_drawdown=1.0, max_portfolio_leverage=1.0, min_portfolio_sharpe=-1e9,
    max_portfolio_drawdown=1.0).model_dump())


class RiskPolicy(StrictModel):
    """What a failed limit does: the settings of the risk stage beside the nine limits.

    Defaults are chosen from the decision-quality backtests (README, "Risk limits"): they
    protect without switching units in and out.
    """

    on_drop: Literal["redistribute", "cash"] = Field(
        "redistribute",
        description="Where a dropped unit's weight goes: 'redistribute' to the surviving units in "
        "proportion to their targets, within max_single_strategy (the rest to cash); 'cash' keeps it "
        "in cash (the stage then only ever shrinks exposure).",
    )
    unit_limits_for_assets: bool = Field(
        False,
        description="Apply the per-unit trailing limits (min_strategy_sharpe, max_strategy_drawdown, "
        "max_correlation_pair) to plain assets too; by default they apply to strategy sleeves only "
        "(dropping an index fund for a bad trailing year is market timing, not risk control).",
    )
    portfolio_limit_action: Literal["warn", "block", "block_if_worse"] = Field(
        "warn",
        description="What a breached portfolio-level limit (max_avg_correlation, min_portfolio_sharpe, "
        "max_portfolio_drawdown) does: 'warn' records the breach and trades to the targets; 'block' "
        "holds positions; 'block_if_worse' blocks only when the targets measure worse on that figure "
        "than the weights held now (cash counts as a zero return).",
    )
    readmit_sharpe_margin: float = Field(
        0.5, ge=0.0,
        description="A unit dropped for min_strategy_sharpe is readmitted only once its Sharpe is at "
        "least min_strategy_sharpe + this margin (annualised Sharpe units).",
    )
    readmit_drawdown_margin: float = Field(
        0.10, ge=0.0,
        description="A unit dropped for max_strategy_drawdown is readmitted only once its drawdown is at "
        "most max_strategy_drawdown - this margin (fraction).",
    )
    readmit_correlation_margin: float = Field(
        0.20, ge=0.0,
        description="A unit dropped for max_correlation_pair is readmitted only once its correlation "
        "with every held unit is at most max_correlation_pair - this margin.",
    )
    min_days_out: int = Field(
        63, ge=0,
        description="Calendar days a dropped unit stays out at least, whatever its figures do.",
    )


class RiskExclusion(StrictModel):
    """A unit the risk stage holds out, remembered between decisions (hysteresis)."""

    unit: str = Field(description="The unit held out.")
    limit: str = Field(description="The limit that dropped it (a field of RiskLimits).")
    reason_code: "ReasonCode" = Field(description="Machine-readable reason.")
    since: datetime = Field(description="When it was dropped (event clock).")
    value: Optional[float] = Field(None, description="The figure that dropped it.")


class ReasonCode(str, Enum):
    """Why a risk verdict or an exclusion was issued."""

    OK = "OK"
    INSUFFICIENT_HISTORY = "INSUFFICIENT_HISTORY"
    ENGINE_OUTPUT_INVALID = "ENGINE_OUTPUT_INVALID"
    STRATEGY_SHARPE_BELOW_MIN = "STRATEGY_SHARPE_BELOW_MIN"
    STRATEGY_DRAWDOWN_ABOVE_MAX = "STRATEGY_DRAWDOWN_ABOVE_MAX"
    CORRELATION_PAIR_ABOVE_MAX = "CORRELATION_PAIR_ABOVE_MAX"
    AVG_CORRELATION_ABOVE_MAX = "AVG_CORRELATION_ABOVE_MAX"
    WEIGHT_ABOVE_MAX = "WEIGHT_ABOVE_MAX"
    WEIGHT_BELOW_MIN = "WEIGHT_BELOW_MIN"
    BOUNDS_INFEASIBLE = "BOUNDS_INFEASIBLE"
    LEVERAGE_ABOVE_MAX = "LEVERAGE_ABOVE_MAX"
    PORTFOLIO_SHARPE_BELOW_MIN = "PORTFOLIO_SHARPE_BELOW_MIN"
    PORTFOLIO_DRAWDOWN_ABOVE_MAX = "PORTFOLIO_DRAWDOWN_ABOVE_MAX"
    NOT_EVALUATED = "NOT_EVALUATED"
    HELD_OUT = "HELD_OUT"
    READMITTED = "READMITTED"


class RiskAction(str, Enum):
    """What the risk stage did about one limit."""

    PASS = "pass"
    SHRINK = "shrink"
    DROP = "drop"
    BLOCK = "block"
    WARN = "warn"


class RiskVerdict(StrictModel):
    """The outcome of one limit."""

    limit: str = Field(description="Name of the limit, a field of RiskLimits.")
    value: Optional[float] = Field(
        description="The measured value (worst unit for per-unit limits); None if not measurable."
    )
    threshold: float = Field(description="The limit's configured value.")
    action: RiskAction = Field(description="pass, shrink, drop, block or warn.")
    reason_code: ReasonCode = Field(description="Machine-readable reason.")
    units: list[str] = Field(default_factory=list, description="Units the action applied to.")
    message: str = Field(description="Human-readable explanation.")


class RiskStatus(str, Enum):
    """Overall outcome of the risk stage."""

    APPROVED = "approved"
    ADJUSTED = "adjusted"
    BLOCKED = "blocked"


class RiskDecision(StrictModel):
    """The risk stage's answer: final weights (empty when blocked) and every verdict."""

    status: RiskStatus = Field(description="approved (unchanged), adjusted, or blocked.")
    weights: dict[str, float] = Field(description="Final target weights; empty when blocked.")
    verdicts: list[RiskVerdict] = Field(description="One verdict per limit, in evaluation order.")
    block_reason: Optional[str] = Field(None, description="Which limit blocked, and why.")
    exclusions: dict[str, RiskExclusion] = Field(
        default_factory=dict, description="Units held out after this decision (carried to the next one)."
    )
    warnings: list[str] = Field(default_factory=list, description="Breached limits that only warn.")


RiskExclusion.model_rebuild()
