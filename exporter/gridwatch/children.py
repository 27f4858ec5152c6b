"""Child processes and temporary folders that never outlive the gridwatch process that made them.

Every program gridwatch starts (dbus-daemon, Prometheus, Alertmanager, Grafana) goes through
``spawn``, which ties it to its parent in two ways:

* **Its own session.** A terminal's Ctrl-C or hang-up reaches only gridwatch, which then stops
  its children itself, in order (Prometheus before the Alertmanager it sends to, the receiver
  before the bus…). Prometheus and Alertmanager would otherwise read a hang-up as "reload".
* **The kernel's parent-death signal** (``PR_SET_PDEATHSIG``, set between fork and exec): when
  gridwatch cannot clean up (SIGKILL, the OOM killer, a crash), the kernel sends the child
  ``PDEATHSIG``. Linux sends it when the *thread* that forked exits, not the process, so
  ``spawn`` refuses to run outside the main thread (which lives as long as the process).

Temporary folders are named ``gridwatch-<kind>-<pid>-<random>``; the first ``temp_prefix`` call
in a process removes such folders of this user whose process is gone (a killed run's leftovers).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

# SIGTERM, not SIGKILL: every program we start exits on it within a second or two, and closes
# what it holds (Prometheus its TSDB, Grafana its plugin processes) on the way out.
PDEATHSIG = signal.SIGTERM
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
STOP_TIMEOUT = 10.0  # seconds a child has to exit on SIGTERM before it gets SIGKILL


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
    prctl.restype = ctypes.c_int
    found: Callable[..., int] = prctl
    return found


# Looked up once here: the child between fork and exec must not import or load anything.
_prctl = _load_prctl()


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get ``PDEATHSIG`` when this process dies; None
    where the kernel has no such thing (not Linux). Call it in the thread that will fork."""
    if _prctl is None:
        return None
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError(
            "child processes are started from the main thread only: the kernel's parent-death "
            "signal fires when the forking thread exits"
        )
    parent = os.getpid()
    prctl = _prctl

    def preexec() -> None:
        # Runs in the child before exec: nothing here may take a lock another thread held.
        if prctl(_PR_SET_PDEATHSIG, PDEATHSIG, 0, 0, 0) != 0:
            os._exit(127)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(1)

    return preexec


def spawn(
    argv: Sequence[str],
    *,
    stdout: int | IO[Any] | None = subprocess.DEVNULL,
    stderr: int | IO[Any] | None = subprocess.STDOUT,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in its own session, ended by the kernel if this process dies first.
    ``stop`` ends it in the ordinary way."""
    return subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        cwd=cwd,
        env=env,
        start_new_session=True,
        preexec_fn=die_with_parent(),  # noqa: PLW1509 (it takes no lock, imports nothing)
    )


def stop(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM, then SIGKILL if it has not exited after ``timeout`` seconds; reaped either way."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s ignored SIGTERM for %.0f s; killing it", process.args, timeout)
            process.kill()
            process.wait()
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


# -- temporary folders ---------------------------------------------------------------------------

_TEMP_NAME = re.compile(r"gridwatch-[a-z]+-(?P<pid>\d+)-[a-z0-9_]+")
_swept = False


def temp_prefix(kind: str) -> str:
    """The ``prefix`` for ``tempfile.mkdtemp``/``TemporaryDirectory`` of a gridwatch folder:
    ``gridwatch-<kind>-<pid>-``. The first call in a process sweeps dead runs' folders."""
    if not kind.isalpha() or not kind.islower():
        raise ValueError(f"temporary folder kind must be lower-case letters, not {kind!r}")
    global _swept  # noqa: PLW0603 (once per process)
    if not _swept:
        _swept = True
        for path in sweep_temp_dirs():
            log.info("removed %s, left behind by a gridwatch that was killed", path)
    return f"gridwatch-{kind}-{os.getpid()}-"


def sweep_temp_dirs(root: Path | None = None) -> list[Path]:
    """Remove our temporary folders in ``root`` (the system's temporary folder) whose owner
    process is gone: only this user's, only directories, never one whose pid is alive."""
    folder = root or Path(tempfile.gettempdir())
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    uid = os.getuid()
    for entry in entries:
        match = _TEMP_NAME.fullmatch(entry.name)
        if match is None:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if info.st_uid != uid or not entry.is_dir(follow_symlinks=False):
            continue
        if _alive(int(match["pid"])):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(Path(entry.path))
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process now has that pid
        return True
    with contextlib.suppress(OSError):  # an unreaped child of ours: dead, only its entry remains
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True
