"""An organisation's accounts read through their roles: moto's Organizations and STS, three members."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from driftscan.collect.base import run_source
from driftscan.config import load_config
from driftscan.errors import ConfigError
from driftscan.model import SourceRun
from driftscan.providers.aws import AwsSource
from driftscan.providers.aws.collect import collector as aws_collector
from driftscan.providers.aws.collect import session as aws_session
from driftscan.providers.aws.collect.services import GLOBAL, REGIONAL
from driftscan.sandbox.aws import ACCOUNT, AwsSandbox, FaultProxy, Organization
from tests.conftest import TEST_FP

from .conftest import canned
from .iam_actions import IAM_ACTIONS


@pytest.fixture(scope="module")
def org(sandbox: AwsSandbox) -> Organization:
    """The sandbox account as management account of dev, prod and locked (plus a closed one)."""
    return sandbox.organization()


@pytest.fixture
def org_source(
    org: Organization, source: Callable[..., AwsSource], proxy: FaultProxy
) -> Callable[..., AwsSource]:
    """An `accounts: organization` source; the `locked` member's role refuses the scanner."""
    proxy.deny_role(org.role_arn(org.members["locked"]))

    def make(**overrides: Any) -> AwsSource:
        return source(**{"accounts": "organization", "role_name": org.role_name, **overrides})

    return make


def _failed(run: SourceRun) -> list[tuple[str, str | None, str | None]]:
    return [(s.name, s.reason, s.detail) for s in run.slices if s.status != "ok"]


def test_organisation_reads_every_active_member(
    sandbox: AwsSandbox,
    org: Organization,
    org_source: Callable[..., AwsSource],
    proxy: FaultProxy,
) -> None:
    """Every ACTIVE member is read through its role and the management account as itself; the
    member whose role is refused is one `denied` slice naming the role, and the run is partial."""
    run = run_source(org_source(), fingerprint=TEST_FP)
    dev, prod, locked = (org.members[n] for n in ("dev", "prod", "locked"))
    assert run.status == "partial" and run.reason == "denied"
    [(name, reason, detail)] = _failed(run)
    assert (name, reason) == (f"{locked}/*", "denied")
    assert detail is not None and org.role_arn(locked) in detail and "AssumeRole" in detail
    assert not any(r.account == locked for r in run.resources)

    # Each account read has every slice, carrying its account id.
    expected = {
        f"{a}/{where}/{svc}"
        for a in (ACCOUNT, dev, prod)
        for where, svc in [("global", s.name) for s in GLOBAL]
        + [(region, s.name) for region in sandbox.estate.regions for s in REGIONAL]
    }
    ok = {s.name: s for s in run.slices if s.status == "ok"}
    assert expected <= set(ok)
    assert all(s.account == s.name.split("/")[0] for s in run.slices)

    # The management account's full estate, under its own account.
    for type_, keys in sandbox.estate.keys.items():
        assert keys <= {r.key for r in run.resources if r.type == type_ and r.account == ACCOUNT}
    # Each member's own resources, under the member's account, with their tags and facets.
    for account in (dev, prod):
        mine = [r for r in run.resources if r.account == account]
        assert all(r.error is None for r in mine)
        for type_, keys in org.keys[account].items():
            assert keys <= {r.key for r in mine if r.type == type_}, (account, type_)
    [bucket] = [r for r in run.resources if r.key == f"arn:aws:s3:::dev-{dev}-eu-west-1"]
    assert (bucket.account, bucket.region, bucket.tags) == (dev, "eu-west-1", {"account": "dev"})
    assert bucket.encrypted is False
    [bucket] = [r for r in run.resources if r.key == f"arn:aws:s3:::dev-{dev}-us-east-1"]
    assert bucket.encrypted is True
    [role] = [r for r in run.resources if r.key == org.role_arn(prod)]
    assert role.type == "AWS::IAM::Role" and role.tags == {"owner": "security"}

    # The management account is never assumed; the closed account never even tried.
    assert sorted(proxy.assumed) == sorted(org.role_arn(a) for a in (dev, prod, locked))
    assert org.closed not in {s.account for s in run.slices}
    assert ("organizations", "ListAccounts") in proxy.operations
    assert run.identity is not None and run.identity.startswith(f"arn:aws:sts::{ACCOUNT}:")
    assert f"role/{org.role_name}" in run.identity


