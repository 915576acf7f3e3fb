"""Event triggers that any method's trigger is OR-ed with, and the helpers they share.

``PortfolioConfig.event_triggers`` (``EventTriggerParams``) adds, to whatever the method decides:

- ``single_unit_drift``: every unit whose ``|weight - target| >= single_unit_drift`` is traded
  back alone: the decision's ``scope`` lists those units and the pipeline makes a partial
  rebalance (``src/orders/partial.py``).
- ``concentration_limit``: a unit whose weight is ``>= concentration_limit`` fires a full
  rebalance (no scope).
- crisis: if the portfolio's return on the latest day of ``ctx.returns`` is
  ``<= -crisis_daily_drop``, or its ``crisis_vol_days`` realised volatility divided by its
  ``risk_lookback_days`` volatility is ``>= crisis_vol_ratio``, the method's *drift condition*
  (its trigger without calendar and check-frequency gates, see :func:`drift_condition`) is
  evaluated at once; the crisis trigger fires exactly when that condition fires, and trades
  what the method would trade (a full rebalance). A crisis alone never trades a portfolio that
  is on target.

The combined trigger is ``AnyOf([method, concentration, crisis, single_unit])``: the first that
fires decides, so a full rebalance wins over a partial one, and memory from all is kept.

Drift is measured against the engine's *reference targets* when it has them (an engine whose
targets are a partial trade, such as cost-aware or band-edge hybrid, exposes
``reference_targets(ctx)``: the configured targets after the units the risk stage holds out),
otherwise against the engine's targets.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Callable, Mapping, Optional

import numpy as np

from src.engines.context import MarketContext
from src.engines.triggers import (
    BAND_EPS,
    DRIFT_EPS,
    AllOf,
    AnyDriftTrigger,
    AnyOf,
    CalendarTrigger,
    CheckFrequencyGate,
    Trigger,
    drifts,
)
from src.errors import ConfigError
from src.models.decision_models import TriggerDecision
from src.models.params import EventTriggerParams
from src.models.portfolio_models import PortfolioConfig, RebalancingMethod
from src.risk.limits import surviving_targets

if TYPE_CHECKING:  # the engines import this module; only type hints go the other way
    from src.engines.base import RebalancingEngine

Reference = Callable[[MarketContext, Mapping[str, float]], Mapping[str, float]]


def configured_targets(config: PortfolioConfig, ctx: MarketContext) -> dict[str, float]:
    """The configured targets after the units the risk stage holds out, placed as it would.

    The same rule the pipeline applies to an engine's targets before a trigger sees them, so
    a unit held out does not keep a drift condition armed.
    """
    if not ctx.state.risk_exclusions:
        return dict(config.target_allocations)
    return surviving_targets(config.target_allocations, ctx.state.risk_exclusions,
                             config.risk_limits, config.risk_policy)


class AgainstConfiguredTargets(Trigger):
    """Evaluates ``inner`` against the configured targets instead of the engine's targets.

    For engines whose targets are a partial trade (band edge, cost-aware): drift from the band
    edge is not drift from the target. The engine is never run by this trigger.
    """

    def __init__(self, inner: Trigger, config: PortfolioConfig) -> None:
        self.inner, self.config = inner, config

    def evaluate(self, ctx: MarketContext, targets: Mapping[str, float]) -> TriggerDecision:
        return self.inner.evaluate(ctx, configured_targets(self.config, ctx))

    def candidate_days(self, days):
        return self.inner.candidate_days(days)


def reference_of(engine: "RebalancingEngine") -> Reference:
    """What ``engine``'s drift is measured against: its ``reference_targets`` or its targets."""
    own = getattr(engine, "reference_targets", None)
    if callable(own):
        return lambda ctx, targets: own(ctx)
    return lambda ctx, targets: targets


def strip_gates(trigger: Trigger) -> Optional[Trigger]:
    """``trigger`` without its calendar and check-frequency gates; None if nothing is left.

    ``AllOf`` keeps its other members; an ``AnyOf`` with a branch that is only a gate has no
    drift condition of its own (that branch fires regardless of drift), so it gives None.
    """
    if isinstance(trigger, (CheckFrequencyGate, CalendarTrigger)):
        return None
    if isinstance(trigger, AllOf):
        kept = [t for t in (strip_gates(c) for c in trigger.triggers) if t is not None]
        return None if not kept else kept[0] if len(kept) == 1 else AllOf(kept)
    if isinstance(trigger, AnyOf):
        kept = [strip_gates(c) for c in trigger.triggers]
        return None if any(k is None for k in kept) else kept[0] if len(kept) == 1 else AnyOf(kept)
    return trigger


