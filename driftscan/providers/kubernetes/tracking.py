"""Which undeclared cluster objects are unmanaged drift, as Argo CD tracks them (issue 17).

Only the declared namespaces are tracked (and the cluster scope only where a manifest declares
a cluster-scoped object); within them, an object another one owns (a Deployment's ReplicaSets
and Pods, a Service's EndpointSlices) or that Kubernetes makes by itself (each namespace's
`default` ServiceAccount and `kube-root-ca.crt` ConfigMap) belongs to that owner, not to git.
"""

from __future__ import annotations

from typing import Any

from driftscan.providers.kubernetes.keys import PREFIX

# Made by the control plane in every namespace: never in a manifest, never drift.
_BUILT_IN = {("ServiceAccount", "default"), ("ConfigMap", "kube-root-ca.crt")}
_SERVICE_ACCOUNT_TOKEN = "kubernetes.io/service-account-token"


def _scope(key: str) -> tuple[str, str, str, str] | None:
    """(source, namespace, kind, name) of a key, or None for a key that is not ours."""
    if not key.startswith(PREFIX):
        return None
    parts = key[len(PREFIX) :].split("/", 3)
    return (parts[0], parts[1], parts[2], parts[3]) if len(parts) == 4 else None


def _owned(kind: str, name: str, attrs: dict[str, Any]) -> bool:
    meta = attrs.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    if meta.get("ownerReferences"):
        return True
    if (kind, name.rsplit("/", 1)[-1]) in _BUILT_IN:
        return True
    labels = meta.get("labels") if isinstance(meta.get("labels"), dict) else {}
    if kind == "EndpointSlice" and "kubernetes.io/service-name" in (labels or {}):
        return True
    return kind == "Secret" and attrs.get("type") == _SERVICE_ACCOUNT_TOKEN


def untracked(declared: list[str], live: list[tuple[str, str, dict[str, Any]]]) -> set[str]:
    """The undeclared live keys that are not unmanaged drift (see the module's docstring)."""
    tracked = {(s[0], s[1]) for s in map(_scope, declared) if s is not None}
    out: set[str] = set()
    for key, _type, attrs in live:
        s = _scope(key)
        if s is None:
            continue
        source, namespace, kind, name = s
        if (source, namespace) not in tracked or _owned(kind, name, attrs):
            out.add(key)
    return out
