"""The seeded estate's network types (see driftscan/providers/aws/collect/services/network.py).

Region 0 is the compliant configuration (TLS 1.2 policies, a flow log, logged API stages, a
web ACL with rules), except for the demo incident: its load balancer's HTTPS listener serves an
ACM certificate that expired overnight. The other regions drift: SSH open to the world in a
network ACL, TLS 1.0 policies, no flow log, unlogged stages, an idle Elastic IP.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from driftscan.sandbox.awsestate.base import Estate, Region, client

PCI = {"Key": "pci", "Value": "true"}
OWNER = {"Key": "owner", "Value": "web"}
INCIDENT = {"Key": "incident", "Value": "certificate-expired-overnight"}
WORLD = "0.0.0.0/0"
# moto refuses to import a certificate that has already expired, so the incident's certificate
# is imported with a validity ending a moment later and the seeding waits until it has passed.
EXPIRES_IN_S = 2.0


def self_signed(host: str, not_after: datetime) -> tuple[bytes, bytes]:
    """A throwaway self-signed certificate and its key (PEM), made at run time."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.now(UTC) - timedelta(days=90))
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), pem_key


def _import_cert(acm: Any, host: str, not_after: datetime, tags: list[dict[str, str]]) -> str:
    cert, key = self_signed(host, not_after)
    return str(
        acm.import_certificate(Certificate=cert, PrivateKey=key, Tags=tags)["CertificateArn"]
    )


def _arn(est: Estate, region: str, resource: str) -> str:
    return f"arn:aws:ec2:{region}:{est.account}:{resource}"


def seed(endpoint_url: str, est: Estate) -> None:
    """Create this domain's resources in every region of `est` and record their keys."""
    # The incident first: its certificate must have expired by the time the seeding returns.
    expires = datetime.now(UTC) + timedelta(seconds=EXPIRES_IN_S)
    first = est.regions[0]
    expired = _import_cert(
        client("acm", endpoint_url, first), f"pay.{first}.acme.example", expires, [INCIDENT]
    )
    valid: dict[str, str] = {}
    for region in est.regions:
        ctx = est.context[region]
        acm = client("acm", endpoint_url, region)
        valid[region] = _import_cert(
            acm, f"www.{region}.acme.example", datetime.now(UTC) + timedelta(days=365), [OWNER]
        )
        _vpc_parts(endpoint_url, est, region, ctx)
        _load_balancers(endpoint_url, est, region, ctx, valid[region], expired)
        _api_gateway(endpoint_url, est, region, ctx, valid[region])
        _waf_regional(endpoint_url, est, region, ctx)
    _edge(endpoint_url, est, valid[first])
    time.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds() + 0.1))


# --- VPC plumbing --------------------------------------------------------------------------


