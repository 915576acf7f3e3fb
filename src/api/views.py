"""The HTTP API's own request model; the responses are the service layer's views
(``src/service/rebalance.py``, ``src/service/catalogue.py``), the same as ``kit ... --json``."""

from __future__ import annotations

from pydantic import Field

from src.models.base import StrictModel

PLAN_ID_PATTERN = r"^[0-9a-f]{16}$"  # src/pipeline.py make_plan_id: 16 lower-case hex digits


class ExecuteRequest(StrictModel):
    """Execute the plan if it is still this one (from GET /api/rebalance/preview)."""

    plan_id: str = Field(pattern=PLAN_ID_PATTERN, description="The plan id preview returned (16 lower-case hex digits).",
                         examples=["64e7a55cce166974"])