def drift_condition(engine: "RebalancingEngine") -> Trigger:
    """The method's drift condition: what a crisis evaluates at once.

    ``engine.drift_condition()`` if the engine defines it; otherwise the engine's own trigger
    (before event triggers were attached) without its gates, e.g. threshold -> its drift band,
    calendar and risk parity -> ``AnyDriftTrigger(min_trade_size)``; a trigger that is only a
    schedule (calendar with ``force_rebalance``) falls back to ``AnyDriftTrigger(min_trade_size)``.
    """
    own = getattr(engine, "drift_condition", None)
    if callable(own):
        return own()
    stripped = strip_gates(getattr(engine, "method_trigger", None) or engine.trigger)
    return stripped if stripped is not None else AnyDriftTrigger(engine.config.rebalancing_params.min_trade_size)


def _held_weights(ctx: MarketContext) -> dict[str, float]:
    held = [u for u, q in ctx.state.holdings.items() if q > 0]
    return ctx.state.weights(held) if held else {}


def latest_portfolio_return(ctx: MarketContext) -> Optional[tuple[float, date]]:
    """Return of today's holdings over the latest day of ``ctx.returns``, and that day.

    With end-of-day weights ``w`` (cash weight ``1 - sum(w)``, return 0) and that day's unit
    returns ``r``, the start-of-day value is ``cash + sum(w / (1 + r))`` of today's, so the
    return is ``1 / (cash + sum(w / (1 + r))) - 1`` exactly (no trade since). A unit with no
    return that day counts as flat. None if ``ctx.returns`` is empty or nothing is held.
    """
    weights = _held_weights(ctx)
    if ctx.returns.empty or not weights:
        return None
    row = ctx.returns.iloc[-1]
    r = np.array([float(row[u]) if u in row.index and np.isfinite(row[u]) else 0.0 for u in weights])
    if np.any(r <= -1.0):
        return -1.0, row.name.date()
    w = np.array(list(weights.values()))
    start = (1.0 - w.sum()) + float(np.sum(w / (1.0 + r)))
    return 1.0 / start - 1.0, row.name.date()


def volatility_ratio(ctx: MarketContext, short_days: int, long_days: int) -> Optional[float]:
    """``std`` of the last ``short_days`` over ``std`` of the last ``long_days`` portfolio returns.

    The portfolio's returns are back-cast with today's weights (cash flat) over the last
    ``long_days`` rows; None when a held unit lacks a return in them (no crisis is claimed on
    made-up history) or the long volatility is zero.
    """
    weights = _held_weights(ctx)
    units = [u for u in weights if u in ctx.returns.columns]
    if not weights or len(units) < len(weights) or len(ctx.returns) < long_days:
        return None
    window = ctx.returns[units].iloc[-long_days:].to_numpy(dtype=float)
    if not np.all(np.isfinite(window)):
        return None
    rp = window @ np.array([weights[u] for u in units])
    long_vol = float(np.std(rp, ddof=1))
    return None if long_vol <= 0 else float(np.std(rp[-short_days:], ddof=1)) / long_vol


class ConcentrationTrigger(Trigger):
    """Fires a full rebalance when a unit's weight is ``>= limit`` (from weights alone)."""

    def __init__(self, limit: float) -> None:
        self.limit = limit

    def evaluate(self, ctx: MarketContext, targets: Mapping[str, float]) -> TriggerDecision:
        weights = _held_weights(ctx)
        if not weights:
            return TriggerDecision(fired=False, trigger="concentration", reason="nothing held")
        unit = max(weights, key=weights.get)
        w = weights[unit]
        fired = w >= self.limit - BAND_EPS
        relation = ">=" if fired else "<"
        return TriggerDecision(fired=fired, trigger="concentration",
                               reason=f"largest weight {unit} {w:.4f} {relation} concentration_limit {self.limit}",
                               details={f"weight.{unit}": w})


class SingleUnitDriftTrigger(Trigger):
    """Fires a partial rebalance of every unit at least ``threshold`` from its target."""

    def __init__(self, threshold: float, reference: Reference) -> None:
        self.threshold, self.reference = threshold, reference

    def evaluate(self, ctx: MarketContext, targets: Mapping[str, float]) -> TriggerDecision:
        drift = drifts(ctx, self.reference(ctx, targets))
        far = [u for u, d in drift.items() if abs(d) > DRIFT_EPS and abs(d) >= self.threshold - BAND_EPS]
        details = {f"drift.{u}": d for u, d in drift.items()}
        if not far:
            worst = max(drift, key=lambda u: abs(drift[u]))
            return TriggerDecision(
                fired=False, trigger="single_unit_drift", details=details,
                reason=f"largest drift {worst} {drift[worst]:+.4f} < single_unit_drift {self.threshold}")
        text = ", ".join(f"{u} {drift[u]:+.4f}" for u in far)
        return TriggerDecision(fired=True, trigger="single_unit_drift", details=details, scope=far,
                               reason=f"partial rebalance of {text} (single_unit_drift {self.threshold})")


