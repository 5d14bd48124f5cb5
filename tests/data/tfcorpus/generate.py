"""Writes the corpus: Terraform states in the shapes real projects write, every value invented.

The shapes follow public states (terraform-aws-modules layouts, account baselines, serverless
stacks, AKS landing zones, terraformer exports, Terraform 0.11 projects); names, ids, accounts
and subscriptions are made up here. Run `python tests/data/tfcorpus/generate.py` to rewrite.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
AWS_P = 'provider["registry.terraform.io/hashicorp/aws"]'
AZ_P = 'provider["registry.terraform.io/hashicorp/azurerm"]'


def hx(seed: str, n: int = 17) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:n]


def guid(seed: str) -> str:
    h = hashlib.sha256(seed.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"


class Aws:
    """Attribute sets as the aws provider writes them, for one invented account and region."""

    def __init__(self, account: str, region: str, env: str) -> None:
        self.a, self.r, self.env = account, region, env

    def arn(self, service: str, res: str, *, region: bool = True, account: bool = True) -> str:
        return f"arn:aws:{service}:{self.r if region else ''}:{self.a if account else ''}:{res}"

    def tags(self, name: str | None = None, **extra: str) -> dict[str, Any]:
        t = {"Environment": self.env, "ManagedBy": "terraform", **extra}
        if name:
            t["Name"] = name
        return {"tags": t, "tags_all": dict(t)}

    def vpc(self, name: str) -> dict[str, Any]:
        vid = "vpc-" + hx(name)
        return {
            "id": vid,
            "arn": self.arn("ec2", f"vpc/{vid}"),
            "cidr_block": "10.20.0.0/16",
            "instance_tenancy": "default",
            "enable_dns_hostnames": True,
            "enable_dns_support": True,
            "owner_id": self.a,
            **self.tags(name),
        }

    def subnet(self, name: str, vpc: str, cidr: str, az: str, public: bool) -> dict[str, Any]:
        sid = "subnet-" + hx(name)
        return {
            "id": sid,
            "arn": self.arn("ec2", f"subnet/{sid}"),
            "vpc_id": vpc,
            "cidr_block": cidr,
            "availability_zone": az,
            "map_public_ip_on_launch": public,
            "owner_id": self.a,
            **self.tags(name),
        }

    def sg(self, name: str, vpc: str, ingress: list[dict[str, Any]]) -> dict[str, Any]:
        gid = "sg-" + hx(name)
        egress = [
            {
                "cidr_blocks": ["0.0.0.0/0"],
                "description": "",
                "from_port": 0,
                "ipv6_cidr_blocks": [],
                "prefix_list_ids": [],
                "protocol": "-1",
                "security_groups": [],
                "self": False,
                "to_port": 0,
            }
        ]
        return {
            "id": gid,
            "arn": self.arn("ec2", f"security-group/{gid}"),
            "name": name,
            "description": f"{name} access",
            "vpc_id": vpc,
            "owner_id": self.a,
            "ingress": ingress,
            "egress": egress,
            "revoke_rules_on_delete": False,
            **self.tags(name),
        }

    @staticmethod
    def ingress(port: int, cidrs: list[str], groups: list[str] | None = None) -> dict[str, Any]:
        return {
            "cidr_blocks": cidrs,
            "description": f"port {port}",
            "from_port": port,
            "ipv6_cidr_blocks": [],
            "prefix_list_ids": [],
            "protocol": "tcp",
            "security_groups": groups or [],
            "self": False,
            "to_port": port,
        }

    def instance(self, name: str, subnet: str, sgs: list[str], public: bool) -> dict[str, Any]:
        iid = "i-" + hx(name)
        return {
            "id": iid,
            "arn": self.arn("ec2", f"instance/{iid}"),
            "ami": "ami-" + hx("ami" + name),
            "instance_type": "t3.medium",
            "subnet_id": subnet,
            "vpc_security_group_ids": sorted(sgs),
            "private_ip": "10.20.1.17",
            "public_ip": "198.51.100.23" if public else "",
            "instance_state": "running",
            "user_data": hx("userdata" + name, 40),
            "monitoring": False,
            "metadata_options": [
                {
                    "http_endpoint": "enabled",
                    "http_tokens": "required",
                    "http_put_response_hop_limit": 1,
                }
            ],
            "root_block_device": [{"encrypted": True, "volume_size": 20, "volume_type": "gp3"}],
            **self.tags(name),
        }

    def bucket(self, name: str) -> dict[str, Any]:
        return {
            "id": name,
            "arn": f"arn:aws:s3:::{name}",
            "bucket": name,
            "bucket_domain_name": f"{name}.s3.amazonaws.com",
            "force_destroy": False,
            "region": self.r,
            "hosted_zone_id": "Z" + hx(name, 12).upper(),
            "object_lock_enabled": False,
            **self.tags(),
        }

    def role(self, name: str, service: str) -> dict[str, Any]:
        doc = json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Principal": {"Service": service},
                    }
                ],
            }
        )
        return {
            "id": name,
            "arn": f"arn:aws:iam::{self.a}:role/{name}",
            "name": name,
            "path": "/",
            "assume_role_policy": doc,
            "max_session_duration": 3600,
            "description": "",
            "unique_id": "AROA" + hx(name, 16).upper(),
            "managed_policy_arns": [],
            **self.tags(),
        }

    def log_group(self, name: str, days: int) -> dict[str, Any]:
        return {
            "id": name,
            "arn": self.arn("logs", f"log-group:{name}"),
            "name": name,
            "retention_in_days": days,
            "kms_key_id": "",
            "log_group_class": "STANDARD",
            "skip_destroy": False,
            **self.tags(),
        }


def res(
    type_: str,
    name: str,
    instances: list[dict[str, Any]],
    *,
    module: str | None = None,
    provider: str = AWS_P,
    mode: str = "managed",
    each: str | None = None,
) -> dict[str, Any]:
    r: dict[str, Any] = {
        "mode": mode,
        "type": type_,
        "name": name,
        "provider": provider,
        "instances": [],
    }
    if module:
        r = {"module": module, **r}
    if each:
        r["each"] = each
    for i, attrs in enumerate(instances):
        inst: dict[str, Any] = {
            "schema_version": 0,
            "attributes": attrs,
            "sensitive_attributes": [],
        }
        if each == "list":
            inst = {"index_key": i, **inst}
        elif each == "map":
            inst = {"index_key": attrs.pop("_key"), **inst}
        r["instances"].append(inst)
    return r


def state(resources: list[dict[str, Any]], tf: str, serial: int) -> dict[str, Any]:
    return {
        "version": 4,
        "terraform_version": tf,
        "serial": serial,
        "lineage": guid(tf + str(serial)),
        "outputs": {},
        "resources": resources,
        "check_results": None,
    }


# --- AWS estates -------------------------------------------------------------------------------


def aws_network(aws: Aws) -> list[dict[str, Any]]:
    """terraform-aws-modules/vpc's layout: counted subnets, route tables and associations."""
    m = "module.vpc"
    vpc = aws.vpc(f"{aws.env}-vpc")
    azs = [f"{aws.r}a", f"{aws.r}b", f"{aws.r}c"]
    pub = [
        aws.subnet(f"{aws.env}-public-{z}", vpc["id"], f"10.20.{i}.0/24", z, True)
        for i, z in enumerate(azs)
    ]
    priv = [
        aws.subnet(f"{aws.env}-private-{z}", vpc["id"], f"10.20.{10 + i}.0/24", z, False)
        for i, z in enumerate(azs)
    ]
    rt_pub = {
        "id": "rtb-" + hx("pub"),
        "arn": aws.arn("ec2", "route-table/rtb-" + hx("pub")),
        "vpc_id": vpc["id"],
        "owner_id": aws.a,
        "propagating_vgws": [],
        "route": [],
        **aws.tags(f"{aws.env}-public"),
    }
    rt_priv = [
        {
            "id": "rtb-" + hx(f"priv{i}"),
            "arn": aws.arn("ec2", "route-table/rtb-" + hx(f"priv{i}")),
            "vpc_id": vpc["id"],
            "owner_id": aws.a,
            "propagating_vgws": [],
            "route": [],
            **aws.tags(f"{aws.env}-private-{z}"),
        }
        for i, z in enumerate(azs)
    ]
    igw = {
        "id": "igw-" + hx("igw"),
        "arn": aws.arn("ec2", "internet-gateway/igw-" + hx("igw")),
        "vpc_id": vpc["id"],
        "owner_id": aws.a,
        **aws.tags(f"{aws.env}-igw"),
    }
    eips = [
        {
            "id": "eipalloc-" + hx(f"eip{i}"),
            "allocation_id": "eipalloc-" + hx(f"eip{i}"),
            "arn": aws.arn("ec2", "elastic-ip/eipalloc-" + hx(f"eip{i}")),
            "domain": "vpc",
            "public_ip": f"203.0.113.{10 + i}",
            "public_ipv4_pool": "amazon",
            "network_border_group": aws.r,
            **aws.tags(f"{aws.env}-nat-{z}"),
        }
        for i, z in enumerate(azs)
    ]
    nats = [
        {
            "id": "nat-" + hx(f"nat{i}"),
            "allocation_id": eips[i]["id"],
            "subnet_id": pub[i]["id"],
            "connectivity_type": "public",
            "private_ip": f"10.20.{i}.5",
            "public_ip": eips[i]["public_ip"],
            "network_interface_id": "eni-" + hx(f"nateni{i}"),
            **aws.tags(f"{aws.env}-{z}"),
        }
        for i, z in enumerate(azs)
    ]
    routes = [
        {
            "id": f"r-{rt['id']}1080289494",
            "route_table_id": rt["id"],
            "destination_cidr_block": "0.0.0.0/0",
            "nat_gateway_id": nats[i]["id"],
            "gateway_id": "",
            "origin": "CreateRoute",
            "state": "active",
        }
        for i, rt in enumerate(rt_priv)
    ]
    assoc_pub = [
        {
            "id": "rtbassoc-" + hx(f"ap{i}"),
            "route_table_id": rt_pub["id"],
            "subnet_id": s["id"],
            "gateway_id": "",
        }
        for i, s in enumerate(pub)
    ]
    assoc_priv = [
        {
            "id": "rtbassoc-" + hx(f"aq{i}"),
            "route_table_id": rt_priv[i]["id"],
            "subnet_id": s["id"],
            "gateway_id": "",
        }
        for i, s in enumerate(priv)
    ]
    default_sg = aws.sg("default", vpc["id"], [])
    default_sg["id"] = default_sg["id"]
    flow = {
        "id": "fl-" + hx("flow"),
        "arn": aws.arn("ec2", "vpc-flow-log/fl-" + hx("flow")),
        "vpc_id": vpc["id"],
        "traffic_type": "ALL",
        "log_destination_type": "cloud-watch-logs",
        "log_destination": aws.arn("logs", f"log-group:/aws/vpc-flow-log/{vpc['id']}"),
        "max_aggregation_interval": 600,
        "iam_role_arn": f"arn:aws:iam::{aws.a}:role/vpc-flow-log",
        **aws.tags(),
    }
    endpoint = {
        "id": "vpce-" + hx("s3ep"),
        "arn": aws.arn("ec2", "vpc-endpoint/vpce-" + hx("s3ep")),
        "vpc_id": vpc["id"],
        "service_name": f"com.amazonaws.{aws.r}.s3",
        "vpc_endpoint_type": "Gateway",
        "private_dns_enabled": False,
        "route_table_ids": sorted(r["id"] for r in rt_priv),
        "subnet_ids": [],
        "security_group_ids": [],
        "policy": "{}",
        **aws.tags(),
    }
    return [
        res("aws_availability_zones", "available", [{"id": aws.r, "names": azs}], mode="data"),
        res("aws_vpc", "this", [vpc], module=m, each="list"),
        res("aws_subnet", "public", pub, module=m, each="list"),
        res("aws_subnet", "private", priv, module=m, each="list"),
        res("aws_route_table", "public", [rt_pub], module=m, each="list"),
        res("aws_route_table", "private", rt_priv, module=m, each="list"),
        res("aws_route_table_association", "public", assoc_pub, module=m, each="list"),
        res("aws_route_table_association", "private", assoc_priv, module=m, each="list"),
        res("aws_route", "private_nat_gateway", routes, module=m, each="list"),
        res("aws_internet_gateway", "this", [igw], module=m, each="list"),
        res("aws_eip", "nat", eips, module=m, each="list"),
        res("aws_nat_gateway", "this", nats, module=m, each="list"),
        res("aws_default_security_group", "this", [default_sg], module=m, each="list"),
        res("aws_flow_log", "this", [flow], module=m, each="list"),
        res("aws_vpc_endpoint", "s3", [endpoint], module=m, each="list"),
    ]


