"""Terraform's google (and google-beta) resource types → declarations keyed as the GCP collector keys them.

The key is the Cloud Asset Inventory full resource name (`//storage.googleapis.com/projects/_/
buckets/NAME`), the type the CAI asset type, labels are tags (v5's `effective_labels`, which
hold the provider's default and attribution labels as the live resource does), and the
declared attributes are the collector's facets (facets.py). IAM members, bindings and
policies of a bucket, dataset or key fold into that resource's `public` facet; what CAI never
lists as a resource (SQL users and databases, project IAM, enabled services) is skipped,
never keyed, so it never reads as missing.
"""

from __future__ import annotations

import json
import re
from typing import Any

from driftscan.desired.tfmap import (
    Attrs,
    Mapped,
    TerraformMappings,
    TfContext,
    as_bool,
    as_list,
    clean,
    first_block,
)
from driftscan.providers.gcp import keys as K
from driftscan.providers.gcp import locations
from driftscan.providers.gcp.facets import INTERNET, PUBLIC_MEMBERS

# Declarations pass the collector's redaction (Provider.redact_declared), so both sides compare
# secret-looking values as fingerprints.
MAPPINGS = TerraformMappings()

MAPPINGS.not_resources |= {
    # Cloud SQL users and databases are not CAI resources; a user's password stays unread.
    "google_sql_user",
    "google_sql_database",
    "google_sql_ssl_cert",
    # Project-level IAM and switches: read by no collector as resources of their own.
    "google_project_iam_member",
    "google_project_iam_binding",
    "google_project_iam_policy",
    "google_project_iam_audit_config",
    "google_project_iam_custom_role",
    "google_project_service",
    "google_project_default_service_accounts",
    "google_service_account_iam_member",
    "google_service_account_iam_binding",
    "google_service_account_iam_policy",
    "google_organization_iam_member",
    "google_folder_iam_member",
    # Objects inside a bucket are data, not resources CAI lists.
    "google_storage_bucket_object",
    "google_storage_bucket_acl",
    "google_storage_default_object_acl",
    "google_storage_object_acl",
}


def labels_of(a: Attrs, *names: str) -> dict[str, str] | None:
    """A resource's labels as the live resource carries them: `effective_labels` (v5: the
    configured ones plus the provider's default and attribution labels) where present."""
    for n in ("effective_labels", *names, "labels"):
        v = a.get(n)
        if isinstance(v, dict) and v:
            return {str(k): str(x) for k, x in v.items()}
    return None


def _gcp(
    key: str,
    typ: str,
    a: Attrs,
    declared: dict[str, Any],
    *,
    project: str | None,
    location: str | None = None,
    name: str | None = None,
    labels: tuple[str, ...] = (),
    part: bool = False,
) -> Mapped:
    d = dict(declared)
    tags = None if part else labels_of(a, *labels)
    if tags:
        d["tags"] = tags
    region = locations.region_of(locations.normalise(location)) if location and not part else None
    shown = None if part else (name or key.rsplit("/", 1)[-1])
    return Mapped(key, K.PROVIDER, typ, project, region, shown, clean(d), part)


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def _project(a: Attrs, rid: str | None = None) -> str | None:
    """The project id of an instance: its `project`, else the one its id names."""
    p = _str(a.get("project"))
    if p:
        return p
    m = re.match(r"^projects/([^/]+)/", rid or str(a.get("id") or ""))
    return m.group(1) if m else None


def _seconds(v: Any) -> int | None:
    if isinstance(v, str) and re.fullmatch(r"[0-9]{1,12}(\.[0-9]+)?s?", v.strip()):
        return int(float(v.strip().removesuffix("s")))
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    return None


def _public_members(members: Any) -> bool:
    return any(m in PUBLIC_MEMBERS for m in as_list(members))


# --- Cloud Storage ------------------------------------------------------------------------------


def bucket_key(name: str) -> str:
    return f"//storage.googleapis.com/projects/_/buckets/{name}"


BUCKET = "storage.googleapis.com/Bucket"


