"""The rule engine: per-scan evaluation, not_assessed, errors, scopes, waivers, lifecycle."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from driftscan.compliance import evaluate, load_dirs
from driftscan.model import Resource
from driftscan.store import Store, reads
from tests.compliance.conftest import (
    ACCOUNT,
    PCI,
    aws,
    builtin_pack,
    by_resource,
    check,
    config,
    failed_slice,
    host,
    statuses,
    write_rule,
    write_scan,
)

PCI_TAG = {"pci": "true"}


def bucket(name: str, *, public: bool, region: str = "eu-west-1") -> Resource:
    """An in-scope bucket, encrypted, TLS-only, MFA Delete and its public access block on (the
    CIS S3 rules assess it): only `public` can fail it."""
    pab = dict.fromkeys(["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                         "RestrictPublicBuckets"], True)  # fmt: skip
    return aws("AWS::S3::Bucket", name, region=region, tags=PCI_TAG, public=public, encrypted=True,
               attrs={"tls_only": True, "versioning": "Enabled", "mfa_delete": "Enabled",
                      "public_access_block": pab})  # fmt: skip


class TestPerScan:
    def test_rules_read_the_scan_being_evaluated(self, store: Store) -> None:
        """Evaluating an older scan judges that scan's state, not the latest."""
        write_scan(store, [bucket("b", public=True)])
        write_scan(store, [bucket("b", public=False)], day=1)
        assert set(statuses(check(store, scan_id=1), "pci_storage_not_public").values()) == {
            "alarm"
        }
        assert set(statuses(check(store, scan_id=2), "pci_storage_not_public").values()) == {"ok"}

    def test_context_is_dropped_after_evaluation(self, store: Store) -> None:
        """After a check the connection sees the store-wide `resources` view again."""
        write_scan(store, [bucket("a", public=False)])
        write_scan(store, [bucket("a", public=False), bucket("b", public=False)], day=1)
        check(store, scan_id=1)
        assert store.query("select count(*) from resources")[1][0][0] == 2


class TestNeverGreenByOmission:
    def test_unread_slice_turns_verdicts_into_not_assessed(self, store: Store) -> None:
        """A resource carried forward from an unread slice is not_assessed with the slice's reason."""
        write_scan(store, [bucket("b", public=False)])
        write_scan(store, [bucket("b", public=False)], day=1, failed=[
            failed_slice("aws-prod", f"{ACCOUNT}/eu-west-1/s3", account=ACCOUNT, region="eu-west-1",
                         reason="throttled", detail="SlowDown")])  # fmt: skip
        res = check(store)
        f = next(iter(by_resource(res, "pci_storage_not_public").values()))
        assert f.status == "not_assessed" and f.reason == "throttled: SlowDown"
        assert res.scan_status == "incomplete" and res.exit_code == 3

    def test_parse_error_resource_is_not_assessed(self, store: Store) -> None:
        """A resource recorded with a parse error is never judged ok."""
        r = bucket("b", public=False)
        r.error = "parse: bad policy document"
        write_scan(store, [r])
        f = next(iter(by_resource(check(store), "pci_storage_not_public").values()))
        assert f.status == "not_assessed" and "parse error" in f.reason

    def test_failing_rule_is_an_error_and_others_still_run(
        self, tmp_path: Path, store: Store
    ) -> None:
        """A rule that fails at run time yields one error finding; the other rules still run."""
        write_rule(
            tmp_path,
            "boom",
            "SELECT key AS resource, 'ok' AS status, (1 / 0)::INT::VARCHAR || CAST('x' AS INTEGER) AS reason FROM resources",
        )
        write_rule(
            tmp_path,
            "fine",
            "SELECT key AS resource, 'alarm' AS status, 'bad' AS reason FROM resources",
        )
        write_scan(store, [bucket("b", public=False)])
        res = evaluate(config(), store, pack=load_dirs([tmp_path]))
        assert statuses(res, "boom") == {"rule:boom": "error"}
        assert set(statuses(res, "fine").values()) == {"alarm"}
        assert res.exit_code == 3

    def test_invalid_status_is_an_error(self, tmp_path: Path, store: Store) -> None:
        """A row with a status outside the contract is reported as a rule error."""
        write_rule(
            tmp_path, "odd", "SELECT key AS resource, 'fail' AS status, '' AS reason FROM resources"
        )
        write_scan(store, [bucket("b", public=False)])
        res = evaluate(config(), store, pack=load_dirs([tmp_path]))
        assert statuses(res, "odd") == {"rule:odd": "error"}


