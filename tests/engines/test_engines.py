"""The four engines on the shipped registry returns, and the custom-engine contract."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from src.engines import (
    AdaptiveEngine,
    CalendarEngine,
    MarketContext,
    RebalancingEngine,
    RiskParityEngine,
    ThresholdEngine,
    create_engine,
    ledoit_wolf,
    risk_contributions,
)
from src.models.decision_models import EngineResult
from src.models.portfolio_models import DEFAULT_RISK_LIMITS, PortfolioConfig
from tests.conftest import GUIDE_TARGETS, state_at_weights

TS = datetime(2021, 12, 31)


def config(method="threshold", params=None, targets=None, **limits) -> PortfolioConfig:
    return PortfolioConfig(name="t", target_allocations=targets or dict(GUIDE_TARGETS),
                           rebalancing_method=method, rebalancing_params=params or {},
                           risk_limits={**DEFAULT_RISK_LIMITS, **limits})


def ctx(registry_returns, weights, ts=TS, **kw) -> MarketContext:
    prices = {u: 1.0 for u in registry_returns.columns}
    return MarketContext(timestamp=ts, state=state_at_weights(weights, prices, timestamp=ts, **kw),
                         returns=registry_returns)


def test_create_engine_when_each_method_then_matching_class():
    assert isinstance(create_engine(config("threshold")), ThresholdEngine)
    assert isinstance(create_engine(config("calendar")), CalendarEngine)
    assert isinstance(create_engine(config("adaptive")), AdaptiveEngine)
    assert isinstance(create_engine(config("risk_parity")), RiskParityEngine)


def test_threshold_when_trade_to_target_then_configured_targets(registry_returns):
    result = ThresholdEngine(config()).calculate_target_weights(ctx(registry_returns, {"rsi_strategy": 1.0}))
    assert result.weights == GUIDE_TARGETS


def test_threshold_when_band_edge_then_smallest_move_into_bands(registry_returns):
    engine = ThresholdEngine(config(params={"min_drift": 0.05, "trade_to": "band_edge"}))
    now = {"rsi_strategy": 0.50, "macd_strategy": 0.30, "ml_strategy": 0.20}
    w = engine.calculate_target_weights(ctx(registry_returns, now)).weights
    assert sum(w.values()) == pytest.approx(1.0)
    for unit, target in GUIDE_TARGETS.items():
        assert abs(w[unit] - target) <= 0.05 + 1e-12
    # rsi moves to its upper edge, ml to its lower edge; macd absorbs nothing it need not
    assert w["rsi_strategy"] == pytest.approx(0.45) and w["ml_strategy"] == pytest.approx(0.25)
    assert w["macd_strategy"] == pytest.approx(0.30)


def test_threshold_trigger_when_drift_small_then_quiet_and_large_then_fires(registry_returns):
    engine = ThresholdEngine(config(params={"min_drift": 0.05}))
    near = {"rsi_strategy": 0.42, "macd_strategy": 0.29, "ml_strategy": 0.29}
    far = {"rsi_strategy": 0.50, "macd_strategy": 0.25, "ml_strategy": 0.25}
    assert not engine.trigger.evaluate(ctx(registry_returns, near), GUIDE_TARGETS).fired
    assert engine.trigger.evaluate(ctx(registry_returns, far), GUIDE_TARGETS).fired


def test_calendar_when_not_forced_and_no_drift_then_quiet_when_forced_then_fires(registry_returns):
    c = ctx(registry_returns, GUIDE_TARGETS, ts=datetime(2021, 12, 1), last_rebalance_at=datetime(2021, 11, 1))
    assert not CalendarEngine(config("calendar")).trigger.evaluate(c, GUIDE_TARGETS).fired
    assert CalendarEngine(config("calendar", {"force_rebalance": True})).trigger.evaluate(c, GUIDE_TARGETS).fired


def _vol_cut(c, window=63, threshold=0.25):
    r = c.returns[list(GUIDE_TARGETS)].iloc[-window:]
    base = np.array(list(GUIDE_TARGETS.values()))
    mult = np.minimum(1.0, threshold / (r.std(ddof=1).to_numpy() * np.sqrt(252)))
    tilted = base * mult / (base * mult).sum()
    gain = (r @ tilted).mean() / (r @ tilted).std() - (r @ base).mean() / (r @ base).std()
    return tilted, gain * np.sqrt(252)


def test_adaptive_when_volatile_unit_and_tilt_pays_then_cut_by_formula(registry_returns):
    # Mid-2022 the ML sleeve's 63-day volatility is far above 0.25 and cutting it helps.
    engine = AdaptiveEngine(config("adaptive", {"min_improvement": 0.0, "correlation_threshold": 0.99,
                                                "adoption_margin": 0.0, "confirmations": 1}))
    c = ctx(registry_returns, GUIDE_TARGETS, ts=datetime(2022, 6, 30))
    expected, gain = _vol_cut(c)
    result = engine.calculate_target_weights(c)
    assert gain > 0 and result.diagnostics["adopted"] == 1.0
    assert list(result.weights.values()) == pytest.approx(list(expected), abs=1e-12)
    assert result.diagnostics["improvement"] == pytest.approx(gain)


def test_adaptive_when_tilt_would_hurt_then_configured_targets(registry_returns):
    # End of 2008 the same cut lowers the window Sharpe, so it is not adopted.
    engine = AdaptiveEngine(config("adaptive", {"min_improvement": 0.0, "correlation_threshold": 0.99}))
    c = ctx(registry_returns, GUIDE_TARGETS, ts=datetime(2008, 12, 31))
    _, gain = _vol_cut(c)
    result = engine.calculate_target_weights(c)
    assert gain < 0 and result.weights == GUIDE_TARGETS


def test_adaptive_when_pair_too_correlated_then_weaker_scaled_to_zero_at_rho_one(registry_returns):
    # In 2019 the SMA sleeve is fully invested: its returns equal the index's (rho = 1), so the
    # formula (1 - rho) / (1 - threshold) removes the weaker of the two entirely.
    targets = {"buy_hold_index": 0.4, "sma_crossover": 0.3, "low_vol_strategy": 0.3}
    engine = AdaptiveEngine(config("adaptive", {"min_improvement": 0.0, "volatility_threshold": 10.0,
                                                "correlation_threshold": 0.7, "adoption_margin": 0.0,
                                                "confirmations": 1}, targets=targets))
    c = ctx(registry_returns, targets, ts=datetime(2019, 12, 31))
    result = engine.calculate_target_weights(c)
    assert any("buy_hold_index~sma_crossover rho 1.000" in n and "x0.000" in n for n in result.notes)
    tilted = {"buy_hold_index": 0.4 / 0.7, "sma_crossover": 0.0, "low_vol_strategy": 0.3 / 0.7}
    expected = tilted if result.diagnostics["improvement"] >= 0.0 else targets
    assert result.weights == pytest.approx(expected, abs=1e-9)


def test_adaptive_when_improvement_below_minimum_then_configured_targets(registry_returns):
    engine = AdaptiveEngine(config("adaptive", {"min_improvement": 100.0}))
    result = engine.calculate_target_weights(ctx(registry_returns, GUIDE_TARGETS, ts=datetime(2008, 12, 31)))
    assert result.weights == GUIDE_TARGETS and result.diagnostics["adopted"] == 0.0
    assert "not in force" in result.notes[-1]


def test_adaptive_when_history_too_short_then_configured_targets_held_with_reason(registry_returns):
    engine = AdaptiveEngine(config("adaptive", {"performance_window": 63}))
    result = engine.calculate_target_weights(ctx(registry_returns, GUIDE_TARGETS, ts=datetime(1991, 9, 1)))
    assert result.weights == GUIDE_TARGETS
    assert {e.unit for e in result.exclusions} == set(GUIDE_TARGETS)
    assert all("held at its configured target" in e.detail for e in result.exclusions)


def _adaptive_at(engine, registry_returns, ts, memory):
    c = ctx(registry_returns, GUIDE_TARGETS, ts=ts)
    c = MarketContext(timestamp=ts, state=c.state.model_copy(update={"memory": memory}), returns=registry_returns)
    return engine.calculate_target_weights(c)


def test_adaptive_when_improvement_first_seen_then_adopted_only_after_confirmations(registry_returns):
    engine = AdaptiveEngine(config("adaptive", {"min_improvement": 0.0, "correlation_threshold": 0.99,
                                                "adoption_margin": 0.0, "confirmations": 2}))
    first = _adaptive_at(engine, registry_returns, datetime(2022, 6, 30), {})
    assert first.diagnostics["improvement"] > 0 and first.diagnostics["adopted"] == 0.0
    assert first.weights == pytest.approx(GUIDE_TARGETS) and first.memory["adaptive.streak"] == 1.0
    second = _adaptive_at(engine, registry_returns, datetime(2022, 7, 1), first.memory)
    assert second.diagnostics["adopted"] == 1.0 and second.weights != pytest.approx(GUIDE_TARGETS)


def test_adaptive_when_tilt_in_force_and_improvement_inside_margin_then_kept(registry_returns):
    # In force with an improvement just under min_improvement but above min - margin: no flip.
    probe = AdaptiveEngine(config("adaptive", {"min_improvement": 0.0, "correlation_threshold": 0.99,
                                               "adoption_margin": 0.0, "confirmations": 1}))
    gain = _adaptive_at(probe, registry_returns, datetime(2022, 6, 30), {}).diagnostics["improvement"]
    engine = AdaptiveEngine(config("adaptive", {"min_improvement": gain + 0.01, "correlation_threshold": 0.99,
                                                "adoption_margin": 0.05, "confirmations": 1}))
    kept = _adaptive_at(engine, registry_returns, datetime(2022, 6, 30), {"adaptive.adopted": 1.0})
    assert kept.diagnostics["adopted"] == 1.0
    fresh = _adaptive_at(engine, registry_returns, datetime(2022, 6, 30), {})
    assert fresh.diagnostics["adopted"] == 0.0


def test_adaptive_when_tilt_moves_less_than_tolerance_then_previous_targets_kept(registry_returns):
    engine = AdaptiveEngine(config("adaptive", {"min_improvement": 0.0, "correlation_threshold": 0.99,
                                                "adoption_margin": 0.0, "confirmations": 1, "tilt_tolerance": 0.5}))
    first = _adaptive_at(engine, registry_returns, datetime(2022, 6, 30), {})
    later = _adaptive_at(engine, registry_returns, datetime(2022, 8, 31), first.memory)
    assert later.weights == pytest.approx(first.weights, abs=1e-15)


def test_risk_parity_when_equal_budgets_then_equal_contributions_on_shrunk_cov(registry_returns):
    engine = RiskParityEngine(config("risk_parity", {"lookback": 252}))
    c = ctx(registry_returns, GUIDE_TARGETS)
    result = engine.calculate_target_weights(c)
    cov, _ = ledoit_wolf(c.returns[list(GUIDE_TARGETS)].iloc[-252:].to_numpy())
    rc = risk_contributions(np.array(list(result.weights.values())), cov)
    assert rc == pytest.approx([1 / 3] * 3, abs=1e-10)


def test_risk_parity_when_budgets_given_then_contributions_follow_budgets(registry_returns):
    budgets = {"rsi_strategy": 0.5, "macd_strategy": 0.3, "ml_strategy": 0.2}
    engine = RiskParityEngine(config("risk_parity", {"target_risk_contribution": budgets}))
    c = ctx(registry_returns, GUIDE_TARGETS)
    w = engine.calculate_target_weights(c).weights
    cov, _ = ledoit_wolf(c.returns[list(GUIDE_TARGETS)].iloc[-252:].to_numpy())
    assert risk_contributions(np.array(list(w.values())), cov) == pytest.approx([0.5, 0.3, 0.2], abs=1e-10)


def test_risk_parity_when_leverage_used_then_gross_equals_limit(registry_returns):
    engine = RiskParityEngine(config("risk_parity", {"use_leverage": True}, max_portfolio_leverage=1.5))
    w = engine.calculate_target_weights(ctx(registry_returns, GUIDE_TARGETS)).weights
    assert sum(w.values()) == pytest.approx(1.5)


def test_engine_when_plain_assets_and_strategies_mixed_then_works(registry_returns):
    from src.utils.market_data import asset_prices, simple_returns
    mixed = registry_returns[["momentum_strategy"]].join(simple_returns(asset_prices(["KO", "XOM"])), how="inner")
    targets = {"momentum_strategy": 0.4, "KO": 0.3, "XOM": 0.3}
    engine = RiskParityEngine(config("risk_parity", targets=targets))
    w = engine.calculate_target_weights(ctx(mixed, targets)).weights
    assert set(w) == set(targets) and sum(w.values()) == pytest.approx(1.0)


def test_custom_engine_when_subclassed_then_usable_with_default_trigger(registry_returns):
    class EqualWeight(RebalancingEngine):
        name = "equal_weight"

        def calculate_target_weights(self, ctx):
            n = len(self.config.units)
            return EngineResult(engine=self.name, weights={u: 1 / n for u in self.config.units})

    engine = EqualWeight(config())
    w = engine.calculate_target_weights(ctx(registry_returns, GUIDE_TARGETS)).weights
    assert w == {u: pytest.approx(1 / 3) for u in GUIDE_TARGETS}
    # holding the guide's 0.4 against a 1/3 target is 0.067 of drift: the default 5% band fires
    assert engine.trigger.evaluate(ctx(registry_returns, GUIDE_TARGETS), w).fired is True
    assert engine.trigger.evaluate(ctx(registry_returns, w), w).fired is False


@pytest.mark.parametrize("method, params", [("risk_parity", {"lookback": 252}), ("adaptive", {"performance_window": 63})])
def test_engine_when_one_unit_lacks_history_then_excluded_with_reason(registry_returns, method, params):
    late = registry_returns.copy()
    late.loc[late.index > "2021-11-15", "ml_strategy"] = np.nan  # a gap in the last window
    result = create_engine(config(method, params)).calculate_target_weights(ctx(late, GUIDE_TARGETS))
    assert result.weights["ml_strategy"] == GUIDE_TARGETS["ml_strategy"]  # held at its configured target
    assert sum(result.weights.values()) == pytest.approx(1.0)
    (excluded,) = result.exclusions
    assert excluded.unit == "ml_strategy" and excluded.reason_code.value == "INSUFFICIENT_HISTORY"


def test_threshold_band_edge_when_drift_just_past_band_then_fires_against_configured_targets(registry_returns):
    # 0.46/0.30/0.24 against 0.40/0.30/0.30: 0.06 > 0.05. Measured from the band-edge targets
    # (0.45/0.30/0.25) the drift would be 0.01 and nothing would fire until twice the band.
    engine = create_engine(config("threshold", {"min_drift": 0.05, "trade_to": "band_edge"}))
    weights = {"rsi_strategy": 0.46, "macd_strategy": 0.30, "ml_strategy": 0.24}
    c = ctx(registry_returns, weights)
    targets = engine.calculate_target_weights(c).weights
    decision = engine.trigger.evaluate(c, targets)
    assert decision.fired and "rsi_strategy +0.0600" in decision.reason
    quiet = engine.trigger.evaluate(ctx(registry_returns, {"rsi_strategy": 0.44, "macd_strategy": 0.30,
                                                           "ml_strategy": 0.26}), targets)
    assert not quiet.fired


def test_adaptive_when_new_tilt_not_better_than_tilt_in_force_then_targets_kept(registry_returns):
    # The tilt in force is the one of 2022-06-30; a month later the tilt has moved. It replaces the
    # one in force only if its window Sharpe is better by min_improvement + adoption_margin.
    first = _adaptive_at(AdaptiveEngine(config("adaptive", {"min_improvement": 0.0, "correlation_threshold": 0.99,
                                                            "adoption_margin": 0.0, "confirmations": 1,
                                                            "tilt_tolerance": 0.0})),
                         registry_returns, datetime(2022, 6, 30), {})
    assert first.diagnostics["adopted"] == 1.0
    sticky = AdaptiveEngine(config("adaptive", {"min_improvement": 0.0, "correlation_threshold": 0.99,
                                                "adoption_margin": 100.0, "confirmations": 1, "tilt_tolerance": 0.0}))
    kept = _adaptive_at(sticky, registry_returns, datetime(2022, 8, 31), first.memory)
    assert kept.weights == pytest.approx(first.weights, abs=1e-15)
    fresh = _adaptive_at(sticky, registry_returns, datetime(2022, 8, 31), {"adaptive.adopted": 1.0})
    assert fresh.weights != pytest.approx(first.weights, abs=1e-6)  # the tilt did move in the meantime


def test_adaptive_when_pair_sharpes_close_then_same_unit_stays_deweighted(registry_returns):
    targets = {"buy_hold_index": 0.4, "sma_crossover": 0.3, "low_vol_strategy": 0.3}
    engine = AdaptiveEngine(config("adaptive", {"min_improvement": 0.0, "volatility_threshold": 10.0,
                                                "correlation_threshold": 0.7, "adoption_margin": 100.0,
                                                "confirmations": 1}, targets=targets))
    c = ctx(registry_returns, targets, ts=datetime(2019, 12, 31))
    fresh = engine.calculate_target_weights(c)
    key = "adaptive.weaker.buy_hold_index~sma_crossover"
    flipped = {key: 1.0 - fresh.memory[key]}  # remember the other unit as the weaker one
    c2 = MarketContext(timestamp=c.timestamp, state=c.state.model_copy(update={"memory": flipped}),
                       returns=registry_returns)
    sticky = engine.calculate_target_weights(c2)
    assert sticky.memory[key] == flipped[key]  # within the margin, the earlier choice stands


@pytest.mark.parametrize("group, units, days", [("crypto", ["BTC", "ETH", "SOL"], 365), ("stocks", ["KO", "XOM", "PG"], 252)])
def test_risk_parity_when_calendar_given_then_expected_volatility_annualised_with_its_days(group, units, days):
    from src.utils.market_data import asset_prices, simple_returns
    returns = simple_returns(asset_prices(units)).loc[:"2023-06-30"]
    targets = {u: 1 / 3 for u in units}
    engine = RiskParityEngine(config("risk_parity", targets=targets))
    result = engine.calculate_target_weights(ctx(returns, targets, ts=datetime(2023, 6, 30)))
    cov, _ = ledoit_wolf(returns[units].iloc[-252:].to_numpy())
    w = np.array([result.weights[u] for u in units])
    assert result.diagnostics["expected_volatility"] == pytest.approx(np.sqrt(w @ cov @ w * days), rel=1e-12)
