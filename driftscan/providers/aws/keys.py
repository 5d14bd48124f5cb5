"""AWS identity: what an ARN says (account, region, type, name), and keys known from identity."""

from __future__ import annotations

from driftscan.providers import Identity

_ARN_TYPES: tuple[tuple[str, str, str], ...] = (
    # (service, resource prefix, type); first match wins
    ("s3", "", "AWS::S3::Bucket"),
    ("ec2", "instance/", "AWS::EC2::Instance"),
    ("ec2", "security-group/", "AWS::EC2::SecurityGroup"),
    ("ec2", "vpc/", "AWS::EC2::VPC"),
    ("ec2", "subnet/", "AWS::EC2::Subnet"),
    ("ec2", "volume/", "AWS::EC2::Volume"),
    ("rds", "db:", "AWS::RDS::DBInstance"),
    ("elasticloadbalancing", "loadbalancer/", "AWS::ElasticLoadBalancingV2::LoadBalancer"),
    ("elasticloadbalancing", "targetgroup/", "AWS::ElasticLoadBalancingV2::TargetGroup"),
    ("lambda", "function:", "AWS::Lambda::Function"),
    ("kms", "key/", "AWS::KMS::Key"),
    ("iam", "role/", "AWS::IAM::Role"),
)


def identify(key: str) -> Identity | None:
    """Account, region, type and name as far as an ARN shows them; None for other keys."""
    if not key.startswith("arn:"):
        return None
    parts = key.split(":", 5)
    if len(parts) != 6:
        return Identity(key, "aws")
    _, _, service, region, account, resource = parts
    typ = next(
        (t for s, prefix, t in _ARN_TYPES if s == service and resource.startswith(prefix)),
        None,
    )
    name = resource.split("/")[-1].split(":")[-1] if resource else None
    return Identity(key, "aws", account or None, region or None, typ, name)


def declared_key(typ: str | None, name: str | None) -> str | None:
    """The key of a resource declared by type and name, when the name alone fixes it."""
    if typ == "AWS::S3::Bucket":
        return f"arn:aws:s3:::{name}"  # bucket names are global: the key is known
    return None
