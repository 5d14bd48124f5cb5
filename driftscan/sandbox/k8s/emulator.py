"""A Kubernetes API server emulator over HTTPS: list endpoints, pagination, RBAC denials, faults.

The official client talks to it unchanged through the kubeconfig `kubeconfig()` writes (a
trustme CA, a bearer token). What it serves: the list endpoints of the core, apps, batch,
networking, discovery and RBAC groups, cluster-wide and per namespace, with `limit` /
`continue` paging and a `resourceVersion` per list; a 410 Gone for a continue token older than
the last compaction; scripted faults (429 with Retry-After, 5xx, latency); 403s for a denied
namespace, a denied kind, or every cluster-wide list of a namespaced kind (a reader bound per
namespace). Anything but a GET is logged and refused: `writes()` is the write trap tests
assert empty.
"""

from __future__ import annotations

import base64
import copy
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import yaml

from driftscan.sandbox.https import HttpsEmulator, Reply, first_fault

DEMO_TOKEN = "sandbox-kube-token"
DEMO_CLUSTER = "sandbox-cluster"
READER = "system:serviceaccount:driftscan:reader"

# (group, version, plural) → (Kind, namespaced): what this API server serves.
SERVED: dict[tuple[str, str, str], tuple[str, bool]] = {
    ("", "v1", "namespaces"): ("Namespace", False),
    ("", "v1", "nodes"): ("Node", False),
    ("", "v1", "persistentvolumes"): ("PersistentVolume", False),
    ("", "v1", "pods"): ("Pod", True),
    ("", "v1", "services"): ("Service", True),
    ("", "v1", "configmaps"): ("ConfigMap", True),
    ("", "v1", "secrets"): ("Secret", True),
    ("", "v1", "serviceaccounts"): ("ServiceAccount", True),
    ("", "v1", "persistentvolumeclaims"): ("PersistentVolumeClaim", True),
    ("apps", "v1", "deployments"): ("Deployment", True),
    ("apps", "v1", "statefulsets"): ("StatefulSet", True),
    ("apps", "v1", "daemonsets"): ("DaemonSet", True),
    ("apps", "v1", "replicasets"): ("ReplicaSet", True),
    ("discovery.k8s.io", "v1", "endpointslices"): ("EndpointSlice", True),
    ("networking.k8s.io", "v1", "ingresses"): ("Ingress", True),
    ("networking.k8s.io", "v1", "networkpolicies"): ("NetworkPolicy", True),
    ("batch", "v1", "jobs"): ("Job", True),
    ("batch", "v1", "cronjobs"): ("CronJob", True),
    ("rbac.authorization.k8s.io", "v1", "roles"): ("Role", True),
    ("rbac.authorization.k8s.io", "v1", "rolebindings"): ("RoleBinding", True),
    ("rbac.authorization.k8s.io", "v1", "clusterroles"): ("ClusterRole", False),
    ("rbac.authorization.k8s.io", "v1", "clusterrolebindings"): ("ClusterRoleBinding", False),
}
_BY_KIND = {kind: (g, v, p) for (g, v, p), (kind, _) in SERVED.items()}

_PATH = re.compile(
    r"^/(?:api/(?P<cv>v1)|apis/(?P<g>[^/]+)/(?P<v>[^/]+))"
    r"(?:/namespaces/(?P<ns>[^/]+))?/(?P<plural>[^/]+)$"
)


@dataclass
class Fault:
    """A scripted failure: matching GETs get `status` `count` times (None: every time).

    `match` is a regular expression searched in the path and query; `latency_s` delays the
    answer; `retry_after` adds the header (with 429 it is the API's throttling reply); with
    status 200 and a `body`, that body replaces the real payload (hostile lists).
    """

    status: int = 500
    match: str = ""
    count: int | None = 1
    retry_after: float | None = None
    latency_s: float = 0.0
    body: bytes | None = None
    hits: int = 0

    def applies(self, target: str) -> bool:
        if self.count is not None and self.hits >= self.count:
            return False
        return not self.match or re.search(self.match, target) is not None


_Reply = Reply


def _status(code: int, reason: str, message: str, **details: Any) -> _Reply:
    doc = {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "details": details, "code": code,
    }  # fmt: skip
    return _Reply(code, orjson.dumps(doc))


def _api_version(group: str, version: str) -> str:
    return f"{group}/{version}" if group else version


