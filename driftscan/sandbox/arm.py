"""An HTTPS Azure Resource Manager emulator on 127.0.0.1 that serves a seed estate given as data:
ARM reads, Resource Graph queries, management groups and per-subscription settings."""

from __future__ import annotations

import base64
import copy
import json
import re
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from driftscan.sandbox.armestate import (
    DEMO_SECRET_CANARY,
    DEMO_TENANT,
    DEMO_TOKEN,
    SUB_DEV,
    SUB_PROD,
    cis_estate,
    demo_estate,
    resource_id,
    tenant_estate,
)
from driftscan.sandbox.https import HttpsEmulator, Reply, first_fault, serve_until_interrupted

__all__ = [
    "DEMO_SECRET_CANARY",
    "DEMO_TENANT",
    "DEMO_TOKEN",
    "SUB_DEV",
    "SUB_PROD",
    "ArmEmulator",
    "Fault",
    "demo_estate",
    "resource_id",
    "tenant_estate",
]

# The api-versions the emulator accepts per (lower-case) type; anything else gets ARM's 400.
# Real ARM accepts many more, but an emulator that accepts anything would hide a collector
# that asks for a version its parsers were never written against. Types not listed here get
# GENERIC_API_VERSIONS, and the providers list names them, as ARM's does.
SUPPORTED_API_VERSIONS: dict[str, frozenset[str]] = {
    "microsoft.storage/storageaccounts": frozenset({"2023-01-01", "2023-05-01"}),
    "microsoft.compute/virtualmachines": frozenset({"2024-03-01", "2024-07-01"}),
    "microsoft.compute/disks": frozenset({"2023-04-02", "2024-03-02"}),
    "microsoft.containerservice/managedclusters": frozenset({"2024-02-01", "2024-05-01"}),
    "microsoft.network/networksecuritygroups": frozenset({"2023-09-01", "2024-01-01"}),
    "microsoft.network/publicipaddresses": frozenset({"2023-09-01", "2024-01-01"}),
    "microsoft.network/networkinterfaces": frozenset({"2023-09-01", "2024-01-01"}),
    "microsoft.network/virtualnetworks": frozenset({"2023-09-01", "2024-01-01"}),
    "microsoft.network/applicationgateways": frozenset({"2023-09-01", "2024-01-01"}),
    "microsoft.sql/servers": frozenset({"2021-11-01", "2023-08-01"}),
    "microsoft.sql/servers/databases": frozenset({"2021-11-01", "2023-08-01"}),
    "microsoft.documentdb/databaseaccounts": frozenset({"2024-05-15", "2024-08-15"}),
    "microsoft.dbforpostgresql/flexibleservers": frozenset({"2022-12-01", "2024-08-01"}),
    "microsoft.dbformysql/flexibleservers": frozenset({"2023-12-30"}),
    "microsoft.containerregistry/registries": frozenset({"2023-07-01", "2023-11-01-preview"}),
    "microsoft.keyvault/vaults": frozenset({"2023-07-01", "2024-11-01"}),
    "microsoft.web/sites": frozenset({"2023-12-01", "2024-04-01"}),
    "microsoft.insights/activitylogalerts": frozenset({"2020-10-01"}),
}
GENERIC_API_VERSIONS = ("2023-06-01", "2024-01-01", "2025-01-01-preview")
ARM_API_VERSIONS = frozenset({"2021-04-01", "2022-09-01", "2022-12-01", "2025-04-01"})
RESOURCE_GRAPH_API_VERSIONS = frozenset({"2021-03-01", "2022-10-01", "2024-04-01"})
MANAGEMENT_GROUP_API_VERSIONS = frozenset({"2020-05-01", "2021-04-01", "2023-04-01"})
# Subscription-level lists (settings) the emulator serves, by lower-case path below
# /subscriptions/{id}: the api-versions each accepts. Unseeded ones answer an empty list.
SETTINGS_API_VERSIONS: dict[str, frozenset[str]] = {
    "providers/microsoft.security/pricings": frozenset({"2024-01-01", "2023-01-01"}),
    "providers/microsoft.insights/diagnosticsettings": frozenset({"2021-05-01-preview"}),
    "providers/microsoft.authorization/roleassignments": frozenset({"2022-04-01"}),
    "providers/microsoft.security/securitycontacts": frozenset(
        {"2020-01-01-preview", "2023-12-01-preview"}
    ),
}


