"""Backtest figures against values computed by hand, step by step, from real prices.

The slice: KO and PG, 50/50, from 2020-03-02 to 2020-03-13 (10 trading days of the March 2020
fall), 100,000 of starting cash, fees 10 bps of the fill notional, fills 5 bps worse than the
close. Every expected number below is recomputed here from the closes with the README's
definitions ("Backtests") and the paper fill model (``src/brokers/fills.py``), not read back
from the runner.
"""

from __future__ import annotations

import math
import statistics
from datetime import date

import numpy as np
import pandas as pd
import pytest

from src.backtest.metrics import ideal_values, periods_per_year
from src.backtest.runner import run_backtest
from src.models.decision_models import PlanStatus
from src.models.portfolio_models import PortfolioConfig, RebalancingMethod
from src.models.trading_models import FeeModel, OrderSide, OrderStatus
from src.utils.market_data import asset_prices, load_prices

CASH = 100_000.0
FEE = 10 / 10_000  # 10 bps of the fill notional
SLIP = 5 / 10_000  # fills 5 bps worse than the close
TARGETS = {"KO": 0.5, "PG": 0.5}
START, END = "2020-03-02", "2020-03-13"

# Limits that cannot bind (a 50/50 pair breaks the default max_single_strategy of 0.4).
OPEN_LIMITS = dict(max_single_strategy=1.0, min_single_strategy=0.0, max_correlation_pair=1.0,
                   max_avg_correlation=1.0, min_strategy_sharpe=-100.0, max_strategy_drawdown=1.0,
                   max_portfolio_leverage=1.0, min_portfolio_sharpe=-100.0, max_portfolio_drawdown=1.0)


def config(method: RebalancingMethod, params: dict, targets: dict | None = None) -> PortfolioConfig:
    return PortfolioConfig(name="KO/PG metrics", target_allocations=dict(targets or TARGETS),
                           rebalancing_method=method, rebalancing_params=params, risk_limits=OPEN_LIMITS,
                           fee_model=FeeModel(bps=FEE * 10_000))


@pytest.fixture(scope="module")
def closes() -> pd.DataFrame:
    frame = asset_prices(["KO", "PG"]).loc[START:END]
    assert len(frame) == 10 and frame.index[0] == pd.Timestamp(START) and frame.index[-1] == pd.Timestamp(END)
    return frame


@pytest.fixture(scope="module")
def held(closes):
    """Threshold 5%: a 50/50 pair does not leave its band in these 10 days, so only day 0 trades."""
    return run_backtest(config(RebalancingMethod.THRESHOLD, {"min_drift": 0.05}), START, END,
                        initial_cash=CASH, slippage_bps=SLIP * 10_000)


@pytest.fixture(scope="module")
def daily(closes):
    """Calendar daily, forced, no minimum trade: back to 50/50 at every close."""
    params = {"frequency": "daily", "force_rebalance": True, "min_trade_size": 0.0}
    return run_backtest(config(RebalancingMethod.CALENDAR, params), START, END, initial_cash=CASH,
                        slippage_bps=SLIP * 10_000)


def first_day_by_hand(closes: pd.DataFrame) -> dict:
    """Day 0: the buys and their fees, at prices 5 bps above the close, spend the starting cash.

    The order builder plans buys at the close and keeps back the slippage reserve, so each unit
    gets ``target * CASH / ((1 + fee) * (1 + slip))`` of notional at the close.
    """
    rate = (1 + FEE) * (1 + SLIP)
    out = {"qty": {}, "fill": {}, "fee": {}, "slippage": {}}
    for unit, weight in TARGETS.items():
        close = float(closes[unit].iloc[0])
        qty = weight * CASH / rate / close
        fill = close * (1 + SLIP)
        out["qty"][unit] = qty
        out["fill"][unit] = fill
        out["fee"][unit] = qty * fill * FEE
        out["slippage"][unit] = qty * (fill - close)
    out["cash"] = CASH - sum(out["qty"][u] * out["fill"][u] + out["fee"][u] for u in TARGETS)
    return out


def returns_by_hand(nav: list[float]) -> list[float]:
    """r_0 = V_0 / cash - 1 (the first investment's cost), then r_t = V_t / V_{t-1} - 1."""
    previous = [CASH, *nav[:-1]]
    return [v / p - 1.0 for v, p in zip(nav, previous)]


