"""End-to-end fixtures: the AWS sandbox behind a driftscan.yaml, run through the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


def demo_env() -> dict[str, str]:
    """The environment a user's shell gives driftscan: no AWS settings of the host, and the
    virtual environment's bin first on PATH (as after `source .venv/bin/activate`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE="/nonexistent/config",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent/credentials",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        COLUMNS="80",
    )
    return env


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where `driftscan demo` ran with its defaults, as `make demo` runs it:
    `.driftscan-demo/` and `reports/out/` below it."""
    root = tmp_path_factory.mktemp("demo")
    proc = subprocess.run(
        [sys.executable, "-m", "driftscan", "demo"],
        capture_output=True, text=True, env=demo_env(), timeout=300, cwd=root,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (root / "demo.out").write_text(proc.stdout)
    return root


@pytest.fixture
def demo_copy(demo_dir: Path, tmp_path: Path) -> Path:
    """A private copy of `demo_dir` for a test that adds to it (a new scan, files written), so
    the tests that read the demo's own scans as "the latest" pass in any order and under xdist."""
    root = tmp_path / "demo"
    shutil.copytree(demo_dir, root)
    config = root / ".driftscan-demo" / "driftscan.yaml"
    config.write_text(config.read_text().replace(str(demo_dir), str(root)))
    return root
