"""Retention: old scans pruned, the file compacted, the chain still verifiable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from driftscan.store import Store
from driftscan.store.retention import compact, prune
from tests.conftest import make_resources, make_run


def _scan_at(store: Store, when: datetime, n: int, gen: int) -> int:
    run = make_run(make_resources(n, change={i: {"size": gen * 1000 + i} for i in range(0, n, 2)}))
    return store.write_scan([run], started_at=when, finished_at=when, tool_version="t").scan_id


def test_prune_drops_old_content_but_keeps_the_chain(store_path: Path) -> None:
    """Scans older than keep_days lose their content; the ledger and chain stay verifiable."""
    now = datetime.now(UTC)
    with Store(store_path) as st:
        for age in (40, 35, 20, 1):
            _scan_at(st, now - timedelta(days=age), 200, age)
        before = st.query("select count(*) from version")[1][0][0]
        assert prune(st, 30, now=now) == [1, 2]
        assert st.query("select count(*) from version")[1][0][0] < before
        assert st.query("select count(*) from source_run where scan_id <= 2")[1][0][0] == 0
        assert [r.pruned for r in reversed(st.scans())] == [True, True, False, False]
        res = st.verify()
        assert res.ok, res.problems
        assert st.query("select count(*) from resources")[1][0][0] == 200
        assert prune(st, 30, now=now) == []


def test_compaction_shrinks_the_file_and_keeps_it_valid(store_path: Path) -> None:
    """After pruning, compaction returns space and the store still verifies."""
    now = datetime.now(UTC)
    with Store(store_path) as st:
        for age in range(12, 0, -1):
            _scan_at(st, now - timedelta(days=age), 3000, age)
        prune(st, 2, now=now)
    before, after = compact(store_path)
    assert after < before
    with Store(store_path) as st:
        assert st.verify().ok
        assert st.query("select count(*) from resources")[1][0][0] == 3000


def test_marking_a_kept_scan_pruned_is_caught(store_path: Path) -> None:
    """Flagging a scan in the middle as pruned (to skip its content check) is reported."""
    now = datetime.now(UTC)
    with Store(store_path) as st:
        for age in (3, 2, 1):
            _scan_at(st, now - timedelta(days=age), 10, age)
        st.con.execute("update scan_ledger set pruned = true where scan_id = 2")
        assert any("marked pruned after a kept scan" in p for p in st.verify().problems)
