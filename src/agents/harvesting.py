"""Tax-loss harvesting on demand (``kit rebalance harvest [--execute]``), outside the agent's cycle.

The in-cycle harvest runs at the end of every cycle when ``runtime.tax_loss_harvest`` is on
(``PortfolioRebalancingAgent._harvest`` inside ``_close_cycle``). A harvest on demand is the same
step as a cycle of its own: the same orders (swap-backs due, then harvest sells and their
substitute buys, planned by the tax overlay), journaled as one ``harvest`` event with the next
sequence *before* anything is sent, executed through the same ``_complete`` (the tax book records
the lots and the swaps), then the cycle's end through the same ``_close_cycle`` recovery calls
(a value point and the agent state: ``journal_sequence``, ``last_check_at``). So start-up's
journal checks see an ordinary cycle, and a run stopped between the journal and the state is
finished by ``src/agents/recovery.py`` like any interrupted cycle (its bookkeeping is the
state's own: no trigger fired, memory and risk exclusions unchanged).

Like any cycle it sets ``last_check_at``: a threshold portfolio's ``check_frequency`` counts it
as that period's check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from src.errors import ConfigError
from src.events.record import CycleBookkeeping
from src.models.decision_models import RebalancingEvent
from src.pipeline import make_plan_id

if TYPE_CHECKING:
    from src.agents.portfolio_rebalancing_agent import PortfolioRebalancingAgent

HARVEST_NOW = "harvest_now"  # the cause of an on-demand harvest's event


def _state(agent: "PortfolioRebalancingAgent"):
    return agent._portfolio_state(extra_units=tuple(agent.tax.settings.substitutes.values()))


def preview_harvest(agent: "PortfolioRebalancingAgent") -> Optional[dict[str, Any]]:
    """What ``harvest_now`` would send now, with nothing written.

    Returns
    -------
    dict or None
        ``plan_id`` (the event id a harvest now would get: its orders' client order ids are the
        ones shown), ``orders`` (swap-backs due, then harvest sells and substitute buys) and
        ``harvest_candidates`` (every losing lot considered, with its estimated benefit and the
        reason it is or is not harvested); None without tax tracking.
    """
    if not agent.tax:
        return None
    state = _state(agent)
    plan_id = make_plan_id(f"{agent.config.name}|harvest", state)
    found = agent.tax.preview_harvest(state, agent.config.fee_model, agent.broker.slippage_reserve_bps,
                                      plan_id=plan_id)
    return {"plan_id": plan_id, **found}


def harvest_now(agent: "PortfolioRebalancingAgent") -> Optional[RebalancingEvent]:
    """Harvest tax losses now, as a cycle of its own (see the module docstring).

    Returns
    -------
    RebalancingEvent or None
        The completed harvest event, or None when there is nothing to harvest or swap back
        (then nothing is written).

    Raises
    ------
    ConfigError
        If tax tracking is off (nothing is written).
    """
    if not agent.tax:
        raise ConfigError("tax tracking is off: set runtime.tax (substitutes, rates) in the portfolio file")
    state = agent.state
    cycle = CycleBookkeeping(False, dict(state.memory), dict(state.risk_exclusions))
    event = agent._harvest(HARVEST_NOW, cycle)
    if event is None:
        return None
    # The end of the cycle exactly as recovery ends it from this event (its harvest is journaled).
    agent._close_cycle(event.timestamp, HARVEST_NOW, cycle, harvest=False)
    return event
