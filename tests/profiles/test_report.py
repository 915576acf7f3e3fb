"""The plain-text report: drift table, trades, summary, and the tax only in a dry run."""

from __future__ import annotations

from datetime import date

from src.models.trading_models import FeeModel
from src.profiles import Holding, build_trade_list
from src.profiles.report import format_report
from src.tax.models import TaxSettings
from tests.profiles.test_risk_profiles import seed003


def squeezed(text: str) -> list[str]:
    """Lines with runs of spaces folded to one (column widths aside)."""
    return [" ".join(line.split()) for line in text.splitlines()]


def test_format_report_when_growth_then_drift_trades_and_summary_in_order():
    lines = squeezed(format_report(build_trade_list(seed003(), "growth", fee_model=FeeModel())))
    assert lines[0] == "Risk profile: growth (stocks 75% / bonds 15% / cash 10%)"
    expected = [
        "class value weight target target value drift status",
        "stocks 50,000.00 50.00% 75.00% 75,000.00 -25.00 UNDERWEIGHT",
        "bonds 40,000.00 40.00% 15.00% 15,000.00 +25.00 OVERWEIGHT",
        "cash 10,000.00 10.00% 10.00% 10,000.00 0.00 on target",
        "# side symbol amount est. shares commission",
        "1 SELL STRIPS-2040 25,000.00 n/a 25.00",
        "2 BUY CSPX 15,000.00 n/a 15.00",
        "3 BUY INDA 10,000.00 n/a 10.00",
        "sells 25,000.00 buys 25,000.00 commissions 50.00 net cash -50.00 cash 10,000.00 -> 9,950.00",
    ]
    assert [line for line in lines if line in expected] == expected
    assert not any("tax" in line for line in lines)


def test_format_report_when_balanced_then_no_trades_line():
    text = format_report(build_trade_list(seed003(), "balanced", fee_model=FeeModel()))
    assert "no trades: every position is on its target" in text and "OVERWEIGHT" not in text


def test_format_report_when_dry_run_with_tax_then_gains_losses_and_net_tax():
    holdings = [Holding(**{**h.model_dump(exclude_none=True), "cost_basis": 44_000, "acquired": date(2020, 1, 15)})
                if h.symbol == "STRIPS-2040" else h for h in seed003()]
    report = build_trade_list(holdings, "growth", fee_model=FeeModel(), tax=TaxSettings(), as_of=date(2025, 6, 30))
    lines = squeezed(format_report(report, dry_run=True))
    assert "Estimated tax of the sells (dry run, sold on 2025-06-30)" in lines
    assert "STRIPS-2040 long 24,975.00 27,500.00 -2,525.00 yes" in lines
    assert "losses 2,525.00 (short-term 0.00, long-term 2,525.00)" in lines
    assert "net tax -883.75 (negative: a saving)" in lines
    assert "Estimated tax" not in format_report(report, dry_run=False)


def test_format_report_when_shares_skips_and_warnings_then_shown():
    holdings = [Holding(symbol="CSPX", asset_class="stocks", value=60_000, price=600),
                Holding(symbol="BIG", asset_class="bonds", value=40_000, price=50_000)]
    lines = squeezed(format_report(build_trade_list(holdings, "growth", fee_model=FeeModel())))
    assert "1 BUY CSPX 15,000.00 25 15.00" in lines
    assert "skipped sell BIG 25,000.00: less than one whole share at 50,000.00" in lines
    assert "warning: no cash holding: the cash target is kept as uninvested cash (CASH)" in lines
