"""Hostile input files get a clear error (exit 2) and never exhaust the machine (issue 11, item 7)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import driftscan.cli  # noqa: F401 - registers every command
from driftscan.clikit import app
from driftscan.errors import ConfigError
from driftscan.inputs import MAX_INPUT_BYTES, NotReadable, read_bounded
from driftscan.redaction import load_fingerprinter
from driftscan.store import Store
from driftscan.yamlsrc import MAX_DEPTH, parse_yaml
from tests.conftest import make_resources, make_run, write

ROOT = Path(__file__).resolve().parents[2]

# The CLI runs in a child that is killed once its resident memory passes RSS_CAP_MB, so a
# regression fails instead of growing to gigabytes on a shared machine. The address space is
# capped too, but only as a backstop: DuckDB and glibc reserve gigabytes they never touch.
RSS_CAP_MB = 1024
_CAPPED = (
    "import resource, sys; cap = int(sys.argv.pop(1)); "
    "resource.setrlimit(resource.RLIMIT_AS, (cap, cap)); sys.argv[0] = 'driftscan'; "
    "from driftscan.cli import main; main()"
)
AS_CAP = 8 * 2**30


def _bounded_cli(tmp_path: Path, *args: str) -> tuple[int, str, float]:
    """(exit code, stderr, peak RSS in MB) of the CLI run under the memory watch."""
    err_file = tmp_path / "stderr.txt"
    with open(err_file, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", _CAPPED, str(AS_CAP), *args],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    deadline = time.monotonic() + 240
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            break
        rss_kb = next(
            (int(line.split()[1]) for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines()
             if line.startswith("VmRSS:")),
            0,
        )  # fmt: skip
        if rss_kb > RSS_CAP_MB * 1024 or time.monotonic() > deadline:
            proc.kill()
        time.sleep(0.05)
    peak = usage.ru_maxrss / 1024
    assert peak <= RSS_CAP_MB, f"the child used {peak:.0f} MB (killed past {RSS_CAP_MB} MB)"
    return proc.returncode, err_file.read_text(), peak


def _laughs(key: str = "lol", levels: int = 9) -> str:
    """A billion-laughs document: `levels` anchors of nine aliases each, 9^levels strings."""
    out = [f'{key}0: &{key}0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        out.append(f"{key}{i}: &{key}{i} [" + ", ".join([f"*{key}{i - 1}"] * 9) + "]")
    return "\n".join(out) + "\n"


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A store that holds one scan, so that `diff` gets as far as loading the desired state."""
    path = tmp_path / "s.duckdb"
    with Store(path) as st:
        write(st, [make_run(make_resources(3))])
    return path


def _config(tmp_path: Path, store: Path, desired: str) -> Path:
    p = tmp_path / "driftscan.yaml"
    p.write_text(
        f"store: {store}\n"
        "sources:\n  - {name: aws-test, type: aws, regions: [us-east-1]}\n"
        f"desired:\n  - {desired}\n"
    )
    return p


def test_billion_laughs_config_exits_2_naming_the_file(tmp_path: Path) -> None:
    """A config whose aliases expand to 10^9 nodes is refused with exit 2 and its file and line, in bounded memory."""
    cfg = tmp_path / "driftscan.yaml"
    body = "".join(f"  {line}\n" for line in _laughs().splitlines())
    cfg.write_text("store: ./s.duckdb\nparams:\n" + body)
    code, stderr, _ = _bounded_cli(tmp_path, "scans", "-c", str(cfg))
    assert code == 2, (code, stderr[-2000:])
    assert f"{cfg}:" in stderr
    assert "billion-laughs" in stderr
    assert "Traceback" not in stderr


def test_billion_laughs_desired_state_exits_2_naming_the_file(tmp_path: Path, store: Path) -> None:
    """A desired-state YAML file with billion-laughs aliases makes `diff` exit 2 naming that file, in bounded memory."""
    (tmp_path / "desired").mkdir()
    bomb = tmp_path / "desired" / "bomb.yaml"
    bomb.write_text(_laughs() + "resources: []\n")
    code, stderr, _ = _bounded_cli(
        tmp_path, "diff", "-c", str(_config(tmp_path, store, "path: desired/"))
    )
    assert code == 2, (code, stderr[-2000:])
    assert "bomb.yaml:" in stderr and "billion-laughs" in stderr


