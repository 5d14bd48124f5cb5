"""The GCP collector is read-only and needs exactly the permissions docs/gcp-role.yaml grants."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import yaml

from driftscan.providers.gcp import GcpSource
from driftscan.providers.gcp.collect.client import PERMISSIONS
from driftscan.sandbox.gcp import AssetEmulator
from tests.collect.gcp.conftest import collect

ROLE = Path(__file__).resolve().parents[3] / "docs" / "gcp-role.yaml"


def _snake(rest_method: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", rest_method).lower()


def test_role_file_lists_exactly_the_permissions_the_collector_uses() -> None:
    """The custom role's permissions are the collector's, no more and no fewer."""
    role = yaml.safe_load(ROLE.read_text())
    assert sorted(role["includedPermissions"]) == sorted(set(PERMISSIONS.values()))
    assert all(p.startswith("cloudasset.assets.search") for p in role["includedPermissions"])


def test_a_scan_calls_only_methods_the_role_allows(
    gcp: AssetEmulator, source: Callable[..., GcpSource]
) -> None:
    """Every request of an organisation scan is a GET of a method with a permission in the
    role; none is a write (the emulator's trap stays empty)."""
    collect(source())
    called = {
        _snake(m.group(1))
        for _, target in gcp.requests
        if (m := re.search(r":(\w+)\?", target)) is not None
    }
    assert called == set(PERMISSIONS)
    assert {method for method, _ in gcp.requests} == {"GET"}
    assert gcp.writes() == []
