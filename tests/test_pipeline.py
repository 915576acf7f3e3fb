"""The whole decision core on real registry data: event in, plan out."""

from __future__ import annotations

from datetime import datetime

import pytest

from src.engines import create_engine
from src.errors import DataError
from src.models.decision_models import PlanStatus
from src.models.portfolio_models import DEFAULT_RISK_LIMITS, PortfolioConfig
from src.models.risk_models import RiskStatus
from src.pipeline import plan_rebalance
from tests.conftest import GUIDE_TARGETS, guide_config, state_at_weights

TS = datetime(2021, 12, 31)




def plan(config, registry_returns, weights, ts=TS, **kw):
    prices = {u: 10.0 for u in registry_returns.columns}
    state = state_at_weights(weights, prices, timestamp=ts, **kw)
    return plan_rebalance(config, create_engine(config), state, registry_returns)


def test_plan_when_guide_config_drifted_then_orders_back_to_targets(registry_returns):
    drifted = {"rsi_strategy": 0.50, "macd_strategy": 0.25, "ml_strategy": 0.25}
    p = plan(guide_config(), registry_returns, drifted)
    assert p.status == PlanStatus.ORDERS and p.risk.status == RiskStatus.APPROVED
    assert [o.unit for o in p.orders] == ["rsi_strategy", "macd_strategy", "ml_strategy"]
    assert p.order_plan.expected_weights == pytest.approx(GUIDE_TARGETS, abs=2e-3)
    assert "drift outside band" in p.trigger.reason


def test_plan_when_on_target_then_no_trigger_and_no_orders(registry_returns):
    p = plan(guide_config(), registry_returns, GUIDE_TARGETS)
    assert p.status == PlanStatus.NO_TRIGGER and p.orders == [] and p.risk is None


def test_plan_when_risk_limits_breached_then_blocked_without_orders(registry_returns):
    drifted = {"rsi_strategy": 0.50, "macd_strategy": 0.25, "ml_strategy": 0.25}
    p = plan(guide_config(), registry_returns, drifted, ts=datetime(2009, 6, 30))
    assert p.status == PlanStatus.BLOCKED and p.orders == []
    assert "every unit was dropped" in p.message
    assert len(p.risk.verdicts) >= 9


def test_plan_when_engine_lacks_history_then_holds_and_says_why(registry_returns):
    config = guide_config(rebalancing_method="risk_parity", rebalancing_params={"lookback": 252})
    p = plan(config, registry_returns, GUIDE_TARGETS, ts=datetime(1992, 1, 31))
    assert p.status == PlanStatus.ENGINE_FAILED and p.orders == []
    assert "risk_parity lookback=252" in p.message and "holding positions" in p.message


def test_plan_when_calendar_forced_and_on_target_then_triggered_without_trades(registry_returns):
    config = guide_config(rebalancing_method="calendar", rebalancing_params={"force_rebalance": True})
    p = plan(config, registry_returns, GUIDE_TARGETS, ts=datetime(2021, 12, 1), last_rebalance_at=datetime(2021, 11, 1))
    assert p.trigger.fired and p.status == PlanStatus.NO_TRADES


def test_plan_when_returns_extend_past_event_then_identical_to_cut_returns(registry_returns):
    config = guide_config(rebalancing_method="risk_parity", rebalancing_params={},
                          risk_limits={**DEFAULT_RISK_LIMITS, "max_correlation_pair": 0.95})
    full = plan(config, registry_returns, {"rsi_strategy": 1.0}, ts=datetime(2021, 12, 31))
    cut = plan(config, registry_returns.loc[:"2021-12-31"], {"rsi_strategy": 1.0}, ts=datetime(2021, 12, 31))
    assert full == cut


def test_plan_when_same_event_twice_then_same_plan_id_and_order_ids(registry_returns):
    drifted = {"rsi_strategy": 0.50, "macd_strategy": 0.25, "ml_strategy": 0.25}
    a = plan(guide_config(), registry_returns, drifted)
    b = plan(guide_config(), registry_returns, drifted)
    assert a.plan_id == b.plan_id and [o.client_order_id for o in a.orders] == [o.client_order_id for o in b.orders]


def test_plan_when_targeted_unit_has_no_price_then_error_names_it(registry_returns):
    config = guide_config()
    state = state_at_weights({"rsi_strategy": 1.0}, {"rsi_strategy": 10.0, "macd_strategy": 10.0}, timestamp=TS)
    with pytest.raises(DataError, match="prices\\['ml_strategy'\\] is missing"):
        plan_rebalance(config, create_engine(config), state, registry_returns)


def test_plan_when_strategies_and_plain_assets_mixed_then_orders_for_both(registry):
    from src.utils.universe import unit_returns

    targets = {"momentum_strategy": 0.3, "low_vol_strategy": 0.3, "KO": 0.2, "XOM": 0.2}
    config = PortfolioConfig(name="mixed", target_allocations=targets, rebalancing_method="threshold",
                             risk_limits={**DEFAULT_RISK_LIMITS, "min_portfolio_sharpe": 0.0})
    returns = unit_returns(config, registry)
    ts = datetime(2017, 12, 29)
    levels = (1 + returns.loc[:ts]).cumprod().iloc[-1]
    drifted = {"momentum_strategy": 0.45, "low_vol_strategy": 0.25, "KO": 0.15, "XOM": 0.15}
    state = state_at_weights(drifted, {u: float(levels[u]) for u in targets}, timestamp=ts)
    p = plan_rebalance(config, create_engine(config), state, returns)
    assert p.status == PlanStatus.ORDERS, p.message
    # XOM's 2017 Sharpe was negative: the risk stage drops it, so it is sold outright and its
    # weight is spread over the others (a plain asset is treated exactly like a sleeve).
    dropped = next(v for v in p.risk.verdicts if v.limit == "min_strategy_sharpe")
    assert dropped.units == ["XOM"]
    xom = next(o for o in p.orders if o.unit == "XOM")
    assert xom.side.value == "sell" and xom.quantity == pytest.approx(state.holdings["XOM"])
    assert p.order_plan.expected_weights == pytest.approx({**p.risk.weights, "XOM": 0.0}, abs=5e-3)
