"""AWS collector (boto3): declared per-service specs read across regions in parallel."""

from driftscan.collect.aws.collector import AwsCollector, classify
from driftscan.collect.aws.session import make_session

__all__ = ["AwsCollector", "classify", "make_session"]
