"""The one interface every broker implements.

The agent and ``PortfolioIntegration`` only ever talk to this interface, so an exchange adapter
(ccxt, a later issue) drops in without touching them. Rules for implementations:

- ``submit_order`` is idempotent by ``client_order_id``: submitting an id the broker has already
  handled returns the earlier report and never trades again. This is what makes a retry or a
  restart safe.
- Venue errors are translated into ``src.errors`` (``OrderRejectedError``,
  ``InsufficientFundsError``, ``BrokerUnavailableError``), raised ``from`` the original.
- Only idempotent calls (reads, and submits with a client order id) may be retried.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Optional

from src.models.execution_models import AccountSnapshot, CashFlow, ExecutionReport
from src.models.trading_models import Order
from src.models.venue_models import VenueRules


class Broker(ABC):
    """Where orders go and where cash and positions come from."""

    name: str = "broker"

    @abstractmethod
    def get_account(self) -> AccountSnapshot:
        """Current cash and positions."""

    @abstractmethod
    def submit_order(self, order: Order) -> ExecutionReport:
        """Send one market order (idempotent by ``order.client_order_id``).

        Returns a report with status filled (or partially filled); a refusal is reported with
        status rejected, never by returning a fake fill.
        """

    @abstractmethod
    def get_order(self, client_order_id: str) -> Optional[ExecutionReport]:
        """The report of an order this broker has handled, or None."""

    @property
    def slippage_reserve_bps(self) -> float:
        """Cash the planner should keep back per unit of buys for slippage, in bps."""
        return 0.0

    def deposit(self, amount: float, *, flow_id: Optional[str] = None) -> bool:
        """Add cash (paper accounts only; a live venue's cash moves outside the agent).

        Idempotent by ``flow_id``: a flow whose id the account already has is not applied again
        (returns False). Without an id every call moves money.
        """
        raise NotImplementedError(f"{self.name} does not support deposits")

    def withdraw(self, amount: float, *, flow_id: Optional[str] = None) -> bool:
        """Remove cash (paper accounts only); idempotent by ``flow_id`` like ``deposit``."""
        raise NotImplementedError(f"{self.name} does not support withdrawals")

    def cash_flows(self) -> list[CashFlow]:
        """Every deposit and withdrawal the account has recorded, oldest first."""
        return []

    def venue_rules(self) -> Optional[VenueRules]:
        """The venue's market rules for the portfolio's units (None: no venue rules apply)."""
        return None

    def resolve_order(self, order: Order) -> ExecutionReport:
        """After a restart, the outcome of ``order`` of a pending event. A simulated venue fills it
        now (at the event's own time, which recovery guarantees); a live one only looks it up."""
        return self.submit_order(order)

    @property
    def live(self) -> bool:
        """Whether orders reach a real venue (recovery then reconciles instead of re-sending)."""
        return False

    def checkpoint(self) -> None:
        """Remember the account at the end of a cycle (live brokers; compared at the next start)."""

    def reconcile(self) -> dict[str, tuple[float, float]]:
        """Balances that changed outside the agent since the last checkpoint: ``{asset: (then, now)}``."""
        return {}
