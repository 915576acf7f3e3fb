"""An unmodified ccxt binance client trading against the loopback Binance (tests/brokers/fake_binance.py):
markets from its filters, balances, tickers, orders by client order id, cancels, trades, and every injected
fault surfacing as the ccxt exception a real Binance answer of that shape gives. Nothing leaves 127.0.0.1:
a socket guard refuses any other address and any name lookup but the loopback's."""

from __future__ import annotations

import ipaddress
import socket

import ccxt
import pytest

from tests.brokers.fake_binance import SPOT_ONLY, FakeBinance

SECRET = "test-secret-never-logged"
MARKETS = {
    "BTC/USDT": {"base": "BTC", "quote": "USDT", "step": 0.00001, "min_qty": 0.0001, "tick": 0.01,
                 "min_notional": 10},
    "ETH/USDT": {"base": "ETH", "quote": "USDT", "step": 0.0001, "min_qty": 0.001, "tick": 0.01,
                 "min_notional": 5, "notional_filter": "MIN_NOTIONAL"},
}
PRICES = {"BTC/USDT": 50_000.0, "ETH/USDT": 2_500.0}


def _loopback(host) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Every connect and name lookup in these tests must be for the loopback."""
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
            raise AssertionError(f"connection to {address} refused by the test's loopback guard")
        return real_connect(sock, address)

    def getaddrinfo(host, *args, **kwargs):
        if host is not None and not _loopback(host):
            raise AssertionError(f"name lookup of {host!r} refused by the test's loopback guard")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake():
    with FakeBinance(balances={"USDT": 10_000, "BTC": 0.5}, markets=MARKETS, prices=PRICES,
                     api_key="test-key", secret=SECRET, fee_rate=0.001) as venue:
        yield venue
        assert venue.errors == []


def make_client(fake: FakeBinance, *, options=SPOT_ONLY, secret=SECRET, api_key=None, timeout=3000):
    exchange = ccxt.binance({"apiKey": api_key or fake.api_key, "secret": secret, "enableRateLimit": True,
                             "rateLimit": 1, "timeout": timeout, "options": dict(options)})
    exchange.urls["api"] = fake.api_urls()
    return exchange


@pytest.fixture
def client(fake):
    exchange = make_client(fake)
    exchange.load_markets()
    return exchange


def booked(fake, client_id):
    return [o for o in fake.orders if o["clientOrderId"] == client_id]


# ---- plumbing ------------------------------------------------------------------------------------------------
def test_api_urls_when_built_then_every_ccxt_entry_points_at_the_loopback_with_its_path(fake):
    template = ccxt.binance().urls["api"]
    urls = fake.api_urls()
    assert fake.url.startswith("http://127.0.0.1:")
    assert set(urls) == set(template)
    assert all(url.startswith(fake.url + "/") for url in urls.values())
    assert urls["public"] == fake.url + "/api/v3" and urls["sapi"] == fake.url + "/sapi/v1"
    assert urls["fapiPrivateV2"] == fake.url + "/fapi/v2"


def test_connect_when_address_is_not_loopback_then_the_guard_refuses():
    with pytest.raises(AssertionError, match="loopback guard"):
        socket.create_connection(("192.0.2.1", 443), timeout=0.1)


@pytest.mark.parametrize("dropped, stray_path", [
    ("fetchCurrencies", "/sapi/v1/capital/config/getall"),
    ("fetchMargins", "/sapi/v1/margin/allPairs"),
    ("fetchMarkets", "/fapi/v1/exchangeInfo"),
])
def test_load_markets_when_a_spot_only_option_is_missing_then_a_non_spot_endpoint_is_called_on_loopback(
        fake, dropped, stray_path):
    exchange = make_client(fake, options={k: v for k, v in SPOT_ONLY.items() if k != dropped})
    with pytest.raises(ccxt.ExchangeNotAvailable, match="no such endpoint"):
        exchange.load_markets()
    assert fake.unhandled == [("GET", stray_path)]


def test_load_markets_when_spot_only_then_one_exchange_info_call_and_precision_from_filters(fake):
    exchange = make_client(fake)
    markets = exchange.load_markets()
    assert [r[:2] for r in fake.requests] == [("GET", "/api/v3/exchangeInfo")]
    assert set(markets) == {"BTC/USDT", "ETH/USDT"}
    btc, eth = markets["BTC/USDT"], markets["ETH/USDT"]
    assert (btc["precision"]["amount"], btc["precision"]["price"]) == (0.00001, 0.01)
    assert btc["limits"]["amount"]["min"] == 0.0001 and btc["limits"]["price"]["min"] == 0.01
    assert btc["limits"]["cost"]["min"] == 10 and eth["limits"]["cost"]["min"] == 5   # NOTIONAL, MIN_NOTIONAL
    assert exchange.amount_to_precision("BTC/USDT", 0.123456789) == "0.12345"
    assert exchange.price_to_precision("ETH/USDT", 2500.123) == "2500.12"


def test_private_call_when_secret_is_wrong_then_authentication_error_and_nothing_secret_logged(fake, client):
    with pytest.raises(ccxt.AuthenticationError, match="-1022"):
        make_client(fake, secret="not-the-secret").fetch_balance()
    with pytest.raises(ccxt.AuthenticationError, match="-2015"):
        make_client(fake, api_key="other-key").fetch_balance()
    client.fetch_balance()
    assert SECRET not in repr(fake.requests)
    assert all("signature" not in params for _, _, params in fake.requests)
    assert [r[:2] for r in fake.requests].count(("GET", "/api/v3/account")) == 3


# ---- reads ---------------------------------------------------------------------------------------------------
def test_fetch_balance_when_funded_then_free_used_and_total_match(client):
    balance = client.fetch_balance()
    assert balance["USDT"] == {"free": 10_000.0, "used": 0.0, "total": 10_000.0}
    assert balance["BTC"]["free"] == 0.5 and balance["ETH"]["total"] == 0.0


def test_fetch_tickers_when_prices_set_then_last_prices_follow(fake, client):
    tickers = client.fetch_tickers(["BTC/USDT", "ETH/USDT"])
    assert {s: t["last"] for s, t in tickers.items()} == PRICES
    fake.set_price("ETH/USDT", 2_600.5)
    assert client.fetch_ticker("ETH/USDT")["last"] == 2_600.5
    assert ("GET", "/api/v3/ticker/24hr", {"symbols": '["BTCUSDT","ETHUSDT"]'}) in fake.requests


# ---- orders --------------------------------------------------------------------------------------------------
def test_create_order_when_market_buy_with_client_id_then_filled_and_fee_charged_in_quote(fake, client):
    order = client.create_order("BTC/USDT", "market", "buy", 0.01, params={"clientOrderId": "buy-1"})
    assert (order["status"], order["filled"], order["cost"], order["clientOrderId"]) == ("closed", 0.01, 500.0,
                                                                                         "buy-1")
    assert order["fee"] == {"currency": "USDT", "cost": 0.5}
    assert fake.balances["USDT"] == pytest.approx(10_000 - 500.5) and fake.balances["BTC"] == pytest.approx(0.51)
    assert fake.requests[-1][2]["newClientOrderId"] == "buy-1"
    assert booked(fake, "buy-1")[0]["status"] == "FILLED"


def test_create_order_when_market_sell_then_quote_credited_less_fee(fake, client):
    order = client.create_order("BTC/USDT", "market", "sell", 0.1, params={"clientOrderId": "sell-1"})
    assert (order["status"], order["filled"], order["cost"]) == ("closed", 0.1, 5_000.0)
    assert fake.balances["USDT"] == pytest.approx(10_000 + 5_000 - 5) and fake.balances["BTC"] == pytest.approx(0.4)


def test_fetch_order_when_asked_by_client_order_id_then_the_booked_order(fake, client):
    placed = client.create_order("BTC/USDT", "market", "buy", 0.002, params={"clientOrderId": "cid-7"})
    by_param = client.fetch_order(None, "BTC/USDT", params={"clientOrderId": "cid-7"})
    by_helper = client.fetch_order_with_client_order_id("cid-7", "BTC/USDT")
    assert by_param["id"] == by_helper["id"] == placed["id"] and by_param["status"] == "closed"
    assert fake.requests[-1][2]["origClientOrderId"] == "cid-7" and "orderId" not in fake.requests[-1][2]
    with pytest.raises(ccxt.OrderNotFound):
        client.fetch_order_with_client_order_id("never-sent", "BTC/USDT")


def test_cancel_order_when_limit_rests_then_listed_open_and_cancel_frees_its_funds(fake, client):
    order = client.create_order("BTC/USDT", "limit", "buy", 0.01, 40_000, params={"clientOrderId": "rest-1"})
    assert order["status"] == "open" and fake.locked["USDT"] == pytest.approx(400.4)
    assert [o["clientOrderId"] for o in client.fetch_open_orders("BTC/USDT")] == ["rest-1"]
    assert client.cancel_order(order["id"], "BTC/USDT")["status"] == "canceled"
    assert client.fetch_open_orders("BTC/USDT") == [] and fake.balances["USDT"] == 10_000
    with pytest.raises(ccxt.OrderNotFound):
        client.cancel_order(order["id"], "BTC/USDT")


def test_set_price_when_it_crosses_a_resting_limit_then_it_fills_at_its_price(fake, client):
    order = client.create_order("BTC/USDT", "limit", "sell", 0.1, 51_000, params={"clientOrderId": "ask-1"})
    fake.set_price("BTC/USDT", 51_500)
    filled = client.fetch_order(order["id"], "BTC/USDT")
    assert (filled["status"], filled["average"], filled["cost"]) == ("closed", 51_000, 5_100)


def test_fetch_my_trades_when_orders_filled_then_trades_with_commission(fake, client):
    client.create_order("BTC/USDT", "market", "buy", 0.01, params={"clientOrderId": "t-1"})
    client.create_order("BTC/USDT", "market", "sell", 0.004, params={"clientOrderId": "t-2"})
    trades = client.fetch_my_trades("BTC/USDT")
    assert [(t["side"], t["amount"], t["price"]) for t in trades] == [("buy", 0.01, 50_000), ("sell", 0.004, 50_000)]
    assert [t["fee"]["cost"] for t in trades] == [0.5, 0.2] and trades[0]["fee"]["currency"] == "USDT"
    assert [t["id"] for t in trades] == [str(t["id"]) for t in fake.trades]
    assert [t["order"] for t in trades] == [str(o["orderId"]) for o in fake.orders]


# ---- rejections ----------------------------------------------------------------------------------------------
def test_create_order_when_amount_below_lot_size_minimum_then_invalid_order_not_booked(fake, client):
    with pytest.raises(ccxt.InvalidOrder, match="LOT_SIZE"):
        client.create_order("BTC/USDT", "market", "buy", 0.00005)
    assert fake.orders == []


def test_create_order_when_limit_price_off_tick_then_invalid_order(fake, client):
    with pytest.raises(ccxt.InvalidOrder, match="PRICE_FILTER"):        # sent raw: price_to_precision would round
        client.private_post_order({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                                   "quantity": "0.01", "price": "40000.005"})
    assert fake.orders == []


@pytest.mark.parametrize("symbol, amount, filter_name", [("BTC/USDT", 0.0001, "NOTIONAL"),
                                                          ("ETH/USDT", 0.0019, "MIN_NOTIONAL")])
def test_create_order_when_notional_too_small_then_bad_request_not_invalid_order(fake, client, symbol, amount,
                                                                                 filter_name):
    with pytest.raises(ccxt.BadRequest, match=f"Filter failure: {filter_name}") as caught:
        client.create_order(symbol, "market", "buy", amount)
    assert not isinstance(caught.value, ccxt.InvalidOrder) and fake.orders == []


def test_create_order_when_balance_short_then_insufficient_funds(fake, client):
    with pytest.raises(ccxt.InsufficientFunds):
        client.create_order("BTC/USDT", "market", "buy", 0.2)       # 10,010 USDT with the fee
    with pytest.raises(ccxt.InsufficientFunds):
        client.create_order("BTC/USDT", "market", "sell", 0.6)
    fake.inject("insufficient_balance")
    with pytest.raises(ccxt.InsufficientFunds):
        client.create_order("BTC/USDT", "market", "buy", 0.001)
    assert fake.orders == [] and fake.balances["USDT"] == 10_000


def test_create_order_when_client_id_is_on_an_open_order_then_duplicate_rejected_until_it_closes(fake, client):
    first = client.create_order("BTC/USDT", "limit", "buy", 0.01, 40_000, params={"clientOrderId": "dup-1"})
    with pytest.raises(ccxt.InvalidOrder, match="Duplicate order sent"):
        client.create_order("BTC/USDT", "market", "buy", 0.01, params={"clientOrderId": "dup-1"})
    client.cancel_order(first["id"], "BTC/USDT")
    again = client.create_order("BTC/USDT", "market", "buy", 0.01, params={"clientOrderId": "dup-1"})
    assert again["status"] == "closed" and [o["status"] for o in booked(fake, "dup-1")] == ["CANCELED", "FILLED"]
    assert client.fetch_order_with_client_order_id("dup-1", "BTC/USDT")["id"] == again["id"]    # the latest


def test_create_order_when_duplicate_injected_then_invalid_order_and_nothing_booked(fake, client):
    fake.inject("duplicate_client_id")
    with pytest.raises(ccxt.InvalidOrder, match="Duplicate order sent"):
        client.create_order("BTC/USDT", "market", "buy", 0.01, params={"clientOrderId": "fresh-1"})
    assert fake.orders == [] and fake.pending_faults == []


# ---- faults --------------------------------------------------------------------------------------------------
def test_create_order_when_rate_limited_then_ddos_protection_and_not_booked(fake, client):
    fake.inject("rate_limit")
    with pytest.raises(ccxt.DDoSProtection) as caught:          # ccxt raises on 429/418 before reading -1003
        client.create_order("BTC/USDT", "market", "buy", 0.01, params={"clientOrderId": "rl-1"})
    assert isinstance(caught.value, ccxt.NetworkError) and booked(fake, "rl-1") == []
    assert client.create_order("BTC/USDT", "market", "buy", 0.01, params={"clientOrderId": "rl-1"})["status"] == \
        "closed"


def test_fetch_balance_when_rate_limited_on_account_then_ddos_protection(fake, client):
    fake.inject("rate_limit", endpoint="account", status=418)
    with pytest.raises(ccxt.DDoSProtection):
        client.fetch_balance()
    assert client.fetch_balance()["USDT"]["free"] == 10_000


@pytest.mark.parametrize("code, error", [(-1000, ccxt.OperationFailed), (-1007, ccxt.RequestTimeout),
                                         (None, ccxt.ExchangeNotAvailable)])
def test_create_order_when_server_error_before_booking_then_mapped_error_and_nothing_booked(fake, client, code,
                                                                                            error):
    fake.inject("server_error_before", code=code)
    with pytest.raises(error):
        client.create_order("BTC/USDT", "market", "buy", 0.01, params={"clientOrderId": "5xx-1"})
    assert booked(fake, "5xx-1") == []
    with pytest.raises(ccxt.OrderNotFound):
        client.fetch_order_with_client_order_id("5xx-1", "BTC/USDT")


def test_create_order_when_server_error_after_booking_then_error_but_order_found_by_client_id(fake, client):
    fake.inject("server_error_after")
    with pytest.raises(ccxt.OperationFailed) as caught:
        client.create_order("BTC/USDT", "market", "buy", 0.01, params={"clientOrderId": "5xx-2"})
    assert not isinstance(caught.value, (ccxt.NetworkError, ccxt.ExchangeError))   # -1000 maps to the bare class
    found = client.fetch_order_with_client_order_id("5xx-2", "BTC/USDT")
    assert (found["status"], found["filled"]) == ("closed", 0.01)
    assert fake.balances["BTC"] == pytest.approx(0.51)


def test_create_order_when_timeout_after_accept_then_request_timeout_and_order_booked(fake):
    exchange = make_client(fake, timeout=300)
    exchange.load_markets()
    fake.inject("timeout_after_accept", delay=1.0)
    with pytest.raises(ccxt.RequestTimeout):
        exchange.create_order("BTC/USDT", "market", "buy", 0.01, params={"clientOrderId": "slow-1"})
    assert [o["status"] for o in booked(fake, "slow-1")] == ["FILLED"]
    assert exchange.fetch_order_with_client_order_id("slow-1", "BTC/USDT")["status"] == "closed"


def test_fetch_order_when_partially_filled_then_more_fills_on_each_poll_until_filled(fake, client):
    fake.inject("partial_fill", fraction=0.5, polls=3)
    order = client.create_order("BTC/USDT", "market", "buy", 0.01, params={"clientOrderId": "part-1"})
    assert (order["status"], order["filled"], len(order["trades"])) == ("open", 0.005, 1)
    seen = []
    for _ in range(10):                                        # bounded polling
        polled = client.fetch_order_with_client_order_id("part-1", "BTC/USDT")
        seen.append(polled["filled"])
        if polled["status"] == "closed":
            break
    assert seen == [0.0075, 0.00875, 0.01]
    assert len(booked(fake, "part-1")[0]["fills"]) == 4 and fake.locked["USDT"] == 0
    assert fake.balances["USDT"] == pytest.approx(10_000 - 500.5)
    assert len(client.fetch_my_trades("BTC/USDT")) == 4


def test_requests_when_a_session_ran_then_all_were_served_by_the_fake_on_loopback(fake, client):
    client.fetch_balance()
    client.create_order("BTC/USDT", "market", "buy", 0.01, params={"clientOrderId": "all-1"})
    client.fetch_open_orders("BTC/USDT")
    paths = [path for _, path, _ in fake.requests]
    assert paths == ["/api/v3/exchangeInfo", "/api/v3/account", "/api/v3/order", "/api/v3/openOrders"]
    assert fake.unhandled == [] and all(u.startswith("http://127.0.0.1:") for u in client.urls["api"].values())
