"""Why a process cannot start, said in one line naming the setting to change: a port in use, a
listen address that does not resolve, a data_dir that cannot be written, a locked state file.

These are not bugs, so the command line prints them without a traceback (``StartupError``).
"""

from __future__ import annotations

import errno
import socket

from aiohttp import web


class StartupError(Exception):
    """``key`` is the config key to look at ("" when none); ``config_error`` selects exit 2."""

    def __init__(self, key: str, message: str, *, config_error: bool = True) -> None:
        super().__init__(f"{key}: {message}" if key else message)
        self.key = key
        self.message = message
        self.config_error = config_error


async def listen(runner: web.AppRunner, host: str, port: int, section: str) -> None:
    """Start serving ``runner`` on host:port; StartupError naming ``section``'s key if not."""
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except socket.gaierror as exc:
        raise StartupError(
            f"{section}.listen_address", f"cannot resolve {host!r}: {exc.strerror}"
        ) from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(
                f"{section}.port", f"{host}:{port} is already in use by another program"
            ) from None
        if exc.errno in {errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT}:
            raise StartupError(
                f"{section}.listen_address", f"{host} is not an address of this host"
            ) from None
        raise StartupError(f"{section}.port", f"cannot listen on {host}:{port}: {exc}") from None
