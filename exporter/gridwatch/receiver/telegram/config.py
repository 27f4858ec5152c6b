"""``receiver.telegram``: bot token, allowed chats, language. (Filled in by the Telegram work.)"""

from __future__ import annotations

from gridwatch.config_types import Strict


class TelegramConfig(Strict):
    pass
