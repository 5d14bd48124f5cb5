"""Shard work units of a Kubernetes source: each listed namespace, and the cluster-scoped objects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from driftscan.providers import WorkUnit
from driftscan.providers.kubernetes import keys as K
from driftscan.providers.kubernetes.source import KubernetesSource


def units(source: Any) -> list[WorkUnit]:
    """One unit per listed namespace plus `_cluster` (the cluster-scoped kinds, read once).

    `namespaces: [all]` is one unit: the namespaces are known only by listing them, and a
    plan made from an API answer could differ between the workers (and the ingest) that
    each make it."""
    if not isinstance(source, KubernetesSource) or source.namespaces == ["all"]:
        return []
    cover: dict[str, Any] = {"account": source.name, "region": source.cluster}
    names = [K.CLUSTER, *dict.fromkeys(source.namespaces)]
    return [
        WorkUnit(
            ns, **cover, keys=(K.namespace_prefix(source.name, None if ns == K.CLUSTER else ns),)
        )
        for ns in names
    ]


def narrow(source: KubernetesSource, ids: Sequence[str]) -> KubernetesSource:
    """The source reading only the namespaces named, and the cluster-scoped objects only when
    `_cluster` is one of `ids` (so two shards never both read them)."""
    keep = set(ids)
    namespaces = [ns for ns in dict.fromkeys(source.namespaces) if ns in keep]
    # model_copy does not validate: an empty list means "no namespace" here, which a user's
    # config cannot say (it needs at least one entry).
    return source.model_copy(update={"namespaces": namespaces, "cluster_scoped": K.CLUSTER in keep})
