"""The fleet's token folder: one bearer token per site, one for readers (Grafana, vmalert).

Layout of the folder (``gridwatch fleet add-site --dir``)::

    sites/<name>.token   a site's write token (0600); the site keeps a copy, nothing else
    read.token           the token Grafana queries with (0600)
    vmauth.yml           vmauth's config, regenerated from the tokens (0600: it holds them)

A site's name becomes its ``site`` label and part of a URL query, so it is kept to lower-case
letters, digits, ``-`` and ``_``.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

SITE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
READ_TOKEN = "read.token"


class FleetError(Exception):
    """A refused fleet operation (bad name, existing site); the message says which."""


def check_name(name: str) -> str:
    if not SITE_NAME.fullmatch(name):
        raise FleetError(
            f"site name {name!r}: use 1–63 lower-case letters, digits, '-' or '_' "
            "(it becomes the site label and part of a URL)"
        )
    return name


def write_secret(path: Path, text: str) -> None:
    """Create or replace ``path`` with mode 0600 from the first byte (never readable by others,
    not even for a moment)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temporary, path)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_path(folder: Path, name: str) -> Path:
    return folder / "sites" / f"{check_name(name)}.token"


def add_site(folder: Path, name: str, *, rotate: bool = False) -> str:
    """A new write token for ``name`` (refused if the site exists, unless ``rotate``)."""
    path = token_path(folder, name)
    if path.exists() and not rotate:
        raise FleetError(f"site {name!r} exists ({path}); --rotate replaces its token")
    token = new_token()
    write_secret(path, token)  # no newline: some readers (Grafana $__file{}) keep it
    return token


def sites(folder: Path) -> dict[str, str]:
    """Site name → write token, for every token file in ``folder/sites``."""
    found: dict[str, str] = {}
    for path in sorted((folder / "sites").glob("*.token")):
        if SITE_NAME.fullmatch(path.stem):
            found[path.stem] = path.read_text(encoding="utf-8").strip()
    return found


def read_token(folder: Path) -> str:
    """The readers' token, made on first use."""
    path = folder / READ_TOKEN
    if not path.exists():
        write_secret(path, new_token())
    return path.read_text(encoding="utf-8").strip()
