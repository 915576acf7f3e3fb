"""What the ``kit`` command, the HTTP API and ``main.py`` show and do, computed once.

Each verb takes an open ``PortfolioRebalancingAgent`` and returns a typed view; the surfaces only
render it (tables, JSON, HTTP). So the CLI, the API and the Python API cannot disagree about a
plan: they call the same ``agent.preview()`` through the same function.

``execute`` is idempotent per plan id: the plan id is the event id of the rebalance it becomes, so
a second request with the same id finds that event in the journal and returns it, sending nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator, Optional

from pydantic import Field

from src.errors import RebalancerError
from src.models.base import StrictModel
from src.models.trading_models import StrategyPosition
from src.utils.config_files import load_portfolio_file


class RefusedError(RebalancerError):
    """A request refused as asked (exit 1 in the CLI, 409 in the API): nothing was sent."""


class StalePlanError(RefusedError):
    """The plan id asked for is no longer the plan (the market or the account changed)."""


class NotConfirmedError(RefusedError):
    """The user did not confirm the orders."""


class LiveNotEnabledError(RefusedError):
    """An order to a live portfolio without ``--live``: the agent runs as a read-only dry run."""


class EventSummary(StrictModel):
    """One journaled event, in a line."""

    event_id: str = Field(description="The event's id (for a rebalance: its plan id).")
    sequence: Optional[int] = Field(None, description="Position in the portfolio's journal (1, 2, ...).")
    timestamp: datetime = Field(description="When it happened (the agent's clock).")
    status: str = Field(description="completed, partial, blocked, engine_failed, harvest, ...")
    orders: int = Field(ge=0, description="Orders sent.")
    fees: float = Field(description="Fees paid.")
    message: str = Field(description="What happened, in a sentence.")


class HistoryView(StrictModel):
    """Journaled events, oldest first (``kit rebalance history --json``, ``GET /api/rebalance/history``)."""

    events: list[EventSummary] = Field(description="The newest events on or after `since`, oldest first.")


class StatusView(StrictModel):
    """Positions against targets, drift and the last event."""

    portfolio: str = Field(description="Portfolio name.")
    as_of: datetime = Field(description="The agent's clock (the latest trading day for paper accounts).")
    value: float = Field(description="Cash plus holdings at market.")
    cash: float = Field(description="Free cash.")
    positions: list[StrategyPosition] = Field(description="Every configured or held unit.")
    max_abs_drift: float = Field(
        description="Largest |weight - target| against the targets in force (drift_targets), harvest substitutes "
        "counted as their originals: what the drift alert measures. The positions' own drift is against the "
        "configured targets.")
    drift_targets: dict[str, float] = Field(
        default_factory=dict, description="The targets in force: the newest rebalance's after the risk limits (a unit "
        "the risk stage held out at 0), or the configured ones before the first rebalance or after the file changed.")
    excluded_assets: list[str] = Field(default_factory=list, description="Held as they are, never traded.")
    last_event: Optional[EventSummary] = Field(None, description="The newest journaled event, if any.")
    alert_level: str = Field("none", description="Drift alert level now: none, warning or critical (off when "
                             "runtime.alerts.enabled is false); see src/risk/drift_alerts.py.")
    alert_units: dict[str, float] = Field(default_factory=dict,
                                          description="The units at or above the level's threshold, with their drift.")
    last_alert: Optional[EventSummary] = Field(None, description="The newest journaled drift alert, if any.")


class PlanView(StrictModel):
    """The plan a check would make now, with nothing sent or written."""

    plan_id: str = Field(description="Deterministic id: the same market and account give the same id.")
    timestamp: datetime = Field(description="The decision's clock.")
    status: str = Field(description="no_trigger, engine_failed, blocked, no_trades or orders.")
    message: str = Field(description="What the plan does, in a sentence.")
    trigger: dict[str, Any] = Field(description="Whether and why the trigger fired.")
    orders: list[dict[str, Any]] = Field(description="Orders with their reasons and client order ids.")
    skipped_trades: list[dict[str, Any]] = Field(description="Trades not made, with the reason.")
    risk_verdicts: list[dict[str, Any]] = Field(description="Every risk limit's verdict and reason code.")
    tax: Optional[dict[str, Any]] = Field(
        None, description="With tax tracking on: the orders after wash-sale checks and the tax impact.")


class ExecuteResult(StrictModel):
    """What ``execute`` did."""

    plan_id: str = Field(description="The plan executed (or found already executed).")
    executed: bool = Field(description="Orders were sent by this request.")
    already_executed: bool = Field(False, description="The plan id was executed before: its event is returned.")
    message: str = Field(description="What happened, in a sentence.")
    event: Optional[dict[str, Any]] = Field(None, description="The journaled event (None if nothing to do).")


@contextmanager
def open_agent(config: Path, data_dir: Path, *, live: bool = False) -> Iterator[Any]:
    """The agent of a portfolio file and data folder (takes the account lock; released on exit).

    A portfolio with ``runtime.mode: "live"`` opens on its exchange account: with ``live`` as a
    trading agent, without it as ``main.py``'s dry run (read-only calls, on a temporary copy of
    the data folder, so nothing is written and ``execute`` is refused).
    """
    from src.agents.portfolio_rebalancing_agent import PortfolioRebalancingAgent
    from src.runtime.live import check_live_flags, dry_run_agent, live_agent

    loaded = load_portfolio_file(config)
    check_live_flags(loaded, live, config)
    if loaded.runtime.mode == "live" and not live:
        with dry_run_agent(loaded, Path(data_dir)) as agent:
            yield agent
        return
    opened = (live_agent(loaded, Path(data_dir), dry_run=False) if live else
              PortfolioRebalancingAgent(loaded.portfolio, settings=loaded.runtime, data_dir=data_dir))
    with opened as agent:
        yield agent


def summarise(event) -> EventSummary:
    """One line's worth of a journaled event."""
    return EventSummary(event_id=event.event_id, sequence=event.sequence, timestamp=event.timestamp,
                        status=event.status.value, orders=len(event.orders), fees=event.fees, message=event.message)


