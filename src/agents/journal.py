"""The journal and the files derived from it must agree; what an interrupted run left to finish.

The journal is the portfolio's event files (``rebalance_*.json``), numbered 1, 2, 3, ... by
``RebalancingEvent.sequence``. The agent state counts the events it accounts for
(``AgentState.journal_sequence``), and every order the paper account has handled must be in the
journal (orders are journaled before they are sent). At start-up:

- a gap or a wrong number in the journal is an event file lost or copied in;
- a state counting more events than the journal has means event files were deleted;
- events after the state's count are the interrupted last cycle's (they share one timestamp):
  recovery finishes that cycle; events of more than one cycle mean the state file is older than
  the journal (restored from a backup, or lost) and ``python main.py --repair`` rebuilds it;
- an account order the journal does not know, or a journaled fill the account does not know,
  means the account file and the journal come from different runs.

Each is one line naming the file and what to do; nothing is written first.
"""

from __future__ import annotations

from pathlib import Path

from src.errors import REPAIR, DataError
from src.events.record import FILLED
from src.models.decision_models import RebalancingEvent
from src.models.execution_models import AgentState, ExecutionReport

def check_sequence(events: list[RebalancingEvent], paths: dict[str, Path], data_dir: Path) -> None:
    """Every numbered event is at its own position in the journal (oldest first)."""
    for position, event in enumerate(events, start=1):
        if event.sequence and event.sequence != position:
            raise DataError(
                f"event file {paths[event.event_id]} is number {event.sequence} of {event.portfolio_name!r}'s journal "
                f"but comes {position}{_suffix(position)} in {data_dir}: an event file is missing or was copied in; "
                f"restore the event files from a backup")


def unfinished_cycle(events: list[RebalancingEvent], state: AgentState, state_path: Path,
                     data_dir: Path) -> list[RebalancingEvent]:
    """The events of the interrupted last cycle (empty if the state accounts for all of them).

    Raises
    ------
    DataError
        If the state and the journal do not fit together (see the module docstring).
    """
    if state.journal_sequence is None:  # a state written before sequences existed: by time, as it was
        return [e for e in events
                if e.execution == "pending" or state.last_check_at is None or e.timestamp > state.last_check_at]
    counted = state.journal_sequence
    if counted > len(events):
        raise DataError(
            f"agent state file {state_path} accounts for {counted} event(s) but the journal in {data_dir} has "
            f"{len(events)}: event files were deleted; restore them from a backup")
    stuck = [e for e in events[:counted] if e.execution == "pending"]
    if stuck:
        raise DataError(
            f"event {stuck[0].event_id} is still pending but agent state file {state_path} counts it as done: "
            f"the files come from different runs; rebuild the state with {REPAIR.format(dir=data_dir)}")
    later = events[counted:]
    if len({e.timestamp for e in later}) > 1 and not state_path.exists():
        raise DataError(
            f"agent state file {state_path} is missing but the journal in {data_dir} has {len(events)} events "
            f"({later[0].timestamp.date()} .. {later[-1].timestamp.date()}): rebuild it with "
            f"{REPAIR.format(dir=data_dir)}")
    if len({e.timestamp for e in later}) > 1:
        raise DataError(
            f"agent state file {state_path} accounts for {counted} of the journal's {len(events)} events; those of "
            f"{later[0].timestamp.date()} .. {later[-1].timestamp.date()} are not in it (the state file is older than "
            f"the journal, or was lost): rebuild it with {REPAIR.format(dir=data_dir)}")
    return later


def check_account(events: list[RebalancingEvent], account_path: Path, account_exists: bool,
                  reports: dict[str, ExecutionReport], data_dir: Path) -> None:
    """The paper account and the journal record the same orders.

    Every journaled fill must be in the account (an account file older than the journal would
    silently forget trades), and every order the account handled must be in the journal (a newer
    account, or a deleted event file).
    """
    filled = [(e, o) for e in events if e.execution == "complete" for o in e.orders if o.status in FILLED]
    fix = f"restore the matching file from a backup, or rebuild it with {REPAIR.format(dir=data_dir)}"
    if not account_exists:
        if filled:
            raise DataError(f"paper account file {account_path} is missing but {data_dir} has {len(filled)} filled "
                            f"order(s) in its events: {fix}")
        return
    for event, order in filled:
        if order.client_order_id not in reports:
            raise DataError(
                f"paper account file {account_path} does not know order {order.client_order_id} ({order.side.value} "
                f"{order.unit}) filled in event {event.event_id} of {event.timestamp.date()}: the account and the "
                f"events disagree; {fix}")
    journaled = {o.client_order_id for e in events for o in e.orders}
    unknown = [r for r in reports.values() if r.client_order_id not in journaled]
    if unknown:
        first = unknown[0]
        raise DataError(
            f"paper account file {account_path} has {len(unknown)} order(s) no event in {data_dir} records (first: "
            f"{first.client_order_id}, {first.side.value} {first.unit} on {first.timestamp.date()}): an event file "
            f"was deleted or the account comes from another run; restore the event files from a backup")


def _suffix(n: int) -> str:
    return "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")

