"""The HomeWizard P1 simulator, spoken to over loopback with plain aiohttp and ssl."""

from __future__ import annotations

import asyncio
import json
import re
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gridwatch.sim.homewizard.certs import generate_ca
from gridwatch.sim.homewizard.simulator import HomeWizardSimulator, SimulatorOptions
from gridwatch.sim.polling import wait_until

pytestmark = pytest.mark.integration

TOKEN_RE = re.compile(r"[A-F0-9]{32}")
V1_TIMESTAMP_RE = re.compile(r"\d{12}")

# REAL /api/v1/data capture (evcc-io/evcc meter/homewizard/types_test.go), with one explicit null.
V1_FIXTURE = {
    "wifi_ssid": "redacted",
    "wifi_strength": 78,
    "smr_version": 50,
    "meter_model": "Landis + Gyr",
    "active_tariff": 2,
    "total_power_import_kwh": 18664.997,
    "total_power_import_t1_kwh": 10909.724,
    "total_power_import_t2_kwh": 7755.273,
    "active_power_w": 203.000,
    "active_power_l1_w": -21.000,
    "active_current_l1_a": -0.092,
    "active_voltage_l1_v": 228.000,
    "montly_power_peak_w": 1111.0,
    "montly_power_peak_timestamp": 230101080010,
    "total_gas_m3": 5175.363,
    "gas_timestamp": 241106093006,
    "gas_unique_id": "redacted",
    "active_power_l2_w": None,
    "external": [
        {
            "unique_id": "redacted",
            "type": "gas_meter",
            "timestamp": 241106093006,
            "value": 5175.363,
            "unit": "m3",
        }
    ],
}
# python-homewizard-energy tests/v2/fixtures/HWE-P1 (documentation-derived), trimmed.
V2_FIXTURE = {
    "protocol_version": 50,
    "meter_model": "ISKRA  2M550T-101",
    "unique_id": "4E6576657220476F6E6E61204C657420596F7520446F776E",
    "timestamp": "2024-06-28T14:12:34",
    "tariff": 2,
    "energy_import_kwh": 13779.338,
    "power_w": -543,
    "power_l1_w": -676,
    "current_l1_a": -4,
    "monthly_power_peak_w": 1111.000,
    "monthly_power_peak_timestamp": "2024-06-04T10:11:22",
    "external": [
        {
            "unique_id": "4E6576657220676F6E6E612072756E2061726F756E64",
            "type": "gas_meter",
            "timestamp": "2024-06-28T14:00:00",
            "value": 2569.646,
            "unit": "m3",
        }
    ],
}


def client_context(ca_file: Path) -> ssl.SSLContext:
    """The documented HomeWizard recipe: trust the CA, check the identifier against the CN."""
    context = ssl.create_default_context(cafile=str(ca_file))
    context.hostname_checks_common_name = True
    return context


async def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    await wait_until(predicate, timeout=timeout, every=0.02)


def crc16_arc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


@pytest.fixture
async def sim() -> AsyncIterator[HomeWizardSimulator]:
    async with HomeWizardSimulator(SimulatorOptions(push_interval=0.2, seed=11)) as simulator:
        yield simulator


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


