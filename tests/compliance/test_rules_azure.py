"""The Azure rules and the Azure parts of the shared rules: each passes on a compliant resource
and fails on a broken one (synthetic estates, shaped as the Azure collector writes them)."""

from __future__ import annotations

from typing import Any

from driftscan.model import Resource
from driftscan.store import Store
from tests.compliance.conftest import SUB, by_resource, check, config, statuses, write_scan

EU = {"data_class": "eu-personal"}
PCI_TAG = {"pci": "true"}
RESIDENCY = {"residency": {"eu-personal": ["westeurope", "northeurope"]}}
SUBSCRIPTION = "microsoft.resources/subscriptions"


def az(
    type_: str,
    name: str,
    *,
    region: str = "westeurope",
    tags: dict[str, str] | None = None,
    attrs: dict[str, Any] | None = None,
    encrypted: bool | None = None,
    public: bool | None = None,
    account: str = SUB,
) -> Resource:
    """An Azure resource with collector-derived attributes (and ARM properties under attrs)."""
    if type_ == SUBSCRIPTION:
        key = f"/subscriptions/{account}"
    else:
        ns, _, rest = type_.partition("/")
        kinds, names = rest.split("/"), name.split("/")
        tail = "/".join(f"{k}/{n}" for k, n in zip(kinds, names, strict=True))
        key = f"/subscriptions/{account}/resourcegroups/rg/providers/{ns}/{tail}"
    return Resource(
        key=key, provider="azure", source="azure-prod", account=account, region=region,
        type=type_, name=name, tags=tags or {}, attrs={"properties": {}, **(attrs or {})},
        encrypted=encrypted, public=public,
    )  # fmt: skip


def verdicts(store: Store, rule: str, **cfg: Any) -> dict[str, str]:
    """The rule's status by the resource's last name segment (the subscription id for one)."""
    res = check(store, config(**cfg)) if cfg else check(store)
    return {k.rsplit("/", 1)[-1]: v for k, v in statuses(res, rule).items()}


