"""The v2 WebSocket (``/api/ws``) of the HomeWizard simulator: auth, subscriptions, pushes.

Frames are JSON ``{"type": …, "data": …}`` as in PROTOCOLS.md §2.5. The hub knows nothing about
the meter itself; it asks the simulator (a ``WsDevice``) for tokens and payloads.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any, Protocol

from aiohttp import WSCloseCode, WSMsgType, web

__all__ = ["TOPICS", "WebSocketHub", "WsDevice"]

log = logging.getLogger(__name__)

TOPICS = frozenset({"*", "device", "user", "measurement", "system"})
_SNAPSHOT_TOPICS = ("device", "system", "measurement")  # what a subscribe sends back at once


class WsDevice(Protocol):
    def valid_tokens(self) -> set[str]: ...

    def topic_payload(self, topic: str) -> dict[str, Any]: ...

    def update_system(self, body: object) -> str | None: ...

    def measurement_frame(self) -> tuple[str, bool]:
        """The text of the next measurement frame and whether it is a real measurement."""
        ...


class WebSocketHub:
    def __init__(self, device: WsDevice, *, api_version: str, auth_timeout: float) -> None:
        self._device = device
        self._api_version = api_version
        self._auth_timeout = auth_timeout
        self._sockets: set[web.WebSocketResponse] = set()
        self._subscriptions: dict[web.WebSocketResponse, set[str]] = {}
        self.measurements_pushed = 0

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        # A short close-handshake timeout: stop() must not hang on a client that is not reading.
        ws = web.WebSocketResponse(timeout=1.0)
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            await ws.send_json(
                {"type": "authorization_requested", "data": {"api_version": self._api_version}}
            )
            if not await self._authorize(ws):
                return ws
            topics: set[str] = set()
            self._subscriptions[ws] = topics
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_message(ws, topics, msg.data)
                else:
                    await _send_error(ws, "request:invalid-json")
        except ConnectionError:
            pass  # the client went away while we were sending
        finally:
            self._sockets.discard(ws)
            self._subscriptions.pop(ws, None)
        return ws

    async def push_measurement(self) -> None:
        """Send the current measurement to every socket subscribed to it."""
        for ws, topics in list(self._subscriptions.items()):
            if ws.closed or not topics & {"measurement", "*"}:
                continue
            try:
                await self._send_measurement(ws)
            except ConnectionError:
                log.debug("dropped a measurement push to a closing WebSocket")

    async def close_all(self) -> None:
        """Send every client a close frame (1001 going away) and wait briefly for the replies."""

        async def close(ws: web.WebSocketResponse) -> None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(code=WSCloseCode.GOING_AWAY), timeout=2.0)

        await asyncio.gather(*(close(ws) for ws in list(self._sockets)))

    async def _authorize(self, ws: web.WebSocketResponse) -> bool:
        deadline = time.monotonic() + self._auth_timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                msg = await ws.receive(timeout=remaining)
            except TimeoutError:
                break
            if msg.type is not WSMsgType.TEXT:
                return False  # closed (or binary) before authorising
            try:
                frame = json.loads(msg.data)
            except ValueError:
                await _send_error(ws, "request:invalid-json")
                continue
            if (
                isinstance(frame, dict)
                and frame.get("type") == "authorization"
                and frame.get("data") in self._device.valid_tokens()
            ):
                await ws.send_json({"type": "authorized"})
                return True
            break
        await _send_error(ws, "user:unauthorized")
        await ws.close(code=WSCloseCode.POLICY_VIOLATION)
        return False

    async def _on_message(self, ws: web.WebSocketResponse, topics: set[str], text: str) -> None:
        try:
            frame = json.loads(text)
        except ValueError:
            frame = None
        if not isinstance(frame, dict):
            await _send_error(ws, "request:invalid-json")
            return
        kind, data = frame.get("type"), frame.get("data")
        if kind in ("subscribe", "unsubscribe"):
            if not isinstance(data, str):
                await _send_error(ws, "json:parameter-invalid-type:data")
            elif data not in TOPICS:
                await _send_error(ws, "request:unknown-subscription")
            elif kind == "unsubscribe":
                topics.discard(data)
            else:
                topics.add(data)
                # Docs: "Once subscribed, the device sends the latest values and updates when
                # data changes."
                for topic in _SNAPSHOT_TOPICS:
                    if data in (topic, "*"):
                        await self._send_topic(ws, topic)
        elif kind == "system" and data is not None:
            error = self._device.update_system(data)
            if error:
                await _send_error(ws, error)
            else:
                await self._send_topic(ws, "system")
        elif kind in _SNAPSHOT_TOPICS:
            await self._send_topic(ws, str(kind))
        elif kind not in ("identify", "authorization"):
            await _send_error(ws, "request:unknown-type")

    async def _send_topic(self, ws: web.WebSocketResponse, topic: str) -> None:
        if topic == "measurement":
            await self._send_measurement(ws)
        else:
            await ws.send_json({"type": topic, "data": self._device.topic_payload(topic)})

    async def _send_measurement(self, ws: web.WebSocketResponse) -> None:
        text, is_measurement = self._device.measurement_frame()
        await ws.send_str(text)
        if is_measurement:
            self.measurements_pushed += 1


async def _send_error(ws: web.WebSocketResponse, message: str) -> None:
    await ws.send_json({"type": "error", "data": {"message": message}})
