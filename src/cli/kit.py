"""``kit rebalance ...``: look (status, preview, history, model, profile) before acting (execute).

Every command takes ``--config FILE`` (JSON or YAML portfolio file) and ``--data-dir``, prints
tables by default or a stable JSON document with ``--json``, and exits 0 (done), 1 (nothing to
do, or refused: a stale plan id, no confirmation) or 2 (bad input), with one line on stderr and
never a traceback. It drives the same agent as ``main.py`` and the Python API: no second
implementation of any decision.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any, Optional

import click
from termcolor import colored

from src.errors import RebalancerError, one_line_error
from src.utils.config_files import SAMPLE_PORTFOLIO, load_portfolio_file
from src.utils.paths import PORTFOLIO_DIR

NOTHING, REFUSED = 1, 1


class Refused(Exception):
    """A refusal (exit 1) with its one line."""


def _agent(config: Path, data_dir: Path):
    from src.agents.portfolio_rebalancing_agent import PortfolioRebalancingAgent

    loaded = load_portfolio_file(config)
    return PortfolioRebalancingAgent(loaded.portfolio, settings=loaded.runtime, data_dir=data_dir)


def _emit(as_json: bool, payload: dict[str, Any], lines: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(payload, indent=1, default=str))
    else:
        for line in lines:
            click.echo(line)


def _run(fn) -> None:
    """Call ``fn`` and turn every failure into one line and an exit code."""
    try:
        code = fn()
    except Refused as exc:
        click.echo(colored(f"refused: {exc}", "yellow"), err=True)
        sys.exit(REFUSED)
    except (RebalancerError, ValueError) as exc:
        click.echo(colored(f"error: {one_line_error(exc)}", "red"), err=True)
        sys.exit(2)
    except OSError as exc:
        click.echo(colored(f"error: {one_line_error(exc)}", "red"), err=True)
        sys.exit(1)
    sys.exit(code or 0)


def _plan_payload(plan) -> dict[str, Any]:
    return {"plan_id": plan.plan_id, "timestamp": plan.timestamp.isoformat(), "status": plan.status.value,
            "message": plan.message, "trigger": plan.trigger.model_dump(mode="json"),
            "orders": [o.model_dump(mode="json") for o in plan.orders],
            "skipped_trades": [s.model_dump(mode="json") for s in (plan.order_plan.skipped if plan.order_plan else [])],
            "risk_verdicts": [v.model_dump(mode="json") for v in (plan.risk.verdicts if plan.risk else [])]}


def _plan_lines(plan) -> list[str]:
    lines = [f"plan {plan.plan_id} at {plan.timestamp:%Y-%m-%d}: {plan.status.value}: {plan.message}"]
    lines += [f"  {o.side.value:4} {o.quantity:12.4f} {o.unit:20} ~{o.notional:12,.2f}  {o.reason}" for o in plan.orders]
    lines += [f"  skipped {s.unit}: {s.reason}" for s in (plan.order_plan.skipped if plan.order_plan else [])]
    lines += [f"  risk {v.limit}: {v.action.value} ({v.reason_code.value})" for v in (plan.risk.verdicts if plan.risk else [])
              if v.action.value != "pass"]
    return lines


config_option = click.option("--config", "config", type=click.Path(path_type=Path), default=SAMPLE_PORTFOLIO,
                             show_default=True, help="portfolio file (JSON or YAML)")
data_option = click.option("--data-dir", type=click.Path(path_type=Path), default=PORTFOLIO_DIR, show_default=True,
                           help="events, state and paper account")
json_option = click.option("--json", "as_json", is_flag=True, help="machine-readable output (stable schema)")


def account_options(fn):
    """--config, --data-dir and --json, shared by the commands that open the account."""
    return config_option(data_option(json_option(fn)))


@click.group()
def kit() -> None:
    """The trading-bot framework's command line."""


@kit.group()
def rebalance() -> None:
    """Portfolio rebalancing: look before you act."""


@rebalance.command()
@account_options
def status(config: Path, data_dir: Path, as_json: bool) -> None:
    """Positions against targets, drift, the last event."""
    def go() -> int:
        with _agent(config, data_dir) as agent:
            positions = agent.positions()
            last = agent.rebalancing_history[-1] if agent.rebalancing_history else None
            cash = agent.broker.get_account().cash
        payload = {"portfolio": agent.config.name, "as_of": agent.clock.now().isoformat(), "cash": cash,
                   "positions": [p.model_dump(mode="json") for p in positions],
                   "max_abs_drift": max((abs(p.drift) for p in positions), default=0.0),
                   "last_event": None if last is None else {"event_id": last.event_id, "timestamp": last.timestamp.isoformat(),
                                                            "status": last.status.value, "message": last.message}}
        lines = [f"{agent.config.name} at {agent.clock.now():%Y-%m-%d}: cash {cash:,.2f}"]
        lines += [f"  {p.unit:20} weight {p.weight:7.2%}  target {p.target_weight:7.2%}  drift {p.drift:+7.2%}"
                  for p in positions]
        lines.append(f"last event: {last.timestamp:%Y-%m-%d} {last.status.value}: {last.message}" if last
                     else "last event: none")
        _emit(as_json, payload, lines)
        return 0
    _run(go)


