"""The DuckDB store: content-addressed history, coverage, atomicity and the hash chain."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from driftscan.errors import LockHeld, StoreError
from driftscan.model import Resource, Slice, SourceRun
from driftscan.store import Store
from tests.conftest import make_resources, make_run, write


class TestHistory:
    def test_unchanged_rescan_adds_no_versions(self, store: Store) -> None:
        """An unchanged rescan adds no resource versions and no intervals."""
        write(store, [make_run(make_resources(50))])
        before = (
            store.query("select count(*) from version")[1][0][0],
            store.query("select count(*) from span")[1][0][0],
        )
        write(store, [make_run(make_resources(50))])
        after = (
            store.query("select count(*) from version")[1][0][0],
            store.query("select count(*) from span")[1][0][0],
        )
        assert before == after == (50, 50)

    def test_changed_resource_gets_a_new_version(self, store: Store) -> None:
        """A changed resource closes its old interval and opens a new one; history shows both."""
        write(store, [make_run(make_resources(10))])
        write(store, [make_run(make_resources(10, change={3: {"versioning": "Suspended"}}))])
        versions = store.history("arn:aws:s3:::bucket-000003")
        assert [(v.first_scan, v.last_scan) for v in versions] == [(1, 1), (2, None)]
        assert versions[1].doc["attrs"]["versioning"] == "Suspended"

    def test_resources_at_gives_the_estate_at_each_scan(self, store: Store) -> None:
        """resources_at(N) returns what scan N saw, including deletions."""
        write(store, [make_run(make_resources(10))])
        write(store, [make_run(make_resources(8))])
        assert store.query("select count(*) from resources_at(1)")[1][0][0] == 10
        assert store.query("select count(*) from resources")[1][0][0] == 8

    def test_unread_slice_carries_forward_as_not_assessed(self, store: Store) -> None:
        """A resource in a slice that could not be read is kept, marked not assessed, never deleted."""
        write(store, [make_run(make_resources(10))])
        scan = write(store, [make_run(make_resources(10), failed_regions=("eu-west-1",))])
        assert store.scan(scan).status == "incomplete"
        rows = dict(
            store.query(
                "select region, count(*) filter (where assessed) from resources group by 1"
            )[1]
        )
        assert rows == {"us-east-1": 5, "eu-west-1": 0}
        assert store.query("select count(*) from resources")[1][0][0] == 10

    def test_source_runs_and_slices_are_recorded(self, store: Store) -> None:
        """Each scan records per-source status and every failed slice with its reason."""
        scan = write(store, [make_run(make_resources(4), failed_regions=("us-east-1",))])
        runs = store.source_runs(scan)
        assert runs[0]["status"] == "partial" and runs[0]["reason"] == "denied"
        failed = store.slices(scan, failed_only=True)
        assert [(s["name"], s["reason"]) for s in failed] == [
            ("111122223333/us-east-1/s3", "denied")
        ]

    def test_scan_ids_are_monotonic(self, store: Store) -> None:
        """Scan ids increase by one per scan."""
        assert [write(store, [make_run(make_resources(2))]) for _ in range(3)] == [1, 2, 3]


class TestChain:
    def test_clean_store_verifies(self, store: Store) -> None:
        """An untouched store verifies and reports its chain head."""
        for i in range(3):
            write(store, [make_run(make_resources(5, change={0: {"size": i}}))])
        res = store.verify()
        assert res.ok and res.scans == 3 and res.head == store.scan().chain_hash

    def test_tampered_version_is_named(self, store: Store) -> None:
        """Editing a stored resource row makes verify fail and name the resource."""
        write(store, [make_run(make_resources(5))])
        store.con.execute(
            "update version set attrs = '{\"versioning\":\"Disabled\"}' where key like '%000002'"
        )
        res = store.verify()
        assert not res.ok
        assert any("bucket-000002" in p for p in res.problems)

    def test_tampered_interval_breaks_the_scan(self, store: Store) -> None:
        """Rewriting which version a scan saw breaks that scan's content hash."""
        write(store, [make_run(make_resources(5))])
        write(store, [make_run(make_resources(5))])
        store.con.execute("delete from span where key like '%000001'")
        res = store.verify()
        assert res.first_broken == 1
        assert any("scan 1: observed content altered" in p for p in res.problems)

    def test_deleted_scan_is_named(self, store: Store) -> None:
        """Deleting a scan from the ledger makes verify name the missing scan."""
        for _ in range(3):
            write(store, [make_run(make_resources(3))])
        store.con.execute("delete from scan_ledger where scan_id = 2")
        res = store.verify()
        assert not res.ok and res.first_broken == 3
        assert any("scan 2 missing" in p for p in res.problems)

    def test_altered_ledger_row_is_named(self, store: Store) -> None:
        """Changing a scan's status in the ledger breaks its seal."""
        write(store, [make_run(make_resources(3), failed_regions=("eu-west-1",))])
        store.con.execute("update scan_ledger set status = 'complete'")
        assert any("scan 1: ledger row altered" in p for p in store.verify().problems)


