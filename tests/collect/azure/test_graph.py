"""Resource Graph mode: the same estate through paged KQL queries, subscription by subscription."""

from __future__ import annotations

import json
from collections.abc import Callable

from driftscan.collect.base import run_source
from driftscan.model import canonical_json
from driftscan.providers.azure import AzureSource
from driftscan.sandbox.arm import DEMO_SECRET_CANARY, SUB_DEV, SUB_PROD, ArmEmulator

SourceFactory = Callable[..., AzureSource]


def test_graph_mode_returns_the_same_keys_types_and_facets(
    arm: ArmEmulator, source: SourceFactory
) -> None:
    """ARM and Resource Graph modes yield the same keys, types, regions, tags and facets."""
    via_arm = {r.key: r for r in run_source(source()).resources}
    graph_run = run_source(source(mode="resource-graph"))
    via_graph = {r.key: r for r in graph_run.resources}
    assert graph_run.status == "ok" and len(via_graph) == 45
    assert via_graph.keys() == via_arm.keys()
    for key, g in via_graph.items():
        a = via_arm[key]
        assert (g.type, g.name, g.account, g.region, g.tags) == (
            a.type,
            a.name,
            a.account,
            a.region,
            a.tags,
        )
        assert (g.encrypted, g.public, g.error) == (a.encrypted, a.public, a.error)
        assert DEMO_SECRET_CANARY not in canonical_json(g.doc())


def test_graph_mode_pages_by_skip_token(arm: ArmEmulator, source: SourceFactory) -> None:
    """Resource Graph queries are repeated with the returned $skipToken until the last page."""
    bodies: list[dict[str, object]] = []
    original = arm._graph

    def spy(body: bytes):  # type: ignore[no-untyped-def]
        bodies.append(json.loads(body))
        return original(body)

    arm._graph = spy  # type: ignore[method-assign]
    try:
        run = run_source(source(subscriptions=[SUB_PROD], mode="resource-graph"))
    finally:
        del arm._graph
    assert run.status == "ok"
    resource_queries = [b for b in bodies if str(b["query"]).startswith("Resources")]
    assert len(resource_queries) >= 4  # 16 resources, 4 per page
    assert all(b["subscriptions"] == [SUB_PROD] for b in bodies)
    assert "$skipToken" not in resource_queries[0]["options"]  # type: ignore[operator]
    assert all("$skipToken" in b["options"] for b in resource_queries[1:])  # type: ignore[operator]


def test_graph_mode_does_not_hide_a_denied_subscription(
    arm: ArmEmulator, source: SourceFactory
) -> None:
    """Resource Graph silently omits unreadable subscriptions; the collector still fails that slice as denied."""
    arm.deny(SUB_DEV)
    run = run_source(source(subscriptions=[SUB_PROD, SUB_DEV], mode="resource-graph"))
    assert run.status == "partial"
    assert {s.name: (s.status, s.reason) for s in run.slices} == {
        SUB_PROD: ("ok", None),
        SUB_DEV: ("failed", "denied"),
    }