@MAPPINGS.mapping("google_storage_bucket")
def _bucket(a: Attrs, ctx: TfContext) -> Mapped | None:
    name = _str(a.get("name"))
    if name is None:
        return None
    retention = first_block(a.get("retention_policy"))
    versioning = first_block(a.get("versioning"))
    kms = first_block(a.get("encryption")).get("default_kms_key_name")
    pap = _str(a.get("public_access_prevention"))
    d: dict[str, Any] = {
        "encrypted": True,  # Cloud Storage encrypts every object; cmek says whose key
        "cmek": bool(kms),
        "uniform_access": as_bool(a.get("uniform_bucket_level_access")),
        "public_access_prevention": pap,
        "retention_s": _seconds(retention.get("retention_period")) if retention else 0,
        "retention_locked": as_bool(retention.get("is_locked")) if retention else False,
        "versioning": as_bool(versioning.get("enabled")) if versioning else None,
    }
    # Public reachability is an IAM question; only enforced prevention settles it here (an
    # IAM member in another state may grant allUsers).
    if pap == "enforced":
        d["public"] = False
    return _gcp(bucket_key(name), BUCKET, a, d, project=_str(a.get("project")),
                location=_str(a.get("location")), name=name)  # fmt: skip


def _policy_public(policy_data: Any) -> bool | None:
    try:
        policy = json.loads(policy_data) if isinstance(policy_data, str) else None
    except ValueError:
        return None
    if not isinstance(policy, dict):
        return None
    bindings = policy.get("bindings")
    return any(isinstance(b, dict) and _public_members(b.get("members")) for b in as_list(bindings))


def _iam_part(key: str, typ: str, a: Attrs, tf_kind: str) -> Mapped:
    """An IAM member, binding or policy of a resource: it joins the resource's declaration,
    making it public when it grants allUsers or allAuthenticatedUsers (an authoritative
    policy without such a member says it is not)."""
    d: dict[str, Any] = {}
    grants = (tf_kind == "member" and a.get("member") in PUBLIC_MEMBERS) or (
        tf_kind == "binding" and _public_members(a.get("members"))
    )
    if grants:
        d["public"] = True
    elif tf_kind == "policy":
        public = _policy_public(a.get("policy_data"))
        if public is not None:
            d["public"] = public
    return _gcp(key, typ, a, d, project=None, part=True)


def _iam_kind(tf_type: str) -> str:
    return tf_type.rsplit("_", 1)[-1]


def _register_iam(prefix: str, typ: str, key_of: Any) -> None:
    for kind in ("member", "binding", "policy"):
        tf_type = f"{prefix}_iam_{kind}"

        def fn(a: Attrs, ctx: TfContext, _kind: str = kind) -> Mapped | None:
            key = key_of(a)
            return None if key is None else _iam_part(key, typ, a, _kind)

        MAPPINGS.mappers[tf_type] = fn


def _bucket_of(a: Attrs) -> str | None:
    b = _str(a.get("bucket"))
    return bucket_key(b.removeprefix("b/")) if b else None


_register_iam("google_storage_bucket", BUCKET, _bucket_of)


# --- Cloud SQL ----------------------------------------------------------------------------------


@MAPPINGS.mapping("google_sql_database_instance")
def _sql(a: Attrs, ctx: TfContext) -> Mapped | None:
    name, project = _str(a.get("name")), _str(a.get("project"))
    if name is None or project is None:
        return None
    settings = first_block(a.get("settings"))
    ip = first_block(settings.get("ip_configuration"))
    backup = first_block(settings.get("backup_configuration"))
    nets = [str(first_block(n).get("value")) for n in as_list(ip.get("authorized_networks"))]
    ipv4 = as_bool(ip.get("ipv4_enabled"))
    ssl_mode = _str(ip.get("ssl_mode"))
    require = as_bool(ip.get("require_ssl"))
    # The collector's reading of the two switches (the newer ssl_mode wins).
    if ssl_mode in ("ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"):
        require = True
    elif ssl_mode == "ALLOW_UNENCRYPTED_AND_ENCRYPTED":
        require = False
    d: dict[str, Any] = {
        "encrypted": True,
        "public": None if ipv4 is None else bool(ipv4 and any(n in INTERNET for n in nets)),
        "public_ip": ipv4,
        "ssl_required": require,
        "ssl_mode": ssl_mode,
        "backups_enabled": as_bool(backup.get("enabled")) if settings else None,
        "pitr_enabled": as_bool(backup.get("point_in_time_recovery_enabled")) if backup else None,
        "cmek": bool(a.get("encryption_key_name")),
        "database_version": _str(a.get("database_version")),
    }
    # authorized_networks is a set in the provider's schema, held in the state in no order
    # the API keeps: it is compared through `public` (0.0.0.0/0 with a public IP) only.
    key = f"//cloudsql.googleapis.com/projects/{project}/instances/{name}"
    user_labels = settings.get("user_labels")
    b = dict(a)
    if isinstance(user_labels, dict) and user_labels and not a.get("effective_labels"):
        b["labels"] = user_labels  # Cloud SQL's labels live in its settings
    return _gcp(key, "sqladmin.googleapis.com/Instance", b, d, project=project,
                location=_str(a.get("region")), name=name)  # fmt: skip


