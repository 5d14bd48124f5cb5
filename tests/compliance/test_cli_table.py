"""check and findings as a terminal table at 80 columns: failing rows first, passing counted."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

import driftscan.cli  # noqa: F401  (registers the commands)
from driftscan.clikit import app
from driftscan.store import Store
from tests.compliance.conftest import ACCOUNT, aws, failed_slice, write_scan

LONG = "arn:aws:s3:::acme-payments-cardholder-data-eu-west-1-archive-bucket-000000000001"
runner = CliRunner(env={"COLUMNS": "80"})


def setup(tmp_path: Path) -> Path:
    """A pci-scoped public bucket with a long key (alarms), a clean one, and an unread slice."""
    cfg = tmp_path / "driftscan.yaml"
    cfg.write_text(yaml.safe_dump({"store": "store.duckdb",
                                   "scopes": {"pci": {"tags": {"pci": "true"}}}}))  # fmt: skip
    with Store(tmp_path / "store.duckdb") as st:
        write_scan(st, [
            aws("AWS::S3::Bucket", "pub", key=LONG, tags={"pci": "true"}, public=True, encrypted=False),
            aws("AWS::S3::Bucket", "fine", tags={"pci": "true"}, public=False, encrypted=True),
        ], failed=[failed_slice("aws-prod", "us", account=ACCOUNT, region="us-east-1")])  # fmt: skip
    return cfg


def run(*args: str) -> tuple[int, str]:
    res = runner.invoke(app, list(args))
    return res.exit_code, res.stdout


def rows(out: str) -> list[tuple[str, str]]:
    """(status, rule) of each table row: the lines whose first cell is a status."""
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in out.splitlines()]
    statuses = ("alarm", "error", "not_assessed", "ok", "skip")
    return [(c[0], c[1]) for c in cells if c and c[0] in statuses]


class TestCheckTable:
    def test_fits_80_columns_and_shortens_keys_in_the_middle(self, tmp_path: Path) -> None:
        """No line over 80; the long ARN is shortened in the middle on one line, whole in JSON."""
        cfg = setup(tmp_path)
        code, out = run("check", "-c", str(cfg), "--format", "table")
        assert code == 3
        lines = out.splitlines()
        assert max(len(line) for line in lines) <= 80
        assert LONG not in out
        assert any(LONG[:14] in line and "…" in line and LONG[-8:] in line for line in lines)
        doc = json.loads(run("check", "-c", str(cfg), "--format", "json")[1])
        assert LONG in {f["resource"] for f in doc["findings"]}

    def test_failing_first_by_severity_then_not_assessed_passing_counted(
        self, tmp_path: Path
    ) -> None:
        """The table lists alarms (critical first), then not assessed; ok is only counted."""
        cfg = setup(tmp_path)
        _, out = run("check", "-c", str(cfg), "--format", "table")
        listed = rows(out)
        statuses = [s for s, _ in listed]
        assert "ok" not in statuses and statuses == sorted(
            statuses, key=("alarm", "error", "not_assessed").index
        )
        assert listed[0] == ("alarm", "pci_storage_not_public")  # the critical one
        doc = json.loads(run("check", "-c", str(cfg), "--format", "json")[1])
        counts = {s: sum(f["status"] == s for f in doc["findings"]) for s in ("alarm", "ok")}
        summary = [line.split() for line in out.splitlines() if not line.startswith(("│", "┃"))]
        assert ["alarm", str(counts["alarm"])] in summary
        assert ["ok", str(counts["ok"]), "not", "listed;", "--all", "lists", "them"] in summary

    def test_all_adds_passing_rows_after_the_failing(self, tmp_path: Path) -> None:
        """--all lists ok rows too, after every failing and not-assessed row."""
        cfg = setup(tmp_path)
        _, out = run("check", "-c", str(cfg), "--format", "table", "--all")
        statuses = [s for s, _ in rows(out)]
        assert "ok" in statuses and statuses.index("ok") > max(
            i for i, s in enumerate(statuses) if s in ("alarm", "not_assessed")
        )
        assert max(len(line) for line in out.splitlines()) <= 80

    def test_json_and_csv_still_hold_every_finding(self, tmp_path: Path) -> None:
        """The table's selection never reaches JSON or CSV: every finding, §3.4 shape, same exit."""
        cfg = setup(tmp_path)
        code, out = run("check", "-c", str(cfg), "--format", "json")
        findings = json.loads(out)["findings"]
        assert code == 3 and {f["status"] for f in findings} >= {"ok", "alarm", "not_assessed"}
        code, out = run("check", "-c", str(cfg), "--format", "csv")
        assert code == 3 and len(out.splitlines()) == len(findings) + 1


class TestFindingsTable:
    def test_hides_passing_and_status_filter_lists_it(self, tmp_path: Path) -> None:
        """findings hides ok rows unless --all or --status ok asks for them; exit codes unchanged."""
        cfg = setup(tmp_path)
        run("check", "-c", str(cfg))
        code, out = run("findings", "-c", str(cfg), "--format", "table")
        assert code == 3 and "ok" not in {s for s, _ in rows(out)}
        assert max(len(line) for line in out.splitlines()) <= 80
        code, out = run("findings", "-c", str(cfg), "--format", "table", "--status", "ok")
        assert code == 3 and {s for s, _ in rows(out)} == {"ok"}  # 3: the scan is incomplete
        assert "alarm" not in out
        code, out = run("findings", "-c", str(cfg), "--format", "table", "--all")
        assert "ok" in {s for s, _ in rows(out)}


def test_rules_list_reads_at_80_columns(tmp_path: Path) -> None:
    """rules list as a table: every rule id whole (what --rule takes), its frameworks one per
    line as `framework: requirements`, no English word cut, no line past 80 columns."""
    cfg = setup(tmp_path)
    code, out = run("rules", "list", "-c", str(cfg), "--format", "table")
    assert code == 0
    assert max(len(line) for line in out.splitlines()) <= 80
    doc = json.loads(run("rules", "list", "-c", str(cfg), "--format", "json")[1])
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in out.splitlines()]
    first = {c[0] for c in cells if c}
    assert {r["id"] for r in doc["rules"]} <= first
    text = out.replace("│", " ")
    assert "pci-dss-4.0.1: 4.2.1, 4.2.1.1" in text and "soc2-2017-tsc: CC6.7" in text
    words = {w.strip(".,;()'") for r in doc["rules"] for w in r["title"].split()}
    shown = {w.strip(".,;()'") for c in cells if len(c) > 1 for w in c[1].split()}
    assert {w for w in words if w.isalpha() and len(w) <= 30} <= shown


def test_frameworks_show_counts_the_rest_in_the_right_number() -> None:
    """`+1 more rule`, `+2 more rules`: what frameworks show says of the rows it leaves out."""
    from driftscan.commands.frameworks import _some

    assert _some(["a", "b", "c"], "rules")[-1] == "+1 more rule"
    assert _some(["a", "b", "c", "d"], "resources")[-1] == "+2 more resources"
    assert _some(["a", "b"], "rules") == ["a", "b"]
