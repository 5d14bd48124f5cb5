"""Every ARM read takes a token from its subscription's read bucket, through the limiter the
scan shares across its sources; Resource Graph queries follow the quota the service reports."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from driftscan.collect.base import CollectContext
from driftscan.collect.limits import Limiter
from driftscan.model import SourceRun
from driftscan.providers.azure import AzureSource
from driftscan.providers.azure.collect import AzureCollector
from driftscan.sandbox.arm import SUB_DEV, SUB_PROD, ArmEmulator


@pytest.mark.parametrize("mode", ["arm", "resource-graph"])
def test_every_request_takes_a_token(
    arm: ArmEmulator, source: Callable[..., AzureSource], mode: str
) -> None:
    seen: list[tuple[str, str]] = []

    def hook(request: Any) -> None:
        seen.append((request.http_request.method, urlsplit(request.http_request.url).path))

    config = source(mode=mode)
    limiter = Limiter()
    run = SourceRun(config.name, "azure")
    AzureCollector(config, raw_request_hook=hook).collect(CollectContext(run, limiter=limiter))
    run.finish()
    assert run.status == "ok"
    expected: Counter[str] = Counter()
    graph_queries = 0
    for _, path in seen:
        if path.lower().startswith("/keyvault/"):
            expected["keyvault"] += 1  # the emulator's vault data plane, paced per vault
        elif path.lower().endswith("/microsoft.resourcegraph/resources"):
            graph_queries += 1  # paced by the quota the service reports, not a bucket
        else:
            parts = path.split("/")
            sub = parts[2].lower() if len(parts) > 2 and parts[1] == "subscriptions" else "tenant"
            expected[sub] += 1
    taken: Counter[str] = Counter()
    for (scope, api, family), bucket in limiter._buckets.items():
        assert api in ("arm", "keyvault")
        # Subscription-less calls (listing subscriptions) are counted against the endpoint.
        where = "tenant" if scope == config.endpoint.rstrip("/") else scope
        where = "keyvault" if api == "keyvault" else where
        assert family == "read"
        taken[where] += bucket.taken
    assert taken == expected
    assert taken[SUB_PROD.lower()] > 0 and taken[SUB_DEV.lower()] > 0 and taken["keyvault"] > 0
    assert (graph_queries > 0) == (mode == "resource-graph")


def test_graph_queries_wait_for_the_reported_quota_to_reset(
    arm: ArmEmulator, source: Callable[..., AzureSource]
) -> None:
    """With Resource Graph's quota at 2 queries a second, a paged collection waits for each
    reset the headers announce and is never refused with a 429."""
    arm.set_graph_quota((2, 1.0))
    collector = AzureCollector(source(mode="resource-graph"))
    run = SourceRun("azure-test", "azure")
    collector.collect(CollectContext(run))
    run.finish()
    assert run.status == "ok"
    assert collector.arm is not None
    quota = collector.arm.quota
    assert quota.queries > 4 and quota.waits >= 2 and quota.waited_s > 0.5
    assert arm.graph_refused == 0


def test_without_the_quota_policy_the_same_collection_is_refused(
    arm: ArmEmulator, source: Callable[..., AzureSource], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control for the test above: ignoring the headers draws 429s from the same quota
    (which the retry policy then waits out through Retry-After)."""
    from driftscan.providers.azure.client import GraphQuotaPolicy

    monkeypatch.setattr(GraphQuotaPolicy, "send", lambda self, request: self.next.send(request))
    arm.set_graph_quota((2, 1.0))
    run = SourceRun("azure-test", "azure")
    AzureCollector(source(mode="resource-graph")).collect(CollectContext(run))
    run.finish()
    assert arm.graph_refused > 0 and run.status == "ok"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("00:00:05", 5.0), ("00:01:00.5", 60.5), ("01:00:00", 3600.0), ("5", None), ("", None)],
)
def test_resets_after_is_read_as_hh_mm_ss(value: str, seconds: float | None) -> None:
    """x-ms-user-quota-resets-after is hh:mm:ss with optional fractions; anything else is unknown."""
    from driftscan.providers.azure.client import parse_resets_after

    assert parse_resets_after(value) == seconds
