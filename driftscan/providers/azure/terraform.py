"""Terraform's azurerm (and azapi) resource types → declarations in the Azure collector's shape.

ARM IDs are lower-cased; attributes sit under `properties` in ARM's camelCase, or are the
collector's derived attributes (facets.py). The collector reads every type of Resource Graph's
Resources table, so any azurerm resource keyed by an ARM id of such a type is mapped (key,
type, location, tags); the types below also compare their settings and facets. Associations
fold into the resource that holds them; types that are no resource the collector stores
(access policies, extension settings, actions) are never keyed, so never read as missing.
"""

from __future__ import annotations

from typing import Any

from driftscan.desired.tfmap import (
    Attrs,
    Mapped,
    TerraformMappings,
    TfContext,
    as_bool,
    as_int,
    as_list,
    clean,
    first_block,
    tags_of,
)
from driftscan.providers import Identity
from driftscan.providers.azure.facets import CHILD_TYPES
from driftscan.providers.azure.keys import RESOURCE_GROUP_TYPE, azure_type, identify

MAPPINGS = TerraformMappings()

# Outside Resource Graph's Resources table: these are read, if at all, as subscription
# settings (settings.py) and are mapped one by one below; any other of them is not stored.
_NOT_IN_GRAPH = ("microsoft.authorization/", "microsoft.insights/diagnosticsettings",
                 "microsoft.security/", "microsoft.resources/deployments",
                 "microsoft.policyinsights/", "microsoft.resourcehealth/")  # fmt: skip
_SETTINGS_TYPES = frozenset(
    {
        "microsoft.authorization/roleassignments",
        "microsoft.security/pricings",
        "microsoft.security/securitycontacts",
        "microsoft.insights/diagnosticsettings",
    }
)
# Child types Resource Graph lists as resources of their own, besides those the collector
# reads with their parent (CHILD_TYPES).
_GRAPH_CHILDREN = frozenset(
    {
        "microsoft.sql/servers/databases",
        "microsoft.sql/servers/elasticpools",
        "microsoft.compute/virtualmachines/extensions",
        "microsoft.web/sites/slots",
        "microsoft.network/networkwatchers/flowlogs",
        "microsoft.automation/automationaccounts/runbooks",
    }
)
MAPPINGS.not_resources |= {
    "azapi_resource_action",  # an action on a resource, not one
    "azapi_update_resource",  # changes properties of a resource declared elsewhere
    "azurerm_key_vault_access_policy",
    "azurerm_role_definition",  # custom roles: read as no resource of the subscription
    "azurerm_resource_group_template_deployment",
    "azurerm_subscription_template_deployment",
}


def stored_type(rid: str) -> str | None:
    """The ARM type of an id if the collector stores resources of it, else None."""
    typ = azure_type(rid)
    if typ is None or "|" in rid:
        return None
    if typ == RESOURCE_GROUP_TYPE or typ in _SETTINGS_TYPES:
        return typ
    if typ.startswith(_NOT_IN_GRAPH):
        return None
    if typ.count("/") == 1 or typ in CHILD_TYPES or typ in _GRAPH_CHILDREN:
        return typ
    return None


def _fallback_key(attrs: Attrs) -> str | None:
    rid = attrs.get("id")
    if isinstance(rid, str) and rid.lower().startswith("/subscriptions/") and stored_type(rid):
        return rid.lower()
    return None


MAPPINGS.fallback_keys.append(_fallback_key)

_OPEN = frozenset({"*", "internet", "any", "0.0.0.0/0", "::/0", "0.0.0.0"})


def _az(a: Attrs, typ: str, declared: dict[str, Any], *, rid: str | None = None,
        part: bool = False) -> Mapped:  # fmt: skip
    rid = str(rid or a["id"]).lower()
    ident = identify(rid) or Identity(rid)
    loc = a.get("location")
    region = str(loc).replace(" ", "").lower() if loc and not part else None
    d = dict(declared)
    tags = tags_of(a)
    if tags and not part:
        d["tags"] = tags
    name = None if part else (a.get("name") or ident.name)
    return Mapped(rid, "azure", typ, ident.account, region, name, clean(d), part)


def _generic(a: Attrs, ctx: TfContext) -> Mapped | None:
    rid = a.get("id")
    if not isinstance(rid, str) or not rid.lower().startswith("/subscriptions/"):
        return None
    typ = stored_type(rid)
    return None if typ is None else _az(a, typ, {})


MAPPINGS.prefix_mappers["azurerm_"] = _generic
MAPPINGS.prefix_mappers["azapi_"] = _generic


