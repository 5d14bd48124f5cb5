"""The AWS collector: accounts × regions × services read in parallel, each recorded as an ok or failed slice."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
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
from driftscan.collect.limits import Limiter, bounded_map
from driftscan.errors import Reason, SourceError
from driftscan.model import Resource
from driftscan.providers.aws.collect import session as aws_session
from driftscan.providers.aws.collect.services import GLOBAL, LIMITS, REGIONAL, SERVICES
from driftscan.providers.aws.collect.specs import (
    Found,
    Item,
    Reader,
    ResourceSpec,
    ServiceSpec,
    error_code,
    is_denied,
    is_unsupported,
)
from driftscan.providers.aws.source import AwsSource

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


def classify(exc: BaseException) -> Reason:
    """Map a botocore failure (after its retries) to a not-assessed reason."""
    if isinstance(exc, SourceError):  # driftscan's own refusal (a listing past its bound)
        return exc.reason
    if isinstance(exc, ClientError):
        if is_denied(exc):
            return "denied"
        if error_code(exc) in THROTTLED_CODES:
            return "throttled"
        if is_unsupported(exc):
            return "unsupported"
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


def _fanned(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`fn` for a worker thread of bounded_map: a failure carries the operation that thread
    was calling, since describe() runs in the slice's thread, which did not call it."""

    def run(arg: Any) -> Any:
        try:
            return fn(arg)
        except Exception as exc:
            if not hasattr(exc, "_driftscan_op"):
                exc._driftscan_op = getattr(_CALLING, "op", None)  # type: ignore[attr-defined]
            raise

    return run


def describe(exc: BaseException) -> str:
    """A one-line account of a failure: operation, HTTP status, error code, a short message.

    Never a response body: a body that failed to parse can hold every tag of every resource
    in the slice, secrets included (the caller bounds and redacts what is left).
    """
    op = getattr(exc, "_driftscan_op", None) or getattr(_CALLING, "op", None) or "request"
    if isinstance(exc, SourceError):  # its message is driftscan's own, never a payload's
        return exc.message
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
    """One client per (service, region), made on first use under a lock (sessions are not
    thread-safe). Every request a client sends first takes a token from its API family's
    bucket (the service spec's published limits), per account and region."""

    def __init__(self, session: boto3.Session, config: AwsSource, limiter: Limiter) -> None:
        self._session = session
        self._endpoint = config.endpoint_url
        # Each slice's items are read `fanout` at a time through one client per region, while
        # up to SPEC_WORKERS - 1 other resource types of the slice are listed beside them.
        pool = max(config.concurrency, *(svc.fanout for svc in SERVICES)) + SPEC_WORKERS
        self._config = aws_session.client_config(config, pool=pool)
        self._limiter = limiter
        self._lock = Lock()
        self._made: dict[tuple[str, str], Any] = {}
        self.account = "?"  # set once the caller's identity is known

    def __call__(self, service: str, region: str) -> Any:
        with self._lock:
            client = self._made.get((service, region))
            if client is None:
                client = cast(Any, self._session).client(
                    service, region_name=region, endpoint_url=self._endpoint, config=self._config
                )
                client.meta.events.register("before-call", _note_call)
                limits = LIMITS.get(service)
                if limits is not None:
                    # before-send fires once per attempt, so retries are paced too.
                    def pace(event_name: str, **_: Any) -> None:
                        op = event_name.rsplit(".", 1)[-1]
                        self._limiter.take(f"{self.account}/{region}", service, op, limits)

                    client.meta.events.register("before-send", pace)
                self._made[(service, region)] = client
            return client

    def close(self) -> None:
        """Drop every client (each holds its own connection pool, about 0.3 MB): an account
        whose slices are all read needs them no more, and an organisation has many accounts."""
        with self._lock:
            made, self._made = list(self._made.values()), {}
        for client in made:
            client.close()


def _items(reader: Reader, spec: ResourceSpec) -> Iterator[Item]:
    """Every item of a list call, following pagination wherever botocore knows how."""
    if spec.lister is not None:
        yield from spec.lister(reader)
        return
    client = reader.client
    if client.can_paginate(spec.call):
        pages = client.get_paginator(spec.call).paginate(**spec.params)
        for item in pages.search(spec.items):
            if item is not None:
                yield item
    else:
        yield from jmespath.search(spec.items, getattr(client, spec.call)(**spec.params)) or []


