"""AWS compute and containers: EC2 (instances, AMIs, launch templates, network parts, volumes),
Auto Scaling groups, ECR, ECS, EKS, Lambda functions and function URLs."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from driftscan.collect.limits import ApiLimits, RateLimit, bounded_map
from driftscan.providers.aws.collect.specs import (
    Found,
    Item,
    Reader,
    ResourceSpec,
    ServiceSpec,
    is_unsupported,
    iso,
    missing,
    optional_get,
    tag_dict,
    tagging_api,
)
from driftscan.providers.aws.secrets import b64_fingerprint

# How many list-then-describe calls a lister runs at once (a ServiceSpec's default fanout).
_FANOUT = 16

# --- EC2 -----------------------------------------------------------------------------------


def _instance_user_data(r: Reader, item: Item) -> None:
    resp = r.client.describe_instance_attribute(InstanceId=item["InstanceId"], Attribute="userData")
    value = (resp.get("UserData") or {}).get("Value")
    # The script may hold secrets: keep only its fingerprint, drop the response at once.
    item["_user_data"] = b64_fingerprint(r.fingerprint, value) if value else None


def _instance(r: Reader, i: Item) -> Found:
    tags = tag_dict(i.get("Tags"))
    return Found(
        name=tags.get("Name") or str(i["InstanceId"]),
        tags=tags,
        attrs={
            "instance_id": i["InstanceId"],
            "state": i["State"]["Name"],
            "image_id": i.get("ImageId"),
            "instance_type": i.get("InstanceType"),
            "subnet_id": i.get("SubnetId"),
            "vpc_id": i.get("VpcId"),
            "security_groups": sorted(g["GroupId"] for g in i.get("SecurityGroups", [])),
            "private_ip": i.get("PrivateIpAddress"),
            "public_ip": i.get("PublicIpAddress"),
            "iam_instance_profile": (i.get("IamInstanceProfile") or {}).get("Arn"),
            # "required": IMDSv2 only; "optional" still answers IMDSv1 (null: not reported).
            "metadata_http_tokens": (i.get("MetadataOptions") or {}).get("HttpTokens"),
            "metadata_http_endpoint": (i.get("MetadataOptions") or {}).get("HttpEndpoint"),
            "launch_time": iso(i.get("LaunchTime")),
            "user_data": i.get("_user_data"),
        },
        public=bool(i.get("PublicIpAddress")),
    )


def _rules(perms: list[Item]) -> list[Item]:
    rules = []
    for p in perms:
        rules.append(
            {
                "protocol": p.get("IpProtocol"),
                "from_port": p.get("FromPort"),
                "to_port": p.get("ToPort"),
                "cidrs": sorted(x["CidrIp"] for x in p.get("IpRanges", [])),
                "ipv6_cidrs": sorted(x["CidrIpv6"] for x in p.get("Ipv6Ranges", [])),
                "groups": sorted(
                    x["GroupId"] for x in p.get("UserIdGroupPairs", []) if "GroupId" in x
                ),
                "prefix_lists": sorted(x["PrefixListId"] for x in p.get("PrefixListIds", [])),
            }
        )
    return sorted(rules, key=json.dumps)


def _security_group(r: Reader, g: Item) -> Found:
    ingress = _rules(g.get("IpPermissions", []))
    open_world = any(
        {"0.0.0.0/0"} & set(x["cidrs"]) or {"::/0"} & set(x["ipv6_cidrs"]) for x in ingress
    )
    return Found(
        name=g["GroupName"],
        tags=tag_dict(g.get("Tags")),
        attrs={
            "group_id": g["GroupId"],
            "description": g.get("Description"),
            "vpc_id": g.get("VpcId"),
            "ingress": ingress,
            "egress": _rules(g.get("IpPermissionsEgress", [])),
        },
        public=open_world,
    )


def _vpc(r: Reader, v: Item) -> Found:
    tags = tag_dict(v.get("Tags"))
    return Found(
        name=tags.get("Name") or str(v["VpcId"]),
        tags=tags,
        attrs={
            "vpc_id": v["VpcId"],
            "cidr_block": v.get("CidrBlock"),
            "cidr_blocks": sorted(c["CidrBlock"] for c in v.get("CidrBlockAssociationSet", [])),
            "is_default": v.get("IsDefault"),
            "state": v.get("State"),
            "instance_tenancy": v.get("InstanceTenancy"),
        },
    )


def _subnet(r: Reader, s: Item) -> Found:
    tags = tag_dict(s.get("Tags"))
    return Found(
        name=tags.get("Name") or str(s["SubnetId"]),
        tags=tags,
        attrs={
            "subnet_id": s["SubnetId"],
            "vpc_id": s.get("VpcId"),
            "cidr_block": s.get("CidrBlock"),
            "availability_zone": s.get("AvailabilityZone"),
            "map_public_ip_on_launch": s.get("MapPublicIpOnLaunch"),
            "state": s.get("State"),
        },
    )


def _volume(r: Reader, v: Item) -> Found:
    tags = tag_dict(v.get("Tags"))
    return Found(
        name=tags.get("Name") or str(v["VolumeId"]),
        tags=tags,
        attrs={
            "volume_id": v["VolumeId"],
            "size_gib": v.get("Size"),
            "volume_type": v.get("VolumeType"),
            "state": v.get("State"),
            "availability_zone": v.get("AvailabilityZone"),
            "encrypted": bool(v["Encrypted"]),
            "kms_key_id": v.get("KmsKeyId"),
            "iops": v.get("Iops"),
            "attached_to": sorted(a["InstanceId"] for a in v.get("Attachments", [])),
        },
        encrypted=bool(v["Encrypted"]),
    )


def _ebs_encrypted(mappings: list[Item] | None) -> bool | None:
    """True when every EBS mapping says it is encrypted, False when one says it is not, None
    when none says (no EBS mappings, or a payload without the flag)."""
    flags = [(m.get("Ebs") or {}).get("Encrypted") for m in mappings or [] if "Ebs" in m]
    if any(f is False for f in flags):
        return False
    return True if flags and all(f is True for f in flags) else None


def _block_devices(mappings: list[Item] | None) -> list[Item]:
    out = []
    for m in mappings or []:
        ebs = m.get("Ebs") or {}
        out.append(
            {
                "device": m.get("DeviceName"),
                "virtual_name": m.get("VirtualName"),  # instance-store volumes
                "snapshot_id": ebs.get("SnapshotId"),
                "size_gib": ebs.get("VolumeSize"),
                "volume_type": ebs.get("VolumeType"),
                "encrypted": ebs.get("Encrypted"),
                "kms_key_id": ebs.get("KmsKeyId"),
                "delete_on_termination": ebs.get("DeleteOnTermination"),
            }
        )
    return sorted(out, key=lambda d: str(d["device"]))


def _image(r: Reader, i: Item) -> Found:
    # `Public` is DescribeImages' own answer to "is launchPermission granted to group all", so
    # no DescribeImageAttribute call per image is needed.
    public = i.get("Public")
    return Found(
        name=str(i.get("Name") or i["ImageId"]),
        tags=tag_dict(i.get("Tags")),
        attrs={
            "image_id": i["ImageId"],
            "description": i.get("Description"),
            "state": i.get("State"),
            "public": public,
            "owner_id": i.get("OwnerId"),
            "creation_date": iso(i.get("CreationDate")),
            "deprecation_time": iso(i.get("DeprecationTime")),
            "architecture": i.get("Architecture"),
            "platform": i.get("PlatformDetails") or i.get("Platform"),
            "image_type": i.get("ImageType"),
            "root_device_type": i.get("RootDeviceType"),
            "virtualization_type": i.get("VirtualizationType"),
            "boot_mode": i.get("BootMode"),
            "imds_support": i.get("ImdsSupport"),  # "v2.0": instances launched from it need IMDSv2
            "source_instance_id": i.get("SourceInstanceId"),
            "block_devices": _block_devices(i.get("BlockDeviceMappings")),
        },
        encrypted=_ebs_encrypted(i.get("BlockDeviceMappings")),
        public=public if isinstance(public, bool) else None,
    )


def _image_arn(r: Reader, i: Item) -> str:
    # An AMI's ARN has no account field: arn:aws:ec2:<region>::image/ami-…
    return f"arn:{r.partition}:ec2:{r.region}::image/{i['ImageId']}"


def _latest_template_versions(r: Reader, items: list[Item]) -> None:
    """The $Latest version of every launch template of the region in one paginated listing
    (DescribeLaunchTemplateVersions without a template id), instead of a call per template."""
    pages = r.client.get_paginator("describe_launch_template_versions").paginate(
        Versions=["$Latest"]
    )
    latest = {str(v["LaunchTemplateId"]): v for v in pages.search("LaunchTemplateVersions[]")}
    for i in items:
        version = latest.get(str(i["LaunchTemplateId"]))
        if version is None:
            i["_latest"] = None
            continue
        data = dict(version.get("LaunchTemplateData") or {})
        # User data may hold secrets: only its fingerprint stays in the item.
        user_data = data.pop("UserData", None)
        i["_user_data"] = b64_fingerprint(r.fingerprint, user_data) if user_data else None
        i["_latest"] = {"version": version.get("VersionNumber"), "data": data}


def _template_data(data: dict[str, Any]) -> dict[str, Any]:
    """The settings of one launch template version that matter for drift and hygiene."""
    profile = data.get("IamInstanceProfile") or {}
    metadata = data.get("MetadataOptions") or {}
    nics = data.get("NetworkInterfaces") or []
    groups = set(data.get("SecurityGroupIds") or [])
    for nic in nics:
        groups.update(nic.get("Groups") or [])
    public_ips = [nic.get("AssociatePublicIpAddress") for nic in nics]
    return {
        "image_id": data.get("ImageId"),
        "instance_type": data.get("InstanceType"),
        "key_name": data.get("KeyName"),
        "iam_instance_profile": profile.get("Arn") or profile.get("Name"),
        "security_groups": sorted(groups),
        "security_group_names": sorted(data.get("SecurityGroups") or []),
        # "required": IMDSv2 only; "optional" (or unset on old AMIs) still answers IMDSv1.
        "metadata_http_tokens": metadata.get("HttpTokens"),
        "metadata_http_endpoint": metadata.get("HttpEndpoint"),
        "associate_public_ip": True if True in public_ips else (False if public_ips else None),
        "ebs_optimized": data.get("EbsOptimized"),
        "block_devices": _block_devices(data.get("BlockDeviceMappings")),
    }


def _launch_template(r: Reader, t: Item) -> Found:
    latest = t.get("_latest") or {}
    data = latest.get("data")
    return Found(
        name=str(t["LaunchTemplateName"]),
        tags=tag_dict(t.get("Tags")),
        attrs={
            "launch_template_id": t["LaunchTemplateId"],
            "default_version": t.get("DefaultVersionNumber"),
            "latest_version": t.get("LatestVersionNumber"),
            "created": iso(t.get("CreateTime")),
            # The latest version's settings (null when the version listing did not have it).
            "latest": None if data is None else _template_data(data),
            "user_data": t.get("_user_data"),
        },
        encrypted=None if data is None else _ebs_encrypted(data.get("BlockDeviceMappings")),
    )


def _ec2_arn(kind: str, id_field: str) -> Callable[[Reader, Item], str]:
    return lambda r, i: r.arn("ec2", f"{kind}/{i[id_field]}")


# "Request throttling for the Amazon EC2 API": non-mutating actions (Describe*), a bucket of
# 100 tokens refilled at 20 a second, per account and region. Every spec reading through the
# "ec2" client declares these.
EC2_LIMITS = ApiLimits({"Describe*": RateLimit(100, 20)})

EC2 = ServiceSpec(
    "ec2",
    "ec2",
    (
        ResourceSpec(
            "AWS::EC2::Instance",
            "describe_instances",
            "Reservations[].Instances[]",
            key=_ec2_arn("instance", "InstanceId"),
            build=_instance,
            enrich=_instance_user_data,
        ),
        ResourceSpec(
            "AWS::EC2::SecurityGroup",
            "describe_security_groups",
            "SecurityGroups",
            key=_ec2_arn("security-group", "GroupId"),
            build=_security_group,
        ),
        ResourceSpec(
            "AWS::EC2::VPC", "describe_vpcs", "Vpcs", key=_ec2_arn("vpc", "VpcId"), build=_vpc
        ),
        ResourceSpec(
            "AWS::EC2::Subnet",
            "describe_subnets",
            "Subnets",
            key=_ec2_arn("subnet", "SubnetId"),
            build=_subnet,
        ),
        ResourceSpec(
            "AWS::EC2::Volume",
            "describe_volumes",
            "Volumes",
            key=_ec2_arn("volume", "VolumeId"),
            build=_volume,
        ),
        ResourceSpec(
            "AWS::EC2::Image",
            "describe_images",
            "Images",
            params={"Owners": ["self"]},  # the account's own AMIs, not every public one
            key=_image_arn,
            build=_image,
        ),
        ResourceSpec(
            "AWS::EC2::LaunchTemplate",
            "describe_launch_templates",
            "LaunchTemplates",
            key=_ec2_arn("launch-template", "LaunchTemplateId"),
            build=_launch_template,
            enrich_batch=_latest_template_versions,
        ),
    ),
    limits=EC2_LIMITS,
)

# --- Auto Scaling --------------------------------------------------------------------------


def _launch_template_ref(ref: Item | None) -> dict[str, Any] | None:
    if not ref:
        return None
    return {
        "id": ref.get("LaunchTemplateId"),
        "name": ref.get("LaunchTemplateName"),
        "version": ref.get("Version"),
    }


def _auto_scaling_group(r: Reader, g: Item) -> Found:
    mixed = g.get("MixedInstancesPolicy") or {}
    mixed_template = (mixed.get("LaunchTemplate") or {}).get("LaunchTemplateSpecification")
    return Found(
        name=str(g["AutoScalingGroupName"]),
        tags=tag_dict(g.get("Tags")),
        attrs={
            # At most one of the three is set: a launch template, one inside a mixed
            # instances policy, or a (legacy) launch configuration.
            "launch_template": _launch_template_ref(g.get("LaunchTemplate")),
            "mixed_instances_launch_template": _launch_template_ref(mixed_template),
            "launch_configuration": g.get("LaunchConfigurationName"),
            "min_size": g.get("MinSize"),
            "max_size": g.get("MaxSize"),
            "desired_capacity": g.get("DesiredCapacity"),
            "subnets": sorted(s for s in (g.get("VPCZoneIdentifier") or "").split(",") if s),
            "availability_zones": sorted(g.get("AvailabilityZones") or []),
            "target_groups": sorted(g.get("TargetGroupARNs") or []),
            "load_balancers": sorted(g.get("LoadBalancerNames") or []),
            "health_check_type": g.get("HealthCheckType"),
            "health_check_grace_s": g.get("HealthCheckGracePeriod"),
            "instances": sorted(
                (
                    {
                        "id": i.get("InstanceId"),
                        "lifecycle_state": i.get("LifecycleState"),
                        "health_status": i.get("HealthStatus"),
                    }
                    for i in g.get("Instances") or []
                ),
                key=lambda i: str(i["id"]),
            ),
            "suspended_processes": sorted(
                str(p.get("ProcessName")) for p in g.get("SuspendedProcesses") or []
            ),
            "status": g.get("Status"),  # set only while the group is being deleted
        },
    )


AUTOSCALING = ServiceSpec(
    "autoscaling",
    "autoscaling",
    (
        ResourceSpec(
            "AWS::AutoScaling::AutoScalingGroup",
            "describe_auto_scaling_groups",
            "AutoScalingGroups",
            key=lambda r, g: str(g["AutoScalingGroupARN"]),
            build=_auto_scaling_group,
        ),
    ),
)

# --- ECR -----------------------------------------------------------------------------------


def _statements(policy: Any) -> list[Item]:
    stmts = policy.get("Statement") if isinstance(policy, dict) else None
    if isinstance(stmts, dict):
        return [stmts]
    return [s for s in stmts or [] if isinstance(s, dict)]


def _to_everyone(stmt: Item) -> bool:
    """An Allow statement whose principal is anyone ("*" or {"AWS": "*"}) and that has no
    Condition to narrow it: the resource is public."""
    if stmt.get("Effect") != "Allow" or stmt.get("Condition"):
        return False
    principal = stmt.get("Principal")
    if principal == "*":
        return True
    if isinstance(principal, dict):
        aws = principal.get("AWS")
        return aws == "*" or (isinstance(aws, list) and "*" in aws)
    return False


def _policy_facts(r: Reader, text: str | None) -> dict[str, Any]:
    """A resource policy as its fingerprint (policies can name accounts and carry free text)
    plus what it implies: which statements grant to everyone, and the actions they grant."""
    if text is None:
        return {"policy": None, "public_statements": [], "public_actions": []}
    try:
        policy = json.loads(text)
    except ValueError:
        policy = None
    public = [s for s in _statements(policy) if _to_everyone(s)]
    actions: set[str] = set()
    for s in public:
        act = s.get("Action")
        actions.update([act] if isinstance(act, str) else [str(a) for a in act or []])
    return {
        "policy": r.fingerprint(text),
        "public_statements": sorted(str(s.get("Sid") or n) for n, s in enumerate(public)),
        "public_actions": sorted(actions),
    }


def _wildcard(pattern: str) -> re.Pattern[str]:
    # ECR repository filters are WILDCARD patterns: "*" matches any run of characters.
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")) + r"\Z")


def _registry_scanning(r: Reader, items: list[Item]) -> None:
    """The registry's scanning configuration (one call per region): its rules can scan a
    repository on push whatever the repository's own (deprecated) scanOnPush says."""
    conf = r.client.get_registry_scanning_configuration().get("scanningConfiguration") or {}
    for i in items:
        i["_registry_scan"] = conf


