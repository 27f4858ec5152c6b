"""Tuya Cloud OpenAPI over aiohttp: signed requests, a cached token, switch commands, device state.

Not tinytuya.Cloud: its ``requests`` calls have no timeout and block, and its constructor already
calls the cloud. This is the small part of the API the receiver needs.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from gridwatch.receiver.tuya.config import TuyaCloudConfig

# Codes after which a fresh token may help (token expired / invalid / bad status).
_TOKEN_CODES = {1010, 1011, 1012}
_HINTS = {
    1004: "check access_id and access_secret",
    1013: "the request time was refused: check this host's clock",
    1106: "the app account is not linked to the cloud project, the device is not in it, "
    "or region/base_url names the wrong data centre",
    2001: "the device is offline",
}
_REFRESH_MARGIN = 60.0  # renew this long before the cloud's expiry


class CloudError(Exception):
    """A failed cloud call; ``offline`` when the cloud says the device is not connected."""

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code

    @property
    def offline(self) -> bool:
        return self.code == 2001


def string_to_sign(method: str, path_and_query: str, body: bytes) -> str:
    """METHOD, SHA-256 of the body, the signed headers (none), and the path with its query."""
    return f"{method}\n{hashlib.sha256(body).hexdigest()}\n\n{path_and_query}"


def sign(secret: str, client_id: str, token: str, t: str, to_sign: str) -> str:
    """The "new" (post-2021) algorithm; ``token`` is empty for the token request itself."""
    message = (client_id + token + t + to_sign).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest().upper()


def _path_and_query(path: str, query: dict[str, str] | None) -> str:
    # The signature covers the query with its keys sorted, not URL-encoded.
    if not query:
        return path
    return path + "?" + "&".join(f"{k}={query[k]}" for k in sorted(query))


@dataclass(slots=True)
class _Token:
    access: str
    refresh: str
    expires_at: float  # time.monotonic()


@dataclass(frozen=True, slots=True)
class DeviceState:
    online: bool
    status: dict[str, Any]  # data-point code → value


class TuyaCloud:
    def __init__(self, config: TuyaCloudConfig) -> None:
        self._config = config
        self._session: aiohttp.ClientSession | None = None
        self._token: _Token | None = None
        self._token_lock = asyncio.Lock()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def switch(self, device_id: str, code: str, on: bool) -> None:
        body = {"commands": [{"code": code, "value": on}]}
        await self.call("POST", f"/v1.0/devices/{device_id}/commands", body=body)

    async def device(self, device_id: str) -> DeviceState:
        """The device's details: whether the cloud sees it online, and its data points."""
        return _device_state(await self.call("GET", f"/v1.0/devices/{device_id}"))

    async def user_devices(self, user_id: str) -> dict[str, DeviceState]:
        """Every device of the app account, in one request."""
        result = await self.call("GET", f"/v1.0/users/{user_id}/devices")
        # The result is a list, or {"devices": [...]} in some API versions.
        items = result.get("devices", []) if isinstance(result, dict) else result
        if not isinstance(items, list):
            raise CloudError("unexpected device list from the Tuya cloud")
        return {str(d.get("id")): _device_state(d) for d in items if isinstance(d, dict)}

    async def call(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:
        """One signed call; returns ``result``. Renews the token once if the cloud refuses it."""
        for attempt in range(2):
            token = await self._access_token()
            reply = await self._request(method, path, query, body, token)
            code = _code(reply)
            if reply.get("success") is True:
                return reply.get("result")
            if code in _TOKEN_CODES and attempt == 0 and self._token is not None:
                self._token.expires_at = 0.0  # renew it (with the refresh token) and try again
                continue
            raise _error(reply)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _access_token(self) -> str:
        async with self._token_lock:
            token = self._token
            if token is not None and time.monotonic() < token.expires_at:
                return token.access
            reply: dict[str, Any] | None = None
            if token is not None and token.refresh:
                try:
                    reply = await self._request(
                        "GET", f"/v1.0/token/{token.refresh}", None, None, ""
                    )
                except CloudError:
                    reply = None
                if reply is not None and reply.get("success") is not True:
                    reply = None  # an expired refresh token: start over
            if reply is None:
                reply = await self._request("GET", "/v1.0/token", {"grant_type": "1"}, None, "")
            if reply.get("success") is not True:
                self._token = None
                raise _error(reply, "token request")
            result = reply.get("result")
            if not isinstance(result, dict) or not isinstance(result.get("access_token"), str):
                raise CloudError("Tuya cloud token reply has no access_token")
            ttl = float(result.get("expire_time", 3600))
            self._token = _Token(
                access=result["access_token"],
                refresh=str(result.get("refresh_token", "")),
                expires_at=time.monotonic() + max(ttl - _REFRESH_MARGIN, ttl / 2),
            )
            return self._token.access

    async def _request(
        self,
        method: str,
        path: str,
        query: dict[str, str] | None,
        body: dict[str, Any] | None,
        token: str,
    ) -> dict[str, Any]:
        # The hash covers the exact bytes sent, so serialise once, compactly.
        data = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        target = _path_and_query(path, query)
        t = str(int(time.time() * 1000))
        secret = self._config.resolved_secret()
        headers = {
            "client_id": self._config.access_id,
            "t": t,
            "sign_method": "HMAC-SHA256",
            "sign_version": "1.0",
            "sign": sign(
                secret,
                self._config.access_id,
                token,
                t,
                string_to_sign(method, target, data),
            ),
        }
        if token:
            headers["access_token"] = token
        if body is not None:
            headers["Content-Type"] = "application/json"
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._config.timeout)
            )
        url = URL(self._config.url + target, encoded=True)
        try:
            async with self._session.request(method, url, data=data or None, headers=headers) as r:
                if r.status != 200:
                    raise CloudError(f"Tuya cloud answered HTTP {r.status} to {method} {path}")
                reply = await r.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError) as exc:
            reason = "timed out" if isinstance(exc, TimeoutError) else exc.__class__.__name__
            raise CloudError(f"Tuya cloud unreachable ({reason})") from None
        except ValueError:
            raise CloudError(
                f"Tuya cloud sent a reply that is not JSON to {method} {path}"
            ) from None
        if not isinstance(reply, dict):
            raise CloudError(f"Tuya cloud sent an unexpected reply to {method} {path}")
        return reply


def _code(reply: dict[str, Any]) -> int | None:
    code = reply.get("code")
    try:
        return int(code) if code is not None else None
    except (TypeError, ValueError):
        return None


def _error(reply: dict[str, Any], what: str = "") -> CloudError:
    code = _code(reply)
    text = f"[{code if code is not None else '?'}] {reply.get('msg', 'request failed')}"
    if code in _HINTS:
        text += f" ({_HINTS[code]})"
    prefix = f"Tuya cloud {what}: " if what else "Tuya cloud: "
    return CloudError(prefix + text, code=code)


def _device_state(result: Any) -> DeviceState:
    if not isinstance(result, dict):
        raise CloudError("unexpected device details from the Tuya cloud")
    points = result.get("status", [])
    status = (
        {str(p["code"]): p.get("value") for p in points if isinstance(p, dict) and "code" in p}
        if isinstance(points, list)
        else {}
    )
    return DeviceState(online=bool(result.get("online", False)), status=status)
