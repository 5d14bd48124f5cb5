"""The CIS Microsoft Azure Foundations 2.1 rules: each passes and fails on resources shaped as the
Azure collector writes them (its own derived attributes), reports not assessed where a fact was
not returned, and finds both verdicts in the ARM emulator's CIS estate read by the collector."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from driftscan.assets import rules_dir
from driftscan.collect.base import CollectContext
from driftscan.model import Finding, Resource, SourceRun
from driftscan.providers.azure.collect import AzureCollector
from driftscan.providers.azure.facets import SPECS
from driftscan.sandbox.arm import ArmEmulator
from driftscan.sandbox.armestate import SUB_CIS_BAD, SUB_CIS_GOOD, cis_estate
from driftscan.store import Store
from tests.collect.azure.conftest import TEST_QUOTA, make_source
from tests.compliance.conftest import SUB, check, config, failed_slice, statuses, write_scan
from tests.conftest import TEST_FP

SUBSCRIPTION = "microsoft.resources/subscriptions"
ST = "microsoft.storage/storageaccounts"
NSG = "microsoft.network/networksecuritygroups"
WEB = "microsoft.web/sites"
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)

CIS_AZURE = (
    "azure_storage_min_tls12", "azure_storage_no_public_blob_access",
    "azure_storage_default_network_deny", "azure_storage_infrastructure_encryption",
    "azure_storage_cmk_encryption", "azure_postgres_ssl_enforced", "azure_mysql_tls12",
    "azure_keyvault_public_network_disabled", "azure_keyvault_rbac_authorization",
    "azure_vm_managed_disks", "azure_disk_public_network_disabled", "azure_web_min_tls12",
    "azure_web_ftps_disabled", "azure_web_managed_identity", "azure_nsg_rdp_from_internet",
    "azure_nsg_ssh_from_internet", "azure_nsg_udp_from_internet", "azure_nsg_http_from_internet",
    "azure_network_watcher_enabled", "azure_cosmos_public_network_disabled",
    "azure_defender_plan_servers", "azure_defender_plan_storage", "azure_defender_plan_sql",
    "azure_defender_plan_keyvault",
)  # fmt: skip


def az(
    type_: str,
    name: str,
    props: dict[str, Any] | None = None,
    *,
    region: str = "westeurope",
    account: str = SUB,
    extras: dict[str, Any] | None = None,
    top: dict[str, Any] | None = None,
) -> Resource:
    """An Azure resource as the collector builds it: top-level fields (identity, sku), the ARM
    properties, detail reads, and the type's derived attributes computed by the collector's own
    derive function."""
    if type_ == SUBSCRIPTION:
        key = f"/subscriptions/{account}"
    else:
        ns, _, rest = type_.partition("/")
        tail = "/".join(f"{k}/{n}" for k, n in zip(rest.split("/"), name.split("/"), strict=True))
        key = f"/subscriptions/{account}/resourcegroups/rg/providers/{ns}/{tail}"
    props = props or {}
    attrs: dict[str, Any] = {**(top or {}), "resourceGroup": "rg", "properties": props,
                             **(extras or {})}  # fmt: skip
    spec = SPECS.get(type_)
    if spec is not None and spec.derive is not None:
        attrs.update(spec.derive(props, attrs))
    return Resource(key=key, provider="azure", source="azure-prod", account=account,
                    region=region, type=type_, name=name, attrs=attrs)  # fmt: skip


def verdicts(store: Store, rule: str, **cfg: Any) -> dict[str, str]:
    """The rule's status by the resource's last name segment."""
    res = check(store, config(**cfg), rules=[rule])
    return {k.rsplit("/", 1)[-1]: v for k, v in statuses(res, rule).items()}


def reasons(store: Store, rule: str) -> dict[str, str]:
    res = check(store, config(), rules=[rule])
    return {f.resource.rsplit("/", 1)[-1]: f.reason for f in res.findings if f.rule == rule}


# -- storage -----------------------------------------------------------------------------------


def storage(name: str, **props: Any) -> Resource:
    return az(ST, name, props)


STORAGE_CASES = {
    # rule: (passing properties, failing properties, the failing reason)
    "azure_storage_min_tls12": (
        {"minimumTlsVersion": "TLS1_2"}, {"minimumTlsVersion": "TLS1_1"}, "accepts TLS1_1"
    ),
    "azure_storage_no_public_blob_access": (
        {"allowBlobPublicAccess": False}, {"allowBlobPublicAccess": True},
        "anonymous blob access allowed (allowBlobPublicAccess true)",
    ),
    "azure_storage_default_network_deny": (
        {"networkAcls": {"defaultAction": "Deny"}}, {"networkAcls": {"defaultAction": "Allow"}},
        "network rules allow every network (defaultAction Allow)",
    ),
    "azure_storage_infrastructure_encryption": (
        {"encryption": {"keySource": "Microsoft.Storage", "requireInfrastructureEncryption": True}},
        {"encryption": {"keySource": "Microsoft.Storage"}},
        "infrastructure encryption is off",
    ),
    "azure_storage_cmk_encryption": (
        {"encryption": {"keySource": "Microsoft.Keyvault"}},
        {"encryption": {"keySource": "Microsoft.Storage"}},
        "encrypted with Microsoft-managed keys (keySource Microsoft.Storage)",
    ),
}  # fmt: skip


@pytest.mark.parametrize("rule", sorted(STORAGE_CASES))
def test_storage_rules(store: Store, rule: str) -> None:
    """A compliant account passes, a broken one alarms with its reason, and one whose property
    was not returned is not assessed."""
    good, bad, why = STORAGE_CASES[rule]
    write_scan(store, [storage("good", **good), storage("bad", **bad), storage("silent")])
    assert verdicts(store, rule) == {"good": "ok", "bad": "alarm", "silent": "not_assessed"}
    assert reasons(store, rule)["bad"] == why


def test_storage_firewall_off_by_public_network_access(store: Store) -> None:
    """Public network access disabled passes the default-deny rule whatever the ACL says."""
    write_scan(store, [storage("private", publicNetworkAccess="Disabled",
                               networkAcls={"defaultAction": "Allow"})])  # fmt: skip
    assert verdicts(store, "azure_storage_default_network_deny") == {"private": "ok"}


# -- databases ---------------------------------------------------------------------------------

PG_FLEX = "microsoft.dbforpostgresql/flexibleservers"
MY_FLEX = "microsoft.dbformysql/flexibleservers"


def test_postgres_ssl_enforced(store: Store) -> None:
    """require_secure_transport on passes, off alarms, unread is not assessed; a single server's
    sslEnforcement is read too."""
    write_scan(store, [
        az(PG_FLEX, "on", extras={"serverParameters": {"require_secure_transport": "on"}}),
        az(PG_FLEX, "off", extras={"serverParameters": {"require_secure_transport": "OFF"}}),
        az(PG_FLEX, "unread"),
        az("microsoft.dbforpostgresql/servers", "single", {"sslEnforcement": "Disabled"}),
    ])  # fmt: skip
    assert verdicts(store, "azure_postgres_ssl_enforced") == {
        "on": "ok", "off": "alarm", "unread": "not_assessed", "single": "alarm"
    }  # fmt: skip


def test_mysql_tls12(store: Store) -> None:
    """tls_version of TLS 1.2 and later passes; one listing TLSv1.1, plain text allowed, or a
    single server on TLS1_0 alarms; unread parameters are not assessed."""

    def flex(name: str, tls: str | None, secure: str = "ON") -> Resource:
        return az(MY_FLEX, name, extras={"serverParameters": {
            "tls_version": tls, "require_secure_transport": secure}})  # fmt: skip

    write_scan(store, [
        flex("modern", "TLSv1.2,TLSv1.3"), flex("old", "TLSv1.1,TLSv1.2"),
        flex("plain", "TLSv1.2", secure="OFF"), az(MY_FLEX, "unread"),
        az("microsoft.dbformysql/servers", "single", {"minimalTlsVersion": "TLS1_0"}),
        az("microsoft.dbformysql/servers", "single12", {"minimalTlsVersion": "TLS1_2"}),
    ])  # fmt: skip
    assert verdicts(store, "azure_mysql_tls12") == {
        "modern": "ok", "old": "alarm", "plain": "alarm", "unread": "not_assessed",
        "single": "alarm", "single12": "ok",
    }  # fmt: skip
    assert reasons(store, "azure_mysql_tls12")["old"] == "accepts TLSv1.1"


def test_cosmos_public_network(store: Store) -> None:
    """Disabled passes; Enabled alarms, saying whether it is limited to selected networks."""
    cosmos = "microsoft.documentdb/databaseaccounts"
    write_scan(store, [
        az(cosmos, "private", {"publicNetworkAccess": "Disabled"}),
        az(cosmos, "open", {"publicNetworkAccess": "Enabled", "ipRules": []}),
        az(cosmos, "filtered", {"publicNetworkAccess": "Enabled", "ipRules": [{"ipAddressOrRange": "1.2.3.4"}]}),
        az(cosmos, "silent"),
    ])  # fmt: skip
    rule = "azure_cosmos_public_network_disabled"
    assert verdicts(store, rule) == {
        "private": "ok", "open": "alarm", "filtered": "alarm", "silent": "not_assessed"
    }  # fmt: skip
    why = reasons(store, rule)
    assert why["open"].endswith("(from all networks)")
    assert why["filtered"].endswith("(limited to selected networks)")


# -- Key Vault, compute ------------------------------------------------------------------------


def test_key_vault_rules(store: Store) -> None:
    """Public network access and the RBAC permission model: set passes, unset alarms, not
    reported is not assessed."""
    kv = "microsoft.keyvault/vaults"
    write_scan(store, [
        az(kv, "good", {"publicNetworkAccess": "Disabled", "enableRbacAuthorization": True}),
        az(kv, "bad", {"publicNetworkAccess": "Enabled", "enableRbacAuthorization": False,
                       "networkAcls": {"defaultAction": "Deny"}}),
        az(kv, "silent"),
    ])  # fmt: skip
    for rule in ("azure_keyvault_public_network_disabled", "azure_keyvault_rbac_authorization"):
        assert verdicts(store, rule) == {"good": "ok", "bad": "alarm", "silent": "not_assessed"}
    assert (
        reasons(store, "azure_keyvault_public_network_disabled")["bad"]
        == "public network access Enabled (firewall default Deny)"
    )


def test_vm_managed_disks(store: Store) -> None:
    """Managed OS and data disks pass; an unmanaged OS or data disk alarms by name; a VM without
    a storage profile is not assessed."""
    vm = "microsoft.compute/virtualmachines"
    managed = {"managedDisk": {"id": "x"}}
    write_scan(store, [
        az(vm, "managed", {"storageProfile": {"osDisk": {"name": "os", **managed},
                                              "dataDisks": [{"name": "d1", **managed}]}}),
        az(vm, "vhd", {"storageProfile": {"osDisk": {"name": "os", "vhd": {"uri": "u"}}}}),
        az(vm, "mixed", {"storageProfile": {"osDisk": {"name": "os", **managed},
                                            "dataDisks": [{"name": "legacy", "vhd": {"uri": "u"}}]}}),
        az(vm, "silent"),
    ])  # fmt: skip
    assert verdicts(store, "azure_vm_managed_disks") == {
        "managed": "ok", "vhd": "alarm", "mixed": "alarm", "silent": "not_assessed"
    }  # fmt: skip
    assert reasons(store, "azure_vm_managed_disks")["mixed"] == "unmanaged (VHD) disks: legacy"


def test_disk_public_network(store: Store) -> None:
    """DenyAll, AllowPrivate or public access disabled pass; AllowAll alarms."""
    disk = "microsoft.compute/disks"
    write_scan(store, [
        az(disk, "deny", {"networkAccessPolicy": "DenyAll"}),
        az(disk, "private", {"networkAccessPolicy": "AllowPrivate"}),
        az(disk, "off", {"networkAccessPolicy": "AllowAll", "publicNetworkAccess": "Disabled"}),
        az(disk, "open", {"networkAccessPolicy": "AllowAll"}),
        az(disk, "silent"),
    ])  # fmt: skip
    assert verdicts(store, "azure_disk_public_network_disabled") == {
        "deny": "ok", "private": "ok", "off": "ok", "open": "alarm", "silent": "not_assessed"
    }  # fmt: skip


# -- App Service -------------------------------------------------------------------------------


def test_web_app_rules(store: Store) -> None:
    """config/web's TLS minimum and FTP state (over siteConfig's), and the managed identity."""

    def site(name: str, tls: str | None, ftps: str | None, identity: str | None) -> Resource:
        extras = {"webConfig": {"minTlsVersion": tls, "ftpsState": ftps}} if tls or ftps else None
        top = {"identity": {"type": identity}} if identity else None
        return az(WEB, name, {"siteConfig": {"minTlsVersion": "1.2"}} if tls else {},
                  extras=extras, top=top)  # fmt: skip

    write_scan(store, [
        site("good", "1.3", "FtpsOnly", "SystemAssigned, UserAssigned"),
        site("bad", "1.0", "AllAllowed", "None"),
        site("silent", None, None, None),
    ])  # fmt: skip
    assert verdicts(store, "azure_web_min_tls12") == {
        "good": "ok",
        "bad": "alarm",
        "silent": "not_assessed",
    }
    assert verdicts(store, "azure_web_ftps_disabled") == {
        "good": "ok",
        "bad": "alarm",
        "silent": "not_assessed",
    }
    assert verdicts(store, "azure_web_managed_identity") == {
        "good": "ok",
        "bad": "alarm",
        "silent": "alarm",
    }
    assert reasons(store, "azure_web_min_tls12")["bad"] == "accepts TLS 1.0"


# -- NSGs --------------------------------------------------------------------------------------


def rule_(name: str, port: str | list[str], source: str | list[str], *, protocol: str = "Tcp",
          access: str = "Allow", direction: str = "Inbound") -> dict[str, Any]:  # fmt: skip
    p: dict[str, Any] = {"protocol": protocol, "access": access, "direction": direction,
                         "priority": 100, "destinationAddressPrefix": "*"}  # fmt: skip
    p.update(
        {"destinationPortRanges": port}
        if isinstance(port, list)
        else {"destinationPortRange": port}
    )
    p.update(
        {"sourceAddressPrefixes": source}
        if isinstance(source, list)
        else {"sourceAddressPrefix": source}
    )
    return {"name": name, "properties": p}


NSG_CASES = {
    # rule: (rules that must alarm, rules that must not)
    "azure_nsg_rdp_from_internet": (
        [rule_("rdp", "3389", "Internet"), rule_("range", "3000-4000", "*"),
         rule_("any", "*", "0.0.0.0/0", protocol="*")],
        [rule_("rdp-vpn", "3389", "10.0.0.0/8"), rule_("rdp-deny", "3389", "*", access="Deny"),
         rule_("rdp-out", "3389", "*", direction="Outbound"), rule_("udp", "3389", "*", protocol="Udp")],
    ),
    "azure_nsg_ssh_from_internet": (
        [rule_("ssh", "22", "Any"), rule_("list", ["80", "20-23"], ["10.0.0.0/8", "Internet"])],
        [rule_("ssh-office", "22", ["203.0.113.0/24"]), rule_("other", "2222", "*")],
    ),
    "azure_nsg_udp_from_internet": (
        [rule_("dns", "53", "*", protocol="Udp"), rule_("all", "*", "::/0", protocol="*")],
        [rule_("tcp", "53", "*"), rule_("udp-lan", "53", "192.168.0.0/16", protocol="Udp")],
    ),
    "azure_nsg_http_from_internet": (
        [rule_("http", "80", "Internet"), rule_("https", ["443"], "*")],
        [rule_("alt", "8080", "*"), rule_("https-lb", "443", "AzureLoadBalancer")],
    ),
}  # fmt: skip


@pytest.mark.parametrize("rule", sorted(NSG_CASES))
def test_nsg_rules(store: Store, rule: str) -> None:
    """Each Internet-open rule alarms on its own NSG, named in the reason; restricted sources,
    denies, outbound rules, other protocols and ports pass; an NSG whose rules were not
    returned is not assessed."""
    bad, good = NSG_CASES[rule]
    res = [az(NSG, f"bad-{r['name']}", {"securityRules": [r]}) for r in bad]
    res.append(az(NSG, "good", {"securityRules": good}))
    res.append(az(NSG, "silent"))
    write_scan(store, res)
    expected = {f"bad-{r['name']}": "alarm" for r in bad} | {"good": "ok", "silent": "not_assessed"}
    assert verdicts(store, rule) == expected
    why = reasons(store, rule)[f"bad-{bad[0]['name']}"]
    assert "allowed from the Internet" in why and bad[0]["name"] in why


# -- Network Watcher ---------------------------------------------------------------------------

OTHER = "00000000-0000-0000-0000-000000000002"


def test_network_watcher(store: Store) -> None:
    """A region with resources and a watcher passes, one without alarms; regions without
    resources, global resources and the subscription itself ask for none; a subscription whose
    resources could not be assessed is not assessed."""
    watcher = "microsoft.network/networkwatchers"
    first = [
        az(ST, "eu", region="westeurope"),
        az(watcher, "NetworkWatcher_westeurope", region="westeurope"),
        az(watcher, "NetworkWatcher_eastus", region="eastus"),  # nothing else there
        az(ST, "north", region="northeurope"),
        az("microsoft.insights/activitylogalerts", "alert", region="global"),
        az(SUBSCRIPTION, SUB, region=""),
        az(ST, "other", region="westeurope", account=OTHER),
    ]
    write_scan(store, first)
    res = check(store, config(), rules=["azure_network_watcher_enabled"])
    assert statuses(res, "azure_network_watcher_enabled") == {
        f"/subscriptions/{SUB}/locations/westeurope": "ok",
        f"/subscriptions/{SUB}/locations/northeurope": "alarm",
        f"/subscriptions/{OTHER}/locations/westeurope": "alarm",
    }
    # The other subscription cannot be read on the next day: its resources are not assessed.
    write_scan(store, first[:-1], failed=[failed_slice("azure-prod", OTHER, account=OTHER)], day=1)
    res = check(store, config(), rules=["azure_network_watcher_enabled"])
    assert (
        statuses(res, "azure_network_watcher_enabled")[
            f"/subscriptions/{OTHER}/locations/westeurope"
        ]
        == "not_assessed"
    )


# -- Defender ----------------------------------------------------------------------------------

DEFENDER = {
    "azure_defender_plan_servers": "VirtualMachines",
    "azure_defender_plan_storage": "StorageAccounts",
    "azure_defender_plan_sql": "SqlServers",
    "azure_defender_plan_keyvault": "KeyVaults",
}


@pytest.mark.parametrize("rule", sorted(DEFENDER))
def test_defender_plans(store: Store, rule: str) -> None:
    """The plan on Standard passes; on Free, or missing from the read pricings, alarms; pricings
    not read are not assessed."""
    plan = DEFENDER[rule]
    others = [{"plan": p, "tier": "Standard"} for p in DEFENDER.values() if p != plan]

    def sub(account: str, plans: list[dict[str, Any]] | None) -> Resource:
        return az(SUBSCRIPTION, account, account=account, region="",
                  top={"settings": {"defenderPlans": plans}})  # fmt: skip

    write_scan(store, [
        sub("s-standard", [*others, {"plan": plan, "tier": "Standard"}]),
        sub("s-free", [*others, {"plan": plan, "tier": "Free"}]),
        sub("s-missing", others),
        sub("s-unread", None),
    ])  # fmt: skip
    assert verdicts(store, rule) == {
        "s-standard": "ok", "s-free": "alarm", "s-missing": "alarm", "s-unread": "not_assessed"
    }  # fmt: skip
    assert reasons(store, rule)["s-free"].endswith(f"({plan}) is on tier Free")


def test_malformed_properties_fail_closed(store: Store) -> None:
    """Shapes ARM would not return (a junk security rule beside a real one, properties that are
    not an object, a tier that is not a string) neither pass by accident nor break a rule."""
    nsg = az(NSG, "mixed", {"securityRules": ["junk", 7, rule_("rdp", "3389", "*")]})
    weird = az(ST, "weird")
    weird.attrs["properties"] = "not an object"
    sub = az(SUBSCRIPTION, SUB, region="", top={"settings": {"defenderPlans": [
        {"plan": "VirtualMachines", "tier": ["Standard"]}, "junk"]}})  # fmt: skip
    write_scan(store, [nsg, weird, sub])
    res = check(store, config(), rules=list(CIS_AZURE))
    got = {(f.rule, f.resource.rsplit("/", 1)[-1]): f.status for f in res.findings}
    assert got[("azure_nsg_rdp_from_internet", "mixed")] == "alarm"
    assert got[("azure_storage_min_tls12", "weird")] == "not_assessed"
    assert got[("azure_defender_plan_servers", SUB)] == "alarm"
    assert [k for k, v in got.items() if v == "error"] == []


# -- the pack ----------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", CIS_AZURE)
def test_rule_declares_its_types(rule: str) -> None:
    """Every CIS Azure rule names the lower-case ARM types it evaluates."""
    types = yaml.safe_load((rules_dir() / f"{rule}.yaml").read_text())["types"]
    assert types and all(t == t.lower() and t.startswith("microsoft.") for t in types), types


# -- the emulator's CIS estate, read by the real collector --------------------------------------


@pytest.fixture(scope="module", params=["arm", "resource-graph"])
def estate_findings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, list[Finding]]]:
    """The CIS estate's two subscriptions, collected over HTTPS (resource by resource, and
    through Resource Graph) and checked once per mode."""
    with (
        pytest.MonkeyPatch.context() as mp,
        ArmEmulator(cis_estate(), page_size=4, graph_quota=TEST_QUOTA) as arm,
    ):
        mp.setenv("AZURE_ACCESS_TOKEN", arm.token)
        mp.setenv("DRIFTSCAN_AZURE_PACE_S", "0.0")
        run = SourceRun("azure-cis", "azure")
        src = make_source(
            arm, name="azure-cis", subscriptions=[SUB_CIS_GOOD, SUB_CIS_BAD], mode=request.param
        )
        AzureCollector(src).collect(CollectContext(run, fingerprint=TEST_FP))
        run.finish()
    assert run.status == "ok", run.slices
    store = Store(tmp_path_factory.mktemp("cis-azure") / "cis.duckdb")
    try:
        store.write_scan([run], started_at=T0, finished_at=T0, tool_version="test")
        res = check(store, config())
    finally:
        store.close()
    out: dict[str, list[Finding]] = {}
    for f in res.findings:
        out.setdefault(f.rule, []).append(f)
    yield out


@pytest.mark.parametrize("rule", CIS_AZURE)
def test_emulator_estate_shows_both_verdicts(
    estate_findings: dict[str, list[Finding]], rule: str
) -> None:
    """In the emulator's CIS estate each rule passes in acme-cis-good and alarms in acme-cis-bad."""
    found = estate_findings.get(rule, [])
    by_sub = {
        sub: {f.status for f in found if f.resource.startswith(f"/subscriptions/{sub}")}
        for sub in (SUB_CIS_GOOD, SUB_CIS_BAD)
    }
    assert by_sub == {SUB_CIS_GOOD: {"ok"}, SUB_CIS_BAD: {"alarm"}}, (rule, found)