def _registry_scan_frequency(conf: Item, repository: str) -> str | None:
    """The scan frequency a registry rule applies to `repository`, if one matches."""
    for rule in conf.get("rules") or []:
        for f in rule.get("repositoryFilters") or []:
            if f.get("filterType", "WILDCARD") == "WILDCARD" and _wildcard(
                str(f.get("filter", ""))
            ).match(repository):
                return str(rule.get("scanFrequency"))
    return None


def _repository_enrich(r: Reader, item: Item) -> None:
    name = item["repositoryName"]
    resp = optional_get(
        r.client.get_repository_policy,
        ("RepositoryPolicyNotFoundException",),
        repositoryName=name,
        registryId=item["registryId"],
    )
    item["_policy"] = _policy_facts(r, None if resp is None else resp.get("policyText"))
    tags = r.client.list_tags_for_resource(resourceArn=item["repositoryArn"]).get("tags")
    item["_tags"] = tag_dict(tags)


def _repository(r: Reader, repo: Item) -> Found:
    name = str(repo["repositoryName"])
    scanning = repo.get("imageScanningConfiguration") or {}
    encryption = repo.get("encryptionConfiguration") or {}
    registry = repo.get("_registry_scan")
    frequency = None if registry is None else _registry_scan_frequency(registry, name)
    scan_on_push = scanning.get("scanOnPush")
    policy = repo.get("_policy") or {}
    return Found(
        name=name,
        tags=repo.get("_tags", {}),
        attrs={
            "uri": repo.get("repositoryUri"),
            "registry_id": repo.get("registryId"),
            "created": iso(repo.get("createdAt")),
            # MUTABLE, IMMUTABLE, or either WITH_EXCLUSION (tag filters that are the exception).
            "image_tag_mutability": repo.get("imageTagMutability"),
            "scan_on_push": scan_on_push,  # the repository's own setting
            "registry_scan_type": None if registry is None else registry.get("scanType"),
            "registry_scan_frequency": frequency,  # a matching registry rule's frequency
            # Images are scanned when pushed: by the repository's setting or a registry rule.
            "scan_on_push_effective": bool(scan_on_push)
            or frequency in ("SCAN_ON_PUSH", "CONTINUOUS_SCAN"),
            "encryption_type": encryption.get("encryptionType"),  # AES256 | KMS | KMS_DSSE
            "kms_key": encryption.get("kmsKey"),
            "policy": policy.get("policy"),  # fingerprint of the repository policy
            "public_statements": policy.get("public_statements"),
            "public_actions": policy.get("public_actions"),
        },
        # ECR always encrypts at rest; the payload says how.
        encrypted=True if encryption.get("encryptionType") else None,
        public=bool(policy.get("public_statements")) if policy else None,
    )


