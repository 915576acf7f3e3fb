"""Real processes killed with SIGKILL during ``main.py --replay``, then rerun, leave exactly the files of an
uninterrupted run in another directory (issue 8).

Three scenarios besides the sample portfolio, each written to a portfolio file and run by
``main.py --replay --config FILE --data-dir DIR`` in a child process:

- ``harvest``: trades, harvests tax losses in the 2020 crash and swaps back (the scenario of
  ``tests/runtime/test_crash_points.py``);
- ``blocked``: the sample portfolio with ``portfolio_limit_action: block``, so blocked verdicts are
  written and folded (its ``_blocked_scenario``);
- ``engine_failure``: the custom engine of ``tests/runtime/test_crash_points_engine_failure.py``,
  which fails on every Monday and Tuesday of March 2020 (a portfolio file cannot name a custom
  engine, so the child installs it before calling ``main.main``; see :func:`child_main`).

Kills at chosen writes: the child counts the writes (the atomic file writes and the history and
report appends, as ``Writes`` does in process) and sends itself SIGKILL at the k-th one, either
mid-write (``torn``: an atomic write's temporary file fsynced but not renamed; an append cut in
the middle of its bytes) or just after it completed (``after``). The k are semantic (a history
append, an event write, a report append) or drawn with a fixed seed. Kills at a moment: the parent
kills a plain run once it has written k event files. Every data file is compared byte for byte
(events, state, history jsonl, paper account, reports jsonl, tax book, dashboard PNG; the lock
file aside), and no temporary file may be left.

Two processes on one directory: after a SIGKILL that left a harvest pending, two ``main.py
--replay`` started at the same moment on that directory: one recovers and finishes, the other
exits 2 with one line naming the winner's pid, and the files equal the uninterrupted run (the
race on a fresh directory is ``tests/utils/test_account_lock.py``'s, which compares the json files).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import src.agents.agent_state as agent_state
import src.brokers.paper as paper
import src.utils.atomic_io as atomic_io
from src.engines.factory import unregister_engine
from src.runtime.replay import run_replay
from src.utils.account_lock import LOCK_NAME
from src.utils.config_files import PortfolioFile, save_portfolio_file
from tests.runtime import test_crash_points, test_crash_points_engine_failure as engine_failure
from tests.runtime.test_crash_points_engine_failure import RecordedWrites, use_flaky_engine
from tests.utils.test_account_lock import RACER

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120

# Runs main.main(argv[2:]) after child_main has installed what the JSON spec argv[1] asks for.
CHILD = "import sys\nfrom tests.runtime.test_sigkill import child_main\nsys.exit(child_main(sys.argv[1:]))\n"


def scenario(name: str):
    """(portfolio, runtime, custom engine?) of a scenario."""
    if name == "harvest":
        return test_crash_points.CONFIG, test_crash_points.SETTINGS, False
    if name == "blocked":
        return (*test_crash_points._blocked_scenario(), False)
    return engine_failure.CONFIG, engine_failure.SETTINGS, True


# --- the child ------------------------------------------------------------------------------------


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def install_killer(mp: pytest.MonkeyPatch, kill_at: int, phase: str) -> None:
    """SIGKILL this process at the ``kill_at``-th write (counted like ``Writes``): ``torn`` in the
    middle of it, ``after`` once it is complete."""
    count = 0
    write, append = atomic_io.atomic_write_bytes, atomic_io.append_lines

    def tear_atomic_write() -> None:  # the temporary file is written and fsynced; the rename kills
        mp.setattr(os, "replace", lambda *args, **kwargs: _die())

    def tear_append() -> None:  # half of the bytes reach the file, then the process dies
        real_write = os.write

        def half(fd, data):
            real_write(fd, data[: max(1, len(data) // 2)])
            _die()

        mp.setattr(os, "write", half)

    def point(real, tear):
        def wrapper(*args, **kwargs):
            nonlocal count
            count += 1
            if count != kill_at:
                return real(*args, **kwargs)
            if phase == "torn":
                tear()
            real(*args, **kwargs)
            _die()
        return wrapper

    mp.setattr(atomic_io, "atomic_write_bytes", point(write, tear_atomic_write))
    counted_append = point(append, tear_append)
    mp.setattr(agent_state, "append_lines", counted_append)
    mp.setattr(paper, "append_lines", counted_append)


def child_main(argv: list[str]) -> int:
    """``argv``: a JSON spec ``{"flaky": bool, "kill_at": int | null, "phase": str}``, then main's arguments."""
    spec = json.loads(argv[0])
    import main
    import src.dashboard.charts  # noqa: F401  (binds the real atomic_write_bytes: the PNG is not a counted write)

    mp = pytest.MonkeyPatch()
    if spec.get("flaky"):
        use_flaky_engine(mp)
    if spec.get("kill_at"):
        install_killer(mp, spec["kill_at"], spec["phase"])
    return main.main(argv[1:])


