"""Secrets: the one definition of a secret-looking name, keyed fingerprints, and safe error text."""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from driftscan.errors import ConfigError
from driftscan.inputs import NotReadable, open_regular

# --- names -----------------------------------------------------------------------------------

# Words of a name: snake_case, kebab-case, dotted and camelCase all split the same way.
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
# A name with one of these words names a secret (design §1.3, §6.7): `db_pass`, `apiKey`, `PIN`.
SECRET_WORDS = frozenset(
    {
        "pass", "passwd", "password", "passwords", "passphrase", "pwd", "pin", "auth",
        "authorization", "credential", "credentials", "creds", "private", "token", "tokens", "secret",
        "secrets", "key", "keys", "apikey", "sas",
    }
)  # fmt: skip
# Run-together spellings (`dbpassword`, `clientsecret`, `customData`) caught as substrings.
_EMBEDDED = re.compile(
    r"passw|passphrase|secret|token|credential|apikey|accesskey|privatekey|primarykey|"
    r"secondarykey|connectionstring|customdata|userdata|sastoken",
    re.IGNORECASE,
)
# A later word that makes the name describe a secret rather than hold it: `kms_key_id`,
# `token_expiry`, `auth_type`, `files./etc/secret.conf.sha256`, `privateEndpointConnections`.
_DESCRIBES = frozenset(
    {
        "id", "ids", "arn", "arns", "name", "names", "type", "types", "source", "uri", "url",
        "version", "versions", "rotation", "spec", "usage", "state", "status", "enabled",
        "disabled", "required", "length", "size", "algorithm", "expiry", "expires",
        "expiration", "created", "count", "policy", "policies", "sha", "hash", "digest",
        "fingerprint", "thumbprint", "vault", "ref", "mode", "method", "methods", "endpoint",
        "endpoints", "connections", "link", "links", "ip", "ips", "address", "addresses",
        "network", "zone", "dns", "subnet", "format", "rotated", "last", "age", "days",
        # an exception's name (`NoCredentialsError: Unable to locate credentials`)
        "error", "errors", "exception",
    }
)  # fmt: skip
_PUBLIC = frozenset({"public"})
# Names whose whole subtree holds secret values, whatever the keys below are called.
SECRET_SUBTREES = frozenset(
    {"environment", "appsettings", "app_settings", "userdata", "customdata"}
)


def _words(name: str) -> list[str]:
    return [w.lower() for w in _WORDS.findall(name)]


@functools.lru_cache(maxsize=16384)
def is_secret_name(name: str) -> bool:
    """True when a key, tag or attribute path names a secret value (one shared definition).

    Remembered (and bounded): a million declarations repeat a few tag names, and classifying
    each again took 4 of the 6 µs that fingerprinting a declaration's secrets cost."""
    words = _words(name)
    if not words or _PUBLIC.intersection(words):
        return False
    hits = [i for i, w in enumerate(words) if w in SECRET_WORDS]
    # Run-together spellings may span words (`customData`): map each match to its last word.
    ends, pos = [], 0
    for w in words:
        pos += len(w)
        ends.append(pos)
    for m in _EMBEDDED.finditer("".join(words)):
        hits.append(next(i for i, e in enumerate(ends) if e >= m.end()))
    if not hits:
        return False
    hits.sort()
    # Only the words after the last secret word decide whether the name merely describes one.
    return not _DESCRIBES.intersection(words[hits[-1] + 1 :])


def is_secret_subtree(name: str) -> bool:
    """True for containers whose every value is a secret (environment, app settings, user data)."""
    return "".join(_words(name)) in {s.replace("_", "") for s in SECRET_SUBTREES}


# --- keyed fingerprints ----------------------------------------------------------------------

_FINGERPRINT = re.compile(r"^hmac-sha256:[0-9a-f]{12}:[0-9a-f]{64}$")
KEY_ENV = "DRIFTSCAN_FINGERPRINT_KEY"
# A key file holds one key, 64 hex digits as driftscan writes it; /dev/zero must not be read.
MAX_KEY_FILE_BYTES = 4096


