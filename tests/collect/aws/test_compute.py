"""Compute and containers against the moto server: AMIs, launch templates, Auto Scaling, ECR, ECS, EKS, function URLs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from driftscan.collect.base import run_source
from driftscan.model import Resource, SourceRun
from driftscan.providers.aws import AwsSource
from driftscan.providers.aws.keys import identify
from driftscan.sandbox.aws import ACCOUNT, AwsSandbox
from tests.conftest import TEST_FP

from .conftest import canned

EAST, WEST = "us-east-1", "eu-west-1"  # region 0 (compliant) and region 1 (drifted)


@pytest.fixture(scope="module")
def run(sandbox: AwsSandbox) -> SourceRun:
    """One full collection of the seeded sandbox, shared by the read-only tests of this module."""
    config = AwsSource(**sandbox.source(concurrency=16, max_attempts=3))
    return run_source(config, fingerprint=TEST_FP)


def of(run: SourceRun, type_: str, region: str) -> list[Resource]:
    return sorted((r for r in run.resources if r.type == type_ and r.region == region), key=str)


def one(run: SourceRun, type_: str, region: str) -> Resource:
    [found] = of(run, type_, region)
    return found


def test_compute_slices_ok_and_keys_identify(run: SourceRun, sandbox: AwsSandbox) -> None:
    """Every compute slice is read in both regions, and each new type's ARN maps back to its type."""
    for region in sandbox.estate.regions:
        for name in ("ec2", "autoscaling", "ecr", "ecs", "eks", "lambda", "lambda-urls"):
            [s] = [s for s in run.slices if s.name == f"{ACCOUNT}/{region}/{name}"]
            assert s.status == "ok", (s.name, s.reason, s.detail)
    for type_ in (
        "AWS::EC2::Image",
        "AWS::EC2::LaunchTemplate",
        "AWS::AutoScaling::AutoScalingGroup",
        "AWS::ECR::Repository",
        "AWS::ECS::Cluster",
        "AWS::ECS::Service",
        "AWS::ECS::TaskDefinition",
        "AWS::EKS::Cluster",
    ):
        keys = sandbox.estate.keys[type_]
        assert len(keys) == 2 and keys <= {r.key for r in run.resources}, type_
        for key in keys:
            ident = identify(key)
            assert ident is not None and ident.type == type_, key


def test_images_public_from_describe_images(run: SourceRun) -> None:
    """The account's own AMIs are read (not Amazon's), keyed by their account-less ARN; `public` follows DescribeImages' Public."""
    private, shared = one(run, "AWS::EC2::Image", EAST), one(run, "AWS::EC2::Image", WEST)
    assert private.key == f"arn:aws:ec2:{EAST}::image/{private.attrs['image_id']}"
    assert (private.name, private.public, shared.public) == ("web-golden-0", False, True)
    assert private.tags == {"tier": "web"} and private.attrs["owner_id"] == ACCOUNT
    assert private.attrs["source_instance_id"].startswith("i-")
    assert private.attrs["block_devices"][0]["snapshot_id"].startswith("snap-")
    # moto's image mappings carry no Encrypted flag: unknown, not "unencrypted".
    assert private.encrypted is None and private.attrs["block_devices"][0]["encrypted"] is None
    assert all(r.attrs["owner_id"] == ACCOUNT for r in run.resources if r.type == "AWS::EC2::Image")


