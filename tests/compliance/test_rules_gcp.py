"""The GCP rules on an organisation read by the real collector from the CAI emulator: each passes on
its compliant example and fails on its broken one."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from driftscan.collect.limits import Limiter
from driftscan.model import Finding
from driftscan.providers.gcp import GcpSource
from driftscan.sandbox.gcp import (
    BAA_REGIONS,
    DEMO_TOKEN,
    DENIED,
    PAYMENTS,
    PHI_BUCKET,
    PHI_REGION,
    AssetEmulator,
    demo_estate,
)
from driftscan.store import Store
from tests.collect.gcp.conftest import ORG, collect, gcp_server  # noqa: F401
from tests.compliance.conftest import by_resource, check, config

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
ESTATE = demo_estate()
GCP_RULES = sorted({i.rule for i in ESTATE.incidents})
BUCKETS = "//storage.googleapis.com/projects/_/buckets/"


@pytest.fixture(scope="module")
def findings(
    gcp_server: AssetEmulator,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, dict[str, Finding]]]:
    """The demo organisation collected once (the restricted project denied) and checked with
    the BAA regions for `phi` and the payments project as the PCI scope."""
    mp = pytest.MonkeyPatch()
    mp.setenv("GCP_ACCESS_TOKEN", DEMO_TOKEN)
    gcp_server.clear()
    gcp_server.assets, gcp_server.policies = copy.deepcopy(gcp_server.seed)  # type: ignore[attr-defined]
    gcp_server.deny_project(DENIED)
    src = GcpSource(name="gcp-test", type="gcp", scope=ORG, credential="token_env",
                    endpoint=gcp_server.url, ca_bundle=gcp_server.ca_path)  # fmt: skip
    run = collect(src, Limiter())
    path: Path = tmp_path_factory.mktemp("gcp-rules") / "store.duckdb"
    with Store(path) as store:
        store.write_scan([run], started_at=T0, finished_at=T0, tool_version="test")
        cfg = config(
            scopes={"pci": {"projects": [PAYMENTS]}},
            params={"classification_tag": "data_class", "residency": {"phi": BAA_REGIONS}},
        )
        res = check(store, cfg)
    mp.undo()
    assert gcp_server.writes() == []
    yield {r: by_resource(res, r) for r in {f.rule for f in res.findings}}


@pytest.mark.parametrize("rule", GCP_RULES)
def test_rule_passes_and_fails(findings: dict[str, dict[str, Finding]], rule: str) -> None:
    """The rule alarms on every seeded failing example and is ok on every passing one."""
    f = findings[rule]
    bad = [i for i in ESTATE.incidents if i.rule == rule]
    good = [i for i in ESTATE.passing if i.rule == rule]
    assert bad and good
    for i in bad:
        assert f[i.key].status == "alarm", (i, f.get(i.key))
    for i in good:
        assert f[i.key].status == "ok", (i, f.get(i.key))


def test_every_gcp_rule_has_examples() -> None:
    """Each gcp_* rule of the pack is seeded with a failing and a passing example."""
    from tests.compliance.conftest import builtin_pack

    ids = {r for r in builtin_pack().rules if r.startswith("gcp_")}
    assert len(ids) == 16 and ids <= set(GCP_RULES)


def test_phi_bucket_alarm_names_region_and_allowed_list(
    findings: dict[str, dict[str, Finding]],
) -> None:
    """The PHI bucket in asia-south1 alarms naming its region and the BAA regions; a US
    multi-region bucket alarms by its member regions; a bucket in a BAA region passes."""
    f = findings["data_residency_region"]
    phi = f[BUCKETS + PHI_BUCKET]
    assert phi.status == "alarm"
    assert phi.reason == f"phi data in {PHI_REGION}; allowed: {', '.join(BAA_REGIONS)}"
    multi = f[BUCKETS + "acme-phi-archive-us"]
    region = multi.evidence["region"]
    assert multi.status == "alarm" and region.startswith("us-") and region not in BAA_REGIONS
    assert multi.reason == f"phi data in {region}; allowed: {', '.join(BAA_REGIONS)}"
    assert f[BUCKETS + "acme-phi-records"].status == "ok"
    # The restricted project's PHI bucket was never read: no verdict, never "ok".
    assert BUCKETS + "acme-restricted-ledger" not in f


def test_reasons_name_what_failed(findings: dict[str, dict[str, Finding]]) -> None:
    """Reasons say what is wrong in the resource's own terms."""
    fw = next(i.key for i in ESTATE.incidents if i.rule == "gcp_firewall_rdp_open")
    assert (
        findings["gcp_firewall_rdp_open"][fw].reason
        == "TCP 3389 open to the Internet (tcp 3000-4000)"
    )
    key = next(i.key for i in ESTATE.incidents if i.rule == "gcp_sa_key_age")
    assert "days old (at most 90)" in findings["gcp_sa_key_age"][key].reason
    sql = next(i.key for i in ESTATE.incidents if i.rule == "gcp_sql_no_public_ip")
    assert findings["gcp_sql_no_public_ip"][sql].reason == (
        "public IP, authorised networks open to the whole Internet"
    )


