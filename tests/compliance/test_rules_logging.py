"""The logging rules: CloudTrail logging per region, log-file validation, log group retention."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from driftscan.model import Resource, Slice, SourceRun
from driftscan.store import Store
from tests.compliance.conftest import (
    ACCOUNT,
    T0,
    aws,
    by_resource,
    check,
    config,
    failed_slice,
    statuses,
    write_scan,
)

SRC = "aws-prod"
TRAIL = "AWS::CloudTrail::Trail"
OTHER = "444455556666"  # a second account of the same source


def trail(
    name: str,
    region: str,
    *,
    logging: bool | None = True,
    multi: bool = False,
    org: bool = False,
    account: str = ACCOUNT,
    management: bool | None = None,
    validation: bool | None = True,
) -> Resource:
    """A trail the way the collector records it: in its home region, under its owner."""
    r = aws(TRAIL, name, region=region, key=f"arn:aws:cloudtrail:{region}:{account}:trail/{name}",
            attrs={"is_logging": logging, "multi_region": multi, "organization_trail": org,
                   "home_region": region, "management_events": management,
                   "log_file_validation": validation})  # fmt: skip
    r.account = account
    return r


def scan_regions(
    store: Store,
    trails: list[Resource],
    regions: dict[tuple[str, str], str | None],
    *,
    day: int = 0,
    extra: list[Slice] = (),  # type: ignore[assignment]
) -> int:
    """One scan of source SRC with a CloudTrail slice per (account, region): ok (None) or failed
    with the given reason; each trail is stored only if its slice was read."""
    run = SourceRun(SRC, "aws")
    for (account, region), reason in regions.items():
        cover: dict[str, Any] = {"account": account, "region": region, "types": [TRAIL]}
        name = f"{account}/{region}/cloudtrail"
        mine = [t for t in trails if (t.account, t.region) == (account, region)]
        if reason is None:
            run.slices.append(Slice(SRC, "aws", name, "ok", resources=len(mine), **cover))
            run.resources.extend(mine)
        else:
            run.slices.append(failed_slice(SRC, name, reason=reason, **cover))
    run.slices.extend(extra)
    run.finish()
    at = T0 + timedelta(days=day)
    return store.write_scan([run], started_at=at, finished_at=at, tool_version="test").scan_id


def region(account: str, name: str) -> str:
    return f"{SRC}/{account}/{name}"


class TestCloudTrailRegionLogging:
    RULE = "cloudtrail_region_logging"

    def test_single_region_trail_covers_only_its_region(self, store: Store) -> None:
        """A logging single-region trail passes its region; a region with a stopped trail alarms."""
        scan_regions(
            store,
            [trail("audit", "us-east-1"), trail("local", "eu-west-1", logging=False)],
            {(ACCOUNT, "us-east-1"): None, (ACCOUNT, "eu-west-1"): None},
        )
        found = by_resource(check(store), self.RULE)
        assert {k: f.status for k, f in found.items()} == {
            region(ACCOUNT, "us-east-1"): "ok",
            region(ACCOUNT, "eu-west-1"): "alarm",
        }
        assert found[region(ACCOUNT, "us-east-1")].reason == "logged by audit"
        assert found[region(ACCOUNT, "eu-west-1")].reason == (
            "no trail logs this region (local: logging off)"
        )

    def test_multi_region_trail_covers_every_region(self, store: Store) -> None:
        """A logging multi-region trail, stored once in its home region, covers every region read."""
        scan_regions(
            store,
            [trail("org", "us-east-1", multi=True)],
            {(ACCOUNT, r): None for r in ("us-east-1", "eu-west-1", "ap-south-1")},
        )
        found = by_resource(check(store), self.RULE)
        assert {f.status for f in found.values()} == {"ok"} and len(found) == 3
        assert found[region(ACCOUNT, "eu-west-1")].reason == "logged by org (us-east-1)"

    def test_stopped_multi_region_trail_or_no_management_events_covers_nothing(
        self, store: Store
    ) -> None:
        """A stopped multi-region trail, or one whose selectors exclude management events, logs nothing."""
        scan_regions(
            store,
            [trail("stopped", "us-east-1", multi=True, logging=False),
             trail("data-only", "us-east-1", multi=True, management=False)],
            {(ACCOUNT, "us-east-1"): None, (ACCOUNT, "eu-west-1"): None},
        )  # fmt: skip
        found = by_resource(check(store), self.RULE)
        assert {f.status for f in found.values()} == {"alarm"}
        assert found[region(ACCOUNT, "eu-west-1")].reason == (
            "no trail logs this region (data-only: management events excluded, stopped: logging off)"
        )

    def test_region_without_any_trail_alarms(self, store: Store) -> None:
        """A region that was read and holds no trail at all alarms."""
        scan_regions(store, [], {(ACCOUNT, "eu-west-1"): None})
        found = by_resource(check(store), self.RULE)[region(ACCOUNT, "eu-west-1")]
        assert (found.status, found.reason) == ("alarm", "no trail logs this region")

    def test_unread_region_is_not_assessed_never_ok(self, store: Store) -> None:
        """A region whose CloudTrail slice failed is not assessed, even beside a multi-region trail."""
        scan_regions(
            store,
            [trail("org", "us-east-1", multi=True)],
            {(ACCOUNT, "us-east-1"): None, (ACCOUNT, "eu-west-1"): "denied"},
        )
        found = by_resource(check(store), self.RULE)
        assert found[region(ACCOUNT, "us-east-1")].status == "ok"
        bad = found[region(ACCOUNT, "eu-west-1")]
        assert bad.status == "not_assessed"
        assert bad.reason == "CloudTrail not read in this region: denied (AccessDenied)"

    def test_uncovered_region_beside_an_unread_one_is_not_assessed(self, store: Store) -> None:
        """No logging trail here, but another region's trails were not read: it may hold a multi-region one."""
        scan_regions(store, [], {(ACCOUNT, "eu-west-1"): None, (ACCOUNT, "us-east-1"): "throttled"})
        found = by_resource(check(store), self.RULE)[region(ACCOUNT, "eu-west-1")]
        assert found.status == "not_assessed"
        assert found.reason == (
            "no trail known to log this region, but trails not read in: us-east-1"
        )

    def test_trail_carried_forward_from_an_unread_slice_is_not_trusted(self, store: Store) -> None:
        """A logging trail last seen before its slice failed does not make any region ok."""
        regions = {(ACCOUNT, "us-east-1"): None, (ACCOUNT, "eu-west-1"): None}
        scan_regions(store, [trail("org", "us-east-1", multi=True)], regions)
        assert set(statuses(check(store), self.RULE).values()) == {"ok"}
        regions[(ACCOUNT, "us-east-1")] = "timeout"
        scan_regions(store, [trail("org", "us-east-1", multi=True)], regions, day=1)
        found = by_resource(check(store), self.RULE)
        assert {f.status for f in found.values()} == {"not_assessed"}
        assert found[region(ACCOUNT, "eu-west-1")].reason == (
            "no trail known to log this region, but status unknown: org (us-east-1); "
            "trails not read in: us-east-1"
        )

    def test_organization_trail_covers_member_accounts(self, store: Store) -> None:
        """A logging organisation trail of the management account covers the members' regions too."""
        scan_regions(
            store,
            [trail("org", "us-east-1", multi=True, org=True)],
            {(ACCOUNT, "us-east-1"): None, (OTHER, "us-east-1"): None, (OTHER, "eu-west-1"): None},
        )
        found = statuses(check(store), self.RULE)
        assert found == {
            region(ACCOUNT, "us-east-1"): "ok",
            region(OTHER, "us-east-1"): "ok",
            region(OTHER, "eu-west-1"): "ok",
        }

    def test_another_accounts_plain_trail_covers_nothing(self, store: Store) -> None:
        """A multi-region trail that is not an organisation trail covers only its own account."""
        scan_regions(
            store,
            [trail("mine", "us-east-1", multi=True)],
            {(ACCOUNT, "us-east-1"): None, (OTHER, "us-east-1"): None},
        )
        found = statuses(check(store), self.RULE)
        assert found == {region(ACCOUNT, "us-east-1"): "ok", region(OTHER, "us-east-1"): "alarm"}

    def test_account_not_read_at_all_is_not_assessed(self, store: Store) -> None:
        """An account whose role could not be assumed (one failed slice, no regions) is not assessed."""
        denied = failed_slice(SRC, f"{OTHER}/*", account=OTHER, detail="cannot assume role")
        scan_regions(
            store, [trail("audit", "us-east-1")], {(ACCOUNT, "us-east-1"): None}, extra=[denied]
        )
        found = by_resource(check(store), self.RULE)
        assert found[region(ACCOUNT, "us-east-1")].status == "ok"
        whole = found[f"{SRC}/{OTHER}"]
        assert (whole.status, whole.reason) == (
            "not_assessed",
            "CloudTrail not read for this account: denied (cannot assume role)",
        )

    def test_other_global_slices_are_not_regions(self, store: Store) -> None:
        """Failed slices of other services (IAM, S3 listing) raise no CloudTrail finding."""
        iam = failed_slice(SRC, f"{ACCOUNT}/global/iam", account=ACCOUNT, types=["AWS::IAM::Role"])
        scan_regions(store, [trail("audit", "eu-west-1")], {(ACCOUNT, "eu-west-1"): None},
                     extra=[iam])  # fmt: skip
        assert statuses(check(store), self.RULE) == {region(ACCOUNT, "eu-west-1"): "ok"}

    def test_mapped_to_pci_10_2_1(self, store: Store) -> None:
        """The finding carries PCI DSS 10.2.1 from the framework file."""
        scan_regions(store, [], {(ACCOUNT, "eu-west-1"): None})
        [f] = by_resource(check(store), self.RULE).values()
        assert "10.2.1" in str(f.frameworks)