# --- Compute Engine -----------------------------------------------------------------------------

# (scope of the id, collection) → the CAI kind of compute.googleapis.com resources whose
# Terraform id is their API path (`projects/P/zones/Z/instances/N`).
_COMPUTE: dict[tuple[str, str], str] = {
    ("zones", "instances"): "Instance",
    ("zones", "disks"): "Disk",
    ("regions", "disks"): "RegionDisk",
    ("global", "firewalls"): "Firewall",
    ("global", "networks"): "Network",
    ("regions", "subnetworks"): "Subnetwork",
    ("global", "sslPolicies"): "SslPolicy",
    ("regions", "addresses"): "Address",
    ("global", "addresses"): "GlobalAddress",
    ("global", "routes"): "Route",
    ("regions", "routers"): "Router",
    ("global", "images"): "Image",
    ("global", "snapshots"): "Snapshot",
    ("global", "instanceTemplates"): "InstanceTemplate",
    ("zones", "instanceGroups"): "InstanceGroup",
    ("zones", "instanceGroupManagers"): "InstanceGroupManager",
    ("regions", "instanceGroupManagers"): "RegionInstanceGroupManager",
    ("global", "backendServices"): "BackendService",
    ("regions", "backendServices"): "RegionBackendService",
    ("global", "healthChecks"): "HealthCheck",
    ("global", "urlMaps"): "UrlMap",
    ("global", "targetHttpsProxies"): "TargetHttpsProxy",
    ("global", "targetHttpProxies"): "TargetHttpProxy",
    ("global", "forwardingRules"): "GlobalForwardingRule",
    ("regions", "forwardingRules"): "ForwardingRule",
    ("global", "sslCertificates"): "SslCertificate",
    ("global", "securityPolicies"): "SecurityPolicy",
}
_COMPUTE_ID = re.compile(
    r"^projects/(?P<project>[^/]+)/(?:(?P<scope>zones|regions)/(?P<where>[^/]+)|(?P<global>global))"
    r"/(?P<collection>[A-Za-z]+)/(?P<name>[^/]+)$"
)
_SELF_LINK = re.compile(r"^https://(?:www|compute)\.googleapis\.com/compute/(?:v1|beta)/")


def compute_id(a: Attrs) -> tuple[str, str, str, str | None, str] | None:
    """(key, type, project, location, name) of a Compute resource from its id or self link."""
    for raw in (a.get("id"), a.get("self_link")):
        if not isinstance(raw, str):
            continue
        m = _COMPUTE_ID.match(_SELF_LINK.sub("", raw))
        if m is None:
            continue
        scope = "global" if m["global"] else m["scope"]
        kind = _COMPUTE.get((scope, m["collection"]))
        if kind is None:
            return None  # a Compute path of a kind no table entry vouches for: never keyed
        path = _SELF_LINK.sub("", raw)
        where = m["where"] or "global"
        return (f"//compute.googleapis.com/{path}", f"compute.googleapis.com/{kind}",
                m["project"], where, m["name"])  # fmt: skip
    return None


def _compute(a: Attrs, declared: dict[str, Any]) -> Mapped | None:
    got = compute_id(a)
    if got is None:
        return None
    key, typ, project, where, name = got
    return _gcp(key, typ, a, declared, project=project, location=where, name=name)


def _generic_compute(a: Attrs, ctx: TfContext) -> Mapped | None:
    return _compute(a, {})


MAPPINGS.prefix_mappers["google_compute_"] = _generic_compute

_META_TRUE = ("true", "1", "yes")


