"""Simulated YASNO, DTEK-mirror and Lvivoblenergo peers on loopback, replaying their wire formats.

One small server serves whatever answer each path should give (a real capture, a made-up day in
the operator's shape, raw bytes), plus the failures the real peers show: 403 (geo-block or bot
wall), a 200 HTML challenge page, HTTP errors. The builders below write days in each operator's
own shape, so tests and the demo can move "today" with the clock.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Literal

from aiohttp import web

from gridwatch.sim.service import WebService
from gridwatch.sources.outages.schedule import KYIV

Mode = Literal["ok", "forbidden", "html", "error"]
Answer = object | bytes | Callable[[Mapping[str, str]], object]
YASNO_PLANNED = "/regions/{region}/dsos/{dso}/planned-outages"
YASNO_PROBABLE = "/probable-outages"
LOE_MENUS = "/api/menus"
CHALLENGE = b"<html><head><title>Incapsula incident</title></head><body>Request unsuccessful."


class OperatorPeer(WebService):
    """Answers GET ``path`` with what ``serve`` set; 404 for anything else."""

    peer = "the simulated operator"

    def __init__(self) -> None:
        super().__init__()
        self.mode: Mode = "ok"
        self.error_status = 502
        self.requests: Counter[str] = Counter()
        self._answers: dict[str, Answer] = {}

    def serve(self, path: str, answer: Answer) -> None:
        """A JSON value, raw bytes, or a function of the query returning a JSON value."""
        self._answers[path] = answer

    def forget(self, path: str) -> None:
        self._answers.pop(path, None)

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.path
        self.requests[path] += 1
        if self.mode == "forbidden":
            return web.Response(status=403, body=CHALLENGE, content_type="text/html")
        if self.mode == "html":
            return web.Response(body=CHALLENGE, content_type="text/html")
        if self.mode == "error":
            return web.Response(status=self.error_status, text="error", content_type="text/html")
        if path not in self._answers:
            return web.json_response({"error": "not found"}, status=404)
        answer = self._answers[path]
        if isinstance(answer, bytes):
            return web.Response(body=answer, content_type="application/json")
        if callable(answer):
            answer = answer(request.query)
        return web.Response(
            text=json.dumps(answer, ensure_ascii=False), content_type="application/json"
        )

    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/{tail:.*}", self._handle)


# YASNO ---------------------------------------------------------------------------------------

Slots = Sequence[tuple[int, int]]  # Definite (start, end) minutes


def yasno_day(day: date, status: str, definite: Slots = ()) -> dict[str, object]:
    """One day as YASNO writes it: Definite ranges and NotPlanned gaps cover the day."""
    slots: list[dict[str, object]] = []
    cursor = 0
    for start, end in sorted(definite):
        if start > cursor:
            slots.append({"start": cursor, "end": start, "type": "NotPlanned"})
        slots.append({"start": start, "end": end, "type": "Definite"})
        cursor = end
    if status != "EmergencyShutdowns" and cursor < 1440:
        slots.append({"start": cursor, "end": 1440, "type": "NotPlanned"})
    if status == "EmergencyShutdowns":
        slots = []
    midnight = datetime.combine(day, time(0), KYIV)
    return {"slots": slots, "date": midnight.isoformat(), "status": status}


def yasno_group(
    today: dict[str, object], tomorrow: dict[str, object], updated: datetime
) -> dict[str, object]:
    return {
        "today": today,
        "tomorrow": tomorrow,
        "updatedOn": updated.astimezone(KYIV).isoformat(),
    }


def yasno_path(region: int, dso: int) -> str:
    return YASNO_PLANNED.format(region=region, dso=dso)


# DTEK GPV ------------------------------------------------------------------------------------

Hours = Mapping[int, str]  # hour slot 1..24 → value, the rest "yes"


def gpv_day(values: Hours) -> dict[str, str]:
    return {str(n): values.get(n, "yes") for n in range(1, 25)}


def gpv_file(
    days: Mapping[date, Mapping[str, Hours]], today: date, updated: datetime
) -> dict[str, object]:
    """A mirror file in DTEK's shape: ``fact.data`` keyed by Kyiv-midnight Unix seconds."""

    def key(day: date) -> str:
        return str(int(datetime.combine(day, time(0), KYIV).timestamp()))

    data = {
        key(d): {f"GPV{q}": gpv_day(h) for q, h in groups.items()} for d, groups in days.items()
    }
    return {
        "regionId": "simulated",
        "lastUpdated": updated.astimezone(KYIV).isoformat(),
        "fact": {
            "data": data or [],
            "update": updated.astimezone(KYIV).strftime("%d.%m.%Y %H:%M"),
            "today": int(key(today)),
        },
    }


# Lvivoblenergo -------------------------------------------------------------------------------


def loe_text(day: date, as_of: datetime, groups: Mapping[str, Sequence[tuple[str, str]]]) -> str:
    """The rawHtml text block of one day, in the operator's wording."""
    lines = [
        f"<p>Графік погодинних відключень на {day:%d.%m.%Y}</p>",
        f"<p>Інформація станом на {as_of.astimezone(KYIV):%H:%M %d.%m.%Y}</p>",
    ]
    for group, windows in groups.items():
        if windows:
            spans = ", ".join(f"з {a} до {b}" for a, b in windows)
            lines.append(f"<p>Група {group}. Електроенергії немає {spans}.</p>")
        else:
            lines.append(f"<p>Група {group}. Електроенергія є.</p>")
    return "".join(lines)


def loe_menus(texts: Sequence[str], *, hydra: bool = True) -> object:
    """The ``/api/menus`` answer: a Hydra collection (or the bare list some replies are)."""
    names = ("Today", "Tomorrow", "Image")
    items = [
        {"id": 238 + i, "name": names[i % 3], "imageUrl": "/media/x.png", "rawHtml": t}
        for i, t in enumerate(texts)
    ]
    menu = {"id": 9, "name": "Чому немає світла (Зображення-графік)", "menuItems": items}
    if not hydra:
        return [menu]
    return {"@context": "/api/contexts/Menu", "hydra:member": [menu], "hydra:totalItems": 1}


def next_days(today: date) -> tuple[date, date]:
    return today, today + timedelta(days=1)
