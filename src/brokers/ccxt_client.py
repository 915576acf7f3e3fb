"""Building a ccxt exchange from the exchange block, keys from the environment, errors translated.

Keys are read only from the environment variables the configuration names; they are handed to
ccxt and never logged, written or put in a message (``scrub`` removes them from any text that
leaves this boundary, e.g. an exchange's error body). Every ccxt exception is translated into the
project's own (``raise ... from exc``):

=====================================================  ==============================
ccxt                                                    project
=====================================================  ==============================
InsufficientFunds                                       InsufficientFundsError
InvalidOrder, BadRequest, BadSymbol                     OrderRejectedError
AuthenticationError, PermissionDenied, AccountSuspended BrokerAuthError
NetworkError (RequestTimeout, ExchangeNotAvailable,     BrokerUnavailableError
RateLimitExceeded, DDoSProtection, ...), OperationFailed
any other ccxt.BaseError                                BrokerError
=====================================================  ==============================

Only idempotent calls are retried (reads, and lookups by client order id), with tenacity's
exponential backoff on network errors and rate limits.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Callable, Mapping, Optional, TypeVar

import ccxt
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from src.brokers.markets import check_exchange_id
from src.errors import (
    BrokerAuthError,
    BrokerError,
    BrokerUnavailableError,
    ConfigError,
    InsufficientFundsError,
    OrderRejectedError,
)
from src.models.execution_models import ExchangeSettings

log = logging.getLogger(__name__)
T = TypeVar("T")


def read_keys(settings: ExchangeSettings, env: Mapping[str, str]) -> dict[str, str]:
    """The credentials from the named environment variables; a missing one is a one-line error
    naming the variable (never its value)."""
    wanted = {"apiKey": ("api_key_env", settings.api_key_env), "secret": ("secret_env", settings.secret_env)}
    if settings.password_env:
        wanted["password"] = ("password_env", settings.password_env)
    keys = {}
    for ccxt_name, (field, variable) in wanted.items():
        value = env.get(variable, "")
        if not value.strip():
            raise ConfigError(f"runtime.exchange.{field}: environment variable {variable} is not set (live trading "
                              f"and the dry run read the {ccxt_name} from it)")
        keys[ccxt_name] = value
    return keys


def make_exchange(settings: ExchangeSettings, *, env: Optional[Mapping[str, str]] = None) -> tuple[Any, dict[str, str]]:
    """A configured ccxt exchange (rate limiting on) and its keys (for ``scrub``)."""
    check_exchange_id(settings.id)
    keys = read_keys(settings, os.environ if env is None else env)
    extra = {"rateLimit": settings.rate_limit_ms} if settings.rate_limit_ms else {}
    exchange = getattr(ccxt, settings.id)({**keys, "enableRateLimit": True, "timeout": settings.timeout_ms,
                                           "logger": wire_logger(keys), **extra})
    exchange.options.update(settings.options)
    if settings.sandbox:
        exchange.set_sandbox_mode(True)
    api = exchange.urls.get("api")
    for key, url in settings.api_urls.items():
        if not isinstance(api, dict) or key not in api:
            known = ", ".join(sorted(api)) if isinstance(api, dict) else "(a single URL)"
            raise ConfigError(f"runtime.exchange.api_urls[{key!r}]: {settings.id} has no such urls['api'] entry "
                              f"(it has {known})")
        api[key] = url
    return exchange, keys


class _Scrub(logging.Filter):
    """Removes the credentials from every record of ccxt's request/response debug log (which
    prints the request headers, the API key among them)."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage(), {str(i): s for i, s in enumerate(self.secrets)})
        record.args = ()
        return True


_WIRE = logging.getLogger("src.brokers.wire")
_SCRUB = _Scrub()
_WIRE.addFilter(_SCRUB)


def wire_logger(keys: Mapping[str, str]) -> logging.Logger:
    """The logger ccxt writes its HTTP traffic to (``src.brokers.wire``), scrubbed of every
    credential of this process."""
    _SCRUB.secrets.update(v for v in keys.values() if v)
    return _WIRE


def scrub(text: str, keys: Mapping[str, str]) -> str:
    """``text`` with every credential replaced by ``***``."""
    for value in keys.values():
        if value:
            text = text.replace(value, "***")
    return text


def translate(exc: Exception, what: str, keys: Mapping[str, str]) -> BrokerError:
    """The project's exception for a ccxt one (the caller raises it ``from exc``)."""
    message = scrub(f"{what}: {type(exc).__name__}: {exc}", keys)[:500]
    if isinstance(exc, ccxt.InsufficientFunds):
        return InsufficientFundsError(message)
    if isinstance(exc, (ccxt.InvalidOrder, ccxt.BadRequest, ccxt.BadSymbol)):
        return OrderRejectedError(message)
    if isinstance(exc, (ccxt.AuthenticationError, ccxt.PermissionDenied, ccxt.AccountSuspended)):
        return BrokerAuthError(message)
    if isinstance(exc, (ccxt.NetworkError, ccxt.OperationFailed)):
        # OperationFailed covers Binance's documented 5xx "unknown" (-1000, -1001, -1006): the
        # request may have been booked, so it is "unavailable" (look up before any resend).
        return BrokerUnavailableError(message)
    return BrokerError(message)


class ExchangeCalls:
    """Calls to one exchange: read-only ones retried, every error translated.

    Parameters
    ----------
    exchange : ccxt.Exchange
        The configured exchange.
    keys : dict
        Its credentials, scrubbed from every message.
    retries : int
        Retries of an idempotent call after a network error or a rate limit.
    sleep : callable
        Waits between retries (injected in tests).
    """

    def __init__(self, exchange: Any, keys: Mapping[str, str], *, retries: int,
                 sleep: Callable[[float], None]) -> None:
        self.exchange = exchange
        self.keys = dict(keys)
        self.retries = retries
        self.sleep = sleep

    def read(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """An idempotent call, retried with backoff on network errors and rate limits."""
        retrying = Retrying(stop=stop_after_attempt(self.retries + 1), wait=wait_exponential(multiplier=0.5, max=8),
                            retry=retry_if_exception_type((ccxt.NetworkError, ccxt.OperationFailed)), sleep=self.sleep, reraise=True,
                            before_sleep=lambda state: log.warning("%s: %s; retrying (attempt %d)", what,
                                                                   type(state.outcome.exception()).__name__,
                                                                   state.attempt_number))
        try:
            return retrying(fn, *args, **kwargs)
        except ccxt.BaseError as exc:
            raise translate(exc, what, self.keys) from exc

    def once(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A call that is not retried here (an order submission: the caller decides after a lookup)."""
        try:
            return fn(*args, **kwargs)
        except ccxt.BaseError as exc:
            raise translate(exc, what, self.keys) from exc
