"""Shard units of Kubernetes and GCP sources: a Kubernetes source's listed namespaces and its
cluster scope, a GCP project; shards of them read disjoint parts whose union is one scan."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

import driftscan.cli  # noqa: F401 - registers every command
from driftscan.clikit import app
from driftscan.collect.base import CollectContext
from driftscan.model import SourceRun
from driftscan.providers.gcp import GcpSource
from driftscan.providers.kubernetes import KubernetesSource
from driftscan.providers.kubernetes import keys as K
from driftscan.providers.kubernetes.collect import KubernetesCollector
from driftscan.providers.kubernetes.units import narrow
from driftscan.sandbox.gcp import DEMO_TOKEN as GCP_TOKEN
from driftscan.sandbox.gcp import HEALTH, ORGANIZATION, PAYMENTS, AssetEmulator
from driftscan.sandbox.gcp import serve as serve_gcp
from driftscan.sandbox.k8s import KubeEmulator, demo_cluster
from driftscan.stage import parse_shard, plan_shard, unit_shard
from driftscan.stage.shard import units_of
from tests.conftest import TEST_FP

NAMESPACES = ["payments", "checkout", "kube-system", "default"]
SOURCE = "k8s-shard"


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeEmulator]:
    objs, _ = demo_cluster()
    with KubeEmulator(objs, max_page=5, ca_dir=tmp_path_factory.mktemp("kube-ca")) as k:
        yield k
        assert k.writes() == []


@pytest.fixture(scope="module")
def kubeconfig(kube: KubeEmulator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return kube.kubeconfig(tmp_path_factory.mktemp("kc") / "kubeconfig")


def k8s_source(kubeconfig: Path, namespaces: list[str]) -> KubernetesSource:
    return KubernetesSource(name=SOURCE, type="kubernetes", kubeconfig=str(kubeconfig),
                            namespaces=namespaces)  # fmt: skip


def collect(src: KubernetesSource) -> SourceRun:
    run = SourceRun(src.name, "kubernetes")
    KubernetesCollector(src).collect(CollectContext(run, fingerprint=TEST_FP))
    run.finish()
    return run


# --- Kubernetes units --------------------------------------------------------------------------


def test_listed_namespaces_are_units_and_all_is_one(kubeconfig: Path) -> None:
    """`namespaces: [a, b, ...]` gives one unit per namespace plus `_cluster`, each covering its
    keys; `[all]` is one whole unit; the units do not depend on the order of the list."""
    src = k8s_source(kubeconfig, NAMESPACES)
    units = units_of(src)
    assert sorted(u.id for u in units) == sorted([K.CLUSTER, *NAMESPACES])
    pay = next(u for u in units if u.id == "payments")
    assert (pay.account, pay.keys) == (SOURCE, (f"k8s://{SOURCE}/payments/*",))
    cl = next(u for u in units if u.id == K.CLUSTER)
    assert cl.keys == (f"k8s://{SOURCE}/_cluster/*",)
    rev = k8s_source(kubeconfig, list(reversed(NAMESPACES)))
    assert sorted(units_of(rev), key=lambda u: u.id) == sorted(units, key=lambda u: u.id)
    assert [u.id for u in units_of(k8s_source(kubeconfig, ["all"]))] == ["*"]


def test_two_shards_read_disjoint_namespaces_whose_union_is_one_scan(kubeconfig: Path) -> None:
    """Shards 1/2 and 2/2 of a source of four namespaces each read only their own namespaces
    (and only one of them the cluster scope); together they hold exactly the resources and
    slices of one unsharded scan, documents included."""
    src = k8s_source(kubeconfig, NAMESPACES)
    plans = [plan_shard([src], parse_shard(f"{k}/2")) for k in (1, 2)]
    owned = [{u.split(":", 1)[1] for u in p.units} for p in plans]
    assert owned[0] and owned[1] and not owned[0] & owned[1]
    assert owned[0] | owned[1] == {K.CLUSTER, *NAMESPACES}
    whole = collect(src)
    assert not [s for s in whole.slices if s.status != "ok"]
    runs = []
    for plan, mine in zip(plans, owned, strict=True):
        (narrowed,) = plan.sources
        run = collect(narrowed)
        read = {K.split(r.key)[1] or K.CLUSTER for r in run.resources}  # type: ignore[index]
        assert read and read <= mine, (read, mine)  # nothing of another shard's namespaces
        runs.append(run)
    got = sorted(
        (r.key, json.dumps(r.attrs, sort_keys=True)) for run in runs for r in run.resources
    )
    want = sorted((r.key, json.dumps(r.attrs, sort_keys=True)) for r in whole.resources)
    assert got == want and len(want) > 20
    assert sorted(s.name for run in runs for s in run.slices) == sorted(
        s.name for s in whole.slices
    )


def test_the_cluster_unit_alone_reads_only_cluster_scoped_objects(kubeconfig: Path) -> None:
    """A shard that owns only `_cluster` lists no namespace; one that owns only a namespace
    lists no cluster-scoped kind."""
    src = k8s_source(kubeconfig, NAMESPACES)
    cluster = collect(narrow(src, [K.CLUSTER]))
    assert cluster.resources and {K.split(r.key)[1] for r in cluster.resources} == {None}  # type: ignore[index]
    assert all(s.name.startswith(f"{K.CLUSTER}/") for s in cluster.slices)
    pay = collect(narrow(src, ["payments"]))
    assert {K.split(r.key)[1] for r in pay.resources} == {"payments"}  # type: ignore[index]
    assert [s.name for s in pay.slices] == ["payments"]


def _k8s_config(folder: Path, kubeconfig: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    cfg = folder / "driftscan.yaml"
    # One fingerprint key for every store: Secrets' and ConfigMaps' fingerprints compare.
    # Relative paths: configs in two folders are the same config (hash) for the ingest.
    doc = {"store": {"path": "s.duckdb", "key_file": "../fp.key"},
           "sources": [{"name": SOURCE, "type": "kubernetes", "kubeconfig": str(kubeconfig),
                        "namespaces": NAMESPACES}]}  # fmt: skip
    cfg.write_text(yaml.safe_dump(doc))
    return cfg


def _rows(cfg: Path, sql: str) -> list[dict[str, Any]]:
    res = cli("query", sql, "-c", str(cfg), "--format", "json")
    assert res.exit_code == 0, res.output
    return list(json.loads(res.stdout))


def _stored(cfg: Path) -> dict[str, Any]:
    return {
        "resources": _rows(cfg, "select key, doc_hash from resources order by key"),
        "slices": _rows(cfg, "select name, status from slices order by name"),
    }


def test_sharded_scan_and_ingest_store_what_one_scan_stores(
    kubeconfig: Path, tmp_path: Path
) -> None:
    """`scan --shard 1/2` and `2/2` of the cluster, then `ingest`, store the resources and
    slices one scan stores; without shard 2 its namespaces are not assessed (exit 3)."""
    one = _k8s_config(tmp_path / "one", kubeconfig)
    assert cli("scan", "-c", str(one), "-q").exit_code == 0
    two = _k8s_config(tmp_path / "two", kubeconfig)
    stage = tmp_path / "stage"
    for k in (1, 2):
        res = cli("scan", "-c", str(two), "-q", "--shard", f"{k}/2", "--stage", str(stage),
                  "--run-id", "r1")  # fmt: skip
        assert res.exit_code == 0, res.output
    res = cli("ingest", str(stage), "-c", str(two), "--format", "json")
    assert res.exit_code == 0, res.output
    a = _stored(one)
    assert a == _stored(two) and len(a["resources"]) > 20

    three = _k8s_config(tmp_path / "three", kubeconfig)
    lost_stage = tmp_path / "lost"
    shutil.copytree(stage, lost_stage)
    shutil.rmtree(lost_stage / "r1" / "shard-2-of-2")
    res = cli("ingest", str(lost_stage), "-c", str(three), "--format", "json")
    assert res.exit_code == 3, res.output
    lost = {u for u in [K.CLUSTER, *NAMESPACES] if unit_shard(SOURCE, u, 2) == 2}
    failed = _rows(three, "select name, reason from slices where status = 'failed' order by name")
    assert {r["name"] for r in failed} == lost and {r["reason"] for r in failed} == {"unstaged"}


# --- GCP units ---------------------------------------------------------------------------------


def _gcp(scope: str, **kw: Any) -> GcpSource:
    return GcpSource(name=kw.pop("name", "gcp"), type="gcp", scope=scope, credential="anonymous",
                     endpoint="https://127.0.0.1:8444", **kw)  # fmt: skip


def test_a_project_is_one_unit_and_an_organisation_is_read_whole() -> None:
    """`projects/ID` is the unit `projects/ID` covering that project (and the source's asset
    types); an organisation or folder is one whole unit, planned without an API call."""
    (u,) = units_of(_gcp("projects/acme-payments", asset_types=["storage.googleapis.com/Bucket"]))
    assert (u.id, u.account, u.types) == ("projects/acme-payments", "acme-payments",
                                          ("storage.googleapis.com/Bucket",))  # fmt: skip
    assert units_of(_gcp("projects/acme-health"))[0].types == ()
    assert [u.id for u in units_of(_gcp(f"organizations/{ORGANIZATION}"))] == ["*"]
    assert [u.id for u in units_of(_gcp("folders/456789"))] == ["*"]


@pytest.fixture(scope="module")
def gcp_org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AssetEmulator]:
    with serve_gcp(ca_dir=tmp_path_factory.mktemp("gcp-ca")) as emu:
        yield emu
        assert emu.writes() == []


def test_project_sources_shard_like_one_scan(
    gcp_org: AssetEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two project sources spread over two shards and ingested store what one scan of both
    stores, and each shard's bundle names only its own project."""
    monkeypatch.setenv("GCP_ACCESS_TOKEN", GCP_TOKEN)
    names = {PAYMENTS: "gcp-payments", HEALTH: "gcp-hipaa"}  # names that hash apart
    assert {unit_shard(n, f"projects/{p}", 2) for p, n in names.items()} == {1, 2}

    def config(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        srcs = [{"name": n, "type": "gcp", "scope": f"projects/{p}", "credential": "token_env",
                 "endpoint": gcp_org.url, "ca_bundle": gcp_org.ca_path} for p, n in names.items()]  # fmt: skip
        cfg = folder / "driftscan.yaml"
        store = {"path": "s.duckdb", "key_file": "../fp.key"}  # one fingerprint key
        cfg.write_text(yaml.safe_dump({"store": store, "sources": srcs}))
        return cfg

    one, two = config(tmp_path / "one"), config(tmp_path / "two")
    assert cli("scan", "-c", str(one), "-q").exit_code == 0
    stage = tmp_path / "stage"
    for k in (1, 2):
        res = cli("scan", "-c", str(two), "-q", "--shard", f"{k}/2", "--stage", str(stage),
                  "--run-id", "g1")  # fmt: skip
        assert res.exit_code == 0, res.output
        man = json.loads((stage / "g1" / f"shard-{k}-of-2" / "manifest.json").read_text())
        assert len(man["units"]) == 1
    res = cli("ingest", str(stage), "-c", str(two), "--format", "json")
    assert res.exit_code == 0, res.output
    a = _rows(one, "select key, account, doc_hash from resources order by key")
    assert a == _rows(two, "select key, account, doc_hash from resources order by key")
    assert {r["account"] for r in a} == {PAYMENTS, HEALTH}
