"""Shared fixtures: synthetic resources and a temporary store; how xdist groups the tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from driftscan.model import Resource, Slice, SourceRun
from driftscan.redaction import Fingerprinter
from driftscan.store import Store

# A fixed fingerprint key for tests that compare fingerprints (never a real store's key).
TEST_FP = Fingerprinter(b"driftscan-tests-only-fingerprint-key-0123456789")


def make_resources(
    n: int, *, source: str = "aws-test", change: dict[int, dict[str, object]] | None = None
) -> list[Resource]:
    """n synthetic S3 buckets with deterministic attributes; `change` overrides attrs by index."""
    out = []
    for i in range(n):
        attrs: dict[str, object] = {"versioning": "Enabled", "size": i, "rules": [{"port": 443}]}
        attrs.update((change or {}).get(i, {}))
        out.append(
            Resource(
                key=f"arn:aws:s3:::bucket-{i:06d}",
                provider="aws",
                source=source,
                account="111122223333",
                region="eu-west-1" if i % 2 else "us-east-1",
                type="AWS::S3::Bucket",
                name=f"bucket-{i:06d}",
                tags={"team": f"t{i % 7}"},
                attrs=attrs,
                encrypted=True,
                public=False,
            )
        )
    return out


def make_run(
    resources: list[Resource], *, source: str = "aws-test", failed_regions: tuple[str, ...] = ()
) -> SourceRun:
    """A source run over two regions; regions in failed_regions are recorded as denied."""
    run = SourceRun(source, "aws")
    for region in ("us-east-1", "eu-west-1"):
        if region in failed_regions:
            run.slices.append(
                Slice(source, "aws", f"111122223333/{region}/s3", "failed", reason="denied",
                      detail="AccessDenied", account="111122223333", region=region, types=["AWS::S3::Bucket"])
            )  # fmt: skip
        else:
            mine = [r for r in resources if r.region == region]
            run.resources.extend(mine)
            run.slices.append(
                Slice(source, "aws", f"111122223333/{region}/s3", "ok", account="111122223333",
                      region=region, types=["AWS::S3::Bucket"], resources=len(mine))
            )  # fmt: skip
    run.finish()
    return run


def write(store: Store, runs: list[SourceRun]) -> int:
    """Write one scan now and return its id."""
    now = datetime.now(UTC)
    return store.write_scan(runs, started_at=now, finished_at=now, tool_version="test").scan_id


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store.duckdb"


@pytest.fixture
def store(store_path: Path) -> Iterator[Store]:
    with Store(store_path) as s:
        yield s


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under `make test` (xdist, `--dist loadgroup`) a file's tests run in one worker, so its
    module fixtures (sandboxes, emulators) start once; the tests that read the demo share one
    worker too, so the demo (the slowest fixture, ~45 s) runs once per suite, not per worker."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        group = "demo" if "demo_dir" in item.fixturenames else item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(group))
