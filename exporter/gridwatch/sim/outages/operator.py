"""A simulated outage-schedule operator speaking the be-svitlo wire format on loopback.

``POST|GET /gpv-queue-list`` and ``GET /schedule-by-queue?queue=`` answer like
be-svitlo.oe.if.ua (PROTOCOLS.md §9). Tests steer it in-process (``set_days``, ``set_payload``,
``set_raw``, ``mode``, ``error_status``, ``delay``, ``queues``); ``gridwatch demo`` lets it make up
schedules that change every few minutes. Control over HTTP for a person trying the demo:
``POST /sim/mode?mode=forbidden``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from aiohttp import web

from gridwatch.sim.service import WebService
from gridwatch.sources.outages.schedule import KYIV

Mode = Literal["ok", "forbidden", "garbage", "error"]
MODES: tuple[Mode, ...] = ("ok", "forbidden", "garbage", "error")
ALL_QUEUES = tuple(f"{q}.{s}" for q in range(1, 7) for s in (1, 2))
WindowSpec = tuple[str, str]  # ("16:30", "20:00"), as the operator writes them


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _kyiv_text(moment: datetime) -> str:
    return moment.astimezone(KYIV).strftime("%d.%m.%Y %H:%M")


def day_element(
    day: date,
    queues: Mapping[str, Sequence[WindowSpec]],
    approved: datetime | None = None,
) -> dict[str, object]:
    """One element of the schedule-by-queue answer, exactly in the operator's shape."""
    approved = approved or datetime.combine(day - timedelta(days=1), datetime.min.time(), KYIV)
    return {
        "eventDate": day.strftime("%d.%m.%Y"),
        "queues": {
            code: [
                {"shutdownHours": f"{a}-{b}", "from": a, "to": b, "status": 1} for a, b in windows
            ]
            for code, windows in queues.items()
        },
        "createdAt": _kyiv_text(approved),
        "scheduleApprovedSince": _kyiv_text(approved),
    }


@dataclass(frozen=True, slots=True)
class Rotation:
    """Made-up schedules for the demo: 4-hour blocks per queue that shift every ``period`` s."""

    period: float = 300.0

    def windows(self, queue: str, day: date, step: int) -> list[WindowSpec]:
        index = ALL_QUEUES.index(queue) if queue in ALL_QUEUES else 0
        # Half-hour steps so a change moves the windows visibly; the evening block usually runs
        # past midnight ("23:00-02:00"), as real schedules do.
        offset = (index * 2 + day.toordinal() + step) % 8 * 30
        blocks = []
        for base, length in ((60, 120), (540, 180), (1020, 120), (1290, 180)):
            start = (base + offset) % 1440
            blocks.append((_hhmm(start), _hhmm((start + length) % 1440)))
        return blocks


class OutageOperatorSimulator(WebService):
    def __init__(
        self,
        queues: Iterable[str] = ALL_QUEUES,
        *,
        clock: Callable[[], float] = time.time,
        rotation: Rotation | None = None,
    ) -> None:
        super().__init__()
        self.queues: list[str] = list(queues)
        self.mode: Mode = "ok"
        self.error_status = 502  # what mode "error" answers (404, 500, 502, …)
        self.delay = 0.0  # seconds every answer is held back (timeouts)
        self.requests: Counter[str] = Counter()
        self._clock = clock
        self._rotation = rotation
        self._payloads: dict[str, object] = {}
        self._raw: dict[str, bytes] = {}

    # control ---------------------------------------------------------------------------------

    def set_payload(self, queue: str, payload: object) -> None:
        """Answer exactly this JSON value for ``queue`` (raw control, e.g. malformed shapes)."""
        self._raw.pop(queue, None)
        self._payloads[queue] = payload

    def set_raw(self, queue: str, body: bytes) -> None:
        """Answer these bytes, as they are, with status 200 (bodies that are not JSON)."""
        self._raw[queue] = body

    def set_days(
        self,
        queue: str,
        days: Mapping[date, Sequence[WindowSpec] | None],
        approved: datetime | None = None,
    ) -> None:
        """Publish days for ``queue``: a list of windows (``[]`` = no outages) or None for an
        element without this queue (the operator's "no data for that queue")."""
        elements = []
        for day, windows in days.items():
            queues: dict[str, Sequence[WindowSpec]] = {} if windows is None else {queue: windows}
            elements.append(day_element(day, queues, approved))
        self.set_payload(queue, elements)

    def clear(self, queue: str) -> None:
        self._payloads.pop(queue, None)
        self._raw.pop(queue, None)

    def today(self) -> date:
        return datetime.fromtimestamp(self._clock(), KYIV).date()

    # HTTP ------------------------------------------------------------------------------------

    def _schedule(self, queue: str) -> object:
        if queue in self._payloads:
            return self._payloads[queue]
        if self._rotation is None or queue not in self.queues:
            return []  # off-season, and what the operator answers for unknown queues
        step = int(self._clock() // self._rotation.period)
        today = self.today()
        approved = datetime.fromtimestamp(step * self._rotation.period, KYIV)
        return [
            day_element(day, {queue: self._rotation.windows(queue, day, step)}, approved)
            for day in (today, today + timedelta(days=1))
        ]

    async def _answer(self, body: Callable[[], object], raw: bytes | None = None) -> web.Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.mode == "forbidden":
            return web.Response(status=403, text="403 Forbidden", content_type="text/html")
        if self.mode == "error":
            return web.Response(
                status=self.error_status, text="<html>error</html>", content_type="text/html"
            )
        if self.mode == "garbage":
            return web.Response(
                text="<html><body>maintenance</body></html>", content_type="text/html"
            )
        if raw is not None:
            return web.Response(body=raw, content_type="application/json")
        return web.Response(
            text=json.dumps(body(), ensure_ascii=False), content_type="application/json"
        )

    async def _queue_list(self, request: web.Request) -> web.Response:
        self.requests["gpv-queue-list"] += 1
        return await self._answer(
            lambda: [
                {"id": i + 1, "code": code, "label": f"черга {code}"}
                for i, code in enumerate(self.queues)
            ]
        )

    async def _schedule_by_queue(self, request: web.Request) -> web.Response:
        self.requests["schedule-by-queue"] += 1
        queue = request.query.get("queue", "")
        return await self._answer(lambda: self._schedule(queue), self._raw.get(queue))

    async def _set_mode(self, request: web.Request) -> web.Response:
        mode = request.query.get("mode", "")
        for known in MODES:
            if mode == known:
                self.mode = known
                return web.json_response({"mode": self.mode})
        return web.json_response({"error": f"mode must be one of {', '.join(MODES)}"}, status=400)

    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_route("POST", "/gpv-queue-list", self._queue_list)
        router.add_route("GET", "/gpv-queue-list", self._queue_list)
        router.add_get("/schedule-by-queue", self._schedule_by_queue)
        router.add_post("/sim/mode", self._set_mode)
