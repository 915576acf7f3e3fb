"""PortfolioConfig and friends: the guide's code runs; bad input fails naming field and value."""

from __future__ import annotations

import math
from datetime import datetime

import pytest
from pydantic import ValidationError

from src.models.portfolio_models import (
    DEFAULT_RISK_LIMITS,
    CalendarParams,
    PortfolioState,
    RebalancingMethod,
    RiskLimits,
    ThresholdParams,
)
from src.errors import one_line_error
from tests.conftest import guide_config




def test_construct_when_guide_code_then_params_typed_and_limits_default():
    config = guide_config()
    assert isinstance(config.rebalancing_params, ThresholdParams)
    assert config.rebalancing_params.min_drift == 0.05
    assert config.risk_limits == RiskLimits()


def test_default_risk_limits_when_read_then_exact_keys_and_values():
    assert dict(DEFAULT_RISK_LIMITS) == {
        "max_single_strategy": 0.4, "min_single_strategy": 0.05, "max_correlation_pair": 0.7,
        "max_avg_correlation": 0.5, "min_strategy_sharpe": 0.0, "max_strategy_drawdown": 0.3,
        "max_portfolio_leverage": 1.0, "min_portfolio_sharpe": 0.5, "max_portfolio_drawdown": 0.25,
    }


def test_default_risk_limits_when_mutated_then_refused():
    with pytest.raises(TypeError):
        DEFAULT_RISK_LIMITS["max_single_strategy"] = 0.9  # type: ignore[index]


def test_risk_limits_when_dict_with_override_then_accepted():
    config = guide_config(risk_limits={**DEFAULT_RISK_LIMITS, "max_single_strategy": 0.5})
    assert config.risk_limits.max_single_strategy == 0.5


@pytest.mark.parametrize("method, params_type", [
    ("calendar", CalendarParams), (RebalancingMethod.CALENDAR, CalendarParams),
])
def test_params_when_omitted_then_method_defaults(method, params_type):
    config = guide_config(rebalancing_method=method, rebalancing_params=None)
    assert isinstance(config.rebalancing_params, params_type)


@pytest.mark.parametrize("allocations, fragment", [
    ({"rsi_strategy": 0.4, "macd_strategy": 0.3, "ml_strategy": 0.2}, "sums to 0.9"),
    ({"rsi_strategy": 0.4, "macd_strategy": 0.7, "ml_strategy": -0.1}, "['ml_strategy']=-0.1 is negative"),
    ({"rsi_strategy": math.nan, "macd_strategy": 0.5, "ml_strategy": 0.5}, "target_allocations.rsi_strategy: Input should be a finite number (got nan)"),
    ({"rsi_strategy": math.inf, "macd_strategy": 0.5, "ml_strategy": 0.5}, "target_allocations.rsi_strategy: Input should be a finite number (got inf)"),
    ({}, "target_allocations={} is empty"),
    ({"rsi_strategy": 0.5, "macd_strategy": 0.25, "ml_strategy": 0.25}, "['rsi_strategy']=0.5 exceeds risk_limits.max_single_strategy=0.4"),
    ({"a": 0.35, "b": 0.35, "c": 0.27, "d": 0.03}, "['d']=0.03 is below risk_limits.min_single_strategy=0.05"),
    ({"rsi_strategy": 1.0}, "max_single_strategy=0.4 is infeasible with 1 unit(s)"),
])
def test_construct_when_allocations_bad_then_error_names_field_and_value(allocations, fragment):
    with pytest.raises(ValidationError) as info:
        guide_config(target_allocations=allocations)
    line = one_line_error(info.value)
    assert fragment in line and "\n" not in line


def test_construct_when_min_bound_infeasible_then_error_names_limit():
    targets = {f"u{i}": 0.1 for i in range(10)}
    with pytest.raises(ValidationError, match="min_single_strategy=0.11 is infeasible with 10 unit"):
        guide_config(target_allocations=targets, risk_limits={**DEFAULT_RISK_LIMITS, "min_single_strategy": 0.11,
                                                                "max_single_strategy": 0.5})


