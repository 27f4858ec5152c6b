"""Which switches an alert asks for, for any switch backend (Tuya plugs, HomeWizard sockets)."""

from __future__ import annotations

from collections.abc import Mapping, Set

from gridwatch.receiver.model import Alert
from gridwatch.receiver.tuya.config import ActionRule


def plan_rules(
    rules: list[ActionRule], groups: Mapping[str, list[str]], alert: Alert, known: Set[str]
) -> list[tuple[str, bool]]:
    """Every matching rule's switches in rule order, each group's in config order, limited to
    ``known`` (this backend's). A switch named by two rules is switched once, as the first says."""
    planned: dict[str, bool] = {}
    for rule in rules:
        if not rule.matches(alert.labels):
            continue
        on = rule.switch_to(alert.status)
        if on is None:
            continue
        for group in rule.groups:
            for name in groups.get(group, []):
                planned.setdefault(name, on)
        for name in rule.plugs:
            planned.setdefault(name, on)
    return [(name, on) for name, on in planned.items() if name in known]
