"""Collection never holds the store: readers work while a scan collects, and wait while it writes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from driftscan.sandbox.hosts import Fleet, synthetic_profiles
from driftscan.store import Store


def driftscan(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "driftscan", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize("command", ["scan", "run"])
def test_query_scans_and_verify_work_while_a_scan_collects(tmp_path: Path, command: str) -> None:
    """A scan (or a whole `run`, the cron job) of slow hosts (4 s each) is running; query,
    scans and verify succeed meanwhile, and the scan then stores its result."""
    profiles = synthetic_profiles(3, packages=20)
    with Fleet(profiles, workdir=tmp_path / "fleet") as fleet:
        src = fleet.source("dc1", timeout_s=30).model_dump(mode="json")
        src["type"] = "ssh"
        cfg = tmp_path / "driftscan.yaml"
        # `run` reports too: HTML and JSON only, as the PDF (tens of seconds) proves nothing here.
        reports = {"dir": str(tmp_path / "reports"), "formats": ["html", "json"]}
        cfg.write_text(yaml.safe_dump({"store": str(tmp_path / "s.duckdb"), "sources": [src],
                                       "reports": reports}))  # fmt: skip
        assert driftscan("scan", "-c", str(cfg), "-q").returncode == 0
        for p in profiles:
            p.command_s = 4.0
        scan = subprocess.Popen(
            [sys.executable, "-m", "driftscan", command, "-c", str(cfg), "-q"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            time.sleep(1.5)  # started, and collecting from the slow hosts
            q = driftscan(
                "query",
                "select count(*) AS n from scans",
                "-c",
                str(cfg),
                "-f",
                "json",
                "--wait",
                "0",
            )
            ledger = driftscan("scans", "-c", str(cfg), "-f", "json", "--wait", "0")
            verified = driftscan("verify", "-c", str(cfg), "--wait", "0")
            still_collecting = scan.poll() is None
            out, errs = scan.communicate(timeout=120)
        finally:
            if scan.poll() is None:
                scan.kill()
    assert q.returncode == 0, q.stderr
    assert json.loads(q.stdout) == [{"n": 1}]
    assert ledger.returncode == 0 and len(json.loads(ledger.stdout)) == 1, ledger.stderr
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert still_collecting, "the scan finished before the readers ran: the test proved nothing"
    if command == "scan":
        assert scan.returncode == 0, errs
        assert json.loads(out)["scan"] == 2
    else:  # a run's exit code is its findings'; what matters is that it stored scan 2
        assert scan.returncode in (0, 1), errs
        after = driftscan("scans", "-c", str(cfg), "-f", "json")
        assert [s["scan"] for s in json.loads(after.stdout)] == [2, 1]


def test_readers_wait_for_a_write_instead_of_exiting_4(tmp_path: Path) -> None:
    """While a writer holds the store (an ingest's transaction), `query --wait 15` waits and
    answers once it is done; with --wait 0 it exits 4 at once, saying the store is in use."""
    store = tmp_path / "s.duckdb"
    with Store(store):
        pass
    code = (
        "import time\nfrom driftscan.store import Store\n"
        f"s = Store({str(store)!r})\nprint('open', flush=True)\ntime.sleep(3)\ns.close()\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "open"
        at_once = driftscan("query", "select 1 AS one", "--store", str(store), "--wait", "0")
        start = time.monotonic()
        waited = driftscan(
            "query", "select 1 AS one", "--store", str(store), "--wait", "15", "-f", "json"
        )
        took = time.monotonic() - start
    finally:
        writer.wait(timeout=30)
    assert at_once.returncode == 4 and "in use" in at_once.stderr
    assert waited.returncode == 0, waited.stderr
    assert json.loads(waited.stdout) == [{"one": 1}]
    assert took > 1.0  # it did wait for the writer
