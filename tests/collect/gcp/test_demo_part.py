"""The GCP part of `driftscan demo`: its source reads the whole organisation and holds the PHI bucket."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftscan.collect.base import run_source
from driftscan.providers import registry
from driftscan.providers.gcp import GcpSource
from driftscan.sandbox.gcp import BAA_REGIONS, PHI_BUCKET, PHI_REGION
from driftscan.sandbox.gcp.demo import start
from tests.conftest import TEST_FP


def test_demo_part_seeds_the_phi_incident(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The provider's demo hook starts the emulator; its source reads every project (the demo's
    only not-assessed slice stays the dead host), and the incident names the PHI bucket."""
    assert registry()["gcp"].demo == "driftscan.sandbox.gcp.demo:start"
    part = start(tmp_path / "gcp")
    try:
        for k, v in part.env.items():
            monkeypatch.setenv(k, v)
        (src,) = part.sources
        run = run_source(GcpSource(**src), fingerprint=TEST_FP)
        assert run.status == "ok" and all(s.status == "ok" for s in run.slices)
        (inc,) = part.incidents
        assert inc.rule == "data_residency_region" and inc.resource.endswith(PHI_BUCKET)
        phi = next(r for r in run.resources if r.key == inc.resource)
        assert phi.region == PHI_REGION and PHI_REGION not in BAA_REGIONS
        assert part.params == {"residency": {"phi": BAA_REGIONS}}
    finally:
        part.stop()
