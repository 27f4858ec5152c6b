#!/usr/bin/env python3
"""Container health check: exit 0 when a gridwatch /healthz answers 200, otherwise 1.

The slim image has neither curl nor wget, so this uses only the standard library. The URL is the
first argument, else $GRIDWATCH_HEALTHCHECK_URL, else the exporter's. The one line it prints on
failure is what `docker inspect` shows as the health log.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:9864/healthz"


def check(url: str, timeout: float = 4.0) -> str | None:
    """None when healthy, else what is wrong."""
    # No proxy: an HTTP(S)_PROXY set for the price downloads must not catch loopback checks.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:  # 503: the receiver cannot write its outbox
        return f"{url}: HTTP {exc.code}"
    except urllib.error.URLError as exc:
        return f"{url}: {exc.reason}"
    except OSError as exc:  # timeouts and resets after the connection was made
        return f"{url}: {exc}"
    return None if status == 200 else f"{url}: HTTP {status}"


def main(argv: list[str]) -> int:
    url = argv[1] if len(argv) > 1 else os.environ.get("GRIDWATCH_HEALTHCHECK_URL", DEFAULT_URL)
    problem = check(url)
    if problem is not None:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
