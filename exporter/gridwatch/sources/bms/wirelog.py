"""What happened on one pack's link during a poll, read from aiobmsble's own log records.

aiobmsble reports a corrupt frame or a dropped link only by logging it and then timing out, so
each pack gets a private logger: the records are examined (checksum failures, disconnects) and
otherwise kept quiet, because aiobmsble logs every failed connect at INFO and gridwatch logs a
source once per state change. With gridwatch at debug level they are passed on.
"""

from __future__ import annotations

import logging
import re

FORWARD = logging.getLogger("gridwatch.sources.bms.aiobmsble")

# Message texts of aiobmsble 0.31 (basebms.py); tests through the fake BlueZ pin them.
_CHECKSUM = "invalid checksum"
_DISCONNECTED = "disconnected from BMS"
_CONNECT_FAILED = "failed to initialize BMS connection"


def _logger_name(pack: str) -> str:
    return "gridwatch.sources.bms.wire." + re.sub(r"[^A-Za-z0-9_-]", "_", pack)


class WireLog(logging.Handler):
    """Collects link events of one pack; ``begin()`` starts a poll's record."""

    def __init__(self, pack: str) -> None:
        super().__init__(logging.DEBUG)
        self.logger_name = _logger_name(pack)
        logger = logging.getLogger(self.logger_name)
        logger.setLevel(logging.DEBUG)  # aiobmsble checks isEnabledFor before formatting
        logger.propagate = False
        for old in [h for h in logger.handlers if isinstance(h, WireLog)]:
            logger.removeHandler(old)  # a restarted source replaces its predecessor
        logger.addHandler(self)
        self.events: list[str] = []

    def begin(self) -> None:
        self.events.clear()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if _CHECKSUM in message:
            self.events.append("checksum")
        elif _DISCONNECTED in message:
            self.events.append("disconnected")
        elif _CONNECT_FAILED in message:
            self.events.append("connect_failed")
        if FORWARD.isEnabledFor(logging.DEBUG):
            FORWARD.debug("%s", message)

    @property
    def corrupt_frames(self) -> int:
        return self.events.count("checksum")

    @property
    def peer_dropped(self) -> bool:
        """The link went down before aiobmsble gave up on it (not its own clean-up)."""
        for event in self.events:
            if event == "disconnected":
                return True
            if event == "connect_failed":
                return False  # aiobmsble disconnects itself after this
        return False

    def close(self) -> None:
        logging.getLogger(self.logger_name).removeHandler(self)
        super().close()
