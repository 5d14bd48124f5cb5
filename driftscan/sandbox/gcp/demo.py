"""The GCP part of `driftscan demo`: the organisation behind the CAI emulator and the PHI incident."""

from __future__ import annotations

from pathlib import Path

from driftscan.sandbox.demo import DemoPart, Incident
from driftscan.sandbox.gcp.emulator import DEMO_TOKEN, AssetEmulator
from driftscan.sandbox.gcp.estate import BAA_REGIONS, ORGANIZATION, PHI_BUCKET, demo_estate

SOURCE = "gcp-sandbox"
TOKEN_ENV = "GCP_ACCESS_TOKEN"


def start(workdir: Path) -> DemoPart:
    """Serve the demo organisation over HTTPS (every project readable, so the demo's one
    not-assessed slice stays the dead host) and describe how the demo scans it."""
    workdir.mkdir(parents=True, exist_ok=True)
    estate = demo_estate()
    emu = AssetEmulator(
        estate.assets, estate.policies, projects=estate.projects, organization=ORGANIZATION,
        token=DEMO_TOKEN, ca_dir=workdir / "gcp-ca",
    ).start()  # fmt: skip
    phi = next(i for i in estate.incidents if i.key.endswith(f"/buckets/{PHI_BUCKET}"))
    return DemoPart(
        sources=[
            {
                "name": SOURCE,
                "type": "gcp",
                "scope": f"organizations/{ORGANIZATION}",
                "credential": "token_env",
                "endpoint": emu.url,
                "ca_bundle": emu.ca_path,
            }
        ],
        incidents=[
            Incident(
                "patient data in a GCP region the BAA does not cover (asia-south1)",
                phi.rule,
                phi.key,
            )
        ],
        params={"residency": {"phi": list(BAA_REGIONS)}},
        env={TOKEN_ENV: DEMO_TOKEN},
        stop=emu.stop,
    )
