"""The compute and container rules: each passes on a compliant resource and fails on a broken one."""

from __future__ import annotations

from typing import Any

from driftscan.store import Store
from tests.compliance.conftest import aws, by_resource, check, statuses, write_scan


def short(got: dict[str, str]) -> dict[str, str]:
    return {k.rsplit(":", 1)[-1]: v for k, v in got.items()}


def repo(name: str, public: bool | None = False, **attrs: Any) -> Any:
    return aws("AWS::ECR::Repository", name, attrs=attrs, public=public, encrypted=True)


class TestEcr:
    def test_tag_immutable(self, store: Store) -> None:
        """A repository with mutable tags alarms; immutable (with or without exclusions) passes; unknown is not assessed."""
        write_scan(store, [
            repo("fixed", image_tag_mutability="IMMUTABLE"),
            repo("mostly", image_tag_mutability="IMMUTABLE_WITH_EXCLUSION"),
            repo("loose", image_tag_mutability="MUTABLE"),
            repo("loose-ex", image_tag_mutability="MUTABLE_WITH_EXCLUSION"),
            repo("unknown"),
        ])  # fmt: skip
        result = check(store)
        assert short(statuses(result, "ecr_tag_immutable")) == {
            "fixed": "ok", "mostly": "ok", "loose": "alarm", "loose-ex": "alarm",
            "unknown": "not_assessed",
        }  # fmt: skip
        [loose] = [
            f for k, f in by_resource(result, "ecr_tag_immutable").items() if k.endswith(":loose")
        ]
        assert loose.reason == "image tags can be overwritten (MUTABLE)"

    def test_scan_on_push(self, store: Store) -> None:
        """A repository scanned neither by its setting nor by a registry rule alarms; either way passes."""
        write_scan(store, [
            repo("own", scan_on_push=True, scan_on_push_effective=True),
            repo("by-rule", scan_on_push=False, scan_on_push_effective=True,
                 registry_scan_frequency="CONTINUOUS_SCAN"),
            repo("never", scan_on_push=False, scan_on_push_effective=False),
            repo("unknown"),
        ])  # fmt: skip
        result = check(store)
        assert short(statuses(result, "ecr_scan_on_push")) == {
            "own": "ok", "by-rule": "ok", "never": "alarm", "unknown": "not_assessed",
        }  # fmt: skip
        reasons = {
            k.rsplit(":", 1)[-1]: f.reason
            for k, f in by_resource(result, "ecr_scan_on_push").items()
        }
        assert reasons["by-rule"] == "images are scanned on push (registry rule, CONTINUOUS_SCAN)"
        [never] = [
            f for k, f in by_resource(result, "ecr_scan_on_push").items() if k.endswith(":never")
        ]
        assert never.frameworks["pci-dss-4.0.1"] == ["6.3.1", "11.3.1"]

    def test_repository_not_public(self, store: Store) -> None:
        """A repository whose policy grants to everyone alarms and names the actions."""
        write_scan(store, [
            repo("private", public=False),
            repo("open", public=True, public_actions=["ecr:BatchGetImage"]),
            repo("unread", public=None),
        ])  # fmt: skip
        result = check(store)
        assert short(statuses(result, "ecr_repository_not_public")) == {
            "private": "ok", "open": "alarm", "unread": "not_assessed",
        }  # fmt: skip
        [f] = [
            f
            for k, f in by_resource(result, "ecr_repository_not_public").items()
            if k.endswith(":open")
        ]
        assert f.reason == "repository policy grants to everyone: ecr:BatchGetImage"


def test_ami_not_public(store: Store) -> None:
    """A public AMI alarms, a private one passes, one whose sharing is unknown is not assessed."""
    write_scan(store, [
        aws("AWS::EC2::Image", "ami-private", public=False),
        aws("AWS::EC2::Image", "ami-public", public=True),
        aws("AWS::EC2::Image", "ami-unknown", public=None),
        aws("AWS::EC2::Instance", "i-public", public=True),  # not an AMI
    ])  # fmt: skip
    assert short(statuses(check(store), "ami_not_public")) == {
        "ami-private": "ok", "ami-public": "alarm", "ami-unknown": "not_assessed",
    }  # fmt: skip


def test_lambda_url_public(store: Store) -> None:
    """A function URL with auth type NONE alarms; AWS_IAM passes."""
    write_scan(store, [
        aws("AWS::Lambda::Url", "iam", public=False, attrs={"auth_type": "AWS_IAM"}),
        aws("AWS::Lambda::Url", "open", public=True, attrs={"auth_type": "NONE"}),
    ])  # fmt: skip
    result = check(store)
    assert short(statuses(result, "compute_lambda_url_public")) == {"iam": "ok", "open": "alarm"}
    reasons = {
        k.rsplit(":", 1)[-1]: f.reason
        for k, f in by_resource(result, "compute_lambda_url_public").items()
    }
    assert reasons["iam"] == "function URL requires AWS_IAM"


def test_eks_endpoint_not_public(store: Store) -> None:
    """An EKS endpoint open to 0.0.0.0/0 alarms; a private or CIDR-limited one passes."""
    write_scan(store, [
        aws("AWS::EKS::Cluster", "private", public=False,
            attrs={"endpoint_public_access": False, "public_access_cidrs": []}),
        aws("AWS::EKS::Cluster", "limited", public=False,
            attrs={"endpoint_public_access": True, "public_access_cidrs": ["203.0.113.0/24"]}),
        aws("AWS::EKS::Cluster", "open", public=True,
            attrs={"endpoint_public_access": True, "public_access_cidrs": ["0.0.0.0/0"]}),
    ])  # fmt: skip
    result = check(store)
    assert short(statuses(result, "compute_eks_endpoint_not_public")) == {
        "private": "ok", "limited": "ok", "open": "alarm",
    }  # fmt: skip
    reasons = {k.rsplit(":", 1)[-1]: f.reason
               for k, f in by_resource(result, "compute_eks_endpoint_not_public").items()}  # fmt: skip
    assert reasons == {
        "private": "API endpoint is private only",
        "limited": "public API endpoint limited to 203.0.113.0/24",
        "open": "public API endpoint open to 0.0.0.0/0",
    }
