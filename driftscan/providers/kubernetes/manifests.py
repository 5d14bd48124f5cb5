"""Desired state from plain manifests (`desired: [{kubernetes: manifests/}]`), compared as Argo CD
compares them: only the fields a manifest sets, after the server's defaults (design §6.2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from driftscan.desired.declaration import Declaration
from driftscan.errors import ConfigError
from driftscan.inputs import files_below, read_text
from driftscan.providers import DesiredInput
from driftscan.providers.kubernetes import keys as K
from driftscan.providers.kubernetes.kinds import BY_KIND, FOLDED
from driftscan.providers.kubernetes.normalise import defaulted, document
from driftscan.yamlsrc import Lines, line_for, parse_yaml

SUFFIXES = (".yaml", ".yml")


def manifest_files(root: Path, configured: str) -> list[Path]:
    """A file, or every *.yaml / *.yml below a folder, sorted."""
    if root.is_dir():
        return files_below(root, SUFFIXES)
    if not root.exists():
        raise ConfigError("file not found", file=configured)
    return [root]


def documents(text: str, name: str) -> list[tuple[int, Any, Lines]]:
    """(index, data, key-path lines) of each YAML document; lines are the file's own.

    Each document is cut out at its start line and parsed alone by the safe, bounded loader
    the rest of driftscan uses (padded, so its line numbers stay the file's).
    """
    try:
        starts = [
            e.start_mark.line
            for e in yaml.parse(text, Loader=yaml.SafeLoader)
            if isinstance(e, yaml.DocumentStartEvent) and e.start_mark is not None
        ]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ConfigError(
            f"invalid YAML: {exc.problem or exc}", file=name, line=mark.line + 1 if mark else None
        ) from None
    lines = text.splitlines(keepends=True)
    out: list[tuple[int, Any, Lines]] = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(lines)
        chunk = "\n" * start + "".join(lines[start:end])
        data, where = parse_yaml(chunk, name)
        if data is not None:
            out.append((i, data, where))
    return out


def _source(inp: DesiredInput) -> str:
    names = [s.name for s in inp.sources]
    if inp.source is not None:
        if inp.source not in names:
            listed = ", ".join(names) or "none configured"
            raise ConfigError(
                f"'{inp.source}' is not a kubernetes source ({listed})", key=f"{inp.key}.source"
            )
        return inp.source
    if len(names) != 1:
        raise ConfigError(
            "say which cluster these manifests declare with 'source:' "
            f"({len(names)} kubernetes sources are configured)",
            key=inp.key,
        )
    return names[0]


def _declaration(
    doc: dict[str, Any], source: str, shown: str, line: int | None, idx: int, inp: DesiredInput
) -> Declaration | None:
    def fail(message: str, key: str) -> ConfigError:
        return ConfigError(message, file=shown, line=line, key=f"document {idx}: {key}")

    api, kind = doc.get("apiVersion"), doc.get("kind")
    if not isinstance(api, str) or not api or not isinstance(kind, str) or not kind:
        raise fail("a manifest needs 'apiVersion' and 'kind'", "kind")
    spec = BY_KIND.get(kind)
    group = api.rsplit("/", 1)[0] if "/" in api else ""
    if spec is None or spec.group != group or kind in FOLDED:
        return None  # a kind the collector does not read (a CRD, say) cannot be compared
    meta = doc.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not meta["name"]:
        raise fail("a manifest needs 'metadata.name'", "metadata.name")
    labels = meta.get("labels") or {}
    if not isinstance(labels, dict):
        raise fail("'metadata.labels' must be a mapping", "metadata.labels")
    ns: str | None = None
    if spec.namespaced:
        ns = str(meta.get("namespace") or "default")  # kubectl's default namespace
    body = {k: v for k, v in doc.items() if k not in ("apiVersion", "kind", "status")}
    body["metadata"] = {k: v for k, v in meta.items() if k not in ("name", "namespace", "labels")}
    try:
        declared = document(defaulted(body, kind), kind, inp.fingerprint, live=False)
    except (ValueError, TypeError, AttributeError) as exc:
        raise fail(f"cannot read this manifest: {exc}", "spec") from None
    if not declared.get("metadata"):
        declared.pop("metadata", None)
    if labels:
        declared["tags"] = {str(k): "" if v is None else str(v) for k, v in labels.items()}
    name = str(meta["name"])
    return Declaration(
        key=K.key(source, ns, kind, name), provider=K.PROVIDER, type=spec.type,
        source=f"{shown}:{line} (document {idx})", account=source, name=K.display_name(ns, name),
        declared=declared,
    )  # fmt: skip


def load(inp: DesiredInput) -> tuple[list[str], list[Declaration]]:
    """Every manifest under the entry's path as declarations of its cluster's objects."""
    source = _source(inp)
    files: list[str] = []
    out: list[Declaration] = []
    for f in manifest_files(inp.path, inp.configured):
        shown = inp.display(f)
        files.append(shown)
        try:
            text = read_text(f)
        except (OSError, ValueError) as exc:  # ValueError: not UTF-8, not a regular file, too large
            raise ConfigError(f"cannot read: {exc}", file=shown) from None
        for idx, data, lines in documents(text, shown):
            line = line_for(lines, ())
            if not isinstance(data, dict):
                raise ConfigError("a manifest must be a mapping", file=shown, line=line,
                                  key=f"document {idx}")  # fmt: skip
            items = data.get("items") if data.get("kind") == "List" else [data]
            if not isinstance(items, list):
                raise ConfigError("a List's 'items' must be a list", file=shown, line=line,
                                  key=f"document {idx}: items")  # fmt: skip
            for j, item in enumerate(items):
                where = line_for(lines, ("items", j)) if item is not data else line
                if not isinstance(item, dict):
                    raise ConfigError("a manifest must be a mapping", file=shown, line=where,
                                      key=f"document {idx}")  # fmt: skip
                d = _declaration(item, source, shown, where, idx, inp)
                if d is not None:
                    out.append(d)
    return files, out


__all__ = ["documents", "load", "manifest_files"]
