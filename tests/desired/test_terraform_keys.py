"""Every Terraform mapping keys a resource as its collector does: state instances written the
way the providers write them, for resources of the sandbox (moto server, ARM emulator), give
the collector's key and type, and declare values that the live resource matches."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from driftscan.collect.base import run_source
from driftscan.desired.declaration import Declaration, comparable
from driftscan.desired.terraform import TfLoad, TfState, declarations
from driftscan.drift.declared import attribute_changes
from driftscan.model import Resource, SourceRun
from driftscan.providers.aws import AwsSource
from driftscan.sandbox.arm import ArmEmulator
from driftscan.sandbox.aws import AwsSandbox
from tests.collect.aws.conftest import aws_env, sandbox  # noqa: F401 - shared fixtures
from tests.collect.azure.conftest import TEST_QUOTA, arm_server, make_source  # noqa: F401
from tests.conftest import TEST_FP

Build = Callable[[Resource], dict[str, Any]]
AWS_P = 'provider["registry.terraform.io/hashicorp/aws"]'
AZ_P = 'provider["registry.terraform.io/hashicorp/azurerm"]'


def _map(tf_type: str, attrs: list[dict[str, Any]], extra: list[tuple[str, dict[str, Any]]] = (),
         provider: str = AWS_P) -> dict[str, Declaration]:  # fmt: skip
    """The declarations of one state holding these instances (plus others it needs)."""
    resources = [
        {"mode": "managed", "type": t, "name": f"r{i}", "provider": provider,
         "instances": [{"attributes": a}]}
        for i, (t, a) in enumerate([*((tf_type, a) for a in attrs), *extra])
    ]  # fmt: skip
    out = TfLoad(fingerprint=TEST_FP)
    declarations(TfState.model_validate({"version": 4, "resources": resources}), "t", out)
    return {str(d.key): d for d in out.declarations}


def _check(live: Resource, decl: Declaration | None) -> None:
    assert decl is not None, f"no declaration keyed {live.key}"
    assert (decl.key, decl.type, decl.provider) == (live.key, live.type, live.provider)
    doc = comparable(live.attrs, live.tags, live.encrypted, live.public)
    changes, dropped = attribute_changes(decl, doc, live.provider, frozenset())
    assert changes == [] and not dropped, (live.key, changes)


# --- AWS ---------------------------------------------------------------------------------------


def _tags(r: Resource) -> dict[str, Any]:
    return {"tags": dict(r.tags), "tags_all": dict(r.tags)}


def _blocks(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"protocol": x["protocol"], "from_port": x["from_port"] or 0, "to_port": x["to_port"] or 0,
         "cidr_blocks": x["cidrs"], "ipv6_cidr_blocks": x["ipv6_cidrs"],
         "security_groups": x["groups"], "prefix_list_ids": x["prefix_lists"], "self": False}
        for x in rules
    ]  # fmt: skip


def _a(r: Resource, *keys: str) -> dict[str, Any]:
    return {k: r.attrs.get(k) for k in keys}


AWS: dict[str, tuple[str, Build]] = {
    "aws_vpc": ("AWS::EC2::VPC", lambda r: {"id": r.attrs["vpc_id"], "arn": r.key,
        **_a(r, "cidr_block", "instance_tenancy"), **_tags(r)}),
    "aws_subnet": ("AWS::EC2::Subnet", lambda r: {"id": r.attrs["subnet_id"], "arn": r.key,
        **_a(r, "vpc_id", "cidr_block", "availability_zone", "map_public_ip_on_launch"), **_tags(r)}),
    "aws_instance": ("AWS::EC2::Instance", lambda r: {"id": r.attrs["instance_id"], "arn": r.key,
        "ami": r.attrs["image_id"], "instance_state": r.attrs["state"],
        "vpc_security_group_ids": r.attrs["security_groups"], "public_ip": r.attrs["public_ip"] or "",
        "metadata_options": [{"http_tokens": r.attrs["metadata_http_tokens"],
                              "http_endpoint": r.attrs["metadata_http_endpoint"]}],
        **_a(r, "instance_type", "subnet_id", "private_ip"), **_tags(r)}),
    "aws_security_group": ("AWS::EC2::SecurityGroup", lambda r: {"id": r.attrs["group_id"],
        "arn": r.key, "name": r.name, "ingress": _blocks(r.attrs["ingress"]),
        "egress": _blocks(r.attrs["egress"]), **_a(r, "description", "vpc_id"), **_tags(r)}),
    "aws_ebs_volume": ("AWS::EC2::Volume", lambda r: {"id": r.attrs["volume_id"], "arn": r.key,
        "size": r.attrs["size_gib"], "type": r.attrs["volume_type"],
        **_a(r, "availability_zone", "iops", "encrypted"), **_tags(r)}),
    "aws_ami": ("AWS::EC2::Image", lambda r: {"id": r.attrs["image_id"], "arn": r.key, "name": r.name,
        **_a(r, "architecture", "virtualization_type", "root_device_type", "boot_mode")}),
    "aws_launch_template": ("AWS::EC2::LaunchTemplate", lambda r: {"id": r.attrs["launch_template_id"],
        "arn": r.key, "name": r.name, **_a(r, "default_version", "latest_version"), **_tags(r)}),
    "aws_ebs_snapshot": ("AWS::EC2::Snapshot", lambda r: {"id": r.attrs["snapshot_id"], "arn": r.key,
        "volume_size": r.attrs["volume_size_gib"], **_a(r, "volume_id", "description", "storage_tier", "encrypted"),
        **_tags(r)}),
    "aws_autoscaling_group": ("AWS::AutoScaling::AutoScalingGroup", lambda r: {"arn": r.key,
        "name": r.name, "vpc_zone_identifier": r.attrs["subnets"],
        "target_group_arns": r.attrs["target_groups"], "health_check_grace_period": r.attrs["health_check_grace_s"],
        "tag": [{"key": k, "value": v, "propagate_at_launch": True} for k, v in r.tags.items()],
        **_a(r, "min_size", "max_size", "load_balancers", "health_check_type")}),
    "aws_network_acl": ("AWS::EC2::NetworkAcl", lambda r: {"id": r.attrs["network_acl_id"], "arn": r.key,
        "subnet_ids": r.attrs["subnets"], **_a(r, "vpc_id"), **_tags(r)}),
    "aws_route_table": ("AWS::EC2::RouteTable", lambda r: {"id": r.attrs["route_table_id"], "arn": r.key,
        **_a(r, "vpc_id"), **_tags(r)}),
    "aws_internet_gateway": ("AWS::EC2::InternetGateway", lambda r: {"id": r.attrs["internet_gateway_id"],
        "arn": r.key, **_tags(r)}),
    "aws_nat_gateway": ("AWS::EC2::NatGateway", lambda r: {"id": r.attrs["nat_gateway_id"],
        "allocation_id": (r.attrs["allocation_ids"] or [""])[0], **_a(r, "subnet_id", "connectivity_type"),
        **_tags(r)}),
    "aws_flow_log": ("AWS::EC2::FlowLog", lambda r: {"id": r.attrs["flow_log_id"], "arn": r.key,
        "log_destination_type": r.attrs["destination_type"], "log_destination": r.attrs["destination"],
        "max_aggregation_interval": r.attrs["max_aggregation_interval_s"],
        "vpc_id": r.attrs["resource_id"], **_a(r, "traffic_type"), **_tags(r)}),
    "aws_vpc_endpoint": ("AWS::EC2::VPCEndpoint", lambda r: {"id": r.attrs["vpc_endpoint_id"], "arn": r.key,
        "vpc_endpoint_type": r.attrs["endpoint_type"], "route_table_ids": r.attrs["route_tables"],
        "subnet_ids": r.attrs["subnets"], "security_group_ids": r.attrs["security_groups"],
        **_a(r, "service_name", "vpc_id", "private_dns_enabled"), **_tags(r)}),
    "aws_eip": ("AWS::EC2::EIP", lambda r: {"id": r.attrs["allocation_id"], **_a(r, "allocation_id",
        "public_ip", "domain"), **_tags(r)}),
    "aws_lb": ("AWS::ElasticLoadBalancingV2::LoadBalancer", lambda r: {"arn": r.key, "name": r.name,
        "internal": r.attrs["scheme"] == "internal", "load_balancer_type": r.attrs["type"],
        **_a(r, "security_groups", "subnets"), **_tags(r)}),
    "aws_lb_target_group": ("AWS::ElasticLoadBalancingV2::TargetGroup", lambda r: {"arn": r.key,
        "name": r.name, "health_check": [r.attrs["health_check"]],
        **_a(r, "protocol", "port", "vpc_id", "target_type"), **_tags(r)}),
    "aws_lb_listener": ("AWS::ElasticLoadBalancingV2::Listener", lambda r: {"arn": r.key,
        **_a(r, "load_balancer_arn", "protocol", "port", "ssl_policy"), **_tags(r)}),
    "aws_elb": ("AWS::ElasticLoadBalancing::LoadBalancer", lambda r: {"arn": r.key, "name": r.name,
        "internal": r.attrs["scheme"] == "internal",
        **_a(r, "subnets", "security_groups", "availability_zones", "instances"), **_tags(r)}),
    "aws_cloudfront_distribution": ("AWS::CloudFront::Distribution", lambda r: {"arn": r.key,
        **_a(r, "id", "domain_name", "aliases", "enabled", "price_class", "http_version", "web_acl_id"),
        **_tags(r)}),
    "aws_api_gateway_rest_api": ("AWS::ApiGateway::RestApi", lambda r: {"id": r.attrs["api_id"], "arn": r.key,
        "name": r.name, "endpoint_configuration": [{"types": r.attrs["endpoint_types"]}],
        **_a(r, "api_key_source"), **_tags(r)}),
    "aws_api_gateway_stage": ("AWS::ApiGateway::Stage", lambda r: {"arn": r.key,
        "rest_api_id": r.attrs["api_id"], "xray_tracing_enabled": r.attrs["tracing_enabled"],
        "access_log_settings": [{"destination_arn": r.attrs["access_log_destination"]}]
        if r.attrs["access_log_destination"] else [],
        **_a(r, "stage_name", "deployment_id", "cache_cluster_enabled", "client_certificate_id"), **_tags(r)}),
    "aws_apigatewayv2_api": ("AWS::ApiGatewayV2::Api", lambda r: {"id": r.attrs["api_id"], "arn": r.key,
        "name": r.name, **_a(r, "protocol_type", "api_endpoint"), **_tags(r)}),
    "aws_apigatewayv2_stage": ("AWS::ApiGatewayV2::Stage", lambda r: {"arn": r.key,
        "name": r.attrs["stage_name"], **_a(r, "api_id", "deployment_id", "auto_deploy"), **_tags(r)}),
    "aws_route53_zone": ("AWS::Route53::HostedZone", lambda r: {"arn": r.key, "zone_id": r.attrs["zone_id"],
        "name": str(r.attrs["domain_name"]).rstrip("."), "comment": r.attrs["comment"],
        "vpc": [{"vpc_id": "vpc-1"}] if r.attrs["private"] else [], **_tags(r)}),
    "aws_wafv2_web_acl": ("AWS::WAFv2::WebACL", lambda r: {"arn": r.key, "name": r.name,
        "default_action": [{str(r.attrs["default_action"]).lower(): [{}]}],
        **_a(r, "id", "scope", "description"), **_tags(r)}),
    "aws_ecr_repository": ("AWS::ECR::Repository", lambda r: {"arn": r.key, "name": r.name,
        "image_scanning_configuration": [{"scan_on_push": r.attrs["scan_on_push"]}],
        "encryption_configuration": [{"encryption_type": r.attrs["encryption_type"]}],
        **_a(r, "image_tag_mutability"), **_tags(r)}),
    "aws_ecs_cluster": ("AWS::ECS::Cluster", lambda r: {"arn": r.key, "name": r.name,
        "setting": [{"name": "containerInsights", "value": r.attrs["container_insights"]}]
        if r.attrs["container_insights"] else [], **_tags(r)}),
    "aws_ecs_service": ("AWS::ECS::Service", lambda r: {"id": r.key, "name": r.name,
        **_a(r, "cluster", "launch_type", "scheduling_strategy"), **_tags(r)}),
    "aws_ecs_task_definition": ("AWS::ECS::TaskDefinition", lambda r: {"arn": r.key,
        "task_role_arn": r.attrs["task_role"], "execution_role_arn": r.attrs["execution_role"],
        **_a(r, "family", "revision", "network_mode", "cpu", "memory", "requires_compatibilities"),
        **_tags(r)}),
    "aws_eks_cluster": ("AWS::EKS::Cluster", lambda r: {"arn": r.key, "name": r.name,
        "role_arn": r.attrs["role"], "vpc_config": [{"subnet_ids": r.attrs["subnets"],
        **_a(r, "endpoint_public_access", "endpoint_private_access")}], **_a(r, "version"), **_tags(r)}),
    "aws_lambda_function": ("AWS::Lambda::Function", lambda r: {"arn": r.key, "function_name": r.name,
        "memory_size": r.attrs["memory_mb"], "timeout": r.attrs["timeout_s"],
        "vpc_config": [{"subnet_ids": r.attrs["vpc_subnets"], "security_group_ids": r.attrs["vpc_security_groups"]}],
        **_a(r, "runtime", "handler", "role", "code_sha256", "kms_key_arn", "architectures", "layers"),
        **_tags(r)}),
    "aws_lambda_function_url": ("AWS::Lambda::Url", lambda r: {"function_url": r.key,
        "function_arn": r.attrs["function_arn"], "authorization_type": r.attrs["auth_type"],
        "invoke_mode": r.attrs["invoke_mode"], "function_name": r.name}),
    "aws_efs_file_system": ("AWS::EFS::FileSystem", lambda r: {"id": r.attrs["file_system_id"], "arn": r.key,
        **_a(r, "encrypted", "kms_key_id", "performance_mode", "throughput_mode"), **_tags(r)}),
    "aws_dynamodb_table": ("AWS::DynamoDB::Table", lambda r: {"arn": r.key, "name": r.name,
        "deletion_protection_enabled": r.attrs["deletion_protection"],
        "point_in_time_recovery": [{"enabled": r.attrs["point_in_time_recovery"]}],
        "server_side_encryption": [{"kms_key_arn": r.attrs["kms_key_arn"]}] if r.attrs["kms_key_arn"] else [],
        **_a(r, "billing_mode", "stream_enabled"), **_tags(r)}),
    "aws_db_instance": ("AWS::RDS::DBInstance", lambda r: {"arn": r.key, "identifier": r.name,
        "engine_version_actual": r.attrs["engine_version"], "backup_retention_period": r.attrs["backup_retention_days"],
        "vpc_security_group_ids": r.attrs["security_groups"],
        **_a(r, "engine", "instance_class", "storage_encrypted", "publicly_accessible", "multi_az",
             "deletion_protection"), **_tags(r)}),
    "aws_rds_cluster": ("AWS::RDS::DBCluster", lambda r: {"arn": r.key, "cluster_identifier": r.name,
        "engine_version_actual": r.attrs["engine_version"], "backup_retention_period": r.attrs["backup_retention_days"],
        "iam_database_authentication_enabled": r.attrs["iam_auth"], "vpc_security_group_ids": r.attrs["security_groups"],
        **_a(r, "engine", "engine_mode", "storage_encrypted", "deletion_protection"), **_tags(r)}),
    "aws_db_snapshot": ("AWS::RDS::DBSnapshot", lambda r: {"db_snapshot_arn": r.key,
        "db_snapshot_identifier": r.name, "db_instance_identifier": r.attrs["source"],
        **_a(r, "engine", "engine_version", "encrypted"), **_tags(r)}),
    "aws_db_cluster_snapshot": ("AWS::RDS::DBClusterSnapshot", lambda r: {"db_cluster_snapshot_arn": r.key,
        "db_cluster_snapshot_identifier": r.name, "db_cluster_identifier": r.attrs["source"],
        "storage_encrypted": r.attrs["encrypted"], **_a(r, "engine", "engine_version"), **_tags(r)}),
    "aws_redshift_cluster": ("AWS::Redshift::Cluster", lambda r: {"arn": r.key, "cluster_identifier": r.name,
        "number_of_nodes": r.attrs["nodes"], "automated_snapshot_retention_period": r.attrs["snapshot_retention_days"],
        **_a(r, "node_type", "encrypted", "kms_key_id", "publicly_accessible", "enhanced_vpc_routing"),
        **_tags(r)}),
    "aws_elasticache_replication_group": ("AWS::ElastiCache::ReplicationGroup", lambda r: {"arn": r.key,
        "replication_group_id": r.name, "at_rest_encryption_enabled": r.attrs["at_rest_encryption"],
        "transit_encryption_enabled": r.attrs["transit_encryption"],
        "snapshot_retention_limit": r.attrs["snapshot_retention_days"],
        **_a(r, "description", "engine", "node_type", "kms_key_id"), **_tags(r)}),
    "aws_opensearch_domain": ("AWS::OpenSearchService::Domain", lambda r: {"arn": r.key, "domain_name": r.name,
        "engine_version": r.attrs["engine_version"],
        "cluster_config": [{"instance_type": r.attrs["instance_type"], "instance_count": r.attrs["instance_count"]}],
        "encrypt_at_rest": [{"enabled": r.attrs["encryption_at_rest"]}],
        "node_to_node_encryption": [{"enabled": r.attrs["node_to_node_encryption"]}],
        "domain_endpoint_options": [{"enforce_https": r.attrs["enforce_https"],
                                     "tls_security_policy": r.attrs["tls_security_policy"]}], **_tags(r)}),
    "aws_kinesis_stream": ("AWS::Kinesis::Stream", lambda r: {"arn": r.key, "name": r.name,
        "retention_period": r.attrs["retention_hours"], "encryption_type": r.attrs["encryption"],
        "stream_mode_details": [{"stream_mode": r.attrs["mode"]}], **_a(r, "kms_key_id"), **_tags(r)}),
    "aws_backup_vault": ("AWS::Backup::BackupVault", lambda r: {"arn": r.key, "name": r.name,
        "kms_key_arn": r.attrs["encryption_key_arn"], **_tags(r)}),
    "aws_backup_plan": ("AWS::Backup::BackupPlan", lambda r: {"arn": r.key, "name": r.name,
        "id": r.attrs["plan_id"], "version": r.attrs["version_id"], **_tags(r)}),
    "aws_kms_key": ("AWS::KMS::Key", lambda r: {"arn": r.key, "key_id": r.name,
        "enable_key_rotation": r.attrs["rotation_enabled"], "is_enabled": r.attrs["key_state"] == "Enabled",
        "customer_master_key_spec": r.attrs["key_spec"], **_a(r, "key_usage", "description", "multi_region"),
        **_tags(r)}),
    "aws_kms_alias": ("AWS::KMS::Alias", lambda r: {"arn": r.key, "name": r.attrs["alias_name"],
        "target_key_arn": r.attrs["target_key_arn"]}),
    "aws_secretsmanager_secret": ("AWS::SecretsManager::Secret", lambda r: {"arn": r.key, "name": r.name,
        **_a(r, "description", "kms_key_id"), **_tags(r)}),
    "aws_acm_certificate": ("AWS::CertificateManager::Certificate", lambda r: {"arn": r.key,
        **_a(r, "domain_name", "subject_alternative_names", "key_algorithm", "type"), **_tags(r)}),
    "aws_sns_topic": ("AWS::SNS::Topic", lambda r: {"arn": r.key, "name": r.name,
        **_a(r, "display_name", "kms_master_key_id", "fifo_topic"), **_tags(r)}),
    "aws_sqs_queue": ("AWS::SQS::Queue", lambda r: {"arn": r.key, "name": r.name, "url": r.attrs["queue_url"],
        "visibility_timeout_seconds": r.attrs["visibility_timeout"],
        "message_retention_seconds": r.attrs["message_retention_period"],
        "max_message_size": r.attrs["maximum_message_size"],
        "receive_wait_time_seconds": r.attrs["receive_message_wait_time_seconds"],
        "sqs_managed_sse_enabled": r.attrs["sqs_managed_sse_enabled"],
        **_a(r, "kms_master_key_id", "fifo_queue", "delay_seconds"), **_tags(r)}),
    "aws_cloudtrail": ("AWS::CloudTrail::Trail", lambda r: {"arn": r.key, "name": r.name,
        "is_multi_region_trail": r.attrs["multi_region"], "is_organization_trail": r.attrs["organization_trail"],
        "enable_log_file_validation": r.attrs["log_file_validation"],
        "cloud_watch_logs_group_arn": r.attrs["cloudwatch_logs_log_group_arn"],
        "cloud_watch_logs_role_arn": r.attrs["cloudwatch_logs_role_arn"], "enable_logging": r.attrs["is_logging"],
        **_a(r, "home_region", "include_global_service_events", "kms_key_id"), **_tags(r)}),
    "aws_config_configuration_recorder": ("AWS::Config::ConfigurationRecorder", lambda r: {"name": r.name,
        "role_arn": r.attrs["role_arn"], "recording_group": [{"all_supported": r.attrs["all_supported"],
        "include_global_resource_types": r.attrs["include_global_resource_types"],
        "resource_types": r.attrs["resource_types"]}]}),
    "aws_config_delivery_channel": ("AWS::Config::DeliveryChannel", lambda r: {"name": r.name,
        "s3_bucket_name": r.attrs["s3_bucket"],
        "snapshot_delivery_properties": [{"delivery_frequency": r.attrs["delivery_frequency"]}]
        if r.attrs["delivery_frequency"] else [], **_a(r, "s3_key_prefix", "s3_kms_key_arn", "sns_topic_arn")}),
    "aws_guardduty_detector": ("AWS::GuardDuty::Detector", lambda r: {"arn": r.key, "id": r.attrs["detector_id"],
        "enable": r.attrs["enabled"], **_a(r, "finding_publishing_frequency"), **_tags(r)}),
    "aws_securityhub_account": ("AWS::SecurityHub::Hub", lambda r: {"arn": r.key, "id": r.account}),
    "aws_cloudwatch_metric_alarm": ("AWS::CloudWatch::Alarm", lambda r: {"arn": r.key, "alarm_name": r.name,
        **_a(r, "metric_name", "namespace", "comparison_operator", "actions_enabled", "alarm_actions",
             "ok_actions"), **_tags(r)}),
    "aws_cloudwatch_log_group": ("AWS::Logs::LogGroup", lambda r: {"arn": r.key, "name": r.name,
        "retention_in_days": r.attrs["retention_days"] or 0, **_a(r, "kms_key_id", "log_group_class"),
        **_tags(r)}),
    "aws_cloudwatch_log_metric_filter": ("AWS::Logs::MetricFilter", lambda r: {"name": r.name,
        "log_group_name": r.attrs["log_group_name"], "pattern": r.attrs["filter_pattern"]}),
    "aws_iam_role": ("AWS::IAM::Role", lambda r: {"arn": r.key, "name": r.name,
        **_a(r, "path", "description", "max_session_duration"), **_tags(r)}),
    "aws_iam_user": ("AWS::IAM::User", lambda r: {"arn": r.key, "name": r.name, **_a(r, "path"), **_tags(r)}),
    "aws_iam_group": ("AWS::IAM::Group", lambda r: {"arn": r.key, "name": r.name, **_a(r, "path")}),
    "aws_iam_policy": ("AWS::IAM::ManagedPolicy", lambda r: {"arn": r.key, "name": r.name,
        **_a(r, "path", "description"), **_tags(r)}),
    "aws_iam_account_password_policy": ("AWS::IAM::AccountPasswordPolicy", lambda r: {
        "id": "iam-account-password-policy", "require_uppercase_characters": r.attrs["require_uppercase"],
        "require_lowercase_characters": r.attrs["require_lowercase"],
        **_a(r, "minimum_password_length", "require_symbols", "require_numbers",
             "allow_users_to_change_password", "max_password_age", "password_reuse_prevention",
             "hard_expiry")}),
    "aws_ebs_encryption_by_default": ("AWS::EC2::EBSEncryptionByDefault", lambda r: {"id": r.region,
        "enabled": r.attrs["enabled"]}),
    "aws_s3_account_public_access_block": ("AWS::S3::AccountPublicAccessBlock", lambda r: {"id": r.account,
        "account_id": r.account, **_a(r, "block_public_acls", "ignore_public_acls", "block_public_policy",
                                      "restrict_public_buckets")}),
    "aws_s3_bucket": ("AWS::S3::Bucket", lambda r: {"arn": r.key, "bucket": r.name, "region": r.region,
        **_tags(r)}),
}  # fmt: skip
# What the sandbox estate cannot show the mapping against: configured only where present.
_WHEN = {
    "aws_iam_account_password_policy": lambda r: r.attrs.get("configured"),
    "aws_s3_account_public_access_block": lambda r: r.attrs.get("configured"),
    "aws_config_configuration_recorder": lambda r: True,
    "aws_s3_bucket": lambda r: True,
}


@pytest.fixture(scope="module")
def aws_run(sandbox: AwsSandbox) -> SourceRun:  # noqa: F811
    """One collection of the moto sandbox for the whole module."""
    sandbox.proxy.reset()
    result = run_source(
        AwsSource(**sandbox.source(concurrency=16, max_attempts=3)), fingerprint=TEST_FP
    )
    assert result.status == "ok", [(s.name, s.reason) for s in result.slices if s.reason]
    return result


def _anchor(r: Resource) -> list[tuple[str, dict[str, Any]]]:
    # Keys the provider writes no ARN for take account and region from the state's other ARNs,
    # as in any real state of that account and region: one such resource stands beside.
    return [("aws_sqs_queue", {"arn": f"arn:aws:sqs:{r.region}:{r.account}:anchor", "url": "u"})]


@pytest.mark.parametrize("tf_type", sorted(AWS))
def test_aws_mapping_keys_like_the_collector(aws_run: SourceRun, tf_type: str) -> None:
    """The mapping of each AWS type gives the collector's key and type, and no drift."""
    aws_type, build = AWS[tf_type]
    live = [
        r for r in aws_run.resources if r.type == aws_type and _WHEN.get(tf_type, lambda r: True)(r)
    ]
    if not live:
        pytest.skip(f"the sandbox estate holds no {aws_type}")
    for r in live[:3]:
        got = _map(tf_type, [build(r)], _anchor(r))
        _check(r, got.get(r.key))


