"""The ARM pipeline driftscan reads Azure through: read-only guard, retries, pacing, JSON calls."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
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
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest

from driftscan import __version__
from driftscan.collect.limits import ApiLimits, Limiter, PageChain, RateLimit
from driftscan.errors import DriftscanError, Reason, SourceError
from driftscan.providers.azure.source import AzureSource

SUBSCRIPTIONS_API = "2022-12-01"
ARM_LIST_API = "2021-04-01"
PROVIDERS_API = "2021-04-01"
RESOURCE_GRAPH_API = "2022-10-01"
MANAGEMENT_GROUPS_API = "2020-05-01"
GRAPH_PATH = "/providers/Microsoft.ResourceGraph/resources"

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


# The one data-plane permission (docs/azure-role.json's DataActions): the certificate list of
# each vault (GET {vaultUri}certificates), metadata only. Vaults on access policies instead of
# RBAC grant the same as the certificate permission "List".
DATA_ACTIONS = ("Microsoft.KeyVault/vaults/certificates/read",)


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


class HttpFailure(SourceError):
    """A SourceError that remembers the HTTP status and ARM error code (404 after a list means
    deleted meanwhile; InvalidResourceType means the endpoint lacks the API)."""

    def __init__(
        self, message: str, *, reason: Reason, status: int | None = None, code: str = ""
    ) -> None:
        super().__init__(message, reason=reason)
        self.status = status
        self.code = code


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


def _is_graph(url: str) -> bool:
    return urlsplit(url).path.lower().rstrip("/").endswith("/microsoft.resourcegraph/resources")


class PacingPolicy(HTTPPolicy[HttpRequest, Any]):
    """Slows down when ARM's x-ms-ratelimit-remaining-* read headers run low."""

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
        remaining = _remaining_reads(response.http_response.headers)
        if remaining is not None and remaining < self.low_water:
            delay = self.pace_s * (1 - max(remaining, 0) / self.low_water)
            with self._lock:
                self.slowdowns += 1
                self.lowest = remaining if self.lowest is None else min(self.lowest, remaining)
                self._next_at = max(self._next_at, time.monotonic() + delay)
        return response


def _remaining_reads(headers: Mapping[str, str]) -> int | None:
    values: list[int] = []
    for name, value in headers.items():
        low = name.lower()
        if (
            low.startswith("x-ms-ratelimit-remaining-")
            and "write" not in low
            and "delete" not in low
        ):
            try:
                values.append(int(value))
            except ValueError:
                continue
    return min(values) if values else None


def parse_resets_after(value: str | None) -> float | None:
    """Seconds in Resource Graph's `x-ms-user-quota-resets-after` (hh:mm:ss[.fff]); None if bad."""
    if not value:
        return None
    m = re.fullmatch(r"\s*(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)\s*", value)
    if m is None:
        return None
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))


class GraphQuotaPolicy(HTTPPolicy[HttpRequest, Any]):
    """Resource Graph's per-user quota as the service reports it on every answer
    (`x-ms-user-quota-remaining` queries left until `x-ms-user-quota-resets-after`): with the
    quota spent, the next query waits for the reset instead of drawing a 429.

    The service's figures are authoritative (the documented 15 per 5 s "is subject to change"),
    so there is no fixed client-side rate for queries; a 429 that happens anyway (another
    client of the same identity) is waited out by the retry policy's Retry-After.
    """

    def __init__(self, max_wait_s: float) -> None:
        super().__init__()
        self.max_wait_s = max_wait_s
        self.waits = 0
        self.waited_s = 0.0
        self.queries = 0
        self._remaining: int | None = None  # None: unknown until the next answer says
        self._resets_at = 0.0
        self._probing = False  # with the quota unknown, one query goes first and finds out
        self._cond = threading.Condition()

    def _admit(self) -> bool:
        """Wait until a query may go; True when it goes as the probe of an unknown quota."""
        with self._cond:
            while True:
                now = time.monotonic()
                if self._remaining is not None and now >= self._resets_at:
                    self._remaining = None  # a new window: the next answer says how much
                if self._remaining is None:
                    if not self._probing:
                        self._probing = True
                        self.queries += 1
                        return True
                    self._cond.wait(timeout=0.05)
                    continue
                if self._remaining > 0:
                    self._remaining -= 1  # this query's share, before its answer arrives
                    self.queries += 1
                    return False
                wait = min(self._resets_at - now, self.max_wait_s)
                self.waits += 1
                self.waited_s += wait
                self._cond.wait(timeout=wait)
                if wait >= self.max_wait_s:
                    self._remaining = None  # waited as long as we will: let the service decide

    def send(self, request: PipelineRequest[HttpRequest]) -> PipelineResponse[HttpRequest, Any]:
        if not _is_graph(request.http_request.url):
            return self.next.send(request)
        probe = self._admit()
        try:
            response = self.next.send(request)
        finally:
            if probe:
                with self._cond:
                    self._probing = False
                    self._cond.notify_all()
        headers = response.http_response.headers
        try:
            remaining = int(headers.get("x-ms-user-quota-remaining", ""))
        except ValueError:
            return response
        resets = parse_resets_after(headers.get("x-ms-user-quota-resets-after"))
        with self._cond:
            self._remaining = max(remaining, 0)
            self._resets_at = time.monotonic() + (resets if resets is not None else 5.0)
            self._cond.notify_all()
        return response


