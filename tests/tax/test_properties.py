"""Invariants of the ledger over random trade sequences across the household's accounts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from src.tax.ledger import TaxLedger
from src.tax.models import Account, TaxSettings

ACCOUNTS = [Account(account_id="tax", account_type="taxable", household="h"),
            Account(account_id="tax2", account_type="taxable", household="h"),
            Account(account_id="ira", account_type="traditional_ira", household="h"),
            Account(account_id="roth", account_type="roth_ira", household="h")]

trade = st.tuples(
    st.integers(min_value=0, max_value=12),                      # days since the previous trade
    st.sampled_from([a.account_id for a in ACCOUNTS]),
    st.sampled_from(["A", "B", "C"]),                            # A and B are declared identical
    st.sampled_from(["buy", "sell"]),
    st.floats(min_value=0.05, max_value=1.0),                    # share of the holding to sell
    st.floats(min_value=1.0, max_value=100.0),                   # units to buy
    st.floats(min_value=1.0, max_value=200.0),                   # price
    st.sampled_from(["fifo", "lifo", "hifo", "min_tax"]),
)


def replay(trades) -> tuple[TaxLedger, dict[str, float], float, float]:
    ledger = TaxLedger(ACCOUNTS, TaxSettings(identical=[["A", "B"]]))
    day, last_price, proceeds, costs = date(2020, 1, 2), {}, 0.0, 0.0
    for gap, account, symbol, side, share, units, price, method in trades:
        day += timedelta(days=gap)
        last_price[symbol] = price
        if side == "buy":
            fee = 0.001 * units * price
            ledger.buy(account_id=account, symbol=symbol, units=units, price=price, trade_date=day, fee=fee)
            costs += units * price + fee
        else:
            held = ledger.units(account, symbol)
            if held <= 0:
                continue
            qty = held * share
            sold = ledger.sell(account_id=account, symbol=symbol, units=qty, price=price, trade_date=day,
                               method=method, fee=0.001 * qty * price)
            proceeds += sum(r.proceeds for r in sold)
    return ledger, last_price, proceeds, costs


@settings(max_examples=300, deadline=None)
@given(st.lists(trade, min_size=8, max_size=40))
def test_property_when_any_trades_then_disallowed_losses_reappear_in_replacement_basis(trades):
    ledger, *_ = replay(trades)
    moved = sum(r.disallowed_loss - r.lost_to_ira for r in ledger.state.realizations)
    in_open = sum(lot.adjusted_basis - lot.units * lot.cost_per_unit for lot in ledger.lots())
    in_sold = sum(r.basis - r.cost for r in ledger.state.realizations)
    assert in_open + in_sold == pytest.approx(moved, abs=1e-6 * (1 + abs(moved)))
    assert all(r.lost_to_ira <= r.disallowed_loss + 1e-9 for r in ledger.state.realizations)
    assert all(r.disallowed_loss <= max(0.0, -r.gain) + 1e-6 for r in ledger.state.realizations)


@settings(max_examples=300, deadline=None)
@given(st.lists(trade, min_size=8, max_size=40))
def test_property_when_any_trades_then_gains_reconcile_with_cash_and_value(trades):
    ledger, last_price, proceeds, costs = replay(trades)
    realized = sum(r.recognized for r in ledger.state.realizations)
    market_value = sum(lot.units * last_price[lot.symbol] for lot in ledger.lots())
    unrealized = market_value - sum(lot.adjusted_basis for lot in ledger.lots())
    lost = sum(r.lost_to_ira for r in ledger.state.realizations)
    scale = 1 + costs + proceeds
    assert realized + unrealized - lost == pytest.approx(market_value + proceeds - costs, abs=1e-9 * scale)
