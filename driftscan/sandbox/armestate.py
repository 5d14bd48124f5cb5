"""The ARM emulator's seed estates, as plain data: the demo's two subscriptions, and a whole
tenant (management groups, every type the collector reads in full, settings, seeded problems)."""

from __future__ import annotations

import copy
import uuid
from typing import Any

DEMO_TOKEN = "sandbox-arm-token"
DEMO_SECRET_CANARY = "canary-9f1c2d-do-not-store"
DEMO_TENANT = "72f988bf-0000-4000-8000-000000000001"
SUB_PROD = "11111111-1111-4111-8111-111111111111"
SUB_DEV = "22222222-2222-4222-8222-222222222222"
SUB_DATA = "33333333-3333-4333-8333-333333333333"
SUB_DENIED = "44444444-4444-4444-8444-444444444444"


def resource_id(sub: str, rg: str, rtype: str, name: str) -> str:
    """The ARM id of a resource from its subscription, group, type and (slash-joined) name."""
    namespace, *kinds = rtype.split("/")
    names = name.split("/")
    if len(kinds) != len(names):
        raise ValueError(f"type {rtype!r} needs {len(kinds)} name segments, got {name!r}")
    tail = "/".join(f"{k}/{n}" for k, n in zip(kinds, names, strict=True))
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{namespace}/{tail}"


# -- the demo estate (data) -------------------------------------------------------------


def _storage(
    name: str,
    location: str,
    tags: dict[str, str],
    *,
    blob_public: bool = False,
    network: str = "Deny",
    tls: str = "TLS1_2",
    https_only: bool = True,
) -> dict[str, Any]:
    return {
        "type": "Microsoft.Storage/storageAccounts",
        "name": name,
        "location": location,
        "kind": "StorageV2",
        "sku": {"name": "Standard_LRS", "tier": "Standard"},
        "tags": tags,
        "properties": {
            "encryption": {
                "services": {
                    "blob": {"enabled": True, "keyType": "Account"},
                    "file": {"enabled": True, "keyType": "Account"},
                },
                "keySource": "Microsoft.Storage",
                "requireInfrastructureEncryption": False,
            },
            "allowBlobPublicAccess": blob_public,
            "publicNetworkAccess": "Enabled",
            "minimumTlsVersion": tls,
            "supportsHttpsTrafficOnly": https_only,
            "networkAcls": {"defaultAction": network, "bypass": "AzureServices", "ipRules": []},
            "primaryEndpoints": {"blob": f"https://{name}.blob.core.windows.net/"},
            "provisioningState": "Succeeded",
        },
    }


def _vm(
    sub: str, rg: str, name: str, location: str, tags: dict[str, str], *, managed: bool = True
) -> dict[str, Any]:
    os_disk: dict[str, Any] = {"osType": "Linux", "name": f"{name}-os", "createOption": "FromImage"}
    if managed:
        os_disk["managedDisk"] = {
            "storageAccountType": "Premium_LRS",
            "id": resource_id(sub, rg, "Microsoft.Compute/disks", f"{name}-os"),
        }
    else:
        os_disk["vhd"] = {"uri": f"https://legacyvhds.blob.core.windows.net/vhds/{name}.vhd"}
    return {
        "type": "Microsoft.Compute/virtualMachines",
        "name": name,
        "location": location,
        "tags": tags,
        "properties": {
            "vmId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{sub}/{name}")),
            "hardwareProfile": {"vmSize": "Standard_B2s"},
            "storageProfile": {
                "imageReference": {
                    "publisher": "Canonical",
                    "offer": "ubuntu-24_04-lts",
                    "sku": "server",
                },
                "osDisk": os_disk,
            },
            "osProfile": {
                "computerName": name,
                "adminUsername": "azureuser",
                "linuxConfiguration": {"disablePasswordAuthentication": True},
            },
            "securityProfile": {"encryptionAtHost": False},
            "networkProfile": {
                "networkInterfaces": [
                    {
                        "id": resource_id(
                            sub, rg, "Microsoft.Network/networkInterfaces", f"{name}-nic"
                        )
                    }
                ]
            },
            "provisioningState": "Succeeded",
        },
    }


def _nsg(
    name: str, location: str, tags: dict[str, str], rules: list[tuple[str, str, str, str]]
) -> dict[str, Any]:
    return {
        "type": "Microsoft.Network/networkSecurityGroups",
        "name": name,
        "location": location,
        "tags": tags,
        "properties": {
            "securityRules": [
                {
                    "name": rname,
                    "properties": {
                        "protocol": "Tcp",
                        "sourcePortRange": "*",
                        "destinationPortRange": port,
                        "sourceAddressPrefix": source,
                        "destinationAddressPrefix": "*",
                        "access": access,
                        "priority": 100 + i * 10,
                        "direction": "Inbound",
                    },
                }
                for i, (rname, port, source, access) in enumerate(rules)
            ],
            "provisioningState": "Succeeded",
        },
    }


