"""Command line: gridwatch run | receiver | demo | check-config | pair-homewizard | scan-bms |
scan-inverter | find-queue | discover-tuya | fleet."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from gridwatch import __version__
from gridwatch.config import ConfigError, load_config
from gridwatch.core.startup import StartupError
from gridwatch.sim.inverter.families import DEMO_FAMILIES

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
    return asyncio.run(
        demo.main(args.config, port=args.port, prometheus=args.prometheus, inverter=args.inverter)
    )


def _cmd_pair(args: argparse.Namespace) -> int:
    from gridwatch.sources.homewizard.pairing import (
        PairingError,
        config_hint,
        product_type,
        request_token,
        write_secret,
    )

    def waiting() -> None:
        print(
            f"Press the button on the HomeWizard device at {args.host} now "
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
    # The product type (GET /api, with the new token) says which config section it belongs in.
    product = asyncio.run(product_type(args.host, token, ca_file=args.ca_file, port=args.port))
    print("\n".join(config_hint(product, args.host, args.token_file.resolve())))
    return EXIT_OK


def _cmd_scan_bms(args: argparse.Namespace) -> int:
    from gridwatch.sources.bms import BATTERIES
    from gridwatch.sources.bms.scan_cli import scan_bms

    batteries = BATTERIES.of(load_config(args.config)) if args.config else None
    devices_file = args.devices_file or (batteries.devices_file if batteries else None)
    adapter = args.adapter or (batteries.adapter if batteries else None)
    duration = args.duration or (batteries.scan_duration if batteries else 10.0)
    return scan_bms(duration, adapter, args.save, devices_file)


def _cmd_scan_inverter(args: argparse.Namespace) -> int:
    from gridwatch.sources.inverter.scan_cli import scan_inverter

    return scan_inverter(
        args.target,
        dongle=args.dongle,
        timeout=args.timeout,
        listen_port=args.listen_port,
        all_=args.all,
        logger_serial=args.logger_serial,
    )


def _cmd_find_queue(args: argparse.Namespace) -> int:
    from gridwatch.sources.outages.find_queue import find_queue

    return find_queue(args.operator, args.street, args.house, args.url)


def _cmd_discover_tuya(args: argparse.Namespace) -> int:
    from gridwatch.receiver.tuya.cloud import CloudError
    from gridwatch.receiver.tuya.discover import discover, select, snippet, write_keys
    from gridwatch.receiver.tuya.discover_cli import cloud_settings

    cloud, user_id = cloud_settings(args)
    try:
        devices = select(discover(cloud, user_id), args.all_categories)
    except CloudError as exc:
        print(f"discover-tuya: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.keys_dir is not None:
        written = write_keys(devices, args.keys_dir)
        print(f"# {written} local keys written to {args.keys_dir} (mode 0600)", file=sys.stderr)
    print(
        snippet(
            devices,
            show_keys=args.show_keys,
            keys_dir=args.keys_dir,
            shed_group=args.shed_group,
            shed_except=[n for part in args.shed_except for n in part.split(",") if n],
        ),
        end="",
    )
    return 0


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
    demo.add_argument(
        "--inverter",
        choices=sorted(DEMO_FAMILIES),
        default=None,
        help="simulate this inverter family instead of the config's (default: as configured)",
    )
    demo.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    demo.set_defaults(func=_cmd_demo)

    pair = sub.add_parser("pair-homewizard", help="get an API v2 token from a HomeWizard device")
    pair.add_argument("host", help="IP address or host name of the device")
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

    inv = sub.add_parser(
        "scan-inverter",
        help="find which protocol an inverter speaks (read-only queries) and print its config",
    )
    inv.add_argument(
        "target",
        help="/dev/ttyUSB0, /dev/hidraw0, host:port (a Modbus gateway, Solarman stick or RS232 "
        "bridge), or the dongle's address (--dongle)",
    )
    inv.add_argument("--dongle", action="store_true", help="target is an Eybond/SmartESS dongle")
    inv.add_argument("--listen-port", type=int, default=8899, help="dongle connects back here")
    inv.add_argument("--timeout", type=float, default=2.0, help="seconds per query (default 2)")
    inv.add_argument(
        "--all", action="store_true", help="try every protocol, not only until one answers"
    )
    inv.add_argument(
        "--logger-serial",
        type=int,
        help="a Solarman V5 stick's serial (its label) at host:port; on port 8899 it is asked",
    )
    inv.set_defaults(func=_cmd_scan_inverter)

    find = sub.add_parser(
        "find-queue", help="find the outage queue of an address (YASNO) and print the config"
    )
    find.add_argument("operator", help="outages.operator, e.g. yasno-kyiv")
    find.add_argument("--street", help="street name as you would type it on yasno.ua")
    find.add_argument("--house", help="house number")
    find.add_argument("--url", default=None, help="API base URL (default: the operator's own)")
    find.set_defaults(func=_cmd_find_queue)

    from gridwatch.receiver.tuya.discover_cli import add_arguments

    tuya = sub.add_parser(
        "discover-tuya",
        help="list the Tuya app account's devices as a receiver.tuya config snippet",
    )
    add_arguments(tuya)
    tuya.set_defaults(func=_cmd_discover_tuya)

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
