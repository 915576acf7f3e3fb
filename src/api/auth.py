"""Bearer-token authentication of the HTTP API.

One shared token, set when the app is made (``kit serve`` reads it from an environment
variable). Every path but the public documentation (``PUBLIC_PATHS``) needs
``Authorization: Bearer <token>``; a request without it, or with another token, gets 401 with
``WWW-Authenticate: Bearer`` before anything else is read, its body included (``BearerGate``).
The same check runs again as the routes' dependency (``bearer_dependency``), which is also what
puts the scheme into the OpenAPI document (Swagger UI's "Authorize" button).
"""

from __future__ import annotations

import json
import secrets
from typing import Any, Optional

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from src.errors import ConfigError

MIN_TOKEN_LENGTH = 16  # characters; kit serve refuses a shorter token
PUBLIC_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/openapi.json"})  # what the API is, not the account
UNAUTHORISED = "not authenticated: send the header 'Authorization: Bearer <token>' with the server's token"
CHALLENGE = {"WWW-Authenticate": "Bearer"}


def check_token(token: str) -> bytes:
    """The token as the bytes requests are compared with.

    Raises
    ------
    ConfigError
        If the token, blanks at either end left out, is shorter than ``MIN_TOKEN_LENGTH``
        characters (its value is not echoed): sixteen spaces are no secret.
    """
    if len(token.strip()) < MIN_TOKEN_LENGTH:
        raise ConfigError(f"the API token has {len(token.strip())} character(s) besides blanks at its ends: it needs "
                          f"at least {MIN_TOKEN_LENGTH}")
    return token.encode("utf-8")


def token_matches(authorization: Optional[str], expected: bytes) -> bool:
    """Whether an ``Authorization`` header value carries the expected bearer token.

    Parameters
    ----------
    authorization : str or None
        The header as the server decoded it (latin-1, as HTTP headers are); None if absent.
    expected : bytes
        The token's UTF-8 bytes (``check_token``).

    Returns
    -------
    bool
        True only for ``Bearer <token>`` (scheme case-insensitive), compared in constant time
        on the header's raw bytes.
    """
    scheme, credentials = get_authorization_scheme_param(authorization)
    if scheme.lower() != "bearer" or not credentials:
        return False
    try:
        sent = credentials.encode("latin-1")  # back to the bytes on the wire
    except UnicodeEncodeError:
        return False
    return secrets.compare_digest(sent, expected)


class BearerGate:
    """ASGI middleware: 401 for every HTTP request outside ``PUBLIC_PATHS`` without the token.

    It runs before routing and before FastAPI reads the body, so an unauthenticated request
    learns nothing: not whether its body is valid, not whether the path exists.
    """

    def __init__(self, app: Any, token: bytes) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] not in PUBLIC_PATHS:
            raw = [v for k, v in scope.get("headers", []) if k.lower() == b"authorization"]
            header = raw[0].decode("latin-1") if len(raw) == 1 else None  # two Authorization headers: refused
            if not token_matches(header, self.token):
                body = json.dumps({"message": UNAUTHORISED, "detail": UNAUTHORISED}).encode()
                headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                           (b"www-authenticate", b"Bearer")]
                await send({"type": "http.response.start", "status": 401, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def bearer_dependency(token: bytes):
    """A FastAPI dependency that refuses (401) a request without the token; documents the scheme."""
    scheme = HTTPBearer(auto_error=False, description="The token `kit serve` read from its --token-env variable.")

    def require_token(credentials: Optional[HTTPAuthorizationCredentials] = Depends(scheme)) -> None:
        if credentials is None or not token_matches(f"Bearer {credentials.credentials}", token):
            raise HTTPException(status_code=401, detail=UNAUTHORISED, headers=CHALLENGE)

    return require_token
