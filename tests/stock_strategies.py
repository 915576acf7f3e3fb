"""The ``registry_returns`` fixture for the tests built on the stock strategies' 1990-2022 history.

The shipped registry also holds crypto strategies (``btc_trend``, ``crypto_equal_weight``), whose
returns run on every calendar day from 2017-2018 on; joined with them, the stock strategies'
common dates would start in 2018. Modules and folders that use ``registry_returns`` import this
fixture, which joins the stock strategies only (what the shared fixture in ``tests/conftest.py``
gave before the crypto strategies were added).
"""

from __future__ import annotations

import pandas as pd
import pytest

from src.utils.market_data import CRYPTO_SYMBOLS


@pytest.fixture(scope="session")
def registry_returns(registry) -> pd.DataFrame:
    """Daily returns of every shipped stock strategy on their common dates."""
    stock = [s.strategy_id for s in registry.list_strategies()
             if not set(registry.get_strategy(s.strategy_id).universe) & set(CRYPTO_SYMBOLS)]
    return registry.returns_frame(stock)
