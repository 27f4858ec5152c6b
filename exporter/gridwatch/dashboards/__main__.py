"""``python -m gridwatch.dashboards [--check] [folder]``: write or check grafana/dashboards."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gridwatch.binaries import project_dir
from gridwatch.dashboards import differences, write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gridwatch.dashboards", description=__doc__)
    parser.add_argument("folder", type=Path, nargs="?", help="default: grafana/dashboards")
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    folder: Path = args.folder or project_dir() / "grafana" / "dashboards"
    if args.check:
        stale = differences(folder)
        for name in stale:
            print(f"{folder / name}: differs from the generator", file=sys.stderr)
        if stale:
            print("run: python -m gridwatch.dashboards", file=sys.stderr)
        return 1 if stale else 0
    for path in write(folder):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