@pytest.mark.parametrize("overrides, fragment", [
    ({"rebalancing_method": "momentum"}, "rebalancing_method"),
    ({"rebalancing_params": {"min_drift": "wide"}}, "rebalancing_params.min_drift"),
    ({"rebalancing_params": {"frequency": "monthly"}}, "rebalancing_params.frequency"),
    ({"rebalancing_params": {"min_drift": -0.1}}, "rebalancing_params.min_drift"),
    ({"rebalancing_params": CalendarParams()}, "needs ThresholdParams"),
    ({"rebalancing_params": [0.05]}, "must be a dict"),
    ({"name": "  "}, "name='  ' must not be blank"),
    ({"risk_limits": {**DEFAULT_RISK_LIMITS, "max_leverage": 2}}, "risk_limits.max_leverage"),
    ({"risk_limits": {**DEFAULT_RISK_LIMITS, "max_portfolio_leverage": 0.8}}, "max_portfolio_leverage=0.8"),
    ({"risk_limits": {**DEFAULT_RISK_LIMITS, "min_single_strategy": 0.5}}, "exceeds max_single_strategy"),
    ({"surprise": 1}, "surprise"),
])
def test_construct_when_field_bad_then_error_names_it(overrides, fragment):
    with pytest.raises(ValidationError) as info:
        guide_config(**overrides)
    assert fragment in str(info.value)


def test_calendar_params_when_weekday_out_of_range_then_error():
    with pytest.raises(ValidationError, match="rebalance_day=9 must be an ISO weekday"):
        CalendarParams(frequency="weekly", rebalance_day=9)


@pytest.mark.parametrize("budgets, fragment", [
    ({"rsi_strategy": 0.5, "macd_strategy": 0.5}, "missing: ['ml_strategy']"),
    ({"rsi_strategy": 0.5, "macd_strategy": 0.3, "ml_strategy": 0.3}, "sums to 1.1"),
    ({"rsi_strategy": 0.5, "macd_strategy": 0.5, "ml_strategy": 0.0}, "must be > 0"),
])
def test_risk_parity_budgets_when_bad_then_error(budgets, fragment):
    with pytest.raises(ValidationError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        guide_config(rebalancing_method="risk_parity", rebalancing_params={"target_risk_contribution": budgets})


@pytest.mark.parametrize("kwargs, fragment", [
    ({"prices": {"A": 0.0}, "holdings": {"A": 1.0}}, "prices['A']=0.0 must be > 0"),
    ({"prices": {"A": -3.0}}, "prices['A']=-3.0 must be > 0"),
    ({"prices": {"A": math.nan}}, "prices.A"),
    ({"prices": {}, "holdings": {"A": 2.0}}, "prices['A'] is missing"),
    ({"prices": {"A": 1.0}, "holdings": {"A": -1.0}}, "holdings['A']=-1.0 must be >= 0"),
    ({"prices": {"A": 1.0}, "cash": -5.0}, "cash"),
])
def test_state_when_bad_then_error_names_field(kwargs, fragment):
    base = dict(timestamp=datetime(2020, 1, 2), cash=0.0)
    base.update(kwargs)
    with pytest.raises(ValidationError) as info:
        PortfolioState(**base)
    assert fragment in str(info.value)


def test_model_when_subscripted_then_behaves_like_mapping():
    config = guide_config()
    assert config["name"] == "My Balanced Portfolio"
    assert dict(config.risk_limits)["max_single_strategy"] == 0.4
    with pytest.raises(KeyError, match="no field 'nope'"):
        config["nope"]


METHOD_ERROR = ("portfolio.rebalancing_method: Input should be 'threshold', 'calendar', 'adaptive', 'risk_parity', "
                "'cost_aware', 'tactical' or 'hybrid' (got 'threshhold')")


@pytest.mark.parametrize("params", [None, {"min_drift": 0.05}, {"frequency": "monthly"}])
@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_load_when_method_misspelt_then_only_the_methods_error(tmp_path, suffix, params):
    import json

    from src.errors import ConfigError
    from src.utils.config_files import load_portfolio_file

    portfolio = {"name": "x", "target_allocations": {"KO": 0.5, "PG": 0.5},
                 "risk_limits": {"max_single_strategy": 0.5}, "rebalancing_method": "threshhold",
                 **({"rebalancing_params": params} if params is not None else {})}
    path = tmp_path / f"p{suffix}"
    text = json.dumps({"portfolio": portfolio}, indent=1)  # JSON is YAML too
    path.write_text(text)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if '"rebalancing_method"' in row)
    with pytest.raises(ConfigError) as caught:
        load_portfolio_file(path)
    message = str(caught.value)
    assert message.endswith(METHOD_ERROR) and ";" not in message and "rebalancing_params" not in message
    assert message.startswith(f"config file {path} line {line}: " if suffix == ".yaml" else
                              f"config file {path}: PortfolioFile: ")


def test_construct_when_method_bad_and_params_typed_then_only_the_methods_error():
    with pytest.raises(ValidationError) as caught:
        guide_config(rebalancing_method="threshhold", rebalancing_params=CalendarParams())
    assert [e["loc"] for e in caught.value.errors()] == [("rebalancing_method",)]
