"""One GCP source: the projects of its scope, each read as one slice through Cloud Asset Inventory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from driftscan.collect.base import CollectContext
from driftscan.collect.limits import TokenBucket, bounded_map
from driftscan.errors import SourceError
from driftscan.model import Resource
from driftscan.providers.gcp import keys as K
from driftscan.providers.gcp import locations
from driftscan.providers.gcp.collect.client import AssetClient, quota
from driftscan.providers.gcp.facets import BY_TYPE, IAM_PUBLIC_TYPES, Facets, redact_document
from driftscan.providers.gcp.source import GcpSource
from driftscan.redaction import Fingerprinter

PROJECT_TYPE = "cloudresourcemanager.googleapis.com/Project"
# Project states whose resources can still be read (a project pending deletion answers 403).
LIVE_PROJECT_STATES = frozenset({"ACTIVE", ""})


@dataclass
class _Read:
    """What one project gave: its resources, or why not."""

    project: str
    resources: list[Resource] = field(default_factory=list)
    failure: SourceError | None = None


def _d(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _document(result: dict[str, Any]) -> dict[str, Any]:
    for v in result.get("versionedResources") or []:
        doc = _d(v).get("resource")
        if isinstance(doc, dict):
            return doc
    return {}


def project_ids(results: list[dict[str, Any]]) -> list[str]:
    """The ids of the live projects among Project search results."""
    out: list[str] = []
    for r in results:
        doc = _document(r)
        pid = doc.get("projectId") or _d(r.get("additionalAttributes")).get("projectId")
        state = str(doc.get("lifecycleState") or doc.get("state") or r.get("state") or "")
        if isinstance(pid, str) and pid and state in LIVE_PROJECT_STATES:
            out.append(pid)
    return sorted(set(out))


class GcpCollector:
    """Reads one scope (design §6.2): a slice per project, found first for an organisation or
    folder, so a project that cannot be read is not assessed while the others are."""

    def __init__(
        self, config: GcpSource, *, on_request: Callable[[str, str], None] | None = None
    ) -> None:
        self.config = config
        self._on_request = on_request

    def collect(self, ctx: CollectContext) -> None:
        cfg = self.config
        client = AssetClient(cfg, on_request=self._on_request)
        try:
            ctx.run.identity = f"{client.identity} on {cfg.scope}"
            self._collect(ctx, client)
        finally:
            client.close()

    def _buckets(self, ctx: CollectContext, project: str | None) -> list[TokenBucket]:
        cfg = self.config
        out = []
        if not cfg.scope.startswith("projects/"):
            out.append(ctx.limiter.bucket(("gcp", cfg.scope), quota(cfg.per_org_per_min)))
        if project is not None:
            out.append(
                ctx.limiter.bucket(("gcp", f"projects/{project}"), quota(cfg.per_project_per_min))
            )
        return out

    def _collect(self, ctx: CollectContext, client: AssetClient) -> None:
        cfg = self.config
        if cfg.scope.startswith("projects/"):
            projects = [cfg.scope.removeprefix("projects/")]
        else:
            # An empty answer from a failed listing is never "no projects": a failure here
            # fails the whole source (the driver records it as one failed slice).
            found: list[dict[str, Any]] = []
            for page in client.resources(cfg.scope, [PROJECT_TYPE], self._buckets(ctx, None)):
                found.extend(page)
            projects = project_ids(found)
            ctx.progress(cfg.name, f"{cfg.scope}: {len(projects)} projects")
            if not projects:
                ctx.slice_ok(cfg.scope, resources=0, types=[PROJECT_TYPE])
                return
        types = [] if cfg.asset_types == ["all"] else list(cfg.asset_types)
        for read in bounded_map(lambda p: self._project(ctx, client, p, types), projects,
                                cfg.concurrency):  # fmt: skip
            name = f"projects/{read.project}"
            cover: dict[str, Any] = {"account": read.project, "types": types}
            if read.failure is not None:
                err = SourceError(read.failure.message, source=cfg.name, slice=name,
                                  reason=read.failure.reason)  # fmt: skip
                ctx.slice_failed(name, err, **cover)
                continue
            ctx.add_many(read.resources)
            ctx.slice_ok(name, resources=len(read.resources), **cover)
            read.resources = []

    def _project(
        self, ctx: CollectContext, client: AssetClient, project: str, types: list[str]
    ) -> _Read:
        scope = f"projects/{project}"
        buckets = self._buckets(ctx, project)
        out: list[Resource] = []
        try:
            # The public bindings first (a few), so each page of resources becomes Resources
            # as it arrives and a large project's search results are never all held at once.
            public = client.public_policies(scope, buckets)
            for page in client.resources(scope, types, buckets):
                for r in page:
                    res = self._resource(ctx.fingerprint, project, r, public)
                    if res is not None:
                        out.append(res)
        except SourceError as exc:
            # A project whose listing failed midway keeps nothing: a partial project would
            # read as resources gone.
            return _Read(project, failure=exc)
        out.sort(key=lambda r: r.key)
        return _Read(project, out)

    def _resource(
        self, fp: Fingerprinter, project: str, r: dict[str, Any], public: dict[str, list[str]]
    ) -> Resource | None:
        key = r.get("name")
        atype = r.get("assetType")
        if not isinstance(key, str) or not K.is_key(key) or not isinstance(atype, str):
            return None  # nothing to key it by; CAI always sends both
        location = locations.normalise(r.get("location"))
        res = Resource(
            key=key,
            provider=K.PROVIDER,
            source=self.config.name,
            account=project,
            # The region column holds regions: a zonal resource's zone stays in attrs.location.
            region=locations.region_of(location),
            type=atype,
            name=str(r.get("displayName") or key.rsplit("/", 1)[-1]),
        )
        try:
            labels = _d(r.get("labels"))
            res.tags = {str(k): "" if v is None else str(v) for k, v in labels.items()}
            doc = _document(r)
            make = BY_TYPE.get(atype)
            facets = make(doc, fp) if make is not None else Facets()
            attrs: dict[str, Any] = {
                "project_number": r.get("project"),
                "parent": r.get("parentFullResourceName"),
                "state": r.get("state"),
                "kms_keys": r.get("kmsKeys") or [],
                "location": location,
                **facets.attrs,
                "resource": redact_document(atype, doc, fp),
            }
            members = public.get(key, [])
            if atype in IAM_PUBLIC_TYPES:
                attrs["iam_public_members"] = members
                res.public = bool(facets.public) or bool(members)
            else:
                res.public = facets.public
            res.encrypted = facets.encrypted
            spread = locations.data_locations(location, facets.data_locations)
            if spread is not None:
                attrs["dataLocations"] = spread
            res.attrs = attrs
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            res.tags, res.attrs = {}, {}
            res.error = f"parse: {type(exc).__name__}: {exc}"
        return res
