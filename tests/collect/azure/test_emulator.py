"""The sandbox ARM emulator itself: TLS from its own CA, bearer tokens, api-versions, paging, seed data."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from typing import Any

import pytest

from driftscan.sandbox.arm import SUB_PROD, ArmEmulator, demo_estate, resource_id


def fetch(
    arm: ArmEmulator, path: str, *, token: str | None = None, method: str = "GET"
) -> tuple[int, Any]:
    ctx = ssl.create_default_context(cafile=arm.ca_path)
    url = path if path.startswith("https://") else arm.url + path
    req = urllib.request.Request(url, method=method)
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_requests_without_the_bearer_token_are_refused(arm: ArmEmulator) -> None:
    """The emulator answers 401 unless the request carries 'Authorization: Bearer <token>', and logs it anyway."""
    status, body = fetch(arm, "/subscriptions?api-version=2022-12-01")
    assert status == 401 and body["error"]["code"] == "AuthenticationFailed"
    assert fetch(arm, "/subscriptions?api-version=2022-12-01", token="wrong")[0] == 401
    status, body = fetch(arm, "/subscriptions?api-version=2022-12-01", token=arm.token)
    assert status == 200 and len(body["value"]) == 2
    assert arm.requests == [("GET", "/subscriptions?api-version=2022-12-01")] * 3


def test_unsupported_api_versions_are_rejected(arm: ArmEmulator) -> None:
    """A get-by-id with an api-version the type does not serve gets ARM's 400, like the real service."""
    rid = resource_id(SUB_PROD, "rg-data", "Microsoft.Storage/storageAccounts", "acmeeuarchive")
    status, body = fetch(arm, f"{rid}?api-version=1999-01-01", token=arm.token)
    assert status == 400 and body["error"]["code"] == "NoRegisteredProviderFound"
    assert fetch(arm, rid, token=arm.token)[0] == 400
    assert fetch(arm, f"{rid}?api-version=2023-01-01", token=arm.token)[0] == 200


def test_lists_page_with_next_links(arm: ArmEmulator) -> None:
    """Lists are cut into page_size pages joined by absolute nextLinks on the emulator's own origin."""
    status, page = fetch(
        arm, f"/subscriptions/{SUB_PROD}/resources?api-version=2021-04-01", token=arm.token
    )
    seen = list(page["value"])
    while "nextLink" in page:
        assert page["nextLink"].startswith(arm.url)
        status, page = fetch(arm, page["nextLink"], token=arm.token)
        seen += page["value"]
    assert status == 200 and len(seen) == 16 and len(arm.requests) == 4
    assert "createdTime" not in seen[0]  # only with $expand


def test_the_emulator_does_not_write(arm: ArmEmulator) -> None:
    """Writes are refused (and logged, so read-only checks can see them)."""
    rid = resource_id(SUB_PROD, "rg-data", "Microsoft.Storage/storageAccounts", "acmeeuarchive")
    status, _ = fetch(arm, f"{rid}?api-version=2023-01-01", token=arm.token, method="DELETE")
    assert status == 405 and arm.writes() == [("DELETE", f"{rid}?api-version=2023-01-01")]


def test_the_demo_seed_is_plain_deterministic_data() -> None:
    """The demo estate is JSON data, equal on every call, with the resources the compliance rules need."""
    estate = demo_estate()
    assert json.loads(json.dumps(estate)) == estate == demo_estate()
    resources = [
        r
        for sub in estate["subscriptions"].values()
        for rg in sub["resourceGroups"].values()
        for r in rg["resources"]
    ]
    eu_in_us = [
        r
        for r in resources
        if r["tags"].get("data_class") == "eu-personal" and r["location"] == "eastus"
    ]
    assert [r["type"] for r in eu_in_us] == ["Microsoft.Storage/storageAccounts"]
    public_sql = [
        r
        for r in resources
        if r["type"] == "Microsoft.Sql/servers"
        and r["properties"]["publicNetworkAccess"] == "Enabled"
    ]
    assert len(public_sql) == 1 and len(estate["subscriptions"]) == 2


def test_a_seed_with_a_bad_child_name_is_rejected() -> None:
    """A child resource's name needs one segment per type level, or the seed is refused up front."""
    bad = {"subscriptions": {SUB_PROD: {"resourceGroups": {"rg": {"resources": [
        {"type": "Microsoft.Sql/servers/databases", "name": "only-one", "location": "eastus"}
    ]}}}}}  # fmt: skip
    with pytest.raises(ValueError, match="name segments"):
        ArmEmulator(bad)
