"""Where the AWS collector keeps only fingerprints, and the same redaction for declared attributes."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from driftscan.redaction import Fingerprinter, is_fingerprint


def b64_fingerprint(fingerprint: Fingerprinter, value: str) -> str:
    """The fingerprint of user data: of the script itself when `value` is its base64 (as EC2
    returns it), else of the text as given."""
    try:
        return fingerprint(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        return fingerprint(value)


# The AWS collector fingerprints by field, not by name: it stores `metadata_http_tokens`,
# `key_manager` and `secret_arns` in clear, so the declared side names the same fields
# (collect/services: `_function`, `_variables`, `_container`, `_instance_user_data` and the
# launch templates' user data) rather than testing names.
_VALUES = {
    "AWS::Lambda::Function": "environment",
    "AWS::ApiGateway::Stage": "variables",
    "AWS::ApiGatewayV2::Stage": "variables",
}
_USER_DATA = frozenset({"AWS::EC2::Instance", "AWS::EC2::LaunchTemplate"})
_REDACTED = frozenset({*_VALUES, *_USER_DATA, "AWS::ECS::TaskDefinition"})


def _values(values: Any, fp: Fingerprinter) -> Any:
    # Names are configuration, values are fingerprinted (str() as the collector does); a
    # declared fingerprint is one already keyed, which declares a secret without its text.
    if not isinstance(values, dict):
        return values
    return {str(k): v if v is None or is_fingerprint(v) else fp(str(v)) for k, v in values.items()}


def _container(c: Any, fp: Fingerprinter) -> Any:
    if not isinstance(c, dict):
        return c
    out = dict(c)
    if "environment" in out:
        out["environment"] = _values(out["environment"], fp)
    cmd = out.get("command")
    if cmd is not None and not is_fingerprint(cmd):
        out["command"] = fp(json.dumps(cmd))  # the collector's fingerprint of the list
    return out


def redact_declared(rtype: str | None, attrs: dict[str, Any], fp: Fingerprinter) -> dict[str, Any]:
    """Declared attributes with the fields the collector fingerprints fingerprinted alike
    (`attrs` itself for a type whose collector fingerprints nothing)."""
    if rtype not in _REDACTED:
        return attrs
    out = dict(attrs)
    field = _VALUES.get(rtype or "")
    if field is not None and field in out:
        out[field] = _values(out[field], fp)
    if rtype == "AWS::ECS::TaskDefinition" and isinstance(out.get("containers"), list):
        out["containers"] = [_container(c, fp) for c in out["containers"]]
    ud = out.get("user_data")
    if rtype in _USER_DATA and isinstance(ud, str) and ud and not is_fingerprint(ud):
        out["user_data"] = b64_fingerprint(fp, ud)
    return out
