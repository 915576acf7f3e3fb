"""The execution stage: every order's outcome recorded, nothing swallowed."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from src.agents.portfolio_integration import PortfolioIntegration
from src.brokers.base import Broker
from src.errors import BrokerUnavailableError
from src.models.execution_models import AccountSnapshot, ExecutionReport
from src.models.trading_models import Order, OrderSide, OrderStatus


class ScriptedBroker(Broker):
    """A fake at the edge: answers each order from a script."""

    name = "scripted"

    def __init__(self, outcomes: dict[str, object]) -> None:
        self.outcomes = outcomes
        self.sent: list[str] = []

    def get_account(self) -> AccountSnapshot:
        return AccountSnapshot(cash=0.0)

    def get_order(self, client_order_id: str) -> Optional[ExecutionReport]:
        return None

    def submit_order(self, order: Order) -> ExecutionReport:
        self.sent.append(order.client_order_id)
        outcome = self.outcomes[order.client_order_id]
        if isinstance(outcome, Exception):
            raise outcome
        return ExecutionReport(client_order_id=order.client_order_id, unit=order.unit, side=order.side,
                               requested_quantity=order.quantity, timestamp=datetime(2022, 1, 3), **outcome)


def order(cid: str, side=OrderSide.SELL) -> Order:
    return Order(client_order_id=cid, unit="KO", side=side, quantity=2.0, price=50.0, notional=100.0, fee=0.1,
                 reason="test")


def test_execute_when_mixed_outcomes_then_each_recorded_and_all_sent():
    broker = ScriptedBroker({
        "a": {"status": OrderStatus.FILLED, "filled_quantity": 2.0, "average_price": 49.9, "fee": 0.2},
        "b": {"status": OrderStatus.REJECTED, "reason": "insufficient units"},
        "c": BrokerUnavailableError("venue down"),
    })
    out = PortfolioIntegration(broker).execute_portfolio_orders([order("a"), order("b"), order("c", OrderSide.BUY)])
    assert broker.sent == ["a", "b", "c"]
    assert [o.status for o in out] == [OrderStatus.FILLED, OrderStatus.REJECTED, OrderStatus.FAILED]
    assert out[0].filled_quantity == 2.0 and out[0].average_fill_price == 49.9 and out[0].fee == 0.2
    assert out[1].filled_quantity == 0.0 and out[1].status_reason == "insufficient units"
    assert out[2].status_reason == "venue down"


def test_execute_when_no_orders_then_empty():
    assert PortfolioIntegration(ScriptedBroker({})).execute_portfolio_orders([]) == []


def test_default_integration_when_guide_call_then_paper_fills_on_real_prices(tmp_path, monkeypatch):
    import src.agents.portfolio_integration as integration_module

    monkeypatch.setattr(integration_module, "PORTFOLIO_DIR", tmp_path)
    buy = Order(client_order_id="g1", unit="KO", side=OrderSide.BUY, quantity=10.0, price=62.0, notional=620.0,
                fee=0.62, reason="guide example")
    (done,) = PortfolioIntegration().execute_portfolio_orders([buy])
    assert done.status == OrderStatus.FILLED and done.filled_quantity == 10.0
    assert done.average_fill_price > 0 and (tmp_path / "paper_account.json").exists()
