"""Map what aiohttp and the device answer to a SourceError with a bounded reason."""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp

from gridwatch.core.source import SourceError
from gridwatch.sources.homewizard.parse import PayloadError


def http_status_error(status: int, body: str) -> SourceError:
    code = error_code(body)
    if status == 401:
        return SourceError("unauthorized", "the device rejected the token (HTTP 401); pair again")
    if status == 403 and (code in {"202", "API_DISABLED"} or "not enabled" in body.lower()):
        return SourceError(
            "api_disabled", "the local API is disabled: enable it in the HomeWizard app (HTTP 403)"
        )
    detail = f" ({code})" if code else ""
    return SourceError("http_error", f"HTTP {status}{detail}")


def error_code(body: str) -> str | None:
    """v1 errors are {"error":{"id":N,...}}, v2 errors {"error":"scope:code"}."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    if isinstance(error, str):
        return error[:60]
    if isinstance(error, dict) and isinstance(error.get("id"), int):
        return str(error["id"])
    return None


@asynccontextmanager
async def translated_errors(what: str) -> AsyncIterator[None]:
    """Turn transport exceptions into SourceError; ``what`` says what we were doing."""
    try:
        yield
    except SourceError:
        raise
    except PayloadError as exc:
        raise SourceError("payload", f"{what}: {exc}") from None
    except (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError, ssl.SSLError) as exc:
        raise SourceError("tls", f"{what}: certificate not trusted: {_short(exc)}") from None
    except TimeoutError:
        raise SourceError("timeout", f"{what}: timed out") from None
    except aiohttp.ContentTypeError as exc:
        raise SourceError("payload", f"{what}: not JSON ({_short(exc)})") from None
    except aiohttp.WSServerHandshakeError as exc:
        if exc.status == 401:
            raise SourceError("unauthorized", f"{what}: HTTP 401") from None
        raise SourceError(
            "protocol", f"{what}: WebSocket handshake failed ({exc.status})"
        ) from None
    except (aiohttp.ClientConnectionError, OSError) as exc:
        raise SourceError("connection", f"{what}: {_short(exc)}") from None
    except aiohttp.ClientError as exc:
        raise SourceError("protocol", f"{what}: {_short(exc)}") from None
    except ValueError as exc:  # JSON decoding
        raise SourceError("payload", f"{what}: invalid JSON ({_short(exc)})") from None


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
