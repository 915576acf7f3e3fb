"""main.py: the framework loop with ACTIVE_AGENTS, --once, --replay, and bad input."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

import main as main_module
from src.utils.config_files import PortfolioFile, load_portfolio_file, save_portfolio_file

ROOT = Path(__file__).resolve().parents[1]


def short_config(tmp_path: Path, start=date(2022, 6, 1)) -> Path:
    loaded = load_portfolio_file(ROOT / "src/data/portfolios/sample_portfolio.json")
    runtime = loaded.runtime.model_copy(update={"replay_start": start})
    return save_portfolio_file(tmp_path / "cfg.json", PortfolioFile(portfolio=loaded.portfolio, runtime=runtime))


def test_active_agents_when_listed_then_only_existing_portfolio_agent():
    assert main_module.ACTIVE_AGENTS == {"portfolio": True}


def test_once_when_run_then_one_cycle_event_and_dashboard(tmp_path, capsys):
    code = main_module.main(["--once", "--config", str(short_config(tmp_path)), "--data-dir", str(tmp_path / "d")])
    assert code == 0
    assert len(list((tmp_path / "d").glob("rebalance_*.json"))) == 1
    assert "Sample Multi-Strategy Portfolio" in capsys.readouterr().out


def test_replay_when_run_then_dashboards_at_rebalances_and_final_summary(tmp_path, capsys):
    code = main_module.main(["--replay", "--config", str(short_config(tmp_path)), "--data-dir", str(tmp_path / "d")])
    out = capsys.readouterr().out
    assert code == 0 and ">>> 2022-06-01 rebalanced" in out and "replay summary" in out
    for line in ("period", "value", "return", "max drawdown", "rebalances", "fees", "dashboard PNG"):
        assert line in out
    assert (tmp_path / "d" / "dashboard_sample_multi_strategy_portfolio.png").stat().st_size > 10_000


def test_main_when_portfolio_agent_switched_off_then_nothing_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(main_module.ACTIVE_AGENTS, "portfolio", False)
    assert main_module.main(["--once", "--data-dir", str(tmp_path / "d")]) == 0
    assert "no active agent" in capsys.readouterr().out and not (tmp_path / "d").exists()


def test_main_when_config_broken_then_exit_2_one_line_and_nothing_written(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"portfolio": {"name": "x", "target_allocations": {"a": 0.9}}}')
    assert main_module.main(["--once", "--config", str(bad), "--data-dir", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: config file") and "target_allocations" in err and "\n" not in err
    assert not (tmp_path / "d").exists()


def test_main_when_unknown_strategy_then_exit_2_and_nothing_written(tmp_path, capsys):
    cfg = tmp_path / "cfg.json"
    cfg.write_text('{"portfolio": {"name": "x", "target_allocations": {"rsi_strategy": 0.4, "macd_strategy": 0.3, '
                   '"alpha_strategy": 0.3}}}')
    assert main_module.main(["--once", "--config", str(cfg), "--data-dir", str(tmp_path / "d")]) == 2
    assert "alpha_strategy" in capsys.readouterr().err and not (tmp_path / "d").exists()


@pytest.mark.slow
def test_loop_when_ctrl_c_then_clean_stop(tmp_path):
    code = [sys.executable, "-c",
            "import main, signal, threading, os;"
            "threading.Timer(4.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start();"
            f"raise SystemExit(main.main(['--config', r'{short_config(tmp_path)}', '--data-dir', r'{tmp_path / 'd'}']))"]
    done = subprocess.run(code, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 130, done.stderr
    assert "stopped by Ctrl-C" in done.stdout and (tmp_path / "d" / "state_sample_multi_strategy_portfolio.json").exists()


def test_main_when_log_level_unknown_then_usage_error_exit_2(tmp_path, capsys):
    import pytest

    with pytest.raises(SystemExit) as stopped:
        main_module.main(["--once", "--log-level", "LOUD", "--data-dir", str(tmp_path / "d")])
    assert stopped.value.code == 2 and "invalid choice: 'LOUD'" in capsys.readouterr().err


def test_main_when_data_dir_is_a_file_then_one_line_exit_1(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code = main_module.main(["--once", "--config", str(short_config(tmp_path)), "--data-dir", str(blocker)])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err and str(blocker) in err


def _sample_with(tmp_path, **changes):
    import json

    data = json.loads((ROOT / "src/data/portfolios/sample_portfolio.json").read_text())
    for dotted, value in changes.items():
        section, key = dotted.split(".")
        data[section][key] = value
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(data))
    return path


def _raw(tmp_path, content: bytes):
    path = tmp_path / "cfg.json"
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("make, fragment", [
    (lambda t: _raw(t, b'{"portfolio": {"name": "\\xff\\xfe"}}'.replace(b"\\xff\\xfe", b"\xff\xfe")), "is not UTF-8 text"),
    (lambda t: _raw(t, b'{"portfolio": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"), "nested too deeply"),
    (lambda t: _sample_with(t, **{"portfolio.name": "N" * 300}), "portfolio.name: String should have at most 100"),
    (lambda t: _sample_with(t, **{"runtime.initial_cash": 1e308}), "runtime.initial_cash"),
    (lambda t: _sample_with(t, **{"runtime.replay_start": "0001-01-01"}), "runtime.replay_start"),
    (lambda t: _sample_with(t, **{"runtime.tax": {"substitutes": {"JNJ": "NOPE"}}, "runtime.tax_loss_harvest": True}),
     "runtime.tax.substitutes['JNJ']='NOPE'"),
])
def test_main_when_config_hostile_then_one_line_exit_2_and_nothing_written(tmp_path, capsys, make, fragment):
    # Issue 8's inputs that used to end in a traceback (or trade before failing).
    config = make(tmp_path)
    code = main_module.main(["--once", "--config", str(config), "--data-dir", str(tmp_path / "d")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and fragment in err and "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "d").exists() or not any((tmp_path / "d").iterdir())


def test_main_when_holdings_or_dry_run_without_profile_then_one_line_exit_2_and_nothing_written(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for flags, name in ((["--holdings", "x.json"], "--holdings"), (["--dry-run"], "--dry-run")):
        done = subprocess.run([sys.executable, "main.py", *flags, "--data-dir", str(tmp_path / "d")], cwd=root,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and f"{name} goes with --profile NAME" in done.stderr
        assert done.stderr.count("\n") == 1 and not (tmp_path / "d").exists()


def test_main_when_reader_of_its_output_is_gone_then_quiet_sigpipe_status(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    read, write = os.pipe()
    os.close(read)
    done = subprocess.run([sys.executable, "main.py", "--preview", "--data-dir", str(tmp_path / "d")], cwd=root,
                          stdout=write, stderr=subprocess.PIPE, text=True, timeout=120)
    os.close(write)
    assert done.returncode == 141 and "Broken pipe" not in done.stderr and "Traceback" not in done.stderr
