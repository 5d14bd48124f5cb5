"""The Azure collector against the HTTPS ARM emulator: identity, types, facets, paging, secrets."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from driftscan.collect.base import run_source
from driftscan.model import Resource, SourceRun, canonical_json
from driftscan.providers.azure import AzureSource
from driftscan.sandbox.arm import DEMO_SECRET_CANARY, SUB_DEV, SUB_PROD, ArmEmulator, resource_id
from tests.conftest import TEST_FP

SourceFactory = Callable[..., AzureSource]

FULL_TYPES = {
    "microsoft.storage/storageaccounts",
    "microsoft.compute/virtualmachines",
    "microsoft.network/networksecuritygroups",
    "microsoft.sql/servers",
    "microsoft.sql/servers/databases",
    "microsoft.keyvault/vaults",
    "microsoft.web/sites",
}


def by_name(run: SourceRun) -> dict[str, Resource]:
    return {r.name: r for r in run.resources}


@pytest.fixture
def run(arm: ArmEmulator, source: SourceFactory) -> SourceRun:
    return run_source(source(), fingerprint=TEST_FP)


def test_two_subscriptions_are_two_ok_slices(run: SourceRun) -> None:
    """Discovering 'all' finds both subscriptions, each recorded as one ok slice covering all types."""
    assert run.status == "ok", run.slices
    assert sorted(s.name for s in run.slices) == sorted([SUB_PROD, SUB_DEV])
    for s in run.slices:
        assert (s.status, s.account, s.region, s.types, s.provider) == (
            "ok",
            s.name,
            None,
            [],
            "azure",
        )
        assert s.resources == sum(1 for r in run.resources if r.account == s.name)
    assert {r.account for r in run.resources} == {SUB_PROD, SUB_DEV}


def test_every_type_is_read_with_lower_case_ids_and_types(run: SourceRun) -> None:
    """Keys are lower-cased ARM ids, types lower-case ARM types, and every full-read type is present."""
    types = {r.type for r in run.resources}
    assert FULL_TYPES | {"microsoft.resources/subscriptions/resourcegroups"} <= types
    for r in run.resources:
        assert r.key == r.key.lower() and r.type == r.type.lower()
        assert r.provider == "azure" and r.source == "azure-test" and r.error is None
    db = by_name(run)["acme-payments-sql/payments"]
    assert (
        db.key
        == resource_id(
            SUB_PROD, "rg-payments", "Microsoft.Sql/servers/databases", "acme-payments-sql/payments"
        ).lower()
    )
    assert db.attrs["resourceGroup"] == "rg-payments"
    rg = by_name(run)["rg-data"]
    assert rg.key == f"/subscriptions/{SUB_PROD}/resourcegroups/rg-data"
    assert rg.tags == {"owner": "data-team"} and rg.region == "westeurope"


def test_listing_pages_through_next_link(arm: ArmEmulator, run: SourceRun) -> None:
    """The resource list follows nextLink across at least three pages, asking for created/changed times."""
    pages = [
        p for m, p in arm.requests if m == "GET" and f"/subscriptions/{SUB_PROD}/resources?" in p
    ]
    assert len(pages) >= 3
    assert all("createdTime" in p and "changedTime" in p for p in pages)
    assert (
        sum(1 for r in run.resources if r.account == SUB_PROD) == 28
    )  # 16 resources, 3 groups, the subscription and its 8 settings
    assert by_name(run)["pay-vnet"].attrs["createdTime"].startswith("2024-01-15")


def test_storage_accounts_carry_residency_and_exposure(run: SourceRun) -> None:
    """Storage accounts keep location, tags and the encryption / public-access properties."""
    res = by_name(run)
    eu_us = res["acmeeucustomers"]
    assert (eu_us.region, eu_us.tags["data_class"]) == ("eastus", "eu-personal")
    assert (eu_us.encrypted, eu_us.public) == (True, False)
    props = eu_us.attrs["properties"]
    assert props["minimumTlsVersion"] == "TLS1_2" and props["supportsHttpsTrafficOnly"] is True
    assert props["allowBlobPublicAccess"] is False and props["publicNetworkAccess"] == "Enabled"
    assert props["encryption"]["services"]["blob"]["enabled"] is True
    assert res["acmepublicweb"].public is True
    assert res["acmedevscratch"].attrs["properties"]["minimumTlsVersion"] == "TLS1_0"


def test_sql_servers_and_databases(run: SourceRun) -> None:
    """SQL servers expose public network access; databases read TDE through its own GET."""
    res = by_name(run)
    assert (
        res["acme-payments-sql"].public is True and res["acme-payments-sql"].tags["pci"] == "true"
    )
    assert res["acme-dev-sql"].public is False
    assert res["acme-payments-sql/payments"].encrypted is True
    assert res["acme-dev-sql/scratch"].encrypted is False
    assert res["acme-dev-sql/scratch"].attrs["transparentDataEncryption"] == {"state": "Disabled"}


def test_vms_nsgs_and_vaults(run: SourceRun) -> None:
    """VM disk encryption, NSG internet exposure and vault soft delete / purge protection are read."""
    res = by_name(run)
    assert (res["pay-vm-01"].encrypted, res["pay-vm-01"].public) == (True, None)
    assert res["dev-vm-legacy"].encrypted is False  # unmanaged VHD without disk encryption
    assert res["web-nsg"].public is True and res["pay-nsg"].public is False
    assert res["dev-nsg"].public is False and res["web-nsg"].encrypted is None
    rules = res["web-nsg"].attrs["properties"]["securityRules"]
    assert {r["name"] for r in rules} == {"allow-ssh", "allow-https"}
    prod_kv, dev_kv = res["acme-prod-kv"], res["acme-dev-kv"]
    assert prod_kv.attrs["properties"]["enableSoftDelete"] is True
    assert prod_kv.attrs["properties"]["enablePurgeProtection"] is True and prod_kv.public is False
    assert dev_kv.attrs["properties"]["enablePurgeProtection"] is False and dev_kv.public is True


def test_types_without_a_spec_are_read_in_full_with_null_facets(
    arm: ArmEmulator, run: SourceRun
) -> None:
    """A type without a mapping is read in full at the providers list's newest stable version,
    with its properties, and encrypted/public null (not applicable)."""
    pe = by_name(run)["acme-kv-pe"]
    assert pe.type == "microsoft.network/privateendpoints"
    assert (pe.encrypted, pe.public, pe.tags, pe.error) == (None, None, {}, None)
    assert "properties" in pe.attrs
    gets = [p for m, p in arm.requests if m == "GET" and "/privateEndpoints/acme-kv-pe?" in p]
    assert len(gets) == 1 and gets[0].endswith("?api-version=2024-01-01")  # not the preview
    assert any(p.startswith(f"/subscriptions/{SUB_PROD}/providers?") for _, p in arm.requests)


def test_app_setting_values_never_reach_a_document(run: SourceRun) -> None:
    """App settings keep their names; values are fingerprints, and the secret canary is in no document."""
    site = by_name(run)["acme-payments-api"]
    assert site.attrs["appSettings"] == {
        "DB_PASSWORD": TEST_FP(DEMO_SECRET_CANARY),
        "FEATURE_FLAGS": TEST_FP("checkout-v2"),
    }
    assert site.public is True
    for r in run.resources:
        assert DEMO_SECRET_CANARY not in canonical_json(r.doc())
        assert "dev-key-123" not in canonical_json(r.doc())


def test_explicit_subscriptions_skip_discovery(arm: ArmEmulator, source: SourceFactory) -> None:
    """Named subscriptions are read without listing subscriptions, and only those are collected."""
    run = run_source(source(subscriptions=[SUB_DEV.upper()]))
    assert run.status == "ok" and [s.name for s in run.slices] == [SUB_DEV]
    assert {r.account for r in run.resources} == {SUB_DEV}
    assert not any(p.startswith("/subscriptions?") for _, p in arm.requests)


def test_token_env_without_a_token_is_a_clear_denied_slice(
    arm: ArmEmulator, source: SourceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """credential token_env with $AZURE_ACCESS_TOKEN unset fails each subscription as denied, naming the variable."""
    monkeypatch.delenv("AZURE_ACCESS_TOKEN")
    run = run_source(source(subscriptions=[SUB_PROD, SUB_DEV]))
    assert run.status == "failed" and run.reason == "denied"
    assert all("AZURE_ACCESS_TOKEN" in (s.detail or "") for s in run.slices)
    assert arm.requests == []
    run_all = run_source(source())
    assert [(s.name, s.reason) for s in run_all.slices] == [("*", "denied")]


def test_a_wrong_token_is_denied(
    arm: ArmEmulator, source: SourceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The emulator checks the bearer token; a wrong one makes the source failed with reason denied."""
    monkeypatch.setenv("AZURE_ACCESS_TOKEN", "not-the-token")
    run = run_source(source(subscriptions=[SUB_PROD]))
    assert run.status == "failed" and run.slices[0].reason == "denied"
    assert run.resources == []


