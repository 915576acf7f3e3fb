"""The agent's own persistent state: last check and rebalance, value and weight history."""

from __future__ import annotations

from pathlib import Path

from src.errors import DataError
from src.models.execution_models import AgentState
from src.utils.atomic_io import atomic_write_text, read_model


class AgentStateStore:
    """Loads and atomically saves one portfolio's ``AgentState``."""

    def __init__(self, path: Path, portfolio_name: str) -> None:
        self.path = Path(path)
        self.portfolio_name = portfolio_name

    def load(self) -> AgentState:
        """The saved state, or a fresh one if none exists; a broken file is an error."""
        if not self.path.exists():
            return AgentState(portfolio_name=self.portfolio_name)
        state = read_model(self.path, AgentState, f"agent state file {self.path} is not valid")
        if state.portfolio_name != self.portfolio_name:
            raise DataError(f"agent state file {self.path} belongs to {state.portfolio_name!r}, "
                            f"not {self.portfolio_name!r}")
        return state

    def save(self, state: AgentState) -> None:
        """Write ``state`` atomically."""
        atomic_write_text(self.path, state.model_dump_json(indent=1) + "\n")
