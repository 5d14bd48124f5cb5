"""Network and edge rules: VPC flow logs, network ACL admin ports, TLS minimums on AWS endpoints."""

from __future__ import annotations

from typing import Any

from driftscan.store import Store
from tests.compliance.conftest import (
    ACCOUNT,
    aws,
    by_resource,
    check,
    failed_slice,
    statuses,
    write_scan,
)

PCI_TAG = {"pci": "true"}


def short(result: Any, rule: str) -> dict[str, str]:
    return {k.rsplit("/", 1)[-1].rsplit(":", 1)[-1]: v for k, v in statuses(result, rule).items()}


def vpc(vpc_id: str, region: str = "eu-west-1") -> Any:
    return aws("AWS::EC2::VPC", vpc_id, region=region, attrs={"vpc_id": vpc_id},
               key=f"arn:aws:ec2:{region}:{ACCOUNT}:vpc/{vpc_id}")  # fmt: skip


def flow_log(fl: str, resource_id: str, status: str = "ACTIVE", region: str = "eu-west-1") -> Any:
    return aws("AWS::EC2::FlowLog", fl, region=region,
               attrs={"flow_log_id": fl, "resource_id": resource_id, "status": status,
                      "traffic_type": "ALL"})  # fmt: skip


class TestVpcFlowLogs:
    def test_vpc_without_active_flow_log_alarms(self, store: Store) -> None:
        """A VPC with an active VPC-level flow log passes; none, a subnet-level one or an inactive one alarms."""
        write_scan(store, [
            vpc("vpc-logged"), flow_log("fl-1", "vpc-logged"),
            vpc("vpc-bare"),
            vpc("vpc-subnet-only"), flow_log("fl-2", "subnet-0123"),
            vpc("vpc-broken"), flow_log("fl-3", "vpc-broken", status="INACTIVE"),
            # a flow log of the same VPC id in another region does not count
            vpc("vpc-elsewhere"), flow_log("fl-4", "vpc-elsewhere", region="us-east-1"),
        ])  # fmt: skip
        res = check(store)
        assert short(res, "network_vpc_flow_logs") == {
            "vpc-logged": "ok", "vpc-bare": "alarm", "vpc-subnet-only": "alarm",
            "vpc-broken": "alarm", "vpc-elsewhere": "alarm",
        }  # fmt: skip
        found = by_resource(res, "network_vpc_flow_logs")
        assert found[f"arn:aws:ec2:eu-west-1:{ACCOUNT}:vpc/vpc-broken"].reason == (
            "its flow logs are not active"
        )
        logged = found[f"arn:aws:ec2:eu-west-1:{ACCOUNT}:vpc/vpc-logged"]
        assert logged.reason == "flow log fl-1 is active"
        assert "10.2.1" in logged.frameworks["pci-dss-4.0.1"]

    def test_unread_flow_logs_are_not_assessed(self, store: Store) -> None:
        """When the region's flow logs could not be read, a VPC without one is not assessed, never failed."""
        write_scan(store, [vpc("vpc-a")], failed=[
            failed_slice("aws-prod", f"{ACCOUNT}/eu-west-1/vpc", account=ACCOUNT,
                         region="eu-west-1", types=["AWS::EC2::FlowLog", "AWS::EC2::NetworkAcl"])
        ])  # fmt: skip
        assert short(check(store), "network_vpc_flow_logs") == {"vpc-a": "not_assessed"}


def entry(n: int, port: int | None, cidr: str = "0.0.0.0/0", action: str = "allow",
          proto: str = "6", egress: bool = False, ipv6: bool = False) -> dict[str, Any]:  # fmt: skip
    return {"rule_number": n, "egress": egress, "protocol": proto, "action": action,
            "cidr": None if ipv6 else cidr, "ipv6_cidr": cidr if ipv6 else None,
            "from_port": port, "to_port": port}  # fmt: skip


def nacl(name: str, *entries: dict[str, Any]) -> Any:
    return aws(
        "AWS::EC2::NetworkAcl", name, attrs={"network_acl_id": name, "entries": list(entries)}
    )


