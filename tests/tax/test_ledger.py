"""Lots, holding periods and the wash-sale rule, each with a hand-computed case."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from src.errors import ConfigError
from src.tax.ledger import TaxLedger
from src.tax.lots import holding_term
from src.tax.models import Account, LotMethod, TaxSettings

D = date


def ledger(**settings) -> TaxLedger:
    accounts = [Account(account_id="tax", account_type="taxable", household="h"),
                Account(account_id="ira", account_type="traditional_ira", household="h"),
                Account(account_id="roth", account_type="roth_ira", household="h")]
    return TaxLedger(accounts, TaxSettings(**settings))


def test_wash_sale_when_guide_example_then_loss_disallowed_and_basis_1050():
    # buy 100 for $1,000; sell them for $750; within 30 days buy 100 for $800
    lg = ledger()
    lg.buy(account_id="tax", symbol="X", units=100, price=10.0, trade_date=D(2022, 1, 3))
    (sale,) = lg.sell(account_id="tax", symbol="X", units=100, price=7.5, trade_date=D(2022, 6, 1))
    assert sale.gain == -250.0
    (new,) = lg.buy(account_id="tax", symbol="X", units=100, price=8.0, trade_date=D(2022, 6, 20))
    sale = lg.state.realizations[0]
    assert sale.disallowed_loss == 250.0 and sale.recognized == 0.0
    assert new.adjusted_basis == 1050.0
    # holding period of the sold lot (149 days) carries over to the replacement
    assert new.holding_start == D(2022, 6, 20) - (D(2022, 6, 1) - D(2022, 1, 3))


@pytest.mark.parametrize("days_after, washed", [(30, True), (31, False)])
def test_wash_sale_when_rebought_at_window_edge_then_only_inside_counts(days_after, washed):
    lg = ledger()
    lg.buy(account_id="tax", symbol="X", units=10, price=10.0, trade_date=D(2022, 1, 3))
    lg.sell(account_id="tax", symbol="X", units=10, price=8.0, trade_date=D(2022, 3, 1))
    lg.buy(account_id="tax", symbol="X", units=10, price=8.0, trade_date=D(2022, 3, 1) + timedelta(days=days_after))
    assert (lg.state.realizations[0].disallowed_loss == 20.0) is washed


def test_wash_sale_when_bought_within_30_days_before_then_matched_at_sale_but_not_own_lot():
    lg = ledger()
    lg.buy(account_id="tax", symbol="X", units=100, price=10.0, trade_date=D(2022, 1, 3))
    (late,) = lg.buy(account_id="tax", symbol="X", units=50, price=8.0, trade_date=D(2022, 2, 10))
    (first_lot,) = [lot for lot in lg.lots() if lot.acquired == D(2022, 1, 3)]
    (sale,) = lg.sell(account_id="tax", symbol="X", units=100, price=7.0, trade_date=D(2022, 2, 20),
                      method=LotMethod.SPECIFIC, lot_ids=[first_lot.lot_id])
    # loss $300 on 100 units; only 50 replacement units: $150 disallowed, $150 deductible
    assert sale.disallowed_loss == pytest.approx(150.0) and sale.recognized == pytest.approx(-150.0)
    (replacement,) = lg.lots()
    assert replacement.adjusted_basis == pytest.approx(400.0 + 150.0)
    assert replacement.holding_start == D(2022, 2, 10) - (D(2022, 2, 20) - D(2022, 1, 3))


def test_wash_sale_when_fewer_units_then_partial_and_later_lots_matched_in_order():
    lg = ledger()
    lg.buy(account_id="tax", symbol="X", units=100, price=10.0, trade_date=D(2022, 1, 3))
    lg.sell(account_id="tax", symbol="X", units=100, price=7.5, trade_date=D(2022, 6, 1))  # $2.50 loss a unit
    first = lg.buy(account_id="tax", symbol="X", units=60, price=8.0, trade_date=D(2022, 6, 5))
    sale = lg.state.realizations[0]
    assert sale.disallowed_loss == pytest.approx(150.0) and sale.unmatched_units == pytest.approx(40.0)
    second = lg.buy(account_id="tax", symbol="X", units=50, price=8.0, trade_date=D(2022, 6, 10))
    sale = lg.state.realizations[0]
    assert sale.disallowed_loss == pytest.approx(250.0) and sale.unmatched_units == 0.0
    assert [lot.adjusted_basis for lot in first] == [pytest.approx(60 * 8 + 150)]
    # the second lot is split: 40 units carry $100, the other 10 units are untouched
    assert sorted(lot.adjusted_basis for lot in second) == [pytest.approx(80.0), pytest.approx(40 * 8 + 100)]


@pytest.mark.parametrize("account", ["ira", "roth"])
def test_wash_sale_when_replacement_in_ira_then_loss_lost_and_basis_unchanged(account):
    lg = ledger()
    lg.buy(account_id="tax", symbol="X", units=100, price=10.0, trade_date=D(2022, 1, 3))
    lg.sell(account_id="tax", symbol="X", units=100, price=7.5, trade_date=D(2022, 6, 1))
    (ira_lot,) = lg.buy(account_id=account, symbol="X", units=100, price=8.0, trade_date=D(2022, 6, 20))
    sale = lg.state.realizations[0]
    assert sale.disallowed_loss == 250.0 and sale.lost_to_ira == 250.0
    assert ira_lot.adjusted_basis == 800.0 and ira_lot.holding_start == D(2022, 6, 20)


def test_wash_sale_when_declared_identical_then_washes_and_correlated_substitute_does_not():
    lg = ledger(identical=[["SPY", "IVV"]], substitutes={"SPY": "VTI"})
    lg.buy(account_id="tax", symbol="SPY", units=10, price=100.0, trade_date=D(2022, 1, 3))
    lg.sell(account_id="tax", symbol="SPY", units=10, price=90.0, trade_date=D(2022, 3, 1))
    lg.buy(account_id="tax", symbol="VTI", units=10, price=90.0, trade_date=D(2022, 3, 2))
    assert lg.state.realizations[0].disallowed_loss == 0.0
    lg.buy(account_id="ira", symbol="IVV", units=10, price=90.0, trade_date=D(2022, 3, 3))
    assert lg.state.realizations[0].disallowed_loss == 100.0


def test_wash_sale_when_gain_or_ira_sale_then_rule_does_not_apply():
    lg = ledger()
    lg.buy(account_id="ira", symbol="X", units=10, price=10.0, trade_date=D(2022, 1, 3))
    (ira_sale,) = lg.sell(account_id="ira", symbol="X", units=10, price=8.0, trade_date=D(2022, 2, 1))
    lg.buy(account_id="tax", symbol="X", units=10, price=8.0, trade_date=D(2022, 2, 2))
    assert not ira_sale.taxable and lg.state.realizations[0].disallowed_loss == 0.0


@pytest.mark.parametrize("start, sold, term", [
    (D(2021, 3, 1), D(2022, 3, 1), "short"),    # exactly one year: short-term
    (D(2021, 3, 1), D(2022, 3, 2), "long"),     # more than one year
    (D(2020, 2, 29), D(2021, 3, 1), "short"),   # leap day: anniversary read as Mar 1
    (D(2020, 2, 29), D(2021, 3, 2), "long"),
])
def test_holding_term_when_dates_given_then_one_year_rule(start, sold, term):
    assert holding_term(start, sold) == term


def four_lots(lg: TaxLedger) -> dict[str, str]:
    # price at sale will be 10: a = LT gain 2/unit, b = ST gain 2, c = ST loss 2, d = LT loss 2
    ids = {}
    for name, price, day in (("a", 8.0, D(2020, 1, 2)), ("d", 12.0, D(2020, 6, 1)), ("b", 8.0, D(2022, 1, 4)),
                             ("c", 12.0, D(2022, 2, 1))):
        ids[name] = lg.buy(account_id="tax", symbol="X", units=1, price=price, trade_date=day)[0].lot_id
    return ids


@pytest.mark.parametrize("method, order", [
    (LotMethod.FIFO, "adbc"), (LotMethod.LIFO, "cbda"), (LotMethod.HIFO, "dcab"), (LotMethod.MIN_TAX, "cdab"),
])
def test_sell_when_method_given_then_lots_in_that_order(method, order):
    lg = ledger()
    ids = four_lots(lg)
    realized = lg.sell(account_id="tax", symbol="X", units=4, price=10.0, trade_date=D(2022, 6, 1), method=method)
    assert [r.lot_id for r in realized] == [ids[c] for c in order]
    assert {r.lot_id: r.term for r in realized} == {ids["a"]: "long", ids["b"]: "short", ids["c"]: "short",
                                                     ids["d"]: "long"}


def test_sell_when_specific_lots_then_exactly_those():
    lg = ledger()
    ids = four_lots(lg)
    realized = lg.sell(account_id="tax", symbol="X", units=2, price=10.0, trade_date=D(2022, 6, 1),
                       method=LotMethod.SPECIFIC, lot_ids=[ids["b"], ids["a"]])
    assert [r.lot_id for r in realized] == [ids["b"], ids["a"]] and sum(r.gain for r in realized) == 4.0


def test_sell_when_default_in_taxable_then_min_tax():
    lg = ledger()
    ids = four_lots(lg)
    (first,) = lg.sell(account_id="tax", symbol="X", units=1, price=10.0, trade_date=D(2022, 6, 1))
    assert first.lot_id == ids["c"]


@pytest.mark.parametrize("call, kwargs, fragment", [
    ("sell", dict(account_id="tax", symbol="X", units=11, price=9.0, trade_date=D(2022, 2, 1)), "exceeds the 10"),
    ("sell", dict(account_id="tax", symbol="X", units=1, price=-9.0, trade_date=D(2022, 2, 1)), "price=-9.0"),
    ("buy", dict(account_id="tax", symbol="X", units=1, price=0.0, trade_date=D(2022, 2, 1)), "price=0.0"),
    ("buy", dict(account_id="nope", symbol="X", units=1, price=9.0, trade_date=D(2022, 2, 1)), "account_id='nope'"),
    ("buy", dict(account_id="tax", symbol="X", units=1, price=9.0, trade_date=D(2021, 12, 1)), "before the last"),
    ("add_lot", dict(account_id="tax", symbol="X", units=1, cost_per_unit=9.0, acquired=D(2023, 1, 1),
                     as_of=D(2022, 2, 1)), "acquired=2023-01-01 is in the future"),
    ("sell", dict(account_id="tax", symbol="X", units=1, price=9.0, trade_date=D(2022, 2, 1),
                  method=LotMethod.SPECIFIC, lot_ids=["L999"]), "['L999'] are not open lots"),
])
def test_trade_when_bad_input_then_error_and_ledger_unchanged(call, kwargs, fragment):
    lg = ledger()
    lg.buy(account_id="tax", symbol="X", units=10, price=10.0, trade_date=D(2022, 1, 3))
    before = lg.state.model_copy(deep=True)
    with pytest.raises(ConfigError) as info:
        getattr(lg, call)(**kwargs)
    assert fragment in str(info.value)
    assert lg.state == before


def test_ledger_when_accounts_of_two_households_then_error():
    with pytest.raises(ConfigError, match="households"):
        TaxLedger([Account(account_id="a", account_type="taxable", household="h1"),
                   Account(account_id="b", account_type="taxable", household="h2")], TaxSettings())
