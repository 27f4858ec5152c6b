"""A chat window onto the fake Telegram Bot API, for `gridwatch demo`.

The demo's bot talks to ``FakeBotApi`` instead of Telegram; this page shows what it sent (the
alert messages, the answers to commands) and lets a person type a command or press a button, as
they would in the Telegram app. Loopback only, no authentication: it is a simulator.
"""

from __future__ import annotations

import html

from aiohttp import web

from gridwatch.sim.service import WebService
from gridwatch.sim.telegram.bot_api import FakeBotApi

COMMANDS = ("/status", "/battery", "/schedule", "/prices", "/alerts", "/plugs", "/help")

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>gridwatch demo — Telegram chat</title>
<meta http-equiv="refresh" content="5">
<style>
body {{ font-family: system-ui, sans-serif; max-width: 46rem; margin: 1rem auto;
        background: #eef3f7; }}
.msg {{ background: #fff; border-radius: .6rem; padding: .6rem .8rem; margin: .5rem 0;
        white-space: pre-wrap; box-shadow: 0 1px 2px #0002; }}
.you {{ background: #dcf8c6; margin-left: 20%; }}
form {{ display: inline; }} button {{ margin: .1rem; }}
</style></head><body>
<h1>Telegram chat {chat} (simulated)</h1>
<p>{commands}</p>
{messages}
</body></html>
"""


class ChatWindow(WebService):
    """Serves ``/`` (the chat), ``POST /say`` (a user's message) and ``POST /press``."""

    peer = "the chat window"

    def __init__(self, api: FakeBotApi, chat_id: int, *, host: str = "127.0.0.1", port: int = 0):
        super().__init__(host=host, port=port)
        self.api = api
        self.chat_id = chat_id
        self._said: list[tuple[int, str]] = []  # (position among sent messages, text)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/", self._page)
        router.add_post("/say", self._say)
        router.add_post("/press", self._press)

    async def _page(self, request: web.Request) -> web.Response:
        buttons = "".join(
            f'<form method="post" action="/say"><button name="text" value="{c}">{c}</button></form>'
            for c in COMMANDS
        )
        mine = [m for m in self.api.sent if m.chat_id == self.chat_id]
        parts: list[str] = []
        said = iter(self._said)
        pending = next(said, None)
        for position, message in enumerate(mine):
            while pending is not None and pending[0] <= position:
                parts.append(f'<div class="msg you">{html.escape(pending[1])}</div>')
                pending = next(said, None)
            keys = "".join(
                f'<form method="post" action="/press"><input type="hidden" name="message" '
                f'value="{message.message_id}"><button name="data" value="{html.escape(data)}">'
                f"{html.escape(text)}</button></form>"
                for text, data in message.buttons()
            )
            # The bot's text is Telegram HTML (b, i, code, …), which a browser shows as it is.
            parts.append(f'<div class="msg">{message.current}<div>{keys}</div></div>')
        while pending is not None:
            parts.append(f'<div class="msg you">{html.escape(pending[1])}</div>')
            pending = next(said, None)
        body = _PAGE.format(
            chat=self.chat_id,
            commands=buttons,
            messages="\n".join(reversed(parts)) or "<p>No messages yet.</p>",
        )
        return web.Response(text=body, content_type="text/html")

    async def _say(self, request: web.Request) -> web.Response:
        form = await request.post()
        text = str(form.get("text", "")).strip()
        if text:
            mine = sum(1 for m in self.api.sent if m.chat_id == self.chat_id)
            self._said.append((mine, text))
            self.api.user_message(self.chat_id, text)
        raise web.HTTPSeeOther("/")

    async def _press(self, request: web.Request) -> web.Response:
        form = await request.post()
        try:
            message_id = int(str(form.get("message", "")))
        except ValueError:
            raise web.HTTPBadRequest(text="message must be a number") from None
        self.api.press(self.chat_id, message_id, str(form.get("data", "")))
        raise web.HTTPSeeOther("/")
