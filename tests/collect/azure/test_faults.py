"""Throttling, server errors, denial, timeouts and malformed payloads: recorded, never read as empty."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

from driftscan.collect.base import CollectContext, run_source
from driftscan.model import SourceRun
from driftscan.providers.azure import AzureSource
from driftscan.providers.azure.collect import AzureCollector, Tuning
from driftscan.sandbox.arm import SUB_DEV, SUB_PROD, ArmEmulator, resource_id

SourceFactory = Callable[..., AzureSource]

STORAGE_ID = resource_id(SUB_PROD, "rg-data", "Microsoft.Storage/storageAccounts", "acmeeuarchive")
VAULT_ID = resource_id(SUB_PROD, "rg-data", "Microsoft.KeyVault/vaults", "acme-prod-kv")


def slices(run: SourceRun) -> dict[str, tuple[str, str | None]]:
    return {s.name: (s.status, s.reason) for s in run.slices}


def test_429_with_retry_after_is_waited_out_and_recovers(
    arm: ArmEmulator, source: SourceFactory
) -> None:
    """A 429 with Retry-After: 1 is retried after at least that long, and the scan is complete."""
    fault = arm.throttle(match=f"/subscriptions/{SUB_PROD}/resources\\?", count=1, retry_after=1)
    start = time.monotonic()
    run = run_source(source(subscriptions=[SUB_PROD]))
    assert time.monotonic() - start >= 1.0
    assert fault.hits == 1 and run.status == "ok"
    assert (
        sum(1 for r in run.resources if r.account == SUB_PROD) == 28
    )  # 16 resources, 3 groups, the subscription and its 8 settings


def test_429_exhausted_is_throttled_and_other_subscription_stored(
    arm: ArmEmulator, source: SourceFactory
) -> None:
    """Throttling that never ends fails that subscription as throttled; the other one is still stored."""
    arm.throttle(match=f"/subscriptions/{SUB_DEV}", count=None, retry_after=0.01)
    run = run_source(source(subscriptions=[SUB_PROD, SUB_DEV], max_attempts=3))
    assert run.status == "partial"
    assert slices(run) == {SUB_PROD: ("ok", None), SUB_DEV: ("failed", "throttled")}
    assert {r.account for r in run.resources} == {SUB_PROD}


def test_a_retry_after_beyond_the_cap_gives_up_at_once(
    arm: ArmEmulator, source: SourceFactory
) -> None:
    """A Retry-After of an hour is not slept through: the slice is throttled straight away."""
    fault = arm.throttle(match=f"/subscriptions/{SUB_DEV}", count=None, retry_after=3600)
    start = time.monotonic()
    run = run_source(source(subscriptions=[SUB_DEV]))
    assert time.monotonic() - start < 5 and fault.hits == 1
    assert slices(run) == {SUB_DEV: ("failed", "throttled")}


def test_5xx_is_retried_with_backoff_and_recovers(arm: ArmEmulator, source: SourceFactory) -> None:
    """Transient 503s on a list page and a 500 on an app-settings read are retried to success."""
    pages = arm.add_fault(
        status=503,
        match=f"/subscriptions/{SUB_PROD}/resources\\?",
        count=2,
        code="ServiceUnavailable",
    )
    post = arm.add_fault(status=500, method="POST", match="appsettings/list", count=1)
    run = run_source(source())
    assert (pages.hits, post.hits) == (2, 1)
    assert run.status == "ok" and len(run.resources) == 45


@pytest.mark.parametrize(
    ("status", "reason"), [(500, "error"), (503, "unreachable"), (504, "timeout")]
)
def test_5xx_exhausted_fails_the_slice(
    arm: ArmEmulator, source: SourceFactory, status: int, reason: str
) -> None:
    """Server errors that outlast the retries fail the subscription with a reason derived from the status."""
    arm.add_fault(status=status, match=f"/subscriptions/{SUB_DEV}/resources", count=None)
    run = run_source(source(subscriptions=[SUB_PROD, SUB_DEV], max_attempts=2))
    assert slices(run)[SUB_DEV] == ("failed", reason)
    assert run.status == "partial" and not any(r.account == SUB_DEV for r in run.resources)


def test_403_subscription_is_denied_and_the_other_is_stored(
    arm: ArmEmulator, source: SourceFactory
) -> None:
    """A subscription answering 403 is a failed 'denied' slice; the run is partial, the other subscription stored."""
    arm.deny(SUB_DEV)
    run = run_source(source(subscriptions=[SUB_PROD, SUB_DEV]))
    assert run.status == "partial" and run.reason == "denied"
    assert slices(run) == {SUB_PROD: ("ok", None), SUB_DEV: ("failed", "denied")}
    dev = next(s for s in run.slices if s.name == SUB_DEV)
    assert dev.account == SUB_DEV and "AuthorizationFailed" in (dev.detail or "")
    assert {r.account for r in run.resources} == {SUB_PROD}


def test_discovery_failure_fails_the_whole_source(arm: ArmEmulator, source: SourceFactory) -> None:
    """If the subscription list itself fails, the source is failed — never an empty, clean estate."""
    arm.add_fault(status=500, match="^/subscriptions\\?", count=None)
    run = run_source(source(max_attempts=2))
    assert run.status == "failed" and [(s.name, s.reason) for s in run.slices] == [("*", "error")]


def test_a_slow_answer_is_a_timeout(
    arm: ArmEmulator, source: SourceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An answer slower than the read timeout fails that subscription as timeout."""
    monkeypatch.setenv("DRIFTSCAN_AZURE_READ_TIMEOUT_S", "0.3")
    arm.add_fault(
        status=200,
        match=f"/subscriptions/{SUB_DEV}$|/subscriptions/{SUB_DEV}\\?",
        count=None,
        latency_s=0.8,
    )
    run = run_source(source(subscriptions=[SUB_PROD, SUB_DEV], max_attempts=2))
    assert slices(run) == {SUB_PROD: ("ok", None), SUB_DEV: ("failed", "timeout")}


