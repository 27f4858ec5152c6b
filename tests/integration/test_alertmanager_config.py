"""alertmanager/alertmanager.yml: valid for amtool, routes every alert where docs/alerts.md says,
and a real Alertmanager with it inhibits and delivers (bearer token from the file, resolved too).

Without amtool / prometheus-alertmanager the tests skip, except under CI=true where a missing
binary is a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web

from gridwatch.sim.polling import wait_until
from gridwatch.sim.service import RouteServer
from tests.helpers import required_binary

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "alertmanager" / "alertmanager.yml"
ALERT_RULES = ROOT / "prometheus" / "rules" / "alerts.yml"


def _binary(name: str) -> str:
    return required_binary(name, "prometheus-alertmanager")


def amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_binary("amtool"), *args], capture_output=True, text=True, timeout=60, check=False
    )


def route(labels: dict[str, str]) -> subprocess.CompletedProcess[str]:
    pairs = [f"{k}={v}" for k, v in labels.items()]
    return amtool("config", "routes", "test", f"--config.file={CONFIG}", *pairs)


def test_config_is_valid() -> None:
    result = amtool("check-config", str(CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def _alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(ALERT_RULES.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def _expected_receiver(labels: dict[str, str]) -> str:
    """The routing docs/alerts.md describes."""
    if labels["alertname"] == "GridDown":
        return "gridwatch-grid"
    if labels["alertname"] in {"OutageSoon", "OutageScheduleChanged"}:
        return "gridwatch-outages"
    return {"critical": "gridwatch-critical", "info": "gridwatch-info"}.get(
        labels.get("severity", ""), "gridwatch"
    )


RULES = _alert_rules()


@pytest.mark.parametrize(
    "rule", RULES, ids=[f"{r['alert']}-{r['labels'].get('severity')}" for r in RULES]
)
def test_every_alert_rule_reaches_its_route(rule: dict[str, Any]) -> None:
    labels = {"alertname": rule["alert"], **rule["labels"]}
    assert labels.get("severity") in {"critical", "warning", "info"}, labels
    result = route(labels)
    expected = _expected_receiver(labels)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == [expected], (labels, result.stdout)


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        # The grid route is chosen by alert name, whatever else is on the alert.
        ({"alertname": "GridDown", "severity": "warning"}, "gridwatch-grid"),
        ({"alertname": "OutageSoon", "lead": "15m", "queue": "5.2"}, "gridwatch-outages"),
        # A user's own alerts: critical ones are fast, unlabelled ones calm.
        ({"alertname": "FreezerWarm", "severity": "critical"}, "gridwatch-critical"),
        ({"alertname": "FreezerWarm"}, "gridwatch"),
    ],
)
def test_other_alerts_route_by_name_then_severity(labels: dict[str, str], receiver: str) -> None:
    result = route(labels)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == [receiver], (labels, result.stdout)


def test_every_receiver_sends_resolved_with_the_token_file() -> None:
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    for receiver in config["receivers"]:
        (hook,) = receiver["webhook_configs"]
        assert hook["send_resolved"] is True, receiver["name"]
        assert hook["url"].endswith("/alertmanager"), receiver["name"]
        auth = hook["http_config"]["authorization"]
        assert auth == {"type": "Bearer", "credentials_file": auth["credentials_file"]}


# --- a real Alertmanager with the shipped file ------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait(predicate: Callable[[], Awaitable[bool]], what: str, timeout: float = 60) -> None:
    """Poll until it holds; the limit only guards against a hang, it measures nothing."""
    await wait_until(predicate, what=what, timeout=timeout, every=0.1)


class Hook:
    """The webhook end: records what Alertmanager posts, answers 200."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.port = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.posts.append((dict(request.headers), await request.json()))
        return web.Response(text="ok")

    def find(self, receiver: str, status: str) -> tuple[dict[str, str], dict[str, Any]] | None:
        for headers, body in self.posts:
            if body["receiver"] == receiver and body["status"] == status:
                return headers, body
        return None


@pytest.fixture
async def hook() -> AsyncIterator[Hook]:
    recorder = Hook()
    async with RouteServer([web.post("/alertmanager", recorder.handle)]) as server:
        recorder.port = server.port
        yield recorder


