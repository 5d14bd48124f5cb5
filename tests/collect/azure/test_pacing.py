"""Every ARM request takes a token from its subscription's read bucket (Resource Graph queries
from the tenant's), through the limiter the scan shares across its sources."""

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
    expected: Counter[tuple[str, str]] = Counter()
    for _, path in seen:
        if path.lower().endswith("/microsoft.resourcegraph/resources"):
            expected["graph"] += 1
        else:
            parts = path.split("/")
            sub = parts[2].lower() if len(parts) > 2 and parts[1] == "subscriptions" else "tenant"
            expected[sub] += 1
    taken: Counter[str] = Counter()
    for (scope, api, family), bucket in limiter._buckets.items():
        assert api == "arm"
        # Subscription-less calls (listing subscriptions) are counted against the endpoint.
        where = "tenant" if scope == config.endpoint.rstrip("/") else scope
        taken["graph" if family == "graph" else where] += bucket.taken
    assert taken == expected
    assert taken[SUB_PROD.lower()] > 0 and taken[SUB_DEV.lower()] > 0
    assert (taken["graph"] > 0) == (mode == "resource-graph")