def days_per_year_by_hand(days: pd.DatetimeIndex) -> float:
    return len(days) / ((days[-1] - days[0]).days / 365.25)


# --- the first day's fills -------------------------------------------------------------------


def test_first_day_when_cash_invested_then_quantities_fees_and_slippage_match_the_fill_model(held, closes):
    hand = first_day_by_hand(closes)
    first = held.decisions[0]
    assert first.day == date(2020, 3, 2) and first.status == PlanStatus.ORDERS
    assert {o.unit for o in first.orders} == {"KO", "PG"}
    for order in first.orders:
        unit = order.unit
        assert order.side == OrderSide.BUY and order.status == OrderStatus.FILLED
        assert order.filled_quantity == pytest.approx(hand["qty"][unit], rel=1e-10)
        assert order.average_fill_price == pytest.approx(hand["fill"][unit], rel=1e-15)
        assert order.fee == pytest.approx(hand["fee"][unit], rel=1e-10)
    # KO at 50.142 and PG at 109.64: 49,925.10 of notional each, 49.95 of fees each
    assert hand["qty"]["KO"] == pytest.approx(995.674034, rel=1e-9)
    assert hand["qty"]["PG"] == pytest.approx(455.354683, rel=1e-9)
    assert first.fees == pytest.approx(sum(hand["fee"].values()), rel=1e-10)
    assert held.metrics.fees == pytest.approx(sum(hand["fee"].values()), rel=1e-10)
    assert held.metrics.slippage_cost == pytest.approx(sum(hand["slippage"].values()), rel=1e-10)
    assert first.traded_notional == pytest.approx(
        sum(hand["qty"][u] * hand["fill"][u] for u in TARGETS), rel=1e-10)
    assert hand["cash"] == pytest.approx(0.0, abs=1e-6)  # fully invested: fees and slippage are the only cost


def test_first_day_when_invested_then_value_is_starting_cash_less_fees_and_slippage(held, closes):
    hand = first_day_by_hand(closes)
    assert held.nav.iloc[0] == pytest.approx(CASH - sum(hand["fee"].values()) - sum(hand["slippage"].values()),
                                             rel=1e-12)
    assert held.weights.iloc[0]["KO"] == pytest.approx(0.5, abs=1e-12)
    assert held.weights.iloc[0]["PG"] == pytest.approx(0.5, abs=1e-12)


# --- value, returns and the figures -----------------------------------------------------------


def test_nav_when_only_the_first_day_trades_then_each_close_is_cash_plus_quantity_times_price(held, closes):
    hand = first_day_by_hand(closes)
    assert len(held.decisions) == 1  # the band never fired after the first day
    expected = [hand["cash"] + sum(hand["qty"][u] * float(closes[u].iloc[t]) for u in TARGETS)
                for t in range(len(closes))]
    assert held.nav.index.equals(closes.index)
    np.testing.assert_allclose(held.nav.to_numpy(), expected, rtol=1e-12, atol=0.0)
    weights = [{u: hand["qty"][u] * float(closes[u].iloc[t]) / expected[t] for u in TARGETS}
               for t in range(len(closes))]
    np.testing.assert_allclose(held.weights["KO"].to_numpy(), [w["KO"] for w in weights], rtol=1e-11)
    np.testing.assert_allclose(held.weights["PG"].to_numpy(), [w["PG"] for w in weights], rtol=1e-11)


def test_periods_per_year_when_ten_stock_days_then_days_over_calendar_years_spanned(held, closes):
    # 10 days over 11 calendar days: 10 / (11 / 365.25) = 332.05 (a short window is not 252)
    p = days_per_year_by_hand(closes.index)
    assert p == pytest.approx(332.0454545, rel=1e-9)
    assert held.metrics.periods_per_year == pytest.approx(p, rel=1e-15)
    assert held.metrics.days == 10
    assert (held.metrics.start, held.metrics.end) == (date(2020, 3, 2), date(2020, 3, 13))


