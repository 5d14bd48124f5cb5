"""The collector driver: sources run concurrently and a failing one never stops or hides the others."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
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
    from driftscan.model import SourceRun, fingerprint

    ctx = CollectContext(SourceRun("s", "aws"))
    ctx.add(Resource("k", "aws", "s", "a", "r", "T", "n",
                     tags={"db_password": "hunter2", "API-Key": "abc", "owner": "payments"}))  # fmt: skip
    assert ctx.run.resources[0].tags == {
        "db_password": fingerprint("hunter2"),
        "API-Key": fingerprint("abc"),
        "owner": "payments",
    }
