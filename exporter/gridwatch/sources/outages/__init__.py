"""Planned outage schedules (be-svitlo first), one module per operator."""

from __future__ import annotations

from typing import Annotated

from pydantic import Discriminator, Tag

from gridwatch.core.area import Area, Section
from gridwatch.sources.outages.config import OutagesConfig, OutagesList

# One queue (a mapping) or several (a list: a second address, the parents' flat).
# Validated as the shape the user wrote, so an error names only that shape's keys (a tag with
# "[" is left out of key paths).
_ONE_OR_MANY = Annotated[
    Annotated[OutagesConfig, Tag("one[mapping]")] | Annotated[OutagesList, Tag("many[list]")],
    Discriminator(lambda v: "many[list]" if isinstance(v, list) else "one[mapping]"),
]
OUTAGES = Section[OutagesConfig | list[OutagesConfig] | None](
    "outages", _ONE_OR_MANY | None, lambda: None
)


def outage_queues(config: object) -> list[OutagesConfig]:
    """Every configured queue, whether ``outages:`` is one mapping or a list."""
    value = getattr(config, OUTAGES.key, None)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


AREA = Area(
    name="outages",
    component="gridwatch.sources.outages.component",
    wanted=lambda config: bool(outage_queues(config)),
    sections=(OUTAGES,),
    demo_part="gridwatch.sim.outages.demo",
    error_reasons={"unknown_queue": "the configured queue is not in the operator's list"},
)
