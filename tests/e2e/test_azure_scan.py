"""`driftscan scan` of Azure (HTTPS ARM emulator) beside AWS (moto) into one store."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from typer.testing import Result

from driftscan.sandbox.arm import DEMO_SECRET_CANARY, SUB_DEV, SUB_PROD, ArmEmulator
from driftscan.sandbox.armestate import SUB_DATA, SUB_DENIED, resource_id
from tests.collect.azure.conftest import tenant, tenant_server  # noqa: F401 - shared fixtures


def _azure(arm: ArmEmulator) -> dict[str, Any]:
    return {
        "name": "azure-sandbox",
        "type": "azure",
        "subscriptions": ["all"],
        "credential": "token_env",
        "endpoint": arm.url,
        "ca_bundle": arm.ca_path,
        "keyvault_domain": arm.keyvault_domain,
    }


def _rows(cli: Callable[..., Result], cfg: Path, sql: str) -> list[dict[str, Any]]:
    res = cli("query", sql, "-c", str(cfg), "--format", "json")
    assert res.exit_code == 0, res.output
    return list(json.loads(res.stdout))


def test_aws_and_azure_land_in_one_store(
    cli: Callable[..., Result], config_file: Callable[..., Path], arm: ArmEmulator
) -> None:
    """Both clouds are scanned together; Azure keys are lower-case ARM IDs with facets."""
    cfg = config_file()
    doc = yaml.safe_load(cfg.read_text())
    doc["sources"].append(_azure(arm))
    cfg.write_text(yaml.safe_dump(doc))
    res = cli("scan", "-c", str(cfg), "--format", "json")
    assert res.exit_code == 0, res.output
    providers = {
        r["provider"]: r["n"]
        for r in _rows(cli, cfg, "select provider, count(*) n from resources group by 1")
    }
    assert providers["aws"] > 0 and providers["azure"] > 0
    az = _rows(
        cli,
        cfg,
        "select key, account, type, encrypted, public from resources where provider = 'azure'",
    )
    assert {r["account"] for r in az} == {SUB_PROD, SUB_DEV}
    assert all(r["key"] == r["key"].lower() and r["key"].startswith("/subscriptions/") for r in az)
    storage = [r for r in az if r["type"] == "microsoft.storage/storageaccounts"]
    assert storage and all(r["encrypted"] is not None for r in storage)


def test_denied_subscription_is_incomplete(
    cli: Callable[..., Result], config_file: Callable[..., Path], arm: ArmEmulator, tmp_path: Path
) -> None:
    """A subscription answering 403 gives exit 3, that subscription not assessed, the other stored."""
    cfg = tmp_path / "azure.yaml"
    cfg.write_text(yaml.safe_dump({"store": str(tmp_path / "az.duckdb"), "sources": [_azure(arm)]}))
    arm.deny(SUB_DEV)
    res = cli("scan", "-c", str(cfg), "--format", "json")
    assert res.exit_code == 3, res.output
    failed = _rows(cli, cfg, "select name, reason from slices where status = 'failed'")
    assert failed == [{"name": SUB_DEV, "reason": "denied"}]
    accounts = {
        r["account"]
        for r in _rows(cli, cfg, "select distinct account from resources where assessed")
    }
    assert accounts == {SUB_PROD}
    blobs = b"".join(p.read_bytes() for p in tmp_path.glob("az.duckdb*"))
    assert DEMO_SECRET_CANARY.encode() not in blobs


def test_a_management_group_scan_of_the_tenant(
    cli: Callable[..., Result],
    tenant: ArmEmulator,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    """`driftscan scan` of the tenant's root management group in Resource Graph mode stores every
    served type with its properties; the 403 subscription is not assessed and the exit code is 3."""
    source = {**_azure(tenant), "management_group": "mg-root", "mode": "resource-graph"}
    del source["subscriptions"]
    cfg = tmp_path / "tenant.yaml"
    residency = {"eu-personal": ["westeurope", "northeurope"]}
    cfg.write_text(yaml.safe_dump({"store": str(tmp_path / "t.duckdb"), "sources": [source],
                                   "params": {"residency": residency}}))  # fmt: skip
    res = cli("scan", "-c", str(cfg), "--format", "json")
    assert res.exit_code == 3, res.output
    failed = _rows(cli, cfg, "select name, reason from slices where status = 'failed'")
    assert failed == [{"name": SUB_DENIED, "reason": "denied"}]
    stored = {
        r["key"]: r
        for r in _rows(cli, cfg, "select key, type, region, attrs from resources where assessed")
    }
    served = {k: r for k, r in tenant.resources.items() if r.sub != SUB_DENIED.lower()}
    assert set(served) <= set(stored)
    assert {r.type.lower() for r in served.values()} <= {r["type"] for r in stored.values()}
    for key, r in served.items():
        attrs = stored[key]["attrs"]
        attrs = json.loads(attrs) if isinstance(attrs, str) else attrs
        assert set(r.doc.get("properties", {})) - {"value"} <= set(attrs["properties"]), key
    assert not any(SUB_DENIED in k for k in stored)
    blobs = b"".join(p.read_bytes() for p in tmp_path.glob("t.duckdb*"))
    assert DEMO_SECRET_CANARY.encode() not in blobs
    # The Cosmos DB account at home in West Europe, replicated into East US, alarms.
    res = cli("check", "-c", str(cfg), "--format", "json")
    assert res.exit_code == 3, res.output
    findings = {(f["rule"], f["resource"]): f for f in json.loads(res.stdout)["findings"]}
    profiles = resource_id(
        SUB_DATA, "rg-platform", "Microsoft.DocumentDB/databaseAccounts", "acme-eu-profiles"
    ).lower()
    orders = profiles.replace("acme-eu-profiles", "acme-eu-orders")
    bad = findings[("data_residency_region", profiles)]
    assert bad["status"] == "alarm" and "eastus" in bad["reason"]
    assert findings[("data_residency_region", orders)]["status"] == "ok"
