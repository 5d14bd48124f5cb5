"""The JSON-lines event log of a run, with a short human line on stderr unless quiet."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from driftscan.redaction import redact_url_credentials


class RunLog:
    """JSON-lines events to a log file, and a short human line to stderr unless quiet."""

    def __init__(
        self, path: Path | None = None, *, quiet: bool = False, echo: IO[str] | None = None
    ) -> None:
        self._file = open(path, "a", encoding="utf-8") if path else None  # noqa: SIM115 - closed in close()
        self._echo = None if quiet else (echo or sys.stderr)

    def event(self, event: str, level: str = "info", **fields: Any) -> None:
        record = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": level,
            "event": event,
            **fields,
        }
        # An event's error text may quote a configured endpoint with its credentials (a
        # failed run's exception, an anchor's S3 endpoint): masked in the lines as written.
        if self._file is not None:
            line = json.dumps(record, sort_keys=True, default=str)
            self._file.write(redact_url_credentials(line) + "\n")
            self._file.flush()
        if self._echo is not None:
            detail = " ".join(
                f"{k}={v}" for k, v in fields.items() if not isinstance(v, dict | list)
            )
            self._echo.write(redact_url_credentials(f"{level:5} {event} {detail}") + "\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
