"""The GCP collector against the HTTPS Cloud Asset Inventory emulator, through google-cloud-asset's
REST transport: keys, types, paging, a denied project, throttling, credentials and the CA bundle."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from pydantic import ValidationError

from driftscan.collect.base import run_source
from driftscan.collect.limits import Limiter
from driftscan.model import SourceRun
from driftscan.providers.gcp import GcpSource
from driftscan.sandbox.gcp import (
    DENIED,
    HEALTH,
    PAYMENTS,
    PHI_BUCKET,
    PHI_REGION,
    AssetEmulator,
    demo_estate,
)
from tests.collect.gcp.conftest import collect
from tests.conftest import TEST_FP

BUCKETS = "//storage.googleapis.com/projects/_/buckets/"


def _slices(run: SourceRun) -> dict[str, tuple[str, str | None]]:
    return {s.name: (s.status, s.reason) for s in run.slices}


def _searches(gcp: AssetEmulator, project: str, method: str = "searchAllResources") -> list[str]:
    return [t for m, t in gcp.requests if t.startswith(f"/v1/projects/{project}:{method}")]


def test_every_readable_asset_is_stored_with_its_identity(
    gcp: AssetEmulator, source: Callable[..., GcpSource]
) -> None:
    """Keys are the CAI full resource names, types the asset types, account the project id,
    region the location (a zone's region), labels the tags; the denied project's assets are
    missing and its slice says why."""
    run = collect(source())
    estate = demo_estate()
    readable = {a["name"]: a for a in estate.assets if a["_project"] != DENIED}
    got = {r.key: r for r in run.resources}
    assert set(got) == set(readable)
    for key, a in readable.items():
        r = got[key]
        assert (r.type, r.account, r.provider) == (a["assetType"], a["_project"], "gcp")
        assert r.tags == a.get("labels", {}) and r.error is None
    phi = got[BUCKETS + PHI_BUCKET]
    assert (phi.region, phi.tags, phi.encrypted) == (PHI_REGION, {"data_class": "phi"}, True)
    vm = next(r for r in run.resources if r.key.endswith("/instances/card-bastion"))
    assert vm.region == "us-east1" and vm.attrs["location"] == "us-east1-b"
    assert _slices(run) == {
        f"projects/{PAYMENTS}": ("ok", None),
        f"projects/{HEALTH}": ("ok", None),
        "projects/acme-sandbox": ("ok", None),
        f"projects/{DENIED}": ("failed", "denied"),
    }
    denied = next(s for s in run.slices if s.name == f"projects/{DENIED}")
    assert denied.account == DENIED and "permission" in (denied.detail or "")
    assert run.status == "partial"


def test_results_are_paged_with_page_tokens(
    gcp: AssetEmulator, source: Callable[..., GcpSource]
) -> None:
    """Each page asks for 500 results; a project larger than the server's page takes several
    requests, each carrying the previous page's token, and nothing is lost or doubled."""
    run = collect(source())
    pages = _searches(gcp, PAYMENTS)
    n = sum(1 for r in run.resources if r.account == PAYMENTS)
    assert n > 4 and len(pages) == -(-n // 4)
    assert all("pageSize=500" in p for p in pages)
    assert ["pageToken=" in p for p in pages] == [False] + [True] * (len(pages) - 1)
    assert len({r.key for r in run.resources}) == len(run.resources)


def test_a_page_token_that_repeats_fails_its_project(
    gcp: AssetEmulator, source: Callable[..., GcpSource]
) -> None:
    """A search whose next page token comes back again would never end: its project fails
    (parse) after two requests, the others are read; the emulator would loop five times."""
    page = {"results": [], "nextPageToken": "again"}
    fault = gcp.add_fault(status=200, match=f"projects/{HEALTH}:searchAllResources", count=5,
                          body=json.dumps(page).encode())  # fmt: skip
    run = collect(source())
    assert fault.hits == 2
    assert _slices(run)[f"projects/{HEALTH}"] == ("failed", "parse")
    assert _slices(run)[f"projects/{PAYMENTS}"] == ("ok", None)
    failed = next(s for s in run.slices if s.name == f"projects/{HEALTH}")
    assert "next_page_token returns to a page already read" in (failed.detail or "")


def test_documents_are_read_through_the_read_mask(
    gcp: AssetEmulator, source: Callable[..., GcpSource]
) -> None:
    """The search asks for versionedResources, so facets come from the resource documents."""
    run = collect(source())
    assert all("versionedResources" in t for _, t in gcp.requests if "searchAllResources" in t)
    sql = next(r for r in run.resources if r.key.endswith("/instances/payments-reporting"))
    assert sql.attrs["ssl_required"] is False and sql.attrs["public_ip"] is True
    assert sql.public is True and sql.attrs["resource"]["settings"]["tier"] == "db-custom-2-7680"


def test_public_access_comes_from_iam_policies(
    gcp: AssetEmulator, source: Callable[..., GcpSource]
) -> None:
    """A bucket whose IAM policy grants allUsers a role is public; one without such a binding
    is not; the IAM search asks for the public members only."""
    run = collect(source())
    got = {r.key: r for r in run.resources}
    pub = got[BUCKETS + "acme-public-assets"]
    assert pub.public is True and pub.attrs["iam_public_members"] == ["allUsers"]
    assert got[BUCKETS + PHI_BUCKET].public is False
    iam = _searches(gcp, "acme-sandbox", "searchAllIamPolicies")
    assert iam and "query=memberTypes=allUsers+OR+memberTypes=allAuthenticatedUsers" in iam[0]


def test_multi_region_lists_member_regions(
    gcp: AssetEmulator, source: Callable[..., GcpSource]
) -> None:
    """A US multi-region bucket keeps region `us` and lists the US regions as data locations."""
    run = collect(source(scope=f"projects/{HEALTH}"))
    us = next(r for r in run.resources if r.key == BUCKETS + "acme-phi-archive-us")
    assert us.region == "us" and "us-central1" in us.attrs["dataLocations"]
    assert "asia-south1" not in us.attrs["dataLocations"]


def test_a_project_scope_reads_one_project(
    gcp: AssetEmulator, source: Callable[..., GcpSource]
) -> None:
    """`scope: projects/ID` reads that project alone, without listing the organisation."""
    run = collect(source(scope=f"projects/{HEALTH}"))
    assert _slices(run) == {f"projects/{HEALTH}": ("ok", None)}
    assert {r.account for r in run.resources} == {HEALTH}
    assert not any("organizations/" in t for _, t in gcp.requests)


def test_a_throttling_burst_is_retried(
    gcp: AssetEmulator, source: Callable[..., GcpSource]
) -> None:
    """Two 429 answers for a project's first page are retried with backoff; the project reads
    completely."""
    fault = gcp.throttle(match=f"projects/{PAYMENTS}:searchAllResources", count=2)
    run = collect(source())
    assert fault.hits == 2
    assert _slices(run)[f"projects/{PAYMENTS}"] == ("ok", None)
    pages = _searches(gcp, PAYMENTS)
    assert sum("pageToken=" not in p for p in pages) == 3  # the first page, asked three times


def test_throttling_that_does_not_end_is_a_throttled_slice(
    gcp: AssetEmulator, source: Callable[..., GcpSource]
) -> None:
    """A project that answers 429 on every attempt is not assessed (throttled) after
    max_attempts tries; the other projects are read."""
    gcp.throttle(match=f"projects/{HEALTH}:", count=None)
    run = collect(source(max_attempts=3))
    s = _slices(run)
    assert s[f"projects/{HEALTH}"] == ("failed", "throttled")
    assert s[f"projects/{PAYMENTS}"] == ("ok", None)
    # The first request for the project (its IAM search), tried three times, then no more.
    assert len([t for _, t in gcp.requests if t.startswith(f"/v1/projects/{HEALTH}:")]) == 3
    assert not any(r.account == HEALTH for r in run.resources)


def test_a_failing_iam_search_fails_the_project(
    gcp: AssetEmulator, source: Callable[..., GcpSource]
) -> None:
    """When the project's IAM policies cannot be read, its public facts are unknown: the
    project is not assessed rather than read as private."""
    gcp.add_fault(status=500, match=f"projects/{HEALTH}:searchAllIamPolicies", count=None)
    run = collect(source(max_attempts=2))
    assert _slices(run)[f"projects/{HEALTH}"] == ("failed", "unreachable")
    assert not any(r.account == HEALTH for r in run.resources)


def test_a_failed_project_listing_fails_the_source(
    gcp: AssetEmulator, source: Callable[..., GcpSource]
) -> None:
    """If the organisation's projects cannot be listed, the whole source is not assessed
    (never an empty organisation)."""
    gcp.add_fault(status=403, match="organizations/", count=None)
    run = run_source(source(), fingerprint=TEST_FP)
    assert [(s.name, s.status, s.reason) for s in run.slices] == [("*", "failed", "denied")]
    assert run.resources == []


def test_requests_are_paced_per_project(
    gcp: AssetEmulator, source: Callable[..., GcpSource]
) -> None:
    """Every search takes a token from its project's quota bucket and the organisation's."""
    limiter = Limiter()
    collect(source(), limiter)
    pay = limiter.bucket(("gcp", f"projects/{PAYMENTS}"), _any_limit())
    org = limiter.bucket(("gcp", "organizations/123456789012"), _any_limit())
    pay_requests = len(_searches(gcp, PAYMENTS)) + len(
        _searches(gcp, PAYMENTS, "searchAllIamPolicies")
    )
    assert pay.taken == pay_requests
    assert org.taken == len(gcp.requests)


def _any_limit():  # type: ignore[no-untyped-def]
    from driftscan.collect.limits import RateLimit

    return RateLimit(1, 1.0)  # ignored: the bucket exists already


def test_secrets_in_instance_metadata_are_fingerprinted(
    gcp: AssetEmulator, source: Callable[..., GcpSource]
) -> None:
    """A startup script is stored as a keyed fingerprint; settings such as enable-oslogin stay."""
    run = collect(source(scope=f"projects/{PAYMENTS}"))
    vm = next(r for r in run.resources if r.key.endswith("/instances/card-bastion"))
    assert "sandbox-gcp-canary" not in repr(run.resources)
    items = {i["key"]: i["value"] for i in vm.attrs["resource"]["metadata"]["items"]}
    assert items["startup-script"].startswith("hmac-sha256:")
    assert items["enable-oslogin"] == "FALSE"


def test_token_env_sends_the_token(gcp: AssetEmulator, source: Callable[..., GcpSource],
                                   monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """With credential token_env the bearer token comes from $GCP_ACCESS_TOKEN: a wrong one is
    refused (denied), an unset one fails the source before any request."""
    assert collect(source(scope=f"projects/{HEALTH}")).status == "ok"
    monkeypatch.setenv("GCP_ACCESS_TOKEN", "not-the-token")
    run = run_source(source(), fingerprint=TEST_FP)
    assert [(s.status, s.reason) for s in run.slices] == [("failed", "denied")]
    monkeypatch.delenv("GCP_ACCESS_TOKEN")
    gcp.requests.clear()
    run = run_source(source(), fingerprint=TEST_FP)
    assert [(s.status, s.reason) for s in run.slices] == [("failed", "denied")]
    # the configured choice is named, not redacted as if `credential: <value>` held a secret
    assert "credential 'token_env' needs a bearer token in $GCP_ACCESS_TOKEN, which is not set" in (
        run.slices[0].detail or ""
    )
    assert gcp.requests == []


def test_anonymous_credentials_reach_an_open_sandbox(
    gcp: AssetEmulator, source: Callable[..., GcpSource]
) -> None:
    """credential: anonymous sends no Authorization header; the emulator refuses it unless it
    allows anonymous callers."""
    run = run_source(source(credential="anonymous"), fingerprint=TEST_FP)
    assert [(s.status, s.reason) for s in run.slices] == [("failed", "denied")]
    gcp.allow_anonymous = True
    assert collect(source(credential="anonymous", scope=f"projects/{HEALTH}")).status == "ok"


def test_tls_is_verified_against_the_ca_bundle(
    gcp: AssetEmulator, source: Callable[..., GcpSource]
) -> None:
    """Without the sandbox CA the certificate is refused (unreachable, TLS named) and nothing
    is read; with ca_bundle the same endpoint reads."""
    run = run_source(source(ca_bundle=None), fingerprint=TEST_FP)
    assert [(s.status, s.reason) for s in run.slices] == [("failed", "unreachable")]
    assert "CERTIFICATE_VERIFY_FAILED" in (run.slices[0].detail or "")
    assert run.resources == []
    assert collect(source(scope=f"projects/{HEALTH}")).status == "ok"


def test_source_validation() -> None:
    """Scopes, asset types and anonymous credentials are checked when the config loads."""
    base = {"name": "g", "type": "gcp", "scope": "projects/acme-prod"}
    GcpSource(**base, asset_types=["storage.googleapis.com/Bucket"])  # type: ignore[arg-type]
    for bad in (
        {"scope": "organisations/1"},
        {"asset_types": ["all", "storage.googleapis.com/Bucket"]},
        {"asset_types": ["Bucket"]},
        {"credential": "anonymous"},
        {"endpoint": "http://127.0.0.1:1"},
    ):
        with pytest.raises(ValidationError):
            GcpSource(**{**base, **bad})  # type: ignore[arg-type]


def test_asset_types_narrow_the_search(
    gcp: AssetEmulator, source: Callable[..., GcpSource]
) -> None:
    """A list of asset types is sent as assetTypes and only those types come back."""
    run = collect(
        source(scope=f"projects/{PAYMENTS}", asset_types=["storage.googleapis.com/Bucket"])
    )
    assert {r.type for r in run.resources} == {"storage.googleapis.com/Bucket"}
    assert run.slices[0].types == ["storage.googleapis.com/Bucket"]
    assert all("assetTypes=storage.googleapis.com/Bucket" in t for t in _searches(gcp, PAYMENTS))


def test_the_write_trap_records_writes(gcp: AssetEmulator) -> None:
    """The emulator answers anything but a GET with 405 and records it, so the fixture's
    no-writes check can fail."""
    import requests

    resp = requests.post(f"{gcp.url}/v1/projects/{HEALTH}:searchAllResources",
                         headers={"Authorization": "Bearer sandbox-gcp-token"}, verify=gcp.ca_path,
                         timeout=10)  # fmt: skip
    assert resp.status_code == 405 and resp.json()["error"]["status"] == "METHOD_NOT_ALLOWED"
    assert gcp.writes() == [("POST", f"/v1/projects/{HEALTH}:searchAllResources")]
    gcp.requests.clear()


def test_a_page_the_client_cannot_parse_fails_its_project(
    gcp: AssetEmulator, source: Callable[..., GcpSource]
) -> None:
    """A result the client cannot parse (labels that are not strings) makes its project a
    parse failure; the project's other pages are not kept and other projects are read."""
    estate = demo_estate()
    p = next(x for x in estate.projects if x.id == HEALTH)
    from driftscan.sandbox.gcp.estate import bucket

    row = bucket(p, "acme-health-bad", "us-central1")
    row["labels"] = {"owner": {"nested": True}}
    gcp.add(row)
    run = collect(source())
    s = _slices(run)
    assert s[f"projects/{HEALTH}"] == ("failed", "parse")
    assert s[f"projects/{PAYMENTS}"] == ("ok", None)
    assert not any(r.account == HEALTH for r in run.resources)


def test_identity_names_how_the_scan_authenticated(
    gcp: AssetEmulator, source: Callable[..., GcpSource]
) -> None:
    """The run's identity says where the token came from and the scope, never the token."""
    run = collect(source(scope=f"projects/{HEALTH}"))
    assert run.identity == f"token from $GCP_ACCESS_TOKEN on projects/{HEALTH}"
    assert "sandbox-gcp-token" not in (run.identity or "")