# Azure Resource Manager throttling (the token-bucket limits of 2024): reads per subscription,
# a bucket of 250 refilled at 25 a second. Resource Graph queries are paced by the quota the
# service reports (GraphQuotaPolicy), not by a fixed rate.
ARM_LIMITS = ApiLimits({"read": RateLimit(250, 25)})
_SUBSCRIPTION = re.compile(r"^/subscriptions/([^/]+)", re.IGNORECASE)


# Key Vault's service limit for secrets, certificates and vault reads: 4,000 transactions per
# 10 s per vault (docs: Azure Key Vault throttling guidance).
KEYVAULT_LIMITS = ApiLimits({"read": RateLimit(4000, 400)})


class TokenBucketPolicy(HTTPPolicy[HttpRequest, Any]):
    """Takes a token per ARM read attempt from the collector's shared limiter, per subscription
    (placed after the retry policy, so every retry is paced too)."""

    def __init__(self, limiter: Limiter, tenant: str) -> None:
        super().__init__()
        self.limiter = limiter
        self.tenant = tenant

    def send(self, request: PipelineRequest[HttpRequest]) -> PipelineResponse[HttpRequest, Any]:
        url = request.http_request.url
        if not _is_graph(url):
            m = _SUBSCRIPTION.match(urlsplit(url).path)
            self.limiter.take(m.group(1).lower() if m else self.tenant, "arm", "read", ARM_LIMITS)
        return self.next.send(request)


class VaultBucketPolicy(HTTPPolicy[HttpRequest, Any]):
    """A token per Key Vault data-plane read attempt, per vault, from the limiter the ARM
    policy holds when the request is sent (the collector swaps in the scan's shared one)."""

    def __init__(self, arm: TokenBucketPolicy) -> None:
        super().__init__()
        self.arm = arm

    def send(self, request: PipelineRequest[HttpRequest]) -> PipelineResponse[HttpRequest, Any]:
        vault = origin(request.http_request.url)
        self.arm.limiter.take(vault, "keyvault", "read", KEYVAULT_LIMITS)
        return self.next.send(request)


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


# ARM error codes that say the endpoint does not implement an API (a resource provider that
# is not registered or not offered in this cloud, an api-version it does not serve).
UNSUPPORTED_CODES = frozenset(
    {
        "invalidresourcetype",
        "noregisteredproviderfound",
        "missingsubscriptionregistration",
        "resourcetypenotsupported",
        "invalidapiversionparameter",
    }
)


def reason_for(status: int, code: str = "") -> Reason:
    """The design's reason for an HTTP failure."""
    if status in (401, 403):
        return "denied"
    if status == 429:
        return "throttled"
    if status in (408, 504):
        return "timeout"
    if status in (502, 503):
        return "unreachable"
    if code.lower() in UNSUPPORTED_CODES:
        return "unsupported"
    return "error"


