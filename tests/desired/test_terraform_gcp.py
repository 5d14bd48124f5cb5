"""google Terraform mappings key a resource as the GCP collector does: a v4 state of an invented
project, held against the same project served by the Cloud Asset Inventory emulator, declares
the collector's keys and types, matches the live attributes, and diffs as changed, missing
and unmanaged exactly where the two differ."""

from __future__ import annotations

import importlib.util
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import driftscan.cli  # noqa: F401 - registers every command
from driftscan.clikit import app
from driftscan.collect.base import CollectContext
from driftscan.collect.limits import Limiter
from driftscan.desired.declaration import Declaration, comparable
from driftscan.desired.terraform import TfLoad, declarations, parse_state
from driftscan.drift.declared import attribute_changes
from driftscan.model import Resource, SourceRun
from driftscan.providers.gcp import GcpSource
from driftscan.providers.gcp.collect import GcpCollector
from driftscan.providers.gcp.terraform import compute_id
from driftscan.sandbox.gcp import DEMO_TOKEN, ORGANIZATION, AssetEmulator, Project
from driftscan.sandbox.gcp import estate as E
from tests.conftest import TEST_FP

STATE = Path(__file__).parent.parent / "data" / "tfcorpus_gcp" / "tfco-prod.tfstate"
# The corpus's own v4 → v3 writer (flatmaps as Terraform 0.11 and terraformer write them).
CORPUS_GENERATOR = Path(__file__).parent.parent / "data" / "tfcorpus" / "generate.py"
P = Project("tfco-prod", "310000000001", "456789")
LABELS = {"env": "prod", "team": "platform"}
EFF = {**LABELS, "goog-terraform-provisioned": "true"}
SA_ID = "104455667788990011223"
SA_EMAIL = f"tfco-ci@{P.id}.iam.gserviceaccount.com"
KEY_ID = "3f6e1d2c4b5a69788796a5b4c3d2e1f0aabbccdd"
BUCKET = "//storage.googleapis.com/projects/_/buckets/"
CHANGED = BUCKET + "tfco-prod-exports"
MISSING = BUCKET + "tfco-prod-archive"
UNMANAGED = f"//compute.googleapis.com/projects/{P.id}/global/firewalls/allow-ssh-debug"
# Types whose mapping declares the key and type only: nothing both sides know to compare.
KEY_ONLY = {
    "compute.googleapis.com/Network", "compute.googleapis.com/Subnetwork",
    "compute.googleapis.com/Address", "cloudkms.googleapis.com/KeyRing",
}  # fmt: skip
# Secrets the state holds (a SQL user's password, a service account's private key).
SECRETS = ("tfco-canary-sql-password-7c1e", "dGZjby1jYW5hcnktcHJpdmF0ZS1rZXktOWEzYg==")


