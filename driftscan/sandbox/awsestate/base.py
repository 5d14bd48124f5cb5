"""What every part of the seeded AWS estate shares: the account, clients, and the record of what was made."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, cast

import boto3

ACCOUNT = "123456789012"  # moto's default account
# Dummy credentials for the sandbox only; handed to clients explicitly, never read from the host.
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@dataclass
class Region:
    """The core estate of one region, for the domain seeders to build on."""

    index: int  # 0 for the first region: the "good" configuration; others drift
    vpc_id: str
    subnet_ids: list[str]
    security_group_id: str
    instance_id: str
    image_id: str
    load_balancer_arn: str
    target_group_arn: str
    function_name: str
    kms_key_id: str
    bucket: str


@dataclass
class Estate:
    """What `seed_estate` created: the expected resource keys by type, and the canary secret."""

    account: str
    regions: tuple[str, ...]
    canary: str
    keys: dict[str, set[str]] = field(default_factory=dict)
    context: dict[str, Region] = field(default_factory=dict)
    role_arn: str = ""

    def add(self, type_: str, key: str) -> None:
        self.keys.setdefault(type_, set()).add(key)


_MAKING = threading.Lock()
_session: boto3.Session | None = None


def client(
    service: str,
    endpoint_url: str,
    region: str,
    *,
    credentials: dict[str, str] = CREDENTIALS,
    **config: Any,
) -> Any:
    """A boto3 client on the sandbox, with its dummy credentials or those given (a member
    account's); safe from any thread."""
    global _session
    # Clients are thread-safe, sessions are not: the seeders make clients on threads, so
    # they are made one at a time. The session has the collector's shared model loader, so
    # a scan in this process (the demo's) does not parse the seeded services' models again.
    with _MAKING:
        if _session is None:
            from driftscan.providers.aws.collect.session import prepare

            _session = prepare(boto3.Session())
        return cast(Any, _session).client(
            service, region_name=region, endpoint_url=endpoint_url, **credentials, **config
        )