def _sql_server(name: str, location: str, tags: dict[str, str], *, public: str) -> dict[str, Any]:
    return {
        "type": "Microsoft.Sql/servers",
        "name": name,
        "location": location,
        "kind": "v12.0",
        "tags": tags,
        "properties": {
            "administratorLogin": "sqladmin",
            "version": "12.0",
            "state": "Ready",
            "fullyQualifiedDomainName": f"{name}.database.windows.net",
            "publicNetworkAccess": public,
            "minimalTlsVersion": "1.2",
        },
    }


def _sql_db(
    server: str, db: str, location: str, tags: dict[str, str], *, tde: str
) -> dict[str, Any]:
    return {
        "type": "Microsoft.Sql/servers/databases",
        "name": f"{server}/{db}",
        "location": location,
        "kind": "v12.0,user",
        "sku": {"name": "S0", "tier": "Standard"},
        "tags": tags,
        "properties": {
            "status": "Online",
            "collation": "SQL_Latin1_General_CP1_CI_AS",
            "zoneRedundant": False,
        },
        "transparentDataEncryption": {"state": tde},
    }


def _vault(
    name: str, location: str, tags: dict[str, str], *, purge: bool, public: str
) -> dict[str, Any]:
    return {
        "type": "Microsoft.KeyVault/vaults",
        "name": name,
        "location": location,
        "tags": tags,
        "properties": {
            "tenantId": DEMO_TENANT,
            "sku": {"family": "A", "name": "standard"},
            "enableSoftDelete": True,
            "softDeleteRetentionInDays": 90,
            "enablePurgeProtection": purge,
            "enableRbacAuthorization": True,
            "publicNetworkAccess": public,
            "networkAcls": {
                "defaultAction": "Deny" if public == "Disabled" else "Allow",
                "bypass": "AzureServices",
            },
            "vaultUri": f"https://{name}.vault.azure.net/",
        },
    }


def _site(
    name: str, location: str, tags: dict[str, str], settings: dict[str, str]
) -> dict[str, Any]:
    return {
        "type": "Microsoft.Web/sites",
        "name": name,
        "location": location,
        "kind": "app,linux",
        "tags": tags,
        "properties": {
            "state": "Running",
            "hostNames": [f"{name}.azurewebsites.net"],
            "httpsOnly": True,
            "publicNetworkAccess": "Enabled",
            "siteConfig": {"minTlsVersion": "1.2", "ftpsState": "FtpsOnly", "appSettings": None},
        },
        "appSettings": settings,
    }


def _generic(rtype: str, name: str, location: str, tags: dict[str, str]) -> dict[str, Any]:
    return {"type": rtype, "name": name, "location": location, "tags": tags, "properties": {}}


OWNER = "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
READER = "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"


def _settings(sub: str, tier: str = "Standard") -> dict[str, Any]:
    """A well-kept subscription: Defender at `tier`, activity log exported, two owners, a contact."""
    return {
        "providers/Microsoft.Security/pricings": [
            {"name": p, "type": "Microsoft.Security/pricings", "properties": {"pricingTier": tier}}
            for p in ("VirtualMachines", "SqlServers", "StorageAccounts", "KeyVaults")
        ],
        "providers/Microsoft.Insights/diagnosticSettings": [
            {"name": "to-law", "type": "Microsoft.Insights/diagnosticSettings", "properties": {
                "workspaceId": f"/subscriptions/{sub}/resourceGroups/rg-data/providers/Microsoft.OperationalInsights/workspaces/law",
                "logs": [{"category": c, "enabled": True} for c in ("Administrative", "Security", "Policy", "Alert")]}},
        ],
        "providers/Microsoft.Authorization/roleAssignments": [
            {"name": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{sub}/owner{i}")), "type": "Microsoft.Authorization/roleAssignments",
             "properties": {"roleDefinitionId": f"/subscriptions/{sub}{OWNER}", "principalId": f"owner-{i}",
                            "principalType": "Group" if i else "User", "scope": f"/subscriptions/{sub}"}} for i in range(2)
        ],
        "providers/Microsoft.Security/securityContacts": [
            {"name": "default", "type": "Microsoft.Security/securityContacts", "properties": {
                "emails": "secops@acme.example", "phone": "",
                "alertNotifications": {"state": "On", "minimalSeverity": "Medium"},
                "notificationsByRole": {"state": "On", "roles": ["Owner"]}}},
        ],
    }  # fmt: skip


