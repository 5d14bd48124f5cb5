"""The Cloud Asset Inventory client: google-cloud-asset over REST, paced and retried, read-only.

Only the two search methods are ever called (docs/gcp-role.yaml lists their permissions);
google libraries are imported here, when a gcp source is collected, never at CLI start.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from driftscan.collect.limits import PageChain, RateLimit, TokenBucket
from driftscan.errors import Reason, SourceError
from driftscan.providers.gcp.source import GcpSource

PUBLIC_ENDPOINT = "https://cloudasset.googleapis.com"
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
PAGE_SIZE = 500
# The permission behind each method the collector calls (docs/gcp-role.yaml; a test holds the
# two equal).
PERMISSIONS: dict[str, str] = {
    "search_all_resources": "cloudasset.assets.searchAllResources",
    "search_all_iam_policies": "cloudasset.assets.searchAllIamPolicies",
}
# The fields of a search result the collector stores; versioned_resources is the resource's
# own document and is only returned when the mask asks for it.
READ_MASK = (
    "name", "asset_type", "project", "display_name", "location", "labels", "state",
    "parent_full_resource_name", "parent_asset_type", "kms_keys", "additional_attributes",
    "versioned_resources",
)  # fmt: skip
# The documented principal-type filter of the IAM search (Cloud Asset Inventory, "Search for IAM
# allow policies": memberTypes).
PUBLIC_QUERY = "memberTypes=allUsers OR memberTypes=allAuthenticatedUsers"


def _backoff() -> tuple[float, float]:
    base = float(os.environ.get("DRIFTSCAN_GCP_BACKOFF_S", "1.0"))
    cap = float(os.environ.get("DRIFTSCAN_GCP_BACKOFF_MAX_S", "32"))
    return base, cap


def quota(per_min: int) -> RateLimit:
    """A per-minute quota as a token bucket that never sends more than `per_min` in any first
    minute: a tenth at once, then 90 % of the rate."""
    return RateLimit(burst=max(1, per_min // 10), per_s=per_min * 0.9 / 60)


def _credentials(cfg: GcpSource) -> Any:
    if cfg.credential == "anonymous":
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials()  # type: ignore[no-untyped-call]
    if cfg.credential == "token_env":
        token = os.environ.get(cfg.token_env_var, "").strip()
        if not token:
            raise SourceError(
                f"credential 'token_env' needs a bearer token in ${cfg.token_env_var}, "
                "which is not set",
                reason="denied",
            )
        from google.oauth2.credentials import Credentials

        return Credentials(token=token)  # type: ignore[no-untyped-call]
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        creds, _ = google.auth.default(scopes=list(SCOPES))
    except DefaultCredentialsError as exc:
        raise SourceError(f"no Application Default Credentials: {exc}", reason="denied") from None
    return creds


def classify(exc: BaseException) -> tuple[Reason, bool]:
    """(reason, worth retrying) of a failed call."""
    from google.api_core import exceptions as gexc
    from google.auth import exceptions as aexc

    if isinstance(exc, gexc.TooManyRequests):
        return "throttled", True
    # A 401 makes google.auth refresh the credentials: anonymous ones cannot be refreshed
    # (InvalidOperation), a bare token cannot either (RefreshError).
    if isinstance(
        exc, gexc.Forbidden | gexc.Unauthorized | aexc.RefreshError | aexc.InvalidOperation
    ):
        return "denied", False
    if isinstance(exc, gexc.NotFound | gexc.MethodNotImplemented | gexc.MethodNotAllowed):
        return "unsupported", False
    if isinstance(exc, gexc.ServiceUnavailable | gexc.BadGateway | gexc.InternalServerError):
        return "unreachable", True
    if isinstance(exc, gexc.GatewayTimeout | gexc.DeadlineExceeded):
        return "timeout", True
    import requests

    if isinstance(exc, requests.exceptions.SSLError):
        return "unreachable", False
    if isinstance(exc, requests.exceptions.Timeout):
        return "timeout", True
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "unreachable", True
    if isinstance(exc, aexc.TransportError):
        return "unreachable", True
    from google.protobuf.json_format import ParseError

    if isinstance(exc, ValueError | ParseError):  # a body the client could not parse
        return "parse", False
    return "error", False


_REQUEST_LINE = re.compile(r"^[A-Z]+ https?://\S+: ")


_CAUSE = re.compile(r"\[SSL: [A-Z_]+\][^'\")]*|Caused by (?P<cause>.*)$")


def _message(exc: BaseException) -> str:
    # google.api_core prefixes the method and the whole URL (every query parameter): the
    # status and the API's own message say enough.
    msg = _REQUEST_LINE.sub("", str(getattr(exc, "message", None) or exc))
    import requests

    if isinstance(exc, requests.exceptions.RequestException):
        # urllib3's text quotes the whole URL too; its cause is what a reader needs.
        m = _CAUSE.search(msg)
        if m is not None:
            msg = m.group("cause") or m.group(0)
    code = getattr(exc, "code", None)
    return f"{code} {msg}" if isinstance(code, int) else f"{type(exc).__name__}: {msg}"


class AssetClient:
    """One source's AssetServiceClient; every call waits for its quota buckets and retries
    throttling and transient failures with bounded exponential backoff."""

    def __init__(self, cfg: GcpSource, *, on_request: Callable[[str, str], None] | None = None):
        from google.cloud.asset_v1.services.asset_service import AssetServiceClient
        from google.cloud.asset_v1.services.asset_service.transports.rest import (
            AssetServiceRestTransport,
        )

        self.cfg = cfg
        self._on_request = on_request
        host = cfg.endpoint or PUBLIC_ENDPOINT
        creds = _credentials(cfg)
        # Who the scan reads as, for the ledger: a service account's email where the
        # credentials name one, else how they were obtained (never the token).
        email = getattr(creds, "service_account_email", None)
        self.identity = (
            email
            if isinstance(email, str) and "@" in email
            else {"token_env": f"token from ${cfg.token_env_var}"}.get(
                cfg.credential, cfg.credential
            )
        )
        transport = AssetServiceRestTransport(credentials=creds, host=host)
        # The REST transport's requests session (google.auth's AuthorizedSession) is the one
        # place a CA bundle can go: `verify` on the session, for this client only, rather than
        # REQUESTS_CA_BUNDLE for the whole process. The environment is read once for the
        # proxy of the one origin, and ~/.netrc never (it would replace the bearer token).
        session = transport._session
        import requests.utils

        session.trust_env = False
        session.proxies = requests.utils.get_environ_proxies(host)
        session.verify = cfg.ca_bundle or requests.utils.DEFAULT_CA_BUNDLE_PATH
        self._session = session
        self._client = AssetServiceClient(transport=transport)

    def close(self) -> None:
        self._session.close()  # type: ignore[no-untyped-call]

    def _call(self, method: str, what: str, request: Any, buckets: list[TokenBucket]) -> Any:
        base, cap = _backoff()
        fn = getattr(self._client, method)
        last: BaseException | None = None
        reason: Reason = "error"
        for attempt in range(self.cfg.max_attempts):
            for b in buckets:
                b.take()
            if self._on_request is not None:
                self._on_request(method, what)
            try:
                pager = fn(request=request, retry=None, timeout=self.cfg.timeout_s)
                # The pager's first page is the response just read; iterating further would
                # send the next request outside the pacing and retries here.
                return next(iter(pager.pages))
            except Exception as exc:
                reason, again = classify(exc)
                last = exc
                if not again:
                    break
                if attempt + 1 < self.cfg.max_attempts:
                    time.sleep(min(cap, base * 2**attempt) * (0.5 + random.random() / 2))
        assert last is not None
        tries = f" after {self.cfg.max_attempts} attempts" if reason == "throttled" else ""
        raise SourceError(f"{what}: {_message(last)}{tries}", reason=reason) from None

    def _pages(
        self, method: str, what: str, request: Any, buckets: list[TokenBucket]
    ) -> Iterator[Any]:
        chain = PageChain(f"{what}: next_page_token")
        while True:
            resp = self._call(method, what, request, buckets)
            yield resp
            token = resp.next_page_token
            if not token:
                return
            request.page_token = chain.follow(token)

    def resources(
        self, scope: str, asset_types: list[str], buckets: list[TokenBucket]
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of search results (JSON field names) in `scope`, with their documents."""
        from google.cloud.asset_v1 import SearchAllResourcesRequest, SearchAllResourcesResponse
        from google.protobuf import field_mask_pb2, json_format

        req = SearchAllResourcesRequest(
            scope=scope,
            asset_types=asset_types,
            page_size=PAGE_SIZE,
            read_mask=field_mask_pb2.FieldMask(paths=list(READ_MASK)),
        )
        for resp in self._pages(
            "search_all_resources", f"{scope} searchAllResources", req, buckets
        ):
            pb = SearchAllResourcesResponse.pb(resp)
            yield [json_format.MessageToDict(r) for r in pb.results]

    def public_policies(self, scope: str, buckets: list[TokenBucket]) -> dict[str, list[str]]:
        """Full resource name → the public members (allUsers, allAuthenticatedUsers) its own
        IAM policy grants a role to."""
        from google.cloud.asset_v1 import SearchAllIamPoliciesRequest

        req = SearchAllIamPoliciesRequest(scope=scope, query=PUBLIC_QUERY, page_size=PAGE_SIZE)
        out: dict[str, set[str]] = {}
        for resp in self._pages(
            "search_all_iam_policies", f"{scope} searchAllIamPolicies", req, buckets
        ):
            for r in resp.results:
                members = {
                    m for b in r.policy.bindings for m in b.members
                    if m in ("allUsers", "allAuthenticatedUsers")
                }  # fmt: skip
                if members:
                    out.setdefault(r.resource, set()).update(members)
        return {k: sorted(v) for k, v in out.items()}
