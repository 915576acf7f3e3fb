"""The project's own small exception hierarchy.

Every error names the field and the value that caused it, in one line, so that a user (or a
CLI printing ``str(error)``) sees at once what to fix.
"""

from __future__ import annotations

from pydantic import ValidationError


class RebalancerError(Exception):
    """Base class of every error raised on purpose by this project."""


class ConfigError(RebalancerError, ValueError):
    """A configuration or an input value is invalid (bad field, bad value, infeasible limit)."""


class UnknownUnitError(ConfigError):
    """An allocation unit is neither a registered strategy nor a symbol with prices."""


class DataError(RebalancerError):
    """Market or performance data is missing, non-positive, or not finite."""


class InsufficientDataError(DataError):
    """Too few observations to compute what was asked for."""


class EngineError(RebalancerError):
    """A rebalancing engine could not produce target weights."""


class InfeasibleError(RebalancerError):
    """No allocation satisfies the constraints (for example the per-unit bounds)."""


class BrokerError(RebalancerError):
    """A broker or exchange failed to do what was asked (translated from its own errors)."""


class OrderRejectedError(BrokerError):
    """The venue refused an order (what a real venue would refuse: size, funds, units)."""


class InsufficientFundsError(OrderRejectedError):
    """Not enough cash for a buy, or not enough units for a sell."""


class BrokerUnavailableError(BrokerError):
    """The venue could not be reached; an idempotent call may be retried."""


class BrokerAuthError(BrokerError):
    """The venue refused the credentials or the permission (wrong key, key without trading rights)."""


class AccountLockedError(RebalancerError):
    """Another process holds the data directory (one process per account, see
    ``src/utils/account_lock.py``); ``pid`` is the holder's, or None if it could not be read."""

    def __init__(self, data_dir: object, pid: int | None) -> None:
        self.data_dir = data_dir
        self.pid = pid
        holder = f"process {pid}" if pid is not None else "another process"
        super().__init__(f"data directory {data_dir} is in use by {holder} (another main.py?); "
                         f"stop it or use another --data-dir")


def _short(value: object, limit: int = 80) -> str:
    """``repr`` of an offending input, cut so one bad field cannot bury the rest of the line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def one_line_error(exc: BaseException) -> str:
    """One line naming the field and the value, for CLIs and logs.

    A pydantic ``ValidationError`` becomes ``Model: field.path: message (got value)`` for each
    error, joined by ``; ``; an ``OSError`` its reason and file; any other exception is its
    message with newlines folded.
    """
    if isinstance(exc, ValidationError):
        parts = []
        # An unknown key first: a misspelt field is also reported as a missing one, and the
        # unknown key is the one that says what to fix.
        for err in sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden"):
            loc = ".".join(str(p) for p in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            # An unknown key's value is never echoed: it may be a secret typed into the wrong field.
            got = "" if err["type"] in ("value_error", "missing", "extra_forbidden") else f" (got {_short(err.get('input'))})"
            parts.append(f"{loc + ': ' if loc else ''}{msg}{got}")
        return f"{exc.title}: " + "; ".join(parts)
    if isinstance(exc, OSError) and exc.strerror:  # "Permission denied: /path", not "[Errno 13] ..."
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return " ".join(str(exc).split())

# What a message about lost or inconsistent state files tells the user to run (src/runtime/repair.py).
REPAIR = "python main.py --repair --config <your portfolio file> --data-dir {dir}"
