"""A fake Tuya Cloud OpenAPI on loopback that checks every request's signature like the real one.

It issues and refreshes tokens, keeps each device's data points, accepts switch commands, and can
mark a device offline (commands then fail with 2001 and details say ``online: false`` while the
last data points stay, as on the real cloud). Failures answer HTTP 200 with ``success: false``
and Tuya's codes: 1004 sign invalid, 1005 clientId invalid, 1010/1011 token expired/invalid, 1013
request time invalid, 1106 permission deny (a device not in the project), 2001 device offline.

The signature check is written from the signing spec, independently of the client in
``gridwatch.receiver.tuya.cloud``, so a client bug is caught rather than mirrored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from gridwatch.sim.service import WebService

__all__ = ["FakeDevice", "FakeTuyaCloud"]

_TIME_WINDOW_MS = 10 * 60 * 1000  # the real cloud refuses requests whose t is far from its clock


@dataclass
class FakeDevice:
    id: str
    name: str
    online: bool = True
    status: dict[str, Any] = field(default_factory=lambda: {"switch_1": True})


class FakeTuyaCloud(WebService):
    """``async with FakeTuyaCloud(access_id, secret) as cloud:`` then point ``base_url`` at
    ``cloud.url``. Counters: ``token_requests``, ``refresh_requests``, ``rejected`` (code → n),
    ``commands`` (device id, code, value) in order."""

    peer = "the fake Tuya cloud"

    def __init__(
        self,
        access_id: str,
        access_secret: str,
        *,
        uid: str = "eu1700000000000aaaaa",
        token_ttl: int = 7200,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host=host, port=port)
        self.access_id = access_id
        self.access_secret = access_secret
        self.uid = uid
        self.token_ttl = token_ttl
        self.devices: dict[str, FakeDevice] = {}
        self.token_requests = 0
        self.refresh_requests = 0
        self.rejected: Counter[int] = Counter()
        self.commands: list[tuple[str, str, Any]] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of every signed-ok request
        self._tokens: dict[str, float] = {}  # access token → expiry (time.monotonic)
        self._refresh: dict[str, str] = {}  # refresh token → its access token

    # -- control --------------------------------------------------------------------------------

    def add_device(
        self, device_id: str, name: str = "", *, online: bool = True, **status: Any
    ) -> FakeDevice:
        device = FakeDevice(
            device_id, name or device_id, online, dict(status) or {"switch_1": True}
        )
        self.devices[device_id] = device
        return device

    def set_online(self, device_id: str, online: bool) -> None:
        self.devices[device_id].online = online

    def expire_tokens(self) -> None:
        """Every issued access token expires now (refresh tokens stay valid)."""
        for token in self._tokens:
            self._tokens[token] = 0.0

    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/v1.0/token", self._token)
        router.add_get("/v1.0/token/{refresh}", self._token_refresh)
        router.add_get("/v1.0/devices/{id}", self._device)
        router.add_get("/v1.0/devices/{id}/status", self._status)
        router.add_post("/v1.0/devices/{id}/commands", self._command)
        router.add_post("/v1.0/iot-03/devices/{id}/commands", self._command)  # tinytuya's
        router.add_get("/v1.0/users/{uid}/devices", self._user_devices)

    # -- the API --------------------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        if (failure := await self._verify(request, token_call=True)) is not None:
            return failure
        if request.query.get("grant_type") != "1":
            return self._fail(1003, "grant type invalid")
        self.token_requests += 1
        return self._ok(self._issue())

    async def _token_refresh(self, request: web.Request) -> web.Response:
        if (failure := await self._verify(request, token_call=True)) is not None:
            return failure
        old = self._refresh.pop(request.match_info["refresh"], None)
        if old is None:
            return self._fail(1011, "token invalid")
        self._tokens.pop(old, None)
        self.refresh_requests += 1
        return self._ok(self._issue())

    async def _device(self, request: web.Request) -> web.Response:
        if (failure := await self._verify(request)) is not None:
            return failure
        device = self.devices.get(request.match_info["id"])
        if device is None:
            return self._fail(1106, "permission deny")
        return self._ok(self._details(device))

    async def _status(self, request: web.Request) -> web.Response:
        if (failure := await self._verify(request)) is not None:
            return failure
        device = self.devices.get(request.match_info["id"])
        if device is None:
            return self._fail(1106, "permission deny")
        return self._ok([{"code": k, "value": v} for k, v in device.status.items()])

    async def _command(self, request: web.Request) -> web.Response:
        if (failure := await self._verify(request)) is not None:
            return failure
        device = self.devices.get(request.match_info["id"])
        if device is None:
            return self._fail(1106, "permission deny")
        try:
            commands = json.loads(await request.read())["commands"]
            pairs = [(str(c["code"]), c["value"]) for c in commands]
        except (ValueError, KeyError, TypeError):
            return self._fail(1109, "param is illegal, please check it")
        if not device.online:
            return self._fail(2001, "device is offline")
        for code, _ in pairs:
            if code not in device.status:
                return self._fail(2008, "command or value not support")
        for code, value in pairs:
            device.status[code] = value
            self.commands.append((device.id, code, value))
        return self._ok(True)

    async def _user_devices(self, request: web.Request) -> web.Response:
        if (failure := await self._verify(request)) is not None:
            return failure
        if request.match_info["uid"] != self.uid:
            return self._fail(1106, "permission deny")
        return self._ok([self._details(d) for d in self.devices.values()])

    # -- helpers --------------------------------------------------------------------------------

    def _details(self, device: FakeDevice) -> dict[str, Any]:
        return {
            "id": device.id,
            "name": device.name,
            "online": device.online,
            "category": "cz",
            "local_key": "not-for-logs0000",  # the real details carry it too: never log replies
            "status": [{"code": k, "value": v} for k, v in device.status.items()],
            "uid": self.uid,
        }

    def _issue(self) -> dict[str, Any]:
        access, refresh = secrets.token_hex(16), secrets.token_hex(16)
        self._tokens[access] = time.monotonic() + self.token_ttl
        self._refresh[refresh] = access
        return {
            "access_token": access,
            "refresh_token": refresh,
            "expire_time": self.token_ttl,
            "uid": self.uid,
        }

    async def _verify(
        self, request: web.Request, *, token_call: bool = False
    ) -> web.Response | None:
        headers = request.headers
        if headers.get("sign_method") != "HMAC-SHA256" or "sign" not in headers:
            return self._fail(1105, "missing the header")
        if headers.get("client_id") != self.access_id:
            return self._fail(1005, "clientId invalid")
        t = headers.get("t", "")
        if not t.isdigit() or abs(int(t) - int(time.time() * 1000)) > _TIME_WINDOW_MS:
            return self._fail(1013, "request time is invalid")
        token = "" if token_call else headers.get("access_token", "")
        body = await request.read()
        # Signed headers, when the client lists any (tinytuya signs Content-type this way).
        signed = "".join(
            f"{name}:{headers.get(name, '')}\n"
            for name in headers.get("Signature-Headers", "").split(":")
            if name and name in headers
        )
        # The path as sent, and its query in sorted key order, unencoded.
        query = "&".join(f"{k}={request.query[k]}" for k in sorted(request.query))
        target = request.path + (f"?{query}" if query else "")
        to_sign = "\n".join([request.method, hashlib.sha256(body).hexdigest(), signed, target])
        expected = (
            hmac.new(
                self.access_secret.encode(),
                (self.access_id + token + t + to_sign).encode(),
                hashlib.sha256,
            )
            .hexdigest()
            .upper()
        )
        if not hmac.compare_digest(expected, headers["sign"]):
            return self._fail(1004, "sign invalid")
        if not token_call:
            if not token:
                return self._fail(1010, "token is expired")
            expiry = self._tokens.get(token)
            if expiry is None:
                return self._fail(1011, "token invalid")
            if time.monotonic() >= expiry:
                return self._fail(1010, "token is expired")
        self.requests.append((request.method, request.path))
        return None

    def _ok(self, result: Any) -> web.Response:
        return web.json_response(
            {"result": result, "success": True, "t": int(time.time() * 1000), "tid": _tid()}
        )

    def _fail(self, code: int, msg: str) -> web.Response:
        self.rejected[code] += 1
        body = {"code": code, "msg": msg, "success": False, "t": int(time.time() * 1000)}
        return web.json_response(body | {"tid": _tid()})


def _tid() -> str:
    return secrets.token_hex(16)
