"""Parsers from the fixed script's sectioned output to host facts (one dict of attributes)."""

from __future__ import annotations

import re
import shlex
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from driftscan.providers.ssh.collect.script import FACTS, done_marker, end_prefix


class OutputError(ValueError):
    """The output as a whole is not what the script prints (truncated, foreign shell, ...)."""


@dataclass(slots=True)
class Section:
    """One fact's raw output: stdout text, exit status and the head of stderr."""

    body: str
    rc: int
    err: str


@dataclass(frozen=True, slots=True)
class Timing:
    """Local wall-clock instants around the remote clock sample, for the offset."""

    sent: float  # the exec request left (just before)
    received: float  # the clock section arrived


def split_sections(text: str, nonce: str) -> dict[str, Section]:
    """Cut the output into sections by its nonce markers; OutputError if the frame is broken."""
    lines = text.split("\n")
    sections: dict[str, Section] = {}
    done = done_marker(nonce)
    begin = f"@{nonce} begin "
    i, n = 0, len(lines)
    finished = False
    while i < n:
        line = lines[i]
        if line == done:
            finished = True
            break
        if not line.startswith(begin):
            # Text outside the nonce frames (a chatty .bashrc, say) cannot be ours: skip it.
            i += 1
            continue
        name = line[len(begin) :]
        end = end_prefix(nonce, name)
        j = i + 1
        while j < n and not lines[j].startswith(end):
            j += 1
        if j == n:
            raise OutputError(f"section '{name}' has no end marker (output truncated?)")
        rc_text, _, err = lines[j][len(end) :].partition(" ")
        try:
            rc = int(rc_text)
        except ValueError:
            raise OutputError(f"section '{name}' has a bad exit status {rc_text!r}") from None
        body = lines[i + 1 : j]
        # x() prints a newline before the end marker, so a body ending in "\n" gives one
        # trailing empty line; drop exactly that one.
        if body and body[-1] == "":
            body.pop()
        sections[name] = Section("\n".join(body), rc, err.strip())
        i = j + 1
    if not finished:
        raise OutputError("no end-of-output marker (output truncated?)")
    missing = [f for f in FACTS if f not in sections]
    if missing:
        raise OutputError(f"sections missing: {', '.join(missing)}")
    return sections


def why(sec: Section) -> str:
    """A short not-assessed reason from a failed section."""
    err = sec.err.lower()
    if "permission denied" in err or "operation not permitted" in err:
        return "permission denied"
    if sec.rc == 127 or "not found" in err:
        return f"command not found: {sec.err[:120]}" if sec.err else "command not found"
    return sec.err[:160] or f"exit status {sec.rc}"


def parse_os_release(body: str) -> dict[str, str | None]:
    values: dict[str, str] = {}
    for line in body.splitlines():
        key, sep, raw = line.partition("=")
        if not sep or not key.strip() or key.startswith("#"):
            continue
        try:
            parts = shlex.split(raw)
        except ValueError:
            parts = [raw.strip("\"'")]
        values[key.strip()] = parts[0] if parts else ""
    if "ID" not in values:
        raise ValueError("os-release has no ID")
    return {
        "id": values.get("ID"),
        "version_id": values.get("VERSION_ID"),
        "pretty_name": values.get("PRETTY_NAME"),
    }


def parse_packages(body: str) -> dict[str, str]:
    lines = body.splitlines()
    if not lines or lines[0] not in {"dpkg", "rpm", "none"}:
        raise ValueError("no package manager line")
    out: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise ValueError(f"bad package line {line[:80]!r}")
        status, name, version = parts
        # dpkg also lists removed packages whose config files remain ("deinstall ok config-files").
        if status.endswith(" installed"):
            # A fleet shares most names and versions: interning keeps one copy of each
            # (1,000 hosts × 1,500 packages is otherwise ~3M separate small strings).
            out[sys.intern(name)] = sys.intern(version)
    return dict(sorted(out.items()))