@dataclass
class Fault:
    """A scripted failure: matching requests get `status` (or a raw `body`) `count` times.

    `match` is a regular expression searched (case-insensitively) in the request path and
    query; `count=None` means every matching request; `after` lets that many through first. `latency_s` delays the answer (for
    timeouts); with status 200 and a `body`, that body replaces the real payload (malformed
    JSON, wrong shapes).
    """

    status: int = 500
    match: str = ""
    method: str | None = None
    count: int | None = 1
    retry_after: float | None = None
    latency_s: float = 0.0
    body: bytes | None = None
    code: str = "InternalServerError"
    after: int = 0  # let this many matching requests through first
    hits: int = 0
    passed: int = 0

    def applies(self, method: str, target: str) -> bool:
        if self.count is not None and self.hits >= self.count:
            return False
        if self.method and self.method.upper() != method:
            return False
        if self.match and re.search(self.match, target, re.IGNORECASE) is None:
            return False
        if self.passed < self.after:
            self.passed += 1
            return False
        return True


@dataclass
class _Res:
    """One indexed seed resource, with the sub-documents served below it."""

    id: str
    sub: str
    rg: str
    type: str
    name: str  # ARM list spelling: "server/db" for child resources
    location: str
    doc: dict[str, Any]
    # lower-case path suffix → a document (GET), or a list (GET, paged as {"value": [...]})
    children: dict[str, Any] = field(default_factory=dict)
    posts: dict[str, Any] = field(default_factory=dict)  # suffix → document (allow-listed POST)


