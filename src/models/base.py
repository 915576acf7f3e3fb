"""Shared pydantic base classes and small enums used by every model."""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Base of every model passed between pipeline stages.

    Unknown fields are rejected, NaN and infinity are rejected, and assignments are validated,
    so a model that exists is a model that is valid.
    """

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        validate_assignment=True,
        use_enum_values=False,
    )

    def __getitem__(self, key: str) -> Any:
        """Read a field as ``model["field"]`` (the users' guide uses dictionary access)."""
        if key not in type(self).model_fields:
            raise KeyError(f"{type(self).__name__} has no field {key!r}")
        return getattr(self, key)

    def keys(self) -> list[str]:
        """Field names, so ``dict(model)`` and ``{**model}`` behave like a mapping."""
        return list(type(self).model_fields)


class Frequency(str, Enum):
    """How often a calendar schedule fires."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    ANNUALLY = "annually"


class UnitKind(str, Enum):
    """What an allocation unit is: a strategy sleeve from the registry or a plain asset."""

    STRATEGY = "strategy"
    ASSET = "asset"