# Resource types of one slice listed at once, for a one-account source: there a few long
# slices (EC2, S3) hold the pool while the rest wait (bench_aws: scan 23.6 -> 15.8 s). An
# organisation's pool is full of other accounts' slices anyway, and the extra threads only
# contend for the GIL (20 accounts: 81 s with one at a time, 104 s with four).
SPEC_WORKERS = 4


class _Work:
    """One bounded pool for every slice of the source, across its accounts: a task may add
    more (an account, once its role is assumed, adds its regions × services)."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self._pool = pool
        self._lock = Lock()
        self._futures: list[Future[None]] = []

    def submit(self, fn: Callable[..., None], *args: Any) -> None:
        with self._lock:
            self._futures.append(self._pool.submit(fn, *args))

    def wait(self) -> None:
        """Until every task is done, those added meanwhile included; re-raises the first failure."""
        done = 0
        while True:
            with self._lock:
                if done == len(self._futures):
                    return
                f = self._futures[done]
            # A task adds its successors before it finishes, so once the last known one is
            # done nothing more can arrive.
            f.result()
            done += 1


class AwsCollector:
    """Reads one AWS source: every configured region × regional service, plus S3 and IAM once;
    with `accounts`, that for every member account, through its role, in one bounded pool."""

    def __init__(self, config: AwsSource) -> None:
        self.config = config

    def collect(self, ctx: CollectContext) -> None:
        try:
            session = aws_session.make_session(self.config)
            home = aws_session.home_region(self.config, session)
            clients = _Clients(session, self.config, ctx.limiter)
            ident = clients("sts", home).get_caller_identity()
            account, partition = str(ident["Account"]), str(ident["Arn"]).split(":")[1]
            clients.account = account
            ctx.run.identity = str(ident["Arn"])
            members = self._members(clients, home, account)
            read_self = self.config.accounts is None or account in members
            regions = self._regions(clients, home) if read_self else []
        except (ClientError, BotoCoreError) as exc:
            # Without credentials or an account there is nothing to scope slices by.
            raise SourceError(
                f"cannot read AWS account: {describe(exc)}",
                source=self.config.name,
                slice="*",
                reason=classify(exc),
            ) from exc
        if any(m != account for m in members):
            ctx.run.identity += f" (and role/{self.config.role_name} in each member account)"
        with ThreadPoolExecutor(self.config.concurrency, thread_name_prefix="aws") as pool:
            work = _Work(pool)
            # Member accounts are opened first (a few calls each), so their slices join the
            # queue while the caller's own are read, and a denied role is known early.
            for member in members:
                if member != account:
                    work.submit(self._open_account, work, ctx, member, partition, home)
            if read_self:
                self._read_account(work, ctx, clients, account, partition, home, regions)
            work.wait()

    def _members(self, clients: _Clients, home: str, caller: str) -> list[str]:
        """The accounts `accounts` names (none without it): the listed ones, or every ACTIVE
        account of the caller's organisation, less `exclude_accounts`, in a stable order."""
        wanted = self.config.accounts
        if wanted is None:
            return []
        if wanted == "organization":
            pages = clients("organizations", home).get_paginator("list_accounts").paginate()
            # Status is being replaced by State (2025); either says ACTIVE for a live account.
            found = [
                str(a["Id"])
                for a in pages.search("Accounts[]")
                if (a.get("State") or a.get("Status")) == "ACTIVE"
            ]
        else:
            found = list(wanted)
        skip = set(self.config.exclude_accounts)
        return sorted(dict.fromkeys(a for a in found if a not in skip))

    def _open_account(
        self, work: _Work, ctx: CollectContext, account: str, partition: str, home: str
    ) -> None:
        """Assume the role in a member account, then queue its slices; an account that cannot
        be opened is one failed slice (`<account>/*`) and the others go on."""
        assert self.config.role_name is not None  # the source model requires it with accounts
        role = aws_session.role_arn(partition, account, self.config.role_name)
        member = self.config.model_copy(update={"role_arn": role, "accounts": None})
        try:
            session = aws_session.make_session(member)
            clients = _Clients(session, self.config, ctx.limiter)
            clients.account = account
            # The first call assumes the role (botocore's deferred credentials).
            ident = clients("sts", home).get_caller_identity()
            if str(ident["Account"]) != account:
                raise SourceError(f"{role} answered as account {ident['Account']}", reason="error")
            regions = self._regions(clients, home)
        except (ClientError, BotoCoreError, SourceError) as exc:
            detail = exc.message if isinstance(exc, SourceError) else describe(exc)
            reason = exc.reason if isinstance(exc, SourceError) else classify(exc)
            err = SourceError(
                f"account {account} not read through {role}: {detail}",
                source=self.config.name,
                slice=f"{account}/*",
                reason=reason,
            )
            ctx.slice_failed(f"{account}/*", err, account=account)
            return
        self._read_account(work, ctx, clients, account, partition, home, regions)

    def _read_account(
        self,
        work: _Work,
        ctx: CollectContext,
        clients: _Clients,
        account: str,
        partition: str,
        home: str,
        regions: list[str],
    ) -> None:
        """Queue one account's slices: its global services, then regions × regional ones;
        the last of them to finish closes the account's clients."""
        # Service by service, each in every region: the long slices (EC2 with its per-instance
        # reads) of every region start first, rather than one region's waiting behind all of
        # the region before it.
        jobs: list[tuple[ServiceSpec, str | None]] = [(svc, None) for svc in GLOBAL]
        jobs += [(svc, region) for svc in REGIONAL for region in regions]
        left, lock = [len(jobs)], Lock()

        def read(svc: ServiceSpec, region: str | None) -> None:
            try:
                self._read_slice(
                    ctx, clients, svc, account, partition, region or home, region, regions
                )
            finally:
                with lock:
                    left[0] -= 1
                    last = left[0] == 0
                if last:
                    clients.close()

        for svc, region in jobs:
            work.submit(read, svc, region)

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
        regions: list[str],
    ) -> None:
        name = f"{account}/{region or 'global'}/{svc.name}"
        cover: dict[str, Any] = {"account": account, "region": region, "types": svc.types}

        def read() -> list[Resource]:
            reader = Reader(
                account,
                partition,
                region or "global",
                clients(svc.client, client_region),
                clients,
                ctx.fingerprint,
                tuple(regions),
            )
            if any(spec.locate is not None for spec in svc.resources):
                return self._read_by_region(ctx, clients, svc, reader)
            # A slice's resource types are listed side by side (EC2 has 7, one call each but
            # instances, whose attribute reads would otherwise hold up the other 6).
            specs = svc.resources
            read_spec = partial(self._read_spec, reader, svc=svc)
            side = SPEC_WORKERS if self.config.accounts is None else 1
            got = bounded_map(_fanned(read_spec), specs, min(side, len(specs)))
            return [res for found in got for res in found]

        self._record(ctx, name, cover, read)

    def _record(
        self,
        ctx: CollectContext,
        name: str,
        cover: dict[str, Any],
        read: Callable[[], list[Resource]],
    ) -> None:
        """Run one slice's reading and record it as ok, or failed with its reason."""
        try:
            found = read()
        except Exception as exc:  # one region × service failing never stops the others
            err = SourceError(
                describe(exc), source=self.config.name, slice=name, reason=classify(exc)
            )
            ctx.slice_failed(name, err, **cover)
            return
        found.sort(key=lambda r: (r.type, r.key))
        ctx.add_many(found)
        ctx.slice_ok(name, resources=len(found), **cover)

    def _read_by_region(
        self, ctx: CollectContext, clients: _Clients, svc: ServiceSpec, reader: Reader
    ) -> list[Resource]:
        """A global listing (S3) read as one slice per item region, the regions at once.

        Returns what the listing slice itself holds: the items whose region could not be read.
        """
        unplaced: list[Resource] = []
        by_region: dict[str, list[tuple[ResourceSpec, int, Item]]] = {}
        for spec in svc.resources:
            items = list(_items(reader, spec))
            located = bounded_map(
                _fanned(partial(self._locate, reader, spec)), items, _workers(svc, items)
            )
            for n, item in enumerate(located):
                if "_denied" in item:
                    unplaced.append(self._one(reader, spec, n, item))
                else:
                    by_region.setdefault(item["_region"], []).append((spec, n, item))

        def read_region(region: str) -> None:
            here = dataclasses.replace(reader, region=region, client=clients(svc.client, region))

            def read() -> list[Resource]:
                out: list[Resource] = []
                for spec in svc.resources:
                    mine = [(n, item) for s, n, item in by_region[region] if s is spec]
                    self._enrich_batches(here, spec, [item for _, item in mine])
                    out += bounded_map(
                        _fanned(partial(self._one_of, here, spec)), mine, _workers(svc, mine)
                    )
                return out

            cover = {"account": reader.account, "region": region, "types": svc.types}
            self._record(ctx, f"{reader.account}/{region}/{svc.name}", cover, read)

        # Regions overlap; within each, items are read `fanout` at a time.
        list(bounded_map(read_region, sorted(by_region), min(8, len(by_region))))
        return unplaced

    def _locate(self, reader: Reader, spec: ResourceSpec, item: Item) -> Item:
        """Set the item's `_region`; a denied lookup marks it not assessed (`_denied`)."""
        assert spec.locate is not None
        try:
            item["_region"] = spec.locate(reader, item)
        except ClientError as exc:
            if not is_denied(exc):
                raise
            item["_denied"] = f"denied: {describe(exc)}"
        return item

    def _enrich_batches(self, reader: Reader, spec: ResourceSpec, items: list[Item]) -> None:
        """The spec's batch enrichment over `items`; a denied batch marks its items not assessed."""
        if spec.enrich_batch is None or not items:
            return
        size = spec.batch or len(items)
        for start in range(0, len(items), size):
            chunk = items[start : start + size]
            try:
                spec.enrich_batch(reader, chunk)
            except ClientError as exc:
                if not is_denied(exc):
                    raise
                for item in chunk:
                    item["_denied"] = f"denied: {describe(exc)}"

    def _read_spec(self, reader: Reader, spec: ResourceSpec, *, svc: ServiceSpec) -> list[Resource]:
        items = list(_items(reader, spec))
        self._enrich_batches(reader, spec, items)
        one = partial(self._one_of, reader, spec)
        return list(bounded_map(_fanned(one), enumerate(items), _workers(svc, items)))

    def _one_of(self, reader: Reader, spec: ResourceSpec, n_item: tuple[int, Item]) -> Resource:
        return self._one(reader, spec, *n_item)

    def _one(self, reader: Reader, spec: ResourceSpec, n: int, item: Item) -> Resource:
        """One listed item as a Resource: its identity, its detail calls, its facets."""
        try:
            key = spec.key(reader, item)
        except Exception as exc:
            placeholder = f"{reader.account}/{reader.region}/{spec.type}#{n}"
            return self._resource(reader, spec, placeholder, _bare(placeholder), _parse_error(exc))
        if "_denied" in item:
            return self._resource(
                reader, spec, key, _bare(key, item.get("_region")), str(item["_denied"])
            )
        try:
            if spec.enrich is not None:
                spec.enrich(reader, item)
        except ClientError as exc:
            # One item's detail denied (e.g. a bucket policy that locks the scanner out): the
            # item is not assessed, the rest of the slice is. Anything else fails the slice.
            if not is_denied(exc):
                raise
            bare = _bare(key, item.get("_region"))
            return self._resource(reader, spec, key, bare, f"denied: {describe(exc)}")
        try:
            found = spec.build(reader, item)
        except Exception as exc:
            return self._resource(
                reader, spec, key, _bare(key, item.get("_region")), _parse_error(exc)
            )
        return self._resource(reader, spec, key, found)

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


def _workers(svc: ServiceSpec, items: list[Any]) -> int:
    """Threads for a slice's items: no more than there are items, so the many empty or
    one-item listings of an organisation are read in the slice's own thread (a pool of 16
    threads started for each of them cost more CPU than reading them)."""
    return min(svc.fanout, len(items))


def _bare(key: str, region: str | None = None) -> Found:
    """What is known of an item that could not be read: its name (from the key), maybe its region."""
    return Found(name=key.rsplit("/", 1)[-1].rsplit(":", 1)[-1], region=region)
