"""The one way we read YAML that a user wrote: safe types only, bounded size, bounded aliases.

``yaml.safe_load`` already refuses Python objects, but not two other hostile inputs:

- a recursive alias (``a: &a [*a]``) builds a structure that contains itself; the first walk over it
  (resolving ``${ENV}`` references, validation) recurses until Python gives up, with a traceback of
  thousands of lines;
- an alias bomb ("billion laughs": nine levels of ten aliases to the level below, 246 bytes) is a
  small graph of shared nodes that every walk expands to 10^9 nodes, pinning a CPU for good.

:func:`load_yaml` counts while composing, before anything walks the result: alias uses, and nodes as
they would be once every alias is expanded. Either over its limit, a recursive alias, a file over
its size limit or nesting too deep is one line naming the file and the line, raised as the caller's
error class (a :class:`~pipelines.errors.ConfigError` for the configuration, exit 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pipelines.errors import ConfigError, PlatformMetricsError

#: A configuration is a few kilobytes; a generous bound keeps a mistaken path (a log file, a dump)
#: from being parsed at all.
MAX_BYTES = 1024 * 1024
#: Alias uses per file: anchors are a convenience for a handful of repeated blocks.
MAX_ALIASES = 1000
#: Nodes once every alias is expanded: the size a walk over the result really has.
MAX_NODES = 200_000


class YamlLimitError(yaml.YAMLError):
    """A limit of :func:`load_yaml` was crossed; ``line`` is 1-based."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _limited_loader(max_aliases: int, max_nodes: int) -> type[yaml.SafeLoader]:
    class LimitedLoader(yaml.SafeLoader):
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self._aliases = 0
            self._expanded = 0
            self._open: set[str] = set()  # anchors whose node is being composed
            self._sizes: dict[str, int] = {}  # anchor -> expanded node count

        def _count(self, nodes: int, mark: yaml.Mark) -> None:
            self._expanded += nodes
            if self._expanded > max_nodes:
                raise YamlLimitError(
                    mark.line + 1,
                    f"aliases expand to more than {max_nodes:,} nodes (an alias bomb?); "
                    "write the repeated blocks out or use fewer aliases",
                )

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()
            mark = event.start_mark
            if isinstance(event, yaml.AliasEvent):
                if event.anchor in self._open:
                    raise YamlLimitError(
                        mark.line + 1,
                        f"alias *{event.anchor} refers to the anchor that contains it "
                        "(a recursive alias)",
                    )
                self._aliases += 1
                if self._aliases > max_aliases:
                    raise YamlLimitError(
                        mark.line + 1, f"more than {max_aliases:,} aliases; write the values out"
                    )
                node = super().compose_node(parent, index)
                self._count(self._sizes.get(event.anchor, 1), mark)
                return node
            anchor = getattr(event, "anchor", None)
            start = self._expanded
            self._count(1, mark)
            if anchor:
                self._open.add(anchor)
            try:
                node = super().compose_node(parent, index)
            finally:
                if anchor:
                    self._open.discard(anchor)
            if anchor:
                self._sizes[anchor] = self._expanded - start
            return node

    return LimitedLoader


def load_yaml(
    text: str,
    *,
    label: str,
    error: type[PlatformMetricsError] = ConfigError,
    all_documents: bool = False,
    max_bytes: int = MAX_BYTES,
    max_aliases: int = MAX_ALIASES,
    max_nodes: int = MAX_NODES,
) -> Any:
    """Parse ``text`` (from ``label``); every problem is ``error("<label>: line N: ...")``.

    With ``all_documents`` the result is the list of the stream's documents (``---``-separated).
    """
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise error(f"{label}: {size:,} bytes, more than the {max_bytes:,} a YAML file may have")
    loader = _limited_loader(max_aliases, max_nodes)(text)
    try:
        if all_documents:
            documents = []
            while loader.check_data():
                documents.append(loader.get_data())
            return documents
        return loader.get_single_data()
    except YamlLimitError as exc:
        where = f"line {exc.line}: " if exc.line else ""
        raise error(f"{label}: {where}{exc.message}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(f"{label}: {where}malformed YAML ({problem})") from None
    except RecursionError:
        raise error(f"{label}: nested too deeply to be a configuration") from None
    finally:
        loader.dispose()


def load_yaml_file(
    path: Path, *, error: type[PlatformMetricsError] = ConfigError, **limits: Any
) -> Any:
    """:func:`load_yaml` of a file, refusing an oversized one before reading it."""
    max_bytes = limits.get("max_bytes", MAX_BYTES)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    if size > max_bytes:
        raise error(f"{path}: {size:,} bytes, more than the {max_bytes:,} a YAML file may have")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return load_yaml(text, label=str(path), error=error, **limits)