def test_an_untrusted_certificate_is_unreachable(arm: ArmEmulator, source: SourceFactory) -> None:
    """Without the sandbox CA the TLS handshake fails and the subscription is unreachable, not empty."""
    run = run_source(source(subscriptions=[SUB_PROD], ca_bundle=None, max_attempts=1))
    assert run.status == "failed" and run.slices[0].reason == "unreachable"
    assert "certificate" in (run.slices[0].detail or "").lower()


def test_equal_estates_give_equal_runs(arm: ArmEmulator, source: SourceFactory) -> None:
    """Two collections of the same estate give the same resources and slices in the same order."""
    first = run_source(source(), fingerprint=TEST_FP)
    second = run_source(source(), fingerprint=TEST_FP)
    assert [canonical_json(r.doc()) for r in first.resources] == [
        canonical_json(r.doc()) for r in second.resources
    ]
    assert [s.name for s in first.slices] == [s.name for s in second.slices]


def test_default_credential_gets_a_scope_derived_from_the_endpoint(
    arm: ArmEmulator, source: SourceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """credential 'default' uses DefaultAzureCredential, asking for '<endpoint>/.default' (and
    Key Vault's own audience, https://<keyvault_domain>/.default, for the certificate lists)."""
    import azure.identity

    from driftscan.providers.azure.collect import EnvTokenCredential

    scopes: list[tuple[str, ...]] = []

    class FakeDefault(EnvTokenCredential):
        def __init__(self, **kwargs: object) -> None:
            super().__init__(arm.token)
            assert kwargs["connection_verify"] == arm.ca_path

        def get_token(self, *s: str, **kwargs: object):  # type: ignore[no-untyped-def]
            scopes.append(s)
            return super().get_token(*s)

    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", FakeDefault)
    run = run_source(source(credential="default", subscriptions=[SUB_DEV]))
    assert run.status == "ok"
    assert set(scopes) == {(f"{arm.url}/.default",), (f"https://{arm.host}/.default",)}


def test_the_memoised_redaction_is_redact_tree() -> None:
    """The collector's redaction gives exactly redaction.redact_tree's result, keep-list and all."""
    from driftscan.providers.azure.secrets import KEEP_IN_SECRETS as _KEEP_IN_SECRETS
    from driftscan.providers.azure.secrets import redact
    from driftscan.redaction import redact_tree

    doc = {
        "properties": {
            "adminPassword": "p4ss", "customData": {"a": ["x", {"b": "y"}]},
            "connectionStrings": [{"name": "db", "type": "SQLAzure", "connectionString": "s3cr3t"}],
            "kmsKeyId": "arn:kms", "nested": {"apiKey": "k", "apiKeyName": "visible"},
            "appSettings": {"name": "n", "MODE": "prod"}, "count": 3, "flags": [True, None],
        },
        "tags": {"token": TEST_FP("already")},
    }  # fmt: skip
    assert redact(doc, TEST_FP) == redact_tree(doc, TEST_FP, keep=_KEEP_IN_SECRETS)
    assert redact(doc, TEST_FP, keep=frozenset()) == redact_tree(doc, TEST_FP)
    assert redact(doc, TEST_FP) != doc


def test_proxies_from_the_environment_are_honoured(
    arm: ArmEmulator, source: SourceFactory, monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    """HTTPS_PROXY is used (a dead proxy makes the endpoint unreachable), and NO_PROXY exempts
    the endpoint; both are read once per collector, not on every request."""
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{closed_port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    via_proxy = run_source(source(subscriptions=[SUB_DEV], max_attempts=1))
    assert via_proxy.slices[0].reason == "unreachable" and arm.requests == []
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    direct = run_source(source(subscriptions=[SUB_DEV]))
    assert direct.status == "ok"
