"""Kubernetes clusters through the official client: read-only, paginated list calls."""

from driftscan.providers.kubernetes.collect.collector import KubernetesCollector

__all__ = ["KubernetesCollector"]
