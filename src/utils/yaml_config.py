"""YAML portfolio files: PyYAML's safe loader, plus the line of every key.

``read_yaml(path, text)`` returns the plain data (dicts, lists, scalars) that the same pydantic
models validate as a JSON file's, and a ``KeyLines`` that maps a pydantic error location such as
``("portfolio", "target_allocations", "AAPL")`` to the line that wrote it. It refuses what makes
no sense in a configuration file, each as a ``ConfigError`` of one line naming the file and the
line: a syntax error, a tag other than YAML's core ones (``!!python/object``, ``!include``,
``!!set`` ...), a key written twice in one mapping (naming both lines), a document that expands
to too many values through aliases. Anchors, aliases and ``<<`` merge keys are fine.

Mapping keys are always read as their text: ``ON: 0.2`` is the ticker ``"ON"``, not ``True``.
A plain date (``replay_start: 2015-02-30``) stays text, as in a JSON file, so that pydantic
validates it and the error names the file, the line, the field and the value; an explicit
``!!timestamp`` still makes a date, and one that is not a date is refused with its line. A value
that a core tag cannot make (``!!int abc``, ``!!bool maybe``) is refused with its line too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from src.errors import ConfigError, one_line_error

_CORE = "tag:yaml.org,2002:"
ALLOWED_TAGS = frozenset(_CORE + t for t in ("null", "bool", "int", "float", "str", "timestamp", "seq", "map"))
_MERGE = _CORE + "merge"
MAX_VALUES = 100_000  # far above any portfolio file; stops "billion laughs" alias bombs


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader without the implicit timestamp: ``2015-01-02`` is the text ``"2015-01-02"``.

    Every value a constructor cannot make (a ``ValueError``, ``TypeError`` or ``KeyError`` inside
    PyYAML, e.g. ``!!timestamp 2015-02-30``) becomes a ``ConstructorError`` at the value's line,
    which ``read_yaml`` reports as one line naming the file.
    """

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _CORE + "timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            tag = node.tag.replace(_CORE, "!!")
            what = f"{node.value!r} is not a valid {tag}" if isinstance(node, yaml.ScalarNode) else f"not a valid {tag}"
            if isinstance(exc, (ValueError, TypeError)):  # KeyError, AttributeError: PyYAML's, nothing to add
                what += f": {' '.join(str(exc).split())}"
            raise yaml.constructor.ConstructorError(None, None, what, node.start_mark) from exc


class KeyLines:
    """Line (1-based) of each key path of a YAML document; a location is matched by its longest known prefix."""

    def __init__(self) -> None:
        self.lines: dict[tuple[str, ...], int] = {(): 1}

    def line_of(self, loc: tuple[Any, ...]) -> int:
        """The line of ``loc`` (a pydantic error location), or of its nearest written parent."""
        parts = tuple(str(p) for p in loc)
        for end in range(len(parts), -1, -1):
            if parts[:end] in self.lines:
                return self.lines[parts[:end]]
        return 1


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


