"""A real uvicorn server on a loopback port, in a thread, for the HTTP API tests (httpx as the client)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from src.api import create_app

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "src/data/portfolios/sample_portfolio.json"
TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PATHS = ("/api/rebalance/status", "/api/rebalance/preview", "/api/rebalance/harvest", "/api/rebalance/models",
         "/api/rebalance/history", "/api/rebalance/execute")


class LiveServer:
    """``create_app(config, data_dir, TOKEN)`` served by ``uvicorn.Server`` on 127.0.0.1, any free port."""

    def __init__(self, config: Path, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        app = create_app(config, data_dir, TOKEN)
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        self.client = httpx.Client(base_url=self.url, timeout=60)

    def close(self) -> None:
        self.client.close()
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.sock.close()

    def event_files(self) -> list[Path]:
        return sorted(self.data_dir.glob("rebalance_*.json"))

    def orders_sent(self) -> int:
        """Order reports the paper account has recorded (one per order sent)."""
        paper = next(self.data_dir.glob("paper_*.json"), None)
        return 0 if paper is None else json.loads(paper.read_text())["reports_count"]


@pytest.fixture
def api(tmp_path) -> Iterator[LiveServer]:
    """The API of the sample portfolio on a fresh data directory."""
    server = LiveServer(SAMPLE, tmp_path / "data")
    yield server
    server.close()


@pytest.fixture
def serve(tmp_path) -> Iterator:
    """A factory: ``serve(config)`` starts the API of another portfolio file (closed on teardown)."""
    servers: list[LiveServer] = []

    def start(config: Path, data_dir: Path | None = None) -> LiveServer:
        servers.append(LiveServer(config, data_dir or tmp_path / f"data{len(servers)}"))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture(scope="module")
def shared_api(tmp_path_factory) -> Iterator[LiveServer]:
    """One server for a module's read-only or refused requests (hypothesis examples share it)."""
    server = LiveServer(SAMPLE, tmp_path_factory.mktemp("shared") / "data")
    yield server
    server.close()
