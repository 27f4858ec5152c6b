"""What the bot reads: Prometheus' HTTP API (numbers), the exporter's JSON API (outage schedule,
price slots) and Alertmanager's API v2 (active alerts) — each with a timeout.

A peer that cannot answer is a ``PeerError`` with a short reason for the user; "not configured
there" (HTTP 404 from the exporter) is ``None``, which the texts say differently.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import aiohttp

from gridwatch.receiver.config import ReceiverConfig


@dataclass(frozen=True, slots=True)
class Sample:
    labels: dict[str, str]
    value: float

    @property
    def name(self) -> str:
        return self.labels.get("__name__", "")


class PeerError(Exception):
    """A peer did not answer usefully; ``str()`` is a reason short enough for a chat line."""


class Samples:
    """The answer of one instant query, grouped by metric name."""

    def __init__(self, samples: list[Sample]) -> None:
        self.all = samples

    def of(self, name: str, **labels: str) -> list[Sample]:
        return [
            s
            for s in self.all
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        ]

    def one(self, name: str, **labels: str) -> float | None:
        found = self.of(name, **labels)
        return found[0].value if found else None

    def names(self) -> set[str]:
        return {s.name for s in self.all}


def selector(*names: str) -> str:
    """One query for many metrics: ``{__name__=~"a|b"}`` (one round trip per command)."""
    return '{__name__=~"' + "|".join(names) + '"}'


class Peers:
    def __init__(self, receiver: ReceiverConfig, timeout: float) -> None:
        self.prometheus_url = receiver.prometheus_url.rstrip("/")
        self.alertmanager_url = receiver.alertmanager_url.rstrip("/")
        self.exporter_url = receiver.exporter_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _get(self, url: str, params: dict[str, str] | None = None) -> tuple[int, Any]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._session.get(url, params=params) as response:
                text = await response.text()
                status = response.status
        except TimeoutError:
            raise PeerError("timeout") from None
        except aiohttp.ClientConnectionError as exc:
            raise PeerError(_connection_reason(exc)) from None
        except aiohttp.ClientError as exc:
            raise PeerError(type(exc).__name__) from None
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = None
        return status, body

    async def query(self, promql: str) -> Samples:
        status, body = await self._get(f"{self.prometheus_url}/api/v1/query", {"query": promql})
        if status != 200 or not isinstance(body, dict) or body.get("status") != "success":
            error = body.get("error") if isinstance(body, dict) else None
            raise PeerError(f"HTTP {status}" + (f": {error}" if error else ""))
        data = body.get("data", {})
        if data.get("resultType") != "vector":
            raise PeerError(f"unexpected result type {data.get('resultType')!r}")
        samples = []
        for item in data.get("result", []):
            try:
                samples.append(Sample(dict(item["metric"]), float(item["value"][1])))
            except (KeyError, IndexError, TypeError, ValueError):
                continue  # one odd series must not hide the others
        return Samples(samples)

    async def outages(self, queue: str | None = None) -> dict[str, Any] | None:
        params = {"queue": queue} if queue is not None else None
        return await self._exporter("/api/v1/outages", params)

    async def prices(self, day: date | None = None) -> dict[str, Any] | None:
        params = {"date": day.isoformat()} if day is not None else None
        return await self._exporter("/api/v1/prices", params)

    async def _exporter(
        self, path: str, params: dict[str, str] | None = None
    ) -> dict[str, Any] | None:
        status, body = await self._get(self.exporter_url + path, params)
        if status == 404:
            return None  # that area is not configured, or (prices) that day is not known
        if status != 200 or not isinstance(body, dict):
            raise PeerError(f"HTTP {status}")
        return body

    async def alerts(self) -> list[dict[str, Any]]:
        params = {"active": "true", "silenced": "false", "inhibited": "false"}
        status, body = await self._get(f"{self.alertmanager_url}/api/v2/alerts", params)
        if status != 200 or not isinstance(body, list):
            raise PeerError(f"HTTP {status}")
        return [a for a in body if isinstance(a, dict)]


def _connection_reason(exc: aiohttp.ClientConnectionError) -> str:
    if isinstance(exc, aiohttp.ClientConnectorError):
        return (
            "connection refused"
            if isinstance(exc.os_error, ConnectionRefusedError)
            else ("cannot connect")
        )
    if isinstance(exc, asyncio.TimeoutError):
        return "timeout"
    return "connection lost"
