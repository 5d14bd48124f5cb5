"""The `type: azure` source model: Azure subscriptions read through ARM."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from driftscan.providers import SourceModel, WorkUnit

_GROUP_ID = re.compile(r"^[A-Za-z0-9_().-]{1,90}$")


class AzureSource(SourceModel):
    """Azure subscriptions read through ARM: listed, every one visible, or every one below a
    management group."""

    name: str
    type: Literal["azure"]
    subscriptions: list[str] = Field(default_factory=lambda: ["all"], min_length=1)
    # Every subscription below this management group (its id, e.g. mg-root), nested groups
    # included (design §6.2); instead of a subscription list.
    management_group: str | None = None
    credential: Literal["default", "token_env"] = "default"
    endpoint: str = "https://management.azure.com"
    ca_bundle: str | None = None
    mode: Literal["arm", "resource-graph"] = "arm"
    # Key Vault certificates live only in each vault's data plane ({vault}.vault.azure.net):
    # read there (GET, metadata only) unless switched off. A vault URI ARM reports is followed
    # only when its host is this domain or below it, so a payload cannot send the token
    # elsewhere (sovereign clouds: vault.azure.cn, vault.usgovcloudapi.net).
    keyvault_certificates: bool = True
    keyvault_domain: str = Field(
        default="vault.azure.net", pattern=r"^[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$"
    )
    concurrency: int = Field(default=8, ge=1, le=64)
    max_attempts: int = Field(default=5, ge=1, le=20)

    @field_validator("management_group")
    @classmethod
    def _group_or_list(cls, v: Any, info: ValidationInfo) -> Any:
        if v is None:
            return v
        if not isinstance(v, str) or not _GROUP_ID.match(v):
            raise ValueError(
                "management_group is a management group id (letters, digits, - _ . ( ), "
                "at most 90), e.g. mg-root"
            )
        subs = [s.strip().lower() for s in info.data.get("subscriptions") or ["all"]]
        if subs != ["all"]:
            raise ValueError(
                "management_group reads every subscription below the group; leave out "
                "subscriptions (or give [all]) when it is set"
            )
        return v


def units(source: Any) -> list[WorkUnit]:
    """A listed subscription is a work unit (`scan --shard`); `all` and a management group
    are only resolved by reading, so such a source is one unit."""
    if not isinstance(source, AzureSource) or source.management_group:
        return []
    wanted = [s.strip().lower() for s in source.subscriptions]
    if "all" in wanted:
        return []
    return [WorkUnit(s, account=s) for s in dict.fromkeys(wanted)]


def narrow(source: AzureSource, ids: Sequence[str]) -> AzureSource:
    """The source reading only the listed subscriptions named."""
    keep = set(ids)
    subs = [s for s in source.subscriptions if s.strip().lower() in keep]
    return source.model_copy(update={"subscriptions": subs})
