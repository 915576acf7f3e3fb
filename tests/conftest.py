"""Shared fixtures: the shipped registry and helpers that build account snapshots; the --runslow option."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from src.agents.strategy_registry_agent import StrategyRegistryAgent
from src.models.portfolio_models import DEFAULT_RISK_LIMITS, PortfolioConfig, RebalancingMethod
from src.models.trading_models import PortfolioState

GUIDE_TARGETS = {"rsi_strategy": 0.40, "macd_strategy": 0.30, "ml_strategy": 0.30}


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False,
                     help="also run the tests marked slow (make test does; plain pytest and make test-fast do not)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: runs with --runslow (make test)")
    for item in items:
        if item.get_closest_marker("slow"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def registry() -> StrategyRegistryAgent:
    """The shipped registry (read-only use)."""
    return StrategyRegistryAgent()


@pytest.fixture(scope="session")
def registry_returns(registry) -> pd.DataFrame:
    """Daily returns of every shipped stock strategy on their common dates (1990-2022; the crypto
    strategies run on another calendar from 2017 and would cut the join to their dates)."""
    from src.utils.market_data import CRYPTO_SYMBOLS

    stock = [s.strategy_id for s in registry.list_strategies()
             if not set(registry.get_strategy(s.strategy_id).universe) & set(CRYPTO_SYMBOLS)]
    return registry.returns_frame(stock)


def state_at_weights(weights: dict[str, float], prices: dict[str, float], *, nav: float = 100_000.0,
                     cash: float = 0.0, timestamp: datetime = datetime(2021, 12, 31),
                     last_rebalance_at: datetime | None = None) -> PortfolioState:
    """A snapshot holding ``weights`` of ``nav`` (plus ``cash``) at ``prices``."""
    holdings = {u: w * nav / prices[u] for u, w in weights.items() if w > 0}
    return PortfolioState(timestamp=timestamp, cash=cash, holdings=holdings, prices=prices,
                          last_rebalance_at=last_rebalance_at)


def guide_config(**overrides) -> PortfolioConfig:
    """The users' guide's configuration, with ``overrides`` applied."""
    kwargs = dict(name="My Balanced Portfolio", target_allocations=dict(GUIDE_TARGETS),
                  rebalancing_method=RebalancingMethod.THRESHOLD, rebalancing_params={"min_drift": 0.05},
                  risk_limits=DEFAULT_RISK_LIMITS)
    kwargs.update(overrides)
    return PortfolioConfig(**kwargs)
