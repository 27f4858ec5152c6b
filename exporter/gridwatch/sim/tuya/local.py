"""Tuya plugs on loopback for tests and the demo: ``tuyamock`` devices speaking the real local
protocol (3.1–3.5, session keys for 3.4/3.5), one thread each.

tuyamock is a development dependency (it pins an older tinytuya, so it is installed with
``pip install --no-deps tuyamock``); this module imports it only when a plug is started.
"""

from __future__ import annotations

import secrets
import socket
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

__all__ = ["SimPlug", "TuyaLocalSim", "closed_port"]


@dataclass
class SimPlug:
    """One mock plug; ``config()`` is its entry for ``receiver.tuya.plugs``."""

    name: str
    device_id: str
    local_key: str
    version: str
    groups: list[str]
    switch_dp: int = 1
    response_delay: float = 0.0  # seconds the device waits before each reply
    mock: Any = field(default=None, repr=False)  # tuyamock.MockDevice while running
    port: int = 0

    @property
    def running(self) -> bool:
        return self.mock is not None

    @property
    def on(self) -> bool | None:
        """The switch as the device holds it (what a user would see on the plug)."""
        if self.mock is None:
            return None
        value = self.mock.dps.get(str(self.switch_dp))
        return value if isinstance(value, bool) else None

    @property
    def dps(self) -> dict[str, Any]:
        return dict(self.mock.dps) if self.mock is not None else {}

    def config(self, **extra: Any) -> dict[str, Any]:
        return {
            "name": self.name,
            "backend": "local",
            "groups": list(self.groups),
            "device_id": self.device_id,
            "address": "127.0.0.1",
            "port": self.port,
            "local_key": self.local_key,
            "version": self.version,
            "switch_dp": self.switch_dp,
            **extra,
        }


class TuyaLocalSim:
    """A set of mock plugs: ``add`` them, then ``start``; ``take_offline`` closes one's port."""

    def __init__(self) -> None:
        self.plugs: dict[str, SimPlug] = {}
        self._initial: dict[str, bool] = {}  # switch state each plug starts with

    def add(
        self,
        name: str,
        *,
        version: str = "3.4",
        on: bool = True,
        groups: list[str] | None = None,
        switch_dp: int = 1,
        local_key: str | None = None,
        response_delay: float = 0.0,
    ) -> SimPlug:
        plug = SimPlug(
            name=name,
            device_id="bf" + secrets.token_hex(10),  # 22 characters, like real ids
            local_key=local_key or secrets.token_hex(8),  # 16 characters
            version=version,
            groups=list(groups or []),
            switch_dp=switch_dp,
            response_delay=response_delay,
        )
        self.plugs[name] = plug
        self._initial[name] = on
        return plug

    def start(self) -> None:
        for name, plug in self.plugs.items():
            if plug.mock is None:
                self._start(plug, self._initial.get(name, True))

    def _start(self, plug: SimPlug, on: bool) -> None:
        try:
            import tuyamock  # noqa: PLC0415 - a dev dependency, needed only when simulating
        except ImportError:
            raise RuntimeError(
                "the Tuya plug simulator needs tuyamock: pip install --no-deps tuyamock==0.0.6"
            ) from None
        # A plug with a power meter reports more than its switch; the extra dps check that
        # only the switch is changed.
        dps = {str(plug.switch_dp): on, "9": 0, "19": 0}
        mock = tuyamock.MockDevice(
            local_key=plug.local_key,
            version=plug.version,
            dps=dps,
            response_delay=plug.response_delay,
        )
        plug.port = int(mock.start())
        plug.mock = mock

    def take_offline(self, name: str) -> None:
        """Stop the plug: its port is closed, connections are refused (Err 901)."""
        plug = self.plugs[name]
        if plug.mock is not None:
            plug.mock.stop()
            plug.mock = None

    def stop(self) -> None:
        for name in self.plugs:
            self.take_offline(name)

    def configs(self, **extra: Any) -> list[dict[str, Any]]:
        return [plug.config(**extra) for plug in self.plugs.values()]

    def __enter__(self) -> TuyaLocalSim:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def closed_port() -> int:
    """A loopback TCP port that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
