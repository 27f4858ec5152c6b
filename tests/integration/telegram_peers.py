"""Real peers for the Telegram bot tests, on loopback only: Prometheus (the Debian binary)
scraping a fixed /metrics text, and Alertmanager (the Debian binary) holding posted alerts.

Both are module-scoped: they start once (a few seconds) and are only read by the tests.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def wait(what: str, check: Any, timeout: float = 60.0) -> None:
    """Poll ``check()`` until it is truthy; a generous limit that only guards against hangs."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except (OSError, urllib.error.URLError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@contextlib.contextmanager
def metrics_server(text: str) -> Iterator[str]:
    """Serves ``text`` as /metrics on 127.0.0.1; yields host:port."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = text.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def _process(args: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextlib.contextmanager
def prometheus(metrics_text: str, folder: Path, must_see: str) -> Iterator[str]:
    """A real Prometheus scraping ``metrics_text`` every second; yields its URL once the first
    scrape holds ``must_see``."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("prometheus not installed (apt-get install prometheus)")
    with metrics_server(metrics_text) as target:
        port = free_port()
        config = folder / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            f"  - job_name: gridwatch\n    static_configs: [{{targets: ['{target}']}}]\n"
        )
        args = [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={folder / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ]
        with _process(args, folder / "prometheus.log") as proc:
            url = f"http://127.0.0.1:{port}"

            def ready() -> bool:
                assert proc.poll() is None, (folder / "prometheus.log").read_text()
                body = get_json(f"{url}/api/v1/query?query={must_see}")
                return bool(body["data"]["result"])

            wait("Prometheus to scrape the fixed metrics", ready)
            yield url


@contextlib.contextmanager
def alertmanager(folder: Path) -> Iterator[str]:
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if binary is None:
        pytest.skip("Alertmanager not installed (apt-get install prometheus-alertmanager)")
    port = free_port()
    config = folder / "alertmanager.yml"
    config.write_text("route: {receiver: nobody}\nreceivers: [{name: nobody}]\n")
    args = [
        binary,
        f"--config.file={config}",
        f"--storage.path={folder / 'am'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    with _process(args, folder / "alertmanager.log") as proc:
        url = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            assert proc.poll() is None, (folder / "alertmanager.log").read_text()
            return get_json(f"{url}/api/v2/status")["cluster"] is not None

        wait("Alertmanager to answer", ready)
        yield url


def post_alerts(url: str, alerts: list[dict[str, Any]]) -> None:
    request = urllib.request.Request(
        f"{url}/api/v2/alerts",
        data=json.dumps(alerts).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
