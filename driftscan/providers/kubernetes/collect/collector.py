"""One cluster: cluster-scoped kinds, then namespaced kinds cluster-wide or namespace by namespace."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from driftscan.collect.base import CollectContext
from driftscan.collect.limits import bounded_map
from driftscan.errors import SourceError
from driftscan.model import Resource
from driftscan.providers.kubernetes import keys as K
from driftscan.providers.kubernetes.collect.client import KubeClient, ReadOnlyViolation, Tuning
from driftscan.providers.kubernetes.collect.client import _Failure as Failure
from driftscan.providers.kubernetes.kinds import (
    BY_KIND,
    CLUSTER_KINDS,
    FOLDED,
    NAMESPACED_KINDS,
    Kind,
)
from driftscan.providers.kubernetes.normalise import days_left, document
from driftscan.providers.kubernetes.source import KubernetesSource
from driftscan.redaction import Fingerprinter

SERVICE_NAME_LABEL = "kubernetes.io/service-name"


def _d(v: Any) -> dict[str, Any]:
    """`v` if it is a mapping, else an empty one: an omitted field is null, never an error."""
    return v if isinstance(v, dict) else {}


@dataclass
class _Listed:
    """What one list call gave: items, or why not."""

    kind: Kind
    namespace: str | None  # None: cluster-scoped, or a cluster-wide list of a namespaced kind
    items: list[dict[str, Any]]
    failure: SourceError | None = None


def _ns_of(item: dict[str, Any]) -> str | None:
    meta = item.get("metadata")
    ns = meta.get("namespace") if isinstance(meta, dict) else None
    return str(ns) if ns else None


def _name_of(item: dict[str, Any]) -> str | None:
    meta = item.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    return str(name) if name else None


def endpoints_by_service(slices: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, int]]:
    """(namespace, service) → ready / not-ready endpoint and slice counts from EndpointSlices."""
    out: dict[tuple[str, str], dict[str, int]] = defaultdict(
        lambda: {"ready": 0, "not_ready": 0, "slices": 0}
    )
    for s in slices:
        meta = _d(s.get("metadata"))
        labels = _d(meta.get("labels"))
        svc, ns = labels.get(SERVICE_NAME_LABEL), meta.get("namespace")
        if not svc or not ns:
            continue
        row = out[(str(ns), str(svc))]
        row["slices"] += 1
        for ep in s.get("endpoints") or []:
            if not isinstance(ep, dict):
                continue
            cond = _d(ep.get("conditions"))
            # An endpoint with `ready` unset counts as ready (the API's documented meaning).
            if cond.get("ready") is False:
                row["not_ready"] += 1
            else:
                row["ready"] += 1
    return dict(out)


class KubernetesCollector:
    """Reads one cluster (design §6.2): a slice per namespace, and per kind where one failed."""

    def __init__(
        self,
        config: KubernetesSource,
        *,
        tuning: Tuning | None = None,
        on_request: Callable[[str, str], None] | None = None,
    ) -> None:
        self.config = config
        self.tuning = tuning
        self._on_request = on_request

    # -- driver --------------------------------------------------------------------------

    def collect(self, ctx: CollectContext) -> None:
        cfg = self.config
        client = KubeClient(
            cfg, tuning=self.tuning, limiter=ctx.limiter, on_request=self._on_request
        )
        try:
            ctx.run.identity = client.cluster.identity
            client.reach()
            self._collect(ctx, client)
        finally:
            client.close()

    def _list(self, client: KubeClient, kind: Kind, namespace: str | None) -> _Listed:
        try:
            items, _ = client.list(kind.path(namespace))
        except ReadOnlyViolation:
            raise
        except SourceError as exc:
            return _Listed(kind, namespace, [], exc)
        return _Listed(kind, namespace, items)

    def _collect(self, ctx: CollectContext, client: KubeClient) -> None:
        cfg = self.config
        cluster = client.cluster.name
        workers = cfg.concurrency
        wanted = None if cfg.namespaces == ["all"] else list(dict.fromkeys(cfg.namespaces))

        # A shard reading some namespaces leaves the cluster scope to the shard of `_cluster`.
        cluster_kinds = CLUSTER_KINDS if cfg.cluster_scoped or wanted is None else ()
        cluster_lists = list(
            bounded_map(lambda k: self._list(client, k, None), cluster_kinds, workers)
        )

        listed: list[_Listed] = []
        per_ns_kinds: list[Kind] = list(NAMESPACED_KINDS)
        whole_kind_failed: dict[str, SourceError] = {}
        if wanted is None:
            ns_list = next(x for x in cluster_lists if x.kind.kind == "Namespace")
            known_ns = sorted({n for n in map(_name_of, ns_list.items) if n})
            # Cluster-wide first: one list per kind. Where that is forbidden (a reader bound per
            # namespace), the kind is listed namespace by namespace instead.
            wide = list(
                bounded_map(lambda k: self._list(client, k, None), NAMESPACED_KINDS, workers)
            )
            per_ns_kinds = []
            for x in wide:
                if x.failure is None:
                    listed.append(x)
                elif isinstance(x.failure, Failure) and x.failure.status == 403:
                    per_ns_kinds.append(x.kind)
                else:
                    whole_kind_failed[x.kind.kind] = x.failure
            namespaces = known_ns
            if per_ns_kinds and ns_list.failure is not None:
                # Neither the kind cluster-wide nor the namespaces to list it in can be read.
                for k in per_ns_kinds:
                    whole_kind_failed[k.kind] = SourceError(
                        f"listing {k.plural} cluster-wide is forbidden and the namespaces "
                        f"cannot be listed ({ns_list.failure.message})",
                        reason="denied",
                    )
                per_ns_kinds = []
        else:
            namespaces = wanted
        units = [(k, ns) for ns in namespaces for k in per_ns_kinds]
        listed += bounded_map(lambda u: self._list(client, u[0], u[1]), units, workers)

        # -- slices ---------------------------------------------------------------------
        cover: dict[str, Any] = {"account": cfg.name, "region": cluster}
        resources = self._build(ctx.fingerprint, cluster, cluster_lists, listed, whole_kind_failed)
        counts: dict[str | None, int] = defaultdict(int)
        for r in resources:
            ident = K.split(r.key)
            counts[ident[1] if ident else None] += 1
        ctx.add_many(resources)

        for x in cluster_lists:
            name = f"{K.CLUSTER}/{x.kind.kind}"
            c: dict[str, Any] = {
                **cover,
                "types": [x.kind.type],
                "keys": [K.namespace_prefix(cfg.name, None)],
            }
            if x.failure is not None:
                ctx.slice_failed(name, self._err(name, x.failure), **c)
            else:
                n = len(x.items)
                ctx.slice_ok(name, resources=n, **c)
        for kind_name, failure in sorted(whole_kind_failed.items()):
            k = BY_KIND[kind_name]
            name = f"*/{k.kind}"
            ctx.slice_failed(name, self._err(name, failure), **cover, types=[k.type])
        failed_by_ns: dict[str, list[_Listed]] = defaultdict(list)
        for x in listed:
            if x.failure is not None and x.namespace is not None:
                failed_by_ns[x.namespace].append(x)
        seen_ns = set(namespaces) | {
            ns for x in listed for ns in map(_ns_of, x.items) if ns is not None
        }
        for ns in sorted(seen_ns):
            prefix = [K.namespace_prefix(cfg.name, ns)]
            failed = failed_by_ns.get(ns, [])
            if failed and len(failed) == len(NAMESPACED_KINDS):
                # Nothing of the namespace could be read: one slice says so.
                first = failed[0].failure
                assert first is not None
                ctx.slice_failed(ns, self._err(ns, first), **cover, types=[], keys=prefix)
                continue
            for x in failed:
                assert x.failure is not None
                name = f"{ns}/{x.kind.kind}"
                ctx.slice_failed(
                    name, self._err(name, x.failure), **cover, types=[x.kind.type], keys=prefix
                )
            ctx.slice_ok(ns, resources=counts.get(ns, 0), **cover, types=[], keys=prefix)

    def _err(self, slice_name: str, exc: SourceError) -> SourceError:
        return SourceError(
            exc.message, source=self.config.name, slice=slice_name, reason=exc.reason
        )

    # -- resources -----------------------------------------------------------------------

    def _build(
        self,
        fp: Fingerprinter,
        cluster: str,
        cluster_lists: list[_Listed],
        listed: list[_Listed],
        whole_kind_failed: dict[str, SourceError],
    ) -> list[Resource]:
        slices = [i for x in listed if x.kind.kind == "EndpointSlice" for i in x.items]
        endpoints = endpoints_by_service(slices)
        # Namespaces whose EndpointSlices could not be read: their Services' counts are unknown.
        unknown_eps: set[str | None] = {
            x.namespace for x in listed if x.kind.kind == "EndpointSlice" and x.failure is not None
        }
        if "EndpointSlice" in whole_kind_failed:
            unknown_eps.add("*")
        out: list[Resource] = []
        for x in (*cluster_lists, *listed):
            if x.failure is not None or x.kind.kind in FOLDED:
                continue
            for item in x.items:
                res = self._resource(fp, cluster, x.kind, item)
                if res is None:
                    continue
                if x.kind.kind == "Service" and res.error is None:
                    ns = _ns_of(item)
                    if "*" in unknown_eps or ns in unknown_eps:
                        res.attrs["endpoints"] = None
                    else:
                        res.attrs["endpoints"] = endpoints.get(
                            (ns or "", _name_of(item) or ""),
                            {"ready": 0, "not_ready": 0, "slices": 0},
                        )
                out.append(res)
        out.sort(key=lambda r: r.key)
        return out

    def _resource(
        self, fp: Fingerprinter, cluster: str, kind: Kind, item: dict[str, Any]
    ) -> Resource | None:
        cfg = self.config
        name = _name_of(item)
        if name is None:
            return None  # nothing to key it by; cannot happen with a real API server
        ns = _ns_of(item) if kind.namespaced else None
        meta = _d(item.get("metadata"))
        res = Resource(
            key=K.key(cfg.name, ns, kind.kind, name),
            provider=K.PROVIDER,
            source=cfg.name,
            account=cfg.name,
            region=cluster,
            type=kind.type,
            name=K.display_name(ns, name),
        )
        try:
            labels = meta.get("labels") or {}
            res.tags = {str(k): "" if v is None else str(v) for k, v in dict(labels).items()}
            res.attrs = document(item, kind.kind, fp)
            tls = res.attrs.get("tls")
            if isinstance(tls, dict) and tls.get("not_after"):
                # Days left falls by one every day: a measurement, not a new version.
                res.observed = {"tls": {"days_left": days_left(str(tls["not_after"]))}}
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            res.tags, res.attrs = {}, {}
            res.error = f"parse: {type(exc).__name__}: {exc}"
        return res
