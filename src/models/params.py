"""Typed parameters of each rebalancing method.

``PortfolioConfig.rebalancing_params`` is validated into one of these, chosen by the method, so
a misspelt or mistyped parameter is an error at start-up rather than a silent default.
"""

from __future__ import annotations

import math
from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator

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


def check_rebalance_day(value: int, frequency: Optional[Frequency]) -> int:
    """``rebalance_day`` checked against its ``frequency`` (shared by calendar and hybrid)."""
    if frequency == Frequency.WEEKLY and value > 7:
        raise ValueError(f"rebalance_day={value} must be an ISO weekday 1-7 for weekly")
    if frequency == Frequency.DAILY and value != 1:
        raise ValueError(f"rebalance_day={value} must be 1 for daily")
    return value


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
        return check_rebalance_day(value, info.data.get("frequency"))


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
        0.25,
        ge=0.0,
        description="Hysteresis on the Sharpe improvement (annualised Sharpe units): a tilt is adopted at "
        "min_improvement + margin and dropped only below min_improvement - margin; a tilt in force is "
        "replaced only by one better by min_improvement + margin; the de-weighted unit of a correlated "
        "pair changes only when the other is weaker by the margin. 0.25 from the decision-quality "
        "backtests (20 stocks: 82% turnover a year without the hysteresis, 28% with it).",
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


class CostAwareParams(MethodParams):
    """Trade only where the fall in tracking-error variance pays for the trading cost.

    Objective over the trade ``Delta`` (weights as fractions of NAV, cash the rest):
    ``a * x' Sigma x + sum_i c |Delta_i| + impact_coefficient * sum_i |Delta_i| ** 1.5`` with
    ``x = w + Delta - w*``, ``c = (fee_bps + slippage_bps) / 1e4`` and
    ``a = risk_aversion * horizon_years / (w*' Sigma w*)``: tracking-error variance is priced
    relative to the target portfolio's own variance, so one setting means the same trade-off for a
    60/40 and for twenty single stocks. Idle cash beyond the targets' cash (at least
    ``min_trade_size``) is always invested, where it removes the most tracking error per unit of cost.

    ``risk_aversion`` 0.005 comes from the decision-quality backtests (README): it trades 55% less
    than quarterly rebalancing on the 20-stock portfolio and 71% less on the 60/40, at 44% and 26%
    more tracking error; about 0.013 and 0.007 match quarterly's tracking error there. Raise it to
    track more tightly, lower it to trade less.
    """

    fee_bps: float = Field(
        10.0, ge=0.0, le=1000.0,
        description="Proportional fee, in basis points of the traded notional (10 = 0.10%).",
    )
    slippage_bps: float = Field(
        5.0, ge=0.0, le=1000.0,
        description="Expected slippage, in basis points of the traded notional; added to fee_bps.",
    )
    risk_aversion: float = Field(
        0.005, gt=0.0, le=1000.0,
        description="Price of tracking-error variance, per year of horizon, in fractions of NAV per unit of "
        "tracking-error variance measured as a share of the target portfolio's own annual variance.",
    )
    horizon_years: float = Field(
        1.0, gt=0.0, le=30.0,
        description="Years over which the tracking-error variance a trade removes is counted, in years.",
    )
    lookback: int = Field(
        252, ge=20, description="Trading days of returns for the Ledoit-Wolf covariance (annualised x252)."
    )
    impact_coefficient: float = Field(
        0.0, ge=0.0, le=100.0,
        description="Market-impact coefficient k of k * sum |Delta_i| ** 1.5 (Delta as fractions of NAV); "
        "0 means no impact.",
    )
    check_frequency: Frequency = Field(
        Frequency.WEEKLY, description="How often the no-trade condition is checked, on the event's clock "
        "(weekly: the same turnover and tracking error as daily on the shipped data, a quarter of the work)."
    )

    @property
    def cost_per_turnover(self) -> float:
        """``c``: cost per unit of turnover, as a fraction of the traded notional."""
        return (self.fee_bps + self.slippage_bps) / 1e4


