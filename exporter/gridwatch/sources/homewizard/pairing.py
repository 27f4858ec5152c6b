"""Pairing with API v2: ask for a token until the user presses the meter's button."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path

import aiohttp

from gridwatch import __version__
from gridwatch.core.source import SourceError
from gridwatch.sources.homewizard.client import HomeWizardClient
from gridwatch.sources.homewizard.device_reading import KIND_OF_PRODUCT
from gridwatch.sources.homewizard.errors import error_code, translated_errors
from gridwatch.sources.homewizard.parse import PayloadError
from gridwatch.sources.homewizard.tls import client_context

NAME = re.compile(r"^[a-zA-Z0-9\-_/\\# ]{1,40}$")


class PairingError(Exception):
    pass


async def request_token(
    host: str,
    name: str,
    *,
    ca_file: Path | None = None,
    port: int = 443,
    wait: float = 120.0,
    retry_every: float = 2.0,
    on_waiting: Callable[[], None] = lambda: None,
) -> str:
    """POST /api/user until the device issues a token (after its button is pressed).

    The device answers 403 ``user:creation-not-enabled`` until the button is pressed, then
    issues a token within the next 30 s; retrying keeps that window open.
    """
    if not NAME.match(name):
        raise PairingError("name must be 1–40 letters, digits, spaces or - _ / \\ #")
    host_part = f"[{host}]" if ":" in host else host
    url = f"https://{host_part}:{port}/api/user"
    # The serial is not known yet, so the certificate chain is checked but not its name.
    context = client_context(ca_file, check_name=False)
    timeout = aiohttp.ClientTimeout(total=10)
    headers = {"X-Api-Version": "2", "User-Agent": f"gridwatch/{__version__}"}
    deadline = asyncio.get_running_loop().time() + wait
    told = False
    async with aiohttp.ClientSession(timeout=timeout, headers=headers) as session:
        while True:
            async with (
                translated_errors("pairing"),
                session.post(url, json={"name": f"local/{name}"}, ssl=context) as response,
            ):
                text = await response.text()
            error = error_code(text) or text[:100]
            if response.status == 200:
                token = _token(text)
                if token is None:
                    raise PairingError(f"the device answered 200 without a token: {text[:200]}")
                return token
            if response.status == 403 and error == "user:creation-not-enabled":
                if not told:
                    on_waiting()
                    told = True
            else:
                raise PairingError(f"the device refused pairing: HTTP {response.status} {error}")
            if asyncio.get_running_loop().time() + retry_every > deadline:
                raise PairingError(f"the button was not pressed within {wait:.0f} s")
            await asyncio.sleep(retry_every)


async def product_type(host: str, token: str, *, ca_file: Path | None, port: int) -> str | None:
    """The paired device's ``product_type`` from ``GET /api`` (None when it does not say)."""
    timeout = aiohttp.ClientTimeout(total=10)
    headers = {"User-Agent": f"gridwatch/{__version__}"}
    async with aiohttp.ClientSession(timeout=timeout, headers=headers) as session:
        # No serial yet: the chain is checked, the name is learned from this very answer.
        client = HomeWizardClient(
            session, host, api="v2", token=token, ca_file=ca_file, https_port=port, device_type=None
        )
        try:
            return (await client.device_info()).product_type
        except (SourceError, PayloadError):
            return None


def config_hint(product: str | None, host: str, token_file: Path) -> list[str]:
    """Where the paired device goes in the config, by its product type."""
    where = f"    host: {host}\n    token_file: {token_file}"
    if product == "HWE-P1":
        return ["Add to your config under meters:", f"  - name: home\n{where}"]
    if product in KIND_OF_PRODUCT:
        name = KIND_OF_PRODUCT[product].removesuffix("_meter")
        return [
            f"This is a {product}. Add to your config under homewizard_devices:",
            f"  - name: {name}\n{where}\n    product_type: {product}",
        ]
    if product is None:
        return ["The device did not say what it is: a P1 meter goes under meters:, the other "
                "HomeWizard devices under homewizard_devices: (docs/homewizard.md)."]  # fmt: skip
    return [f"{product} is not a device gridwatch reads (docs/homewizard.md lists them)."]


def _token(text: str) -> str | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    token = data.get("token") if isinstance(data, dict) else None
    return token if isinstance(token, str) and token else None


def write_secret(path: Path, secret: str) -> None:
    """Write a secret readable only by its owner (mode 0600), replacing any older one.

    Written to a new file beside it and renamed over it: a symlink at ``path`` is replaced, never
    written through (it could point at any file the user can write), and a crash leaves either
    the old token or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secret + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(fresh, path)
    except BaseException:
        fresh.unlink(missing_ok=True)
        raise
