"""``gridwatch fleet add-site NAME``: a token for a new site, vmauth's config rewritten, and the
lines the site adds to its Prometheus (or the vmagent command) printed. The token itself is not
printed: it is in ``sites/NAME.token`` (0600), to be copied to the site like a key."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gridwatch.fleet.auth import write_vmauth_config
from gridwatch.fleet.sites import FleetError, add_site, token_path
from gridwatch.fleet.snippets import prometheus_snippet, vmagent_args

SITE_TOKEN_FILE = Path("/etc/gridwatch/fleet.token")  # where the site keeps its copy


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fleet = sub.add_parser("fleet", help="central store for many sites (docs/fleet.md)")
    commands = fleet.add_subparsers(dest="fleet_command", required=True)
    add = commands.add_parser("add-site", help="create a site's write token and print its setup")
    add.add_argument("name", help="the site's name: its site label (a-z, 0-9, -, _)")
    add.add_argument(
        "--dir", type=Path, default=Path("/etc/gridwatch-fleet"), help="the fleet's token folder"
    )
    add.add_argument(
        "--central",
        default="https://metrics.example.org",
        help="the URL sites reach vmauth at (printed into the snippet)",
    )
    add.add_argument(
        "--storage-url",
        default="http://127.0.0.1:8428",
        help="VictoriaMetrics as vmauth reaches it (written into vmauth.yml)",
    )
    add.add_argument("--rotate", action="store_true", help="replace an existing site's token")
    add.set_defaults(func=_cmd_add_site)


def _cmd_add_site(args: argparse.Namespace) -> int:
    try:
        add_site(args.dir, args.name, rotate=args.rotate)
    except FleetError as exc:
        print(f"gridwatch fleet add-site: {exc}", file=sys.stderr)
        return 2
    config = write_vmauth_config(args.dir, args.storage_url)
    token = token_path(args.dir, args.name)
    scrape = Path("/etc/prometheus/prometheus.yml")
    flags = vmagent_args(
        args.name,
        args.central,
        SITE_TOKEN_FILE,
        scrape_config=scrape,
        queue_dir=Path("/var/lib/gridwatch-vmagent"),
    )
    agent = " \\\n    ".join(["vmagent", *flags])
    print(
        f"Site {args.name!r}: token written to {token} (0600).\n"
        f"vmauth config rewritten: {config}. Restart vmauth to load it: systemctl restart "
        "gridwatch-vmauth (compose: docker compose restart vmauth).\n"
        "\n"
        f"On the site, copy that token to {SITE_TOKEN_FILE} (mode 0600, readable by the user\n"
        "Prometheus or vmagent runs as), then either\n"
        "\n"
        "a) add to prometheus.yml (Prometheus ≥ 2.26):\n"
        "\n" + _indent(prometheus_snippet(args.name, args.central, SITE_TOKEN_FILE)) + "\n"
        "b) or, without a local Prometheus, run vmagent (deploy/fleet/systemd/"
        "gridwatch-vmagent.service):\n"
        "\n" + _indent(agent) + "\n"
    )
    return 0


def _indent(text: str) -> str:
    return "".join(f"    {line}\n" for line in text.rstrip("\n").splitlines())