def test_every_collected_aws_type_is_mapped(aws_run: SourceRun) -> None:
    """Every type the AWS collector stores (but its account summary) has a mapping tested here."""
    mapped = {t for t, _ in AWS.values()}
    collected = {r.type for r in aws_run.resources}
    assert collected - mapped <= {"AWS::IAM::AccountSummary"}, collected - mapped


def test_child_resources_fold_into_the_sandbox_parents(aws_run: SourceRun) -> None:
    """An attachment or association keys its parent as the collector does, the parent in the
    state or not (then by account, region and id, as the collector builds the ARN)."""
    role = next(
        r for r in aws_run.resources if r.type == "AWS::IAM::Role" and r.attrs["path"] == "/"
    )
    table = next(r for r in aws_run.resources if r.type == "AWS::EC2::RouteTable")
    policy = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    attach = (
        "aws_iam_role_policy_attachment",
        {"id": "a", "role": role.name, "policy_arn": policy},
    )
    assoc = ("aws_route_table_association", {"id": "rtbassoc-1", "subnet_id": "subnet-1",
                                             "route_table_id": table.attrs["route_table_id"]})  # fmt: skip
    for parent, child, tf_type, build in (
        (role, attach, "aws_iam_role", AWS["aws_iam_role"][1]),
        (table, assoc, "aws_route_table", AWS["aws_route_table"][1]),
    ):
        with_parent = _map(tf_type, [build(parent)], [child])
        alone = _map("aws_sqs_queue", [], [child, *_anchor(parent)])
        for got in (with_parent, alone):
            assert parent.key in got and got[parent.key].type == parent.type
    assert alone[table.key].declared == {"subnets": ["subnet-1"]}
    assert with_parent[table.key].source.endswith("#aws_route_table.r0")