def _assets() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The project as CAI serves it: what the state declares, one bucket changed by hand, one
    bucket never created, one firewall rule added outside Terraform."""
    public = E.bucket(P, "tfco-prod-public-assets", "us-central1", labels=EFF)
    sa = E.asset(P, "iam.googleapis.com/ServiceAccount",
                 f"//iam.googleapis.com/projects/{P.id}/serviceAccounts/{SA_ID}", "global",
                 {"name": f"projects/{P.id}/serviceAccounts/{SA_EMAIL}", "email": SA_EMAIL,
                  "uniqueId": SA_ID, "displayName": "CI deployer", "projectId": P.id},
                 display="CI deployer")  # fmt: skip
    ring = E.asset(P, "cloudkms.googleapis.com/KeyRing",
                   f"//cloudkms.googleapis.com/projects/{P.id}/locations/us-east1/keyRings/kr",
                   "us-east1", {"name": f"projects/{P.id}/locations/us-east1/keyRings/kr"})  # fmt: skip
    vpc = E.asset(P, "compute.googleapis.com/Network",
                  f"//compute.googleapis.com/projects/{P.id}/global/networks/tfco-vpc", "global",
                  {"name": "tfco-vpc", "autoCreateSubnetworks": False,
                   "routingConfig": {"routingMode": "REGIONAL"}})  # fmt: skip
    key = E.sa_key(P, "tfco-ci", KEY_ID, user_managed=True, created="2026-11-20T08:00:00Z")
    compute = f"//compute.googleapis.com/projects/{P.id}"
    others = [
        E.asset(P, "compute.googleapis.com/Subnetwork", f"{compute}/regions/us-east1/subnetworks/tfco-app",
                "us-east1", {"name": "tfco-app", "ipCidrRange": "10.10.0.0/20"}),
        E.asset(P, "compute.googleapis.com/Address", f"{compute}/regions/us-east1/addresses/tfco-nat",
                "us-east1", {"name": "tfco-nat", "address": "203.0.113.20", "addressType": "EXTERNAL"}),
        E.asset(P, "compute.googleapis.com/RegionDisk", f"{compute}/regions/us-east1/disks/tfco-shared",
                "us-east1", {"name": "tfco-shared", "sizeGb": "200"}, labels=EFF),
        E.dataset(P, "tfco_shared", "us", public=True, labels=EFF),
        E.asset(P, "pubsub.googleapis.com/Topic", f"//pubsub.googleapis.com/projects/{P.id}/topics/tfco-events",
                "global", {"name": f"projects/{P.id}/topics/tfco-events"}, labels=EFF),
        E.asset(P, "pubsub.googleapis.com/Subscription",
                f"//pubsub.googleapis.com/projects/{P.id}/subscriptions/tfco-events-worker", "global",
                {"name": f"projects/{P.id}/subscriptions/tfco-events-worker"}, labels=EFF),
        E.asset(P, "run.googleapis.com/Service",
                f"//run.googleapis.com/projects/{P.id}/locations/us-east1/services/tfco-api", "us-east1",
                {"name": f"projects/{P.id}/locations/us-east1/services/tfco-api",
                 "ingress": "INGRESS_TRAFFIC_INTERNAL_ONLY"}, labels=EFF),
    ]  # fmt: skip
    assets = [
        E.project_asset(P, {"env": "prod"}),
        E.bucket(P, "tfco-prod-logs", "us-east1", retention_s=86400 * 7, labels=EFF),
        public,
        E.bucket(P, "tfco-prod-exports", "us-east1", uniform=False, retention_s=86400, labels=EFF),
        E.sql(P, "tfco-prod-db", "us-east1", ssl=True, public_ip=False, open_world=False,
              backups=True, labels=LABELS),
        E.instance(P, "tfco-web-1", "us-east1-b", external=False, serial=False, oslogin=True,
                   labels=EFF),
        E.disk(P, "tfco-web-1", "us-east1-b", cmek=True, labels=EFF),
        vpc,
        E.firewall(P, "allow-https-lb", ["443"], ["130.211.0.0/22"]),
        E.firewall(P, "allow-ssh-debug", ["22"], ["0.0.0.0/0"]),
        E.ssl_policy(P, "tfco-tls12", "TLS_1_2"),
        E.dataset(P, "tfco_analytics", "us", public=False, labels=EFF),
        ring,
        E.crypto_key(P, "tfco-data", "us-east1", rotation_s=86400 * 90),
        E.cluster(P, "tfco-gke", "us-east1", private=True, abac=False, labels=EFF),
        sa,
        key,
        *others,
    ]  # fmt: skip
    return assets, [E.public_policy(P, public)]


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AssetEmulator]:
    assets, policies = _assets()
    emu = AssetEmulator(assets, policies, projects=[P], organization=ORGANIZATION,
                        ca_dir=tmp_path_factory.mktemp("gcp-ca"))  # fmt: skip
    with emu:
        yield emu
        assert emu.writes() == []


@pytest.fixture(scope="module")
def live(emulator: AssetEmulator) -> dict[str, Resource]:
    """The project scanned once for the module, by key."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GCP_ACCESS_TOKEN", DEMO_TOKEN)
        src = GcpSource(name="gcp-tf", type="gcp", scope=f"projects/{P.id}",
                        credential="token_env", endpoint=emulator.url,
                        ca_bundle=emulator.ca_path)  # fmt: skip
        run = SourceRun(src.name, "gcp")
        GcpCollector(src).collect(CollectContext(run, fingerprint=TEST_FP, limiter=Limiter()))
        run.finish()
    assert [s.status for s in run.slices] == ["ok"], run.slices
    return {r.key: r for r in run.resources}


@pytest.fixture(scope="module")
def declared() -> tuple[dict[str, Declaration], TfLoad]:
    out = TfLoad(fingerprint=TEST_FP)
    declarations(parse_state(STATE.read_text(), STATE.name), STATE.name, out)
    return {str(d.key): d for d in out.declarations}, out


def test_every_declared_key_and_type_is_the_collectors(
    live: dict[str, Resource], declared: tuple[dict[str, Declaration], TfLoad]
) -> None:
    """Each resource the state declares (but the one never created) is a key the collector
    stored for it, with the same type, project and region."""
    decls, _ = declared
    assert MISSING in decls and MISSING not in live
    wanted = {k: d for k, d in decls.items() if k != MISSING}
    assert set(wanted) == set(live) - {UNMANAGED}
    for k, d in wanted.items():
        r = live[k]
        assert (d.type, d.provider, d.account, d.region) == (
            r.type,
            r.provider,
            r.account,
            r.region,
        ), k
        assert not d.presence_only, k


