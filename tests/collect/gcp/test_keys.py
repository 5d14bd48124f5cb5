"""GCP identity: what a CAI full resource name says, and which types are GCP's."""

from __future__ import annotations

from driftscan.providers import registry
from driftscan.providers.gcp.keys import declared_key, identify, owns_type
from driftscan.providers.gcp.locations import data_locations, region_of


def test_identify_full_resource_names() -> None:
    """A key names its provider, project, type and name; other keys are not GCP's."""
    vm = identify("//compute.googleapis.com/projects/acme/zones/us-east1-b/instances/web")
    assert vm is not None
    assert (vm.provider, vm.account, vm.type, vm.name) == (
        "gcp",
        "acme",
        "compute.googleapis.com/Instance",
        "web",
    )
    sql = identify("//cloudsql.googleapis.com/projects/acme/instances/db")
    assert sql is not None and sql.type == "sqladmin.googleapis.com/Instance"
    bucket = identify("//storage.googleapis.com/projects/_/buckets/b")
    assert (
        bucket is not None
        and bucket.account is None
        and bucket.type == "storage.googleapis.com/Bucket"
    )
    assert identify("arn:aws:s3:::b") is None and identify("k8s://x/y/Pod/z") is None
    assert registry().identity("//storage.googleapis.com/projects/_/buckets/b").provider == "gcp"


def test_declared_bucket_key_and_owned_types() -> None:
    """A bucket declared by name has a known key; CAI asset types and patterns over them are
    GCP's, other providers' are not."""
    assert (
        declared_key("storage.googleapis.com/Bucket", "b")
        == "//storage.googleapis.com/projects/_/buckets/b"
    )
    assert declared_key("compute.googleapis.com/Instance", "web") is None
    assert owns_type("*.googleapis.com/*") and owns_type("Storage.googleapis.com/Bucket")
    assert (
        not owns_type("AWS::S3::Bucket") and not owns_type("microsoft.*") and not owns_type("Pod")
    )


def test_locations() -> None:
    """Zones map to their region; multi- and dual-regions to their member regions; a custom
    dual-region to its own list; single regions and unknown names to nothing."""
    assert region_of("us-east1-b") == "us-east1" and region_of("europe-west3") == "europe-west3"
    assert data_locations("EU") is not None and "europe-west2" not in (data_locations("eu") or [])
    assert data_locations("nam4") == ["us-central1", "us-east1"]
    assert data_locations("us", ["US-EAST1", "us-west1"]) == ["us-east1", "us-west1"]
    assert data_locations("asia-south1") is None and data_locations("moon1") is None
