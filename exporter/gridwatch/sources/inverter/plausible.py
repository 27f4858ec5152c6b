"""Whether a poll's values fit the device: the wrong-map check behind reason ``bad_model``."""

from __future__ import annotations

from gridwatch.sources.inverter.regmap import Decoded, MapSpec


def looks_like_nonsense(decoded: tuple[Decoded, ...]) -> str | None:
    """Why a poll's values look like the wrong map for this device, or None when plausible.

    A live inverter has a battery voltage, an output, settings: all-zero numbers (an unused
    register block), two values outside their ``valid`` range, or one such value among
    nine-tenths zeros are the signs of a map that does not fit (as with the vendor map on an
    SMG II 11K, which answers its 2xx block mostly with zeros).
    """
    numbers = [d for d in decoded if d.spec.effective_kind == "value" and d.value is not None]
    if not numbers:
        return None
    zeros = sum(1 for d in numbers if d.raw == 0)
    if zeros == len(numbers):
        return f"all {len(numbers)} measured values read as 0"
    bad = [
        f"{d.spec.name}={d.value:g}"
        for d in numbers
        if d.spec.valid is not None
        and d.value is not None
        and not d.spec.valid[0] <= d.value <= d.spec.valid[1]
    ]
    if len(bad) >= 2 or (bad and zeros >= 0.9 * len(numbers)):
        return f"{zeros} of {len(numbers)} values read as 0; implausible: " + ", ".join(bad)
    return None


def unexpected_unit(spec: MapSpec, decoded: tuple[Decoded, ...]) -> Decoded | None:
    """The register whose raw value says the unit is not one the map is for (``expect:``)."""
    for d in decoded:
        allowed = spec.expect.get(d.spec.name)
        if allowed is not None and d.raw not in allowed:
            return d
    return None
