"""One comparable shape for live objects and manifests: keyed lists, canonical quantities, secrets
as fingerprints.

Both sides of a Kubernetes comparison pass through `document()`, so a declared manifest and
the live object meet in the same shape, as Argo CD compares them:

- lists whose elements carry a merge key become mappings by that key (`containers` by name,
  ports by `<port>/<protocol>`, volume mounts by mount path), so a manifest that names one
  field of one container compares only that field;
- quantities are canonical decimals (`1000m` and `1` are both `"1"`, `512Mi` and `524288Ki`
  both `"536870912"`);
- Secret data, ConfigMap values, container `env` values and the last-applied annotation are
  keyed fingerprints (design §1.3): drift stays visible, no value is ever stored;
- a manifest gets the server's defaults for what it leaves out (`replicas: 1`, a port's
  `protocol: TCP`, a container's `imagePullPolicy`).
"""

from __future__ import annotations

import base64
import binascii
import copy
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from driftscan.redaction import Fingerprinter, is_fingerprint, redact_tree

Fingerprint = Fingerprinter

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
MIRROR = "kubernetes.io/config.mirror"

# Merge keys of the lists that have one (the strategic-merge-patch keys of the API).
_BY_NAME = frozenset(
    {
        "containers", "initContainers", "ephemeralContainers", "volumes", "env",
        "imagePullSecrets", "containerStatuses", "initContainerStatuses",
        "ephemeralContainerStatuses",
    }
)  # fmt: skip
_BY_FIELD = {
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "conditions": "type",
    "hostAliases": "ip",
}
# Mappings whose values are quantities (container resources, node capacity, PVC requests).
_QUANTITY_MAPS = frozenset({"requests", "limits", "capacity", "allocatable", "hard", "used"})
_QUANTITY_FIELDS = frozenset({"sizeLimit", "storage"})

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
    "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
    "P": Decimal("1e15"), "E": Decimal("1e18"),
}  # fmt: skip

# Fields that change on every read without anything having changed: kept out of the document.
_VOLATILE_META = frozenset({"resourceVersion", "managedFields", "selfLink", "name", "labels"})
_VOLATILE_CONDITION = frozenset({"lastHeartbeatTime", "lastProbeTime"})


