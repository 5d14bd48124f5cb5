"""Bundles in S3 (`--stage s3://bucket/prefix`): uploaded manifest-last, fetched into a local folder."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from driftscan.errors import ConfigError
from driftscan.stage.bundle import MANIFEST, MAX_MANIFEST_BYTES, Manifest

_URL = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(.*))?$")
# Objects one ingest lists at most under a prefix (a run's shards are a few files each).
MAX_OBJECTS = 100_000


def is_s3(target: str | Path) -> bool:
    return str(target).startswith("s3://")


def parse_url(url: str) -> tuple[str, str]:
    """(bucket, prefix without slashes at either end) of an s3:// URL; a usage error else."""
    m = _URL.match(url)
    if not m:
        raise ConfigError(f"'{url}': expected s3://bucket/prefix", key="--stage")
    return m[1], (m[2] or "").strip("/")


def _client() -> Any:
    try:
        import boto3
    except ImportError:
        raise ConfigError(
            "--stage s3:// needs boto3: pip install 'driftscan[aws]'", key="--stage"
        ) from None
    # Credentials, region and endpoint (AWS_ENDPOINT_URL_S3) as boto3 finds them.
    return boto3.client("s3")


def _failed(url: str, exc: Exception) -> ConfigError:
    # botocore's message names the operation and the error code, never the credentials.
    return ConfigError(f"{url}: {type(exc).__name__}: {exc}", key="--stage")


def upload_bundle(folder: Path, url: str, relative: str) -> str:
    """Copy a local bundle to `url`/`relative`/, the manifest last (a reader that sees it
    sees every file it names). Returns the bundle's URL."""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, prefix = parse_url(url)
    base = "/".join(p for p in (prefix, relative) if p)
    s3 = _client()
    names = sorted(p.name for p in folder.iterdir() if p.is_file() and p.name != MANIFEST)
    try:
        for name in [*names, MANIFEST]:
            s3.upload_file(str(folder / name), bucket, f"{base}/{name}")
    except (BotoCoreError, ClientError, OSError) as exc:
        raise _failed(url, exc) from None
    return f"s3://{bucket}/{base}"


@contextmanager
def fetched(url: str, into: Path) -> Iterator[Path]:
    """Download every bundle under `url` (each manifest.json and the files it names) into
    `into`, keeping their relative folders; yields `into`."""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, prefix = parse_url(url)
    s3 = _client()
    manifests: list[str] = []
    try:
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=f"{prefix}/" if prefix else ""
        )
        seen = 0
        for page in pages:
            for obj in page.get("Contents", []):
                seen += 1
                if seen > MAX_OBJECTS:
                    raise ConfigError(f"{url}: more than {MAX_OBJECTS} objects under it")
                key = obj["Key"]
                if key.rsplit("/", 1)[-1] == MANIFEST and obj.get("Size", 0) <= MAX_MANIFEST_BYTES:
                    manifests.append(key)
        for key in manifests:
            rel = key[len(prefix) :].strip("/") if prefix else key
            folder = into / Path(rel).parent
            if ".." in Path(rel).parts:
                continue  # a key that would leave the folder is not a bundle we wrote
            folder.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, key, str(folder / MANIFEST))
            try:
                names = [
                    f.path
                    for f in Manifest.model_validate_json((folder / MANIFEST).read_bytes()).files
                ]
            except ValueError:
                continue  # read_bundle names what is wrong with it
            base = key.rsplit("/", 1)[0]
            for name in names:
                try:
                    s3.download_file(bucket, f"{base}/{name}", str(folder / name))
                except ClientError:
                    continue  # a missing file: read_bundle rejects that shard, naming it
    except (BotoCoreError, ClientError) as exc:
        raise _failed(url, exc) from None
    yield into
