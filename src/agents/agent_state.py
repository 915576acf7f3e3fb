"""The agent's own persistent state: last check and rebalance, memory, and the value history.

Two files, so that a cycle costs the same on day 8,000 as on day 1:

- ``state_<name>.json``: a small snapshot (last check, last rebalance, memory, held-out units,
  ``history_length``), rewritten atomically each cycle;
- ``state_<name>.history.jsonl``: one value point per line, only ever appended (fsynced).

Each cycle appends its point first and writes the snapshot second. A crash between the two
leaves a line the snapshot does not count: ``load`` keeps exactly the first ``history_length``
lines (and drops a partial last line), the unfinished cycle runs again, and the files end as an
uninterrupted run's. Fewer lines than the snapshot counts means the history file was lost or cut:
that is an error naming the file, never a silent reset.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import ValidationError

from src.errors import REPAIR, DataError
from src.models.execution_models import AgentState, ValuePoint
from src.utils.atomic_io import append_lines, atomic_write_text, read_model

log = logging.getLogger(__name__)


class AgentStateStore:
    """Loads and saves one portfolio's ``AgentState`` (snapshot plus append-only history)."""

    def __init__(self, path: Path, portfolio_name: str) -> None:
        self.path = Path(path)
        self.history_path = self.path.with_suffix(".history.jsonl")
        self.portfolio_name = portfolio_name
        self._persisted = 0      # history points known to be in the history file
        self._rewrite = False    # the history file must be rewritten whole once (legacy or cut)

    def load(self) -> AgentState:
        """The saved state, or a fresh one if none exists; a broken or inconsistent file is an error."""
        if not self.path.exists():
            # No snapshot: any history line is from a first cycle that never finished.
            self._persisted, self._rewrite = 0, self.history_path.exists()
            return AgentState(portfolio_name=self.portfolio_name, journal_sequence=0, flows_accounted=0)
        state = read_model(self.path, AgentState, f"agent state file {self.path} is not valid")
        if state.portfolio_name != self.portfolio_name:
            raise DataError(f"agent state file {self.path} belongs to {state.portfolio_name!r}, "
                            f"not {self.portfolio_name!r}")
        if state.history:  # an older state file that kept the history inside: move it out on the next save
            self._persisted, self._rewrite = 0, True
            return state
        history = self._read_history(state.history_length)
        self._persisted = len(history)
        return state.model_copy(update={"history": history})

    def _read_history(self, expected: int) -> list[ValuePoint]:
        if expected == 0:
            if self.history_path.exists() and self.history_path.stat().st_size > 0:
                self._check_one_cycle([ln for ln in self.history_path.read_text(encoding="utf-8").split("\n")
                                       if ln.strip()], expected)
                atomic_write_text(self.history_path, "")
            return []
        if not self.history_path.exists():
            raise DataError(f"history file {self.history_path} is missing but {self.path} counts {expected} "
                            f"point(s): restore it, or rebuild it with "
                            f"{REPAIR.format(dir=self.path.parent)}")
        lines = self.history_path.read_text(encoding="utf-8").split("\n")
        points = []
        for number, line in enumerate(lines[:expected], start=1):
            if not line:
                break  # the file ends here: fewer points than the snapshot counts
            try:
                points.append(ValuePoint.model_validate_json(line))
            except ValidationError as exc:
                raise DataError(f"history file {self.history_path} line {number} is not a valid value point "
                                f"(the state counts {expected})") from exc
        extra = [line for line in lines[expected:] if line.strip()]
        if len(points) < expected:
            raise DataError(f"history file {self.history_path} has {len(points)} point(s) but {self.path} counts "
                            f"{expected}: restore it, or rebuild it with "
                            f"{REPAIR.format(dir=self.path.parent)}")
        if extra:
            self._check_one_cycle(extra, expected)
            # Dropped from the file at once, so the files are an uninterrupted run's even if no
            # further cycle runs (a finished replay started again).
            log.warning("dropping %d history line(s) of a cycle that did not finish", len(extra))
            atomic_write_text(self.history_path, "".join(p.model_dump_json() + "\n" for p in points))
        return points

    def _check_one_cycle(self, extra: list[str], expected: int) -> None:
        """One cycle appends one point: more lines than that past the snapshot's count mean the
        snapshot is older than the history (restored from a backup), not an interrupted cycle. A
        partial line (a cut append) is not a point."""
        if sum(1 for line in extra if _is_point(line)) > 1:
            raise DataError(f"history file {self.history_path} has {expected + len(extra)} point(s) but {self.path} "
                            f"counts {expected}: the state file is older than its history; restore the matching "
                            f"file, or rebuild both with {REPAIR.format(dir=self.path.parent)}")

    def save(self, state: AgentState) -> None:
        """Append the new history points, then write the snapshot atomically."""
        points = state.history
        if self._rewrite:
            atomic_write_text(self.history_path, "".join(p.model_dump_json() + "\n" for p in points))
            self._rewrite = False
        elif len(points) > self._persisted:
            append_lines(self.history_path, [p.model_dump_json() for p in points[self._persisted:]])
        self._persisted = len(points)
        snapshot = state.model_copy(update={"history": [], "history_length": len(points)})
        atomic_write_text(self.path, snapshot.model_dump_json(indent=1) + "\n")


def _is_point(line: str) -> bool:
    try:
        ValuePoint.model_validate_json(line)
    except ValidationError:
        return False
    return True