class TestParamsAndScopes:
    def test_params_and_scope_membership_are_visible_to_rules(
        self, tmp_path: Path, store: Store
    ) -> None:
        """param(), param_text() and in_scope() reflect config params and scopes by account, region, host and type."""
        write_rule(tmp_path, "probe", """
            SELECT key AS resource, 'ok' AS status,
                   param_text('greeting') || ' ' || (param('limit')::INT + 1) AS reason,
                   in_scope('eu', key) AS eu, in_scope('fleet', key) AS fleet, in_scope('none', key) AS none
            FROM resources""")  # fmt: skip
        write_scan(store, [bucket("b", public=False), bucket("u", public=False, region="us-east-1"),
                           host("web-01"), host("db-01")])  # fmt: skip
        cfg = config(params={"greeting": "hi", "limit": 4}, scopes={
            "eu": {"accounts": [ACCOUNT], "regions": ["EU-WEST-1"], "types": ["aws::s3::bucket"]},
            "fleet": {"hosts": ["web-01"]}, "none": {"tags": {"pci": "false"}}})  # fmt: skip
        got = by_resource(evaluate(cfg, store, pack=load_dirs([tmp_path])), "probe")
        assert {f.reason for f in got.values()} == {"hi 5"}
        assert [k for k, f in got.items() if f.evidence["eu"]] == [bucket("b", public=False).key]
        assert [k for k, f in got.items() if f.evidence["fleet"]] == ["ssh://web-01"]
        assert not any(f.evidence["none"] for f in got.values())

    def test_scoped_rule_sees_only_its_scope(self, tmp_path: Path, store: Store) -> None:
        """A rule with `scope:` reports only resources of that scope."""
        write_rule(
            tmp_path,
            "all",
            "SELECT key AS resource, 'alarm' AS status, 'x' AS reason FROM resources",
            scope="pci",
        )
        write_scan(store, [bucket("in", public=False), aws("AWS::S3::Bucket", "out")])
        res = evaluate(config(scopes=PCI), store, pack=load_dirs([tmp_path]))
        assert list(statuses(res, "all")) == [bucket("in", public=False).key]


class TestWaivers:
    def _cfg(self, expires: date, resource: str) -> object:
        return config(scopes=PCI, waivers=[{
            "rule": "pci_storage_not_public", "resource": resource, "owner": "alice",
            "reason": "public website bucket", "ticket": "SEC-12", "expires": expires}])  # fmt: skip

    def test_waived_alarm_shows_justification_and_does_not_fail(self, store: Store) -> None:
        """A waived alarm stays an alarm with its waiver, and the exit code is 0."""
        b = bucket("site", public=True)
        write_scan(store, [b])
        res = check(store, self._cfg(date(2027, 1, 31), b.key))  # type: ignore[arg-type]
        f = by_resource(res, "pci_storage_not_public")[b.key]
        assert f.status == "alarm" and f.waiver == {
            "owner": "alice",
            "reason": "public website bucket",
            "ticket": "SEC-12",
            "expires": "2027-01-31",
        }
        assert res.exit_code == 0

    def test_waiver_patterns_match_resources(self, store: Store) -> None:
        """A waiver's resource may be a glob pattern."""
        write_scan(store, [bucket("site-1", public=True), bucket("site-2", public=True)])
        res = check(store, self._cfg(date(2027, 1, 31), "arn:aws:test:*:site-*"))  # type: ignore[arg-type]
        assert all(f.waiver for f in by_resource(res, "pci_storage_not_public").values())

    def test_expired_waiver_stops_applying(self, store: Store) -> None:
        """After its expiry a waiver no longer applies and is itself reported."""
        b = bucket("site", public=True)
        write_scan(store, [b])  # scanned 2026-03-01
        res = check(store, self._cfg(date(2026, 2, 28), b.key))  # type: ignore[arg-type]
        assert by_resource(res, "pci_storage_not_public")[b.key].waiver is None
        assert statuses(res, "waiver_expired") == {b.key: "alarm"}
        assert res.exit_code == 1