def test_image_encryption_and_missing_fields(
    source: Callable[..., AwsSource], on_session: Any
) -> None:
    """AMI encryption comes from its EBS mappings; a payload without optional fields gives nulls, not a parse error."""
    images = {
        "Images": [
            {
                "ImageId": "ami-00000000000000001",
                "Public": False,
                "BlockDeviceMappings": [
                    {"DeviceName": "/dev/xvda", "Ebs": {"Encrypted": True}},
                    {"DeviceName": "/dev/xvdb", "VirtualName": "ephemeral0"},
                ],
            },
            {
                "ImageId": "ami-00000000000000002",
                "BlockDeviceMappings": [
                    {"DeviceName": "/dev/xvda", "Ebs": {"Encrypted": True}},
                    {"DeviceName": "/dev/xvdb", "Ebs": {"Encrypted": False}},
                ],
            },
            {"ImageId": "ami-00000000000000003"},  # nothing but its id
        ]
    }
    on_session("before-call.ec2.DescribeImages", canned("DescribeImages", images))
    got = run_source(source(regions=[WEST]))
    imgs = {r.name: r for r in got.resources if r.type == "AWS::EC2::Image"}
    assert all(r.error is None for r in imgs.values())
    assert imgs["ami-00000000000000001"].encrypted is True
    assert imgs["ami-00000000000000002"].encrypted is False
    bare = imgs["ami-00000000000000003"]
    assert (bare.encrypted, bare.public, bare.attrs["block_devices"]) == (None, None, [])
    assert bare.attrs["state"] is None and bare.tags == {}


def test_launch_templates_latest_version(run: SourceRun, sandbox: AwsSandbox) -> None:
    """A launch template carries its latest version's settings; its user data is only a fingerprint."""
    good, drifted = (
        one(run, "AWS::EC2::LaunchTemplate", EAST),
        one(run, "AWS::EC2::LaunchTemplate", WEST),
    )
    assert (
        good.key
        == f"arn:aws:ec2:{EAST}:{ACCOUNT}:launch-template/{good.attrs['launch_template_id']}"
    )
    assert good.name == "web-0" and good.tags == {"tier": "web"}
    assert (good.attrs["latest_version"], drifted.attrs["latest_version"]) == (1, 2)
    assert drifted.attrs["default_version"] == 1
    assert good.attrs["latest"]["metadata_http_tokens"] == "required"
    assert drifted.attrs["latest"]["metadata_http_tokens"] == "optional"
    assert drifted.attrs["latest"]["instance_type"] == "t3.large"
    assert good.attrs["latest"]["security_groups"] == [
        sandbox.estate.context[EAST].security_group_id
    ]
    assert (good.encrypted, drifted.encrypted) == (True, False)
    script = f"#!/bin/sh\nexport API_TOKEN='{sandbox.estate.canary}'\n"
    assert good.attrs["user_data"] == drifted.attrs["user_data"] == TEST_FP(script)
    assert "UserData" not in json.dumps(good.attrs["latest"])


def test_auto_scaling_groups(run: SourceRun, sandbox: AwsSandbox) -> None:
    """An Auto Scaling group records its launch template, sizes, subnets, target groups and health check."""
    good, drifted = (
        one(run, "AWS::AutoScaling::AutoScalingGroup", EAST),
        one(run, "AWS::AutoScaling::AutoScalingGroup", WEST),
    )
    ctx = sandbox.estate.context[EAST]
    template = one(run, "AWS::EC2::LaunchTemplate", EAST)
    assert good.key.startswith(f"arn:aws:autoscaling:{EAST}:{ACCOUNT}:autoScalingGroup:")
    assert good.key.endswith(":autoScalingGroupName/web-asg-0") and good.name == "web-asg-0"
    assert good.attrs["launch_template"] == {
        "id": template.attrs["launch_template_id"],
        "name": "web-0",
        "version": "$Latest",
    }
    assert good.attrs["launch_configuration"] is None
    sizes = (good.attrs["min_size"], good.attrs["max_size"], good.attrs["desired_capacity"])
    assert sizes == (0, 2, 0)
    assert good.attrs["subnets"] == sorted(ctx.subnet_ids)
    assert good.attrs["target_groups"] == [ctx.target_group_arn]
    assert (good.attrs["health_check_type"], drifted.attrs["health_check_type"]) == ("ELB", "EC2")
    assert good.tags == {"tier": "web"} and good.attrs["instances"] == []


