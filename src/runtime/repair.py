"""Rebuild a portfolio's derived files from its journal (``python main.py --repair``).

The journal (the numbered ``rebalance_*.json`` events) is the record; the agent state, its value
history, the paper account with its order archive and the tax book are derived from it and from
the real prices. When one of them is lost or older than the journal, start-up refuses to run
(``src/agents/journal.py``) and points here.

The rebuild re-runs the replay of the same configuration, in a temporary folder, up to the
journal's last completed cycle, and accepts the result only if the re-run writes exactly the
journal's events (the pipeline is pure and the prices are fixed, so it does, unless the
configuration, the data or the code changed). Then the derived files replace the data
directory's, each atomically. Event files are not changed, except the events of a cycle an
interrupted run left pending: the re-run completes that cycle at its own day, exactly as start-up
recovery would (the pending entries must match the re-run's plan), and its events replace them.

This rebuilds what a ``--replay`` run wrote. A directory written by ``--once`` or the loop at
the wall clock's day is refused (its events differ from a replay's): restore its files from a
backup.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import date
from pathlib import Path
from typing import Optional

from pydantic import Field

from src.agents.journal import check_sequence
from src.agents.strategy_registry_agent import StrategyRegistryAgent
from src.errors import ConfigError, DataError
from src.events.record import redacted
from src.events.store import EventStore
from src.models.base import StrictModel
from src.models.decision_models import RebalancingEvent
from src.models.execution_models import RuntimeSettings
from src.models.portfolio_models import PortfolioConfig
from src.runtime.replay import run_replay
from src.utils.account_lock import AccountLock
from src.utils.atomic_io import atomic_write_bytes
from src.utils.paths import slug

log = logging.getLogger(__name__)


class RepairReport(StrictModel):
    """What ``repair`` checked and rebuilt."""

    events_checked: int = Field(description="Journal events found equal to the re-run's.")
    rebuilt_through: date = Field(description="Last day of the re-run (the journal's last completed cycle).")
    files_written: list[str] = Field(description="Derived files written into the data directory.")
    files_removed: list[str] = Field(description="Derived files removed (the re-run has no such file).")
    pending_completed: int = Field(description="Events an interrupted last cycle left pending, completed by the "
                                             "re-run at their own day (as start-up would have).")


def derived_files(folder: Path, portfolio_name: str) -> list[Path]:
    """The files of ``portfolio_name`` in ``folder`` that are derived from the journal."""
    name = slug(portfolio_name)
    patterns = (f"state_{name}.json", f"state_{name}.history.jsonl", f"paper_{name}.json",
                f"paper_{name}.reports.jsonl", f"tax_{name}.json")
    return [folder / p for p in patterns if (folder / p).exists()]


def repair(config: PortfolioConfig, settings: RuntimeSettings, *, data_dir: Path,
           registry: Optional[StrategyRegistryAgent] = None) -> RepairReport:
    """Rebuild the derived files of ``config``'s portfolio in ``data_dir`` from its journal.

    Raises
    ------
    ConfigError
        If there is nothing to rebuild, or the journal was written with another configuration.
    DataError
        If the journal has a gap, or a re-run does not write the journal's events (the first
        difference is named).
    AccountLockedError
        If another process holds ``data_dir``.
    """
    data_dir = Path(data_dir)
    with AccountLock(data_dir):
        store = EventStore(data_dir)
        journal = store.load(config.name)
        if not journal:
            raise ConfigError(f"no events of {config.name!r} in {data_dir}: nothing to rebuild from")
        check_sequence(journal, store.paths(), data_dir)
        _check_same_config(journal, config, store)
        last = journal[-1].timestamp
        pending = [e for e in journal if e.timestamp == last] if any(
            e.execution == "pending" for e in journal if e.timestamp == last) else []
        # Through the last cycle, including the last repeat folded into a blocked event.
        end = max([e.timestamp for e in journal] + [e.last_repeated_at for e in journal if e.last_repeated_at]).date()
        with tempfile.TemporaryDirectory(prefix="rebalancer-repair-") as tmp:
            rerun_dir = Path(tmp)
            # Flows after the re-run's end belong to days the resumed replay will run.
            upto = settings.model_copy(update={"replay_end": end,
                                               "cash_flows": [f for f in settings.cash_flows if f.date <= end]})
            run_replay(config, upto, data_dir=rerun_dir, registry=registry)
            rerun = EventStore(rerun_dir).load(config.name)
            _check_same_events(journal, rerun, store)
            rebuilt = {p.name: p for p in derived_files(rerun_dir, config.name)}
            written, removed = [], []
            for name, path in rebuilt.items():
                atomic_write_bytes(data_dir / name, path.read_bytes())
                written.append(name)
            # The interrupted cycle, completed by the re-run at its own day as start-up would.
            for kept, again in zip(journal, rerun):
                if kept.execution == "pending":
                    atomic_write_bytes(store.path_of(kept.event_id), (again.model_dump_json(indent=1) + "\n").encode())
                    written.append(store.path_of(kept.event_id).name)
            for path in derived_files(data_dir, config.name):
                if path.name not in rebuilt:
                    path.unlink()
                    removed.append(path.name)
    log.info("rebuilt %s from %d journal events through %s", written, len(journal), end)
    return RepairReport(events_checked=len(journal), rebuilt_through=end, files_written=written,
                        files_removed=removed, pending_completed=sum(e.execution == "pending" for e in pending))


def _check_same_config(journal: list[RebalancingEvent], config: PortfolioConfig, store: EventStore) -> None:
    expected = redacted(config.model_dump(mode="json"))
    for event in journal:
        if event.config != expected:
            changed = sorted(k for k in {*expected, *event.config} if expected.get(k) != event.config.get(k))
            raise ConfigError(
                f"event file {store.path_of(event.event_id)} was written with another configuration (differs in "
                f"{', '.join(changed)}): repair with the portfolio file that wrote the journal")


# Set when a pending event is completed: a pending journal entry is compared without them.
_COMPLETION = {"execution", "value_after", "cash_after", "fees", "tax"}


def _comparable(event: RebalancingEvent, pending: bool) -> dict:
    payload = event.model_dump(mode="json")
    if pending:
        payload = {k: v for k, v in payload.items() if k not in _COMPLETION}
        payload["orders"] = [(o["client_order_id"], o["unit"], o["side"], o["quantity"]) for o in payload["orders"]]
    return payload


def _check_same_events(journal: list[RebalancingEvent], rerun: list[RebalancingEvent], store: EventStore) -> None:
    for kept, again in zip(journal, rerun):
        pending = kept.execution == "pending"
        kept_d, again_d = _comparable(kept, pending), _comparable(again, pending)
        if kept_d != again_d:
            fields = sorted(k for k in kept_d if kept_d[k] != again_d.get(k))
            raise DataError(
                f"event file {store.path_of(kept.event_id)} ({kept.timestamp.date()}) differs from a re-run of the "
                f"replay in {', '.join(fields)}: the data, the code or runtime settings changed since it was written "
                f"(or it is not a --replay journal); restore the derived files from a backup")
    if len(rerun) != len(journal):
        extra = rerun[len(journal)] if len(rerun) > len(journal) else journal[len(rerun)]
        raise DataError(
            f"a re-run of the replay writes {len(rerun)} event(s) where the journal has {len(journal)} (first "
            f"unmatched: {extra.timestamp.date()} {extra.status.value}): the data, the code or runtime settings "
            f"changed since the journal was written (or it is not a --replay journal); restore from a backup")
