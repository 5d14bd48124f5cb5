"""SSH fan-out: N fixture hosts with injected round-trip latency, scanned by the collector.

The fleet runs in a subprocess (`python -m driftscan.sandbox.hosts`), so the peak RSS printed
for the collector is the collector's alone. Baseline, measured in the same run: one host scanned
alone, warm (the per-host latency floor); the ideal fan-out time is ceil(N / concurrency) x that floor.

    python benchmarks/bench_ssh.py [--hosts 1000] [--rtt-ms 50] [--concurrency 100]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from procstat import cpu_s  # benchmarks/, beside this script

from driftscan.collect.base import run_source
from driftscan.providers.ssh import SshSource

TARGET_S = 60.0
TARGET_MB = 300.0


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _proc_hwm_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--rtt-ms", type=float, default=50.0)
    ap.add_argument(
        "--concurrency", type=int, default=100, help="the source's concurrency (default 100)"
    )
    ap.add_argument("--packages", type=int, default=400, help="packages per host (output size)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-ssh-") as d:
        t0 = time.monotonic()
        fleet = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "driftscan.sandbox.hosts",
                "--hosts",
                str(args.hosts),
                "--rtt-ms",
                str(args.rtt_ms),
                "--packages",
                str(args.packages),
                "--dir",
                d,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert fleet.stdout is not None and fleet.stdin is not None
            line = fleet.stdout.readline()
            if not line.startswith("READY "):
                print(f"fleet failed to start: {line!r}", file=sys.stderr)
                return 2
            data = json.loads(Path(line.split(" ", 1)[1].strip()).read_text())
            data["concurrency"] = args.concurrency
            data["timeout_s"] = 30
            cfg = SshSource.model_validate(data)
            print(
                f"fleet: {args.hosts} hosts up in {time.monotonic() - t0:.1f} s (pid {fleet.pid})"
            )

            rss_before = _rss_mb()
            # Baseline: one host alone, warm (the first connection of a process pays for imports).
            solo = cfg.model_copy(update={"hosts": cfg.hosts[:1], "name": "baseline"})
            floor = min(run_source(solo).duration_s for _ in range(3))
            cpu0, fleet_cpu0 = _cpu_s(), cpu_s(fleet.pid)
            run = run_source(cfg)
            cpu = _cpu_s() - cpu0
            fleet_cpu1 = cpu_s(fleet.pid)
            fleet_cpu = (
                fleet_cpu1 - fleet_cpu0
                if fleet_cpu0 is not None and fleet_cpu1 is not None
                else None
            )
            rss_peak = _rss_mb()
            fleet_mb = _proc_hwm_mb(fleet.pid)
        finally:
            if fleet.stdin:
                fleet.stdin.close()
            fleet.wait(30)

    ok = sum(1 for s in run.slices if s.status == "ok")
    failed = [s for s in run.slices if s.status != "ok"]
    wall = run.duration_s
    ideal = math.ceil(args.hosts / args.concurrency) * floor
    facts = sum(len(r.attrs.get("packages") or {}) for r in run.resources)
    print(
        f"hosts:            {args.hosts} at {args.rtt_ms:g} ms RTT, concurrency {args.concurrency}"
    )
    why = f": {failed[0].reason} ({failed[0].detail})" if failed else ""
    print(f"hosts ok:         {ok} ({len(failed)} failed{why})")
    print(f"package facts:    {facts}")
    print(
        f"baseline:         one host alone {floor:.3f} s (≈ {floor / max(args.rtt_ms / 1000, 1e-9):.1f} RTTs)"
    )
    print(
        f"wall:             {wall:.2f} s  (target ≤ {TARGET_S:g} s: {'met' if wall <= TARGET_S else 'MISSED'})"
    )
    print(f"ideal fan-out:    {ideal:.2f} s  → wall / ideal = {wall / ideal:.2f}x")
    print(f"throughput:       {args.hosts / wall:.1f} hosts/s")
    print(
        f"CPU during scan:  collector {cpu:.1f} s ({1000 * cpu / args.hosts:.1f} ms/host)", end=""
    )
    print(f", fleet {fleet_cpu:.1f} s" if fleet_cpu is not None else "")
    print(
        f"collector RSS:    peak {rss_peak:.0f} MB (before scan {rss_before:.0f} MB; "
        f"target ≤ {TARGET_MB:g} MB: {'met' if rss_peak <= TARGET_MB else 'MISSED'})"
    )
    if fleet_mb is not None:
        print(f"fleet RSS:        peak {fleet_mb:.0f} MB (separate process, not counted above)")
    return 0 if not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
