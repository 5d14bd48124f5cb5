"""Overlap and pacing: per-item calls run concurrently, each S3 region is its own slice, and
every request to a service with published limits takes a token from its family's bucket."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from driftscan.collect.base import CollectContext, collector_for, run_source
from driftscan.collect.limits import Limiter
from driftscan.model import SourceRun
from driftscan.providers.aws import AwsSource
from driftscan.sandbox.aws import ACCOUNT, AwsSandbox, FaultProxy
from tests.conftest import TEST_FP

EXTRA = [f"pacing-{i:02d}" for i in range(24)]


@pytest.fixture
def many_buckets(sandbox: AwsSandbox) -> Iterator[list[str]]:
    """24 more buckets in eu-west-1, removed afterwards so other tests see the usual estate."""
    s3: Any = boto3.client("s3", region_name="eu-west-1", endpoint_url=sandbox.moto.endpoint_url)
    for name in EXTRA:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": "n", "Value": name}]})
    yield EXTRA
    for name in EXTRA:
        s3.delete_bucket(Bucket=name)


def test_bucket_reads_overlap(
    many_buckets: list[str], proxy: FaultProxy, source: Callable[..., AwsSource]
) -> None:
    """With 50 ms added to every S3 request, many bucket reads are in flight at once, and each
    bucket still gets its own tags."""
    proxy.delay(0.05, "s3")
    run = run_source(source(), fingerprint=TEST_FP)
    assert run.status == "ok"
    got = {r.name: r for r in run.resources if r.type == "AWS::S3::Bucket"}
    assert {n: got[n].tags for n in many_buckets} == {n: {"n": n} for n in many_buckets}
    assert all(got[n].region == "eu-west-1" for n in many_buckets)
    assert proxy.peak_in_flight("s3") >= 8


def test_a_failing_bucket_region_is_its_own_slice(
    proxy: FaultProxy, source: Callable[..., AwsSource]
) -> None:
    """S3 throttled in eu-west-1 only: that region's bucket slice is not assessed, the listing
    and us-east-1's buckets are read, and no eu-west-1 bucket is reported as read."""
    proxy.throttle("s3", region="eu-west-1")
    run = run_source(source(max_attempts=2), fingerprint=TEST_FP)
    slices = {s.name: s for s in run.slices}
    eu, us, listing = (slices[f"{ACCOUNT}/{r}/s3"] for r in ("eu-west-1", "us-east-1", "global"))
    assert (eu.status, eu.reason, eu.region, eu.types) == (
        "failed", "throttled", "eu-west-1", ["AWS::S3::Bucket"],
    )  # fmt: skip
    assert (us.status, listing.status) == ("ok", "ok")
    buckets = [r for r in run.resources if r.type == "AWS::S3::Bucket"]
    assert buckets and {r.region for r in buckets} == {"us-east-1"}
    assert all(s.status == "ok" for n, s in slices.items() if not n.endswith("eu-west-1/s3"))


def test_every_paced_request_takes_a_token(
    proxy: FaultProxy, source: Callable[..., AwsSource]
) -> None:
    """Each EC2 and ELBv2 request on the wire took one token from its region's Describe*
    bucket; KMS's per-operation buckets count their own operations."""
    limiter = Limiter()
    config = source()
    ctx = CollectContext(SourceRun(config.name, config.type), fingerprint=TEST_FP, limiter=limiter)
    collector_for(config).collect(ctx)
    assert all(s.status == "ok" for s in ctx.run.slices)
    wire: dict[tuple[str, str], int] = {}
    for service, op in proxy.operations:
        wire[(service, op)] = wire.get((service, op), 0) + 1
    taken = {key: b.taken for key, b in limiter._buckets.items()}
    for region in ("us-east-1", "eu-west-1"):
        scope = f"{ACCOUNT}/{region}"
        assert taken[(scope, "ec2", "Describe*")] > 0
        assert taken[(scope, "elbv2", "Describe*")] > 0
    ec2_calls = sum(
        n for (svc, op), n in wire.items() if svc == "ec2" and op.startswith("Describe")
    )
    ec2_taken = sum(n for (_, api, fam), n in taken.items() if api == "ec2")
    # DescribeRegions is not made here (regions are listed); every other Describe took a token.
    assert ec2_taken == ec2_calls
    kms_keys = sum(n for (svc, op), n in wire.items() if (svc, op) == ("kms", "ListKeys"))
    assert (
        sum(n for (_, api, fam), n in taken.items() if (api, fam) == ("kms", "ListKeys"))
        == kms_keys
    )
    assert not any(api in ("s3", "iam", "sts") for (_, api, _f) in taken)


def test_tags_come_from_the_tagging_api_with_a_fallback(
    proxy: FaultProxy, source: Callable[..., AwsSource]
) -> None:
    """Lambda, KMS and S3 tags come a page at a time from GetResources, with no per-resource
    tag call; where tag:GetResources is denied, each resource's own tag call gives the same
    tags."""
    batched = run_source(source(), fingerprint=TEST_FP)
    ops = {op for svc, op in proxy.operations if svc in ("lambda", "kms", "s3", "tagging")}
    assert "GetResources" in ops and "ListResourceTags" not in ops
    assert not any(op.startswith("GET /2017-03-31/tags") for op in ops)  # Lambda's ListTags
    assert not any(op.endswith("?tagging") for op in ops)  # S3's GetBucketTagging
    proxy.reset()
    proxy.deny("resourcegroupstaggingapi")
    single = run_source(source(), fingerprint=TEST_FP)
    ops = {op for _, op in proxy.operations}
    assert {"ListResourceTags"} <= ops and any(
        op.startswith("GET /") and "tags" in op for op in ops
    )
    assert any(op.endswith("?tagging") for op in ops)
    assert batched.status == single.status == "ok"

    def tags(run: SourceRun) -> dict[str, dict[str, str]]:
        wanted = ("AWS::Lambda::Function", "AWS::KMS::Key", "AWS::S3::Bucket")
        return {r.key: r.tags for r in run.resources if r.type in wanted}

    assert tags(batched) == tags(single) and any(tags(batched).values())
