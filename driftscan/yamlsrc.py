"""Load YAML while remembering the line of every key, so errors can name file, line and key."""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from driftscan.errors import ConfigError
from driftscan.inputs import NotReadable, read_text

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
        # `? [a]` would be a TypeError, not a located error; a `!!binary` key is no name any
        # document, resource or rule uses (and JSON, which declared state is compared as, has none)
        if not isinstance(key, Hashable) or isinstance(key, bytes):
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            )
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}'", key_node.start_mark
            )
        seen.add(key)
    mapping: dict[Any, Any] = loader.construct_mapping(node, deep=deep)
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# Bounds on what a YAML file may make the rest of driftscan walk (config, desired state and rule
# files are all input an attacker may write). Aliases make the composed node graph a DAG: building
# Python objects from it shares them, but everything that walks the data afterwards (the line map,
# validation, flattening) sees the expansion, so a billion-laughs file of 1 KB means 10^9 nodes.
MAX_ALIAS_NODES = 1_000_000  # nodes that aliases may add beyond those written out
MAX_DEPTH = 100  # nested levels; the constructor recurses, and real files stay under 20


def _check_aliases(root: yaml.Node, name: str) -> None:
    """Refuse a node graph that contains itself or whose aliases expand beyond MAX_ALIAS_NODES.

    Iterative (an alias chain can be deeper than Python's stack) and memoised: each node's
    expanded size is computed once, so a shared node costs nothing the second time.
    """
    size: dict[int, int] = {}  # id(node) → nodes in its expansion
    open_: set[int] = set()  # the current path: meeting one of these again is a cycle
    stack: list[tuple[yaml.Node, list[yaml.Node] | None]] = [(root, None)]
    while stack:
        node, kids = stack.pop()
        nid = id(node)
        if kids is not None:  # every child measured: this node's turn
            n = 1
            for k in kids:
                n += size[id(k)]
            open_.discard(nid)
            size[nid] = n
            # len(size) counts the nodes written out so far; the rest of n came through aliases.
            if n - len(size) > MAX_ALIAS_NODES:
                raise ConfigError(
                    f"YAML aliases expand beyond {MAX_ALIAS_NODES:,} nodes; refusing "
                    "(billion-laughs protection)",
                    file=name,
                    line=node.start_mark.line + 1,
                )
            continue
        if nid in size:
            continue  # an alias of a node already measured
        if nid in open_:
            raise ConfigError(
                "a YAML alias refers to a node that contains it (a recursive structure); refusing",
                file=name,
                line=node.start_mark.line + 1,
            )
        open_.add(nid)
        if isinstance(node, yaml.MappingNode):
            kids = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            kids = list(node.value)
        else:
            kids = []
        stack.append((node, kids))
        stack.extend((k, None) for k in kids)


def _walk(node: yaml.Node, path: tuple[str | int, ...], lines: Lines, name: str) -> None:
    if len(path) > MAX_DEPTH:
        raise ConfigError(
            f"YAML nested deeper than {MAX_DEPTH} levels; refusing",
            file=name,
            line=node.start_mark.line + 1,
            key=dotted(path[:3]) + " ...",
        )
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            sub = (*path, str(key_node.value))
            lines[sub] = key_node.start_mark.line + 1
            _walk(value_node, sub, lines, name)
            lines[sub] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines, name)


def load_yaml(path: Path | str) -> tuple[Any, Lines]:
    """Parse a YAML file; return its data and a map from key path to line number."""
    return parse_yaml(read_yaml_text(path), str(path))


def read_yaml_text(path: Path | str) -> str:
    """The text of a YAML file: a regular file of at most MAX_INPUT_BYTES, in UTF-8."""
    try:
        return read_text(path)
    except FileNotFoundError:
        raise ConfigError("file not found", file=str(path)) from None
    except NotReadable as exc:
        raise ConfigError(str(exc), file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=str(path)) from None


