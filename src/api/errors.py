"""What the HTTP API answers when a request fails: one JSON shape, one line, never a traceback.

Every error body is ``{"message": "<one line>", "detail": ...}``. The status codes:

==========  ===========================================================================
401         no ``Authorization: Bearer <token>``, or another token (``src/api/auth.py``)
400         the portfolio file, the data or the account is wrong (a ``RebalancerError``)
404 / 405   no such path / method
409         refused, nothing sent: a stale plan id, tax tracking off for /harvest
422         the request is malformed; ``message`` names the field first (``body.plan_id: ...``)
423         the data directory is held by another process (``AccountLockedError``)
500         anything unexpected: logged with its traceback on the server, one line to the client
==========  ===========================================================================
"""

from __future__ import annotations

import logging
from typing import Any, Union

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from src.errors import AccountLockedError, RebalancerError, one_line_error
from src.models.base import StrictModel
from src.service import rebalance as svc

logger = logging.getLogger(__name__)

MAX_ISSUES_IN_MESSAGE = 5  # the message names this many fields; ``detail`` lists them all
MAX_KEY_SHOWN = 40  # characters of an unknown key the message shows


class InternalError(Exception):
    """An unexpected failure inside a request, already logged with its traceback (500)."""


# Refusals (409), nothing sent: a stale plan id, a live portfolio (the API opens it as a dry run), tax tracking off.
REFUSALS: tuple[type[Exception], ...] = (svc.RefusedError,)


class Issue(StrictModel):
    """One invalid part of a request."""

    loc: list[Union[str, int]] = Field(description="Where: 'body', 'query' or 'header', then the field's path.")
    msg: str = Field(description="What is wrong with it (the value sent is never echoed).")
    type: str = Field(description="pydantic's error type (missing, string_pattern_mismatch, extra_forbidden, ...).")


class ErrorBody(StrictModel):
    """The body of every error response."""

    message: str = Field(description="What went wrong, in one line; for a 422 it starts with the field's path.")
    detail: Union[str, list[Issue]] = Field(description="The same line, or for a 422 every invalid field.")


def loc_text(loc: Any) -> str:
    """Where a validation error is, as ``body.plan_id``: a key that is not a plain word (an unknown
    key may hold anything, newlines included) is quoted and cut to ``MAX_KEY_SHOWN`` characters."""
    def part(item: Any) -> str:
        text = str(item)
        plain = text and text.isprintable() and not any(c in text for c in " .:;'\"") and len(text) <= MAX_KEY_SHOWN
        return text if plain else repr(text if len(text) <= MAX_KEY_SHOWN else text[:MAX_KEY_SHOWN] + "...")
    return ".".join(part(item) for item in loc) or "request"


def issue_line(err: dict[str, Any]) -> str:
    """One validation error as ``where.field: what`` (a JSON syntax error as ``body: ...``)."""
    if err.get("type") == "json_invalid":
        reason = " ".join(str((err.get("ctx") or {}).get("error", "")).split())
        return f"body: not valid JSON ({reason} at character {err['loc'][-1]})"
    return f"{loc_text(err.get('loc', ()))}: {' '.join(str(err.get('msg', 'invalid')).split())}"


def validation_message(errors: list[dict[str, Any]]) -> str:
    """Every error's line, an unknown key first (as ``one_line_error`` orders them), joined by ``; ``."""
    ordered = sorted(errors, key=lambda e: e.get("type") != "extra_forbidden")
    lines = [issue_line(e) for e in ordered[:MAX_ISSUES_IN_MESSAGE]]
    more = len(ordered) - MAX_ISSUES_IN_MESSAGE
    return "; ".join(lines) + (f"; and {more} more" if more > 0 else "")


def error_response(status: int, message: str, detail: Any = None, headers: dict[str, str] | None = None
                   ) -> JSONResponse:
    """An ``ErrorBody`` response."""
    body = ErrorBody(message=message, detail=message if detail is None else detail)
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = list(exc.errors())
    if "json" not in request.headers.get("content-type", ""):  # the body was never read as JSON
        errors = [e | {"msg": "send a JSON object with the header Content-Type: application/json"}
                  if tuple(e.get("loc", ())) == ("body",) and e.get("type") == "model_attributes_type" else e
                  for e in errors]
    issues = [Issue(loc=[p if isinstance(p, int) else str(p) for p in e.get("loc", ())] or ["request"],
                    msg=" ".join(str(e.get("msg", "invalid")).split()), type=str(e.get("type", "invalid")))
              for e in errors]
    return error_response(422, validation_message(errors), [i.model_dump() for i in issues])


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):  # FastAPI's "error parsing the body"
        line = f"body: not valid JSON (not UTF-8 text: byte {exc.__cause__.start})"
        return error_response(422, line, [Issue(loc=["body"], msg=line.removeprefix("body: "), type="json_invalid")
                                          .model_dump()])
    return error_response(exc.status_code, " ".join(str(exc.detail).split()), headers=getattr(exc, "headers", None))


async def _refused(request: Request, exc: Exception) -> JSONResponse:
    logger.info("%s %s refused: %s", request.method, request.url.path, one_line_error(exc))
    return error_response(409, one_line_error(exc))


async def _locked(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("%s %s: %s", request.method, request.url.path, one_line_error(exc))
    return error_response(423, one_line_error(exc))


async def _project_error(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("%s %s failed: %s", request.method, request.url.path, one_line_error(exc))
    return error_response(400, one_line_error(exc))


async def _os_error(request: Request, exc: Exception) -> JSONResponse:
    logger.error("%s %s: %s", request.method, request.url.path, one_line_error(exc))
    return error_response(500, f"the server could not read or write its files: {one_line_error(exc)}")


async def _internal(request: Request, exc: Exception) -> JSONResponse:
    # An InternalError was logged where it was caught; any other exception reaches this handler
    # through Starlette's ServerErrorMiddleware, which re-raises it afterwards for uvicorn to log.
    name = exc.args[0] if isinstance(exc, InternalError) and exc.args else type(exc).__name__
    return error_response(500, f"internal error ({name}): logged on the server")


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every failure into an ``ErrorBody``."""
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for refusal in REFUSALS:
        app.add_exception_handler(refusal, _refused)
    app.add_exception_handler(AccountLockedError, _locked)
    app.add_exception_handler(RebalancerError, _project_error)
    app.add_exception_handler(OSError, _os_error)
    app.add_exception_handler(InternalError, _internal)
    app.add_exception_handler(Exception, _internal)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No bearer token, or not the server's."},
    400: {"model": ErrorBody, "description": "The portfolio file, the data or the account is wrong."},
    422: {"model": ErrorBody, "description": "Malformed request: `message` names the field."},
    423: {"model": ErrorBody, "description": "The data directory is held by another process."},
    500: {"model": ErrorBody, "description": "Unexpected: logged on the server."},
}