class TestLifecycle:
    def test_new_persisting_resolved_regressed(self, store: Store) -> None:
        """An alarm is new, then persisting (first seen kept), resolved when fixed, regressed when back."""
        states = [True, True, False, True]
        for day, public in enumerate(states):
            write_scan(store, [bucket("b", public=public)], day=day * 3)
        key = bucket("b", public=True).key
        seen = []
        for n in range(1, 5):
            f = by_resource(check(store, scan_id=n), "pci_storage_not_public")[key]
            seen.append((f.status, f.lifecycle, f.first_seen_scan))
        assert seen == [("alarm", "new", 1), ("alarm", "persisting", 1), ("ok", "resolved", 1),
                        ("alarm", "regressed", 4)]  # fmt: skip
        view = store.rows("select scan_id, days_in_violation from findings "
                          "where rule = 'pci_storage_not_public' order by scan_id")  # fmt: skip
        assert [r["days_in_violation"] for r in view] == [0, 3, None, 0]

    def test_vanished_alarm_resolves_and_unread_one_does_not(self, store: Store) -> None:
        """An alarm no longer reported is resolved; one whose slice was not read is not_assessed."""
        gone, kept = bucket("gone", public=True), bucket("kept", public=True, region="us-east-1")
        write_scan(store, [gone, kept])
        check(store)
        write_scan(store, [kept], day=1, failed=[failed_slice(
            "aws-prod", "us", account=ACCOUNT, region="us-east-1")])  # fmt: skip
        res = check(store)
        got = by_resource(res, "pci_storage_not_public")
        assert (got[gone.key].status, got[gone.key].lifecycle) == ("ok", "resolved")
        assert (got[kept.key].status, got[kept.key].lifecycle) == ("not_assessed", None)
        write_scan(store, [kept], day=2)
        assert (
            by_resource(check(store), "pci_storage_not_public")[kept.key].lifecycle == "persisting"
        )

    def test_recheck_replaces_a_scans_findings(self, store: Store) -> None:
        """Evaluating a scan twice stores one set of findings, ordered by rule and resource."""
        write_scan(store, [bucket("b", public=True), bucket("a", public=False)])
        first = check(store)
        check(store)
        stored = reads.findings_of_scan(store, 1) or []
        assert [(r.rule, r.resource) for r in stored] == [
            (f.rule, f.resource) for f in first.findings
        ]
        assert first.doc()["findings"] == sorted(
            first.doc()["findings"], key=lambda d: (d["rule"], d["resource"])
        )

    def test_framework_selects_its_rules(self, store: Store) -> None:
        """--framework evaluates only the rules that framework maps."""
        write_scan(store, [bucket("b", public=True)])
        res = check(store, framework="data-residency")
        mapped = {r for ids in builtin_pack().framework("data-residency").requirements.values()
                  for r in ids}  # fmt: skip
        assert set(res.rules) == mapped
        assert {"data_residency_region", "coverage_slice_not_assessed"} <= mapped
        assert len(mapped) < len(builtin_pack().rules) / 4  # a subset, not the whole pack
        assert {f.rule for f in res.findings} <= mapped
        assert all("data-residency" in f.frameworks for f in res.findings)
