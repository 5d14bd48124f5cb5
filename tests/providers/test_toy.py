"""A provider from outside driftscan, found through the entry-point group, works end to end."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import driftscan.cli  # noqa: F401 - registers every command
from driftscan import providers
from driftscan.clikit import app
from driftscan.config import load_config
from driftscan.errors import ConfigError
from tests.providers.toy_provider import PROVIDER, ToySource

runner = CliRunner()


def _install(site: Path) -> None:
    """What `pip install driftscan-toy` leaves on sys.path: a dist-info with its entry point."""
    info = site / "toy_driftscan-0.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-driftscan\nVersion: 0.0\n")
    (info / "entry_points.txt").write_text(
        "[driftscan.providers]\ntoy = tests.providers.toy_provider:PROVIDER\n"
    )


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The toy provider installed into a site folder on sys.path; the registry rediscovers."""
    site = tmp_path / "site"
    _install(site)
    monkeypatch.syspath_prepend(str(site))
    providers.reset()
    yield tmp_path
    providers.reset()


def _project(root: Path, *, sizes: dict[str, int]) -> Path:
    """A shelf inventory beside driftscan.yaml (a relative path field), declared state, a scope."""
    inventory = [{"name": n, "size": s} for n, s in sizes.items()]
    (root / "widgets.json").write_text(json.dumps(inventory))
    declared = {"provider": "toy", "type": "toy/widget", "name": "a", "size": 1}
    (root / "desired.yaml").write_text(yaml.safe_dump({"resources": [declared]}))
    cfg = root / "driftscan.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "store": "store.duckdb",
                "sources": [{"name": "shelf-1", "type": "toy", "inventory": "widgets.json"}],
                "desired": [{"path": "desired.yaml"}],
                "scopes": {"pci": {"shelves": ["shelf-1"]}},
            }
        )
    )
    return cfg


def test_the_entry_point_registers_the_provider(toy: Path) -> None:
    """The toy provider is discovered beside the built-ins, which register the same way."""
    reg = providers.registry()
    assert reg.names() == ("aws", "azure", "gcp", "kubernetes", "ssh", "toy")
    assert reg["toy"] is PROVIDER
    assert reg.identity("toy://a").type == "toy/widget"


def test_config_union_and_scopes_come_from_the_registry(toy: Path) -> None:
    """A `type: toy` source loads as the toy model, and `scopes:` accepts its dimension."""
    cfg = load_config(_project(toy, sizes={"a": 1}))
    assert isinstance(cfg.sources[0], ToySource)
    assert cfg.scopes["pci"].values("shelves") == ["shelf-1"]


def test_without_the_plugin_the_type_is_unknown(tmp_path: Path) -> None:
    """Without the toy package installed, `type: toy` is a config error naming the known types."""
    providers.reset()
    with pytest.raises(ConfigError) as exc:
        load_config(_project(tmp_path, sizes={"a": 1}))
    assert exc.value.key == "sources[0].type"
    assert exc.value.message == "unknown type; expected one of aws, azure, gcp, kubernetes, ssh"


def test_scan_diff_and_check_through_the_cli(toy: Path) -> None:
    """scan stores the toy widgets, diff reports the changed and the unmanaged one, check alarms."""
    cfg = str(_project(toy, sizes={"a": 5, "b": 2}))

    scan = runner.invoke(app, ["scan", "-c", cfg])
    assert scan.exit_code == 0, scan.output
    ran = json.loads(scan.stdout)
    assert (ran["scan"], ran["status"], ran["resources"]) == (1, "complete", 2)

    diff = runner.invoke(app, ["diff", "-c", cfg, "--format", "json"])
    assert diff.exit_code == 1, diff.output
    doc = json.loads(diff.stdout)
    assert doc["scan"] == 1
    assert [(c["resource"], c["provider"], c["kind"], c["changes"]) for c in doc["changes"]] == [
        ("toy://a", "toy", "changed", [{"path": "size", "desired": 1, "actual": 5}]),
        ("toy://b", "toy", "unmanaged", []),
    ]
    assert doc["changes"][0]["desired_source"] == "desired.yaml:2"

    check = runner.invoke(app, ["check", "-c", cfg, "--format", "json"])
    assert check.exit_code == 1, check.output
    found = {(f["rule"], f["resource"]): f["status"] for f in json.loads(check.stdout)["findings"]}
    # The scope's toy dimension put both widgets in `pci`: the drift rules judge them.
    assert found[("drift_changed_in_scope", "toy://a")] == "alarm"
    assert found[("drift_unmanaged_in_scope", "toy://b")] == "alarm"
    assert found[("coverage_slice_not_assessed", "shelf-1/shelf-1")] == "ok"


def test_a_missing_collector_names_the_extra(toy: Path) -> None:
    """A provider whose collector cannot be imported is exit 2 naming its pip extra."""
    broken = replace(PROVIDER, collector="driftscan_toy_absent:ToyCollector")
    providers.use([*(p for p in providers.registry() if p.type != "toy"), broken])
    cfg = str(_project(toy, sizes={"a": 1}))
    res = runner.invoke(app, ["scan", "-c", cfg])
    assert res.exit_code == 2
    assert "needs the 'toy' extra" in res.output


def test_a_broken_plugin_is_an_error_not_a_missing_provider(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry point that cannot be loaded is a ConfigError naming it, never a silent gap."""
    info = tmp_path / "broken_driftscan-0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-driftscan\nVersion: 0.0\n")
    (info / "entry_points.txt").write_text("[driftscan.providers]\nbroken = no_such_module:X\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    providers.reset()
    try:
        with pytest.raises(ConfigError, match=r"provider 'broken' .*cannot be loaded"):
            providers.registry()
    finally:
        monkeypatch.undo()
        providers.reset()