def test_ecr_repositories(run: SourceRun) -> None:
    """ECR: tag immutability, scan on push and encryption; a policy granting to "*" makes it public, stored as a fingerprint."""
    good, bad = one(run, "AWS::ECR::Repository", EAST), one(run, "AWS::ECR::Repository", WEST)
    assert good.key == f"arn:aws:ecr:{EAST}:{ACCOUNT}:repository/payments"
    assert good.tags == {"pci": "true"}
    assert good.attrs["image_tag_mutability"] == "IMMUTABLE"
    assert bad.attrs["image_tag_mutability"] == "MUTABLE"
    assert (good.attrs["scan_on_push"], bad.attrs["scan_on_push"]) == (True, False)
    assert (good.attrs["scan_on_push_effective"], bad.attrs["scan_on_push_effective"]) == (
        True,
        False,
    )
    assert bad.attrs["registry_scan_type"] == "BASIC"
    assert (good.public, bad.public) == (False, True)
    assert good.attrs["policy"] is None and good.attrs["public_statements"] == []
    assert bad.attrs["policy"].startswith("hmac-sha256:")
    assert bad.attrs["public_statements"] == ["PullForAnyone"]
    assert bad.attrs["public_actions"] == ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    assert good.encrypted is True and good.attrs["encryption_type"] == "AES256"


def test_ecr_registry_rule_scans_on_push(source: Callable[..., AwsSource], on_session: Any) -> None:
    """A registry scanning rule whose wildcard filter matches the repository makes scan on push effective."""
    conf = {
        "registryId": ACCOUNT,
        "scanningConfiguration": {
            "scanType": "ENHANCED",
            "rules": [
                {
                    "scanFrequency": "CONTINUOUS_SCAN",
                    "repositoryFilters": [{"filter": "legacy-*", "filterType": "WILDCARD"}],
                }
            ],
        },
    }
    on_session(
        "before-call.ecr.GetRegistryScanningConfiguration",
        canned("GetRegistryScanningConfiguration", conf),
    )
    got = run_source(source(regions=[WEST]))
    repo = one(got, "AWS::ECR::Repository", WEST)
    assert repo.attrs["scan_on_push"] is False and repo.attrs["registry_scan_type"] == "ENHANCED"
    assert repo.attrs["registry_scan_frequency"] == "CONTINUOUS_SCAN"
    assert repo.attrs["scan_on_push_effective"] is True


def test_ecr_policy_denied_marks_only_the_repository(
    source: Callable[..., AwsSource], on_session: Any
) -> None:
    """A denied GetRepositoryPolicy leaves that repository not assessed; the ECR slice is still read."""
    denied = {
        "Error": {"Code": "AccessDeniedException", "Message": "no"},
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }
    on_session("before-call.ecr.GetRepositoryPolicy", canned("GetRepositoryPolicy", denied, 400))
    got = run_source(source(regions=[WEST]))
    [s] = [s for s in got.slices if s.name == f"{ACCOUNT}/{WEST}/ecr"]
    assert s.status == "ok"
    repo = one(got, "AWS::ECR::Repository", WEST)
    assert repo.error and repo.error.startswith("denied: GetRepositoryPolicy")
    assert repo.public is None


