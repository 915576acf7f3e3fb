"""``kit rebalance status|preview|execute|harvest|history``: look before you act.

Each command opens the account, asks ``src/service/rebalance.py`` (the same functions the HTTP
API calls) and renders the typed view as a table or, with ``--json``, as its JSON schema.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Optional

import click

from src.cli import household_cmds as hh
from src.cli.common import NOTHING, Refused, account_options, emit, run
from src.cli.report_cmd import alert_lines
from src.service import rebalance as svc

MAX_HISTORY_LIMIT = 10_000  # as the API's MAX_HISTORY (src/api/app.py, not imported: it loads FastAPI)


def plan_lines(plan: svc.PlanView) -> list[str]:
    """The plan as a few lines: the header, the orders with reasons, what was skipped and why."""
    lines = [f"plan {plan.plan_id} at {plan.timestamp:%Y-%m-%d}: {plan.status}: {plan.message}"]
    lines += [f"  {o['side']:4} {o['quantity']:12.4f} {o['unit']:20} ~{o['notional']:12,.2f}  {o['reason']}"
              for o in plan.orders]
    lines += [f"  skipped {s['unit']}: {s['reason']}" for s in plan.skipped_trades]
    lines += [f"  risk {v['limit']}: {v['action']} ({v['reason_code']})" for v in plan.risk_verdicts
              if v["action"] != "pass"]
    if plan.tax and plan.tax.get("plan_impact"):
        impact = plan.tax["plan_impact"]
        lines.append("  tax: " + ", ".join(f"{k} {v:,.2f}" for k, v in impact.items() if isinstance(v, (int, float))))
    return lines


@click.command()
@account_options
@hh.household_option
def status(config: Path, data_dir: Path, as_json: bool, household: Optional[Path]) -> None:
    """Positions against targets, drift, the last event (--household: each account at the backtest's end)."""
    def go() -> int:
        if hh.chosen(household):
            return hh.status(household, as_json)
        with svc.open_agent(config, data_dir) as agent:
            view = svc.status(agent)
        lines = [f"{view.portfolio} at {view.as_of:%Y-%m-%d}: value {view.value:,.2f}, cash {view.cash:,.2f}"]
        lines += [f"  {p.unit:20} weight {p.weight:7.2%}  target {p.target_weight:7.2%}  "
                  + ("excluded (never traded)" if p.unit in view.excluded_assets else f"drift {p.drift:+7.2%}")
                  for p in view.positions]
        last = view.last_event
        lines.append(f"last event: {last.timestamp:%Y-%m-%d} {last.status}: {last.message}" if last
                     else "last event: none")
        lines += alert_lines(view)
        emit(as_json, view, lines)
        return 0
    run(go)


@click.command()
@account_options
@hh.household_option
def preview(config: Path, data_dir: Path, as_json: bool, household: Optional[Path]) -> None:
    """The plan (orders with reasons, skipped trades, risk verdicts, tax impact) without sending anything."""
    def go() -> int:
        if hh.chosen(household):
            return hh.preview(household, as_json)
        with svc.open_agent(config, data_dir) as agent:
            plan = svc.preview(agent)
        emit(as_json, plan, plan_lines(plan))
        return 0 if plan.orders else NOTHING
    run(go)


def _plan_id(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> Optional[str]:
    """``--plan-id``: a malformed id is bad input (exit 2), not a stale plan; the API's pattern."""
    from src.api.views import PLAN_ID_PATTERN  # here, not at the top: importing the API loads FastAPI

    if value is not None and not re.fullmatch(PLAN_ID_PATTERN, value):
        raise click.BadParameter(f"{value!r} is not a plan id (16 lower-case hex digits, as preview prints it)")
    return value


def _ask(lines: list[str]) -> bool:
    if not sys.stdin.isatty():
        raise Refused("no confirmation: add --yes (or run on a terminal to be asked)")
    click.echo("\n".join(lines))
    return click.confirm("execute these orders?", default=False)


@click.command()
@account_options
@click.option("--plan-id", callback=_plan_id, help="execute only if the plan is still this one (from preview)")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@click.option("--live", is_flag=True, help="a runtime.mode \"live\" portfolio: send the orders to the exchange "
                                           "(without it, a live portfolio is a read-only dry run)")
@hh.household_option
def execute(config: Path, data_dir: Path, as_json: bool, plan_id: Optional[str], yes: bool, live: bool,
            household: Optional[Path]) -> None:
    """Execute the plan (refused if --plan-id is stale; asks for confirmation without --yes)."""
    def go() -> int:
        if hh.chosen(household):
            return hh.execute(household, data_dir, as_json, yes)
        with svc.open_agent(config, data_dir, live=live) as agent:
            result = svc.execute(agent, plan_id, confirm=None if yes else lambda plan: _ask(plan_lines(plan)))
        lines = [result.message]
        lines += [f"  {o['side']:4} {o['filled_quantity']:12.4f} {o['unit']:20} {o['status']}"
                  for o in (result.event or {}).get("orders", [])]
        emit(as_json, result, lines)
        return 0 if result.executed or result.already_executed else NOTHING
    run(go)


@click.command()
@account_options
@click.option("--limit", type=click.IntRange(1, MAX_HISTORY_LIMIT), default=20, show_default=True, help="newest N events")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="events on or after this day")
@hh.household_option
def history(config: Path, data_dir: Path, as_json: bool, limit: int, since, household: Optional[Path]) -> None:
    """Past events, newest last (--household: the household plan files in --data-dir)."""
    def go() -> int:
        if hh.chosen(household):
            return hh.history(household, data_dir, as_json, limit, since)
        with svc.open_agent(config, data_dir) as agent:
            events = svc.history(agent, limit=limit, since=since)
        lines = [f"{e.timestamp:%Y-%m-%d} {e.status:15} {e.orders:3} order(s) fees {e.fees:9,.2f}  {e.message}"
                 for e in events] or ["no events"]
        emit(as_json, svc.HistoryView(events=events), lines)
        return 0 if events else NOTHING
    run(go)


def harvest_lines(view: svc.HarvestView) -> list[str]:
    """The harvest as a few lines: the candidates with their benefit, then the orders."""
    lines = [f"harvest {view.plan_id} at {view.as_of:%Y-%m-%d}: {view.message}"]
    lines += [f"  {c.get('symbol')}: loss {c.get('loss', 0):,.2f}, estimated benefit "
              f"{c.get('estimated_benefit', 0):,.2f}: {c.get('reason', '')}" for c in view.harvest_candidates]
    lines += [f"  {o['side']:4} {o['quantity']:12.4f} {o['unit']:10} {o['reason']}" for o in view.orders]
    return lines


@click.command()
@account_options
@click.option("--execute", "do_execute", is_flag=True, help="harvest now: send the orders and journal the event")
@click.option("--yes", is_flag=True, help="with --execute: do not ask for confirmation")
@hh.household_option
def harvest(config: Path, data_dir: Path, as_json: bool, do_execute: bool, yes: bool,
            household: Optional[Path]) -> None:
    """Tax-loss harvesting candidates with their estimated benefit and the orders (--execute: send them)."""
    def go() -> int:
        if hh.chosen(household):
            return hh.harvest(household)
        with svc.open_agent(config, data_dir) as agent:
            if not do_execute:
                view = svc.harvest(agent)
                emit(as_json, view, harvest_lines(view))
                return 0 if view.orders else NOTHING
            result = svc.execute_harvest(agent, confirm=None if yes else lambda v: _ask(harvest_lines(v)))
        lines = [result.message]
        lines += [f"  {o['side']:4} {o['filled_quantity']:12.4f} {o['unit']:10} {o['status']}"
                  for o in (result.event or {}).get("orders", [])]
        emit(as_json, result, lines)
        return 0 if result.executed else NOTHING
    run(go)
