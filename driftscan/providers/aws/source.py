"""The `type: aws` source model: one AWS account, or an organisation's accounts through a role."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator

from driftscan.providers import SourceModel, WorkUnit

_ACCOUNT_ID = re.compile(r"\d{12}")


def _account_id(v: Any) -> Any:
    # YAML reads an unquoted 444455556666 as a number: twelve digits are exact, but a shorter
    # number may be an id that lost its leading zero (or was read as octal), so it is refused.
    if isinstance(v, int) and not isinstance(v, bool) and len(str(v)) == 12:
        v = str(v)
    if not isinstance(v, str) or not _ACCOUNT_ID.fullmatch(v):
        raise ValueError(f"{v!r} is not an AWS account id (12 digits; quote ids that begin with 0)")
    return v


def _accounts(v: Any) -> Any:
    # One message for a wrong entry, rather than one per member of the union.
    if v is None or v == "organization":
        return v
    if isinstance(v, list):
        return [_account_id(x) for x in v]
    raise ValueError(f"{v!r}: accounts is 'organization' or a list of account ids")


AccountId = Annotated[str, BeforeValidator(_account_id)]


class AwsSource(SourceModel):
    """An AWS account read with boto3; with `accounts`, several accounts through a role."""

    name: str
    type: Literal["aws"]
    profile: str | None = None
    # One account, read through this role (assumed once, refreshed before it expires).
    role_arn: str | None = None
    # Several accounts (design §6.2): the role assumed in each of them; the caller's own
    # account (the management account, when `accounts: organization`) is read as itself.
    role_name: str | None = Field(default=None, min_length=1, max_length=64)
    # `organization`: every ACTIVE member of the caller's organisation (ListAccounts);
    # or a list of account ids.
    accounts: Annotated[
        Literal["organization"] | list[str] | None,
        BeforeValidator(_accounts),
        Field(validate_default=True),
    ] = None
    exclude_accounts: list[AccountId] = Field(default_factory=list)
    # How long each assumed role's credentials last; botocore assumes the role again ahead of
    # expiry (its advisory window is 15 minutes), so a scan may outlast any one session.
    session_duration_s: int = Field(default=3600, ge=900, le=43200)
    regions: list[str] = Field(default_factory=lambda: ["us-east-1"], min_length=1)
    endpoint_url: str | None = None
    # Slices (account × region × service) read at once, across every account of the source.
    concurrency: int = Field(default=8, ge=1, le=64)
    # botocore's meaning: retries after the first request (so 5 allows up to 6 requests).
    max_attempts: int = Field(default=5, ge=1, le=20)

    # Each check is on the field declared after the ones it reads (pydantic validates in
    # declaration order), so the error names the key that cannot stand as written.
    @field_validator("accounts")
    @classmethod
    def _accounts_need_a_role(cls, v: Any, info: ValidationInfo) -> Any:
        if v is None:
            if info.data.get("role_name"):
                raise ValueError(
                    "role_name needs accounts (organization or a list of account ids); to read "
                    "one account through a role, give role_arn"
                )
            return v
        if info.data.get("role_arn"):
            raise ValueError(
                "role_arn and accounts cannot be combined: give role_name, the role assumed in "
                "each account (role_arn reads one account)"
            )
        if not info.data.get("role_name"):
            raise ValueError("accounts needs role_name: the role assumed in each member account")
        if isinstance(v, list) and not v:
            raise ValueError("accounts is an empty list: name at least one account id")
        return v

    @field_validator("exclude_accounts")
    @classmethod
    def _exclude_needs_accounts(cls, v: list[str], info: ValidationInfo) -> list[str]:
        if v and info.data.get("accounts") is None:
            raise ValueError(
                "exclude_accounts needs a valid accounts (organization or account ids)"
            )
        return v


def units(source: Any) -> list[WorkUnit]:
    """A listed account is a work unit (`scan --shard`); an organisation's members are only
    known once it is read, so such a source (and a single account) is one unit."""
    if not isinstance(source, AwsSource) or not isinstance(source.accounts, list):
        return []
    skip = set(source.exclude_accounts)
    return [WorkUnit(a, account=a) for a in source.accounts if a not in skip]


def narrow(source: AwsSource, ids: Sequence[str]) -> AwsSource:
    """The source reading only the listed accounts named."""
    keep = set(ids)
    accounts = [a for a in source.accounts or [] if a in keep]
    return source.model_copy(update={"accounts": accounts})
