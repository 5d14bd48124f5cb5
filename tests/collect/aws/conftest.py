"""Fixtures for the AWS collector: a seeded moto server behind the fault-injecting proxy."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from driftscan.providers.aws import AwsSource
from driftscan.providers.aws.collect import session as aws_session
from driftscan.sandbox.aws import ENV, AwsSandbox, FaultProxy

READ_PREFIXES = ("Describe", "List", "Get")
# GenerateCredentialReport writes nothing the account holds but a report of it, and
# GetCredentialReport needs it first; AWS's SecurityAudit managed policy grants it too.
ALLOWED = frozenset({"AssumeRole", "GetCallerIdentity", "GenerateCredentialReport"})


class ReadOnlyViolation(AssertionError):
    """An AWS API call that is not a read."""


@pytest.fixture(scope="session", autouse=True)
def aws_env() -> Iterator[None]:
    """Dummy credentials only; nothing from the host's AWS config, no instance metadata."""
    with pytest.MonkeyPatch.context() as mp:
        for name in (
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_DEFAULT_REGION",
            "AWS_REGION",
            "AWS_ROLE_ARN",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_ENDPOINT_URL",
        ):
            mp.delenv(name, raising=False)
        for name, value in ENV.items():
            mp.setenv(name, value)
        mp.setenv("AWS_CONFIG_FILE", "/nonexistent/driftscan-tests/config")
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/driftscan-tests/credentials")
        yield


@pytest.fixture(scope="session")
def sandbox(aws_env: None) -> Iterator[AwsSandbox]:
    with AwsSandbox() as sb:
        yield sb


@pytest.fixture
def proxy(sandbox: AwsSandbox) -> Iterator[FaultProxy]:
    """The fault proxy, clean before and after each test."""
    sandbox.proxy.reset()
    yield sandbox.proxy
    sandbox.proxy.reset()


@pytest.fixture
def source(sandbox: AwsSandbox, proxy: FaultProxy) -> Callable[..., AwsSource]:
    """Build an AwsSource aimed at the proxy; few retries keep throttling tests short."""

    def make(**overrides: Any) -> AwsSource:
        return AwsSource(**sandbox.source(**{"concurrency": 16, "max_attempts": 3, **overrides}))

    return make


@pytest.fixture
def on_session(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, Callable[..., Any]], None]:
    """Register a botocore event handler on every session the collector makes (wraps make_session)."""
    handlers: list[tuple[str, Callable[..., Any]]] = []
    original = aws_session.make_session

    def wrapped(config: AwsSource) -> boto3.Session:
        session = original(config)
        for event, handler in handlers:
            session.events.register(event, handler)
        return session

    monkeypatch.setattr(aws_session, "make_session", wrapped)
    return lambda event, handler: handlers.append((event, handler))


@pytest.fixture
def read_only(on_session: Callable[[str, Callable[..., Any]], None]) -> dict[str, list[str]]:
    """A before-call allow-list: every operation is recorded; a non-read is recorded and refused."""
    seen: dict[str, list[str]] = {"calls": [], "violations": []}

    def hook(model: Any, **_: Any) -> None:
        name = f"{model.service_model.service_name}.{model.name}"
        seen["calls"].append(name)
        if not (model.name.startswith(READ_PREFIXES) or model.name in ALLOWED):
            seen["violations"].append(name)
            raise ReadOnlyViolation(f"not a read-only call: {name}")

    on_session("before-call", hook)
    return seen


def canned(operation: str, parsed: dict[str, Any], status: int = 200) -> Callable[..., Any]:
    """A before-call handler that answers `operation` itself, as if AWS had sent `parsed`."""

    def handler(model: Any, **_: Any) -> Any:
        if model.name == operation:
            return AWSResponse("http://sandbox.invalid", status, {}, None), parsed
        return None

    return handler
