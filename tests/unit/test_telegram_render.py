"""Notification texts: per-language templates, HTML escaping, plug results, splitting ≤ 4096.

Every rendered message is also checked with the fake Bot API's HTML checker, which rejects what
Telegram rejects (a raw ``<``, an unknown tag, an unclosed one).
"""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gridwatch.receiver.model import Alert, Notification, PlugResult
from gridwatch.receiver.telegram.markup import MAX_MESSAGE, split_message, utf16_len
from gridwatch.receiver.telegram.render import messages, render_notification
from gridwatch.receiver.telegram.templates import LANGUAGES, Catalog
from gridwatch.receiver.telegram.templates.en import TEXTS as EN
from gridwatch.sim.telegram.bot_api import check_html

pytestmark = pytest.mark.clock

KYIV = ZoneInfo("Europe/Kyiv")
START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)  # 10:00 in Kyiv
NOW = START + timedelta(minutes=5)


def alert(
    name: str,
    status: str = "firing",
    labels: dict[str, str] | None = None,
    lasted: timedelta | None = None,
    **annotations: str,
) -> Alert:
    return Alert(
        status="firing" if status == "firing" else "resolved",
        labels={"alertname": name, **(labels or {})},
        annotations=annotations,
        starts_at=START,
        ends_at=START + lasted if lasted is not None else None,
        fingerprint="0123456789abcdef",
    )


def note(*alerts: Alert, truncated: int = 0) -> Notification:
    status = "firing" if any(a.status == "firing" for a in alerts) else "resolved"
    return Notification("telegram", status, alerts, truncated_alerts=truncated)


def render(
    notification: Notification, plugs: list[PlugResult] | None = None, lang: str = "uk"
) -> str:
    catalog = Catalog(lang)  # type: ignore[arg-type]
    text = render_notification(notification, plugs or [], catalog, KYIV, now=NOW)
    error, _ = check_html(text)
    assert error is None, (error, text)
    return text


def fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_language_has_every_text_with_the_same_fields(language: str) -> None:
    texts = LANGUAGES[language]  # type: ignore[index]
    assert set(texts) == set(EN), set(texts) ^ set(EN)
    for key, template in texts.items():
        assert fields(template) == fields(EN[key]), key


def test_grid_lost_and_restored_in_ukrainian_read_as_the_earlier_bot() -> None:
    lost = render(note(alert("GridDown", summary="Grid power is down")))
    assert lost.splitlines()[0] == "<b>⚠️ Мережа зникла!</b>"
    assert (
        "‼️ Увага: будь ласка, не користуйтеся духовкою, пральною машиною, електрочайником та "
        "іншими потужними приладами." in lost
    )
    assert "З 10:00" in lost  # starts_at in Kyiv time

    back = render(note(alert("GridDown", "resolved", lasted=timedelta(hours=2, minutes=5))))
    assert back.splitlines()[0] == "<b>✅ Мережу відновлено</b>"
    assert "Тривало 2г 5хв" in back
    assert "Увага" not in back  # the advice is for the outage, not its end


def test_schedule_changed_and_low_battery_in_ukrainian() -> None:
    changed = render(note(alert("OutageScheduleChanged", labels={"queue": "5.2"})))
    assert changed.startswith("<b>⚠️ Графік відключень оновлено: 5.2</b>")
    low = render(
        note(
            alert(
                "BatteryLow",
                labels={"battery": "jk1", "severity": "warning"},
                description="Pack jk1 is at 15% (warning below 20%)",
            )
        )
    )
    assert low.startswith("<b>🔋🔴 Низький рівень заряду батареї: jk1</b>")
    assert "вимикайте непотрібні прилади та уникайте використання потужної техніки" in low
    assert "<i>Pack jk1 is at 15% (warning below 20%)</i>" in low


def test_interpolated_text_is_escaped_everywhere() -> None:
    nasty = "<b>phase & co</b> (< 10% left)"
    text = render(
        note(alert("SomethingNew", labels={"meter": nasty}, summary=nasty, description=nasty)),
        [PlugResult(nasty, False, "error", detail="<timeout> & more")],
        lang="en",
    )
    assert "<b>phase" not in text.replace("<b>🔔", "")
    assert "&lt;b&gt;phase &amp; co&lt;/b&gt; (&lt; 10% left)" in text
    assert "&lt;timeout&gt; &amp; more" in text


def test_an_alert_without_its_own_texts_uses_its_summary_then_its_name() -> None:
    text = render(
        note(alert("NewRule", summary="Something odd", description="Details here")), lang="en"
    )
    assert text.splitlines()[:2] == ["<b>🔔 Something odd</b>", "<i>Details here</i>"]
    bare = render(note(alert("NewRule", "resolved", lasted=timedelta(minutes=7))), lang="en")
    assert bare.splitlines() == ["<b>✅ Resolved: NewRule</b>", "Lasted 7 min"]