@dataclass(frozen=True)
class Fingerprinter:
    """`hmac-sha256:<key id>:<hex>` stand-ins for secrets, keyed per store (design §6.7).

    Drift stays visible (the same value gives the same fingerprint under one key), and without
    the key a fingerprint cannot be tested against guesses (a 6-digit PIN, a dictionary word).
    """

    key: bytes = field(repr=False)
    key_id: str = ""

    def __post_init__(self) -> None:
        if not self.key_id:
            kid = hashlib.sha256(b"driftscan-fingerprint-key-id\0" + self.key).hexdigest()[:12]
            object.__setattr__(self, "key_id", kid)

    @classmethod
    def throwaway(cls) -> Fingerprinter:
        """A random key never stored: for contexts with nothing to match against yet."""
        return cls(os.urandom(32))

    def __call__(self, value: str | bytes) -> str:
        data = value.encode() if isinstance(value, str) else value
        digest = hmac.new(self.key, data, hashlib.sha256).hexdigest()
        return f"hmac-sha256:{self.key_id}:{digest}"


def is_fingerprint(value: Any) -> bool:
    """True only for a keyed fingerprint this tool wrote; `sha256:...` text from a payload is not."""
    return isinstance(value, str) and bool(_FINGERPRINT.match(value))


def fingerprint_key_id(value: str) -> str | None:
    """The key id inside a keyed fingerprint, or None."""
    return value.split(":", 2)[1] if is_fingerprint(value) else None


def load_fingerprinter(
    path: Path, env: Mapping[str, str] | None = None, *, create: bool = True
) -> Fingerprinter:
    """The store's fingerprint key: $DRIFTSCAN_FINGERPRINT_KEY, else the key file (created 0600
    with 32 random bytes on first use). A key file others can read is refused.

    With `create=False` (readers such as the desired-state loader) a missing file gives a
    throwaway key instead: nothing was fingerprinted with a key that does not exist yet.
    """
    env = os.environ if env is None else env
    if env.get(KEY_ENV):
        return Fingerprinter(env[KEY_ENV].encode())
    if not create and not path.exists():
        return Fingerprinter.throwaway()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as f:
            f.write(os.urandom(32).hex() + "\n")
    try:
        with open_regular(path, MAX_KEY_FILE_BYTES) as fh:
            mode = os.fstat(fh.fileno()).st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise ConfigError(
                    f"fingerprint key file is accessible to others (mode "
                    f"{stat.S_IMODE(mode):04o}); run: chmod 600 {path}",
                    file=str(path),
                    key="store.key_file",
                )
            raw = fh.read(MAX_KEY_FILE_BYTES + 1)
    except (OSError, NotReadable) as exc:
        raise ConfigError(
            f"fingerprint key file {exc}", file=str(path), key="store.key_file"
        ) from None
    try:
        # Text, as driftscan writes it (64 hex digits): a key's bytes are its text's bytes.
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise ConfigError(
            "fingerprint key file is not text (driftscan writes 64 hex digits, e.g. "
            "`openssl rand -hex 32`)",
            file=str(path),
            key="store.key_file",
        ) from None
    if len(text) < 32 or len(raw) > MAX_KEY_FILE_BYTES:
        raise ConfigError(
            f"fingerprint key file holds too {'short' if len(text) < 32 else 'long'} a key",
            file=str(path),
            key="store.key_file",
        )
    return Fingerprinter(text.encode())


# --- values and free text --------------------------------------------------------------------


@functools.lru_cache(maxsize=16384)
def _is_secret_key(name: str) -> bool:
    # Remembered (and bounded): an estate repeats a few hundred property names tens of
    # thousands of times, and classifying them again was a third of Azure collection's time.
    return is_secret_name(name) or is_secret_subtree(name)


def redact_tree(
    value: Any,
    fingerprint: Fingerprinter,
    *,
    secret: bool = False,
    keep: frozenset[str] = frozenset(),
) -> Any:
    """A copy of `value` with every string under a secret-looking key reduced to a fingerprint.

    Inside a secret subtree, keys in `keep` stay as they are (the `name` and `type` of an entry
    in a list of connection strings, say)."""
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for k, v in value.items():
            if secret and k in keep:
                out[k] = v
                continue
            inner = secret or _is_secret_key(str(k))
            out[k] = redact_tree(v, fingerprint, secret=inner, keep=keep)
        return out
    if isinstance(value, list):
        return [redact_tree(v, fingerprint, secret=secret, keep=keep) for v in value]
    if secret and isinstance(value, str) and value and not is_fingerprint(value):
        return fingerprint(value)
    return value


