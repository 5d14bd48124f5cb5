"""Configuration loading: valid files load, bad ones fail with file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import driftscan.cli  # noqa: F401 - registers the commands
from driftscan.clikit import app
from driftscan.config import load_config
from driftscan.errors import ConfigError
from driftscan.providers.aws import AwsSource
from driftscan.providers.ssh import SshSource

GOOD = """\
store: ./state.duckdb
sources:
  - name: aws-prod
    type: aws
    regions: [us-east-1, eu-west-1]
    endpoint_url: http://127.0.0.1:5000
  - name: dc1
    type: ssh
    user: scanner
    known_hosts: ./known_hosts
    hosts:
      - {name: web-01, address: 127.0.0.1, port: 2222, site: dc1}
params:
  classification_tag: data_class
waivers:
  - {rule: r1, resource: "arn:x", owner: alice, reason: ok, ticket: SEC-1, expires: 2027-01-31}
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "driftscan.yaml"
    p.write_text(text)
    return p


def test_valid_config_loads_with_relative_paths(tmp_path: Path) -> None:
    """A valid file loads, and relative paths resolve against the file's folder."""
    cfg = load_config(_write(tmp_path, GOOD))
    assert isinstance(cfg.sources[0], AwsSource) and cfg.sources[0].regions == [
        "us-east-1",
        "eu-west-1",
    ]
    assert isinstance(cfg.sources[1], SshSource)
    assert cfg.store_path == tmp_path / "state.duckdb"
    assert cfg.waivers[0].expires.year == 2027
    assert len(cfg.digest) == 64


def test_config_found_through_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """$DRIFTSCAN_CONFIG is used when --config is not given."""
    monkeypatch.setenv("DRIFTSCAN_CONFIG", str(_write(tmp_path, GOOD)))
    assert load_config().sources[0].name == "aws-prod"


@pytest.mark.parametrize(
    ("text", "line", "key", "message"),
    [
        (GOOD.replace("    regions:", "    regionz:"), 5, "sources[0].regionz", "unknown key"),
        (
            GOOD.replace("name: dc1", "name: aws-prod"),
            7,
            "sources[1].name",
            "duplicate source name",
        ),
        (
            GOOD.replace("    known_hosts: ./known_hosts\n", ""),
            7,
            "sources[1].known_hosts",
            "required",
        ),
        (GOOD.replace("port: 2222", "port: many"), 12, "sources[1].hosts[0].port", "integer"),
        (
            GOOD.replace("type: aws", "type: gce"),
            4,
            "sources[0].type",
            "unknown type; expected one of aws, azure, gcp, kubernetes, ssh",
        ),
        (GOOD.replace("params:", "paramz:"), 13, "paramz", "unknown key"),
        (GOOD.replace("expires: 2027-01-31", "expires: soon"), 16, "waivers[0].expires", "date"),
    ],
)
def test_bad_config_names_file_line_and_key(
    tmp_path: Path, text: str, line: int, key: str, message: str
) -> None:
    """Each kind of mistake is reported with the file, the line and the key path."""
    p = _write(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        load_config(p)
    assert exc.value.file == str(p)
    assert exc.value.line == line
    assert exc.value.key == key
    assert message in exc.value.message


def test_known_hosts_cannot_be_disabled(tmp_path: Path) -> None:
    """known_hosts set to none is refused: host keys are always verified."""
    with pytest.raises(ConfigError, match="always verified"):
        load_config(_write(tmp_path, GOOD.replace("./known_hosts", "none")))


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    """A YAML syntax error names the file and line."""
    with pytest.raises(ConfigError) as exc:
        load_config(_write(tmp_path, "sources:\n  - name: [unclosed\n"))
    assert exc.value.line is not None and "invalid YAML" in str(exc.value)


def test_duplicate_yaml_keys_are_refused(tmp_path: Path) -> None:
    """A key given twice is an error, not a silent overwrite."""
    with pytest.raises(ConfigError, match="duplicate key 'store'"):
        load_config(_write(tmp_path, "store: a.duckdb\nstore: b.duckdb\n"))


def test_binary_yaml_keys_are_refused(tmp_path: Path) -> None:
    """A `!!binary` key names nothing (JSON has no such key): an error with its line."""
    with pytest.raises(ConfigError, match="must be a plain value") as exc:
        load_config(_write(tmp_path, "store: a.duckdb\n? !!binary c3RvcmU=\n: b.duckdb\n"))
    assert exc.value.line == 2


def test_cli_exits_2_with_location(tmp_path: Path) -> None:
    """The CLI turns a configuration error into exit code 2 and prints file, line and key."""
    p = _write(tmp_path, GOOD.replace("    regions:", "    regionz:"))
    result = CliRunner().invoke(app, ["scan", "-c", str(p)])
    assert result.exit_code == 2
    assert f"{p}:5" in result.output and "sources[0].regionz" in result.output


def test_missing_config_exits_2(tmp_path: Path) -> None:
    """A missing config file is exit code 2 naming the file."""
    result = CliRunner().invoke(app, ["scan", "-c", str(tmp_path / "absent.yaml")])
    assert result.exit_code == 2 and "file not found" in result.output


def test_every_config_error_is_listed_with_its_line_and_key(tmp_path: Path) -> None:
    """A file with several mistakes names each one, with its line and key, not "(and N more)"."""
    p = tmp_path / "driftscan.yaml"
    p.write_text(
        "sources:\n"
        "  - {name: a, type: aws, regions: [us-east-1], bogus: 1}\n"
        "  - {name: b, type: nope}\n"
        "concurrency: 0\n"
        "reports: {formats: [xx]}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(p)
    found = [info.value, *info.value.others]
    assert [(e.line, e.key) for e in found] == [
        (2, "sources[0].bogus"),
        (3, "sources[1].type"),
        (4, "concurrency"),
        (5, "reports.formats"),
    ]
    assert "more error" not in str(info.value)
    res = CliRunner().invoke(app, ["scan", "-c", str(p)])
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 4 and all(line.startswith("error: ") for line in lines), res.output
    assert f"{p}:4, key 'concurrency'" in lines[2]


@pytest.mark.parametrize(
    ("yaml_text", "key"),
    [
        ('store: "./s\\0x.duckdb"', "store"),
        ('store: {path: ./s.duckdb, key_file: "./k\\0y"}', "store.key_file"),
        ('reports: {dir: "./r\\0q"}', "reports.dir"),
        ('sources:\n  - {name: "a\\0", type: aws}', "sources[0].name"),
        ('params: {"k\\0": 1}', "params.k\x00"),
    ],
)
def test_a_nul_anywhere_in_the_config_names_its_key(
    tmp_path: Path, yaml_text: str, key: str
) -> None:
    """A NUL reached a system call as `ValueError: embedded null byte` (exit 70)."""
    cfg = tmp_path / "driftscan.yaml"
    cfg.write_text(yaml_text + "\n")
    with pytest.raises(ConfigError, match="a NUL character") as exc:
        load_config(cfg)
    assert exc.value.key == key and exc.value.line is not None