# --- Azure ---------------------------------------------------------------------------------------


def _p(r: Resource) -> dict[str, Any]:
    return r.attrs.get("properties") or {}


def _az(r: Resource) -> dict[str, Any]:
    # The provider writes ids as ARM spells them; the collector lower-cases keys.
    return {"id": r.key, "name": r.name, "location": r.region, "tags": dict(r.tags)}


AZURE: dict[str, tuple[str, Build]] = {
    "azurerm_resource_group": ("microsoft.resources/subscriptions/resourcegroups", _az),
    "azurerm_storage_account": ("microsoft.storage/storageaccounts", lambda r: {**_az(r),
        "account_kind": r.attrs.get("kind"), "min_tls_version": _p(r).get("minimumTlsVersion"),
        "https_traffic_only_enabled": _p(r).get("supportsHttpsTrafficOnly"),
        "allow_nested_items_to_be_public": _p(r).get("allowBlobPublicAccess"),
        "public_network_access_enabled": _p(r).get("publicNetworkAccess") != "Disabled",
        "network_rules": [{"default_action": (_p(r).get("networkAcls") or {}).get("defaultAction", "Allow")}]}),
    "azurerm_linux_virtual_machine": ("microsoft.compute/virtualmachines", lambda r: {**_az(r),
        "size": _p(r)["hardwareProfile"]["vmSize"]}),
    "azurerm_virtual_machine": ("microsoft.compute/virtualmachines", lambda r: {**_az(r),
        "vm_size": _p(r)["hardwareProfile"]["vmSize"]}),
    "azurerm_managed_disk": ("microsoft.compute/disks", lambda r: {**_az(r),
        "storage_account_type": (r.attrs.get("sku") or {}).get("name"), "disk_size_gb": _p(r).get("diskSizeGB")}),
    "azurerm_network_security_group": ("microsoft.network/networksecuritygroups", lambda r: {**_az(r),
        "security_rule": [{"direction": x["properties"]["direction"], "access": x["properties"]["access"],
                           "source_address_prefix": x["properties"].get("sourceAddressPrefix"),
                           "source_address_prefixes": x["properties"].get("sourceAddressPrefixes") or []}
                          for x in _p(r).get("securityRules") or []]}),
    "azurerm_key_vault": ("microsoft.keyvault/vaults", lambda r: {**_az(r), "tenant_id": _p(r).get("tenantId"),
        "purge_protection_enabled": _p(r).get("enablePurgeProtection"),
        "public_network_access_enabled": _p(r).get("publicNetworkAccess") != "Disabled",
        "network_acls": [{"default_action": (_p(r).get("networkAcls") or {}).get("defaultAction", "Allow")}]}),
    "azurerm_mssql_server": ("microsoft.sql/servers", lambda r: {**_az(r), "version": _p(r).get("version"),
        "minimum_tls_version": _p(r).get("minimalTlsVersion"),
        "administrator_login": _p(r).get("administratorLogin"),
        "public_network_access_enabled": _p(r).get("publicNetworkAccess") == "Enabled"}),
    "azurerm_mssql_database": ("microsoft.sql/servers/databases", _az),
    "azurerm_virtual_network": ("microsoft.network/virtualnetworks", lambda r: {**_az(r),
        "address_space": r.attrs.get("addressPrefixes")}),
    "azurerm_subnet": ("microsoft.network/virtualnetworks/subnets", lambda r: {"id": r.key, "name": r.name,
        "address_prefixes": [_p(r)["addressPrefix"]] if _p(r).get("addressPrefix")
        else _p(r).get("addressPrefixes") or []}),
    "azurerm_public_ip": ("microsoft.network/publicipaddresses", _az),
    "azurerm_network_interface": ("microsoft.network/networkinterfaces", _az),
    "azurerm_kubernetes_cluster": ("microsoft.containerservice/managedclusters", lambda r: {**_az(r),
        "role_based_access_control_enabled": r.attrs.get("rbac"),
        "private_cluster_enabled": bool(r.attrs.get("privateCluster")),
        "local_account_disabled": r.attrs.get("localAccountsDisabled"),
        "api_server_access_profile": [{"authorized_ip_ranges": r.attrs.get("authorizedIpRanges") or []}],
        "network_profile": [{"network_policy": r.attrs.get("networkPolicy")}]}),
    "azurerm_container_registry": ("microsoft.containerregistry/registries", lambda r: {**_az(r),
        "admin_enabled": r.attrs.get("adminUserEnabled"),
        "anonymous_pull_enabled": r.attrs.get("anonymousPullEnabled"),
        "public_network_access_enabled": _p(r).get("publicNetworkAccess") != "Disabled",
        "network_rule_set": [{"default_action": (_p(r).get("networkRuleSet") or {}).get("defaultAction")}]}),
    "azurerm_cosmosdb_account": ("microsoft.documentdb/databaseaccounts", _az),
    "azurerm_postgresql_flexible_server": ("microsoft.dbforpostgresql/flexibleservers", lambda r: {**_az(r),
        "public_network_access_enabled": r.public, "geo_redundant_backup_enabled": r.attrs.get("geoRedundantBackup")}),
    "azurerm_mysql_flexible_server": ("microsoft.dbformysql/flexibleservers", lambda r: {**_az(r),
        "public_network_access_enabled": r.public, "geo_redundant_backup_enabled": r.attrs.get("geoRedundantBackup")}),
    "azurerm_application_gateway": ("microsoft.network/applicationgateways", _az),
    "azurerm_linux_web_app": ("microsoft.web/sites", lambda r: {**_az(r), "https_only": r.attrs.get("httpsOnly"),
        "public_network_access_enabled": _p(r).get("publicNetworkAccess") != "Disabled",
        "site_config": [{"minimum_tls_version": r.attrs.get("minimumTlsVersion"),
                         "ftps_state": r.attrs.get("ftpsState")}]}),
    "azurerm_monitor_activity_log_alert": ("microsoft.insights/activitylogalerts", _az),
    "azurerm_redis_cache": ("microsoft.cache/redis", _az),
    "azurerm_private_endpoint": ("microsoft.network/privateendpoints", _az),
    "azurerm_key_vault_secret": ("microsoft.keyvault/vaults/secrets", lambda r: {
        "id": f"https://x.vault.azure.net/secrets/{r.name}/0123", "name": r.name,
        "resource_versionless_id": r.key, "value": "invented-secret-value"}),
    "azurerm_key_vault_key": ("microsoft.keyvault/vaults/keys", lambda r: {
        "id": f"https://x.vault.azure.net/keys/{r.name}/0123", "name": r.name,
        "resource_id": r.key + "/versions/0123"}),
    "azurerm_role_assignment": ("microsoft.authorization/roleassignments", lambda r: {"id": r.key,
        "name": r.name, "scope": _p(r).get("scope"), "principal_id": _p(r).get("principalId")}),
    "azurerm_security_center_subscription_pricing": ("microsoft.security/pricings", lambda r: {"id": r.key,
        "tier": _p(r).get("pricingTier"), "resource_type": r.name}),
    "azurerm_security_center_contact": ("microsoft.security/securitycontacts", lambda r: {"id": r.key,
        "name": r.name}),
    "azurerm_monitor_diagnostic_setting": ("microsoft.insights/diagnosticsettings", lambda r: {
        "id": f"/subscriptions/{r.account}|{r.name}", "name": r.name,
        "target_resource_id": f"/subscriptions/{r.account}"}),
}  # fmt: skip