class TestSharedRules:
    def test_cosmos_is_assessed_in_each_of_its_regions(self, store: Store) -> None:
        """A Cosmos DB account at home in West Europe but replicated to East US alarms, naming
        East US; one replicated only within the allowed regions passes."""
        write_scan(store, [
            az("microsoft.documentdb/databaseaccounts", "good", tags=EU,
               attrs={"dataLocations": ["northeurope", "westeurope"]}),
            az("microsoft.documentdb/databaseaccounts", "replicated", tags=EU,
               attrs={"dataLocations": ["eastus", "westeurope"]}),
        ])  # fmt: skip
        res = check(store, config(params=RESIDENCY))
        got = by_resource(res, "data_residency_region")
        status = {k.rsplit("/", 1)[-1]: f.status for k, f in got.items()}
        assert status == {"good": "ok", "replicated": "alarm"}
        bad = next(f for k, f in got.items() if k.endswith("/replicated"))
        assert "eastus" in bad.reason and "allowed" in bad.reason

    def test_every_azure_type_with_a_location_answers_residency(self, store: Store) -> None:
        """Types the collector has no mapping for answer the residency rule too."""
        write_scan(store, [
            az("microsoft.cache/redis", "eucache", region="westeurope", tags=EU),
            az("microsoft.containerservice/managedclusters", "usaks", region="eastus", tags=EU),
            az("microsoft.storage/storageaccounts", "grs", tags=EU,
               attrs={"dataLocations": ["westeurope", "northeurope"]}),
        ])  # fmt: skip
        assert verdicts(store, "data_residency_region", params=RESIDENCY) == {
            "eucache": "ok", "usaks": "alarm", "grs": "ok"}  # fmt: skip

    def test_databases_answer_the_pci_storage_rules(self, store: Store) -> None:
        """Cosmos DB, PostgreSQL/MySQL flexible servers and managed disks are PCI storage:
        encryption and public reachability are both assessed."""
        write_scan(store, [
            az("microsoft.documentdb/databaseaccounts", "cosmos", tags=PCI_TAG, encrypted=True, public=True),
            az("microsoft.dbforpostgresql/flexibleservers", "pg", tags=PCI_TAG, encrypted=True, public=False),
            az("microsoft.dbformysql/flexibleservers", "mysql", tags=PCI_TAG, encrypted=True, public=True),
            az("microsoft.compute/disks", "disk", tags=PCI_TAG, encrypted=False, public=False),
        ])  # fmt: skip
        assert verdicts(store, "pci_storage_not_public", scopes={"pci": {"tags": PCI_TAG}}) == {
            "cosmos": "alarm", "pg": "ok", "mysql": "alarm", "disk": "ok"}  # fmt: skip
        assert verdicts(store, "pci_storage_encrypted", scopes={"pci": {"tags": PCI_TAG}}) == {
            "cosmos": "ok", "pg": "ok", "mysql": "ok", "disk": "alarm"}  # fmt: skip

    def test_tls_rule_covers_gateways_and_flexible_servers(self, store: Store) -> None:
        """Application Gateways and PostgreSQL/MySQL flexible servers below TLS 1.2, or with
        plaintext allowed, alarm; web apps read config/web's minimum."""

        def tls(type_: str, name: str, value: str | None) -> Resource:
            return az(type_, name, tags=PCI_TAG, attrs={"minimumTlsVersion": value})

        write_scan(store, [
            tls("microsoft.network/applicationgateways", "gw12", "TLSv1_2"),
            tls("microsoft.network/applicationgateways", "gw10", "TLSv1_0"),
            tls("microsoft.network/applicationgateways", "gwdefault", None),
            tls("microsoft.dbforpostgresql/flexibleservers", "pg12", "TLSv1.2"),
            tls("microsoft.dbforpostgresql/flexibleservers", "pgplain", "none (require_secure_transport is OFF)"),
            tls("microsoft.dbformysql/flexibleservers", "mysql10", "TLSv1.0"),
            tls("microsoft.web/sites", "site10", "1.0"),
            tls("microsoft.web/sites", "site12", "1.2"),
        ])  # fmt: skip
        assert verdicts(store, "pci_tls_min_version", scopes={"pci": {"tags": PCI_TAG}}) == {
            "gw12": "ok", "gw10": "alarm", "gwdefault": "alarm", "pg12": "ok", "pgplain": "alarm",
            "mysql10": "alarm", "site10": "alarm", "site12": "ok"}  # fmt: skip


