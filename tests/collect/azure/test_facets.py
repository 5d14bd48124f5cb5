"""Facets and detail reads over the whole tenant: Key Vault metadata, AKS, Cosmos DB regions,
flexible servers, disks, networking, gateways, registries, SQL and web apps, and settings."""

from __future__ import annotations

import json

import pytest

from driftscan.collect.base import run_source
from driftscan.model import Resource, SourceRun, canonical_json
from driftscan.sandbox.arm import DEMO_SECRET_CANARY, ArmEmulator, resource_id
from driftscan.sandbox.armestate import SUB_DATA, SUB_PROD
from tests.collect.azure.conftest import make_source
from tests.conftest import TEST_FP

RG = "rg-platform"


def rid(rtype: str, name: str) -> str:
    return resource_id(SUB_DATA, RG, rtype, name).lower()


@pytest.fixture(params=["arm", "resource-graph"])
def run(request: pytest.FixtureRequest, tenant: ArmEmulator) -> SourceRun:
    return run_source(
        make_source(tenant, management_group="mg-prod", mode=request.param), fingerprint=TEST_FP
    )


@pytest.fixture
def res(run: SourceRun) -> dict[str, Resource]:
    return {r.key: r for r in run.resources}


def test_no_secret_value_is_stored_anywhere(run: SourceRun) -> None:
    """The canary planted in a vault secret's value, app settings, config/web's connection
    strings, a server password, an AKS secret, a gateway certificate password and an unmapped
    type's keys never reaches a document; a vault secret's value is dropped, not fingerprinted."""
    for r in run.resources:
        assert DEMO_SECRET_CANARY not in canonical_json(r.doc()), r.key
        if r.type == "microsoft.keyvault/vaults/secrets":
            assert "value" not in r.attrs["properties"]
    assert any(r.type == "microsoft.keyvault/vaults/secrets" for r in run.resources)


def test_key_vault_keys_and_secrets_are_metadata(res: dict[str, Resource]) -> None:
    """Keys and secrets are resources of their own: enabled, expiry, content type; no value."""
    kv = "Microsoft.KeyVault/vaults"
    old = res[rid(f"{kv}/keys", "acme-data-kv/old-signing")]
    assert (old.attrs["enabled"], old.attrs["expiresOn"], old.attrs["keyType"]) == (
        True, "2025-01-01T00:00:00Z", "EC")  # fmt: skip
    secret = res[rid(f"{kv}/secrets", "acme-data-kv/db-password")]
    assert "value" not in secret.attrs["properties"] and secret.attrs["expiresOn"] is None
    assert secret.tags == {"owner": "data-team"} and secret.region == "westeurope"
    cert = res[rid(f"{kv}/secrets", "acme-data-kv/api-tls")]
    assert cert.attrs["certificate"] is True and cert.attrs["parent"] == rid(kv, "acme-data-kv")
    vault = res[rid(kv, "acme-data-kv")]
    assert (vault.attrs["purgeProtection"], vault.attrs["softDelete"], vault.public) == (
        True,
        True,
        False,
    )


def test_cosmos_db_records_every_region(res: dict[str, Resource]) -> None:
    """Every location and failover region, normalised to ARM's spelling, in failover order."""
    cosmos = res[rid("Microsoft.DocumentDB/databaseAccounts", "acme-eu-profiles")]
    assert cosmos.attrs["dataLocations"] == ["eastus", "westeurope"]
    assert cosmos.attrs["failoverRegions"] == ["westeurope", "eastus"]
    assert (cosmos.region, cosmos.encrypted, cosmos.public) == ("westeurope", True, True)
    private = res[rid("Microsoft.DocumentDB/databaseAccounts", "acme-eu-orders")]
    assert private.public is False


def test_flexible_servers_read_their_tls_parameters(res: dict[str, Resource]) -> None:
    """Server parameters are GETs; the lowest TLS version, secure transport and geo backup."""
    pg = res[rid("Microsoft.DBforPostgreSQL/flexibleServers", "acme-pg")]
    assert (pg.attrs["minimumTlsVersion"], pg.attrs["geoRedundantBackup"], pg.public) == (
        "TLSv1.2",
        True,
        False,
    )
    legacy = res[rid("Microsoft.DBforPostgreSQL/flexibleServers", "acme-pg-legacy")]
    assert (
        legacy.attrs["minimumTlsVersion"].startswith("none")
        and legacy.attrs["secureTransport"] is False
    )
    mysql = res[rid("Microsoft.DBforMySQL/flexibleServers", "acme-mysql")]
    assert (mysql.attrs["minimumTlsVersion"], mysql.public, mysql.encrypted) == (
        "TLSv1.0",
        True,
        True,
    )
    assert "administratorLoginPassword" in mysql.attrs["properties"]  # as a fingerprint