class KubeEmulator(HttpsEmulator):
    """Serves a set of Kubernetes objects over HTTPS. Use as a context manager.

    `url`, `ca_path`, `token` and `kubeconfig()` are what a client needs. Every request is
    logged in `requests` as (method, path?query) before auth and faults.
    """

    name = "kube"

    def __init__(
        self,
        objects: list[dict[str, Any]] | None = None,
        *,
        token: str = DEMO_TOKEN,
        cluster: str = DEMO_CLUSTER,
        host: str = "127.0.0.1",
        port: int = 0,
        ca_dir: str | Path | None = None,
        max_page: int | None = None,
    ) -> None:
        self.token = token
        self.cluster = cluster
        super().__init__(host, port, ca_dir)
        self.max_page = max_page  # a server may return fewer items than `limit` asks for
        self.rv = 1000
        self.compacted_rv = 0
        self.faults: list[Fault] = []
        self.denied_namespaces: set[str] = set()
        self.denied_kinds: set[tuple[str | None, str]] = set()  # (namespace or None, plural)
        self.namespaced_reader = False
        self.requests: list[tuple[str, str]] = []
        self._expire: int = 0
        self._lock = threading.RLock()
        # (plural, namespace or "", name) → object
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        for obj in objects or []:
            self.add(obj)

    # -- the object store ---------------------------------------------------------------

    def add(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create or replace an object (`kind` and `metadata.name` required); bumps the RV."""
        kind = obj["kind"]
        if kind not in _BY_KIND:
            raise ValueError(f"the emulator does not serve kind {kind!r}")
        group, version, plural = _BY_KIND[kind]
        doc = copy.deepcopy(obj)
        doc["apiVersion"] = _api_version(group, version)
        meta = doc.setdefault("metadata", {})
        with self._lock:
            self.rv += 1
            meta["resourceVersion"] = str(self.rv)
            self.objects[(plural, meta.get("namespace", "") or "", meta["name"])] = doc
        return doc

    def remove(self, kind: str, name: str, namespace: str | None = None) -> None:
        """Delete an object; bumps the RV."""
        plural = _BY_KIND[kind][2]
        with self._lock:
            self.rv += 1
            self.objects.pop((plural, namespace or "", name), None)

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        """The stored object itself (tests mutate it in place to make changes)."""
        return self.objects[(_BY_KIND[kind][2], namespace or "", name)]

    def compact(self) -> None:
        """Forget history: every continue token issued so far answers 410 Gone."""
        with self._lock:
            self.compacted_rv = self.rv + 1
            self.rv += 1

    def expire_continue(self, count: int = 1) -> None:
        """The next `count` requests that carry a continue token answer 410 Gone."""
        with self._lock:
            self._expire += count

    # -- RBAC and faults ----------------------------------------------------------------

    def deny_namespace(self, namespace: str) -> None:
        """Every request under this namespace answers 403 Forbidden."""
        self.denied_namespaces.add(namespace)

    def deny_kind(self, plural: str, namespace: str | None = None) -> None:
        """Listing this kind (in one namespace, or anywhere) answers 403 Forbidden."""
        self.denied_kinds.add((namespace, plural))

    def add_fault(self, fault: Fault | None = None, **kw: Any) -> Fault:
        f = fault or Fault(**kw)
        with self._lock:
            self.faults.append(f)
        return f

    def throttle(self, match: str = "", count: int = 1, retry_after: float = 0.1) -> Fault:
        """Answer the next `count` matching requests with 429 and a Retry-After header."""
        return self.add_fault(status=429, match=match, count=count, retry_after=retry_after)

    def clear(self) -> None:
        """Drop faults, denials and the request log (the objects stay)."""
        with self._lock:
            self.faults.clear()
            self.denied_namespaces.clear()
            self.denied_kinds.clear()
            self.namespaced_reader = False
            self.requests.clear()
            self._expire = 0

    def writes(self) -> list[tuple[str, str]]:
        """Every logged request that was not a GET: the write trap."""
        with self._lock:
            return [r for r in self.requests if r[0] != "GET"]

    # -- lifecycle ----------------------------------------------------------------------

    def kubeconfig(
        self, path: str | Path, *, context: str = "sandbox", token: str | None = None
    ) -> Path:
        """Write a kubeconfig for this server (its CA, a bearer token) and return its path."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        doc = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": self.cluster, "cluster": {"server": self.url, "certificate-authority": self.ca_path}}],
            "users": [{"name": "driftscan-reader", "user": {"token": token or self.token}}],
            "contexts": [{"name": context, "context": {"cluster": self.cluster, "user": "driftscan-reader"}}],
            "current-context": context,
        }  # fmt: skip
        p.write_text(yaml.safe_dump(doc, sort_keys=False))
        p.chmod(0o600)
        return p

    # -- request handling ---------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes = b""
    ) -> _Reply:
        with self._lock:
            self.requests.append((method, target))
        if headers.get("authorization") != f"Bearer {self.token}":
            return _status(401, "Unauthorized", "Unauthorized")
        if method != "GET":
            return _status(405, "MethodNotAllowed", f"the emulator is read-only: {method}")
        fault = first_fault(self.faults, self._lock, target)
        if fault is not None:
            if fault.latency_s:
                time.sleep(fault.latency_s)
            if fault.status == 200 and fault.body is not None:
                return _Reply(200, fault.body)
            if fault.status != 200:
                reply = _status(fault.status, "TooManyRequests" if fault.status == 429 else "InternalError",
                                f"injected {fault.status}")  # fmt: skip
                if fault.retry_after is not None:
                    reply.headers["Retry-After"] = f"{fault.retry_after:g}"
                return reply
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/version":
            return _Reply(200, orjson.dumps({"major": "1", "minor": "31", "gitVersion": "v1.31.2"}))
        m = _PATH.match(parts.path.rstrip("/"))
        if m is None:
            return _status(404, "NotFound", "the server could not find the requested resource")
        group = m.group("g") or ""
        version = m.group("cv") or m.group("v")
        plural = m.group("plural")
        ns = m.group("ns")
        served = SERVED.get((group, version, plural))
        if served is None:
            return _status(404, "NotFound", "the server could not find the requested resource")
        kind, namespaced = served
        if ns is not None and not namespaced:
            return _status(404, "NotFound", "the server could not find the requested resource")
        denied = self._forbidden(plural, group, ns, namespaced)
        if denied is not None:
            return denied
        return self._list(kind, group, version, plural, ns, query)

    def _forbidden(
        self, plural: str, group: str, ns: str | None, namespaced: bool
    ) -> _Reply | None:
        where = f' in the namespace "{ns}"' if ns else " at the cluster scope"
        msg = f'{plural} is forbidden: User "{READER}" cannot list resource "{plural}" in API group "{group}"{where}'
        if (
            (ns is not None and ns in self.denied_namespaces)
            or (None, plural) in self.denied_kinds
            or (ns is not None and (ns, plural) in self.denied_kinds)
            or (ns is None and namespaced and self.namespaced_reader)
        ):
            return _status(403, "Forbidden", msg, kind=plural)
        return None

    def _list(
        self,
        kind: str,
        group: str,
        version: str,
        plural: str,
        ns: str | None,
        query: dict[str, str],
    ) -> _Reply:
        token = query.get("continue")
        with self._lock:
            if token:
                if self._expire > 0:
                    self._expire -= 1
                    return self._gone()
                try:
                    state = orjson.loads(base64.urlsafe_b64decode(token.encode()))
                    start, rv = int(state["start"]), int(state["rv"])
                except (ValueError, KeyError, TypeError):
                    return _status(400, "BadRequest", "invalid continue token")
                if rv < self.compacted_rv:
                    return self._gone()
            else:
                start, rv = 0, self.rv
            items = sorted(
                (k, o) for k, o in self.objects.items()
                if k[0] == plural and (ns is None or k[1] == ns)
            )  # fmt: skip
            limit = int(query["limit"]) if query.get("limit", "").isdigit() else 0
            if self.max_page:
                limit = min(limit or self.max_page, self.max_page)
            end = len(items) if limit <= 0 else min(len(items), start + limit)
            page = []
            for _, o in items[start:end]:
                item = {k: v for k, v in o.items() if k not in ("kind", "apiVersion")}
                page.append(
                    item
                )  # list items come without kind and apiVersion, as the API sends them
            meta: dict[str, Any] = {"resourceVersion": str(rv)}
            if end < len(items):
                meta["continue"] = base64.urlsafe_b64encode(
                    orjson.dumps({"start": end, "rv": rv})
                ).decode()
                meta["remainingItemCount"] = len(items) - end
            doc = {
                "kind": f"{kind}List",
                "apiVersion": _api_version(group, version),
                "metadata": meta,
                "items": page,
            }
        return _Reply(200, orjson.dumps(doc))

    @staticmethod
    def _gone() -> _Reply:
        return _status(
            410, "Expired",
            "The provided continue parameter is too old to display a consistent list result. "
            "You can start a new list without the continue parameter.",
        )  # fmt: skip


__all__ = ["DEMO_CLUSTER", "DEMO_TOKEN", "SERVED", "Fault", "KubeEmulator"]