class TestResourceRules:
    def test_keyvault_recoverable(self, store: Store) -> None:
        """A vault without purge protection alarms; one with it passes."""
        write_scan(store, [
            az("microsoft.keyvault/vaults", "kvok", attrs={"purgeProtection": True, "softDelete": True}),
            az("microsoft.keyvault/vaults", "kvbad", attrs={"purgeProtection": False, "softDelete": None}),
        ])  # fmt: skip
        assert verdicts(store, "azure_keyvault_recoverable") == {"kvok": "ok", "kvbad": "alarm"}

    def test_keyvault_item_expiry(self, store: Store) -> None:
        """Items without expiry or expired (2026-03-01 is the scan date) alarm; disabled ones skip."""

        def item(kind: str, name: str, **attrs: Any) -> Resource:
            return az(f"microsoft.keyvault/vaults/{kind}", f"kv/{name}", attrs=attrs)

        write_scan(store, [
            item("keys", "fresh", enabled=True, expiresOn="2030-01-01T00:00:00Z"),
            item("keys", "expired", enabled=True, expiresOn="2025-01-01T00:00:00Z"),
            item("secrets", "forever", enabled=True, expiresOn=None),
            item("secrets", "cert", enabled=True, certificate=True, expiresOn="2026-03-10T00:00:00Z"),
            item("secrets", "off", enabled=False, expiresOn=None),
            # A certificate read from the data plane, and the secret backing it (skipped).
            item("certificates", "tls", enabled=True, certificate=True, expiresOn="2025-06-01T00:00:00Z"),
            item("secrets", "tls", enabled=True, certificate=True, expiresOn="2025-06-01T00:00:00Z"),
        ])  # fmt: skip
        res = check(store)
        # Keyed by name, certificates as "certificate <name>" (their backing secret shares it).
        got = {
            ("certificate " if "/certificates/" in k else "") + k.rsplit("/", 1)[-1]: f
            for k, f in by_resource(res, "azure_keyvault_item_expiry").items()
        }
        assert {k: f.status for k, f in got.items()} == {
            "fresh": "ok", "expired": "alarm", "forever": "alarm", "cert": "alarm", "off": "skip",
            "certificate tls": "alarm", "tls": "skip"}  # fmt: skip
        assert got["certificate tls"].reason == "certificate expired on 2025-06-01"
        assert got["cert"].reason.startswith("certificate expires in 9 days")
        assert got["expired"].reason == "key expired on 2025-01-01"

    def test_aks_hardened(self, store: Store) -> None:
        """A cluster with local accounts, no network policy and a public API server alarms,
        listing each gap; a hardened one passes."""
        write_scan(store, [
            az("microsoft.containerservice/managedclusters", "good", attrs={
                "rbac": True, "localAccountsDisabled": True, "networkPolicy": "calico",
                "privateCluster": True, "authorizedIpRanges": []}),
            az("microsoft.containerservice/managedclusters", "open", attrs={
                "rbac": True, "localAccountsDisabled": False, "networkPolicy": None,
                "privateCluster": False, "authorizedIpRanges": []}),
        ])  # fmt: skip
        res = by_resource(check(store), "azure_aks_hardened")
        got = {k.rsplit("/", 1)[-1]: f for k, f in res.items()}
        assert (got["good"].status, got["open"].status) == ("ok", "alarm")
        assert got["open"].reason == (
            "local accounts enabled; no network policy; API server open to the Internet"
        )

    def test_subnet_nsg_attached(self, store: Store) -> None:
        """A subnet without an NSG alarms; GatewaySubnet is skipped."""
        nsg = f"/subscriptions/{SUB}/resourcegroups/rg/providers/microsoft.network/networksecuritygroups/app-nsg"
        write_scan(store, [
            az("microsoft.network/virtualnetworks/subnets", "vnet/app", attrs={"networkSecurityGroup": nsg}),
            az("microsoft.network/virtualnetworks/subnets", "vnet/jump", attrs={"networkSecurityGroup": None}),
            az("microsoft.network/virtualnetworks/subnets", "vnet/GatewaySubnet", attrs={"networkSecurityGroup": None}),
        ])  # fmt: skip
        assert verdicts(store, "azure_subnet_nsg_attached") == {
            "app": "ok", "jump": "alarm", "GatewaySubnet": "skip"}  # fmt: skip

    def test_appgw_waf(self, store: Store) -> None:
        """No WAF or a detecting WAF alarms; a WAF policy or prevention mode passes."""
        gw = "microsoft.network/applicationgateways"
        write_scan(store, [
            az(gw, "policy", attrs={"waf": {"enabled": True, "mode": None, "policy": "/x/wafpolicy"}}),
            az(gw, "prevent", attrs={"waf": {"enabled": True, "mode": "Prevention", "policy": None}}),
            az(gw, "detect", attrs={"waf": {"enabled": True, "mode": "Detection", "policy": None}}),
            az(gw, "none", attrs={"waf": {"enabled": False, "policy": None, "tier": "Standard_v2"}}),
        ])  # fmt: skip
        assert verdicts(store, "azure_appgw_waf") == {
            "policy": "ok", "prevent": "ok", "detect": "alarm", "none": "alarm"}  # fmt: skip

    def test_registry_admin_user(self, store: Store) -> None:
        """An enabled admin user alarms; an unreported setting is not assessed."""
        acr = "microsoft.containerregistry/registries"
        write_scan(store, [
            az(acr, "good", attrs={"adminUserEnabled": False, "anonymousPullEnabled": False}),
            az(acr, "admin", attrs={"adminUserEnabled": True}),
            az(acr, "unknown", attrs={"adminUserEnabled": None}),
        ])  # fmt: skip
        assert verdicts(store, "azure_registry_admin_user") == {
            "good": "ok", "admin": "alarm", "unknown": "not_assessed"}  # fmt: skip

    def test_web_https_only(self, store: Store) -> None:
        """HTTP allowed or plain FTP alarms; HTTPS only with FTPS passes."""
        site = "microsoft.web/sites"
        write_scan(store, [
            az(site, "good", attrs={"httpsOnly": True, "ftpsState": "FtpsOnly"}),
            az(site, "http", attrs={"httpsOnly": False, "ftpsState": "Disabled"}),
            az(site, "ftp", attrs={"httpsOnly": True, "ftpsState": "AllAllowed"}),
        ])  # fmt: skip
        assert verdicts(store, "azure_web_https_only") == {
            "good": "ok",
            "http": "alarm",
            "ftp": "alarm",
        }

    def test_sql_server_hardened(self, store: Store) -> None:
        """An Internet-wide firewall rule or auditing off alarms; unread settings are not assessed."""
        sql = "microsoft.sql/servers"
        write_scan(store, [
            az(sql, "good", attrs={"openToInternet": False, "auditingEnabled": True, "allowAzureServices": True}),
            az(sql, "open", attrs={"openToInternet": True, "auditingEnabled": True}),
            az(sql, "unaudited", attrs={"openToInternet": False, "auditingEnabled": False}),
            az(sql, "unread", attrs={}),
        ])  # fmt: skip
        assert verdicts(store, "azure_sql_server_hardened") == {
            "good": "ok", "open": "alarm", "unaudited": "alarm", "unread": "not_assessed"}  # fmt: skip

    def test_storage_secure_transfer(self, store: Store) -> None:
        """HTTP allowed or anonymous blob access alarms; an unreported setting is not assessed."""
        sa = "microsoft.storage/storageaccounts"
        write_scan(store, [
            az(sa, "good", attrs={"secureTransport": True, "blobPublicAccess": False}),
            az(sa, "http", attrs={"secureTransport": False, "blobPublicAccess": False}),
            az(sa, "anon", attrs={"secureTransport": True, "blobPublicAccess": True}),
            az(sa, "unread", attrs={"secureTransport": None}),
        ])  # fmt: skip
        assert verdicts(store, "azure_storage_secure_transfer") == {
            "good": "ok", "http": "alarm", "anon": "alarm", "unread": "not_assessed"}  # fmt: skip

    def test_database_geo_backup(self, store: Store) -> None:
        """An in-scope flexible server without geo-redundant backup alarms."""
        write_scan(store, [
            az("microsoft.dbforpostgresql/flexibleservers", "geo", tags=PCI_TAG, attrs={"geoRedundantBackup": True}),
            az("microsoft.dbformysql/flexibleservers", "local", tags=PCI_TAG, attrs={"geoRedundantBackup": False}),
        ])  # fmt: skip
        assert verdicts(store, "azure_database_geo_backup") == {"geo": "ok", "local": "alarm"}


