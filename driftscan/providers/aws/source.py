"""The `type: aws` source model: an AWS account (or several through role_arn), read with boto3."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from driftscan.providers import SourceModel


class AwsSource(SourceModel):
    """An AWS account (or several through role_arn) read with boto3."""

    name: str
    type: Literal["aws"]
    profile: str | None = None
    role_arn: str | None = None
    regions: list[str] = Field(default_factory=lambda: ["us-east-1"], min_length=1)
    endpoint_url: str | None = None
    concurrency: int = Field(default=8, ge=1, le=64)
    # botocore's meaning: retries after the first request (so 5 allows up to 6 requests).
    max_attempts: int = Field(default=5, ge=1, le=20)
