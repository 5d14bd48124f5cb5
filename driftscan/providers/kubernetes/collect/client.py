"""The official client, read-only: list calls with limit/continue, retries, pacing, clear reasons."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import orjson
import urllib3
from kubernetes import client as kclient
from kubernetes import config as kconfig
from kubernetes.config.config_exception import ConfigException

from driftscan.collect.limits import ApiLimits, Limiter, PageChain, RateLimit
from driftscan.errors import ConfigError, DriftscanError, Reason, SourceError
from driftscan.providers.kubernetes.source import KubernetesSource

PAGE_LIMIT = 500  # items per list page (issue 17: limit/continue, 500 per page)
MAX_RESTARTS = 3  # a list whose continue token expires this often in a row is given up


def _d(v: Any) -> dict[str, Any]:
    """`v` if it is a mapping, else an empty one: an omitted field is null, never an error."""
    return v if isinstance(v, dict) else {}


class ReadOnlyViolation(DriftscanError):
    """A request other than a GET was about to leave driftscan."""


@dataclass(frozen=True)
class Tuning:
    """Backoff and bounds; each can be set as DRIFTSCAN_K8S_<NAME> (e.g. _BACKOFF_S)."""

    backoff_s: float = 0.5
    backoff_max_s: float = 20.0
    max_retry_after_s: float = 60.0  # a longer Retry-After is "throttled", not a long wait

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Tuning:
        env = dict(os.environ) if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"DRIFTSCAN_K8S_{f.name.upper()}")
            if raw:
                values[f.name] = float(raw)
        return cls(**values)


class _Failure(SourceError):
    """A SourceError that keeps the HTTP status (403 → fall back per namespace)."""

    def __init__(self, message: str, *, reason: Reason, status: int | None = None) -> None:
        super().__init__(message, reason=reason)
        self.status = status


class _Expired(Exception):
    """410 Gone: the continue token is too old; the list starts again."""


def _reason(status: int) -> Reason:
    if status in (401, 403):
        return "denied"
    if status == 429:
        return "throttled"
    if status in (408, 504):
        return "timeout"
    if status == 404:
        return "unsupported"
    if status in (500, 502, 503):
        return "unreachable"
    return "error"


def _status_message(body: Any) -> str:
    """The `message` of a Kubernetes Status body, bounded; never the raw body of anything else."""
    try:
        doc = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError:
        return ""
    if isinstance(doc, dict) and doc.get("kind") == "Status":
        return str(doc.get("message") or doc.get("reason") or "")[:300]
    return ""


def _retry_after(headers: Any) -> float | None:
    raw = headers.get("Retry-After") if headers is not None else None
    try:
        return float(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Cluster:
    """Where the source points: the API server, the cluster's name and who reads it."""

    server: str
    name: str
    identity: str


def _configuration(
    src: KubernetesSource, base: Path | None
) -> tuple[kclient.Configuration, Cluster]:
    cfg = kclient.Configuration()
    if src.kubeconfig is None:
        try:
            kconfig.load_incluster_config(client_configuration=cfg)
        except ConfigException as exc:
            raise SourceError(
                f"no kubeconfig given and not running in a cluster: {exc}",
                source=src.name, slice="*", reason="denied",
            ) from None  # fmt: skip
        cluster = src.cluster or "in-cluster"
        who = "the in-cluster service account"
    else:
        path = Path(os.path.expanduser(src.kubeconfig))
        if not path.is_file():
            raise ConfigError(
                f"source '{src.name}': kubeconfig {path} does not exist", key="kubeconfig"
            )
        try:
            contexts, active = kconfig.list_kube_config_contexts(str(path))
            chosen = active
            if src.context is not None:
                chosen = next((c for c in contexts if c.get("name") == src.context), None)
                if chosen is None:
                    names = ", ".join(str(c.get("name")) for c in contexts) or "none"
                    raise ConfigError(
                        f"source '{src.name}': context '{src.context}' is not in {path} ({names})",
                        key="context",
                    )
            kconfig.load_kube_config(
                config_file=str(path), context=src.context, client_configuration=cfg
            )
        except ConfigException as exc:
            raise ConfigError(
                f"source '{src.name}': cannot use {path}: {exc}", key="kubeconfig"
            ) from None
        ctx = (chosen or {}).get("context") or {}
        cluster = src.cluster or str(ctx.get("cluster") or (chosen or {}).get("name") or "")
        who = f"user {ctx.get('user', '?')} of context {(chosen or {}).get('name', '?')} in {path}"
    if src.ca_bundle:
        cfg.ssl_ca_cert = src.ca_bundle
    cfg.retries = 0  # retried here, with backoff and the reasons the design asks for
    return cfg, Cluster(cfg.host, cluster, f"{who} at {cfg.host}")


