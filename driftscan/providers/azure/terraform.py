"""Terraform's azurerm resource types → declarations in the shape of the Azure collector's resources.

ARM IDs are lower-cased; attributes sit under `properties` in ARM's camelCase, as
driftscan/providers/azure/collect.py stores them.
"""

from __future__ import annotations

from typing import Any

from driftscan.desired.tfmap import (
    Attrs,
    Mapped,
    TerraformMappings,
    TfContext,
    clean,
    first_block,
    tags_of,
)
from driftscan.providers import Identity
from driftscan.providers.azure.keys import identify

MAPPINGS = TerraformMappings()


def _fallback_key(attrs: Attrs) -> str | None:
    rid = attrs.get("id")
    if isinstance(rid, str) and rid.lower().startswith("/subscriptions/"):
        return rid.lower()
    return None


MAPPINGS.fallback_keys.append(_fallback_key)


# --- Azure (ARM IDs lower-cased; attrs under `properties` in ARM's camelCase) ---------------

_OPEN = frozenset({"*", "internet", "any", "0.0.0.0/0", "::/0", "0.0.0.0"})


def _az(a: Attrs, typ: str, declared: dict[str, Any]) -> Mapped:
    rid = str(a["id"]).lower()
    ident = identify(rid) or Identity(rid)
    loc = a.get("location")
    region = str(loc).replace(" ", "").lower() if loc else None
    d = dict(declared)
    tags = tags_of(a)
    if tags:
        d["tags"] = tags
    return Mapped(rid, "azure", typ, ident.account, region, a.get("name"), clean(d))


@MAPPINGS.mapping("azurerm_resource_group")
def _resource_group(a: Attrs, ctx: TfContext) -> Mapped:
    return _az(a, "microsoft.resources/subscriptions/resourcegroups", {})


@MAPPINGS.mapping("azurerm_storage_account")
def _storage_account(a: Attrs, ctx: TfContext) -> Mapped:
    https = a.get("https_traffic_only_enabled", a.get("enable_https_traffic_only"))
    blob_public = a.get("allow_nested_items_to_be_public", a.get("allow_blob_public_access"))
    rules = first_block(a.get("network_rules"))
    d: dict[str, Any] = {
        "kind": a.get("account_kind"),
        "properties": {
            "minimumTlsVersion": a.get("min_tls_version"),
            "supportsHttpsTrafficOnly": https,
        },
        "encrypted": True,  # storage service encryption cannot be switched off
    }
    # The collector's rule: anonymous blob access → public; network access off → not;
    # otherwise the firewall's default action (ARM's default is Allow).
    if blob_public is True:
        d["public"] = True
    elif a.get("public_network_access_enabled") is False:
        d["public"] = False
    else:
        d["public"] = rules.get("default_action", "Allow") == "Allow"
    return _az(a, "microsoft.storage/storageaccounts", d)


@MAPPINGS.mapping("azurerm_linux_virtual_machine", "azurerm_windows_virtual_machine")
def _vm(a: Attrs, ctx: TfContext) -> Mapped:
    # OS disks of these resources are always managed, hence encrypted at rest.
    d = {"properties": {"hardwareProfile": {"vmSize": a.get("size")}}, "encrypted": True}
    return _az(a, "microsoft.compute/virtualmachines", d)


@MAPPINGS.mapping("azurerm_network_security_group")
def _nsg(a: Attrs, ctx: TfContext) -> Mapped:
    public = False
    for r in a.get("security_rule") or []:
        sources = [r.get("source_address_prefix"), *(r.get("source_address_prefixes") or [])]
        if (
            str(r.get("direction", "")).lower() == "inbound"
            and str(r.get("access", "")).lower() == "allow"
            and any(isinstance(s, str) and s.lower() in _OPEN for s in sources)
        ):
            public = True
    return _az(a, "microsoft.network/networksecuritygroups", {"public": public})


@MAPPINGS.mapping("azurerm_key_vault")
def _key_vault(a: Attrs, ctx: TfContext) -> Mapped:
    acls = first_block(a.get("network_acls"))
    if a.get("public_network_access_enabled") is False:
        public = False
    else:
        public = acls.get("default_action", "Allow") != "Deny"
    d: dict[str, Any] = {"public": public, "properties": {"tenantId": a.get("tenant_id")}}
    if a.get("purge_protection_enabled") is True:
        d["properties"]["enablePurgeProtection"] = True
    return _az(a, "microsoft.keyvault/vaults", d)


@MAPPINGS.mapping("azurerm_mssql_server", "azurerm_sql_server")
def _sql_server(a: Attrs, ctx: TfContext) -> Mapped:
    d: dict[str, Any] = {
        "properties": {
            "version": a.get("version"),
            "minimalTlsVersion": a.get("minimum_tls_version"),
            "administratorLogin": a.get("administrator_login"),
        }
    }
    if a.get("public_network_access_enabled") is not None:
        d["public"] = bool(a["public_network_access_enabled"])
    return _az(a, "microsoft.sql/servers", d)


__all__ = ["MAPPINGS"]
