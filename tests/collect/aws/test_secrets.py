"""Secrets and keys against the seeded moto server: Secrets Manager secrets (never their values),
ACM certificates, KMS aliases, SNS topics and SQS queues with their encrypted/public facets."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from driftscan.collect.base import run_source
from driftscan.model import Resource, SourceRun
from driftscan.providers.aws import AwsSource
from driftscan.providers.aws.collect.services.secrets import policy_is_public
from driftscan.providers.aws.keys import identify
from driftscan.sandbox.aws import ACCOUNT, AwsSandbox, FaultProxy
from driftscan.store import Store
from tests.compliance.conftest import check, statuses
from tests.conftest import TEST_FP

EAST, WEST = "us-east-1", "eu-west-1"  # region 0 (compliant) and region 1 (drifted)


@pytest.fixture(scope="module")
def run(sandbox: AwsSandbox) -> SourceRun:
    """One full collection of the sandbox, shared by the read-only assertions of this module."""
    sandbox.proxy.reset()
    cfg = AwsSource(**sandbox.source(concurrency=16, max_attempts=3))
    result = run_source(cfg, fingerprint=TEST_FP)
    assert result.status == "ok", [(s.name, s.reason, s.detail) for s in result.slices]
    return result


def named(run: SourceRun, type_: str, name: str) -> Resource:
    [found] = [r for r in run.resources if r.type == type_ and r.name == name]
    return found


class TestSecretsManager:
    def test_rotating_and_not(self, sandbox: AwsSandbox, run: SourceRun) -> None:
        """Region 0's secret rotates every 30 days through its Lambda; region 1's does not."""
        good = named(run, "AWS::SecretsManager::Secret", "payments/db-0")
        bad = named(run, "AWS::SecretsManager::Secret", "payments/db-1")
        assert good.key.startswith(f"arn:aws:secretsmanager:{EAST}:{ACCOUNT}:secret:payments/db-0-")
        assert (good.region, bad.region) == (EAST, WEST)
        assert good.tags == {"pci": "true"} and good.encrypted is True
        g, b = good.attrs, bad.attrs
        assert g["rotation_enabled"] is True and b["rotation_enabled"] is False
        assert g["rotation_rules"]["automatically_after_days"] == 30
        assert g["rotation_lambda_arn"] == f"arn:aws:lambda:{EAST}:{ACCOUNT}:function:payments-0"
        assert g["last_rotated_date"] and b["last_rotated_date"] is None
        assert g["kms_key_id"] == sandbox.estate.context[EAST].kms_key_id
        assert b["last_accessed_date"] is None and b["created_date"].endswith("+00:00")

    def test_values_never_read(self, sandbox: AwsSandbox, proxy: FaultProxy, source: Any) -> None:
        """The secrets' value (the canary) is never asked for, so never stored."""
        got = run_source(source(), fingerprint=TEST_FP)
        assert not {op for _, op in proxy.operations} & {"GetSecretValue", "BatchGetSecretValue"}
        text = json.dumps([r.doc() for r in got.resources], default=str)
        assert sandbox.estate.canary not in text


class TestCertificates:
    def test_valid_and_expiring(self, run: SourceRun) -> None:
        """Region 0's RSA certificate is valid a year; region 1's EC one (listed only when asked
        for every key type) expires within 30 days."""
        good = named(run, "AWS::CertificateManager::Certificate", "pay-0.example.com")
        soon = named(run, "AWS::CertificateManager::Certificate", "pay-1.example.com")
        assert good.key.startswith(f"arn:aws:acm:{EAST}:{ACCOUNT}:certificate/")
        assert good.tags == {"pci": "true"}
        g, s = good.attrs, soon.attrs
        assert (g["status"], g["type"], g["key_algorithm"]) == ("ISSUED", "IMPORTED", "RSA_2048")
        assert s["key_algorithm"] == "EC_prime256v1"
        assert g["domain_name"] == "pay-0.example.com"
        assert g["subject_alternative_names"] == ["pay-0.example.com"]
        now = datetime.now(UTC)
        assert datetime.fromisoformat(g["not_after"]) - now > timedelta(days=300)
        assert timedelta(days=5) < datetime.fromisoformat(s["not_after"]) - now < timedelta(days=30)
        assert (g["in_use"], g["in_use_by"]) == (False, [])

    def test_in_use_by(self, run: SourceRun) -> None:
        """A certificate attached to a listener names it in in_use_by."""
        used = [
            r
            for r in run.resources
            if r.type == "AWS::CertificateManager::Certificate" and r.attrs["in_use"]
        ]
        assert used and all(r.attrs["in_use_by"] for r in used)


