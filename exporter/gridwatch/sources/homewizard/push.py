"""API v2 WebSocket push: authorize, subscribe to ``measurement``, hand over every update."""

from __future__ import annotations

import json
from collections.abc import Callable

import aiohttp

from gridwatch.core.source import SourceError
from gridwatch.sources.homewizard.client import HomeWizardClient
from gridwatch.sources.homewizard.errors import translated_errors
from gridwatch.sources.homewizard.parse import PayloadError


async def _receive(ws: aiohttp.ClientWebSocketResponse, idle: float) -> dict[str, object]:
    msg = await ws.receive(timeout=idle)
    if msg.type in {aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING}:
        raise SourceError("connection", "push stream closed by the device")
    if msg.type is aiohttp.WSMsgType.ERROR:
        raise SourceError("connection", f"push stream failed: {ws.exception()}")
    if msg.type is not aiohttp.WSMsgType.TEXT:
        raise PayloadError(f"unexpected WebSocket frame {msg.type.name}")
    try:
        data = json.loads(msg.data)
    except ValueError:
        raise PayloadError("push message is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise PayloadError("push message has no type")
    return data


def _error_text(message: dict[str, object]) -> str:
    data = message.get("data")
    text = data.get("message") if isinstance(data, dict) else None
    return text if isinstance(text, str) else "unknown error"


async def stream(
    client: HomeWizardClient,
    token: str,
    on_measurement: Callable[[object], None],
    on_subscribed: Callable[[], None],
    *,
    idle_timeout: float,
) -> None:
    """Run one push session until it ends; always ends with a SourceError saying why."""
    ws = await client.websocket(heartbeat=max(idle_timeout / 2, 5.0))
    try:
        async with translated_errors("push stream"):
            first = await _receive(ws, idle_timeout)
            if first["type"] != "authorization_requested":
                raise SourceError(
                    "protocol", f"expected authorization_requested, got {first['type']}"
                )
            await ws.send_json({"type": "authorization", "data": token})
            answer = await _receive(ws, idle_timeout)
            if answer["type"] == "error":
                text = _error_text(answer)
                reason = "unauthorized" if "unauthorized" in text else "protocol"
                raise SourceError(reason, f"push stream refused: {text}")
            if answer["type"] != "authorized":
                raise SourceError("protocol", f"expected authorized, got {answer['type']}")
            await ws.send_json({"type": "subscribe", "data": "measurement"})
            on_subscribed()
            while True:
                message = await _receive(ws, idle_timeout)
                if message["type"] == "measurement":
                    on_measurement(message.get("data"))
                elif message["type"] == "error":
                    raise SourceError("protocol", f"device error: {_error_text(message)}")
    finally:
        await ws.close()
