"""Fixtures for the Kubernetes collector tests: one HTTPS API emulator, reset before each test."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from driftscan.collect.base import CollectContext
from driftscan.model import SourceRun
from driftscan.providers.kubernetes import KubernetesSource
from driftscan.providers.kubernetes.collect import KubernetesCollector
from driftscan.sandbox.k8s import KubeEmulator, demo_cluster
from tests.conftest import TEST_FP

PAGE = 4  # the server returns at most this many items per page: every list spans pages


@pytest.fixture(scope="session")
def kube_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeEmulator]:
    objs, _ = demo_cluster()
    with KubeEmulator(objs, max_page=PAGE, ca_dir=tmp_path_factory.mktemp("kube-ca")) as kube:
        kube.seed = copy.deepcopy(kube.objects)  # type: ignore[attr-defined]
        yield kube


@pytest.fixture
def kube(kube_server: KubeEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[KubeEmulator]:
    """The emulator with its seed objects, no faults or denials; writes fail the test."""
    kube_server.clear()
    kube_server.objects = copy.deepcopy(kube_server.seed)  # type: ignore[attr-defined]
    kube_server.max_page = PAGE
    monkeypatch.setenv("DRIFTSCAN_K8S_BACKOFF_S", "0.01")
    monkeypatch.setenv("DRIFTSCAN_K8S_BACKOFF_MAX_S", "0.05")
    yield kube_server
    assert kube_server.writes() == [], "the collector sent something other than a GET"


@pytest.fixture
def kubeconfig(kube: KubeEmulator, tmp_path: Path) -> Path:
    return kube.kubeconfig(tmp_path / "kubeconfig")


@pytest.fixture
def source(kubeconfig: Path) -> Callable[..., KubernetesSource]:
    def make(**kw: Any) -> KubernetesSource:
        values: dict[str, Any] = {
            "name": "k8s-test",
            "type": "kubernetes",
            "kubeconfig": str(kubeconfig),
        }
        values.update(kw)
        return KubernetesSource(**values)

    return make


def collect(config: KubernetesSource, **kw: Any) -> SourceRun:
    """Run the collector into a fresh SourceRun with the tests' fixed fingerprint key."""
    run = SourceRun(config.name, "kubernetes")
    KubernetesCollector(config, **kw).collect(CollectContext(run, fingerprint=TEST_FP))
    run.finish()
    return run
