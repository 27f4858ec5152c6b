"""Who ran the benchmark: CPU, cores, Python, versions and date, stored beside every result."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

MachineInfo = dict[str, str | int | float]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def machine_info() -> MachineInfo:
    load1, load5, load15 = os.getloadavg()
    return {
        "cpu_model": _cpu_model(),
        "cpu_cores": os.cpu_count() or 0,
        "cpu_cores_usable": len(os.sched_getaffinity(0)),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": platform.platform(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        # Shared machines drift; the load average at start says how busy this one was.
        "load_average": f"{load1:.2f} {load5:.2f} {load15:.2f}",
        "gridwatch": _version("gridwatch"),
        "aiohttp": _version("aiohttp"),
        "prometheus_client": _version("prometheus-client"),
    }
