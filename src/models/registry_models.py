"""Models of the strategy registry."""

from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator

from src.models.base import StrictModel
from src.utils.performance import PerformanceMetrics


class PerformanceData(PerformanceMetrics):
    """A strategy's daily return series and the metrics derived from it (fractions)."""

    start_date: date = Field(description="First date with a return.")
    end_date: date = Field(description="Last date with a return.")
    dates: list[date] = Field(description="Trading dates, oldest first.")
    daily_returns: list[float] = Field(description="Daily simple return on each date.")

    @model_validator(mode="after")
    def _aligned(self) -> "PerformanceData":
        if len(self.dates) != len(self.daily_returns):
            raise ValueError(
                f"dates has {len(self.dates)} entries but daily_returns has {len(self.daily_returns)}"
            )
        if any(b <= a for a, b in zip(self.dates, self.dates[1:])):
            raise ValueError("dates must be strictly increasing")
        return self


class StrategyRecord(StrictModel):
    """One strategy in the registry."""

    strategy_id: str = Field(min_length=1, description="Unique id used in target_allocations.")
    name: str = Field(description="Human-readable name.")
    description: str = Field(description="What the strategy does.")
    universe: list[str] = Field(description="Symbols it trades.")
    parameters: dict[str, float] = Field(default_factory=dict, description="Its parameters.")
    source: str = Field(description="Where its returns come from (data and code).")
    performance_data: PerformanceData = Field(description="Daily returns and metrics.")


class StrategySummary(StrictModel):
    """A registry entry without its return series, for listings."""

    strategy_id: str = Field(description="Unique id.")
    name: str = Field(description="Human-readable name.")
    description: str = Field(description="What the strategy does.")
    start_date: date = Field(description="First date with a return.")
    end_date: date = Field(description="Last date with a return.")
    metrics: PerformanceMetrics = Field(description="Metrics over the whole history.")


class RegistryFile(StrictModel):
    """The JSON document the registry is stored as."""

    version: int = Field(1, description="Format version.")
    strategies: dict[str, StrategyRecord] = Field(default_factory=dict, description="By id.")
