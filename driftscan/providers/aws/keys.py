"""AWS identity: what an ARN says (account, region, type, name), and keys known from identity."""

from __future__ import annotations

from driftscan.providers import Identity

# (service, resource prefix, type); first match wins, so longer prefixes of one service go
# first. One section per domain of the collector's services (collect/services/).
_COMPUTE: tuple[tuple[str, str, str], ...] = (
    ("ec2", "instance/", "AWS::EC2::Instance"),
    ("ec2", "security-group/", "AWS::EC2::SecurityGroup"),
    ("ec2", "vpc/", "AWS::EC2::VPC"),
    ("ec2", "subnet/", "AWS::EC2::Subnet"),
    ("ec2", "volume/", "AWS::EC2::Volume"),
    ("lambda", "function:", "AWS::Lambda::Function"),
)
_NETWORK: tuple[tuple[str, str, str], ...] = (
    ("elasticloadbalancing", "loadbalancer/", "AWS::ElasticLoadBalancingV2::LoadBalancer"),
    ("elasticloadbalancing", "targetgroup/", "AWS::ElasticLoadBalancingV2::TargetGroup"),
)
_STORAGE: tuple[tuple[str, str, str], ...] = (
    ("s3", "", "AWS::S3::Bucket"),
    ("rds", "db:", "AWS::RDS::DBInstance"),
)
_SECRETS: tuple[tuple[str, str, str], ...] = (("kms", "key/", "AWS::KMS::Key"),)
_LOGGING: tuple[tuple[str, str, str], ...] = ()
_IAM: tuple[tuple[str, str, str], ...] = (("iam", "role/", "AWS::IAM::Role"),)
_ARN_TYPES = _COMPUTE + _NETWORK + _STORAGE + _SECRETS + _LOGGING + _IAM


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