def status(agent) -> StatusView:
    """Positions against targets, drift, the drift alert level and the last event."""
    from src.agents.alerts import current_drift, last_alert

    from src.risk.drift_alerts import targets_at

    positions = agent.positions()
    last = agent.rebalancing_history[-1] if agent.rebalancing_history else None
    cash = agent.broker.get_account().cash
    excluded = set(agent.config.exclude_assets)
    check = current_drift(agent)
    in_force = targets_at(agent.rebalancing_history, agent.clock.now(), agent.config.target_allocations)
    own = max((abs(p.drift) for p in positions if p.unit not in excluded), default=0.0)
    return StatusView(portfolio=agent.config.name, as_of=agent.clock.now(), cash=cash,
                      value=cash + sum(p.value for p in positions), positions=positions,
                      max_abs_drift=check.max_drift if check is not None else own, drift_targets=in_force,
                      excluded_assets=sorted(excluded), last_event=None if last is None else summarise(last),
                      **_alert_fields(agent, check, last_alert(agent.rebalancing_history)))


def _alert_fields(agent, check, alert) -> dict[str, Any]:
    level = "off" if not agent.settings.alerts.enabled else (check.level if check else "none")
    return dict(alert_level=level, alert_units=check.units if check and level != "off" else {},
                last_alert=None if alert is None else summarise(alert))


def preview(agent) -> PlanView:
    """The plan ``check_and_rebalance`` would make now (tax impact included when tracked)."""
    plan = agent.preview()
    tax = agent.preview_tax() if plan.orders else None
    return PlanView(plan_id=plan.plan_id, timestamp=plan.timestamp, status=plan.status.value, message=plan.message,
                    trigger=plan.trigger.model_dump(mode="json"),
                    orders=[o.model_dump(mode="json") for o in plan.orders],
                    skipped_trades=[s.model_dump(mode="json") for s in (plan.order_plan.skipped if plan.order_plan else [])],
                    risk_verdicts=[v.model_dump(mode="json") for v in (plan.risk.verdicts if plan.risk else [])],
                    tax=tax)


def find_event(agent, event_id: str):
    """The journaled event with this id, or None."""
    return next((e for e in reversed(agent.rebalancing_history) if e.event_id == event_id), None)


def execute(agent, plan_id: Optional[str], confirm: Optional[Callable[[PlanView], bool]] = None) -> ExecuteResult:
    """Execute the current plan.

    Parameters
    ----------
    agent : PortfolioRebalancingAgent
        The open agent.
    plan_id : str, optional
        Execute only if the plan is still this one. If it was executed before, its event is
        returned and nothing is sent (idempotent per plan id).
    confirm : callable, optional
        Asked with the plan before anything is sent; ``False`` refuses (``NotConfirmedError``).

    Raises
    ------
    StalePlanError
        ``plan_id`` is neither the current plan nor an executed one.
    NotConfirmedError
        ``confirm`` said no.
    """
    if plan_id is not None:
        done = find_event(agent, plan_id)
        if done is not None:
            return ExecuteResult(plan_id=plan_id, executed=False, already_executed=True,
                                 message=f"plan {plan_id} was executed at {done.timestamp:%Y-%m-%d %H:%M:%S}: "
                                         f"{done.message} (nothing sent again)",
                                 event=done.model_dump(mode="json"))
    plan = preview(agent)
    if plan_id is not None and plan_id != plan.plan_id:
        raise StalePlanError(f"plan {plan_id} is stale: the market or the account changed, the plan is now "
                             f"{plan.plan_id} (preview again)")
    if not plan.orders:
        return ExecuteResult(plan_id=plan.plan_id, executed=False, message=f"nothing to execute: {plan.message}")
    refuse_dry_run(agent)
    if confirm is not None and not confirm(plan):
        raise NotConfirmedError("not confirmed: nothing sent")
    event = agent.check_and_rebalance()
    if event is None:
        return ExecuteResult(plan_id=plan.plan_id, executed=False, message="nothing to execute")
    return ExecuteResult(plan_id=plan.plan_id, executed=bool(event.orders), message=event.message,
                         event=event.model_dump(mode="json"))


