"""The Kubernetes provider: clusters read through the API server, objects keyed
`k8s://<source>/<namespace>/<Kind>/<name>` (design §6.2)."""

from __future__ import annotations

from driftscan.providers import Provider
from driftscan.providers.kubernetes.keys import identify
from driftscan.providers.kubernetes.source import KubernetesSource

PROVIDER = Provider(
    type="kubernetes",
    source_model=KubernetesSource,
    collector="driftscan.providers.kubernetes.collect:KubernetesCollector",
    extra="k8s",
    identify=identify,
    path_fields=("kubeconfig", "ca_bundle"),
    sandbox="driftscan.sandbox.k8s:KubeEmulator",
)

__all__ = ["PROVIDER", "KubernetesSource"]