class TestKmsAliases:
    def test_alias_targets_its_key(self, sandbox: AwsSandbox, run: SourceRun) -> None:
        """A customer alias names its key's id and ARN; AWS-managed aliases are marked as such."""
        key_id = sandbox.estate.context[WEST].kms_key_id
        alias = next(
            r
            for r in run.resources
            if r.type == "AWS::KMS::Alias" and r.key.endswith(":alias/payments-1")
        )
        assert alias.key == f"arn:aws:kms:{WEST}:{ACCOUNT}:alias/payments-1"
        assert alias.region == WEST and alias.attrs["target_key_id"] == key_id
        assert alias.attrs["target_key_arn"] == f"arn:aws:kms:{WEST}:{ACCOUNT}:key/{key_id}"
        assert alias.attrs["aws_managed"] is False
        managed = [
            r for r in run.resources if r.type == "AWS::KMS::Alias" and r.attrs["aws_managed"]
        ]
        assert managed and all(r.name.startswith("alias/aws/") for r in managed)


class TestTopicsAndQueues:
    def test_topics(self, sandbox: AwsSandbox, run: SourceRun) -> None:
        """Region 0's topic is KMS-encrypted with the owner-only default policy; region 1's is open to anyone."""
        good = named(run, "AWS::SNS::Topic", "payments-events-0")
        bad = named(run, "AWS::SNS::Topic", "payments-events-1")
        assert good.key == f"arn:aws:sns:{EAST}:{ACCOUNT}:payments-events-0"
        assert (good.encrypted, good.public) == (True, False)
        assert (bad.encrypted, bad.public) == (False, True)
        assert good.attrs["kms_master_key_id"] == sandbox.estate.context[EAST].kms_key_id
        assert bad.attrs["kms_master_key_id"] is None
        assert good.tags == {"pci": "true"} == bad.tags
        assert bad.attrs["policy"]["Statement"][0]["Principal"] == "*"

    def test_queues(self, sandbox: AwsSandbox, run: SourceRun) -> None:
        """Region 0's queue is KMS-encrypted and private; region 1's has no SSE and a public policy."""
        good = named(run, "AWS::SQS::Queue", "payments-jobs-0")
        bad = named(run, "AWS::SQS::Queue", "payments-jobs-1")
        assert good.key == f"arn:aws:sqs:{EAST}:{ACCOUNT}:payments-jobs-0"
        assert bad.key == f"arn:aws:sqs:{WEST}:{ACCOUNT}:payments-jobs-1"
        assert (good.encrypted, good.public) == (True, False)
        assert (bad.encrypted, bad.public) == (False, True)
        assert good.attrs["kms_master_key_id"] == sandbox.estate.context[EAST].kms_key_id
        assert bad.attrs["sqs_managed_sse_enabled"] is False
        assert good.attrs["policy"] is None and good.attrs["visibility_timeout"] == 30
        assert good.tags == {"pci": "true"}
        assert not any(k.startswith("approximate") for k in good.attrs)

    def test_tags_without_the_tagging_api(
        self, proxy: FaultProxy, source: Callable[..., AwsSource], run: SourceRun
    ) -> None:
        """With tag:GetResources denied, each topic's and queue's own tag call gives the same tags."""
        proxy.deny("resourcegroupstaggingapi")
        got = run_source(source(), fingerprint=TEST_FP)
        ops = {op for _, op in proxy.operations}
        assert {"ListTagsForResource", "ListQueueTags"} <= ops

        def tags(r: SourceRun) -> dict[str, dict[str, str]]:
            wanted = ("AWS::SNS::Topic", "AWS::SQS::Queue")
            return {x.key: x.tags for x in r.resources if x.type in wanted}

        assert tags(got) == tags(run) and all(tags(got).values())


