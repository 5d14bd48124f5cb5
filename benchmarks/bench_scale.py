"""Sharded scale: `driftscan ingest` of 8 shard bundles holding 1,000,000 resources over 1,000
synthetic accounts. Prints the ingest's wall time and peak RSS (a fresh interpreter, wait4),
the store's growth when the same estate is ingested again unchanged (a second run id), and the
time of `driftscan export --format parquet` of the two scans.

The bundles are written the way shard workers write them (driftscan.stage.BundleWriter, the
manifest sealed with the store's fingerprint key), each account's resources in the shard its
account id hashes to, so the ingest verifies, merges and stores exactly what `scan --shard
K/8` would have staged. Building them is not timed.
Targets (issue 21, item 5): ingest <= 30 s and <= 2 GB peak RSS on 2 cores; unchanged
re-ingest grows the store by <= 10 MB.

    python benchmarks/bench_scale.py [--resources 1000000] [--accounts 1000] [--shards 8]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from driftscan.model import Resource, SourceRun
from driftscan.redaction import Fingerprinter
from driftscan.stage import BundleWriter, unit_shard, write_manifest
from driftscan.stage.bundle import MANIFEST

SOURCE = "org"
REGIONS = ("eu-west-1", "us-east-1")
TYPES = (
    ("s3", "bucket"),
    ("ec2", "instance"),
    ("ec2", "volume"),
    ("ec2", "security-group"),
    ("iam", "role"),
    ("lambda", "function"),
    ("rds", "db"),
    ("kms", "key"),
)
KEY_HEX = "a1" * 32  # the benchmark store's fingerprint key (never a real one)


def accounts(n: int) -> list[str]:
    return [f"{100000000000 + i * 7919:012d}" for i in range(n)]


def resource(account: str, i: int, rng: random.Random) -> Resource:
    """One resource of a tenant-like shape: a few tags and ~400 bytes of attributes."""
    svc, kind = TYPES[i % len(TYPES)]
    region = REGIONS[i % len(REGIONS)]
    name = f"{kind}-{i:06d}"
    return Resource(
        key=f"arn:aws:{svc}:{region}:{account}:{kind}/{name}",
        provider="aws",
        source=SOURCE,
        account=account,
        region=region,
        type=f"aws.{svc}.{kind}",
        name=name,
        tags={"team": f"t{i % 40}", "env": ("prod", "dev", "stage")[i % 3], "cost": str(i % 97)},
        attrs={
            "arn": f"arn:aws:{svc}:{region}:{account}:{kind}/{name}",
            "created": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00:00Z",
            "encryption": {"enabled": i % 5 != 0, "kms_key": f"alias/k{i % 11}"},
            "network": {"vpc": f"vpc-{i % 50:04x}", "subnets": [f"subnet-{i % 9}", "subnet-x"]},
            "settings": {f"s{j}": rng.choice(("on", "off", "auto")) for j in range(6)},
            "size_gb": (i * 37) % 2048,
        },
        encrypted=i % 5 != 0,
        public=i % 53 == 0,
    )


def build(stage: Path, run_id: str, cfg_hash: str, args: argparse.Namespace) -> None:
    """Write the run's shard bundles under stage/<run_id>/shard-K-of-N."""
    fp = Fingerprinter(KEY_HEX.encode())
    per = args.resources // args.accounts
    rng = random.Random(7)
    by_shard: dict[int, list[str]] = {k: [] for k in range(1, args.shards + 1)}
    for a in accounts(args.accounts):
        by_shard[unit_shard(SOURCE, a, args.shards)].append(a)
    now = datetime.now(UTC)
    for k, accs in by_shard.items():
        folder = stage / run_id / f"shard-{k}-of-{args.shards}"
        writer = BundleWriter(folder)
        run = SourceRun(SOURCE, "aws", identity="arn:aws:iam::100000000000:role/bench")
        for a in accs:
            writer.add([resource(a, i, rng) for i in range(per)])
            run.spooled += per
            for region in REGIONS:
                run.slices.append(_slice(a, region, per // len(REGIONS)))
        entry = writer.close()
        run.finish()
        write_manifest(
            folder,
            run_id=run_id,
            shard=(k, args.shards),
            config_hash=cfg_hash,
            tool_version="bench",
            started_at=now,
            finished_at=now,
            units=[f"{SOURCE}:{a}" for a in accs],
            runs=[run],
            files=[entry] if entry else [],
            fingerprint=fp,
        )


def _slice(account: str, region: str, n: int) -> Any:
    from driftscan.model import Slice

    return Slice(
        SOURCE, "aws", f"{account}/{region}", "ok", account=account, region=region, resources=n
    )


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB, stdout) of one command in a fresh process; its CPU time
    (user + system, less sensitive than wall time to a shared machine) is printed."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    out, errs = proc.stdout.read(), proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    print(
        f"           ({cmd[3]}: CPU {usage.ru_utime + usage.ru_stime:.1f} s, "
        f"wall {wall:.1f} s, load average {os.getloadavg()[0]:.1f})"
    )
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(cmd[2:4])} exited {code}: {errs.strip()[-2000:]}")
    return wall, usage.ru_maxrss / 1024, out