class _GraphQuota:
    """Resource Graph's per-user quota: `limit` queries per `window_s`, reported in headers."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self.used = 0
        self.started = 0.0
        self.refused = 0

    def take(self) -> tuple[bool, int, float]:
        """(allowed, remaining, seconds until the reset)."""
        now = time.monotonic()
        if now - self.started >= self.window_s:
            self.started, self.used = now, 0
        resets = max(self.window_s - (now - self.started), 0.0)
        if self.used >= self.limit:
            self.refused += 1
            return False, 0, resets
        self.used += 1
        return True, self.limit - self.used, resets


def _hms(seconds: float) -> str:
    whole = int(seconds)
    frac = seconds - whole
    out = f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    return out + (f"{frac:.3f}"[1:] if frac >= 0.001 else "")


class ArmEmulator(HttpsEmulator):
    """Serves ARM (and a Resource Graph subset) over HTTPS from a seed estate.

    Use as a context manager; `url`, `ca_path` and `token` are what a collector needs.
    Every request is logged in `requests` as (method, path?query), before auth and faults.
    `graph_quota=(queries, window_s)` enforces Resource Graph's per-user quota (429 with
    Retry-After beyond it); None serves every query, still reporting the headers.
    """

    name = "arm"
    content_type = "application/json; charset=utf-8"

    def __init__(
        self,
        estate: dict[str, Any],
        *,
        token: str = DEMO_TOKEN,
        page_size: int = 100,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_s: float = 0.0,
        ratelimit_remaining: int | None = None,
        graph_quota: tuple[int, float] | None = (15, 5.0),
        ca_dir: str | Path | None = None,
        log_requests: bool = True,
    ) -> None:
        self.token = token
        self.page_size = page_size
        self.latency_s = latency_s
        self.ratelimit_remaining = ratelimit_remaining
        super().__init__(host, port, ca_dir)
        self.faults: list[Fault] = []
        self.denied: set[str] = set()
        self.requests: list[tuple[str, str]] = []
        self.log_requests = log_requests
        self._lock = threading.Lock()
        self.graph_quota = graph_quota
        self._quota = _GraphQuota(*graph_quota) if graph_quota else None
        self._index(estate)

    # -- seed ---------------------------------------------------------------------------

    def _index(self, estate: dict[str, Any]) -> None:
        self.tenant = str(estate.get("tenantId", DEMO_TENANT))
        self.subs: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, list[dict[str, Any]]] = {}
        self.resources: dict[str, _Res] = {}
        self.by_sub: dict[str, list[_Res]] = {}
        self.settings: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self._seed_denied: set[str] = set()
        self._graph_cache: dict[tuple[Any, ...], list[tuple[str, str, Any]]] = {}
        self.vault_certs: dict[str, list[dict[str, Any]]] = {}
        for sub_id, sub in estate.get("subscriptions", {}).items():
            key = sub_id.lower()
            self.subs[key] = {
                "id": f"/subscriptions/{sub_id}",
                "subscriptionId": sub_id,
                "tenantId": self.tenant,
                "displayName": sub.get("displayName", sub_id),
                "state": sub.get("state", "Enabled"),
                "subscriptionPolicies": {
                    "locationPlacementId": "Public_2014-09-01",
                    "quotaId": "PayAsYouGo_2014-09-01",
                    "spendingLimit": "Off",
                },
            }
            self.settings[key] = {
                path.lower(): [copy.deepcopy(d) for d in docs]
                for path, docs in sub.get("settings", {}).items()
            }
            for path, docs in self.settings[key].items():
                if path not in SETTINGS_API_VERSIONS:
                    raise ValueError(f"the emulator serves no setting {path!r}")
                for doc in docs:
                    doc.setdefault("id", f"/subscriptions/{sub_id}/{path}/{doc['name']}")
            if sub.get("denied"):
                self._seed_denied.add(key)  # the identity may not read it: every request 403
            self.groups[key] = []
            self.by_sub[key] = []
            for rg_name, rg in sub.get("resourceGroups", {}).items():
                self.groups[key].append(
                    {
                        "id": f"/subscriptions/{sub_id}/resourceGroups/{rg_name}",
                        "name": rg_name,
                        "type": "Microsoft.Resources/resourceGroups",
                        "location": rg.get("location", "westeurope"),
                        "tags": dict(rg.get("tags", {})),
                        "properties": {"provisioningState": "Succeeded"},
                    }
                )
                for spec in rg.get("resources", []):
                    self._add(sub_id, key, rg_name, spec)
        self.management_groups: dict[str, dict[str, Any]] = {
            k.lower(): {"name": k, **v} for k, v in estate.get("managementGroups", {}).items()
        }
        for mg in self.management_groups.values():
            parent = mg.get("parent")
            if parent is not None and parent.lower() not in self.management_groups:
                raise ValueError(f"management group {mg['name']!r}: no parent {parent!r}")
            for s in mg.get("subscriptions", []):
                if s.lower() not in self.subs:
                    raise ValueError(f"management group {mg['name']!r}: no subscription {s!r}")
        self.denied |= self._seed_denied

    def _add(self, sub_id: str, key: str, rg_name: str, spec: dict[str, Any]) -> None:
        rid = resource_id(sub_id, rg_name, spec["type"], spec["name"])
        children: dict[str, Any] = {}
        posts: dict[str, Any] = {}
        # The seed's shorthand for the sub-documents the demo has always had.
        if "appSettings" in spec:
            posts["config/appsettings/list"] = {
                "id": f"{rid}/config/appsettings",
                "name": "appsettings",
                "type": "Microsoft.Web/sites/config",
                "properties": copy.deepcopy(spec["appSettings"]),
            }
        if "transparentDataEncryption" in spec:
            children["transparentdataencryption/current"] = {
                "id": f"{rid}/transparentDataEncryption/Current",
                "name": "Current",
                "type": "Microsoft.Sql/servers/databases/transparentDataEncryption",
                "properties": copy.deepcopy(spec["transparentDataEncryption"]),
            }
        for suffix, sub_doc in spec.get("children", {}).items():
            if isinstance(sub_doc, list):
                items = []
                for d in sub_doc:
                    d = copy.deepcopy(d)
                    d.setdefault("id", f"{rid}/{suffix}/{d['name']}")
                    items.append(d)
                children[suffix.lower()] = items
            else:
                d = copy.deepcopy(sub_doc)
                d.setdefault("id", f"{rid}/{suffix}")
                children[suffix.lower()] = d
        if spec["type"].lower() == "microsoft.keyvault/vaults":
            # The vault's data plane (its certificates), served under /keyvault/{name}/.
            self.vault_certs[spec["name"].lower()] = copy.deepcopy(spec.get("certificates", []))
        skip = {"appSettings", "transparentDataEncryption", "children", "certificates"}
        doc = {k: v for k, v in spec.items() if k not in skip}
        res = _Res(
            rid, key, rg_name, spec["type"], spec["name"], spec["location"], doc, children, posts
        )
        self.resources[rid.lower()] = res
        self.by_sub[key].append(res)

    # -- lifecycle ----------------------------------------------------------------------

    # -- fault injection ----------------------------------------------------------------

    def add_fault(self, fault: Fault | None = None, **kw: Any) -> Fault:
        """Script a failure (see Fault); returns it so a test can read `hits`."""
        f = fault or Fault(**kw)
        with self._lock:
            self.faults.append(f)
        return f

    def throttle(self, match: str = "", count: int = 1, retry_after: float = 1.0) -> Fault:
        """Answer the next `count` matching requests with 429 and a Retry-After header."""
        return self.add_fault(
            status=429, match=match, count=count, retry_after=retry_after, code="TooManyRequests"
        )

    def deny(self, subscription_id: str) -> None:
        """Answer every request under this subscription with 403 AuthorizationFailed."""
        self.denied.add(subscription_id.lower())

    def set_graph_quota(self, quota: tuple[int, float] | None) -> None:
        """Change Resource Graph's per-user quota (None: unlimited); starts a fresh window."""
        with self._lock:
            self.graph_quota = quota
            self._quota = _GraphQuota(*quota) if quota else None

    @property
    def graph_refused(self) -> int:
        """How many Resource Graph queries were refused with 429 for the quota."""
        return self._quota.refused if self._quota else 0

    def clear(self) -> None:
        """Drop scripted faults, denials and the request log; a fresh Graph quota window."""
        with self._lock:
            self.faults.clear()
            self.denied = set(self._seed_denied)
            self.requests.clear()
            self._quota = _GraphQuota(*self.graph_quota) if self.graph_quota else None

    def writes(self) -> list[tuple[str, str]]:
        """Every logged request that was not a GET (the read-only allow-list checks these)."""
        with self._lock:
            return [r for r in self.requests if r[0] != "GET"]

    # -- request handling ---------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        reply = self._answer(method, target, headers, body)
        return reply.with_header("x-ms-request-id", f"sandbox-{id(reply):x}")

    def _answer(self, method: str, target: str, headers: dict[str, str], body: bytes) -> _Reply:
        if self.log_requests:
            with self._lock:
                self.requests.append((method, target))
        if self.latency_s:
            time.sleep(self.latency_s)
        if headers.get("authorization") != f"Bearer {self.token}":
            return _error(
                401, "AuthenticationFailed", "missing or invalid bearer token"
            ).with_header(
                "WWW-Authenticate",
                'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token"',
            )
        fault = first_fault(self.faults, self._lock, method, target) if self.faults else None
        if fault is not None:
            if fault.latency_s:
                time.sleep(fault.latency_s)
            if fault.status == 200 and fault.body is not None:
                return _Reply(200, fault.body)
            if fault.status != 200:
                reply = (
                    _Reply(fault.status, fault.body)
                    if fault.body is not None
                    else _error(fault.status, fault.code, f"injected {fault.status}")
                )
                if fault.retry_after is not None:
                    reply.with_header("Retry-After", f"{fault.retry_after:g}")
                return reply
        parts = urlsplit(target)
        path = parts.path.rstrip("/")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        m = re.match(r"^/subscriptions/([^/]+)", path, re.IGNORECASE)
        if m and m.group(1).lower() in self.denied:
            return _error(
                403,
                "AuthorizationFailed",
                f"The client does not have authorization to perform action over scope '{path}'.",
            )
        reply = self._route(method, path, query, body)
        if self.ratelimit_remaining is not None:
            reply.with_header(
                "x-ms-ratelimit-remaining-subscription-reads", str(self.ratelimit_remaining)
            )
        else:
            reply.with_header("x-ms-ratelimit-remaining-subscription-reads", "11999")
        return reply

    def _route(self, method: str, path: str, query: dict[str, str], body: bytes) -> _Reply:
        low = path.lower()
        api = query.get("api-version")
        if low.startswith("/keyvault/"):
            if method != "GET":
                return _error(405, "MethodNotAllowed", f"the emulator is read-only: {method}")
            return self._vault_data(low, path, query)
        if low == "/providers/microsoft.resourcegraph/resources":
            if method != "POST":
                return _error(405, "MethodNotAllowed", "Resource Graph queries are POSTs")
            if api not in RESOURCE_GRAPH_API_VERSIONS:
                return _error(
                    400, "InvalidApiVersionParameter", f"api-version {api!r} is not supported"
                )
            return self._graph(body)
        if not api:
            return _error(
                400, "MissingApiVersionParameter", "The api-version query parameter is required."
            )
        if method == "POST":
            return self._post(low, api)
        if method != "GET":
            return _error(405, "MethodNotAllowed", f"the emulator is read-only: {method} {path}")
        if low.startswith("/providers/microsoft.management/managementgroups/"):
            return self._management_group(low, path, query)
        if low == "/subscriptions":
            return self._page(list(self.subs.values()), path, query)
        m = re.fullmatch(r"/subscriptions/([^/]+)(/.*)?", low)
        if m is None:
            return self._by_id(low, path, api, query)
        sub, rest = m.group(1), m.group(2) or ""
        if sub not in self.subs:
            return _error(
                404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found."
            )
        arm_level = {"", "/resourcegroups", "/resources", "/providers"}
        if api not in ARM_API_VERSIONS and rest in arm_level:
            return _error(
                400, "InvalidApiVersionParameter", f"api-version {api!r} is not supported"
            )
        if rest == "":
            return _Reply.json(self.subs[sub])
        if rest == "/resourcegroups":
            return self._page(self.groups[sub], path, query)
        if rest == "/resources":
            expand = {e.strip().lower() for e in query.get("$expand", "").split(",") if e.strip()}
            return self._page([self._list_item(r, expand) for r in self.by_sub[sub]], path, query)
        if rest == "/providers":
            return self._page(self._providers(sub), path, query)
        setting = rest.lstrip("/")
        if setting in SETTINGS_API_VERSIONS:
            if api not in SETTINGS_API_VERSIONS[setting]:
                return _error(
                    400,
                    "NoRegisteredProviderFound",
                    f"api-version {api!r} is not supported for {setting}",
                )
            return self._page(copy.deepcopy(self.settings[sub].get(setting, [])), path, query)
        if rest.startswith("/providers/"):
            return _error(
                404, "InvalidResourceType", f"The resource type '{setting}' could not be found."
            )
        return self._by_id(low, path, api, query)

    def _post(self, low: str, api: str) -> _Reply:
        for res_id in self._parents(low):
            res = self.resources.get(res_id)
            if res is None:
                continue
            suffix = low[len(res_id) + 1 :]
            if suffix == "config/appsettings/list" and res.type.lower() == "microsoft.web/sites":
                res.posts.setdefault(
                    suffix, {"id": f"{res.id}/config/appsettings", "properties": {}}
                )
            if suffix in res.posts:
                if api not in self._versions(res.type):
                    return _error(
                        400, "NoRegisteredProviderFound", f"api-version {api!r} is not supported"
                    )
                return _Reply.json(copy.deepcopy(res.posts[suffix]))
        return _error(405, "MethodNotAllowed", f"the emulator is read-only: POST {low}")

    @staticmethod
    def _parents(low: str) -> Iterator[str]:
        """`low` and each shorter prefix of it, longest first (a resource and its suffix)."""
        segs = low.split("/")
        for n in range(len(segs), 2, -1):
            yield "/".join(segs[:n])

    @staticmethod
    def _versions(rtype: str) -> frozenset[str]:
        return SUPPORTED_API_VERSIONS.get(rtype.lower(), frozenset(GENERIC_API_VERSIONS))

    def _providers(self, sub: str) -> list[dict[str, Any]]:
        """ARM's providers list: every namespace this subscription holds, each type's versions."""
        types: dict[str, set[str]] = {}
        for res in self.by_sub[sub]:
            ns, _, rest = res.type.partition("/")
            types.setdefault(ns, set()).add(rest)
        return [
            {
                "id": f"/subscriptions/{sub}/providers/{ns}",
                "namespace": ns,
                "registrationState": "Registered",
                "resourceTypes": [
                    {
                        "resourceType": t,
                        "apiVersions": sorted(self._versions(f"{ns}/{t}"), reverse=True),
                    }
                    for t in sorted(kinds)
                ],
            }
            for ns, kinds in sorted(types.items())
        ]

    def _by_id(self, low: str, path: str, api: str, query: dict[str, str]) -> _Reply:
        for res_id in self._parents(low):
            res = self.resources.get(res_id)
            if res is not None:
                break
        else:
            for g in self.groups.values():
                for rg in g:
                    if rg["id"].lower() == low:
                        return _Reply.json(rg)
            return _error(404, "ResourceNotFound", f"The Resource '{path}' was not found.")
        if api not in self._versions(res.type):
            return _error(
                400,
                "NoRegisteredProviderFound",
                f"No registered resource provider found for api version '{api}' and type '{res.type}'.",
            )
        if res_id == low:
            return _Reply.json(self._full(res))
        suffix = low[len(res_id) + 1 :]
        sub_doc = res.children.get(suffix)
        if sub_doc is None:
            # A list below the resource with no seeded entries is empty, like ARM's; a few
            # documents every resource of a type has get their service defaults.
            if suffix in _EMPTY_LISTS.get(res.type.lower(), ()):
                return self._page([], path, query)
            sub_doc = self._default_doc(res, suffix)
            if sub_doc is None:
                return _error(404, "ResourceNotFound", f"The Resource '{path}' was not found.")
        if isinstance(sub_doc, list):
            return self._page(copy.deepcopy(sub_doc), path, query)
        return _Reply.json(copy.deepcopy(sub_doc))

    def _default_doc(self, res: _Res, suffix: str) -> dict[str, Any] | None:
        rtype = res.type.lower()
        if rtype == "microsoft.sql/servers" and suffix == "auditingsettings/default":
            props: dict[str, Any] = {"state": "Disabled", "retentionDays": 0}
            return {
                "id": f"{res.id}/auditingSettings/Default",
                "name": "Default",
                "properties": props,
            }
        if rtype == "microsoft.web/sites" and suffix == "config/web":
            site = dict(res.doc.get("properties", {}).get("siteConfig") or {})
            site.pop("appSettings", None)
            return {"id": f"{res.id}/config/web", "name": "web", "properties": site}
        return None

    def _full(self, res: _Res) -> dict[str, Any]:
        doc = copy.deepcopy(res.doc)
        doc.pop("createdTime", None)
        doc.pop("changedTime", None)
        doc["id"] = res.id
        doc["name"] = res.name.split("/")[-1]
        doc.setdefault("tags", {})
        doc.setdefault("properties", {})
        if res.type.lower() == "microsoft.keyvault/vaults":
            # Where this emulator serves the vault's data plane (ARM says {name}.vault.azure.net).
            doc["properties"]["vaultUri"] = f"{self.url}/keyvault/{doc['name']}/"
        return doc

    @property
    def keyvault_domain(self) -> str:
        """The source's `keyvault_domain` for this emulator's vault URIs."""
        return f"{self.host}:{self.port}"

    def _vault_data(self, low: str, path: str, query: dict[str, str]) -> _Reply:
        """Key Vault's data plane: GET {vaultUri}certificates (metadata list items, paged)."""
        m = re.fullmatch(r"/keyvault/([^/]+)/certificates", low)
        if m is None or m.group(1) not in self.vault_certs:
            return _error(404, "NotFound", f"no such vault collection: {path}")
        if not str(query.get("api-version", "")).startswith("7."):
            return _error(400, "BadParameter", "api-version 7.x is required")
        base = f"{self.url}/keyvault/{m.group(1)}/certificates"
        items = [
            {
                "id": f"{base}/{c['name']}",
                "attributes": copy.deepcopy(c.get("attributes", {})),
                "tags": copy.deepcopy(c.get("tags", {})),
                "x5t": c.get("x5t", ""),
                "subject": c.get("subject", ""),
            }
            for c in self.vault_certs[m.group(1)]
        ]
        return self._page(items, path, query)

    def _list_item(self, res: _Res, expand: set[str]) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": res.id,
            "name": res.name,
            "type": res.type,
            "location": res.location,
        }
        for k in ("kind", "sku", "identity", "managedBy", "plan"):
            if k in res.doc:
                item[k] = copy.deepcopy(res.doc[k])
        if res.doc.get("tags"):
            item["tags"] = dict(res.doc["tags"])
        if "createdtime" in expand:
            item["createdTime"] = res.doc.get("createdTime", "2024-01-15T09:30:00.0000000Z")
        if "changedtime" in expand:
            item["changedTime"] = res.doc.get("changedTime", "2024-06-01T12:00:00.0000000Z")
        if expand:
            item["provisioningState"] = "Succeeded"
        return item

    def _page(self, items: list[dict[str, Any]], path: str, query: dict[str, str]) -> _Reply:
        start = int(query.get("$skiptoken", "0") or 0)
        page = items[start : start + self.page_size]
        out: dict[str, Any] = {"value": page}
        if start + self.page_size < len(items):
            q = {k: v for k, v in query.items() if k != "$skiptoken"}
            q["$skiptoken"] = str(start + self.page_size)
            qs = "&".join(f"{k}={quote(v, safe=',')}" for k, v in q.items())
            out["nextLink"] = f"{self.url}{path}?{qs}"
        return _Reply.json(out)

    # -- management groups ----------------------------------------------------------------

    def _management_group(self, low: str, path: str, query: dict[str, str]) -> _Reply:
        m = re.fullmatch(
            r"/providers/microsoft\.management/managementgroups/([^/]+)(/descendants)?", low
        )
        if m is None:
            return _error(404, "NotFound", f"'{path}' was not found.")
        if query.get("api-version") not in MANAGEMENT_GROUP_API_VERSIONS:
            return _error(400, "InvalidApiVersionParameter", "api-version is not supported")
        name = m.group(1)
        if name in self.denied:
            return _error(
                403,
                "AuthorizationFailed",
                f"The client does not have authorization to perform action "
                f"'Microsoft.Management/managementGroups/descendants/read' over scope '{path}'.",
            )
        mg = self.management_groups.get(name)
        if mg is None:
            return _error(404, "NotFound", f"Management group '{name}' was not found.")
        if m.group(2) is None:
            return _Reply.json(self._group_doc(mg))
        return self._page(list(self._descendants(name)), path, query)

    def _group_doc(self, mg: dict[str, Any]) -> dict[str, Any]:
        parent = mg.get("parent")
        return {
            "id": f"/providers/Microsoft.Management/managementGroups/{mg['name']}",
            "type": "Microsoft.Management/managementGroups",
            "name": mg["name"],
            "properties": {
                "tenantId": self.tenant,
                "displayName": mg.get("displayName", mg["name"]),
                "details": {
                    "parent": {"id": f"/providers/Microsoft.Management/managementGroups/{parent}"}
                    if parent
                    else None
                },
            },
        }

    def _descendants(self, name: str) -> Iterator[dict[str, Any]]:
        """Every group and subscription below `name`, breadth first (the documented shape)."""
        queue = [name]
        while queue:
            current = self.management_groups[queue.pop(0)]
            parent = {"id": f"/providers/Microsoft.Management/managementGroups/{current['name']}"}
            for s in current.get("subscriptions", []):
                doc = self.subs[s.lower()]
                yield {
                    "id": f"/subscriptions/{doc['subscriptionId']}",
                    "type": "/subscriptions",
                    "name": doc["subscriptionId"],
                    "properties": {"displayName": doc["displayName"], "parent": parent},
                }
            for key, child in sorted(self.management_groups.items()):
                if str(child.get("parent") or "").lower() == current["name"].lower():
                    queue.append(key)
                    yield {
                        "id": f"/providers/Microsoft.Management/managementGroups/{child['name']}",
                        "type": "Microsoft.Management/managementGroups",
                        "name": child["name"],
                        "properties": {
                            "displayName": child.get("displayName", child["name"]),
                            "parent": parent,
                        },
                    }

    # -- Resource Graph -----------------------------------------------------------------

    def _graph(self, body: bytes) -> _Reply:
        with self._lock:
            allowed, remaining, resets = self._quota.take() if self._quota else (True, 999, 5.0)
        quota_headers = {
            "x-ms-user-quota-remaining": str(remaining),
            "x-ms-user-quota-resets-after": _hms(resets),
        }
        if not allowed:
            reply = _error(429, "RateLimiting", "Please provide below info when asking for support")
            reply.headers.update(quota_headers)
            return reply.with_header("Retry-After", f"{max(resets, 0.001):.3f}")
        try:
            req = json.loads(body or b"{}")
            query = str(req["query"])
        except (ValueError, KeyError, TypeError):
            return _error(400, "BadRequest", "the body must be JSON with a 'query'")
        subs = [s.lower() for s in req.get("subscriptions") or list(self.subs)]
        # Like the real service, subscriptions the caller cannot read are silently left out.
        subs = [s for s in subs if s in self.subs and s not in self.denied]
        options = req.get("options") or {}
        top = min(int(options.get("$top", 1000)), 1000, self.page_size)
        skip = (
            int(base64.urlsafe_b64decode(options["$skipToken"]).decode())
            if options.get("$skipToken")
            else 0
        )
        rows = self._graph_rows(query, subs)
        page = [self._graph_row(sub, entry) for _, sub, entry in rows[skip : skip + top]]
        out: dict[str, Any] = {
            "totalRecords": len(rows),
            "count": len(page),
            "data": page,
            "facets": [],
            "resultTruncated": "false",
        }
        if skip + top < len(rows):
            out["$skipToken"] = base64.urlsafe_b64encode(str(skip + top).encode()).decode()
        reply = _Reply.json(out)
        reply.headers.update(quota_headers)
        return reply

    def _graph_rows(self, query: str, subs: list[str]) -> list[tuple[str, str, Any]]:
        """The rows of a query as (sort key, subscription, entry), in id order; only the page
        asked for is turned into documents (`_graph_row`), so a 50,000-row estate pages fast."""
        # Not a KQL engine: it knows the two tables the collector asks for.
        table = query.strip().split("|", 1)[0].strip().lower()
        key = (table, tuple(subs), len(self.resources))
        with self._lock:
            cached = self._graph_cache.get(key)
        if cached is not None:
            return cached
        rows: list[tuple[str, str, Any]] = []
        for sub in subs:
            if table == "resourcecontainers":
                rows += [(rg["id"].lower(), sub, rg) for rg in self.groups[sub]]
            elif table == "resources":
                rows += [(res.id.lower(), sub, res) for res in self.by_sub[sub]]
        rows.sort(key=lambda r: r[0])
        with self._lock:
            if len(self._graph_cache) >= 16:  # a few batches are paged at once: keep theirs
                self._graph_cache.pop(next(iter(self._graph_cache)))
            self._graph_cache[key] = rows
        return rows

    def _graph_row(self, sub: str, entry: Any) -> dict[str, Any]:
        if isinstance(entry, _Res):
            return {
                **self._full(entry),
                "name": entry.name.split("/")[-1],
                "type": entry.type.lower(),
                "resourceGroup": entry.rg.lower(),
                "subscriptionId": self.subs[sub]["subscriptionId"],
                "tenantId": self.tenant,
            }
        return {
            "id": entry["id"],
            "name": entry["name"],
            "type": "microsoft.resources/subscriptions/resourcegroups",
            "location": entry["location"],
            "resourceGroup": entry["name"],
            "subscriptionId": self.subs[sub]["subscriptionId"],
            "tenantId": self.tenant,
            "tags": copy.deepcopy(entry["tags"]),
            "properties": copy.deepcopy(entry["properties"]),
        }


