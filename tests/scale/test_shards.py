"""Sharded scans: two shard workers and an ingest store what one scan of the same fleet stores."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

import driftscan.cli  # noqa: F401 - registers every command
from driftscan.clikit import app
from driftscan.sandbox.hosts import Fleet, HostProfile, synthetic_profiles
from driftscan.stage import parse_shard, plan_shard, unit_shard
from driftscan.stage.bundle import MANIFEST, RESOURCES
from driftscan.store import Store

HOSTS = 6
DESIRED = """\
hosts:
  - name: host-000
    packages: {libpkg0: "0.0.0-0"}
"""


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def profiles() -> list[HostProfile]:
    return synthetic_profiles(HOSTS, packages=30)


@pytest.fixture(scope="module")
def fleet(profiles: list[HostProfile], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    with Fleet(profiles, workdir=tmp_path_factory.mktemp("fleet")) as f:
        yield f


def write_config(folder: Path, fleet: Fleet) -> Path:
    """A config scanning the fleet into folder/s.duckdb, with one declared host (drift)."""
    folder.mkdir(parents=True, exist_ok=True)
    src = fleet.source("dc1", files=["/etc/hosts"], timeout_s=5).model_dump(mode="json")
    src["type"] = "ssh"
    (folder / "desired").mkdir(exist_ok=True)
    (folder / "desired" / "hosts.yaml").write_text(DESIRED)
    cfg = folder / "driftscan.yaml"
    doc = {
        "store": str(folder / "s.duckdb"),
        "sources": [src],
        "desired": [{"path": "desired/"}],
    }
    cfg.write_text(yaml.safe_dump(doc))
    return cfg


def rows(cfg: Path, sql: str) -> list[dict[str, Any]]:
    res = cli("query", sql, "-c", str(cfg), "--format", "json")
    assert res.exit_code == 0, res.output
    return list(json.loads(res.stdout))


def outputs(cfg: Path) -> dict[str, Any]:
    """What a scan left in the store, in a form two stores can be compared by."""
    diff = cli("diff", "-c", str(cfg), "--format", "json")
    assert diff.exit_code in (0, 1), diff.output
    check = cli("check", "-c", str(cfg), "--format", "json")
    assert check.exit_code in (0, 1, 3), check.output
    return {
        "resources": rows(cfg, "select key, doc_hash from resources order by key"),
        "slices": rows(
            cfg, "select source, name, status, reason from slices order by source, name"
        ),
        "scans": rows(cfg, "select scan_id, status, resources from scans order by scan_id"),
        "drift": rows(cfg, "select resource, kind, changes from drift order by resource, kind"),
        "findings": rows(
            cfg, "select rule, resource, status from findings order by rule, resource"
        ),
    }


def test_units_hash_to_shards_stably_under_reordering(fleet: Fleet) -> None:
    """Each host is in exactly one shard, and reversing the hosts moves none of them."""
    src = fleet.source("dc1")
    rev = src.model_copy(update={"hosts": list(reversed(src.hosts))})
    for s in (src, rev):
        got = [plan_shard([s], parse_shard(f"{k}/3")) for k in (1, 2, 3)]
        owned = [sorted(u for u in p.units) for p in got]
        assert sorted(u for o in owned for u in o) == sorted(f"dc1:{h.name}" for h in src.hosts)
        for k, p in enumerate(got, start=1):
            assert all(unit_shard("dc1", h.name, 3) == k for s2 in p.sources for h in s2.hosts)
    assert [
        sorted(p.units) for p in (plan_shard([src], parse_shard(f"{k}/3")) for k in (1, 2, 3))
    ] == [sorted(p.units) for p in (plan_shard([rev], parse_shard(f"{k}/3")) for k in (1, 2, 3))]


def test_two_shards_and_an_ingest_equal_one_scan(fleet: Fleet, tmp_path: Path) -> None:
    """Resources, slices, drift and findings of shards 1/2 + 2/2 ingested equal one scan's."""
    one = write_config(tmp_path / "one", fleet)
    assert cli("scan", "-c", str(one), "-q").exit_code == 0
    two = write_config(tmp_path / "two", fleet)
    stage = tmp_path / "stage"
    for k in (1, 2):
        res = cli(
            "scan",
            "-c",
            str(two),
            "-q",
            "--shard",
            f"{k}/2",
            "--stage",
            str(stage),
            "--run-id",
            "night-1",
        )
        assert res.exit_code == 0, res.output
    assert not (tmp_path / "two" / "s.duckdb").exists()  # shard workers write no store
    bundles = sorted(p.parent.name for p in stage.glob("night-1/*/manifest.json"))
    assert bundles == ["shard-1-of-2", "shard-2-of-2"]
    res = cli("ingest", str(stage), "-c", str(two), "--format", "json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["status"] == "complete"
    a, b = outputs(one), outputs(two)
    assert len(a["resources"]) == HOSTS and a["drift"] and a["findings"]
    assert a == b


def test_the_same_bundles_twice_write_one_scan(fleet: Fleet, tmp_path: Path) -> None:
    """A second ingest of the same bundles writes nothing and says which scan they became."""
    cfg = write_config(tmp_path / "c", fleet)
    stage = tmp_path / "stage"
    assert cli("scan", "-c", str(cfg), "-q", "--shard", "1/1", "--stage", str(stage)).exit_code == 0
    first = cli("ingest", str(stage), "-c", str(cfg), "--format", "json")
    again = cli("ingest", str(stage), "-c", str(cfg), "--format", "json")
    assert first.exit_code == again.exit_code == 0, again.output
    assert json.loads(again.stdout)["already_ingested"] is True
    assert json.loads(again.stdout)["scan"] == json.loads(first.stdout)["scan"] == 1
    assert rows(cfg, "select count(*) n from scans") == [{"n": 1}]


def _shards(cfg: Path, stage: Path, n: int) -> None:
    for k in range(1, n + 1):
        res = cli(
            "scan",
            "-c",
            str(cfg),
            "-q",
            "--shard",
            f"{k}/{n}",
            "--stage",
            str(stage),
            "--run-id",
            "r1",
        )
        assert res.exit_code == 0, res.output


def _hosts_of(folder: Path) -> set[str]:
    man = json.loads((folder / MANIFEST).read_text())
    return {u.split(":", 1)[1] for u in man["units"]}


@pytest.mark.parametrize("fault", ["missing", "altered", "duplicated", "forged"])
def test_a_bad_shard_leaves_its_hosts_not_assessed(
    fleet: Fleet, profiles: list[HostProfile], tmp_path: Path, fault: str
) -> None:
    """A missing, altered, duplicated or forged shard: the scan is incomplete (exit 3), its
    hosts are failed slices and keep their earlier versions; the other shard is stored."""
    cfg = write_config(tmp_path / "c", fleet)
    assert cli("scan", "-c", str(cfg), "-q").exit_code == 0  # an earlier, complete scan
    stage = tmp_path / "stage"
    _shards(cfg, stage, 2)
    bad = stage / "r1" / "shard-2-of-2"
    lost = _hosts_of(bad)
    assert lost and lost != {p.name for p in profiles}
    if fault == "missing":
        shutil.rmtree(bad)
    elif fault == "altered":
        with (bad / RESOURCES).open("r+b") as f:
            f.seek(40)
            byte = f.read(1)
            f.seek(40)
            f.write(bytes([byte[0] ^ 0xFF]))
    elif fault == "duplicated":
        other = stage / "r1" / "copy"
        shutil.copytree(bad, other)
        man = json.loads((other / MANIFEST).read_text())
        man["finished_at"] = "2030-01-01T00:00:00+00:00"
        (other / MANIFEST).write_text(json.dumps(man))
    else:  # forged: a manifest edited after it was sealed
        man = json.loads((bad / MANIFEST).read_text())
        man["runs"][0]["identity"] = "someone else"
        (bad / MANIFEST).write_text(json.dumps(man))
    res = cli("ingest", str(stage), "-c", str(cfg), "--format", "json")
    assert res.exit_code == 3, res.output
    doc = json.loads(res.stdout)
    assert doc["status"] == "incomplete" and doc["problems"]
    failed = rows(cfg, "select name, reason from slices where scan_id = 2 and status = 'failed'")
    assert {r["name"] for r in failed} == lost
    assert {r["reason"] for r in failed} == {"unstaged"}
    kept = rows(cfg, "select key, assessed from resources order by key")
    assert [r["key"] for r in kept] == sorted(f"ssh://{p.name}" for p in profiles)
    assert {r["key"] for r in kept if not r["assessed"]} == {f"ssh://{h}" for h in lost}
    with Store(tmp_path / "c" / "s.duckdb", read_only=True) as st:
        assert st.verify().ok


def test_bundles_of_two_runs_need_a_run_id(fleet: Fleet, tmp_path: Path) -> None:
    """Bundles of two runs in one folder: ingest refuses (exit 2) and names both run ids."""
    cfg = write_config(tmp_path / "c", fleet)
    stage = tmp_path / "stage"
    for rid in ("a1", "b2"):
        res = cli(
            "scan", "-c", str(cfg), "-q", "--shard", "1/1", "--stage", str(stage), "--run-id", rid
        )
        assert res.exit_code == 0
    res = cli("ingest", str(stage), "-c", str(cfg))
    assert res.exit_code == 2
    assert "a1" in res.output and "b2" in res.output
    assert cli("ingest", str(stage), "-c", str(cfg), "--run-id", "b2", "-f", "json").exit_code == 0


def test_shard_needs_a_stage_and_a_valid_number(fleet: Fleet, tmp_path: Path) -> None:
    """--shard without --stage, or 3/2, is a usage error naming the option."""
    cfg = write_config(tmp_path / "c", fleet)
    res = cli("scan", "-c", str(cfg), "--shard", "1/2")
    assert res.exit_code == 2 and "--stage" in res.output
    res = cli("scan", "-c", str(cfg), "--shard", "3/2", "--stage", str(tmp_path / "s"))
    assert res.exit_code == 2 and "--shard '3/2'" in res.output


def test_listed_aws_accounts_are_units_and_an_organisation_is_one() -> None:
    """An AWS source with listed accounts splits by account (each shard's source lists only
    its accounts, the excluded one in none); `accounts: organization` is one whole unit."""
    from driftscan.providers.aws import AwsSource

    ids = [f"{111111111111 + i:012d}" for i in range(12)]
    src = AwsSource(
        name="org", type="aws", role_name="audit", accounts=ids, exclude_accounts=[ids[0]]
    )
    plans = [plan_shard([src], parse_shard(f"{k}/3")) for k in (1, 2, 3)]
    read = [a for p in plans for s in p.sources for a in s.accounts]
    assert sorted(read) == sorted(read_set := set(ids) - {ids[0]}) and len(read) == len(read_set)
    for k, p in enumerate(plans, start=1):
        assert all(unit_shard("org", a, 3) == k for s in p.sources for a in s.accounts)
    org = AwsSource(name="org", type="aws", role_name="audit", accounts="organization")
    owners = [k for k in (1, 2, 3) if plan_shard([org], parse_shard(f"{k}/3")).sources]
    assert len(owners) == 1
    assert plan_shard([org], parse_shard(f"{owners[0]}/3")).sources == [org]


def test_a_missing_shard_without_units_still_makes_the_scan_incomplete(
    fleet: Fleet, tmp_path: Path
) -> None:
    """Six hosts in 8 shards leave some shard without a host; that shard missing still makes
    the scan incomplete (exit 3): a slice names it, and every host stays assessed."""
    cfg = write_config(tmp_path / "c", fleet)
    stage = tmp_path / "stage"
    _shards(cfg, stage, 8)
    empty = [p.parent for p in stage.glob("r1/*/manifest.json") if not _hosts_of(p.parent)]
    assert empty
    shutil.rmtree(empty[0])
    res = cli("ingest", str(stage), "-c", str(cfg), "--format", "json")
    assert res.exit_code == 3, res.output
    k = empty[0].name.split("-")[1]
    failed = rows(cfg, "select name, reason from slices where status = 'failed'")
    assert failed == [{"name": f"shard {k}/8", "reason": "unstaged"}]
    assert all(r["assessed"] for r in rows(cfg, "select assessed from resources"))
    assert len(rows(cfg, "select key from resources")) == HOSTS
