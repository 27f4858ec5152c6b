"""A private D-Bus daemon for the fake BlueZ: never the host's real system bus.

It is a session-type bus listening on a socket in a temporary folder, with a policy that allows
everything, so a simulator may own ``org.bluez`` without root. Clients reach it through
``DBUS_SYSTEM_BUS_ADDRESS`` (what bleak and dbus-fast read for the system bus).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from gridwatch import children

_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def dbus_daemon_binary() -> str | None:
    return shutil.which("dbus-daemon")


class PrivateBus:
    """``dbus-daemon`` on a private socket; ``address`` is valid between start() and stop()."""

    def __init__(self) -> None:
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self.address = ""

    def start(self) -> str:
        binary = dbus_daemon_binary()
        if binary is None:
            raise FileNotFoundError("dbus-daemon is not installed (Debian package dbus)")
        self._dir = tempfile.TemporaryDirectory(prefix=children.temp_prefix("dbus"))
        folder = Path(self._dir.name)
        config = folder / "bus.conf"
        config.write_text(_CONFIG.format(socket=folder / "bus"), encoding="utf-8")
        # Its own session, ended with its parent: see gridwatch.children.
        self._process = children.spawn(
            [binary, f"--config-file={config}", "--nofork", "--nopidfile", "--print-address=1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().decode().strip()  # printed once it listens
        if not line:
            self.stop()
            raise RuntimeError("dbus-daemon exited without printing its address")
        self.address = line
        return line

    def stop(self) -> None:
        if self._process is not None:
            children.stop(self._process, timeout=5)
            self._process = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None
        self.address = ""