def test_aks_disks_and_registries(res: dict[str, Resource]) -> None:
    """AKS hardening facts, disk encryption type and export exposure, the registry admin user."""
    aks = res[rid("Microsoft.ContainerService/managedClusters", "acme-aks")]
    assert {k: aks.attrs[k] for k in ("kubernetesVersion", "rbac", "privateCluster", "networkPolicy", "localAccountsDisabled")} == {
        "kubernetesVersion": "1.27.7", "rbac": True, "privateCluster": False, "networkPolicy": None,
        "localAccountsDisabled": False}  # fmt: skip
    assert aks.public is True
    assert (
        res[rid("Microsoft.ContainerService/managedClusters", "acme-aks-private")].public is False
    )
    cmk = res[rid("Microsoft.Compute/disks", "data-disk-cmk")]
    orphan = res[rid("Microsoft.Compute/disks", "orphan-disk")]
    assert (cmk.encrypted, cmk.public, cmk.attrs["encryptionType"]) == (
        True,
        False,
        "EncryptionAtRestWithCustomerKey",
    )
    assert (orphan.public, orphan.attrs["attached"]) == (True, False)
    acr = res[rid("Microsoft.ContainerRegistry/registries", "acmeregistry")]
    assert (acr.attrs["adminUserEnabled"], acr.public) == (True, True)


def test_networking(res: dict[str, Resource]) -> None:
    """Subnets are resources with their NSG; NICs and public IPs say what is Internet-facing."""
    subnet = "Microsoft.Network/virtualNetworks/subnets"
    app = res[rid(subnet, "platform-vnet/app")]
    jump = res[rid(subnet, "platform-vnet/jump")]
    assert app.attrs["networkSecurityGroup"].lower() == rid(
        "Microsoft.Network/networkSecurityGroups", "app-nsg"
    )
    assert jump.attrs["networkSecurityGroup"] is None and jump.region == "westeurope"
    assert res[rid("Microsoft.Network/networkInterfaces", "jump-nic")].public is True
    assert res[rid("Microsoft.Network/networkInterfaces", "app-nic")].public is False
    pip = res[rid("Microsoft.Network/publicIPAddresses", "gw-pip")]
    assert (pip.public, pip.attrs["ipAddress"]) == (True, "20.50.1.2")


def test_application_gateways(res: dict[str, Resource]) -> None:
    """TLS minimum from a predefined or custom policy, and the WAF state."""
    gw = res[rid("Microsoft.Network/applicationGateways", "acme-gw")]
    assert (gw.attrs["minimumTlsVersion"], gw.attrs["waf"]["enabled"], gw.public) == (
        "TLSv1_0",
        False,
        True,
    )
    waf = res[rid("Microsoft.Network/applicationGateways", "acme-waf-gw")]
    assert (waf.attrs["minimumTlsVersion"], waf.attrs["waf"]["mode"], waf.public) == (
        "TLSv1_2",
        "Prevention",
        False,
    )


def test_sql_and_web_apps_extended(res: dict[str, Resource]) -> None:
    """SQL firewall rules and auditing; web apps' HTTPS only, config/web TLS and setting names."""
    sql = res[rid("Microsoft.Sql/servers", "acme-data-sql")]
    assert (
        sql.attrs["openToInternet"],
        sql.attrs["allowAzureServices"],
        sql.attrs["auditingEnabled"],
    ) == (True, True, True)
    site = res[rid("Microsoft.Web/sites", "acme-data-api")]
    assert (site.attrs["httpsOnly"], site.attrs["minimumTlsVersion"], site.attrs["ftpsState"]) == (
        False,
        "1.0",
        "AllAllowed",
    )
    assert site.attrs["appSettings"] == {"STORAGE_KEY": TEST_FP(DEMO_SECRET_CANARY)}
    assert (
        "connectionStrings" not in site.attrs["webConfig"]
        and "publishingUsername" not in site.attrs["webConfig"]
    )
    geo = res[rid("Microsoft.Storage/storageAccounts", "acmeeugeo")]
    assert (
        geo.attrs["dataLocations"] == ["northeurope", "westeurope"]
        and geo.attrs["secureTransport"] is True
    )


