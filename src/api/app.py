"""The HTTP API's app: six endpoints over ``src/service/rebalance.py``, behind a bearer token.

Each request opens the account (``svc.open_agent``: the portfolio file is read afresh and the
data directory's lock taken), asks the service layer and closes it again, so ``kit`` and
``main.py`` can use the same data directory between requests. Requests are serialised by one
``threading.Lock`` per app: two concurrent ``POST /execute`` of the same plan id run one after
the other, and the second finds the first's event in the journal (idempotent per plan id).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path
from typing import Optional, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Query

from src.api.auth import BearerGate, bearer_dependency, check_token
from src.api.errors import ERROR_RESPONSES, ErrorBody, InternalError, install_error_handlers
from src.api.views import ExecuteRequest
from src.service.catalogue import CatalogueEntry, ModelsView
from src.errors import RebalancerError
from src.service import rebalance as svc

logger = logging.getLogger(__name__)

T = TypeVar("T")
MAX_HISTORY = 10_000  # events one /history request may ask for
DESCRIPTION = """The portfolio-rebalancing agent over HTTP: look (status, preview, harvest, history, models)
before you act (execute a previewed plan by its id; idempotent per plan id).

Every `/api/` endpoint needs `Authorization: Bearer <token>` (the token `kit serve` read from its
`--token-env` variable); this page and `/openapi.json` are public. Errors are
`{"message": "<one line>", "detail": ...}`."""
REFUSED = {409: {"model": ErrorBody, "description": "Refused, nothing sent (a stale plan id; tax tracking off)."}}


def guarded(fn: Callable[[], T]) -> T:
    """``fn()``, with an unexpected exception logged here (traceback) and re-raised as ``InternalError``.

    A project error (``RebalancerError``) or an ``OSError`` passes through to its handler
    (``src/api/errors.py``), which answers in one line.
    """
    try:
        return fn()
    except (RebalancerError, OSError):
        raise
    except Exception as exc:
        logger.exception("request failed")
        raise InternalError(type(exc).__name__) from exc


def create_app(config: Path, data_dir: Path, token: str) -> FastAPI:
    """The HTTP API of one portfolio file and data directory.

    Parameters
    ----------
    config : Path
        Portfolio file (JSON or YAML), read on every request.
    data_dir : Path
        Events, state and paper account (the account lock is taken per request).
    token : str
        The bearer token every ``/api/`` request must send (at least 16 characters).

    Returns
    -------
    FastAPI
        The app; serve it with uvicorn (``kit serve``).

    Raises
    ------
    ConfigError
        If the token is shorter than 16 characters.
    """
    expected = check_token(token)
    config, data_dir = Path(config), Path(data_dir)
    lock = threading.Lock()

    def with_agent(verb: Callable[..., T]) -> T:
        def run() -> T:
            with lock, svc.open_agent(config, data_dir) as agent:
                return verb(agent)
        return guarded(run)

    app = FastAPI(title="Portfolio rebalancing API", version="1", description=DESCRIPTION)
    router = APIRouter(prefix="/api/rebalance", tags=["rebalance"], responses=ERROR_RESPONSES,
                       dependencies=[Depends(bearer_dependency(expected))])

    @router.get("/status", response_model=svc.StatusView, summary="Positions against targets, drift, last event")
    def status() -> svc.StatusView:
        return with_agent(svc.status)

    @router.get("/preview", response_model=svc.PlanView, summary="The plan now, nothing sent")
    def preview() -> svc.PlanView:
        """The plan a check would make now: orders with reasons, skipped trades, risk verdicts, tax impact.
        Its `plan_id` is what `POST /api/rebalance/execute` takes."""
        return with_agent(svc.preview)

    @router.post("/execute", response_model=svc.ExecuteResult, responses=REFUSED, summary="Execute a previewed plan")
    def execute(request: ExecuteRequest) -> svc.ExecuteResult:
        """Send the plan's orders if `plan_id` is still the plan (409 if stale). Idempotent: a plan id
        executed before returns its journaled event with `already_executed: true` and sends nothing."""
        return with_agent(lambda agent: svc.execute(agent, request.plan_id))

    @router.get("/harvest", response_model=svc.HarvestView, responses=REFUSED, summary="Tax-loss harvest, not sent")
    def harvest() -> svc.HarvestView:
        """Losing lots, substitutes, estimated benefit and the orders a harvest would send, with the
        plan id a harvest now would get (409 when the portfolio has no tax tracking)."""
        return with_agent(svc.harvest)

    @router.get("/models", response_model=ModelsView, summary="The model portfolios")
    def models() -> ModelsView:
        from src.portfolios.model_catalogue import model_catalogue

        return guarded(lambda: ModelsView(models=[
            CatalogueEntry.of(m) for m in model_catalogue().values()]))

    @router.get("/history", response_model=svc.HistoryView, summary="Journaled events, oldest first")
    def history(limit: int = Query(20, ge=1, le=MAX_HISTORY, description="The newest N events."),
                since: Optional[date] = Query(None, description="Events on or after this day (YYYY-MM-DD).")
                ) -> svc.HistoryView:
        start = None if since is None else datetime.combine(since, time())
        return svc.HistoryView(events=with_agent(lambda agent: svc.history(agent, limit=limit, since=start)))

    app.include_router(router)
    install_error_handlers(app)
    app.add_middleware(BearerGate, token=expected)
    return app
