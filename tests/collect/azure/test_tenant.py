"""The whole tenant through Resource Graph: every served type with its full properties, paged at
1,000 rows, subscriptions batched into one query, throttling waited out."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from driftscan.collect.base import run_source
from driftscan.model import canonical_json
from driftscan.providers.azure.facets import SPECS
from driftscan.sandbox.arm import DEMO_SECRET_CANARY, ArmEmulator, resource_id
from driftscan.sandbox.armestate import SUB_DATA, SUB_DENIED, SUB_PROD
from tests.collect.azure.conftest import TEST_QUOTA, make_source
from tests.conftest import TEST_FP


def _served(arm: ArmEmulator, subs: set[str]) -> dict[str, Any]:
    return {k: r for k, r in arm.resources.items() if r.sub in subs}


@pytest.mark.parametrize("mode", ["arm", "resource-graph"])
def test_every_served_type_lands_with_its_properties(tenant: ArmEmulator, mode: str) -> None:
    """Every resource the emulator serves is stored, of every type (mapped or not), with its
    location, tags and properties as served (bar secret values, which are fingerprints)."""
    run = run_source(
        make_source(tenant, management_group="mg-prod", mode=mode), fingerprint=TEST_FP
    )
    got = {r.key: r for r in run.resources}
    served = _served(
        tenant,
        {s.lower() for s in tenant.subs}
        - {SUB_DENIED.lower()}
        - {"22222222-2222-4222-8222-222222222222"},
    )
    assert set(served) <= set(got)
    types = {r.type.lower() for r in served.values()}
    assert "microsoft.cache/redis" in types and "microsoft.cache/redis" not in SPECS
    assert types <= {r.type for r in run.resources}
    for key, res in served.items():
        r = got[key]
        assert r.error is None and r.region == res.location.replace(" ", "").lower()
        assert r.tags == res.doc.get("tags", {})
        props = tenant._full(res)["properties"]  # as served (a vault's URI is the emulator's)
        for name, value in props.items():
            if DEMO_SECRET_CANARY in json.dumps(value) or name == "value":
                continue
            assert r.attrs["properties"][name] == value, (key, name)
    redis = got[resource_id(SUB_DATA, "rg-platform", "Microsoft.Cache/redis", "acme-cache").lower()]
    assert redis.attrs["properties"]["enableNonSslPort"] is True
    assert redis.attrs["properties"]["accessKeys"]["primaryKey"] == TEST_FP(DEMO_SECRET_CANARY)
    assert (redis.encrypted, redis.public) == (None, None)
    for r in run.resources:
        assert DEMO_SECRET_CANARY not in canonical_json(r.doc())


def test_graph_mode_batches_subscriptions(
    tenant: ArmEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Readable subscriptions are asked for in batches (one query per table and page for a
    batch), each readable one in exactly one batch and each row placed in its own subscription;
    the unreadable one is never in a query."""
    import driftscan.providers.azure.collect as collect

    bodies: list[dict[str, Any]] = []
    original = tenant._graph

    def spy(body: bytes):  # type: ignore[no-untyped-def]
        bodies.append(json.loads(body))
        return original(body)

    tenant._graph = spy  # type: ignore[method-assign]
    try:
        monkeypatch.setattr(collect, "WORKERS", 1)  # one batch
        run = run_source(make_source(tenant, management_group="mg-prod", mode="resource-graph"))
        one = {tuple(sorted(b["subscriptions"])) for b in bodies}
        bodies.clear()
        monkeypatch.setattr(collect, "WORKERS", 4)  # a batch per worker
        again = run_source(make_source(tenant, management_group="mg-prod", mode="resource-graph"))
        many = {tuple(sorted(b["subscriptions"])) for b in bodies}
    finally:
        del tenant._graph
    readable = {SUB_PROD, SUB_DATA}
    assert one == {tuple(sorted(readable))}
    assert len(many) == 2 and {s for batch in many for s in batch} == readable
    assert {r.account for r in run.resources} == readable
    assert sorted(r.key for r in run.resources) == sorted(r.key for r in again.resources)


def _big_estate(n: int) -> dict[str, Any]:
    subs = {}
    for s in range(2):
        sub = f"5555555{s}-5555-4555-8555-555555555555"
        subs[sub] = {"resourceGroups": {"rg": {"resources": [
            {"type": "Microsoft.Network/privateDnsZones", "name": f"z{s}-{i:05d}.example",
             "location": "global", "tags": {"n": str(i)}, "properties": {"numberOfRecordSets": i}}
            for i in range(n)
        ]}}}  # fmt: skip
    return {"subscriptions": subs}


@pytest.fixture(scope="module")
def big() -> Iterator[ArmEmulator]:
    with ArmEmulator(_big_estate(1250), page_size=1000, graph_quota=TEST_QUOTA) as emulator:
        yield emulator


def test_graph_pages_at_a_thousand_rows(big: ArmEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """2,500 resources come back in three pages of at most 1,000 rows, joined by $skipToken."""
    import driftscan.providers.azure.collect as collect

    monkeypatch.setattr(collect, "WORKERS", 1)  # both subscriptions in one batch
    monkeypatch.setenv("AZURE_ACCESS_TOKEN", big.token)
    bodies: list[dict[str, Any]] = []
    original = big._graph

    def spy(body: bytes):  # type: ignore[no-untyped-def]
        bodies.append(json.loads(body))
        return original(body)

    big._graph = spy  # type: ignore[method-assign]
    try:
        run = run_source(make_source(big, mode="resource-graph"))
    finally:
        del big._graph
    assert run.status == "ok"
    zones = [r for r in run.resources if r.type == "microsoft.network/privatednszones"]
    assert len(zones) == 2500 and len({r.key for r in zones}) == 2500
    pages = [b for b in bodies if b["query"].startswith("Resources")]
    assert [b["options"]["$top"] for b in pages] == [1000, 1000, 1000]
    assert ["$skipToken" in b["options"] for b in pages] == [False, True, True]
    assert os.environ["AZURE_ACCESS_TOKEN"] == big.token


def test_a_throttled_graph_query_is_retried_after_retry_after(tenant: ArmEmulator) -> None:
    """A 429 with Retry-After on a Resource Graph query is waited out; the scan is complete."""
    fault = tenant.throttle(match="resourcegraph", count=1, retry_after=0.5)
    run = run_source(make_source(tenant, management_group="mg-data", mode="resource-graph"))
    assert fault.hits == 1
    assert {s.name: s.status for s in run.slices} == {SUB_DATA: "ok", SUB_DENIED: "failed"}


def test_a_failed_graph_query_fails_every_subscription_of_its_batch(tenant: ArmEmulator) -> None:
    """A Resource Graph query that keeps failing leaves no subscription of its batch half-read."""
    tenant.add_fault(status=500, match="resourcegraph", count=None)
    run = run_source(
        make_source(tenant, management_group="mg-prod", mode="resource-graph", max_attempts=2)
    )
    assert all(s.status == "failed" for s in run.slices) and run.resources == []


def test_a_graph_page_failing_midway_keeps_nothing_of_the_batch(
    tenant: ArmEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Resources built from the pages before a failing one are dropped with the batch: a
    partial listing never passes for the estate."""
    import driftscan.providers.azure.collect as collect

    monkeypatch.setattr(collect, "WORKERS", 1)
    # The groups query (one page) and the first resources page pass; the second page fails.
    tenant.add_fault(status=500, match="resourcegraph", count=None, after=2)
    run = run_source(
        make_source(tenant, management_group="mg-prod", mode="resource-graph", max_attempts=1)
    )
    assert {s.status for s in run.slices} == {"failed"} and run.resources == []
