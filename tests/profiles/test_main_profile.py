"""main.py --profile: the seed-003 trade list from the framework's entry point."""

from __future__ import annotations

from pathlib import Path

import main as main_module

HOLDINGS = Path(__file__).resolve().parents[2] / "src/data/portfolios/seed003_holdings.json"


def test_main_profile_when_alias_then_trade_list_printed(capsys):
    assert main_module.main(["--profile", "aggressive", "--holdings", str(HOLDINGS)]) == 0
    out = capsys.readouterr().out
    assert "Risk profile: growth" in out and "SELL  STRIPS-2040  25,000.00" in out


def test_main_profile_when_no_holdings_or_unknown_profile_then_one_line_exit_2(capsys):
    assert main_module.main(["--profile", "growth"]) == 2
    assert main_module.main(["--profile", "nope", "--holdings", str(HOLDINGS)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "--profile needs --holdings" in err and "unknown risk profile 'nope'" in err