# Lists below a resource that exist for every resource of the type (empty unless seeded).
_EMPTY_LISTS: dict[str, tuple[str, ...]] = {
    "microsoft.keyvault/vaults": ("keys", "secrets"),
    "microsoft.sql/servers": ("firewallrules",),
}


class _Reply(Reply):
    @classmethod
    def json(cls, doc: Any, status: int = 200) -> _Reply:
        return cls(status, json.dumps(doc).encode())


def _error(status: int, code: str, message: str) -> _Reply:
    return _Reply.json({"error": {"code": code, "message": message}}, status)


def main() -> None:
    """Run the demo estate (or the whole tenant) until interrupted, printing what a
    driftscan.yaml needs."""
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--port", type=int, default=8443)
    ap.add_argument("--page-size", type=int, default=100)
    ap.add_argument("--estate", choices=["demo", "tenant", "cis"], default="demo")
    args = ap.parse_args()
    estates = {"demo": demo_estate, "tenant": tenant_estate, "cis": cis_estate}
    estate = estates[args.estate]()
    # SIGTERM exits through the context manager too, so the throwaway CA folder is removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with ArmEmulator(estate, port=args.port, page_size=args.page_size) as arm:
        print(
            f"endpoint: {arm.url}\nca_bundle: {arm.ca_path}\nAZURE_ACCESS_TOKEN={arm.token}",
            flush=True,
        )
        serve_until_interrupted()


if __name__ == "__main__":
    main()
