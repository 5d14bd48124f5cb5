"""Exit codes for mistakes and crashes (design §3.3): usage is 2, a bug is 70, never 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
        (["query", "delete from findings"], "read-only: DELETE statements are not run"),
        (["query", "set memory_limit='64GB'; select 1"], "read-only: SET statements"),
        (["query", "attach ':memory:' as m"], "read-only: ATTACH"),
        (["query", ""], "no SQL statement given"),
        (["query", "   "], "no SQL statement given"),
        (["history", "arn:aws:s3:::nothing-here"], "error: no resource with key"),
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


INVALID = {
    "no sources": "sources: []\n",
    "no sources key": "store: ./driftscan.duckdb\n",
    "a bad value": "sources:\n  - {name: a, type: aws, regions: [us-east-1]}\nconcurrency: 0\n",
    "an unknown key": "sources:\n  - {name: a, type: aws, regions: [us-east-1]}\nstroe: x\n",
}


@pytest.mark.parametrize("command", [["scan"], ["scan", "-s", "typo"], ["run"], ["report"],
                                     ["check"], ["diff"]])  # fmt: skip
@pytest.mark.parametrize("config", sorted(INVALID))
def test_a_config_error_leaves_no_store_and_no_lock(
    tmp_path: Path, command: list[str], config: str
) -> None:
    """A config mistake, found early or late, exits 2 and leaves nothing beside the config."""
    cfg = tmp_path / "driftscan.yaml"
    cfg.write_text(INVALID[config])
    res = CliRunner().invoke(app, [*command, "-c", str(cfg)])
    assert res.exit_code == 2, res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["driftscan.yaml"]


def test_report_into_a_file_says_not_a_directory(cfg: Path, tmp_path: Path) -> None:
    """`report --out FILE` (an existing file, not a folder) is exit 2 saying "not a directory"."""
    afile = tmp_path / "hostname"
    afile.write_text("web-01\n")
    runner = CliRunner()
    for out in (afile, afile / "sub"):
        res = runner.invoke(app, ["report", "-f", "json", "--out", str(out), "-c", str(cfg)])
        assert res.exit_code == 2, res.output
        assert f"{out}: not a directory" in res.output
    assert afile.read_text() == "web-01\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a 0o555 folder regardless")
def test_report_into_a_read_only_folder_says_so(cfg: Path, tmp_path: Path) -> None:
    """`report --out` a folder this user cannot write is exit 2 saying "permission denied"."""
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        for out in (ro, ro / "new"):
            res = CliRunner().invoke(
                app, ["report", "-f", "json", "--out", str(out), "-c", str(cfg)]
            )
            assert res.exit_code == 2, res.output
            assert "permission denied" in res.output and "read-only" in res.output
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)


@pytest.mark.parametrize(
    ("flag", "message"),
    [(os.ST_RDONLY, "read-only file system"), (0, "permission denied: read-only for this user")],
)
def test_report_into_an_unwritable_place_says_why(
    cfg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flag: int, message: str
) -> None:
    """A reports folder on a read-only mount, or one this user may not write (as root too,
    with access(2) answering no), is exit 2 saying which, and nothing is made there."""
    from driftscan.report import render

    class _Mount:
        f_flag = flag

    real_access, mount = os.access, tmp_path / "mnt"
    mount.mkdir()

    def access(p: object, mode: int, **kw: object) -> bool:
        return not (mode & os.W_OK and Path(str(p)) == mount) and real_access(p, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(render.os, "statvfs", lambda p: _Mount())
    for out in (mount, mount / "out"):
        res = CliRunner().invoke(app, ["report", "--out", str(out), "-c", str(cfg)])
        assert res.exit_code == 2, res.output
        assert f"{out}: {message}" in res.output
    assert list(mount.iterdir()) == []


def test_errors_are_one_line_each_when_piped(tmp_path: Path) -> None:
    """With stderr not a terminal, an error longer than 80 columns stays on one line."""
    deep = tmp_path / ("a-long-folder-name-" * 5)
    deep.mkdir()
    cfg = deep / "driftscan.yaml"
    cfg.write_text("sources:\n  - {name: a, type: aws, regions: [us-east-1], no_such_key: 1}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    res = subprocess.run(
        [sys.executable, "-m", "driftscan", "scan", "-c", str(cfg)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert res.returncode == 2
    assert res.stderr.splitlines() == [f"error: {cfg}:2, key 'sources[0].no_such_key': unknown key"]
    assert len(res.stderr.splitlines()[0]) > 80


def test_square_brackets_in_messages_are_printed_as_text(
    cfg: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rich reads `[...]` as a style tag: data in a message (a key, a redacted detail) must
    reach the terminal whole, not lose its bracketed parts."""
    from driftscan.commands.core import print_not_assessed
    from driftscan.model import Slice, SourceRun

    res = CliRunner().invoke(app, ["history", "[red]k[/red]", "-c", str(cfg)])
    assert res.exit_code == 2 and "no resource with key '[red]k[/red]'" in res.output

    run = SourceRun("aws-test", "aws")
    run.slices.append(Slice("aws-test", "aws", "global/sts", "failed", reason="denied",
                            detail="NoCredentialsError: [redacted] to locate credentials"))  # fmt: skip
    print_not_assessed([run])
    assert "NoCredentialsError: [redacted] to locate credentials" in capsys.readouterr().err


