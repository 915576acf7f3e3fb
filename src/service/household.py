"""What ``kit rebalance ... --household FILE`` shows and does, computed once (the CLI and the HTTP
API render these views).

A household (``src/household/``) is a paper backtest on the shipped real data: its accounts start
with the household file's cash on ``replay_start`` and are traded by the household router to
``replay_end`` (or the end of the units' data). It has no live account, no agent state and no
journal; what it keeps are the plan files ``main.py --household`` writes in the data directory,
``household_<slug>_YYYYMMDD.json``, one per check that traded. So:

- ``status``: the backtest's end: each account's cash and holdings, the household's weights
  against the targets and their drift;
- ``preview``: the router's last plan (the last check that traded): trades with their account and
  reason, wash-sale decisions, skips;
- ``history``: the plan files in the data directory;
- ``execute``: runs the backtest and writes its plan files (what ``main.py --household`` writes).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Optional

from pydantic import Field, ValidationError

from src.errors import DataError, one_line_error
from src.household.backtest import HouseholdResult, run_household_backtest
from src.household.models import HouseholdConfig, HouseholdPlan, HouseholdTrade
from src.market.data import HistoricalMarketData
from src.models.base import StrictModel
from src.runtime.household import load_household, write_plans
from src.service.rebalance import NotConfirmedError
from src.utils.account_lock import AccountLock
from src.utils.paths import slug

PAPER = "households are a paper backtest on the shipped data: nothing is sent to a broker"


class HouseholdHolding(StrictModel):
    """One unit held in one account at the end of the backtest."""

    unit: str = Field(description="Unit held.")
    quantity: float = Field(description="Units held.")
    value: float = Field(description="Value at the last day's close.")


class HouseholdAccountView(StrictModel):
    """One account of the household at the end of the backtest."""

    id: str = Field(description="Account id.")
    owner: str = Field(description="Whose account.")
    type: str = Field(description="taxable, traditional_ira, roth_ira or 401k.")
    cash: float = Field(description="Cash at the end.")
    value: float = Field(description="Cash plus holdings at the last day's close.")
    holdings: list[HouseholdHolding] = Field(description="Units held (value of at least 0.01).")


class HouseholdWeight(StrictModel):
    """One unit of the household's targets: its weight over all accounts against its target."""

    unit: str = Field(description="Unit.")
    weight: float = Field(description="Value in all accounts / the household's value.")
    target_weight: float = Field(description="Target weight.")
    drift: float = Field(description="weight - target_weight.")


class HouseholdStatusView(StrictModel):
    """A household at the end of its backtest."""

    household: str = Field(description="Household name.")
    routing: str = Field(description="household or each_account routing (the household file's).")
    start: date = Field(description="First day of the backtest.")
    as_of: date = Field(description="Last day of the backtest.")
    value: float = Field(description="All accounts' cash plus holdings at the last day's close.")
    cash: float = Field(description="All accounts' cash.")
    accounts: list[HouseholdAccountView] = Field(description="Every account, in the household file's order.")
    weights: list[HouseholdWeight] = Field(description="The household's weights against its targets.")
    max_abs_drift: float = Field(description="Largest |weight - target| over the units.")
    band: float = Field(description="A check trades when a unit is this far from target.")
    note: str = Field(description="What a household is here (a paper backtest).")


class HouseholdPlanView(StrictModel):
    """The household router's last plan (the last check of the backtest that traded)."""

    household: str = Field(description="Household name.")
    day: date = Field(description="Decision day of the plan.")
    as_of: date = Field(description="Last day of the backtest (the plan may be older: later checks did not trade).")
    trades: list[HouseholdTrade] = Field(description="Trades with their account and reason (sells first).")
    wash_sale_decisions: list[str] = Field(description="Trades the wash-sale check changed, deferred or accepted.")
    skipped: list[str] = Field(description="Trades not made, and why.")
    note: str = Field(description="What a household is here (a paper backtest).")


class HouseholdPlanFile(StrictModel):
    """One plan file ``main.py --household`` (or ``kit rebalance execute --household``) wrote."""

    file: str = Field(description="File name in the data directory.")
    day: date = Field(description="Decision day.")
    trades: int = Field(ge=0, description="Trades in the plan.")
    notional: float = Field(description="Sum of the trades' units x reference price.")
    wash_sale_decisions: int = Field(ge=0, description="Wash-sale decisions in the plan.")
    skipped: int = Field(ge=0, description="Trades skipped.")


class HouseholdHistoryView(StrictModel):
    """``kit rebalance history --household FILE --json``: the household plan files."""

    plans: list[HouseholdPlanFile] = Field(description="The plan files in --data-dir, oldest first.")