def test_subscription_settings_are_resources(res: dict[str, Resource]) -> None:
    """Pricings, diagnostic settings, role assignments and contacts are resources; the
    subscription's own resource summarises them (owners, foreign principals, export)."""
    data = res[f"/subscriptions/{SUB_DATA}"].attrs["settings"]
    assert data["owners"] == 4 and data["ownersInherited"] == 1 and data["externalPrincipals"] == 1
    assert data["activityLogExported"] is False and data["securityContactEmails"] == 0
    assert {p["plan"]: p["tier"] for p in data["defenderPlans"]}["VirtualMachines"] == "Free"
    prod = res[f"/subscriptions/{SUB_PROD}"].attrs["settings"]
    assert (
        prod["owners"] == 2
        and prod["activityLogExported"] is True
        and prod["securityContactEmails"] == 1
    )
    types = {r.type for r in res.values() if r.account == SUB_DATA}
    assert {"microsoft.security/pricings", "microsoft.authorization/roleassignments"} <= types
    assignments = [r for r in res.values() if r.type == "microsoft.authorization/roleassignments"]
    assert all(r.key.startswith("/subscriptions/") for r in assignments)  # the root's is not stored
    foreign = [r for r in assignments if r.attrs["external"]]
    assert len(foreign) == 1 and foreign[0].attrs["roleName"] == "Reader"
    alert = res[rid("Microsoft.Insights/activityLogAlerts", "alert-nsg-write")]
    assert alert.attrs["operations"] == ["microsoft.network/networksecuritygroups/write"]


def test_an_omitted_field_is_null_not_a_parse_error(tenant: ArmEmulator) -> None:
    """A Cosmos DB account and a gateway answering with no properties at all are stored without
    error, their derived fields empty and facets unknown or null."""
    cosmos = resource_id(SUB_DATA, RG, "Microsoft.DocumentDB/databaseAccounts", "acme-eu-profiles")
    gw = resource_id(SUB_DATA, RG, "Microsoft.Network/applicationGateways", "acme-gw")
    for target, rtype in (
        (cosmos, "Microsoft.DocumentDB/databaseAccounts"),
        (gw, "Microsoft.Network/applicationGateways"),
    ):
        body = {
            "id": target,
            "name": target.rsplit("/", 1)[-1],
            "type": rtype,
            "location": "westeurope",
        }
        tenant.add_fault(
            status=200,
            method="GET",
            match=target + "\\?",
            count=None,
            body=json.dumps(body).encode(),
        )
    run = run_source(make_source(tenant, subscriptions=[SUB_DATA]))
    got = {r.key: r for r in run.resources}
    c, g = got[cosmos.lower()], got[gw.lower()]
    assert (c.error, c.attrs["dataLocations"], c.public) == (None, [], None)
    assert (g.error, g.attrs["minimumTlsVersion"], g.public) == (None, None, None)
    assert run.status == "ok"


def test_an_api_the_endpoint_lacks_is_unread_not_a_failure(tenant: ArmEmulator) -> None:
    """Security contacts answering InvalidResourceType are recorded as unread (summary null);
    a denied role-assignment list fails the subscription instead."""
    tenant.add_fault(status=404, match="securityContacts", count=None, code="InvalidResourceType")
    run = run_source(make_source(tenant, subscriptions=[SUB_DATA]))
    sub = next(r for r in run.resources if r.key == f"/subscriptions/{SUB_DATA}")
    assert run.status == "ok" and sub.attrs["settings"]["securityContactEmails"] is None
    assert sub.attrs["settings"]["unread"]["securityContacts"].startswith("unsupported: ")
    tenant.clear()
    tenant.add_fault(status=403, match="roleAssignments", count=None, code="AuthorizationFailed")
    denied = run_source(make_source(tenant, subscriptions=[SUB_DATA]))
    assert [(s.status, s.reason) for s in denied.slices] == [("failed", "denied")]