class CrisisTrigger(Trigger):
    """In a crisis, evaluates the method's drift condition now, whatever its gates say.

    Crisis: the latest daily portfolio return ``<= -daily_drop`` or the volatility ratio
    ``>= vol_ratio`` (either may be None = off). Fires exactly when the drift condition fires
    during a crisis; outside one it never looks at the targets.
    """

    def __init__(self, condition: Trigger, daily_drop: Optional[float], vol_ratio: Optional[float],
                 vol_days: int, lookback_days: int) -> None:
        self.condition, self.daily_drop, self.vol_ratio = condition, daily_drop, vol_ratio
        self.vol_days, self.lookback_days = vol_days, lookback_days

    def evaluate(self, ctx: MarketContext, targets: Mapping[str, float]) -> TriggerDecision:
        signs, details, calm = [], {}, []
        if self.daily_drop is not None:
            latest = latest_portfolio_return(ctx)
            if latest is not None:
                ret, day = latest
                details["crisis.return"] = ret
                if ret <= -self.daily_drop + BAND_EPS:
                    signs.append(f"portfolio return {ret:+.2%} on {day} <= -{self.daily_drop:.2%}")
                else:
                    calm.append(f"return {ret:+.2%} on {day}")
        if self.vol_ratio is not None:
            ratio = volatility_ratio(ctx, self.vol_days, self.lookback_days)
            if ratio is not None:
                details["crisis.vol_ratio"] = ratio
                if ratio >= self.vol_ratio - BAND_EPS:
                    signs.append(f"{self.vol_days}d/{self.lookback_days}d volatility ratio {ratio:.3f} "
                                 f">= {self.vol_ratio}")
                else:
                    calm.append(f"volatility ratio {ratio:.3f}")
        if not signs:
            return TriggerDecision(fired=False, trigger="crisis", details=details,
                                   reason=f"no crisis ({', '.join(calm) or 'no data'})")
        inner = self.condition.evaluate(ctx, targets)
        return inner.model_copy(update={
            "trigger": f"crisis+{inner.trigger}", "details": {**inner.details, **details},
            "reason": f"crisis ({'; '.join(signs)}): immediate check: {inner.reason}",
        })


def check_event_triggers(config: PortfolioConfig) -> None:
    """Raise ``ConfigError`` naming the field if ``config.event_triggers`` contradicts the config."""
    p = config.event_triggers
    if p is None:
        return
    if p.concentration_limit is not None and config.rebalancing_method != RebalancingMethod.RISK_PARITY:
        unit = max(config.target_allocations, key=config.target_allocations.get)
        target = config.target_allocations[unit]
        if p.concentration_limit <= target + BAND_EPS:
            raise ConfigError(f"event_triggers.concentration_limit={p.concentration_limit} is not above the target "
                              f"of {unit!r} ({target}): it would fire on every check")
    if p.crisis_vol_ratio is not None and p.crisis_vol_days >= config.risk_lookback_days:
        raise ConfigError(f"event_triggers.crisis_vol_days={p.crisis_vol_days} must be below "
                          f"risk_lookback_days={config.risk_lookback_days}")


def build_event_triggers(params: EventTriggerParams, config: PortfolioConfig,
                         engine: "RebalancingEngine") -> list[Trigger]:
    """The configured event triggers, full rebalances first (concentration, crisis, single unit)."""
    out: list[Trigger] = []
    if params.concentration_limit is not None:
        out.append(ConcentrationTrigger(params.concentration_limit))
    if params.crisis_daily_drop is not None or params.crisis_vol_ratio is not None:
        out.append(CrisisTrigger(drift_condition(engine), params.crisis_daily_drop, params.crisis_vol_ratio,
                                 params.crisis_vol_days, config.risk_lookback_days))
    if params.single_unit_drift is not None:
        out.append(SingleUnitDriftTrigger(params.single_unit_drift, reference_of(engine)))
    return out


def attach_event_triggers(engine: "RebalancingEngine", config: PortfolioConfig) -> "RebalancingEngine":
    """OR ``config.event_triggers`` into ``engine.trigger`` (in place, once) and return the engine.

    ``engine.method_trigger`` keeps the method's own trigger. Idempotent: a second call on the
    same engine changes nothing.

    Raises
    ------
    ConfigError
        If the event triggers contradict the configuration (see :func:`check_event_triggers`).
    """
    if config.event_triggers is None or getattr(engine, "_event_triggers_attached", False):
        return engine
    check_event_triggers(config)
    engine.method_trigger = engine.trigger
    engine.trigger = AnyOf([engine.trigger, *build_event_triggers(config.event_triggers, config, engine)])
    engine._event_triggers_attached = True
    return engine
