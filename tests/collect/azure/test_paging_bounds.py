"""Hostile paging: a nextLink or $skipToken chain that loops or never ends is refused, not followed."""

from __future__ import annotations

import json

import pytest

import driftscan.collect.limits as limits
from driftscan.collect.base import run_source
from driftscan.sandbox.arm import ArmEmulator
from driftscan.sandbox.armestate import SUB_DATA
from tests.collect.azure.conftest import make_source

CERTS = "/keyvault/acme-data-kv/certificates"


def test_a_next_link_back_to_a_page_already_read_is_refused(tenant: ArmEmulator) -> None:
    """A list whose nextLink returns to a page already read stops there, the slice failed and
    saying why; the emulator would answer the loop five times before it ends on its own."""
    page = {"value": [], "nextLink": f"{tenant.url}{CERTS}?api-version=7.4&page=2"}
    tenant.add_fault(status=200, match=CERTS, count=5, body=json.dumps(page).encode())
    run = run_source(make_source(tenant, subscriptions=[SUB_DATA]))
    (failed,) = [s for s in run.slices if s.status == "failed"]
    assert failed.reason == "parse"
    assert "nextLink returns to a page already read" in (failed.detail or "")
    assert len([t for _, t in tenant.requests if t.startswith(CERTS)]) == 2


def test_a_skip_token_back_to_a_page_already_read_is_refused(tenant: ArmEmulator) -> None:
    """The same for Resource Graph: a $skipToken that repeats fails the batch, not a hang."""
    page = {"data": [], "$skipToken": "again", "totalRecords": 1, "count": 0}
    fault = tenant.add_fault(
        status=200, match="resourcegraph", count=5, body=json.dumps(page).encode()
    )
    run = run_source(make_source(tenant, subscriptions=[SUB_DATA], mode="resource-graph"))
    assert fault.hits == 2
    (failed,) = [s for s in run.slices if s.status == "failed"]
    assert "$skipToken returns to a page already read" in (failed.detail or "")
    assert run.resources == []


def test_a_list_longer_than_the_page_bound_is_not_read(
    tenant: ArmEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past MAX_PAGES pages a list is refused, the subscription not assessed; within it, the
    same list is read whole."""
    tenant.page_size = 1
    monkeypatch.setattr(limits, "MAX_PAGES", 3)
    run = run_source(make_source(tenant, subscriptions=[SUB_DATA]))
    (failed,) = [s for s in run.slices if s.status == "failed"]
    assert failed.reason == "parse" and "more than 3 pages" in (failed.detail or "")
    monkeypatch.setattr(limits, "MAX_PAGES", 10_000)
    assert run_source(make_source(tenant, subscriptions=[SUB_DATA])).status == "ok"