def demo_estate() -> dict[str, Any]:
    """Two subscriptions with every type the collector reads in full, and some seeded problems.

    Seeded for the compliance rules: an `eu-personal` storage account in a US region, a PCI
    SQL server with public network access, an NSG open to the Internet on 22, a vault without
    purge protection, a database without TDE, a VM on an unencrypted unmanaged disk, and a web
    app whose settings hold a secret (DEMO_SECRET_CANARY) that must never be stored.
    """
    p, d = SUB_PROD, SUB_DEV
    eu = {"data_class": "eu-personal", "owner": "data-team"}
    pci = {"pci": "true", "owner": "payments"}
    return {
        "tenantId": DEMO_TENANT,
        "subscriptions": {
            p: {
                "displayName": "acme-prod",
                "settings": _settings(p),
                "resourceGroups": {
                    "rg-data": {
                        "location": "westeurope",
                        "tags": {"owner": "data-team"},
                        "resources": [
                            _storage("acmeeuarchive", "westeurope", eu),
                            _storage("acmeeucustomers", "eastus", eu),
                            _storage(
                                "acmepublicweb",
                                "westeurope",
                                {"owner": "web"},
                                blob_public=True,
                                network="Allow",
                            ),
                            _vault(
                                "acme-prod-kv",
                                "westeurope",
                                {"owner": "sec"},
                                purge=True,
                                public="Disabled",
                            ),
                            _generic(
                                "Microsoft.Network/privateEndpoints", "acme-kv-pe", "westeurope", {}
                            ),
                        ],
                    },
                    "rg-payments": {
                        "location": "eastus",
                        "tags": pci,
                        "resources": [
                            _sql_server("acme-payments-sql", "eastus", pci, public="Enabled"),
                            _sql_db("acme-payments-sql", "payments", "eastus", pci, tde="Enabled"),
                            _vm(p, "rg-payments", "pay-vm-01", "eastus", pci),
                            _nsg(
                                "pay-nsg",
                                "eastus",
                                pci,
                                [("allow-https", "443", "10.0.0.0/8", "Allow")],
                            ),
                            _site(
                                "acme-payments-api",
                                "eastus",
                                pci,
                                {"DB_PASSWORD": DEMO_SECRET_CANARY, "FEATURE_FLAGS": "checkout-v2"},
                            ),
                            _generic(
                                "Microsoft.Network/virtualNetworks", "pay-vnet", "eastus", pci
                            ),
                            _generic("Microsoft.Compute/disks", "pay-vm-01-os", "eastus", pci),
                        ],
                    },
                    "rg-web": {
                        "location": "westeurope",
                        "tags": {"owner": "web"},
                        "resources": [
                            _vm(p, "rg-web", "web-vm-01", "westeurope", {"owner": "web"}),
                            _nsg(
                                "web-nsg",
                                "westeurope",
                                {"owner": "web"},
                                [
                                    ("allow-ssh", "22", "Internet", "Allow"),
                                    ("allow-https", "443", "*", "Allow"),
                                ],
                            ),
                            _site(
                                "acme-www",
                                "westeurope",
                                {"owner": "web"},
                                {"APP_MODE": "production"},
                            ),
                            _generic(
                                "Microsoft.Network/publicIPAddresses", "web-pip", "westeurope", {}
                            ),
                        ],
                    },
                },
            },
            d: {
                "displayName": "acme-dev",
                "settings": _settings(d, tier="Free"),  # Defender off to save cost in dev
                "resourceGroups": {
                    "rg-dev": {
                        "location": "northeurope",
                        "tags": {"env": "dev"},
                        "resources": [
                            _storage("acmedevscratch", "northeurope", {"env": "dev"}, tls="TLS1_0"),
                            _vm(
                                d,
                                "rg-dev",
                                "dev-vm-legacy",
                                "northeurope",
                                {"env": "dev"},
                                managed=False,
                            ),
                            _nsg(
                                "dev-nsg",
                                "northeurope",
                                {"env": "dev"},
                                [("deny-all", "*", "*", "Deny")],
                            ),
                            _sql_server(
                                "acme-dev-sql", "northeurope", {"env": "dev"}, public="Disabled"
                            ),
                            _sql_db(
                                "acme-dev-sql",
                                "scratch",
                                "northeurope",
                                {"env": "dev"},
                                tde="Disabled",
                            ),
                            _vault(
                                "acme-dev-kv",
                                "northeurope",
                                {"env": "dev"},
                                purge=False,
                                public="Enabled",
                            ),
                            _site(
                                "acme-dev-app",
                                "northeurope",
                                {"env": "dev"},
                                {"API_KEY": "dev-key-123"},
                            ),
                        ],
                    },
                },
            },
        },
    }


