"""The strategy registry: real strategies, reproducible from prices, safe updates."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from src.agents.strategy_registry_agent import StrategyRegistryAgent
from src.errors import DataError, UnknownUnitError
from src.scripts.build_strategy_registry import STRATEGIES, build
from src.utils.performance import compute_metrics
from tests.conftest import GUIDE_TARGETS


def test_get_strategy_when_guide_ids_then_performance_data_has_returns_and_metrics(registry):
    for sid in GUIDE_TARGETS:
        perf = registry.get_strategy(sid)["performance_data"]
        assert len(perf["daily_returns"]) == len(perf["dates"]) > 7000
        for key in ("annualized_return", "annualized_volatility", "sharpe_ratio", "sortino_ratio",
                    "max_drawdown", "win_rate"):
            assert np.isfinite(perf[key])
        assert 0 < perf["max_drawdown"] < 1 and 0 < perf["win_rate"] < 1


def test_list_strategies_when_shipped_then_every_built_strategy_listed(registry):
    ids = [s.strategy_id for s in registry.list_strategies()]
    assert set(STRATEGIES) <= set(ids)
    assert ids == sorted(ids)


def test_metrics_when_recomputed_from_stored_returns_then_equal(registry):
    for summary in registry.list_strategies():
        perf = registry.get_strategy(summary.strategy_id).performance_data
        again = compute_metrics(registry.returns_series(summary.strategy_id))  # on its calendar: 252 or 365 days
        assert again.sharpe_ratio == pytest.approx(perf.sharpe_ratio, rel=1e-12)
        assert again.max_drawdown == pytest.approx(perf.max_drawdown, rel=1e-12)


def test_build_when_rerun_from_prices_then_identical_to_shipped(tmp_path, registry):
    rebuilt = build(tmp_path / "registry.json")
    for sid in STRATEGIES:
        assert rebuilt.get_strategy(sid) == registry.get_strategy(sid), sid


def test_get_strategy_when_unknown_then_error_names_id(registry):
    with pytest.raises(UnknownUnitError, match="strategy_id='nope' is not registered"):
        registry.get_strategy("nope")


def _returns(dates: list[str], values: list[float]) -> pd.Series:
    return pd.Series(values, index=pd.DatetimeIndex(dates))


def test_register_when_new_then_saved_and_reloaded(tmp_path):
    path = tmp_path / "reg.json"
    agent = StrategyRegistryAgent(path)
    agent.register_strategy(strategy_id="s1", name="S1", description="d", universe=["AAPL"], source="test",
                            returns=_returns(["2020-01-02", "2020-01-03", "2020-01-06"], [0.01, -0.02, 0.005]))
    again = StrategyRegistryAgent(path)
    assert again.get_strategy("s1")["performance_data"]["daily_returns"] == [0.01, -0.02, 0.005]
    assert [p.name for p in tmp_path.iterdir()] == ["reg.json"]  # no temporary file left


def test_register_when_duplicate_then_error_and_unchanged(tmp_path):
    agent = StrategyRegistryAgent(tmp_path / "reg.json")
    r = _returns(["2020-01-02", "2020-01-03"], [0.01, 0.02])
    agent.register_strategy(strategy_id="s1", name="S1", description="d", universe=[], source="t", returns=r)
    before = (tmp_path / "reg.json").read_text()
    with pytest.raises(ValueError, match="strategy_id='s1' is already registered"):
        agent.register_strategy(strategy_id="s1", name="X", description="d", universe=[], source="t", returns=r)
    assert (tmp_path / "reg.json").read_text() == before


def test_register_when_returns_not_finite_then_error_and_nothing_written(tmp_path):
    agent = StrategyRegistryAgent(tmp_path / "reg.json")
    with pytest.raises(DataError, match="is not a finite number"):
        agent.register_strategy(strategy_id="s1", name="S1", description="d", universe=[], source="t",
                                returns=_returns(["2020-01-02", "2020-01-03"], [0.01, float("nan")]))
    assert not (tmp_path / "reg.json").exists()


def test_update_performance_when_new_dates_then_appended_and_metrics_recomputed(tmp_path):
    agent = StrategyRegistryAgent(tmp_path / "reg.json")
    agent.register_strategy(strategy_id="s1", name="S1", description="d", universe=[], source="t",
                            returns=_returns(["2020-01-02", "2020-01-03"], [0.01, 0.02]))
    rec = agent.update_performance("s1", _returns(["2020-01-03", "2020-01-06"], [0.02, -0.05]))
    perf = rec.performance_data
    assert perf.daily_returns == [0.01, 0.02, -0.05]
    assert perf.max_drawdown == pytest.approx(0.05)
    assert StrategyRegistryAgent(tmp_path / "reg.json").get_strategy("s1") == rec


def test_update_performance_when_history_differs_then_error_and_unchanged(tmp_path):
    agent = StrategyRegistryAgent(tmp_path / "reg.json")
    agent.register_strategy(strategy_id="s1", name="S1", description="d", universe=[], source="t",
                            returns=_returns(["2020-01-02", "2020-01-03"], [0.01, 0.02]))
    before = (tmp_path / "reg.json").read_text()
    with pytest.raises(DataError, match=r"returns\[2020-01-03\]=0.03 differs"):
        agent.update_performance("s1", _returns(["2020-01-03"], [0.03]))
    assert (tmp_path / "reg.json").read_text() == before


def test_load_when_file_corrupt_then_error_not_empty_registry(tmp_path):
    path = tmp_path / "reg.json"
    path.write_text('{"version": 1, "strategies": {"x": {"strategy_id": 3}}}')
    with pytest.raises(DataError, match="is not a valid registry"):
        StrategyRegistryAgent(path)


def test_returns_frame_when_end_given_then_no_later_rows(registry):
    frame = registry.returns_frame(["rsi_strategy", "ml_strategy"], end=pd.Timestamp("2010-06-30").date())
    assert frame.index.max() <= pd.Timestamp("2010-06-30")
    assert frame.notna().all().all()


def test_shipped_registry_when_read_as_json_then_plain_fractions(registry):
    raw = json.loads(registry.path.read_text())
    perf = raw["strategies"]["ml_strategy"]["performance_data"]
    assert abs(perf["annualized_return"]) < 1 and abs(max(perf["daily_returns"], key=abs)) < 1