class TestLogFileValidation:
    def test_validation_on_passes_off_alarms(self, store: Store) -> None:
        """A trail with log-file validation passes; one without alarms; unknown is not assessed."""
        write_scan(store, [
            trail("good", "us-east-1"),
            trail("bad", "eu-west-1", validation=False),
            trail("unknown", "eu-west-1", validation=None),
        ])  # fmt: skip
        got = {k.rsplit("/", 1)[-1]: v
               for k, v in statuses(check(store), "cloudtrail_log_file_validation").items()}  # fmt: skip
        assert got == {"good": "ok", "bad": "alarm", "unknown": "not_assessed"}


class TestLogGroupRetention:
    RULE = "logging_log_group_retention"

    def group(self, name: str, days: int | None, *, pci: bool = True) -> Resource:
        return aws("AWS::Logs::LogGroup", name, tags={"pci": "true"} if pci else {},
                   key=f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:{name}",
                   attrs={"retention_days": days, "kms_key_id": None})  # fmt: skip

    def test_short_retention_alarms(self, store: Store) -> None:
        """In-scope groups kept under a year alarm; a year or more, or never expiring, pass."""
        write_scan(store, [self.group("/audit", 365), self.group("/forever", None),
                           self.group("/debug", 14), self.group("/other", 1, pci=False)])  # fmt: skip
        found = by_resource(check(store), self.RULE)
        got = {k.rsplit(":", 1)[-1]: f.status for k, f in found.items()}
        assert got == {"/audit": "ok", "/forever": "ok", "/debug": "alarm"}
        debug = found[f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/debug"]
        assert debug.reason == "events kept 14 days (at least 365 required)"

    def test_minimum_is_a_parameter(self, store: Store) -> None:
        """param log_retention_min_days sets the minimum."""
        write_scan(store, [self.group("/debug", 14)])
        cfg = config(
            scopes={"pci": {"tags": {"pci": "true"}}}, params={"log_retention_min_days": 7}
        )
        assert set(statuses(check(store, cfg), self.RULE).values()) == {"ok"}