ECR = ServiceSpec(
    "ecr",
    "ecr",
    (
        ResourceSpec(
            "AWS::ECR::Repository",
            "describe_repositories",
            "repositories",
            key=lambda r, repo: str(repo["repositoryArn"]),
            build=_repository,
            enrich=_repository_enrich,
            enrich_batch=_registry_scanning,
        ),
    ),
)

# --- ECS -----------------------------------------------------------------------------------


def _chunks(values: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _cluster_arns(r: Reader) -> list[str]:
    return list(r.client.get_paginator("list_clusters").paginate().search("clusterArns[]"))


def _ecs_clusters(r: Reader) -> Iterator[Item]:
    """ListClusters, then DescribeClusters 100 at a time with tags and settings."""
    for chunk in _chunks(_cluster_arns(r), 100):
        resp = r.client.describe_clusters(
            clusters=chunk, include=["TAGS", "SETTINGS", "CONFIGURATIONS"]
        )
        yield from resp.get("clusters") or []


def _ecs_cluster(r: Reader, c: Item) -> Found:
    settings = {str(s.get("name")): s.get("value") for s in c.get("settings") or []}
    execute = (c.get("configuration") or {}).get("executeCommandConfiguration") or {}
    return Found(
        name=str(c["clusterName"]),
        tags=tag_dict(c.get("tags"), "key", "value"),
        attrs={
            "status": c.get("status"),
            "container_insights": settings.get("containerInsights"),
            "capacity_providers": sorted(c.get("capacityProviders") or []),
            "registered_container_instances": c.get("registeredContainerInstancesCount"),
            "running_tasks": c.get("runningTasksCount"),
            "pending_tasks": c.get("pendingTasksCount"),
            "active_services": c.get("activeServicesCount"),
            "execute_command_logging": execute.get("logging"),
            "execute_command_kms_key": execute.get("kmsKeyId"),
        },
    )


def _services_of(r: Reader, cluster: str) -> list[Item]:
    pages = r.client.get_paginator("list_services").paginate(cluster=cluster)
    arns = list(pages.search("serviceArns[]"))
    out: list[Item] = []
    for chunk in _chunks(arns, 10):
        resp = r.client.describe_services(cluster=cluster, services=chunk, include=["TAGS"])
        out += resp.get("services") or []
    return out


def _ecs_services(r: Reader) -> Iterator[Item]:
    """Every cluster's services: ListServices, then DescribeServices 10 at a time."""
    for services in bounded_map(partial(_services_of, r), _cluster_arns(r), _FANOUT):
        yield from services


def _ecs_service(r: Reader, s: Item) -> Found:
    vpc = (s.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
    return Found(
        name=str(s["serviceName"]),
        tags=tag_dict(s.get("tags"), "key", "value"),
        attrs={
            "cluster": s.get("clusterArn"),
            "status": s.get("status"),
            "desired_count": s.get("desiredCount"),
            "running_count": s.get("runningCount"),
            "pending_count": s.get("pendingCount"),
            "task_definition": s.get("taskDefinition"),
            "launch_type": s.get("launchType"),
            "capacity_provider_strategy": sorted(
                str(p.get("capacityProvider")) for p in s.get("capacityProviderStrategy") or []
            ),
            "platform_version": s.get("platformVersion"),
            "scheduling_strategy": s.get("schedulingStrategy"),
            "subnets": sorted(vpc.get("subnets") or []),
            "security_groups": sorted(vpc.get("securityGroups") or []),
            "assign_public_ip": vpc.get("assignPublicIp"),
            "target_groups": sorted(
                str(lb["targetGroupArn"])
                for lb in s.get("loadBalancers") or []
                if lb.get("targetGroupArn")
            ),
            # More than one deployment: a rollout is under way (or stuck half-way).
            "deployments": sorted(
                (
                    {
                        "status": d.get("status"),
                        "task_definition": d.get("taskDefinition"),
                        "desired_count": d.get("desiredCount"),
                        "running_count": d.get("runningCount"),
                        "rollout_state": d.get("rolloutState"),
                    }
                    for d in s.get("deployments") or []
                ),
                key=json.dumps,
            ),
        },
    )


def _latest_task_definition(r: Reader, family: str) -> Item:
    # A family without a revision names its latest ACTIVE revision.
    resp = r.client.describe_task_definition(taskDefinition=family, include=["TAGS"])
    return {**resp["taskDefinition"], "_tags": tag_dict(resp.get("tags"), "key", "value")}


def _ecs_task_definitions(r: Reader) -> Iterator[Item]:
    """The latest ACTIVE revision of every family with one (older revisions are history)."""
    pages = r.client.get_paginator("list_task_definition_families").paginate(status="ACTIVE")
    families = list(pages.search("families[]"))
    yield from bounded_map(partial(_latest_task_definition, r), families, _FANOUT)


def _container(r: Reader, c: Item) -> dict[str, Any]:
    log = c.get("logConfiguration") or {}
    command = c.get("command")
    return {
        "name": c.get("name"),
        "image": c.get("image"),
        "essential": c.get("essential"),
        "privileged": c.get("privileged"),
        "read_only_root_filesystem": c.get("readonlyRootFilesystem"),
        "user": c.get("user"),
        # Names are configuration; values are often secrets: fingerprints only.
        "environment": {
            str(e.get("name")): r.fingerprint(str(e.get("value", "")))
            for e in c.get("environment") or []
        },
        # Secrets are references (a Secrets Manager or SSM parameter ARN), never values.
        "secret_arns": {str(s.get("name")): s.get("valueFrom") for s in c.get("secrets") or []},
        "environment_files": sorted(str(f.get("value")) for f in c.get("environmentFiles") or []),
        # A command line can carry a password: its fingerprint only.
        "command": None if command is None else r.fingerprint(json.dumps(command)),
        "port_mappings": sorted(
            (
                {
                    "container_port": p.get("containerPort"),
                    "host_port": p.get("hostPort"),
                    "protocol": p.get("protocol"),
                }
                for p in c.get("portMappings") or []
            ),
            key=json.dumps,
        ),
        "log_driver": log.get("logDriver"),
    }


def _task_definition(r: Reader, t: Item) -> Found:
    containers = sorted(
        (_container(r, c) for c in t.get("containerDefinitions") or []),
        key=lambda c: str(c["name"]),
    )
    return Found(
        name=f"{t['family']}:{t['revision']}",
        tags=t.get("_tags", {}),
        attrs={
            "family": t["family"],
            "revision": t["revision"],
            "status": t.get("status"),
            "network_mode": t.get("networkMode"),
            "requires_compatibilities": sorted(t.get("requiresCompatibilities") or []),
            "cpu": t.get("cpu"),
            "memory": t.get("memory"),
            "task_role": t.get("taskRoleArn"),
            "execution_role": t.get("executionRoleArn"),
            "pid_mode": t.get("pidMode"),
            "ipc_mode": t.get("ipcMode"),
            "containers": containers,
            "images": sorted({str(c["image"]) for c in containers if c["image"]}),
            "privileged": any(c["privileged"] for c in containers),
            "read_only_root_filesystem": all(
                c["read_only_root_filesystem"] is True for c in containers
            ),
        },
    )


ECS = ServiceSpec(
    "ecs",
    "ecs",
    (
        ResourceSpec(
            "AWS::ECS::Cluster",
            "describe_clusters",
            "clusters",
            key=lambda r, c: str(c["clusterArn"]),
            build=_ecs_cluster,
            lister=_ecs_clusters,
        ),
        ResourceSpec(
            "AWS::ECS::Service",
            "describe_services",
            "services",
            key=lambda r, s: str(s["serviceArn"]),
            build=_ecs_service,
            lister=_ecs_services,
        ),
        ResourceSpec(
            "AWS::ECS::TaskDefinition",
            "describe_task_definition",
            "taskDefinition",
            key=lambda r, t: str(t["taskDefinitionArn"]),
            build=_task_definition,
            lister=_ecs_task_definitions,
        ),
    ),
)

# --- EKS -----------------------------------------------------------------------------------


def _eks_clusters(r: Reader) -> Iterator[Item]:
    for name in r.client.get_paginator("list_clusters").paginate().search("clusters[]"):
        yield {"name": name}


def _eks_describe(r: Reader, item: Item) -> None:
    item.update(r.client.describe_cluster(name=item["name"])["cluster"])


_OPEN_WORLD = frozenset({"0.0.0.0/0", "::/0"})


def _eks_cluster(r: Reader, c: Item) -> Found:
    vpc = c.get("resourcesVpcConfig") or {}
    public_access = vpc.get("endpointPublicAccess")
    cidrs = sorted(vpc.get("publicAccessCidrs") or [])
    logging = (c.get("logging") or {}).get("clusterLogging") or []
    enabled = sorted({str(t) for e in logging if e.get("enabled") for t in e.get("types") or []})
    encrypted = [
        e for e in c.get("encryptionConfig") or [] if "secrets" in (e.get("resources") or [])
    ]
    return Found(
        name=str(c["name"]),
        tags=dict(c.get("tags") or {}),
        attrs={
            "version": c.get("version"),
            "platform_version": c.get("platformVersion"),
            "status": c.get("status"),
            "role": c.get("roleArn"),
            "endpoint_public_access": public_access,
            "public_access_cidrs": cidrs,
            "endpoint_private_access": vpc.get("endpointPrivateAccess"),
            "subnets": sorted(vpc.get("subnetIds") or []),
            "security_groups": sorted(vpc.get("securityGroupIds") or []),
            "logging_enabled": enabled,  # of api, audit, authenticator, controllerManager, scheduler
            # Envelope encryption of Kubernetes secrets with a KMS key.
            "secrets_encryption_key": next(
                ((e.get("provider") or {}).get("keyArn") for e in encrypted), None
            ),
        },
        # No encryptionConfig: secrets are stored without envelope encryption.
        encrypted=bool(encrypted),
        # The API server answers anyone on the Internet: public endpoint open to all addresses.
        public=None
        if public_access is None
        else bool(public_access) and (not cidrs or bool(_OPEN_WORLD.intersection(cidrs))),
    )


EKS = ServiceSpec(
    "eks",
    "eks",
    (
        ResourceSpec(
            "AWS::EKS::Cluster",
            "list_clusters",
            "clusters",
            key=lambda r, c: r.arn("eks", f"cluster/{c['name']}"),
            build=_eks_cluster,
            enrich=_eks_describe,
            lister=_eks_clusters,
        ),
    ),
)

# --- Lambda --------------------------------------------------------------------------------


def _function_tags(r: Reader, item: Item) -> None:
    if "_tags" not in item:  # the tagging API was denied: one call per function
        item["_tags"] = dict(r.client.list_tags(Resource=item["FunctionArn"]).get("Tags") or {})


def _function(r: Reader, f: Item) -> Found:
    variables = (f.get("Environment") or {}).get("Variables") or {}
    vpc = f.get("VpcConfig") or {}
    return Found(
        name=f["FunctionName"],
        tags=f.get("_tags", {}),
        attrs={
            "runtime": f.get("Runtime"),
            "handler": f.get("Handler"),
            "role": f.get("Role"),
            "memory_mb": f.get("MemorySize"),
            "timeout_s": f.get("Timeout"),
            "architectures": sorted(f.get("Architectures", [])),
            "code_sha256": f.get("CodeSha256"),
            "kms_key_arn": f.get("KMSKeyArn"),
            "layers": sorted(layer["Arn"] for layer in f.get("Layers", [])),
            "vpc_subnets": sorted(vpc.get("SubnetIds", [])),
            "vpc_security_groups": sorted(vpc.get("SecurityGroupIds", [])),
            # Names are configuration; values are often secrets: fingerprints only.
            "environment": {str(k): r.fingerprint(str(v)) for k, v in variables.items()},
        },
    )


# Lambda quotas: control-plane requests, 15 a second per API (each operation its own).
LAMBDA_LIMITS = ApiLimits(
    {
        op: RateLimit(15, 15)
        for op in ("ListFunctions", "ListTags", "ListFunctionUrlConfigs", "GetFunctionUrlConfig")
    }
)

LAMBDA = ServiceSpec(
    "lambda",
    "lambda",
    (
        ResourceSpec(
            "AWS::Lambda::Function",
            "list_functions",
            "Functions",
            key=lambda r, f: str(f["FunctionArn"]),
            build=_function,
            enrich=_function_tags,
            enrich_batch=tagging_api("lambda:function", "FunctionArn"),
        ),
    ),
    limits=LAMBDA_LIMITS,
)


def _urls_of(r: Reader, listing: list[bool], function: str) -> list[Item]:
    """The URL configs of one function (unqualified and per alias). `listing[0]` turns False
    once the endpoint has answered that it lacks ListFunctionUrlConfigs, so the rest of the
    region's functions go straight to GetFunctionUrlConfig."""
    if listing[0]:
        try:
            pages = r.client.get_paginator("list_function_url_configs").paginate(
                FunctionName=function
            )
            return list(pages.search("FunctionUrlConfigs[]"))
        except ClientError as exc:
            if missing(exc, "ResourceNotFoundException"):  # deleted since it was listed
                return []
            if not is_unsupported(exc):
                raise
            listing[0] = False
    # An endpoint without ListFunctionUrlConfigs (moto 5 answers 404): the unqualified
    # function's URL through GetFunctionUrlConfig; URLs of aliases are then not seen.
    got = optional_get(
        r.client.get_function_url_config, ("ResourceNotFoundException",), FunctionName=function
    )
    return [] if got is None else [got]


def _function_urls(r: Reader) -> Iterator[Item]:
    names = r.client.get_paginator("list_functions").paginate().search("Functions[].FunctionName")
    urls_of = partial(_urls_of, r, [True])
    # The first function alone: it learns whether ListFunctionUrlConfigs is there before the
    # pool sends it for a whole batch of functions at once.
    first = next(names, None)
    if first is None:
        return
    yield from urls_of(first)
    for urls in bounded_map(urls_of, names, _FANOUT):
        yield from urls


def _function_url(r: Reader, u: Item) -> Found:
    arn = str(u["FunctionArn"])
    cors = u.get("Cors") or {}
    return Found(
        # function, or function:alias for an alias's URL
        name=arn.split(":function:", 1)[-1],
        attrs={
            "url": u.get("FunctionUrl"),
            "function_arn": arn,
            "auth_type": u.get("AuthType"),  # NONE: anyone can call it; AWS_IAM: signed calls
            "invoke_mode": u.get("InvokeMode"),
            "cors_allow_origins": sorted(cors.get("AllowOrigins") or []),
            "cors_allow_credentials": cors.get("AllowCredentials"),
            "created": iso(u.get("CreationTime")),
        },
        public=None if u.get("AuthType") is None else u["AuthType"] == "NONE",
    )


# Function URLs are their own slice: an endpoint without the URL APIs leaves them not
# assessed ("unsupported") without failing the functions' slice.
LAMBDA_URLS = ServiceSpec(
    "lambda-urls",
    "lambda",
    (
        ResourceSpec(
            "AWS::Lambda::Url",
            "list_function_url_configs",
            "FunctionUrlConfigs",
            # A function URL has no ARN of its own (its FunctionArn is the function's key):
            # the URL is its identity.
            key=lambda r, u: str(u["FunctionUrl"]),
            build=_function_url,
            lister=_function_urls,
        ),
    ),
    limits=LAMBDA_LIMITS,
)

REGIONAL: tuple[ServiceSpec, ...] = (EC2, AUTOSCALING, ECR, ECS, EKS, LAMBDA, LAMBDA_URLS)
GLOBAL: tuple[ServiceSpec, ...] = ()
