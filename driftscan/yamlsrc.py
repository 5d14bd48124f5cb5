"""Load YAML while remembering the line of every key, so errors can name file, line and key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from driftscan.errors import ConfigError

Lines = dict[tuple[str | int, ...], int]


# libyaml's loader where the wheel has it: rule packs load many files on every `check`.
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc]
    """A safe loader that also refuses duplicate keys (a silent overwrite loses input)."""


def _construct_mapping(
    loader: _Loader, node: yaml.MappingNode, deep: bool = False
) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}'", key_node.start_mark
            )
        seen.add(key)
    mapping: dict[Any, Any] = loader.construct_mapping(node, deep=deep)
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _walk(node: yaml.Node, path: tuple[str | int, ...], lines: Lines) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            sub = (*path, str(key_node.value))
            lines[sub] = key_node.start_mark.line + 1
            _walk(value_node, sub, lines)
            lines[sub] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines)


def load_yaml(path: Path | str) -> tuple[Any, Lines]:
    """Parse a YAML file; return its data and a map from key path to line number."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", file=str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=str(p)) from None
    return parse_yaml(text, str(p))


def parse_yaml(text: str, name: str) -> tuple[Any, Lines]:
    """Parse YAML text (named `name` in errors); return its data and key-path lines."""
    lines: Lines = {}
    try:
        # One parse: compose the node tree (it carries line marks), then construct from it.
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError(f"invalid YAML: {exc.problem or exc}", file=name, line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", file=name) from None
    if node is not None:
        _walk(node, (), lines)
    return data, lines


def line_for(lines: Lines, loc: tuple[str | int, ...]) -> int | None:
    """The line of the longest prefix of `loc` that the file has (a missing key → its parent)."""
    for n in range(len(loc), -1, -1):
        hit = lines.get(tuple(loc[:n]))
        if hit is not None:
            return hit
    return None


def dotted(loc: tuple[str | int, ...]) -> str:
    """Render a key path as `sources[2].regions`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
