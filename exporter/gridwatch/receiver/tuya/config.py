"""``receiver.tuya`` and ``receiver.actions``: plugs, groups and load-shedding rules.
(Filled in by the Tuya work.)"""

from __future__ import annotations

from gridwatch.config_types import Strict


class TuyaConfig(Strict):
    pass


class ActionRule(Strict):
    pass
