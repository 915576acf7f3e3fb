"""Backtests on the live pipeline, their metrics and performance attribution."""

from src.backtest.attribution import Attribution, attribution_from_history, performance_attribution
from src.backtest.models import BacktestDecision, BacktestMetrics, BacktestResult
from src.backtest.runner import run_backtest

__all__ = ["Attribution", "BacktestDecision", "BacktestMetrics", "BacktestResult", "attribution_from_history",
           "performance_attribution", "run_backtest"]
