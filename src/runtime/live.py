"""Running a portfolio on a live exchange account: the agent with ``CcxtBroker``, the exchange's
prices and candles and the wall clock; or a dry run that plans and prints what it would send.

Live trading needs ``runtime.mode: "live"`` in the portfolio file *and* ``--live`` on the command
line. With only the first, ``dry_run`` plans on the real account through the same venue
precision path, with read-only calls, and writes nothing in the data directory (the agent runs
on a temporary copy of it, so its memory and history count).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Mapping, Optional

from termcolor import colored

from src.agents.portfolio_rebalancing_agent import PortfolioRebalancingAgent
from src.brokers.ccxt_broker import CcxtBroker
from src.brokers.ccxt_client import read_keys
from src.errors import BrokerError, ConfigError
from src.market.clock import SystemClock
from src.market.live import LiveMarketData
from src.models.decision_models import RebalancePlan
from src.models.trading_models import Order
from src.utils.account_lock import AccountLock
from src.utils.config_files import PortfolioFile
from src.utils.paths import slug


class DryRunBroker(CcxtBroker):
    """A ``CcxtBroker`` that never sends: read-only calls only."""

    def submit_order(self, order: Order):
        raise BrokerError(f"dry run: order {order.client_order_id} not sent")


def check_live_flags(loaded: PortfolioFile, live_flag: bool, config_path: Path) -> None:
    """``--live`` needs ``runtime.mode: "live"`` in the file (and the reverse is a dry run)."""
    if live_flag and loaded.runtime.mode != "live":
        raise ConfigError(f"--live: runtime.mode is {loaded.runtime.mode!r} in {config_path}; set it to \"live\" "
                          f"(with an exchange block) to trade on an exchange")


def live_agent(loaded: PortfolioFile, data_dir: Path, *, dry_run: bool,
               env: Optional[Mapping[str, str]] = None) -> PortfolioRebalancingAgent:
    """The agent on the exchange account of ``loaded`` (holding ``data_dir``'s lock)."""
    exchange = loaded.runtime.exchange
    if exchange is None:
        raise ConfigError("runtime.exchange: live mode needs an exchange block")
    read_keys(exchange, os.environ if env is None else env)  # a missing variable: refused before anything is written
    name = slug(loaded.portfolio.name)
    clock = SystemClock()
    with AccountLock(data_dir):  # before the broker reads its order record; the agent holds it after
        broker_type = DryRunBroker if dry_run else CcxtBroker
        broker = broker_type(settings=exchange, units=loaded.portfolio.units, state_path=data_dir / f"live_{name}.json",
                             clock=clock, env=env)
        return PortfolioRebalancingAgent(loaded.portfolio, settings=loaded.runtime, market_data=LiveMarketData(broker),
                                         clock=clock, broker=broker, data_dir=data_dir)


@contextmanager
def dry_run_agent(loaded: PortfolioFile, data_dir: Path, *,
                  env: Optional[Mapping[str, str]] = None) -> Iterator[PortfolioRebalancingAgent]:
    """The agent on a temporary copy of ``data_dir`` with a broker that never sends."""
    if loaded.runtime.exchange is not None:
        read_keys(loaded.runtime.exchange, os.environ if env is None else env)
    with AccountLock(data_dir), tempfile.TemporaryDirectory(prefix="rebalancer-dry-run-") as tmp:
        copy = Path(tmp) / "data"
        if data_dir.exists():
            shutil.copytree(data_dir, copy, ignore=shutil.ignore_patterns(".lock", "*.png"))
        agent = live_agent(loaded, copy, dry_run=True, env=env)
        try:
            yield agent
        finally:
            agent.close()


def print_plan(plan: RebalancePlan, quote: str) -> None:
    """What a dry run would send (presentation layer)."""
    print(colored(f"dry run {plan.timestamp:%Y-%m-%d %H:%M} UTC: {plan.message}", "cyan"))
    for order in plan.orders:
        print(f"  would {order.side.value:4} {order.quantity:.10g} {order.unit} (market) ~ {order.notional:,.2f} "
              f"{quote}: {order.reason}")
    for skipped in plan.order_plan.skipped if plan.order_plan else []:
        print(colored(f"  skipped {skipped.unit} {skipped.desired_notional:+,.2f} {quote}: {skipped.reason}", "yellow"))
    print(colored("nothing was sent: add --live (with runtime.mode \"live\") to trade", "yellow"))
