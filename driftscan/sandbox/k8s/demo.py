"""The Kubernetes part of `driftscan demo`: the demo cluster, its manifests and its incidents."""

from __future__ import annotations

from pathlib import Path

from driftscan.sandbox.demo import DemoPart, Incident
from driftscan.sandbox.k8s.emulator import KubeEmulator
from driftscan.sandbox.k8s.estate import demo_cluster, write_manifests

SOURCE = "k8s-sandbox"


def start(workdir: Path) -> DemoPart:
    """Serve the demo cluster over HTTPS and describe how the demo scans it."""
    workdir.mkdir(parents=True, exist_ok=True)
    objects, seeded = demo_cluster()
    kube = KubeEmulator(objects, ca_dir=workdir / "kube-ca").start()
    try:
        kubeconfig = kube.kubeconfig(workdir / "kubeconfig")
        manifests = write_manifests(workdir / "manifests")
    except BaseException:
        kube.stop()
        raise
    return DemoPart(
        sources=[{"name": SOURCE, "type": "kubernetes", "kubeconfig": str(kubeconfig)}],
        desired=[{"kubernetes": str(manifests)}],
        incidents=[Incident(f"{i.what} (Kubernetes)", i.rule, i.key(SOURCE)) for i in seeded],
        stop=kube.stop,
    )
