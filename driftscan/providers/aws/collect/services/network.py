"""AWS network and edge: VPC plumbing, load balancers and listeners, CloudFront, API Gateway,
Route 53 hosted zones and WAFv2 web ACLs."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from driftscan.collect.limits import ApiLimits, PageChain, RateLimit
from driftscan.providers.aws.collect.specs import (
    Found,
    Item,
    Reader,
    ResourceSpec,
    ServiceSpec,
    iso,
    optional_get,
    tag_dict,
)

# --- minimum TLS versions of named security policies ---------------------------------------

# Dated ELB policies (classic and v2) that do not spell their minimum in the name.
_ELB_DATED = {
    "ELBSecurityPolicy-2016-08": "1.0",
    "ELBSecurityPolicy-2015-05": "1.0",
    "ELBSecurityPolicy-2015-03": "1.0",
    "ELBSecurityPolicy-2015-02": "1.0",
    "ELBSecurityPolicy-2014-10": "1.0",
    "ELBSecurityPolicy-2014-01": "SSLv3",
    "ELBSecurityPolicy-2011-08": "SSLv3",
    "ELBSample-ELBDefaultNegotiationPolicy": "SSLv3",
    "ELBSample-OpenSSLDefaultNegotiationPolicy": "SSLv3",
    "ELBSecurityPolicy-FS-2018-06": "1.0",
}
# ELBSecurityPolicy-TLS-1-2-2017-01, -TLS13-1-2-2021-06, -FS-1-1-2019-08, -TLS13-1-3-FIPS-…:
# the first "1-N" after TLS/TLS13/FS is the minimum.
_ELB_NAMED = re.compile(r"-(?:TLS13|TLS|FS)-1-(\d)(?:-|$)")


def elb_min_tls(policy: str | None) -> str | None:
    """The minimum protocol an ELB security policy accepts ("1.2", "SSLv3"); None if unknown."""
    if not policy:
        return None
    if policy in _ELB_DATED:
        return _ELB_DATED[policy]
    m = _ELB_NAMED.search(policy)
    return f"1.{m.group(1)}" if m else None


def cloudfront_min_tls(viewer: Item) -> str | None:
    """A distribution's minimum viewer protocol: TLSv1.2_2021 → "1.2", TLSv1 → "1.0".

    With the default *.cloudfront.net certificate CloudFront accepts TLSv1 whatever the
    setting says (CloudFront developer guide, "Supported protocols and ciphers")."""
    own = viewer.get("ACMCertificateArn") or viewer.get("IAMCertificateId")
    if viewer.get("CloudFrontDefaultCertificate") and not own:
        return "1.0"
    version = viewer.get("MinimumProtocolVersion")
    if not version:
        return None
    if version == "SSLv3":
        return "SSLv3"
    m = re.match(r"TLSv1(?:\.(\d))?(?:_|$)", version)
    return f"1.{m.group(1) or 0}" if m else None


def apigw_min_tls(policy: str | None) -> str | None:
    """An API Gateway security policy's minimum: TLS_1_0 → "1.0",
    SecurityPolicy_TLS13_1_2_2021_06 → "1.2"; None if unknown."""
    m = re.search(r"TLS(?:1[23])?_1_(\d)", policy or "")
    return f"1.{m.group(1)}" if m else None


def _lowest(versions: list[str | None]) -> str | None:
    """The weakest of several minimum versions ("SSLv3" below every TLS); None if any unknown."""
    if not versions or any(v is None for v in versions):
        return None
    return min((v for v in versions if v), key=lambda v: (v != "SSLv3", v))


# --- VPC plumbing (EC2 API) ----------------------------------------------------------------


def _ec2_arn(kind: str, id_field: str) -> Callable[[Reader, Item], str]:
    return lambda r, i: r.arn("ec2", f"{kind}/{i[id_field]}")


def _named(item: Item, id_field: str) -> tuple[str, dict[str, str]]:
    tags = tag_dict(item.get("Tags"))
    return tags.get("Name") or str(item[id_field]), tags


def _port(value: Any) -> int | None:
    return None if value is None else int(value)


def _network_acl(r: Reader, a: Item) -> Found:
    name, tags = _named(a, "NetworkAclId")
    entries = sorted(
        (
            {
                "rule_number": e.get("RuleNumber"),
                "egress": e.get("Egress"),
                "protocol": e.get("Protocol"),  # "-1" all, "6" tcp, "17" udp, …
                "action": e.get("RuleAction"),
                "cidr": e.get("CidrBlock"),
                "ipv6_cidr": e.get("Ipv6CidrBlock"),
                "from_port": _port((e.get("PortRange") or {}).get("From")),
                "to_port": _port((e.get("PortRange") or {}).get("To")),
            }
            for e in a.get("Entries", [])
        ),
        key=lambda e: (bool(e["egress"]), e["rule_number"] or 0),
    )
    return Found(
        name=name,
        tags=tags,
        attrs={
            "network_acl_id": a["NetworkAclId"],
            "vpc_id": a.get("VpcId"),
            "is_default": a.get("IsDefault"),
            # Ingress first, each direction in evaluation order (lowest rule number first).
            "entries": entries,
            "subnets": sorted(
                x["SubnetId"] for x in a.get("Associations", []) if x.get("SubnetId")
            ),
        },
    )


def _route_table(r: Reader, t: Item) -> Found:
    name, tags = _named(t, "RouteTableId")
    targets = (
        "GatewayId",
        "NatGatewayId",
        "TransitGatewayId",
        "VpcPeeringConnectionId",
        "NetworkInterfaceId",
        "InstanceId",
        "EgressOnlyInternetGatewayId",
        "LocalGatewayId",
        "CarrierGatewayId",
        "CoreNetworkArn",
    )
    routes = [
        {
            "destination": x.get("DestinationCidrBlock")
            or x.get("DestinationIpv6CidrBlock")
            or x.get("DestinationPrefixListId"),
            # The first target the route names ("local", igw-…, nat-…, pcx-…).
            "target": next((x[k] for k in targets if x.get(k)), None),
            "state": x.get("State"),
            "origin": x.get("Origin"),
        }
        for x in t.get("Routes", [])
    ]
    assoc = t.get("Associations", [])
    return Found(
        name=name,
        tags=tags,
        attrs={
            "route_table_id": t["RouteTableId"],
            "vpc_id": t.get("VpcId"),
            "routes": sorted(routes, key=lambda x: (str(x["destination"]), str(x["target"]))),
            "main": any(x.get("Main") for x in assoc),
            "subnets": sorted(x["SubnetId"] for x in assoc if x.get("SubnetId")),
            "gateways": sorted(x["GatewayId"] for x in assoc if x.get("GatewayId")),
            # The target of 0.0.0.0/0: an igw- makes the associated subnets public.
            "default_route": next(
                (x["target"] for x in routes if x["destination"] in ("0.0.0.0/0", "::/0")), None
            ),
        },
    )


def _internet_gateway(r: Reader, g: Item) -> Found:
    name, tags = _named(g, "InternetGatewayId")
    return Found(
        name=name,
        tags=tags,
        attrs={
            "internet_gateway_id": g["InternetGatewayId"],
            "attachments": sorted(
                (
                    {"vpc_id": x.get("VpcId"), "state": x.get("State")}
                    for x in g.get("Attachments", [])
                ),
                key=lambda x: str(x["vpc_id"]),
            ),
        },
    )


def _nat_gateway(r: Reader, n: Item) -> Found:
    name, tags = _named(n, "NatGatewayId")
    addresses = n.get("NatGatewayAddresses", [])
    return Found(
        name=name,
        tags=tags,
        attrs={
            "nat_gateway_id": n["NatGatewayId"],
            "state": n.get("State"),
            "vpc_id": n.get("VpcId"),
            "subnet_id": n.get("SubnetId"),
            "connectivity_type": n.get("ConnectivityType"),
            "public_ips": sorted(a["PublicIp"] for a in addresses if a.get("PublicIp")),
            "private_ips": sorted(a["PrivateIp"] for a in addresses if a.get("PrivateIp")),
            "allocation_ids": sorted(a["AllocationId"] for a in addresses if a.get("AllocationId")),
            "created": iso(n.get("CreateTime")),
        },
    )


def _flow_log(r: Reader, f: Item) -> Found:
    name, tags = _named(f, "FlowLogId")
    return Found(
        name=name,
        tags=tags,
        attrs={
            "flow_log_id": f["FlowLogId"],
            "resource_id": f.get("ResourceId"),  # vpc-…, subnet-… or eni-…
            "traffic_type": f.get("TrafficType"),  # ACCEPT | REJECT | ALL
            "destination_type": f.get("LogDestinationType"),
            "destination": f.get("LogDestination") or f.get("LogGroupName"),
            "status": f.get("FlowLogStatus"),
            "deliver_logs_status": f.get("DeliverLogsStatus"),
            "log_format": f.get("LogFormat"),
            "max_aggregation_interval_s": f.get("MaxAggregationInterval"),
        },
    )


def _vpc_endpoint(r: Reader, e: Item) -> Found:
    name, tags = _named(e, "VpcEndpointId")
    policy = e.get("PolicyDocument")
    return Found(
        name=name,
        tags=tags,
        attrs={
            "vpc_endpoint_id": e["VpcEndpointId"],
            "endpoint_type": e.get("VpcEndpointType"),
            "service_name": e.get("ServiceName"),
            "vpc_id": e.get("VpcId"),
            "state": e.get("State"),
            "private_dns_enabled": e.get("PrivateDnsEnabled"),
            "route_tables": sorted(e.get("RouteTableIds", [])),
            "subnets": sorted(e.get("SubnetIds", [])),
            "security_groups": sorted(g["GroupId"] for g in e.get("Groups", []) if "GroupId" in g),
            # Policies can name principals and conditions worth keeping private: a fingerprint
            # for drift, and whether it is the default allow-everything policy.
            "policy": r.fingerprint(policy) if policy else None,
            "policy_full_access": _full_access(policy),
        },
    )


def _full_access(policy: str | None) -> bool | None:
    """True when a policy document allows every action on every resource to anyone."""
    if not policy:
        return None
    try:
        doc = json.loads(policy)
    except ValueError:
        return None
    statements = doc.get("Statement", [])
    for s in statements if isinstance(statements, list) else [statements]:
        principal = s.get("Principal")
        anyone = principal == "*" or (isinstance(principal, dict) and principal.get("AWS") == "*")
        if (
            s.get("Effect") == "Allow"
            and anyone
            and s.get("Action") in ("*", ["*"])
            and s.get("Resource") in ("*", ["*"])
            and not s.get("Condition")
        ):
            return True
    return False


def _eip_key(r: Reader, a: Item) -> str:
    # EC2-Classic addresses have no allocation id; their public IP names them.
    return r.arn("ec2", f"elastic-ip/{a.get('AllocationId') or a['PublicIp']}")


def _eip(r: Reader, a: Item) -> Found:
    tags = tag_dict(a.get("Tags"))
    return Found(
        name=tags.get("Name") or str(a.get("AllocationId") or a["PublicIp"]),
        tags=tags,
        attrs={
            "allocation_id": a.get("AllocationId"),
            "public_ip": a.get("PublicIp"),
            "domain": a.get("Domain"),
            # moto answers "" for an unassociated address; AWS omits the field.
            "instance_id": a.get("InstanceId") or None,
            "network_interface_id": a.get("NetworkInterfaceId") or None,
            "association_id": a.get("AssociationId") or None,
            "private_ip": a.get("PrivateIpAddress") or None,
            "associated": bool(a.get("AssociationId") or a.get("InstanceId")),
        },
        public=True,  # an Elastic IP is an Internet address by definition
    )


VPC = ServiceSpec(
    "vpc",
    "ec2",
    (
        ResourceSpec(
            "AWS::EC2::NetworkAcl",
            "describe_network_acls",
            "NetworkAcls",
            key=_ec2_arn("network-acl", "NetworkAclId"),
            build=_network_acl,
        ),
        ResourceSpec(
            "AWS::EC2::RouteTable",
            "describe_route_tables",
            "RouteTables",
            key=_ec2_arn("route-table", "RouteTableId"),
            build=_route_table,
        ),
        ResourceSpec(
            "AWS::EC2::InternetGateway",
            "describe_internet_gateways",
            "InternetGateways",
            key=_ec2_arn("internet-gateway", "InternetGatewayId"),
            build=_internet_gateway,
        ),
        ResourceSpec(
            "AWS::EC2::NatGateway",
            "describe_nat_gateways",
            "NatGateways",
            key=_ec2_arn("natgateway", "NatGatewayId"),
            build=_nat_gateway,
        ),
        ResourceSpec(
            "AWS::EC2::FlowLog",
            "describe_flow_logs",
            "FlowLogs",
            key=_ec2_arn("vpc-flow-log", "FlowLogId"),
            build=_flow_log,
        ),
        ResourceSpec(
            "AWS::EC2::VPCEndpoint",
            "describe_vpc_endpoints",
            "VpcEndpoints",
            key=_ec2_arn("vpc-endpoint", "VpcEndpointId"),
            build=_vpc_endpoint,
        ),
        ResourceSpec("AWS::EC2::EIP", "describe_addresses", "Addresses", key=_eip_key, build=_eip),
    ),
    # The EC2 API's limits (as compute.py's EC2 spec: the same client, the same buckets).
    limits=ApiLimits({"Describe*": RateLimit(100, 20)}),
)

# --- ELBv2 ---------------------------------------------------------------------------------


def _elb_tags(arn_field: str) -> Callable[[Reader, list[Item]], None]:
    """DescribeTags for up to 20 load balancers, target groups or listeners in one call."""

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
            "load_balancers": sorted(set(tg.get("LoadBalancerArns", []))),
            "targets": tg.get("_targets", []),
        },
    )


_TLS_PROTOCOLS = ("HTTPS", "TLS", "SSL")


def _listeners(r: Reader) -> Iterator[Item]:
    """Every listener of every load balancer of the region (DescribeListeners is per LB)."""
    lbs = r.client.get_paginator("describe_load_balancers").paginate()
    for lb in lbs.search("LoadBalancers[]"):
        pages = r.client.get_paginator("describe_listeners").paginate(
            LoadBalancerArn=lb["LoadBalancerArn"]
        )
        for listener in pages.search("Listeners[]"):
            listener["_lb_name"] = lb["LoadBalancerName"]
            yield listener


def _listener_certificates(r: Reader, item: Item) -> None:
    """The default and SNI certificates of a TLS listener (DescribeListeners names only the
    default one)."""
    if item.get("Protocol") not in _TLS_PROTOCOLS:
        return
    pages = r.client.get_paginator("describe_listener_certificates").paginate(
        ListenerArn=item["ListenerArn"]
    )
    item["_certificates"] = sorted(
        {str(c["CertificateArn"]) for c in pages.search("Certificates[]") if c}
    )


def _action(a: Item) -> Item:
    redirect = a.get("RedirectConfig") or {}
    fixed = a.get("FixedResponseConfig") or {}
    forward = a.get("ForwardConfig") or {}
    groups = [g["TargetGroupArn"] for g in forward.get("TargetGroups", [])]
    return {
        "type": a.get("Type"),
        "order": a.get("Order"),
        "target_groups": sorted(
            {*groups, *([a["TargetGroupArn"]] if a.get("TargetGroupArn") else [])}
        ),
        "redirect": {
            "protocol": redirect.get("Protocol"),
            "port": redirect.get("Port"),
            "host": redirect.get("Host"),
            "status_code": redirect.get("StatusCode"),
        }
        if redirect
        else None,
        "fixed_response_status": fixed.get("StatusCode"),
        "authenticate": a.get("Type") in ("authenticate-oidc", "authenticate-cognito"),
    }


def _listener(r: Reader, li: Item) -> Found:
    tls = li.get("Protocol") in _TLS_PROTOCOLS
    # moto reports a policy on plain HTTP listeners too; AWS does not. Only TLS listeners have one.
    policy = li.get("SslPolicy") if tls else None
    certs = li.get("_certificates")
    if certs is None:
        certs = sorted(str(c["CertificateArn"]) for c in li.get("Certificates", []) if c)
    return Found(
        name=f"{li.get('_lb_name')}:{li.get('Port')}",
        tags=li.get("_tags", {}),
        attrs={
            "load_balancer_arn": li.get("LoadBalancerArn"),
            "protocol": li.get("Protocol"),
            "port": li.get("Port"),
            "ssl_policy": policy,
            # The lowest TLS version the policy accepts ("1.0" … "1.3"); None for plain listeners.
            "min_tls_version": elb_min_tls(policy) if tls else None,
            # ACM / IAM certificate ARNs served by the listener (default and SNI).
            "certificates": certs if tls else [],
            "alpn_policy": sorted(li.get("AlpnPolicy") or []),
            "default_actions": sorted(
                (_action(a) for a in li.get("DefaultActions", [])),
                key=lambda a: (a["order"] or 0, str(a["type"])),
            ),
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
        ResourceSpec(
            "AWS::ElasticLoadBalancingV2::Listener",
            "describe_listeners",
            "Listeners",
            key=lambda r, li: str(li["ListenerArn"]),
            build=_listener,
            lister=_listeners,
            enrich=_listener_certificates,
            enrich_batch=_elb_tags("ListenerArn"),
            batch=20,
        ),
    ),
    # "Request throttling for the Elastic Load Balancing API": non-mutating actions, a bucket
    # of 40 tokens refilled at 10 a second, per account and region.
    limits=ApiLimits({"Describe*": RateLimit(40, 10)}),
)

# --- Classic ELB ---------------------------------------------------------------------------


def _classic_tags(r: Reader, items: list[Item]) -> None:
    """DescribeTags for up to 20 classic load balancers in one call."""
    resp = r.client.describe_tags(LoadBalancerNames=[i["LoadBalancerName"] for i in items])
    tags = {str(d["LoadBalancerName"]): tag_dict(d.get("Tags")) for d in resp["TagDescriptions"]}
    for i in items:
        i["_tags"] = tags.get(i["LoadBalancerName"], {})


def _classic_policies(r: Reader, item: Item) -> None:
    """The load balancer's own policies: which predefined TLS policy each negotiation policy
    references, or, for a custom one, which protocols it enables."""
    resp = r.client.describe_load_balancer_policies(LoadBalancerName=item["LoadBalancerName"])
    policies: dict[str, Item] = {}
    for p in resp.get("PolicyDescriptions", []):
        attrs = {
            str(a.get("AttributeName")): a.get("AttributeValue")
            for a in p.get("PolicyAttributeDescriptions", [])
        }
        reference = attrs.get("Reference-Security-Policy")
        if reference:
            min_tls = elb_min_tls(reference)
        else:
            enabled = [
                v
                for name, v in (
                    ("Protocol-SSLv3", "SSLv3"),
                    ("Protocol-TLSv1", "1.0"),
                    ("Protocol-TLSv1.1", "1.1"),
                    ("Protocol-TLSv1.2", "1.2"),
                )
                if str(attrs.get(name, "")).lower() == "true"
            ]
            min_tls = enabled[0] if enabled else None
        policies[str(p.get("PolicyName"))] = {
            "type": p.get("PolicyTypeName"),
            "reference": reference,
            "min_tls_version": min_tls,
        }
    item["_policies"] = policies


# A TLS listener without a negotiation policy gets the default predefined one (Classic Load
# Balancers guide, "Predefined SSL security policies").
_CLASSIC_DEFAULT_POLICY = "ELBSecurityPolicy-2016-08"


def _classic_listener(li: Item, policies: dict[str, Item]) -> Item:
    listener = li.get("Listener") or {}
    names = sorted(li.get("PolicyNames", []))
    tls = listener.get("Protocol", "").upper() in _TLS_PROTOCOLS
    negotiation = [
        policies[n]
        for n in names
        if (policies.get(n) or {}).get("type") == "SSLNegotiationPolicyType"
    ]
    if not tls:
        ssl_policy, min_tls = None, None
    elif negotiation:
        ssl_policy = negotiation[0]["reference"] or "custom"
        min_tls = negotiation[0]["min_tls_version"]
    else:
        ssl_policy, min_tls = _CLASSIC_DEFAULT_POLICY, elb_min_tls(_CLASSIC_DEFAULT_POLICY)
    return {
        "protocol": listener.get("Protocol"),
        "port": listener.get("LoadBalancerPort"),
        "instance_protocol": listener.get("InstanceProtocol"),
        "instance_port": listener.get("InstancePort"),
        "certificate": listener.get("SSLCertificateId") if tls else None,
        "policies": names,
        "ssl_policy": ssl_policy,
        "min_tls_version": min_tls,
    }


def _classic(r: Reader, lb: Item) -> Found:
    policies = lb.get("_policies", {})
    listeners = sorted(
        (_classic_listener(li, policies) for li in lb.get("ListenerDescriptions", [])),
        key=lambda x: x["port"] or 0,
    )
    tls = [x for x in listeners if x["protocol"] and x["protocol"].upper() in _TLS_PROTOCOLS]
    scheme = lb.get("Scheme")
    return Found(
        name=lb["LoadBalancerName"],
        tags=lb.get("_tags", {}),
        attrs={
            "scheme": scheme,
            "dns_name": lb.get("DNSName"),
            "vpc_id": lb.get("VPCId"),
            "availability_zones": sorted(lb.get("AvailabilityZones", [])),
            "subnets": sorted(lb.get("Subnets", [])),
            "security_groups": sorted(lb.get("SecurityGroups", [])),
            "instances": sorted(
                i["InstanceId"] for i in lb.get("Instances", []) if "InstanceId" in i
            ),
            "listeners": listeners,
            # The weakest minimum across its TLS listeners; None without any (or when one's
            # policy is not recognised).
            "min_tls_version": _lowest([x["min_tls_version"] for x in tls]) if tls else None,
            "certificates": sorted({x["certificate"] for x in tls if x["certificate"]}),
        },
        public=None if scheme is None else scheme == "internet-facing",
    )


ELB = ServiceSpec(
    "elb",
    "elb",
    (
        ResourceSpec(
            "AWS::ElasticLoadBalancing::LoadBalancer",
            "describe_load_balancers",
            "LoadBalancerDescriptions",
            key=lambda r, lb: r.arn(
                "elasticloadbalancing", f"loadbalancer/{lb['LoadBalancerName']}"
            ),
            build=_classic,
            enrich=_classic_policies,
            enrich_batch=_classic_tags,
            batch=20,
        ),
    ),
    # The Elastic Load Balancing API's published limit for non-mutating actions (as ELBv2;
    # classic calls go through their own client and so their own bucket).
    limits=ApiLimits({"Describe*": RateLimit(40, 10)}),
)

# --- CloudFront (global) -------------------------------------------------------------------


def _distribution_tags(r: Reader, item: Item) -> None:
    resp = r.client.list_tags_for_resource(Resource=item["ARN"])
    item["_tags"] = tag_dict((resp.get("Tags") or {}).get("Items"))


def _origin(o: Item) -> Item:
    custom = o.get("CustomOriginConfig") or {}
    return {
        "id": o.get("Id"),
        "domain_name": o.get("DomainName"),
        "s3": "S3OriginConfig" in o,
        "origin_access_control": o.get("OriginAccessControlId") or None,
        "protocol_policy": custom.get("OriginProtocolPolicy"),
        "ssl_protocols": sorted((custom.get("OriginSslProtocols") or {}).get("Items") or []),
    }


def _distribution(r: Reader, d: Item) -> Found:
    viewer = d.get("ViewerCertificate") or {}
    behaviour = d.get("DefaultCacheBehavior") or {}
    return Found(
        name=str(d["Id"]),
        tags=d.get("_tags", {}),
        attrs={
            "id": d["Id"],
            "domain_name": d.get("DomainName"),
            "aliases": sorted((d.get("Aliases") or {}).get("Items") or []),
            "enabled": d.get("Enabled"),
            "status": d.get("Status"),
            "price_class": d.get("PriceClass"),
            "http_version": d.get("HttpVersion"),
            # WAFv2 web ACL ARN (or a WAF Classic id); None when no web ACL protects it.
            "web_acl_id": d.get("WebACLId") or None,
            "viewer_certificate": {
                # moto answers "" for the certificate it does not use; AWS omits it.
                "acm_certificate_arn": viewer.get("ACMCertificateArn") or None,
                "iam_certificate_id": viewer.get("IAMCertificateId") or None,
                "cloudfront_default_certificate": viewer.get("CloudFrontDefaultCertificate"),
                "ssl_support_method": viewer.get("SSLSupportMethod"),
                "minimum_protocol_version": viewer.get("MinimumProtocolVersion"),
            },
            "min_tls_version": cloudfront_min_tls(viewer),
            "certificates": [viewer["ACMCertificateArn"]]
            if viewer.get("ACMCertificateArn")
            else [],
            "viewer_protocol_policy": behaviour.get("ViewerProtocolPolicy"),
            "origins": sorted(
                (_origin(o) for o in (d.get("Origins") or {}).get("Items") or []),
                key=lambda o: str(o["id"]),
            ),
        },
        public=d.get("Enabled"),  # an enabled distribution serves the Internet
    )


CLOUDFRONT = ServiceSpec(
    "cloudfront",
    "cloudfront",
    (
        ResourceSpec(
            "AWS::CloudFront::Distribution",
            "list_distributions",
            "DistributionList.Items",
            key=lambda r, d: str(
                d.get("ARN") or f"arn:{r.partition}:cloudfront::{r.account}:distribution/{d['Id']}"
            ),
            build=_distribution,
            enrich=_distribution_tags,
        ),
    ),
    is_global=True,
    # CloudFront publishes no request rate for its read APIs: none (adaptive retries back off).
    limits=None,
)

# --- API Gateway (REST) --------------------------------------------------------------------

# The security policy of an API's default execute-api endpoint, which cannot be chosen (API
# Gateway developer guide, "Choose a security policy for your REST API custom domain"):
# edge-optimized and Regional TLS 1.0, private TLS 1.2. HTTP and WebSocket APIs: TLS 1.2.
_REST_DEFAULT_TLS = {"EDGE": "1.0", "REGIONAL": "1.0", "PRIVATE": "1.2"}
_V2_DEFAULT_TLS = "1.2"


def _apigw_arn(r: Reader, path: str) -> str:
    # API Gateway ARNs carry no account: arn:aws:apigateway:<region>::/restapis/<id>.
    return f"arn:{r.partition}:apigateway:{r.region}::{path}"


def _rest_domains(r: Reader) -> dict[str, list[Item]]:
    """REST API id → the custom domain names mapped to it, with their security policies."""
    out: dict[str, list[Item]] = {}
    domains = r.client.get_paginator("get_domain_names").paginate()
    for d in domains.search("items[]"):
        maps = r.client.get_paginator("get_base_path_mappings").paginate(domainName=d["domainName"])
        for m in maps.search("items[]"):
            policy = d.get("securityPolicy")
            out.setdefault(str(m["restApiId"]), []).append(
                {
                    "endpoint": d["domainName"],
                    "base_path": m.get("basePath"),
                    "stage": m.get("stage"),
                    "security_policy": policy,
                    "min_tls_version": apigw_min_tls(policy),
                    "certificate": d.get("certificateArn") or d.get("regionalCertificateArn"),
                }
            )
    return out


def _rest_apis(r: Reader) -> Iterator[Item]:
    domains = _rest_domains(r)
    for api in r.client.get_paginator("get_rest_apis").paginate().search("items[]"):
        api["_domains"] = domains.get(str(api["id"]), [])
        yield api


def _rest_api(r: Reader, a: Item) -> Found:
    types = sorted((a.get("endpointConfiguration") or {}).get("types") or [])
    default_on = not a.get("disableExecuteApiEndpoint")
    endpoints = list(a.get("_domains", []))
    if default_on:
        own = a.get("securityPolicy")  # an API-level policy, where the API has one
        endpoints.append(
            {
                "endpoint": "execute-api",
                "security_policy": own,
                "min_tls_version": apigw_min_tls(own)
                if own
                else _lowest([_REST_DEFAULT_TLS.get(t) for t in types] or [None]),
            }
        )
    endpoints.sort(key=lambda e: (str(e["endpoint"]), str(e.get("base_path"))))
    policy = a.get("policy")
    return Found(
        name=str(a.get("name") or a["id"]),
        tags=dict(a.get("tags") or {}),
        attrs={
            "api_id": a["id"],
            "endpoint_types": types,
            "execute_api_endpoint": default_on,
            "api_key_source": a.get("apiKeySource"),
            "created": iso(a.get("createdDate")),
            # Resource policies can name principals and conditions: a fingerprint only.
            "policy": r.fingerprint(policy) if policy else None,
            # Every TLS endpoint clients can use (default execute-api, mapped custom domains)
            # with its minimum; min_tls_version is the weakest of them.
            "tls_endpoints": endpoints,
            "min_tls_version": _lowest([e["min_tls_version"] for e in endpoints])
            if endpoints
            else None,
        },
        public=default_on and "PRIVATE" not in types if types else None,
    )


def _rest_stages(r: Reader) -> Iterator[Item]:
    for api in r.client.get_paginator("get_rest_apis").paginate().search("items[]"):
        for stage in r.client.get_stages(restApiId=api["id"]).get("item", []):
            stage["_api_id"] = api["id"]
            yield stage


def _variables(r: Reader, variables: Any) -> dict[str, str]:
    # Stage variables often hold endpoints and tokens: names kept, values fingerprinted.
    return {str(k): r.fingerprint(str(v)) for k, v in (variables or {}).items()}


def _rest_stage(r: Reader, s: Item) -> Found:
    access = s.get("accessLogSettings") or {}
    everything = (s.get("methodSettings") or {}).get("*/*") or {}
    return Found(
        name=f"{s['_api_id']}/{s['stageName']}",
        tags=dict(s.get("tags") or {}),
        attrs={
            "api_id": s["_api_id"],
            "stage_name": s["stageName"],
            "deployment_id": s.get("deploymentId"),
            "access_log_destination": access.get("destinationArn"),
            "access_log_format": access.get("format"),
            # Execution logging for every method: OFF, ERROR or INFO (None: never configured).
            "logging_level": everything.get("loggingLevel"),
            "data_trace_enabled": everything.get("dataTraceEnabled"),
            "metrics_enabled": everything.get("metricsEnabled"),
            "tracing_enabled": s.get("tracingEnabled"),
            "cache_cluster_enabled": s.get("cacheClusterEnabled"),
            "cache_data_encrypted": everything.get("cacheDataEncrypted"),
            "web_acl_arn": s.get("webAclArn"),
            "client_certificate_id": s.get("clientCertificateId"),
            "variables": _variables(r, s.get("variables")),
        },
    )


# "API Gateway quotas for creating, deploying and managing an API": 10 requests a second with
# a burst of 40 per account across all management operations, V1 and V2 alike. The two
# clients pace separately here, so each takes half.
_APIGW_LIMITS = ApiLimits({"Get*": RateLimit(20, 5)})

APIGATEWAY = ServiceSpec(
    "apigateway",
    "apigateway",
    (
        ResourceSpec(
            "AWS::ApiGateway::RestApi",
            "get_rest_apis",
            "items",
            key=lambda r, a: _apigw_arn(r, f"/restapis/{a['id']}"),
            build=_rest_api,
            lister=_rest_apis,
        ),
        ResourceSpec(
            "AWS::ApiGateway::Stage",
            "get_stages",
            "item",
            key=lambda r, s: _apigw_arn(r, f"/restapis/{s['_api_id']}/stages/{s['stageName']}"),
            build=_rest_stage,
            lister=_rest_stages,
        ),
    ),
    limits=_APIGW_LIMITS,
    fanout=4,
)

# --- API Gateway V2 (HTTP and WebSocket) ---------------------------------------------------


def _v2_mappings(r: Reader, domain: str) -> Iterator[Item]:
    token: str | None = None
    chain = PageChain("GetApiMappings: NextToken")
    while True:
        resp = r.client.get_api_mappings(
            DomainName=domain, **({"NextToken": chain.follow(token)} if token else {})
        )
        yield from resp.get("Items", [])
        token = resp.get("NextToken")
        if not token:
            return


def _v2_domains(r: Reader) -> dict[str, list[Item]]:
    """API id → the custom domain names mapped to it, with their security policies."""
    out: dict[str, list[Item]] = {}
    for d in r.client.get_paginator("get_domain_names").paginate().search("Items[]"):
        configs = d.get("DomainNameConfigurations") or []
        policies = [c.get("SecurityPolicy") for c in configs]
        for m in _v2_mappings(r, d["DomainName"]):
            out.setdefault(str(m["ApiId"]), []).append(
                {
                    "endpoint": d["DomainName"],
                    "base_path": m.get("ApiMappingKey"),
                    "stage": m.get("Stage"),
                    "security_policy": policies[0] if len(policies) == 1 else policies or None,
                    "min_tls_version": _lowest([apigw_min_tls(p) for p in policies] or [None]),
                    "certificate": next(
                        (c["CertificateArn"] for c in configs if c.get("CertificateArn")), None
                    ),
                }
            )
    return out


def _v2_apis(r: Reader) -> Iterator[Item]:
    domains = _v2_domains(r)
    for api in r.client.get_paginator("get_apis").paginate().search("Items[]"):
        api["_domains"] = domains.get(str(api["ApiId"]), [])
        yield api


def _v2_api(r: Reader, a: Item) -> Found:
    default_on = not a.get("DisableExecuteApiEndpoint")
    endpoints = list(a.get("_domains", []))
    if default_on:
        endpoints.append(
            {"endpoint": "execute-api", "security_policy": None, "min_tls_version": _V2_DEFAULT_TLS}
        )
    endpoints.sort(key=lambda e: (str(e["endpoint"]), str(e.get("base_path"))))
    cors = a.get("CorsConfiguration") or {}
    return Found(
        name=str(a.get("Name") or a["ApiId"]),
        tags=dict(a.get("Tags") or {}),
        attrs={
            "api_id": a["ApiId"],
            "protocol_type": a.get("ProtocolType"),  # HTTP | WEBSOCKET
            "api_endpoint": a.get("ApiEndpoint"),
            "execute_api_endpoint": default_on,
            "cors_allow_origins": sorted(cors.get("AllowOrigins") or []),
            "created": iso(a.get("CreatedDate")),
            "tls_endpoints": endpoints,
            "min_tls_version": _lowest([e["min_tls_version"] for e in endpoints])
            if endpoints
            else None,
        },
        public=default_on or bool(a.get("_domains")),
    )


def _v2_stages(r: Reader) -> Iterator[Item]:
    for api in r.client.get_paginator("get_apis").paginate().search("Items[]"):
        pages = r.client.get_paginator("get_stages").paginate(ApiId=api["ApiId"])
        for stage in pages.search("Items[]"):
            stage["_api_id"] = api["ApiId"]
            yield stage


def _v2_stage(r: Reader, s: Item) -> Found:
    access = s.get("AccessLogSettings") or {}
    route = s.get("DefaultRouteSettings") or {}
    return Found(
        name=f"{s['_api_id']}/{s['StageName']}",
        tags=dict(s.get("Tags") or {}),
        attrs={
            "api_id": s["_api_id"],
            "stage_name": s["StageName"],
            "deployment_id": s.get("DeploymentId"),
            "auto_deploy": s.get("AutoDeploy"),
            "access_log_destination": access.get("DestinationArn"),
            "access_log_format": access.get("Format"),
            # Execution logging (WebSocket APIs only): OFF, ERROR or INFO.
            "logging_level": route.get("LoggingLevel"),
            "data_trace_enabled": route.get("DataTraceEnabled"),
            "metrics_enabled": route.get("DetailedMetricsEnabled"),
            "throttling_burst_limit": route.get("ThrottlingBurstLimit"),
            "throttling_rate_limit": route.get("ThrottlingRateLimit"),
            "client_certificate_id": s.get("ClientCertificateId"),
            "variables": _variables(r, s.get("StageVariables")),
        },
    )


APIGATEWAYV2 = ServiceSpec(
    "apigatewayv2",
    "apigatewayv2",
    (
        ResourceSpec(
            "AWS::ApiGatewayV2::Api",
            "get_apis",
            "Items",
            key=lambda r, a: _apigw_arn(r, f"/apis/{a['ApiId']}"),
            build=_v2_api,
            lister=_v2_apis,
        ),
        ResourceSpec(
            "AWS::ApiGatewayV2::Stage",
            "get_stages",
            "Items",
            key=lambda r, s: _apigw_arn(r, f"/apis/{s['_api_id']}/stages/{s['StageName']}"),
            build=_v2_stage,
            lister=_v2_stages,
        ),
    ),
    limits=_APIGW_LIMITS,
    fanout=4,
)

# --- Route 53 (global) ---------------------------------------------------------------------


def _zone_id(z: Item) -> str:
    return str(z["Id"]).rsplit("/", 1)[-1]  # "/hostedzone/Z123" → "Z123"


def _zone_tags(r: Reader, items: list[Item]) -> None:
    """ListTagsForResources for up to 10 hosted zones in one call."""
    resp = r.client.list_tags_for_resources(
        ResourceType="hostedzone", ResourceIds=[_zone_id(z) for z in items]
    )
    tags = {str(s["ResourceId"]): tag_dict(s.get("Tags")) for s in resp.get("ResourceTagSets", [])}
    for z in items:
        z["_tags"] = tags.get(_zone_id(z), {})


def _hosted_zone(r: Reader, z: Item) -> Found:
    config = z.get("Config") or {}
    private = config.get("PrivateZone")
    return Found(
        name=str(z.get("Name", "")).rstrip(".") or _zone_id(z),
        tags=z.get("_tags", {}),
        attrs={
            "zone_id": _zone_id(z),
            "domain_name": z.get("Name"),
            "private": private,
            "record_count": z.get("ResourceRecordSetCount"),
            "comment": config.get("Comment"),
        },
        public=None if private is None else not private,  # a public zone answers the Internet
    )


ROUTE53 = ServiceSpec(
    "route53",
    "route53",
    (
        ResourceSpec(
            "AWS::Route53::HostedZone",
            "list_hosted_zones",
            "HostedZones",
            key=lambda r, z: f"arn:{r.partition}:route53:::hostedzone/{_zone_id(z)}",
            build=_hosted_zone,
            enrich_batch=_zone_tags,
            batch=10,
        ),
    ),
    is_global=True,
    # "Quotas on Route 53 API requests": five requests a second per account.
    limits=ApiLimits({"*": RateLimit(5, 5)}),
)

# --- WAFv2 ---------------------------------------------------------------------------------


def _waf_client(r: Reader, scope: str) -> Any:
    # CLOUDFRONT-scope web ACLs live in us-east-1 whatever the home region is.
    return r.client if scope == "REGIONAL" else r.client_for("wafv2", "us-east-1")


def _web_acls(scope: str) -> Callable[[Reader], Iterator[Item]]:
    def lister(r: Reader) -> Iterator[Item]:
        client = _waf_client(r, scope)
        marker: str | None = None
        chain = PageChain("ListWebACLs: NextMarker")
        while True:  # ListWebACLs has no botocore paginator: NextMarker by hand
            resp = client.list_web_acls(
                Scope=scope, Limit=100, **({"NextMarker": chain.follow(marker)} if marker else {})
            )
            for acl in resp.get("WebACLs", []):
                acl["_scope"] = scope
                yield acl
            marker = resp.get("NextMarker")
            if not marker or not resp.get("WebACLs"):
                return

    return lister


def _web_acl_detail(r: Reader, item: Item) -> None:
    client = _waf_client(r, item["_scope"])
    item["_acl"] = client.get_web_acl(Name=item["Name"], Scope=item["_scope"], Id=item["Id"])[
        "WebACL"
    ]
    tags = client.list_tags_for_resource(ResourceARN=item["ARN"]).get("TagInfoForResource") or {}
    item["_tags"] = tag_dict(tags.get("TagList"))
    logging = optional_get(
        client.get_logging_configuration, ("WAFNonexistentItemException",), ResourceArn=item["ARN"]
    )
    item["_logging"] = sorted(
        ((logging or {}).get("LoggingConfiguration") or {}).get("LogDestinationConfigs") or []
    )


def _waf_rule(rule: Item) -> Item:
    statement = rule.get("Statement") or {}
    managed = statement.get("ManagedRuleGroupStatement") or {}
    action = rule.get("Action") or rule.get("OverrideAction") or {}
    return {
        "name": rule.get("Name"),
        "priority": rule.get("Priority"),
        "action": next(iter(action), None),  # allow | block | count | none (use the group's)
        "statement": next(iter(statement), None),
        "managed_rule_group": f"{managed['VendorName']}/{managed['Name']}"
        if managed.get("VendorName")
        else None,
    }


def _web_acl(r: Reader, item: Item) -> Found:
    acl = item.get("_acl") or {}
    return Found(
        name=str(item["Name"]),
        tags=item.get("_tags", {}),
        attrs={
            "id": item["Id"],
            "scope": item["_scope"],
            "description": item.get("Description") or None,
            "default_action": next(iter(acl.get("DefaultAction") or {}), None),  # Allow | Block
            "rules": sorted(
                (_waf_rule(x) for x in acl.get("Rules", [])), key=lambda x: x["priority"] or 0
            ),
            "capacity": acl.get("Capacity"),
            "logging_destinations": item.get("_logging", []),
        },
    )


def _waf_spec(name: str, scope: str, *, is_global: bool) -> ServiceSpec:
    return ServiceSpec(
        name,
        "wafv2",
        (
            ResourceSpec(
                "AWS::WAFv2::WebACL",
                "list_web_acls",
                "WebACLs",
                key=lambda r, a: str(a["ARN"]),
                build=_web_acl,
                lister=_web_acls(scope),
                enrich=_web_acl_detail,
            ),
        ),
        is_global=is_global,
        # AWS WAF publishes no request rates for its read APIs: none.
        limits=None,
        fanout=4,
    )


WAFV2 = _waf_spec("wafv2", "REGIONAL", is_global=False)
WAFV2_CLOUDFRONT = _waf_spec("wafv2-cloudfront", "CLOUDFRONT", is_global=True)

REGIONAL: tuple[ServiceSpec, ...] = (VPC, ELBV2, ELB, APIGATEWAY, APIGATEWAYV2, WAFV2)
GLOBAL: tuple[ServiceSpec, ...] = (CLOUDFRONT, ROUTE53, WAFV2_CLOUDFRONT)
