"""10,000 unreachable SSH sources through `driftscan scan`: wall time, not-assessed count, peak RSS.

Every source is one host at 127.0.0.1 on a port with nothing listening (connection refused at
once), with a throwaway client key and a known_hosts file made for the run. The scan runs in a
fresh interpreter; its peak RSS is read from wait4, so it is that process's alone. Baseline,
measured in the same run: the same config cut to --baseline sources (the per-source floor).
Target (issue 11, item 8): it finishes, every source is recorded as not assessed, peak RSS ≤ 1 GB.

    python benchmarks/bench_sources.py [--sources 10000] [--concurrency 32] [--baseline 100]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import asyncssh

from driftscan.store import Store

TARGET_MB = 1024.0


def _closed_port() -> int:
    """A loopback port with nothing listening: bound, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _write_config(d: Path, n: int, concurrency: int, port: int) -> Path:
    key = asyncssh.generate_private_key("ssh-ed25519")
    key_file = d / "client_ed25519"
    key.write_private_key(str(key_file))
    key_file.chmod(0o600)
    host_key = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
    kh = d / "known_hosts"
    kh.write_text(f"[127.0.0.1]:{port} {host_key}\n")
    lines = [f"store: {d / 'bench.duckdb'}", f"concurrency: {concurrency}", "sources:"]
    for i in range(n):
        name = f"dc{i:05d}"
        lines.append(
            f"  - {{name: {name}, type: ssh, user: bench, key_file: {key_file}, "
            f"known_hosts: {kh}, timeout_s: 5, "
            f"hosts: [{{name: {name}, address: 127.0.0.1, port: {port}}}]}}"
        )
    cfg = d / f"driftscan-{n}.yaml"
    cfg.write_text("\n".join(lines) + "\n")
    return cfg


def _scan(cfg: Path, timeout_s: float) -> dict[str, float | int | bool]:
    """Run `driftscan scan -c cfg` in a fresh interpreter; its wall time, exit code and peak RSS."""
    t0 = time.monotonic()
    with open(cfg.with_suffix(".log"), "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "driftscan", "scan", "-c", str(cfg)],
            cwd=cfg.parent,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        timer = threading.Timer(timeout_s, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall_s": time.monotonic() - t0,
        "exit": proc.returncode,
        "finished": proc.returncode >= 0,
        "rss_mb": usage.ru_maxrss / 1024,  # KiB on Linux
        "cpu_s": usage.ru_utime + usage.ru_stime,
    }


def _not_assessed(store: Path) -> tuple[int, int, dict[str, int]]:
    """(sources recorded, sources not assessed, their reasons) of the newest scan in the store."""
    with Store(store) as st:
        [rec] = st.scans(limit=1)
        runs = st.source_runs(rec.scan_id)
    failed = [r for r in runs if r["status"] != "ok"]
    return len(runs), len(failed), dict(Counter(str(r["reason"]) for r in failed))


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sources", type=int, default=10_000)
    ap.add_argument("--concurrency", type=int, default=32, help="top-level `concurrency:`")
    ap.add_argument("--baseline", type=int, default=100, help="sources in the baseline scan")
    ap.add_argument("--timeout", type=float, default=900.0, help="kill the scan after this")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-sources-") as tmp:
        d = Path(tmp)
        port = _closed_port()
        results = {}
        for n in (args.baseline, args.sources):
            run_dir = d / str(n)
            run_dir.mkdir()
            cfg = _write_config(run_dir, n, args.concurrency, port)
            r = _scan(cfg, args.timeout)
            recorded, failed, why = (
                _not_assessed(run_dir / "bench.duckdb") if r["finished"] else (0, 0, {})
            )
            results[n] = {**r, "recorded": recorded, "not_assessed": failed, "reasons": why}
            if not r["finished"]:
                tail = cfg.with_suffix(".log").read_text()[-1500:]
                print(f"{n} sources: killed after {args.timeout:g} s\n{tail}", file=sys.stderr)

    base, big = results[args.baseline], results[args.sources]
    # Both runs pay the same start-up (imports, config, store), so the difference is the cost
    # of the extra sources alone.
    extra = args.sources - args.baseline
    per_source_ms = 1000 * (float(big["wall_s"]) - float(base["wall_s"])) / extra
    per_1000_mb = 1000 * (float(big["rss_mb"]) - float(base["rss_mb"])) / extra
    ok = bool(big["finished"]) and big["not_assessed"] == args.sources
    ok &= float(big["rss_mb"]) <= TARGET_MB
    print(f"sources:          {args.sources} SSH, one unreachable host each (127.0.0.1:{port}), "
          f"concurrency {args.concurrency}")  # fmt: skip
    print(f"finished:         {'yes' if big['finished'] else 'NO'} (exit {big['exit']}; "
          "3 = incomplete, the expected code)")  # fmt: skip
    print(f"not assessed:     {big['not_assessed']} of {big['recorded']} recorded "
          f"(target: all {args.sources}); reasons {big['reasons']}")  # fmt: skip
    print(f"wall:             {float(big['wall_s']):.1f} s (CPU {float(big['cpu_s']):.1f} s); "
          f"baseline {args.baseline} sources {float(base['wall_s']):.1f} s")  # fmt: skip
    print(f"per extra source: {per_source_ms:.1f} ms wall, {per_1000_mb:.1f} MB RSS per 1,000")
    print(f"peak RSS:         {float(big['rss_mb']):.0f} MB (baseline {float(base['rss_mb']):.0f} MB; "
          f"target ≤ {TARGET_MB:g} MB: {'met' if float(big['rss_mb']) <= TARGET_MB else 'MISSED'})")  # fmt: skip
    print(json.dumps({str(k): v for k, v in results.items()}), file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
