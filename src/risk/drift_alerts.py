"""Drift alert levels: pure functions (no I/O, no clock).

The level of a portfolio is ``none``, ``warning`` or ``critical`` after the largest absolute drift
``|weight - target|`` of any unit, against ``AlertSettings.drift_warning`` and ``drift_critical``.
Targets are those of the newest rebalance (after the risk limits; the configured ones before
the first), weights are taken on the portfolio less its ``exclude_assets`` holdings (those are never traded and
have no target), and a tax-loss harvest's substitute that has no target of its own counts as its
original (a harvest swap is not drift).

A cycle writes an ``alert`` event when the level rises above the last recorded one, or falls back
to ``none`` (``cleared``); the agent step is ``src/agents/alerts.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Literal, NamedTuple, Optional

from src.models.decision_models import AlertRecord, PlanStatus, RebalancingEvent, TriggerDecision
from src.models.execution_models import AlertSettings

Level = Literal["none", "warning", "critical"]
LEVELS: tuple[Level, ...] = ("none", "warning", "critical")
MEMORY_KEY = "alerts.level"  # the last recorded level (its index in LEVELS), kept in the agent state's memory


class DriftCheck(NamedTuple):
    """The level of one set of weights, with the numbers behind it."""

    level: Level
    max_drift: float
    drifts: dict[str, float]   # signed weight - target per unit (excluded assets out)
    units: dict[str, float]    # the units at or above the level's threshold, largest first


def unit_drifts(weights: Mapping[str, float], targets: Mapping[str, float], *, exclude: Iterable[str] = (),
                substitutes: Optional[Mapping[str, str]] = None) -> dict[str, float]:
    """Signed drift ``weight - target`` of every targeted or held unit, on the portfolio less ``exclude``.

    Parameters
    ----------
    weights : mapping
        Weight of each unit in the total value (cash is the rest).
    targets : mapping
        Target weight of each unit (of the value less the excluded holdings).
    exclude : iterable of str
        Units held outside the targets (``PortfolioConfig.exclude_assets``).
    substitutes : mapping, optional
        Original -> substitute of tax-loss harvesting; a substitute without a target of its own
        counts as its original.
    """
    excluded = set(exclude)
    folded: dict[str, float] = {}
    to_original = {sub: orig for orig, sub in (substitutes or {}).items() if sub not in targets}
    for unit, weight in weights.items():
        if unit in excluded:
            continue
        unit = to_original.get(unit, unit)
        folded[unit] = folded.get(unit, 0.0) + weight
    rest = 1.0 - sum(w for u, w in weights.items() if u in excluded)
    scale = 1.0 / rest if rest > 1e-12 else 1.0
    units = dict.fromkeys([*targets, *folded])
    return {u: folded.get(u, 0.0) * scale - targets.get(u, 0.0) for u in units if u not in excluded}


def level_of(max_drift: float, settings: AlertSettings) -> Level:
    """``critical`` at or above ``drift_critical``, ``warning`` at or above ``drift_warning``, else ``none``."""
    if max_drift >= settings.drift_critical:
        return "critical"
    return "warning" if max_drift >= settings.drift_warning else "none"


def held_level(max_drift: float, previous: Level, settings: AlertSettings) -> Level:
    """``level_of`` with hysteresis: a ``previous`` level stays while the drift is at or above
    ``clear_ratio`` times its threshold (so a drift hovering at 5% does not alert and clear on
    alternate days); the level never goes below what ``level_of`` gives."""
    level = level_of(max_drift, settings)
    for held, threshold in (("critical", settings.drift_critical), ("warning", settings.drift_warning)):
        if LEVELS.index(previous) >= LEVELS.index(held) > LEVELS.index(level) and \
                max_drift >= threshold * settings.clear_ratio:
            return held
    return level


def drift_check(weights: Mapping[str, float], targets: Mapping[str, float], settings: AlertSettings, *,
                exclude: Iterable[str] = (), substitutes: Optional[Mapping[str, str]] = None,
                previous: Level = "none") -> DriftCheck:
    """The alert level of ``weights`` against ``targets`` and the units responsible for it (the
    keyword arguments as in ``unit_drifts``; ``previous``: the last recorded level, for the
    hysteresis of ``held_level``)."""
    drifts = unit_drifts(weights, targets, exclude=exclude, substitutes=substitutes)
    max_drift = max((abs(d) for d in drifts.values()), default=0.0)
    level = held_level(max_drift, previous, settings)
    floor = {"none": float("inf"), "warning": settings.drift_warning, "critical": settings.drift_critical}[level]
    if level != level_of(max_drift, settings):  # held by the hysteresis: name the units still near the threshold
        floor *= settings.clear_ratio
    units = {u: d for u, d in sorted(drifts.items(), key=lambda kv: -abs(kv[1])) if abs(d) >= floor}
    return DriftCheck(level, max_drift, drifts, units)


def targets_at(events: Sequence[RebalancingEvent], moment: datetime,
               configured: Mapping[str, float]) -> dict[str, float]:
    """The targets drift is measured against at ``moment``: those of the newest rebalance on or
    before it (``final_targets``: the engine's targets after the risk limits, so a unit the risk
    stage dropped or shrank is not drift), or the configured targets before the first one, or when
    the newest rebalance was decided under other configured targets (the portfolio file changed)."""
    for event in reversed(events):
        if event.timestamp <= moment and event.status == PlanStatus.ORDERS and event.final_targets:
            if (event.config or {}).get("target_allocations") != dict(configured):
                break  # decided under other targets (the file changed since): they say nothing about these
            return dict(event.final_targets)
    return dict(configured)


def recorded_level(memory: Mapping[str, float]) -> Level:
    """The last recorded level kept in an agent state's (or an event's) memory; ``none`` if never."""
    index = int(memory.get(MEMORY_KEY, 0.0))
    return LEVELS[index] if 0 <= index < len(LEVELS) else "none"


def should_record(previous: Level, current: Level) -> bool:
    """A rise above the last recorded level, or a fall back to ``none`` from an alert, is journaled.

    A fall from ``critical`` to ``warning`` is not an event; the recorded level still follows it
    (``next_recorded``) so that a later rise to ``critical`` alerts again.
    """
    return LEVELS.index(current) > LEVELS.index(previous) or (current == "none" and previous != "none")


def alert_event_id(portfolio_name: str, timestamp: datetime, level: Level) -> str:
    """Deterministic id of an alert: the same portfolio, moment and level give the same id (a
    recovery that measures the cycle again finds the alert it wrote before the crash)."""
    return hashlib.sha256(f"{portfolio_name}|alert|{timestamp.isoformat()}|{level}".encode()).hexdigest()[:16]


def alert_event(*, check: DriftCheck, previous: Level, settings: AlertSettings, timestamp: datetime,
                portfolio_name: str, method: str, config: dict, sequence: int, cause: str, value: float,
                cash: float, weights: dict[str, float], targets: dict[str, float], memory: dict[str, float],
                risk_exclusions: dict, trigger_fired: bool, cash_flow=None) -> RebalancingEvent:
    """The ``alert`` event of a level change. It carries its cycle's bookkeeping (``memory``, with
    the new level under ``MEMORY_KEY``, held-out units, whether the trigger fired, the cash flow) so that recovery can
    finish the cycle from the journal alone, as from a harvest event."""
    record = AlertRecord(level=check.level, previous_level=previous, max_drift=check.max_drift, units=check.units,
                         drift_warning=settings.drift_warning, drift_critical=settings.drift_critical)
    listed = ", ".join(f"{u} {d:+.2%}" for u, d in check.units.items())
    if check.level == "none":
        message = f"drift alert cleared (was {previous}): max drift {check.max_drift:.2%}"
    else:
        threshold = settings.drift_critical if check.level == "critical" else settings.drift_warning
        message = f"drift alert {check.level}: max drift {check.max_drift:.2%} >= {threshold:.0%} ({listed})"
    return RebalancingEvent(
        event_id=alert_event_id(portfolio_name, timestamp, check.level), timestamp=timestamp,
        portfolio_name=portfolio_name, method=method, status=PlanStatus.ALERT,
        trigger=TriggerDecision(fired=False, trigger="drift_alert", reason=message,
                                details={u: round(d, 10) for u, d in check.drifts.items()}),
        weights_before=weights, engine_targets={}, final_targets=dict(targets), risk_verdicts=[], orders=[],
        value_before=value, value_after=value, cash_before=cash, cash_after=cash, config=config, message=message,
        cause=cause, sequence=sequence, memory=dict(memory),
        risk_exclusions=dict(risk_exclusions), cycle_trigger_fired=trigger_fired, cash_flow=cash_flow,
        alert=record)
