"""The heads file beside a store (`<store>.heads`): every chain head it committed, outside DuckDB.

One JSON line per commit that moved a head, appended and never rewritten:

    {"scan": 7, "chain_hash": "…", "results_seq": 12, "results_head": "…"}

`scan`/`chain_hash` is the newest ledger row, `results_seq`/`results_head` the newest seal of
the result chain. The store's own links cannot show its newest scans or seals deleted (the
rows that would point at them are gone too); this file still names them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from driftscan.model import canonical_json

SUFFIX = ".heads"


@dataclass(frozen=True)
class Head:
    """The store's two chain heads after one commit."""

    scan_id: int
    chain_hash: str
    results_seq: int
    results_head: str


def heads_path(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + SUFFIX)


def append_head(path: Path, head: Head) -> None:
    """Append one line with O_APPEND (never a rewrite) and flush it to disk."""
    line = canonical_json(
        {"scan": head.scan_id, "chain_hash": head.chain_hash,
         "results_seq": head.results_seq, "results_head": head.results_head}
    )  # fmt: skip
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def read_heads(path: Path) -> list[tuple[int, Head | None]]:
    """(line number, head) for every line; None where a line is not a head."""
    out: list[tuple[int, Head | None]] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            head: Head | None = Head(
                int(d["scan"]), str(d["chain_hash"]), int(d["results_seq"]), str(d["results_head"])
            )
        except (ValueError, KeyError, TypeError):
            head = None
        out.append((n, head))
    return out


def last_head(path: Path) -> Head | None:
    """The newest head recorded in the file, or None."""
    try:
        heads = [h for _, h in read_heads(path) if h is not None]
    except (OSError, UnicodeDecodeError):
        return None
    return heads[-1] if heads else None


def check_heads(
    path: Path, scans: dict[int, str], seals: dict[int, tuple[int, str, str]], *, expected: bool
) -> list[str]:
    """Compare the store's ledger (`scans`: id → chain hash) and result chain (`seals`:
    seq → (scan id, kind, link)) with every head recorded in `path`.

    `expected` says whether the store has rows written since heads were recorded, so that a
    missing file is itself a problem.
    """
    if not path.is_file():
        if expected and (scans or seals):
            return [f"{path}: missing; it records every chain head of this store (deleted?)"]
        return []
    try:
        lines = read_heads(path)
    except (OSError, UnicodeDecodeError) as exc:
        return [f"{path}: unreadable ({exc})"]
    problems: list[str] = []
    named: set[str] = set()

    def once(msg: str) -> None:
        if msg not in named:
            named.add(msg)
            problems.append(msg)

    top_scan, top_seq = 0, 0
    for n, head in lines:
        if head is None:
            once(f"{path}:{n}: not a chain head (the file was edited)")
            continue
        top_scan, top_seq = max(top_scan, head.scan_id), max(top_seq, head.results_seq)
        if head.scan_id:
            have = scans.get(head.scan_id)
            if have is None:
                once(
                    f"scan {head.scan_id} recorded in {path} is missing from the store "
                    "(newest scans deleted?)"
                )
            elif have != head.chain_hash:
                once(
                    f"scan {head.scan_id}: chain hash differs from the one recorded in {path} "
                    "(history rewritten?)"
                )
        if head.results_seq:
            seal = seals.get(head.results_seq)
            if seal is None:
                once(
                    f"result seal {head.results_seq} recorded in {path} is missing from the "
                    "store (findings, drift or report seals deleted?)"
                )
            elif seal[2] != head.results_head:
                once(
                    f"result seal {head.results_seq} (scan {seal[0]} {seal[1]}) differs from the "
                    f"one recorded in {path} (results rewritten?)"
                )
    newest = max(scans, default=0)
    if newest > top_scan and expected:
        once(
            f"scan {newest} is not recorded in {path} (its head was not written, or the file "
            "was cut short)"
        )
    newest_seq = max(seals, default=0)
    if newest_seq > top_seq and expected:
        sid, kind, _ = seals[newest_seq]
        once(
            f"result seal {newest_seq} (scan {sid} {kind}) is not recorded in {path} (its head "
            "was not written, or the file was cut short)"
        )
    return problems
