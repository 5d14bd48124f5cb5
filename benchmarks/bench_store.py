"""Ingest 100k synthetic resources, then rescan them unchanged: print resources/s and bytes added.

First-seen ingest runs several times into fresh stores (each run printed, then the median
and range): on a shared 2-core machine one figure says little. Each run also says where its
time went: encoding in Python (canonical JSON of tags and attrs, the version hash, Arrow)
against DuckDB (inserting versions and intervals, the content hash, the commit).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from driftscan.model import Resource, Slice, SourceRun
from driftscan.store import Store
from driftscan.store.core import _encode


def estate(n: int, generation: int = 0, drift_every: int = 0) -> SourceRun:
    """n EC2-like resources across 4 regions; every `drift_every`th changes with the generation."""
    run = SourceRun("bench", "aws")
    regions = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1"]
    for i in range(n):
        g = generation if drift_every and i % drift_every == 0 else 0
        region = regions[i % 4]
        run.resources.append(
            Resource(
                key=f"arn:aws:ec2:{region}:111122223333:instance/i-{i:017x}",
                provider="aws",
                source="bench",
                account="111122223333",
                region=region,
                type="AWS::EC2::Instance",
                name=f"i-{i:017x}",
                tags={"team": f"team-{i % 13}", "env": "prod" if i % 3 else "dev"},
                attrs={
                    "state": "running",
                    "instance_type": ["t3.micro", "m5.large", "c6i.xlarge"][i % 3],
                    "image_id": f"ami-{(i * 7 + g) % 5000:08x}",
                    "subnet_id": f"subnet-{i % 200:08x}",
                    "security_groups": [f"sg-{i % 50:08x}", f"sg-{(i + 1) % 50:08x}"],
                    "user_data": f"sha256:{i:064x}",
                },
                encrypted=True,
                public=False,
            )
        )
    for region in regions:
        run.slices.append(
            Slice("bench", "aws", f"111122223333/{region}/ec2", account="111122223333", region=region,
                  types=["AWS::EC2::Instance"], resources=n // 4)
        )  # fmt: skip
    run.finish()
    return run


def size(path: Path) -> int:
    return sum(
        p.stat().st_size for p in path.parent.glob(path.name + "*") if not p.name.endswith(".lock")
    )


def timed_write(path: Path, run: SourceRun) -> float:
    """Seconds to store one scan (opening the store is not counted)."""
    now = datetime.now(UTC)
    with Store(path) as st:
        t0 = time.perf_counter()
        st.write_scan([run], started_at=now, finished_at=now, tool_version="bench")
        return time.perf_counter() - t0


def grow_history(st: Store, *, total_scans: int) -> None:
    """Extend the ledger to `total_scans` scans, 1 % of the resources changing in each.

    Written straight in SQL (one small transaction per scan) rather than by rescanning 100k
    resources hundreds of times: the shape of the history tables is what `history` reads, and
    it is the same as real scans leave. The synthetic scans are not sealed into the chain.
    """
    last = st.scan().scan_id
    for n in range(last + 1, total_scans + 1):
        with st.transaction() as con:
            con.execute(
                """
                CREATE OR REPLACE TEMP TABLE _chg AS
                SELECT v.* REPLACE (json_merge_patch(v.attrs, json_object('generation', $n::BIGINT)) AS attrs)
                FROM span s JOIN version v USING (doc_hash)
                WHERE s.last_scan IS NULL AND hash(s.key) % 100 = $n % 100
                """,
                {"n": n},
            )
            con.execute(
                "UPDATE _chg SET doc_hash = version_hash(key, provider, source, account, region, "
                "type, name, tags, attrs, encrypted, public, error)"
            )
            con.execute("INSERT INTO version SELECT * FROM _chg")
            con.execute(
                "UPDATE span SET last_scan = $n - 1 WHERE last_scan IS NULL "
                "AND key IN (SELECT key FROM _chg)",
                {"n": n},
            )
            con.execute("INSERT INTO span SELECT key, doc_hash, $n, NULL FROM _chg", {"n": n})
            con.execute(
                "INSERT INTO scan_ledger SELECT $n, started_at, finished_at, status, tool_version, "
                "config_hash, rules_hash, resources, 'synthetic', chain_hash, 'synthetic', false, '' "
                "FROM scan_ledger WHERE scan_id = $n - 1",
                {"n": n},
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--resources", type=int, default=100_000)
    ap.add_argument("--ingest-runs", type=int, default=5, help="first-seen ingests, fresh stores")
    ap.add_argument("--rescans", type=int, default=3)
    ap.add_argument("--history-scans", type=int, default=365)
    ap.add_argument("--history-runs", type=int, default=7)
    args = ap.parse_args()
    n = args.resources
    first = estate(n)
    rates = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.ingest_runs):
            path = Path(tmp) / f"first-{i}.duckdb"
            ingest = timed_write(path, first)
            t0, c0 = time.perf_counter(), time.process_time()
            _encode(first.resources)  # the Python share of the write, timed on its own
            enc, enc_cpu = time.perf_counter() - t0, time.process_time() - c0
            rates.append(n / ingest)
            print(f"first ingest, run {i + 1}: {n:,} resources in {ingest:.2f} s = "
                  f"{n / ingest:,.0f} resources/s (target >= 50,000/s); of which encoding in "
                  f"Python {enc:.2f} s ({enc_cpu:.2f} s CPU), DuckDB and the rest "
                  f"{ingest - enc:.2f} s")  # fmt: skip
        print(f"first ingest over {len(rates)} runs: median {statistics.median(rates):,.0f} "
              f"resources/s, range {min(rates):,.0f}-{max(rates):,.0f} (target >= 50,000/s "
              f"in every run; {sum(r >= 50_000 for r in rates)}/{len(rates)} met)")  # fmt: skip
        path = Path(tmp) / "bench.duckdb"
        timed_write(path, first)
        base = size(path)
        print(f"store after the first scan: {base / 1e6:.1f} MB")
        prev = base
        for i in range(args.rescans):
            dt = timed_write(path, estate(n))
            now_size = size(path)
            print(f"unchanged rescan {i + 1}: {n / dt:,.0f} resources/s; store grew by "
                  f"{(now_size - prev) / 1e6:.3f} MB (target <= 5 MB, stretch <= 1 MB)")  # fmt: skip
            prev = now_size
        dt = timed_write(path, estate(n, generation=1, drift_every=100))
        with Store(path) as st:
            t1 = time.perf_counter()
            hist = st.history("arn:aws:ec2:us-east-1:111122223333:instance/i-00000000000000000")
            ht = time.perf_counter() - t1
        print(f"rescan with 1% changed: {n / dt:,.0f} resources/s; store grew by "
              f"{(size(path) - prev) / 1e6:.3f} MB; history of one resource: {len(hist)} versions in "
              f"{ht * 1000:.1f} ms")  # fmt: skip
        with Store(path) as st:
            grow_history(st, total_scans=args.history_scans)
            key = "arn:aws:ec2:us-east-1:111122223333:instance/i-00000000000000000"
            times = []
            for _ in range(args.history_runs):
                t1 = time.perf_counter()
                hist = st.history(key)
                times.append(time.perf_counter() - t1)
            spans = st.query("select count(*) from span")[1][0][0]
        print(f"history of one resource over {args.history_scans} scans of {n:,} resources "
              f"({spans:,} intervals; scans 6.. synthesised in SQL, 1% of resources changing per scan): "
              f"{len(hist)} versions in {statistics.median(times) * 1000:.1f} ms median of "
              f"{len(times)}, range {min(times) * 1000:.1f}-{max(times) * 1000:.1f} ms "
              f"(target <= 200 ms)")  # fmt: skip
        print(f"cpu count {os.cpu_count()}")


if __name__ == "__main__":
    main()