def test_total_and_annualised_return_when_computed_from_daily_value_then_geometric_over_the_span(held, closes):
    nav = held.nav.tolist()
    p = days_per_year_by_hand(closes.index)
    growth = math.prod(1.0 + r for r in returns_by_hand(nav))  # the daily returns chain to V_T / cash
    assert growth == pytest.approx(nav[-1] / CASH, rel=1e-13)
    assert held.metrics.initial_value == CASH and held.metrics.final_value == pytest.approx(nav[-1], rel=1e-15)
    assert held.metrics.total_return == pytest.approx(nav[-1] / CASH - 1.0, rel=1e-12)
    assert held.metrics.annualized_return == pytest.approx((nav[-1] / CASH) ** (p / len(nav)) - 1.0, rel=1e-12)


def test_volatility_sharpe_sortino_when_computed_from_daily_returns_then_match_definitions(held, closes):
    r = returns_by_hand(held.nav.tolist())
    assert r[0] == pytest.approx(-(held.metrics.fees + held.metrics.slippage_cost) / CASH, rel=1e-9)
    p = days_per_year_by_hand(closes.index)
    sd = statistics.stdev(r)  # ddof = 1
    mean = statistics.fmean(r)
    downside = math.sqrt(sum(min(x, 0.0) ** 2 for x in r) / len(r))
    assert held.metrics.annualized_volatility == pytest.approx(sd * math.sqrt(p), rel=1e-12)
    assert held.metrics.sharpe_ratio == pytest.approx(mean / sd * math.sqrt(p), rel=1e-12)
    assert held.metrics.sortino_ratio == pytest.approx(mean / downside * math.sqrt(p), rel=1e-12)
    assert held.metrics.sharpe_ratio < 0 and held.metrics.sortino_ratio < 0  # a falling market


def test_max_drawdown_when_value_falls_then_largest_fall_from_running_peak_including_starting_cash(held):
    nav = held.nav.tolist()
    peak, worst = CASH, 0.0
    for v in nav:
        peak = max(peak, v)
        worst = max(worst, 1.0 - v / peak)
    assert held.metrics.max_drawdown == pytest.approx(worst, rel=1e-12)
    # the trough is 2020-03-12, the peak 2020-03-04
    assert worst == pytest.approx(1.0 - nav[8] / nav[2], rel=1e-12)


def test_turnover_when_only_the_first_day_trades_then_zero_first_investment_excluded(held):
    assert held.decisions[0].traded_notional > 99_000
    assert held.metrics.turnover == 0.0
    assert held.metrics.rebalances == 1


def test_tracking_error_when_held_without_rebalancing_then_std_of_return_minus_daily_rebalanced_targets(
        held, closes):
    r = returns_by_hand(held.nav.tolist())
    unit = {u: [0.0] + [closes[u].iloc[t] / closes[u].iloc[t - 1] - 1.0 for t in range(1, len(closes))]
            for u in TARGETS}
    ideal = [0.0] + [sum(TARGETS[u] * unit[u][t] for u in TARGETS) for t in range(1, len(closes))]
    p = days_per_year_by_hand(closes.index)
    expected = statistics.stdev([a - b for a, b in zip(r, ideal)]) * math.sqrt(p)
    assert held.metrics.tracking_error == pytest.approx(expected, rel=1e-10)
    ideal_nav = CASH * np.cumprod(1.0 + np.array(ideal))
    np.testing.assert_allclose(held.ideal_nav.to_numpy(), ideal_nav, rtol=1e-13)
    assert held.metrics.ideal_annualized_return == pytest.approx(
        (ideal_nav[-1] / CASH) ** (p / len(ideal_nav)) - 1.0, rel=1e-12)


def test_average_cash_when_fully_invested_then_mean_of_cash_over_value(held, closes):
    hand = first_day_by_hand(closes)  # cash left is ~0 (the builder keeps back 1e-12 of it)
    expected = statistics.fmean(hand["cash"] / v for v in held.nav)
    assert held.metrics.average_cash == pytest.approx(expected, abs=1e-11)
    assert held.metrics.average_cash == pytest.approx(statistics.fmean(held.weights["cash"]), rel=1e-12)
    assert 0.0 <= held.metrics.average_cash < 1e-9


# --- daily rebalancing: turnover from the fills --------------------------------------------------