S1, S2, S3 = (f"0000000{i}-0000-0000-0000-00000000000{i}" for i in (1, 2, 3))


def sub(account: str, **settings: Any) -> Resource:
    return az(SUBSCRIPTION, account, region="", account=account, attrs={"settings": settings})


class TestSubscriptionRules:
    def test_defender_plans(self, store: Store) -> None:
        """A subscription with a required plan on Free alarms naming it; unread pricings are not assessed."""
        on = [
            {"plan": p, "tier": "Standard"}
            for p in ("VirtualMachines", "SqlServers", "StorageAccounts", "KeyVaults")
        ]
        write_scan(store, [
            sub(S1, defenderPlans=on),
            sub(S2, defenderPlans=[*on[:2], {"plan": "StorageAccounts", "tier": "Free"}]),
            sub(S3, defenderPlans=None),
        ])  # fmt: skip
        res = check(store)
        got = by_resource(res, "azure_subscription_defender")
        assert {k.rsplit("/", 1)[-1]: f.status for k, f in got.items()} == {
            S1: "ok", S2: "alarm", S3: "not_assessed"}  # fmt: skip
        assert (
            got[f"/subscriptions/{S2}"].reason
            == "Defender off (Free) for StorageAccounts, KeyVaults"
        )

    def test_activity_log_exported(self, store: Store) -> None:
        """No activity-log export alarms; an exported one passes."""
        write_scan(store, [sub(S1, activityLogExported=True), sub(S2, activityLogExported=False),
                           sub(S3, activityLogExported=None)])  # fmt: skip
        assert verdicts(store, "azure_subscription_activity_log") == {
            S1: "ok", S2: "alarm", S3: "not_assessed"}  # fmt: skip

    def test_owners_and_foreign_principals(self, store: Store) -> None:
        """Four direct owners, or a foreign group, alarm; two owners pass."""
        write_scan(store, [
            sub(S1, owners=2, ownersInherited=1, externalPrincipals=0),
            sub(S2, owners=4, ownersInherited=0, externalPrincipals=1),
            sub(S3, owners=None, ownersInherited=None, externalPrincipals=None),
        ])  # fmt: skip
        res = by_resource(check(store), "azure_subscription_owners")
        got = {k.rsplit("/", 1)[-1]: f for k, f in res.items()}
        assert {k: f.status for k, f in got.items()} == {S1: "ok", S2: "alarm", S3: "not_assessed"}
        assert got[S2].reason == (
            "4 direct owner(s), more than 3; 1 assignment(s) to principals of another tenant"
        )

    def test_security_contact(self, store: Store) -> None:
        """No security contact with an e-mail alarms."""
        write_scan(store, [sub(S1, securityContactEmails=1), sub(S2, securityContactEmails=0)])
        assert verdicts(store, "azure_subscription_security_contact") == {S1: "ok", S2: "alarm"}

    def test_activity_log_alerts(self, store: Store) -> None:
        """A subscription missing alerts for listed operations alarms, counting them; disabled
        alerts do not count."""
        ops = [
            "microsoft.authorization/policyassignments/write", "microsoft.authorization/policyassignments/delete",
            "microsoft.network/networksecuritygroups/write", "microsoft.network/networksecuritygroups/delete",
            "microsoft.network/networksecuritygroups/securityrules/write",
            "microsoft.network/networksecuritygroups/securityrules/delete",
            "microsoft.security/securitysolutions/write", "microsoft.security/securitysolutions/delete",
            "microsoft.sql/servers/firewallrules/write", "microsoft.sql/servers/firewallrules/delete",
        ]  # fmt: skip
        alert = "microsoft.insights/activitylogalerts"
        write_scan(store, [
            sub(S1), sub(S2), sub(S3),
            az(alert, "all", account=S1, region="global", attrs={"enabled": True, "operations": ops}),
            az(alert, "one", account=S2, region="global", attrs={"enabled": True, "operations": ops[2:3]}),
            az(alert, "off", account=S3, region="global", attrs={"enabled": False, "operations": ops}),
        ])  # fmt: skip
        res = by_resource(check(store), "azure_activity_log_alerts")
        got = {k.rsplit("/", 1)[-1]: f for k, f in res.items()}
        assert {k: f.status for k, f in got.items()} == {S1: "ok", S2: "alarm", S3: "alarm"}
        assert got[S2].reason.startswith("9 operation(s) without an alert")
