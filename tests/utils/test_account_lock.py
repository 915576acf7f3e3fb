"""One process per data directory (src/utils/account_lock.py), with real second processes."""

from __future__ import annotations

import fcntl
import gc
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from src.agents.portfolio_rebalancing_agent import PortfolioRebalancingAgent
from src.errors import AccountLockedError, DataError
from src.market.clock import FixedClock
from src.runtime.replay import run_replay
from src.utils.account_lock import LOCK_NAME, AccountLock
from src.utils.config_files import load_portfolio_file
from tests.conftest import guide_config
from tests.test_main import short_config

ROOT = Path(__file__).resolve().parents[2]

# Takes the lock on argv[1] and keeps it until stdin closes (or the process is killed).
HOLDER = ("import sys; from src.utils.account_lock import AccountLock;"
          "lock = AccountLock(sys.argv[1]).acquire(); print('locked', flush=True); sys.stdin.read()")
# Tries the lock on argv[1] once: exit 0 if it got it, else the error's one line and exit 2.
TRIER = ("import sys; from src.errors import AccountLockedError, one_line_error;"
         "from src.utils.account_lock import AccountLock\n"
         "try:\n    AccountLock(sys.argv[1]).acquire()\n"
         "except AccountLockedError as exc:\n    print(one_line_error(exc), file=sys.stderr); sys.exit(2)\n")
# Imports main, signals ready (argv[1]), waits for the go file (argv[2]), then runs main with the rest.
RACER = ("import sys, time, pathlib, main\n"
         "pathlib.Path(sys.argv[1]).touch()\n"
         "while not pathlib.Path(sys.argv[2]).exists():\n    time.sleep(0.005)\n"
         "sys.exit(main.main(sys.argv[3:]))\n")


