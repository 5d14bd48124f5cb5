"""Pacing and bounds for every collector: token buckets per API family, a bounded fan-out, page chains."""

from __future__ import annotations

import fnmatch
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from driftscan.errors import SourceError

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class RateLimit:
    """A provider's published request limit as a token bucket: `burst` requests at once, then
    `per_s` a second (EC2's Describe* calls: 100 and 20)."""

    burst: int
    per_s: float

    def __post_init__(self) -> None:
        if self.burst < 1 or self.per_s <= 0:
            raise ValueError(f"a rate limit needs burst >= 1 and per_s > 0, not {self}")


class TokenBucket:
    """A thread-safe token bucket; `take` blocks until a request may be sent."""

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._tokens = float(limit.burst)
        self._at = clock()
        self._lock = threading.Lock()
        self.waited_s = 0.0  # total time callers spent waiting for a token
        self.taken = 0

    def take(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(
                    float(self.limit.burst), self._tokens + (now - self._at) * self.limit.per_s
                )
                self._at = now
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    self.taken += 1
                    return
                wait = (1.0 - self._tokens) / self.limit.per_s
                self.waited_s += wait
            time.sleep(wait)


@dataclass(frozen=True)
class ApiLimits:
    """The published limits of one API (a client), by operation-name pattern, first match wins.

    Each pattern is one API *family* sharing a bucket, e.g. `{"Describe*": RateLimit(100, 20)}`
    for EC2's non-mutating calls. Operations matching no pattern are not paced.
    """

    families: Mapping[str, RateLimit]

    def family(self, operation: str) -> tuple[str, RateLimit] | None:
        for pattern, limit in self.families.items():
            if fnmatch.fnmatchcase(operation, pattern):
                return pattern, limit
        return None


class Limiter:
    """One token bucket per (scope, API, family), made on first use; shared by every source of
    a scan, since a provider counts requests per account and region, not per driftscan source."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, ...], TokenBucket] = {}
        self._lock = threading.Lock()

    def bucket(self, key: tuple[str, ...], limit: RateLimit) -> TokenBucket:
        with self._lock:
            b = self._buckets.get(key)
            if b is None:
                b = self._buckets[key] = TokenBucket(limit)
            return b

    def take(self, scope: str, api: str, operation: str, limits: ApiLimits | None) -> None:
        """Wait for a token for `operation` of `api` in `scope` (e.g. account/region)."""
        found = limits.family(operation) if limits is not None else None
        if found is not None:
            pattern, limit = found
            self.bucket((scope, api, pattern), limit).take()


def bounded_map(fn: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """`fn` over `items` with at most `workers` calls in flight, results in input order.

    Streamed: at most 2 × `workers` items are pending at once, so a long listing never turns
    into a million queued futures. An exception from `fn` is raised at its item's place; the
    items queued behind it that have not started are cancelled.
    """
    if workers <= 1:
        yield from map(fn, items)
        return
    pending: deque[Future[R]] = deque()
    with ThreadPoolExecutor(workers, thread_name_prefix="fanout") as pool:
        try:
            for item in items:
                pending.append(pool.submit(fn, item))
                if len(pending) >= 2 * workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for f in pending:
                f.cancel()


MAX_PAGES = 100_000
"""Pages one listing may take (100M items at 1,000 a page): a chain of page tokens past it, or
one that comes back to a page already read, is a payload that would never end."""


class PageChain:
    """The next-page tokens (or links) one listing has followed. `follow` refuses a token already
    followed (a loop) and a page past MAX_PAGES (a chain that never ends), raising `error` of
    the message: the provider's own SourceError, with reason "parse"."""

    def __init__(
        self,
        what: str,
        error: Callable[[str], SourceError] = lambda m: SourceError(m, reason="parse"),
    ) -> None:
        self.what = what
        self._error = error
        self._followed: set[str] = set()

    def follow(self, token: str) -> str:
        if token in self._followed:
            raise self._error(f"{self.what} returns to a page already read")
        if len(self._followed) + 1 >= MAX_PAGES:  # the first page came without a token
            raise self._error(f"{self.what}: more than {MAX_PAGES:,} pages; not read")
        self._followed.add(token)
        return token


__all__ = [
    "MAX_PAGES",
    "ApiLimits",
    "Limiter",
    "PageChain",
    "RateLimit",
    "TokenBucket",
    "bounded_map",
]