def test_connection_refused_is_unreachable(source: SourceFactory, closed_port: int) -> None:
    """An endpoint nobody listens on is unreachable, for every named subscription."""
    run = run_source(
        source(
            subscriptions=[SUB_PROD, SUB_DEV],
            endpoint=f"https://127.0.0.1:{closed_port}",
            max_attempts=2,
        )
    )
    assert run.status == "failed"
    assert slices(run) == {SUB_PROD: ("failed", "unreachable"), SUB_DEV: ("failed", "unreachable")}


def test_a_malformed_payload_marks_only_that_resource(
    arm: ArmEmulator, source: SourceFactory
) -> None:
    """Broken JSON or a wrong shape for one resource sets its error to parse; the scan goes on."""
    arm.add_fault(
        status=200, method="GET", match=STORAGE_ID + "\\?", count=None, body=b'{"id": "oops", '
    )
    bad_shape = {
        "id": VAULT_ID,
        "name": "acme-prod-kv",
        "type": "Microsoft.KeyVault/vaults",
        "properties": "oops",
    }
    arm.add_fault(
        status=200,
        method="GET",
        match=VAULT_ID + "\\?",
        count=None,
        body=json.dumps(bad_shape).encode(),
    )
    run = run_source(source(subscriptions=[SUB_PROD]))
    assert run.status == "ok"
    errors = {r.name: r.error for r in run.resources if r.error}
    assert set(errors) == {"acmeeuarchive", "acme-prod-kv"}
    assert all(e.startswith("parse: ") for e in errors.values())
    archive = next(r for r in run.resources if r.name == "acmeeuarchive")
    assert archive.key == STORAGE_ID.lower() and archive.tags["data_class"] == "eu-personal"
    assert sum(1 for r in run.resources if r.error is None) == 26


