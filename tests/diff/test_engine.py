"""The drift engine: missing, unmanaged and changed, ignore rules, coverage, hosts and scan deltas."""

from __future__ import annotations

import copy
from typing import Any

from driftscan.config import IgnoreRule
from driftscan.desired import Declaration, DesiredSet
from driftscan.desired.declaration import Check
from driftscan.drift import between, compare
from driftscan.store import Store
from tests.conftest import make_resources, make_run, write
from tests.diff.conftest import NGINX_CONF, host, host_run

S3 = "AWS::S3::Bucket"


def bucket(i: int, source: str = "a.yaml:1", **declared: Any) -> Declaration:
    return Declaration(f"arn:aws:s3:::bucket-{i:06d}", "aws", S3, source, declared=declared)


def web(**over: Any) -> Declaration:
    d = Declaration(
        "ssh://web-01", "ssh", "host", "hosts.yaml:2", account="dc1", region="site-a", name="web-01",
        declared={
            "packages": {"nginx": "1.24.0-2"},
            "services": {"nginx": "running"},
            "files": {"/etc/nginx/nginx.conf": {"sha256": NGINX_CONF}},
            "containers": {"payments": {"image": "registry.example/payments:2.3", "digest": "sha256:aaaa"}},
        },
        checks=[
            Check(("packages", "openssl"), "min_version", "3.0.13"),
            Check(("certs", "/etc/ssl/certs/payments.pem", "days_left"), "min", 30),
        ],
    )  # fmt: skip
    for k, v in over.items():
        setattr(d, k, v)
    return d


def kinds(result: Any) -> dict[str, str]:
    return {d.resource: d.kind for d in result.drifts}


class TestKinds:
    def test_clean_estate_has_no_drift(self, store: Store) -> None:
        """Declarations that match and cover every live resource give no drift and 100 % managed."""
        write(store, [make_run(make_resources(4))])
        res = compare(store, DesiredSet([bucket(i, versioning="Enabled") for i in range(4)]))
        assert res.drifts == [] and res.complete
        assert res.coverage["managed_pct"] == 100.0 and res.coverage["unmanaged"] == 0

    def test_changed_attribute_gives_path_desired_and_actual(self, store: Store) -> None:
        """A declared attribute that differs is reported with its path, desired and actual value."""
        write(store, [make_run(make_resources(2, change={1: {"versioning": "Suspended"}}))])
        decls = [
            bucket(0, versioning="Enabled"),
            bucket(1, "b.yaml:4", versioning="Enabled", tags={"team": "t9"}),
        ]
        (d,) = compare(store, DesiredSet(decls)).drifts
        assert (d.resource, d.kind, d.desired_source, d.type, d.provider) == (
            "arn:aws:s3:::bucket-000001", "changed", "b.yaml:4", S3, "aws",
        )  # fmt: skip
        assert [(c["path"], c["desired"], c["actual"]) for c in d.changes] == [
            ("tags.team", "t9", "t1"),
            ("versioning", "Enabled", "Suspended"),
        ]

    def test_undeclared_attributes_are_not_compared(self, store: Store) -> None:
        """Partial declarations compare only what they name; extra live tags are fine."""
        write(store, [make_run(make_resources(1, change={0: {"size": 99}}))])
        res = compare(
            store, DesiredSet([bucket(0, tags={"team": "t0"}, encrypted=True, public=False)])
        )
        assert res.drifts == []

    def test_missing_and_unmanaged(self, store: Store) -> None:
        """Declared but absent is missing; live but declared nowhere is unmanaged."""
        write(store, [make_run(make_resources(3))])
        gone = Declaration("arn:aws:s3:::bucket-000777", "aws", S3, "a.yaml:9", region="us-east-1")
        res = compare(store, DesiredSet([bucket(0), bucket(1), gone]))
        assert kinds(res) == {
            "arn:aws:s3:::bucket-000002": "unmanaged",
            "arn:aws:s3:::bucket-000777": "missing",
        }
        assert res.coverage["sources"] == [
            {"provider": "aws", "source": "aws-test", "live": 3, "assessed": 3, "managed": 2,
             "unmanaged": 1, "managed_pct": 66.7},
        ]  # fmt: skip

    def test_identity_declaration_resolves_against_the_scan(self, store: Store) -> None:
        """A declaration by provider, type, region and name finds its live resource, or is missing."""
        write(store, [make_run(make_resources(2))])
        by_name = Declaration(
            None,
            "aws",
            S3,
            "a.yaml:3",
            region="eu-west-1",
            name="bucket-000001",
            declared={"size": 7},
        )
        absent = Declaration(None, "aws", S3, "a.yaml:4", region="us-east-1", name="bucket-000001")
        res = compare(store, DesiredSet([bucket(0), by_name, absent]))
        assert kinds(res) == {
            "arn:aws:s3:::bucket-000001": "changed",
            "aws:AWS::S3::Bucket:*:us-east-1:bucket-000001": "missing",
        }

    def test_presence_only_declaration_manages_without_comparing(self, store: Store) -> None:
        """A Terraform type without a mapping makes its resource managed and compares nothing."""
        write(store, [make_run(make_resources(1))])
        d = bucket(0, versioning="Anything")
        d.presence_only = True
        assert compare(store, DesiredSet([d])).drifts == []


