"""`gridwatch fleet add-site` and the central side's deployment files, read as files: what an
operator copies must point at things that exist and keep the tokens to themselves."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from gridwatch.cli import main
from gridwatch.dashboards.model import PROMETHEUS_UID

ROOT = Path(__file__).resolve().parents[2]
FLEET = ROOT / "deploy" / "fleet"
MINIMUM = (1, 79, 5)  # docs/fleet.md: the VictoriaMetrics version the tests run (Debian 12)


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((FLEET / "compose.yml").read_text(encoding="utf-8"))
    return data


def test_add_site_writes_private_tokens_and_a_vmauth_user_per_site(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "fleet"
    for name in ("kyiv", "dacha"):
        assert (
            main(
                ["fleet", "add-site", name, "--dir", str(folder), "--central", "https://c.example"]
            )
            == 0
        )
    out = capsys.readouterr().out
    tokens = {p.stem: p.read_text() for p in (folder / "sites").glob("*.token")}
    assert set(tokens) == {"kyiv", "dacha"}
    for path in [*(folder / "sites").glob("*.token"), folder / "read.token", folder / "vmauth.yml"]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert not any(token in out for token in tokens.values()), "a token was printed"
    users = yaml.safe_load((folder / "vmauth.yml").read_text())["users"]
    writers = {
        u["bearer_token"]: u["url_map"][0]["url_prefix"]
        for u in users
        if u["url_map"][0]["src_paths"] == ["/api/v1/write"]
    }
    assert writers == {tokens[n]: f"http://127.0.0.1:8428?extra_label=site={n}" for n in tokens}
    # The printed Prometheus snippet is YAML a site pastes: remote_write to the centre.
    snippet = out.split("a) add to prometheus.yml (Prometheus ≥ 2.26):\n")[-1].split("\nb)")[0]
    block = yaml.safe_load("\n".join(line[4:] for line in snippet.splitlines()))
    assert block["remote_write"][0]["url"] == "https://c.example/api/v1/write"
    assert block["global"]["external_labels"] == {"site": "dacha"}


def test_add_site_refuses_a_second_token_and_a_bad_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "fleet"
    assert main(["fleet", "add-site", "kyiv", "--dir", str(folder)]) == 0
    first = (folder / "sites" / "kyiv.token").read_text()
    assert main(["fleet", "add-site", "kyiv", "--dir", str(folder)]) == 2
    assert (folder / "sites" / "kyiv.token").read_text() == first
    assert main(["fleet", "add-site", "kyiv", "--dir", str(folder), "--rotate"]) == 0
    assert (folder / "sites" / "kyiv.token").read_text() != first
    for bad in ("Kyiv", "a b", "x&extra_label=site=y", ""):
        assert main(["fleet", "add-site", bad, "--dir", str(folder)]) == 2
    assert "exists" in capsys.readouterr().err


def test_compose_mounts_exist_and_images_are_at_least_the_tested_version() -> None:
    for name, service in _compose()["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith(".") and "/secrets/" not in source:
                assert (FLEET / source).resolve().exists(), (name, source)
        image = service["image"]
        if image.startswith("victoriametrics/"):
            version = tuple(int(p) for p in image.split(":v")[1].split("."))
            assert version >= MINIMUM, image
    rules = next(v for v in _compose()["services"]["vmalert"]["volumes"] if "fleet-rules" in v)
    assert (FLEET / rules.split(":")[0]).resolve() == ROOT / "prometheus" / "fleet-rules"


def test_central_grafana_uses_the_dashboards_datasource_uid_with_the_read_token() -> None:
    data = yaml.safe_load((FLEET / "grafana" / "datasources.yml").read_text(encoding="utf-8"))
    (source,) = data["datasources"]
    assert source["uid"] == PROMETHEUS_UID
    assert source["url"].startswith("http://vmauth:")
    assert source["secureJsonData"]["httpHeaderValue1"].startswith("Bearer $__file{")
