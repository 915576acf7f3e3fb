"""``kit serve`` (src/cli/serve_cmd.py): the installed command in a subprocess, talked to with httpx;
its refusals to start (no token, a short token, a broken portfolio file) in one line with exit 2."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from src.cli.serve_cmd import is_loopback

ROOT = Path(__file__).resolve().parents[2]
KIT = Path(sys.executable).parent / "kit"
SAMPLE = ROOT / "src/data/portfolios/sample_portfolio.json"
TOKEN = "serve-test-token-0123456789"

pytestmark = pytest.mark.skipif(not KIT.exists(), reason="kit is installed by the Makefile's set-up (pip install -e .)")


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KIT_API_TOKEN"}
    return env | values


def _refused(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(KIT), "serve", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_serve_when_started_then_answers_over_http_and_stops_cleanly_on_sigterm(tmp_path):
    data = tmp_path / "data"
    server = subprocess.Popen([str(KIT), "serve", "--config", str(SAMPLE), "--data-dir", str(data), "--port", "0"],
                              cwd=ROOT, env=_env(KIT_API_TOKEN=TOKEN), stderr=subprocess.PIPE, text=True)
    try:
        url, seen, deadline = None, [], time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = server.stderr.readline()
            seen.append(line)
            found = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", line)
            url = found.group(1) if found else None
        assert url, "".join(seen)
        with httpx.Client(base_url=url, timeout=60) as client:
            assert client.get("/api/rebalance/status").status_code == 401
            auth = {"Authorization": f"Bearer {TOKEN}"}
            plan = client.get("/api/rebalance/preview", headers=auth).json()
            done = client.post("/api/rebalance/execute", json={"plan_id": plan["plan_id"]}, headers=auth).json()
            again = client.post("/api/rebalance/execute", json={"plan_id": plan["plan_id"]}, headers=auth).json()
            assert done["executed"] and again["already_executed"] and again["event"] == done["event"]
            assert client.get("/docs").status_code == 200
        assert len(list(data.glob("rebalance_*.json"))) == 1
    finally:
        server.send_signal(signal.SIGTERM)
        _, rest = server.communicate(timeout=60)
    # uvicorn shuts down gracefully, then re-raises the signal it caught: the exit status is SIGTERM's
    assert server.returncode in (0, -signal.SIGTERM) and "Finished server process" in rest
    assert "Traceback" not in "".join(seen) + rest and TOKEN not in "".join(seen) + rest


@pytest.mark.parametrize("env, args, expected", [
    (_env(), [], "KIT_API_TOKEN is not set"),
    (_env(KIT_API_TOKEN="short"), [], "KIT_API_TOKEN holds 5 character(s)"),
    (_env(MY_TOKEN=TOKEN), ["--token-env", "MY_TOKEN", "--config", "missing.json"], "missing.json does not exist"),
])
def test_serve_when_token_or_config_unusable_then_one_line_exit_2(tmp_path, env, args, expected):
    out = _refused("--data-dir", str(tmp_path), *args, env=env)
    assert out.returncode == 2 and expected in out.stderr and out.stderr.count("\n") == 1, out.stderr
    assert "Traceback" not in out.stderr
    assert all(secret not in out.stderr for secret in (env.get("KIT_API_TOKEN"), env.get("MY_TOKEN")) if secret)


def test_serve_when_broken_yaml_config_then_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("portfolio:\n  name: x\n  target_allocations: [1, 2\n")
    out = _refused("--config", str(bad), "--data-dir", str(tmp_path), env=_env(KIT_API_TOKEN=TOKEN))
    assert out.returncode == 2 and "not valid YAML" in out.stderr and out.stderr.count("\n") == 1


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("127.8.0.1", True), ("::1", True), ("[::1]", True),
                                            ("localhost", True), ("0.0.0.0", False), ("::", False),
                                            ("192.168.1.5", False), ("example.org", False)])
def test_is_loopback_when_host_then_only_loopback_addresses(host, loopback):
    assert is_loopback(host) is loopback


def test_serve_when_host_not_loopback_then_one_line_warning_before_serving(monkeypatch, tmp_path):
    import uvicorn
    from click.testing import CliRunner

    from src.cli.serve_cmd import serve

    served = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: served.append(self.config.host))
    monkeypatch.setenv("KIT_API_TOKEN", TOKEN)
    out = CliRunner().invoke(serve, ["--host", "0.0.0.0", "--data-dir", str(tmp_path)])
    warnings = [line for line in out.stderr.splitlines() if line.startswith("warning:")]
    assert served == ["0.0.0.0"] and len(warnings) == 1 and "not loopback" in warnings[0]
    assert not [line for line in CliRunner().invoke(serve, ["--data-dir", str(tmp_path)]).stderr.splitlines()
                if line.startswith("warning:")]
