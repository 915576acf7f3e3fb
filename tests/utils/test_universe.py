"""Units are strategies or plain assets; anything else is an error naming it."""

from __future__ import annotations

import pandas as pd
import pytest

from src.errors import UnknownUnitError
from src.models.base import UnitKind
from src.models.portfolio_models import PortfolioConfig
from src.utils.universe import resolve_units, unit_returns


def mixed_config(units) -> PortfolioConfig:
    return PortfolioConfig(name="mixed", target_allocations=units)


def test_resolve_when_strategy_and_asset_mixed_then_kinds(registry):
    kinds = resolve_units(mixed_config({"ml_strategy": 0.4, "SPY": 0.3, "KO": 0.3}), registry)
    assert kinds == {"ml_strategy": UnitKind.STRATEGY, "SPY": UnitKind.ASSET, "KO": UnitKind.ASSET}


def test_resolve_when_unit_unknown_then_error_names_it(registry):
    with pytest.raises(UnknownUnitError, match="unknown unit 'BTC/USDT'"):
        resolve_units(mixed_config({"ml_strategy": 0.4, "BTC/USDT": 0.3, "KO": 0.3}), registry)


def test_resolve_when_symbol_list_given_then_used(registry):
    kinds = resolve_units(mixed_config({"ml_strategy": 0.4, "BTC/USDT": 0.3, "KO": 0.3}), registry,
                          symbols=["BTC/USDT", "KO"])
    assert kinds["BTC/USDT"] == UnitKind.ASSET


def test_unit_returns_when_mixed_then_common_dates_in_config_order(registry):
    frame = unit_returns(mixed_config({"ml_strategy": 0.4, "SPY": 0.3, "KO": 0.3}), registry)
    assert list(frame.columns) == ["ml_strategy", "SPY", "KO"]
    assert frame.notna().all().all()
    assert frame.index.min() == pd.Timestamp("1993-02-02") and frame.index.max() == pd.Timestamp("2018-04-27")  # SPY span