def store_bytes(store: Path) -> int:
    return sum(p.stat().st_size for p in store.parent.glob(store.name + "*") if p.is_file())


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--resources", type=int, default=1_000_000)
    ap.add_argument("--accounts", type=int, default=1_000)
    ap.add_argument("--shards", type=int, default=8)
    ap.add_argument("--keep", type=Path, help="Work in this folder and keep it")
    args = ap.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        store = work / "store.duckdb"
        cfg = work / "driftscan.yaml"
        source = {
            "name": SOURCE,
            "type": "aws",
            "role_name": "bench",
            "accounts": accounts(args.accounts),
            "regions": list(REGIONS),
        }
        cfg.write_text(yaml.safe_dump({"store": str(store), "sources": [source]}))
        from driftscan.config import load_config

        cfg_hash = load_config(cfg).digest
        env = {**os.environ, "DRIFTSCAN_FINGERPRINT_KEY": KEY_HEX}
        env.pop("AWS_PROFILE", None)
        stage = work / "stage"
        t = time.monotonic()
        build(stage, "night-1", cfg_hash, args)
        bundle_mb = sum(p.stat().st_size for p in stage.rglob("*") if p.is_file()) / 1e6
        print(
            f"bundles: {args.shards} shards, {args.resources:,} resources over "
            f"{args.accounts:,} accounts, {bundle_mb:.0f} MB of Parquet "
            f"(built in {time.monotonic() - t:.0f} s, not timed)"
        )

        ingest = [sys.executable, "-m", "driftscan", "ingest", "-c", str(cfg), "-f", "json"]
        wall, rss, out = timed([*ingest, str(stage / "night-1")], env)
        doc = json.loads(out)
        assert doc["status"] == "complete" and doc["resources"] == args.resources, doc
        size1 = store_bytes(store)
        print(
            f"ingest:    {wall:6.1f} s  peak RSS {rss:6.0f} MB  "
            f"({args.resources / wall:,.0f} resources/s; target <= 30 s, <= 2048 MB)"
        )

        # The same estate again under the next night's run id: the same Parquet, new manifests.
        for shard in sorted((stage / "night-1").iterdir()):
            dst = stage / "night-2" / shard.name
            dst.mkdir(parents=True)
            for f in shard.iterdir():
                if f.name != MANIFEST:
                    os.link(f, dst / f.name)
            man = json.loads((shard / MANIFEST).read_text())
            _reseal(dst, man, "night-2")
        wall2, rss2, out2 = timed([*ingest, str(stage / "night-2")], env)
        assert json.loads(out2)["scan"] == 2
        size2 = store_bytes(store)
        print(
            f"re-ingest: {wall2:6.1f} s  peak RSS {rss2:6.0f} MB  store grew by "
            f"{(size2 - size1) / 1e6:.2f} MB ({size1 / 1e6:.0f} -> {size2 / 1e6:.0f} MB; "
            "target <= 10 MB)"
        )

        export = [
            sys.executable,
            "-m",
            "driftscan",
            "export",
            "--format",
            "parquet",
            "--out",
            str(work / "export"),
            "--all",
            "-c",
            str(cfg),
        ]
        try:
            wall3, rss3, _ = timed(export, env)
            print(f"export:    {wall3:6.1f} s  peak RSS {rss3:6.0f} MB  (2 scans, Parquet)")
        except SystemExit as exc:
            print(f"export:    not measured ({exc})")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def _reseal(folder: Path, man: dict[str, Any], run_id: str) -> None:
    """The manifest of a shard under another run id, sealed again with the store's key."""
    from driftscan.model import Slice

    fp = Fingerprinter(KEY_HEX.encode())
    run = SourceRun(SOURCE, "aws", identity=man["runs"][0]["identity"])
    run.spooled = man["runs"][0]["resources"]
    run.slices = [Slice(**s) for s in man["slices"]]
    run.finish()
    write_manifest(
        folder,
        run_id=run_id,
        shard=tuple(man["shard"]),
        config_hash=man["config_hash"],
        tool_version="bench",
        started_at=datetime.now(UTC),
        finished_at=datetime.now(UTC),
        units=man["units"],
        runs=[run],
        files=man["files"],
        fingerprint=fp,
    )


if __name__ == "__main__":
    raise SystemExit(main())
