"""One GET with the failure modes every price provider shares, mapped to SourceError reasons."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aiohttp

from gridwatch import __version__
from gridwatch.core.source import SourceError

USER_AGENT = (
    f"gridwatch/{__version__} (home electricity exporter; fetches each day once and caches it)"
)


class NotPublishedError(Exception):
    """The day is not published yet (HTTP 404, 204 or an empty answer): try again later."""


class RateLimitedError(SourceError):
    """HTTP 429 or 503: the provider asks us to wait ``retry_after`` seconds (0 = unsaid)."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__("http_error", message)
        self.retry_after = retry_after


def _retry_after(value: str | None) -> float:
    """Seconds from a Retry-After header given in seconds (an HTTP date counts as unsaid)."""
    try:
        return max(0.0, float(value)) if value is not None else 0.0
    except ValueError:
        return 0.0


async def get_json(
    session: aiohttp.ClientSession,
    url: str,
    params: Mapping[str, str] | None = None,
    *,
    not_published: frozenset[int] = frozenset({404}),
) -> Any:
    try:
        async with session.get(url, params=params) as response:
            if response.status in not_published:
                raise NotPublishedError(f"HTTP {response.status}")
            if response.status == 403:
                raise SourceError("forbidden", f"HTTP 403 from {url}")
            if response.status in (429, 503):
                wait = _retry_after(response.headers.get("Retry-After"))
                raise RateLimitedError(f"HTTP {response.status} from {url}", wait)
            if response.status != 200:
                raise SourceError("http_error", f"HTTP {response.status} from {url}")
            body = await response.read()
    except TimeoutError:
        raise SourceError("timeout", f"no answer from {url}") from None
    except aiohttp.ClientConnectionError as exc:
        raise SourceError("connection", f"{url}: {exc}") from None
    except aiohttp.ClientError as exc:
        raise SourceError("protocol", f"{url}: {exc}") from None
    if not body.strip():
        raise NotPublishedError("empty body")
    try:
        return json.loads(body)
    except ValueError as exc:
        raise SourceError("payload", f"invalid JSON from {url}: {exc}") from None
