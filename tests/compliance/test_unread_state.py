"""A declared state that could not be read (one bad file of a glob) leaves the drift rules not
assessed in `check`, naming the file: the gap never reads as clean (issue 22 item 5)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from driftscan.cli import app
from driftscan.store import Store
from tests.conftest import make_resources, make_run, write
from tests.desired.test_terraform_inputs import TestGlobs


def _project(tmp_path: Path, pattern: str) -> Path:
    TestGlobs()._estate(tmp_path)
    with Store(tmp_path / "store.duckdb") as st:
        write(st, [make_run(make_resources(3))])
    cfg = tmp_path / "driftscan.yaml"
    cfg.write_text(f"store: store.duckdb\ndesired:\n  - terraform: '{pattern}'\n")
    return cfg


def _check(cfg: Path) -> tuple[int, list[dict[str, str]]]:
    res = CliRunner().invoke(app, ["check", "-c", str(cfg), "--format", "json"])
    return res.exit_code, json.loads(res.stdout)["findings"]


def test_drift_rules_are_not_assessed_when_a_state_was_not_read(tmp_path: Path) -> None:
    cfg = _project(tmp_path, "*/terraform.tfstate")
    code, findings = _check(cfg)
    assert code == 3
    gaps = [f for f in findings if f["resource"].startswith("desired:")]
    rules = {f["rule"] for f in gaps}
    assert {"drift_declared_missing", "drift_changed_in_scope", "drift_unmanaged_in_scope"} <= rules
    assert all(f["status"] == "not_assessed" for f in gaps)
    assert all("broken/terraform.tfstate" in f["resource"] and "could not be read" in f["reason"]
               for f in gaps)  # fmt: skip
    # Rules that do not read the drift views are not touched by it.
    assert not any(f["rule"] == "pci_storage_encrypted" for f in gaps)


def test_every_state_read_leaves_no_gap(tmp_path: Path) -> None:
    cfg = _project(tmp_path, "?/terraform.tfstate")  # a/ and b/, not broken/
    code, findings = _check(cfg)
    assert not any(f["resource"].startswith("desired:") for f in findings)
    assert code != 2
