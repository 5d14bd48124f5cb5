"""Shard work units of a GCP source: a project scope is one unit; an organisation or folder is read whole."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from driftscan.providers import WorkUnit
from driftscan.providers.gcp.source import GcpSource


def units(source: Any) -> list[WorkUnit]:
    """`projects/ID` is the unit `projects/ID` (account ID). An organisation or folder is one
    whole unit: its projects are known only from a Cloud Asset Inventory search, and units
    are planned from the config alone by every shard worker and again by the ingest, which
    must agree without credentials or a race (a project created between two searches would
    land in no shard, or in two). Split an organisation across workers with one source per
    folder or project."""
    if not isinstance(source, GcpSource) or not source.scope.startswith("projects/"):
        return []
    types = () if source.asset_types == ["all"] else tuple(source.asset_types)
    return [WorkUnit(source.scope, account=source.scope.removeprefix("projects/"), types=types)]


def narrow(source: GcpSource, ids: Sequence[str]) -> GcpSource:
    """A project source has one unit: a shard that owns it reads the source as it is."""
    return source
