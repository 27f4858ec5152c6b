"""vmauth's config from the token folder: each site token may only write, and vmauth adds
``extra_label=site=<name>`` to every write it forwards, so a site cannot write (or overwrite)
another site's series whatever labels or query arguments it sends; the read token may only query.

Checked against vmauth 1.79 (Debian bookworm): ``url_map`` with ``src_paths`` and a query string
in ``url_prefix`` (the request's own ``extra_label`` comes after it and loses; the test
``test_fleet_tokens`` holds vmauth to that).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gridwatch.fleet.sites import read_token, sites, write_secret

WRITE_PATHS = ["/api/v1/write"]
# What Grafana's Prometheus datasource and vmalert ask for; nothing that writes or deletes.
READ_PATHS = [
    "/api/v1/query",
    "/api/v1/query_range",
    "/api/v1/series",
    "/api/v1/labels",
    "/api/v1/label/[^/]+/values",
    "/api/v1/metadata",
    "/api/v1/query_exemplars",
    "/api/v1/status/buildinfo",
    "/api/v1/export",
    "/api/v1/rules",
    "/api/v1/alerts",
]


def vmauth_config(site_tokens: dict[str, str], reader: str, storage_url: str) -> dict[str, Any]:
    """``storage_url``: VictoriaMetrics as vmauth reaches it, e.g. ``http://127.0.0.1:8428``."""
    base = storage_url.rstrip("/")
    users: list[dict[str, Any]] = [
        {
            "bearer_token": token,
            "url_map": [
                {"src_paths": WRITE_PATHS, "url_prefix": f"{base}?extra_label=site={name}"}
            ],
        }
        for name, token in sorted(site_tokens.items())
    ]
    read = {"src_paths": READ_PATHS, "url_prefix": base}
    users.append({"bearer_token": reader, "url_map": [read]})
    return {"users": users}


def write_vmauth_config(folder: Path, storage_url: str, target: Path | None = None) -> Path:
    """Regenerate ``folder/vmauth.yml`` (or ``target``) from the tokens; vmauth reads it at
    start (the systemd unit hands it over as a credential, so: ``systemctl restart``)."""
    config = vmauth_config(sites(folder), read_token(folder), storage_url)
    path = target or folder / "vmauth.yml"
    header = "# Written by `gridwatch fleet add-site`; edits are overwritten. Holds tokens.\n"
    write_secret(path, header + yaml.safe_dump(config, sort_keys=False))
    return path
