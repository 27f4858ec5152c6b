"""``receiver.tuya`` and ``receiver.actions``: what a user writes; mistakes named by key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gridwatch.config import ConfigError, parse_config
from gridwatch.receiver.tuya.config import (
    REGION_HOSTS,
    CloudPlug,
    LocalPlug,
    TuyaConfig,
    check_rules,
)

KEY = "Kq7pZ2mW9xR4vT6y"


def local(**extra: Any) -> dict[str, Any]:
    return {
        "name": "boiler",
        "backend": "local",
        "group": "heavy",
        "device_id": "bf0123456789abcdefgh",
        "address": "192.168.1.50",
        "local_key": KEY,
        **extra,
    }


def cloud_plug(**extra: Any) -> dict[str, Any]:
    return {
        "name": "heater",
        "backend": "cloud",
        "group": "heavy",
        "device_id": "bf99887766",
    } | extra


CLOUD = {"access_id": "abcdef123456", "access_secret": "s3cr3t-cloud-secret", "region": "eu"}


def receiver(tuya: dict[str, Any], actions: list[dict[str, Any]] | None = None) -> Any:
    config = parse_config({"receiver": {"tuya": tuya, "actions": actions or []}}, "site.yml")
    assert config.receiver is not None
    return config.receiver


def problems_of(
    tuya: dict[str, Any], actions: list[dict[str, Any]] | None = None
) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        receiver(tuya, actions)
    assert info.value.source == "site.yml"
    return dict(info.value.problems)


def test_a_ukrainian_setup_from_yaml(tmp_path: Path) -> None:
    (tmp_path / "tuya_secret").write_text("from-a-file-secret\n")
    (tmp_path / "fridge.key").write_text(KEY + "\n")
    text = f"""
receiver:
  tuya:
    stagger: 5s
    cloud: {{access_id: abcdef123456, access_secret_file: tuya_secret, region: eu}}
    plugs:
      - {{name: boiler, backend: local, group: heavy, device_id: bf0123456789abcdefgh,
         address: 192.168.1.50, local_key: "{KEY}", version: 3.4}}
      - {{name: fridge, backend: local, groups: [essential], device_id: bf11112222,
         address: fridge.lan, local_key_file: fridge.key, version: 3.5, switch_dp: 2}}
      - {{name: heater, backend: cloud, group: heavy, device_id: bf99887766}}
  actions:
    - match: {{alertname: GridDown}}
      groups: [heavy]
      firing: off
      resolved: restore
