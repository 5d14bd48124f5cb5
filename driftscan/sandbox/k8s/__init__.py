"""The Kubernetes sandbox: an HTTPS API server emulator and the clusters it serves."""

from driftscan.sandbox.k8s.emulator import DEMO_CLUSTER, DEMO_TOKEN, SERVED, Fault, KubeEmulator
from driftscan.sandbox.k8s.estate import (
    DENIED_NAMESPACE,
    PCI_NAMESPACE,
    SECRET_CANARY,
    ClusterIncident,
    demo_cluster,
    demo_manifests,
    large_cluster,
    write_manifests,
)

__all__ = [
    "DEMO_CLUSTER",
    "DEMO_TOKEN",
    "DENIED_NAMESPACE",
    "PCI_NAMESPACE",
    "SECRET_CANARY",
    "SERVED",
    "ClusterIncident",
    "Fault",
    "KubeEmulator",
    "demo_cluster",
    "demo_manifests",
    "large_cluster",
    "write_manifests",
]