def test_ecs_cluster_service_and_task_definition(run: SourceRun, sandbox: AwsSandbox) -> None:
    """ECS clusters, services (counts, task definition, launch type) and the latest ACTIVE task definition per family."""
    cluster = one(run, "AWS::ECS::Cluster", EAST)
    assert cluster.key == f"arn:aws:ecs:{EAST}:{ACCOUNT}:cluster/apps-0"
    assert cluster.tags == {"tier": "app"} and cluster.attrs["status"] == "ACTIVE"
    service = one(run, "AWS::ECS::Service", WEST)
    assert service.key == f"arn:aws:ecs:{WEST}:{ACCOUNT}:service/apps-1/payments"
    assert service.attrs["cluster"] == f"arn:aws:ecs:{WEST}:{ACCOUNT}:cluster/apps-1"
    assert (service.attrs["desired_count"], service.attrs["launch_type"]) == (2, "FARGATE")
    assert service.attrs["running_count"] == 0 and service.tags == {"tier": "app"}
    latest = f"arn:aws:ecs:{WEST}:{ACCOUNT}:task-definition/payments:2"
    assert service.attrs["task_definition"] == latest

    # One task definition per family and region: revision 1 of eu-west-1 is history.
    good, drifted = (
        one(run, "AWS::ECS::TaskDefinition", EAST),
        one(run, "AWS::ECS::TaskDefinition", WEST),
    )
    assert drifted.key == latest and (drifted.name, drifted.attrs["revision"]) == ("payments:2", 2)
    assert good.attrs["network_mode"] == "awsvpc" and good.tags == {"tier": "app"}
    assert good.attrs["requires_compatibilities"] == ["FARGATE"]
    [app] = good.attrs["containers"]
    assert app["image"].endswith("/payments:1.4.2") and good.attrs["images"] == [app["image"]]
    assert app["environment"] == {
        "API_TOKEN": TEST_FP(sandbox.estate.canary),
        "LOG_LEVEL": TEST_FP("info"),
    }
    assert app["secret_arns"] == {
        "DB_PASSWORD": f"arn:aws:secretsmanager:{EAST}:{ACCOUNT}:secret:payments-db-AbCdEf"
    }
    assert (good.attrs["privileged"], drifted.attrs["privileged"]) == (False, True)
    assert (
        good.attrs["read_only_root_filesystem"],
        drifted.attrs["read_only_root_filesystem"],
    ) == (
        True,
        False,
    )


def test_eks_clusters(run: SourceRun, sandbox: AwsSandbox) -> None:
    """EKS: version, endpoint access and public CIDRs, enabled log types, secrets encryption."""
    good, bad = one(run, "AWS::EKS::Cluster", EAST), one(run, "AWS::EKS::Cluster", WEST)
    assert good.key == f"arn:aws:eks:{EAST}:{ACCOUNT}:cluster/platform-0"
    assert (good.attrs["version"], bad.attrs["version"]) == ("1.31", "1.27")
    assert good.attrs["endpoint_public_access"] is False
    assert good.attrs["endpoint_private_access"] is True
    assert bad.attrs["public_access_cidrs"] == ["0.0.0.0/0"]
    assert (good.public, bad.public) == (False, True)
    assert good.attrs["logging_enabled"] == ["api", "audit", "authenticator"]
    assert bad.attrs["logging_enabled"] == []
    kms = f"arn:aws:kms:{EAST}:{ACCOUNT}:key/{sandbox.estate.context[EAST].kms_key_id}"
    assert good.attrs["secrets_encryption_key"] == kms and good.encrypted is True
    assert bad.attrs["secrets_encryption_key"] is None and bad.encrypted is False
    assert good.tags == {"tier": "platform"}


def test_function_urls(run: SourceRun, sandbox: AwsSandbox) -> None:
    """A function URL with auth type NONE is public; one with AWS_IAM is not. The URL is its key."""
    iam, anyone = one(run, "AWS::Lambda::Url", EAST), one(run, "AWS::Lambda::Url", WEST)
    assert iam.key in sandbox.estate.keys["AWS::Lambda::Url"] and iam.key == iam.attrs["url"]
    assert iam.name == "payments-0"
    assert iam.attrs["function_arn"] == f"arn:aws:lambda:{EAST}:{ACCOUNT}:function:payments-0"
    assert (iam.attrs["auth_type"], anyone.attrs["auth_type"]) == ("AWS_IAM", "NONE")
    assert (iam.public, anyone.public) == (False, True)
    assert anyone.attrs["cors_allow_origins"] == ["*"]
    # Only the seeded URL: a function without one adds nothing.
    assert len(of(run, "AWS::Lambda::Url", EAST)) == 1


