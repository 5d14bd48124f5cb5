"""The AWS collector: regions × services read in parallel, each recorded as an ok or failed slice."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from threading import Lock
from typing import Any, cast

import boto3
import jmespath
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.parsers import ResponseParserError

from driftscan.collect.base import CollectContext
from driftscan.errors import Reason, SourceError
from driftscan.model import Resource
from driftscan.providers.aws.collect import session as aws_session
from driftscan.providers.aws.collect.specs import (
    GLOBAL,
    REGIONAL,
    Found,
    Item,
    Reader,
    ResourceSpec,
    ServiceSpec,
)
from driftscan.providers.aws.source import AwsSource

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
THROTTLED_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "SlowDown",
        "RequestThrottled",
        "RequestThrottledException",
        "ProvisionedThroughputExceededException",
    }
)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def classify(exc: BaseException) -> Reason:
    """Map a botocore failure (after its retries) to a not-assessed reason."""
    if isinstance(exc, ClientError):
        code = error_code(exc)
        if code in DENIED_CODES or "NotAuthorized" in code:
            return "denied"
        if code in THROTTLED_CODES:
            return "throttled"
        return "error"
    # ConnectTimeoutError is a ConnectionError too: timeouts first.
    if isinstance(exc, ReadTimeoutError | ConnectTimeoutError):
        return "timeout"
    if isinstance(exc, EndpointConnectionError | ConnectionClosedError | BotoConnectionError):
        return "unreachable"
    if isinstance(exc, NoCredentialsError | PartialCredentialsError | ProfileNotFound):
        return "denied"
    return "error"


# The operation each thread is calling: a parse failure does not say which call it was.
_CALLING = threading.local()


def _note_call(model: Any = None, **_: Any) -> None:
    _CALLING.op = getattr(model, "name", None)


def describe(exc: BaseException) -> str:
    """A one-line account of a failure: operation, HTTP status, error code, a short message.

    Never a response body: a body that failed to parse can hold every tag of every resource
    in the slice, secrets included (the caller bounds and redacts what is left).
    """
    op = getattr(_CALLING, "op", None) or "request"
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = err.get("Code", "?")
        message = str(err.get("Message", ""))[:200]
        where = f"{exc.operation_name}: HTTP {status} " if status else f"{exc.operation_name}: "
        return f"{where}{code}: {message}".rstrip(": ")
    if isinstance(exc, ResponseParserError):
        return f"{op}: the response could not be parsed (malformed XML or JSON)"
    if isinstance(exc, BotoCoreError):
        return f"{op}: {type(exc).__name__}: {str(exc)[:200]}"
    return f"{op}: {type(exc).__name__}"


def _parse_error(exc: Exception) -> str:
    # The message of e.g. a ValueError can quote the offending value, which may be a secret.
    return f"parse: {type(exc).__name__}" + (f" {exc}" if isinstance(exc, KeyError) else "")


class _Clients:
    """One client per (service, region), made on first use under a lock (sessions are not thread-safe)."""

    def __init__(self, session: boto3.Session, config: AwsSource) -> None:
        self._session = session
        self._endpoint = config.endpoint_url
        self._config = aws_session.client_config(config)
        self._lock = Lock()
        self._made: dict[tuple[str, str], Any] = {}

    def __call__(self, service: str, region: str) -> Any:
        with self._lock:
            client = self._made.get((service, region))
            if client is None:
                client = cast(Any, self._session).client(
                    service, region_name=region, endpoint_url=self._endpoint, config=self._config
                )
                client.meta.events.register("before-call", _note_call)
                self._made[(service, region)] = client
            return client


def _items(client: Any, spec: ResourceSpec) -> Iterator[Item]:
    """Every item of a list call, following pagination wherever botocore knows how."""
    if client.can_paginate(spec.call):
        pages = client.get_paginator(spec.call).paginate(**spec.params)
        for item in pages.search(spec.items):
            if item is not None:
                yield item
    else:
        yield from jmespath.search(spec.items, getattr(client, spec.call)(**spec.params)) or []


class AwsCollector:
    """Reads one AWS source: every configured region × regional service, plus S3 and IAM once."""

    def __init__(self, config: AwsSource) -> None:
        self.config = config

    def collect(self, ctx: CollectContext) -> None:
        try:
            session = aws_session.make_session(self.config)
            home = aws_session.home_region(self.config, session)
            clients = _Clients(session, self.config)
            ident = clients("sts", home).get_caller_identity()
            account, partition = str(ident["Account"]), str(ident["Arn"]).split(":")[1]
            ctx.run.identity = str(ident["Arn"])
            regions = self._regions(clients, home)
        except (ClientError, BotoCoreError) as exc:
            # Without credentials or an account there is nothing to scope slices by.
            raise SourceError(
                f"cannot read AWS account: {describe(exc)}",
                source=self.config.name,
                slice="*",
                reason=classify(exc),
            ) from exc
        jobs: list[tuple[ServiceSpec, str | None]] = [(svc, None) for svc in GLOBAL]
        jobs += [(svc, region) for region in regions for svc in REGIONAL]
        with ThreadPoolExecutor(self.config.concurrency, thread_name_prefix="aws") as pool:
            futures = [
                pool.submit(
                    self._read_slice, ctx, clients, svc, account, partition, region or home, region
                )
                for svc, region in jobs
            ]
            for f in futures:
                f.result()

    def _regions(self, clients: _Clients, home: str) -> list[str]:
        if "all" not in self.config.regions:
            return list(dict.fromkeys(self.config.regions))
        resp = clients("ec2", home).describe_regions(AllRegions=False)
        return sorted(
            r["RegionName"] for r in resp["Regions"] if r.get("OptInStatus") != "not-opted-in"
        )

    def _read_slice(
        self,
        ctx: CollectContext,
        clients: _Clients,
        svc: ServiceSpec,
        account: str,
        partition: str,
        client_region: str,
        region: str | None,
    ) -> None:
        name = f"{account}/{region or 'global'}/{svc.name}"
        cover: dict[str, Any] = {"account": account, "region": region, "types": svc.types}
        try:
            reader = Reader(
                account,
                partition,
                region or "global",
                clients(svc.client, client_region),
                clients,
                ctx.fingerprint,
            )
            found = [res for spec in svc.resources for res in self._read_spec(reader, spec)]
        except Exception as exc:  # one region × service failing never stops the others
            err = SourceError(
                describe(exc), source=self.config.name, slice=name, reason=classify(exc)
            )
            ctx.slice_failed(name, err, **cover)
            return
        found.sort(key=lambda r: (r.type, r.key))
        ctx.add_many(found)
        ctx.slice_ok(name, resources=len(found), **cover)

    def _read_spec(self, reader: Reader, spec: ResourceSpec) -> Iterator[Resource]:
        for n, item in enumerate(_items(reader.client, spec)):
            try:
                key = spec.key(reader, item)
            except Exception as exc:
                # No identity: keep a placeholder so the gap shows instead of vanishing.
                placeholder = f"{reader.account}/{reader.region}/{spec.type}#{n}"
                yield self._resource(
                    reader, spec, placeholder, _bare(placeholder), _parse_error(exc)
                )
                continue
            try:
                if spec.enrich is not None:
                    spec.enrich(reader, item)
            except ClientError as exc:
                # One item's detail denied (e.g. a bucket policy that locks the scanner out):
                # the item is not assessed, the rest of the slice is. Anything else fails the slice.
                if classify(exc) != "denied":
                    raise
                bare = _bare(key, item.get("_region"))
                yield self._resource(reader, spec, key, bare, f"denied: {describe(exc)}")
                continue
            try:
                found = spec.build(reader, item)
            except Exception as exc:
                yield self._resource(
                    reader, spec, key, _bare(key, item.get("_region")), _parse_error(exc)
                )
                continue
            yield self._resource(reader, spec, key, found)

    def _resource(
        self, reader: Reader, spec: ResourceSpec, key: str, found: Found, error: str | None = None
    ) -> Resource:
        return Resource(
            key=key,
            provider="aws",
            source=self.config.name,
            account=reader.account,
            region=found.region or reader.region,
            type=spec.type,
            name=found.name,
            tags=found.tags,
            attrs=found.attrs,
            encrypted=found.encrypted,
            public=found.public,
            error=error,
        )


def _bare(key: str, region: str | None = None) -> Found:
    """What is known of an item that could not be read: its name (from the key), maybe its region."""
    return Found(name=key.rsplit("/", 1)[-1].rsplit(":", 1)[-1], region=region)
