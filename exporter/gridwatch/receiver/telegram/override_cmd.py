"""`/plugs NAME on|off [DURATION]`: a person forces a plug for a while (default 1 h).

The switch goes through the receiver's outbox like every other (receiver/scheduled.py); while
the override lasts, price schedules and peak shaving leave the plug alone. Grid-loss shedding
still wins: a plug it holds is switched by the restore, not by this.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from gridwatch.receiver.telegram.context import Context

Override = Callable[[str, bool, float, str], int | None]  # plug, on, seconds, by → job id

DEFAULT_SECONDS = 3600.0
MAX_SECONDS = 7 * 86400.0
_DURATION = re.compile(r"^(\d{1,4})(m|h)$")


def parse(args: Sequence[str]) -> tuple[str, bool, float] | None:
    """(plug, on, seconds), or None when the words are not a valid override."""
    if len(args) not in (2, 3) or args[1].lower() not in ("on", "off"):
        return None
    seconds = DEFAULT_SECONDS
    if len(args) == 3:
        match = _DURATION.match(args[2].lower())
        if match is None:
            return None
        seconds = int(match.group(1)) * (60 if match.group(2) == "m" else 3600)
        if not 0 < seconds <= MAX_SECONDS:
            return None
    return args[0], args[1].lower() == "on", float(seconds)


def override_text(
    ctx: Context, args: Sequence[str], override: Override | None, known: Sequence[str], by: str
) -> list[str]:
    if override is None:
        return [ctx.t("plugs.override_off")]
    parsed = parse(args)
    if parsed is None or parsed[0] not in known:
        return [ctx.t("plugs.override_usage")]
    plug, on, seconds = parsed
    override(plug, on, seconds, by)
    state = ctx.catalog.plain("plug_state.on" if on else "plug_state.off")
    return [ctx.t("plugs.override_done", plug=plug, state=state, minutes=round(seconds / 60))]
