"""Per-type reads of Azure resources: pinned api-versions, facets, normalised attributes, detail
reads and child resources (Key Vault keys and secrets, subnets) — GETs or allow-listed POSTs."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from driftscan.providers.azure.client import Arm, HttpFailure

Facets = tuple[bool | None, bool | None]
FacetFn = Callable[[dict[str, Any], dict[str, Any]], Facets]
DeriveFn = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]
ExtrasFn = Callable[[Arm, str], dict[str, Any]]
ChildrenFn = Callable[[Arm, dict[str, Any]], list[dict[str, Any]]]

_OPEN_SOURCES = frozenset({"*", "internet", "any", "0.0.0.0/0", "::/0", "0.0.0.0"})


def _no_facets(props: dict[str, Any], attrs: dict[str, Any]) -> Facets:
    return None, None


@dataclass(frozen=True)
class TypeSpec:
    """How one resource type is read in full.

    `api_version` is the version its parsers are written against; `facets` gives the normalised
    encrypted/public; `derive` adds normalised attributes rules read across types (TLS minimum,
    the regions data sits in); `extras` are detail reads stored beside the properties;
    `children` are child resources read with the parent (each its own resource; each reader
    fails on its own, so a vault whose data plane is firewalled keeps its keys); `drop` names
    properties never stored at all (secret values).
    """

    api_version: str
    facets: FacetFn = _no_facets
    extras: ExtrasFn | None = None
    children: tuple[ChildrenFn, ...] = ()
    derive: DeriveFn | None = None
    drop: frozenset[str] = frozenset()


def _dict(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{what} is {type(value).__name__}, expected an object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{what} is {type(value).__name__}, expected a list")
    return value


def _props(doc: Any, what: str) -> dict[str, Any]:
    d = _dict(doc, what)
    return _dict(d.get("properties", d), f"{what}.properties")


def region_name(value: Any) -> str | None:
    """An Azure location as ARM ids spell it: 'West Europe' → 'westeurope'."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value.replace(" ", "").lower()


def _network_access(value: Any) -> bool | None:
    if value == "Enabled":
        return True
    if value in ("Disabled", "SecuredByPerimeter"):
        return False
    return None


