"""The registry of sources: every source package's :class:`~pipelines.source.Source`, in order.

Everything that used to list sources by hand loops over this: the configuration's ``sources:``
section (``pipelines/config.py``), the raw tables (``pipelines/ingest.py``), the payload checks
(``pipelines/quality.py``), and in ``assets/`` the ingest assets, partitions, jobs, schedules, sensors,
the runner and the CLI. Adding a source is adding its package and one line to ``BUILTIN_SOURCES``
(or, for a source kept outside this repository, calling :func:`register` before the configuration
is loaded).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from pipelines.argocd.source import SOURCE as ARGOCD
from pipelines.github.source import SOURCE as GITHUB
from pipelines.gitlab.source import SOURCE as GITLAB
from pipelines.incidents.source import INCIDENT_FILES, OPSGENIE, STATUSPAGE
from pipelines.jenkins.source import SOURCE as JENKINS
from pipelines.pagerduty.source import SOURCE as PAGERDUTY
from pipelines.slo.source import SOURCE as PROMETHEUS
from pipelines.source import RawTable, Source
from pipelines.surveys.source import SOURCE as SURVEYS

# Order matters where it shows: raw tables are created, configs validated and assets listed in it.
BUILTIN_SOURCES: tuple[Source, ...] = (
    GITHUB,
    GITLAB,
    ARGOCD,
    JENKINS,
    PAGERDUTY,
    OPSGENIE,
    STATUSPAGE,
    INCIDENT_FILES,
    SURVEYS,
    PROMETHEUS,
)
_registered: list[Source] = []


def all_sources() -> tuple[Source, ...]:
    return (*BUILTIN_SOURCES, *_registered)


def get_source(name: str) -> Source:
    for source in all_sources():
        if source.name == name:
            return source
    raise KeyError(f"no source named {name!r}; registered: {[s.name for s in all_sources()]}")


def register(source: Source) -> Source:
    """Add a source kept outside this repository. Names, config keys, tables and Dagster names must
    be new: two sources writing one table or one partition set would overwrite each other."""
    _check_distinct((*all_sources(), source))
    _registered.append(source)
    return source


def unregister(name: str) -> None:
    _registered[:] = [s for s in _registered if s.name != name]


@contextlib.contextmanager
def registered(source: Source) -> Iterator[Source]:
    """``register`` for the duration of a block (tests)."""
    register(source)
    try:
        yield source
    finally:
        unregister(source.name)


def raw_tables() -> tuple[RawTable, ...]:
    return tuple(t for s in all_sources() for t in s.raw_tables)


def raw_table_names() -> tuple[str, ...]:
    return tuple(t.name for t in raw_tables())


def raw_expectations() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Table -> (JSON paths that must be present, JSON paths that are timestamps), checked tables."""
    return {t.name: (t.required, t.timestamps) for t in raw_tables() if t.checked}


def source_of_table(table: str) -> Source:
    for source in all_sources():
        if table in source.table_names:
            return source
    raise KeyError(f"raw.{table} is not written by any registered source")


def _check_distinct(sources: tuple[Source, ...]) -> None:
    for what, values in (
        ("source name", [s.name for s in sources]),
        ("config key", [s.config_key for s in sources if s.config_key]),
        ("raw table", [t for s in sources for t in s.table_names]),
        ("partitions name", [s.partitions_name for s in sources if s.partitions_name]),
        ("job", [s.job for s in sources if s.job]),
        ("sensor", [s.discovery_sensor for s in sources if s.discovery_sensor]),
    ):
        seen: set[str] = set()
        for value in values:
            if value in seen:
                raise ValueError(f"two sources declare the {what} {value!r}")
            seen.add(value)


_check_distinct(BUILTIN_SOURCES)
