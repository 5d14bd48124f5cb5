"""driftscan only reads: every AWS call the collector makes is a Describe/List/Get."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from driftscan.collect.base import run_source
from driftscan.providers.aws import AwsSource
from driftscan.providers.aws.collect import session as aws_session
from driftscan.sandbox.aws import FaultProxy

from .conftest import ALLOWED, ReadOnlyViolation, canned
from .iam_actions import IAM_ACTIONS

# REST reads that are POSTs on the wire: Route 53's ListTagsForResources.
READ_POSTS = frozenset({"POST /2013-04-01/tags/hostedzone"})


def test_full_collection_only_reads(
    read_only: dict[str, list[str]], proxy: FaultProxy, source: Callable[..., AwsSource]
) -> None:
    """Across a full two-region collection every operation passes the read-only allow-list."""
    run = run_source(source())
    assert run.status == "ok"
    assert read_only["violations"] == []
    assert {
        "ec2.DescribeInstances",
        "s3.ListBuckets",
        "iam.ListRoles",
        "sts.GetCallerIdentity",
    } <= set(read_only["calls"])
    # The proxy saw the same on the wire (REST calls are recorded as method + path).
    wire = {op for _, op in proxy.operations}
    assert all(
        op.startswith(("Describe", "List", "Get", "GET ")) or op in ALLOWED or op in READ_POSTS
        for op in wire
    ), wire


def test_hook_catches_a_write(
    read_only: dict[str, list[str]], proxy: FaultProxy, source: Callable[..., AwsSource]
) -> None:
    """The allow-list hook refuses a write call before it is sent."""
    config = source()
    session = aws_session.make_session(config)
    ec2: Any = session.client("ec2", region_name="eu-west-1", endpoint_url=config.endpoint_url)
    with pytest.raises(ReadOnlyViolation, match=r"ec2\.CreateTags"):
        ec2.create_tags(Resources=["vpc-00000000"], Tags=[{"Key": "k", "Value": "v"}])
    assert read_only["violations"] == ["ec2.CreateTags"]
    assert ("ec2", "CreateTags") not in proxy.operations


def test_iam_policy_covers_exactly_the_calls(
    read_only: dict[str, list[str]], on_session: Any, source: Callable[..., AwsSource]
) -> None:
    """docs/aws-iam-policy.json grants exactly the API calls a full collection makes, all reads."""
    # Registered after the allow-list hook, so the hook still sees DescribeRegions.
    enabled = {"Regions": [{"RegionName": "eu-west-1", "OptInStatus": "opt-in-not-required"}]}
    on_session("before-call", canned("DescribeRegions", enabled))
    assert run_source(source(regions=["all"])).status == "ok"
    policy = json.loads((Path(__file__).parents[3] / "docs" / "aws-iam-policy.json").read_text())
    # The organisation statements are the management account's extra calls, checked
    # against an organisation scan in test_org.py.
    org = {"DriftscanOrganizations", "DriftscanAssumeRole"}
    granted = {a for st in policy["Statement"] if st["Sid"] not in org for a in st["Action"]}
    used = {IAM_ACTIONS.get(c, c.replace(".", ":")) for c in read_only["calls"]}
    assert used == granted
    assert all(
        # API Gateway's IAM actions are HTTP verbs (apigateway:GET), limited by resource.
        a.split(":")[1].startswith(("Describe", "List", "Get", "GET")) or a.split(":")[1] in ALLOWED
        for a in granted
    )
