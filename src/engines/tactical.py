"""Tactical rebalancing: drift bands, but a sale of a unit in a strong up-trend waits.

Rule:

1. The band trigger is threshold's: ``DriftBandTrigger(min_drift, relative_drift)`` against the
   targets (the configured ones), checked at ``check_frequency``.
2. When it fires, the units the rebalance would sell are those above their targets
   (``weight - target > 0``). Units being bought are never looked at: buying into strength is
   not delayed.
3. A unit is in a strong up-trend on the decision day if, on its last ``history_days`` daily
   returns (the price is rebuilt as the cumulative product of ``1 + r``, starting at 1):
   the price is above its ``sma_days`` simple moving average, **and** the confirmation holds:
   ``confirm="rsi"``: Wilder's ``rsi_days`` RSI (seeded with the simple mean of the first
   ``rsi_days`` changes, then ``avg = (avg * (n - 1) + x) / n``) is above ``rsi_threshold``;
   ``confirm="macd"``: the MACD line (EMA ``macd_fast`` minus EMA ``macd_slow`` of the price,
   ``alpha = 2 / (span + 1)``, seeded with the first price) is above its ``macd_signal`` EMA.
   A unit without a complete window of returns is not called trending.
4. If a sold unit trends up, the rebalance is delayed. The first day this happens is kept in
   ``memory["tactical.delay_since"]`` (a date ordinal; 0 = no delay running); once
   ``today - delay_since >= max_delay_days`` calendar days, the rebalance trades anyway. The
   reason names the trending units, their indicators and how long the delay has lasted.
5. The delay is cleared when the bands are quiet again or the rebalance goes ahead.

Indicators are always computed on exactly the last ``history_days`` rows, so a backtest handed
only those rows decides exactly as a live run with the full history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Mapping, Optional

import numpy as np

from src.engines.base import RebalancingEngine
from src.engines.context import MarketContext
from src.engines.triggers import DRIFT_EPS, CheckFrequencyGate, DriftBandTrigger, Trigger, drifts
from src.models.decision_models import EngineResult, TriggerDecision
from src.models.params import TacticalParams

DELAY_KEY = "tactical.delay_since"
# Rows of warm-up per period so that the recursive indicators have forgotten their seed
# (Wilder's smoothing keeps (1 - 1/n) ** (10 n) ~ e^-10 of it; an EMA of span s ~ e^-6 after 3 s).
RSI_WARMUP_PERIODS = 10
EMA_WARMUP_PERIODS = 3


def indicator_rows(p: TacticalParams) -> int:
    """Daily returns the trend rule reads (the engine's ``history_days``)."""
    confirm = (RSI_WARMUP_PERIODS * p.rsi_days if p.confirm == "rsi"
               else EMA_WARMUP_PERIODS * (p.macd_slow + p.macd_signal))
    return max(p.sma_days, confirm)


def wilder_rsi(price: np.ndarray, days: int) -> float:
    """Wilder's RSI (0-100) at the last price; 100 if there were no losses, 50 if flat."""
    change = np.diff(price)
    gain, loss = np.clip(change, 0.0, None), np.clip(-change, 0.0, None)
    avg_gain, avg_loss = float(gain[:days].mean()), float(loss[:days].mean())
    for g, l in zip(gain[days:], loss[days:]):
        avg_gain = (avg_gain * (days - 1) + g) / days
        avg_loss = (avg_loss * (days - 1) + l) / days
    if avg_loss == 0.0:
        return 100.0 if avg_gain > 0.0 else 50.0
    return 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)


def ema(values: np.ndarray, span: int) -> np.ndarray:
    """Exponential moving average, ``alpha = 2 / (span + 1)``, seeded with the first value."""
    alpha = 2.0 / (span + 1.0)
    out = np.empty(len(values))
    acc = float(values[0])
    for i, v in enumerate(values):
        acc = alpha * float(v) + (1.0 - alpha) * acc
        out[i] = acc
    return out


@dataclass(frozen=True)
class TrendReading:
    """The trend indicators of one unit on the decision day."""

    price: float
    sma: float
    confirm_value: float      # RSI, or the MACD line
    confirm_level: float      # rsi_threshold, or the signal line
    trending: bool

    def describe(self, p: TacticalParams) -> str:
        head = f"price {self.price:.4f} > SMA{p.sma_days} {self.sma:.4f}"
        if p.confirm == "rsi":
            return f"{head}, RSI{p.rsi_days} {self.confirm_value:.1f} > {self.confirm_level:g}"
        return f"{head}, MACD {self.confirm_value:.5f} > signal {self.confirm_level:.5f}"


