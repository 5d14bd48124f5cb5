"""Hostile paging on AWS: a listing past MAX_PAGES pages is refused, never followed for ever."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from driftscan.collect import limits
from driftscan.collect.base import run_source
from driftscan.errors import SourceError
from driftscan.providers.aws import AwsSource
from driftscan.providers.aws.collect import session as aws_session


def test_every_paginator_of_a_collector_session_stops_at_the_page_bound(
    source: Callable[..., AwsSource], monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto answers IAM's ListRoles a role a page: within the bound every page is read, past it
    the listing raises a parse failure naming the operation (botocore alone would go on)."""
    config = source()
    iam = aws_session.make_session(config).client(
        "iam", region_name="us-east-1", endpoint_url=config.endpoint_url
    )
    pages = iam.get_paginator("list_roles").paginate(PaginationConfig={"PageSize": 1})
    roles = [r["RoleName"] for page in pages for r in page["Roles"]]
    assert len(roles) >= 2
    monkeypatch.setattr(limits, "MAX_PAGES", len(roles) - 1)
    with pytest.raises(SourceError, match=r"list_roles: more than \d+ pages; not read") as exc:
        list(iam.get_paginator("list_roles").paginate(PaginationConfig={"PageSize": 1}))
    assert exc.value.reason == "parse"


def test_a_listing_past_the_bound_fails_its_slice_and_the_rest_is_read(
    source: Callable[..., AwsSource], monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a scan, the slice whose listing passes the bound is not assessed (parse), saying
    why; slices read through a single call are unaffected."""
    monkeypatch.setattr(limits, "MAX_PAGES", 0)
    run = run_source(source(regions=["us-east-1"]))
    failed = {s.name: s for s in run.slices if s.status == "failed"}
    assert failed and all(s.reason == "parse" for s in failed.values())
    assert any("more than 0 pages; not read" in (s.detail or "") for s in failed.values())
    assert any(s.status == "ok" for s in run.slices)
