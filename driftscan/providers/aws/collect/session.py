"""The boto3 session and client settings for one AWS source: profile, assumed role, retries."""

from __future__ import annotations

from typing import Any, cast

import boto3
from botocore.config import Config

from driftscan.providers.aws.source import AwsSource

SESSION_NAME = "driftscan"


def home_region(config: AwsSource, session: boto3.Session | None = None) -> str:
    """The region for account-wide calls (STS, IAM, S3 listing, region discovery)."""
    if "all" not in config.regions:
        return config.regions[0]
    return (session.region_name if session else None) or "us-east-1"


def client_config(config: AwsSource, pool: int = 0) -> Config:
    """Adaptive retries (throttling backs off, and the client slows to the rate the service
    grants) and a connection pool as large as the requests one client may have in flight."""
    return Config(
        retries={"mode": "adaptive", "max_attempts": config.max_attempts},
        max_pool_connections=max(10, config.concurrency, pool),
        connect_timeout=10,
        read_timeout=60,
        user_agent_extra="driftscan",
    )


def make_session(config: AwsSource) -> boto3.Session:
    """A session for the source: its profile (or the default chain), then its role if it has one.

    The collector makes every client from this session, so hooks registered on its event
    system (tests: a read-only allow-list) see every call.
    """
    base = boto3.Session(profile_name=config.profile)
    region = home_region(config, base)
    if not config.role_arn:
        return (
            base
            if base.region_name
            else boto3.Session(profile_name=config.profile, region_name=region)
        )
    sts: Any = cast(Any, base).client(
        "sts", region_name=region, endpoint_url=config.endpoint_url, config=client_config(config)
    )
    creds = sts.assume_role(RoleArn=config.role_arn, RoleSessionName=SESSION_NAME)["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region,
    )
