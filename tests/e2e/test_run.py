"""`driftscan run`, the cron entry point: one locked run, JSON-lines log, metrics, exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

from driftscan.sandbox.aws import FaultProxy
from driftscan.store import Store


def test_run_logs_measures_and_reports(
    cli: Callable[..., Result], config_file: Callable[..., Path], tmp_path: Path
) -> None:
    """A run scans, checks and reports, logs JSON lines per stage and writes Prometheus metrics."""
    cfg = config_file(reports={"dir": str(tmp_path / "out"), "formats": ["json", "csv"]})
    log, metrics = tmp_path / "run.jsonl", tmp_path / "driftscan.prom"
    res = cli("run", "-c", str(cfg), "--log-file", str(log), "--metrics-file", str(metrics), "-q")
    # moto's credential report has no root row: the one control it cannot assess (exit 3).
    gaps = json.loads(cli("findings", "-c", str(cfg), "--status", "not_assessed", "--format",
                          "json").stdout)["findings"]  # fmt: skip
    assert {f["rule"] for f in gaps} == {"iam_root_not_used_recently"}
    assert res.exit_code == 3, res.output
    events = [json.loads(line) for line in log.read_text().splitlines()]
    names = [e["event"] for e in events]
    assert names[0] == "run.started" and names[-1] == "run.finished"
    assert {"scan.finished", "check.finished", "report.written"} <= set(names)
    assert events[-1]["exit_code"] == res.exit_code
    text = metrics.read_text()
    assert "driftscan_scan_complete 1" in text and "driftscan_coverage_ratio 1.0000" in text
    assert f"driftscan_exit_code {res.exit_code}" in text
    [manifest] = list((tmp_path / "out").rglob("manifest.json"))
    report = json.loads((manifest.parent / "report.json").read_text())
    assert "arn:aws:" in json.dumps(report), "the report does not say who the scan ran as"


def test_incomplete_run_exits_3_and_logs_the_gap(
    cli: Callable[..., Result], config_file: Callable[..., Path], faults: FaultProxy, tmp_path: Path
) -> None:
    """A denied service makes the run exit 3 and its log names the unread slices."""
    cfg = config_file(reports={"dir": str(tmp_path / "out"), "formats": ["json"]})
    faults.deny("lambda")
    log = tmp_path / "run.jsonl"
    res = cli("run", "-c", str(cfg), "--log-file", str(log), "-q")
    assert res.exit_code == 3, res.output
    events = [json.loads(line) for line in log.read_text().splitlines()]
    gaps = [g for e in events if e["event"] == "source.finished" for g in e["not_assessed"]]
    assert gaps and all(
        g["reason"] == "denied" and g["slice"].endswith(("/lambda", "/lambda-urls")) for g in gaps
    )


def test_second_run_exits_4_while_the_store_is_locked(
    cli: Callable[..., Result], config_file: Callable[..., Path], tmp_path: Path
) -> None:
    """While another run holds the store, `run` exits at once with code 4 and says why."""
    cfg = config_file()
    with Store(tmp_path / "driftscan.duckdb"):
        res = cli("run", "-c", str(cfg), "-q")
    assert res.exit_code == 4
    assert "lock" in res.output


def test_deleting_the_newest_reported_scan_is_caught(
    cli: Callable[..., Result], config_file: Callable[..., Path], tmp_path: Path
) -> None:
    """Deleting the newest reported scan is named by the heads file and by the reports' anchor."""
    cfg = config_file(reports={"dir": str(tmp_path / "out"), "formats": ["json"]})
    for _ in range(2):
        assert cli("run", "-c", str(cfg), "-q").exit_code in (0, 1, 3)  # 3: moto, no root row
    assert cli("verify", "-c", str(cfg)).exit_code == 0
    with Store(tmp_path / "driftscan.duckdb") as st:
        # A thorough deletion: the scan and everything stored for it, seals included.
        tables = [r[0] for r in st.con.execute(
            "select table_name from information_schema.columns where column_name = 'scan_id' "
            "and table_name in (select table_name from information_schema.tables where table_type = 'BASE TABLE')"
        ).fetchall()]  # fmt: skip
        for t in tables:
            st.con.execute(f"delete from {t} where scan_id = 2")
        # No link in the store points at scan 2 any more; the heads file beside it still does.
        assert any("scan 2 recorded in" in p for p in st.verify().problems)
    res = cli("verify", "-c", str(cfg))
    assert res.exit_code == 1
    assert "scan 2 was reported in" in res.stdout and "missing from the store" in res.stdout
