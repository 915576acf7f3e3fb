"""The preview script, driven through its flags as a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from src.scripts.preview_plan import main
from src.utils.config_files import parse_allocations

ROOT = Path(__file__).resolve().parents[2]


def test_main_when_defaults_then_prints_orders_for_guide_portfolio(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "status: orders" in out and "max_portfolio_drawdown" in out and "rsi_strategy" in out


@pytest.mark.parametrize("argv, fragment", [
    (["--allocations", "rsi_strategy=0.4,macd_strategy=0.3,nope=0.3"], "unknown unit 'nope'"),
    (["--allocations", "rsi_strategy=0.4,macd_strategy=x"], "weight 'x' of 'macd_strategy' is not a number"),
    (["--method", "magic"], "rebalancing_method"),
    (["--params", '{"min_drift": "wide"}'], "rebalancing_params.min_drift"),
    (["--date", "1980-01-01"], "--date=1980-01-01 is before the first common date"),
    (["--start", "2021-06-01", "--date", "2021-01-04"], "must be after --start"),
    (["--value", "-5"], "--value=-5.0 must be > 0"),
])
def test_main_when_input_bad_then_one_line_error_and_exit_2(argv, fragment, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and "\n" not in err


def test_parse_allocations_when_well_formed_then_dict():
    assert parse_allocations("a=0.4, b=0.6") == {"a": 0.4, "b": 0.6}


def test_script_when_run_as_file_from_elsewhere_then_works(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "src/scripts/preview_plan.py"), "--method", "risk_parity"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "risk_parity" in done.stdout
