"""A Cloud Asset Inventory emulator over HTTPS: the v1 search endpoints google-cloud-asset's REST
transport calls, with paging, a denied project, throttling bursts and a write trap.

What it serves: `GET /v1/{scope}:searchAllResources` and `GET /v1/{scope}:searchAllIamPolicies`
for `organizations/N`, `folders/N` and `projects/ID|NUMBER`, with `assetTypes`, `pageSize`
(at most 500, and at most `max_page` when set), `pageToken` and `readMask` (the versioned
resource documents come only when the mask names them, as the API does), and the IAM queries
`memberTypes=allUsers OR memberTypes=allAuthenticatedUsers` and `policy:(a OR b)`. Errors are
the API's JSON error body. Anything but a GET is logged and answered 405: `writes()` is the
write trap tests assert empty.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import orjson

from driftscan.sandbox.https import HttpsEmulator, Reply, first_fault

DEMO_TOKEN = "sandbox-gcp-token"
MAX_PAGE = 500
_PATH = re.compile(
    r"^/v1/(?P<scope>(?:organizations|folders|projects)/[^/:]+):(?P<method>searchAllResources|searchAllIamPolicies)$"
)
_POLICY_QUERY = re.compile(r"^policy:\(?(?P<members>[^()]*)\)?$")
_MEMBER_TYPES = re.compile(r"^memberTypes[=:](?P<t>\w+)$")


@dataclass
class Fault:
    """A scripted failure: matching requests get `status` `count` times (None: every time).

    `match` is a regular expression searched in the decoded path and query; `latency_s`
    delays the answer; with status 200 and a `body`, that body replaces the real payload.
    """

    status: int = 429
    match: str = ""
    count: int | None = 1
    latency_s: float = 0.0
    body: bytes | None = None
    hits: int = 0

    def applies(self, target: str) -> bool:
        if self.count is not None and self.hits >= self.count:
            return False
        return not self.match or re.search(self.match, target) is not None


@dataclass
class Project:
    """A project of the emulated organisation: its id, number and folder."""

    id: str
    number: str
    folder: str | None = None


_Reply = Reply

_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
           404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 429: "RESOURCE_EXHAUSTED",
           500: "INTERNAL", 503: "UNAVAILABLE"}  # fmt: skip


def _error(code: int, message: str) -> _Reply:
    doc = {"error": {"code": code, "message": message, "status": _STATUS.get(code, "UNKNOWN")}}
    return _Reply(code, orjson.dumps(doc))


class AssetEmulator(HttpsEmulator):
    """Serves an organisation's assets and IAM policies over HTTPS. Use as a context manager.

    `url` and `ca_path` are what a client needs; with `token` set, requests must carry it as a
    bearer token, else anonymous requests are served too. Every request is logged in
    `requests` as (method, decoded path?query) before auth and faults.
    """

    name = "gcp"
    content_type = "application/json; charset=UTF-8"

    def __init__(
        self,
        assets: list[dict[str, Any]] | None = None,
        policies: list[dict[str, Any]] | None = None,
        *,
        organization: str = "123456789012",
        projects: list[Project] | None = None,
        token: str | None = DEMO_TOKEN,
        allow_anonymous: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        ca_dir: str | Path | None = None,
        max_page: int | None = None,
    ) -> None:
        super().__init__(host, port, ca_dir)
        self.organization = organization
        self.token = token
        self.allow_anonymous = allow_anonymous
        self.max_page = max_page
        self.projects: dict[str, Project] = {}
        self.assets: list[dict[str, Any]] = []
        self.policies: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self.denied_projects: set[str] = set()
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.RLock()
        for p in projects or []:
            self.add_project(p)
        for a in assets or []:
            self.add(a)
        for pol in policies or []:
            self.policies.append(pol)

    # -- the estate ---------------------------------------------------------------------

    def add_project(self, p: Project) -> None:
        self.projects[p.id] = p
        self.projects[p.number] = p

    def add(self, asset: dict[str, Any]) -> None:
        """Add one search result (JSON field names); `_project` names its project id."""
        with self._lock:
            self.assets.append(asset)

    def deny_project(self, project_id: str) -> None:
        """Every search scoped to this project answers 403 PERMISSION_DENIED."""
        self.denied_projects.add(project_id)

    def add_fault(self, fault: Fault | None = None, **kw: Any) -> Fault:
        f = fault or Fault(**kw)
        with self._lock:
            self.faults.append(f)
        return f

    def throttle(self, match: str = "", count: int = 1) -> Fault:
        """Answer the next `count` matching requests with 429 RESOURCE_EXHAUSTED (a burst)."""
        return self.add_fault(status=429, match=match, count=count)

    def clear(self) -> None:
        """Drop faults, denials and the request log (the estate stays)."""
        with self._lock:
            self.faults.clear()
            self.denied_projects.clear()
            self.requests.clear()

    def writes(self) -> list[tuple[str, str]]:
        """Every logged request that was not a GET: the write trap."""
        with self._lock:
            return [r for r in self.requests if r[0] != "GET"]

    # -- request handling ---------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes = b""
    ) -> _Reply:
        decoded = unquote(target)
        with self._lock:
            self.requests.append((method, decoded))
        auth = headers.get("authorization")
        if auth is None and not self.allow_anonymous:
            return _error(401, "Request is missing required authentication credential.")
        if auth is not None and self.token is not None and auth != f"Bearer {self.token}":
            return _error(401, "Request had invalid authentication credentials.")
        if method != "GET":
            return _error(405, f"the emulator is read-only: {method}")
        fault = first_fault(self.faults, self._lock, decoded)
        if fault is not None:
            if fault.latency_s:
                time.sleep(fault.latency_s)
            if fault.status == 200 and fault.body is not None:
                return Reply(200, fault.body)
            if fault.status != 200:
                msg = ("Quota exceeded for quota metric 'Search requests' and limit "
                       "'Search requests per minute per project'") if fault.status == 429 else (
                       f"injected {fault.status}")  # fmt: skip
                return _error(fault.status, msg)
        parts = urlsplit(target)
        m = _PATH.match(unquote(parts.path))
        if m is None:
            return _error(404, f"the emulator does not serve {parts.path[:200]}")
        query = parse_qs(parts.query)
        scope = m["scope"]
        kind, _, ident = scope.partition("/")
        if kind == "projects":
            p = self.projects.get(ident)
            if p is None:
                return _error(403, f"The caller does not have permission on {scope}")
            if p.id in self.denied_projects:
                return _error(403, f"The caller does not have permission on projects/{p.id}: "
                                   "cloudasset.assets.searchAllResources")  # fmt: skip
        elif kind == "organizations" and ident != self.organization:
            return _error(403, f"The caller does not have permission on {scope}")
        try:
            size = int(query.get("pageSize", ["0"])[-1] or 0)
        except ValueError:
            return _error(400, "pageSize is not a number")
        size = min(size or 100, MAX_PAGE, self.max_page or MAX_PAGE)
        rows: list[dict[str, Any]] | None
        if m["method"] == "searchAllResources":
            rows = self._resources(kind, ident, query)
        else:
            rows = self._policies(kind, ident, query)
        if rows is None:
            return _error(400, "unsupported query for the emulator")
        digest = hashlib.sha256(orjson.dumps([scope, m["method"], sorted(query.get("assetTypes", [])),
                                              query.get("query", [""])[-1]])).hexdigest()[:16]  # fmt: skip
        start = 0
        token = query.get("pageToken", [""])[-1]
        if token:
            try:
                st = orjson.loads(base64.urlsafe_b64decode(token.encode()))
                start = int(st["o"])
                if st["q"] != digest:
                    raise ValueError("another query's token")
            except (ValueError, KeyError, TypeError):
                return _error(400, "Request contains an invalid argument: page_token")
        page = rows[start : start + size]
        doc: dict[str, Any] = {"results": page}
        if start + size < len(rows):
            doc["nextPageToken"] = base64.urlsafe_b64encode(
                orjson.dumps({"o": start + size, "q": digest})
            ).decode()
        return _Reply(200, orjson.dumps(doc))

    def _in_scope(self, asset: dict[str, Any], kind: str, ident: str) -> bool:
        pid = asset.get("_project")
        p = self.projects.get(pid) if isinstance(pid, str) else None
        if kind == "organizations":
            return True
        if kind == "folders":
            return p is not None and p.folder == ident
        return p is not None and ident in (p.id, p.number)

    def _resources(
        self, kind: str, ident: str, query: dict[str, list[str]]
    ) -> list[dict[str, Any]]:
        types = set(query.get("assetTypes", []))
        mask = query.get("readMask", [""])[-1]
        full = "versionedResources" in mask or "versioned_resources" in mask or mask == "*"
        out = []
        with self._lock:
            assets = list(self.assets)
        for a in assets:
            if types and a.get("assetType") not in types:
                continue
            if not self._in_scope(a, kind, ident):
                continue
            row = {k: v for k, v in a.items() if not k.startswith("_")}
            if not full:
                row.pop("versionedResources", None)
            out.append(row)
        out.sort(key=lambda r: str(r.get("name")))
        return out

    def _policies(
        self, kind: str, ident: str, query: dict[str, list[str]]
    ) -> list[dict[str, Any]] | None:
        q = query.get("query", [""])[-1].strip()
        wanted: set[str] | None = None
        if q:
            m = _POLICY_QUERY.match(q)
            if m is not None:
                wanted = {w.strip() for w in m["members"].split(" OR ") if w.strip()}
            else:
                # `memberTypes=allUsers OR memberTypes=allAuthenticatedUsers`: the two public
                # principal types are their own member names.
                types = [_MEMBER_TYPES.match(part.strip()) for part in q.split(" OR ")]
                if not all(types):
                    return None
                wanted = {t["t"] for t in types if t is not None}
        out = []
        for pol in self.policies:
            if not self._in_scope(pol, kind, ident):
                continue
            bindings = pol.get("policy", {}).get("bindings", [])
            if wanted is not None and not any(
                m in wanted for b in bindings for m in b.get("members", [])
            ):
                continue
            out.append({k: v for k, v in pol.items() if not k.startswith("_")})
        out.sort(key=lambda r: str(r.get("resource")))
        return out


__all__ = ["DEMO_TOKEN", "MAX_PAGE", "AssetEmulator", "Fault", "Project"]
