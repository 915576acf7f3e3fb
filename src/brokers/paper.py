"""A paper broker: fills market orders at the market price with fees and slippage.

It keeps its whole state (cash, positions, every order report, cash flows) in one JSON file,
written atomically after every change, so a restart continues exactly where it stopped and a
resubmitted client order id is answered from the file, not traded again. It refuses what a real
venue would: buys without the cash for notional plus fee, sells of more units than held.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Optional

from pydantic import ValidationError

from src.brokers.base import Broker
from src.brokers.fills import apply_fill, simulate_fill
from src.errors import REPAIR, ConfigError, DataError
from src.market.clock import Clock
from src.market.data import MarketData
from src.models.execution_models import AccountSnapshot, CashFlow, ExecutionReport, PaperAccountState
from src.models.trading_models import FeeModel, Order, OrderStatus
from src.models.venue_models import VenueRules
from src.orders.venue import round_amount, venue_problem
from src.utils.atomic_io import append_lines, atomic_write_text, read_model

log = logging.getLogger(__name__)


class PaperBroker(Broker):
    """Simulated execution on real prices.

    Parameters
    ----------
    state_path : pathlib.Path
        The account file; created with ``initial_cash`` if it does not exist.
    market_data : MarketData
        Source of the fill prices.
    clock : Clock
        The fill time (the replay clock in replays).
    fee_model : FeeModel
        Fees charged per fill.
    slippage_bps : float
        Buys fill this much above, sells this much below the market price.
    initial_cash : float
        Cash of a new account.
    venue : VenueRules, optional
        An exchange's market rules (from the shipped snapshot): an order whose amount is not on a
        market's step, or is below its minimums, is refused as that exchange would refuse it.
    """

    name = "paper"

    def __init__(self, *, state_path: Path, market_data: MarketData, clock: Clock, fee_model: FeeModel,
                 slippage_bps: float = 5.0, initial_cash: float = 100_000.0,
                 venue: Optional[VenueRules] = None) -> None:
        if not (math.isfinite(slippage_bps) and slippage_bps >= 0):
            raise ConfigError(f"slippage_bps={slippage_bps} must be a finite number >= 0")
        if not (math.isfinite(initial_cash) and initial_cash > 0):
            raise ConfigError(f"initial_cash={initial_cash} must be > 0")
        self.state_path = Path(state_path)
        self.market_data = market_data
        self.clock = clock
        self.fee_model = fee_model
        self.slippage_bps = slippage_bps
        self.venue = venue
        self.archive_path = self.state_path.with_suffix(".reports.jsonl")
        self._rewrite = False  # the archive must be rewritten whole once (older file, or a dropped partial line)
        if self.state_path.exists():
            self.state = read_model(self.state_path, PaperAccountState,
                                    f"paper account file {self.state_path} is not valid")
            if self.state.reports:  # an older account file that kept every report inside
                self._rewrite = True
            else:
                self.state.reports = load_archive(self.archive_path, self.state)
                # A repaired last report or a partial line: the archive is rewritten once, whole, at once.
                expected = "".join(r.model_dump_json() + "\n" for r in self.state.reports.values())
                actual = self.archive_path.read_text(encoding="utf-8") if self.archive_path.exists() else ""
                if actual != expected:  # repaired now, so the files are an uninterrupted run's even if nothing trades
                    atomic_write_text(self.archive_path, expected)
        else:
            # A new account is written on its first change, so merely opening one writes nothing.
            self.state = PaperAccountState(cash=initial_cash)

    def _save(self, report: Optional[ExecutionReport] = None) -> None:
        """The snapshot (cash, positions, the latest report) atomically, then the report appended.

        Constant cost per order: the snapshot does not hold the report archive. A crash between
        the two writes leaves the report in the snapshot only; ``load_archive`` appends it.
        """
        snapshot = self.state.model_copy(update={
            "reports": {}, "reports_count": len(self.state.reports),
            "last_report": report if report is not None else self.state.last_report})
        atomic_write_text(self.state_path, snapshot.model_dump_json(indent=1) + "\n")
        self.state.last_report = snapshot.last_report
        if self._rewrite:
            atomic_write_text(self.archive_path, "".join(r.model_dump_json() + "\n" for r in self.state.reports.values()))
            self._rewrite = False
        elif report is not None:
            append_lines(self.archive_path, [report.model_dump_json()])

    @property
    def slippage_reserve_bps(self) -> float:
        return self.slippage_bps

    def venue_rules(self) -> Optional[VenueRules]:
        return self.venue

    def get_account(self) -> AccountSnapshot:
        return AccountSnapshot(cash=self.state.cash, positions={u: q for u, q in self.state.positions.items() if q > 0})

    def get_order(self, client_order_id: str) -> Optional[ExecutionReport]:
        return self.state.reports.get(client_order_id)

    def _report(self, order: Order, status: OrderStatus, **fields) -> ExecutionReport:
        report = ExecutionReport(client_order_id=order.client_order_id, unit=order.unit, side=order.side,
                                 status=status, requested_quantity=order.quantity, timestamp=self.clock.now(),
                                 **fields)
        self.state.reports[order.client_order_id] = report
        return report

    def submit_order(self, order: Order) -> ExecutionReport:
        earlier = self.state.reports.get(order.client_order_id)
        if earlier is not None:
            log.info("order %s already handled (%s); not sent again", order.client_order_id, earlier.status.value)
            return earlier
        market = self.market_data.prices_at(self.clock.now(), [order.unit])[order.unit]
        held = self.state.positions.get(order.unit, 0.0)
        rules = self.venue.markets.get(order.unit) if self.venue is not None else None
        if rules is not None:  # what the exchange would refuse (the venue stage normally skipped it already)
            problem = ("amount not on the market's step" if round_amount(order.quantity, rules) != order.quantity
                       else venue_problem(order.quantity, market, rules))
            if problem is not None:
                report = self._report(order, OrderStatus.REJECTED, reason=f"{rules.symbol}: {problem}")
                self._save(report)
                return report
        fill = simulate_fill(order.side, order.quantity, market, slippage_bps=self.slippage_bps,
                             fee_model=self.fee_model, cash=self.state.cash, held=held)
        if fill.status == OrderStatus.FILLED:
            self.state.cash, self.state.positions[order.unit] = apply_fill(order.side, fill, self.state.cash, held)
            report = self._report(order, OrderStatus.FILLED, filled_quantity=fill.quantity,
                                  average_price=fill.price, fee=fill.fee)
        else:
            report = self._report(order, OrderStatus.REJECTED, reason=fill.reason)
        self._save(report)
        log.info("paper %s %s %.6f %s: %s", order.side.value, order.client_order_id, order.quantity,
                 order.unit, report.status.value)
        return report

    def deposit(self, amount: float, *, flow_id: Optional[str] = None) -> bool:
        if not (math.isfinite(amount) and amount > 0):
            raise ConfigError(f"deposit amount={amount} must be > 0")
        return self._flow(amount, flow_id)

    def withdraw(self, amount: float, *, flow_id: Optional[str] = None) -> bool:
        if not (math.isfinite(amount) and amount > 0):
            raise ConfigError(f"withdrawal amount={amount} must be > 0")
        if self._known_flow(flow_id):
            return False
        if amount > self.state.cash:
            raise ConfigError(f"withdrawal amount={amount} on {self.clock.now().date()} exceeds free cash "
                              f"{self.state.cash:.2f} (selling to raise cash is not automatic yet)")
        return self._flow(-amount, flow_id)

    def _known_flow(self, flow_id: Optional[str]) -> bool:
        if flow_id is not None and any(f.flow_id == flow_id for f in self.state.flows):
            log.info("cash flow %s already applied; not applied again", flow_id)
            return True
        return False

    def _flow(self, amount: float, flow_id: Optional[str]) -> bool:
        if self._known_flow(flow_id):
            return False
        self.state.cash += amount
        self.state.flows.append(CashFlow(timestamp=self.clock.now(), amount=amount, flow_id=flow_id))
        self._save()
        return True

    def cash_flows(self) -> list[CashFlow]:
        return list(self.state.flows)

def load_archive(path: Path, state: PaperAccountState) -> dict[str, ExecutionReport]:
    """The reports of the archive the snapshot ``state`` accounts for, repaired if a crash cut it.

    The snapshot counts ``reports_count`` reports and holds the latest; the archive may lack that
    one (a crash after the snapshot, before the append) or end in a partial line: both are
    repaired. Fewer lines than that means the archive was lost or cut: an error naming the file.
    """
    expected = state.reports_count
    reports: dict[str, ExecutionReport] = {}
    if path.exists():
        lines = path.read_text(encoding="utf-8").split("\n")
        if sum(1 for line in lines if line.strip()) > expected:
            # A report is appended after the snapshot that counts it: more lines mean an older snapshot.
            account = path.with_name(path.name.replace(".reports.jsonl", ".json"))
            raise DataError(f"order archive {path} has more reports than paper account file {account} counts "
                            f"({expected}): the account file is older than its archive; restore the "
                            f"matching file, or rebuild both with {REPAIR.format(dir=path.parent)}")
        for number, line in enumerate(lines, start=1):
            if len(reports) == expected or not line.strip():
                break
            try:
                report = ExecutionReport.model_validate_json(line)
            except ValidationError as exc:
                if number > expected - 1:
                    break  # a partial last line left by a crash
                raise DataError(f"order archive {path} line {number} is not a valid report") from exc
            reports[report.client_order_id] = report
    if len(reports) == expected - 1 and state.last_report is not None \
            and state.last_report.client_order_id not in reports:
        reports[state.last_report.client_order_id] = state.last_report
    if len(reports) != expected:
        raise DataError(f"order archive {path} has {len(reports)} report(s) but the paper account counts "
                        f"{expected}: restore it, or rebuild it with "
                            f"{REPAIR.format(dir=path.parent)}")
    return reports
