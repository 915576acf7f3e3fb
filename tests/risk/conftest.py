"""Fixtures of this folder: the stock strategies' returns (see ``tests/stock_strategies.py``)."""

from tests.stock_strategies import registry_returns  # noqa: F401  (the fixture, by name)