@contextlib.asynccontextmanager
async def alertmanager(tmp_path: Path, hook_port: int, token: str) -> AsyncIterator[str]:
    """The shipped config with only the webhook address and token file changed."""
    binary = _binary("prometheus-alertmanager")
    (tmp_path / "token").write_text(token + "\n", encoding="utf-8")
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    for receiver in config["receivers"]:
        for hook_config in receiver["webhook_configs"]:
            hook_config["url"] = f"http://127.0.0.1:{hook_port}/alertmanager"
            hook_config["http_config"]["authorization"]["credentials_file"] = str(
                tmp_path / "token"
            )
    (tmp_path / "alertmanager.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    port = _free_port()
    log = (tmp_path / "alertmanager.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        binary,
        f"--config.file={tmp_path / 'alertmanager.yml'}",
        f"--storage.path={tmp_path / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",  # no gossip: a single local instance
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    async def ready() -> bool:
        if process.returncode is not None:
            raise AssertionError((tmp_path / "alertmanager.log").read_text())
        try:
            async with aiohttp.ClientSession() as s, s.get(f"{url}/-/ready") as r:
                return r.status == 200
        except aiohttp.ClientError:
            return False

    try:
        await _wait(ready, "Alertmanager to be ready")
        yield url
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), 20)
        log.close()


def _alert(labels: dict[str, str], *, ends: bool = False) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    alert: dict[str, Any] = {"labels": labels, "startsAt": now}
    if ends:
        alert["endsAt"] = now
    return alert


GRID_DOWN = {
    "alertname": "GridDown",
    "severity": "critical",
    "area": "grid",
    "action": "load_shedding",
    "instance": "gw:9864",
    "job": "gridwatch",
}


async def _post(url: str, alerts: list[dict[str, Any]]) -> None:
    async with aiohttp.ClientSession() as s, s.post(f"{url}/api/v2/alerts", json=alerts) as r:
        assert r.status == 200, await r.text()


async def _states(url: str) -> dict[str, dict[str, Any]]:
    async with aiohttp.ClientSession() as s, s.get(f"{url}/api/v2/alerts") as r:
        alerts = await r.json()
    return {
        "/".join(a["labels"][k] for k in ("alertname", "instance", "source") if k in a["labels"]): a
        for a in alerts
    }


async def test_grid_down_is_delivered_at_once_and_mutes_its_noise(
    tmp_path: Path, hook: Hook
) -> None:
    async with alertmanager(tmp_path, hook.port, "s3cr3t-token") as url:
        await _post(
            url,
            [
                _alert(GRID_DOWN),
                _alert(dict(alertname="BatteryDischarging", severity="info", instance="gw:9864")),
                _alert(
                    dict(
                        alertname="SourceDown",
                        severity="warning",
                        source="homewizard",
                        device="home",
                        instance="gw:9864",
                    )
                ),
                _alert(
                    dict(
                        alertname="SourceDown",
                        severity="warning",
                        source="inverter",
                        device="inv1",
                        instance="gw:9864",
                    )
                ),
                # Another site's battery is not muted by this site's grid.
                _alert(
                    dict(alertname="BatteryDischarging", severity="info", instance="cabin:9864")
                ),
            ],
        )

        async def grid_delivered() -> bool:
            return hook.find("gridwatch-grid", "firing") is not None

        await _wait(grid_delivered, "the GridDown notification")
        found = hook.find("gridwatch-grid", "firing")
        assert found is not None
        headers, body = found
        assert headers["Authorization"] == "Bearer s3cr3t-token"
        assert [a["labels"] for a in body["alerts"]] == [GRID_DOWN]
        assert body["version"] == "4"

        states = await _states(url)
        grid = states["GridDown/gw:9864"]
        assert grid["status"]["state"] == "active"
        for muted in ("BatteryDischarging/gw:9864", "SourceDown/gw:9864/homewizard"):
            assert states[muted]["status"]["state"] == "suppressed", muted
            assert states[muted]["status"]["inhibitedBy"] == [grid["fingerprint"]], muted
        for loud in ("SourceDown/gw:9864/inverter", "BatteryDischarging/cabin:9864"):
            assert states[loud]["status"]["state"] == "active", loud

        # Grid back: the resolved notification (send_resolved) comes by the same route.
        await _post(url, [_alert(GRID_DOWN, ends=True)])

        async def restored() -> bool:
            return hook.find("gridwatch-grid", "resolved") is not None

        await _wait(restored, "the resolved GridDown notification")
        found = hook.find("gridwatch-grid", "resolved")
        assert found is not None
        assert found[0]["Authorization"] == "Bearer s3cr3t-token"
        assert [a["status"] for a in found[1]["alerts"]] == ["resolved"]


async def test_exporter_down_mutes_source_down(tmp_path: Path, hook: Hook) -> None:
    async with alertmanager(tmp_path, hook.port, "t") as url:
        await _post(
            url,
            [
                _alert(dict(alertname="ExporterDown", severity="critical", instance="gw:9864")),
                _alert(
                    dict(
                        alertname="SourceDown", source="bms", severity="warning", instance="gw:9864"
                    )
                ),
                _alert(
                    dict(
                        alertname="SourceDown", source="bms", severity="warning", instance="b:9864"
                    )
                ),
            ],
        )
        states = await _states(url)
        assert states["SourceDown/gw:9864/bms"]["status"]["state"] == "suppressed"
        assert states["SourceDown/b:9864/bms"]["status"]["state"] == "active"
