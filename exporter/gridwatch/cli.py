"""Command line: gridwatch run | receiver | demo | check-config | pair-homewizard | scan-bms |
fleet."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from gridwatch import __version__
from gridwatch.config import ConfigError, load_config
from gridwatch.core.startup import StartupError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _cmd_run(args: argparse.Namespace) -> int:
    from gridwatch import app

    config = load_config(args.config)
    _setup_logging(args.log_level or config.exporter.log_level)
    asyncio.run(app.run(config))
    return EXIT_OK


def _cmd_receiver(args: argparse.Namespace) -> int:
    from gridwatch.receiver import app as receiver_app

    config = load_config(args.config)
    settings, _ = receiver_app.receiver_settings(config, str(args.config))  # no token: refuse
    _setup_logging(args.log_level or settings.log_level)
    asyncio.run(receiver_app.run(config))
    return EXIT_OK


def _cmd_check_config(args: argparse.Namespace) -> int:
    from gridwatch.areas import AREAS

    config = load_config(args.config)
    if config.receiver is not None:
        from gridwatch.receiver.app import receiver_settings

        receiver_settings(config, str(args.config))  # what `gridwatch receiver` would refuse
    used = [area.name for area in AREAS if area.wanted(config)]
    print(f"{args.config}: OK (areas: {', '.join(used) or 'none'})")
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from gridwatch import demo

    _setup_logging(args.log_level or "info")
    return asyncio.run(demo.main(args.config, port=args.port, prometheus=args.prometheus))


def _cmd_pair(args: argparse.Namespace) -> int:
    from gridwatch.sources.homewizard.pairing import PairingError, request_token, write_secret

    def waiting() -> None:
        print(
            f"Press the button on the P1 meter at {args.host} now "
            f"(waiting up to {args.wait:.0f} s)...",
            flush=True,
        )

    print(f"Asking {args.host} for a token named local/{args.name}...", flush=True)
    try:
        token = asyncio.run(
            request_token(
                args.host,
                args.name,
                ca_file=args.ca_file,
                port=args.port,
                wait=args.wait,
                on_waiting=waiting,
            )
        )
    except PairingError as exc:
        print(f"Pairing failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # network and TLS errors, already phrased for humans
        print(f"Pairing failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    write_secret(args.token_file, token)
    print(f"Paired. Token written to {args.token_file} (mode 0600).")
    print("Add to your config under meters:")
    print(f"  - name: home\n    host: {args.host}\n    token_file: {args.token_file.resolve()}")
    return EXIT_OK


def _cmd_scan_bms(args: argparse.Namespace) -> int:
    from gridwatch.sources.bms import BATTERIES
    from gridwatch.sources.bms.scan_cli import scan_bms

    batteries = BATTERIES.of(load_config(args.config)) if args.config else None
    devices_file = args.devices_file or (batteries.devices_file if batteries else None)
    adapter = args.adapter or (batteries.adapter if batteries else None)
    duration = args.duration or (batteries.scan_duration if batteries else 10.0)
    return scan_bms(duration, adapter, args.save, devices_file)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gridwatch", description="Watch a home's electricity: Prometheus exporter and tools."
    )
    parser.add_argument("--version", action="version", version=f"gridwatch {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the exporter with a config file")
    run.add_argument("-c", "--config", type=Path, required=True, help="YAML config file")
    run.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    run.set_defaults(func=_cmd_run)

    receiver = sub.add_parser("receiver", help="run the Alertmanager webhook receiver")
    receiver.add_argument("-c", "--config", type=Path, required=True, help="YAML config file")
    receiver.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    receiver.set_defaults(func=_cmd_receiver)

    check = sub.add_parser("check-config", help="validate a config file (exit 0 valid, 2 invalid)")
    check.add_argument("config", type=Path)
    check.set_defaults(func=_cmd_check_config)

    demo = sub.add_parser(
        "demo", help="run the exporter and receiver against simulated devices and peers"
    )
    demo.add_argument("config", type=Path, nargs="?", help="config (default: built-in demo)")
    demo.add_argument("--port", type=int, default=None, help="exporter port (default 9864)")
    demo.add_argument(
        "--no-prometheus",
        dest="prometheus",
        action="store_false",
        help="do not start Prometheus, Alertmanager or Grafana even if they are installed",
    )
    demo.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    demo.set_defaults(func=_cmd_demo)

    pair = sub.add_parser("pair-homewizard", help="get an API v2 token from a HomeWizard meter")
    pair.add_argument("host", help="IP address or host name of the meter")
    pair.add_argument("--name", default="gridwatch", help="user name on the device (local/NAME)")
    pair.add_argument(
        "--token-file", type=Path, default=Path("homewizard.token"), help="where to write it"
    )
    pair.add_argument("--port", type=int, default=443)
    pair.add_argument("--wait", type=float, default=120.0, help="seconds to wait for the button")
    pair.add_argument(
        "--ca-file", type=Path, default=None, help="trust this CA instead of HomeWizard's"
    )
    pair.set_defaults(func=_cmd_pair)

    scan = sub.add_parser(
        "scan-bms", help="list Bluetooth BMS packs in range (aiobmsble) and optionally save them"
    )
    scan.add_argument("-c", "--config", type=Path, help="use batteries.devices_file/adapter of it")
    scan.add_argument("--duration", type=float, default=None, help="seconds to scan (default 10)")
    scan.add_argument("--adapter", default=None, help="Bluetooth adapter, e.g. hci1")
    scan.add_argument("--save", action="store_true", help="add new packs to the devices file")
    scan.add_argument(
        "--devices-file", type=Path, default=None, help="devices file (default bms-devices.yml)"
    )
    scan.set_defaults(func=_cmd_scan_bms)

    from gridwatch.fleet.cli import add_parser as add_fleet_parser

    add_fleet_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result: int = args.func(args)
    except ConfigError as exc:  # every command that reads a config reports it the same way
        print(exc, file=sys.stderr)
        return EXIT_INVALID
    except StartupError as exc:  # port in use, data_dir not writable, …: one line, no traceback
        where = getattr(args, "config", None)
        print(f"{where}: cannot start: {exc}" if where else f"cannot start: {exc}", file=sys.stderr)
        return EXIT_INVALID if exc.config_error else EXIT_FAILED
    return result