class KubeClient:
    """GET-only list calls through the official client's ApiClient (auth, TLS, proxies)."""

    def __init__(
        self,
        src: KubernetesSource,
        *,
        tuning: Tuning | None = None,
        limiter: Limiter | None = None,
        on_request: Callable[[str, str], None] | None = None,
    ) -> None:
        self.src = src
        self.tuning = tuning or Tuning.from_env()
        self.limiter = limiter or Limiter()
        self.limits = ApiLimits({"list": RateLimit(src.burst, src.qps)})
        cfg, self.cluster = _configuration(src, None)
        cfg.connection_pool_maxsize = max(4, src.concurrency)
        self.api = kclient.ApiClient(cfg)
        self.requests = 0
        self._on_request = on_request
        rest = self.api.rest_client
        send = rest.request

        def guarded(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            # Below every code path of the client: nothing but a GET reaches the wire.
            if on_request is not None:
                on_request(method, url)
            if method.upper() != "GET":
                raise ReadOnlyViolation(f"refusing {method} {url}: driftscan only reads")
            return send(method, url, *args, **kwargs)

        rest.request = guarded

    def close(self) -> None:
        self.api.close()

    def _get(self, path: str, query: list[tuple[str, Any]]) -> dict[str, Any]:
        """One GET, retried on 429, 5xx and connection failures; a dict or a _Failure."""
        # Its messages say "GET <path> failed: …", never "<path>: …": the store's redaction
        # reads "secrets: <value>" as a secret pair and would hide a denied Secrets list's
        # HTTP status.
        t = self.tuning
        attempt = 0
        while True:
            attempt += 1
            self.limiter.take(self.cluster.server, "kubernetes", "list", self.limits)
            self.requests += 1
            retry_after: float | None = None
            try:
                resp = self.api.call_api(
                    path, "GET", query_params=query, header_params={"Accept": "application/json"},
                    auth_settings=["BearerToken"], _preload_content=False,
                    _return_http_data_only=True, _request_timeout=self.src.timeout_s,
                )  # fmt: skip
                body = resp.data
                resp.release_conn()
                try:
                    doc = orjson.loads(body)
                except orjson.JSONDecodeError as exc:
                    raise _Failure(
                        f"GET {path} failed: response is not JSON: {exc}", reason="parse"
                    ) from None
                if not isinstance(doc, dict):
                    raise _Failure(f"GET {path} failed: expected a list object", reason="parse")
                return doc
            except kclient.ApiException as exc:
                status = int(exc.status or 0)
                if status == 410:
                    raise _Expired() from None
                msg = _status_message(exc.body)
                failure = _Failure(
                    f"GET {path} failed: HTTP {status} {exc.reason or ''}{': ' + msg if msg else ''}".strip(),
                    reason=_reason(status) if status else "unreachable",
                    status=status or None,
                )
                retryable = status == 429 or status >= 500 or status == 0
                retry_after = _retry_after(exc.headers)
                if retry_after is not None and retry_after > t.max_retry_after_s:
                    retryable = False
            except (urllib3.exceptions.TimeoutError, TimeoutError) as exc:
                failure = _Failure(f"GET {path} failed: timed out: {exc}", reason="timeout")
                retryable = True
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                failure = _Failure(f"GET {path} failed: unreachable: {exc}", reason="unreachable")
                retryable = True
            if not retryable or attempt >= self.src.max_attempts:
                raise failure
            delay = min(t.backoff_max_s, t.backoff_s * 2 ** (attempt - 1)) * (0.5 + random.random())
            time.sleep(max(delay, retry_after or 0.0))

    def reach(self) -> None:
        """GET /version (readable by any client): a server that cannot be reached at all
        fails here once, as the whole cluster, instead of once per kind after every retry.
        An answer of any status means the server is there."""
        try:
            self._get("/version", [])
        except _Failure as exc:
            if exc.reason in ("unreachable", "timeout") and exc.status is None:
                raise SourceError(
                    f"API server {self.cluster.server}: {exc.message}", reason=exc.reason
                ) from None

    def list(self, path: str) -> tuple[list[dict[str, Any]], str | None]:
        """Every item of one list (all pages) and the list's resourceVersion.

        A 410 Gone on a continue token (the server compacted past the list's snapshot) starts
        the list again from the first page, at most MAX_RESTARTS times.
        """
        for _ in range(MAX_RESTARTS + 1):
            items: list[dict[str, Any]] = []
            token: str | None = None
            rv: str | None = None
            chain = PageChain(f"GET {path}: continue", lambda m: _Failure(m, reason="parse"))
            try:
                while True:
                    query: list[tuple[str, Any]] = [("limit", PAGE_LIMIT)]
                    if token:
                        query.append(("continue", chain.follow(token)))
                    doc = self._get(path, query)
                    page = doc.get("items")
                    if page is None:
                        page = []  # an empty list may come without `items`
                    if not isinstance(page, list):
                        raise _Failure(f"GET {path} failed: `items` is not a list", reason="parse")
                    items.extend(i for i in page if isinstance(i, dict))
                    meta = _d(doc.get("metadata"))
                    rv = rv or meta.get("resourceVersion")
                    token = meta.get("continue") or None
                    if not token:
                        return items, rv
            except _Expired:
                continue
        raise _Failure(
            f"GET {path} failed: the continue token expired {MAX_RESTARTS + 1} times in a row",
            reason="error",
            status=410,
        )


__all__ = ["PAGE_LIMIT", "Cluster", "KubeClient", "ReadOnlyViolation", "Tuning"]
