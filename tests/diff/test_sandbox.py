"""Drift against the moto sandbox estate: a Terraform state of it matches, except what was changed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from driftscan import pipeline
from driftscan.config import validate_config
from driftscan.sandbox.aws import ACCOUNT, CANARY, CREDENTIALS, AwsSandbox
from driftscan.store import Store
from tests.collect.aws.conftest import aws_env  # noqa: F401 - dummy credentials fixture

REGION = "us-east-1"
AWS = 'provider["registry.terraform.io/hashicorp/aws"]'


@pytest.fixture(scope="module")
def sandbox(aws_env: None) -> Iterator[AwsSandbox]:  # noqa: F811
    """A one-region seeded moto estate."""
    with AwsSandbox(regions=(REGION,)) as sb:
        yield sb


def _res(tf_type: str, name: str, attrs: dict[str, Any]) -> dict[str, Any]:
    return {"mode": "managed", "type": tf_type, "name": name, "provider": AWS,
            "instances": [{"schema_version": 0, "attributes": attrs, "sensitive_attributes": []}]}  # fmt: skip


def _state_of(sb: AwsSandbox) -> dict[str, Any]:
    """The Terraform state an operator would hold for part of the estate (the DB resized since)."""

    def client(service: str) -> Any:
        return boto3.client(
            service, region_name=REGION, endpoint_url=sb.moto.endpoint_url, **CREDENTIALS
        )

    ec2, rds, kms, lam = client("ec2"), client("rds"), client("kms"), client("lambda")
    sg = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["web"]}])[
        "SecurityGroups"
    ][0]
    inst = ec2.describe_instances()["Reservations"][0]["Instances"][0]
    db = rds.describe_db_instances()["DBInstances"][0]
    key = next(
        m for k in kms.list_keys()["Keys"]
        if (m := kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]).get("Description") == "payments data"
    )  # fmt: skip
    fn = lam.get_function(FunctionName="payments-0")["Configuration"]
    bucket = f"acme-data-{REGION}"
    sg_arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{sg['GroupId']}"
    rule = {
        "ipv6_cidr_blocks": [],
        "prefix_list_ids": [],
        "security_groups": [],
        "self": False,
        "description": "",
    }
    resources = [
        _res("aws_s3_bucket", "data", {"bucket": bucket, "arn": f"arn:aws:s3:::{bucket}",
                                       "tags_all": {"data_class": "eu-personal"}}),
        _res("aws_s3_bucket_server_side_encryption_configuration", "data", {"bucket": bucket, "rule": [
            {"apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms", "kms_master_key_id": ""}]}]}),
        _res("aws_s3_bucket_public_access_block", "data", {"bucket": bucket, "block_public_acls": True,
             "ignore_public_acls": True, "block_public_policy": True, "restrict_public_buckets": True}),
        _res("aws_s3_bucket_versioning", "data", {"bucket": bucket, "versioning_configuration": [{"status": "Enabled"}]}),
        _res("aws_s3_bucket", "gone", {"bucket": "acme-gone", "arn": "arn:aws:s3:::acme-gone"}),
        _res("aws_security_group", "web", {
            "id": sg["GroupId"], "arn": sg_arn, "name": "web", "description": "web tier", "vpc_id": sg["VpcId"],
            "ingress": [{**rule, "protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"]},
                        {**rule, "protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["10.0.0.0/8"]}],
            "egress": [{**rule, "protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}],
        }),
        _res("aws_instance", "web", {
            "id": inst["InstanceId"], "arn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{inst['InstanceId']}",
            "ami": inst["ImageId"], "instance_type": "t3.micro", "subnet_id": inst["SubnetId"],
            "private_ip": inst["PrivateIpAddress"], "public_ip": inst.get("PublicIpAddress", ""),
            "instance_state": "running", "vpc_security_group_ids": [sg["GroupId"]],
            "tags_all": {"Name": f"web-{REGION}", "pci": "true"},
        }),
        _res("aws_db_instance", "payments", {
            "arn": db["DBInstanceArn"], "identifier": db["DBInstanceIdentifier"], "engine": "postgres",
            "engine_version": "15", "engine_version_actual": "15.4", "instance_class": "db.t3.large",
            "storage_encrypted": True, "publicly_accessible": False, "multi_az": False,
            "password": "sandbox-only-password", "tags_all": {"pci": "true"},
        }),
        _res("aws_kms_key", "payments", {
            "arn": key["Arn"], "key_id": key["KeyId"], "description": "payments data", "enable_key_rotation": True,
            "key_usage": "ENCRYPT_DECRYPT", "customer_master_key_spec": "SYMMETRIC_DEFAULT", "is_enabled": True,
            "tags_all": {"pci": "true"},
        }),
        _res("aws_lambda_function", "payments", {
            "arn": fn["FunctionArn"], "function_name": "payments-0", "runtime": "python3.12",
            "handler": "handler.handler", "role": fn["Role"], "memory_size": fn["MemorySize"],
            "timeout": fn["Timeout"], "code_sha256": fn["CodeSha256"],
            "environment": [{"variables": {"API_TOKEN": CANARY, "LOG_LEVEL": "info"}}],
            "tags_all": {"owner": "payments"},
        }),
        _res("aws_iam_role", "fn", {"arn": fn["Role"], "name": "payments-fn"}),
    ]  # fmt: skip
    return {"version": 4, "terraform_version": "1.7.5", "serial": 1, "lineage": "l", "outputs": {},
            "resources": resources}  # fmt: skip


def test_terraform_state_of_the_sandbox_matches_except_the_drift(
    tmp_path: Path, sandbox: AwsSandbox
) -> None:
    """Scanning moto and diffing a state of it finds the resized DB, the deleted bucket, nothing else."""
    tf = tmp_path / "terraform.tfstate"
    tf.write_text(json.dumps(_state_of(sandbox)))
    cfg = validate_config(
        {"store": "store.duckdb", "sources": [sandbox.source()], "desired": [{"terraform": "terraform.tfstate"}],
         # moto's DescribeKey omits KeyUsage (AWS returns it): an ignore rule, as a user would write
         "ignore": [{"type": "AWS::KMS::Key", "path": "key_usage"}]},
        {}, str(tmp_path / "driftscan.yaml"), tmp_path,
    )  # fmt: skip
    with Store(cfg.store_path) as store:
        assert pipeline.scan(cfg, store).complete
        result = pipeline.diff(cfg, store)
        declared = dict(store.query("select key, status from desired")[1])
        stored = store.query("select string_agg(declared::varchar, '') || string_agg(value::varchar, '') "
                             "from desired join desired_attrs using (key)")[1][0][0]  # fmt: skip
    drifted = {(d.resource, d.kind): d.changes for d in result.drifts if d.kind != "unmanaged"}
    db = next(k for k in declared if ":rds:" in k)
    assert drifted == {
        (db, "changed"): [
            {
                "path": "instance_class",
                "desired": "db.t3.large",
                "actual": "db.t3.micro",
                "op": "eq",
            }
        ],
        ("arn:aws:s3:::acme-gone", "missing"): [],
    }
    assert sorted(set(declared.values())) == ["changed", "missing", "ok"]
    assert CANARY not in stored  # the state's secret is compared as a fingerprint only
    assert (
        result.coverage["managed"] == 7 and result.complete
    )  # bucket, sg, instance, db, key, fn, role
