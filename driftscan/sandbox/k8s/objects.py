"""Builders of Kubernetes objects as the API server returns them (status, owners, defaults)."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

CREATED = "2026-11-01T08:00:00Z"
_NS_UUID = uuid.UUID("6b1c1c5e-8f0a-4c55-9f3e-2f6a1d0c0001")


def uid(*parts: str) -> str:
    """A stable uid for an object (the same estate gives the same uids)."""
    return str(uuid.uuid5(_NS_UUID, "/".join(parts)))


def digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def meta(
    kind: str,
    name: str,
    namespace: str | None = None,
    *,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    owner: tuple[str, str, str] | None = None,  # (apiVersion, kind, name) of the controller
    generation: int | None = None,
) -> dict[str, Any]:
    m: dict[str, Any] = {
        "name": name,
        "uid": uid(kind, namespace or "", name),
        "creationTimestamp": CREATED,
    }
    if namespace:
        m["namespace"] = namespace
    if labels:
        m["labels"] = dict(labels)
    if annotations:
        m["annotations"] = dict(annotations)
    if generation is not None:
        m["generation"] = generation
    if owner is not None:
        api, okind, oname = owner
        m["ownerReferences"] = [
            {"apiVersion": api, "kind": okind, "name": oname, "uid": uid(okind, namespace or "", oname),
             "controller": True, "blockOwnerDeletion": True}
        ]  # fmt: skip
    # What a real server adds and a collector must leave out of the document.
    m["managedFields"] = [{"manager": "kubectl", "operation": "Apply", "time": CREATED}]
    return m


def namespace(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "kind": "Namespace",
        "metadata": meta(
            "Namespace", name, labels={"kubernetes.io/metadata.name": name, **(labels or {})}
        ),
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def node(name: str, version: str = "v1.31.2", *, ready: bool = True,
         taints: list[dict[str, str]] | None = None) -> dict[str, Any]:  # fmt: skip
    spec: dict[str, Any] = {"podCIDR": "10.244.0.0/24"}
    if taints:
        spec["taints"] = taints
    return {
        "kind": "Node",
        "metadata": meta("Node", name, labels={"kubernetes.io/hostname": name}),
        "spec": spec,
        "status": {
            "capacity": {"cpu": "4", "memory": "16374652Ki", "pods": "110"},
            "allocatable": {"cpu": "3800m", "memory": "15850364Ki", "pods": "110"},
            "conditions": [
                {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory",
                 "lastHeartbeatTime": datetime.now(UTC).isoformat(), "lastTransitionTime": CREATED},
                {"type": "Ready", "status": "True" if ready else "False",
                 "reason": "KubeletReady" if ready else "KubeletNotReady",
                 "lastHeartbeatTime": datetime.now(UTC).isoformat(), "lastTransitionTime": CREATED},
            ],
            "nodeInfo": {"kubeletVersion": version, "kubeProxyVersion": version,
                         "containerRuntimeVersion": "containerd://1.7.22", "osImage": "Debian GNU/Linux 12",
                         "architecture": "amd64", "operatingSystem": "linux", "kernelVersion": "6.1.0-27-amd64",
                         "bootID": uid("boot", name), "machineID": uid("machine", name).replace("-", ""),
                         "systemUUID": uid("system", name)},
            "images": [{"names": ["registry.k8s.io/pause:3.10"], "sizeBytes": 320368}],
        },
    }  # fmt: skip


def container(name: str, image: str, **kw: Any) -> dict[str, Any]:
    c: dict[str, Any] = {
        "name": name, "image": image,
        "imagePullPolicy": "IfNotPresent" if ":" in image.rsplit("/", 1)[-1] else "Always",
        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
    }  # fmt: skip
    c.update(kw)
    return c


def pod_spec(containers: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "containers": containers, "restartPolicy": "Always", "dnsPolicy": "ClusterFirst",
        "serviceAccountName": "default", "terminationGracePeriodSeconds": 30, "schedulerName": "default-scheduler",
    }  # fmt: skip
    spec.update(kw)
    return spec


def pod(
    ns: str,
    name: str,
    image: str,
    image_id: str,
    *,
    owner: tuple[str, str, str] | None = None,
    node_name: str = "node-1",
    phase: str = "Running",
    ready: bool = True,
    restarts: int = 0,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    spec: dict[str, Any] | None = None,
    container_name: str = "app",
) -> dict[str, Any]:
    s = spec or pod_spec([container(container_name, image)])
    s = {**s, "nodeName": node_name}
    status_containers = [
        {"name": c["name"], "image": c["image"],
         "imageID": image_id if i == 0 else f"{c['image'].split('@')[0].split(':')[0]}@{digest(c['image'])}",
         "ready": ready and phase == "Running", "restartCount": restarts, "started": phase == "Running",
         "state": {"running": {"startedAt": CREATED}} if phase == "Running" else {"waiting": {"reason": "ContainerCreating"}}}
        for i, c in enumerate(s["containers"])
    ]  # fmt: skip
    return {
        "kind": "Pod",
        "metadata": meta("Pod", name, ns, labels=labels, annotations=annotations, owner=owner),
        "spec": s,
        "status": {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False", "lastProbeTime": None,
                            "lastTransitionTime": CREATED}],
            "hostIP": "10.0.0.11", "podIP": "10.244.0.17", "startTime": CREATED, "qosClass": "Burstable",
            "containerStatuses": status_containers,
        },
    }  # fmt: skip


def template_hash(name: str, revision: int, image: str) -> str:
    return hashlib.sha256(f"{name}/{revision}/{image}".encode()).hexdigest()[:10]


def deployment(
    ns: str,
    name: str,
    image: str,
    *,
    replicas: int = 2,
    ready: int | None = None,
    revision: int = 1,
    labels: dict[str, str] | None = None,
    spec: dict[str, Any] | None = None,
) -> dict[str, Any]:
    ready = replicas if ready is None else ready
    sel = {"app": name}
    return {
        "kind": "Deployment",
        "metadata": meta("Deployment", name, ns, labels={**sel, **(labels or {})}, generation=revision,
                         annotations={"deployment.kubernetes.io/revision": str(revision)}),
        "spec": {
            "replicas": replicas, "selector": {"matchLabels": sel}, "revisionHistoryLimit": 10,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {"metadata": {"labels": sel}, "spec": spec or pod_spec([container("app", image)])},
        },
        "status": {
            "observedGeneration": revision, "replicas": replicas, "updatedReplicas": replicas,
            "readyReplicas": ready, "availableReplicas": ready,
            **({"unavailableReplicas": replicas - ready} if ready < replicas else {}),
            "conditions": [{"type": "Available", "status": "True" if ready == replicas else "False",
                            "reason": "MinimumReplicasAvailable" if ready == replicas else "MinimumReplicasUnavailable",
                            "lastUpdateTime": CREATED, "lastTransitionTime": CREATED}],
        },
    }  # fmt: skip


def replicaset(ns: str, deploy: str, revision: int, image: str, *, replicas: int, ready: int | None = None,
               spec: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    h = template_hash(deploy, revision, image)
    labels = {"app": deploy, "pod-template-hash": h}
    ready = replicas if ready is None else ready
    return {
        "kind": "ReplicaSet",
        "metadata": meta("ReplicaSet", f"{deploy}-{h}", ns, labels=labels,
                         annotations={"deployment.kubernetes.io/revision": str(revision)},
                         owner=("apps/v1", "Deployment", deploy)),
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": spec or pod_spec([container("app", image)])}},
        "status": {"replicas": replicas, "readyReplicas": ready, "availableReplicas": ready, "fullyLabeledReplicas": replicas},
    }  # fmt: skip


def workload(
    ns: str,
    name: str,
    image: str,
    image_id: str,
    *,
    replicas: int = 2,
    ready: int | None = None,
    revision: int = 1,
    labels: dict[str, str] | None = None,
    nodes: tuple[str, ...] = ("node-1", "node-2"),
    spec: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """A Deployment, its current ReplicaSet (and an emptied older one) and its pods."""
    ready = replicas if ready is None else ready
    out = [
        deployment(
            ns,
            name,
            image,
            replicas=replicas,
            ready=ready,
            revision=revision,
            labels=labels,
            spec=spec,
        )
    ]
    rs = replicaset(ns, name, revision, image, replicas=replicas, ready=ready, spec=spec)
    out.append(rs)
    if revision > 1:
        out.append(replicaset(ns, name, revision - 1, image, replicas=0, spec=spec))
    h = template_hash(name, revision, image)
    for i in range(replicas):
        out.append(
            pod(ns, f"{name}-{h}-{i:05d}", image, image_id, owner=("apps/v1", "ReplicaSet", f"{name}-{h}"),
                node_name=nodes[i % len(nodes)], ready=i < ready, labels={"app": name, "pod-template-hash": h},
                spec=spec)
        )  # fmt: skip
    return out


def service(ns: str, name: str, *, selector: dict[str, str] | None = None, port: int = 80,
            type: str = "ClusterIP") -> dict[str, Any]:  # fmt: skip
    spec: dict[str, Any] = {
        "type": type, "ports": [{"name": "http", "port": port, "targetPort": 8080, "protocol": "TCP"}],
        "clusterIP": "10.96.0.10", "sessionAffinity": "None",
    }  # fmt: skip
    if selector is not None:
        spec["selector"] = selector
    return {
        "kind": "Service",
        "metadata": meta("Service", name, ns, labels={"app": name}),
        "spec": spec,
        "status": {},
    }


def endpointslice(ns: str, svc: str, *, ready: int, not_ready: int = 0) -> dict[str, Any]:
    eps = [
        {"addresses": [f"10.244.1.{i}"], "conditions": {"ready": i < ready}}
        for i in range(ready + not_ready)
    ]
    return {
        "kind": "EndpointSlice",
        "metadata": meta(
            "EndpointSlice", f"{svc}-x1", ns, labels={"kubernetes.io/service-name": svc}
        ),
        "addressType": "IPv4",
        "endpoints": eps,
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
    }


def ingress(
    ns: str, name: str, host: str, service_name: str, tls_secret: str | None = None
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "ingressClassName": "nginx",
        "rules": [{"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix",
                   "backend": {"service": {"name": service_name, "port": {"number": 80}}}}]}}],
    }  # fmt: skip
    if tls_secret:
        spec["tls"] = [{"hosts": [host], "secretName": tls_secret}]
    return {"kind": "Ingress", "metadata": meta("Ingress", name, ns), "spec": spec, "status": {}}


def configmap(ns: str, name: str, data: dict[str, str]) -> dict[str, Any]:
    return {"kind": "ConfigMap", "metadata": meta("ConfigMap", name, ns), "data": dict(data)}


def _b64(v: str | bytes) -> str:
    return base64.b64encode(v.encode() if isinstance(v, str) else v).decode()


def secret(ns: str, name: str, data: dict[str, str], *, type: str = "Opaque",
           annotations: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "kind": "Secret", "type": type,
        "metadata": meta("Secret", name, ns, annotations=annotations),
        "data": {k: _b64(v) for k, v in data.items()},
    }  # fmt: skip


def tls_secret(ns: str, name: str, common_name: str, days_left: float) -> dict[str, Any]:
    """A `kubernetes.io/tls` Secret with a self-signed certificate valid for `days_left` more days."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(int(hashlib.sha256(name.encode()).hexdigest()[:16], 16))
        .not_valid_before(now - timedelta(days=60))
        .not_valid_after(now + timedelta(days=days_left))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    crt = cert.public_bytes(serialization.Encoding.PEM)
    pem_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return {
        "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": meta("Secret", name, ns),
        "data": {"tls.crt": _b64(crt), "tls.key": _b64(pem_key)},
    }  # fmt: skip


