"""The `type: gcp` source model: an organisation, folder or project read through Cloud Asset Inventory."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from driftscan.providers import SourceModel

# organizations/N, folders/N, or projects/ID (an id: 6-30 lower-case letters, digits, hyphens;
# or a project number).
_SCOPE = re.compile(
    r"^(?:organizations/[0-9]{1,20}|folders/[0-9]{1,20}|projects/[a-z0-9][a-z0-9-]{3,62})$"
)
_ASSET_TYPE = re.compile(r"^[a-z0-9.-]{1,100}\.googleapis\.com/[A-Za-z0-9*]{1,100}$")


class GcpSource(SourceModel):
    """Cloud Asset Inventory over one scope: every project below an organisation or folder
    (a slice each), or one project."""

    name: str
    type: Literal["gcp"]
    scope: str
    # default: Application Default Credentials; token_env: the bearer token in
    # $GCP_ACCESS_TOKEN (or `token_env_var`); anonymous: no credentials (the sandbox only, so it
    # needs an `endpoint`).
    credential: Literal["default", "token_env", "anonymous"] = "default"
    token_env_var: str = Field(default="GCP_ACCESS_TOKEN", pattern=r"^[A-Z_][A-Z0-9_]{0,63}$")
    endpoint: str | None = None
    ca_bundle: str | None = None
    # [all], or the asset types to read (`storage.googleapis.com/Bucket`).
    asset_types: list[str] = Field(default_factory=lambda: ["all"], min_length=1)
    concurrency: int = Field(default=8, ge=1, le=64)
    max_attempts: int = Field(default=5, ge=1, le=20)
    timeout_s: float = Field(default=60.0, gt=0, le=600)
    # The published quotas (requests a minute): SearchAllResources and SearchAllIamPolicies
    # allow 400 per project and 1,500 per organisation.
    per_project_per_min: int = Field(default=400, ge=1, le=100_000)
    per_org_per_min: int = Field(default=1500, ge=1, le=100_000)

    @field_validator("scope")
    @classmethod
    def _scope(cls, v: str) -> str:
        if not _SCOPE.match(v):
            raise ValueError(
                "scope is organizations/NUMBER, folders/NUMBER or projects/PROJECT_ID, "
                f"not {v[:80]!r}"
            )
        return v

    @field_validator("asset_types")
    @classmethod
    def _types(cls, v: list[str]) -> list[str]:
        if "all" in v:
            if len(v) > 1:
                raise ValueError("give [all] or a list of asset types, not both")
            return v
        for t in v:
            if not _ASSET_TYPE.match(t):
                raise ValueError(
                    f"{t[:120]!r} is not a Cloud Asset Inventory asset type "
                    "(e.g. storage.googleapis.com/Bucket)"
                )
        return v

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^https://[A-Za-z0-9.\-\[\]:]+(?::[0-9]{1,5})?/?$", v):
            raise ValueError("endpoint is an https:// origin, e.g. https://127.0.0.1:8444")
        return v.rstrip("/") if v else v

    @model_validator(mode="after")
    def _anonymous(self) -> GcpSource:
        if self.credential == "anonymous" and self.endpoint is None:
            raise ValueError(
                "credential: anonymous is for a sandbox endpoint only; set `endpoint` or use "
                "default / token_env"
            )
        return self
