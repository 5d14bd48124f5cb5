"""The driftscan exception tree; every error carries its context as attributes.

    DriftscanError
     ├─ ConfigError          file, line, key  → exit 2
     ├─ SourceError          source, slice, reason (denied | throttled | unreachable | timeout | parse)
     ├─ StoreError           no such scan, bad query, unreadable store → exit 2
     │   ├─ NoStore          nothing scanned yet → exit 2
     │   └─ LockHeld         another run holds the store's lock → exit 4
     ├─ RuleError            file, line  → exit 2
     └─ ReportError

A SourceError never escapes a collector run: the collector driver turns it into a
not-assessed slice in the scan ledger.
"""

from __future__ import annotations

from typing import Literal

Reason = Literal["denied", "throttled", "unreachable", "timeout", "parse", "hostkey", "error"]
REASONS: tuple[str, ...] = (
    "denied",
    "throttled",
    "unreachable",
    "timeout",
    "parse",
    "hostkey",
    "error",
)


class DriftscanError(Exception):
    """Base of every error driftscan raises on purpose."""

    exit_code = 70


class ConfigError(DriftscanError):
    """A configuration, desired-state or input file is missing or invalid."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        key: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.key = key
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file or ""
        if self.line is not None:
            where += f":{self.line}"
        parts = [p for p in (where, f"key '{self.key}'" if self.key else "") if p]
        return f"{', '.join(parts)}: {self.message}" if parts else self.message


class SourceError(DriftscanError):
    """A source, or one slice of it (region × service, subscription, host), could not be read."""

    def __init__(
        self, message: str, *, source: str = "", slice: str = "", reason: Reason = "error"
    ) -> None:
        self.message = message
        self.source = source
        self.slice = slice
        self.reason: Reason = reason
        super().__init__(message)


class StoreError(DriftscanError):
    """The store could not be opened, read or written, or holds no such scan; bad query SQL."""

    exit_code = 2


class NoStore(StoreError):
    """The store file does not exist yet (nothing has been scanned)."""

    exit_code = 2


class LockHeld(StoreError):
    """Another driftscan process holds the store's lock."""

    exit_code = 4


class RuleError(DriftscanError):
    """A rule file is invalid or its SQL does not prepare against the store's views."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.file and self.line else (self.file or "")
        return f"{where}: {self.message}" if where else self.message


class ReportError(DriftscanError):
    """A report could not be rendered or verified."""
