"""Shared set-up of the live-trading tests: the loopback Binance priced with the shipped real
Binance closes (the last day of ``crypto_daily.csv.gz``), the markets of the shipped snapshot,
and an exchange block pointing ccxt at it."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from src.models.execution_models import ExchangeSettings
from src.utils.market_data import load_prices
from tests.brokers.fake_binance import SPOT_ONLY, FakeBinance

KEY, SECRET = "live-test-key-7f3a", "live-test-secret-never-written-9c1e"
ENV = {"TEST_BINANCE_KEY": KEY, "TEST_BINANCE_SECRET": SECRET}
DAY = pd.Timestamp("2025-09-18")  # the last day of the shipped crypto closes
NOW = datetime(2025, 9, 18, 12, 0)
# The shipped snapshot's rules (src/data/market/exchange_markets_binance.json).
MARKETS = {
    "BTC/USDT": {"base": "BTC", "quote": "USDT", "step": 0.00001, "min_qty": 0.00001, "tick": 0.01, "min_notional": 5},
    "ETH/USDT": {"base": "ETH", "quote": "USDT", "step": 0.0001, "min_qty": 0.0001, "tick": 0.01, "min_notional": 5},
    "XRP/USDT": {"base": "XRP", "quote": "USDT", "step": 1.0, "min_qty": 1.0, "tick": 0.0001, "min_notional": 5},
}


def real_closes() -> pd.DataFrame:
    return load_prices("crypto")[["BTC", "ETH", "XRP"]].loc[:DAY].dropna()


def fake_exchange(balances: dict[str, float], **kwargs) -> FakeBinance:
    """The loopback Binance at the real closes of ``DAY``, serving the real daily closes as klines."""
    closes = real_closes()
    prices = {f"{c}/USDT": float(closes[c].iloc[-1]) for c in closes}
    # Klines up to the day before DAY (DAY's candle is the one in progress), close only.
    daily = {f"{c}USDT": [(int(t.timestamp() * 1000), float(v)) for t, v in closes[c].items()] for c in closes}
    return FakeBinance(balances=balances, markets=MARKETS, prices=prices, api_key=KEY, secret=SECRET,
                       daily_closes=daily, **kwargs)


def exchange_settings(fake: FakeBinance, **overrides) -> ExchangeSettings:
    """An exchange block that points ccxt at ``fake`` (fast polling, short timeouts)."""
    fields = dict(id="binance", quote="USDT", api_key_env="TEST_BINANCE_KEY", secret_env="TEST_BINANCE_SECRET",
                  api_urls=fake.api_urls(), options=SPOT_ONLY, poll_seconds=0.01, rate_limit_ms=1,
                  fill_timeout_seconds=0.5, retries=3, timeout_ms=1500)
    fields.update(overrides)
    return ExchangeSettings(**fields)
