"""GCP identity (design §6.2): the Cloud Asset Inventory full resource name is the key.

`//storage.googleapis.com/projects/_/buckets/acme-phi`, type the CAI asset type
(`storage.googleapis.com/Bucket`), account the project id, region the location.
"""

from __future__ import annotations

import re

from driftscan.providers import Identity

PREFIX = "//"
PROVIDER = "gcp"
_KEY = re.compile(r"^//(?P<service>[a-z0-9.-]+\.googleapis\.com)/(?P<path>.+)$")

# (service, collection of the last path segment) → the asset type's kind, for the types the
# collector reads; what a key alone can say about its type.
_KINDS: dict[tuple[str, str], str] = {
    ("cloudresourcemanager.googleapis.com", "projects"): "Project",
    ("cloudresourcemanager.googleapis.com", "folders"): "Folder",
    ("cloudresourcemanager.googleapis.com", "organizations"): "Organization",
    ("storage.googleapis.com", "buckets"): "Bucket",
    ("sqladmin.googleapis.com", "instances"): "Instance",
    ("cloudsql.googleapis.com", "instances"): "Instance",
    ("compute.googleapis.com", "instances"): "Instance",
    ("compute.googleapis.com", "disks"): "Disk",
    ("compute.googleapis.com", "firewalls"): "Firewall",
    ("compute.googleapis.com", "sslPolicies"): "SslPolicy",
    ("bigquery.googleapis.com", "datasets"): "Dataset",
    ("cloudkms.googleapis.com", "cryptoKeys"): "CryptoKey",
    ("cloudkms.googleapis.com", "keyRings"): "KeyRing",
    ("container.googleapis.com", "clusters"): "Cluster",
    ("iam.googleapis.com", "serviceAccounts"): "ServiceAccount",
    ("iam.googleapis.com", "keys"): "ServiceAccountKey",
}


# Services whose full resource names use another host than their asset type (Cloud SQL).
_TYPE_SERVICE = {"cloudsql.googleapis.com": "sqladmin.googleapis.com"}


_OWNED = re.compile(r"^[a-z0-9.*?\[\]-]*\.googleapis\.com/.+$")


def owns_type(pattern: str) -> bool:
    """GCP types are CAI asset types, `<service>.googleapis.com/<Kind>` (a project slice reads
    them all), compared ignoring case."""
    return _OWNED.match(pattern.lower()) is not None


def is_key(k: str) -> bool:
    """Whether `k` is a CAI full resource name."""
    return _KEY.match(k) is not None


def project_of(k: str) -> str | None:
    """The project a key names (`projects/<id>/...`), if it names one (buckets do not: `_`)."""
    m = _KEY.match(k)
    if m is None:
        return None
    parts = m["path"].split("/")
    for i, p in enumerate(parts[:-1]):
        if p == "projects" and parts[i + 1] != "_":
            return parts[i + 1]
    return None


def declared_key(typ: str | None, name: str | None) -> str | None:
    """The key of a declaration by type and name when the name alone fixes it: bucket names
    are global, so a bucket's full resource name is known."""
    if typ == "storage.googleapis.com/Bucket" and name:
        return f"//storage.googleapis.com/projects/_/buckets/{name}"
    return None


def identify(k: str) -> Identity | None:
    """What a CAI full resource name says; None for other keys."""
    m = _KEY.match(k)
    if m is None:
        return None
    parts = m["path"].split("/")
    name = parts[-1]
    kind = _KINDS.get((m["service"], parts[-2])) if len(parts) >= 2 else None
    service = _TYPE_SERVICE.get(m["service"], m["service"])
    type_ = f"{service}/{kind}" if kind else None
    return Identity(k, PROVIDER, project_of(k), None, type_, name)