def trend_reading(returns: np.ndarray, p: TacticalParams) -> Optional[TrendReading]:
    """Indicators on the last ``indicator_rows(p)`` returns; None without a complete window."""
    rows = indicator_rows(p)
    r = np.asarray(returns, dtype=float)[-rows:]
    if len(r) < rows or not np.all(np.isfinite(r)):
        return None
    price = np.concatenate([[1.0], np.cumprod(1.0 + r)])
    sma = float(price[-p.sma_days:].mean())
    if p.confirm == "rsi":
        value, level = wilder_rsi(price, p.rsi_days), p.rsi_threshold
    else:
        line = ema(price, p.macd_fast) - ema(price, p.macd_slow)
        value, level = float(line[-1]), float(ema(line, p.macd_signal)[-1])
    return TrendReading(price=float(price[-1]), sma=sma, confirm_value=value, confirm_level=level,
                        trending=bool(price[-1] > sma and value > level))


class TrendDelayTrigger(Trigger):
    """The band trigger, held back while a unit it would sell is in a strong up-trend."""

    def __init__(self, band: DriftBandTrigger, params: TacticalParams) -> None:
        self.band, self.params = band, params

    def evaluate(self, ctx: MarketContext, targets: Mapping[str, float]) -> TriggerDecision:
        p = self.params
        decision = self.band.evaluate(ctx, targets)
        clear = {DELAY_KEY: 0.0}
        if not decision.fired:
            return decision.model_copy(update={"memory": {**decision.memory, **clear}})
        sells = [u for u, d in drifts(ctx, targets).items() if d > DRIFT_EPS]
        trending: dict[str, TrendReading] = {}
        for unit in sells:
            if unit in ctx.returns.columns:
                reading = trend_reading(ctx.returns[unit].to_numpy(), p)
                if reading is not None and reading.trending:
                    trending[unit] = reading
        if not trending:
            return decision.model_copy(update={"memory": {**decision.memory, **clear}})
        today = ctx.timestamp.date()
        since = int(ctx.state.memory.get(DELAY_KEY, 0.0)) or today.toordinal()
        waited = today.toordinal() - since
        details = {**decision.details, "tactical.delay_days": float(waited)}
        for unit, reading in trending.items():
            details[f"trend.{unit}.price_over_sma"] = reading.price / reading.sma
            details[f"trend.{unit}.{p.confirm}"] = reading.confirm_value
        text = "; ".join(f"{u} in an up-trend ({r.describe(p)})" for u, r in trending.items())
        started = date.fromordinal(since)
        if waited >= p.max_delay_days:
            return decision.model_copy(update={
                "memory": {**decision.memory, **clear}, "details": details, "trigger": "tactical",
                "reason": f"{decision.reason}; trading despite the trend after {waited} days of delay "
                          f"(since {started}, max_delay_days {p.max_delay_days}): {text}"})
        return TriggerDecision(
            fired=False, trigger="tactical", details=details, memory={**decision.memory, DELAY_KEY: float(since)},
            reason=f"rebalance delayed {waited} of {p.max_delay_days} days (since {started}): sells {text}; "
                   f"{decision.reason}")


class TacticalEngine(RebalancingEngine):
    """Configured targets; the trigger delays sales of strongly rising units (see the module)."""

    measures_against_configured_targets = True

    name = "tactical"

    @property
    def params(self) -> TacticalParams:
        return self.config.rebalancing_params

    @property
    def history_days(self) -> Optional[int]:
        return indicator_rows(self.params)

    def build_trigger(self) -> Trigger:
        p = self.params
        return CheckFrequencyGate(p.check_frequency) & TrendDelayTrigger(
            DriftBandTrigger(p.min_drift, p.relative_drift), p)

    def calculate_target_weights(self, ctx: MarketContext) -> EngineResult:
        return EngineResult(engine=self.name, weights=dict(self.config.target_allocations),
                            notes=["trade to configured targets (sales of up-trending units may wait)"])
