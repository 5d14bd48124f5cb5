"""Exit codes for mistakes and crashes (design §3.3): usage is 2, a bug is 70, never 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import driftscan.cli  # noqa: F401 - registers every command
from driftscan import pipeline
from driftscan.clikit import app
from driftscan.store import Store
from tests.conftest import make_resources, make_run, write


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    """A config whose store holds one scan."""
    store = tmp_path / "s.duckdb"
    with Store(store) as st:
        write(st, [make_run(make_resources(3))])
    p = tmp_path / "driftscan.yaml"
    p.write_text(
        f"store: {store}\nsources:\n  - {{name: aws-test, type: aws, regions: [us-east-1]}}\n"
    )
    return p


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["diff", "--scan", "99"], "no scan 99"),
        (["query", "select * from no_such_view"], "no_such_view"),
        (["query", "delete from scan_ledger"], "read-only"),
        (["history", "arn:aws:s3:::nothing-here"], "no resource with key"),
        (["report", "--format", "json", "--out", "/proc/driftscan-cannot-write-here"], "/proc/"),
    ],
)
def test_usage_mistakes_exit_2(cfg: Path, args: list[str], message: str) -> None:
    """A missing scan, bad SQL, an unknown key or an unwritable path is exit 2 with a message."""
    res = CliRunner().invoke(app, [*args, "-c", str(cfg)])
    assert res.exit_code == 2, res.output
    assert message.lower() in res.output.lower()


def test_a_bug_exits_70_not_1(cfg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected exception is reported as an internal error (70), never as findings (1)."""

    def boom(*a: object, **k: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(pipeline, "scan", boom)
    res = CliRunner().invoke(app, ["scan", "-c", str(cfg)])
    assert res.exit_code == 70
    assert "internal error" in res.output and "ZeroDivisionError" in res.output


@pytest.mark.parametrize("flag", ["--rule", "--framework"])
def test_unknown_filter_is_an_error_not_an_empty_list(cfg: Path, flag: str) -> None:
    """`findings --rule typo` exits 2 instead of printing no findings."""
    runner = CliRunner()
    assert runner.invoke(app, ["check", "-c", str(cfg)]).exit_code in (0, 1, 3)
    res = runner.invoke(app, ["findings", flag, "no_such_thing", "-c", str(cfg)])
    assert res.exit_code == 2, res.output
    assert "no_such_thing" in res.output


def test_a_report_failure_exits_5_not_70(cfg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A report that cannot be rendered or signed is exit 5 with one line, not an internal error."""
    from driftscan.errors import ExitCode, ReportError

    def fail(*a: object, **k: object) -> None:
        raise ReportError("PDF rendering failed (exit 1): no fonts")

    monkeypatch.setattr(pipeline, "report", fail)
    res = CliRunner().invoke(app, ["report", "-c", str(cfg)])
    assert res.exit_code == ExitCode.REPORT == 5
    assert "PDF rendering failed" in res.output and "Traceback" not in res.output
