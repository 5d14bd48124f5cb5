"""Azure collector: subscriptions (listed, all, or below a management group), their resources of
every type read through ARM or Resource Graph, and their security settings."""

from __future__ import annotations

import math
import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.pipeline import PipelineRequest
from azure.core.rest import HttpRequest

from driftscan.collect.base import CollectContext
from driftscan.collect.limits import bounded_map
from driftscan.errors import SourceError
from driftscan.model import Resource
from driftscan.providers.azure.client import (
    ALLOWED_POSTS,
    ARM_LIST_API,
    MANAGEMENT_GROUPS_API,
    PROVIDERS_API,
    SUBSCRIPTIONS_API,
    Arm,
    EnvTokenCredential,
    HttpFailure,
    ReadOnlyPolicy,
    ReadOnlyViolation,
    Tuning,
    check_read_only,
)
from driftscan.providers.azure.facets import CHILD_TYPES, SPECS, TypeSpec, region_name
from driftscan.providers.azure.keys import RESOURCE_GROUP_TYPE, SUBSCRIPTION_TYPE, azure_type
from driftscan.providers.azure.secrets import TOP_LEVEL, redact
from driftscan.providers.azure.settings import read_settings
from driftscan.providers.azure.source import AzureSource
from driftscan.redaction import Fingerprinter

__all__ = [
    "ALLOWED_POSTS",
    "AzureCollector",
    "EnvTokenCredential",
    "ReadOnlyPolicy",
    "ReadOnlyViolation",
    "Tuning",
    "check_read_only",
]

LIST_EXPAND = "createdTime,changedTime"

# Resource Graph: every type of the Resources table with its full properties (no type filter),
# and the resource groups. Subscriptions are queried in batches; each row says whose it is.
GRAPH_RESOURCES = (
    "Resources | project id, name, type, location, tags, kind, sku, identity, managedBy, plan,"
    " zones, properties, subscriptionId | order by id asc"
)
GRAPH_GROUPS = (
    "ResourceContainers | where type =~ 'microsoft.resources/subscriptions/resourcegroups'"
    " | project id, name, type, location, tags, managedBy, properties, subscriptionId"
    " | order by id asc"
)
# Subscriptions per Resource Graph query (the service's documented maximum is 1,000), and
# subscriptions (or batches of them) read at once.
GRAPH_BATCH = 1000
WORKERS = 4

_SUB_OF = re.compile(r"^/subscriptions/([^/]+)", re.IGNORECASE)


def _id_parts(rid: str) -> tuple[str | None, str]:
    """(resource group, name) from an ARM id; child names join with '/' as ARM lists them."""
    segs = [s for s in rid.split("/") if s]
    rg = segs[3] if len(segs) > 3 and segs[2].lower() == "resourcegroups" else None
    low = [s.lower() for s in segs]
    if "providers" in low:
        i = len(low) - 1 - low[::-1].index("providers")
        names = segs[i + 3 :: 2]
        return rg, "/".join(names)
    return rg, segs[-1] if segs else ""


def newest_api_version(versions: Iterable[Any]) -> str | None:
    """The newest stable api-version of a list (a preview only when there is nothing else)."""
    names = sorted({v for v in versions if isinstance(v, str)}, reverse=True)
    stable = [v for v in names if "preview" not in v.lower()]
    pick = stable or names
    return pick[0] if pick else None


@dataclass
class _Sub:
    """One subscription being read: its document, listings, resources and failures."""

    id: str
    groups_path: list[str] = field(default_factory=list)  # management groups, root first
    doc: dict[str, Any] | None = None
    groups: list[Any] = field(default_factory=list)
    items: list[Any] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    failure: SourceError | None = None  # the whole subscription could not be listed
    failures: list[SourceError] = field(default_factory=list)  # some reads failed
    api_versions: dict[str, str] | None = None