"""
    config = parse_config(yaml.safe_load(text), "site.yml", tmp_path).receiver
    assert config is not None and config.tuya is not None
    tuya = config.tuya
    boiler, fridge, heater = tuya.plugs
    assert isinstance(boiler, LocalPlug) and isinstance(fridge, LocalPlug)
    assert isinstance(heater, CloudPlug)
    assert (boiler.version, boiler.port, boiler.switch_dp) == ("3.4", 6668, 1)
    assert (fridge.version, fridge.switch_dp, fridge.resolved_key()) == ("3.5", 2, KEY)
    assert heater.switch_code == "switch_1"
    assert tuya.groups == {"heavy": ["boiler", "heater"], "essential": ["fridge"]}
    assert tuya.stagger == 5.0
    assert tuya.cloud is not None
    assert tuya.cloud.url == "https://openapi.tuyaeu.com"
    assert tuya.cloud.resolved_secret() == "from-a-file-secret"
    # YAML reads the unquoted off as False: it still means "switch off".
    (rule,) = config.actions
    assert (rule.firing, rule.resolved) == ("off", "restore")


def test_defaults_are_quick_enough_for_a_receiver() -> None:
    tuya = TuyaConfig.model_validate({"plugs": [local()]})
    # Long enough for a plug that takes seconds to answer (issue 15), bounded by the overall
    # timeout even when every connection attempt times out.
    assert tuya.connect_timeout == 5.0
    assert tuya.connect_retries <= 2
    assert tuya.connect_timeout * tuya.connect_retries + tuya.retry_delay < tuya.timeout
    assert tuya.retry_delay <= 1.0
    assert tuya.stagger == 3.0


def test_regions_map_to_hosts_and_base_url_overrides() -> None:
    us = TuyaConfig.model_validate({"plugs": [cloud_plug()], "cloud": CLOUD | {"region": "us"}})
    assert us.cloud is not None and us.cloud.url == "https://openapi.tuyaus.com"
    assert REGION_HOSTS["eu-w"] == "openapi-weaz.tuyaeu.com"
    test = TuyaConfig.model_validate(
        {"plugs": [cloud_plug()], "cloud": CLOUD | {"base_url": "http://127.0.0.1:8123/"}}
    )
    assert test.cloud is not None and test.cloud.url == "http://127.0.0.1:8123"


@pytest.mark.parametrize(
    ("plug", "path", "words"),
    [
        (local(address="0.0.0.0"), "receiver.tuya.plugs[0].local.address", "no broadcast"),
        (local(address="Auto"), "receiver.tuya.plugs[0].local.address", "no broadcast"),
        (local(address="255.255.255.255"), "receiver.tuya.plugs[0].local.address", "broadcast"),
        (local(local_key="short"), "receiver.tuya.plugs[0].local.local_key", "16 characters"),
        (local(version=3.6), "receiver.tuya.plugs[0].local.version", "3.5"),
        (local(version="3"), "receiver.tuya.plugs[0].local.version", "3.1"),
        (local(port=0), "receiver.tuya.plugs[0].local.port", "greater"),
        (local(switch_dp=0), "receiver.tuya.plugs[0].local.switch_dp", "greater"),
        (local(group="a", groups=["b"]), "receiver.tuya.plugs[0].local", "either group"),
        (local(adress="192.168.1.5"), "receiver.tuya.plugs[0].local.adress", "unknown key"),
        (local(name="my boiler"), "receiver.tuya.plugs[0].local.name", "pattern"),
        (local(backend="zigbee"), "receiver.tuya.plugs[0]", "local"),
    ],
)
def test_bad_plugs_name_the_key(plug: dict[str, Any], path: str, words: str) -> None:
    problems = problems_of({"plugs": [plug]})
    assert path in problems, problems
    assert words in problems[path].lower()


def test_one_key_exactly() -> None:
    no_key = local()
    del no_key["local_key"]
    assert (
        "exactly one of local_key"
        in problems_of({"plugs": [no_key]})["receiver.tuya.plugs[0].local"]
    )


def test_a_short_key_in_a_file_is_refused_without_showing_it(tmp_path: Path) -> None:
    (tmp_path / "k").write_text("tooshortsecret")
    plug = local(local_key=None, local_key_file=str(tmp_path / "k"))
    del plug["local_key"]
    message = problems_of({"plugs": [plug]})["receiver.tuya.plugs[0].local.local_key_file"]
    assert "16 characters" in message
    assert "tooshortsecret" not in message


def test_secrets_stay_out_of_reprs_and_errors() -> None:
    tuya = TuyaConfig.model_validate({"plugs": [local(), cloud_plug()], "cloud": CLOUD})
    assert KEY not in repr(tuya)
    assert CLOUD["access_secret"] not in repr(tuya)
    problems = problems_of({"plugs": [local(version="9.9")]})
    assert KEY not in str(problems)


def test_cloud_plugs_need_cloud_credentials() -> None:
    problems = problems_of({"plugs": [cloud_plug()]})
    assert "add receiver.tuya.cloud" in problems["receiver.tuya"]
    problems = problems_of({"plugs": [cloud_plug()], "cloud": {"access_id": "abc"}})
    assert "access_secret" in problems["receiver.tuya.cloud"]
    problems = problems_of(
        {"plugs": [cloud_plug()], "cloud": CLOUD | {"base_url": "127.0.0.1:8000/v1.0"}}
    )
    assert "http" in problems["receiver.tuya.cloud.base_url"]
    problems = problems_of({"plugs": [cloud_plug()], "cloud": CLOUD | {"region": "mars"}})
    assert "receiver.tuya.cloud.region" in problems


def test_plug_names_are_unique() -> None:
    problems = problems_of({"plugs": [local(), local()]})
    assert (
        "is already the name of receiver.tuya.plugs[0]" in problems["receiver.tuya.plugs[1].name"]
    )


@pytest.mark.parametrize(
    ("rule", "path", "words"),
    [
        ({"groups": ["heavy"]}, "receiver.actions[0]", "give match"),
        ({"match": {"alertname": "GridDown"}}, "receiver.actions[0]", "give groups"),
        (
            {"match_re": {"alertname": "Grid("}, "groups": ["heavy"]},
            "receiver.actions[0].match_re",
            "invalid regex",
        ),
        (
            {"match": {"alertname": "GridDown"}, "groups": ["heavy"], "firing": "toggle"},
            "receiver.actions[0].firing",
            "off",
        ),
        (
            {"match": {"alertname": "GridDown"}, "groups": ["heavy"], "firing": None},
            "receiver.actions[0]",
            "restore needs",
        ),
    ],
)
def test_bad_rules_name_the_key(rule: dict[str, Any], path: str, words: str) -> None:
    problems = problems_of({"plugs": [local()]}, [rule])
    assert path in problems, problems
    assert words in problems[path].lower()


def test_rules_may_only_name_configured_groups_and_plugs() -> None:
    tuya = TuyaConfig.model_validate({"plugs": [local()]})
    from gridwatch.receiver.tuya.config import ActionRule

    rules = [
        ActionRule(match={"alertname": "GridDown"}, groups=["heavvy"]),
        ActionRule(match={"alertname": "GridDown"}, plugs=["boiler", "kettle"]),
    ]
    assert check_rules(tuya, rules) == [
        ("actions[0].groups", "unknown group 'heavvy' (heavy)"),
        ("actions[1].plugs", "unknown plug 'kettle'"),
    ]
    assert check_rules(None, rules[:1]) == [("actions[0]", "actions need receiver.tuya with plugs")]


def test_check_config_refuses_a_rule_for_an_unknown_group() -> None:
    rule = {"match": {"alertname": "GridDown"}, "groups": ["haevy"]}
    problems = problems_of({"plugs": [local()]}, [rule])
    assert problems == {"receiver": "actions[0].groups: unknown group 'haevy' (heavy)"}
    with pytest.raises(ConfigError) as info:
        parse_config({"receiver": {"actions": [rule]}}, "site.yml")
    assert "actions need receiver.tuya" in str(info.value)
