"""The GCP sandbox estate: an organisation's projects with a passing and a failing example of each
GCP rule, the PHI bucket in a region the BAA does not cover, and a large estate for benchmarks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from driftscan.sandbox.gcp.emulator import Project

ORGANIZATION = "123456789012"
FOLDER = "456789"
PAYMENTS = "acme-payments"  # labelled pci=true: the PCI scope
HEALTH = "acme-health"  # patient data, under the BAA
DENIED = "acme-restricted"  # answers 403: not assessed
# The regions the BAA covers in the demo's params.residency; asia-south1 is not one of them.
BAA_REGIONS = ["us-central1", "us-east1"]
PHI_REGION = "asia-south1"
PHI_BUCKET = "acme-phi-intake-mumbai"
OLD_KEY_DATE = "2025-01-10T08:00:00Z"
NEW_KEY_DATE = "2026-11-20T08:00:00Z"


@dataclass(frozen=True)
class Incident:
    """A seeded failure: the rule that must alarm on the resource's key."""

    rule: str
    key: str
    what: str


@dataclass
class Estate:
    """What the emulator serves, and which resources each rule must pass and fail."""

    projects: list[Project]
    assets: list[dict[str, Any]]
    policies: list[dict[str, Any]]
    incidents: list[Incident]
    passing: list[Incident]


def asset(
    project: Project,
    asset_type: str,
    name: str,
    location: str,
    doc: dict[str, Any],
    *,
    labels: dict[str, str] | None = None,
    display: str | None = None,
) -> dict[str, Any]:
    """One search result as CAI returns it (JSON field names), keyed by its full resource name."""
    row: dict[str, Any] = {
        "name": name,
        "assetType": asset_type,
        "project": f"projects/{project.number}",
        "folders": [f"folders/{project.folder}"] if project.folder else [],
        "organization": f"organizations/{ORGANIZATION}",
        "displayName": display or name.rsplit("/", 1)[-1],
        "location": location,
        "state": "ACTIVE",
        "versionedResources": [{"version": "v1", "resource": doc}],
        "parentFullResourceName": f"//cloudresourcemanager.googleapis.com/projects/{project.number}",
        "_project": project.id,
    }
    if labels:
        row["labels"] = labels
    return row


def project_asset(p: Project, labels: dict[str, str] | None = None) -> dict[str, Any]:
    doc = {"projectNumber": p.number, "projectId": p.id, "lifecycleState": "ACTIVE", "name": p.id}
    row = asset(p, "cloudresourcemanager.googleapis.com/Project",
                f"//cloudresourcemanager.googleapis.com/projects/{p.number}", "global", doc,
                labels=labels, display=p.id)  # fmt: skip
    row["additionalAttributes"] = {"projectId": p.id}
    row["parentFullResourceName"] = (
        f"//cloudresourcemanager.googleapis.com/folders/{p.folder}" if p.folder
        else f"//cloudresourcemanager.googleapis.com/organizations/{ORGANIZATION}"
    )  # fmt: skip
    return row


