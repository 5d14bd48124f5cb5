"""AWS network and edge: Elastic Load Balancing v2 load balancers and target groups."""

from __future__ import annotations

from collections.abc import Callable

from driftscan.collect.limits import ApiLimits, RateLimit
from driftscan.providers.aws.collect.specs import (
    Found,
    Item,
    Reader,
    ResourceSpec,
    ServiceSpec,
    tag_dict,
)

# --- ELBv2 ---------------------------------------------------------------------------------


def _elb_tags(arn_field: str) -> Callable[[Reader, list[Item]], None]:
    """DescribeTags for up to 20 load balancers or target groups in one call."""

    def enrich(r: Reader, items: list[Item]) -> None:
        resp = r.client.describe_tags(ResourceArns=[i[arn_field] for i in items])
        tags = {str(d["ResourceArn"]): tag_dict(d.get("Tags")) for d in resp["TagDescriptions"]}
        for i in items:
            i["_tags"] = tags.get(i[arn_field], {})

    return enrich


def _tg_enrich(r: Reader, item: Item) -> None:
    health = r.client.describe_target_health(TargetGroupArn=item["TargetGroupArn"])
    item["_targets"] = sorted(
        (
            {
                "id": t["Target"]["Id"],
                "port": t["Target"].get("Port"),
                "state": (t.get("TargetHealth") or {}).get("State"),
                "reason": (t.get("TargetHealth") or {}).get("Reason"),
            }
            for t in health.get("TargetHealthDescriptions", [])
        ),
        key=lambda t: (str(t["id"]), t["port"] or 0),
    )


def _load_balancer(r: Reader, lb: Item) -> Found:
    return Found(
        name=lb["LoadBalancerName"],
        tags=lb.get("_tags", {}),
        attrs={
            "type": lb.get("Type"),
            "scheme": lb["Scheme"],
            "state": (lb.get("State") or {}).get("Code"),
            "vpc_id": lb.get("VpcId"),
            "dns_name": lb.get("DNSName"),
            "availability_zones": sorted(z["ZoneName"] for z in lb.get("AvailabilityZones", [])),
            "subnets": sorted(
                z["SubnetId"] for z in lb.get("AvailabilityZones", []) if "SubnetId" in z
            ),
            "security_groups": sorted(lb.get("SecurityGroups", [])),
        },
        public=lb["Scheme"] == "internet-facing",
    )


def _target_group(r: Reader, tg: Item) -> Found:
    return Found(
        name=tg["TargetGroupName"],
        tags=tg.get("_tags", {}),
        attrs={
            "protocol": tg.get("Protocol"),
            "port": tg.get("Port"),
            "vpc_id": tg.get("VpcId"),
            "target_type": tg.get("TargetType"),
            "health_check": {
                "protocol": tg.get("HealthCheckProtocol"),
                "port": tg.get("HealthCheckPort"),
                "path": tg.get("HealthCheckPath"),
            },
            "load_balancers": sorted(tg.get("LoadBalancerArns", [])),
            "targets": tg.get("_targets", []),
        },
    )


ELBV2 = ServiceSpec(
    "elbv2",
    "elbv2",
    (
        ResourceSpec(
            "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "describe_load_balancers",
            "LoadBalancers",
            key=lambda r, lb: str(lb["LoadBalancerArn"]),
            build=_load_balancer,
            enrich_batch=_elb_tags("LoadBalancerArn"),
            batch=20,
        ),
        ResourceSpec(
            "AWS::ElasticLoadBalancingV2::TargetGroup",
            "describe_target_groups",
            "TargetGroups",
            key=lambda r, tg: str(tg["TargetGroupArn"]),
            build=_target_group,
            enrich=_tg_enrich,
            enrich_batch=_elb_tags("TargetGroupArn"),
            batch=20,
        ),
    ),
    # "Request throttling for the Elastic Load Balancing API": non-mutating actions, a bucket
    # of 40 tokens refilled at 10 a second, per account and region.
    limits=ApiLimits({"Describe*": RateLimit(40, 10)}),
)

REGIONAL: tuple[ServiceSpec, ...] = (ELBV2,)
GLOBAL: tuple[ServiceSpec, ...] = ()
