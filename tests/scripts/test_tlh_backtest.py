"""The harvesting backtest runs on the shipped prices and prints its assumptions and figures."""

from __future__ import annotations

from src.scripts.tlh_backtest import main


def test_backtest_when_run_on_a_decade_then_three_portfolios_beside_published(capsys):
    assert main(["--start", "2000-01-03", "--end", "2009-12-31"]) == 0
    out = capsys.readouterr().out
    for text in ("passive", "no wash-sale rule", "US wash-sale rule", "1.08%", "0.82%", "35% / 15%",
                 "offset capital gains realized elsewhere"):
        assert text in out
    us_rule = next(line for line in out.splitlines() if line.startswith("US wash-sale rule"))
    assert us_rule.split()[-1] == "0"  # the rule is enforced and the plan checks avoid every wash sale
