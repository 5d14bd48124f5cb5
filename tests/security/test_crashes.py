"""Disk full and crashes: a full disk is one clean error and loses nothing; a killed run leaves
no PDF worker, no stale temporary folder and no report folder the ledger never learns of."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import driftscan.cli  # noqa: F401 - registers every command
from driftscan import pipeline
from driftscan.clikit import app
from driftscan.errors import DriftscanError
from driftscan.model import SourceRun
from driftscan.report import render, verify_report_dir, write_report
from driftscan.report.manifest import read_ledger
from driftscan.store import Store
from tests.conftest import make_resources, make_run, write
from tests.report.conftest import write_key
from tests.report.factory import make_report_data

NO_SPACE = "no space left on device"


class SmallDisk:
    """A tmpfs of a few megabytes that a test can fill up to the last few bytes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.filler = path / "filler"

    def free(self) -> int:
        st = os.statvfs(self.path)
        return st.f_bavail * st.f_frsize

    def fill(self, leave: int = 0) -> None:
        """Take all free space but `leave` bytes (all of it when 0)."""
        with self.filler.open("ab") as f:
            try:
                while (room := self.free() - leave) > 0:
                    f.write(b"\0" * min(room, 1 << 20))
                    f.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC

    def empty(self) -> None:
        self.filler.unlink(missing_ok=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    """An 8 MB tmpfs mounted for this test (needs root), unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs to fill up needs root")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    got = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
        check=False,
    )
    if got.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {got.stderr.strip() or got.returncode}")
    try:
        yield SmallDisk(mnt)
    finally:
        if subprocess.run(["umount", str(mnt)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mnt)], check=False)


def _cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def _one_clean_line(res: Result) -> str:
    assert "Traceback" not in res.output, res.output
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, res.stderr
    return lines[0].lower()


def test_full_disk_during_a_scan_exits_74_and_keeps_the_earlier_scan(
    small_disk: SmallDisk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scan that fills the disk exits 74 with one line naming the store and "no space left",
    and the store still opens, verifies and reads the earlier scan."""
    store = small_disk.path / "driftscan.duckdb"
    cfg = tmp_path / "driftscan.yaml"
    cfg.write_text(f"store: {store}\nsources:\n  - {{name: aws-test, type: aws}}\n")
    size = {"n": 5}

    def collect(*a: object, **k: object) -> list[SourceRun]:
        return [make_run(make_resources(size["n"]))]

    monkeypatch.setattr(pipeline, "run_sources", collect)
    assert _cli("scan", "-c", str(cfg), "-q", "-f", "json").exit_code == 0
    small_disk.fill(leave=256 * 1024)
    size["n"] = 3000
    res = _cli("scan", "-c", str(cfg), "-q", "-f", "json")
    assert res.exit_code == 74, res.output
    line = _one_clean_line(res)
    assert str(store).lower() in line and NO_SPACE in line

    small_disk.empty()
    with Store(store) as st:
        assert st.verify().ok
        assert [s.scan_id for s in st.scans()] == [1]
        assert len(st.history("arn:aws:s3:::bucket-000004")) == 1


@pytest.mark.parametrize(
    ("threshold", "leave"),
    [(None, 256 * 1024), ("1KB", 1536 * 1024)],
    ids=["wal-at-commit", "checkpoint"],
)
def test_full_disk_at_commit_or_checkpoint_rolls_the_scan_back(
    small_disk: SmallDisk, threshold: str | None, leave: int
) -> None:
    """Whether the WAL or the checkpoint meets the full disk, write_scan raises the exit-74
    error naming the store, and the store keeps exactly its earlier scans."""
    path = small_disk.path / "driftscan.duckdb"
    with Store(path) as st:
        write(st, [make_run(make_resources(5))])
    small_disk.fill(leave=leave)
    st = Store(path)
    try:
        if threshold:
            st.con.execute(f"SET checkpoint_threshold = '{threshold}'")
        with pytest.raises(DriftscanError) as caught:
            write(st, [make_run(make_resources(3000))])
    finally:
        st.close()
    assert caught.value.exit_code == 74
    assert str(caught.value).startswith(f"{path}: ") and NO_SPACE in str(caught.value)
    small_disk.empty()
    with Store(path) as st:
        assert st.verify().ok
        assert [s.scan_id for s in st.scans()] == [1]


def test_full_disk_while_writing_a_report_leaves_nothing_behind(
    small_disk: SmallDisk, tmp_path: Path
) -> None:
    """A report written into a full disk exits 74 with one clean line, and leaves neither a
    folder nor a ledger line; the reports root still verifies."""
    store = tmp_path / "driftscan.duckdb"
    with Store(store) as st:
        write(st, [make_run(make_resources(50))])
    root = small_disk.path / "reports"
    assert (
        _cli("report", "--store", str(store), "-f", "json,csv", "--out", str(root)).exit_code == 0
    )
    ledger = (root / "ledger.jsonl").read_bytes()
    before = sorted(p.name for p in root.iterdir())
    small_disk.fill()
    res = _cli("report", "--store", str(store), "-f", "json,csv", "--out", str(root))
    assert res.exit_code == 74, res.output
    line = _one_clean_line(res)
    assert str(root).lower() in line and NO_SPACE in line
    assert sorted(p.name for p in root.iterdir()) == before
    assert (root / "ledger.jsonl").read_bytes() == ledger
    small_disk.empty()
    assert verify_report_dir(root) == []


def test_full_disk_at_the_ledger_line_takes_the_new_folder_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the disk fills while the ledger line is appended, the torn line and the renamed
    folder are both undone and the error is a clean disk-full one (exit 74)."""
    root = tmp_path / "reports"
    write_report(make_report_data(5, scan_id=41), root, ["json"])
    ledger = (root / "ledger.jsonl").read_bytes()

    def torn_append(root: Path, entry: object) -> None:
        with (root / "ledger.jsonl").open("a") as f:
            f.write('{"folder": "scan-0000')
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(root / "ledger.jsonl"))

    monkeypatch.setattr(render, "append_ledger", torn_append)
    with pytest.raises(DriftscanError) as caught:
        write_report(make_report_data(5, scan_id=42), root, ["json"])
    assert caught.value.exit_code == 74
    assert str(root) in str(caught.value) and NO_SPACE in str(caught.value)
    assert (root / "ledger.jsonl").read_bytes() == ledger
    assert sorted(p.name for p in root.iterdir() if not p.name.startswith(".")) == [
        "ledger.jsonl",
        "scan-000041",
    ]
    assert verify_report_dir(root) == []


_PARENT = """
import sys
from pathlib import Path
from driftscan.report.formats import render_pdf
render_pdf("<html><body><p>held open by a FIFO nobody reads</p></body></html>", Path(sys.argv[1]))
"""


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie has died; only its reaping is left


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux's /proc and prctl")
def test_a_killed_parent_leaves_no_pdf_worker(tmp_path: Path) -> None:
    """SIGKILL of the process rendering a PDF takes its PDF worker with it within seconds."""
    pytest.importorskip("weasyprint")
    out = tmp_path / "report.pdf"
    os.mkfifo(out)  # the worker blocks opening it: busy for as long as we like
    parent = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_PARENT), str(out)],
        cwd=Path(__file__).resolve().parents[2],
        stderr=subprocess.DEVNULL,
    )
    worker = None
    try:
        deadline = time.monotonic() + 60
        while worker is None and time.monotonic() < deadline and parent.poll() is None:
            worker = next(iter(_children(parent.pid)), None)
            time.sleep(0.05)
        assert worker is not None, "the PDF worker never started"
        time.sleep(3)  # let it get past its start-up and into the render
        assert _alive(worker)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 5
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(worker), f"PDF worker {worker} outlived its killed parent"
    finally:
        if parent.poll() is None:
            os.kill(parent.pid, signal.SIGKILL)
            parent.wait(10)
        if worker is not None and _alive(worker):
            os.kill(worker, signal.SIGKILL)


def test_stale_temporary_folders_are_removed_by_the_next_report(tmp_path: Path) -> None:
    """A `.tmp-scan-*` folder left by a killed writer is removed by the next report written."""
    root = tmp_path / "reports"
    write_report(make_report_data(5, scan_id=41), root, ["json"])
    stale = root / ".tmp-scan-000042-k1ll3d"
    stale.mkdir()
    (stale / "report.json").write_text("{half")
    res = write_report(make_report_data(5, scan_id=42), root, ["json"])
    assert not stale.exists()
    assert sorted(p.name for p in root.iterdir() if p.name.startswith(".tmp-")) == []
    assert any(".tmp-scan-000042-k1ll3d" in n for n in res.notes)
    assert verify_report_dir(root) == []


def _kill_before_recording(root: Path) -> None:
    """Leave the newest report folder renamed into place but not in the ledger, as a run
    SIGKILLed between `rename` and `append_ledger` does."""
    lines = (root / "ledger.jsonl").read_text().splitlines()
    (root / "ledger.jsonl").write_text("".join(line + "\n" for line in lines[:-1]))


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_a_report_killed_before_its_ledger_line_is_recorded_by_the_next(
    tmp_path: Path, signed: bool
) -> None:
    """A folder renamed into place whose ledger line was never written is named precisely by
    verify, then recorded by the next report, and the chain verifies again."""
    root = tmp_path / "reports"
    key = write_key(tmp_path / "signing.pem") if signed else None
    write_report(make_report_data(5, scan_id=41), root, ["json"], signing_key=key)
    write_report(make_report_data(5, scan_id=42), root, ["json"], signing_key=key)
    _kill_before_recording(root)
    [problem] = verify_report_dir(root)
    assert problem.startswith("scan-000042: has a valid manifest but is not in the reports ledger")
    assert "written by a run that was killed before recording it" in problem
    res = write_report(make_report_data(5, scan_id=43), root, ["json"], signing_key=key)
    assert [e.folder for e in read_ledger(root)] == ["scan-000041", "scan-000042", "scan-000043"]
    assert any(n.startswith("scan-000042: recorded in ledger.jsonl") for n in res.notes)
    manifest = json.loads((root / "scan-000043" / "manifest.json").read_text())
    assert manifest["previous"]["folder"] == "scan-000042"
    assert verify_report_dir(root) == []
    if key is not None:
        assert verify_report_dir(root, trusted_key=key) == []
        recorded = (root / "ledger.jsonl").read_text().splitlines()
        assert len({json.loads(line).get("signed") for line in recorded}) == 1


def test_an_unrecordable_or_altered_orphan_is_named_not_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unrecorded folder that the ledger has moved past, or whose files were altered, is
    named with the reason and never recorded."""
    root = tmp_path / "reports"
    write_report(make_report_data(5, scan_id=41), root, ["json"])
    write_report(make_report_data(5, scan_id=42), root, ["json"])
    _kill_before_recording(root)
    with monkeypatch.context() as m:  # a run of a driftscan that did not yet repair
        m.setattr(render, "recover_ledger", lambda *a, **k: [], raising=False)
        write_report(make_report_data(5, scan_id=43), root, ["json"])
    altered = root / "scan-000044-2"
    shutil.copytree(root / "scan-000043", altered)
    (altered / "report.json").write_text("{}")
    write_report(make_report_data(5, scan_id=44), root, ["json"])
    assert [e.folder for e in read_ledger(root)] == ["scan-000041", "scan-000043", "scan-000044"]
    problems = verify_report_dir(root)
    killed = [p for p in problems if p.startswith("scan-000042:")]
    assert killed == [
        "scan-000042: has a valid manifest but is not in the reports ledger (ledger.jsonl): "
        "written by a run that was killed before recording it, and later reports were recorded "
        "(it follows scan-000041, the ledger ends at scan-000044); it cannot join the chain"
    ]
    [bad] = [p for p in problems if p.startswith("scan-000044-2:")]
    assert "its manifest does not verify (report.json: altered" in bad
