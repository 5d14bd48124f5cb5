"""`driftscan scan` of a moto organisation through the CLI: every account, a denied role, exit 3."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from typer.testing import Result

from driftscan.providers.aws.collect.services import SERVICES
from driftscan.sandbox.aws import ACCOUNT, AwsSandbox, FaultProxy

# Every type the collector declares (each domain seeds at least one in the management account).
TYPES = {spec.type for svc in SERVICES for spec in svc.resources}


def _query(cli: Callable[..., Result], cfg: Path, sql: str) -> list[dict[str, Any]]:
    res = cli("query", sql, "-c", str(cfg), "--format", "json")
    assert res.exit_code == 0, res.output
    return list(json.loads(res.stdout))


def test_organisation_scan_through_the_cli(
    cli: Callable[..., Result], aws: AwsSandbox, faults: FaultProxy, tmp_path: Path
) -> None:
    """An organisation of three members, one refusing the role: exit 3, every type stored, each
    member's resources under its account, the refused account named as not assessed."""
    org = aws.organization()
    dev, prod, locked = (org.members[n] for n in ("dev", "prod", "locked"))
    faults.deny_role(org.role_arn(locked))
    source = aws.source(
        "aws-org",
        accounts="organization",
        role_name=org.role_name,
        concurrency=16,
        max_attempts=2,
    )
    cfg = tmp_path / "driftscan.yaml"
    cfg.write_text(
        yaml.safe_dump({"store": str(tmp_path / "driftscan.duckdb"), "sources": [source]})
    )

    res = cli("scan", "-c", str(cfg), "--format", "table")
    assert res.exit_code == 3, res.output
    # The summary names the account that was not read, why, and through which role.
    [line] = [ln for ln in res.output.splitlines() if ln.startswith("not assessed")]
    assert f"aws-org {locked}/*: denied" in line and org.role_arn(locked) in " ".join(
        res.output.split()
    )

    rows = _query(cli, cfg, "select account, type, key from resources where assessed order by all")
    assert {r["type"] for r in rows} == TYPES
    assert {r["type"] for r in rows if r["account"] == ACCOUNT} == TYPES
    by_account: dict[str, set[str]] = {}
    for r in rows:
        by_account.setdefault(r["account"], set()).add(r["key"])
    assert set(by_account) == {ACCOUNT, dev, prod}
    for account in (dev, prod):
        for keys in org.keys[account].values():
            assert keys <= by_account[account]

    failed = _query(
        cli, cfg, "select name, account, reason, detail from slices where status = 'failed'"
    )
    assert [(s["name"], s["account"], s["reason"]) for s in failed] == [
        (f"{locked}/*", locked, "denied")
    ]
    assert org.role_arn(locked) in failed[0]["detail"]
    [scan] = json.loads(cli("scans", "-c", str(cfg), "--format", "json").stdout)
    assert scan["status"] == "incomplete" and scan["coverage_pct"] < 100
    assert scan["sources"] == "aws-org partial (denied)"
