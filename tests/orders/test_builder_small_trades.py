"""Small trades: many small targets still trade, and skipped small buys do not leave cash idle.

The 20-stock example runs the whole pipeline on the shipped real prices; the 101-unit examples
call the builder on constructed prices of 1.0 (account arithmetic, not market data).
"""

from __future__ import annotations

from datetime import datetime

import pytest

from src.engines import create_engine
from src.models.base import UnitKind
from src.models.decision_models import PlanStatus
from src.models.portfolio_models import PortfolioConfig
from src.models.risk_models import NON_BINDING_RISK_LIMITS
from src.models.trading_models import FeeModel, OrderSide, PortfolioState
from src.orders.builder import build_orders
from src.pipeline import plan_rebalance
from src.utils.market_data import asset_prices, load_prices, simple_returns

TS = datetime(2021, 12, 31)
NAV = 100_000.0
NO_FEES = FeeModel(bps=0.0, fixed=0.0)
LOOSE = dict(NON_BINDING_RISK_LIMITS)


def at_weights(weights: dict[str, float], cash: float = 0.0, nav: float = NAV) -> PortfolioState:
    """Holdings worth ``weights`` of ``nav`` at price 1.0, plus ``cash``."""
    return PortfolioState(timestamp=TS, cash=cash, holdings={u: w * nav for u, w in weights.items() if w > 0},
                          prices={u: 1.0 for u in weights})


def build(state, targets, fees=NO_FEES, min_trade=0.01):
    return build_orders(state, targets, fee_model=fees, min_trade_size=min_trade, plan_id="small")


# --- many small targets -------------------------------------------------------------------

def test_plan_when_twenty_stocks_equal_weight_from_cash_then_all_twenty_bought():
    stocks = list(load_prices("stocks").columns)
    assert len(stocks) == 20
    prices = asset_prices(stocks).loc[:TS]
    config = PortfolioConfig(name="Twenty stocks", target_allocations={s: 0.05 for s in stocks},
                             rebalancing_method="threshold", risk_limits=LOOSE)
    state = PortfolioState(timestamp=TS, cash=NAV, prices=prices.iloc[-1].to_dict())
    plan = plan_rebalance(config, create_engine(config), state, simple_returns(prices),
                          unit_kinds={s: UnitKind.ASSET for s in stocks})
    assert plan.trigger.fired and plan.status == PlanStatus.ORDERS, plan.message
    assert all(s in plan.trigger.reason for s in stocks)  # every unheld stock breaches its band
    buys = [o for o in plan.orders if o.side == OrderSide.BUY]
    assert len(buys) == 20 and {o.unit for o in buys} == set(stocks)
    assert plan.order_plan.skipped == []
    weights = plan.order_plan.expected_weights
    assert all(weights[s] == pytest.approx(0.05, rel=2e-3) for s in stocks)  # fees take 10 bps
    assert plan.order_plan.expected_cash_after <= 0.01 * NAV


def test_build_when_101_units_of_1_over_101_from_cash_then_every_unit_bought():
    units = [f"U{i:03d}" for i in range(101)]
    state = PortfolioState(timestamp=TS, cash=NAV, prices={u: 1.0 for u in units})
    plan = build(state, {u: 1 / 101 for u in units}, fees=FeeModel(bps=10.0))  # 1/101 < min_trade_size 0.01
    assert len(plan.orders) == 101 and all(o.side == OrderSide.BUY for o in plan.orders)
    assert plan.skipped == []
    assert all(plan.expected_weights[u] == pytest.approx(1 / 101, rel=2e-3) for u in units)
    assert plan.expected_cash_after >= 0


def test_build_when_101_units_then_effective_minimum_is_half_the_smallest_target():
    units = [f"U{i:03d}" for i in range(101)]
    weights = {u: 1 / 101 for u in units}
    weights.update({"U000": 1 / 101 + 0.006, "U001": 1 / 101 - 0.006,   # 0.6% > 0.495%: traded
                    "U002": 1 / 101 + 0.003, "U003": 1 / 101 - 0.003})  # 0.3% < 0.495%: skipped
    plan = build(at_weights(weights), {u: 1 / 101 for u in units})
    assert {(o.unit, o.side) for o in plan.orders} == {("U000", OrderSide.SELL), ("U001", OrderSide.BUY)}
    skipped = {k.unit: k.reason for k in plan.skipped}
    assert set(skipped) == {"U002", "U003"}
    assert all(r == "0.3000% of value is below min_trade_size 0.4950%" for r in skipped.values()), skipped


def test_build_when_new_unit_target_below_min_trade_size_then_still_bought():
    plan = build(PortfolioState(timestamp=TS, cash=NAV, prices={"A": 1.0, "B": 1.0}), {"A": 0.995, "B": 0.005})
    assert {o.unit for o in plan.orders} == {"A", "B"}
    assert plan.expected_weights["B"] == pytest.approx(0.005)


# --- cash sweep -----------------------------------------------------------------------------

TARGETS = {"A": 0.4, "B": 0.2, "C": 0.2, "D": 0.2}


# At 2733c36 the sweep was dead code (the cash-scaling loop dropped every swept buy as "not enough
# cash"); fixed in 2bd474b, which this example checks.
@pytest.mark.parametrize("fees", [NO_FEES, FeeModel(bps=10.0)], ids=["no_fees", "10bps"])
def test_build_when_sells_free_cash_and_buys_under_min_then_small_buys_made(fees):
    # A sells 1.8% of value; B, C, D each need 0.6% (< min_trade_size 1%): 1.8% would sit idle.
    state = at_weights({"A": 0.418, "B": 0.194, "C": 0.194, "D": 0.194})
    plan = build(state, TARGETS, fees=fees)
    assert ("A", OrderSide.SELL) in {(o.unit, o.side) for o in plan.orders}
    assert {o.unit for o in plan.orders if o.side == OrderSide.BUY} == {"B", "C", "D"}
    assert not any("not enough cash" in k.reason for k in plan.skipped)
    target_cash = 1.0 - sum(TARGETS.values())
    assert plan.expected_cash_after <= (target_cash + 0.01) * NAV


def test_build_when_small_buys_would_leave_no_idle_cash_then_skipped_with_reason():
    # B sells 1.5%, C buys 1.2%: only 0.3% would be left idle (< 1%), so D's 0.3% buy stays skipped.
    state = at_weights({"A": 0.4, "B": 0.215, "C": 0.188, "D": 0.197})
    plan = build(state, TARGETS)
    assert {(o.unit, o.side) for o in plan.orders} == {("B", OrderSide.SELL), ("C", OrderSide.BUY)}
    assert [(k.unit, k.reason) for k in plan.skipped] == [("D", "0.3000% of value is below min_trade_size 1.0000%")]
    assert plan.expected_cash_after == pytest.approx(0.003 * NAV)
    assert plan.expected_cash_after <= 0.01 * NAV


def test_build_when_only_small_trades_and_no_cash_then_nothing_traded():
    state = at_weights({"A": 0.4, "B": 0.206, "C": 0.194, "D": 0.2})
    plan = build(state, TARGETS)
    assert plan.orders == [] and {k.unit for k in plan.skipped} == {"B", "C"}
    assert all("below min_trade_size 1.0000%" in k.reason for k in plan.skipped)
