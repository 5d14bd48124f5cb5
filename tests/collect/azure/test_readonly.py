"""Read-only proof: a pipeline hook that fails on anything but a GET or an allow-listed POST read."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

import driftscan.providers.azure.collect as azure
from driftscan.collect.base import CollectContext
from driftscan.model import SourceRun
from driftscan.providers.azure import AzureSource
from driftscan.providers.azure.client import DATA_ACTIONS
from driftscan.providers.azure.collect import (
    ALLOWED_POSTS,
    AzureCollector,
    ReadOnlyViolation,
    check_read_only,
)
from driftscan.sandbox.arm import SUB_DEV, SUB_PROD, ArmEmulator, resource_id

SourceFactory = Callable[..., AzureSource]
ROLE = Path(__file__).resolve().parents[3] / "docs" / "azure-role.json"
STORAGE_ID = resource_id(SUB_PROD, "rg-data", "Microsoft.Storage/storageAccounts", "acmeeuarchive")


class WriteAttempt(AssertionError):
    """Raised by the test hook: a request that is not a read reached the transport."""


def is_read(method: str, url: str) -> bool:
    path = urlsplit(url).path.rstrip("/")
    return method == "GET" or (
        method == "POST" and any(p.match(path) for p in ALLOWED_POSTS.values())
    )


class ReadOnlyHook:
    """An azure-core raw_request_hook: records every request and raises on anything but a read."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def __call__(self, request: Any) -> None:
        method, url = request.http_request.method, request.http_request.url
        self.seen.append((method, url))
        if not is_read(method, url):
            raise WriteAttempt(f"{method} {url}")


def collect(config: AzureSource, hook: ReadOnlyHook) -> SourceRun:
    run = SourceRun(config.name, "azure")
    AzureCollector(config, raw_request_hook=hook).collect(CollectContext(run))
    run.finish()
    return run


@pytest.mark.parametrize("mode", ["arm", "resource-graph"])
def test_a_full_collection_only_reads(arm: ArmEmulator, source: SourceFactory, mode: str) -> None:
    """Across a whole collection, every request is a GET or an allow-listed POST, seen by hook and server alike."""
    hook = ReadOnlyHook()
    run = collect(source(mode=mode), hook)
    assert run.status == "ok" and len(run.resources) == 45
    assert len(hook.seen) == len(arm.requests) > 10
    assert all(is_read(m, u) for m, u in hook.seen)
    assert all(is_read(m, p) for m, p in arm.requests)
    posts = {urlsplit(p).path.rsplit("/", 1)[-1] for m, p in arm.requests if m == "POST"}
    assert posts == ({"list"} if mode == "arm" else {"list", "resources"})


