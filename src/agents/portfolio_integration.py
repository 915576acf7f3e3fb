"""Sending orders to a broker and recording what happened to each."""

from __future__ import annotations

import logging
from typing import Optional

from src.brokers.base import Broker
from src.brokers.paper import PaperBroker
from src.errors import BrokerError, DataError
from src.market.clock import FixedClock
from src.market.data import HistoricalMarketData
from src.models.trading_models import FeeModel, Order, OrderStatus
from src.utils.paths import PORTFOLIO_DIR

log = logging.getLogger(__name__)


class PortfolioIntegration:
    """The execution stage: orders in, orders with their outcome out.

    Parameters
    ----------
    broker : Broker, optional
        Where orders go. By default a ``PaperBroker`` on the shipped real prices, its account in
        ``src/data/portfolio/paper_account.json``, its clock the latest trading day in the data.
    """

    def __init__(self, broker: Optional[Broker] = None) -> None:
        self.broker = broker if broker is not None else default_paper_broker()

    def execute_portfolio_orders(self, orders: list[Order], *, resume: bool = False) -> list[Order]:
        """Send ``orders`` in the given order (sells first) and return them with their outcome.

        With ``resume`` (the orders of an event an interrupted run left pending) each goes through
        the broker's ``resolve_order``: a live broker then only looks it up and follows it.

        An order counts as executed only when the broker reports a fill. A rejection or a
        broker error is recorded on that order (status and reason) and the next order is
        still sent; nothing is swallowed: every outcome is in the returned list.
        """
        results = []
        for order in orders:
            try:
                report = self.broker.resolve_order(order) if resume else self.broker.submit_order(order)
            except (BrokerError, DataError) as exc:
                log.error("order %s failed: %s", order.client_order_id, exc)
                results.append(order.model_copy(update={"status": OrderStatus.FAILED, "status_reason": str(exc)}))
                continue
            results.append(order.model_copy(update={
                "status": report.status,
                "filled_quantity": report.filled_quantity,
                "average_fill_price": report.average_price,
                "fee": report.fee if report.filled_quantity > 0 else order.fee,
                "status_reason": report.reason,
            }))
        return results


def default_paper_broker() -> Broker:
    """A paper broker on the shipped prices with its account in ``src/data/portfolio``; its
    clock is the last trading day of the shipped S&P 500 data."""
    market = HistoricalMarketData()
    latest = market.price_series("SP500").index[-1].to_pydatetime()
    return PaperBroker(state_path=PORTFOLIO_DIR / "paper_account.json", market_data=market,
                       clock=FixedClock(latest), fee_model=FeeModel())
