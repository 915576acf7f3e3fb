"""The decision-quality report: tables per portfolio, the frontier point, the PNG, bad input."""

from __future__ import annotations

import pytest

from src.scripts.decision_quality import POLICIES, PORTFOLIOS, main


@pytest.mark.slow
def test_quality_when_run_on_60_40_then_table_target_line_and_png(tmp_path, capsys):
    png = tmp_path / "q.png"
    assert main(["--portfolios", "60/40", "--policies", "buy_and_hold,quarterly,threshold_edge,cost_aware",
                 "--output", str(png)]) == 0
    out = capsys.readouterr().out
    for header in ("turnover/yr", "fees", "track.err", "return/yr", "volatility", "max DD", "cash"):
        assert header in out
    rows = [line.split()[0] for line in out.splitlines() if len(line.split()) > 1 and line.split()[0] in
            [*POLICIES, "cost_aware_eqTE"] and line.split()[1].endswith("%")]
    assert rows == ["buy_and_hold", "quarterly", "threshold_edge", "cost_aware", "cost_aware_eqTE"]
    assert "cost_aware_eqTE (risk_aversion" in out and "calibrated in sample" in out
    assert "Leland (2000)" in out and png.stat().st_size > 10_000
    hold = next(line.split() for line in out.splitlines() if line.startswith("buy_and_hold"))
    assert hold[1] == "0.00%"  # never traded after the first investment


def test_quality_when_unknown_portfolio_or_policy_then_exit_2_and_nothing_written(tmp_path, capsys):
    png = tmp_path / "q.png"
    assert main(["--portfolios", "bonds_only", "--output", str(png)]) == 2
    assert main(["--policies", "weekly", "--output", str(png)]) == 2
    err = capsys.readouterr().err
    assert "bonds_only" in err and "weekly" in err and not png.exists()


def test_quality_portfolios_when_listed_then_real_shipped_units():
    assert set(PORTFOLIOS) == {"stocks", "60/40", "crypto"}
    assert sum(PORTFOLIOS["60/40"][0].values()) == 1.0 and len(PORTFOLIOS["stocks"][0]) == 20
