"""The driftscan exception tree and the exit codes; every error carries its context as attributes.

    DriftscanError                              → exit 70 (internal)
     ├─ ConfigError          file, line, key    → exit 2
     ├─ SourceError          source, slice, reason (denied | throttled | unreachable | timeout |
     │                       parse | hostkey | unsupported | error); never escapes a collector run
     ├─ StoreError           no such scan, bad query, unreadable store → exit 2
     │   ├─ NoStore          nothing scanned yet → exit 2
     │   ├─ LockHeld         another run holds the store's lock → exit 4
     │   └─ StoreWriteError  path, reason: disk full or failing while writing → exit 74
     ├─ RuleError            file, line         → exit 2
     │   └─ RuleQueryError   line within the SQL: a rule's query failed to prepare or run
     └─ ReportError          rendering, signing or verifying a report failed → exit 5
         ├─ ReportWriteError path, reason: disk full or failing while writing → exit 74
         └─ ReportPathError  path, reason: not a directory, read-only, permission denied,
                             not a report folder → exit 2

A SourceError never escapes a collector run: the collector driver turns it into a
not-assessed slice in the scan ledger. A RuleQueryError while checking becomes that rule's
`error` finding; the other rules go on.
"""

from __future__ import annotations

import errno
import os
from enum import IntEnum
from typing import Literal


class ExitCode(IntEnum):
    """Every exit code driftscan uses (design §3.3), in one place."""

    OK = 0  # complete and clean
    FINDINGS = 1  # drift or failing controls
    USAGE = 2  # usage or configuration error
    INCOMPLETE = 3  # a source or control could not be assessed (takes precedence over 1)
    LOCKED = 4  # another run holds the store's lock
    REPORT = 5  # the scan and its findings are stored; the evidence report could not be made
    INTERNAL = 70  # a bug: the traceback is printed
    IOERR = 74  # sysexits' EX_IOERR: the disk refused a write driftscan had to make


Reason = Literal[
    "denied", "throttled", "unreachable", "timeout", "parse", "hostkey", "unsupported", "error"
]
REASONS: tuple[str, ...] = (
    "denied",
    "throttled",
    "unreachable",
    "timeout",
    "parse",
    "hostkey",
    "unsupported",  # the endpoint does not implement the API (an emulator, a partition)
    "error",
)


class DriftscanError(Exception):
    """Base of every error driftscan raises on purpose."""

    exit_code: int = ExitCode.INTERNAL


class ConfigError(DriftscanError):
    """A configuration, desired-state or input file is missing or invalid."""

    exit_code = ExitCode.USAGE

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
        # The other errors found in the same file, each with its own line and key: a file is
        # checked whole, so that one edit can fix every mistake in it.
        self.others: list[ConfigError] = []
        super().__init__(self._one())

    def _one(self) -> str:
        where = self.file or ""
        if self.line is not None:
            where += f":{self.line}"
        parts = [p for p in (where, f"key '{self.key}'" if self.key else "") if p]
        return f"{', '.join(parts)}: {self.message}" if parts else self.message

    def __str__(self) -> str:
        """This error and every other one, one line each."""
        return "\n".join([self._one(), *(o._one() for o in self.others)])


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

    exit_code = ExitCode.USAGE


class NoStore(StoreError):
    """The store file does not exist yet (nothing has been scanned)."""

    exit_code = ExitCode.USAGE


class LockHeld(StoreError):
    """Another driftscan process holds the store's lock."""

    exit_code = ExitCode.LOCKED


_DISK_ERRNOS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EIO: "input/output error",
}


def disk_failure(exc: BaseException) -> str | None:
    """The reason ("no space left on device", "disk quota exceeded", "input/output error")
    when `exc` is the disk refusing a write, as an OSError or as a library's message quoting
    strerror; else None."""
    if isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS:
        return _DISK_ERRNOS[exc.errno]
    text = str(exc).lower()
    for code, reason in _DISK_ERRNOS.items():
        if os.strerror(code).lower() in text:
            return reason
    return None


class StoreWriteError(StoreError):
    """The store could not be written: the disk is full, over quota or failing.

    The scan (or findings, drift) being written is rolled back; earlier scans are intact.
    """

    exit_code = ExitCode.IOERR

    def __init__(self, path: str, reason: str, *, detail: str = "") -> None:
        self.path = path
        self.reason = reason
        self.detail = detail
        where = f" ({detail})" if detail else ""
        super().__init__(
            f"{path}: the store could not be written: {reason}{where}; nothing of this write "
            "was recorded, earlier scans are intact"
        )


class RuleError(DriftscanError):
    """A rule file is invalid or its SQL does not prepare against the store's views."""

    exit_code = ExitCode.USAGE

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.file and self.line else (self.file or "")
        return f"{where}: {self.message}" if where else self.message


class RuleQueryError(RuleError):
    """A rule's SQL failed to prepare or run; `line` is the line within the SQL, when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message, line=line)


class ReportError(DriftscanError):
    """A report could not be rendered, signed or verified (the scan itself is stored)."""

    exit_code = ExitCode.REPORT


class ReportWriteError(ReportError):
    """A report folder could not be written: the disk is full, over quota or failing.

    Nothing of the new report is left behind; earlier reports and the ledger are intact.
    """

    exit_code = ExitCode.IOERR

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(
            f"{path}: the report could not be written: {reason}; no report folder was added"
        )


class ReportPathError(ReportError):
    """A reports folder that cannot be used as one: not a directory, read-only or not
    writable for this user; or, to verify, a folder that is not a report. The user's to fix
    (exit 2), found before anything is written."""

    exit_code = ExitCode.USAGE

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")
