"""What a site adds to forward its series: a ``remote_write`` block for its Prometheus, or the
vmagent command line for a site without one. Both send the site's name as a label too, but only
for reading convenience: vmauth sets ``site`` from the token, whatever a site sends.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# vmagent keeps what it could not send on disk, about 22 bytes per sample (bench/fleet_outage):
# a full household (1,060 series every 5 s) queues ≈ 400 MB a day offline, so 1 GB holds about
# two and a half days. Past the limit vmagent drops the oldest data, never the newest.
VMAGENT_QUEUE_LIMIT = "1GB"


def write_url(central: str) -> str:
    return f"{central.rstrip('/')}/api/v1/write"


def remote_write(central: str, token_file: Path) -> dict[str, Any]:
    """One ``remote_write`` entry for prometheus.yml. Prometheus retries 5xx answers (vmauth's
    502 while the store is down) with backoff and resends from its WAL, which keeps about two
    hours; longer outages need vmagent (docs/fleet.md)."""
    return {
        "url": write_url(central),
        "authorization": {"type": "Bearer", "credentials_file": str(token_file)},
        # Retries faster than the default 5 s cap once the centre is back; one shard suffices
        # for a household's few hundred series.
        "queue_config": {"max_backoff": "5s", "min_backoff": "100ms"},
    }


def prometheus_snippet(name: str, central: str, token_file: Path) -> str:
    block = {
        "global": {"external_labels": {"site": name}},
        "remote_write": [remote_write(central, token_file)],
    }
    return yaml.safe_dump(block, sort_keys=False)


def vmagent_args(
    name: str,
    central: str,
    token_file: Path,
    *,
    scrape_config: Path,
    queue_dir: Path,
    listen: str = "127.0.0.1:8429",
    queue_limit: str = VMAGENT_QUEUE_LIMIT,
) -> list[str]:
    """vmagent's flags (without the program name): scrape with the site's prometheus.yml and
    forward, keeping unsent data in ``queue_dir`` across outages and restarts."""
    return [
        f"-promscrape.config={scrape_config}",
        # The shipped prometheus.yml has alerting/rule_files that vmagent does not use.
        "-promscrape.config.strictParse=false",
        f"-remoteWrite.url={write_url(central)}",
        f"-remoteWrite.bearerTokenFile={token_file}",
        f"-remoteWrite.label=site={name}",
        f"-remoteWrite.tmpDataPath={queue_dir}",
        f"-remoteWrite.maxDiskUsagePerURL={queue_limit}",
        f"-httpListenAddr={listen}",
    ]
