"""The AWS provider: accounts read with boto3, resources keyed by ARN (design §3.2)."""

from __future__ import annotations

from driftscan.providers import Provider, ScopeDimension
from driftscan.providers.aws.keys import declared_key, identify, owns_type
from driftscan.providers.aws.source import AwsSource, narrow, units

PROVIDER = Provider(
    type="aws",
    source_model=AwsSource,
    collector="driftscan.providers.aws.collect:AwsCollector",
    extra="aws",
    identify=identify,
    owns_type=owns_type,
    declared_key=declared_key,
    scope_dimensions=(ScopeDimension("accounts", ("account",)),),
    terraform="driftscan.providers.aws.terraform:MAPPINGS",
    redact_declared="driftscan.providers.aws.secrets:redact_declared",
    sandbox="driftscan.sandbox.aws:AwsSandbox",
    units=units,
    narrow=narrow,
)

__all__ = ["PROVIDER", "AwsSource"]