def test_daily_rebalance_when_second_day_then_overweight_sold_first_and_buy_limited_to_cash(daily, closes):
    """2020-03-03: KO rose 0.25%, PG fell 1.16%; sell KO back to half the value, buy PG with the proceeds."""
    hand = first_day_by_hand(closes)
    qty = dict(hand["qty"])
    price = {u: float(closes[u].iloc[1]) for u in TARGETS}
    nav = hand["cash"] + sum(qty[u] * price[u] for u in TARGETS)
    sell_qty = (qty["KO"] * price["KO"] - 0.5 * nav) / price["KO"]
    want = 0.5 * nav - qty["PG"] * price["PG"]
    # the builder counts a sell's proceeds 5 bps worse and less its fee; buys pay fee on a fill 5 bps worse
    cash = hand["cash"] + sell_qty * price["KO"] * (1 - SLIP) - sell_qty * price["KO"] * FEE
    buy_notional = min(want, cash / ((1 + FEE) * (1 + SLIP)))
    second = daily.decisions[1]
    assert second.day == date(2020, 3, 3)
    sell, buy = second.orders  # sells before buys
    assert (sell.unit, sell.side, buy.unit, buy.side) == ("KO", OrderSide.SELL, "PG", OrderSide.BUY)
    assert sell.filled_quantity == pytest.approx(sell_qty, rel=1e-9)
    assert sell.average_fill_price == pytest.approx(price["KO"] * (1 - SLIP), rel=1e-15)
    assert buy.filled_quantity == pytest.approx(buy_notional / price["PG"], rel=1e-9)
    assert buy.average_fill_price == pytest.approx(price["PG"] * (1 + SLIP), rel=1e-15)
    assert sell_qty == pytest.approx(7.0129158, rel=1e-7)


def test_daily_rebalance_when_replayed_from_the_fills_then_value_fees_slippage_and_turnover_match(daily, closes):
    cash, qty = CASH, {u: 0.0 for u in TARGETS}
    traded_after_first, fees, slippage, nav = 0.0, 0.0, 0.0, []
    by_day = {pd.Timestamp(d.day): d for d in daily.decisions}
    assert len(by_day) == len(closes)  # one decision every day
    for t, day in enumerate(closes.index):
        day_cost = 0.0
        for o in by_day[day].orders:
            close = float(closes[o.unit].loc[day])
            sign = 1.0 if o.side == OrderSide.BUY else -1.0
            assert o.status == OrderStatus.FILLED
            assert o.average_fill_price == pytest.approx(close * (1 + sign * SLIP), rel=1e-15)
            notional = o.filled_quantity * o.average_fill_price
            assert o.fee == pytest.approx(notional * FEE, rel=1e-12)
            cash += -sign * notional - o.fee
            qty[o.unit] += sign * o.filled_quantity
            fees += o.fee
            slippage += o.filled_quantity * abs(o.average_fill_price - close)
            day_cost += o.fee + o.filled_quantity * abs(o.average_fill_price - close)
            if t > 0:
                traded_after_first += notional
        nav.append(cash + sum(qty[u] * float(closes[u].loc[day]) for u in TARGETS))
        for u in TARGETS:  # back on target after each close's trades, short only by that day's costs
            weight = qty[u] * float(closes[u].loc[day]) / nav[-1]
            assert abs(weight - 0.5) <= day_cost / nav[-1]
    np.testing.assert_allclose(daily.nav.to_numpy(), nav, rtol=1e-12)
    assert daily.metrics.fees == pytest.approx(fees, rel=1e-12)
    assert daily.metrics.slippage_cost == pytest.approx(slippage, rel=1e-12)
    years = len(nav) / days_per_year_by_hand(closes.index)
    expected = traded_after_first / 2.0 / statistics.fmean(nav) / years
    assert daily.metrics.turnover == pytest.approx(expected, rel=1e-12)
    first_day = daily.decisions[0].traded_notional
    # the first investment (99,900 at fill prices) is not turnover; the nine daily rebalances trade ~10,100
    assert first_day == pytest.approx(CASH / (1 + FEE), rel=1e-9)
    assert 5_000 < traded_after_first < 20_000
    assert daily.metrics.rebalances == len(closes)


