"""The JSON every ``kit ... --json`` prints, as pydantic models: one place that names them.

``kit rebalance schema [COMMAND]`` prints their JSON Schemas, and
``docs/kit-json-schemas.json`` holds the same document; a test fails if a model changes
without that file, so a script that reads ``--json`` sees a schema change in a diff, never by
surprise. The HTTP API returns the same models (``/openapi.json``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from src.profiles.trade_list import TradeListReport
from src.service.catalogue import CatalogueEntry, ModelApplied
from src.service.household import (HouseholdExecuteResult, HouseholdHistoryView, HouseholdPlanView,
                                   HouseholdStatusView)
from src.service.rebalance import ExecuteResult, HarvestResult, HarvestView, HistoryView, PlanView, StatusView
from src.service.report import WeeklyReport


# command (as typed after ``kit rebalance``) -> the model its --json prints
SCHEMAS: dict[str, type[BaseModel]] = {
    "status": StatusView,
    "preview": PlanView,
    "execute": ExecuteResult,
    "history": HistoryView,
    "harvest": HarvestView,
    "harvest --execute": HarvestResult,
    "report": WeeklyReport,
    "model": CatalogueEntry,
    "model --apply": ModelApplied,
    "profile": TradeListReport,
    "status --household": HouseholdStatusView,
    "preview --household": HouseholdPlanView,
    "execute --household": HouseholdExecuteResult,
    "history --household": HouseholdHistoryView,
}


def json_schemas() -> dict[str, Any]:
    """``{command: JSON Schema}`` of every ``--json`` document (serialisation mode)."""
    return {command: model.model_json_schema(mode="serialization") for command, model in SCHEMAS.items()}
