"""Building the exchange from the exchange block: keys only from the environment, api_urls and
sandbox applied, bad blocks refused in one line; error translation and scrubbing."""

from __future__ import annotations

import ccxt
import pytest

from src.brokers.ccxt_client import make_exchange, scrub, translate
from src.errors import (BrokerAuthError, BrokerError, BrokerUnavailableError, ConfigError, InsufficientFundsError,
                        OrderRejectedError)
from src.models.execution_models import ExchangeSettings

ENV = {"K": "key-123", "S": "secret-456"}


def block(**fields) -> ExchangeSettings:
    return ExchangeSettings(**{"id": "binance", "api_key_env": "K", "secret_env": "S", **fields})


def test_make_exchange_when_api_urls_then_entries_overridden_and_keys_from_env():
    exchange, keys = make_exchange(block(api_urls={"public": "http://127.0.0.1:9/api/v3"}), env=ENV)
    assert exchange.urls["api"]["public"] == "http://127.0.0.1:9/api/v3"
    assert exchange.apiKey == "key-123" and exchange.secret == "secret-456" and keys == {"apiKey": "key-123",
                                                                                        "secret": "secret-456"}
    assert exchange.enableRateLimit is True


def test_make_exchange_when_sandbox_then_testnet_urls():
    exchange, _ = make_exchange(block(sandbox=True), env=ENV)
    assert "testnet" in str(exchange.urls["api"]["public"])


@pytest.mark.parametrize("fields, words", [
    ({"api_urls": {"nope": "http://127.0.0.1:9"}}, "runtime.exchange.api_urls['nope']: binance has no such"),
    ({"id": "notanexchange"}, "runtime.exchange.id='notanexchange' is not a ccxt exchange"),
])
def test_make_exchange_when_bad_block_then_one_line_naming_the_field(fields, words):
    with pytest.raises(ConfigError) as info:
        make_exchange(block(**fields), env=ENV)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_exchange_block_when_key_written_in_file_then_refused_without_echoing_it():
    from src.errors import one_line_error
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as info:
        ExchangeSettings.model_validate({"id": "binance", "api_key": "SECRET123"})
    assert "SECRET123" not in one_line_error(info.value)


@pytest.mark.parametrize("exc, ours", [
    (ccxt.InsufficientFunds("x"), InsufficientFundsError), (ccxt.InvalidOrder("x"), OrderRejectedError),
    (ccxt.BadRequest("x"), OrderRejectedError), (ccxt.AuthenticationError("x"), BrokerAuthError),
    (ccxt.RequestTimeout("x"), BrokerUnavailableError), (ccxt.DDoSProtection("x"), BrokerUnavailableError),
    (ccxt.OperationFailed("x"), BrokerUnavailableError), (ccxt.ExchangeError("x"), BrokerError),
])
def test_translate_when_ccxt_error_then_project_error(exc, ours):
    assert type(translate(exc, "call", {})) is ours


def test_scrub_when_keys_in_text_then_replaced():
    assert scrub("sent key-123 and secret-456", {"apiKey": "key-123", "secret": "secret-456"}) == "sent *** and ***"
