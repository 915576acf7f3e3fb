"""The crypto sample portfolio (src/data/portfolios/crypto_sample.json) through main.py.

Crypto trades every UTC calendar day: the replay checks on Saturdays and Sundays too, trades on
them, stays invested, and annualises its turnover with 365 days a year.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

import main as main_module
from src.agents.strategy_registry_agent import StrategyRegistryAgent
from src.utils.config_files import PortfolioFile, load_portfolio_file, save_portfolio_file
from src.utils.universe import resolve_units

ROOT = Path(__file__).resolve().parents[2]
CRYPTO_SAMPLE = ROOT / "src/data/portfolios/crypto_sample.json"


def _short(tmp_path: Path, start: date, end: date) -> Path:
    loaded = load_portfolio_file(CRYPTO_SAMPLE)
    runtime = loaded.runtime.model_copy(update={"replay_start": start, "replay_end": end})
    return save_portfolio_file(tmp_path / "crypto.json", PortfolioFile(portfolio=loaded.portfolio, runtime=runtime))


def test_crypto_sample_when_loaded_then_coins_and_crypto_sleeves_with_binance_fees_and_wide_bands():
    loaded = load_portfolio_file(CRYPTO_SAMPLE)
    config, runtime = loaded.portfolio, loaded.runtime
    assert config.target_allocations == {"BTC": 0.4, "ETH": 0.3, "btc_trend": 0.15, "crypto_equal_weight": 0.15}
    kinds = {u: k.value for u, k in resolve_units(config, StrategyRegistryAgent()).items()}
    assert kinds == {"BTC": "asset", "ETH": "asset", "btc_trend": "strategy", "crypto_equal_weight": "strategy"}
    assert config.fee_model.bps == 10.0 and runtime.mode == "paper"
    params = config.rebalancing_params
    assert config.rebalancing_method.value == "threshold" and params.check_frequency.value == "daily"
    assert (params.min_drift, params.relative_drift) == (0.1, 0.25)  # bands of a quarter of each target
    assert config.risk_lookback_days == 365  # a year of crypto days
    assert (runtime.replay_start, runtime.replay_end) == (date(2021, 1, 1), date(2025, 9, 18))


def test_replay_when_crypto_sample_through_main_then_weekends_are_check_days_and_it_ends_invested(tmp_path, capsys):
    # Saturday 2021-01-02 .. Sunday 2021-02-28: 58 calendar days, every one of them a check
    data = tmp_path / "d"
    argv = ["--replay", "--config", str(_short(tmp_path, date(2021, 1, 2), date(2021, 2, 28))),
            "--data-dir", str(data), "--quiet"]
    assert main_module.main(argv) == 0
    out = capsys.readouterr().out
    history = [json.loads(line) for line in (data / "state_crypto_sample_portfolio.history.jsonl").read_text().splitlines()]
    days = pd.DatetimeIndex([p["timestamp"] for p in history])
    assert days.equals(pd.date_range("2021-01-02", "2021-02-28", freq="D"))
    assert (days.day_of_week == 5).sum() == 9 and (days.day_of_week == 6).sum() == 9  # 9 Saturdays, 9 Sundays
    events = [json.loads(p.read_text()) for p in sorted(data.glob("rebalance_*.json"))]
    first = events[0]
    assert first["timestamp"].startswith("2021-01-02") and pd.Timestamp(first["timestamp"]).day_name() == "Saturday"
    assert {o["unit"] for o in first["orders"] if o["status"] == "filled"} == {"BTC", "ETH", "btc_trend",
                                                                              "crypto_equal_weight"}
    average_cash = sum(p["cash"] / p["value"] for p in history) / len(history)
    assert average_cash < 0.001  # invested from the first day, and stays so
    # turnover as the backtests define it, with 365 days a year (crypto), not 252
    traded = sum(o["filled_quantity"] * o["average_fill_price"] for e in events[1:] for o in e["orders"]
                 if o["status"] == "filled")
    assert traded > 0
    turnover = traded / 2 / (sum(p["value"] for p in history) / len(history)) / (len(history) / 365)
    shown = float(re.search(r"turnover ([\d.]+)% a year", out).group(1)) / 100
    assert shown == pytest.approx(turnover, abs=5e-4)
    assert "average cash 0.00%" in out