def test_pci_rules_cover_gcp_types(findings: dict[str, dict[str, Finding]]) -> None:
    """In the payments project (the PCI scope), the shared PCI rules judge GCP resources: an
    SSH firewall open to the Internet, a public SQL instance and external-IP instance, TLS 1.0
    SSL policies, unrotated keys; encryption at rest holds for GCP storage."""
    ssh = next(i.key for i in ESTATE.incidents if i.rule == "gcp_firewall_ssh_open")
    iap = next(i.key for i in ESTATE.passing if i.rule == "gcp_firewall_ssh_open")
    assert findings["pci_no_open_ingress"][ssh].status == "alarm"
    assert findings["pci_no_open_ingress"][iap].status == "ok"
    pub = findings["pci_storage_not_public"]
    sql = next(i.key for i in ESTATE.incidents if i.rule == "gcp_sql_no_public_ip")
    assert pub[sql].status == "alarm"
    enc = findings["pci_storage_encrypted"]
    assert enc[BUCKETS + "acme-card-exports"].status == "ok"
    assert all(
        k.endswith(("card-exports", "card-legacy")) or "/" + PAYMENTS + "/" in k for k in enc
    )
    # Outside the PCI scope nothing is judged by the PCI rules.
    assert BUCKETS + PHI_BUCKET not in enc


def test_a_project_denied_later_is_not_assessed_not_resolved(
    gcp_server: AssetEmulator,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A project read in one scan and denied in the next: its alarms become not_assessed,
    never resolved, and its resources are not reported gone."""
    monkeypatch.setenv("GCP_ACCESS_TOKEN", DEMO_TOKEN)
    gcp_server.clear()
    gcp_server.assets, gcp_server.policies = copy.deepcopy(gcp_server.seed)  # type: ignore[attr-defined]
    src = GcpSource(name="gcp-test", type="gcp", scope=ORG, credential="token_env",
                    endpoint=gcp_server.url, ca_bundle=gcp_server.ca_path)  # fmt: skip
    sql = next(i.key for i in ESTATE.incidents if i.rule == "gcp_sql_ssl_required")
    cfg = config(params={"residency": {"phi": BAA_REGIONS}})
    with Store(tmp_path / "store.duckdb") as store:
        store.write_scan([collect(src)], started_at=T0, finished_at=T0, tool_version="test")
        first = by_resource(check(store, cfg), "gcp_sql_ssl_required")
        assert first[sql].status == "alarm"
        gcp_server.deny_project(PAYMENTS)
        later = T0.replace(day=2)
        store.write_scan([collect(src)], started_at=later, finished_at=later, tool_version="test")
        second = by_resource(check(store, cfg), "gcp_sql_ssl_required")
    gcp_server.clear()
    assert second[sql].status == "not_assessed" and second[sql].lifecycle != "resolved"
    assert "denied" in second[sql].reason