class TestNaclAdminPorts:
    def test_first_matching_entry_decides(self, store: Store) -> None:
        """SSH or RDP allowed from the Internet alarms, unless a lower-numbered entry denies it first."""
        write_scan(store, [
            nacl("acl-web", entry(100, 443), entry(110, 22, cidr="10.0.0.0/8")),
            nacl("acl-ssh", entry(90, 22), entry(120, 22, action="deny")),
            nacl("acl-denied-first", entry(80, 22, action="deny"), entry(90, 22)),
            nacl("acl-default", entry(100, None, proto="-1"), entry(32767, None, proto="-1", action="deny")),
            nacl("acl-rdp6", entry(100, 3389, cidr="::/0", ipv6=True)),
            nacl("acl-egress", entry(100, 22, egress=True)),
            nacl("acl-udp", entry(100, 22, proto="17")),
            nacl("acl-empty"),
        ])  # fmt: skip
        res = check(store)
        assert short(res, "network_nacl_admin_open") == {
            "acl-web": "ok", "acl-ssh": "alarm", "acl-denied-first": "ok", "acl-default": "alarm",
            "acl-rdp6": "alarm", "acl-egress": "ok", "acl-udp": "ok", "acl-empty": "ok",
        }  # fmt: skip
        found = by_resource(res, "network_nacl_admin_open")
        default = next(f for k, f in found.items() if k.endswith("acl-default"))
        assert default.reason == "open to the Internet: 22/IPv4 (rule 100), 3389/IPv4 (rule 100)"
        assert "1.3.1" in default.frameworks["pci-dss-4.0.1"]


class TestTlsOnAwsEndpoints:
    def test_listeners_load_balancers_cloudfront_and_apis(self, store: Store) -> None:
        """In-scope AWS TLS endpoints below TLS 1.2 alarm, plain HTTP listeners are not judged,
        and an unrecognised policy is not assessed."""

        def r(type_: str, name: str, **attrs: Any) -> Any:
            return aws(type_, name, tags=PCI_TAG, attrs=attrs)

        lst = "AWS::ElasticLoadBalancingV2::Listener"
        write_scan(store, [
            r(lst, "https12", protocol="HTTPS", min_tls_version="1.2",
              ssl_policy="ELBSecurityPolicy-TLS13-1-2-2021-06"),
            r(lst, "https10", protocol="HTTPS", min_tls_version="1.0",
              ssl_policy="ELBSecurityPolicy-2016-08"),
            r(lst, "tls-unknown", protocol="TLS", min_tls_version=None, ssl_policy="Custom-2031"),
            r(lst, "http", protocol="HTTP", min_tls_version=None),
            r("AWS::ElasticLoadBalancing::LoadBalancer", "classic-ssl3", min_tls_version="SSLv3",
              certificates=["arn:aws:acm:eu-west-1:1:certificate/x"]),
            r("AWS::ElasticLoadBalancing::LoadBalancer", "classic-http", min_tls_version=None,
              certificates=[]),
            r("AWS::CloudFront::Distribution", "cf12", min_tls_version="1.2"),
            r("AWS::CloudFront::Distribution", "cf10", min_tls_version="1.0"),
            r("AWS::ApiGateway::RestApi", "rest10", min_tls_version="1.0",
              tls_endpoints=[{"endpoint": "execute-api", "min_tls_version": "1.0"}]),
            r("AWS::ApiGateway::RestApi", "rest-closed", min_tls_version=None, tls_endpoints=[]),
            r("AWS::ApiGatewayV2::Api", "http12", min_tls_version="1.2",
              tls_endpoints=[{"endpoint": "execute-api", "min_tls_version": "1.2"}]),
            aws(lst, "out-of-scope", attrs={"protocol": "HTTPS", "min_tls_version": "1.0"}),
        ])  # fmt: skip
        res = check(store)
        assert short(res, "pci_tls_min_version") == {
            "https12": "ok", "https10": "alarm", "tls-unknown": "not_assessed",
            "classic-ssl3": "alarm", "cf12": "ok", "cf10": "alarm", "rest10": "alarm",
            "http12": "ok",
        }  # fmt: skip
        found = {
            k.rsplit(":", 1)[-1]: f for k, f in by_resource(res, "pci_tls_min_version").items()
        }
        assert found["https10"].reason == "minimum TLS 1.0 is below 1.2"
        assert found["classic-ssl3"].reason == "no minimum TLS version enforced (SSLv3)"
        assert "4.2.1" in found["https12"].frameworks["pci-dss-4.0.1"]
