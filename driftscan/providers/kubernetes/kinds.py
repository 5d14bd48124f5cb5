"""The object kinds the collector reads: API group, version, plural and whether namespaced."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Kind:
    """One listable kind, as the API server serves it."""

    kind: str  # as the API writes it: `Deployment`
    group: str  # "" for the core group
    version: str
    plural: str
    namespaced: bool

    @property
    def type(self) -> str:
        """The resource type: API group and kind (`apps/Deployment`), the core group bare (`Pod`)."""
        return f"{self.group}/{self.kind}" if self.group else self.kind

    def path(self, namespace: str | None = None) -> str:
        """The list URL path, cluster-wide (namespace None) or within one namespace."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if namespace is not None:
            return f"{base}/namespaces/{namespace}/{self.plural}"
        return f"{base}/{self.plural}"


RBAC = "rbac.authorization.k8s.io"

# Everything design §6.2 / issue 17 item 2 reads. docs/kubernetes-rbac.yaml grants exactly
# `list` on these (tests/collect/k8s/test_readonly.py keeps the two in step).
KINDS: tuple[Kind, ...] = (
    Kind("Namespace", "", "v1", "namespaces", False),
    Kind("Node", "", "v1", "nodes", False),
    Kind("PersistentVolume", "", "v1", "persistentvolumes", False),
    Kind("ClusterRole", RBAC, "v1", "clusterroles", False),
    Kind("ClusterRoleBinding", RBAC, "v1", "clusterrolebindings", False),
    Kind("Pod", "", "v1", "pods", True),
    Kind("Service", "", "v1", "services", True),
    Kind("ConfigMap", "", "v1", "configmaps", True),
    Kind("Secret", "", "v1", "secrets", True),
    Kind("ServiceAccount", "", "v1", "serviceaccounts", True),
    Kind("PersistentVolumeClaim", "", "v1", "persistentvolumeclaims", True),
    Kind("Deployment", "apps", "v1", "deployments", True),
    Kind("StatefulSet", "apps", "v1", "statefulsets", True),
    Kind("DaemonSet", "apps", "v1", "daemonsets", True),
    Kind("ReplicaSet", "apps", "v1", "replicasets", True),
    Kind("EndpointSlice", "discovery.k8s.io", "v1", "endpointslices", True),
    Kind("Ingress", "networking.k8s.io", "v1", "ingresses", True),
    Kind("NetworkPolicy", "networking.k8s.io", "v1", "networkpolicies", True),
    Kind("Job", "batch", "v1", "jobs", True),
    Kind("CronJob", "batch", "v1", "cronjobs", True),
    Kind("Role", RBAC, "v1", "roles", True),
    Kind("RoleBinding", RBAC, "v1", "rolebindings", True),
)
BY_KIND: dict[str, Kind] = {k.kind: k for k in KINDS}
BY_TYPE: dict[str, Kind] = {k.type: k for k in KINDS}
CLUSTER_KINDS = tuple(k for k in KINDS if not k.namespaced)
NAMESPACED_KINDS = tuple(k for k in KINDS if k.namespaced)
# EndpointSlices are folded into their Service (its ready endpoint count), not stored alone.
FOLDED = frozenset({"EndpointSlice"})


def api_version(kind: Kind) -> str:
    """The `apiVersion` a manifest of this kind carries (`apps/v1`, `v1`)."""
    return f"{kind.group}/{kind.version}" if kind.group else kind.version


def owns_type(pattern: str) -> bool:
    """The kinds above are Kubernetes' (a type, or a glob pattern over them)."""
    p = pattern.lower()
    return any(fnmatch.fnmatchcase(k.type.lower(), p) for k in KINDS)
