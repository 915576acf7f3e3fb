"""The dashboard PNG: allocation vs target, and the drift history (matplotlib, no screen)."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # files only: the agent runs headless
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from src.utils.atomic_io import atomic_write_bytes  # noqa: E402

if TYPE_CHECKING:  # pragma: no cover
    from src.agents.portfolio_rebalancing_agent import PortfolioRebalancingAgent


def save_dashboard_png(agent: "PortfolioRebalancingAgent", path: Path) -> Path:
    """Draw and atomically save the dashboard chart; returns ``path``."""
    positions = agent.positions()
    targets = agent.config.target_allocations
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(10, 8))
    units = [p.unit for p in positions]
    x = range(len(units))
    ax1.bar([i - 0.2 for i in x], [p.weight for p in positions], width=0.4, label="current")
    ax1.bar([i + 0.2 for i in x], [p.target_weight for p in positions], width=0.4, label="target")
    ax1.set_xticks(list(x), units, rotation=20, ha="right")
    ax1.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax1.set_title(f"{agent.config.name}: allocation vs target ({agent.clock.now():%Y-%m-%d})")
    ax1.legend()
    history = agent.state.history
    if history:
        frame = pd.DataFrame([{u: p.weights.get(u, 0.0) - targets.get(u, 0.0) for u in targets} for p in history],
                             index=pd.DatetimeIndex([p.timestamp for p in history]))
        for unit in frame.columns:
            ax2.plot(frame.index, frame[unit], label=unit, linewidth=1, marker="." if len(frame) < 30 else None)
        for event in agent.rebalancing_history:
            if any(o.filled_quantity > 0 for o in event.orders):
                ax2.axvline(event.timestamp, color="grey", alpha=0.25, linewidth=0.8)
        ax2.legend(fontsize=8)
    ax2.axhline(0.0, color="black", linewidth=0.6)
    ax2.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax2.set_title("drift from target (grey lines: rebalances)")
    return save_png(fig, path)


def save_png(fig, path: Path) -> Path:
    """Lay out ``fig``, write it as a PNG atomically (temp file, fsync, rename) and close it."""
    fig.tight_layout()
    buffer = BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    atomic_write_bytes(Path(path), buffer.getvalue())
    return Path(path)
