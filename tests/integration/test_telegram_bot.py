"""The Telegram bot end to end on loopback: the fake Bot API delivers user commands and button
presses; numbers come from a real Prometheus scraping a fixed /metrics text, the outage schedule
and price slots from the real exporter (against its simulated operator and price server, on a
test clock), active alerts from a real Alertmanager. Only the plugs are a stand-in (the Tuya
side is tested on its own against tuyamock)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gridwatch.config import parse_config
from gridwatch.receiver.model import Alert, PlugResult, PlugState
from gridwatch.receiver.telegram.bot import TelegramBot
from gridwatch.sim.prices.simulator import PriceSimulator
from gridwatch.sim.service import RouteServer
from gridwatch.sim.telegram.bot_api import FakeBotApi, SentMessage
from tests.integration.outages_harness import Harness, harness, kyiv, polls, serve
from tests.integration.telegram_peers import alertmanager, post_alerts, prometheus

pytestmark = [pytest.mark.integration, pytest.mark.clock]
HOME, FAMILY, STRANGER = 42, -1001234567890, 999
CHANGED = kyiv("2026-11-20T08:55")
TOMORROW_4AM = kyiv("2026-11-21T04:00")
TOMORROW_3AM = kyiv("2026-11-21T03:00")
METRICS = f"""
gridwatch_build_info{{version="0.1.0",python_version="3.12"}} 1
gridwatch_grid_up 0
gridwatch_grid_last_change_timestamp_seconds {CHANGED}
gridwatch_inverter_output_power_watts{{inverter="main"}} 640
gridwatch_inverter_mains_power_watts{{inverter="main"}} 0
gridwatch_inverter_pv_total_power_watts{{inverter="main"}} 120
gridwatch_inverter_battery_soc_ratio{{inverter="main"}} 0.15
gridwatch_inverter_battery_voltage_volts{{inverter="main"}} 48.2
gridwatch_inverter_battery_current_amperes{{inverter="main"}} -12.5
gridwatch_inverter_battery_power_watts{{inverter="main"}} -602
gridwatch_battery_soc_ratio{{battery="jk1"}} 0.9
gridwatch_battery_voltage_volts{{battery="jk1"}} 53.1
gridwatch_battery_current_amperes{{battery="jk1"}} 0
gridwatch_battery_cells{{battery="jk1"}} 16
gridwatch_battery_cell_delta_volts{{battery="jk1"}} 0.012
gridwatch_battery_temperature_celsius{{battery="jk1",sensor="1",type="cell"}} 21.5
gridwatch_battery_temperature_celsius{{battery="jk1",sensor="2",type="mosfet"}} 24
gridwatch_p1_power_watts{{meter="home"}} -350
gridwatch_price_total_per_kwh{{area="SE3",currency="SEK"}} 1.234
gridwatch_price_spot_per_kwh{{area="SE3",currency="SEK"}} 0.456
gridwatch_price_day_total_per_kwh{{area="SE3",currency="SEK",day="today",stat="min"}} 0.8
gridwatch_price_day_total_per_kwh{{area="SE3",currency="SEK",day="today",stat="mean"}} 1.1
gridwatch_price_day_total_per_kwh{{area="SE3",currency="SEK",day="today",stat="max"}} 2.05
gridwatch_price_cheapest_window_start_timestamp_seconds{{area="SE3",hours="1"}} {TOMORROW_4AM}
gridwatch_price_cheapest_window_mean_per_kwh{{area="SE3",currency="SEK",hours="1"}} 0.31
gridwatch_price_cheapest_window_start_timestamp_seconds{{area="SE3",hours="3"}} {TOMORROW_3AM}
gridwatch_price_cheapest_window_mean_per_kwh{{area="SE3",currency="SEK",hours="3"}} 0.42
gridwatch_price_tomorrow_published{{area="SE3"}} 1
gridwatch_outage_battery_runtime_seconds{{queue="5.2"}} 7200
gridwatch_outage_battery_margin_joules{{queue="5.2"}} -1000
"""


class Plugs:
    """A stand-in for the PlugActions port: fixed states, as TuyaActions would report them."""

    stagger_seconds = 0.0

    def plan(self, alert: Alert) -> list[tuple[str, bool]]:
        return []

    async def switch(self, plug: str, on: bool) -> PlugResult:
        return PlugResult(plug, on, "ok")

    async def states(self) -> list[PlugState]:
        return [
            PlugState("boiler", "heavy", True, "ok"),
            PlugState("heater <2kW>", "heavy", False, "ok"),
            PlugState("pump", "water", None, "offline", "no answer in 3 s"),
        ]


@pytest.fixture(scope="module")
def prometheus_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with prometheus(METRICS, tmp_path_factory.mktemp("prom"), "gridwatch_build_info") as url:
        yield url


@pytest.fixture(scope="module")
def alertmanager_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with alertmanager(tmp_path_factory.mktemp("am")) as url:
        yield url


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


@pytest.fixture
async def exporter(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[Harness]:
    """The real exporter with outages (queue 5.2) and SE3 prices, its clock at 10:00 Kyiv."""
    async with harness(monkeypatch, tmp_path) as h, PriceSimulator(clock=h.clock) as prices:
        serve(h, "several_windows_5.2_2026-11-20.json")
        h.clock.set("2026-11-20T10:00")
        section = {"area": "SE3", "elprisetjustnu_url": prices.elprisetjustnu_url,
                   "providers": ["elprisetjustnu"]}  # fmt: skip
        gw = await h.start(extra={"prices": section})
        await polls(gw)
        h.url = gw.exporter.url  # type: ignore[attr-defined]
        yield h


def receiver(api: FakeBotApi, prometheus: str, exporter: str, am: str, **tg: Any) -> Any:
    telegram = {
        "bot_token": api.token,
        "chat_ids": [HOME, FAMILY],
        "api_base_url": api.url,
        "language": "uk",
        "timezone": "Europe/Kyiv",
        "poll_timeout": "1s",
        "query_timeout": "3s",
        **tg,
    }
    config = parse_config(
        {
            "receiver": {
                "prometheus_url": prometheus,
                "exporter_url": exporter,
                "alertmanager_url": am,
                "telegram": telegram,
            }
        }
    )
    return config.receiver


@pytest.fixture
async def bot(
    api: FakeBotApi, prometheus_url: str, alertmanager_url: str, exporter: Harness
) -> AsyncIterator[TelegramBot]:
    config = receiver(api, prometheus_url, exporter.url, alertmanager_url)  # type: ignore[attr-defined]
    running = TelegramBot(config, Plugs(), clock=exporter.clock)
    await running.start()
    await api.wait_for(running.polling.is_set, "the bot to poll")
    yield running
    await running.stop()


async def ask(api: FakeBotApi, text: str, chat: int = HOME) -> SentMessage:
    before = len(api.sent)
    api.user_message(chat, text)
    await api.wait_for(lambda: len(api.sent) > before, f"an answer to {text}")
    answer = api.sent[before]
    assert answer.chat_id == chat and answer.parse_mode == "HTML"
    return answer


async def test_status_says_grid_power_battery_plugs_and_todays_outages(
    api: FakeBotApi, bot: TelegramBot
) -> None:
    answer = await ask(api, "/status")
    lines = answer.text.splitlines()
    assert lines[0] == "<b>🚨 Мережі немає</b> (з 08:55, 1г 5хв)"
    assert "⚡ main: навантаження 640 W, з мережі 0 W, сонце 120 W" in lines
    assert "🏠 Лічильник home: віддача 350 W" in lines
    assert "🔋 main: 15 %" in lines and "🔋 jk1: 90 %" in lines
    assert "🔌 Розетки: boiler ✅ ON, heater &lt;2kW&gt; ❌ OFF, pump ⚠️ (недоступно)" in lines
    today = lines.index("<b>📅 Відключення сьогодні (20.11.2026)</b>")
    assert lines[today + 1 : today + 4] == [
        "  ✓ 00:00–02:30 (2г 30хв) - завершено",
        "  🔴 09:00–12:00 (3г) - ЗАРАЗ",
        "  ⏰ 18:00–21:30 (3г 30хв)",
    ]
    assert lines[-1].startswith("<i>Останнє оновлення: ")
    assert answer.buttons() == [("🔄 Оновити", "refresh:status")]
    # The family group gets answers too (group ids are negative).
    assert (await ask(api, "/status@gridwatch_test_bot", chat=FAMILY)).text.startswith("<b>🚨")


async def test_battery_warns_below_20_percent_and_against_the_next_outage(
    api: FakeBotApi, bot: TelegramBot
) -> None:
    lines = (await ask(api, "/battery")).text.splitlines()
    inverter = lines.index("<b>Інвертор main</b>")
    assert lines[inverter + 1 : inverter + 5] == [
        "Рівень заряду: 15 % 🔋🔴",
        "Напруга батареї: 48,2 V",
        "Струм батареї: -12,5 A (розряджається)",
        "Потужність: -602 W",
    ]
    pack = lines.index("<b>Батарея jk1</b>")
    assert lines[pack + 1 : pack + 6] == [
        "Рівень заряду: 90 % 🔋🟢",
        "Напруга батареї: 53,1 V",
        "Струм батареї: 0,0 A (спокій)",
        "Комірок: 16, різниця 12 mV",
        "Температура: 24,0 °C",
    ]
    assert "<b>‼️ Низький рівень заряду (&lt; 20%).</b>" in lines
    assert "📅 Черга 5.2: батареї вистачить на 2г при поточному навантаженні" in lines
    assert "⚠️ Черга 5.2: на наступне відключення батареї не вистачить" in lines


async def test_schedule_shows_today_and_tomorrow_from_the_exporter(
    api: FakeBotApi, bot: TelegramBot
) -> None:
    lines = (await ask(api, "/schedule")).text.splitlines()
    assert lines[:5] == [
        "<b>📅 Графік відключень для черги 5.2</b>",
        "",
        "<b>📆 20.11.2026 (Всього: 9г)</b>",
        "  ✓ 00:00–02:30 (2г 30хв) - завершено",
        "  🔴 09:00–12:00 (3г) - ЗАРАЗ",
    ]
    tomorrow = lines.index("<b>📆 21.11.2026</b>")
    assert lines[tomorrow + 1] == "  ✅ Відключень не заплановано"
    assert any(line.startswith("<i>🕐 Оновлено: ") for line in lines)


async def test_schedule_shows_a_third_day_when_the_operator_publishes_one(
    api: FakeBotApi, bot: TelegramBot, exporter: Harness
) -> None:
    days = (date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 22), date(2026, 11, 23))
    exporter.operator.set_days(
        "5.2", {days[0]: [("09:00", "12:00")], days[1]: [], days[2]: [("18:00", "20:00")],
                days[3]: []}
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while "<b>📆 22.11.2026 (Всього: 2г)</b>" not in (lines := (await ask(api, "/schedule")).text
                                                       .splitlines()):  # fmt: skip
        assert time.monotonic() < deadline, lines
        await asyncio.sleep(0.2)
    headings = [line for line in lines if line.startswith("<b>📆 ")]
    assert headings == [  # three days at most: the 23rd is not shown
        "<b>📆 20.11.2026 (Всього: 3г)</b>",
        "<b>📆 21.11.2026</b>",
        "<b>📆 22.11.2026 (Всього: 2г)</b>",
    ]


async def test_prices_now_cheapest_windows_and_the_next_hours(
    api: FakeBotApi, bot: TelegramBot, exporter: Harness
) -> None:
    lines = (await ask(api, "/prices")).text.splitlines()
    assert lines[:3] == [
        "<b>💰 Ціна електроенергії, SE3</b>",
        "Зараз: 1,23 SEK/kWh (спот 0,46)",
        "Сьогодні: мінімум 0,80, середня 1,10, максимум 2,05",
    ]
    cheapest = lines.index("Найдешевше протягом відомих наступних 24 г:")
    assert lines[cheapest + 1 : cheapest + 3] == [
        "  1 г з 21.11 04:00: у середньому 0,31",
        "  3 г з 21.11 03:00: у середньому 0,42",
    ]
    assert "Ціни на завтра опубліковано." in lines
    # The coming hours are the exporter's own slots: 10:00 Kyiv is 09:00 in Stockholm (SE3).
    async with (
        aiohttp.ClientSession() as session,
        session.get(exporter.url + "/api/v1/prices?date=2026-11-20") as response,  # type: ignore[attr-defined]
    ):
        slots = (await response.json())["slots"]

    def hour_mean(hour: str) -> str:
        prices = [s["total"] if s["total"] is not None else s["spot"]
                  for s in slots if s["start_local"][11:13] == hour]  # fmt: skip
        return f"{sum(prices) / len(prices):.2f}".replace(".", ",")

    start = lines.index("Наступні години:")
    assert lines[start + 1 : start + 5] == [
        f"  {h}:00: {hour_mean(h)}" for h in ("09", "10", "11", "12")
    ]


async def test_alerts_come_from_alertmanager_most_severe_first(
    api: FakeBotApi, bot: TelegramBot, alertmanager_url: str
) -> None:
    start = (datetime.now(UTC) - timedelta(minutes=3)).isoformat()
    post_alerts(
        alertmanager_url,
        [
            {"labels": {"alertname": "NewThing", "severity": "warning"},
             "annotations": {"summary": "Odd <value> & more"}, "startsAt": start},
            {"labels": {"alertname": "GridDown", "severity": "critical"},
             "annotations": {"summary": "Grid power is down"}, "startsAt": start},
        ],
    )  # fmt: skip
    lines = (await ask(api, "/alerts")).text.splitlines()
    assert lines[0] == "<b>🔔 Активні сповіщення (2)</b>"
    assert lines[1].startswith("🔴 ⚠️ Мережа зникла! (з ")
    assert lines[2].startswith("🟡 🔔 Odd &lt;value&gt; &amp; more (з ")


async def test_plugs_lists_each_plug_with_its_state(api: FakeBotApi, bot: TelegramBot) -> None:
    lines = (await ask(api, "/plugs")).text.splitlines()
    assert lines[:4] == [
        "<b>🏠 Smart Devices</b>",
        "• boiler (heavy): ✅ ON",
        "• heater &lt;2kW&gt; (heavy): ❌ OFF",
        "• pump (water): ⚠️ (недоступно) (no answer in 3 s)",
    ]


async def test_other_chats_get_no_answer_at_all(api: FakeBotApi, bot: TelegramBot) -> None:
    api.user_message(STRANGER, "/status")
    api.user_message(STRANGER, "/start")
    api.press(STRANGER, 1, "refresh:status")
    # Updates are handled in order: once HOME has its answer, the stranger's were handled too.
    await ask(api, "/help")
    assert STRANGER not in api.chats()
    assert api.answers == []  # not even the button press was answered
    assert not [c for c in api.calls if str(c.params.get("chat_id")) == str(STRANGER)]


async def test_refresh_edits_the_message_in_place(
    api: FakeBotApi, bot: TelegramBot, exporter: Harness
) -> None:
    answer = await ask(api, "/schedule")
    exporter.clock.set("2026-11-20T13:00")  # the 09:00–12:00 window is over now
    api.press(HOME, answer.message_id, "refresh:schedule")
    await api.wait_for(lambda: bool(api.answers), "the button press to be answered")
    assert api.answers[0]["text"] == "✅ Оновлено"
    assert len(api.sent) == 1  # edited, not sent again
    assert "  ✓ 09:00–12:00 (3г) - завершено" in answer.current.splitlines()
    assert answer.buttons() == [("🔄 Оновити", "refresh:schedule")]


async def test_help_start_and_unknown_commands(api: FakeBotApi, bot: TelegramBot) -> None:
    help_lines = (await ask(api, "/help")).text.splitlines()
    assert help_lines[0] == "<b>Команди</b>"
    assert [line.split(" ")[0] for line in help_lines[1:8]] == [
        "/status", "/battery", "/schedule", "/prices", "/alerts", "/plugs", "/help",
    ]  # fmt: skip
    assert (await ask(api, "/start")).text.startswith("Вітаю!")
    assert "/help" in (await ask(api, "/frobnicate")).text
    assert [c["command"] for c in api.commands][:3] == ["status", "battery", "schedule"]


@pytest.fixture
async def empty_prometheus() -> AsyncIterator[str]:
    """A loopback server in Prometheus' API shape that knows no series at all."""

    async def query(request: web.Request) -> web.Response:
        return web.json_response(
            {"status": "success", "data": {"resultType": "vector", "result": []}}
        )

    async with RouteServer([web.get("/api/v1/query", query)]) as server:
        yield server.url