# --- the parent -----------------------------------------------------------------------------------


def start(config: Path, data_dir: Path, *, flaky: bool, kill_at: int | None = None, phase: str = "") -> subprocess.Popen:
    args = ["--replay", "--quiet", "--config", str(config), "--data-dir", str(data_dir)]
    if flaky or kill_at:
        cmd = ["-c", CHILD, json.dumps({"flaky": flaky, "kill_at": kill_at, "phase": phase}), *args]
    else:
        cmd = ["main.py", *args]  # the plain command line
    return subprocess.Popen([sys.executable, *cmd], cwd=ROOT, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=TIMEOUT)
    finally:
        proc.kill()
    return proc.returncode, err


def run(config: Path, data_dir: Path, **kw) -> None:
    code, err = finish(start(config, data_dir, **kw))
    assert code == 0, err


def data_files(folder: Path) -> dict[str, bytes]:
    """Every file of a data directory but the lock (temporary files included: none may be left)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != LOCK_NAME}


def assert_same_files(got: Path, expected: dict[str, bytes], context: str) -> None:
    files = data_files(got)
    assert sorted(files) == sorted(expected), context
    differing = [name for name in expected if files[name] != expected[name]]
    assert not differing, f"{context}: {differing} differ from the uninterrupted run"


class Scenario:
    """A scenario's portfolio file, its uninterrupted run's files, and its writes (counted in process)."""

    def __init__(self, name: str, folder: Path) -> None:
        self.name = name
        portfolio, runtime, self.flaky = scenario(name)
        self.config = save_portfolio_file(folder / f"{name}.json", PortfolioFile(portfolio=portfolio, runtime=runtime))
        run(self.config, folder / "uninterrupted", flaky=self.flaky)
        self.expected = data_files(folder / "uninterrupted")
        with pytest.MonkeyPatch.context() as mp:
            if self.flaky:
                use_flaky_engine(mp)
            self.writes = RecordedWrites(mp)
            run_replay(portfolio, runtime, data_dir=folder / "counted")
        assert data_files(folder / "counted").keys() - self.expected.keys() == set()

    def nth(self, kind: str, which: float) -> int:
        """The write number of the ``kind`` write at fraction ``which`` of those writes."""
        def matches(entry):
            name, status, execution = entry
            if kind == "history_append":
                return name.endswith(".history.jsonl")
            if kind == "report_append":
                return name.endswith(".reports.jsonl")
            if kind == "event":  # an event before its orders are sent, or a verdict without orders
                return name.startswith("rebalance_") and (execution == "pending"
                                                          or status in ("blocked", "engine_failed"))
            raise ValueError(kind)

        if kind == "harvest_after_trade":
            windows = self.writes.harvest_after_trade_windows()
            assert windows, f"{self.name} never harvests on a day that traded"
            return windows[0][0]
        points = [k for k, entry in enumerate(self.writes.log, 1) if matches(entry)]
        assert points, f"{self.name} has no {kind} write"
        return points[int(which * (len(points) - 1))]


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory):
    made: dict[str, Scenario] = {}

    def get(name: str) -> Scenario:
        if name not in made:
            made[name] = Scenario(name, tmp_path_factory.mktemp(f"sigkill_{name}"))
        return made[name]
    yield get
    unregister_engine(engine_failure.FLAKY)  # registered in this process by the counted run


# (kind of write, where among those writes, phase): the history append, the event (pending orders
# or harvest, or a blocked/failed verdict, first write or fold) and the report append are torn
# mid-write; the seeded one is a write drawn with a fixed seed, killed just after it.
POINTS = [("history_append", 0.5, "torn"), ("event", 0.5, "torn"), ("report_append", 0.3, "torn"),
          ("seeded", 0, "after")]
CASES = [(name, *point) for name in ("harvest", "blocked", "engine_failure") for point in POINTS
         if not (name != "harvest" and point[0] == "report_append")]
# The first write completing a harvest on a day that also traded (two unfinished events of one cycle;
# the regression of tests/runtime/test_crash_points_engine_failure.py, with a real kill).
CASES.append(("engine_failure", "harvest_after_trade", 0, "torn"))


@pytest.mark.slow
@pytest.mark.parametrize("name, kind, which, phase", CASES, ids=[f"{c[0]}-{c[1]}-{c[3]}" for c in CASES])
def test_replay_when_sigkilled_at_a_write_and_rerun_then_files_equal_uninterrupted(tmp_path, scenarios,
                                                                                   name, kind, which, phase):
    sc = scenarios(name)
    if kind == "seeded":
        kill_at = random.Random(f"sigkill-{name}").randint(1, sc.writes.count)
    else:
        kill_at = sc.nth(kind, which)
    data_dir = tmp_path / "d"
    code, err = finish(start(sc.config, data_dir, flaky=sc.flaky, kill_at=kill_at, phase=phase))
    assert code == -signal.SIGKILL, f"the child was not killed at write {kill_at} of {sc.writes.count}: {err}"
    if phase == "torn" and kind.endswith("_append"):
        torn = next(data_dir.glob("*.history.jsonl" if kind == "history_append" else "*.reports.jsonl"))
        assert not torn.read_bytes().endswith(b"\n"), "a torn append leaves a cut last line"
    elif phase == "torn":
        assert any(p.name.endswith(".tmp") for p in data_dir.iterdir()), "a torn atomic write leaves its temp file"
    run(sc.config, data_dir, flaky=sc.flaky)  # rerun: recovery, then the rest of the replay
    assert_same_files(data_dir, sc.expected, f"{name}: SIGKILL {phase} write {kill_at} of {sc.writes.count}")


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_replay_when_sigkilled_after_k_event_files_and_rerun_then_files_equal_uninterrupted(tmp_path, scenarios, seed):
    # A kill at whatever instruction the child is running when the k-th event file appears (k from
    # the 9th file, the days of engine failures, to well before the end so the kill lands in time).
    sc = scenarios("engine_failure")
    events = sum(1 for n in sc.expected if n.startswith("rebalance_"))
    k = random.Random(seed).randint(9, events - 6)
    data_dir = tmp_path / "d"
    proc = start(sc.config, data_dir, flaky=True)
    try:
        deadline = time.monotonic() + TIMEOUT
        while proc.poll() is None and time.monotonic() < deadline:
            if data_dir.is_dir() and sum(1 for _ in data_dir.glob("rebalance_*.json")) >= k:
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.001)
        code, err = finish(proc)
    finally:
        proc.kill()
    assert code == -signal.SIGKILL, f"the replay ended before its {k}th event file: {err}"
    run(sc.config, data_dir, flaky=True)
    assert_same_files(data_dir, sc.expected, f"SIGKILL after {k} event files")


@pytest.mark.slow
def test_two_replays_when_started_at_once_on_a_killed_runs_dir_then_one_recovers_other_exits_2_naming_it(
        tmp_path, scenarios):
    sc = scenarios("harvest")
    harvest = next(k for k, (_, status, execution) in enumerate(sc.writes.log, 1)
                   if status == "harvest" and execution == "pending")
    shared = tmp_path / "shared"
    code, err = finish(start(sc.config, shared, flaky=False, kill_at=harvest, phase="after"))
    assert code == -signal.SIGKILL, err
    pending = [p for p in shared.glob("rebalance_*.json") if json.loads(p.read_text())["execution"] == "pending"]
    assert pending, "the killed run must leave a harvest pending"

    go = tmp_path / "go"
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(tmp_path / f"ready{i}"), str(go), "--replay",
                                "--quiet", "--config", str(sc.config), "--data-dir", str(shared)],
                               cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in range(2)]
    try:
        deadline = time.monotonic() + TIMEOUT
        while not all((tmp_path / f"ready{i}").exists() for i in range(2)) and time.monotonic() < deadline:
            time.sleep(0.01)
        go.touch()  # both start together, imports done
        results = [finish(p) for p in racers]
    finally:
        for p in racers:
            p.kill()
    codes = [code for code, _ in results]
    assert sorted(codes) == [0, 2], [err for _, err in results]
    winner = racers[codes.index(0)]
    assert "left pending by an interrupted run" in results[codes.index(0)][1], "the winner recovers the harvest"
    loser_err = results[codes.index(2)][1]
    assert loser_err.count("\n") == 1 and "Traceback" not in loser_err, loser_err
    assert f"data directory {shared} is in use by process {winner.pid} (another main.py?)" in loser_err
    assert_same_files(shared, sc.expected, "after the race on the killed run's directory")
