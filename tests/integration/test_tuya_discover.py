"""``gridwatch discover-tuya`` as a real process against the fake Tuya cloud (which checks every
signature): the account's plugs become a config snippet the receiver accepts; keys stay out of
stdout unless asked for; the "all but …" shedding group."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from gridwatch.config import parse_config
from gridwatch.sim.tuya.cloud import FakeTuyaCloud

pytestmark = pytest.mark.integration

ACCESS_ID = "p7hx4d9qkw2m5ny3"
SECRET = "c0ffee5ecret00aa11bb22cc33dd44ee"
KEYS = {"bf01boiler": "k3y0fTheB0iler!!", "bf02fridge": "fr1dgeKey0000000",
        "bf03heat": "h3aterKey0000000"}  # fmt: skip


@pytest.fixture
async def cloud() -> AsyncIterator[FakeTuyaCloud]:
    async with FakeTuyaCloud(ACCESS_ID, SECRET) as fake:
        names = ["Boiler", "Fridge", "Heater (hall)"]
        for (device_id, key), name in zip(KEYS.items(), names, strict=True):
            fake.add_device(device_id, name).local_key = key
        fake.add_device("bf04cam", "Door camera").category = "sp"  # not a switch
        yield fake


async def discover(cloud: FakeTuyaCloud, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    secret = tmp_path / "secret"
    secret.write_text(SECRET)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gridwatch", "discover-tuya",
        "--access-id", ACCESS_ID, "--access-secret-file", str(secret),
        "--base-url", cloud.url, "--user-id", cloud.uid, *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=tmp_path,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def receiver_with(snippet: str, tmp_path: Path) -> dict[str, object]:
    section = yaml.safe_load(snippet)["receiver"]
    for plug in section["tuya"]["plugs"]:
        plug["address"] = "127.0.0.1"  # what the user fills in
        if "local_key_file" in plug:
            plug["local_key_file"] = str(tmp_path / plug["local_key_file"])
    return section


async def test_keys_go_to_files_and_the_snippet_is_a_valid_config(
    cloud: FakeTuyaCloud, tmp_path: Path
) -> None:
    code, out, err = await discover(cloud, tmp_path, "--keys-dir", "keys")
    assert code == 0, err
    assert not any(key in out or key in err for key in KEYS.values())  # no key on the screen
    assert "bf04cam" not in out  # a camera is not a plug
    for name, device_id in (("Boiler", "bf01boiler"), ("Heater_hall", "bf03heat")):
        key_file = tmp_path / "keys" / f"{name}.key"
        assert key_file.read_text().strip() == KEYS[device_id]
        assert os.stat(key_file).st_mode & 0o777 == 0o600
    config = parse_config({"receiver": receiver_with(out, tmp_path)}).receiver
    assert config is not None and config.tuya is not None
    plugs = {p.name: p for p in config.tuya.plugs}
    assert sorted(plugs) == ["Boiler", "Fridge", "Heater_hall"]
    assert plugs["Fridge"].device_id == "bf02fridge"
    assert ("GET", f"/v1.0/users/{cloud.uid}/devices") in cloud.requests


async def test_show_keys_and_shed_all_but_the_named(cloud: FakeTuyaCloud, tmp_path: Path) -> None:
    code, out, err = await discover(
        cloud, tmp_path, "--show-keys", "--shed-group", "shed", "--except", "Fridge"
    )
    assert code == 0, err
    config = parse_config({"receiver": receiver_with(out, tmp_path)}).receiver
    assert config is not None and config.tuya is not None
    keys = {p.name: p.resolved_key() for p in config.tuya.plugs}  # type: ignore[union-attr]
    assert keys == {"Boiler": KEYS["bf01boiler"], "Fridge": KEYS["bf02fridge"],
                    "Heater_hall": KEYS["bf03heat"]}  # fmt: skip
    assert config.tuya.groups["shed"] == ["Boiler", "Heater_hall"]
    rule = config.actions[0]
    assert rule.match == {"alertname": "GridDown"} and rule.groups == ["shed"]


async def test_a_wrong_secret_fails_with_the_clouds_reason(
    cloud: FakeTuyaCloud, tmp_path: Path
) -> None:
    cloud.access_secret = "0" * 32  # the cloud no longer accepts our signature
    code, out, err = await discover(cloud, tmp_path)
    assert code != 0 and out == ""
    assert "check access_id and access_secret" in err, err
