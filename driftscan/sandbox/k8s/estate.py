"""The sandbox clusters: the demo's, seeded with the cluster incidents of issue 17, and a large one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from driftscan.sandbox.k8s import objects as o

SECRET_CANARY = "kube-canary-5d1e7a-do-not-store"
DENIED_NAMESPACE = "restricted"
PCI_NAMESPACE = "payments"
API_IMAGE = "registry.example/payments-api:3.1@" + o.digest("payments-api 3.1")
LEDGER_IMAGE = "registry.example/ledger:1.4"
LEDGER_DECLARED = o.digest("ledger 1.4 build 212")
LEDGER_RUNNING = o.digest("ledger 1.4 build 187")
WEB_IMAGE = "registry.example/checkout-web:7.2@" + o.digest("checkout-web 7.2")


@dataclass(frozen=True)
class ClusterIncident:
    """One seeded problem: what it is, the rule that must find it, the object's kind/ns/name."""

    what: str
    rule: str
    kind: str
    namespace: str | None
    name: str

    def key(self, source: str) -> str:
        return f"k8s://{source}/{self.namespace or '_cluster'}/{self.kind}/{self.name}"


def _daemonset(
    ns: str, name: str, image: str, *, privileged: bool, nodes: tuple[str, ...]
) -> list[dict[str, Any]]:
    spec = o.pod_spec(
        [o.container("agent", image, securityContext={"privileged": privileged},
                     volumeMounts=[{"name": "host-logs", "mountPath": "/host/var/log", "readOnly": True}])],
        hostNetwork=privileged, hostPID=privileged,
        volumes=[{"name": "host-logs", "hostPath": {"path": "/var/log", "type": "Directory"}}],
    )  # fmt: skip
    ds = {
        "kind": "DaemonSet",
        "metadata": o.meta("DaemonSet", name, ns, labels={"app": name}, generation=1),
        "spec": {"selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": spec}},
        "status": {"desiredNumberScheduled": len(nodes), "currentNumberScheduled": len(nodes),
                   "numberReady": len(nodes), "numberAvailable": len(nodes), "updatedNumberScheduled": len(nodes)},
    }  # fmt: skip
    pods = [
        o.pod(ns, f"{name}-{n}", image, f"{image.split(':')[0]}@{o.digest(image)}", owner=("apps/v1", "DaemonSet", name),
              node_name=n, labels={"app": name}, spec=spec, container_name="agent")
        for n in nodes
    ]  # fmt: skip
    return [ds, *pods]


