"""Child process: plain prometheus_client serving N static gauge samples (the scrape baseline).

The samples are spread over as many families as the exporter has, with labels, so the body has a
similar shape. Prints ``BENCH-READY {"port": N}`` on stderr; SIGTERM's default action ends it.
"""

from __future__ import annotations

import argparse
import json
import sys

from prometheus_client import CollectorRegistry, Gauge, start_http_server

READY = "BENCH-READY "


def build_registry(samples: int, families: int) -> CollectorRegistry:
    # A private registry: no default process/gc/platform collectors, only the static samples.
    registry = CollectorRegistry(auto_describe=False)
    families = max(1, min(families, samples))
    for index in range(families):
        gauge = Gauge(
            f"bench_baseline_family_{index}_value",
            f"Static baseline family {index}; the value never changes between scrapes.",
            ["meter", "series"],
            registry=registry,
        )
        count = samples // families + (1 if index < samples % families else 0)
        for series in range(count):
            gauge.labels("home", f"L{series + 1}").set(1234.5 + index + series / 10)
    return registry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, required=True)
    parser.add_argument("--families", type=int, required=True)
    args = parser.parse_args(argv)
    registry = build_registry(args.samples, args.families)
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    print(READY + json.dumps({"port": server.server_port}), file=sys.stderr, flush=True)
    thread.join()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
