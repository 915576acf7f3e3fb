"""The strategy registry: strategies, their daily returns and metrics, stored as JSON.

The shipped registry (``src/data/strategies/registry.json``) holds rule-based strategies run on
the real prices in ``src/data/market``; rebuild it with
``python src/scripts/build_strategy_registry.py``.
"""

from __future__ import annotations

import logging
import math
from datetime import date
from pathlib import Path
from typing import Optional

import pandas as pd

from src.errors import DataError, UnknownUnitError
from src.models.registry_models import PerformanceData, RegistryFile, StrategyRecord, StrategySummary
from src.utils.atomic_io import atomic_write_text, read_model
from src.utils.performance import PerformanceMetrics, compute_metrics

log = logging.getLogger(__name__)

DEFAULT_REGISTRY_PATH = Path(__file__).resolve().parents[1] / "data" / "strategies" / "registry.json"


def performance_from_returns(returns: pd.Series) -> PerformanceData:
    """Build ``PerformanceData`` (series plus metrics) from a dated daily return series.

    The metrics are annualised on the series' own calendar (``annualization_days``: 365 days a
    year for a series with every calendar day, such as a crypto strategy's; 252 otherwise).
    """
    if returns.empty:
        raise DataError("returns is empty: a strategy needs at least 2 daily returns")
    bad = returns[~returns.map(lambda v: isinstance(v, (int, float)) and math.isfinite(v))]
    if not bad.empty:
        raise DataError(f"returns[{bad.index[0]}]={bad.iloc[0]} is not a finite number")
    # annualised on the series' own calendar: 252 days a year for stocks, 365 for crypto
    metrics = compute_metrics(pd.Series(returns.to_numpy(dtype=float), index=pd.DatetimeIndex(returns.index)))
    dates = [pd.Timestamp(d).date() for d in returns.index]
    return PerformanceData(
        **metrics.model_dump(),
        start_date=dates[0],
        end_date=dates[-1],
        dates=dates,
        daily_returns=[float(v) for v in returns.to_numpy(dtype=float)],
    )


class StrategyRegistryAgent:
    """Reads and writes the strategy registry.

    Parameters
    ----------
    path : pathlib.Path, optional
        The registry JSON file; the shipped registry by default. A missing file is an empty
        registry; a file that does not parse is an error (never silently replaced).
    """

    def __init__(self, path: Optional[Path] = None) -> None:
        self.path = Path(path) if path is not None else DEFAULT_REGISTRY_PATH
        self._data = self._load()

    def _load(self) -> RegistryFile:
        if not self.path.exists():
            log.info("registry %s does not exist yet; starting empty", self.path)
            return RegistryFile()
        return read_model(self.path, RegistryFile, f"registry file {self.path} is not a valid registry")

    def _save(self) -> None:
        atomic_write_text(self.path, self._data.model_dump_json(indent=None) + "\n")

    def list_strategies(self) -> list[StrategySummary]:
        """Every registered strategy with its whole-history metrics, by id."""
        out = []
        for sid in sorted(self._data.strategies):
            rec = self._data.strategies[sid]
            perf = rec.performance_data
            out.append(
                StrategySummary(
                    strategy_id=sid,
                    name=rec.name,
                    description=rec.description,
                    start_date=perf.start_date,
                    end_date=perf.end_date,
                    metrics=PerformanceMetrics(**{k: perf[k] for k in PerformanceMetrics.model_fields}),
                )
            )
        return out

    def has_strategy(self, strategy_id: str) -> bool:
        """True if ``strategy_id`` is registered."""
        return strategy_id in self._data.strategies

    def get_strategy(self, strategy_id: str) -> StrategyRecord:
        """The full record; ``record["performance_data"]`` holds returns and metrics.

        Raises
        ------
        UnknownUnitError
            If no strategy has that id.
        """
        if strategy_id not in self._data.strategies:
            raise UnknownUnitError(
                f"strategy_id={strategy_id!r} is not registered (known: {sorted(self._data.strategies)})"
            )
        return self._data.strategies[strategy_id]

    def register_strategy(
        self,
        *,
        strategy_id: str,
        name: str,
        description: str,
        returns: pd.Series,
        universe: list[str],
        source: str,
        parameters: Optional[dict[str, float]] = None,
        overwrite: bool = False,
    ) -> StrategyRecord:
        """Add a strategy with its daily return series and save the registry atomically.

        Raises
        ------
        ValueError
            If the id exists and ``overwrite`` is false.
        DataError
            If the returns are empty or not finite.
        """
        if strategy_id in self._data.strategies and not overwrite:
            raise ValueError(f"strategy_id={strategy_id!r} is already registered (pass overwrite=True)")
        record = StrategyRecord(
            strategy_id=strategy_id,
            name=name,
            description=description,
            universe=universe,
            parameters=parameters or {},
            source=source,
            performance_data=performance_from_returns(returns),
        )
        self._data.strategies[strategy_id] = record
        self._save()
        log.info("registered strategy %s (%d returns)", strategy_id, len(returns))
        return record

    def update_performance(self, strategy_id: str, returns: pd.Series) -> StrategyRecord:
        """Append new daily returns (dates after the last stored one) and recompute metrics.

        Returns on dates already stored must equal the stored value; a different value is a
        ``DataError`` naming the date (history is never rewritten silently).
        """
        record = self.get_strategy(strategy_id)
        perf = record.performance_data
        stored = pd.Series(perf.daily_returns, index=pd.DatetimeIndex(perf.dates))
        new = returns.copy()
        new.index = pd.DatetimeIndex(new.index).normalize()
        overlap = new.index.intersection(stored.index)
        for day in overlap:
            if not math.isclose(float(new[day]), float(stored[day]), rel_tol=0.0, abs_tol=1e-12):
                raise DataError(
                    f"returns[{day.date()}]={new[day]} differs from the stored {stored[day]} for {strategy_id!r}"
                )
        earlier = new.index[new.index < stored.index[-1]].difference(overlap)
        if len(earlier):
            raise DataError(f"returns[{earlier[0].date()}] is inside the stored history of {strategy_id!r}")
        merged = pd.concat([stored, new[new.index > stored.index[-1]]])
        updated = record.model_copy(update={"performance_data": performance_from_returns(merged)})
        self._data.strategies[strategy_id] = updated
        self._save()
        log.info("updated %s: %d new returns", strategy_id, len(merged) - len(stored))
        return updated

    def returns_series(self, strategy_id: str) -> pd.Series:
        """A strategy's daily returns as a dated series."""
        perf = self.get_strategy(strategy_id).performance_data
        return pd.Series(perf.daily_returns, index=pd.DatetimeIndex(perf.dates), name=strategy_id)

    def returns_frame(self, strategy_ids: list[str], end: Optional[date] = None) -> pd.DataFrame:
        """Daily returns of several strategies on their common dates (inner join), up to ``end``."""
        frame = pd.concat([self.returns_series(s) for s in strategy_ids], axis=1, join="inner")
        if end is not None:
            frame = frame.loc[: pd.Timestamp(end)]
        return frame
