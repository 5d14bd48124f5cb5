"""Kubernetes manifests as desired state: documents, identity, defaults, and located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftscan.errors import ConfigError
from driftscan.providers import DesiredInput
from driftscan.providers.kubernetes import KubernetesSource
from driftscan.providers.kubernetes.manifests import documents, load
from tests.conftest import TEST_FP

SRC = KubernetesSource(name="prod", type="kubernetes", kubeconfig="kc")

MANIFESTS = """\
# the payments app
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: payments
  labels: {app: api}
spec:
  template:
    spec:
      containers:
        - name: app
          image: r/api:1.2
          resources: {limits: {cpu: 1000m, memory: 512Mi}}
          ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Service
    metadata: {name: api}
    spec: {ports: [{port: 80}]}
  - apiVersion: example.com/v1
    kind: Widget
    metadata: {name: w}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: payments}
stringData: {password: hunter2}
"""


def _input(
    path: Path, *, sources: tuple[KubernetesSource, ...] = (SRC,), source: str | None = None
) -> DesiredInput:
    return DesiredInput(key="desired[0].kubernetes", configured=str(path), path=path,
                        display=lambda p: p.name, fingerprint=TEST_FP, sources=sources, source=source)  # fmt: skip


def test_documents_keep_the_files_lines(tmp_path: Path) -> None:
    """Each document of a multi-document file is parsed alone with the file's line numbers."""
    docs = documents(MANIFESTS, "m.yaml")
    assert [i for i, _, _ in docs] == [0, 1, 2]
    assert docs[1][2][("items", 0)] == 20 and docs[2][2][("kind",)] == 29


def test_manifests_become_declarations(tmp_path: Path) -> None:
    """Keys per design §6.2, default namespace, List items, unknown kinds skipped, defaults applied."""
    (tmp_path / "m.yaml").write_text(MANIFESTS)
    files, decls = load(_input(tmp_path))
    assert files == ["m.yaml"]
    by_key = {d.key: d for d in decls}
    assert set(by_key) == {
        "k8s://prod/payments/Deployment/api", "k8s://prod/default/Service/api", "k8s://prod/payments/Secret/creds",
    }  # fmt: skip
    dep = by_key["k8s://prod/payments/Deployment/api"]
    assert (dep.type, dep.name, dep.account, dep.source) == (
        "apps/Deployment",
        "payments/api",
        "prod",
        "m.yaml:2 (document 0)",
    )
    c = dep.declared["spec"]["template"]["spec"]["containers"]["app"]
    assert dep.declared["spec"]["replicas"] == 1 and dep.declared["tags"] == {"app": "api"}
    assert c["resources"]["limits"] == {"cpu": "1", "memory": "536870912"}
    assert c["ports"] == {"8080/TCP": {"containerPort": 8080, "protocol": "TCP"}}
    assert c["imagePullPolicy"] == "IfNotPresent"
    assert by_key["k8s://prod/default/Service/api"].source == "m.yaml:20 (document 1)"
    secret = by_key["k8s://prod/payments/Secret/creds"].declared
    assert secret["data"]["password"].startswith("hmac-sha256:") and "hunter2" not in str(secret)


def test_errors_name_file_line_and_document(tmp_path: Path) -> None:
    """A document without metadata.name is an error at its line, naming its index."""
    (tmp_path / "bad.yaml").write_text(
        "kind: Pod\napiVersion: v1\nmetadata: {name: a}\n---\nkind: Pod\napiVersion: v1\nspec: {}\n"
    )
    with pytest.raises(ConfigError) as err:
        load(_input(tmp_path / "bad.yaml"))
    assert (err.value.file, err.value.line, err.value.key) == (
        "bad.yaml",
        5,
        "document 1: metadata.name",
    )
    (tmp_path / "bad.yaml").write_text("kind: Pod\n---\n  - : [\n")
    with pytest.raises(ConfigError) as err:
        load(_input(tmp_path / "bad.yaml"))
    assert err.value.line == 3


def test_which_cluster_must_be_clear(tmp_path: Path) -> None:
    """With two kubernetes sources the entry names one; a name that is not a source is an error."""
    (tmp_path / "m.yaml").write_text(MANIFESTS)
    two = (SRC, KubernetesSource(name="staging", type="kubernetes"))
    with pytest.raises(ConfigError, match="source:"):
        load(_input(tmp_path, sources=two))
    assert {d.account for d in load(_input(tmp_path, sources=two, source="staging"))[1]} == {
        "staging"
    }
    with pytest.raises(ConfigError) as err:
        load(_input(tmp_path, source="nope"))
    assert err.value.key == "desired[0].kubernetes.source"