# A URL's userinfo: `scheme://user:password@host`, `scheme://token@host`. The authority ends at
# the first `/`, `?` or `#` (an `@` after it is a path's or a query's, e.g. a service account's
# email), and the greedy run makes its last `@` end the userinfo, as urllib splits it, so an
# unencoded `@` in a password is masked too. The scheme is bounded but not anchored to a word
# start: inside a longer run of letters the match starts later and still masks.
_URL_USERINFO = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]{0,31}://)(?P<userinfo>[^\s/?#\"'<>`]*)@"
)


def _mask_userinfo(m: re.Match[str]) -> str:
    user, colon, _ = m["userinfo"].partition(":")
    # Without a colon the whole userinfo may be the secret (`https://ghp_...@github.com`, an
    # API key sent as the Basic user name): a name cannot be told from a token by its look.
    return f"{m['scheme']}{user + ':' if colon else ''}[redacted]@"


def redact_url_credentials(text: str) -> str:
    """`text` with the credentials of every URL in it masked: `https://user:[redacted]@host`,
    and a userinfo with no password (`https://TOKEN@host`) masked whole. The one place for
    text that may carry a configured endpoint (error details, identities, logs, errors)."""
    return _URL_USERINFO.sub(_mask_userinfo, text) if "://" in text else text


def url_without_credentials(url: str) -> str:
    """`url` with its userinfo left out: still a URL a client can open (`[redacted]` in one is
    read as a malformed IPv6 host), for settings that are stored and used again."""
    return _URL_USERINFO.sub(lambda m: m["scheme"], url) if "://" in url else url


def redact_tags(tags: Mapping[str, Any], fingerprint: Fingerprinter) -> dict[str, Any]:
    """A copy of `tags` with the values of secret-looking names reduced to keyed fingerprints.

    Tags are free text on every provider, so a stray `db_password` tag is the likeliest way a
    secret value reaches the store: live resources and declarations both pass this. A value
    that merely looks like a fingerprint (`sha256:...`) is fingerprinted too: only one this
    tool wrote is left alone.
    """
    if not any(isinstance(k, str) and is_secret_name(k) for k in tags):
        return dict(tags)  # the common case: no name to classify twice, nothing to hash
    return {
        k: fingerprint(v)
        if isinstance(v, str) and v and is_secret_name(k) and not is_fingerprint(v)
        else v
        for k, v in tags.items()
    }


DETAIL_LIMIT = 500
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# `name=value`, `name: value`, `"name": "value"`, and AWS's `<Key>name</Key><Value>v</Value>`.
_PAIR = re.compile(
    r"""(?P<name>[A-Za-z_][\w.\-]{0,63})(?P<sep>["']?\s*[=:]\s*["']?)(?P<value>[^\s"'&,;<>}]+)"""
)
_XML_TAG = re.compile(
    r"(<Key>(?P<name>[^<]{1,128})</Key>\s*<Value>)(?P<value>[^<]*)(</Value>)", re.IGNORECASE
)


def safe_detail(text: str | None, *, limit: int = DETAIL_LIMIT) -> str | None:
    """Error text fit for the store, logs and reports: control characters gone, URL credentials
    and the values of secret-looking names redacted, and at most `limit` characters."""
    if text is None:
        return None
    # URLs first: a control character inside a userinfo would otherwise end it early.
    out = _CONTROL.sub(" ", redact_url_credentials(str(text)[: limit * 8]))
    out = _XML_TAG.sub(
        lambda m: (
            m.group(1) + ("[redacted]" if is_secret_name(m["name"]) else m["value"]) + m.group(4)
        ),
        out,
    )
    out = _PAIR.sub(
        lambda m: (
            m["name"] + m["sep"] + ("[redacted]" if is_secret_name(m["name"]) else m["value"])
        ),
        out,
    )
    out = " ".join(out.split())
    return out if len(out) <= limit else out[: limit - 1] + "…"
