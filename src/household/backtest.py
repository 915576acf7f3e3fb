"""A household on real history in paper mode: every account, one set of targets, the tax ledger.

Each trading day the household is valued at the shipped closes. It is checked on the first
trading day of each month, and on a deposit day. A check trades when a unit's household weight is
``band`` away from its target, or cash is idle beyond it; a deposit day without such a breach
only buys with the new money. Fills are at the close plus the configured fee; every fill goes
through the household tax ledger (lots, short or long term, wash sales across all accounts,
IRA purchases making a loss lost).
"""

from __future__ import annotations

from datetime import date
from typing import Optional

import pandas as pd
from pydantic import Field

from src.household.location import LocationReport, location_report, unit_tax_profiles
from src.household.models import HouseholdConfig, HouseholdPlan, HouseholdTrade
from src.household.router import account_values, raise_cash, route
from src.market.data import HistoricalMarketData
from src.models.base import StrictModel
from src.models.trading_models import OrderSide
from src.tax.ledger import TaxLedger
from src.tax.models import Account


class HouseholdResult(StrictModel):
    """What a household backtest did."""

    start: date = Field(description="First day.")
    end: date = Field(description="Last day.")
    start_value: float = Field(description="Value of all accounts on the first day (after its trades).")
    end_value: float = Field(description="Value of all accounts at the end.")
    deposits: float = Field(description="Money deposited over the run, net of withdrawals.")
    turnover: float = Field(description="Annualised one-sided turnover after the first day: traded / 2 / mean value / years.")
    fees: float = Field(description="Fees paid.")
    realized_taxable_gain: float = Field(description="Net gains realised in taxable accounts (after disallowed losses).")
    disallowed_losses: float = Field(description="Losses disallowed by the wash-sale rule (added to replacement basis).")
    lost_to_ira: float = Field(description="Losses lost for good to IRA replacement purchases.")
    wash_sales_accepted: int = Field(description="Realised losses the rule disallowed (each from a decision in a plan).")
    plans: list[HouseholdPlan] = Field(description="Every check that traded, with its trades, skips and wash-sale decisions.")
    location: LocationReport = Field(description="Asset location on the first day: the pro-rata and the tax-aware "
                                                 "placement of the targets and their estimated tax drag a year.")
    placement: dict[str, dict[str, float]] = Field(description="Value per account and unit at the end.")


def _classes(config: HouseholdConfig, market: HistoricalMarketData) -> dict[str, str]:
    out = {}
    for unit in config.portfolio.units:
        default = "bond" if unit.startswith("UST") else "sleeve" if market.registry.has_strategy(unit) else "stock"
        out[unit] = config.asset_classes.get(unit, default)
    return out


def _deposits(config: HouseholdConfig, days: pd.DatetimeIndex) -> dict[pd.Timestamp, dict[str, float]]:
    """Net flow per first trading day of each month, per account (deposits +, withdrawals -)."""
    firsts = days.to_series().groupby(days.to_period("M")).first()
    out: dict[pd.Timestamp, dict[str, float]] = {}
    for sign, flows in ((1.0, config.deposits), (-1.0, config.withdrawals)):
        for d in flows:
            for day in firsts:
                if day.date() >= d.start and (d.end is None or day.date() <= d.end) and day != days[0]:
                    out.setdefault(day, {}).setdefault(d.account, 0.0)
                    out[day][d.account] += sign * d.monthly
    return out