def _epoch(value: Any) -> str | None:
    """Key Vault's epoch-second timestamps as ISO 8601 (UTC); None when absent."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(value, UTC).isoformat().replace("+00:00", "Z")


# -- storage ----------------------------------------------------------------------------


def _storage_facets(props: dict[str, Any], attrs: dict[str, Any]) -> Facets:
    encrypted: bool | None = None
    if "encryption" in props:
        enc = _dict(props["encryption"], "properties.encryption")
        services = _dict(enc.get("services"), "properties.encryption.services")
        flags = [_dict(s, "encryption service").get("enabled") for s in services.values()]
        encrypted = any(f is True for f in flags) if flags else bool(enc.get("keySource"))
    acls = _dict(props.get("networkAcls"), "properties.networkAcls")
    public: bool | None
    if props.get("allowBlobPublicAccess") is True:
        public = True  # anonymous blob reads possible
    elif props.get("publicNetworkAccess") == "Disabled":
        public = False
    elif "defaultAction" in acls:
        public = acls["defaultAction"] == "Allow"
    else:
        public = None
    return encrypted, public


def _storage_derive(props: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    # A geo-redundant account keeps a copy in its paired region: residency covers both.
    locations = [
        region_name(props.get("primaryLocation")),
        region_name(props.get("secondaryLocation")),
    ]
    return {
        "secureTransport": props.get("supportsHttpsTrafficOnly"),
        "blobPublicAccess": props.get("allowBlobPublicAccess"),
        "dataLocations": sorted({loc for loc in locations if loc}),
    }


# -- compute ----------------------------------------------------------------------------


def _vm_facets(props: dict[str, Any], attrs: dict[str, Any]) -> Facets:
    storage = _dict(props.get("storageProfile"), "properties.storageProfile")
    security = _dict(props.get("securityProfile"), "properties.securityProfile")
    disks = [_dict(storage.get("osDisk"), "osDisk")]
    disks += [_dict(d, "dataDisk") for d in _list(storage.get("dataDisks"), "dataDisks")]
    disks = [d for d in disks if d]
    if not disks:
        return None, None
    if security.get("encryptionAtHost") is True:
        return True, None

    def disk_encrypted(d: dict[str, Any]) -> bool:
        # Managed disks are always encrypted at rest (platform- or customer-managed keys);
        # an unmanaged VHD is only if Azure Disk Encryption is switched on for it.
        ade = _dict(d.get("encryptionSettings"), "encryptionSettings").get("enabled") is True
        return d.get("managedDisk") is not None or ade

    # Public reachability lives on NICs / public IPs, not on the VM: not decidable here.
    return all(disk_encrypted(d) for d in disks), None


_DISK_ENCRYPTION = frozenset(
    {
        "EncryptionAtRestWithPlatformKey",
        "EncryptionAtRestWithCustomerKey",
        "EncryptionAtRestWithPlatformAndCustomerKeys",
    }
)


def _disk_facets(props: dict[str, Any], attrs: dict[str, Any]) -> Facets:
    enc = _dict(props.get("encryption"), "properties.encryption").get("type")
    encrypted = None if enc is None else enc in _DISK_ENCRYPTION
    policy = props.get("networkAccessPolicy")
    public: bool | None
    if props.get("publicNetworkAccess") == "Disabled" or policy in ("DenyAll", "AllowPrivate"):
        public = False  # no export SAS from anywhere
    elif policy == "AllowAll":
        public = True
    else:
        public = None
    return encrypted, public


def _disk_derive(props: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    return {
        "encryptionType": _dict(props.get("encryption"), "properties.encryption").get("type"),
        "diskState": props.get("diskState"),
        "attached": props["diskState"] in ("Attached", "Reserved")
        if props.get("diskState")
        else attrs.get("managedBy") is not None,
    }


def _aks_facets(props: dict[str, Any], attrs: dict[str, Any]) -> Facets:
    api = _dict(props.get("apiServerAccessProfile"), "properties.apiServerAccessProfile")
    if api.get("enablePrivateCluster") is True:
        return None, False
    ranges = _list(api.get("authorizedIPRanges"), "authorizedIPRanges")
    return None, not ranges


def _aks_derive(props: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    api = _dict(props.get("apiServerAccessProfile"), "properties.apiServerAccessProfile")
    net = _dict(props.get("networkProfile"), "properties.networkProfile")
    aad = _dict(props.get("aadProfile"), "properties.aadProfile")
    return {
        "kubernetesVersion": props.get("currentKubernetesVersion")
        or props.get("kubernetesVersion"),
        "rbac": props.get("enableRBAC"),
        "privateCluster": api.get("enablePrivateCluster"),
        "authorizedIpRanges": _list(api.get("authorizedIPRanges"), "authorizedIPRanges"),
        "networkPolicy": net.get("networkPolicy"),
        "localAccountsDisabled": props.get("disableLocalAccounts"),
        "entraIntegrated": aad.get("managed") if aad else None,
    }


# -- databases ----------------------------------------------------------------------------


def _sql_server_facets(props: dict[str, Any], attrs: dict[str, Any]) -> Facets:
    return None, _network_access(props.get("publicNetworkAccess"))


def _sql_server_derive(props: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    rules = _list(attrs.get("firewallRules"), "firewallRules")
    ranges = [(_props(r, "firewall rule").get("startIpAddress"),
               _props(r, "firewall rule").get("endIpAddress")) for r in rules]  # fmt: skip
    auditing = attrs.get("auditingSettings")
    return {
        # 0.0.0.0–0.0.0.0 is ARM's "allow Azure services" switch: every tenant's Azure IPs.
        "allowAzureServices": ("0.0.0.0", "0.0.0.0") in ranges,
        "openToInternet": any(s == "0.0.0.0" and e == "255.255.255.255" for s, e in ranges),
        "auditingEnabled": None
        if auditing is None
        else _dict(auditing, "auditingSettings").get("state") == "Enabled",
    }


def _sql_server_extras(arm: Arm, rid: str) -> dict[str, Any]:
    api = SPECS["microsoft.sql/servers"].api_version
    rules = arm.list_all(f"{rid}/firewallRules", api)
    auditing = _props(arm.get(f"{rid}/auditingSettings/default", api), "auditingSettings")
    return {
        "firewallRules": [
            {
                "name": _dict(r, "firewall rule").get("name"),
                "properties": _props(r, "firewall rule"),
            }
            for r in rules
        ],
        "auditingSettings": {
            k: auditing.get(k) for k in ("state", "retentionDays", "isAzureMonitorTargetEnabled")
        },
    }


def _sql_db_facets(props: dict[str, Any], attrs: dict[str, Any]) -> Facets:
    state = _dict(attrs.get("transparentDataEncryption"), "transparentDataEncryption").get("state")
    encrypted = {"Enabled": True, "Disabled": False}.get(str(state)) if state is not None else None
    return encrypted, None  # network exposure is the server's (see microsoft.sql/servers)


def _tde(arm: Arm, rid: str) -> dict[str, Any]:
    doc = arm.get(
        f"{rid}/transparentDataEncryption/current",
        SPECS["microsoft.sql/servers/databases"].api_version,
    )
    props = _dict(doc.get("properties"), "transparentDataEncryption.properties")
    return {"transparentDataEncryption": {"state": props.get("state")}}


def _cosmos_facets(props: dict[str, Any], attrs: dict[str, Any]) -> Facets:
    # Cosmos DB encrypts all data at rest, always (service-managed or customer-managed keys).
    if props.get("publicNetworkAccess") == "Disabled":
        return True, False
    filtered = props.get("isVirtualNetworkFilterEnabled") is True
    ip_rules = _list(props.get("ipRules"), "properties.ipRules")
    if "publicNetworkAccess" not in props and "ipRules" not in props and not filtered:
        return True, None
    return True, not (filtered or ip_rules)


def _cosmos_derive(props: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    # Every region the account's data is replicated to: its locations, read and write regions
    # and failover priorities (residency is about each of them, not the account's home region).
    regions: set[str] = set()
    for field in ("locations", "readLocations", "writeLocations", "failoverPolicies"):
        for loc in _list(props.get(field), f"properties.{field}"):
            name = region_name(_dict(loc, field).get("locationName"))
            if name:
                regions.add(name)
    policies = _list(props.get("failoverPolicies"), "properties.failoverPolicies")
    return {
        "dataLocations": sorted(regions),
        "failoverRegions": [
            region_name(_dict(p, "failoverPolicy").get("locationName"))
            for p in sorted(
                policies, key=lambda p: _dict(p, "failoverPolicy").get("failoverPriority") or 0
            )
        ],
        "localAuthDisabled": props.get("disableLocalAuth"),
    }


def _flexible_facets(props: dict[str, Any], attrs: dict[str, Any]) -> Facets:
    # Flexible servers always encrypt storage at rest (AES-256, service- or customer-managed).
    net = _dict(props.get("network"), "properties.network")
    return True, _network_access(net.get("publicNetworkAccess"))


def _lowest_tls(value: Any) -> str | None:
    """The lowest TLS version in 'TLSv1.2,TLSv1.3' (MySQL's tls_version) or 'TLSv1.2'."""
    if not isinstance(value, str) or not value.strip():
        return None
    # MySQL spells TLS 1.0 "TLSv1": written out, so every value reads as major.minor.
    versions = [
        re.sub(r"^(tlsv?\s*)(\d+)$", r"\1\2.0", v.strip(), flags=re.I)
        for v in value.split(",")
        if v.strip()
    ]
    return min(versions, key=lambda v: v.lower().replace("_", ".")) if versions else None


def _flexible_derive(tls_parameter: str) -> DeriveFn:
    def derive(props: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
        params = _dict(attrs.get("serverParameters"), "serverParameters")
        backup = _dict(props.get("backup"), "properties.backup")
        secure = params.get("require_secure_transport")
        tls = _lowest_tls(params.get(tls_parameter))
        if isinstance(secure, str) and secure.upper() == "OFF":
            tls = "none (require_secure_transport is OFF)"  # plaintext connections accepted
        return {
            "minimumTlsVersion": tls,
            "secureTransport": None if secure is None else str(secure).upper() == "ON",
            "geoRedundantBackup": None
            if backup.get("geoRedundantBackup") is None
            else backup.get("geoRedundantBackup") == "Enabled",
        }

    return derive


def _server_parameters(rtype: str, names: tuple[str, ...]) -> ExtrasFn:
    def read(arm: Arm, rid: str) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in names:
            try:
                doc = arm.get(f"{rid}/configurations/{name}", SPECS[rtype].api_version)
            except HttpFailure as exc:
                if exc.status == 404:  # a parameter this server version does not have
                    values[name] = None
                    continue
                raise
            values[name] = _props(doc, "configuration").get("value")
        return {"serverParameters": values}

    return read


# -- networking ---------------------------------------------------------------------------


def _nsg_facets(props: dict[str, Any], attrs: dict[str, Any]) -> Facets:
    rules = props.get("securityRules")
    if rules is None:
        return None, None
    if not isinstance(rules, list):
        raise ValueError("properties.securityRules is not a list")
    for rule in rules:
        p = _props(rule, "security rule")
        sources = [p.get("sourceAddressPrefix"), *(p.get("sourceAddressPrefixes") or [])]
        if (
            str(p.get("direction", "")).lower() == "inbound"
            and str(p.get("access", "")).lower() == "allow"
            and any(isinstance(s, str) and s.lower() in _OPEN_SOURCES for s in sources)
        ):
            return None, True
    return None, False


def _public_ip_facets(props: dict[str, Any], attrs: dict[str, Any]) -> Facets:
    return None, True  # it is an Internet-facing address by definition


def _public_ip_derive(props: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    config = _dict(props.get("ipConfiguration"), "properties.ipConfiguration")
    return {"ipAddress": props.get("ipAddress"), "attachedTo": config.get("id")}


def _nic_configs(props: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        _props(c, "ipConfiguration")
        for c in _list(props.get("ipConfigurations"), "ipConfigurations")
    ]


def _nic_facets(props: dict[str, Any], attrs: dict[str, Any]) -> Facets:
    if "ipConfigurations" not in props:
        return None, None
    return None, any(c.get("publicIPAddress") for c in _nic_configs(props))


def _nic_derive(props: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    nsg = _dict(props.get("networkSecurityGroup"), "properties.networkSecurityGroup")
    vm = _dict(props.get("virtualMachine"), "properties.virtualMachine")
    return {
        "networkSecurityGroup": nsg.get("id"),
        "virtualMachine": vm.get("id"),
        "publicIpAddresses": [
            _dict(c.get("publicIPAddress"), "publicIPAddress").get("id")
            for c in _nic_configs(props)
            if c.get("publicIPAddress")
        ],
        "subnets": [
            _dict(c.get("subnet"), "subnet").get("id")
            for c in _nic_configs(props)
            if c.get("subnet")
        ],
    }


def _vnet_subnets(arm: Arm, doc: dict[str, Any]) -> list[dict[str, Any]]:
    # Subnets come inside the network's own document (ARM and Resource Graph alike): no reads.
    return [_dict(s, "subnet") for s in _list(_props(doc, "network").get("subnets"), "subnets")]


def _vnet_derive(props: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    space = _dict(props.get("addressSpace"), "properties.addressSpace")
    return {"addressPrefixes": _list(space.get("addressPrefixes"), "addressPrefixes")}


# Subnets Azure does not let carry an NSG (or that manage their own traffic).
NSG_EXEMPT_SUBNETS = frozenset(
    {"gatewaysubnet", "azurefirewallsubnet", "azurefirewallmanagementsubnet", "routeserversubnet"}
)


def _subnet_derive(props: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    nsg = _dict(props.get("networkSecurityGroup"), "properties.networkSecurityGroup")
    return {"networkSecurityGroup": nsg.get("id")}


# Predefined Application Gateway TLS policies → their minimum protocol (Microsoft Learn, "TLS
# policy overview"). Without any policy the default depends on the api-version the gateway was
# created with (20150501, TLS 1.0, before 2023-02-01): not knowable from a read, so left null.
_APPGW_POLICIES = {
    "appgwsslpolicy20150501": "TLSv1_0",
    "appgwsslpolicy20170401": "TLSv1_1",
    "appgwsslpolicy20170401s": "TLSv1_2",
    "appgwsslpolicy20220101": "TLSv1_2",
    "appgwsslpolicy20220101s": "TLSv1_2",
}


def _ssl_policy_minimum(policy: dict[str, Any]) -> str | None:
    if not policy:
        return None
    kind = str(policy.get("policyType") or "")
    if kind == "Predefined" or (not kind and policy.get("policyName")):
        return _APPGW_POLICIES.get(str(policy.get("policyName") or "").lower())
    value = policy.get("minProtocolVersion")
    return str(value) if value else None


def _appgw_facets(props: dict[str, Any], attrs: dict[str, Any]) -> Facets:
    if "frontendIPConfigurations" not in props:
        return None, None
    fronts = [
        _props(f, "frontendIPConfiguration")
        for f in _list(props.get("frontendIPConfigurations"), "frontendIPConfigurations")
    ]
    return None, any(f.get("publicIPAddress") for f in fronts)


def _appgw_derive(props: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    policies = [_dict(props.get("sslPolicy"), "properties.sslPolicy")]
    for profile in _list(props.get("sslProfiles"), "properties.sslProfiles"):
        policies.append(
            _dict(_props(profile, "sslProfile").get("sslPolicy"), "sslProfile.sslPolicy")
        )
    minimums = [_ssl_policy_minimum(p) for p in policies if p]
    known = [m for m in minimums if m]
    waf = _dict(
        props.get("webApplicationFirewallConfiguration"), "webApplicationFirewallConfiguration"
    )
    policy = _dict(props.get("firewallPolicy"), "properties.firewallPolicy")
    sku = _dict(props.get("sku"), "properties.sku")
    return {
        # The weakest policy a listener can get; null while any listener's policy is unknown.
        "minimumTlsVersion": min(known) if known and len(known) == len(minimums) else None,
        "tlsPolicy": policies[0] or None,
        "waf": {
            "enabled": True if policy.get("id") else waf.get("enabled"),
            "mode": waf.get("firewallMode"),
            "policy": policy.get("id"),
            "tier": sku.get("tier"),
        },
    }


def _registry_facets(props: dict[str, Any], attrs: dict[str, Any]) -> Facets:
    if props.get("publicNetworkAccess") == "Disabled":
        return None, False
    rules = _dict(props.get("networkRuleSet"), "properties.networkRuleSet")
    if rules.get("defaultAction") == "Deny":
        return None, False
    if "publicNetworkAccess" not in props and not rules:
        return None, None
    return None, True


def _registry_derive(props: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    return {
        "adminUserEnabled": props.get("adminUserEnabled"),
        "anonymousPullEnabled": props.get("anonymousPullEnabled"),
    }


# -- Key Vault ------------------------------------------------------------------------------


def _vault_facets(props: dict[str, Any], attrs: dict[str, Any]) -> Facets:
    if props.get("publicNetworkAccess") == "Disabled":
        return None, False
    acls = _dict(props.get("networkAcls"), "properties.networkAcls")
    return None, acls.get("defaultAction") != "Deny"


def _vault_derive(props: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    return {
        # ARM omits enablePurgeProtection until it is switched on (it cannot be switched off).
        "purgeProtection": props.get("enablePurgeProtection") is True,
        "softDelete": props.get("enableSoftDelete"),
        "publicNetworkAccess": props.get("publicNetworkAccess"),
    }


def _vault_children(arm: Arm, doc: dict[str, Any]) -> list[dict[str, Any]]:
    # The management plane's keys and secrets lists: metadata only (ARM never returns a
    # secret's value there; it is dropped anyway). Certificates are only in the vault's data
    # plane (GET {vaultUri}certificates): their list items carry the dates, never the content.
    rid = str(doc["id"])
    api = SPECS["microsoft.keyvault/vaults"].api_version
    return [_dict(i, "key") for i in arm.list_all(f"{rid}/keys", api)] + [
        _dict(i, "secret") for i in arm.list_all(f"{rid}/secrets", api)
    ]


def _vault_certificates(arm: Arm, doc: dict[str, Any]) -> list[dict[str, Any]]:
    if not arm.reads_certificates:
        return []
    uri = _props(doc, "vault").get("vaultUri")
    return [
        _certificate_item(str(doc["id"]), _dict(cert, "certificate"))
        for cert in arm.vault_items(uri, "certificates", KEYVAULT_DATA_API)
    ]


# The Key Vault data-plane REST version the certificate list is read with.
KEYVAULT_DATA_API = "7.4"


def _certificate_item(vault_id: str, cert: dict[str, Any]) -> dict[str, Any]:
    """A data-plane certificate list item as a child resource: {vault id}/certificates/{name}."""
    cid = cert.get("id")
    # The item id is {vaultUri}certificates/{name}[/{version}]: the name is the segment after.
    parts = urlsplit(cid).path.strip("/").split("/") if isinstance(cid, str) else []
    if "certificates" not in parts or parts.index("certificates") + 1 >= len(parts):
        raise ValueError(f"certificate id {str(cid)[:120]!r} names no certificate")
    name = parts[parts.index("certificates") + 1]
    tags = cert.get("tags")
    return {
        "id": f"{vault_id}/certificates/{name}",
        "name": name,
        "type": "Microsoft.KeyVault/vaults/certificates",
        "tags": tags if isinstance(tags, dict) else {},
        "properties": {
            "attributes": _dict(cert.get("attributes"), "certificate.attributes"),
            "x5t": cert.get("x5t"),
            "subject": cert.get("subject"),
        },
    }


def _certificate_derive(props: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    return {**_item_dates(props), "thumbprint": props.get("x5t"), "certificate": True}


def _item_dates(props: dict[str, Any]) -> dict[str, Any]:
    at = _dict(props.get("attributes"), "properties.attributes")
    return {
        "enabled": at.get("enabled"),
        "expiresOn": _epoch(at.get("exp")),
        "notBefore": _epoch(at.get("nbf")),
        "createdOn": _epoch(at.get("created")),
    }


def _key_derive(props: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    return {
        **_item_dates(props),
        "keyType": props.get("kty"),
        "rotationPolicy": props.get("rotationPolicy") is not None,
    }


CERTIFICATE_CONTENT_TYPES = frozenset({"application/x-pkcs12", "application/x-pem-file"})


def _secret_derive(props: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    content = props.get("contentType")
    return {
        **_item_dates(props),
        "contentType": content,
        "certificate": isinstance(content, str) and content.lower() in CERTIFICATE_CONTENT_TYPES,
    }


# -- App Service ------------------------------------------------------------------------------


def _site_facets(props: dict[str, Any], attrs: dict[str, Any]) -> Facets:
    # App Service is reachable from the internet unless public network access is switched off.
    return None, props.get("publicNetworkAccess") != "Disabled"


# The fields of config/web that are stored; the rest of that document (publishing user name,
# command lines, handler mappings) is left out rather than filtered for secrets.
WEB_CONFIG_FIELDS = (
    "minTlsVersion",
    "scmMinTlsVersion",
    "ftpsState",
    "http20Enabled",
    "remoteDebuggingEnabled",
    "alwaysOn",
    "managedPipelineMode",
    "linuxFxVersion",
    "netFrameworkVersion",
)


def _site_extras(arm: Arm, rid: str) -> dict[str, Any]:
    api = SPECS["microsoft.web/sites"].api_version
    doc = arm.call("POST", f"{rid}/config/appsettings/list", params={"api-version": api})
    settings = _dict(_dict(doc, "appsettings").get("properties"), "appsettings.properties")
    web = _props(arm.get(f"{rid}/config/web", api), "config/web")
    return {
        # Names only: `appSettings` is a secret subtree, so every value becomes a fingerprint.
        "appSettings": {k: None if v is None else str(v) for k, v in sorted(settings.items())},
        "webConfig": {k: web.get(k) for k in WEB_CONFIG_FIELDS},
    }


def _site_derive(props: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    web = _dict(attrs.get("webConfig"), "webConfig")
    site = _dict(props.get("siteConfig"), "properties.siteConfig")
    return {
        "httpsOnly": props.get("httpsOnly"),
        "minimumTlsVersion": web.get("minTlsVersion") or site.get("minTlsVersion"),
        "ftpsState": web.get("ftpsState") or site.get("ftpsState"),
    }


# -- monitoring and subscription settings ------------------------------------------------------


def _alert_derive(props: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    cond = _dict(props.get("condition"), "properties.condition")
    ops: list[str] = []
    categories: list[str] = []
    for c in _list(cond.get("allOf"), "condition.allOf"):
        c = _dict(c, "condition")
        field = str(c.get("field") or "").lower()
        values = [c.get("equals"), *(_list(c.get("containsAny"), "containsAny"))]
        for v in values:
            if isinstance(v, str):
                (
                    ops if field == "operationname" else categories if field == "category" else []
                ).append(v)
    return {
        "enabled": props.get("enabled"),
        "operations": sorted({o.lower() for o in ops}),
        "categories": sorted({c.lower() for c in categories}),
        "scopes": [s.lower() for s in _list(props.get("scopes"), "scopes") if isinstance(s, str)],
    }


def _pricing_derive(props: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    return {"pricingTier": props.get("pricingTier"), "subPlan": props.get("subPlan")}


def _diagnostic_derive(props: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    logs = [_dict(x, "log") for x in _list(props.get("logs"), "properties.logs")]
    enabled = sorted(
        str(x.get("category") or x.get("categoryGroup")) for x in logs if x.get("enabled") is True
    )
    return {
        "enabledCategories": enabled,
        "destinations": sorted(
            k
            for k in (
                "workspaceId",
                "storageAccountId",
                "eventHubAuthorizationRuleId",
                "marketplacePartnerId",
            )
            if props.get(k)
        ),
    }


# Built-in role definition ids (the same in every tenant).
BUILTIN_ROLES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
}


def _role_assignment_derive(props: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    role = str(props.get("roleDefinitionId") or "").rsplit("/", 1)[-1].lower()
    kind = props.get("principalType")
    return {
        "roleName": BUILTIN_ROLES.get(role),
        "principalType": kind,
        # ARM's principalType names principals from another tenant only as ForeignGroup; guest
        # *users* look like members here (telling them apart needs Microsoft Graph).
        "external": None if kind is None else kind == "ForeignGroup",
        "scope": str(props.get("scope") or "").lower() or None,
    }


def _contact_derive(props: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    alerts = _dict(props.get("alertNotifications"), "properties.alertNotifications")
    roles = _dict(props.get("notificationsByRole"), "properties.notificationsByRole")
    emails = props.get("emails")
    return {
        "hasEmail": bool(emails.strip()) if isinstance(emails, str) else None,
        "alertNotifications": alerts.get("state"),
        "minimalSeverity": alerts.get("minimalSeverity"),
        "notifyRoles": _list(roles.get("roles"), "notificationsByRole.roles")
        if roles.get("state") == "On"
        else [],
    }


# Pinned api-versions: the versions each parser above was written and tested against. A fixed
# table rather than "latest from the providers API", because a newer version may reshape the
# properties the facets read; ARM keeps old versions served for years. Types not listed here
# are still read in full (ARM mode: at the newest stable version the providers API names).
SPECS: dict[str, TypeSpec] = {
    "microsoft.storage/storageaccounts": TypeSpec(
        "2023-01-01", _storage_facets, derive=_storage_derive
    ),
    "microsoft.compute/virtualmachines": TypeSpec("2024-03-01", _vm_facets),
    "microsoft.compute/disks": TypeSpec("2023-04-02", _disk_facets, derive=_disk_derive),
    "microsoft.containerservice/managedclusters": TypeSpec(
        "2024-02-01", _aks_facets, derive=_aks_derive
    ),
    "microsoft.network/networksecuritygroups": TypeSpec("2023-09-01", _nsg_facets),
    "microsoft.network/publicipaddresses": TypeSpec(
        "2023-09-01", _public_ip_facets, derive=_public_ip_derive
    ),
    "microsoft.network/networkinterfaces": TypeSpec("2023-09-01", _nic_facets, derive=_nic_derive),
    "microsoft.network/virtualnetworks": TypeSpec(
        "2023-09-01", children=(_vnet_subnets,), derive=_vnet_derive
    ),
    "microsoft.network/virtualnetworks/subnets": TypeSpec("2023-09-01", derive=_subnet_derive),
    "microsoft.network/applicationgateways": TypeSpec(
        "2023-09-01", _appgw_facets, derive=_appgw_derive
    ),
    "microsoft.sql/servers": TypeSpec(
        "2021-11-01", _sql_server_facets, _sql_server_extras, derive=_sql_server_derive
    ),
    "microsoft.sql/servers/databases": TypeSpec("2021-11-01", _sql_db_facets, _tde),
    "microsoft.documentdb/databaseaccounts": TypeSpec(
        "2024-05-15", _cosmos_facets, derive=_cosmos_derive
    ),
    "microsoft.dbforpostgresql/flexibleservers": TypeSpec(
        "2022-12-01",
        _flexible_facets,
        _server_parameters(
            "microsoft.dbforpostgresql/flexibleservers",
            ("ssl_min_protocol_version", "require_secure_transport"),
        ),
        derive=_flexible_derive("ssl_min_protocol_version"),
    ),
    "microsoft.dbformysql/flexibleservers": TypeSpec(
        "2023-12-30",
        _flexible_facets,
        _server_parameters(
            "microsoft.dbformysql/flexibleservers", ("tls_version", "require_secure_transport")
        ),
        derive=_flexible_derive("tls_version"),
    ),
    "microsoft.containerregistry/registries": TypeSpec(
        "2023-07-01", _registry_facets, derive=_registry_derive
    ),
    "microsoft.keyvault/vaults": TypeSpec(
        "2023-07-01",
        _vault_facets,
        children=(_vault_children, _vault_certificates),
        derive=_vault_derive,
    ),
    "microsoft.keyvault/vaults/keys": TypeSpec("2023-07-01", derive=_key_derive),
    "microsoft.keyvault/vaults/certificates": TypeSpec(
        KEYVAULT_DATA_API, derive=_certificate_derive
    ),
    "microsoft.keyvault/vaults/secrets": TypeSpec(
        "2023-07-01", derive=_secret_derive, drop=frozenset({"value"})
    ),
    "microsoft.web/sites": TypeSpec("2023-12-01", _site_facets, _site_extras, derive=_site_derive),
    "microsoft.insights/activitylogalerts": TypeSpec("2020-10-01", derive=_alert_derive),
    # Per-subscription settings (settings.py lists them; they are never read one by one).
    "microsoft.security/pricings": TypeSpec("2024-01-01", derive=_pricing_derive),
    "microsoft.insights/diagnosticsettings": TypeSpec(
        "2021-05-01-preview", derive=_diagnostic_derive
    ),
    "microsoft.authorization/roleassignments": TypeSpec(
        "2022-04-01", derive=_role_assignment_derive
    ),
    "microsoft.security/securitycontacts": TypeSpec("2020-01-01-preview", derive=_contact_derive),
}

# Child types read with their parent (listed or embedded), never fetched one by one.
CHILD_TYPES = frozenset(
    {
        "microsoft.network/virtualnetworks/subnets",
        "microsoft.keyvault/vaults/keys",
        "microsoft.keyvault/vaults/secrets",
        "microsoft.keyvault/vaults/certificates",
    }
)