def test_alias_budget_spares_ordinary_anchors_and_refuses_cycles() -> None:
    """Anchors reused a few times still load, while an alias inside its own anchor is a located error, not a RecursionError."""
    data, _ = parse_yaml("base: &b {x: 1}\none: *b\ntwo: *b\n", "ok.yaml")
    assert data["one"] == data["two"] == {"x": 1}
    with pytest.raises(ConfigError, match="recursive") as err:
        parse_yaml("a: 1\nloop: &l [1, *l]\n", "loop.yaml")
    assert err.value.file == "loop.yaml" and err.value.line == 2


def test_deeply_nested_yaml_is_a_located_error() -> None:
    """YAML nested past the depth bound is refused with file, line and key, not a RecursionError."""
    ok = "a: " + "{a: " * (MAX_DEPTH - 2) + "1" + "}" * (MAX_DEPTH - 2) + "\n"
    assert parse_yaml(ok, "ok.yaml")[0] is not None
    deep = "".join(" " * i + "k:\n" for i in range(300)) + " " * 300 + "k: 1\n"
    with pytest.raises(ConfigError, match="nested deeper than") as err:
        parse_yaml(deep, "deep.yaml")
    # line MAX_DEPTH + 2 holds the first mapping past the bound (line 1 is the top level)
    assert err.value.file == "deep.yaml" and err.value.line == MAX_DEPTH + 2
    assert err.value.key and err.value.key.startswith("k.k.k")


def _state(attributes: str) -> str:
    resource = (
        '{"mode": "managed", "type": "aws_s3_bucket", "name": "b", "provider": "aws", '
        f'"instances": [{{"attributes": {attributes}}}]}}'
    )
    return f'{{"version": 4, "serial": 1, "lineage": "x", "resources": [{resource}]}}'


def test_terraform_state_nested_200000_levels_exits_2(tmp_path: Path, store: Path) -> None:
    """A Terraform state nested 200,000 levels deep makes `diff` exit 2 naming the file, not 70 with a RecursionError."""
    n = 200_000
    state = tmp_path / "deep.tfstate"
    state.write_text(_state('{"arn": "arn:aws:s3:::b", "deep": ' + "[" * n + "]" * n + "}"))
    res = CliRunner().invoke(
        app, ["diff", "-c", str(_config(tmp_path, store, "terraform: deep.tfstate"))]
    )
    assert res.exit_code == 2, res.output
    assert "deep.tfstate" in res.output and "nested deeper than" in res.output


def test_terraform_attribute_past_the_depth_bound_names_its_key(tmp_path: Path) -> None:
    """An attribute value that json can parse but is nested past the bound is refused with the key that holds it."""
    from driftscan.desired.terraform import parse_state

    nested = json.dumps({"arn": "arn:aws:s3:::b", "policy": json.loads("[" * 150 + "]" * 150)})
    with pytest.raises(ConfigError, match="nested deeper than") as err:
        parse_state(_state(nested), "tf.json")
    assert err.value.file == "tf.json"
    assert err.value.key and err.value.key.startswith("resources[0].instances[0].attributes.policy")


@pytest.mark.parametrize(
    ("field", "value"), [("files", r"/etc/pass\0wd"), ("certs", r"/etc/a\0b.pem")]
)
def test_control_character_in_a_remote_path_is_a_config_error(
    tmp_path: Path, field: str, value: str
) -> None:
    """A NUL in an SSH source's files: or certs: path is exit 2 naming file, line and key,
    not `unreachable` at scan time."""
    kh = tmp_path / "known_hosts"
    kh.write_text("")
    cfg = tmp_path / "driftscan.yaml"
    cfg.write_text(
        f"store: {tmp_path / 's.duckdb'}\n"
        "sources:\n"
        f"  - name: dc1\n    type: ssh\n    user: scanner\n    known_hosts: {kh}\n"
        "    timeout_s: 2\n"
        "    hosts: [{name: h1, address: 127.0.0.1, port: 9}]\n"
        f'    {field}: [/etc/hostname, "{value}"]\n'
    )
    res = CliRunner().invoke(app, ["scan", "-c", str(cfg)])
    assert res.exit_code == 2, res.output
    assert f"{cfg}:9" in res.output and f"sources[0].{field}" in res.output
    assert "a NUL character" in res.output


# -- files that are not files: /dev/zero, a named pipe, a folder, or simply too large ----------


def _special(tmp_path: Path, kind: str) -> Path:
    """A path that is not a regular file: a symlink to /dev/zero, a named pipe, a folder."""
    p = tmp_path / f"{kind}.yaml"
    if kind == "zero":
        p.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(p)  # nobody writes it: opening it to read would wait for ever
    else:
        p.mkdir()
    return p


