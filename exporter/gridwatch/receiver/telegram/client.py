"""The python-telegram-bot objects both the notifier and the bot use, built from the config,
and the one guard that keeps the bot token out of every log line.

The token is part of every Bot API URL (``…/bot<token>/sendMessage``); httpx logs those URLs at
INFO and PTB's request layer at DEBUG, and an exception text may quote one. Log records are
therefore redacted where they are made (a record factory), whatever logger or handler sees them.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from telegram import Bot
from telegram.request import HTTPXRequest

from gridwatch.receiver.telegram.config import TelegramConfig

# Time periods as timedelta (PTB 22's future default): without this, every 429 warns that
# RetryAfter.retry_after will change type. Our code reads both forms.
os.environ.setdefault("PTB_TIMEDELTA", "true")

REDACTED = "<telegram-token>"
_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def protect_secret(secret: str) -> None:
    """From now on ``secret`` appears as ``<telegram-token>`` in every log record."""
    global _installed  # noqa: PLW0603 - one factory per process, installed once
    with _lock:
        _secrets.add(secret)
        if not _installed:
            _install_factory()
            _installed = True
    # Request URLs at INFO are noise even without the token; warnings still come through.
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)


def redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, REDACTED)
    return text


def _install_factory() -> None:
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if not _secrets:
            return record
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return record  # a broken format string: leave it for logging to report
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            # The traceback text is made later from the exception; pre-render it redacted.
            trace = logging.Formatter().formatException(record.exc_info)
            if redact(trace) != trace:
                record.exc_text, record.exc_info = redact(trace), None
        return record

    logging.setLogRecordFactory(factory)


def requests(config: TelegramConfig) -> HTTPXRequest:
    """One HTTP client with the configured timeout for connect, write, read and the pool."""
    t = config.timeout
    return HTTPXRequest(connect_timeout=t, read_timeout=t, write_timeout=t, pool_timeout=t)


def make_bot(config: TelegramConfig) -> Bot:
    token = config.resolved_token()
    protect_secret(token)
    return Bot(
        token,
        base_url=config.bot_base_url,
        base_file_url=f"{config.api_base_url}/file/bot",
        request=requests(config),
    )
