"""The collectors' pacing: token buckets per API family, and the bounded, ordered fan-out."""

from __future__ import annotations

import threading
import time

import pytest

from driftscan.collect import limits
from driftscan.collect.limits import ApiLimits, Limiter, RateLimit, TokenBucket, bounded_map
from driftscan.errors import SourceError


class Clock:
    """A clock the bucket reads; `sleep` is real but the refill is driven by `now`."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_grants_the_burst_then_paces_at_the_refill_rate() -> None:
    """A bucket of 3 refilling at 50/s grants 3 at once, then one per 20 ms of clock."""
    clock = Clock()
    bucket = TokenBucket(RateLimit(3, 50), clock)
    for _ in range(3):
        bucket.take()
    assert bucket.waited_s == 0.0
    got = threading.Event()

    def take() -> None:
        bucket.take()
        got.set()

    t = threading.Thread(target=take)
    t.start()
    assert not got.wait(0.1)  # empty: the taker waits while the clock stands still
    clock.now += 0.02  # one token's worth of refill
    assert got.wait(2)
    t.join()
    assert bucket.waited_s > 0


def test_bucket_never_holds_more_than_its_burst() -> None:
    """Idle time refills up to the burst, not beyond: after a long pause, burst then wait."""
    clock = Clock()
    bucket = TokenBucket(RateLimit(2, 100), clock)
    clock.now += 3600
    bucket.take()
    bucket.take()
    assert bucket.waited_s == 0.0
    done = threading.Event()
    threading.Thread(target=lambda: (bucket.take(), done.set()), daemon=True).start()
    assert not done.wait(0.1)
    clock.now += 0.01
    assert done.wait(2)


def test_rate_limit_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="burst"):
        RateLimit(0, 10)
    with pytest.raises(ValueError, match="per_s"):
        RateLimit(10, 0)


def test_limiter_keeps_one_bucket_per_scope_api_and_family() -> None:
    """Describe* calls share one bucket per account/region; other operations are not paced."""
    limits = ApiLimits({"Describe*": RateLimit(100, 20), "GetThing": RateLimit(5, 5)})
    limiter = Limiter()
    for op in ("DescribeInstances", "DescribeVolumes", "GetThing", "ModifyNothing"):
        limiter.take("1/eu-west-1", "ec2", op, limits)
    limiter.take("1/us-east-1", "ec2", "DescribeInstances", limits)
    limiter.take("1/us-east-1", "ec2", "DescribeInstances", None)
    eu = limiter.bucket(("1/eu-west-1", "ec2", "Describe*"), RateLimit(1, 1))
    us = limiter.bucket(("1/us-east-1", "ec2", "Describe*"), RateLimit(1, 1))
    assert eu.limit == RateLimit(100, 20)  # made by the first take, not by this lookup
    assert round(eu._tokens) == 98 and round(us._tokens) == 99
    assert limits.family("ModifyNothing") is None


def test_bounded_map_keeps_order_and_bound() -> None:
    """Results come back in input order with at most `workers` calls running at once."""
    running = 0
    peak = 0
    lock = threading.Lock()

    def work(i: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.01 * (i % 3))
        with lock:
            running -= 1
        return i * i

    assert list(bounded_map(work, range(40), 4)) == [i * i for i in range(40)]
    assert 2 <= peak <= 4


def test_bounded_map_streams_its_input() -> None:
    """A long input is not drained ahead: at most 2 × workers items are taken before the first
    result is handed back."""
    taken = 0

    def items():  # type: ignore[no-untyped-def]
        nonlocal taken
        for i in range(10_000):
            taken += 1
            yield i

    it = bounded_map(lambda i: i, items(), 3)
    assert next(it) == 0
    assert taken <= 7
    it.close()


def test_bounded_map_raises_at_the_failing_item() -> None:
    """An exception surfaces at its item's place, after the results before it."""

    def work(i: int) -> int:
        if i == 5:
            raise KeyError("five")
        return i

    seen = []
    with pytest.raises(KeyError, match="five"):
        for r in bounded_map(work, range(100), 4):
            seen.append(r)
    assert seen == [0, 1, 2, 3, 4]


def test_a_page_chain_refuses_a_loop_and_a_chain_past_its_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tokens are followed until one comes back (a loop) or the pages would pass MAX_PAGES;
    the error is the provider's own, from the message."""
    chain = limits.PageChain("ListThings: NextToken")
    assert [chain.follow(t) for t in ("a", "b")] == ["a", "b"]
    with pytest.raises(SourceError, match="NextToken returns to a page already read") as loop:
        chain.follow("a")
    assert loop.value.reason == "parse"
    monkeypatch.setattr(limits, "MAX_PAGES", 3)

    class ListFailure(SourceError):
        pass

    mine = limits.PageChain("GET /x: continue", lambda m: ListFailure(m, reason="parse"))
    mine.follow("p2")
    mine.follow("p3")  # the first page, then two followed: three pages
    with pytest.raises(ListFailure, match="more than 3 pages"):
        mine.follow("p4")
