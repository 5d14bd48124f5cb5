"""The Collector protocol, the registry of collectors by source type, and the concurrent driver."""

from __future__ import annotations

import importlib
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from threading import Lock
from typing import Any, Protocol

from driftscan.collect.limits import Limiter
from driftscan.errors import ConfigError, SourceError
from driftscan.model import Resource, Slice, SourceRun
from driftscan.providers import registry
from driftscan.redaction import Fingerprinter, redact_url_credentials, safe_detail
from driftscan.redaction import redact_tags as fingerprint_tags

# Collectors registered in-process by source type ("module:Class"), checked before the
# providers' own (tests and scripts). Everything else comes from the registered providers,
# each naming its collector lazily so an AWS-only user never imports the Azure SDK.
REGISTRY: dict[str, str] = {}


def _collector_target(source_type: str) -> str | None:
    if source_type in REGISTRY:
        return REGISTRY[source_type]
    p = registry().get(source_type)
    return p.collector if p is not None else None


def redact_tags(resource: Resource, fingerprint: Fingerprinter) -> None:
    """Replace the values of secret-looking tags with keyed fingerprints, in place.

    Collectors redact the payload fields they know; this catches tags for all of them, by the
    rule declarations pass too (driftscan.redaction.redact_tags).
    """
    resource.tags = fingerprint_tags(resource.tags, fingerprint)


ProgressFn = Callable[[str, str], None]
"""progress(source_name, message): a human-readable step, e.g. 'eu-west-1 ec2: 14 resources'."""


@dataclass
class CollectContext:
    """What a collector writes into: resources, slices and progress messages. Thread-safe."""

    run: SourceRun
    progress: ProgressFn = field(default=lambda source, msg: None)
    # Tests and scripts that build a context by hand get a throwaway key.
    fingerprint: Fingerprinter = field(default_factory=Fingerprinter.throwaway)
    # Token buckets per API family (collect/limits.py), shared by every source of the scan.
    limiter: Limiter = field(default_factory=Limiter)
    # Where resources go instead of run.resources (a staging bundle's writer, driftscan.stage),
    # so a source's resources are never all held in memory; called under the context's lock.
    sink: Callable[[Sequence[Resource]], None] | None = None
    _lock: Lock = field(default_factory=Lock)

    def _clean(self, resource: Resource) -> None:
        redact_tags(resource, self.fingerprint)
        if resource.error is not None:
            resource.error = safe_detail(resource.error)

    def add(self, resource: Resource) -> None:
        self._clean(resource)
        with self._lock:
            if self.sink is not None:
                self.sink((resource,))
                self.run.spooled += 1
            else:
                self.run.resources.append(resource)

    def add_many(self, resources: Sequence[Resource]) -> None:
        for r in resources:
            self._clean(r)
        with self._lock:
            if self.sink is not None:
                self.sink(resources)
                self.run.spooled += len(resources)
            else:
                self.run.resources.extend(resources)

    def slice_ok(self, name: str, *, resources: int = 0, **cover: Any) -> Slice:
        """Record a slice that was read completely."""
        s = Slice(self.run.source, self.run.provider, name, "ok", resources=resources, **cover)
        with self._lock:
            self.run.slices.append(s)
        self.progress(self.run.source, f"{name}: {resources} resources")
        return s

    def slice_failed(
        self, name: str, err: SourceError | str, *, reason: str | None = None, **cover: Any
    ) -> Slice:
        """Record a slice that could not be read, and why. Its resources are not-assessed."""
        if isinstance(err, SourceError):
            reason, raw = reason or err.reason, err.message
        else:
            raw = err
        # Error text can quote a response body: bounded and redacted before it goes anywhere.
        detail = safe_detail(raw)
        s = Slice(
            self.run.source,
            self.run.provider,
            name,
            "failed",
            reason=reason or "error",
            detail=detail,
            **cover,
        )
        with self._lock:
            self.run.slices.append(s)
        self.progress(self.run.source, f"{name}: NOT ASSESSED ({s.reason}: {detail})")
        return s


class Collector(Protocol):
    """Reads one configured source. `collect` must record every slice it tried, ok or failed.

    It may raise SourceError (or anything else) for a failure of the whole source; the driver
    turns that into one failed slice covering the whole source.
    """

    def __init__(self, config: Any) -> None: ...

    def collect(self, ctx: CollectContext) -> None: ...


def collector_for(config: Any) -> Collector:
    """Instantiate the registered collector for a source config (lazy import)."""
    target = _collector_target(config.type)
    if target is None:
        raise ConfigError(f"no collector for source type '{config.type}'", key="sources")
    module_name, _, cls_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        p = registry().get(config.type)
        extra = p.extra if p is not None else "all"
        raise ConfigError(
            f"source '{config.name}' needs the '{extra}' extra: pip install 'driftscan[{extra}]' ({exc})",
            key="sources",
        ) from None
    cls = getattr(module, cls_name)
    return cls(config)  # type: ignore[no-any-return]


def run_source(
    config: Any,
    progress: ProgressFn | None = None,
    fingerprint: Fingerprinter | None = None,
    limiter: Limiter | None = None,
    sink: Callable[[Sequence[Resource]], None] | None = None,
) -> SourceRun:
    """Collect one source; never raises — a failure becomes a failed slice. With `sink`, the
    resources are handed to it as they come instead of kept in the run."""
    run = SourceRun(config.name, config.type)
    ctx = CollectContext(
        run,
        progress or (lambda s, m: None),
        fingerprint or Fingerprinter.throwaway(),
        limiter or Limiter(),
        sink,
    )
    start = time.monotonic()
    try:
        collector_for(config).collect(ctx)
    except SourceError as exc:
        ctx.slice_failed(exc.slice or "*", exc)
    except ConfigError:
        raise
    except Exception as exc:  # a bug or an unexpected API shape must not read as "clean"
        ctx.slice_failed("*", f"{type(exc).__name__}: {exc}", reason="error")
        ctx.progress(config.name, traceback.format_exc(limit=3))
    if run.identity:
        # Collectors name the endpoint they read (a kubeconfig's server, an ARM endpoint), and a
        # configured URL may carry credentials: masked here, once, for every provider.
        run.identity = redact_url_credentials(run.identity)
    if not run.slices:
        # A collector that recorded nothing has not shown that it read anything.
        ctx.slice_failed("*", "collector recorded no slices", reason="error")
    run.duration_s = time.monotonic() - start
    run.finish()
    return run


def run_sources(
    configs: Sequence[Any],
    progress: ProgressFn | None = None,
    *,
    fingerprint: Fingerprinter | None = None,
    concurrency: int = 32,
    sink: Callable[[Sequence[Resource]], None] | None = None,
) -> list[SourceRun]:
    """Collect all sources, at most `concurrency` at once, and return their runs in config
    order; one failing never stops the others. `sink` (thread-safe) takes every resource
    instead of the runs (a staging bundle)."""
    if not configs:
        return []
    # Build collectors first so a missing extra is a configuration error (exit 2) up front.
    for c in configs:
        if _collector_target(c.type) is None:
            raise ConfigError(f"no collector for source type '{c.type}'")
    # A bounded pool: a thread per source held 3.2 GB with 10,000 sources and never finished.
    workers = max(1, min(concurrency, len(configs)))
    limiter = Limiter()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="collect")
    try:
        futures = [
            pool.submit(run_source, c, progress, fingerprint, limiter, sink) for c in configs
        ]
        return [f.result() for f in futures]
    finally:
        # A ConfigError from one source (no known_hosts file, say) ends the scan: the sources
        # still queued behind it are not started.
        pool.shutdown(wait=True, cancel_futures=True)
