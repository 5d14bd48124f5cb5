"""Rule `types:`: a rule whose types no read slice covered is never green, and what it judged."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import yaml
from typer.testing import CliRunner

import driftscan.cli  # noqa: F401  (registers the commands)
from driftscan.assets import rules_dir
from driftscan.clikit import app
from driftscan.compliance import CheckResult, evaluate, load_dirs
from driftscan.model import Resource, Slice, SourceRun
from driftscan.store import Store
from tests.compliance.conftest import (
    ACCOUNT,
    T0,
    aws,
    azure,
    builtin_pack,
    config,
    host,
    write_rule,
)

BUCKETS = "SELECT key AS resource, CASE WHEN public THEN 'alarm' ELSE 'ok' END AS status, 'x' AS reason FROM resources WHERE type = 'AWS::S3::Bucket'"
ANY = "SELECT key AS resource, 'ok' AS status, 'seen' AS reason FROM resources"


def scan_with(store: Store, runs: list[SourceRun], day: int = 0) -> int:
    at = T0 + timedelta(days=day)
    for r in runs:
        r.finish()
    return store.write_scan(runs, started_at=at, finished_at=at, tool_version="t").scan_id


def aws_run(resources: list[Resource], *slices: Slice) -> SourceRun:
    run = SourceRun("aws-prod", "aws")
    run.resources.extend(resources)
    run.slices.extend(slices)
    return run


def aws_slice(types: list[str], status: str = "ok", reason: str | None = None) -> Slice:
    return Slice("aws-prod", "aws", f"{ACCOUNT}/eu-west-1/{types[0] if types else 'all'}",
                 status, reason=reason, account=ACCOUNT, region="eu-west-1",  # type: ignore[arg-type]
                 types=types)  # fmt: skip


def pack_of(tmp_path: Path, **rules: tuple[str, list[str]]) -> object:
    for rid, (query, types) in rules.items():
        write_rule(tmp_path / "rules", rid, query, **({"types": types} if types else {}))
    return load_dirs([tmp_path / "rules"])


def run_check(store: Store, pack: object) -> CheckResult:
    return evaluate(config(), store, pack=pack)  # type: ignore[arg-type]


def one(res: CheckResult, rule: str) -> list[tuple[str, str, str]]:
    return sorted((f.resource, f.status, f.reason) for f in res.findings if f.rule == rule)


class TestTypesNotRead:
    def test_type_in_no_slice_is_not_assessed(self, tmp_path: Path, store: Store) -> None:
        """An AWS source was read, but no slice lists the rule's type: one not_assessed finding
        naming the types, never an empty (clean) result."""
        scan_with(store, [aws_run([], aws_slice(["AWS::EC2::Instance"]))])
        res = run_check(store, pack_of(tmp_path, buckets=(BUCKETS, ["AWS::S3::Bucket"])))
        [(resource, status, reason)] = one(res, "buckets")
        assert (resource, status) == ("types:buckets", "not_assessed")
        assert "AWS::S3::Bucket" in reason and res.exit_code == 3

    def test_failed_slice_of_the_type_names_its_reason(self, tmp_path: Path, store: Store) -> None:
        """Only a failed slice covered the type: not_assessed with that slice's reason."""
        scan_with(store, [aws_run([], aws_slice(["AWS::S3::Bucket"], "failed", "denied"),
                                  aws_slice(["AWS::EC2::Instance"]))])  # fmt: skip
        res = run_check(store, pack_of(tmp_path, buckets=(BUCKETS, ["AWS::S3::Bucket"])))
        [(_resource, status, reason)] = one(res, "buckets")
        assert status == "not_assessed" and "denied" in reason and "eu-west-1" in reason

    def test_read_slice_lets_the_rule_run_ignoring_case(self, tmp_path: Path, store: Store) -> None:
        """A rule's types match the slice's ignoring case: the rule runs and judges the buckets."""
        b = aws("AWS::S3::Bucket", "b", public=True)
        scan_with(store, [aws_run([b], aws_slice(["AWS::S3::Bucket"]))])
        res = run_check(store, pack_of(tmp_path, buckets=(BUCKETS, ["aws::s3::bucket"])))
        assert [s for _, s, _ in one(res, "buckets")] == ["alarm"]
        assert res.evaluated == {"buckets": {"AWS::S3::Bucket": 1}}

    def test_read_slice_with_nothing_of_the_type_is_clean(
        self, tmp_path: Path, store: Store
    ) -> None:
        """A slice of the type was read and held none: the rule ran and had nothing to judge."""
        scan_with(store, [aws_run([], aws_slice(["AWS::S3::Bucket"]))])
        res = run_check(store, pack_of(tmp_path, buckets=(BUCKETS, ["AWS::S3::Bucket"])))
        assert one(res, "buckets") == [] and res.exit_code == 0

    def test_rule_without_types_behaves_as_before(self, tmp_path: Path, store: Store) -> None:
        """No `types:`: no pseudo-finding, whatever the slices."""
        scan_with(store, [aws_run([], aws_slice(["AWS::EC2::Instance"]))])
        res = run_check(store, pack_of(tmp_path, buckets=(BUCKETS, [])))
        assert one(res, "buckets") == [] and res.exit_code == 0

    def test_glob_pattern_covers_a_slice(self, tmp_path: Path, store: Store) -> None:
        """`AWS::*` is covered by any read AWS slice."""
        scan_with(store, [aws_run([], aws_slice(["AWS::EC2::Instance"]))])
        res = run_check(store, pack_of(tmp_path, anything=(ANY, ["AWS::*"])))
        assert one(res, "anything") == []

    def test_source_of_another_kind_only_is_skip(self, tmp_path: Path, store: Store) -> None:
        """A scan of hosts only: an AWS rule does not apply (skip, with the types named)."""
        run = SourceRun("dc1", "ssh")
        run.resources.append(host("web-01"))
        run.slices.append(
            Slice("dc1", "ssh", "web-01", "ok", types=["host"], keys=["ssh://web-01"])
        )
        scan_with(store, [run])
        res = run_check(store, pack_of(tmp_path, buckets=(BUCKETS, ["AWS::S3::Bucket"]),
                                       hosts=(ANY, ["host"])))  # fmt: skip
        [(resource, status, reason)] = one(res, "buckets")
        assert (resource, status) == ("types:buckets", "skip") and "AWS::S3::Bucket" in reason
        assert [s for _, s, _ in one(res, "hosts")] == ["ok"]
        assert res.evaluated["hosts"] == {"host": 1}

    def test_subscription_slice_covers_every_arm_type(self, tmp_path: Path, store: Store) -> None:
        """An Azure subscription slice lists no types: it covers every ARM type (the provider
        says which are its own), so a rule over a type with no resources there is clean."""
        run = SourceRun("azure-prod", "azure")
        run.resources.append(azure("Microsoft.Storage/storageAccounts", "st1"))
        run.slices.append(Slice("azure-prod", "azure", "sub", "ok", account="sub", types=[]))
        scan_with(store, [run])
        res = run_check(store, pack_of(
            tmp_path, gw=(ANY + " WHERE false", ["microsoft.network/applicationgateways"]),
            st=(ANY, ["Microsoft.Storage/storageAccounts"])))  # fmt: skip
        assert one(res, "gw") == []
        assert res.evaluated == {"st": {"microsoft.storage/storageaccounts": 1}}

    def test_failed_subscription_makes_arm_rules_not_assessed(
        self, tmp_path: Path, store: Store
    ) -> None:
        """A subscription that could not be read, with nothing ever stored from it: an ARM rule
        reports not_assessed instead of an empty, clean-looking result."""
        run = SourceRun("azure-prod", "azure")
        run.slices.append(Slice("azure-prod", "azure", "sub", "failed", reason="throttled",
                                account="sub", types=[]))  # fmt: skip
        scan_with(store, [run])
        res = run_check(
            store, pack_of(tmp_path, gw=(ANY, ["microsoft.network/applicationgateways"]))
        )
        [(_resource, status, reason)] = one(res, "gw")
        assert status == "not_assessed" and "throttled" in reason


