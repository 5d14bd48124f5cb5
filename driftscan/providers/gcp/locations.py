"""GCP locations: multi-regions and predefined dual-regions resolved to the regions that may hold
the data, so residency is judged on regions (documented in docs/gcp.md)."""

from __future__ import annotations

import re

# A multi-region keeps data "in data centres within" its geography without saying which:
# every region of that geography may hold it, so each is a data location (a conservative
# reading: an allow-list must cover them all for the resource to pass).
MULTI_REGIONS: dict[str, tuple[str, ...]] = {
    "us": (
        "us-central1", "us-east1", "us-east4", "us-east5", "us-south1",
        "us-west1", "us-west2", "us-west3", "us-west4",
    ),
    # Regions in EU member states only (London and Zurich are not part of the EU multi-region).
    "eu": (
        "europe-central2", "europe-north1", "europe-southwest1", "europe-west1", "europe-west3",
        "europe-west4", "europe-west8", "europe-west9", "europe-west10", "europe-west12",
    ),
    "asia": (
        "asia-east1", "asia-east2", "asia-northeast1", "asia-northeast2", "asia-northeast3",
        "asia-south1", "asia-south2", "asia-southeast1", "asia-southeast2",
    ),
}  # fmt: skip

# Cloud Storage's predefined dual-regions: exactly two regions each. Any other location name is
# compared as it stands, so an unknown one never passes an allow-list of regions by accident.
DUAL_REGIONS: dict[str, tuple[str, ...]] = {
    "asia1": ("asia-northeast1", "asia-northeast2"),
    "eur4": ("europe-north1", "europe-west4"),
    "nam4": ("us-central1", "us-east1"),
}

GLOBAL = "global"


def normalise(location: str | None) -> str:
    """A location as resources carry it: lower-case; none given is `global`. Zones stay zones
    here (region_of gives their region)."""
    loc = (location or "").strip().lower()
    return loc or GLOBAL


_ZONE = re.compile(r"^([a-z]+-[a-z]+[0-9]+)-[a-z]$")


def region_of(location: str) -> str:
    """The region of a zone (`us-central1-a` → `us-central1`); any other location as it is."""
    m = _ZONE.match(location)
    return m.group(1) if m else location


def data_locations(location: str, custom: list[str] | None = None) -> list[str] | None:
    """The regions a multi- or dual-region location stands for (a custom dual-region's own
    list first); None for a single region, a zone or `global`."""
    loc = normalise(location)
    if custom:
        return sorted({normalise(c) for c in custom})
    members = MULTI_REGIONS.get(loc) or DUAL_REGIONS.get(loc)
    return list(members) if members else None
