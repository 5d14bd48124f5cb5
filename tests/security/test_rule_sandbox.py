"""Rules are untrusted input: one read-only, bounded SELECT that cannot touch the store or files."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftscan.compliance import evaluate, load_dirs, validate_sql
from driftscan.compliance.rules import Rule, RulePack, RuleSpec
from driftscan.errors import RuleError
from driftscan.model import Finding
from driftscan.store import Store
from tests.compliance.conftest import aws, config, statuses, write_rule, write_scan

# Closes the wrapper CTE today's engine puts around a rule, then appends writes.
INJECTION = (
    "SELECT 1) SELECT 1; UPDATE scan_ledger SET status='complete'; DELETE FROM finding; "
    "WITH __r AS (SELECT key AS resource, 'ok' AS status, '' AS reason FROM resources"
)
FINE = "SELECT key AS resource, 'alarm' AS status, 'bad' AS reason FROM resources"


def _bucket(name: str) -> object:
    return aws("AWS::S3::Bucket", name)


def _pack_of(**queries: str) -> RulePack:
    """A pack built in memory, bypassing the loader's checks (as a tampered pack would)."""
    rules = {
        rid: Rule(
            RuleSpec(
                id=rid,
                title=rid,
                severity="high",
                description="d",
                risk="r",
                remediation="m",
                query=q,
            ),
            f"{rid}.yaml",
            7,
        )
        for rid, q in queries.items()
    }
    return RulePack(rules=rules, frameworks={}, hash="test", dirs=[])


def _ledger(store: Store) -> list[tuple[object, ...]]:
    return store.con.execute("SELECT scan_id, status, chain_hash FROM scan_ledger").fetchall()


class TestOneSelect:
    def test_injection_is_refused_on_load(self, tmp_path: Path) -> None:
        """A rule file whose query closes the wrapper and appends statements does not load."""
        path = write_rule(tmp_path, "evil", INJECTION)
        with pytest.raises(RuleError) as info:
            load_dirs([tmp_path])
        assert info.value.file == str(path) and info.value.line is not None

    def test_injection_is_refused_at_run(self, store: Store) -> None:
        """A multi-statement query that reached the engine anyway changes nothing in the store."""
        write_scan(store, [aws("AWS::S3::Bucket", "b")], failed=[])
        store.con.execute("UPDATE scan_ledger SET status = 'incomplete'")
        before = _ledger(store)
        res = evaluate(config(), store, pack=_pack_of(evil=INJECTION, fine=FINE))
        assert statuses(res, "evil") == {"rule:evil": "error"}
        assert set(statuses(res, "fine").values()) == {"alarm"}
        assert _ledger(store) == before
        assert store.con.execute("SELECT count(*) FROM finding").fetchall()[0][0] > 0

    @pytest.mark.parametrize(
        "query",
        [
            "UPDATE scan_ledger SET status = 'complete'",
            "SELECT key AS resource, 'ok' AS status, '' AS reason FROM resources; DELETE FROM span",
        ],
    )
    def test_writes_never_run(self, store: Store, query: str) -> None:
        """A rule that writes reports an error, and the store is left as it was."""
        write_scan(store, [aws("AWS::S3::Bucket", "b")])
        spans = store.con.execute("SELECT count(*) FROM span").fetchall()
        before = _ledger(store)
        res = evaluate(config(), store, pack=_pack_of(w=query))
        assert statuses(res, "w") == {"rule:w": "error"}
        assert _ledger(store) == before
        assert store.con.execute("SELECT count(*) FROM span").fetchall() == spans


class TestNoFiles:
    QUERY = "SELECT content AS resource, 'alarm' AS status, 'x' AS reason FROM read_text('{p}')"

    def test_read_text_fails_validation(self, tmp_path: Path, store: Store) -> None:
        """`rules validate` refuses a rule that reads a local file."""
        secret = tmp_path / "shadow"
        secret.write_text("root:$6$canary-shadow-hash:19000::::::\n")
        write_rule(tmp_path / "r", "peek", self.QUERY.format(p=secret))
        errors = validate_sql(store, config(), load_dirs([tmp_path / "r"]))
        assert len(errors) == 1 and "peek" in (errors[0].file or "")

    def test_read_text_never_reaches_findings(self, tmp_path: Path, store: Store) -> None:
        """A rule that reads a local file at check time gets an error, never the file's text."""
        secret = tmp_path / "shadow"
        secret.write_text("root:$6$canary-shadow-hash:19000::::::\n")
        write_scan(store, [aws("AWS::S3::Bucket", "b")])
        res = evaluate(config(), store, pack=_pack_of(peek=self.QUERY.format(p=secret)))
        assert statuses(res, "peek") == {"rule:peek": "error"}
        dump = str(store.con.execute("SELECT * FROM finding").fetchall())
        assert "canary-shadow-hash" not in dump


class TestBounded:
    @staticmethod
    def _finding(store: Store, sql: str, **limits: float) -> Finding:
        """The finding of a rule `r` running `sql` under `limits`; the other rule goes on."""
        write_scan(store, [aws("AWS::S3::Bucket", "b")])
        res = evaluate(config(**limits), store, pack=_pack_of(r=sql, fine=FINE))
        assert set(statuses(res, "fine").values()) == {"alarm"}
        return next(f for f in res.findings if f.rule == "r")

    def test_time_limit(self, store: Store) -> None:
        """A rule that runs past rules_timeout_s reports an error; the other rules go on."""
        slow = (
            "SELECT 'x' AS resource, 'ok' AS status, sum(a.range * b.range)::VARCHAR AS reason "
            "FROM range(1000000) a, range(1000000) b"
        )
        f = self._finding(store, slow, rules_timeout_s=1)
        assert f.status == "error" and "time limit" in f.reason

    def test_memory_limit(self, store: Store) -> None:
        """A rule that builds more than rules_memory_mb reports an error; the others go on."""
        hog = (
            "SELECT 'x' AS resource, 'ok' AS status, len(list(range))::VARCHAR AS reason "
            "FROM range(200000000)"
        )
        f = self._finding(store, hog, rules_memory_mb=64)
        assert f.status == "error" and "memory limit" in f.reason

    def test_one_huge_string_is_past_the_memory_limit(self, store: Store) -> None:
        """repeat() builds its value outside DuckDB's buffer accounting: a 1.5 GB string under
        rules_memory_mb 128 was recorded as `ok` at 3 GB of the process."""
        hog = (
            "SELECT 'x' AS resource, 'ok' AS status, "
            "length(repeat('a', 1500000000))::VARCHAR AS reason"
        )
        f = self._finding(store, hog, rules_memory_mb=128)
        assert f.status == "error" and "memory limit of 128 MB" in f.reason, f.reason

    def test_an_answer_that_came_past_the_time_limit_is_an_error(self, store: Store) -> None:
        """DuckDB cannot interrupt one long function call: its late answer is no verdict."""
        slow = (
            "SELECT 'x' AS resource, 'ok' AS status, "
            "length(repeat('ab', 1000000000))::VARCHAR AS reason"
        )
        f = self._finding(store, slow, rules_timeout_s=0.5, rules_memory_mb=4096)
        assert f.status == "error" and "time limit of 0.5 s" in f.reason, f.reason
