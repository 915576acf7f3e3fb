"""Following a model: a portfolio file on the model's proxy targets that the replay runs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from src.errors import ConfigError
from src.models.portfolio_models import RebalancingMethod
from src.portfolios import MODEL_RISK_LIMITS, builtin_models, follow_model, model_catalogue
from src.runtime.replay import run_replay
from src.utils.config_files import load_portfolio_file

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "src/data/portfolios/all_weather.json"


@pytest.mark.parametrize("name, start", [
    ("all_weather", date(1993, 2, 1)), ("sixty_forty", date(1993, 2, 1)),
    ("permanent", date(1993, 2, 1)), ("risk_parity", date(1993, 2, 1)),
])
def test_follow_model_when_builtin_then_targets_are_proxy_weights_from_the_first_common_day(name, start):
    built = follow_model(name)
    model = builtin_models()[name]
    assert built.portfolio.target_allocations == model.proxy_targets()
    assert built.portfolio.name == model.title and built.runtime.replay_start == start  # SPY's first day
    assert built.portfolio.risk_limits.max_single_strategy == 1.0 == MODEL_RISK_LIMITS["max_single_strategy"]


def test_follow_model_when_static_then_threshold_5_25_band_by_default():
    config = follow_model("sixty_forty").portfolio
    assert config.rebalancing_method is RebalancingMethod.THRESHOLD
    assert (config.rebalancing_params.min_drift, config.rebalancing_params.relative_drift) == (0.05, 0.25)


def test_follow_model_when_equal_risk_then_risk_parity_engine_with_equal_budgets():
    config = follow_model("risk_parity").portfolio
    assert config.rebalancing_method is RebalancingMethod.RISK_PARITY
    assert config.rebalancing_params.target_risk_contribution is None and config.rebalancing_params.lookback == 252


def test_follow_model_when_method_and_params_given_then_used():
    built = follow_model("permanent", portfolio_name="My Permanent", method="calendar",
                         params={"frequency": "annually"}, risk_limits={"max_portfolio_drawdown": 0.4})
    config = built.portfolio
    assert config.name == "My Permanent" and config.rebalancing_params.frequency.value == "annually"
    assert config.risk_limits.max_portfolio_drawdown == 0.4 and config.risk_limits.max_single_strategy == 1.0


@pytest.mark.parametrize("name, kwargs, fragment", [
    ("all_seasons", {}, "model='all_seasons' is not one of"),
    ("all_weather", {"method": "hodl"}, "method='hodl' is not one of"),
    ("risk_parity", {"method": "threshold"}, "which only the 'risk_parity' method computes"),
    ("all_weather", {"method": "risk_parity"}, "would replace the static weights of model 'all_weather'"),
    ("all_weather", {"risk_limits": {"max_single_strategy": 0.4}}, "max_single_strategy"),
    ("sixty_forty", {"params": {"min_drift": -1}}, "min_drift"),
])
def test_follow_model_when_bad_request_then_one_line_config_error(name, kwargs, fragment):
    with pytest.raises(ConfigError) as caught:
        follow_model(name, **kwargs)
    assert fragment in str(caught.value) and "\n" not in str(caught.value)


def test_follow_model_when_user_model_then_followed_from_its_catalogue(tmp_path):
    path = tmp_path / "m.json"
    path.write_text('{"models": [{"name": "bills_and_stocks", "title": "Bills and stocks", "description": "d", '
                    '"source": "s", "holdings": {"VTI": 0.5, "BIL": 0.5}, "proxies": {"VTI": "SPY", "BIL": "UST3M"}}]}')
    built = follow_model("bills_and_stocks", catalogue=model_catalogue([path], models_dir=None))
    assert built.portfolio.target_allocations == {"SPY": 0.5, "UST3M": 0.5}
    assert built.runtime.replay_start == date(1993, 2, 1)


def test_shipped_all_weather_file_when_loaded_then_what_follow_model_makes():
    loaded = load_portfolio_file(SHIPPED)
    assert loaded == follow_model("all_weather")


@pytest.mark.parametrize("name", ["all_weather", "risk_parity"])
def test_follow_model_config_when_short_replay_then_ends_invested_near_the_targets(tmp_path, name):
    built = follow_model(name)
    runtime = built.runtime.model_copy(update={"replay_start": date(2016, 1, 4), "replay_end": date(2016, 6, 30)})
    agent, summary = run_replay(built.portfolio, runtime, data_dir=tmp_path / "d")
    assert summary.start == date(2016, 1, 4) and summary.end == date(2016, 6, 30)
    assert summary.rebalances >= 1 and summary.blocked == 0 and summary.engine_failures == 0
    positions = {p.unit: p for p in agent.positions()}
    assert set(positions) == set(built.portfolio.target_allocations)
    assert sum(p.weight for p in positions.values()) > 0.98  # invested: under 2% cash
    if name == "all_weather":  # static targets, kept inside the 5/25 band
        for p in positions.values():
            assert abs(p.drift) <= min(0.05, 0.25 * p.target_weight) + 1e-9, p
