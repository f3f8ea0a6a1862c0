"""CPU time of a process from /proc (Linux): steadier than wall time on a shared machine."""

from __future__ import annotations

import os


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds used so far by process `pid` (0.0 if unknown)."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    # After the command name: state is field 3, utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / ticks