def parse_yaml(text: str, name: str) -> tuple[Any, Lines]:
    """Parse YAML text (named `name` in errors); return its data and key-path lines."""
    lines: Lines = {}
    try:
        # One parse: compose the node tree (it carries line marks), then construct from it.
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                # Both before construction, which recurses: the alias budget first (an anchor is
                # the only way to share a node, so a file without '&' has none), then the line
                # map, which follows aliases and refuses nesting deeper than MAX_DEPTH.
                if "&" in text:
                    _check_aliases(node, name)
                _walk(node, (), lines, name)
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError(f"invalid YAML: {exc.problem or exc}", file=name, line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", file=name) from None
    except RecursionError:  # the pure-Python loader (no libyaml) composes recursively
        raise ConfigError(
            f"YAML nested deeper than {MAX_DEPTH} levels; refusing", file=name
        ) from None
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


class LocatedError(ValueError):
    """A validation error raised by a model validator that knows its key path."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        self.loc = loc
        super().__init__(message)


def _child(cur: Any, part: str | int) -> tuple[bool, Any]:
    """(True, cur[part]) where the data has that key or index, else (False, None)."""
    if isinstance(cur, dict) and part in cur:
        return True, cur[part]
    if isinstance(cur, list) and isinstance(part, int) and part < len(cur):
        return True, cur[part]
    return False, None


def data_path(
    data: Any, loc: tuple[str | int, ...], tags: frozenset[str] = frozenset()
) -> tuple[str | int, ...]:
    """The part of pydantic's error location that names real keys of the data.

    pydantic inserts discriminator tags (`tags`, e.g. a source's type) and validator names;
    a missing required key is kept, as the key to name.
    """
    out: list[str | int] = []
    cur = data
    for part in loc:
        found, child = _child(cur, part)
        if found:
            cur = child
            out.append(part)
            continue
        if isinstance(cur, dict) and part in tags and cur.get("type") == part:
            continue
        if isinstance(cur, dict) and isinstance(part, str):
            out.append(part)
        break
    return tuple(out)


def _describe(err: Any, data: Any, tags: frozenset[str]) -> tuple[tuple[str | int, ...], str]:
    """One pydantic error as (key path in the data, a message a person can act on)."""
    ctx_err = (err.get("ctx") or {}).get("error")
    if isinstance(ctx_err, LocatedError):
        return ctx_err.loc, str(ctx_err)
    loc = data_path(data, tuple(err["loc"]), tags)
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    elif err["type"] == "missing":
        msg = "required key is missing"
    elif err["type"] == "union_tag_invalid":
        msg = f"unknown type; expected one of {', '.join(sorted(tags))}"
        loc = (*loc, "type")
    elif err["type"] == "union_tag_not_found":
        msg = f"needs a 'type' ({', '.join(sorted(tags))})"
    return loc, msg


def describe_all(
    exc: ValidationError, data: Any, *, tags: frozenset[str] = frozenset()
) -> list[tuple[tuple[str | int, ...], str]]:
    """Every pydantic error as (key path in the data, message), in pydantic's order, each
    distinct one once."""
    return list(dict.fromkeys(_describe(e, data, tags) for e in exc.errors()))


def describe_validation(
    exc: ValidationError, data: Any, *, tags: frozenset[str] = frozenset()
) -> tuple[tuple[str | int, ...], str]:
    """pydantic's first error as (key path in the data, a message a person can act on), for
    errors that name one place (a rule file's line); the count of the others is appended."""
    described = describe_all(exc, data, tags=tags)
    loc, msg = described[0]
    more = len(described) - 1
    if more:
        msg += f" (and {more} more error{'s' if more > 1 else ''})"
    return loc, msg


def validation_error(
    exc: ValidationError, data: Any, lines: Lines, file: str, *, tags: frozenset[str] = frozenset()
) -> ConfigError:
    """Every pydantic error as one ConfigError naming the file, the line and the key path of
    the first, and carrying the others (`ConfigError.others`), each with its own."""
    found = [
        ConfigError(msg, file=file, line=line_for(lines, loc), key=dotted(loc) or None)
        for loc, msg in describe_all(exc, data, tags=tags)
    ]
    first = found[0]
    first.others = found[1:]
    return first