def test_declared_attributes_match_the_live_ones(
    live: dict[str, Resource], declared: tuple[dict[str, Declaration], TfLoad]
) -> None:
    """Every mapped resource compares attribute by attribute: no change but the bucket whose
    access control was switched by hand, and every mapping declares something to compare."""
    decls, _ = declared
    for k, d in decls.items():
        if k == MISSING:
            continue
        r = live[k]
        doc = comparable(r.attrs, r.tags, r.encrypted, r.public)
        changes, dropped = attribute_changes(d, doc, r.provider, frozenset())
        assert not dropped
        if k == CHANGED:
            assert [(c["path"], c["desired"], c["actual"]) for c in changes] == [
                ("uniform_access", True, False)
            ]
        else:
            assert changes == [], (k, changes)
        if d.type not in KEY_ONLY:
            assert d.declared, k  # more than presence: facets or document fields


def test_iam_members_fold_into_the_bucket(
    live: dict[str, Resource], declared: tuple[dict[str, Declaration], TfLoad]
) -> None:
    """An allUsers member makes its bucket declared public (the live bucket is, by IAM); a
    member of a service account declares nothing about publicness."""
    decls, load = declared
    public = decls[BUCKET + "tfco-prod-public-assets"]
    assert public.declared["public"] is True and live[public.key].public is True
    assert "public" not in decls[BUCKET + "tfco-prod-logs"].declared
    assert load.mapped["google_storage_bucket_iam_member"] == 2
    assert not any("iam_member" in str(d.source) for d in decls.values())


def test_labels_are_the_effective_ones(declared: tuple[dict[str, Declaration], TfLoad]) -> None:
    """Labels declare as tags from `effective_labels` (the attribution label included), and a
    Cloud SQL instance's from its settings' user labels."""
    decls, _ = declared
    assert decls[BUCKET + "tfco-prod-logs"].declared["tags"] == EFF
    sql = decls[f"//cloudsql.googleapis.com/projects/{P.id}/instances/tfco-prod-db"]
    assert sql.type == "sqladmin.googleapis.com/Instance" and sql.declared["tags"] == LABELS


def test_what_cai_never_lists_is_skipped(declared: tuple[dict[str, Declaration], TfLoad]) -> None:
    """SQL users and enabled services are counted as skipped, never keyed (never missing), and
    no secret of the state reaches a declaration."""
    decls, load = declared
    assert load.skipped == {"google_sql_user": 1, "google_project_service": 1}
    assert load.presence_only == {}
    text = json.dumps([d.declared for d in decls.values()])
    assert not any(s in text for s in SECRETS)


def test_a_v3_state_of_the_project_declares_the_same(
    declared: tuple[dict[str, Declaration], TfLoad],
) -> None:
    """The same state written as format 3 (v3's flatmap of strings, `#` and `%` counts) gives
    the same declarations: keys, types and declared values."""
    spec = importlib.util.spec_from_file_location("tfgen", CORPUS_GENERATOR)
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    v3 = gen.to_v3(json.loads(STATE.read_text()), "0.11.14", frozenset({"source_ranges"}))
    out = TfLoad(fingerprint=TEST_FP)
    declarations(parse_state(json.dumps(v3), "v3.tfstate"), "v3.tfstate", out)
    got = {str(d.key): (d.type, d.declared) for d in out.declarations}
    decls, load = declared
    assert got == {k: (d.type, d.declared) for k, d in decls.items()}
    assert out.skipped == load.skipped and out.mapped == load.mapped


def _one_state(*instances: tuple[str, dict[str, Any]]) -> dict[str, Declaration]:
    provider = 'provider["registry.terraform.io/hashicorp/google"]'
    doc = {"version": 4, "resources": [
        {"mode": "managed", "type": t, "name": f"r{i}", "provider": provider,
         "instances": [{"attributes": a}]} for i, (t, a) in enumerate(instances)]}  # fmt: skip
    out = TfLoad(fingerprint=TEST_FP)
    declarations(parse_state(json.dumps(doc), "t.tfstate"), "t.tfstate", out)
    return {str(d.key): d for d in out.declarations}


