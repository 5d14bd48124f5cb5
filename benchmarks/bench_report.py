"""Report benchmark: time and peak RSS (parent and PDF child) for 1k and 5k findings, all formats.

Each size runs in a fresh interpreter so its peak RSS, and its PDF child's, are its own.
Targets (design §4): 1,000 findings HTML + PDF ≤ 10 s; 5,000 ≤ 45 s and ≤ 700 MB.
Usage: python benchmarks/bench_report.py [--sizes 1000,5000] [--failing-share 0.2]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {1000: (10.0, None), 5000: (45.0, 700.0)}


def one(n: int, failing_share: float) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from driftscan.report import write_report
    from tests.report.factory import make_report_data

    data = make_report_data(n)
    assert data.findings is not None
    if failing_share > 0.2:
        # Stress: turn passing rows into alarms until the share of full rows is reached.
        want = int(n * failing_share)
        full = sum(1 for f in data.findings if f.status != "ok")
        for f in data.findings:
            if full >= want:
                break
            if f.status == "ok":
                f.status, f.reason, full = "alarm", "bucket is not encrypted", full + 1
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        res = write_report(data, Path(tmp), ["html", "pdf", "json", "csv"], passing_limit=500)
        elapsed = time.perf_counter() - t0
        sizes = {k: p.stat().st_size for k, p in res.artifacts.items()}
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    self_mb, child_mb = me.ru_maxrss / 1024, kids.ru_maxrss / 1024
    # CPU seconds of both processes: the figure that does not move when the machine is busy.
    cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    return {
        "findings": n,
        "seconds": round(elapsed, 2),
        "cpu_seconds": round(cpu, 2),
        "parent_peak_mb": round(self_mb, 1),
        "pdf_child_peak_mb": round(child_mb, 1),
        "pdf_kb": round(sizes["report.pdf"] / 1024, 1),
        "html_kb": round(sizes["report.html"] / 1024, 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,5000")
    ap.add_argument("--failing-share", type=float, default=0.2)
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.failing_share)))
        return 0
    ok = True
    print(f"report benchmark (failing/not-assessed share {args.failing_share:.0%}, "
          "PDF passing limit 500; formats html, pdf, json, csv)")  # fmt: skip
    for n in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n), "--failing-share", str(args.failing_share)],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        r = json.loads(out.strip().splitlines()[-1])
        # Parent and child do not peak together (the parent waits while the child lays out),
        # so the larger of the two is the process tree's peak; the sum is an upper bound.
        peak = max(r["parent_peak_mb"], r["pdf_child_peak_mb"])
        t_max, mb_max = TARGETS.get(n, (None, None))
        verdict = []
        if t_max is not None:
            verdict.append(f"time {'ok' if r['seconds'] <= t_max else 'OVER'} (≤ {t_max:.0f} s)")
            ok &= r["seconds"] <= t_max
        if mb_max is not None:
            verdict.append(f"RSS {'ok' if peak <= mb_max else 'OVER'} (≤ {mb_max:.0f} MB)")
            ok &= peak <= mb_max
        print(
            f"{n:>6} findings: {r['seconds']:6.2f} s wall, {r['cpu_seconds']:5.2f} s CPU  parent peak {r['parent_peak_mb']:6.1f} MB  "
            f"PDF child peak {r['pdf_child_peak_mb']:6.1f} MB  (sum {r['parent_peak_mb'] + r['pdf_child_peak_mb']:.0f} MB)  "
            f"pdf {r['pdf_kb']:.0f} KB  html {r['html_kb']:.0f} KB  " + "; ".join(verdict)
        )  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