@MAPPINGS.mapping("azurerm_resource_group")
def _resource_group(a: Attrs, ctx: TfContext) -> Mapped:
    return _az(a, RESOURCE_GROUP_TYPE, {})


@MAPPINGS.mapping("azurerm_storage_account")
def _storage_account(a: Attrs, ctx: TfContext) -> Mapped:
    https = as_bool(a.get("https_traffic_only_enabled", a.get("enable_https_traffic_only")))
    blob_public = as_bool(
        a.get("allow_nested_items_to_be_public", a.get("allow_blob_public_access"))
    )
    rules = first_block(a.get("network_rules"))
    d: dict[str, Any] = {
        "kind": a.get("account_kind"),
        "properties": {
            "minimumTlsVersion": a.get("min_tls_version"),
            "supportsHttpsTrafficOnly": https,
        },
        "secureTransport": https,
        "encrypted": True,  # storage service encryption cannot be switched off
    }
    # The collector's rule: anonymous blob access → public; network access off → not;
    # otherwise the firewall's default action (ARM's default is Allow).
    if blob_public is True:
        d["public"] = True
    elif as_bool(a.get("public_network_access_enabled")) is False:
        d["public"] = False
    else:
        d["public"] = rules.get("default_action", "Allow") == "Allow"
    return _az(a, "microsoft.storage/storageaccounts", d)


@MAPPINGS.mapping("azurerm_linux_virtual_machine", "azurerm_windows_virtual_machine")
def _vm(a: Attrs, ctx: TfContext) -> Mapped:
    # OS disks of these resources are always managed, hence encrypted at rest.
    d = {"properties": {"hardwareProfile": {"vmSize": a.get("size")}}, "encrypted": True}
    return _az(a, "microsoft.compute/virtualmachines", d)


@MAPPINGS.mapping("azurerm_virtual_machine")
def _legacy_vm(a: Attrs, ctx: TfContext) -> Mapped:
    d = {"properties": {"hardwareProfile": {"vmSize": a.get("vm_size")}}}
    return _az(a, "microsoft.compute/virtualmachines", d)


@MAPPINGS.mapping("azurerm_managed_disk")
def _disk(a: Attrs, ctx: TfContext) -> Mapped:
    size = a.get("disk_size_gb")
    d = {"sku": {"name": a.get("storage_account_type")},
         "properties": {"diskSizeGB": as_int(size)}}  # fmt: skip
    return _az(a, "microsoft.compute/disks", d)


def _open_inbound(r: Attrs) -> bool:
    sources = [r.get("source_address_prefix"), *as_list(r.get("source_address_prefixes"))]
    return (
        str(r.get("direction", "")).lower() == "inbound"
        and str(r.get("access", "")).lower() == "allow"
        and any(isinstance(x, str) and x.lower() in _OPEN for x in sources)
    )


@MAPPINGS.mapping("azurerm_network_security_group")
def _nsg(a: Attrs, ctx: TfContext) -> Mapped:
    public = any(_open_inbound(r) for r in as_list(a.get("security_rule")))
    return _az(a, "microsoft.network/networksecuritygroups", {"public": public})


@MAPPINGS.mapping("azurerm_network_security_rule")
def _nsg_rule(a: Attrs, ctx: TfContext) -> Mapped | None:
    # A rule is stored inside its group: an open inbound one makes the group public (a
    # closed one says nothing the group's own declaration does not).
    rid = str(a.get("id") or "")
    nsg = rid.rsplit("/securityRules/", 1)[0] if "/securityRules/" in rid else None
    if not nsg:
        return None
    d = {"public": True} if _open_inbound(a) else {}
    return _az(a, "microsoft.network/networksecuritygroups", d, rid=nsg, part=True)


@MAPPINGS.mapping("azurerm_network_interface_security_group_association")
def _nic_nsg(a: Attrs, ctx: TfContext) -> Mapped | None:
    # Its id is "<nic id>|<nsg id>": the association is the NIC's networkSecurityGroup.
    nic, nsg = a.get("network_interface_id"), a.get("network_security_group_id")
    if not (isinstance(nic, str) and isinstance(nsg, str)):
        return None
    d = {"networkSecurityGroup": nsg}
    return _az(a, "microsoft.network/networkinterfaces", d, rid=nic, part=True)


@MAPPINGS.mapping("azurerm_subnet_network_security_group_association")
def _subnet_nsg(a: Attrs, ctx: TfContext) -> Mapped | None:
    subnet, nsg = a.get("subnet_id"), a.get("network_security_group_id")
    if not (isinstance(subnet, str) and isinstance(nsg, str)):
        return None
    d = {"networkSecurityGroup": nsg}
    return _az(a, "microsoft.network/virtualnetworks/subnets", d, rid=subnet, part=True)