def demo_cluster() -> tuple[list[dict[str, Any]], list[ClusterIncident]]:
    """The demo's cluster objects and the incidents seeded in them."""
    nodes = ("node-1", "node-2", "node-3")
    objs: list[dict[str, Any]] = [
        o.node("node-1", "v1.31.2"),
        o.node("node-2", "v1.31.2", taints=[{"key": "dedicated", "value": "payments", "effect": "NoSchedule"}]),
        # Left behind by an upgrade: two minor versions below the control plane's nodes.
        o.node("node-3", "v1.29.4"),
        o.namespace("kube-system"),
        o.namespace("default"),
        o.namespace(PCI_NAMESPACE, {"pci": "true", "team": "payments"}),
        o.namespace("checkout", {"team": "web"}),
        o.namespace(DENIED_NAMESPACE, {"team": "security"}),
    ]  # fmt: skip
    for ns in ("kube-system", "default", PCI_NAMESPACE, "checkout", DENIED_NAMESPACE):
        objs.append(o.service_account(ns))
    # kube-system: a static (mirror) pod, owned by its node: never a ghost.
    objs.append(
        o.pod("kube-system", "kube-apiserver-node-1", "registry.k8s.io/kube-apiserver:v1.31.2",
              "registry.k8s.io/kube-apiserver@" + o.digest("kube-apiserver v1.31.2"),
              owner=("v1", "Node", "node-1"), node_name="node-1",
              annotations={"kubernetes.io/config.mirror": "3f2a", "kubernetes.io/config.source": "file"})
    )  # fmt: skip
    objs += o.workload("kube-system", "coredns", "registry.k8s.io/coredns/coredns:v1.11.3@" + o.digest("coredns"),
                       "registry.k8s.io/coredns/coredns@" + o.digest("coredns"), replicas=2)  # fmt: skip

    # payments: rolled back from revision 4 to 3; revision 2's pod was never cleaned up.
    api_id = "registry.example/payments-api@" + o.digest("payments-api 3.1")
    objs += o.workload(PCI_NAMESPACE, "api", API_IMAGE, api_id, replicas=3, revision=3, nodes=nodes)
    ghost_rs = f"api-{o.template_hash('api', 2, API_IMAGE)}"
    ghost = f"{ghost_rs}-ghost1"
    objs.append(
        o.pod(PCI_NAMESPACE, ghost, API_IMAGE, api_id, owner=("apps/v1", "ReplicaSet", ghost_rs),
              node_name="node-2", labels={"app": "api"})
    )  # fmt: skip
    objs.append(o.service(PCI_NAMESPACE, "api", selector={"app": "api"}))
    objs.append(o.endpointslice(PCI_NAMESPACE, "api", ready=3))
    # ledger runs a cached tag: the running build is not the one the manifests declare.
    objs += o.workload(PCI_NAMESPACE, "ledger", LEDGER_IMAGE, "registry.example/ledger@" + LEDGER_RUNNING,
                       replicas=2, revision=5)  # fmt: skip
    objs += _daemonset(
        PCI_NAMESPACE, "node-agent", "registry.example/node-agent:2.0", privileged=True, nodes=nodes
    )
    pg = "registry.example/postgres:16.4@" + o.digest("postgres 16.4")
    objs += o.statefulset(
        PCI_NAMESPACE, "ledger-db", pg, "registry.example/postgres@" + o.digest("postgres 16.4")
    )
    objs.append(o.tls_secret(PCI_NAMESPACE, "payments-tls", "pay.example.com", days_left=5.5))
    objs.append(
        o.ingress(PCI_NAMESPACE, "payments", "pay.example.com", "api", tls_secret="payments-tls")
    )
    objs.append(o.secret(PCI_NAMESPACE, "db-credentials", {"username": "ledger", "password": SECRET_CANARY},
                         annotations={"kubectl.kubernetes.io/last-applied-configuration":
                                      '{"stringData":{"password":"' + SECRET_CANARY + '"}}'}))  # fmt: skip
    objs.append(
        o.configmap(
            PCI_NAMESPACE,
            "app-config",
            {"LOG_LEVEL": "info", "LEGACY_DSN": f"postgres://u:{SECRET_CANARY}@db/x"},
        )
    )
    objs.append(o.network_policy(PCI_NAMESPACE, "default-deny"))
    objs.append(o.persistent_volume("pv-ledger", "20Gi", "fast-ssd"))
    objs.append(
        o.persistent_volume_claim(PCI_NAMESPACE, "ledger-data", "pv-ledger", "20Gi", "fast-ssd")
    )
    objs.append(
        o.cronjob(
            PCI_NAMESPACE, "settlement", "registry.example/settlement:1.0@" + o.digest("settle")
        )
    )
    objs.append(o.job(PCI_NAMESPACE, "settlement-29000000", "registry.example/settlement:1.0@" + o.digest("settle"),
                      owner_cronjob="settlement"))  # fmt: skip
    objs.append(
        o.role(
            PCI_NAMESPACE,
            "ledger-reader",
            [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
        )
    )
    objs.append(o.role_binding(PCI_NAMESPACE, "ledger-reader", "Role", "ledger-reader",
                               [o.subject("ServiceAccount", "default", PCI_NAMESPACE)]))  # fmt: skip

    # checkout: three replicas wanted, two ready; a Service whose pods are all gone.
    objs += o.workload("checkout", "web", WEB_IMAGE, "registry.example/checkout-web@" + o.digest("checkout-web 7.2"),
                       replicas=3, ready=2, revision=2, nodes=nodes)  # fmt: skip
    objs.append(o.service("checkout", "web", selector={"app": "web"}, type="LoadBalancer"))
    objs.append(o.endpointslice("checkout", "web", ready=2, not_ready=1))
    objs.append(o.service("checkout", "legacy", selector={"app": "legacy"}, type="LoadBalancer"))
    objs.append(o.endpointslice("checkout", "legacy", ready=0, not_ready=0))

    objs.append(o.secret(DENIED_NAMESPACE, "vault-unseal", {"key": SECRET_CANARY}))

    objs.append(
        o.cluster_role("cluster-admin", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}])
    )
    objs.append(
        o.cluster_role(
            "view", [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]
        )
    )
    objs.append(
        o.cluster_role_binding(
            "cluster-admin", "cluster-admin", [o.subject("Group", "system:masters")]
        )
    )
    # A break-glass grant that was never taken back.
    objs.append(
        o.cluster_role_binding(
            "ops-breakglass", "cluster-admin", [o.subject("User", "alice@example.com")]
        )
    )

    incidents = [
        ClusterIncident("a ghost pod left after a rollback", "k8s_ghost_pod", "Pod", PCI_NAMESPACE, ghost),
        ClusterIncident("a Deployment with 3 replicas desired and 2 ready", "k8s_replicas_unavailable",
                        "Deployment", "checkout", "web"),
        ClusterIncident("an image by tag whose running digest differs from the declared one",
                        "k8s_image_digest_drift", "Deployment", PCI_NAMESPACE, "ledger"),
        ClusterIncident("a TLS certificate expiring in 5 days", "k8s_tls_secret_expiry", "Secret",
                        PCI_NAMESPACE, "payments-tls"),
    ]  # fmt: skip
    return objs, incidents


