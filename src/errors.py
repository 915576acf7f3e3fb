"""The project's own small exception hierarchy.

Every error names the field and the value that caused it, in one line, so that a user (or a
CLI printing ``str(error)``) sees at once what to fix.
"""

from __future__ import annotations


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
