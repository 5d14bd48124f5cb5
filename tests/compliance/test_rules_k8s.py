"""The Kubernetes rules on a cluster read by the real collector from the emulator: each passes on
a compliant object and fails on a broken one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from driftscan.model import Finding, SourceRun
from driftscan.providers.kubernetes import KubernetesSource
from driftscan.sandbox.k8s import KubeEmulator
from driftscan.sandbox.k8s import objects as o
from driftscan.sandbox.k8s.estate import API_IMAGE, LEDGER_DECLARED
from driftscan.store import Store

# The Kubernetes collector tests' fixtures, shared: pytest injects them by parameter name, which
# ruff reads as redefinitions.
# ruff: noqa: F811
from tests.collect.k8s.conftest import (  # noqa: F401
    collect,
    kube,
    kube_server,
    kubeconfig,
    source,
)
from tests.compliance.conftest import by_resource, check, config, put_diff

K = "k8s://k8s-test"
PCI_NS = {"pci": {"namespaces": ["payments"]}}
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def _scan(store: Store, run: SourceRun, day: int = 0) -> int:
    at = T0 + timedelta(days=day)
    return store.write_scan([run], started_at=at, finished_at=at, tool_version="test").scan_id


@pytest.fixture
def scanned(
    kube: KubeEmulator, source: Callable[..., KubernetesSource], store: Store
) -> Callable[..., dict[str, dict[str, Finding]]]:
    """Collect the emulator's cluster into the store and check it; findings by rule and resource."""

    def run(**kw: object) -> dict[str, dict[str, Finding]]:
        _scan(store, collect(source()))
        res = check(store, config(scopes=PCI_NS), **kw)  # type: ignore[arg-type]
        rules = {f.rule for f in res.findings}
        return {r: by_resource(res, r) for r in rules}

    return run


def test_ghost_pod(
    scanned: Callable[..., dict[str, dict[str, Finding]]], kube: KubeEmulator
) -> None:
    """A pod of an emptied old ReplicaSet, an ownerless pod and an orphan alarm; current pods and
    static pods pass."""
    kube.add(o.pod("default", "stray", "r/x:1", "r/x@" + o.digest("x")))
    kube.add(
        o.pod(
            "default",
            "orphan",
            "r/x:1",
            "r/x@" + o.digest("x"),
            owner=("apps/v1", "ReplicaSet", "gone-123"),
        )
    )
    f = scanned()["k8s_ghost_pod"]
    ghost = next(k for k in f if k.endswith("-ghost1"))
    assert f[ghost].status == "alarm" and "left after a rollout or rollback" in f[ghost].reason
    assert (
        f[f"{K}/default/Pod/stray"].status == "alarm"
        and "no owner" in f[f"{K}/default/Pod/stray"].reason
    )
    assert (
        f[f"{K}/default/Pod/orphan"].status == "alarm"
        and "no longer exists" in f[f"{K}/default/Pod/orphan"].reason
    )
    assert f[f"{K}/kube-system/Pod/kube-apiserver-node-1"].status == "ok"
    current = [k for k in f if "/payments/Pod/api-" in k and not k.endswith("-ghost1")]
    assert current and all(f[k].status == "ok" for k in current)
    assert f[f"{K}/payments/Pod/node-agent-node-1"].status == "ok"  # a DaemonSet's pod


def test_ghost_pod_owner_unread_is_not_assessed(
    scanned: Callable[..., dict[str, dict[str, Finding]]],
    kube: KubeEmulator,
) -> None:
    """With ReplicaSets unreadable, an owner's absence proves nothing: not assessed, never alarm."""
    kube.deny_kind("replicasets")
    f = scanned()["k8s_ghost_pod"]
    pods = [k for k in f if "/payments/Pod/api-" in k]
    assert pods and {f[k].status for k in pods} == {"not_assessed"}


def test_replicas_unavailable_and_its_lifecycle(
    kube: KubeEmulator,
    source: Callable[..., KubernetesSource],
    store: Store,
) -> None:
    """3 desired, 2 ready alarms and persists from scan to scan; a full Deployment passes."""
    for day in range(3):
        _scan(store, collect(source()), day)
        res = check(store, config(scopes=PCI_NS))
    f = by_resource(res, "k8s_replicas_unavailable")
    web = f[f"{K}/checkout/Deployment/web"]
    assert web.status == "alarm" and web.reason == "2 of 3 replicas ready"
    assert web.lifecycle == "persisting" and web.first_seen_scan == 1
    assert f[f"{K}/payments/Deployment/api"].status == "ok"
    assert f[f"{K}/payments/DaemonSet/node-agent"].status == "ok"


