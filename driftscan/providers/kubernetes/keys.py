"""Kubernetes identity (design §6.2): `k8s://<source>/<namespace>/<Kind>/<name>`.

Cluster-scoped objects have the namespace `_cluster`. The type is the API group and kind
(`apps/Deployment`, `Pod`), account the source and region the cluster's name. A namespaced
object's name is `<namespace>/<name>`, so a declaration by type and name is never ambiguous
across namespaces.
"""

from __future__ import annotations

from driftscan.providers import Identity
from driftscan.providers.kubernetes.kinds import BY_KIND

PREFIX = "k8s://"
CLUSTER = "_cluster"
PROVIDER = "kubernetes"


def key(source: str, namespace: str | None, kind: str, name: str) -> str:
    """The key of one object."""
    return f"{PREFIX}{source}/{namespace or CLUSTER}/{kind}/{name}"


def namespace_prefix(source: str, namespace: str | None) -> str:
    """A slice key pattern covering every object of one namespace (or of the cluster scope)."""
    return f"{PREFIX}{source}/{namespace or CLUSTER}/*"


def display_name(namespace: str | None, name: str) -> str:
    """The resource name: `<namespace>/<name>`, or the bare name of a cluster-scoped object."""
    return f"{namespace}/{name}" if namespace else name


def type_of(kind: str) -> str:
    """The type of a kind the collector reads; an unknown kind stands for itself."""
    k = BY_KIND.get(kind)
    return k.type if k is not None else kind


def identify(k: str) -> Identity | None:
    """What a `k8s://` key says; None for other keys."""
    if not k.startswith(PREFIX):
        return None
    parts = k[len(PREFIX) :].split("/", 3)
    if len(parts) != 4 or not all(parts):
        return Identity(k, PROVIDER)
    source, namespace, kind, name = parts
    ns = None if namespace == CLUSTER else namespace
    return Identity(k, PROVIDER, source, None, type_of(kind), display_name(ns, name))


def split(k: str) -> tuple[str, str | None, str, str] | None:
    """(source, namespace or None, Kind, name) of a key; None when it is not one."""
    if not k.startswith(PREFIX):
        return None
    parts = k[len(PREFIX) :].split("/", 3)
    if len(parts) != 4 or not all(parts):
        return None
    source, namespace, kind, name = parts
    return source, None if namespace == CLUSTER else namespace, kind, name