class TestCoverageOfSlices:
    def test_resource_in_unread_slice_is_never_missing(self, store: Store) -> None:
        """A declared resource whose region could not be read is not assessed, never missing."""
        write(store, [make_run(make_resources(4))])
        write(
            store,
            [
                make_run(
                    make_resources(4, change={1: {"versioning": "Off"}}),
                    failed_regions=("eu-west-1",),
                )
            ],
        )
        never_seen = Declaration(
            "arn:aws:s3:::bucket-000999", "aws", S3, "a.yaml:7", region="eu-west-1"
        )
        decls = [bucket(i, versioning="Enabled") for i in range(4)] + [never_seen]
        res = compare(store, DesiredSet(decls))
        assert res.status == "incomplete" and res.drifts == []
        assert res.coverage["declared_not_assessed"] == 3
        status = dict(store.query("select key, status from desired")[1])
        assert status["arn:aws:s3:::bucket-000001"] == "not_assessed"
        assert status["arn:aws:s3:::bucket-000999"] == "not_assessed"
        assert status["arn:aws:s3:::bucket-000000"] == "ok"

    def test_unknown_type_is_never_missing(self, store: Store) -> None:
        """A declaration whose type cannot be known (presence only, unmapped) is not called missing."""
        write(store, [make_run(make_resources(1))])
        d = Declaration(
            "arn:aws:iam::111122223333:policy/x",
            "aws",
            None,
            "tf#aws_iam_policy.x",
            presence_only=True,
        )
        assert compare(store, DesiredSet([bucket(0), d])).drifts == []


class TestIgnore:
    def test_ignore_rule_hides_a_volatile_attribute(self, store: Store) -> None:
        """An ignore rule for the type and path keeps that attribute out of the drift."""
        write(store, [make_run(make_resources(1, change={0: {"size": 5}}))])
        decls = DesiredSet([bucket(0, size=1, versioning="Enabled")])
        assert kinds(compare(store, decls)) == {"arn:aws:s3:::bucket-000000": "changed"}
        rules = [IgnoreRule(type="AWS::S3::*", path="size")]
        assert compare(store, decls, ignore=rules).drifts == []
        other = [IgnoreRule(type="AWS::EC2::Instance", path="size")]
        assert compare(store, decls, ignore=other).drifts != []


class TestHosts:
    def test_matching_host_is_clean(self, store: Store) -> None:
        """Exact packages, services, hashes, containers and met minimums give no drift."""
        write(store, [host_run([host()])])
        assert compare(store, DesiredSet([web()])).drifts == []

    def test_host_checks_report_each_violation(self, store: Store) -> None:
        """Old package, low cert days, wrong hash, stopped service and a moved digest are drift."""
        h = host(
            packages={"nginx": "1.24.0-2", "openssl": "3.0.2-0ubuntu1"},
            services={"nginx": "dead"},
            certs={"/etc/ssl/certs/payments.pem": {"days_left": 12}},
            containers={
                "payments": {"image": "registry.example/payments:2.3", "digest": "sha256:bbbb"}
            },
        )
        files = copy.deepcopy(h.attrs["files"])
        files["/etc/nginx/nginx.conf"]["sha256"] = "0" * 64
        h.attrs["files"] = files
        write(store, [host_run([h])])
        (d,) = compare(store, DesiredSet([web()])).drifts
        assert [(c["path"], c["desired"], c["actual"]) for c in d.changes] == [
            ("certs./etc/ssl/certs/payments.pem.days_left", ">= 30", 12),
            ("containers.payments.digest", "sha256:aaaa", "sha256:bbbb"),
            ("files./etc/nginx/nginx.conf.sha256", NGINX_CONF, "0" * 64),
            ("packages.openssl", ">= 3.0.13", "3.0.2-0ubuntu1"),
            ("services.nginx", "running", "dead"),
        ]
        ops = dict(store.query("select path, op from drift_changes")[1])
        assert ops["packages.openssl"] == "min_version" and ops["services.nginx"] == "eq"

    def test_unread_host_fact_is_not_drift(self, store: Store) -> None:
        """A fact the collector could not read (packages: permission denied) is not assessed, not drift."""
        h = host(packages=None, not_assessed={"packages": "permission denied"})
        write(store, [host_run([h])])
        res = compare(store, DesiredSet([web()]))
        assert res.drifts == []
        assert store.query("select status from desired")[1] == [("not_assessed",)]

    def test_unreachable_host_is_not_missing_but_others_are(self, store: Store) -> None:
        """An unreachable host is not assessed; a declared host absent from a complete fleet is missing."""
        write(store, [host_run([host("web-01"), host("web-02")], unreachable=("web-01",))])
        gone = web(key="ssh://web-03", name="web-03")
        res = compare(store, DesiredSet([web(), web(key="ssh://web-02", name="web-02"), gone]))
        assert kinds(res) == {"ssh://web-03": "missing"} and res.status == "incomplete"