@rebalance.command()
@account_options
def preview(config: Path, data_dir: Path, as_json: bool) -> None:
    """The plan (orders with reasons, skipped trades, risk verdicts) without sending anything."""
    def go() -> int:
        with _agent(config, data_dir) as agent:
            plan = agent.preview()
        _emit(as_json, _plan_payload(plan), _plan_lines(plan))
        return 0 if plan.orders else NOTHING
    _run(go)


@rebalance.command()
@account_options
@click.option("--plan-id", help="execute only if the plan is still this one (from preview)")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def execute(config: Path, data_dir: Path, as_json: bool, plan_id: Optional[str], yes: bool) -> None:
    """Execute the plan (refused if --plan-id is stale; asks for confirmation without --yes)."""
    def go() -> int:
        with _agent(config, data_dir) as agent:
            plan = agent.preview()
            if plan_id is not None and plan_id != plan.plan_id:
                raise Refused(f"plan {plan_id} is stale: the market or the account changed, the plan is now "
                              f"{plan.plan_id} (run preview again)")
            if not plan.orders:
                _emit(as_json, {**_plan_payload(plan), "executed": False}, _plan_lines(plan))
                return NOTHING
            if not yes:
                if not sys.stdin.isatty():
                    raise Refused("no confirmation: add --yes (or run on a terminal to be asked)")
                click.echo("\n".join(_plan_lines(plan)))
                if not click.confirm("execute these orders?", default=False):
                    raise Refused("not confirmed")
            event = agent.check_and_rebalance()
        payload = {"plan_id": plan.plan_id, "executed": True,
                   "event": None if event is None else event.model_dump(mode="json")}
        lines = [f"executed plan {plan.plan_id}: {event.message if event else 'nothing'}"]
        lines += [f"  {o.side.value:4} {o.filled_quantity:12.4f} {o.unit:20} {o.status.value}"
                  for o in (event.orders if event else [])]
        _emit(as_json, payload, lines)
        return 0
    _run(go)


@rebalance.command()
@account_options
def harvest(config: Path, data_dir: Path, as_json: bool) -> None:
    """Tax-loss harvesting candidates with their estimated benefit, and the orders (not sent)."""
    def go() -> int:
        with _agent(config, data_dir) as agent:
            found = agent.preview_harvest()
        if found is None:
            raise Refused("tax tracking is off: set runtime.tax (substitutes, rates) in the portfolio file")
        candidates = found.get("harvest_candidates", [])
        lines = [f"{len(candidates)} candidate(s), {len(found['orders'])} order(s) a harvest would send"]
        lines += [f"  {c.get('symbol')}: loss {c.get('loss', 0):,.2f}, estimated benefit "
                  f"{c.get('estimated_benefit', 0):,.2f}: {c.get('reason', '')}" for c in candidates]
        lines += [f"  {o['side']:4} {o['quantity']:12.4f} {o['unit']:10} {o['reason']}" for o in found["orders"]]
        _emit(as_json, found, lines)
        return 0 if found["orders"] else NOTHING
    _run(go)


@rebalance.command()
@account_options
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="newest N events")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="events on or after this day")
def history(config: Path, data_dir: Path, as_json: bool, limit: int, since) -> None:
    """Past events, newest last."""
    def go() -> int:
        with _agent(config, data_dir) as agent:
            events = [e for e in agent.rebalancing_history if since is None or e.timestamp >= since][-limit:]
        payload = {"events": [{"event_id": e.event_id, "timestamp": e.timestamp.isoformat(), "status": e.status.value,
                               "orders": len(e.orders), "fees": e.fees, "message": e.message} for e in events]}
        lines = [f"{e.timestamp:%Y-%m-%d} {e.status.value:15} {len(e.orders):3} order(s) fees {e.fees:9,.2f}  {e.message}"
                 for e in events] or ["no events"]
        _emit(as_json, payload, lines)
        return 0 if events else NOTHING
    _run(go)


@rebalance.command()
@click.argument("name")
@json_option
def model(name: str, as_json: bool) -> None:
    """A model portfolio or risk profile: real holdings, proxies, demo targets."""
    def go() -> int:
        from src.portfolios.model_catalogue import get_model

        found = get_model(name)
        payload = found.model_dump(mode="json") | {"demo_targets": found.proxy_targets()}
        lines = [f"{found.title}: {found.description}",
                 "  holdings: " + ", ".join(f"{t} {w:.2%}" for t, w in found.holdings.items()),
                 "  demo targets: " + ", ".join(f"{u} {w:.2%}" for u, w in found.proxy_targets().items())]
        _emit(as_json, payload, lines)
        return 0
    _run(go)


@rebalance.command()
@click.argument("name")
@click.option("--holdings", type=click.Path(path_type=Path), required=True, help="holdings file")
@click.option("--dry-run", is_flag=True, help="add the estimated tax of the sells")
def profile(name: str, holdings: Path, dry_run: bool) -> None:
    """The seed-003 risk-profile report (asset-class drift, trade list, summary)."""
    from src.scripts.profile_report import main as profile_main

    sys.exit(profile_main(["--profile", name, "--holdings", str(holdings), *(["--dry-run"] if dry_run else [])]))


def main() -> None:
    """Console entry point (``kit``)."""
    try:
        kit(standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
        sys.exit(130)
