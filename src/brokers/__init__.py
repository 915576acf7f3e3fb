"""Brokers behind one interface: paper now, ccxt exchanges later."""

from src.brokers.base import Broker
from src.brokers.paper import PaperBroker

__all__ = ["Broker", "PaperBroker"]
