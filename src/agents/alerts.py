"""The agent's drift alert step: measure the drift a cycle leaves, journal a level change.

Called at the end of every cycle, run or recovered (``_close_cycle``), after the trades and the
harvest and before the value point and the state are saved. The pure rules are in
``src/risk/drift_alerts.py``; this module reads the agent and writes the event.

Crash safety: the alert event is journaled (with the next sequence) before the state that
remembers its level. Its id is deterministic (portfolio, moment, level), so a recovery that
closes the interrupted cycle again measures the same drift, finds the event already in the
journal and does not write it twice; a crash before the write lets recovery write it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Optional

from src.events.record import CycleBookkeeping, redacted
from src.models.decision_models import PlanStatus, RebalancingEvent
from src.risk.drift_alerts import (
    LEVELS,
    MEMORY_KEY,
    DriftCheck,
    alert_event,
    alert_event_id,
    drift_check,
    recorded_level,
    should_record,
    targets_at,
)

if TYPE_CHECKING:  # pragma: no cover
    from src.agents.portfolio_rebalancing_agent import PortfolioRebalancingAgent

log = logging.getLogger(__name__)


def current_drift(agent: "PortfolioRebalancingAgent", state=None) -> Optional[DriftCheck]:
    """The alert level of the account now (or of ``state``); None for an account worth nothing."""
    state = state if state is not None else agent._portfolio_state()
    if state.total_value() <= 0:
        return None
    tax = agent.settings.tax
    targets = targets_at(agent.rebalancing_history, state.timestamp, agent.config.target_allocations)
    return drift_check(state.weights(list(state.prices)), targets, agent.settings.alerts,
                       exclude=agent.config.exclude_assets, substitutes=tax.substitutes if tax else None,
                       previous=recorded_level(agent.state.memory))


def last_decision(events: list[RebalancingEvent]) -> Optional[int]:
    """Index of the newest event that is not an alert (a run of repeated blocked verdicts folds
    into it: an alert in between does not break the run), or None."""
    return next((i for i in range(len(events) - 1, -1, -1) if events[i].status != PlanStatus.ALERT), None)


def last_alert(events: list[RebalancingEvent]) -> Optional[RebalancingEvent]:
    """The newest ``alert`` event of a journal, if any."""
    return next((e for e in reversed(events) if e.status == PlanStatus.ALERT), None)


def record_drift_alert(agent: "PortfolioRebalancingAgent", moment: datetime, cause: str,
                       cycle: CycleBookkeeping) -> Optional[RebalancingEvent]:
    """Journal an ``alert`` event if the cycle's drift level rose above the recorded one (or fell
    back to none) and remember the level in the state's memory; the event, or None."""
    settings = agent.settings.alerts
    if not settings.enabled:
        return None
    state = agent._portfolio_state()
    check = current_drift(agent, state)
    if check is None:
        return None
    previous = recorded_level(agent.state.memory)
    if check.level != previous:  # remembered from here on (a fall to warning too: a new rise alerts again)
        memory = {k: v for k, v in agent.state.memory.items() if k != MEMORY_KEY}
        if check.level != "none":
            memory[MEMORY_KEY] = float(LEVELS.index(check.level))
        agent.state.memory = memory
    if not should_record(previous, check.level):
        return None
    event_id = alert_event_id(agent.config.name, moment, check.level)
    for event in reversed(agent.rebalancing_history):  # this cycle's events are the newest
        if event.timestamp != moment:
            break
        if event.event_id == event_id:  # journaled before a crash; recovery is closing the cycle again
            return event
    event = alert_event(check=check, previous=previous, settings=settings, timestamp=moment,
                        portfolio_name=agent.config.name, method=agent.config.rebalancing_method.value,
                        config=redacted(agent.config.model_dump(mode="json")), sequence=agent._next_sequence(),
                        cause=cause, value=state.total_value(), cash=state.cash,
                        weights=state.weights(list(state.prices)),
                        targets=targets_at(agent.rebalancing_history, moment, agent.config.target_allocations),
                        memory=agent.state.memory, risk_exclusions=cycle.risk_exclusions,
                        trigger_fired=cycle.trigger_fired, cash_flow=cycle.flow)
    agent.events.save(event)
    agent.rebalancing_history.append(event)
    (log.info if check.level == "none" else log.warning)("%s %s: %s", agent.config.name, moment.date(), event.message)
    return event