CIS_GOOD_NAMESPACE = "cis-good"
CIS_BAD_NAMESPACE = "cis-bad"


def cis_objects() -> list[dict[str, Any]]:
    """Objects beside the demo cluster's that pass (cis-good) and fail (cis-bad, and a ConfigMap
    in default) each CIS Kubernetes 1.9 rule of the pack: one hardened and one risky workload,
    default service accounts, a NetworkPolicy, Pod Security labels and two Roles."""
    good, bad = CIS_GOOD_NAMESPACE, CIS_BAD_NAMESPACE
    image = "registry.example/cis-app:1.0@" + o.digest("cis-app 1.0")
    image_id = "registry.example/cis-app@" + o.digest("cis-app 1.0")
    hardened = o.pod_spec(
        [o.container("app", image, securityContext={
            "allowPrivilegeEscalation": False, "runAsNonRoot": True, "runAsUser": 10001,
            "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}},
            volumeMounts=[{"name": "creds", "mountPath": "/run/creds", "readOnly": True}])],
        automountServiceAccountToken=False,
        securityContext={"seccompProfile": {"type": "RuntimeDefault"}},
        volumes=[{"name": "creds", "secret": {"secretName": "app-creds"}}],
    )  # fmt: skip
    risky = o.pod_spec(
        [o.container("app", image, securityContext={
            "runAsUser": 0, "privileged": True, "capabilities": {"add": ["SYS_ADMIN"]},
            "seccompProfile": {"type": "Unconfined"}},
            ports=[{"containerPort": 8080, "hostPort": 8080, "protocol": "TCP"}],
            env=[{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}])],
        hostPID=True, hostIPC=True, hostNetwork=True,
        volumes=[{"name": "docker", "hostPath": {"path": "/var/run/docker.sock", "type": "Socket"}}],
    )  # fmt: skip
    objs: list[dict[str, Any]] = [
        o.namespace(good, {"pod-security.kubernetes.io/enforce": "restricted"}),
        o.namespace(bad, {"pod-security.kubernetes.io/enforce": "privileged"}),
        {**o.service_account(good), "automountServiceAccountToken": False},
        o.service_account(bad),
        o.network_policy(good, "default-deny"),
        o.role(good, "config-reader", [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]),
        o.role(bad, "too-broad", [
            {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]},
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["create"]},
            {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"], "verbs": ["bind", "escalate"]},
            {"apiGroups": ["*"], "resources": ["*"], "verbs": ["impersonate"]},
        ]),
        # Something of a team's left in the default namespace.
        o.configmap("default", "legacy-settings", {"MODE": "legacy"}),
    ]  # fmt: skip
    objs += o.workload(good, "hardened", image, image_id, replicas=1, spec=hardened)
    objs += o.workload(bad, "risky", image, image_id, replicas=1, spec=risky)
    return objs