def python(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, text=True, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def try_lock(data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", TRIER, str(data_dir)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


def start_holder(data_dir: Path) -> subprocess.Popen:
    proc = python("-c", HOLDER, str(data_dir))
    assert proc.stdout.readline().strip() == "locked", proc.stderr.read()
    return proc


def held(data_dir: Path) -> bool:
    """Whether anyone holds the lock: a second open file description cannot take it then."""
    fd = os.open(data_dir / LOCK_NAME, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also drops the probe's own lock
    return False


def listing(data_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(data_dir.iterdir())}


def json_files(data_dir: Path) -> dict[str, object]:
    return {p.name: json.loads(p.read_text()) for p in sorted(data_dir.glob("*.json"))}


def test_lock_when_another_process_tries_then_exit_2_naming_holder_and_nothing_written(tmp_path):
    data_dir = tmp_path / "d"
    with AccountLock(data_dir):
        assert (data_dir / LOCK_NAME).read_text() == f"{os.getpid()}\n"
        before = listing(data_dir)
        done = try_lock(data_dir)
        assert done.returncode == 2, done.stderr
        assert done.stderr == (f"data directory {data_dir} is in use by process {os.getpid()} (another main.py?); "
                               f"stop it or use another --data-dir\n")
        assert listing(data_dir) == before and held(data_dir)
    assert not held(data_dir) and (data_dir / LOCK_NAME).read_text() == ""  # the pid goes with the lock


def test_main_once_when_data_dir_locked_then_exit_2_one_line_and_nothing_written(tmp_path):
    data_dir = tmp_path / "d"
    config = short_config(tmp_path)
    with AccountLock(data_dir):
        done = subprocess.run([sys.executable, "main.py", "--once", "--config", str(config), "--data-dir",
                               str(data_dir)], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
        assert f"data directory {data_dir} is in use by process {os.getpid()}" in done.stderr
        assert listing(data_dir) == {LOCK_NAME: f"{os.getpid()}\n".encode()}


@pytest.mark.parametrize("end", ["exit", "SIGKILL"])
def test_lock_when_holder_process_ends_then_next_process_gets_it(tmp_path, end):
    data_dir = tmp_path / "d"
    holder = start_holder(data_dir)
    try:
        with pytest.raises(AccountLockedError, match=f"in use by process {holder.pid} ") as refused:
            AccountLock(data_dir).acquire()
        assert refused.value.pid == holder.pid
        if end == "SIGKILL":  # no clean-up runs: the kernel drops the lock with the process
            os.kill(holder.pid, signal.SIGKILL)
        holder.communicate(timeout=30)
    finally:
        holder.kill()
    assert holder.returncode == (-signal.SIGKILL if end == "SIGKILL" else 0)
    assert try_lock(data_dir).returncode == 0
    with AccountLock(data_dir):  # and this process too; its pid replaces a killed holder's
        assert (data_dir / LOCK_NAME).read_text() == f"{os.getpid()}\n"


@pytest.mark.slow
def test_two_replays_when_run_at_once_on_one_dir_then_one_wins_with_uninterrupted_result(tmp_path):
    config = short_config(tmp_path)  # replay_start 2022-06-01: a short replay
    shared, clean = tmp_path / "shared", tmp_path / "clean"
    go = tmp_path / "go"
    racers = [python("-c", RACER, str(tmp_path / f"ready{i}"), str(go), "--replay", "--quiet",
                     "--config", str(config), "--data-dir", str(shared)) for i in range(2)]
    uninterrupted = python("main.py", "--replay", "--quiet", "--config", str(config), "--data-dir", str(clean))
    try:
        deadline = time.monotonic() + 60
        while not all((tmp_path / f"ready{i}").exists() for i in range(2)) and time.monotonic() < deadline:
            time.sleep(0.01)
        go.touch()  # both start the replay together, imports done
        results = [p.communicate(timeout=120) for p in racers]
        _, clean_err = uninterrupted.communicate(timeout=120)
    finally:
        for p in [*racers, uninterrupted]:
            p.kill()
    assert uninterrupted.returncode == 0, clean_err
    codes = sorted(p.returncode for p in racers)
    assert codes == [0, 2], [err for _, err in results]
    winner = next(p for p in racers if p.returncode == 0)
    _, loser_err = results[[p.returncode for p in racers].index(2)]
    assert loser_err.count("\n") == 1 and "Traceback" not in loser_err, loser_err
    assert f"data directory {shared} is in use by process {winner.pid} (another main.py?)" in loser_err
    names = lambda d: sorted(p.name for p in d.iterdir() if p.name != LOCK_NAME)
    assert names(shared) == names(clean)
    assert json_files(shared) == json_files(clean)  # no event twice, no fill lost


def test_lock_when_taken_twice_in_one_process_then_reentrant_until_last_release(tmp_path):
    data_dir = tmp_path / "d"
    (tmp_path / "other").mkdir()
    first = AccountLock(data_dir).acquire()
    second = AccountLock(tmp_path / "other" / ".." / "d").acquire()  # same folder, other spelling
    assert first.acquire() is first and first.held and second.held  # idempotent per object
    first.release()
    first.release()  # no-op
    assert held(data_dir) and try_lock(data_dir).returncode == 2
    second.release()
    assert not held(data_dir) and not second.held and try_lock(data_dir).returncode == 0


def test_lock_when_directory_missing_then_created(tmp_path):
    data_dir = tmp_path / "a" / "b"
    with AccountLock(data_dir) as lock:
        assert data_dir.is_dir() and lock.held and held(data_dir)


def test_lock_when_holder_object_dropped_then_released(tmp_path):
    AccountLock(tmp_path).acquire()  # nobody keeps it: e.g. an agent dropped without close()
    gc.collect()
    assert not held(tmp_path)


def test_lock_when_process_forks_then_child_does_not_hold_it(tmp_path):
    with AccountLock(tmp_path):
        pid = os.fork()
        if pid == 0:  # the child: the parent's hold is not its own
            try:
                AccountLock(tmp_path).acquire()
                code = 0
            except AccountLockedError:
                code = 2
            except BaseException:
                code = 1
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 2
        assert held(tmp_path) and (tmp_path / LOCK_NAME).read_text() == f"{os.getpid()}\n"


def make_agent(data_dir: Path, registry) -> PortfolioRebalancingAgent:
    return PortfolioRebalancingAgent(guide_config(), registry=registry, clock=FixedClock(datetime(2021, 12, 31)),
                                     data_dir=data_dir)


def test_agents_when_two_on_one_dir_in_one_process_then_both_run_and_close_releases(tmp_path, registry):
    first = make_agent(tmp_path, registry)
    assert first.check_and_rebalance() is not None
    with make_agent(tmp_path, registry) as restarted:  # a restart in the same process
        assert len(restarted.rebalancing_history) == 1
        first.close()
        first.close()  # idempotent
        assert held(tmp_path)
    assert not held(tmp_path)


def test_agent_and_replay_when_dir_held_by_other_process_then_error_before_reading_or_cleaning(tmp_path, registry):
    stale = tmp_path / ".state_x.json.abc123.tmp"  # looks like another writer's in-flight file
    stale.write_text("{")
    holder = start_holder(tmp_path)
    try:
        with pytest.raises(AccountLockedError, match=f"process {holder.pid} "):
            make_agent(tmp_path, registry)
        loaded = load_portfolio_file(short_config(tmp_path / "cfg"))
        with pytest.raises(AccountLockedError, match=f"process {holder.pid} "):
            run_replay(loaded.portfolio, loaded.runtime, data_dir=tmp_path, registry=registry)
        assert stale.exists()  # the start-up clean-up did not run
        assert sorted(p.name for p in tmp_path.iterdir()) == [LOCK_NAME, stale.name, "cfg"]
    finally:
        holder.communicate(timeout=30)


def test_agent_when_constructor_fails_then_lock_released(tmp_path, registry):
    (tmp_path / "state_my_balanced_portfolio.json").write_text("not json")
    with pytest.raises(DataError):
        make_agent(tmp_path, registry)
    assert not held(tmp_path)
