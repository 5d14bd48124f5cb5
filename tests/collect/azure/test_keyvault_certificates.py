"""Key Vault certificates (issue 16): read from each vault's data plane, metadata only, and only
at the vault URI ARM reports when it lies under the configured Key Vault domain."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from driftscan.collect.base import CollectContext, run_source
from driftscan.collect.limits import Limiter
from driftscan.model import Resource, SourceRun
from driftscan.providers.azure.collect import AzureCollector
from driftscan.sandbox.arm import ArmEmulator, resource_id
from driftscan.sandbox.armestate import SUB_DATA
from tests.collect.azure.conftest import make_source

VAULT = resource_id(SUB_DATA, "rg-platform", "Microsoft.KeyVault/vaults", "acme-data-kv").lower()
CERTS = "/keyvault/acme-data-kv/certificates"


def _by_key(resources: list[Resource]) -> dict[str, Resource]:
    return {r.key: r for r in resources}


def test_certificates_land_with_their_dates_and_never_their_content(tenant: ArmEmulator) -> None:
    """Each certificate of the data plane's list is a child resource of its vault, with enabled,
    expiry and thumbprint; the vault's keys and secrets are read as before."""
    run = run_source(make_source(tenant, subscriptions=[SUB_DATA]))
    assert run.status == "ok", [s.error for s in run.slices]
    got = _by_key(run.resources)
    expired = got[f"{VAULT}/certificates/portal-tls"]
    assert expired.type == "microsoft.keyvault/vaults/certificates"
    assert expired.error is None and expired.region == got[VAULT].region
    assert expired.attrs["expiresOn"] == "2025-01-01T00:00:00Z"
    assert expired.attrs["enabled"] is True and expired.attrs["certificate"] is True
    assert expired.attrs["thumbprint"] == "c2FuZGJveC1wb3J0YWw"
    assert f"{VAULT}/certificates/api-tls" in got and f"{VAULT}/secrets/api-tls" in got
    assert f"{VAULT}/keys/cmk-storage" in got
    # One list call per vault, a GET with the data plane's api-version.
    calls = [(m, t) for m, t in tenant.requests if t.startswith(CERTS)]
    assert calls == [("GET", f"{CERTS}?api-version=7.4")]


def test_certificate_lists_are_paged(tenant: ArmEmulator) -> None:
    """The data plane's nextLink is followed within the vault."""
    tenant.page_size = 1
    run = run_source(make_source(tenant, subscriptions=[SUB_DATA]))
    assert run.status == "ok"
    names = {r.name for r in run.resources if r.type == "microsoft.keyvault/vaults/certificates"}
    assert names == {"acme-data-kv/api-tls", "acme-data-kv/portal-tls"}
    assert len([t for _, t in tenant.requests if t.startswith(CERTS)]) == 2


def test_a_firewalled_vault_keeps_its_facets_and_fails_the_subscription(
    tenant: ArmEmulator,
) -> None:
    """A 403 from the data plane (a vault behind its firewall) is not "no certificates": the
    vault, its keys and secrets are kept and assessed, and the subscription is incomplete."""
    tenant.add_fault(status=403, match=CERTS, count=None, code="ForbiddenByFirewall")
    run = run_source(make_source(tenant, subscriptions=[SUB_DATA]))
    got = _by_key(run.resources)
    assert got[VAULT].error is None and got[VAULT].public is not None
    assert f"{VAULT}/keys/cmk-storage" in got
    assert not any(r.type.endswith("/certificates") for r in run.resources)
    (failed,) = [s for s in run.slices if s.status == "failed"]
    assert failed.reason == "denied" and "ForbiddenByFirewall" in (failed.detail or "")


def test_a_vault_uri_outside_the_keyvault_domain_is_never_called(tenant: ArmEmulator) -> None:
    """A payload naming another host as the vault URI does not get Key Vault's token: nothing is
    sent there, and the subscription says why its certificates were not read."""
    seen: list[str] = []
    doc: dict[str, Any] = tenant._full(tenant.resources[VAULT])
    doc["properties"]["vaultUri"] = "https://collector-bait.example/"
    tenant.add_fault(
        status=200, method="GET", match=VAULT + r"\?", count=None, body=json.dumps(doc).encode()
    )
    run = SourceRun("azure-test", "azure")
    collector = AzureCollector(
        make_source(tenant, subscriptions=[SUB_DATA]),
        raw_request_hook=lambda r: seen.append(r.http_request.url),
    )
    collector.collect(CollectContext(run, limiter=Limiter()))
    run.finish()
    assert seen and {urlsplit(u).netloc for u in seen} == {urlsplit(tenant.url).netloc}
    (failed,) = [s for s in run.slices if s.status == "failed"]
    assert failed.reason == "parse" and "collector-bait.example" in (failed.detail or "")
    assert "is not a vault under" in (failed.detail or "")


def test_a_next_link_leaving_the_vault_is_refused(tenant: ArmEmulator) -> None:
    """A nextLink to another path of the same host (outside this vault) is not followed."""
    page = {"value": [], "nextLink": f"{tenant.url}/subscriptions/{SUB_DATA}/resourcegroups"}
    tenant.add_fault(status=200, match=CERTS, count=None, body=json.dumps(page).encode())
    run = run_source(make_source(tenant, subscriptions=[SUB_DATA]))
    (failed,) = [s for s in run.slices if s.status == "failed"]
    assert "nextLink leaves the vault" in (failed.detail or "")
    # The listing asks with ?api-version=…; the nextLink's bare path was never requested.
    assert f"/subscriptions/{SUB_DATA}/resourcegroups" not in {t for _, t in tenant.requests}


def test_certificates_can_be_switched_off(tenant: ArmEmulator) -> None:
    """keyvault_certificates: false sends nothing to the data plane."""
    run = run_source(make_source(tenant, subscriptions=[SUB_DATA], keyvault_certificates=False))
    assert run.status == "ok"
    assert not any(t.startswith("/keyvault/") for _, t in tenant.requests)
    assert not any(r.type.endswith("/certificates") for r in run.resources)