@pytest.mark.parametrize("kind", ["zero", "fifo", "dir"])
def test_a_config_that_is_not_a_regular_file_exits_2_at_once(tmp_path: Path, kind: str) -> None:
    code, stderr, _ = _bounded_cli(tmp_path, "scans", "-c", str(_special(tmp_path, kind)))
    assert code == 2, (code, stderr[-2000:])
    want = {"zero": "a device", "fifo": "a named pipe", "dir": "a folder"}[kind]
    assert f"{kind}.yaml: is {want}, not a regular file" in stderr and "Traceback" not in stderr


@pytest.mark.parametrize("where", ["rule", "framework", "desired", "manifest", "terraform"])
def test_dev_zero_among_the_inputs_exits_2_naming_it(
    tmp_path: Path, store: Path, where: str
) -> None:
    """/dev/zero (a symlink to it in a rule folder, a framework catalogue, a declared-state
    folder, a manifest folder, a Terraform state) is refused before any of it is read; it
    filled 8-23 GB in under 30 s."""
    (tmp_path / "in" / "frameworks").mkdir(parents=True)
    name = {"rule": "in/zz.yaml", "framework": "in/frameworks/zz.yaml", "desired": "in/zz.yaml",
            "manifest": "in/zz.yaml", "terraform": "in/zz.tfstate"}[where]  # fmt: skip
    (tmp_path / name).symlink_to("/dev/zero")
    extra = {
        "rule": "rules: [builtin, ./in]\n",
        "framework": "rules: [builtin, ./in]\n",
        "desired": "desired: [{path: ./in}]\n",
        "manifest": "desired: [{kubernetes: ./in}]\n",
        "terraform": f"desired: [{{terraform: ./{name}}}]\n",
    }[where]
    cfg = tmp_path / "driftscan.yaml"
    sources = "sources:\n  - {name: k8s, type: kubernetes, kubeconfig: ./kc}\n"
    cfg.write_text(f"store: {store}\n{sources}{extra}")
    command = "rules" if where in ("rule", "framework") else "diff"
    args = ["rules", "list"] if command == "rules" else ["diff"]
    code, stderr, _ = _bounded_cli(tmp_path, *args, "-c", str(cfg))
    assert code == 2, (code, stderr[-2000:])
    assert "zz." in stderr and "is a device, not a regular file" in stderr, stderr[-2000:]


def test_an_input_larger_than_the_bound_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with open(big, "wb") as f:
        f.truncate(MAX_INPUT_BYTES + 1)  # sparse: nothing is written to disk
    with pytest.raises(
        NotReadable,
        match=f"is {MAX_INPUT_BYTES + 1:,} bytes, more than the {MAX_INPUT_BYTES:,} bytes",
    ):
        read_bounded(big)
    assert read_bounded(big, MAX_INPUT_BYTES + 1) == b"\0" * (MAX_INPUT_BYTES + 1)


def test_fingerprint_key_files_that_cannot_be_keys_are_config_errors(tmp_path: Path) -> None:
    """Raw random bytes (`head -c 32 /dev/urandom`, a natural way to make a key) crashed the
    scan with UnicodeDecodeError; a folder or /dev/zero was told to `chmod 600`."""
    binary = tmp_path / "binkey"
    binary.write_bytes(bytes(range(200, 232)))
    binary.chmod(0o600)
    cases = {binary: "is not text", tmp_path: "is a folder, not a regular file",
             Path("/dev/zero"): "is a device, not a regular file"}  # fmt: skip
    for path, message in cases.items():
        with pytest.raises(ConfigError, match=message) as exc:
            load_fingerprinter(path, env={})
        assert exc.value.key == "store.key_file"


def test_an_ssh_key_file_that_is_dev_zero_is_a_config_error(tmp_path: Path) -> None:
    """asyncssh read the whole file: /dev/zero as key_file ended in the OOM killer."""
    (tmp_path / "kh").write_text("")
    cfg = tmp_path / "driftscan.yaml"
    cfg.write_text(
        f"store: {tmp_path / 's.duckdb'}\nsources:\n  - {{name: dc1, type: ssh, user: u, "
        "key_file: /dev/zero, known_hosts: ./kh, hosts: [{name: h, address: 127.0.0.1, port: 1}]}\n"
    )
    code, stderr, _ = _bounded_cli(tmp_path, "scan", "-c", str(cfg), "-q")
    assert code == 2, (code, stderr[-2000:])
    assert "key 'key_file'" in stderr and "/dev/zero: is a device" in stderr
