"""The receiver's HTTP side: ``POST /alertmanager``, ``GET /healthz``, ``GET /metrics``.

Alertmanager re-sends a notification until it gets a 2xx and re-sends a 4xx'd one at every
flush, forever (PROTOCOLS.md 10.3). So: 200 as soon as the work is committed to the outbox —
Telegram or plug trouble is the worker's business — 4xx only for requests that are not from our
Alertmanager, 503 only when the outbox cannot be written (then a retry may succeed).
"""

from __future__ import annotations

import hmac
import json
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CollectorRegistry

from gridwatch import __version__
from gridwatch.core.server import REGISTRY_KEY
from gridwatch.core.server import metrics as serve_metrics
from gridwatch.receiver.metrics import ReceiverStats
from gridwatch.receiver.outbox import Outbox
from gridwatch.receiver.payload import PayloadError, parse_notification

log = logging.getLogger(__name__)

PATH = "/alertmanager"


@dataclass
class Webhook:
    token: str
    outbox: Outbox
    stats: ReceiverStats
    max_body_bytes: int
    on_accepted: Callable[[], None] = lambda: None  # wakes the worker
    clock: Callable[[], float] = time.time
    # What keeps messages from going out (e.g. Telegram rejected the bot token), for /healthz.
    notifier_problem: Callable[[], str | None] = lambda: None
    # Reasons already logged since the last accepted request: a misconfigured sender retrying
    # every few seconds is logged once, not once per request.
    _complained: set[str] = field(default_factory=set)
    last_write_failed: bool = False

    def _reject(self, code: int, reason: str, message: str) -> web.Response:
        self.stats.webhook_requests[str(code)] += 1
        self.stats.rejected[reason] += 1
        level = logging.DEBUG if reason in self._complained else logging.WARNING
        self._complained.add(reason)
        log.log(level, "webhook request refused (%d %s): %s", code, reason, message)
        headers = {"WWW-Authenticate": "Bearer"} if code == 401 else None
        return web.json_response({"error": message}, status=code, headers=headers)

    def _authorized(self, header: str) -> bool:
        scheme, _, credentials = header.partition(" ")
        # Compare in constant time so the token cannot be guessed byte by byte.
        same = hmac.compare_digest(
            credentials.strip().encode("utf-8", "replace"), self.token.encode("utf-8")
        )
        return scheme.lower() == "bearer" and same

    async def _read_body(self, request: web.Request) -> bytes | None:
        """The whole body, or None as soon as it exceeds the limit (chunked bodies too)."""
        if request.content_length is not None and request.content_length > self.max_body_bytes:
            return None
        body = bytearray()
        async for chunk in request.content.iter_chunked(65_536):
            body += chunk
            if len(body) > self.max_body_bytes:
                return None
        return bytes(body)

    async def handle(self, request: web.Request) -> web.Response:
        if not self._authorized(request.headers.get("Authorization", "")):
            return self._reject(401, "unauthorized", "missing or wrong bearer token")
        if request.content_type != "application/json":
            return self._reject(
                415, "content_type", f"expected application/json, got {request.content_type}"
            )
        body = await self._read_body(request)
        if body is None:
            return self._reject(413, "too_large", f"body over {self.max_body_bytes} bytes")
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            return self._reject(400, "invalid_json", f"not JSON: {str(exc)[:120]}")
        try:
            notification = parse_notification(data)
        except PayloadError as exc:
            return self._reject(400, "invalid_payload", f"not an Alertmanager v4 payload: {exc}")
        try:
            accepted = self.outbox.accept(notification, self.clock())
        except sqlite3.Error as exc:
            self.stats.webhook_requests["503"] += 1
            self.stats.outbox_write_errors += 1
            if not self.last_write_failed:
                log.error("cannot write the outbox (%s); answering 503, Alertmanager retries", exc)
            self.last_write_failed = True
            return web.json_response({"error": "outbox unavailable, retry"}, status=503)
        if self.last_write_failed:
            log.info("outbox writable again")
        self.last_write_failed = False
        self._complained.clear()
        self.stats.webhook_requests["200"] += 1
        self.stats.duplicates += accepted.duplicates
        if accepted.job_id is not None:
            self.on_accepted()
        for alert in accepted.alerts:
            self.stats.alerts_accepted[alert.status] += 1
        log.info(
            "accepted %s from %s: %d new alert(s), %d duplicate(s)",
            notification.status,
            notification.receiver,
            accepted.new_alerts,
            accepted.duplicates,
        )
        return web.json_response(
            {
                "status": "accepted",
                "job": accepted.job_id,
                "new_alerts": accepted.new_alerts,
                "duplicates": accepted.duplicates,
            }
        )

    async def healthz(self, request: web.Request) -> web.Response:
        problem = self.notifier_problem()
        status = "degraded" if self.last_write_failed or problem else "ok"
        body: dict[str, object] = {
            "status": status,
            "version": __version__,
            "outbox": self.outbox.counts,
        }
        if problem:
            body["notifier"] = problem
        # 503 only for the outbox: a Telegram problem must not get the receiver restarted by a
        # health check, which would not fix it and would interrupt load shedding.
        return web.json_response(body, status=503 if self.last_write_failed else 200)


def make_app(webhook: Webhook, registry: CollectorRegistry) -> web.Application:
    # aiohttp's own limit stays above ours so the handler answers (and counts) the 413 itself.
    app = web.Application(client_max_size=webhook.max_body_bytes + 65_536)
    app[REGISTRY_KEY] = registry  # what the exporter's /metrics handler reads
    app.router.add_post(PATH, webhook.handle)
    app.router.add_get("/healthz", webhook.healthz)
    app.router.add_get("/metrics", serve_metrics)
    return app