class Arm:
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
        self._origin = origin(self.endpoint)
        self._config = config
        self._credential = credential
        self._tuning = tuning
        self._hook = raw_request_hook
        self._vault_lock = threading.Lock()
        self._vault_client: Any = None
        self.reads_certificates = config.keyvault_certificates
        scope = self.endpoint + "/.default"
        self.pacer = PacingPolicy(tuning.low_water, tuning.pace_s)
        self.quota = GraphQuotaPolicy(tuning.max_retry_after_s)
        self.buckets = TokenBucketPolicy(Limiter(), self.endpoint)
        transport, policies = self._pipeline(scope, [self.buckets, self.quota, self.pacer])
        self.client = ResourceManagementClient(
            credential,
            transport=transport,
            subscription_id="00000000-0000-0000-0000-000000000000",  # unused: URLs are built here
            base_url=self.endpoint,
            credential_scopes=[scope],
            policies=policies,
            connection_verify=config.ca_bundle or True,
            connection_timeout=tuning.connect_timeout_s,
            read_timeout=tuning.read_timeout_s,
        )

    def _pipeline(
        self, scope: str, pacing: list[Any], base: str = ""
    ) -> tuple[RequestsTransport, list[Any]]:
        """The transport and policies of one audience (ARM, or Key Vault's data plane)."""
        import requests
        from requests.utils import get_environ_proxies

        config, tuning = self._config, self._tuning
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
            BearerTokenCredentialPolicy(self._credential, scope),
            ReadOnlyPolicy(),
            *pacing,
            CustomHookPolicy(raw_request_hook=self._hook) if self._hook else None,
        ]
        # Every ARM request goes to one origin (a nextLink elsewhere is refused), so the
        # environment's proxy settings (NO_PROXY included) are resolved once, here, instead of
        # requests walking os.environ on every call (a millisecond a request). trust_env off
        # also keeps ~/.netrc credentials away from ARM.
        session = requests.Session()
        session.trust_env = False
        session.proxies.update(get_environ_proxies(base or self.endpoint))
        transport = RequestsTransport(
            session=session,
            session_owner=True,
            connection_verify=config.ca_bundle or True,
            connection_timeout=tuning.connect_timeout_s,
            read_timeout=tuning.read_timeout_s,
        )
        return transport, [p for p in policies if p is not None]

    def _vault_pipeline(self) -> Any:
        """Key Vault's data plane: its own audience (https://vault.azure.net), GETs only."""
        from azure.core import PipelineClient

        with self._vault_lock:
            if self._vault_client is None:
                base = "https://" + self._config.keyvault_domain
                scope = f"https://{self._config.keyvault_domain.split(':')[0]}/.default"
                pacing = [VaultBucketPolicy(self.buckets)]
                transport, policies = self._pipeline(scope, pacing, base)
                self._vault_client = PipelineClient(
                    base,
                    transport=transport,
                    policies=policies,
                )
            return self._vault_client

    def vault_items(self, vault_uri: Any, collection: str, api_version: str) -> list[Any]:
        """Every item of a Key Vault data-plane list (`{vaultUri}certificates`), all pages.

        The vault URI comes from ARM's payload: it is followed only to the configured Key Vault
        domain, over https, and its nextLinks only to the same vault (the bearer token is
        Key Vault's; it must reach nothing else)."""
        domain = self._config.keyvault_domain.lower()
        parts = urlsplit(vault_uri) if isinstance(vault_uri, str) else None
        netloc = parts.netloc.lower() if parts else ""
        if (
            parts is None
            or parts.scheme.lower() != "https"
            or "@" in netloc
            or parts.query
            or parts.fragment
            or not (netloc == domain or netloc.endswith("." + domain))
        ):
            raise HttpFailure(
                f"vaultUri {str(vault_uri)[:120]!r} is not a vault under https://{domain}",
                reason="parse",
            )
        base = vault_uri.rstrip("/") + "/"
        pages = self.pages(
            base + collection,
            {"api-version": api_version},
            client=self._vault_pipeline(),
            within=base,
            what=f"the vault {base}",
        )
        return [item for page in pages for item in page]

    def close(self) -> None:
        self.client.close()
        if self._vault_client is not None:
            self._vault_client.close()

    def call(
        self, method: str, url: str, *, params: dict[str, str] | None = None, body: Any = None
    ) -> Any:
        """One JSON call; any failure becomes a SourceError with the design's reason."""
        if not url.startswith("https://") and not url.startswith("http://"):
            url = self.endpoint + url
        return self._send(self.client, method, url, params=params, body=body)

    @staticmethod
    def _send(
        client: Any, method: str, url: str, *, params: dict[str, str] | None, body: Any = None
    ) -> Any:
        path = urlsplit(url).path
        request = HttpRequest(method, url, params=params, json=body)
        try:
            response = client.send_request(request)
        except ClientAuthenticationError as exc:
            raise HttpFailure(
                f"{method} {path}: authentication failed: {exc.message}", reason="denied"
            ) from None
        except (ServiceRequestTimeoutError, ServiceResponseTimeoutError) as exc:
            raise HttpFailure(
                f"{method} {path}: timed out: {exc.message}", reason="timeout"
            ) from None
        except (ServiceRequestError, ServiceResponseError) as exc:
            raise HttpFailure(
                f"{method} {path}: unreachable: {exc.message}", reason="unreachable"
            ) from None
        except AzureError as exc:
            raise HttpFailure(f"{method} {path}: {exc.message}", reason="error") from None
        status = response.status_code
        text = response.text()
        if status != 200:
            code, message = _arm_error(text)
            raise HttpFailure(
                f"{method} {path}: HTTP {status} {code}: {message}".rstrip(": "),
                reason=reason_for(status, code),
                status=status,
                code=code,
            )
        try:
            return json.loads(text)
        except ValueError as exc:
            raise HttpFailure(
                f"{method} {path}: response is not JSON: {exc}", reason="parse", status=200
            ) from None

    def get(self, path: str, api_version: str) -> dict[str, Any]:
        doc = self.call("GET", path, params={"api-version": api_version})
        if not isinstance(doc, dict):
            raise HttpFailure(
                f"GET {path}: expected an object, got {type(doc).__name__}", reason="parse"
            )
        return doc

    def pages(
        self,
        path: str,
        params: dict[str, str],
        *,
        client: Any = None,
        within: str = "",
        what: str = "",
    ) -> Iterator[list[Any]]:
        """A list, following nextLink: ARM's, or with `client` another audience's. A nextLink
        outside `within` (a URL: same origin, path below; default the endpoint's origin) is
        refused, since the bearer token must reach nothing else; `what` names it in the error."""
        client = client or self.client
        within = within or self._origin + "/"
        what = what or self._origin
        if not path.startswith(("https://", "http://")):
            path = self.endpoint + path
        shown = urlsplit(path).path
        doc = self._send(client, "GET", path, params=params)
        chain = PageChain(f"GET {shown}: nextLink", _parse_failure)
        while True:
            if not isinstance(doc, dict) or not isinstance(doc.get("value"), list):
                raise HttpFailure(
                    f"GET {shown}: list response without a 'value' array", reason="parse"
                )
            yield doc["value"]
            link = doc.get("nextLink")
            if not link:
                return
            if not isinstance(link, str) or not _inside(link, within):
                raise HttpFailure(
                    f"GET {shown}: nextLink leaves {what}: {str(link)[:120]!r}", reason="parse"
                )
            doc = self._send(client, "GET", chain.follow(link), params=None)

    def list_all(self, path: str, api_version: str) -> list[Any]:
        """Every item of an ARM list (all pages)."""
        return [item for page in self.pages(path, {"api-version": api_version}) for item in page]

    def graph(self, query: str, subscriptions: Sequence[str]) -> Iterator[list[Any]]:
        """A Resource Graph query over some subscriptions, paged by $skipToken (1,000 rows)."""
        options: dict[str, Any] = {"resultFormat": "objectArray", "$top": 1000}
        chain = PageChain(f"POST {GRAPH_PATH}: $skipToken", _parse_failure)
        while True:
            body = {"subscriptions": list(subscriptions), "query": query, "options": options}
            doc = self.call(
                "POST", GRAPH_PATH, params={"api-version": RESOURCE_GRAPH_API}, body=body
            )
            if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
                raise HttpFailure(
                    f"POST {GRAPH_PATH}: response without a 'data' array", reason="parse"
                )
            yield doc["data"]
            token = doc.get("$skipToken")
            if not token:
                if str(doc.get("resultTruncated", "false")).lower() == "true":
                    raise HttpFailure(
                        f"POST {GRAPH_PATH}: result truncated without a $skipToken", reason="error"
                    )
                return
            options = {**options, "$skipToken": chain.follow(str(token))}


def _parse_failure(message: str) -> HttpFailure:
    return HttpFailure(message, reason="parse")


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _inside(url: str, within: str) -> bool:
    """Whether `url` has the origin of `within` and a path below its path (case-insensitive)."""
    path = (urlsplit(url).path or "/").lower()
    return origin(url) == origin(within) and path.startswith(urlsplit(within).path.lower())


def _arm_error(text: str) -> tuple[str, str]:
    try:
        err = json.loads(text).get("error") or {}
        return str(err.get("code", "")), str(err.get("message", ""))
    except (ValueError, AttributeError):
        return "", text[:200]
