"""Typed parameters of each rebalancing method.

``PortfolioConfig.rebalancing_params`` is validated into one of these, chosen by the method, so
a misspelt or mistyped parameter is an error at start-up rather than a silent default.
"""

from __future__ import annotations

import math
from typing import Literal, Optional

from pydantic import Field, field_validator

from src.models.base import Frequency, StrictModel


class MethodParams(StrictModel):
    """Parameters every method shares."""

    min_trade_size: float = Field(
        0.01,
        ge=0.0,
        lt=1.0,
        description="Smallest trade worth making, as a fraction of portfolio value; smaller "
        "trades are skipped with a reason.",
    )


class ThresholdParams(MethodParams):
    """Drift bands: trade when any unit leaves its band (bt's ``RunIfOutOfBounds``)."""

    min_drift: float = Field(
        0.05,
        gt=0.0,
        le=1.0,
        description="Absolute band: fire when |weight - target| >= min_drift for any unit.",
    )
    relative_drift: Optional[float] = Field(
        None,
        gt=0.0,
        description="Relative band as a fraction of the target (0.25 = 25% of the target); "
        "whichever band is hit first fires. None disables it. 5/25 rule: 0.05 and 0.25.",
    )
    check_frequency: Frequency = Field(
        Frequency.DAILY, description="How often drift is checked, on the event's clock."
    )
    trade_to: Literal["target", "band_edge"] = Field(
        "target",
        description="'target' trades back to the targets; 'band_edge' makes the smallest trade "
        "that brings every unit back inside its band.",
    )


class CalendarParams(MethodParams):
    """Calendar schedule: rebalance once per period (bt's ``RunMonthly`` and friends)."""

    frequency: Frequency = Field(Frequency.MONTHLY, description="Rebalancing period.")
    rebalance_day: int = Field(
        1,
        ge=1,
        le=31,
        description="Day within the period on or after which the first event fires: ISO weekday "
        "1-7 for weekly, day of the period's first month 1-31 for monthly, quarterly and "
        "annually (clipped to the month's length); must be 1 for daily.",
    )
    force_rebalance: bool = Field(
        False, description="Trade on schedule even when no unit has drifted."
    )

    @field_validator("rebalance_day")
    @classmethod
    def _day_fits_frequency(cls, value: int, info) -> int:
        freq = info.data.get("frequency")
        if freq == Frequency.WEEKLY and value > 7:
            raise ValueError(f"rebalance_day={value} must be an ISO weekday 1-7 for weekly")
        if freq == Frequency.DAILY and value != 1:
            raise ValueError(f"rebalance_day={value} must be 1 for daily")
        return value


class AdaptiveParams(MethodParams):
    """Adaptive tilt of the configured targets from recent registry performance."""

    volatility_threshold: float = Field(
        0.25,
        gt=0.0,
        description="Annualised volatility above which a unit's weight is cut in proportion "
        "(threshold / volatility).",
    )
    correlation_threshold: float = Field(
        0.7,
        gt=-1.0,
        lt=1.0,
        description="Pairwise correlation above which the weaker (lower Sharpe) unit of the pair "
        "is de-weighted by (1 - rho) / (1 - threshold).",
    )
    performance_window: int = Field(
        63, ge=20, description="Trading days of returns the tilt looks back on."
    )
    min_improvement: float = Field(
        0.05,
        ge=0.0,
        description="Minimum gain in the window's annualised Sharpe ratio for the tilt to be "
        "adopted; otherwise the configured targets stand.",
    )
    min_drift: float = Field(
        0.05,
        gt=0.0,
        le=1.0,
        description="Trade when any unit is this far from the adaptive targets.",
    )
    adoption_margin: float = Field(
        0.05,
        ge=0.0,
        description="Hysteresis on the Sharpe improvement: a tilt is adopted at min_improvement + margin "
        "and dropped only below min_improvement - margin (annualised Sharpe units).",
    )
    confirmations: int = Field(
        2,
        ge=1,
        description="Consecutive checks that must agree before the tilt is adopted or dropped (the "
        "improvement has to persist).",
    )
    tilt_tolerance: float = Field(
        0.025,
        ge=0.0,
        le=1.0,
        description="While the tilt stays adopted, its targets move only when some unit's tilted weight "
        "differs from the current target by at least this much.",
    )
    check_frequency: Frequency = Field(
        Frequency.DAILY, description="How often drift is checked, on the event's clock."
    )


class RiskParityParams(MethodParams):
    """Risk budgeting: each unit contributes its budget of portfolio variance."""

    target_risk_contribution: Optional[dict[str, float]] = Field(
        None,
        description="Risk budget per unit summing to 1; None means equal risk contributions.",
    )
    use_leverage: bool = Field(
        False,
        description="If true, gross exposure is scaled up to risk_limits.max_portfolio_leverage "
        "instead of 1.0.",
    )
    rebalance_frequency: Frequency = Field(
        Frequency.MONTHLY, description="How often the risk-parity weights are re-solved and traded."
    )
    lookback: int = Field(
        252, ge=20, description="Trading days of returns used for the (shrunk) covariance."
    )

    @field_validator("target_risk_contribution")
    @classmethod
    def _budgets_valid(cls, value: Optional[dict[str, float]]) -> Optional[dict[str, float]]:
        if value is None:
            return None
        if not value:
            raise ValueError("target_risk_contribution={} must name at least one unit or be None")
        for unit, budget in value.items():
            if not math.isfinite(budget) or budget <= 0:
                raise ValueError(f"target_risk_contribution[{unit!r}]={budget} must be > 0")
        total = sum(value.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"target_risk_contribution sums to {total:.6g}, not 1")
        return value


AnyParams = ThresholdParams | CalendarParams | AdaptiveParams | RiskParityParams
