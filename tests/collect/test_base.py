"""The collector driver: sources run concurrently and a failing one never stops or hides the others."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest

from driftscan.collect import base
from driftscan.collect.base import CollectContext, run_sources
from driftscan.errors import SourceError
from driftscan.model import Resource


@dataclass(frozen=True)
class FakeSource:
    """Just enough of a source config for the driver: a name, a type and what to do."""

    name: str
    behaviour: str
    type: str = "fake"


class FakeCollector:
    """A collector whose behaviour the test chooses: ok, crash, source error, silent, slow."""

    started: ClassVar[list[float]] = []
    lock = threading.Lock()

    def __init__(self, config: Any) -> None:
        self.config = config

    def collect(self, ctx: CollectContext) -> None:
        with self.lock:
            self.started.append(time.monotonic())
        b = self.config.behaviour
        if b == "crash":
            raise RuntimeError("unexpected API shape")
        if b == "denied":
            raise SourceError("credentials rejected", source=self.config.name, reason="denied")
        if b == "silent":
            return  # records nothing: must not read as clean
        time.sleep(0.3 if b == "slow" else 0)
        ctx.add(Resource(f"fake://{self.config.name}", "aws", self.config.name, "a", "r", "T", "n"))
        ctx.slice_ok("all", resources=1)


@pytest.fixture(autouse=True)
def fake_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(base.REGISTRY, "fake", f"{__name__}:FakeCollector")
    FakeCollector.started.clear()


def test_failures_are_recorded_and_never_stop_the_others() -> None:
    """A crash, a source error and a silent collector each become a failed source; the good one is stored."""
    runs = {
        r.source: r
        for r in run_sources([FakeSource(n, n) for n in ("ok", "crash", "denied", "silent")])
    }
    assert runs["ok"].status == "ok" and len(runs["ok"].resources) == 1
    for name, reason in (("crash", "error"), ("denied", "denied"), ("silent", "error")):
        run = runs[name]
        assert run.status == "failed", name
        [s] = run.slices
        assert s.status == "failed" and s.reason == reason, (name, s)
    assert "unexpected API shape" in (runs["crash"].slices[0].detail or "")


def test_sources_run_concurrently() -> None:
    """Slow sources overlap instead of running one after another."""
    start = time.monotonic()
    runs = run_sources([FakeSource(f"s{i}", "slow") for i in range(4)])
    assert all(r.status == "ok" for r in runs)
    assert time.monotonic() - start < 0.3 * 4 * 0.75
    assert max(FakeCollector.started) - min(FakeCollector.started) < 0.3


def test_secret_looking_tags_are_fingerprinted() -> None:
    """A tag such as db_password is stored as a fingerprint, other tags as they are."""
    from driftscan.model import SourceRun
    from tests.conftest import TEST_FP as fingerprint

    ctx = CollectContext(SourceRun("s", "aws"), fingerprint=fingerprint)
    ctx.add(Resource("k", "aws", "s", "a", "r", "T", "n",
                     tags={"db_password": "hunter2", "API-Key": "abc", "owner": "payments"}))  # fmt: skip
    assert ctx.run.resources[0].tags == {
        "db_password": fingerprint("hunter2"),
        "API-Key": fingerprint("abc"),
        "owner": "payments",
    }


class CountingCollector:
    """A collector that records how many of its kind are collecting at the same moment."""

    active = 0
    peak = 0
    lock = threading.Lock()

    def __init__(self, config: Any) -> None:
        self.config = config

    def collect(self, ctx: CollectContext) -> None:
        cls = CountingCollector
        with cls.lock:
            cls.active += 1
            cls.peak = max(cls.peak, cls.active)
        time.sleep(0.005)
        with cls.lock:
            cls.active -= 1
        ctx.slice_ok("all")


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> type[CountingCollector]:
    monkeypatch.setitem(base.REGISTRY, "counting", f"{__name__}:CountingCollector")
    monkeypatch.setitem(base.REGISTRY, "ssh", f"{__name__}:CountingCollector")
    CountingCollector.active = CountingCollector.peak = 0
    return CountingCollector


def test_a_bounded_pool_runs_at_most_concurrency_sources(
    counting: type[CountingCollector],
) -> None:
    """With 200 sources and concurrency 4, no more than 4 collectors run at once and runs keep config order."""
    configs = [FakeSource(f"s{i:03d}", "ok", type="counting") for i in range(200)]
    runs = run_sources(configs, concurrency=4)
    assert [r.source for r in runs] == [c.name for c in configs]
    assert all(r.status == "ok" for r in runs)
    assert 1 < counting.peak <= 4


def test_the_top_level_concurrency_key_bounds_the_scan(
    counting: type[CountingCollector], tmp_path: Path
) -> None:
    """`concurrency:` in driftscan.yaml is the bound the pipeline collects with; the default is 32."""
    from driftscan import pipeline
    from driftscan.config import validate_config

    sources = [
        {"name": f"dc{i}", "type": "ssh", "user": "u", "known_hosts": "kh"} for i in range(40)
    ]
    assert validate_config({"sources": sources}, {}, "c.yaml", tmp_path).concurrency == 32
    cfg = validate_config({"sources": sources, "concurrency": 3}, {}, "c.yaml", tmp_path)
    runs = pipeline.collect(cfg)
    assert len(runs) == 40 and 1 < counting.peak <= 3
