"""Bounded reads of the files a user points driftscan at: regular files only, never too large."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

# A config, rule, framework catalogue, declared-state or manifest file. The largest real ones
# are a few MB; /dev/zero, or a symlink to it in a rule folder, must not fill memory.
MAX_INPUT_BYTES = 64 * 2**20

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)


class NotReadable(ValueError):
    """The file exists but is not one driftscan reads: not a regular file, or too large."""


def too_large(size: int, limit: int) -> str:
    return f"is {size:,} bytes, more than the {limit:,} bytes driftscan reads from one file"


@contextmanager
def open_regular(path: str | Path, limit: int) -> Iterator[BinaryIO]:
    """The open regular file at `path` (OSError if absent or unreadable; NotReadable if it
    is a folder, pipe, device or socket, or larger than `limit` bytes)."""
    # O_NONBLOCK: opening a named pipe put in place of a file must not wait for a writer.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        # Checked before fdopen, which refuses a folder with an error naming the descriptor.
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = next((name for test, name in _KINDS if test(st.st_mode)), "special")
            raise NotReadable(f"is {kind}, not a regular file")
        if st.st_size > limit:
            raise NotReadable(too_large(st.st_size, limit))
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as fh:
        yield fh


def files_below(root: Path, suffixes: tuple[str, ...] = (".yaml", ".yml")) -> list[Path]:
    """Every entry with one of `suffixes` (in any case) below the folder `root`, sorted; all
    but folders, so that a device or pipe put there is refused when read, never skipped."""
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in suffixes and not p.is_dir())


def read_bounded(path: str | Path, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them (see open_regular)."""
    with open_regular(path, limit) as fh:
        raw = fh.read(limit + 1)
    if len(raw) > limit:  # it grew while being read
        raise NotReadable(too_large(len(raw), limit))
    return raw


def parse_json(text: str | bytes) -> Any:
    """json.loads, where nesting too deep for the parser (RecursionError) is a ValueError like
    any other malformed JSON: a hostile `[[[[...` in a manifest is named, not a crash."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def read_json(path: str | Path, limit: int = MAX_INPUT_BYTES) -> Any:
    """The JSON document in the regular file at `path` (read_bounded, then parse_json)."""
    return parse_json(read_bounded(path, limit))


def read_text(path: str | Path, limit: int = MAX_INPUT_BYTES) -> str:
    """read_bounded, decoded as UTF-8 (UnicodeDecodeError otherwise)."""
    return read_bounded(path, limit).decode("utf-8")
