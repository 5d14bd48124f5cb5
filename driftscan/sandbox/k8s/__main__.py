"""Serve a sandbox cluster until stopped: `python -m driftscan.sandbox.k8s --kubeconfig PATH`."""

from __future__ import annotations

import argparse
import signal
import sys

from driftscan.sandbox.https import serve_until_interrupted
from driftscan.sandbox.k8s.emulator import KubeEmulator
from driftscan.sandbox.k8s.estate import cis_objects, demo_cluster, large_cluster


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--kubeconfig", required=True, help="where to write the kubeconfig")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--pods", type=int, default=0, help="serve a large cluster of this many pods")
    ap.add_argument("--namespaces", type=int, default=200)
    ap.add_argument(
        "--cis", action="store_true", help="add the CIS rules' passing and failing objects"
    )
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    objs = large_cluster(args.pods, args.namespaces) if args.pods else demo_cluster()[0]
    if args.cis:
        objs += cis_objects()
    with KubeEmulator(objs, port=args.port) as kube:
        kube.kubeconfig(args.kubeconfig)
        print(
            f"serving {len(objs)} objects at {kube.url}; kubeconfig {args.kubeconfig}", flush=True
        )
        serve_until_interrupted()


if __name__ == "__main__":
    main()