def refuse_dry_run(agent) -> None:
    """Raise ``LiveNotEnabledError`` if ``agent`` is a live portfolio's read-only dry run."""
    from src.runtime.live import DryRunBroker

    if isinstance(agent.broker, DryRunBroker):
        raise LiveNotEnabledError(f"{agent.config.name} trades live (runtime.mode \"live\"): without --live this "
                                  f"is a dry run, nothing was sent")


def history(agent, *, limit: int = 20, since: Optional[datetime] = None) -> list[EventSummary]:
    """The newest ``limit`` journaled events on or after ``since``, oldest first."""
    events = [e for e in agent.rebalancing_history if since is None or e.timestamp >= since]
    return [summarise(e) for e in events[-limit:]]


class TaxTrackingOffError(RefusedError):
    """A tax verb on a portfolio without tax tracking (a refusal: nothing to harvest from)."""


class HarvestView(StrictModel):
    """What a tax-loss harvest would do now, with nothing sent or written."""

    plan_id: str = Field(description="The event id a harvest now would get; its orders' client order ids follow.")
    as_of: datetime = Field(description="The agent's clock (the latest trading day for paper accounts).")
    message: str = Field(description="What a harvest would do, in a sentence.")
    harvest_candidates: list[dict[str, Any]] = Field(
        description="Every losing lot considered: symbol, loss, substitute, estimated benefit, action and reason.")
    orders: list[dict[str, Any]] = Field(
        description="Swap-backs due, then harvest sells and their substitute buys, with reasons.")


class HarvestResult(StrictModel):
    """What ``execute_harvest`` did."""

    plan_id: str = Field(description="The harvest's event id (the preview's plan id when it was still current).")
    executed: bool = Field(description="Orders were sent by this request.")
    message: str = Field(description="What happened, in a sentence.")
    event: Optional[dict[str, Any]] = Field(None, description="The journaled harvest event (None if nothing to do).")


def harvest(agent) -> HarvestView:
    """The tax-loss harvest the agent would make now (``agent.preview_harvest``); writes nothing.

    Raises
    ------
    TaxTrackingOffError
        If the portfolio has no tax tracking.
    """
    found = agent.preview_harvest()
    if found is None:
        raise TaxTrackingOffError("tax tracking is off: set runtime.tax (substitutes, rates) in the portfolio file")
    candidates, orders = found["harvest_candidates"], found["orders"]
    sells = sum(o["side"] == "sell" for o in orders)
    message = (f"{len(candidates)} candidate(s); a harvest would send {len(orders)} order(s) ({sells} sale(s))"
               if orders else f"nothing to harvest: {len(candidates)} candidate(s), none worth harvesting now")
    return HarvestView(plan_id=found["plan_id"], as_of=agent.clock.now(), message=message,
                       harvest_candidates=candidates, orders=orders)


def execute_harvest(agent, confirm: Optional[Callable[[HarvestView], bool]] = None) -> HarvestResult:
    """Harvest tax losses now (``agent.harvest_now``: one journaled ``harvest`` event).

    Parameters
    ----------
    agent : PortfolioRebalancingAgent
        The open agent.
    confirm : callable, optional
        Asked with the harvest before anything is sent; ``False`` refuses (``NotConfirmedError``).

    Raises
    ------
    TaxTrackingOffError
        If the portfolio has no tax tracking.
    LiveNotEnabledError
        The agent is a live portfolio's dry run (opened without ``live``).
    NotConfirmedError
        ``confirm`` said no.
    """
    view = harvest(agent)
    if not view.orders:
        return HarvestResult(plan_id=view.plan_id, executed=False, message=view.message)
    refuse_dry_run(agent)
    if confirm is not None and not confirm(view):
        raise NotConfirmedError("not confirmed: nothing sent")
    event = agent.harvest_now()
    if event is None:
        return HarvestResult(plan_id=view.plan_id, executed=False, message="nothing to harvest")
    return HarvestResult(plan_id=event.event_id, executed=bool(event.orders),
                         message=f"harvest {event.event_id} at {event.timestamp:%Y-%m-%d}, journaled as event "
                                 f"{event.sequence}: {event.message}, fees {event.fees:,.2f}",
                         event=event.model_dump(mode="json"))
