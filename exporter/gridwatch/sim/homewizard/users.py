"""v2 users and tokens of the HomeWizard simulator: button-gated pairing (``/api/user``).

PROTOCOLS.md §2.3: ``POST /api/user {"name": "local/<name>"}`` answers 403
``user:creation-not-enabled`` until the button is pressed, then 200 with a fresh 32-hex-digit
token for 30 s. Reusing a name replaces (and so invalidates) that name's previous token.
"""

from __future__ import annotations

import json
import re
import secrets
import time

from aiohttp import web

__all__ = ["UserStore", "new_token", "v2_error"]

_NAME_RE = re.compile(r"local/[a-zA-Z0-9\-_/\\# ]{1,40}")


def v2_error(status: int, code: str) -> web.Response:
    """A v2 error body: ``{"error": "<scope>:<error>"}``."""
    return web.json_response({"error": code}, status=status)


def new_token() -> str:
    return secrets.token_hex(16).upper()


def name_error(name: str) -> str | None:
    """The documented error code for a bad user name, or None when it is acceptable."""
    if not name.startswith("local/"):
        return "user:invalid-prefix"
    rest = name.removeprefix("local/")
    if not rest:
        return "user:name-empty"
    if len(rest) > 40:
        return "user:name-too-long"
    return None if _NAME_RE.fullmatch(name) else "user:name-invalid"


def _bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


class UserStore:
    """Tokens of paired users plus one pre-paired token that no user operation can revoke."""

    def __init__(self, preset_token: str, button_window: float) -> None:
        self.preset_token = preset_token
        self.button_window = button_window
        self._users: dict[str, str] = {}  # "local/<name>" → token
        self._button_until = float("-inf")

    def press_button(self) -> None:
        self._button_until = time.monotonic() + self.button_window

    @property
    def button_open(self) -> bool:
        return time.monotonic() < self._button_until

    def valid_tokens(self) -> set[str]:
        return {self.preset_token, *self._users.values()}

    def authorized(self, request: web.Request) -> bool:
        return _bearer(request) in self.valid_tokens()

    async def create(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.text())
        except ValueError:
            return v2_error(400, "request:invalid-json")
        if not isinstance(body, dict) or "name" not in body:
            return v2_error(400, "json:parameter-missing:name")
        name = body["name"]
        if not isinstance(name, str):
            return v2_error(400, "json:parameter-invalid-type:name")
        error = name_error(name)
        if error:
            return v2_error(400, error)
        if not self.button_open:
            return v2_error(403, "user:creation-not-enabled")
        token = new_token()
        self._users[name] = token
        return web.json_response({"token": token, "name": name})

    async def list(self, request: web.Request) -> web.Response:
        own = _bearer(request)
        return web.json_response([{"name": n, "current": t == own} for n, t in self._users.items()])

    async def delete(self, request: web.Request) -> web.Response:
        text = await request.text()
        try:
            body = json.loads(text) if text.strip() else {}
        except ValueError:
            return v2_error(400, "request:invalid-json")
        name = body.get("name") if isinstance(body, dict) else None
        if name is None:  # no name given: the caller deletes its own user
            own = _bearer(request)
            name = next((n for n, t in self._users.items() if t == own), None)
        if not isinstance(name, str) or name not in self._users:
            return v2_error(404, "user:not-found")
        del self._users[name]
        return web.Response(status=204)