# -- the whole tenant (data) ------------------------------------------------------------

# Expiry stamps (epoch seconds) for Key Vault items: long gone, and far ahead.
EXPIRED_2025 = 1735689600  # 2025-01-01T00:00:00Z
EXPIRES_2035 = 2051222400  # 2035-01-01T00:00:00Z


def _res(
    rtype: str, name: str, location: str, tags: dict[str, str], **props: Any
) -> dict[str, Any]:
    return {"type": rtype, "name": name, "location": location, "tags": tags, "properties": props}


def _cosmos(name: str, tags: dict[str, str], regions: list[str], *, public: str) -> dict[str, Any]:
    display = {"westeurope": "West Europe", "northeurope": "North Europe", "eastus": "East US"}
    locs = [
        {"locationName": display[r], "failoverPriority": i, "isZoneRedundant": False}
        for i, r in enumerate(regions)
    ]
    doc = _res(
        "Microsoft.DocumentDB/databaseAccounts", name, display[regions[0]], tags,
        databaseAccountOfferType="Standard", publicNetworkAccess=public, ipRules=[],
        isVirtualNetworkFilterEnabled=False, disableLocalAuth=True, minimalTlsVersion="Tls12",
        locations=locs, readLocations=locs, writeLocations=locs[:1],
        failoverPolicies=[{"locationName": loc["locationName"], "failoverPriority": loc["failoverPriority"]} for loc in locs],
    )  # fmt: skip
    doc["kind"] = "GlobalDocumentDB"
    return doc


def _flexible(
    kind: str,
    name: str,
    location: str,
    tags: dict[str, str],
    *,
    public: str,
    geo: str,
    params: dict[str, str],
) -> dict[str, Any]:
    rtype = f"Microsoft.DBfor{kind}/flexibleServers"
    doc = _res(
        rtype, name, location, tags, version="16" if kind == "PostgreSQL" else "8.0.21",
        state="Ready", administratorLogin="dbadmin",
        administratorLoginPassword=DEMO_SECRET_CANARY,  # never returned by ARM; planted here
        network={"publicNetworkAccess": public},
        backup={"backupRetentionDays": 7, "geoRedundantBackup": geo},
        storage={"storageSizeGB": 128},
    )  # fmt: skip
    doc["sku"] = {"name": "Standard_D2ds_v4", "tier": "GeneralPurpose"}
    doc["children"] = {
        f"configurations/{k}": {"name": k, "properties": {"value": v, "source": "user-override"}}
        for k, v in params.items()
    }
    return doc