def test_a_missing_target_leaves_no_dangling_colon() -> None:
    assert render(note(alert("BatteryLow")), lang="en").startswith("<b>🔋🔴 Battery low</b>")
    text = render(note(alert("PhaseNearFuse", labels={"meter": "home", "phase": "l2"})), lang="sv")
    assert text.startswith("<b>⚡ Fasen närmar sig huvudsäkringen: home l2</b>")


def test_plug_results_say_ok_offline_and_error_per_plug() -> None:
    plugs = [
        PlugResult("boiler", False, "ok"),
        PlugResult("heater", False, "offline", detail="no answer in 3 s"),
        PlugResult("pump", False, "error", detail="device said 914"),
    ]
    text = render(note(alert("GridDown")), plugs)
    assert text.splitlines()[-4:] == [
        "<b>🔌 Вимикаю Tuya пристрої:</b>",
        "✓ boiler вимкнено",
        "⚠️ heater (недоступно: no answer in 3 s)",
        "✗ pump - помилка: device said 914",
    ]
    on = render(note(alert("GridDown", "resolved", lasted=timedelta(hours=1))),
                [PlugResult("boiler", True, "ok")], lang="en")  # fmt: skip
    assert on.splitlines()[-2:] == ["<b>🔌 Switching plugs on:</b>", "✓ boiler switched on"]


def test_truncated_alerts_are_mentioned() -> None:
    text = render(note(alert("SourceDown", labels={"source": "bms"}), truncated=3), lang="en")
    assert "… and 3 more alerts that Alertmanager left out" in text


def test_a_long_notification_is_split_at_line_boundaries_under_the_limit() -> None:
    many = [
        alert("SourceDown", labels={"source": "bms", "device": f"pack{n}"}, description="x" * 300)
        for n in range(40)
    ]
    parts = messages(note(*many), [], Catalog("en"), KYIV, now=NOW)
    assert len(parts) > 1
    assert all(utf16_len(p) <= MAX_MESSAGE for p in parts)
    assert all(check_html(p)[0] is None for p in parts)
    whole = render(note(*many), lang="en")
    assert [line for p in parts for line in p.split("\n") if line] == [
        line for line in whole.split("\n") if line
    ]


def test_a_single_huge_line_is_cut_between_words_and_never_inside_an_entity() -> None:
    line = "<i>" + " ".join(["&lt;word&amp;"] * 2000) + "</i>"
    parts = split_message("<b>title</b>\n" + line)
    assert parts[0] == "<b>title</b>" or parts[0].startswith("<b>title</b>\n")
    assert all(utf16_len(p) <= MAX_MESSAGE for p in parts)
    for part in parts:
        assert check_html(part)[0] is None, part[:80]
        assert not re.search(r"&[a-z]*$", part)
    assert sum(p.count("&lt;word&amp;") for p in parts) == 2000


def test_emoji_count_twice_towards_the_limit() -> None:
    parts = split_message("\n".join(["🔋" * 100] * 30))  # 200 UTF-16 units per line
    assert all(utf16_len(p) <= MAX_MESSAGE for p in parts)
    assert len(parts) == 2


def test_numbers_and_durations_follow_the_language() -> None:
    assert Catalog("uk").number(1234.56, 1) == "1 234,6"
    assert Catalog("en").number(0.5, 2) == "0.50"
    assert Catalog("sv").duration(26 * 3600) == "1 d 2 h"
    assert Catalog("uk").duration(45 * 60) == "45хв"


def test_a_long_multi_line_summary_splits_into_parts_that_each_parse() -> None:
    """Issue 15, fault 5: a 250-line summary in <b>…</b> was cut inside the tag (400)."""
    summary = "\n".join(f"line {n}: inverter & battery <ok>" for n in range(250))
    parts = messages(note(alert("Custom", summary=summary)), [], Catalog("en"), KYIV, now=NOW)
    assert len(parts) > 1
    for part in parts:
        assert check_html(part)[0] is None, part[:80]
        assert utf16_len(part) <= MAX_MESSAGE
    seen = "\n".join(check_html(p)[1] for p in parts)
    assert all(f"line {n}: inverter & battery <ok>" in seen for n in range(250))


@pytest.mark.parametrize(
    "stamp", [datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, tzinfo=UTC)]
)
@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Pacific/Kiritimati", "Europe/Kyiv"])
def test_times_at_the_ends_of_the_calendar_render_in_every_zone(stamp: datetime, zone: str) -> None:
    """Issue 15, fault 1: startsAt at year 1 or 9999 overflowed when shown in the site's zone."""
    a = Alert("firing", {"alertname": "GridDown"}, {}, stamp, None, "ab")
    [text] = messages(note(a), [], Catalog("en"), ZoneInfo(zone), now=NOW)
    assert check_html(text)[0] is None