def demo_manifests() -> dict[str, list[dict[str, Any]]]:
    """What the platform team keeps in git for the demo cluster: file name → documents."""

    def deploy(ns: str, name: str, image: str, replicas: int) -> dict[str, Any]:
        return {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns, "labels": {"app": name}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": image,
                                           "ports": [{"containerPort": 8080}],
                                           "resources": {"limits": {"cpu": "1000m", "memory": "524288Ki"}}}]}}},
        }  # fmt: skip

    def svc(ns: str, name: str, type: str = "ClusterIP") -> dict[str, Any]:
        return {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
            "spec": {"type": type, "selector": {"app": name}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
        }  # fmt: skip

    return {
        "payments.yaml": [
            deploy(PCI_NAMESPACE, "api", API_IMAGE, 3),
            svc(PCI_NAMESPACE, "api"),
            deploy(PCI_NAMESPACE, "ledger", f"{LEDGER_IMAGE}@{LEDGER_DECLARED}", 2),
        ],
        "checkout.yaml": [
            deploy("checkout", "web", WEB_IMAGE, 3),
            svc("checkout", "web", "LoadBalancer"),
        ],
    }


def write_manifests(folder: Path) -> Path:
    """Write the demo manifests as multi-document YAML files into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, docs in demo_manifests().items():
        (folder / name).write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return folder


def large_cluster(
    pods: int = 10_000, namespaces: int = 200, per_deployment: int = 10
) -> list[dict[str, Any]]:
    """`pods` pods in `namespaces` namespaces, with their Deployments, ReplicaSets, a Service and
    EndpointSlice per Deployment, and a ConfigMap and a Secret per namespace (the benchmark's)."""
    out: list[dict[str, Any]] = [o.node(f"node-{i}") for i in range(1, 21)]
    per_ns = max(1, pods // namespaces)
    nodes = tuple(f"node-{i}" for i in range(1, 21))
    for n in range(namespaces):
        ns = f"team-{n:03d}"
        out.append(o.namespace(ns, {"team": ns}))
        out.append(o.service_account(ns))
        out.append(o.configmap(ns, "settings", {"LOG_LEVEL": "info"}))
        out.append(o.secret(ns, "token", {"token": f"t-{n}"}))
        left, d = per_ns, 0
        while left > 0:
            r = min(per_deployment, left)
            name = f"svc-{d:02d}"
            image = f"registry.example/{name}:1.{d}"
            out += o.workload(
                ns,
                name,
                image,
                f"registry.example/{name}@" + o.digest(image),
                replicas=r,
                nodes=nodes,
            )
            out.append(o.service(ns, name, selector={"app": name}))
            out.append(o.endpointslice(ns, name, ready=r))
            left -= r
            d += 1
    return out


__all__ = [
    "CIS_BAD_NAMESPACE",
    "CIS_GOOD_NAMESPACE",
    "DENIED_NAMESPACE",
    "LEDGER_DECLARED",
    "LEDGER_RUNNING",
    "PCI_NAMESPACE",
    "SECRET_CANARY",
    "ClusterIncident",
    "cis_objects",
    "demo_cluster",
    "demo_manifests",
    "large_cluster",
    "write_manifests",
]