def test_image_pinning(scanned: Callable[..., dict[str, dict[str, Finding]]]) -> None:
    """A workload by tag alarms; one pinned by digest passes; pods of controllers are not judged."""
    f = scanned()["k8s_image_not_pinned"]
    assert f[f"{K}/payments/Deployment/ledger"].status == "alarm"
    assert "by tag" in f[f"{K}/payments/Deployment/ledger"].reason
    assert f[f"{K}/payments/Deployment/api"].status == "ok"
    assert not any("/Pod/api-" in k for k in f)


def test_image_digest_drift(
    kube: KubeEmulator, source: Callable[..., KubernetesSource], store: Store
) -> None:
    """Pods running another digest than the manifests declare alarm; the declared one passes."""
    n = _scan(store, collect(source()))
    path = "spec.template.spec.containers.app.image"
    put_diff(store, n, attrs=[
        (f"{K}/payments/Deployment/ledger", path, "eq", f"registry.example/ledger:1.4@{LEDGER_DECLARED}"),
        (f"{K}/payments/Deployment/api", path, "eq", API_IMAGE),
    ])  # fmt: skip
    f = by_resource(
        check(store, config(scopes=PCI_NS, desired=[{"path": "x.yaml"}])), "k8s_image_digest_drift"
    )
    ledger = f[f"{K}/payments/Deployment/ledger"]
    assert ledger.status == "alarm" and f"declared {LEDGER_DECLARED}" in ledger.reason
    assert f[f"{K}/payments/Deployment/api"].status == "ok"


def test_privileged_in_scope(scanned: Callable[..., dict[str, dict[str, Finding]]]) -> None:
    """A privileged pod in the PCI namespace alarms with its host access; others in scope pass."""
    f = scanned()["k8s_privileged_in_scope"]
    agent = f[f"{K}/payments/Pod/node-agent-node-1"]
    assert agent.status == "alarm"
    assert agent.reason == "privileged: agent; hostPID; hostNetwork; hostPath volumes: host-logs"
    assert any(v.status == "ok" for k, v in f.items() if "/payments/Pod/api-" in k)
    assert not any("/checkout/" in k for k in f)  # outside the scope


def test_cluster_admin_binding(scanned: Callable[..., dict[str, dict[str, Finding]]]) -> None:
    """cluster-admin for a person alarms; for system:masters passes."""
    f = scanned()["k8s_cluster_admin_binding"]
    assert (
        f[f"{K}/_cluster/ClusterRoleBinding/ops-breakglass"].reason
        == "cluster-admin granted to User alice@example.com"
    )
    assert f[f"{K}/_cluster/ClusterRoleBinding/ops-breakglass"].status == "alarm"
    assert f[f"{K}/_cluster/ClusterRoleBinding/cluster-admin"].status == "ok"


def test_service_no_ready_endpoints(scanned: Callable[..., dict[str, dict[str, Finding]]]) -> None:
    """A LoadBalancer with no ready endpoint alarms; one with ready endpoints passes."""
    f = scanned()["k8s_service_no_ready_endpoints"]
    assert f[f"{K}/checkout/Service/legacy"].status == "alarm"
    assert f[f"{K}/checkout/Service/web"].status == "ok"


def test_service_endpoints_unread_is_not_assessed(
    scanned: Callable[..., dict[str, dict[str, Finding]]],
    kube: KubeEmulator,
) -> None:
    """Without EndpointSlices the count is unknown: not assessed, never `0 ready`."""
    kube.deny_kind("endpointslices")
    f = scanned()["k8s_service_no_ready_endpoints"]
    assert f[f"{K}/checkout/Service/legacy"].status == "not_assessed"


def test_tls_secret_expiry(
    scanned: Callable[..., dict[str, dict[str, Finding]]], kube: KubeEmulator
) -> None:
    """A certificate with 5 days left alarms; one with a year left passes."""
    kube.add(o.tls_secret("checkout", "web-tls", "shop.example.com", days_left=365))
    f = scanned()["k8s_tls_secret_expiry"]
    tls = f[f"{K}/payments/Secret/payments-tls"]
    assert tls.status == "alarm" and "CN=pay.example.com expires in 5 days" in tls.reason
    assert f[f"{K}/checkout/Secret/web-tls"].status == "ok"


def test_node_version_skew(scanned: Callable[..., dict[str, dict[str, Finding]]]) -> None:
    """A kubelet two minors behind the newest alarms; the newest pass."""
    f = scanned()["k8s_node_version_skew"]
    assert f[f"{K}/_cluster/Node/node-3"].status == "alarm"
    assert "2 minor versions behind" in f[f"{K}/_cluster/Node/node-3"].reason
    assert f[f"{K}/_cluster/Node/node-1"].status == "ok"