@MAPPINGS.mapping("azurerm_subnet_route_table_association",
                  "azurerm_subnet_nat_gateway_association")  # fmt: skip
def _subnet_assoc(a: Attrs, ctx: TfContext) -> Mapped | None:
    # ARM's subnet document names its route table and NAT gateway by id.
    subnet = a.get("subnet_id")
    ref = a.get("route_table_id") or a.get("nat_gateway_id")
    if not isinstance(subnet, str) or not isinstance(ref, str):
        return None
    field_name = "routeTable" if a.get("route_table_id") else "natGateway"
    d = {"properties": {field_name: {"id": ref}}}
    return _az(a, "microsoft.network/virtualnetworks/subnets", d, rid=subnet, part=True)


@MAPPINGS.mapping("azurerm_subnet")
def _subnet(a: Attrs, ctx: TfContext) -> Mapped:
    # ARM writes one prefix as addressPrefix, several as addressPrefixes.
    prefixes = [str(x) for x in as_list(a.get("address_prefixes"))]
    if not prefixes and a.get("address_prefix"):
        prefixes = [str(a["address_prefix"])]
    props: dict[str, Any] = {}
    if len(prefixes) == 1:
        props["addressPrefix"] = prefixes[0]
    elif prefixes:
        props["addressPrefixes"] = prefixes
    return _az(a, "microsoft.network/virtualnetworks/subnets", {"properties": props})


@MAPPINGS.mapping("azurerm_postgresql_flexible_server", "azurerm_mysql_flexible_server")
def _flexible(a: Attrs, ctx: TfContext) -> Mapped:
    # Storage of flexible servers is always encrypted; public as their network access says.
    rid = str(a.get("id", "")).lower()
    typ = str(azure_type(rid) or "microsoft.dbforpostgresql/flexibleservers")
    d: dict[str, Any] = {"encrypted": True}
    if as_bool(a.get("public_network_access_enabled")) is not None:
        d["public"] = bool(as_bool(a.get("public_network_access_enabled")))
    backup = as_bool(a.get("geo_redundant_backup_enabled"))
    if backup is not None:
        d["geoRedundantBackup"] = backup
    return _az(a, typ, d)


@MAPPINGS.mapping("azurerm_virtual_network")
def _vnet(a: Attrs, ctx: TfContext) -> Mapped:
    prefixes = [str(x) for x in as_list(a.get("address_space"))]
    return _az(a, "microsoft.network/virtualnetworks", {"addressPrefixes": prefixes or None})


@MAPPINGS.mapping("azurerm_key_vault")
def _key_vault(a: Attrs, ctx: TfContext) -> Mapped:
    acls = first_block(a.get("network_acls"))
    if as_bool(a.get("public_network_access_enabled")) is False:
        public = False
    else:
        public = acls.get("default_action", "Allow") != "Deny"
    d: dict[str, Any] = {"public": public, "properties": {"tenantId": a.get("tenant_id")}}
    if as_bool(a.get("purge_protection_enabled")) is True:
        d["properties"]["enablePurgeProtection"] = True
        d["purgeProtection"] = True
    return _az(a, "microsoft.keyvault/vaults", d)


@MAPPINGS.mapping("azurerm_key_vault_key", "azurerm_key_vault_secret")
def _vault_item(a: Attrs, ctx: TfContext) -> Mapped | None:
    # The provider's id is the data-plane URL; the collector keys the item by its ARM id.
    rid = a.get("resource_versionless_id") or a.get("resource_id")
    if not isinstance(rid, str) or not rid.lower().startswith("/subscriptions/"):
        return None
    rid = rid.split("/versions/")[0]
    typ = azure_type(rid)
    if typ not in CHILD_TYPES:
        return None
    return _az({**a, "id": rid}, str(typ), {})


@MAPPINGS.mapping("azurerm_kubernetes_cluster")
def _aks(a: Attrs, ctx: TfContext) -> Mapped:
    api = first_block(a.get("api_server_access_profile"))
    ranges = as_list(api.get("authorized_ip_ranges") or a.get("api_server_authorized_ip_ranges"))
    private = as_bool(a.get("private_cluster_enabled"))
    d: dict[str, Any] = {
        "rbac": as_bool(a.get("role_based_access_control_enabled")),
        "privateCluster": private,
        "localAccountsDisabled": as_bool(a.get("local_account_disabled")),
        "networkPolicy": first_block(a.get("network_profile")).get("network_policy") or None,
    }
    if private is not None:
        d["public"] = False if private else not ranges  # the collector's rule
    return _az(a, "microsoft.containerservice/managedclusters", d)


