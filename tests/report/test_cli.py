"""`report`, `verify-report` and `keygen` on the command line: what they say, and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import driftscan.cli  # noqa: F401 - registers every command
from driftscan.clikit import app
from driftscan.store import Store
from tests.conftest import make_resources, make_run, write

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A store holding one scan."""
    path = tmp_path / "s.duckdb"
    with Store(path) as st:
        write(st, [make_run(make_resources(3))])
    return path


def _report(store: Path, out: Path, *extra: str) -> tuple[Path, str]:
    res = runner.invoke(
        app, ["report", "--store", str(store), "-c", str(store.parent / "none.yaml"),
              "-f", "json", "--out", str(out), *extra],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    return Path(res.stdout.strip().splitlines()[0]), res.stderr


@pytest.fixture
def signed(store: Path, tmp_path: Path) -> Iterator[tuple[Path, Path, str]]:
    """A report signed with a key made by `driftscan keygen`: (report folder, public key, key id)."""
    res = runner.invoke(app, ["keygen", "--out", str(tmp_path / "signing.pem")])
    assert res.exit_code == 0, res.output
    key_id = res.stderr.split("key id ")[1].split(";")[0]
    cfg = tmp_path / "driftscan.yaml"
    cfg.write_text(f"store: {store}\nreports: {{signing_key: signing.pem, formats: [json]}}\n")
    res = runner.invoke(app, ["report", "-c", str(cfg), "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert f"(signed by {key_id})" in res.stderr
    yield Path(res.stdout.strip().splitlines()[0]), tmp_path / "signing.pub.pem", key_id


def test_verify_report_says_which_key_signed_it(signed: tuple[Path, Path, str]) -> None:
    """An intact signed report verifies "signed by <key id>", the folder and its reports root."""
    folder, pub, key_id = signed
    for path in (folder, folder.parent):
        res = runner.invoke(app, ["verify-report", str(path), "--key", str(pub)])
        assert res.exit_code == 0, res.output
        assert res.stdout.startswith(f"ok: {path}") and f"signed by {key_id}" in res.stdout


def test_verify_report_json_carries_the_signer(signed: tuple[Path, Path, str]) -> None:
    """`verify-report --json` carries the signing key's id, per report and overall."""
    folder, _, key_id = signed
    res = runner.invoke(app, ["verify-report", str(folder), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["ok"] is True and doc["signed_by"] == key_id
    assert doc["reports"] == [
        {"folder": folder.name, "signed_by": key_id, "public_key_sha256": key_id}
    ]


def test_verify_report_says_unsigned(store: Path, tmp_path: Path) -> None:
    """An unsigned report verifies, saying "unsigned" in words and `signed_by: null` in JSON."""
    folder, err = _report(store, tmp_path / "out")
    assert "(unsigned)" in err
    res = runner.invoke(app, ["verify-report", str(folder)])
    assert res.exit_code == 0 and res.stdout == f"ok: {folder}, unsigned\n"
    res = runner.invoke(app, ["verify-report", str(folder), "--json"])
    assert json.loads(res.stdout)["signed_by"] is None


def test_a_broken_signed_report_only_claims_its_signer(signed: tuple[Path, Path, str]) -> None:
    """A report whose files were altered is BROKEN and its key is what the manifest claims."""
    folder, _, key_id = signed
    (folder / "report.json").write_text("{}")
    res = runner.invoke(app, ["verify-report", str(folder)])
    assert res.exit_code == 1
    assert res.stdout.startswith("BROKEN") and f"claims to be signed by {key_id}" in res.stdout


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "not a report folder (no manifest.json) nor a reports folder"),
        (lambda p: p.write_text("x"), "not a directory"),
        (lambda p: None, "no such folder"),
    ],
)
def test_verify_report_on_what_is_not_a_report_is_a_usage_error(
    tmp_path: Path, make: object, message: str
) -> None:
    """A folder without a manifest or ledger, a file or nothing: exit 2 with why, not BROKEN."""
    path = tmp_path / "not-a-report"
    make(path)  # type: ignore[operator]
    res = runner.invoke(app, ["verify-report", str(path)])
    assert res.exit_code == 2, res.output
    assert f"{path}: {message}" in res.output and "BROKEN" not in res.output


def test_a_report_whose_manifest_was_removed_is_broken_not_a_usage_error(
    store: Path, tmp_path: Path
) -> None:
    """A folder the reports ledger records stays a report when its manifest is deleted."""
    folder, _ = _report(store, tmp_path / "out")
    (folder / "manifest.json").unlink()
    res = runner.invoke(app, ["verify-report", str(folder)])
    assert res.exit_code == 1 and "manifest.json: missing" in res.stdout


def test_repairs_are_labelled_repaired(store: Path, tmp_path: Path) -> None:
    """What a killed earlier writer left, cleared up now, is printed as "repaired:"."""
    out = tmp_path / "out"
    (out / ".tmp-scan-000001-x").mkdir(parents=True)
    _, err = _report(store, out)
    assert "repaired: removed .tmp-scan-000001-x" in err


def test_a_format_not_written_is_said_once_and_labelled(store: Path, tmp_path: Path) -> None:
    """A format that cannot run here is one "not written: <format>: why" line on stderr, not
    also Python's unlabelled warning; the manifest line stays whole when piped."""
    site = tmp_path / "site"
    info = site / "nope-0.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: nope\nVersion: 0.0\n")
    (info / "entry_points.txt").write_text(
        "[driftscan.renderers]\nnope = tests.report.unavailable_renderer:NOPE\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(REPO)])
    res = subprocess.run(
        [sys.executable, "-m", "driftscan", "report", "--store", str(store),
         "-c", str(tmp_path / "none.yaml"), "-f", "json,nope", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    said = [line for line in res.stderr.splitlines() if "not written" in line]
    assert said == ["not written: nope: libnope is not installed (apt install libnope)"]
    assert any(
        line.startswith("  manifest.json sha256 ") and len(line.split()[2]) == 64
        for line in res.stderr.splitlines()
    ), res.stderr