def test_a_denied_detail_read_keeps_the_resource_and_fails_the_slice(
    arm: ArmEmulator, source: SourceFactory
) -> None:
    """A 403 on one resource's full read records it as not assessed and the subscription as incomplete."""
    arm.add_fault(
        status=403, method="GET", match=STORAGE_ID + "\\?", count=None, code="AuthorizationFailed"
    )
    run = run_source(source(subscriptions=[SUB_PROD]))
    assert run.status == "partial" and slices(run) == {SUB_PROD: ("failed", "denied")}
    archive = next(r for r in run.resources if r.name == "acmeeuarchive")
    assert archive.error is not None and archive.error.startswith("denied: ")
    assert (archive.encrypted, archive.public) == (None, None)  # unknown, not guessed
    assert len(run.resources) == 28


def test_a_resource_deleted_mid_scan_is_marked_gone(
    arm: ArmEmulator, source: SourceFactory
) -> None:
    """A listed resource whose full read answers 404 is kept with error 'gone', and the slice stays ok."""
    arm.add_fault(
        status=404, method="GET", match=STORAGE_ID + "\\?", count=None, code="ResourceNotFound"
    )
    run = run_source(source(subscriptions=[SUB_PROD]))
    assert run.status == "ok"
    archive = next(r for r in run.resources if r.name == "acmeeuarchive")
    assert archive.error is not None and archive.error.startswith("gone: ")


def test_a_next_link_to_another_host_is_refused(arm: ArmEmulator, source: SourceFactory) -> None:
    """A nextLink pointing away from the endpoint is not followed (the bearer token would go with it)."""
    page = {
        "value": [],
        "nextLink": "https://attacker.example/subscriptions/x/resources?$skiptoken=1",
    }
    arm.add_fault(
        status=200,
        match=f"/subscriptions/{SUB_DEV}/resources\\?",
        count=None,
        body=json.dumps(page).encode(),
    )
    run = run_source(source(subscriptions=[SUB_DEV]))
    assert slices(run) == {SUB_DEV: ("failed", "parse")}
    assert "attacker.example" in (run.slices[0].detail or "")


def test_low_remaining_quota_slows_the_collector_down(
    arm: ArmEmulator, source: SourceFactory
) -> None:
    """When x-ms-ratelimit-remaining-subscription-reads runs low the collector paces its requests."""
    arm.ratelimit_remaining = 3
    collector = AzureCollector(
        source(subscriptions=[SUB_DEV]), tuning=Tuning(low_water=100, pace_s=0.05)
    )
    run = SourceRun("azure-test", "azure")
    collector.collect(CollectContext(run))
    assert collector.arm is not None
    assert collector.arm.pacer.slowdowns >= 5 and collector.arm.pacer.lowest == 3
    assert [s.status for s in run.slices] == ["ok"]
    arm.ratelimit_remaining = None
    quiet = AzureCollector(
        source(subscriptions=[SUB_DEV]), tuning=Tuning(low_water=100, pace_s=0.05)
    )
    quiet.collect(CollectContext(SourceRun("azure-test", "azure")))
    assert quiet.arm is not None and quiet.arm.pacer.slowdowns == 0


def test_a_next_link_to_a_look_alike_host_is_refused(
    arm: ArmEmulator, source: SourceFactory
) -> None:
    """A nextLink whose host only begins like the endpoint's (the same text plus a suffix) is
    another origin: not followed, as a host elsewhere is not."""
    page = {"value": [], "nextLink": f"{arm.url}.bait.example/subscriptions"}
    arm.add_fault(
        status=200, match="/resourcegroups\\?", count=None, body=json.dumps(page).encode()
    )
    run = run_source(source(subscriptions=[SUB_DEV]))
    assert slices(run) == {SUB_DEV: ("failed", "parse")}
    assert f"nextLink leaves {arm.url}" in (run.slices[0].detail or "")
