"""Small, combinable triggers that decide *whether* to trade now.

Like bt's ``RunMonthly`` and ``RunIfOutOfBounds``: each trigger answers one question from the
event's timestamp and the portfolio's weights; ``a | b`` fires if either fires and ``a & b``
only if both do. Triggers are pure: no I/O and no wall clock.
"""

from __future__ import annotations

import calendar
from abc import ABC, abstractmethod
from datetime import date, timedelta
from typing import Mapping, Optional

import numpy as np
import pandas as pd

from src.engines.context import MarketContext
from src.models.base import Frequency
from src.models.decision_models import TriggerDecision

DRIFT_EPS = 1e-12
# A drift equal to its band is a breach (``>=``); this absorbs float noise at the edge.
BAND_EPS = 1e-12


def current_weights(ctx: MarketContext, units: list[str]) -> dict[str, float]:
    """Weights of ``units`` plus any other unit held (held but untargeted units count as drift)."""
    held = [u for u, q in ctx.state.holdings.items() if q > 0 and u not in units]
    return ctx.state.weights(list(units) + held)


def drifts(ctx: MarketContext, targets: Mapping[str, float]) -> dict[str, float]:
    """``weight - target`` for every targeted or held unit."""
    weights = current_weights(ctx, list(targets))
    return {u: w - targets.get(u, 0.0) for u, w in weights.items()}


def unheld_targets(drift: Mapping[str, float], targets: Mapping[str, float]) -> set[str]:
    """Targeted units not held at all (drift of minus the whole target): always bought."""
    return {u for u, t in targets.items() if t > 0 and drift.get(u, 0.0) <= -t + DRIFT_EPS}


def cash_drift(ctx: MarketContext, targets: Mapping[str, float]) -> float:
    """Cash weight minus the cash the targets leave (``1 - sum(targets)``)."""
    total = ctx.state.total_value()
    return ctx.state.cash / total - max(0.0, 1.0 - sum(targets.values()))


def first_day_of_periods(days: pd.DatetimeIndex, frequency: Frequency, rebalance_day: int = 1) -> np.ndarray:
    """True on the first day of ``days`` on or after each period's anchor.

    These are the only days on which a calendar schedule (or a check-frequency gate, with
    ``rebalance_day=1``) can fire when a check runs on every day of ``days``. The period of each
    day is computed vectorised; only the anchors (one per period) are computed one by one.
    """
    out = np.zeros(len(days), dtype=bool)
    if not len(days):
        return out
    frequency = Frequency(frequency)
    year, month = days.year.to_numpy(), days.month.to_numpy()
    if frequency == Frequency.DAILY:
        out[:] = True
        return out
    if frequency == Frequency.WEEKLY:
        iso = days.isocalendar()
        keys = iso["year"].to_numpy().astype(np.int64) * 100 + iso["week"].to_numpy().astype(np.int64)
    elif frequency == Frequency.MONTHLY:
        keys = year * 12 + month
    elif frequency == Frequency.QUARTERLY:
        keys = year * 4 + (month - 1) // 3
    else:
        keys = year.astype(np.int64)
    ordinals = days.normalize().to_numpy().astype("datetime64[D]").astype(np.int64)
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    ends = np.concatenate((starts[1:], [len(days)]))
    epoch = date(1970, 1, 1).toordinal()
    out[0] = True  # a schedule that has never decided decides on its first check
    missed = False
    for a, b in zip(starts, ends):
        if missed:  # the previous period had no day on or after its anchor: caught up here
            out[a] = True
        anchor = period_anchor(date.fromordinal(int(ordinals[a]) + epoch), frequency, rebalance_day)
        k = a + int(np.searchsorted(ordinals[a:b], anchor.toordinal() - epoch, side="left"))
        missed = k >= b
        if not missed:
            out[k] = True
    return out


