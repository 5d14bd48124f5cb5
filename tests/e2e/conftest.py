"""End-to-end fixtures: the AWS sandbox behind a driftscan.yaml, run through the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

import driftscan.cli  # noqa: F401 - registers every command
from driftscan.clikit import app
from driftscan.sandbox.aws import AwsSandbox, FaultProxy
from tests.collect.aws.conftest import (  # noqa: F401 - shared fixtures
    aws_env,
    on_session,
    proxy,
    read_only,
    sandbox,
)
from tests.collect.azure.conftest import arm, arm_server  # noqa: F401 - shared fixtures


@pytest.fixture(scope="session")
def aws(sandbox: AwsSandbox) -> AwsSandbox:  # noqa: F811
    """The session's seeded two-region moto estate behind the fault proxy.

    One per process: moto's in-process backends are shared, so a second sandbox would seed
    the same accounts twice.
    """
    return sandbox


@pytest.fixture
def faults(proxy: FaultProxy) -> FaultProxy:  # noqa: F811
    """The fault proxy, clean before and after each test (the AWS collector tests' fixture)."""
    return proxy


@pytest.fixture
def config_file(tmp_path: Path, aws: AwsSandbox, faults: FaultProxy) -> Callable[..., Path]:
    """Write a driftscan.yaml scanning the sandbox into a fresh store; extra keys merge in."""

    def make(**extra: Any) -> Path:
        doc: dict[str, Any] = {
            "store": str(tmp_path / "driftscan.duckdb"),
            "sources": [aws.source(concurrency=16, max_attempts=2)],
            **extra,
        }
        p = tmp_path / "driftscan.yaml"
        p.write_text(yaml.safe_dump(doc))
        return p

    return make


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Invoke the driftscan CLI in-process and return the result."""
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run