def test_function_urls_listed_where_the_api_exists(
    source: Callable[..., AwsSource], on_session: Any, read_only: dict[str, list[str]]
) -> None:
    """Where ListFunctionUrlConfigs answers (real AWS), every URL of a function is read from it, aliases included."""
    arn = f"arn:aws:lambda:{WEST}:{ACCOUNT}:function:payments-1"
    configs = {
        "FunctionUrlConfigs": [
            {"FunctionUrl": "https://a.lambda-url.eu-west-1.on.aws/", "FunctionArn": arn,
             "AuthType": "AWS_IAM", "CreationTime": "2026-01-01T00:00:00.000+0000"},
            {"FunctionUrl": "https://b.lambda-url.eu-west-1.on.aws/", "FunctionArn": f"{arn}:live",
             "AuthType": "NONE", "CreationTime": "2026-01-01T00:00:00.000+0000"},
        ]
    }  # fmt: skip
    on_session(
        "before-call.lambda.ListFunctionUrlConfigs", canned("ListFunctionUrlConfigs", configs)
    )
    got = run_source(source(regions=[WEST]))
    urls = {r.name: r for r in got.resources if r.type == "AWS::Lambda::Url"}
    assert {n: u.public for n, u in urls.items()} == {"payments-1": False, "payments-1:live": True}
    assert "lambda.GetFunctionUrlConfig" not in read_only["calls"]


def test_function_urls_listing_is_given_up_once_unsupported(
    source: Callable[..., AwsSource],
    read_only: dict[str, list[str]],
    sandbox: AwsSandbox,
) -> None:
    """Once the endpoint answers that it lacks ListFunctionUrlConfigs (moto does), the region's
    other functions are not asked again, though they are read several at a time (the first
    function is asked alone): one GetFunctionUrlConfig each, and the same URLs."""
    from driftscan.providers.aws.collect.services import compute
    from driftscan.sandbox.aws import _lambda_zip
    from driftscan.sandbox.awsestate.base import client as _client

    lam = _client("lambda", sandbox.moto.endpoint_url, WEST)
    role = lam.get_function(FunctionName="payments-1")["Configuration"]["Role"]
    extra = [f"url-probe-{n}" for n in range(2)]  # three functions in the region, not one
    for name in extra:
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=role,
                            Handler="handler.handler", Code={"ZipFile": _lambda_zip()})  # fmt: skip
    try:
        assert len(extra) < compute._FANOUT  # all of the others at once
        got = run_source(source(regions=[WEST]))
    finally:
        for name in extra:
            lam.delete_function(FunctionName=name)
    calls = read_only["calls"]
    functions = [r for r in got.resources if r.type == "AWS::Lambda::Function"]
    assert len(functions) == 3
    assert calls.count("lambda.ListFunctionUrlConfigs") == 1
    assert calls.count("lambda.GetFunctionUrlConfig") == 3
    assert [r.name for r in got.resources if r.type == "AWS::Lambda::Url"] == ["payments-1"]


def test_function_urls_unsupported_is_not_assessed(
    source: Callable[..., AwsSource], on_session: Any
) -> None:
    """An endpoint with neither URL API leaves the URL slice not assessed (unsupported), never empty; functions are still read."""
    not_found = {
        "Error": {"Code": "404", "Message": "Not Found"},
        "ResponseMetadata": {"HTTPStatusCode": 404},
    }
    on_session(
        "before-call.lambda.GetFunctionUrlConfig", canned("GetFunctionUrlConfig", not_found, 404)
    )
    got = run_source(source(regions=[WEST]))
    slices = {s.name.rsplit("/", 1)[-1]: s for s in got.slices}
    assert slices["lambda-urls"].status == "failed"
    assert slices["lambda-urls"].reason == "unsupported"
    assert "GetFunctionUrlConfig" in (slices["lambda-urls"].detail or "")
    assert slices["lambda"].status == "ok"
    assert not [r for r in got.resources if r.type == "AWS::Lambda::Url"]
    assert [r for r in got.resources if r.type == "AWS::Lambda::Function"]


def test_canary_never_stored(run: SourceRun, sandbox: AwsSandbox) -> None:
    """The canary in launch template user data and an ECS environment value appears nowhere in what is collected."""
    text = json.dumps([r.doc() for r in run.resources], default=str)
    text += json.dumps([[s.name, s.detail] for s in run.slices])
    assert sandbox.estate.canary not in text
    assert sandbox.estate.canary.lower() not in text.lower()