def quantity(value: Any) -> Any:
    """A Kubernetes quantity as a canonical decimal string; anything else unchanged."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return value
    text = str(value).strip()
    number, factor = text, Decimal(1)
    for suffix, mult in _BINARY.items():
        if text.endswith(suffix):
            number, factor = text[: -len(suffix)], Decimal(mult)
            break
    else:
        if text and text[-1] in _DECIMAL and not text[-1].isdigit():
            # `E` alone is exa, but `1e3` / `1E3` is an exponent: Decimal reads those whole.
            try:
                Decimal(text)
            except InvalidOperation:
                number, factor = text[:-1], _DECIMAL[text[-1]]
    try:
        d = Decimal(number) * factor
    except InvalidOperation:
        return value
    if not d.is_finite():
        return value
    out = format(d.normalize(), "f")
    return out.rstrip("0").rstrip(".") if "." in out else out


def _port_key(item: dict[str, Any]) -> str | None:
    port = item.get("containerPort", item.get("port"))
    if port is None:
        return None
    return f"{port}/{item.get('protocol') or 'TCP'}"


def _merge_key(field: str, item: Any) -> str | None:
    if not isinstance(item, dict):
        return None
    if field in _BY_NAME:
        v = item.get("name")
    elif field in _BY_FIELD:
        v = item.get(_BY_FIELD[field])
    elif field == "ports":
        v = _port_key(item)
    else:
        return None
    return None if v is None else str(v)


def keyed(value: Any, field: str = "") -> Any:
    """Lists with a merge key become mappings by that key, recursively; quantities canonical.

    A list with an element lacking its key, or with a key twice, stays a list (compared whole).
    """
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if k in _QUANTITY_MAPS and isinstance(v, dict):
                out[k] = {qk: quantity(qv) for qk, qv in v.items()}
            elif k in _QUANTITY_FIELDS and not isinstance(v, dict | list):
                out[k] = quantity(v)
            else:
                out[k] = keyed(v, k)
        return out
    if isinstance(value, list):
        keys = [_merge_key(field, item) for item in value]
        if value and all(k is not None for k in keys) and len(set(keys)) == len(keys):
            return {
                str(k): keyed(
                    {**item, "protocol": item.get("protocol") or "TCP"}
                    if field == "ports"
                    else item,
                    field,
                )
                for k, item in zip(keys, value, strict=True)
            }
        return [keyed(item, field) for item in value]
    return value


def _fingerprint_env(spec: Any, fp: Fingerprint) -> None:
    """Container env values (literal `value`s) become fingerprints, in place, everywhere below."""
    if isinstance(spec, dict):
        for k, v in spec.items():
            if k == "env" and isinstance(v, dict):
                for entry in v.values():
                    if isinstance(entry, dict) and isinstance(entry.get("value"), str):
                        val = entry["value"]
                        entry["value"] = val if is_fingerprint(val) else fp(val)
            else:
                _fingerprint_env(v, fp)
    elif isinstance(spec, list):
        for item in spec:
            _fingerprint_env(item, fp)


def _fingerprint_values(data: Any, fp: Fingerprint) -> Any:
    if not isinstance(data, dict):
        return None if data is None else fp(str(data))
    return {str(k): None if v is None else fp(str(v)) for k, v in sorted(data.items())}


def metadata(meta: Any, fp: Fingerprint) -> dict[str, Any]:
    """The metadata worth keeping: no resourceVersion or managed fields, labels are tags,
    annotations with secret-looking names and the last-applied manifest fingerprinted."""
    if not isinstance(meta, dict):
        return {}
    out = {k: v for k, v in meta.items() if k not in _VOLATILE_META}
    ann = meta.get("annotations")
    if isinstance(ann, dict):
        out["annotations"] = _annotations(ann, fp)
    return out


def _annotations(ann: dict[Any, Any], fp: Fingerprint) -> dict[str, Any]:
    clean = {str(k): v for k, v in ann.items()}
    if isinstance(clean.get(LAST_APPLIED), str):
        # The applied manifest, verbatim: a Secret's would carry its data.
        clean[LAST_APPLIED] = fp(clean[LAST_APPLIED])
    out: dict[str, Any] = redact_tree(clean, fp)
    return out


def redact_declared(kind: str | None, attrs: dict[str, Any], fp: Fingerprint) -> dict[str, Any]:
    """Attributes a YAML file declares of an object, fingerprinted where `document()`
    fingerprints a live one: annotations, Secret and ConfigMap values, container env values.

    A Secret's `stringData` and `binaryData` and a ConfigMap's `stringData` are never stored
    live (a declaration of them is never met); their values are fingerprinted all the same."""
    out = dict(attrs)
    meta = out.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("annotations"), dict):
        out["metadata"] = {**meta, "annotations": _annotations(meta["annotations"], fp)}
    if kind in ("Secret", "ConfigMap"):
        for field in ("data", "binaryData", "stringData"):
            if field in out:
                out[field] = _fingerprint_values(out[field], fp)
    if "spec" in out:
        out["spec"] = copy.deepcopy(out["spec"])
        _fingerprint_env(out["spec"], fp)
    return out


def _status(status: Any) -> Any:
    """Status without heartbeat and probe timestamps (they change on every read)."""
    if not isinstance(status, dict):
        return status
    out = dict(status)
    out.pop("images", None)  # a node's image cache: large, and not state anyone declares
    out.pop("daemonEndpoints", None)
    conds = out.get("conditions")
    if isinstance(conds, list):
        out["conditions"] = [
            {k: v for k, v in c.items() if k not in _VOLATILE_CONDITION}
            if isinstance(c, dict)
            else c
            for c in conds
        ]
    return out


def tls_certificate(data: dict[str, Any]) -> dict[str, Any]:
    """Subject, issuer and expiry of a `kubernetes.io/tls` Secret's `tls.crt` (never the key)."""
    from cryptography import x509

    raw = data.get("tls.crt")
    if not isinstance(raw, str) or not raw:
        return {"error": "missing"}
    try:
        pem = base64.b64decode(raw, validate=True)
        cert = x509.load_pem_x509_certificates(pem)[0]
    except (binascii.Error, ValueError, IndexError) as exc:
        return {"error": f"unparseable: {type(exc).__name__}"}
    not_after = cert.not_valid_after_utc
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "x"),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": not_after.isoformat(),
    }