def test_a_table_title_is_text_not_markup(capsys: pytest.CaptureFixture[str]) -> None:
    """A table titled with a resource key shows the key as it is."""
    from rich.console import Console

    from driftscan.output import Col, print_table

    print_table([Col("a", "fixed")], [["1"]], title="key [bold]x[/bold]",
                console=Console(width=80, force_terminal=False))  # fmt: skip
    out = capsys.readouterr().out  # the title wraps to the table's width
    assert "key[bold]x[/bold]" in "".join(out.split())


def test_a_sql_error_has_no_blank_error_lines(cfg: Path) -> None:
    """DuckDB's parser error, with its LINE 1 excerpt and caret, prints no empty `error:` line."""
    res = CliRunner().invoke(app, ["query", "selec * from scans", "-c", str(cfg)])
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert lines[0].startswith("error:") and "selec" in lines[0]
    assert all(ln.startswith("error:") and ln.removeprefix("error:").strip() for ln in lines)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "--scan", "99"], "no scan 99"),
        (["report", "--scan", "99", "--format", "json"], "no scan 99"),
        (["check", "--framework", "no-such-framework"], "no-such-framework"),
    ],
)
def test_a_mistake_is_one_error_line_before_any_work(
    cfg: Path, args: list[str], message: str
) -> None:
    """With a desired state configured, a missing scan or unknown framework is refused before
    anything is diffed or checked: no "diffing it first" notice precedes the error."""
    desired = cfg.parent / "desired.yaml"
    desired.write_text("resources:\n  - key: arn:aws:s3:::bucket-000000\n    versioning: Enabled\n")
    cfg.write_text(cfg.read_text() + f"desired: [{{path: {desired}}}]\n")
    res = CliRunner().invoke(app, [*args, "-c", str(cfg)])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], lines


def test_query_json_keeps_columns_of_the_same_name(cfg: Path) -> None:
    """Two columns named alike are both in each JSON row (the second as DuckDB names it)."""
    res = CliRunner().invoke(app, ["query", "select 1 as a, 2 as a, 3 as a_1", "-c", str(cfg),
                                   "--format", "json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == [{"a": 1, "a_1": 2, "a_1_1": 3}]


def test_query_writes_intervals_as_iso_8601_and_blobs_as_duckdb_reads_them(cfg: Path) -> None:
    """An interval is an ISO 8601 duration in JSON and CSV (it was Python's `3 days,
    4:00:00`), a BLOB its DuckDB text, which `::BLOB` reads back (it was `b'a\\xff'`)."""
    sql = r"select interval '3 days 4 hours' as i, 'a\xFF\x5C'::blob as b"
    res = CliRunner().invoke(app, ["query", sql, "-c", str(cfg), "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == [{"i": "P3DT4H", "b": r"a\xFF\x5C"}]
    res = CliRunner().invoke(app, ["query", sql, "-c", str(cfg), "--format", "csv"])
    assert res.exit_code == 0, res.output
    assert res.output.splitlines() == ["i,b", r"P3DT4H,a\xFF\x5C"]


def test_stderr_wraps_at_words_on_a_terminal_and_never_when_piped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A summary (check's, diff's) piped to a log is one line whatever its length; on a
    terminal it wraps at a word, where the terminal itself would cut `alarms` in two."""
    from driftscan.clikit import _Stderr

    msg = "scan 12 (incomplete): 120 rules, 57 alarms, 0 waived, 3 not assessed; rules 0123abcd"
    monkeypatch.setenv("COLUMNS", "40")
    _Stderr().print(msg, highlight=False)
    assert capsys.readouterr().err == msg + "\n"
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # Rich: stderr is a terminal
    monkeypatch.setenv("NO_COLOR", "1")
    _Stderr().print(msg, highlight=False)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3 and max(map(len, lines)) <= 40, lines
    assert " ".join(line.strip() for line in lines) == msg


def test_views_lists_in_every_format() -> None:
    """`views` takes --format like every listing command (it refused the option)."""
    res = CliRunner().invoke(app, ["views", "--format", "json"])
    assert res.exit_code == 0, res.output
    docs = {v["view"]: v["description"] for v in json.loads(res.output)}
    assert {"scans", "resources", "drift", "findings", "attestations"} <= set(docs)
    assert all(docs.values())
    res = CliRunner().invoke(app, ["views", "--format", "csv"])
    assert res.exit_code == 0 and res.output.splitlines()[0] == "view,description"
    assert len(res.output.splitlines()) == len(docs) + 1
    res = CliRunner().invoke(app, ["views", "--format", "table"], terminal_width=80)
    assert res.exit_code == 0 and res.output.startswith("scans ")


def test_history_of_a_huge_unknown_key_is_one_short_line(cfg: Path) -> None:
    """The key is echoed cut: a 1 MB argument gave a 1 MB error line."""
    key = "arn:aws:s3:::" + "a" * 100_000 + "-end"
    res = CliRunner().invoke(app, ["history", key, "-c", str(cfg)])
    assert res.exit_code == 2
    line = res.output.strip()
    assert "\n" not in line and len(line) < 300 and line.endswith("-end' in the store"), line


def test_a_report_folder_that_is_a_dangling_symlink_is_named(cfg: Path, tmp_path: Path) -> None:
    """It was `[Errno 17] File exists`."""
    link = tmp_path / "out"
    link.symlink_to(tmp_path / "gone")
    for out in (link, link / "sub"):
        res = CliRunner().invoke(app, ["report", "-c", str(cfg), "--out", str(out), "--format",
                                       "json"])  # fmt: skip
        assert res.exit_code == 2, res.output
        assert f"{link} is a symlink to {tmp_path / 'gone'}, which does not exist" in res.output