def _data_subscription(sub: str) -> dict[str, Any]:
    """Every type the collector reads in full, with a problem and a clean example of most."""
    eu = {"data_class": "eu-personal", "owner": "data-team"}
    pci = {"pci": "true", "owner": "payments"}
    rg = "rg-platform"
    vnet = "platform-vnet"

    def rid(rtype: str, name: str) -> str:
        return resource_id(sub, rg, rtype, name)

    nsg_id = rid("Microsoft.Network/networkSecurityGroups", "app-nsg")
    pip_id = rid("Microsoft.Network/publicIPAddresses", "gw-pip")
    subnet = rid("Microsoft.Network/virtualNetworks/subnets", f"{vnet}/app")
    vault = _vault("acme-data-kv", "westeurope", {"owner": "sec"}, purge=True, public="Disabled")
    vault["children"] = {
        "keys": [
            {"name": "cmk-storage", "properties": {"kty": "RSA", "keySize": 3072, "attributes": {
                "enabled": True, "exp": EXPIRES_2035, "created": 1704067200},
                "rotationPolicy": {"lifetimeActions": []}}},
            {"name": "old-signing", "properties": {"kty": "EC", "attributes": {
                "enabled": True, "exp": EXPIRED_2025, "created": 1672531200}}},
        ],
        "secrets": [
            # ARM's secrets list never carries a value; the emulator plants one to prove it is dropped.
            {"name": "db-password", "tags": {"owner": "data-team"}, "properties": {
                "value": DEMO_SECRET_CANARY, "contentType": "text/plain",
                "attributes": {"enabled": True, "created": 1704067200}}},
            {"name": "api-tls", "properties": {
                "contentType": "application/x-pkcs12", "value": DEMO_SECRET_CANARY,
                "attributes": {"enabled": True, "exp": EXPIRES_2035, "created": 1704067200}}},
        ],
    }  # fmt: skip
    # The data plane's certificates: api-tls (backed by the secret above) and one that expired.
    vault["certificates"] = [
        {"name": "api-tls", "subject": "CN=api.acme.example", "x5t": "c2FuZGJveC1hcGktdGxz",
         "attributes": {"enabled": True, "exp": EXPIRES_2035, "nbf": 1704067200, "created": 1704067200}},
        {"name": "portal-tls", "subject": "CN=portal.acme.example", "x5t": "c2FuZGJveC1wb3J0YWw",
         "attributes": {"enabled": True, "exp": EXPIRED_2025, "nbf": 1672531200, "created": 1672531200}},
    ]  # fmt: skip
    gateway = _res(
        "Microsoft.Network/applicationGateways", "acme-gw", "westeurope", pci,
        sku={"name": "Standard_v2", "tier": "Standard_v2", "capacity": 2},
        sslPolicy={"policyType": "Predefined", "policyName": "AppGwSslPolicy20150501"},
        frontendIPConfigurations=[{"name": "public", "properties": {"publicIPAddress": {"id": pip_id}}}],
        webApplicationFirewallConfiguration={"enabled": False, "firewallMode": "Detection"},
        sslCertificates=[{"name": "tls", "properties": {"publicCertData": "MIIB...", "password": DEMO_SECRET_CANARY}}],
    )  # fmt: skip
    waf_gateway = _res(
        "Microsoft.Network/applicationGateways", "acme-waf-gw", "westeurope", pci,
        sku={"name": "WAF_v2", "tier": "WAF_v2", "capacity": 2},
        sslPolicy={"policyType": "CustomV2", "minProtocolVersion": "TLSv1_2"},
        frontendIPConfigurations=[{"name": "private", "properties": {"privateIPAddress": "10.1.0.10"}}],
        webApplicationFirewallConfiguration={"enabled": True, "firewallMode": "Prevention"},
    )  # fmt: skip
    site = _site("acme-data-api", "westeurope", pci, {"STORAGE_KEY": DEMO_SECRET_CANARY})
    site["properties"]["siteConfig"] = {"minTlsVersion": None, "appSettings": None}
    site["properties"]["httpsOnly"] = False
    site["children"] = {
        "config/web": {"name": "web", "properties": {
            "minTlsVersion": "1.0", "ftpsState": "AllAllowed", "http20Enabled": False,
            "remoteDebuggingEnabled": False, "publishingUsername": "$acme-data-api",
            "connectionStrings": [{"name": "db", "connectionString": DEMO_SECRET_CANARY}]}},
    }  # fmt: skip
    sql = _sql_server("acme-data-sql", "westeurope", pci, public="Enabled")
    sql["properties"]["minimalTlsVersion"] = "1.0"
    sql["children"] = {
        "firewallRules": [
            {"name": "AllowAllWindowsAzureIps", "properties": {"startIpAddress": "0.0.0.0", "endIpAddress": "0.0.0.0"}},
            {"name": "everyone", "properties": {"startIpAddress": "0.0.0.0", "endIpAddress": "255.255.255.255"}},
        ],
        "auditingSettings/default": {"name": "Default", "properties": {"state": "Enabled", "retentionDays": 90}},
    }  # fmt: skip
    grs = _storage("acmeeugeo", "westeurope", eu)
    grs["sku"] = {"name": "Standard_GRS", "tier": "Standard"}
    grs["properties"].update(primaryLocation="westeurope", secondaryLocation="northeurope")
    return {
        "displayName": "acme-data",
        "resourceGroups": {
            rg: {
                "location": "westeurope",
                "tags": {"owner": "platform"},
                "resources": [
                    _cosmos("acme-eu-orders", eu, ["westeurope", "northeurope"], public="Disabled"),
                    # Replicated into a US region: EU personal data outside its allowed regions.
                    _cosmos("acme-eu-profiles", eu, ["westeurope", "eastus"], public="Enabled"),
                    _flexible("PostgreSQL", "acme-pg", "westeurope", pci, public="Disabled", geo="Enabled",
                              params={"ssl_min_protocol_version": "TLSv1.2", "require_secure_transport": "on"}),
                    _flexible("MySQL", "acme-mysql", "westeurope", pci, public="Enabled", geo="Disabled",
                              params={"tls_version": "TLSv1,TLSv1.1,TLSv1.2", "require_secure_transport": "ON"}),
                    _flexible("PostgreSQL", "acme-pg-legacy", "northeurope", pci, public="Enabled", geo="Disabled",
                              params={"ssl_min_protocol_version": "TLSv1.2", "require_secure_transport": "off"}),
                    vault,
                    _res("Microsoft.ContainerService/managedClusters", "acme-aks", "westeurope", {"owner": "platform"},
                         kubernetesVersion="1.27.7", currentKubernetesVersion="1.27.7", enableRBAC=True,
                         disableLocalAccounts=False, aadProfile={"managed": True, "enableAzureRBAC": True},
                         apiServerAccessProfile={"enablePrivateCluster": False},
                         networkProfile={"networkPlugin": "azure", "networkPolicy": None},
                         servicePrincipalProfile={"clientId": "msi", "secret": DEMO_SECRET_CANARY}),
                    _res("Microsoft.ContainerService/managedClusters", "acme-aks-private", "westeurope", {"owner": "platform"},
                         kubernetesVersion="1.30.3", enableRBAC=True, disableLocalAccounts=True,
                         apiServerAccessProfile={"enablePrivateCluster": True},
                         networkProfile={"networkPlugin": "azure", "networkPolicy": "calico"}),
                    _res("Microsoft.Compute/disks", "data-disk-cmk", "westeurope", pci,
                         diskSizeGB=256, diskState="Attached", networkAccessPolicy="DenyAll",
                         encryption={"type": "EncryptionAtRestWithCustomerKey", "diskEncryptionSetId": "x"}),
                    _res("Microsoft.Compute/disks", "orphan-disk", "westeurope", pci,
                         diskSizeGB=64, diskState="Unattached", networkAccessPolicy="AllowAll",
                         publicNetworkAccess="Enabled", encryption={"type": "EncryptionAtRestWithPlatformKey"}),
                    _res("Microsoft.Network/publicIPAddresses", "gw-pip", "westeurope", {},
                         ipAddress="20.50.1.2", publicIPAllocationMethod="Static",
                         ipConfiguration={"id": rid("Microsoft.Network/applicationGateways", "acme-gw") + "/frontendIPConfigurations/public"}),
                    _res("Microsoft.Network/networkInterfaces", "app-nic", "westeurope", {},
                         networkSecurityGroup={"id": nsg_id},
                         ipConfigurations=[{"name": "ipconfig1", "properties": {
                             "privateIPAddress": "10.1.1.4", "subnet": {"id": subnet}}}]),
                    _res("Microsoft.Network/networkInterfaces", "jump-nic", "westeurope", {},
                         ipConfigurations=[{"name": "ipconfig1", "properties": {
                             "privateIPAddress": "10.1.2.4", "publicIPAddress": {"id": pip_id},
                             "subnet": {"id": rid("Microsoft.Network/virtualNetworks/subnets", f"{vnet}/jump")}}}]),
                    _res("Microsoft.Network/virtualNetworks", vnet, "westeurope", {"owner": "platform"},
                         addressSpace={"addressPrefixes": ["10.1.0.0/16"]},
                         subnets=[
                             {"id": subnet, "name": "app", "type": "Microsoft.Network/virtualNetworks/subnets",
                              "properties": {"addressPrefix": "10.1.1.0/24", "networkSecurityGroup": {"id": nsg_id}}},
                             {"id": rid("Microsoft.Network/virtualNetworks/subnets", f"{vnet}/jump"), "name": "jump",
                              "type": "Microsoft.Network/virtualNetworks/subnets",
                              "properties": {"addressPrefix": "10.1.2.0/24"}},
                             {"id": rid("Microsoft.Network/virtualNetworks/subnets", f"{vnet}/GatewaySubnet"),
                              "name": "GatewaySubnet", "type": "Microsoft.Network/virtualNetworks/subnets",
                              "properties": {"addressPrefix": "10.1.255.0/27"}},
                         ]),
                    _nsg("app-nsg", "westeurope", {}, [("allow-https", "443", "10.0.0.0/8", "Allow")]),
                    gateway,
                    waf_gateway,
                    _res("Microsoft.ContainerRegistry/registries", "acmeregistry", "westeurope", {"owner": "platform"},
                         adminUserEnabled=True, publicNetworkAccess="Enabled", anonymousPullEnabled=False,
                         networkRuleSet={"defaultAction": "Allow"}),
                    site,
                    sql,
                    _sql_db("acme-data-sql", "ledger", "westeurope", pci, tde="Enabled"),
                    grs,
                    _res("Microsoft.Insights/activityLogAlerts", "alert-nsg-write", "global", {},
                         enabled=True, scopes=[f"/subscriptions/{sub}"],
                         condition={"allOf": [
                             {"field": "category", "equals": "Administrative"},
                             {"field": "operationName", "equals": "Microsoft.Network/networkSecurityGroups/write"}]}),
                    # A type the collector has no mapping for: stored with its properties anyway.
                    _res("Microsoft.Cache/redis", "acme-cache", "westeurope", eu,
                         sku={"name": "Standard", "family": "C", "capacity": 1}, enableNonSslPort=True,
                         minimumTlsVersion="1.2", redisConfiguration={"maxmemory-policy": "allkeys-lru"},
                         accessKeys={"primaryKey": DEMO_SECRET_CANARY}),
                ],
            },
        },
        "settings": {
            "providers/Microsoft.Security/pricings": [
                {"name": "VirtualMachines", "type": "Microsoft.Security/pricings", "properties": {"pricingTier": "Free"}},
                {"name": "SqlServers", "type": "Microsoft.Security/pricings", "properties": {"pricingTier": "Standard"}},
                {"name": "StorageAccounts", "type": "Microsoft.Security/pricings", "properties": {"pricingTier": "Free"}},
                {"name": "KeyVaults", "type": "Microsoft.Security/pricings", "properties": {"pricingTier": "Standard"}},
            ],
            # No activity-log diagnostic setting and no security contact in this subscription.
            "providers/Microsoft.Authorization/roleAssignments": [
                *({"name": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{sub}/owner{i}")), "type": "Microsoft.Authorization/roleAssignments",
                   "properties": {"roleDefinitionId": f"/subscriptions/{sub}{OWNER}", "principalId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"p{i}")),
                                  "principalType": "User", "scope": f"/subscriptions/{sub}"}} for i in range(4)),
                {"name": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{sub}/partner")), "type": "Microsoft.Authorization/roleAssignments",
                 "properties": {"roleDefinitionId": f"/subscriptions/{sub}{READER}", "principalId": "partner-group",
                                "principalType": "ForeignGroup", "scope": f"/subscriptions/{sub}/resourceGroups/{rg}"},
                 "id": f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Authorization/roleAssignments/"
                       + str(uuid.uuid5(uuid.NAMESPACE_URL, f"{sub}/partner"))},
                # Made at the root management group: counted as inherited, stored by no subscription.
                {"name": "root-owner", "type": "Microsoft.Authorization/roleAssignments",
                 "id": "/providers/Microsoft.Authorization/roleAssignments/root-owner",
                 "properties": {"roleDefinitionId": OWNER, "principalId": "breakglass", "principalType": "User", "scope": "/"}},
            ],
        },
    }  # fmt: skip


