"""HTTP helpers shared by the operator modules: status codes and bodies to SourceErrors."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from gridwatch import __version__
from gridwatch.core.source import SourceError

USER_AGENT = f"gridwatch/{__version__} (household outage-schedule monitor; polls every few minutes)"
HEADERS = {"User-Agent": USER_AGENT, "Accept": "application/json, text/plain, */*"}
# A schedule is a few kB; anything far bigger is not one, and must not fill the memory of a Pi.
MAX_BODY = 1 << 20


async def _read_bounded(response: aiohttp.ClientResponse, url: str) -> bytes:
    body = bytearray()
    async for chunk in response.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > MAX_BODY:
            raise SourceError("payload", f"{url} answered more than {MAX_BODY} bytes")
    return bytes(body)


GEO_BLOCK = (
    "the operator geo-blocks addresses outside Ukraine; run gridwatch from a Ukrainian "
    "connection (or through a Ukrainian proxy/VPN)"
)


async def fetch_json(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    forbidden: str = GEO_BLOCK,
    **kwargs: Any,
) -> object:
    """One request; every failure becomes a SourceError with a reason from core.source.

    ``forbidden`` explains a 403 for this operator (a geo-block, a bot wall).
    """
    host = urlsplit(url).netloc
    try:
        async with session.request(method, url, headers=HEADERS, **kwargs) as response:
            status = response.status
            body = await _read_bounded(response, url)
    # TimeoutError first: it is an OSError, and aiohttp's read timeouts are connection errors.
    except TimeoutError:
        limit = session.timeout.total
        within = f" within {limit:g}s" if limit else ""
        raise SourceError("timeout", f"{host} did not answer{within}") from None
    except aiohttp.ClientSSLError as exc:
        raise SourceError("tls", f"TLS with {host} failed: {exc}") from None
    except (aiohttp.ClientConnectionError, OSError) as exc:
        raise SourceError("connection", f"cannot reach {host}: {exc}") from None
    except aiohttp.ClientError as exc:
        raise SourceError("protocol", f"bad HTTP exchange with {host}: {exc}") from None
    if status == 403:
        raise SourceError("forbidden", f"HTTP 403 from {host}: {forbidden}")
    if status >= 400:
        raise SourceError("http_error", f"HTTP {status} from {url}")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        snippet = body[:60].decode("utf-8", "replace")
        if body.lstrip()[:1] == b"<":
            # Bot walls (Incapsula, Cloudflare) answer 200 with a challenge page.
            raise SourceError(
                "payload", f"{url} answered HTML, not JSON (a bot wall?): {snippet!r}"
            ) from None
        raise SourceError("payload", f"{url} did not answer JSON: {snippet!r}") from None
