"""The seeded AWS estate, one module per domain of the collector's services."""

from __future__ import annotations

from collections.abc import Callable

from driftscan.sandbox.awsestate import compute, iam, logging, network, secrets, storage
from driftscan.sandbox.awsestate.base import Estate

SEEDERS: tuple[Callable[[str, Estate], None], ...] = tuple(
    m.seed for m in (iam, compute, network, storage, secrets, logging)
)
