"""The demo: four methods side by side on the same real history."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from src.models.portfolio_models import RebalancingMethod
from src.scripts.demo_portfolio_rebalancing import main
from src.utils.config_files import PortfolioFile, load_portfolio_file, save_portfolio_file

ROOT = Path(__file__).resolve().parents[2]


def test_demo_when_run_then_table_of_every_method_beside_buy_and_hold_and_png(tmp_path, capsys):
    loaded = load_portfolio_file(ROOT / "src/data/portfolios/sample_portfolio.json")
    runtime = loaded.runtime.model_copy(update={"replay_start": date(2021, 1, 4)})
    cfg = save_portfolio_file(tmp_path / "cfg.json", PortfolioFile(portfolio=loaded.portfolio, runtime=runtime))
    png = tmp_path / "cmp.png"
    assert main(["--config", str(cfg), "--output", str(png)]) == 0
    out = capsys.readouterr().out
    for header in ("rebalances", "turnover/yr", "fees", "track.err", "return/yr", "volatility", "max DD", "cash"):
        assert header in out
    names = ["buy_and_hold", *(m.value for m in RebalancingMethod)]
    rows = [line.split()[0] for line in out.splitlines() if line.split() and line.split()[0] in names]
    assert rows == names
    hold = next(line.split() for line in out.splitlines() if line.startswith("buy_and_hold"))
    assert hold[1] == "1" and hold[3] == "0.00%"  # invested once, never traded again
    assert png.stat().st_size > 10_000
    assert sorted(tmp_path.iterdir()) == sorted([cfg, png])  # the replays left nothing behind


def test_demo_when_config_missing_then_exit_2(tmp_path, capsys):
    assert main(["--config", str(tmp_path / "none.json"), "--output", str(tmp_path / "x.png")]) == 2
    assert "does not exist" in capsys.readouterr().err