async def test_missing_data_is_said_plainly(api: FakeBotApi, empty_prometheus: str) -> None:
    dead = "http://127.0.0.1:9"  # nothing listens on the discard port of loopback
    bot = TelegramBot(receiver(api, empty_prometheus, dead, dead, language="en"), None)
    await bot.start()
    await api.wait_for(bot.polling.is_set, "the bot to poll")
    try:
        status = (await ask(api, "/status")).text.splitlines()
        assert status[:2] == [
            "⚠️ Prometheus has no data from the gridwatch exporter",
            "<b>❔ Grid state unknown (no inverter data)</b>",
        ]
        assert "⚡ No power readings (no inverter or meter data)" in status
        assert "0 W" not in "\n".join(status) and "0 %" not in "\n".join(status)
        assert "⚠️ The gridwatch exporter is not reachable (connection refused)" in status
        assert (await ask(api, "/battery")).text.startswith("🔋 No battery data")
        assert (await ask(api, "/prices")).text.startswith("💰 No price data.")
        assert (await ask(api, "/alerts")).text.startswith(
            "⚠️ Alertmanager is not reachable (connection refused)"
        )
        assert (await ask(api, "/plugs")).text.startswith("🔌 No plugs are configured.")
    finally:
        await bot.stop()
    bot = TelegramBot(receiver(api, dead, dead, dead, language="en"), None)
    await bot.start()
    await api.wait_for(bot.polling.is_set, "the bot to poll again")
    try:
        text = (await ask(api, "/status")).text
        assert text.startswith("⚠️ Prometheus is not reachable (connection refused)")
    finally:
        await bot.stop()


async def test_telegram_down_at_start_is_retried_and_the_token_never_logged(
    api: FakeBotApi, empty_prometheus: str, caplog: pytest.LogCaptureFixture
) -> None:
    dead = "http://127.0.0.1:9"
    await api.go_down()
    bot = TelegramBot(receiver(api, empty_prometheus, dead, dead, language="en"), None)
    bot._backoff_initial = 0.1  # production starts at 1 s
    with caplog.at_level(logging.DEBUG):
        await bot.start()  # returns although Telegram cannot be reached

        def tried() -> bool:
            return any("not reachable for the bot" in r.getMessage() for r in caplog.records)

        await api.wait_for(tried, "the first failed attempt")
        await api.come_up()
        try:
            await api.wait_for(bot.polling.is_set, "the bot to connect once Telegram is back")
            await ask(api, "/help")
        finally:
            await bot.stop()
    text = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "getUpdates" in text  # PTB's debug lines were captured…
    assert api.token not in text  # …without the token
    warnings = [r for r in caplog.records if "not reachable for the bot" in r.getMessage()]
    assert len(warnings) == 1  # logged when it started, not on every retry
