"""The one fixed shell script run on every host, its argument encoding and its output framing."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

# Run as `sh -c SCRIPT driftscan NONCE [f PATH | c PATH]...`. The script text never changes;
# configured paths only ever arrive as positional arguments, quoted with shlex.quote, so a
# path is data to the remote shell and never code. The nonce (random per connection) makes
# the section markers impossible to forge from file content.
#
# Each fact runs through x(), which prints a begin marker, the command's stdout, then an end
# marker with the exit status and the first 200 characters of stderr (captured separately
# through fd 3 so that warnings never pollute the data). The clock is sampled first so the
# collector can pair it with the arrival time of the first output.
SCRIPT = r"""m=$1; shift
LC_ALL=C; export LC_ALL
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH
x() {
  n=$1; shift
  printf '\n@%s begin %s\n' "$m" "$n"
  { e=$("$@" 2>&1 1>&3); } 3>&1
  r=$?
  printf '\n@%s end %s %s %s\n' "$m" "$n" "$r" "$(printf '%s' "$e" | tr -s '\t\n' '  ' | cut -c1-200)"
}
os() { cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release; }
pk() {
  if command -v dpkg-query >/dev/null 2>&1; then
    echo dpkg; dpkg-query -W -f '${Status}\t${Package}\t${Version}\n'
  elif command -v rpm >/dev/null 2>&1; then
    echo rpm; rpm -qa --qf 'install ok installed\t%{NAME}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\n'
  else
    echo none
  fi
}
sv() { systemctl list-units --type=service --all --no-legend --no-pager --plain; }
pt() { ss -Htulnp; }
ct() {
  for c in docker podman; do
    if command -v $c >/dev/null 2>&1; then
      echo $c
      i=$($c ps -q --no-trunc) || return
      [ -n "$i" ] || return 0
      $c inspect --format 'C {{.Name}} {{.Config.Image}} {{.Image}}' $i || return
      $c image inspect --format 'I {{.Id}} {{join .RepoDigests " "}}' $($c inspect --format '{{.Image}}' $i | sort -u)
      return
    fi
  done
  echo none
}
fh() {
  if [ ! -e "$1" ] && [ ! -L "$1" ]; then echo missing; return 0; fi
  stat -L -c '%a %U %s %Y' -- "$1" && sha256sum < "$1"
}
ce() {
  if [ ! -e "$1" ] && [ ! -L "$1" ]; then echo missing; return 0; fi
  cat -- "$1"
}
x clock date +%s.%N
x machine_id cat /etc/machine-id
x os os
x kernel uname -r
x packages pk
x services sv
x ports pt
x containers ct
i=0; j=0
while [ $# -gt 1 ]; do
  case $1 in
    f) x "file $i" fh "$2"; i=$((i+1));;
    c) x "cert $j" ce "$2"; j=$((j+1));;
  esac
  shift 2
done
printf '\n@%s done\n' "$m"
"""

ARGV0 = "driftscan"
FACTS = ("clock", "machine_id", "os", "kernel", "packages", "services", "ports", "containers")


def build_command(nonce: str, files: Sequence[str], certs: Sequence[str]) -> str:
    """The exact remote command line: the fixed script plus shell-quoted arguments."""
    args = [nonce]
    for p in files:
        args += ["f", p]
    for p in certs:
        args += ["c", p]
    return " ".join(["sh", "-c", shlex.quote(SCRIPT), ARGV0, *(shlex.quote(a) for a in args)])


@dataclass(frozen=True, slots=True)
class Invocation:
    """What a remote command line asks for, decoded the way a POSIX shell would."""

    nonce: str
    files: tuple[str, ...]
    certs: tuple[str, ...]


def parse_command(command: str) -> Invocation | None:
    """Decode a command built by build_command; None if it is anything else (fixture hosts)."""
    try:
        argv = shlex.split(command)
    except ValueError:
        return None
    if argv[:4] != ["sh", "-c", SCRIPT, ARGV0] or len(argv) < 5 or len(argv[5:]) % 2:
        return None
    files: list[str] = []
    certs: list[str] = []
    rest = argv[5:]
    for kind, path in zip(rest[::2], rest[1::2], strict=True):
        if kind == "f":
            files.append(path)
        elif kind == "c":
            certs.append(path)
        else:
            return None
    return Invocation(argv[4], tuple(files), tuple(certs))


def begin_marker(nonce: str, name: str) -> str:
    return f"@{nonce} begin {name}"


def end_prefix(nonce: str, name: str) -> str:
    return f"@{nonce} end {name} "


def done_marker(nonce: str) -> str:
    return f"@{nonce} done"


def section(nonce: str, name: str, stdout: str, rc: int = 0, stderr: str = "") -> str:
    """Exactly what x() prints for one fact (used by fixture hosts to answer like a real box)."""
    # $(...) strips trailing newlines, `tr -s '\t\n' '  '` squeezes, `cut -c1-200` truncates.
    squeezed = _tr_squeeze(stderr.rstrip("\n"))[:200]
    return f"\n{begin_marker(nonce, name)}\n{stdout}\n{end_prefix(nonce, name)}{rc} {squeezed}\n"


def done(nonce: str) -> str:
    return f"\n{done_marker(nonce)}\n"


def _tr_squeeze(text: str) -> str:
    # `tr -s '\t\n' '  '`: each tab/newline becomes a space, then runs of spaces produced
    # from them collapse (tr -s squeezes repeats of the *output* set, i.e. spaces).
    out: list[str] = []
    for ch in text:
        c = " " if ch in "\t\n" else ch
        if c == " " and out and out[-1] == " ":
            continue
        out.append(c)
    return "".join(out)