@pytest.mark.parametrize(
    ("members", "public"),
    [(["allUsers"], True), (["group:sre@tfco.example"], False), (["allAuthenticatedUsers"], True)],
)
def test_an_authoritative_bucket_policy_settles_public(members: list[str], public: bool) -> None:
    """A bucket's `google_storage_bucket_iam_policy` is the whole policy: it declares the bucket
    public exactly when a binding grants allUsers or allAuthenticatedUsers."""
    policy = json.dumps({"bindings": [{"role": "roles/storage.objectViewer", "members": members}]})
    decls = _one_state(
        ("google_storage_bucket", {"name": "b1", "project": "p1", "location": "US"}),
        ("google_storage_bucket_iam_policy", {"bucket": "b/b1", "policy_data": policy}),
    )
    assert decls[BUCKET + "b1"].declared["public"] is public


def test_public_grants_on_keys_and_datasets_fold_in() -> None:
    """An IAM member granting allUsers on a KMS key or a dataset makes it declared public."""
    key = "projects/p1/locations/us/keyRings/r/cryptoKeys/k"
    decls = _one_state(
        ("google_kms_crypto_key_iam_member", {"crypto_key_id": key, "member": "allUsers"}),
        ("google_bigquery_dataset_iam_binding",
         {"dataset_id": "d1", "project": "p1", "members": ["allAuthenticatedUsers"]}),
    )  # fmt: skip
    assert decls[f"//cloudkms.googleapis.com/{key}"].declared == {"public": True}
    assert decls["//bigquery.googleapis.com/projects/p1/datasets/d1"].declared == {"public": True}


def test_compute_paths_outside_the_table_are_never_keyed() -> None:
    """A Compute id of a collection no CAI kind is known for gives no key (no false missing);
    a self link gives the same key as the id."""
    assert compute_id({"id": "projects/p1/global/widgets/w"}) is None
    by_link = compute_id({"self_link": "https://www.googleapis.com/compute/v1/projects/p1/regions/us-east1/subnetworks/s"})  # fmt: skip
    by_id = compute_id({"id": "projects/p1/regions/us-east1/subnetworks/s"})
    assert by_link == by_id
    assert by_id is not None and by_id[:2] == (
        "//compute.googleapis.com/projects/p1/regions/us-east1/subnetworks/s",
        "compute.googleapis.com/Subnetwork",
    )


# --- through the CLI ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def config(emulator: AssetEmulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A project scanned once through the CLI, with the state as its declared side."""
    folder = tmp_path_factory.mktemp("gcp-tf")
    shutil.copy(STATE, folder / STATE.name)
    doc = {
        "store": str(folder / "s.duckdb"),
        "sources": [{"name": "gcp-tf", "type": "gcp", "scope": f"projects/{P.id}",
                     "credential": "token_env", "endpoint": emulator.url,
                     "ca_bundle": emulator.ca_path}],
        "desired": [{"terraform": STATE.name}],
    }  # fmt: skip
    cfg = folder / "driftscan.yaml"
    cfg.write_text(yaml.safe_dump(doc))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GCP_ACCESS_TOKEN", DEMO_TOKEN)
        res = CliRunner().invoke(app, ["scan", "-c", str(cfg)])
        assert res.exit_code == 0, res.output
        yield cfg


def test_diff_shows_the_changed_missing_and_unmanaged(config: Path) -> None:
    """`driftscan diff` of the project against its state: the hand-switched bucket changed, the
    bucket never created missing, the debug firewall rule unmanaged, and nothing else."""
    res = CliRunner().invoke(app, ["diff", "-c", str(config), "--format", "json"])
    assert res.exit_code == 1, res.output
    doc = json.loads(res.stdout)
    kinds = sorted((c["resource"], c["kind"]) for c in doc["changes"])
    assert kinds == sorted([(CHANGED, "changed"), (MISSING, "missing"), (UNMANAGED, "unmanaged")])
    changed = next(c for c in doc["changes"] if c["kind"] == "changed")
    assert [x["path"] for x in changed["changes"]] == ["uniform_access"]
    data = (config.parent / "s.duckdb").read_bytes()
    assert not any(s.encode() in data or s in res.output for s in SECRETS)


def test_desired_stats_counts_the_google_types_as_mapped(config: Path) -> None:
    """`driftscan desired stats` counts every google type of the state as mapped but the two
    skipped ones."""
    res = CliRunner().invoke(app, ["desired", "stats", "-c", str(config), "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    state = json.loads(STATE.read_text())
    total = sum(len(r["instances"]) for r in state["resources"])
    google = doc["providers"]["google"]  # the provider as the state names it
    assert (google["mapped"], google["skipped"], google["presence_only"]) == (total - 2, 2, 0)