def tenant_estate() -> dict[str, Any]:
    """The demo's subscriptions and two more below a management-group hierarchy, with every type
    the collector reads in full, per-subscription settings and a subscription it may not read.

        mg-root ─ acme-dev
         └ mg-prod ─ acme-prod
            └ mg-data ─ acme-data, acme-restricted (answers 403)

    Seeded beyond the demo's problems: a Cosmos DB account replicated into East US with
    EU personal data, MySQL accepting TLS 1.0, a PostgreSQL server without secure transport,
    an Application Gateway on the 2015 TLS policy without WAF, a web app on TLS 1.0 without
    HTTPS only, a SQL server open to the Internet, an expired Key Vault key, a subnet without an
    NSG, a registry with its admin user on, an orphaned disk open to export, and a subscription
    with four owners, a foreign group, Defender off for VMs and storage, no activity-log export
    and no security contact. DEMO_SECRET_CANARY sits wherever a value could carry a secret.
    """
    estate = copy.deepcopy(demo_estate())
    subs = estate["subscriptions"]
    subs[SUB_DATA] = _data_subscription(SUB_DATA)
    subs[SUB_DENIED] = {
        "displayName": "acme-restricted",
        "denied": True,
        "resourceGroups": {
            "rg-secret": {
                "location": "westeurope",
                "resources": [_storage("acmerestricted", "westeurope", {"owner": "legal"})],
            }
        },
    }
    estate["managementGroups"] = {
        "mg-root": {"displayName": "Tenant Root Group", "parent": None, "subscriptions": [SUB_DEV]},
        "mg-prod": {"displayName": "Production", "parent": "mg-root", "subscriptions": [SUB_PROD]},
        "mg-data": {
            "displayName": "Data platform",
            "parent": "mg-prod",
            "subscriptions": [SUB_DATA, SUB_DENIED],
        },
    }
    return estate


