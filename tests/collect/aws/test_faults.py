"""Failures of one region × service become not-assessed slices with a reason; the rest is read."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from driftscan.collect.base import run_source
from driftscan.providers.aws import AwsSource
from driftscan.providers.aws.collect.services import SERVICES
from driftscan.sandbox.aws import ACCOUNT, SIGNING_NAMES, FaultProxy

# Clients whose requests are signed under another service's name.
_SIGNS_AS = {"s3control": "s3", "elb": "elbv2"}


def _signing(client: str) -> str:
    name = _SIGNS_AS.get(client, client)
    return SIGNING_NAMES.get(name, name)


SERVICE_TYPES = {
    "ec2": "AWS::EC2::Instance",
    "rds": "AWS::RDS::DBInstance",
    "elbv2": "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "lambda": "AWS::Lambda::Function",
    "kms": "AWS::KMS::Key",
    "iam": "AWS::IAM::Role",
    "s3": "AWS::S3::Bucket",
}


@pytest.mark.parametrize("service", sorted(SERVICE_TYPES))
def test_denied_service_is_not_assessed(
    service: str, proxy: FaultProxy, source: Callable[..., AwsSource]
) -> None:
    """AccessDenied on one service (in its protocol's wire shape) fails only its slices, as denied."""
    proxy.deny(service)
    run = run_source(source(regions=["eu-west-1"]))
    assert run.status == "partial" and run.reason == "denied"
    failed = {s.name: s for s in run.slices if s.status == "failed"}
    # Every spec that reads through a client signing as this service fails (EC2's VPC and EBS
    # parts with it, S3 Control with S3), and nothing else.
    signs = SIGNING_NAMES.get(service, service)
    expected = {
        f"{ACCOUNT}/{'global' if svc.is_global else 'eu-west-1'}/{svc.name}"
        for svc in SERVICES
        if _signing(svc.client) == signs
    }
    assert set(failed) == expected
    assert {s.reason for s in failed.values()} == {"denied"}
    region = "global" if service in ("iam", "s3") else "eu-west-1"
    own = failed[f"{ACCOUNT}/{region}/{service}"]
    assert SERVICE_TYPES[service] in own.types
    detail = own.detail or ""
    assert any(code in detail for code in ("AccessDenied", "UnauthorizedOperation")), detail
    collected = {r.type for r in run.resources}
    assert SERVICE_TYPES[service] not in collected
    assert set(SERVICE_TYPES.values()) - {SERVICE_TYPES[service]} <= collected


def test_throttling_that_recovers(proxy: FaultProxy, source: Callable[..., AwsSource]) -> None:
    """Throttling that ends within the retry budget leaves every slice ok and every resource read."""
    proxy.throttle("ec2", times=2)
    proxy.throttle("lambda", times=1)
    proxy.throttle("s3", times=1)
    run = run_source(source(max_attempts=4))
    assert run.status == "ok", [(s.name, s.detail) for s in run.slices if s.status != "ok"]
    assert {"AWS::EC2::Instance", "AWS::Lambda::Function", "AWS::S3::Bucket"} <= {
        r.type for r in run.resources
    }
    ops = proxy.operations
    # Two regions' listings by the functions' and the function URLs' slices (each lists the
    # functions), plus the retried throttled request.
    assert sum(op == ("lambda", "GET /2015-03-31/functions") for op in ops) == 5


def test_throttling_that_never_recovers(
    proxy: FaultProxy, source: Callable[..., AwsSource]
) -> None:
    """Throttling beyond the retries fails that service's slices as throttled; the others are read."""
    proxy.throttle("lambda")
    run = run_source(source(max_attempts=2))
    assert run.status == "partial" and run.reason == "throttled"
    failed = {s.name: s.reason for s in run.slices if s.status == "failed"}
    assert failed == {
        f"{ACCOUNT}/us-east-1/lambda": "throttled",
        f"{ACCOUNT}/eu-west-1/lambda": "throttled",
        f"{ACCOUNT}/us-east-1/lambda-urls": "throttled",
        f"{ACCOUNT}/eu-west-1/lambda-urls": "throttled",
    }
    # botocore's max_attempts counts retries: per slice and region one request and two
    # retries, then give up.
    assert sum(service == "lambda" for service, _ in proxy.operations) == 4 * 3
    assert "AWS::Lambda::Function" not in {r.type for r in run.resources}
    assert "AWS::EC2::Instance" in {r.type for r in run.resources}


def test_latency_is_tolerated(proxy: FaultProxy, source: Callable[..., AwsSource]) -> None:
    """A slow endpoint is slow, not a failure."""
    proxy.delay(0.05, "kms")
    run = run_source(source(regions=["eu-west-1"]))
    assert run.status == "ok"
    assert "AWS::KMS::Key" in {r.type for r in run.resources}


def test_identity_denied_fails_the_whole_source(
    proxy: FaultProxy, source: Callable[..., AwsSource]
) -> None:
    """When STS refuses the credentials the whole source is one failed slice, reason denied."""
    proxy.deny("sts")
    run = run_source(source())
    assert run.status == "failed" and run.resources == []
    assert [(s.name, s.status, s.reason) for s in run.slices] == [("*", "failed", "denied")]


def test_unreachable_endpoint_fails_the_whole_source(source: Callable[..., AwsSource]) -> None:
    """An endpoint nobody listens on makes the whole source failed, reason unreachable."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = run_source(source(endpoint_url=f"http://127.0.0.1:{port}", max_attempts=2))
    assert run.status == "failed"
    assert [(s.name, s.reason) for s in run.slices] == [("*", "unreachable")]
