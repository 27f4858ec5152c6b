"""The `outages:` section: defaults, and invalid values named by their key path."""

from __future__ import annotations

from typing import Any

import pytest

from gridwatch.config import ConfigError, parse_config


def test_defaults() -> None:
    outages = parse_config({"outages": {"queue": "5.2"}}).outages
    assert outages is not None
    assert (outages.operator, outages.interval, outages.timeout) == ("be-svitlo", 600, 20)
    assert outages.device == "5.2"
    assert outages.typical_load_watts is None


@pytest.mark.parametrize(
    ("section", "path", "words"),
    [
        ({"queue": 5.2}, "outages.queue", 'in quotes, e.g. queue: "5.2"'),
        ({"queue": "five"}, "outages.queue", "pattern"),
        ({"queue": "5.2", "operator": "yasno"}, "outages.operator", "unknown operator"),
        ({"queue": "5.2", "url": "be-svitlo.oe.if.ua"}, "outages.url", "http"),
        ({"queue": "5.2", "interval": "often"}, "outages.interval", "duration"),
        ({"queue": "5.2", "battery_reserve_ratio": 1.5}, "outages.battery_reserve_ratio", "less"),
        ({"queue": "5.2", "typical_load_watts": 0}, "outages.typical_load_watts", "greater"),
        ({"queue": "5.2", "qeue": "5.1"}, "outages.qeue", "unknown key"),
        ({}, "outages.queue", "required"),
        ({"queue": "7.1", "operator": "yasno-kyiv"}, "outages", "not a yasno-kyiv group"),
        ({"queue": "1001.1", "operator": "lvivoblenergo"}, "outages", "1.1 … 6.2"),
        ({"queue": "1.1", "operator": "dtek-gpv"}, "outages", "needs url"),
        ({"queue": "1.1", "operator": "yasno"}, "outages.operator", "yasno-dnipro-cek"),
        ({"queue": "1.1", "data_max_age": "soon"}, "outages.data_max_age", "duration"),
        ({"queue": "5.2", "interval": "1h", "stale_after": "30m"}, "outages", "at least interval"),
    ],
)
def test_invalid_values_name_the_key(section: dict[str, Any], path: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"outages": section}, "site.yml")
    problems = dict(info.value.problems)
    assert path in problems, problems
    assert words in problems[path].lower()


def test_every_operator_accepts_its_queues() -> None:
    for operator, queue in (
        ("yasno-kyiv", "6.2"),
        ("yasno-dnipro-cek", "4.2"),
        ("dtek-gpv", "1001.1"),  # ЦЕК on DTEK's Dnipro page
        ("lvivoblenergo", "1.1"),
        ("be-svitlo", "5.2"),
    ):
        url = {"url": "https://mirror.example/data/dnipro.json"} if operator == "dtek-gpv" else {}
        outages = parse_config({"outages": {"queue": queue, "operator": operator, **url}}).outages
        assert outages is not None and outages.queue == queue


def test_several_queues_are_a_list_with_distinct_queues_and_names() -> None:
    two = [{"queue": "5.2"}, {"queue": "3.1", "operator": "yasno-kyiv", "name": "parents"}]
    outages = parse_config({"outages": two}).outages
    assert isinstance(outages, list) and [q.device for q in outages] == ["5.2", "parents"]
    for bad, words in (
        ([{"queue": "5.2"}, {"queue": "5.2", "name": "b"}], "queue 5.2 appears twice"),
        (
            [{"queue": "5.2", "name": "a"}, {"queue": "3.1", "name": "a"}],
            "already the name of outages[0]",
        ),
        ([], "at least one queue"),
    ):
        with pytest.raises(ConfigError) as info:
            parse_config({"outages": bad}, "site.yml")
        assert any(words in text for text in dict(info.value.problems).values()), info.value