class TestStored:
    def test_views_hold_the_result_per_scan(self, store: Store) -> None:
        """drift, drift_changes, desired and coverage are stored per scan and a re-diff replaces them."""
        write(store, [make_run(make_resources(2, change={0: {"versioning": "Off"}}))])
        decls = DesiredSet([bucket(0, versioning="Enabled")])
        compare(store, decls)
        compare(store, decls)
        assert store.query("select resource, kind from drift order by 1")[1] == [
            ("arn:aws:s3:::bucket-000000", "changed"),
            ("arn:aws:s3:::bucket-000001", "unmanaged"),
        ]
        assert store.query("select path, desired, actual from drift_changes")[1] == [
            ("versioning", '"Enabled"', '"Off"')
        ]
        assert store.query("select key, declared::varchar from desired")[1] == [
            ("arn:aws:s3:::bucket-000000", '{"versioning":"Enabled"}')
        ]
        assert store.query("select path, op, value::varchar from desired_attrs")[1] == [
            ("versioning", "eq", '"Enabled"')
        ]
        assert store.query("select managed, unmanaged from drift_coverage_latest")[1] == [(1, 1)]

    def test_earlier_scan_can_be_diffed(self, store: Store) -> None:
        """--scan N diffs the estate as scan N saw it."""
        write(store, [make_run(make_resources(2))])
        write(store, [make_run(make_resources(2, change={0: {"versioning": "Off"}}))])
        decls = DesiredSet([bucket(0, versioning="Enabled"), bucket(1)])
        assert compare(store, decls, scan_id=1).drifts == []
        assert len(compare(store, decls, scan_id=2).drifts) == 1


class TestBetweenScans:
    def test_appeared_disappeared_and_changed(self, store: Store) -> None:
        """Between two complete scans: new keys appeared, gone keys disappeared, edits are changed."""
        write(store, [make_run(make_resources(3))])
        later = make_resources(5, change={0: {"versioning": "Suspended"}})
        write(store, [make_run([r for r in later if r.name != "bucket-000002"])])
        delta = between(store, None, 1)
        got = {
            c["resource"][-6:]: (c["kind"], [(x["path"], x["old"], x["new"]) for x in c["changes"]])
            for c in delta.changes
        }
        assert got == {
            "000000": ("changed", [("versioning", "Enabled", "Suspended")]),
            "000002": ("disappeared", []),
            "000003": ("appeared", []),
            "000004": ("appeared", []),
        }

    def test_not_assessed_resource_never_disappears(self, store: Store) -> None:
        """A resource carried forward because its slice failed is not reported as disappeared."""
        write(store, [make_run(make_resources(4))])
        write(store, [make_run(make_resources(4), failed_regions=("eu-west-1",))])
        assert store.query("select count(*) from resources where not assessed")[1] == [(2,)]
        delta = between(store, 2, 1)
        assert delta.changes == [] and delta.status == "incomplete"

    def test_ignored_path_is_not_a_change(self, store: Store) -> None:
        """Ignore rules apply between scans too: a volatile attribute alone is no change."""
        write(store, [make_run(make_resources(1))])
        write(store, [make_run(make_resources(1, change={0: {"size": 42}}))])
        assert between(store, 2, 1, [IgnoreRule(type="*", path="size")]).changes == []


class TestRecord:
    def test_recorded_diff_reads_like_an_engine_diff(self, store: Store) -> None:
        """record() writes a diff that the drift, drift_changes, desired and desired_attrs views read."""
        import driftscan.store.drift as sd

        write(store, [make_run(make_resources(1))])
        change = {"path": "versioning", "desired": "Enabled", "actual": "Off", "op": "eq"}
        sd.record(
            store, 1,
            drift=[{"resource": "arn:aws:s3:::bucket-000000", "kind": "changed", "desired_source": "a.yaml:1",
                    "changes": [change]}],
            attrs=[("ssh://web-01", "packages.openssl", "min_version", "3.0.13")],
        )  # fmt: skip
        assert store.query("select path, op from drift_changes")[1] == [("versioning", "eq")]
        assert store.query("select key, path, op, value::varchar from desired_attrs")[1] == [
            ("ssh://web-01", "packages.openssl", "min_version", '"3.0.13"')
        ]
        assert (
            dict(store.query("select key, status from desired")[1])["arn:aws:s3:::bucket-000000"]
            == "changed"
        )
