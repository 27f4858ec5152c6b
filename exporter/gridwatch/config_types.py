"""Building blocks shared by every config model: strict models, durations, secret files.

Kept apart from ``config.py`` so each source package can define its own section model without
importing the root config (which imports them).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationInfo

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
MAX_DURATION = 10 * 365 * 86400.0
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: object) -> float:
    """Seconds from ``10s``, ``5m``, ``1.5h``, ``500ms`` or a bare number of seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 10s or 5m")
    try:
        if isinstance(value, int | float):
            seconds = float(value)
        elif isinstance(value, str) and (match := _DURATION.match(value)):
            seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]
        else:
            raise ValueError(f"expected a duration such as 10s or 5m, got {str(value)[:40]!r}")
    except OverflowError:
        seconds = math.inf
    # .nan compares false with everything, so "<= 0" alone lets it through (and a poll loop
    # that sleeps nan seconds spins a whole core); .inf would never fire.
    if not math.isfinite(seconds) or seconds > MAX_DURATION:
        raise ValueError(f"expected a finite duration up to 10 years, got {str(value)[:40]!r}")
    if seconds <= 0:
        raise ValueError("duration must be positive")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


class Strict(BaseModel):
    """Unknown keys are errors (typos must not be silently ignored); settings are immutable."""

    # No NaN or infinity in any number: YAML's .nan/.inf pass "gt=0"-free fields otherwise.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def read_secret_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"cannot read secret file {path}: {exc.strerror}") from None


def non_empty_secret_file(value: Path | None) -> Path | None:
    """Use as a field validator after ``relative_to_config``: the file must read, and not blank."""
    if value is not None and not read_secret_file(value):
        raise ValueError(f"secret file {value} is empty")
    return value


def relative_to_config(value: Path | None, info: ValidationInfo) -> Path | None:
    """Use as a field validator: relative paths in the YAML are relative to the config file."""
    base = info.context.get("base_dir") if info.context else None
    if value is not None and base is not None and not value.is_absolute():
        return Path(base) / value
    return value