def days_left(not_after: str, now: datetime | None = None) -> int:
    """Whole days from now until `not_after` (negative once expired)."""
    end = datetime.fromisoformat(not_after)
    delta = end - (now or datetime.now(UTC))
    return int(delta.total_seconds() // 86400)


def document(
    obj: dict[str, Any], kind: str, fp: Fingerprint, *, live: bool = True
) -> dict[str, Any]:
    """A live object (or, with live=False, a defaulted manifest) as the comparable document.

    Live Secrets also get what is derived from them: their key names and, for TLS Secrets,
    the certificate's subject and expiry; a manifest declares neither."""
    out: dict[str, Any] = {}
    for k, v in obj.items():
        if k in ("apiVersion", "kind"):
            continue
        if k == "metadata":
            out["metadata"] = metadata(v, fp)
        elif k == "status":
            out["status"] = keyed(_status(v), "status")
        elif kind in ("Secret", "ConfigMap") and k in ("data", "binaryData", "stringData"):
            continue  # below
        else:
            out[k] = keyed(v, k)
    if kind == "Secret":
        data = obj.get("data")
        if isinstance(data, dict) or live:
            out["data"] = _fingerprint_values(data, fp) if isinstance(data, dict) else {}
        if live:
            out["keys"] = sorted(out["data"])
        if live and obj.get("type") == "kubernetes.io/tls" and isinstance(data, dict):
            out["tls"] = tls_certificate(data)
    elif kind == "ConfigMap":
        for field in ("data", "binaryData"):
            if isinstance(obj.get(field), dict):
                out[field] = _fingerprint_values(obj[field], fp)
    _fingerprint_env(out.get("spec"), fp)
    return out


# --- the manifest side: server defaults for what a manifest leaves out -------------------


def _pull_policy(image: Any) -> str:
    # The API server's default: Always for `:latest` or no tag, else IfNotPresent.
    if not isinstance(image, str) or "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    return "IfNotPresent" if ":" in last and not last.endswith(":latest") else "Always"


def _default_pod_spec(spec: Any) -> None:
    if not isinstance(spec, dict):
        return
    for field in ("containers", "initContainers"):
        for c in spec.get(field) or []:
            if isinstance(c, dict) and "imagePullPolicy" not in c:
                c["imagePullPolicy"] = _pull_policy(c.get("image"))


_REPLICATED = frozenset({"Deployment", "StatefulSet", "ReplicaSet"})
_TEMPLATED = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Job"})


def defaulted(manifest: dict[str, Any], kind: str) -> dict[str, Any]:
    """A manifest with the server's defaults for what it leaves out (a copy's parts, in place)."""
    spec = manifest.get("spec")
    if kind in _REPLICATED and isinstance(spec, dict) and "replicas" not in spec:
        spec["replicas"] = 1
    if kind == "Pod":
        _default_pod_spec(spec)
    elif kind in _TEMPLATED and isinstance(spec, dict):
        tmpl = spec.get("template")
        if isinstance(tmpl, dict):
            _default_pod_spec(tmpl.get("spec"))
    elif kind == "CronJob" and isinstance(spec, dict):
        job = (
            (spec.get("jobTemplate") or {}).get("spec")
            if isinstance(spec.get("jobTemplate"), dict)
            else None
        )
        if isinstance(job, dict) and isinstance(job.get("template"), dict):
            _default_pod_spec(job["template"].get("spec"))
    if kind == "Secret" and isinstance(manifest.get("stringData"), dict):
        # stringData is write-only: the server merges it into data, base64-encoded.
        data = dict(manifest.get("data") or {})
        for k, v in manifest["stringData"].items():
            data[str(k)] = base64.b64encode(str(v).encode()).decode()
        manifest["data"] = data
        del manifest["stringData"]
    return manifest


def image_digest(ref: Any) -> str | None:
    """The `sha256:...` digest of an image reference or a running imageID, if it has one."""
    if not isinstance(ref, str) or "@" not in ref:
        return None
    digest = ref.rsplit("@", 1)[1]
    return digest if digest.startswith("sha256:") else None


__all__ = [
    "LAST_APPLIED",
    "MIRROR",
    "days_left",
    "defaulted",
    "document",
    "image_digest",
    "keyed",
    "metadata",
    "quantity",
    "tls_certificate",
]