def _meta_flag(meta: dict[str, Any], name: str) -> bool | None:
    v = meta.get(name)
    if v is None:
        return None
    return str(v).strip().lower() in _META_TRUE


@MAPPINGS.mapping("google_compute_instance")
def _instance(a: Attrs, ctx: TfContext) -> Mapped | None:
    raw_meta = a.get("metadata")
    meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
    nics = [first_block(n) for n in as_list(a.get("network_interface"))]
    external = any(as_list(n.get("access_config")) or as_list(n.get("ipv6_access_config"))
                   for n in nics)  # fmt: skip
    disks = [first_block(a.get("boot_disk")), *map(first_block, as_list(a.get("attached_disk")))]
    disks = [d for d in disks if d]
    d: dict[str, Any] = {
        "encrypted": True,
        "public": external,
        "external_ip": external,
        "serial_port_enabled": _meta_flag(meta, "serial-port-enable") or False,
        "os_login": _meta_flag(meta, "enable-oslogin"),
        "block_project_ssh_keys": _meta_flag(meta, "block-project-ssh-keys") or False,
    }
    if disks:
        d["cmek"] = all(x.get("kms_key_self_link") for x in disks)
    return _compute(a, d)


@MAPPINGS.mapping("google_compute_disk")
def _disk(a: Attrs, ctx: TfContext) -> Mapped | None:
    # Zonal disks only: the collector builds no facets for RegionDisk (key, type and labels
    # are compared for it, by the generic Compute mapping).
    key = first_block(a.get("disk_encryption_key"))
    d = {"encrypted": True, "cmek": bool(key.get("kms_key_self_link") or key.get("kms_key_name")),
         "csek": bool(key.get("sha256"))}  # fmt: skip
    return _compute(a, d)


@MAPPINGS.mapping("google_compute_firewall")
def _firewall(a: Attrs, ctx: TfContext) -> Mapped | None:
    direction = _str(a.get("direction")) or "INGRESS"
    disabled = as_bool(a.get("disabled")) or False
    ranges = [str(r) for r in as_list(a.get("source_ranges"))]
    allows = as_list(a.get("allow"))
    open_ = direction == "INGRESS" and not disabled and bool(allows)
    d = {"direction": direction, "disabled": disabled,
         "public": open_ and any(r in INTERNET for r in ranges)}  # fmt: skip
    return _compute(a, d)


@MAPPINGS.mapping("google_compute_ssl_policy")
def _ssl_policy(a: Attrs, ctx: TfContext) -> Mapped | None:
    d = {"min_tls_version": _str(a.get("min_tls_version")) or "TLS_1_0",
         "profile": _str(a.get("profile"))}  # fmt: skip
    return _compute(a, d)


# --- BigQuery -----------------------------------------------------------------------------------

DATASET = "bigquery.googleapis.com/Dataset"


def _dataset_key(a: Attrs) -> str | None:
    ds = _str(a.get("dataset_id"))
    project = _project(a)
    if ds and "/" in ds:  # an IAM resource may name the dataset by its path
        m = re.match(r"^projects/([^/]+)/datasets/([^/]+)$", ds)
        if m is None:
            return None
        project, ds = m.group(1), m.group(2)
    if not ds or not project:
        return None
    return f"//bigquery.googleapis.com/projects/{project}/datasets/{ds}"


def _access_public(entries: Any) -> list[str]:
    out = set()
    for e in as_list(entries):
        e = first_block(e)
        for f in ("special_group", "iam_member"):
            if e.get(f) in PUBLIC_MEMBERS:
                out.add(str(e[f]))
    return sorted(out)


@MAPPINGS.mapping("google_bigquery_dataset")
def _dataset(a: Attrs, ctx: TfContext) -> Mapped | None:
    key = _dataset_key(a)
    if key is None:
        return None
    kms = first_block(a.get("default_encryption_configuration")).get("kms_key_name")
    d: dict[str, Any] = {"encrypted": True, "cmek": bool(kms)}
    if "access" in a:
        # The state holds the dataset's whole access list as read back from the API.
        public = _access_public(a.get("access"))
        d["public_members"] = public
        if public:
            d["public"] = True
    return _gcp(key, DATASET, a, d, project=_project(a), location=_str(a.get("location")),
                name=_str(a.get("dataset_id")))  # fmt: skip


