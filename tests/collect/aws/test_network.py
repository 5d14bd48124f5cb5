"""Network and edge types against the seeded moto server: VPC plumbing, load balancers and
listeners, CloudFront, API Gateway, Route 53, WAFv2, and the expired-certificate incident."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from driftscan.collect.base import run_source
from driftscan.model import Resource, SourceRun
from driftscan.providers.aws import AwsSource
from driftscan.providers.aws.collect.services.network import (
    apigw_min_tls,
    cloudfront_min_tls,
    elb_min_tls,
)
from driftscan.providers.aws.keys import identify
from driftscan.sandbox.aws import ACCOUNT, AwsSandbox
from driftscan.sandbox.awsestate.base import client
from driftscan.store import Store
from tests.compliance.conftest import check, statuses
from tests.conftest import TEST_FP

from .conftest import canned

EAST, WEST = "us-east-1", "eu-west-1"  # region 0 (compliant) and region 1 (drifted)


@pytest.fixture(scope="module")
def run(sandbox: AwsSandbox) -> SourceRun:
    """One full collection of the sandbox, shared by the read-only assertions of this module."""
    sandbox.proxy.reset()
    cfg = AwsSource(**sandbox.source(concurrency=16, max_attempts=3))
    result = run_source(cfg, fingerprint=TEST_FP)
    assert result.status == "ok", [(s.name, s.reason, s.detail) for s in result.slices]
    return result


def of(run: SourceRun, type_: str, region: str | None = None) -> list[Resource]:
    return [r for r in run.resources if r.type == type_ and region in (None, r.region)]


def named(run: SourceRun, type_: str, name: str) -> Resource:
    [found] = [r for r in run.resources if r.type == type_ and r.name == name]
    return found


def main_vpc(run: SourceRun, region: str) -> str:
    return str(named(run, "AWS::EC2::VPC", f"main-{region}").attrs["vpc_id"])


class TestVpcPlumbing:
    def test_network_acls(self, run: SourceRun) -> None:
        """NACL entries come in evaluation order with ports and CIDRs; region 1's lets SSH in from anywhere."""
        good = named(run, "AWS::EC2::NetworkAcl", f"web-{EAST}")
        bad = named(run, "AWS::EC2::NetworkAcl", f"web-{WEST}")
        assert good.key.startswith(f"arn:aws:ec2:{EAST}:{ACCOUNT}:network-acl/acl-")
        assert good.tags["pci"] == "true" and good.attrs["is_default"] is False
        assert good.attrs["vpc_id"] == main_vpc(run, EAST)
        ingress = [e for e in bad.attrs["entries"] if not e["egress"]]
        assert [(e["rule_number"], e["from_port"], e["cidr"], e["action"]) for e in ingress] == [
            (90, 22, "0.0.0.0/0", "allow"),
            (100, 443, "0.0.0.0/0", "allow"),
            (110, 22, "10.0.0.0/8", "allow"),
            (120, 22, "0.0.0.0/0", "deny"),
        ]
        assert all(e["protocol"] == "6" for e in ingress)
        assert any(r.attrs["is_default"] for r in of(run, "AWS::EC2::NetworkAcl", EAST))

    def test_route_tables_gateways_and_addresses(self, run: SourceRun) -> None:
        """Public subnets route 0.0.0.0/0 to the IGW, private ones to the NAT gateway and its Elastic IP."""
        for region in (EAST, WEST):
            vpc = main_vpc(run, region)
            public = named(run, "AWS::EC2::RouteTable", f"public-{region}")
            private = named(run, "AWS::EC2::RouteTable", f"private-{region}")
            igw = named(run, "AWS::EC2::InternetGateway", f"igw-{region}")
            nat = named(run, "AWS::EC2::NatGateway", f"nat-{region}")
            assert public.attrs["default_route"] == igw.attrs["internet_gateway_id"]
            assert private.attrs["default_route"] == nat.attrs["nat_gateway_id"]
            assert ("10.0.0.0/16", "local") in {
                (x["destination"], x["target"]) for x in public.attrs["routes"]
            }
            assert len(public.attrs["subnets"]) == 1 and public.attrs["main"] is False
            assert igw.attrs["attachments"] == [{"vpc_id": vpc, "state": "available"}]
            assert nat.attrs["vpc_id"] == vpc and nat.attrs["state"] == "available"
            eip = named(run, "AWS::EC2::EIP", f"nat-{region}")
            assert (
                eip.key == f"arn:aws:ec2:{region}:{ACCOUNT}:elastic-ip/{eip.attrs['allocation_id']}"
            )
            assert eip.attrs["public_ip"] in nat.attrs["public_ips"]
            assert eip.attrs["associated"] is True and eip.public is True
        idle = [r for r in of(run, "AWS::EC2::EIP", WEST) if not r.attrs["associated"]]
        assert len(idle) == 1 and idle[0].attrs["instance_id"] is None  # "" from moto is null
        assert all(r.attrs["associated"] for r in of(run, "AWS::EC2::EIP", EAST))

    def test_flow_logs_and_endpoints(self, run: SourceRun) -> None:
        """Region 0's VPC has an ACTIVE flow log to S3, region 1 none; endpoint policies are fingerprinted."""
        [flow] = of(run, "AWS::EC2::FlowLog", EAST)
        assert flow.attrs["resource_id"] == main_vpc(run, EAST)
        assert (flow.attrs["traffic_type"], flow.attrs["status"]) == ("ALL", "ACTIVE")
        assert flow.attrs["destination_type"] == "s3"
        assert flow.attrs["destination"] == f"arn:aws:s3:::acme-data-{EAST}"
        assert of(run, "AWS::EC2::FlowLog", WEST) == []
        good = named(run, "AWS::EC2::VPCEndpoint", f"s3-{EAST}")
        bad = named(run, "AWS::EC2::VPCEndpoint", f"s3-{WEST}")
        assert good.attrs["service_name"] == f"com.amazonaws.{EAST}.s3"
        assert good.attrs["endpoint_type"] == "Gateway" and len(good.attrs["route_tables"]) == 1
        assert good.attrs["policy"].startswith("hmac-sha256:")
        assert (good.attrs["policy_full_access"], bad.attrs["policy_full_access"]) == (False, True)


