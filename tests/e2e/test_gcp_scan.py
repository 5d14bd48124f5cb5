"""`driftscan` against the Cloud Asset Inventory emulator through the CLI: the stored keys and types,
the PHI bucket's residency alarm, the 403 project not assessed (exit 3)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import Result

from driftscan.sandbox.gcp import (
    BAA_REGIONS,
    DEMO_TOKEN,
    DENIED,
    ORGANIZATION,
    PHI_BUCKET,
    PHI_REGION,
    AssetEmulator,
    demo_estate,
    serve,
)

SOURCE = "gcp-sandbox"
PHI_KEY = f"//storage.googleapis.com/projects/_/buckets/{PHI_BUCKET}"


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AssetEmulator]:
    with serve(max_page=7, ca_dir=tmp_path_factory.mktemp("gcp-ca")) as emu:
        yield emu
        assert emu.writes() == []


@pytest.fixture
def project(
    org: AssetEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Path]:
    """A driftscan.yaml scanning the emulator's organisation with a bearer token from the
    environment, the BAA regions as the residency of `phi`."""
    monkeypatch.setenv("GCP_ACCESS_TOKEN", DEMO_TOKEN)

    def make(scope: str = f"organizations/{ORGANIZATION}", **extra: Any) -> Path:
        doc: dict[str, Any] = {
            "store": str(tmp_path / "gcp.duckdb"),
            "sources": [{"name": SOURCE, "type": "gcp", "scope": scope,
                         "credential": "token_env", "endpoint": org.url, "ca_bundle": org.ca_path}],
            "params": {"classification_tag": "data_class", "residency": {"phi": BAA_REGIONS}},
            "scopes": {"pci": {"projects": ["acme-payments"]}},
            "reports": {"dir": str(tmp_path / "reports"), "formats": ["json"]},
            **extra,
        }  # fmt: skip
        cfg = tmp_path / "driftscan.yaml"
        cfg.write_text(yaml.safe_dump(doc))
        return cfg

    return make


def test_scan_stores_keys_and_types_and_raises_the_phi_alarm(
    cli: Callable[..., Result], project: Callable[..., Path]
) -> None:
    """The scan stores every readable asset under its full resource name and asset type, is
    incomplete (exit 3) for the denied project, and check alarms on the PHI bucket naming its
    region and the allowed list."""
    cfg = project()
    scan = cli("scan", "-c", str(cfg))
    assert scan.exit_code == 3, scan.output

    rows = cli("query", "-c", str(cfg), "--format", "json",
               "SELECT key, type, account, region FROM resources ORDER BY key")  # fmt: skip
    assert rows.exit_code == 0, rows.output
    stored = {r["key"]: r for r in json.loads(rows.stdout)}
    expected = {a["name"]: a for a in demo_estate().assets if a["_project"] != DENIED}
    assert set(stored) == set(expected)
    for key, a in expected.items():
        assert (stored[key]["type"], stored[key]["account"]) == (a["assetType"], a["_project"])
    assert stored[PHI_KEY]["region"] == PHI_REGION

    res = cli("check", "-c", str(cfg), "--format", "json")
    assert res.exit_code == 3, res.output
    found = {(f["rule"], f["resource"]): f for f in json.loads(res.stdout)["findings"]}
    phi = found[("data_residency_region", PHI_KEY)]
    assert phi["status"] == "alarm"
    assert PHI_REGION in phi["reason"] and all(r in phi["reason"] for r in BAA_REGIONS)
    cov = {r: f for (rule, r), f in found.items() if rule == "coverage_slice_not_assessed"}
    assert cov[f"{SOURCE}/projects/{DENIED}"]["status"] == "not_assessed"
    assert "denied" in cov[f"{SOURCE}/projects/{DENIED}"]["reason"]
    assert [r for r, f in cov.items() if f["status"] != "ok"] == [f"{SOURCE}/projects/{DENIED}"]


def test_the_denied_project_shows_in_the_ledger(
    cli: Callable[..., Result], project: Callable[..., Path]
) -> None:
    """`driftscans`' coverage names the one project that answered 403; the others were read."""
    cfg = project()
    assert cli("scan", "-c", str(cfg)).exit_code == 3
    rows = cli("query", "-c", str(cfg), "--format", "json",
               "SELECT name, status, reason FROM slices ORDER BY name")  # fmt: skip
    slices = {r["name"]: (r["status"], r["reason"]) for r in json.loads(rows.stdout)}
    assert slices == {
        "projects/acme-health": ("ok", None),
        "projects/acme-payments": ("ok", None),
        "projects/acme-sandbox": ("ok", None),
        f"projects/{DENIED}": ("failed", "denied"),
    }


def test_a_scope_of_one_readable_project_is_complete(
    cli: Callable[..., Result], project: Callable[..., Path]
) -> None:
    """Scanning a readable project alone is complete: exit 0 from scan."""
    scan = cli("scan", "-c", str(project(scope="projects/acme-health")))
    assert scan.exit_code == 0, scan.output
