"""Which loss lots of one sale a replacement matches when it covers only part of them.

Treas. Reg. §1.1091-1(b): losses sold together, whose order of disposition cannot be told, are
taken in the order the units were acquired; §1.1091-1(c)/(d): the replacement units are matched
in the order of their own acquisition. So the lot-selection method decides which lots are sold,
never which of them the replacement washes.

The case, computed by hand: 10 units bought 2020-01-10 at 100, 10 on 2020-03-10 at 120, 10 on
2020-05-10 at 110; all 30 sold at 90 on 2020-06-01: losses 100 (Jan), 300 (Mar), 200 (May).
"""

from __future__ import annotations

from datetime import date

import pytest

from src.tax.ledger import LedgerState, TaxLedger
from src.tax.models import Account, LotMethod, TaxSettings

D = date
JAN, MAR, MAY = D(2020, 1, 10), D(2020, 3, 10), D(2020, 5, 10)
SALE_DAY = D(2020, 6, 1)


def ledger() -> TaxLedger:
    return TaxLedger([Account(account_id="tax", account_type="taxable", household="h"),
                      Account(account_id="tax2", account_type="taxable", household="h"),
                      Account(account_id="ira", account_type="traditional_ira", household="h")], TaxSettings())


def three_lots(lg: TaxLedger) -> dict[date, str]:
    """The three lots of the module docstring, in account ``tax``; lot id by acquisition date."""
    return {day: lg.buy(account_id="tax", symbol="X", units=10, price=price, trade_date=day)[0].lot_id
            for day, price in ((JAN, 100.0), (MAR, 120.0), (MAY, 110.0))}


def sell_all(lg: TaxLedger, ids: dict[date, str], method: LotMethod) -> None:
    lot_ids = [ids[MAY], ids[JAN], ids[MAR]] if method == LotMethod.SPECIFIC else None
    lg.sell(account_id="tax", symbol="X", units=30, price=90.0, trade_date=SALE_DAY, method=method, lot_ids=lot_ids)


def by_acquired(lg: TaxLedger, ids: dict[date, str]) -> dict[date, tuple[float, float]]:
    """(disallowed loss, units still unmatched) of each sold lot, by its acquisition date."""
    real = {r.lot_id: r for r in lg.state.realizations}
    return {day: (real[i].disallowed_loss, real[i].unmatched_units) for day, i in ids.items()}


@pytest.mark.parametrize("method", [LotMethod.FIFO, LotMethod.LIFO, LotMethod.HIFO, LotMethod.SPECIFIC,
                                    LotMethod.MIN_TAX])
def test_buy_when_replacement_covers_part_of_a_sale_then_earliest_acquired_lots_washed_whatever_method(method):
    lg = ledger()
    ids = three_lots(lg)
    sell_all(lg, ids, method)
    assert sum(-r.gain for r in lg.state.realizations) == pytest.approx(600.0)
    bought = lg.buy(account_id="tax", symbol="X", units=12, price=95.0, trade_date=D(2020, 6, 15))
    # 10 replacement units wash the Jan lot (10 x 10 = 100), 2 wash the March lot (2 x 30 = 60)
    assert by_acquired(lg, ids) == {JAN: (pytest.approx(100.0), 0.0), MAR: (pytest.approx(60.0), pytest.approx(8.0)),
                                    MAY: (0.0, pytest.approx(10.0))}
    assert sum(r.recognized for r in lg.state.realizations) == pytest.approx(-600.0 + 160.0)
    # basis 95 a unit plus the loss each part carries; the sold lot's holding period (143 and
    # 83 days) tacked on, so each part starts 14 days (June 1 -> June 15) after its lot did
    assert [(lot.units, lot.adjusted_basis, lot.holding_start) for lot in bought] == [
        (10, pytest.approx(950.0 + 100.0), D(2020, 1, 24)), (2, pytest.approx(190.0 + 60.0), D(2020, 3, 24))]