def service_account(ns: str, name: str = "default") -> dict[str, Any]:
    return {"kind": "ServiceAccount", "metadata": meta("ServiceAccount", name, ns)}


def cluster_role(name: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {"kind": "ClusterRole", "metadata": meta("ClusterRole", name), "rules": rules}


def role(ns: str, name: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {"kind": "Role", "metadata": meta("Role", name, ns), "rules": rules}


def subject(kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
    s: dict[str, Any] = {"kind": kind, "name": name}
    if kind == "ServiceAccount":
        s["namespace"] = namespace or "default"
    else:
        s["apiGroup"] = "rbac.authorization.k8s.io"
    return s


def cluster_role_binding(
    name: str, role_name: str, subjects: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "kind": "ClusterRoleBinding", "metadata": meta("ClusterRoleBinding", name),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role_name},
        "subjects": subjects,
    }  # fmt: skip


def role_binding(
    ns: str, name: str, role_kind: str, role_name: str, subjects: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "kind": "RoleBinding", "metadata": meta("RoleBinding", name, ns),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name},
        "subjects": subjects,
    }  # fmt: skip


def network_policy(ns: str, name: str) -> dict[str, Any]:
    return {
        "kind": "NetworkPolicy", "metadata": meta("NetworkPolicy", name, ns),
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"],
                 "ingress": [{"ports": [{"port": 8080, "protocol": "TCP"}]}]},
    }  # fmt: skip


