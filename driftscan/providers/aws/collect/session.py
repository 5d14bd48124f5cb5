"""The boto3 session and client settings for one AWS source: profile, assumed roles, retries."""

from __future__ import annotations

import threading
from functools import partial
from typing import TYPE_CHECKING, Any, cast

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    CredentialProvider,
    CredentialResolver,
    Credentials,
    RefreshableCredentials,
)
from botocore.exceptions import NoCredentialsError
from botocore.loaders import Loader
from botocore.paginate import PageIterator

from driftscan.collect import limits
from driftscan.errors import SourceError
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


_loader_lock = threading.Lock()
_loader: Loader | None = None


if TYPE_CHECKING:  # generic in the type stubs only
    _Pages = PageIterator[Any]
else:
    _Pages = PageIterator


class _BoundedPages(_Pages):
    """botocore's page iterator, refusing a listing past MAX_PAGES pages (botocore refuses a
    repeated token itself, but follows a chain of new ones for ever)."""

    def __iter__(self) -> Any:
        for n, page in enumerate(super().__iter__(), 1):
            if n > limits.MAX_PAGES:
                name = getattr(getattr(self, "_method", None), "__name__", "a listing")
                raise SourceError(
                    f"{name}: more than {limits.MAX_PAGES:,} pages; not read", reason="parse"
                )
            yield page


class _BoundedPaging:
    """Client mixin: every paginator it hands out iterates through _BoundedPages."""

    def get_paginator(self, operation_name: str) -> Any:
        paginator = super().get_paginator(operation_name)  # type: ignore[misc]
        paginator.PAGE_ITERATOR_CLS = _BoundedPages
        return paginator


def _add_bounded_paging(base_classes: list[type], **_: Any) -> None:
    base_classes.insert(0, _BoundedPaging)


def prepare(session: boto3.Session) -> boto3.Session:
    """Give the session the process's one botocore data loader, and clients whose paginators
    stop at MAX_PAGES pages (collect/limits.py).

    Each botocore session otherwise parses every service model it uses again (EC2's is
    megabytes of JSON): once per member account of an organisation, not once per scan.
    The models are read-only data, so sharing them across sessions and threads is safe.
    """
    global _loader
    # botocore's own hook for shaping client classes: the mixin comes first in their bases.
    session.events.register(
        "creating-client-class", _add_bounded_paging, unique_id="driftscan-bounded-paging"
    )
    core: Any = cast(Any, session)._session
    with _loader_lock:
        if _loader is None:
            # The first session's own: it has boto3's search path and honours AWS_DATA_PATH.
            _loader = core.get_component("data_loader")
        else:
            core.register_component("data_loader", _loader)
    return session


def role_arn(partition: str, account: str, role_name: str) -> str:
    """The ARN of `role_name` in `account` (IAM is global: no region)."""
    return f"arn:{partition}:iam::{account}:role/{role_name}"


def make_session(config: AwsSource) -> boto3.Session:
    """A session for the source: its profile (or the default chain), then its role if it has one.

    The collector makes every client from this session, so hooks registered on its event
    system (tests: a read-only allow-list) see every call. For an organisation the collector
    calls it once more per member account, with that account's role as `role_arn`.
    """
    base = prepare(boto3.Session(profile_name=config.profile))
    region = home_region(config, base)
    if not config.role_arn:
        return (
            base
            if base.region_name
            else prepare(boto3.Session(profile_name=config.profile, region_name=region))
        )
    return assumed_session(base, config, config.role_arn, region)


class _Assumed(CredentialProvider):
    """A credential chain of one link: the assumed role's refreshable credentials."""

    METHOD = "assume-role"
    CANONICAL_NAME = "AssumeRole"

    def __init__(self, credentials: Credentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> Credentials:
        return self._credentials


def assumed_session(
    base: boto3.Session, config: AwsSource, role: str, region: str
) -> boto3.Session:
    """A session acting as `role`, assumed now with `base`'s credentials.

    botocore's refreshable credentials assume the role again when fewer than 15 minutes of
    the session are left (any caller, without waiting) and before the last 10 (every caller
    waits for the new ones), so a scan longer than `session_duration_s` never sends an
    expired token. A role that cannot be assumed raises here, botocore's ClientError.
    """
    source = base.get_credentials()
    if source is None:
        raise NoCredentialsError()
    core: Any = cast(Any, base)._session
    fetcher = AssumeRoleCredentialFetcher(
        partial(
            core.create_client,
            region_name=region,
            endpoint_url=config.endpoint_url,
            config=client_config(config),
        ),
        source,
        role,
        extra_args={"RoleSessionName": SESSION_NAME, "DurationSeconds": config.session_duration_s},
    )
    # The first assumption is made here rather than on first use, so a refused role is the
    # caller's error to record (botocore would log a traceback for it, then raise anyway).
    creds = RefreshableCredentials.create_from_metadata(
        fetcher.fetch_credentials(), fetcher.fetch_credentials, "assume-role"
    )
    member = botocore.session.Session()
    member.register_component("credential_provider", CredentialResolver([_Assumed(creds)]))
    return prepare(boto3.Session(botocore_session=member, region_name=region))
