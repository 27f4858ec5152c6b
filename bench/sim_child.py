"""Child process: a HomeWizard simulator on loopback, so its CPU is not the exporter's.

Prints one ``BENCH-READY {json}`` line on stderr with what the exporter config needs, then serves
until SIGTERM. ``measurements_pushed`` is read over HTTP from ``/sim/state``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from gridwatch.app import wait_for_signal
from gridwatch.sim.homewizard.simulator import HomeWizardSimulator, SimulatorOptions

READY = "BENCH-READY "


async def _serve(options: SimulatorOptions) -> None:
    async with HomeWizardSimulator(options) as sim:
        info = {
            "host": sim.host,
            "http_port": sim.http_port,
            "https_port": sim.https_port,
            "token": sim.token,
            "ca_file": str(sim.ca_file),
        }
        print(READY + json.dumps(info), file=sys.stderr, flush=True)
        await wait_for_signal()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fixture", type=Path, default=None)
    parser.add_argument("--push-interval", type=float, default=1.0)
    args = parser.parse_args(argv)
    asyncio.run(_serve(SimulatorOptions(push_interval=args.push_interval, fixture=args.fixture)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
