"""Diff 1M declared vs 1M live resources, 1 % drifted: seconds, peak RSS, speed-up over DeepDiff.

The live estate is written into a store by a separate process first (ingest has its own
benchmark). The measured process then builds 1M declarations in memory and flattens their
documents into leaves, as load_desired does at load (reported apart, not timed: it stands
for parsing the inputs), and times the drift engine end to end: declarations to Arrow,
set-level comparison in SQL, attribute detail on the drifted few, the never-seen declaration
set and the results stored, and the result read back with its coverage.

The baseline is DeepDiff applied to the whole inventory (every declared document against its
live document), measured on a sample and scaled linearly to 1M; the output says so.

    .venv/bin/python benchmarks/bench_diff.py [--n 1000000] [--drift 0.01]
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from driftscan.model import Resource, Slice, SourceRun

ACCOUNT = "111122223333"
REGIONS = ("us-east-1", "eu-west-1")
TYPE = "AWS::S3::Bucket"


def _live(i: int, drifted: bool) -> Resource:
    return Resource(
        key=f"arn:aws:s3:::bucket-{i:07d}",
        provider="aws",
        source="aws-bench",
        account=ACCOUNT,
        region=REGIONS[i % 2],
        type=TYPE,
        name=f"bucket-{i:07d}",
        tags={"team": f"t{i % 7}", "owner": "data", "env": "prod"},
        attrs={
            "versioning": "Suspended" if drifted else "Enabled",
            "mfa_delete": "Disabled",
            "policy_public": False,
            "public_access_block": {"BlockPublicAcls": True, "RestrictPublicBuckets": True},
            "encryption": [{"algorithm": "aws:kms", "bucket_key": True, "kms_key_id": None}],
            "creation_date": f"2024-01-{1 + i % 28:02d}T00:00:00",
        },
        encrypted=True,
        public=False,
    )


def _plan(n: int, drift: float) -> tuple[int, int, int]:
    """(changed every k-th, missing count, unmanaged count): drift split 80/10/10."""
    drifted = int(n * drift)
    missing = unmanaged = max(1, drifted // 10)
    changed = drifted - missing - unmanaged
    return max(1, n // max(1, changed)), missing, unmanaged


def build_store(path: str, n: int, drift: float) -> float:
    """Write the live estate (n resources, the last `unmanaged` undeclared) as one scan."""
    from driftscan.store import Store

    every, _, _ = _plan(n, drift)
    run = SourceRun("aws-bench", "aws")
    run.resources = [_live(i, i % every == 0) for i in range(n)]
    for region in REGIONS:
        run.slices.append(Slice("aws-bench", "aws", f"{ACCOUNT}/{region}/s3", "ok",
                                account=ACCOUNT, region=region, types=[TYPE]))  # fmt: skip
    run.finish()
    t = time.perf_counter()
    now = datetime.now(UTC)
    with Store(path) as st:
        st.write_scan([run], started_at=now, finished_at=now, tool_version="bench")
    return time.perf_counter() - t


def declarations(n: int, drift: float) -> list[Any]:
    """n declarations: the first n-unmanaged live buckets, plus `missing` that are not live."""
    from driftscan.desired import Declaration

    _, missing, unmanaged = _plan(n, drift)
    out = []
    for i in range(n - unmanaged):
        out.append(
            Declaration(
                key=f"arn:aws:s3:::bucket-{i:07d}", provider="aws", type=TYPE,
                source=f"desired/buckets.yaml:{i + 2}",
                declared={"versioning": "Enabled", "tags": {"team": f"t{i % 7}", "owner": "data"},
                          "encrypted": True, "public": False},
            )
        )  # fmt: skip
    for j in range(missing):
        out.append(
            Declaration(
                key=f"arn:aws:s3:::gone-{j:07d}",
                provider="aws",
                type=TYPE,
                source=f"desired/gone.yaml:{j + 2}",
                region=REGIONS[j % 2],
                declared={"versioning": "Enabled"},
            )
        )
    return out


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(path: str, n: int, drift: float, q: Any) -> None:
    """In a fresh process: build declarations, then time the drift engine end to end."""
    from driftscan.desired import DesiredSet
    from driftscan.drift import compare
    from driftscan.store import Store

    base_rss = _rss_mb()
    t = time.perf_counter()
    desired = DesiredSet(declarations(n, drift))
    t_flat = time.perf_counter()
    desired.leaves()  # load_desired flattens the parsed documents at load, as here
    t_decl = time.perf_counter() - t
    t_flat = time.perf_counter() - t_flat
    gc.collect()
    gc.freeze()  # long-lived inputs: keep the collector from rescanning them
    with Store(path) as st:
        t = time.perf_counter()
        res = compare(st, desired)
        t_diff = time.perf_counter() - t
        # The nightly case: the same declarations again, already stored content-addressed.
        t = time.perf_counter()
        compare(st, desired)
        t_again = time.perf_counter() - t
    kinds: dict[str, int] = {}
    for d in res.drifts:
        kinds[d.kind] = kinds.get(d.kind, 0) + 1
    q.put({"decl_s": t_decl, "flatten_s": t_flat, "diff_s": t_diff, "again_s": t_again, "rss_mb": _rss_mb(), "base_rss_mb": base_rss,
           "kinds": kinds, "managed_pct": res.coverage["managed_pct"]})  # fmt: skip


def baseline(n: int, drift: float, sample: int) -> float:
    """DeepDiff over the whole inventory, on `sample` resources: seconds per resource."""
    from deepdiff import DeepDiff

    from driftscan.desired.declaration import comparable

    every, _, _ = _plan(n, drift)
    live = {}
    desired = {}
    for i in range(sample):
        r = _live(i, i % every == 0)
        live[r.key] = comparable(r.attrs, r.tags, r.encrypted, r.public)
        desired[r.key] = comparable(_live(i, False).attrs, _live(i, False).tags, True, False)
    t = time.perf_counter()
    DeepDiff(desired, live)
    return (time.perf_counter() - t) / sample


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--drift", type=float, default=0.01)
    ap.add_argument("--sample", type=int, default=5_000, help="DeepDiff baseline sample size")
    args = ap.parse_args()
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.duckdb")
        print(
            f"writing {args.n:,} live resources into a store (setup, separate process) ...",
            flush=True,
        )
        with ctx.Pool(1) as pool:
            ingest_s = pool.apply(build_store, (path, args.n, args.drift))
        print(f"  setup ingest: {ingest_s:.1f} s")
        q = ctx.Queue()
        p = ctx.Process(target=measure, args=(path, args.n, args.drift, q))
        p.start()
        m = q.get()
        p.join()
    per = baseline(args.n, args.drift, args.sample)
    scaled = per * args.n
    print(f"declarations built in memory and flattened into leaves (stands for parsing, as "
          f"load_desired does; not timed): {m['decl_s']:.1f} s, of which flattening "
          f"{m['flatten_s']:.1f} s")  # fmt: skip
    print(f"diff end to end, {args.n:,} declared vs {args.n:,} live, {args.drift:.0%} drifted: "
          f"{m['diff_s']:.2f} s   (target ≤ 10 s)")  # fmt: skip
    print("  timed: declarations to Arrow, set-level comparison in SQL, attribute detail of the "
          "candidates, storing the never-seen declaration set, verdicts, drift and coverage, "
          "reading the result back")  # fmt: skip
    print(f"  found: {m['kinds']}, managed {m['managed_pct']} %")
    print(f"  same diff again with the declarations already stored (the nightly case): "
          f"{m['again_s']:.2f} s")  # fmt: skip
    print(f"peak RSS of the measuring process: {m['rss_mb']:.0f} MB   (target ≤ 2048 MB; "
          f"{m['base_rss_mb']:.0f} MB at start)")  # fmt: skip
    print(f"DeepDiff over the whole inventory: {per * 1e6:.0f} µs per resource, measured on a "
          f"{args.sample:,}-resource sample and scaled linearly to {args.n:,}: ≈ {scaled:.0f} s")  # fmt: skip
    print(f"speed-up: {scaled / m['diff_s']:.0f}×   (target ≥ 100×); counting the untimed "
          f"flattening too: {scaled / (m['diff_s'] + m['flatten_s']):.0f}×; nightly case: "
          f"{scaled / m['again_s']:.0f}×")  # fmt: skip


if __name__ == "__main__":
    main()