class _Checker:
    """Walks the composed node tree: refuses odd tags and duplicate keys, records key lines."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.key_lines = KeyLines()
        self.seen = 0

    def fail(self, node: yaml.Node, problem: str) -> ConfigError:
        return ConfigError(f"{self.where} line {_line(node)}: {problem}")

    def check(self, node: yaml.Node, path: tuple[str, ...], active: frozenset[int], merged: bool = False) -> None:
        """Check ``node`` at ``path``; ``merged``: its keys come from a ``<<`` merge (the mapping's own keys win)."""
        self.seen += 1
        if self.seen > MAX_VALUES:
            raise self.fail(node, f"expands to more than {MAX_VALUES} values (aliases?); not a portfolio file")
        if node.tag not in ALLOWED_TAGS:
            raise self.fail(node, f"tag {node.tag.replace(_CORE, '!!')!r} is not allowed in a portfolio file")
        if id(node) in active:  # a recursive alias (&a [*a]): pydantic refuses the value anyway
            return
        active = active | {id(node)}
        if isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self.record(path + (str(i),), item, merged)
                self.check(item, path + (str(i),), active)
        elif isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            merges = []
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE:
                    merges.extend(value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node])
                    continue
                if not isinstance(key_node, yaml.ScalarNode):
                    raise self.fail(key_node, "a key must be plain text, not a list or a mapping")
                key_node.tag = _CORE + "str"  # "ON", "no", "1" are names here, not a bool or a number
                key = key_node.value
                if key in first:
                    raise self.fail(key_node, f"key {'.'.join(path + (key,))!r} written twice "
                                              f"(lines {first[key]} and {_line(key_node)})")
                first[key] = _line(key_node)
                self.record(path + (key,), key_node, merged)
                self.check(value_node, path + (key,), active)
            for source in merges:
                self.check(source, path, active, merged=True)

    def record(self, path: tuple[str, ...], node: yaml.Node, merged: bool) -> None:
        if merged:
            self.key_lines.lines.setdefault(path, _line(node))
        else:
            self.key_lines.lines[path] = _line(node)

def read_yaml(path: Path, text: str, where: str | None = None) -> tuple[Any, KeyLines]:
    """Parse ``text`` (the contents of ``path``) into plain data and the line of each key.

    ``where`` names the file in messages (default ``config file <path>``).

    Raises
    ------
    ConfigError
        One line, ``<where> line L: <problem>``, for a syntax error, a disallowed tag, a duplicate
        key, or an alias bomb; ``<where> is empty`` for a file without a document.
    """
    where = where or f"config file {path}"
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:  # a control character: the reader refuses the text up front
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise ConfigError(f"{where} line {line}: not valid YAML: character U+{code:04X} is not allowed") from exc
    try:
        node = loader.get_single_node()
        if node is None:
            raise ConfigError(f"{where} is empty (no YAML document)")
        checker = _Checker(where)
        checker.check(node, (), frozenset())
        return loader.construct_document(node), checker.key_lines
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f" line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "unreadable"
        if exc.problem and exc.context:
            context = exc.context + (f" at line {exc.context_mark.line + 1}" if exc.context_mark else "")
            problem = f"{context}, {problem}" if problem.startswith("but ") else f"{problem} ({context})"
        raise ConfigError(f"{where}{line}: not valid YAML: {' '.join(problem.split())}") from exc
    except yaml.YAMLError as exc:  # a reader error (control character) has no problem_mark
        raise ConfigError(f"{where}: not valid YAML: {' '.join(str(exc).split())}") from exc
    except ConfigError:
        raise
    except (ValueError, TypeError) as exc:  # a value PyYAML could not make, outside any node (_Loader names the line)
        raise ConfigError(f"{where}: not valid YAML: {one_line_error(exc)}") from exc
    finally:
        loader.dispose()


def yaml_validation_error(where: str, exc: ValidationError, key_lines: KeyLines) -> ConfigError:
    """A ``ConfigError`` naming the file, then for each problem its line, key and message.

    ``config file F line 7: portfolio.target_allocations.AAPL: Input should be a valid number
    (got 'abc'); line 12: runtime.x: Extra inputs are not permitted``. Each part is worded by
    ``one_line_error`` (an unknown key first, its value never echoed).
    """
    parts = []
    for err in sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden"):
        try:
            single = ValidationError.from_exception_data(exc.title, [
                {"type": err["type"], "loc": err["loc"], "input": err.get("input"), **({"ctx": err["ctx"]} if "ctx" in err else {})}
            ])
            text = one_line_error(single).removeprefix(f"{exc.title}: ")
        except (KeyError, TypeError, ValueError):  # an error type pydantic cannot rebuild: the whole line once
            return ConfigError(f"{where} line {key_lines.line_of(err['loc'])}: {one_line_error(exc)}")
        parts.append(f"line {key_lines.line_of(err['loc'])}: {text}")
    return ConfigError(f"{where} " + "; ".join(parts))
