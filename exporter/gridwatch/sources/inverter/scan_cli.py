"""`gridwatch scan-inverter`: which protocol answers on this port, and the config to paste."""

from __future__ import annotations

import asyncio
import dataclasses

import yaml

from gridwatch.sources.inverter.scan import Attempt, Target, scan

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2


def snippet(config: dict[str, object]) -> str:
    """The ``inverters:`` entry, in the layout of the docs (each value a plain YAML scalar)."""
    entry = {"name": "inverter", **config}
    lines = ["inverters:"]
    for i, (key, value) in enumerate(entry.items()):
        text = yaml.safe_dump(value, default_flow_style=True).removesuffix("\n...\n").strip()
        lines.append(f"{'  - ' if i == 0 else '    '}{key}: {text}")
    return "\n".join(lines)


def report(target: Target, attempts: list[Attempt]) -> str:
    lines = [f"Scanning {target.address} ({target.kind}), read-only queries:"]
    for a in attempts:
        if a.found is not None:
            lines.append(f"  {a.probe:<11} answered: {a.found.protocol} — {a.found.details}")
        elif a.error is not None:
            lines.append(f"  {a.probe:<11} no ({a.error.reason}: {a.error.message})")
    hit = next((a.found for a in attempts if a.found is not None), None)
    if hit is None:
        lines.append("Nothing answered. Check the cable, the port and that the inverter is on.")
    else:
        lines += ["", "Paste into your config:", snippet(hit.config)]
    return "\n".join(lines)


def scan_inverter(
    address: str,
    *,
    dongle: bool,
    timeout: float,
    listen_port: int,
    all_: bool,
    logger_serial: int | None = None,
) -> int:
    try:
        target = Target.parse(address, dongle=dongle, timeout=timeout, listen_port=listen_port)
        target = dataclasses.replace(target, logger_serial=logger_serial)
    except ValueError as exc:
        print(exc)
        return EXIT_INVALID
    attempts = asyncio.run(scan(target, stop_at_first=not all_))
    print(report(target, attempts))
    return EXIT_OK if any(a.found for a in attempts) else EXIT_FAILED
