"""The portfolio builder, through flags and through scripted answers to its prompts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from src.utils.config_files import load_portfolio_file
from src.utils.portfolio_builder import main

ROOT = Path(__file__).resolve().parents[2]


def test_flags_when_valid_then_file_the_agent_loads(tmp_path, capsys):
    out = tmp_path / "core.json"
    code = main(["--name", "Core", "--allocations", "momentum_strategy=0.3,low_vol_strategy=0.3,KO=0.4",
                 "--method", "calendar", "--params", '{"frequency": "quarterly"}', "--output", str(out)])
    assert code == 0 and "saved" in capsys.readouterr().out
    loaded = load_portfolio_file(out)
    assert loaded.portfolio.target_allocations == {"momentum_strategy": 0.3, "low_vol_strategy": 0.3, "KO": 0.4}
    assert loaded.portfolio.rebalancing_params.frequency.value == "quarterly"


@pytest.mark.parametrize("argv, fragment", [
    (["--name", "X", "--allocations", "rsi_strategy=0.4,macd_strategy=0.3,FOO=0.3"], "unknown unit 'FOO'"),
    (["--name", "X", "--allocations", "rsi_strategy=0.5,macd_strategy=0.5"], "max_single_strategy"),
    (["--name", "X", "--allocations", "rsi_strategy=0.4,macd_strategy=0.3,ml_strategy=0.3", "--method", "hodl"],
     "rebalancing_method"),
    (["--name", "X", "--allocations", "rsi_strategy=0.4,macd_strategy=0.3,ml_strategy=0.3", "--params", "{oops"],
     "--params='{oops' is not valid JSON: Expecting property name"),
    (["--name", "X", "--allocations", "rsi_strategy=0.4,macd_strategy=0.3,ml_strategy=0.3", "--risk-limits", "[1]"],
     "--risk-limits='[1]' must be a JSON object"),
    (["--name", "X", "--allocations", "rsi_strategy=0.4,macd_strategy=0.3,ml_strategy=0.3", "--params",
      "[" * 20_000 + "]" * 20_000], "is nested too deeply"),
    (["--name", "X"], "--name and --allocations go together"),
])
def test_flags_when_bad_then_exit_2_one_line_and_nothing_written(tmp_path, capsys, argv, fragment):
    assert main([*argv, "--output", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and "\n" not in err and not (tmp_path / "x.json").exists()


def test_flags_when_output_exists_then_refused_without_force(tmp_path):
    out = tmp_path / "p.json"
    args = ["--name", "P", "--allocations", "rsi_strategy=0.4,macd_strategy=0.3,ml_strategy=0.3", "--output", str(out)]
    assert main(args) == 0
    before = out.read_text()
    assert main([*args[:3], "rsi_strategy=0.3,macd_strategy=0.3,ml_strategy=0.4", *args[4:]]) == 2
    assert out.read_text() == before
    assert main([*args, "--force"]) == 0


def test_interactive_when_answers_have_mistakes_then_reprompts_and_saves(tmp_path):
    answers = iter([
        "My Sleeves",                      # name
        "",                                # keep default limits
        "momentum_strategy", "0.5", "0.4",  # 0.5 breaks max_single_strategy: asked again
        "nope", "low_vol_strategy", "0.3",  # unknown unit: asked again
        "KO", "0.9", "0.3",               # 0.9 takes the total above 1: asked again
        "risk_parity",                     # method
        "", "", "", "quarterly", "126",    # params: min_trade_size, budgets, leverage, frequency, lookback
    ])
    prompts: list[str] = []

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return next(answers)

    assert main(["--output", str(tmp_path / "i.json")], ask=ask) == 0
    loaded = load_portfolio_file(tmp_path / "i.json")
    assert loaded.portfolio.target_allocations == {"momentum_strategy": 0.4, "low_vol_strategy": 0.3, "KO": 0.3}
    assert loaded.portfolio.rebalancing_params.lookback == 126
    assert sum("weight of momentum_strategy" in p for p in prompts) == 2


def test_interactive_when_input_ends_then_nothing_saved(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "src/utils/portfolio_builder.py"), "--output", str(tmp_path / "i.json")],
                          input="Half done\n", capture_output=True, text=True, timeout=60)
    assert done.returncode == 130 and "nothing saved" in done.stderr and not (tmp_path / "i.json").exists()


def test_flags_when_output_not_writable_then_one_line_exit_1(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder is needed")
    code = main(["--name", "X", "--allocations", "rsi_strategy=0.4,macd_strategy=0.3,ml_strategy=0.3",
                 "--output", str(blocker / "x.json")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and "\n" not in err and "Traceback" not in err and str(blocker) in err
