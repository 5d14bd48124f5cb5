"""An HTTPS Azure Resource Manager emulator on 127.0.0.1 that serves a seed estate given as data."""

from __future__ import annotations

import base64
import copy
import json
import re
import shutil
import signal
import socket
import ssl
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

# The api-versions the emulator accepts per (lower-case) type; anything else gets ARM's 400.
# Real ARM accepts many more, but an emulator that accepts anything would hide a collector
# that asks for a version its parsers were never written against.
SUPPORTED_API_VERSIONS: dict[str, frozenset[str]] = {
    "microsoft.storage/storageaccounts": frozenset({"2023-01-01", "2023-05-01"}),
    "microsoft.compute/virtualmachines": frozenset({"2024-03-01", "2024-07-01"}),
    "microsoft.network/networksecuritygroups": frozenset({"2023-09-01", "2024-01-01"}),
    "microsoft.sql/servers": frozenset({"2021-11-01", "2023-08-01"}),
    "microsoft.sql/servers/databases": frozenset({"2021-11-01", "2023-08-01"}),
    "microsoft.keyvault/vaults": frozenset({"2023-07-01", "2024-11-01"}),
    "microsoft.web/sites": frozenset({"2023-12-01", "2024-04-01"}),
}
ARM_API_VERSIONS = frozenset({"2021-04-01", "2022-09-01", "2022-12-01", "2025-04-01"})
RESOURCE_GRAPH_API_VERSIONS = frozenset({"2021-03-01", "2022-10-01", "2024-04-01"})

DEMO_TOKEN = "sandbox-arm-token"
DEMO_SECRET_CANARY = "canary-9f1c2d-do-not-store"
DEMO_TENANT = "72f988bf-0000-4000-8000-000000000001"
SUB_PROD = "11111111-1111-4111-8111-111111111111"
SUB_DEV = "22222222-2222-4222-8222-222222222222"