def cronjob(ns: str, name: str, image: str, schedule: str = "0 3 * * *") -> dict[str, Any]:
    return {
        "kind": "CronJob", "metadata": meta("CronJob", name, ns),
        "spec": {"schedule": schedule, "concurrencyPolicy": "Forbid", "suspend": False,
                 "jobTemplate": {"spec": {"template": {"spec": pod_spec([container("job", image)], restartPolicy="OnFailure")}}}},
        "status": {"lastScheduleTime": CREATED},
    }  # fmt: skip


def job(ns: str, name: str, image: str, *, owner_cronjob: str | None = None) -> dict[str, Any]:
    return {
        "kind": "Job",
        "metadata": meta("Job", name, ns, owner=("batch/v1", "CronJob", owner_cronjob) if owner_cronjob else None),
        "spec": {"completions": 1, "parallelism": 1, "backoffLimit": 6,
                 "template": {"spec": pod_spec([container("job", image)], restartPolicy="OnFailure")}},
        "status": {"succeeded": 1, "startTime": CREATED, "completionTime": CREATED},
    }  # fmt: skip


def persistent_volume(
    name: str, size: str = "10Gi", storage_class: str = "standard"
) -> dict[str, Any]:
    return {
        "kind": "PersistentVolume", "metadata": meta("PersistentVolume", name),
        "spec": {"capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"],
                 "persistentVolumeReclaimPolicy": "Delete", "storageClassName": storage_class},
        "status": {"phase": "Bound"},
    }  # fmt: skip


