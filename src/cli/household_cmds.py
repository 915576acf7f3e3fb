"""``kit rebalance status|preview|history|execute|harvest --household FILE``: a household (several
accounts, one set of targets) instead of one portfolio. Each function renders a view of
``src/service/household.py`` and returns the exit code; ``rebalance_cmds.py`` calls them when
``--household`` is given.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import click
from click.core import ParameterSource

from src.cli.common import NOTHING, Refused, emit
from src.errors import ConfigError
from src.service import household as hh

household_option = click.option(
    "--household", type=click.Path(path_type=Path),
    help="household file (several accounts, one set of targets; a paper backtest): instead of --config")


def chosen(household: Optional[Path]) -> bool:
    """Whether the command is about a household; ``--config`` given too is bad input (exit 2)."""
    if household is None:
        return False
    if click.get_current_context().get_parameter_source("config") == ParameterSource.COMMANDLINE:
        raise ConfigError(f"--household {household} and --config cannot be used together: choose one")
    return True


def _trade_line(t) -> str:
    return f"  {t.account:16} {t.side.value:4} {t.units:12.4f} {t.unit:20} ~{t.notional:12,.2f}  {t.reason}"


def status(path: Path, as_json: bool) -> int:
    view = hh.status(hh.load(path))
    lines = [f"{view.household} ({view.routing} routing) at {view.as_of:%Y-%m-%d}, backtest from {view.start:%Y-%m-%d}:"
             f" value {view.value:,.2f}, cash {view.cash:,.2f}"]
    for a in view.accounts:
        lines.append(f"  {a.id:16} {a.type:15} owner {a.owner:10} value {a.value:14,.2f}  cash {a.cash:12,.2f}")
        lines += [f"      {h.unit:20} {h.quantity:14.4f}  {h.value:14,.2f}" for h in a.holdings]
    lines.append(f"household weights (band {view.band:.0%}):")
    lines += [f"  {w.unit:20} weight {w.weight:7.2%}  target {w.target_weight:7.2%}  drift {w.drift:+7.2%}"
              for w in view.weights]
    lines.append(f"note: {view.note}")
    emit(as_json, view, lines)
    return 0


def preview(path: Path, as_json: bool) -> int:
    view = hh.preview(hh.load(path))
    lines = [f"{view.household}: the router's last plan, {view.day:%Y-%m-%d} (backtest to {view.as_of:%Y-%m-%d}): "
             f"{len(view.trades)} trade(s)"]
    lines += [_trade_line(t) for t in view.trades]
    lines += [f"  wash sale: {d}" for d in view.wash_sale_decisions]
    lines += [f"  skipped {s}" for s in view.skipped]
    lines.append(f"note: {view.note}")
    emit(as_json, view, lines)
    return 0 if view.trades else NOTHING


def history(path: Path, data_dir: Path, as_json: bool, limit: int, since) -> int:
    plans = hh.history(hh.load(path), data_dir, limit=limit, since=since.date() if since else None)
    lines = [f"{p.day:%Y-%m-%d} {p.trades:3} trade(s) ~{p.notional:14,.2f}  {p.wash_sale_decisions} wash-sale "
             f"decision(s), {p.skipped} skipped  {p.file}" for p in plans] or ["no events"]
    emit(as_json, hh.HouseholdHistoryView(plans=plans), lines)
    return 0 if plans else NOTHING


def _ask(config) -> bool:
    if not sys.stdin.isatty():
        raise Refused("no confirmation: add --yes (or run on a terminal to be asked)")
    return click.confirm(f"run the {config.name} household backtest ({config.replay_start} .. "
                         f"{config.replay_end or 'end of data'}, paper) and write its plan files?", default=False)


def execute(path: Path, data_dir: Path, as_json: bool, yes: bool) -> int:
    result = hh.execute(hh.load(path), data_dir, confirm=None if yes else _ask)
    lines = [f"{result.household}: backtest {result.start:%Y-%m-%d} .. {result.end:%Y-%m-%d}, value "
             f"{result.start_value:,.2f} -> {result.end_value:,.2f}",
             f"{result.plans_written} household plan(s) written to {result.files}",
             f"note: {result.note}"]
    emit(as_json, result, lines)
    return 0


def harvest(path: Path) -> int:
    raise Refused(f"--household {path}: households harvest inside the backtest's router only (its wash-sale "
                  f"decisions are in kit rebalance preview --household)")
