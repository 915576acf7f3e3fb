"""Engine factory: every method, custom engines by instance, class or registered name, errors."""

from __future__ import annotations

from datetime import datetime

import pytest

from src.engines import (
    ENGINES,
    AnyOf,
    CostAwareEngine,
    HybridEngine,
    MarketContext,
    RebalancingEngine,
    TacticalEngine,
    ThresholdEngine,
    create_engine,
    register_engine,
    registered_engines,
    resolve_engine,
    unregister_engine,
)
from src.errors import ConfigError
from src.models.decision_models import EngineResult, PlanStatus
from src.models.portfolio_models import RebalancingMethod
from src.pipeline import plan_rebalance
from tests.conftest import GUIDE_TARGETS, guide_config, state_at_weights

TS = datetime(2021, 12, 31)


class CustomRebalancer(RebalancingEngine):
    """The users' guide's custom engine: subclass and implement calculate_target_weights."""

    def calculate_target_weights(self, ctx):
        # Your custom logic here: equal weights over the configured units.
        n = len(self.config.units)
        return EngineResult(engine="custom_rebalancer", weights={u: 1 / n for u in self.config.units})


class Other(CustomRebalancer):
    pass


@pytest.fixture(autouse=True)
def clean_registry():
    yield
    for name in registered_engines():
        unregister_engine(name)


def ctx(registry_returns, weights) -> MarketContext:
    prices = {u: 1.0 for u in registry_returns.columns}
    return MarketContext(timestamp=TS, state=state_at_weights(weights, prices, timestamp=TS), returns=registry_returns)


@pytest.mark.parametrize("method", list(RebalancingMethod))
def test_create_engine_when_each_method_then_its_engine(method):
    engine = create_engine(guide_config(rebalancing_method=method, rebalancing_params=None))
    assert type(engine) is ENGINES[method]
    assert create_engine(guide_config(rebalancing_method=method, rebalancing_params=None), method.value).name == \
        engine.name


def test_new_methods_when_built_then_expected_classes():
    assert isinstance(create_engine(guide_config(rebalancing_method="cost_aware", rebalancing_params={})),
                      CostAwareEngine)
    assert isinstance(create_engine(guide_config(rebalancing_method="tactical", rebalancing_params={})), TacticalEngine)
    assert isinstance(create_engine(guide_config(rebalancing_method="hybrid", rebalancing_params={})), HybridEngine)


def test_resolve_engine_when_guide_custom_instance_then_same_instance_runs_in_pipeline(registry_returns):
    config = guide_config()
    mine = CustomRebalancer(config)
    engine = resolve_engine(config, mine)
    assert engine is mine
    result = engine.calculate_target_weights(ctx(registry_returns, GUIDE_TARGETS))
    assert result.weights == {u: pytest.approx(1 / 3) for u in GUIDE_TARGETS}
    state = state_at_weights(GUIDE_TARGETS, {u: 1.0 for u in registry_returns.columns}, timestamp=TS)
    plan = plan_rebalance(config, engine, state, registry_returns)
    assert plan.status != PlanStatus.ENGINE_FAILED and plan.trigger.fired  # 0.4 vs 1/3: the 5% band fires
    assert plan.engine_result.engine == "custom_rebalancer"


def test_resolve_engine_when_registered_name_then_built_from_config():
    register_engine("custom_rebalancer", CustomRebalancer)
    config = guide_config()
    engine = resolve_engine(config, "custom_rebalancer")
    assert type(engine) is CustomRebalancer and engine.config is config
    assert type(create_engine(config, "custom_rebalancer")) is CustomRebalancer
    assert registered_engines() == ["custom_rebalancer"]


def test_resolve_engine_when_none_or_class_then_method_engine_or_instance():
    config = guide_config()
    assert type(resolve_engine(config)) is ThresholdEngine
    assert type(resolve_engine(config, None)) is ThresholdEngine
    assert type(resolve_engine(config, CustomRebalancer)) is CustomRebalancer


def test_unknown_name_when_resolved_then_config_error_names_it_and_registered_ones():
    register_engine("custom_rebalancer", CustomRebalancer)
    with pytest.raises(ConfigError, match=r"engine_name='nope' is not a registered engine \(registered: "
                                          r"\['custom_rebalancer'\]; built-in: \['threshold'"):
        resolve_engine(guide_config(), "nope")


def test_builtin_name_of_another_method_when_created_then_config_error():
    with pytest.raises(ConfigError, match="engine_name='hybrid' needs rebalancing_method='hybrid'"):
        create_engine(guide_config(), "hybrid")


@pytest.mark.parametrize("name, cls, fragment", [
    ("threshold", CustomRebalancer, "is a built-in method"),
    ("  ", CustomRebalancer, "must be a non-blank string"),
    ("x", dict, "is not a subclass of RebalancingEngine"),
    ("x", RebalancingEngine, "does not implement \\['calculate_target_weights'\\]"),
])
def test_register_engine_when_bad_then_config_error(name, cls, fragment):
    with pytest.raises(ConfigError, match=fragment):
        register_engine(name, cls)


def test_register_engine_when_name_taken_then_error_unless_same_class():
    register_engine("mine", CustomRebalancer)
    register_engine("mine", CustomRebalancer)  # idempotent
    with pytest.raises(ConfigError, match="engine name='mine' is already registered to CustomRebalancer"):
        register_engine("mine", Other)


def test_resolve_engine_when_not_an_engine_then_config_error():
    with pytest.raises(ConfigError, match="engine=42 must be a RebalancingEngine"):
        resolve_engine(guide_config(), 42)


def test_custom_engine_when_event_triggers_configured_then_attached_once():
    register_engine("custom_rebalancer", CustomRebalancer)
    config = guide_config(event_triggers={"concentration_limit": 0.45})
    by_name = resolve_engine(config, "custom_rebalancer")
    assert isinstance(by_name.trigger, AnyOf) and len(by_name.trigger.triggers) == 2
    mine = CustomRebalancer(config)
    own = mine.trigger
    assert resolve_engine(config, resolve_engine(config, mine)) is mine
    assert mine.method_trigger is own and len(mine.trigger.triggers) == 2  # not wrapped twice
