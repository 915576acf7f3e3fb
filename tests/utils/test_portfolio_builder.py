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
        "",                                # no model portfolio
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
                          input="\nHalf done\n", capture_output=True, text=True, timeout=60)
    assert done.returncode == 130 and "nothing saved" in done.stderr and not (tmp_path / "i.json").exists()


def test_flags_when_output_not_writable_then_one_line_exit_1(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder is needed")
    code = main(["--name", "X", "--allocations", "rsi_strategy=0.4,macd_strategy=0.3,ml_strategy=0.3",
                 "--output", str(blocker / "x.json")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and "\n" not in err and "Traceback" not in err and str(blocker) in err


def test_flags_when_crypto_coins_and_sleeves_then_file_on_the_every_day_calendar(tmp_path, capsys):
    out = tmp_path / "crypto.json"
    code = main(["--name", "My Crypto", "--allocations", "BTC=0.4,ETH=0.3,btc_trend=0.15,crypto_equal_weight=0.15",
                 "--params", '{"min_drift": 0.1, "relative_drift": 0.25}', "--output", str(out)])
    printed = capsys.readouterr().out
    assert code == 0 and "every unit trades every calendar day (crypto)" in printed
    loaded = load_portfolio_file(out)
    assert loaded.portfolio.target_allocations == {"BTC": 0.4, "ETH": 0.3, "btc_trend": 0.15, "crypto_equal_weight": 0.15}
    assert loaded.portfolio.risk_lookback_days == 365  # a year of crypto days


def test_flags_when_crypto_mixed_with_stocks_then_weekday_calendar_keeps_252(tmp_path, capsys):
    out = tmp_path / "mixed.json"
    assert main(["--name", "Mixed", "--allocations", "BTC=0.3,KO=0.4,momentum_strategy=0.3", "--output", str(out)]) == 0
    assert "every calendar day" not in capsys.readouterr().out
    assert load_portfolio_file(out).portfolio.risk_lookback_days == 252  # BTC joined with KO: weekdays only


def test_interactive_when_crypto_portfolio_then_listed_with_its_calendar_and_saved(tmp_path, capsys):
    answers = iter([
        "",                                                 # no model portfolio
        "Coins",                                            # name
        "",                                                 # keep default limits
        "BTC", "0.4", "ETH", "0.3",                         # coins, in USDT
        "btc_trend", "0.15", "crypto_equal_weight", "0.15",  # the crypto sleeves
        "threshold", "", "0.1", "0.25", "daily", "",        # method; min_trade_size, min_drift, relative_drift, ...
    ])
    assert main(["--output", str(tmp_path / "coins.json")], ask=lambda prompt: next(answers)) == 0
    listing = capsys.readouterr().out
    assert "crypto (Binance, priced in USDT, every calendar day): BNB, BTC, ETH, SOL, XRP" in listing
    btc_trend = next(line for line in listing.splitlines() if line.startswith("btc_trend"))
    assert btc_trend.split()[5] == "365"  # its figures are annualised with 365 days
    loaded = load_portfolio_file(tmp_path / "coins.json")
    assert set(loaded.portfolio.target_allocations) == {"BTC", "ETH", "btc_trend", "crypto_equal_weight"}
    assert loaded.portfolio.rebalancing_params.relative_drift == 0.25 and loaded.portfolio.risk_lookback_days == 365


def test_flags_when_model_then_file_on_the_models_proxy_targets(tmp_path, capsys):
    from src.portfolios import follow_model

    out = tmp_path / "aw.json"
    assert main(["--model", "all_weather", "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert load_portfolio_file(out) == follow_model("all_weather")
    assert "model All Weather: GLD: no gold price is shipped" in printed  # the substitution is said
    assert "its weight goes to SPY, UST10Y, UST5Y, WTI in proportion to their weights" in printed


def test_flags_when_model_with_name_method_and_params_then_they_replace_the_models_own(tmp_path):
    out = tmp_path / "p.json"
    assert main(["--model", "sixty_forty", "--name", "My 60/40", "--method", "calendar",
                 "--params", '{"frequency": "quarterly"}', "--output", str(out)]) == 0
    config = load_portfolio_file(out).portfolio
    assert config.name == "My 60/40" and config.target_allocations == {"SPY": 0.6, "UST10Y": 0.4}
    assert config.rebalancing_params.frequency.value == "quarterly"


def test_flags_when_models_file_then_user_model_can_be_followed(tmp_path):
    models = tmp_path / "models.json"
    models.write_text('{"models": [{"name": "stocks_and_bills", "title": "Stocks and bills", "description": "d", '
                      '"source": "s", "holdings": {"VTI": 0.7, "BIL": 0.3}, "proxies": {"VTI": "SPY", "BIL": "UST3M"}}]}')
    out = tmp_path / "sb.json"
    assert main(["--model", "stocks_and_bills", "--models-file", str(models), "--output", str(out)]) == 0
    assert load_portfolio_file(out).portfolio.target_allocations == {"SPY": 0.7, "UST3M": 0.3}


@pytest.mark.parametrize("argv, fragment", [
    (["--model", "gold_bugs"], "model='gold_bugs' is not one of ['all_weather', 'permanent', 'profile_balanced'"),
    (["--model", "all_weather", "--allocations", "KO=1"], "--model and --allocations exclude each other"),
    (["--model", "risk_parity", "--method", "threshold"], "which only the 'risk_parity' method computes"),
    (["--model", "all_weather", "--models-file", "/nonexistent/m.json"], "models file /nonexistent/m.json does not exist"),
])
def test_flags_when_model_request_bad_then_exit_2_one_line_and_nothing_written(tmp_path, capsys, argv, fragment):
    assert main([*argv, "--output", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and "\n" not in err and not (tmp_path / "x.json").exists()


def test_interactive_when_model_chosen_then_lists_models_and_saves_its_targets(tmp_path, capsys):
    answers = iter(["gold_bugs",            # not a model: asked again
                    "permanent", "",        # model; name: its title
                    ""])                    # method: the model's own (5/25 band)
    assert main(["--output", str(tmp_path / "p.json")], ask=lambda prompt: next(answers)) == 0
    listing = capsys.readouterr().out
    assert "permanent     Permanent Portfolio: VTI 25% -> SPY, TLT 25% -> UST10Y, GLD 25% (no proxy), BIL 25% -> UST3M" \
        in listing
    assert "model='gold_bugs' is not one of" in listing and "BIL -> UST3M: UST3M: the 3-month Treasury bill" in listing
    config = load_portfolio_file(tmp_path / "p.json").portfolio
    assert config.name == "Permanent Portfolio" and config.rebalancing_params.relative_drift == 0.25
    assert config.target_allocations == pytest.approx({"SPY": 1 / 3, "UST10Y": 1 / 3, "UST3M": 1 / 3})


def test_interactive_when_model_and_other_method_then_forbidden_method_asked_again(tmp_path, capsys):
    answers = iter(["all_weather", "My AW",
                    "risk_parity",                   # refused: would replace the static weights
                    "calendar", "", "quarterly", "", ""])  # min_trade_size, frequency, rebalance_day, force
    assert main(["--output", str(tmp_path / "aw.json")], ask=lambda prompt: next(answers)) == 0
    assert "would replace the static weights of model 'all_weather'" in capsys.readouterr().out
    config = load_portfolio_file(tmp_path / "aw.json").portfolio
    assert config.name == "My AW" and config.rebalancing_params.frequency.value == "quarterly"
    assert set(config.target_allocations) == {"SPY", "UST10Y", "UST5Y", "WTI"}


def test_flags_when_exclude_then_saved_and_when_excluded_unit_has_target_then_exit_2_nothing_written(tmp_path, capsys):
    out = tmp_path / "trio.json"
    base = ["--name", "Trio", "--allocations", "JNJ=0.5,XOM=0.5", "--risk-limits", '{"max_single_strategy": 0.5}',
            "--output", str(out)]
    assert main([*base, "--exclude", "KO, PG"]) == 0
    assert load_portfolio_file(out).portfolio.exclude_assets == ["KO", "PG"]
    out.unlink()
    assert main([*base, "--exclude", "JNJ"]) == 2 and not out.exists()
    err = capsys.readouterr().err
    assert "--exclude: PortfolioConfig: exclude_assets: 'JNJ' also has a target weight" in err and err.count("\n") == 1


def test_flags_when_excluded_unit_unknown_then_exit_2_naming_it(tmp_path, capsys):
    out = tmp_path / "t.json"
    assert main(["--name", "T", "--allocations", "JNJ=0.5,XOM=0.5", "--risk-limits", '{"max_single_strategy": 0.5}',
                 "--exclude", "FOO", "--output", str(out)]) == 2 and not out.exists()
    assert "exclude_assets: unknown unit 'FOO'" in capsys.readouterr().err
