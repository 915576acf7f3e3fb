"""Risk limits and the verdicts of the risk stage."""

from __future__ import annotations

from enum import Enum
from types import MappingProxyType
from typing import Mapping, Optional

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


class RiskAction(str, Enum):
    """What the risk stage did about one limit. It can only shrink or block."""

    PASS = "pass"
    SHRINK = "shrink"
    DROP = "drop"
    BLOCK = "block"


class RiskVerdict(StrictModel):
    """The outcome of one limit."""

    limit: str = Field(description="Name of the limit, a field of RiskLimits.")
    value: Optional[float] = Field(
        description="The measured value (worst unit for per-unit limits); None if not measurable."
    )
    threshold: float = Field(description="The limit's configured value.")
    action: RiskAction = Field(description="pass, shrink, drop or block.")
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
