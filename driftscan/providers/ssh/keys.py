"""Host identity (`ssh://<name>`, type `host`), where declared hosts are read, and unread facts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from driftscan.providers import Identity, WorkUnit
from driftscan.providers.ssh.source import SshSource

PREFIX = "ssh://"


def identify(key: str) -> Identity | None:
    """A host key names the host; None for other keys."""
    if not key.startswith(PREFIX):
        return None
    return Identity(key, "ssh", type="host", name=key[len(PREFIX) :])


def declare_host(name: str) -> Identity:
    """The identity of a host declared by name under a desired file's `hosts:`."""
    return Identity(f"{PREFIX}{name}", "ssh", type="host", name=name)


def locate(source: Any) -> Iterator[tuple[str, str, str]]:
    """(key, account, region) of every configured host: its slice is (ssh source, site).

    Knowing it lets one unreachable host leave the other hosts' `missing` verdicts standing.
    """
    if isinstance(source, SshSource):
        for h in source.hosts:
            yield f"{PREFIX}{h.name}", source.name, h.site


def units(source: Any) -> list[WorkUnit]:
    """Each configured host is a work unit, covered as its slice is (`scan --shard`)."""
    if not isinstance(source, SshSource):
        return []
    return [
        WorkUnit(h.name, source.name, h.site, ("host",), (f"{PREFIX}{h.name}",))
        for h in source.hosts
    ]


def narrow(source: SshSource, ids: Sequence[str]) -> SshSource:
    """The source reading only the hosts named."""
    keep = set(ids)
    return source.model_copy(update={"hosts": [h for h in source.hosts if h.name in keep]})


def unassessed_paths(d: Any, live: dict[str, Any]) -> list[str]:
    """Host facts the collector could not read: a change under them is not drift."""
    na = live.get("not_assessed") or {}
    out = [k for k in (*d.declared, *(c.path[0] for c in d.checks)) if k in na]
    for fact in ("files", "certs"):
        entries = live.get(fact) or {}
        declared_paths = set(d.declared.get(fact, {})) | {
            c.path[1] for c in d.checks if c.path[0] == fact
        }
        for p in declared_paths:
            entry = entries.get(p)
            if isinstance(entry, dict) and entry.get("error") not in (None, "missing"):
                out.append(f"{fact}.{p}")
    return out
