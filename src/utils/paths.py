"""Where the project keeps its files (all under ``src/data``)."""

from __future__ import annotations

import re
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
PORTFOLIO_DIR = DATA_DIR / "portfolio"        # events, agent state, paper account, charts
PORTFOLIOS_DIR = DATA_DIR / "portfolios"      # saved portfolio configurations
MARKET_DIR = DATA_DIR / "market"              # shipped real prices and market snapshots


def slug(name: str) -> str:
    """A file-name-safe form of a portfolio name ("My Balanced Portfolio" -> "my_balanced_portfolio")."""
    text = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return text or "portfolio"
