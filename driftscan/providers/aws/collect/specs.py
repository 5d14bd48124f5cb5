"""The shape of a declared AWS resource spec (list call, items, builder) and the helpers builders share."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from driftscan.collect.limits import ApiLimits
from driftscan.redaction import Fingerprinter

Item = dict[str, Any]
ClientFor = Callable[[str, str], Any]


@dataclass(frozen=True)
class Reader:
    """Where a spec is being read: the account, region and client, plus a client factory."""

    account: str
    partition: str
    region: str  # an AWS region, or "global"
    client: Any
    client_for: ClientFor  # (service, region) → client; S3 buckets are read in their own region
    fingerprint: Fingerprinter  # the store's keyed fingerprints for secret values
    regions: tuple[str, ...] = ()  # every region the source reads in this account

    def arn(self, service: str, resource: str, *, region: str | None = None) -> str:
        where = self.region if region is None else region
        return f"arn:{self.partition}:{service}:{where}:{self.account}:{resource}"


@dataclass
class Found:
    """What a builder read from one item; the collector adds identity and provenance."""

    name: str
    tags: dict[str, str] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)
    encrypted: bool | None = None
    public: bool | None = None
    region: str | None = None  # overrides the slice's region (S3 buckets)


@dataclass(frozen=True)
class ResourceSpec:
    """How to list one resource type (Cloud Custodian's `resource_type`, reduced)."""

    type: str
    call: str  # client method; paginated when botocore has a paginator for it
    items: str  # JMESPath to the items in each page
    key: Callable[[Reader, Item], str]
    build: Callable[[Reader, Item], Found]
    params: Mapping[str, Any] = field(default_factory=dict)
    # Extra read-only calls for one item (tags, attributes). They write fingerprints, never
    # secrets, into the item under "_" keys for `build` to pick up. Run concurrently across
    # items (the service's `fanout`), so they must only touch their own item.
    enrich: Callable[[Reader, Item], None] | None = None
    # The batch form of an enrichment, where the API has one (tags of 20 load balancers in one
    # call): called with up to `batch` items at a time (all of them when `batch` is 0), before
    # `enrich`.
    enrich_batch: Callable[[Reader, list[Item]], None] | None = None
    batch: int = 0
    # A listing that is not one call and a JMESPath (a singleton such as the account's
    # password policy, or list-then-describe APIs): yields the items; `call` and `items` are
    # then documentation only.
    lister: Callable[[Reader], Iterable[Item]] | None = None
    # For a global listing whose items live in regions (S3 buckets): the item's region. The
    # items are then read as one slice per region, each with that region's client, so a slow
    # or denied region is a gap of its own.
    locate: Callable[[Reader, Item], str] | None = None


@dataclass(frozen=True)
class ServiceSpec:
    """One slice's worth of reading: a service in a region (or once per account when global)."""

    name: str
    client: str
    resources: tuple[ResourceSpec, ...]
    is_global: bool = False
    # The service's published request limits per account and region (None: none published;
    # botocore's adaptive retries still back off on throttling).
    limits: ApiLimits | None = None
    # How many items' enrichment calls run at once within one slice.
    fanout: int = 16

    @property
    def types(self) -> list[str]:
        return [r.type for r in self.resources]


# --- small helpers -------------------------------------------------------------------------


def tag_dict(
    tags: Iterable[Mapping[str, Any]] | None, k: str = "Key", v: str = "Value"
) -> dict[str, str]:
    """[{Key, Value}, ...] → {key: value}."""
    return {str(t[k]): str(t.get(v, "")) for t in tags or []}


def iso(value: Any) -> str | None:
    return (
        value.isoformat()
        if isinstance(value, datetime)
        else (None if value is None else str(value))
    )


DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AuthorizationError",
        "AuthFailure",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "OptInRequired",
    }
)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def is_denied(exc: ClientError) -> bool:
    """True when AWS refused the call for want of a permission or valid credentials."""
    code = error_code(exc)
    return code in DENIED_CODES or "NotAuthorized" in code


UNSUPPORTED_CODES = frozenset(
    {"NotImplemented", "NotImplementedException", "InvalidAction", "UnknownOperationException"}
)


def is_unsupported(exc: ClientError) -> bool:
    """The endpoint does not implement the operation: a documented "not implemented" code, or
    an HTTP 404/501 without an AWS error code (an emulator's router found no handler)."""
    code = error_code(exc)
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in UNSUPPORTED_CODES or (status in (404, 501) and code in ("404", "501", ""))


def missing(exc: ClientError, *codes: str) -> bool:
    """True when a Get call failed only because the optional configuration is not set."""
    return exc.response.get("Error", {}).get("Code") in codes


def optional_get(call: Callable[..., Any], codes: tuple[str, ...], **kwargs: Any) -> Any:
    """Call a Get API; a missing configuration (`codes`) is a value (None), not an error."""
    try:
        return call(**kwargs)
    except ClientError as exc:
        if missing(exc, *codes):
            return None
        raise


def tagging_api(
    resource_type: str, arn: str | Callable[[Reader, Item], str]
) -> Callable[[Reader, list[Item]], None]:
    """Tags of every `resource_type` resource of the region from the Resource Groups Tagging
    API, 100 a call, instead of a tag call per resource. `arn` is the item's field holding its
    ARN, or a function making it. A resource it does not list has no tags. Denied (the role
    lacks tag:GetResources): the items keep no `_tags`, and their own `enrich` reads them one
    by one."""
    arn_of = (lambda r, i: str(i[arn])) if isinstance(arn, str) else arn

    def enrich(r: Reader, items: list[Item]) -> None:
        client = r.client_for("resourcegroupstaggingapi", r.region)
        pages = client.get_paginator("get_resources").paginate(
            ResourceTypeFilters=[resource_type], ResourcesPerPage=100
        )
        try:
            tags = {
                str(m["ResourceARN"]): tag_dict(m.get("Tags"))
                for m in pages.search("ResourceTagMappingList[]")
            }
        except ClientError as exc:
            if not is_denied(exc):
                raise
            return
        for i in items:
            i["_tags"] = tags.get(arn_of(r, i), {})

    return enrich