class TestPolicyIsPublic:
    def test_anyone_without_conditions(self) -> None:
        """Allow to "*" (or {"AWS": "*"}) without conditions is public; a named account is not."""
        anyone = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:*"}]}
        aws_star = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "x"}]}
        account = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "x"}]}
        deny = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "x"}]}
        assert policy_is_public(anyone) and policy_is_public(aws_star)
        assert not policy_is_public(account) and not policy_is_public(deny)

    def test_conditions_that_restrict(self) -> None:
        """A source-account or org condition makes "*" private; a transport-only condition does not."""

        def star(condition: dict[str, Any]) -> dict[str, Any]:
            return {
                "Statement": [
                    {"Effect": "Allow", "Principal": "*", "Action": "x", "Condition": condition}
                ]
            }

        assert not policy_is_public(star({"StringEquals": {"AWS:SourceOwner": ACCOUNT}}))
        assert not policy_is_public(star({"StringEquals": {"aws:PrincipalOrgID": "o-1"}}))
        assert policy_is_public(star({"Bool": {"aws:SecureTransport": "true"}}))


def test_identify_secrets_keys() -> None:
    """The new keys map to their types."""
    cases = {
        f"arn:aws:kms:{EAST}:{ACCOUNT}:alias/payments-0": "AWS::KMS::Alias",
        f"arn:aws:secretsmanager:{EAST}:{ACCOUNT}:secret:db-AbCdEf": "AWS::SecretsManager::Secret",
        f"arn:aws:acm:{EAST}:{ACCOUNT}:certificate/1": "AWS::CertificateManager::Certificate",
        f"arn:aws:sns:{EAST}:{ACCOUNT}:topic": "AWS::SNS::Topic",
        f"arn:aws:sqs:{EAST}:{ACCOUNT}:queue": "AWS::SQS::Queue",
    }
    for key, type_ in cases.items():
        got = identify(key)
        assert got is not None and got.type == type_, key


class TestRulesOnTheSeededEstate:
    def test_rotation_expiry_and_queues(self, run: SourceRun, tmp_path: Path) -> None:
        """Checked end to end on today's scan, region 0 passes and region 1 fails each rule."""
        at = datetime.now(UTC)
        with Store(tmp_path / "s.duckdb") as store:
            store.write_scan([run], started_at=at, finished_at=at, tool_version="test")
            res = check(store)

        def verdict(rule: str, type_: str, name: str) -> str:
            return statuses(res, rule)[named(run, type_, name).key]

        secret = "AWS::SecretsManager::Secret"
        assert verdict("secrets_rotation_enabled", secret, "payments/db-0") == "ok"
        assert verdict("secrets_rotation_enabled", secret, "payments/db-1") == "alarm"
        cert = "AWS::CertificateManager::Certificate"
        assert verdict("acm_certificate_expiry", cert, "pay-0.example.com") == "ok"
        assert verdict("acm_certificate_expiry", cert, "pay-1.example.com") == "alarm"
        for type_, name in (
            ("AWS::SQS::Queue", "payments-jobs"),
            ("AWS::SNS::Topic", "payments-events"),
        ):
            for rule in ("pci_storage_encrypted", "pci_storage_not_public"):
                assert verdict(rule, type_, f"{name}-0") == "ok", (rule, name)
                assert verdict(rule, type_, f"{name}-1") == "alarm", (rule, name)
