"""`driftscan demo` end to end: every seeded incident is found by the right rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import driftscan.cli  # noqa: F401 - registers every command
from driftscan.clikit import app
from driftscan.sandbox.demo import run_demo


@pytest.mark.slow
def test_demo_finds_every_seeded_incident(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each incident from the design's introduction is found by its rule; the dead host is not assessed."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/driftscan-tests/config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/driftscan-tests/credentials")
    result = run_demo(tmp_path / "demo", tmp_path / "out")
    missed = [inc for inc, reason in result.found if reason is None]
    assert not missed, missed
    assert len(result.found) == 12
    second = result.second
    assert second.scan.record.status == "incomplete" and second.exit_code == 3
    [dead] = [s for r in second.scan.runs for s in r.slices if s.status == "failed"]
    assert dead.name == "web-03" and dead.reason == "unreachable"
    # The manual change between the runs shows in the resource's history.
    sql = next(inc.resource for inc, _ in result.found if inc.rule == "drift_changed_in_scope")
    res = CliRunner().invoke(app, ["history", sql, "-c", str(result.config), "--format", "json"])
    assert res.exit_code == 0, res.output
    changes = json.loads(res.stdout)["versions"][-1]["changes"]
    assert {"path": "attrs.properties.minimalTlsVersion", "old": "1.2", "new": "1.0"} in changes
    assert second.report is not None
    names = set(second.report.artifacts)
    assert {"report.html", "report.pdf", "report.json"} <= names and any(
        n.endswith(".csv") for n in names
    )
    html = second.report.artifacts["report.html"].read_text()
    assert "acme-eu-customers" in html and "web-03" in html
