"""The AWS collector against a real HTTP moto server: inventory, facets, secrets, odd payloads."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

from driftscan.collect.base import run_source
from driftscan.model import Resource, SourceRun
from driftscan.providers.aws import AwsSource
from driftscan.providers.aws.collect.collector import AwsCollector
from driftscan.providers.aws.collect.services import GLOBAL, REGIONAL, SERVICES
from driftscan.sandbox.aws import ACCOUNT, AwsSandbox
from tests.conftest import TEST_FP

from .conftest import canned

# Every type the specs declare: each domain's seeding (sandbox/awsestate/) makes at least one.
TYPES = {spec.type for svc in SERVICES for spec in svc.resources}


def by_key(run: SourceRun) -> dict[str, Resource]:
    return {r.key: r for r in run.resources}


def named(run: SourceRun, type_: str, name: str) -> Resource:
    [found] = [r for r in run.resources if r.type == type_ and r.name == name]
    return found


def test_every_type_in_two_regions(sandbox: AwsSandbox, source: Callable[..., AwsSource]) -> None:
    """Every seeded resource of every type in both regions is collected under its ARN, all slices ok."""
    run = run_source(source(), fingerprint=TEST_FP)
    assert run.status == "ok", [
        (s.name, s.reason, s.detail) for s in run.slices if s.status != "ok"
    ]
    keys = by_key(run)
    assert {r.type for r in run.resources} == TYPES
    for type_, expected in sandbox.estate.keys.items():
        assert expected <= {k for k, r in keys.items() if r.type == type_}, type_
    assert all(
        r.provider == "aws" and r.account == ACCOUNT and r.error is None for r in run.resources
    )
    assert all(r.source == "aws-sandbox" for r in run.resources)
    names = {s.name: s for s in run.slices}
    regional = {
        f"{ACCOUNT}/{region}/{svc}"
        for region in sandbox.estate.regions
        for svc in (s.name for s in REGIONAL)
    }
    # S3 is listed once (global/s3) and its buckets read as one slice per bucket region.
    buckets = {f"{ACCOUNT}/{region}/s3" for region in sandbox.estate.regions}
    globals_ = {f"{ACCOUNT}/global/{s.name}" for s in GLOBAL}
    assert set(names) == regional | buckets | globals_
    assert names[f"{ACCOUNT}/global/s3"].region is None
    assert names[f"{ACCOUNT}/eu-west-1/s3"].region == "eu-west-1"
    assert names[f"{ACCOUNT}/eu-west-1/s3"].resources == sum(
        1 for r in run.resources if r.type == "AWS::S3::Bucket" and r.region == "eu-west-1"
    )
    assert names[f"{ACCOUNT}/global/iam"].types[0] == "AWS::IAM::Role"  # then users, groups…
    assert names[f"{ACCOUNT}/eu-west-1/ec2"].region == "eu-west-1"
    assert sum(s.resources for s in run.slices) == len(run.resources)
    assert {r.region for r in run.resources if r.type == "AWS::IAM::Role"} == {"global"}


def test_facets_tags_and_attributes(source: Callable[..., AwsSource]) -> None:
    """Tags, the encrypted/public facets and the per-type attributes are normalised as documented."""
    run = run_source(source(), fingerprint=TEST_FP)

    locked = named(run, "AWS::S3::Bucket", "acme-data-us-east-1")
    assert locked.key == "arn:aws:s3:::acme-data-us-east-1" and locked.region == "us-east-1"
    assert (locked.encrypted, locked.public) == (True, False)
    assert locked.tags == {"data_class": "eu-personal"}
    assert locked.attrs["versioning"] == "Enabled"
    assert locked.attrs["public_access_block"]["RestrictPublicBuckets"] is True
    open_bucket = named(run, "AWS::S3::Bucket", "acme-data-eu-west-1")
    assert open_bucket.region == "eu-west-1"
    assert (open_bucket.encrypted, open_bucket.public) == (False, True)
    assert open_bucket.attrs["public_access_block"] is None  # missing config is a value
    assert open_bucket.attrs["versioning"] == "Disabled"

    web = named(run, "AWS::EC2::Instance", "web-eu-west-1")
    assert web.tags == {"Name": "web-eu-west-1", "pci": "true"}
    assert web.attrs["state"] == "running" and web.attrs["instance_type"] == "t3.micro"
    assert web.attrs["image_id"].startswith("ami-") and web.attrs["launch_time"]
    assert web.attrs["subnet_id"].startswith("subnet-") and web.attrs["vpc_id"].startswith("vpc-")
    assert web.attrs["user_data"].startswith("hmac-sha256:")
    sg = by_key(run)[
        f"arn:aws:ec2:eu-west-1:{ACCOUNT}:security-group/{web.attrs['security_groups'][0]}"
    ]
    assert sg.name == "web" and sg.public is True
    https = [rule for rule in sg.attrs["ingress"] if rule["from_port"] == 443]
    assert [(r["protocol"], r["to_port"], r["cidrs"]) for r in https] == [
        ("tcp", 443, ["0.0.0.0/0"])
    ]
    assert sg.attrs["egress"]

    volumes = {
        r.name: r for r in run.resources if r.type == "AWS::EC2::Volume" and r.region == "us-east-1"
    }
    assert (volumes["data-True"].encrypted, volumes["data-False"].encrypted) == (True, False)
    vpc = named(run, "AWS::EC2::VPC", "main-us-east-1")
    assert vpc.attrs["cidr_block"] == "10.0.0.0/16" and vpc.public is None

    db0, db1 = (
        named(run, "AWS::RDS::DBInstance", "payments-db-0"),
        named(run, "AWS::RDS::DBInstance", "payments-db-1"),
    )
    assert db0.attrs["engine"] == "postgres" and db0.attrs["engine_version"] == "15.4"
    assert (db0.encrypted, db0.public, db1.encrypted, db1.public) == (True, False, False, True)
    assert db0.attrs["multi_az"] is False and db0.tags == {"pci": "true"}

    lb = named(run, "AWS::ElasticLoadBalancingV2::LoadBalancer", "web-lb-0")
    assert lb.public is True and lb.tags == {"tier": "web"}
    tg = named(run, "AWS::ElasticLoadBalancingV2::TargetGroup", "web-tg-0")
    web0 = named(run, "AWS::EC2::Instance", "web-us-east-1")
    assert [(t["id"], t["port"], t["state"]) for t in tg.attrs["targets"]] == [
        (web0.attrs["instance_id"], 80, "healthy")
    ]

    fn = named(run, "AWS::Lambda::Function", "payments-1")
    assert fn.attrs["runtime"] == "python3.12" and fn.tags == {"owner": "payments"}
    assert sorted(fn.attrs["environment"]) == ["API_TOKEN", "LOG_LEVEL"]
    assert fn.attrs["environment"]["LOG_LEVEL"] == TEST_FP("info")

    keys = [r for r in run.resources if r.type == "AWS::KMS::Key" and r.tags == {"pci": "true"}]
    assert {k.region: k.attrs["rotation_enabled"] for k in keys} == {
        "us-east-1": True,
        "eu-west-1": False,
    }
    assert all(k.attrs["customer_managed"] for k in keys)

    role = named(run, "AWS::IAM::Role", "payments-fn")
    assert role.key == f"arn:aws:iam::{ACCOUNT}:role/payments-fn" and role.tags == {
        "owner": "payments"
    }
    assert role.public is False and named(run, "AWS::IAM::Role", "legacy-anyone").public is True


def test_secrets_never_collected(sandbox: AwsSandbox, source: Callable[..., AwsSource]) -> None:
    """The canary planted in EC2 user data and a Lambda environment value appears nowhere, only as a fingerprint."""
    run = run_source(source(), fingerprint=TEST_FP)
    assert run.status == "ok"
    text = json.dumps([r.doc() for r in run.resources], default=str)
    text += json.dumps([[s.name, s.detail] for s in run.slices])
    canary = sandbox.estate.canary
    assert canary not in text and canary.lower() not in text.lower()
    assert named(run, "AWS::Lambda::Function", "payments-0").attrs["environment"][
        "API_TOKEN"
    ] == TEST_FP(canary)
    script = f"#!/bin/sh\nexport DB_PASSWORD='{canary}'\n"
    assert named(run, "AWS::EC2::Instance", "web-us-east-1").attrs["user_data"] == TEST_FP(script)


def test_malformed_item_is_a_parse_error(source: Callable[..., AwsSource], on_session: Any) -> None:
    """A malformed item is recorded with a parse error and the rest of the slice is still read."""
    volumes = {
        "Volumes": [
            {"VolumeId": "vol-0000000000000bad", "Size": 8},  # no Encrypted flag
            {"Size": 8, "Encrypted": True},  # no id at all
            {"VolumeId": "vol-0000000000000good", "Size": 8, "Encrypted": True},
        ]
    }
    on_session("before-call.ec2.DescribeVolumes", canned("DescribeVolumes", volumes))
    run = run_source(source(regions=["eu-west-1"]))
    assert run.status == "ok"
    vols = {r.key: r for r in run.resources if r.type == "AWS::EC2::Volume"}
    bad = vols[f"arn:aws:ec2:eu-west-1:{ACCOUNT}:volume/vol-0000000000000bad"]
    assert bad.error == "parse: KeyError 'Encrypted'" and bad.encrypted is None
    assert vols[f"{ACCOUNT}/eu-west-1/AWS::EC2::Volume#1"].error == "parse: KeyError 'VolumeId'"
    assert vols[f"arn:aws:ec2:eu-west-1:{ACCOUNT}:volume/vol-0000000000000good"].encrypted is True
    assert any(r.type == "AWS::EC2::Instance" and r.error is None for r in run.resources)


def test_denied_detail_marks_only_that_resource(
    source: Callable[..., AwsSource], on_session: Any
) -> None:
    """A per-bucket Get that is denied marks those buckets not assessed; the S3 slice is still read."""
    denied = {"Error": {"Code": "AccessDenied", "Message": "bucket policy says no"}}
    on_session("before-call.s3.GetBucketVersioning", canned("GetBucketVersioning", denied, 403))
    run = run_source(source(regions=["eu-west-1"]))
    assert run.status == "ok"
    buckets = [r for r in run.resources if r.type == "AWS::S3::Bucket"]
    assert len(buckets) >= 2
    assert all(
        b.error and b.error.startswith("denied: GetBucketVersioning: AccessDenied") for b in buckets
    )
    assert all(b.public is None for b in buckets)
    assert {b.name: b.region for b in buckets}["acme-data-eu-west-1"] == "eu-west-1"


def test_all_regions_means_enabled_regions(
    source: Callable[..., AwsSource], on_session: Any
) -> None:
    """regions: [all] scans every region DescribeRegions lists as enabled, and skips opted-out ones."""
    regions = {
        "Regions": [
            {"RegionName": "eu-west-1", "OptInStatus": "opt-in-not-required"},
            {"RegionName": "us-east-1", "OptInStatus": "opt-in-not-required"},
            {"RegionName": "af-south-1", "OptInStatus": "not-opted-in"},
        ]
    }
    on_session("before-call.ec2.DescribeRegions", canned("DescribeRegions", regions))
    run = run_source(source(regions=["all"]))
    assert run.status == "ok"
    assert {s.region for s in run.slices} == {None, "eu-west-1", "us-east-1"}


def test_role_is_assumed(source: Callable[..., AwsSource], proxy: Any) -> None:
    """With role_arn the collector assumes the role and scans the account the role belongs to."""
    run = run_source(
        source(regions=["eu-west-1"], role_arn="arn:aws:iam::111122223333:role/driftscan")
    )
    assert run.status == "ok"
    assert ("sts", "AssumeRole") in proxy.operations
    assert {s.account for s in run.slices} == {"111122223333"}
    assert "111122223333/eu-west-1/ec2" in {s.name for s in run.slices}
    assert all(r.account == "111122223333" for r in run.resources)


def test_each_service_is_queued_in_every_region_before_the_next(
    source: Callable[..., AwsSource],
) -> None:
    """Slices are queued service by service across the regions: with one worker they are
    read (and recorded) in that order, so no region's EC2 waits behind every service of the
    regions before it."""
    cfg = source(concurrency=1)
    run = run_source(cfg, fingerprint=TEST_FP)
    assert run.status == "ok"
    regional = {svc.name for svc in REGIONAL}
    read = [s.name for s in run.slices if s.name.split("/")[2] in regional]
    assert read == [f"{ACCOUNT}/{r}/{svc.name}" for svc in REGIONAL for r in cfg.regions]


def test_a_slices_resource_types_are_listed_side_by_side(
    sandbox: AwsSandbox, source: Callable[..., AwsSource], monkeypatch: pytest.MonkeyPatch
) -> None:
    """EC2's first two resource types meet at a barrier while being read: read one after the
    other, the first would wait for the second for ever (the barrier times out, the slice fails)."""
    barrier = threading.Barrier(2, timeout=5)
    real = AwsCollector._read_spec

    def meet(self: AwsCollector, reader: Any, spec: Any, svc: Any) -> Any:
        if svc.name == "ec2" and spec in svc.resources[:2]:
            barrier.wait()
        return real(self, reader, spec, svc=svc)

    monkeypatch.setattr(AwsCollector, "_read_spec", meet)
    run = run_source(source(regions=[sandbox.estate.regions[0]]), fingerprint=TEST_FP)
    assert [(s.name, s.status) for s in run.slices if s.name.endswith("/ec2")] == [
        (f"{ACCOUNT}/{sandbox.estate.regions[0]}/ec2", "ok")
    ]