def persistent_volume_claim(ns: str, name: str, volume: str, size: str = "10Gi",
                            storage_class: str = "standard") -> dict[str, Any]:  # fmt: skip
    return {
        "kind": "PersistentVolumeClaim", "metadata": meta("PersistentVolumeClaim", name, ns),
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}},
                 "storageClassName": storage_class, "volumeName": volume},
        "status": {"phase": "Bound", "capacity": {"storage": size}},
    }  # fmt: skip


def statefulset(
    ns: str, name: str, image: str, image_id: str, *, replicas: int = 1
) -> list[dict[str, Any]]:
    """A StatefulSet and its pods (`<name>-0` ...)."""
    sel = {"app": name}
    spec = pod_spec([container("db", image)])
    sts = {
        "kind": "StatefulSet",
        "metadata": meta("StatefulSet", name, ns, labels=sel, generation=1),
        "spec": {"replicas": replicas, "serviceName": name, "selector": {"matchLabels": sel},
                 "template": {"metadata": {"labels": sel}, "spec": spec}, "podManagementPolicy": "OrderedReady"},
        "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas,
                   "currentReplicas": replicas, "updatedReplicas": replicas, "observedGeneration": 1},
    }  # fmt: skip
    pods = [
        pod(ns, f"{name}-{i}", image, image_id, owner=("apps/v1", "StatefulSet", name), labels=sel, spec=spec,
            container_name="db")
        for i in range(replicas)
    ]  # fmt: skip
    return [sts, *pods]
