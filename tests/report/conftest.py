"""Report fixtures: one full signed report written once per module, copied by tests that tamper."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from driftscan.report import ReportResult, write_report
from tests.report.factory import make_report_data


def write_key(path: Path) -> Path:
    """A fresh unencrypted Ed25519 private key in PEM at `path`."""
    key = Ed25519PrivateKey.generate()
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


@pytest.fixture(scope="session")
def full_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReportResult, Path]:
    """A signed report in every format (PDF included), and its signing key."""
    base = tmp_path_factory.mktemp("full")
    key = write_key(base / "signing.pem")
    res = write_report(make_report_data(120), base / "reports", signing_key=key, passing_limit=10)
    return res, key


@pytest.fixture
def report_copy(full_report: tuple[ReportResult, Path], tmp_path: Path) -> Path:
    """A private copy of the full report's folder, free to tamper with."""
    dst = tmp_path / full_report[0].folder.name
    shutil.copytree(full_report[0].folder, dst)
    return dst
