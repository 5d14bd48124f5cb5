"""The Kubernetes provider: clusters read through the API server, objects keyed
`k8s://<source>/<namespace>/<Kind>/<name>` (design §6.2)."""

from __future__ import annotations

from driftscan.providers import Provider, ScopeDimension
from driftscan.providers.kubernetes.keys import identify
from driftscan.providers.kubernetes.kinds import owns_type
from driftscan.providers.kubernetes.source import KubernetesSource
from driftscan.providers.kubernetes.tracking import untracked
from driftscan.providers.kubernetes.units import narrow, units

PROVIDER = Provider(
    type="kubernetes",
    source_model=KubernetesSource,
    collector="driftscan.providers.kubernetes.collect:KubernetesCollector",
    extra="k8s",
    identify=identify,
    path_fields=("kubeconfig", "ca_bundle"),
    # `scopes: {pci: {namespaces: [payments]}}`; labels select as tags.
    scope_dimensions=(
        ScopeDimension("namespaces", (), attrs=("metadata.namespace",)),
        ScopeDimension("clusters", ("region",)),
    ),
    desired="driftscan.providers.kubernetes.manifests:load",
    redact_declared="driftscan.providers.kubernetes.normalise:redact_declared",
    untracked=untracked,
    sandbox="driftscan.sandbox.k8s:KubeEmulator",
    owns_type=owns_type,
    # A listed namespace is a shard unit, and so are the cluster-scoped objects.
    units=units,
    narrow=narrow,
    demo="driftscan.sandbox.k8s.demo:start",
)

__all__ = ["PROVIDER", "KubernetesSource"]