class TestLocking:
    def test_second_writer_gets_lock_held(self, store_path: Path) -> None:
        """A second writable open of the same store raises LockHeld (exit code 4)."""
        with Store(store_path):
            with pytest.raises(LockHeld) as exc:
                Store(store_path)
            assert exc.value.exit_code == 4

    def test_read_only_open_of_missing_store_is_clear(self, tmp_path: Path) -> None:
        """Reading a store that does not exist says so instead of creating an empty one."""
        with pytest.raises(StoreError, match="no store here yet"):
            Store(tmp_path / "nope.duckdb", read_only=True)
        assert not (tmp_path / "nope.duckdb").exists()


_KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime
    from driftscan.store import core
    from driftscan.store.core import Store
    from tests.conftest import make_resources, make_run

    path = sys.argv[1]
    now = datetime.now(UTC)
    with Store(path) as s:
        s.write_scan([make_run(make_resources(20))], started_at=now, finished_at=now, tool_version="t")
    original = Store._write_resources

    def slow(con, n, incoming):
        original(con, n, incoming)
        print("IN_TRANSACTION", flush=True)
        time.sleep(60)

    Store._write_resources = staticmethod(slow)
    with Store(path) as s:
        s.write_scan([make_run(make_resources(30))], started_at=now, finished_at=now, tool_version="t")
    """
)


def test_killed_mid_scan_leaves_no_half_scan(store_path: Path) -> None:
    """A process killed inside the scan's transaction leaves the store readable and the scan absent."""
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(store_path)],
        stdout=subprocess.PIPE,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    line = ""
    while "IN_TRANSACTION" not in line and time.monotonic() < deadline:
        line = proc.stdout.readline()
    assert "IN_TRANSACTION" in line
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    with Store(store_path) as s:
        assert [r.scan_id for r in s.scans()] == [1]
        assert s.query("select count(*) from resources")[1][0][0] == 20
        assert s.query("select count(*) from span")[1][0][0] == 20
        assert s.verify().ok


def test_query_connection_cannot_touch_other_files(store_path: Path, tmp_path: Path) -> None:
    """The `driftscan query` connection can neither write the store nor read or write other files."""
    with Store(store_path) as st:
        write(st, [make_run(make_resources(3))])
    secret = tmp_path / "secret.csv"
    secret.write_text("a,b\n1,2\n")
    with Store(store_path, read_only=True, sandboxed=True) as ro:
        assert ro.query("select count(*) from resources")[1][0][0] == 3
        for sql in (
            f"select * from read_csv('{secret}')",
            f"copy (select 1) to '{tmp_path / 'out.csv'}'",
            "delete from scan_ledger",
        ):
            with pytest.raises(StoreError):
                ro.query(sql)
    assert not (tmp_path / "out.csv").exists()