@MAPPINGS.mapping("google_bigquery_dataset_access")
def _dataset_access(a: Attrs, ctx: TfContext) -> Mapped | None:
    key = _dataset_key(a)
    if key is None:
        return None
    public = _access_public([a])
    m = _gcp(key, DATASET, a, {"public": True} if public else {}, project=None, part=True)
    if public:
        # One more entry of the dataset's access list (the dataset's own read-back of the
        # list may hold it already: the finaliser keeps each member once).
        m.merge_lists["public_members"] = public
    return m


def _finalize_dataset(d: dict[str, Any]) -> None:
    if isinstance(d.get("public_members"), list):
        d["public_members"] = sorted({str(x) for x in d["public_members"]})


MAPPINGS.finalize[DATASET] = _finalize_dataset


_register_iam("google_bigquery_dataset", DATASET, _dataset_key)


# --- Cloud KMS ----------------------------------------------------------------------------------

KEY_RING = "cloudkms.googleapis.com/KeyRing"
CRYPTO_KEY = "cloudkms.googleapis.com/CryptoKey"
_RING = re.compile(r"^projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/keyRings/[^/]+$")


@MAPPINGS.mapping("google_kms_key_ring")
def _key_ring(a: Attrs, ctx: TfContext) -> Mapped | None:
    rid = _str(a.get("id"))
    m = _RING.match(rid or "")
    if rid is None or m is None:
        return None
    return _gcp(f"//cloudkms.googleapis.com/{rid}", KEY_RING, a, {}, project=m["project"],
                location=m["location"])  # fmt: skip


