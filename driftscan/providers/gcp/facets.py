"""Facets of the GCP asset types the rules read, from the versioned resource documents of CAI.

Every function takes the resource document (the service's own REST representation, as CAI
returns it under `versionedResources[].resource`) and gives the normalised `encrypted` and
`public` facets plus flat attributes the rules read. A field the document leaves out is None,
never a guess.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from driftscan.redaction import Fingerprinter, redact_tree

PUBLIC_MEMBERS = frozenset({"allUsers", "allAuthenticatedUsers"})
INTERNET = frozenset({"0.0.0.0/0", "::/0"})
# Compute metadata keys whose values are settings, kept as they are; every other value
# (startup scripts, ssh-keys, anything a user put there) is fingerprinted like EC2 user data.
METADATA_FLAGS = frozenset(
    {
        "enable-oslogin", "enable-oslogin-2fa", "serial-port-enable", "block-project-ssh-keys",
        "serial-port-logging-enable", "enable-guest-attributes",
    }
)  # fmt: skip


@dataclass
class Facets:
    """What one document says: the normalised facets and the flat attributes for rules."""

    encrypted: bool | None = None
    public: bool | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    # Regions the data sits in beyond the location (a custom dual-region's list).
    data_locations: list[str] | None = None


def _d(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _l(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def _bool(v: Any) -> bool | None:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return v.strip().lower() in ("true", "1", "yes")
    return None


def _seconds(v: Any) -> int | None:
    """A protobuf Duration as JSON (`"7776000s"`) or a number of seconds as text."""
    if isinstance(v, int | float):
        return int(v)
    if isinstance(v, str):
        t = v.strip().removesuffix("s")
        try:
            return int(float(t))
        except ValueError:
            return None
    return None


def bucket(doc: dict[str, Any], fp: Fingerprinter) -> Facets:
    iam = _d(doc.get("iamConfiguration"))
    uniform = _d(iam.get("uniformBucketLevelAccess")).get("enabled")
    if uniform is None:  # the older name of the same switch
        uniform = _d(iam.get("bucketPolicyOnly")).get("enabled")
    kms = _d(doc.get("encryption")).get("defaultKmsKeyName")
    retention = _d(doc.get("retentionPolicy"))
    custom = [str(x) for x in _l(_d(doc.get("customPlacementConfig")).get("dataLocations"))]
    return Facets(
        # Cloud Storage encrypts every object at rest; CMEK says whose key.
        encrypted=True,
        attrs={
            "cmek": bool(kms),
            "uniform_access": _bool(uniform),
            "public_access_prevention": iam.get("publicAccessPrevention"),
            "retention_s": _seconds(retention.get("retentionPeriod")) if retention else 0,
            "retention_locked": _bool(retention.get("isLocked")) if retention else False,
            "versioning": _bool(_d(doc.get("versioning")).get("enabled")),
        },
        data_locations=custom or None,
    )


def sql_instance(doc: dict[str, Any], fp: Fingerprinter) -> Facets:
    settings = _d(doc.get("settings"))
    ip = _d(settings.get("ipConfiguration"))
    backup = _d(settings.get("backupConfiguration"))
    nets = [str(_d(n).get("value")) for n in _l(ip.get("authorizedNetworks"))]
    ipv4 = _bool(ip.get("ipv4Enabled"))
    ssl_mode = ip.get("sslMode")
    require = _bool(ip.get("requireSsl"))
    if ssl_mode in ("ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"):
        require = True
    elif ssl_mode == "ALLOW_UNENCRYPTED_AND_ENCRYPTED":
        require = False
    return Facets(
        encrypted=True,  # Cloud SQL storage is always encrypted; CMEK is a separate choice
        public=None if ipv4 is None else bool(ipv4 and any(n in INTERNET for n in nets)),
        attrs={
            "public_ip": ipv4,
            "authorized_networks": nets,
            "ssl_required": require,
            "ssl_mode": ssl_mode,
            "backups_enabled": _bool(backup.get("enabled")) if settings else None,
            "pitr_enabled": _bool(backup.get("pointInTimeRecoveryEnabled")),
            "cmek": bool(_d(doc.get("diskEncryptionConfiguration")).get("kmsKeyName")),
            "database_version": doc.get("databaseVersion"),
        },
    )


def _metadata(doc: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in _l(_d(doc.get("metadata")).get("items")):
        it = _d(item)
        if isinstance(it.get("key"), str):
            out[it["key"]] = str(it.get("value", ""))
    return out


def compute_instance(doc: dict[str, Any], fp: Fingerprinter) -> Facets:
    meta = _metadata(doc)
    nics = [_d(n) for n in _l(doc.get("networkInterfaces"))]
    external = [
        str(_d(a).get("natIP") or "ephemeral")
        for n in nics
        for a in _l(n.get("accessConfigs"))
        if isinstance(a, dict)
    ]
    ipv6_external = any(_l(n.get("ipv6AccessConfigs")) for n in nics)
    disks = [_d(d) for d in _l(doc.get("disks"))]
    return Facets(
        encrypted=True,
        public=bool(external) or ipv6_external,
        attrs={
            "external_ip": bool(external) or ipv6_external,
            "serial_port_enabled": _bool(meta.get("serial-port-enable")) or False,
            # Project-wide metadata can switch OS Login on too; CAI shows the instance's own.
            "os_login": _bool(meta.get("enable-oslogin")),
            "block_project_ssh_keys": _bool(meta.get("block-project-ssh-keys")) or False,
            "cmek": bool(disks)
            and all(_d(d.get("diskEncryptionKey")).get("kmsKeyName") for d in disks),
        },
    )


def redact_metadata(doc: dict[str, Any], fp: Fingerprinter) -> None:
    """Fingerprint every compute metadata value that is not a known setting, in place."""
    items = _d(doc.get("metadata")).get("items")
    for item in _l(items):
        if isinstance(item, dict) and item.get("key") not in METADATA_FLAGS and "value" in item:
            item["value"] = fp(str(item["value"]))


INSTANCE = "compute.googleapis.com/Instance"


def redact_document(atype: str | None, doc: dict[str, Any], fp: Fingerprinter) -> dict[str, Any]:
    """The CAI document as stored: secret-looking values fingerprinted, and a Compute
    instance's metadata values (not its item names) too. `doc`'s metadata items change."""
    items = None
    if atype == INSTANCE:
        redact_metadata(doc, fp)
        # The item names (`key`) stay readable, so the redaction of the rest skips them.
        items = _d(doc.get("metadata")).pop("items", None)
    out: dict[str, Any] = redact_tree(doc, fp)
    if items is not None:
        out.setdefault("metadata", {})["items"] = items
    return out


def redact_declared(atype: str | None, attrs: dict[str, Any], fp: Fingerprinter) -> dict[str, Any]:
    """Declared attributes redacted as the collector redacts: the document under `resource`;
    the attributes beside it (facets, `kms_keys`, `location`) are stored as they are."""
    if not isinstance(attrs.get("resource"), dict):
        return attrs
    return {**attrs, "resource": redact_document(atype, copy.deepcopy(attrs["resource"]), fp)}


def disk(doc: dict[str, Any], fp: Fingerprinter) -> Facets:
    key = _d(doc.get("diskEncryptionKey"))
    return Facets(
        encrypted=True,
        attrs={"cmek": bool(key.get("kmsKeyName")), "csek": bool(key.get("sha256"))},
    )


def dataset(doc: dict[str, Any], fp: Fingerprinter) -> Facets:
    access = [_d(a) for a in _l(doc.get("access"))]
    public = [
        a.get("specialGroup") or a.get("iamMember")
        for a in access
        if a.get("specialGroup") in PUBLIC_MEMBERS or a.get("iamMember") in PUBLIC_MEMBERS
    ]
    kms = _d(doc.get("defaultEncryptionConfiguration")).get("kmsKeyName")
    return Facets(
        encrypted=True,
        public=bool(public),
        attrs={"cmek": bool(kms), "public_members": sorted({str(p) for p in public})},
    )


def crypto_key(doc: dict[str, Any], fp: Fingerprinter) -> Facets:
    purpose = doc.get("purpose")
    period = _seconds(doc.get("rotationPeriod"))
    state = _d(doc.get("primary")).get("state")
    # Automatic rotation exists for symmetric encryption keys only; for the others it is null.
    rotation = (period is not None) if purpose == "ENCRYPT_DECRYPT" else None
    return Facets(
        attrs={
            "purpose": purpose,
            "rotation_period_s": period,
            "rotation_enabled": rotation,
            "customer_managed": True,
            "key_state": "Enabled" if state in (None, "ENABLED") else str(state).title(),
            "key_spec": _d(doc.get("versionTemplate")).get("algorithm") or purpose,
            "origin": _d(doc.get("versionTemplate")).get("protectionLevel"),
        },
    )


def cluster(doc: dict[str, Any], fp: Fingerprinter) -> Facets:
    private = _d(doc.get("privateClusterConfig"))
    endpoint = _bool(private.get("enablePrivateEndpoint")) or False
    return Facets(
        encrypted=None,
        public=not endpoint,
        attrs={
            "private_endpoint": endpoint,
            "private_nodes": _bool(private.get("enablePrivateNodes")) or False,
            "legacy_abac": _bool(_d(doc.get("legacyAbac")).get("enabled")) or False,
            "master_authorized_networks": _bool(
                _d(doc.get("masterAuthorizedNetworksConfig")).get("enabled")
            )
            or False,
            "version": doc.get("currentMasterVersion"),
        },
    )


def _ports(spec: str) -> tuple[int, int] | None:
    a, _, b = spec.partition("-")
    try:
        lo = int(a)
        hi = int(b) if b else lo
    except ValueError:
        return None
    return lo, hi


def firewall(doc: dict[str, Any], fp: Fingerprinter) -> Facets:
    """Ingress allow rules in the shape of an AWS security group's (`ingress[]` of protocol,
    from_port, to_port, cidrs, ipv6_cidrs), so one rule reads both."""
    ingress: list[dict[str, Any]] = []
    active = doc.get("direction", "INGRESS") == "INGRESS" and not _bool(doc.get("disabled"))
    ranges = [str(r) for r in _l(doc.get("sourceRanges"))]
    v4 = [r for r in ranges if ":" not in r]
    v6 = [r for r in ranges if ":" in r]
    if active:
        for rule in _l(doc.get("allowed")):
            r = _d(rule)
            proto = str(r.get("IPProtocol") or r.get("ipProtocol") or "all")
            specs = [str(p) for p in _l(r.get("ports"))]
            if not specs or proto == "all":
                ingress.append({"protocol": proto, "from_port": None, "to_port": None,
                                "cidrs": v4, "ipv6_cidrs": v6})  # fmt: skip
                continue
            for spec in specs:
                pr = _ports(spec)
                ingress.append({"protocol": proto, "from_port": pr[0] if pr else None,
                                "to_port": pr[1] if pr else None, "cidrs": v4, "ipv6_cidrs": v6})  # fmt: skip
    open_ = any(r in INTERNET for r in ranges) and bool(ingress)
    return Facets(
        public=open_,
        attrs={
            "direction": doc.get("direction", "INGRESS"),
            "disabled": _bool(doc.get("disabled")) or False,
            "ingress": ingress,
            "source_ranges": ranges,
            "source_tags": _l(doc.get("sourceTags")),
        },
    )


def service_account_key(doc: dict[str, Any], fp: Fingerprinter) -> Facets:
    return Facets(
        attrs={
            "key_type": doc.get("keyType"),
            "user_managed": doc.get("keyType") == "USER_MANAGED",
            "valid_after": doc.get("validAfterTime"),
            "valid_before": doc.get("validBeforeTime"),
            "disabled": _bool(doc.get("disabled")) or False,
        },
    )


def ssl_policy(doc: dict[str, Any], fp: Fingerprinter) -> Facets:
    return Facets(attrs={"min_tls_version": doc.get("minTlsVersion") or "TLS_1_0",
                         "profile": doc.get("profile")})  # fmt: skip


BY_TYPE: dict[str, Callable[[dict[str, Any], Fingerprinter], Facets]] = {
    "storage.googleapis.com/Bucket": bucket,
    "sqladmin.googleapis.com/Instance": sql_instance,
    "compute.googleapis.com/Instance": compute_instance,
    "compute.googleapis.com/Disk": disk,
    "compute.googleapis.com/Firewall": firewall,
    "compute.googleapis.com/SslPolicy": ssl_policy,
    "bigquery.googleapis.com/Dataset": dataset,
    "cloudkms.googleapis.com/CryptoKey": crypto_key,
    "container.googleapis.com/Cluster": cluster,
    "iam.googleapis.com/ServiceAccountKey": service_account_key,
}

# Types whose public reachability is an IAM question (allUsers / allAuthenticatedUsers in a
# binding of the resource's own policy): public is true when such a binding was found.
IAM_PUBLIC_TYPES = frozenset(
    {
        "storage.googleapis.com/Bucket",
        "bigquery.googleapis.com/Dataset",
        "cloudkms.googleapis.com/CryptoKey",
        "compute.googleapis.com/Disk",
        "compute.googleapis.com/Image",
        "compute.googleapis.com/Snapshot",
        "run.googleapis.com/Service",
        "cloudfunctions.googleapis.com/CloudFunction",
        "pubsub.googleapis.com/Topic",
    }
)
