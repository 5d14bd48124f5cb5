"""The demo clears only what an earlier demo wrote; anyone else's reports stop it untouched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftscan.errors import ConfigError
from driftscan.sandbox.demo import DEMO_MARKER, clear_previous


def reports(root: Path, folders: list[str], *, marker: list[str] | None) -> None:
    root.mkdir(parents=True)
    lines = []
    for n, name in enumerate(folders, 1):
        (root / name).mkdir()
        (root / name / "report.html").write_text("<p>old</p>")
        lines.append(json.dumps({"folder": name, "scan": n, "manifest_sha256": "0" * 64}))
    (root / "ledger.jsonl").write_text("\n".join(lines) + "\n")
    if marker is not None:
        (root / DEMO_MARKER).write_text(json.dumps(marker))


def test_an_earlier_demos_reports_and_store_go(tmp_path: Path) -> None:
    work, out = tmp_path / "demo", tmp_path / "out"
    work.mkdir()
    (work / "driftscan.duckdb").write_text("old store")
    reports(out, ["scan-000001", "scan-000002"], marker=["scan-000001", "scan-000002"])
    (out / "notes.txt").write_text("mine")
    clear_previous(work, out)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert not (work / "driftscan.duckdb").exists()


def test_reports_the_demo_did_not_write_are_left_alone(tmp_path: Path) -> None:
    work, out = tmp_path / "demo", tmp_path / "out"
    work.mkdir()
    (work / "driftscan.duckdb").write_text("old store")
    reports(out, ["scan-000001", "scan-000007"], marker=["scan-000001"])
    with pytest.raises(ConfigError, match=r"did not write.*--out"):
        clear_previous(work, out)
    assert (out / "scan-000007" / "report.html").exists()
    assert (out / "scan-000001" / "report.html").exists()
    assert (work / "driftscan.duckdb").exists()


def test_a_demo_from_before_the_marker_is_recognised_by_its_summary(tmp_path: Path) -> None:
    work, out = tmp_path / "demo", tmp_path / "out"
    work.mkdir()
    reports(out, ["scan-000001", "scan-000002"], marker=None)
    (work / "summary.json").write_text(json.dumps({"report": str(out / "scan-000002")}))
    clear_previous(work, out)
    assert list(out.iterdir()) == []


def test_no_marker_and_no_summary_is_someone_elses(tmp_path: Path) -> None:
    work, out = tmp_path / "demo", tmp_path / "out"
    work.mkdir()
    reports(out, ["scan-000001"], marker=None)
    with pytest.raises(ConfigError):
        clear_previous(work, out)
    assert (out / "ledger.jsonl").exists()
