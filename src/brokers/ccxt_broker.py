"""Live execution on an exchange through ccxt's unified API, behind the ``Broker`` interface.

Idempotency never relies on the exchange refusing a repeated id (Binance, for one, accepts a
client order id again once the earlier order is filled):

1. Before an order is sent, its intent (client order id, symbol, amount) is written to
   ``live_<name>.json`` (atomically). An id recorded as handled is answered from the record.
2. An id recorded as sent, or any order of a pending event after a restart, is first looked up
   on the exchange by client order id (``fetch_order`` with ``clientOrderId``; where the exchange
   cannot, its open and recent orders). Found: followed, never sent again.
3. After an ambiguous failure (timeout, 5xx: the request may have left and been booked) the order
   is looked up before any resend; a refused request (HTTP 429, rate limit) is resent after a
   backoff; ``InsufficientFunds`` / ``InvalidOrder`` are recorded on the order, never retried.
4. An accepted order is followed until filled, cancelled or ``fill_timeout_seconds``; then the
   remainder is cancelled and the report says what filled.

Orders are market orders (a rebalancer trades to targets now; the venue's amount step, minimum
amount and minimum cost are applied before sending, ``src/orders/venue.py``).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Callable, Literal, Mapping, Optional

import ccxt
from pydantic import Field

from src.brokers.base import Broker
from src.brokers.ccxt_client import ExchangeCalls, make_exchange
from src.brokers.markets import rules_for_units, unit_base, unit_symbol
from src.errors import (
    BrokerError,
    BrokerUnavailableError,
    ConfigError,
    InsufficientFundsError,
    OrderRejectedError,
)
from src.market.clock import Clock
from src.models.base import StrictModel
from src.models.execution_models import AccountSnapshot, ExchangeSettings, ExecutionReport
from src.models.trading_models import Order, OrderSide, OrderStatus
from src.models.venue_models import VenueRules
from src.orders.venue import round_amount, venue_problem
from src.utils.atomic_io import atomic_write_text, read_model

log = logging.getLogger(__name__)


class LiveOrderRecord(StrictModel):
    """What this account knows about one client order id."""

    client_order_id: str = Field(description="The deterministic id, sent to the exchange as its client order id.")
    symbol: str = Field(description="Exchange symbol.")
    stage: Literal["sending", "done"] = Field(description="'sending' from before the request until the outcome "
                                                          "is known; 'done' after.")
    exchange_order_id: Optional[str] = Field(None, description="The exchange's own order id, once known.")
    report: Optional[ExecutionReport] = Field(None, description="The outcome, once done.")


class LiveAccountState(StrictModel):
    """``live_<name>.json``: the orders handled and the balances seen at the last checkpoint."""

    orders: dict[str, LiveOrderRecord] = Field(default_factory=dict, description="By client order id.")
    balances: Optional[dict[str, float]] = Field(None, description="Total balances (quote and units' assets) at "
                                                                   "the last completed cycle.")


class CcxtBroker(Broker):
    """An exchange account, traded through ccxt.

    Parameters
    ----------
    settings : ExchangeSettings
        The exchange block (id, quote, key variables, urls, timeouts).
    units : list of str
        The portfolio's units (``"BTC"`` or ``"BTC/USDT"``); each must be a market of the exchange.
    state_path : pathlib.Path
        The local order record (``live_<name>.json``).
    clock : Clock
        Report timestamps.
    env : mapping, optional
        Where the keys are read (default ``os.environ``).
    exchange, keys : optional
        An already built exchange and its credentials (scrubbed from messages); by default both
        come from ``settings`` and the environment.
    sleep : callable
        Waits (backoff, polling); injected in tests.
    """

    name = "ccxt"

    def __init__(self, *, settings: ExchangeSettings, units: list[str], state_path: Path, clock: Clock,
                 env: Optional[Mapping[str, str]] = None, exchange: Any = None,
                 keys: Optional[Mapping[str, str]] = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.units = list(units)
        self.quote = settings.quote
        self.clock = clock
        self.sleep = sleep
        if exchange is None:
            exchange, keys = make_exchange(settings, env=env)
        self.calls = ExchangeCalls(exchange, keys or {}, retries=settings.retries, sleep=sleep)
        self.exchange = exchange
        markets = self.calls.read("load_markets", exchange.load_markets)
        self.rules: VenueRules = rules_for_units(markets, exchange.precisionMode, self.units, venue=settings.id,
                                                 quote=self.quote, source=f"live load_markets of {settings.id}")
        if self.rules.missing:
            raise ConfigError(f"target_allocations: {self.rules.missing} have no {self.quote} market on {settings.id}")
        self.symbols = {u: unit_symbol(u, self.quote) for u in self.units}
        self.state_path = Path(state_path)
        self.state = (read_model(self.state_path, LiveAccountState, f"live order record {self.state_path} is not valid")
                      if self.state_path.exists() else LiveAccountState())

    # --- reads ------------------------------------------------------------------------------

    def _balances(self) -> dict:
        return self.calls.read("fetch_balance", self.exchange.fetch_balance)

    def get_account(self) -> AccountSnapshot:
        balance = self._balances()
        free, total = balance.get("free") or {}, balance.get("total") or {}
        positions = {u: float(total.get(unit_base(u)) or 0.0) for u in self.units}
        return AccountSnapshot(cash=float(free.get(self.quote) or 0.0), positions={u: q for u, q in positions.items() if q > 0})

    def prices(self, units: list[str]) -> dict[str, float]:
        """Last traded price per unit from ``fetch_tickers`` (one request)."""
        symbols = [self.symbols.get(u) or unit_symbol(u, self.quote) for u in units]
        tickers = self.calls.read("fetch_tickers", self.exchange.fetch_tickers, symbols)
        out = {}
        for unit, symbol in zip(units, symbols):
            ticker = tickers.get(symbol) or {}
            price = ticker.get("last") or ticker.get("close")
            if not price or price <= 0:
                raise BrokerError(f"fetch_tickers: {self.settings.id} gave no last price for {symbol}")
            out[unit] = float(price)
        return out

    def venue_rules(self) -> VenueRules:
        return self.rules

    @property
    def live(self) -> bool:
        return True

    def get_order(self, client_order_id: str) -> Optional[ExecutionReport]:
        record = self.state.orders.get(client_order_id)
        return record.report if record is not None else None

    # --- orders -----------------------------------------------------------------------------

    def submit_order(self, order: Order) -> ExecutionReport:
        record = self.state.orders.get(order.client_order_id)
        if record is not None and record.stage == "done" and record.report is not None:
            log.info("order %s already handled (%s); not sent again", order.client_order_id, record.report.status.value)
            return record.report
        symbol = self.symbols[order.unit]
        found = self.lookup(order.client_order_id, symbol)
        if found is not None:  # sent before a restart or an ambiguous failure: follow it, never resend
            return self._follow(order, found)
        amount, problem = self._sendable(order)
        if problem is not None:
            return self._finish(order, symbol, OrderStatus.REJECTED, reason=f"not sent: {problem}")
        self._record(LiveOrderRecord(client_order_id=order.client_order_id, symbol=symbol, stage="sending"))
        return self._send(order, symbol, amount)

    def resolve_order(self, order: Order) -> ExecutionReport:
        """After a restart: what became of ``order`` (followed if the exchange has it), without
        sending anything; an order that never reached the exchange is reported cancelled."""
        record = self.state.orders.get(order.client_order_id)
        if record is not None and record.stage == "done" and record.report is not None:
            return record.report
        symbol = self.symbols[order.unit]
        found = self.lookup(order.client_order_id, symbol)
        if found is not None:
            return self._follow(order, found)
        return self._finish(order, symbol, OrderStatus.CANCELLED,
                            reason="not sent before the run stopped; the next cycle plans again from the balances")

    def _sendable(self, order: Order) -> tuple[float, Optional[str]]:
        market = self.rules.markets[order.unit]
        amount = order.quantity
        if order.side == OrderSide.SELL:  # a sell never exceeds the free balance
            free = (self._balances().get("free") or {}).get(market.base) or 0.0
            amount = min(amount, float(free))
        amount = round_amount(amount, market)
        return amount, venue_problem(amount, order.price, market)

    def _send(self, order: Order, symbol: str, amount: float) -> ExecutionReport:
        params = {"clientOrderId": order.client_order_id}
        notes: list[str] = []  # every fault met on the way, for the event
        for attempt in range(self.settings.retries + 1):
            try:
                placed = self.calls.once("create_order", self.exchange.create_order, symbol, "market",
                                         order.side.value, amount, None, params)
                return self._follow(order, placed, notes)
            except InsufficientFundsError as exc:
                return self._finish(order, symbol, OrderStatus.REJECTED, reason=_joined(notes, str(exc)))
            except OrderRejectedError as exc:
                found = self.lookup(order.client_order_id, symbol)  # a duplicate-id refusal: the order is ours
                if found is not None:
                    return self._follow(order, found, notes + [f"{_cause(exc)}; the exchange has the id: followed"])
                return self._finish(order, symbol, OrderStatus.REJECTED, reason=_joined(notes, str(exc)))
            except BrokerUnavailableError as exc:
                # The request may have been booked (timeout, 5xx): look before any resend.
                log.warning("order %s: %s (attempt %d)", order.client_order_id, exc, attempt + 1)
                found = self.lookup(order.client_order_id, symbol)
                if found is not None:
                    return self._follow(order, found, notes + [f"{_cause(exc)}; found booked by client order id"])
                notes.append(f"{_cause(exc)}; not booked")
                if attempt < self.settings.retries:
                    self.sleep(min(8.0, 0.5 * 2 ** attempt))
                    notes[-1] += ", sent again"
                    continue
                return self._finish(order, symbol, OrderStatus.FAILED,
                                    reason=_joined(notes, f"not placed after {attempt + 1} attempt(s)"))
        raise AssertionError("unreachable")

    def lookup(self, client_order_id: str, symbol: str) -> Optional[dict]:
        """The exchange's order with this client order id, or None if it has none."""
        try:
            return self.calls.read("fetch_order", self.exchange.fetch_order, None, symbol,
                                   {"clientOrderId": client_order_id})
        except OrderRejectedError as exc:
            if isinstance(exc.__cause__, ccxt.OrderNotFound):
                return None
            raise
        except BrokerError as exc:
            if not isinstance(exc.__cause__, ccxt.NotSupported):
                raise
        for order in self.calls.read("fetch_open_orders", self.exchange.fetch_open_orders, symbol) + \
                self.calls.read("fetch_closed_orders", self.exchange.fetch_closed_orders, symbol):
            if order.get("clientOrderId") == client_order_id:
                return order
        return None

    def _follow(self, order: Order, placed: dict, notes: Optional[list[str]] = None) -> ExecutionReport:
        """Poll the order until it is closed or cancelled, or the fill timeout passes (then the rest
        is cancelled); the report says what actually filled."""
        symbol = self.symbols[order.unit]
        self._record(LiveOrderRecord(client_order_id=order.client_order_id, symbol=symbol, stage="sending",
                                     exchange_order_id=str(placed.get("id"))))
        current, waited = placed, 0.0
        while current.get("status") == "open" and waited < self.settings.fill_timeout_seconds:
            self.sleep(self.settings.poll_seconds)
            waited += self.settings.poll_seconds
            current = self.calls.read("fetch_order", self.exchange.fetch_order, str(placed["id"]), symbol)
        notes = list(notes or [])
        if waited > 0:
            notes.append(f"partially filled at first; followed for {waited:g}s")
        if current.get("status") == "open":
            self.calls.read("cancel_order", self.exchange.cancel_order, str(placed["id"]), symbol)
            current = self.calls.read("fetch_order", self.exchange.fetch_order, str(placed["id"]), symbol)
            notes.append(f"remainder cancelled after {self.settings.fill_timeout_seconds:g}s")
        filled = float(current.get("filled") or 0.0)
        requested = float(current.get("amount") or order.quantity)
        if filled <= 0:
            status = OrderStatus.CANCELLED if current.get("status") == "canceled" else OrderStatus.REJECTED
        else:
            status = OrderStatus.FILLED if filled >= requested * (1 - 1e-9) else OrderStatus.PARTIALLY_FILLED
        return self._finish(order, symbol, status, filled=filled, price=current.get("average"),
                            fee=self._fee(current),
                            reason=_joined(notes, None if filled > 0 else f"exchange status {current.get('status')}"),
                            exchange_order_id=str(placed.get("id")))

    def _fee(self, placed: dict) -> float:
        """The order's fee in the quote currency (a fee in the base asset is valued at the fill price)."""
        total = 0.0
        for fee in placed.get("fees") or ([placed["fee"]] if placed.get("fee") else []):
            cost = float(fee.get("cost") or 0.0)
            if fee.get("currency") == self.quote:
                total += cost
            elif placed.get("average"):
                total += cost * float(placed["average"])
        return total

    def _finish(self, order: Order, symbol: str, status: OrderStatus, *, filled: float = 0.0,
                price: Optional[float] = None, fee: float = 0.0, reason: Optional[str] = None,
                exchange_order_id: Optional[str] = None) -> ExecutionReport:
        report = ExecutionReport(client_order_id=order.client_order_id, unit=order.unit, side=order.side,
                                 status=status, requested_quantity=order.quantity, filled_quantity=filled,
                                 average_price=float(price) if price else None, fee=fee, reason=reason,
                                 timestamp=self.clock.now())
        self._record(LiveOrderRecord(client_order_id=order.client_order_id, symbol=symbol, stage="done",
                                     exchange_order_id=exchange_order_id, report=report))
        log.info("%s %s %s %.10g %s: %s", self.settings.id, order.side.value, order.client_order_id, filled, symbol,
                 status.value)
        return report

    def _record(self, record: LiveOrderRecord) -> None:
        self.state.orders[record.client_order_id] = record
        atomic_write_text(self.state_path, self.state.model_dump_json(indent=1) + "\n")

    # --- reconciliation -----------------------------------------------------------------------

    def balances(self) -> dict[str, float]:
        """Total balances of the quote currency and of the units' assets."""
        total = self._balances().get("total") or {}
        assets = [self.quote, *dict.fromkeys(unit_base(u) for u in self.units)]
        return {a: float(total.get(a) or 0.0) for a in assets}

    def checkpoint(self) -> None:
        """Remember the balances at the end of a cycle (compared at the next start)."""
        self.state.balances = self.balances()
        atomic_write_text(self.state_path, self.state.model_dump_json(indent=1) + "\n")

    def reconcile(self) -> dict[str, tuple[float, float]]:
        """Assets whose balance differs from the last checkpoint: ``{asset: (recorded, now)}``."""
        if self.state.balances is None:
            return {}
        now = self.balances()
        return {a: (self.state.balances.get(a, 0.0), q) for a, q in now.items()
                if abs(q - self.state.balances.get(a, 0.0)) > 1e-12 * max(1.0, abs(q))}


def _cause(exc: Exception) -> str:
    """The ccxt exception's class name behind one of ours (what the venue answered)."""
    return type(exc.__cause__ or exc).__name__


def _joined(notes: list[str], last: Optional[str]) -> Optional[str]:
    parts = [*notes, *([last] if last else [])]
    return "; ".join(parts) if parts else None
