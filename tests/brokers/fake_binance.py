"""A loopback Binance for tests: an HTTP server on 127.0.0.1 that speaks enough of Binance's spot REST API
(v3) for an unmodified ``ccxt.binance`` client to trade against it, with fault injection.

    with FakeBinance(balances={"USDT": 10_000}, prices={"BTC/USDT": 50_000},
                     markets={"BTC/USDT": {"base": "BTC", "quote": "USDT", "step": 0.00001,
                                           "min_qty": 0.0001, "tick": 0.01, "min_notional": 5}}) as fake:
        exchange = ccxt.binance({"apiKey": fake.api_key, "secret": SECRET, "options": SPOT_ONLY})
        exchange.urls["api"] = fake.api_urls()

``SPOT_ONLY`` (below) keeps ccxt's ``load_markets`` to ``GET /api/v3/exchangeInfo``; without it ccxt also
asks the futures APIs and the signed sapi ones, which this fake answers with a 404 (logged, on loopback).

Endpoints (under /api/v3): ping, time, exchangeInfo, ticker/24hr, ticker/price, ticker/bookTicker,
and, signed (X-MBX-APIKEY, HMAC-SHA256 ``signature`` of the query string + body, ``timestamp`` within
``recvWindow``): account, order (POST/GET/DELETE), order/test, openOrders, allOrders, myTrades.
The exchange logic (filters, balances, fills) lives in tests/brokers/fake_binance_api.py.

Faults (``inject``), each for the next ``times`` matching requests of ``endpoint`` (by default POST for
"order", any method otherwise; ``method=`` narrows or widens it, "*" for any):
  timeout_after_accept  the request is carried out (an order is booked), then the answer waits
                        ``delay`` seconds (default 1.0, at most 5, cut short by close()).
  rate_limit            HTTP 429 (``status=418`` for a ban) with code -1003 and Retry-After; nothing done.
  server_error_before   HTTP ``status`` (503) with ``code`` (-1000 "An unknown error occurred while
                        processing the request."; ``code=None`` sends a non-JSON body); nothing done.
  server_error_after    the same answer, but the request was carried out (the order is booked and filled).
  partial_fill          a MARKET (or marketable LIMIT) order fills only ``fraction`` (0.5) now and stays
                        PARTIALLY_FILLED; each later GET /order of it fills ``fraction`` of the rest and
                        the ``polls``-th (2, at most 100) fills all that remains.
  insufficient_balance  -2010 "Account has insufficient balance for requested action." (the balance
                        check is real anyway).
  duplicate_client_id   -2010 "Duplicate order sent." although no open order has the id (without any
                        injection a new order whose client id is on an OPEN order is rejected so, while
                        one whose earlier namesake is filled or canceled is accepted, as on Binance;
                        ``unique_client_ids=True`` rejects any reused id).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socketserver
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Mapping, Optional
from urllib.parse import parse_qsl, urlsplit

from tests.brokers.fake_binance_api import BinanceError, Venue, dec, duplicate_order, insufficient_balance, now_ms

SPOT_ONLY = {"defaultType": "spot", "fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False,
             "fetchMargins": False}
FAULTS = ("timeout_after_accept", "rate_limit", "server_error_before", "server_error_after", "partial_fill",
          "insufficient_balance", "duplicate_client_id")
ORDER_ONLY = ("partial_fill", "insufficient_balance", "duplicate_client_id")
SIGNED = ("account", "order", "order/test", "openOrders", "allOrders", "myTrades")
PUBLIC = ("ping", "time", "exchangeInfo", "ticker/24hr", "ticker/price", "ticker/bookTicker", "klines")
MAX_DELAY = 5.0
MAX_BODY = 64 * 1024
STATUS_BODIES = {-1000: "An unknown error occurred while processing the request.",
                 -1001: "Internal error; unable to process your request. Please try again.",
                 -1006: "An unexpected response was received from the message bus. Execution status unknown.",
                 -1007: "Timeout waiting for response from backend server. Send status unknown; execution "
                        "status unknown.",
                 -1008: "Server is currently overloaded with other requests. Please try again in a few minutes."}


@dataclass
class Fault:
    name: str
    endpoint: str
    method: str
    times: int
    options: dict = field(default_factory=dict)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False
    fake: "FakeBinance"

    def server_bind(self):                            # HTTPServer's would look the host name up (getfqdn)
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 2.0                                     # an idle keep-alive connection's thread ends after this
    wbufsize = MAX_BODY                               # one write per answer (flushed by http.server) and
    disable_nagle_algorithm = True                    # no Nagle: no 40 ms delayed-ACK stalls
    server: _Server

    def log_message(self, format, *args):             # noqa: A002 - quiet
        pass

    def handle(self):
        try:
            super().handle()
        except OSError:                                   # the client went away (e.g. after its timeout)
            self.close_connection = True

    def do_GET(self):
        self.server.fake._serve(self, "GET")

    def do_POST(self):
        self.server.fake._serve(self, "POST")

    def do_DELETE(self):
        self.server.fake._serve(self, "DELETE")

    def do_PUT(self):
        self.server.fake._serve(self, "PUT")


class FakeBinance:
    """Binance's spot REST API on 127.0.0.1 (a free port), served from a daemon thread until close()."""

    def __init__(self, *, balances: Mapping[str, float], markets: Mapping[str, dict], prices: Mapping[str, float],
                 api_key: str = "fake-api-key", secret: str = "fake-secret", fee_rate: float = 0.001,
                 unique_client_ids: bool = False, daily_closes: Optional[Mapping[str, list]] = None):
        self.api_key = api_key
        # Binance id ("BTCUSDT") -> [(day start in ms, close), ...]: the 1d klines served (real closes in tests)
        self._daily = {k: list(v) for k, v in (daily_closes or {}).items()}
        self._secret = secret.encode()
        self._lock = threading.RLock()
        self._venue = Venue(dict(balances), dict(markets), dict(prices), fee_rate, unique_client_ids)
        self._faults: list[Fault] = []
        self._stop = threading.Event()
        self.requests: list[tuple[str, str, dict]] = []   # (method, path, params without the signature)
        self.unhandled: list[tuple[str, str]] = []        # requests for endpoints this fake does not serve
        self.errors: list[str] = []                       # the fake's own failures (answered with a 500)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-binance", daemon=True)
        self._thread.start()

    # ---- lifecycle -----------------------------------------------------------------------------------------
    def __enter__(self) -> "FakeBinance":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # ---- what tests read -----------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def api_urls(self, template: Optional[Mapping] = None) -> dict:
        """``template`` (default: a fresh ``ccxt.binance().urls['api']``) with every URL moved to this
        server, keeping its path (e.g. '/api/v3', '/sapi/v1', '/fapi/v1'); assign to ``exchange.urls['api']``."""
        if template is None:
            import ccxt
            template = ccxt.binance().urls["api"]
        return {key: self.api_urls(value) if isinstance(value, Mapping) else self.url + urlsplit(value).path
                for key, value in template.items()}

    @property
    def orders(self) -> list[dict]:
        """Every booked order: orderId, clientOrderId, symbol, side, type, price, origQty, executedQty,
        cummulativeQuoteQty, status, fills (price, qty, commission, commissionAsset, tradeId)."""
        with self._lock:
            return [o.view() for o in self._venue.orders]

    @property
    def trades(self) -> list[dict]:
        with self._lock:
            return [{k: float(v) if k in ("price", "qty", "quoteQty", "commission") else v for k, v in t.items()}
                    for t in self._venue.trades]

    @property
    def balances(self) -> dict[str, float]:
        """Free balance per asset now."""
        with self._lock:
            return {a: float(v) for a, v in self._venue.free.items()}

    @property
    def locked(self) -> dict[str, float]:
        with self._lock:
            return {a: float(v) for a, v in self._venue.locked.items()}

    def set_price(self, symbol: str, price: float) -> None:
        with self._lock:
            self._venue.set_price(symbol, price)

    def inject(self, fault: str, *, times: int = 1, endpoint: str = "order", method: Optional[str] = None,
               **options) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r} (one of {', '.join(FAULTS)})")
        if endpoint not in SIGNED + PUBLIC:
            raise ValueError(f"unknown endpoint {endpoint!r}")
        if fault in ORDER_ONLY and (endpoint, method or "POST") != ("order", "POST"):
            raise ValueError(f"{fault} applies to POST order only")
        if not 1 <= times <= 1000:
            raise ValueError("times must be between 1 and 1000")
        method = method or ("POST" if endpoint == "order" else "*")
        with self._lock:
            self._faults.append(Fault(fault, endpoint, method.upper(), times, options))

    @property
    def pending_faults(self) -> list[str]:
        with self._lock:
            return [f.name for f in self._faults]

    # ---- serving -------------------------------------------------------------------------------------------
    def _take_fault(self, endpoint: str, method: str) -> Optional[Fault]:
        with self._lock:
            for fault in self._faults:
                if fault.endpoint == endpoint and fault.method in ("*", method):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _serve(self, handler: _Handler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            handler.close_connection = True
            return self._send(handler, 413, b"request body too large")
        body = handler.rfile.read(length).decode("utf-8", "replace") if length else ""
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        params.update(parse_qsl(body, keep_blank_values=True))
        with self._lock:
            self.requests.append((method, parts.path, {k: v for k, v in params.items() if k != "signature"}))
        endpoint = parts.path[len("/api/v3/"):] if parts.path.startswith("/api/v3/") else None
        if endpoint not in SIGNED + PUBLIC:
            with self._lock:
                self.unhandled.append((method, parts.path))
            return self._send(handler, 404, f"fake_binance: no such endpoint {method} {parts.path}".encode())
        try:
            if endpoint in SIGNED:
                self._authenticate(handler, parts.query, body, params)
            fault = self._take_fault(endpoint, method)
            name = fault.name if fault else None
            if name == "rate_limit":
                status = fault.options.get("status", 429)
                raise BinanceError(status, -1003, "Too much request weight used; current limit is 6000 request "
                                   "weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid "
                                   "polling the API.", {"Retry-After": str(fault.options.get("retry_after", 1))})
            if name == "server_error_before":
                return self._send_server_error(handler, fault)
            with self._lock:
                payload = self._route(endpoint, method, params, fault)
            if name == "server_error_after":
                return self._send_server_error(handler, fault)
            if name == "timeout_after_accept":
                self._stop.wait(min(float(fault.options.get("delay", 1.0)), MAX_DELAY))
            self._send(handler, 200, payload)
        except BinanceError as exc:
            self._send(handler, exc.status, exc.body(), exc.headers)
        except Exception as exc:                          # a bug in the fake: loud, never a plausible answer
            with self._lock:
                self.errors.append(f"{method} {parts.path}: {exc!r}")
            self._send(handler, 500, f"fake_binance internal error: {exc!r}".encode())

    def _authenticate(self, handler: _Handler, query: str, body: str, params: dict) -> None:
        key = handler.headers.get("X-MBX-APIKEY")
        if not key:
            raise BinanceError(401, -2014, "API-key format invalid.")
        if not hmac.compare_digest(key, self.api_key):
            raise BinanceError(401, -2015, "Invalid API-key, IP, or permissions for action.")
        signature = params.get("signature")
        if not signature:
            raise BinanceError(400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or "
                                           "malformed.")
        strip = lambda text: "&".join(p for p in text.split("&") if p and not p.startswith("signature="))  # noqa
        total = strip(query) + strip(body)                # Binance signs the query string followed by the body
        expected = hmac.new(self._secret, total.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.lower()):
            raise BinanceError(400, -1022, "Signature for this request is not valid.")
        try:
            timestamp, window = int(params.get("timestamp", "")), int(params.get("recvWindow") or 5000)
        except ValueError:
            raise BinanceError(400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or "
                                           "malformed.") from None
        if window > 60_000:
            raise BinanceError(400, -1131, "recvWindow must be less than 60000.")
        if timestamp > now_ms() + 1000:
            raise BinanceError(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time.")
        if now_ms() - timestamp > window:
            raise BinanceError(400, -1021, "Timestamp for this request is outside of the recvWindow.")

    def _route(self, endpoint: str, method: str, params: dict, fault: Optional[Fault]):
        venue, name = self._venue, fault.name if fault else None
        if endpoint == "ping":
            return {}
        if endpoint == "time":
            return {"serverTime": now_ms()}
        if endpoint == "exchangeInfo":
            return venue.exchange_info(params)
        if endpoint == "klines":
            rows = self._daily.get(params.get("symbol", ""), [])[-int(params.get("limit", 500)):]
            return [[t, str(c), str(c), str(c), str(c), "0", t + 86_399_999, "0", 0, "0", "0", "0"] for t, c in rows]
        if endpoint.startswith("ticker/"):
            return venue.tickers(params, endpoint[len("ticker/"):])
        if endpoint == "account":
            return venue.account()
        if endpoint in ("order", "order/test") and method == "POST":
            force = {"insufficient_balance": insufficient_balance(), "duplicate_client_id": duplicate_order()}
            partial = None
            if name == "partial_fill":
                partial = (dec(fault.options.get("fraction", 0.5)), max(1, min(int(fault.options.get("polls", 2)),
                                                                               100)))
            order = venue.new_order(params, partial=partial, force=force.get(name), test=endpoint == "order/test")
            return {} if order is None else order.new_json(params.get("newOrderRespType") or "FULL")
        if endpoint == "order" and method == "GET":
            order = venue.find(params, missing=BinanceError(400, -2013, "Order does not exist."))
            venue.poll(order)
            return order.query_json()
        if endpoint == "order" and method == "DELETE":
            return venue.cancel(params)
        if endpoint == "openOrders" and method == "GET":
            return venue.open_orders(params)
        if endpoint == "allOrders" and method == "GET":
            return venue.all_orders(params)
        if endpoint == "myTrades" and method == "GET":
            return venue.my_trades(params)
        raise BinanceError(405, -1000, f"fake_binance: {method} {endpoint} is not served")

    def _send_server_error(self, handler: _Handler, fault: Fault) -> None:
        code = fault.options.get("code", -1000)
        body = {"code": code, "msg": STATUS_BODIES.get(code, "Unknown error.")} if code is not None \
            else b"<html><body><h1>503 Service Unavailable</h1></body></html>"
        self._send(handler, int(fault.options.get("status", 503)), body)

    @staticmethod
    def _send(handler: _Handler, status: int, payload, headers: Optional[dict] = None) -> None:
        raw = isinstance(payload, bytes)
        data = payload if raw else json.dumps(payload).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "text/html" if raw else "application/json;charset=UTF-8")
            handler.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                handler.send_header(key, value)
            handler.end_headers()
            handler.wfile.write(data)
            handler.wfile.flush()
        except OSError:                                   # the client gave up (e.g. its timeout)
            handler.close_connection = True
