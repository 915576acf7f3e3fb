"""What an event stores: the configuration with secrets redacted."""

from __future__ import annotations

from src.events.record import redacted


def test_redacted_when_secret_looking_keys_then_values_hidden_and_env_names_kept():
    config = {"name": "p", "exchange": {"api_key": "SECRET123", "apiKey": "K", "secret": "S", "password": "P",
                                        "api_key_env": "BINANCE_KEY", "uid": "u"},
              "list": [{"token": "T", "weight": 0.5}], "private_key": None, "Passphrase": "x"}
    out = redacted(config)
    assert out == {"name": "p", "exchange": {"api_key": "***", "apiKey": "***", "secret": "***", "password": "***",
                                             "api_key_env": "BINANCE_KEY", "uid": "u"},
                   "list": [{"token": "***", "weight": 0.5}], "private_key": None, "Passphrase": "***"}
    assert "SECRET123" not in repr(out)
    assert config["exchange"]["api_key"] == "SECRET123"  # the input is not changed


def test_event_when_written_then_config_equals_redacted_config(tmp_path):
    from datetime import datetime

    from src.agents.portfolio_rebalancing_agent import PortfolioRebalancingAgent
    from src.market.clock import FixedClock
    from tests.conftest import guide_config

    config = guide_config()
    with PortfolioRebalancingAgent(config, clock=FixedClock(datetime(2021, 12, 31)), data_dir=tmp_path) as agent:
        event = agent.check_and_rebalance()
    assert event.config == redacted(config.model_dump(mode="json")) and event.sequence == 1