@MAPPINGS.mapping("azurerm_container_registry")
def _registry(a: Attrs, ctx: TfContext) -> Mapped:
    d: dict[str, Any] = {
        "adminUserEnabled": as_bool(a.get("admin_enabled")),
        "anonymousPullEnabled": as_bool(a.get("anonymous_pull_enabled")),
    }
    rules = first_block(a.get("network_rule_set"))
    if (
        as_bool(a.get("public_network_access_enabled")) is False
        or rules.get("default_action") == "Deny"
    ):
        d["public"] = False
    elif as_bool(a.get("public_network_access_enabled")) is True:
        d["public"] = True
    return _az(a, "microsoft.containerregistry/registries", d)


@MAPPINGS.mapping("azurerm_linux_web_app", "azurerm_windows_web_app", "azurerm_app_service")
def _web_app(a: Attrs, ctx: TfContext) -> Mapped:
    site = first_block(a.get("site_config"))
    d: dict[str, Any] = {
        "httpsOnly": as_bool(a.get("https_only")),
        "minimumTlsVersion": site.get("minimum_tls_version") or site.get("min_tls_version") or None,
        "ftpsState": site.get("ftps_state") or None,
    }
    if as_bool(a.get("public_network_access_enabled")) is not None:
        d["public"] = bool(as_bool(a.get("public_network_access_enabled")))
    return _az(a, "microsoft.web/sites", d)


@MAPPINGS.mapping("azurerm_mssql_server", "azurerm_sql_server")
def _sql_server(a: Attrs, ctx: TfContext) -> Mapped:
    d: dict[str, Any] = {
        "properties": {
            "version": a.get("version"),
            "minimalTlsVersion": a.get("minimum_tls_version"),
            "administratorLogin": a.get("administrator_login"),
        }
    }
    if as_bool(a.get("public_network_access_enabled")) is not None:
        d["public"] = bool(as_bool(a["public_network_access_enabled"]))
    return _az(a, "microsoft.sql/servers", d)


@MAPPINGS.mapping("azurerm_mssql_database", "azurerm_sql_database")
def _sql_db(a: Attrs, ctx: TfContext) -> Mapped | None:
    rid = a.get("id")
    if not isinstance(rid, str) or azure_type(rid) != "microsoft.sql/servers/databases":
        return None
    return _az(a, "microsoft.sql/servers/databases", {})


@MAPPINGS.mapping("azurerm_role_assignment")
def _role_assignment(a: Attrs, ctx: TfContext) -> Mapped | None:
    rid = a.get("id")
    if not isinstance(rid, str) or azure_type(rid) != "microsoft.authorization/roleassignments":
        return None
    scope = a.get("scope")
    d = {"scope": str(scope).lower() if scope else None,
         "properties": {"principalId": a.get("principal_id")}}  # fmt: skip
    return _az(a, "microsoft.authorization/roleassignments", d)


@MAPPINGS.mapping("azurerm_security_center_subscription_pricing")
def _pricing(a: Attrs, ctx: TfContext) -> Mapped | None:
    rid = a.get("id")
    if not isinstance(rid, str) or azure_type(rid) != "microsoft.security/pricings":
        return None
    return _az(a, "microsoft.security/pricings", {"properties": {"pricingTier": a.get("tier")}})


@MAPPINGS.mapping("azurerm_security_center_contact")
def _contact(a: Attrs, ctx: TfContext) -> Mapped | None:
    rid = a.get("id")
    if not isinstance(rid, str) or azure_type(rid) != "microsoft.security/securitycontacts":
        return None
    return _az(a, "microsoft.security/securitycontacts", {})


@MAPPINGS.mapping("azurerm_monitor_diagnostic_setting")
def _diagnostic(a: Attrs, ctx: TfContext) -> Mapped | None:
    # The id is "<target id>|<name>"; the collector reads a subscription's own (activity log).
    target, name = a.get("target_resource_id"), a.get("name")
    if not (isinstance(target, str) and isinstance(name, str)):
        return None
    if identify(target) is None or azure_type(target) != "microsoft.resources/subscriptions":
        return None
    rid = f"{target.rstrip('/')}/providers/microsoft.insights/diagnosticsettings/{name}"
    return _az({**a, "id": rid}, "microsoft.insights/diagnosticsettings", {})


__all__ = ["MAPPINGS", "stored_type"]
