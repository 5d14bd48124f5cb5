"""Scope: `management_group:` reads every subscription below a group, nested groups included."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from driftscan.collect.base import run_source
from driftscan.model import SourceRun
from driftscan.providers.azure import AzureSource
from driftscan.sandbox.arm import SUB_DEV, SUB_PROD, ArmEmulator
from driftscan.sandbox.armestate import SUB_DATA, SUB_DENIED
from tests.collect.azure.conftest import make_source


def slices(run: SourceRun) -> dict[str, tuple[str, str | None]]:
    return {s.name: (s.status, s.reason) for s in run.slices}


@pytest.mark.parametrize("mode", ["arm", "resource-graph"])
def test_a_group_reads_every_subscription_below_it(tenant: ArmEmulator, mode: str) -> None:
    """mg-prod holds acme-prod and, one group further down, acme-data and acme-restricted: all
    three are slices; acme-dev (in the root group only) is not read."""
    run = run_source(make_source(tenant, management_group="mg-prod", mode=mode))
    assert slices(run) == {
        SUB_PROD: ("ok", None),
        SUB_DATA: ("ok", None),
        SUB_DENIED: ("failed", "denied"),
    }
    assert run.status == "partial"
    assert {r.account for r in run.resources} == {SUB_PROD, SUB_DATA}
    assert not any(SUB_DEV in p for _, p in tenant.requests)
    assert all(m == "GET" for m, p in tenant.requests if "/descendants?" in p)


def test_each_subscription_records_the_groups_above_it(tenant: ArmEmulator) -> None:
    """The subscription's own resource names its management groups, the named group first."""
    run = run_source(make_source(tenant, management_group="mg-root"))
    assert set(slices(run)) == {SUB_PROD, SUB_DEV, SUB_DATA, SUB_DENIED}
    pages = [p for m, p in tenant.requests if m == "GET" and "/descendants?" in p]
    assert len(pages) == 2  # six descendants, four a page: the next page is followed
    subs = {r.account: r for r in run.resources if r.type == "microsoft.resources/subscriptions"}
    assert subs[SUB_DEV].attrs["managementGroups"] == ["mg-root"]
    assert subs[SUB_PROD].attrs["managementGroups"] == ["mg-root", "mg-prod"]
    assert subs[SUB_DATA].attrs["managementGroups"] == ["mg-root", "mg-prod", "mg-data"]
    assert subs[SUB_DATA].key == f"/subscriptions/{SUB_DATA}" and subs[SUB_DATA].name == "acme-data"
    leaf = run_source(make_source(tenant, management_group="mg-data"))
    assert set(slices(leaf)) == {SUB_DATA, SUB_DENIED}


@pytest.mark.parametrize(
    ("group", "deny", "reason"), [("mg-nope", False, "error"), ("mg-data", True, "denied")]
)
def test_an_unreadable_group_fails_the_source(
    tenant: ArmEmulator, group: str, deny: bool, reason: str
) -> None:
    """A group that does not exist or may not be read fails the whole source, never reads as empty."""
    if deny:
        tenant.denied.add(group)
    run = run_source(make_source(tenant, management_group=group))
    assert run.status == "failed" and slices(run) == {"*": ("failed", reason)}
    assert group in (run.slices[0].detail or "") and run.resources == []


def test_a_group_and_a_subscription_list_do_not_mix() -> None:
    """management_group with a list of subscriptions is a configuration error naming both keys."""
    base = {"name": "az", "type": "azure"}
    assert AzureSource(**base, management_group="mg-root").subscriptions == ["all"]
    assert AzureSource(**base, subscriptions=["all"], management_group="mg-root")
    with pytest.raises(ValidationError, match="leave out subscriptions"):
        AzureSource(**base, subscriptions=[SUB_PROD], management_group="mg-root")
    with pytest.raises(ValidationError, match="management group id"):
        AzureSource(**base, management_group="mg/../x")