class TestBuiltinPack:
    def test_every_resource_rule_declares_types(self) -> None:
        """Every built-in rule that evaluates resources declares its types; the meta rules over
        drift, coverage and waivers declare none."""
        pack = builtin_pack()
        meta = {r for r in pack.rules if r.startswith(("drift_", "coverage_", "waiver_"))}
        lacking = sorted(r.id for r in pack.rules.values() if not r.spec.types and r.id not in meta)
        assert lacking == []
        assert all(not pack.rules[r].spec.types for r in meta)
        assert load_dirs([rules_dir()]).rules["host_file_hash"].spec.types == ["host"]


class TestCheckJson:
    def test_check_json_says_what_each_rule_evaluated(self, tmp_path: Path) -> None:
        """`check --format json` carries, per rule, how many resources of which type it judged."""
        write_rule(tmp_path / "rules", "buckets", BUCKETS, types=["AWS::S3::Bucket"])
        cfg = tmp_path / "driftscan.yaml"
        cfg.write_text(yaml.safe_dump({"store": "s.duckdb", "rules": ["./rules"]}))
        with Store(tmp_path / "s.duckdb") as st:
            scan_with(st, [aws_run([aws("AWS::S3::Bucket", "a", public=False),
                                    aws("AWS::S3::Bucket", "b", public=True)],
                                   aws_slice(["AWS::S3::Bucket"]))])  # fmt: skip
        res = CliRunner().invoke(app, ["check", "-c", str(cfg), "--format", "json"])
        doc = json.loads(res.stdout)
        assert res.exit_code == 1 and doc["evaluated"] == {"buckets": {"AWS::S3::Bucket": 2}}


