"""The Kubernetes collector against the HTTPS emulator: what it reads, and how it pages and fails."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from driftscan.errors import ConfigError
from driftscan.model import Slice, SourceRun
from driftscan.providers.kubernetes import KubernetesSource
from driftscan.providers.kubernetes.kinds import KINDS
from driftscan.sandbox.k8s import SECRET_CANARY, KubeEmulator, demo_cluster
from tests.collect.k8s.conftest import collect

Source = Callable[..., KubernetesSource]
P = "k8s://k8s-test"


def _by_key(run: SourceRun) -> dict[str, dict]:  # type: ignore[type-arg]
    return {r.key: r.attrs for r in run.resources}


def _failed(run: SourceRun) -> dict[str, Slice]:
    return {s.name: s for s in run.slices if s.status == "failed"}


def test_every_kind_is_read_with_design_identity(kube: KubeEmulator, source: Source) -> None:
    """Every seeded object (EndpointSlices folded into Services) is a resource keyed per design §6.2."""
    run = collect(source())
    assert run.status == "ok", run.slices
    keys = {r.key for r in run.resources}
    seeded = {
        f"{P}/{o.get('metadata', {}).get('namespace') or '_cluster'}/{o['kind']}/{o['metadata']['name']}"
        for o in demo_cluster()[0]
        if o["kind"] != "EndpointSlice"
    }
    assert keys == seeded
    dep = next(r for r in run.resources if r.key == f"{P}/payments/Deployment/api")
    assert (dep.type, dep.name, dep.account, dep.region) == (
        "apps/Deployment", "payments/api", "k8s-test", "sandbox-cluster",
    )  # fmt: skip
    assert dep.tags == {"app": "api"}
    crb = next(r for r in run.resources if r.key.endswith("/ClusterRoleBinding/ops-breakglass"))
    assert (
        crb.type == "rbac.authorization.k8s.io/ClusterRoleBinding" and crb.name == "ops-breakglass"
    )
    assert {r.type for r in run.resources} >= {k.type for k in KINDS if k.kind != "EndpointSlice"}


def test_what_is_read_of_pods_nodes_workloads(kube: KubeEmulator, source: Source) -> None:
    """Pods keep owner, containers with image and imageID, restarts, privileged, host namespaces,
    hostPath volumes and service account; nodes their kubelet version, Ready and taints."""
    attrs = _by_key(collect(source()))
    agent = attrs[f"{P}/payments/Pod/node-agent-node-1"]
    spec = agent["spec"]
    c = spec["containers"]["agent"]
    assert c["securityContext"]["privileged"] is True
    assert spec["hostNetwork"] is True and spec["hostPID"] is True
    assert spec["volumes"]["host-logs"]["hostPath"]["path"] == "/var/log"
    assert spec["serviceAccountName"] == "default"
    assert agent["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet"
    st = agent["status"]["containerStatuses"]["agent"]
    assert (
        st["imageID"].startswith("registry.example/node-agent@sha256:") and st["restartCount"] == 0
    )
    assert "managedFields" not in agent["metadata"] and "resourceVersion" not in agent["metadata"]
    node = attrs[f"{P}/_cluster/Node/node-3"]
    assert node["status"]["nodeInfo"]["kubeletVersion"] == "v1.29.4"
    assert node["status"]["conditions"]["Ready"]["status"] == "True"
    assert (
        "lastHeartbeatTime" not in node["status"]["conditions"]["Ready"]
    )  # no new version per scan
    assert attrs[f"{P}/_cluster/Node/node-2"]["spec"]["taints"][0]["key"] == "dedicated"
    web = attrs[f"{P}/checkout/Deployment/web"]
    assert (web["spec"]["replicas"], web["status"]["readyReplicas"]) == (3, 2)
    assert web["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert web["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    # Quantities are canonical: 250m → 0.25, 512Mi → bytes.
    res = web["spec"]["template"]["spec"]["containers"]["app"]["resources"]
    assert res == {
        "requests": {"cpu": "0.25", "memory": "268435456"},
        "limits": {"cpu": "1", "memory": "536870912"},
    }
    assert (
        attrs[f"{P}/payments/PersistentVolumeClaim/ledger-data"]["spec"]["storageClassName"]
        == "fast-ssd"
    )
    assert attrs[f"{P}/payments/Ingress/payments"]["spec"]["tls"][0]["secretName"] == "payments-tls"


def test_services_carry_their_ready_endpoints(kube: KubeEmulator, source: Source) -> None:
    """A Service's ready endpoint count comes from its EndpointSlices."""
    attrs = _by_key(collect(source()))
    assert attrs[f"{P}/checkout/Service/web"]["endpoints"] == {
        "ready": 2,
        "not_ready": 1,
        "slices": 1,
    }
    assert attrs[f"{P}/checkout/Service/legacy"]["endpoints"]["ready"] == 0