def aws_app(aws: Aws, net: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An ALB, instances, RDS, ECS on Fargate and alarms: the web application's own stack."""
    vpc = "vpc-" + hx(f"{aws.env}-vpc")
    sub = ["subnet-" + hx(f"{aws.env}-public-{aws.r}{z}") for z in "abc"]
    alb_sg = aws.sg(
        f"{aws.env}-alb", vpc, [aws.ingress(443, ["0.0.0.0/0"]), aws.ingress(80, ["0.0.0.0/0"])]
    )
    app_sg = aws.sg(f"{aws.env}-app", vpc, [aws.ingress(8080, [], [alb_sg["id"]])])
    db_sg = aws.sg(f"{aws.env}-db", vpc, [])
    lb_name = f"{aws.env}-web"
    lb = {
        "id": aws.arn("elasticloadbalancing", f"loadbalancer/app/{lb_name}/{hx(lb_name, 16)}"),
        "name": lb_name,
        "internal": False,
        "load_balancer_type": "application",
        "security_groups": [alb_sg["id"]],
        "subnets": sorted(sub),
        "dns_name": f"{lb_name}-1234.{aws.r}.elb.amazonaws.com",
        "idle_timeout": 60,
        "enable_deletion_protection": True,
        "drop_invalid_header_fields": True,
        "ip_address_type": "ipv4",
        **aws.tags(),
    }
    lb["arn"] = lb["id"]
    tg = {
        "id": aws.arn("elasticloadbalancing", f"targetgroup/{aws.env}-app/{hx('tg', 16)}"),
        "name": f"{aws.env}-app",
        "port": 8080,
        "protocol": "HTTP",
        "vpc_id": vpc,
        "target_type": "ip",
        "deregistration_delay": "30",
        "health_check": [
            {
                "enabled": True,
                "healthy_threshold": 3,
                "interval": 30,
                "matcher": "200",
                "path": "/healthz",
                "port": "traffic-port",
                "protocol": "HTTP",
                "timeout": 5,
                "unhealthy_threshold": 3,
            }
        ],
        **aws.tags(),
    }
    tg["arn"] = tg["id"]
    listeners = []
    for port, proto in ((443, "HTTPS"), (80, "HTTP")):
        lid = aws.arn(
            "elasticloadbalancing", f"listener/app/{lb_name}/{hx(lb_name, 16)}/{hx(str(port), 16)}"
        )
        listeners.append(
            {
                "id": lid,
                "arn": lid,
                "load_balancer_arn": lb["arn"],
                "port": port,
                "protocol": proto,
                "ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06" if port == 443 else "",
                "certificate_arn": aws.arn("acm", f"certificate/{guid('cert')}")
                if port == 443
                else "",
                "default_action": [{"type": "forward", "target_group_arn": tg["arn"]}],
                **aws.tags(),
            }
        )
    db_id = f"{aws.env}-orders"
    db = {
        "id": "db-" + hx(db_id, 26).upper(),
        "arn": aws.arn("rds", f"db:{db_id}"),
        "identifier": db_id,
        "engine": "postgres",
        "engine_version": "15",
        "engine_version_actual": "15.5",
        "instance_class": "db.r6g.large",
        "allocated_storage": 100,
        "storage_encrypted": True,
        "kms_key_id": aws.arn("kms", f"key/{guid('rdskey')}"),
        "publicly_accessible": False,
        "multi_az": True,
        "backup_retention_period": 14,
        "deletion_protection": True,
        "vpc_security_group_ids": [db_sg["id"]],
        "username": "app_admin",
        "password": "invented-Secret-123",
        "db_subnet_group_name": f"{aws.env}-db",
        "auto_minor_version_upgrade": True,
        **aws.tags(),
    }
    subgrp = {
        "id": f"{aws.env}-db",
        "arn": aws.arn("rds", f"subgrp:{aws.env}-db"),
        "name": f"{aws.env}-db",
        "subnet_ids": sorted(sub),
        **aws.tags(),
    }
    cluster = {
        "id": aws.arn("ecs", f"cluster/{aws.env}"),
        "arn": aws.arn("ecs", f"cluster/{aws.env}"),
        "name": aws.env,
        "setting": [{"name": "containerInsights", "value": "enabled"}],
        **aws.tags(),
    }
    taskdef = {
        "id": f"{aws.env}-api",
        "arn": aws.arn("ecs", f"task-definition/{aws.env}-api:42"),
        "arn_without_revision": aws.arn("ecs", f"task-definition/{aws.env}-api"),
        "family": f"{aws.env}-api",
        "revision": 42,
        "cpu": "512",
        "memory": "1024",
        "network_mode": "awsvpc",
        "requires_compatibilities": ["FARGATE"],
        "execution_role_arn": f"arn:aws:iam::{aws.a}:role/{aws.env}-ecs-exec",
        "task_role_arn": f"arn:aws:iam::{aws.a}:role/{aws.env}-api",
        "container_definitions": json.dumps(
            [
                {
                    "name": "api",
                    "image": f"{aws.a}.dkr.ecr.{aws.r}.amazonaws.com/api:1.4.2",
                    "environment": [{"name": "DB_PASSWORD", "value": "invented-Secret-123"}],
                }
            ]
        ),
        **aws.tags(),
    }
    service = {
        "id": aws.arn("ecs", f"service/{aws.env}/api"),
        "name": "api",
        "cluster": cluster["arn"],
        "task_definition": taskdef["arn"],
        "desired_count": 3,
        "launch_type": "FARGATE",
        "scheduling_strategy": "REPLICA",
        "platform_version": "LATEST",
        "network_configuration": [
            {"subnets": sorted(sub), "security_groups": [app_sg["id"]], "assign_public_ip": False}
        ],
        **aws.tags(),
    }
    repo = {
        "id": "api",
        "arn": aws.arn("ecr", "repository/api"),
        "name": "api",
        "image_tag_mutability": "IMMUTABLE",
        "image_scanning_configuration": [{"scan_on_push": True}],
        "encryption_configuration": [{"encryption_type": "AES256", "kms_key": ""}],
        "registry_id": aws.a,
        "repository_url": f"{aws.a}.dkr.ecr.{aws.r}.amazonaws.com/api",
        **aws.tags(),
    }
    alarms = [
        {
            "id": f"{aws.env}-{m}",
            "arn": aws.arn("cloudwatch", f"alarm:{aws.env}-{m}"),
            "alarm_name": f"{aws.env}-{m}",
            "metric_name": m,
            "namespace": "AWS/RDS",
            "comparison_operator": "GreaterThanThreshold",
            "threshold": 80,
            "evaluation_periods": 3,
            "period": 300,
            "statistic": "Average",
            "actions_enabled": True,
            "alarm_actions": [aws.arn("sns", f"{aws.env}-alerts")],
            "ok_actions": [],
            "insufficient_data_actions": [],
            **aws.tags(),
        }
        for m in ("CPUUtilization", "FreeStorageSpace")
    ]
    instances = [aws.instance(f"{aws.env}-bastion", sub[0], [app_sg["id"]], True)]
    tga = [
        {
            "id": f"{tg['arn']}-2026",
            "target_group_arn": tg["arn"],
            "target_id": instances[0]["id"],
            "port": 8080,
        }
    ]
    return [
        res("aws_security_group", "alb", [alb_sg]),
        res("aws_security_group", "app", [app_sg]),
        res("aws_security_group", "db", [db_sg]),
        res(
            "aws_security_group_rule",
            "db_from_app",
            [
                {
                    "id": "sgrule-" + hx("r1", 10),
                    "security_group_id": db_sg["id"],
                    "type": "ingress",
                    "protocol": "tcp",
                    "from_port": 5432,
                    "to_port": 5432,
                    "source_security_group_id": app_sg["id"],
                    "cidr_blocks": [],
                    "ipv6_cidr_blocks": [],
                    "prefix_list_ids": [],
                    "self": False,
                    "security_group_rule_id": "sgr-" + hx("r1"),
                }
            ],
        ),
        res("aws_lb", "web", [lb]),
        res("aws_lb_target_group", "app", [tg]),
        res("aws_lb_listener", "https", [listeners[0]]),
        res("aws_lb_listener", "http", [listeners[1]]),
        res("aws_lb_target_group_attachment", "bastion", tga),
        res("aws_instance", "bastion", instances),
        res("aws_db_subnet_group", "this", [subgrp]),
        res("aws_db_instance", "orders", [db]),
        res("aws_ecs_cluster", "this", [cluster]),
        res("aws_ecs_task_definition", "api", [taskdef]),
        res("aws_ecs_service", "api", [service]),
        res("aws_ecr_repository", "api", [repo]),
        res("aws_cloudwatch_metric_alarm", "rds", alarms, each="list"),
        res(
            "aws_iam_role", "ecs_exec", [aws.role(f"{aws.env}-ecs-exec", "ecs-tasks.amazonaws.com")]
        ),
        res(
            "aws_iam_role_policy_attachment",
            "ecs_exec",
            [
                {
                    "id": f"{aws.env}-ecs-exec-2026",
                    "role": f"{aws.env}-ecs-exec",
                    "policy_arn": "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
                }
            ],
        ),
        res(
            "aws_caller_identity",
            "current",
            [
                {
                    "id": aws.a,
                    "account_id": aws.a,
                    "arn": f"arn:aws:iam::{aws.a}:user/ci",
                    "user_id": "AIDA" + hx("ci", 16).upper(),
                }
            ],
            mode="data",
        ),
    ]


def aws_site(aws: Aws) -> list[dict[str, Any]]:
    """A static site: the bucket's split settings (provider v4+), CloudFront, ACM, Route 53."""
    b = "invented-site-assets-" + aws.env
    zone_id = "Z" + hx("zone", 13).upper()
    dist_id = "E" + hx("dist", 13).upper()
    sse = {
        "id": b,
        "bucket": b,
        "expected_bucket_owner": "",
        "rule": [
            {
                "apply_server_side_encryption_by_default": [
                    {"sse_algorithm": "aws:kms", "kms_master_key_id": ""}
                ],
                "bucket_key_enabled": True,
            }
        ],
    }
    pab = {
        "id": b,
        "bucket": b,
        "block_public_acls": True,
        "block_public_policy": True,
        "ignore_public_acls": True,
        "restrict_public_buckets": True,
    }
    ver = {
        "id": b,
        "bucket": b,
        "expected_bucket_owner": "",
        "mfa": None,
        "versioning_configuration": [{"status": "Enabled", "mfa_delete": ""}],
    }
    pol = {
        "id": b,
        "bucket": b,
        "policy": json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudfront.amazonaws.com"},
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{b}/*",
                    }
                ],
            }
        ),
    }
    own = {"id": b, "bucket": b, "rule": [{"object_ownership": "BucketOwnerEnforced"}]}
    logs = {
        "id": b,
        "bucket": b,
        "target_bucket": f"invented-access-logs-{aws.env}",
        "target_prefix": "site/",
        "target_grant": [],
    }
    cert = {
        "id": aws.arn("acm", f"certificate/{guid('sitecert')}", region=False).replace(
            "acm::", "acm:us-east-1:"
        ),
        "domain_name": "www.example.org",
        "subject_alternative_names": ["example.org", "www.example.org"],
        "validation_method": "DNS",
        "key_algorithm": "RSA_2048",
        "type": "AMAZON_ISSUED",
        "status": "ISSUED",
        **aws.tags(),
    }
    cert["arn"] = cert["id"]
    dist = {
        "id": dist_id,
        "arn": f"arn:aws:cloudfront::{aws.a}:distribution/{dist_id}",
        "domain_name": f"{hx('cf', 14)}.cloudfront.net",
        "aliases": ["example.org", "www.example.org"],
        "enabled": True,
        "price_class": "PriceClass_100",
        "http_version": "http2and3",
        "web_acl_id": "",
        "is_ipv6_enabled": True,
        "default_root_object": "index.html",
        "viewer_certificate": [
            {
                "acm_certificate_arn": cert["arn"],
                "minimum_protocol_version": "TLSv1.2_2021",
                "ssl_support_method": "sni-only",
            }
        ],
        **aws.tags(),
    }
    oac = {
        "id": "E" + hx("oac", 13).upper(),
        "name": b,
        "origin_access_control_origin_type": "s3",
        "signing_behavior": "always",
        "signing_protocol": "sigv4",
        "etag": "E" + hx("etag", 12).upper(),
    }
    zone = {
        "id": zone_id,
        "zone_id": zone_id,
        "arn": f"arn:aws:route53:::hostedzone/{zone_id}",
        "name": "example.org",
        "comment": "Managed by Terraform",
        "force_destroy": False,
        "name_servers": ["ns-1.awsdns-01.org"],
        "vpc": [],
        **aws.tags(),
    }
    records = [
        {
            "id": f"{zone_id}_{n}_A",
            "zone_id": zone_id,
            "name": n,
            "type": "A",
            "alias": [
                {
                    "name": dist["domain_name"],
                    "zone_id": "Z2FDTNDATAQYW2",
                    "evaluate_target_health": False,
                }
            ],
            "records": [],
            "ttl": 0,
        }
        for n in ("example.org", "www.example.org")
    ]
    records.append(
        {
            "id": f"{zone_id}__x.example.org_CNAME",
            "zone_id": zone_id,
            "name": "_x.example.org",
            "type": "CNAME",
            "records": ["_y.acm-validations.aws."],
            "ttl": 60,
            "alias": [],
        }
    )
    return [
        res("aws_s3_bucket", "site", [aws.bucket(b)]),
        res("aws_s3_bucket_server_side_encryption_configuration", "site", [sse]),
        res("aws_s3_bucket_public_access_block", "site", [pab]),
        res("aws_s3_bucket_versioning", "site", [ver]),
        res("aws_s3_bucket_policy", "site", [pol]),
        res("aws_s3_bucket_ownership_controls", "site", [own]),
        res("aws_s3_bucket_logging", "site", [logs]),
        res("aws_acm_certificate", "site", [cert]),
        res(
            "aws_acm_certificate_validation",
            "site",
            [
                {
                    "id": "2026-01-12 10:00:00 +0000 UTC",
                    "certificate_arn": cert["arn"],
                    "validation_record_fqdns": ["_x.example.org"],
                }
            ],
        ),
        res("aws_cloudfront_origin_access_control", "site", [oac]),
        res("aws_cloudfront_distribution", "site", [dist]),
        res("aws_route53_zone", "main", [zone]),
        res("aws_route53_record", "apex", records, each="list"),
        res("aws_iam_policy_document", "site", [{"id": hx("doc", 10), "json": "{}"}], mode="data"),
    ]


def aws_serverless(aws: Aws) -> list[dict[str, Any]]:
    """Lambda functions behind an HTTP API, their queues, table, topic and log groups."""
    out: list[dict[str, Any]] = []
    role = aws.role("orders-lambda", "lambda.amazonaws.com")
    out.append(res("aws_iam_role", "lambda", [role]))
    out.append(
        res(
            "aws_iam_role_policy",
            "lambda",
            [
                {
                    "id": "orders-lambda:inline",
                    "role": "orders-lambda",
                    "name": "inline",
                    "policy": "{}",
                }
            ],
        )
    )
    out.append(
        res(
            "aws_iam_role_policy_attachment",
            "basic",
            [
                {
                    "id": "orders-lambda-basic",
                    "role": "orders-lambda",
                    "policy_arn": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                }
            ],
        )
    )
    fns, logs, perms = [], [], []
    for fn in ("create-order", "get-order", "worker"):
        fns.append(
            {
                "_key": fn,
                "id": fn,
                "arn": aws.arn("lambda", f"function:{fn}"),
                "function_name": fn,
                "runtime": "python3.12",
                "handler": "app.handler",
                "role": role["arn"],
                "memory_size": 512,
                "timeout": 30,
                "architectures": ["arm64"],
                "layers": [],
                "source_code_hash": hx(fn, 43) + "=",
                "code_sha256": hx(fn, 43) + "=",
                "kms_key_arn": "",
                "package_type": "Zip",
                "publish": False,
                "version": "$LATEST",
                "qualified_arn": aws.arn("lambda", f"function:{fn}:$LATEST"),
                "environment": [
                    {"variables": {"TABLE": "orders", "API_TOKEN": "invented-token-do-not-store"}}
                ],
                "vpc_config": [],
                "tracing_config": [{"mode": "Active"}],
                **aws.tags(),
            }
        )
        logs.append({"_key": fn, **aws.log_group(f"/aws/lambda/{fn}", 30)})
        perms.append(
            {
                "_key": fn,
                "id": "AllowAPIGateway",
                "action": "lambda:InvokeFunction",
                "function_name": fn,
                "principal": "apigateway.amazonaws.com",
                "statement_id": "AllowAPIGateway",
                "source_arn": "",
            }
        )
    out += [
        res("aws_lambda_function", "this", fns, each="map"),
        res("aws_cloudwatch_log_group", "lambda", logs, each="map"),
        res("aws_lambda_permission", "api", perms, each="map"),
    ]
    api_id = hx("api", 10)
    api = {
        "id": api_id,
        "arn": f"arn:aws:apigateway:{aws.r}::/apis/{api_id}",
        "name": "orders",
        "protocol_type": "HTTP",
        "api_endpoint": f"https://{api_id}.execute-api.{aws.r}.amazonaws.com",
        "execution_arn": aws.arn("execute-api", api_id),
        "disable_execute_api_endpoint": False,
        "cors_configuration": [],
        **aws.tags(),
    }
    stage = {
        "id": "$default",
        "arn": f"arn:aws:apigateway:{aws.r}::/apis/{api_id}/stages/$default",
        "api_id": api_id,
        "name": "$default",
        "auto_deploy": True,
        "deployment_id": "",
        "access_log_settings": [],
        **aws.tags(),
    }
    out += [
        res("aws_apigatewayv2_api", "orders", [api]),
        res("aws_apigatewayv2_stage", "default", [stage]),
        res(
            "aws_apigatewayv2_integration",
            "create",
            [
                {
                    "id": hx("int", 7),
                    "api_id": api_id,
                    "integration_type": "AWS_PROXY",
                    "integration_uri": fns[0]["arn"],
                }
            ],
        ),
        res(
            "aws_apigatewayv2_route",
            "create",
            [
                {
                    "id": hx("route", 7),
                    "api_id": api_id,
                    "route_key": "POST /orders",
                    "target": "integrations/" + hx("int", 7),
                }
            ],
        ),
    ]
    table = {
        "id": "orders",
        "arn": aws.arn("dynamodb", "table/orders"),
        "name": "orders",
        "billing_mode": "PAY_PER_REQUEST",
        "hash_key": "pk",
        "range_key": "sk",
        "deletion_protection_enabled": True,
        "stream_enabled": False,
        "table_class": "STANDARD",
        "attribute": [{"name": "pk", "type": "S"}, {"name": "sk", "type": "S"}],
        "point_in_time_recovery": [{"enabled": True}],
        "server_side_encryption": [
            {"enabled": True, "kms_key_arn": aws.arn("kms", f"key/{guid('ddb')}")}
        ],
        **aws.tags(),
    }
    queues = []
    for q in ("orders", "orders-dlq"):
        url = f"https://sqs.{aws.r}.amazonaws.com/{aws.a}/{q}"
        queues.append(
            {
                "_key": q,
                "id": url,
                "url": url,
                "arn": aws.arn("sqs", q),
                "name": q,
                "visibility_timeout_seconds": 60,
                "message_retention_seconds": 1209600,
                "max_message_size": 262144,
                "delay_seconds": 0,
                "receive_wait_time_seconds": 20,
                "fifo_queue": False,
                "kms_master_key_id": "",
                "sqs_managed_sse_enabled": True,
                "policy": "",
                **aws.tags(),
            }
        )
    topic = {
        "id": aws.arn("sns", "order-events"),
        "arn": aws.arn("sns", "order-events"),
        "name": "order-events",
        "display_name": "",
        "kms_master_key_id": "alias/aws/sns",
        "fifo_topic": False,
        "policy": "{}",
        **aws.tags(),
    }
    sub = {
        "id": aws.arn("sns", f"order-events:{guid('sub')}"),
        "arn": aws.arn("sns", f"order-events:{guid('sub')}"),
        "topic_arn": topic["arn"],
        "protocol": "sqs",
        "endpoint": queues[0]["arn"],
    }
    esm = {
        "id": guid("esm"),
        "uuid": guid("esm"),
        "event_source_arn": queues[0]["arn"],
        "function_arn": fns[2]["arn"],
        "batch_size": 10,
        "enabled": True,
    }
    out += [
        res("aws_dynamodb_table", "orders", [table]),
        res("aws_sqs_queue", "this", queues, each="map"),
        res("aws_sns_topic", "events", [topic]),
        res("aws_sns_topic_subscription", "orders", [sub]),
        res("aws_lambda_event_source_mapping", "worker", [esm]),
    ]
    return out


def aws_baseline(aws: Aws) -> list[dict[str, Any]]:
    """An account baseline: CloudTrail, Config, GuardDuty, Security Hub, password policy, CIS alarms."""
    trail_bucket = f"invented-cloudtrail-{aws.a}"
    key = {
        "id": guid("trailkey"),
        "key_id": guid("trailkey"),
        "arn": aws.arn("kms", f"key/{guid('trailkey')}"),
        "description": "CloudTrail",
        "enable_key_rotation": True,
        "is_enabled": True,
        "key_usage": "ENCRYPT_DECRYPT",
        "customer_master_key_spec": "SYMMETRIC_DEFAULT",
        "multi_region": False,
        "deletion_window_in_days": 30,
        "policy": "{}",
        **aws.tags(),
    }
    alias = {
        "id": "alias/cloudtrail",
        "arn": aws.arn("kms", "alias/cloudtrail"),
        "name": "alias/cloudtrail",
        "target_key_id": key["key_id"],
        "target_key_arn": key["arn"],
    }
    lg = aws.log_group("cloudtrail", 365)
    trail = {
        "id": "main",
        "arn": aws.arn("cloudtrail", "trail/main"),
        "name": "main",
        "s3_bucket_name": trail_bucket,
        "home_region": aws.r,
        "is_multi_region_trail": True,
        "is_organization_trail": False,
        "include_global_service_events": True,
        "enable_log_file_validation": True,
        "enable_logging": True,
        "kms_key_id": key["arn"],
        "cloud_watch_logs_group_arn": lg["arn"] + ":*",
        "cloud_watch_logs_role_arn": f"arn:aws:iam::{aws.a}:role/cloudtrail-cw",
        "event_selector": [],
        **aws.tags(),
    }
    rec = {
        "id": "default",
        "name": "default",
        "role_arn": f"arn:aws:iam::{aws.a}:role/aws-config",
        "recording_group": [
            {
                "all_supported": True,
                "include_global_resource_types": True,
                "resource_types": [],
                "exclusion_by_resource_types": [],
                "recording_strategy": [{"use_only": "ALL_SUPPORTED_RESOURCE_TYPES"}],
            }
        ],
        "recording_mode": [],
    }
    status = {"id": "default", "name": "default", "is_enabled": True}
    channel = {
        "id": "default",
        "name": "default",
        "s3_bucket_name": f"invented-config-{aws.a}",
        "s3_key_prefix": "",
        "s3_kms_key_arn": "",
        "sns_topic_arn": "",
        "snapshot_delivery_properties": [{"delivery_frequency": "TwentyFour_Hours"}],
    }
    gd = {
        "id": hx("gd", 32),
        "arn": aws.arn("guardduty", f"detector/{hx('gd', 32)}"),
        "account_id": aws.a,
        "enable": True,
        "finding_publishing_frequency": "SIX_HOURS",
        "datasources": [],
        **aws.tags(),
    }
    hub = {
        "id": aws.a,
        "arn": aws.arn("securityhub", "hub/default"),
        "enable_default_standards": True,
        "control_finding_generator": "SECURITY_CONTROL",
        "auto_enable_controls": True,
    }
    pp = {
        "id": "iam-account-password-policy",
        "minimum_password_length": 14,
        "require_symbols": True,
        "require_numbers": True,
        "require_uppercase_characters": True,
        "require_lowercase_characters": True,
        "allow_users_to_change_password": True,
        "max_password_age": 90,
        "password_reuse_prevention": 24,
        "hard_expiry": False,
        "expire_passwords": True,
    }
    ebs = {"id": aws.r, "enabled": True}
    s3pab = {
        "id": aws.a,
        "account_id": aws.a,
        "block_public_acls": True,
        "block_public_policy": True,
        "ignore_public_acls": True,
        "restrict_public_buckets": True,
    }
    filters, alarms = [], []
    for n, pattern in (
        ("root-usage", '{ $.userIdentity.type = "Root" }'),
        ("console-no-mfa", '{ $.additionalEventData.MFAUsed != "Yes" }'),
        ("iam-changes", "{ ($.eventName = DeleteGroupPolicy) }"),
    ):
        filters.append(
            {
                "_key": n,
                "id": n,
                "name": n,
                "log_group_name": "cloudtrail",
                "pattern": pattern,
                "metric_transformation": [{"name": n, "namespace": "CISBenchmark", "value": "1"}],
            }
        )
        alarms.append(
            {
                "_key": n,
                "id": n,
                "arn": aws.arn("cloudwatch", f"alarm:{n}"),
                "alarm_name": n,
                "metric_name": n,
                "namespace": "CISBenchmark",
                "comparison_operator": "GreaterThanOrEqualToThreshold",
                "threshold": 1,
                "actions_enabled": True,
                "alarm_actions": [aws.arn("sns", "security-alerts")],
                "ok_actions": [],
                **aws.tags(),
            }
        )
    topic = {
        "id": aws.arn("sns", "security-alerts"),
        "arn": aws.arn("sns", "security-alerts"),
        "name": "security-alerts",
        "display_name": "",
        "kms_master_key_id": key["arn"],
        "fifo_topic": False,
        **aws.tags(),
    }
    users = [
        {
            "_key": u,
            "id": u,
            "arn": f"arn:aws:iam::{aws.a}:user/{u}",
            "name": u,
            "path": "/",
            "unique_id": "AIDA" + hx(u, 16).upper(),
            "force_destroy": False,
            "permissions_boundary": "",
            **aws.tags(),
        }
        for u in ("alice", "bob")
    ]
    group = {
        "id": "admins",
        "arn": f"arn:aws:iam::{aws.a}:group/admins",
        "name": "admins",
        "path": "/",
        "unique_id": "AGPA" + hx("g", 16).upper(),
    }
    out = [
        res("aws_kms_key", "trail", [key]),
        res("aws_kms_alias", "trail", [alias]),
        res("aws_s3_bucket", "trail", [aws.bucket(trail_bucket)]),
        res(
            "aws_s3_bucket_policy",
            "trail",
            [{"id": trail_bucket, "bucket": trail_bucket, "policy": "{}"}],
        ),
        res(
            "aws_s3_bucket_public_access_block",
            "trail",
            [
                {
                    "id": trail_bucket,
                    "bucket": trail_bucket,
                    "block_public_acls": True,
                    "block_public_policy": True,
                    "ignore_public_acls": True,
                    "restrict_public_buckets": True,
                }
            ],
        ),
        res("aws_cloudwatch_log_group", "trail", [lg]),
        res("aws_cloudtrail", "main", [trail]),
        res("aws_config_configuration_recorder", "this", [rec]),
        res("aws_config_configuration_recorder_status", "this", [status]),
        res("aws_config_delivery_channel", "this", [channel]),
        res("aws_guardduty_detector", "this", [gd]),
        res("aws_securityhub_account", "this", [hub]),
        res("aws_iam_account_password_policy", "strict", [pp]),
        res("aws_ebs_encryption_by_default", "this", [ebs]),
        res("aws_s3_account_public_access_block", "this", [s3pab]),
        res("aws_cloudwatch_log_metric_filter", "cis", filters, each="map"),
        res("aws_cloudwatch_metric_alarm", "cis", alarms, each="map"),
        res("aws_sns_topic", "security", [topic]),
        res("aws_iam_user", "people", users, each="map"),
        res("aws_iam_group", "admins", [group]),
        res(
            "aws_iam_group_membership",
            "admins",
            [{"id": "admins", "name": "admins", "group": "admins", "users": ["alice", "bob"]}],
        ),
        res(
            "aws_iam_group_policy_attachment",
            "admins",
            [
                {
                    "id": "admins-admin",
                    "group": "admins",
                    "policy_arn": "arn:aws:iam::aws:policy/AdministratorAccess",
                }
            ],
        ),
        res(
            "aws_iam_policy",
            "deny_unencrypted",
            [
                {
                    "id": f"arn:aws:iam::{aws.a}:policy/deny-unencrypted",
                    "arn": f"arn:aws:iam::{aws.a}:policy/deny-unencrypted",
                    "name": "deny-unencrypted",
                    "path": "/",
                    "description": "Deny unencrypted uploads",
                    "policy": "{}",
                    "policy_id": "ANPA" + hx("p", 16).upper(),
                    **aws.tags(),
                }
            ],
        ),
    ]
    return out


def aws_eks(aws: Aws) -> list[dict[str, Any]]:
    """An EKS cluster as terraform-aws-modules/eks writes it: roles, attachments, SG rules, KMS."""
    m = "module.eks"
    name = f"{aws.env}-eks"
    key = {
        "id": guid("ekskey"),
        "key_id": guid("ekskey"),
        "arn": aws.arn("kms", f"key/{guid('ekskey')}"),
        "description": f"{name} cluster encryption key",
        "enable_key_rotation": True,
        "is_enabled": True,
        "key_usage": "ENCRYPT_DECRYPT",
        "customer_master_key_spec": "SYMMETRIC_DEFAULT",
        "multi_region": False,
        **aws.tags(),
    }
    crole = aws.role(f"{name}-cluster", "eks.amazonaws.com")
    nrole = aws.role(f"{name}-node", "ec2.amazonaws.com")
    vpc = "vpc-" + hx(f"{aws.env}-vpc")
    csg = aws.sg(f"{name}-cluster", vpc, [])
    nsg = aws.sg(f"{name}-node", vpc, [])
    subs = sorted("subnet-" + hx(f"{aws.env}-private-{aws.r}{z}") for z in "abc")
    cluster = {
        "id": name,
        "arn": aws.arn("eks", f"cluster/{name}"),
        "name": name,
        "version": "1.29",
        "role_arn": crole["arn"],
        "platform_version": "eks.7",
        "endpoint": "https://" + hx("ep", 32).upper() + ".gr7." + aws.r + ".eks.amazonaws.com",
        "vpc_config": [
            {
                "endpoint_private_access": True,
                "endpoint_public_access": False,
                "public_access_cidrs": ["0.0.0.0/0"],
                "security_group_ids": [csg["id"]],
                "subnet_ids": subs,
                "cluster_security_group_id": "sg-" + hx("eksauto"),
            }
        ],
        "encryption_config": [{"provider": [{"key_arn": key["arn"]}], "resources": ["secrets"]}],
        "enabled_cluster_log_types": ["api", "audit", "authenticator"],
        "certificate_authority": [{"data": "LS0tLS1CRUdJTi..."}],
        **aws.tags(),
    }
    attach = []
    for pol in ("AmazonEKSClusterPolicy", "AmazonEKSVPCResourceController"):
        attach.append(
            {
                "_key": pol,
                "id": f"{crole['name']}-{hx(pol, 20)}",
                "role": crole["name"],
                "policy_arn": f"arn:aws:iam::aws:policy/{pol}",
            }
        )
    nattach = []
    for pol in (
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
        "AmazonEC2ContainerRegistryReadOnly",
    ):
        nattach.append(
            {
                "_key": pol,
                "id": f"{nrole['name']}-{hx(pol, 20)}",
                "role": nrole["name"],
                "policy_arn": f"arn:aws:iam::aws:policy/{pol}",
            }
        )
    rules = []
    for k, (t, port, src) in {
        "ingress_nodes_443": ("ingress", 443, nsg["id"]),
        "egress_nodes_kubelet": ("egress", 10250, nsg["id"]),
    }.items():
        rules.append(
            {
                "_key": k,
                "id": "sgrule-" + hx(k, 10),
                "security_group_id": csg["id"],
                "type": t,
                "protocol": "tcp",
                "from_port": port,
                "to_port": port,
                "source_security_group_id": src,
                "cidr_blocks": [],
                "ipv6_cidr_blocks": [],
                "prefix_list_ids": [],
                "self": False,
                "description": k,
            }
        )
    nrules = [
        {
            "_key": "ingress_self_all",
            "id": "sgrule-" + hx("self", 10),
            "security_group_id": nsg["id"],
            "type": "ingress",
            "protocol": "-1",
            "from_port": 0,
            "to_port": 0,
            "source_security_group_id": "",
            "cidr_blocks": [],
            "ipv6_cidr_blocks": [],
            "prefix_list_ids": [],
            "self": True,
            "description": "node to node",
        },
        {
            "_key": "egress_all",
            "id": "sgrule-" + hx("eg", 10),
            "security_group_id": nsg["id"],
            "type": "egress",
            "protocol": "-1",
            "from_port": 0,
            "to_port": 0,
            "source_security_group_id": "",
            "cidr_blocks": ["0.0.0.0/0"],
            "ipv6_cidr_blocks": [],
            "prefix_list_ids": [],
            "self": False,
            "description": "all egress",
        },
    ]
    lt_id = "lt-" + hx("lt")
    lt = {
        "id": lt_id,
        "arn": aws.arn("ec2", f"launch-template/{lt_id}"),
        "name": f"{name}-default",
        "default_version": 1,
        "latest_version": 3,
        "update_default_version": False,
        "metadata_options": [
            {
                "http_tokens": "required",
                "http_endpoint": "enabled",
                "http_put_response_hop_limit": 2,
            }
        ],
        "vpc_security_group_ids": [nsg["id"]],
        **aws.tags(),
    }
    ng = {
        "id": f"{name}:default",
        "arn": aws.arn("eks", f"nodegroup/{name}/default/{guid('ng')}"),
        "cluster_name": name,
        "node_group_name": "default",
        "node_role_arn": nrole["arn"],
        "subnet_ids": subs,
        "scaling_config": [{"desired_size": 3, "max_size": 6, "min_size": 2}],
        "launch_template": [{"id": lt_id, "version": "3"}],
        **aws.tags(),
    }
    lg = aws.log_group(f"/aws/eks/{name}/cluster", 90)
    alias = {
        "id": f"alias/eks/{name}",
        "arn": aws.arn("kms", f"alias/eks/{name}"),
        "name": f"alias/eks/{name}",
        "target_key_id": key["key_id"],
        "target_key_arn": key["arn"],
    }
    oidc = {
        "id": aws.arn(
            "iam",
            "oidc-provider/oidc.eks." + aws.r + ".amazonaws.com/id/" + hx("oidc", 32).upper(),
            region=False,
        ),
        "url": "oidc.eks." + aws.r + ".amazonaws.com/id/" + hx("oidc", 32).upper(),
        "client_id_list": ["sts.amazonaws.com"],
        "thumbprint_list": [hx("tp", 40)],
        **aws.tags(),
    }
    oidc["arn"] = oidc["id"]
    addons = [
        {
            "_key": a,
            "id": f"{name}:{a}",
            "arn": aws.arn("eks", f"addon/{name}/{a}/{guid(a)}"),
            "addon_name": a,
            "addon_version": "v1.0.0-eksbuild.1",
            "cluster_name": name,
            **aws.tags(),
        }
        for a in ("coredns", "kube-proxy", "vpc-cni")
    ]
    return [
        res("aws_kms_key", "this", [key], module=m + ".module.kms", each="list"),
        res(
            "aws_kms_alias",
            "this",
            [{"_key": f"eks/{name}", **alias}],
            module=m + ".module.kms",
            each="map",
        ),
        res("aws_iam_role", "this", [crole], module=m, each="list"),
        res("aws_iam_role_policy_attachment", "this", attach, module=m, each="map"),
        res("aws_security_group", "cluster", [csg], module=m, each="list"),
        res("aws_security_group_rule", "cluster", rules, module=m, each="map"),
        res("aws_eks_cluster", "this", [cluster], module=m, each="list"),
        res("aws_cloudwatch_log_group", "this", [lg], module=m, each="list"),
        res("aws_iam_openid_connect_provider", "oidc_provider", [oidc], module=m, each="list"),
        res("aws_eks_addon", "this", addons, module=m, each="map"),
        res(
            "aws_iam_role",
            "this",
            [nrole],
            module=m + '.module.eks_managed_node_group["default"]',
            each="list",
        ),
        res(
            "aws_iam_role_policy_attachment",
            "this",
            nattach,
            module=m + '.module.eks_managed_node_group["default"]',
            each="map",
        ),
        res("aws_security_group", "node", [nsg], module=m, each="list"),
        res("aws_security_group_rule", "node", nrules, module=m, each="map"),
        res(
            "aws_launch_template",
            "this",
            [lt],
            module=m + '.module.eks_managed_node_group["default"]',
            each="list",
        ),
        res(
            "aws_eks_node_group",
            "this",
            [ng],
            module=m + '.module.eks_managed_node_group["default"]',
            each="list",
        ),
        res(
            "aws_iam_policy_document",
            "assume_role_policy",
            [{"id": hx("d", 10), "json": "{}"}],
            mode="data",
            module=m,
        ),
    ]


# --- azurerm estates ------------------------------------------------------------------------


class Az:
    """Attribute sets as azurerm writes them, for one invented subscription."""

    def __init__(self, sub: str, rg: str, location: str = "westeurope") -> None:
        self.sub, self.rg, self.loc = sub, rg, location

    def rid(self, provider_type: str, name: str) -> str:
        ns, *kinds = provider_type.split("/")
        names = name.split("/")
        tail = "/".join(f"{k}/{n}" for k, n in zip(kinds, names, strict=True))
        return f"/subscriptions/{self.sub}/resourceGroups/{self.rg}/providers/{ns}/{tail}"

    def base(self, provider_type: str, name: str, **tags: str) -> dict[str, Any]:
        return {
            "id": self.rid(provider_type, name),
            "name": name,
            "location": self.loc,
            "resource_group_name": self.rg,
            "tags": {"env": "prod", "owner": "platform", **tags},
        }


def az_landing(az: Az) -> list[dict[str, Any]]:
    """A workload landing zone: network with NSG associations, VMs, storage, Key Vault, SQL, web app."""
    rg = {
        "id": f"/subscriptions/{az.sub}/resourceGroups/{az.rg}",
        "name": az.rg,
        "location": az.loc,
        "tags": {"env": "prod", "owner": "platform"},
        "managed_by": "",
    }
    vnet = {
        **az.base("Microsoft.Network/virtualNetworks", "vnet-prod"),
        "address_space": ["10.40.0.0/16"],
        "dns_servers": [],
        "subnet": [],
        "flow_timeout_in_minutes": 0,
        "guid": guid("vnet"),
    }
    subnets = []
    for i, s in enumerate(("snet-web", "snet-app", "snet-data")):
        subnets.append(
            {
                "_key": s,
                "id": az.rid("Microsoft.Network/virtualNetworks/subnets", f"vnet-prod/{s}"),
                "name": s,
                "resource_group_name": az.rg,
                "virtual_network_name": "vnet-prod",
                "address_prefixes": [f"10.40.{i}.0/24"],
                "service_endpoints": ["Microsoft.Storage"] if s == "snet-data" else [],
                "delegation": [],
                "private_endpoint_network_policies": "Disabled",
            }
        )
    nsg_rules = [
        {
            "name": "allow-https",
            "priority": 100,
            "direction": "Inbound",
            "access": "Allow",
            "protocol": "Tcp",
            "source_port_range": "*",
            "destination_port_range": "443",
            "source_address_prefix": "Internet",
            "destination_address_prefix": "*",
            "source_address_prefixes": [],
            "destination_address_prefixes": [],
            "source_port_ranges": [],
            "destination_port_ranges": [],
            "description": "",
            "source_application_security_group_ids": [],
            "destination_application_security_group_ids": [],
        }
    ]
    nsg_web = {
        **az.base("Microsoft.Network/networkSecurityGroups", "nsg-web"),
        "security_rule": nsg_rules,
    }
    nsg_app = {**az.base("Microsoft.Network/networkSecurityGroups", "nsg-app"), "security_rule": []}
    rule = {
        "id": az.rid(
            "Microsoft.Network/networkSecurityGroups/securityRules", "nsg-app/allow-from-web"
        ),
        "name": "allow-from-web",
        "resource_group_name": az.rg,
        "network_security_group_name": "nsg-app",
        "priority": 110,
        "direction": "Inbound",
        "access": "Allow",
        "protocol": "Tcp",
        "source_port_range": "*",
        "destination_port_range": "8080",
        "source_address_prefix": "10.40.0.0/24",
        "destination_address_prefix": "*",
    }
    sassoc = [
        {
            "_key": k,
            "id": subnets[i]["id"],
            "subnet_id": subnets[i]["id"],
            "network_security_group_id": n["id"],
        }
        for k, i, n in (("web", 0, nsg_web), ("app", 1, nsg_app))
    ]
    pip = {
        **az.base("Microsoft.Network/publicIPAddresses", "pip-web"),
        "allocation_method": "Static",
        "sku": "Standard",
        "ip_address": "198.51.100.40",
        "ip_version": "IPv4",
        "zones": [],
    }
    nics, vms, nic_assoc = [], [], []
    for i in range(2):
        n = f"vm-web-{i}"
        nic = {
            **az.base("Microsoft.Network/networkInterfaces", f"nic-{n}"),
            "ip_configuration": [
                {
                    "name": "ipconfig1",
                    "subnet_id": subnets[0]["id"],
                    "private_ip_address_allocation": "Dynamic",
                    "public_ip_address_id": pip["id"] if i == 0 else "",
                    "primary": True,
                }
            ],
            "private_ip_address": f"10.40.0.{4 + i}",
            "accelerated_networking_enabled": False,
            "ip_forwarding_enabled": False,
        }
        nics.append(nic)
        nic_assoc.append(
            {
                "id": f"{nic['id']}|{nsg_web['id']}",
                "network_interface_id": nic["id"],
                "network_security_group_id": nsg_web["id"],
            }
        )
        vms.append(
            {
                **az.base("Microsoft.Compute/virtualMachines", n),
                "size": "Standard_D2s_v5",
                "admin_username": "azureuser",
                "admin_password": None,
                "disable_password_authentication": True,
                "network_interface_ids": [nic["id"]],
                "os_disk": [
                    {
                        "caching": "ReadWrite",
                        "storage_account_type": "Premium_LRS",
                        "disk_size_gb": 64,
                        "name": f"{n}-osdisk",
                    }
                ],
                "source_image_reference": [
                    {
                        "publisher": "Canonical",
                        "offer": "0001-com-ubuntu-server-jammy",
                        "sku": "22_04-lts-gen2",
                        "version": "latest",
                    }
                ],
                "admin_ssh_key": [
                    {"username": "azureuser", "public_key": "ssh-ed25519 AAAAinvented"}
                ],
                "custom_data": "I2Nsb3VkLWNvbmZpZwo=",
                "virtual_machine_id": guid(n),
                "zone": str(i + 1),
            }
        )
    disk = {
        **az.base("Microsoft.Compute/disks", "disk-data-0"),
        "storage_account_type": "Premium_LRS",
        "create_option": "Empty",
        "disk_size_gb": 256,
        "zone": "1",
    }
    attach = {
        "id": f"{vms[0]['id']}/dataDisks/disk-data-0",
        "managed_disk_id": disk["id"],
        "virtual_machine_id": vms[0]["id"],
        "lun": 0,
        "caching": "ReadOnly",
    }
    sa = {
        **az.base("Microsoft.Storage/storageAccounts", "stprodinvented01"),
        "account_kind": "StorageV2",
        "account_tier": "Standard",
        "account_replication_type": "GRS",
        "min_tls_version": "TLS1_2",
        "https_traffic_only_enabled": True,
        "allow_nested_items_to_be_public": False,
        "public_network_access_enabled": True,
        "shared_access_key_enabled": True,
        "primary_access_key": "invented-storage-key-do-not-store==",
        "primary_connection_string": "DefaultEndpointsProtocol=https;AccountName=stprodinvented01;AccountKey=invented-storage-key-do-not-store==",
        "network_rules": [
            {
                "default_action": "Deny",
                "bypass": ["AzureServices"],
                "ip_rules": [],
                "virtual_network_subnet_ids": [subnets[2]["id"]],
            }
        ],
    }
    containers = [
        {
            "_key": c,
            "id": f"https://stprodinvented01.blob.core.windows.net/{c}",
            "name": c,
            "storage_account_name": "stprodinvented01",
            "container_access_type": "private",
            "resource_manager_id": az.rid(
                "Microsoft.Storage/storageAccounts/blobServices/containers",
                f"stprodinvented01/default/{c}",
            ),
        }
        for c in ("uploads", "exports")
    ]
    kv = {
        **az.base("Microsoft.KeyVault/vaults", "kv-prod-invented"),
        "tenant_id": guid("tenant"),
        "sku_name": "standard",
        "purge_protection_enabled": True,
        "soft_delete_retention_days": 90,
        "public_network_access_enabled": True,
        "enable_rbac_authorization": True,
        "network_acls": [
            {
                "default_action": "Deny",
                "bypass": "AzureServices",
                "ip_rules": [],
                "virtual_network_subnet_ids": [],
            }
        ],
        "vault_uri": "https://kv-prod-invented.vault.azure.net/",
        "access_policy": [],
    }
    secret = {
        "id": "https://kv-prod-invented.vault.azure.net/secrets/db-password/" + hx("v", 32),
        "name": "db-password",
        "value": "invented-Secret-123",
        "key_vault_id": kv["id"],
        "content_type": "",
        "resource_id": kv["id"] + "/secrets/db-password/versions/" + hx("v", 32),
        "resource_versionless_id": kv["id"] + "/secrets/db-password",
        "versionless_id": "https://kv-prod-invented.vault.azure.net/secrets/db-password",
        "tags": {},
    }
    sql = {
        **az.base("Microsoft.Sql/servers", "sql-prod-invented"),
        "version": "12.0",
        "administrator_login": "sqladmin",
        "administrator_login_password": "invented-Secret-123",
        "minimum_tls_version": "1.2",
        "public_network_access_enabled": False,
        "fully_qualified_domain_name": "sql-prod-invented.database.windows.net",
    }
    db = {
        "id": az.rid("Microsoft.Sql/servers/databases", "sql-prod-invented/orders"),
        "name": "orders",
        "server_id": sql["id"],
        "sku_name": "S1",
        "collation": "SQL_Latin1_General_CP1_CI_AS",
        "max_size_gb": 250,
        "zone_redundant": False,
        "tags": {"env": "prod"},
    }
    fw = {
        "id": az.rid("Microsoft.Sql/servers/firewallRules", "sql-prod-invented/office"),
        "name": "office",
        "server_id": sql["id"],
        "start_ip_address": "203.0.113.0",
        "end_ip_address": "203.0.113.255",
    }
    plan = {
        **az.base("Microsoft.Web/serverFarms", "asp-prod"),
        "os_type": "Linux",
        "sku_name": "P1v3",
        "worker_count": 2,
    }
    app = {
        **az.base("Microsoft.Web/sites", "app-prod-invented"),
        "service_plan_id": plan["id"],
        "https_only": True,
        "app_settings": {
            "DB_PASSWORD": "@Microsoft.KeyVault(SecretUri=https://kv-prod-invented.vault.azure.net/secrets/db-password/)"
        },
        "site_config": [
            {"minimum_tls_version": "1.2", "ftps_state": "Disabled", "always_on": True}
        ],
        "default_hostname": "app-prod-invented.azurewebsites.net",
    }
    law = {
        **az.base("Microsoft.OperationalInsights/workspaces", "law-prod"),
        "sku": "PerGB2018",
        "retention_in_days": 90,
        "workspace_id": guid("law"),
        "primary_shared_key": "invented-law-key==",
    }
    diag = {
        "id": f"/subscriptions/{az.sub}|activity-to-law",
        "name": "activity-to-law",
        "target_resource_id": f"/subscriptions/{az.sub}",
        "log_analytics_workspace_id": law["id"],
        "enabled_log": [{"category": "Administrative"}, {"category": "Security"}],
    }
    ra = {
        "id": f"/subscriptions/{az.sub}/providers/Microsoft.Authorization/roleAssignments/{guid('ra1')}",
        "name": guid("ra1"),
        "scope": f"/subscriptions/{az.sub}",
        "role_definition_name": "Reader",
        "role_definition_id": f"/subscriptions/{az.sub}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7",
        "principal_id": guid("principal"),
        "principal_type": "Group",
        "skip_service_principal_aad_check": False,
    }
    kvpol = {
        "id": f"{kv['id']}/objectId/{guid('obj')}",
        "key_vault_id": kv["id"],
        "tenant_id": guid("tenant"),
        "object_id": guid("obj"),
        "secret_permissions": ["Get", "List"],
    }
    pricing = [
        {
            "_key": t,
            "id": f"/subscriptions/{az.sub}/providers/Microsoft.Security/pricings/{t}",
            "tier": "Standard",
            "resource_type": t,
            "subplan": "",
        }
        for t in ("VirtualMachines", "StorageAccounts", "SqlServers")
    ]
    AZ = AZ_P
    return [
        res(
            "azurerm_client_config",
            "current",
            [
                {
                    "id": hx("cc", 20),
                    "tenant_id": guid("tenant"),
                    "subscription_id": az.sub,
                    "object_id": guid("me"),
                }
            ],
            mode="data",
            provider=AZ,
        ),
        res("azurerm_resource_group", "main", [rg], provider=AZ),
        res("azurerm_virtual_network", "main", [vnet], provider=AZ),
        res("azurerm_subnet", "this", subnets, provider=AZ, each="map"),
        res("azurerm_network_security_group", "web", [nsg_web], provider=AZ),
        res("azurerm_network_security_group", "app", [nsg_app], provider=AZ),
        res("azurerm_network_security_rule", "app_from_web", [rule], provider=AZ),
        res(
            "azurerm_subnet_network_security_group_association",
            "this",
            sassoc,
            provider=AZ,
            each="map",
        ),
        res("azurerm_public_ip", "web", [pip], provider=AZ),
        res("azurerm_network_interface", "web", nics, provider=AZ, each="list"),
        res(
            "azurerm_network_interface_security_group_association",
            "web",
            nic_assoc,
            provider=AZ,
            each="list",
        ),
        res("azurerm_linux_virtual_machine", "web", vms, provider=AZ, each="list"),
        res("azurerm_managed_disk", "data", [disk], provider=AZ),
        res("azurerm_virtual_machine_data_disk_attachment", "data", [attach], provider=AZ),
        res("azurerm_storage_account", "main", [sa], provider=AZ),
        res("azurerm_storage_container", "this", containers, provider=AZ, each="map"),
        res("azurerm_key_vault", "main", [kv], provider=AZ),
        res("azurerm_key_vault_access_policy", "app", [kvpol], provider=AZ),
        res("azurerm_key_vault_secret", "db", [secret], provider=AZ),
        res("azurerm_mssql_server", "main", [sql], provider=AZ),
        res("azurerm_mssql_database", "orders", [db], provider=AZ),
        res("azurerm_mssql_firewall_rule", "office", [fw], provider=AZ),
        res("azurerm_service_plan", "main", [plan], provider=AZ),
        res("azurerm_linux_web_app", "main", [app], provider=AZ),
        res("azurerm_log_analytics_workspace", "main", [law], provider=AZ),
        res("azurerm_monitor_diagnostic_setting", "activity", [diag], provider=AZ),
        res("azurerm_role_assignment", "readers", [ra], provider=AZ),
        res(
            "azurerm_security_center_subscription_pricing", "this", pricing, provider=AZ, each="map"
        ),
    ]


def az_aks(az: Az) -> list[dict[str, Any]]:
    """AKS with its registry, identity, private DNS and monitoring (a landing-zone module)."""
    AZ = AZ_P
    m = "module.aks"
    rg = {
        "id": f"/subscriptions/{az.sub}/resourceGroups/{az.rg}",
        "name": az.rg,
        "location": az.loc,
        "tags": {"env": "prod"},
    }
    uai = {
        **az.base("Microsoft.ManagedIdentity/userAssignedIdentities", "id-aks"),
        "principal_id": guid("uaip"),
        "client_id": guid("uaic"),
        "tenant_id": guid("tenant"),
    }
    aks = {
        **az.base("Microsoft.ContainerService/managedClusters", "aks-prod"),
        "dns_prefix": "aks-prod",
        "kubernetes_version": "1.29.2",
        "sku_tier": "Standard",
        "private_cluster_enabled": True,
        "role_based_access_control_enabled": True,
        "local_account_disabled": True,
        "oidc_issuer_enabled": True,
        "default_node_pool": [
            {"name": "system", "vm_size": "Standard_D4s_v5", "node_count": 3, "max_pods": 30}
        ],
        "network_profile": [{"network_plugin": "azure", "network_policy": "calico"}],
        "kube_config_raw": "apiVersion: v1\nusers:\n- token: invented-kube-token",
        "kube_admin_config_raw": "",
    }
    pool = {
        "id": az.rid("Microsoft.ContainerService/managedClusters/agentPools", "aks-prod/user"),
        "name": "user",
        "kubernetes_cluster_id": aks["id"],
        "vm_size": "Standard_D8s_v5",
        "node_count": 2,
        "mode": "User",
        "tags": {"env": "prod"},
    }
    acr = {
        **az.base("Microsoft.ContainerRegistry/registries", "acrprodinvented"),
        "sku": "Premium",
        "admin_enabled": False,
        "public_network_access_enabled": False,
        "login_server": "acrprodinvented.azurecr.io",
    }
    pull = {
        "id": f"{acr['id']}/providers/Microsoft.Authorization/roleAssignments/{guid('pull')}",
        "name": guid("pull"),
        "scope": acr["id"],
        "role_definition_name": "AcrPull",
        "principal_id": uai["principal_id"],
        "principal_type": "ServicePrincipal",
    }
    dns = {
        "id": az.rid("Microsoft.Network/privateDnsZones", "privatelink.westeurope.azmk8s.io"),
        "name": "privatelink.westeurope.azmk8s.io",
        "resource_group_name": az.rg,
        "tags": {"env": "prod"},
        "number_of_record_sets": 2,
    }
    link = {
        "id": az.rid(
            "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
            "privatelink.westeurope.azmk8s.io/hub",
        ),
        "name": "hub",
        "private_dns_zone_name": dns["name"],
        "virtual_network_id": f"/subscriptions/{az.sub}/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/vnet-hub",
        "registration_enabled": False,
        "tags": {},
    }
    law = {
        **az.base("Microsoft.OperationalInsights/workspaces", "law-aks"),
        "sku": "PerGB2018",
        "retention_in_days": 30,
        "primary_shared_key": "invented-law-key==",
    }
    pe = {
        **az.base("Microsoft.Network/privateEndpoints", "pe-acr"),
        "subnet_id": az.rid("Microsoft.Network/virtualNetworks/subnets", "vnet-aks/snet-pe"),
        "private_service_connection": [
            {
                "name": "acr",
                "private_connection_resource_id": acr["id"],
                "subresource_names": ["registry"],
                "is_manual_connection": False,
            }
        ],
    }
    vnet = {
        **az.base("Microsoft.Network/virtualNetworks", "vnet-aks"),
        "address_space": ["10.50.0.0/16"],
    }
    subnet = {
        "id": az.rid("Microsoft.Network/virtualNetworks/subnets", "vnet-aks/snet-pe"),
        "name": "snet-pe",
        "resource_group_name": az.rg,
        "virtual_network_name": "vnet-aks",
        "address_prefixes": ["10.50.8.0/24"],
    }
    return [
        res("azurerm_resource_group", "this", [rg], provider=AZ),
        res("azurerm_virtual_network", "aks", [vnet], provider=AZ),
        res("azurerm_subnet", "pe", [subnet], provider=AZ),
        res("azurerm_user_assigned_identity", "aks", [uai], module=m, provider=AZ),
        res("azurerm_kubernetes_cluster", "main", [aks], module=m, provider=AZ),
        res("azurerm_kubernetes_cluster_node_pool", "user", [pool], module=m, provider=AZ),
        res("azurerm_log_analytics_workspace", "main", [law], module=m, provider=AZ, each="list"),
        res("azurerm_container_registry", "main", [acr], provider=AZ),
        res("azurerm_role_assignment", "acr_pull", [pull], provider=AZ),
        res("azurerm_private_dns_zone", "aks", [dns], provider=AZ),
        res("azurerm_private_dns_zone_virtual_network_link", "hub", [link], provider=AZ),
        res("azurerm_private_endpoint", "acr", [pe], provider=AZ),
    ]


# --- format 3 ---------------------------------------------------------------------------------


def flatten(value: Any, prefix: str, out: dict[str, str], sets: frozenset[str]) -> None:
    """A v4 attribute value as v3's flatmap: lists count with `#` (sets by hash), maps with `%`."""
    if isinstance(value, dict):
        out[f"{prefix}.%"] = str(len(value))
        for k, v in value.items():
            flatten(v, f"{prefix}.{k}", out, sets)
    elif isinstance(value, list):
        out[f"{prefix}.#"] = str(len(value))
        leaf = prefix.rsplit(".", 1)[-1]
        for i, v in enumerate(value):
            idx = str(int(hx(json.dumps(v, sort_keys=True), 8), 16)) if leaf in sets else str(i)
            flatten(v, f"{prefix}.{idx}", out, sets)
    elif value is None:
        return
    elif isinstance(value, bool):
        out[prefix] = "true" if value else "false"
    else:
        out[prefix] = str(value)


def to_v3(v4: dict[str, Any], tf: str, sets: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The same estate as a format 3 state (what Terraform 0.11 and terraformer write)."""
    modules: dict[tuple[str, ...], dict[str, Any]] = {}
    for r in v4["resources"]:
        path = ("root",)
        if r.get("module"):
            path = ("root", *[p.split("[")[0] for p in r["module"].split(".")[1::2]])
        mod = modules.setdefault(
            path, {"path": list(path), "outputs": {}, "resources": {}, "depends_on": []}
        )
        prov = r["provider"]
        short = prov.split("/")[-1].rstrip('"]') if "registry" in prov else prov
        for inst in r["instances"]:
            attrs: dict[str, str] = {}
            for k, v in inst["attributes"].items():
                if isinstance(v, dict | list) or v is not None:
                    flatten(v, k, attrs, sets)
            addr = f"{r['type']}.{r['name']}"
            if r["mode"] == "data":
                addr = "data." + addr
            if "index_key" in inst:
                addr += f".{inst['index_key']}"
            mod["resources"][addr] = {
                "type": r["type"],
                "depends_on": [],
                "primary": {
                    "id": str(inst["attributes"].get("id", "")),
                    "attributes": attrs,
                    "meta": {"schema_version": "1"},
                    "tainted": False,
                },
                "deposed": [],
                "provider": f"provider.{short}",
            }
    return {
        "version": 3,
        "terraform_version": tf,
        "serial": 7,
        "lineage": guid("v3" + tf),
        "modules": list(modules.values()),
    }


def counted(v4: dict[str, Any]) -> dict[str, Any]:
    """for_each instances as count's (format 3 knows only count), in the same order."""
    for r in v4["resources"]:
        if r.get("each") == "map":
            r["each"] = "list"
            for i, inst in enumerate(r["instances"]):
                inst["index_key"] = i
    return v4


def write(name: str, doc: dict[str, Any]) -> None:
    (HERE / name).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    prod = Aws("210987654321", "eu-central-1", "prod")
    stage = Aws("310987654322", "us-east-2", "staging")
    net = aws_network(prod)
    write("aws-network-prod.tfstate", state(net, "1.6.6", 112))
    write("aws-app-prod.tfstate", state(aws_app(prod, net), "1.6.6", 87))
    write("aws-site.tfstate", state(aws_site(prod), "1.5.7", 23))
    write("aws-serverless-staging.tfstate", state(aws_serverless(stage), "1.7.4", 41))
    write("aws-baseline-prod.tfstate", state(aws_baseline(prod), "1.3.9", 15))
    write("aws-eks-staging.tfstate", state(aws_eks(stage), "1.8.2", 64))
    landing = Az(guid("sub-prod"), "rg-workload-prod")
    write("azure-landing-zone.tfstate", state(az_landing(landing), "1.6.3", 230))
    write("azure-aks.tfstate", state(az_aks(Az(guid("sub-prod"), "rg-aks-prod")), "1.9.0", 18))
    # Terraform 0.12 wrote format 4 with the old provider addresses.
    old = state(aws_network(Aws("410987654323", "eu-west-1", "legacy")), "0.12.31", 301)
    for r in old["resources"]:
        r["provider"] = "provider.aws"
        for inst in r["instances"]:
            for k in ("tags_all", "sensitive_attributes"):
                inst["attributes"].pop(k, None) if k == "tags_all" else inst.pop(k, None)
    write("aws-network-tf012.tfstate", old)
    # The same estates in format 3: a Terraform 0.11 project, a terraformer export.
    sets = frozenset(
        {
            "ingress",
            "egress",
            "vpc_security_group_ids",
            "security_groups",
            "subnets",
            "route_table_ids",
            "cidr_blocks",
            "alarm_actions",
            "aliases",
        }
    )
    # Other (invented) accounts and subscription: one corpus, no resource declared twice.
    old_acct = Aws("510987654324", "eu-west-1", "prod")
    app = counted(state(aws_app(old_acct, net), "0.11.14", 87))
    write("v3-aws-app-tf011.tfstate", to_v3(app, "0.11.14", sets))
    base = counted(
        state(aws_baseline(Aws("610987654325", "ap-southeast-2", "prod")), "0.12.31", 15)
    )
    write("v3-terraformer-baseline.tfstate", to_v3(base, "0.12.31", sets))
    zone = counted(state(az_landing(Az(guid("sub-legacy"), "rg-legacy")), "0.11.14", 230))
    write("v3-azure-landing-zone.tfstate", to_v3(zone, "0.11.14", sets))
    # The v3/v4 twin pair for the equality test (one estate, both formats).
    twin = counted(state(aws_app(prod, net) + aws_baseline(prod) + az_landing(landing), "1.6.6", 5))
    (HERE / "twin").mkdir(exist_ok=True)
    (HERE / "twin" / "estate-v4.tfstate").write_text(json.dumps(twin, indent=2) + "\n")
    (HERE / "twin" / "estate-v3.tfstate").write_text(
        json.dumps(to_v3(twin, "0.11.14", sets), indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
