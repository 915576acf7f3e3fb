"""Start-up: finish what an interrupted run left, and reconcile a live account.

Both run inside the agent's constructor, after the journal checks (``src/agents/journal.py``)
and before any new decision.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from src.agents.journal import unfinished_cycle
from src.errors import ConfigError
from src.events.record import FILLED, CycleBookkeeping, reconciliation_event
from src.models.decision_models import PlanStatus

if TYPE_CHECKING:
    from src.agents.portfolio_rebalancing_agent import PortfolioRebalancingAgent

log = logging.getLogger(__name__)


def recover(agent: "PortfolioRebalancingAgent") -> None:
    """Finish the cycle an interrupted run left (its events are journaled, its state is not):
    complete its pending events, then close it through the cycle's own ``_close_cycle``.

    A simulated account completes a pending event only at its own time (filling a 2019 order at
    another day's price would invent a trade); a live account never re-plans or re-sends: each
    order is looked up on the exchange by its client order id and followed, and one that never
    left is reported cancelled (the next cycle plans again from the balances).
    """
    unfinished = unfinished_cycle(agent.rebalancing_history, agent.state, agent.state_store.path, agent.data_dir)
    if unfinished and all(e.status == PlanStatus.RECONCILIATION for e in unfinished):
        agent.state.journal_sequence = len(agent.rebalancing_history)  # written just before a stop: counted now
        agent.state_store.save(agent.state)
        return
    for moment in dict.fromkeys(e.timestamp for e in unfinished):  # one cycle (more only in older journals)
        for event in [e for e in unfinished if e.timestamp == moment and e.execution == "pending"]:
            now = agent.clock.now()
            if not agent.broker.live and now.date() != event.timestamp.date():
                raise ConfigError(
                    f"event {event.event_id} of {event.timestamp.date()} was left pending by an interrupted run "
                    f"and can only be completed at its own date, not {now.date()}: resume the replay "
                    f"(python main.py --replay) on this data directory")
            log.warning("completing event %s left pending by an interrupted run", event.event_id)
            flow = event.cash_flow if event.cash_flow is not None and event.cash_flow.flow_id else None
            if flow is not None and flow.amount > 0:
                agent._apply_flow(flow)  # a no-op unless the account was rebuilt without it
            agent._complete(event, resume=True)
        for event in [e for e in unfinished if e.timestamp == moment]:
            flow = event.cash_flow
            if flow is not None and flow.flow_id and flow.amount < 0:
                agent._apply_flow(flow)  # a withdrawal leaves after its sales (once, by its id)
        done = [e for e in agent.rebalancing_history if e.timestamp == moment and e.status != PlanStatus.RECONCILIATION]
        if any(o.status in FILLED for e in done for o in e.orders):
            agent.state.last_rebalance_at = moment
        harvested = any(e.status == PlanStatus.HARVEST for e in done)
        # The cycle's own decision (not its harvest) holds its bookkeeping, when there is one.
        decision = next((e for e in reversed(done) if e.status != PlanStatus.HARVEST), done[-1])
        checked_before = agent.state.last_check_at
        agent._close_cycle(moment, decision.cause, CycleBookkeeping.of_event(decision),
                           harvest=not harvested and agent.clock.now() == moment)
        if agent.broker.live and not any(o.status in FILLED for e in done for o in e.orders):
            # Nothing of the interrupted plan reached the exchange: the next cycle checks at once
            # (from the balances) instead of waiting for the next check period.
            agent.state.last_check_at = checked_before
            agent.state_store.save(agent.state)


def reconcile(agent: "PortfolioRebalancingAgent") -> None:
    """A live account whose balances changed since the agent's last cycle gets an event saying
    what changed, before any trading (written first, then remembered: a stop in between repeats
    the report rather than losing it)."""
    differences = agent.broker.reconcile()
    if not differences:
        return
    state = agent._portfolio_state()
    event = reconciliation_event(timestamp=state.timestamp, config=agent.config,
                                 sequence=len(agent.rebalancing_history) + 1, differences=differences,
                                 value=state.total_value(), cash=state.cash)
    agent.events.save(event)
    agent.rebalancing_history.append(event)
    log.warning("%s", event.message)
    agent.broker.checkpoint()
    agent.state.journal_sequence = len(agent.rebalancing_history)
    agent.state_store.save(agent.state)