def test_sell_when_more_bought_in_window_than_sold_then_earliest_replacements_matched_in_acquisition_order():
    lg = ledger()
    ids = three_lots(lg)
    # replacements in another taxable account of the household, so the HIFO sale in "tax" is unchanged
    may20 = lg.buy(account_id="tax2", symbol="X", units=12, price=100.0, trade_date=D(2020, 5, 20))
    may25 = lg.buy(account_id="tax2", symbol="X", units=12, price=95.0, trade_date=D(2020, 5, 25))
    assert [lot.adjusted_basis for lot in may20 + may25] == [1200.0, 1140.0]   # nothing to wash yet
    sell_all(lg, ids, LotMethod.HIFO)
    june5 = lg.buy(account_id="tax", symbol="X", units=10, price=92.0, trade_date=D(2020, 6, 5))
    # 34 units bought, 30 sold: the earliest 30 replace them, lot by lot in acquisition order:
    # May 20: 10 with Jan (+100), 2 with Mar (+2 x 30); May 25: 8 with Mar (+8 x 30), 4 with May
    # (+4 x 20); June 5: 6 with May (+6 x 20), and its last 4 units replace nothing
    assert by_acquired(lg, ids) == {JAN: (pytest.approx(100.0), 0.0), MAR: (pytest.approx(300.0), 0.0),
                                    MAY: (pytest.approx(200.0), 0.0)}
    held = sorted((lot.acquired, lot.units, round(lot.adjusted_basis, 9)) for lot in lg.lots(symbol="X"))
    assert held == [(D(2020, 5, 20), 2, 200.0 + 60.0), (D(2020, 5, 20), 10, 1000.0 + 100.0),
                    (D(2020, 5, 25), 4, 380.0 + 80.0), (D(2020, 5, 25), 8, 760.0 + 240.0),
                    (D(2020, 6, 5), 4, 368.0), (D(2020, 6, 5), 6, 552.0 + 120.0)]
    assert sum(lot.units for lot in june5) == 10


def test_buy_when_ira_and_taxable_replacements_cover_part_of_a_sale_then_ira_part_lost_in_acquisition_order():
    lg = ledger()
    ids = three_lots(lg)
    sell_all(lg, ids, LotMethod.HIFO)
    (ira_lot,) = lg.buy(account_id="ira", symbol="X", units=5, price=95.0, trade_date=D(2020, 6, 10))
    taxable = lg.buy(account_id="tax", symbol="X", units=7, price=95.0, trade_date=D(2020, 6, 15))
    # IRA (first acquired): 5 units with Jan, 5 x 10 = 50 disallowed and lost for good (Rev. Rul.
    # 2008-5), its basis and holding period untouched; taxable: 5 with Jan (+50), 2 with Mar (+60)
    real = {r.lot_id: r for r in lg.state.realizations}
    assert (real[ids[JAN]].disallowed_loss, real[ids[JAN]].lost_to_ira) == (pytest.approx(100.0), pytest.approx(50.0))
    assert (real[ids[MAR]].disallowed_loss, real[ids[MAR]].lost_to_ira) == (pytest.approx(60.0), 0.0)
    assert real[ids[MAY]].disallowed_loss == 0.0
    assert (ira_lot.adjusted_basis, ira_lot.holding_start) == (pytest.approx(475.0), D(2020, 6, 10))
    assert [(lot.units, lot.adjusted_basis, lot.holding_start) for lot in taxable] == [
        (5, pytest.approx(475.0 + 50.0), D(2020, 1, 24)), (2, pytest.approx(190.0 + 60.0), D(2020, 3, 24))]


def test_buy_when_ledger_saved_before_acquisition_dates_were_recorded_then_holding_start_orders_the_lots():
    lg = ledger()
    ids = three_lots(lg)
    sell_all(lg, ids, LotMethod.HIFO)
    saved = lg.state.model_dump(mode="json")
    for real in saved["realizations"]:
        del real["acquired"]
    old = TaxLedger(list(lg.state.accounts.values()), lg.settings, LedgerState.model_validate(saved))
    old.buy(account_id="tax", symbol="X", units=12, price=95.0, trade_date=D(2020, 6, 15))
    # none of these lots had a wash-sale past, so their holding_start is their acquisition date
    assert by_acquired(old, ids) == {JAN: (pytest.approx(100.0), 0.0), MAR: (pytest.approx(60.0), pytest.approx(8.0)),
                                     MAY: (0.0, pytest.approx(10.0))}