# -- the CIS Azure estate (data) ---------------------------------------------------------

SUB_CIS_GOOD = "55555555-5555-4555-8555-555555555555"
SUB_CIS_BAD = "66666666-6666-4666-8666-666666666666"


def _cis_resources(sub: str, good: bool) -> list[dict[str, Any]]:
    """One object per CIS Azure 2.1 rule of the pack: all passing (good) or all failing."""
    tag, where = {"cis": "good" if good else "bad"}, "westeurope"
    p = "good" if good else "bad"
    storage = _storage(f"acmecis{p}", where, tag, blob_public=not good,
                       network="Deny" if good else "Allow", tls="TLS1_2" if good else "TLS1_0")  # fmt: skip
    storage["properties"]["encryption"].update(
        requireInfrastructureEncryption=good,
        keySource="Microsoft.Keyvault" if good else "Microsoft.Storage",
    )
    if good:
        storage["properties"]["encryption"]["keyvaultproperties"] = {
            "keyname": "cmk-storage", "keyvaulturi": "https://acme-cis-good-kv.vault.azure.net/"
        }  # fmt: skip
    vault = _vault(f"acme-cis-{p}-kv", where, tag, purge=True,
                   public="Disabled" if good else "Enabled")  # fmt: skip
    vault["properties"]["enableRbacAuthorization"] = good
    site = _site(f"acme-cis-{p}-app", where, tag, {"MODE": "cis"})
    site["properties"]["siteConfig"] = {
        "minTlsVersion": "1.2" if good else "1.0",
        "ftpsState": "Disabled" if good else "AllAllowed",
        "appSettings": None,
    }
    if good:
        site["identity"] = {"type": "SystemAssigned", "principalId": "7d0c8f5e-cis-good",
                            "tenantId": DEMO_TENANT}  # fmt: skip
    else:
        site["identity"] = {"type": "None"}
    secure = "on" if good else "off"
    open_rules = [("allow-https-internal", "443", "10.0.0.0/8", "Allow")]
    if not good:
        open_rules += [("allow-rdp", "3389", "Internet", "Allow"), ("allow-ssh", "20-25", "*", "Allow"),
                       ("allow-http", "80", "0.0.0.0/0", "Allow")]  # fmt: skip
    nsg = _nsg(f"cis-{p}-nsg", where, tag, open_rules)
    if not good:
        nsg["properties"]["securityRules"].append({"name": "allow-dns", "properties": {
            "protocol": "Udp", "sourcePortRange": "*", "destinationPortRange": "53",
            "sourceAddressPrefixes": ["Internet"], "destinationAddressPrefix": "*",
            "access": "Allow", "priority": 500, "direction": "Inbound"}})  # fmt: skip
    out = [
        storage,
        _flexible("PostgreSQL", f"acme-cis-{p}-pg", where, tag, public="Disabled", geo="Enabled",
                  params={"ssl_min_protocol_version": "TLSv1.2", "require_secure_transport": secure}),
        _flexible("MySQL", f"acme-cis-{p}-mysql", where, tag, public="Disabled", geo="Enabled",
                  params={"tls_version": "TLSv1.2,TLSv1.3" if good else "TLSv1.1,TLSv1.2",
                          "require_secure_transport": "ON"}),
        vault,
        _vm(sub, "rg-cis", f"cis-{p}-vm", where, tag, managed=good),
        _res("Microsoft.Compute/disks", f"cis-{p}-disk", where, tag, diskSizeGB=64, diskState="Attached",
             networkAccessPolicy="DenyAll" if good else "AllowAll",
             publicNetworkAccess="Disabled" if good else "Enabled",
             encryption={"type": "EncryptionAtRestWithPlatformKey"}),
        site,
        nsg,
        _cosmos(f"acme-cis-{p}-cosmos", tag, ["westeurope"], public="Disabled" if good else "Enabled"),
    ]  # fmt: skip
    if good:
        # Network Watcher lives in its own group in real tenants; one region, one watcher.
        out.append(_res("Microsoft.Network/networkWatchers", f"NetworkWatcher_{where}", where, {},
                        provisioningState="Succeeded"))  # fmt: skip
    return out


def cis_estate() -> dict[str, Any]:
    """Two subscriptions for the CIS Microsoft Azure Foundations 2.1 rules: acme-cis-good passes
    every one (Defender on Standard, a Network Watcher in its region), acme-cis-bad fails every
    one (Defender on Free, no Network Watcher, storage on TLS 1.0 with public blobs, RDP/SSH/HTTP
    and UDP open to the Internet, ...)."""
    subs: dict[str, Any] = {}
    for sub, good in ((SUB_CIS_GOOD, True), (SUB_CIS_BAD, False)):
        subs[sub] = {
            "displayName": "acme-cis-good" if good else "acme-cis-bad",
            "settings": _settings(sub, tier="Standard" if good else "Free"),
            "resourceGroups": {
                "rg-cis": {
                    "location": "westeurope",
                    "tags": {"owner": "security"},
                    "resources": _cis_resources(sub, good),
                }
            },
        }
    return {"tenantId": DEMO_TENANT, "subscriptions": subs}
