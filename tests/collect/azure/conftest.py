"""Fixtures for the Azure collector tests: one HTTPS ARM emulator, reset before every test."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from driftscan.providers.azure import AzureSource
from driftscan.sandbox.arm import ArmEmulator, demo_estate

PAGE_SIZE = 4  # the prod subscription's 16 resources span four pages


@pytest.fixture(scope="session")
def arm_server() -> Iterator[ArmEmulator]:
    with ArmEmulator(demo_estate(), page_size=PAGE_SIZE) as emulator:
        yield emulator


@pytest.fixture
def arm(arm_server: ArmEmulator, monkeypatch: pytest.MonkeyPatch) -> ArmEmulator:
    arm_server.clear()
    arm_server.page_size = PAGE_SIZE
    arm_server.latency_s = 0.0
    arm_server.ratelimit_remaining = None
    # Small backoff and timeouts keep fault tests fast; Retry-After is still honoured as sent.
    monkeypatch.setenv("AZURE_ACCESS_TOKEN", arm_server.token)
    monkeypatch.setenv("DRIFTSCAN_AZURE_BACKOFF_S", "0.01")
    monkeypatch.setenv("DRIFTSCAN_AZURE_BACKOFF_MAX_S", "0.05")
    monkeypatch.setenv("DRIFTSCAN_AZURE_CONNECT_TIMEOUT_S", "2")
    monkeypatch.setenv("DRIFTSCAN_AZURE_READ_TIMEOUT_S", "5")
    monkeypatch.setenv("DRIFTSCAN_AZURE_PACE_S", "0.02")
    return arm_server


@pytest.fixture
def source(arm: ArmEmulator) -> Callable[..., AzureSource]:
    def make(**kw: Any) -> AzureSource:
        values: dict[str, Any] = {
            "name": "azure-test",
            "type": "azure",
            "subscriptions": ["all"],
            "credential": "token_env",
            "endpoint": arm.url,
            "ca_bundle": arm.ca_path,
        }
        values.update(kw)
        return AzureSource(**values)

    return make


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
