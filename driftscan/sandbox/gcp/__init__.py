"""The GCP sandbox: a Cloud Asset Inventory emulator over HTTPS and the organisation it serves."""

from driftscan.sandbox.gcp.emulator import DEMO_TOKEN, AssetEmulator, Fault, Project
from driftscan.sandbox.gcp.estate import (
    BAA_REGIONS,
    DENIED,
    HEALTH,
    ORGANIZATION,
    PAYMENTS,
    PHI_BUCKET,
    PHI_REGION,
    Estate,
    Incident,
    demo_estate,
    large_estate,
)


def serve(estate: Estate | None = None, **kw: object) -> AssetEmulator:
    """An emulator (not started) serving `estate` (default: the demo estate, its 403 project
    denied)."""
    e = estate or demo_estate()
    emu = AssetEmulator(e.assets, e.policies, projects=e.projects, organization=ORGANIZATION, **kw)  # type: ignore[arg-type]
    if estate is None:
        emu.deny_project(DENIED)
    return emu


__all__ = [
    "BAA_REGIONS",
    "DEMO_TOKEN",
    "DENIED",
    "HEALTH",
    "ORGANIZATION",
    "PAYMENTS",
    "PHI_BUCKET",
    "PHI_REGION",
    "AssetEmulator",
    "Estate",
    "Fault",
    "Incident",
    "Project",
    "demo_estate",
    "large_estate",
    "serve",
]
