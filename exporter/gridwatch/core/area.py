"""How an area declares itself: its config sections, when it is wanted, and where its component
and demo part live (module paths, imported only when the area is used).

An area's ``__init__.py`` holds one ``Area``; ``gridwatch/areas.py`` lists them. The root config
is assembled from the sections of that list, so adding an area never edits ``config.py`` or core.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel

from gridwatch.core.source import register_reasons

if TYPE_CHECKING:
    from gridwatch.config import Config


@dataclass(frozen=True)
class Section[T]:
    """One top-level key of the config file, owned by an area.

    ``model`` is the pydantic type of the value (``list[X]``, ``X | None``, or an annotated type
    carrying validators); ``default`` makes the value when the key is absent. Area code reads its
    value with ``section.of(config)``, which is typed where the assembled model is not.
    """

    key: str
    model: Any
    default: Callable[[], T]

    def of(self, config: BaseModel) -> T:
        return cast(T, getattr(config, self.key))


@dataclass(frozen=True, slots=True)
class Area:
    """One area of the exporter (P1 meters, prices, inverter, …)."""

    name: str
    component: str  # module with ``component(runtime) -> Component``
    wanted: Callable[[Config], bool]  # whether the config uses the area: else it is not imported
    sections: tuple[Section[Any], ...] = ()
    demo_part: str | None = None  # module with ``demo_part(config, stack)`` for `gridwatch demo`
    # The area's own values of gridwatch_source_errors_total's ``reason`` (name → meaning),
    # beyond the ones every source shares (core/source.py).
    error_reasons: dict[str, str] = field(default_factory=dict)
    # Section keys whose entries share one name space (their names label the same series).
    shared_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        register_reasons(self.error_reasons)
