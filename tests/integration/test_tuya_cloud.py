"""Tuya Cloud OpenAPI client against the fake cloud on loopback, which checks every signature."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from gridwatch.receiver.model import PlugResult
from gridwatch.receiver.tuya.actions import TuyaActions
from gridwatch.receiver.tuya.cloud import sign, string_to_sign
from gridwatch.receiver.tuya.config import TuyaConfig
from gridwatch.sim.tuya.cloud import FakeTuyaCloud
from gridwatch.sim.tuya.local import closed_port

pytestmark = pytest.mark.integration

ACCESS_ID = "p7hx4d9qkw2m5ny3"
SECRET = "c0ffee5ecret00aa11bb22cc33dd44ee"
HEATER, PUMP = "bf7d3a90cloudheater", "bf11aa22cloudpump"


@pytest.fixture
async def cloud() -> AsyncIterator[FakeTuyaCloud]:
    async with FakeTuyaCloud(ACCESS_ID, SECRET) as fake:
        fake.add_device(HEATER, "Heater", switch_1=True, cur_power=1200)
        fake.add_device(PUMP, "Pump", switch_1=True)
        yield fake


def config(cloud: FakeTuyaCloud, **extra: Any) -> TuyaConfig:
    return TuyaConfig.model_validate(
        {
            "plugs": [
                {"name": "heater", "backend": "cloud", "group": "heavy", "device_id": HEATER},
                {"name": "pump", "backend": "cloud", "group": "heavy", "device_id": PUMP},
            ],
            "cloud": {"access_id": ACCESS_ID, "access_secret": SECRET, "base_url": cloud.url}
            | extra,
            "timeout": "5s",
        }
    )


@pytest.fixture
async def actions(cloud: FakeTuyaCloud) -> AsyncIterator[TuyaActions]:
    plugs = TuyaActions(config(cloud), [])
    yield plugs
    await plugs.close()


async def test_commands_switch_the_device_in_the_cloud(
    cloud: FakeTuyaCloud, actions: TuyaActions
) -> None:
    assert await actions.switch("heater", False) == PlugResult("heater", False, "ok")
    assert cloud.devices[HEATER].status == {"switch_1": False, "cur_power": 1200}
    assert cloud.commands == [(HEATER, "switch_1", False)]
    states = {s.plug: (s.on, s.outcome) for s in await actions.states()}
    assert states == {"heater": (False, "ok"), "pump": (True, "ok")}
    assert await actions.switch("heater", True) == PlugResult("heater", True, "ok")
    assert cloud.devices[HEATER].status["switch_1"] is True
    assert cloud.rejected == {}  # every request was signed correctly


async def test_one_token_serves_many_calls(cloud: FakeTuyaCloud, actions: TuyaActions) -> None:
    await asyncio.gather(*(actions.switch(p, False) for p in ("heater", "pump")))
    for _ in range(3):
        await actions.states()
    assert cloud.token_requests == 1
    assert len(cloud.requests) == 1 + 2 + 3 * 2


async def test_an_expired_token_is_refreshed_and_the_call_retried(
    cloud: FakeTuyaCloud, actions: TuyaActions
) -> None:
    await actions.switch("heater", False)
    cloud.expire_tokens()
    assert (await actions.switch("heater", True)).outcome == "ok"
    assert cloud.devices[HEATER].status["switch_1"] is True
    assert (cloud.token_requests, cloud.refresh_requests) == (1, 1)
    assert cloud.rejected[1010] == 1


async def test_a_token_is_renewed_before_its_lifetime_ends() -> None:
    async with FakeTuyaCloud(ACCESS_ID, SECRET, token_ttl=1) as cloud:
        cloud.add_device(HEATER, switch_1=True)
        cloud.add_device(PUMP, switch_1=True)
        actions = TuyaActions(config(cloud), [])
        try:
            await actions.switch("heater", False)
            await asyncio.sleep(0.6)  # past half the 1 s lifetime: the client renews first
            await actions.switch("heater", True)
        finally:
            await actions.close()
        assert cloud.refresh_requests == 1
        assert cloud.rejected == {}


async def test_a_wrong_secret_is_refused_by_the_cloud_and_never_logged(
    cloud: FakeTuyaCloud, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "not-the-secret-0000000000000000"
    tuya = config(cloud, access_secret=wrong)
    actions = TuyaActions(tuya, [])
    try:
        with caplog.at_level(logging.DEBUG):
            result = await actions.switch("heater", False)
    finally:
        await actions.close()
    assert result.outcome == "error"
    assert "[1004] sign invalid (check access_id and access_secret)" in result.detail
    assert cloud.rejected[1004] == 1
    assert cloud.devices[HEATER].status["switch_1"] is True
    for text in [result.detail, caplog.text]:
        assert wrong not in text and SECRET not in text


async def test_the_signature_covers_the_body(cloud: FakeTuyaCloud) -> None:
    """A request signed for one command but carrying another is refused (body hash)."""

    async def post(signed_body: bytes, sent_body: bytes, token: str) -> dict[str, Any]:
        path = f"/v1.0/devices/{HEATER}/commands"
        t = str(int(time.time() * 1000))
        headers = {
            "client_id": ACCESS_ID,
            "t": t,
            "sign_method": "HMAC-SHA256",
            "access_token": token,
            "Content-Type": "application/json",
            "sign": sign(SECRET, ACCESS_ID, token, t, string_to_sign("POST", path, signed_body)),
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(cloud.url + path, data=sent_body, headers=headers) as response,
        ):
            reply: dict[str, Any] = await response.json()
            return reply

    async with aiohttp.ClientSession() as session:
        t = str(int(time.time() * 1000))
        headers = {
            "client_id": ACCESS_ID,
            "t": t,
            "sign_method": "HMAC-SHA256",
            "sign": sign(
                SECRET, ACCESS_ID, "", t, string_to_sign("GET", "/v1.0/token?grant_type=1", b"")
            ),
        }
        async with session.get(cloud.url + "/v1.0/token?grant_type=1", headers=headers) as r:
            token = (await r.json())["result"]["access_token"]
    off = json.dumps({"commands": [{"code": "switch_1", "value": False}]}).encode()
    on = json.dumps({"commands": [{"code": "switch_1", "value": True}]}).encode()
    assert (await post(off, off, token))["success"] is True
    tampered = await post(off, on, token)
    assert (tampered["success"], tampered["code"]) == (False, 1004)
    assert cloud.devices[HEATER].status["switch_1"] is False


async def test_an_offline_device_is_reported_offline(
    cloud: FakeTuyaCloud, actions: TuyaActions
) -> None:
    cloud.set_online(PUMP, False)
    result = await actions.switch("pump", False)
    assert result.outcome == "offline"
    assert "[2001] device is offline" in result.detail
    assert cloud.devices[PUMP].status["switch_1"] is True
    states = {s.plug: (s.on, s.outcome) for s in await actions.states()}
    # The cloud still holds the pump's last data points; they are not shown as its state.
    assert states == {"heater": (True, "ok"), "pump": (None, "offline")}


async def test_a_device_outside_the_project_explains_1106(cloud: FakeTuyaCloud) -> None:
    del cloud.devices[PUMP]
    actions = TuyaActions(config(cloud), [])
    try:
        result = await actions.switch("pump", False)
        (_, pump) = await actions.states()
    finally:
        await actions.close()
    assert result.outcome == "error"
    assert "[1106] permission deny" in result.detail
    assert "not linked to the cloud project" in result.detail
    assert (pump.on, pump.outcome) == (None, "error")


async def test_with_user_id_all_plugs_are_read_in_one_request(cloud: FakeTuyaCloud) -> None:
    actions = TuyaActions(config(cloud, user_id=cloud.uid), [])
    try:
        cloud.set_online(PUMP, False)
        states = {s.plug: (s.on, s.outcome) for s in await actions.states()}
    finally:
        await actions.close()
    assert states == {"heater": (True, "ok"), "pump": (None, "offline")}
    assert cloud.requests == [("GET", "/v1.0/token"), ("GET", f"/v1.0/users/{cloud.uid}/devices")]


async def test_an_unreachable_cloud_is_an_error_result(cloud: FakeTuyaCloud) -> None:
    actions = TuyaActions(config(cloud, base_url=f"http://127.0.0.1:{closed_port()}"), [])
    try:
        result = await actions.switch("heater", False)
        states = await actions.states()
    finally:
        await actions.close()
    assert result.outcome == "error"
    assert "Tuya cloud unreachable" in result.detail
    assert {s.outcome for s in states} == {"error"}


async def test_the_fake_cloud_refuses_what_the_real_one_refuses(cloud: FakeTuyaCloud) -> None:
    async def token_request(client_id: str, t: int, extra: dict[str, str] | None = None) -> Any:
        target = "/v1.0/token?grant_type=1"
        headers = {"client_id": client_id, "t": str(t), "sign_method": "HMAC-SHA256"} | (
            extra or {}
        )
        signed = "".join(
            f"{k}:{headers[k]}\n" for k in headers.get("Signature-Headers", "").split(":") if k
        )
        to_sign = f"GET\n{hashlib.sha256(b'').hexdigest()}\n{signed}\n{target}"
        headers["sign"] = sign(SECRET, client_id, "", str(t), to_sign)
        async with (
            aiohttp.ClientSession() as session,
            session.get(cloud.url + target, headers=headers) as response,
        ):
            return (await response.json()).get("code")

    now = int(time.time() * 1000)
    assert await token_request("someone-else", now) == 1005
    assert await token_request(ACCESS_ID, now - 3_600_000) == 1013  # an hour-old request
    # Signed headers (tinytuya signs Content-type this way) are part of the string to sign.
    extra = {"Content-type": "application/json", "Signature-Headers": "Content-type"}
    assert await token_request(ACCESS_ID, now, extra) is None  # accepted
    assert cloud.token_requests == 1