class HouseholdExecuteResult(StrictModel):
    """What ``execute`` did: the backtest run and its plan files written."""

    household: str = Field(description="Household name.")
    start: date = Field(description="First day of the backtest.")
    end: date = Field(description="Last day of the backtest.")
    start_value: float = Field(description="Value of all accounts on the first day (after its trades).")
    end_value: float = Field(description="Value of all accounts at the end.")
    plans_written: int = Field(ge=0, description="Plan files written (one per check that traded).")
    files: str = Field(description="Where: <data-dir>/household_<slug>_*.json.")
    note: str = Field(description="What a household is here (a paper backtest).")


def load(path: Path) -> HouseholdConfig:
    """The household file, validated (``ConfigError``: one line naming the field)."""
    return load_household(path)


def _run(config: HouseholdConfig, market: Optional[HistoricalMarketData] = None) -> HouseholdResult:
    return run_household_backtest(config, config.replay_start, config.replay_end, market=market)


def status(config: HouseholdConfig) -> HouseholdStatusView:
    """Run the backtest and show its end: accounts, holdings, weights against targets."""
    market = HistoricalMarketData()
    result = _run(config, market)
    units = config.portfolio.units
    frame = market.price_frame(units)
    last = frame[frame.index <= str(result.end)].iloc[-1]
    accounts = []
    for spec in config.accounts:
        held = result.placement[spec.id]
        holdings = [HouseholdHolding(unit=u, quantity=held[u] / float(last[u]), value=held[u])
                    for u in units if held.get(u, 0.0) >= 0.01]
        cash = held["cash"] if abs(held["cash"]) >= 1e-6 else 0.0  # -7e-12 left by float sums is no debt
        accounts.append(HouseholdAccountView(id=spec.id, owner=spec.owner, type=spec.type.value, cash=cash,
                                             value=sum(held.values()), holdings=holdings))
    total = sum(a.value for a in accounts)
    weights = []
    for unit, target in config.portfolio.target_allocations.items():
        weight = sum(result.placement[a.id].get(unit, 0.0) for a in accounts) / total if total > 0 else 0.0
        weights.append(HouseholdWeight(unit=unit, weight=weight, target_weight=target, drift=weight - target))
    return HouseholdStatusView(household=config.name, routing=config.routing, start=result.start, as_of=result.end,
                               value=total, cash=sum(a.cash for a in accounts), accounts=accounts, weights=weights,
                               max_abs_drift=max((abs(w.drift) for w in weights), default=0.0), band=config.band,
                               note=PAPER)


def preview(config: HouseholdConfig) -> HouseholdPlanView:
    """Run the backtest and return the router's last plan."""
    result = _run(config)
    plan = result.plans[-1]
    return HouseholdPlanView(household=config.name, day=plan.day, as_of=result.end, trades=plan.trades,
                             wash_sale_decisions=plan.wash_sale_decisions, skipped=plan.skipped, note=PAPER)


def history(config: HouseholdConfig, data_dir: Path, *, limit: int = 20,
            since: Optional[date] = None) -> list[HouseholdPlanFile]:
    """The newest ``limit`` household plan files in ``data_dir`` on or after ``since``, oldest first.

    Raises
    ------
    DataError
        If a plan file is not a household plan (one line naming the file).
    """
    out = []
    for path in sorted(Path(data_dir).glob(f"household_{slug(config.name)}_*.json")):
        try:
            plan = HouseholdPlan.model_validate_json(path.read_text(encoding="utf-8"))
        except ValidationError as exc:
            raise DataError(f"household plan file {path} is not valid: {one_line_error(exc)}") from exc
        if since is not None and plan.day < since:
            continue
        out.append(HouseholdPlanFile(file=path.name, day=plan.day, trades=len(plan.trades),
                                     notional=sum(t.notional for t in plan.trades),
                                     wash_sale_decisions=len(plan.wash_sale_decisions), skipped=len(plan.skipped)))
    out.sort(key=lambda f: (f.day, f.file))
    return out[-limit:]


def execute(config: HouseholdConfig, data_dir: Path,
            confirm: Optional[Callable[[HouseholdConfig], bool]] = None) -> HouseholdExecuteResult:
    """Run the backtest and write its plan files in ``data_dir`` (atomically, under its lock).

    Raises
    ------
    NotConfirmedError
        ``confirm`` said no (nothing is run or written).
    """
    if confirm is not None and not confirm(config):
        raise NotConfirmedError("not confirmed: nothing written")
    result = _run(config)
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    with AccountLock(Path(data_dir)):
        written = write_plans(result, config.name, Path(data_dir))
    return HouseholdExecuteResult(household=config.name, start=result.start, end=result.end,
                                  start_value=result.start_value, end_value=result.end_value, plans_written=written,
                                  files=f"{data_dir}/household_{slug(config.name)}_*.json", note=PAPER)
