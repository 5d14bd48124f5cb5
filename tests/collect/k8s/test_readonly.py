"""Read-only proof: only GETs leave the collector, and the shipped ClusterRole grants just `list`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from driftscan.providers.kubernetes import KubernetesSource
from driftscan.providers.kubernetes.collect.client import KubeClient, ReadOnlyViolation
from driftscan.providers.kubernetes.kinds import KINDS
from driftscan.sandbox.k8s import KubeEmulator
from tests.collect.k8s.conftest import collect

RBAC = Path(__file__).resolve().parents[3] / "docs" / "kubernetes-rbac.yaml"


def test_every_request_is_a_get(
    kube: KubeEmulator, source: Callable[..., KubernetesSource]
) -> None:
    """A hook below the client sees every request of a scan: all GETs (the fixture checks the server)."""
    seen: list[tuple[str, str]] = []
    collect(source(), on_request=lambda m, u: seen.append((m, u)))
    assert seen and {m for m, _ in seen} == {"GET"}


def test_a_write_is_refused_before_it_is_sent(
    kube: KubeEmulator, source: Callable[..., KubernetesSource]
) -> None:
    """Even code that asks the official client for a DELETE gets ReadOnlyViolation; the server sees nothing."""
    client = KubeClient(source())
    try:
        with pytest.raises(ReadOnlyViolation):
            client.api.call_api(
                "/api/v1/namespaces/payments/pods/x", "DELETE", auth_settings=["BearerToken"]
            )
    finally:
        client.close()
    assert kube.requests == []


def test_the_cluster_role_lists_exactly_what_is_read() -> None:
    """docs/kubernetes-rbac.yaml grants `list` on exactly the collector's kinds, nothing else."""
    doc = yaml.safe_load(RBAC.read_text())
    assert doc["kind"] == "ClusterRole"
    granted = set()
    for rule in doc["rules"]:
        assert rule["verbs"] == ["list"]
        granted |= {(g, r) for g in rule["apiGroups"] for r in rule["resources"]}
    assert granted == {(k.group, k.plural) for k in KINDS}