def parse_services(body: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in body.splitlines():
        parts = line.split()
        if parts and parts[0] in {"●", "*"}:
            parts = parts[1:]
        if not parts:
            continue
        if len(parts) < 4:
            raise ValueError(f"bad unit line {line[:80]!r}")
        unit, _load, _active, sub = parts[:4]
        # Keys match declared state (`services: {nginx: running}`): unit without ".service",
        # value the SUB state (running, exited, dead, failed), which says more than ACTIVE.
        out[unit.removesuffix(".service")] = sub
    return dict(sorted(out.items()))


_PROC = re.compile(r'users:\(\("((?:[^"\\]|\\.)*)"')


def parse_ports(body: str) -> list[dict[str, Any]]:
    seen: set[tuple[str, str, int, str | None]] = set()
    for line in body.splitlines():
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 6:
            raise ValueError(f"bad socket line {line[:80]!r}")
        proto, local = parts[0], parts[4]
        addr, sep, port_text = local.rpartition(":")
        if not sep or not port_text.isdigit():
            raise ValueError(f"bad local address {local!r}")
        addr = addr.split("%", 1)[0]  # 127.0.0.53%lo → 127.0.0.53
        if addr.startswith("[") and addr.endswith("]"):
            addr = addr[1:-1]
        m = _PROC.search(line)
        seen.add((proto, addr, int(port_text), m.group(1) if m else None))
    return [
        {"proto": p, "address": a, "port": n, "process": proc}
        for p, a, n, proc in sorted(seen, key=lambda t: (t[0], t[2], t[1], t[3] or ""))
    ]


def parse_containers(body: str) -> dict[str, dict[str, str | None]]:
    lines = body.splitlines()
    if not lines or lines[0] not in {"docker", "podman", "none"}:
        raise ValueError("no container runtime line")
    running: list[tuple[str, str, str]] = []
    digests: dict[str, list[str]] = {}
    for line in lines[1:]:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "C" and len(parts) == 4:
            running.append((parts[1].lstrip("/"), parts[2], parts[3]))
        elif parts[0] == "I" and len(parts) >= 2:
            digests[parts[1]] = parts[2:]
        else:
            raise ValueError(f"bad container line {line[:80]!r}")
    out: dict[str, dict[str, str | None]] = {}
    for name, image, image_id in running:
        out[name] = {
            "image": image,
            "digest": _repo_digest(image, digests.get(image_id, [])) or image_id,
        }
    return dict(sorted(out.items()))


def _repo_digest(image: str, repo_digests: list[str]) -> str | None:
    # The registry digest (what a tag resolved to when pulled) beats the local image ID:
    # it is what an operator compares with the build pipeline's output.
    repo = image.split("@", 1)[0]
    last = repo.rsplit("/", 1)[-1]
    if ":" in last:
        repo = repo[: len(repo) - len(last)] + last.split(":", 1)[0]
    for rd in repo_digests:
        r, _, d = rd.partition("@")
        if r == repo or r.endswith("/" + repo):
            return d
    return repo_digests[0].partition("@")[2] if repo_digests else None


def parse_file(body: str) -> dict[str, Any]:
    lines = body.splitlines()
    if lines == ["missing"]:
        return {"error": "missing"}
    if len(lines) != 2:
        raise ValueError("expected a stat line and a sha256 line")
    mode, owner, size, mtime = lines[0].split(" ")
    digest = lines[1].split()[0]
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ValueError("bad sha256")
    return {
        "sha256": digest,
        "mode": mode.zfill(4),
        "owner": owner,
        "size": int(size),
        "mtime": datetime.fromtimestamp(int(mtime), UTC).isoformat(),
    }


def parse_cert(body: str, now: datetime) -> dict[str, Any]:
    if body.strip() == "missing":
        return {"error": "missing"}
    certs = x509.load_pem_x509_certificates(body.encode())
    cert = certs[0]  # a bundle's leaf comes first
    not_after = cert.not_valid_after_utc
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "not_after": not_after.isoformat(),
        "days_left": int((not_after - now).total_seconds() // 86400),
        "sha256": cert.fingerprint(hashes.SHA256()).hex(),
    }


def parse_clock(body: str) -> float:
    text = body.strip()
    whole, _, frac = text.partition(".")
    if not whole.isdigit():
        raise ValueError(f"bad clock {text[:40]!r}")
    # busybox `date` has no %N and prints it literally: fall back to whole seconds.
    return float(f"{whole}.{frac}") if frac.isdigit() else float(whole)


def parse_output(
    text: str,
    nonce: str,
    files: list[str],
    certs: list[str],
    timing: Timing,
) -> dict[str, Any]:
    """All host facts from one run of the script. A fact that failed or did not parse is None
    and named in attrs["not_assessed"] with the reason; OutputError if the frame is broken."""
    secs = split_sections(text, nonce)
    attrs: dict[str, Any] = {}
    not_assessed: dict[str, str] = {}

    def fact(name: str, sec: Section | None, parser: Any, *args: Any) -> Any:
        if sec is None:
            not_assessed[name] = "no output"
            return None
        if sec.rc != 0:
            not_assessed[name] = why(sec)
            return None
        try:
            return parser(sec.body, *args)
        except ValueError as exc:  # cryptography and int() raise ValueError subclasses
            not_assessed[name] = f"parse: {exc}"[:200]
            return None

    remote = fact("clock", secs["clock"], parse_clock)
    if remote is not None:
        mid = (timing.sent + timing.received) / 2
        attrs["clock"] = {
            "offset_s": round(remote - mid, 3),
            "rtt_s": round(timing.received - timing.sent, 3),
        }
    else:
        attrs["clock"] = None
    mid_id = fact("machine_id", secs["machine_id"], lambda b: b.strip() or _raise("empty"))
    attrs["machine_id"] = mid_id
    attrs["os"] = fact("os", secs["os"], parse_os_release)
    attrs["kernel"] = fact("kernel", secs["kernel"], lambda b: b.strip() or _raise("empty"))
    attrs["packages"] = fact("packages", secs["packages"], parse_packages)
    attrs["services"] = fact("services", secs["services"], parse_services)
    attrs["ports"] = fact("ports", secs["ports"], parse_ports)
    attrs["containers"] = fact("containers", secs["containers"], parse_containers)

    now = datetime.fromtimestamp(timing.received, UTC)
    file_facts: dict[str, Any] = {}
    for i, path in enumerate(files):
        file_facts[path] = _per_path(secs.get(f"file {i}"), parse_file)
    cert_facts: dict[str, Any] = {}
    for i, path in enumerate(certs):
        cert_facts[path] = _per_path(secs.get(f"cert {i}"), parse_cert, now)
    attrs["files"] = file_facts
    attrs["certs"] = cert_facts
    attrs["not_assessed"] = dict(sorted(not_assessed.items()))
    return attrs


def _per_path(sec: Section | None, parser: Any, *args: Any) -> dict[str, Any]:
    # A path's failure stays with that path: {"error": ...} instead of its facts.
    if sec is None:
        return {"error": "no output"}
    if sec.rc != 0:
        return {"error": why(sec)}
    try:
        result: dict[str, Any] = parser(sec.body, *args)
    except ValueError as exc:
        return {"error": f"parse: {exc}"[:200]}
    return result


def _raise(msg: str) -> str:
    raise ValueError(msg)
