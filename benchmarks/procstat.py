"""Readings of another running process that the benchmarks share (Linux /proc)."""

from __future__ import annotations

import os
from pathlib import Path


def cpu_s(pid: int | None) -> float | None:
    """CPU seconds (user + system) the process has used so far; None if it cannot be read."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