def test_the_hook_catches_a_write(
    arm: ArmEmulator, source: SourceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the collector's own guard switched off, the test hook still stops a PUT before it is sent."""
    monkeypatch.setattr(azure.ReadOnlyPolicy, "on_request", lambda self, request: None)
    hook = ReadOnlyHook()
    client = AzureCollector(source(), raw_request_hook=hook).client()
    try:
        with pytest.raises(WriteAttempt):
            client.call("PUT", STORAGE_ID, params={"api-version": "2023-01-01"}, body={"tags": {}})
        with pytest.raises(WriteAttempt):
            client.call("POST", f"{STORAGE_ID}/listKeys", params={"api-version": "2023-01-01"})
    finally:
        client.close()
    assert [m for m, _ in hook.seen] == ["PUT", "POST"]
    assert arm.requests == []


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("PUT", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/listKeys"), ("POST", "/regenerateKey")],
)
def test_the_collector_refuses_writes_itself(
    arm: ArmEmulator, source: SourceFactory, method: str, suffix: str
) -> None:
    """The collector's ReadOnlyPolicy refuses writes and secret-returning POSTs before they leave the process."""
    client = AzureCollector(source()).client()
    try:
        with pytest.raises(ReadOnlyViolation):
            client.call(method, STORAGE_ID + suffix, params={"api-version": "2023-01-01"})
    finally:
        client.close()
    assert arm.requests == []


def test_no_provider_registration_on_409(arm: ArmEmulator, source: SourceFactory) -> None:
    """A 409 MissingSubscriptionRegistration is not answered with a provider registration POST."""
    arm.add_fault(
        status=409, match=STORAGE_ID + "\\?", count=None, code="MissingSubscriptionRegistration"
    )
    hook = ReadOnlyHook()
    run = collect(source(subscriptions=[SUB_PROD]), hook)
    assert all(is_read(m, p) for m, p in arm.requests)
    assert not any("/register" in p for _, p in arm.requests)
    archive = next(r for r in run.resources if r.name == "acmeeuarchive")
    assert archive.error is not None and "409" in archive.error


def test_check_read_only_allows_exactly_the_documented_reads() -> None:
    """GETs and the allow-listed POSTs pass; other POSTs and every write are refused."""
    site = resource_id(SUB_DEV, "rg-dev", "Microsoft.Web/sites", "app")
    check_read_only("GET", f"https://x{STORAGE_ID}?api-version=1")
    check_read_only("POST", f"https://x{site}/config/appsettings/list?api-version=1")
    check_read_only("POST", "https://x/providers/Microsoft.ResourceGraph/resources?api-version=1")
    for method, url in [
        ("POST", f"https://x{site}/config/connectionstrings/list"),
        ("POST", f"https://x{site}/config/publishingcredentials/list"),
        ("POST", f"https://x{STORAGE_ID}/listKeys"),
        ("HEAD", f"https://x{STORAGE_ID}"),
        ("PUT", f"https://x{site}/config/appsettings/list"),
    ]:
        with pytest.raises(ReadOnlyViolation):
            check_read_only(method, url)


def test_the_role_grants_reads_and_the_allow_listed_posts_only() -> None:
    """docs/azure-role.json grants */read plus exactly the POST actions in the allow-list, and
    only the data action of Key Vault's certificate list."""
    role = json.loads(ROLE.read_text())
    assert set(role["Actions"]) == {"*/read", *ALLOWED_POSTS}
    assert role["DataActions"] == list(DATA_ACTIONS) and role["IsCustom"] is True
    assert not any(a.endswith(("/write", "/delete")) or a == "*" for a in role["Actions"])


@pytest.mark.parametrize("mode", ["arm", "resource-graph"])
def test_the_whole_tenant_is_read_with_reads_only(tenant: ArmEmulator, mode: str) -> None:
    """Management groups, every type, detail reads, children and settings: every request, seen by
    the hook and by the server, is a GET or an allow-listed POST, and each allow-listed POST
    the role grants is one the collection uses."""
    hook = ReadOnlyHook()
    config = AzureSource(
        name="azure-test", type="azure", management_group="mg-root", mode=mode,
        credential="token_env", endpoint=tenant.url, ca_bundle=tenant.ca_path,
        keyvault_domain=tenant.keyvault_domain,
    )  # fmt: skip
    run = collect(config, hook)
    assert {s.status for s in run.slices} == {"ok", "failed"}  # the 403 subscription
    assert len(hook.seen) == len(tenant.requests) > 50
    assert all(is_read(m, u) for m, u in hook.seen)
    assert all(is_read(m, p) for m, p in tenant.requests) and tenant.writes() == [
        (m, p) for m, p in tenant.requests if m == "POST"
    ]
    used = {
        action
        for m, p in tenant.requests
        if m == "POST"
        for action, pattern in ALLOWED_POSTS.items()
        if pattern.match(urlsplit(p).path.rstrip("/"))
    }
    role = json.loads(ROLE.read_text())
    expected = (
        set(ALLOWED_POSTS)
        if mode == "resource-graph"
        else set(ALLOWED_POSTS) - {"Microsoft.ResourceGraph/resources/read"}
    )
    assert used == expected and used <= set(role["Actions"])
    # The data plane is read (certificates) and only there, under the one data action.
    data = [p for m, p in tenant.requests if p.startswith("/keyvault/")]
    assert data and all(urlsplit(p).path.endswith("/certificates") for p in data)