def bucket(p: Project, name: str, location: str, *, uniform: bool = True, retention_s: int = 0,
           cmek: bool = False, labels: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    doc: dict[str, Any] = {
        "name": name, "location": location.upper(),
        "locationType": "multi-region" if location in ("us", "eu", "asia") else "region",
        "storageClass": "STANDARD",
        "iamConfiguration": {"uniformBucketLevelAccess": {"enabled": uniform},
                             "publicAccessPrevention": "inherited"},
    }  # fmt: skip
    if retention_s:
        doc["retentionPolicy"] = {"retentionPeriod": str(retention_s), "isLocked": False}
    if cmek:
        doc["encryption"] = {
            "defaultKmsKeyName": f"projects/{p.id}/locations/{location}/keyRings/kr/cryptoKeys/storage"
        }
    return asset(p, "storage.googleapis.com/Bucket", f"//storage.googleapis.com/projects/_/buckets/{name}",
                 location, doc, labels=labels)  # fmt: skip


def sql(p: Project, name: str, region: str, *, ssl: bool, public_ip: bool, open_world: bool,
        backups: bool, labels: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    nets = [{"value": "0.0.0.0/0", "name": "anywhere"}] if open_world else [{"value": "10.0.0.0/8"}]
    doc = {
        "name": name, "region": region, "databaseVersion": "POSTGRES_15", "state": "RUNNABLE",
        "settings": {
            "tier": "db-custom-2-7680",
            "ipConfiguration": {"ipv4Enabled": public_ip, "authorizedNetworks": nets,
                                "requireSsl": ssl,
                                "sslMode": "ENCRYPTED_ONLY" if ssl else "ALLOW_UNENCRYPTED_AND_ENCRYPTED"},
            "backupConfiguration": {"enabled": backups, "pointInTimeRecoveryEnabled": backups},
        },
    }  # fmt: skip
    return asset(p, "sqladmin.googleapis.com/Instance",
                 f"//cloudsql.googleapis.com/projects/{p.id}/instances/{name}", region, doc,
                 labels=labels)  # fmt: skip


def instance(p: Project, name: str, zone: str, *, external: bool, serial: bool, oslogin: bool,
             labels: dict[str, str] | None = None, startup: str | None = None) -> dict[str, Any]:  # fmt: skip
    nic: dict[str, Any] = {"network": "global/networks/default", "networkIP": "10.128.0.2"}
    if external:
        nic["accessConfigs"] = [
            {"type": "ONE_TO_ONE_NAT", "name": "External NAT", "natIP": "203.0.113.10"}
        ]
    items = [
        {"key": "enable-oslogin", "value": "TRUE" if oslogin else "FALSE"},
        {"key": "serial-port-enable", "value": "true" if serial else "false"},
    ]
    if startup is not None:
        items.append({"key": "startup-script", "value": startup})
    doc = {
        "name": name, "zone": zone, "machineType": "e2-small", "status": "RUNNING",
        "networkInterfaces": [nic], "metadata": {"items": items},
        "disks": [{"boot": True, "source": f"zones/{zone}/disks/{name}"}],
    }  # fmt: skip
    return asset(p, "compute.googleapis.com/Instance",
                 f"//compute.googleapis.com/projects/{p.id}/zones/{zone}/instances/{name}", zone,
                 doc, labels=labels)  # fmt: skip


def disk(p: Project, name: str, zone: str, *, cmek: bool, labels: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    doc: dict[str, Any] = {"name": name, "zone": zone, "sizeGb": "20", "status": "READY"}
    if cmek:
        doc["diskEncryptionKey"] = {
            "kmsKeyName": f"projects/{p.id}/locations/us-central1/keyRings/kr/cryptoKeys/disks"
        }
    return asset(p, "compute.googleapis.com/Disk",
                 f"//compute.googleapis.com/projects/{p.id}/zones/{zone}/disks/{name}", zone, doc,
                 labels=labels)  # fmt: skip


def dataset(p: Project, name: str, location: str, *, public: bool,
            labels: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    access: list[dict[str, Any]] = [
        {"role": "OWNER", "userByEmail": f"owner@{p.id}.iam.gserviceaccount.com"}
    ]
    if public:
        access.append({"role": "READER", "specialGroup": "allAuthenticatedUsers"})
    doc = {"datasetReference": {"projectId": p.id, "datasetId": name}, "location": location.upper(),
           "access": access}  # fmt: skip
    return asset(p, "bigquery.googleapis.com/Dataset",
                 f"//bigquery.googleapis.com/projects/{p.id}/datasets/{name}", location, doc,
                 labels=labels)  # fmt: skip


def crypto_key(p: Project, name: str, location: str, *, rotation_s: int | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": f"projects/{p.id}/locations/{location}/keyRings/kr/cryptoKeys/{name}",
        "purpose": "ENCRYPT_DECRYPT", "primary": {"state": "ENABLED"},
        "versionTemplate": {"algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION", "protectionLevel": "SOFTWARE"},
    }  # fmt: skip
    if rotation_s is not None:
        doc["rotationPeriod"] = f"{rotation_s}s"
        doc["nextRotationTime"] = "2027-01-01T00:00:00Z"
    return asset(p, "cloudkms.googleapis.com/CryptoKey",
                 f"//cloudkms.googleapis.com/{doc['name']}", location, doc)  # fmt: skip


def cluster(p: Project, name: str, location: str, *, private: bool, abac: bool,
            labels: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    doc = {
        "name": name, "location": location, "currentMasterVersion": "1.30.5-gke.1014001",
        "privateClusterConfig": {"enablePrivateNodes": private, "enablePrivateEndpoint": private},
        "legacyAbac": {"enabled": abac},
        "masterAuthorizedNetworksConfig": {"enabled": private},
    }  # fmt: skip
    return asset(p, "container.googleapis.com/Cluster",
                 f"//container.googleapis.com/projects/{p.id}/locations/{location}/clusters/{name}",
                 location, doc, labels=labels)  # fmt: skip


def firewall(p: Project, name: str, ports: list[str], ranges: list[str], *, protocol: str = "tcp",
             disabled: bool = False) -> dict[str, Any]:  # fmt: skip
    doc = {"name": name, "network": "global/networks/default", "direction": "INGRESS",
           "priority": 1000, "sourceRanges": ranges, "disabled": disabled,
           "allowed": [{"IPProtocol": protocol, "ports": ports}]}  # fmt: skip
    return asset(p, "compute.googleapis.com/Firewall",
                 f"//compute.googleapis.com/projects/{p.id}/global/firewalls/{name}", "global", doc)  # fmt: skip


def ssl_policy(p: Project, name: str, min_tls: str) -> dict[str, Any]:
    doc = {"name": name, "profile": "MODERN", "minTlsVersion": min_tls}
    return asset(p, "compute.googleapis.com/SslPolicy",
                 f"//compute.googleapis.com/projects/{p.id}/global/sslPolicies/{name}", "global", doc)  # fmt: skip


def sa_key(p: Project, account: str, key_id: str, *, user_managed: bool, created: str) -> dict[str, Any]:  # fmt: skip
    email = f"{account}@{p.id}.iam.gserviceaccount.com"
    doc = {"name": f"projects/{p.id}/serviceAccounts/{email}/keys/{key_id}",
           "keyType": "USER_MANAGED" if user_managed else "SYSTEM_MANAGED",
           "keyAlgorithm": "KEY_ALG_RSA_2048", "keyOrigin": "GOOGLE_PROVIDED",
           "validAfterTime": created, "validBeforeTime": "9999-12-31T23:59:59Z"}  # fmt: skip
    return asset(p, "iam.googleapis.com/ServiceAccountKey",
                 f"//iam.googleapis.com/{doc['name']}", "global", doc)  # fmt: skip


def public_policy(p: Project, row: dict[str, Any], member: str = "allUsers",
                  role: str = "roles/storage.objectViewer") -> dict[str, Any]:  # fmt: skip
    """The IAM policy of a resource that grants `role` to a public member."""
    return {
        "resource": row["name"], "assetType": row["assetType"], "project": f"projects/{p.number}",
        "organization": f"organizations/{ORGANIZATION}",
        "policy": {"version": 1, "bindings": [{"role": role, "members": [member]}]},
        "_project": p.id,
    }  # fmt: skip


def demo_estate() -> Estate:
    """Three readable projects (payments in the PCI scope, health with patient data, a
    sandbox), one project that answers 403, and a passing and a failing example per rule."""
    pay = Project(PAYMENTS, "100000000001", FOLDER)
    health = Project(HEALTH, "100000000002", FOLDER)
    dev = Project("acme-sandbox", "100000000003")
    denied = Project(DENIED, "100000000004", FOLDER)
    pci = {"pci": "true"}
    a: list[dict[str, Any]] = [
        project_asset(pay, pci), project_asset(health), project_asset(dev), project_asset(denied),
    ]  # fmt: skip
    bad: list[Incident] = []
    good: list[Incident] = []

    def both(rule: str, ok: dict[str, Any], fail: dict[str, Any], what: str) -> None:
        a.extend([ok, fail])
        good.append(Incident(rule, ok["name"], "passes"))
        bad.append(Incident(rule, fail["name"], what))

    # Patient data: the intake bucket routed to Mumbai is the incident of issue 18.
    phi_ok = bucket(health, "acme-phi-records", "us-central1", retention_s=86400 * 365,
                    labels={"data_class": "phi"})  # fmt: skip
    phi_bad = bucket(health, PHI_BUCKET, PHI_REGION, retention_s=86400 * 30,
                     labels={"data_class": "phi"})  # fmt: skip
    both("data_residency_region", phi_ok, phi_bad, f"phi data in {PHI_REGION}")
    phi_multi = bucket(health, "acme-phi-archive-us", "us", retention_s=86400,
                       labels={"data_class": "phi"})  # fmt: skip
    a.append(phi_multi)
    bad.append(
        Incident(
            "data_residency_region",
            phi_multi["name"],
            "US multi-region spans regions outside the BAA",
        )
    )

    both("gcp_storage_uniform_access",
         bucket(pay, "acme-card-exports", "us-east1", retention_s=86400 * 90, cmek=True, labels=pci),
         bucket(pay, "acme-card-legacy", "us-east1", uniform=False, retention_s=86400, labels=pci),
         "fine-grained ACLs")  # fmt: skip
    public_b = bucket(dev, "acme-public-assets", "us-central1", retention_s=0)
    a.append(public_b)
    bad.append(Incident("gcp_storage_retention_policy", public_b["name"], "no retention policy"))
    good.append(Incident("gcp_storage_retention_policy", phi_ok["name"], "passes"))
    policies = [public_policy(dev, public_b)]

    both("gcp_sql_ssl_required",
         sql(pay, "payments-db", "us-east1", ssl=True, public_ip=False, open_world=False, backups=True, labels=pci),
         sql(pay, "payments-reporting", "us-east1", ssl=False, public_ip=True, open_world=True, backups=False, labels=pci),
         "SSL not required")  # fmt: skip
    bad.append(Incident("gcp_sql_no_public_ip", a[-1]["name"], "public IP open to 0.0.0.0/0"))
    bad.append(Incident("gcp_sql_backups_enabled", a[-1]["name"], "backups off"))
    good.append(Incident("gcp_sql_no_public_ip", a[-2]["name"], "passes"))
    good.append(Incident("gcp_sql_backups_enabled", a[-2]["name"], "passes"))

    both("gcp_compute_no_public_ip",
         instance(pay, "card-api-1", "us-east1-b", external=False, serial=False, oslogin=True, labels=pci),
         instance(pay, "card-bastion", "us-east1-b", external=True, serial=True, oslogin=False, labels=pci,
                  startup="#!/bin/sh\nexport DB_PASSWORD=sandbox-gcp-canary-4f1d\n"),
         "external IP")  # fmt: skip
    bad.append(Incident("gcp_compute_serial_port_disabled", a[-1]["name"], "serial port on"))
    bad.append(Incident("gcp_compute_os_login", a[-1]["name"], "OS Login off"))
    good.append(Incident("gcp_compute_serial_port_disabled", a[-2]["name"], "passes"))
    good.append(Incident("gcp_compute_os_login", a[-2]["name"], "passes"))

    both("gcp_compute_disk_cmek",
         disk(pay, "card-api-1", "us-east1-b", cmek=True, labels=pci),
         disk(pay, "card-bastion", "us-east1-b", cmek=False, labels=pci),
         "Google-managed key")  # fmt: skip
    both("gcp_bigquery_dataset_not_public",
         dataset(health, "claims", "us", public=False),
         dataset(health, "claims_shared", "us", public=True),
         "allAuthenticatedUsers can read")  # fmt: skip
    both("pci_kms_key_rotation",
         crypto_key(pay, "card-data", "us-east1", rotation_s=86400 * 90),
         crypto_key(pay, "card-legacy", "us-east1", rotation_s=None),
         "no rotation period")  # fmt: skip
    both("gcp_gke_private_endpoint",
         cluster(pay, "payments-gke", "us-east1", private=True, abac=False, labels=pci),
         cluster(dev, "sandbox-gke", "us-central1-a", private=False, abac=True),
         "public endpoint")  # fmt: skip
    bad.append(Incident("gcp_gke_legacy_abac_disabled", a[-1]["name"], "legacy ABAC on"))
    good.append(Incident("gcp_gke_legacy_abac_disabled", a[-2]["name"], "passes"))
    both("gcp_firewall_ssh_open",
         firewall(pay, "allow-ssh-iap", ["22"], ["35.235.240.0/20"]),
         firewall(pay, "allow-ssh-anywhere", ["22", "8080-8090"], ["0.0.0.0/0"]),
         "22 open to the Internet")  # fmt: skip
    both("gcp_firewall_rdp_open",
         firewall(dev, "allow-rdp-office", ["3389"], ["198.51.100.0/24"]),
         firewall(dev, "allow-rdp-range", ["3000-4000"], ["0.0.0.0/0"]),
         "3389 open to the Internet")  # fmt: skip
    both("gcp_sa_user_managed_keys",
         sa_key(pay, "payments-runtime", "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", user_managed=False, created=OLD_KEY_DATE),
         sa_key(pay, "payments-ci", "0f1e2d3c4b5a69788796a5b4c3d2e1f012345678", user_managed=True, created=NEW_KEY_DATE),
         "user-managed key")  # fmt: skip
    both("gcp_sa_key_age",
         sa_key(dev, "sandbox-ci", "1111222233334444555566667777888899990000", user_managed=True, created=NEW_KEY_DATE),
         sa_key(dev, "sandbox-legacy", "9999888877776666555544443333222211110000", user_managed=True, created=OLD_KEY_DATE),
         "key older than 90 days")  # fmt: skip
    both("pci_tls_min_version",
         ssl_policy(pay, "modern-tls12", "TLS_1_2"),
         ssl_policy(pay, "legacy-tls10", "TLS_1_0"),
         "TLS 1.0 allowed")  # fmt: skip
    # The restricted project holds a resource nobody may read: never reported, never "clean".
    a.append(bucket(denied, "acme-restricted-ledger", "us-central1", labels={"data_class": "phi"}))
    return Estate([pay, health, dev, denied], a, policies, bad, good)


_KINDS = ("bucket", "instance", "disk", "firewall", "dataset", "sql", "key", "cluster", "sakey")


def large_estate(assets: int, projects: int) -> Estate:
    """`assets` resources spread evenly over `projects` projects (each also a Project asset),
    a mix of the types the collector builds facets for."""
    ps = [Project(f"bench-{i:04d}", f"{200000000000 + i}", FOLDER) for i in range(projects)]
    rows = [project_asset(p) for p in ps]
    regions = ("us-central1", "us-east1", "europe-west1", "asia-south1")
    n = max(0, assets - projects)
    for i in range(n):
        p = ps[i % projects]
        reg = regions[i % len(regions)]
        kind = _KINDS[i % len(_KINDS)]
        name = f"r{i:06d}"
        labels = {"team": f"t{i % 17}", "env": "prod" if i % 3 else "dev"}
        if kind == "bucket":
            rows.append(bucket(p, f"bench-{name}", reg, retention_s=86400 * (i % 2), labels=labels))
        elif kind == "instance":
            rows.append(
                instance(
                    p,
                    name,
                    f"{reg}-b",
                    external=i % 5 == 0,
                    serial=False,
                    oslogin=True,
                    labels=labels,
                )
            )
        elif kind == "disk":
            rows.append(disk(p, name, f"{reg}-b", cmek=i % 2 == 0, labels=labels))
        elif kind == "firewall":
            rows.append(firewall(p, name, ["443"], ["10.0.0.0/8"]))
        elif kind == "dataset":
            rows.append(dataset(p, f"ds_{name}", reg, public=False, labels=labels))
        elif kind == "sql":
            rows.append(
                sql(
                    p,
                    name,
                    reg,
                    ssl=True,
                    public_ip=False,
                    open_world=False,
                    backups=True,
                    labels=labels,
                )
            )
        elif kind == "key":
            rows.append(crypto_key(p, name, reg, rotation_s=7776000))
        elif kind == "cluster":
            rows.append(cluster(p, name, reg, private=True, abac=False, labels=labels))
        else:
            rows.append(sa_key(p, "svc", f"{i:040x}", user_managed=False, created=NEW_KEY_DATE))
    return Estate(ps, rows, [], [], [])
