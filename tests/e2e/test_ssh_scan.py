"""`driftscan scan` of a fixture-host fleet through the CLI: facts stored, a hung host not assessed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import yaml
from typer.testing import Result

from driftscan.sandbox.hosts import Fleet, synthetic_profiles


def test_fleet_with_a_hung_host_is_incomplete(cli: Callable[..., Result], tmp_path: Path) -> None:
    """Six hosts are scanned; the one that hangs is not assessed (timeout), exit 3, the rest stored."""
    profiles = synthetic_profiles(6, packages=50)
    profiles[2].hang = "command"
    with Fleet(profiles, workdir=tmp_path / "fleet") as fleet:
        src = fleet.source("dc1", files=["/etc/hosts"], timeout_s=3).model_dump(mode="json")
        src["type"] = "ssh"
        cfg = tmp_path / "driftscan.yaml"
        cfg.write_text(yaml.safe_dump({"store": str(tmp_path / "s.duckdb"), "sources": [src]}))
        res = cli("scan", "-c", str(cfg), "--format", "json")
    assert res.exit_code == 3, res.output
    rows = json.loads(cli("query", "select key, attrs->>'$.machine_id' AS mid, assessed from resources order by key",
                          "-c", str(cfg), "--format", "json").stdout)  # fmt: skip
    assert [r["key"] for r in rows] == sorted(
        f"ssh://{p.name}" for p in profiles if p is not profiles[2]
    )
    assert all(r["assessed"] and r["mid"] for r in rows)
    failed = json.loads(cli("query", "select name, reason from slices where status = 'failed'", "-c", str(cfg),
                            "--format", "json").stdout)  # fmt: skip
    assert failed == [{"name": profiles[2].name, "reason": "timeout"}]


def test_nightly_rescan_of_an_unchanged_fleet_adds_no_versions(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    """Clock offsets and certificate days left differ every scan, yet they add no versions and no diff."""
    profiles = synthetic_profiles(4, packages=50)
    profiles[1].clock_skew_s = 9.0
    with Fleet(profiles, workdir=tmp_path / "fleet") as fleet:
        src = fleet.source("dc1", certs=["/etc/ssl/certs/payments.pem"], timeout_s=5).model_dump(
            mode="json"
        )
        src["type"] = "ssh"
        cfg = tmp_path / "driftscan.yaml"
        cfg.write_text(yaml.safe_dump({"store": str(tmp_path / "s.duckdb"), "sources": [src]}))
        for _ in range(3):
            assert cli("scan", "-c", str(cfg)).exit_code == 0
        profiles[0].packages["driftscan-probe"] = "1.0-1"  # one real change, in a fourth scan
        assert cli("scan", "-c", str(cfg)).exit_code == 0

    def rows(sql: str) -> list[dict[str, object]]:
        return list(json.loads(cli("query", sql, "-c", str(cfg), "--format", "json").stdout))

    assert rows("select count(*) n from resource_versions") == [{"n": 5}]
    offsets = rows(
        "select scan_id, (attrs -> '$.clock.offset_s')::DOUBLE AS o from "
        f"(select * from resources_at(1) union all select * from resources_at(3)) where key = 'ssh://{profiles[1].name}'"
    )
    assert len(offsets) == 2 and all(abs(float(str(r["o"])) - 9.0) < 0.5 for r in offsets)
    res = cli("diff", "--scan", "4", "--against", "1", "-c", str(cfg), "--format", "json")
    assert res.exit_code == 1, res.output  # something changed
    [changed] = json.loads(res.stdout)["changes"]  # the measurements moved too: not a change
    assert changed["resource"] == f"ssh://{profiles[0].name}"
    assert [c["path"] for c in changed["changes"]] == ["packages.driftscan-probe"]
