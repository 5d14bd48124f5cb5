"""`driftscan diff` as a terminal table at 80 columns, and `--kind` in every format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import driftscan.cli  # noqa: F401 - registers every command
from driftscan.clikit import app
from driftscan.model import Resource
from driftscan.store import Store
from tests.conftest import make_run, write

ACCOUNT = "111122223333"
CHANGED = "arn:aws:s3:::acme-payments-cardholder-data-eu-west-1-archive-bucket-000000000001"
UNMANAGED = "arn:aws:s3:::acme-payments-cardholder-data-us-east-1-forgotten-bucket-0000002"
MISSING = "arn:aws:s3:::acme-payments-cardholder-data-eu-west-1-declared-bucket-00000003"
runner = CliRunner(env={"COLUMNS": "80"})


def bucket(key: str, region: str, **attrs: object) -> Resource:
    return Resource(key=key, provider="aws", source="aws-test", account=ACCOUNT, region=region,
                    type="AWS::S3::Bucket", name=key.rsplit(":", 1)[-1], attrs=attrs)  # fmt: skip


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    """One changed bucket (a declared attribute it lacks), one unmanaged, one missing."""
    (tmp_path / "desired.yaml").write_text(yaml.safe_dump({"resources": [
        {"key": CHANGED, "versioning": "Enabled", "logging": "s3://acme-logs"},
        {"key": MISSING, "versioning": "Enabled"},
    ]}))  # fmt: skip
    with Store(tmp_path / "store.duckdb") as st:
        write(st, [make_run([bucket(CHANGED, "eu-west-1", versioning="Suspended"),
                             bucket(UNMANAGED, "us-east-1")])])  # fmt: skip
    path = tmp_path / "driftscan.yaml"
    path.write_text(
        yaml.safe_dump({"store": "store.duckdb", "desired": [{"path": "desired.yaml"}]})
    )
    return path


def diff(cfg: Path, *args: str) -> tuple[int, str]:
    res = runner.invoke(app, ["diff", "-c", str(cfg), *args])
    return res.exit_code, res.stdout


def cells(out: str, column: int) -> list[str]:
    """The non-empty text of one column of the table, line by line."""
    rows = [line.split("│")[1:-1] for line in out.splitlines() if line.startswith("│")]
    return [r[column].strip() for r in rows if r[column].strip()]


class TestTable:
    def test_fits_80_columns_and_shortens_keys_in_the_middle(self, cfg: Path) -> None:
        """No line over 80; every long ARN shortened in the middle on one line, whole in JSON."""
        code, out = diff(cfg, "--format", "table")
        assert code == 1
        lines = out.splitlines()
        assert max(len(line) for line in lines) <= 80
        for key in (CHANGED, UNMANAGED, MISSING):
            assert key not in out
            assert any(key[:16] in line and "…" in line and key[-8:] in line for line in lines)
        doc = json.loads(diff(cfg, "--format", "json")[1])
        assert {c["resource"] for c in doc["changes"]} == {CHANGED, UNMANAGED, MISSING}

    def test_a_declared_attribute_the_resource_lacks_reads_absent(self, cfg: Path) -> None:
        """The table says (absent) for a declared attribute the live resource lacks; JSON null."""
        _, out = diff(cfg, "--format", "table")
        changes = " ".join(cells(out, 2))
        assert "s3://acme-logs → (absent)" in changes and "Enabled → Suspended" in changes
        doc = json.loads(diff(cfg, "--format", "json")[1])
        changed = next(c for c in doc["changes"] if c["kind"] == "changed")
        assert {"path": "logging", "desired": "s3://acme-logs", "actual": None} in changed[
            "changes"
        ]


class TestKind:
    @pytest.mark.parametrize("kind", ["missing", "unmanaged", "changed"])
    def test_filters_every_format_and_exit_counts_all(self, cfg: Path, kind: str) -> None:
        """--kind lists only that kind in JSON, CSV and the table; the exit code still counts all."""
        code, out = diff(cfg, "--kind", kind, "--format", "json")
        assert code == 1 and {c["kind"] for c in json.loads(out)["changes"]} == {kind}
        code, out = diff(cfg, "--kind", kind, "--format", "csv")
        assert code == 1 and {line.split(",")[0] for line in out.splitlines()[1:]} == {kind}
        code, out = diff(cfg, "--kind", kind, "--format", "table")
        assert code == 1 and set(cells(out, 0)) == {kind}

    def test_exit_code_is_from_all_drift_even_when_none_is_listed(self, tmp_path: Path) -> None:
        """Only a changed bucket: --kind missing lists nothing and still exits 1 (drift exists)."""
        (tmp_path / "desired.yaml").write_text(
            yaml.safe_dump({"resources": [{"key": CHANGED, "versioning": "Enabled"}]})
        )
        with Store(tmp_path / "store.duckdb") as st:
            write(st, [make_run([bucket(CHANGED, "eu-west-1", versioning="Off")])])
        path = tmp_path / "driftscan.yaml"
        path.write_text(
            yaml.safe_dump({"store": "store.duckdb", "desired": [{"path": "desired.yaml"}]})
        )
        code, out = diff(path, "--kind", "missing", "--format", "json")
        assert code == 1 and json.loads(out)["changes"] == []

    def test_unknown_kind_is_a_usage_error_naming_the_choices(self, cfg: Path) -> None:
        """An unknown --kind exits 2 and names missing, unmanaged and changed."""
        res = runner.invoke(app, ["diff", "-c", str(cfg), "--kind", "gone"])
        msg = " ".join(res.output.split())
        assert res.exit_code == 2 and "missing, unmanaged or changed" in msg
        res = runner.invoke(app, ["diff", "-c", str(cfg), "--against", "1", "--kind", "missing"])
        assert res.exit_code == 2 and "appeared, disappeared or changed" in " ".join(
            res.output.split()
        )
