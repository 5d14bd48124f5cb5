"""Shards: which work units (a host, an account, a subscription) the K-th of N workers reads."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from driftscan import providers
from driftscan.errors import ConfigError
from driftscan.providers import WorkUnit

# Who reads a source its provider cannot split: the whole source is this one unit.
WHOLE = "*"
MAX_SHARDS = 10_000


@dataclass(frozen=True, slots=True)
class Shard:
    """The K-th (1-based) of N parts of the work."""

    k: int
    n: int

    def __str__(self) -> str:
        return f"{self.k}/{self.n}"


ONE = Shard(1, 1)


def parse_shard(text: str) -> Shard:
    """`K/N` with 1 <= K <= N; anything else is a usage error naming the option."""
    m = re.fullmatch(r"\s*(\d{1,6})\s*/\s*(\d{1,6})\s*", text)
    if not m:
        raise ConfigError(f"--shard '{text}': expected K/N, e.g. 2/8", key="--shard")
    k, n = int(m[1]), int(m[2])
    if not 1 <= k <= n <= MAX_SHARDS:
        raise ConfigError(
            f"--shard '{text}': K must be between 1 and N, N at most {MAX_SHARDS}", key="--shard"
        )
    return Shard(k, n)


def unit_shard(source: str, unit: str, n: int) -> int:
    """The shard (1..n) that reads `unit` of `source`: a hash of the two names, so it does
    not move when the config's sources or hosts are reordered, or others are added."""
    h = hashlib.sha256(f"{source}\0{unit}".encode()).digest()
    return int.from_bytes(h[:8], "big") % n + 1


def units_of(src: Any) -> list[WorkUnit]:
    """A source's work units, asked of its provider; one whole unit if it cannot split."""
    p = providers.get(src.type)
    got = p.units(src) if p.units is not None and p.narrow is not None else []
    return got or [WorkUnit(WHOLE)]


@dataclass
class ShardPlan:
    """The sources a shard reads (each narrowed to its units) and the unit ids it owns."""

    sources: list[Any]
    units: list[str]  # "<source>:<unit>"


def unit_label(source: str, unit: str) -> str:
    return f"{source}:{unit}"


def plan_shard(sources: Sequence[Any], shard: Shard) -> ShardPlan:
    """What shard K/N reads of `sources`: every unit that hashes to K, each source narrowed
    to its units (unchanged when it has all of them, left out when it has none)."""
    out = ShardPlan([], [])
    for src in sources:
        units = units_of(src)
        mine = [u for u in units if unit_shard(src.name, u.id, shard.n) == shard.k]
        if not mine:
            continue
        out.units += [unit_label(src.name, u.id) for u in mine]
        if len(mine) == len(units):
            out.sources.append(src)
        else:
            narrow = providers.get(src.type).narrow
            assert narrow is not None  # units_of splits only sources it can narrow
            out.sources.append(narrow(src, [u.id for u in mine]))
    return out


def default_run_id(config_hash: str, now: datetime | None = None) -> str:
    """The run id every worker of tonight's run derives alike: UTC date + the config's hash."""
    day = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%d")
    return f"{day}-{(config_hash or 'noconfig')[:12]}"