class TestReport:
    def test_report_says_what_each_rule_judged(self, tmp_path: Path, store: Store) -> None:
        """The report data and report.json's rules carry the per-type counts of each rule."""
        from driftscan.report import build_report_data
        from driftscan.report.document import document, rule_summary

        b = [aws("AWS::S3::Bucket", n, public=False) for n in ("a", "b", "c")]
        scan_with(store, [aws_run(b, aws_slice(["AWS::S3::Bucket"]))])
        pack = pack_of(tmp_path, buckets=(BUCKETS, ["AWS::S3::Bucket"]))
        cfg = config(reports={"dir": str(tmp_path / "out")})
        evaluate(cfg, store, pack=pack)  # type: ignore[arg-type]
        data = build_report_data(cfg, store, pack=pack, verify_chain=False)  # type: ignore[arg-type]
        assert data.evaluated == {"buckets": {"AWS::S3::Bucket": 3}}
        doc = document(data)
        assert doc["rules"]["buckets"]["evaluated"] == {"AWS::S3::Bucket": 3}
        assert rule_summary(doc)[0]["evaluated"] == {"AWS::S3::Bucket": 3}


def test_a_verdict_on_an_account_counts_as_a_scope_not_as_nothing(
    tmp_path: Path, store: Store
) -> None:
    """A rule that judges the account itself (a key no resource has) evaluated something: it is
    counted as an account or region scope; a rule's own error row (`rule:<id>`) is not."""
    from driftscan.store.rule_types import SCOPE_VERDICT

    scan_with(store, [aws_run([aws("AWS::S3::Bucket", "a", public=False)],
                              aws_slice(["AWS::S3::Bucket"]))])  # fmt: skip
    account = ("SELECT 'aws-prod/123456789012' AS resource, 'alarm' AS status, "
               "'no trail in the account' AS reason")  # fmt: skip
    broken = "SELECT key AS resource, 'ok' AS status, 'x' AS reason FROM resources WHERE nope"
    pack = pack_of(tmp_path, account=(account, ["AWS::S3::Bucket"]),
                   broken=(broken, ["AWS::S3::Bucket"]))  # fmt: skip
    res = run_check(store, pack)
    assert res.evaluated.get("account") == {SCOPE_VERDICT: 1}
    assert "broken" not in res.evaluated
