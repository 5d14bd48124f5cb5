"""The `type: azure` source model: Azure subscriptions read through ARM."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from driftscan.providers import SourceModel


class AzureSource(SourceModel):
    """Azure subscriptions read through ARM."""

    name: str
    type: Literal["azure"]
    subscriptions: list[str] = Field(default_factory=lambda: ["all"], min_length=1)
    credential: Literal["default", "token_env"] = "default"
    endpoint: str = "https://management.azure.com"
    ca_bundle: str | None = None
    mode: Literal["arm", "resource-graph"] = "arm"
    concurrency: int = Field(default=8, ge=1, le=64)
    max_attempts: int = Field(default=5, ge=1, le=20)
