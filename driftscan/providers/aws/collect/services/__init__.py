"""Every AWS service the collector reads, by domain; each module declares its specs as data."""

from __future__ import annotations

from driftscan.collect.limits import ApiLimits
from driftscan.providers.aws.collect.services import (
    compute,
    iam,
    logging,
    network,
    secrets,
    storage,
)
from driftscan.providers.aws.collect.specs import ServiceSpec

_DOMAINS = (compute, network, storage, secrets, logging, iam)

REGIONAL: tuple[ServiceSpec, ...] = tuple(s for d in _DOMAINS for s in d.REGIONAL)
GLOBAL: tuple[ServiceSpec, ...] = tuple(s for d in _DOMAINS for s in d.GLOBAL)
SERVICES: tuple[ServiceSpec, ...] = REGIONAL + GLOBAL


def _limits() -> dict[str, ApiLimits]:
    # Several specs may read through one client (EC2's instances and its VPC parts): the
    # limits are the client's, so they must agree.
    out: dict[str, ApiLimits] = {}
    for s in SERVICES:
        if s.limits is None:
            continue
        if out.setdefault(s.client, s.limits) != s.limits:
            raise AssertionError(f"specs reading through {s.client!r} declare different limits")
    return out


# Published limits by client name, for the collector's per-request pacing.
LIMITS: dict[str, ApiLimits] = _limits()
_names = [s.name for s in SERVICES]
assert len(set(_names)) == len(_names), "service spec names name slices: they must be unique"