def run_household_backtest(config: HouseholdConfig, start: date, end: Optional[date] = None, *,
                           market: Optional[HistoricalMarketData] = None) -> HouseholdResult:
    """Run ``config`` over the common trading days of its units between ``start`` and ``end``."""
    market = market or HistoricalMarketData()
    units = config.portfolio.units
    frame = market.price_frame(units)
    frame = frame[(frame.index >= pd.Timestamp(start)) & (frame.index <= pd.Timestamp(end or frame.index[-1]))]
    days = frame.index
    ledger = TaxLedger([Account(account_id=a.id, account_type=a.type, household=config.name) for a in config.accounts],
                       config.tax)
    cash = {a.id: a.cash for a in config.accounts}
    classes = _classes(config, market)
    fee = config.portfolio.fee_model
    months = set(days.to_series().groupby(days.to_period("M")).first())
    flows = _deposits(config, days)
    targets = dict(config.portfolio.target_allocations)
    plans, traded, values, first_value, deposited = [], 0.0, [], 0.0, 0.0
    for i, day in enumerate(days):
        prices = {u: float(frame.at[day, u]) for u in units}
        for account, amount in flows.get(day, {}).items():
            if amount < 0 and cash[account] < -amount:  # a withdrawal: sell first what the household can spare
                plan = raise_cash(day=day.date(), account=account, need=-amount - cash[account], targets=targets,
                                  ledger=ledger, cash=cash, prices=prices, fee_model=fee, routing=config.routing,
                                  withdrawal=-amount)
                for trade in plan.trades:
                    _fill(ledger, cash, trade, day.date(), fee)
                    traded += trade.notional
                plans.append(plan)
            taken = max(amount, -cash[account])  # never below zero: a shortfall is recorded, not invented
            if taken - amount > 0.005:
                plans.append(HouseholdPlan(day=day.date(), trades=[], skipped=[
                    f"withdrawal from {account}: {-amount:,.2f} due, {-taken:,.2f} available after its sales"]))
            cash[account] += taken
            deposited += taken
        total = sum(account_values(ledger, cash, prices).values())
        weights = {u: sum(ledger.units(a, u) for a in cash) * prices[u] / total for u in units}
        breach = max(abs(weights[u] - targets[u]) for u in units) > config.band or \
            sum(cash.values()) / total > max(config.band, 1.0 - sum(targets.values()) + config.band)
        if i == 0:
            report = _first_day_location(config, market, ledger, cash, prices, day.date())
            placement = report.tax_aware if config.routing == "household" else report.pro_rata
            plan = _place(day.date(), placement, ledger, prices, config)
            for trade in plan.trades:
                _fill(ledger, cash, trade, day.date(), fee)
            plans.append(plan)
        elif (day in months and breach) or day in flows:
            plan = route(day=day.date(), targets=targets, ledger=ledger, cash=cash, prices=prices, classes=classes,
                         fee_model=fee, min_trade_size=config.portfolio.rebalancing_params.min_trade_size,
                         routing=config.routing, sells=breach or config.routing == "each_account",
                         drag_rates=report.drag_rates)
            for trade in plan.trades:
                _fill(ledger, cash, trade, day.date(), fee)
                if i > 0:
                    traded += trade.notional
            if plan.trades or plan.wash_sale_decisions:
                plans.append(plan)
        value = sum(account_values(ledger, cash, prices).values())
        first_value = first_value or value
        values.append(value)
    realizations = list(ledger.state.realizations)
    taxable = [r for r in realizations if r.taxable]
    years = len(days) / 252.0
    placement = {a: {u: ledger.units(a, u) * float(frame.iloc[-1][u]) for u in units} | {"cash": cash[a]} for a in cash}
    return HouseholdResult(
        start=days[0].date(), end=days[-1].date(), start_value=first_value, end_value=values[-1], deposits=deposited,
        turnover=traded / 2.0 / (sum(values) / len(values)) / years if years > 0 else 0.0,
        fees=sum(fee.fee(t.notional) for p in plans for t in p.trades),
        realized_taxable_gain=sum(r.proceeds - r.basis + r.disallowed_loss for r in taxable),
        disallowed_losses=sum(r.disallowed_loss for r in realizations),
        lost_to_ira=sum(r.lost_to_ira for r in realizations),
        wash_sales_accepted=sum(1 for r in realizations if r.disallowed_loss > 0),
        plans=plans, placement=placement, location=report)


def _first_day_location(config: HouseholdConfig, market: HistoricalMarketData, ledger: TaxLedger,
                        cash: dict[str, float], prices: dict[str, float], day: date) -> LocationReport:
    """Where the household's first investment goes: both placements and their tax drag."""
    values = account_values(ledger, cash, prices)
    total = sum(values.values())
    targets = {u: w * total for u, w in config.portfolio.target_allocations.items()}
    types = {a.id: a.type for a in config.accounts}
    profiles = unit_tax_profiles(list(targets), market=market, as_of=day)
    # The targets' cash share stays in each account, in proportion to its value.
    invested = {a: v * sum(config.portfolio.target_allocations.values()) for a, v in values.items()}
    return location_report(targets, invested, types, profiles, config.tax)


def _place(day: date, placement: dict[str, dict[str, float]], ledger: TaxLedger, prices: dict[str, float],
           config: HouseholdConfig) -> HouseholdPlan:
    """The first day's buys: each account buys its placement."""
    trades = [HouseholdTrade(account=a, unit=u, side=OrderSide.BUY, units=v / prices[u], price=prices[u],
                             reason=f"first investment, placed by asset location ({config.routing} routing)")
              for a, units in placement.items() for u, v in units.items() if v > 1e-9]
    return HouseholdPlan(day=day, trades=trades)


def _fill(ledger: TaxLedger, cash: dict[str, float], trade, day: date, fee) -> None:
    """The trade at its price plus the fee, in the ledger and the account's cash."""
    cost = fee.fee(trade.notional)
    if trade.side == OrderSide.BUY:
        units = min(trade.units, max(0.0, (cash[trade.account] - fee.fixed) / (trade.price * (1 + fee.bps / 10_000))))
        if units <= 0:
            return
        ledger.buy(account_id=trade.account, symbol=trade.unit, units=units, price=trade.price, trade_date=day,
                   fee=fee.fee(units * trade.price))
        cash[trade.account] -= units * trade.price + fee.fee(units * trade.price)
    else:
        units = min(trade.units, ledger.units(trade.account, trade.unit))
        if units <= 0:
            return
        ledger.sell(account_id=trade.account, symbol=trade.unit, units=units, price=trade.price, trade_date=day,
                    lot_ids=trade.lot_ids, fee=cost)
        cash[trade.account] += units * trade.price - cost