# The newer VM resources create managed disks only: the estate's legacy VHD VM is not theirs.
_AZ_WHEN: dict[str, Callable[[Resource], Any]] = {
    "azurerm_linux_virtual_machine": lambda r: _p(r)["storageProfile"]["osDisk"].get("managedDisk"),
}


@pytest.fixture(scope="module")
def azure_run() -> Any:
    """One collection of the whole sandbox tenant (every type the collector reads in full)."""
    from driftscan.sandbox.arm import tenant_estate

    with (
        pytest.MonkeyPatch.context() as mp,
        ArmEmulator(tenant_estate(), graph_quota=TEST_QUOTA) as em,
    ):
        mp.setenv("AZURE_ACCESS_TOKEN", em.token)
        result = run_source(make_source(em), fingerprint=TEST_FP)
    return result


@pytest.mark.parametrize("tf_type", sorted(AZURE))
def test_azurerm_mapping_keys_like_the_collector(azure_run: SourceRun, tf_type: str) -> None:
    """The mapping of each azurerm type gives the collector's key and type, and no drift."""
    typ, build = AZURE[tf_type]
    live = [r for r in azure_run.resources if r.type == typ and _AZ_WHEN.get(tf_type, bool)(r)]
    if not live:
        pytest.skip(f"the sandbox tenant holds no {typ}")
    for r in live[:3]:
        got = _map(tf_type, [build(r)], provider=AZ_P)
        decl = got.get(r.key)
        assert decl is not None, (tf_type, r.key, list(got))
        assert (decl.key, decl.type) == (r.key, r.type)
        doc = comparable(r.attrs, r.tags, r.encrypted, r.public)
        changes, _ = attribute_changes(decl, doc, "azure", frozenset())
        assert changes == [], (r.key, changes)
        assert "invented-secret-value" not in json.dumps(decl.declared)


def test_associations_fold_into_the_nic_and_subnet(azure_run: SourceRun) -> None:
    """NIC and subnet NSG associations declare the networkSecurityGroup the collector derives."""
    nic = next(r for r in azure_run.resources if r.type == "microsoft.network/networkinterfaces"
               and r.attrs.get("networkSecurityGroup"))  # fmt: skip
    nsg = nic.attrs["networkSecurityGroup"]
    got = _map("azurerm_network_interface", [_az(nic)], [
        ("azurerm_network_interface_security_group_association",
         {"id": f"{nic.key}|{nsg}", "network_interface_id": nic.key, "network_security_group_id": nsg})],
        provider=AZ_P)  # fmt: skip
    assert list(got) == [nic.key] and got[nic.key].type == "microsoft.network/networkinterfaces"
    doc = comparable(nic.attrs, nic.tags, nic.encrypted, nic.public)
    assert attribute_changes(got[nic.key], doc, "azure", frozenset())[0] == []