class AzureCollector:
    """Reads the configured subscriptions: one slice per subscription (design §3.2)."""

    def __init__(
        self,
        config: AzureSource,
        *,
        tuning: Tuning | None = None,
        credential: TokenCredential | None = None,
        raw_request_hook: Callable[[PipelineRequest[HttpRequest]], None] | None = None,
    ) -> None:
        self.config = config
        self.tuning = tuning or Tuning.from_env()
        self._credential = credential
        self._hook = raw_request_hook
        self.arm: Arm | None = None
        self._fp = Fingerprinter.throwaway()  # replaced by the store's key in collect()

    # -- setup --------------------------------------------------------------------------

    def _make_credential(self) -> TokenCredential:
        if self._credential is not None:
            return self._credential
        if self.config.credential == "token_env":
            token = os.environ.get("AZURE_ACCESS_TOKEN", "").strip()
            if not token:
                raise SourceError(
                    "credential 'token_env' needs a bearer token in $AZURE_ACCESS_TOKEN, which is not set",
                    source=self.config.name,
                    slice="*",
                    reason="denied",
                )
            return EnvTokenCredential(token)
        from azure.identity import DefaultAzureCredential

        return DefaultAzureCredential(connection_verify=self.config.ca_bundle or True)

    def client(self) -> Arm:
        """The ARM pipeline this collector reads through (built on first use)."""
        if self.arm is None:
            self.arm = Arm(self.config, self._make_credential(), self.tuning, self._hook)
        return self.arm

    # -- collection ---------------------------------------------------------------------

    def collect(self, ctx: CollectContext) -> None:
        self._fp = ctx.fingerprint
        ctx.run.identity = (
            "bearer token from $AZURE_ACCESS_TOKEN"
            if self.config.credential == "token_env"
            else "DefaultAzureCredential"
        ) + f" at {self.config.endpoint}"
        wanted = [s.strip().lower() for s in self.config.subscriptions]
        explicit = [s for s in wanted if s != "all"]
        try:
            arm = self.client()
        except SourceError as exc:
            if not explicit or self.config.management_group:
                raise
            for sub in explicit:
                self._failed(ctx, sub, exc)
            return
        arm.buckets.limiter = ctx.limiter  # shared with the scan's other sources
        try:
            if self.config.management_group:
                subs = self._below_group(arm, self.config.management_group)
            elif "all" in wanted:
                subs = [_Sub(s) for s in self._discover(arm, explicit)]
            else:
                subs = [_Sub(s) for s in explicit]
            if not subs:
                raise SourceError(
                    "no subscriptions are visible to this identity",
                    source=self.config.name,
                    slice="*",
                    reason="denied",
                )
            self._read_all(arm, subs)
        finally:
            arm.close()
        # Recorded in subscription order, not completion order: equal estates give equal runs.
        for one in subs:
            ctx.add_many(one.resources)
            failure = one.failure or _summarise(one.failures)
            if failure is not None:
                self._failed(ctx, one.id, failure, resources=len(one.resources))
            else:
                ctx.slice_ok(
                    one.id, resources=len(one.resources), account=one.id, region=None, types=[]
                )

    def _discover(self, arm: Arm, extra: list[str]) -> list[str]:
        found: list[str] = []
        try:
            for item in arm.list_all("/subscriptions", SUBSCRIPTIONS_API):
                if (
                    isinstance(item, dict)
                    and item.get("state") != "Deleted"
                    and item.get("subscriptionId")
                ):
                    found.append(str(item["subscriptionId"]).lower())
        except SourceError as exc:
            raise SourceError(
                f"listing subscriptions: {exc.message}",
                source=self.config.name,
                slice="*",
                reason=exc.reason,
            ) from None
        return sorted(set(found) | set(extra))

    def _below_group(self, arm: Arm, group: str) -> list[_Sub]:
        """Every subscription below a management group, nested groups included, each with the
        chain of groups above it (the named group first)."""
        path = f"/providers/Microsoft.Management/managementGroups/{group}/descendants"
        try:
            items = [i for i in arm.list_all(path, MANAGEMENT_GROUPS_API) if isinstance(i, dict)]
        except SourceError as exc:
            raise SourceError(
                f"listing management group {group}: {exc.message}",
                source=self.config.name,
                slice="*",
                reason=exc.reason,
            ) from None
        parent: dict[str, str] = {}
        subs: list[str] = []
        for item in items:
            rid = str(item.get("id") or "")
            name = str(item.get("name") or rid.rsplit("/", 1)[-1]).lower()
            props = item.get("properties") if isinstance(item.get("properties"), dict) else item
            up = props.get("parent") if isinstance(props, dict) else None
            up_id = str(up.get("id") or "") if isinstance(up, dict) else ""
            is_sub = str(item.get("type") or "").lower().endswith(
                "/subscriptions"
            ) or rid.lower().startswith("/subscriptions/")
            key = f"sub:{name}" if is_sub else f"mg:{name}"
            if up_id:
                parent[key] = up_id.rstrip("/").rsplit("/", 1)[-1].lower()
            if is_sub and name:
                subs.append(name)

        def chain(key: str) -> list[str]:
            out: list[str] = []
            while key in parent and len(out) < 10:  # ARM nests at most six levels
                up = parent[key]
                out.append(up)
                if up == group.lower():
                    break
                key = f"mg:{up}"
            return out[::-1]

        return [_Sub(s, chain(f"sub:{s}")) for s in sorted(set(subs))]

    def _failed(self, ctx: CollectContext, sub: str, exc: SourceError, resources: int = 0) -> None:
        err = SourceError(exc.message, source=self.config.name, slice=sub, reason=exc.reason)
        ctx.slice_failed(sub, err, account=sub, region=None, types=[], resources=resources)

    # -- one pass over the subscriptions ------------------------------------------------------

    def _read_all(self, arm: Arm, subs: list[_Sub]) -> None:
        graph = self.config.mode == "resource-graph"
        workers = min(WORKERS, len(subs))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="azure-sub") as pool:
            # An explicit read of each subscription first: Resource Graph silently leaves out
            # subscriptions it cannot read, and "no rows" must never pass for "nothing there".
            list(pool.map(lambda s: self._open(arm, s, listing=not graph), subs))
            if not graph:
                list(pool.map(lambda s: self._subscription(arm, s, graph), subs))
                return
            # Subscriptions in as many batches as workers (at most GRAPH_BATCH each): while one
            # batch pages through Resource Graph, another builds its resources.
            readable = [s for s in subs if s.failure is None]
            size = min(GRAPH_BATCH, max(1, math.ceil(len(readable) / workers)))
            batches = [readable[i : i + size] for i in range(0, len(readable), size)]

            def batch(group: list[_Sub]) -> None:
                self._graph_listing(arm, group)
                for one in group:
                    self._subscription(arm, one, graph)

            list(pool.map(batch, batches))

    def _open(self, arm: Arm, sub: _Sub, *, listing: bool) -> None:
        try:
            sub.doc = arm.get(f"/subscriptions/{sub.id}", SUBSCRIPTIONS_API)
            if listing:
                sub.groups = arm.list_all(f"/subscriptions/{sub.id}/resourcegroups", ARM_LIST_API)
                params = {"$expand": LIST_EXPAND, "api-version": ARM_LIST_API}
                sub.items = [
                    r
                    for page in arm.pages(f"/subscriptions/{sub.id}/resources", params)
                    for r in page
                ]
        except SourceError as exc:
            # Nothing from a failed listing is kept: a partial list must not pass for the estate.
            sub.failure, sub.groups, sub.items = exc, [], []

    def _graph_listing(self, arm: Arm, batch: list[_Sub]) -> None:
        """Page a batch's groups and resources through Resource Graph. Rows that need no
        further read become resources as their page arrives (a page at a time is held, not the
        whole listing); the others wait for `_subscription`. A failed query keeps nothing."""
        by_id = {s.id: s for s in batch}
        ids = [s.id for s in batch]

        def place(row: Any) -> _Sub | None:
            owner = _row_subscription(row)
            target = by_id.get(owner) if owner else None
            if target is None:
                # A row we cannot place: every subscription of the batch may be missing it.
                for s in batch:
                    s.failures.append(
                        SourceError(
                            f"a Resource Graph row of no requested subscription ({owner or 'no id'})",
                            reason="parse",
                        )
                    )
            return target

        try:
            for page in arm.graph(GRAPH_GROUPS, ids):
                for row in page:
                    target = place(row)
                    if target is not None:
                        target.groups.append(row)
            for page in arm.graph(GRAPH_RESOURCES, ids):
                for row in page:
                    target = place(row)
                    if target is None:
                        continue
                    spec = (
                        SPECS.get(str(row.get("type", "")).lower())
                        if isinstance(row, dict)
                        else None
                    )
                    plain = spec is None or (spec.extras is None and not spec.children)
                    if plain and isinstance(row.get("id"), str):
                        rtype = str(row.get("type", "")).lower()
                        target.resources.append(self._build(target.id, row, row, {}, rtype=rtype))
                    else:
                        target.items.append(row)
        except SourceError as exc:
            for s in batch:
                s.failure, s.groups, s.items, s.resources = exc, [], [], []

    def _subscription(self, arm: Arm, sub: _Sub, graph: bool) -> None:
        """Build one subscription's resources: its own, its groups', its listed resources'
        (read in full where needed) and its settings'."""
        if sub.failure is not None or sub.doc is None:
            return
        out, sub.resources = sub.resources, []  # any built while their pages arrived
        settings = read_settings(arm, sub.id)
        sub.failures.extend(settings.failures)
        out.append(self._subscription_resource(sub, settings.summary))
        for setting, doc in settings.docs:
            out.append(self._build(sub.id, doc, doc, {}, rtype=setting.type))
        for g in sub.groups:
            if not isinstance(g, dict) or not isinstance(g.get("id"), str):
                sub.failures.append(
                    SourceError("a resource group without an id in the listing", reason="parse")
                )
                continue
            out.append(self._build(sub.id, g, g, {}, rtype=RESOURCE_GROUP_TYPE))
        # The rows go as their resources come (a deque drained in order), so a subscription's
        # listing and its resources are not both held in full.
        listed: deque[dict[str, Any]] = deque()
        items, sub.items = sub.items, []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                sub.failures.append(
                    SourceError("a resource without an id in the listing", reason="parse")
                )
            else:
                listed.append(item)
        del items
        if not graph and any(str(i.get("type", "")).lower() not in SPECS for i in listed):
            self._provider_versions(arm, sub)

        def drain() -> Iterator[dict[str, Any]]:
            while listed:
                yield listed.popleft()

        for resources, failure in bounded_map(
            lambda i: self._read(arm, sub, i, graph), drain(), self.config.concurrency
        ):
            out.extend(resources)
            if failure is not None:
                sub.failures.append(failure)
        sub.groups = []
        out.sort(key=lambda r: r.key)
        sub.resources = out

    def _provider_versions(self, arm: Arm, sub: _Sub) -> None:
        """api-versions of every type this subscription's providers serve (for types without a
        pinned version): GET /subscriptions/{id}/providers, read once per subscription."""
        versions: dict[str, str] = {}
        try:
            for p in arm.list_all(f"/subscriptions/{sub.id}/providers", PROVIDERS_API):
                if not isinstance(p, dict):
                    continue
                ns = str(p.get("namespace") or "").lower()
                for t in p.get("resourceTypes") or []:
                    if isinstance(t, dict) and t.get("resourceType"):
                        v = newest_api_version(t.get("apiVersions") or [])
                        if v:
                            versions[f"{ns}/{str(t['resourceType']).lower()}"] = v
        except SourceError as exc:
            sub.failures.append(exc)
        sub.api_versions = versions

    def _read(
        self, arm: Arm, sub: _Sub, item: dict[str, Any], graph: bool
    ) -> tuple[list[Resource], SourceError | None]:
        """One listed resource (and its children), read in full; failures stay per resource."""
        rtype = str(item.get("type", "")).lower()
        spec = SPECS.get(rtype)
        full: dict[str, Any] = item
        extras: dict[str, Any] = {}
        children: list[dict[str, Any]] = []
        rid = str(item["id"])
        try:
            if not graph:  # Resource Graph rows already carry the full properties
                api = spec.api_version if spec else (sub.api_versions or {}).get(rtype)
                if api is None:
                    raise HttpFailure(
                        f"no api-version for type {rtype} in the providers list",
                        reason="unsupported",
                    )
                full = arm.get(rid, api)
            if spec is not None and spec.extras is not None:
                extras = spec.extras(arm, rid)
        except ReadOnlyViolation:
            raise
        except SourceError as exc:
            # Facets stay null: guessed from a listing without properties they would mislead.
            res = self._build(sub.id, item, item, {}, rtype=rtype, facets=False)
            if exc.reason == "parse":
                res.error = f"parse: {exc.message}"
                return [res], None
            if isinstance(exc, HttpFailure) and exc.status == 404:
                # Listed, then gone: deleted while we scanned. Recorded, not assessed.
                res.error = f"gone: {exc.message}"
                return [res], None
            res.error = f"{exc.reason}: {exc.message}"
            return [res], exc
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            res = self._build(sub.id, item, item, {}, rtype=rtype, facets=False)
            res.error = f"parse: {type(exc).__name__}: {exc}"
            return [res], None
        parent = self._build(sub.id, item, full, extras, rtype=rtype)
        out = [parent]
        failure: SourceError | None = None
        # A parent that could not be parsed has no children worth reading.
        readers = spec.children if spec is not None and parent.error is None else ()
        doc = {**full, "id": rid}
        for read_children in readers:
            # A child list that cannot be read leaves the parent assessed and its other children
            # kept; the subscription is incomplete with the reason (never "no certificates").
            try:
                children.extend(read_children(arm, doc))
            except ReadOnlyViolation:
                raise
            except SourceError as exc:
                failure = failure or exc
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                failure = failure or SourceError(
                    f"{rid}: children: {type(exc).__name__}: {exc}", reason="parse"
                )
        for child in children:
            cid = child.get("id")
            ctype = azure_type(cid) if isinstance(cid, str) else None
            if not isinstance(cid, str) or ctype is None:
                parent.error = parent.error or "parse: a child resource without an id"
                continue
            out.append(self._build(sub.id, child, child, {}, rtype=ctype, location=parent.region))
        return out, failure

    def _subscription_resource(self, sub: _Sub, settings: dict[str, Any]) -> Resource:
        doc = sub.doc or {}
        attrs: dict[str, Any] = {
            k: doc.get(k) for k in ("displayName", "state", "tenantId", "subscriptionPolicies")
        }
        attrs["managementGroups"] = sub.groups_path
        attrs["settings"] = settings
        return Resource(
            key=f"/subscriptions/{sub.id}",
            provider="azure",
            source=self.config.name,
            account=sub.id,
            region="",
            type=SUBSCRIPTION_TYPE,
            name=str(doc.get("displayName") or sub.id),
            tags={str(k): str(v) for k, v in (doc.get("tags") or {}).items()}
            if isinstance(doc.get("tags"), dict)
            else {},
            attrs=redact(attrs, self._fp),
        )

    def _build(
        self,
        sub: str,
        item: dict[str, Any],
        full: dict[str, Any],
        extras: dict[str, Any],
        *,
        rtype: str,
        facets: bool = True,
        location: str | None = None,
    ) -> Resource:
        rid = str(item["id"])
        rg, name = _id_parts(rid)
        where = region_name(full.get("location") or item.get("location")) or (location or "")
        res = Resource(
            key=rid.lower(),
            provider="azure",
            source=self.config.name,
            account=sub,
            region=where,
            type=rtype,
            name=name or str(item.get("name", "")),
        )
        spec: TypeSpec | None = SPECS.get(rtype)
        try:
            tags = _dict(full.get("tags", item.get("tags")), "tags")
            res.tags = {str(k): "" if v is None else str(v) for k, v in tags.items()}
            props = dict(_dict(full.get("properties"), "properties"))
            for k in spec.drop if spec else ():
                props.pop(k, None)  # never stored, not even as a fingerprint
            attrs: dict[str, Any] = {
                k: redact(full[k], self._fp) for k in TOP_LEVEL if full.get(k) is not None
            }
            if rg is not None and rtype != RESOURCE_GROUP_TYPE:
                attrs["resourceGroup"] = rg
            if rtype in CHILD_TYPES:
                attrs["parent"] = rid.lower().rsplit("/", 2)[0]
            for k in ("createdTime", "changedTime"):
                if item.get(k):
                    attrs[k] = item[k]
            attrs["properties"] = redact(props, self._fp)
            attrs.update(redact(extras, self._fp, keep=frozenset()))
            if spec is not None and facets:
                if spec.derive is not None:
                    derived = spec.derive(props, attrs)
                    attrs.update(redact(derived, self._fp))
                res.encrypted, res.public = spec.facets(props, attrs)
            res.attrs = attrs
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            res.error = f"parse: {type(exc).__name__}: {exc}"
        return res


def _dict(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{what} is {type(value).__name__}, expected an object")
    return value


def _row_subscription(row: Any) -> str | None:
    if not isinstance(row, dict):
        return None
    if isinstance(row.get("subscriptionId"), str) and row["subscriptionId"]:
        return str(row["subscriptionId"]).lower()
    m = _SUB_OF.match(str(row.get("id") or ""))
    return m.group(1).lower() if m else None


def _summarise(failures: list[SourceError]) -> SourceError | None:
    if not failures:
        return None
    reasons = [f.reason for f in failures]
    reason = max(sorted(set(reasons)), key=reasons.count)
    msg = f"{len(failures)} read(s) failed in this subscription; first: {failures[0].message}"
    return SourceError(msg, reason=reason)