def test_secrets_are_key_names_and_fingerprints(kube: KubeEmulator, source: Source) -> None:
    """No Secret or ConfigMap value is kept, nor the last-applied manifest; TLS expiry is parsed."""
    run = collect(source())
    blob = json.dumps([r.doc() for r in run.resources]) + json.dumps(
        [r.observed for r in run.resources]
    )
    assert SECRET_CANARY not in blob
    attrs = _by_key(run)
    creds = attrs[f"{P}/payments/Secret/db-credentials"]
    assert creds["keys"] == ["password", "username"]
    assert all(v.startswith("hmac-sha256:") for v in creds["data"].values())
    ann = creds["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    assert ann.startswith("hmac-sha256:")
    assert attrs[f"{P}/payments/ConfigMap/app-config"]["data"]["LEGACY_DSN"].startswith(
        "hmac-sha256:"
    )
    tls_res = next(r for r in run.resources if r.key == f"{P}/payments/Secret/payments-tls")
    tls = tls_res.attrs["tls"]
    assert tls["subject"] == "CN=pay.example.com"
    left = datetime.fromisoformat(tls["not_after"]) - datetime.now(UTC)
    assert 4 <= left.days <= 6 and tls_res.observed == {"tls": {"days_left": left.days}}
    assert "BEGIN" not in json.dumps(tls_res.attrs)  # neither the certificate nor the key


def test_lists_are_paged_500_at_a_time(kube: KubeEmulator, source: Source) -> None:
    """Every request but the first (/version) is a list GET with limit=500, and continue
    tokens are followed."""
    collect(source())
    assert kube.requests[0] == ("GET", "/version")
    queries = [parse_qs(urlsplit(t).query) for m, t in kube.requests[1:]]
    assert all(q["limit"] == ["500"] for q in queries)
    assert any("continue" in q for q in queries)  # the server's 4-item pages were followed


def test_stale_continue_token_restarts_the_list(kube: KubeEmulator, source: Source) -> None:
    """A 410 Gone on a continue token restarts that list from its first page: nothing lost."""
    clean = {r.key for r in collect(source()).resources}
    kube.requests.clear()
    kube.expire_continue(2)
    run = collect(source())
    assert run.status == "ok" and {r.key for r in run.resources} == clean


def test_a_continue_token_that_repeats_is_refused(kube: KubeEmulator, source: Source) -> None:
    """A list whose continue token comes back again would never end: the kind fails as a
    parse failure naming it after two requests; the emulator would loop five times."""
    page = {"kind": "PodList", "apiVersion": "v1", "items": [],
            "metadata": {"resourceVersion": "1", "continue": "again"}}  # fmt: skip
    fault = kube.add_fault(
        status=200, match="/api/v1/pods", count=5, body=json.dumps(page).encode()
    )
    run = collect(source())
    assert fault.hits == 2
    failed = [
        s
        for s in _failed(run).values()
        if "continue returns to a page already read" in (s.detail or "")
    ]
    assert failed and all(s.reason == "parse" for s in failed)


def test_throttling_is_retried_after_retry_after(kube: KubeEmulator, source: Source) -> None:
    """429 with Retry-After, and a 503, are retried: the scan stays complete."""
    f1 = kube.throttle("/pods", count=2, retry_after=0.05)
    f2 = kube.add_fault(status=503, match="/nodes", count=1)
    run = collect(source())
    assert run.status == "ok" and f1.hits == 2 and f2.hits == 1


def test_persistent_throttling_is_a_throttled_slice(kube: KubeEmulator, source: Source) -> None:
    """A kind that stays throttled is not assessed (throttled) everywhere; the rest is read."""
    kube.throttle("/api/v1/configmaps", count=None, retry_after=0.01)
    run = collect(source(max_attempts=2))
    failed = _failed(run)
    assert set(failed) == {"*/ConfigMap"} and failed["*/ConfigMap"].reason == "throttled"
    assert failed["*/ConfigMap"].types == ["ConfigMap"] and failed["*/ConfigMap"].keys == []
    assert any(r.type == "Pod" for r in run.resources)


def test_denied_namespace_is_not_assessed_the_rest_goes_on(
    kube: KubeEmulator, source: Source
) -> None:
    """A reader bound per namespace: lists go namespace by namespace, the 403 one is one failed slice."""
    kube.namespaced_reader = True
    kube.deny_namespace("restricted")
    run = collect(source())
    failed = _failed(run)
    assert set(failed) == {"restricted"}
    s = failed["restricted"]
    assert s.reason == "denied" and "forbidden" in (s.detail or "")
    assert (
        s.keys == [f"{P}/restricted/*"]
        and s.account == "k8s-test"
        and s.region == "sandbox-cluster"
    )
    assert not any("/restricted/" in r.key for r in run.resources)
    assert any(r.key == f"{P}/payments/Deployment/api" for r in run.resources)
    assert run.status == "partial"
    paths = [urlsplit(t).path for _, t in kube.requests]
    assert "/api/v1/namespaces/payments/pods" in paths  # the per-namespace fallback


def test_denied_kind_in_one_namespace(kube: KubeEmulator, source: Source) -> None:
    """Secrets forbidden in one namespace: that kind there is not assessed, the namespace's rest is read."""
    kube.deny_kind("secrets", "payments")
    run = collect(source(namespaces=["payments", "checkout"]))
    failed = _failed(run)
    assert set(failed) == {"payments/Secret"}
    assert failed["payments/Secret"].types == ["Secret"]
    assert not any(r.type == "Secret" and "/payments/" in r.key for r in run.resources)
    ok = {s.name for s in run.slices if s.status == "ok"}
    assert {"payments", "checkout"} <= ok
    assert not any("/kube-system/" in r.key for r in run.resources)  # only the listed namespaces


def test_denied_endpoint_slices_leave_service_counts_unknown(
    kube: KubeEmulator, source: Source
) -> None:
    """Without EndpointSlices a Service's ready count is null (unknown), never zero."""
    kube.deny_kind("endpointslices")
    attrs = _by_key(collect(source()))
    assert attrs[f"{P}/checkout/Service/web"]["endpoints"] is None


def test_omitted_fields_are_null_not_a_parse_error(kube: KubeEmulator, source: Source) -> None:
    """A pod with no status, spec or labels is a resource with what it has, not an error."""
    kube.add({"kind": "Pod", "metadata": {"name": "bare", "namespace": "default"}})
    run = collect(source())
    bare = next(r for r in run.resources if r.key == f"{P}/default/Pod/bare")
    assert bare.error is None and bare.tags == {} and "status" not in bare.attrs


def test_unreachable_api_server(kube: KubeEmulator, source: Source, tmp_path: Path) -> None:
    """A server that is not there fails once, as the whole cluster (one `*` slice naming the
    server), not once per kind after each kind's retries; nothing is stored."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    text = Path(source().kubeconfig or "").read_text().replace(str(kube.port), str(port))
    (tmp_path / "dead").write_text(text)
    from driftscan.collect.base import run_source

    run = run_source(source(kubeconfig=str(tmp_path / "dead"), max_attempts=2))
    assert run.status == "failed" and not run.resources
    assert [(s.name, s.reason) for s in run.slices] == [("*", "unreachable")]
    assert f"127.0.0.1:{port}" in run.slices[0].detail and "GET /version" in run.slices[0].detail


def test_missing_kubeconfig_or_context_is_a_config_error(source: Source, tmp_path: Path) -> None:
    """A kubeconfig that does not exist, or a context it lacks, is exit 2 naming the key."""
    with pytest.raises(ConfigError) as err:
        collect(source(kubeconfig=str(tmp_path / "nope")))
    assert err.value.key == "kubeconfig"
    with pytest.raises(ConfigError) as err:
        collect(source(context="prod"))
    assert err.value.key == "context" and "sandbox" in err.value.message


def test_identity_names_the_reader_never_the_token(kube: KubeEmulator, source: Source) -> None:
    """The run's identity says which context and server were read, and carries no token."""
    run = collect(source())
    assert (
        run.identity is not None and "context sandbox" in run.identity and kube.url in run.identity
    )
    assert kube.token not in run.identity


def test_a_denied_secrets_list_keeps_its_http_status(kube: KubeEmulator, source: Source) -> None:
    """The stored reason of a forbidden Secrets list names the 403: its path is not taken
    for a secret's name and redacted ("secrets: [redacted]")."""
    from driftscan.redaction import safe_detail

    kube.deny_kind("secrets", "payments")
    run = collect(source(namespaces=["payments"]))
    [failed] = [s for s in run.slices if s.status == "failed"]
    detail = safe_detail(failed.detail) or ""
    assert failed.reason == "denied" and "HTTP 403" in detail and "[redacted]" not in detail