@dataclass
class Fault:
    """A scripted failure: matching requests get `status` (or a raw `body`) `count` times.

    `match` is a regular expression searched (case-insensitively) in the request path and
    query; `count=None` means every matching request. `latency_s` delays the answer (for
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
    hits: int = 0

    def applies(self, method: str, target: str) -> bool:
        if self.count is not None and self.hits >= self.count:
            return False
        if self.method and self.method.upper() != method:
            return False
        return not self.match or re.search(self.match, target, re.IGNORECASE) is not None


@dataclass
class _Res:
    """One indexed seed resource."""

    id: str
    sub: str
    rg: str
    type: str
    name: str  # ARM list spelling: "server/db" for child resources
    location: str
    doc: dict[str, Any]
    extras: dict[str, Any] = field(default_factory=dict)


def resource_id(sub: str, rg: str, rtype: str, name: str) -> str:
    """The ARM id of a resource from its subscription, group, type and (slash-joined) name."""
    namespace, *kinds = rtype.split("/")
    names = name.split("/")
    if len(kinds) != len(names):
        raise ValueError(f"type {rtype!r} needs {len(kinds)} name segments, got {name!r}")
    tail = "/".join(f"{k}/{n}" for k, n in zip(kinds, names, strict=True))
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{namespace}/{tail}"


class ArmEmulator:
    """Serves ARM (and a Resource Graph subset) over HTTPS from a seed estate.

    Use as a context manager; `url`, `ca_path` and `token` are what a collector needs.
    Every request is logged in `requests` as (method, path?query), before auth and faults.
    """

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
        ca_dir: str | Path | None = None,
    ) -> None:
        self.token = token
        self.page_size = page_size
        self.latency_s = latency_s
        self.ratelimit_remaining = ratelimit_remaining
        self.host = host
        self._port = port
        self._ca_dir = Path(ca_dir) if ca_dir else None
        self._own_dir: Path | None = None
        self.faults: list[Fault] = []
        self.denied: set[str] = set()
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.ca_path = ""
        self._index(estate)

    # -- seed ---------------------------------------------------------------------------

    def _index(self, estate: dict[str, Any]) -> None:
        self.tenant = str(estate.get("tenantId", DEMO_TENANT))
        self.subs: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, list[dict[str, Any]]] = {}
        self.resources: dict[str, _Res] = {}
        self.by_sub: dict[str, list[_Res]] = {}
        for sub_id, sub in estate.get("subscriptions", {}).items():
            key = sub_id.lower()
            self.subs[key] = {
                "id": f"/subscriptions/{sub_id}",
                "subscriptionId": sub_id,
                "tenantId": self.tenant,
                "displayName": sub.get("displayName", sub_id),
                "state": sub.get("state", "Enabled"),
            }
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
                    rid = resource_id(sub_id, rg_name, spec["type"], spec["name"])
                    extras = {
                        k: spec[k]
                        for k in ("appSettings", "transparentDataEncryption")
                        if k in spec
                    }
                    doc = {k: v for k, v in spec.items() if k not in extras}
                    res = _Res(
                        rid, key, rg_name, spec["type"], spec["name"], spec["location"], doc, extras
                    )
                    self.resources[rid.lower()] = res
                    self.by_sub[key].append(res)

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> ArmEmulator:
        import trustme  # the demo extra; only needed when the emulator runs

        ca = trustme.CA()
        cert = ca.issue_cert(self.host, "localhost")
        if self._ca_dir is None:
            self._own_dir = Path(tempfile.mkdtemp(prefix="driftscan-arm-"))
        folder = self._ca_dir or self._own_dir
        assert folder is not None
        folder.mkdir(parents=True, exist_ok=True)
        ca_file = folder / "arm-sandbox-ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        self.ca_path = str(ca_file)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(ctx)
        self._server = _TLSServer((self.host, self._port), _Handler, ctx, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="arm-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._own_dir is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)
            self._own_dir = None

    def __enter__(self) -> ArmEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start the emulator first"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

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

    def clear(self) -> None:
        """Drop scripted faults, denials and the request log."""
        with self._lock:
            self.faults.clear()
            self.denied.clear()
            self.requests.clear()

    def writes(self) -> list[tuple[str, str]]:
        """Every logged request that was not a GET (the read-only allow-list checks these)."""
        with self._lock:
            return [r for r in self.requests if r[0] != "GET"]

    # -- request handling ---------------------------------------------------------------

    def _next_fault(self, method: str, target: str) -> Fault | None:
        with self._lock:
            for f in self.faults:
                if f.applies(method, target):
                    f.hits += 1
                    return f
        return None

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> _Reply:
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
        fault = self._next_fault(method, target)
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
        if method == "POST" and low.endswith("/config/appsettings/list"):
            return self._app_settings(low.removesuffix("/config/appsettings/list"), api)
        if method != "GET":
            return _error(405, "MethodNotAllowed", f"the emulator is read-only: {method} {path}")
        if low == "/subscriptions":
            return self._page(list(self.subs.values()), path, query)
        m = re.fullmatch(r"/subscriptions/([^/]+)(/.*)?", low)
        if m is None:
            return self._by_id(low, path, api)
        sub, rest = m.group(1), m.group(2) or ""
        if sub not in self.subs:
            return _error(
                404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found."
            )
        if api not in ARM_API_VERSIONS and rest in {"", "/resourcegroups", "/resources"}:
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
        return self._by_id(low, path, api)

    def _by_id(self, low: str, path: str, api: str) -> _Reply:
        tde = low.endswith("/transparentdataencryption/current")
        res = self.resources.get(
            low.removesuffix("/transparentdataencryption/current") if tde else low
        )
        if res is None:
            for g in self.groups.values():
                for rg in g:
                    if rg["id"].lower() == low:
                        return _Reply.json(rg)
            return _error(404, "ResourceNotFound", f"The Resource '{path}' was not found.")
        if api not in SUPPORTED_API_VERSIONS.get(res.type.lower(), frozenset()):
            return _error(
                400,
                "NoRegisteredProviderFound",
                f"No registered resource provider found for api version '{api}' and type '{res.type}'.",
            )
        if tde:
            if res.type.lower() != "microsoft.sql/servers/databases":
                return _error(404, "ResourceNotFound", f"The Resource '{path}' was not found.")
            state = res.extras.get("transparentDataEncryption", {"state": "Enabled"})
            return _Reply.json(
                {
                    "id": f"{res.id}/transparentDataEncryption/Current",
                    "name": "Current",
                    "type": "Microsoft.Sql/servers/databases/transparentDataEncryption",
                    "properties": copy.deepcopy(state),
                }
            )
        return _Reply.json(self._full(res))

    def _full(self, res: _Res) -> dict[str, Any]:
        doc = copy.deepcopy(res.doc)
        doc.pop("createdTime", None)
        doc.pop("changedTime", None)
        doc["id"] = res.id
        doc["name"] = res.name.split("/")[-1]
        doc.setdefault("tags", {})
        doc.setdefault("properties", {})
        return doc

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

    def _app_settings(self, low_site: str, api: str) -> _Reply:
        res = self.resources.get(low_site)
        if res is None or res.type.lower() != "microsoft.web/sites":
            return _error(404, "ResourceNotFound", f"The site '{low_site}' was not found.")
        if api not in SUPPORTED_API_VERSIONS["microsoft.web/sites"]:
            return _error(400, "NoRegisteredProviderFound", f"api-version {api!r} is not supported")
        return _Reply.json(
            {
                "id": f"{res.id}/config/appsettings",
                "name": "appsettings",
                "type": "Microsoft.Web/sites/config",
                "properties": copy.deepcopy(res.extras.get("appSettings", {})),
            }
        )

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

    # -- Resource Graph -----------------------------------------------------------------

    def _graph(self, body: bytes) -> _Reply:
        try:
            req = json.loads(body or b"{}")
            query = str(req["query"])
        except (ValueError, KeyError, TypeError):
            return _error(400, "BadRequest", "the body must be JSON with a 'query'")
        subs = [s.lower() for s in req.get("subscriptions") or list(self.subs)]
        # Like the real service, subscriptions the caller cannot read are silently left out.
        subs = [s for s in subs if s in self.subs and s not in self.denied]
        options = req.get("options") or {}
        top = min(int(options.get("$top", 1000)), self.page_size)
        skip = (
            int(base64.urlsafe_b64decode(options["$skipToken"]).decode())
            if options.get("$skipToken")
            else 0
        )
        rows = list(self._graph_rows(query, subs))
        rows.sort(key=lambda r: str(r["id"]).lower())
        page = rows[skip : skip + top]
        out: dict[str, Any] = {
            "totalRecords": len(rows),
            "count": len(page),
            "data": page,
            "facets": [],
            "resultTruncated": "false",
        }
        if skip + top < len(rows):
            out["$skipToken"] = base64.urlsafe_b64encode(str(skip + top).encode()).decode()
        return (
            _Reply.json(out)
            .with_header("x-ms-user-quota-remaining", "14")
            .with_header("x-ms-user-quota-resets-after", "00:00:05")
        )

    def _graph_rows(self, query: str, subs: list[str]) -> Iterator[dict[str, Any]]:
        # Not a KQL engine: it knows the two tables the collector asks for.
        table = query.strip().split("|", 1)[0].strip().lower()
        for sub in subs:
            if table == "resourcecontainers":
                for rg in self.groups[sub]:
                    yield {
                        "id": rg["id"],
                        "name": rg["name"],
                        "type": "microsoft.resources/subscriptions/resourcegroups",
                        "location": rg["location"],
                        "resourceGroup": rg["name"],
                        "subscriptionId": self.subs[sub]["subscriptionId"],
                        "tenantId": self.tenant,
                        "tags": rg["tags"],
                        "properties": rg["properties"],
                    }
            elif table == "resources":
                for res in self.by_sub[sub]:
                    full = self._full(res)
                    yield {
                        **full,
                        "name": res.name.split("/")[-1],
                        "type": res.type.lower(),
                        "resourceGroup": res.rg.lower(),
                        "subscriptionId": self.subs[sub]["subscriptionId"],
                        "tenantId": self.tenant,
                    }


@dataclass
class _Reply:
    status: int
    body: bytes | None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, doc: Any, status: int = 200) -> _Reply:
        return cls(status, json.dumps(doc).encode())

    def with_header(self, name: str, value: str) -> _Reply:
        self.headers[name] = value
        return self


def _error(status: int, code: str, message: str) -> _Reply:
    return _Reply.json({"error": {"code": code, "message": message}}, status)


class _TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, addr: tuple[str, int], handler: type[_Handler], ctx: ssl.SSLContext, arm: ArmEmulator
    ) -> None:
        self.ctx = ctx
        self.arm = arm
        super().__init__(addr, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = self.socket.accept()
        # The handshake runs lazily in the handler thread so a slow client never blocks accept().
        return self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One buffered write per reply (flushed by handle_one_request): headers and body in
    # separate segments would meet Nagle and delayed ACKs and cost ~40 ms a request.
    wbufsize = -1
    disable_nagle_algorithm = True
    server: _TLSServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read the request log
        return

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = self.server.arm.handle(self.command, self.path, headers, body)
        payload = reply.body or b""
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("x-ms-request-id", f"sandbox-{id(reply):x}")
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(payload)
        except (ConnectionError, ssl.SSLError, OSError):
            # The client gave up (a timeout test); nothing to answer.
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


# -- the demo estate (data) -------------------------------------------------------------


def _storage(
    name: str,
    location: str,
    tags: dict[str, str],
    *,
    blob_public: bool = False,
    network: str = "Deny",
    tls: str = "TLS1_2",
    https_only: bool = True,
) -> dict[str, Any]:
    return {
        "type": "Microsoft.Storage/storageAccounts",
        "name": name,
        "location": location,
        "kind": "StorageV2",
        "sku": {"name": "Standard_LRS", "tier": "Standard"},
        "tags": tags,
        "properties": {
            "encryption": {
                "services": {
                    "blob": {"enabled": True, "keyType": "Account"},
                    "file": {"enabled": True, "keyType": "Account"},
                },
                "keySource": "Microsoft.Storage",
                "requireInfrastructureEncryption": False,
            },
            "allowBlobPublicAccess": blob_public,
            "publicNetworkAccess": "Enabled",
            "minimumTlsVersion": tls,
            "supportsHttpsTrafficOnly": https_only,
            "networkAcls": {"defaultAction": network, "bypass": "AzureServices", "ipRules": []},
            "primaryEndpoints": {"blob": f"https://{name}.blob.core.windows.net/"},
            "provisioningState": "Succeeded",
        },
    }


def _vm(
    sub: str, rg: str, name: str, location: str, tags: dict[str, str], *, managed: bool = True
) -> dict[str, Any]:
    os_disk: dict[str, Any] = {"osType": "Linux", "name": f"{name}-os", "createOption": "FromImage"}
    if managed:
        os_disk["managedDisk"] = {
            "storageAccountType": "Premium_LRS",
            "id": resource_id(sub, rg, "Microsoft.Compute/disks", f"{name}-os"),
        }
    else:
        os_disk["vhd"] = {"uri": f"https://legacyvhds.blob.core.windows.net/vhds/{name}.vhd"}
    return {
        "type": "Microsoft.Compute/virtualMachines",
        "name": name,
        "location": location,
        "tags": tags,
        "properties": {
            "vmId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{sub}/{name}")),
            "hardwareProfile": {"vmSize": "Standard_B2s"},
            "storageProfile": {
                "imageReference": {
                    "publisher": "Canonical",
                    "offer": "ubuntu-24_04-lts",
                    "sku": "server",
                },
                "osDisk": os_disk,
            },
            "osProfile": {
                "computerName": name,
                "adminUsername": "azureuser",
                "linuxConfiguration": {"disablePasswordAuthentication": True},
            },
            "securityProfile": {"encryptionAtHost": False},
            "networkProfile": {
                "networkInterfaces": [
                    {
                        "id": resource_id(
                            sub, rg, "Microsoft.Network/networkInterfaces", f"{name}-nic"
                        )
                    }
                ]
            },
            "provisioningState": "Succeeded",
        },
    }


def _nsg(
    name: str, location: str, tags: dict[str, str], rules: list[tuple[str, str, str, str]]
) -> dict[str, Any]:
    return {
        "type": "Microsoft.Network/networkSecurityGroups",
        "name": name,
        "location": location,
        "tags": tags,
        "properties": {
            "securityRules": [
                {
                    "name": rname,
                    "properties": {
                        "protocol": "Tcp",
                        "sourcePortRange": "*",
                        "destinationPortRange": port,
                        "sourceAddressPrefix": source,
                        "destinationAddressPrefix": "*",
                        "access": access,
                        "priority": 100 + i * 10,
                        "direction": "Inbound",
                    },
                }
                for i, (rname, port, source, access) in enumerate(rules)
            ],
            "provisioningState": "Succeeded",
        },
    }


def _sql_server(name: str, location: str, tags: dict[str, str], *, public: str) -> dict[str, Any]:
    return {
        "type": "Microsoft.Sql/servers",
        "name": name,
        "location": location,
        "kind": "v12.0",
        "tags": tags,
        "properties": {
            "administratorLogin": "sqladmin",
            "version": "12.0",
            "state": "Ready",
            "fullyQualifiedDomainName": f"{name}.database.windows.net",
            "publicNetworkAccess": public,
            "minimalTlsVersion": "1.2",
        },
    }


def _sql_db(
    server: str, db: str, location: str, tags: dict[str, str], *, tde: str
) -> dict[str, Any]:
    return {
        "type": "Microsoft.Sql/servers/databases",
        "name": f"{server}/{db}",
        "location": location,
        "kind": "v12.0,user",
        "sku": {"name": "S0", "tier": "Standard"},
        "tags": tags,
        "properties": {
            "status": "Online",
            "collation": "SQL_Latin1_General_CP1_CI_AS",
            "zoneRedundant": False,
        },
        "transparentDataEncryption": {"state": tde},
    }


def _vault(
    name: str, location: str, tags: dict[str, str], *, purge: bool, public: str
) -> dict[str, Any]:
    return {
        "type": "Microsoft.KeyVault/vaults",
        "name": name,
        "location": location,
        "tags": tags,
        "properties": {
            "tenantId": DEMO_TENANT,
            "sku": {"family": "A", "name": "standard"},
            "enableSoftDelete": True,
            "softDeleteRetentionInDays": 90,
            "enablePurgeProtection": purge,
            "enableRbacAuthorization": True,
            "publicNetworkAccess": public,
            "networkAcls": {
                "defaultAction": "Deny" if public == "Disabled" else "Allow",
                "bypass": "AzureServices",
            },
            "vaultUri": f"https://{name}.vault.azure.net/",
        },
    }


def _site(
    name: str, location: str, tags: dict[str, str], settings: dict[str, str]
) -> dict[str, Any]:
    return {
        "type": "Microsoft.Web/sites",
        "name": name,
        "location": location,
        "kind": "app,linux",
        "tags": tags,
        "properties": {
            "state": "Running",
            "hostNames": [f"{name}.azurewebsites.net"],
            "httpsOnly": True,
            "publicNetworkAccess": "Enabled",
            "siteConfig": {"minTlsVersion": "1.2", "ftpsState": "FtpsOnly", "appSettings": None},
        },
        "appSettings": settings,
    }


def _generic(rtype: str, name: str, location: str, tags: dict[str, str]) -> dict[str, Any]:
    return {"type": rtype, "name": name, "location": location, "tags": tags, "properties": {}}


def demo_estate() -> dict[str, Any]:
    """Two subscriptions with every type the collector reads in full, and some seeded problems.

    Seeded for the compliance rules: an `eu-personal` storage account in a US region, a PCI
    SQL server with public network access, an NSG open to the Internet on 22, a vault without
    purge protection, a database without TDE, a VM on an unencrypted unmanaged disk, and a web
    app whose settings hold a secret (DEMO_SECRET_CANARY) that must never be stored.
    """
    p, d = SUB_PROD, SUB_DEV
    eu = {"data_class": "eu-personal", "owner": "data-team"}
    pci = {"pci": "true", "owner": "payments"}
    return {
        "tenantId": DEMO_TENANT,
        "subscriptions": {
            p: {
                "displayName": "acme-prod",
                "resourceGroups": {
                    "rg-data": {
                        "location": "westeurope",
                        "tags": {"owner": "data-team"},
                        "resources": [
                            _storage("acmeeuarchive", "westeurope", eu),
                            _storage("acmeeucustomers", "eastus", eu),
                            _storage(
                                "acmepublicweb",
                                "westeurope",
                                {"owner": "web"},
                                blob_public=True,
                                network="Allow",
                            ),
                            _vault(
                                "acme-prod-kv",
                                "westeurope",
                                {"owner": "sec"},
                                purge=True,
                                public="Disabled",
                            ),
                            _generic(
                                "Microsoft.Network/privateEndpoints", "acme-kv-pe", "westeurope", {}
                            ),
                        ],
                    },
                    "rg-payments": {
                        "location": "eastus",
                        "tags": pci,
                        "resources": [
                            _sql_server("acme-payments-sql", "eastus", pci, public="Enabled"),
                            _sql_db("acme-payments-sql", "payments", "eastus", pci, tde="Enabled"),
                            _vm(p, "rg-payments", "pay-vm-01", "eastus", pci),
                            _nsg(
                                "pay-nsg",
                                "eastus",
                                pci,
                                [("allow-https", "443", "10.0.0.0/8", "Allow")],
                            ),
                            _site(
                                "acme-payments-api",
                                "eastus",
                                pci,
                                {"DB_PASSWORD": DEMO_SECRET_CANARY, "FEATURE_FLAGS": "checkout-v2"},
                            ),
                            _generic(
                                "Microsoft.Network/virtualNetworks", "pay-vnet", "eastus", pci
                            ),
                            _generic("Microsoft.Compute/disks", "pay-vm-01-os", "eastus", pci),
                        ],
                    },
                    "rg-web": {
                        "location": "westeurope",
                        "tags": {"owner": "web"},
                        "resources": [
                            _vm(p, "rg-web", "web-vm-01", "westeurope", {"owner": "web"}),
                            _nsg(
                                "web-nsg",
                                "westeurope",
                                {"owner": "web"},
                                [
                                    ("allow-ssh", "22", "Internet", "Allow"),
                                    ("allow-https", "443", "*", "Allow"),
                                ],
                            ),
                            _site(
                                "acme-www",
                                "westeurope",
                                {"owner": "web"},
                                {"APP_MODE": "production"},
                            ),
                            _generic(
                                "Microsoft.Network/publicIPAddresses", "web-pip", "westeurope", {}
                            ),
                        ],
                    },
                },
            },
            d: {
                "displayName": "acme-dev",
                "resourceGroups": {
                    "rg-dev": {
                        "location": "northeurope",
                        "tags": {"env": "dev"},
                        "resources": [
                            _storage("acmedevscratch", "northeurope", {"env": "dev"}, tls="TLS1_0"),
                            _vm(
                                d,
                                "rg-dev",
                                "dev-vm-legacy",
                                "northeurope",
                                {"env": "dev"},
                                managed=False,
                            ),
                            _nsg(
                                "dev-nsg",
                                "northeurope",
                                {"env": "dev"},
                                [("deny-all", "*", "*", "Deny")],
                            ),
                            _sql_server(
                                "acme-dev-sql", "northeurope", {"env": "dev"}, public="Disabled"
                            ),
                            _sql_db(
                                "acme-dev-sql",
                                "scratch",
                                "northeurope",
                                {"env": "dev"},
                                tde="Disabled",
                            ),
                            _vault(
                                "acme-dev-kv",
                                "northeurope",
                                {"env": "dev"},
                                purge=False,
                                public="Enabled",
                            ),
                            _site(
                                "acme-dev-app",
                                "northeurope",
                                {"env": "dev"},
                                {"API_KEY": "dev-key-123"},
                            ),
                        ],
                    },
                },
            },
        },
    }


def main() -> None:
    """Run the demo estate until interrupted, printing what a driftscan.yaml needs."""
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--port", type=int, default=8443)
    ap.add_argument("--page-size", type=int, default=100)
    args = ap.parse_args()
    # SIGTERM exits through the context manager too, so the throwaway CA folder is removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with ArmEmulator(demo_estate(), port=args.port, page_size=args.page_size) as arm:
        print(
            f"endpoint: {arm.url}\nca_bundle: {arm.ca_path}\nAZURE_ACCESS_TOKEN={arm.token}",
            flush=True,
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
