"""The SSH provider: on-prem Linux hosts, one resource `ssh://<name>` per host (design §3.2)."""

from __future__ import annotations

import fnmatch

from driftscan.providers import Provider, ScopeDimension
from driftscan.providers.ssh.keys import (
    declare_host,
    identify,
    locate,
    narrow,
    unassessed_paths,
    units,
)
from driftscan.providers.ssh.source import SshHost, SshSource


def owns_type(pattern: str) -> bool:
    """A host is the one type an SSH source reads."""
    return fnmatch.fnmatchcase("host", pattern.lower())


PROVIDER = Provider(
    type="ssh",
    source_model=SshSource,
    collector="driftscan.providers.ssh.collect:SshCollector",
    extra="ssh",
    identify=identify,
    owns_type=owns_type,
    path_fields=("known_hosts", "key_file"),
    scope_dimensions=(ScopeDimension("hosts", ("name", "key")),),
    declare_host=declare_host,
    locate=locate,
    unassessed_paths=unassessed_paths,
    sandbox="driftscan.sandbox.hosts:Fleet",
    units=units,
    narrow=narrow,
)

__all__ = ["PROVIDER", "SshHost", "SshSource"]
