"""Config and start-up faults as a user meets them (issue 15, fault 7 and fault 2): each is one
line naming the key or the cause, exit 2, no traceback — whatever the file contains."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.test_cli import free_port

pytestmark = pytest.mark.integration

# A guard against a hang (the bomb used to take > 30 s), not a timing assertion.
GUARD_SECONDS = 60


def run_gridwatch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gridwatch", *args],
        capture_output=True,
        text=True,
        timeout=GUARD_SECONDS,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        check=False,
    )


def one_clear_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert all(word in result.stderr for word in words), result.stderr


BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("meters:\n  - {name: a, host: h, interval: .nan}\n", ["meters[0].interval", "finite"]),
        ("meters:\n  - {name: a, host: h, interval: .inf}\n", ["meters[0].interval", "finite"]),
        ("meters:\n  - {name: a, host: h, fuse_amperes: .nan}\n", ["meters[0].fuse_amperes"]),
        ("site: {name: a}\nsite: {name: b}\n", ["site: given twice (lines 1 and 2)"]),
        ("site:\n  name: a\n  name: b\n", ["site.name: given twice (lines 2 and 3)"]),
        (
            "meters:\n  - {name: a, host: h}\n  - {name: a, host: i}\n",
            ["meters[1].name: 'a' is already the name of meters[0]"],
        ),
        (
            "inverters:\n  - {name: inv, transport: tcp, host: h}\n"
            "  - {name: inv, transport: tcp, host: i}\n",
            ["inverters[1].name: 'inv' is already the name of inverters[0]"],
        ),
        ("receiver: {port: 9865}\n", ["receiver.token_file", "bearer token"]),
        ("site: " + "[" * 5000 + "]" * 5000 + "\n", ["nested more than 64 levels"]),
        ("site: " + "[" * 100 + "]" * 100 + "\n", ["nested more than 64 levels"]),
        (BOMB, ["expands to more than 100000 values"]),
    ],
    ids=[
        "nan-duration",
        "inf-duration",
        "nan-number",
        "duplicate-section",
        "duplicate-key",
        "duplicate-meter",
        "duplicate-inverter",
        "receiver-without-token",
        "very-deep",
        "deep",
        "billion-laughs",
    ],
)
def test_check_config_names_the_key_in_one_line(
    tmp_path: Path, text: str, words: list[str]
) -> None:
    config = tmp_path / "gridwatch.yml"
    config.write_text(text, encoding="utf-8")
    one_clear_line(run_gridwatch("check-config", str(config)), str(config), *words)


def test_a_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "gridwatch.yml"
    config.write_bytes(b"site: {name: hem}\n" + b"# caf\xe9 in Latin-1\n")
    one_clear_line(run_gridwatch("check-config", str(config)), "not UTF-8", "offset 23")


def _write(tmp_path: Path, body: str) -> Path:
    config = tmp_path / "gridwatch.yml"
    config.write_text(f"site: {{data_dir: {tmp_path / 'data'}}}\n{body}", encoding="utf-8")
    return config


@pytest.mark.parametrize("command", ["run", "receiver"])
def test_a_port_in_use_is_one_line_naming_the_port(tmp_path: Path, command: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        section = "exporter" if command == "run" else "receiver"
        config = _write(
            tmp_path, f"{section}: {{listen_address: 127.0.0.1, port: {port}, token: t}}\n"
        )
        if command == "run":
            config.write_text(config.read_text().replace(", token: t", ""), encoding="utf-8")
        result = run_gridwatch(command, "-c", str(config))
    one_clear_line(result, f"{section}.port", "already in use")


@pytest.mark.parametrize("command", ["run", "receiver"])
def test_an_unresolvable_listen_address_is_one_line(tmp_path: Path, command: str) -> None:
    section = "exporter" if command == "run" else "receiver"
    token = ", token: t" if command == "receiver" else ""
    config = _write(
        tmp_path,
        f"{section}: {{listen_address: no-such-host.invalid, port: {free_port()}{token}}}\n",
    )
    one_clear_line(run_gridwatch(command, "-c", str(config)), f"{section}.listen_address")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
@pytest.mark.parametrize("command", ["run", "receiver"])
def test_an_unwritable_data_dir_is_one_line(tmp_path: Path, command: str) -> None:
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        config = tmp_path / "gridwatch.yml"
        config.write_text(
            f"site: {{data_dir: {locked / 'data'}}}\n"
            f"exporter: {{port: {free_port()}}}\nreceiver: {{port: 0, token: t}}\n",
            encoding="utf-8",
        )
        one_clear_line(run_gridwatch(command, "-c", str(config)), "site.data_dir")
    finally:
        locked.chmod(stat.S_IRWXU)


@pytest.mark.parametrize("command", ["run", "receiver"])
def test_a_data_dir_that_cannot_be_made_is_one_line(tmp_path: Path, command: str) -> None:
    """Even root cannot make a directory below a file: the same one line."""
    (tmp_path / "file").write_text("")
    config = tmp_path / "gridwatch.yml"
    config.write_text(
        f"site: {{data_dir: {tmp_path / 'file' / 'data'}}}\n"
        f"exporter: {{listen_address: 127.0.0.1, port: {free_port()}}}\n"
        "receiver: {listen_address: 127.0.0.1, port: 0, token: t}\n"
        # prices keep a cache in the state file (a config without such a source makes none)
        "prices: {area: SE3, providers: [elprisetjustnu],\n"
        "         elprisetjustnu_url: 'http://127.0.0.1:9'}\n",
        encoding="utf-8",
    )
    one_clear_line(run_gridwatch(command, "-c", str(config)), "site.data_dir")
