"""The trade list: drift per class, trades in order, summary, whole shares, tax of the sells."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from src.errors import ConfigError
from src.models.trading_models import FeeModel, OrderSide
from src.profiles import Holding, build_trade_list
from src.profiles.trade_list import _sized
from src.tax.models import TaxSettings
from tests.profiles.test_risk_profiles import seed003

FEES = FeeModel(bps=10.0)
AS_OF = date(2025, 6, 30)


def rows(report):
    """``(priority, side, symbol, amount, shares, commission)`` per trade."""
    return [(t.priority, t.side.value, t.symbol, t.amount, t.shares, t.commission) for t in report.trades]


def with_fields(holdings, **fields):
    """``holdings`` with extra fields per symbol, e.g. ``CSPX={"price": 700}``."""
    return [Holding(**{**h.model_dump(exclude_none=True), **fields.get(h.symbol.replace("-", "_").replace(".", "_"), {})})
            for h in holdings]


def test_build_trade_list_when_seed003_balanced_then_on_target_and_no_trades():
    report = build_trade_list(seed003(), "balanced", fee_model=FEES)
    assert [(c.asset_class.value, c.status, c.drift) for c in report.classes] == [
        ("stocks", "on target", 0), ("bonds", "on target", 0), ("cash", "on target", 0)]
    assert {p.symbol: p.target * 100 for p in report.positions} == {"CSPX": 30, "INDA": 20, "STRIPS-2040": 40,
                                                                   "USD.CASH": 10}
    assert report.trades == [] and report.skipped == [] and report.warnings == []
    assert report.summary.net_cash == 0 and report.summary.cash_after == 10_000


def test_build_trade_list_when_seed003_growth_then_hand_computed_trades():
    # Growth: stocks 75% of 100,000 = 75,000 split 60/40 by current value -> CSPX 45,000 (+15,000),
    # INDA 30,000 (+10,000); bonds 15% = 15,000 -> STRIPS-2040 -25,000; cash 10% = 10,000 unchanged.
    # Sells first: STRIPS-2040. Buys, most underweight first in points of the portfolio: CSPX
    # (30% vs 45%: -15 points) before INDA (20% vs 30%: -10 points); both are a third under their
    # own target, so the order is by points, not by relative shortfall. Commission 10 bps.
    report = build_trade_list(seed003(), "growth", fee_model=FEES)
    assert rows(report) == [(1, "sell", "STRIPS-2040", 25_000, None, 25), (2, "buy", "CSPX", 15_000, None, 15),
                            (3, "buy", "INDA", 10_000, None, 10)]
    assert [t.drift for t in report.trades] == [Decimal("0.25"), Decimal("-0.15"), Decimal("-0.10")]
    assert [(c.status, c.drift) for c in report.classes] == [
        ("UNDERWEIGHT", Decimal("-0.25")), ("OVERWEIGHT", Decimal("0.25")), ("on target", 0)]
    s = report.summary
    assert (s.total_sells, s.total_buys, s.commissions, s.net_cash, s.cash_before, s.cash_after) == (
        25_000, 25_000, 50, -50, 10_000, 9_950)


def test_build_trade_list_when_seed003_conservative_then_sells_largest_drift_first_and_cash_absorbs():
    report = build_trade_list(seed003(), "conservative", fee_model=FEES)
    assert rows(report) == [(1, "sell", "CSPX", 15_000, None, 15), (2, "sell", "INDA", 10_000, None, 10),
                            (3, "buy", "STRIPS-2040", 20_000, None, 20)]
    assert report.summary.cash_after == 10_000 + 25_000 - 20_000 - 45  # cash is never a trade line


def test_build_trade_list_when_absolute_and_relative_shortfall_disagree_then_points_decide():
    # Balanced: both stocks are half their target short, but B by more points, so B buys first.
    holdings = [Holding(symbol="A", asset_class="stocks", value=10_000), Holding(symbol="B", asset_class="stocks", value=15_000),
                Holding(symbol="BND", asset_class="bonds", value=65_000), Holding(symbol="USD", asset_class="cash", value=10_000)]
    report = build_trade_list(holdings, "balanced", fee_model=FEES)
    # stocks 50,000 split 10:15 -> A 20,000 (+10,000: -10 points, 50% short), B 30,000 (+15,000: -15 points, 50% short)
    assert rows(report) == [(1, "sell", "BND", 25_000, None, 25), (2, "buy", "B", 15_000, None, 15),
                            (3, "buy", "A", 10_000, None, 10)]


def test_build_trade_list_when_equal_drift_then_symbol_breaks_the_tie():
    holdings = [Holding(symbol="Z", asset_class="stocks", value=10_000), Holding(symbol="A", asset_class="stocks", value=10_000),
                Holding(symbol="BND", asset_class="bonds", value=70_000), Holding(symbol="USD", asset_class="cash", value=10_000)]
    report = build_trade_list(holdings, "growth", fee_model=FEES)
    assert [t.symbol for t in report.trades] == ["BND", "A", "Z"]


def test_build_trade_list_when_whole_shares_then_buys_round_down_sells_up():
    # CSPX at 700: 15,000 / 700 = 21.43 -> 21 shares = 14,700; INDA at 30: 333.33 -> 333 = 9,990;
    # STRIPS-2040 at 64 (625 held): 25,000 / 64 = 390.625 -> 391 shares = 25,024.
    holdings = with_fields(seed003(), CSPX={"price": 700}, INDA={"price": 30}, STRIPS_2040={"price": 64})
    report = build_trade_list(holdings, "growth", fee_model=FEES)
    assert rows(report) == [(1, "sell", "STRIPS-2040", Decimal("25024.00"), 391, Decimal("25.02")),
                            (2, "buy", "CSPX", Decimal("14700.00"), 21, Decimal("14.70")),
                            (3, "buy", "INDA", Decimal("9990.00"), 333, Decimal("9.99"))]
    s = report.summary
    assert (s.total_sells, s.total_buys, s.commissions) == (Decimal("25024"), Decimal("24690"), Decimal("49.71"))
    assert s.cash_after == Decimal("10284.29")  # the rounding leftovers stay in cash


def test_sized_when_rounding_up_would_sell_more_than_held_then_rounds_down():
    holding = Holding(symbol="X", asset_class="stocks", value=250, quantity=Decimal("2.5"))
    assert _sized(holding, Decimal(220), OrderSide.SELL) == (Decimal("200.00"), 2, 100)
    assert _sized(holding, Decimal(120), OrderSide.SELL) == (Decimal("200.00"), 2, 100)


def test_build_trade_list_when_fractional_shares_then_amount_kept_and_shares_to_4_decimals():
    holdings = with_fields(seed003(), CSPX={"price": 700, "whole_shares": False})
    report = build_trade_list(holdings, "growth", fee_model=FEES)
    cspx = next(t for t in report.trades if t.symbol == "CSPX")
    assert (cspx.amount, cspx.shares, cspx.price) == (15_000, Decimal("21.4285"), 700)


def test_build_trade_list_when_less_than_one_share_then_skipped_with_reason():
    holdings = with_fields(seed003(), CSPX={"price": 20_000})
    report = build_trade_list(holdings, "growth", fee_model=FEES)
    assert [t.symbol for t in report.trades] == ["STRIPS-2040", "INDA"] and [t.priority for t in report.trades] == [1, 2]
    assert [(s.symbol, s.side.value, s.amount, s.reason) for s in report.skipped] == [
        ("CSPX", "buy", 15_000, "less than one whole share at 20,000.00")]


def test_build_trade_list_when_below_min_trade_then_skipped_with_reason():
    report = build_trade_list(seed003(), "growth", fee_model=FEES, min_trade=12_000)
    assert [t.symbol for t in report.trades] == ["STRIPS-2040", "CSPX"]
    assert [s.reason for s in report.skipped] == ["below the minimum trade of 12,000.00"]


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf")])
def test_build_trade_list_when_min_trade_invalid_then_config_error(bad):
    with pytest.raises(ConfigError, match=r"min_trade=.* must be >= 0"):
        build_trade_list(seed003(), "growth", fee_model=FEES, min_trade=bad)


def test_build_trade_list_when_no_cash_holding_then_sells_raise_the_cash_line():
    holdings = [Holding(symbol="CSPX", asset_class="stocks", value=60_000),
                Holding(symbol="STRIPS-2040", asset_class="bonds", value=40_000)]
    report = build_trade_list(holdings, "balanced", fee_model=FEES)
    assert rows(report) == [(1, "sell", "CSPX", 10_000, None, 10)]
    assert report.summary.cash_after == 9_990 and report.positions[-1].symbol == "CASH"


def test_build_trade_list_when_commissions_exceed_cash_then_warned():
    report = build_trade_list(seed003(), "growth", fee_model=FeeModel(bps=0, fixed=5_000))
    assert report.summary.cash_after == -5_000
    assert report.warnings == ["cash after the trades would be -5,000.00: trim the last buys"]


def test_build_trade_list_when_unknown_profile_then_config_error():
    with pytest.raises(ConfigError, match="unknown risk profile 'yolo': choose balanced"):
        build_trade_list(seed003(), "yolo", fee_model=FEES)


def test_build_trade_list_when_tax_on_conservative_then_gains_losses_and_net_tax_hand_computed():
    # CSPX: sell 15,000 of 30,000 (half), commission 15 -> proceeds 14,985, basis 20,000 / 2 =
    # 10,000: +4,985 long-term (held since 2023-01-10). INDA: sell 10,000 of 20,000, commission
    # 10 -> 9,990, basis 25,000 / 2 = 12,500: -2,510 short-term (since 2025-01-02). Netting: the
    # short-term loss offsets the long-term gain: 2,475 long-term at 15% = 371.25.
    holdings = with_fields(seed003(), CSPX={"cost_basis": 20_000, "acquired": date(2023, 1, 10)},
                           INDA={"cost_basis": 25_000, "acquired": date(2025, 1, 2)})
    tax = build_trade_list(holdings, "conservative", fee_model=FEES, tax=TaxSettings(), as_of=AS_OF).tax
    assert [(s.symbol, s.term, s.proceeds, s.basis, s.gain) for s in tax.sells] == [
        ("CSPX", "long", 14_985, 10_000, 4_985), ("INDA", "short", 9_990, 12_500, -2_510)]
    i = tax.impact
    assert (i.long_term_gains, i.short_term_losses, i.short_term_gains, i.long_term_losses) == (4_985, 2_510, 0, 0)
    assert i.estimated_tax == pytest.approx(371.25) and tax.not_estimated == [] and tax.as_of == AS_OF


def test_build_trade_list_when_tax_on_growth_loss_then_deduction_at_short_term_rate():
    # STRIPS-2040: sell 25,000 of 40,000, commission 25 -> 24,975; basis 44,000 x 5/8 = 27,500:
    # -2,525 long-term; a net loss under $3,000 is deducted at the short-term rate: -2,525 x 35%.
    holdings = with_fields(seed003(), STRIPS_2040={"cost_basis": 44_000, "acquired": date(2020, 1, 15)})
    tax = build_trade_list(holdings, "growth", fee_model=FEES, tax=TaxSettings(), as_of=AS_OF).tax
    assert [(s.symbol, s.term, s.gain) for s in tax.sells] == [("STRIPS-2040", "long", -2_525)]
    assert tax.impact.long_term_losses == 2_525 and tax.impact.estimated_tax == pytest.approx(-883.75)


@pytest.mark.parametrize("acquired, term", [(date(2024, 6, 30), "short"), (date(2024, 6, 29), "long")])
def test_build_trade_list_when_held_exactly_a_year_then_short_term_else_long(acquired, term):
    holdings = with_fields(seed003(), STRIPS_2040={"cost_basis": 30_000, "acquired": acquired})
    tax = build_trade_list(holdings, "growth", fee_model=FEES, tax=TaxSettings(short_term_rate=0.4), as_of=AS_OF).tax
    # 25,000 sold: proceeds 24,975, basis 18,750 -> +6,225 at 40% or 15%.
    assert tax.sells[0].term == term and tax.sells[0].gain == 6_225
    assert tax.impact.estimated_tax == pytest.approx(6_225 * (0.4 if term == "short" else 0.15))


def test_build_trade_list_when_tax_deferred_or_no_basis_then_not_taxed():
    deferred = with_fields(seed003(), STRIPS_2040={"cost_basis": 1, "acquired": date(2020, 1, 1), "taxable": False})
    tax = build_trade_list(deferred, "growth", fee_model=FEES, tax=TaxSettings(), as_of=AS_OF).tax
    assert tax.sells[0].taxable is False and tax.impact.estimated_tax == 0
    tax = build_trade_list(seed003(), "growth", fee_model=FEES, tax=TaxSettings(), as_of=AS_OF).tax
    assert tax.sells == [] and tax.not_estimated == ["STRIPS-2040"]
    assert build_trade_list(seed003(), "growth", fee_model=FEES).tax is None


def test_build_trade_list_when_acquired_after_sale_date_then_config_error():
    holdings = with_fields(seed003(), STRIPS_2040={"cost_basis": 1, "acquired": date(2025, 7, 1)})
    with pytest.raises(ConfigError, match="STRIPS-2040: acquired 2025-07-01 is after the sale date 2025-06-30"):
        build_trade_list(holdings, "growth", fee_model=FEES, tax=TaxSettings(), as_of=AS_OF)
