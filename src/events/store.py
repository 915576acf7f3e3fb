"""One JSON file per rebalancing event, written atomically.

Files are ``rebalance_YYYYMMDD_HHMMSS.json`` after the event's own timestamp; a second event in
the same second gets ``_2``, ``_3``, ... Saving an event again (pending -> complete) rewrites
its own file. Several portfolios may share a folder: each event names its portfolio.
"""

from __future__ import annotations

import logging
from pathlib import Path

from src.models.decision_models import RebalancingEvent
from src.utils.atomic_io import atomic_write_text, read_model

log = logging.getLogger(__name__)

PREFIX = "rebalance_"


class EventStore:
    """Reads and writes event files in one folder.

    Parameters
    ----------
    directory : pathlib.Path
        The folder (created on first write).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._paths: dict[str, Path] = {}
        for path, event in self._scan():
            self._paths[event.event_id] = path

    def _scan(self) -> list[tuple[Path, RebalancingEvent]]:
        if not self.directory.exists():
            return []
        out = []
        for path in sorted(self.directory.glob(f"{PREFIX}*.json")):
            out.append((path, read_model(path, RebalancingEvent, f"event file {path} is not a valid event")))
        return out

    def _new_path(self, event: RebalancingEvent) -> Path:
        stem = f"{PREFIX}{event.timestamp:%Y%m%d_%H%M%S}"
        taken = set(self._paths.values())
        path, n = self.directory / f"{stem}.json", 1
        while path in taken or path.exists():
            n += 1
            path = self.directory / f"{stem}_{n}.json"
        return path

    def save(self, event: RebalancingEvent) -> Path:
        """Write ``event`` (atomically) and return its file."""
        path = self._paths.get(event.event_id) or self._new_path(event)
        atomic_write_text(path, event.model_dump_json(indent=1) + "\n")
        self._paths[event.event_id] = path
        log.info("event %s (%s) written to %s", event.event_id, event.status.value, path.name)
        return path

    def load(self, portfolio_name: str) -> list[RebalancingEvent]:
        """Every event of ``portfolio_name``, oldest first."""
        events = [e for _, e in self._scan() if e.portfolio_name == portfolio_name]
        return sorted(events, key=lambda e: (e.timestamp, self._paths[e.event_id].name))

    def paths(self) -> dict[str, Path]:
        """The file of every event read or written, by event id."""
        return dict(self._paths)

    def path_of(self, event_id: str) -> Path:
        """The file of a saved event."""
        return self._paths[event_id]
