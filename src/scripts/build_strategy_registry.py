"""Rebuild the shipped strategy registry from the real prices in ``src/data/market``.

Usage::

    python src/scripts/build_strategy_registry.py [--output PATH]

Strategies already in the output file under other ids are kept; the ones built here are
replaced. The result is deterministic: the same prices give the same file.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from anywhere

import pandas as pd  # noqa: E402

from src.agents.strategy_registry_agent import DEFAULT_REGISTRY_PATH, StrategyRegistryAgent  # noqa: E402
from src.strategies import rules  # noqa: E402
from src.strategies.ml import ml_selector  # noqa: E402
from src.utils.market_data import listed_returns, load_prices  # noqa: E402

log = logging.getLogger("build_strategy_registry")

SOURCE = (
    "src/strategies ({module}) on src/data/market/{file} (real daily prices, see its README); "
    "weights decided at the close earn the next day's return; 5 bps per unit of turnover"
)
CRYPTO_SOURCE = SOURCE + (
    "; every UTC calendar day (Binance closes in USDT; attribution in crypto_daily_PROVENANCE.md: "
    "bernini10/oraculo-de-bitcoin (MIT) and Novandra Anugrah's Kaggle datasets (CC BY 4.0))"
)

# id -> (name, description, price group, rule, module, parameters)
STRATEGIES: dict[str, tuple[str, str, str, Callable[[pd.DataFrame], pd.DataFrame], str, dict[str, float]]] = {
    "buy_hold_index": (
        "Buy and hold S&P 500", "Fully invested in the S&P 500 price index.",
        "index", rules.buy_and_hold, "rules.buy_and_hold", {},
    ),
    "sma_crossover": (
        "SMA 50/200 crossover", "Long the S&P 500 while SMA50 > SMA200, cash otherwise.",
        "index", rules.sma_crossover, "rules.sma_crossover", {"fast": 50, "slow": 200},
    ),
    "rsi_strategy": (
        "RSI mean reversion", "Buys any of 20 S&P 500 stocks when RSI(14) < 30, sells above 50; equal weight.",
        "stocks", rules.rsi_mean_reversion, "rules.rsi_mean_reversion", {"period": 14, "entry": 30, "exit": 50},
    ),
    "macd_strategy": (
        "MACD trend", "Holds each of 20 S&P 500 stocks while MACD(12,26) > its 9-day signal; equal weight.",
        "stocks", rules.macd_trend, "rules.macd_trend", {"fast": 12, "slow": 26, "signal": 9},
    ),
    "ml_strategy": (
        "Ridge-regression selector",
        "Monthly walk-forward ridge regression on 5/21/63-day returns and 21-day volatility; "
        "holds the 5 stocks with the highest predicted 21-day relative return.",
        "stocks", ml_selector, "ml.ml_selector", {"top": 5, "train_days": 756, "horizon": 21, "alpha": 1.0},
    ),
    "momentum_strategy": (
        "Cross-sectional momentum", "Monthly, holds the 5 of 20 stocks with the best 12-1 month return.",
        "stocks", rules.cross_sectional_momentum, "rules.cross_sectional_momentum", {"lookback": 252, "skip": 21, "top": 5},
    ),
    "low_vol_strategy": (
        "Low-volatility rotation", "Monthly, holds the 5 of 20 stocks with the lowest 60-day volatility.",
        "stocks", rules.low_volatility, "rules.low_volatility", {"window": 60, "top": 5},
    ),
    "btc_trend": (
        "Bitcoin 200-day trend", "Holds BTC while its daily close is above its 200-day SMA, USDT cash otherwise; "
        "decided every day, weekends included.",
        "btc", rules.sma_trend, "rules.sma_trend", {"window": 200},
    ),
    "crypto_equal_weight": (
        "Crypto equal weight, weekly",
        "Every Sunday (UTC close), equal weight across those of BTC, ETH, BNB, SOL and XRP with a price that day "
        "(ETH alone until BTC's data starts on 2018-01-01; SOL joins in 2020-08, BNB and XRP in 2020-09); the "
        "weights drift with prices in between.",
        "crypto", rules.equal_weight_listed, "rules.equal_weight_listed", {"weekday": 6},
    ),
}

# price group -> (group of load_prices, columns; None = all)
PRICE_GROUPS = {"index": ("index", None), "stocks": ("stocks", None), "crypto": ("crypto", None),
                "btc": ("crypto", ["BTC"])}
FILES = {"index": "sp500_index_daily.csv.gz", "stocks": "sp500_20_stocks_daily.csv.gz", "crypto": "crypto_daily.csv.gz"}


def group_prices(group: str) -> pd.DataFrame:
    """The prices a strategy of price group ``group`` is run on (NaN before a coin's data, never filled)."""
    loaded, columns = PRICE_GROUPS[group]
    prices = load_prices(loaded)
    return prices if columns is None else prices[columns]


def build(output: Path) -> StrategyRegistryAgent:
    """Compute every strategy's returns from the shipped prices and write the registry.

    Parameters
    ----------
    output : pathlib.Path
        The registry file; strategies in it under other ids are kept.

    Returns
    -------
    StrategyRegistryAgent
        The registry written. Crypto strategies' returns are on every UTC calendar day from
        the day after their first decision; their metrics are annualised with 365 days.
    """
    registry = StrategyRegistryAgent(output)
    for sid, (name, description, group, rule, module, params) in STRATEGIES.items():
        prices = group_prices(group)
        returns = rules.weights_to_returns(rule(prices), listed_returns(prices))
        loaded = PRICE_GROUPS[group][0]
        registry.register_strategy(
            strategy_id=sid,
            name=name,
            description=description,
            returns=returns,
            universe=list(prices.columns),
            source=(CRYPTO_SOURCE if loaded == "crypto" else SOURCE).format(module=module, file=FILES[loaded]),
            parameters=params,
            overwrite=True,
        )
        perf = registry.get_strategy(sid)["performance_data"]
        log.info("%-18s %s..%s sharpe %.2f maxdd %.2f", sid, perf.start_date, perf.end_date,
                 perf.sharpe_ratio, perf.max_drawdown)
    return registry


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--output", type=Path, default=DEFAULT_REGISTRY_PATH, help="registry JSON path")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    build(args.output)
    log.info("wrote %s", args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
