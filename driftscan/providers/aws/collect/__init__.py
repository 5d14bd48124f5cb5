"""AWS collector (boto3): declared per-service specs read across regions in parallel."""

from driftscan.providers.aws.collect.collector import AwsCollector, classify
from driftscan.providers.aws.collect.session import make_session

__all__ = ["AwsCollector", "classify", "make_session"]
