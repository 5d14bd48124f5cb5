"""Fixtures for the Azure collector tests: one HTTPS ARM emulator, reset before every test."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from driftscan.providers.azure import AzureSource
from driftscan.sandbox.arm import ArmEmulator, demo_estate, tenant_estate

PAGE_SIZE = 4  # the prod subscription's 16 resources span four pages
# Resource Graph's quota is enforced (the pacing tests lower it); this one is never reached.
TEST_QUOTA = (1000, 5.0)


@pytest.fixture(scope="session")
def arm_server() -> Iterator[ArmEmulator]:
    with ArmEmulator(demo_estate(), page_size=PAGE_SIZE, graph_quota=TEST_QUOTA) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def tenant_server() -> Iterator[ArmEmulator]:
    with ArmEmulator(tenant_estate(), page_size=PAGE_SIZE, graph_quota=TEST_QUOTA) as emulator:
        yield emulator


def _reset(emulator: ArmEmulator, monkeypatch: pytest.MonkeyPatch) -> ArmEmulator:
    emulator.set_graph_quota(TEST_QUOTA)
    emulator.clear()
    emulator.page_size = PAGE_SIZE
    emulator.latency_s = 0.0
    emulator.ratelimit_remaining = None
    # Small backoff and timeouts keep fault tests fast; Retry-After is still honoured as sent.
    monkeypatch.setenv("AZURE_ACCESS_TOKEN", emulator.token)
    monkeypatch.setenv("DRIFTSCAN_AZURE_BACKOFF_S", "0.01")
    monkeypatch.setenv("DRIFTSCAN_AZURE_BACKOFF_MAX_S", "0.05")
    monkeypatch.setenv("DRIFTSCAN_AZURE_CONNECT_TIMEOUT_S", "2")
    monkeypatch.setenv("DRIFTSCAN_AZURE_READ_TIMEOUT_S", "5")
    monkeypatch.setenv("DRIFTSCAN_AZURE_PACE_S", "0.02")
    return emulator


@pytest.fixture
def arm(arm_server: ArmEmulator, monkeypatch: pytest.MonkeyPatch) -> ArmEmulator:
    """The demo estate's emulator, reset."""
    return _reset(arm_server, monkeypatch)


@pytest.fixture
def tenant(tenant_server: ArmEmulator, monkeypatch: pytest.MonkeyPatch) -> ArmEmulator:
    """The whole tenant's emulator (management groups, every type, settings), reset."""
    return _reset(tenant_server, monkeypatch)


def make_source(emulator: ArmEmulator, **kw: Any) -> AzureSource:
    """An Azure source reading `emulator` with the test's bearer token."""
    values: dict[str, Any] = {
        "name": "azure-test",
        "type": "azure",
        "subscriptions": ["all"],
        "credential": "token_env",
        "endpoint": emulator.url,
        "ca_bundle": emulator.ca_path,
        "keyvault_domain": emulator.keyvault_domain,
    }
    values.update(kw)
    return AzureSource(**values)


@pytest.fixture
def source(arm: ArmEmulator) -> Callable[..., AzureSource]:
    def make(**kw: Any) -> AzureSource:
        return make_source(arm, **kw)

    return make


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
