"""Reading the config file's YAML safely: what PyYAML accepts but a config must not contain.

* Bytes that are not UTF-8 are an error naming the offset, not a decode traceback.
* A key given twice in one mapping is an error naming its path (PyYAML keeps the last silently).
* Aliases are counted before anything is built: a "billion laughs" document (aliases of aliases)
  is refused at once instead of expanding into billions of values for validation to walk.
* Nesting deeper than any config needs is refused (deep enough nesting overflows the stack).

The document is composed into nodes first (aliases stay shared there, so composing is cheap),
checked, and only then constructed.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_DEPTH = 64  # a gridwatch config nests about 6 levels
MAX_VALUES = 100_000  # scalars after expanding aliases; a large config has a few thousand
MAX_BYTES = 4 * 1024 * 1024


class YamlError(ValueError):
    """What is wrong with the file, with the key path (or line) where it is."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def load_yaml(raw: bytes) -> Any:
    """The document in ``raw`` as Python data; YamlError for anything a config must not be."""
    if len(raw) > MAX_BYTES:
        raise YamlError("", f"the file is larger than {MAX_BYTES // 1024 // 1024} MiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlError(
            "", f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at offset {exc.start}"
        ) from None
    loader = yaml.SafeLoader(text)
    try:
        _check_depth(text)
        node = _compose(loader)
        if node is None:
            return None
        _check(node, "", 0, {})
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlError("", f"YAML syntax error at {where}{problem}") from None
    finally:
        loader.dispose()


def _check_depth(text: str) -> None:
    """Refuse deep nesting from the event stream (flat, and it stops at the first level too
    many): PyYAML composes recursively, slowly and finally out of stack on such a document."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                where = f"line {mark.line + 1}: " if mark is not None else ""
                raise YamlError("", f"{where}nested more than {MAX_DEPTH} levels deep")
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            depth -= 1


def _compose(loader: yaml.SafeLoader) -> Node | None:
    try:
        node: Node | None = loader.get_single_node()
    except RecursionError:  # _check_depth comes first; kept as a last guard
        raise YamlError("", f"nested more than {MAX_DEPTH} levels deep") from None
    return node


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _check(node: Node, path: str, depth: int, sizes: dict[int, int]) -> int:
    """The number of values ``node`` expands to (memoised per node: aliases share nodes)."""
    if depth > MAX_DEPTH:
        raise YamlError(path, f"nested more than {MAX_DEPTH} levels deep")
    known = sizes.get(id(node))
    if known is not None:
        return known
    size = 1
    if isinstance(node, MappingNode):
        seen: dict[object, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            if key is not None and key != "<<":  # "<<" merges; its keys may be overridden
                if key in seen:
                    raise YamlError(
                        _join(path, str(key)),
                        f"given twice (lines {seen[key] + 1} and {key_node.start_mark.line + 1})",
                    )
                seen[key] = key_node.start_mark.line
            size += _check(key_node, path, depth + 1, sizes)
            size += _check(value_node, _join(path, str(key)), depth + 1, sizes)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            size += _check(item, f"{path}[{index}]", depth + 1, sizes)
    if size > MAX_VALUES:
        raise YamlError(
            path, f"expands to more than {MAX_VALUES} values (aliases of aliases: a YAML bomb?)"
        )
    sizes[id(node)] = size
    return size


def duplicate_names(data: Any, path: str = "") -> list[tuple[str, str]]:
    """Entries of one list that carry the same ``name`` (meters, inverters, plugs, batteries):
    names label metrics and plugs, so two entries with one name would mix up their data."""
    problems: list[tuple[str, str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            problems += duplicate_names(value, _join(path, str(key)))
    elif isinstance(data, list):
        first: dict[str, int] = {}
        for index, item in enumerate(data):
            name = item.get("name") if isinstance(item, dict) else None
            if isinstance(name, str):
                if name in first:
                    problems.append(
                        (
                            f"{path}[{index}].name",
                            f"{name!r} is already the name of {path}[{first[name]}]",
                        )
                    )
                else:
                    first[name] = index
            problems += duplicate_names(item, f"{path}[{index}]")
    return problems


def names_across(data: Any, keys: tuple[str, ...]) -> list[tuple[str, str]]:
    """Entries of several top-level lists (``keys``) that carry the same ``name``."""
    problems: list[tuple[str, str]] = []
    first: dict[str, str] = {}
    for key in keys:
        entries = data.get(key) if isinstance(data, dict) else None
        for index, item in enumerate(entries if isinstance(entries, list) else []):
            name = item.get("name") if isinstance(item, dict) else None
            if not isinstance(name, str):
                continue
            where = f"{key}[{index}]"
            if name in first and not first[name].startswith(f"{key}["):
                problems.append((f"{where}.name", f"{name!r} is already the name of {first[name]}"))
            first.setdefault(name, where)
    return problems
