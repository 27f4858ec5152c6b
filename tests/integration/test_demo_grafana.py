"""`gridwatch demo` starts Grafana when a grafana-server binary is on PATH. There is no Grafana
package on Debian (it comes from Grafana's own repository), so this checks our side of it with a
stand-in binary: the provisioning it is given points the fixed-uid datasources at this machine's
Prometheus and Alertmanager and the dashboards at grafana/dashboards, anonymous access stays off,
and the admin password is made up for the run."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest
import yaml

from gridwatch import binaries

pytestmark = pytest.mark.integration

# Writes what it was given, then serves /api/health like Grafana until terminated.
STAND_IN = """#!{python}
import json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
seen = {{"argv": sys.argv, "env": {{k: v for k, v in os.environ.items() if k.startswith("GF_")}}}}
with open(os.path.join(os.getcwd(), "seen.json"), "w") as f:
    json.dump(seen, f)
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/api/health" else 404)
        self.end_headers()
        self.wfile.write(b'{{"database":"ok"}}')
    def log_message(self, *args):
        pass
address = (os.environ["GF_SERVER_HTTP_ADDR"], int(os.environ["GF_SERVER_HTTP_PORT"]))
HTTPServer(address, H).serve_forever()
"""


@pytest.fixture
def grafana_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "grafana-server"
    script.write_text(STAND_IN.format(python=sys.executable), encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return script


async def test_grafana_gets_the_project_provisioning_pointed_at_this_machine(
    grafana_on_path: Path, tmp_path: Path
) -> None:
    assert binaries.grafana_binary() == str(grafana_on_path)
    workdir = tmp_path / "grafana"
    grafana, password = binaries.start_grafana(
        prometheus_url="http://127.0.0.1:19090",
        alertmanager_url="http://127.0.0.1:19093",
        workdir=workdir,
    )
    try:
        await grafana.wait_ready()
        seen = json.loads((workdir / "seen.json").read_text(encoding="utf-8"))
    finally:
        grafana.stop()
    check(seen, password)


def check(seen: dict[str, dict[str, str]], password: str) -> None:
    env = seen["env"]
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert env["GF_SECURITY_ADMIN_PASSWORD"] == password and len(password) >= 12
    assert env["GF_SERVER_HTTP_ADDR"] == "127.0.0.1"

    provisioning = Path(env["GF_PATHS_PROVISIONING"])
    (sources_file,) = (provisioning / "datasources").glob("*.yml")
    sources = {d["uid"]: d for d in yaml.safe_load(sources_file.read_text())["datasources"]}
    assert sources["gridwatch-prometheus"]["url"] == "http://127.0.0.1:19090"
    assert sources["gridwatch-alertmanager"]["url"] == "http://127.0.0.1:19093"
    (provider_file,) = (provisioning / "dashboards").glob("*.yml")
    (provider,) = yaml.safe_load(provider_file.read_text())["providers"]
    dashboards = Path(provider["options"]["path"])
    assert provider["folder"] == "gridwatch"
    assert {p.name for p in dashboards.glob("*.json")} >= {"home.json", "grid.json"}
    assert Path(env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]) == dashboards / "home.json"