class TacticalParams(MethodParams):
    """Drift bands like threshold, but a rebalance that sells a strongly rising unit is delayed."""

    min_drift: float = Field(
        0.05, gt=0.0, le=1.0,
        description="Absolute band (fraction of NAV): the band trigger fires when |weight - target| >= it.",
    )
    relative_drift: Optional[float] = Field(
        None, gt=0.0,
        description="Relative band as a fraction of the target (0.25 = 25%); whichever is hit first. None "
        "disables it.",
    )
    check_frequency: Frequency = Field(
        Frequency.DAILY, description="How often drift is checked, on the event's clock."
    )
    sma_days: int = Field(
        200, ge=2, le=2520,
        description="Trading days of the simple moving average the price must be above to trend up.",
    )
    confirm: Literal["rsi", "macd"] = Field(
        "rsi",
        description="Second condition of an up-trend: 'rsi' (Wilder RSI above rsi_threshold) or 'macd' "
        "(MACD line above its signal line).",
    )
    rsi_days: int = Field(14, ge=2, le=252, description="Trading days of Wilder's RSI.")
    rsi_threshold: float = Field(
        70.0, gt=0.0, lt=100.0, description="RSI level (0-100 scale) above which the trend is confirmed."
    )
    macd_fast: int = Field(12, ge=2, le=252, description="Trading days of the MACD's fast EMA.")
    macd_slow: int = Field(26, ge=3, le=252, description="Trading days of the MACD's slow EMA.")
    macd_signal: int = Field(9, ge=2, le=252, description="Trading days of the MACD signal-line EMA.")
    max_delay_days: int = Field(
        30, ge=1, le=3650,
        description="Calendar days a blocked rebalance may wait; after that it trades despite the trend.",
    )

    @model_validator(mode="after")
    def _macd_fast_below_slow(self) -> "TacticalParams":
        if self.macd_fast >= self.macd_slow:
            raise ValueError(f"macd_fast={self.macd_fast} must be below macd_slow={self.macd_slow}")
        return self


class HybridParams(MethodParams):
    """Calendar and drift bands together: look on a calendar and trade only outside the bands
    (``calendar_and_bands``), or watch the bands and also trade on the calendar
    (``calendar_or_bands``)."""

    mode: Literal["calendar_and_bands", "calendar_or_bands"] = Field(
        "calendar_and_bands",
        description="'calendar_and_bands': on each calendar date, trade only if a unit is outside its "
        "band; 'calendar_or_bands': trade when a band is breached (checked at check_frequency) and "
        "also on each calendar date if some unit drifted more than min_trade_size.",
    )
    frequency: Frequency = Field(Frequency.MONTHLY, description="Calendar period.")
    rebalance_day: int = Field(
        1, ge=1, le=31,
        description="Day within the period on or after which the calendar fires (as in calendar: ISO "
        "weekday 1-7 for weekly, day of the period's first month otherwise, 1 for daily).",
    )
    min_drift: float = Field(
        0.05, gt=0.0, le=1.0, description="Absolute band (fraction of NAV) around each target."
    )
    relative_drift: Optional[float] = Field(
        None, gt=0.0,
        description="Relative band as a fraction of the target; whichever is hit first. None disables it.",
    )
    check_frequency: Frequency = Field(
        Frequency.DAILY,
        description="How often the bands are checked in 'calendar_or_bands' mode (unused otherwise).",
    )
    trade_to: Literal["target", "band_edge"] = Field(
        "target",
        description="'target' trades back to the targets; 'band_edge' makes the smallest trade that puts "
        "every unit back inside its band (to the targets when none is outside, e.g. a calendar date).",
    )

    @field_validator("rebalance_day")
    @classmethod
    def _day_fits_frequency(cls, value: int, info) -> int:
        return check_rebalance_day(value, info.data.get("frequency"))


class EventTriggerParams(StrictModel):
    """Event triggers OR-ed with any method's trigger (each None = off; at least one set)."""

    single_unit_drift: Optional[float] = Field(
        None, gt=0.0, le=1.0,
        description="Absolute drift (fraction of NAV) at or beyond which a unit alone is traded back to "
        "its target (a partial rebalance of the units that far off).",
    )
    concentration_limit: Optional[float] = Field(
        None, gt=0.0, le=1.0,
        description="Weight (fraction of NAV) at or above which any one unit fires a full rebalance.",
    )
    crisis_daily_drop: Optional[float] = Field(
        None, gt=0.0, lt=1.0,
        description="Portfolio loss in one day (fraction, 0.05 = -5%) at or beyond which the method's "
        "drift condition is checked at once, whatever its calendar or check-frequency gate says.",
    )
    crisis_vol_ratio: Optional[float] = Field(
        None, gt=1.0,
        description="Ratio of the portfolio's crisis_vol_days realised volatility to its "
        "risk_lookback_days volatility at or above which the drift condition is checked at once.",
    )
    crisis_vol_days: int = Field(
        20, ge=2, le=252, description="Trading days of the short realised-volatility window of crisis_vol_ratio."
    )

    @model_validator(mode="after")
    def _something_set(self) -> "EventTriggerParams":
        names = ("single_unit_drift", "concentration_limit", "crisis_daily_drop", "crisis_vol_ratio")
        if all(getattr(self, n) is None for n in names):
            raise ValueError(f"event_triggers sets none of {', '.join(names)}: set one or leave it None")
        return self


AnyParams = (ThresholdParams | CalendarParams | AdaptiveParams | RiskParityParams | CostAwareParams
             | TacticalParams | HybridParams)
