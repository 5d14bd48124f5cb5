"""Fixtures for the GCP collector tests: one HTTPS Cloud Asset Inventory emulator, reset before each test."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from driftscan.collect.base import CollectContext
from driftscan.collect.limits import Limiter
from driftscan.model import SourceRun
from driftscan.providers.gcp import GcpSource
from driftscan.providers.gcp.collect import GcpCollector
from driftscan.sandbox.gcp import DEMO_TOKEN, DENIED, ORGANIZATION, AssetEmulator, serve

PAGE = 4  # the server returns at most this many results per page: every project spans pages
ORG = f"organizations/{ORGANIZATION}"


@pytest.fixture(scope="session")
def gcp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AssetEmulator]:
    with serve(max_page=PAGE, ca_dir=tmp_path_factory.mktemp("gcp-ca")) as emu:
        emu.seed = (copy.deepcopy(emu.assets), copy.deepcopy(emu.policies))  # type: ignore[attr-defined]
        yield emu


@pytest.fixture
def gcp(gcp_server: AssetEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[AssetEmulator]:
    """The emulator with its seed estate and its one denied project; writes fail the test."""
    gcp_server.clear()
    gcp_server.assets, gcp_server.policies = copy.deepcopy(gcp_server.seed)  # type: ignore[attr-defined]
    gcp_server.deny_project(DENIED)
    gcp_server.max_page = PAGE
    gcp_server.token = DEMO_TOKEN
    gcp_server.allow_anonymous = False
    monkeypatch.setenv("GCP_ACCESS_TOKEN", DEMO_TOKEN)
    monkeypatch.setenv("DRIFTSCAN_GCP_BACKOFF_S", "0.01")
    monkeypatch.setenv("DRIFTSCAN_GCP_BACKOFF_MAX_S", "0.05")
    yield gcp_server
    assert gcp_server.writes() == [], "the collector sent something other than a GET"


@pytest.fixture
def source(gcp: AssetEmulator) -> Callable[..., GcpSource]:
    def make(**kw: Any) -> GcpSource:
        values: dict[str, Any] = {
            "name": "gcp-test", "type": "gcp", "scope": ORG, "credential": "token_env",
            "endpoint": gcp.url, "ca_bundle": gcp.ca_path,
        }  # fmt: skip
        values.update(kw)
        return GcpSource(**values)

    return make


def collect(config: GcpSource, limiter: Limiter | None = None) -> SourceRun:
    """Run the collector into a fresh SourceRun with the tests' fixed fingerprint key."""
    from tests.conftest import TEST_FP

    run = SourceRun(config.name, "gcp")
    ctx = CollectContext(run, fingerprint=TEST_FP, limiter=limiter or Limiter())
    GcpCollector(config).collect(ctx)
    run.finish()
    return run
