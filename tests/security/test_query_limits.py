"""`query` is bounded in time and memory, and a long reader never makes the nightly scan exit 4."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import driftscan.cli  # noqa: F401 - registers every command
from driftscan.clikit import app
from driftscan.store import Store
from tests.conftest import make_resources, make_run, write

CROSS_JOIN = "select sum(a.range * b.range) from range(1000000) a, range(1000000) b"


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    """A config whose store holds one scan, with one SSH source that has no hosts (fast)."""
    store = tmp_path / "s.duckdb"
    with Store(store) as st:
        write(st, [make_run(make_resources(3))])
    kh = tmp_path / "known_hosts"
    kh.write_text("")
    p = tmp_path / "driftscan.yaml"
    p.write_text(
        f"store: {store}\nsources:\n"
        f"  - {{name: dc1, type: ssh, user: scanner, known_hosts: {kh}, hosts: []}}\n"
    )
    return p


def test_query_timeout_exits_2(cfg: Path) -> None:
    """A cross join past --timeout is stopped with a clear message and exit 2."""
    start = time.monotonic()
    res = CliRunner().invoke(app, ["query", CROSS_JOIN, "-c", str(cfg), "--timeout", "1"])
    assert res.exit_code == 2, res.output
    assert "longer than 1 s" in res.output
    assert time.monotonic() - start < 20


def test_query_memory_limit_exits_2(cfg: Path) -> None:
    """A query that needs more than --memory-limit fails with exit 2 instead of taking the machine."""
    sql = "select len(list(range)) from range(200000000)"
    res = CliRunner().invoke(app, ["query", sql, "-c", str(cfg), "--memory-limit", "64"])
    assert res.exit_code == 2, res.output
    assert "memory" in res.output.lower()


def test_scan_waits_for_a_reader(cfg: Path, tmp_path: Path) -> None:
    """A scan started while a reader holds the store waits for it instead of exiting 4."""
    store = tmp_path / "s.duckdb"
    code = (
        "import sys, time\n"
        "from driftscan.store import Store\n"
        f"s = Store({str(store)!r}, read_only=True)\n"
        "print('open', flush=True)\n"
        "time.sleep(3)\n"
        "s.close()\n"
    )
    reader = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout is not None and reader.stdout.readline().strip() == "open"
        res = CliRunner().invoke(app, ["scan", "-c", str(cfg), "-q", "--wait", "30"])
        assert res.exit_code != 4, res.output
        assert reader.poll() is not None  # the reader had finished before the scan wrote
    finally:
        reader.wait(timeout=30)
    with Store(store, read_only=True) as st:
        assert [r.scan_id for r in st.scans()] == [2, 1]


def test_scan_without_wait_still_reports_the_lock(cfg: Path, tmp_path: Path) -> None:
    """With --wait 0 a held store is exit 4 at once, naming the store."""
    store = tmp_path / "s.duckdb"
    code = (
        "import time\nfrom driftscan.store import Store\n"
        f"s = Store({str(store)!r}, read_only=True)\nprint('open', flush=True)\ntime.sleep(5)\n"
    )
    reader = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout is not None and reader.stdout.readline().strip() == "open"
        res = CliRunner().invoke(app, ["scan", "-c", str(cfg), "-q", "--wait", "0"])
        assert res.exit_code == 4 and "in use" in res.output
    finally:
        reader.kill()
        reader.wait(timeout=30)


def _console(*args: str) -> tuple[int, str, float]:
    """(exit code, stderr, seconds) of `driftscan ARGS` as its own process."""
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "driftscan", *args], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    return proc.returncode, proc.stderr, time.monotonic() - start


def test_one_huge_string_is_past_the_memory_limit(cfg: Path) -> None:
    """repeat() builds its value outside DuckDB's buffers: --memory-limit 100 ended at 4 GB."""
    sql = "select sum(length(repeat('a', 1000000000))) from range(3)"
    code, err, _ = _console("query", sql, "-c", str(cfg), "--memory-limit", "100")
    assert code == 2 and "more memory than its limit" in err, err


def test_rows_fetched_past_the_memory_limit_are_refused(cfg: Path) -> None:
    """The rows in Python are within the limit too (5M rows took 1.7 GB at --memory-limit 100)."""
    sql = "select range, repeat('x', 48) s from range(5000000)"
    code, err, _ = _console("query", sql, "-c", str(cfg), "--memory-limit", "100", "-f", "csv")
    assert code == 2 and "more memory than its limit" in err, err


def test_a_call_duckdb_cannot_interrupt_is_ended_past_the_deadline(cfg: Path) -> None:
    """One long function call ignored --timeout 1 for 20 s; the process ends it soon after."""
    from driftscan.commands.core import DEADLINE_GRACE_S

    sql = "select length(repeat('a', 3000000000))"  # one call of several seconds, 3 GB
    code, err, took = _console("query", sql, "-c", str(cfg), "--timeout", "1",
                               "--memory-limit", "20000")  # fmt: skip
    # Ended by the deadline, or (on a fast machine) interrupted as the call returned.
    assert code == 2 and "the query ran longer than 1 s" in err, err
    assert took < 1 + DEADLINE_GRACE_S + 5
