"""Child processes that never outlive the process that started them.

Every process rea starts (restate-server, app servers) runs in its own process group so that
teardown reaches its children too. Three layers make sure nothing is left behind: an explicit
`terminate`, an `atexit` sweep of the groups still registered, and on Linux a parent-death
signal so that even a SIGKILL of the parent takes the children down.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

_live_groups: set[int] = set()
_lock = threading.Lock()

_PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[[int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None
    prctl: Callable[[int, int], int] = libc.prctl
    return prctl


# Resolved before any fork: the child must not load libraries between fork and exec.
_prctl = _load_prctl()


def _die_with_parent() -> None:
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def spawn(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    log: IO[Any] | None = None,
    pass_fds: Sequence[int] = (),
    cwd: str | Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start `argv` in a new process group that is torn down with this process."""
    # The parent-death signal fires when the *thread* that forked exits, so it is only safe
    # from the main thread; elsewhere the atexit sweep and explicit teardown remain.
    preexec = _die_with_parent if threading.current_thread() is threading.main_thread() else None
    proc = subprocess.Popen(
        list(argv),
        env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL,
        stdout=log if log is not None else subprocess.DEVNULL,
        stderr=subprocess.STDOUT if log is not None else subprocess.DEVNULL,
        start_new_session=True,
        pass_fds=tuple(pass_fds),
        cwd=cwd,
        preexec_fn=preexec,
    )
    with _lock:
        _live_groups.add(proc.pid)
    return proc


def terminate(proc: subprocess.Popen[bytes], *, timeout: float = 5.0) -> None:
    """Stop the process group of `proc`: SIGTERM, then SIGKILL after `timeout` seconds."""
    if proc.poll() is None:
        _signal_group(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout)
    # Children of the group leader may survive it; make sure the whole group is gone.
    _signal_group(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout)
    with _lock:
        _live_groups.discard(proc.pid)


def kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process group of `proc` at once, as a crash would."""
    _signal_group(proc.pid, signal.SIGKILL)
    proc.wait()
    with _lock:
        _live_groups.discard(proc.pid)


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


@atexit.register
def _sweep() -> None:
    with _lock:
        groups = list(_live_groups)
        _live_groups.clear()
    for pgid in groups:
        _signal_group(pgid, signal.SIGTERM)
    if groups:
        time.sleep(0.2)
    for pgid in groups:
        _signal_group(pgid, signal.SIGKILL)
