"""The whole decision core on real registry data: event in, plan out."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from src.engines import CalendarTrigger, RebalancingEngine, create_engine
from src.models.base import Frequency
from src.models.decision_models import EngineResult
from src.models.risk_models import ReasonCode, RiskExclusion
from src.models.trading_models import PortfolioState
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


def test_plan_when_engine_lacks_history_then_configured_targets_and_says_why(registry_returns):
    config = guide_config(rebalancing_method="risk_parity", rebalancing_params={"lookback": 252})
    prices = {u: 10.0 for u in registry_returns.columns}
    state = PortfolioState(timestamp=datetime(1992, 1, 31), cash=100_000.0, prices=prices)
    p = plan_rebalance(config, create_engine(config), state, registry_returns)
    assert p.status == PlanStatus.ORDERS and p.engine_result.weights == GUIDE_TARGETS
    assert all("risk_parity lookback=252" in e.detail for e in p.engine_result.exclusions)


class CountingEngine(RebalancingEngine):
    """Configured targets, counting how often it is asked."""

    name = "counting"
    calls = 0

    def build_trigger(self):
        return CalendarTrigger(Frequency.MONTHLY)

    def calculate_target_weights(self, ctx):
        CountingEngine.calls += 1
        return EngineResult(engine=self.name, weights=dict(self.config.target_allocations))


def test_plan_when_calendar_says_no_then_engine_never_computed(registry_returns):
    config = guide_config()
    engine = CountingEngine(config)
    CountingEngine.calls = 0
    prices = {u: 10.0 for u in registry_returns.columns}
    state = state_at_weights(GUIDE_TARGETS, prices, timestamp=datetime(2021, 12, 15),
                             ).model_copy(update={"memory": {"calendar.monthly.1": float(date(2021, 12, 1).toordinal())}})
    p = plan_rebalance(config, engine, state, registry_returns)
    assert p.status == PlanStatus.NO_TRIGGER and CountingEngine.calls == 0 and p.engine_result is None
    assert p.memory == state.memory


def test_plan_when_calendar_fires_without_drift_then_period_still_decided(registry_returns):
    config = guide_config(rebalancing_method="calendar", rebalancing_params={"frequency": "monthly"})
    prices = {u: 10.0 for u in registry_returns.columns}
    state = state_at_weights(GUIDE_TARGETS, prices, timestamp=datetime(2021, 12, 1))
    p = plan_rebalance(config, create_engine(config), state, registry_returns)
    assert p.status == PlanStatus.NO_TRIGGER and p.memory["calendar.monthly.1"] == date(2021, 12, 1).toordinal()
    drifted = state_at_weights({"rsi_strategy": 0.6, "macd_strategy": 0.2, "ml_strategy": 0.2}, prices,
                               timestamp=datetime(2021, 12, 2)).model_copy(update={"memory": p.memory})
    later = plan_rebalance(config, create_engine(config), drifted, registry_returns)
    assert later.status == PlanStatus.NO_TRIGGER and "already decided" in later.trigger.reason


def test_plan_when_unit_held_out_by_risk_then_trigger_ignores_its_zero_weight(registry_returns):
    config = guide_config()
    held_out = {"ml_strategy": RiskExclusion(unit="ml_strategy", limit="min_strategy_sharpe",
                                             reason_code=ReasonCode.STRATEGY_SHARPE_BELOW_MIN,
                                             since=datetime(2021, 12, 1), value=-0.5)}
    prices = {u: 10.0 for u in registry_returns.columns}
    # What the risk stage placed last time: ml_strategy's 0.3 went pro rata to the other two,
    # capped at max_single_strategy 0.4 (the remaining 0.2 in cash).
    state = state_at_weights({"rsi_strategy": 0.4, "macd_strategy": 0.4}, prices, nav=80_000.0,
                             cash=20_000.0).model_copy(update={"risk_exclusions": held_out})
    p = plan_rebalance(config, create_engine(config), state, registry_returns)
    assert p.status == PlanStatus.NO_TRIGGER, p.trigger.reason
    assert p.trading_targets == pytest.approx({"rsi_strategy": 0.4, "macd_strategy": 0.4})


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
