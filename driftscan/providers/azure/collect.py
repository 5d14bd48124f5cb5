"""Azure collector: subscriptions, resource groups and resources read through ARM or Resource Graph."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlsplit

from azure.core.credentials import AccessToken, TokenCredential
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    ServiceRequestError,
    ServiceRequestTimeoutError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)
from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import (
    BearerTokenCredentialPolicy,
    CustomHookPolicy,
    HeadersPolicy,
    HTTPPolicy,
    ProxyPolicy,
    RequestIdPolicy,
    RetryPolicy,
    SansIOHTTPPolicy,
    UserAgentPolicy,
)
from azure.core.rest import HttpRequest

from driftscan import __version__
from driftscan.collect.base import CollectContext
from driftscan.collect.limits import ApiLimits, Limiter, RateLimit, bounded_map
from driftscan.errors import DriftscanError, Reason, SourceError
from driftscan.model import Resource
from driftscan.providers.azure.source import AzureSource
from driftscan.redaction import Fingerprinter, redact_tree

SUBSCRIPTIONS_API = "2022-12-01"
ARM_LIST_API = "2021-04-01"
RESOURCE_GRAPH_API = "2022-10-01"
LIST_EXPAND = "createdTime,changedTime"
RESOURCE_GROUP_TYPE = "microsoft.resources/subscriptions/resourcegroups"

# Read-only allow-list (design §1.2). Every request is a GET, or a POST whose path matches one
# of these documented reads; the key is the RBAC action docs/azure-role.json grants for it.
# Note what is NOT here: storage listKeys, web publishxml, anything that returns credentials.
ALLOWED_POSTS: Mapping[str, re.Pattern[str]] = {
    "Microsoft.Web/sites/config/list/action": re.compile(
        r"^/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.web/sites/[^/]+"
        r"/config/appsettings/list$",
        re.IGNORECASE,
    ),
    "Microsoft.ResourceGraph/resources/read": re.compile(
        r"^/providers/microsoft\.resourcegraph/resources$", re.IGNORECASE
    ),
}

# Resource Graph: the two tables the collector reads, one subscription per query so that a
# subscription the identity cannot read is a failed slice, not silently absent rows.
GRAPH_RESOURCES = (
    "Resources | project id, name, type, location, tags, kind, sku, identity, managedBy, plan,"
    " zones, properties | order by id asc"
)
GRAPH_GROUPS = (
    "ResourceContainers | where type =~ 'microsoft.resources/subscriptions/resourcegroups'"
    " | project id, name, type, location, tags, managedBy, properties | order by id asc"
)

# Inside a secret subtree (connection strings, app settings) these keys describe an entry.
_KEEP_IN_SECRETS = frozenset({"name", "type", "slotSetting"})
_OPEN_SOURCES = frozenset({"*", "internet", "any", "0.0.0.0/0", "::/0", "0.0.0.0"})


class ReadOnlyViolation(DriftscanError):
    """A request that is not a GET or an allow-listed POST read was about to leave driftscan."""


def check_read_only(method: str, url: str) -> None:
    """Raise ReadOnlyViolation unless this request is a GET or an allow-listed POST read."""
    method = method.upper()
    if method == "GET":
        return
    path = urlsplit(url).path.rstrip("/")
    if method == "POST" and any(p.match(path) for p in ALLOWED_POSTS.values()):
        return
    raise ReadOnlyViolation(f"refusing {method} {path}: driftscan only reads (see ALLOWED_POSTS)")


@dataclass(frozen=True)
class Tuning:
    """Timeouts, backoff and pacing; each can be set as DRIFTSCAN_AZURE_<NAME> (e.g. _BACKOFF_S)."""

    backoff_s: float = 0.8  # exponential base between retries of 5xx / connection errors
    backoff_max_s: float = 30.0
    max_retry_after_s: float = 120.0  # a longer Retry-After is "throttled", not a night-long wait
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 60.0
    low_water: int = 100  # x-ms-ratelimit-remaining-* below this → slow down
    pace_s: float = 2.0  # the pause at zero remaining; scaled down linearly above it

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Tuning:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"DRIFTSCAN_AZURE_{f.name.upper()}")
            if raw:
                values[f.name] = int(raw) if f.type == "int" else float(raw)
        return cls(**values)


@dataclass(frozen=True)
class TypeSpec:
    """How one resource type is read in full: the api-version its parsers are written against."""

    api_version: str
    facets: Callable[[dict[str, Any], dict[str, Any]], tuple[bool | None, bool | None]]
    extras: Callable[[_Arm, str], dict[str, Any]] | None = None


class _HttpFailure(SourceError):
    """A SourceError that remembers the HTTP status (404 after a list means deleted meanwhile)."""

    def __init__(self, message: str, *, reason: Reason, status: int | None = None) -> None:
        super().__init__(message, reason=reason)
        self.status = status


class EnvTokenCredential:
    """A TokenCredential that hands out the bearer token from $AZURE_ACCESS_TOKEN."""

    def __init__(self, token: str) -> None:
        self._token = token

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        # The token's lifetime is the caller's business; an hour keeps the policy from refetching.
        return AccessToken(self._token, int(time.time()) + 3600)


class ReadOnlyPolicy(SansIOHTTPPolicy[HttpRequest, Any]):
    """Refuses, before it is sent, any request that is not a read (runs on every retry too)."""

    def on_request(self, request: PipelineRequest[HttpRequest]) -> None:
        check_read_only(request.http_request.method, request.http_request.url)


class PacingPolicy(HTTPPolicy[HttpRequest, Any]):
    """Slows down when ARM's x-ms-ratelimit-remaining-* (or Graph's quota) headers run low."""

    def __init__(self, low_water: int, pace_s: float) -> None:
        super().__init__()
        self.low_water = low_water
        self.pace_s = pace_s
        self.slowdowns = 0
        self.lowest: int | None = None
        self._next_at = 0.0
        self._lock = threading.Lock()

    def send(self, request: PipelineRequest[HttpRequest]) -> PipelineResponse[HttpRequest, Any]:
        with self._lock:
            wait = self._next_at - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        response = self.next.send(request)
        remaining = _remaining_quota(response.http_response.headers)
        if remaining is not None and remaining < self.low_water:
            delay = self.pace_s * (1 - max(remaining, 0) / self.low_water)
            with self._lock:
                self.slowdowns += 1
                self.lowest = remaining if self.lowest is None else min(self.lowest, remaining)
                self._next_at = max(self._next_at, time.monotonic() + delay)
        return response


# Azure Resource Manager throttling (the token-bucket limits of 2024): reads per subscription,
# a bucket of 250 refilled at 25 a second. Resource Graph: 15 queries per 5 seconds per user.
ARM_LIMITS = ApiLimits({"read": RateLimit(250, 25), "graph": RateLimit(15, 3)})
_SUBSCRIPTION = re.compile(r"^/subscriptions/([^/]+)", re.IGNORECASE)


class TokenBucketPolicy(HTTPPolicy[HttpRequest, Any]):
    """Takes a token per request attempt from the collector's shared limiter: ARM reads per
    subscription, Resource Graph queries per tenant (placed after the retry policy, so every
    retry is paced too)."""

    def __init__(self, limiter: Limiter, tenant: str) -> None:
        super().__init__()
        self.limiter = limiter
        self.tenant = tenant

    def send(self, request: PipelineRequest[HttpRequest]) -> PipelineResponse[HttpRequest, Any]:
        path = urlsplit(request.http_request.url).path
        if path.lower().endswith("/microsoft.resourcegraph/resources"):
            self.limiter.take(self.tenant, "arm", "graph", ARM_LIMITS)
        else:
            m = _SUBSCRIPTION.match(path)
            self.limiter.take(m.group(1).lower() if m else self.tenant, "arm", "read", ARM_LIMITS)
        return self.next.send(request)


def _remaining_quota(headers: Mapping[str, str]) -> int | None:
    values: list[int] = []
    for name, value in headers.items():
        low = name.lower()
        if (
            low.startswith("x-ms-ratelimit-remaining-")
            and "write" not in low
            and "delete" not in low
        ) or (low == "x-ms-user-quota-remaining"):
            try:
                values.append(int(value))
            except ValueError:
                continue
    return min(values) if values else None


class ArmRetryPolicy(RetryPolicy[HttpRequest, Any]):
    """azure-core's retry (Retry-After, exponential backoff on 5xx), bounded and read-aware.

    It does not wait out a Retry-After longer than `max_retry_after_s` (the slice is then
    "throttled"), never retries 4xx other than 408/429 even when Retry-After is present, and
    retries the allow-listed POST reads, which are idempotent.
    """

    def __init__(self, *, max_retry_after_s: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_retry_after_s = max_retry_after_s
        self._method_whitelist = frozenset({"GET", "POST"})

    def is_retry(self, settings: dict[str, Any], response: PipelineResponse[Any, Any]) -> bool:
        status = response.http_response.status_code
        if 400 <= status < 500 and status not in (408, 429):
            return False
        retry_after = self.get_retry_after(response)
        if retry_after is not None and retry_after > self.max_retry_after_s:
            return False
        return bool(super().is_retry(settings, response))


def _reason_for_status(status: int) -> Reason:
    if status in (401, 403):
        return "denied"
    if status == 429:
        return "throttled"
    if status in (408, 504):
        return "timeout"
    if status in (502, 503):
        return "unreachable"
    return "error"


class _Arm:
    """The ARM pipeline (ResourceManagementClient's) plus JSON calls that raise SourceError."""

    def __init__(
        self,
        config: AzureSource,
        credential: TokenCredential,
        tuning: Tuning,
        raw_request_hook: Callable[[PipelineRequest[HttpRequest]], None] | None = None,
    ) -> None:
        from azure.mgmt.resource.resources import ResourceManagementClient

        self.endpoint = config.endpoint.rstrip("/")
        self._origin = _origin(self.endpoint)
        scope = self.endpoint + "/.default"
        self.pacer = PacingPolicy(tuning.low_water, tuning.pace_s)
        self.buckets = TokenBucketPolicy(Limiter(), self.endpoint)
        attempts = config.max_attempts - 1
        retry = ArmRetryPolicy(
            max_retry_after_s=tuning.max_retry_after_s,
            retry_total=attempts,
            retry_connect=attempts,
            retry_read=attempts,
            retry_status=attempts,
            retry_backoff_factor=tuning.backoff_s,
            retry_backoff_max=tuning.backoff_max_s,
        )
        # Our own policy list: the SDK default includes ARMAutoResourceProviderRegistrationPolicy,
        # which answers a 409 by POSTing a provider registration — a write. No redirects either:
        # a bearer token must never follow a Location header to another host.
        policies: list[Any] = [
            RequestIdPolicy(),
            HeadersPolicy(),
            UserAgentPolicy(user_agent=f"driftscan/{__version__}"),
            ProxyPolicy(),
            retry,
            BearerTokenCredentialPolicy(credential, scope),
            ReadOnlyPolicy(),
            self.buckets,
            self.pacer,
            CustomHookPolicy(raw_request_hook=raw_request_hook) if raw_request_hook else None,
        ]
        self.client = ResourceManagementClient(
            credential,
            subscription_id="00000000-0000-0000-0000-000000000000",  # unused: URLs are built here
            base_url=self.endpoint,
            credential_scopes=[scope],
            policies=[p for p in policies if p is not None],
            connection_verify=config.ca_bundle or True,
            connection_timeout=tuning.connect_timeout_s,
            read_timeout=tuning.read_timeout_s,
        )

    def close(self) -> None:
        self.client.close()

    def call(
        self, method: str, url: str, *, params: dict[str, str] | None = None, body: Any = None
    ) -> Any:
        """One JSON call; any failure becomes a SourceError with the design's reason."""
        if not url.startswith("https://") and not url.startswith("http://"):
            url = self.endpoint + url
        path = urlsplit(url).path
        request = HttpRequest(method, url, params=params, json=body)
        try:
            response = self.client.send_request(request)
        except ClientAuthenticationError as exc:
            raise _HttpFailure(
                f"{method} {path}: authentication failed: {exc.message}", reason="denied"
            ) from None
        except (ServiceRequestTimeoutError, ServiceResponseTimeoutError) as exc:
            raise _HttpFailure(
                f"{method} {path}: timed out: {exc.message}", reason="timeout"
            ) from None
        except (ServiceRequestError, ServiceResponseError) as exc:
            raise _HttpFailure(
                f"{method} {path}: unreachable: {exc.message}", reason="unreachable"
            ) from None
        except AzureError as exc:
            raise _HttpFailure(f"{method} {path}: {exc.message}", reason="error") from None
        status = response.status_code
        text = response.text()
        if status != 200:
            code, message = _arm_error(text)
            raise _HttpFailure(
                f"{method} {path}: HTTP {status} {code}: {message}".rstrip(": "),
                reason=_reason_for_status(status),
                status=status,
            )
        try:
            return json.loads(text)
        except ValueError as exc:
            raise _HttpFailure(
                f"{method} {path}: response is not JSON: {exc}", reason="parse", status=200
            ) from None

    def get(self, path: str, api_version: str) -> dict[str, Any]:
        doc = self.call("GET", path, params={"api-version": api_version})
        if not isinstance(doc, dict):
            raise _HttpFailure(
                f"GET {path}: expected an object, got {type(doc).__name__}", reason="parse"
            )
        return doc

    def pages(self, path: str, params: dict[str, str]) -> Iterator[list[Any]]:
        """An ARM list, following nextLink; a nextLink to another host is refused (token leak)."""
        doc = self.call("GET", path, params=params)
        while True:
            if not isinstance(doc, dict) or not isinstance(doc.get("value"), list):
                raise _HttpFailure(
                    f"GET {path}: list response without a 'value' array", reason="parse"
                )
            yield doc["value"]
            link = doc.get("nextLink")
            if not link:
                return
            if not isinstance(link, str) or _origin(link) != self._origin:
                raise _HttpFailure(
                    f"GET {path}: nextLink leaves {self._origin}: {link!r}", reason="parse"
                )
            doc = self.call("GET", link)

    def graph(self, query: str, subscription: str) -> Iterator[list[Any]]:
        """A Resource Graph query over one subscription, paged by $skipToken."""
        path = "/providers/Microsoft.ResourceGraph/resources"
        options: dict[str, Any] = {"resultFormat": "objectArray", "$top": 1000}
        while True:
            body = {"subscriptions": [subscription], "query": query, "options": options}
            doc = self.call("POST", path, params={"api-version": RESOURCE_GRAPH_API}, body=body)
            if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
                raise _HttpFailure(f"POST {path}: response without a 'data' array", reason="parse")
            yield doc["data"]
            token = doc.get("$skipToken")
            if not token:
                if str(doc.get("resultTruncated", "false")).lower() == "true":
                    raise _HttpFailure(
                        f"POST {path}: result truncated without a $skipToken", reason="error"
                    )
                return
            options = {**options, "$skipToken": token}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _arm_error(text: str) -> tuple[str, str]:
    try:
        err = json.loads(text).get("error") or {}
        return str(err.get("code", "")), str(err.get("message", ""))
    except (ValueError, AttributeError):
        return "", text[:200]


# -- per-type facets and extra reads ---------------------------------------------------


def _dict(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{what} is {type(value).__name__}, expected an object")
    return value


def _storage_facets(
    props: dict[str, Any], attrs: dict[str, Any]
) -> tuple[bool | None, bool | None]:
    encrypted: bool | None = None
    if "encryption" in props:
        enc = _dict(props["encryption"], "properties.encryption")
        services = _dict(enc.get("services"), "properties.encryption.services")
        flags = [_dict(s, "encryption service").get("enabled") for s in services.values()]
        encrypted = any(f is True for f in flags) if flags else bool(enc.get("keySource"))
    acls = _dict(props.get("networkAcls"), "properties.networkAcls")
    public: bool | None
    if props.get("allowBlobPublicAccess") is True:
        public = True  # anonymous blob reads possible
    elif props.get("publicNetworkAccess") == "Disabled":
        public = False
    elif "defaultAction" in acls:
        public = acls["defaultAction"] == "Allow"
    else:
        public = None
    return encrypted, public


def _vm_facets(props: dict[str, Any], attrs: dict[str, Any]) -> tuple[bool | None, bool | None]:
    storage = _dict(props.get("storageProfile"), "properties.storageProfile")
    security = _dict(props.get("securityProfile"), "properties.securityProfile")
    disks = [_dict(storage.get("osDisk"), "osDisk")]
    disks += [_dict(d, "dataDisk") for d in storage.get("dataDisks") or []]
    disks = [d for d in disks if d]
    if not disks:
        return None, None
    if security.get("encryptionAtHost") is True:
        return True, None

    def disk_encrypted(d: dict[str, Any]) -> bool:
        # Managed disks are always encrypted at rest (platform- or customer-managed keys);
        # an unmanaged VHD is only if Azure Disk Encryption is switched on for it.
        ade = _dict(d.get("encryptionSettings"), "encryptionSettings").get("enabled") is True
        return d.get("managedDisk") is not None or ade

    # Public reachability lives on NICs / public IPs, not on the VM: not decidable here.
    return all(disk_encrypted(d) for d in disks), None


def _nsg_facets(props: dict[str, Any], attrs: dict[str, Any]) -> tuple[bool | None, bool | None]:
    rules = props.get("securityRules")
    if rules is None:
        return None, None
    if not isinstance(rules, list):
        raise ValueError("properties.securityRules is not a list")
    for rule in rules:
        r = _dict(rule, "security rule")
        p = _dict(r.get("properties", r), "security rule properties")
        sources = [p.get("sourceAddressPrefix"), *(p.get("sourceAddressPrefixes") or [])]
        if (
            str(p.get("direction", "")).lower() == "inbound"
            and str(p.get("access", "")).lower() == "allow"
            and any(isinstance(s, str) and s.lower() in _OPEN_SOURCES for s in sources)
        ):
            return None, True
    return None, False


def _network_access(value: Any) -> bool | None:
    if value == "Enabled":
        return True
    if value in ("Disabled", "SecuredByPerimeter"):
        return False
    return None


def _sql_server_facets(
    props: dict[str, Any], attrs: dict[str, Any]
) -> tuple[bool | None, bool | None]:
    return None, _network_access(props.get("publicNetworkAccess"))


def _sql_db_facets(props: dict[str, Any], attrs: dict[str, Any]) -> tuple[bool | None, bool | None]:
    state = _dict(attrs.get("transparentDataEncryption"), "transparentDataEncryption").get("state")
    encrypted = {"Enabled": True, "Disabled": False}.get(str(state)) if state is not None else None
    return encrypted, None  # network exposure is the server's (see microsoft.sql/servers)


def _vault_facets(props: dict[str, Any], attrs: dict[str, Any]) -> tuple[bool | None, bool | None]:
    if props.get("publicNetworkAccess") == "Disabled":
        return None, False
    acls = _dict(props.get("networkAcls"), "properties.networkAcls")
    return None, acls.get("defaultAction") != "Deny"


def _site_facets(props: dict[str, Any], attrs: dict[str, Any]) -> tuple[bool | None, bool | None]:
    # App Service is reachable from the internet unless public network access is switched off.
    return None, props.get("publicNetworkAccess") != "Disabled"


def _tde(arm: _Arm, rid: str) -> dict[str, Any]:
    doc = arm.get(
        f"{rid}/transparentDataEncryption/current",
        SPECS["microsoft.sql/servers/databases"].api_version,
    )
    props = _dict(doc.get("properties"), "transparentDataEncryption.properties")
    return {"transparentDataEncryption": {"state": props.get("state")}}


def _app_settings(arm: _Arm, rid: str) -> dict[str, Any]:
    api = SPECS["microsoft.web/sites"].api_version
    doc = arm.call("POST", f"{rid}/config/appsettings/list", params={"api-version": api})
    props = _dict(_dict(doc, "appsettings").get("properties"), "appsettings.properties")
    # Names only: `appSettings` is a secret subtree, so _build fingerprints every value (§1.3).
    return {"appSettings": {k: None if v is None else str(v) for k, v in sorted(props.items())}}


# Pinned api-versions: the versions each parser above was written and tested against. A fixed
# table rather than "latest from the providers API", because a newer version may reshape the
# properties the facets read; ARM keeps old versions served for years.
SPECS: dict[str, TypeSpec] = {
    "microsoft.storage/storageaccounts": TypeSpec("2023-01-01", _storage_facets),
    "microsoft.compute/virtualmachines": TypeSpec("2024-03-01", _vm_facets),
    "microsoft.network/networksecuritygroups": TypeSpec("2023-09-01", _nsg_facets),
    "microsoft.sql/servers": TypeSpec("2021-11-01", _sql_server_facets),
    "microsoft.sql/servers/databases": TypeSpec("2021-11-01", _sql_db_facets, _tde),
    "microsoft.keyvault/vaults": TypeSpec("2023-07-01", _vault_facets),
    "microsoft.web/sites": TypeSpec("2023-12-01", _site_facets, _app_settings),
}


def redact(value: Any, fingerprint: Fingerprinter) -> Any:
    """Fingerprint string values under secret-looking keys (customData, passwords, app settings)."""
    return redact_tree(value, fingerprint, keep=_KEEP_IN_SECRETS)


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
        self.arm: _Arm | None = None
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

    def client(self) -> _Arm:
        """The ARM pipeline this collector reads through (built on first use)."""
        if self.arm is None:
            self.arm = _Arm(self.config, self._make_credential(), self.tuning, self._hook)
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
            if not explicit:
                raise
            for sub in explicit:
                self._failed(ctx, sub, exc)
            return
        arm.buckets.limiter = ctx.limiter  # shared with the scan's other sources
        try:
            subs = explicit if "all" not in wanted else self._discover(arm, explicit)
            if not subs:
                raise SourceError(
                    "no subscriptions are visible to this identity",
                    source=self.config.name,
                    slice="*",
                    reason="denied",
                )
            workers = min(4, len(subs))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="azure-sub") as pool:
                results = list(pool.map(lambda s: self._subscription(arm, s), subs))
        finally:
            arm.close()
        # Recorded in subscription order, not completion order: equal estates give equal runs.
        for sub, resources, failure in results:
            ctx.add_many(resources)
            if failure is not None:
                self._failed(ctx, sub, failure, resources=len(resources))
            else:
                ctx.slice_ok(sub, resources=len(resources), account=sub, region=None, types=[])

    def _discover(self, arm: _Arm, extra: list[str]) -> list[str]:
        found: list[str] = []
        try:
            for page in arm.pages("/subscriptions", {"api-version": SUBSCRIPTIONS_API}):
                for item in page:
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

    def _failed(self, ctx: CollectContext, sub: str, exc: SourceError, resources: int = 0) -> None:
        err = SourceError(exc.message, source=self.config.name, slice=sub, reason=exc.reason)
        ctx.slice_failed(sub, err, account=sub, region=None, types=[], resources=resources)

    def _subscription(self, arm: _Arm, sub: str) -> tuple[str, list[Resource], SourceError | None]:
        """Read one subscription: its resources, and why it is incomplete if it is."""
        graph = self.config.mode == "resource-graph"
        try:
            # An explicit read of the subscription first: Resource Graph silently leaves out
            # subscriptions it cannot read, and "no rows" must never pass for "nothing there".
            arm.get(f"/subscriptions/{sub}", SUBSCRIPTIONS_API)
            if graph:
                groups = [g for page in arm.graph(GRAPH_GROUPS, sub) for g in page]
                items = [r for page in arm.graph(GRAPH_RESOURCES, sub) for r in page]
            else:
                rg_params = {"api-version": ARM_LIST_API}
                groups = [
                    g
                    for page in arm.pages(f"/subscriptions/{sub}/resourcegroups", rg_params)
                    for g in page
                ]
                params = {"$expand": LIST_EXPAND, "api-version": ARM_LIST_API}
                items = [
                    r for page in arm.pages(f"/subscriptions/{sub}/resources", params) for r in page
                ]
        except SourceError as exc:
            # Nothing from a failed listing is kept: a partial list must not pass for the estate.
            return sub, [], exc

        failures: list[SourceError] = []
        out: list[Resource] = []
        for g in groups:
            if not isinstance(g, dict) or not isinstance(g.get("id"), str):
                failures.append(
                    SourceError("a resource group without an id in the listing", reason="parse")
                )
                continue
            out.append(self._build(sub, g, g, {}, rtype=RESOURCE_GROUP_TYPE))
        listed: list[dict[str, Any]] = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                failures.append(
                    SourceError("a resource without an id in the listing", reason="parse")
                )
            else:
                listed.append(item)
        for res, failure in bounded_map(
            lambda i: self._read(arm, sub, i, graph), listed, self.config.concurrency
        ):
            out.append(res)
            if failure is not None:
                failures.append(failure)
        out.sort(key=lambda r: r.key)
        if not failures:
            return sub, out, None
        reasons = [f.reason for f in failures]
        reason = max(sorted(set(reasons)), key=reasons.count)
        msg = f"{len(failures)} read(s) failed in this subscription; first: {failures[0].message}"
        return sub, out, SourceError(msg, reason=reason)

    def _read(
        self, arm: _Arm, sub: str, item: dict[str, Any], graph: bool
    ) -> tuple[Resource, SourceError | None]:
        """One listed resource, read in full where its type has a spec; failures stay per resource."""
        rtype = str(item.get("type", "")).lower()
        spec = SPECS.get(rtype)
        full: dict[str, Any] = item
        extras: dict[str, Any] = {}
        try:
            if spec is not None:
                if not graph:  # Resource Graph rows already carry the full properties
                    full = arm.get(str(item["id"]), spec.api_version)
                if spec.extras is not None:
                    extras = spec.extras(arm, str(item["id"]))
        except ReadOnlyViolation:
            raise
        except SourceError as exc:
            # Facets stay null: guessed from a listing without properties they would mislead.
            res = self._build(sub, item, item, {}, rtype=rtype, facets=False)
            if exc.reason == "parse":
                res.error = f"parse: {exc.message}"
                return res, None
            if isinstance(exc, _HttpFailure) and exc.status == 404:
                # Listed, then gone: deleted while we scanned. Recorded, not assessed.
                res.error = f"gone: {exc.message}"
                return res, None
            res.error = f"{exc.reason}: {exc.message}"
            return res, exc
        return self._build(sub, item, full, extras, rtype=rtype), None

    def _build(
        self,
        sub: str,
        item: dict[str, Any],
        full: dict[str, Any],
        extras: dict[str, Any],
        *,
        rtype: str,
        facets: bool = True,
    ) -> Resource:
        rid = str(item["id"])
        rg, name = _id_parts(rid)
        location = str(full.get("location") or item.get("location") or "")
        res = Resource(
            key=rid.lower(),
            provider="azure",
            source=self.config.name,
            account=sub,
            region=location.replace(" ", "").lower(),
            type=rtype,
            name=name or str(item.get("name", "")),
        )
        try:
            tags = _dict(full.get("tags", item.get("tags")), "tags")
            res.tags = {str(k): "" if v is None else str(v) for k, v in tags.items()}
            props = _dict(full.get("properties"), "properties")
            attrs: dict[str, Any] = {
                k: redact(full[k], self._fp)
                for k in ("kind", "sku", "identity", "managedBy", "plan", "zones")
                if full.get(k) is not None
            }
            if rg is not None and rtype != RESOURCE_GROUP_TYPE:
                attrs["resourceGroup"] = rg
            for k in ("createdTime", "changedTime"):
                if item.get(k):
                    attrs[k] = item[k]
            attrs["properties"] = redact(props, self._fp)
            attrs.update(redact_tree(extras, self._fp))
            res.attrs = attrs
            spec = SPECS.get(rtype)
            if spec is not None and facets:
                res.encrypted, res.public = spec.facets(props, attrs)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            res.error = f"parse: {type(exc).__name__}: {exc}"
        return res