class TestObservations:
    def _host(self, offset: float, days: int) -> Resource:
        return Resource(
            key="ssh://web-01", provider="ssh", source="dc1", account="dc1", region="dc1",
            type="host", name="web-01", attrs={"packages": {"nginx": "1.24"}, "certs": {"/c.pem": {"subject": "CN=x"}}},
            observed={"clock": {"offset_s": offset}, "certs": {"/c.pem": {"days_left": days}}},
        )  # fmt: skip

    def _run(self, r: Resource) -> SourceRun:
        run = SourceRun(
            "dc1",
            "ssh",
            resources=[r],
            slices=[Slice("dc1", "ssh", "web-01", keys=[r.key], resources=1)],
        )
        run.finish()
        return run

    def test_measurements_make_no_new_versions_but_show_per_scan(self, store: Store) -> None:
        """A host whose only changes are measurements keeps one version; each scan shows its own values."""
        for i, (offset, days) in enumerate([(0.01, 30), (-0.02, 29), (12.5, 28)]):
            write(store, [self._run(self._host(offset, days))])
            assert store.query("select count(*) from version")[1][0][0] == 1, f"scan {i + 1}"
        rows = store.query(
            "select n, (attrs -> '$.clock.offset_s')::DOUBLE, "
            "(attrs -> '$.certs.\"/c.pem\".days_left')::INT, "
            "attrs ->> '$.certs.\"/c.pem\".subject' from (select 1 n, * from resources_at(1) "
            "union all select 3, * from resources_at(3)) order by n"
        )[1]
        assert rows == [(1, 0.01, 30, "CN=x"), (3, 12.5, 28, "CN=x")]
        assert [v.first_scan for v in store.history("ssh://web-01")] == [1]

    def test_tampered_measurement_breaks_the_scan(self, store: Store) -> None:
        """Editing a stored measurement breaks that scan's content hash."""
        write(store, [self._run(self._host(12.5, 3))])
        assert store.verify().ok
        store.con.execute("""update observation set data = '{"clock":{"offset_s":0.0}}'""")
        assert any("scan 1: observed content altered" in p for p in store.verify().problems)


def test_writer_and_verify_agree_on_awkward_values(store: Store) -> None:
    """Non-ASCII text, separators inside values, nulls and booleans hash the same in Python and SQL."""
    odd = Resource(
        key="arn:aws:s3:::bücket-;1:2~", provider="aws", source="src;x", account="1", region="ü",
        type="AWS::S3::Bucket", name="名前", tags={"k;": "v:~"}, attrs={"x": [1, None, "é"]},
        encrypted=None, public=False, error="parse: bad ~;",
    )  # fmt: skip
    run = SourceRun(
        "src;x", "aws", resources=[odd], slices=[Slice("src;x", "aws", "all", resources=1)]
    )
    run.finish()
    write(store, [run])
    assert store.verify().ok, store.verify().problems


def test_python_hash_matches_the_sql_macro_on_escapes(store: Store) -> None:
    """Control characters, backslashes before "u00" and nested escapes hash as version_hash does."""
    odd = "".join(chr(i) for i in range(32)) + '\x7f \\u001f \\\\u00ab \\\x1f "q" 😀\u2028'
    cases = [(True, False, None), (None, None, odd), (False, True, "")]
    res = [
        Resource(
            key=f"k{i}{odd}",
            provider="aws",
            source="s",
            account=odd,
            region="r",
            type="t",
            name=odd,
            tags={odd: odd},
            attrs={"a": [odd, 1.5, None], odd: {"n": odd}},
            encrypted=enc,
            public=pub,
            error=err,
        )
        for i, (enc, pub, err) in enumerate(cases)
    ]
    run = SourceRun("s", "aws", resources=res, slices=[Slice("s", "aws", "all", resources=3)])
    run.finish()
    write(store, [run])
    assert store.verify().ok, store.verify().problems
    stored = store.query(
        "select count(*) from version where doc_hash = version_hash(key, provider, source, "
        "account, region, type, name, tags, attrs, encrypted, public, error)"
    )[1][0][0]
    assert stored == 3


def test_last_seen_ignores_scans_that_could_not_read_the_resource(store: Store) -> None:
    """A version carried forward through an unread scan was last seen before that scan."""
    write(store, [make_run(make_resources(4))])
    write(store, [make_run(make_resources(4), failed_regions=("eu-west-1",))])
    [east] = store.history("arn:aws:s3:::bucket-000000")  # us-east-1: read both times
    [west] = store.history("arn:aws:s3:::bucket-000001")  # eu-west-1: unread in scan 2
    first, second = (r.started_at for r in reversed(store.scans()))
    assert east.last_seen == second
    assert west.last_seen == first
