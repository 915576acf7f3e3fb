"""The HTTP API's own request and response models (the rest are the service layer's views).

``src/service/rebalance.py`` defines what status, preview, execute and history return; this
module adds the execute request and the wrappers the API returns lists in.
"""

from __future__ import annotations

from pydantic import Field

from src.models.base import StrictModel
from src.portfolios.model_catalogue import ModelPortfolio
from src.service.rebalance import EventSummary

PLAN_ID_PATTERN = r"^[0-9a-f]{16}$"  # src/pipeline.py make_plan_id: 16 lower-case hex digits


class ExecuteRequest(StrictModel):
    """Execute the plan if it is still this one (from GET /api/rebalance/preview)."""

    plan_id: str = Field(pattern=PLAN_ID_PATTERN, description="The plan id preview returned (16 lower-case hex digits).",
                         examples=["64e7a55cce166974"])


class HistoryView(StrictModel):
    """Journaled events, oldest first (the same document as ``kit rebalance history --json``)."""

    events: list[EventSummary] = Field(description="The newest events on or after `since`, oldest first.")


class CatalogueEntry(ModelPortfolio):
    """A model portfolio with the shipped units' weights that stand in for it."""

    demo_targets: dict[str, float] = Field(description="Shipped unit -> weight (``ModelPortfolio.proxy_targets``).")


class ModelsView(StrictModel):
    """Every model portfolio: the built-in ones and those of ``src/data/models/``."""

    models: list[CatalogueEntry] = Field(description="By name, built-ins first.")
