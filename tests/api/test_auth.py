"""Bearer-token authentication (src/api/auth.py): every /api endpoint refuses a missing or wrong
token with 401 and ``WWW-Authenticate: Bearer``, before the body is read; the docs are public."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from src.api.auth import MIN_TOKEN_LENGTH, check_token, token_matches
from src.errors import ConfigError
from tests.api.conftest import AUTH, PATHS, TOKEN

WRONG = [None, f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}", TOKEN, "Bearer", "Bearer x",
         f"Bearer  {TOKEN} extra"]


def _request(api, path: str, authorization: str | None, body: str = '{"plan_id": "0000000000000000"}'):
    headers = {} if authorization is None else {"Authorization": authorization}
    if path.endswith("/execute"):
        return api.client.post(path, content=body, headers=headers | {"Content-Type": "application/json"})
    return api.client.get(path, headers=headers)


@pytest.mark.parametrize("authorization", WRONG)
def test_every_endpoint_when_token_missing_or_wrong_then_401_with_bearer_challenge(shared_api, authorization):
    for path in PATHS:
        response = _request(shared_api, path, authorization)
        assert response.status_code == 401, (path, response.text)
        assert response.headers["www-authenticate"] == "Bearer"
        assert "not authenticated" in response.json()["message"] and TOKEN not in response.text


def test_execute_when_no_token_and_malformed_body_then_401_not_422(shared_api):
    response = _request(shared_api, "/api/rebalance/execute", None, body="{not json")
    assert response.status_code == 401


def test_unknown_api_path_when_no_token_then_401_and_with_token_then_404(shared_api):
    assert shared_api.client.get("/api/rebalance/nothing").status_code == 401
    assert shared_api.client.get("/api/rebalance/nothing", headers=AUTH).status_code == 404


def test_request_when_two_authorization_headers_then_401(shared_api):
    response = shared_api.client.get("/api/rebalance/status",
                                     headers=[("Authorization", AUTH["Authorization"]), ("Authorization", "Bearer x")])
    assert response.status_code == 401


def test_request_when_scheme_lower_case_then_accepted(shared_api):
    response = shared_api.client.get("/api/rebalance/models", headers={"Authorization": f"bearer {TOKEN}"})
    assert response.status_code == 200


def test_docs_when_no_token_then_public(shared_api):
    assert shared_api.client.get("/openapi.json").status_code == 200
    assert shared_api.client.get("/docs").status_code == 200


def test_check_token_when_shorter_than_minimum_then_config_error_without_the_value():
    with pytest.raises(ConfigError, match=f"at least {MIN_TOKEN_LENGTH}") as caught:
        check_token("s3cret")
    assert "s3cret" not in str(caught.value)
    assert check_token("é" * MIN_TOKEN_LENGTH) == ("é" * MIN_TOKEN_LENGTH).encode()


@settings(max_examples=200, deadline=None)
@given(sent=st.text(max_size=40))
def test_token_matches_when_any_header_then_only_the_exact_bearer_token(sent):
    expected = check_token(TOKEN)
    assert token_matches(f"Bearer {sent}", expected) == (sent == TOKEN)
    assert not token_matches(sent, expected) or sent.lower().startswith("bearer ")


def test_token_matches_when_non_ascii_token_then_compared_on_utf8_bytes():
    token = "jeton-secret-ünïcode-✓"
    wire = token.encode("utf-8").decode("latin-1")  # what the server's header decoding gives
    assert token_matches(f"Bearer {wire}", check_token(token))
    assert not token_matches(f"Bearer {token}", check_token(token))