def _vpc_parts(endpoint_url: str, est: Estate, region: str, ctx: Region) -> None:
    ec2 = client("ec2", endpoint_url, region)
    good = ctx.index == 0
    vpc = ctx.vpc_id

    acl = ec2.create_network_acl(
        VpcId=vpc,
        TagSpecifications=[
            {
                "ResourceType": "network-acl",
                "Tags": [{"Key": "Name", "Value": f"web-{region}"}, PCI],
            }
        ],
    )["NetworkAcl"]["NetworkAclId"]
    entries: list[tuple[int, int, str]] = [(100, 443, WORLD), (110, 22, "10.0.0.0/8")]
    if not good:  # drift: SSH from anywhere, ahead of the rule that meant to deny it
        entries += [(90, 22, WORLD), (120, 22, WORLD)]
    for number, port, cidr in entries:
        ec2.create_network_acl_entry(
            NetworkAclId=acl,
            RuleNumber=number,
            Protocol="6",
            RuleAction="deny" if number == 120 else "allow",
            Egress=False,
            CidrBlock=cidr,
            PortRange={"From": port, "To": port},
        )
    est.add("AWS::EC2::NetworkAcl", _arn(est, region, f"network-acl/{acl}"))

    igw = ec2.create_internet_gateway(
        TagSpecifications=[
            {
                "ResourceType": "internet-gateway",
                "Tags": [{"Key": "Name", "Value": f"igw-{region}"}],
            }
        ]
    )["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    est.add("AWS::EC2::InternetGateway", _arn(est, region, f"internet-gateway/{igw}"))

    eip = ec2.allocate_address(
        Domain="vpc",
        TagSpecifications=[
            {"ResourceType": "elastic-ip", "Tags": [{"Key": "Name", "Value": f"nat-{region}"}]}
        ],
    )["AllocationId"]
    est.add("AWS::EC2::EIP", _arn(est, region, f"elastic-ip/{eip}"))
    if not good:  # a zombie: allocated, billed, attached to nothing
        idle = ec2.allocate_address(Domain="vpc")["AllocationId"]
        est.add("AWS::EC2::EIP", _arn(est, region, f"elastic-ip/{idle}"))
    nat = ec2.create_nat_gateway(
        SubnetId=ctx.subnet_ids[0],
        AllocationId=eip,
        TagSpecifications=[
            {"ResourceType": "natgateway", "Tags": [{"Key": "Name", "Value": f"nat-{region}"}]}
        ],
    )["NatGateway"]["NatGatewayId"]
    est.add("AWS::EC2::NatGateway", _arn(est, region, f"natgateway/{nat}"))

    tables = {}
    for tier, subnet, target in (
        ("public", ctx.subnet_ids[0], {"GatewayId": igw}),
        ("private", ctx.subnet_ids[1], {"NatGatewayId": nat}),
    ):
        rt = ec2.create_route_table(
            VpcId=vpc,
            TagSpecifications=[
                {
                    "ResourceType": "route-table",
                    "Tags": [{"Key": "Name", "Value": f"{tier}-{region}"}],
                }
            ],
        )["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=rt, DestinationCidrBlock=WORLD, **target)
        ec2.associate_route_table(RouteTableId=rt, SubnetId=subnet)
        tables[tier] = rt
        est.add("AWS::EC2::RouteTable", _arn(est, region, f"route-table/{rt}"))

    # The S3 gateway endpoint: region 0 restricts it to its own bucket, the others keep the
    # allow-everything default.
    restricted = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": f"arn:aws:s3:::{ctx.bucket}/*",
            }
        ],
    }
    endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc,
        ServiceName=f"com.amazonaws.{region}.s3",
        VpcEndpointType="Gateway",
        RouteTableIds=[tables["private"]],
        **({"PolicyDocument": json.dumps(restricted)} if good else {}),
        TagSpecifications=[
            {"ResourceType": "vpc-endpoint", "Tags": [{"Key": "Name", "Value": f"s3-{region}"}]}
        ],
    )["VpcEndpoint"]["VpcEndpointId"]
    est.add("AWS::EC2::VPCEndpoint", _arn(est, region, f"vpc-endpoint/{endpoint}"))

    if good:  # only region 0's VPC records its traffic
        flow = ec2.create_flow_logs(
            ResourceIds=[vpc],
            ResourceType="VPC",
            TrafficType="ALL",
            LogDestinationType="s3",
            LogDestination=f"arn:aws:s3:::{ctx.bucket}",  # moto: no key prefix
        )["FlowLogIds"][0]
        est.add("AWS::EC2::FlowLog", _arn(est, region, f"vpc-flow-log/{flow}"))


# --- load balancers ------------------------------------------------------------------------


def _load_balancers(
    endpoint_url: str, est: Estate, region: str, ctx: Region, cert: str, expired: str
) -> None:
    good = ctx.index == 0
    elb = client("elbv2", endpoint_url, region)
    # The demo incident sits on region 0: a TLS 1.2 listener whose certificate expired overnight.
    https = elb.create_listener(
        LoadBalancerArn=ctx.load_balancer_arn,
        Protocol="HTTPS",
        Port=443,
        SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06" if good else "ELBSecurityPolicy-2016-08",
        Certificates=[{"CertificateArn": expired if good else cert}],
        DefaultActions=[{"Type": "forward", "TargetGroupArn": ctx.target_group_arn}],
        Tags=[PCI, *([INCIDENT] if good else [])],
    )["Listeners"][0]
    est.add("AWS::ElasticLoadBalancingV2::Listener", https["ListenerArn"])
    for listener in elb.describe_listeners(LoadBalancerArn=ctx.load_balancer_arn)["Listeners"]:
        est.add("AWS::ElasticLoadBalancingV2::Listener", listener["ListenerArn"])  # core's :80

    classic = client("elb", endpoint_url, region)
    name = f"legacy-{ctx.index}"
    classic.create_load_balancer(
        LoadBalancerName=name,
        Listeners=[
            {
                "Protocol": "HTTP",
                "LoadBalancerPort": 80,
                "InstanceProtocol": "HTTP",
                "InstancePort": 80,
            },
            {
                "Protocol": "HTTPS",
                "LoadBalancerPort": 443,
                "InstanceProtocol": "HTTP",
                "InstancePort": 80,
                "SSLCertificateId": cert,
            },
        ],
        Subnets=[ctx.subnet_ids[0]],
        SecurityGroups=[ctx.security_group_id],
        Tags=[PCI],
    )
    classic.create_load_balancer_policy(
        LoadBalancerName=name,
        PolicyName="tls-policy",
        PolicyTypeName="SSLNegotiationPolicyType",
        PolicyAttributes=[
            {
                "AttributeName": "Reference-Security-Policy",
                "AttributeValue": "ELBSecurityPolicy-TLS-1-2-2017-01"
                if good
                else "ELBSecurityPolicy-2016-08",
            }
        ],
    )
    classic.set_load_balancer_policies_of_listener(
        LoadBalancerName=name, LoadBalancerPort=443, PolicyNames=["tls-policy"]
    )
    classic.register_instances_with_load_balancer(
        LoadBalancerName=name, Instances=[{"InstanceId": ctx.instance_id}]
    )
    est.add(
        "AWS::ElasticLoadBalancing::LoadBalancer",
        f"arn:aws:elasticloadbalancing:{region}:{est.account}:loadbalancer/{name}",
    )


# --- API Gateway ---------------------------------------------------------------------------


def _api_gateway(endpoint_url: str, est: Estate, region: str, ctx: Region, cert: str) -> None:
    good = ctx.index == 0
    apigw = f"arn:aws:apigateway:{region}::"
    logs = f"arn:aws:logs:{region}:{est.account}:log-group:api-access-{ctx.index}"
    ag = client("apigateway", endpoint_url, region)
    api = ag.create_rest_api(
        name=f"payments-api-{ctx.index}",
        endpointConfiguration={"types": ["REGIONAL"]},
        # Region 0 is reached only through its TLS 1.2 custom domain; the others keep the
        # default execute-api endpoint, which accepts TLS 1.0.
        disableExecuteApiEndpoint=good,
        tags={"pci": "true"},
    )["id"]
    root = ag.get_resources(restApiId=api)["items"][0]["id"]
    ag.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    ag.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
    deployment = ag.create_deployment(restApiId=api)["id"]
    ag.create_stage(
        restApiId=api,
        stageName="prod",
        deploymentId=deployment,
        # A secret where stage variables can carry one: it must only ever be fingerprinted.
        variables={"backend_token": est.canary, "backend_host": "payments.internal"},
        tags={"pci": "true"},
    )
    if good:
        ag.update_stage(
            restApiId=api,
            stageName="prod",
            patchOperations=[
                {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": logs},
                {
                    "op": "replace",
                    "path": "/accessLogSettings/format",
                    "value": "$context.requestId",
                },
                {"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"},
            ],
        )
        domain = f"api.{region}.acme.example"
        ag.create_domain_name(
            domainName=domain,
            regionalCertificateArn=cert,
            endpointConfiguration={"types": ["REGIONAL"]},
            securityPolicy="TLS_1_2",
        )
        ag.create_base_path_mapping(domainName=domain, restApiId=api, stage="prod")
    est.add("AWS::ApiGateway::RestApi", f"{apigw}/restapis/{api}")
    est.add("AWS::ApiGateway::Stage", f"{apigw}/restapis/{api}/stages/prod")

    v2 = client("apigatewayv2", endpoint_url, region)
    http = v2.create_api(
        Name=f"payments-http-{ctx.index}", ProtocolType="HTTP", Tags={"pci": "true"}
    )
    v2.create_stage(
        ApiId=http["ApiId"],
        StageName="$default",
        AutoDeploy=True,
        **(
            {"AccessLogSettings": {"DestinationArn": logs, "Format": "$context.requestId"}}
            if good
            else {}
        ),
    )
    est.add("AWS::ApiGatewayV2::Api", f"{apigw}/apis/{http['ApiId']}")
    est.add("AWS::ApiGatewayV2::Stage", f"{apigw}/apis/{http['ApiId']}/stages/$default")


# --- WAFv2, CloudFront, Route 53 -----------------------------------------------------------

_VISIBILITY = {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": "m"}
_MANAGED = [
    {
        "Name": "aws-common",
        "Priority": 1,
        "Statement": {
            "ManagedRuleGroupStatement": {
                "VendorName": "AWS",
                "Name": "AWSManagedRulesCommonRuleSet",
            }
        },
        "OverrideAction": {"None": {}},
        "VisibilityConfig": _VISIBILITY,
    }
]


def _web_acl(waf: Any, name: str, scope: str, protected: bool) -> dict[str, str]:
    acl: dict[str, str] = waf.create_web_acl(
        Name=name,
        Scope=scope,
        DefaultAction={"Allow": {}},
        Rules=_MANAGED if protected else [],
        VisibilityConfig=_VISIBILITY,
        Tags=[PCI],
    )["Summary"]
    if protected:
        waf.put_logging_configuration(
            LoggingConfiguration={
                "ResourceArn": acl["ARN"],
                "LogDestinationConfigs": [
                    f"arn:aws:logs:us-east-1:{acl['ARN'].split(':')[4]}:log-group:aws-waf-logs-{name}"
                ],
            }
        )
    return acl


def _waf_regional(endpoint_url: str, est: Estate, region: str, ctx: Region) -> None:
    waf = client("wafv2", endpoint_url, region)
    acl = _web_acl(waf, f"web-{ctx.index}", "REGIONAL", ctx.index == 0)
    waf.associate_web_acl(WebACLArn=acl["ARN"], ResourceArn=ctx.load_balancer_arn)
    est.add("AWS::WAFv2::WebACL", acl["ARN"])


def _edge(endpoint_url: str, est: Estate, cert: str) -> None:
    waf = client("wafv2", endpoint_url, "us-east-1")  # CLOUDFRONT scope lives in us-east-1
    edge_acl = _web_acl(waf, "edge", "CLOUDFRONT", True)
    est.add("AWS::WAFv2::WebACL", edge_acl["ARN"])

    cf = client("cloudfront", endpoint_url, "us-east-1")
    first = est.context[est.regions[0]]
    for n, (viewer, acl) in enumerate(
        (
            (
                {
                    "ACMCertificateArn": cert,
                    "SSLSupportMethod": "sni-only",
                    "MinimumProtocolVersion": "TLSv1.2_2021",
                },
                edge_acl["ARN"],
            ),
            ({"CloudFrontDefaultCertificate": True, "MinimumProtocolVersion": "TLSv1"}, ""),
        )
    ):
        config = {
            "CallerReference": f"driftscan-sandbox-{n}",
            "Comment": "static assets" if n == 0 else "legacy site",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "assets",
                        "DomainName": f"{first.bucket}.s3.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "assets",
                "ViewerProtocolPolicy": "redirect-to-https" if n == 0 else "allow-all",
                "MinTTL": 0,
            },
            "ViewerCertificate": viewer,
            "WebACLId": acl,
        }
        dist = cf.create_distribution_with_tags(
            DistributionConfigWithTags={
                "DistributionConfig": config,
                "Tags": {"Items": [PCI]},
            }
        )["Distribution"]
        est.add("AWS::CloudFront::Distribution", dist["ARN"])

    r53 = client("route53", endpoint_url, "us-east-1")
    public = r53.create_hosted_zone(Name="acme.example", CallerReference="driftscan-public")
    private = r53.create_hosted_zone(
        Name="internal.acme.example",
        CallerReference="driftscan-private",
        HostedZoneConfig={"PrivateZone": True, "Comment": "service discovery"},
        VPC={"VPCRegion": est.regions[0], "VPCId": first.vpc_id},
    )
    for zone in (public, private):
        zone_id = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
        r53.change_tags_for_resource(
            ResourceType="hostedzone",
            ResourceId=zone_id,
            AddTags=[{"Key": "owner", "Value": "net"}],
        )
        est.add("AWS::Route53::HostedZone", f"arn:aws:route53:::hostedzone/{zone_id}")
