"""Kubernetes collection: N pods in M namespaces with their owners, read from the API emulator.

The emulator runs in a subprocess (`python -m driftscan.sandbox.k8s`), so the peak RSS printed is
the collector's alone. Baseline, measured in the same run: the cluster-wide pod list fetched
page by page with the official client and parsed, nothing built (the transport floor).

    python benchmarks/bench_k8s.py [--pods 10000] [--namespaces 200]

Targets (design §4): the whole cluster in ≤ 10 s and ≤ 400 MB.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from driftscan.collect.base import run_source
from driftscan.providers.kubernetes import KubernetesSource
from driftscan.providers.kubernetes.collect.client import KubeClient

TARGET_S = 10.0
TARGET_MB = 400.0


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--pods", type=int, default=10_000)
    ap.add_argument("--namespaces", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        kc = Path(tmp) / "kubeconfig"
        server = subprocess.Popen(
            [sys.executable, "-m", "driftscan.sandbox.k8s", "--kubeconfig", str(kc),
             "--pods", str(args.pods), "--namespaces", str(args.namespaces)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert server.stdout is not None
            print(server.stdout.readline().strip())
            src = KubernetesSource(name="bench", type="kubernetes", kubeconfig=str(kc))
            client = KubeClient(src)
            t = time.perf_counter()
            pods, _ = client.list("/api/v1/pods")
            floor = time.perf_counter() - t
            client.close()
            rss_before = _rss_mb()
            t = time.perf_counter()
            run = run_source(src)
            took = time.perf_counter() - t
            rss_peak = _rss_mb()
        finally:
            server.terminate()
            server.wait(timeout=10)
    n = len(run.resources)
    n_pods = sum(1 for r in run.resources if r.type == "Pod")
    failed = [s for s in run.slices if s.status == "failed"]
    ok_time = took <= TARGET_S
    ok_mem = rss_peak <= TARGET_MB
    print(
        f"cluster:          {n_pods} pods, {n} objects in {args.namespaces} namespaces ({run.status})"
    )
    print(f"collect:          {took:.2f} s, {n / took:,.0f} objects/s "
          f"(target ≤ {TARGET_S:g} s: {'met' if ok_time else 'MISSED'})")  # fmt: skip
    print(
        f"baseline:         pod list alone {floor:.2f} s for {len(pods)} pods ({took / floor:.1f}x)"
    )
    print(f"collector RSS:    peak {rss_peak:.0f} MB (before scan {rss_before:.0f} MB; "
          f"target ≤ {TARGET_MB:g} MB: {'met' if ok_mem else 'MISSED'})")  # fmt: skip
    if failed or n_pods != len(pods):
        print(f"INCOMPLETE: {len(failed)} failed slices, {n_pods} of {len(pods)} pods")
        return 1
    return 0 if ok_time and ok_mem else 1


if __name__ == "__main__":
    sys.exit(main())