class V2:
    """Small helper for authenticated HTTPS requests against the simulator."""

    def __init__(self, sim: HomeWizardSimulator, session: aiohttp.ClientSession) -> None:
        self.sim, self.session, self.ssl = sim, session, client_context(sim.ca_file)

    async def request(
        self, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> tuple[int, Any, aiohttp.ClientResponse]:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        async with self.session.request(
            method,
            self.sim.https_url + path,
            ssl=self.ssl,
            server_hostname=self.sim.identifier,
            headers=headers,
            **kwargs,
        ) as response:
            text = await response.text()
            try:
                body = json.loads(text)
            except ValueError:  # telegrams, and the deliberately broken payloads
                body = text
            return response.status, body, response


# -- API v1 ---------------------------------------------------------------------------------------


async def test_v1_device_data_and_telegram(
    sim: HomeWizardSimulator, session: aiohttp.ClientSession
) -> None:
    async with session.get(sim.http_url + "/api") as response:
        assert await response.json() == {
            "product_type": "HWE-P1",
            "product_name": "P1 Meter",
            "serial": "5c2fafaabbcc",
            "firmware_version": "6.00",
            "api_version": "v1",
        }
    async with session.get(sim.http_url + "/api/v1/data") as response:
        assert response.status == 200
        data = await response.json()
    for key in ("wifi_ssid", "wifi_strength", "smr_version", "active_tariff", "active_power_w"):
        assert key in data
    assert "timestamp" not in data and "power_w" not in data
    assert V1_TIMESTAMP_RE.fullmatch(str(data["montly_power_peak_timestamp"]))
    assert None not in data.values()
    async with session.get(sim.http_url + "/api/v1/telegram") as response:
        assert response.content_type == "text/plain"
        telegram = await response.text()
    assert telegram.startswith("/") and "\r\n1-3:0.2.8(50)\r\n" in telegram
    body, crc = telegram.rsplit("!", 1)
    assert int(crc.strip(), 16) == crc16_arc((body + "!").encode())


async def test_v1_disabled_answers_403(session: aiohttp.ClientSession) -> None:
    async with (
        HomeWizardSimulator(SimulatorOptions(v1_enabled=False)) as sim,
        session.get(sim.http_url + "/api/v1/data") as response,
    ):
        assert response.status == 403
        assert await response.json() == {"error": {"id": 202, "description": "API not enabled"}}


async def test_python_homewizard_energy_v1_parses_our_payload(sim: HomeWizardSimulator) -> None:
    from homewizard_energy import HomeWizardEnergyV1

    async with HomeWizardEnergyV1(f"{sim.host}:{sim.http_port}") as api:
        measurement = await api.measurement()
    assert measurement.power_w == sim.measurement_v1()["active_power_w"]
    assert measurement.monthly_power_peak_timestamp is not None


# -- API v2 ---------------------------------------------------------------------------------------


async def test_v2_needs_a_token(sim: HomeWizardSimulator, session: aiohttp.ClientSession) -> None:
    v2 = V2(sim, session)
    status, body, response = await v2.request("GET", "/api/measurement")
    assert (status, body) == (401, {"error": "user:unauthorized"})
    assert response.headers["X-Api-Version"] == "2.0.0"
    status, body, response = await v2.request("GET", "/api/measurement", sim.token)
    assert status == 200 and response.headers["X-Api-Version"] == "2.0.0"
    assert set(body) >= {"timestamp", "power_w", "energy_import_t1_kwh", "monthly_power_peak_w"}
    status, body, _ = await v2.request("GET", "/api", sim.token, headers={"X-Api-Version": "2"})
    assert status == 200 and body["api_version"] == "2.0.0"
    status, body, _ = await v2.request("GET", "/api", sim.token, headers={"X-Api-Version": "1"})
    assert (status, body) == (400, {"error": "request:api-version-not-supported"})
    status, body, _ = await v2.request("GET", "/api/system", sim.token)
    assert status == 200
    assert set(body) == {
        "wifi_ssid",
        "wifi_rssi_db",
        "cloud_enabled",
        "uptime_s",
        "status_led_brightness_pct",
        "api_v1_enabled",
    }


async def test_pairing_with_the_button(
    sim: HomeWizardSimulator, session: aiohttp.ClientSession
) -> None:
    v2 = V2(sim, session)
    create: dict[str, Any] = {"json": {"name": "local/gridwatch"}}
    status, body, _ = await v2.request("POST", "/api/user", **create)
    assert (status, body) == (403, {"error": "user:creation-not-enabled"})

    sim.press_button()
    status, body, _ = await v2.request("POST", "/api/user", **create)
    assert status == 200 and body["name"] == "local/gridwatch"
    first = body["token"]
    assert TOKEN_RE.fullmatch(first)
    assert (await v2.request("GET", "/api/measurement", first))[0] == 200

    # The button can also be pressed over HTTP, as a human running the demo would.
    async with session.post(sim.http_url + "/sim/button") as response:
        assert response.status == 200
    status, body, _ = await v2.request("POST", "/api/user", **create)
    second = body["token"]
    assert status == 200 and second != first
    assert (await v2.request("GET", "/api/measurement", first))[0] == 401
    assert (await v2.request("GET", "/api/measurement", second))[0] == 200
    assert (await v2.request("GET", "/api/measurement", sim.token))[0] == 200


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ("{not json", "request:invalid-json"),
        ('{"name": "gridwatch"}', "user:invalid-prefix"),
        ('{"name": "local/grid;watch"}', "user:name-invalid"),
        ('{"name": "local/"}', "user:name-empty"),
        ('{"name": "local/' + "x" * 41 + '"}', "user:name-too-long"),
    ],
)
async def test_pairing_rejects_bad_requests(
    sim: HomeWizardSimulator, session: aiohttp.ClientSession, payload: str, error: str
) -> None:
    sim.press_button()
    headers = {"Content-Type": "application/json"}
    status, body, _ = await V2(sim, session).request(
        "POST", "/api/user", data=payload, headers=headers
    )
    assert (status, body) == (400, {"error": error})


