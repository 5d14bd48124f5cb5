"""Unmanaged cluster objects as Argo CD tracks them (issue 17 item 4): only in the namespaces the
manifests declare, and never an object that another one owns or the control plane makes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from driftscan.cli import app
from driftscan.providers.kubernetes.tracking import untracked
from driftscan.sandbox.k8s import KubeEmulator, demo_cluster, write_manifests
from driftscan.sandbox.k8s import objects as o

SOURCE = "k8s"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeEmulator]:
    objs, _ = demo_cluster()
    # Someone's kubectl-applied ConfigMap in a declared namespace: top level, in no manifest.
    objs.append(o.configmap("payments", "hotfix-flags", {"FEATURE_X": "on"}))
    with KubeEmulator(objs, ca_dir=tmp_path_factory.mktemp("kube-ca")) as kube:
        yield kube


def _drift(cluster: KubeEmulator, tmp: Path) -> list[dict[str, object]]:
    write_manifests(tmp / "manifests")
    doc = {"store": str(tmp / "s.duckdb"),
           "sources": [{"name": SOURCE, "type": "kubernetes", "kubeconfig": str(cluster.kubeconfig(tmp / "kc"))}],
           "desired": [{"kubernetes": "manifests/"}]}  # fmt: skip
    (tmp / "driftscan.yaml").write_text(yaml.safe_dump(doc))
    runner = CliRunner()
    cfg = str(tmp / "driftscan.yaml")
    assert runner.invoke(app, ["scan", "-c", cfg]).exit_code == 0
    res = runner.invoke(app, ["diff", "-c", cfg, "--format", "json", "--kind", "unmanaged"])
    assert res.exit_code == 1, res.output
    drifts: list[dict[str, object]] = json.loads(res.stdout)["changes"]
    return drifts


def test_unmanaged_only_top_level_objects_of_declared_namespaces(
    cluster: KubeEmulator, tmp_path: Path
) -> None:
    keys = {str(d["resource"]) for d in _drift(cluster, tmp_path)}
    # The manifests declare payments and checkout: only there is anything unmanaged.
    assert keys and {k.split("/")[3] for k in keys} <= {"payments", "checkout"}
    assert f"k8s://{SOURCE}/payments/ConfigMap/hotfix-flags" in keys
    kinds = {k.split("/")[4] for k in keys}
    # Owned by a declared Deployment (its ReplicaSets and their Pods), or by the control plane.
    assert not kinds & {"Pod", "ReplicaSet", "EndpointSlice", "Namespace", "Node"}
    assert f"k8s://{SOURCE}/payments/ServiceAccount/default" not in keys


def test_untracked_rules() -> None:
    declared = ["k8s://c/payments/apps/Deployment/api"]
    live = [
        (
            "k8s://c/payments/Pod/api-1",
            "Pod",
            {"metadata": {"ownerReferences": [{"kind": "ReplicaSet"}]}},
        ),
        ("k8s://c/payments/Pod/bare", "Pod", {"metadata": {}}),
        ("k8s://c/payments/ServiceAccount/default", "ServiceAccount", {"metadata": {}}),
        ("k8s://c/payments/Secret/tok", "Secret", {"type": "kubernetes.io/service-account-token"}),
        ("k8s://c/payments/Secret/db", "Secret", {"type": "Opaque"}),
        ("k8s://c/kube-system/Pod/dns", "Pod", {"metadata": {}}),
        ("k8s://other/payments/Pod/bare", "Pod", {"metadata": {}}),
        ("k8s://c/_cluster/Namespace/payments", "Namespace", {"metadata": {}}),
        ("arn:aws:s3:::not-ours", "AWS::S3::Bucket", {}),
    ]
    assert untracked(declared, live) == {
        "k8s://c/payments/Pod/api-1", "k8s://c/payments/ServiceAccount/default",
        "k8s://c/payments/Secret/tok", "k8s://c/kube-system/Pod/dns",
        "k8s://other/payments/Pod/bare", "k8s://c/_cluster/Namespace/payments",
    }  # fmt: skip
    # A manifest of a cluster-scoped object brings the cluster scope under tracking.
    assert "k8s://c/_cluster/Namespace/payments" not in untracked(
        [*declared, "k8s://c/_cluster/Namespace/checkout"], live)  # fmt: skip