class TestLoadBalancers:
    def test_listener_tls_policy_and_certificates(
        self, run: SourceRun, sandbox: AwsSandbox
    ) -> None:
        """HTTPS listeners carry their policy, its minimum TLS and their certificate ARNs; HTTP ones none."""
        good = named(run, "AWS::ElasticLoadBalancingV2::Listener", "web-lb-0:443")
        bad = named(run, "AWS::ElasticLoadBalancingV2::Listener", "web-lb-1:443")
        plain = named(run, "AWS::ElasticLoadBalancingV2::Listener", "web-lb-0:80")
        lb = named(run, "AWS::ElasticLoadBalancingV2::LoadBalancer", "web-lb-0")
        assert good.attrs["load_balancer_arn"] == lb.key
        assert good.key.startswith(f"arn:aws:elasticloadbalancing:{EAST}:{ACCOUNT}:listener/app/")
        assert (good.attrs["protocol"], good.attrs["port"]) == ("HTTPS", 443)
        assert good.attrs["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
        assert good.attrs["min_tls_version"] == "1.2" and good.tags["pci"] == "true"
        assert (bad.attrs["ssl_policy"], bad.attrs["min_tls_version"]) == (
            "ELBSecurityPolicy-2016-08",
            "1.0",
        )
        assert [a["type"] for a in good.attrs["default_actions"]] == ["forward"]
        assert good.attrs["default_actions"][0]["target_groups"] == [
            named(run, "AWS::ElasticLoadBalancingV2::TargetGroup", "web-tg-0").key
        ]
        assert (plain.attrs["ssl_policy"], plain.attrs["min_tls_version"]) == (None, None)
        assert plain.attrs["certificates"] == []
        [cert] = good.attrs["certificates"]
        assert cert.startswith(f"arn:aws:acm:{EAST}:{ACCOUNT}:certificate/")
        assert identify(good.key).type == "AWS::ElasticLoadBalancingV2::Listener"  # type: ignore[union-attr]

    def test_incident_certificate_expired_overnight(
        self, run: SourceRun, sandbox: AwsSandbox
    ) -> None:
        """The region-0 HTTPS listener names an ACM certificate whose validity has already ended."""
        good = named(run, "AWS::ElasticLoadBalancingV2::Listener", "web-lb-0:443")
        assert good.tags["incident"] == "certificate-expired-overnight"
        acm = client("acm", sandbox.endpoint_url, EAST)
        cert = acm.describe_certificate(CertificateArn=good.attrs["certificates"][0])["Certificate"]
        assert cert["NotAfter"] < datetime.now(UTC) and cert["Status"] == "EXPIRED"
        other = named(run, "AWS::ElasticLoadBalancingV2::Listener", "web-lb-1:443")
        other_cert = client("acm", sandbox.endpoint_url, WEST).describe_certificate(
            CertificateArn=other.attrs["certificates"][0]
        )["Certificate"]
        assert other_cert["NotAfter"] > datetime.now(UTC)

    def test_classic_load_balancers(self, run: SourceRun) -> None:
        """Classic ELBs list listeners with the predefined policy each TLS listener references."""
        good = named(run, "AWS::ElasticLoadBalancing::LoadBalancer", "legacy-0")
        bad = named(run, "AWS::ElasticLoadBalancing::LoadBalancer", "legacy-1")
        assert good.key == f"arn:aws:elasticloadbalancing:{EAST}:{ACCOUNT}:loadbalancer/legacy-0"
        assert identify(good.key).type == "AWS::ElasticLoadBalancing::LoadBalancer"  # type: ignore[union-attr]
        assert good.tags == {"pci": "true"} and good.public is True
        http, https = good.attrs["listeners"]
        assert (http["protocol"], http["ssl_policy"], http["certificate"]) == ("HTTP", None, None)
        assert https["ssl_policy"] == "ELBSecurityPolicy-TLS-1-2-2017-01"
        assert https["policies"] == ["tls-policy"] and https["certificate"].startswith(
            "arn:aws:acm:"
        )
        assert (good.attrs["min_tls_version"], bad.attrs["min_tls_version"]) == ("1.2", "1.0")
        assert len(good.attrs["instances"]) == 1 and good.attrs["certificates"] == [
            https["certificate"]
        ]


class TestEdge:
    def test_cloudfront_distributions(self, run: SourceRun) -> None:
        """Distributions are global, keyed by their ARN, with viewer TLS, web ACL and origins."""
        dists = {
            r.attrs["viewer_protocol_policy"]: r for r in of(run, "AWS::CloudFront::Distribution")
        }
        good, legacy = dists["redirect-to-https"], dists["allow-all"]
        assert good.key == f"arn:aws:cloudfront::{ACCOUNT}:distribution/{good.attrs['id']}"
        assert good.region == "global" and good.tags == {"pci": "true"} and good.public is True
        assert good.attrs["viewer_certificate"]["minimum_protocol_version"] == "TLSv1.2_2021"
        assert good.attrs["min_tls_version"] == "1.2" and legacy.attrs["min_tls_version"] == "1.0"
        edge = named(run, "AWS::WAFv2::WebACL", "edge")
        assert good.attrs["web_acl_id"] == edge.key and legacy.attrs["web_acl_id"] is None
        assert [o["domain_name"] for o in good.attrs["origins"]] == [
            f"acme-data-{EAST}.s3.amazonaws.com"
        ]
        assert good.attrs["certificates"][0].startswith(f"arn:aws:acm:{EAST}:")

    def test_web_acls(self, run: SourceRun) -> None:
        """Regional web ACLs per region and the CLOUDFRONT-scope one globally, with rules and logging."""
        good = named(run, "AWS::WAFv2::WebACL", "web-0")
        bad = named(run, "AWS::WAFv2::WebACL", "web-1")
        edge = named(run, "AWS::WAFv2::WebACL", "edge")
        assert (good.region, bad.region, edge.region) == (EAST, WEST, "global")
        assert (good.attrs["scope"], edge.attrs["scope"]) == ("REGIONAL", "CLOUDFRONT")
        assert edge.key.startswith(f"arn:aws:wafv2:us-east-1:{ACCOUNT}:global/webacl/edge/")
        assert [r["managed_rule_group"] for r in good.attrs["rules"]] == [
            "AWS/AWSManagedRulesCommonRuleSet"
        ]
        assert good.attrs["logging_destinations"] and bad.attrs["logging_destinations"] == []
        assert bad.attrs["rules"] == [] and bad.attrs["default_action"] == "Allow"
        assert good.tags == {"pci": "true"}

    def test_hosted_zones(self, run: SourceRun) -> None:
        """Hosted zones are global, public or private, with their record count and tags."""
        public = named(run, "AWS::Route53::HostedZone", "acme.example")
        private = named(run, "AWS::Route53::HostedZone", "internal.acme.example")
        assert public.key == f"arn:aws:route53:::hostedzone/{public.attrs['zone_id']}"
        assert (public.attrs["private"], public.public) == (False, True)
        assert (private.attrs["private"], private.public) == (True, False)
        assert public.attrs["record_count"] >= 2 and public.tags == {"owner": "net"}
        assert private.attrs["comment"] == "service discovery" and public.region == "global"


class TestApiGateway:
    def test_rest_apis_and_stages(self, run: SourceRun, sandbox: AwsSandbox) -> None:
        """REST APIs carry every TLS endpoint and its minimum; stages their logging; variables fingerprinted."""
        good = named(run, "AWS::ApiGateway::RestApi", "payments-api-0")
        bad = named(run, "AWS::ApiGateway::RestApi", "payments-api-1")
        api_id = good.attrs["api_id"]
        assert good.key == f"arn:aws:apigateway:{EAST}::/restapis/{api_id}"
        assert good.attrs["execute_api_endpoint"] is False and good.public is False
        assert [(e["endpoint"], e["security_policy"]) for e in good.attrs["tls_endpoints"]] == [
            (f"api.{EAST}.acme.example", "TLS_1_2")
        ]
        assert (good.attrs["min_tls_version"], bad.attrs["min_tls_version"]) == ("1.2", "1.0")
        assert bad.attrs["tls_endpoints"][0]["endpoint"] == "execute-api" and bad.public is True
        stage = named(run, "AWS::ApiGateway::Stage", f"{api_id}/prod")
        assert stage.key == f"{good.key}/stages/prod"
        assert stage.attrs["logging_level"] == "INFO"
        assert stage.attrs["access_log_destination"].startswith("arn:aws:logs:")
        unlogged = named(run, "AWS::ApiGateway::Stage", f"{bad.attrs['api_id']}/prod")
        assert (unlogged.attrs["logging_level"], unlogged.attrs["access_log_destination"]) == (
            None,
            None,
        )
        canary = sandbox.estate.canary
        assert stage.attrs["variables"]["backend_token"] == TEST_FP(canary)
        text = json.dumps([r.doc() for r in run.resources], default=str)
        assert canary not in text

    def test_http_apis_and_stages(self, run: SourceRun) -> None:
        """HTTP APIs and their $default stages, access logging on region 0 only."""
        good = named(run, "AWS::ApiGatewayV2::Api", "payments-http-0")
        assert good.key == f"arn:aws:apigateway:{EAST}::/apis/{good.attrs['api_id']}"
        assert good.attrs["protocol_type"] == "HTTP" and good.attrs["min_tls_version"] == "1.2"
        assert good.tags == {"pci": "true"}
        stages = {
            r.region: r
            for r in of(run, "AWS::ApiGatewayV2::Stage")
            if r.attrs["stage_name"] == "$default"
        }
        assert stages[EAST].key == f"{good.key}/stages/$default"
        assert stages[EAST].attrs["access_log_destination"].startswith("arn:aws:logs:")
        assert stages[WEST].attrs["access_log_destination"] is None
        assert stages[EAST].attrs["auto_deploy"] is True


class TestRulesOnTheSeededEstate:
    def test_flow_logs_nacls_and_tls(self, run: SourceRun, tmp_path: Path) -> None:
        """Checked end to end, region 0 passes and region 1 fails each network rule."""
        at = datetime(2026, 3, 1, tzinfo=UTC)
        with Store(tmp_path / "s.duckdb") as store:
            store.write_scan([run], started_at=at, finished_at=at, tool_version="test")
            res = check(store)
        keyed = {r.key: r for r in run.resources}

        def verdict(rule: str, type_: str, name: str) -> str:
            return statuses(res, rule)[named(run, type_, name).key]

        assert verdict("network_vpc_flow_logs", "AWS::EC2::VPC", f"main-{EAST}") == "ok"
        assert verdict("network_vpc_flow_logs", "AWS::EC2::VPC", f"main-{WEST}") == "alarm"
        assert verdict("network_nacl_admin_open", "AWS::EC2::NetworkAcl", f"web-{EAST}") == "ok"
        assert verdict("network_nacl_admin_open", "AWS::EC2::NetworkAcl", f"web-{WEST}") == "alarm"
        tls = statuses(res, "pci_tls_min_version")
        got = {(keyed[k].type.split("::")[-2], keyed[k].region): v for k, v in tls.items()}
        assert got[("ElasticLoadBalancingV2", EAST)] == "ok"
        assert got[("ElasticLoadBalancingV2", WEST)] == "alarm"
        assert got[("ElasticLoadBalancing", EAST)] == "ok"
        assert got[("ElasticLoadBalancing", WEST)] == "alarm"
        cf = {keyed[k].attrs["min_tls_version"]: v for k, v in tls.items() if "cloudfront" in k}
        assert cf == {"1.2": "ok", "1.0": "alarm"}
        rest = {keyed[k].name: v for k, v in tls.items() if "/restapis/" in k}
        assert rest == {"payments-api-0": "ok", "payments-api-1": "alarm"}
        plain = named(run, "AWS::ElasticLoadBalancingV2::Listener", "web-lb-0:80")
        assert plain.key not in tls  # plain HTTP is not a TLS endpoint


class TestPolicies:
    @pytest.mark.parametrize(
        ("policy", "minimum"),
        [
            ("ELBSecurityPolicy-TLS13-1-2-2021-06", "1.2"),
            ("ELBSecurityPolicy-TLS13-1-3-2021-06", "1.3"),
            ("ELBSecurityPolicy-TLS13-1-0-2021-06", "1.0"),
            ("ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04", "1.2"),
            ("ELBSecurityPolicy-TLS-1-1-2017-01", "1.1"),
            ("ELBSecurityPolicy-TLS-1-2-Ext-2018-06", "1.2"),
            ("ELBSecurityPolicy-FS-1-2-Res-2020-10", "1.2"),
            ("ELBSecurityPolicy-FS-2018-06", "1.0"),
            ("ELBSecurityPolicy-2016-08", "1.0"),
            ("ELBSecurityPolicy-2014-01", "SSLv3"),
            ("Custom-Policy", None),
            (None, None),
        ],
    )
    def test_elb_policies(self, policy: str | None, minimum: str | None) -> None:
        """Each ELB security policy maps to the lowest protocol it accepts; unknown ones to None."""
        assert elb_min_tls(policy) == minimum

    def test_cloudfront_and_api_gateway_policies(self) -> None:
        """CloudFront and API Gateway policy names map to their minimum TLS version."""
        assert cloudfront_min_tls({"MinimumProtocolVersion": "TLSv1.2_2021"}) == "1.2"
        assert cloudfront_min_tls({"MinimumProtocolVersion": "TLSv1_2016"}) == "1.0"
        assert cloudfront_min_tls({"MinimumProtocolVersion": "TLSv1.1_2016"}) == "1.1"
        assert cloudfront_min_tls({"MinimumProtocolVersion": "TLSv1.3_2025"}) == "1.3"
        assert cloudfront_min_tls({"MinimumProtocolVersion": "SSLv3"}) == "SSLv3"
        default = {"CloudFrontDefaultCertificate": True, "MinimumProtocolVersion": "TLSv1.2_2021"}
        assert cloudfront_min_tls(default) == "1.0"  # the *.cloudfront.net certificate: TLSv1
        assert apigw_min_tls("TLS_1_0") == "1.0" and apigw_min_tls("TLS_1_2") == "1.2"
        assert apigw_min_tls("SecurityPolicy_TLS13_1_3_2025_09") == "1.3"
        assert apigw_min_tls("SecurityPolicy_TLS13_1_2_2021_06") == "1.2"
        assert apigw_min_tls(None) is None


def test_sparse_payloads_are_null_not_parse_errors(
    source: Callable[..., AwsSource], on_session: Any
) -> None:
    """Items carrying only their ids give resources with null attributes, never parse errors."""
    sparse: dict[str, tuple[str, dict[str, Any]]] = {
        "DescribeNetworkAcls": ("ec2", {"NetworkAcls": [{"NetworkAclId": "acl-0sparse"}]}),
        "DescribeRouteTables": ("ec2", {"RouteTables": [{"RouteTableId": "rtb-0sparse"}]}),
        "DescribeFlowLogs": ("ec2", {"FlowLogs": [{"FlowLogId": "fl-0sparse"}]}),
        "DescribeAddresses": ("ec2", {"Addresses": [{"PublicIp": "203.0.113.7"}]}),
        "DescribeLoadBalancerPolicies": ("elb", {"PolicyDescriptions": [{}]}),
    }
    for op, (service, parsed) in sparse.items():
        on_session(f"before-call.{'elastic-load-balancing' if service == 'elb' else service}.{op}",
                   canned(op, parsed))  # fmt: skip
    run = run_source(source(regions=[EAST]))  # legacy-0 names TLS-1-2
    assert run.status == "ok"
    mine = {r.key: r for r in run.resources if r.key.endswith(("0sparse", "203.0.113.7"))}
    assert len(mine) == 4 and all(r.error is None for r in mine.values())
    eip = mine[f"arn:aws:ec2:{EAST}:{ACCOUNT}:elastic-ip/203.0.113.7"]
    assert eip.attrs["allocation_id"] is None and eip.attrs["associated"] is False
    acl = mine[f"arn:aws:ec2:{EAST}:{ACCOUNT}:network-acl/acl-0sparse"]
    assert acl.attrs["entries"] == [] and acl.attrs["vpc_id"] is None
    classic = [r for r in run.resources if r.type == "AWS::ElasticLoadBalancing::LoadBalancer"]
    assert classic and all(r.error is None for r in classic)
    assert {x["ssl_policy"] for r in classic for x in r.attrs["listeners"] if x["certificate"]} == {
        "ELBSecurityPolicy-2016-08"  # no readable negotiation policy: the documented default
    }
