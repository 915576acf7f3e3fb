"""Small, combinable triggers that decide *whether* to trade now.

Like bt's ``RunMonthly`` and ``RunIfOutOfBounds``: each trigger answers one question from the
event's timestamp and the portfolio's weights; ``a | b`` fires if either fires and ``a & b``
only if both do. Triggers are pure: no I/O and no wall clock.
"""

from __future__ import annotations

import calendar
from abc import ABC, abstractmethod
from datetime import date, timedelta
from typing import Optional

from src.engines.context import MarketContext
from src.models.base import Frequency
from src.models.decision_models import TriggerDecision

DRIFT_EPS = 1e-12


def current_weights(ctx: MarketContext, units: list[str]) -> dict[str, float]:
    """Weights of ``units`` plus any other unit held (held but untargeted units count as drift)."""
    held = [u for u, q in ctx.state.holdings.items() if q > 0 and u not in units]
    return ctx.state.weights(list(units) + held)


def drifts(ctx: MarketContext, targets: dict[str, float]) -> dict[str, float]:
    """``weight - target`` for every targeted or held unit."""
    weights = current_weights(ctx, list(targets))
    return {u: w - targets.get(u, 0.0) for u, w in weights.items()}


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


class Trigger(ABC):
    """Decides whether to trade now. Combine with ``|`` (either) and ``&`` (both)."""

    @abstractmethod
    def evaluate(self, ctx: MarketContext, targets: dict[str, float]) -> TriggerDecision:
        """Decide for the event in ``ctx`` given the targets the engine proposes."""

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

    def evaluate(self, ctx: MarketContext, targets: dict[str, float]) -> TriggerDecision:
        decisions = [t.evaluate(ctx, targets) for t in self.triggers]
        for decision in decisions:
            if decision.fired:
                return decision
        return TriggerDecision(
            fired=False, trigger="any_of", reason="; ".join(d.reason for d in decisions),
            details={k: v for d in decisions for k, v in d.details.items()},
        )


class AllOf(Trigger):
    """Fires only when every one of its triggers fires (evaluated in order, stops at a no)."""

    def __init__(self, triggers: list[Trigger]) -> None:
        if not triggers:
            raise ValueError("triggers=[] must hold at least one trigger")
        self.triggers = list(triggers)

    def evaluate(self, ctx: MarketContext, targets: dict[str, float]) -> TriggerDecision:
        fired: list[TriggerDecision] = []
        for trigger in self.triggers:
            decision = trigger.evaluate(ctx, targets)
            if not decision.fired:
                return decision
            fired.append(decision)
        return TriggerDecision(
            fired=True, trigger="+".join(d.trigger for d in fired),
            reason="; ".join(d.reason for d in fired),
            details={k: v for d in fired for k, v in d.details.items()},
        )


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

    def evaluate(self, ctx: MarketContext, targets: dict[str, float]) -> TriggerDecision:
        drift = drifts(ctx, targets)
        breaches = {
            u: d for u, d in drift.items()
            if abs(d) > self.band(targets.get(u, 0.0)) and abs(d) > DRIFT_EPS
        }
        details = {f"drift.{u}": d for u, d in drift.items()}
        if not breaches:
            worst = max(drift, key=lambda u: abs(drift[u]))
            return TriggerDecision(
                fired=False, trigger="drift_band", details=details,
                reason=f"all units inside their bands (largest drift {worst} {drift[worst]:+.4f})",
            )
        text = ", ".join(
            f"{u} {d:+.4f} (band {self.band(targets.get(u, 0.0)):.4f})" for u, d in breaches.items()
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

    def evaluate(self, ctx: MarketContext, targets: dict[str, float]) -> TriggerDecision:
        today = ctx.timestamp.date()
        anchor = period_anchor(today, self.frequency, self.rebalance_day)
        # Once per period means one decision per period: a blocked or empty one counts too.
        last = ctx.state.last_trigger_at or ctx.state.last_rebalance_at
        if today < anchor:
            return TriggerDecision(fired=False, trigger="calendar",
                                   reason=f"{self.frequency.value} schedule: next date {anchor}")
        if last is not None and last.date() >= anchor:
            return TriggerDecision(fired=False, trigger="calendar",
                                   reason=f"already decided this {self.frequency.value} period on {last.date()}")
        return TriggerDecision(fired=True, trigger="calendar",
                               reason=f"{self.frequency.value} schedule: due since {anchor}")


class CheckFrequencyGate(Trigger):
    """Lets at most one check through per period (the threshold method's ``check_frequency``)."""

    def __init__(self, frequency: Frequency) -> None:
        self.frequency = Frequency(frequency)

    def evaluate(self, ctx: MarketContext, targets: dict[str, float]) -> TriggerDecision:
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

    def evaluate(self, ctx: MarketContext, targets: dict[str, float]) -> TriggerDecision:
        drift = drifts(ctx, targets)
        worst = max(drift, key=lambda u: abs(drift[u]))
        fired = abs(drift[worst]) > max(self.min_trade_size, DRIFT_EPS)
        return TriggerDecision(
            fired=fired, trigger="any_drift",
            reason=f"largest drift {worst} {drift[worst]:+.4f} vs min_trade_size {self.min_trade_size}",
        )


class AlwaysTrigger(Trigger):
    """Always fires (for ``force_rebalance`` and for tests)."""

    def evaluate(self, ctx: MarketContext, targets: dict[str, float]) -> TriggerDecision:
        return TriggerDecision(fired=True, trigger="always", reason="forced")


