"""A household of several accounts held to one set of targets (issue 10): routing across accounts,
asset location, deposits, wash sales checked across the household, on the shipped data."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from src.household.backtest import run_household_backtest
from src.household.models import HouseholdConfig
from src.household.router import route
from src.models.trading_models import FeeModel, OrderSide
from src.tax.ledger import TaxLedger
from src.tax.models import Account, AccountType, TaxSettings

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "src/data/portfolios/household_sample.json"


@pytest.fixture(scope="module")
def sample() -> HouseholdConfig:
    return HouseholdConfig.model_validate(json.loads(SAMPLE.read_text()))


@pytest.fixture(scope="module")
def runs(sample):
    return {r: run_household_backtest(sample.model_copy(update={"routing": r}), date(2015, 1, 2), date(2022, 12, 28))
            for r in ("household", "each_account")}


def test_household_when_2015_to_2022_then_less_turnover_and_tax_than_each_account_to_target(runs, capsys):
    house, each = runs["household"], runs["each_account"]
    with capsys.disabled():
        for name, r in runs.items():
            print(f"\n{name:13} end {r.end_value:,.0f}  turnover {r.turnover:.2%}  fees {r.fees:,.0f}  realized taxable "
                  f"gains {r.realized_taxable_gain:,.0f}  disallowed {r.disallowed_losses:,.0f}  lost to IRA "
                  f"{r.lost_to_ira:,.0f}  est. tax drag of the first placement {r.location.drag_tax_aware if name == 'household' else r.location.drag_pro_rata:,.0f} a year")
    assert house.location.drag_tax_aware < house.location.drag_pro_rata  # asset location pays less tax a year
    assert house.turnover < each.turnover and house.fees < each.fees
    assert house.realized_taxable_gain < each.realized_taxable_gain
    assert house.deposits == each.deposits > 0


def test_household_when_run_then_no_wash_sale_unless_a_plan_says_why(runs):
    for result in runs.values():
        decisions = [d for p in result.plans for d in p.wash_sale_decisions]
        assert result.wash_sales_accepted == 0 or decisions
        assert result.lost_to_ira == 0.0  # an IRA purchase never washed a taxable loss


def test_household_when_run_then_sleeves_sheltered_and_every_trade_has_account_and_reason(runs, sample):
    house = runs["household"]
    deferred = sum(v for a in ("alex_ira", "sam_ira") for u, v in house.placement[a].items()
                   if u in ("momentum_strategy", "low_vol_strategy"))
    sleeves = sum(v for p in house.placement.values() for u, v in p.items() if u in ("momentum_strategy",
                                                                                  "low_vol_strategy"))
    each = runs["each_account"]
    each_deferred = sum(v for a in ("alex_ira", "sam_ira") for u, v in each.placement[a].items()
                        if u in ("momentum_strategy", "low_vol_strategy"))
    each_sleeves = sum(v for p in each.placement.values() for u, v in p.items() if u in ("momentum_strategy",
                                                                                      "low_vol_strategy"))
    assert deferred / sleeves > each_deferred / each_sleeves  # high-turnover sleeves placed in IRA/401k
    ids = {a.id for a in sample.accounts}
    assert all(t.account in ids and t.reason for p in house.plans for t in p.trades)


def ledger_of(*accounts: tuple[str, AccountType]) -> TaxLedger:
    return TaxLedger([Account(account_id=a, account_type=t, household="h") for a, t in accounts], TaxSettings())


def test_route_when_unit_overweight_then_sold_in_tax_deferred_account_first():
    ledger = ledger_of(("tax", AccountType.TAXABLE), ("ira", AccountType.TRADITIONAL_IRA))
    for account in ("tax", "ira"):
        ledger.buy(account_id=account, symbol="KO", units=100, price=50.0, trade_date=date(2020, 1, 2))
    plan = route(day=date(2021, 1, 4), targets={"KO": 0.5}, ledger=ledger, cash={"tax": 0.0, "ira": 0.0},
                 prices={"KO": 60.0}, classes={}, fee_model=FeeModel(bps=0.0), min_trade_size=0.001,
                 routing="household")
    assert [(t.account, t.side) for t in plan.trades] == [("ira", OrderSide.SELL)]
    assert "tax-deferred" in plan.trades[0].reason


def test_route_when_bond_underweight_then_bought_in_ira_and_stock_in_roth():
    ledger = ledger_of(("tax", AccountType.TAXABLE), ("ira", AccountType.TRADITIONAL_IRA), ("roth", AccountType.ROTH_IRA))
    plan = route(day=date(2016, 1, 4), targets={"UST10Y": 0.3, "KO": 0.7}, ledger=ledger,
                 cash={"tax": 60_000.0, "ira": 30_000.0, "roth": 10_000.0}, prices={"UST10Y": 100.0, "KO": 40.0},
                 classes={"UST10Y": "bond"}, fee_model=FeeModel(bps=0.0), min_trade_size=0.001, routing="household")
    placed = {(t.account, t.unit): t.notional for t in plan.trades}
    assert placed[("ira", "UST10Y")] == pytest.approx(30_000.0)
    assert placed[("roth", "KO")] == pytest.approx(10_000.0) and placed[("tax", "KO")] == pytest.approx(60_000.0)


def test_route_when_ira_buy_would_wash_a_taxable_loss_then_deferred_with_reason():
    ledger = ledger_of(("tax", AccountType.TAXABLE), ("ira", AccountType.TRADITIONAL_IRA))
    ledger.buy(account_id="tax", symbol="KO", units=100, price=60.0, trade_date=date(2020, 1, 2))
    ledger.sell(account_id="tax", symbol="KO", units=100, price=45.0, trade_date=date(2020, 3, 2))  # a loss
    plan = route(day=date(2020, 3, 10), targets={"KO": 1.0}, ledger=ledger, cash={"tax": 0.0, "ira": 5_000.0},
                 prices={"KO": 46.0}, classes={}, fee_model=FeeModel(bps=0.0), min_trade_size=0.001,
                 routing="household")
    assert plan.trades == [] and plan.wash_sale_decisions and "deferred" in plan.skipped[0]


def test_route_when_deposit_then_only_buys_in_depositing_account_most_underweight_first():
    ledger = ledger_of(("tax", AccountType.TAXABLE))
    ledger.buy(account_id="tax", symbol="KO", units=100, price=50.0, trade_date=date(2020, 1, 2))
    ledger.buy(account_id="tax", symbol="PEP", units=10, price=50.0, trade_date=date(2020, 1, 2))
    plan = route(day=date(2020, 6, 1), targets={"KO": 0.5, "PEP": 0.5}, ledger=ledger, cash={"tax": 2_000.0},
                 prices={"KO": 50.0, "PEP": 50.0}, classes={}, fee_model=FeeModel(bps=0.0), min_trade_size=0.001,
                 routing="household", sells=False)
    assert [(t.unit, t.side) for t in plan.trades] == [("PEP", OrderSide.BUY)]


@pytest.mark.parametrize("change, words", [
    ({"accounts": [{"id": "a", "owner": "x", "type": "taxable", "cash": 1}] * 2}, "ids must be unique"),
    ({"deposits": [{"account": "nope", "monthly": 10, "start": "2020-01-01"}]}, "deposits[0].account='nope'"),
    ({"withdrawals": [{"account": "nope", "monthly": 10, "start": "2020-01-01"}]}, "withdrawals[0].account='nope'"),
    ({"asset_classes": {"TSLA": "stock"}}, "asset_classes: ['TSLA'] are not units"),
])
def test_config_when_inconsistent_then_error_names_the_field(sample, change, words):
    with pytest.raises(ValueError, match=words.replace("[", "\\[").replace("]", "\\]")):
        HouseholdConfig.model_validate({**sample.model_dump(mode="json"), **change})


def test_main_household_when_sample_then_both_routings_printed_and_bad_file_one_line_exit_2(tmp_path, capsys):
    import main as main_module

    assert main_module.main(["--household", str(SAMPLE), "--data-dir", str(tmp_path / "d")]) == 0
    out = capsys.readouterr().out
    assert "household routing" in out and "each_account routing" in out and "alex_roth" in out
    plans = sorted((tmp_path / "d").glob("household_two_person_household_*.json"))
    first = json.loads(plans[0].read_text())
    assert len(plans) > 10 and first["day"] == "2015-01-02"
    assert all(t["account"] and t["reason"] for t in first["trades"])  # every order names its account
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x", "portfolio": {}, "accounts": []}')
    assert main_module.main(["--household", str(bad), "--data-dir", str(tmp_path / "d2")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "accounts" in err and "Traceback" not in err


@pytest.mark.slow
def test_household_when_withdrawals_then_raised_from_overweights_with_less_turnover_than_each_account(sample, capsys):
    drawn = HouseholdConfig.model_validate({**sample.model_dump(mode="json"), "withdrawals": [
        {"account": "alex_taxable", "monthly": 6_000.0, "start": "2019-01-01"},
        {"account": "alex_ira", "monthly": 2_000.0, "start": "2020-01-01"}]})
    runs = {r: run_household_backtest(drawn.model_copy(update={"routing": r}), date(2015, 1, 2), date(2022, 12, 28))
            for r in ("household", "each_account")}
    house, each = runs["household"], runs["each_account"]
    with capsys.disabled():
        for name, r in runs.items():
            print(f"\nwith withdrawals {name:13} end {r.end_value:,.0f}  turnover {r.turnover:.2%}  fees {r.fees:,.0f}  "
                  f"realized taxable gains {r.realized_taxable_gain:,.0f}  net flows {r.deposits:,.0f}")
    assert house.turnover < each.turnover and house.fees < each.fees
    assert not [s for p in house.plans for s in p.skipped if s.startswith("withdrawal")]  # always raised in full
    sales = [t for p in house.plans for t in p.trades if t.reason.startswith("withdrawal")]
    assert sales and all(t.side == OrderSide.SELL for t in sales)


def test_route_when_taxable_accounts_hold_gain_and_loss_then_sold_where_the_lots_lose_first():
    ledger = ledger_of(("gain", AccountType.TAXABLE), ("loss", AccountType.TAXABLE))
    ledger.buy(account_id="gain", symbol="KO", units=100, price=30.0, trade_date=date(2019, 1, 2))
    ledger.buy(account_id="loss", symbol="KO", units=100, price=70.0, trade_date=date(2019, 1, 2))
    plan = route(day=date(2021, 1, 4), targets={"KO": 0.6}, ledger=ledger, cash={"gain": 0.0, "loss": 0.0},
                 prices={"KO": 50.0}, classes={}, fee_model=FeeModel(bps=0.0), min_trade_size=0.001,
                 routing="household")
    assert [(t.account, round(t.units)) for t in plan.trades] == [("loss", 80)]
