"""receiver: settings — defaults, the webhook token from a file, errors naming the key."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from gridwatch.config import ConfigError, parse_config
from gridwatch.receiver.app import receiver_settings

HEATER_PLUG = {
    "name": "heater",
    "backend": "local",
    "device_id": "bf0123456789abcdefgh",
    "address": "192.168.1.50",
    "local_key": "Kq7pZ2mW9xR4vT6y",
}


def receiver(tmp_path: Path, **settings: Any) -> Any:
    return parse_config({"receiver": settings}, "gridwatch.yml", tmp_path).receiver


def test_defaults(tmp_path: Path) -> None:
    r = receiver(tmp_path, token="abc")
    assert (r.listen_address, r.port) == ("127.0.0.1", 9865)
    assert r.max_body_bytes == 1_048_576
    assert (r.retry_initial, r.retry_max, r.retry_max_age) == (2.0, 300.0, 86_400.0)
    assert r.dedup_retention == 172_800.0
    assert r.resolved_token() == "abc"
    assert "abc" not in repr(r)  # a SecretStr


def test_token_file_is_relative_to_the_config_and_stripped(tmp_path: Path) -> None:
    (tmp_path / "am.token").write_text("s3cr3t\n")
    r = receiver(tmp_path, token_file="am.token", retry_max_age="12h", dedup_retention="3d")
    assert r.token_file == tmp_path / "am.token" and r.resolved_token() == "s3cr3t"
    assert (r.retry_max_age, r.dedup_retention) == (43_200.0, 259_200.0)


@pytest.mark.parametrize(
    ("settings", "path", "says"),
    [
        ({"token": "a", "token_file": "am.token"}, "receiver", "either token or token_file"),
        ({"token": "  "}, "receiver.token", "empty"),
        ({"token_file": "empty.token"}, "receiver.token_file", "is empty"),
        ({"token_file": "nowhere"}, "receiver.token_file", "cannot read"),
        ({"port": 70000}, "receiver.port", "65535"),
        ({"max_body_bytes": 10}, "receiver.max_body_bytes", "1024"),
        ({"retry_initial": "1m", "retry_max": "10s"}, "receiver", "retry_max"),
        ({"retry_max_age": "0s"}, "receiver.retry_max_age", "positive"),
        ({"listen": "0.0.0.0"}, "receiver.listen", "unknown key"),
        (
            {
                "tuya": {"plugs": [HEATER_PLUG]},
                "homewizard": {"sockets": [{"name": "heater", "host": "127.0.0.1"}]},
            },
            "receiver",
            "both a Tuya plug and an Energy Socket: heater",
        ),
    ],
)
def test_invalid_settings_name_the_key(
    tmp_path: Path, settings: dict[str, Any], path: str, says: str
) -> None:
    (tmp_path / "am.token").write_text("x")
    (tmp_path / "empty.token").write_text("\n")
    with pytest.raises(ConfigError) as caught:
        parse_config({"receiver": settings}, "gridwatch.yml", tmp_path)
    [(where, message)] = caught.value.problems
    assert where == path and says in message


def test_the_receiver_refuses_to_start_without_a_token(tmp_path: Path) -> None:
    for config in (parse_config({}), parse_config({"receiver": {}})):
        with pytest.raises(ConfigError) as caught:
            receiver_settings(config, "gridwatch.yml")
        assert str(caught.value).startswith("gridwatch.yml: invalid configuration")
    config = parse_config({"receiver": {"token": "abc"}})
    assert receiver_settings(config)[1] == "abc"


def test_the_readme_example_is_a_valid_receiver_config(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Alert receiver\n", 1)[1].split("\n## ")[0]
    [block] = re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)
    (tmp_path / "alertmanager.token").write_text("s3cr3t\n")
    config = parse_config(yaml.safe_load(block), "README.md", tmp_path)
    assert receiver_settings(config)[1] == "s3cr3t"