def test_tracking_error_when_rebalanced_daily_then_active_return_is_each_days_cost(daily, held, closes):
    # Rebalanced daily, the account earns the ideal's return less that day's fees and slippage
    # over the previous close's value (to the weights' 1e-5 residue from cash-limited buys).
    active = daily.nav.pct_change().to_numpy()[1:] - daily.ideal_nav.pct_change().to_numpy()[1:]
    cost = np.array([sum(o.fee + o.filled_quantity * abs(o.average_fill_price - closes[o.unit].loc[pd.Timestamp(d.day)])
                         for o in d.orders) for d in daily.decisions])
    np.testing.assert_allclose(active, -cost[1:] / daily.nav.to_numpy()[:-1], rtol=0.0, atol=1e-6)
    assert np.all(cost[1:] > 0)
    assert daily.metrics.tracking_error < held.metrics.tracking_error
    np.testing.assert_allclose(daily.ideal_nav.to_numpy(), held.ideal_nav.to_numpy(), rtol=1e-15)


# --- ideal_values and periods_per_year directly -------------------------------------------------


def test_ideal_values_when_targets_change_then_previous_close_targets_earn_each_day(closes):
    units = ["KO", "PG"]
    r = closes.pct_change().fillna(0.0).to_numpy()
    targets = [(3, {"KO": 0.2, "PG": 0.8}), (0, {"KO": 0.6, "PG": 0.4}), (6, {"KO": 0.5})]  # given unsorted
    values = ideal_values(targets, r, units, CASH, closes.index)
    expected = [CASH]
    for t in range(1, len(closes)):
        w = ({"KO": 0.6, "PG": 0.4} if t - 1 < 3 else {"KO": 0.2, "PG": 0.8} if t - 1 < 6 else {"KO": 0.5, "PG": 0.0})
        expected.append(expected[-1] * (1.0 + w["KO"] * r[t, 0] + w["PG"] * r[t, 1]))
    assert values.index.equals(closes.index) and values.name == "ideal"
    np.testing.assert_allclose(values.to_numpy(), expected, rtol=1e-14)
    # day 3's new targets first earn on day 4; day 6's half-in-cash targets first on day 7
    assert values.iloc[3] / values.iloc[2] - 1 == pytest.approx(0.6 * r[3, 0] + 0.4 * r[3, 1], rel=1e-12)
    assert values.iloc[4] / values.iloc[3] - 1 == pytest.approx(0.2 * r[4, 0] + 0.8 * r[4, 1], rel=1e-12)
    assert values.iloc[7] / values.iloc[6] - 1 == pytest.approx(0.5 * r[7, 0], rel=1e-12)


def test_ideal_values_when_no_day_has_passed_then_the_starting_cash():
    day = pd.DatetimeIndex(["2021-01-04"])
    values = ideal_values([(0, {"KO": 1.0})], np.array([[0.05]]), ["KO"], CASH, day)
    assert values.tolist() == [CASH]


def test_periods_per_year_when_a_year_of_stocks_then_about_252():
    days = load_prices("stocks").loc["2019"].index
    assert len(days) == 252
    p = periods_per_year(days)
    assert p == pytest.approx(252 / (363 / 365.25), rel=1e-15)  # 2019-01-02 .. 2019-12-31
    assert 250 < p < 256


def test_periods_per_year_when_a_year_of_crypto_then_about_365():
    days = load_prices("crypto")["BTC"].dropna().loc["2021"].index
    assert len(days) == 365
    p = periods_per_year(days)
    assert p == pytest.approx(365 / (364 / 365.25), rel=1e-15)
    assert p == pytest.approx(365.25, rel=5e-3)


def test_periods_per_year_when_a_single_day_then_falls_back_to_252():
    assert periods_per_year(pd.DatetimeIndex(["2021-01-04"])) == 252.0


def test_backtest_when_crypto_calendar_then_metrics_annualise_with_about_365_days():
    targets = {"BTC": 0.5, "ETH": 0.5}
    result = run_backtest(config(RebalancingMethod.CALENDAR, {"frequency": "monthly"}, targets),
                          "2021-01-01", "2021-12-31", initial_cash=CASH, slippage_bps=SLIP * 10_000)
    assert result.metrics.days == 365
    assert result.metrics.periods_per_year == pytest.approx(periods_per_year(result.nav.index), rel=1e-15)
    assert result.metrics.periods_per_year == pytest.approx(365.25, rel=5e-3)
    r = returns_by_hand(result.nav.tolist())
    assert result.metrics.annualized_volatility == pytest.approx(
        statistics.stdev(r) * math.sqrt(result.metrics.periods_per_year), rel=1e-12)