def period_key(day: date, frequency: Frequency) -> tuple[int, ...]:
    """Identifies the calendar period ``day`` falls in."""
    if frequency == Frequency.DAILY:
        return (day.year, day.month, day.day)
    if frequency == Frequency.WEEKLY:
        iso = day.isocalendar()
        return (iso.year, iso.week)
    if frequency == Frequency.MONTHLY:
        return (day.year, day.month)
    if frequency == Frequency.QUARTERLY:
        return (day.year, (day.month - 1) // 3)
    return (day.year,)


def period_anchor(day: date, frequency: Frequency, rebalance_day: int) -> date:
    """First date of ``day``'s period on which a calendar trigger may fire."""
    if frequency == Frequency.DAILY:
        return day
    if frequency == Frequency.WEEKLY:
        return day - timedelta(days=day.isoweekday() - 1) + timedelta(days=rebalance_day - 1)
    month = {Frequency.MONTHLY: day.month, Frequency.QUARTERLY: 3 * ((day.month - 1) // 3) + 1,
             Frequency.ANNUALLY: 1}[frequency]
    length = calendar.monthrange(day.year, month)[1]
    return date(day.year, month, min(rebalance_day, length))


def period_start(day: date, frequency: Frequency) -> date:
    """First calendar date of ``day``'s period."""
    if frequency == Frequency.DAILY:
        return day
    if frequency == Frequency.WEEKLY:
        return day - timedelta(days=day.isoweekday() - 1)
    month = {Frequency.MONTHLY: day.month, Frequency.QUARTERLY: 3 * ((day.month - 1) // 3) + 1,
             Frequency.ANNUALLY: 1}[frequency]
    return date(day.year, month, 1)


class Trigger(ABC):
    """Decides whether to trade now. Combine with ``|`` (either) and ``&`` (both).

    ``targets`` is a mapping that computes the engine's targets on first access, so a trigger
    that says no from the calendar alone never makes the engine compute anything.
    """

    @abstractmethod
    def evaluate(self, ctx: MarketContext, targets: Mapping[str, float]) -> TriggerDecision:
        """Decide for the event in ``ctx`` given the targets the engine proposes."""

    def candidate_days(self, days: pd.DatetimeIndex) -> Optional[np.ndarray]:
        """Days of ``days`` (checked daily) on which this trigger can fire whatever the weights.

        None means any day. Backtests evaluate only candidate days (everything else provably
        says no), which is what makes a calendar backtest cost next to nothing between dates.
        """
        return None

    def __or__(self, other: "Trigger") -> "AnyOf":
        return AnyOf([self, other])

    def __and__(self, other: "Trigger") -> "AllOf":
        return AllOf([self, other])


class AnyOf(Trigger):
    """Fires when any of its triggers fires; reports the first that did."""

    def __init__(self, triggers: list[Trigger]) -> None:
        if not triggers:
            raise ValueError("triggers=[] must hold at least one trigger")
        self.triggers = list(triggers)

    def evaluate(self, ctx: MarketContext, targets: Mapping[str, float]) -> TriggerDecision:
        decisions = [t.evaluate(ctx, targets) for t in self.triggers]
        memory = {k: v for d in decisions for k, v in d.memory.items()}
        for decision in decisions:
            if decision.fired:
                return decision.model_copy(update={"memory": memory})
        return TriggerDecision(
            fired=False, trigger="any_of", reason="; ".join(d.reason for d in decisions),
            details={k: v for d in decisions for k, v in d.details.items()}, memory=memory,
        )

    def candidate_days(self, days: pd.DatetimeIndex) -> Optional[np.ndarray]:
        masks = [t.candidate_days(days) for t in self.triggers]
        if any(m is None for m in masks):
            return None
        return np.logical_or.reduce(masks)


class AllOf(Trigger):
    """Fires only when every one of its triggers fires (evaluated in order, stops at a no)."""

    def __init__(self, triggers: list[Trigger]) -> None:
        if not triggers:
            raise ValueError("triggers=[] must hold at least one trigger")
        self.triggers = list(triggers)

    def evaluate(self, ctx: MarketContext, targets: Mapping[str, float]) -> TriggerDecision:
        fired: list[TriggerDecision] = []
        memory: dict[str, float] = {}
        for trigger in self.triggers:
            decision = trigger.evaluate(ctx, targets)
            memory.update(decision.memory)
            if not decision.fired:
                return decision.model_copy(update={"memory": memory})
            fired.append(decision)
        scopes = [d.scope for d in fired if d.scope is not None]
        return TriggerDecision(
            fired=True, trigger="+".join(d.trigger for d in fired),
            reason="; ".join(d.reason for d in fired),
            details={k: v for d in fired for k, v in d.details.items()}, memory=memory,
            scope=scopes[-1] if scopes else None,
        )

    def candidate_days(self, days: pd.DatetimeIndex) -> Optional[np.ndarray]:
        masks = [m for m in (t.candidate_days(days) for t in self.triggers) if m is not None]
        return np.logical_and.reduce(masks) if masks else None


class DriftBandTrigger(Trigger):
    """Fires when a unit's drift exceeds its band.

    The band of a unit is ``min_drift``, or ``relative_drift * target`` if that is smaller
    (whichever is hit first). A unit held but not targeted has a zero band: it fires.
    """

    def __init__(self, min_drift: float, relative_drift: Optional[float] = None) -> None:
        if not 0 < min_drift <= 1:
            raise ValueError(f"min_drift={min_drift} must be in (0, 1]")
        if relative_drift is not None and relative_drift <= 0:
            raise ValueError(f"relative_drift={relative_drift} must be > 0")
        self.min_drift = min_drift
        self.relative_drift = relative_drift

    def band(self, target: float) -> float:
        """Allowed |drift| for a unit with this target (0 for a unit that should not be held)."""
        if target <= 0:
            return 0.0
        if self.relative_drift is None:
            return self.min_drift
        return min(self.min_drift, self.relative_drift * target)

    def evaluate(self, ctx: MarketContext, targets: Mapping[str, float]) -> TriggerDecision:
        drift = drifts(ctx, targets)
        # A unit targeted but not held at all is always bought, however small its target (a
        # 20-stock equal-weight portfolio starting in cash has drifts of exactly -band).
        unheld = unheld_targets(drift, targets)
        breaches = {
            u: d for u, d in drift.items()
            if abs(d) > DRIFT_EPS and (abs(d) >= self.band(targets.get(u, 0.0)) - BAND_EPS or u in unheld)
        }
        idle = cash_drift(ctx, targets)
        details = {f"drift.{u}": d for u, d in drift.items()}
        details["drift.cash"] = idle
        if idle >= self.min_drift - BAND_EPS:
            breaches["cash"] = idle
        if not breaches:
            worst = max(drift, key=lambda u: abs(drift[u]))
            return TriggerDecision(
                fired=False, trigger="drift_band", details=details,
                reason=f"all units inside their bands (largest drift {worst} {drift[worst]:+.4f})",
            )
        text = ", ".join(
            f"{u} {d:+.4f} (band {self.min_drift if u == 'cash' else self.band(targets.get(u, 0.0)):.4f})"
            for u, d in breaches.items()
        )
        return TriggerDecision(fired=True, trigger="drift_band", reason=f"drift outside band: {text}", details=details)


class CalendarTrigger(Trigger):
    """Fires once per period, on the first event on or after the period's rebalance day.

    The period is taken from the event's timestamp; it fires when the last rebalance happened
    before this period's anchor date (or never).
    """

    def __init__(self, frequency: Frequency, rebalance_day: int = 1) -> None:
        self.frequency = Frequency(frequency)
        self.rebalance_day = rebalance_day
        self.memory_key = f"calendar.{self.frequency.value}.{rebalance_day}"

    def evaluate(self, ctx: MarketContext, targets: Mapping[str, float]) -> TriggerDecision:
        today = ctx.timestamp.date()
        anchor = period_anchor(today, self.frequency, self.rebalance_day)
        # Once per period means one decision per period: a decision that found no drift worth
        # trading, was blocked, or traded all count (the memory is kept whatever follows).
        remembered = ctx.state.memory.get(self.memory_key)
        if remembered is not None:
            last = date.fromordinal(int(remembered))
        else:
            fallback = ctx.state.last_trigger_at or ctx.state.last_rebalance_at
            last = fallback.date() if fallback is not None else None
        if last is None:
            return TriggerDecision(fired=True, trigger="calendar",
                                   reason=f"{self.frequency.value} schedule: first decision",
                                   memory={self.memory_key: float(today.toordinal())})
        previous = period_anchor(period_start(today, self.frequency) - timedelta(days=1), self.frequency,
                                 self.rebalance_day)
        if last < previous:
            # The previous period ended before a check reached its anchor (a 31st with no trading
            # day on or after it, a Saturday for weekly): its decision is made now.
            return TriggerDecision(fired=True, trigger="calendar",
                                   reason=f"{self.frequency.value} schedule: catching up the period due {previous}",
                                   memory={self.memory_key: float(today.toordinal())})
        if today < anchor:
            return TriggerDecision(fired=False, trigger="calendar",
                                   reason=f"{self.frequency.value} schedule: next date {anchor}")
        if last >= anchor:
            return TriggerDecision(fired=False, trigger="calendar",
                                   reason=f"already decided this {self.frequency.value} period on {last}")
        return TriggerDecision(fired=True, trigger="calendar",
                               reason=f"{self.frequency.value} schedule: due since {anchor}",
                               memory={self.memory_key: float(today.toordinal())})

    def candidate_days(self, days: pd.DatetimeIndex) -> Optional[np.ndarray]:
        return first_day_of_periods(days, self.frequency, self.rebalance_day)


class CheckFrequencyGate(Trigger):
    """Lets at most one check through per period (the threshold method's ``check_frequency``)."""

    def __init__(self, frequency: Frequency) -> None:
        self.frequency = Frequency(frequency)

    def candidate_days(self, days: pd.DatetimeIndex) -> Optional[np.ndarray]:
        return first_day_of_periods(days, self.frequency)

    def evaluate(self, ctx: MarketContext, targets: Mapping[str, float]) -> TriggerDecision:
        last = ctx.state.last_check_at
        today = ctx.timestamp.date()
        if last is not None and period_key(last.date(), self.frequency) == period_key(today, self.frequency):
            return TriggerDecision(fired=False, trigger="check_frequency",
                                   reason=f"already checked this {self.frequency.value} period on {last.date()}")
        return TriggerDecision(fired=True, trigger="check_frequency",
                               reason=f"{self.frequency.value} check due")


class AnyDriftTrigger(Trigger):
    """Fires when some unit is off target by more than ``min_trade_size`` (worth a trade)."""

    def __init__(self, min_trade_size: float) -> None:
        self.min_trade_size = min_trade_size

    def evaluate(self, ctx: MarketContext, targets: Mapping[str, float]) -> TriggerDecision:
        drift = drifts(ctx, targets)
        worst = max(drift, key=lambda u: abs(drift[u]))
        fired = bool(unheld_targets(drift, targets)) or abs(drift[worst]) > max(self.min_trade_size, DRIFT_EPS) \
            or cash_drift(ctx, targets) > max(self.min_trade_size, DRIFT_EPS)
        return TriggerDecision(
            fired=fired, trigger="any_drift",
            reason=f"largest drift {worst} {drift[worst]:+.4f} vs min_trade_size {self.min_trade_size}",
        )


class AlwaysTrigger(Trigger):
    """Always fires (for ``force_rebalance`` and for tests)."""

    def evaluate(self, ctx: MarketContext, targets: Mapping[str, float]) -> TriggerDecision:
        return TriggerDecision(fired=True, trigger="always", reason="forced")