async def test_tls_fails_against_another_ca(
    sim: HomeWizardSimulator, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    other = client_context(generate_ca("someone else").write(tmp_path / "other.pem"))
    with pytest.raises(aiohttp.ClientConnectorCertificateError):
        await session.get(sim.https_url + "/api", ssl=other, server_hostname=sim.identifier)
    # Right CA, wrong device identity: the CN check must fail too.
    right_ca = client_context(sim.ca_file)
    with pytest.raises(aiohttp.ClientConnectorCertificateError):
        await session.get(
            sim.https_url + "/api", ssl=right_ca, server_hostname="appliance/p1dongle/000000000000"
        )


# -- WebSocket ------------------------------------------------------------------------------------


async def connect_ws(
    sim: HomeWizardSimulator, session: aiohttp.ClientSession
) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(
        sim.https_url + "/api/ws", ssl=client_context(sim.ca_file), server_hostname=sim.identifier
    )
    hello = await ws.receive_json(timeout=5)
    assert hello == {"type": "authorization_requested", "data": {"api_version": "2.0.0"}}
    return ws


async def test_websocket_auth_subscribe_and_push(
    sim: HomeWizardSimulator, session: aiohttp.ClientSession
) -> None:
    ws = await connect_ws(sim, session)
    await ws.send_json({"type": "authorization", "data": sim.token})
    assert await ws.receive_json(timeout=5) == {"type": "authorized"}
    await ws.send_json({"type": "subscribe", "data": "measurement"})
    stamps = []
    for _ in range(4):  # the latest value at once, then one per push tick
        message = await ws.receive_json(timeout=5)
        assert message["type"] == "measurement"
        stamps.append(message["data"]["timestamp"])
    assert sim.measurements_pushed >= 4
    await ws.send_json({"type": "subscribe", "data": "batteries"})
    while (message := await ws.receive_json(timeout=5))["type"] == "measurement":
        pass
    assert message == {"type": "error", "data": {"message": "request:unknown-subscription"}}
    await ws.close()


async def test_websocket_rejects_a_bad_token(
    sim: HomeWizardSimulator, session: aiohttp.ClientSession
) -> None:
    ws = await connect_ws(sim, session)
    await ws.send_json({"type": "authorization", "data": "0" * 32})
    assert await ws.receive_json(timeout=5) == {
        "type": "error",
        "data": {"message": "user:unauthorized"},
    }
    message = await ws.receive(timeout=5)
    assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_stop_closes_websockets_and_start_reuses_the_ports(
    sim: HomeWizardSimulator, session: aiohttp.ClientSession
) -> None:
    ports = (sim.http_port, sim.https_port)
    ws = await connect_ws(sim, session)
    await ws.send_json({"type": "authorization", "data": sim.token})
    await ws.receive_json(timeout=5)
    await ws.send_json({"type": "subscribe", "data": "*"})
    await ws.receive_json(timeout=5)

    await sim.stop()
    async with asyncio.timeout(5):
        while (message := await ws.receive()).type is aiohttp.WSMsgType.TEXT:
            pass  # pushes already in flight
    assert (message.type, message.data) == (aiohttp.WSMsgType.CLOSE, 1001)  # going away
    assert ws.closed
    with pytest.raises(aiohttp.ClientConnectionError):
        await session.get(sim.http_url + "/api")

    await sim.start()
    assert (sim.http_port, sim.https_port) == ports
    status, _, _ = await V2(sim, session).request("GET", "/api/measurement", sim.token)
    assert status == 200
    ws = await connect_ws(sim, session)
    await ws.close()


# -- faults and fixtures --------------------------------------------------------------------------


async def test_broken_modes(sim: HomeWizardSimulator, session: aiohttp.ClientSession) -> None:
    v2 = V2(sim, session)
    ws = await connect_ws(sim, session)
    await ws.send_json({"type": "authorization", "data": sim.token})
    await ws.receive_json(timeout=5)
    await ws.send_json({"type": "subscribe", "data": "measurement"})
    await ws.receive_json(timeout=5)

    sim.set_broken("garbage")
    async with session.get(sim.http_url + "/api/v1/data") as response:
        assert response.status == 200
        with pytest.raises(ValueError):
            json.loads(await response.text())
    status, body, _ = await v2.request("GET", "/api/measurement", sim.token)
    assert status == 200
    with pytest.raises(ValueError):
        json.loads(body)
    while True:  # a measurement queued before the switch may still be in flight
        text = await ws.receive_str(timeout=5)
        try:
            json.loads(text)
        except ValueError:
            break

    sim.set_broken("http500")
    assert (await v2.request("GET", "/api/measurement", sim.token))[0] == 500
    async with session.get(sim.http_url + "/api/v1/data") as response:
        assert response.status == 500

    sim.set_broken(None)
    assert (await v2.request("GET", "/api/measurement", sim.token))[0] == 200
    await ws.close()


async def test_v1_fixture_is_served_in_both_shapes(
    session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    fixture = tmp_path / "v1.json"
    fixture.write_text(json.dumps(V1_FIXTURE))
    options = SimulatorOptions(fixture=fixture, push_interval=0.2)
    async with HomeWizardSimulator(options) as sim:
        async with session.get(sim.http_url + "/api/v1/data") as response:
            v1 = await response.json()
        assert v1 == {k: v for k, v in V1_FIXTURE.items() if v is not None}
        status, v2, _ = await V2(sim, session).request("GET", "/api/measurement", sim.token)
        assert status == 200
        assert v2["power_w"] == 203 and v2["current_l1_a"] == -0.092
        assert v2["energy_import_t2_kwh"] == 7755.273 and v2["tariff"] == 2
        assert v2["monthly_power_peak_w"] == 1111
        assert v2["monthly_power_peak_timestamp"] == "2023-01-01T08:00:10"
        assert v2["external"][0]["timestamp"] == "2024-11-06T09:30:06"
        assert not {"wifi_ssid", "total_gas_m3", "gas_timestamp", "active_power_l2_w"} & set(v2)
        first = v2["timestamp"]
        await wait_for(lambda: sim.measurement_v2()["timestamp"] != first)
        assert sim.measurement_v2()["power_w"] == 203


async def test_v2_fixture_is_served_in_both_shapes(
    session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    fixture = tmp_path / "v2.json"
    fixture.write_text(json.dumps(V2_FIXTURE))
    async with HomeWizardSimulator(SimulatorOptions(fixture=fixture)) as sim:
        async with session.get(sim.http_url + "/api/v1/data") as response:
            v1 = await response.json()
        assert v1["active_power_w"] == -543 and v1["total_power_import_kwh"] == 13779.338
        assert v1["montly_power_peak_timestamp"] == 240604101122
        assert v1["total_gas_m3"] == 2569.646 and v1["gas_timestamp"] == 240628140000
        assert "timestamp" not in v1
        v2 = sim.measurement_v2()
        assert {k: v for k, v in v2.items() if k != "timestamp"} == {
            k: v for k, v in V2_FIXTURE.items() if k != "timestamp"
        }
        assert v2["timestamp"] != V2_FIXTURE["timestamp"]
