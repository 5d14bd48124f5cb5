"""The API emulator speaks the API the official client expects: lists, pages, errors, the trap."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes import client, config

from driftscan.sandbox.k8s import KubeEmulator


def _api(kubeconfig: Path) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(kubeconfig))


def test_typed_client_pages_through_a_list(kube: KubeEmulator, kubeconfig: Path) -> None:
    """The generated CoreV1Api lists pods page by page with limit/continue and one resourceVersion."""
    core = client.CoreV1Api(_api(kubeconfig))
    names, token, versions = [], None, set()
    while True:
        page = core.list_namespaced_pod("payments", limit=3, _continue=token)
        names += [p.metadata.name for p in page.items]
        versions.add(page.metadata.resource_version)
        token = page.metadata._continue
        if not token:
            break
    seeded = sorted(k[2] for k in kube.objects if k[0] == "pods" and k[1] == "payments")
    assert sorted(names) == seeded and len(names) > 3
    assert len(versions) == 1


def test_stale_continue_token_is_gone(kube: KubeEmulator, kubeconfig: Path) -> None:
    """After a compaction an old continue token answers 410 Gone, as the API server does."""
    core = client.CoreV1Api(_api(kubeconfig))
    first = core.list_namespaced_pod("payments", limit=2)
    kube.compact()
    with pytest.raises(client.ApiException) as err:
        core.list_namespaced_pod("payments", limit=2, _continue=first.metadata._continue)
    assert err.value.status == 410


def test_denials_and_throttling(kube: KubeEmulator, kubeconfig: Path) -> None:
    """A denied namespace is 403, a namespaced reader cannot list cluster-wide, 429 has Retry-After."""
    core = client.CoreV1Api(_api(kubeconfig))
    kube.deny_namespace("restricted")
    with pytest.raises(client.ApiException) as err:
        core.list_namespaced_secret("restricted")
    assert err.value.status == 403
    assert core.list_namespaced_secret("payments").items
    kube.namespaced_reader = True
    with pytest.raises(client.ApiException) as err:
        core.list_secret_for_all_namespaces()
    assert err.value.status == 403
    kube.throttle("/nodes", retry_after=2)
    cfg = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=cfg)
    cfg.retries = 0  # urllib3 would otherwise wait out the Retry-After by itself
    with pytest.raises(client.ApiException) as err:
        client.CoreV1Api(client.ApiClient(cfg)).list_node()
    assert err.value.status == 429 and err.value.headers["Retry-After"] == "2"


def test_writes_are_refused_and_logged(kube: KubeEmulator, kubeconfig: Path) -> None:
    """A DELETE reaches the trap: refused, and logged for the tests' write check."""
    core = client.CoreV1Api(_api(kubeconfig))
    with pytest.raises(client.ApiException) as err:
        core.delete_namespaced_pod("api", "payments")
    assert err.value.status == 405
    assert [m for m, _ in kube.writes()] == ["DELETE"]
    kube.requests.clear()  # the fixture's own write check is for the collector


def test_wrong_token_is_unauthorized(kube: KubeEmulator, tmp_path: Path) -> None:
    """Only the emulator's bearer token is accepted."""
    core = client.CoreV1Api(_api(kube.kubeconfig(tmp_path / "bad", token="nope")))
    with pytest.raises(client.ApiException) as err:
        core.list_namespace()
    assert err.value.status == 401