def test_exclude_accounts_are_not_read(
    org: Organization, org_source: Callable[..., AwsSource], proxy: FaultProxy
) -> None:
    """Excluded accounts (the management account among them) are neither assumed nor read."""
    locked = org.members["locked"]
    run = run_source(org_source(regions=["eu-west-1"], exclude_accounts=[ACCOUNT, locked]))
    assert run.status == "ok", _failed(run)
    assert {s.account for s in run.slices} == {org.members["dev"], org.members["prod"]}
    assert {r.account for r in run.resources} == {org.members["dev"], org.members["prod"]}
    assert sorted(proxy.assumed) == sorted(org.role_arn(org.members[n]) for n in ("dev", "prod"))


def test_listed_accounts_are_read_without_the_organisation(
    org: Organization,
    org_source: Callable[..., AwsSource],
    proxy: FaultProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`accounts: [ids]` reads exactly those: the caller's own as itself, the others through
    the role, without calling Organizations; each account's clients are closed once it is read."""
    dev = org.members["dev"]
    closed: list[str] = []
    original = aws_collector._Clients.close

    def close(self: Any) -> None:
        closed.append(self.account)
        original(self)

    monkeypatch.setattr(aws_collector._Clients, "close", close)
    run = run_source(org_source(regions=["eu-west-1"], accounts=[dev, ACCOUNT]))
    assert run.status == "ok", _failed(run)
    assert sorted(closed) == sorted([dev, ACCOUNT])
    assert {s.account for s in run.slices} == {dev, ACCOUNT}
    assert proxy.assumed == [org.role_arn(dev)]  # default session: assumed once
    assert not any(svc == "organizations" for svc, _ in proxy.operations)


def test_unlisted_organisation_fails_the_whole_source(
    org_source: Callable[..., AwsSource], proxy: FaultProxy
) -> None:
    """When ListAccounts is refused nothing is read and the source is one failed slice."""
    proxy.deny("organizations")
    run = run_source(org_source(regions=["eu-west-1"]))
    assert run.status == "failed" and run.resources == []
    [(name, reason, detail)] = _failed(run)
    assert (name, reason) == ("*", "denied") and detail is not None and "ListAccounts" in detail


def test_one_bounded_pool_across_accounts(
    org: Organization,
    org_source: Callable[..., AwsSource],
    proxy: FaultProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Slices of every account share one pool: never more than `concurrency` at once, and
    slices of different accounts overlap."""
    lock = threading.Lock()
    running: list[str] = []
    peak, mixed = [0], [0]
    original = aws_collector.AwsCollector._read_slice

    def counted(self: Any, ctx: Any, clients: Any, svc: Any, account: str, *rest: Any) -> None:
        with lock:
            running.append(account)
            peak[0] = max(peak[0], len(running))
            mixed[0] = max(mixed[0], len(set(running)))
        try:
            original(self, ctx, clients, svc, account, *rest)
        finally:
            with lock:
                running.remove(account)

    monkeypatch.setattr(aws_collector.AwsCollector, "_read_slice", counted)
    proxy.delay(0.005)
    run = run_source(org_source(regions=["eu-west-1"], concurrency=3))
    assert run.status == "partial"
    assert peak[0] == 3
    assert mixed[0] >= 2


def test_an_organisations_resource_types_are_read_one_at_a_time(
    org: Organization,
    org_source: Callable[..., AwsSource],
    proxy: FaultProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With accounts, the pool is full of other accounts' slices: a slice's resource types are
    read one after the other (side by side they only contend for the GIL), never two at once."""
    lock = threading.Lock()
    inside: dict[tuple[str, str, str], int] = {}
    peak = [0]
    original = aws_collector.AwsCollector._read_spec

    def counted(self: Any, reader: Any, spec: Any, *, svc: Any) -> Any:
        where = (reader.account, reader.region, svc.name)  # one slice
        with lock:
            inside[where] = inside.get(where, 0) + 1
            peak[0] = max(peak[0], inside[where])
        try:
            return original(self, reader, spec, svc=svc)
        finally:
            with lock:
                inside[where] -= 1

    monkeypatch.setattr(aws_collector.AwsCollector, "_read_spec", counted)
    proxy.delay(0.005)
    run = run_source(org_source(regions=["eu-west-1"]), fingerprint=TEST_FP)
    assert run.status == "partial"  # the locked member, as in every organisation test
    assert peak[0] == 1


def test_assumed_credentials_refresh_before_they_expire(
    org: Organization, source: Callable[..., AwsSource], proxy: FaultProxy
) -> None:
    """The role is assumed when the session is made; credentials inside botocore's advisory
    window (15 minutes) are assumed again on each next call, fresh ones are reused."""
    dev = org.members["dev"]
    role = org.role_arn(dev)
    for duration, assumes in ((3600, 1), (900, 1 + 3)):
        proxy.reset()
        config = source(role_arn=role, session_duration_s=duration)
        session = aws_session.assumed_session(boto3.Session(), config, role, "us-east-1")
        sts: Any = session.client("sts", endpoint_url=config.endpoint_url)
        for _ in range(3):
            assert sts.get_caller_identity()["Account"] == dev
        assert proxy.assumed == [role] * assumes, duration


def test_short_sessions_are_refreshed_during_a_scan(
    org: Organization, org_source: Callable[..., AwsSource], proxy: FaultProxy
) -> None:
    """A scan that outlives its role's session re-assumes the role and completes."""
    dev = org.members["dev"]
    run = run_source(org_source(regions=["eu-west-1"], accounts=[dev], session_duration_s=900))
    assert run.status == "ok", _failed(run)
    assert proxy.assumed.count(org.role_arn(dev)) > 1
    assert {r.account for r in run.resources} == {dev}


def test_organisation_scan_only_reads_and_the_policy_is_exact(
    org: Organization,
    org_source: Callable[..., AwsSource],
    proxy: FaultProxy,
    read_only: dict[str, list[str]],
    on_session: Any,
) -> None:
    """Every call of an organisation scan, in every account, is a read, and
    docs/aws-iam-policy.json (organisation statements included) grants exactly them."""
    enabled = {"Regions": [{"RegionName": "eu-west-1", "OptInStatus": "opt-in-not-required"}]}
    on_session("before-call", canned("DescribeRegions", enabled))
    run = run_source(org_source(regions=["all"], exclude_accounts=[org.members["locked"]]))
    assert run.status == "ok", _failed(run)
    assert read_only["violations"] == []
    # The member accounts' calls went through the allow-list too (their sessions are hooked).
    assert read_only["calls"].count("sts.GetCallerIdentity") == 3
    policy = json.loads((Path(__file__).parents[3] / "docs" / "aws-iam-policy.json").read_text())
    granted = {a for st in policy["Statement"] for a in st["Action"]}
    used = {IAM_ACTIONS.get(c, c.replace(".", ":")) for c in read_only["calls"]}
    # AssumeRole is sent by the credentials, not a client of the hooked session: the wire.
    used |= {f"{svc}:{op}" for svc, op in proxy.operations if op == "AssumeRole"}
    assert used == granted


# --- configuration ---------------------------------------------------------------------------


def _load(tmp_path: Path, extra: str) -> ConfigError:
    p = tmp_path / "driftscan.yaml"
    p.write_text(f"sources:\n  - name: org\n    type: aws\n{extra}")
    with pytest.raises(ConfigError) as info:
        load_config(p)
    return info.value


@pytest.mark.parametrize(
    ("extra", "line", "key", "message"),
    [
        ("    accounts: organization\n", 4, "sources[0].accounts", "accounts needs role_name"),
        (
            "    role_arn: arn:aws:iam::111122223333:role/x\n"
            "    role_name: driftscan\n"
            "    accounts: organization\n",
            6,
            "sources[0].accounts",
            "role_arn and accounts cannot be combined",
        ),
        ("    role_name: driftscan\n", 2, "sources[0].accounts", "role_name needs accounts"),
        (
            "    exclude_accounts: ['444455556666']\n",
            4,
            "sources[0].exclude_accounts",
            "exclude_accounts needs",
        ),
        (
            "    role_name: driftscan\n    accounts: [12345]\n",
            5,
            "sources[0].accounts",
            "12345 is not an AWS account id",
        ),
        (
            "    role_name: driftscan\n    accounts: everything\n",
            5,
            "sources[0].accounts",
            "accounts is 'organization' or a list",
        ),
        (
            "    role_name: driftscan\n    accounts: organization\n    session_duration_s: 60\n",
            6,
            "sources[0].session_duration_s",
            "greater than or equal to 900",
        ),
    ],
)
def test_organisation_config_errors_name_line_and_key(
    tmp_path: Path, extra: str, line: int, key: str, message: str
) -> None:
    """Each impossible combination of the organisation keys is a config error at its key."""
    err = _load(tmp_path, extra)
    assert (err.line, err.key) == (line, key), err
    assert message in err.message


def test_organisation_config_loads(tmp_path: Path) -> None:
    """A well-formed organisation source loads; twelve-digit ids may be unquoted."""
    p = tmp_path / "driftscan.yaml"
    p.write_text(
        "sources:\n  - name: org\n    type: aws\n    accounts: organization\n"
        "    role_name: driftscan-readonly\n"
        "    exclude_accounts: [444455556666, '012345678901']\n"
    )
    [src] = load_config(p).sources
    assert isinstance(src, AwsSource)
    assert (src.accounts, src.role_name) == ("organization", "driftscan-readonly")
    assert src.exclude_accounts == ["444455556666", "012345678901"]