def _crypto_key_path(a: Attrs) -> str | None:
    ring, name = _str(a.get("key_ring")), _str(a.get("name"))
    if ring and name and _RING.match(ring):
        return f"{ring}/cryptoKeys/{name}"
    rid = _str(a.get("id")) or _str(a.get("crypto_key_id"))
    if rid and re.match(r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", rid):
        return rid
    return None


@MAPPINGS.mapping("google_kms_crypto_key")
def _crypto_key(a: Attrs, ctx: TfContext) -> Mapped | None:
    path = _crypto_key_path(a)
    if path is None:
        return None
    m = _RING.match(path.rsplit("/cryptoKeys/", 1)[0])
    assert m is not None
    purpose = _str(a.get("purpose")) or "ENCRYPT_DECRYPT"  # the provider's default
    period = _seconds(a.get("rotation_period"))
    template = first_block(a.get("version_template"))
    d: dict[str, Any] = {
        "purpose": purpose,
        "rotation_period_s": period,
        "rotation_enabled": (period is not None) if purpose == "ENCRYPT_DECRYPT" else None,
        "customer_managed": True,
        "origin": _str(template.get("protection_level")),
    }
    return _gcp(f"//cloudkms.googleapis.com/{path}", CRYPTO_KEY, a, d, project=m["project"],
                location=m["location"])  # fmt: skip


def _crypto_key_of(a: Attrs) -> str | None:
    """The key an IAM resource names: its path, or the provider's short `P/L/RING/KEY`."""
    rid = _str(a.get("crypto_key_id")) or ""
    if re.match(r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", rid):
        return f"//cloudkms.googleapis.com/{rid}"
    parts = rid.split("/")
    if len(parts) == 4 and all(parts):
        p, loc, ring, key = parts
        return f"//cloudkms.googleapis.com/projects/{p}/locations/{loc}/keyRings/{ring}/cryptoKeys/{key}"
    return None


_register_iam("google_kms_crypto_key", CRYPTO_KEY, _crypto_key_of)


# --- GKE ----------------------------------------------------------------------------------------


@MAPPINGS.mapping("google_container_cluster")
def _cluster(a: Attrs, ctx: TfContext) -> Mapped | None:
    name, project = _str(a.get("name")), _project(a)
    location = _str(a.get("location"))
    if not (name and project and location):
        return None
    private = first_block(a.get("private_cluster_config"))
    endpoint = as_bool(private.get("enable_private_endpoint")) or False
    d: dict[str, Any] = {
        "public": not endpoint,
        "private_endpoint": endpoint,
        "private_nodes": as_bool(private.get("enable_private_nodes")) or False,
        "legacy_abac": as_bool(a.get("enable_legacy_abac")) or False,
        # The block present is the switch on (the API's `enabled`).
        "master_authorized_networks": bool(as_list(a.get("master_authorized_networks_config"))),
    }
    key = f"//container.googleapis.com/projects/{project}/locations/{location}/clusters/{name}"
    return _gcp(key, "container.googleapis.com/Cluster", a, d, project=project,
                location=location, name=name, labels=("resource_labels",))  # fmt: skip


# --- IAM service accounts -----------------------------------------------------------------------


@MAPPINGS.mapping("google_service_account")
def _service_account(a: Attrs, ctx: TfContext) -> Mapped | None:
    # CAI names a service account by its unique id, not its email.
    uid, project, email = _str(a.get("unique_id")), _str(a.get("project")), _str(a.get("email"))
    if not (uid and project):
        return None
    key = f"//iam.googleapis.com/projects/{project}/serviceAccounts/{uid}"
    d = {"resource": {"email": email, "displayName": _str(a.get("display_name"))}}
    return _gcp(key, "iam.googleapis.com/ServiceAccount", a, d, project=project,
                location="global", name=email)  # fmt: skip


_SA_KEY = re.compile(r"^projects/(?P<project>[^/]+)/serviceAccounts/[^/]+/keys/[^/]+$")


@MAPPINGS.mapping("google_service_account_key")
def _service_account_key(a: Attrs, ctx: TfContext) -> Mapped | None:
    # The key's API name, as the collector's documents carry it; its private key (sensitive
    # in the state) is never declared.
    path = _str(a.get("name")) or _str(a.get("id"))
    m = _SA_KEY.match(path or "")
    if path is None or m is None:
        return None
    d = {"key_type": "USER_MANAGED", "user_managed": True,  # what Terraform creates
         "valid_after": _str(a.get("valid_after")), "disabled": False}  # fmt: skip
    return _gcp(f"//iam.googleapis.com/{path}", "iam.googleapis.com/ServiceAccountKey", a, d,
                project=m["project"], location="global")  # fmt: skip


# --- Resource Manager ---------------------------------------------------------------------------


@MAPPINGS.mapping("google_project")
def _project_res(a: Attrs, ctx: TfContext) -> Mapped | None:
    number, pid = _str(a.get("number")), _str(a.get("project_id"))
    if number is None or not number.isdigit():
        return None
    key = f"//cloudresourcemanager.googleapis.com/projects/{number}"
    d = {"resource": {"projectId": pid}}  # the number is in the key (v3 documents omit it)
    return _gcp(key, "cloudresourcemanager.googleapis.com/Project", a, d, project=pid,
                location="global", name=pid)  # fmt: skip


# --- others keyed by their API path -------------------------------------------------------------

# Terraform type → (service, CAI kind, the id's shape): the id is the resource's API path.
_BY_PATH: dict[str, tuple[str, str, re.Pattern[str]]] = {
    "google_pubsub_topic": ("pubsub.googleapis.com", "Topic",
                            re.compile(r"^projects/[^/]+/topics/[^/]+$")),
    "google_pubsub_subscription": ("pubsub.googleapis.com", "Subscription",
                                   re.compile(r"^projects/[^/]+/subscriptions/[^/]+$")),
    "google_cloud_run_v2_service": ("run.googleapis.com", "Service",
                                    re.compile(r"^projects/[^/]+/locations/[^/]+/services/[^/]+$")),
}  # fmt: skip


def _by_path(tf_type: str) -> Any:
    service, kind, shape = _BY_PATH[tf_type]

    def fn(a: Attrs, ctx: TfContext) -> Mapped | None:
        rid = _str(a.get("id"))
        if rid is None or not shape.match(rid):
            return None
        loc = re.search(r"/locations/([^/]+)/", rid)
        # A resource without a location in its name is global in CAI (Pub/Sub).
        return _gcp(f"//{service}/{rid}", f"{service}/{kind}", a, {}, project=_project(a, rid),
                    location=loc.group(1) if loc else "global")  # fmt: skip

    return fn


for _t in _BY_PATH:
    MAPPINGS.mappers[_t] = _by_path(_t)


__all__ = ["MAPPINGS", "bucket_key", "compute_id", "labels_of"]
